//! Fail-stop and liveness: every node thread is spawned through
//! [`Health::spawn`], which catches a panic (or an early return of a thread
//! that must run until shutdown) and marks the node FAILED with the reason.
//! Each thread beats once per loop iteration and while idle; `/healthz`
//! reports a thread whose last beat is older than [`BEAT_STALE_MS`] as not
//! alive.
//!
//! A failed node never recovers in place: its threads exit, it refuses to vote
//! or lead (the consensus thread is gone), the API answers 503 `halted`, and
//! `synod node` exits non-zero so that a supervisor restarts it from disk.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

/// A thread whose last beat is older than this is reported as not alive and
/// `/healthz` answers 503. Threads beat at least every [`BEAT_IDLE_MS`], so
/// only a thread stuck in one step for seconds crosses it: a paxos or block
/// fsync normally takes milliseconds; one that takes 5 s means a disk a load
/// balancer should route around, but it does not fail the node (a slow disk
/// is not a freeze: the thread beats again when the fsync returns).
pub const BEAT_STALE_MS: u64 = 5_000;

/// Longest a thread blocks waiting for work before it beats again.
pub const BEAT_IDLE_MS: u64 = 250;

/// Every kind of node thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadKind {
    Consensus,
    Persister,
    Applier,
    Proposer,
    Committer,
    Chain,
    Miner,
}

impl ThreadKind {
    pub const ALL: [ThreadKind; 7] = [
        ThreadKind::Consensus,
        ThreadKind::Persister,
        ThreadKind::Applier,
        ThreadKind::Proposer,
        ThreadKind::Committer,
        ThreadKind::Chain,
        ThreadKind::Miner,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ThreadKind::Consensus => "consensus",
            ThreadKind::Persister => "persister",
            ThreadKind::Applier => "applier",
            ThreadKind::Proposer => "proposer",
            ThreadKind::Committer => "committer",
            ThreadKind::Chain => "chain",
            ThreadKind::Miner => "miner",
        }
    }

    pub fn parse(name: &str) -> Option<ThreadKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// One thread's liveness record.
struct ThreadRecord {
    name: String,
    kind: ThreadKind,
    /// Milliseconds since `Health::epoch` (monotonic).
    last_beat_ms: AtomicU64,
    exited: AtomicBool,
}

/// One thread's entry in `/healthz` and `/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ThreadHealth {
    pub name: String,
    pub kind: String,
    pub alive: bool,
    pub last_beat_ms_ago: u64,
}

/// The node's fail-stop state and its threads' heartbeats.
pub struct Health {
    epoch: Instant,
    threads: Mutex<Vec<Arc<ThreadRecord>>>,
    /// The first failure's reason; never cleared.
    failed: watch::Sender<Option<String>>,
    stopping: AtomicBool,
    /// Test-only fault injection: a bit per `ThreadKind` whose threads panic
    /// at their next beat.
    inject: AtomicU32,
    /// Test-only fault injection: a bit per `ThreadKind` whose threads see
    /// their next storage write fail.
    inject_storage: AtomicU32,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            epoch: Instant::now(),
            threads: Mutex::new(Vec::new()),
            failed: watch::channel(None).0,
            stopping: AtomicBool::new(false),
            inject: AtomicU32::new(0),
            inject_storage: AtomicU32::new(0),
        }
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Marks the node FAILED (the first reason is kept). Threads exit at their
    /// next beat.
    pub fn fail(&self, reason: impl Into<String>) {
        let reason = reason.into();
        let first = self.failed.send_if_modified(|f| {
            if f.is_some() {
                return false;
            }
            *f = Some(reason.clone());
            true
        });
        if first {
            tracing::error!(reason = %reason, "node FAILED; it stops voting, leading and serving; restart it");
        }
    }

    pub fn failure(&self) -> Option<String> {
        self.failed.borrow().clone()
    }

    pub fn is_failed(&self) -> bool {
        self.failed.borrow().is_some()
    }

    /// Resolves with the reason once the node has failed.
    pub async fn wait_failed(&self) -> String {
        let mut rx = self.failed.subscribe();
        let reason = rx.wait_for(Option::is_some).await.map(|r| r.clone()).ok().flatten();
        reason.unwrap_or_else(|| "health state dropped".into())
    }

    /// Called by the node's shutdown before it stops the threads: their
    /// returns from now on are expected.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Test-only: every thread of `kind` panics at its next beat.
    #[doc(hidden)]
    pub fn inject_panic(&self, kind: ThreadKind) {
        self.inject.fetch_or(kind.bit(), Ordering::SeqCst);
    }

    /// Test-only: every storage write of a thread of `kind` fails from now
    /// on (the persister's and the applier's; see [`Beat::storage_fault`]).
    #[doc(hidden)]
    pub fn inject_storage_failure(&self, kind: ThreadKind) {
        self.inject_storage.fetch_or(kind.bit(), Ordering::SeqCst);
    }

    /// Each registered thread, with whether it beat within `BEAT_STALE_MS`.
    pub fn threads(&self) -> Vec<ThreadHealth> {
        let now = self.now_ms();
        let threads = self.threads.lock().expect("health lock");
        threads
            .iter()
            .map(|t| {
                let ago = now.saturating_sub(t.last_beat_ms.load(Ordering::SeqCst));
                ThreadHealth {
                    name: t.name.clone(),
                    kind: t.kind.name().into(),
                    alive: !t.exited.load(Ordering::SeqCst) && ago <= BEAT_STALE_MS,
                    last_beat_ms_ago: ago,
                }
            })
            .collect()
    }

    /// The `/healthz` answer: healthy only when not failed, not `halted` and
    /// every thread is alive.
    pub fn report(&self, halted: bool) -> HealthReport {
        let threads = self.threads();
        let failure = self.failure();
        let status = if failure.is_some() {
            "failed"
        } else if halted {
            "halted"
        } else if threads.iter().any(|t| !t.alive) {
            "stale"
        } else {
            "ok"
        };
        HealthReport { status: status.into(), reason: failure, threads }
    }

    /// Spawns a named OS thread of `kind` that must run until shutdown. A
    /// panic, or a return before `set_stopping`, fails the node.
    pub fn spawn(
        self: &Arc<Self>,
        kind: ThreadKind,
        name: &str,
        f: impl FnOnce(Beat) + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        let record = Arc::new(ThreadRecord {
            name: name.into(),
            kind,
            last_beat_ms: AtomicU64::new(self.now_ms()),
            exited: AtomicBool::new(false),
        });
        self.threads.lock().expect("health lock").push(record.clone());
        let health = self.clone();
        let thread_name = name.to_string();
        install_panic_hook();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                SUPERVISED.with(|s| *s.borrow_mut() = Some((health.clone(), thread_name.clone())));
                let beat = Beat { health: health.clone(), record: record.clone() };
                let result = std::panic::catch_unwind(AssertUnwindSafe(move || f(beat)));
                record.exited.store(true, Ordering::SeqCst);
                match result {
                    // The panic hook already failed the node, before the
                    // unwinding dropped this thread's channels (which makes
                    // its peers exit too): the reason names this thread.
                    Err(payload) => {
                        health.fail(format!("thread {thread_name} panicked: {}", panic_message(payload.as_ref())))
                    }
                    Ok(()) if !health.is_stopping() => {
                        health.fail(format!("thread {thread_name} exited before shutdown"))
                    }
                    Ok(()) => {}
                }
            })
            .expect("spawn thread")
    }
}

thread_local! {
    /// The node and thread name of a supervised thread, for the panic hook.
    static SUPERVISED: std::cell::RefCell<Option<(Arc<Health>, String)>> = const { std::cell::RefCell::new(None) };
}

/// Chains a process-wide panic hook (once) that fails the node of a
/// supervised thread at the moment it panics: before unwinding closes the
/// thread's channels, so the first recorded reason is the panic, not a peer
/// thread's exit that the panic caused.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            let _ = SUPERVISED.try_with(|s| {
                if let Ok(s) = s.try_borrow() {
                    if let Some((health, name)) = &*s {
                        let message = info.payload_as_str().unwrap_or("(non-string panic payload)");
                        health.fail(format!("thread {name} panicked: {message}"));
                    }
                }
            });
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".into()
    }
}

/// `/healthz` body.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct HealthReport {
    /// `ok`, `failed` (a thread died), `halted` (storage or divergence) or
    /// `stale` (a thread missed its beats for `BEAT_STALE_MS`).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub threads: Vec<ThreadHealth>,
}

impl HealthReport {
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// A thread's handle on its own heartbeat.
pub struct Beat {
    health: Arc<Health>,
    record: Arc<ThreadRecord>,
}

impl Beat {
    /// Records a beat. Returns false when the node has failed: the thread
    /// must then return (it stops voting, writing or mining). Panics when a
    /// test injected a panic for this thread's kind.
    #[must_use]
    pub fn beat(&self) -> bool {
        self.record.last_beat_ms.store(self.health.now_ms(), Ordering::SeqCst);
        if self.health.inject.load(Ordering::Relaxed) & self.record.kind.bit() != 0 {
            panic!("injected panic in the {} thread (test fault injection)", self.record.kind.name());
        }
        !self.health.is_failed()
    }

    /// Test-only fault injection: the storage failure a test injected for
    /// this thread's kind, which the thread handles exactly as the error of
    /// the write it was about to make.
    pub fn storage_fault(&self) -> Option<&'static str> {
        let injected = self.health.inject_storage.load(Ordering::Relaxed) & self.record.kind.bit() != 0;
        injected.then_some("injected storage failure (test fault injection)")
    }

    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }
}

/// How long an idle thread blocks before it beats again.
pub fn idle_wait() -> Duration {
    Duration::from_millis(BEAT_IDLE_MS)
}
