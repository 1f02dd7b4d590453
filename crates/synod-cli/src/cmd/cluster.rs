//! `synod cluster members|add|remove|replace`: online membership change
//! through `GET`/`POST /v1/cluster/members` (docs/DEPLOY.md, "Replacing a
//! dead member"). A change runs on the leader; these commands start it and,
//! unless `--no-wait`, follow it until it is done or failed.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use super::{runtime, ClientOpts};

/// How long `add` and `replace` follow a change: a learner has
/// `CATCH_UP_TIMEOUT_MS` (300 s) on the leader to catch up, plus the removal.
const FOLLOW_TIMEOUT_SECS: u64 = 330;
const POLL_MS: u64 = 250;

#[derive(clap::Subcommand)]
pub enum ClusterCommand {
    /// Show the members, their addresses, the leader and the last change.
    Members(MembersArgs),
    /// Add a node started with `join = true`: it catches up as a learner,
    /// then the leader makes it a member.
    Add(AddArgs),
    /// Remove a member (at least 3 remain).
    Remove(RemoveArgs),
    /// Add a new node (started with `join = true`), then remove an old one.
    Replace(ReplaceArgs),
}

#[derive(clap::Args)]
pub struct MembersArgs {
    #[command(flatten)]
    pub opts: ClientOpts,
}

#[derive(clap::Args)]
pub struct NewMember {
    /// The new member's node id (its certificate: `synod certs issue --node ID`).
    #[arg(long)]
    pub id: u8,
    /// Where the new member's peer port listens, as the others reach it.
    #[arg(long, value_name = "HOST:PORT")]
    pub peer_addr: SocketAddr,
    /// Where the new member's HTTP API listens, as the others reach it.
    #[arg(long, value_name = "HOST:PORT")]
    pub http_addr: SocketAddr,
}

#[derive(clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub member: NewMember,
    /// Answer once the change started instead of following it.
    #[arg(long)]
    pub no_wait: bool,
    #[command(flatten)]
    pub opts: ClientOpts,
}

#[derive(clap::Args)]
pub struct RemoveArgs {
    /// The member to remove.
    #[arg(long)]
    pub id: u8,
    /// Answer once the change started instead of following it.
    #[arg(long)]
    pub no_wait: bool,
    #[command(flatten)]
    pub opts: ClientOpts,
}

#[derive(clap::Args)]
pub struct ReplaceArgs {
    /// The member to remove once the new one is in.
    #[arg(long)]
    pub replaces: u8,
    #[command(flatten)]
    pub member: NewMember,
    /// Answer once the change started instead of following it.
    #[arg(long)]
    pub no_wait: bool,
    #[command(flatten)]
    pub opts: ClientOpts,
}

pub fn run(command: ClusterCommand) -> anyhow::Result<ExitCode> {
    match command {
        ClusterCommand::Members(a) => members(a),
        ClusterCommand::Add(a) => {
            let m = &a.member;
            let body = json!({"action": "add", "node": m.id, "peer_addr": m.peer_addr, "http_addr": m.http_addr});
            change(&a.opts, body, Expect { present: Some(m.id), absent: None }, a.no_wait)
        }
        ClusterCommand::Remove(a) => {
            let body = json!({"action": "remove", "node": a.id});
            change(&a.opts, body, Expect { present: None, absent: Some(a.id) }, a.no_wait)
        }
        ClusterCommand::Replace(a) => {
            let m = &a.member;
            let body = json!({
                "action": "replace", "node": m.id, "peer_addr": m.peer_addr, "http_addr": m.http_addr,
                "replaces": a.replaces,
            });
            change(&a.opts, body, Expect { present: Some(m.id), absent: Some(a.replaces) }, a.no_wait)
        }
    }
}

fn members(a: MembersArgs) -> anyhow::Result<ExitCode> {
    let v = runtime().block_on(a.opts.client()?.get_json("/v1/cluster/members"))?;
    if a.opts.json {
        crate::output::json(&v);
    } else {
        print_members(&v);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_members(v: &Value) {
    println!("members {}  (chosen at log slot {})  leader {}", v["members"], v["slot"], v["leader"]);
    for a in v["addresses"].as_array().into_iter().flatten() {
        let id = &a["id"];
        let role = match v["members"].as_array() {
            Some(m) if m.contains(id) => "member",
            _ => "known",
        };
        println!("  node {id}: {role}  peer {}  http {}", text(&a["peer_addr"]), text(&a["http_addr"]));
    }
    if let Some(c) = v.get("change").filter(|c| !c.is_null()) {
        println!("last change: add {} remove {}: {}{}", c["add"], c["remove"], text(&c["state"]), error_suffix(c));
    }
}

fn error_suffix(change: &Value) -> String {
    match change.get("error").filter(|e| !e.is_null()) {
        Some(e) => format!(" ({}: {})", text(&e["code"]), text(&e["message"])),
        None => String::new(),
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The members a finished change leaves.
struct Expect {
    present: Option<u8>,
    absent: Option<u8>,
}

impl Expect {
    fn met(&self, members: &Value) -> bool {
        let has = |id: u8| members.as_array().is_some_and(|m| m.iter().any(|v| v.as_u64() == Some(u64::from(id))));
        self.present.is_none_or(has) && self.absent.is_none_or(|id| !has(id))
    }
}

/// Starts a change, then follows it on the leader until it is done or failed.
fn change(opts: &ClientOpts, body: Value, expect: Expect, no_wait: bool) -> anyhow::Result<ExitCode> {
    let client = opts.client()?;
    let rt = runtime();
    let started = rt.block_on(client.post_json("/v1/cluster/members", &body))?;
    if no_wait {
        if opts.json {
            crate::output::json(&started);
        } else {
            println!("change started: {}", text(&started["state"]));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let deadline = Instant::now() + Duration::from_secs(FOLLOW_TIMEOUT_SECS);
    let mut last_state = String::new();
    loop {
        std::thread::sleep(Duration::from_millis(POLL_MS));
        let v = match rt.block_on(client.get_json("/v1/cluster/members")) {
            Ok(v) => v,
            // A removed leader steps down: the next GET finds the new one.
            Err(e) if e.is_retryable() && Instant::now() < deadline => continue,
            Err(e) => return Err(e).context("following the membership change"),
        };
        let change = &v["change"];
        let state = text(&change["state"]);
        if !opts.json && state != last_state {
            eprintln!("change: {state}");
            last_state = state.clone();
        }
        // A leader that removed itself hands over: the new leader did not
        // run the change, but the members show it done.
        let done = state == "done" || (expect.met(&v["members"]) && state != "failed");
        match state.as_str() {
            _ if done => {
                if opts.json {
                    crate::output::json(&v);
                } else {
                    print_members(&v);
                }
                return Ok(ExitCode::SUCCESS);
            }
            "failed" => bail!("membership change failed{}", error_suffix(change)),
            // A new leader that did not run the change shows none (or an
            // older one): the change was abandoned or finished there.
            _ if change.is_null() => {
                bail!("the leader changed while the change ran; check `synod cluster members` and retry")
            }
            _ => {}
        }
        if Instant::now() >= deadline {
            bail!("the change did not finish within {FOLLOW_TIMEOUT_SECS} s (last state {state})");
        }
    }
}
