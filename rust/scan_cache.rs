//! Pass 1, and pass 2 against the namespace's known sets, remembered across requests.
//!
//! Claude Code resends the whole conversation every turn, so nearly every string of a request
//! was scanned, byte for byte, in the request before. What the catalogue finds in a string
//! depends only on the string, its JSON key and the catalogue (not on the namespace or the
//! known set, which pass 2 handles afresh every time), so a remembered result is exactly the
//! fresh one. Pass 2 searches a string for the namespace's known values; the namespace holds them
//! as a few immutable sets (rust/known.rs), so what one set finds in one string is as fixed as
//! pass 1's result and is remembered under the string's key and the set's number. A set that
//! grows is a new set with a new number: nothing remembered can go stale.
//! Entries hold offsets, never text; the key is a seeded 128-bit hash of the string
//! (the seed is random per process, so nobody can aim a collision at another string), checked
//! against the length too.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use xxhash_rust::xxh3::Xxh3;

use crate::scanner::Candidate;

/// Strings shorter than this are scanned every time (a scan has a fixed cost of a few
/// thousand instructions, so nearly every string is worth remembering).
const MIN_CACHED: usize = 32;

/// What was computed: which scan of the string a result belongs to.
#[derive(Clone, Copy)]
pub(crate) enum Scan {
    /// Pass 1 over a string's view (its joined second view found nothing more).
    View,
    /// The catalogue over a seam window between two text blocks, as is.
    Seam,
}

/// What pass 1 kept in one string, in view coordinates.
pub(crate) type Picked = Arc<[Candidate]>;

/// A bounded map from string to pass-1 result, in two generations: when the newer one is full
/// the older is dropped, so it holds at most twice `limit` entries and what every turn reuses
/// stays in.
pub(crate) struct ScanCache {
    seed: u64,
    limit: usize,
    generations: Mutex<[HashMap<(u128, usize), Picked>; 2]>,
}

impl ScanCache {
    /// A cache of at most `2 * limit` strings; `limit == 0` turns it off.
    pub(crate) fn new(limit: usize) -> ScanCache {
        ScanCache {
            seed: RandomState::new().hash_one(0u8),
            limit,
            generations: Mutex::new([HashMap::new(), HashMap::new()]),
        }
    }

    /// The cache key of a string and its key, or `None` when it is not worth remembering.
    pub(crate) fn key(
        &self,
        scan: Scan,
        json_key: Option<&[u8]>,
        text: &str,
    ) -> Option<(u128, usize)> {
        if self.limit == 0 || text.len() < MIN_CACHED {
            return None;
        }
        let mut h = Xxh3::with_seed(self.seed);
        h.update(&[scan as u8]);
        match json_key {
            Some(k) => {
                h.update(&[1]);
                h.update(&(k.len() as u64).to_le_bytes());
                h.update(k);
            }
            None => h.update(&[0]),
        }
        h.update(text.as_bytes());
        Some((h.digest128(), text.len()))
    }

    /// The key of what the known set numbered `set` finds in the string whose key is `text`.
    pub(crate) fn known_key(&self, text: (u128, usize), set: u64) -> (u128, usize) {
        let mut h = Xxh3::with_seed(self.seed);
        h.update(&[2]);
        h.update(&set.to_le_bytes());
        h.update(&text.0.to_le_bytes());
        (h.digest128(), text.1)
    }

    pub(crate) fn get(&self, key: (u128, usize)) -> Option<Picked> {
        let mut g = self.generations.lock().unwrap();
        if let Some(p) = g[0].get(&key) {
            return Some(p.clone());
        }
        let p = g[1].remove(&key)?;
        Self::insert(&mut g, self.limit, key, p.clone());
        Some(p)
    }

    pub(crate) fn put(&self, key: (u128, usize), picked: Picked) {
        let mut g = self.generations.lock().unwrap();
        Self::insert(&mut g, self.limit, key, picked);
    }

    fn insert(
        g: &mut [HashMap<(u128, usize), Picked>; 2],
        limit: usize,
        key: (u128, usize),
        picked: Picked,
    ) {
        if g[0].len() >= limit {
            g[1] = std::mem::take(&mut g[0]);
        }
        g[0].insert(key, picked);
    }

    /// How many strings it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let g = self.generations.lock().unwrap();
        g[0].len() + g[1].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanner::Source;

    fn picked(n: usize) -> Picked {
        vec![Candidate {
            start: n,
            end: n + 1,
            priority: 1,
            source: Source::Entry(0),
        }]
        .into()
    }

    #[test]
    fn short_strings_and_a_zero_limit_are_not_cached() {
        let text = "x".repeat(MIN_CACHED);
        assert!(ScanCache::new(8).key(Scan::View, None, "short").is_none());
        assert!(ScanCache::new(0).key(Scan::View, None, &text).is_none());
        assert!(ScanCache::new(8).key(Scan::View, None, &text).is_some());
    }

    #[test]
    fn the_json_key_is_part_of_the_key() {
        let c = ScanCache::new(8);
        let text = "y".repeat(MIN_CACHED);
        let keys = [
            c.key(Scan::View, None, &text),
            c.key(Scan::View, Some(b""), &text),
            c.key(Scan::View, Some(b"text"), &text),
            c.key(Scan::View, Some(b"tex"), &format!("t{text}")),
            c.key(Scan::Seam, None, &text),
        ];
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                assert_ne!(keys[i], keys[j], "{i} {j}");
            }
        }
    }

    #[test]
    fn bounded_and_keeps_what_is_reused() {
        let c = ScanCache::new(4);
        let text = |i: usize| format!("{i:0>300}");
        let hot = c.key(Scan::View, None, &text(0)).unwrap();
        c.put(hot, picked(0));
        for i in 1..100 {
            let k = c.key(Scan::View, None, &text(i)).unwrap();
            c.put(k, picked(i));
            assert_eq!(
                c.get(hot).unwrap()[0].start,
                0,
                "the string every turn reuses stays"
            );
            assert!(c.len() <= 8);
        }
    }
}
