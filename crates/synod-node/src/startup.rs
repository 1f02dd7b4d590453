//! Start-up pieces shared by every kind of node (single, Paxos member,
//! proof of work): named threads, listeners bound now or handed in, and the
//! HTTP server with a graceful stop.

use std::net::SocketAddr;

use tokio::sync::oneshot;

use crate::node::StartError;

/// Spawns a named OS thread (the names show in `top -H` and panics).
pub fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new().name(name.into()).spawn(f).expect("spawn thread")
}

/// A tokio listener: `listener` if one was bound beforehand (so tests and
/// `synod dev` know every port before any node starts), else bound on `addr`.
pub async fn bind(
    listener: Option<std::net::TcpListener>,
    addr: SocketAddr,
) -> Result<tokio::net::TcpListener, StartError> {
    match listener {
        Some(l) => {
            l.set_nonblocking(true).map_err(|source| StartError::Bind { addr, source })?;
            tokio::net::TcpListener::from_std(l).map_err(|source| StartError::Bind { addr, source })
        }
        None => tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source }),
    }
}

/// Serves `app` on `listener` until the returned sender fires (or is
/// dropped); in-flight requests finish first.
pub fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
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
    (stop, server)
}
