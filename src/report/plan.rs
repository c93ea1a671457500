//! `lambda-image plan`'s outputs: the JSON report, a GitHub Actions matrix and the text
//! table, each from the same list of images (one JSON object an image, as the JSON report
//! holds them).

use serde_json::{json, Value};

use crate::docker::Builder;

/// The JSON report (`lambda-image/plan/v1`).
pub fn json(builder: Builder, images: &[Value]) -> anyhow::Result<String> {
    let report = json!({
        "schema": "lambda-image/plan/v1",
        "builder": builder.as_str(),
        "images": images,
    });
    Ok(format!("{}\n", serde_json::to_string_pretty(&report)?))
}

/// `{"include": […]}` for a GitHub Actions matrix: with a destination, only what the
/// registry does not have needs a runner.
pub fn github_matrix(images: &[Value]) -> String {
    let include: Vec<Value> = images
        .iter()
        .filter(|i| !i["in_registry"].is_string())
        .map(|i| {
            json!({
                "name": i["name"], "arch": i["arch"], "target": i["target"],
                "inputs_hash": i["inputs_hash"],
            })
        })
        .collect();
    format!("{}\n", json!({ "include": include }))
}

/// A table of the images and a closing line naming the builder.
pub fn text(builder: Builder, images: &[Value]) -> String {
    let rows: Vec<Vec<String>> = images.iter().map(row).collect();
    let mut t = super::table::columns(&["IMAGE", "REGISTRY", "FROM", "INPUTS", "TAGS"], &rows);
    t.push_str(&format!(
        "\n{} image{} with {}\n",
        images.len(),
        crate::text::plural(images.len(), "", "s"),
        match builder {
            Builder::BuildKit => "BuildKit",
            Builder::Classic => "the classic builder",
        }
    ));
    t
}

fn row(i: &Value) -> Vec<String> {
    let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
    let tags = i["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let state = match &i["in_registry"] {
        Value::String(_) => "in the registry",
        Value::Bool(false) => "to build",
        _ => "",
    };
    vec![
        format!("{}/{}", s("name"), s("arch")),
        state.to_string(),
        s("target"),
        s("inputs_hash")
            .trim_start_matches("sha256:")
            .chars()
            .take(16)
            .collect(),
        tags,
    ]
}
