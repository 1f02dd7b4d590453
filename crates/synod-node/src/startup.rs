//! Start-up pieces shared by every kind of node (single, Paxos member,
//! proof of work): named threads, listeners bound now or handed in, and the
//! HTTP server with a graceful stop.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::health::{Beat, Health, ThreadKind};
use crate::http_server::{HttpServerOptions, HttpStats};
use crate::node::StartError;

/// Spawns a named node thread of `kind` (the names show in `top -H` and
/// panics) under the node's supervision: a panic, or a return before shutdown,
/// marks the node FAILED (`health.rs`). The thread beats through its `Beat`.
pub fn spawn(
    health: &Arc<Health>,
    kind: ThreadKind,
    name: &str,
    f: impl FnOnce(Beat) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    health.spawn(kind, name, f)
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
        None => tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source: explain_bind(addr, source) }),
    }
}

/// "Address already in use (os error 98)" names no port; this does, and says what to do.
pub fn explain_bind(addr: SocketAddr, e: std::io::Error) -> std::io::Error {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => std::io::Error::new(
            e.kind(),
            format!(
                "port {} is already in use by another process (stop it, or change the address in the config)",
                addr.port()
            ),
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            std::io::Error::new(e.kind(), format!("{} is not an address of this machine ({e})", addr.ip()))
        }
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
            std::io::Error::new(e.kind(), format!("port {} is below 1024 and needs privileges ({e})", addr.port()))
        }
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_port_in_use_is_named() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind(None, addr).await.unwrap_err().to_string();
        assert!(err.contains(&format!("port {} is already in use", addr.port())), "{err}");
    }
}

/// Serves `app` on `listener` (through `tls` when given) with the node's
/// connection bounds (`limits.rs`), counting into `stats` (the node's
/// `Metrics::http`), until the returned sender fires (or is dropped);
/// in-flight requests finish first.
pub fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stats: Arc<HttpStats>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    serve_http_with(listener, app, tls, HttpServerOptions::default(), stats)
}

/// `serve_http` with explicit bounds.
pub fn serve_http_with(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    options: HttpServerOptions,
    stats: Arc<HttpStats>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(crate::http_server::serve(listener, app, tls, options, stats, stopped));
    (stop, server)
}
