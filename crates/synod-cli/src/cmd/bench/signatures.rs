//! `synod bench --signatures N`: how many signed transfers one core verifies
//! per second, one by one with strict Ed25519 verification (the path before
//! issue 11's lever 3) and through the batch path of synod-core's `sig_batch`
//! (same verdicts), with batching off, for every key, and by default. No ledger, no network: N valid
//! transfers from `--clients` senders (default: one sender per transfer, so
//! no key repeats and the per-key cache cannot help) are signed first, then
//! verified both ways on this thread.

use std::time::Instant;

use anyhow::bail;
use serde::Serialize;
use synod_core::crypto::verify_strict;
use synod_core::sig_batch::{verify_strict_batched_with, SignatureCheck};
use synod_core::verify_many::verify_all;
use synod_core::{AuthMode, SignedTransfer, Transfer};

use super::accounts;
use super::report::{int, rate};
use super::BenchArgs;

/// Most transfers one `--signatures` run signs and verifies (memory and time bound).
pub const SIGNATURES_MAX: usize = 1_000_000;

#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    pub transfers: usize,
    pub senders: usize,
    /// Signatures per second, one core: `crypto::verify_strict` one by one (the path before lever 3).
    pub strict_per_s: f64,
    /// Strict verification with each key decoded once per call (batching off).
    pub strict_key_cached_per_s: f64,
    /// Batch equations for every key (key uses minimum 1).
    pub batch_every_key_per_s: f64,
    /// Batch equations for keys used at least 8 times in the call.
    pub batch_keys_used_8_per_s: f64,
    /// Whole stateless check per transfer (shape, receiver, signature), one core:
    /// `check_stateless` one by one, then `verify_all` with one thread (its
    /// default: strict, each key decoded once, batch equations off).
    pub transfers_check_stateless_per_s: f64,
    pub transfers_verify_all_per_s: f64,
}

pub fn run(a: &BenchArgs, transfers: usize) -> anyhow::Result<SignatureReport> {
    if transfers == 0 || transfers > SIGNATURES_MAX {
        bail!("--signatures must be 1..={SIGNATURES_MAX}, got {transfers}");
    }
    let senders_count = a.clients.unwrap_or(transfers).clamp(1, transfers);
    let senders = accounts::derive(a.seed, senders_count);
    let txs: Vec<SignedTransfer> = (0..transfers)
        .map(|i| {
            let s = &senders[i % senders_count];
            let nonce = (i / senders_count) as u64;
            Transfer { chain_id: 1, from: s.account, to: s.sink, amount: 1, fee: 0, nonce, memo: Vec::new() }
                .sign(&s.key)
        })
        .collect();
    let messages: Vec<Vec<u8>> = txs.iter().map(|tx| tx.transfer.signing_bytes()).collect();
    let checks: Vec<SignatureCheck<'_>> = txs
        .iter()
        .zip(&messages)
        .filter_map(|(tx, message)| {
            let signature = tx.signature.as_ref()?;
            Some(SignatureCheck { account: &tx.transfer.from, message, signature })
        })
        .collect();

    let per_s = |accepted: usize, started: Instant| -> anyhow::Result<f64> {
        let seconds = started.elapsed().as_secs_f64();
        if accepted != transfers {
            bail!("verification refused valid transfers: accepted {accepted} of {transfers}");
        }
        Ok(transfers as f64 / seconds)
    };
    let started = Instant::now();
    let ok = checks.iter().filter(|c| verify_strict(c.account, c.message, c.signature).is_ok()).count();
    let strict_per_s = per_s(ok, started)?;
    let batched = |key_uses_min: usize| -> anyhow::Result<f64> {
        let started = Instant::now();
        let ok = verify_strict_batched_with(&checks, key_uses_min).0.iter().filter(|v| v.is_ok()).count();
        per_s(ok, started)
    };
    let strict_key_cached_per_s = batched(usize::MAX)?;
    let batch_every_key_per_s = batched(1)?;
    let batch_keys_used_8_per_s = batched(8)?;
    drop(checks);

    let started = Instant::now();
    let ok = txs.iter().filter(|tx| tx.check_stateless(AuthMode::Ed25519).is_ok()).count();
    let transfers_check_stateless_per_s = per_s(ok, started)?;
    let started = Instant::now();
    let ok = verify_all(txs, AuthMode::Ed25519, 1).iter().filter(|v| v.is_ok()).count();
    let transfers_verify_all_per_s = per_s(ok, started)?;
    Ok(SignatureReport {
        transfers,
        senders: senders_count,
        strict_per_s,
        strict_key_cached_per_s,
        batch_every_key_per_s,
        batch_keys_used_8_per_s,
        transfers_check_stateless_per_s,
        transfers_verify_all_per_s,
    })
}

impl SignatureReport {
    pub fn print_text(&self) {
        println!(
            "signature verification, one core, {} transfers from {} senders (per second):",
            int(self.transfers as u64),
            int(self.senders as u64)
        );
        let line = |name: &str, x: f64| println!("  {name:<44} {:>9}  {:.2}x", rate(x), x / self.strict_per_s);
        line("signatures, strict one by one", self.strict_per_s);
        line("signatures, strict, key decoded once", self.strict_key_cached_per_s);
        line("signatures, batch for every key", self.batch_every_key_per_s);
        line("signatures, batch for keys used >= 8 times", self.batch_keys_used_8_per_s);
        let line = |name: &str, x: f64| {
            println!("  {name:<44} {:>9}  {:.2}x", rate(x), x / self.transfers_check_stateless_per_s)
        };
        line("transfers, check_stateless one by one", self.transfers_check_stateless_per_s);
        line("transfers, verify_all on one thread", self.transfers_verify_all_per_s);
    }
}
