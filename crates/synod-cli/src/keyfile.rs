//! Key files: JSON `{"account": hex, "secret_seed": hex}`. The seed is the
//! Ed25519 secret; the file is written with mode 0600.

use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use synod_core::crypto::Keypair;
use synod_core::AccountId;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub account: AccountId,
    #[serde(with = "synod_core::hexbytes::array")]
    pub secret_seed: [u8; 32],
}

pub fn write(path: &Path, key: &Keypair) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = KeyFile { account: key.account(), secret_seed: key.seed() };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).with_context(|| format!("creating key file {}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    Ok(())
}

pub fn read(path: &Path) -> anyhow::Result<Keypair> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading key file {}", path.display()))?;
    let file: KeyFile = serde_json::from_str(&text).with_context(|| format!("{} is not a key file", path.display()))?;
    let key = Keypair::from_seed(&file.secret_seed);
    if key.account() != file.account {
        bail!("key file {}: account does not match the secret seed", path.display());
    }
    Ok(key)
}

/// An account given on the command line: 64 hex characters, or a key file path.
pub fn account_arg(text: &str) -> anyhow::Result<AccountId> {
    if let Ok(id) = text.parse::<AccountId>() {
        return Ok(id);
    }
    let path = Path::new(text);
    if path.exists() {
        return Ok(read(path)?.account());
    }
    bail!("{text:?} is neither a 64-hex-character account id nor a key file")
}
