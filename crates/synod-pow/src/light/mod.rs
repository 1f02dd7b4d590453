//! A proof-of-work light client's core (Bitcoin's simplified payment
//! verification, whitepaper §8): headers only, from any source, each
//! validated fully against its ancestors, and the chain with the most work
//! chosen. Sans-IO: the caller passes headers and its clock in.

mod error;
mod store;

pub use error::{AcceptHeaderError, LoadHeadersError};
pub use store::{Accepted, HeaderEntry, HeaderStore, HEADERS_MAX_DEFAULT};
