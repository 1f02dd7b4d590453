//! `synod multisig`: make an M-of-N policy file, and combine the parts that
//! each signer made offline (`synod transfer --from-policy ... --sign-only`)
//! into one transfer for `synod submit`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use synod_core::multisig::{MultisigAuth, Policy, POLICY_KEYS_MAX};
use synod_core::{AccountId, SignedTransfer};

use crate::failure::UsageError;

#[derive(clap::Subcommand)]
pub enum MultisigCommand {
    /// Write an M-of-N policy file (threshold, sorted keys) with its account id.
    New(NewArgs),
    /// Merge the signed parts of one transfer into the full transfer JSON.
    Combine(CombineArgs),
}

#[derive(clap::Args)]
pub struct NewArgs {
    /// Signatures needed to spend (M, 1..=N).
    #[arg(long)]
    pub threshold: u8,
    /// A key of the policy: a key file or a 64-hex public key; repeat for each (N <= 16).
    #[arg(long = "key", required = true)]
    pub keys: Vec<String>,
    /// Write the policy file here (refuses to overwrite) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON object (the policy file) even with --out.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct CombineArgs {
    /// Part files (`synod transfer --sign-only` output), or `-` for one part on stdin.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Accepted for uniformity: the output is always the transfer's JSON.
    #[arg(long)]
    pub json: bool,
}

/// A policy file: the policy and, for the reader's convenience and as a
/// check, the account id it hashes to.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub account: AccountId,
    pub threshold: u8,
    pub keys: Vec<AccountId>,
}

impl PolicyFile {
    pub fn policy(&self) -> Policy {
        Policy { threshold: self.threshold, keys: self.keys.clone() }
    }
}

/// Reads and checks a policy file: well-formed, and its account is its hash.
pub fn read_policy(path: &Path) -> anyhow::Result<Policy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading policy file {}", path.display()))?;
    let file: PolicyFile =
        serde_json::from_str(&text).with_context(|| format!("{} is not a policy file", path.display()))?;
    let policy = file.policy();
    policy.check().with_context(|| format!("policy file {}", path.display()))?;
    if policy.account() != file.account {
        bail!("policy file {}: account {} is not the policy's id {}", path.display(), file.account, policy.account());
    }
    Ok(policy)
}

/// The policy in `text` if it names a policy file (for `--to`), else `None`.
pub fn policy_arg(text: &str) -> anyhow::Result<Option<Policy>> {
    let path = Path::new(text);
    if text.parse::<AccountId>().is_ok() || !path.is_file() {
        return Ok(None);
    }
    let raw = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let is_policy = serde_json::from_str::<serde_json::Value>(&raw).ok().is_some_and(|v| v.get("threshold").is_some());
    if !is_policy {
        return Ok(None);
    }
    read_policy(path).map(Some)
}

pub fn run(c: MultisigCommand) -> anyhow::Result<ExitCode> {
    match c {
        MultisigCommand::New(a) => new(a),
        MultisigCommand::Combine(a) => combine(a),
    }
}

fn new(a: NewArgs) -> anyhow::Result<ExitCode> {
    if a.keys.len() > POLICY_KEYS_MAX {
        return Err(UsageError(format!("{} keys: a policy has at most {POLICY_KEYS_MAX}", a.keys.len())).into());
    }
    let mut keys = Vec::with_capacity(a.keys.len());
    for k in &a.keys {
        keys.push(crate::keyfile::account_arg(k).with_context(|| format!("--key {k}"))?);
    }
    keys.sort();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(UsageError(format!("key {} is given twice", w[0])).into());
    }
    let policy = Policy { threshold: a.threshold, keys };
    policy.check().context("the policy is not valid")?;
    let file = PolicyFile { account: policy.account(), threshold: policy.threshold, keys: policy.keys.clone() };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    match &a.out {
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            let mut f = options.open(path).with_context(|| format!("creating policy file {}", path.display()))?;
            std::io::Write::write_all(&mut f, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            if a.json {
                crate::output::json(&file);
            } else {
                println!(
                    "{}-of-{} account {} written to {}",
                    policy.threshold,
                    policy.keys.len(),
                    file.account,
                    path.display()
                );
            }
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn read_part(path: &Path) -> anyhow::Result<SignedTransfer> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading a part from stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading part {}", path.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not a transfer JSON", path.display()))
}

/// Merges parts: same transfer, same policy, same receiver policy; every
/// signature verifies; no signer twice; at least the threshold in all.
pub fn merge(parts: &[(String, SignedTransfer)]) -> anyhow::Result<SignedTransfer> {
    let Some((first_name, first)) = parts.first() else { bail!("no parts") };
    let Some(first_auth) = &first.multisig else { bail!("{first_name} is not a multi-signature transfer part") };
    let message = first.transfer.signing_bytes();
    let mut signatures = Vec::new();
    for (name, part) in parts {
        let Some(auth) = &part.multisig else { bail!("{name} is not a multi-signature transfer part") };
        if part.transfer != first.transfer {
            bail!(
                "{name} is for transfer {}, {first_name} for {}: parts must sign the same transfer",
                part.id(),
                first.id()
            );
        }
        if auth.threshold != first_auth.threshold || auth.keys != first_auth.keys || part.to_policy != first.to_policy {
            bail!("{name} carries another policy than {first_name}");
        }
        for s in &auth.signatures {
            let key = auth
                .keys
                .get(usize::from(s.signer))
                .with_context(|| format!("{name}: signer {} is not in the policy", s.signer))?;
            synod_core::crypto::verify_strict(key, &message, &s.signature)
                .map_err(|e| anyhow::anyhow!("{name}: the signature of signer {} ({key}): {e}", s.signer))?;
            signatures.push(*s);
        }
    }
    signatures.sort_by_key(|s| s.signer);
    if let Some(w) = signatures.windows(2).find(|w| w[0].signer == w[1].signer) {
        bail!("signer {} ({}) signed in more than one part", w[0].signer, first_auth.keys[usize::from(w[0].signer)]);
    }
    if signatures.len() < usize::from(first_auth.threshold) {
        bail!("{} signatures, the policy needs {}", signatures.len(), first_auth.threshold);
    }
    let auth = MultisigAuth { threshold: first_auth.threshold, keys: first_auth.keys.clone(), signatures };
    let mut out = SignedTransfer::with_multisig(first.transfer.clone(), auth);
    out.to_policy = first.to_policy.clone();
    Ok(out)
}

fn combine(a: CombineArgs) -> anyhow::Result<ExitCode> {
    let mut parts = Vec::with_capacity(a.parts.len());
    for path in &a.parts {
        parts.push((path.display().to_string(), read_part(path)?));
    }
    let tx = merge(&parts)?;
    crate::output::json(&tx);
    Ok(ExitCode::SUCCESS)
}
