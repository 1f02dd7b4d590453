//! Peers the node refuses for a while (a proof-of-work node bans peers that
//! send invalid data). A banned peer's inbound connection is closed at its
//! next message, a new connection from it is closed after the handshake, and
//! `send` refuses messages to it, until the ban ends.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use super::PeerId;

#[derive(Debug, Default)]
pub struct Bans {
    until: Mutex<BTreeMap<PeerId, Instant>>,
}

impl Bans {
    /// Bans `peer` until `until` (a later ban extends, an earlier one never shortens).
    pub fn ban(&self, peer: PeerId, until: Instant) {
        let mut map = self.until.lock().expect("bans lock");
        let entry = map.entry(peer).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// True while `peer` is banned. Expired bans are forgotten here.
    pub fn is_banned(&self, peer: PeerId) -> bool {
        let mut map = self.until.lock().expect("bans lock");
        match map.get(&peer) {
            Some(&until) if Instant::now() < until => true,
            Some(_) => {
                map.remove(&peer);
                false
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_ban_ends_and_is_never_shortened() {
        let bans = Bans::default();
        let now = Instant::now();
        bans.ban(3, now + Duration::from_secs(60));
        bans.ban(3, now);
        assert!(bans.is_banned(3));
        assert!(!bans.is_banned(4));
        bans.ban(5, now);
        assert!(!bans.is_banned(5), "a ban that already ended");
    }
}
