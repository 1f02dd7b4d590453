//! Serving catch-up, compaction and snapshot transfer.
//!
//! `Fetch { from_slot }` is answered with chosen values from `from_slot` up to
//! the commit index, at most `fetch_entries_max` entries and
//! `message_bytes_max` estimated bytes. If `from_slot` is at or below the
//! compaction point the replica asks its driver for the current snapshot
//! (`Action::SnapshotNeeded`) and sends it as `InstallSnapshot`. The receiver
//! hands it to its driver (`Action::InstallSnapshot`), then persists a
//! `Truncate` up to the snapshot's slot and continues fetching above it.

use crate::ballot::{NodeId, Slot};
use crate::durable::PersistOp;
use crate::event::Action;
use crate::limits::MESSAGE_OVERHEAD_BYTES;
use crate::message::{entry_bound, Body, Snapshot};

use super::Replica;

impl Replica {
    pub(super) fn on_fetch(&mut self, from: NodeId, from_slot: Slot) {
        assert!(from_slot > 0);
        if from_slot <= self.compacted_upto {
            self.actions.push(Action::SnapshotNeeded { to: from });
            return;
        }
        let limits = &self.opts.limits;
        let mut entries = Vec::new();
        let mut bytes = MESSAGE_OVERHEAD_BYTES;
        for slot in from_slot..=self.commit_index {
            let command = self.log.get(&slot).expect("committed slot above the compaction point is in the log");
            bytes += entry_bound(command);
            if entries.len() >= limits.fetch_entries_max || bytes > limits.message_bytes_max {
                break;
            }
            entries.push((slot, command.clone()));
        }
        let body = Body::FetchReply { from_slot, entries, commit_index: self.commit_index };
        assert!(body.size_bound() <= self.opts.limits.message_bytes_max);
        self.send(from, body);
    }

    pub(super) fn on_snapshot_ready(&mut self, to: NodeId, snapshot: Snapshot) {
        assert!(snapshot.last_slot <= self.applied_index, "snapshot ahead of the applied index");
        assert!(snapshot.last_slot >= self.compacted_upto, "snapshot older than the compaction point");
        self.send(to, Body::InstallSnapshot { snapshot });
    }

    pub(super) fn on_install_snapshot(&mut self, from: NodeId, snapshot: Snapshot) {
        if self.fetch_sent.is_some_and(|(target, _)| target == from) {
            self.fetch_sent = None;
        }
        let last = snapshot.last_slot;
        self.note_commit_hint(from, last);
        if last <= self.commit_index {
            return;
        }
        if self.is_leader() {
            self.set_role_follower();
        }
        self.actions.push(Action::InstallSnapshot { snapshot });
        self.log = self.log.split_off(&(last + 1));
        self.accepted = self.accepted.split_off(&(last + 1));
        self.compacted_upto = last;
        self.commit_index = last;
        self.applied_index = last;
        self.persist(PersistOp::Truncate { upto: last });
        self.stats.snapshots_installed += 1;
        self.advance_commit();
        if self.commit_hint > self.commit_index {
            self.fetch_from(from);
        }
    }

    pub(super) fn on_compact(&mut self, upto_slot: Slot) {
        assert!(upto_slot <= self.applied_index, "compacting past the applied index");
        if upto_slot <= self.compacted_upto {
            return;
        }
        self.log = self.log.split_off(&(upto_slot + 1));
        self.accepted = self.accepted.split_off(&(upto_slot + 1));
        self.compacted_upto = upto_slot;
        self.persist(PersistOp::Truncate { upto: upto_slot });
    }
}
