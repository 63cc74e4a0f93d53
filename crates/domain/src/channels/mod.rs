//! Messaging channels: what arrives at NTB Care's webhooks, checked and read into one shape.
//!
//! Citizens complain by WhatsApp, Messenger, Instagram and SMS as well as on the web. Each
//! provider calls a webhook with its own format and its own signature scheme; this module tree
//! owns both, as pure functions over the raw request bytes, so the intake component only reads
//! headers and body, calls in here, and acts on a typed result:
//!
//! - [`meta`]: WhatsApp Cloud API, Facebook Page/Messenger and Instagram, all at one callback
//!   (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body keyed by the App Secret).
//! - [`twilio`]: Twilio inbound SMS (form-encoded, `X-Twilio-Signature`, HMAC-SHA1 in base64).
//! - [`sms_gateway`]: NTB Care's own JSON format for a Gammu SMSD modem or an Indonesian SMS
//!   provider, signed with `X-NTBCare-Signature` over a timestamp and the body, and the
//!   reassembly of multi-part SMS.
//!
//! Every provider's payload becomes an [`InboundMessage`] (or a [`DeliveryStatus`] for receipts
//! of what NTB Care sent), so everything after this boundary is channel-agnostic. Signatures are
//! always checked over the raw bytes *before* parsing: Meta signs its own serialisation, and a
//! re-serialised body would not verify. Comparisons of secrets are constant-time.
//!
//! Nothing here knows about HTTP, Spin or the store: key names for the pieces the component
//! keeps (multi-part SMS) are suggested in [`sms_gateway`]'s docs and belong in `crate::keys`.

pub mod meta;
pub mod sms_gateway;
pub mod twilio;

mod fields;
mod mac;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::clock::Timestamp;
use crate::complaint::{Channel, Coordinates, PhoneNumber};
use crate::language::Text;
use crate::ticket::Ticket;

/// One message a citizen sent, whatever the channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub channel: Channel,
    /// The provider's message id (WhatsApp `wamid…`, Messenger/Instagram `mid`, Twilio
    /// `MessageSid`, the gateway's `id`). Providers redeliver, so this is the deduplication key.
    pub external_id: String,
    /// Whom to answer: WhatsApp `wa_id`, Messenger PSID, Instagram IGSID, or an E.164 phone
    /// number for SMS (the raw sender when it is not a number, such as an operator's name).
    pub sender: String,
    /// The name the sender's profile shows (WhatsApp only); never verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// The text typed, or the title of the button or list row chosen. `None` when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SharedLocation>,
    /// When the provider says it was sent; Twilio says nothing, so it may be absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
}

impl InboundMessage {
    /// What the citizen wrote: the text, or else the first media caption. A photo with a
    /// caption is the commonest way a WhatsApp complaint arrives.
    pub fn text_or_caption(&self) -> Option<&str> {
        self.text.as_deref().or_else(|| self.media.iter().find_map(|m| m.caption.as_deref()))
    }

    /// The sender's phone number, for channels whose sender is one (SMS, WhatsApp).
    pub fn phone(&self) -> Option<PhoneNumber> {
        match self.channel {
            Channel::Sms => PhoneNumber::parse(&self.sender),
            // A wa_id is the number's digits without the `+`.
            Channel::Whatsapp if self.sender.bytes().all(|b| b.is_ascii_digit()) => {
                PhoneNumber::parse(&format!("+{}", self.sender))
            }
            _ => None,
        }
    }
}

/// What a piece of media is, as far as NTB Care cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Document,
    Audio,
    Video,
    Sticker,
    Other,
}

impl MediaKind {
    /// From a MIME type, for providers that give only that (Twilio).
    pub fn from_mime(mime: &str) -> MediaKind {
        let mime = mime.trim().to_ascii_lowercase();
        match mime.split('/').next().unwrap_or("") {
            "image" => MediaKind::Image,
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            "application" | "text" if !mime.contains("vcard") => MediaKind::Document,
            _ => MediaKind::Other,
        }
    }
}

/// An attachment, by reference: NTB Care fetches it later (WhatsApp media ids need a bearer
/// token; Messenger and Twilio URLs expire), so parsing never downloads anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    pub kind: MediaKind,
    /// WhatsApp media id, or a URL (Messenger, Instagram, Twilio).
    pub provider_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// A place the citizen shared with the chat app's location button.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharedLocation {
    pub coordinates: Coordinates,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// How far a message NTB Care sent has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// A provider's receipt for a message NTB Care sent (notification's outbox).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    pub channel: Channel,
    /// The id the provider gave when NTB Care sent the message.
    pub provider_message_id: String,
    pub recipient: String,
    pub state: DeliveryState,
    pub at: Timestamp,
    /// The provider's explanation of a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a webhook call cannot be accepted.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ChannelError {
    #[error("the signature header `{header}` is missing")]
    MissingSignature { header: &'static str },
    #[error("the signature does not match the request")]
    BadSignature,
    #[error("the request is {age_seconds} seconds away from now, outside the replay window")]
    Stale { age_seconds: i64 },
    #[error("the subscription handshake was refused")]
    HandshakeRefused,
    #[error("the channel's secret is not configured")]
    SecretNotConfigured,
    #[error("the payload is malformed: {0}")]
    Malformed(String),
    #[error("object `{0}` is not a channel NTB Care reads")]
    UnsupportedObject(String),
}

impl ChannelError {
    /// A stable machine-readable code, for logs and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ChannelError::MissingSignature { .. } => "missing-signature",
            ChannelError::BadSignature => "bad-signature",
            ChannelError::Stale { .. } => "stale-request",
            ChannelError::HandshakeRefused => "handshake-refused",
            ChannelError::SecretNotConfigured => "secret-not-configured",
            ChannelError::Malformed(_) => "malformed-payload",
            ChannelError::UnsupportedObject(_) => "unsupported-object",
        }
    }

    /// The message an operator reads, in Bahasa Indonesia and English.
    pub fn message(&self) -> Text {
        let id = match self {
            ChannelError::MissingSignature { header } => format!("Header tanda tangan `{header}` tidak ada."),
            ChannelError::BadSignature => "Tanda tangan tidak cocok dengan permintaan.".to_string(),
            ChannelError::Stale { age_seconds } => format!(
                "Permintaan berjarak {age_seconds} detik dari waktu sekarang, di luar batas pengulangan."
            ),
            ChannelError::HandshakeRefused => "Jabat tangan langganan ditolak.".to_string(),
            ChannelError::SecretNotConfigured => "Kunci rahasia kanal belum diatur.".to_string(),
            ChannelError::Malformed(reason) => format!("Isi permintaan tidak sah: {reason}"),
            ChannelError::UnsupportedObject(o) => format!("Objek `{o}` bukan kanal yang dibaca NTB Care."),
        };
        let mut en = self.to_string();
        if let Some(first) = en.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        en.push('.');
        Text::new(ensure_full_stop(id), en)
    }
}

fn ensure_full_stop(mut s: String) -> String {
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Read an `application/x-www-form-urlencoded` body or query string into name–value pairs, in
/// order, duplicates kept: `+` is a space and `%XX` a byte. A `%` not followed by two hex digits
/// stays as it is (what browsers and the WHATWG URL standard do); a body that does not decode
/// to UTF-8 is malformed, because a signature over it could never have been computed on text.
pub fn parse_urlencoded(body: &[u8]) -> Result<Vec<(String, String)>, ChannelError> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Ok((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(input: &[u8]) -> Result<String, ChannelError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match input
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(mac::decode_hex)
                {
                    Some(byte) => {
                        out.push(byte[0]);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ChannelError::Malformed("the form is not UTF-8 text".into()))
}

/// The ticket a message quotes, so a citizen asking about an existing complaint
/// ("soal NTB-26-7KQ4MX belum ada jawaban") is attached to it rather than opening a new one.
///
/// People write tickets in lower case, without dashes or with spaces (`ntb 26 7kq4mx`), so
/// every run of one to three words starting with `ntb` is tried with [`Ticket::parse`]; its
/// check symbol keeps ordinary words from being mistaken for a ticket. The first valid one wins.
pub fn ticket_reference(text: &str) -> Option<Ticket> {
    // Words are split on anything but letters, digits and dashes; dots and other punctuation
    // around a ticket ("NTB-26-7KQ4MX.") are never part of it.
    let words: Vec<&str> =
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).filter(|w| !w.is_empty()).collect();
    for (i, word) in words.iter().enumerate() {
        let word = word.trim_start_matches('-');
        if !word.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("ntb")) {
            continue;
        }
        let mut candidate = word.to_string();
        for next in words.iter().skip(i + 1).take(3) {
            if let Ok(ticket) = Ticket::parse(&candidate) {
                return Some(ticket);
            }
            // A ticket is 11 symbols without dashes; once past that, more words cannot help.
            if candidate.len() > 16 {
                break;
            }
            candidate.push_str(next);
        }
        if let Ok(ticket) = Ticket::parse(&candidate) {
            return Some(ticket);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(seq: u64) -> Ticket {
        Ticket::number(2026, seq).unwrap()
    }

    #[test]
    fn finds_a_ticket_quoted_in_a_sentence() {
        let t = ticket(4242);
        let text = format!("soal {t} belum ada jawaban");
        assert_eq!(ticket_reference(&text), Some(t));
    }

    #[test]
    fn finds_a_ticket_written_in_lower_case_without_dashes() {
        let t = ticket(7);
        let sloppy = t.as_str().to_lowercase().replace('-', "");
        assert_eq!(ticket_reference(&format!("tiket saya {sloppy}, mohon dicek")), Some(t));
    }

    #[test]
    fn finds_a_ticket_spoken_with_spaces_and_punctuation_around_it() {
        let t = ticket(99_999);
        let spaced = t.as_str().replace('-', " ").to_lowercase();
        assert_eq!(ticket_reference(&format!("Tiket: {spaced}. Terima kasih")), Some(t.clone()));
        assert_eq!(ticket_reference(&format!("(#{t})?")), Some(t.clone()));
        assert_eq!(ticket_reference(&format!("tiket:{t}")), Some(t));
    }

    #[test]
    fn a_mistyped_ticket_is_not_a_reference() {
        let t = ticket(12345).as_str().to_string();
        let last = t.chars().last().unwrap();
        let typo = format!("{}{}", &t[..t.len() - 1], if last == 'A' { 'B' } else { 'A' });
        assert_eq!(ticket_reference(&format!("soal {typo} belum ada jawaban")), None);
    }

    #[test]
    fn ordinary_text_about_ntb_has_no_reference() {
        for text in [
            "",
            "Jalan rusak di NTB Care mohon diperbaiki",
            "ntb 26 januari banjir",
            "NTB-26",
            "ntbntbntbntbntbntb",
            "NTB 2026 lampu jalan mati sejak 3 hari",
        ] {
            assert_eq!(ticket_reference(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_first_of_two_tickets_wins() {
        let (a, b) = (ticket(1), ticket(2));
        assert_eq!(ticket_reference(&format!("{a} dan {b}")), Some(a));
    }

    #[test]
    fn caption_stands_in_for_missing_text() {
        let mut m = InboundMessage {
            channel: Channel::Whatsapp,
            external_id: "wamid.1".into(),
            sender: "6281234567890".into(),
            sender_name: None,
            text: None,
            media: vec![Media {
                kind: MediaKind::Image,
                provider_ref: "123".into(),
                mime_type: None,
                caption: Some("Jalan berlubang".into()),
            }],
            location: None,
            sent_at: None,
        };
        assert_eq!(m.text_or_caption(), Some("Jalan berlubang"));
        assert_eq!(m.phone().unwrap().as_str(), "+6281234567890");
        m.text = Some("Teks".into());
        assert_eq!(m.text_or_caption(), Some("Teks"));
        m.channel = Channel::Facebook;
        assert_eq!(m.phone(), None);
    }

    #[test]
    fn media_kind_follows_the_mime_type() {
        assert_eq!(MediaKind::from_mime("image/jpeg"), MediaKind::Image);
        assert_eq!(MediaKind::from_mime("Audio/OGG"), MediaKind::Audio);
        assert_eq!(MediaKind::from_mime("video/mp4"), MediaKind::Video);
        assert_eq!(MediaKind::from_mime("application/pdf"), MediaKind::Document);
        assert_eq!(MediaKind::from_mime("text/vcard"), MediaKind::Other);
        assert_eq!(MediaKind::from_mime(""), MediaKind::Other);
    }

    #[test]
    fn every_error_has_a_code_and_both_languages() {
        let all = [
            ChannelError::MissingSignature { header: "X-Hub-Signature-256" },
            ChannelError::BadSignature,
            ChannelError::Stale { age_seconds: 900 },
            ChannelError::HandshakeRefused,
            ChannelError::SecretNotConfigured,
            ChannelError::Malformed("`entry` must be an array".into()),
            ChannelError::UnsupportedObject("user".into()),
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(ChannelError::code).collect();
        assert_eq!(codes.len(), all.len());
        for e in &all {
            let m = e.message();
            assert!(m.id.ends_with('.') && m.en.ends_with('.'), "{m:?}");
            assert_ne!(m.id, m.en);
        }
        assert_eq!(ChannelError::BadSignature.message().id, "Tanda tangan tidak cocok dengan permintaan.");
        assert_eq!(ChannelError::BadSignature.message().en, "The signature does not match the request.");
    }
}
