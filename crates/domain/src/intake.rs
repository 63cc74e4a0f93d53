//! Receiving a complaint: from a checked submission and routing's decision to the records
//! that are saved, and the order they are saved in.
//!
//! Save order is what makes a crash harmless: identity and outbox first (an orphan there is
//! never acknowledged and names no complaint anyone can see), then the complaint record with
//! its LAPOR! queue marker in one batch (the commit point: once it is there, the complaint
//! exists), then the tallies, which a rebuild from the records can always repair.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::complaint::{Channel, Complaint, Privacy, Reporter, Submission};
use crate::hex::encode as hex;
use crate::keys;
use crate::language::Language;
use crate::lifecycle::{Action, Actor, CaseStatus, Event};
use crate::routing::Decision;
use crate::store::{KeyValue, StoreError};
use crate::summary::tallies_for_received;
use crate::ticket::{Ticket, TicketError, TicketKey};

/// A complaint just received, with what must be kept apart from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    pub complaint: Complaint,
    /// The reporter's identity and contact, for the identity store only.
    pub reporter: Option<Reporter>,
    /// The acknowledgement to queue, if the reporter can be reached.
    pub acknowledgement: Option<Acknowledgement>,
}

/// The message telling the reporter their ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// Derived from (event, recipient, channel): queuing it twice writes the same key.
    pub id: String,
    pub ticket: Ticket,
    pub channel: Channel,
    pub recipient: String,
    pub template: String,
    pub language: Language,
    pub fields: Vec<(String, String)>,
    pub queued_at: Timestamp,
}

/// The template of the acknowledgement.
pub const ACKNOWLEDGEMENT_TEMPLATE: &str = "complaint-received";

/// Everything about a new complaint except what the store assigns.
pub struct Arrival<'a> {
    pub submission: Submission,
    pub channel: Channel,
    pub ticket: Ticket,
    pub decision: Decision,
    pub tracking_secret: &'a str,
    pub tracking_url: &'a str,
    pub now: Timestamp,
}

pub fn receive(arrival: Arrival<'_>) -> Received {
    let Arrival { submission, channel, ticket, decision, tracking_secret, tracking_url, now } = arrival;
    let category = submission.category.or(decision.suggested_category);
    let reporter = (!submission.reporter.is_empty()).then_some(submission.reporter);
    let reporter_name = match submission.privacy {
        Privacy::Public => reporter.as_ref().and_then(|r| r.name.clone()),
        Privacy::Anonymous | Privacy::Confidential => None,
    };
    let reply = reporter.as_ref().and_then(|r| reply_address(r, channel));
    let complaint = Complaint {
        ticket: ticket.clone(),
        channel,
        privacy: submission.privacy,
        title: submission.title,
        description: submission.description,
        category,
        location: submission.location,
        status: CaseStatus::Received,
        unit: decision.unit,
        routing_rule: decision.rule_id,
        received_at: now,
        updated_at: now,
        language: submission.language,
        reporter_name,
        reachable: reply.is_some(),
        tracking_secret_sha256: tracking_secret_sha256(tracking_secret),
        history: vec![Event {
            at: now,
            actor: Actor::Complainant,
            action: Action::Receive,
            from: None,
            to: CaseStatus::Received,
            public_note: None,
            internal_note: None,
        }],
        attachments: submission.attachments,
        external: None,
        case: Default::default(),
    };
    let acknowledgement = reply.map(|(reply_channel, recipient)| Acknowledgement {
        id: message_id("ack", &ticket, reply_channel, &recipient),
        ticket: ticket.clone(),
        channel: reply_channel,
        recipient,
        template: ACKNOWLEDGEMENT_TEMPLATE.into(),
        language: complaint.language,
        fields: vec![
            ("ticket".into(), ticket.to_string()),
            ("tracking_url".into(), tracking_url.to_string()),
            ("status".into(), complaint.status.label().get(complaint.language).to_string()),
        ],
        queued_at: now,
    });
    Received { complaint, reporter, acknowledgement }
}

/// Where to answer a reporter: on their own channel when it can carry a reply, else SMS,
/// else e-mail.
pub fn reply_address(reporter: &Reporter, channel: Channel) -> Option<(Channel, String)> {
    let own = match channel {
        Channel::Whatsapp | Channel::Facebook | Channel::Instagram => {
            reporter.handle.clone().map(|h| (channel, h))
        }
        Channel::Sms => reporter.phone.as_ref().map(|p| (Channel::Sms, p.as_str().to_string())),
        Channel::Email => reporter.email.as_ref().map(|e| (Channel::Email, e.as_str().to_string())),
        _ => None,
    };
    own.or_else(|| reporter.phone.as_ref().map(|p| (Channel::Sms, p.as_str().to_string())))
        .or_else(|| reporter.email.as_ref().map(|e| (Channel::Email, e.as_str().to_string())))
}

/// A stable id for one message: the same event to the same recipient on the same channel.
pub fn message_id(event: &str, ticket: &Ticket, channel: Channel, recipient: &str) -> String {
    let digest = Sha256::digest(format!("{event}\n{ticket}\n{}\n{recipient}", channel.code()).as_bytes());
    hex(&digest[..16])
}

pub fn tracking_secret_sha256(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether a presented tracking secret is the complaint's, compared in constant time.
pub fn tracking_secret_matches(complaint: &Complaint, presented: &str) -> bool {
    let a = tracking_secret_sha256(presented);
    let b = &complaint.tracking_secret_sha256;
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ticket(#[from] TicketError),
}

/// Number the next complaint of the WITA year of `now`, and note the ticket in the
/// numbering index (`numbering/<year>/<sequence>`), which is how lists read the year's
/// complaints without the key the ticket was scrambled with.
///
/// A number whose ticket is already a complaint is skipped: that only happens after the
/// deployment key changed (the new scramble can land on a ticket the old one issued), and
/// tickets once issued are never renumbered.
pub fn allocate_ticket(
    store: &impl KeyValue,
    now: Timestamp,
    key: &TicketKey,
) -> Result<Ticket, IntakeError> {
    let year = now.wita().year;
    loop {
        // Never over a complaint: skip until a free ticket, or until the year is exhausted.
        let sequence = store.increment(&keys::ticket_sequence(year), 1)? as u64;
        let ticket = Ticket::issue(year, sequence, key)?;
        if store.exists(&keys::complaint(&ticket))? {
            continue;
        }
        store.set(&keys::numbering(year, sequence), ticket.as_str().as_bytes())?;
        return Ok(ticket);
    }
}

/// The tickets numbered `sequences` of a WITA `year`, read from the numbering index: `None`
/// for a number whose allocation did not get as far as the index (a hole, like a number
/// whose record was never saved).
///
/// A store numbered before tickets were keyed has no index: for a number missing from it,
/// the ticket the unkeyed scramble gave that number is taken if such a complaint exists, so
/// an upgraded deployment's earlier complaints stay in its lists, exports and rebuilds.
pub fn issued(
    store: &impl KeyValue,
    year: i32,
    sequences: impl IntoIterator<Item = u64>,
) -> Result<Vec<Option<Ticket>>, StoreError> {
    let sequences: Vec<u64> = sequences.into_iter().collect();
    let keys: Vec<String> = sequences.iter().map(|s| keys::numbering(year, *s)).collect();
    let mut tickets: Vec<Option<Ticket>> = store
        .get_many(&keys)?
        .into_iter()
        .map(|v| v.and_then(|v| String::from_utf8(v).ok()).and_then(|t| Ticket::parse(&t).ok()))
        .collect();
    let holes: Vec<(usize, Ticket)> = tickets
        .iter()
        .zip(&sequences)
        .enumerate()
        .filter(|(_, (t, _))| t.is_none())
        .filter_map(|(i, (_, s))| Ticket::unkeyed_before_keys(year, *s).ok().map(|t| (i, t)))
        .collect();
    if !holes.is_empty() {
        let keys: Vec<String> = holes.iter().map(|(_, t)| keys::complaint(t)).collect();
        for ((i, t), record) in holes.into_iter().zip(store.get_many(&keys)?) {
            if record.is_some() {
                tickets[i] = Some(t);
            }
        }
    }
    Ok(tickets)
}

/// The link a citizen is given to follow their complaint: the portal's tracking page
/// (`/lacak/<ticket>`), made for people and opened in their language, never the JSON API
/// (`/api/v1/complaints/<ticket>` stays for machines, and sends a browser to this page).
pub fn tracking_url(public_base_url: &str, ticket: &str, language: Language) -> String {
    let base = public_base_url.trim_end_matches('/');
    match language {
        Language::En => format!("{base}/lacak/{ticket}?lang=en"),
        _ => format!("{base}/lacak/{ticket}"),
    }
}

/// The private link of a complainant: their tracking page opened with their code
/// (`/lacak/<ticket>?kode=<code>`), in their language.
pub fn private_tracking_url(public_base_url: &str, ticket: &str, code: &str, language: Language) -> String {
    let page = tracking_url(public_base_url, ticket, language);
    let join = if page.contains('?') { '&' } else { '?' };
    format!("{page}{join}kode={code}")
}

/// Whether an acknowledgement sent on `reply_channel` for a complaint that came in on
/// `channel` may carry the private link: only back to the sender a messaging channel
/// verified (WhatsApp, Messenger, Instagram, SMS), never to a number or address typed into
/// a form, which may be mistyped and would hand a stranger the complainant's own view.
pub fn carries_private_link(channel: Channel, reply_channel: Channel) -> bool {
    channel == reply_channel
        && matches!(channel, Channel::Whatsapp | Channel::Facebook | Channel::Instagram | Channel::Sms)
}

/// Save a received complaint (see the module doc for the order and why).
pub fn save(
    store: &impl KeyValue,
    identity: &impl KeyValue,
    received: &Received,
    encode_outbox: impl Fn(&Acknowledgement) -> Vec<u8>,
) -> Result<(), StoreError> {
    let complaint = &received.complaint;
    let mut private = Vec::new();
    if let Some(reporter) = &received.reporter {
        private.push((
            keys::reporter(&complaint.ticket),
            serde_json::to_vec(reporter).expect("reporter encodes"),
        ));
    }
    if let Some(ack) = &received.acknowledgement {
        private.push((keys::outbox(&ack.id), encode_outbox(ack)));
    }
    if !private.is_empty() {
        identity.set_many(&private)?;
    }
    // A reply from where the acknowledgement went finds this complaint (`replies`).
    if let Some(ack) = &received.acknowledgement {
        crate::replies::register(identity, ack.channel, &ack.recipient, &complaint.ticket)?;
    }
    let marker = serde_json::json!({ "queued_at": complaint.received_at }).to_string().into_bytes();
    store.set_many(&[
        (keys::complaint(&complaint.ticket), serde_json::to_vec(complaint).expect("complaint encodes")),
        (keys::lapor_pending(&complaint.ticket), marker),
    ])?;
    for tally in tallies_for_received(complaint) {
        store.increment(&tally, 1)?;
    }
    // Monitoring and evaluation tallies (reporting): a new complaint has no "before".
    crate::measures::tally::apply(store, &crate::measures::tally_deltas(None, complaint))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Directory;
    use crate::routing::{RoutingInput, RoutingRules};
    use crate::store::{get_json, MemoryStore};
    use crate::summary::{summary_keys, Summary};

    fn arrive(json: &str, seq: u64) -> Received {
        let dir = Directory::seed();
        let submission = Submission::from_json(json.as_bytes(), &dir).unwrap();
        let decision = RoutingRules::seed(&dir).decide(&RoutingInput {
            category: submission.category.as_deref(),
            region: &submission.location.region_code,
            description: &submission.description,
        });
        receive(Arrival {
            submission,
            channel: Channel::Web,
            ticket: Ticket::number(2026, seq).unwrap(),
            decision,
            tracking_secret: "s3cret",
            tracking_url: "http://127.0.0.1:3000/api/v1/complaints/x",
            now: Timestamp::from_wita(2026, 11, 30, 9, 0),
        })
    }

    const CONFIDENTIAL: &str = r#"{"description": "Pungutan liar di kantor desa oleh oknum", "region_code": "52.03",
        "category": "kependudukan", "privacy": "confidential",
        "reporter": {"name": "Lalu Canary", "phone": "081299990000", "email": "canary@example.org"}}"#;

    #[test]
    fn confidential_reporter_stays_out_of_the_shared_record() {
        let r = arrive(CONFIDENTIAL, 7);
        let shared = serde_json::to_string(&r.complaint).unwrap();
        for canary in ["Canary", "canary@example.org", "6281299990000"] {
            assert!(!shared.contains(canary), "{canary} leaked into {shared}");
        }
        assert!(r.complaint.reachable);
        assert_eq!(r.reporter.unwrap().name.as_deref(), Some("Lalu Canary"));
        let view = r.complaint.public_view(&Directory::seed(), Language::Id);
        assert_eq!(view.description, None);
        assert_eq!(view.status, "received");
    }

    #[test]
    fn public_reporter_name_is_shown_but_contact_is_not() {
        let r = arrive(
            r#"{"description": "Jalan berlubang di depan SDN 3", "region_code": "52.71", "privacy": "public",
                "reporter": {"name": "Baiq Nurul", "phone": "081234567890"}}"#,
            1,
        );
        assert_eq!(r.complaint.reporter_name.as_deref(), Some("Baiq Nurul"));
        assert!(!serde_json::to_string(&r.complaint).unwrap().contains("81234567890"));
    }

    #[test]
    fn acknowledgement_goes_by_sms_for_a_web_complaint_with_a_phone() {
        let r = arrive(CONFIDENTIAL, 7);
        let ack = r.acknowledgement.unwrap();
        assert_eq!(ack.channel, Channel::Sms);
        assert_eq!(ack.recipient, "+6281299990000");
        assert_eq!(ack.id, message_id("ack", &r.complaint.ticket, Channel::Sms, "+6281299990000"));
        assert!(ack.fields.iter().any(|(k, v)| k == "ticket" && v == r.complaint.ticket.as_str()));
    }

    #[test]
    fn no_contact_means_no_acknowledgement() {
        let r = arrive(r#"{"description": "Lampu jalan mati sebulan", "region_code": "52.01"}"#, 2);
        assert!(r.acknowledgement.is_none() && r.reporter.is_none() && !r.complaint.reachable);
    }

    #[test]
    fn saving_writes_record_identity_outbox_queue_and_tallies() {
        let (store, identity) = (MemoryStore::new(), MemoryStore::new());
        let r = arrive(CONFIDENTIAL, 7);
        save(&store, &identity, &r, |a| serde_json::to_vec(a).unwrap()).unwrap();
        let t = &r.complaint.ticket;
        let saved: Complaint = get_json(&store, &keys::complaint(t)).unwrap().unwrap();
        assert_eq!(saved, r.complaint);
        assert!(store.exists(&keys::lapor_pending(t)).unwrap());
        assert!(identity.exists(&keys::reporter(t)).unwrap());
        assert!(!store.exists(&keys::reporter(t)).unwrap(), "identity must not reach the shared store");
        let dir = Directory::seed();
        let values = store.get_many(&summary_keys(&dir)).unwrap();
        let summary = Summary::from_counters(&dir, &values).unwrap();
        assert_eq!(summary.total, 1);
        assert_eq!(summary.by_status["received"], 1);
        assert_eq!(summary.by_unit[0].unit, "pemkab-lombok-timur");
    }

    #[test]
    fn tickets_are_allocated_from_the_wita_year_counter() {
        let store = MemoryStore::new();
        // 23:30 UTC on 31 Dec 2026 is already 2027 in Mataram.
        let new_year = Timestamp::from_wita(2027, 1, 1, 7, 30);
        let key = TicketKey::for_tests();
        let a = allocate_ticket(&store, new_year, &key).unwrap();
        let b = allocate_ticket(&store, new_year, &key).unwrap();
        assert!(a.as_str().starts_with("NTB-27-"));
        assert_ne!(a, b);
        assert_eq!((a.sequence(), b.sequence()), (1, 2));
        assert_eq!(issued(&store, 2027, 1..=3).unwrap(), vec![Some(a), Some(b), None]);
    }

    #[test]
    fn a_number_whose_ticket_is_already_taken_is_skipped() {
        // After a key rotation the new scramble may land on a ticket the old one issued.
        let store = MemoryStore::new();
        let now = Timestamp::from_wita(2026, 5, 1, 9, 0);
        let key = TicketKey::for_tests();
        let taken = Ticket::issue(2026, 2, &key).unwrap();
        store.set(&keys::complaint(&taken), b"{}").unwrap();
        assert_eq!(allocate_ticket(&store, now, &key).unwrap().sequence(), 1);
        let next = allocate_ticket(&store, now, &key).unwrap();
        assert_eq!(next, Ticket::issue(2026, 3, &key).unwrap());
        assert_eq!(issued(&store, 2026, 1..=3).unwrap()[1], None);
    }

    #[test]
    fn complaints_numbered_before_tickets_were_keyed_stay_in_the_lists() {
        // An upgraded store: two complaints numbered by the unkeyed scramble, no index; then
        // the keyed numbering goes on from the same counter.
        let store = MemoryStore::new();
        let now = Timestamp::from_wita(2026, 5, 1, 9, 0);
        let key = TicketKey::for_tests();
        let old: Vec<Ticket> = (1..=2).map(|s| Ticket::unkeyed_before_keys(2026, s).unwrap()).collect();
        for t in &old {
            store.set(&keys::complaint(t), b"{}").unwrap();
        }
        store.increment(&keys::ticket_sequence(2026), 2).unwrap();
        let new = allocate_ticket(&store, now, &key).unwrap();
        assert_eq!(
            issued(&store, 2026, 1..=4).unwrap(),
            vec![Some(old[0].clone()), Some(old[1].clone()), Some(new), None],
            "a number never saved stays a hole"
        );
    }

    #[test]
    fn tracking_secret_is_checked_against_its_hash() {
        let r = arrive(CONFIDENTIAL, 7);
        assert!(tracking_secret_matches(&r.complaint, "s3cret"));
        assert!(!tracking_secret_matches(&r.complaint, "s3cre"));
        assert!(!serde_json::to_string(&r.complaint).unwrap().contains("s3cret"));
    }
}
