//! kill -9 at an arbitrary moment under concurrent load: after restart, every
//! transfer the node acknowledged is there, and the offline audit passes.

mod common;
use common::*;

use std::sync::{Arc, Mutex};

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer, TransferId};

const SENDERS: u8 = 8;

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

#[test]
fn no_acknowledged_transfer_is_lost_to_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut allocations: Vec<Allocation> =
        (1..=SENDERS + 1).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    let genesis = Genesis { chain_id: 11, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations };
    let config = node_files(dir.path(), &genesis);
    let config_s = config.to_str().unwrap();

    for round in 0..2u64 {
        let server = Server::start(&["node", "--config", config_s]);
        let client = synod_node::Client::new(vec![server.url.clone()]);
        let acked: Arc<Mutex<Vec<TransferId>>> = Arc::default();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            // Each sender streams transfers with consecutive nonces.
            let mut tasks = Vec::new();
            for s in 1..=SENDERS {
                let client = client.clone();
                let acked = acked.clone();
                tasks.push(tokio::spawn(async move {
                    let k = key(s);
                    let mut nonce = client.account(&k.account()).await.unwrap().nonce;
                    loop {
                        let t = Transfer {
                            chain_id: 11,
                            from: k.account(),
                            to: key(SENDERS + 1).account(),
                            amount: 1,
                            fee: 0,
                            nonce,
                            memo: vec![],
                        }
                        .sign(&k);
                        match client.submit(&t).await {
                            Ok(r) if r.status == "committed" => {
                                acked.lock().unwrap().push(t.id());
                                nonce += 1;
                            }
                            _ => return, // the node died under us
                        }
                    }
                }));
            }
            // Kill once enough transfers were acknowledged: the exact moment does
            // not matter, the property holds at every moment.
            while acked.lock().unwrap().len() < 200 * (round as usize + 1) {
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            server.kill9();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let acked = acked.lock().unwrap().clone();

        // Restart and look for every acknowledged transfer.
        let server = Server::start(&["node", "--config", config_s]);
        let client = synod_node::Client::new(vec![server.url.clone()]);
        rt.block_on(async {
            for id in &acked {
                let status = client.transfer(id, false).await.unwrap_or_else(|e| panic!("acknowledged {id} lost: {e}"));
                assert_eq!(status.status, "committed");
            }
            let s = client.status().await.unwrap();
            assert!(s.ledger_size >= acked.len() as u64);
        });
        assert!(server.interrupt().success());
        let audit = run(&["verify", "--data-dir", dir.path().join("node").to_str().unwrap()]);
        assert!(audit.status.success(), "audit after kill -9: {}", stdout(&audit));
    }
}
