//! Small text helpers every module shares: lower-case hex, and the plural of a count.

/// Lower-case hex of `bytes` (digests, ids).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `one` when `n` is 1, else `many` (`plural(n, "", "s")` for a trailing `s`).
pub fn plural<'a, N: PartialEq + From<u8>>(n: N, one: &'a str, many: &'a str) -> &'a str {
    if n == N::from(1) {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_plural() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(plural(1, "", "s"), "");
        assert_eq!(plural(0, "image", "images"), "images");
    }
}
