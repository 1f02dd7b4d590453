//! `synod genesis`: a genesis file (PROTOCOL.md section 3) funding the
//! accounts of key files, so an operator never copies account hex by hand.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use rand::RngCore;
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis};

use crate::failure::UsageError;

#[derive(clap::Args)]
pub struct GenesisArgs {
    /// An account to fund: a key file, a policy file (`synod multisig new`)
    /// or a 64-hex account id, optionally
    /// `=AMOUNT` (default --amount). Repeat for each account.
    #[arg(long = "fund", value_name = "KEY_OR_ACCOUNT[=AMOUNT]", required = true)]
    pub funds: Vec<String>,
    /// Units for each --fund without its own `=AMOUNT`.
    #[arg(long, default_value_t = 1_000_000_000)]
    pub amount: u64,
    /// Chain id (default: random, so transfers signed for another ledger cannot be replayed here).
    #[arg(long)]
    pub chain_id: Option<u64>,
    /// Transfer authentication: ed25519, or none (trusted clients only).
    #[arg(long, default_value = "ed25519")]
    pub auth: AuthMode,
    /// Timestamp of block 0 in ms since the Unix epoch (default: now).
    #[arg(long)]
    pub timestamp_ms: Option<u64>,
    /// Where to write the genesis (refuses to overwrite an existing file).
    #[arg(long, default_value = "genesis.json")]
    pub out: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// One `--fund` argument: the account and its amount.
fn parse_fund(text: &str, default_amount: u64) -> anyhow::Result<Allocation> {
    let (who, amount) = match text.rsplit_once('=') {
        Some((who, amount)) => {
            let amount = amount
                .parse::<u64>()
                .map_err(|e| UsageError(format!("--fund {text:?}: amount {amount:?} is not a whole number ({e})")))?;
            (who, amount)
        }
        None => (text, default_amount),
    };
    if amount == 0 {
        return Err(UsageError(format!("--fund {text:?}: the amount must be above 0")).into());
    }
    if let Some(policy) = super::multisig::policy_arg(who).with_context(|| format!("--fund {text:?}"))? {
        return Ok(Allocation::to_policy(policy, amount));
    }
    let account = crate::keyfile::account_arg(who).with_context(|| format!("--fund {text:?}"))?;
    Ok(Allocation { account, amount, policy: None })
}

/// The genesis the arguments describe, validated, and its total supply.
pub fn build(a: &GenesisArgs) -> anyhow::Result<(Genesis, u64)> {
    let mut allocations = Vec::with_capacity(a.funds.len());
    for text in &a.funds {
        allocations.push(parse_fund(text, a.amount)?);
    }
    allocations.sort_by_key(|x| x.account);
    if let Some(pair) = allocations.windows(2).find(|w| w[0].account == w[1].account) {
        bail!("account {} is funded twice; give each account once", pair[0].account);
    }
    let timestamp_ms = match a.timestamp_ms {
        Some(t) => t,
        None => u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis())?,
    };
    let chain_id = a.chain_id.unwrap_or_else(|| u64::from(rand::rngs::OsRng.next_u32()));
    let genesis = Genesis { chain_id, auth: a.auth, timestamp_ms, allocations };
    let supply = genesis.validate().context("the genesis is not valid")?;
    genesis.check_accounts().context("the genesis is not valid")?;
    Ok((genesis, supply))
}

pub fn run(a: GenesisArgs) -> anyhow::Result<ExitCode> {
    let (genesis, supply) = build(&a)?;
    let text = serde_json::to_string_pretty(&genesis)? + "\n";
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&a.out)
        .with_context(|| format!("creating {} (an existing genesis is never overwritten)", a.out.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).with_context(|| format!("writing {}", a.out.display()))?;
    let accounts: Vec<&AccountId> = genesis.allocations.iter().map(|x| &x.account).collect();
    if a.json {
        crate::output::json(&serde_json::json!({
            "genesis_file": a.out,
            "hash": hex::encode(genesis.hash()),
            "chain_id": genesis.chain_id,
            "accounts": accounts,
            "supply": supply,
        }));
    } else {
        println!(
            "genesis {} (chain {}, auth {:?}): {} {}, supply {supply}",
            a.out.display(),
            genesis.chain_id,
            genesis.auth,
            accounts.len(),
            if accounts.len() == 1 { "account" } else { "accounts" }
        );
        println!("  hash {}", hex::encode(genesis.hash()));
    }
    Ok(ExitCode::SUCCESS)
}
