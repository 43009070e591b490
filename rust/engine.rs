//! Masking: scan, learn which originals still need a pseudonym, then rewrite.
//!
//! Split in two steps (`plan`, then `apply`) so the caller can fetch pseudonyms for the new
//! originals from a shared store in one round trip, between the steps, without the engine
//! knowing about stores.
//!
//! A plan is made in two passes over every string the model can read. The first finds what
//! the catalogue finds; the second finds, everywhere, every value the first pass found in any
//! string of the request and every value the namespace already knows (with their encodings):
//! a secret pasted with its name in one message and echoed bare by a tool in the next is
//! masked in both, in the very first request that holds them.

use std::collections::HashSet;
use std::sync::Arc;

use crate::body::{request_targets, response_targets, Target};
use crate::derive;
use crate::error::{Error, Result};
use crate::json;
use crate::known::{encodings, Known, Needle};
use crate::mapping::Mapping;
use crate::pseudonym;
use crate::scan_cache::{Scan, ScanCache};
use crate::scanner::{resolve, with_known, Candidate, Scanner, Source, ENCODED_KIND};
use crate::unmask::{Restored, Unmasker};
use crate::view::View;

/// Pseudonym-shaped literals numbered above this are masked rather than reserved: reserving
/// would push every later pseudonym of the kind past it.
const MAX_RESERVED: u64 = 1_000_000;
/// How much of each side of the seam between two adjacent text blocks is read as one text.
const SEAM: usize = 256;

/// One identifier to replace, in the coordinates of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// First byte in the input.
    pub start: usize,
    /// One past the last byte in the input.
    pub end: usize,
    /// The pseudonym's kind.
    pub kind: Arc<str>,
    /// The value as written (JSON escapes decoded); what unmasking restores.
    pub original: Arc<str>,
    /// Set when the value runs across the seam of two adjacent text blocks: this hit holds
    /// one part, and writes only its part of the pseudonym.
    pub(crate) split: Option<Split>,
}

/// Which part of a split value a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    pub head: bool,
    /// Bytes of the value in the first block (as the view reads it).
    pub head_len: usize,
}

impl Split {
    /// Where the pseudonym is cut: both parts stay non-empty (an empty text block is invalid).
    fn cut(self, pseudonym_len: usize) -> usize {
        self.head_len
            .clamp(1, pseudonym_len.saturating_sub(1).max(1))
    }
}

/// What `plan` found; turn it into output with [`Engine::apply`].
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every identifier of the input, in input order.
    pub hits: Vec<Hit>,
    /// Per extra text (a query string, header values), its identifiers.
    pub extras: Vec<Vec<Hit>>,
    /// Values to map without replacing anything here: the normalised form of values written
    /// encoded, and values held inside others (the account of an ARN). They join the known
    /// set, so their bare occurrences are masked from now on.
    pub also: Vec<(Arc<str>, Arc<str>)>,
    /// Pseudonym-shaped literals of the input that are not issued: their numbers must never be.
    pub reserve: Vec<(Arc<str>, u64)>,
    /// A request body's top-level `model`, read while parsing (routing needs it).
    pub model: Option<String>,
    /// A request body's top-level `stream`.
    pub stream: bool,
    /// Bytes of the longest string scanned (raw, as in the input), for size limits.
    pub longest: usize,
}

impl Plan {
    fn all_values(&self) -> impl Iterator<Item = (&Arc<str>, &Arc<str>)> {
        self.hits
            .iter()
            .chain(self.extras.iter().flatten())
            .map(|h| (&h.kind, &h.original))
            .chain(self.also.iter().map(|(k, o)| (k, o)))
    }

    /// Distinct `(kind, original)` pairs with no pseudonym yet in `ns`.
    pub fn missing(&self, engine: &Engine, ns: &str) -> Vec<(Arc<str>, Arc<str>)> {
        let mut seen = HashSet::new();
        self.all_values()
            .filter(|(_, o)| engine.mapping.pseudonym(ns, o).is_none())
            .filter(|(_, o)| seen.insert((*o).clone()))
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect()
    }

    /// How many distinct originals the plan holds.
    pub fn distinct(&self) -> usize {
        self.all_values()
            .map(|(_, o)| o)
            .collect::<HashSet<_>>()
            .len()
    }
}

/// A masked input, and what was replaced.
#[derive(Debug, Clone)]
pub struct Masked {
    /// The output bytes (UTF-8).
    pub output: Vec<u8>,
    /// `(hit, pseudonym)` in input order (extras' hits after the input's).
    pub replaced: Vec<(Hit, Arc<str>)>,
    /// The extra texts, masked.
    pub extras: Vec<String>,
}

impl Masked {
    /// An unmasker for exactly the pseudonyms this masking issued: the ones "in play".
    pub fn unmasker(&self) -> Unmasker {
        let mut seen = HashSet::new();
        Unmasker::new(
            self.replaced
                .iter()
                .filter(|(_, p)| seen.insert(p.clone()))
                .map(|(h, p)| (p.clone(), h.original.clone()))
                .collect(),
        )
    }
}

/// The compiled catalogue plus the process's map.
///
/// ```
/// use _core::{Catalogue, Engine};
/// let engine = Engine::new(&Catalogue::builtin().unwrap()).unwrap();
/// let text = "terminate i-0123456789abcdef0";
/// let plan = engine.plan_text(text, "ns");
/// for (kind, original) in plan.missing(&engine, "ns") {
///     engine.allocate("ns", &kind, &original);
/// }
/// let masked = engine.apply(text.as_bytes(), &plan, "ns").unwrap();
/// assert_eq!(masked.output, b"terminate ec2-001");
/// ```
pub struct Engine {
    scanner: Scanner,
    mapping: Mapping,
    scan_cache: ScanCache,
    /// Pass 2 against the namespace's known sets, per string and set (several sets per string).
    known_cache: ScanCache,
}

/// Strings pass 1 remembers by default (twice this many at most): a long session's worth.
pub(crate) const DEFAULT_SCAN_CACHE: usize = 16_384;
/// Pass 2 remembers this many results per string pass 1 may remember: a namespace's known set
/// is a few sets (O(log n), rust/known.rs), each searched on its own.
const KNOWN_SETS_CACHED: usize = 4;

/// One string to plan: its decoded content, where its bytes are in the input, its key.
struct Text<'a> {
    decoded: json::Decoded<'a>,
    key: Option<String>,
    run: u32,
    attribution: bool,
}

impl<'a> Text<'a> {
    fn plain(text: &'a str) -> Text<'a> {
        Text {
            decoded: json::Decoded::plain(text),
            key: None,
            run: 0,
            attribution: false,
        }
    }

    /// The string's content (JSON escapes decoded).
    fn content(&self) -> &str {
        &self.decoded.text
    }

    /// Input offset of content byte `i`.
    fn raw(&self, i: usize) -> usize {
        self.decoded.raw_offset(i)
    }
}

/// Per string, the values kept after both passes, in view coordinates.
struct Scanned<'a> {
    view: View<'a>,
    /// The string's key in the scan caches, when it is worth remembering.
    cache_key: Option<(u128, usize)>,
    picked: Vec<Candidate>,
    splits: Vec<(usize, Split)>,
    /// Values only the second view (lines split by hand, joined) shows, as that view reads them.
    joined: Vec<(Arc<str>, Arc<str>)>,
}

impl Engine {
    /// Compiles a catalogue.
    pub fn new(catalogue: &crate::Catalogue) -> Result<Self> {
        Self::with_scan_cache(catalogue, DEFAULT_SCAN_CACHE)
    }

    /// Compiles a catalogue; pass 1 remembers up to `2 * scan_cache` strings across requests
    /// (0: none, every string is scanned every time; the results are the same either way).
    pub fn with_scan_cache(catalogue: &crate::Catalogue, scan_cache: usize) -> Result<Self> {
        Ok(Engine {
            scanner: Scanner::new(catalogue)?,
            mapping: Mapping::default(),
            scan_cache: ScanCache::new(scan_cache),
            known_cache: ScanCache::new(scan_cache.saturating_mul(KNOWN_SETS_CACHED)),
        })
    }

    /// The compiled catalogue.
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// The process's map (read side; write through [`Engine::learn`] and [`Engine::allocate`]).
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// True unless the catalogue finds `original`, whole, with no context around it. Such values
    /// go into the namespace's known set, so that once restored they are masked again anywhere.
    fn context_dependent(&self, original: &str) -> bool {
        let view = View::build(original);
        let found = resolve(self.scanner.candidates(&view.text, None));
        !matches!(found.as_slice(), [f] if f.start == 0 && f.end == view.text.len())
    }

    /// Records a mapping decided by the store.
    pub fn learn(&self, ns: &str, kind: &str, n: u64, original: &str) -> Arc<str> {
        // Every process reads back what it wrote itself on its next sync: skip the scan then.
        if let Some(p) = self.mapping.pseudonym(ns, original) {
            if *p == *pseudonym::format(kind, n) {
                return p;
            }
        }
        self.mapping
            .learn(ns, kind, n, original, self.context_dependent(original))
    }

    /// Maps an original with this process's own numbering (no store).
    pub fn allocate(&self, ns: &str, kind: &str, original: &str) -> Arc<str> {
        match self.mapping.pseudonym(ns, original) {
            Some(p) => p,
            None => self
                .mapping
                .allocate(ns, kind, original, self.context_dependent(original)),
        }
    }

    /// Finds what to mask in a plain text.
    pub fn plan_text(&self, text: &str, ns: &str) -> Plan {
        let source = Text::plain(text);
        let mut plan = Plan {
            longest: text.len(),
            ..Plan::default()
        };
        let mut hits = self.plan_sources(&[source], ns, &mut plan);
        plan.hits = hits.pop().unwrap_or_default();
        plan
    }

    /// Finds what to mask in an Anthropic Messages request body, and in `extras` (texts that
    /// travel with it: the query string, header values) in the same passes.
    pub fn plan_request(&self, body: &[u8], ns: &str, extras: &[&str]) -> Result<Plan> {
        let (text, root) = json::parse_text(body)?;
        if !matches!(root, json::Node::Object(_)) {
            return Err(Error::body("the body is not a JSON object"));
        }
        let targets = request_targets(body, &root);
        let mut sources: Vec<Text> = targets.iter().map(|t| Self::source_of(text, t)).collect();
        let longest = targets
            .iter()
            .map(|t| t.s.end - t.s.start)
            .max()
            .unwrap_or(0);
        sources.extend(extras.iter().map(|e| Text::plain(e)));
        let mut plan = Plan {
            longest: longest.max(extras.iter().map(|e| e.len()).max().unwrap_or(0)),
            model: match root.get(body, "model") {
                Some(json::Node::String(s)) => Some(json::decode(text, *s).text.into_owned()),
                _ => None,
            },
            stream: matches!(root.get(body, "stream"), Some(json::Node::Bool(true))),
            ..Plan::default()
        };
        let mut per = self.plan_sources(&sources, ns, &mut plan);
        plan.extras = per.split_off(targets.len());
        let mut hits: Vec<Hit> = per.into_iter().flatten().collect();
        hits.sort_by_key(|h| h.start);
        plan.hits = hits;
        Ok(plan)
    }

    fn source_of<'a>(body: &'a str, t: &Target) -> Text<'a> {
        Text {
            decoded: json::decode(body, t.s),
            key: t.key.map(|k| json::decode(body, k).text.into_owned()),
            run: t.run,
            attribution: t.attribution,
        }
    }

    /// Both passes over a set of strings; per string, its hits in input coordinates.
    fn plan_sources(&self, sources: &[Text], ns: &str, plan: &mut Plan) -> Vec<Vec<Hit>> {
        let mut scanned = self.first_pass(sources);
        let found = self.found(sources, &mut scanned);
        let request = self.request_known(&found, ns, plan);
        let namespace = self.mapping.known(ns);
        let known = Needles {
            sets: namespace
                .iter()
                .map(AsRef::as_ref)
                .chain(request.as_ref())
                .collect(),
            lasting: namespace.len(),
        };
        for (s, source) in scanned.iter_mut().zip(sources) {
            if let Some(s) = s.as_mut().filter(|_| !source.attribution) {
                let cache = s.cache_key.map(|k| (&self.known_cache, k));
                let hits = known.find(s.view.text.as_bytes(), cache);
                if !hits.is_empty() {
                    s.picked = with_known(std::mem::take(&mut s.picked), hits);
                }
                self.literals(s, ns, plan);
            }
        }
        let mut out: Vec<Vec<Hit>> = scanned
            .iter()
            .zip(sources)
            .map(|(s, source)| {
                s.as_ref()
                    .map_or_else(Vec::new, |s| self.hits(s, source, &known, plan))
            })
            .collect();
        join_splits(&mut out);
        plan.also.sort();
        plan.also.dedup();
        out
    }

    /// Pass 1: what the catalogue finds, string by string. An attribution line it finds
    /// nothing in is left out of everything that follows.
    fn first_pass<'a>(&self, sources: &'a [Text]) -> Vec<Option<Scanned<'a>>> {
        sources
            .iter()
            .map(|s| {
                let key = s.key.as_deref().map(str::as_bytes);
                let view = View::build(s.content());
                let cache_key = self.scan_cache.key(Scan::View, key, s.content());
                if let Some(picked) = cache_key.and_then(|k| self.scan_cache.get(k)) {
                    if s.attribution && picked.is_empty() {
                        return None;
                    }
                    return Some(Scanned {
                        picked: picked.to_vec(),
                        view,
                        cache_key,
                        splits: Vec::new(),
                        joined: Vec::new(),
                    });
                }
                let mut cands = self.scanner.candidates(&view.text, key);
                cands.extend(crate::decoded::candidates(&self.scanner, &view.text));
                let mut joined = Vec::new();
                if let Some(alt) = View::joined(s.content()) {
                    for c in self.scanner.candidates(&alt.text, key) {
                        let (a, b) = alt.span(c.start, c.end);
                        let (start, end) = view.locate(a, b);
                        let new =
                            start < end && !cands.iter().any(|k| k.start == start && k.end == end);
                        if let (true, Source::Entry(pid)) = (new, c.source) {
                            let kind = self.scanner.entry(pid).kind.as_str().into();
                            joined.push((kind, alt.text[c.start..c.end].into()));
                            cands.push(Candidate { start, end, ..c });
                        }
                    }
                }
                let picked = resolve(cands);
                if let (Some(k), true) = (cache_key, joined.is_empty()) {
                    // With values only the joined view shows, the result holds text: not kept.
                    self.scan_cache.put(k, picked.as_slice().into());
                }
                if s.attribution && picked.is_empty() {
                    return None;
                }
                Some(Scanned {
                    picked,
                    view,
                    cache_key,
                    splits: Vec::new(),
                    joined,
                })
            })
            .collect()
    }

    /// The values pass 1 found, as `(kind, value)` in the form the views show them, the parts
    /// of values split across text blocks joined.
    fn found(
        &self,
        sources: &[Text],
        scanned: &mut [Option<Scanned>],
    ) -> Vec<(Arc<str>, Arc<str>)> {
        let mut found = self.seams(sources, scanned);
        for s in scanned.iter().flatten() {
            found.extend(s.joined.iter().cloned());
            for c in &s.picked {
                let Source::Entry(pid) = c.source else {
                    continue;
                };
                if s.splits.iter().any(|(at, _)| *at == c.start) {
                    continue; // a part; the seam gave the whole
                }
                let kind: Arc<str> = self.scanner.entry(pid).kind.as_str().into();
                found.push((kind, s.view.text[c.start..c.end].into()));
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// What pass 2 looks for besides the namespace's known set: the values this request holds
    /// that the namespace does not know yet, their encodings, and the values held inside them
    /// (which the plan maps too).
    fn request_known(
        &self,
        found: &[(Arc<str>, Arc<str>)],
        ns: &str,
        plan: &mut Plan,
    ) -> Option<Known> {
        let mut needles = Vec::new();
        for (kind, value) in found {
            if self.mapping.pseudonym(ns, value).is_some() {
                continue;
            }
            needles.push(Needle {
                text: value.clone(),
                kind: kind.clone(),
                whole: true,
            });
            needles.extend(encoded_needles(value));
        }
        for (kind, value) in found.iter().flat_map(|(k, v)| derive::held(k, v)) {
            if self.mapping.pseudonym(ns, &value).is_none() {
                needles.push(Needle {
                    text: value.clone(),
                    kind: kind.clone(),
                    whole: true,
                });
            }
            plan.also.push((kind, value));
        }
        Known::new(needles)
    }

    /// One string's kept values as hits in input coordinates, with the values as written.
    fn hits(&self, s: &Scanned, source: &Text, known: &Needles, plan: &mut Plan) -> Vec<Hit> {
        let mut hits = Vec::with_capacity(s.picked.len());
        for c in &s.picked {
            let (a, b) = s.view.span(c.start, c.end);
            let original: Arc<str> = source.content()[a..b].into();
            let canonical = &s.view.text[c.start..c.end];
            let kind: Arc<str> = match c.source {
                Source::Entry(pid) => self.scanner.entry(pid).kind.as_str().into(),
                Source::Known(i) => known.needle(i).kind.clone(),
                Source::Pseudonym => pseudonym::parse(canonical)
                    .map_or("unknown", |(k, _)| k)
                    .into(),
            };
            if canonical != &*original {
                plan.also.push((kind.clone(), canonical.into()));
            }
            let split = s
                .splits
                .iter()
                .find(|(at, _)| *at == c.start)
                .map(|&(_, sp)| sp);
            hits.push(Hit {
                start: source.raw(a),
                end: source.raw(b),
                kind,
                original,
                split,
            });
        }
        hits
    }

    /// Values cut in two by the seam between adjacent text blocks of one content array; returns
    /// them whole, as `(kind, value)`.
    fn seams(
        &self,
        sources: &[Text],
        scanned: &mut [Option<Scanned>],
    ) -> Vec<(Arc<str>, Arc<str>)> {
        let mut whole = Vec::new();
        for i in 1..sources.len() {
            let (a, b) = (&sources[i - 1], &sources[i]);
            if a.run == 0 || a.run != b.run {
                continue;
            }
            let (Some(sa), Some(sb)) = (&scanned[i - 1], &scanned[i]) else {
                continue;
            };
            let (ta, tb) = (sa.view.text.as_ref(), sb.view.text.as_ref());
            let mut from = ta.len().saturating_sub(SEAM);
            while !ta.is_char_boundary(from) {
                from += 1;
            }
            let mut to = tb.len().min(SEAM);
            while !tb.is_char_boundary(to) {
                to -= 1;
            }
            let joined = format!("{}{}", &ta[from..], &tb[..to]);
            let seam = ta.len() - from;
            let ta_len = ta.len();
            let crossing: Vec<Candidate> = self
                .seam_candidates(&joined)
                .iter()
                .copied()
                .filter(|c| c.start < seam && c.end > seam)
                .collect();
            for c in crossing {
                if let Source::Entry(pid) = c.source {
                    whole.push((
                        self.scanner.entry(pid).kind.as_str().into(),
                        joined[c.start..c.end].into(),
                    ));
                }
                let head = Candidate {
                    start: from + c.start,
                    end: ta_len,
                    ..c
                };
                let tail = Candidate {
                    start: 0,
                    end: c.end - seam,
                    ..c
                };
                let mut head_len = 0;
                for (s, part, is_head) in [(i - 1, head, true), (i, tail, false)] {
                    let sc = scanned[s].as_mut().expect("checked");
                    // The part absorbs whatever it overlaps on its side.
                    let mut part = part;
                    sc.picked.retain(|p| {
                        let overlaps = p.start < part.end && p.end > part.start;
                        if overlaps {
                            part.start = part.start.min(p.start);
                            part.end = part.end.max(p.end);
                        }
                        !overlaps
                    });
                    if is_head {
                        head_len = ta_len - part.start;
                    }
                    sc.picked.push(part);
                    sc.picked.sort_by_key(|p| p.start);
                    sc.splits.push((
                        part.start,
                        Split {
                            head: is_head,
                            head_len,
                        },
                    ));
                }
            }
        }
        whole
    }

    /// What the catalogue keeps in a seam window (remembered: the same blocks come every turn).
    fn seam_candidates(&self, window: &str) -> crate::scan_cache::Picked {
        let key = self.scan_cache.key(Scan::Seam, None, window);
        if let Some(picked) = key.and_then(|k| self.scan_cache.get(k)) {
            return picked;
        }
        let picked: crate::scan_cache::Picked =
            resolve(self.scanner.candidates(window, None)).into();
        if let Some(k) = key {
            self.scan_cache.put(k, picked.clone());
        }
        picked
    }

    /// Pseudonym-shaped literals of the input (a host literally named `ec2-001`). One that is
    /// issued in the namespace is masked as an original of its own, so unmasking gives back the
    /// literal, not the value behind the pseudonym; one that is not is reserved, so it never
    /// will be. Either way the literal round-trips as written.
    fn literals(&self, s: &mut Scanned, ns: &str, plan: &mut Plan) {
        let text = s.view.text.as_bytes();
        let mut protect = Vec::new();
        for (start, end) in pseudonym_tokens(text) {
            let token = &s.view.text[start..end];
            let Some((kind, n)) = pseudonym::parse(token) else {
                continue;
            };
            if !self.scanner.is_kind(kind) {
                continue;
            }
            let i = s.picked.partition_point(|c| c.end <= start);
            if s.picked.get(i).is_some_and(|c| c.start < end) {
                continue; // already inside a masked value
            }
            if self.mapping.original(ns, token).is_some() || n > MAX_RESERVED {
                protect.push(Candidate {
                    start,
                    end,
                    priority: u32::MAX,
                    source: Source::Pseudonym,
                });
            } else {
                plan.reserve.push((kind.into(), n));
            }
        }
        if protect.is_empty() {
            return;
        }
        for p in protect {
            s.picked.push(p);
        }
        s.picked.sort_by_key(|c| c.start);
    }

    /// Replaces every hit with its pseudonym; fails (and outputs nothing) if one is unmapped.
    pub fn apply(&self, input: &[u8], plan: &Plan, ns: &str) -> Result<Masked> {
        let mut replaced = Vec::with_capacity(plan.hits.len());
        let output = self.splice(input, &plan.hits, ns, &mut replaced)?;
        Ok(Masked {
            output,
            replaced,
            extras: Vec::new(),
        })
    }

    /// Like [`Engine::apply`], with the extra texts the plan was made with.
    pub fn apply_with_extras(
        &self,
        input: &[u8],
        extras: &[&str],
        plan: &Plan,
        ns: &str,
    ) -> Result<Masked> {
        let mut masked = self.apply(input, plan, ns)?;
        for (text, hits) in extras.iter().zip(&plan.extras) {
            let out = self.splice(text.as_bytes(), hits, ns, &mut masked.replaced)?;
            masked
                .extras
                .push(String::from_utf8(out).expect("UTF-8 in, UTF-8 out"));
        }
        Ok(masked)
    }

    fn splice(
        &self,
        input: &[u8],
        hits: &[Hit],
        ns: &str,
        replaced: &mut Vec<(Hit, Arc<str>)>,
    ) -> Result<Vec<u8>> {
        let mut output = Vec::with_capacity(input.len());
        let mut done = 0;
        for hit in hits {
            let Some(p) = self.mapping.pseudonym(ns, &hit.original) else {
                return Err(Error::body(
                    "an identifier has no pseudonym yet; nothing was masked",
                ));
            };
            output.extend_from_slice(&input[done..hit.start]);
            let piece = match hit.split {
                None => &p[..],
                Some(s) if s.head => &p[..s.cut(p.len())],
                Some(s) => &p[s.cut(p.len())..],
            };
            output.extend_from_slice(piece.as_bytes());
            done = hit.end;
            replaced.push((hit.clone(), p));
        }
        output.extend_from_slice(&input[done..]);
        Ok(output)
    }

    /// An unmasker for every pseudonym of a namespace (or only those listed).
    pub fn unmasker(&self, ns: &str, only: Option<&[String]>) -> Unmasker {
        let pseudonyms: Vec<Arc<str>> = match only {
            Some(list) => list.iter().map(|p| Arc::from(p.as_str())).collect(),
            None => self.mapping.pseudonyms(ns),
        };
        Unmasker::new(
            pseudonyms
                .into_iter()
                .filter_map(|p| self.mapping.original(ns, &p).map(|o| (p, o)))
                .collect(),
        )
    }
}

/// A split value's two hits carry the whole value as their original.
fn join_splits(per: &mut [Vec<Hit>]) {
    for i in 1..per.len() {
        let head = per[i - 1]
            .iter()
            .position(|h| h.split.is_some_and(|s| s.head));
        let tail = per[i].iter().position(|h| h.split.is_some_and(|s| !s.head));
        if let (Some(h), Some(t)) = (head, tail) {
            let whole: Arc<str> =
                format!("{}{}", per[i - 1][h].original, per[i][t].original).into();
            let kind = per[i - 1][h].kind.clone();
            per[i - 1][h].original = whole.clone();
            per[i][t].original = whole;
            per[i][t].kind = kind;
        }
    }
}

/// The known sets pass 2 searches (the namespace's, then the request's), indexed as one.
struct Needles<'a> {
    sets: Vec<&'a Known>,
    /// How many of `sets`, from the first, are the namespace's (kept across requests, so worth
    /// remembering what they find); the rest are this request's own.
    lasting: usize,
}

impl Needles<'_> {
    /// Every known value in `hay`; `cache` (the known cache and `hay`'s key) remembers what each
    /// namespace set finds.
    fn find(&self, hay: &[u8], cache: Option<(&ScanCache, (u128, usize))>) -> Vec<Candidate> {
        let mut hits = Vec::new();
        let mut offset = 0;
        for (i, k) in self.sets.iter().enumerate() {
            let remembered = cache
                .filter(|_| i < self.lasting)
                .map(|(c, key)| (c, c.known_key(key, k.id())));
            let found = if let Some(found) = remembered.and_then(|(c, key)| c.get(key)) {
                found
            } else {
                let found: crate::scan_cache::Picked = k.find(hay).into();
                if let Some((c, key)) = remembered {
                    c.put(key, found.clone());
                }
                found
            };
            hits.extend(found.iter().map(|&c| Candidate {
                source: match c.source {
                    Source::Known(i) => Source::Known(i + offset),
                    other => other,
                },
                ..c
            }));
            offset += k.len();
        }
        hits
    }

    fn needle(&self, mut i: usize) -> &Needle {
        for k in &self.sets {
            if i < k.len() {
                return k.needle(i);
            }
            i -= k.len();
        }
        unreachable!("a known index is below the sets' total")
    }
}

/// The encodings of a value, as needles of kind `enc` (found inside longer runs too).
pub(crate) fn encoded_needles(value: &str) -> impl Iterator<Item = Needle> + '_ {
    let reversed: String = value.chars().rev().collect();
    encodings(value).into_iter().map(move |e| {
        let whole = e == reversed;
        Needle {
            text: e.into(),
            kind: ENCODED_KIND.into(),
            whole,
        }
    })
}

/// Spans of `<kind>-<code>`-shaped tokens (not glued to letters or digits), the kind being
/// the longest one that parses.
fn pseudonym_tokens(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for d in memchr::memchr_iter(b'-', text) {
        let digits = text[d + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits < 3 {
            continue;
        }
        let end = d + 1 + digits;
        if text.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        let run = text[..d]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'-')
            .count();
        // Candidate kind starts: the run's start, and after each dash in it.
        let lo = d - run;
        let starts = std::iter::once(lo).chain((lo..d).filter(|&i| text[i] == b'-').map(|i| i + 1));
        for start in starts {
            if start < d && (start == 0 || !text[start - 1].is_ascii_alphanumeric()) {
                let token = std::str::from_utf8(&text[start..end]).expect("ASCII");
                if pseudonym::parse(token).is_some() {
                    out.push((start, end));
                    break;
                }
            }
        }
    }
    out
}

/// Restores pseudonyms in a non-streamed Messages response: text blocks, tool names and inputs.
pub fn unmask_response(body: &[u8], unmasker: &Unmasker) -> Result<(Vec<u8>, Restored)> {
    let (text, root) = json::parse_text(body)?;
    let mut out = Vec::with_capacity(body.len());
    let mut restored = Restored::new();
    let mut done = 0;
    for t in response_targets(body, &root) {
        let raw = &text[t.s.start..t.s.end];
        let mut s = String::with_capacity(raw.len());
        unmasker.run(raw, &[], true, true, &mut s, &mut restored);
        out.extend_from_slice(&body[done..t.s.start]);
        out.extend_from_slice(s.as_bytes());
        done = t.s.end;
    }
    out.extend_from_slice(&body[done..]);
    Ok((out, restored))
}
