//! LI102 `amazon-linux-extras-removed`.

use crate::lint::analysis::base_note::BaseNote;
use crate::lint::analysis::package_manager::{pkg_commands, Tool};
use crate::lint::{Context, Diagnostic};

fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (run, _, pc) in pkg_commands(cx) {
        if pc.tool != Tool::AmazonLinuxExtras || !pc.class.is_al2023() {
            continue;
        }
        let topics: Vec<&str> = pc.args.iter().map(|w| w.value.as_str()).collect();
        let hint = if topics.is_empty() {
            "`dnf install -y <versioned package>`".to_string()
        } else {
            format!(
                "`dnf install -y <versioned package>` for {}",
                topics
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(RULE.diagnostic(
            format!(
                "`amazon-linux-extras` does not exist in {}, so the step exits 127; use {hint} (AL2023 ships versioned packages such as `python3.11`)",
                BaseNote::at(cx.df, run.stage, pc.installed)
            ),
            pc.program.span.clone(),
            None,
        ));
    }
}

crate::declare_rule! {
    /// ## What it does
    /// Flags `amazon-linux-extras` in an Amazon Linux 2023 stage.
    ///
    /// Flags `amazon-linux-extras` in any Amazon Linux 2023 stage: on an AL2023 minimal image
    /// (the AWS Lambda base images for AL2023 and `amazonlinux:2023-minimal`) or on full
    /// `amazonlinux:2023` and the SAM build images.
    ///
    /// ## Why is this bad?
    /// Amazon Linux 2023 removed the Extras Library: the step fails with
    /// `amazon-linux-extras: command not found` (exit 127). AL2023 ships the software as plain,
    /// versioned packages in its main repository instead (`python3.11`, `nginx`, `postgresql15`…).
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM amazonlinux:2023
    /// RUN amazon-linux-extras install -y python3.8
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM amazonlinux:2023
    /// RUN dnf install -y python3.11 && dnf clean all
    /// ```
    ///
    /// There is no fix: the versioned package that replaces a topic has to be chosen.
    ///
    /// ## References
    /// - [geerlingguy/ansible-role-docker#425](https://github.com/geerlingguy/ansible-role-docker/issues/425) (`amazon-linux-extras: command not found`)
    /// - [leplusorg/docker-aws-cli#1025](https://github.com/leplusorg/docker-aws-cli/issues/1025) (versioned python packages on AL2023)
    LI102, "amazon-linux-extras-removed", Error, None, check
}
