//! Acceptor promises: an acceptor never accepts a ballot below one it
//! promised, and a promise made durable survives restarts.
//! Source: Lamport, "Paxos Made Simple", §2.2, P1a: "An acceptor can accept a
//! proposal numbered n iff it has not responded to a prepare request having
//! a number greater than n", and §2.2's closing remark that an acceptor must
//! remember its promises even if it fails and restarts.
//!
//! Checked from the outside, on the persist stream and the disk, not on the
//! replica's own variables.

use synod_paxos::{Ballot, NodeId, PersistOp};

use super::Violation;

/// After a restart: the replica's promise is at least the durable one.
pub fn check_restart(node: NodeId, durable: Ballot, recovered: Ballot, damaged: bool) -> Result<(), Violation> {
    if damaged || recovered >= durable {
        return Ok(());
    }
    Err(Violation::new(
        "promise",
        format!("node {node} restarted promising {recovered} below its durable promise {durable}"),
    ))
}

/// On every persist: promises never shrink and accepts are never below the
/// floor (the highest promise issued since the restart, or read back then).
pub fn check_persist(node: NodeId, floor: &mut Ballot, op: &PersistOp) -> Result<(), Violation> {
    match op {
        PersistOp::Promise { ballot } => {
            if *ballot < *floor {
                return Err(Violation::new(
                    "promise",
                    format!("node {node} promised {ballot} after promising {floor}"),
                ));
            }
            *floor = *ballot;
        }
        PersistOp::Accept { slot, ballot, .. } => {
            if *ballot < *floor {
                return Err(Violation::new(
                    "promise",
                    format!("node {node} accepted slot {slot} at {ballot} after promising {floor}"),
                ));
            }
        }
        PersistOp::Truncate { .. } => {}
    }
    Ok(())
}
