//! `synod status` for a Multi-Paxos member: the `cluster` object of
//! `/v1/status` (PROTOCOL 6) as a short summary and one row per peer. The
//! node's JSON is read leniently: a missing field prints as `-`, never panics.

use std::fmt::Write;

use serde_json::Value;

use crate::output::duration;

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The summary lines and peer table of a member's `cluster` status.
pub fn cluster(c: &Value) -> String {
    let mut out = String::new();
    let node = text(&c["node_id"]);
    let leader = match &c["leader"] {
        Value::Null => "none known (election in progress?)".to_string(),
        l if *l == c["node_id"] => format!("{} (this node)", text(l)),
        l => text(l),
    };
    let members = c["config"]["members"]
        .as_array()
        .map(|m| m.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|| "-".to_string());
    let _ = writeln!(out, "node {node}  role {}  leader {leader}  ballot {}", text(&c["role"]), text(&c["ballot"]));
    let _ = writeln!(out, "members {members}");
    let (commit, applied) = (c["commit_index"].as_u64(), c["applied_index"].as_u64());
    let lag = match (commit, applied) {
        (Some(commit), Some(applied)) => commit.saturating_sub(applied).to_string(),
        _ => "-".to_string(),
    };
    let _ = writeln!(
        out,
        "commit index {}  applied index {}  (applying lags commit by {lag})  compacted up to {}",
        text(&c["commit_index"]),
        text(&c["applied_index"]),
        text(&c["compacted_upto"])
    );
    if c["role"] == "leader" {
        let _ = writeln!(out, "LAG: the leader's commit index minus the one each peer last acknowledged");
    }
    if let Some(slot) = c["installing"].as_u64() {
        let _ = writeln!(out, "installing a snapshot at slot {slot}");
    }
    let empty = serde_json::Map::new();
    let peers = c["peers"].as_object().unwrap_or(&empty);
    // Every other member gets a row, even before the node has link stats for it.
    let mut ids: Vec<String> = peers.keys().cloned().collect();
    for m in c["config"]["members"].as_array().into_iter().flatten() {
        let id = text(m);
        if *m != c["node_id"] && !ids.contains(&id) {
            ids.push(id);
        }
    }
    let _ = writeln!(
        out,
        "{:<6} {:<12} {:<14} {:>10} {:>8} {:>8} {:>10}",
        "PEER", "LINK", "LAST HEARD", "LAG", "QUEUED", "DROPPED", "RECONNECTS"
    );
    ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.clone()));
    for id in ids {
        let p = peers.get(&id).unwrap_or(&Value::Null);
        let link = if p.is_null() {
            "no data yet"
        } else if p["lost"] == true {
            "LOST"
        } else if p["connected"] == true {
            "connected"
        } else {
            "connecting"
        };
        let heard =
            p["last_heard_ms_ago"].as_u64().map_or_else(|| "never".to_string(), |ms| format!("{} ago", duration(ms)));
        // Only a leader knows its peers' commit indexes; elsewhere `-`.
        let lag = match (p["lag"].as_u64(), p.get("commit_index")) {
            (Some(lag), _) => format!("{lag} slots"),
            (None, Some(Value::Null)) => "not heard".to_string(),
            _ => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<6} {:<12} {:<14} {:>10} {:>8} {:>8} {:>10}",
            id,
            link,
            heard,
            lag,
            text(&p["queued"]),
            text(&p["dropped"]),
            text(&p["reconnects"])
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_status_reads_as_a_table() {
        let c = serde_json::json!({
            "node_id": 1, "role": "leader", "ballot": "3.1", "leader": 1,
            "commit_index": 40, "applied_index": 38, "compacted_upto": 0, "installing": null,
            "config": {"members": [1, 2, 3], "slot": 0},
            "peers": {
                "3": {"connected": false, "lost": true, "last_heard_ms_ago": 12_500, "queued": 5, "dropped": 0, "reconnects": 3,
                      "commit_index": null, "lag": null},
                "2": {"connected": true, "lost": false, "last_heard_ms_ago": 120, "queued": 0, "dropped": 0, "reconnects": 0,
                      "commit_index": 33, "lag": 7}
            }
        });
        let out = cluster(&c);
        assert!(out.contains("leader 1 (this node)"), "{out}");
        assert!(out.contains("members 1, 2, 3"), "{out}");
        assert!(out.contains("lags commit by 2"), "{out}");
        let rows: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("PEER")).skip(1).collect();
        assert_eq!(rows.len(), 2, "{out}");
        assert!(rows[0].starts_with("2 ") && rows[0].contains("connected") && rows[0].contains("120 ms ago"), "{out}");
        assert!(rows[0].contains("7 slots"), "{out}");
        assert!(rows[1].starts_with("3 ") && rows[1].contains("LOST") && rows[1].contains("12 s ago"), "{out}");
        assert!(rows[1].contains("not heard"), "{out}");
    }

    #[test]
    fn missing_fields_print_as_dashes() {
        let out = cluster(&serde_json::json!({"peers": {"2": {}}}));
        assert!(out.contains("leader none known"), "{out}");
        assert!(out.contains("never"), "{out}");
        // A member without link stats yet still gets its row.
        let out = cluster(&serde_json::json!({"node_id": 1, "config": {"members": [1, 2, 3]}, "peers": {}}));
        assert_eq!(out.matches("no data yet").count(), 2, "{out}");
    }
}
