//! Finding identifiers: every pattern's match at every start, validated, then resolved.
//!
//! What counts as a finding is defined by the reference scanner ([`Scanner::reference`]):
//! for each enabled pattern and each position of the text, the leftmost-first match that
//! starts there (if any), narrowed to its `id` group and validated (edges, entropy, reject,
//! context, not a pseudonym). Patterns are independent, so a match that consumes context
//! (`AKIA…:` before a secret) never hides another pattern's value. [`resolve`] then keeps
//! non-overlapping values by priority, then length, then position, and merges what it could
//! not keep into its neighbour, so no byte of any value is ever left out.
//!
//! The fast scanner finds exactly the same candidates: one literal pass (the anchors of
//! [`anchor`]) and one pass over `-` bytes give the few positions where each pattern can start,
//! and each pattern's own DFA runs only there. `tests` and `tests/engine` compare the two.

mod anchor;
mod context;
mod resolve;

use std::collections::BTreeSet;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input, PatternID};

pub(crate) use anchor::Anchor;
pub(crate) use resolve::{resolve, with_known, Candidate};

use crate::catalogue::{syntax_config, Catalogue, Edges, Entry, Validate};
use crate::error::{Error, Result};
pub use crate::known::Known;
use crate::pseudonym;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A catalogue entry, by index into [`Scanner::entries`].
    Entry(usize),
    /// A value already known (to the namespace, or elsewhere in the same request), by index
    /// into the [`Known`] set.
    Known(usize),
    /// A pseudonym-shaped literal of the input, masked so it round-trips as written.
    Pseudonym,
}

struct Compiled {
    entry: Entry,
    regex: Regex,
    /// The regex has an `id` group: the value is that group, not the whole match.
    has_id: bool,
    reject: Option<Regex>,
    /// Separators of a list value: each piece between them is checked on its own.
    split: Option<Regex>,
    /// Context words and their vetoes: lowercase, inner whitespace collapsed.
    context: context::Words,
    anchor: Anchor,
    first: Option<Box<[bool; 256]>>,
    /// The value starts where the match does and may not follow a letter or digit: a start
    /// right after one cannot give a finding, so it is not tried.
    lead_edge: bool,
}

/// What one literal of the shared literal searcher stands for.
#[derive(Clone, Copy)]
enum Role {
    /// Pattern `pid`'s anchor, `dmin..=dmax` bytes after the match start.
    Anchor { pid: u32, dmin: u32, dmax: u32 },
    /// One of pattern `pid`'s context words.
    Word { pid: u32 },
    /// Pattern `pid`'s literal, somewhere on the line its match starts.
    Line { pid: u32 },
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
    /// In priority order (highest first); [`Source::Entry`] indexes this.
    compiled: Vec<Compiled>,
    kinds: BTreeSet<String>,
    /// Anchor literals and context words of every pattern, lowercase, matched ASCII case-insensitively.
    literals: Option<AhoCorasick>,
    roles: Vec<Vec<Role>>,
    /// Reversed `<prefix>-` literals of the dash-anchored patterns: a trie walked from each `-`.
    dash: DashTrie,
    /// Patterns searched over the whole text (no anchor).
    scanned: Vec<usize>,
    /// Patterns anchored on their context words.
    worded: Vec<usize>,
    /// Patterns tried at every line start.
    lined: Vec<usize>,
}

/// Where to try each pattern: start positions as inclusive ranges, one list per pattern, and
/// which lists are not empty (a string gives ranges to a few patterns of 170 at most, and a
/// body has thousands of strings: walking every list per string cost more than the search).
#[derive(Default)]
struct Starts {
    ranges: Vec<Vec<(usize, usize)>>,
    touched: Vec<usize>,
    /// Room for one context word's ranges.
    scratch: Vec<(usize, usize)>,
    /// A scan is using them (still set after a panic: they are cleared then).
    in_use: bool,
}

impl Starts {
    fn push(&mut self, pid: usize, range: (usize, usize)) {
        let list = &mut self.ranges[pid];
        if list.is_empty() {
            self.touched.push(pid);
        }
        list.push(range);
    }

    fn clear(&mut self) {
        for pid in self.touched.drain(..) {
            self.ranges[pid].clear();
        }
    }
}

/// The start of the line holding a position, for positions asked about in (nearly) increasing
/// order, as the literal pass reports them: each byte is looked at about once, however many
/// literals one long line holds (a minified JSON tool result is one line of megabytes).
#[derive(Default)]
struct LineOf {
    /// Positions up to here have been looked at...
    upto: usize,
    /// ...and this is where the line holding `upto` starts.
    start: usize,
}

impl LineOf {
    fn start_of(&mut self, bytes: &[u8], at: usize) -> usize {
        if at >= self.upto {
            if let Some(i) = memchr::memrchr2(b'\n', b'\r', &bytes[self.upto..at]) {
                self.start = self.upto + i + 1;
            }
            self.upto = at;
            self.start
        } else if at >= self.start {
            self.start
        } else {
            // Behind a line break already passed (a literal holding one): that line alone.
            memchr::memrchr2(b'\n', b'\r', &bytes[..at]).map_or(0, |i| i + 1)
        }
    }
}

std::thread_local! {
    /// Per-pattern start ranges, reused by every scan on this thread.
    static STARTS: std::cell::RefCell<Starts> = std::cell::RefCell::new(Starts::default());
}

/// Kinds that exist whatever the catalogue: encoded forms of known originals.
pub(crate) const ENCODED_KIND: &str = "enc";

pub(crate) fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// True when `hay[start..end]` is not glued to an ASCII letter or digit on either side.
pub(crate) fn is_whole_token(hay: &[u8], start: usize, end: usize) -> bool {
    (start == 0 || !is_alnum(hay[start - 1])) && (end == hay.len() || !is_alnum(hay[end]))
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

/// A context word lowercased, with every run of spaces and tabs as one space (as the lead
/// shows them); a leading or trailing space stays meaningful (`" hostedzoneid"`).
fn collapse_ws(word: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(word.len());
    for b in word.bytes().map(|b| b.to_ascii_lowercase()) {
        let space = b == b' ' || b == b'\t';
        if !(space && out.last() == Some(&b' ')) {
            out.push(if space { b' ' } else { b });
        }
    }
    out
}

/// An entry's context words and their vetoes, as the scanner compares them.
fn words(v: &Validate) -> context::Words {
    context::Words {
        names: v.context.iter().map(|w| collapse_ws(w)).collect(),
        veto: v.veto.iter().map(|w| collapse_ws(w)).collect(),
    }
}

/// The enabled entries of a catalogue, compiled, highest priority first.
fn compile(catalogue: &Catalogue) -> Result<Vec<Compiled>> {
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
        let regex = build(e, &e.regex, "regex")?;
        let has_id = regex.group_info().to_index(PatternID::ZERO, "id").is_some();
        let context = words(&e.validate);
        compiled.push(Compiled {
            lead_edge: e.edges == Edges::Alnum && (!has_id || e.regex.starts_with("(?P<id>")),
            anchor: anchor::anchor_of(&e.regex, !context.names.is_empty(), has_id),
            first: anchor::first_bytes(&e.regex),
            regex,
            has_id,
            reject: e
                .validate
                .reject
                .as_deref()
                .map(|r| build(e, r, "validate.reject"))
                .transpose()?,
            split: e
                .split
                .as_deref()
                .map(|r| build(e, r, "split"))
                .transpose()?,
            context,
            entry: (*e).clone(),
        });
    }
    Ok(compiled)
}

/// Capture slots per pattern, made on first use within one scan.
#[derive(Default)]
struct Caps(Vec<Option<regex_automata::util::captures::Captures>>);

impl Scanner {
    /// Compiles the enabled entries of a catalogue.
    pub fn new(catalogue: &Catalogue) -> Result<Self> {
        let compiled = compile(catalogue)?;
        let mut needles: Vec<Vec<u8>> = Vec::new();
        let mut roles: Vec<Vec<Role>> = Vec::new();
        let mut add = |needle: Vec<u8>, role: Role| {
            if let Some(i) = needles.iter().position(|n| *n == needle) {
                roles[i].push(role);
            } else {
                needles.push(needle);
                roles.push(vec![role]);
            }
        };
        let mut dash = DashTrie::default();
        let (mut scanned, mut worded, mut lined) = (Vec::new(), Vec::new(), Vec::new());
        for (pid, c) in compiled.iter().enumerate() {
            let p = pid as u32;
            match &c.anchor {
                Anchor::Dash(lits) => lits.iter().for_each(|l| dash.insert(l, pid)),
                Anchor::Literal {
                    literals,
                    dmin,
                    dmax,
                } => {
                    for l in literals {
                        add(
                            l.clone(),
                            Role::Anchor {
                                pid: p,
                                dmin: *dmin as u32,
                                dmax: *dmax as u32,
                            },
                        );
                    }
                }
                Anchor::Context => {
                    worded.push(pid);
                    for w in &c.context.names {
                        // A word with spaces is found by its longest run without them.
                        let part = w
                            .split(|&b| b == b' ')
                            .max_by_key(|s| s.len())
                            .unwrap_or(w)
                            .to_vec();
                        add(part, Role::Word { pid: p });
                    }
                }
                Anchor::LineLiteral(literals) => {
                    for l in literals {
                        add(l.clone(), Role::Line { pid: p });
                    }
                }
                Anchor::LineStart => lined.push(pid),
                Anchor::Scan => scanned.push(pid),
            }
        }
        let literals = (!needles.is_empty()).then(|| {
            // Case-insensitive instead of a lowercased copy of every string; no prefilter, since
            // the needles start with too many different bytes for one to skip much.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .ascii_case_insensitive(true)
                .prefilter(false)
                .build(&needles)
                .expect("anchor literals are few and short")
        });
        Ok(Scanner {
            compiled,
            kinds: catalogue.kinds(),
            literals,
            roles,
            dash,
            scanned,
            worded,
            lined,
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
        pseudonym::parse(s).is_some_and(|(kind, _)| self.is_kind(kind))
    }

    pub(crate) fn is_kind(&self, kind: &str) -> bool {
        kind == ENCODED_KIND || self.kinds.contains(kind)
    }

    /// How each enabled entry is anchored.
    #[cfg(test)]
    pub(crate) fn anchors(&self) -> impl Iterator<Item = (&Entry, &Anchor)> {
        self.compiled.iter().map(|c| (&c.entry, &c.anchor))
    }

    /// Finds values in `hay`, non-overlapping and in order.
    pub fn scan(&self, hay: &str, known: Option<&Known>) -> Vec<Finding> {
        self.scan_with_context(hay, None, known)
    }

    /// Like [`Scanner::scan`]; `key` is the JSON key whose value `hay` is (context for the
    /// validators, never part of a finding).
    pub fn scan_with_context(
        &self,
        hay: &str,
        key: Option<&str>,
        known: Option<&Known>,
    ) -> Vec<Finding> {
        let found = self.candidates(hay, key.map(str::as_bytes));
        let picked = resolve(found);
        let picked = match known {
            Some(k) => resolve::with_known(picked, k.find(hay.as_bytes())),
            None => picked,
        };
        picked
            .into_iter()
            .map(|c| Finding {
                start: c.start,
                end: c.end,
                source: c.source,
            })
            .collect()
    }

    /// Every validated catalogue candidate in `hay`, sorted (the fast way).
    pub(crate) fn candidates(&self, hay: &str, key: Option<&[u8]>) -> Vec<Candidate> {
        let bytes = hay.as_bytes();
        if bytes.is_empty() {
            return Vec::new();
        }
        // Where each pattern may start, as inclusive ranges, one list per pattern: kept per
        // thread and cleared after use, so a string's scan allocates nothing for them (most
        // strings of a body are short and give none at all).
        STARTS.with(|cell| {
            let starts = &mut *cell.borrow_mut();
            if starts.in_use {
                // The last scan on this thread did not finish (it panicked): start clean.
                starts.ranges.iter_mut().for_each(Vec::clear);
                starts.touched.clear();
            }
            if starts.ranges.len() < self.compiled.len() {
                starts.ranges.resize_with(self.compiled.len(), Vec::new);
            }
            starts.in_use = true;
            let found = self.candidates_in(hay, key, starts);
            starts.in_use = false;
            found
        })
    }

    /// [`Scanner::candidates`] with the per-pattern lists to fill (empty on entry and on return).
    fn candidates_in(&self, hay: &str, key: Option<&[u8]>, starts: &mut Starts) -> Vec<Candidate> {
        let bytes = hay.as_bytes();
        if let Some(ac) = &self.literals {
            let mut lines = LineOf::default();
            for m in ac.find_overlapping_iter(bytes) {
                for role in &self.roles[m.pattern().as_usize()] {
                    match *role {
                        Role::Anchor { pid, dmin, dmax } => {
                            let (dmin, dmax) = (dmin as usize, dmax as usize);
                            if m.start() >= dmin {
                                let lo = m.start().saturating_sub(dmax);
                                starts.push(pid as usize, (lo, m.start() - dmin));
                            }
                        }
                        Role::Line { pid } => {
                            let line = lines.start_of(bytes, m.start());
                            starts.push(pid as usize, (line, line));
                        }
                        Role::Word { pid } => {
                            let c = &self.compiled[pid as usize];
                            let mut r = std::mem::take(&mut starts.scratch);
                            context::ranges(
                                bytes,
                                (m.start(), m.end()),
                                c.entry.validate.window(),
                                &mut r,
                            );
                            for range in r.drain(..) {
                                starts.push(pid as usize, range);
                            }
                            starts.scratch = r;
                        }
                    }
                }
            }
        }
        if let Some(key) = key {
            for &pid in &self.worded {
                let c = &self.compiled[pid];
                if key_names(key, &c.context.names) {
                    starts.push(pid, (0, c.entry.validate.window().min(bytes.len())));
                }
            }
        }
        if !self.lined.is_empty() {
            let lines = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
            for s in lines.filter(|&s| s < bytes.len()) {
                for &pid in &self.lined {
                    starts.push(pid, (s, s));
                }
            }
        }
        if !self.dash.is_empty() {
            for d in memchr::memchr_iter(b'-', bytes) {
                self.dash.walk(bytes, d, |pid, len| {
                    let s = d + 1 - len;
                    starts.push(pid, (s, s));
                });
            }
        }
        let mut out = Vec::new();
        let mut caps = Caps::default();
        for &pid in &starts.touched {
            let r = &mut starts.ranges[pid];
            if !r.is_sorted() {
                r.sort_unstable();
            }
            let c = &self.compiled[pid];
            let mut next = 0; // first start not yet tried
            for &(lo, hi) in r.iter() {
                let hi = hi.min(bytes.len().saturating_sub(1));
                for s in lo.max(next)..=hi {
                    if c.first.as_ref().is_some_and(|f| !f[bytes[s] as usize])
                        || (c.lead_edge && s > 0 && is_alnum(bytes[s - 1]))
                    {
                        continue;
                    }
                    self.attempt(pid, hay, key, s, &mut caps, &mut out);
                }
                next = next.max(hi + 1);
            }
        }
        starts.clear();
        for &pid in &self.scanned {
            self.enumerate(pid, hay, key, &mut caps, &mut out);
        }
        out.sort_unstable_by_key(|c| (c.start, c.end, c.source));
        out.dedup_by_key(|c| (c.start, c.end, c.source));
        out
    }

    /// The same candidates, found the obviously correct way: every pattern searched over the
    /// whole text, from every position a match can start at.
    #[cfg(any(test, feature = "python"))]
    pub(crate) fn reference(&self, hay: &str, key: Option<&[u8]>) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut caps = Caps::default();
        for pid in 0..self.compiled.len() {
            self.enumerate(pid, hay, key, &mut caps, &mut out);
        }
        out.sort_unstable_by_key(|c| (c.start, c.end, c.source));
        out.dedup_by_key(|c| (c.start, c.end, c.source));
        out
    }

    /// Every start with a match of pattern `pid`, by unanchored searches: a leftmost-first
    /// search from `pos` returns the match at the first start >= `pos` that has one.
    fn enumerate(
        &self,
        pid: usize,
        hay: &str,
        key: Option<&[u8]>,
        caps: &mut Caps,
        out: &mut Vec<Candidate>,
    ) {
        let bytes = hay.as_bytes();
        let regex = &self.compiled[pid].regex;
        let mut pos = 0;
        while pos < bytes.len() {
            let Some(m) = regex.search(&Input::new(bytes).range(pos..)) else {
                break;
            };
            self.attempt(pid, hay, key, m.start(), caps, out);
            pos = m.start() + 1;
        }
    }

    /// The match of pattern `pid` starting exactly at `s`, as validated candidates: one, or
    /// one per piece of a list value (`split`).
    fn attempt(
        &self,
        pid: usize,
        hay: &str,
        key: Option<&[u8]>,
        s: usize,
        caps: &mut Caps,
        out: &mut Vec<Candidate>,
    ) {
        let c = &self.compiled[pid];
        let bytes = hay.as_bytes();
        let input = Input::new(bytes).range(s..).anchored(Anchored::Yes);
        // The DFA says whether there is a match, and where it ends; only then do the capture
        // engines (far slower) find the `id` group, within that span.
        let Some(m) = c.regex.search(&input) else {
            return;
        };
        let (start, end) = if c.has_id {
            if caps.0.len() <= pid {
                caps.0.resize_with(pid + 1, || None);
            }
            let caps = caps.0[pid].get_or_insert_with(|| c.regex.create_captures());
            let exact = Input::new(bytes).span(m.span()).anchored(Anchored::Yes);
            c.regex.search_captures(&exact, caps);
            let Some(id) = caps.get_group_by_name("id") else {
                return;
            };
            (id.start, id.end)
        } else {
            (m.start(), m.end())
        };
        let Some(split) = &c.split else {
            out.extend(self.validate(pid, hay, key, start, end));
            return;
        };
        let mut piece = start;
        for sep in split.find_iter(Input::new(bytes).range(start..end)) {
            if sep.start() > piece {
                out.extend(self.validate(pid, hay, key, piece, sep.start()));
            }
            piece = sep.end();
        }
        if end > piece {
            out.extend(self.validate(pid, hay, key, piece, end));
        }
    }

    /// Applies an entry's checks to a value at `start..end`.
    fn validate(
        &self,
        pid: usize,
        hay: &str,
        key: Option<&[u8]>,
        start: usize,
        end: usize,
    ) -> Option<Candidate> {
        let c = &self.compiled[pid];
        let bytes = hay.as_bytes();
        if start == end || !hay.is_char_boundary(start) || !hay.is_char_boundary(end) {
            return None;
        }
        if c.entry.edges == Edges::Alnum && !is_whole_token(bytes, start, end) {
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
        if !c.context.names.is_empty() && !context::named(bytes, start, key, v.window(), &c.context)
        {
            return None;
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

fn key_names(key: &[u8], words: &[Vec<u8>]) -> bool {
    let lower = key.to_ascii_lowercase();
    words
        .iter()
        .any(|w| w.len() <= lower.len() && lower.windows(w.len()).any(|x| x == w.as_slice()))
}

/// Reversed `<prefix>-` literals: from a `-`, walk back and report every prefix that ends there.
#[derive(Default)]
struct DashTrie {
    nodes: Vec<DashNode>,
}

#[derive(Default)]
struct DashNode {
    children: Vec<(u8, u32)>,
    /// Patterns whose literal ends here, with the literal's length.
    ends: Vec<(usize, usize)>,
}

impl DashTrie {
    fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn insert(&mut self, literal: &[u8], pid: usize) {
        if self.nodes.is_empty() {
            self.nodes.push(DashNode::default());
        }
        let mut at = 0usize;
        for &b in literal.iter().rev() {
            let next = self.nodes[at]
                .children
                .iter()
                .find(|(c, _)| *c == b)
                .map(|&(_, n)| n as usize);
            at = if let Some(n) = next {
                n
            } else {
                self.nodes.push(DashNode::default());
                let n = self.nodes.len() - 1;
                self.nodes[at].children.push((b, n as u32));
                n
            };
        }
        self.nodes[at].ends.push((pid, literal.len()));
    }

    /// Calls `found(pid, literal_len)` for every literal ending at `hay[dash]` (case-insensitive).
    fn walk(&self, hay: &[u8], dash: usize, mut found: impl FnMut(usize, usize)) {
        let mut at = 0usize;
        let mut i = dash + 1;
        while i > 0 {
            let b = hay[i - 1].to_ascii_lowercase();
            let Some(&(_, n)) = self.nodes[at].children.iter().find(|(c, _)| *c == b) else {
                return;
            };
            at = n as usize;
            for &(pid, len) in &self.nodes[at].ends {
                found(pid, len);
            }
            i -= 1;
        }
    }
}

/// Lets callers hold the scanner and its known sets across threads.
#[allow(dead_code)]
fn assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Scanner>();
    check::<Known>();
    check::<Arc<Known>>();
}

#[cfg(test)]
mod tests;
