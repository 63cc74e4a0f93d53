//! NTB Care's domain, in plain Rust.
//!
//! This crate owns every decision about complaints: what a valid submission is, how tickets
//! are numbered, which lifecycle transitions are allowed, which unit is responsible, what is
//! stored under which key and what each reader may see. It must never import spin-sdk,
//! wasmtime or anything else that knows where it runs: components are thin adapters that
//! translate HTTP and store calls into calls of this crate, so everything here is tested
//! natively in seconds.
//!
//! Platform needs are small traits ([`store::KeyValue`], [`clock`]) implemented once for Spin
//! in `ntbcare-platform`, and in memory behind the `test-util` feature.

pub mod answers;
pub mod boundaries;
pub mod calendar;
pub mod casework;
pub mod channels;
pub mod clock;
pub mod complaint;
pub mod conversation;
pub mod delivery;
pub mod directory;
pub mod duplicates;
pub mod hex;
pub mod idempotency;
pub mod intake;
pub mod keys;
pub mod language;
pub mod lapor;
pub mod lifecycle;
pub mod measures;
pub mod notices;
pub mod open311;
pub mod open_index;
pub mod org;
pub mod pseudonym;
pub mod queues;
pub mod ratelimit;
pub mod region;
pub mod replies;
pub mod routing;
pub mod service_standard;
pub mod session;
pub mod sla;
pub mod store;
pub mod summary;
pub mod ticket;
pub mod tracking_code;
pub mod upload;
