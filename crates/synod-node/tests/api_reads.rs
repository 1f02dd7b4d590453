//! Read endpoints: transfers with inclusion proofs, consistency proofs, blocks, accounts,
//! status, the OpenAPI document, and what survives a restart.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use common::*;
use serde_json::Value;
use synod_core::proof::InclusionProof;
use synod_core::{AuthMode, Genesis, Ledger, SignedTransfer};
use synod_node::api::types::{AccountInfo, BatchReceipt, BlockInfo, ConsistencyInfo, TransferStatus};
use synod_node::{Node, NodeConfig};

async fn transfer_status(n: &TestNode, tx: &SignedTransfer, proof: bool) -> TransferStatus {
    let r = n.get(&format!("/v1/transfers/{}?proof={proof}", tx.id())).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.parse()
}

/// Commits `blocks` blocks one request at a time (each request waits for its own block), each block
/// holding `per_block` transfers from keys 1..=per_block, whose next nonce must be `first_nonce`.
/// Returns the transfers in ledger order.
async fn commit_blocks(n: &TestNode, first_nonce: u64, blocks: u64, per_block: u8) -> Vec<SignedTransfer> {
    let mut all = Vec::new();
    for b in 0..blocks {
        let txs: Vec<SignedTransfer> =
            (1..=per_block).map(|k| signed(k, (k % 5) + 1, 1 + b, first_nonce + b)).collect();
        let r = n.submit_raw(batch_body(&txs)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let receipts: BatchReceipt = r.parse();
        assert!(receipts.results.iter().all(|rc| rc.status == "committed" && !rc.duplicate), "{receipts:?}");
        all.extend(txs);
    }
    all
}

fn check_inclusion(proof: &InclusionProof, tx: &SignedTransfer, ledger_index: u64) {
    proof.verify().expect("inclusion proof verifies");
    assert_eq!(proof.leaf_index, ledger_index);
    assert_eq!(proof.leaf_hash, tx.leaf_hash());
    assert_eq!(proof.transfer.as_ref(), Some(tx));
    // A proof for another leaf position, or a tampered leaf, must not verify.
    let mut moved = proof.clone();
    moved.leaf_index = (ledger_index + 1) % proof.tree_size.max(2);
    if proof.tree_size > 1 {
        assert!(moved.verify().is_err(), "a proof verifies only at its own index");
    }
    let mut tampered = proof.clone();
    tampered.transfer = None;
    tampered.leaf_hash[0] ^= 1;
    assert!(tampered.verify().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inclusion_proofs_verify_against_the_current_head() {
    let n = TestNode::start_default().await;
    let txs = commit_blocks(&n, 0, 4, 3).await;
    let head = n.head().await;
    assert_eq!((head.header.height, head.header.ledger_size), (4, 12));
    for (i, tx) in txs.iter().enumerate() {
        let st = transfer_status(&n, tx, true).await;
        assert_eq!(st.ledger_index, i as u64);
        assert_eq!(st.height, 1 + i as u64 / 3);
        assert_eq!(st.index_in_block, i as u32 % 3);
        let proof = st.proof.expect("proof=true returns a proof");
        check_inclusion(&proof, tx, i as u64);
        assert_eq!(proof.tree_size, head.header.ledger_size);
        assert_eq!(proof.root, head.header.ledger_root);
        let header = proof.header.as_ref().expect("the proof carries its header");
        assert_eq!(header.hash(), head.hash, "the proof's header is the head block");
        // The block the status names holds the transfer.
        let block: BlockInfo = n.get(&format!("/v1/blocks/{}", st.height)).await.parse();
        assert_eq!(block.hash.to_string(), st.block_hash);
        assert_eq!(block.transfers[st.index_in_block as usize].transfer, *tx);
        // proof=false and no parameter give no proof.
        assert!(transfer_status(&n, tx, false).await.proof.is_none());
    }
    // After more blocks, an old transfer's proof is against the new head.
    commit_blocks(&n, 4, 1, 1).await;
    let head = n.head().await;
    let st = transfer_status(&n, &txs[0], true).await;
    let proof = st.proof.unwrap();
    check_inclusion(&proof, &txs[0], 0);
    assert_eq!(proof.tree_size, 13);
    assert_eq!(proof.header.unwrap().hash(), head.hash);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistency_proofs_between_sizes_verify_and_match_block_roots() {
    let n = TestNode::start_default().await;
    // Blocks of 1, 2, 3, 4, 5 transfers (key k sends its i-th transfer with nonce i): ledger sizes
    // 1, 3, 6, 10, 15.
    let mut roots = vec![];
    let mut nonces = [0u64; 6];
    let mut sizes = vec![];
    for per_block in 1..=5u8 {
        let txs: Vec<SignedTransfer> = (1..=per_block)
            .map(|k| {
                let tx = signed(k, (k % 5) + 1, 1, nonces[k as usize]);
                nonces[k as usize] += 1;
                tx
            })
            .collect();
        let r = n.submit_raw(batch_body(&txs)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let head = n.head().await.header;
        sizes.push(head.ledger_size);
        roots.push((head.ledger_size, head.ledger_root));
    }
    assert_eq!(sizes, vec![1, 3, 6, 10, 15]);
    // Sizes inside blocks too (2, 7, 14): the tree is proven at any size, not only at block ends.
    let all_sizes = [1u64, 2, 3, 6, 7, 10, 14, 15];
    for &from in &all_sizes {
        for &to in all_sizes.iter().filter(|&&t| t >= from) {
            let r = n.get(&format!("/v1/proofs/consistency?from={from}&to={to}")).await;
            assert_eq!(r.status, 200, "{}", r.text());
            let raw = r.json();
            for k in ["from_size", "to_size", "from_root", "to_root", "path"] {
                assert!(raw.get(k).is_some(), "consistency answer has {k}: {raw}");
            }
            let info: ConsistencyInfo = r.parse();
            let p = info.proof;
            assert_eq!((p.from_size, p.to_size), (from, to));
            p.verify().unwrap_or_else(|e| panic!("consistency {from}->{to}: {e}"));
            if from == to {
                assert!(p.path.is_empty());
            }
            for (size, root) in &roots {
                if *size == from {
                    assert_eq!(p.from_root, *root, "from_root is block root at {from}");
                }
                if *size == to {
                    assert_eq!(p.to_root, *root, "to_root is block root at {to}");
                }
            }
            if from < to {
                let mut bad = p.clone();
                bad.from_root[0] ^= 1;
                assert!(bad.verify().is_err(), "a wrong old root does not verify ({from}->{to})");
            }
        }
    }
    // The client helper agrees.
    let p = n.client.consistency(3, 15).await.expect("client consistency");
    p.verify().unwrap();
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_accounts_status_and_health() {
    let n = TestNode::start_default().await;
    let block0: BlockInfo = n.get("/v1/blocks/0").await.parse();
    assert_eq!(block0.header, Ledger::genesis_header(&n.genesis));
    assert_eq!(block0.header.prev_hash, n.genesis.hash());
    assert!(block0.transfers.is_empty());
    assert_eq!(n.head().await.hash, block0.hash);

    let tx = signed(1, 2, 7, 0);
    n.commit(&tx).await;
    let block1: BlockInfo = n.get("/v1/blocks/1").await.parse();
    assert_eq!(block1.header.prev_hash, block0.hash.0);
    assert_eq!(block1.header.tx_root, synod_merkle::root_from_leaf_hashes(&[tx.leaf_hash()]));
    assert_eq!(block1.header.ledger_root, block1.header.tx_root, "one transfer: both trees are the leaf");
    let raw = n.get("/v1/blocks/1").await.json();
    assert_eq!(raw["transfers"][0]["id"], tx.id().to_string());
    assert_eq!(raw["transfers"][0]["amount"], 7, "block transfers are flat transfer objects plus id");

    let r = n.get(&format!("/v1/accounts/{}", acct(1))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.parse::<AccountInfo>(), AccountInfo { id: acct(1).to_string(), balance: EACH - 7, nonce: 1 });
    // An account never funded reads as zero.
    let fresh = acct(77);
    let a: AccountInfo = n.get(&format!("/v1/accounts/{fresh}")).await.parse();
    assert_eq!((a.balance, a.nonce), (0, 0));

    let g = n.get("/v1/genesis").await;
    assert_eq!(g.status, 200);
    let info: synod_node::api::types::GenesisInfo = g.parse();
    assert_eq!(info.genesis, n.genesis);
    assert_eq!(info.hash, hex::encode(n.genesis.hash()));
    assert_eq!(info.hash, hex::encode(block0.header.prev_hash), "block 0 commits to the genesis");

    let health = n.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["threads"][0]["name"], "synod-committer");
    let st = n.status().await;
    assert_eq!((st.chain_id, st.consensus.as_str(), st.height, st.ledger_size), (CHAIN, "single", 1, 1));
    assert_eq!(st.head_hash, block1.hash.to_string());
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_openapi_3_and_lists_the_routes() {
    let n = TestNode::start_default().await;
    let r = n.get("/openapi.json").await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.as_deref().unwrap_or("").starts_with("application/json"), "{:?}", r.content_type);
    let doc: Value = r.json();
    let version = doc["openapi"].as_str().expect("openapi version string");
    assert!(version.starts_with("3."), "openapi version {version}");
    let paths = doc["paths"].as_object().expect("paths object");
    for p in [
        "/v1/transfers",
        "/v1/transfers/{id}",
        "/v1/accounts/{id}",
        "/v1/blocks/{height}",
        "/v1/head",
        "/v1/proofs/consistency",
        "/v1/genesis",
        "/v1/status",
        "/healthz",
    ] {
        assert!(paths.contains_key(p), "openapi lists {p}");
    }
    assert!(paths["/v1/transfers"].get("post").is_some(), "POST /v1/transfers is documented");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    assert!(schemas.contains_key("ErrorBody") && schemas.contains_key("TransferReceipt"));
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_head_balances_proofs_and_idempotency() {
    let n = TestNode::start_default().await;
    let txs = commit_blocks(&n, 0, 3, 4).await;
    let head = n.head().await;
    let snap = n.snapshot().await;
    let proofs: Vec<TransferStatus> = {
        let mut v = Vec::new();
        for tx in &txs {
            v.push(transfer_status(&n, tx, true).await);
        }
        v
    };
    let block2 = n.get("/v1/blocks/2").await.json();
    let consistency = n.get("/v1/proofs/consistency?from=4&to=12").await.json();

    let n = n.restart().await;
    let head2 = n.head().await;
    assert_eq!(head2.hash, head.hash);
    assert_eq!(head2.header, head.header);
    let snap2 = n.snapshot().await;
    assert_eq!(snap2.accounts, snap.accounts, "balances and nonces survive the restart");
    assert_eq!((snap2.head_hash, snap2.height, snap2.ledger_size), (snap.head_hash, snap.height, snap.ledger_size));
    assert_eq!(snap2.transfers_committed_since_start, 0);
    for (tx, before) in txs.iter().zip(&proofs) {
        let after = transfer_status(&n, tx, true).await;
        assert_eq!(after.ledger_index, before.ledger_index);
        assert_eq!(after.block_hash, before.block_hash);
        assert_eq!(after.proof, before.proof, "the same proof after restart");
        after.proof.unwrap().verify().unwrap();
    }
    assert_eq!(n.get("/v1/blocks/2").await.json(), block2);
    assert_eq!(n.get("/v1/proofs/consistency?from=4&to=12").await.json(), consistency);
    assert_eq!(n.get("/v1/genesis").await.json()["hash"], hex::encode(n.genesis.hash()));

    // Resubmitting an old transfer is still a duplicate at the same place.
    let rc = n.commit(&txs[5]).await;
    assert!(rc.duplicate);
    assert_eq!(rc.ledger_index, Some(5));
    // And the ledger carries on from where it was.
    let next = signed(1, 2, 1, 3);
    let rc = n.commit(&next).await;
    assert!(!rc.duplicate);
    assert_eq!((rc.height, rc.ledger_index), (Some(4), Some(12)));
    let proof = transfer_status(&n, &next, true).await.proof.unwrap();
    proof.verify().unwrap();
    n.client.consistency(12, 13).await.unwrap().verify().unwrap();

    // A second restart after more writes.
    let head3 = n.head().await;
    let n = n.restart().await;
    assert_eq!(n.head().await.hash, head3.hash);
    assert_eq!(n.nonce(1).await, 4);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_a_different_genesis_is_refused() {
    let n = TestNode::start_default().await;
    n.commit(&signed(1, 2, 1, 0)).await;
    let (dir, g) = n.stop().await;
    let other = Genesis { chain_id: CHAIN + 1, ..g.clone() };
    let config = NodeConfig::new(dir.path().join("n"), "127.0.0.1:0".parse().unwrap(), dir.path().join("genesis.json"));
    assert!(Node::start_with_genesis(config.clone(), other).await.is_err(), "another chain's genesis");
    let trusted = Genesis { auth: AuthMode::None, ..g.clone() };
    assert!(Node::start_with_genesis(config, trusted).await.is_err(), "another auth mode");
    // The right one still opens, with the data intact.
    let n = TestNode::start_in(dir, g).await;
    assert_eq!((n.nonce(1).await, n.status().await.ledger_size), (1, 1));
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_commits_transfers_accepted_with_wait_false() {
    let n = TestNode::start_default().await;
    let txs: Vec<SignedTransfer> = (0..50).map(|nonce| signed(1, 2, 1, nonce)).collect();
    let r = n.post("/v1/transfers?wait=false", batch_body(&txs)).await;
    assert_eq!(r.status, 202, "{}", r.text());
    // No waiting: shutdown itself must drain what was accepted.
    let n = n.restart().await;
    assert_eq!((n.balance(1).await, n.nonce(1).await), (EACH - 50, 50));
    for (i, tx) in txs.iter().enumerate() {
        assert_eq!(transfer_status(&n, tx, false).await.ledger_index, i as u64);
    }
    n.shutdown().await;
}

/// A start that fails to bind must not leave a writer thread holding the database open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_releases_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis(AuthMode::Ed25519, 5, EACH);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = NodeConfig::new(dir.path().join("n"), busy.local_addr().unwrap(), dir.path().join("genesis.json"));
    let err = Node::start_with_genesis(config, g.clone()).await.err().expect("the port is taken");
    assert!(matches!(err, synod_node::StartError::Bind { .. }), "{err}");
    drop(busy);
    // Retrying on a free port must work.
    let n = TestNode::start_in(dir, g).await;
    assert_eq!(n.status().await.ledger_size, 0);
    n.shutdown().await;
}

fn linearizable_reads(n: &Node) -> u64 {
    n.shared().metrics.linearizable_reads.get()
}

async fn get(url: &str, path: &str) -> Resp {
    let resp = reqwest::get(format!("{url}{path}")).await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    Resp { status, content_type, bytes: resp.bytes().await.unwrap().to_vec() }
}

async fn post_tx(url: &str, tx: &SignedTransfer) -> Resp {
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/transfers"))
        .header("content-type", "application/json")
        .body(bytes(&to_json(tx)))
        .send()
        .await
        .expect("POST /v1/transfers");
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    Resp { status, content_type, bytes: resp.bytes().await.unwrap().to_vec() }
}

/// A write committed through one member is seen at once, by default, through
/// each other member: the transfer, the head, its block and a consistency
/// proof up to it (followers wait for the leader's read index; before, they
/// answered 404 for tens of milliseconds). `?consistency=stale` is served
/// locally without a read index.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_through_any_member_see_a_write_committed_through_another() {
    let cluster = cluster::Cluster::start(genesis(AuthMode::Ed25519, 5, EACH), None).await;
    let leader = cluster.leader().await;
    cluster.agreed_on(leader).await;
    let urls: Vec<String> = (0..3).map(|i| cluster.node(i).url()).collect();
    for round in 0..6u64 {
        let writer = round as usize % 3;
        let tx = signed(1, 2, 1, round);
        let committed = post_tx(&urls[writer], &tx).await;
        assert_eq!(committed.status, 200, "{}", committed.text());
        let receipt: synod_node::api::types::TransferReceipt = committed.parse();
        let height = receipt.height.unwrap();
        let size = receipt.ledger_index.unwrap() + 1;
        for reader in (0..3).filter(|r| *r != writer) {
            let url = &urls[reader];
            let before = linearizable_reads(cluster.node(reader));
            let st = get(url, &format!("/v1/transfers/{}", tx.id())).await;
            assert_eq!(st.status, 200, "reader {reader}, round {round}: {}", st.text());
            assert_eq!(st.parse::<TransferStatus>().height, height);
            let head: synod_node::api::types::HeadInfo = get(url, "/v1/head").await.parse();
            assert!(head.header.height >= height, "reader {reader}: head {} < {height}", head.header.height);
            let block = get(url, &format!("/v1/blocks/{height}")).await;
            assert_eq!(block.status, 200, "reader {reader}: {}", block.text());
            assert!(block.parse::<BlockInfo>().transfers.iter().any(|t| t.id == tx.id().to_string()));
            let proof = get(url, &format!("/v1/proofs/consistency?from=1&to={size}")).await;
            assert_eq!(proof.status, 200, "reader {reader}: {}", proof.text());
            let account: AccountInfo = get(url, &format!("/v1/accounts/{}", acct(1))).await.parse();
            assert_eq!(account.nonce, round + 1);
            assert_eq!(linearizable_reads(cluster.node(reader)), before + 5, "each read went through a read index");
        }
    }

    // Stale reads: answered locally, no read index anywhere.
    let follower = (leader + 1) % 3;
    let counts: Vec<u64> = (0..3).map(|i| linearizable_reads(cluster.node(i))).collect();
    let tx = signed(1, 2, 1, 6);
    for path in [
        format!("/v1/transfers/{}?consistency=stale", tx.id()),
        "/v1/head?consistency=stale".to_string(),
        "/v1/blocks/0?consistency=stale".to_string(),
        "/v1/proofs/consistency?from=1&to=1&consistency=stale".to_string(),
        format!("/v1/accounts/{}?consistency=stale", acct(1)),
    ] {
        let r = get(&urls[follower], &path).await;
        assert!(r.status == 200 || r.status == 404, "{path}: {}", r.text());
    }
    let after: Vec<u64> = (0..3).map(|i| linearizable_reads(cluster.node(i))).collect();
    assert_eq!(counts, after, "stale reads took no read index");
    // An unknown consistency is refused before any read index.
    get(&urls[follower], "/v1/head?consistency=eventual").await.assert_error(400, "invalid_field");
    cluster.shutdown().await;
}

/// The leader's `/v1/status` shows how far behind each peer is: the commit
/// index the peer last acknowledged and the lag behind the leader's. A
/// stopped follower's lag grows with every commit; a follower shows none.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_leaders_status_shows_each_peers_lag() {
    let mut cluster = cluster::Cluster::start(genesis(AuthMode::Ed25519, 5, EACH), None).await;
    let leader = cluster.leader().await;
    cluster.agreed_on(leader).await;
    let leader_url = cluster.node(leader).url();
    let (up, down) = ((leader + 1) % 3, (leader + 2) % 3);
    let (up_id, down_id) = ((up + 1).to_string(), (down + 1).to_string());
    cluster.stop(down).await;
    for nonce in 0..3u64 {
        let committed = post_tx(&leader_url, &signed(1, 2, 1, nonce)).await;
        assert_eq!(committed.status, 200, "{}", committed.text());
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (status, peers) = loop {
        let status = get(&leader_url, "/v1/status").await.json();
        let cluster_status = status["cluster"].clone();
        let peers = cluster_status["peers"].clone();
        // The running follower catches up with the next heartbeat reply.
        if peers[&up_id]["lag"] == 0 {
            break (cluster_status, peers);
        }
        assert!(std::time::Instant::now() < deadline, "follower {up_id} never caught up: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let commit = status["commit_index"].as_u64().unwrap();
    assert_eq!(peers[&up_id]["commit_index"], commit, "{peers}");
    // The stopped follower: at least the three commits behind, and the two
    // fields agree with each other.
    let lag = &peers[&down_id]["lag"];
    let behind = match peers[&down_id]["commit_index"].as_u64() {
        Some(c) => commit - c,
        None => {
            assert!(lag.is_null(), "{peers}");
            u64::MAX
        }
    };
    if let Some(lag) = lag.as_u64() {
        assert_eq!(lag, behind, "{peers}");
    }
    assert!(behind >= 3, "{peers}");
    // A follower knows no peer's progress.
    let follower = get(&cluster.node(up).url(), "/v1/status").await.json();
    let follower_peers = follower["cluster"]["peers"].as_object().unwrap().clone();
    assert!(follower_peers.values().all(|p| p.get("lag").is_none()), "{follower}");
    cluster.shutdown().await;
}
