//! What peers send each other ([`GossipMsg`]) and its wire encoding:
//! postcard 1.x, the enum's variant index as a varint, then its fields
//! (PROTOCOL.md 8.1 gives every byte).

use serde::{Deserialize, Serialize};
use synod_core::limits::BLOCK_BYTES_MAX;
use synod_core::{SignedTransfer, TransferId};

use crate::gossip::wire;
use crate::hash::BlockHash;
use crate::header::{Header, HEADER_LEN};

/// The driver's name for a connection (an index, an address hash...).
pub type PeerId = u64;

/// An item of inventory: a block or a transfer, by its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InvItem {
    /// A block, by block hash.
    Block(BlockHash),
    /// A transfer, by transfer id (32 raw bytes on the wire, hex in JSON).
    Transfer(#[serde(with = "wire::transfer_id")] TransferId),
}

/// An 80-byte block header as it is hashed (Bitcoin's `CBlockHeader`):
/// 80 raw bytes on the wire (no length prefix), hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderBytes(pub [u8; HEADER_LEN]);

impl HeaderBytes {
    /// The parsed header (every 80 bytes parse; the rules are checked elsewhere).
    pub fn header(&self) -> Header {
        Header::from_bytes(&self.0)
    }
}

impl From<&Header> for HeaderBytes {
    fn from(h: &Header) -> Self {
        HeaderBytes(h.to_bytes())
    }
}

impl std::fmt::Debug for HeaderBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeaderBytes({})", self.header().block_hash())
    }
}

/// One gossip message. Counts are bounded by [`crate::gossip::GossipLimits`];
/// a peer sending more is penalised and the message ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GossipMsg {
    /// "I have these": new blocks (tip announcements) and transfers. At most
    /// `inv_items_max` items.
    Inv(Vec<InvItem>),
    /// "Send me these". At most `inv_items_max` items.
    GetData(Vec<InvItem>),
    /// A block in its canonical encoding ([`crate::chain::PowBlock::encode`]),
    /// sent in answer to `GetData` (or pushed).
    Block(#[serde(with = "wire::byte_buf")] Vec<u8>),
    /// A transfer, in answer to `GetData`: its record (PROTOCOL.md 2.4) on
    /// the wire, the API's JSON form in JSON.
    Transfer(#[serde(with = "wire::transfer_record")] SignedTransfer),
    /// Headers-first sync: "send me the headers after the first hash of
    /// `locator` that is on your best chain". Bitcoin's locator: tip, tip−1,
    /// … then exponentially spaced back, ending with block 0; at most
    /// `locator_max` hashes.
    GetHeaders {
        /// Our best chain, densely near the tip.
        locator: Vec<BlockHash>,
    },
    /// Up to `headers_max` consecutive headers answering `GetHeaders`; fewer
    /// than `headers_max` means "that was my tip".
    Headers(Vec<HeaderBytes>),
    /// Items asked for that the peer does not have.
    NotFound(Vec<InvItem>),
}

/// Largest encoded message: a block of the protocol's maximum size plus the
/// variant index and the length prefix.
pub const MESSAGE_BYTES_MAX: usize = BLOCK_BYTES_MAX + 16;

/// Bytes that are not a [`GossipMsg`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Longer than [`MESSAGE_BYTES_MAX`].
    #[error("{bytes} bytes exceed the message limit {max}")]
    TooLarge {
        /// Message length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Postcard could not decode it.
    #[error("undecodable message: {0}")]
    Decode(String),
    /// A message followed by extra bytes.
    #[error("{0} bytes after the message")]
    TrailingBytes(usize),
}

impl GossipMsg {
    /// Short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            GossipMsg::Inv(_) => "inv",
            GossipMsg::GetData(_) => "getdata",
            GossipMsg::Block(_) => "block",
            GossipMsg::Transfer(_) => "transfer",
            GossipMsg::GetHeaders { .. } => "getheaders",
            GossipMsg::Headers(_) => "headers",
            GossipMsg::NotFound(_) => "notfound",
        }
    }

    /// The postcard encoding. Messages built by the core always encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("every message the core builds encodes")
    }

    /// Decodes exactly one message; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<GossipMsg, WireError> {
        if bytes.len() > MESSAGE_BYTES_MAX {
            return Err(WireError::TooLarge { bytes: bytes.len(), max: MESSAGE_BYTES_MAX });
        }
        let (msg, rest) = postcard::take_from_bytes(bytes).map_err(|e| WireError::Decode(e.to_string()))?;
        if !rest.is_empty() {
            return Err(WireError::TrailingBytes(rest.len()));
        }
        Ok(msg)
    }
}
