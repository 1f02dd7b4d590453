//! Client subcommands: talk HTTP/JSON to a node.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use synod_core::proof::ProofDocument;
use synod_core::{Transfer, TransferId};

use super::{runtime, ClientOpts};
use crate::output::count;

#[derive(clap::Args)]
pub struct TransferArgs {
    /// Sender's key file (with --from-policy: this signer's key file).
    #[arg(long)]
    pub key: PathBuf,
    /// Receiver: account id (64 hex), key file, or policy file (`synod
    /// multisig new`; its policy is revealed so the ledger accepts the id).
    #[arg(long)]
    pub to: String,
    /// Send from the multi-signature account of this policy file; --key must
    /// be one of its keys. Unless the threshold is 1, use --sign-only and
    /// `synod multisig combine` the parts.
    #[arg(long, value_name = "FILE")]
    pub from_policy: Option<PathBuf>,
    /// Sign offline and print the transfer (or this signer's part) as JSON
    /// instead of submitting it; needs --nonce and --chain-id.
    #[arg(long, requires_all = ["nonce", "chain_id"])]
    pub sign_only: bool,
    /// The ledger's chain id (default: asked from the node; needed offline).
    #[arg(long)]
    pub chain_id: Option<u64>,
    /// Units to send (> 0).
    #[arg(long)]
    pub amount: u64,
    /// User data, up to 64 bytes of UTF-8.
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Nonce to use (default: the account's next nonce, asked from the node).
    #[arg(long)]
    pub nonce: Option<u64>,
    /// Fee paid to the miner (proof-of-work mode only; Paxos ledgers require 0).
    #[arg(long, default_value_t = 0)]
    pub fee: u64,
    #[command(flatten)]
    pub opts: ClientOpts,
}

pub fn transfer(a: TransferArgs) -> anyhow::Result<ExitCode> {
    let key = crate::keyfile::read(&a.key)?;
    let to_policy = super::multisig::policy_arg(&a.to)?;
    let to = match &to_policy {
        Some(p) => p.account(),
        None => crate::keyfile::account_arg(&a.to)?,
    };
    let from_policy = a.from_policy.as_deref().map(super::multisig::read_policy).transpose()?;
    let signer = match &from_policy {
        Some(p) => Some(
            p.keys
                .iter()
                .position(|k| *k == key.account())
                .with_context(|| format!("key {} is not one of the policy's keys", key.account()))?,
        ),
        None => None,
    };
    if let (Some(p), false) = (&from_policy, a.sign_only) {
        if p.threshold > 1 {
            return Err(crate::failure::UsageError(format!(
                "this policy needs {} signatures: each signer runs --sign-only, then `synod multisig combine` and `synod submit`",
                p.threshold
            ))
            .into());
        }
    }
    let from = from_policy.as_ref().map_or(key.account(), |p| p.account());
    let memo = a.memo.into_bytes();
    if memo.len() > synod_core::limits::MEMO_BYTES_MAX {
        bail!("memo is {} bytes; the limit is {}", memo.len(), synod_core::limits::MEMO_BYTES_MAX);
    }
    let sign = |chain_id: u64, nonce: u64| {
        let t = Transfer { chain_id, from, to, amount: a.amount, fee: a.fee, nonce, memo: memo.clone() };
        let mut tx = match (&from_policy, signer) {
            (Some(p), Some(index)) => {
                let signature = key.sign(&t.signing_bytes());
                let part = synod_core::multisig::SignerSignature { signer: index as u8, signature };
                let auth = synod_core::multisig::MultisigAuth {
                    threshold: p.threshold,
                    keys: p.keys.clone(),
                    signatures: vec![part],
                };
                synod_core::SignedTransfer::with_multisig(t, auth)
            }
            _ => t.sign(&key),
        };
        if let Some(p) = &to_policy {
            tx = tx.to_policy(p.clone());
        }
        tx
    };
    if a.sign_only {
        // clap requires both with --sign-only.
        let (Some(chain_id), Some(nonce)) = (a.chain_id, a.nonce) else {
            return Err(crate::failure::UsageError("--sign-only needs --chain-id and --nonce".into()).into());
        };
        crate::output::json(&sign(chain_id, nonce));
        return Ok(ExitCode::SUCCESS);
    }
    let client = a.opts.client()?;
    runtime().block_on(async {
        let chain_id = match a.chain_id {
            Some(c) => c,
            None => client.status().await?.chain_id,
        };
        let nonce = match a.nonce {
            Some(n) => n,
            None => client.account(&from).await?.nonce,
        };
        let tx = sign(chain_id, nonce);
        submit_and_report(&client, &tx, &a.opts).await
    })
}

#[derive(clap::Args)]
pub struct SubmitArgs {
    /// A transfer's JSON (`synod multisig combine` or `synod transfer --sign-only` output), or `-` for stdin.
    pub file: PathBuf,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// Posts a transfer someone already signed, unless the node already has it
/// committed, and waits for the answer like `synod transfer`.
pub fn submit(a: SubmitArgs) -> anyhow::Result<ExitCode> {
    let text = if a.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the transfer from stdin")?
    } else {
        std::fs::read_to_string(&a.file).with_context(|| format!("reading {}", a.file.display()))?
    };
    let tx: synod_core::SignedTransfer =
        serde_json::from_str(&text).with_context(|| format!("{} is not a transfer JSON", a.file.display()))?;
    let client = a.opts.client()?;
    runtime().block_on(async {
        let id = tx.id();
        match client.get_json(&format!("/v1/transfers/{id}")).await {
            Ok(v) => {
                if a.opts.json {
                    crate::output::json(&v);
                } else {
                    println!("already in the ledger: {id} (`synod tx {id}{}` shows it)", a.opts.node_flag());
                }
                return Ok(ExitCode::SUCCESS);
            }
            Err(synod_node::ClientError::Api { status: 404, .. }) => {}
            Err(e) => return Err(e.into()),
        }
        submit_and_report(&client, &tx, &a.opts).await
    })
}

/// Submits `tx` and prints the receipt or the rejection (exit 1).
async fn submit_and_report(
    client: &synod_node::Client,
    tx: &synod_core::SignedTransfer,
    opts: &ClientOpts,
) -> anyhow::Result<ExitCode> {
    match client.submit(tx).await {
        Ok(receipt) => {
            if opts.json {
                crate::output::json(&receipt);
            } else if receipt.status == "pending" {
                // A proof-of-work node: in its mempool, not yet mined.
                println!(
                    "pending {} (in the mempool; `synod tx {}{}` shows its confirmations)",
                    receipt.id,
                    receipt.id,
                    opts.node_flag()
                );
            } else {
                println!(
                    "committed {} in block {} (ledger index {}){}",
                    receipt.id,
                    receipt.height.unwrap_or_default(),
                    receipt.ledger_index.unwrap_or_default(),
                    if receipt.duplicate { ", already committed before" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(synod_node::ClientError::Api { status, body }) => {
            if opts.json {
                crate::output::json(&body);
            } else {
                eprintln!("rejected ({status} {}): {}", body.code, body.message);
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(clap::Args)]
pub struct BalanceArgs {
    /// Account id (64 hex) or key file.
    pub account: String,
    #[command(flatten)]
    pub opts: ClientOpts,
}

pub fn balance(a: BalanceArgs) -> anyhow::Result<ExitCode> {
    let id = crate::keyfile::account_arg(&a.account)?;
    let info = runtime().block_on(a.opts.client()?.account(&id))?;
    if a.opts.json {
        crate::output::json(&info);
    } else {
        println!("account {}\nbalance {}\nnonce   {}", info.id, info.balance, info.nonce);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct TxArgs {
    /// Transfer id (64 hex).
    pub id: String,
    /// Fetch the inclusion proof and check it locally against the ledger head.
    #[arg(long)]
    pub proof: bool,
    /// With --proof: save the proof document to this file (for `synod proof verify`).
    #[arg(long, requires = "proof")]
    pub save: Option<PathBuf>,
    /// With --proof on a proof-of-work node: the block must be on the best
    /// chain of this light client directory (`synod light`), which also
    /// gives the confirmations and the work on top of it.
    #[arg(long, requires = "proof", value_name = "DIR")]
    pub light: Option<PathBuf>,
    #[command(flatten)]
    pub opts: ClientOpts,
}

pub fn tx(a: TxArgs) -> anyhow::Result<ExitCode> {
    let id: TransferId = a.id.parse().map_err(|e| anyhow::anyhow!("transfer id: {e}"))?;
    let client = a.opts.client()?;
    runtime().block_on(async {
        let v = client.get_json(&format!("/v1/transfers/{id}?proof={}", a.proof)).await?;
        if v.get("confirmations").is_some() {
            return super::pow_client::tx(
                &client,
                &id,
                &v,
                a.proof,
                a.save.as_deref(),
                a.light.as_deref(),
                a.opts.json,
            )
            .await;
        }
        if a.light.is_some() {
            bail!(
                "--light checks proof-of-work chains; this node is a Multi-Paxos member, whose proofs --proof checks"
            );
        }
        let status = client.transfer(&id, a.proof).await?;
        if status.transfer.id() != id {
            bail!("the node returned a different transfer than asked for");
        }
        let mut verdict = None;
        if a.proof {
            let proof = status.proof.clone().context("the node sent no proof")?;
            // Check the proof against a head fetched separately: the proof's root
            // must be the root of a block header, whose hash we report.
            let head = client.head().await?;
            let header = proof.header.clone().context("proof has no header")?;
            if header.height > head.header.height {
                bail!("proof refers to block {} beyond the head {}", header.height, head.header.height);
            }
            if header.height == head.header.height && header.hash() != head.hash {
                bail!("proof header does not match the node's head");
            }
            if proof.leaf_index != status.ledger_index {
                bail!("proof is for another ledger index");
            }
            proof.verify().context("inclusion proof does NOT verify")?;
            verdict = Some(format!(
                "inclusion proof OK: leaf {} of {} under root {} (block {} {})",
                proof.leaf_index,
                proof.tree_size,
                hex::encode(proof.root),
                header.height,
                header.hash()
            ));
            if let Some(path) = &a.save {
                let doc = ProofDocument::Inclusion(proof);
                std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        if a.opts.json {
            let mut v = serde_json::to_value(&status)?;
            if verdict.is_some() {
                v["proof_verified"] = true.into();
            }
            crate::output::json(&v);
        } else {
            let t = &status.transfer.transfer;
            println!("transfer {}", status.id);
            println!("  from   {}\n  to     {}\n  amount {}\n  nonce  {}", t.from, t.to, t.amount, t.nonce);
            println!(
                "  block  {} ({}) index {}, ledger index {}",
                status.height, status.block_hash, status.index_in_block, status.ledger_index
            );
            if let Some(v) = verdict {
                println!("{v}");
            }
            if let Some(path) = &a.save {
                println!("proof saved to {}", path.display());
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(clap::Args)]
pub struct BlockArgs {
    pub height: u64,
    #[command(flatten)]
    pub opts: ClientOpts,
}

pub fn block(a: BlockArgs) -> anyhow::Result<ExitCode> {
    let raw = runtime().block_on(a.opts.client()?.get_json(&format!("/v1/blocks/{}", a.height)))?;
    // A proof-of-work block has an 80-byte Bitcoin-style header (PROTOCOL 6.1).
    if raw["header"].get("bits").is_some() {
        return super::pow_client::block(&raw, a.opts.json);
    }
    let info: synod_node::api::types::BlockInfo = serde_json::from_value(raw).context("the node's block")?;
    if info.header.hash() != info.hash {
        bail!("the block's header does not hash to the hash the node reported");
    }
    if a.opts.json {
        crate::output::json(&info);
    } else {
        print_header(&info.hash, &info.header);
        for t in &info.transfers {
            println!(
                "  {} {} -> {} amount {}",
                t.id, t.transfer.transfer.from, t.transfer.transfer.to, t.transfer.transfer.amount
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct HeadArgs {
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// `synod status`: the node's `/v1/status`, as JSON (`--json`) or a summary.
pub fn status(a: HeadArgs) -> anyhow::Result<ExitCode> {
    let v = runtime().block_on(a.opts.client()?.get_json("/v1/status"))?;
    if a.opts.json {
        crate::output::json(&v);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "consensus {}  chain {}  height {}  head {}",
        super::pow_client::json_text(&v["consensus"]),
        v["chain_id"],
        v["height"],
        super::pow_client::json_text(&v["head_hash"])
    );
    if let Some(p) = v.get("pow") {
        println!(
            "tip work {}  difficulty {:.3}  hash rate {:.0}/s  mining {}  mempool {}",
            p["chain_work"].as_str().unwrap_or_default(),
            p["difficulty"].as_f64().unwrap_or_default(),
            p["hashrate_hashes_per_second"].as_f64().unwrap_or_default(),
            p["mining"],
            p["mempool_transfers"]
        );
        if let Some(peers) = p["peers"].as_object() {
            for (id, row) in peers {
                println!(
                    "  peer {id}: connected {} best height {} ban score {}",
                    row["connected"], row["best_height"], row["ban_score"]
                );
            }
        }
    } else if let Some(c) = v.get("cluster") {
        print!("{}", super::status_table::cluster(c));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn head(a: HeadArgs) -> anyhow::Result<ExitCode> {
    let raw = runtime().block_on(a.opts.client()?.get_json("/v1/head"))?;
    if raw.get("chain_work").is_some() {
        return super::pow_client::head(&raw, a.opts.json);
    }
    let info: synod_node::api::types::HeadInfo = serde_json::from_value(raw)?;
    if info.header.hash() != info.hash {
        bail!("the head header does not hash to the hash the node reported");
    }
    if a.opts.json {
        crate::output::json(&info);
    } else {
        print_header(&info.hash, &info.header);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_header(hash: &synod_core::BlockHash, h: &synod_core::BlockHeader) {
    println!("block {} {}", h.height, hash);
    println!("  prev        {}", hex::encode(h.prev_hash));
    println!("  time        {}", crate::output::utc_time_ms(h.timestamp_ms, crate::output::now_ms()));
    println!(
        "  transfers   {} (root {})",
        count(u64::from(h.tx_count), "transfer", "transfers"),
        hex::encode(h.tx_root)
    );
    println!("  ledger      {} (root {})", count(h.ledger_size, "transfer", "transfers"), hex::encode(h.ledger_root));
}
