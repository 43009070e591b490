//! The in-process map of one engine: per namespace, original <-> pseudonym.
//!
//! In the gateway this is a cache in front of the shared store; without a store it is the
//! whole map, and it allocates numbers itself.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::known::{Known, Needle, Segments};
use crate::pseudonym;
use crate::scanner::ENCODED_KIND;
use crate::view::View;

#[derive(Default)]
struct Space {
    to_pseudonym: HashMap<Arc<str>, Arc<str>>,
    to_original: HashMap<Arc<str>, Arc<str>>,
    /// Highest number seen per kind, so local allocation never collides with learned ones.
    high: HashMap<Arc<str>, u64>,
    /// What the second pass looks for: originals the catalogue cannot find on their own (they
    /// needed context), and the encodings of every original.
    known: Segments,
    /// Needles added since the known set's automata were last built.
    pending: Vec<Needle>,
}

/// Namespaced bidirectional map. `Send + Sync`; readers never block each other.
#[derive(Default)]
pub struct Mapping {
    spaces: RwLock<HashMap<String, Space>>,
}

impl Mapping {
    /// The pseudonym of `original`, if mapped.
    pub fn pseudonym(&self, ns: &str, original: &str) -> Option<Arc<str>> {
        self.spaces
            .read()
            .unwrap()
            .get(ns)?
            .to_pseudonym
            .get(original)
            .cloned()
    }

    /// The original behind `pseudonym`, if issued in this namespace.
    pub fn original(&self, ns: &str, pseudonym: &str) -> Option<Arc<str>> {
        self.spaces
            .read()
            .unwrap()
            .get(ns)?
            .to_original
            .get(pseudonym)
            .cloned()
    }

    /// Records a mapping decided elsewhere (the store) and returns its pseudonym.
    /// `context_dependent`: the catalogue would not find the original without its context.
    pub fn learn(
        &self,
        ns: &str,
        kind: &str,
        n: u64,
        original: &str,
        context_dependent: bool,
    ) -> Arc<str> {
        let mut spaces = self.spaces.write().unwrap();
        let space = spaces.entry(ns.to_owned()).or_default();
        insert(space, kind, n, original, context_dependent)
    }

    /// Maps `original` with the next local number of `kind` (the store-less mode).
    pub fn allocate(
        &self,
        ns: &str,
        kind: &str,
        original: &str,
        context_dependent: bool,
    ) -> Arc<str> {
        let mut spaces = self.spaces.write().unwrap();
        let space = spaces.entry(ns.to_owned()).or_default();
        if let Some(p) = space.to_pseudonym.get(original) {
            return p.clone();
        }
        let n = space.high.get(kind).copied().unwrap_or(0) + 1;
        insert(space, kind, n, original, context_dependent)
    }

    /// Makes sure local allocation never issues `kind-n` (a literal of the input looks like it).
    pub fn reserve(&self, ns: &str, kind: &str, n: u64) {
        let mut spaces = self.spaces.write().unwrap();
        let space = spaces.entry(ns.to_owned()).or_default();
        let high = space.high.entry(kind.into()).or_insert(0);
        *high = (*high).max(n);
    }

    /// Every pseudonym issued in a namespace.
    pub fn pseudonyms(&self, ns: &str) -> Vec<Arc<str>> {
        self.spaces
            .read()
            .unwrap()
            .get(ns)
            .map(|s| s.to_original.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many mappings a namespace holds.
    pub fn len(&self, ns: &str) -> usize {
        self.spaces
            .read()
            .unwrap()
            .get(ns)
            .map_or(0, |s| s.to_original.len())
    }

    /// Drops a namespace from this process (the store keeps it).
    pub fn forget(&self, ns: &str) {
        self.spaces.write().unwrap().remove(ns);
    }

    /// The automata of a namespace's known originals, oldest first; only what was added since
    /// the last call is built.
    pub(crate) fn known(&self, ns: &str) -> Vec<Arc<Known>> {
        {
            let spaces = self.spaces.read().unwrap();
            let Some(space) = spaces.get(ns) else {
                return Vec::new();
            };
            if space.pending.is_empty() {
                return space.known.sets().to_vec();
            }
        }
        let mut spaces = self.spaces.write().unwrap();
        let Some(space) = spaces.get_mut(ns) else {
            return Vec::new();
        };
        let pending = std::mem::take(&mut space.pending);
        space.known.add(pending);
        space.known.sets().to_vec()
    }
}

fn insert(
    space: &mut Space,
    kind: &str,
    n: u64,
    original: &str,
    context_dependent: bool,
) -> Arc<str> {
    let p: Arc<str> = pseudonym::format(kind, n).into();
    if let Some(old) = space.to_pseudonym.get(original) {
        if *old == p {
            return p;
        }
        // The store gave this original another number (its namespace expired and it came back):
        // the old pseudonym no longer means it.
        let old = old.clone();
        if space
            .to_original
            .get(&old)
            .is_some_and(|o| &**o == original)
        {
            space.to_original.remove(&old);
        }
    }
    let o: Arc<str> = original.into();
    if let Some(previous) = space.to_original.insert(p.clone(), o.clone()) {
        // The store guarantees one original per number; if the cache disagrees, the store wins.
        space.to_pseudonym.remove(&previous);
    }
    space.to_pseudonym.insert(o.clone(), p.clone());
    if context_dependent {
        space.pending.push(Needle {
            text: View::build(&o).text.as_ref().into(),
            kind: kind.into(),
            whole: true,
        });
    }
    if kind != ENCODED_KIND {
        space.pending.extend(crate::engine::encoded_needles(&o));
    }
    let high = space.high.entry(kind.into()).or_insert(0);
    *high = (*high).max(n);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_stably_per_namespace() {
        let m = Mapping::default();
        assert_eq!(&*m.allocate("a", "ec2", "i-1", false), "ec2-001");
        assert_eq!(&*m.allocate("a", "ec2", "i-2", false), "ec2-002");
        assert_eq!(&*m.allocate("a", "ec2", "i-1", false), "ec2-001");
        assert_eq!(&*m.allocate("b", "ec2", "i-2", false), "ec2-001");
        assert_eq!(m.original("a", "ec2-002").as_deref(), Some("i-2"));
        assert_eq!(m.original("b", "ec2-002"), None);
    }

    #[test]
    fn local_allocation_continues_after_learned_numbers() {
        let m = Mapping::default();
        m.learn("a", "vpc", 7, "vpc-x", false);
        assert_eq!(&*m.allocate("a", "vpc", "vpc-y", false), "vpc-008");
    }

    #[test]
    fn learning_a_new_number_replaces_the_old_one() {
        let m = Mapping::default();
        m.learn("a", "secret", 1, "s3cr3t", true);
        assert_eq!(&*m.learn("a", "secret", 4, "s3cr3t", true), "secret-004");
        assert_eq!(m.pseudonym("a", "s3cr3t").as_deref(), Some("secret-004"));
        assert_eq!(m.original("a", "secret-001"), None);
        assert_eq!(m.original("a", "secret-004").as_deref(), Some("s3cr3t"));
        assert_eq!(m.len("a"), 1);
    }

    #[test]
    fn known_set_follows_changes() {
        let m = Mapping::default();
        assert!(m.known("a").is_empty());
        m.allocate("a", "acct", "123456789012", true);
        let plain = |m: &Mapping| {
            m.known("a")
                .iter()
                .flat_map(|k| (0..k.len()).map(move |i| k.needle(i)))
                .filter(|n| n.whole && n.kind.as_ref() != ENCODED_KIND)
                .count()
        };
        let total = |m: &Mapping| m.known("a").iter().map(|k| k.len()).sum::<usize>();
        assert_eq!(plain(&m), 1);
        let before = total(&m);
        m.allocate("a", "ec2", "i-0123456789abcdef0", false);
        assert_eq!(plain(&m), 1, "self-evident originals need no plain needle");
        assert!(total(&m) > before, "but their encodings are looked for");
        m.allocate("a", "acct", "210987654321", true);
        assert_eq!(plain(&m), 2);
    }
}
