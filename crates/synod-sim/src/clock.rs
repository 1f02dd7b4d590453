//! Per-node clocks.
//!
//! Fault model: a node's clock reads `offset + t * (1e6 + drift_ppm) / 1e6`
//! where `t` is true simulated time, `|drift_ppm| <= clock_drift_ppm_max`
//! and `offset` is arbitrary. It is monotonic; rates differ between nodes
//! (skew). The replica only measures intervals on its own clock, so the
//! bound matters for timeouts, never for safety (reads use a read index,
//! not a lease).

#[derive(Clone, Debug)]
pub struct Clock {
    offset_ms: u64,
    drift_ppm: i64,
}

impl Clock {
    pub fn new(offset_ms: u64, drift_ppm: i64) -> Clock {
        assert!(drift_ppm.abs() < 1_000_000);
        Clock { offset_ms, drift_ppm }
    }

    pub fn local_ms(&self, true_ms: u64) -> u64 {
        let scaled = i128::from(true_ms) * i128::from(1_000_000 + self.drift_ppm) / 1_000_000;
        self.offset_ms + u64::try_from(scaled).expect("non-negative")
    }
}
