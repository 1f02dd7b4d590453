//! Client views of a proof-of-work node (`synod tx`, `synod head`), checked
//! locally rather than relayed: headers are rebuilt from their JSON fields
//! and hashed, their proof of work compared with their `bits`, a transfer's
//! inclusion proof verified against its block's Merkle root, and the headers
//! that bury it checked to link up to the tip.

use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::Value;
use synod_core::{SignedTransfer, TransferId};
use synod_pow::{BlockHash, Compact, Header, U256};

/// Most headers above a transfer's block that `synod tx --proof` checks.
pub const CONFIRMATION_HEADERS_CHECKED_MAX: u64 = 1_000;

/// A JSON string without its quotes; any other value as JSON.
pub fn json_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Rebuilds an 80-byte header from the API's header JSON (PROTOCOL §6.1).
pub fn header_from_json(h: &Value) -> anyhow::Result<Header> {
    let field = |name: &str| h[name].as_u64().with_context(|| format!("header has no {name}"));
    let bytes = hex::decode(h["merkle_root"].as_str().unwrap_or_default()).context("merkle_root")?;
    let merkle_root: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("merkle_root is not 32 bytes"))?;
    let prev_hash: BlockHash =
        h["prev_hash"].as_str().unwrap_or_default().parse().map_err(|e| anyhow::anyhow!("prev_hash: {e}"))?;
    Ok(Header {
        version: i32::try_from(h["version"].as_i64().context("header has no version")?)?,
        prev_hash,
        merkle_root,
        time: u32::try_from(field("time")?)?,
        bits: u32::from_str_radix(h["bits"].as_str().unwrap_or_default(), 16).context("bits")?,
        nonce: u32::try_from(field("nonce")?)?,
    })
}

/// Rebuilds the header of an API block (or head) object, checks that it
/// hashes to the reported hash and (above block 0, which is not mined) meets
/// the target of its own `bits`.
fn checked_header(block: &Value) -> anyhow::Result<Header> {
    let header = header_from_json(&block["header"])?;
    let hash = header.block_hash();
    if hash.to_string() != block["hash"].as_str().unwrap_or_default() {
        bail!("block {}: the header does not hash to the hash the node reported", block["height"]);
    }
    // Block 0 is not mined (PROTOCOL 8): its header is fixed by the genesis.
    if block["height"] == 0 {
        return Ok(header);
    }
    let target = Compact::target(header.bits, &U256::MAX).map_err(|e| anyhow::anyhow!("bits: {e}"))?;
    if hash.to_u256() > target {
        bail!("block {}: the header's hash does not meet its own target", block["height"]);
    }
    Ok(header)
}

/// `synod head` against a proof-of-work node.
pub fn head(v: &Value, json: bool) -> anyhow::Result<ExitCode> {
    let header = checked_header(v)?;
    if json {
        crate::output::json(v);
        return Ok(ExitCode::SUCCESS);
    }
    println!("block {} {}", v["height"], header.block_hash());
    println!("  prev        {}", header.prev_hash);
    println!("  time        {}", header_time(&header));
    println!("  bits        {:08x}", header.bits);
    println!("  chain work  {}", json_text(&v["chain_work"]));
    Ok(ExitCode::SUCCESS)
}

fn header_time(header: &Header) -> String {
    crate::output::utc_time_ms(u64::from(header.time) * 1000, crate::output::now_ms())
}

/// `synod block N` against a proof-of-work node: the header checked as for
/// `head`, the coinbase and the transfers.
pub fn block(v: &Value, json: bool) -> anyhow::Result<ExitCode> {
    let header = checked_header(v)?;
    if json {
        crate::output::json(v);
        return Ok(ExitCode::SUCCESS);
    }
    let transfers = v["transfers"].as_array().map_or(&[][..], Vec::as_slice);
    println!("block {} {}", v["height"], header.block_hash());
    println!("  prev          {}", header.prev_hash);
    println!("  time          {}", header_time(&header));
    println!("  bits          {:08x}", header.bits);
    println!("  merkle root   {}", hex::encode(header.merkle_root));
    if let Some(c) = v["confirmations"].as_u64() {
        println!("  confirmations {c}");
    }
    if let Some(cb) = v.get("coinbase") {
        println!("  coinbase      {} to {}", cb["amount"], json_text(&cb["miner"]));
    }
    println!("  {}", crate::output::count(transfers.len() as u64, "transfer", "transfers"));
    for t in transfers {
        println!(
            "  {} {} -> {} amount {} fee {}",
            json_text(&t["id"]),
            json_text(&t["from"]),
            json_text(&t["to"]),
            t["amount"],
            t["fee"]
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `synod tx ID [--proof]` against a proof-of-work node.
pub async fn tx(
    client: &synod_node::Client,
    id: &TransferId,
    v: &Value,
    proof: bool,
    save: Option<&std::path::Path>,
    light: Option<&std::path::Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let transfer: SignedTransfer = serde_json::from_value(v["transfer"].clone()).context("the node's transfer")?;
    if transfer.id() != *id {
        bail!("the node returned a different transfer than asked for");
    }
    if proof && v["status"] != "confirmed" {
        // Exiting 0 here would read as "proof checked" to a script.
        bail!(
            "transfer {id} is {}: not in a block yet, so there is no inclusion proof to check",
            json_text(&v["status"])
        );
    }
    let verdict = if proof { Some(check_proof(client, &transfer, v, light).await?) } else { None };
    if let Some(path) = save {
        save_proof(path, &transfer, &v["proof"])?;
    }
    if json {
        let mut out = v.clone();
        match verdict {
            Some(Checked::NodeHeaders(checked)) => {
                out["proof_verified"] = true.into();
                out["confirmations_checked"] = checked.into();
            }
            Some(Checked::Light { confirmations, work_on_top, best_height }) => {
                out["proof_verified"] = true.into();
                out["light"] = serde_json::json!({
                    "on_best_chain": true,
                    "confirmations": confirmations,
                    "work_on_top": work_on_top.to_string(),
                    "best_height": best_height,
                });
            }
            None => {}
        }
        crate::output::json(&out);
        return Ok(ExitCode::SUCCESS);
    }
    let t = &transfer.transfer;
    println!("transfer {id}");
    println!("  from   {}\n  to     {}\n  amount {}\n  fee    {}\n  nonce  {}", t.from, t.to, t.amount, t.fee, t.nonce);
    match v["status"].as_str() {
        Some("confirmed") => println!(
            "  block  {} ({}) index {}\n  confirmations {}",
            v["height"],
            json_text(&v["block_hash"]),
            v["index_in_block"],
            v["confirmations"]
        ),
        _ => println!("  pending (in the node's mempool)"),
    }
    match verdict {
        Some(Checked::NodeHeaders(checked)) => println!(
            "inclusion proof OK under the block's Merkle root; {checked} headers from the block up checked \
             (hashes, proof of work, links)"
        ),
        Some(Checked::Light { confirmations, work_on_top, best_height }) => println!(
            "inclusion proof OK under the block's Merkle root; the block is on the light client's best chain \
             (tip {best_height}): {confirmations} confirmations, chain work {work_on_top} on top of it"
        ),
        None => {}
    }
    if let Some(path) = save {
        println!("proof saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the (already checked) proof as an inclusion proof document that
/// `synod proof verify` reads: its root is the block header's Merkle root,
/// and it carries the transfer (no header: a proof-of-work header is not the
/// ledger header that document format names).
fn save_proof(path: &std::path::Path, transfer: &SignedTransfer, p: &Value) -> anyhow::Result<()> {
    let mut doc = p.clone();
    doc["type"] = "inclusion".into();
    doc["transfer"] = serde_json::to_value(transfer)?;
    let doc: synod_core::proof::ProofDocument =
        serde_json::from_value(doc).context("the node's proof is not an inclusion proof document")?;
    std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// What `--proof` established besides the inclusion proof itself.
enum Checked {
    /// This many headers from the block up, as the node handed them over.
    NodeHeaders(u64),
    /// The block is on the light client's own best chain.
    Light { confirmations: u64, work_on_top: U256, best_height: u64 },
}

/// Checks the transfer's inclusion proof against its block's header, then
/// either the headers above it as the node hands them over or, with a light
/// client directory, that the block is on the light client's best chain.
async fn check_proof(
    client: &synod_node::Client,
    transfer: &SignedTransfer,
    v: &Value,
    light: Option<&std::path::Path>,
) -> anyhow::Result<Checked> {
    let p = &v["proof"];
    let height = v["height"].as_u64().context("no height")?;
    if height == 0 {
        // Block 0 is not mined and holds no transfers: a node claiming otherwise is lying.
        bail!("the node places the transfer in block 0, which holds no transfers");
    }
    let block = client.get_json(&format!("/v1/blocks/{height}")).await?;
    let header = checked_header(&block)?;
    if header.block_hash().to_string() != json_text(&v["block_hash"]) {
        bail!("the transfer's block hash is not the hash of block {height}");
    }
    let hash32 = |s: &Value| -> anyhow::Result<[u8; 32]> {
        let bytes = hex::decode(s.as_str().unwrap_or_default())?;
        bytes.try_into().map_err(|_| anyhow::anyhow!("not 32 bytes"))
    };
    let leaf = transfer.leaf_hash();
    if hash32(&p["leaf_hash"])? != leaf {
        bail!("the proof's leaf is not this transfer's record");
    }
    let path: Vec<[u8; 32]> =
        p["path"].as_array().context("proof has no path")?.iter().map(hash32).collect::<anyhow::Result<_>>()?;
    let index = p["leaf_index"].as_u64().context("proof has no leaf_index")?;
    let size = p["tree_size"].as_u64().context("proof has no tree_size")?;
    if index != v["index_in_block"].as_u64().unwrap_or(u64::MAX).wrapping_add(1) {
        bail!("the proof is for another record of the block");
    }
    synod_merkle::verify_inclusion(&leaf, index, size, &path, &header.merkle_root)
        .map_err(|e| anyhow::anyhow!("inclusion proof does NOT verify: {e}"))?;
    if let Some(dir) = light {
        // The header the proof verified against hashes to the block hash; the
        // light client, not the node, says whether that block is on the
        // most-work chain.
        let light = super::light_dir::LightDir::load(dir)?;
        let hash = header.block_hash();
        let Some((confirmations, work_on_top)) = light.store.confirmations(&hash) else {
            bail!(
                "block {height} ({hash}) holding the transfer is NOT on the light client's best chain \
                 (tip {} {}); run `synod light sync` against more nodes, or the node is lying",
                light.store.best().height,
                light.store.best().hash
            );
        };
        return Ok(Checked::Light { confirmations, work_on_top, best_height: light.store.best().height });
    }
    // The headers burying it: each hashes right, meets its target and links to the one below.
    let tip = client.get_json("/v1/head").await?["height"].as_u64().context("head has no height")?;
    let top = tip.min(height + CONFIRMATION_HEADERS_CHECKED_MAX - 1);
    let mut below = header.block_hash();
    for h in height + 1..=top {
        let b = client.get_json(&format!("/v1/blocks/{h}")).await?;
        let hd = checked_header(&b)?;
        if hd.prev_hash != below {
            bail!("block {h} does not link to block {}", h - 1);
        }
        below = hd.block_hash();
    }
    Ok(Checked::NodeHeaders(top - height + 1))
}
