//! The in-process map of one engine: per namespace, original <-> pseudonym.
//!
//! In the gateway this is a cache in front of the shared store; without a store it is the
//! whole map, and it allocates numbers itself.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::known::{Known, Needle};
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
    needles: Vec<Needle>,
    known: Option<Arc<Known>>,
    known_fresh: bool,
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

    /// The automaton of a namespace's known originals, rebuilt only after it changed.
    pub(crate) fn known(&self, ns: &str) -> Option<Arc<Known>> {
        {
            let spaces = self.spaces.read().unwrap();
            let space = spaces.get(ns)?;
            if space.known_fresh {
                return space.known.clone();
            }
        }
        let mut spaces = self.spaces.write().unwrap();
        let space = spaces.get_mut(ns)?;
        if !space.known_fresh {
            space.known = Known::new(space.needles.clone()).map(Arc::new);
            space.known_fresh = true;
        }
        space.known.clone()
    }
}

fn insert(
    space: &mut Space,
    kind: &str,
    n: u64,
    original: &str,
    context_dependent: bool,
) -> Arc<str> {
    if let Some(p) = space.to_pseudonym.get(original) {
        return p.clone();
    }
    let p: Arc<str> = pseudonym::format(kind, n).into();
    let o: Arc<str> = original.into();
    if let Some(previous) = space.to_original.insert(p.clone(), o.clone()) {
        // The store guarantees one original per number; if the cache disagrees, the store wins.
        space.to_pseudonym.remove(&previous);
    }
    space.to_pseudonym.insert(o.clone(), p.clone());
    let before = space.needles.len();
    if context_dependent {
        space.needles.push(Needle {
            text: View::build(&o).text.as_ref().into(),
            kind: kind.into(),
            whole: true,
        });
    }
    if kind != ENCODED_KIND {
        space.needles.extend(crate::engine::encoded_needles(&o));
    }
    if space.needles.len() > before {
        space.known_fresh = false;
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
    fn known_set_follows_changes() {
        let m = Mapping::default();
        assert!(m.known("a").is_none());
        m.allocate("a", "acct", "123456789012", true);
        let plain = |m: &Mapping| {
            let k = m.known("a").unwrap();
            (0..k.len())
                .filter(|&i| k.needle(i).whole && k.needle(i).kind.as_ref() != ENCODED_KIND)
                .count()
        };
        assert_eq!(plain(&m), 1);
        let before = m.known("a").unwrap().len();
        m.allocate("a", "ec2", "i-0123456789abcdef0", false);
        assert_eq!(plain(&m), 1, "self-evident originals need no plain needle");
        assert!(
            m.known("a").unwrap().len() > before,
            "but their encodings are looked for"
        );
        m.allocate("a", "acct", "210987654321", true);
        assert_eq!(plain(&m), 2);
    }
}
