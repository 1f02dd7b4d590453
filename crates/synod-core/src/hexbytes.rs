//! Serde helpers that write fixed-size byte arrays as lowercase hex strings in
//! JSON, and reject wrong lengths and non-hex characters with clear messages.

use serde::{Deserialize, Deserializer, Serializer};

/// Parses exactly `N` bytes of hex (upper or lower case accepted, no `0x`).
pub fn parse_hex_array<const N: usize>(text: &str) -> Result<[u8; N], String> {
    if text.len() != 2 * N {
        return Err(format!("expected {} hex characters ({} bytes), got {}", 2 * N, N, text.len()));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| format!("invalid hex: {e}"))?;
    Ok(out)
}

pub mod array {
    use super::*;

    pub fn serialize<S: Serializer, const N: usize>(bytes: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_hex_array::<N>(&text).map_err(serde::de::Error::custom)
    }
}

pub mod vec {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(&*text).map_err(|e| serde::de::Error::custom(format!("invalid hex: {e}")))
    }
}

pub mod option_array {
    use super::*;

    pub fn serialize<S: Serializer, const N: usize>(bytes: &Option<[u8; N]>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<Option<[u8; N]>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        match text {
            None => Ok(None),
            Some(t) => parse_hex_array::<N>(&t).map(Some).map_err(serde::de::Error::custom),
        }
    }
}
