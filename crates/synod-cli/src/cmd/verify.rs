//! `synod verify --data-dir DIR`: the offline audit of a stopped node.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use synod_storage::audit::audit;
use synod_storage::Store;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A node's data directory, or a `synod dev` directory (every node in it is audited).
    #[arg(long)]
    pub data_dir: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// Database file names: a Paxos or single node's ledger, a proof-of-work node's blocks.
const DB_NAMES: [&str; 2] = ["synod.redb", "pow.redb"];

/// The databases under `dir`: its own, or those of the nodes of a dev directory.
fn databases(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let own: Vec<PathBuf> = DB_NAMES.iter().map(|n| dir.join(n)).filter(|p| p.exists()).collect();
    if !own.is_empty() {
        return Ok(own);
    }
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            found.extend(DB_NAMES.iter().map(|n| e.path().join(n)).filter(|p| p.exists()));
        }
    }
    found.sort();
    if found.is_empty() {
        bail!("no synod.redb or pow.redb in {} or its node subdirectories", dir.display());
    }
    Ok(found)
}

/// Audits a proof-of-work node's block store; returns its JSON report and whether it failed.
fn audit_pow(db: &Path, json: bool) -> (serde_json::Value, bool) {
    match synod_node::pow::audit::audit(db) {
        Ok(r) => {
            if !json {
                println!(
                    "OK {}: proof-of-work chain {} height {} tip {} work {} — {} blocks stored, {} transfers, {} accounts, supply {}",
                    db.display(),
                    r.chain_id,
                    r.height,
                    r.tip,
                    r.chain_work,
                    r.blocks,
                    r.transfers,
                    r.accounts,
                    r.supply
                );
            }
            let mut v = serde_json::to_value(&r).expect("the report serialises");
            v["database"] = db.display().to_string().into();
            v["ok"] = true.into();
            (v, false)
        }
        Err(e) => {
            if !json {
                println!("FAILED {}: first inconsistency at height {}: {e}", db.display(), e.height());
            }
            (serde_json::json!({ "database": db, "ok": false, "height": e.height(), "error": e.to_string() }), true)
        }
    }
}

pub fn run(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    let mut failed = false;
    for db in databases(&a.data_dir)? {
        if db.file_name().is_some_and(|n| n == "pow.redb") {
            let (report, bad) = audit_pow(&db, a.json);
            failed |= bad;
            reports.push(report);
            continue;
        }
        let store = match Store::open(&db) {
            Ok(s) => s,
            Err(e) => bail!("cannot open {} (is the node still running?): {e}", db.display()),
        };
        match audit(&store) {
            Ok(r) => {
                if !a.json {
                    println!(
                        "OK {}: chain {} height {} head {} — {} transfers, {} accounts, supply {}",
                        db.display(),
                        r.chain_id,
                        r.height,
                        r.head_hash,
                        r.transfers,
                        r.accounts,
                        r.total_supply
                    );
                }
                reports.push(serde_json::json!({
                    "database": db, "ok": true, "chain_id": r.chain_id, "height": r.height,
                    "head_hash": r.head_hash, "transfers": r.transfers, "accounts": r.accounts,
                    "total_supply": r.total_supply,
                }));
            }
            Err(f) => {
                failed = true;
                if !a.json {
                    println!("FAILED {}: first inconsistency at height {}: {}", db.display(), f.height, f.detail);
                }
                reports.push(serde_json::json!({
                    "database": db, "ok": false, "height": f.height, "error": f.detail,
                }));
            }
        }
    }
    if a.json {
        crate::output::json(&serde_json::json!({ "ok": !failed, "databases": reports }));
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
