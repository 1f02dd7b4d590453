//! [`HeaderStore`]: every header the light client accepted, on any branch,
//! with height and chain work, and the best (most-work) chain.

use std::collections::HashMap;

use crate::compact::Compact;
use crate::hash::BlockHash;
use crate::header::{Header, HEADER_LEN};
use crate::light::error::{AcceptHeaderError, LoadHeadersError};
use crate::median_time::{median_time_past, MEDIAN_TIME_SPAN};
use crate::params::Params;
use crate::retarget::next_work_required;
use crate::u256::U256;
use crate::verify::time_too_far;
use crate::work::{block_proof, target_work};

/// Default bound on headers held, all branches: 1,000,000 headers are 80 MB
/// on disk; in memory each also carries its hash (twice: key and order),
/// height and 32-byte chain work, plus the hash map's overhead.
pub const HEADERS_MAX_DEFAULT: usize = 1_000_000;

/// One accepted header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderEntry {
    /// The header.
    pub header: Header,
    /// Its hash.
    pub hash: BlockHash,
    /// Height (genesis is 0).
    pub height: u64,
    /// Work of this header and all its ancestors (`nChainWork`).
    pub chain_work: U256,
}

/// What [`HeaderStore::accept`] did with a valid header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Already held; nothing changed.
    AlreadyKnown,
    /// Stored; the best tip did not change.
    Stored,
    /// Stored and it is the new best tip.
    NewBest,
}

/// A tree of headers rooted at the network's genesis header, which is
/// trusted by construction (it comes from the caller's own configuration).
///
/// Invariants: every stored header passed every rule against its stored
/// ancestors; `best` is the header with the most chain work, the first one
/// stored among equals (so the best chain only moves for strictly more
/// work); `best_chain[h]` is the best chain's header at height `h`; at most
/// `headers_max` headers are held.
#[derive(Clone, Debug)]
pub struct HeaderStore {
    params: Params,
    headers_max: usize,
    entries: HashMap<BlockHash, HeaderEntry>,
    /// Insertion order (parents before children): the save format.
    order: Vec<BlockHash>,
    best_chain: Vec<BlockHash>,
}

impl HeaderStore {
    /// A store holding only `genesis`, validating under `params` and holding
    /// at most `headers_max` headers (genesis included; at least 1).
    pub fn new(genesis: Header, params: Params, headers_max: usize) -> HeaderStore {
        let hash = genesis.block_hash();
        let chain_work = block_proof(genesis.bits);
        let entry = HeaderEntry { header: genesis, hash, height: 0, chain_work };
        HeaderStore {
            params,
            headers_max: headers_max.max(1),
            entries: HashMap::from([(hash, entry)]),
            order: vec![hash],
            best_chain: vec![hash],
        }
    }

    /// Rebuilds a store from [`Self::to_bytes`] output, re-validating every
    /// header at clock `now` (Unix seconds). The first header must be
    /// `genesis`.
    pub fn load(
        bytes: &[u8],
        genesis: Header,
        params: Params,
        headers_max: usize,
        now: i64,
    ) -> Result<HeaderStore, LoadHeadersError> {
        if bytes.len() % HEADER_LEN != 0 || bytes.is_empty() {
            return Err(LoadHeadersError::Truncated { len: bytes.len() });
        }
        let mut store = HeaderStore::new(genesis, params, headers_max);
        for (index, chunk) in bytes.chunks_exact(HEADER_LEN).enumerate() {
            let arr: &[u8; HEADER_LEN] = chunk.try_into().expect("chunks_exact yields 80 bytes");
            let header = Header::from_bytes(arr);
            if index == 0 {
                if header != genesis {
                    return Err(LoadHeadersError::WrongGenesis {
                        expected: genesis.block_hash(),
                        got: header.block_hash(),
                    });
                }
                continue;
            }
            store.accept(header, now).map_err(|err| LoadHeadersError::Header { index, err })?;
        }
        Ok(store)
    }

    /// Every held header, parents before children, genesis first: 80 bytes
    /// each, the format [`Self::load`] reads.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.order.len() * HEADER_LEN);
        for h in &self.order {
            out.extend_from_slice(&self.entries[h].header.to_bytes());
        }
        out
    }

    /// The parameters headers are validated under.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The genesis hash.
    pub fn genesis(&self) -> BlockHash {
        self.best_chain[0]
    }

    /// Headers held, genesis included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true: genesis is always held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bound on headers held.
    pub fn headers_max(&self) -> usize {
        self.headers_max
    }

    /// The entry of `hash`, if held.
    pub fn get(&self, hash: &BlockHash) -> Option<&HeaderEntry> {
        self.entries.get(hash)
    }

    /// The best (most-work) tip.
    pub fn best(&self) -> &HeaderEntry {
        &self.entries[self.best_chain.last().expect("genesis is always on the best chain")]
    }

    /// The best chain's header at `height`, if that high.
    pub fn best_at(&self, height: u64) -> Option<&HeaderEntry> {
        let i = usize::try_from(height).ok()?;
        self.best_chain.get(i).map(|h| &self.entries[h])
    }

    /// True if `hash` is on the best chain.
    pub fn is_on_best_chain(&self, hash: &BlockHash) -> bool {
        self.entries.get(hash).is_some_and(|e| self.best_at(e.height).is_some_and(|b| b.hash == *hash))
    }

    /// For a header on the best chain: `(confirmations, work on top)`, where
    /// confirmations count the header itself and its descendants up to the
    /// tip, and the work on top is the chain work of those descendants
    /// (the tip's chain work minus the header's). `None` if not on the best
    /// chain.
    pub fn confirmations(&self, hash: &BlockHash) -> Option<(u64, U256)> {
        if !self.is_on_best_chain(hash) {
            return None;
        }
        let e = &self.entries[hash];
        let best = self.best();
        let on_top = best.chain_work.checked_sub(&e.chain_work).expect("chain work grows along a chain");
        Some((best.height - e.height + 1, on_top))
    }

    /// Validates `header` against its stored ancestors and the caller's clock
    /// `now` (Unix seconds), then stores it. Rules, in order:
    /// the parent is held; room is left; `bits` is a valid target within the
    /// pow limit; `bits` is what `GetNextWorkRequired` gives (retarget at
    /// retarget heights, unchanged elsewhere); proof of work; time after the
    /// median of the parent and up to ten ancestors (as many as exist near
    /// genesis, as Core); the version floor for the height; time not more
    /// than `max_future_secs` past `now`. A refused header changes nothing.
    pub fn accept(&mut self, header: Header, now: i64) -> Result<Accepted, AcceptHeaderError> {
        let hash = header.block_hash();
        if self.entries.contains_key(&hash) {
            return Ok(Accepted::AlreadyKnown);
        }
        let parent =
            self.entries.get(&header.prev_hash).ok_or(AcceptHeaderError::UnknownParent { parent: header.prev_hash })?;
        if self.entries.len() >= self.headers_max {
            return Err(AcceptHeaderError::Full { max: self.headers_max });
        }
        let height = parent.height.checked_add(1).ok_or(AcceptHeaderError::HeightOverflow)?;
        let target = Compact::target(header.bits, self.params.pow_limit())
            .map_err(|err| AcceptHeaderError::BadBits { bits: header.bits, err })?;
        let expected = next_work_required(
            height,
            parent.header.bits,
            || {
                let first = self.ancestor(&parent.hash, height - u64::from(self.params.interval()));
                (self.entries[&first].header.time, parent.header.time)
            },
            &self.params,
        );
        if header.bits != expected {
            return Err(AcceptHeaderError::Retarget { height, expected, got: header.bits });
        }
        if hash.to_u256() > target {
            return Err(AcceptHeaderError::ProofOfWork { hash });
        }
        let median = self.median_time_past(&parent.hash);
        if header.time <= median {
            return Err(AcceptHeaderError::MedianTimePast { time: header.time, median });
        }
        let min = self.params.min_version_at(height);
        if header.version < min {
            return Err(AcceptHeaderError::BadVersion { height, version: header.version, min });
        }
        if time_too_far(header.time, now, &self.params) {
            return Err(AcceptHeaderError::TimeTooFar { time: header.time, now });
        }

        let chain_work = parent.chain_work.saturating_add(&target_work(&target));
        let new_best = chain_work > self.best().chain_work;
        self.entries.insert(hash, HeaderEntry { header, hash, height, chain_work });
        self.order.push(hash);
        if new_best {
            self.switch_best_to(hash);
            Ok(Accepted::NewBest)
        } else {
            Ok(Accepted::Stored)
        }
    }

    /// The ancestor of held `hash` at `height` (≤ its height): along the
    /// best chain when `hash` is on it, else by walking parents to it.
    fn ancestor(&self, hash: &BlockHash, height: u64) -> BlockHash {
        let mut h = *hash;
        while self.entries[&h].height > height {
            if self.is_on_best_chain(&h) {
                return self.best_chain[usize::try_from(height).expect("held heights fit usize")];
            }
            h = self.entries[&h].header.prev_hash;
        }
        h
    }

    fn median_time_past(&self, hash: &BlockHash) -> u32 {
        let mut times = Vec::with_capacity(MEDIAN_TIME_SPAN);
        let mut h = *hash;
        loop {
            let e = &self.entries[&h];
            times.push(e.header.time);
            if e.height == 0 || times.len() == MEDIAN_TIME_SPAN {
                break;
            }
            h = e.header.prev_hash;
        }
        median_time_past(&times).expect("at least the header itself")
    }

    /// Makes held `tip` the best chain's tip: cut the best chain back to the
    /// fork point, then append the new branch.
    fn switch_best_to(&mut self, tip: BlockHash) {
        let mut branch = Vec::new();
        let mut h = tip;
        while !self.is_on_best_chain(&h) {
            branch.push(h);
            h = self.entries[&h].header.prev_hash;
        }
        let fork_height = self.entries[&h].height;
        self.best_chain.truncate(usize::try_from(fork_height).expect("held heights fit usize") + 1);
        self.best_chain.extend(branch.into_iter().rev());
        debug_assert_eq!(self.best_chain.len() as u64, self.entries[&tip].height + 1);
    }
}
