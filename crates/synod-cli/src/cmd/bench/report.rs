//! The result of one run: printed as text, or as one JSON object (`--json`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::load::Outcome;
use super::machine::Machine;
use super::requests::PrepareSummary;
use super::target::{Setup, Target};
use super::verify::CheckReport;
use super::Plan;

#[derive(Clone, Debug, Serialize)]
pub struct TargetInfo {
    /// "dev" (a node started in this process), "dev-cluster" (a Multi-Paxos
    /// cluster started in this process, `--dev --nodes N`) or "nodes".
    pub kind: String,
    pub nodes: Vec<String>,
    /// `consensus` from the node's status: "single" means one node, no replication.
    pub consensus: String,
    /// The ledger's auth mode: "ed25519" or "none" (trusted clients).
    pub ledger_auth: synod_core::AuthMode,
}

#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// The measured window: from the end of the warmup to the end of the duration or the
    /// last measured answer, whichever is later (the last answer when --requests stopped the run).
    pub elapsed_s: f64,
    /// Requests answered with 200 in the window (started after the warmup).
    pub requests: u64,
    /// Transfers acknowledged as committed in those requests.
    pub transfers_committed: u64,
    pub requests_per_s: f64,
    pub committed_per_s: f64,
    /// Open loop: measured requests sent more than 10 ms after they were due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_starts: Option<u64>,
    /// Transfers that were not prepared before the timed phase and were signed
    /// (or built) during it, on the blocking pool.
    pub signed_during_run: u64,
    /// Warmup included.
    pub total_requests_ok: u64,
    pub total_transfers_committed: u64,
}

/// Per-request latency in microseconds (HdrHistogram, 3 significant digits).
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

/// Failures over the whole run, warmup included.
#[derive(Clone, Debug, Serialize)]
pub struct Errors {
    /// Failed requests plus rejected transfers.
    pub total: u64,
    /// Requests without a 200 answer (API error status or transport failure).
    pub requests_failed: u64,
    /// Transfers the ledger rejected (inside a 200 batch answer, or a rejected single transfer).
    pub transfers_rejected: u64,
    /// Requests answered `not_leader` (also counted in `by_kind`).
    pub not_leader: u64,
    /// Times a client moved to the next node after `not_leader` or no answer.
    pub node_switches: u64,
    /// Count per kind: an API error code (`overloaded`, `bad_nonce`, ...), or
    /// `transport:*`, `bad_response`, `resync:*` (reading a nonce after a rejection failed).
    pub by_kind: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub target: TargetInfo,
    pub machine: Machine,
    pub load: Plan,
    pub setup: Setup,
    pub prepared: PrepareSummary,
    pub results: Results,
    pub latency_us: Latency,
    pub errors: Errors,
    pub check: CheckReport,
    /// The check passed: every acknowledged transfer is in the ledger.
    pub ok: bool,
}

impl Report {
    pub fn new(
        target: &Target,
        plan: &Plan,
        machine: Machine,
        setup: Setup,
        prepared: PrepareSummary,
        outcome: Outcome,
        check: CheckReport,
    ) -> Report {
        let sum = |f: &dyn Fn(&super::load::ClientResult) -> u64| outcome.clients.iter().map(f).sum::<u64>();
        let requests = sum(&|c| c.measured_requests);
        let committed = sum(&|c| c.measured_committed);
        let h = &outcome.hist;
        let latency = Latency {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: if h.is_empty() { 0.0 } else { h.mean() },
        };
        let requests_failed = sum(&|c| c.requests_failed);
        let transfers_rejected = sum(&|c| c.transfers_rejected);
        let errors = Errors {
            total: outcome.errors.values().sum(),
            requests_failed,
            transfers_rejected,
            not_leader: outcome.errors.get("not_leader").copied().unwrap_or(0),
            node_switches: sum(&|c| c.node_switches),
            by_kind: outcome.errors.clone(),
        };
        let results = Results {
            elapsed_s: outcome.elapsed_s,
            requests,
            transfers_committed: committed,
            requests_per_s: requests as f64 / outcome.elapsed_s,
            committed_per_s: committed as f64 / outcome.elapsed_s,
            late_starts: plan.rate.map(|_| sum(&|c| c.late_starts)),
            signed_during_run: sum(&|c| c.signed_on_the_fly),
            total_requests_ok: sum(&|c| c.requests_ok),
            total_transfers_committed: sum(&|c| c.acked.count),
        };
        Report {
            target: TargetInfo {
                kind: target.kind.into(),
                nodes: target.urls.clone(),
                consensus: target.consensus.clone(),
                ledger_auth: target.ledger_auth,
            },
            machine,
            load: plan.clone(),
            setup,
            prepared,
            results,
            latency_us: latency,
            errors,
            ok: check.ok,
            check,
        }
    }

    pub fn print_text(&self) {
        let t = &self.target;
        let what = if t.kind == "dev" {
            "in-process dev node (single node, no replication)".to_string()
        } else {
            format!("{} node(s), consensus {}", t.nodes.len(), t.consensus)
        };
        let auth = match t.ledger_auth {
            synod_core::AuthMode::Ed25519 => "ed25519",
            synod_core::AuthMode::None => "none (trusted clients)",
        };
        println!("synod bench: {what} at {}, ledger auth {auth}", t.nodes.join(","));
        println!(
            "  machine   {}, {} CPUs, load average {:.2} {:.2} {:.2}{}",
            self.machine.cpu_model,
            self.machine.cpus,
            self.machine.load_average[0],
            self.machine.load_average[1],
            self.machine.load_average[2],
            if self.machine.generator_shares_cpus_with_node {
                " (load generator and node share these CPUs)"
            } else {
                ""
            }
        );
        println!("  load      {}", shape(&self.load));
        if let Some(f) = &self.setup.funding {
            println!("  funding   {} accounts from {} key(s) in {:.2} s", f.transfers, f.keys, f.seconds);
        }
        println!(
            "  prepared  {} transfers in {} requests before the run ({}, {:.2} s on {} threads); {} more during the run",
            int(self.prepared.transfers),
            int(self.prepared.requests),
            if self.prepared.signed { "signed" } else { "unsigned" },
            self.prepared.seconds,
            self.prepared.threads,
            int(self.results.signed_during_run)
        );
        let r = &self.results;
        println!("results over {:.2} s (after the warmup)", r.elapsed_s);
        println!(
            "  committed {:>12} transfers/s   ({} transfers)",
            rate(r.committed_per_s),
            int(r.transfers_committed)
        );
        println!("  requests  {:>12} requests/s    ({} answered)", rate(r.requests_per_s), int(r.requests));
        if let Some(late) = r.late_starts {
            println!("  late      {} requests sent > 10 ms after they were due (all clients busy)", int(late));
        }
        let l = &self.latency_us;
        println!(
            "  latency   p50 {}  p90 {}  p99 {}  p99.9 {}  max {}   (per request, n={})",
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            int(l.count)
        );
        if self.errors.total == 0 {
            println!("  errors    none (0 not_leader)");
        } else {
            let kinds: Vec<String> = self.errors.by_kind.iter().map(|(k, v)| format!("{k} {}", int(*v))).collect();
            println!(
                "  errors    {} ({} failed requests, {} rejected transfers): {}",
                int(self.errors.total),
                int(self.errors.requests_failed),
                int(self.errors.transfers_rejected),
                kinds.join(", ")
            );
            println!(
                "  leader    {} not_leader answers; clients moved to another node {} times",
                int(self.errors.not_leader),
                int(self.errors.node_switches)
            );
        }
        let c = &self.check;
        let how = if c.not_looked_up > 0 {
            format!(
                "looked up {} of {} acknowledged transfers",
                int(c.looked_up - c.not_looked_up),
                int(c.acknowledged)
            )
        } else if c.method == "all+nonces" {
            format!("looked up all {} acknowledged transfers", int(c.looked_up))
        } else {
            format!("looked up a sample of {} of {} acknowledged transfers", int(c.looked_up), int(c.acknowledged))
        };
        println!(
            "check: {} — {how}, {} missing; {} sender nonces, {} behind{}{} ({:.2} s)",
            if c.ok { "OK" } else { "FAILED" },
            int(c.missing),
            int(c.senders_checked),
            int(c.senders_behind),
            if c.lookup_errors > 0 {
                format!("; {} lookups failed, {} skipped", int(c.lookup_errors), int(c.not_looked_up))
            } else {
                String::new()
            },
            if c.committed_unacknowledged > 0 {
                format!("; {} committed without an answer", int(c.committed_unacknowledged))
            } else {
                String::new()
            },
            c.seconds
        );
        for id in &c.missing_ids {
            println!("  missing {id}");
        }
    }
}

pub fn shape(p: &Plan) -> String {
    let mode = match p.rate {
        Some(r) => format!("open loop {} requests/s, ≤ {} in flight", rate(r), p.clients),
        None if p.clients == 1 => "closed loop, 1 client".to_string(),
        None => format!("closed loop, {} clients", p.clients),
    };
    let stop = match p.requests {
        Some(n) => format!("{} requests (cap {} s)", int(n), p.duration_s),
        None => format!("{} s", p.duration_s),
    };
    format!(
        "{mode}, {} transfer{}/request, {} ({}), warmup {} s, then {stop}",
        p.batch,
        if p.batch == 1 { "" } else { "s" },
        if p.auth == super::Auth::Signed { "signed" } else { "trusted" },
        if p.batch == 1 { "JSON object" } else { "JSON array" },
        p.warmup_s
    )
}

/// Microseconds as milliseconds.
pub fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

/// An integer with thousands separators.
pub fn int(n: u64) -> String {
    let s = n.to_string();
    let head = match s.len() % 3 {
        0 => 3,
        r => r,
    };
    let mut out = s[..head].to_string();
    for group in s.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).expect("digits"));
    }
    out
}

pub fn rate(x: f64) -> String {
    if x >= 100.0 {
        int(x.round() as u64)
    } else {
        format!("{x:.1}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn integers_get_thousands_separators() {
        for (n, text) in
            [(0, "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (65_536, "65,536"), (1_234_567, "1,234,567")]
        {
            assert_eq!(super::int(n), text);
        }
    }
}
