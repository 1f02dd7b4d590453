//! `synod light`: a proof-of-work light client. It keeps its own header
//! store (see [`super::light_dir`]), follows headers from several nodes,
//! validates every header fully (retargets, median time past, proof of work,
//! version, future time) and keeps the chain with the most work, so a node
//! that mined a cheap private branch cannot pass it off as the chain.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use synod_pow::light::{AcceptHeaderError, Accepted, HeaderStore};
use synod_pow::{BlockHash, Header};

use super::light_dir::{now_secs, LightDir, Network};

/// Headers asked for per request (the node's `/v1/headers` maximum).
const HEADERS_PER_REQUEST: u64 = 2_000;

#[derive(clap::Subcommand)]
pub enum LightCommand {
    /// Create a light client directory for the network a node config names:
    /// its genesis file and its [pow] chain parameters (not a node's word).
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// A proof-of-work node's TOML config (as `synod dev --consensus pow` writes).
        #[arg(long)]
        config: PathBuf,
    },
    /// Download, validate and keep the most-work chain from every --node;
    /// report each node's tip and whether it is on the best chain.
    Sync {
        #[arg(long)]
        dir: PathBuf,
        /// Node URL; repeat for several.
        #[arg(long = "node", required = true)]
        nodes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// The best chain the light client holds.
    Status {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(c: LightCommand) -> anyhow::Result<ExitCode> {
    match c {
        LightCommand::Init { dir, config } => init(&dir, &config),
        LightCommand::Sync { dir, nodes, json } => super::runtime().block_on(sync(&dir, &nodes, json)),
        LightCommand::Status { dir, json } => status(&dir, json),
    }
}

fn init(dir: &std::path::Path, config_path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = synod_node::NodeConfig::load(config_path)?;
    let chain = config.pow.as_ref().context("the config has no [pow] section: not a proof-of-work node")?.chain.clone();
    let mut genesis_path = config.genesis.clone();
    if genesis_path.is_relative() && !genesis_path.exists() {
        if let Some(parent) = config_path.parent() {
            genesis_path = parent.join(genesis_path);
        }
    }
    let genesis = synod_node::node::read_genesis(&genesis_path)
        .map_err(|e| anyhow::anyhow!("genesis {}: {e}", genesis_path.display()))?;
    let light = LightDir::init(dir, Network { genesis, chain })?;
    println!(
        "light client for chain identity {} in {} (genesis {})",
        hex::encode(light.identity),
        dir.display(),
        light.genesis_header.block_hash()
    );
    Ok(ExitCode::SUCCESS)
}

fn best_json(store: &HeaderStore) -> Value {
    let b = store.best();
    json!({ "height": b.height, "hash": b.hash.to_string(), "chain_work": b.chain_work.to_string(), "headers": store.len() })
}

fn status(dir: &std::path::Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let light = LightDir::load(dir)?;
    let best = best_json(&light.store);
    if as_json {
        crate::output::json(&json!({ "chain_identity": hex::encode(light.identity), "best": best }));
    } else {
        println!("chain identity {}", hex::encode(light.identity));
        println!("best  height {} {}", best["height"], light.store.best().hash);
        println!("      chain work {}", light.store.best().chain_work);
        println!("      {} headers held (all branches, at most {})", light.store.len(), light.store.headers_max());
    }
    Ok(ExitCode::SUCCESS)
}

/// What one node showed.
struct NodeReport {
    url: String,
    tip_height: Option<u64>,
    tip_hash: Option<String>,
    accepted: u64,
    error: Option<String>,
}

async fn sync(dir: &std::path::Path, nodes: &[String], as_json: bool) -> anyhow::Result<ExitCode> {
    for url in nodes {
        super::check_node_url(url)?;
    }
    let mut light = LightDir::load(dir)?;
    let mut reports = Vec::new();
    for url in nodes {
        let client = synod_node::Client::new(vec![url.clone()]);
        let mut r = NodeReport { url: url.clone(), tip_height: None, tip_hash: None, accepted: 0, error: None };
        if let Err(e) = follow(&client, &mut light, &mut r).await {
            r.error = Some(format!("{e:#}"));
        }
        reports.push(r);
    }
    light.save()?;
    let store = &light.store;
    let rows: Vec<Value> = reports
        .iter()
        .map(|r| {
            let on_best =
                r.tip_hash.as_deref().and_then(|h| h.parse::<BlockHash>().ok()).map(|h| store.is_on_best_chain(&h));
            json!({
                "node": r.url, "tip_height": r.tip_height, "tip_hash": r.tip_hash,
                "headers_accepted": r.accepted, "on_best_chain": on_best.unwrap_or(false), "error": r.error,
            })
        })
        .collect();
    if as_json {
        crate::output::json(&json!({ "best": best_json(store), "nodes": rows }));
    } else {
        println!("best  height {} {}  chain work {}", store.best().height, store.best().hash, store.best().chain_work);
        for row in &rows {
            let verdict = match (&row["error"], row["on_best_chain"].as_bool()) {
                (Value::String(e), _) => format!("REFUSED: {e}"),
                (_, Some(true)) => "on the best chain".to_string(),
                _ => "NOT on the best chain (less work)".to_string(),
            };
            println!(
                "  {}  tip {} {}  +{} headers  {verdict}",
                super::pow_client::json_text(&row["node"]),
                row["tip_height"],
                super::pow_client::json_text(&row["tip_hash"]),
                row["headers_accepted"]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn headers(client: &synod_node::Client, from: u64, count: u64) -> anyhow::Result<(Vec<Header>, Value)> {
    let v = client.get_json(&format!("/v1/headers?from={from}&count={count}")).await?;
    let list = v["headers"].as_array().context("the node's /v1/headers answer has no headers list")?;
    if list.len() as u64 > count {
        bail!("the node sent {} headers, more than the {count} asked for", list.len());
    }
    let mut out = Vec::with_capacity(list.len());
    for h in list {
        let bytes = hex::decode(h.as_str().unwrap_or_default()).context("a header is not hex")?;
        out.push(Header::parse(&bytes)?);
    }
    Ok((out, v))
}

/// Checks the node is on our network, finds where its chain leaves what we
/// hold, and downloads and validates from there to its tip.
async fn follow(client: &synod_node::Client, light: &mut LightDir, r: &mut NodeReport) -> anyhow::Result<()> {
    let status = client.get_json("/v1/status").await?;
    let identity = super::pow_client::json_text(&status["pow"]["chain_identity"]);
    if identity != hex::encode(light.identity) {
        bail!("chain identity {identity} is not this light client's {}", hex::encode(light.identity));
    }
    let (g, v) = headers(client, 0, 1).await?;
    if g.first() != Some(&light.genesis_header) {
        bail!("its block 0 is not the network's genesis header");
    }
    let tip_height = v["tip_height"].as_u64().context("no tip_height")?;
    // Fork point: the highest height, stepping back exponentially from the
    // lower of the two tips, at which the node's header is one we hold.
    let mut h = tip_height.min(light.store.best().height);
    let mut step = 1u64;
    let fork = loop {
        if h == 0 {
            break 0;
        }
        let (one, _) = headers(client, h, 1).await?;
        match one.first() {
            Some(hd) if light.store.get(&hd.block_hash()).is_some() => break h,
            _ => {
                h = h.saturating_sub(step);
                step = step.saturating_mul(2);
            }
        }
    };
    let mut from = fork + 1;
    let now = now_secs();
    // Every request either ends the sync or moves `from` up by up to 2,000;
    // a node serving headers we already hold (or valid headers without end)
    // is cut off once it could have filled the store.
    let requests_max = (light.store.headers_max() as u64).div_ceil(HEADERS_PER_REQUEST) + 1;
    for request in 0.. {
        if request == requests_max {
            bail!("still sending headers after {requests_max} requests; stopped");
        }
        let (batch, v) = headers(client, from, HEADERS_PER_REQUEST).await?;
        r.tip_height = v["tip_height"].as_u64();
        r.tip_hash = v["tip_hash"].as_str().map(str::to_string);
        if batch.is_empty() {
            break;
        }
        for (i, hd) in batch.iter().enumerate() {
            match light.store.accept(*hd, now) {
                Ok(Accepted::AlreadyKnown) => {}
                Ok(_) => r.accepted += 1,
                Err(e @ AcceptHeaderError::UnknownParent { .. }) => {
                    bail!("header at height {}: {e} (did its chain move during the sync? sync again)", from + i as u64)
                }
                Err(e) => bail!("sent an invalid header at height {}: {e}", from + i as u64),
            }
        }
        from = from.checked_add(batch.len() as u64).context("height overflow")?;
    }
    Ok(())
}
