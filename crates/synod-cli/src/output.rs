//! Printing: `--json` prints exactly one JSON object on stdout; otherwise a
//! short human summary.

use serde::Serialize;

pub fn json<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("output serialises"));
}
