//! Likely duplicates: the same reporter sending very similar text within a day. They are
//! linked and flagged for the verifier, never dropped: a citizen who writes twice may have
//! two problems, and only a person can tell.
//!
//! The reporter's recent complaints are kept in the identity store under a hash of their
//! contact (so listing keys reveals no one), as a short list of (ticket, time, words).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::complaint::Reporter;
use crate::store::{created_here, update_json, KeyValue, StoreError};
use crate::ticket::Ticket;

pub const WINDOW_MS: i64 = 24 * 3600 * 1000;
/// How many of a reporter's recent complaints are compared: the per-sender rate limit keeps
/// real reporters far below this; the cap keeps the record small whatever happens.
pub const KEEP: usize = 20;
/// Share of distinct words two texts must have in common to count as very similar.
pub const SIMILARITY: f64 = 0.6;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Recent {
    ticket: Ticket,
    at: Timestamp,
    words: Vec<String>,
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

/// Jaccard similarity of the distinct words of two texts.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

fn contact_key(reporter: &Reporter) -> Option<String> {
    let contact = reporter
        .phone
        .as_ref()
        .map(|p| p.as_str().to_string())
        .or_else(|| reporter.email.as_ref().map(|e| e.as_str().to_lowercase()))
        .or_else(|| reporter.handle.clone())?;
    let digest = Sha256::digest(contact.as_bytes());
    Some(format!("recent/{}", crate::hex::encode(&digest[..16])))
}

/// Remember a new complaint of this reporter and answer the earlier one it likely
/// duplicates, if any.
pub fn note(
    identity: &impl KeyValue,
    reporter: &Reporter,
    ticket: &Ticket,
    text: &str,
    now: Timestamp,
) -> Result<Option<Ticket>, StoreError> {
    let Some(key) = contact_key(reporter) else { return Ok(None) };
    let mine: Vec<String> = words(text).into_iter().collect();
    // A reporter's first complaint creates their list with itself in it: nothing to compare,
    // and three store calls instead of seven.
    let first = vec![Recent { ticket: ticket.clone(), at: now, words: mine.clone() }];
    if created_here(identity, &key, &serde_json::to_vec(&first).expect("recent list encodes"))? {
        return Ok(None);
    }
    let mut found = None;
    update_json(identity, &key, |recent: &mut Vec<Recent>| {
        recent.retain(|r| now.0 - r.at.0 <= WINDOW_MS && &r.ticket != ticket);
        let mine = mine.clone();
        found = recent
            .iter()
            .filter(|r| similarity(&r.words.join(" "), &mine.join(" ")) >= SIMILARITY)
            .map(|r| r.ticket.clone())
            .next_back();
        recent.push(Recent { ticket: ticket.clone(), at: now, words: mine });
        if recent.len() > KEEP {
            recent.drain(..recent.len() - KEEP);
        }
        Ok::<(), ()>(())
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaint::PhoneNumber;
    use crate::store::MemoryStore;

    fn reporter() -> Reporter {
        Reporter { phone: PhoneNumber::parse("081234567890"), ..Default::default() }
    }

    #[test]
    fn the_same_text_twice_in_a_day_is_linked_to_the_first() {
        let identity = MemoryStore::new();
        let (a, b, c) = (
            Ticket::number(2026, 1).unwrap(),
            Ticket::number(2026, 2).unwrap(),
            Ticket::number(2026, 3).unwrap(),
        );
        assert_eq!(
            note(&identity, &reporter(), &a, "Jalan berlubang di depan SDN 3 Mataram", Timestamp(0)).unwrap(),
            None
        );
        let again =
            note(&identity, &reporter(), &b, "jalan BERLUBANG di depan SDN 3, Mataram!!", Timestamp(1_000))
                .unwrap();
        assert_eq!(again, Some(a.clone()));
        // A different problem is not a duplicate; nor is the same text a day later.
        assert_eq!(
            note(&identity, &reporter(), &c, "Lampu jalan mati di Cakranegara", Timestamp(2_000)).unwrap(),
            None
        );
        let d = Ticket::number(2026, 4).unwrap();
        let later = Timestamp(WINDOW_MS + 5_000);
        assert_eq!(
            note(&identity, &reporter(), &d, "Jalan berlubang di depan SDN 3 Mataram", later).unwrap(),
            None
        );
    }

    #[test]
    fn a_reporter_without_contact_is_never_linked() {
        let identity = MemoryStore::new();
        let t = Ticket::number(2026, 1).unwrap();
        assert_eq!(note(&identity, &Reporter::default(), &t, "apa saja", Timestamp(0)).unwrap(), None);
        assert!(identity.keys().unwrap().is_empty());
    }
}
