//! The Spin side of NTB Care: adapters of the domain's ports and the HTTP plumbing every
//! component shares.
//!
//! This is the only library that knows about spin-sdk. Components use it to open stores
//! ([`SpinStore`] implements the domain's `KeyValue` port over Spin's key-value interface and
//! `wasi:keyvalue` atomics and batch, on the same data), read variables, call another
//! function through the contract, and turn domain errors into HTTP answers in exactly one
//! way ([`ApiError`]).

pub mod auth;
pub mod data;
pub mod html;
pub mod http;
pub mod store;

pub use http::{ApiError, ApiResult};
pub use store::SpinStore;

use ntbcare_domain::clock::{Clock, Timestamp};

/// The host's wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(since.as_millis() as i64)
    }
}

/// A Spin variable, or an internal error naming it.
pub fn variable(name: &str) -> Result<String, ApiError> {
    spin_sdk::variables::get(name).map_err(|e| ApiError::internal(format!("variable `{name}`: {e}")))
}

/// `n` bytes from the host's secure random source.
pub fn random_bytes(n: u64) -> Vec<u8> {
    wasi::random::random::get_random_bytes(n)
}

/// `n` bytes from the host's secure random source, as lowercase hex.
pub fn random_hex(n: u64) -> String {
    ntbcare_domain::hex::encode(&random_bytes(n))
}
