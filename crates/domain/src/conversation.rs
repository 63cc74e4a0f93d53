//! Messages from messaging channels (WhatsApp, Messenger, Instagram, SMS) into complaints,
//! exactly once.
//!
//! Messaging is a conversation, not a form: a citizen writes several messages about one
//! problem. So a message quoting a ticket of the sender's own is added to that complaint; a
//! message within the conversation window of the sender's open complaint is added to it; any
//! other message opens a new complaint. Providers redeliver, so every message is claimed by
//! its (channel, provider id) before anything is written, and a redelivery finds the claim.
//!
//! Keys: the claim and the id → ticket mapping live in the shared store, so they name the
//! message by its [`Pseudonym`] only (a WhatsApp message id carries the sender's number); the
//! conversation (sender → ticket) names a sender, so it lives in the identity store.

use serde::{Deserialize, Serialize};

use crate::channels::{ticket_reference, InboundMessage};
use crate::clock::Timestamp;
use crate::complaint::{
    limits, Attachment, Channel, Complaint, FollowUp, Location, Privacy, Reporter, Submission,
};
use crate::idempotency::{self, Scope};
use crate::keys;
use crate::language::Language;
use crate::lifecycle::{Action, Actor, Event};
use crate::pseudonym::{Kind, Pseudonym, PseudonymKey};
use crate::region::RegionCode;
use crate::store::{get_json, update_json, KeyValue, StoreError};
use crate::ticket::Ticket;

/// How long after a citizen's last message a new one still belongs to the same complaint,
/// unless configured otherwise.
pub const DEFAULT_WINDOW_MS: i64 = 24 * 3600 * 1000;

fn conversation_key(channel: Channel, sender: &str) -> String {
    format!("conversation/{}/{sender}", channel.code())
}

fn scope_name(channel: Channel) -> String {
    format!("inbound/{}", channel.code())
}

pub use crate::idempotency::Claim;

/// What the shared store knows a message by: the pseudonym of its provider id on its channel.
pub fn message_pseudonym(msg: &InboundMessage, key: &PseudonymKey) -> Pseudonym {
    Pseudonym::of(Kind::Message(msg.channel), &msg.external_id, key)
}

/// Claim a message by (the pseudonym of) its provider id.
pub fn claim(
    store: &impl KeyValue,
    msg: &InboundMessage,
    key: &PseudonymKey,
    now: Timestamp,
) -> Result<Claim, StoreError> {
    let name = scope_name(msg.channel);
    idempotency::claim(store, &Scope { name: &name, key: message_pseudonym(msg, key).as_str() }, now)
}

/// Note the ticket a claimed message's new complaint was numbered, before the complaint is
/// committed: if the host dies after the commit and before [`remember`], the redelivery is
/// answered with that complaint instead of making a second one (see [`idempotency`]).
pub fn reserve(
    store: &impl KeyValue,
    msg: &InboundMessage,
    key: &PseudonymKey,
    ticket: &Ticket,
) -> Result<(), StoreError> {
    let name = scope_name(msg.channel);
    idempotency::reserve(store, &Scope { name: &name, key: message_pseudonym(msg, key).as_str() }, ticket)
}

/// Where a claimed message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Add it to this complaint of the sender's.
    Existing(Ticket),
    /// Open a new complaint.
    New,
}

#[derive(Serialize, Deserialize)]
struct Conversation {
    ticket: Ticket,
    last_at: Timestamp,
}

/// Decide where a message goes: a quoted ticket of the sender's own, else their open
/// conversation within `window_ms`, else a new complaint.
pub fn target(
    store: &impl KeyValue,
    identity: &impl KeyValue,
    msg: &InboundMessage,
    now: Timestamp,
    window_ms: i64,
) -> Result<Target, StoreError> {
    if let Some(quoted) = msg.text_or_caption().and_then(ticket_reference) {
        let reporter: Option<Reporter> = get_json(identity, &keys::reporter(&quoted))?;
        if reporter.is_some_and(|r| sent_by(&r, msg)) && is_open(store, &quoted)? {
            return Ok(Target::Existing(quoted));
        }
    }
    let conversation: Option<Conversation> = get_json(identity, &conversation_key(msg.channel, &msg.sender))?;
    if let Some(c) = conversation {
        if now.0 - c.last_at.0 <= window_ms && is_open(store, &c.ticket)? {
            return Ok(Target::Existing(c.ticket));
        }
    }
    Ok(Target::New)
}

/// The ticket of the sender's conversation on this channel, however old (for replies to a
/// case that waits for them: `replies`).
pub fn open_ticket(identity: &impl KeyValue, msg: &InboundMessage) -> Result<Option<Ticket>, StoreError> {
    let conversation: Option<Conversation> = get_json(identity, &conversation_key(msg.channel, &msg.sender))?;
    Ok(conversation.map(|c| c.ticket))
}

/// Whether a reporter on record is the sender of a message: a citizen may add to their own
/// complaint by quoting its ticket, never to someone else's.
fn sent_by(reporter: &Reporter, msg: &InboundMessage) -> bool {
    reporter.handle.as_deref() == Some(msg.sender.as_str())
        || (reporter.phone.is_some() && reporter.phone == msg.phone())
}

fn is_open(store: &impl KeyValue, ticket: &Ticket) -> Result<bool, StoreError> {
    let c: Option<Complaint> = get_json(store, &keys::complaint(ticket))?;
    Ok(c.is_some_and(|c| c.status.is_open()))
}

fn attachments(msg: &InboundMessage) -> Vec<Attachment> {
    msg.media
        .iter()
        .map(|m| Attachment {
            kind: format!("{:?}", m.kind).to_lowercase(),
            reference: m.provider_ref.clone(),
            mime_type: m.mime_type.clone(),
            caption: m.caption.clone(),
            size: None,
        })
        .collect()
}

/// At most `max` characters of `text`: the limits of a web complaint hold for one opened by a
/// message too, whatever length a provider passes on (a Twilio `ProfileName` or `Address` is
/// whatever the sender's client put there).
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The reporter a message reveals: its sender's handle or number and profile name.
pub fn reporter_of(msg: &InboundMessage) -> Reporter {
    Reporter {
        name: msg.sender_name.as_deref().map(|n| clip(n, limits::NAME_MAX_CHARS)),
        phone: msg.phone(),
        email: None,
        handle: (msg.channel != Channel::Sms).then(|| msg.sender.clone()),
    }
}

/// A new complaint from a message. Free text names no region, so the complaint is placed
/// in the province (`52`) until a verifier places it, unless the message shares a position
/// inside a regency/city; the text still drives keyword routing.
pub fn submission_from(msg: &InboundMessage) -> Submission {
    let description = msg.text_or_caption().map(str::to_string).unwrap_or_else(|| match msg.media.len() {
        0 if msg.location.is_some() => "(lokasi dikirim tanpa keterangan)".to_string(),
        0 => "(pesan kosong)".to_string(),
        _ => "(lampiran dikirim tanpa keterangan)".to_string(),
    });
    let description = clip(&description, limits::DESCRIPTION_MAX_CHARS);
    Submission {
        title: None,
        attachments: attachments(msg),
        description,
        category: None,
        location: Location {
            // A shared position places it in its regency/city (`boundaries`); otherwise the
            // province, for the verifier to place.
            region_code: msg
                .location
                .as_ref()
                .and_then(|l| crate::boundaries::locate(&l.coordinates))
                .unwrap_or_else(|| RegionCode::parse("52").expect("province code")),
            address: msg
                .location
                .as_ref()
                .and_then(|l| l.address.as_deref().or(l.name.as_deref()))
                .map(|a| clip(a, limits::ADDRESS_MAX_CHARS)),
            coordinates: msg.location.as_ref().map(|l| l.coordinates),
        },
        privacy: Privacy::Anonymous,
        reporter: reporter_of(msg),
        language: Language::Id,
    }
}

/// Add a message to an existing complaint, once: a redelivery of a message already added
/// (the host died before [`remember`]) finds it there and adds nothing. A case waiting for
/// information from the complainant gets it: the pause ends and the history records that
/// information arrived. Whether the complaint exists (and now has the message).
pub fn add_follow_up(
    store: &impl KeyValue,
    ticket: &Ticket,
    msg: &InboundMessage,
    key: &PseudonymKey,
    now: Timestamp,
) -> Result<bool, StoreError> {
    // What the follow-up keeps of the message it came in (see [`FollowUp::message`]).
    let digest = message_pseudonym(msg, key).as_str().to_string();
    let updated = update_json(store, &keys::complaint(ticket), |c: &mut Complaint| {
        if c.case.follow_ups.iter().any(|f| f.message.as_deref() == Some(digest.as_str())) {
            return Err(());
        }
        c.case.follow_ups.push(FollowUp {
            at: now,
            channel: msg.channel,
            text: msg.text_or_caption().map(str::to_string),
            attachments: attachments(msg),
            message: Some(digest.clone()),
        });
        if let Some(since) = c.case.awaiting_information_since.take() {
            c.case.pauses.push((since, now));
            c.history.push(Event {
                at: now,
                actor: Actor::Complainant,
                action: Action::ProvideInformation,
                from: Some(c.status),
                to: c.status,
                public_note: Some("Pelapor mengirim informasi tambahan.".into()),
                internal_note: None,
            });
        }
        c.updated_at = now;
        Ok(())
    })?;
    // A pause that ended moves the deadlines the open-case index keeps.
    if let Some(Ok(c)) = &updated {
        crate::open_index::record(store, crate::queues::queue_of(c), c)?;
    }
    Ok(updated.is_some())
}

/// Record that a message was processed into `ticket`, and keep the sender's conversation
/// open on it. Written last: a crash before it lets the redelivery process the message.
pub fn remember(
    store: &impl KeyValue,
    identity: &impl KeyValue,
    msg: &InboundMessage,
    key: &PseudonymKey,
    ticket: &Ticket,
    now: Timestamp,
) -> Result<(), StoreError> {
    let conversation = Conversation { ticket: ticket.clone(), last_at: now };
    identity.set(
        &conversation_key(msg.channel, &msg.sender),
        &serde_json::to_vec(&conversation).expect("encodes"),
    )?;
    let name = scope_name(msg.channel);
    idempotency::complete(store, &Scope { name: &name, key: message_pseudonym(msg, key).as_str() }, ticket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::casework::tests_support;
    use crate::lifecycle::CaseStatus;
    use crate::store::MemoryStore;

    fn k() -> PseudonymKey {
        crate::pseudonym::DeploymentKey::new("test-deployment-key").unwrap().pseudonyms()
    }

    fn message(id: &str, sender: &str, text: &str) -> InboundMessage {
        InboundMessage {
            channel: Channel::Whatsapp,
            external_id: id.into(),
            sender: sender.into(),
            sender_name: Some("Baiq".into()),
            text: Some(text.into()),
            media: vec![],
            location: None,
            sent_at: None,
        }
    }

    fn open_case(store: &MemoryStore, identity: &MemoryStore, seq: u64, sender: &str) -> Ticket {
        let ticket = Ticket::number(2026, seq).unwrap();
        let mut c = tests_support::complaint(ticket.clone());
        c.status = CaseStatus::InProgress;
        store.set(&keys::complaint(&ticket), &serde_json::to_vec(&c).unwrap()).unwrap();
        let reporter = Reporter { handle: Some(sender.into()), ..Default::default() };
        identity.set(&keys::reporter(&ticket), &serde_json::to_vec(&reporter).unwrap()).unwrap();
        ticket
    }

    #[test]
    fn the_shared_store_knows_a_message_only_by_its_pseudonym() {
        // A WhatsApp message id is base64 of the sender's number and a random part.
        let wamid = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBDNzZCRTNCQzY5QjI4NjhFNzkA";
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let msg = message(wamid, "6281234567890", "jalan rusak");
        assert_eq!(claim(&store, &msg, &k(), Timestamp(0)).unwrap(), Claim::First);
        let t = Ticket::number(2026, 1).unwrap();
        reserve(&store, &msg, &k(), &t).unwrap();
        remember(&store, &identity, &msg, &k(), &t, Timestamp(1)).unwrap();
        let opened = open_case(&store, &identity, 2, "6281234567890");
        assert!(add_follow_up(
            &store,
            &opened,
            &message("wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIY", "x", "y"),
            &k(),
            Timestamp(2)
        )
        .unwrap());
        for key in store.keys().unwrap() {
            let value = String::from_utf8_lossy(&store.get(&key).unwrap().unwrap()).to_string();
            for needle in ["HBgN", "wamid", "6281234567890", "81234567890"] {
                assert!(!key.contains(needle) && !value.contains(needle), "{needle} in {key} = {value}");
            }
        }
        // …and still answers a redelivery.
        assert_eq!(claim(&store, &msg, &k(), Timestamp(3)).unwrap(), Claim::Done(t));
    }

    #[test]
    fn a_redelivered_message_is_processed_once() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let msg = message("wamid.1", "6281200000001", "Lampu jalan mati");
        assert_eq!(claim(&store, &msg, &k(), Timestamp(0)).unwrap(), Claim::First);
        assert_eq!(claim(&store, &msg, &k(), Timestamp(10)).unwrap(), Claim::InFlight);
        let t = Ticket::number(2026, 1).unwrap();
        remember(&store, &identity, &msg, &k(), &t, Timestamp(20)).unwrap();
        assert_eq!(claim(&store, &msg, &k(), Timestamp(30)).unwrap(), Claim::Done(t));
    }

    #[test]
    fn follow_ups_within_the_window_join_the_open_complaint() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let t = open_case(&store, &identity, 3, "6281200000001");
        let first = message("wamid.3", "6281200000001", "Jalan rusak");
        remember(&store, &identity, &first, &k(), &t, Timestamp(0)).unwrap();
        let next = message("wamid.4", "6281200000001", "Ini fotonya");
        assert_eq!(
            target(&store, &identity, &next, Timestamp(1_000), DEFAULT_WINDOW_MS).unwrap(),
            Target::Existing(t)
        );
        let much_later = Timestamp(DEFAULT_WINDOW_MS + 1_000);
        assert_eq!(target(&store, &identity, &next, much_later, DEFAULT_WINDOW_MS).unwrap(), Target::New);
        let stranger = message("wamid.5", "6281299999999", "Halo");
        assert_eq!(
            target(&store, &identity, &stranger, Timestamp(1_000), DEFAULT_WINDOW_MS).unwrap(),
            Target::New
        );
    }

    #[test]
    fn quoting_ones_own_ticket_attaches_but_quoting_anothers_does_not() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let t = open_case(&store, &identity, 4, "6281200000001");
        let own = message("wamid.6", "6281200000001", &format!("Bagaimana {t}?"));
        assert_eq!(target(&store, &identity, &own, Timestamp(0), 0).unwrap(), Target::Existing(t.clone()));
        let other = message("wamid.7", "6281288888888", &format!("Tambahan untuk {t}"));
        assert_eq!(target(&store, &identity, &other, Timestamp(0), 0).unwrap(), Target::New);
    }

    #[test]
    fn information_arriving_ends_the_pause() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let t = open_case(&store, &identity, 5, "6281200000001");
        update_json(&store, &keys::complaint(&t), |c: &mut Complaint| {
            c.case.awaiting_information_since = Some(Timestamp(100));
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(add_follow_up(
            &store,
            &t,
            &message("wamid.8", "6281200000001", "RT 03"),
            &k(),
            Timestamp(500)
        )
        .unwrap());
        let c: Complaint = get_json(&store, &keys::complaint(&t)).unwrap().unwrap();
        assert_eq!(c.case.pauses, vec![(Timestamp(100), Timestamp(500))]);
        assert_eq!(c.case.follow_ups[0].text.as_deref(), Some("RT 03"));
        assert_eq!(c.history.last().unwrap().action, Action::ProvideInformation);
    }

    #[test]
    fn a_message_whose_complaint_was_committed_before_a_crash_is_answered_with_it() {
        let store = MemoryStore::new();
        let msg = message("wamid.10", "6281200000001", "Jembatan putus");
        assert_eq!(claim(&store, &msg, &k(), Timestamp(0)).unwrap(), Claim::First);
        let t = Ticket::number(2026, 10).unwrap();
        reserve(&store, &msg, &k(), &t).unwrap();
        let c = tests_support::complaint(t.clone());
        store.set(&keys::complaint(&t), &serde_json::to_vec(&c).unwrap()).unwrap();
        // The host dies here, before `remember`: the redelivery, at once or after the claim
        // went stale, is answered with the committed complaint.
        assert_eq!(claim(&store, &msg, &k(), Timestamp(10)).unwrap(), Claim::Done(t.clone()));
        let later = Timestamp(idempotency::CLAIM_TIMEOUT_MS + 20);
        assert_eq!(claim(&store, &msg, &k(), later).unwrap(), Claim::Done(t));
    }

    #[test]
    fn a_follow_up_redelivered_after_a_crash_before_remember_is_not_added_twice() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let t = open_case(&store, &identity, 6, "6281200000001");
        let msg = message("wamid.HBgNNjI4MTIwMDAwMDAwMRUCABIYFjNFQjA", "6281200000001", "Foto kedua");
        assert_eq!(claim(&store, &msg, &k(), Timestamp(0)).unwrap(), Claim::First);
        assert!(add_follow_up(&store, &t, &msg, &k(), Timestamp(10)).unwrap());
        // The host dies here, before `remember`; the claim goes stale and the provider
        // redelivers: the retry takes the claim over and adds the message again.
        let later = Timestamp(idempotency::CLAIM_TIMEOUT_MS + 20);
        assert_eq!(claim(&store, &msg, &k(), later).unwrap(), Claim::First);
        assert!(add_follow_up(&store, &t, &msg, &k(), later).unwrap());
        remember(&store, &identity, &msg, &k(), &t, later).unwrap();
        let c: Complaint = get_json(&store, &keys::complaint(&t)).unwrap().unwrap();
        assert_eq!(c.case.follow_ups.len(), 1);
        // What agencies read keeps no trace of the provider's id (it encodes the number).
        let seen = serde_json::to_string(&c).unwrap();
        assert!(!seen.contains("HBgN") && !seen.contains("wamid"), "{seen}");
        // Another message from the sender is added.
        let next = message("wamid.other", "6281200000001", "Foto ketiga");
        assert!(add_follow_up(&store, &t, &next, &k(), later).unwrap());
        let c: Complaint = get_json(&store, &keys::complaint(&t)).unwrap().unwrap();
        assert_eq!(c.case.follow_ups.len(), 2);
    }

    #[test]
    fn a_new_complaint_from_a_message_keeps_the_sender_as_reporter() {
        let s = submission_from(&message("wamid.9", "6281200000001", "Sampah menumpuk di pasar"));
        assert_eq!(s.reporter.handle.as_deref(), Some("6281200000001"));
        assert_eq!(s.reporter.phone.as_ref().map(|p| p.as_str()), Some("+6281200000001"));
        assert_eq!(s.privacy, Privacy::Anonymous);
        assert_eq!(s.location.region_code.as_str(), "52");
    }

    #[test]
    fn a_shared_location_places_the_complaint_in_its_regency() {
        let mut msg = message("wamid.loc", "6281200000001", "Jalan rusak di sini");
        // Mataram city centre.
        msg.location = Some(crate::channels::SharedLocation {
            coordinates: crate::complaint::Coordinates { lat: -8.5836, lon: 116.1106 },
            name: None,
            address: None,
        });
        assert_eq!(submission_from(&msg).location.region_code.as_str(), "52.71");
    }

    /// Found by `fuzz/` (twilio_form): Twilio passes `ProfileName` and `Address` on as the
    /// sender's client wrote them, and a complaint opened from the message took them whole,
    /// past the limits every web complaint is held to.
    #[test]
    fn a_complaint_from_a_message_keeps_name_and_address_within_the_limits() {
        let name = format!("Bai{}q Nurul", "\0".repeat(180));
        let body = format!(
            "MessageSid=SM1&From=%2B6281234567890&Body=Jalan+rusak&Latitude=-8.7362&Longitude=116.2771\
             &Address={}&ProfileName={}",
            "Jl.+Gajah+Mada+".repeat(40),
            name.replace('\0', "%00").replace(' ', "+"),
        );
        let params = crate::channels::twilio::parse_form(body.as_bytes()).unwrap();
        let msg = crate::channels::twilio::to_message(&params).unwrap();
        assert!(msg.sender_name.as_ref().unwrap().chars().count() > limits::NAME_MAX_CHARS);
        let s = submission_from(&msg);
        let name = s.reporter.name.unwrap();
        assert_eq!(name.chars().count(), limits::NAME_MAX_CHARS);
        assert!(name.starts_with("Bai"));
        let address = s.location.address.unwrap();
        assert_eq!(address.chars().count(), limits::ADDRESS_MAX_CHARS);
        assert!(address.starts_with("Jl. Gajah Mada Jl. Gajah Mada"));
        // Short values pass unchanged.
        let short = submission_from(&message("wamid.2", "6281200000001", "Lampu mati"));
        assert_eq!(short.reporter.name.as_deref(), Some("Baiq"));
    }
}
