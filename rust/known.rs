//! Values already known, found wherever they occur: the second pass of masking.
//!
//! A value the catalogue found once (with its context) must be masked everywhere else too,
//! where the context is missing: the same request a few lines later, the next request when the
//! model or a tool echoes it, another gateway process. And the model can be asked to transform
//! a pseudonym (`printf %s secret-009 | base64`): the gateway restores the real value into the
//! command, so the tool's output holds an encoded original. Every original therefore brings
//! its common encodings along: base64 at each of the three alignments (standard and URL-safe
//! alphabets), hex in both cases, and reversed. Each encoding found is its own original (kind
//! `enc`), so unmasking restores it exactly as it was written.

use std::fmt::Write as _;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;

use crate::scanner::{is_whole_token, Candidate, Source};

/// Originals shorter than this bring no encodings: their encodings would be short enough to
/// turn up by chance inside unrelated base64 and hex.
const MIN_ENCODED_ORIGINAL: usize = 8;

/// One thing to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    /// The text to find (the value as the scanner's view shows it).
    pub text: Arc<str>,
    /// The kind a finding of it gets.
    pub kind: Arc<str>,
    /// Only where not glued to an ASCII letter or digit (plain values); encodings are also
    /// found inside longer runs (the base64 of a whole credentials file holds the key's).
    pub whole: bool,
}

/// A set of needles, searched in one pass.
///
/// ```
/// use _core::Known;
/// let k = Known::of_values(&[("123456789012", "acct")]).unwrap();
/// assert_eq!(k.len(), 1);
/// ```
pub struct Known {
    ac: AhoCorasick,
    needles: Vec<Needle>,
    /// Unique for the life of the process: a set never changes once built, so what it finds in
    /// a string is remembered under this number (pass 2 of a resent body).
    id: u64,
}

/// Numbers every set built, so two sets never share an [`Known::id`].
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Known {
    /// Builds the set; `None` when there is nothing to find.
    pub(crate) fn new(mut needles: Vec<Needle>) -> Option<Known> {
        needles.retain(|n| !n.text.is_empty());
        // On equal text, a plain value beats an encoding (its kind says more).
        let encoded = |n: &Needle| n.kind.as_ref() == crate::scanner::ENCODED_KIND;
        needles.sort_by(|a, b| {
            a.text
                .cmp(&b.text)
                .then(encoded(a).cmp(&encoded(b)))
                .then(b.whole.cmp(&a.whole))
        });
        needles.dedup_by(|a, b| a.text == b.text);
        if needles.is_empty() {
            return None;
        }
        // A set is built for every request and searched a few times: the contiguous NFA builds
        // in a fraction of a DFA's time (the DFA build was 70% of a 100 KB request's work).
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(needles.iter().map(|n| n.text.as_bytes()))
            .expect("known values are short");
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(Known { ac, needles, id })
    }

    /// Plain values (whole tokens only), for tests and doc examples.
    pub fn of_values(values: &[(&str, &str)]) -> Option<Known> {
        Known::new(
            values
                .iter()
                .map(|(t, k)| Needle {
                    text: (*t).into(),
                    kind: (*k).into(),
                    whole: true,
                })
                .collect(),
        )
    }

    /// This set's number, unique in the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// How many needles the set holds.
    pub fn len(&self) -> usize {
        self.needles.len()
    }

    /// True when the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The needle behind a [`Source::Known`] index.
    pub(crate) fn needle(&self, i: usize) -> &Needle {
        &self.needles[i]
    }

    /// Every occurrence (overlapping ones too), as candidates.
    pub(crate) fn find(&self, hay: &[u8]) -> Vec<Candidate> {
        self.ac
            .find_overlapping_iter(hay)
            .filter(|m| {
                let n = &self.needles[m.pattern().as_usize()];
                !n.whole || is_whole_token(hay, m.start(), m.end())
            })
            .map(|m| Candidate {
                start: m.start(),
                end: m.end(),
                priority: u32::MAX,
                source: Source::Known(m.pattern().as_usize()),
            })
            .collect()
    }
}

/// A namespace's known set as a few automata, newest last. A change builds only a small one
/// from what is new, and a set is merged into the one before it once it has grown to half that
/// one's size, so over a session each needle is built O(log n) times instead of once per change
/// (rebuilding the whole set was most of the work of every request that learned something).
#[derive(Default, Clone)]
pub(crate) struct Segments {
    sets: Vec<Arc<Known>>,
}

impl Segments {
    /// Adds needles as a new newest set, merging as the size rule says.
    pub(crate) fn add(&mut self, needles: Vec<Needle>) {
        let Some(mut new) = Known::new(needles) else {
            return;
        };
        while let Some(last) = self.sets.last() {
            if new.len() * 2 < last.len() {
                break;
            }
            let mut all = last.needles.clone();
            all.extend(new.needles);
            self.sets.pop();
            new = Known::new(all).expect("merging two non-empty sets");
        }
        self.sets.push(Arc::new(new));
    }

    /// The sets, oldest first.
    pub(crate) fn sets(&self) -> &[Arc<Known>] {
        &self.sets
    }
}

/// The encodings of `original` worth looking for, each at least as long as `original`'s
/// shortest useful form.
pub(crate) fn encodings(original: &str) -> Vec<String> {
    let b = original.as_bytes();
    if b.len() < MIN_ENCODED_ORIGINAL {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(9);
    for k in 0..3usize {
        // Encode behind k filler bytes; keep only the characters that depend on `original`
        // alone, whatever bytes surround it in the real stream.
        let mut buf = vec![0u8; k];
        buf.extend_from_slice(b);
        buf.extend_from_slice(&[0, 0]);
        let first = (8 * k).div_ceil(6);
        let last = (8 * (k + b.len())) / 6;
        for alphabet in [&STANDARD, &URL_SAFE] {
            let enc = alphabet.encode(&buf);
            if last > first {
                out.push(enc[first..last].to_owned());
            }
        }
    }
    // The value encoded alone (`echo -n … | base64`, a Kubernetes Secret), and with the line
    // break `echo` adds: whole, padding included, so not even the last character is left.
    for whole in [b.to_vec(), [b, b"\n"].concat()] {
        out.push(STANDARD.encode(&whole));
        out.push(URL_SAFE.encode(&whole));
    }
    let hex: String = b
        .iter()
        .fold(String::with_capacity(2 * b.len()), |mut h, x| {
            let _ = write!(h, "{x:02x}");
            h
        });
    out.push(hex.to_ascii_uppercase());
    out.push(hex);
    out.push(original.chars().rev().collect());
    out.sort();
    out.dedup();
    out.retain(|e| e != original && e.len() >= MIN_ENCODED_ORIGINAL);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanner::{resolve, ENCODED_KIND};

    fn needles_of(original: &str) -> Known {
        let mut n = vec![Needle {
            text: original.into(),
            kind: "secret".into(),
            whole: true,
        }];
        for e in encodings(original) {
            let whole = e == original.chars().rev().collect::<String>();
            n.push(Needle {
                text: e.into(),
                kind: ENCODED_KIND.into(),
                whole,
            });
        }
        Known::new(n).unwrap()
    }

    #[test]
    fn finds_the_base64_at_every_alignment() {
        let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY0";
        let k = needles_of(secret);
        for prefix in ["", "a", "ab", "abc", "aws_secret_access_key="] {
            for suffix in ["", "\n", "x", "yz"] {
                let blob = STANDARD.encode(format!("{prefix}{secret}{suffix}"));
                assert!(
                    !k.find(blob.as_bytes()).is_empty(),
                    "{prefix:?} {suffix:?} {blob}"
                );
                let url = URL_SAFE.encode(format!("{prefix}{secret}{suffix}"));
                assert!(!k.find(url.as_bytes()).is_empty(), "url-safe {prefix:?}");
            }
        }
    }

    #[test]
    fn the_whole_encoding_of_a_value_alone_is_masked_whole() {
        let key = "AKIATH5VTQJUQGPHZQB5";
        let k = needles_of(key);
        for blob in [STANDARD.encode(key), STANDARD.encode(format!("{key}\n"))] {
            let found = resolve(k.find(blob.as_bytes()));
            assert_eq!(found.len(), 1, "{blob}");
            assert_eq!((found[0].start, found[0].end), (0, blob.len()), "{blob}");
        }
    }

    #[test]
    fn finds_hex_and_reversed() {
        let secret = "AKIAZ3MVQ4EXAMPLE123";
        let k = needles_of(secret);
        let hex: String = secret.bytes().fold(String::new(), |mut h, b| {
            let _ = write!(h, "{b:02x}");
            h
        });
        assert!(!k.find(format!("dump: {hex}\n").as_bytes()).is_empty());
        assert!(!k.find(hex.to_uppercase().as_bytes()).is_empty());
        let rev: String = secret.chars().rev().collect();
        assert!(!k.find(format!("out {rev} end").as_bytes()).is_empty());
    }

    #[test]
    fn plain_values_need_whole_tokens() {
        let k = Known::of_values(&[("123456789012", "acct")]).unwrap();
        assert_eq!(k.find(b"id 123456789012, x").len(), 1);
        assert_eq!(
            k.find(b"host-123456789012_old").len(),
            1,
            "- and _ are separators"
        );
        assert!(k.find(b"x123456789012").is_empty());
        assert!(k.find(b"1234567890123").is_empty());
    }

    #[test]
    fn segments_stay_few_and_find_everything() {
        let mut segs = Segments::default();
        let value = |i: usize| format!("{:012}", 100_000_000_000u64 + i as u64);
        for batch in 0..40 {
            let needles = (batch * 3..batch * 3 + 3)
                .map(|i| Needle {
                    text: value(i).into(),
                    kind: "acct".into(),
                    whole: true,
                })
                .collect();
            segs.add(needles);
            let total: usize = segs.sets().iter().map(|k| k.len()).sum();
            assert_eq!(total, batch * 3 + 3, "nothing lost or doubled in merges");
            assert!(segs.sets().len() <= 8, "{} sets", segs.sets().len());
            assert!(segs.sets().windows(2).all(|w| w[0].len() > w[1].len()));
        }
        for i in 0..120 {
            let hay = format!("id {} x", value(i));
            assert!(segs
                .sets()
                .iter()
                .any(|k| !k.find(hay.as_bytes()).is_empty()));
        }
    }

    #[test]
    fn short_values_bring_no_encodings() {
        assert!(encodings("logs").is_empty());
        assert!(!encodings("123456789012").is_empty());
    }
}
