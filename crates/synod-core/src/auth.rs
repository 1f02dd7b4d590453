//! How a ledger authenticates transfers, fixed by its genesis.

use serde::{Deserialize, Serialize};

/// `Ed25519`: every transfer must carry a strict Ed25519 signature by its
/// sender. `None` (trusted-client mode): transfers may be unsigned, for closed
/// deployments where consensus alone guards the ledger; a signature that is
/// present is still checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Ed25519,
    None,
}

impl AuthMode {
    pub fn tag(self) -> u8 {
        match self {
            AuthMode::Ed25519 => 1,
            AuthMode::None => 0,
        }
    }

    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(AuthMode::Ed25519),
            0 => Some(AuthMode::None),
            _ => None,
        }
    }
}

impl std::str::FromStr for AuthMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ed25519" => Ok(AuthMode::Ed25519),
            "none" => Ok(AuthMode::None),
            other => Err(format!("unknown auth mode {other:?}: expected \"ed25519\" or \"none\"")),
        }
    }
}
