//! Starting and stopping one node: storage, committer thread, HTTP server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use synod_core::Genesis;
use synod_storage::Store;
use tokio::sync::{oneshot, Semaphore};

use crate::committer::{Committer, SubmitQueue};
use crate::config::{ConfigError, NodeConfig};
use crate::limits::{QUEUED_REQUESTS_MAX, QUEUED_TRANSFERS_MAX};
use crate::shared::Shared;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read genesis {path}: {detail}")]
    Genesis { path: String, detail: String },
    #[error("storage: {0}")]
    Storage(#[from] synod_storage::OpenError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A running node. Dropping it without `shutdown` leaves the server running
/// until the runtime stops.
pub struct Node {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    committer: Option<std::thread::JoinHandle<()>>,
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
        config.validate()?;
        let store = Store::open(&config.db_path())?;
        store.init(&genesis)?;
        let loaded = tokio::task::block_in_place(|| store.load())?;
        let ledger = loaded.ledger;
        tracing::info!(height = ledger.head().height, ledger_size = ledger.head().ledger_size, "ledger loaded");
        let (queue, inbox) = SubmitQueue::new(QUEUED_REQUESTS_MAX);
        let shared = Arc::new(Shared {
            store,
            chain_id: ledger.chain_id(),
            auth: ledger.auth(),
            ledger: RwLock::new(ledger),
            queue,
            queued_transfers: Arc::new(Semaphore::new(QUEUED_TRANSFERS_MAX)),
            halted: AtomicBool::new(false),
            started_at: std::time::Instant::now(),
            blocks_committed: AtomicU64::new(0),
            transfers_committed: AtomicU64::new(0),
        });
        let committer = Committer::new(
            shared.clone(),
            inbox,
            config.block_transfers_max,
            Duration::from_millis(config.batch_linger_ms),
        );
        let committer = std::thread::Builder::new()
            .name("synod-committer".into())
            .spawn(move || committer.run())
            .expect("spawn committer thread");

        let listener = tokio::net::TcpListener::bind(config.http_addr)
            .await
            .map_err(|source| StartError::Bind { addr: config.http_addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.http_addr, source })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = crate::api::router(shared.clone());
        let server = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "http server failed");
            }
        });
        Ok(Node { addr, shared, stop: Some(stop), server, committer: Some(committer) })
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

    /// Stops accepting requests, lets in-flight ones finish, then stops the committer.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
        // No new submissions can arrive now; the committer finishes the queued ones.
        let committer = self.committer.take();
        let shared = self.shared.clone();
        if let Some(handle) = committer {
            let _ = tokio::task::spawn_blocking(move || {
                shared.queue.stop();
                handle.join()
            })
            .await;
        }
    }
}
