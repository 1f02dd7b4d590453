//! Serving catch-up, compaction and snapshot transfer.
//!
//! `Fetch { from_slot }` is answered with chosen values from `from_slot` up to
//! the commit index, at most `fetch_entries_max` entries and
//! `message_bytes_max` estimated bytes. If `from_slot` is at or below the
//! compaction point the replica asks its driver for the current snapshot
//! (`Action::SnapshotNeeded`) and sends it as `InstallSnapshot`. The receiver
//! hands it to its driver (`Action::InstallSnapshot`) and waits: it applies,
//! fetches and campaigns for nothing until the driver answers
//! `Event::SnapshotInstalled { upto_slot }`, the slot its state machine now
//! durably holds. Only then do commit and applied index move there, the log
//! below it go (`Truncate`, after the state is durable, as
//! `PersistOp::Truncate` requires), and fetching resume above it.
//!
//! Why wait instead of jumping at once: an install can take long (the node
//! runtime fetches the ledger in chunks) and can stop half-way (a crash, a
//! bad chunk). A replica that counted slots as applied before the state
//! machine held them would truncate accepted entries no durable state
//! covers, and serve reads from state it does not have.

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

    pub(super) fn on_snapshot_ready(&mut self, to: NodeId, mut snapshot: Snapshot) {
        assert!(snapshot.last_slot <= self.applied_index, "snapshot ahead of the applied index");
        // The chosen Config entry may be compacted: the snapshot carries it.
        snapshot.config = self.chosen_config_upto(snapshot.last_slot);
        assert!(snapshot.last_slot >= self.compacted_upto, "snapshot older than the compaction point");
        self.send(to, Body::InstallSnapshot { snapshot });
    }

    pub(super) fn on_install_snapshot(&mut self, from: NodeId, snapshot: Snapshot) {
        if self.fetch_sent.is_some_and(|(target, _)| target == from) {
            self.fetch_sent = None;
        }
        let last = snapshot.last_slot;
        self.note_commit_hint(from, last);
        // One install at a time; a newer snapshot is asked for again once
        // this one is done, by the fetch that follows it.
        if last <= self.commit_index || self.installing.is_some() {
            return;
        }
        self.set_role_follower();
        self.fetch_sent = None;
        self.installing = Some(last);
        self.installing_config = snapshot.config.clone().filter(|c| c.slot <= last);
        self.actions.push(Action::InstallSnapshot { snapshot });
    }

    pub(super) fn on_snapshot_installed(&mut self, upto_slot: Slot) {
        let target = self.installing.take().expect("SnapshotInstalled answers an InstallSnapshot");
        let installed_config = self.installing_config.take();
        assert!(upto_slot <= target, "installed past the snapshot ({upto_slot} > {target})");
        assert!(upto_slot >= self.applied_index, "the state machine went backwards during an install");
        if upto_slot > self.commit_index {
            self.log = self.log.split_off(&(upto_slot + 1));
            self.accepted = self.accepted.split_off(&(upto_slot + 1));
            self.compacted_upto = upto_slot;
            self.commit_index = upto_slot;
            self.applied_index = upto_slot;
            self.applied_reported = upto_slot;
            // The state machine is durable up to here already (that is what
            // the event says), so the truncate may follow at once.
            self.persist(PersistOp::Truncate { upto: upto_slot });
            if upto_slot == target {
                self.stats.snapshots_installed += 1;
            }
        }
        if let Some(chosen) = installed_config.filter(|c| c.slot <= self.applied_index) {
            // The sender's latest configuration at or below the snapshot,
            // with the slot that started its run of those members: taken as
            // is, even with our latest members, since changes in between
            // may be compacted away.
            let newer = self.configs.keys().next_back().is_none_or(|slot| *slot < chosen.slot);
            if newer {
                assert!(chosen.config.is_well_formed(), "validated snapshot configuration");
                self.configs.insert(chosen.slot, chosen.config);
            }
        }
        self.prune_configs(self.compacted_upto);
        self.advance_commit();
        if self.commit_hint > self.commit_index {
            let target = self.leader.map(|(id, _)| id).filter(|id| *id != self.id).or(self.commit_hint_from);
            if let Some(target) = target {
                self.fetch_from(target);
            }
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
        self.prune_configs(upto_slot);
        self.persist(PersistOp::Truncate { upto: upto_slot });
    }
}
