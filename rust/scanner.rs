//! Finding identifiers: one multi-pattern pass, then overlap resolution by priority.
//!
//! The catalogue compiles into one `regex_automata::meta::Regex` (leftmost-first, patterns
//! ordered by priority). A single leftmost-first pass never reports a match that starts
//! inside another, so a lower-priority match that starts first would hide a higher-priority
//! one. We therefore grow a *cluster* around each match: every match that starts inside the
//! cluster's span joins it, and the cluster is resolved by priority, then length, then
//! position. Outside clusters the pass is exactly one search per match.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input, PatternID, PatternSet};

use crate::catalogue::{syntax_config, Catalogue, Entry};
use crate::error::{Error, Result};
use crate::pseudonym;

/// The lazy DFA's cache. The default (2 MiB) thrashes with dozens of patterns on hex-heavy
/// text (15 MB/s instead of 300 MB/s measured); a cache is per thread and reused.
const LAZY_DFA_CACHE: usize = 32 * 1024 * 1024;

/// A value the scanner found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Byte offset of the value's first byte.
    pub start: usize,
    /// Byte offset one past the value's last byte.
    pub end: usize,
    /// Where it came from.
    pub source: Source,
}

/// Which rule found a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A catalogue entry, by index into [`Scanner::entries`].
    Entry(usize),
    /// A value already in the namespace's map, by index into the [`Known`] set.
    Known(usize),
}

struct Compiled {
    entry: Entry,
    /// Present when the regex has an `id` group: finds the value inside the match.
    captures: Option<Regex>,
    reject: Option<Regex>,
    context: Vec<Vec<u8>>,
}

/// A compiled catalogue. Cheap to share: `Send + Sync`, scans take `&self`.
///
/// ```
/// use _core::{Catalogue, Scanner};
/// let scanner = Scanner::new(&Catalogue::builtin().unwrap()).unwrap();
/// let found = scanner.scan("start i-0123456789abcdef0 now", None);
/// assert_eq!((found[0].start, found[0].end), (6, 25));
/// ```
pub struct Scanner {
    regex: Option<Regex>,
    /// The same patterns with `MatchKind::All`: which patterns match at one position.
    overlapping: Option<Regex>,
    /// Per pattern: does another pattern share its priority? Then the longer may win.
    has_peers: Vec<bool>,
    /// Indexed by the meta regex's pattern ID (priority order).
    compiled: Vec<Compiled>,
    kinds: BTreeSet<String>,
}

/// Originals already mapped in a namespace, found wherever they occur as whole tokens.
///
/// This is what makes `mask(unmask(x)) == x` hold for values that need context to be
/// found: once an account ID is known, it is masked even where the context is missing.
pub struct Known {
    ac: AhoCorasick,
    /// `(original, pseudonym)` by pattern index.
    pub(crate) pairs: Vec<(Arc<str>, Arc<str>)>,
}

impl Known {
    /// Builds the set; `None` when there is nothing to find.
    pub(crate) fn new(pairs: Vec<(Arc<str>, Arc<str>)>) -> Option<Known> {
        if pairs.is_empty() {
            return None;
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(pairs.iter().map(|(o, _)| o.as_bytes()))
            .expect("known originals are few and short");
        Some(Known { ac, pairs })
    }
}

#[derive(Clone, Copy)]
struct Candidate {
    start: usize,
    end: usize,
    priority: u32,
    source: Source,
}

pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// True when `hay[start..end]` is not glued to word characters on either side.
pub(crate) fn is_whole_token(hay: &[u8], start: usize, end: usize) -> bool {
    (start == 0 || !is_word(hay[start - 1])) && (end == hay.len() || !is_word(hay[end]))
}

fn shannon_entropy(value: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in value {
        counts[b as usize] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| f64::from(c) / n)
        .map(|p| -p * p.log2())
        .sum()
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

impl Scanner {
    /// Compiles the enabled entries of a catalogue.
    pub fn new(catalogue: &Catalogue) -> Result<Self> {
        let mut order: Vec<&Entry> = catalogue.entries().iter().filter(|e| e.enabled).collect();
        // Stable: equal priorities keep catalogue order.
        order.sort_by_key(|e| std::cmp::Reverse(e.priority));
        let build = |e: &Entry, pattern: &str, what: &str| {
            Regex::builder()
                .syntax(syntax_config())
                .build(pattern)
                .map_err(|x| Error::catalogue(&e.origin, Some(&e.name), format!("{what}: {x}")))
        };
        let mut compiled = Vec::with_capacity(order.len());
        for e in &order {
            let single = build(e, &e.regex, "regex")?;
            let has_id = single
                .group_info()
                .to_index(PatternID::ZERO, "id")
                .is_some();
            compiled.push(Compiled {
                captures: has_id.then_some(single),
                reject: e
                    .validate
                    .reject
                    .as_deref()
                    .map(|r| build(e, r, "validate.reject"))
                    .transpose()?,
                context: e
                    .validate
                    .context
                    .iter()
                    .map(|w| w.to_ascii_lowercase().into_bytes())
                    .collect(),
                entry: (*e).clone(),
            });
        }
        let patterns: Vec<&str> = order.iter().map(|e| e.regex.as_str()).collect();
        let build_many = |kind: regex_automata::MatchKind| {
            if patterns.is_empty() {
                return Ok(None);
            }
            Regex::builder()
                .syntax(syntax_config())
                .configure(
                    Regex::config()
                        .match_kind(kind)
                        .hybrid_cache_capacity(LAZY_DFA_CACHE),
                )
                .build_many(&patterns)
                .map(Some)
                .map_err(|x| {
                    Error::catalogue("<catalogue>", None, format!("compiling all patterns: {x}"))
                })
        };
        let has_peers = order
            .iter()
            .map(|e| order.iter().filter(|o| o.priority == e.priority).count() > 1)
            .collect();
        Ok(Scanner {
            regex: build_many(regex_automata::MatchKind::LeftmostFirst)?,
            overlapping: build_many(regex_automata::MatchKind::All)?,
            has_peers,
            compiled,
            kinds: catalogue.kinds(),
        })
    }

    /// The enabled entries, in the order [`Source::Entry`] indexes them.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.compiled.iter().map(|c| &c.entry)
    }

    /// The entry a finding came from.
    pub fn entry(&self, index: usize) -> &Entry {
        &self.compiled[index].entry
    }

    /// Every kind of the catalogue, enabled or not.
    pub fn kinds(&self) -> &BTreeSet<String> {
        &self.kinds
    }

    /// True when `s` is a well-formed pseudonym of one of this catalogue's kinds.
    pub fn is_pseudonym(&self, s: &str) -> bool {
        pseudonym::parse(s).is_some_and(|(kind, _)| self.kinds.contains(kind))
    }

    /// Finds values in `hay`, non-overlapping and in order.
    pub fn scan(&self, hay: &str, known: Option<&Known>) -> Vec<Finding> {
        self.scan_with_context(hay, b"", known)
    }

    /// Like [`Scanner::scan`]; `before` is text that logically precedes `hay` (a JSON
    /// key, say), visible to `validate.context` but never part of a finding.
    pub fn scan_with_context(
        &self,
        hay: &str,
        before: &[u8],
        known: Option<&Known>,
    ) -> Vec<Finding> {
        let mut picked = self.scan_catalogue(hay, before);
        if let Some(known) = known {
            let mut all: Vec<Candidate> = std::mem::take(&mut picked);
            let found = all.len();
            for m in known.ac.find_iter(hay.as_bytes()) {
                // A known value inside a longer catalogue match (an account ID inside an ARN)
                // stays part of it, so the text masks the same whatever the namespace knows.
                if is_whole_token(hay.as_bytes(), m.start(), m.end())
                    && !within_longer(&all[..found], m.start(), m.end())
                {
                    all.push(Candidate {
                        start: m.start(),
                        end: m.end(),
                        priority: u32::MAX,
                        source: Source::Known(m.pattern().as_usize()),
                    });
                }
            }
            picked = resolve(all);
        }
        picked
            .into_iter()
            .map(|c| Finding {
                start: c.start,
                end: c.end,
                source: c.source,
            })
            .collect()
    }

    fn scan_catalogue(&self, hay: &str, before: &[u8]) -> Vec<Candidate> {
        let Some(regex) = &self.regex else {
            return Vec::new();
        };
        let bytes = hay.as_bytes();
        let search = |from: usize| regex.search(&Input::new(bytes).range(from..));
        let mut out = Vec::new();
        let mut pos = 0;
        let mut carried = None;
        while pos < bytes.len() {
            let Some(first) = carried.take().or_else(|| search(pos)) else {
                break;
            };
            let mut cluster = vec![first];
            let mut end = first.end();
            let mut from = first.start() + 1;
            while from < end {
                match search(from) {
                    Some(m) if m.start() < end => {
                        end = end.max(m.end());
                        from = m.start() + 1;
                        cluster.push(m);
                    }
                    other => {
                        carried = other;
                        break;
                    }
                }
            }
            self.add_same_start_peers(bytes, &mut cluster);
            let candidates: Vec<Candidate> = cluster
                .into_iter()
                .filter_map(|m| self.candidate(hay, before, m))
                .collect();
            if candidates.len() == 1 {
                out.extend(candidates);
            } else {
                out.extend(resolve(candidates));
            }
            pos = end;
        }
        out
    }

    /// Leftmost-first reports one pattern per start position: the first in priority order.
    /// Patterns of the same priority that match at the same start compete on length, so
    /// ask which others match there and add their matches to the cluster.
    fn add_same_start_peers(&self, bytes: &[u8], cluster: &mut Vec<regex_automata::Match>) {
        let (Some(regex), Some(overlapping)) = (&self.regex, &self.overlapping) else {
            return;
        };
        let mut found = Vec::new();
        for m in cluster.iter() {
            let pid = m.pattern();
            if !self.has_peers[pid.as_usize()] {
                continue;
            }
            let at = Input::new(bytes).range(m.start()..).anchored(Anchored::Yes);
            let mut set = PatternSet::new(overlapping.pattern_len());
            overlapping.which_overlapping_matches(&at, &mut set);
            let priority = self.compiled[pid.as_usize()].entry.priority;
            for other in set.iter().filter(|&o| o != pid) {
                if self.compiled[other.as_usize()].entry.priority == priority {
                    let one = Input::new(bytes)
                        .range(m.start()..)
                        .anchored(Anchored::Pattern(other));
                    found.extend(regex.search(&one));
                }
            }
        }
        cluster.extend(found);
    }

    /// Narrows a match to its value and applies the entry's validators.
    fn candidate(&self, hay: &str, before: &[u8], m: regex_automata::Match) -> Option<Candidate> {
        let pid = m.pattern().as_usize();
        let c = &self.compiled[pid];
        let bytes = hay.as_bytes();
        let (start, end) = match &c.captures {
            None => (m.start(), m.end()),
            Some(re) => {
                let mut caps = re.create_captures();
                re.search_captures(
                    &Input::new(bytes).span(m.span()).anchored(Anchored::Yes),
                    &mut caps,
                );
                let id = caps.get_group_by_name("id")?;
                (id.start, id.end)
            }
        };
        if start == end || !hay.is_char_boundary(start) || !hay.is_char_boundary(end) {
            return None;
        }
        let value = &bytes[start..end];
        let v = &c.entry.validate;
        if let Some(min) = v.min_entropy {
            if shannon_entropy(value) < min {
                return None;
            }
        }
        if let Some(reject) = &c.reject {
            if reject.is_match(value) {
                return None;
            }
        }
        if !c.context.is_empty() {
            let window = v.window();
            let lo = start.saturating_sub(window);
            let mut ctx = Vec::with_capacity(window);
            if start < window {
                ctx.extend_from_slice(&before[before.len().saturating_sub(window - start)..]);
            }
            ctx.extend_from_slice(&bytes[lo..start]);
            if !c.context.iter().any(|w| contains_ignore_case(&ctx, w)) {
                return None;
            }
        }
        if self.is_pseudonym(&hay[start..end]) {
            return None;
        }
        Some(Candidate {
            start,
            end,
            priority: c.entry.priority,
            source: Source::Entry(pid),
        })
    }
}

/// True when one of `sorted` (non-overlapping, by start) holds `start..end` and is longer.
fn within_longer(sorted: &[Candidate], start: usize, end: usize) -> bool {
    let i = sorted.partition_point(|c| c.start <= start);
    i > 0 && {
        let c = &sorted[i - 1];
        c.end >= end && c.end - c.start > end - start
    }
}

/// Picks non-overlapping candidates: priority, then length, then position, then rule.
fn resolve(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    let rank = |s: Source| match s {
        Source::Known(i) | Source::Entry(i) => i,
    };
    cands.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            .then(rank(a.source).cmp(&rank(b.source)))
    });
    // Picked spans by start: an overlap check is one look at the neighbours, O(log n).
    let mut picked: BTreeMap<usize, Candidate> = BTreeMap::new();
    for c in cands {
        let before = picked
            .range(..c.end)
            .next_back()
            .is_some_and(|(_, p)| p.end > c.start);
        if !before {
            picked.insert(c.start, c);
        }
    }
    picked.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(toml: &str) -> Scanner {
        let mut cat = Catalogue::builtin().unwrap();
        for e in cat.entries().to_vec() {
            cat.set_enabled(&e.name, false, "t").unwrap();
        }
        cat.merge_str(toml, "test.toml", false).unwrap();
        Scanner::new(&cat).unwrap()
    }

    fn spans(s: &Scanner, hay: &str) -> Vec<(usize, usize, String)> {
        s.scan(hay, None)
            .into_iter()
            .map(|f| {
                let Source::Entry(i) = f.source else { panic!() };
                (f.start, f.end, s.entry(i).name.clone())
            })
            .collect()
    }

    const LADDER: &str = r#"
[[pattern]]
name = "low-long"
kind = "low"
regex = 'ab[a-z]{6}'
priority = 1
[[pattern]]
name = "high-short"
kind = "high"
regex = 'cdef'
priority = 9
[[pattern]]
name = "mid-a"
kind = "mid"
regex = 'xy\d+'
priority = 5
[[pattern]]
name = "mid-b"
kind = "mid"
regex = 'xy\d{2}z'
priority = 5
"#;

    #[test]
    fn overlaps_resolve_by_priority_then_length() {
        let s = scanner(LADDER);
        // low-long starts first but high-short inside it wins.
        assert_eq!(spans(&s, "abcdefgh"), vec![(2, 6, "high-short".into())]);
        // equal priority: the longer wins, whichever starts first.
        assert_eq!(spans(&s, "xy12z"), vec![(0, 5, "mid-b".into())]);
        assert_eq!(
            spans(&s, "..xy123 xy12z"),
            vec![(2, 7, "mid-a".into()), (8, 13, "mid-b".into())]
        );
    }

    #[test]
    fn ascii_boundaries_and_unicode_text() {
        let s =
            scanner("[[pattern]]\nname='i'\nkind='ec2'\nregex='\\bi-[0-9a-f]{8}\\b'\npriority=1\n");
        assert_eq!(spans(&s, "— i-0123abcd —").len(), 1);
        assert_eq!(
            spans(&s, "éi-0123abcd").len(),
            1,
            "é is not an ASCII word character"
        );
        assert!(spans(&s, "xi-0123abcd").is_empty());
    }

    #[test]
    fn id_groups_validators_and_context() {
        let s = scanner(
            r#"
[[pattern]]
name = "s3"
kind = "bucket"
regex = 's3://(?P<id>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])'
priority = 1
[[pattern]]
name = "acct"
kind = "acct"
regex = '\b\d{12}\b'
priority = 1
validate = { context = ["account"], window = 16 }
[[pattern]]
name = "secret"
kind = "secret"
regex = '\b[A-Za-z0-9]{20}\b'
priority = 1
validate = { min_entropy = 3.5, reject = '^[0-9a-f]+$' }
"#,
        );
        assert_eq!(
            spans(&s, "cp s3://my-bucket/x ."),
            vec![(8, 17, "s3".into())]
        );
        assert!(
            spans(&s, "s3://bucket-001/x").is_empty(),
            "a pseudonym is never a finding"
        );
        assert_eq!(spans(&s, "Account: 123456789012").len(), 1);
        assert!(spans(&s, "ts 123456789012").is_empty());
        assert!(
            spans(&s, "account                  123456789012").is_empty(),
            "outside the window"
        );
        let key = s.scan_with_context("123456789012", b"{\"AccountId\": ", None);
        assert_eq!(key.len(), 1, "context may come from before the haystack");
        assert!(spans(&s, "aaaaaaaaaaaaaaaaaaaa").is_empty(), "low entropy");
        assert!(spans(&s, "0123456789abcdef0123").is_empty(), "rejected");
        assert_eq!(spans(&s, "Zq8rT2mX9pL4vN7kW3yB").len(), 1);
    }

    #[test]
    fn known_values_win_and_need_whole_tokens() {
        let s = scanner(LADDER);
        let known = Known::new(vec![("123456".into(), "acct-001".into())]).unwrap();
        let f = s.scan("id 123456 and x123456", Some(&known));
        assert_eq!(
            f,
            vec![Finding {
                start: 3,
                end: 9,
                source: Source::Known(0)
            }]
        );
    }

    #[test]
    fn a_known_value_inside_a_longer_match_stays_part_of_it() {
        let s = Scanner::new(&Catalogue::builtin().unwrap()).unwrap();
        let arn = "assume arn:aws:iam::123456789013:role/deploy";
        let fresh = s.scan(arn, None);
        let known = Known::new(vec![("123456789013".into(), "acct-001".into())]).unwrap();
        assert_eq!(s.scan(arn, Some(&known)), fresh);
        assert_eq!(fresh.len(), 1);
        assert_eq!((fresh[0].start, fresh[0].end), (7, arn.len()));
        let alone = s.scan("then 123456789013 again", Some(&known));
        assert_eq!(alone.len(), 1, "found on its own without context");
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Scanner>();
        check::<Known>();
    }
}
