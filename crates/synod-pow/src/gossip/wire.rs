//! Serde adapters that give [`crate::gossip::GossipMsg`] a compact binary
//! form (raw ids, transfer records, byte strings) while JSON keeps the
//! readable forms of `synod_core`.

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::gossip::message::HeaderBytes;
use crate::header::HEADER_LEN;

/// `TransferId`: 32 raw bytes in binary formats, `synod_core`'s hex otherwise.
pub mod transfer_id {
    use super::*;
    use synod_core::TransferId;

    pub fn serialize<S: Serializer>(id: &TransferId, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            id.serialize(s)
        } else {
            id.0.serialize(s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TransferId, D::Error> {
        if d.is_human_readable() {
            TransferId::deserialize(d)
        } else {
            <[u8; 32]>::deserialize(d).map(TransferId)
        }
    }
}

/// `SignedTransfer`: its record (PROTOCOL.md 2.4) as a byte string in
/// binary formats, the API's JSON object otherwise.
pub mod transfer_record {
    use super::*;
    use synod_core::limits::MEMO_BYTES_MAX;
    use synod_core::SignedTransfer;

    pub fn serialize<S: Serializer>(tx: &SignedTransfer, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return tx.serialize(s);
        }
        if tx.transfer.memo.len() > MEMO_BYTES_MAX {
            return Err(serde::ser::Error::custom("memo longer than a record allows"));
        }
        s.serialize_bytes(&tx.record_bytes())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedTransfer, D::Error> {
        if d.is_human_readable() {
            return SignedTransfer::deserialize(d);
        }
        let bytes = super::byte_buf::deserialize(d)?;
        SignedTransfer::decode_record(&bytes).map_err(|e| de::Error::custom(format!("transfer record: {e}")))
    }
}

/// `Vec<u8>` as one byte string (postcard: varint length, then the bytes;
/// the same bytes serde's sequence form gives, decoded without a per-byte loop).
pub mod byte_buf {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            // JSON writes byte strings as arrays of numbers.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(b) = seq.next_element::<u8>()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

impl Serialize for HeaderBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return s.serialize_str(&hex::encode(self.0));
        }
        // A fixed-size tuple: postcard writes the 80 bytes with no length.
        let mut t = s.serialize_tuple(HEADER_LEN)?;
        for b in &self.0 {
            t.serialize_element(b)?;
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for HeaderBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            let mut out = [0u8; HEADER_LEN];
            hex::decode_to_slice(&*text, &mut out).map_err(|e| de::Error::custom(format!("header hex: {e}")))?;
            return Ok(HeaderBytes(out));
        }
        d.deserialize_tuple(HEADER_LEN, HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = HeaderBytes;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{HEADER_LEN} header bytes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HeaderBytes, A::Error> {
        let mut out = [0u8; HEADER_LEN];
        for (i, b) in out.iter_mut().enumerate() {
            *b = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        Ok(HeaderBytes(out))
    }
}
