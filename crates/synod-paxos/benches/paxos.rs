//! Micro-benchmarks of the sans-IO Multi-Paxos core: a 3-replica cluster in
//! memory (persistence is immediate, messages are delivered by hand), driven
//! only through the public API. Minimal harness logic copied from
//! `tests/harness`. Run: `cargo bench -p synod-paxos --bench paxos`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Mutex;

/// Notes printed after divan's table (printing during a run breaks the table).
static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

use divan::Bencher;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synod_paxos::*;

const N: u8 = 3;
const PAYLOAD: usize = 1_024;

struct Cluster {
    replicas: Vec<Replica>, // index = id - 1
    durable: Vec<DurableState>,
    now_ms: u64,
    net: VecDeque<Message>,
    rng: ChaCha8Rng,
    /// Slots applied by the leader since the last check.
    leader_applied: u64,
    /// Calls of `Replica::step` made on `counted` (0: none counted).
    counted: NodeId,
    counted_steps: u64,
}

impl Cluster {
    fn new(seed: u64) -> Cluster {
        let replicas = (1..=N)
            .map(|id| Replica::new(ReplicaOptions::new(id, ClusterConfig::new((1..=N).collect()))).unwrap())
            .collect();
        Cluster {
            replicas,
            durable: vec![DurableState::default(); N as usize],
            now_ms: 0,
            net: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            leader_applied: 0,
            counted: 0,
            counted_steps: 0,
        }
    }

    fn step(&mut self, id: NodeId, event: Event) {
        if id == self.counted {
            self.counted_steps += 1;
        }
        let i = (id - 1) as usize;
        let actions = self.replicas[i].step(self.now_ms, event, &mut self.rng);
        self.execute(id, actions);
    }

    fn execute(&mut self, id: NodeId, actions: Vec<Action>) {
        let i = (id - 1) as usize;
        let mut max_token = None;
        for action in actions {
            match action {
                Action::Persist { token, op } => {
                    self.durable[i].apply(&op);
                    max_token = Some(token);
                }
                Action::Send(message) => self.net.push_back(message),
                Action::Apply { .. } if self.replicas[i].is_leader() => self.leader_applied += 1,
                _ => {}
            }
        }
        if let Some(token) = max_token {
            self.step(id, Event::Persisted(token));
        }
    }

    fn deliver_all(&mut self) {
        while let Some(message) = self.net.pop_front() {
            self.step(message.to, Event::Receive(message));
        }
    }

    fn elect(&mut self) -> NodeId {
        for _ in 0..5_000 {
            self.now_ms += 10;
            for id in 1..=N {
                self.step(id, Event::Tick);
                self.deliver_all();
            }
            let leaders: Vec<NodeId> = (1..=N).filter(|id| self.replicas[(*id - 1) as usize].is_leader()).collect();
            if leaders.len() == 1 {
                return leaders[0];
            }
        }
        panic!("no leader elected");
    }

    /// Compacts every replica's log up to what all of them applied (as the
    /// node does every 2 s), so long benchmark runs do not grow memory.
    fn compact(&mut self) {
        let upto = self.replicas.iter().map(Replica::applied_index).min().unwrap();
        for id in 1..=N {
            self.durable[(id - 1) as usize].snapshot_slot = upto;
            self.step(id, Event::Compact { upto_slot: upto });
        }
    }
}

/// One full round: the leader takes a proposal, sends Accept to both
/// followers, they persist and answer Accepted, the leader learns the value is
/// chosen and applies it (followers apply on the commit that follows). Every
/// `Replica::step` of the three replicas for that round is in the timing, and so
/// is a log compaction every 1,024 rounds. 100 samples of 100 rounds.
#[divan::bench(sample_count = 100, sample_size = 100)]
fn round_3_replicas(bencher: Bencher) {
    let mut c = Cluster::new(1);
    let leader = c.elect();
    let mut request_id = 0u64;
    let bytes = vec![0xAB; PAYLOAD];
    bencher.bench_local(|| {
        request_id += 1;
        let command = Command::Batch(Batch { id: BatchId(request_id), bytes: bytes.clone() });
        c.leader_applied = 0;
        c.step(leader, Event::Propose { request_id, command });
        c.deliver_all();
        assert_eq!(c.leader_applied, 1, "the proposal was chosen and applied in this round");
        if request_id % 1_024 == 0 {
            c.compact();
        }
    });
}

/// The leader alone in steady state, pipelined one slot deep: each timed
/// iteration is the leader's `Replica::step` calls for the two `Accepted`
/// answers to the previous slot's `Accept` (the first reaches the quorum, so the
/// slot is chosen and applied), one `Propose` for the next slot, and the
/// `Persisted` reports of its own writes (persistence is immediate). The
/// followers' steps run untimed while the inputs are prepared, so divan is made
/// to prepare one input per sample (`sample_size = 1`).
#[divan::bench(sample_count = 5_000, sample_size = 1)]
fn leader_steady_state(bencher: Bencher) {
    let cell = Rc::new(RefCell::new(Cluster::new(3)));
    let leader = cell.borrow_mut().elect();
    let mut request_id = 0u64;
    let bytes = vec![0xAB; PAYLOAD];
    let (mut prepared, mut timed_iters) = (0u64, 0u64);
    {
        let mut c = cell.borrow_mut();
        c.deliver_all();
        c.counted = leader;
    }
    let gen = {
        let cell = Rc::clone(&cell);
        let prepared = &mut prepared;
        move || {
            let mut c = cell.borrow_mut();
            *prepared += 1;
            if *prepared % 1_024 == 0 {
                c.deliver_all();
                c.compact();
                c.deliver_all();
            }
            // Deliver the leader's Accepts (and commits) to the followers; keep
            // what they send back to the leader as this iteration's input.
            let mut to_leader = Vec::new();
            while let Some(message) = c.net.pop_front() {
                if message.to == leader {
                    to_leader.push(message);
                } else {
                    c.step(message.to, Event::Receive(message));
                }
            }
            request_id += 1;
            (to_leader, request_id, Command::Batch(Batch { id: BatchId(request_id), bytes: bytes.clone() }))
        }
    };
    let steps_before = cell.borrow().counted_steps;
    let timed_cell = Rc::clone(&cell);
    let timed_iters_ref = &mut timed_iters;
    bencher.with_inputs(gen).bench_local_values(move |(to_leader, request_id, command)| {
        let mut c = timed_cell.borrow_mut();
        for message in to_leader {
            c.step(leader, Event::Receive(message));
        }
        c.step(leader, Event::Propose { request_id, command });
        *timed_iters_ref += 1;
    });
    let c = cell.borrow();
    assert!(c.replicas[(leader - 1) as usize].is_leader());
    assert!(c.leader_applied + 2 >= timed_iters, "every slot but the last was chosen");
    NOTES.lock().unwrap().push(format!(
        "leader_steady_state: {timed_iters} iterations, {:.2} leader steps per iteration, {} slots applied by the leader",
        (c.counted_steps - steps_before) as f64 / timed_iters as f64,
        c.leader_applied
    ));
}

fn main() {
    divan::main();
    for note in NOTES.lock().unwrap().iter() {
        println!("{note}");
    }
}
