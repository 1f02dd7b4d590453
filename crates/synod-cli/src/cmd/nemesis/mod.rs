//! `synod nemesis`: a fault suite over real `synod node` processes. N nodes,
//! each in its own network namespace on a private bridge, run while seeded
//! faults strike (kill -9, SIGSTOP, partitions, all nodes killed at once)
//! and concurrent clients send signed transfers and read balances. Then
//! everything heals and the history and the nodes are checked: the history
//! linearizes over the account model, every acknowledged transfer is on
//! every node, supply is conserved, and every stopped node passes the
//! offline audit with the same head. See docs/TESTING.md.

mod chain;
mod checks;
mod cluster;
mod driver;
mod faults;
mod history;
mod hosts;
mod linearizable;
mod report;
mod workload;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Transfer};

use driver::Driver;
use history::{Entry, Operation, Outcome};
use report::Report;

#[derive(clap::Args)]
pub struct NemesisArgs {
    /// Nodes, each a `synod node` process in its own network namespace: 3 or 5.
    #[arg(long, default_value_t = 3)]
    pub nodes: u8,
    /// Seconds of faults (start-up, settling and checks come on top).
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
    /// Seed of the fault schedule, the keys and the clients' choices (random if absent; always printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Concurrent clients, each with its own funded account.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Deliberately corrupt the recorded history, to show the checks catch it.
    #[arg(long, value_enum)]
    pub inject: Option<Inject>,
    /// Keep the work directory (configs, node logs, data) even when the run passes.
    #[arg(long)]
    pub keep: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Inject {
    /// Record an acknowledgement for a transfer the cluster never received.
    LoseAck,
    /// Change the balance one successful read returned.
    CorruptRead,
}

impl Inject {
    fn name(self) -> &'static str {
        match self {
            Inject::LoseAck => "lose-ack",
            Inject::CorruptRead => "corrupt-read",
        }
    }
}

const CLIENT_BALANCE: u64 = 1_000_000_000;
const CLIENTS_MAX: usize = 64;
const DURATION_MAX_S: u64 = 24 * 3600;
/// History bound (a few hundred bytes an entry): the paced clients record
/// a few hundred operations a second, so this lasts hours; when it is full
/// the clients stop early and the report says so.
const HISTORY_ENTRIES_MAX: usize = 2_000_000;
const START_TIMEOUT: Duration = Duration::from_secs(60);
const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Clients finish their last request within its timeout plus a backoff.
const CLIENT_STOP_TIMEOUT: Duration = Duration::from_millis(workload::REQUEST_TIMEOUT_MS + 2_000);

pub fn run(a: NemesisArgs) -> anyhow::Result<ExitCode> {
    if ![3, 5].contains(&a.nodes) {
        bail!("--nodes {}: use 3 or 5", a.nodes);
    }
    if !(2..=CLIENTS_MAX).contains(&a.clients) {
        bail!("--clients {}: use 2 to {CLIENTS_MAX}", a.clients);
    }
    if a.duration == 0 || a.duration > DURATION_MAX_S {
        bail!("--duration {}: use 1 to {DURATION_MAX_S} seconds", a.duration);
    }
    hosts::preflight()?;
    let seed = a.seed.unwrap_or_else(|| rand::rngs::OsRng.next_u64());
    println!("nemesis: seed {seed}");
    for gone in hosts::clean_stale()? {
        println!("nemesis: removed {gone}, left behind by an earlier run");
    }
    let dir = tempfile::Builder::new().prefix("synod-nemesis-").tempdir()?;
    let (genesis, keys) = create_genesis(dir.path(), seed, a.clients)?;
    let result = super::runtime().block_on(async {
        tokio::select! {
            r = run_in(&a, seed, dir.path(), genesis, keys) => r,
            _ = super::dev::wait_for_stop() => Err(anyhow::anyhow!("interrupted; namespaces and nodes removed")),
        }
    });
    match result {
        Ok(report) if !report.failed() && !a.keep => Ok(ExitCode::SUCCESS),
        Ok(report) => {
            let kept = dir.keep();
            if !report.failed() {
                println!("kept {}", kept.display());
            }
            Ok(if report.failed() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Err(e) => {
            let kept = dir.keep();
            Err(e.context(format!("nemesis seed {seed} (work dir kept: {})", kept.display())))
        }
    }
}

/// Client keys and a genesis funding them, all from the seed.
fn create_genesis(dir: &Path, seed: u64, clients: usize) -> anyhow::Result<(Genesis, Vec<Keypair>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut keys = Vec::new();
    for c in 0..clients {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let key = Keypair::from_seed(&secret);
        crate::keyfile::write(&dir.join("keys").join(format!("client{c}.json")), &key)?;
        keys.push(key);
    }
    let mut allocations: Vec<Allocation> =
        keys.iter().map(|k| Allocation { account: k.account(), amount: CLIENT_BALANCE, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    let genesis = Genesis {
        chain_id: rng.gen(),
        auth: AuthMode::Ed25519,
        timestamp_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64,
        allocations,
    };
    std::fs::write(dir.join("genesis.json"), serde_json::to_string_pretty(&genesis)? + "\n")?;
    Ok((genesis, keys))
}

async fn run_in(
    a: &NemesisArgs,
    seed: u64,
    dir: &Path,
    genesis: Genesis,
    keys: Vec<Keypair>,
) -> anyhow::Result<Report> {
    let n = a.nodes as usize;
    let net = hosts::Network::create(std::process::id(), n)?;
    println!(
        "nemesis: {n} namespaces on 10.77.{}.0/24 (bridge {}), work dir {}",
        net.subnet,
        net.bridge,
        dir.display()
    );
    let hosts = cluster::plan(dir, &dir.join("genesis.json"), &net)?;
    let mut driver = Driver::new(net, hosts)?;
    for h in &mut driver.hosts {
        h.start()?;
    }
    if let Err(views) = driver.settle(START_TIMEOUT).await {
        bail!("the cluster did not elect a leader and agree within {START_TIMEOUT:?}: {views:?}");
    }
    let urls = driver.hosts.iter().map(|h| h.url.clone()).collect();
    let workload = Arc::new(workload::Workload::new(genesis.chain_id, keys, urls, HISTORY_ENTRIES_MAX)?);
    let mut clients = Vec::new();
    for c in 0..a.clients {
        let rng = StdRng::seed_from_u64(seed.wrapping_add(1 + c as u64));
        clients.push(tokio::spawn(workload.clone().client(c, rng)));
    }

    // Phase 1: the faults, one at a time, each healed before the next.
    let mut report = Report {
        seed,
        nodes: n,
        duration_s: a.duration,
        inject: a.inject.map(|i| i.name().to_string()),
        faults: Vec::new(),
        checks: Vec::new(),
    };
    let started = Instant::now();
    for step in faults::schedule(seed, n, a.duration * 1_000) {
        driver.reap("during the faults")?;
        let at = started.elapsed().as_secs_f64();
        let done = driver.apply(&step.fault).await?;
        report.faults.push(format!("{at:>7.1} s  {done}, held {} ms", step.hold_ms));
        println!("nemesis: {}", report.faults.last().expect("just pushed"));
        tokio::time::sleep(Duration::from_millis(step.hold_ms)).await;
        driver.heal()?;
        tokio::time::sleep(Duration::from_millis(step.quiet_ms)).await;
    }

    // Phase 2: stop the clients, heal everything, let the cluster settle.
    workload.stop.store(true, Ordering::Relaxed);
    for c in clients {
        if tokio::time::timeout(CLIENT_STOP_TIMEOUT, c).await.is_err() {
            bail!("a client did not finish within {CLIENT_STOP_TIMEOUT:?}");
        }
    }
    driver.reap("after the faults")?;
    driver.heal()?;
    let settled = driver.settle(SETTLE_TIMEOUT).await;
    let workload = Arc::into_inner(workload).context("clients still hold the workload")?;
    let accounts = workload.accounts();
    let mut entries = workload.history.into_entries();
    if let Some(inject) = a.inject {
        inject_bug(inject, &mut entries, &workload.keys, genesis.chain_id)?;
    }
    if entries.len() >= HISTORY_ENTRIES_MAX {
        println!("nemesis: the history filled ({HISTORY_ENTRIES_MAX} entries); the clients stopped early");
    }
    let tally = history::tally(&entries);
    history::write_jsonl(&entries, &dir.join("history.jsonl")).context("writing history.jsonl")?;

    // Phase 3: the checks on the live cluster, then on the stopped data dirs.
    report.checks.push(("nodes stay up (no exit we did not cause)", driver.unexpected_exits.clone()));
    let linearizable = match &settled {
        Err(views) => {
            report.checks.push(("convergence", vec![format!("no agreement within {SETTLE_TIMEOUT:?}: {views:?}")]));
            vec!["not checked: the cluster did not converge".to_string()]
        }
        Ok(view) => {
            report.checks.push(("convergence", Vec::new()));
            let chain = chain::fetch(&driver.hosts[0].url, view.height).await?;
            let funded: Vec<_> = genesis.allocations.iter().map(|al| (al.account, al.amount)).collect();
            let segments = chain.segments(&funded)?;
            linearizable::check(&entries, &chain, &segments)
        }
    };
    report.checks.push(("linearizable history (account model)", linearizable));
    report
        .checks
        .push(("acknowledged transfers on every node", checks::acknowledged_everywhere(&entries, &driver.hosts).await));
    let supply = CLIENT_BALANCE * accounts.len() as u64;
    report.checks.push(("supply conserved", checks::supply_conserved(&driver.hosts, &accounts, supply).await));
    driver.stop_all();
    let (audited, audit_violations) = checks::audit_all(&driver.hosts);
    if let Some(first) = audited.first() {
        println!("nemesis: audited {} data dirs, height {} head {}", audited.len(), first.height, first.head_hash);
    }
    report.checks.push(("offline audit, identical heads", audit_violations));
    report.print(&tally, &dir.display().to_string());
    Ok(report)
}

/// The deliberate bugs of `--inject`: the checks must report them.
fn inject_bug(inject: Inject, entries: &mut Vec<Entry>, keys: &[Keypair], chain_id: u64) -> anyhow::Result<()> {
    match inject {
        Inject::LoseAck => {
            // A transfer the cluster never saw, recorded as acknowledged: as
            // if a node acknowledged it and then lost it.
            let end = entries.iter().map(|e| e.complete_us).max().unwrap_or(0);
            let tx = Transfer {
                chain_id,
                from: keys[0].account(),
                to: keys[1].account(),
                amount: 1,
                fee: 0,
                nonce: 0,
                memo: b"nemesis lose-ack".to_vec(),
            }
            .sign(&keys[0]);
            entries.push(Entry {
                client: 0,
                node: 0,
                invoke_us: end + 1,
                complete_us: end + 2,
                operation: Operation::Transfer(tx),
                outcome: Outcome::Committed { height: 1, ledger_index: 0 },
            });
        }
        Inject::CorruptRead => {
            let read = entries
                .iter_mut()
                .find_map(|e| match &mut e.outcome {
                    Outcome::Read { balance, .. } => Some(balance),
                    _ => None,
                })
                .context("--inject corrupt-read: the run recorded no successful read")?;
            // More than all the clients' transfers together could move.
            *read += CLIENT_BALANCE;
        }
    }
    Ok(())
}
