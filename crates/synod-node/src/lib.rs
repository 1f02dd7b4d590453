//! The Synod node runtime: the driver around the pure ledger core.
//!
//! It owns the IO the core must not do: the HTTP API (axum), the clock, the
//! committer thread that batches transfers into blocks and makes each block
//! durable with one fsync before anyone hears about it, and the typed HTTP
//! client the CLI uses.

pub mod api;
pub mod client;
pub mod cluster;
pub mod committer;
pub mod config;
pub mod explorer;
pub mod health;
pub mod http_server;
pub mod limits;
pub mod metrics;
pub mod node;
pub mod pow;
pub mod preflight;
pub mod shared;
pub mod startup;
pub mod tls;
pub mod transport;

pub use client::{Client, ClientError};
pub use config::NodeConfig;
pub use node::{Node, StartError};
