//! A set with a fixed capacity that forgets its oldest member to admit a new
//! one: per-peer memories (what a peer has, what we asked it for) that must
//! not grow with an attacker's traffic.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

/// A first-in, first-out bounded set. Lookups only: it is never iterated, so
/// its hash order cannot leak into what the gossip core emits.
#[derive(Clone, Debug)]
pub struct BoundedSet<T: Eq + Hash + Clone> {
    members: HashSet<T>,
    order: VecDeque<T>,
    max: usize,
}

impl<T: Eq + Hash + Clone> BoundedSet<T> {
    /// An empty set holding at most `max` members.
    pub fn new(max: usize) -> BoundedSet<T> {
        assert!(max > 0, "a bounded set holds something");
        BoundedSet { members: HashSet::new(), order: VecDeque::new(), max }
    }

    /// True if `item` is remembered.
    pub fn contains(&self, item: &T) -> bool {
        self.members.contains(item)
    }

    /// Remembers `item`, forgetting the oldest member if full. Returns true
    /// if it was new.
    pub fn insert(&mut self, item: T) -> bool {
        if self.members.contains(&item) {
            return false;
        }
        if self.order.len() == self.max {
            let oldest = self.order.pop_front().expect("full means non-empty");
            self.members.remove(&oldest);
        }
        self.members.insert(item.clone());
        self.order.push_back(item);
        assert!(self.order.len() <= self.max && self.members.len() == self.order.len(), "bounded set in shape");
        true
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.members.clear();
        self.order.clear();
    }

    /// Members held.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The capacity.
    pub fn max(&self) -> usize {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_when_full() {
        let mut s = BoundedSet::new(3);
        assert!(s.insert(1) && s.insert(2) && s.insert(3));
        assert!(!s.insert(2), "already present");
        assert!(s.insert(4));
        assert_eq!(s.len(), 3);
        assert!(!s.contains(&1) && s.contains(&2) && s.contains(&4));
        s.clear();
        assert!(s.is_empty() && !s.contains(&4));
    }
}
