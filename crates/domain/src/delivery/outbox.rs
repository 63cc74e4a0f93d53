//! An outbox entry's life: queued → in flight → sent → delivered → read, or failed and
//! retried, or dead-lettered for an administrator to requeue.
//!
//! ```text
//!            claim                 Delivered                receipt         receipt
//! queued ───────────► in-flight ─────────────► sent ─────────► delivered ─────► read
//!   ▲                  │   │  ▲                  │ receipt "failed"
//!   │ requeue          │   │  └── claim when ────┼──────────────────────┐
//!   │ (admin)          │   │      the lease       ▼                      │
//! dead-letter ◄────────┘   │      expired       dead-letter             │
//!   ▲  Permanent, or       │ Retry                                       │
//!   │  attempts used up    ▼                                             │
//!   └──────────────── failed (next_attempt_at) ──── claim when due ──────┘
//! ```
//!
//! A claim is a lease: the sweep that claims a message owns it until `lease_until`. A sweep
//! that crashes mid-send loses nothing: when its lease expires the message is claimable again
//! (the lost attempt still counts, so a message that crashes its sender every time ends in the
//! dead letters instead of looping). Once a provider has accepted a message it is `sent` and
//! can never be claimed again, so it is never sent twice by NTB Care's own doing. Receipts
//! only move forward; one for another message, or older than what is known, is ignored.
//!
//! Every transition is a pure function on [`OutboxEntry`]; the component applies them with
//! `store::update_json`, whose compare-and-swap makes a claim exclusive: of two sweeps racing
//! for one message, the second re-reads the claimed entry and is refused.

use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

use super::outcome::{Outcome, RetryPolicy};
use super::providers::Provider;
use crate::channels::{DeliveryState, DeliveryStatus};
use crate::clock::Timestamp;
use crate::complaint::Channel;
use crate::language::Language;

/// How long a claim lasts: well beyond one provider call's timeout, short enough that a
/// crashed sweep's message goes out again within minutes.
pub const DEFAULT_LEASE_MS: i64 = 2 * 60 * 1000;

/// The message as producers queue it (the WIT `outbox-message`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMessage {
    pub id: String,
    pub ticket: String,
    pub template: String,
    pub language: Language,
    /// The channel the producer chose (the reporter's own); delivery may fall back.
    #[serde(deserialize_with = "channel_any_case")]
    pub channel: Channel,
    pub recipient: String,
    pub fields: Vec<(String, String)>,
    pub queued_at: Timestamp,
}

/// The contract's generated enum serialises as `Whatsapp`, the domain's as `whatsapp`: an
/// entry written by either reads the same.
fn channel_any_case<'de, D: Deserializer<'de>>(d: D) -> Result<Channel, D::Error> {
    let s = String::deserialize(d)?;
    Channel::ALL
        .into_iter()
        .find(|c| c.code().eq_ignore_ascii_case(&s))
        .ok_or_else(|| serde::de::Error::custom(format!("unknown channel `{s}`")))
}

/// Where a message is in its life.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum State {
    #[default]
    Queued,
    /// Claimed by the sweep `claim` until `lease_until`.
    InFlight {
        claim: String,
        lease_until: Timestamp,
    },
    /// The last attempt failed; the next may start at `next_attempt_at`.
    Failed {
        next_attempt_at: Timestamp,
    },
    /// A provider accepted it.
    Sent {
        at: Timestamp,
    },
    Delivered {
        at: Timestamp,
    },
    Read {
        at: Timestamp,
    },
    /// No more attempts; `last_error` says why. Only an administrator's requeue revives it.
    DeadLetter {
        at: Timestamp,
    },
}

impl State {
    pub fn code(&self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::InFlight { .. } => "in-flight",
            State::Failed { .. } => "failed",
            State::Sent { .. } => "sent",
            State::Delivered { .. } => "delivered",
            State::Read { .. } => "read",
            State::DeadLetter { .. } => "dead-letter",
        }
    }

    /// How far a provider has taken the message (0 before any provider accepted it).
    fn progress(&self) -> u8 {
        match self {
            State::Sent { .. } => 1,
            State::Delivered { .. } => 2,
            State::Read { .. } => 3,
            _ => 0,
        }
    }
}

/// The provider and address that carried (or last tried to carry) a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Via {
    pub channel: Channel,
    pub provider: Provider,
    pub address: String,
}

/// Delivery bookkeeping, kept beside the message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    #[serde(flatten)]
    pub state: State,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// The provider's id for the accepted message, to match receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

/// One message in the outbox, stored as JSON under `outbox/<id>` in the identity store.
/// A bare `outbox-message` (as intake writes it) reads as a queued entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    #[serde(flatten)]
    pub message: QueuedMessage,
    #[serde(default)]
    pub delivery: Delivery,
}

/// Why a transition was refused. None of these is an error of the component's: each tells
/// it to leave the entry alone.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("not due before {0:?}")]
    NotDue(Timestamp),
    #[error("claimed by another sweep until {0:?}")]
    LeaseHeld(Timestamp),
    #[error("already accepted by a provider; never sent twice")]
    AlreadySent,
    #[error("in the dead letters; only an administrator's requeue revives it")]
    DeadLettered,
    #[error("not claimed by this sweep (its lease expired and another took it, or it was never claimed)")]
    NotClaimant,
    #[error("only a dead letter can be requeued")]
    NotDeadLettered,
}

/// What one attempt found, reported by the sweep that claimed the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report<'a> {
    pub claim: &'a str,
    /// The route taken, when one was found and a request made.
    pub via: Option<Via>,
    pub outcome: Outcome,
    pub now: Timestamp,
    /// Uniformly random, for the retry's jitter.
    pub random: u64,
}

/// What a receipt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptEffect {
    /// The entry moved on: save it.
    Advanced,
    /// Another message's receipt, or not newer than what is known: nothing to save.
    Ignored,
}

impl OutboxEntry {
    pub fn new(message: QueuedMessage) -> OutboxEntry {
        OutboxEntry { message, delivery: Delivery::default() }
    }

    pub fn state(&self) -> &State {
        &self.delivery.state
    }

    /// Whether [`OutboxEntry::claim`] would succeed now: the sweep's cheap filter.
    pub fn is_due(&self, now: Timestamp) -> bool {
        match &self.delivery.state {
            State::Queued => true,
            State::Failed { next_attempt_at } => *next_attempt_at <= now,
            State::InFlight { lease_until, .. } => *lease_until <= now,
            _ => false,
        }
    }

    /// Take the message for one attempt, leased to `claim` for `lease_ms`. An expired lease
    /// counts as a failed attempt: if that was the last one allowed, the message goes to the
    /// dead letters (and the refusal says so; save the entry).
    pub fn claim(
        &mut self,
        claim: &str,
        now: Timestamp,
        lease_ms: i64,
        policy: &RetryPolicy,
    ) -> Result<(), Refusal> {
        match &self.delivery.state {
            State::Queued => {}
            State::Failed { next_attempt_at } if *next_attempt_at > now => {
                return Err(Refusal::NotDue(*next_attempt_at))
            }
            State::Failed { .. } => {}
            State::InFlight { lease_until, .. } if *lease_until > now => {
                return Err(Refusal::LeaseHeld(*lease_until))
            }
            State::InFlight { .. } => {
                if self.delivery.attempts >= policy.max_attempts {
                    self.delivery.last_error =
                        Some("the last attempt's sweep never reported back (lease expired)".into());
                    self.delivery.state = State::DeadLetter { at: now };
                    self.delivery.updated_at = Some(now);
                    return Err(Refusal::DeadLettered);
                }
            }
            State::Sent { .. } | State::Delivered { .. } | State::Read { .. } => {
                return Err(Refusal::AlreadySent)
            }
            State::DeadLetter { .. } => return Err(Refusal::DeadLettered),
        }
        self.delivery.attempts += 1;
        self.delivery.state = State::InFlight {
            claim: claim.to_string(),
            lease_until: Timestamp(now.0.saturating_add(lease_ms)),
        };
        self.delivery.updated_at = Some(now);
        Ok(())
    }

    /// Record what an attempt found.
    ///
    /// An acceptance is recorded even from a sweep whose lease expired: the provider has the
    /// message, and recording it stops a further send. A failure from such a sweep is
    /// ignored, because the message now belongs to whoever claimed it since.
    pub fn record(&mut self, report: Report<'_>, policy: &RetryPolicy) -> Result<(), Refusal> {
        let Report { claim, via, outcome, now, random } = report;
        let claimant = matches!(&self.delivery.state, State::InFlight { claim: c, .. } if c == claim);
        match (&self.delivery.state, &outcome) {
            (State::Sent { .. } | State::Delivered { .. } | State::Read { .. }, _) => {
                return Err(Refusal::AlreadySent)
            }
            (State::Queued | State::InFlight { .. } | State::Failed { .. }, Outcome::Delivered { .. }) => {}
            (State::DeadLetter { .. }, Outcome::Delivered { .. }) => {}
            _ if !claimant => return Err(Refusal::NotClaimant),
            _ => {}
        }
        if via.is_some() {
            self.delivery.via = via;
        }
        self.delivery.updated_at = Some(now);
        match outcome {
            Outcome::Delivered { provider_message_id } => {
                self.delivery.provider_message_id = provider_message_id;
                self.delivery.state = State::Sent { at: now };
            }
            Outcome::Retry { reason, not_before } => {
                self.delivery.last_error = Some(reason);
                self.delivery.state = match policy.next_attempt_at(self.delivery.attempts, now, random) {
                    // The provider's own word on when (Retry-After) wins over a shorter backoff.
                    Some(next_attempt_at) => State::Failed {
                        next_attempt_at: not_before
                            .map_or(next_attempt_at, |n| n.instant(now).max(next_attempt_at)),
                    },
                    None => State::DeadLetter { at: now },
                };
            }
            Outcome::Permanent { reason } => {
                self.delivery.last_error = Some(reason);
                self.delivery.state = State::DeadLetter { at: now };
            }
        }
        Ok(())
    }

    /// Apply a provider's receipt (WhatsApp statuses, Messenger/Instagram delivery and read).
    pub fn apply_receipt(&mut self, receipt: &DeliveryStatus) -> ReceiptEffect {
        let ours = self.delivery.provider_message_id.as_deref() == Some(receipt.provider_message_id.as_str())
            && self.delivery.via.as_ref().is_none_or(|v| v.channel == receipt.channel);
        if !ours || self.delivery.state.progress() == 0 {
            return ReceiptEffect::Ignored;
        }
        let next = match receipt.state {
            DeliveryState::Sent => return ReceiptEffect::Ignored,
            DeliveryState::Delivered => State::Delivered { at: receipt.at },
            DeliveryState::Read => State::Read { at: receipt.at },
            // A provider that accepted a message and then could not deliver it (WhatsApp's
            // asynchronous failures). Not after a delivery or read, which settle it.
            DeliveryState::Failed => {
                if !matches!(self.delivery.state, State::Sent { .. }) {
                    return ReceiptEffect::Ignored;
                }
                self.delivery.last_error = Some(format!(
                    "{} reported the message undelivered: {}",
                    receipt.channel.code(),
                    receipt.error.as_deref().unwrap_or("no reason given")
                ));
                State::DeadLetter { at: receipt.at }
            }
        };
        if next.progress() != 0 && next.progress() <= self.delivery.state.progress() {
            return ReceiptEffect::Ignored;
        }
        self.delivery.state = next;
        self.delivery.updated_at = Some(receipt.at);
        ReceiptEffect::Advanced
    }

    /// An administrator sends a dead letter again: queued, attempts from zero, the last error
    /// kept for the record until the next attempt replaces it.
    pub fn requeue(&mut self, now: Timestamp) -> Result<(), Refusal> {
        if !matches!(self.delivery.state, State::DeadLetter { .. }) {
            return Err(Refusal::NotDeadLettered);
        }
        self.delivery.state = State::Queued;
        self.delivery.attempts = 0;
        self.delivery.provider_message_id = None;
        self.delivery.updated_at = Some(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_795_915_800_000);
    const LEASE: i64 = DEFAULT_LEASE_MS;
    const POLICY: RetryPolicy = RetryPolicy { max_attempts: 3, base_delay_ms: 10_000, max_delay_ms: 60_000 };

    fn at(ms: i64) -> Timestamp {
        Timestamp(T0.0 + ms)
    }

    fn entry() -> OutboxEntry {
        OutboxEntry::new(QueuedMessage {
            id: "5d1e0c3b9a7f42e8b6c1d0a9e8f7a6b5".into(),
            ticket: "NTB-26-7KQ4MX".into(),
            template: "status-changed".into(),
            language: Language::Id,
            channel: Channel::Whatsapp,
            recipient: "6281234567890".into(),
            fields: vec![("ticket".into(), "NTB-26-7KQ4MX".into())],
            queued_at: T0,
        })
    }

    fn via() -> Option<Via> {
        Some(Via {
            channel: Channel::Whatsapp,
            provider: Provider::WhatsappCloud,
            address: "6281234567890".into(),
        })
    }

    fn report(claim: &str, outcome: Outcome, now: Timestamp) -> Report<'_> {
        Report { claim, via: via(), outcome, now, random: 5_000 }
    }

    fn sent(id: &str) -> Outcome {
        Outcome::Delivered { provider_message_id: Some(id.into()) }
    }

    fn retry() -> Outcome {
        Outcome::Retry { reason: "twilio 503".into(), not_before: None }
    }

    fn receipt(id: &str, state: DeliveryState, ms: i64) -> DeliveryStatus {
        DeliveryStatus {
            channel: Channel::Whatsapp,
            provider_message_id: id.into(),
            recipient: "6281234567890".into(),
            state,
            at: at(ms),
            error: None,
        }
    }

    #[test]
    fn a_queued_message_is_claimed_sent_delivered_and_read() {
        let mut e = entry();
        assert!(e.is_due(T0));
        e.claim("sweep-a", T0, LEASE, &POLICY).unwrap();
        assert_eq!(e.state(), &State::InFlight { claim: "sweep-a".into(), lease_until: at(LEASE) });
        assert_eq!(e.delivery.attempts, 1);
        e.record(report("sweep-a", sent("wamid.1"), at(1000)), &POLICY).unwrap();
        assert_eq!(e.state(), &State::Sent { at: at(1000) });
        assert_eq!(e.delivery.provider_message_id.as_deref(), Some("wamid.1"));
        assert_eq!(
            e.apply_receipt(&receipt("wamid.1", DeliveryState::Delivered, 2000)),
            ReceiptEffect::Advanced
        );
        assert_eq!(e.apply_receipt(&receipt("wamid.1", DeliveryState::Read, 3000)), ReceiptEffect::Advanced);
        assert_eq!(e.state(), &State::Read { at: at(3000) });
    }

    #[test]
    fn a_held_lease_refuses_a_second_sweep() {
        let mut e = entry();
        e.claim("sweep-a", T0, LEASE, &POLICY).unwrap();
        assert!(!e.is_due(at(LEASE - 1)));
        assert_eq!(e.claim("sweep-b", at(LEASE - 1), LEASE, &POLICY), Err(Refusal::LeaseHeld(at(LEASE))));
    }

    #[test]
    fn an_expired_lease_is_claimable_again_and_counts_as_an_attempt() {
        let mut e = entry();
        e.claim("sweep-a", T0, LEASE, &POLICY).unwrap();
        // sweep-a crashed; its lease runs out.
        assert!(e.is_due(at(LEASE)));
        e.claim("sweep-b", at(LEASE), LEASE, &POLICY).unwrap();
        assert_eq!(e.delivery.attempts, 2);
        assert!(matches!(e.state(), State::InFlight { claim, .. } if claim == "sweep-b"));
    }

    #[test]
    fn a_message_whose_sweeps_keep_crashing_ends_in_the_dead_letters() {
        let mut e = entry();
        let mut now = T0;
        for claim in ["a", "b", "c"] {
            e.claim(claim, now, LEASE, &POLICY).unwrap();
            now = Timestamp(now.0 + LEASE);
        }
        assert_eq!(e.claim("d", now, LEASE, &POLICY), Err(Refusal::DeadLettered));
        assert_eq!(e.state(), &State::DeadLetter { at: now });
        assert!(e.delivery.last_error.as_deref().unwrap().contains("lease expired"));
    }

    #[test]
    fn a_sent_message_is_never_claimed_again() {
        let mut e = entry();
        e.claim("a", T0, LEASE, &POLICY).unwrap();
        e.record(report("a", sent("wamid.1"), at(10)), &POLICY).unwrap();
        for later in [at(10), at(LEASE + 1), at(365 * 86_400_000)] {
            assert!(!e.is_due(later));
            assert_eq!(e.claim("b", later, LEASE, &POLICY), Err(Refusal::AlreadySent));
        }
        e.apply_receipt(&receipt("wamid.1", DeliveryState::Read, 20));
        assert_eq!(e.claim("b", at(LEASE + 1), LEASE, &POLICY), Err(Refusal::AlreadySent));
    }

    #[test]
    fn a_late_acceptance_from_an_expired_lease_still_stops_further_sends() {
        let mut e = entry();
        e.claim("slow", T0, LEASE, &POLICY).unwrap();
        e.claim("fast", at(LEASE), LEASE, &POLICY).unwrap();
        // The slow sweep's request got through after all.
        e.record(report("slow", sent("wamid.slow"), at(LEASE + 5)), &POLICY).unwrap();
        assert_eq!(e.state(), &State::Sent { at: at(LEASE + 5) });
        // The fast sweep's report comes after: refused, the entry stays sent.
        assert_eq!(
            e.record(report("fast", sent("wamid.fast"), at(LEASE + 6)), &POLICY),
            Err(Refusal::AlreadySent)
        );
        assert_eq!(e.delivery.provider_message_id.as_deref(), Some("wamid.slow"));
    }

    #[test]
    fn a_failure_from_a_sweep_that_lost_its_lease_is_ignored() {
        let mut e = entry();
        e.claim("slow", T0, LEASE, &POLICY).unwrap();
        e.claim("fast", at(LEASE), LEASE, &POLICY).unwrap();
        let before = e.clone();
        assert_eq!(e.record(report("slow", retry(), at(LEASE + 1)), &POLICY), Err(Refusal::NotClaimant));
        assert_eq!(e, before);
        let mut never_claimed = entry();
        assert_eq!(never_claimed.record(report("x", retry(), T0), &POLICY), Err(Refusal::NotClaimant));
    }

    #[test]
    fn a_retryable_failure_waits_with_backoff_then_dead_letters() {
        let mut e = entry();
        e.claim("a", T0, LEASE, &POLICY).unwrap();
        e.record(report("a", retry(), at(100)), &POLICY).unwrap();
        // 5000 random within a 10 s first step.
        assert_eq!(e.state(), &State::Failed { next_attempt_at: at(5100) });
        assert_eq!(e.delivery.last_error.as_deref(), Some("twilio 503"));
        assert_eq!(e.claim("b", at(5099), LEASE, &POLICY), Err(Refusal::NotDue(at(5100))));
        e.claim("b", at(5100), LEASE, &POLICY).unwrap();
        e.record(report("b", retry(), at(6000)), &POLICY).unwrap();
        e.claim("c", at(60_000), LEASE, &POLICY).unwrap();
        e.record(report("c", retry(), at(61_000)), &POLICY).unwrap();
        assert_eq!(e.state(), &State::DeadLetter { at: at(61_000) }, "three attempts allowed");
        assert_eq!(e.delivery.attempts, 3);
    }

    #[test]
    fn a_permanent_failure_dead_letters_at_once_and_an_administrator_requeues_it() {
        let mut e = entry();
        e.claim("a", T0, LEASE, &POLICY).unwrap();
        let reason = "no channel can carry the message: whatsapp has no address for the recipient";
        let r = Report {
            claim: "a",
            via: None,
            outcome: Outcome::Permanent { reason: reason.into() },
            now: at(1),
            random: 0,
        };
        e.record(r, &POLICY).unwrap();
        assert_eq!(e.state(), &State::DeadLetter { at: at(1) });
        assert_eq!(e.claim("b", at(2), LEASE, &POLICY), Err(Refusal::DeadLettered));
        assert!(!e.is_due(at(10_000_000)));
        e.requeue(at(3)).unwrap();
        assert_eq!((e.state(), e.delivery.attempts), (&State::Queued, 0));
        assert_eq!(e.delivery.last_error.as_deref(), Some(reason), "kept for the record");
        e.claim("c", at(4), LEASE, &POLICY).unwrap();
        assert_eq!(e.requeue(at(5)), Err(Refusal::NotDeadLettered));
    }

    #[test]
    fn receipts_for_another_message_or_older_states_are_ignored() {
        let mut e = entry();
        // Before anything was sent, a receipt cannot be ours.
        assert_eq!(e.apply_receipt(&receipt("wamid.1", DeliveryState::Delivered, 1)), ReceiptEffect::Ignored);
        e.claim("a", T0, LEASE, &POLICY).unwrap();
        e.record(report("a", sent("wamid.1"), at(10)), &POLICY).unwrap();
        assert_eq!(e.apply_receipt(&receipt("wamid.other", DeliveryState::Read, 20)), ReceiptEffect::Ignored);
        let mut other_channel = receipt("wamid.1", DeliveryState::Read, 20);
        other_channel.channel = Channel::Facebook;
        assert_eq!(e.apply_receipt(&other_channel), ReceiptEffect::Ignored);
        assert_eq!(e.apply_receipt(&receipt("wamid.1", DeliveryState::Read, 30)), ReceiptEffect::Advanced);
        // Delivered arrives after read (webhooks are not ordered): ignored.
        assert_eq!(
            e.apply_receipt(&receipt("wamid.1", DeliveryState::Delivered, 25)),
            ReceiptEffect::Ignored
        );
        assert_eq!(e.apply_receipt(&receipt("wamid.1", DeliveryState::Sent, 5)), ReceiptEffect::Ignored);
        assert_eq!(e.apply_receipt(&receipt("wamid.1", DeliveryState::Read, 40)), ReceiptEffect::Ignored);
        assert_eq!(e.apply_receipt(&receipt("wamid.1", DeliveryState::Failed, 50)), ReceiptEffect::Ignored);
        assert_eq!(e.state(), &State::Read { at: at(30) });
    }

    #[test]
    fn a_failed_receipt_after_acceptance_dead_letters_with_the_providers_reason() {
        let mut e = entry();
        e.claim("a", T0, LEASE, &POLICY).unwrap();
        e.record(report("a", sent("wamid.1"), at(10)), &POLICY).unwrap();
        let mut failed = receipt("wamid.1", DeliveryState::Failed, 20);
        failed.error = Some("131026: Message undeliverable".into());
        assert_eq!(e.apply_receipt(&failed), ReceiptEffect::Advanced);
        assert_eq!(e.state(), &State::DeadLetter { at: at(20) });
        assert!(e.delivery.last_error.as_deref().unwrap().contains("131026"));
    }

    #[test]
    fn an_entry_round_trips_through_json_with_its_state() {
        let mut e = entry();
        e.claim("a", T0, LEASE, &POLICY).unwrap();
        e.record(report("a", retry(), at(100)), &POLICY).unwrap();
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["delivery"]["state"], "failed");
        assert_eq!(json["delivery"]["next_attempt_at"], at(5100).0);
        assert_eq!(json["channel"], "whatsapp");
        assert_eq!(serde_json::from_value::<OutboxEntry>(json).unwrap(), e);
    }

    #[test]
    fn a_bare_outbox_message_as_intake_writes_it_reads_as_queued() {
        // The contract's generated enum spells the channel `Sms`.
        let stored = br#"{"id":"abc","ticket":"NTB-26-7KQ4MX","template":"complaint-received","language":"id",
            "channel":"Sms","recipient":"+6281299990000","fields":[["ticket","NTB-26-7KQ4MX"]],"queued_at":1795915800000}"#;
        let e: OutboxEntry = serde_json::from_slice(stored).unwrap();
        assert_eq!(e.message.channel, Channel::Sms);
        assert_eq!(e.delivery, Delivery::default());
        assert!(e.is_due(T0));
        let bad = br#"{"id":"abc","ticket":"t","template":"x","language":"id","channel":"pigeon","recipient":"r","fields":[],"queued_at":1}"#;
        assert!(serde_json::from_slice::<OutboxEntry>(bad).unwrap_err().to_string().contains("pigeon"));
    }

    #[test]
    fn a_retry_waits_at_least_as_long_as_the_provider_asked() {
        let policy = RetryPolicy { max_attempts: 5, base_delay_ms: 300, max_delay_ms: 1200 };
        let mut e = entry();
        e.claim("a", at(0), 60_000, &policy).unwrap();
        let told = Outcome::Retry {
            reason: "twilio 429".into(),
            not_before: Some(super::super::outcome::NotBefore::Seconds(4)),
        };
        e.record(report("a", told, at(1_000)), &policy).unwrap();
        assert_eq!(e.state(), &State::Failed { next_attempt_at: at(5_000) }, "not 0.3-1.2 s later");
        assert!(!e.is_due(at(4_999)));
    }
}
