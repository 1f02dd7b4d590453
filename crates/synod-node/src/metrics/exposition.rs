//! The two text formats `GET /metrics` serves, chosen by the `Accept` header.
//!
//! prometheus-client writes OpenMetrics 1.0. A scraper that asks for it
//! (`Accept: application/openmetrics-text`, as Prometheus itself does) gets
//! it unchanged. Everyone else (curl, `promtool check metrics`, older
//! scrapers) gets the Prometheus text format 0.0.4, rewritten from it here,
//! because the two disagree on counters: OpenMetrics names the family `x`
//! (`# TYPE x counter`) and its sample `x_total`, while 0.0.4 parsers expect
//! the family and sample to share the name `x_total`, and read an OpenMetrics
//! counter as an untyped metric without help text.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// True when the `Accept` header lists OpenMetrics with a non-zero quality.
pub fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    })
}

/// The `/metrics` answer for the request's `Accept` header, from the
/// registry's OpenMetrics encoding.
pub fn respond(headers: &HeaderMap, openmetrics: String) -> Response {
    if wants_openmetrics(headers) {
        ([(CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)], openmetrics).into_response()
    } else {
        ([(CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)], to_prometheus_text(&openmetrics)).into_response()
    }
}

/// Rewrites OpenMetrics text as prometheus-client writes it (counters, gauges,
/// histograms, no exemplars) into the Prometheus text format 0.0.4:
/// counter families take their samples' `_total` name, `unknown` becomes
/// `untyped`, `# UNIT` and `# EOF` (unknown to 0.0.4) are dropped, and so are
/// counters' `_created` samples. Every other line is the same in both formats.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ").or_else(|| line.strip_prefix("# TYPE ")) {
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            let keyword = &line[..7];
            let tail = if keyword == "# TYPE " && tail == "unknown" { "untyped" } else { tail };
            let suffix = if counters.contains(name) { "_total" } else { "" };
            out.push_str(&format!("{keyword}{name}{suffix} {tail}\n"));
            continue;
        }
        let sample_name = line.split(['{', ' ']).next().unwrap_or("");
        if sample_name.strip_suffix("_created").is_some_and(|family| counters.contains(family)) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENMETRICS: &str = "# HELP p_blocks Blocks.\n# TYPE p_blocks counter\np_blocks_total 3\n\
        p_blocks_created 1.0\n# HELP p_tip Tip.\n# TYPE p_tip gauge\np_tip 7\n\
        # HELP p_fsync_seconds Fsync.\n# TYPE p_fsync_seconds histogram\n# UNIT p_fsync_seconds seconds\n\
        p_fsync_seconds_sum 0.5\np_fsync_seconds_count 1\np_fsync_seconds_bucket{le=\"+Inf\"} 1\n\
        # HELP p_odd Odd.\n# TYPE p_odd unknown\np_odd 1\n# EOF\n";

    #[test]
    fn counters_take_the_total_name_and_openmetrics_only_lines_go() {
        let text = to_prometheus_text(OPENMETRICS);
        assert_eq!(
            text,
            "# HELP p_blocks_total Blocks.\n# TYPE p_blocks_total counter\np_blocks_total 3\n\
             # HELP p_tip Tip.\n# TYPE p_tip gauge\np_tip 7\n\
             # HELP p_fsync_seconds Fsync.\n# TYPE p_fsync_seconds histogram\n\
             p_fsync_seconds_sum 0.5\np_fsync_seconds_count 1\np_fsync_seconds_bucket{le=\"+Inf\"} 1\n\
             # HELP p_odd Odd.\n# TYPE p_odd untyped\np_odd 1\n"
        );
    }

    #[test]
    fn openmetrics_only_when_asked_for() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT, accept.parse().unwrap());
            wants_openmetrics(&h)
        };
        assert!(!wants_openmetrics(&HeaderMap::new()));
        assert!(!with("*/*"));
        assert!(!with("text/plain;version=0.0.4"));
        assert!(with("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assert!(!with("application/openmetrics-text; q=0, text/plain"));
    }
}
