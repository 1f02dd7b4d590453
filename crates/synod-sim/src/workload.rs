//! The ledger workload: a fixed genesis, fixed keys, and the transfers the
//! clients submit.
//!
//! Genesis funds `2 * clients + 2` accounts with [`FUNDING`] units each;
//! account `i` is the Ed25519 key `Keypair::from_seed([i, 0x5d, ..])`, the
//! same in every seed and every process. Client `c` owns accounts `2c` and
//! `2c + 1` and tracks their nonces; the last two accounts belong to nobody
//! (any client may try to spend from them, guessing the nonce).
//!
//! Each seed draws its auth mode once: `AuthMode::Ed25519` with probability
//! `SimOptions::signed_seed_chance` (every transfer signed, every signature
//! verified at the leader and in the end-of-run replay), otherwise
//! `AuthMode::None` (trusted clients, unsigned transfers; signatures that are
//! present are still verified). Signing and strict verification cost tens of
//! microseconds each, which a thousand seeds per test run cannot all afford.

use std::sync::OnceLock;

use rand::Rng;
use serde::{Deserialize, Serialize};
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis, SignedTransfer, Transfer};

/// Chain id of the simulated ledger.
pub const CHAIN_ID: u64 = 0x51_0D51;
/// Genesis timestamp; a node's block timestamps are this plus its local clock.
pub const GENESIS_MS: u64 = 1_700_000_000_000;
/// Units each genesis account starts with.
pub const FUNDING: u64 = 1_000_000;
/// Clients are numbered by `u8`, so at most this many keyed accounts.
const KEYS_MAX: usize = 2 * 256 + 2;

/// The fixed keys, derived once per process.
pub fn keys() -> &'static [Keypair] {
    static KEYS: OnceLock<Vec<Keypair>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (0..KEYS_MAX)
            .map(|i| {
                let mut seed = [0x5d; 32];
                seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
                Keypair::from_seed(&seed)
            })
            .collect()
    })
}

/// Why a generated transfer looks the way it does. Most are meant to commit;
/// the others exercise a specific rejection or the duplicate path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// From an owned account with the client's next nonce.
    Valid,
    /// More than the whole supply: `insufficient_funds` at apply time.
    Overdraft,
    /// A nonzero fee, which Paxos mode refuses at apply time.
    Fee,
    /// A nonce ahead of or behind the client's next one.
    BadNonce,
    /// Exactly a transfer the client saw committed: answered as a duplicate.
    Duplicate,
    /// A transfer of an operation whose outcome stayed unknown, sent again.
    Retry,
    /// From an account the client does not own, with a guessed nonce.
    Foreign,
    /// Zero amount, self transfer or another chain's id: refused before consensus.
    BadShape,
    /// Signed by the wrong key: refused before consensus.
    BadSignature,
    /// Part of an operation too large for one consensus value.
    Oversized,
}

/// A transfer as the history records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferCall {
    pub id: synod_core::TransferId,
    pub from: AccountId,
    pub to: AccountId,
    pub amount: u64,
    pub nonce: u64,
    pub intent: Intent,
}

/// The accounts, keys and auth mode of one seed.
#[derive(Clone, Debug)]
pub struct Workload {
    pub auth: AuthMode,
    pub genesis: Genesis,
    /// Funded accounts; `accounts[i]` is the key `keys()[i]`.
    pub accounts: Vec<AccountId>,
}

impl Workload {
    pub fn new(auth: AuthMode, clients: u8) -> Workload {
        let count = 2 * usize::from(clients) + 2;
        let accounts: Vec<AccountId> = keys()[..count].iter().map(Keypair::account).collect();
        let mut allocations: Vec<Allocation> =
            accounts.iter().map(|a| Allocation { account: *a, amount: FUNDING, policy: None }).collect();
        allocations.sort_by_key(|a| a.account);
        let genesis = Genesis { chain_id: CHAIN_ID, auth, timestamp_ms: GENESIS_MS, allocations };
        genesis.validate().expect("the simulated genesis is valid");
        Workload { auth, genesis, accounts }
    }

    pub fn supply(&self) -> u64 {
        FUNDING * self.accounts.len() as u64
    }

    /// Signs with the sender's key under `AuthMode::Ed25519`; unsigned otherwise.
    pub fn sign(&self, transfer: Transfer, key: usize) -> SignedTransfer {
        match self.auth {
            AuthMode::Ed25519 => transfer.sign(&keys()[key]),
            AuthMode::None => SignedTransfer::unsigned(transfer),
        }
    }

    /// A signature by a key that is not the sender's (refused in both modes:
    /// a signature that is present is always checked).
    pub fn sign_wrong(&self, transfer: Transfer, wrong_key: usize) -> SignedTransfer {
        let signature = keys()[wrong_key].sign(&transfer.signing_bytes());
        SignedTransfer { multisig: None, to_policy: None, transfer, signature: Some(signature) }
    }

    /// A random receiver: any funded account but `from`, or (rarely) a fresh one.
    pub fn receiver(&self, from: usize, rng: &mut impl Rng) -> AccountId {
        if rng.gen_bool(0.03) {
            return AccountId(rng.gen());
        }
        loop {
            let to = rng.gen_range(0..self.accounts.len());
            if to != from {
                return self.accounts[to];
            }
        }
    }
}

pub fn memo(rng: &mut impl Rng, max: usize) -> Vec<u8> {
    let len = rng.gen_range(0..=max);
    (0..len).map(|_| rng.gen()).collect()
}
