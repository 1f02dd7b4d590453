//! `synod pow verify-headers FILE [--start-height H]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use synod_pow::{verify_headers, Params};

#[derive(clap::Subcommand)]
pub enum PowCommand {
    /// Check a file of concatenated 80-byte Bitcoin mainnet headers: linkage,
    /// proof of work, the retarget rule, median time past and (with
    /// --start-height) the BIP34/66/65 minimum versions.
    VerifyHeaders {
        file: PathBuf,
        /// Height of the first header. Without it the retarget rule cannot be
        /// placed and is not checked; errors then name the index in the file.
        #[arg(long)]
        start_height: Option<u64>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(c: PowCommand) -> anyhow::Result<ExitCode> {
    let PowCommand::VerifyHeaders { file, start_height, json } = c;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    match verify_headers(&bytes, start_height, &Params::bitcoin_mainnet()) {
        Ok(r) => {
            if json {
                crate::output::json(&serde_json::json!({
                    "ok": true,
                    "count": r.count,
                    "first_height": r.first_height,
                    "first_hash": r.first_hash.to_string(),
                    "last_hash": r.last_hash.to_string(),
                    "total_work": r.total_work.to_string(),
                    "retargets_checked": r.retargets_checked,
                    "median_time_checked": r.median_time_checked,
                }));
            } else {
                println!("headers     {}", r.count);
                println!("last hash   {}", r.last_hash);
                println!("total work  {}", r.total_work);
                println!("retargets checked {}, median-time checks {}", r.retargets_checked, r.median_time_checked);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                crate::output::json(&serde_json::json!({
                    "ok": false, "height": e.height, "rule": e.rule.to_string(), "detail": e.detail,
                }));
            } else {
                println!("INVALID header at height {}: {}: {}", e.height, e.rule, e.detail);
            }
            Ok(ExitCode::from(1))
        }
    }
}
