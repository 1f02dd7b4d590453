//! One membership change at a time, run by the leader as a background task
//! (`POST /v1/cluster/members` starts it, `GET` shows its progress).
//!
//! An addition (or the first half of a replacement): the leader makes the
//! new node a learner (`Input::AddLearner`: its transport dials it, its
//! replica sends it heartbeats and serves its catch-up), then proposes the
//! configuration with it (`Command::Members`, the members' addresses
//! included) again and again until the replica accepts it, which it does
//! only once the learner acknowledged a commit index within
//! `Limits::learner_lag_slots_max` of the leader's (etcd's promotion rule),
//! for at most `CATCH_UP_TIMEOUT_MS`. A removal proposes the configuration
//! without the member. Each step ends when the ledger applied the slot the
//! change was proposed at and recorded exactly that configuration; any
//! other outcome (leadership moved, the slot went to another value) fails
//! the change with a code, and the operator retries.
//!
//! Learners are fed to the leader only: if leadership moves during a
//! catch-up, the change fails (`leader_changed`) and is retried.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use synod_paxos::{ClusterConfig, MemberAddress, MemberBook, NodeId, ProposeError, ReconfigError, Slot};
use tokio::sync::oneshot;

use super::consensus::Input;
use super::ClusterHandle;
use crate::shared::Shared;

/// Longest wait for a learner to catch up before its promotion is given up.
pub const CATCH_UP_TIMEOUT_MS: u64 = 300_000;
/// Pause between proposals while a learner catches up or another change
/// settles.
pub const RETRY_MS: u64 = 100;
/// Longest wait for the consensus thread to answer a proposal.
const PROPOSE_ANSWER_TIMEOUT_MS: u64 = 5_000;

/// What to change: add this node, then remove that one (either may be
/// absent; the API checked them against the members).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    pub add: Option<MemberAddress>,
    pub remove: Option<NodeId>,
}

/// A change's progress, as `GET /v1/cluster/members` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeStatus {
    pub add: Option<NodeId>,
    pub remove: Option<NodeId>,
    /// `catching_up`, `removing`, `done` or `failed`.
    pub state: String,
    /// Why it failed: a stable code and a message.
    pub error: Option<ChangeError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ChangeError {
    pub code: String,
    pub message: String,
}

impl ChangeError {
    fn new(code: &str, message: impl Into<String>) -> ChangeError {
        ChangeError { code: code.into(), message: message.into() }
    }
}

impl ChangeStatus {
    pub fn is_running(&self) -> bool {
        self.state != "done" && self.state != "failed"
    }
}

/// The stable code for each refusal of a membership proposal.
pub fn reconfig_code(error: &ProposeError) -> &'static str {
    match error {
        ProposeError::NotLeader { .. } => "not_leader",
        ProposeError::TooManyInflight { .. } => "overloaded",
        ProposeError::ConfigChangePending { .. } | ProposeError::Reconfig(ReconfigError::ChangeInProgress { .. }) => {
            "change_in_progress"
        }
        ProposeError::Reconfig(ReconfigError::NotSingleStep { .. }) => "not_single_step",
        ProposeError::Reconfig(ReconfigError::TooManyMembers { .. }) => "too_many_members",
        ProposeError::Reconfig(ReconfigError::InvalidMembers) => "invalid_members",
        ProposeError::Reconfig(ReconfigError::LearnerNotCaughtUp { .. }) => "learner_not_caught_up",
        ProposeError::ValueTooLarge { .. } | ProposeError::NoopNotProposable => "proposal_rejected",
    }
}

/// Starts `request` unless a change is running (then its status is the error).
pub fn start(shared: Arc<Shared>, request: ChangeRequest) -> Result<ChangeStatus, ChangeStatus> {
    let cluster = shared.cluster.as_ref().expect("replicated mode");
    let status = {
        let mut change = cluster.change.lock().expect("change lock");
        if let Some(running) = change.as_ref().filter(|c| c.is_running()) {
            return Err(running.clone());
        }
        let state = if request.add.is_some() { "catching_up" } else { "removing" };
        let status = ChangeStatus {
            add: request.add.as_ref().map(|a| a.id),
            remove: request.remove,
            state: state.into(),
            error: None,
        };
        *change = Some(status.clone());
        status
    };
    tracing::info!(add = ?status.add, remove = ?status.remove, "membership change started");
    tokio::spawn(async move {
        let cluster = shared.cluster.as_ref().expect("replicated mode");
        let outcome = run(&shared, cluster, &request).await;
        if let Some(added) = &request.add {
            let _ = cluster.inputs.try_send(Input::RemoveLearner { node: added.id });
        }
        let mut change = cluster.change.lock().expect("change lock");
        let Some(status) = change.as_mut() else { return };
        match outcome {
            Ok(()) => {
                tracing::info!(add = ?status.add, remove = ?status.remove, "membership change done");
                status.state = "done".into();
            }
            Err(e) => {
                tracing::warn!(add = ?status.add, remove = ?status.remove, error = %e, "membership change failed");
                status.state = "failed".into();
                status.error = Some(e);
            }
        }
    });
    Ok(status)
}

async fn run(shared: &Shared, cluster: &ClusterHandle, request: &ChangeRequest) -> Result<(), ChangeError> {
    if let Some(address) = &request.add {
        // Known before the first proposal is built (the consensus thread,
        // which dials it, may not have taken `AddLearner` yet).
        cluster.addresses.write().expect("addresses lock").insert(address.id, address.clone());
        cluster
            .inputs
            .try_send(Input::AddLearner { address: address.clone() })
            .map_err(|_| ChangeError::new("overloaded", "the consensus input queue is full"))?;
        let deadline = Instant::now() + Duration::from_millis(CATCH_UP_TIMEOUT_MS);
        step(shared, cluster, |members| members.push(address.id), deadline).await?;
    }
    if let Some(node) = request.remove {
        set_state(cluster, "removing");
        let deadline = Instant::now() + Duration::from_millis(super::PROPOSAL_TIMEOUT_MS);
        step(shared, cluster, |members| members.retain(|m| *m != node), deadline).await?;
    }
    Ok(())
}

/// Proposes the current members changed by `change` until the replica
/// takes it (retrying while the learner catches up or another change
/// settles, until `deadline`), then waits until the ledger applied it.
async fn step(
    shared: &Shared,
    cluster: &ClusterHandle,
    change: impl Fn(&mut Vec<NodeId>),
    deadline: Instant,
) -> Result<(), ChangeError> {
    loop {
        let mut members = cluster.status.read().expect("status lock").config.members.clone();
        change(&mut members);
        members.sort_unstable();
        members.dedup();
        let book = book(cluster, &members)?;
        match propose(cluster, book).await? {
            Ok(slot) => return wait_applied(shared, cluster, slot, &members).await,
            Err(e) => {
                let retry = matches!(
                    e,
                    ProposeError::TooManyInflight { .. }
                        | ProposeError::ConfigChangePending { .. }
                        | ProposeError::Reconfig(ReconfigError::ChangeInProgress { .. })
                        | ProposeError::Reconfig(ReconfigError::LearnerNotCaughtUp { .. })
                );
                if !retry || Instant::now() >= deadline {
                    let code = match e {
                        ProposeError::NotLeader { .. } => "leader_changed",
                        ref other => reconfig_code(other),
                    };
                    return Err(ChangeError::new(code, e.to_string()));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(RETRY_MS)).await;
    }
}

/// `members` with every member's addresses, as the log carries them.
fn book(cluster: &ClusterHandle, members: &[NodeId]) -> Result<MemberBook, ChangeError> {
    let known = cluster.addresses.read().expect("addresses lock");
    let addresses = members
        .iter()
        .map(|m| {
            known.get(m).cloned().ok_or_else(|| {
                ChangeError::new("unknown_address", format!("no peer and HTTP address is known for member {m}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let book = MemberBook { config: ClusterConfig::new(members.to_vec()), addresses };
    if !book.is_well_formed() {
        return Err(ChangeError::new("invalid_members", format!("{members:?} is not a valid configuration")));
    }
    Ok(book)
}

async fn propose(cluster: &ClusterHandle, book: MemberBook) -> Result<Result<Slot, ProposeError>, ChangeError> {
    let (reply, answer) = oneshot::channel();
    cluster
        .inputs
        .try_send(Input::Reconfigure { book, reply })
        .map_err(|_| ChangeError::new("overloaded", "the consensus input queue is full"))?;
    match tokio::time::timeout(Duration::from_millis(PROPOSE_ANSWER_TIMEOUT_MS), answer).await {
        Ok(Ok(result)) => Ok(result),
        _ => Err(ChangeError::new("commit_unknown", "the consensus thread did not answer the proposal")),
    }
}

/// Waits until the ledger applied `slot`, then checks that it recorded
/// exactly `members` (the slot may have gone to another value if
/// leadership moved).
async fn wait_applied(
    shared: &Shared,
    cluster: &ClusterHandle,
    slot: Slot,
    members: &[NodeId],
) -> Result<(), ChangeError> {
    let mut applied = cluster.applied.clone();
    let wait = Duration::from_millis(super::PROPOSAL_TIMEOUT_MS);
    match tokio::time::timeout(wait, applied.wait_for(|a| *a >= slot)).await {
        Ok(Ok(_)) => {}
        _ => {
            return Err(ChangeError::new(
                "commit_unknown",
                format!("the change proposed at slot {slot} was not applied in time; check GET /v1/cluster/members"),
            ))
        }
    }
    let recorded = shared.store.applied_config().map_err(|e| ChangeError::new("storage_error", e.to_string()))?;
    match recorded {
        Some(c) if c.slot >= slot && same(&c.members, members) => Ok(()),
        Some(c) if c.slot == slot => Err(ChangeError::new("superseded", "another configuration was chosen instead")),
        _ if same(&cluster.status.read().expect("status lock").config.members, members) => Ok(()),
        _ => Err(ChangeError::new(
            "superseded",
            format!("slot {slot} went to another value (leadership moved?); retry the change"),
        )),
    }
}

fn same(a: &[NodeId], b: &[NodeId]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

fn set_state(cluster: &ClusterHandle, state: &str) {
    if let Some(status) = cluster.change.lock().expect("change lock").as_mut() {
        status.state = state.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_a_stable_code() {
        let r = |e| reconfig_code(&ProposeError::Reconfig(e));
        assert_eq!(r(ReconfigError::ChangeInProgress { slot: 3 }), "change_in_progress");
        assert_eq!(r(ReconfigError::NotSingleStep { current: vec![1], proposed: vec![2, 3] }), "not_single_step");
        assert_eq!(r(ReconfigError::TooManyMembers { size: 8, max: 7 }), "too_many_members");
        assert_eq!(r(ReconfigError::InvalidMembers), "invalid_members");
        let lag = ReconfigError::LearnerNotCaughtUp { node: 4, acked: None, commit_index: 9 };
        assert_eq!(r(lag), "learner_not_caught_up");
        assert_eq!(reconfig_code(&ProposeError::ConfigChangePending { slot: 2 }), "change_in_progress");
        assert_eq!(reconfig_code(&ProposeError::NotLeader { leader_hint: None }), "not_leader");
    }
}
