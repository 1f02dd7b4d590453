//! The client's bound on answer bodies (`Client::read_body`): a node is not
//! trusted, so one that declares or streams a body past the bound gets a typed
//! `BadResponse` instead of the client's memory. Each test serves one answer
//! from a raw socket, so the server can lie about lengths as a hostile node would.

use synod_node::client::{Client, ClientError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const LIMIT_BYTES: usize = 64 * 1024;

/// Serves one connection: reads the request head, writes `head`, then `body`
/// `repeat` times (or until the client hangs up).
async fn serve_once(head: String, body: Vec<u8>, repeat: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..repeat {
            if socket.write_all(&body).await.is_err() {
                return; // the client hung up: what the bound is for
            }
        }
    });
    url
}

fn chunk(bytes: &[u8]) -> Vec<u8> {
    let mut c = format!("{:x}\r\n", bytes.len()).into_bytes();
    c.extend_from_slice(bytes);
    c.extend_from_slice(b"\r\n");
    c
}

#[tokio::test]
async fn an_endless_chunked_answer_is_cut_at_the_bound() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    // 1 GiB in 4 KiB chunks: far more than the bound; the client must stop reading.
    let url = serve_once(head.to_string(), chunk(&[b' '; 4096]), 256 * 1024).await;
    let client = Client::new(vec![url]).with_response_bytes_max(LIMIT_BYTES);
    match client.get_json("/v1/head").await {
        Err(ClientError::BadResponse { detail, .. }) => assert!(detail.contains("limit"), "{detail}"),
        other => panic!("expected a BadResponse past the bound, got {other:?}"),
    }
}

#[tokio::test]
async fn a_declared_length_over_the_bound_is_refused_before_reading() {
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", 1u64 << 40);
    let url = serve_once(head, b"{}".to_vec(), 1).await;
    let client = Client::new(vec![url]).with_response_bytes_max(LIMIT_BYTES);
    match client.get_json("/v1/head").await {
        Err(ClientError::BadResponse { detail, .. }) => assert!(detail.contains("exceeds"), "{detail}"),
        other => panic!("expected a BadResponse for the declared length, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_at_the_bound_is_read() {
    // A JSON string that makes the body exactly LIMIT_BYTES long.
    let body = format!("\"{}\"", "a".repeat(LIMIT_BYTES - 2)).into_bytes();
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let mut stream = chunk(&body);
    stream.extend_from_slice(b"0\r\n\r\n");
    let url = serve_once(head.to_string(), stream, 1).await;
    let client = Client::new(vec![url]).with_response_bytes_max(LIMIT_BYTES);
    let v = client.get_json("/v1/head").await.expect("an answer within the bound is read");
    assert_eq!(v.as_str().map(str::len), Some(LIMIT_BYTES - 2));
}
