//! Mining: a multi-threaded nonce search over the SHA-256 midstate of the
//! header's fixed first 64 bytes, with time and extra-nonce rolls when the
//! 2^32 nonces run out, and a hash counter for hash-rate metrics.
//!
//! The search is deterministic: the nonce space is cut into chunks that
//! threads claim in increasing order, and the result is always the lowest
//! winning nonce of the range, whatever the thread count or scheduling
//! (threads stop claiming chunks above the best one found).

use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::chain::block::PowBlock;
use crate::hash::BlockHash;
use crate::header::Header;
use crate::mine::{Midstate, Solution};
use crate::u256::U256;

/// Hashes tried, shared by mining threads and whoever reports the rate.
#[derive(Debug, Default)]
pub struct HashCounter(AtomicU64);

impl HashCounter {
    /// A counter at zero.
    pub fn new() -> HashCounter {
        HashCounter::default()
    }

    /// Adds `n` hashes.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Hashes counted so far.
    pub fn total(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Hash rate over a sliding window of `(time, total hashes)` samples. The
/// caller supplies the clock (milliseconds of any monotonic origin).
#[derive(Clone, Debug)]
pub struct HashRateMeter {
    samples: VecDeque<(u64, u64)>,
    window_ms: u64,
}

impl HashRateMeter {
    /// A meter averaging over the last `window_ms` milliseconds.
    pub fn new(window_ms: u64) -> HashRateMeter {
        assert!(window_ms > 0, "a window has a length");
        HashRateMeter { samples: VecDeque::new(), window_ms }
    }

    /// Records the counter's `total` at `now_ms` (non-decreasing times).
    pub fn record(&mut self, now_ms: u64, total: u64) {
        if let Some(&(t, _)) = self.samples.back() {
            assert!(now_ms >= t, "sample times never go back");
        }
        self.samples.push_back((now_ms, total));
        while self.samples.len() > 2 && self.samples[1].0 + self.window_ms <= now_ms {
            self.samples.pop_front();
        }
    }

    /// Hashes per second between the oldest and newest sample in the window
    /// (0 with fewer than two samples or no elapsed time).
    pub fn rate(&self) -> f64 {
        match (self.samples.front(), self.samples.back()) {
            (Some(&(t0, h0)), Some(&(t1, h1))) if t1 > t0 => (h1.saturating_sub(h0)) as f64 * 1000.0 / (t1 - t0) as f64,
            _ => 0.0,
        }
    }
}

/// How to search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinerConfig {
    /// Worker threads (1 searches on the calling thread).
    pub threads: usize,
    /// Nonces per claimed chunk.
    pub chunk: u32,
    /// Highest nonce tried per header before rolling (`u32::MAX`: all 2^32).
    pub max_nonce: u32,
    /// Roll the header time up to this value before rolling the extra
    /// nonce (`None`: extra-nonce rolls only). Keep it within the future-time rule.
    pub max_time: Option<u32>,
    /// Give up after this many headers (templates, time and extra-nonce rolls included).
    pub max_headers: u64,
}

impl Default for MinerConfig {
    fn default() -> Self {
        MinerConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk: 1 << 16,
            max_nonce: u32::MAX,
            max_time: None,
            max_headers: u64::MAX,
        }
    }
}

/// A solved block and what it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinedBlock {
    /// The block, its header meeting the target.
    pub block: PowBlock,
    /// Its hash.
    pub hash: BlockHash,
    /// Times the extra nonce was rolled.
    pub extra_nonce_rolls: u64,
    /// Times the header time was rolled.
    pub time_rolls: u64,
}

/// How a mining run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MineOutcome {
    /// Solved.
    Found(Box<MinedBlock>),
    /// `stop` was raised (e.g. a new tip arrived).
    Stopped,
    /// `max_headers` headers were tried without success.
    Exhausted,
}

/// The lowest nonce in `nonces` whose header hash is `<= target`, searched
/// with `threads` threads in chunks of `chunk` nonces; `None` if there is
/// none or `stop` was raised. Equal to [`crate::mine::mine`] when not stopped.
pub fn search_nonces(
    header: &Header,
    nonces: RangeInclusive<u32>,
    target: &U256,
    threads: usize,
    chunk: u32,
    counter: &HashCounter,
    stop: &AtomicBool,
) -> Option<Solution> {
    let (start, end) = (u64::from(*nonces.start()), u64::from(*nonces.end()));
    if start > end {
        return None;
    }
    let chunk = u64::from(chunk.max(1));
    let chunks = (end - start) / chunk + 1;
    let mid = Midstate::new(header);
    let next = AtomicU64::new(0);
    let best_chunk = AtomicU64::new(u64::MAX);
    let found: Mutex<Option<(u64, Solution)>> = Mutex::new(None);
    let work = || loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        if k >= chunks || k > best_chunk.load(Ordering::Acquire) || stop.load(Ordering::Relaxed) {
            return;
        }
        let lo = start + k * chunk;
        let hi = (lo + chunk - 1).min(end);
        let mut tried = 0u64;
        for n in lo..=hi {
            let nonce = n as u32;
            let hash = mid.hash_with_nonce(nonce);
            tried += 1;
            if hash.to_u256() <= *target {
                let mut f = found.lock().expect("no poisoned lock");
                if !matches!(f.as_ref(), Some((c, _)) if *c <= k) {
                    *f = Some((k, Solution { nonce, hash }));
                }
                best_chunk.fetch_min(k, Ordering::Release);
                break;
            }
            if tried % 4096 == 0 && stop.load(Ordering::Relaxed) {
                counter.add(tried);
                return;
            }
        }
        counter.add(tried);
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    if stop.load(Ordering::Relaxed) && found.lock().expect("no poisoned lock").is_none() {
        return None;
    }
    found.into_inner().expect("no poisoned lock").map(|(_, s)| s)
}

/// Solves `template` against `target`: searches nonces `0..=max_nonce`, then
/// rolls the time (up to `max_time`), then the coinbase extra nonce (which
/// changes the Merkle root, hence the midstate), until a header meets the
/// target, `stop` is raised, or `max_headers` headers were tried.
pub fn mine_block(
    template: PowBlock,
    target: &U256,
    cfg: &MinerConfig,
    counter: &HashCounter,
    stop: &AtomicBool,
) -> MineOutcome {
    let mut block = template;
    let base_time = block.header.time;
    let mut leaves = block.leaf_hashes();
    let (mut extra_nonce_rolls, mut time_rolls) = (0, 0);
    for _ in 0..cfg.max_headers {
        if let Some(sol) =
            search_nonces(&block.header, 0..=cfg.max_nonce, target, cfg.threads, cfg.chunk, counter, stop)
        {
            block.header.nonce = sol.nonce;
            assert_eq!(block.hash(), sol.hash, "the midstate hash is the header hash");
            assert!(sol.hash.to_u256() <= *target, "the solution meets the target");
            return MineOutcome::Found(Box::new(MinedBlock { hash: sol.hash, block, extra_nonce_rolls, time_rolls }));
        }
        if stop.load(Ordering::Relaxed) {
            return MineOutcome::Stopped;
        }
        match cfg.max_time {
            Some(max) if block.header.time < max => {
                block.header.time += 1;
                time_rolls += 1;
            }
            _ => {
                block.header.time = base_time;
                block.coinbase.extra_nonce = block.coinbase.extra_nonce.wrapping_add(1);
                leaves[0] = block.coinbase.leaf_hash();
                block.header.merkle_root = synod_merkle::root_from_leaf_hashes(&leaves);
                extra_nonce_rolls += 1;
            }
        }
    }
    MineOutcome::Exhausted
}
