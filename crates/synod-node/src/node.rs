//! Starting and stopping one node: storage, the write path (a committer for a
//! single node; consensus, persister, applier and proposer threads for a
//! cluster member), and the HTTP server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use synod_core::Genesis;
use synod_paxos::{ClusterConfig, Message, Replica, ReplicaOptions};
use synod_storage::Store;
use tokio::sync::{oneshot, Semaphore};

use crate::cluster::{ClusterHandle, ClusterStatus, ConfigStatus, Input, BATCH_TRANSFERS_MAX, CONSENSUS_INPUTS_MAX};
use crate::committer::{Batcher, Committer, SubmitQueue};
use crate::config::{ConfigError, NodeConfig};
use crate::health::ThreadKind;
use crate::limits::{QUEUED_REQUESTS_MAX, QUEUED_TRANSFERS_MAX};
use crate::shared::Shared;
use crate::startup::{bind, serve_http, spawn};
use crate::tls::TlsMaterial;
use crate::transport::{Transport, TransportConfig, TransportSecurity};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read genesis {path}: {detail}")]
    Genesis { path: String, detail: String },
    #[error("storage: {0}")]
    Storage(#[from] synod_storage::OpenError),
    #[error("storage: {0}")]
    Store(#[from] synod_storage::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("consensus: {0}")]
    Consensus(String),
    /// A Multi-Paxos member without `[tls]`: peer links must be mutually
    /// authenticated, so the node does not start.
    #[error(
        "a Multi-Paxos member needs mutual TLS on its peer port: add a [tls] section with ca_cert, cert and key \
         (see `synod certs` and docs/DEPLOY.md)"
    )]
    TlsRequired,
    #[error("[tls]: {0}")]
    Tls(#[from] crate::tls::LoadError),
    /// The client a follower forwards to the leader with (HTTPS under
    /// `[http_tls]`) could not be built.
    #[error("forwarding client: {0}")]
    ForwardClient(#[from] crate::api::forward::ForwardClientError),
    #[error("config: {0}")]
    Snapshot(#[from] crate::cluster::snapshot_config::SnapshotConfigError),
    /// This node is outside the configuration its ledger recorded from the
    /// log and was not started to join (`cluster/membership.rs`).
    #[error(transparent)]
    Membership(#[from] crate::cluster::membership::MembershipStartError),
}

/// Listeners bound before the node starts (so a test or `synod dev` can learn
/// every port before any node runs). Absent ones are bound from the config.
#[derive(Default)]
pub struct Listeners {
    pub http: Option<std::net::TcpListener>,
    pub peer: Option<std::net::TcpListener>,
}

/// A running node. Dropping it without `shutdown` leaves the server running
/// until the runtime stops.
pub struct Node {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Background tasks holding the shared state; aborted at shutdown so the
    /// database is closed when `shutdown` returns.
    tasks: Vec<tokio::task::JoinHandle<()>>,
    transport: Option<Arc<Transport<Message>>>,
}

/// Clears the consensus status when the consensus thread ends: a stopped or
/// failed member is no leader and knows none.
struct ClearRoleOnExit(Arc<Shared>);

impl Drop for ClearRoleOnExit {
    fn drop(&mut self) {
        if let Some(cluster) = &self.0.cluster {
            if let Ok(mut status) = cluster.status.write() {
                status.role = if self.0.health.is_failed() || std::thread::panicking() { "failed" } else { "stopped" };
                status.leader = None;
            }
        }
    }
}

/// Reads a genesis JSON file.
pub fn read_genesis(path: &std::path::Path) -> Result<Genesis, StartError> {
    let err = |detail: String| StartError::Genesis { path: path.display().to_string(), detail };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let genesis: Genesis = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    genesis.validate().map_err(|e| err(e.to_string()))?;
    Ok(genesis)
}

impl Node {
    /// Starts a node from its config, reading the genesis file it names.
    pub async fn start(config: NodeConfig) -> Result<Node, StartError> {
        config.validate()?;
        let genesis = read_genesis(&config.genesis)?;
        Self::start_with_genesis(config, genesis).await
    }

    pub async fn start_with_genesis(config: NodeConfig, genesis: Genesis) -> Result<Node, StartError> {
        Self::start_with_listeners(config, genesis, Listeners::default()).await
    }

    pub async fn start_with_listeners(
        config: NodeConfig,
        genesis: Genesis,
        listeners: Listeners,
    ) -> Result<Node, StartError> {
        config.validate()?;
        let http_tls = config.http_tls.as_ref().map(crate::tls::http_acceptor).transpose()?;
        let store = Store::open(&config.db_path())?;
        store.init(&genesis)?;
        let loaded = tokio::task::block_in_place(|| store.load())?;
        let ledger = loaded.ledger;
        tracing::info!(height = ledger.head().height, ledger_size = ledger.head().ledger_size, "ledger loaded");
        let (queue, inbox) = SubmitQueue::new(QUEUED_REQUESTS_MAX);

        let http_listener = bind(listeners.http, config.http_addr).await?;
        let addr = http_listener.local_addr().map_err(|source| StartError::Bind { addr: config.http_addr, source })?;

        let mut threads = Vec::new();
        let mut tasks = Vec::new();
        let mut transport = None;
        let (durable, applied_at_start, applied_config, applied_addresses) = if config.peers.is_empty() {
            (Default::default(), 0, None, None)
        } else {
            (store.load_paxos()?, store.applied_slot()?, store.applied_config()?, store.applied_addresses()?)
        };
        // The durable ledger as a snapshot point (see `ClusterHandle`).
        let snapshot_point = match config.node_id {
            Some(id) if !config.peers.is_empty() => Some(store.snapshot_descriptor(id)?),
            _ => None,
        };
        let chain_id = ledger.chain_id();
        let auth = ledger.auth();
        let health = Arc::new(crate::health::Health::default());
        let shared_base = |cluster| Shared {
            store,
            chain_id,
            auth,
            ledger: RwLock::new(ledger),
            queue,
            queued_transfers: Arc::new(Semaphore::new(QUEUED_TRANSFERS_MAX)),
            halted: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            started_at: std::time::Instant::now(),
            cluster,
            metrics: Default::default(),
            health: health.clone(),
        };

        let shared = if config.peers.is_empty() {
            let shared = Arc::new(shared_base(None));
            let committer = Committer::new(
                shared.clone(),
                inbox,
                config.block_transfers_max,
                Duration::from_millis(config.batch_linger_ms),
            );
            threads.push(spawn(&health, ThreadKind::Committer, "synod-committer", move |beat| committer.run(beat)));
            shared
        } else {
            let node_id = config.node_id.expect("validated");
            // The log's configuration wins over the file's peers; refused
            // only when this node is outside it and not joining.
            let file_peers: Vec<u8> = config.peers.iter().map(|p| p.id).collect();
            let start = crate::cluster::membership::start_membership(
                node_id,
                &file_peers,
                applied_config.as_ref(),
                config.join,
            )?;
            if start.file_differs {
                tracing::info!(
                    node = node_id,
                    recorded = ?start.members,
                    slot = applied_config.as_ref().map(|c| c.slot),
                    file_peers = ?file_peers,
                    "membership: the log's configuration differs from the config file's peers; the log's wins \
                     (the file is the bootstrap and an address book)"
                );
            }
            if start.learner {
                tracing::info!(node = node_id, members = ?start.members, "membership: starting as a learner (join)");
            }
            config.snapshot.validate()?;
            let tls_files = config.tls.as_ref().ok_or(StartError::TlsRequired)?;
            let tls = TlsMaterial::load(tls_files, node_id)?;
            let snapshot_point = snapshot_point.expect("read for a cluster member");
            let members = start.members.clone();
            let config_status =
                ConfigStatus { members: members.clone(), slot: applied_config.as_ref().map(|c| c.slot) };
            let mut options = ReplicaOptions::new(node_id, ClusterConfig::new(members));
            options.learner = start.learner;
            options.limits.value_bytes_max = crate::cluster::VALUE_BYTES_MAX;
            // The ledger is the snapshot: it durably holds every slot up to
            // `applied_at_start`, so the replica resumes there, and accepted
            // entries at or below it are no longer needed.
            let mut durable = durable;
            durable.snapshot_slot = durable.snapshot_slot.max(applied_at_start);
            durable.accepted = durable.accepted.split_off(&(durable.snapshot_slot + 1));
            // The log's configuration, whose entry may be compacted, comes
            // from the ledger (PROTOCOL §7.2).
            durable.config = applied_config.map(Into::into);
            let replica = Replica::recover(options, durable).map_err(|e| StartError::Consensus(e.to_string()))?;

            let (inputs_tx, inputs_rx) = std::sync::mpsc::sync_channel(CONSENSUS_INPUTS_MAX);
            let (urgent_tx, urgent_rx) = std::sync::mpsc::sync_channel(crate::cluster::consensus::URGENT_INPUTS_MAX);
            let (persist_tx, persist_rx) = std::sync::mpsc::channel();
            let (apply_tx, apply_rx) = std::sync::mpsc::sync_channel(
                crate::cluster::consensus::apply_channel_capacity(&replica.options().limits),
            );
            let (applied_tx, applied_rx) = tokio::sync::watch::channel(applied_at_start);
            // Every member serves the same scheme: `[http_tls]` is a
            // cluster-wide setting (DEPLOY.md).
            let scheme = if config.http_tls.is_some() { "https" } else { "http" };
            let peer_addr = config.peer_addr.expect("validated");
            let peer_listener = bind(listeners.peer, peer_addr).await?;
            let bound_peer_addr =
                peer_listener.local_addr().map_err(|source| StartError::Bind { addr: peer_addr, source })?;
            // Every member the file or the log knows, with this node's own
            // bound addresses (what a `Command::Members` carries for it).
            let addresses = crate::cluster::membership::address_book(
                node_id,
                (bound_peer_addr, addr),
                &config.peers,
                applied_addresses.as_ref(),
            );
            let http_urls = crate::cluster::MemberUrls::new(scheme);
            for a in addresses.values() {
                http_urls.set(a.id, a.http_addr);
            }
            let handle = ClusterHandle {
                node_id,
                status: RwLock::new(ClusterStatus::new(node_id, config_status)),
                inputs: inputs_tx.clone(),
                applied: applied_rx,
                http_urls,
                addresses: RwLock::new(addresses.clone()),
                change: Default::default(),
                pending: Default::default(),
                transport_stats: RwLock::new(BTreeMap::new()),
                compacted: Default::default(),
                snapshot_point: RwLock::new(snapshot_point),
                snapshot: config.snapshot.clone(),
                forward_client: crate::api::forward::client(&config)?,
            };
            let shared = Arc::new(shared_base(Some(handle)));

            // Transport: peer messages flow into the consensus inputs.
            let peers = addresses.values().filter(|a| a.id != node_id).map(|a| (a.id, a.peer_addr)).collect();
            let mut tconfig = TransportConfig::new(config.cluster_id.unwrap_or(chain_id), node_id, peer_addr, peers);
            tconfig.security = TransportSecurity::Mutual(tls);
            let (net_tx, mut net_rx) = tokio::sync::mpsc::channel::<(u8, Message)>(4096);
            tconfig.listen = bound_peer_addr;
            let chunk_server = Arc::new(crate::cluster::chunk_server::ChunkServer { shared: shared.clone() });
            let t = Arc::new(
                Transport::<Message>::start_serving(peer_listener, tconfig, net_tx, Some(chunk_server))
                    .await
                    .map_err(|e| StartError::Consensus(e.to_string()))?,
            );
            let chunk_client = t.chunk_client();
            let forward = inputs_tx.clone();
            tokio::spawn(async move {
                while let Some((from, message)) = net_rx.recv().await {
                    // The transport authenticated `from`: the handshake's node
                    // id must match the peer's TLS certificate.
                    if message.from != from {
                        // Counted, logged and scored by the consensus thread.
                        let reason = crate::cluster::refusals::PeerRefusal::ForgedSender;
                        let _ = forward.try_send(Input::Refused { peer: from, reason });
                        continue;
                    }
                    // A full inbox drops the message; the replica retransmits.
                    let _ = forward.try_send(Input::Net(message));
                }
            });
            let stats_shared = shared.clone();
            let stats_transport = t.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if stats_shared.is_stopping() {
                        return;
                    }
                    let stats = stats_transport.peer_stats();
                    for (peer, st) in &stats {
                        let labels = crate::metrics::PeerLabels { peer: *peer };
                        let metrics = &stats_shared.metrics;
                        metrics.peer_queue.get_or_create(&labels).set(st.queued as i64);
                        metrics.peer_queue_bytes.get_or_create(&labels).set(st.queued_bytes as i64);
                        // The transport counts; the counters catch up with it.
                        let dropped = metrics.peer_messages_dropped.get_or_create(&labels);
                        dropped.inc_by(st.dropped.saturating_sub(dropped.get()));
                        let over_bytes = metrics.peer_messages_dropped_bytes_full.get_or_create(&labels);
                        over_bytes.inc_by(st.dropped_bytes_full.saturating_sub(over_bytes.get()));
                        stats_shared.metrics.peer_connected.get_or_create(&labels).set(st.connected as i64);
                        let heard_secs_ago = st.last_heard_ms_ago.map_or(-1.0, |ms| ms as f64 / 1000.0);
                        stats_shared.metrics.peer_last_heard_secs_ago.get_or_create(&labels).set(heard_secs_ago);
                    }
                    if let Some(c) = &stats_shared.cluster {
                        *c.transport_stats.write().expect("stats lock") = stats;
                    }
                }
            }));
            transport = Some(t.clone());
            tasks.push(tokio::spawn(crate::cluster::divergence::watch(shared.clone())));
            tasks.push(tokio::spawn(crate::cluster::compaction::watch(shared.clone())));

            let consensus = crate::cluster::consensus::Consensus {
                shared: shared.clone(),
                replica,
                inbox: crate::cluster::consensus::Inbox { urgent: urgent_rx, inputs: inputs_rx },
                transport: t,
                persist: persist_tx,
                apply: apply_tx,
                refusals: Default::default(),
                peers: crate::cluster::membership::PeerChanges::new(node_id, tokio::runtime::Handle::current()),
                reconfigs: Default::default(),
            };
            let s = shared.clone();
            threads.push(spawn(&health, ThreadKind::Consensus, "synod-consensus", move |beat| {
                // However the thread ends (a panic included), the node no
                // longer claims a role or a leader it cannot act on.
                let _no_role = ClearRoleOnExit(s);
                consensus.run(beat)
            }));
            let s = shared.clone();
            threads.push(spawn(&health, ThreadKind::Persister, "synod-persister", move |beat| {
                crate::cluster::persister::run(s, persist_rx, urgent_tx, inputs_tx, beat)
            }));
            let installer = crate::cluster::install::Installer {
                shared: shared.clone(),
                runtime: tokio::runtime::Handle::current(),
                chunks: chunk_client,
                applied: applied_tx.clone(),
            };
            let s = shared.clone();
            threads.push(spawn(&health, ThreadKind::Applier, "synod-applier", move |beat| {
                crate::cluster::applier::run(s, apply_rx, applied_tx, applied_at_start, installer, beat)
            }));
            let s = shared.clone();
            let batcher = Batcher::new(
                inbox,
                config.block_transfers_max.min(BATCH_TRANSFERS_MAX),
                Duration::from_millis(config.batch_linger_ms),
            );
            threads.push(spawn(&health, ThreadKind::Proposer, "synod-proposer", move |beat| {
                crate::cluster::proposer::run(s, batcher, beat)
            }));
            shared
        };

        let (stop, server) =
            serve_http(http_listener, crate::api::router(shared.clone()), http_tls, shared.metrics.http.clone());
        Ok(Node { addr, shared, stop: Some(stop), server, threads, tasks, transport })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops accepting requests, lets in-flight ones finish, then stops the threads.
    pub async fn shutdown(mut self) {
        self.shared.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.health.set_stopping();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
        let shared = self.shared.clone();
        let threads = std::mem::take(&mut self.threads);
        let _ = tokio::task::spawn_blocking(move || {
            // No new submissions can arrive now; queued ones are finished first.
            shared.queue.stop();
            if let Some(cluster) = &shared.cluster {
                let _ = cluster.inputs.send(Input::Stop);
            }
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
