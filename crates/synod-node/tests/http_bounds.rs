//! The HTTP server's connection bounds (`http_server.rs`). An outside tester
//! held 2,000 idle connections and 300 slowloris connections (a header line
//! every 5 s) open on a node for minutes: `axum::serve` closed none of them.
//! Each test shortens one bound in `HttpServerOptions` and waits for the
//! server to close the socket (a read returns 0), never for a fixed time.

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use synod_node::http_server::{HttpServerOptions, HttpStats, TimeoutPhase};
use synod_node::metrics::Metrics;
use synod_node::startup::serve_http_with;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A failsafe only: every wait below ends long before it when the code is right.
const FAILSAFE: Duration = Duration::from_secs(20);

const REQUEST: &[u8] = b"GET /ping HTTP/1.1\r\nhost: test\r\n\r\n";

async fn server(options: HttpServerOptions) -> (String, tokio::sync::oneshot::Sender<()>, Arc<HttpStats>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().route("/ping", get(|| async { "pong" }));
    let stats = Arc::new(HttpStats::default());
    let (stop, _server) = serve_http_with(listener, app, None, options, stats.clone());
    (addr, stop, stats)
}

/// Sends one request on `stream` and reads until the response body arrived.
async fn ping(stream: &mut TcpStream) {
    stream.write_all(REQUEST).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("pong") {
        let n = tokio::time::timeout(FAILSAFE, stream.read(&mut buf)).await.expect("an answer").unwrap();
        assert!(n > 0, "the server closed the connection instead of answering");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));
}

/// Waits until the server closes `stream` (read returns 0 or the connection
/// is reset); panics if it answers anything.
async fn closed_by_server(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(FAILSAFE, stream.read(&mut buf)).await.expect("the server closes the connection") {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("expected a close, got {:?}", String::from_utf8_lossy(&buf[..n])),
    }
}

fn options() -> HttpServerOptions {
    HttpServerOptions {
        connections_max: 1_024,
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        tls_handshake_timeout: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_at_once_and_counted() {
    let (addr, _stop, stats) = server(HttpServerOptions { connections_max: 2, ..options() }).await;
    // Two connections, each proven accepted by an answer.
    let mut a = TcpStream::connect(&addr).await.unwrap();
    let mut b = TcpStream::connect(&addr).await.unwrap();
    ping(&mut a).await;
    ping(&mut b).await;

    // The third is closed without an answer, even though it sends a request.
    let mut c = TcpStream::connect(&addr).await.unwrap();
    let _ = c.write_all(REQUEST).await;
    closed_by_server(&mut c).await;
    assert_eq!(stats.refused.get(), 1);

    // The two held connections still work.
    ping(&mut a).await;
    ping(&mut b).await;

    // Closing one frees its slot (released when the server sees the close,
    // so a new connection may be refused a few times first).
    drop(a);
    let mut served = false;
    for _ in 0..1_000 {
        let mut d = TcpStream::connect(&addr).await.unwrap();
        d.write_all(REQUEST).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(FAILSAFE, d.read(&mut buf)).await.expect("an answer or a close").unwrap_or(0);
        if n > 0 {
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
            served = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(served, "a freed connection slot is reused");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let (addr, _stop, stats) =
        server(HttpServerOptions { idle_timeout: Duration::from_millis(300), ..options() }).await;
    // Served, then idle: closed.
    let mut used = TcpStream::connect(&addr).await.unwrap();
    ping(&mut used).await;
    closed_by_server(&mut used).await;
    // Never sent a byte: closed too.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    closed_by_server(&mut silent).await;
    assert_eq!(stats.timed_out(TimeoutPhase::Idle), 2);
    assert_eq!(stats.timed_out(TimeoutPhase::Header), 0);
}

#[tokio::test]
async fn a_connection_that_trickles_its_request_head_is_closed_after_the_header_timeout() {
    let (addr, _stop, stats) =
        server(HttpServerOptions { header_read_timeout: Duration::from_millis(400), ..options() }).await;
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(b"GET /ping HTTP/1.1\r\n").await.unwrap();
    // The slowloris: one header line every 50 ms, never the blank line that
    // ends the head. Each line is activity, so only the head deadline ends it.
    let trickle = tokio::spawn(async move {
        for i in 0..1_000u32 {
            if write.write_all(format!("x-slow-{i}: 1\r\n").as_bytes()).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(FAILSAFE, read.read(&mut buf)).await.expect("the server closes the slow connection") {
        Ok(0) | Err(_) => {}
        // hyper may answer the timed-out head with an error status; the
        // close is what matters.
        Ok(n) => assert!(!String::from_utf8_lossy(&buf[..n]).contains("pong")),
    }
    trickle.abort();
    assert_eq!(stats.timed_out(TimeoutPhase::Header), 1);
    assert_eq!(stats.timed_out(TimeoutPhase::Idle), 0);

    // A request whose head arrives at once is served on a fresh connection.
    let mut ok = TcpStream::connect(&addr).await.unwrap();
    ping(&mut ok).await;
}

#[tokio::test]
async fn a_request_in_flight_is_not_cut_by_the_idle_timeout_and_stop_waits_for_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let gate = std::sync::Arc::new(std::sync::Mutex::new(Some((entered_tx, release_rx))));
    let app = axum::Router::new().route(
        "/ping",
        get(move || {
            let gate = gate.clone();
            async move {
                let (entered, release) = gate.lock().unwrap().take().expect("one request");
                let _ = entered.send(());
                let _ = release.await;
                "pong"
            }
        }),
    );
    let options = HttpServerOptions { idle_timeout: Duration::from_millis(100), ..options() };
    let stats = Arc::new(HttpStats::default());
    let (stop, server) = serve_http_with(listener, app, None, options, stats.clone());
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.write_all(REQUEST).await.unwrap();
    entered_rx.await.unwrap();
    // The handler runs for many idle timeouts; the server is asked to stop
    // meanwhile: the request still completes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(()).unwrap();
    release_tx.send(()).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = tokio::time::timeout(FAILSAFE, stream.read(&mut buf)).await.unwrap().unwrap_or(0);
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200") && text.contains("pong"), "got {text:?}");
    assert_eq!(stats.timed_out(TimeoutPhase::Idle), 0);
    tokio::time::timeout(FAILSAFE, server).await.expect("the server stops once the connection closed").unwrap();
}

/// A TLS acceptor with the self-signed test certificate in `tests/data`.
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(data.join("test_tls_cert.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(data.join("test_tls_key.pem")).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_is_closed_after_the_handshake_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().route("/ping", get(|| async { "pong" }));
    // Idle and header timeouts far longer: only the handshake bound can close it.
    let options = HttpServerOptions { tls_handshake_timeout: Duration::from_millis(300), ..options() };
    let stats = Arc::new(HttpStats::default());
    let (_stop, _server) = serve_http_with(listener, app, Some(tls_acceptor()), options, stats.clone());
    // Connects and never sends a ClientHello.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    closed_by_server(&mut silent).await;
    assert_eq!(stats.timed_out(TimeoutPhase::TlsHandshake), 1);
    assert_eq!(stats.tls_handshakes_failed.get(), 0, "a timeout, not a failed handshake");
    assert_eq!(stats.timed_out(TimeoutPhase::Idle), 0);
}

/// The node's `/metrics` exports the server's counts: a node's server counts
/// into `Metrics::http`, which the registry encodes. Here a server with a
/// limit of one connection refuses a second, and the encoded metrics show
/// the refusal, the open connection and every timeout phase at 0.
#[tokio::test]
async fn metrics_export_the_refused_count_and_the_open_connections() {
    let metrics = Metrics::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().route("/ping", get(|| async { "pong" }));
    let options = HttpServerOptions { connections_max: 1, ..options() };
    let (_stop, _server) = serve_http_with(listener, app, None, options, metrics.http.clone());
    let text = metrics.encode();
    assert!(text.contains("synod_http_connections_refused_total 0\n"), "{text}");
    assert!(text.contains("synod_http_connections_open 0\n"), "{text}");

    let mut held = TcpStream::connect(&addr).await.unwrap();
    ping(&mut held).await;
    let mut refused = TcpStream::connect(&addr).await.unwrap();
    let _ = refused.write_all(REQUEST).await;
    closed_by_server(&mut refused).await;

    let text = metrics.encode();
    assert!(text.contains("synod_http_connections_refused_total 1\n"), "{text}");
    assert!(text.contains("synod_http_connections_open 1\n"), "{text}");
    for phase in ["header", "idle", "tls_handshake"] {
        let line = format!("synod_http_connections_timed_out_total{{phase=\"{phase}\"}} 0\n");
        assert!(text.contains(&line), "{line} in {text}");
    }
}
