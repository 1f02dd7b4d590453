//! A 3-node Paxos cluster on a perfect network (every message delivered at
//! once, every persist durable at once), run until a leader is elected and
//! has chosen its configuration and a batch. From it: a replica in each role.

use std::collections::VecDeque;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synod_paxos::{Action, Batch, BatchId, ClusterConfig, Command, Event, Message, Replica, ReplicaOptions, RoleKind};

pub const MEMBERS: [u8; 3] = [1, 2, 3];
const TICK_MS: u64 = 10;
const SETUP_TICKS_MAX: u64 = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

impl Role {
    pub fn from_byte(b: u8) -> Role {
        match b % 3 {
            0 => Role::Follower,
            1 => Role::Candidate,
            _ => Role::Leader,
        }
    }
}

/// One replica in the role asked for, the clock it stands at, and the rng
/// that drives it.
#[derive(Clone)]
pub struct Subject {
    pub replica: Replica,
    pub now_ms: u64,
    pub rng: ChaCha8Rng,
    /// Every message the cluster sent during set-up (for seed corpora).
    pub sent: Vec<Message>,
}

struct Cluster {
    replicas: Vec<Replica>,
    queue: VecDeque<(usize, Event)>,
    now_ms: u64,
    rng: ChaCha8Rng,
    sent: Vec<Message>,
}

impl Cluster {
    fn new() -> Cluster {
        let config = ClusterConfig::new(MEMBERS.to_vec());
        let replicas = MEMBERS
            .iter()
            .map(|&id| Replica::new(ReplicaOptions::new(id, config.clone())).expect("valid options"))
            .collect();
        Cluster { replicas, queue: VecDeque::new(), now_ms: 0, rng: ChaCha8Rng::seed_from_u64(7), sent: Vec::new() }
    }

    fn index(id: u8) -> Option<usize> {
        MEMBERS.iter().position(|&m| m == id)
    }

    fn step(&mut self, at: usize, event: Event) {
        let actions = self.replicas[at].step(self.now_ms, event, &mut self.rng);
        for action in actions {
            match action {
                Action::Persist { token, .. } => self.queue.push_back((at, Event::Persisted(token))),
                Action::Send(msg) => {
                    self.sent.push(msg.clone());
                    if let Some(to) = Cluster::index(msg.to) {
                        self.queue.push_back((to, Event::Receive(msg)));
                    }
                }
                _ => {}
            }
        }
    }

    fn drain(&mut self) {
        while let Some((at, event)) = self.queue.pop_front() {
            self.step(at, event);
        }
    }

    fn tick_all(&mut self) {
        self.now_ms += TICK_MS;
        for at in 0..self.replicas.len() {
            self.step(at, Event::Tick);
        }
        self.drain();
    }

    fn leader(&self) -> Option<usize> {
        self.replicas.iter().position(|r| r.is_leader())
    }
}

/// Builds the cluster and returns one replica in `role`. Panics only if our
/// own set-up fails (no leader within `SETUP_TICKS_MAX` ticks).
pub fn subject(role: Role) -> Subject {
    let mut c = Cluster::new();
    let mut proposed = false;
    for _ in 0..SETUP_TICKS_MAX {
        c.tick_all();
        if let Some(l) = c.leader() {
            if !proposed {
                let command = Command::Batch(Batch { id: BatchId(1), bytes: b"fuzz".to_vec() });
                c.step(l, Event::Propose { request_id: 1, command });
                c.drain();
                proposed = true;
            } else if c.replicas[l].commit_index() >= 2 && c.replicas.iter().all(|r| r.commit_index() >= 2) {
                break;
            }
        }
    }
    let leader = c.leader().expect("the set-up cluster elects a leader");
    let pick = match role {
        Role::Leader => leader,
        Role::Follower | Role::Candidate => (leader + 1) % c.replicas.len(),
    };
    if role == Role::Candidate {
        campaign_cut_off(&mut c, leader, pick);
    }
    let now_ms = c.now_ms;
    let rng = c.rng.clone();
    let sent = std::mem::take(&mut c.sent);
    let replica = c.replicas.swap_remove(pick);
    Subject { replica, now_ms, rng, sent }
}

/// Cuts `pick` off from `leader` until it campaigns. Under pre-vote a
/// follower campaigns only once a quorum would grant it, so a lone cut-off
/// follower never does: only `pick` ticks, and its pre-vote reaches the third
/// member, which grants once it too has not heard from the leader for an
/// election timeout. Stops at the step that makes `pick` a candidate: its
/// `Prepare` and the persist it waits for are never answered.
fn campaign_cut_off(c: &mut Cluster, leader: usize, pick: usize) {
    c.queue.clear();
    for _ in 0..SETUP_TICKS_MAX {
        c.now_ms += TICK_MS;
        let mut next = Some((pick, Event::Tick));
        while let Some((at, event)) = next {
            if at != leader {
                c.step(at, event);
                if c.replicas[pick].role() == RoleKind::Candidate {
                    c.queue.clear();
                    return;
                }
            }
            next = c.queue.pop_front();
        }
    }
    panic!("the cut-off follower campaigns within {SETUP_TICKS_MAX} ticks");
}

/// The three prepared subjects (follower, candidate, leader), built once per
/// process: a fuzz input starts from a clone, so setting up a cluster costs
/// nothing per input.
pub fn cached_subject(role: Role) -> Subject {
    static SUBJECTS: std::sync::OnceLock<Vec<(Role, Subject)>> = std::sync::OnceLock::new();
    let subjects = SUBJECTS
        .get_or_init(|| [Role::Follower, Role::Candidate, Role::Leader].into_iter().map(|r| (r, subject(r))).collect());
    subjects.iter().find(|(r, _)| *r == role).map(|(_, s)| s.clone()).expect("every role is prepared")
}
