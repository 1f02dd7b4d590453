//! A proof-of-work node: the runtime around `synod_pow`'s sans-IO chain and
//! gossip cores. Threads and tasks:
//!
//! - the chain thread ([`driver::Driver`]) owns the chain and gossip state,
//!   persists accepted blocks (`synod_storage::PowStore`) and publishes
//!   mining templates;
//! - mining threads ([`miner::MinerThread`]) search nonces of the current
//!   template and hand solved blocks to the chain thread;
//! - the transport (the same TCP transport as Paxos, carrying
//!   `synod_pow::gossip::GossipMsg`; the handshake's cluster id is derived
//!   from the chain identity, so nodes of different networks never talk);
//! - the HTTP API ([`api`]).
//!
//! On start the node replays its stored blocks through a fresh chain, so its
//! state, undo data and best chain are recomputed, then syncs headers-first
//! from its peers whatever it missed while down.

pub mod api;
pub mod audit;
pub mod driver;
pub mod metrics;
pub mod miner;
pub mod spec;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;

use synod_core::{AuthMode, Genesis};
use synod_pow::chain::{ChainState, HashCounter};
use synod_pow::gossip::{Gossip, GossipLimits, GossipMsg};
use synod_storage::PowStore;
use tokio::sync::oneshot;

use crate::config::NodeConfig;
use crate::health::ThreadKind;
use crate::node::{Listeners, StartError};
use crate::startup::{bind, serve_http, spawn};
use crate::transport::{Transport, TransportConfig};
use driver::{Driver, PowInput, POW_INPUTS_MAX};
use metrics::PowMetrics;
use miner::{MinerThread, TemplateSlot};
pub use spec::{PowChainSpec, PowSettings, SpecError};

/// What the HTTP handlers share with the chain thread.
pub struct PowShared {
    pub genesis: Genesis,
    pub chain_id: u64,
    pub auth: AuthMode,
    pub node_id: u8,
    /// The chain identity peers must share (PROTOCOL §8.2).
    pub identity: [u8; 32],
    pub inputs: SyncSender<PowInput>,
    pub mining: bool,
    pub miner_threads: usize,
    pub halted: AtomicBool,
    pub stopping: AtomicBool,
    /// Fail-stop state and the threads' heartbeats (`health.rs`).
    pub health: Arc<crate::health::Health>,
    pub started_at: std::time::Instant,
    pub metrics: PowMetrics,
}

impl PowShared {
    /// Halted (storage failed) or FAILED (a thread died).
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst) || self.health.is_failed()
    }

    /// Fail-stop (see `health.rs`).
    pub fn fail(&self, reason: impl Into<String>) {
        self.halted.store(true, Ordering::SeqCst);
        self.health.fail(reason);
    }

    /// Test-only fault injection: every thread of `kind` panics at its next beat.
    #[doc(hidden)]
    pub fn inject_panic(&self, kind: crate::health::ThreadKind) {
        self.health.inject_panic(kind);
    }
}

/// A running proof-of-work node.
pub struct PowNode {
    addr: SocketAddr,
    shared: Arc<PowShared>,
    stop_http: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    stop_miners: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    transport: Option<Arc<Transport<GossipMsg>>>,
}

impl PowNode {
    /// Starts a proof-of-work node (`consensus = "pow"` in its config).
    pub async fn start(config: NodeConfig, genesis: Genesis, listeners: Listeners) -> Result<PowNode, StartError> {
        config.validate()?;
        let settings = config.pow.clone().unwrap_or_default();
        let http_tls = config.http_tls.as_ref().map(crate::tls::http_acceptor).transpose()?;
        settings.validate().map_err(|e| StartError::Consensus(e.to_string()))?;
        let chain_config = settings.chain.chain_config(&genesis).map_err(|e| StartError::Consensus(e.to_string()))?;
        if genesis.auth != AuthMode::Ed25519 {
            return Err(StartError::Consensus(
                "a proof-of-work network is open to anyone: its genesis must use auth ed25519".into(),
            ));
        }
        let identity = settings.chain.identity(&chain_config);
        let descriptor = audit::Descriptor { genesis: genesis.clone(), chain: settings.chain.clone() };
        let descriptor = serde_json::to_vec(&descriptor).expect("the descriptor serialises");
        let store = PowStore::open(&config.data_dir.join("pow.redb"), identity, &descriptor)?;
        let mut chain = ChainState::new(chain_config).map_err(|e| StartError::Consensus(e.to_string()))?;
        let (replayed, refused) = tokio::task::block_in_place(|| driver::replay_stored(&mut chain, &store))?;
        let tip = chain.best_tip();
        tracing::info!(replayed, refused, height = tip.height, tip = %tip.hash, "proof-of-work chain loaded");

        let http_listener = bind(listeners.http, config.http_addr).await?;
        let addr = http_listener.local_addr().map_err(|source| StartError::Bind { addr: config.http_addr, source })?;

        let (inputs_tx, inputs_rx) = std::sync::mpsc::sync_channel(POW_INPUTS_MAX);
        let node_id = config.node_id.unwrap_or(1);
        let shared = Arc::new(PowShared {
            chain_id: genesis.chain_id,
            auth: genesis.auth,
            genesis,
            node_id,
            identity,
            inputs: inputs_tx.clone(),
            mining: settings.mine,
            miner_threads: settings.miner_threads,
            halted: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            health: Default::default(),
            started_at: std::time::Instant::now(),
            metrics: PowMetrics::default(),
        });

        // Transport: gossip messages from authenticated peers into the chain thread.
        let peer_addr = config.peer_addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let peer_listener = bind(listeners.peer, peer_addr).await?;
        let peers = config.peers.iter().map(|p| (p.id, p.peer_addr)).collect();
        let cluster_id = u64::from_be_bytes(identity[..8].try_into().expect("8 bytes"));
        let mut tconfig = TransportConfig::new(cluster_id, node_id, peer_addr, peers);
        tconfig.listen = peer_listener.local_addr().map_err(|source| StartError::Bind { addr: peer_addr, source })?;
        let (net_tx, mut net_rx) = tokio::sync::mpsc::channel::<(u8, GossipMsg)>(POW_INPUTS_MAX);
        let transport = Arc::new(
            Transport::<GossipMsg>::start_on(peer_listener, tconfig, net_tx)
                .await
                .map_err(|e| StartError::Consensus(e.to_string()))?,
        );
        let forward = inputs_tx.clone();
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(async move {
            while let Some((from, msg)) = net_rx.recv().await {
                // A full queue drops the message; gossip asks again on timeout.
                let _ = forward.try_send(PowInput::Net { from, msg });
            }
        }));

        let template = Arc::new(TemplateSlot::default());
        let hashes = Arc::new(HashCounter::new());
        let stop_miners = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let driver = Driver {
            chain,
            gossip: Gossip::new(GossipLimits::default()),
            store,
            transport: transport.clone(),
            inputs: inputs_rx,
            shared: shared.clone(),
            template: template.clone(),
            miner: if settings.mine { settings.miner_account } else { None },
            hashes: hashes.clone(),
        };
        threads.push(spawn(&shared.health, ThreadKind::Chain, "synod-pow-chain", move |beat| driver.run(beat)));
        if settings.mine {
            let n = settings.miner_threads as u64;
            for index in 0..n {
                let miner = MinerThread {
                    index,
                    threads: n,
                    hashes_per_sec_max: settings.hashes_per_sec_max.div_ceil(n),
                    slot: template.clone(),
                    counter: hashes.clone(),
                    stop: stop_miners.clone(),
                    found: inputs_tx.clone(),
                };
                let name = format!("synod-pow-miner-{index}");
                threads.push(spawn(&shared.health, ThreadKind::Miner, &name, move |beat| miner.run(beat)));
            }
        }

        let (stop_http, server) =
            serve_http(http_listener, api::router(shared.clone()), http_tls, shared.metrics.http.clone());
        Ok(PowNode {
            addr,
            shared,
            stop_http: Some(stop_http),
            server,
            stop_miners,
            threads,
            tasks,
            transport: Some(transport),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn shared(&self) -> &Arc<PowShared> {
        &self.shared
    }

    /// Stops the HTTP server, the miners, the chain thread and the transport.
    pub async fn shutdown(mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.health.set_stopping();
        if let Some(stop) = self.stop_http.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
        self.stop_miners.store(true, Ordering::SeqCst);
        let inputs = self.shared.inputs.clone();
        let threads = std::mem::take(&mut self.threads);
        let _ = tokio::task::spawn_blocking(move || {
            // A blocking send: the chain thread drains its queue.
            let _ = inputs.send_timeout_compat(PowInput::Stop, Duration::from_secs(5));
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
        if let Some(t) = self.transport.take() {
            if let Ok(t) = Arc::try_unwrap(t) {
                t.shutdown().await;
            }
        }
    }
}

/// `SyncSender::send` blocks without bound; shutdown retries `try_send`
/// for at most `timeout` instead.
trait SendTimeout {
    fn send_timeout_compat(&self, input: PowInput, timeout: Duration) -> Result<(), ()>;
}

impl SendTimeout for SyncSender<PowInput> {
    fn send_timeout_compat(&self, mut input: PowInput, timeout: Duration) -> Result<(), ()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match self.try_send(input) {
                Ok(()) => return Ok(()),
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(()),
                Err(std::sync::mpsc::TrySendError::Full(back)) => {
                    if std::time::Instant::now() >= deadline {
                        return Err(());
                    }
                    input = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
}
