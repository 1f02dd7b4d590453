//! The load itself: one task per client, each with its own sender account.
//!
//! Closed loop: a client sends its next request as soon as the previous one is
//! answered; latency is measured from send to answer.
//!
//! Open loop (`--rate R`): request k is due at `start + k/R`. A free client
//! takes the next due request, waits for its time and sends it; if every client
//! is busy the request waits, and its latency is measured from when it was due,
//! so a slow server cannot hide its stalls by slowing the load (no coordinated
//! omission). `--clients` bounds the requests in flight; `late_starts` counts
//! the requests sent more than 10 ms after they were due.
//!
//! A request that fails without an answer (transport error, 5xx such as
//! `overloaded`) is sent again unchanged after a backoff: the same signed
//! transfers, so a resend of something that was committed comes back as a
//! duplicate and nothing is committed twice. A transfer the ledger rejects
//! (e.g. `bad_nonce`, `insufficient_funds`) breaks the client's nonce sequence:
//! the client reads its account's nonce from the node and continues from there,
//! signing on the fly. Every failure is counted by kind.
//!
//! Bounds: no request is started after warmup + duration, nor beyond
//! `--requests`; each request has the HTTP client's 60 s timeout; each client
//! holds at most one request in flight and its own prepared queue.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use synod_core::TransferId;
use synod_node::Client;

use super::accounts::Sender;
use super::http;
use super::requests::{self, Maker, Req};
use super::target::Target;
use super::Plan;

/// Counters the progress bar reads while the load runs.
#[derive(Default)]
pub struct Live {
    pub committed: AtomicU64,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub done: AtomicBool,
}

pub struct Ctx {
    /// Most acknowledged ids one client keeps (see `Acked`).
    acked_keep_max: usize,
    pub start: Instant,
    pub warmup_end: Instant,
    pub end: Instant,
    rate: Option<f64>,
    cap: Option<u64>,
    ticket: AtomicU64,
    measured_tickets: AtomicU64,
    pub live: Live,
}

impl Ctx {
    /// Takes a measured request's slot; false once `--requests` were started.
    fn take_measured(&self) -> bool {
        match self.cap {
            None => true,
            Some(cap) => self.measured_tickets.fetch_add(1, Ordering::Relaxed) < cap,
        }
    }
}

/// Acknowledged ids kept for the check, over all clients (32 bytes each: ≤ 128 MiB).
const ACKED_KEEP_TOTAL: usize = 4_000_000;

/// A client's acknowledged transfers: every id while they fit in `keep_max`, then a
/// deterministic, evenly spread subset: when full, every other id is dropped and
/// only every `stride`-th acknowledgement (stride doubling) is kept from then on.
pub struct Acked {
    pub ids: Vec<TransferId>,
    /// How many were acknowledged in all.
    pub count: u64,
    pub stride: u64,
    keep_max: usize,
}

impl Acked {
    fn new(keep_max: usize) -> Acked {
        Acked { ids: Vec::new(), count: 0, stride: 1, keep_max: keep_max.max(2) }
    }

    fn push(&mut self, id: TransferId) {
        // `stride` is a power of two: `count & (stride - 1) == 0` means count is a multiple of it.
        if self.count & (self.stride - 1) == 0 {
            if self.ids.len() == self.keep_max {
                let mut i = 0;
                self.ids.retain(|_| {
                    i += 1;
                    i & 1 == 1
                });
                self.stride *= 2;
            }
            if self.count & (self.stride - 1) == 0 {
                self.ids.push(id);
            }
        }
        self.count += 1;
    }

    /// True when every acknowledged id was kept.
    pub fn complete(&self) -> bool {
        self.stride == 1
    }
}

/// What one client did.
pub struct ClientResult {
    pub hist: Histogram<u64>,
    /// The transfers the ledger acknowledged as committed (warmup included): all of
    /// them, or every `stride`-th once there were too many to keep.
    pub acked: Acked,
    pub measured_requests: u64,
    pub measured_committed: u64,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub transfers_rejected: u64,
    pub errors: BTreeMap<String, u64>,
    pub signed_on_the_fly: u64,
    pub late_starts: u64,
    /// Times this client moved to another node after `not_leader` or no answer.
    pub node_switches: u64,
    pub last_measured_done: Option<Instant>,
}

/// What the whole load did.
pub struct Outcome {
    pub clients: Vec<ClientResult>,
    pub hist: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    /// The measured window: from the end of the warmup to the end of the duration
    /// or the last measured answer, whichever is later (the last answer when
    /// `--requests` stopped the run).
    pub elapsed_s: f64,
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 1 hour, 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("histogram bounds")
}

/// Sleeps before a resend: 5 ms doubling to 500 ms, never past the end of the run.
async fn backoff(ctx: &Ctx, fails: u32) {
    let wait = Duration::from_millis(5u64 << fails.min(7)).min(Duration::from_millis(500));
    let until = (Instant::now() + wait).min(ctx.end);
    tokio::time::sleep_until(until.into()).await;
}

/// The nodes one client may send to, and the one it sends to now. Client i
/// starts at node i mod n; like a client of a cluster it moves to the next
/// node when its node answers `not_leader` or does not answer (any node
/// forwards writes to the leader, so it need not find the leader itself).
struct Nodes {
    posters: Vec<http::Sender>,
    at: usize,
}

impl Nodes {
    fn current(&self) -> &http::Sender {
        &self.posters[self.at]
    }

    /// Moves on after a failure that another node may not have; true if it moved.
    fn follow(&mut self, e: &http::SendError) -> bool {
        let moves = matches!(e, http::SendError::Transport { .. })
            || matches!(e, http::SendError::Api { code, .. } if code == "not_leader");
        if moves && self.posters.len() > 1 {
            self.at = (self.at + 1) % self.posters.len();
            return true;
        }
        false
    }
}

async fn client_task(
    ctx: Arc<Ctx>,
    mut nodes: Nodes,
    client: Client,
    maker: Maker,
    mut stock: VecDeque<Req>,
    start_nonce: u64,
) -> ClientResult {
    let batch = maker.batch;
    let mut r = ClientResult {
        hist: new_histogram(),
        acked: Acked::new(ctx.acked_keep_max),
        measured_requests: 0,
        measured_committed: 0,
        requests_ok: 0,
        requests_failed: 0,
        transfers_rejected: 0,
        errors: BTreeMap::new(),
        signed_on_the_fly: 0,
        late_starts: 0,
        node_switches: 0,
        last_measured_done: None,
    };
    let error = |r: &mut ClientResult, kind: String, n: u64| {
        *r.errors.entry(kind).or_default() += n;
        ctx.live.errors.fetch_add(n, Ordering::Relaxed);
    };
    // The nonce of the first transfer not yet prepared.
    let mut next_nonce = stock.back().map(|q| q.first_nonce + batch as u64).unwrap_or(start_nonce);
    let mut current: Option<Req> = None;
    let mut fails: u32 = 0;
    let mut resync = false;
    let maker = Arc::new(maker);
    loop {
        if Instant::now() >= ctx.end {
            break;
        }
        if resync {
            match client.account(&maker.from()).await {
                Ok(info) => {
                    stock.clear();
                    current = None;
                    next_nonce = info.nonce;
                    resync = false;
                }
                Err(e) => {
                    error(&mut r, format!("resync:{}", e.code()), 1);
                    fails += 1;
                    backoff(&ctx, fails).await;
                    continue;
                }
            }
        }
        if current.is_none() {
            current = Some(match stock.pop_front() {
                Some(q) => q,
                None => {
                    let (m, n) = (maker.clone(), next_nonce);
                    next_nonce += batch as u64;
                    r.signed_on_the_fly += batch as u64;
                    tokio::task::spawn_blocking(move || m.make(n)).await.expect("signing task")
                }
            });
        }
        let req = current.as_ref().expect("a request is ready");

        // When is this request due, and is it measured?
        let (due, measured) = match ctx.rate {
            Some(rate) => {
                let k = ctx.ticket.fetch_add(1, Ordering::Relaxed);
                let due = ctx.start + Duration::from_secs_f64(k as f64 / rate);
                if due >= ctx.end {
                    break;
                }
                let measured = due >= ctx.warmup_end;
                if measured && !ctx.take_measured() {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                (due, measured)
            }
            None => {
                let now = Instant::now();
                if now >= ctx.end {
                    break;
                }
                let measured = now >= ctx.warmup_end;
                if measured && !ctx.take_measured() {
                    break;
                }
                (now, measured)
            }
        };
        let sent = Instant::now();
        if measured && ctx.rate.is_some() && sent.duration_since(due) > Duration::from_millis(10) {
            r.late_starts += 1;
        }
        let result = nodes.current().submit(&req.body, batch).await;
        let done = Instant::now();
        ctx.live.requests.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(receipts) => {
                fails = 0;
                r.requests_ok += 1;
                let mut committed = 0u64;
                if receipts.len() != req.ids.len() {
                    error(&mut r, "bad_response".into(), 1);
                    resync = true;
                }
                for (receipt, id) in receipts.iter().zip(&req.ids) {
                    if receipt.id != id.to_string() {
                        error(&mut r, "bad_response:id_mismatch".into(), 1);
                        resync = true;
                    } else if receipt.status == "committed" {
                        r.acked.push(*id);
                        committed += 1;
                    } else {
                        r.transfers_rejected += 1;
                        error(&mut r, receipt.code.clone().unwrap_or_else(|| receipt.status.clone()), 1);
                        resync = true;
                    }
                }
                ctx.live.committed.fetch_add(committed, Ordering::Relaxed);
                if measured {
                    let us = done.duration_since(due).as_micros().max(1) as u64;
                    r.hist.saturating_record(us);
                    r.measured_requests += 1;
                    r.measured_committed += committed;
                    r.last_measured_done = Some(done);
                }
                current = None;
            }
            Err(e) => {
                r.requests_failed += 1;
                error(&mut r, e.kind(), 1);
                if nodes.follow(&e) {
                    r.node_switches += 1;
                }
                if e.resend() {
                    fails += 1;
                    backoff(&ctx, fails).await;
                } else {
                    // The ledger refused the transfer: its nonce sequence is broken.
                    r.transfers_rejected += batch as u64;
                    resync = true;
                }
            }
        }
    }
    r
}

pub async fn run(
    target: &Target,
    plan: &Plan,
    senders: &[Sender],
    queues: Vec<VecDeque<Req>>,
    progress: bool,
) -> Outcome {
    let makers = requests::makers(target, plan, senders);
    let posters: Vec<http::Sender> = target.urls.iter().map(|u| http::Sender::new(u)).collect();
    // A short lead so every client task is spawned before the first request is due.
    let start = Instant::now() + Duration::from_millis(20);
    let warmup_end = start + plan.warmup();
    let ctx = Arc::new(Ctx {
        acked_keep_max: (ACKED_KEEP_TOTAL / senders.len()).max(1_024),
        start,
        warmup_end,
        end: warmup_end + plan.duration(),
        rate: plan.rate,
        cap: plan.requests,
        ticket: AtomicU64::new(0),
        measured_tickets: AtomicU64::new(0),
        live: Live::default(),
    });
    let bar = super::progress::spawn(progress, ctx.clone(), plan);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (maker, queue)) in makers.into_iter().zip(queues).enumerate() {
        let (ctx, client, nonce) = (ctx.clone(), target.client(i).clone(), senders[i].start_nonce);
        let posters = Nodes { posters: posters.clone(), at: i % posters.len() };
        tasks.spawn(async move {
            tokio::time::sleep_until(start.into()).await;
            (i, client_task(ctx, posters, client, maker, queue, nonce).await)
        });
    }
    let mut slots: Vec<Option<ClientResult>> = (0..senders.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.expect("client task");
        slots[i] = Some(result);
    }
    ctx.live.done.store(true, Ordering::Relaxed);
    if let Some(bar) = bar {
        let _ = bar.await;
    }
    let clients: Vec<ClientResult> = slots.into_iter().map(|s| s.expect("every client reported")).collect();
    let mut hist = new_histogram();
    let mut errors = BTreeMap::new();
    let mut last = None;
    for c in &clients {
        hist.add(&c.hist).expect("histograms have the same bounds");
        for (k, v) in &c.errors {
            *errors.entry(k.clone()).or_default() += v;
        }
        last = last.max(c.last_measured_done);
    }
    // Normally the window is the duration, stretched by answers that came after it.
    // A run that stopped at --requests ends at its last answer.
    let capped = plan.requests.is_some_and(|cap| ctx.measured_tickets.load(Ordering::Relaxed) >= cap);
    let answered = last.filter(|t| *t > warmup_end).map(|t| t.duration_since(warmup_end).as_secs_f64());
    let elapsed_s = match answered {
        Some(s) if capped => s,
        Some(s) => s.max(plan.duration_s),
        None => plan.duration_s,
    };
    Outcome { clients, hist, errors, elapsed_s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> TransferId {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&n.to_be_bytes());
        TransferId(b)
    }

    #[test]
    fn acked_keeps_everything_while_it_fits_then_an_even_bounded_subset() {
        let mut a = Acked::new(8);
        for n in 0..8 {
            a.push(id(n));
        }
        assert!(a.complete());
        assert_eq!(a.ids, (0..8).map(id).collect::<Vec<_>>());
        for n in 8..100 {
            a.push(id(n));
        }
        assert_eq!(a.count, 100);
        assert!(!a.complete());
        assert!(a.ids.len() <= 8);
        // Exactly the acknowledgements whose index is a multiple of the stride.
        let expected: Vec<_> = (0..100).filter(|n| n % a.stride == 0).map(id).collect();
        assert_eq!(a.ids, expected);
    }
}
