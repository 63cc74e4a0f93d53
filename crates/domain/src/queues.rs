//! Work queues: which cases wait for whom, listed without scanning the store.
//!
//! Spin's key-value store can only list every key, so no listing may rely on it. Two
//! structures instead:
//! - **Triage** (cases received or verified, waiting for a coordinator) is read straight
//!   from the ticket numbering: each year's tickets are sequence numbers 1..=counter, and a
//!   per-year watermark marks below which every case has left triage. Intake writes nothing
//!   extra for it, so the busiest path stays contention-free.
//! - **Unit queues** and the **forwarded** queue (cases held by a unit, or handed back by
//!   one) are JSON lists of tickets, one key per queue, changed only by casework (a handful
//!   of actions a minute) with compare-and-swap, each key created once
//!   ([`crate::store::create_once`]).

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::complaint::Complaint;
use crate::directory::UnitId;
use crate::keys;
use crate::lifecycle::CaseStatus;
use crate::store::{create_once, decode_counter, update_json, KeyValue, StoreError};
use crate::ticket::Ticket;

/// A queue a case can wait in besides triage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Queue {
    /// Held by a unit: dispatched, in progress, answered or reopened.
    Unit(UnitId),
    /// Handed back by a unit ("bukan wewenang"), waiting for a coordinator to dispatch again.
    Forwarded,
}

impl Queue {
    pub fn key(&self) -> String {
        match self {
            Queue::Unit(u) => format!("queue/unit/{u}"),
            Queue::Forwarded => "queue/forwarded".to_string(),
        }
    }
}

/// The queue a case belongs in, by its status and unit.
pub fn queue_of(c: &Complaint) -> Option<Queue> {
    match c.status {
        CaseStatus::Dispatched | CaseStatus::InProgress | CaseStatus::Responded | CaseStatus::Reopened => {
            c.unit.clone().map(Queue::Unit)
        }
        CaseStatus::Forwarded => Some(Queue::Forwarded),
        CaseStatus::Received | CaseStatus::Verified | CaseStatus::Closed | CaseStatus::Rejected => None,
    }
}

/// Whether a case waits for a coordinator's verification or dispatch.
pub fn in_triage(c: &Complaint) -> bool {
    matches!(c.status, CaseStatus::Received | CaseStatus::Verified)
}

/// Move a case between queues after an action changed it.
pub fn move_case(
    store: &impl KeyValue,
    before: Option<Queue>,
    after: Option<Queue>,
    ticket: &Ticket,
) -> Result<(), StoreError> {
    if before == after {
        return Ok(());
    }
    if let Some(q) = before {
        edit(store, &q, |list| list.retain(|t| t != ticket.as_str()))?;
    }
    if let Some(q) = after {
        edit(store, &q, |list| {
            if !list.iter().any(|t| t == ticket.as_str()) {
                list.push(ticket.to_string());
            }
        })?;
    }
    Ok(())
}

/// The tickets in a queue.
pub fn tickets_in(store: &impl KeyValue, queue: &Queue) -> Result<Vec<Ticket>, StoreError> {
    let list: Vec<String> = crate::store::get_json(store, &queue.key())?.unwrap_or_default();
    Ok(list.iter().filter_map(|t| Ticket::parse(t).ok()).collect())
}

fn edit(
    store: &impl KeyValue,
    queue: &Queue,
    mut change: impl FnMut(&mut Vec<String>),
) -> Result<(), StoreError> {
    let key = queue.key();
    create_once(store, &key, b"[]")?;
    match update_json(store, &key, |list: &mut Vec<String>| {
        change(list);
        Ok::<(), ()>(())
    })? {
        Some(_) => Ok(()),
        None => Err(StoreError::Unavailable(format!("queue `{key}` vanished"))),
    }
}

/// A complaint record as read: its key and bytes.
type Record = (String, Vec<u8>);

/// The records of `tickets`, `None` where the number has no ticket or the ticket no record
/// yet; one batch read.
fn read_records(
    store: &impl KeyValue,
    tickets: &[Option<Ticket>],
) -> Result<Vec<Option<Record>>, StoreError> {
    let keys: Vec<String> = tickets.iter().flatten().map(keys::complaint).collect();
    let mut values = store.get_many(&keys)?.into_iter();
    let mut keys = keys.into_iter();
    Ok(tickets
        .iter()
        .map(|t| {
            t.as_ref()?;
            let (key, value) = (keys.next()?, values.next()?);
            value.map(|v| (key, v))
        })
        .collect())
}

/// How far behind the newest ticket a missing record must be before triage stops waiting
/// for it: a number allocated to a submission whose save failed leaves a hole, and a save in
/// flight looks the same for a few milliseconds.
pub const HOLE_PATIENCE: u64 = 5_000;
const PAGE: u64 = 200;

fn watermark_key(year: i32) -> String {
    format!("triage/watermark/{year}")
}

/// Cases waiting in triage, oldest first, at most `limit`; advances the per-year
/// watermarks past cases that have left triage.
pub fn triage(store: &impl KeyValue, now: Timestamp, limit: usize) -> Result<Vec<Complaint>, StoreError> {
    let year = now.wita().year;
    let mut found = Vec::new();
    for y in [year - 1, year] {
        let counter_key = keys::ticket_sequence(y);
        let counter = decode_counter(&counter_key, store.get(&counter_key)?.as_deref())?.max(0) as u64;
        let mark_key = watermark_key(y);
        let mark: u64 = crate::store::get_json(store, &mark_key)?.unwrap_or(0);
        let mut new_mark = mark;
        let mut blocked = false;
        let mut seq = mark + 1;
        while seq <= counter && found.len() < limit {
            let last = (seq + PAGE - 1).min(counter);
            let tickets = crate::intake::issued(store, y, seq..=last)?;
            let records = read_records(store, &tickets)?;
            for (offset, record) in records.into_iter().enumerate() {
                let s = seq + offset as u64;
                let waiting = match record {
                    None => counter - s < HOLE_PATIENCE,
                    Some((key, bytes)) => {
                        let c: Complaint = serde_json::from_slice(&bytes)
                            .map_err(|e| StoreError::Corrupt { key, reason: e.to_string() })?;
                        let waiting = in_triage(&c);
                        if waiting && found.len() < limit {
                            found.push(c);
                        }
                        waiting
                    }
                };
                if waiting {
                    blocked = true;
                } else if !blocked {
                    new_mark = s;
                }
            }
            seq = last + 1;
        }
        if new_mark > mark {
            // Plain set: two listings racing write marks that are both correct.
            store.set(&mark_key, new_mark.to_string().as_bytes())?;
        }
    }
    Ok(found)
}

/// Complaints newest first, read from the ticket numbering of this WITA year and the last,
/// until `limit` have passed `keep`, or a complaint older than `since` is reached.
pub fn newest_first(
    store: &impl KeyValue,
    now: Timestamp,
    since: Timestamp,
    limit: usize,
    mut keep: impl FnMut(&Complaint) -> bool,
) -> Result<Vec<Complaint>, StoreError> {
    let year = now.wita().year;
    let mut found = Vec::new();
    for y in [year, year - 1] {
        let counter_key = keys::ticket_sequence(y);
        let counter = decode_counter(&counter_key, store.get(&counter_key)?.as_deref())?.max(0) as u64;
        let mut high = counter;
        while high >= 1 {
            let low = high.saturating_sub(PAGE - 1).max(1);
            let tickets = crate::intake::issued(store, y, (low..=high).rev())?;
            for record in read_records(store, &tickets)? {
                let Some((key, value)) = record else { continue };
                let c: Complaint = serde_json::from_slice(&value)
                    .map_err(|e| StoreError::Corrupt { key, reason: e.to_string() })?;
                if c.received_at < since {
                    return Ok(found);
                }
                if keep(&c) {
                    found.push(c);
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
            }
            high = low - 1;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn saved(store: &MemoryStore, seq: u64, status: CaseStatus, unit: Option<&str>) -> Complaint {
        let mut c = crate::casework::tests_support::complaint(Ticket::number(2026, seq).unwrap());
        c.status = status;
        c.unit = unit.map(|u| UnitId::parse(u).unwrap());
        store.set(&keys::numbering(2026, seq), c.ticket.as_str().as_bytes()).unwrap();
        store.set(&keys::complaint(&c.ticket), &serde_json::to_vec(&c).unwrap()).unwrap();
        c
    }

    fn now() -> Timestamp {
        Timestamp::from_wita(2026, 11, 30, 9, 0)
    }

    #[test]
    fn triage_lists_waiting_cases_and_moves_its_watermark_past_handled_ones() {
        let store = MemoryStore::new();
        for _ in 0..5 {
            store.increment(&keys::ticket_sequence(2026), 1).unwrap();
        }
        saved(&store, 1, CaseStatus::Dispatched, Some("dikes"));
        saved(&store, 2, CaseStatus::Rejected, None);
        saved(&store, 3, CaseStatus::Received, None);
        saved(&store, 4, CaseStatus::Closed, None);
        saved(&store, 5, CaseStatus::Verified, Some("dikes"));
        let waiting: Vec<u64> =
            triage(&store, now(), 10).unwrap().iter().map(|c| c.ticket.sequence()).collect();
        assert_eq!(waiting, vec![3, 5]);
        assert_eq!(store.get(&watermark_key(2026)).unwrap().unwrap(), b"2");
        // Handling 3 lets the watermark pass 4 as well.
        saved(&store, 3, CaseStatus::Dispatched, Some("dikes"));
        let waiting: Vec<u64> =
            triage(&store, now(), 10).unwrap().iter().map(|c| c.ticket.sequence()).collect();
        assert_eq!(waiting, vec![5]);
        assert_eq!(store.get(&watermark_key(2026)).unwrap().unwrap(), b"4");
    }

    #[test]
    fn a_number_whose_record_is_not_saved_yet_holds_the_watermark() {
        let store = MemoryStore::new();
        for _ in 0..3 {
            store.increment(&keys::ticket_sequence(2026), 1).unwrap();
        }
        saved(&store, 1, CaseStatus::Closed, None);
        saved(&store, 3, CaseStatus::Closed, None);
        assert!(triage(&store, now(), 10).unwrap().is_empty());
        assert_eq!(store.get(&watermark_key(2026)).unwrap().unwrap(), b"1");
        // It arrives: it is listed.
        saved(&store, 2, CaseStatus::Received, None);
        assert_eq!(triage(&store, now(), 10).unwrap().len(), 1);
    }

    #[test]
    fn moving_a_case_takes_it_out_of_one_queue_into_another() {
        let store = MemoryStore::new();
        let t = Ticket::number(2026, 9).unwrap();
        let dikes = Queue::Unit(UnitId::parse("dikes").unwrap());
        move_case(&store, None, Some(dikes.clone()), &t).unwrap();
        move_case(&store, None, Some(dikes.clone()), &t).unwrap();
        assert_eq!(tickets_in(&store, &dikes).unwrap(), vec![t.clone()]);
        move_case(&store, Some(dikes.clone()), Some(Queue::Forwarded), &t).unwrap();
        assert!(tickets_in(&store, &dikes).unwrap().is_empty());
        assert_eq!(tickets_in(&store, &Queue::Forwarded).unwrap(), vec![t]);
    }
}
