//! The HTTP server's connection counters (`http_server.rs`), exported in
//! `/metrics`: what the connection bounds refused or closed, and how many
//! connections are open.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Which deadline closed a connection.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// A request head started and did not end within the header-read timeout.
    Header,
    /// No request in flight and no byte for the idle timeout.
    Idle,
    /// The TLS handshake did not end within its timeout.
    TlsHandshake,
}

impl TimeoutPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutPhase::Header => "header",
            TimeoutPhase::Idle => "idle",
            TimeoutPhase::TlsHandshake => "tls_handshake",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    /// `TimeoutPhase::as_str`.
    pub phase: &'static str,
}

/// What the server refused or closed, and what is open, since it started.
/// Clones of the metrics share their values, so the registry sees the
/// server's counts.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Connections closed at accept because `connections_max` were open.
    pub refused: Counter,
    /// Connections closed by a deadline, by phase.
    pub timed_out: Family<PhaseLabels, Counter>,
    /// TLS handshakes that failed (not timed out): a client that does not
    /// speak TLS, or refused our certificate.
    pub tls_handshakes_failed: Counter,
    /// Connections accepted and not yet closed.
    pub open: Gauge,
}

impl HttpStats {
    pub fn count_timeout(&self, phase: TimeoutPhase) {
        self.timed_out.get_or_create(&PhaseLabels { phase: phase.as_str() }).inc();
    }

    /// Connections `phase`'s deadline closed so far.
    pub fn timed_out(&self, phase: TimeoutPhase) -> u64 {
        self.timed_out.get_or_create(&PhaseLabels { phase: phase.as_str() }).get()
    }

    /// Adds the metrics to `registry` (prefixed `synod_` by the node's).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "http_connections_refused",
            "HTTP connections closed at accept because the connection limit was reached",
            self.refused.clone(),
        );
        // Every phase is present from the start, at 0, so a dashboard's rate
        // has a series to start from.
        for phase in [TimeoutPhase::Header, TimeoutPhase::Idle, TimeoutPhase::TlsHandshake] {
            drop(self.timed_out.get_or_create(&PhaseLabels { phase: phase.as_str() }));
        }
        registry.register(
            "http_connections_timed_out",
            "HTTP connections closed by a deadline: header read, idle keep-alive or TLS handshake",
            self.timed_out.clone(),
        );
        registry.register(
            "http_tls_handshakes_failed",
            "HTTP TLS handshakes that failed before their deadline",
            self.tls_handshakes_failed.clone(),
        );
        registry.register("http_connections_open", "HTTP connections open now", self.open.clone());
    }
}
