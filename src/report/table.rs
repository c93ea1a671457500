//! Aligned columns for the terminal: a header and rows, each column as wide as its widest
//! cell (counted in characters), two spaces between columns, the last column unpadded and
//! no trailing spaces. The one table renderer of the build and plan tables and `rule --all`.

/// The table as text, one line per row after the header.
pub fn columns<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.as_ref().chars().count());
        }
    }
    let mut out = String::new();
    let mut put = |cells: Vec<&str>| {
        let mut line = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            line.push_str(cell);
            if i < last {
                line.push_str(&" ".repeat(w.saturating_sub(cell.chars().count()) + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    put(header.to_vec());
    for row in rows {
        put(row.iter().map(AsRef::as_ref).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_characters_and_end_without_spaces() {
        let rows = vec![
            vec!["orders/x86_64", "built", ""],
            vec!["ü", "failed at build", "a, b"],
        ];
        assert_eq!(
            columns(&["IMAGE", "RESULT", "TAGS"], &rows),
            "IMAGE          RESULT           TAGS\norders/x86_64  built\nü              failed at build  a, b\n"
        );
    }
}
