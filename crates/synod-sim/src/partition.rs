//! Network partitions as a directed graph: a set of cut links `a -> b`.
//!
//! A cut link loses every node-to-node message from `a` to `b`; `b -> a` is
//! a separate link. Four generators, one drawn per partition by the seed:
//! - `Split`: two sides, every link between them cut both ways;
//! - `Bridge`: two groups that do not reach each other, and one or two
//!   middle nodes that reach (and are reached by) both;
//! - `OneWay`: several links cut in one direction only (a node that can
//!   send but not hear, or hear but not send, to some peers);
//! - `Random`: every directed link cut independently with a drawn chance.
//!
//! Agreement bugs that need a node to follow one leader while still
//! acknowledging another (docs/TESTING.md, "Partitions") only show with
//! bridges and asymmetric graphs, and only with enough members that both
//! groups can hold a quorum with the middle: hence seven-member runs.

use std::collections::BTreeSet;
use std::fmt;

use rand::seq::SliceRandom;
use rand::Rng;
use synod_paxos::NodeId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Split,
    Bridge,
    OneWay,
    Random,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub shape: Shape,
    /// Directed links `(from, to)` whose messages are lost.
    pub cut: BTreeSet<(NodeId, NodeId)>,
}

impl Partition {
    pub fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.contains(&(from, to))
    }

    /// Cuts every link between `a` and `b`, both ways.
    fn cut_between(&mut self, a: &[NodeId], b: &[NodeId]) {
        for x in a {
            for y in b {
                self.cut.insert((*x, *y));
                self.cut.insert((*y, *x));
            }
        }
    }

    /// Draws one partition of nodes `1..=n` (n >= 3).
    pub fn draw(n: u8, rng: &mut impl Rng) -> Partition {
        assert!(n >= 3, "partitions need at least 3 nodes");
        let mut ids: Vec<NodeId> = (1..=n).collect();
        ids.shuffle(rng);
        let shape = match rng.gen_range(0..100) {
            0..=34 => Shape::Split,
            35..=64 => Shape::Bridge,
            65..=84 => Shape::OneWay,
            _ => Shape::Random,
        };
        let mut p = Partition { shape, cut: BTreeSet::new() };
        match shape {
            Shape::Split => {
                let size = usize::from(rng.gen_range(1..=n / 2));
                p.cut_between(&ids[..size], &ids[size..]);
            }
            Shape::Bridge => {
                // One or two middle nodes; each group gets at least one node.
                let middle = if n >= 5 { rng.gen_range(1..=2) } else { 1 };
                let rest = &ids[middle..];
                let split = rng.gen_range(1..rest.len());
                p.cut_between(&rest[..split], &rest[split..]);
            }
            Shape::OneWay => {
                // One to three nodes each lose some outgoing or incoming links.
                for node in ids.iter().take(rng.gen_range(1..=3)) {
                    let outgoing = rng.gen_bool(0.5);
                    for peer in (1..=n).filter(|p| p != node) {
                        if rng.gen_bool(0.6) {
                            p.cut.insert(if outgoing { (*node, peer) } else { (peer, *node) });
                        }
                    }
                }
            }
            Shape::Random => {
                let chance = rng.gen_range(0.1..=0.6);
                for from in 1..=n {
                    for to in (1..=n).filter(|t| *t != from) {
                        if rng.gen_bool(chance) {
                            p.cut.insert((from, to));
                        }
                    }
                }
            }
        }
        p
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} cut", self.shape)?;
        let mut links: Vec<String> = Vec::new();
        for (a, b) in &self.cut {
            if a < b && self.cut.contains(&(*b, *a)) {
                links.push(format!("{a}<->{b}"));
            } else if !(a > b && self.cut.contains(&(*b, *a))) {
                links.push(format!("{a}->{b}"));
            }
        }
        write!(f, " {}", links.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn every_shape_is_drawn_and_well_formed() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut seen = BTreeSet::new();
        for _ in 0..400 {
            for n in [3u8, 5, 7] {
                let p = Partition::draw(n, &mut rng);
                seen.insert(format!("{:?}", p.shape));
                assert!(p.cut.iter().all(|(a, b)| a != b && (1..=n).contains(a) && (1..=n).contains(b)));
                match p.shape {
                    Shape::Split => {
                        // Symmetric, and some link is cut.
                        assert!(!p.cut.is_empty());
                        assert!(p.cut.iter().all(|(a, b)| p.blocks(*b, *a)));
                    }
                    Shape::Bridge => {
                        // Some nodes reach everyone both ways: the middle.
                        let middle: Vec<NodeId> =
                            (1..=n).filter(|m| (1..=n).all(|o| !p.blocks(*m, o) && !p.blocks(o, *m))).collect();
                        assert!((1..=2).contains(&middle.len()), "{p}");
                        assert!(!p.cut.is_empty());
                    }
                    Shape::OneWay | Shape::Random => {}
                }
            }
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    #[test]
    fn a_cut_link_is_one_direction() {
        let p = Partition { shape: Shape::OneWay, cut: [(1, 2)].into_iter().collect() };
        assert!(p.blocks(1, 2));
        assert!(!p.blocks(2, 1));
        assert_eq!(p.to_string(), "OneWay cut 1->2");
    }
}
