//! Refused inbound connections: every one is counted; a log line is written at
//! most once per remote address per `REFUSAL_LOG_INTERVAL_MS`, so a stranger
//! that retries in a loop cannot flood the log.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::ConnectionError;
use super::limits::{REFUSAL_LOG_ADDRS_MAX, REFUSAL_LOG_INTERVAL_MS};

#[derive(Debug, Default)]
pub struct Refusals {
    count: AtomicU64,
    last_logged: Mutex<BTreeMap<IpAddr, Instant>>,
}

impl Refusals {
    /// Counts one refusal and logs it unless `remote` was logged recently.
    pub fn record(&self, remote: std::net::SocketAddr, error: &ConnectionError) {
        let total = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if self.should_log(remote.ip(), Instant::now()) {
            tracing::warn!(%remote, error = %error, refusals_total = total, "transport: inbound connection refused");
        }
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn should_log(&self, ip: IpAddr, now: Instant) -> bool {
        let interval = Duration::from_millis(REFUSAL_LOG_INTERVAL_MS);
        let mut last = self.last_logged.lock().expect("refusals lock");
        if let Some(at) = last.get(&ip) {
            if now.saturating_duration_since(*at) < interval {
                return false;
            }
        }
        if last.len() >= REFUSAL_LOG_ADDRS_MAX && !last.contains_key(&ip) {
            last.retain(|_, at| now.saturating_duration_since(*at) < interval);
            if last.len() >= REFUSAL_LOG_ADDRS_MAX {
                return false;
            }
        }
        last.insert(ip, now);
        assert!(last.len() <= REFUSAL_LOG_ADDRS_MAX);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_address_per_interval_and_the_memory_is_bounded() {
        let refusals = Refusals::default();
        let now = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(refusals.should_log(a, now));
        assert!(!refusals.should_log(a, now + Duration::from_millis(REFUSAL_LOG_INTERVAL_MS - 1)));
        assert!(refusals.should_log(a, now + Duration::from_millis(REFUSAL_LOG_INTERVAL_MS)));
        for n in 0..REFUSAL_LOG_ADDRS_MAX as u32 {
            refusals.should_log(IpAddr::from((n + 100).to_be_bytes()), now + Duration::from_secs(60));
        }
        let later = now + Duration::from_secs(60);
        assert!(!refusals.should_log("10.9.9.9".parse().unwrap(), later), "full of recent entries: not logged");
        assert!(refusals.last_logged.lock().unwrap().len() <= REFUSAL_LOG_ADDRS_MAX);
        let much_later = later + Duration::from_millis(REFUSAL_LOG_INTERVAL_MS);
        assert!(refusals.should_log("10.9.9.9".parse().unwrap(), much_later), "expired entries make room");
    }
}
