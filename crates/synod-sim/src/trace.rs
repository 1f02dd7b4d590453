//! Trace lines and the run fingerprint.
//!
//! Every processed event folds into a 64-bit FNV-1a fingerprint whether or
//! not tracing is on; with tracing on, a line per event is kept too. Same
//! seed, same options ⇒ same fingerprint and same lines.

#[derive(Debug, Default)]
pub struct Trace {
    pub enabled: bool,
    pub lines: Vec<String>,
    hash: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

impl Trace {
    pub fn new(enabled: bool) -> Trace {
        Trace { enabled, lines: Vec::new(), hash: FNV_OFFSET }
    }

    pub fn fold(&mut self, value: u64) {
        for byte in value.to_le_bytes() {
            self.hash ^= u64::from(byte);
            self.hash = self.hash.wrapping_mul(FNV_PRIME);
        }
    }

    /// Records a line; `line` is only built when tracing is on.
    pub fn line(&mut self, now_ms: u64, line: impl FnOnce() -> String) {
        if self.enabled {
            let text = format!("{now_ms:>7} {}", line());
            for byte in text.bytes() {
                self.hash ^= u64::from(byte);
                self.hash = self.hash.wrapping_mul(FNV_PRIME);
            }
            self.lines.push(text);
        }
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }
}
