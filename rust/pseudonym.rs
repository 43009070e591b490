//! The pseudonym grammar: `<kind>-<code>`, where the code is a prefix-free numbering.
//!
//! Prefix-freedom is what lets a streaming unmasker decide as soon as a pseudonym is
//! complete: `ec2-001` can never be the start of a longer pseudonym such as `ec2-0010`.
//! Level `L` (L = 0, 1, ...) is `L` nines followed by `3 + 2L` digits whose first digit
//! is not 9, so codes have 3, 6, 9, 12, 15, 18, ... characters: never 8 or 17, the
//! lengths of EC2-family hex IDs.

/// Formats the `n`-th code (n >= 1).
pub(crate) fn code(n: u64) -> String {
    debug_assert!(n >= 1);
    // Level 0 holds 1..=899 (no 000); level L >= 1 holds 9 * 10^(2+2L) values.
    if n < 900 {
        return format!("{n:03}");
    }
    let mut rest = n - 900;
    let mut level = 1u32;
    loop {
        let width = 3 + 2 * level;
        let capacity = 9u64.saturating_mul(10u64.saturating_pow(width - 1));
        if rest < capacity {
            return format!(
                "{}{rest:0width$}",
                "9".repeat(level as usize),
                width = width as usize
            );
        }
        rest -= capacity;
        level += 1;
    }
}

/// Parses a code back to `n`; `None` if the string is not a well-formed code.
pub(crate) fn parse_code(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let level = b.iter().take_while(|&&c| c == b'9').count();
    let digits = &s[level..];
    let width = 3 + 2 * level;
    if digits.len() != width || digits.starts_with('9') {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    if level == 0 {
        return (value >= 1).then_some(value);
    }
    let mut base = 900u64;
    for l in 1..level {
        let w = 3 + 2 * l as u32;
        base = base.checked_add(9u64.checked_mul(10u64.checked_pow(w - 1)?)?)?;
    }
    base.checked_add(value)
}

/// Formats a pseudonym.
pub(crate) fn format(kind: &str, n: u64) -> String {
    let mut out = String::with_capacity(kind.len() + 4);
    out.push_str(kind);
    out.push('-');
    out.push_str(&code(n));
    out
}

/// Splits a pseudonym into its kind and number, if it is one.
pub(crate) fn parse(s: &str) -> Option<(&str, u64)> {
    let dash = s.rfind('-')?;
    let (kind, code) = (&s[..dash], &s[dash + 1..]);
    if !is_valid_kind(kind) {
        return None;
    }
    Some((kind, parse_code(code)?))
}

/// `[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*`: segments start with a letter, so a kind's dash can
/// never be confused with the dash before the (all-digit) code.
pub(crate) fn is_valid_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind.split('-').all(|seg| {
            let mut chars = seg.bytes();
            matches!(chars.next(), Some(b'a'..=b'z'))
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_table() {
        let rows: &[(u64, &str)] = &[
            (1, "001"),
            (42, "042"),
            (899, "899"),
            (900, "900000"),
            (901, "900001"),
            (90_899, "989999"),
            (90_900, "990000000"),
        ];
        for &(n, want) in rows {
            assert_eq!(code(n), want, "n={n}");
            assert_eq!(parse_code(want), Some(n), "code={want}");
        }
    }

    #[test]
    fn codes_round_trip_and_are_prefix_free() {
        let probes: Vec<u64> = (1..3000).chain(90_000..91_500).collect();
        let codes: Vec<String> = probes.iter().map(|&n| code(n)).collect();
        for (n, c) in probes.iter().zip(&codes) {
            assert_eq!(parse_code(c), Some(*n));
            assert!(c.len() != 8 && c.len() != 17);
        }
        let mut sorted = codes.clone();
        sorted.sort();
        for pair in sorted.windows(2) {
            assert!(
                !pair[1].starts_with(&pair[0]),
                "{} prefixes {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in [
            "", "000", "01", "0010", "9", "99", "999", "900", "9000000", "a01", "90000a",
        ] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_pseudonyms() {
        assert_eq!(parse("ec2-001"), Some(("ec2", 1)));
        assert_eq!(parse("tgw-attach-012"), Some(("tgw-attach", 12)));
        assert_eq!(parse("ec2-0010"), None);
        assert_eq!(parse("i-0123456789abcdef0"), None);
        assert_eq!(parse("EC2-001"), None);
        assert!(!is_valid_kind("2ec"));
        assert!(!is_valid_kind("ec2-"));
        assert!(!is_valid_kind("a-1b"));
    }
}
