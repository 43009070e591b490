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

/// The words that name a value, and the words that overrule them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Words {
    /// Any one of these names the value (lowercase, inner whitespace collapsed).
    pub(crate) names: Vec<Vec<u8>>,
    /// One of these, written nearer the value than the last name, says it is something else:
    /// `계정 설정 > 주문번호 9711…` (an order number), `key id …, request id 0dc1…`,
    /// `accessKeyId` (which holds `keyid`).
    pub(crate) veto: Vec<Vec<u8>>,
}

impl Words {
    /// True when `hay` (the text before a value, its JSON key, its column's header) names it: a
    /// name occurs, and no veto word ends at or after where the last name ends.
    fn name(&self, hay: &[u8]) -> bool {
        let Some(name) = last_end(hay, &self.names) else {
            return false;
        };
        last_end(hay, &self.veto).is_none_or(|veto| veto < name)
    }
}

/// Where the last occurrence of any of `words` (ASCII case-insensitive) ends in `hay`.
fn last_end(hay: &[u8], words: &[Vec<u8>]) -> Option<usize> {
    words
        .iter()
        .filter(|w| w.len() <= hay.len())
        .filter_map(|w| {
            hay.windows(w.len())
                .rposition(|x| x.iter().zip(w).all(|(a, b)| a.to_ascii_lowercase() == *b))
                .map(|at| at + w.len())
        })
        .max()
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
    words: &Words,
) -> bool {
    if let Some(k) = key {
        if start <= window && words.name(k) {
            return true;
        }
    }
    words.name(&lead(hay, start, window)) || header_names(hay, start, words)
}

fn line_start(hay: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &hay[..at]).map_or(0, |p| p + 1)
}

fn line_end(hay: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &hay[at..]).map_or(hay.len(), |p| at + p)
}

/// How many lines above a CSV row its header may be.
const CSV_LINES: usize = 256;
/// A CSV header has at least this many fields, none longer than `CSV_HEADER_FIELD`: prose
/// lines with a comma or two, one after another, are not a table.
const CSV_MIN_FIELDS: usize = 3;
const CSV_HEADER_FIELD: usize = 48;

/// The field separators a table row uses, in the order tried: `|` (aws `--output table`,
/// Markdown) and `,` (CSV exports).
const SEPARATORS: [u8; 2] = [b'|', b','];

/// The fields of a line split at `sep`, ignoring separators inside double quotes (CSV).
fn fields(line: &[u8], sep: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut from, mut quoted) = (0, false);
    for (i, &b) in line.iter().enumerate() {
        if b == b'"' && sep == b',' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            out.push(&line[from..i]);
            from = i + 1;
        }
    }
    out.push(&line[from..]);
    out
}

/// Which field of its line `at` is in.
fn field_index(line: &[u8], at: usize, sep: u8) -> usize {
    fields(&line[..at], sep).len() - 1
}

/// True when the line at `ls` is a table rule: `+----+`, `|+----+|` (aws) or `|---|:--:|`
/// (Markdown): what separates a table's header row from its rows.
fn is_rule(hay: &[u8], ls: usize) -> bool {
    let line = hay[ls..line_end(hay, ls)].trim_ascii();
    let inner = line.iter().skip_while(|&&b| b == b'|').copied();
    let mut inner = inner.peekable();
    match inner.peek() {
        Some(b'+') => inner.all(|b| matches!(b, b'+' | b'-' | b'|')),
        Some(b'-' | b':') => {
            line.contains(&b'|') && inner.all(|b| matches!(b, b'-' | b':' | b'|' | b' '))
        }
        _ => false,
    }
}

/// The header of the `|` table row at `ls`: the row right above the rule that opens its
/// section, `HEADER_LINES` at most above it. Rows between are data, so a word in another row's
/// value (`"accessKeyId"` inside a JSON cell of a key/value table) names nothing.
fn table_header(hay: &[u8], ls: usize) -> Option<usize> {
    let mut above = ls;
    for _ in 0..HEADER_LINES {
        if above == 0 {
            return None;
        }
        above = line_start(hay, above - 1);
        if is_rule(hay, above) {
            return (above > 0).then(|| line_start(hay, above - 1));
        }
    }
    None
}

/// The header of the CSV row at `ls`: the first line of the run of lines with as many fields,
/// when it reads as a header (short fields).
fn csv_header(hay: &[u8], ls: usize) -> Option<usize> {
    let width = fields(&hay[ls..line_end(hay, ls)], b',').len();
    if width < CSV_MIN_FIELDS {
        return None;
    }
    let mut header = None;
    let mut above = ls;
    for _ in 0..CSV_LINES {
        if above == 0 {
            break;
        }
        let prev = line_start(hay, above - 1);
        if fields(&hay[prev..line_end(hay, prev)], b',').len() != width {
            break;
        }
        header = Some(prev);
        above = prev;
    }
    header.filter(|&h| {
        fields(&hay[h..line_end(hay, h)], b',')
            .iter()
            .all(|f| f.len() <= CSV_HEADER_FIELD)
    })
}

/// Does the header cell of `start`'s column hold a word? For a `|` table (aws `--output
/// table`, Markdown) the header is the row above its section's rule; for CSV, the first line of
/// the rows shaped like the value's. The column is the field with the same index.
fn header_names(hay: &[u8], start: usize, words: &Words) -> bool {
    let ls = line_start(hay, start);
    let line = &hay[ls..line_end(hay, ls)];
    let at = start - ls;
    for sep in SEPARATORS {
        if !line[..at].contains(&sep) && !line[at..].contains(&sep) {
            continue;
        }
        let header = if sep == b'|' {
            if !(line[..at].contains(&b'|') && line[at..].contains(&b'|')) {
                continue;
            }
            table_header(hay, ls)
        } else {
            csv_header(hay, ls)
        };
        let Some(h) = header else {
            continue;
        };
        let index = field_index(line, at, sep);
        let head = fields(&hay[h..line_end(hay, h)], sep);
        if head.get(index).is_some_and(|cell| words.name(cell)) {
            return true;
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
    let ls = line_start(hay, hit.0);
    let le = line_end(hay, ls);
    let line = &hay[ls..le];
    // A header cell of a `|` table: the rows of its section, below the rule.
    if line.contains(&b'|') && le < hay.len() && is_rule(hay, le + 1) {
        let mut next = line_end(hay, le + 1);
        for _ in 0..HEADER_LINES {
            if next >= hay.len() || is_rule(hay, next + 1) {
                break;
            }
            let below = next + 1;
            next = line_end(hay, below);
            if !hay[below..next].contains(&b'|') {
                break;
            }
            out.push((below, next));
        }
    }
    // A CSV header: the rows below it with as many fields.
    let width = fields(line, b',').len();
    if width >= CSV_MIN_FIELDS {
        let mut next = le;
        for _ in 0..CSV_LINES {
            if next >= hay.len() {
                break;
            }
            let below = next + 1;
            next = line_end(hay, below);
            if fields(&hay[below..next], b',').len() != width {
                break;
            }
            out.push((below, next));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(words: &[&str]) -> Vec<Vec<u8>> {
        words
            .iter()
            .map(|s| s.as_bytes().to_ascii_lowercase())
            .collect()
    }

    fn w(words: &[&str]) -> Words {
        Words {
            names: lower(words),
            veto: Vec::new(),
        }
    }

    #[test]
    fn a_nearer_veto_word_overrules_the_name() {
        let words = Words {
            names: lower(&["account", "계정", "keyid", "key id"]),
            veto: lower(&["order", "주문", "request", "accesskeyid"]),
        };
        let named_at = |text: &str, value: &str| {
            let at = text.rfind(value).unwrap();
            named(text.as_bytes(), at, None, 64, &words)
        };
        assert!(!named_at(
            "account settings > order 971190221271",
            "971190221271"
        ));
        assert!(!named_at(
            "계정 설정 > 주문 내역에서 주문번호 971190221271",
            "971190221271"
        ));
        assert!(named_at(
            "order 17 for account 123456789012",
            "123456789012"
        ));
        let kms = "key id 03a9afb4-81d8-4d3d-b4f5-83ba6e0da2bf, request id 0dc1e7f0-495f-4d2d-beac-21bfe9273f0d";
        assert!(named_at(kms, "03a9afb4"));
        assert!(!named_at(kms, "0dc1e7f0"));
        // The veto word holds the name: the name ends where the veto does.
        assert!(!named_at(
            "WHERE accessKeyId = 'x' FROM bb40e16e-9933-4280-a2c9-2448a3b714a9",
            "bb40e16e"
        ));
        assert!(!named(
            b"bb40e16e-9933-4280-a2c9-2448a3b714a9",
            0,
            Some(b"accessKeyId"),
            64,
            &words
        ));
        assert!(named(
            b"bb40e16e-9933-4280-a2c9-2448a3b714a9",
            0,
            Some(b"KeyId"),
            64,
            &words
        ));
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
    fn markdown_and_csv_headers_name_their_column() {
        let md = "| env | Bucket | KMS key |\n|-----|--------|---------|\n| prod | acme-logs-prod | `736b1be2` |\n";
        let b = md.as_bytes();
        let at = md.find("acme-logs-prod").unwrap();
        assert!(named(b, at, None, 4, &w(&["bucket"])));
        assert!(!named(b, at, None, 4, &w(&["kms"])));
        let at = md.find("736b1be2").unwrap();
        assert!(named(b, at, None, 4, &w(&["kms"])));
        let hit = md.find("KMS").unwrap();
        let mut r = Vec::new();
        ranges(b, (hit, hit + 3), 4, &mut r);
        assert!(r.iter().any(|&(lo, hi)| lo <= at && at < hi));

        let csv = "LinkedAccount,LinkedAccountName,Service,Cost\n876938148265,payments,\"EC2, Compute\",1.5\n503650852283,data,S3,2\n";
        let b = csv.as_bytes();
        for value in ["876938148265", "503650852283"] {
            let at = csv.find(value).unwrap();
            assert!(named(b, at, None, 4, &w(&["account"])), "{value}");
        }
        let at = csv.find("1.5").unwrap();
        assert!(!named(b, at, None, 4, &w(&["account"])));
        let hit = csv.find("LinkedAccount").unwrap();
        let mut r = Vec::new();
        ranges(b, (hit + 6, hit + 13), 4, &mut r);
        let last = csv.find("503650852283").unwrap();
        assert!(r.iter().any(|&(lo, hi)| lo <= last && last < hi));
        // Prose with commas is not a table: no header above a first line.
        let prose = "Ship 876938148265, then stop.\n";
        assert!(!named(prose.as_bytes(), 5, None, 4, &w(&["ship"])));
        // Lines of prose with a comma each are not a CSV table under a header.
        let prose = "问一下, 252389853529 这个账号下面的 bucket 列不出来?\n我用的角色是 x, 报错是 AccessDenied.\n另外, 跟踪号 988854103192.\n";
        let at = prose.find("988854103192").unwrap();
        assert!(!named(prose.as_bytes(), at, None, 4, &w(&["账号"])));
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
