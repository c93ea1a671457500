//! The Lambda runtimes on Amazon Linux 2023: the one table of them (identifier, language
//! family, AWS base image repository and tag, example handler), oldest first within a
//! family. Image specs name them, `new` scaffolds them, and the Dockerfile base-image
//! classes read from it where a language's AL2023 versions start; the AL2 runtimes that
//! exist are listed only to say so when a spec names one.

use std::fmt;

use serde::Serialize;

/// A runtime family: one template per family (`templates/<family>.Dockerfile.j2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Python,
    Nodejs,
    Java,
    Ruby,
    Dotnet,
    Provided,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Python => "python",
            Family::Nodejs => "nodejs",
            Family::Java => "java",
            Family::Ruby => "ruby",
            Family::Dotnet => "dotnet",
            Family::Provided => "provided",
        }
    }

    /// Interpreted runtimes install a dependency manifest inside the image; compiled ones take
    /// the outputs of the project's own build through `copy` (design: "Image spec").
    pub fn installs_dependencies(self) -> bool {
        matches!(self, Family::Python | Family::Nodejs | Family::Ruby)
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One supported runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runtime {
    /// The Lambda runtime identifier (`python3.13`).
    pub id: &'static str,
    pub family: Family,
    /// `public.ecr.aws/lambda/<repository>:<tag>`.
    pub repository: &'static str,
    pub tag: &'static str,
    /// An example handler, used in messages and by `new`.
    pub example_handler: &'static str,
}

impl Runtime {
    /// The default base image: `public.ecr.aws/lambda/<lang>:<tag>` (domain §1.2). The plain tag
    /// is multi-architecture; the build picks the platform.
    pub fn default_base(&self) -> String {
        format!("public.ecr.aws/lambda/{}:{}", self.repository, self.tag)
    }
}

const fn rt(
    id: &'static str,
    family: Family,
    repository: &'static str,
    tag: &'static str,
    example_handler: &'static str,
) -> Runtime {
    Runtime {
        id,
        family,
        repository,
        tag,
        example_handler,
    }
}

/// Every runtime with an Amazon Linux 2023 base image that `render` supports (domain §1.2).
pub const RUNTIMES: &[Runtime] = &[
    rt(
        "python3.12",
        Family::Python,
        "python",
        "3.12",
        "app.handler",
    ),
    rt(
        "python3.13",
        Family::Python,
        "python",
        "3.13",
        "app.handler",
    ),
    rt(
        "python3.14",
        Family::Python,
        "python",
        "3.14",
        "app.handler",
    ),
    rt("nodejs20.x", Family::Nodejs, "nodejs", "20", "app.handler"),
    rt("nodejs22.x", Family::Nodejs, "nodejs", "22", "app.handler"),
    rt("nodejs24.x", Family::Nodejs, "nodejs", "24", "app.handler"),
    rt(
        "java21",
        Family::Java,
        "java",
        "21",
        "example.Handler::handleRequest",
    ),
    rt(
        "java25",
        Family::Java,
        "java",
        "25",
        "example.Handler::handleRequest",
    ),
    rt(
        "ruby3.3",
        Family::Ruby,
        "ruby",
        "3.3",
        "app.LambdaFunction::Handler.process",
    ),
    rt(
        "ruby3.4",
        Family::Ruby,
        "ruby",
        "3.4",
        "app.LambdaFunction::Handler.process",
    ),
    rt(
        "dotnet8",
        Family::Dotnet,
        "dotnet",
        "8",
        "Hello::Hello.Function::Handler",
    ),
    rt(
        "dotnet10",
        Family::Dotnet,
        "dotnet",
        "10",
        "Hello::Hello.Function::Handler",
    ),
    rt(
        "provided.al2023",
        Family::Provided,
        "provided",
        "al2023",
        "function.handler",
    ),
];

/// Lambda runtimes that exist but run on Amazon Linux 2 (domain §1.2), named in the error
/// when a spec asks for one.
const AL2_RUNTIMES: &[&str] = &[
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "nodejs16.x",
    "nodejs18.x",
    "java8.al2",
    "java11",
    "java17",
    "ruby3.2",
    "dotnet6",
    "provided.al2",
];

pub fn lookup(id: &str) -> Option<&'static Runtime> {
    RUNTIMES.iter().find(|r| r.id == id)
}

/// The oldest AL2023 runtime whose base image repository is `repository` (`python` →
/// python3.12): where that language's AL2023 versions start.
pub fn oldest_al2023(repository: &str) -> Option<&'static Runtime> {
    RUNTIMES.iter().find(|r| r.repository == repository)
}

/// The comma-separated list of supported runtime ids.
pub fn supported_list() -> String {
    RUNTIMES.iter().map(|r| r.id).collect::<Vec<_>>().join(", ")
}

/// The message for a runtime that is not supported.
pub fn unknown_message(id: &str) -> String {
    if AL2_RUNTIMES.contains(&id) {
        format!(
            "runtime '{id}' runs on Amazon Linux 2; lambda-image renders Amazon Linux 2023 images \
             (supported: {})",
            supported_list()
        )
    } else {
        format!(
            "unknown runtime '{id}', expected one of {}",
            supported_list()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `oldest_al2023` takes the first of a repository: the table lists each oldest first.
    #[test]
    fn oldest_first_within_a_repository() {
        let version =
            |tag: &str| -> Vec<u32> { tag.split('.').filter_map(|p| p.parse().ok()).collect() };
        for (i, r) in RUNTIMES.iter().enumerate() {
            for later in RUNTIMES.iter().skip(i + 1) {
                if later.repository == r.repository {
                    assert!(
                        version(later.tag) > version(r.tag),
                        "{} before {}",
                        r.id,
                        later.id
                    );
                }
            }
        }
        assert_eq!(oldest_al2023("python").map(|r| r.tag), Some("3.12"));
        assert_eq!(oldest_al2023("provided").map(|r| r.tag), Some("al2023"));
        assert_eq!(oldest_al2023("go"), None);
    }
}
