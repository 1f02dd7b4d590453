//! Writes the seed corpus of every fuzz target to `fuzz/corpus/<target>/`:
//! real messages, documents and blocks from the fixtures, in each target's
//! input format. Deterministic: running it again writes the same files.
//!
//! Usage: `gen-corpus [CORPUS_DIR]` (default `fuzz/corpus`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use synod_core::proof::{ConsistencyProof, InclusionProof, ProofDocument};
use synod_fuzz_support::input::push_sized;
use synod_fuzz_support::{chain, paxos, store};
use synod_merkle::MerkleTree;
use synod_paxos::{Batch, BatchId, Body, ChosenConfig, ClusterConfig, Command, Message, Snapshot};
use synod_pow::chain::genesis_header;
use synod_pow::gossip::{GossipMsg, HeaderBytes, InvItem};
use synod_pow::Compact;

struct Corpus {
    dir: PathBuf,
    written: usize,
}

impl Corpus {
    fn put(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.dir.join(target);
        fs::create_dir_all(&dir).expect("create corpus dir");
        fs::write(dir.join(name), bytes).expect("write corpus file");
        self.written += 1;
    }
}

/// The peer handshake version the node speaks (`PROTOCOL_VERSION` in
/// crates/synod-node/src/transport/handshake.rs; this crate does not depend
/// on synod-node, so a version change must be made here too: the
/// `transport_handshake` target only decodes inputs of the current length).
const HANDSHAKE_VERSION: u16 = 3;

/// A handshake payload as in handshake.rs: `magic || version u16 BE ||
/// cluster_id u64 BE || node_id u8 || channel u8` (20 bytes).
fn handshake(cluster_id: u64, node: u8, magic: &[u8; 8], version: u16, channel: u8) -> Vec<u8> {
    let mut out = magic.to_vec();
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&cluster_id.to_be_bytes());
    out.push(node);
    out.push(channel);
    out
}

fn paxos(c: &mut Corpus) {
    for (role_byte, role) in [(0u8, paxos::Role::Follower), (1, paxos::Role::Candidate), (2, paxos::Role::Leader)] {
        let s = paxos::subject(role);
        let me = s.replica.id();
        // One message of each kind seen during set-up, addressed to the subject.
        let mut kinds = BTreeSet::new();
        let mut all = vec![role_byte];
        let mut sent = s.sent;
        sent.extend(extra_messages(me));
        for mut msg in sent {
            if !kinds.insert(msg.body.kind()) {
                continue;
            }
            if msg.from == me {
                msg.from = msg.to;
            }
            msg.to = me;
            let bytes = postcard::to_allocvec(&msg).expect("encodes");
            c.put("transport_frame", &format!("paxos-{}", msg.body.kind()), &bytes);
            let mut one = vec![role_byte, 1];
            push_sized(&mut one, &bytes);
            one.extend_from_slice(&[2, 0, 50, 2]);
            c.put("paxos_step", &format!("{role_byte}-{}", msg.body.kind()), &one);
            all.push(1);
            push_sized(&mut all, &bytes);
            all.extend_from_slice(&[2, 0, 3]);
        }
        all.extend_from_slice(&[0, 255, 0, 255, 2, 2]);
        c.put("paxos_step", &format!("{role_byte}-all"), &all);
    }
}

/// Kinds a healthy set-up never sends: a learner's fetch, its reply, a snapshot.
fn extra_messages(me: u8) -> Vec<Message> {
    let other = if me == 1 { 2 } else { 1 };
    let batch = Command::Batch(Batch { id: BatchId(9), bytes: b"fuzz".to_vec() });
    let (_, descriptor, _) = store::sender();
    let config = ClusterConfig::new(paxos::MEMBERS.to_vec());
    vec![
        Message { from: other, to: me, body: Body::Fetch { from_slot: 1 } },
        Message {
            from: other,
            to: me,
            body: Body::FetchReply {
                from_slot: 1,
                entries: vec![(1, Command::Config(config.clone())), (2, batch), (3, Command::Noop)],
                commit_index: 3,
            },
        },
        Message {
            from: other,
            to: me,
            body: Body::InstallSnapshot {
                snapshot: Snapshot {
                    last_slot: descriptor.last_slot,
                    bytes: descriptor.encode(),
                    config: Some(ChosenConfig { slot: 1, config }),
                },
            },
        },
    ]
}

fn pow(c: &mut Corpus) {
    let (state, blocks) = chain::chain();
    let config = chain::config();
    let mut headers = genesis_header(&config.genesis, &config.params).to_bytes().to_vec();
    for (i, b) in blocks.iter().enumerate() {
        let bytes = b.encode();
        c.put("pow_block", &format!("block-{}", i + 1), &bytes);
        headers.extend_from_slice(&b.header.to_bytes());
    }
    let mut file = vec![1, 0, 0, 0x65, 0x53];
    file.extend_from_slice(&headers);
    c.put("pow_header", "dev-chain", &file);
    for bits in [0x1d00_ffffu32, 0x207f_ffff, 0x0300_8000, 0x0480_0000, 0x2200_0001, 0x1b04_864c] {
        let mut input = vec![0];
        input.extend_from_slice(&bits.to_be_bytes());
        input.extend_from_slice(&Compact::decode(bits).value.to_be_bytes());
        c.put("pow_header", &format!("bits-{bits:08x}"), &input);
    }
    let tip = blocks.last().expect("fixture blocks");
    let tx = tip.transfers.first().cloned().unwrap_or_else(|| chain::transfer(1, 2, 3, 1, 0));
    let pending = state.mempool().iter().next().map(|e| e.tx.clone());
    let mut msgs = vec![
        ("inv", GossipMsg::Inv(vec![InvItem::Block(tip.hash()), InvItem::Transfer(tx.id())])),
        ("getdata", GossipMsg::GetData(vec![InvItem::Block(blocks[0].hash()), InvItem::Transfer(tx.id())])),
        ("block", GossipMsg::Block(tip.encode())),
        ("transfer", GossipMsg::Transfer(tx.clone())),
        ("getheaders", GossipMsg::GetHeaders { locator: vec![blocks[2].hash(), blocks[0].hash()] }),
        ("headers", GossipMsg::Headers(blocks.iter().map(|b| HeaderBytes(b.header.to_bytes())).collect())),
        ("notfound", GossipMsg::NotFound(vec![InvItem::Block(tip.hash())])),
    ];
    if let Some(p) = pending {
        msgs.push(("pending-transfer", GossipMsg::Transfer(p)));
    }
    let mut all = Vec::new();
    for (name, msg) in &msgs {
        let bytes = msg.to_bytes();
        c.put("transport_frame", &format!("gossip-{name}"), &bytes);
        let mut one = vec![1, 1];
        push_sized(&mut one, &bytes);
        one.extend_from_slice(&[0, 200]);
        c.put("gossip", name, &one);
        all.extend_from_slice(&[1, all.len() as u8 % 3]);
        push_sized(&mut all, &bytes);
    }
    all.extend_from_slice(&[0, 255, 2, 1, 0, 255]);
    c.put("gossip", "all", &all);

    let json = |tx: &synod_core::SignedTransfer| serde_json::to_vec(tx).expect("serializes");
    c.put("transfer_json", "signed", &json(&tx));
    let mut unsigned = tx.clone();
    unsigned.signature = None;
    c.put("transfer_json", "unsigned", &json(&unsigned));
    let mut memo = chain::transfer(2, 3, 9, 0, 4);
    memo.transfer.memo = b"rent".to_vec();
    let memo = memo.transfer.sign(&chain::key(2));
    c.put("transfer_json", "memo", &json(&memo));
    let batch = serde_json::to_vec(&vec![tx.clone(), memo]).expect("serializes");
    c.put("transfer_json", "batch", &batch);
}

fn snapshot(c: &mut Corpus) {
    let (_, descriptor, chunks) = store::sender();
    let v2 = descriptor.encode();
    c.put("snapshot_decode", "descriptor-v2", &[&[0u8][..], &v2].concat());
    let mut v1 = v2[..50].to_vec();
    v1[0] = 1;
    c.put("snapshot_decode", "descriptor-v1", &[&[0u8][..], &v1].concat());
    for (i, chunk) in chunks.iter().enumerate() {
        c.put("snapshot_decode", &format!("chunk-{i}"), &[&[1u8][..], chunk].concat());
        let body = &chunk[..chunk.len() - 4];
        c.put("snapshot_decode", &format!("chunk-body-{i}"), &[&[2u8][..], body].concat());
        c.put("snapshot_install", &format!("chunk-{i}"), &[&[0u8][..], chunk].concat());
        c.put("snapshot_install", &format!("chunk-body-{i}"), &[&[1u8][..], body].concat());
    }
}

fn proofs(c: &mut Corpus) {
    let txs: Vec<_> = (0..7u64).map(|n| chain::transfer(1, 2, n + 1, 0, n)).collect();
    let tree = MerkleTree::from_leaf_hashes(txs.iter().map(|t| t.leaf_hash()));
    for (index, size) in [(3u64, 7u64), (0, 1), (6, 7), (4, 5)] {
        let doc = ProofDocument::Inclusion(InclusionProof {
            leaf_index: index,
            tree_size: size,
            leaf_hash: txs[index as usize].leaf_hash(),
            path: tree.inclusion_proof(index, size).expect("in range"),
            root: tree.root_at(size).expect("in range"),
            transfer: Some(txs[index as usize].clone()),
            header: None,
        });
        let bytes = serde_json::to_vec(&doc).expect("serializes");
        c.put("proof", &format!("inclusion-{index}-{size}"), &[&[0u8][..], &bytes].concat());
    }
    for (old, new) in [(3u64, 7u64), (4, 7), (7, 7), (1, 2)] {
        let doc = ProofDocument::Consistency(ConsistencyProof {
            from_size: old,
            to_size: new,
            from_root: tree.root_at(old).expect("in range"),
            to_root: tree.root_at(new).expect("in range"),
            path: tree.consistency_proof(old, new).expect("in range"),
        });
        let bytes = serde_json::to_vec(&doc).expect("serializes");
        c.put("proof", &format!("consistency-{old}-{new}"), &[&[0u8][..], &bytes].concat());
    }
    c.put("proof", "tree-a", &[1, 7, 0, 0, 5, 0, 3, 0, 2, 9]);
    c.put("proof", "tree-b", &[1, 199, 1, 0, 150, 0, 77, 0, 64, 200]);
}

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| Path::new("fuzz/corpus").to_path_buf());
    let mut c = Corpus { dir, written: 0 };
    let (id, magic, v) = (0x5359_4e4f_4400_0001, b"SYNODP2P", HANDSHAKE_VERSION);
    c.put("transport_handshake", "valid-messages", &handshake(id, 2, magic, v, 0));
    c.put("transport_handshake", "valid-chunk", &handshake(id, 3, magic, v, 1));
    c.put("transport_handshake", "other-cluster", &handshake(7, 1, magic, v, 0));
    c.put("transport_handshake", "bad-magic", &handshake(id, 1, b"SYNODX2P", v, 0));
    c.put("transport_handshake", "old-version", &handshake(id, 1, magic, v - 1, 0));
    c.put("transport_handshake", "bad-channel", &handshake(id, 1, magic, v, 2));
    paxos(&mut c);
    pow(&mut c);
    snapshot(&mut c);
    proofs(&mut c);
    println!("wrote {} corpus files under {}", c.written, c.dir.display());
}
