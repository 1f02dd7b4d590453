//! Diagnostics on stderr: `SYNOD_LOG` (wins when set) or `RUST_LOG` pick what
//! is logged, in tracing's filter syntax (`info`, `synod_node=debug,warn`);
//! without either, the node commands (`synod node`, `synod dev`) log at info
//! (what a node does: elections, peers lost and regained, snapshots, ...) and
//! the client commands at warn. Colour only when stderr is a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `--log-format`: lines for people, or one JSON object per line for log shippers.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The variables read, in order of precedence.
pub const LOG_ENV_VARS: [&str; 2] = ["SYNOD_LOG", "RUST_LOG"];

/// The filter text and where it came from: the first of `LOG_ENV_VARS` that
/// is set and not empty, else `default_level`.
pub fn filter_text(var: impl Fn(&str) -> Option<String>, default_level: &str) -> (String, &'static str) {
    for name in LOG_ENV_VARS {
        if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
            return (value, name);
        }
    }
    (default_level.to_string(), "default")
}

pub fn init(default_level: &str, format: LogFormat) {
    let (text, source) = filter_text(|name| std::env::var(name).ok(), default_level);
    let (filter, bad) = match EnvFilter::try_new(&text) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new(default_level), Some(e)),
    };
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(ansi).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
    if let Some(e) = bad {
        tracing::warn!("{source}={text:?} is not a log filter ({e}); logging at {default_level}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn synod_log_wins_over_rust_log_and_both_over_the_default() {
        assert_eq!(filter_text(env(&[]), "info"), ("info".into(), "default"));
        assert_eq!(filter_text(env(&[("RUST_LOG", "debug")]), "info"), ("debug".into(), "RUST_LOG"));
        assert_eq!(
            filter_text(env(&[("RUST_LOG", "debug"), ("SYNOD_LOG", "warn")]), "info"),
            ("warn".into(), "SYNOD_LOG")
        );
        // An empty variable counts as unset.
        assert_eq!(filter_text(env(&[("SYNOD_LOG", " "), ("RUST_LOG", "error")]), "info").0, "error");
    }
}
