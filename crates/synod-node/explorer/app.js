// The Synod block explorer. Views are chosen by the URL so every view can be
// shared: `/?q=<transfer id | account | height>`, `/?proof=<base64url proof
// document>`, `/?view=proof`. Everything the node returns is rendered as text
// (never as HTML), and every "verified" mark comes from verify.js, which
// recomputes hashes from bytes instead of trusting the node.

import * as v from "./verify.js";

const REFRESH_MS = 2000; // the home view's live update period
const RECENT_BLOCKS = 10;
const CHAIN_WALK_MAX = 64; // headers fetched to link a block to the head; beyond, a consistency proof

const main = document.getElementById("main");
let status = null; // the node's /v1/status, loaded once per view

// ---- small helpers -----------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const link = (q, text) => el("a", { href: `/?q=${encodeURIComponent(q)}` }, text ?? q);
const hash = (text) => el("span", { class: "hash" }, text);
const short = (hex) => (hex.length > 20 ? `${hex.slice(0, 10)}…${hex.slice(-8)}` : hex);
const plural = (n, one, many) => `${n} ${BigInt(n) === 1n ? one : many}`;

function when(ms) {
  const date = new Date(Number(ms));
  const ago = Math.round((Date.now() - date.getTime()) / 1000);
  const rel = ago < 0 ? "in the future" : ago < 60 ? `${ago} s ago` : ago < 3600 ? `${Math.round(ago / 60)} min ago` : `${Math.round(ago / 3600)} h ago`;
  return `${date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")} (${rel})`;
}

function fields(pairs) {
  return el("dl", {}, pairs.filter(Boolean).map(([k, val]) => [el("dt", {}, k), el("dd", {}, val)]));
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const text = await response.text();
  let body;
  try {
    body = v.parseJson(text);
  } catch {
    body = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, body.code, body.message || response.statusText);
  return body;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function failure(error) {
  return el("p", { class: "error" }, `Error: ${error.message}${error.code ? ` (${error.code})` : ""}`);
}

const isPow = () => status && status.consensus === "pow";

// ---- verification checklist --------------------------------------------------

/** A list of named checks; the section's data-status is "ok" only if all pass. */
class Checklist {
  constructor(title) {
    this.list = el("ul");
    this.section = el("section", { id: "verification", class: "card", "data-status": "running" },
      el("h2", {}, title), el("p", { class: "muted" }, `Checked in this browser with ${v.hashEngine()}.`), this.list);
    this.failed = false;
  }

  async check(name, run) {
    const item = el("li", {}, `… ${name}`);
    this.list.append(item);
    try {
      const detail = await run();
      item.replaceChildren(el("span", { class: "ok" }, "✓ "), name, detail ? el("span", { class: "muted" }, ` — ${detail}`) : "");
      return true;
    } catch (error) {
      this.failed = true;
      item.replaceChildren(el("span", { class: "bad" }, "✗ "), name, el("span", { class: "bad" }, ` — ${error.message}`));
      return false;
    }
  }

  finish(okText, badText) {
    this.section.dataset.status = this.failed ? "failed" : "ok";
    this.section.append(el("p", { class: this.failed ? "bad" : "ok" }, this.failed ? badText : okText));
  }
}

function expect(condition, message) {
  if (!condition) throw new v.VerifyError(message);
}

// ---- home ------------------------------------------------------------------------

async function home() {
  const head = await api("/v1/head");
  const heights = [];
  const top = BigInt(head.height ?? head.header.height);
  for (let h = top; h >= 0n && heights.length < RECENT_BLOCKS; h--) heights.push(h);
  const blocks = await Promise.all(heights.map((h) => api(`/v1/blocks/${h}`).catch(() => null)));
  const rows = blocks.filter(Boolean).map((b) => {
    const height = b.height ?? b.header.height;
    const time = isPow() ? Number(b.header.time) * 1000 : b.header.timestamp_ms;
    const count = b.transfers ? b.transfers.length : 0;
    return el("tr", {}, el("td", {}, link(String(height))), el("td", {}, hash(short(b.hash))), el("td", {}, when(time)),
      el("td", {}, plural(count, "transfer", "transfers")));
  });
  show(
    el("h1", {}, isPow() ? "Proof-of-work chain" : "Ledger"),
    el("div", { class: "grid" },
      el("div", { class: "card", id: "head" }, el("h2", {}, "Head"), headFields(head)),
      el("div", { class: "card", id: "cluster" }, el("h2", {}, isPow() ? "Network" : "Cluster"), isPow() ? powPanel() : clusterPanel())),
    el("h2", {}, "Recent blocks"),
    el("div", { class: "card" }, el("table", { id: "blocks" },
      el("tr", {}, el("th", {}, "height"), el("th", {}, "hash"), el("th", {}, "time"), el("th", {}, "transfers")), rows)),
    await historyCheck(head),
  );
}

function headFields(head) {
  const h = head.header;
  if (isPow()) {
    return fields([["height", link(String(head.height))], ["hash", hash(head.hash)], ["chain work", String(head.chain_work)],
      ["bits", h.bits], ["time", when(Number(h.time) * 1000)]]);
  }
  return fields([["height", link(String(h.height))], ["hash", hash(head.hash)], ["transfers in ledger", String(h.ledger_size)],
    ["ledger root", hash(h.ledger_root)], ["time", when(h.timestamp_ms)]]);
}

function clusterPanel() {
  const c = status.cluster;
  if (!c) return fields([["mode", "single node (no replication)"], ["height", String(status.height)], ["accounts", String(status.accounts)]]);
  const peers = Object.entries(c.peers ?? {}).map(([id, p]) => el("tr", {}, el("td", {}, id),
    el("td", { class: p.connected && !p.lost ? "ok" : "bad" }, p.lost ? "lost" : p.connected ? "connected" : "down"),
    el("td", {}, p.last_heard_ms_ago === null ? "never" : `${p.last_heard_ms_ago} ms ago`), el("td", {}, String(p.queued))));
  return [
    fields([["members", (c.config?.members ?? []).join(", ")], ["leader", c.leader === null ? "none known" : String(c.leader)],
      ["this node", `${c.node_id} (${c.role})`], ["ballot", String(c.ballot)],
      ["commit / applied", `${c.commit_index} / ${c.applied_index}`], ["state", status.failed ? `FAILED: ${status.failed}` : status.halted ? "halted" : "serving"]]),
    el("table", {}, el("tr", {}, el("th", {}, "peer"), el("th", {}, "link"), el("th", {}, "last heard"), el("th", {}, "queued")), peers),
  ];
}

function powPanel() {
  const p = status.pow;
  const peers = Object.entries(p.peers ?? {}).map(([id, peer]) => el("tr", {}, el("td", {}, id),
    el("td", { class: peer.connected && !peer.lost ? "ok" : "bad" }, peer.lost ? "lost" : peer.connected ? "connected" : "down"),
    el("td", {}, String(peer.best_height ?? "")), el("td", {}, peer.last_heard_ms_ago === null ? "never" : `${peer.last_heard_ms_ago} ms ago`),
    el("td", {}, String(peer.ban_score))));
  return [
    fields([["tip", hash(short(p.tip))], ["height", String(p.height)], ["chain work", String(p.chain_work)],
      ["difficulty", Number(p.difficulty).toPrecision(6)], ["hash rate", `${Math.round(Number(p.hashrate_hashes_per_second))} H/s`],
      ["mempool", plural(p.mempool_transfers, "transfer", "transfers")], ["mining", p.mining ? `yes (${p.miner_threads} threads)` : "no"]]),
    el("table", {}, el("tr", {}, el("th", {}, "peer"), el("th", {}, "link"), el("th", {}, "best height"), el("th", {}, "last heard"),
      el("th", {}, "ban score")), peers),
  ];
}

/**
 * A log that only grows: the browser remembers the last ledger size and root
 * it saw from this node and checks a consistency proof from there to the new
 * head, so a node that rewrote history shows up on the next visit.
 */
async function historyCheck(head) {
  if (isPow()) return null;
  const key = `synod.seen.${status.chain_id}`;
  const current = { size: String(head.header.ledger_size), root: head.header.ledger_root };
  const seen = JSON.parse(localStorage.getItem(key) ?? "null");
  const note = el("p", { id: "history", class: "muted" });
  if (!seen || seen.size === "0" || current.size === "0") {
    note.textContent = "This browser has not seen this ledger before; it remembers the head to check the next visit.";
  } else if (BigInt(seen.size) > BigInt(current.size)) {
    note.className = "bad";
    note.textContent = `This node's ledger (${current.size} transfers) is shorter than one this browser saw (${seen.size}).`;
    return note;
  } else {
    try {
      const proof = await api(`/v1/proofs/consistency?from=${seen.size}&to=${current.size}`);
      expect(proof.from_root === seen.root, "the node's old root differs from the one this browser saw");
      await v.verifyConsistency(seen.size, current.size, seen.root, current.root, proof.path);
      note.className = "ok";
      note.textContent = seen.size === current.size
        ? `✓ The ledger is the one this browser saw last (${current.size} transfers, same root).`
        : `✓ The ledger only grew since this browser last looked (${seen.size} → ${current.size} transfers, consistency proof checked).`;
    } catch (error) {
      note.className = "bad";
      note.textContent = `✗ History check failed: ${error.message}`;
      return note;
    }
  }
  localStorage.setItem(key, JSON.stringify(current));
  return note;
}

// ---- block -------------------------------------------------------------------

async function blockView(height) {
  const block = await api(`/v1/blocks/${height}`);
  const h = block.header;
  const transfers = block.transfers ?? [];
  const rows = transfers.map((t, i) => el("tr", {}, el("td", {}, String(i)), el("td", {}, link(t.id, short(t.id))),
    el("td", {}, link(t.from, short(t.from))), el("td", {}, link(t.to, short(t.to))), el("td", {}, String(t.amount))));
  const headerPairs = isPow()
    ? [["version", String(h.version)], ["previous", link(String(BigInt(height) - 1n), h.prev_hash)], ["merkle root", hash(h.merkle_root)],
      ["time", when(Number(h.time) * 1000)], ["bits", h.bits], ["nonce", String(h.nonce)], ["confirmations", String(block.confirmations)],
      block.coinbase && ["coinbase", `${block.coinbase.amount} to ${short(block.coinbase.miner)}`]]
    : [["previous", BigInt(height) > 0n ? link(String(BigInt(height) - 1n), h.prev_hash) : hash(`${h.prev_hash} (genesis hash)`)],
      ["time", when(h.timestamp_ms)], ["transfers", String(h.tx_count)], ["transfer root", hash(h.tx_root)],
      ["ledger size", String(h.ledger_size)], ["ledger root", hash(h.ledger_root)]];
  const checks = new Checklist("Block verification");
  show(el("h1", {}, `Block ${height}`), el("div", { class: "card" }, fields([["hash", hash(block.hash)], ...headerPairs])), checks.section,
    el("h2", {}, plural(transfers.length, "transfer", "transfers")),
    el("div", { class: "card" }, el("table", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "id"), el("th", {}, "from"), el("th", {}, "to"),
      el("th", {}, "amount")), rows)));
  if (isPow()) {
    await checks.check("the header hashes to the block hash", async () => {
      expect((await v.powBlockHash(h)) === block.hash, "SHA256d(header) differs from the hash the node gave");
    });
    if (BigInt(height) > 0n) {
      await checks.check("the hash meets the header's own target", async () => expect(v.meetsTarget(block.hash, h.bits), "not enough work"));
      await checks.check("the merkle root covers the coinbase and every transfer", async () => {
        const leaves = [v.coinbaseBytes(status.chain_id, height, block.coinbase), ...transfers.map(v.recordBytes)];
        expect(v.bytesToHex(await v.merkleRoot(leaves)) === h.merkle_root, "the root of these records differs from the header's");
      });
    }
  } else {
    await checks.check("the header hashes to the block hash", async () => {
      expect((await v.blockHash(h)) === block.hash, "SHA-256(header) differs from the hash the node gave");
    });
    await checks.check("the transfer root covers every transfer of the block", async () => {
      expect(BigInt(transfers.length) === BigInt(h.tx_count), `${transfers.length} transfers listed, header says ${h.tx_count}`);
      expect(v.bytesToHex(await v.merkleRoot(transfers.map(v.recordBytes))) === h.tx_root, "the root of these records differs from tx_root");
    });
    if (BigInt(height) > 0n) {
      await checks.check("the previous block links to this one", async () => {
        const prev = await api(`/v1/blocks/${BigInt(height) - 1n}`);
        expect((await v.blockHash(prev.header)) === h.prev_hash, "the previous header's hash differs from prev_hash");
      });
    }
  }
  checks.finish("Block verified.", "This block FAILED verification.");
}

// ---- transfer or account ---------------------------------------------------------

async function hexView(id) {
  try {
    return await transferView(id, await api(`/v1/transfers/${id}?proof=true`));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  return accountView(id);
}

async function accountView(id) {
  const account = await api(`/v1/accounts/${id}`);
  show(el("h1", {}, "Account"), el("div", { class: "card", id: "account" }, fields([["id", hash(id)], ["balance", String(account.balance)],
    ["next nonce", String(account.nonce)], account.confirmed_nonce !== undefined && ["confirmed nonce", String(account.confirmed_nonce)],
    account.height !== undefined && ["at height", String(account.height)]])),
    el("p", { class: "muted" }, "No transfer has this id, so it is shown as an account. Balances are as this node reports them."));
}

function transferFields(answer) {
  const t = answer.transfer;
  return fields([["id", hash(answer.id)], ["status", answer.status + (answer.confirmations !== undefined ? ` (${plural(answer.confirmations, "confirmation", "confirmations")})` : "")],
    answer.height !== undefined && ["block", link(String(answer.height))], answer.index_in_block !== undefined && ["index in block", String(answer.index_in_block)],
    answer.ledger_index !== undefined && ["ledger index", String(answer.ledger_index)], ["from", link(t.from)], ["to", link(t.to)],
    ["amount", String(t.amount)], ["fee", String(t.fee)], ["nonce", String(t.nonce)], ["memo", t.memo || "(none)"],
    ["signature", t.signature ? hash(t.signature) : "none"]]);
}

async function transferView(id, answer) {
  const checks = new Checklist("Proof verification");
  show(el("h1", {}, "Transfer"), el("div", { class: "card", id: "transfer" }, transferFields(answer)), checks.section);
  if (answer.status === "pending") {
    checks.section.dataset.status = "pending";
    checks.section.append(el("p", { class: "muted" }, "Waiting in the mempool: nothing to verify until it is mined."));
    return;
  }
  await checks.check("the transfer hashes to its id", async () => expect((await v.transferId(answer.transfer)) === id, "SHA-256(signing bytes) differs from the id"));
  await checks.check("the signature", async () => v.verifySignature(answer.transfer));
  if (isPow()) await verifyPowTransfer(answer, checks);
  else await verifyLedgerTransfer(answer, checks);
  checks.finish("Verified: this transfer is in the ledger, and every hash from it to the head was recomputed here.",
    "This proof FAILED verification: do not trust this answer.");
}

/** PROTOCOL.md 5 and 4: leaf → ledger root at the head; its block → the head. */
async function verifyLedgerTransfer(answer, checks) {
  const proof = answer.proof;
  const head = proof.header;
  let headHash;
  await checks.check("the record is the proof's leaf", async () => {
    expect(v.bytesToHex(await v.leafHash(v.recordBytes(answer.transfer))) === proof.leaf_hash, "leaf_hash differs from the record's hash");
    expect(BigInt(proof.leaf_index) === BigInt(answer.ledger_index), "the proof is for another ledger index");
  });
  await checks.check("the head header commits to the proof's tree", async () => {
    expect(BigInt(proof.tree_size) === BigInt(head.ledger_size) && proof.root === head.ledger_root, "tree size or root differs from the header's");
    headHash = await v.blockHash(head);
    return `head ${head.height}, hash ${short(headHash)}`;
  });
  await checks.check("the inclusion path leads to the ledger root (RFC 9162)", async () => {
    await v.verifyInclusion(proof.leaf_index, proof.tree_size, proof.leaf_hash, proof.path, proof.root);
    return `leaf ${proof.leaf_index} of ${proof.tree_size}, ${plural(proof.path.length, "hash", "hashes")}`;
  });
  let block;
  await checks.check(`block ${answer.height} holds the transfer`, async () => {
    block = (await api(`/v1/blocks/${answer.height}`)).header;
    expect((await v.blockHash(block)) === answer.block_hash, "the block's header does not hash to block_hash");
    const first = BigInt(block.ledger_size) - BigInt(block.tx_count);
    const index = BigInt(answer.ledger_index);
    expect(first <= index && index < BigInt(block.ledger_size), "the ledger index is outside the block's range");
  });
  if (!block) return;
  await checks.check(`block ${answer.height} is in the chain up to the head`, async () => {
    const gap = BigInt(head.height) - BigInt(block.height);
    expect(gap >= 0n, "the block is above the head");
    if (gap <= BigInt(CHAIN_WALK_MAX)) {
      let prevHash = answer.block_hash;
      for (let h = BigInt(block.height) + 1n; h <= BigInt(head.height); h++) {
        const header = h === BigInt(head.height) ? head : (await api(`/v1/blocks/${h}`)).header;
        expect(header.prev_hash === prevHash, `block ${h} does not link to block ${h - 1n}`);
        prevHash = await v.blockHash(header);
      }
      expect(prevHash === headHash, "the walk does not end at the head");
      return `${plural(gap, "link", "links")} walked`;
    }
    const proof2 = await api(`/v1/proofs/consistency?from=${block.ledger_size}&to=${head.ledger_size}`);
    await v.verifyConsistency(block.ledger_size, head.ledger_size, block.ledger_root, head.ledger_root, proof2.path);
    return `${gap} blocks apart: consistency proof from the block's ledger to the head's checked`;
  });
}

/** PROTOCOL.md 6.1 and 8: leaf → the block's merkle root; PoW of each header to the tip. */
async function verifyPowTransfer(answer, checks) {
  const proof = answer.proof;
  let block;
  await checks.check("the record is the proof's leaf", async () => {
    expect(v.bytesToHex(await v.leafHash(v.recordBytes(answer.transfer))) === proof.leaf_hash, "leaf_hash differs from the record's hash");
    expect(BigInt(proof.leaf_index) === BigInt(answer.index_in_block) + 1n, "the proof is for another position (leaf 0 is the coinbase)");
  });
  await checks.check("the inclusion path leads to the block's merkle root (RFC 9162)", async () => {
    await v.verifyInclusion(proof.leaf_index, proof.tree_size, proof.leaf_hash, proof.path, proof.root);
    block = await api(`/v1/blocks/${answer.height}`);
    expect(block.header.merkle_root === proof.root, "the block header has another merkle root");
  });
  if (!block) return;
  await checks.check(`block ${answer.height}'s header hashes to its id and meets its target`, async () => {
    expect((await v.powBlockHash(block.header)) === answer.block_hash, "SHA256d(header) differs from block_hash");
    expect(v.meetsTarget(answer.block_hash, block.header.bits), "the hash does not meet the header's target");
  });
  await checks.check("work on top, header by header up to the tip", async () => {
    const tip = BigInt((await api("/v1/head")).height);
    const last = tip - BigInt(answer.height) > BigInt(CHAIN_WALK_MAX) ? BigInt(answer.height) + BigInt(CHAIN_WALK_MAX) : tip;
    let prevHash = answer.block_hash;
    let work = 0n;
    for (let h = BigInt(answer.height) + 1n; h <= last; h++) {
      const next = await api(`/v1/blocks/${h}`);
      expect(next.header.prev_hash === prevHash, `block ${h} does not link to block ${h - 1n}`);
      prevHash = await v.powBlockHash(next.header);
      expect(prevHash === next.hash && v.meetsTarget(prevHash, next.header.bits), `block ${h} lacks its proof of work`);
      work += (1n << 256n) / (v.compactTarget(next.header.bits) + 1n);
    }
    const count = last - BigInt(answer.height);
    return `${plural(count, "block", "blocks")} checked on top (${work} hashes of work)` + (last < tip ? `; ${tip - last} more not walked` : "") +
      ". The page checks each header's own target and links, not the retarget rules or competing branches.";
  });
}

// ---- a saved proof document --------------------------------------------------

function decodeProofParam(param) {
  const base64 = param.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  return v.parseJson(new TextDecoder().decode(bytes));
}

function encodeProofParam(text) {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function proofForm() {
  const area = el("textarea", { id: "proof-text", placeholder: "Paste a proof document (synod tx ID --proof --save proof.json)" });
  const button = el("button", { type: "button" }, "Verify");
  button.addEventListener("click", () => {
    location.href = `/?proof=${encodeProofParam(area.value.trim())}`;
  });
  return el("div", { class: "card" }, el("h2", {}, "Verify a saved proof"), area, el("p", {}, button));
}

async function proofView(param) {
  const checks = new Checklist("Proof verification");
  show(el("h1", {}, "Proof document"), checks.section, proofForm());
  let doc;
  const parsed = await checks.check("the document parses", async () => {
    doc = decodeProofParam(param);
    expect(doc && typeof doc === "object", "not a JSON object");
    return `${doc.type ?? "inclusion"} proof`;
  });
  if (parsed && (doc.type ?? "inclusion") === "inclusion") {
    if (doc.transfer) {
      await checks.check("the transfer is the proof's leaf", async () => {
        expect(v.bytesToHex(await v.leafHash(v.recordBytes(doc.transfer))) === doc.leaf_hash, "leaf_hash differs from the record's hash");
        return `transfer ${short(await v.transferId(doc.transfer))}`;
      });
    }
    await checks.check("the inclusion path leads to the root (RFC 9162)", async () =>
      v.verifyInclusion(doc.leaf_index, doc.tree_size, doc.leaf_hash, doc.path, doc.root));
    if (doc.header) {
      await checks.check("the header commits to the tree", async () => {
        expect(BigInt(doc.tree_size) === BigInt(doc.header.ledger_size) && doc.root === doc.header.ledger_root, "tree size or root differs");
      });
      await checks.check(`the header is this node's block ${doc.header.height}`, async () => {
        const ours = await api(`/v1/blocks/${doc.header.height}`);
        expect((await v.blockHash(doc.header)) === ours.hash, "this node's block at that height has another hash");
      });
    }
  } else if (parsed && doc.type === "consistency") {
    await checks.check("the consistency path links the two roots (RFC 9162)", async () =>
      v.verifyConsistency(doc.from_size, doc.to_size, doc.from_root, doc.to_root, doc.path));
  } else if (parsed) {
    await checks.check("a known proof type", async () => expect(false, `unknown type ${doc.type}`));
  }
  checks.finish("The proof verifies.", "This proof FAILED verification.");
}

// ---- routing -------------------------------------------------------------------

async function route() {
  const params = new URLSearchParams(location.search);
  const q = (params.get("q") ?? "").trim();
  document.getElementById("q").value = q;
  clearTimeout(route.timer);
  try {
    status = await api("/v1/status");
    document.getElementById("chain").textContent =
      `chain ${status.chain_id} · ${status.consensus === "pow" ? "proof of work" : status.consensus === "paxos" ? "Multi-Paxos" : "single node"} · ${status.auth}`;
    if (params.has("proof")) return await proofView(params.get("proof"));
    if (params.get("view") === "proof") return show(el("h1", {}, "Proof document"), proofForm());
    if (q === "") {
      await home();
      route.timer = setTimeout(route, REFRESH_MS);
      return;
    }
    if (/^[0-9]{1,20}$/.test(q)) return await blockView(q);
    if (/^[0-9a-fA-F]{64}$/.test(q)) return await hexView(q.toLowerCase());
    show(el("p", { class: "error" }, "Search takes a transfer id or account (64 hex characters) or a block height."));
  } catch (error) {
    show(failure(error));
    if (q === "" && !params.has("proof")) route.timer = setTimeout(route, REFRESH_MS);
  }
}

document.getElementById("engine").textContent = `Verification: ${v.hashEngine()}`;
route();
