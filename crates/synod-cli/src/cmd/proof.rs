//! `synod proof verify FILE` (offline) and `synod proof consistency` (fetch and check).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use synod_core::proof::ProofDocument;

use super::{runtime, ClientOpts};

#[derive(clap::Subcommand)]
pub enum ProofCommand {
    /// Check a saved inclusion or consistency proof, with no node.
    Verify {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Fetch a consistency proof between two ledger sizes and check it.
    Consistency {
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: u64,
        /// Save the proof document to this file.
        #[arg(long)]
        save: Option<PathBuf>,
        #[command(flatten)]
        opts: ClientOpts,
    },
}

pub fn run(c: ProofCommand) -> anyhow::Result<ExitCode> {
    match c {
        ProofCommand::Verify { file, json } => verify_file(&file, json),
        ProofCommand::Consistency { from, to, save, opts } => {
            let proof = runtime().block_on(opts.client()?.consistency(from, to))?;
            let result = proof.verify();
            if let Some(path) = &save {
                let doc = ProofDocument::Consistency(proof.clone());
                std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
            }
            report(&ProofDocument::Consistency(proof), result, opts.json)
        }
    }
}

fn verify_file(file: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let doc: ProofDocument =
        serde_json::from_str(&text).with_context(|| format!("{} is not a proof document", file.display()))?;
    let result = doc.verify();
    report(&doc, result, json)
}

fn report(
    doc: &ProofDocument,
    result: Result<(), synod_core::proof::ProofError>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let summary = match doc {
        ProofDocument::Inclusion(p) => format!(
            "inclusion of leaf {} in a ledger of {} transfers, root {}{}",
            p.leaf_index,
            p.tree_size,
            hex::encode(p.root),
            p.header.as_ref().map(|h| format!(" (block {} {})", h.height, h.hash())).unwrap_or_default()
        ),
        ProofDocument::Consistency(p) => format!(
            "consistency of ledger size {} (root {}) with size {} (root {})",
            p.from_size,
            hex::encode(p.from_root),
            p.to_size,
            hex::encode(p.to_root)
        ),
    };
    let ok = result.is_ok();
    if json {
        crate::output::json(&serde_json::json!({
            "valid": ok,
            "summary": summary,
            "error": result.as_ref().err().map(|e| e.to_string()),
        }));
    } else if let Err(e) = &result {
        println!("INVALID: {summary}: {e}");
    } else {
        println!("valid: {summary}");
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
