#!/usr/bin/env python3
"""Independent Synod client, written from docs/PROTOCOL.md alone.

Its purpose is to prove that PROTOCOL.md is sufficient for a second
implementation: nothing here was taken from the Rust sources.

Modes:
  selftest   offline; re-derives every value of the worked example (section 7)
             and self-tests RFC 9162 inclusion/consistency proof verification.
  live       against a running node; signs and submits one transfer, then
             verifies its id, its inclusion proof, the block header hashes and
             a consistency proof.

Dependencies: the Python 3 standard library and `cryptography` (Ed25519).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import struct
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

# ---------------------------------------------------------------------------
# Constants (PROTOCOL.md sections 2.1, 2.2, 3, 4.1, 6)
# ---------------------------------------------------------------------------

TRANSFER_DOMAIN = b"synod.transfer.v1\x00"  # 18 bytes (2.1)
GENESIS_DOMAIN = b"synod.genesis.v1\x00"  # 17 bytes (3)
BLOCK_DOMAIN = b"synod.block.v1\x00"  # 15 bytes (4.1)
HEADER_LEN = 147  # 4.1
MAX_MEMO = 64  # 2.1 / 2.5
AUTH_NONE = 0x00
AUTH_ED25519 = 0x01
AUTH_MULTISIG = 0x02  # 2.4: policy and signatures follow
RECEIVER_POLICY = 0x03  # 2.4: the receiver's policy, before the auth tag
MULTISIG_DOMAIN = b"synod.multisig.v1\x00"  # 18 bytes (1.1)
POLICY_KEYS_MAX = 16  # 1.1
ED25519_L = 2**252 + 27742317777372353535851937790883648493  # 2.2
EMPTY_ROOT = hashlib.sha256(b"").digest()  # 4.1 / 5
MAX_PROOF_HASHES = 64  # 6 (limits)
U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1

TRANSFER_FIELDS = ("chain_id", "from", "to", "amount", "fee", "nonce", "memo", "signature", "multisig", "to_policy")
HEADER_FIELDS = (
    "chain_id",
    "height",
    "prev_hash",
    "timestamp_ms",
    "tx_count",
    "tx_root",
    "ledger_size",
    "ledger_root",
)


class ProtocolError(Exception):
    """A value does not follow PROTOCOL.md."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def u64(v: int) -> bytes:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= U64_MAX:
        raise ProtocolError(f"not a u64: {v!r}")
    return struct.pack(">Q", v)


def u32(v: int) -> bytes:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= U32_MAX:
        raise ProtocolError(f"not a u32: {v!r}")
    return struct.pack(">I", v)


def unhex(s: Any, length: Optional[int] = None, what: str = "hex") -> bytes:
    """Decode hex (either case, no 0x prefix), optionally of an exact byte length."""
    if not isinstance(s, str) or s.startswith(("0x", "0X")) or not re.fullmatch(r"[0-9a-fA-F]*", s):
        raise ProtocolError(f"{what}: not hex: {s!r}")
    if len(s) % 2:
        raise ProtocolError(f"{what}: odd-length hex")
    b = bytes.fromhex(s)
    if length is not None and len(b) != length:
        raise ProtocolError(f"{what}: expected {length} bytes, got {len(b)}")
    return b


# ---------------------------------------------------------------------------
# Ed25519 (2.2)
# ---------------------------------------------------------------------------


def account_from_seed(seed: bytes) -> bytes:
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    return sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(seed: bytes, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def verify_signature(account: bytes, signature: bytes, message: bytes) -> bool:
    """Client-side check. `cryptography` is not ed25519-dalek's verify_strict, so
    we add the one strictness rule that is cheap to check here (S < L)."""
    if len(signature) != 64:
        return False
    if int.from_bytes(signature[32:], "little") >= ED25519_L:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(account).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


# ---------------------------------------------------------------------------
# Multi-signature policies (1.1, 2.6)
# ---------------------------------------------------------------------------

Policy = Tuple[int, List[bytes]]  # (threshold M, keys sorted ascending)


def policy_bytes(policy: Policy) -> bytes:
    m, keys = policy
    if not 0 <= m <= 255 or len(keys) > 255 or any(len(k) != 32 for k in keys):
        raise ProtocolError("policy not encodable")
    return bytes([m, len(keys)]) + b"".join(keys)


def policy_id(policy: Policy) -> bytes:
    return sha256(MULTISIG_DOMAIN + policy_bytes(policy))


def policy_well_formed(policy: Policy) -> bool:
    m, keys = policy
    return 1 <= m <= len(keys) <= POLICY_KEYS_MAX and all(keys[i] < keys[i + 1] for i in range(len(keys) - 1))


def read_policy(data: bytes, pos: int) -> Tuple[Policy, int]:
    if len(data) < pos + 2:
        raise ProtocolError("truncated policy")
    m, n = data[pos], data[pos + 1]
    if n > POLICY_KEYS_MAX:
        raise ProtocolError("policy of more than 16 keys")
    pos += 2
    if len(data) < pos + 32 * n:
        raise ProtocolError("truncated policy keys")
    keys = [data[pos + 32 * i: pos + 32 * (i + 1)] for i in range(n)]
    return (m, keys), pos + 32 * n


def policy_to_json(policy: Policy) -> Dict[str, Any]:
    return {"threshold": policy[0], "keys": [k.hex() for k in policy[1]]}


def policy_from_json(obj: Any) -> Policy:
    if not isinstance(obj, dict) or set(obj) - {"threshold", "keys", "signatures"}:
        raise ProtocolError("policy JSON is not {threshold, keys}")
    return obj["threshold"], [unhex(k, 32, "policy key") for k in obj["keys"]]


# ---------------------------------------------------------------------------
# Transfers (2.1, 2.3, 2.4)
# ---------------------------------------------------------------------------


class Transfer:
    def __init__(
        self,
        chain_id: int,
        sender: bytes,
        receiver: bytes,
        amount: int,
        fee: int = 0,
        nonce: int = 0,
        memo: bytes = b"",
        signature: Optional[bytes] = None,
        multisig: Optional[Tuple[Policy, List[Tuple[int, bytes]]]] = None,
        to_policy: Optional[Policy] = None,
    ) -> None:
        if len(sender) != 32 or len(receiver) != 32:
            raise ProtocolError("account ids are 32 bytes")
        if len(memo) > MAX_MEMO:
            raise ProtocolError("memo longer than 64 bytes")
        if signature is not None and len(signature) != 64:
            raise ProtocolError("signature is 64 bytes")
        for v in (chain_id, amount, fee, nonce):
            u64(v)
        self.chain_id = chain_id
        self.sender = sender
        self.receiver = receiver
        self.amount = amount
        self.fee = fee
        self.nonce = nonce
        self.memo = memo
        self.signature = signature
        self.multisig = multisig  # (policy, [(signer index, signature)]) for a spend from a policy id
        self.to_policy = to_policy  # the receiver's policy, for a transfer to a policy id

    def signing_bytes(self) -> bytes:
        out = (
            TRANSFER_DOMAIN
            + u64(self.chain_id)
            + self.sender
            + self.receiver
            + u64(self.amount)
            + u64(self.fee)
            + u64(self.nonce)
            + bytes([len(self.memo)])
            + self.memo
        )
        assert len(out) == 115 + len(self.memo)
        return out

    def id(self) -> bytes:
        return sha256(self.signing_bytes())

    def record(self) -> bytes:
        out = self.signing_bytes()
        if self.to_policy is not None:
            out += bytes([RECEIVER_POLICY]) + policy_bytes(self.to_policy)
        if self.multisig is not None:
            policy, sigs = self.multisig
            return (out + bytes([AUTH_MULTISIG]) + policy_bytes(policy) + bytes([len(sigs)])
                    + b"".join(bytes([i]) + sig for i, sig in sigs))
        if self.signature is None:
            return out + bytes([AUTH_NONE])
        return out + bytes([AUTH_ED25519]) + self.signature

    def verify_multisig(self) -> bool:
        """The rules of 2.6 (client side; strictness as in verify_signature)."""
        if self.multisig is None:
            return False
        policy, sigs = self.multisig
        m, keys = policy
        if not policy_well_formed(policy) or policy_id(policy) != self.sender or len(sigs) < m:
            return False
        indexes = [i for i, _ in sigs]
        if any(i >= len(keys) for i in indexes) or any(a >= b for a, b in zip(indexes, indexes[1:])):
            return False
        return all(verify_signature(keys[i], sig, self.signing_bytes()) for i, sig in sigs)

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.record())

    def sign_with(self, seed: bytes) -> "Transfer":
        if account_from_seed(seed) != self.sender:
            raise ProtocolError("seed does not belong to the sender")
        self.signature = sign(seed, self.signing_bytes())
        return self

    def to_json(self) -> Dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "from": self.sender.hex(),
            "to": self.receiver.hex(),
            "amount": self.amount,
            "fee": self.fee,
            "nonce": self.nonce,
            "memo": self.memo.hex(),
            "signature": None if self.signature is None else self.signature.hex(),
            **({} if self.multisig is None else {"multisig": {
                **policy_to_json(self.multisig[0]),
                "signatures": [{"signer": i, "signature": sig.hex()} for i, sig in self.multisig[1]]}}),
            **({} if self.to_policy is None else {"to_policy": policy_to_json(self.to_policy)}),
        }

    @classmethod
    def from_json(cls, obj: Any, extra_allowed: Sequence[str] = ()) -> "Transfer":
        if not isinstance(obj, dict):
            raise ProtocolError("transfer JSON is not an object")
        unknown = set(obj) - set(TRANSFER_FIELDS) - set(extra_allowed)
        if unknown:
            raise ProtocolError(f"transfer JSON has unknown fields {sorted(unknown)}")
        for k in ("chain_id", "from", "to", "amount", "nonce"):
            if k not in obj:
                raise ProtocolError(f"transfer JSON lacks {k!r}")
        memo_hex = obj.get("memo")
        sig_hex = obj.get("signature")
        memo = b"" if memo_hex is None else unhex(memo_hex, what="memo")
        sig = None if sig_hex is None else unhex(sig_hex, 64, "signature")
        ms = obj.get("multisig")
        multisig = None
        if ms is not None:
            if sig is not None:
                raise ProtocolError("both signature and multisig")
            entries = ms.get("signatures") if isinstance(ms, dict) else None
            if not isinstance(entries, list) or any(not isinstance(e, dict) or set(e) != {"signer", "signature"}
                                                    for e in entries):
                raise ProtocolError("multisig.signatures is not a list of {signer, signature}")
            multisig = (policy_from_json(ms), [(e["signer"], unhex(e["signature"], 64, "signature")) for e in entries])
        tp = obj.get("to_policy")
        return cls(
            chain_id=obj["chain_id"],
            sender=unhex(obj["from"], 32, "from"),
            receiver=unhex(obj["to"], 32, "to"),
            amount=obj["amount"],
            fee=obj.get("fee", 0),
            nonce=obj["nonce"],
            memo=memo,
            signature=sig,
            multisig=multisig,
            to_policy=None if tp is None else policy_from_json(tp),
        )

    @classmethod
    def decode_record(cls, data: bytes) -> Tuple["Transfer", int]:
        """Decode one record (2.4) from the front of `data`; returns (transfer, length)."""
        if len(data) < 116 or data[:18] != TRANSFER_DOMAIN:
            raise ProtocolError("not a transfer record")
        chain_id, = struct.unpack(">Q", data[18:26])
        sender, receiver = data[26:58], data[58:90]
        amount, fee, nonce = struct.unpack(">QQQ", data[90:114])
        memo_len = data[114]
        if memo_len > MAX_MEMO:
            raise ProtocolError("memo_len > 64")
        pos = 115 + memo_len
        if len(data) < pos + 1:
            raise ProtocolError("truncated record")
        memo = data[115:pos]
        tag = data[pos]
        pos += 1
        to_policy: Optional[Policy] = None
        multisig = None
        if tag == RECEIVER_POLICY:
            to_policy, pos = read_policy(data, pos)
            if len(data) < pos + 1:
                raise ProtocolError("truncated record")
            tag = data[pos]
            pos += 1
        if tag == AUTH_MULTISIG:
            policy, pos = read_policy(data, pos)
            if len(data) < pos + 1:
                raise ProtocolError("truncated record")
            k = data[pos]
            pos += 1
            if k > POLICY_KEYS_MAX or len(data) < pos + 65 * k:
                raise ProtocolError("bad multisig signature count")
            sigs = [(data[pos + 65 * j], data[pos + 65 * j + 1: pos + 65 * (j + 1)]) for j in range(k)]
            pos += 65 * k
            multisig = (policy, sigs)
            sig: Optional[bytes] = None
        elif tag == AUTH_ED25519:
            if len(data) < pos + 64:
                raise ProtocolError("truncated signature")
            sig: Optional[bytes] = data[pos : pos + 64]
            pos += 64
        elif tag == AUTH_NONE:
            sig = None
        else:
            raise ProtocolError(f"bad auth_tag {tag}")
        return cls(chain_id, sender, receiver, amount, fee, nonce, memo, sig, multisig, to_policy), pos

    @classmethod
    def from_record(cls, data: bytes) -> "Transfer":
        t, n = cls.decode_record(data)
        if n != len(data):
            raise ProtocolError("trailing bytes after record")
        return t


# ---------------------------------------------------------------------------
# Genesis (3) and block headers (4.1)
# ---------------------------------------------------------------------------


def genesis_bytes(chain_id: int, auth: int, timestamp_ms: int, allocations: Sequence[Tuple[bytes, int]]) -> bytes:
    accounts = [a for a, _ in allocations]
    if accounts != sorted(accounts) or len(set(accounts)) != len(accounts):
        raise ProtocolError("allocations must be sorted by account, without duplicates")
    if any(amount <= 0 for _, amount in allocations):
        raise ProtocolError("allocation amounts must be > 0")
    if sum(amount for _, amount in allocations) > U64_MAX:
        raise ProtocolError("total supply overflows u64")
    out = GENESIS_DOMAIN + u64(chain_id) + bytes([auth]) + u64(timestamp_ms) + u32(len(allocations))
    for account, amount in allocations:
        if len(account) != 32:
            raise ProtocolError("account ids are 32 bytes")
        out += account + u64(amount)
    return out


def genesis_from_json(obj: Dict[str, Any]) -> bytes:
    auth = {"ed25519": AUTH_ED25519, "none": AUTH_NONE}[obj["auth"]]
    allocs = [(unhex(a["account"], 32, "account"), a["amount"]) for a in obj["allocations"]]
    return genesis_bytes(obj["chain_id"], auth, obj["timestamp_ms"], allocs)


class Header:
    def __init__(
        self,
        chain_id: int,
        height: int,
        prev_hash: bytes,
        timestamp_ms: int,
        tx_count: int,
        tx_root: bytes,
        ledger_size: int,
        ledger_root: bytes,
    ) -> None:
        self.chain_id = chain_id
        self.height = height
        self.prev_hash = prev_hash
        self.timestamp_ms = timestamp_ms
        self.tx_count = tx_count
        self.tx_root = tx_root
        self.ledger_size = ledger_size
        self.ledger_root = ledger_root

    def to_bytes(self) -> bytes:
        for h in (self.prev_hash, self.tx_root, self.ledger_root):
            if len(h) != 32:
                raise ProtocolError("header hashes are 32 bytes")
        out = (
            BLOCK_DOMAIN
            + u64(self.chain_id)
            + u64(self.height)
            + self.prev_hash
            + u64(self.timestamp_ms)
            + u32(self.tx_count)
            + self.tx_root
            + u64(self.ledger_size)
            + self.ledger_root
        )
        assert len(out) == HEADER_LEN
        return out

    def hash(self) -> bytes:
        return sha256(self.to_bytes())

    @classmethod
    def from_json(cls, obj: Any) -> "Header":
        if not isinstance(obj, dict):
            raise ProtocolError("header JSON is not an object")
        if set(obj) != set(HEADER_FIELDS):
            raise ProtocolError(f"header JSON fields {sorted(obj)} differ from PROTOCOL.md {sorted(HEADER_FIELDS)}")
        return cls(
            chain_id=obj["chain_id"],
            height=obj["height"],
            prev_hash=unhex(obj["prev_hash"], 32, "prev_hash"),
            timestamp_ms=obj["timestamp_ms"],
            tx_count=obj["tx_count"],
            tx_root=unhex(obj["tx_root"], 32, "tx_root"),
            ledger_size=obj["ledger_size"],
            ledger_root=unhex(obj["ledger_root"], 32, "ledger_root"),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "Header":
        if len(data) != HEADER_LEN or data[:15] != BLOCK_DOMAIN:
            raise ProtocolError("not a 147-byte block header")
        chain_id, height = struct.unpack(">QQ", data[15:31])
        (ts,) = struct.unpack(">Q", data[63:71])
        (tx_count,) = struct.unpack(">I", data[71:75])
        (ledger_size,) = struct.unpack(">Q", data[107:115])
        return cls(chain_id, height, data[31:63], ts, tx_count, data[75:107], ledger_size, data[115:147])


def block0_header(chain_id: int, genesis_hash: bytes, genesis_timestamp_ms: int) -> Header:
    return Header(chain_id, 0, genesis_hash, genesis_timestamp_ms, 0, EMPTY_ROOT, 0, EMPTY_ROOT)


# ---------------------------------------------------------------------------
# Merkle trees, RFC 9162 section 2.1 (5)
# ---------------------------------------------------------------------------


def leaf_hash(record: bytes) -> bytes:
    return sha256(b"\x00" + record)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def largest_pow2_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1)."""
    assert n > 1
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf *data* (records), RFC 9162 2.1.1."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(leaves[0])
    k = largest_pow2_below(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def mth_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """A second, iterative formulation (stack of perfect subtrees), used to
    cross-check the recursive one and to build the ledger tree incrementally."""
    if not hashes:
        return EMPTY_ROOT
    stack: List[Tuple[int, bytes]] = []  # (subtree size, hash)
    for h in hashes:
        stack.append((1, h))
        while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
            (s, r), (_, l) = stack.pop(), stack.pop()
            stack.append((2 * s, node_hash(l, r)))
    _, acc = stack.pop()
    while stack:
        _, l = stack.pop()
        acc = node_hash(l, acc)
    return acc


def path(m: int, leaves: Sequence[bytes]) -> List[bytes]:
    """PATH(m, D[n]), RFC 9162 2.1.3.1."""
    n = len(leaves)
    assert 0 <= m < n
    if n == 1:
        return []
    k = largest_pow2_below(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def proof(m: int, leaves: Sequence[bytes]) -> List[bytes]:
    """PROOF(m, D[n]), RFC 9162 2.1.4.1 (0 < m <= n)."""
    return _subproof(m, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], b: bool) -> List[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = largest_pow2_below(n)
    if m <= k:
        return _subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def inclusion_proof_len(m: int, n: int) -> int:
    """Length of PATH(m, D[n]) implied by the sizes, computed without hashing
    (the number of iterations of RFC 9162 2.1.3.2)."""
    assert 0 <= m < n
    fn, sn, length = m, n - 1, 0
    while sn:
        if fn & 1 or fn == sn:
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        length += 1
        fn >>= 1
        sn >>= 1
    return length


def consistency_proof_len(m: int, n: int) -> int:
    """Length of PROOF(m, D[n]) implied by the sizes (RFC 9162 2.1.4.1 structure)."""
    assert 0 < m <= n

    def sub(m: int, n: int, b: bool) -> int:
        if m == n:
            return 0 if b else 1
        k = largest_pow2_below(n)
        if m <= k:
            return sub(m, k, b) + 1
        return sub(m - k, n - k, False) + 1

    return sub(m, n, True)


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, audit_path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2 plus Synod's extra rejections (5)."""
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (leaf_index, tree_size)):
        return False
    if not 0 <= leaf_index < tree_size or tree_size > 2**64:
        return False
    if len(audit_path) > MAX_PROOF_HASHES or any(len(p) != 32 for p in audit_path):
        return False
    if len(audit_path) != inclusion_proof_len(leaf_index, tree_size):
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in audit_path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes, cpath: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2 plus Synod's extra rejections (5)."""
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (first, second)):
        return False
    if first <= 0 or first > second:
        return False
    if len(cpath) > MAX_PROOF_HASHES or any(len(p) != 32 for p in cpath):
        return False
    if first == second:
        return len(cpath) == 0 and first_hash == second_hash
    if len(cpath) != consistency_proof_len(first, second):
        return False
    if not cpath:
        return False
    p = list(cpath)
    if first & (first - 1) == 0:  # exact power of two
        p = [first_hash] + p
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = p[0]
    for c in p[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# ---------------------------------------------------------------------------
# Check bookkeeping
# ---------------------------------------------------------------------------


class Checks:
    def __init__(self, verbose: bool = True) -> None:
        self.passed = 0
        self.failed = 0
        self.verbose = verbose
        self.failures: List[str] = []
        self.notes: List[str] = []

    def note(self, text: str) -> None:
        """A deviation from PROTOCOL.md that does not affect what is verified."""
        self.notes.append(text)
        print(f"  NOTE  {text}")

    def check(self, name: str, ok: bool, detail: str = "", quiet: bool = False) -> bool:
        if ok:
            self.passed += 1
            if self.verbose and not quiet:
                print(f"  ok    {name}")
        else:
            self.failed += 1
            self.failures.append(name)
            print(f"  FAIL  {name}" + (f": {detail}" if detail else ""))
        return ok

    def eq(self, name: str, got: Any, want: Any, quiet: bool = False) -> bool:
        if isinstance(got, bytes):
            got = got.hex()
        if isinstance(want, bytes):
            want = want.hex()
        return self.check(name, got == want, f"got {got!r}, want {want!r}", quiet)


# ---------------------------------------------------------------------------
# selftest
# ---------------------------------------------------------------------------


def protocol_md_path() -> Path:
    return Path(__file__).resolve().parent.parent / "docs/PROTOCOL.md"


def parse_worked_example(text: str) -> Dict[str, str]:
    m = re.search(r"^```worked-example[ \t]*\n(.*?)^```", text, re.S | re.M)
    if not m:
        raise ProtocolError("no ```worked-example block in PROTOCOL.md")
    values: Dict[str, str] = {}
    for line in m.group(1).splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"unparseable worked-example line {line!r}")
        key = key.strip()
        if key in values:
            raise ProtocolError(f"duplicate worked-example key {key!r}")
        values[key] = value.strip()
    return values


def selftest_worked_example(c: Checks) -> None:
    print("worked example (PROTOCOL.md section 7):")
    ex = parse_worked_example(protocol_md_path().read_text(encoding="utf-8"))
    expected_keys = {
        "sender_seed", "sender_account", "receiver_account", "chain_id", "amount", "fee", "nonce", "memo",
        "signing_bytes", "signature", "transfer_id", "record_bytes", "leaf_hash", "genesis_timestamp_ms",
        "genesis_allocation", "genesis_bytes", "genesis_hash", "block0_hash", "block1_timestamp_ms",
        "block1_header_bytes", "block1_hash",
    }
    c.check("worked-example block has the expected keys", expected_keys <= set(ex),
            f"missing {sorted(expected_keys - set(ex))}")

    seed = unhex(ex["sender_seed"], 32, "sender_seed")
    c.eq("sender_seed is 01 x 32 (prose)", seed, b"\x01" * 32)
    sender = account_from_seed(seed)
    c.eq("sender_account = Ed25519 public key of seed", sender, ex["sender_account"])
    receiver = account_from_seed(b"\x02" * 32)
    c.eq("receiver_account = public key of seed 02 x 32 (prose)", receiver, ex["receiver_account"])

    chain_id, amount, fee, nonce = (int(ex[k]) for k in ("chain_id", "amount", "fee", "nonce"))
    memo = unhex(ex["memo"], what="memo")
    c.eq("memo is \"hi\" (prose)", memo, b"hi")
    t = Transfer(chain_id, sender, receiver, amount, fee, nonce, memo)
    sb = t.signing_bytes()
    c.eq("signing_bytes", sb, ex["signing_bytes"])
    c.eq("signing_bytes length = 115 + memo_len", len(sb), 115 + len(memo))
    t.sign_with(seed)
    assert t.signature is not None
    c.eq("signature = Ed25519-Sign(seed, signing_bytes)", t.signature, ex["signature"])
    c.check("signature verifies", verify_signature(sender, t.signature, sb))
    c.check("signature S < L (canonical)", int.from_bytes(t.signature[32:], "little") < ED25519_L)
    c.eq("transfer_id = SHA-256(signing_bytes)", t.id(), ex["transfer_id"])
    rec = t.record()
    c.eq("record_bytes", rec, ex["record_bytes"])
    c.eq("record decodes back to the same transfer",
         Transfer.from_record(unhex(ex["record_bytes"])).to_json(), t.to_json())
    try:
        Transfer.from_record(unhex(ex["record_bytes"]) + b"\x00")
        c.check("record decoder rejects trailing bytes", False)
    except ProtocolError:
        c.check("record decoder rejects trailing bytes", True)
    lh = t.leaf_hash()
    c.eq("leaf_hash = SHA-256(0x00 || record)", lh, ex["leaf_hash"])
    c.eq("transfer JSON round-trips", Transfer.from_json(json.loads(json.dumps(t.to_json()))).record(), rec)

    g_ts = int(ex["genesis_timestamp_ms"])
    g_alloc = int(ex["genesis_allocation"])
    c.eq("genesis prose: timestamp 1700000000000, allocation 1000", (g_ts, g_alloc), (1700000000000, 1000))
    gb = genesis_bytes(chain_id, AUTH_ED25519, g_ts, [(sender, g_alloc)])
    c.eq("genesis_bytes (auth = ed25519)", gb, ex["genesis_bytes"])
    gb_json = genesis_from_json({"chain_id": chain_id, "auth": "ed25519", "timestamp_ms": g_ts,
                                 "allocations": [{"account": sender.hex(), "amount": g_alloc}]})
    c.eq("genesis bytes from genesis.json form", gb_json, gb)
    gh = sha256(gb)
    c.eq("genesis_hash", gh, ex["genesis_hash"])

    c.eq("SHA-256(\"\") constant in 4.1", EMPTY_ROOT, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    c.eq("MTH({}) = SHA-256(\"\")", mth([]), EMPTY_ROOT)
    b0 = block0_header(chain_id, gh, g_ts)
    c.eq("block0 header length", len(b0.to_bytes()), HEADER_LEN)
    b0h = b0.hash()
    c.eq("block0_hash", b0h, ex["block0_hash"])

    b1_ts = int(ex["block1_timestamp_ms"])
    c.eq("block 1 prose: timestamp 1700000001000", b1_ts, 1700000001000)
    tx_root = mth([rec])
    c.eq("one-record tree root = leaf_hash", tx_root, lh)
    b1 = Header(chain_id, 1, b0h, b1_ts, 1, tx_root, 1, mth([rec]))
    b1b = b1.to_bytes()
    c.eq("block1_header_bytes", b1b, ex["block1_header_bytes"])
    c.eq("block1_hash", b1.hash(), ex["block1_hash"])
    c.eq("block1 header decodes back", Header.from_bytes(unhex(ex["block1_header_bytes"])).to_bytes(), b1b)
    c.check("block 1 timestamp >= block 0 timestamp", b1_ts >= g_ts)
    c.check("inclusion of the example transfer in ledger of size 1",
            verify_inclusion(0, 1, lh, [], b1.ledger_root))
    c.check("an empty-ledger consistency from 0 is rejected (m = 0)",
            not verify_consistency(0, 1, EMPTY_ROOT, b1.ledger_root, []))


def selftest_multisig_example(c: Checks) -> None:
    print("multi-signature worked example (PROTOCOL.md section 9.1):")
    text = protocol_md_path().read_text(encoding="utf-8")
    m = re.search(r"^```multisig-example[ \t]*\n(.*?)^```", text, re.S | re.M)
    if not m:
        c.check("PROTOCOL.md has a ```multisig-example block", False)
        return
    ex = dict((k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in m.group(1).splitlines() if line.strip()))
    w = parse_worked_example(text)
    seeds = [unhex(ex[n], 32, n) for n in ("seed_a", "seed_b", "seed_c")]
    c.eq("seeds are 11, 12, 13 x 32 (prose)", seeds, [bytes([b]) * 32 for b in (0x11, 0x12, 0x13)])
    by_key = {account_from_seed(sd): sd for sd in seeds}
    keys = sorted(by_key)
    c.eq("keys sorted ascending", [k.hex() for k in keys], [ex[f"key_{i}"] for i in range(3)])
    policy: Policy = (int(ex["threshold"]), keys)
    c.check("policy well-formed (1 <= M <= N <= 16, sorted)", policy_well_formed(policy))
    c.eq("policy_bytes = M || N || keys", policy_bytes(policy), ex["policy_bytes"])
    pid = policy_id(policy)
    c.eq("policy_id = SHA-256(domain || policy_bytes)", pid, ex["policy_id"])
    sender_seed = unhex(w["sender_seed"], 32, "sender_seed")
    fund = Transfer(1, account_from_seed(sender_seed), pid, 500, 0, 0, b"", to_policy=policy).sign_with(sender_seed)
    c.eq("funding signing bytes", fund.signing_bytes(), ex["funding_signing_bytes"])
    c.eq("funding record (0x03 || policy, then 0x01 || signature)", fund.record(), ex["funding_record_bytes"])
    c.eq("funding leaf hash", fund.leaf_hash(), ex["funding_leaf_hash"])
    receiver = unhex(ex["spend_receiver"], 32, "spend_receiver")
    c.eq("spend receiver = section 9 receiver", receiver.hex(), w["receiver_account"])
    spend = Transfer(1, pid, receiver, int(ex["spend_amount"]), 0, int(ex["spend_nonce"]), unhex(ex["spend_memo"]))
    sb = spend.signing_bytes()
    c.eq("spend signing bytes (2.1 with from = policy id)", sb, ex["spend_signing_bytes"])
    c.eq("spend transfer id", spend.id(), ex["spend_transfer_id"])
    signers = [int(i) for i in ex["spend_signers"].split(",")]
    sigs = [(i, sign(by_key[keys[i]], sb)) for i in signers]
    for i, sig in sigs:
        c.eq(f"signature of signer {i}", sig, ex[f"spend_signature_{i}"])
    spend.multisig = (policy, sigs)
    c.check("spend passes the rules of 2.6", spend.verify_multisig())
    rec = spend.record()
    c.eq("spend record (0x02 || policy || k || (signer || signature)*)", rec, ex["spend_record_bytes"])
    c.eq("spend leaf hash", spend.leaf_hash(), ex["spend_leaf_hash"])
    back = Transfer.from_record(rec)
    c.eq("spend record decodes back", back.record(), rec)
    c.eq("spend JSON round-trips", Transfer.from_json(json.loads(json.dumps(spend.to_json()))).record(), rec)
    too_few = Transfer(1, pid, receiver, 100, 0, 0, b"ms", multisig=(policy, sigs[:1]))
    c.check("one signature of a 2-of-3 fails the rules", not too_few.verify_multisig())
    swapped = Transfer(1, pid, receiver, 100, 0, 0, b"ms", multisig=(policy, sigs[::-1]))
    c.check("signers out of order fail the rules", not swapped.verify_multisig())


def flip(h: bytes, i: int = 0) -> bytes:
    b = bytearray(h)
    b[i % len(b)] ^= 0x01
    return bytes(b)

# Published RFC 6962/9162 test vectors (the certificate-transparency reference
# data set of 8 leaves), anchoring our MTH/PATH/PROOF to an outside source.
RFC6962_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
                  bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
_H96 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
_H5F = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
_H6B = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
_HBC = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
_HCA = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
_HD3 = RFC6962_ROOTS[3]
_H0E = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
RFC6962_INCLUSION = [(0, 8, [_H96, _H5F, _H6B]), (5, 8, [_HBC, _HCA, _HD3])]
RFC6962_CONSISTENCY = [(1, 8, [_H96, _H5F, _H6B]), (6, 8, [_H0E, _HCA, _HD3]), (2, 5, [_H5F, _HBC])]


def selftest_rfc_vectors(c: Checks) -> None:
    print("RFC 6962/9162 reference vectors (8 leaves):")
    L = RFC6962_LEAVES
    c.eq("MTH for sizes 1..8", [mth(L[:n]).hex() for n in range(1, 9)], RFC6962_ROOTS)
    for m, n, want in RFC6962_INCLUSION:
        c.eq(f"PATH({m}, D[{n}])", [h.hex() for h in path(m, L[:n])], want)
        c.check(f"PATH({m}, D[{n}]) verifies", verify_inclusion(m, n, leaf_hash(L[m]), [unhex(h) for h in want],
                                                             unhex(RFC6962_ROOTS[n - 1])))
    for m, n, want in RFC6962_CONSISTENCY:
        c.eq(f"PROOF({m}, D[{n}])", [h.hex() for h in proof(m, L[:n])], want)
        c.check(f"PROOF({m}, D[{n}]) verifies", verify_consistency(m, n, unhex(RFC6962_ROOTS[m - 1]),
                                                                   unhex(RFC6962_ROOTS[n - 1]), [unhex(h) for h in want]))


def selftest_merkle(c: Checks, max_size: int = 64) -> None:
    print(f"RFC 9162 Merkle trees, sizes 1..{max_size} (summarised):")
    leaves = [b"leaf-%d" % i + bytes([i % 256]) * (i % 7) for i in range(max_size)]
    roots = {n: mth(leaves[:n]) for n in range(0, max_size + 1)}
    start_pass, start_fail = c.passed, c.failed
    q = True  # quiet: only failures are printed

    for n in range(1, max_size + 1):
        D = leaves[:n]
        root = roots[n]
        c.eq(f"MTH recursive == iterative n={n}", mth_from_leaf_hashes([leaf_hash(x) for x in D]), root, q)
        for m in range(n):
            lh = leaf_hash(D[m])
            p = path(m, D)
            tag = f"inclusion m={m} n={n}"
            c.eq(f"{tag}: implied length", len(p), inclusion_proof_len(m, n), q)
            c.check(f"{tag}: verifies", verify_inclusion(m, n, lh, p, root), quiet=q)
            for i in range(len(p)):
                bad = list(p)
                bad[i] = flip(bad[i], i * 7 + m)
                c.check(f"{tag}: flipped byte in element {i} rejected", not verify_inclusion(m, n, lh, bad, root), quiet=q)
            for i in range(len(p)):
                c.check(f"{tag}: dropped element {i} rejected",
                        not verify_inclusion(m, n, lh, p[:i] + p[i + 1:], root), quiet=q)
            c.check(f"{tag}: extra element appended rejected",
                    not verify_inclusion(m, n, lh, p + [root], root), quiet=q)
            c.check(f"{tag}: extra element prepended rejected",
                    not verify_inclusion(m, n, lh, [lh] + p, root), quiet=q)
            c.check(f"{tag}: flipped leaf hash rejected", not verify_inclusion(m, n, flip(lh), p, root), quiet=q)
            c.check(f"{tag}: flipped root rejected", not verify_inclusion(m, n, lh, p, flip(root)), quiet=q)
            for m2 in (m - 1, m + 1, m ^ 1, n, n + 1, -1):
                if m2 != m:
                    c.check(f"{tag}: wrong index {m2} rejected", not verify_inclusion(m2, n, lh, p, root), quiet=q)
            for n2 in (n - 1, n + 1, 2 * n, 0):
                # Size and root taken together from one (trusted) source, as section 5 requires.
                r2 = roots.get(n2, sha256(b"no such tree"))
                c.check(f"{tag}: wrong size {n2} (with that size's root) rejected",
                        not verify_inclusion(m, n2, lh, p, r2), quiet=q)
            c.check(f"{tag}: index as bool/float rejected", not verify_inclusion(float(m), n, lh, p, root), quiet=q)  # type: ignore[arg-type]

    # Section 5's caveat, demonstrated: the same path verifies for two sizes of the
    # same shape when the root is NOT taken from the same source as the size.
    p03 = path(0, leaves[:3])
    c.check("caveat (5): PATH(0, D[3]) also verifies as size 4 against the size-3 root",
            verify_inclusion(0, 4, leaf_hash(leaves[0]), p03, roots[3]), quiet=q)

    for n in range(1, max_size + 1):
        D = leaves[:n]
        for m in range(1, n + 1):
            p = proof(m, D)
            r1, r2 = roots[m], roots[n]
            tag = f"consistency m={m} n={n}"
            c.eq(f"{tag}: implied length", len(p), consistency_proof_len(m, n), q)
            c.check(f"{tag}: verifies", verify_consistency(m, n, r1, r2, p), quiet=q)
            if m == n:
                c.eq(f"{tag}: proof is empty", len(p), 0, q)
                c.check(f"{tag}: non-empty proof rejected", not verify_consistency(m, n, r1, r2, [r1]), quiet=q)
                c.check(f"{tag}: different roots rejected", not verify_consistency(m, n, r1, flip(r2), []), quiet=q)
                continue
            for i in range(len(p)):
                bad = list(p)
                bad[i] = flip(bad[i], i * 5 + n)
                c.check(f"{tag}: flipped byte in element {i} rejected",
                        not verify_consistency(m, n, r1, r2, bad), quiet=q)
            for i in range(len(p)):
                c.check(f"{tag}: dropped element {i} rejected",
                        not verify_consistency(m, n, r1, r2, p[:i] + p[i + 1:]), quiet=q)
            c.check(f"{tag}: extra element appended rejected",
                    not verify_consistency(m, n, r1, r2, p + [r2]), quiet=q)
            c.check(f"{tag}: extra element prepended rejected",
                    not verify_consistency(m, n, r1, r2, [r1] + p), quiet=q)
            c.check(f"{tag}: empty proof rejected", not verify_consistency(m, n, r1, r2, []), quiet=q)
            c.check(f"{tag}: flipped first root rejected", not verify_consistency(m, n, flip(r1), r2, p), quiet=q)
            c.check(f"{tag}: flipped second root rejected", not verify_consistency(m, n, r1, flip(r2), p), quiet=q)
            c.check(f"{tag}: swapped roots rejected", not verify_consistency(m, n, r2, r1, p), quiet=q)
            for m2 in (m - 1, m + 1, 0, n + 1):
                if m2 != m:
                    rr = roots.get(m2, sha256(b"no such tree"))
                    c.check(f"{tag}: wrong first size {m2} (with its root) rejected",
                            not verify_consistency(m2, n, rr, r2, p), quiet=q)
            for n2 in (n - 1, n + 1, 2 * n):
                if n2 != n:
                    rr = roots.get(n2, sha256(b"no such tree"))
                    c.check(f"{tag}: wrong second size {n2} (with its root) rejected",
                            not verify_consistency(m, n2, r1, rr, p), quiet=q)
            c.check(f"{tag}: reversed sizes rejected", not verify_consistency(n, m, r2, r1, p), quiet=q)

    c.check("consistency m=0 rejected", not verify_consistency(0, 5, EMPTY_ROOT, roots[5], proof(1, leaves[:5])), quiet=q)
    c.check("inclusion in empty tree rejected", not verify_inclusion(0, 0, leaf_hash(b""), [], EMPTY_ROOT), quiet=q)
    c.check("proof longer than 64 hashes rejected",
            not verify_inclusion(0, 2**64, leaf_hash(b"x"), [EMPTY_ROOT] * 65, EMPTY_ROOT), quiet=q)
    c.eq("inclusion length for leaf 0 of 2^64 leaves is 64", inclusion_proof_len(0, 2**64), 64, q)
    print(f"  ok    {c.passed - start_pass} Merkle checks passed, {c.failed - start_fail} failed")


def selftest_codecs(c: Checks) -> None:
    print("encodings and local rules:")
    a, b = account_from_seed(b"\x03" * 32), account_from_seed(b"\x04" * 32)
    t = Transfer(7, a, b, 5, 0, 9, b"\xff" * 64).sign_with(b"\x03" * 32)
    c.eq("64-byte memo record length", len(t.record()), 115 + 64 + 1 + 64)
    c.eq("64-byte memo round-trip", Transfer.from_record(t.record()).record(), t.record())
    unsigned = Transfer(7, a, b, 5)
    c.eq("unsigned record ends with auth_tag 0x00", unsigned.record()[-1], 0)
    c.eq("unsigned record round-trip", Transfer.from_record(unsigned.record()).signature, None)
    try:
        Transfer(7, a, b, 5, memo=b"x" * 65)
        c.check("65-byte memo refused", False)
    except ProtocolError:
        c.check("65-byte memo refused", True)
    try:
        Transfer.from_json({**unsigned.to_json(), "extra": 1})
        c.check("unknown transfer JSON field refused", False)
    except ProtocolError:
        c.check("unknown transfer JSON field refused", True)
    minimal = {k: v for k, v in unsigned.to_json().items() if k not in ("fee", "memo", "signature")}
    c.eq("fee/memo/signature may be omitted", Transfer.from_json(minimal).record(), unsigned.record())
    upper = {**t.to_json(), "from": t.sender.hex().upper()}
    c.eq("hex input accepts upper case", Transfer.from_json(upper).id(), t.id())
    c.check("tampered message fails signature", not verify_signature(a, t.signature or b"", flip(t.signing_bytes(), 100)))
    s = t.signature or b""
    non_canonical = s[:32] + (int.from_bytes(s[32:], "little") + ED25519_L).to_bytes(32, "little")
    c.check("non-canonical S (S + L) refused", not verify_signature(a, non_canonical, t.signing_bytes()))
    try:
        genesis_bytes(1, AUTH_ED25519, 0, [(b, 1), (a, 1)] if a < b else [(a, 1), (b, 1)])
        c.check("unsorted genesis allocations refused", False)
    except ProtocolError:
        c.check("unsorted genesis allocations refused", True)


def run_selftest() -> int:
    c = Checks()
    try:
        selftest_worked_example(c)
        selftest_multisig_example(c)
        selftest_codecs(c)
        selftest_rfc_vectors(c)
        selftest_merkle(c)
    except Exception as e:  # an exception is a failure, never a crash without a summary
        c.check(f"selftest raised {type(e).__name__}", False, str(e))
    print(f"selftest: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


# ---------------------------------------------------------------------------
# live
# ---------------------------------------------------------------------------


class HttpError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Node:
    def __init__(self, base: str, timeout: float = 30.0) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as e:
            raw = e.read()
            status = e.code
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, parsed

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status != 200:
            raise HttpError(status, body)
        return body


def first_key(obj: Dict[str, Any], *names: str) -> Any:
    for n in names:
        if n in obj:
            return obj[n]
    raise ProtocolError(f"none of {names} in {sorted(obj)}")


def is_error_doc(body: Any, code: str) -> bool:
    return isinstance(body, dict) and body.get("code") == code and isinstance(body.get("message"), str)


def run_live(args: argparse.Namespace) -> int:
    c = Checks()
    node = Node(args.node)
    try:
        live_checks(c, node, args)
    except HttpError as e:
        c.check("HTTP request", False, str(e))
    except Exception as e:
        c.check(f"live run raised {type(e).__name__}", False, str(e))
    if c.notes:
        print(f"{len(c.notes)} note(s) on deviations from PROTOCOL.md that do not affect verification:")
        for n in c.notes:
            print(f"  - {n}")
    print(f"live: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


def live_checks(c: Checks, node: Node, args: argparse.Namespace) -> None:
    key = json.loads(Path(args.key).read_text())
    seed = unhex(key["secret_seed"], 32, "secret_seed")
    sender = unhex(key["account"], 32, "account")
    receiver = unhex(args.to, 32, "to")
    memo = unhex(args.memo, what="memo")

    print(f"node {node.base}")
    print("key file:")
    c.eq("key file account = Ed25519 public key of secret_seed", account_from_seed(seed), sender)

    print("GET /v1/status:")
    status = node.get("/v1/status")
    print(f"  status fields: {sorted(status)}")
    chain_id = first_key(status, "chain_id")
    c.check("status.chain_id is a u64", isinstance(chain_id, int) and 0 <= chain_id <= U64_MAX, repr(chain_id))
    if "halted" in status:
        c.check("status.halted is false", status["halted"] is False, repr(status["halted"]))
    auth = status.get("auth")
    print(f"  chain_id={chain_id} auth={auth!r} consensus={status.get('consensus')!r}")

    print(f"GET /v1/accounts/{sender.hex()}:")
    acct = node.get(f"/v1/accounts/{sender.hex()}")
    c.eq("account.id echoes the sender", acct.get("id"), sender.hex())
    nonce, balance_before = acct["nonce"], acct["balance"]
    print(f"  balance={balance_before} nonce={nonce}")
    to_before = node.get(f"/v1/accounts/{receiver.hex()}")["balance"]

    if args.batch < 1 or args.batch > 8192:
        raise ProtocolError("--batch must be 1..8192")
    # With --batch K, K-1 filler transfers (amount 1, nonces nonce..nonce+K-2) go in
    # one JSON array ahead of ours, so that the block holds several records.
    fillers = [Transfer(chain_id, sender, receiver, 1, args.fee, nonce + i, b"").sign_with(seed)
               for i in range(args.batch - 1)]
    nonce_ours = nonce + len(fillers)
    t = Transfer(chain_id, sender, receiver, args.amount, args.fee, nonce_ours, memo)
    t.sign_with(seed)  # always signed: verified strictly even in trusted mode (2.5)
    local_id = t.id()
    print(f"built transfer: id={local_id.hex()}")
    c.check("local signature verifies", verify_signature(sender, t.signature or b"", t.signing_bytes()))

    if args.probe_errors:
        probe_errors(c, node, t, seed, nonce)

    if fillers:
        print(f"POST /v1/transfers with a JSON array of {len(fillers) + 1} transfers (ours last):")
        st, batch = node.request("POST", "/v1/transfers", [f.to_json() for f in fillers] + [t.to_json()])
        c.eq("POST status 200", st, 200)
        if st != 200 or not isinstance(batch, dict):
            print(f"  HTTP {st} {json.dumps(batch)}")
            return
        results = batch.get("results")
        c.check("batch answer is {\"results\": [...]} with one receipt per transfer, in order",
                isinstance(results, list) and len(results) == len(fillers) + 1
                and [r.get("id") for r in results] == [x.id().hex() for x in fillers + [t]], json.dumps(batch)[:300])
        c.check("every batch receipt committed", all(r.get("status") == "committed" for r in results or []))
        receipt = (results or [{}])[-1]
        print(f"  our receipt: {json.dumps(receipt)}")
    else:
        print("POST /v1/transfers:")
        st, receipt = node.request("POST", "/v1/transfers", t.to_json())
        print(f"  HTTP {st} {json.dumps(receipt)}")
        c.eq("POST status 200", st, 200)
        if st != 200:
            return
    c.eq("receipt.id equals the locally computed SHA-256(signing_bytes)", receipt.get("id"), local_id.hex())
    c.eq("receipt.status committed", receipt.get("status"), "committed")
    c.eq("receipt.duplicate false", receipt.get("duplicate"), False)
    for k in ("height", "index_in_block", "ledger_index"):
        c.check(f"receipt.{k} present", isinstance(receipt.get(k), int), repr(receipt.get(k)))

    print("POST the same transfer again (2.5: idempotent):")
    st2, dup = node.request("POST", "/v1/transfers", t.to_json())
    print(f"  HTTP {st2} {json.dumps(dup)}")
    c.eq("duplicate POST status 200", st2, 200)
    if isinstance(dup, dict):
        c.eq("duplicate receipt.duplicate true", dup.get("duplicate"), True)
        c.eq("duplicate receipt same id/height/ledger_index",
             [dup.get(k) for k in ("id", "status", "height", "index_in_block", "ledger_index")],
             [receipt.get(k) for k in ("id", "status", "height", "index_in_block", "ledger_index")])

    print("balances after commit (2.5 effect):")
    acct2 = node.get(f"/v1/accounts/{sender.hex()}")
    k = len(fillers) + 1
    sent = args.amount + len(fillers)
    c.eq(f"sender nonce += {k}", acct2["nonce"], nonce + k)
    if sender != receiver:
        c.eq("sender balance -= amount + fee", acct2["balance"], balance_before - sent - k * args.fee)
        c.eq("receiver balance += amount", node.get(f"/v1/accounts/{receiver.hex()}")["balance"], to_before + sent)

    print(f"GET /v1/transfers/{local_id.hex()}?proof=true:")
    tr = node.get(f"/v1/transfers/{local_id.hex()}?proof=true")
    print(f"  fields: {sorted(tr)}; proof fields: {sorted(tr.get('proof') or {})}")
    c.eq("transfer.id", tr.get("id"), local_id.hex())
    c.eq("transfer.status committed", tr.get("status"), "committed")
    for k in ("height", "index_in_block", "ledger_index"):
        c.eq(f"transfer.{k} equals receipt", tr.get(k), receipt.get(k))
    returned = Transfer.from_json(tr["transfer"])
    c.eq("returned transfer JSON encodes to our record", returned.record(), t.record())
    c.eq("id recomputed from returned transfer JSON", returned.id(), local_id)
    pr = tr.get("proof")
    c.check("proof present", isinstance(pr, dict))
    if not isinstance(pr, dict):
        return
    if "type" in pr:
        c.eq("proof.type", pr.get("type"), "inclusion")
    else:
        c.note("the API's `proof` object has no \"type\": \"inclusion\" field, unlike the proof "
               "document of PROTOCOL.md section 6 (which says the API returns that document)")
    leaf_index, tree_size = pr["leaf_index"], pr["tree_size"]
    root = unhex(pr["root"], 32, "root")
    ipath = [unhex(h, 32, "path element") for h in pr["path"]]
    lh = returned.leaf_hash()
    c.eq("proof.leaf_index = ledger_index", leaf_index, tr["ledger_index"])
    c.eq("proof.leaf_hash = leaf_hash(record(transfer))", pr.get("leaf_hash"), lh.hex())
    if "transfer" in pr:
        c.eq("proof.transfer encodes to the same record", Transfer.from_json(pr["transfer"]).record(), t.record())
    c.eq("inclusion path length implied by sizes", len(ipath), inclusion_proof_len(leaf_index, tree_size))
    c.check(f"inclusion proof verifies (leaf {leaf_index}, size {tree_size}, {len(ipath)} hashes)",
            verify_inclusion(leaf_index, tree_size, lh, ipath, root))
    c.check("inclusion proof with a flipped path/leaf is rejected locally",
            not verify_inclusion(leaf_index, tree_size, flip(lh), ipath, root)
            and (not ipath or not verify_inclusion(leaf_index, tree_size, lh, [flip(ipath[0])] + ipath[1:], root)))

    proof_header: Optional[Header] = None
    if "header" in pr:
        proof_header = Header.from_json(pr["header"])
        hh = proof_header.hash()
        print(f"  proof header: height {proof_header.height}, hash {hh.hex()}")
        blk = node.get(f"/v1/blocks/{proof_header.height}")
        c.eq(f"SHA-256(header bytes) = GET /v1/blocks/{proof_header.height} hash", hh.hex(), blk.get("hash"))
        c.eq("block JSON header encodes to the same bytes", Header.from_json(blk["header"]).to_bytes(),
             proof_header.to_bytes())
        c.eq("header.ledger_size = proof.tree_size", proof_header.ledger_size, tree_size)
        c.eq("header.ledger_root = proof.root", proof_header.ledger_root, root)
        c.eq("header.chain_id = status chain_id", proof_header.chain_id, chain_id)
        c.check("header height >= commit height", proof_header.height >= tr["height"])
    else:
        c.check("proof carries a header (optional per section 6)", False, "no header in proof")

    # The block that holds the transfer.
    print(f"GET /v1/blocks/{tr['height']} (the block holding the transfer):")
    blk = node.get(f"/v1/blocks/{tr['height']}")
    bh = Header.from_json(blk["header"])
    c.eq("block hash recomputed from header JSON", bh.hash().hex(), blk.get("hash"))
    c.eq("transfer.block_hash = block hash", tr.get("block_hash"), blk.get("hash"))
    records = audit_block_transfers(c, blk, bh, chain_id, quiet=False)
    if records is not None and tr["index_in_block"] < len(records):
        c.eq("block's transfer at index_in_block is ours", records[tr["index_in_block"]], t.record())
        c.eq("ledger_index = prev ledger_size + index_in_block",
             tr["ledger_index"], bh.ledger_size - bh.tx_count + tr["index_in_block"])

    # Head and consistency proofs.
    print("GET /v1/head:")
    head = node.get("/v1/head")
    hh = Header.from_json(head["header"])
    c.eq("head hash recomputed from header JSON", hh.hash().hex(), head.get("hash"))
    n = hh.ledger_size
    print(f"  head height {hh.height}, ledger_size {n}")

    print(f"GET /v1/proofs/consistency?from=1&to={n}:")
    cp = node.get(f"/v1/proofs/consistency?from=1&to={n}")
    check_consistency_doc(c, cp, 1, n, None, hh.ledger_root)
    # MTH of a one-leaf tree is that leaf's hash: the first record of the ledger.
    first_blk = node.get("/v1/blocks/1")
    fh = Header.from_json(first_blk["header"])
    first_records = audit_block_transfers(c, first_blk, fh, chain_id, quiet=True)
    if first_records:
        c.eq("from_root (size 1) = leaf_hash of ledger index 0 (block 1, first transfer)",
             cp.get("from_root"), leaf_hash(first_records[0]).hex())
    if fh.ledger_size == 1:
        c.eq("from_root = block 1 header ledger_root", cp.get("from_root"), fh.ledger_root.hex())
    else:
        print(f"  (block 1 has ledger_size {fh.ledger_size}; no header holds the size-1 root)")

    # Link the block that committed our transfer (and the proof's header) to the head.
    links = [(bh.ledger_size, bh.ledger_root, f"block {bh.height}, which holds the transfer")]
    if proof_header is not None and proof_header.ledger_size not in (bh.ledger_size,):
        links.append((proof_header.ledger_size, proof_header.ledger_root, f"proof header, block {proof_header.height}"))
    for m, mroot, what in links:
        if 1 <= m <= n:
            print(f"GET /v1/proofs/consistency?from={m}&to={n} ({what} -> head):")
            cp2 = node.get(f"/v1/proofs/consistency?from={m}&to={n}")
            check_consistency_doc(c, cp2, m, n, mroot, hh.ledger_root)

    print("out-of-range consistency request:")
    st, body = node.request("GET", f"/v1/proofs/consistency?from=0&to={n}")
    c.check("from=0 answers 400 out_of_range or invalid_field",
            st == 400 and isinstance(body, dict) and body.get("code") in ("out_of_range", "invalid_field"),
            f"HTTP {st} {body}")
    st, body = node.request("GET", f"/v1/proofs/consistency?from=1&to={n + 1000000}")
    c.check("to > ledger size answers 400 out_of_range", st == 400 and is_error_doc(body, "out_of_range"),
            f"HTTP {st} {body}")
    st, body = node.request("GET", f"/v1/blocks/{hh.height + 1000000}")
    c.check("block beyond the head answers 404 not_found", st == 404 and is_error_doc(body, "not_found"),
            f"HTTP {st} {body}")

    if not args.no_multisig:
        live_multisig(c, node, chain_id, sender, seed, args.fee)

    if args.audit_blocks > 0:
        audit = audit_chain(c, node, chain_id, min(hh.height, args.audit_blocks), args.genesis, hh)
        if audit is not None and len(audit) >= tree_size:
            print("server proofs compared with PATH/PROOF computed locally from the audited records:")
            c.eq(f"server inclusion path = PATH({leaf_index}, D[{tree_size}])",
                 [x.hex() for x in ipath], [x.hex() for x in path(leaf_index, audit[:tree_size])])
            c.eq(f"server consistency path = PROOF(1, D[{n}])", cp["path"], [x.hex() for x in proof(1, audit[:n])])


def live_multisig(c: Checks, node: Node, chain_id: int, sender: bytes, seed: bytes, fee: int) -> None:
    """1.1 / 2.6 against the node: fund a fresh 2-of-3 policy id from the key
    file's account (revealing the policy), then spend from it with two
    signatures, after probing the documented rejections."""
    import os
    print("multi-signature account (1.1, 2.6):")
    seeds = [os.urandom(32) for _ in range(3)]
    by_key = {account_from_seed(sd): sd for sd in seeds}
    keys = sorted(by_key)
    policy: Policy = (2, keys)
    pid = policy_id(policy)
    print(f"  2-of-3 policy id {pid.hex()}")
    nonce = node.get(f"/v1/accounts/{sender.hex()}")["nonce"]

    def post(t: Transfer) -> Tuple[int, Any]:
        return node.request("POST", "/v1/transfers", t.to_json())

    def wait_balance(account: bytes, want: int) -> int:
        import time
        got = -1
        for _ in range(600):  # proof-of-work nodes answer "pending": poll until mined
            got = node.get(f"/v1/accounts/{account.hex()}")["balance"]
            if got == want:
                break
            time.sleep(0.2)
        return got

    fund = Transfer(chain_id, sender, pid, 50, fee, nonce, b"", to_policy=policy).sign_with(seed)
    st, receipt = post(fund)
    c.check("funding a policy id with its to_policy is accepted", st in (200, 202) and isinstance(receipt, dict)
            and receipt.get("status") in ("committed", "pending"), f"HTTP {st} {receipt}")
    c.eq("policy account balance after funding", wait_balance(pid, 50), 50)

    spend = Transfer(chain_id, pid, sender, 20, fee, 0, b"ms")
    sb = spend.signing_bytes()
    sig = {i: sign(by_key[keys[i]], sb) for i in range(3)}

    def expect(name: str, sigs: List[Tuple[int, bytes]], status: int, code: str) -> None:
        t = Transfer(chain_id, pid, sender, 20, fee, 0, b"ms", multisig=(policy, sigs))
        st, body = post(t)
        c.check(f"{name} -> {status} {code}", st == status and is_error_doc(body, code), f"HTTP {st} {body}")

    expect("one signature of a 2-of-3", [(0, sig[0])], 403, "too_few_signatures")
    expect("a bad signature among two", [(0, sig[0]), (2, flip(sig[2], 3))], 403, "bad_multisig_signature")
    expect("signers out of order", [(2, sig[2]), (0, sig[0])], 403, "signers_out_of_order")
    expect("the same signer twice", [(1, sig[1]), (1, sig[1])], 403, "duplicate_signer")
    expect("a signer index outside the policy", [(0, sig[0]), (3, sig[1])], 403, "unknown_signer")
    wrong_policy = Transfer(chain_id, pid, sender, 20, fee, 0, b"ms", multisig=((1, keys), [(0, sig[0])]))
    st, body = post(wrong_policy)
    c.check("a policy that does not hash to from -> 403 policy_mismatch",
            st == 403 and is_error_doc(body, "policy_mismatch"), f"HTTP {st} {body}")

    spend.multisig = (policy, [(0, sig[0]), (2, sig[2])])
    c.check("local 2.6 check of the spend", spend.verify_multisig())
    st, receipt = post(spend)
    c.check("a spend with signers 0 and 2 is accepted", st in (200, 202) and isinstance(receipt, dict)
            and receipt.get("id") == spend.id().hex(), f"HTTP {st} {receipt}")
    c.eq("policy account balance after the spend", wait_balance(pid, 30 - fee), 30 - fee)
    c.eq("policy account nonce after the spend", node.get(f"/v1/accounts/{pid.hex()}")["nonce"], 1)


def check_consistency_doc(c: Checks, cp: Dict[str, Any], m: int, n: int,
                          want_from: Optional[bytes], want_to: bytes) -> None:
    c.eq("consistency from_size/to_size", (cp.get("from_size"), cp.get("to_size")), (m, n))
    fr = unhex(cp["from_root"], 32, "from_root")
    tr = unhex(cp["to_root"], 32, "to_root")
    cpath = [unhex(h, 32, "path element") for h in cp["path"]]
    c.check(f"consistency proof {m} -> {n} verifies against the returned roots ({len(cpath)} hashes)",
            verify_consistency(m, n, fr, tr, cpath))
    c.eq(f"to_root = head header ledger_root (size {n})", tr, want_to)
    if want_from is not None:
        c.eq(f"from_root = header ledger_root at size {m}", fr, want_from)
        c.check(f"consistency proof {m} -> {n} verifies against header roots",
                verify_consistency(m, n, want_from, want_to, cpath))
    if m < n:
        c.check("consistency proof with a flipped element is rejected locally",
                not cpath or not verify_consistency(m, n, fr, tr, [flip(cpath[0])] + cpath[1:]))


def audit_block_transfers(c: Checks, blk: Dict[str, Any], header: Header, chain_id: int,
                          quiet: bool) -> Optional[List[bytes]]:
    """Check a block's transfer list against its header: ids, signatures, tx_count, tx_root."""
    txs = blk.get("transfers")
    if not isinstance(txs, list):
        c.check(f"block {header.height} has a transfers list", False)
        return None
    records = []
    ok_ids = ok_sigs = True
    for obj in txs:
        tt = Transfer.from_json(obj, extra_allowed=("id",))
        if obj.get("id") != tt.id().hex():
            ok_ids = False
        if tt.chain_id != chain_id or tt.signature is not None and not verify_signature(tt.sender, tt.signature, tt.signing_bytes()):
            ok_sigs = False
        if tt.multisig is not None and not tt.verify_multisig():
            ok_sigs = False
        if tt.to_policy is not None and not (policy_well_formed(tt.to_policy) and policy_id(tt.to_policy) == tt.receiver):
            ok_sigs = False
        records.append(tt.record())
    h = header.height
    c.check(f"block {h}: every transfer id = SHA-256(signing bytes)", ok_ids, quiet=quiet)
    c.check(f"block {h}: every signature verifies, chain_id matches", ok_sigs, quiet=quiet)
    c.eq(f"block {h}: tx_count = number of transfers", header.tx_count, len(records), quiet)
    c.eq(f"block {h}: tx_root = RFC 9162 root of its records", mth(records), header.tx_root, quiet)
    c.check(f"block {h}: 1..16384 transfers (0 for block 0)",
            (h == 0 and not records) or (h > 0 and 1 <= len(records) <= 16384), quiet=quiet)
    return records


def audit_chain(c: Checks, node: Node, chain_id: int, last: int, genesis_file: Optional[str],
                head: Header) -> Optional[List[bytes]]:
    """Re-verify blocks 0..last end to end. When `last` is the head, also fetch a
    consistency proof from every block's ledger size to the head's and verify it
    against the two headers' roots. Returns the ledger's records when complete."""
    complete = last == head.height
    print(f"audit of blocks 0..{last} (hash chain, tx_root, ledger_root, ledger_size"
          + (", consistency of every block with the head" if complete else "") + "):")
    start_pass, start_fail = c.passed, c.failed
    leaves: List[bytes] = []
    all_records: List[bytes] = []
    headers: List[Header] = []
    prev: Optional[Header] = None
    prev_hash: Optional[bytes] = None
    for h in range(0, last + 1):
        blk = node.get(f"/v1/blocks/{h}")
        hd = Header.from_json(blk["header"])
        c.eq(f"block {h}: hash", hd.hash().hex(), blk.get("hash"), True)
        c.eq(f"block {h}: height", hd.height, h, True)
        c.eq(f"block {h}: chain_id", hd.chain_id, chain_id, True)
        records = audit_block_transfers(c, blk, hd, chain_id, quiet=True) or []
        leaves.extend(leaf_hash(r) for r in records)
        all_records.extend(records)
        headers.append(hd)
        c.eq(f"block {h}: ledger_size", hd.ledger_size, len(leaves), True)
        c.eq(f"block {h}: ledger_root", hd.ledger_root, mth_from_leaf_hashes(leaves), True)
        if prev is not None and prev_hash is not None:
            c.eq(f"block {h}: prev_hash = hash of block {h - 1}", hd.prev_hash, prev_hash, True)
            c.check(f"block {h}: timestamp not less than previous", hd.timestamp_ms >= prev.timestamp_ms, quiet=True)
        else:
            c.eq("block 0: tx_root = ledger_root = SHA-256(\"\"), sizes 0",
                 (hd.tx_root, hd.ledger_root, hd.tx_count, hd.ledger_size), (EMPTY_ROOT, EMPTY_ROOT, 0, 0), True)
            if genesis_file:
                gobj = json.loads(Path(genesis_file).read_text())
                gb = genesis_from_json(gobj)
                c.eq("block 0: prev_hash = SHA-256(genesis bytes from --genesis)", hd.prev_hash, sha256(gb))
                c.eq("block 0: timestamp = genesis timestamp", hd.timestamp_ms, gobj["timestamp_ms"])
        prev, prev_hash = hd, hd.hash()
    if complete:
        c.eq("audited head = GET /v1/head", prev_hash, head.hash())
        n = head.ledger_size
        for hd in headers:
            m = hd.ledger_size
            if m < 1:
                continue
            cp = node.get(f"/v1/proofs/consistency?from={m}&to={n}")
            cpath = [unhex(x, 32, "path element") for x in cp["path"]]
            c.check(f"consistency block {hd.height} (size {m}) -> head (size {n}) verifies against header roots",
                    verify_consistency(m, n, hd.ledger_root, head.ledger_root, cpath), quiet=True)
            c.eq(f"consistency {m} -> {n}: server path = local PROOF", cpath, proof(m, all_records[:n]), True)
    print(f"  ok    {c.passed - start_pass} audit checks passed, {c.failed - start_fail} failed "
          f"({len(leaves)} ledger leaves recomputed)")
    return all_records if complete else None


def probe_errors(c: Checks, node: Node, t: Transfer, seed: bytes, next_nonce: int) -> None:
    """Submissions that the rules of 2.5 must reject; none changes state.
    `next_nonce` is the sender's next nonce now (t's may be ahead of it with --batch)."""
    print("rejection probes (2.5 / 6):")

    def post(obj: Any) -> Tuple[int, Any]:
        return node.request("POST", "/v1/transfers", obj)

    def expect(name: str, obj: Any, status: int, code: str) -> None:
        try:
            st, body = post(obj)
        except Exception as e:  # e.g. the node drops the connection without answering
            c.check(f"{name} -> {status} {code}", False, f"no HTTP answer: {type(e).__name__}: {e}")
            return
        got_code = body.get("code") if isinstance(body, dict) else None
        c.check(f"{name} -> {status} {code}", st == status and got_code == code, f"HTTP {st} {body}")

    base = t.to_json()
    bad_sig = dict(base, signature=flip(t.signature or b"\x00" * 64, 40).hex())
    expect("flipped signature", bad_sig, 403, "bad_signature")
    expect("missing signature", dict(base, signature=None), 403, "missing_signature")
    far = Transfer(t.chain_id, t.sender, t.receiver, t.amount, t.fee, t.nonce + 1000, t.memo).sign_with(seed)
    expect("nonce from the future", far.to_json(), 409, "bad_nonce")
    wrong_chain = Transfer(t.chain_id ^ 0xFFFF, t.sender, t.receiver, t.amount, t.fee, t.nonce, t.memo).sign_with(seed)
    expect("wrong chain", wrong_chain.to_json(), 400, "wrong_chain")
    zero = Transfer(t.chain_id, t.sender, t.receiver, 0, t.fee, t.nonce, t.memo).sign_with(seed)
    expect("zero amount", zero.to_json(), 400, "zero_amount")
    selfx = Transfer(t.chain_id, t.sender, t.sender, t.amount, t.fee, t.nonce, t.memo).sign_with(seed)
    expect("self transfer", selfx.to_json(), 400, "self_transfer")
    # bad_nonce is checked before insufficient_funds (2.5): use the current nonce.
    rich = Transfer(t.chain_id, t.sender, t.receiver, U64_MAX, 0, next_nonce, t.memo).sign_with(seed)
    expect("amount above balance", rich.to_json(), 422, "insufficient_funds")
    expect("unknown field", dict(base, extra=1), 400, "invalid_field")
    expect("memo of 65 bytes", dict(base, memo="00" * 65), 400, "memo_too_long")
    expect("empty batch", [], 400, "empty_batch")
    st, body = node.request("GET", "/v1/transfers/" + "00" * 32)
    c.check("unknown transfer id -> 404 not_found", st == 404 and is_error_doc(body, "not_found"), f"HTTP {st} {body}")
    req = urllib.request.Request(node.base + "/v1/transfers", data=b"{not json", method="POST")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=node.timeout) as resp:
            st, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        st, raw = e.code, e.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw
    c.check("non-JSON body -> 400 invalid_json", st == 400 and is_error_doc(body, "invalid_json"), f"HTTP {st} {body}")


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    sub.add_parser("selftest", help="offline: worked example and RFC 9162 proof self-tests")
    lv = sub.add_parser("live", help="submit and verify one transfer against a running node")
    lv.add_argument("--node", required=True, help="base URL, e.g. http://127.0.0.1:7301")
    lv.add_argument("--key", required=True, help='key file: {"account": hex, "secret_seed": hex}')
    lv.add_argument("--to", required=True, help="receiver account (64 hex)")
    lv.add_argument("--amount", required=True, type=int)
    lv.add_argument("--fee", type=int, default=0)
    lv.add_argument("--memo", default="", help="memo as hex (<= 64 bytes)")
    lv.add_argument("--batch", type=int, default=1,
                    help="submit our transfer last in a JSON array of this many (fillers of amount 1 first)")
    lv.add_argument("--audit-blocks", type=int, default=200,
                    help="also re-verify blocks 0..min(head, N) end to end (0 disables)")
    lv.add_argument("--genesis", help="genesis.json to check block 0's prev_hash against")
    lv.add_argument("--no-multisig", action="store_true",
                    help="skip creating and spending from a 2-of-3 multi-signature account")
    lv.add_argument("--probe-errors", action="store_true",
                    help="also submit transfers that must be rejected and check the error codes")
    args = ap.parse_args(argv)
    if args.mode == "selftest":
        return run_selftest()
    return run_live(args)


if __name__ == "__main__":
    sys.exit(main())
