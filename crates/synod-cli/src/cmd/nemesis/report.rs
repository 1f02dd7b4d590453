//! The report: the seed and how to replay it, the faults as they happened,
//! the history's counts, and each check with its violations.

use super::history::Tally;

pub struct Report {
    pub seed: u64,
    pub nodes: usize,
    pub duration_s: u64,
    pub inject: Option<String>,
    pub faults: Vec<String>,
    pub checks: Vec<(&'static str, Vec<String>)>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|(_, v)| !v.is_empty())
    }

    pub fn print(&self, tally: &Tally, work_dir: &str) {
        println!("nemesis: seed {}, {} nodes, {} s of faults", self.seed, self.nodes, self.duration_s);
        println!("faults:");
        for f in &self.faults {
            println!("  {f}");
        }
        println!(
            "history: transfers {} committed, {} refused, {} unknown; reads {} ok, {} unknown",
            tally.transfers_committed,
            tally.transfers_rejected,
            tally.transfers_unknown,
            tally.reads_ok,
            tally.reads_unknown
        );
        if !tally.unknown_reasons.is_empty() {
            let reasons: Vec<String> = tally.unknown_reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
            println!("unknown outcomes: {}", reasons.join(", "));
        }
        for (name, violations) in &self.checks {
            if violations.is_empty() {
                println!("  PASS {name}");
            } else {
                println!("  FAIL {name}");
                for v in violations {
                    println!("       {v}");
                }
            }
        }
        let inject = self.inject.as_ref().map(|i| format!(" --inject {i}")).unwrap_or_default();
        let replay =
            format!("synod nemesis --nodes {} --duration {} --seed {}{inject}", self.nodes, self.duration_s, self.seed);
        if self.failed() {
            println!("FAILED (seed {}); node logs and data in {work_dir}; replay: {replay}", self.seed);
        } else {
            println!("PASSED (seed {}); replay: {replay}", self.seed);
        }
    }
}
