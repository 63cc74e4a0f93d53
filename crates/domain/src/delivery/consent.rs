//! Consent: `BERHENTI` / `STOP` means stop, for the person, on every channel.
//!
//! A citizen who writes `BERHENTI` on WhatsApp has asked NTB Care to stop messaging *them*,
//! not one of their addresses. So the rule is:
//!
//! - An opt-out is kept per *contact*, not per (channel, address): a phone number is one
//!   contact whether it is written `+62812…`, `62812…` or `0812…` and whether it is reached on
//!   WhatsApp or by SMS; an e-mail address is one contact in any letter case; a Messenger or
//!   Instagram id is a contact of its own ([`contact`]).
//! - A message about a complaint goes to no channel at all if *any* contact on that
//!   complaint's reporter record has opted out (phone, messaging handle or e-mail): opting
//!   out on one channel opts the person out of all of them, e-mail included
//!   ([`any_opted_out`], read by the sweep before it routes a message).
//! - `MULAI` / `START` from the same sender reopens every contact the opt-out closed.
//! - Each command is confirmed on the channel it came on, in the language of the word used
//!   (`STOP`/`START`: English; `BERHENTI`/`MULAI`/`UNREG`/`REG`: Bahasa Indonesia). The
//!   confirmation is an ordinary outbox message, keyed by the inbound message, so a
//!   redelivered command queues it once; it is the one message delivered to an opted-out
//!   person ([`is_confirmation`]), and only to the address that wrote.
//!
//! Opt-outs live in the `identity` store (they name a contact), under
//! `optout/<sha256 of the contact>` so listing keys reveals no one's number; each command is
//! applied once (`consent-applied/<sha256 of channel and message id>`), so a redelivered
//! `STOP` arriving after the person's `MULAI` changes nothing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys as dkeys;
use super::outbox::{OutboxEntry, QueuedMessage};
use super::sweep;
use crate::channels::InboundMessage;
use crate::clock::Timestamp;
use crate::complaint::{Channel, PhoneNumber};
use crate::language::Language;
use crate::store::{KeyValue, StoreError};

/// The template confirming an opt-out.
pub const OPTED_OUT: &str = "opted-out";
/// The template confirming an opt-in.
pub const OPTED_IN: &str = "opted-in";

/// What a consent command asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `BERHENTI`, `STOP`, `UNREG`: no more messages.
    Stop,
    /// `MULAI`, `START`, `REG`: messages again.
    Start,
}

/// A consent command and the language to confirm it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consent {
    pub command: Command,
    pub language: Language,
}

/// Read a message as a consent command (see [`super::route::is_opt_out`] for the forms).
pub fn read(text: &str) -> Option<Consent> {
    let command = if super::route::is_opt_out(text) {
        Command::Stop
    } else if super::route::is_opt_in(text) {
        Command::Start
    } else {
        return None;
    };
    let first = text.trim_start().chars().take_while(|c| c.is_alphanumeric()).collect::<String>();
    let language = match first.to_ascii_lowercase().as_str() {
        "stop" | "start" => Language::En,
        _ => Language::Id,
    };
    Some(Consent { command, language })
}

/// Whether a template is a consent confirmation: the one message an opted-out person gets.
pub fn is_confirmation(template: &str) -> bool {
    template == OPTED_OUT || template == OPTED_IN
}

/// The contact an address stands for, the same for every form of it (see the module doc).
pub fn contact(channel: Channel, address: &str) -> String {
    let address = address.trim();
    match channel {
        Channel::Whatsapp | Channel::Sms => {
            // A wa_id is the number's digits; `PhoneNumber` reads it as international.
            let phone = PhoneNumber::parse(address).or_else(|| PhoneNumber::parse(&format!("+{address}")));
            match phone {
                Some(p) => format!("tel:{}", p.as_str()),
                None => format!("{}:{address}", channel.code()),
            }
        }
        Channel::Email => format!("mailto:{}", address.to_lowercase()),
        other => format!("{}:{address}", other.code()),
    }
}

/// The key marking a contact as opted out (identity store).
pub fn opt_out_key(contact: &str) -> String {
    format!("optout/{}", crate::hex::encode(&Sha256::digest(contact.as_bytes())))
}

/// What an opt-out key holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub at: Timestamp,
    /// The channel the command came on.
    pub channel: Channel,
}

/// The contacts a command from `msg` speaks for: the sender's own, and its phone number.
pub fn contacts_of(msg: &InboundMessage) -> Vec<String> {
    let mut out = vec![contact(msg.channel, &msg.sender)];
    if let Some(phone) = msg.phone() {
        let c = contact(Channel::Sms, phone.as_str());
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Whether any of a recipient's addresses belongs to an opted-out contact (or carries an
/// opt-out recorded per channel before opt-outs were per contact).
pub fn any_opted_out(identity: &impl KeyValue, addresses: &[(Channel, String)]) -> Result<bool, StoreError> {
    for (channel, address) in addresses {
        if identity.exists(&opt_out_key(&contact(*channel, address)))?
            || identity.exists(&dkeys::opt_out(*channel, address))?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The confirmation of `consent`, to the address that wrote, keyed by the inbound message.
pub fn confirmation(msg: &InboundMessage, consent: Consent, now: Timestamp) -> QueuedMessage {
    let template = match consent.command {
        Command::Stop => OPTED_OUT,
        Command::Start => OPTED_IN,
    };
    let recipient = match (msg.channel, msg.phone()) {
        (Channel::Sms, Some(phone)) => phone.as_str().to_string(),
        _ => msg.sender.clone(),
    };
    let digest = Sha256::digest(format!("consent\n{}\n{}", msg.channel.code(), msg.external_id).as_bytes());
    QueuedMessage {
        id: crate::hex::encode(&digest[..16]),
        ticket: String::new(),
        template: template.into(),
        language: consent.language,
        channel: msg.channel,
        recipient,
        fields: Vec::new(),
        queued_at: now,
    }
}

/// Take a message that may be a consent command: record the opt-out (or remove it) for every
/// contact the sender speaks for and queue the confirmation. `None` when it is not a command.
pub fn take(
    identity: &impl KeyValue,
    msg: &InboundMessage,
    now: Timestamp,
) -> Result<Option<Command>, StoreError> {
    let Some(consent) = msg.text_or_caption().and_then(read) else { return Ok(None) };
    // A command is applied once: a provider redelivering an old `STOP` after the person's
    // `MULAI` must not close their channels again.
    let seen = seen_key(msg);
    if identity.exists(&seen)? {
        sweep::enqueue(identity, &OutboxEntry::new(confirmation(msg, consent, now)))?;
        return Ok(Some(consent.command));
    }
    let record = serde_json::to_vec(&OptOut { at: now, channel: msg.channel }).expect("opt-outs encode");
    for c in contacts_of(msg) {
        match consent.command {
            Command::Stop => identity.set(&opt_out_key(&c), &record)?,
            Command::Start => identity.delete(&opt_out_key(&c))?,
        }
    }
    if consent.command == Command::Start {
        // Opt-outs recorded per channel before they were per contact.
        for channel in [msg.channel, Channel::Sms, Channel::Whatsapp] {
            identity.delete(&dkeys::opt_out(channel, &msg.sender))?;
            if let Some(phone) = msg.phone() {
                identity.delete(&dkeys::opt_out(channel, phone.as_str()))?;
            }
        }
    }
    sweep::enqueue(identity, &OutboxEntry::new(confirmation(msg, consent, now)))?;
    // Last: a crash before it lets the redelivery apply the command again, which is harmless.
    identity.set(&seen, &now.0.to_le_bytes())?;
    Ok(Some(consent.command))
}

/// Marks a consent command as applied (identity store; hashed like the opt-outs).
fn seen_key(msg: &InboundMessage) -> String {
    let digest = Sha256::digest(format!("{}\n{}", msg.channel.code(), msg.external_id).as_bytes());
    format!("consent-applied/{}", crate::hex::encode(&digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    const NOW: Timestamp = Timestamp(1_795_915_800_000);

    fn message(channel: Channel, id: &str, sender: &str, text: &str) -> InboundMessage {
        InboundMessage {
            channel,
            external_id: id.into(),
            sender: sender.into(),
            sender_name: None,
            text: Some(text.into()),
            media: Vec::new(),
            location: None,
            sent_at: None,
        }
    }

    #[test]
    fn every_form_of_a_phone_number_is_one_contact_on_whatsapp_and_sms() {
        let c = contact(Channel::Whatsapp, "6281234567890");
        for (channel, address) in [
            (Channel::Sms, "+6281234567890"),
            (Channel::Sms, "081234567890"),
            (Channel::Sms, "62 812-3456-7890"),
            (Channel::Whatsapp, "+6281234567890"),
        ] {
            assert_eq!(contact(channel, address), c, "{address}");
        }
        assert_eq!(contact(Channel::Email, " Warga@Example.org "), "mailto:warga@example.org");
        assert_ne!(contact(Channel::Facebook, "6281234567890"), c, "a PSID is not a number");
    }

    #[test]
    fn the_word_decides_the_command_and_its_language() {
        let r = |t| read(t).map(|c| (c.command, c.language));
        assert_eq!(r("BERHENTI"), Some((Command::Stop, Language::Id)));
        assert_eq!(r("Stop"), Some((Command::Stop, Language::En)));
        assert_eq!(r("mulai"), Some((Command::Start, Language::Id)));
        assert_eq!(r("START ntbcare"), Some((Command::Start, Language::En)));
        assert_eq!(r("Stop pungli di pasar"), None);
    }

    #[test]
    fn stop_on_whatsapp_stops_sms_and_email_of_the_same_person_and_start_reopens_them() {
        let identity = MemoryStore::new();
        let stop = message(Channel::Whatsapp, "wamid.1", "6281234567890", "BERHENTI");
        assert_eq!(take(&identity, &stop, NOW).unwrap(), Some(Command::Stop));
        let person =
            [(Channel::Sms, "081234567890".to_string()), (Channel::Email, "warga@example.org".to_string())];
        assert!(any_opted_out(&identity, &person).unwrap(), "the number in its 08 form");
        assert!(!any_opted_out(&identity, &[(Channel::Email, "warga@example.org".into())]).unwrap());

        let start = message(Channel::Sms, "SM2", "+6281234567890", "MULAI");
        assert_eq!(take(&identity, &start, NOW).unwrap(), Some(Command::Start));
        assert!(!any_opted_out(&identity, &person).unwrap());
    }

    #[test]
    fn each_command_queues_one_confirmation_on_its_own_channel() {
        let identity = MemoryStore::new();
        let stop = message(Channel::Whatsapp, "wamid.1", "6281234567890", "STOP");
        take(&identity, &stop, NOW).unwrap();
        take(&identity, &stop, Timestamp(NOW.0 + 5)).unwrap(); // redelivered
        let entries = sweep::entries(&identity).unwrap();
        assert_eq!(entries.len(), 1);
        let m = &entries[0].message;
        assert_eq!((m.template.as_str(), m.language), (OPTED_OUT, Language::En));
        assert_eq!((m.channel, m.recipient.as_str()), (Channel::Whatsapp, "6281234567890"));
        assert!(is_confirmation(&m.template));
        take(&identity, &message(Channel::Whatsapp, "wamid.2", "6281234567890", "mulai"), NOW).unwrap();
        assert_eq!(sweep::entries(&identity).unwrap().len(), 2);
    }

    #[test]
    fn a_stop_redelivered_after_mulai_does_not_close_the_channels_again() {
        let identity = MemoryStore::new();
        let stop = message(Channel::Whatsapp, "wamid.1", "6281234567890", "BERHENTI");
        take(&identity, &stop, NOW).unwrap();
        take(&identity, &message(Channel::Whatsapp, "wamid.2", "6281234567890", "MULAI"), NOW).unwrap();
        assert_eq!(take(&identity, &stop, NOW).unwrap(), Some(Command::Stop));
        assert!(!any_opted_out(&identity, &[(Channel::Sms, "+6281234567890".into())]).unwrap());
        assert_eq!(sweep::entries(&identity).unwrap().len(), 2, "no third confirmation");
    }

    #[test]
    fn an_opt_out_recorded_per_channel_still_counts_and_start_removes_it() {
        let identity = MemoryStore::new();
        identity.set(&dkeys::opt_out(Channel::Whatsapp, "6281234567890"), b"1").unwrap();
        assert!(any_opted_out(&identity, &[(Channel::Whatsapp, "6281234567890".into())]).unwrap());
        take(&identity, &message(Channel::Whatsapp, "wamid.3", "6281234567890", "MULAI"), NOW).unwrap();
        assert!(!any_opted_out(&identity, &[(Channel::Whatsapp, "6281234567890".into())]).unwrap());
    }
}
