//! Context: the words that say what a value is (`account`, `OwnerId`, `계정`, `アカウント`).
//!
//! A 12-digit number is an account ID only when something names it. Three places do, in what
//! people paste: the text just before it (`Account: 1234…`, `aws_account_id   = "1234…"` with
//! any amount of alignment padding), the JSON key whose value it is, and the header of its
//! column in a `|` table (`aws … --output table`). The predicate is exact and shared by the
//! fast scanner and the reference; the trigger ranges below are supersets of where it can hold.

/// How far before the value, beyond the window, padding may push the words (raw bytes).
pub(crate) const LEAD_SLACK: usize = 256;
/// How many lines above a table cell its header may be.
const HEADER_LINES: usize = 64;

fn contains_word(hay: &[u8], words: &[Vec<u8>]) -> bool {
    words.iter().any(|w| {
        w.len() <= hay.len()
            && hay
                .windows(w.len())
                .any(|x| x.iter().zip(w).all(|(a, b)| a.to_ascii_lowercase() == *b))
    })
}

/// The last `window` bytes before `start`, runs of spaces and tabs counted as one space,
/// looking back at most `window + LEAD_SLACK` raw bytes.
pub(crate) fn lead(hay: &[u8], start: usize, window: usize) -> Vec<u8> {
    let lo = start.saturating_sub(window + LEAD_SLACK);
    let mut out: Vec<u8> = Vec::with_capacity(window + 1);
    let mut i = start;
    while i > lo && out.len() < window {
        let b = hay[i - 1];
        if b == b' ' || b == b'\t' {
            while i > lo && matches!(hay[i - 1], b' ' | b'\t') {
                i -= 1;
            }
            out.push(b' ');
        } else {
            out.push(b);
            i -= 1;
        }
    }
    out.reverse();
    out
}

/// True when a word names the value starting at `start`.
pub(crate) fn named(
    hay: &[u8],
    start: usize,
    key: Option<&[u8]>,
    window: usize,
    words: &[Vec<u8>],
) -> bool {
    if let Some(k) = key {
        if start <= window && contains_word(k, words) {
            return true;
        }
    }
    contains_word(&lead(hay, start, window), words) || header_names(hay, start, words)
}

fn line_start(hay: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &hay[..at]).map_or(0, |p| p + 1)
}

fn line_end(hay: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &hay[at..]).map_or(hay.len(), |p| at + p)
}

/// The `|` cell around `at` on its line, as (line start, column of the left `|`, column of
/// the right `|`).
fn cell(hay: &[u8], at: usize) -> Option<(usize, usize, usize)> {
    let ls = line_start(hay, at);
    let le = line_end(hay, at);
    let left = memchr::memrchr(b'|', &hay[ls..at])?;
    let right = memchr::memchr(b'|', &hay[at..le])? + (at - ls);
    Some((ls, left, right))
}

/// True when `line` has `|` at both columns and nothing but a cell between them.
fn same_cell(hay: &[u8], ls: usize, left: usize, right: usize) -> Option<&[u8]> {
    let le = line_end(hay, ls);
    let line = &hay[ls..le];
    (line.len() > right
        && line[left] == b'|'
        && line[right] == b'|'
        && !line[left + 1..right].contains(&b'|'))
    .then(|| &line[left + 1..right])
}

/// True when the line at `ls` is a table rule (`+----+`, `|+----+|`): what separates a
/// table's header row from its rows.
fn is_rule(hay: &[u8], ls: usize) -> bool {
    let line = &hay[ls..line_end(hay, ls)];
    let inner = line.iter().skip_while(|&&b| b == b'|').copied();
    let mut inner = inner.peekable();
    inner.peek() == Some(&b'+') && inner.all(|b| matches!(b, b'+' | b'-' | b'|' | b'\r'))
}

/// Does the header cell of `start`'s column hold a word? The header is the row right above
/// the rule that opens the value's section (`aws … --output table`); rows between are data,
/// so a word in another row's value (`"accessKeyId"` inside a JSON cell of a key/value
/// table) names nothing.
fn header_names(hay: &[u8], start: usize, words: &[Vec<u8>]) -> bool {
    let Some((ls, left, right)) = cell(hay, start) else {
        return false;
    };
    let mut above = ls;
    for _ in 0..HEADER_LINES {
        if above == 0 {
            return false;
        }
        above = line_start(hay, above - 1);
        if is_rule(hay, above) {
            if above == 0 {
                return false;
            }
            let header = line_start(hay, above - 1);
            return same_cell(hay, header, left, right)
                .is_some_and(|text| contains_word(text, words));
        }
    }
    false
}

/// Where values named by a word found at `hit` (byte range in `hay`) can start.
pub(crate) fn ranges(
    hay: &[u8],
    hit: (usize, usize),
    window: usize,
    out: &mut Vec<(usize, usize)>,
) {
    out.push((hit.1, (hit.0 + window + LEAD_SLACK).min(hay.len())));
    // A header cell: every cell below it in the same column.
    if let Some((ls, left, right)) = cell(hay, hit.0) {
        if same_cell(hay, ls, left, right).is_none() {
            return;
        }
        let mut next = line_end(hay, ls);
        for _ in 0..HEADER_LINES {
            if next >= hay.len() {
                break;
            }
            let below = next + 1;
            if same_cell(hay, below, left, right).is_some() {
                out.push((below + left + 1, below + right));
            }
            next = line_end(hay, below);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<Vec<u8>> {
        words
            .iter()
            .map(|s| s.as_bytes().to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn padding_counts_once() {
        let text =
            b"aws_account_id                                              = \"123456789012\"";
        let at = text.len() - 13;
        assert!(named(text, at, None, 32, &w(&["account"])));
        assert!(!named(b"order 123456789012", 6, None, 32, &w(&["account"])));
    }

    #[test]
    fn korean_and_japanese_words() {
        let text = "계정 123456789012".as_bytes();
        assert!(named(text, text.len() - 12, None, 32, &w(&["계정"])));
        let text = "アカウントID: 123456789012".as_bytes();
        assert!(named(text, text.len() - 12, None, 32, &w(&["アカウント"])));
    }

    #[test]
    fn keys_name_values_at_the_start() {
        assert!(named(
            b"123456789012",
            0,
            Some(b"OwnerId"),
            32,
            &w(&["owner"])
        ));
        assert!(!named(
            b"123456789012",
            0,
            Some(b"Size"),
            32,
            &w(&["owner"])
        ));
    }

    #[test]
    fn table_headers_name_their_column() {
        let table = "\
||            OwnerId          |         ReservationId         ||
|+-----------------------------+-------------------------------+|
||  123456789012               |  r-0123abcd                   ||
||  210987654321               |  r-0123abce                   ||
";
        let b = table.as_bytes();
        for value in ["123456789012", "210987654321"] {
            let at = table.find(value).unwrap();
            assert!(named(b, at, None, 32, &w(&["ownerid"])), "{value}");
        }
        let at = table.find("r-0123abcd").unwrap();
        assert!(!named(b, at, None, 8, &w(&["ownerid"])));
        // A key/value section: the word is in another row's value, not in a header.
        let rows = "\
||                 Events                  ||
|+-----------------+-----------------------+|
||  CloudTrailEvent|  {\"accessKeyId\":\"x\"}  ||
||  EventId        |  5220fb9e-fdce-4139-a0cd ||
";
        let at = rows.find("5220fb9e").unwrap();
        assert!(!named(rows.as_bytes(), at, None, 4, &w(&["keyid"])));
        let hit = table.find("OwnerId").unwrap();
        let mut r = Vec::new();
        ranges(b, (hit, hit + 7), 32, &mut r);
        let first = table.find("123456789012").unwrap();
        assert!(r.iter().any(|&(lo, hi)| lo <= first && first < hi));
    }
}
