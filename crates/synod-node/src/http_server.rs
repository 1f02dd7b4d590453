//! The HTTP accept loop (hyper HTTP/1.1 under the axum router) with the
//! connection bounds `axum::serve` lacks: a cap on open connections, a
//! deadline for a request head once its first byte arrived (slowloris), an
//! idle timeout for keep-alive connections, and a TLS handshake deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::time::Instant;

use crate::limits::{
    HTTP_CONNECTIONS_MAX, HTTP_HEADER_READ_TIMEOUT_MS, HTTP_IDLE_TIMEOUT_MS, HTTP_TLS_HANDSHAKE_TIMEOUT_MS,
};

/// The server's bounds; `Default` is the node's (`limits.rs`). Tests shorten them.
#[derive(Debug, Clone)]
pub struct HttpServerOptions {
    pub connections_max: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub tls_handshake_timeout: Duration,
}

impl Default for HttpServerOptions {
    fn default() -> Self {
        HttpServerOptions {
            connections_max: HTTP_CONNECTIONS_MAX,
            header_read_timeout: Duration::from_millis(HTTP_HEADER_READ_TIMEOUT_MS),
            idle_timeout: Duration::from_millis(HTTP_IDLE_TIMEOUT_MS),
            tls_handshake_timeout: Duration::from_millis(HTTP_TLS_HANDSHAKE_TIMEOUT_MS),
        }
    }
}

pub use crate::metrics::http::{HttpStats, TimeoutPhase};

/// An open connection, counted in `HttpStats::open` until dropped.
struct OpenConnection {
    stats: Arc<HttpStats>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.stats.open.dec();
    }
}

/// Serves `app` on `listener` (through `tls` if given) until `stop` fires or
/// is dropped; then stops accepting, lets in-flight requests finish, closes
/// idle connections, and returns once every connection is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    options: HttpServerOptions,
    stats: Arc<HttpStats>,
    stop: oneshot::Receiver<()>,
) {
    assert!(options.connections_max >= 1);
    let options = Arc::new(options);
    let permits = Arc::new(Semaphore::new(options.connections_max));
    let (closing_tx, closing_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most likely: back off briefly
                    // rather than spin on the error.
                    tracing::warn!(error = %e, "http accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            stats.refused.inc();
            tracing::debug!(%peer, "http connection refused: connection limit reached");
            drop(tcp);
            continue;
        };
        stats.open.inc();
        let open = OpenConnection { stats: stats.clone(), _permit: permit };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let options = options.clone();
        let stats = stats.clone();
        let closing = closing_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => {
                    let conn = ConnectionInfo { peer, client_cert: None };
                    serve_connection(tcp, conn, app, &options, &stats, closing).await
                }
                Some(acceptor) => match tokio::time::timeout(options.tls_handshake_timeout, acceptor.accept(tcp)).await
                {
                    Ok(Ok(stream)) => {
                        // Verified by rustls against `[http_tls] client_ca`
                        // when that is set.
                        let client_cert = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .map(|c| c.clone().into_owned());
                        let conn = ConnectionInfo { peer, client_cert };
                        serve_connection(stream, conn, app, &options, &stats, closing).await
                    }
                    Ok(Err(e)) => {
                        stats.tls_handshakes_failed.inc();
                        tracing::debug!(%peer, error = %e, "tls handshake failed");
                    }
                    Err(_) => {
                        stats.count_timeout(TimeoutPhase::TlsHandshake);
                        tracing::debug!(%peer, "tls handshake timed out");
                    }
                },
            }
            drop(open);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection holds a permit until it is closed.
    let _ = permits.acquire_many(options.connections_max as u32).await;
}

/// Why a connection's watchdog closed it.
enum Expiry {
    HeaderRead,
    Idle,
}

/// One connection's activity, updated by its IO wrapper and its service.
struct Activity {
    state: Mutex<ActivityState>,
    /// Wakes the watchdog when a request head starts: its deadline is then
    /// the (shorter) header-read one.
    head_started: tokio::sync::Notify,
}

struct ActivityState {
    requests_in_flight: usize,
    /// When the first byte of a request head arrived (no request in flight).
    head_started: Option<Instant>,
    last_activity: Instant,
}

impl Activity {
    fn new() -> Self {
        let now = Instant::now();
        Activity {
            state: Mutex::new(ActivityState { requests_in_flight: 0, head_started: None, last_activity: now }),
            head_started: tokio::sync::Notify::new(),
        }
    }

    fn bytes_read(&self) {
        let mut s = self.state.lock().expect("activity lock");
        let now = Instant::now();
        s.last_activity = now;
        if s.requests_in_flight == 0 && s.head_started.is_none() {
            s.head_started = Some(now);
            self.head_started.notify_one();
        }
    }

    fn bytes_written(&self) {
        self.state.lock().expect("activity lock").last_activity = Instant::now();
    }

    fn request_started(self: &Arc<Self>) -> RequestGuard {
        let mut s = self.state.lock().expect("activity lock");
        s.requests_in_flight += 1;
        s.head_started = None;
        s.last_activity = Instant::now();
        RequestGuard(self.clone())
    }

    /// When to look again, and whether the connection is already due.
    fn check(&self, options: &HttpServerOptions) -> Result<Instant, Expiry> {
        let s = self.state.lock().expect("activity lock");
        let now = Instant::now();
        if s.requests_in_flight > 0 {
            // A handler is running: no deadline from here (the handlers bound
            // their own waits); look again later.
            return Ok(now + options.idle_timeout);
        }
        let (deadline, expiry) = match s.head_started {
            Some(started) => (started + options.header_read_timeout, Expiry::HeaderRead),
            None => (s.last_activity + options.idle_timeout, Expiry::Idle),
        };
        if deadline <= now {
            Err(expiry)
        } else {
            Ok(deadline)
        }
    }
}

struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().expect("activity lock");
        assert!(s.requests_in_flight > 0, "a request guard is dropped once");
        s.requests_in_flight -= 1;
        s.last_activity = Instant::now();
    }
}

/// Who is on the other end of an HTTP connection; every request carries it
/// as an extension (the membership endpoint authenticates with it).
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub peer: std::net::SocketAddr,
    /// The client certificate the TLS handshake verified (`[http_tls]` with
    /// `client_ca`), if any.
    pub client_cert: Option<rustls::pki_types::CertificateDer<'static>>,
}

async fn serve_connection<S>(
    io: S,
    conn: ConnectionInfo,
    app: axum::Router,
    options: &HttpServerOptions,
    stats: &HttpStats,
    mut closing: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: io, activity: activity.clone() });
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(conn.clone());
        let mut app = app.clone();
        let guard = service_activity.request_started();
        async move {
            let response = tower::Service::call(&mut app, request).await;
            drop(guard);
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, service);
    tokio::pin!(connection);
    let mut draining = false;
    if *closing.borrow_and_update() {
        connection.as_mut().graceful_shutdown();
        draining = true;
    }
    loop {
        let next_check = match activity.check(options) {
            Ok(at) => at,
            Err(expiry) => {
                // Dropping the connection closes the socket.
                stats.count_timeout(match expiry {
                    Expiry::HeaderRead => TimeoutPhase::Header,
                    Expiry::Idle => TimeoutPhase::Idle,
                });
                return;
            }
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "http connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep_until(next_check) => {}
            _ = activity.head_started.notified() => {}
            changed = closing.changed(), if !draining => {
                // The server is stopping (or gone): finish the request in
                // flight, close when idle.
                let _ = changed;
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
        }
    }
}

/// The socket, reporting reads and writes to the connection's `Activity`.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_read();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let result = std::pin::Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        result
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let result = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
