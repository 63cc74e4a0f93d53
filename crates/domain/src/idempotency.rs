//! Exactly-once intake: a request, message or partner record is claimed by a key before
//! anything is written, and the complaint it became is recorded under the key afterwards.
//!
//! A retry finds the recorded complaint and gets the same answer; a retry racing the first
//! attempt is told to come back; a claim whose attempt crashed is taken over once it is
//! clearly stale, by exactly one retry.
//!
//! An attempt that [`reserve`]s its ticket before committing the complaint is recoverable
//! at once: if it dies between the commit and [`complete`], the next claim finds the
//! committed complaint and answers with it, instead of waiting out the claim and making a
//! second complaint.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::keys;
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
    fn reserved_key(&self) -> String {
        format!("claim/{}/{}/ticket", self.name, self.key)
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
    // An attempt that committed its complaint and died before `complete`: that complaint is
    // the answer, now and after the claim goes stale alike.
    let reserved: Option<String> = get_json(store, &scope.reserved_key())?;
    if let Some(ticket) = reserved.and_then(|t| Ticket::parse(&t).ok()) {
        if store.exists(&keys::complaint(&ticket))? {
            complete(store, scope, &ticket)?;
            return Ok(Claim::Done(ticket));
        }
    }
    let Some(current) = store.get(&started_key)? else {
        // The attempt died between its claim and noting when: note it now, so that the claim
        // can go stale instead of blocking every retry for ever.
        store.set(&started_key, &serde_json::to_vec(&Started { at: now }).expect("encodes"))?;
        return Ok(Claim::InFlight);
    };
    let started: Started = serde_json::from_slice(&current)
        .map_err(|e| StoreError::Corrupt { key: started_key.clone(), reason: e.to_string() })?;
    if now.0 - started.at.0 < CLAIM_TIMEOUT_MS {
        return Ok(Claim::InFlight);
    }
    let renewed = serde_json::to_vec(&Started { at: now }).expect("encodes");
    Ok(if store.compare_and_swap(&started_key, &current, &renewed)? { Claim::First } else { Claim::InFlight })
}

/// Note the ticket a claimed attempt numbered, before its complaint is committed (with
/// whatever the caller must answer a retry with already saved).
pub fn reserve(store: &impl KeyValue, scope: &Scope<'_>, ticket: &Ticket) -> Result<(), StoreError> {
    store.set(&scope.reserved_key(), &serde_json::to_vec(ticket.as_str()).expect("encodes"))
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
    fn a_complaint_committed_by_an_attempt_that_died_before_completing_is_the_retrys_answer() {
        let store = MemoryStore::new();
        assert_eq!(claim(&store, &scope(), Timestamp(0)).unwrap(), Claim::First);
        let t = Ticket::number(2026, 7).unwrap();
        reserve(&store, &scope(), &t).unwrap();
        // Reserved, not yet committed: the attempt may still be running.
        assert_eq!(claim(&store, &scope(), Timestamp(10)).unwrap(), Claim::InFlight);
        store.set(&keys::complaint(&t), b"{}").unwrap();
        // Committed, then the host died before `complete`: the retry gets that complaint,
        // at once and for good, never a second one.
        assert_eq!(claim(&store, &scope(), Timestamp(20)).unwrap(), Claim::Done(t.clone()));
        assert_eq!(done(&store, &scope()).unwrap(), Some(t.clone()));
        let later = Timestamp(CLAIM_TIMEOUT_MS + 30);
        assert_eq!(claim(&store, &scope(), later).unwrap(), Claim::Done(t));
    }

    #[test]
    fn a_reserved_ticket_never_committed_is_numbered_afresh_once_the_claim_is_stale() {
        let store = MemoryStore::new();
        assert_eq!(claim(&store, &scope(), Timestamp(0)).unwrap(), Claim::First);
        reserve(&store, &scope(), &Ticket::number(2026, 8).unwrap()).unwrap();
        assert_eq!(claim(&store, &scope(), Timestamp(CLAIM_TIMEOUT_MS + 1)).unwrap(), Claim::First);
    }

    #[test]
    fn a_claim_whose_attempt_died_before_noting_its_start_goes_stale() {
        let store = MemoryStore::new();
        // The claim counted, its start never written.
        store.increment("claim/idempotency/web/abc", 1).unwrap();
        assert_eq!(claim(&store, &scope(), Timestamp(1_000)).unwrap(), Claim::InFlight);
        let later = Timestamp(1_000 + CLAIM_TIMEOUT_MS);
        assert_eq!(claim(&store, &scope(), later).unwrap(), Claim::First);
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
