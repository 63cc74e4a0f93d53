//! Replies on a messaging channel (WhatsApp, Messenger, Instagram, SMS) to what a complaint
//! is waiting for from its complainant: the answer to an officer's question, or the rating
//! of the agency's answer.
//!
//! The sender is known by the conversation, not by the tracking code: the channel verified
//! the webhook (its signature), and the sender's address is the one the acknowledgement went
//! to. [`register`] notes, in the identity store (it names a sender), which tickets were
//! acknowledged to which address; a later message from that address finds its cases there.
//!
//! - A case waiting for information (`awaiting_information_since`) takes the reply as the
//!   complainant's `provide-information` (the pause ends), whatever the conversation window.
//! - An answered case (`responded`) takes a rating: a score `1`–`5` and `SUDAH`/`BELUM`
//!   (`YA`/`TIDAK`, `SEBAGIAN`; English `YES`/`NO`/`PARTLY`), in one message (`4 SUDAH`) or
//!   two (the part given first is kept until the other arrives). The web's rules apply
//!   ([`crate::casework::rate`]): a score of 1–2 or "not resolved" reopens the case. A reply
//!   that is not a rating gets a short answer saying how to rate, and its text is kept on the
//!   case as a follow-up (nothing accepted is lost), never made into a new complaint.
//!
//! A message quoting one of the sender's tickets goes to that case; otherwise to the newest
//! case waiting for the sender.

use serde::{Deserialize, Serialize};

use crate::casework::service::{rate_case, RateError};
use crate::casework::RatingRequest;
use crate::channels::{ticket_reference, InboundMessage};
use crate::clock::Timestamp;
use crate::complaint::{Channel, Complaint, Resolution};
use crate::intake::{message_id, Acknowledgement};
use crate::keys;
use crate::lifecycle::CaseStatus;
use crate::store::{get_json, KeyValue, StoreError};
use crate::ticket::Ticket;

/// How many of a sender's tickets are remembered (the newest).
const REMEMBERED: usize = 20;

/// Template: the rating was recorded.
pub const RATED_TEMPLATE: &str = "rating-recorded";
/// Template: half a rating arrived; asks for the other half.
pub const INCOMPLETE_TEMPLATE: &str = "rating-incomplete";
/// Template: a rating is awaited and this was not one.
pub const HELP_TEMPLATE: &str = "rating-help";

/// Whether replies on `channel` can be taken: the channels a citizen answers on.
pub fn answers_on(channel: Channel) -> bool {
    matches!(channel, Channel::Whatsapp | Channel::Facebook | Channel::Instagram | Channel::Sms)
}

fn index_key(channel: Channel, address: &str) -> String {
    format!("replies/{}/{address}", channel.code())
}

fn pending_key(ticket: &Ticket) -> String {
    format!("rating-pending/{ticket}")
}

/// The address a message came from, as an acknowledgement is addressed: the canonical
/// phone number for SMS, the channel's handle otherwise.
pub fn address_of(msg: &InboundMessage) -> Option<String> {
    match msg.channel {
        Channel::Sms => msg.phone().map(|p| p.as_str().to_string()),
        _ => Some(msg.sender.clone()),
    }
}

/// Note that `ticket` was acknowledged to `address` on `channel`, so a reply from there
/// finds it. Idempotent.
pub fn register(
    identity: &impl KeyValue,
    channel: Channel,
    address: &str,
    ticket: &Ticket,
) -> Result<(), StoreError> {
    if !answers_on(channel) {
        return Ok(());
    }
    let key = index_key(channel, address);
    loop {
        let old = identity.get(&key)?;
        let mut tickets: Vec<Ticket> =
            old.as_deref().and_then(|v| serde_json::from_slice(v).ok()).unwrap_or_default();
        if tickets.contains(ticket) {
            return Ok(());
        }
        tickets.push(ticket.clone());
        let excess = tickets.len().saturating_sub(REMEMBERED);
        tickets.drain(..excess);
        let new = serde_json::to_vec(&tickets).expect("tickets encode");
        match old {
            None => {
                crate::store::create_once(identity, &key, b"[]")?;
                continue;
            }
            Some(old) if identity.compare_and_swap(&key, &old, &new)? => return Ok(()),
            Some(_) => continue,
        }
    }
}

/// What a complaint waits for from its complainant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Awaiting {
    Information,
    Rating,
}

fn awaiting(c: &Complaint) -> Option<Awaiting> {
    if !c.status.is_open() {
        return None;
    }
    if c.case.awaiting_information_since.is_some() {
        Some(Awaiting::Information)
    } else if c.status == CaseStatus::Responded {
        Some(Awaiting::Rating)
    } else {
        None
    }
}

/// The sender's case waiting for a reply, if any: one quoted in the message, else the newest.
pub fn waiting_case(
    store: &impl KeyValue,
    identity: &impl KeyValue,
    msg: &InboundMessage,
    conversation_ticket: Option<Ticket>,
) -> Result<Option<(Complaint, Awaiting)>, StoreError> {
    let Some(address) = address_of(msg) else { return Ok(None) };
    let mut tickets: Vec<Ticket> = get_json(identity, &index_key(msg.channel, &address))?.unwrap_or_default();
    if let Some(t) = conversation_ticket {
        if !tickets.contains(&t) {
            tickets.push(t);
        }
    }
    if let Some(quoted) = msg.text_or_caption().and_then(ticket_reference) {
        if let Some(pos) = tickets.iter().position(|t| *t == quoted) {
            let t = tickets.remove(pos);
            tickets.push(t);
        }
    }
    let keys: Vec<String> = tickets.iter().map(keys::complaint).collect();
    let records = store.get_many(&keys)?;
    for value in records.into_iter().rev().flatten() {
        if let Ok(c) = serde_json::from_slice::<Complaint>(&value) {
            if let Some(a) = awaiting(&c) {
                return Ok(Some((c, a)));
            }
        }
    }
    Ok(None)
}

/// The parts of a rating a message carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingParts {
    pub score: Option<u8>,
    pub resolved: Option<Resolution>,
}

impl RatingParts {
    fn merged(self, earlier: RatingParts) -> RatingParts {
        RatingParts { score: self.score.or(earlier.score), resolved: self.resolved.or(earlier.resolved) }
    }

    fn complete(self) -> Option<RatingRequest> {
        Some(RatingRequest { score: self.score?, resolved: self.resolved?, comment: None })
    }
}

/// Read a reply as a rating: every word must be a score (`1`–`5`, once) or a resolution
/// keyword (once); punctuation around words is ignored. `None` when it is anything else.
pub fn parse_rating(text: &str) -> Option<RatingParts> {
    let mut parts = RatingParts::default();
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | '/' | '-' | ';' | ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase)
        .collect();
    if words.is_empty() {
        return None;
    }
    for w in words {
        let (score, resolved) = match w.as_str() {
            "1" | "2" | "3" | "4" | "5" => (Some(w.parse::<u8>().expect("digit")), None),
            "SUDAH" | "YA" | "YES" | "Y" | "SELESAI" => (None, Some(Resolution::Yes)),
            "BELUM" | "TIDAK" | "NO" | "N" => (None, Some(Resolution::No)),
            "SEBAGIAN" | "PARTLY" => (None, Some(Resolution::Partly)),
            _ => return None,
        };
        if (score.is_some() && parts.score.is_some()) || (resolved.is_some() && parts.resolved.is_some()) {
            return None;
        }
        parts = RatingParts { score: score.or(parts.score), resolved: resolved.or(parts.resolved) };
    }
    Some(parts)
}

/// What became of a reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Replied {
    /// Recorded as the information the officer asked for.
    Information(Ticket),
    /// The rating was recorded; whether it reopened the case.
    Rated { ticket: Ticket, reopened: bool },
    /// Half a rating, kept; the other half was asked for.
    Incomplete(Ticket),
    /// Not a rating while one is awaited: kept as a follow-up, and the sender told how.
    NotARating(Ticket),
}

impl Replied {
    pub fn ticket(&self) -> &Ticket {
        match self {
            Replied::Information(t)
            | Replied::Rated { ticket: t, .. }
            | Replied::Incomplete(t)
            | Replied::NotARating(t) => t,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Replied::Information(_) => "information",
            Replied::Rated { reopened: false, .. } => "rated",
            Replied::Rated { reopened: true, .. } => "rated-reopened",
            Replied::Incomplete(_) => "rating-incomplete",
            Replied::NotARating(_) => "rating-help",
        }
    }

    /// The short answer to send back on the sender's channel, if any.
    pub fn answer(&self, msg: &InboundMessage, case: &Complaint, now: Timestamp) -> Option<Acknowledgement> {
        let template = match self {
            Replied::Information(_) => return None,
            Replied::Rated { .. } => RATED_TEMPLATE,
            Replied::Incomplete(_) => INCOMPLETE_TEMPLATE,
            Replied::NotARating(_) => HELP_TEMPLATE,
        };
        let recipient = address_of(msg)?;
        let ticket = self.ticket();
        // One answer per message: a redelivery writes the same outbox key.
        let event = format!("reply/{}/{}", template, msg.external_id);
        Some(Acknowledgement {
            id: message_id(&event, ticket, msg.channel, &recipient),
            ticket: ticket.clone(),
            channel: msg.channel,
            recipient,
            template: template.into(),
            language: case.language,
            fields: vec![
                ("ticket".into(), ticket.to_string()),
                ("status".into(), case.status.label().get(case.language).to_string()),
            ],
            queued_at: now,
        })
    }
}

/// Take a message as a reply to what the sender's case waits for, if it waits for anything:
/// `None` leaves the message to the conversation (a follow-up or a new complaint).
/// `add_information` records text on a case (the conversation's follow-up, which ends a
/// pause for information); it is passed in so this module stays apart from message ids.
pub fn take(
    store: &impl KeyValue,
    identity: &impl KeyValue,
    msg: &InboundMessage,
    conversation_ticket: Option<Ticket>,
    now: Timestamp,
    add_information: impl FnOnce(&Ticket) -> Result<bool, StoreError>,
) -> Result<Option<(Replied, Complaint)>, StoreError> {
    let Some((case, awaits)) = waiting_case(store, identity, msg, conversation_ticket)? else {
        return Ok(None);
    };
    let ticket = case.ticket.clone();
    let replied = match awaits {
        Awaiting::Information => {
            add_information(&ticket)?;
            Replied::Information(ticket.clone())
        }
        Awaiting::Rating => {
            let text = msg.text_or_caption().unwrap_or("");
            // "NTB-26-7KQ4MX 5 SUDAH": the ticket says which case, the rest is the rating.
            let rest = match ticket_reference(text) {
                Some(t) => text.to_uppercase().replace(t.as_str(), " "),
                None => text.to_string(),
            };
            match parse_rating(&rest) {
                None => {
                    if !text.trim().is_empty() || !msg.media.is_empty() {
                        add_information(&ticket)?;
                    }
                    Replied::NotARating(ticket.clone())
                }
                Some(parts) => {
                    let earlier: RatingParts = get_json(identity, &pending_key(&ticket))?.unwrap_or_default();
                    let parts = parts.merged(earlier);
                    match parts.complete() {
                        None => {
                            identity
                                .set(&pending_key(&ticket), &serde_json::to_vec(&parts).expect("encodes"))?;
                            Replied::Incomplete(ticket.clone())
                        }
                        Some(rating) => {
                            let reopened = rating.reopens();
                            match rate_case(store, &ticket, rating, now).map(|(case, _)| case) {
                                Ok(_) => {}
                                Err(RateError::Store(e)) => return Err(e),
                                // Rated meanwhile (another channel, the web): say so as recorded.
                                Err(_) => {}
                            }
                            identity.delete(&pending_key(&ticket))?;
                            Replied::Rated { ticket: ticket.clone(), reopened }
                        }
                    }
                }
            }
        }
    };
    let case: Complaint = get_json(store, &keys::complaint(&ticket))?.unwrap_or(case);
    Ok(Some((replied, case)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::casework::tests_support;
    use crate::store::{update_json, MemoryStore};

    fn message(sender: &str, text: &str, channel: Channel) -> InboundMessage {
        InboundMessage {
            channel,
            external_id: format!("m-{text}"),
            sender: sender.into(),
            sender_name: None,
            text: Some(text.into()),
            media: vec![],
            location: None,
            sent_at: None,
        }
    }

    fn case(store: &MemoryStore, seq: u64, status: CaseStatus) -> Ticket {
        let ticket = Ticket::number(2026, seq).unwrap();
        let mut c = tests_support::complaint(ticket.clone());
        c.status = status;
        store.set(&keys::complaint(&ticket), &serde_json::to_vec(&c).unwrap()).unwrap();
        ticket
    }

    fn status(store: &MemoryStore, t: &Ticket) -> CaseStatus {
        get_json::<Complaint>(store, &keys::complaint(t)).unwrap().unwrap().status
    }

    #[test]
    fn a_rating_reply_is_read_in_either_order_and_language() {
        let p = |s| parse_rating(s);
        assert_eq!(p("4 SUDAH"), Some(RatingParts { score: Some(4), resolved: Some(Resolution::Yes) }));
        assert_eq!(p("belum, 2"), Some(RatingParts { score: Some(2), resolved: Some(Resolution::No) }));
        assert_eq!(p("YES 5!"), Some(RatingParts { score: Some(5), resolved: Some(Resolution::Yes) }));
        assert_eq!(p("no"), Some(RatingParts { score: None, resolved: Some(Resolution::No) }));
        assert_eq!(p("3"), Some(RatingParts { score: Some(3), resolved: None }));
        for not_a_rating in ["6", "4 5", "jalannya masih rusak", "sudah belum", ""] {
            assert_eq!(p(not_a_rating), None, "{not_a_rating}");
        }
    }

    #[test]
    fn a_low_score_by_sms_reopens_and_a_good_one_closes() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let low = case(&store, 1, CaseStatus::Responded);
        let good = case(&store, 2, CaseStatus::Responded);
        register(&identity, Channel::Sms, "+6281200000001", &low).unwrap();
        register(&identity, Channel::Sms, "+6281200000002", &good).unwrap();
        let none = |_: &Ticket| Ok(true);
        let r = take(
            &store,
            &identity,
            &message("+6281200000001", "2 SUDAH", Channel::Sms),
            None,
            Timestamp(5),
            none,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.0, Replied::Rated { ticket: low.clone(), reopened: true });
        assert_eq!(status(&store, &low), CaseStatus::Reopened);
        let r = take(
            &store,
            &identity,
            &message("+6281200000002", "5 sudah", Channel::Sms),
            None,
            Timestamp(5),
            none,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.0, Replied::Rated { ticket: good.clone(), reopened: false });
        assert_eq!(status(&store, &good), CaseStatus::Closed);
        assert_eq!(
            r.0.answer(&message("+6281200000002", "5 sudah", Channel::Sms), &r.1, Timestamp(5))
                .unwrap()
                .template,
            RATED_TEMPLATE
        );
    }

    #[test]
    fn half_a_rating_is_kept_until_the_other_half_arrives() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let t = case(&store, 3, CaseStatus::Responded);
        register(&identity, Channel::Whatsapp, "6281200000003", &t).unwrap();
        let ok = |_: &Ticket| Ok(true);
        let first = take(
            &store,
            &identity,
            &message("6281200000003", "4", Channel::Whatsapp),
            None,
            Timestamp(1),
            ok,
        );
        assert_eq!(first.unwrap().unwrap().0, Replied::Incomplete(t.clone()));
        assert_eq!(status(&store, &t), CaseStatus::Responded);
        let second = take(
            &store,
            &identity,
            &message("6281200000003", "BELUM", Channel::Whatsapp),
            None,
            Timestamp(2),
            ok,
        );
        assert_eq!(second.unwrap().unwrap().0, Replied::Rated { ticket: t.clone(), reopened: true });
        let c: Complaint = get_json(&store, &keys::complaint(&t)).unwrap().unwrap();
        assert_eq!(c.case.rating.as_ref().map(|r| (r.score, r.resolved)), Some((4, Resolution::No)));
        assert!(!identity.exists(&pending_key(&t)).unwrap());
    }

    #[test]
    fn free_text_while_a_rating_is_awaited_is_kept_and_answered_with_help() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let t = case(&store, 4, CaseStatus::Responded);
        register(&identity, Channel::Facebook, "psid-1", &t).unwrap();
        let kept = std::cell::Cell::new(false);
        let r = take(
            &store,
            &identity,
            &message("psid-1", "kok belum diperbaiki?", Channel::Facebook),
            None,
            Timestamp(1),
            |x| {
                kept.set(*x == t);
                Ok(true)
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.0, Replied::NotARating(t.clone()));
        assert!(kept.get());
        assert_eq!(status(&store, &t), CaseStatus::Responded);
    }

    #[test]
    fn a_reply_to_a_question_is_information_and_a_stranger_or_a_quiet_case_is_not_a_reply() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let t = case(&store, 5, CaseStatus::InProgress);
        register(&identity, Channel::Instagram, "igsid-1", &t).unwrap();
        let ok = |_: &Ticket| Ok(true);
        // In progress, nothing asked: not a reply.
        assert!(take(
            &store,
            &identity,
            &message("igsid-1", "halo", Channel::Instagram),
            None,
            Timestamp(1),
            ok
        )
        .unwrap()
        .is_none());
        update_json(&store, &keys::complaint(&t), |c: &mut Complaint| {
            c.case.awaiting_information_since = Some(Timestamp(2));
            Ok::<(), ()>(())
        })
        .unwrap();
        let r = take(
            &store,
            &identity,
            &message("igsid-1", "RT 03 dekat masjid", Channel::Instagram),
            None,
            Timestamp(3),
            ok,
        );
        assert_eq!(r.unwrap().unwrap().0, Replied::Information(t.clone()));
        assert!(take(
            &store,
            &identity,
            &message("igsid-2", "RT 03", Channel::Instagram),
            None,
            Timestamp(3),
            ok
        )
        .unwrap()
        .is_none());
        // The same handle on another channel is another person.
        assert!(take(
            &store,
            &identity,
            &message("igsid-1", "RT 03", Channel::Facebook),
            None,
            Timestamp(3),
            ok
        )
        .unwrap()
        .is_none());
    }

    #[test]
    fn a_quoted_ticket_picks_which_of_the_senders_cases_the_reply_is_for() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let older = case(&store, 6, CaseStatus::Responded);
        let newer = case(&store, 7, CaseStatus::Responded);
        register(&identity, Channel::Whatsapp, "628", &older).unwrap();
        register(&identity, Channel::Whatsapp, "628", &newer).unwrap();
        register(&identity, Channel::Whatsapp, "628", &newer).unwrap();
        let ok = |_: &Ticket| Ok(true);
        let r = take(
            &store,
            &identity,
            &message("628", &format!("{older} 5 sudah"), Channel::Whatsapp),
            None,
            Timestamp(1),
            ok,
        );
        assert_eq!(r.unwrap().unwrap().0, Replied::Rated { ticket: older.clone(), reopened: false });
        assert_eq!(status(&store, &older), CaseStatus::Closed);
        let r =
            take(&store, &identity, &message("628", "5 sudah", Channel::Whatsapp), None, Timestamp(1), ok);
        assert_eq!(r.unwrap().unwrap().0, Replied::Rated { ticket: newer, reopened: false });
    }
}
