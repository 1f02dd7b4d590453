//! The agreed ledger, read back block by block from one node once the
//! cluster settled, and the account model replayed over it: every
//! account's (balance, nonce) as a list of segments of ledger positions.
//! Position p is the state after the first p transfers of the ledger.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};
use synod_core::{AccountId, SignedTransfer, TransferId};
use synod_node::api::types::BlockInfo;

pub struct Chain {
    /// Every committed transfer in ledger order, with its block height.
    pub transfers: Vec<(SignedTransfer, u64)>,
    pub position: HashMap<TransferId, usize>,
}

/// One stretch of positions `[from, to]` over which an account holds one value.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub from: usize,
    pub to: usize,
    pub balance: u64,
    pub nonce: u64,
}

const BLOCK_TIMEOUT_MS: u64 = 5_000;

/// Reads blocks 0..=height from `url`.
pub async fn fetch(url: &str, height: u64) -> anyhow::Result<Chain> {
    let http = reqwest::Client::builder().timeout(Duration::from_millis(BLOCK_TIMEOUT_MS)).build()?;
    let mut chain = Chain { transfers: Vec::new(), position: HashMap::new() };
    for h in 0..=height {
        let r = http.get(format!("{url}/v1/blocks/{h}")).send().await.with_context(|| format!("block {h}"))?;
        if h == 0 && r.status() == reqwest::StatusCode::NOT_FOUND {
            continue;
        }
        let block: BlockInfo = r.error_for_status()?.json().await.with_context(|| format!("block {h}"))?;
        if block.header.ledger_size != chain.transfers.len() as u64 + block.transfers.len() as u64 {
            bail!("block {h}: ledger size {} does not follow from the blocks before", block.header.ledger_size);
        }
        for t in block.transfers {
            chain.position.insert(t.transfer.id(), chain.transfers.len());
            chain.transfers.push((t.transfer, h));
        }
    }
    Ok(chain)
}

impl Chain {
    /// Each account's segments, from the genesis balances. Fees are zero in Paxos mode.
    pub fn segments(&self, genesis: &[(AccountId, u64)]) -> anyhow::Result<HashMap<AccountId, Vec<Segment>>> {
        let mut state: HashMap<AccountId, (u64, u64)> = genesis.iter().map(|&(a, b)| (a, (b, 0))).collect();
        let mut segs: HashMap<AccountId, Vec<Segment>> = genesis
            .iter()
            .map(|&(a, b)| (a, vec![Segment { from: 0, to: self.transfers.len(), balance: b, nonce: 0 }]))
            .collect();
        for (p, (tx, _)) in self.transfers.iter().enumerate() {
            let t = &tx.transfer;
            let from = state.entry(t.from).or_insert((0, 0));
            from.0 = from.0.checked_sub(t.amount).with_context(|| format!("ledger position {p} overdraws"))?;
            from.1 += 1;
            let after_from = *from;
            let to = state.entry(t.to).or_insert((0, 0));
            to.0 = to.0.checked_add(t.amount).context("balance overflow")?;
            let after_to = *to;
            for (account, (balance, nonce)) in [(t.from, after_from), (t.to, after_to)] {
                let list = segs.entry(account).or_default();
                if let Some(last) = list.last_mut() {
                    last.to = p;
                }
                list.push(Segment { from: p + 1, to: self.transfers.len(), balance, nonce });
            }
        }
        Ok(segs)
    }
}
