//! How a failed command ends: its exit code (0 ok, 1 rejected or invalid,
//! 2 usage or unreachable) and, with `--json`, one JSON object on stdout
//! `{"code", "message"}` shaped like the node's own error bodies.

use synod_node::ClientError;

/// A mistake in how the command was called that clap cannot see (a `--node`
/// without a scheme, a flag that needs another mode): exit 2, like clap's own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub exit_code: u8,
    pub code: String,
}

pub const EXIT_REJECTED: u8 = 1;
pub const EXIT_USAGE_OR_UNREACHABLE: u8 = 2;

/// The exit code and stable code of an error, from the first typed cause in its chain.
pub fn classify(e: &anyhow::Error) -> Failure {
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<ClientError>() {
            return match c {
                ClientError::Unreachable { .. } => failure(EXIT_USAGE_OR_UNREACHABLE, "unreachable"),
                // 503 after the client's retries: no node could serve it (no quorum, no leader, overloaded).
                ClientError::Api { status: 503, body } => failure(EXIT_USAGE_OR_UNREACHABLE, &body.code),
                ClientError::Api { body, .. } => failure(EXIT_REJECTED, &body.code),
                ClientError::BadResponse { .. } => failure(EXIT_REJECTED, "bad_response"),
            };
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return failure(EXIT_USAGE_OR_UNREACHABLE, "usage");
        }
    }
    failure(EXIT_REJECTED, "failed")
}

fn failure(exit_code: u8, code: &str) -> Failure {
    Failure { exit_code, code: code.to_string() }
}

/// Whether the command line asks for JSON output (before `--`, which ends options).
pub fn json_requested(args: impl IntoIterator<Item = String>) -> bool {
    args.into_iter().take_while(|a| a != "--").any(|a| a == "--json")
}

/// The one JSON object a failed `--json` command prints on stdout.
pub fn json_object(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "code": code, "message": message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_node::api::error::ErrorBody;

    fn api(status: u16, code: &str) -> anyhow::Error {
        let body = ErrorBody { code: code.into(), message: "m".into(), id: None };
        anyhow::Error::new(ClientError::Api { status, body }).context("asking the node")
    }

    #[test]
    fn exit_codes_follow_the_documented_rule() {
        let unreachable = ClientError::Unreachable { url: "u".into(), detail: "d".into(), connect: true };
        assert_eq!(classify(&anyhow::Error::new(unreachable)), failure(2, "unreachable"));
        assert_eq!(classify(&api(503, "not_leader")), failure(2, "not_leader"));
        assert_eq!(classify(&api(422, "insufficient_funds")), failure(1, "insufficient_funds"));
        assert_eq!(classify(&anyhow::Error::new(UsageError("no scheme".into()))), failure(2, "usage"));
        assert_eq!(classify(&anyhow::anyhow!("inclusion proof does NOT verify")), failure(1, "failed"));
    }

    #[test]
    fn json_is_an_option_only_before_double_dash() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(json_requested(args(&["synod", "head", "--json"])));
        assert!(!json_requested(args(&["synod", "head"])));
        assert!(!json_requested(args(&["synod", "sim", "--", "--json"])));
    }
}
