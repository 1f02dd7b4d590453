//! The cluster configuration the ledger applied, kept with the applied slot.
//!
//! The consensus log chooses the configuration as `Command::Config` (docs/
//! PROTOCOL.md §7.2), but compaction drops the chosen entry, so the store
//! records the configuration the ledger applied and its slot in the
//! same transaction as the applied slot (the latest wins: membership changes
//! through the log). Meta key `applied_config`, sealed
//! like every value: `slot u64 ‖ member count u8 ‖ member ids u8…`,
//! big-endian. An absent key means none applied yet (stores written before
//! this key existed read the same way, so the format version is unchanged).

use redb::ReadableTable;
use synod_paxos::{ChosenConfig, ClusterConfig, MemberAddress};

use crate::checksum::{seal, unseal};
use crate::tables::{META, META_NAME};
use crate::{Store, StoreError};

pub(crate) const KEY: &str = "applied_config";

/// Meta key of the members' addresses the log chose with the latest
/// `Command::Members`: `slot u64 (big-endian) ‖ postcard(Vec<MemberAddress>)`.
pub(crate) const ADDRESSES_KEY: &str = "member_addresses";

/// Most bytes the encoded address list may take (7 members, well below).
const ADDRESSES_BYTES_MAX: usize = 4_096;

/// The members' addresses the ledger applied, and the slot that chose them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedAddresses {
    pub slot: u64,
    pub addresses: Vec<MemberAddress>,
}

impl AppliedAddresses {
    pub fn encode(&self) -> Vec<u8> {
        let list = postcard::to_allocvec(&self.addresses).expect("addresses encode");
        assert!(list.len() <= ADDRESSES_BYTES_MAX, "at most MEMBERS_MAX addresses");
        [self.slot.to_be_bytes().as_slice(), &list].concat()
    }

    /// The inverse of `encode`; `None` unless `bytes` is exactly one encoding.
    pub fn decode(bytes: &[u8]) -> Option<AppliedAddresses> {
        let slot = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let list = bytes.get(8..)?;
        if slot == 0 || list.len() > ADDRESSES_BYTES_MAX {
            return None;
        }
        let (addresses, rest): (Vec<MemberAddress>, &[u8]) = postcard::take_from_bytes(list).ok()?;
        (rest.is_empty() && addresses.len() <= synod_paxos::MEMBERS_MAX).then_some(AppliedAddresses { slot, addresses })
    }
}

/// Most members an encoded configuration may list.
pub const APPLIED_CONFIG_MEMBERS_MAX: usize = u8::MAX as usize;

/// A configuration the ledger applied: its member ids and the first slot
/// that chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedConfig {
    pub slot: u64,
    pub members: Vec<u8>,
}

impl AppliedConfig {
    pub fn encode(&self) -> Vec<u8> {
        assert!(self.slot > 0, "slot 0 chooses nothing");
        assert!(self.members.len() <= APPLIED_CONFIG_MEMBERS_MAX);
        let mut out = Vec::with_capacity(9 + self.members.len());
        out.extend_from_slice(&self.slot.to_be_bytes());
        out.push(self.members.len() as u8);
        out.extend_from_slice(&self.members);
        out
    }

    /// The inverse of `encode`; `None` if `bytes` is not exactly one encoding.
    pub fn decode(bytes: &[u8]) -> Option<AppliedConfig> {
        let slot = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let count = *bytes.get(8)? as usize;
        let members = bytes.get(9..)?;
        if slot == 0 || members.len() != count {
            return None;
        }
        Some(AppliedConfig { slot, members: members.to_vec() })
    }
}

impl From<&ChosenConfig> for AppliedConfig {
    fn from(chosen: &ChosenConfig) -> AppliedConfig {
        AppliedConfig { slot: chosen.slot, members: chosen.config.members.clone() }
    }
}

impl From<AppliedConfig> for ChosenConfig {
    fn from(applied: AppliedConfig) -> ChosenConfig {
        ChosenConfig { slot: applied.slot, config: ClusterConfig::new(applied.members) }
    }
}

impl Store {
    /// The configuration the ledger applied, if any.
    pub fn applied_config(&self) -> Result<Option<AppliedConfig>, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        read(self, &meta)
    }

    /// Records `config` as applied in `txn`: the latest configuration wins
    /// (membership changes through the log). A configuration with other
    /// members at or below the recorded slot is an inconsistency (slots
    /// apply in order). The same members again depend on the source: from
    /// the log (`ConfigSource::Log`, every slot in order) they continue the
    /// recorded run, which keeps its first slot; from a snapshot descriptor
    /// (`ConfigSource::Snapshot`) a later slot replaces the recorded one,
    /// since the install skipped the slots in between and a change and a
    /// change back may hide there (the replica takes the snapshot's
    /// configuration the same way, `on_snapshot_installed`).
    pub(crate) fn record_applied_config(
        txn: &redb::WriteTransaction,
        config: &AppliedConfig,
        applied_slot: u64,
        source: ConfigSource,
    ) -> Result<(), StoreError> {
        assert!(config.slot <= applied_slot, "a configuration is recorded with the slot that applied it");
        let mut meta = txn.open_table(META)?;
        let recorded = match meta.get(KEY)? {
            Some(v) => Some(decode_sealed(unseal(META_NAME, KEY.as_bytes(), v.value())?)?),
            None => None,
        };
        match recorded {
            Some(recorded) if recorded.members != config.members && recorded.slot >= config.slot => {
                Err(StoreError::Inconsistent(format!(
                    "applied configuration {:?} (slot {}) differs from the recorded {:?} (slot {})",
                    config.members, config.slot, recorded.members, recorded.slot
                )))
            }
            Some(recorded)
                if recorded.members == config.members
                    && (recorded.slot >= config.slot || source == ConfigSource::Log) =>
            {
                Ok(())
            }
            _ => {
                meta.insert(KEY, seal(META_NAME, KEY.as_bytes(), &config.encode()).as_slice())?;
                Ok(())
            }
        }
    }
}

/// Where a recorded configuration comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConfigSource {
    /// A `Config` the applier applied, every slot before it applied too.
    Log,
    /// A snapshot descriptor's configuration: the sender's latest at or
    /// below the installed slot, with the first slot of its run.
    Snapshot,
}

impl Store {
    /// The members' addresses the ledger applied, if any.
    pub fn applied_addresses(&self) -> Result<Option<AppliedAddresses>, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(v) = meta.get(ADDRESSES_KEY)? else { return Ok(None) };
        let payload = self.unseal(META_NAME, ADDRESSES_KEY.as_bytes(), v.value())?;
        AppliedAddresses::decode(payload).map(Some).ok_or_else(|| StoreError::Undecodable {
            table: META_NAME,
            key: ADDRESSES_KEY.into(),
            detail: "not slot ‖ postcard(addresses)".into(),
        })
    }

    /// Records `addresses` in `txn` (the latest slot wins; slots apply in
    /// order, so an older one is ignored).
    pub(crate) fn record_applied_addresses(
        txn: &redb::WriteTransaction,
        addresses: &AppliedAddresses,
        applied_slot: u64,
    ) -> Result<(), StoreError> {
        assert!(addresses.slot <= applied_slot, "addresses are recorded with the slot that applied them");
        let mut meta = txn.open_table(META)?;
        let recorded_slot = match meta.get(ADDRESSES_KEY)? {
            Some(v) => unseal(META_NAME, ADDRESSES_KEY.as_bytes(), v.value())?
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes),
            None => None,
        };
        if recorded_slot.is_none_or(|s| s < addresses.slot) {
            meta.insert(ADDRESSES_KEY, seal(META_NAME, ADDRESSES_KEY.as_bytes(), &addresses.encode()).as_slice())?;
        }
        Ok(())
    }
}

/// Reads the key from an open meta table (also used inside the snapshot
/// descriptor's read transaction).
pub(crate) fn read(
    store: &Store,
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<AppliedConfig>, StoreError> {
    let Some(v) = meta.get(KEY)? else { return Ok(None) };
    let payload = store.unseal(META_NAME, KEY.as_bytes(), v.value())?;
    decode_sealed(payload).map(Some)
}

fn decode_sealed(payload: &[u8]) -> Result<AppliedConfig, StoreError> {
    AppliedConfig::decode(payload).ok_or_else(|| StoreError::Undecodable {
        table: META_NAME,
        key: KEY.into(),
        detail: "not slot ‖ count ‖ members".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip_and_malformed_ones_are_refused() {
        let c = AppliedConfig { slot: 1, members: vec![1, 2, 3] };
        assert_eq!(c.encode(), [0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 2, 3]);
        assert_eq!(AppliedConfig::decode(&c.encode()), Some(c.clone()));
        let bytes = c.encode();
        assert_eq!(AppliedConfig::decode(&bytes[..bytes.len() - 1]), None, "short");
        assert_eq!(AppliedConfig::decode(&[bytes.as_slice(), &[4]].concat()), None, "long");
        assert_eq!(AppliedConfig::decode(&[0, 0, 0, 0, 0, 0, 0, 0, 0]), None, "slot 0");
    }

    #[test]
    fn address_lists_round_trip_and_malformed_ones_are_refused() {
        let a = |id: u8| MemberAddress {
            id,
            peer_addr: format!("10.0.0.{id}:7000").parse().unwrap(),
            http_addr: format!("[::1]:{}", 8000 + u16::from(id)).parse().unwrap(),
        };
        let c = AppliedAddresses { slot: 9, addresses: vec![a(1), a(2), a(4)] };
        let bytes = c.encode();
        assert_eq!(&bytes[..8], &9u64.to_be_bytes());
        assert_eq!(AppliedAddresses::decode(&bytes), Some(c.clone()));
        assert_eq!(AppliedAddresses::decode(&bytes[..bytes.len() - 1]), None, "short");
        assert_eq!(AppliedAddresses::decode(&[bytes.as_slice(), &[0]].concat()), None, "long");
        let mut zero = bytes.clone();
        zero[7] = 0;
        assert_eq!(AppliedAddresses::decode(&zero), None, "slot 0");
        let eight = AppliedAddresses { slot: 1, addresses: (1..=8).map(a).collect() };
        assert_eq!(AppliedAddresses::decode(&eight.encode()), None, "more than MEMBERS_MAX");
    }
}
