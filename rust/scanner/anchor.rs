//! Where a pattern's matches can start: the literal that anchors a search for it.
//!
//! A multi-pattern scanner is only as fast as its slowest pattern. Most catalogue entries
//! contain a literal every match must hold (`arn:`, `AKIA`, `.amazonaws.com`, `vpc-`) at a
//! bounded distance from where the match starts; one pass of a literal searcher then finds
//! every place worth a look, and each pattern's own DFA runs only there. Entries with no such
//! literal but with context words are anchored on their words; the rest are searched whole.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// How the scanner finds the places where a pattern can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// Every match starts with one of these (lowercase) literals, each ending in `-`: found
    /// from the `-` backwards (the `<prefix>-<hex>` families).
    Dash(Vec<Vec<u8>>),
    /// Every match holds one of these (lowercase) literals, starting `dmin..=dmax` bytes
    /// after the match starts.
    Literal {
        literals: Vec<Vec<u8>>,
        dmin: usize,
        dmax: usize,
    },
    /// Every match starts a line (`(?m:^)`) and holds one of these (lowercase) literals on
    /// that same line, after a stretch of unbounded length: tried at the start of each line
    /// that holds one.
    LineLiteral(Vec<Vec<u8>>),
    /// No literal, but every match starts a line (`(?m:^)`): tried at each line start.
    LineStart,
    /// No literal: every match must be named by a context word.
    Context,
    /// Neither: searched over the whole text.
    Scan,
}

/// Literal sets larger than this are not worth a slot in the shared literal searcher.
const MAX_LITERALS: usize = 32;
/// A literal more than this far from the match start makes for too many starts to try.
const MAX_SPREAD: usize = 512;

fn parse(regex: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(regex)
        .ok()
}

/// The top-level sequence of a pattern, with capture groups opened (`(?P<id>..)` wraps the
/// core of many entries; what is inside still has to match in order).
fn flatten(hir: &Hir, out: &mut Vec<Hir>) {
    match hir.kind() {
        HirKind::Concat(items) => items.iter().for_each(|h| flatten(h, out)),
        HirKind::Capture(c) => flatten(&c.sub, out),
        _ => out.push(hir.clone()),
    }
}

/// The lowercase letter of a class of two single characters that are one ASCII letter in
/// both cases.
fn one_letter([(a, a_end), (b, b_end)]: [(u32, u32); 2]) -> Option<u8> {
    let (upper, lower) = (u8::try_from(a).ok()?, u8::try_from(b).ok()?);
    (a == a_end && b == b_end && upper.is_ascii_uppercase() && upper.to_ascii_lowercase() == lower)
        .then_some(lower)
}

/// `hir` with every class that is one ASCII letter in either case (`(?i:pass)` is `[Pp][Aa]..`)
/// as that letter in lowercase: the literals are matched case-insensitively anyway, and as
/// classes they multiply into more literals than the extractor keeps (it gives up on `(?i)`
/// words of five letters or more).
fn fold_case(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(class) => {
            let pair: Option<[(u32, u32); 2]> = match class {
                Class::Bytes(c) => match c.ranges() {
                    [a, b] => Some([a, b].map(|r| (r.start().into(), r.end().into()))),
                    _ => None,
                },
                Class::Unicode(c) => match c.ranges() {
                    [a, b] => Some([a, b].map(|r| (r.start().into(), r.end().into()))),
                    _ => None,
                },
            };
            pair.and_then(one_letter)
                .map_or_else(|| hir.clone(), |l| Hir::literal([l]))
        }
        HirKind::Concat(v) => Hir::concat(v.iter().map(fold_case).collect()),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(fold_case).collect()),
        HirKind::Repetition(r) => Hir::repetition(regex_syntax::hir::Repetition {
            sub: Box::new(fold_case(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(regex_syntax::hir::Capture {
            sub: Box::new(fold_case(&c.sub)),
            ..c.clone()
        }),
        _ => hir.clone(),
    }
}

/// The lowercase literals every match of `hir` starts with, if that set is small and useful.
fn prefixes(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix)
        .limit_class(2)
        .limit_repeat(4)
        .limit_literal_len(16)
        .limit_total(256);
    let seq = ex.extract(&fold_case(hir));
    let literals = seq.literals()?;
    let mut out: Vec<Vec<u8>> = literals
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    out.sort();
    out.dedup();
    // A literal that is a prefix of another one already finds every start the longer one would.
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(out.len());
    for l in out {
        if !kept.iter().any(|k| l.starts_with(k)) {
            kept.push(l);
        }
    }
    let ok = !kept.is_empty() && kept.len() <= MAX_LITERALS && kept.iter().all(|l| !l.is_empty());
    ok.then_some(kept)
}

/// How good a literal set is as an anchor: longer shortest literal first, then fewer literals.
fn score(literals: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = literals.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(literals.len()))
}

/// A literal anchor: the literals, and how far after the match start one of them begins.
type Found = (Vec<Vec<u8>>, usize, usize);

fn better(a: &Found, b: &Found) -> bool {
    let (s, t) = (score(&a.0), score(&b.0));
    s > t || (s == t && a.2 - a.1 < b.2 - b.1)
}

/// The best literal anchor of `hir`: a literal set every match holds at a bounded offset. At
/// each step of the top-level sequence, either the literals that start the rest of it, or,
/// for an alternation, one anchor per branch combined.
fn literal_anchor(hir: &Hir) -> Option<Found> {
    let mut items = Vec::new();
    flatten(hir, &mut items);
    let mut best: Option<Found> = None;
    let (mut dmin, mut dmax) = (0usize, Some(0usize));
    for j in 0..items.len() {
        let Some(hi) = dmax else { break };
        if hi - dmin > MAX_SPREAD {
            break;
        }
        let mut here: Vec<Found> = Vec::new();
        if let Some(lits) = prefixes(&Hir::concat(items[j..].to_vec())) {
            here.push((lits, dmin, hi));
        }
        if let HirKind::Alternation(branches) = items[j].kind() {
            let per: Option<Vec<Found>> = branches.iter().map(literal_anchor).collect();
            if let Some(per) = per {
                let mut lits: Vec<Vec<u8>> = per.iter().flat_map(|f| f.0.clone()).collect();
                lits.sort();
                lits.dedup();
                let lo = per.iter().map(|f| f.1).min().unwrap_or(0);
                let top = per.iter().map(|f| f.2).max().unwrap_or(0);
                if lits.len() <= MAX_LITERALS {
                    here.push((lits, dmin + lo, hi + top));
                }
            }
        }
        for f in here {
            if best.as_ref().is_none_or(|b| better(&f, b)) {
                best = Some(f);
            }
        }
        let p = items[j].properties();
        dmin += p.minimum_len().unwrap_or(0);
        dmax = match (dmax, p.maximum_len()) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }
    best
}

/// Whether `hir` can match a line break (`\n` or `\r`, so whatever the line mode).
fn crosses_lines(hir: &Hir) -> bool {
    let breaks = |lo: u32, hi: u32| {
        [b'\n', b'\r']
            .iter()
            .any(|&b| (lo..=hi).contains(&u32::from(b)))
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => l.0.iter().any(|&b| b == b'\n' || b == b'\r'),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| breaks(r.start().into(), r.end().into())),
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .any(|r| breaks(r.start().into(), r.end().into())),
        HirKind::Repetition(r) => crosses_lines(&r.sub),
        HirKind::Capture(c) => crosses_lines(&c.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(crosses_lines),
    }
}

/// For a pattern that starts a line: the best literal set every match holds on its first
/// line, however far from the start (what comes before it cannot cross a line break).
fn line_literal(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut items = Vec::new();
    flatten(hir, &mut items);
    if !matches!(
        items.first().map(Hir::kind),
        Some(HirKind::Look(Look::StartLF | Look::StartCRLF))
    ) {
        return None;
    }
    let mut best: Option<Vec<Vec<u8>>> = None;
    for j in 1..items.len() {
        if let Some(lits) = prefixes(&Hir::concat(items[j..].to_vec())) {
            if best.as_ref().is_none_or(|b| score(&lits) > score(b)) {
                best = Some(lits);
            }
        }
        if crosses_lines(&items[j]) {
            break;
        }
    }
    best.filter(|l| score(l).0 >= 3)
}

fn starts_a_line(hir: &Hir) -> bool {
    let mut items = Vec::new();
    flatten(hir, &mut items);
    matches!(
        items.first().map(Hir::kind),
        Some(HirKind::Look(Look::StartLF | Look::StartCRLF | Look::Start))
    )
}

/// Chooses the anchor of one pattern.
pub(crate) fn anchor_of(regex: &str, has_context: bool, has_id: bool) -> Anchor {
    let Some(hir) = parse(regex) else {
        return Anchor::Scan;
    };
    match literal_anchor(&hir) {
        Some((literals, 0, 0))
            if literals.iter().all(|l| {
                l.len() >= 2
                    && l.ends_with(b"-")
                    && l.iter()
                        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }) =>
        {
            Anchor::Dash(literals)
        }
        Some((literals, dmin, dmax))
            if score(&literals).0 >= 3 || (score(&literals).0 >= 2 && dmax == dmin) =>
        {
            Anchor::Literal {
                literals,
                dmin,
                dmax,
            }
        }
        _ if starts_a_line(&hir) => {
            line_literal(&hir).map_or(Anchor::LineStart, Anchor::LineLiteral)
        }
        _ if has_context && !has_id => Anchor::Context,
        _ => Anchor::Scan,
    }
}

/// The bytes a match can start with (`None`: any byte).
pub(crate) fn first_bytes(regex: &str) -> Option<Box<[bool; 256]>> {
    let hir = parse(regex)?;
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix)
        .limit_class(256)
        .limit_literal_len(1)
        .limit_total(256);
    let seq = ex.extract(&hir);
    let literals = seq.literals()?;
    let mut set = Box::new([false; 256]);
    for l in literals {
        let &first = l.as_bytes().first()?;
        set[first as usize] = true;
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn anchors_of_catalogue_shapes() {
        let rows: &[(&str, bool, bool, Anchor)] = &[
            (
                r"i-(?:[0-9a-f]{17}|[0-9a-f]{8})",
                false,
                false,
                Anchor::Dash(lits(&["i-"])),
            ),
            (
                r"tgw-attach-[0-9a-f]{8}",
                false,
                false,
                Anchor::Dash(lits(&["tgw-attach-"])),
            ),
            (
                r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
                false,
                false,
                Anchor::Literal {
                    literals: lits(&["akia", "asia"]),
                    dmin: 0,
                    dmax: 0,
                },
            ),
            (
                r"(?i:secret)[:=]\s*(?P<id>[A-Za-z0-9/+]{16,})",
                false,
                true,
                Anchor::Literal {
                    literals: lits(&["secret:", "secret="]),
                    dmin: 0,
                    dmax: 0,
                },
            ),
            (
                r"\b[a-z0-9]{14}\.cloudfront\.net\b",
                false,
                false,
                Anchor::Literal {
                    literals: lits(&[".cloudfront.net"]),
                    dmin: 14,
                    dmax: 14,
                },
            ),
            (r"\b[0-9]{12}\b", true, false, Anchor::Context),
            (r"\b[0-9]{12}\b", false, false, Anchor::Scan),
            (
                r"(?:\b[A-Z_]{0,30}BUCKET=|(?:\b|_)(?i:bucket)|[a-z0-9]Bucket)(?P<id>[a-z]+)",
                false,
                true,
                Anchor::Literal {
                    literals: lits(&["bucket", "bucket="]),
                    dmin: 0,
                    dmax: 30,
                },
            ),
            (
                r"(?m:^)[0-9]{4}-[0-9]{2} (?P<id>[a-z]+)",
                false,
                true,
                Anchor::LineStart,
            ),
            (
                r"(?m:^)[ \t]*[A-Za-z0-9_]*(?i:pass(?:word|wd)|pwd)[A-Za-z0-9_]*:[ \t]+(?P<id>\S+)",
                false,
                true,
                Anchor::LineLiteral(lits(&["passwd", "password", "pwd"])),
            ),
            (
                // The literal is on a later line: only line starts will do.
                r"(?m:^)[ \t]+[A-Za-z0-9]*\s+Default:[ \t]*(?P<id>[0-9]{12})",
                false,
                true,
                Anchor::LineStart,
            ),
            (
                // A literal that starts the line break itself is still on the first line.
                r"(?m:^)[ \t]+[A-Za-z0-9]*:\r?\n[ \t]+Default:[ \t]*(?P<id>[0-9]{12})",
                false,
                true,
                Anchor::LineLiteral(lits(&[":\n\t", ":\n ", ":\r\n\t", ":\r\n "])),
            ),
            (
                r"(?m:^)[A-Za-z]\s*Bucket=(?P<id>[a-z]+)",
                false,
                true,
                Anchor::LineStart,
            ),
        ];
        for (regex, ctx, id, want) in rows {
            assert_eq!(&anchor_of(regex, *ctx, *id), want, "{regex}");
        }
    }

    #[test]
    fn first_bytes_of_a_class_start() {
        let set = first_bytes(r"\b[0-9]{12}\b").unwrap();
        assert!(set[b'7' as usize] && !set[b'a' as usize]);
        assert!(first_bytes(r"(?s:.)x").is_none_or(|s| s.iter().filter(|&&b| b).count() > 200));
    }
}
