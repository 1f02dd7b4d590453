//! Value framing: `payload || crc32c(table || key || payload)` (4 bytes, big-endian).
//!
//! The key and table name are inside the checksum so that a value copied to
//! the wrong key or table by a misdirected write is caught as well as a torn one.

use crate::StoreError;

pub const CHECKSUM_BYTES: usize = 4;

fn crc(table: &'static str, key: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(table.as_bytes());
    h.update(&(key.len() as u32).to_be_bytes());
    h.update(key);
    h.update(payload);
    h.finalize()
}

/// Frames `payload` for storage under `table`/`key`.
pub fn seal(table: &'static str, key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + CHECKSUM_BYTES);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc(table, key, payload).to_be_bytes());
    out
}

/// Returns the payload if the checksum matches; a mismatch is corruption.
pub fn unseal<'a>(table: &'static str, key: &[u8], stored: &'a [u8]) -> Result<&'a [u8], StoreError> {
    let corrupt = || StoreError::Corrupt { table, key: hex_key(key) };
    if stored.len() < CHECKSUM_BYTES {
        return Err(corrupt());
    }
    let (payload, sum) = stored.split_at(stored.len() - CHECKSUM_BYTES);
    let expected = u32::from_be_bytes(sum.try_into().expect("split at 4"));
    if crc(table, key, payload) != expected {
        return Err(corrupt());
    }
    Ok(payload)
}

fn hex_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_single_bit_flip_is_caught() {
        let sealed = seal("blocks", b"k", b"hello world");
        assert_eq!(unseal("blocks", b"k", &sealed).unwrap(), b"hello world");
        for bit in 0..sealed.len() * 8 {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(unseal("blocks", b"k", &bad).is_err(), "bit {bit} flip undetected");
        }
        assert!(unseal("blocks", b"other", &sealed).is_err(), "value under the wrong key");
        assert!(unseal("accounts", b"k", &sealed).is_err(), "value in the wrong table");
        assert!(unseal("blocks", b"k", &sealed[..3]).is_err(), "torn value");
    }
}
