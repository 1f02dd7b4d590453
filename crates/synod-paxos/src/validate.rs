//! The replica's front door: every field of a peer's message is checked here
//! before any handler sees it. Pure and sans-IO: it reads a [`View`] of the
//! replica and returns why a message is refused, never panics.
//!
//! Handlers keep their assertions for the replica's own invariants; none of
//! them may be reachable from a message that passed `check`. A refused
//! message changes nothing; `Replica::step` reports it as
//! `Action::MessageRefused { from, reason }` and the driver counts it
//! against the peer (docs/PROTOCOL.md, "Message validation").
//!
//! The rules, in the order they are checked:
//! 1. *Addressing*: `to` is this replica and `from` is not (our own
//!    messages travel by loopback, never through `Event::Receive`). A vote
//!    (`Promise`, `Accepted`, `HeartbeatAck`, `PreVoteReply`, `Nack`) must
//!    come from a node this replica knows: a member of a configuration it
//!    knows or proposed, or a learner. Other messages may come from any
//!    node id: a replica that has not yet learned that a node joined must
//!    still hear that node lead, and nothing a non-member sends is counted
//!    (crate docs, "Reconfiguration"); the driver's transport
//!    authenticates who may connect at all.
//! 2. *Numbers*: every slot field is at most `SLOT_MAX`, and slots that
//!    name a log position are at least 1; every ballot has
//!    `round <= ROUND_MAX` and at most `BALLOT_WINDOW_ROUNDS` above the
//!    highest round this replica has seen or promised.
//! 3. *Ballot ownership*: a `Prepare`, `Accept`, `Heartbeat` or `PreVote`
//!    carries the sender's own ballot (round >= 1); a `Promise`, `Accepted`,
//!    `HeartbeatAck`, `Nack` or `PreVoteReply` answers one of ours.
//! 4. *Shape*: entries inside their range, strictly increasing, within
//!    their count limit; the whole message within `message_bytes_max`; each
//!    batch within `value_bytes_max`; every configuration well formed
//!    (1..=7 members, no duplicates). Whether a configuration is a valid
//!    successor is the proposer's check, not the receiver's: an acceptor
//!    cannot know the configuration below an arbitrary slot.
//! 5. *Consistency*: nothing claimed chosen (a `FetchReply` entry, a
//!    `Promise` entry marked chosen) may differ from a value this replica
//!    knows chosen, and an `Accept` or `Promise` may not carry a second
//!    value for a (ballot, slot) pair this replica already holds a value
//!    for. Either means a faulty or malicious member. (An `Accept` whose
//!    value differs from the chosen one is not refused: a leader deposed
//!    by a higher ballot sends those honestly; the acceptor nacks it.)

use std::collections::{BTreeMap, BTreeSet};

use crate::ballot::{Ballot, NodeId, Slot, ROUND_MAX, SLOT_MAX};
use crate::command::{ClusterConfig, Command};
use crate::limits::Limits;
use crate::message::{Body, Message, PromiseEntry, Snapshot};
use crate::replica::Accepted;

/// How far above the highest round this replica has seen (or promised) a
/// peer's ballot may go.
///
/// Why honest members never hit it: an honest candidate's round is one
/// above the highest round *it* has seen, so the highest round in the
/// cluster grows by at most one per election started. For an honest ballot
/// to be `2^20` rounds above ours, over a million elections must have been
/// started that this replica heard nothing of, not one Prepare, Nack,
/// Accept or Heartbeat. A replica cut off that long runs elections of its
/// own, each raising its own round by one, so it does not fall behind a
/// cluster that is electing; and a cluster with a stable leader does not
/// raise rounds at all. Without the window, one `Prepare` at round
/// `ROUND_MAX` would make every replica that heard it unable to campaign.
pub const BALLOT_WINDOW_ROUNDS: u64 = 1 << 20;

/// Most members a configuration may list.
pub const CONFIG_MEMBERS_MAX: usize = crate::command::MEMBERS_MAX;

/// Why a peer's message was refused. `as_str` names are stable: they are
/// metric labels (`synod_peer_messages_refused_total{reason}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// `to` is another replica.
    WrongRecipient,
    /// A vote from a node in no configuration this replica knows and not a
    /// learner.
    SenderNotMember,
    /// `from` is this replica.
    SenderIsSelf,
    /// A slot that names a log position is 0.
    SlotZero,
    /// A slot field is above `SLOT_MAX`.
    SlotAboveMax,
    /// A proposer's ballot has round 0 (below every real ballot).
    BallotZero,
    /// A ballot's round is above `ROUND_MAX`.
    BallotAboveMax,
    /// A ballot's round is more than `BALLOT_WINDOW_ROUNDS` above the
    /// highest round seen.
    BallotJump,
    /// A `Prepare`, `Accept`, `Heartbeat` or `PreVote` whose ballot is not
    /// the sender's own.
    BallotNotSenders,
    /// A reply (`Promise`, `Accepted`, `HeartbeatAck`, `Nack`,
    /// `PreVoteReply`) to a ballot that is not ours.
    BallotNotOurs,
    /// A `Promise` entry accepted at a ballot above the promise's own.
    EntryAboveBallot,
    /// More entries than the limit for the message kind.
    TooManyEntries,
    /// An entry outside the range the message declares.
    EntryOutOfRange,
    /// Entries not in strictly increasing slot order.
    EntriesNotIncreasing,
    /// A `Promise` for our ballot with another `from_slot` than we asked.
    PromiseRangeMismatch,
    /// Message, batch or snapshot above its size limit.
    TooLarge,
    /// A configuration that is empty, too large or has duplicates, or a
    /// snapshot configuration slot outside `1..=last_slot`.
    InvalidConfig,
    /// No longer produced (membership can change); kept so metric labels
    /// stay stable.
    ConfigConflict,
    /// A value claimed chosen that differs from one this replica knows
    /// chosen.
    ChosenConflict,
    /// A second value for a (ballot, slot) pair: one ballot proposes one
    /// value per slot.
    BallotValueConflict,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::WrongRecipient => "wrong_recipient",
            Refusal::SenderNotMember => "sender_not_member",
            Refusal::SenderIsSelf => "sender_is_self",
            Refusal::SlotZero => "slot_zero",
            Refusal::SlotAboveMax => "slot_above_max",
            Refusal::BallotZero => "ballot_zero",
            Refusal::BallotAboveMax => "ballot_above_max",
            Refusal::BallotJump => "ballot_jump",
            Refusal::BallotNotSenders => "ballot_not_senders",
            Refusal::BallotNotOurs => "ballot_not_ours",
            Refusal::EntryAboveBallot => "entry_above_ballot",
            Refusal::TooManyEntries => "too_many_entries",
            Refusal::EntryOutOfRange => "entry_out_of_range",
            Refusal::EntriesNotIncreasing => "entries_not_increasing",
            Refusal::PromiseRangeMismatch => "promise_range_mismatch",
            Refusal::TooLarge => "too_large",
            Refusal::InvalidConfig => "invalid_config",
            Refusal::ConfigConflict => "config_conflict",
            Refusal::ChosenConflict => "chosen_conflict",
            Refusal::BallotValueConflict => "ballot_value_conflict",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the validator may read of the replica.
pub(crate) struct View<'a> {
    pub id: NodeId,
    /// Nodes whose votes this replica listens to.
    pub known: &'a BTreeSet<NodeId>,
    pub limits: &'a Limits,
    /// The highest round seen or promised.
    pub round_seen: u64,
    /// Known chosen values above the compaction point.
    pub chosen: &'a BTreeMap<Slot, Command>,
    pub accepted: &'a BTreeMap<Slot, Accepted>,
    /// While campaigning: our ballot, its `from_slot` and what Phase 1
    /// merged so far.
    pub candidate: Option<(Ballot, Slot, &'a BTreeMap<Slot, PromiseEntry>)>,
}

/// Checks `message` against every rule above.
pub(crate) fn check(view: &View, message: &Message) -> Result<(), Refusal> {
    if message.to != view.id {
        return Err(Refusal::WrongRecipient);
    }
    if message.from == view.id {
        return Err(Refusal::SenderIsSelf);
    }
    let vote = matches!(
        message.body,
        Body::Promise { .. }
            | Body::Accepted { .. }
            | Body::HeartbeatAck { .. }
            | Body::PreVoteReply { .. }
            | Body::Nack { .. }
    );
    if vote && !view.known.contains(&message.from) {
        return Err(Refusal::SenderNotMember);
    }
    if message.body.size_bound() > view.limits.message_bytes_max {
        return Err(Refusal::TooLarge);
    }
    let from = message.from;
    match &message.body {
        Body::Prepare { ballot, from_slot } => {
            position(*from_slot)?;
            senders_ballot(view, from, *ballot)
        }
        Body::Promise { ballot, from_slot, entries, truncated: _, compacted_upto, commit_index } => {
            position(*from_slot)?;
            slot_field(*compacted_upto)?;
            slot_field(*commit_index)?;
            our_ballot(view, *ballot)?;
            promise_entries(view, *ballot, *from_slot, entries)
        }
        Body::Nack { ballot, promised, slot, commit_index } => {
            slot_field(*slot)?;
            slot_field(*commit_index)?;
            our_ballot(view, *ballot)?;
            ballot_bounds(view, *promised)
        }
        Body::Accept { ballot, slot, command, commit_index } => {
            position(*slot)?;
            slot_field(*commit_index)?;
            senders_ballot(view, from, *ballot)?;
            command_shape(view, command)?;
            // No check against a value known chosen: a leader deposed before
            // it heard of a higher ballot honestly proposes, at its stale
            // ballot, a value other than the one chosen later.
            match view.accepted.get(slot) {
                Some(held) if held.ballot == *ballot && held.command != *command => Err(Refusal::BallotValueConflict),
                _ => Ok(()),
            }
        }
        Body::Accepted { ballot, slot } => {
            position(*slot)?;
            our_ballot(view, *ballot)
        }
        Body::Heartbeat { ballot, commit_index, seq: _ } => {
            slot_field(*commit_index)?;
            senders_ballot(view, from, *ballot)
        }
        Body::HeartbeatAck { ballot, seq: _, commit_index } => {
            slot_field(*commit_index)?;
            our_ballot(view, *ballot)
        }
        Body::Fetch { from_slot } => position(*from_slot),
        Body::FetchReply { from_slot, entries, commit_index } => {
            position(*from_slot)?;
            slot_field(*commit_index)?;
            fetch_entries(view, *from_slot, *commit_index, entries)
        }
        Body::InstallSnapshot { snapshot } => snapshot_shape(snapshot),
        Body::PreVote { ballot, commit_index } => {
            slot_field(*commit_index)?;
            senders_ballot(view, from, *ballot)
        }
        Body::PreVoteReply { ballot, granted: _, promised } => {
            our_ballot(view, *ballot)?;
            ballot_bounds(view, *promised)
        }
    }
}

/// A slot naming a log position: 1..=SLOT_MAX.
fn position(slot: Slot) -> Result<(), Refusal> {
    if slot == 0 {
        return Err(Refusal::SlotZero);
    }
    slot_field(slot)
}

/// Any slot-valued field (0 meaning "none" allowed).
fn slot_field(slot: Slot) -> Result<(), Refusal> {
    if slot > SLOT_MAX {
        return Err(Refusal::SlotAboveMax);
    }
    Ok(())
}

fn ballot_bounds(view: &View, ballot: Ballot) -> Result<(), Refusal> {
    if ballot.round > ROUND_MAX {
        return Err(Refusal::BallotAboveMax);
    }
    // `round_seen <= ROUND_MAX` (every round we adopt passed this check),
    // so the sum cannot overflow; saturate anyway.
    if ballot.round > view.round_seen.saturating_add(BALLOT_WINDOW_ROUNDS) {
        return Err(Refusal::BallotJump);
    }
    Ok(())
}

/// A proposer's own ballot: owned by the sender, round >= 1, in bounds.
fn senders_ballot(view: &View, from: NodeId, ballot: Ballot) -> Result<(), Refusal> {
    if ballot.round == 0 {
        return Err(Refusal::BallotZero);
    }
    if ballot.node != from {
        return Err(Refusal::BallotNotSenders);
    }
    ballot_bounds(view, ballot)
}

/// A reply's ballot: one of ours.
fn our_ballot(view: &View, ballot: Ballot) -> Result<(), Refusal> {
    if ballot.node != view.id {
        return Err(Refusal::BallotNotOurs);
    }
    ballot_bounds(view, ballot)
}

fn config_shape(config: &ClusterConfig) -> Result<(), Refusal> {
    if !config.is_well_formed() {
        return Err(Refusal::InvalidConfig);
    }
    Ok(())
}

fn command_shape(view: &View, command: &Command) -> Result<(), Refusal> {
    match command {
        Command::Noop => Ok(()),
        Command::Batch(batch) if batch.bytes.len() > view.limits.value_bytes_max => Err(Refusal::TooLarge),
        Command::Batch(_) => Ok(()),
        Command::Config(config) => config_shape(config),
        Command::Members(book) if !book.is_well_formed() => Err(Refusal::InvalidConfig),
        Command::Members(book) => config_shape(&book.config),
    }
}

fn promise_entries(view: &View, ballot: Ballot, from_slot: Slot, entries: &[PromiseEntry]) -> Result<(), Refusal> {
    if entries.len() > view.limits.promise_entries_max {
        return Err(Refusal::TooManyEntries);
    }
    let ours = view.candidate.filter(|(candidate, _, _)| *candidate == ballot);
    if let Some((_, asked_from, _)) = ours {
        if asked_from != from_slot {
            return Err(Refusal::PromiseRangeMismatch);
        }
    }
    let mut previous: Option<Slot> = None;
    for entry in entries {
        if entry.slot < from_slot {
            return Err(Refusal::EntryOutOfRange);
        }
        slot_field(entry.slot)?;
        if previous.is_some_and(|p| entry.slot <= p) {
            return Err(Refusal::EntriesNotIncreasing);
        }
        previous = Some(entry.slot);
        if entry.ballot > ballot {
            return Err(Refusal::EntryAboveBallot);
        }
        command_shape(view, &entry.command)?;
        if entry.chosen && view.chosen.get(&entry.slot).is_some_and(|known| *known != entry.command) {
            return Err(Refusal::ChosenConflict);
        }
        if let Some(merged) = ours.and_then(|(_, _, merged)| merged.get(&entry.slot)) {
            if merged.chosen && entry.chosen && merged.command != entry.command {
                return Err(Refusal::ChosenConflict);
            }
            let same_ballot = !merged.chosen && !entry.chosen && merged.ballot == entry.ballot;
            if same_ballot && entry.ballot != Ballot::ZERO && merged.command != entry.command {
                return Err(Refusal::BallotValueConflict);
            }
        }
    }
    Ok(())
}

fn fetch_entries(view: &View, from_slot: Slot, commit_index: Slot, entries: &[(Slot, Command)]) -> Result<(), Refusal> {
    if entries.len() > view.limits.fetch_entries_max {
        return Err(Refusal::TooManyEntries);
    }
    let mut previous: Option<Slot> = None;
    for (slot, command) in entries {
        if *slot < from_slot || *slot > commit_index {
            return Err(Refusal::EntryOutOfRange);
        }
        if previous.is_some_and(|p| *slot <= p) {
            return Err(Refusal::EntriesNotIncreasing);
        }
        previous = Some(*slot);
        command_shape(view, command)?;
        if view.chosen.get(slot).is_some_and(|known| known != command) {
            return Err(Refusal::ChosenConflict);
        }
    }
    Ok(())
}

fn snapshot_shape(snapshot: &Snapshot) -> Result<(), Refusal> {
    position(snapshot.last_slot)?;
    if let Some(chosen) = &snapshot.config {
        if chosen.slot == 0 || chosen.slot > snapshot.last_slot {
            return Err(Refusal::InvalidConfig);
        }
        config_shape(&chosen.config)?;
    }
    Ok(())
}
