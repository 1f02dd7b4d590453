// A reader of the Prometheus text format 0.0.4, strict enough to catch what
// promtool catches: families without HELP or TYPE, counters not named
// `_total`, samples outside any declared family, OpenMetrics-only lines.
#![allow(dead_code)]

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Family {
    pub help: Option<String>,
    pub kind: Option<String>,
    /// (sample name with labels, value)
    pub samples: Vec<(String, f64)>,
}

/// Parses `text` into families by name; panics with the offending line on
/// anything 0.0.4 does not allow.
pub fn parse(text: &str) -> BTreeMap<String, Family> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or_else(|| panic!("HELP without text: {line}"));
            let f = families.entry(name.into()).or_default();
            assert!(f.help.is_none(), "second HELP: {line}");
            f.help = Some(help.into());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("TYPE without type: {line}"));
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
            let f = families.entry(name.into()).or_default();
            assert!(f.kind.is_none(), "second TYPE: {line}");
            assert!(f.samples.is_empty(), "TYPE after samples: {line}");
            f.kind = Some(kind.into());
        } else {
            assert!(!line.starts_with('#'), "not a 0.0.4 line: {line}");
            if line.is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("sample without value: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
            let name = series.split('{').next().unwrap();
            let family = [
                name,
                name.trim_end_matches("_bucket"),
                name.trim_end_matches("_sum"),
                name.trim_end_matches("_count"),
            ]
            .into_iter()
            .find(|f| families.contains_key(*f))
            .unwrap_or_else(|| panic!("sample outside any declared family: {line}"));
            families.get_mut(family).unwrap().samples.push((series.into(), value));
        }
    }
    for (name, f) in &families {
        assert!(f.help.as_deref().is_some_and(|h| !h.trim().is_empty()), "{name} has no help text");
        let kind = f.kind.as_deref().unwrap_or_else(|| panic!("{name} has no TYPE"));
        assert_eq!(kind == "counter", name.ends_with("_total"), "{name}: counters, and only they, end in _total");
    }
    families
}

/// Asserts that every family in `must_count` is present and typed counter.
pub fn assert_counters(families: &BTreeMap<String, Family>, must_count: &[&str]) {
    for name in must_count {
        let f = families.get(*name).unwrap_or_else(|| panic!("no family {name}"));
        assert_eq!(f.kind.as_deref(), Some("counter"), "{name}");
    }
}
