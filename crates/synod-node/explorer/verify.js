// Verification in the browser: everything the page shows as "verified" is
// recomputed here from bytes (docs/PROTOCOL.md sections 2, 4 and 5), with
// SHA-256 from WebCrypto. Nothing the node says is taken on trust: the node
// only supplies data, and a wrong byte anywhere makes a check fail.

const MAX_PATH_HASHES = 64; // PROTOCOL.md 6: proof paths hold at most 64 hashes
const U64_LIMIT = 1n << 64n;
const TRANSFER_DOMAIN = ascii("synod.transfer.v1\0");
const BLOCK_DOMAIN = ascii("synod.block.v1\0");

export class VerifyError extends Error {}

function ascii(text) {
  return new TextEncoder().encode(text);
}

export function hexToBytes(hex, bytes) {
  if (typeof hex !== "string" || !/^([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new VerifyError(`not hex: ${String(hex).slice(0, 80)}`);
  }
  if (bytes !== undefined && hex.length !== bytes * 2) {
    throw new VerifyError(`expected ${bytes} bytes of hex, got ${hex.length / 2}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An exact unsigned integer from a JSON value (number, bigint or digit string). */
export function toU64(value, name) {
  let n;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === "string" && /^[0-9]+$/.test(value)) n = BigInt(value);
  else throw new VerifyError(`${name} is not an unsigned integer`);
  if (n < 0n || n >= U64_LIMIT) throw new VerifyError(`${name} is outside u64`);
  return n;
}

function be64(value, name) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, toU64(value, name));
  return out;
}

function be32(value, name) {
  const n = toU64(value, name);
  if (n >= 1n << 32n) throw new VerifyError(`${name} is outside u32`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, Number(n));
  return out;
}

/** JSON.parse keeping integers above 2^53 exact (as BigInt). */
export function parseJson(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value === "number" && !Number.isSafeInteger(value) && context && /^[0-9]+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}

// ---- SHA-256 ---------------------------------------------------------------

const subtle = globalThis.isSecureContext && globalThis.crypto ? globalThis.crypto.subtle : undefined;

/** Which SHA-256 the page uses: WebCrypto needs a secure context (https or localhost). */
export function hashEngine() {
  return subtle ? "WebCrypto SHA-256" : "the page's own SHA-256 (this origin is not a secure context, so WebCrypto is unavailable)";
}

export async function sha256(bytes) {
  if (subtle) return new Uint8Array(await subtle.digest("SHA-256", bytes));
  return sha256Portable(bytes);
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** FIPS 180-4 SHA-256, for pages served over plain http from a non-local host. */
export function sha256Portable(message) {
  const bitLength = BigInt(message.length) * 8n;
  const padded = new Uint8Array(Math.ceil((message.length + 9) / 64) * 64);
  padded.set(message);
  padded[message.length] = 0x80;
  new DataView(padded.buffer).setBigUint64(padded.length - 8, bitLength);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const view = new DataView(padded.buffer);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) new DataView(out.buffer).setUint32(i * 4, h[i]);
  return out;
}

// ---- Synod encodings (PROTOCOL.md 2 and 4) ---------------------------------

/** Signing bytes of a transfer (2.1). */
export function signingBytes(t) {
  const memo = hexToBytes(t.memo ?? "");
  if (memo.length > 64) throw new VerifyError("memo is longer than 64 bytes");
  return concat(
    TRANSFER_DOMAIN,
    be64(t.chain_id, "chain_id"),
    hexToBytes(t.from, 32),
    hexToBytes(t.to, 32),
    be64(t.amount, "amount"),
    be64(t.fee ?? 0, "fee"),
    be64(t.nonce, "nonce"),
    new Uint8Array([memo.length]),
    memo,
  );
}

/** A policy's bytes (1.1): M, N, the keys. */
function policyBytes(p) {
  if (!Array.isArray(p.keys) || p.keys.length > 255) throw new VerifyError("a policy's keys are not a list");
  return concat(new Uint8Array([p.threshold & 0xff, p.keys.length]), ...p.keys.map((k) => hexToBytes(k, 32)));
}

/** The transfer record, the Merkle leaf data (2.4). */
export function recordBytes(t) {
  let out = signingBytes(t);
  if (t.to_policy) out = concat(out, new Uint8Array([3]), policyBytes(t.to_policy));
  if (t.multisig) {
    const sigs = t.multisig.signatures || [];
    const entries = sigs.map((s) => concat(new Uint8Array([s.signer & 0xff]), hexToBytes(s.signature, 64)));
    return concat(out, new Uint8Array([2]), policyBytes(t.multisig), new Uint8Array([sigs.length]), ...entries);
  }
  if (t.signature === null || t.signature === undefined) return concat(out, new Uint8Array([0]));
  return concat(out, new Uint8Array([1]), hexToBytes(t.signature, 64));
}

export async function transferId(t) {
  return bytesToHex(await sha256(signingBytes(t)));
}

/** The 147 header bytes (4.1). */
export function headerBytes(h) {
  return concat(
    BLOCK_DOMAIN,
    be64(h.chain_id, "chain_id"),
    be64(h.height, "height"),
    hexToBytes(h.prev_hash, 32),
    be64(h.timestamp_ms, "timestamp_ms"),
    be32(h.tx_count, "tx_count"),
    hexToBytes(h.tx_root, 32),
    be64(h.ledger_size, "ledger_size"),
    hexToBytes(h.ledger_root, 32),
  );
}

export async function blockHash(header) {
  return bytesToHex(await sha256(headerBytes(header)));
}

// ---- RFC 9162 Merkle trees (PROTOCOL.md 5) ---------------------------------

export async function leafHash(data) {
  return sha256(concat(new Uint8Array([0]), data));
}

async function nodeHash(left, right) {
  return sha256(concat(new Uint8Array([1]), left, right));
}

/** MTH over a list of leaf data (RFC 9162 2.1.1). */
export async function merkleRoot(leaves) {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  let level = [];
  for (const leaf of leaves) level.push(await leafHash(leaf));
  // Building bottom-up by pairs gives the same root as the recursive split
  // at the largest power of two: a lone last node is promoted unchanged.
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(await nodeHash(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

function checkPath(path) {
  if (!Array.isArray(path)) throw new VerifyError("path is not a list");
  if (path.length > MAX_PATH_HASHES) throw new VerifyError(`path has ${path.length} hashes, at most ${MAX_PATH_HASHES}`);
  return path.map((hex) => hexToBytes(hex, 32));
}

/** RFC 9162 2.1.3.2: is `leafHashHex` leaf `index` of the tree of `size` with `rootHex`? */
export async function verifyInclusion(index, size, leafHashHex, pathHex, rootHex) {
  let fn = toU64(index, "leaf_index");
  let sn = toU64(size, "tree_size");
  if (fn >= sn) throw new VerifyError(`leaf ${fn} is not inside a tree of ${sn}`);
  sn -= 1n;
  let r = hexToBytes(leafHashHex, 32);
  for (const p of checkPath(pathHex)) {
    if (sn === 0n) throw new VerifyError("the path is longer than the tree size allows");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new VerifyError("the path is shorter than the tree size needs");
  if (bytesToHex(r) !== rootHex.toLowerCase()) throw new VerifyError("the path does not lead to the root");
}

/** RFC 9162 2.1.4.2: is the tree of `m` with `firstRoot` a prefix of the tree of `n` with `secondRoot`? */
export async function verifyConsistency(m, n, firstRootHex, secondRootHex, pathHex) {
  const first = toU64(m, "from_size");
  const second = toU64(n, "to_size");
  const path = checkPath(pathHex);
  const firstRoot = hexToBytes(firstRootHex, 32);
  const secondRoot = hexToBytes(secondRootHex, 32);
  if (first === 0n || first > second) throw new VerifyError(`sizes ${first} → ${second} are not a growth`);
  if (first === second) {
    if (path.length !== 0 || bytesToHex(firstRoot) !== bytesToHex(secondRoot)) {
      throw new VerifyError("equal sizes need an empty path and equal roots");
    }
    return;
  }
  if (path.length === 0) throw new VerifyError("the path is empty");
  const nodes = (first & (first - 1n)) === 0n ? [firstRoot, ...path] : path;
  let fn = first - 1n;
  let sn = second - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = nodes[0];
  let sr = nodes[0];
  for (const c of nodes.slice(1)) {
    if (sn === 0n) throw new VerifyError("the path is longer than the sizes allow");
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new VerifyError("the path is shorter than the sizes need");
  if (bytesToHex(fr) !== bytesToHex(firstRoot)) throw new VerifyError("the path does not lead to the older root");
  if (bytesToHex(sr) !== bytesToHex(secondRoot)) throw new VerifyError("the path does not lead to the newer root");
}

/** Ed25519 signature check with WebCrypto, where the browser has it. */
export async function verifySignature(t) {
  if (t.multisig) return `multi-signature (${t.multisig.signatures.length} of ${t.multisig.keys.length} keys, threshold ${t.multisig.threshold}): verified by every node, not by this page`;
  if (t.signature === null || t.signature === undefined) return "unsigned (trusted-client ledger)";
  if (!subtle) return "not checked (no WebCrypto here)";
  let key;
  try {
    key = await subtle.importKey("raw", hexToBytes(t.from, 32), { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    return "not checked (this browser's WebCrypto has no Ed25519)";
  }
  const ok = await subtle.verify({ name: "Ed25519" }, key, hexToBytes(t.signature, 64), signingBytes(t));
  if (!ok) throw new VerifyError("the signature does not verify under the sender's key");
  return "valid Ed25519 signature by the sender (WebCrypto)";
}

// ---- Proof of work (PROTOCOL.md 8) -----------------------------------------

const COINBASE_DOMAIN = ascii("synod.coinbase.v1\0");

function le32(value, name) {
  const n = toU64(value, name);
  if (n >= 1n << 32n) throw new VerifyError(`${name} is outside u32`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, Number(n), true);
  return out;
}

function reversed(bytes) {
  return Uint8Array.from(bytes).reverse();
}

/** The 80-byte Bitcoin-style header; `prev_hash` comes in display order. */
export function powHeaderBytes(h) {
  if (!Number.isSafeInteger(h.version) || h.version < -(2 ** 31) || h.version >= 2 ** 31) {
    throw new VerifyError("version is not an i32");
  }
  const version = new Uint8Array(4);
  new DataView(version.buffer).setInt32(0, h.version, true);
  if (typeof h.bits !== "string" || !/^[0-9a-fA-F]{8}$/.test(h.bits)) throw new VerifyError("bits is not 8 hex digits");
  return concat(
    version,
    reversed(hexToBytes(h.prev_hash, 32)),
    hexToBytes(h.merkle_root, 32),
    le32(h.time, "time"),
    le32(BigInt("0x" + h.bits), "bits"),
    le32(h.nonce, "nonce"),
  );
}

/** SHA256d of the header, in display order (as the API writes hashes). */
export async function powBlockHash(header) {
  return bytesToHex(reversed(await sha256(await sha256(powHeaderBytes(header)))));
}

/** The target a compact `bits` encodes; refuses negative and overflowing encodings. */
export function compactTarget(bitsHex) {
  const bits = Number.parseInt(bitsHex, 16);
  const exponent = bits >>> 24;
  const mantissa = bits & 0x007fffff;
  if (bits & 0x00800000 && mantissa !== 0) throw new VerifyError(`bits ${bitsHex} encode a negative target`);
  const target = exponent <= 3 ? BigInt(mantissa >>> (8 * (3 - exponent))) : BigInt(mantissa) << BigInt(8 * (exponent - 3));
  if (target === 0n) throw new VerifyError(`bits ${bitsHex} encode a zero target`);
  if (target >= 1n << 256n) throw new VerifyError(`bits ${bitsHex} overflow 256 bits`);
  return target;
}

/** Does the display-order block hash meet the header's own target? */
export function meetsTarget(hashHex, bitsHex) {
  return BigInt("0x" + hashHex) <= compactTarget(bitsHex);
}

/** The 82-byte coinbase record, leaf 0 of a PoW block's tree. */
export function coinbaseBytes(chainId, height, coinbase) {
  return concat(
    COINBASE_DOMAIN,
    be64(chainId, "chain_id"),
    be64(height, "height"),
    hexToBytes(coinbase.miner, 32),
    be64(coinbase.amount, "coinbase amount"),
    be64(coinbase.extra_nonce, "extra_nonce"),
  );
}
