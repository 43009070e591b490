//! Choosing among overlapping candidates without ever leaving a byte of one unmasked.

use std::collections::BTreeMap;

use super::Source;

/// A validated value before overlaps are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub priority: u32,
    pub source: Source,
}

/// Keeps non-overlapping candidates: priority, then length, then position, then rule. A
/// candidate that overlaps what was kept but is not covered by it is merged into it (the
/// union keeps the source of the higher-priority one): both values are masked, whole.
pub(crate) fn resolve(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    if cands.len() <= 1 {
        return cands;
    }
    cands.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            .then(a.source.cmp(&b.source))
    });
    // Kept spans by start; they never overlap each other.
    let mut kept: BTreeMap<usize, Candidate> = BTreeMap::new();
    for c in cands {
        let overlapping: Vec<usize> = kept
            .range(..c.end)
            .rev()
            .take_while(|(_, k)| k.end > c.start)
            .map(|(&s, _)| s)
            .collect();
        if overlapping.is_empty() {
            kept.insert(c.start, c);
            continue;
        }
        // Covered when the kept spans it touches leave no gap over it.
        let mut covered = true;
        let mut at = c.start;
        for s in overlapping.iter().rev() {
            let k = kept[s];
            if k.start > at {
                covered = false;
                break;
            }
            at = at.max(k.end);
        }
        if covered && at >= c.end {
            continue;
        }
        let mut merged = kept[overlapping.last().expect("not empty")];
        for s in &overlapping {
            let k = kept.remove(s).expect("present");
            merged.start = merged.start.min(k.start);
            merged.end = merged.end.max(k.end);
        }
        merged.start = merged.start.min(c.start);
        merged.end = merged.end.max(c.end);
        kept.insert(merged.start, merged);
    }
    kept.into_values().collect()
}

/// Adds the known values found in the same text to what the catalogue kept. A known value
/// inside a longer kept value stays part of it (the text masks the same whatever the
/// namespace knows); otherwise the known value wins, merged with anything it overlaps.
pub(crate) fn with_known(picked: Vec<Candidate>, known: Vec<Candidate>) -> Vec<Candidate> {
    if known.is_empty() {
        return picked;
    }
    let mut all = picked.clone();
    for k in known {
        let i = picked.partition_point(|c| c.start <= k.start);
        let inside = i > 0 && {
            let c = &picked[i - 1];
            c.end >= k.end && (c.end - c.start > k.end - k.start || c.start < k.start)
        };
        if !inside {
            all.push(Candidate {
                priority: u32::MAX,
                ..k
            });
        }
    }
    resolve(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(start: usize, end: usize, priority: u32, i: usize) -> Candidate {
        Candidate {
            start,
            end,
            priority,
            source: Source::Entry(i),
        }
    }

    #[test]
    fn table() {
        type Row = (&'static [(usize, usize, u32)], &'static [(usize, usize)]);
        let rows: &[Row] = &[
            (&[(0, 10, 1), (2, 6, 9)], &[(0, 10)]), // high inside low: merged whole
            (&[(0, 4, 5), (4, 8, 5)], &[(0, 4), (4, 8)]), // touching, not overlapping
            (&[(0, 5, 5), (0, 8, 5)], &[(0, 8)]),   // same start: the longer
            (&[(0, 8, 9), (2, 4, 1)], &[(0, 8)]),   // covered
            (&[(0, 6, 9), (4, 12, 1)], &[(0, 12)]), // partial: union
            (&[(0, 4, 9), (6, 9, 9), (3, 7, 1)], &[(0, 9)]), // bridges two
        ];
        for (input, want) in rows {
            let cands = input
                .iter()
                .enumerate()
                .map(|(i, &(s, e, p))| c(s, e, p, i))
                .collect();
            let got: Vec<(usize, usize)> =
                resolve(cands).iter().map(|c| (c.start, c.end)).collect();
            assert_eq!(&got, want, "{input:?}");
        }
    }
}
