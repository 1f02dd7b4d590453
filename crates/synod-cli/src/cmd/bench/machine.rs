//! The machine a run was measured on, reported with every result.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// `model name` from /proc/cpuinfo (what `lscpu | grep 'Model name'` shows).
    pub cpu_model: String,
    /// CPUs this process may use (`nproc`).
    pub cpus: usize,
    /// 1, 5 and 15 minute load averages at the start (other processes may be running).
    pub load_average: [f64; 3],
    /// True when the node ran on this machine (in this process with --dev, or at a
    /// loopback address): the load generator and the node then share these CPUs.
    pub generator_shares_cpus_with_node: bool,
}

impl Machine {
    pub fn read(node_on_this_machine: bool) -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let mut load_average = [0.0; 3];
        if let Ok(t) = std::fs::read_to_string("/proc/loadavg") {
            for (slot, v) in load_average.iter_mut().zip(t.split_whitespace()) {
                *slot = v.parse().unwrap_or(0.0);
            }
        }
        Machine {
            cpu_model,
            cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            load_average,
            generator_shares_cpus_with_node: node_on_this_machine,
        }
    }
}

/// Whether every URL names this machine (a loopback address or localhost).
pub fn all_local(urls: &[String]) -> bool {
    urls.iter().all(|u| {
        let rest = u.split("://").nth(1).unwrap_or(u);
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    })
}
