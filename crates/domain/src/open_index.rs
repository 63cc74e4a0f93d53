//! The open-case index: beside each queue casework keeps (`crate::queues`), what the live
//! measures need of every case in it (`measures::live::OpenCase`: coordinates, status,
//! receipt, the open step's deadlines), so the backlog and the overdue list read a few keys
//! instead of parsing every open case's full record and working out its deadlines.
//!
//! - **Deadlines are worked out when the case changes**, by the same function casework uses
//!   (`complaint::clocks::deadlines`, through `OpenCase::of`): they depend on the time of
//!   reading only while the clock is paused for the complainant, and such a case is kept
//!   without a view (`None`) and read from its record.
//! - **Where**: one JSON map per queue, ticket → `[version, view]`, under
//!   `open/<queue key>`, changed with compare-and-swap ([`crate::store::update_json`]) as each
//!   change to a case is recorded ([`record`], called from `casework::service::record` and
//!   where a complainant's follow-up ends a pause). The version is the record's history
//!   length (history only grows): an entry replaces another only if it is at least as new,
//!   so two recordings finishing out of order keep the newer.
//! - **Membership is the queue's**: [`open_cases`] lists exactly the tickets in the queues
//!   (and triage, read as casework reads it); an entry for a ticket no longer in its queue is
//!   ignored, and a ticket without an entry is read from its full record. So a missed or lost
//!   index write can only cost time, never drop or invent a case.
//! - **Repair**: [`rebuild`] rewrites every map from the records of the tickets in the queues
//!   (the reporting rebuild runs it with the tallies').
//!
//! The views are worked out with the shipped calendar and SLA rules (`Context::seed`, as the
//! tallies are): a change to either needs a rebuild.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::complaint::Complaint;
use crate::directory::Directory;
use crate::keys;
use crate::measures::live::OpenCase;
use crate::measures::Context;
use crate::queues::{queue_of, triage, Queue};
use crate::store::{create_once, update_json, KeyValue, StoreError};
use crate::ticket::Ticket;

/// Every index key starts so.
pub const PREFIX: &str = "open/";

/// The index key of a queue: `open/queue/unit/<unit>`, `open/queue/forwarded`.
pub fn key(queue: &Queue) -> String {
    format!("{PREFIX}{}", queue.key())
}

/// One case: the record's history length (its version) and its view, none while its clock
/// is paused.
pub type Entry = (usize, Option<OpenCase>);

/// A queue's entries by ticket.
pub type Entries = BTreeMap<String, Entry>;

/// The entry for a case as it now stands.
pub fn entry(c: &Complaint) -> Entry {
    let view = c.case.awaiting_information_since.is_none().then(|| {
        let mut v = OpenCase::of(c, Context::seed(), c.updated_at);
        v.ticket = String::new();
        v
    });
    (c.history.len(), view)
}

fn edit(
    store: &impl KeyValue,
    queue: &Queue,
    mut change: impl FnMut(&mut Entries),
) -> Result<(), StoreError> {
    let key = key(queue);
    create_once(store, &key, b"{}")?;
    let outcome = update_json(store, &key, |map: &mut Entries| {
        change(map);
        Ok::<(), ()>(())
    });
    match outcome {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(StoreError::Unavailable(format!("open-case index `{key}` vanished"))),
        // Unreadable: start it afresh (its other cases are read from their records meanwhile).
        Err(StoreError::Corrupt { .. }) => {
            let mut map = Entries::new();
            change(&mut map);
            store.set(&key, &serde_json::to_vec(&map).expect("entries encode"))
        }
        Err(e) => Err(e),
    }
}

/// Keep the index in step with a change recorded to `case`, which was in `before` (its
/// queue before the change): out of the old queue's map, into (or updated in) the new one's.
pub fn record(store: &impl KeyValue, before: Option<Queue>, case: &Complaint) -> Result<(), StoreError> {
    let after = queue_of(case);
    let ticket = case.ticket.as_str();
    if let Some(q) = before.filter(|q| Some(q) != after.as_ref()) {
        edit(store, &q, |map| {
            map.remove(ticket);
        })?;
    }
    if let Some(q) = after {
        let new = entry(case);
        edit(store, &q, |map| {
            if map.get(ticket).is_none_or(|old| old.0 <= new.0) {
                map.insert(ticket.to_string(), new.clone());
            }
        })?;
    }
    Ok(())
}

/// The queues besides triage, in a fixed order: forwarded, then each unit's.
pub fn queues(directory: &Directory) -> Vec<Queue> {
    std::iter::once(Queue::Forwarded)
        .chain(directory.units.iter().map(|u| Queue::Unit(u.id.clone())))
        .collect()
}

fn corrupt(key: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt { key: key.to_string(), reason: e.to_string() }
}

fn parse<T: serde::de::DeserializeOwned + Default>(key: &str, v: Option<Vec<u8>>) -> Result<T, StoreError> {
    match v {
        None => Ok(T::default()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| corrupt(key, e)),
    }
}

/// A queue's map; one that cannot be read (an older format, a torn write) counts as empty:
/// its cases are read from their records until the rebuild rewrites it.
fn entries(v: Option<Vec<u8>>) -> Entries {
    v.and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// The open cases at `now`, as casework's `open_cases` lists them (triage, the forwarded
/// queue, each unit's queue): one read for every queue and its map, and full records only
/// for triage and for tickets the index has no view of.
pub fn open_cases(
    store: &impl KeyValue,
    directory: &Directory,
    now: Timestamp,
) -> Result<Vec<OpenCase>, StoreError> {
    let ctx = Context::seed();
    let mut cases: Vec<OpenCase> =
        triage(store, now, usize::MAX)?.iter().map(|c| OpenCase::of(c, ctx, now)).collect();
    let queues = queues(directory);
    let mut names: Vec<String> = queues.iter().map(Queue::key).collect();
    names.extend(queues.iter().map(key));
    let mut values = store.get_many(&names)?.into_iter();
    let lists: Vec<Vec<String>> =
        names[..queues.len()].iter().map(|k| parse(k, values.next().flatten())).collect::<Result<_, _>>()?;
    let mut missing = Vec::new();
    for list in lists {
        let mut map = entries(values.next().flatten());
        for ticket in list {
            match map.remove(&ticket) {
                Some((_, Some(mut view))) => {
                    view.ticket = ticket;
                    cases.push(view);
                }
                _ => missing.push(ticket),
            }
        }
    }
    let keys: Vec<String> =
        missing.iter().filter_map(|t| Ticket::parse(t).ok()).map(|t| keys::complaint(&t)).collect();
    for (k, v) in keys.iter().zip(store.get_many(&keys)?) {
        if let Some(bytes) = v {
            let c: Complaint = serde_json::from_slice(&bytes).map_err(|e| corrupt(k, e))?;
            cases.push(OpenCase::of(&c, ctx, now));
        }
    }
    Ok(cases)
}

/// What a rebuild of the index found, and did unless it was a dry run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IndexReport {
    pub queues: usize,
    pub cases: usize,
    /// Queues whose map differed from what the records say.
    pub queues_wrong: usize,
    pub repaired: bool,
}

/// Recompute every queue's map from the records of the tickets in it and, unless `dry_run`,
/// write the maps that differ.
pub fn rebuild(
    store: &impl KeyValue,
    directory: &Directory,
    dry_run: bool,
) -> Result<IndexReport, StoreError> {
    let mut report = IndexReport { repaired: !dry_run, ..Default::default() };
    for q in queues(directory) {
        report.queues += 1;
        let list: Vec<String> = crate::store::get_json(store, &q.key())?.unwrap_or_default();
        let tickets: Vec<Ticket> = list.iter().filter_map(|t| Ticket::parse(t).ok()).collect();
        let mut want = Entries::new();
        for chunk in tickets.chunks(500) {
            let keys: Vec<String> = chunk.iter().map(keys::complaint).collect();
            for (k, v) in keys.iter().zip(store.get_many(&keys)?) {
                let Some(bytes) = v else { continue };
                let c: Complaint = serde_json::from_slice(&bytes).map_err(|e| corrupt(k, e))?;
                if queue_of(&c).as_ref() == Some(&q) {
                    want.insert(c.ticket.to_string(), entry(&c));
                }
            }
        }
        report.cases += want.len();
        let key = key(&q);
        let wrong = match store.get(&key)? {
            None => !want.is_empty(),
            Some(bytes) => serde_json::from_slice::<Entries>(&bytes).ok().as_ref() != Some(&want),
        };
        if wrong {
            report.queues_wrong += 1;
            if !dry_run {
                store.set(&key, &serde_json::to_vec(&want).expect("entries encode"))?;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::UnitId;
    use crate::lifecycle::{Action, Actor, CaseStatus, Event};
    use crate::queues::move_case;
    use crate::store::MemoryStore;

    fn now() -> Timestamp {
        Timestamp::from_wita(2026, 11, 30, 9, 0)
    }

    fn case(seq: u64, status: CaseStatus, unit: &str) -> Complaint {
        let mut c = crate::casework::tests_support::complaint(Ticket::number(2026, seq).unwrap());
        c.status = status;
        c.unit = Some(UnitId::parse(unit).unwrap());
        c
    }

    fn push(c: &mut Complaint, action: Action, to: CaseStatus, at: Timestamp) {
        c.history.push(Event {
            at,
            actor: Actor::System,
            action,
            from: Some(c.status),
            to,
            public_note: None,
            internal_note: None,
        });
        c.status = to;
        c.updated_at = at;
    }

    /// Save a case and record it as casework does: index, then queue.
    fn save(store: &MemoryStore, before: Option<Queue>, c: &Complaint) {
        store.set(&keys::complaint(&c.ticket), &serde_json::to_vec(c).unwrap()).unwrap();
        record(store, before.clone(), c).unwrap();
        move_case(store, before, queue_of(c), &c.ticket).unwrap();
    }

    fn view(c: &Complaint, at: Timestamp) -> OpenCase {
        OpenCase::of(c, Context::seed(), at)
    }

    #[test]
    fn the_index_follows_a_case_between_queues_with_the_deadlines_of_its_record() {
        let store = MemoryStore::new();
        let dir = Directory::seed();
        let mut c = case(1, CaseStatus::Received, "dikes");
        let t0 = c.received_at;
        push(&mut c, Action::Verify, CaseStatus::Verified, Timestamp(t0.0 + 3_600_000));
        push(&mut c, Action::Dispatch, CaseStatus::Dispatched, Timestamp(t0.0 + 7_200_000));
        c.case.pauses.push((Timestamp(t0.0 + 8_000_000), Timestamp(t0.0 + 200_000_000)));
        save(&store, None, &c);
        // Read at any later time: what the full record gives then.
        for at in [now(), Timestamp(now().0 + 30 * 86_400_000)] {
            assert_eq!(open_cases(&store, &dir, at).unwrap(), vec![view(&c, at)]);
        }
        // Handed back: out of the unit's map, into the forwarded one.
        let before = queue_of(&c);
        push(&mut c, Action::Forward, CaseStatus::Forwarded, Timestamp(t0.0 + 300_000_000));
        save(&store, before, &c);
        let dikes = Queue::Unit(UnitId::parse("dikes").unwrap());
        assert!(crate::store::get_json::<Entries>(&store, &key(&dikes)).unwrap().unwrap().is_empty());
        assert_eq!(open_cases(&store, &dir, now()).unwrap(), vec![view(&c, now())]);
        // An older recording arriving late does not overwrite the newer entry.
        let mut older = c.clone();
        older.history.pop();
        older.received_at = Timestamp(1);
        record(&store, Some(Queue::Forwarded), &older).unwrap();
        assert_eq!(open_cases(&store, &dir, now()).unwrap(), vec![view(&c, now())]);
        // Closed: in no queue, listed nowhere.
        let before = queue_of(&c);
        push(&mut c, Action::Close, CaseStatus::Closed, now());
        save(&store, before, &c);
        assert!(open_cases(&store, &dir, now()).unwrap().is_empty());
    }

    #[test]
    fn a_case_waiting_for_the_complainant_is_read_from_its_record_at_the_time_of_reading() {
        let store = MemoryStore::new();
        let dir = Directory::seed();
        let mut c = case(3, CaseStatus::InProgress, "pupr");
        c.case.awaiting_information_since = Some(c.received_at);
        save(&store, None, &c);
        assert_eq!(entry(&c).1, None);
        for at in [now(), Timestamp(now().0 + 10 * 86_400_000)] {
            assert_eq!(open_cases(&store, &dir, at).unwrap(), vec![view(&c, at)]);
        }
    }

    #[test]
    fn a_queued_case_the_index_lacks_is_read_from_its_record_and_the_rebuild_adds_it() {
        let store = MemoryStore::new();
        let dir = Directory::seed();
        let c = case(2, CaseStatus::InProgress, "pupr");
        store.set(&keys::complaint(&c.ticket), &serde_json::to_vec(&c).unwrap()).unwrap();
        move_case(&store, None, queue_of(&c), &c.ticket).unwrap();
        assert_eq!(open_cases(&store, &dir, now()).unwrap(), vec![view(&c, now())]);
        // A map that cannot be read is no map.
        let pupr = Queue::Unit(UnitId::parse("pupr").unwrap());
        store.set(&key(&pupr), b"[\"an older format\"]").unwrap();
        assert_eq!(open_cases(&store, &dir, now()).unwrap(), vec![view(&c, now())]);
        let dry = rebuild(&store, &dir, true).unwrap();
        assert_eq!((dry.cases, dry.queues_wrong, dry.repaired), (1, 1, false));
        assert_eq!(rebuild(&store, &dir, false).unwrap().queues_wrong, 1);
        assert_eq!(rebuild(&store, &dir, true).unwrap().queues_wrong, 0);
        let map: Entries = crate::store::get_json(&store, &key(&pupr)).unwrap().unwrap();
        assert_eq!(map[c.ticket.as_str()], entry(&c));
        assert_eq!(open_cases(&store, &dir, now()).unwrap(), vec![view(&c, now())]);
    }
}
