//! One sweep of the outbox: the whole delivery loop, over the key-value port and a
//! [`Transport`] port, so that crash safety is proven natively with an in-memory store.
//!
//! A sweep does, each step bounded by `batch`:
//! 1. turn new `notice/<id>` records (shared store) into outbox entries, each created once
//!    ([`store::create_once`]) under an id derived from (notice, channel, address), then
//!    delete the notice: a crash in between only resolves the notice again, and finds the
//!    entries already there;
//! 2. deliver due entries: claim with a lease ([`OutboxEntry::claim`] through
//!    [`store::update_json`]), prepare, send, classify, record. A crash after the send and
//!    before the record leaves the entry in flight; when the lease runs out it is claimed
//!    again (the lost attempt counts). Once recorded as sent, no sweep claims it again;
//!    Only entries without a done mark (`outbox-done/<id>`, [`dkeys::done`]) are read: an
//!    entry that reaches a final state (sent, delivered, read, dead letter) is marked, so a
//!    sweep's reads grow with what is pending, not with everything ever sent (one key
//!    listing remains). Entries stored before the marks existed are read once more and
//!    marked then (the migration: resumable, since each mark stands alone). A mark is
//!    written after the final state and checked again after writing, and an administrator's
//!    requeue removes it before and after requeueing, so no pending entry stays marked;
//! 3. apply receipts (`receipt/<provider message id>`, written by intake) to the entries
//!    they are about, found through the index written when a provider accepted a message.
//!
//! The component supplies the clock, the random source for jitter and the transport.

use serde::Serialize;

use super::audience::{self, CaseContext};
use super::outbox::{OutboxEntry, ReceiptEffect, Refusal, Report, State, Via};
use super::outcome::{classify, Outcome, RetryPolicy};
use super::providers::{Provider, ProviderConfig, ProviderRequest};
use super::templates::{Audience as TemplateAudience, Templates};
use super::{consent, keys as dkeys, prepare, Contacts};
use crate::calendar::WorkingCalendar;
use crate::channels::DeliveryStatus;
use crate::clock::Timestamp;
use crate::complaint::{Channel, Complaint, Reporter};
use crate::directory::Directory;
use crate::keys;
use crate::notices::{Notice, NOTICE_PREFIX};
use crate::org::{accounts, Officer};
use crate::sla::SlaRules;
use crate::store::{self, get_json, KeyValue, StoreError};
use crate::ticket::Ticket;

/// How long a receipt whose message is not (yet) known is kept: the provider may report
/// before the sweep that sent the message has recorded it.
pub const RECEIPT_PATIENCE_MS: i64 = 7 * 86_400_000;

/// An HTTP answer, as the transport got it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Performs one provider request. `Err` is a transport failure (no answer: refused, DNS,
/// timeout), which is retried.
pub trait Transport {
    fn send(&self, request: &ProviderRequest) -> Result<Answer, String>;
}

/// What a sweep needs besides the stores.
pub struct Settings<'a> {
    pub templates: &'a Templates,
    pub providers: &'a ProviderConfig,
    pub policy: RetryPolicy,
    pub lease_ms: i64,
    pub batch: usize,
    pub directory: &'a Directory,
    pub rules: &'a SlaRules,
    pub calendar: &'a WorkingCalendar,
    pub public_base_url: &'a str,
}

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Outbox entries created from notices (or digests).
    pub queued: usize,
    /// Accepted by a provider.
    pub sent: usize,
    /// Failed and scheduled again.
    pub retried: usize,
    pub dead_lettered: usize,
    /// Receipts that moved a message on.
    pub receipts: usize,
}

/// The sweep's sources of time and randomness, and its claim id.
pub struct Env<'a> {
    pub now: &'a dyn Fn() -> Timestamp,
    pub random: &'a dyn Fn() -> u64,
    /// Unique per sweep: the lease holder's name.
    pub claim: &'a str,
}

/// Steps 1–3 of the module doc.
pub fn sweep(
    shared: &impl KeyValue,
    identity: &impl KeyValue,
    transport: &impl Transport,
    settings: &Settings<'_>,
    env: &Env<'_>,
) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    counts.queued += queue_notices(shared, identity, settings, (env.now)())?;
    deliver_due(shared, identity, transport, settings, env, &mut counts)?;
    counts.receipts += apply_receipts(identity, settings.batch, (env.now)())?;
    Ok(counts)
}

/// Write an entry once; answers whether this call created it.
pub fn enqueue(identity: &impl KeyValue, entry: &OutboxEntry) -> Result<bool, StoreError> {
    let key = keys::outbox(&entry.message.id);
    if identity.exists(&key)? {
        return Ok(false);
    }
    // Another sweep creating it meanwhile is waited for, and then it is not ours to count.
    store::created_here(identity, &key, &serde_json::to_vec(entry).expect("entries encode"))
}

/// Step 1.
pub fn queue_notices(
    shared: &impl KeyValue,
    identity: &impl KeyValue,
    settings: &Settings<'_>,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut notice_keys: Vec<String> =
        shared.keys()?.into_iter().filter(|k| k.starts_with(NOTICE_PREFIX)).collect();
    notice_keys.sort();
    notice_keys.truncate(settings.batch);
    if notice_keys.is_empty() {
        return Ok(0);
    }
    let officers: Vec<Officer> = accounts::list(shared)?;
    let enabled = settings.providers.enabled_channels();
    let ctx = CaseContext {
        directory: settings.directory,
        rules: settings.rules,
        calendar: settings.calendar,
        public_base_url: settings.public_base_url,
        now,
    };
    let mut queued = 0;
    for key in notice_keys {
        let notice: Notice = match get_json(shared, &key) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            // A record no one can read would block nothing but itself: drop it.
            Err(StoreError::Corrupt { .. }) => {
                shared.delete(&key)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let case: Option<Complaint> = get_json(shared, &keys::complaint(&notice.ticket))?;
        let reporter: Option<Reporter> = match notice.audience {
            crate::notices::Audience::Complainant => get_json(identity, &keys::reporter(&notice.ticket))?,
            _ => None,
        };
        let to = audience::recipients(
            &notice,
            case.as_ref(),
            reporter.as_ref(),
            &officers,
            settings.directory,
            &enabled,
        );
        for r in &to {
            let fields = audience::complete_fields(&notice, case.as_ref(), r.language, &ctx);
            let entry = OutboxEntry::new(audience::message_for(&notice, r, fields));
            if enqueue(identity, &entry)? {
                queued += 1;
            }
        }
        shared.delete(&key)?;
    }
    Ok(queued)
}

/// Every outbox entry, read in pages (costly: one key listing; see the component's docs).
pub fn entries(identity: &impl KeyValue) -> Result<Vec<OutboxEntry>, StoreError> {
    let ids: Vec<String> =
        identity.keys()?.into_iter().filter(|k| k.starts_with(keys::OUTBOX_PREFIX)).collect();
    let mut out = Vec::with_capacity(ids.len());
    for key in ids {
        // One `get` each: `get-many` is unusable on Spin's Redis store.
        if let Some(entry) = get_json::<OutboxEntry>(identity, &key).ok().flatten() {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Whether no sweep will claim an entry in this state again (only a requeue can).
pub fn is_final(state: &State) -> bool {
    matches!(
        state,
        State::Sent { .. } | State::Delivered { .. } | State::Read { .. } | State::DeadLetter { .. }
    )
}

/// Mark `message_id` finished, then look again: if it is pending after all (requeued
/// meanwhile), take the mark back, so a pending entry is never left marked.
pub fn mark_done(identity: &impl KeyValue, message_id: &str) -> Result<(), StoreError> {
    identity.set(&dkeys::done(message_id), b"")?;
    let now_final = get_json::<OutboxEntry>(identity, &keys::outbox(message_id))
        .ok()
        .flatten()
        .is_some_and(|e| is_final(e.state()));
    if !now_final {
        identity.delete(&dkeys::done(message_id))?;
    }
    Ok(())
}

/// Before an administrator requeues `message_id`, and again after: see the module doc.
pub fn unmark_done(identity: &impl KeyValue, message_id: &str) -> Result<(), StoreError> {
    identity.delete(&dkeys::done(message_id))
}

/// The outbox entries without a done mark, read one `get` each. A finished one found among
/// them (stored before the marks, or whose mark a crash lost) is marked now.
pub fn pending_entries(identity: &impl KeyValue) -> Result<Vec<OutboxEntry>, StoreError> {
    let all = identity.keys()?;
    let done: std::collections::HashSet<&str> =
        all.iter().filter_map(|k| k.strip_prefix(dkeys::DONE_PREFIX)).collect();
    let mut out = Vec::new();
    for key in &all {
        let Some(id) = key.strip_prefix(keys::OUTBOX_PREFIX) else { continue };
        if done.contains(id) {
            continue;
        }
        let Some(entry) = get_json::<OutboxEntry>(identity, key).ok().flatten() else { continue };
        if is_final(entry.state()) {
            mark_done(identity, id)?;
        } else {
            out.push(entry);
        }
    }
    Ok(out)
}

/// What is known of a message's recipient, for [`prepare`].
struct Known {
    preferred: Option<Channel>,
    addresses: Vec<(Channel, String)>,
    last_inbound: Vec<(Channel, Timestamp)>,
    opted_out: Vec<Channel>,
}

fn known(
    shared: &impl KeyValue,
    identity: &impl KeyValue,
    templates: &Templates,
    entry: &OutboxEntry,
) -> Result<Known, StoreError> {
    let m = &entry.message;
    if consent::is_confirmation(&m.template) {
        // The answer to the message just received: to that address only, inside its
        // window, and delivered although (for an opt-out, because) the person opted out.
        return Ok(Known {
            preferred: Some(m.channel),
            addresses: vec![(m.channel, m.recipient.clone())],
            last_inbound: vec![(m.channel, m.queued_at)],
            opted_out: Vec::new(),
        });
    }
    let mut addresses = vec![(m.channel, m.recipient.clone())];
    let mut last_inbound = Vec::new();
    let citizen = templates.get(&m.template).is_some_and(|t| t.audience == TemplateAudience::Citizen);
    if let (true, Ok(ticket)) = (citizen, Ticket::parse(&m.ticket)) {
        let case: Option<Complaint> = get_json(shared, &keys::complaint(&ticket))?;
        let reporter: Option<Reporter> = get_json(identity, &keys::reporter(&ticket))?;
        if let (Some(case), Some(reporter)) = (case, reporter) {
            let theirs = audience::reporter_addresses(&reporter, case.channel);
            // Only the reporter's own message may fall back to the reporter's other addresses.
            if theirs.iter().any(|(_, a)| a.trim_start_matches('+') == m.recipient.trim_start_matches('+')) {
                for a in theirs {
                    if !addresses.contains(&a) {
                        addresses.push(a);
                    }
                }
                last_inbound = audience::last_inbound(&case);
            }
        }
    }
    // One opted-out contact of the person closes every channel (see `consent`).
    let opted_out = if consent::any_opted_out(identity, &addresses)? {
        addresses.iter().map(|(c, _)| *c).fold(Vec::new(), |mut v, c| {
            if !v.contains(&c) {
                v.push(c);
            }
            v
        })
    } else {
        Vec::new()
    };
    Ok(Known { preferred: Some(m.channel), addresses, last_inbound, opted_out })
}

/// Step 2.
pub fn deliver_due(
    shared: &impl KeyValue,
    identity: &impl KeyValue,
    transport: &impl Transport,
    settings: &Settings<'_>,
    env: &Env<'_>,
    counts: &mut Counts,
) -> Result<(), StoreError> {
    let now = (env.now)();
    let mut due: Vec<OutboxEntry> =
        pending_entries(identity)?.into_iter().filter(|e| e.is_due(now)).collect();
    due.sort_by(|a, b| {
        a.message.queued_at.cmp(&b.message.queued_at).then_with(|| a.message.id.cmp(&b.message.id))
    });
    due.truncate(settings.batch);
    for candidate in due {
        let key = keys::outbox(&candidate.message.id);
        // Claim: exclusive through compare-and-swap. An expired lease with no attempts
        // left dead-letters on the claim, and that is saved too.
        let mut dead_on_claim = false;
        let claimed = store::update_json(identity, &key, |e: &mut OutboxEntry| {
            dead_on_claim = false;
            let before = e.delivery.state.clone();
            match e.claim(env.claim, (env.now)(), settings.lease_ms, &settings.policy) {
                Ok(()) => Ok(()),
                Err(Refusal::DeadLettered) if before != e.delivery.state => {
                    dead_on_claim = true;
                    Ok(())
                }
                Err(r) => Err(r),
            }
        })?;
        let entry = match claimed {
            Some(Ok(_)) if dead_on_claim => {
                counts.dead_lettered += 1;
                mark_done(identity, &candidate.message.id)?;
                continue;
            }
            Some(Ok(e)) => e,
            _ => continue,
        };
        let who = known(shared, identity, settings.templates, &entry)?;
        let contacts = Contacts {
            preferred: who.preferred,
            addresses: &who.addresses,
            last_inbound: &who.last_inbound,
            opted_out: &who.opted_out,
        };
        let (via, outcome) =
            match prepare(settings.templates, settings.providers, &entry.message, &contacts, (env.now)()) {
                Err(e) => (None, e.outcome()),
                Ok(p) => {
                    let outcome = match transport.send(&p.outbound.request) {
                        Ok(a) => classify(p.outbound.provider, a.status, &a.headers, &a.body),
                        Err(e) => Outcome::transport_error(&e),
                    };
                    let via = Via {
                        channel: p.route.channel,
                        provider: p.outbound.provider,
                        address: p.route.address.clone(),
                    };
                    (Some(via), outcome)
                }
            };
        // The receipt index first: pointing at a message that is not yet recorded as sent
        // is harmless, a sent message a receipt cannot find is not.
        if let (Outcome::Delivered { provider_message_id: Some(pmid) }, Some(via)) = (&outcome, &via) {
            identity.set(&dkeys::sent_index(via.provider, pmid), entry.message.id.as_bytes())?;
        }
        let random = (env.random)();
        let recorded = store::update_json(identity, &key, |e: &mut OutboxEntry| {
            let report = Report {
                claim: env.claim,
                via: via.clone(),
                outcome: outcome.clone(),
                now: (env.now)(),
                random,
            };
            e.record(report, &settings.policy)
        })?;
        if let Some(Ok(e)) = recorded {
            if is_final(e.state()) {
                mark_done(identity, &e.message.id)?;
            }
            match e.state() {
                State::Sent { .. } => counts.sent += 1,
                State::Failed { .. } => counts.retried += 1,
                State::DeadLetter { .. } => counts.dead_lettered += 1,
                _ => {}
            }
        }
    }
    Ok(())
}

/// The providers that may have given a receipt's id.
fn providers_of(channel: Channel) -> &'static [Provider] {
    match channel {
        Channel::Whatsapp => &[Provider::WhatsappCloud],
        Channel::Facebook => &[Provider::Messenger],
        Channel::Instagram => &[Provider::Instagram],
        Channel::Sms => &[Provider::Twilio, Provider::SmsGateway],
        Channel::Email => &[Provider::Sendgrid],
        _ => &[],
    }
}

/// Step 3: answers how many receipts moved a message on.
pub fn apply_receipts(identity: &impl KeyValue, batch: usize, now: Timestamp) -> Result<usize, StoreError> {
    let mut receipt_keys: Vec<String> =
        identity.keys()?.into_iter().filter(|k| k.starts_with(dkeys::RECEIPT_PREFIX)).collect();
    receipt_keys.sort();
    receipt_keys.truncate(batch);
    let mut applied = 0;
    for key in receipt_keys {
        let Some(raw) = identity.get(&key)? else { continue };
        let Ok(receipt) = serde_json::from_slice::<DeliveryStatus>(&raw) else {
            identity.delete(&key)?;
            continue;
        };
        let mut message_id = None;
        for p in providers_of(receipt.channel) {
            if let Some(id) = identity.get(&dkeys::sent_index(*p, &receipt.provider_message_id))? {
                message_id = Some(String::from_utf8_lossy(&id).into_owned());
                break;
            }
        }
        let Some(message_id) = message_id else {
            if now.0.saturating_sub(receipt.at.0) > RECEIPT_PATIENCE_MS {
                identity.delete(&key)?;
            }
            continue;
        };
        let outcome =
            store::update_json(identity, &keys::outbox(&message_id), |e: &mut OutboxEntry| {
                match e.apply_receipt(&receipt) {
                    ReceiptEffect::Advanced => Ok(()),
                    ReceiptEffect::Ignored => Err(()),
                }
            })?;
        if matches!(outcome, Some(Ok(_))) {
            applied += 1;
        }
        // Done with it, unless intake wrote a newer status under the same key meanwhile.
        if identity.get(&key)?.as_deref() == Some(raw.as_slice()) {
            identity.delete(&key)?;
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::channels::DeliveryState;
    use crate::delivery::outbox::QueuedMessage;
    use crate::delivery::providers::{SendgridConfig, SmsConfig, TwilioConfig, TwilioSender, WhatsappConfig};
    use crate::language::Language;
    use crate::store::{MemoryStore, Watched};

    const T0: Timestamp = Timestamp(1_795_915_800_000);

    fn providers() -> ProviderConfig {
        ProviderConfig {
            whatsapp: Some(WhatsappConfig {
                base_url: "http://wa".into(),
                api_version: "v21.0".into(),
                phone_number_id: "1065".into(),
                access_token: "tok".into(),
            }),
            sms: Some(SmsConfig::Twilio(TwilioConfig {
                base_url: "http://twilio".into(),
                account_sid: "AC1".into(),
                auth_token: "t".into(),
                sender: TwilioSender::From("NTBCare".into()),
                status_callback: None,
            })),
            email: Some(SendgridConfig {
                base_url: "http://sg".into(),
                api_key: "k".into(),
                from_email: "noreply@care.example".into(),
                from_name: "NTB Care".into(),
                reply_to: None,
            }),
            ..Default::default()
        }
    }

    /// Answers from a script, then 2xx; records every request.
    struct Script {
        answers: RefCell<Vec<Result<Answer, String>>>,
        seen: RefCell<Vec<ProviderRequest>>,
    }

    impl Script {
        fn new(answers: Vec<Result<Answer, String>>) -> Script {
            Script { answers: RefCell::new(answers), seen: RefCell::new(vec![]) }
        }
    }

    fn ok(id: &str) -> Result<Answer, String> {
        Ok(Answer { status: 201, headers: vec![], body: format!(r#"{{"sid":"{id}"}}"#).into_bytes() })
    }

    fn status(code: u16) -> Result<Answer, String> {
        Ok(Answer { status: code, headers: vec![], body: vec![] })
    }

    impl Transport for Script {
        fn send(&self, request: &ProviderRequest) -> Result<Answer, String> {
            self.seen.borrow_mut().push(request.clone());
            let mut answers = self.answers.borrow_mut();
            if answers.is_empty() {
                ok("SM-default")
            } else {
                answers.remove(0)
            }
        }
    }

    fn sms_message(id: &str) -> OutboxEntry {
        OutboxEntry::new(QueuedMessage {
            id: id.into(),
            ticket: "NTB-26-7KQ4MX".into(),
            template: "daily-digest".into(),
            language: Language::Id,
            channel: Channel::Sms,
            recipient: "+6281234567890".into(),
            fields: vec![
                ("agency".into(), "Dinas PUPR".into()),
                ("open".into(), "3".into()),
                ("overdue".into(), "1".into()),
            ],
            queued_at: T0,
        })
    }

    struct World {
        shared: MemoryStore,
        identity: MemoryStore,
        templates: Templates,
        providers: ProviderConfig,
        directory: Directory,
        rules: SlaRules,
        calendar: WorkingCalendar,
        now: Cell<i64>,
    }

    impl World {
        fn new() -> World {
            World {
                shared: MemoryStore::new(),
                identity: MemoryStore::new(),
                templates: Templates::seed(),
                providers: providers(),
                directory: Directory::seed(),
                rules: SlaRules::seed(),
                calendar: WorkingCalendar::seed(),
                now: Cell::new(T0.0),
            }
        }

        fn settings(&self) -> Settings<'_> {
            Settings {
                templates: &self.templates,
                providers: &self.providers,
                policy: RetryPolicy { max_attempts: 3, base_delay_ms: 1000, max_delay_ms: 4000 },
                lease_ms: 60_000,
                batch: 50,
                directory: &self.directory,
                rules: &self.rules,
                calendar: &self.calendar,
                public_base_url: "https://care.example",
            }
        }

        fn sweep(&self, transport: &impl Transport, claim: &str) -> Counts {
            let now = || Timestamp(self.now.get());
            let random = || 0u64;
            sweep(
                &self.shared,
                &self.identity,
                transport,
                &self.settings(),
                &Env { now: &now, random: &random, claim },
            )
            .unwrap()
        }

        fn entry(&self, id: &str) -> OutboxEntry {
            get_json(&self.identity, &keys::outbox(id)).unwrap().unwrap()
        }

        fn advance(&self, ms: i64) {
            self.now.set(self.now.get() + ms);
        }
    }

    #[test]
    fn a_failing_provider_is_retried_until_it_accepts_and_then_never_again() {
        let w = World::new();
        enqueue(&w.identity, &sms_message("m1")).unwrap();
        let t = Script::new(vec![status(500), Err("timeout".into()), ok("SM1")]);
        assert_eq!(w.sweep(&t, "a").retried, 1);
        assert_eq!(w.sweep(&t, "b").retried, 1, "random 0: due at once");
        assert_eq!(w.sweep(&t, "c").sent, 1);
        assert_eq!(w.sweep(&t, "d"), Counts::default());
        assert_eq!(t.seen.borrow().len(), 3);
        assert_eq!(w.entry("m1").delivery.provider_message_id.as_deref(), Some("SM1"));
    }

    #[test]
    fn an_opted_out_person_gets_nothing_on_any_channel_but_the_confirmation_of_their_stop() {
        let w = World::new();
        let stop = crate::channels::InboundMessage {
            channel: Channel::Whatsapp,
            external_id: "wamid.STOP".into(),
            sender: "6281234567890".into(),
            sender_name: None,
            text: Some("BERHENTI".into()),
            media: vec![],
            location: None,
            sent_at: None,
        };
        assert!(super::super::consent::take(&w.identity, &stop, T0).unwrap().is_some());
        // The same number, written the SMS way, and an e-mail: all withheld.
        let mut by_sms = sms_message("m-sms");
        by_sms.message.recipient = "081234567890".into();
        enqueue(&w.identity, &by_sms).unwrap();
        let t = Script::new(vec![]);
        let counts = w.sweep(&t, "a");
        assert_eq!((counts.sent, counts.dead_lettered), (1, 1), "{counts:?}");
        let seen = t.seen.borrow();
        assert_eq!(seen.len(), 1, "only the confirmation: {seen:#?}");
        assert!(seen[0].url.starts_with("http://wa/"), "on the channel it came on: {}", seen[0].url);
        let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
        assert_eq!((body["to"].as_str(), body["type"].as_str()), (Some("6281234567890"), Some("text")));
        let held = w.entry("m-sms");
        assert!(held.delivery.last_error.as_deref().unwrap_or("").contains("opted out"), "{held:?}");
    }

    #[test]
    fn attempts_used_up_dead_letter_the_message() {
        let w = World::new();
        enqueue(&w.identity, &sms_message("m1")).unwrap();
        let t = Script::new(vec![status(503), status(503), status(503)]);
        let total: usize = (0..4).map(|i| w.sweep(&t, &format!("s{i}")).dead_lettered).sum();
        assert_eq!(total, 1);
        assert!(matches!(w.entry("m1").state(), State::DeadLetter { .. }));
        assert_eq!(t.seen.borrow().len(), 3);
    }

    /// A sweep that died after sending: the entry stays in flight until the lease runs out,
    /// then goes out again; one that died after recording never goes out again.
    #[test]
    fn a_crash_mid_send_is_retried_after_the_lease_and_a_recorded_send_never_repeats() {
        let w = World::new();
        enqueue(&w.identity, &sms_message("m1")).unwrap();
        let mut e = w.entry("m1");
        e.claim("dead-sweep", T0, 60_000, &w.settings().policy).unwrap();
        w.identity.set(&keys::outbox("m1"), &serde_json::to_vec(&e).unwrap()).unwrap();
        let t = Script::new(vec![]);
        assert_eq!(w.sweep(&t, "a"), Counts::default(), "lease held");
        w.advance(60_000);
        assert_eq!(w.sweep(&t, "b").sent, 1);
        w.advance(10 * 60_000);
        assert_eq!(w.sweep(&t, "c"), Counts::default());
        assert_eq!(t.seen.borrow().len(), 1);
    }

    #[test]
    fn notices_become_messages_once_and_are_marked_done() {
        let w = World::new();
        let mut case = crate::casework::tests_support::complaint(Ticket::number(2026, 9).unwrap());
        case.status = crate::lifecycle::CaseStatus::Dispatched;
        w.shared.set(&keys::complaint(&case.ticket), &serde_json::to_vec(&case).unwrap()).unwrap();
        let reporter =
            Reporter { phone: crate::complaint::PhoneNumber::parse("081299990000"), ..Default::default() };
        w.identity.set(&keys::reporter(&case.ticket), &serde_json::to_vec(&reporter).unwrap()).unwrap();
        let notice = Notice::new(
            &case.ticket,
            "event-2",
            crate::notices::Audience::Complainant,
            "status-changed",
            vec![("ticket".into(), case.ticket.to_string())],
            T0,
        );
        let write = || w.shared.set(&notice.key(), &serde_json::to_vec(&notice).unwrap()).unwrap();
        write();
        let t = Script::new(vec![]);
        let first = w.sweep(&t, "a");
        assert_eq!((first.queued, first.sent), (1, 1));
        assert!(!w.shared.exists(&notice.key()).unwrap());
        // The same notice again (a crash before it was marked done): nothing new.
        write();
        assert_eq!(w.sweep(&t, "b"), Counts::default());
        let body = String::from_utf8(t.seen.borrow()[0].body.clone()).unwrap();
        // The citizen's link is the tracking page made for people, not the JSON API.
        assert!(body.contains("care.example%2Flacak%2FNTB-"), "{body}");
    }

    #[test]
    fn a_receipt_marks_the_message_delivered() {
        let w = World::new();
        let mut m = sms_message("m1");
        m.message.template = "status-changed".into();
        m.message.channel = Channel::Whatsapp;
        m.message.recipient = "6281234567890".into();
        m.message.fields = vec![
            ("ticket".into(), "NTB-26-7KQ4MX".into()),
            ("status".into(), "Diproses".into()),
            ("tracking_url".into(), "https://x/t".into()),
        ];
        enqueue(&w.identity, &m).unwrap();
        let wa =
            Ok(Answer { status: 200, headers: vec![], body: br#"{"messages":[{"id":"wamid.1"}]}"#.to_vec() });
        assert_eq!(w.sweep(&Script::new(vec![wa]), "a").sent, 1);
        let receipt = DeliveryStatus {
            channel: Channel::Whatsapp,
            provider_message_id: "wamid.1".into(),
            recipient: "6281234567890".into(),
            state: DeliveryState::Delivered,
            at: Timestamp(T0.0 + 5),
            error: None,
        };
        w.identity
            .set(&dkeys::receipt(&receipt.provider_message_id), &serde_json::to_vec(&receipt).unwrap())
            .unwrap();
        assert_eq!(w.sweep(&Script::new(vec![]), "b").receipts, 1);
        assert!(matches!(w.entry("m1").state(), State::Delivered { .. }));
        assert!(!w.identity.exists(&dkeys::receipt("wamid.1")).unwrap());
    }

    impl World {
        fn sweep_counting(&self, transport: &impl Transport, claim: &str) -> (Counts, usize) {
            let now = || Timestamp(self.now.get());
            let random = || 0u64;
            // The identity store, counting reads of outbox entries.
            let outbox_reads = Cell::new(0usize);
            let identity = Watched {
                on_get: Box::new(|key: &str| {
                    if key.starts_with(keys::OUTBOX_PREFIX) {
                        outbox_reads.set(outbox_reads.get() + 1);
                    }
                }),
                ..Watched::new(&self.identity)
            };
            let counts = sweep(
                &self.shared,
                &identity,
                transport,
                &self.settings(),
                &Env { now: &now, random: &random, claim },
            )
            .unwrap();
            drop(identity);
            (counts, outbox_reads.get())
        }
    }

    #[test]
    fn a_sweep_reads_only_pending_entries_however_many_were_sent_before() {
        let w = World::new();
        let t = Script::new(vec![]);
        // 300 messages sent by an older version: no done marks.
        for i in 0..300 {
            let mut e = sms_message(&format!("old-{i:03}"));
            e.delivery.state = State::Sent { at: T0 };
            w.identity.set(&keys::outbox(&e.message.id), &serde_json::to_vec(&e).unwrap()).unwrap();
        }
        let (first, reads) = w.sweep_counting(&t, "a");
        assert_eq!(first, Counts::default());
        assert!(reads >= 300, "the migration reads each old entry once: {reads}");
        enqueue(&w.identity, &sms_message("new")).unwrap();
        let (second, reads) = w.sweep_counting(&t, "b");
        assert_eq!(second.sent, 1);
        assert!(reads <= 4, "only the pending one (claim, record, mark check): {reads}");
        let (third, reads) = w.sweep_counting(&t, "c");
        assert_eq!((third, reads), (Counts::default(), 0));
        assert_eq!(t.seen.borrow().len(), 1);
    }

    #[test]
    fn a_requeued_dead_letter_is_read_and_sent_again_despite_its_done_mark() {
        let w = World::new();
        enqueue(&w.identity, &sms_message("m1")).unwrap();
        let t = Script::new(vec![status(400)]);
        assert_eq!(w.sweep(&t, "a").dead_lettered, 1);
        assert!(w.identity.exists(&dkeys::done("m1")).unwrap());
        // The administrator's requeue, as the component does it.
        unmark_done(&w.identity, "m1").unwrap();
        store::update_json(&w.identity, &keys::outbox("m1"), |e: &mut OutboxEntry| e.requeue(T0)).unwrap();
        unmark_done(&w.identity, "m1").unwrap();
        assert_eq!(w.sweep(&t, "b").sent, 1);
    }

    #[test]
    fn a_done_mark_written_from_a_stale_read_is_taken_back() {
        let w = World::new();
        enqueue(&w.identity, &sms_message("m1")).unwrap();
        // A sweep read the entry finished, then it was requeued: the mark does not stay.
        mark_done(&w.identity, "m1").unwrap();
        assert!(!w.identity.exists(&dkeys::done("m1")).unwrap());
        assert_eq!(w.sweep(&Script::new(vec![]), "a").sent, 1);
    }
}
