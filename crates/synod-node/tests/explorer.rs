//! The block explorer at `/`, driven in headless Chromium: the page verifies a
//! committed transfer's proof in the browser and refuses a tampered one.
//!
//! Chromium is Debian's `chromium` (`/usr/bin/chromium`, or `SYNOD_CHROMIUM`).
//! Without it the browser tests print a notice and pass, so that the README's
//! test command works on a machine with only the Rust toolchain; `.ci/run`
//! installs Chromium and sets `SYNOD_REQUIRE_CHROMIUM=1`, which turns a missing
//! browser into a failure.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use serde_json::Value;
use synod_core::SignedTransfer;

/// Virtual time the page gets to load and verify (Chromium pauses virtual
/// time while fetches are pending, so this bounds page timers, not the network).
const BUDGETS_MS: [u64; 3] = [5_000, 15_000, 45_000];
/// Real time one Chromium run may take before the test gives up on it.
const CHROMIUM_RUN_MAX: Duration = Duration::from_secs(120);

fn chromium() -> Option<PathBuf> {
    let path =
        std::env::var_os("SYNOD_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return Some(path);
    }
    if std::env::var("SYNOD_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
        panic!("SYNOD_REQUIRE_CHROMIUM=1 but no Chromium at {}", path.display());
    }
    eprintln!("NOTICE: no Chromium at {}: explorer browser test skipped (apt-get install chromium)", path.display());
    None
}

/// The page's DOM after it ran, once its verification section (if any) left
/// the "running" state; retries with a longer virtual-time budget.
async fn dom(browser: &PathBuf, url: &str) -> String {
    let mut last = String::new();
    for budget in BUDGETS_MS {
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--virtual-time-budget={budget}"),
            "--dump-dom".into(),
            url.to_string(),
        ];
        let browser = browser.clone();
        let output = tokio::task::spawn_blocking(move || run_bounded(&browser, &args)).await.expect("chromium thread");
        last = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(last.contains("<main"), "chromium gave no page for {url}: {}", String::from_utf8_lossy(&output.stderr));
        if !last.contains(r#"data-status="running""#) && !last.contains("Loading…") {
            return last;
        }
    }
    panic!("the page at {url} never finished: {last}");
}

/// Runs Chromium, killing it if it outlives `CHROMIUM_RUN_MAX`.
fn run_bounded(browser: &PathBuf, args: &[String]) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(browser)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read stdout on its own thread so a large DOM never blocks the child on a full pipe.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > CHROMIUM_RUN_MAX {
            let _ = child.kill();
            panic!("chromium ran longer than {CHROMIUM_RUN_MAX:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = reader.join().expect("reader thread").expect("chromium's stdout");
    let mut stderr = Vec::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_end(&mut pipe, &mut stderr);
    }
    std::process::Output { status, stdout, stderr }
}

fn verification_status(dom: &str) -> &str {
    let at = dom.find(r#"id="verification""#).unwrap_or_else(|| panic!("no verification section: {dom}"));
    let rest = &dom[at..];
    let start = rest.find(r#"data-status=""#).expect("a status") + r#"data-status=""#.len();
    let end = rest[start..].find('"').expect("closing quote");
    &rest[start..start + end]
}

/// Commits `blocks` blocks of one transfer each, from key 1 to key 2.
async fn commit_chain(n: &TestNode, blocks: u64) -> Vec<SignedTransfer> {
    let mut txs = Vec::new();
    for nonce in 0..blocks {
        let tx = signed(1, 2, 10 + nonce, nonce);
        n.commit(&tx).await;
        txs.push(tx);
    }
    txs
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// The proof document `synod tx --proof --save` writes, from the API's answer.
async fn proof_document(n: &TestNode, tx: &SignedTransfer) -> Value {
    let answer = n.get(&format!("/v1/transfers/{}?proof=true", tx.id())).await.json();
    let mut doc = answer["proof"].clone();
    doc["type"] = Value::from("inclusion");
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_are_served_with_a_strict_content_security_policy() {
    let n = TestNode::start_default().await;
    let page = n.http.get(format!("{}/", n.url)).send().await.expect("page");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"].to_str().expect("ascii").to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
    assert!(page.text().await.expect("body").contains("/explorer/app.js"));
    for (asset, kind) in [("app.js", "text/javascript"), ("verify.js", "text/javascript"), ("style.css", "text/css")] {
        let r = n.http.get(format!("{}/explorer/{asset}", n.url)).send().await.expect("asset");
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.headers()["content-type"].to_str().expect("ascii").starts_with(kind), "{asset}");
    }
    let missing = n.http.get(format!("{}/explorer/secret.js", n.url)).send().await.expect("asset");
    assert_eq!(missing.status(), 404);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_transfer_verifies_in_the_browser_up_to_the_head() {
    let Some(browser) = chromium() else { return };
    let n = TestNode::start_default().await;
    let txs = commit_chain(&n, 4).await;
    // The first transfer sits three blocks below the head: the page walks the links.
    let dom = dom(&browser, &format!("{}/?q={}", n.url, txs[0].id())).await;
    assert_eq!(verification_status(&dom), "ok", "{dom}");
    assert!(dom.contains("3 links walked"), "{dom}");
    assert!(!dom.contains('✗') && !dom.contains("[object"), "{dom}");
    assert!(dom.contains(&txs[0].id().to_string()), "the transfer's id is shown");
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_proof_verifies_and_a_tampered_one_is_refused_in_the_browser() {
    let Some(browser) = chromium() else { return };
    let n = TestNode::start_default().await;
    let txs = commit_chain(&n, 3).await;
    let doc = proof_document(&n, &txs[1]).await;
    let url = |doc: &Value| format!("{}/?proof={}", n.url, base64url(doc.to_string().as_bytes()));

    let good = dom(&browser, &url(&doc)).await;
    assert_eq!(verification_status(&good), "ok", "{good}");

    let mut path_flipped = doc.clone();
    let first = path_flipped["path"][0].as_str().expect("a path hash").to_string();
    let flipped = if first.starts_with('0') { format!("1{}", &first[1..]) } else { format!("0{}", &first[1..]) };
    path_flipped["path"][0] = Value::from(flipped);
    let bad = dom(&browser, &url(&path_flipped)).await;
    assert_eq!(verification_status(&bad), "failed", "{bad}");
    assert!(bad.contains("the path does not lead to the root"), "{bad}");

    let mut amount_changed = doc.clone();
    amount_changed["transfer"]["amount"] = Value::from(1_000_000u64);
    let bad = dom(&browser, &url(&amount_changed)).await;
    assert_eq!(verification_status(&bad), "failed", "{bad}");
    assert!(bad.contains("leaf_hash differs from the record's hash"), "{bad}");

    let mut header_changed = doc.clone();
    header_changed["header"]["timestamp_ms"] = Value::from(1u64);
    let bad = dom(&browser, &url(&header_changed)).await;
    assert_eq!(verification_status(&bad), "failed", "{bad}");
    assert!(bad.contains("has another hash"), "{bad}");
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_opens_a_block_an_account_and_the_live_home_view() {
    let Some(browser) = chromium() else { return };
    let n = TestNode::start_default().await;
    commit_chain(&n, 2).await;

    let block = dom(&browser, &format!("{}/?q=2", n.url)).await;
    assert_eq!(verification_status(&block), "ok", "{block}");
    assert!(block.contains("Block 2") && block.contains("1 transfer<"), "{block}");

    let account = acct(2);
    let balance = n.account(&account).await.balance;
    let page = dom(&browser, &format!("{}/?q={account}", n.url)).await;
    assert!(page.contains(r#"id="account""#) && page.contains(&format!("<dd>{balance}</dd>")), "{page}");

    let home = dom(&browser, &format!("{}/", n.url)).await;
    let head = n.head().await;
    assert!(home.contains(&head.hash.to_string()), "the head's hash is shown: {home}");
    assert!(home.contains(r#"<a href="/?q=2">2</a>"#), "recent blocks link to their views: {home}");
    assert!(!home.contains("[object"), "{home}");
    n.shutdown().await;
}
