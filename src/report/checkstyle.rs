//! `--format checkstyle`: Checkstyle 4.3 XML as hadolint writes it, for Jenkins and other CI
//! dashboards: one `<file>` per file with findings, one `<error>` per finding.

use std::fmt::Write as _;

use super::{sorted_findings, LintedFile};

/// Renders every finding as a Checkstyle XML document.
pub fn render(files: &[LintedFile]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
    let mut current: Option<&str> = None;
    for (file, d, start, _) in sorted_findings(files) {
        if current != Some(file.path.as_str()) {
            if current.is_some() {
                out.push_str("  </file>\n");
            }
            let _ = writeln!(out, "  <file name=\"{}\">", escape(&file.path));
            current = Some(&file.path);
        }
        let _ = writeln!(
            out,
            "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" source=\"{}\"/>",
            start.line,
            start.column,
            d.severity.as_str(),
            escape(&d.message),
            escape(d.code)
        );
    }
    if current.is_some() {
        out.push_str("  </file>\n");
    }
    out.push_str("</checkstyle>\n");
    out
}

/// Escapes text for an XML attribute value. Characters XML 1.0 cannot carry at all (control
/// characters other than tab, CR, LF) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            escape("a<b>&\"c'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{fffd}"
        );
    }
}
