//! Self-contained proof documents: what `GET /v1/transfers/{id}?proof=true` and
//! `GET /v1/proofs/consistency` return, what `synod proof verify FILE` checks
//! offline. Verification needs nothing but the document (and, to be meaningful,
//! a root the verifier trusts).

use serde::{Deserialize, Serialize};

use crate::{BlockHeader, Hash, SignedTransfer};

/// RFC 9162 inclusion of one transfer in the ledger tree of `tree_size` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    #[serde(with = "crate::hexbytes::array")]
    pub leaf_hash: Hash,
    #[serde(with = "hex_hash_vec")]
    pub path: Vec<Hash>,
    #[serde(with = "crate::hexbytes::array")]
    pub root: Hash,
    /// The transfer itself; when present, the verifier recomputes `leaf_hash` from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<SignedTransfer>,
    /// The block header whose `ledger_root` is `root`; when present, the
    /// verifier checks it matches and reports its hash, so the proof ties to a block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<BlockHeader>,
}

/// RFC 9162 consistency between two sizes of the ledger tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub from_size: u64,
    pub to_size: u64,
    #[serde(with = "crate::hexbytes::array")]
    pub from_root: Hash,
    #[serde(with = "crate::hexbytes::array")]
    pub to_root: Hash,
    #[serde(with = "hex_hash_vec")]
    pub path: Vec<Hash>,
}

/// Either kind, tagged by `"type"` in a saved file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
// Documents are built one at a time for a user; the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum ProofDocument {
    Inclusion(InclusionProof),
    Consistency(ConsistencyProof),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the transfer's leaf hash does not match the proof's leaf_hash")]
    LeafMismatch,
    #[error("the header's ledger_size/ledger_root do not match the proof")]
    HeaderMismatch,
    #[error("inclusion proof is invalid: {0}")]
    Inclusion(#[from] synod_merkle::InclusionError),
    #[error("consistency proof is invalid: {0}")]
    Consistency(#[from] synod_merkle::ConsistencyError),
}

impl InclusionProof {
    pub fn verify(&self) -> Result<(), ProofError> {
        if let Some(tx) = &self.transfer {
            if tx.transfer.memo.len() > crate::limits::MEMO_BYTES_MAX || tx.leaf_hash() != self.leaf_hash {
                return Err(ProofError::LeafMismatch);
            }
        }
        if let Some(h) = &self.header {
            if h.ledger_size != self.tree_size || h.ledger_root != self.root {
                return Err(ProofError::HeaderMismatch);
            }
        }
        synod_merkle::verify_inclusion(&self.leaf_hash, self.leaf_index, self.tree_size, &self.path, &self.root)?;
        Ok(())
    }
}

impl ConsistencyProof {
    pub fn verify(&self) -> Result<(), ProofError> {
        synod_merkle::verify_consistency(self.from_size, self.to_size, &self.from_root, &self.to_root, &self.path)?;
        Ok(())
    }
}

impl ProofDocument {
    pub fn verify(&self) -> Result<(), ProofError> {
        match self {
            ProofDocument::Inclusion(p) => p.verify(),
            ProofDocument::Consistency(p) => p.verify(),
        }
    }
}

mod hex_hash_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        // A path longer than 64 hashes cannot belong to a tree of at most 2^64 leaves.
        if items.len() > 64 {
            return Err(serde::de::Error::custom(format!("proof path has {} hashes, at most 64", items.len())));
        }
        items.iter().map(|t| crate::hexbytes::parse_hex_array::<32>(t).map_err(serde::de::Error::custom)).collect()
    }
}
