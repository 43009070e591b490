//! Restoring pseudonyms: whole texts and streams of chunks, plain or inside JSON.
//!
//! Only pseudonyms *in play* are restored (those the caller issued for this exchange), only as
//! whole tokens (not glued to ASCII word characters), so text that merely looks like a
//! pseudonym stays as it is. Because no pseudonym is a prefix of another, a complete match
//! followed by one more character is final: a stream holds back at most a possible prefix.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::scanner::is_alnum as is_word;

/// Restores a fixed set of pseudonyms.
///
/// ```
/// use _core::Unmasker;
/// let u = Unmasker::new(vec![("ec2-001".into(), "i-0123456789abcdef0".into())]);
/// assert_eq!(u.unmask("stop ec2-001 now"), "stop i-0123456789abcdef0 now");
/// assert_eq!(u.unmask("stop ec2-0010 or xec2-001"), "stop ec2-0010 or xec2-001");
/// ```
pub struct Unmasker {
    ac: Option<AhoCorasick>,
    originals: Vec<Arc<str>>,
    /// Sorted pseudonyms, to ask "is this a prefix of one?" by binary search.
    sorted: Vec<Arc<str>>,
    max_len: usize,
}

/// Counts of restored values by pseudonym, for metrics.
pub type Restored = HashMap<Arc<str>, usize>;

impl Unmasker {
    /// Builds an unmasker from `(pseudonym, original)` pairs.
    pub fn new(mut pairs: Vec<(Arc<str>, Arc<str>)>) -> Self {
        pairs.sort();
        pairs.dedup_by(|a, b| a.0 == b.0);
        let ac = (!pairs.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(pairs.iter().map(|(p, _)| p.as_bytes()))
                .expect("pseudonyms are short")
        });
        let max_len = pairs.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
        let sorted = pairs.iter().map(|(p, _)| p.clone()).collect();
        Unmasker {
            ac,
            originals: pairs.into_iter().map(|(_, o)| o).collect(),
            sorted,
            max_len,
        }
    }

    /// How many pseudonyms are in play.
    pub fn len(&self) -> usize {
        self.originals.len()
    }

    /// True when nothing can be restored.
    pub fn is_empty(&self) -> bool {
        self.originals.is_empty()
    }

    /// Restores a whole plain text.
    pub fn unmask(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        self.run(text, &[], false, true, &mut out, &mut Restored::new());
        out
    }

    /// Restores a whole fragment of raw JSON (string contents): originals come out escaped.
    pub fn unmask_json(&self, raw: &str) -> String {
        let mut out = String::with_capacity(raw.len());
        self.run(raw, &[], true, true, &mut out, &mut Restored::new());
        out
    }

    /// Restores `buf`, appending to `out`, and returns how many bytes of `buf` it consumed.
    /// `before` is already-emitted text (for the leading boundary). When `last` is false,
    /// stops before anything that could still become (or be followed by) a pseudonym.
    pub(crate) fn run(
        &self,
        buf: &str,
        before: &[u8],
        json: bool,
        last: bool,
        out: &mut String,
        restored: &mut Restored,
    ) -> usize {
        let Some(ac) = &self.ac else {
            out.push_str(buf);
            return buf.len();
        };
        let bytes = buf.as_bytes();
        let mut done = 0;
        for m in ac.find_iter(bytes) {
            if m.end() == bytes.len() && !last {
                // Whether a word character follows is not known yet.
                out.push_str(&buf[done..m.start()]);
                return m.start();
            }
            let after_ok = m.end() == bytes.len()
                || !is_word(bytes[m.end()])
                || (json && bytes[m.end()] == b'\\');
            if !after_ok || !boundary_before(bytes, m.start(), before, json) {
                continue;
            }
            out.push_str(&buf[done..m.start()]);
            let original = &self.originals[m.pattern().as_usize()];
            if json {
                push_json_escaped(out, original);
            } else {
                out.push_str(original);
            }
            *restored
                .entry(self.sorted[m.pattern().as_usize()].clone())
                .or_default() += 1;
            done = m.end();
        }
        let keep = if last {
            0
        } else {
            self.possible_prefix_len(bytes, done, before, json)
        };
        let upto = bytes.len() - keep;
        out.push_str(&buf[done..upto]);
        upto
    }

    /// The length of the longest suffix of `bytes[from..]` that could still become a restorable
    /// pseudonym: a prefix of one, starting at a token boundary.
    fn possible_prefix_len(&self, bytes: &[u8], from: usize, before: &[u8], json: bool) -> usize {
        let longest = self.max_len.min(bytes.len() - from);
        (1..=longest)
            .rev()
            .find(|&k| {
                let at = bytes.len() - k;
                let suffix = &bytes[at..];
                if !boundary_before(bytes, at, before, json) {
                    return false;
                }
                let i = self.sorted.partition_point(|p| p.as_bytes() < suffix);
                self.sorted
                    .get(i)
                    .is_some_and(|p| p.as_bytes().starts_with(suffix))
            })
            .unwrap_or(0)
    }
}

/// Is the character before `pos` a token boundary? Looks into `before` at the start.
fn boundary_before(bytes: &[u8], pos: usize, before: &[u8], json: bool) -> bool {
    let prev = |i: usize| -> Option<u8> {
        // i counts back from pos: 1 is the byte just before.
        if i <= pos {
            Some(bytes[pos - i])
        } else {
            before.len().checked_sub(i - pos).map(|j| before[j])
        }
    };
    let Some(b) = prev(1) else { return true };
    if !is_word(b) {
        return true;
    }
    // An escape written out before the pseudonym reads as a separator, as it did when the
    // text was masked: `%2F` in a URL, `\n` or `\u002F` (a JSON escape, or JSON written
    // inside a string).
    let hex = |i: usize| prev(i).filter(u8::is_ascii_hexdigit);
    let code = |digits: &[usize]| -> Option<u32> {
        digits.iter().try_fold(0u32, |acc, &i| {
            Some(acc * 16 + (hex(i)? as char).to_digit(16)?)
        })
    };
    let separator = |c: u32| c > 0x7f || !is_word(c as u8);
    if prev(3) == Some(b'%') {
        if let Some(c) = code(&[2, 1]) {
            return separator(c);
        }
    }
    let backslashes_before = |i: usize| {
        (i..=pos + before.len())
            .take_while(|&k| prev(k) == Some(b'\\'))
            .count()
    };
    if matches!(b, b'n' | b't' | b'r') && backslashes_before(2) > 0 {
        return true;
    }
    if json && matches!(b, b'b' | b'f') && backslashes_before(2) % 2 == 1 {
        return true;
    }
    if prev(5) == Some(b'u') && backslashes_before(6) > 0 {
        if let Some(c) = code(&[4, 3, 2, 1]) {
            return separator(c);
        }
    }
    false
}

/// Appends `s` as the inside of a JSON string.
pub(crate) fn push_json_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Restores pseudonyms in a text that arrives in chunks.
///
/// Output for any chunking equals [`Unmasker::unmask`] (or `unmask_json`) of the whole.
///
/// ```
/// use std::sync::Arc;
/// use _core::{StreamUnmasker, Unmasker};
/// let u = Arc::new(Unmasker::new(vec![("ec2-001".into(), "i-0123456789abcdef0".into())]));
/// let mut s = StreamUnmasker::new(u, false);
/// let mut out = s.push("run on ec2-0");
/// assert_eq!(out, "run on ");
/// out += &s.push("01 now");
/// out += &s.finish();
/// assert_eq!(out, "run on i-0123456789abcdef0 now");
/// ```
pub struct StreamUnmasker {
    unmasker: Arc<Unmasker>,
    json: bool,
    pending: String,
    /// The last bytes emitted, for boundary checks (an escape is at most 6 bytes).
    emitted_tail: Vec<u8>,
    restored: Restored,
}

impl StreamUnmasker {
    /// A stream over plain text (`json = false`) or raw JSON fragments (`json = true`).
    pub fn new(unmasker: Arc<Unmasker>, json: bool) -> Self {
        StreamUnmasker {
            unmasker,
            json,
            pending: String::new(),
            emitted_tail: Vec::new(),
            restored: Restored::new(),
        }
    }

    /// Feeds a chunk; returns what is safe to emit now.
    pub fn push(&mut self, chunk: &str) -> String {
        self.pending.push_str(chunk);
        self.drain(false)
    }

    /// Ends the text; returns everything still held.
    pub fn finish(&mut self) -> String {
        self.drain(true)
    }

    /// Pseudonyms restored so far, with counts.
    pub fn restored(&self) -> &Restored {
        &self.restored
    }

    fn drain(&mut self, last: bool) -> String {
        let mut out = String::with_capacity(self.pending.len());
        let used = self.unmasker.run(
            &self.pending,
            &self.emitted_tail,
            self.json,
            last,
            &mut out,
            &mut self.restored,
        );
        let consumed: Vec<u8> = self.pending.as_bytes()[..used].to_vec();
        self.pending.drain(..used);
        self.emitted_tail.extend_from_slice(&consumed);
        let extra = self.emitted_tail.len().saturating_sub(8);
        self.emitted_tail.drain(..extra);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmasker() -> Arc<Unmasker> {
        Arc::new(Unmasker::new(vec![
            ("ec2-001".into(), "i-0123456789abcdef0".into()),
            ("ec2-002".into(), "i-0fedcba9876543210".into()),
            ("secret-001".into(), "ab\"c\\d".into()),
            ("acct-900000".into(), "123456789012".into()),
        ]))
    }

    const TEXTS: &[&str] = &[
        "ec2-001",
        "on ec2-001, ec2-002 and ec2-0010 (not xec2-001 or ec2-001x)",
        "ec2-00 ec2- ec2-001ec2-002 acct-900000 acct-9000001",
        "\"ec2-001\"",
        "unicode — ec2-002 é ec2-001",
        "secret-001",
    ];

    #[test]
    fn whole_text() {
        let u = unmasker();
        assert_eq!(
            u.unmask(TEXTS[1]),
            "on i-0123456789abcdef0, i-0fedcba9876543210 and ec2-0010 (not xec2-001 or ec2-001x)"
        );
        assert_eq!(
            u.unmask(TEXTS[2]),
            "ec2-00 ec2- ec2-001ec2-002 123456789012 acct-9000001"
        );
    }

    #[test]
    fn every_split_point_equals_whole() {
        let u = unmasker();
        for json in [false, true] {
            for text in TEXTS {
                let whole = if json {
                    u.unmask_json(text)
                } else {
                    u.unmask(text)
                };
                let cuts: Vec<usize> = (0..=text.len())
                    .filter(|&i| text.is_char_boundary(i))
                    .collect();
                for &i in &cuts {
                    for &j in cuts.iter().filter(|&&j| j >= i) {
                        let mut s = StreamUnmasker::new(u.clone(), json);
                        let got = s.push(&text[..i])
                            + &s.push(&text[i..j])
                            + &s.push(&text[j..])
                            + &s.finish();
                        assert_eq!(got, whole, "{text:?} cut at {i},{j} json={json}");
                    }
                }
            }
        }
    }

    #[test]
    fn json_escapes_count_as_boundaries() {
        let u = unmasker();
        assert_eq!(u.unmask_json(r"a\nec2-001"), r"a\ni-0123456789abcdef0");
        assert_eq!(
            u.unmask_json(r"a\\nec2-001"),
            r"a\\ni-0123456789abcdef0",
            "a backslash then n, JSON written inside a string: a line break to the reader"
        );
        assert_eq!(
            u.unmask_json(r"\u00e9ec2-001"),
            r"\u00e9i-0123456789abcdef0"
        );
        assert_eq!(u.unmask_json(r"\u0041ec2-001"), r"\u0041ec2-001");
        assert_eq!(
            u.unmask("s3%3A%2F%2Fec2-001%2Fx"),
            "s3%3A%2F%2Fi-0123456789abcdef0%2Fx"
        );
        assert_eq!(u.unmask("%41ec2-001"), "%41ec2-001", "%41 is a letter");
        assert_eq!(
            u.unmask(r#"{\"a\":\"x\nec2-001\"}"#),
            r#"{\"a\":\"x\ni-0123456789abcdef0\"}"#
        );
        assert_eq!(u.unmask_json("secret-001"), r#"ab\"c\\d"#);
    }

    #[test]
    fn holds_back_only_possible_prefixes() {
        let mut s = StreamUnmasker::new(unmasker(), false);
        assert_eq!(s.push("hello world e"), "hello world ");
        assert_eq!(s.push("x"), "ex");
        assert_eq!(s.push(" ec2-001"), " ");
        assert_eq!(s.push("."), "i-0123456789abcdef0.");
        assert_eq!(s.restored().values().sum::<usize>(), 1);
    }
}
