//! Bad input on the peer port, over real sockets, against live members
//! (issue "Trust no peer"). An outside tester opened a plain TCP connection
//! to a member's peer port, claimed to be member 2 and, in the same write,
//! sent an `Accept` at ballot 1000 that declared itself committed and held an
//! unsigned transfer of 12,345 units: the member applied it. Each test here
//! replays one kind of attack and then checks the cluster as a client would:
//! every live node still commits a signed transfer sent through it,
//! `/healthz` is 200 on every node, the refusal counter names the reason,
//! and the forged transfer is nowhere.
//!
//! The cluster is nodes 1 and 2 live, and the test in node 3's place
//! (`common/attacker.rs`): with node 3's certificate where a test needs a
//! member's, with none or a stranger's where it must not have one.

#[path = "common/attacker.rs"]
mod attacker;
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use attacker::{message_frame, node_id, AttackCluster, PeerConn, ATTACKER, FUNDED_EACH, WAIT};
use common::{acct, transfer, UNFUNDED};
use rustls::pki_types::ServerName;
use synod_core::batch::BatchPayload;
use synod_core::{SignedTransfer, TransferId};
use synod_node::cluster::refusals::{REFUSALS_BAN_THRESHOLD, REFUSAL_BAN_MS};
use synod_node::tls::{ensure_cluster_certs, load_certificates, load_private_key};
use synod_paxos::{Ballot, Batch, BatchId, Body, Command, Message, Snapshot};
use synod_storage::snapshot::SnapshotDescriptor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The funded account the forged transfer takes from (no honest test
/// transfer touches it, so its balance must stay `FUNDED_EACH`).
const VICTIM: u8 = 4;
const FORGED_AMOUNT: u64 = 12_345;

/// The forged transfer: unsigned, from a funded account to an arbitrary one.
fn forged_transfer() -> SignedTransfer {
    SignedTransfer::unsigned(transfer(VICTIM, UNFUNDED, FORGED_AMOUNT, 0))
}

/// The attack of the report: an `Accept` at ballot `round` of `from` for
/// `slot`, declaring `slot` committed, whose batch holds the forged transfer.
fn forged_accept(from: u8, to: u8, slot: u64, round: u64) -> Message {
    let payload = BatchPayload { timestamp_ms: 1_700_000_100_000, transfers: vec![forged_transfer()] };
    let command = Command::Batch(Batch { id: BatchId(0xBAD), bytes: payload.encode() });
    Message { from, to, body: Body::Accept { ballot: Ballot::new(round, from), slot, command, commit_index: slot } }
}

fn forged_id() -> String {
    let id: TransferId = forged_transfer().id();
    id.to_string()
}

/// The forged transfer is on no node and moved no units; no node promised
/// the attacker's ballot (honest rounds stay far below 1000 here).
async fn assert_not_processed(c: &AttackCluster) {
    c.assert_absent(&forged_id(), &acct(VICTIM), FUNDED_EACH).await;
    c.assert_absent(&forged_id(), &acct(UNFUNDED), 0).await;
    for i in 0..c.nodes.len() {
        let round = c.promised_round(i).await;
        assert!(round < 1000, "node {} promised the forged ballot (round {round})", node_id(i));
    }
}

/// A client config that presents `cert`/`key` and trusts `ca`.
fn client_config(ca: &std::path::Path, cert: &std::path::Path, key: &std::path::Path) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for c in load_certificates(ca).unwrap() {
        roots.add(c).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(synod_node::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(load_certificates(cert).unwrap(), load_private_key(key).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_member_certificate_the_old_attack_is_not_processed() {
    let mut c = AttackCluster::start().await;
    c.assert_live().await;
    // A certificate for each node id, from a CA the cluster does not trust.
    let theirs = ensure_cluster_certs(&c.dir.path().join("theirs"), &[1, 2, 3]).unwrap();

    for target in 0..c.nodes.len() {
        let claim = node_id(1 - target); // the other live member
        let slot = c.commit_index().await + 1;
        let attack =
            [attacker::handshake_frame(claim), message_frame(&forged_accept(claim, node_id(target), slot, 1000))];

        // Plain TCP, the handshake and the Accept in one write.
        let mut tcp = TcpStream::connect(c.peer_addrs[target]).await.unwrap();
        let _ = tcp.write_all(&attack.concat()).await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer)).await.expect("connection left open");
        assert!(!answer.windows(8).any(|w| w == b"SYNODP2P"), "answered in plaintext: {answer:?}");

        // TLS with a well-formed certificate for the claimed node, from
        // another CA (we trust the cluster's CA, so only the node can refuse).
        let files = &theirs[&claim];
        let config = client_config(&c.certs[&1].ca_cert, &files.cert, &files.key);
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(c.peer_addrs[target]).await.unwrap();
        let name = ServerName::try_from(format!("node-{}.synod", node_id(target))).unwrap();
        // TLS 1.3: the client may finish its side before the server refuses.
        if let Ok(tls) = connector.connect(name, tcp).await {
            let mut conn = PeerConn { stream: Box::new(tls) };
            let _ = conn.write(&attack.concat()).await;
            conn.assert_closed_by_node().await;
        }

        c.assert_live().await;
        assert_not_processed(&c).await;
    }
    c.shutdown().await;
}

/// One malicious frame from the issue, and the refusal reason the node must
/// count for it.
struct Frame {
    what: &'static str,
    message: fn(to: u8, other: u8) -> Message,
    reason: &'static str,
}

fn descriptor_from_a_stranger() -> Vec<u8> {
    let descriptor = SnapshotDescriptor {
        last_slot: 500,
        height: 3,
        head_hash: synod_core::BlockHash([7; 32]),
        source: 9,
        config: None,
    };
    descriptor.encode()
}

const FRAMES: &[Frame] = &[
    Frame {
        what: "a Heartbeat addressed to another node",
        message: |_, other| Message {
            from: ATTACKER,
            to: other,
            body: Body::Heartbeat { ballot: Ballot::new(1, ATTACKER), commit_index: 0, seq: 1 },
        },
        reason: "wrong_recipient",
    },
    Frame {
        what: "a Prepare at round 2^64-1",
        message: |to, _| Message {
            from: ATTACKER,
            to,
            body: Body::Prepare { ballot: Ballot::new(u64::MAX, ATTACKER), from_slot: 1 },
        },
        reason: "ballot_above_max",
    },
    Frame {
        what: "an Accept for slot 0",
        message: |to, _| Message {
            from: ATTACKER,
            to,
            body: Body::Accept { ballot: Ballot::new(1, ATTACKER), slot: 0, command: Command::Noop, commit_index: 0 },
        },
        reason: "slot_zero",
    },
    Frame {
        what: "a Fetch for slot 0",
        message: |to, _| Message { from: ATTACKER, to, body: Body::Fetch { from_slot: 0 } },
        reason: "slot_zero",
    },
    Frame {
        what: "a FetchReply with an entry below the range asked for",
        message: |to, _| Message {
            from: ATTACKER,
            to,
            body: Body::FetchReply { from_slot: 5, entries: vec![(2, Command::Noop)], commit_index: 10 },
        },
        reason: "entry_out_of_range",
    },
    Frame {
        what: "an InstallSnapshot whose descriptor's source is not a member",
        message: |to, _| Message {
            from: ATTACKER,
            to,
            body: Body::InstallSnapshot {
                snapshot: Snapshot { last_slot: 500, bytes: descriptor_from_a_stranger(), config: None },
            },
        },
        reason: "descriptor_source",
    },
    Frame {
        what: "a message whose from is not the certificate's node",
        message: |to, other| Message { from: other, to, body: Body::Fetch { from_slot: 1 } },
        reason: "forged_sender",
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_member_certificate_every_malicious_frame_is_refused_or_harmless() {
    let mut c = AttackCluster::start().await;
    c.assert_live().await;
    for frame in FRAMES {
        for target in 0..c.nodes.len() {
            let (to, other) = (node_id(target), node_id(1 - target));
            let before = c.refused(target, frame.reason).await;
            let mut conn = c.connect_as(ATTACKER, ATTACKER, target).await;
            conn.send(&[(frame.message)(to, other)]).await.expect("frame written");
            let after = c.wait_refused_above(target, frame.reason, before).await;
            assert_eq!(after, before + 1, "{}: one frame, one refusal", frame.what);
            c.assert_live().await;
            assert_not_processed(&c).await;
        }
    }

    // The forged committed Accept, now from an authenticated member: the
    // validator lets it through (a member may propose at its own ballot, and
    // may claim its own slot committed), the node promises ballot 1000, and
    // only the applier's signature check keeps the transfer out.
    for target in 0..c.nodes.len() {
        let slot = c.commit_index().await + 1;
        // Above every round promised so far (the second time round, the
        // cluster re-elected above the first attack's ballot).
        let round = c.promised_round(0).await.max(c.promised_round(1).await) + 1000;
        let mut conn = c.connect_as(ATTACKER, ATTACKER, target).await;
        conn.send(&[forged_accept(ATTACKER, node_id(target), slot, round)]).await.expect("frame written");
        let deadline = Instant::now() + WAIT;
        while c.promised_round(target).await < round {
            assert!(Instant::now() < deadline, "node {} never processed the forged Accept", node_id(target));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The cluster re-elects above the attacker's ballot and goes on.
        c.assert_live().await;
        c.assert_absent(&forged_id(), &acct(VICTIM), FUNDED_EACH).await;
        c.assert_absent(&forged_id(), &acct(UNFUNDED), 0).await;
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_past_the_refusal_threshold_is_disconnected_until_its_ban_ends() {
    let mut c = AttackCluster::start().await;
    c.assert_live().await;
    let target = 0;
    let fetch_zero = Message { from: ATTACKER, to: node_id(target), body: Body::Fetch { from_slot: 0 } };

    // The threshold's worth of invalid frames in one write.
    let mut conn = c.connect_as(ATTACKER, ATTACKER, target).await;
    let burst = vec![fetch_zero.clone(); REFUSALS_BAN_THRESHOLD as usize];
    conn.send(&burst).await.expect("burst written");
    let deadline = Instant::now() + WAIT;
    while c.refused(target, "slot_zero").await < u64::from(REFUSALS_BAN_THRESHOLD) {
        assert!(Instant::now() < deadline, "the burst was not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The reader may have read the whole burst before the ban: the node
    // closes the connection at the next frame. (Two frames: the counter
    // moves just before the ban is set, so the first could still slip in.)
    let _ = conn.send(&[fetch_zero.clone(), fetch_zero.clone()]).await;
    conn.assert_closed_by_node().await;

    // While banned, a new connection is closed after the handshake and its
    // frames are not processed: commits through the node (round trips
    // through the consensus thread) leave the count where it was.
    c.assert_live().await;
    let counted = c.refused(target, "slot_zero").await;
    let mut again = c.connect_as(ATTACKER, ATTACKER, target).await;
    let _ = again.send(&[fetch_zero.clone()]).await;
    again.assert_closed_by_node().await;
    c.assert_live().await;
    assert_not_processed(&c).await;
    assert_eq!(c.refused(target, "slot_zero").await, counted, "a banned peer's frames were processed");
    assert_eq!(c.refused(1, "slot_zero").await, 0, "node 2 was not attacked");

    // The ban ends after REFUSAL_BAN_MS: frames are processed (and refused)
    // again. Polled, with the ban's length plus the failsafe as the bound.
    let deadline = Instant::now() + Duration::from_millis(REFUSAL_BAN_MS) + WAIT;
    loop {
        let mut conn = c.connect_as(ATTACKER, ATTACKER, target).await;
        let _ = conn.send(&[fetch_zero.clone()]).await;
        let poll_until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < poll_until {
            if c.refused(target, "slot_zero").await > counted {
                c.assert_live().await;
                c.shutdown().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(Instant::now() < deadline, "frames still not processed after the ban ended");
    }
}
