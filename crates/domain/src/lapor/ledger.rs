//! The ledger: one record per ticket that NTB Care keeps in step with LAPOR!, with the
//! LAPOR! id, what was last sent, when to look again, and what went wrong.
//!
//! Exactly once: the record is created, and moved to [`State::Creating`] with
//! compare-and-swap, *before* LAPOR! is called, so two syncs never both create the same
//! complaint. A call whose outcome is unknown (timeout, 5xx, an unreadable success) leaves
//! the record [`State::Uncertain`]: the next attempt first looks the complaint up on LAPOR!
//! by our ticket, and creates it again only if it is not there. Without a search endpoint
//! the record waits for an administrator ([`State::Review`]) rather than risk a duplicate.
//!
//! Schedule: pending items are checked every hour, settled ones every six hours (the
//! integrator's rhythm); a failure backs off exponentially from one minute to six hours, and
//! an item that failed [`FAILURE_THRESHOLD`] times in a row is listed for an administrator.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::clock::Timestamp;
use crate::store::{create_once, get_json, update_json, KeyValue, StoreError};
use crate::ticket::Ticket;

pub const PENDING_INTERVAL_MS: i64 = 3600 * 1000;
pub const SETTLED_INTERVAL_MS: i64 = 6 * 3600 * 1000;
pub const BACKOFF_BASE_MS: i64 = 60 * 1000;
pub const BACKOFF_MAX_MS: i64 = 6 * 3600 * 1000;
pub const FAILURE_THRESHOLD: u32 = 3;
/// A create still marked in flight after this long was interrupted (the call times out far
/// sooner); its outcome is unknown.
pub const CREATE_STALE_MS: i64 = 2 * 60 * 1000;

/// Which side the complaint started on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Export,
    Import,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum State {
    /// To be created on LAPOR! (again, if the last attempt certainly failed).
    Queued,
    /// A create call is in flight since then.
    Creating { since: Timestamp },
    /// A create call may or may not have taken effect: look before creating again.
    Uncertain { since: Timestamp },
    /// Unknown whether LAPOR! has it and no way to look: an administrator decides.
    Review,
    /// On LAPOR! under `lapor_id`; kept in step by polling.
    Linked,
    /// Never to be sent (e.g. rejected as spam before export).
    Skipped { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub ticket: Ticket,
    pub origin: Origin,
    #[serde(flatten)]
    pub state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapor_id: Option<String>,
    /// LAPOR!'s status when last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapor_status: Option<String>,
    /// The complaint's version (its number of history events) when last sent in full.
    #[serde(default)]
    pub version_sent: usize,
    /// How many of the case's answers are on LAPOR! as follow-ups.
    #[serde(default)]
    pub answers_sent: usize,
    /// The unit the case was last handed to through LAPOR!'s reject ("not our authority").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_to: Option<String>,
    /// Keys of LAPOR! follow-ups already mirrored or sent by us.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followups_seen: Vec<String>,
    pub next_check_at: Timestamp,
    /// Failures in a row.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The wait after the `attempts`-th failure in a row.
pub fn backoff_ms(attempts: u32) -> i64 {
    let exp = attempts.saturating_sub(1).min(20);
    (BACKOFF_BASE_MS << exp).min(BACKOFF_MAX_MS)
}

impl LedgerEntry {
    pub fn new(ticket: Ticket, origin: Origin, now: Timestamp) -> LedgerEntry {
        LedgerEntry {
            ticket,
            origin,
            state: State::Queued,
            lapor_id: None,
            lapor_status: None,
            version_sent: 0,
            answers_sent: 0,
            forwarded_to: None,
            followups_seen: vec![],
            next_check_at: now,
            attempts: 0,
            last_error: None,
            last_error_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_due(&self, now: Timestamp) -> bool {
        match self.state {
            State::Review | State::Skipped { .. } => false,
            State::Creating { since } => now.0 - since.0 >= CREATE_STALE_MS,
            _ => self.next_check_at <= now,
        }
    }

    /// Listed for an administrator.
    pub fn is_failing(&self) -> bool {
        self.state == State::Review || self.attempts >= FAILURE_THRESHOLD
    }

    pub fn record_failure(&mut self, error: &str, now: Timestamp) {
        self.attempts += 1;
        self.last_error = Some(error.chars().take(500).collect());
        self.last_error_at = Some(now);
        self.next_check_at = Timestamp(now.0 + backoff_ms(self.attempts));
        self.updated_at = now;
    }

    /// A successful round: the next check comes sooner for what is still moving.
    pub fn record_success(&mut self, settled: bool, now: Timestamp) {
        self.attempts = 0;
        self.last_error = None;
        self.last_error_at = None;
        let interval = if settled { SETTLED_INTERVAL_MS } else { PENDING_INTERVAL_MS };
        self.next_check_at = Timestamp(now.0 + interval);
        self.updated_at = now;
    }
}

/// The next step for an export record, decided on the fresh record inside its
/// compare-and-swap (so two syncs never both take the same step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportStep {
    /// Create it on LAPOR! now (the record is `Creating`).
    Create,
    /// Look for it on LAPOR! by our ticket before creating again.
    Search,
    /// Nothing to do now.
    Wait,
}

/// Decide and claim: answers the step and changes `entry` to claim it.
pub fn claim_export(entry: &mut LedgerEntry, now: Timestamp, can_search: bool) -> ExportStep {
    if !entry.is_due(now) {
        return ExportStep::Wait;
    }
    match entry.state {
        State::Queued => {
            entry.state = State::Creating { since: now };
            entry.updated_at = now;
            ExportStep::Create
        }
        State::Creating { since } | State::Uncertain { since } => {
            if can_search {
                // Claim the search as a fresh in-flight create, so no one else searches too.
                entry.state = State::Creating { since: now };
                entry.updated_at = now;
                let _ = since;
                ExportStep::Search
            } else {
                entry.state = State::Review;
                entry.last_error.get_or_insert_with(|| {
                    "the last create may have reached LAPOR!; no search endpoint to check (lapor_path_search)".into()
                });
                entry.updated_at = now;
                ExportStep::Wait
            }
        }
        State::Review | State::Linked | State::Skipped { .. } => ExportStep::Wait,
    }
}

/// An administrator asks for another try: a failing or review item is due now. For an item
/// in review, this is the administrator's word that LAPOR! does not have it.
pub fn retry(entry: &mut LedgerEntry, now: Timestamp) {
    if entry.state == State::Review {
        entry.state = State::Queued;
    }
    entry.attempts = 0;
    entry.next_check_at = now;
    entry.updated_at = now;
}

pub fn get(store: &impl KeyValue, ticket: &Ticket) -> Result<Option<LedgerEntry>, StoreError> {
    get_json(store, &keys::ledger(ticket))
}

/// Create the record if it does not exist (once, whoever races), and list it in the index.
pub fn ensure(store: &impl KeyValue, initial: &LedgerEntry) -> Result<(), StoreError> {
    let key = keys::ledger(&initial.ticket);
    create_once(store, &key, &serde_json::to_vec(initial).expect("ledger encodes"))?;
    create_once(store, keys::LEDGER_INDEX, b"[]")?;
    let t = initial.ticket.to_string();
    update_json(store, keys::LEDGER_INDEX, |list: &mut Vec<String>| {
        if !list.contains(&t) {
            list.push(t.clone());
        }
        Ok::<(), ()>(())
    })?;
    Ok(())
}

/// Change a record with compare-and-swap; `Ok(None)` if it does not exist.
pub fn update<R>(
    store: &impl KeyValue,
    ticket: &Ticket,
    mut change: impl FnMut(&mut LedgerEntry) -> R,
) -> Result<Option<(LedgerEntry, R)>, StoreError> {
    let mut out = None;
    let done = update_json(store, &keys::ledger(ticket), |e: &mut LedgerEntry| {
        out = Some(change(e));
        Ok::<(), ()>(())
    })?;
    Ok(match (done, out) {
        (Some(Ok(entry)), Some(r)) => Some((entry, r)),
        _ => None,
    })
}

/// Every record, in the order they were created.
pub fn all(store: &impl KeyValue) -> Result<Vec<LedgerEntry>, StoreError> {
    let tickets: Vec<String> = get_json(store, keys::LEDGER_INDEX)?.unwrap_or_default();
    let keys: Vec<String> = tickets.iter().map(|t| format!("{}{t}", keys::LEDGER_PREFIX)).collect();
    let mut out = Vec::with_capacity(keys.len());
    for (key, value) in keys.iter().zip(store.get_many(&keys)?) {
        if let Some(v) = value {
            out.push(
                serde_json::from_slice(&v)
                    .map_err(|e| StoreError::Corrupt { key: key.clone(), reason: e.to_string() })?,
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn entry() -> LedgerEntry {
        LedgerEntry::new(Ticket::number(2026, 1).unwrap(), Origin::Export, Timestamp(0))
    }

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(backoff_ms(1), 60_000);
        assert_eq!(backoff_ms(2), 120_000);
        assert_eq!(backoff_ms(4), 480_000);
        assert_eq!(backoff_ms(30), BACKOFF_MAX_MS);
    }

    #[test]
    fn failures_back_off_and_are_listed_after_the_threshold() {
        let mut e = entry();
        for n in 1..=FAILURE_THRESHOLD {
            assert!(!e.is_failing());
            e.record_failure("HTTP 503", Timestamp(1000));
            assert_eq!(e.next_check_at, Timestamp(1000 + backoff_ms(n)));
        }
        assert!(e.is_failing());
        assert_eq!(e.last_error.as_deref(), Some("HTTP 503"));
        e.record_success(false, Timestamp(2000));
        assert!(!e.is_failing());
        assert_eq!(e.next_check_at, Timestamp(2000 + PENDING_INTERVAL_MS));
    }

    #[test]
    fn a_create_is_claimed_once_and_an_unknown_outcome_is_searched_or_reviewed() {
        let mut e = entry();
        assert_eq!(claim_export(&mut e, Timestamp(0), true), ExportStep::Create);
        // A second sync meanwhile sees it in flight.
        assert_eq!(claim_export(&mut e, Timestamp(10), true), ExportStep::Wait);
        // Interrupted: once stale, the next sync looks before creating again.
        assert_eq!(claim_export(&mut e, Timestamp(CREATE_STALE_MS), true), ExportStep::Search);
        let mut u = entry();
        u.state = State::Uncertain { since: Timestamp(0) };
        assert_eq!(claim_export(&mut u, Timestamp(0), false), ExportStep::Wait);
        assert_eq!(u.state, State::Review);
        assert!(u.is_failing());
        retry(&mut u, Timestamp(5));
        assert_eq!(claim_export(&mut u, Timestamp(5), false), ExportStep::Create);
    }

    #[test]
    fn records_are_created_once_and_indexed() {
        let store = MemoryStore::new();
        let e = entry();
        ensure(&store, &e).unwrap();
        let mut other = e.clone();
        other.origin = Origin::Import;
        ensure(&store, &other).unwrap();
        let all = all(&store).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].origin, Origin::Export);
        let (updated, ()) = update(&store, &e.ticket, |x| x.attempts = 2).unwrap().unwrap();
        assert_eq!(updated.attempts, 2);
    }
}
