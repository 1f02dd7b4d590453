//! A transfer of units between two accounts, its canonical signing bytes, its
//! id, and the record that the ledger's Merkle leaves commit to.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::codec::{DecodeError, Reader, Writer};
use crate::crypto::{self, Keypair};
use crate::limits::MEMO_BYTES_MAX;
use crate::multisig::{MultisigAuth, Policy};
use crate::{AccountId, AuthMode, Hash, RejectReason};

/// Domain-separation prefix of a transfer's signing bytes: no other Synod
/// message starts with these bytes, so a signature on a transfer can never be
/// replayed as a signature on anything else.
pub const TRANSFER_DOMAIN: &[u8; 18] = b"synod.transfer.v1\x00";

/// Length of the signing bytes before the memo: domain, chain id, from, to,
/// amount, fee, nonce, memo length.
pub const SIGNING_BYTES_FIXED: usize = 18 + 8 + 32 + 32 + 8 + 8 + 8 + 1;

/// Auth tag of a record without a signature (trusted-client mode).
pub const AUTH_TAG_NONE: u8 = 0;
/// Auth tag of a record followed by a 64-byte Ed25519 signature.
pub const AUTH_TAG_ED25519: u8 = 1;
/// Auth tag of a record followed by a multi-signature policy and its signatures.
pub const AUTH_TAG_MULTISIG: u8 = 2;
/// Tag before the auth tag of a record whose receiver is a policy id: the
/// receiver's policy follows, then the auth tag. Never an auth tag itself.
pub const RECEIVER_POLICY_TAG: u8 = 3;

/// What a sender asks for. Every field is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The ledger this transfer is for (from its genesis); stops cross-chain replay.
    pub chain_id: u64,
    pub from: AccountId,
    pub to: AccountId,
    /// Units moved from `from` to `to`; must be > 0.
    pub amount: u64,
    /// Fee paid by the sender. Must be 0 in Paxos mode (fees are a proof-of-work concept).
    #[serde(default)]
    pub fee: u64,
    /// Must equal the sender's next nonce: replay protection and ordering.
    pub nonce: u64,
    /// Free user data, at most 64 bytes, hex in JSON.
    #[serde(default, with = "crate::hexbytes::vec")]
    pub memo: Vec<u8>,
}

/// A transfer's id: SHA-256 of its signing bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TransferId(#[serde(with = "crate::hexbytes::array")] pub [u8; 32]);

impl fmt::Display for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransferId({})", &hex::encode(self.0)[..16])
    }
}

impl FromStr for TransferId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::hexbytes::parse_hex_array::<32>(s).map(TransferId)
    }
}

impl Transfer {
    /// The canonical bytes the sender signs (see docs/PROTOCOL.md, "Signed transfer").
    /// Callers must have checked the memo length; an over-long memo is a bug here.
    pub fn signing_bytes(&self) -> Vec<u8> {
        assert!(self.memo.len() <= MEMO_BYTES_MAX, "memo length checked before encoding");
        let mut w = Writer::with_capacity(SIGNING_BYTES_FIXED + self.memo.len());
        self.write_signing_bytes(&mut w);
        w.bytes
    }

    fn write_signing_bytes(&self, w: &mut Writer) {
        w.raw(TRANSFER_DOMAIN);
        w.u64(self.chain_id);
        w.raw(&self.from.0);
        w.raw(&self.to.0);
        w.u64(self.amount);
        w.u64(self.fee);
        w.u64(self.nonce);
        w.u8(self.memo.len() as u8);
        w.raw(&self.memo);
    }

    fn read_signing_bytes(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.expect_domain(TRANSFER_DOMAIN, "transfer")?;
        let chain_id = r.u64()?;
        let from = AccountId(r.array()?);
        let to = AccountId(r.array()?);
        let amount = r.u64()?;
        let fee = r.u64()?;
        let nonce = r.u64()?;
        let memo_len = r.u8()? as usize;
        if memo_len > MEMO_BYTES_MAX {
            return Err(DecodeError::OutOfRange { field: "memo_len", value: memo_len as u64 });
        }
        let memo = r.take(memo_len)?.to_vec();
        Ok(Transfer { chain_id, from, to, amount, fee, nonce, memo })
    }

    /// SHA-256 of the signing bytes.
    pub fn id(&self) -> TransferId {
        TransferId(crate::sha256(&self.signing_bytes()))
    }

    /// Checks that need no ledger state: memo size, amount, self-transfer, overflow.
    pub fn check_shape(&self) -> Result<(), RejectReason> {
        if self.memo.len() > MEMO_BYTES_MAX {
            return Err(RejectReason::MemoTooLong { len: self.memo.len(), max: MEMO_BYTES_MAX });
        }
        if self.amount == 0 {
            return Err(RejectReason::ZeroAmount);
        }
        if self.from == self.to {
            return Err(RejectReason::SelfTransfer);
        }
        if self.amount.checked_add(self.fee).is_none() {
            return Err(RejectReason::Overflow);
        }
        Ok(())
    }

    /// Signs with `key`; the key must be the sender's.
    pub fn sign(self, key: &Keypair) -> SignedTransfer {
        assert_eq!(key.account(), self.from, "a transfer is signed by its sender");
        let signature = key.sign(&self.signing_bytes());
        SignedTransfer { transfer: self, signature: Some(signature), multisig: None, to_policy: None }
    }
}

/// A transfer with its optional signature, as clients submit it and as blocks store it.
/// In JSON the transfer's fields and `signature` sit side by side in one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SignedTransferJson", into = "SignedTransferJson")]
pub struct SignedTransfer {
    pub transfer: Transfer,
    /// 64-byte Ed25519 signature (hex), or null/absent in trusted-client mode.
    pub signature: Option<[u8; 64]>,
    /// The sender's policy and signatures, for a transfer from a policy id
    /// (never together with `signature`). Boxed: most transfers have none.
    pub multisig: Option<Box<MultisigAuth>>,
    /// The receiver's policy, for a transfer to a policy id: it must hash to `to`.
    pub to_policy: Option<Box<Policy>>,
}

/// The flat JSON form. (`#[serde(flatten)]` cannot deny unknown fields, and a
/// misspelt field must be an error, not silently ignored.)
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedTransferJson {
    chain_id: u64,
    from: AccountId,
    to: AccountId,
    amount: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    fee: u64,
    nonce: u64,
    #[serde(default, serialize_with = "crate::hexbytes::vec::serialize", deserialize_with = "null_as_empty_hex")]
    memo: Vec<u8>,
    #[serde(default, with = "crate::hexbytes::option_array")]
    signature: Option<[u8; 64]>,
    /// Absent from the JSON of transfers without it, so their JSON is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multisig: Option<Box<MultisigAuth>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_policy: Option<Box<Policy>>,
}

/// In JSON, `"fee": null` means what omitting it means (PROTOCOL 6), as
/// for `signature`. Binary formats (postcard, in gossip) keep the plain u64.
fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    if d.is_human_readable() {
        Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
    } else {
        u64::deserialize(d)
    }
}

/// `"memo": null` reads as an empty memo in JSON; see [`null_as_zero`].
fn null_as_empty_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    #[derive(Deserialize)]
    struct Hex(#[serde(with = "crate::hexbytes::vec")] Vec<u8>);
    if d.is_human_readable() {
        Ok(Option::<Hex>::deserialize(d)?.map_or_else(Vec::new, |h| h.0))
    } else {
        crate::hexbytes::vec::deserialize(d)
    }
}

impl TryFrom<SignedTransferJson> for SignedTransfer {
    type Error = String;
    fn try_from(j: SignedTransferJson) -> Result<Self, String> {
        if j.signature.is_some() && j.multisig.is_some() {
            return Err("a transfer has either \"signature\" or \"multisig\", not both".to_string());
        }
        Ok(SignedTransfer {
            transfer: Transfer {
                chain_id: j.chain_id,
                from: j.from,
                to: j.to,
                amount: j.amount,
                fee: j.fee,
                nonce: j.nonce,
                memo: j.memo,
            },
            signature: j.signature,
            multisig: j.multisig,
            to_policy: j.to_policy,
        })
    }
}

impl From<SignedTransfer> for SignedTransferJson {
    fn from(s: SignedTransfer) -> Self {
        let t = s.transfer;
        SignedTransferJson {
            chain_id: t.chain_id,
            from: t.from,
            to: t.to,
            amount: t.amount,
            fee: t.fee,
            nonce: t.nonce,
            memo: t.memo,
            signature: s.signature,
            multisig: s.multisig,
            to_policy: s.to_policy,
        }
    }
}

impl SignedTransfer {
    pub fn unsigned(transfer: Transfer) -> Self {
        SignedTransfer { transfer, signature: None, multisig: None, to_policy: None }
    }

    /// A transfer from a policy id, with its signatures (see [`MultisigAuth`]).
    pub fn with_multisig(transfer: Transfer, auth: MultisigAuth) -> Self {
        SignedTransfer { transfer, signature: None, multisig: Some(Box::new(auth)), to_policy: None }
    }

    /// The same transfer revealing `policy` as the receiver's.
    pub fn to_policy(mut self, policy: Policy) -> Self {
        self.to_policy = Some(Box::new(policy));
        self
    }

    /// Length of [`SignedTransfer::record_bytes`], without encoding it.
    pub fn record_len(&self) -> usize {
        let receiver = self.to_policy.as_ref().map_or(0, |p| 1 + 2 + 32 * p.keys.len());
        let auth = match (&self.multisig, &self.signature) {
            (Some(m), _) => 2 + 32 * m.keys.len() + 1 + 65 * m.signatures.len(),
            (None, Some(_)) => 64,
            (None, None) => 0,
        };
        SIGNING_BYTES_FIXED + self.transfer.memo.len() + receiver + 1 + auth
    }

    pub fn id(&self) -> TransferId {
        self.transfer.id()
    }

    /// The record a Merkle leaf commits to: signing bytes, auth tag, signature.
    pub fn record_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(self.record_len());
        self.write_record(&mut w);
        w.bytes
    }

    pub fn write_record(&self, w: &mut Writer) {
        assert!(self.transfer.memo.len() <= MEMO_BYTES_MAX, "memo length checked before encoding");
        self.transfer.write_signing_bytes(w);
        if let Some(policy) = &self.to_policy {
            w.u8(RECEIVER_POLICY_TAG);
            policy.write(w);
        }
        // A transfer with both a signature and a multi-signature is refused
        // by `check_stateless` (`conflicting_auth`) and never stored; its
        // record shows the multi-signature.
        match (&self.multisig, &self.signature) {
            (Some(auth), _) => {
                w.u8(AUTH_TAG_MULTISIG);
                auth.write(w);
            }
            (None, None) => w.u8(AUTH_TAG_NONE),
            (None, Some(sig)) => {
                w.u8(AUTH_TAG_ED25519);
                w.raw(sig);
            }
        }
    }

    pub fn read_record(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let transfer = Transfer::read_signing_bytes(r)?;
        let mut tag = r.u8()?;
        let mut to_policy = None;
        if tag == RECEIVER_POLICY_TAG {
            to_policy = Some(Box::new(Policy::read(r)?));
            tag = r.u8()?;
        }
        let (signature, multisig) = match tag {
            AUTH_TAG_NONE => (None, None),
            AUTH_TAG_ED25519 => (Some(r.array::<64>()?), None),
            AUTH_TAG_MULTISIG => (None, Some(Box::new(MultisigAuth::read(r)?))),
            tag => return Err(DecodeError::UnknownTag { field: "auth_tag", tag }),
        };
        Ok(SignedTransfer { transfer, signature, multisig, to_policy })
    }

    pub fn decode_record(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let tx = Self::read_record(&mut r)?;
        r.finish()?;
        Ok(tx)
    }

    /// The RFC 9162 leaf hash of this transfer in the ledger tree.
    pub fn leaf_hash(&self) -> Hash {
        synod_merkle::leaf_hash(&self.record_bytes())
    }

    /// Shape checks, the receiver rule, then the signature, under `auth` (chain
    /// and state are checked by the ledger).
    pub fn verify(self, auth: AuthMode) -> Result<VerifiedTransfer, RejectReason> {
        self.check_stateless(auth)?;
        Ok(VerifiedTransfer(self))
    }

    /// The checks of [`SignedTransfer::verify`] without taking the transfer.
    pub fn check_stateless(&self, auth: AuthMode) -> Result<(), RejectReason> {
        self.transfer.check_shape()?;
        check_receiver(auth, self)?;
        match (&self.signature, &self.multisig, auth) {
            (Some(_), Some(_), _) => Err(RejectReason::ConflictingAuth),
            (None, None, AuthMode::Ed25519) => Err(RejectReason::MissingSignature),
            (None, None, AuthMode::None) => Ok(()),
            (Some(sig), None, _) => crypto::verify_strict(&self.transfer.from, &self.transfer.signing_bytes(), sig)
                .map_err(RejectReason::BadSignature),
            (None, Some(multisig), _) => multisig.check(&self.transfer.from, &self.transfer.signing_bytes()),
        }
    }
}

/// The receiver rule of PROTOCOL.md 2.5: in Ed25519 mode the receiver must be
/// an account someone can sign for ([`crypto::is_signing_key`]) or a policy id
/// whose policy the transfer reveals, or the units sent to it could never move
/// again. A revealed receiver policy is checked in every mode (well-formed,
/// hashes to `to`). Trusted-client mode names accounts by opaque bytes and has
/// no other rule.
pub fn check_receiver(auth: AuthMode, tx: &SignedTransfer) -> Result<(), RejectReason> {
    if let Some(policy) = &tx.to_policy {
        policy.check().map_err(RejectReason::InvalidPolicy)?;
        if policy.account() != tx.transfer.to {
            return Err(RejectReason::ReceiverPolicyMismatch);
        }
        return Ok(());
    }
    match auth {
        AuthMode::Ed25519 if !crypto::is_signing_key(&tx.transfer.to) => Err(RejectReason::InvalidReceiver),
        _ => Ok(()),
    }
}

/// A transfer whose shape and signature were checked under the ledger's auth
/// mode. Only this type reaches the state machine, so an unverified transfer
/// cannot be applied by mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTransfer(SignedTransfer);

impl VerifiedTransfer {
    /// For records read back from this node's own checksummed storage, which
    /// were verified before they were written. The offline auditor does not
    /// use this: it verifies every signature again.
    pub fn assume_verified(tx: SignedTransfer) -> Self {
        VerifiedTransfer(tx)
    }

    /// Wraps a transfer that just passed [`SignedTransfer::check_stateless`].
    pub(crate) fn checked(tx: SignedTransfer) -> Self {
        VerifiedTransfer(tx)
    }

    pub fn get(&self) -> &SignedTransfer {
        &self.0
    }

    pub fn into_inner(self) -> SignedTransfer {
        self.0
    }
}
