//! The administrators' view of the outbox, bounded whatever the outbox's size.
//!
//! The outbox lives under `outbox/<id>` and the key does not say an entry's state, so counting
//! still reads every entry; but one at a time: each value is decoded, counted and dropped,
//! keeping only (queued at, id) of the entries that match the filter, to sort them. Only the
//! requested page (at most [`MAX_LIMIT`] entries) is read again and kept whole. Memory is then
//! a few dozen bytes per entry instead of its full JSON twice over (the stored bytes and the
//! administrator's view of it), which is what ran out at ~70,000 entries.
//!
//! `get-many` is not used: it is unusable on Spin's Redis store (see [`super::sweep::entries`]).
//!
//! The page is read after the count, so an entry that a sweep moved on in between is shown
//! as it is now (possibly in another state than the filter asked for), and one deleted in
//! between is left out: the answer is a listing for an administrator, not a snapshot.

use thiserror::Error;

use super::outbox::{OutboxEntry, State};
use crate::clock::Timestamp;
use crate::keys;
use crate::language::Text;
use crate::store::{get_json, KeyValue, StoreError};

/// Entries in a page when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page an administrator may ask for.
pub const MAX_LIMIT: usize = 1000;

/// Every state's code, in the order of an entry's life.
pub const STATE_CODES: [&str; 7] =
    ["queued", "in-flight", "failed", "sent", "delivered", "read", "dead-letter"];

/// What an administrator asked for: entries in one state (or all), one page of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    pub state: Option<&'static str>,
    pub limit: usize,
    pub offset: usize,
}

/// A query parameter refused, naming the parameter.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("`limit` must be a whole number from 1 to {MAX_LIMIT}, not `{0}`")]
    Limit(String),
    #[error("`offset` must be a whole number from 0, not `{0}`")]
    Offset(String),
    #[error("`state` must be one of {codes}, not `{0}`", codes = STATE_CODES.join(", "))]
    State(String),
}

impl QueryError {
    /// The query parameter at fault.
    pub fn parameter(&self) -> &'static str {
        match self {
            QueryError::Limit(_) => "limit",
            QueryError::Offset(_) => "offset",
            QueryError::State(_) => "state",
        }
    }

    /// What an administrator reads, Bahasa Indonesia first.
    pub fn text(&self) -> Text {
        let id = match self {
            QueryError::Limit(v) => {
                format!("`limit` harus bilangan bulat 1 sampai {MAX_LIMIT}, bukan `{v}`.")
            }
            QueryError::Offset(v) => format!("`offset` harus bilangan bulat mulai 0, bukan `{v}`."),
            QueryError::State(v) => {
                format!("`state` harus salah satu dari {}, bukan `{v}`.", STATE_CODES.join(", "))
            }
        };
        Text::new(id, format!("{self}."))
    }
}

impl Query {
    /// From the query parameters as given (absent: every state, the first [`DEFAULT_LIMIT`]).
    pub fn parse(
        state: Option<&str>,
        limit: Option<&str>,
        offset: Option<&str>,
    ) -> Result<Query, QueryError> {
        let state = match state {
            None => None,
            Some(s) => {
                Some(*STATE_CODES.iter().find(|c| **c == s).ok_or_else(|| QueryError::State(s.to_string()))?)
            }
        };
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| QueryError::Limit(l.to_string()))?,
        };
        let offset = match offset {
            None => 0,
            Some(o) => o.parse::<usize>().map_err(|_| QueryError::Offset(o.to_string()))?,
        };
        Ok(Query { state, limit, offset })
    }
}

/// One page of the outbox, oldest first (by queued time, then id), with the counts over all
/// of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Entries still to be delivered (queued, in flight or failed and waiting), whatever
    /// the filter.
    pub pending: usize,
    /// Entries matching the filter, on every page.
    pub count: usize,
    pub offset: usize,
    pub limit: usize,
    /// Where the next page starts, if there is one.
    pub next_offset: Option<usize>,
    pub entries: Vec<OutboxEntry>,
}

/// Whether the entry still waits for a provider to accept it.
pub fn is_pending(state: &State) -> bool {
    matches!(state, State::Queued | State::InFlight { .. } | State::Failed { .. })
}

/// Counts the whole outbox entry by entry, and reads the page `query` asks for.
pub fn list(identity: &impl KeyValue, query: &Query) -> Result<Listing, StoreError> {
    let mut pending = 0;
    let mut matching: Vec<(Timestamp, String)> = Vec::new();
    for key in identity.keys()? {
        let Some(id) = key.strip_prefix(keys::OUTBOX_PREFIX) else { continue };
        // An entry that no longer reads (removed, or not an entry) is no one's to list.
        let Some(entry) = get_json::<OutboxEntry>(identity, &key).ok().flatten() else { continue };
        if is_pending(entry.state()) {
            pending += 1;
        }
        if query.state.is_none_or(|s| entry.state().code() == s) {
            matching.push((entry.message.queued_at, id.to_string()));
        }
    }
    matching.sort_unstable();
    let count = matching.len();
    let end = query.offset.saturating_add(query.limit).min(count);
    let page = matching.get(query.offset..end).unwrap_or_default();
    let mut entries = Vec::with_capacity(page.len());
    for (_, id) in page {
        if let Some(entry) = get_json::<OutboxEntry>(identity, &keys::outbox(id)).ok().flatten() {
            entries.push(entry);
        }
    }
    Ok(Listing {
        pending,
        count,
        offset: query.offset,
        limit: query.limit,
        next_offset: (end < count).then_some(end),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaint::Channel;
    use crate::delivery::outbox::QueuedMessage;
    use crate::language::Language;
    use crate::store::MemoryStore;

    fn entry(id: &str, queued_at: i64, state: State) -> OutboxEntry {
        let mut e = OutboxEntry::new(QueuedMessage {
            id: id.to_string(),
            ticket: "NTB-2026-000001".to_string(),
            template: "complaint-received".to_string(),
            language: Language::Id,
            channel: Channel::Sms,
            recipient: "+6281234567890".to_string(),
            fields: vec![],
            queued_at: Timestamp(queued_at),
        });
        e.delivery.state = state;
        e
    }

    fn store(entries: &[OutboxEntry]) -> MemoryStore {
        let s = MemoryStore::new();
        for e in entries {
            s.set(&keys::outbox(&e.message.id), &serde_json::to_vec(e).unwrap()).unwrap();
        }
        s.set("reporter/NTB-2026-000001", b"{}").unwrap();
        s.set("outbox/broken", b"not json").unwrap();
        s
    }

    #[test]
    fn pages_are_disjoint_ordered_and_cover_every_entry() {
        let all: Vec<OutboxEntry> =
            (0..25).map(|i| entry(&format!("m{:02}", 24 - i), i, State::Queued)).collect();
        let s = store(&all);
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let q = Query::parse(None, Some("10"), Some(&offset.to_string())).unwrap();
            let l = list(&s, &q).unwrap();
            assert_eq!((l.count, l.pending), (25, 25));
            assert!(l.entries.len() <= 10);
            seen.extend(l.entries.iter().map(|e| e.message.queued_at.0));
            match l.next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>(), "oldest first, each once");
        let past = list(&s, &Query::parse(None, None, Some("100")).unwrap()).unwrap();
        assert_eq!((past.count, past.entries.len(), past.next_offset), (25, 0, None));
    }

    #[test]
    fn counts_pending_over_all_and_count_over_the_filter() {
        let s = store(&[
            entry("a", 1, State::Queued),
            entry("b", 2, State::Failed { next_attempt_at: Timestamp(9) }),
            entry("c", 3, State::Sent { at: Timestamp(4) }),
            entry("d", 4, State::DeadLetter { at: Timestamp(5) }),
            entry("e", 5, State::DeadLetter { at: Timestamp(6) }),
        ]);
        let dead = list(&s, &Query::parse(Some("dead-letter"), Some("1"), None).unwrap()).unwrap();
        assert_eq!((dead.pending, dead.count, dead.next_offset), (2, 2, Some(1)));
        assert_eq!(dead.entries.iter().map(|e| e.message.id.as_str()).collect::<Vec<_>>(), ["d"]);
        let everything = list(&s, &Query::parse(None, None, None).unwrap()).unwrap();
        assert_eq!((everything.count, everything.entries.len()), (5, 5));
    }

    #[test]
    fn refuses_limits_offsets_and_states_out_of_range() {
        for l in ["0", "1001", "-1", "ten", ""] {
            assert_eq!(Query::parse(None, Some(l), None).unwrap_err().parameter(), "limit", "{l}");
        }
        assert_eq!(Query::parse(None, None, Some("-5")).unwrap_err().parameter(), "offset");
        assert_eq!(Query::parse(Some("lost"), None, None).unwrap_err().parameter(), "state");
        assert_eq!(Query::parse(None, Some("1000"), None).unwrap().limit, MAX_LIMIT);
        assert_eq!(
            Query::parse(None, None, None).unwrap(),
            Query { state: None, limit: DEFAULT_LIMIT, offset: 0 }
        );
        let codes = [
            State::Queued,
            State::InFlight { claim: String::new(), lease_until: Timestamp(0) },
            State::Failed { next_attempt_at: Timestamp(0) },
            State::Sent { at: Timestamp(0) },
            State::Delivered { at: Timestamp(0) },
            State::Read { at: Timestamp(0) },
            State::DeadLetter { at: Timestamp(0) },
        ]
        .map(|s| s.code());
        assert_eq!(codes, STATE_CODES, "every state can be filtered on");
    }
}
