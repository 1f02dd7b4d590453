//! The test network: one network namespace per node, each joined by a veth
//! pair to a bridge in the root namespace, on a private /24 (10.77.K.0/24)
//! that exists only inside this machine. The workload runs in the root
//! namespace and reaches the nodes through the bridge. Partitions are
//! policy-routing rules inside a receiving node's namespace
//! (`ip rule add from A blackhole`): A's packets to that node are dropped
//! silently on arrival, as a cut cable would, while its own packets still
//! leave. Only iproute2 is needed.
//!
//! Every name carries the pid of the run (`synod-nem-<pid>-<i>`, bridge
//! `snb<pid>`), so a run cleans up what runs that died left behind without
//! touching a run that is still alive.

use std::net::Ipv4Addr;
use std::process::Command;

use anyhow::{bail, Context};

/// Prefix of every namespace a run creates.
pub const NS_PREFIX: &str = "synod-nem-";
/// Policy-routing priority of partition rules: before the `local` table,
/// which each namespace moves from priority 0 to `LOCAL_RULE_PREF`, so a
/// blackhole rule sees packets addressed to the node itself.
const CUT_PREF: u32 = 10;
const LOCAL_RULE_PREF: u32 = 100;

/// Runs `ip ARGS`; fails with its stderr.
pub fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip").args(args).output().context("running `ip` (install iproute2)")?;
    if !out.status.success() {
        bail!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn ip_output(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("ip").args(args).output().context("running `ip` (install iproute2)")?;
    if !out.status.success() {
        bail!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Root and iproute2 are required; say so plainly otherwise.
pub fn preflight() -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("synod nemesis needs root: it creates network namespaces, veth pairs and a bridge");
    }
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => bail!("synod nemesis needs the `ip` command (iproute2)"),
    }
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Deletes namespaces and bridges of earlier runs whose process is gone.
pub fn clean_stale() -> anyhow::Result<Vec<String>> {
    let mut removed = Vec::new();
    for line in ip_output(&["netns", "list"])?.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(NS_PREFIX) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if !pid_alive(pid) {
            kill_namespace_processes(name);
            ip(&["netns", "del", name])?;
            removed.push(name.to_string());
        }
    }
    for line in ip_output(&["-o", "link", "show", "type", "bridge"])?.lines() {
        let Some(name) = line.split(':').nth(1).map(str::trim) else { continue };
        let Some(pid) = name.strip_prefix("snb").and_then(|p| p.parse::<u32>().ok()) else { continue };
        if !pid_alive(pid) {
            ip(&["link", "del", name])?;
            removed.push(name.to_string());
        }
    }
    Ok(removed)
}

/// SIGKILLs whatever still runs inside namespace `ns` (a node left behind by
/// a run that died), so that deleting the namespace really frees it.
fn kill_namespace_processes(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                // SAFETY: kill has no memory preconditions; the pid is one the kernel listed in that namespace.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// The namespaces, veths and bridge of one run; `Drop` removes them all.
pub struct Network {
    pub bridge: String,
    pub namespaces: Vec<String>,
    pub subnet: u8,
    /// Partition rules in force: (namespace index of the receiver, dropped source address).
    cuts: Vec<(usize, Ipv4Addr)>,
}

impl Network {
    /// The root namespace's address on the bridge (the workload's source).
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.subnet, 1)
    }

    pub fn host_addr(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.subnet, 11 + i as u8)
    }

    /// Creates the bridge and `hosts` namespaces for run `pid`.
    pub fn create(pid: u32, hosts: usize) -> anyhow::Result<Network> {
        let subnet = free_subnet(pid)?;
        let mut net = Network { bridge: format!("snb{pid}"), namespaces: Vec::new(), subnet, cuts: Vec::new() };
        ip(&["link", "add", &net.bridge, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{}/24", net.gateway()), "dev", &net.bridge])?;
        ip(&["link", "set", &net.bridge, "up"])?;
        for i in 0..hosts {
            let ns = format!("{NS_PREFIX}{pid}-{i}");
            ip(&["netns", "add", &ns])?;
            net.namespaces.push(ns.clone());
            let veth = format!("snv{pid}x{i}");
            ip(&["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns])?;
            ip(&["link", "set", &veth, "master", &net.bridge, "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{}/24", net.host_addr(i)), "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["-n", &ns, "rule", "add", "pref", &LOCAL_RULE_PREF.to_string(), "lookup", "local"])?;
            ip(&["-n", &ns, "rule", "del", "pref", "0"])?;
        }
        Ok(net)
    }

    /// Drops every packet from host `from` to host `to` (one direction).
    pub fn cut(&mut self, from: usize, to: usize) -> anyhow::Result<()> {
        let src = self.host_addr(from);
        if self.cuts.contains(&(to, src)) {
            return Ok(());
        }
        let ns = &self.namespaces[to];
        ip(&["-n", ns, "rule", "add", "pref", &CUT_PREF.to_string(), "from", &src.to_string(), "blackhole"])?;
        self.cuts.push((to, src));
        Ok(())
    }

    /// Removes every partition rule.
    pub fn heal(&mut self) -> anyhow::Result<()> {
        while let Some((to, src)) = self.cuts.pop() {
            let ns = &self.namespaces[to];
            ip(&["-n", ns, "rule", "del", "pref", &CUT_PREF.to_string(), "from", &src.to_string(), "blackhole"])?;
        }
        Ok(())
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            kill_namespace_processes(ns);
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("nemesis cleanup: {e}");
            }
        }
        // Deleting a namespace deletes the veth end inside it, and with it the pair.
        if let Err(e) = ip(&["link", "del", &self.bridge]) {
            eprintln!("nemesis cleanup: {e}");
        }
    }
}

/// A third octet no address on this machine uses yet: derived from the pid,
/// so that concurrent runs (parallel tests) pick different ones.
fn free_subnet(pid: u32) -> anyhow::Result<u8> {
    let addrs = ip_output(&["-o", "-4", "addr", "show"])?;
    for step in 0..200u32 {
        let k = (20 + (pid + step) % 200) as u8;
        if !addrs.contains(&format!("10.77.{k}.")) {
            return Ok(k);
        }
    }
    bail!("no free 10.77.K.0/24 subnet on this machine")
}
