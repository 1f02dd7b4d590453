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

/// The databases under `dir`: its own, or those of the nodes of a dev directory.
fn databases(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let own = dir.join("synod.redb");
    if own.exists() {
        return Ok(vec![own]);
    }
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let db = e.path().join("synod.redb");
            if db.exists() {
                found.push(db);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        bail!("no synod.redb in {} or its node subdirectories", dir.display());
    }
    Ok(found)
}

pub fn run(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    let mut failed = false;
    for db in databases(&a.data_dir)? {
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
