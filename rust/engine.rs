//! Masking: scan, learn which originals still need a pseudonym, then rewrite.
//!
//! Split in two steps (`plan`, then `apply`) so the caller can fetch pseudonyms for the new
//! originals from a shared store in one round trip, between the steps, without the engine
//! knowing about stores.

use std::collections::HashSet;
use std::sync::Arc;

use crate::body::{request_targets, response_targets};
use crate::error::{Error, Result};
use crate::json;
use crate::mapping::Mapping;
use crate::pseudonym;
use crate::scanner::{Scanner, Source};
use crate::unmask::{Restored, Unmasker};

/// One identifier to replace, in the coordinates of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// First byte in the input.
    pub start: usize,
    /// One past the last byte in the input.
    pub end: usize,
    /// The pseudonym's kind.
    pub kind: Arc<str>,
    /// The value found.
    pub original: Arc<str>,
}

/// What `plan` found; turn it into output with [`Engine::apply`].
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every identifier, in input order.
    pub hits: Vec<Hit>,
    /// A request body's top-level `model`, read while parsing (routing needs it).
    pub model: Option<String>,
    /// A request body's top-level `stream`.
    pub stream: bool,
    /// Bytes of the longest string scanned (raw, as in the input), for size limits.
    pub longest: usize,
}

impl Plan {
    /// Distinct `(kind, original)` pairs with no pseudonym yet in `ns`.
    pub fn missing(&self, engine: &Engine, ns: &str) -> Vec<(Arc<str>, Arc<str>)> {
        let mut seen = HashSet::new();
        self.hits
            .iter()
            .filter(|h| engine.mapping.pseudonym(ns, &h.original).is_none())
            .filter(|h| seen.insert(h.original.clone()))
            .map(|h| (h.kind.clone(), h.original.clone()))
            .collect()
    }

    /// How many distinct originals the plan holds.
    pub fn distinct(&self) -> usize {
        self.hits
            .iter()
            .map(|h| &h.original)
            .collect::<HashSet<_>>()
            .len()
    }
}

/// A masked input, and what was replaced.
#[derive(Debug, Clone)]
pub struct Masked {
    /// The output bytes (UTF-8).
    pub output: Vec<u8>,
    /// `(hit, pseudonym)` in input order.
    pub replaced: Vec<(Hit, Arc<str>)>,
}

impl Masked {
    /// An unmasker for exactly the pseudonyms this masking issued: the ones "in play".
    pub fn unmasker(&self) -> Unmasker {
        Unmasker::new(
            self.replaced
                .iter()
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
}

impl Engine {
    /// Compiles a catalogue.
    pub fn new(catalogue: &crate::Catalogue) -> Result<Self> {
        Ok(Engine {
            scanner: Scanner::new(catalogue)?,
            mapping: Mapping::default(),
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
        let found = self.scanner.scan(original, None);
        !matches!(found.as_slice(), [f] if f.start == 0 && f.end == original.len())
    }

    /// Records a mapping decided by the store.
    pub fn learn(&self, ns: &str, kind: &str, n: u64, original: &str) -> Arc<str> {
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

    fn kind_of(&self, source: Source, ns_known: Option<&crate::scanner::Known>) -> Arc<str> {
        match source {
            Source::Entry(i) => self.scanner.entry(i).kind.as_str().into(),
            Source::Known(i) => {
                let p = &ns_known.expect("known hits come with a known set").pairs[i].1;
                pseudonym::parse(p).map_or("unknown", |(k, _)| k).into()
            }
        }
    }

    /// Finds what to mask in a plain text.
    pub fn plan_text(&self, text: &str, ns: &str) -> Plan {
        let known = self.mapping.known(ns);
        let hits = self
            .scanner
            .scan(text, known.as_deref())
            .into_iter()
            .map(|f| Hit {
                start: f.start,
                end: f.end,
                kind: self.kind_of(f.source, known.as_deref()),
                original: text[f.start..f.end].into(),
            })
            .collect();
        Plan {
            hits,
            model: None,
            stream: false,
            longest: text.len(),
        }
    }

    /// Finds what to mask in an Anthropic Messages request body.
    pub fn plan_request(&self, body: &[u8], ns: &str) -> Result<Plan> {
        let root = json::parse(body)?;
        if !matches!(root, json::Node::Object(_)) {
            return Err(Error::body("the body is not a JSON object"));
        }
        let known = self.mapping.known(ns);
        let mut hits = Vec::new();
        let mut longest = 0;
        for t in request_targets(body, &root) {
            longest = longest.max(t.s.end - t.s.start);
            let decoded = json::decode(body, t.s);
            let key = t.key.map(|k| json::decode(body, k));
            let before = key.as_ref().map_or(&b""[..], |k| k.text.as_bytes());
            for f in self
                .scanner
                .scan_with_context(&decoded.text, before, known.as_deref())
            {
                hits.push(Hit {
                    start: decoded.raw_offset(f.start),
                    end: decoded.raw_offset(f.end),
                    kind: self.kind_of(f.source, known.as_deref()),
                    original: decoded.text[f.start..f.end].into(),
                });
            }
        }
        hits.sort_by_key(|h| h.start);
        let model = match root.get(body, "model") {
            Some(json::Node::String(s)) => Some(json::decode(body, *s).text.into_owned()),
            _ => None,
        };
        let stream = matches!(root.get(body, "stream"), Some(json::Node::Bool(true)));
        Ok(Plan {
            hits,
            model,
            stream,
            longest,
        })
    }

    /// Replaces every hit with its pseudonym; fails (and outputs nothing) if one is unmapped.
    pub fn apply(&self, input: &[u8], plan: &Plan, ns: &str) -> Result<Masked> {
        let mut output = Vec::with_capacity(input.len());
        let mut replaced = Vec::with_capacity(plan.hits.len());
        let mut done = 0;
        for hit in &plan.hits {
            let Some(p) = self.mapping.pseudonym(ns, &hit.original) else {
                return Err(Error::body(
                    "an identifier has no pseudonym yet; nothing was masked",
                ));
            };
            output.extend_from_slice(&input[done..hit.start]);
            output.extend_from_slice(p.as_bytes());
            done = hit.end;
            replaced.push((hit.clone(), p));
        }
        output.extend_from_slice(&input[done..]);
        Ok(Masked { output, replaced })
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

/// Restores pseudonyms in a non-streamed Messages response: text blocks and tool inputs.
pub fn unmask_response(body: &[u8], unmasker: &Unmasker) -> Result<(Vec<u8>, Restored)> {
    let root = json::parse(body)?;
    let mut out = Vec::with_capacity(body.len());
    let mut restored = Restored::new();
    let mut done = 0;
    for t in response_targets(body, &root) {
        let raw = std::str::from_utf8(&body[t.s.start..t.s.end]).expect("checked UTF-8");
        let mut s = String::with_capacity(raw.len());
        unmasker.run(raw, &[], true, true, &mut s, &mut restored);
        out.extend_from_slice(&body[done..t.s.start]);
        out.extend_from_slice(s.as_bytes());
        done = t.s.end;
    }
    out.extend_from_slice(&body[done..]);
    Ok((out, restored))
}
