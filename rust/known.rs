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

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;

use crate::scanner::{is_whole_token, Candidate, Source};

/// Originals shorter than this bring no encodings: their encodings would be short enough to
/// turn up by chance inside unrelated base64 and hex.
const MIN_ENCODED_ORIGINAL: usize = 8;

/// How many leading bytes of a needle say where it may start.
const GRAM: usize = 4;

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
    /// Sorted by text, no two alike: the needles starting at a place are a narrowing range.
    needles: Vec<Needle>,
    prefixes: PrefixTable,
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
        let prefixes = PrefixTable::new(&needles);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(Known {
            needles,
            prefixes,
            id,
        })
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
        let mut out = Vec::new();
        let g = self.prefixes.gram;
        if hay.len() < g {
            return out;
        }
        if g == GRAM {
            for (at, w) in hay.windows(GRAM).enumerate() {
                let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                if self.prefixes.may_start(word) {
                    self.found_at(hay, at, &mut out);
                }
            }
        } else {
            for at in 0..=hay.len() - g {
                if self.prefixes.may_start(PrefixTable::word(&hay[at..at + g])) {
                    self.found_at(hay, at, &mut out);
                }
            }
        }
        out
    }

    /// The needles that start at `at`: the range of those sharing ever more of the text there,
    /// a needle reported when the range's first is exactly that long.
    fn found_at(&self, hay: &[u8], at: usize, out: &mut Vec<Candidate>) {
        let rest = &hay[at..];
        let text = |i: usize| self.needles[i].text.as_bytes();
        let (mut lo, mut hi) = (0, self.needles.len());
        for depth in 0.. {
            if lo < hi && text(lo).len() == depth {
                self.report(hay, at, lo, out);
                lo += 1;
            }
            if lo >= hi || depth >= rest.len() {
                return;
            }
            if hi - lo == 1 {
                if rest.starts_with(text(lo)) {
                    self.report(hay, at, lo, out);
                }
                return;
            }
            // Every needle left in the range is longer than `depth` and shares `rest[..depth]`.
            let b = rest[depth];
            lo += self.needles[lo..hi].partition_point(|n| n.text.as_bytes()[depth] < b);
            hi = lo + self.needles[lo..hi].partition_point(|n| n.text.as_bytes()[depth] <= b);
        }
    }

    fn report(&self, hay: &[u8], at: usize, i: usize, out: &mut Vec<Candidate>) {
        let end = at + self.needles[i].text.len();
        if !self.needles[i].whole || is_whole_token(hay, at, end) {
            out.push(Candidate {
                start: at,
                end,
                priority: u32::MAX,
                source: Source::Known(i),
            });
        }
    }
}

/// Where a needle may start: the first few bytes of every needle, hashed into a bit table small
/// enough to stay in cache. A known set is built for every request that learns something and
/// searched over the whole body, so both must be cheap: testing one bit per byte is several
/// times faster than stepping an automaton, and building the table is one pass over the needles
/// (an Aho-Corasick automaton of the same needles cost more to build than a request's scan).
struct PrefixTable {
    /// How many leading bytes are hashed: [`GRAM`], or the shortest needle's length if shorter.
    gram: usize,
    /// log2 of the table's size in bits.
    bits: u32,
    table: Vec<u64>,
}

impl PrefixTable {
    fn new(needles: &[Needle]) -> PrefixTable {
        let gram = needles
            .iter()
            .map(|n| n.text.len())
            .min()
            .unwrap_or(1)
            .clamp(1, GRAM);
        // At most 1 bit in 64 set: a place that is no needle's start is looked at further
        // once in 64 times at worst (the table is 16 KB for a request that learns 150 values).
        let bits = (needles.len() * 64)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 24)
            .trailing_zeros();
        let mut prefixes = PrefixTable {
            gram,
            bits,
            table: vec![0; (1usize << bits) / 64],
        };
        for n in needles {
            let h = prefixes.slot(PrefixTable::word(&n.text.as_bytes()[..gram]));
            prefixes.table[h / 64] |= 1 << (h % 64);
        }
        prefixes
    }

    /// The first `gram` bytes of a place, as one number (zero-padded when shorter).
    fn word(gram: &[u8]) -> u32 {
        let mut word = [0u8; GRAM];
        word[..gram.len()].copy_from_slice(gram);
        u32::from_le_bytes(word)
    }

    fn slot(&self, word: u32) -> usize {
        (word.wrapping_mul(0x9E37_79B1) >> (32 - self.bits)) as usize
    }

    #[inline]
    fn may_start(&self, word: u32) -> bool {
        let h = self.slot(word);
        self.table[h / 64] & (1 << (h % 64)) != 0
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

#[cfg(test)]
mod differential {
    use super::*;
    use proptest::prelude::*;

    /// Every occurrence of every needle, found the obvious way.
    fn naive(needles: &[Needle], hay: &[u8]) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        for at in 0..hay.len() {
            for n in needles {
                let end = at + n.text.len();
                if hay[at..].starts_with(n.text.as_bytes())
                    && (!n.whole || is_whole_token(hay, at, end))
                {
                    out.push((at, end, n.text.to_string()));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    proptest! {
        #[test]
        fn finds_what_a_naive_search_finds(
            texts in prop::collection::vec("[ab-]{1,6}", 1..40),
            hay in "[ab -]{0,200}",
            whole in prop::collection::vec(any::<bool>(), 40),
        ) {
            let needles: Vec<Needle> = texts
                .iter()
                .zip(&whole)
                .map(|(t, &w)| Needle { text: t.as_str().into(), kind: "k".into(), whole: w })
                .collect();
            let k = Known::new(needles).unwrap();
            let mut got: Vec<(usize, usize, String)> = k
                .find(hay.as_bytes())
                .into_iter()
                .map(|c| {
                    let Source::Known(i) = c.source else { unreachable!() };
                    (c.start, c.end, k.needle(i).text.to_string())
                })
                .collect();
            got.sort();
            // The set keeps one needle per text (a whole one before one found anywhere).
            let kept: Vec<Needle> = (0..k.len()).map(|i| k.needle(i).clone()).collect();
            prop_assert_eq!(got, naive(&kept, hay.as_bytes()));
        }
    }
}
