//! Invariant checks, one per file, each citing where it comes from. The
//! online checks run on every `Apply`; the others run at the end of a seed.

pub mod agreement;
pub mod durability;
pub mod integrity;
pub mod linearizability;
pub mod liveness;
pub mod promise;
pub mod validity;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub check: &'static str,
    pub detail: String,
}

impl Violation {
    pub fn new(check: &'static str, detail: String) -> Violation {
        Violation { check, detail }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}
