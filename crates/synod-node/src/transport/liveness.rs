//! Peer liveness: a watchdog that notices a peer gone silent. A blackholed
//! peer (packets dropped, no RST) leaves every TCP connection looking open,
//! so `connected` alone says nothing; what counts is having *heard* from the
//! peer. Connectors send a keepalive frame when idle (`peer.rs`), so a
//! healthy peer is heard at least every `keepalive_interval_ms`; one silent
//! for `peer_lost_after_ms` is lost: logged at info once, flagged in
//! `PeerStats::lost`, and its outbound connection is re-dialled (its inbound
//! reader closes on the same read timeout, `listener.rs`). When a frame
//! arrives again it is regained, logged at info once.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::stopped;

/// A change in one peer's liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Lost,
    Regained,
}

/// The rule, pure: silent for at least `lost_after_ms` is lost; anything
/// heard more recently is not.
pub fn judge(silent_ms: u64, lost_after_ms: u64, was_lost: bool) -> Option<Change> {
    let lost = silent_ms >= lost_after_ms;
    match (was_lost, lost) {
        (false, true) => Some(Change::Lost),
        (true, false) => Some(Change::Regained),
        _ => None,
    }
}

pub struct Watchdog {
    /// The peers to watch; changes with membership.
    pub directory: Arc<super::directory::PeerDirectory>,
    pub lost_after_ms: u64,
    /// Silence of a peer never heard counts from here.
    pub started: Instant,
    /// Bumped at every change, so tests and callers can wait for one.
    pub changes: watch::Sender<u64>,
    pub stop: watch::Receiver<bool>,
}

impl Watchdog {
    pub async fn run(mut self) {
        // A quarter of the threshold: a loss is noticed at most 25% late.
        let period = Duration::from_millis((self.lost_after_ms / 4).max(1));
        loop {
            tokio::select! {
                _ = stopped(&mut self.stop) => return,
                _ = tokio::time::sleep(period) => self.check(Instant::now()),
            }
        }
    }

    fn check(&self, now: Instant) {
        for (peer, entry) in self.directory.entries() {
            let counters = &entry.counters;
            let heard = counters.last_heard();
            let silent_ms = now.saturating_duration_since(heard.unwrap_or(self.started)).as_millis() as u64;
            let was_lost = counters.lost.load(Ordering::Relaxed);
            let Some(change) = judge(silent_ms, self.lost_after_ms, was_lost) else { continue };
            match change {
                Change::Lost => {
                    counters.lost.store(true, Ordering::Relaxed);
                    tracing::info!(
                        peer,
                        silent_ms,
                        ever_heard = heard.is_some(),
                        threshold_ms = self.lost_after_ms,
                        "transport: peer lost (nothing received from it); re-dialling"
                    );
                    if counters.connected.load(Ordering::Relaxed) {
                        counters.redial.notify_one();
                    }
                }
                Change::Regained => {
                    counters.lost.store(false, Ordering::Relaxed);
                    tracing::info!(peer, "transport: peer regained (heard from it again)");
                }
            }
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_at_the_threshold_and_regained_below_it_once_each() {
        assert_eq!(judge(1_999, 2_000, false), None);
        assert_eq!(judge(2_000, 2_000, false), Some(Change::Lost));
        assert_eq!(judge(5_000, 2_000, true), None);
        assert_eq!(judge(10, 2_000, true), Some(Change::Regained));
        assert_eq!(judge(10, 2_000, false), None);
    }
}
