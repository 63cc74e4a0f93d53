//! Exactly-once intake: a request, message or partner record is claimed by a key before
//! anything is written, and the complaint it became is recorded under the key afterwards.
//!
//! A retry finds the recorded complaint and gets the same answer; a retry racing the first
//! attempt is told to come back; a claim whose attempt crashed is taken over once it is
//! clearly stale, by exactly one retry.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::store::{get_json, KeyValue, StoreError};
use crate::ticket::Ticket;

/// After this long without its result, a claimed attempt is taken to have crashed.
pub const CLAIM_TIMEOUT_MS: i64 = 2 * 60 * 1000;

/// Whether this attempt is the one to process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Process it.
    First,
    /// Already processed: it became this complaint.
    Done(Ticket),
    /// Another attempt is processing it right now: ask the caller to retry later.
    InFlight,
}

#[derive(Serialize, Deserialize)]
struct Started {
    at: Timestamp,
}

/// The keys of one idempotency scope (`inbound/whatsapp`, `idempotency/web`, …).
pub struct Scope<'a> {
    pub name: &'a str,
    pub key: &'a str,
}

impl Scope<'_> {
    fn done_key(&self) -> String {
        format!("{}/{}", self.name, self.key)
    }
    fn claim_key(&self) -> String {
        format!("claim/{}/{}", self.name, self.key)
    }
    fn started_key(&self) -> String {
        format!("claim/{}/{}/started", self.name, self.key)
    }
}

/// What the key became, if it was processed.
pub fn done(store: &impl KeyValue, scope: &Scope<'_>) -> Result<Option<Ticket>, StoreError> {
    let mapped: Option<String> = get_json(store, &scope.done_key())?;
    Ok(mapped.and_then(|t| Ticket::parse(&t).ok()))
}

pub fn claim(store: &impl KeyValue, scope: &Scope<'_>, now: Timestamp) -> Result<Claim, StoreError> {
    if let Some(ticket) = done(store, scope)? {
        return Ok(Claim::Done(ticket));
    }
    let started_key = scope.started_key();
    if store.increment(&scope.claim_key(), 1)? == 1 {
        store.set(&started_key, &serde_json::to_vec(&Started { at: now }).expect("encodes"))?;
        return Ok(Claim::First);
    }
    if let Some(ticket) = done(store, scope)? {
        return Ok(Claim::Done(ticket));
    }
    let Some(current) = store.get(&started_key)? else { return Ok(Claim::InFlight) };
    let started: Started = serde_json::from_slice(&current)
        .map_err(|e| StoreError::Corrupt { key: started_key.clone(), reason: e.to_string() })?;
    if now.0 - started.at.0 < CLAIM_TIMEOUT_MS {
        return Ok(Claim::InFlight);
    }
    let renewed = serde_json::to_vec(&Started { at: now }).expect("encodes");
    Ok(if store.compare_and_swap(&started_key, &current, &renewed)? { Claim::First } else { Claim::InFlight })
}

/// Record what the key became. Written last: a crash before it lets a retry process again.
pub fn complete(store: &impl KeyValue, scope: &Scope<'_>, ticket: &Ticket) -> Result<(), StoreError> {
    store.set(&scope.done_key(), &serde_json::to_vec(ticket.as_str()).expect("encodes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn scope() -> Scope<'static> {
        Scope { name: "idempotency/web", key: "abc" }
    }

    #[test]
    fn a_retry_gets_what_the_first_attempt_made() {
        let store = MemoryStore::new();
        assert_eq!(claim(&store, &scope(), Timestamp(0)).unwrap(), Claim::First);
        assert_eq!(claim(&store, &scope(), Timestamp(10)).unwrap(), Claim::InFlight);
        let t = Ticket::number(2026, 1).unwrap();
        complete(&store, &scope(), &t).unwrap();
        assert_eq!(claim(&store, &scope(), Timestamp(20)).unwrap(), Claim::Done(t));
    }

    #[test]
    fn a_crashed_claim_is_taken_over_by_one_retry() {
        let store = MemoryStore::new();
        assert_eq!(claim(&store, &scope(), Timestamp(0)).unwrap(), Claim::First);
        let later = Timestamp(CLAIM_TIMEOUT_MS + 1);
        assert_eq!(claim(&store, &scope(), later).unwrap(), Claim::First);
        assert_eq!(claim(&store, &scope(), later).unwrap(), Claim::InFlight);
    }
}
