//! Meta's webhooks: WhatsApp Cloud API, Facebook Page/Messenger and Instagram messaging, all
//! delivered to one callback URL and told apart by the payload's `object`.
//!
//! Three steps, in this order:
//! 1. **Subscription handshake** (GET): [`verify_handshake`] or [`verify_handshake_query`]
//!    answers Meta's `hub.mode=subscribe` call with the challenge when the verify token matches.
//! 2. **Signature** (POST): [`verify_signature`] checks [`SIGNATURE_HEADER`]
//!    (`X-Hub-Signature-256: sha256=<hex>`), HMAC-SHA256 of the *raw* body keyed by the App
//!    Secret. It must run before parsing: Meta signs its own escaped-Unicode serialisation.
//! 3. **Events**: [`parse`] reads the body into [`MetaEvent`]s.
//!
//! A batch from Meta can hold many entries. Only a broken envelope (not JSON, no `object`, no
//! `entry` array) fails the whole call; a single message NTB Care cannot read becomes
//! [`MetaEvent::Malformed`] beside the others. That is deliberate: Meta retries a failed
//! delivery and eventually disables a webhook that keeps failing, so one odd message must not
//! keep the good ones of its batch out, nor take the channel down. The intake component logs
//! `Malformed` and `Ignored` events and answers 200.
//!
//! What is read: WhatsApp `text`, `image`, `document`, `audio`, `video`, `sticker`, `location`,
//! `interactive` (button or list reply: its title is the text) and `button` messages with the
//! contact's profile name, and `statuses[]` as [`DeliveryStatus`]; Messenger and Instagram
//! `messaging[]` messages (text, image/video/audio/file attachments, shared locations),
//! `delivery` receipts, and Instagram `read` receipts that name a message. Echoes of the page's
//! own messages, reactions, edits, postbacks, comments and feed changes are `Ignored`, each
//! with its reason.

use serde_json::Value;

use super::fields::{coordinates, Node};
use super::{
    mac, parse_urlencoded, ChannelError, DeliveryState, DeliveryStatus, InboundMessage, Media, MediaKind,
    SharedLocation,
};
use crate::complaint::Channel;

/// The header carrying Meta's signature of the body.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// What one item of a Meta webhook means for NTB Care.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaEvent {
    /// A citizen wrote.
    Message(InboundMessage),
    /// A receipt for a message NTB Care sent.
    Status(DeliveryStatus),
    /// Understood, and deliberately not acted on (an echo, a reaction, a comment…).
    Ignored { reason: String },
    /// An item that could not be read; the rest of the batch still counts.
    Malformed(ChannelError),
}

/// Meta's subscription handshake: when `mode` is `subscribe` and the verify token matches the
/// configured one, the challenge to echo as the 200 body.
///
/// The challenge is refused unless it is a short run of letters, digits, `-` or `_` (Meta sends
/// digits): it is reflected verbatim, and reflecting arbitrary text would let anyone make NTB
/// Care's domain serve content of their choosing.
pub fn verify_handshake(
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Result<String, ChannelError> {
    if expected_token.is_empty() {
        return Err(ChannelError::SecretNotConfigured);
    }
    if mode != Some("subscribe") {
        return Err(ChannelError::HandshakeRefused);
    }
    let Some(token) = verify_token else { return Err(ChannelError::HandshakeRefused) };
    if !mac::same_secret(token, expected_token) {
        return Err(ChannelError::HandshakeRefused);
    }
    let challenge = challenge.ok_or_else(|| ChannelError::Malformed("`hub.challenge` is missing".into()))?;
    let safe = (1..=256).contains(&challenge.len())
        && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !safe {
        return Err(ChannelError::Malformed("`hub.challenge` must be letters and digits".into()));
    }
    Ok(challenge.to_string())
}

/// [`verify_handshake`] from the raw query string (`hub.mode=subscribe&hub.challenge=…`).
/// Accepts the `hub_mode` spelling too, which some proxies and PHP-era tools produce.
pub fn verify_handshake_query(query: &str, expected_token: &str) -> Result<String, ChannelError> {
    let params = parse_urlencoded(query.trim_start_matches('?').as_bytes())?;
    let find = |name: &str| {
        let underscored = name.replace('.', "_");
        params.iter().find(|(k, _)| *k == name || *k == underscored).map(|(_, v)| v.as_str())
    };
    verify_handshake(find("hub.mode"), find("hub.verify_token"), find("hub.challenge"), expected_token)
}

/// Check `X-Hub-Signature-256` (`sha256=<hex>`, either case) against the raw body.
pub fn verify_signature(raw_body: &[u8], header: Option<&str>, app_secret: &str) -> Result<(), ChannelError> {
    if app_secret.is_empty() {
        return Err(ChannelError::SecretNotConfigured);
    }
    let header = header.ok_or(ChannelError::MissingSignature { header: SIGNATURE_HEADER })?;
    let expected = mac::sha256_header(header)?;
    mac::verify_sha256(app_secret, &[raw_body], &expected)
}

/// Read a (verified) webhook body into events, in payload order.
pub fn parse(raw_body: &[u8]) -> Result<Vec<MetaEvent>, ChannelError> {
    let value: Value = serde_json::from_slice(raw_body)
        .map_err(|e| ChannelError::Malformed(format!("the body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ChannelError::Malformed("the body must be a JSON object".into()));
    }
    let root = Node::root(&value);
    let object = root.req("object")?;
    let object = object.as_str()?;
    let channel = match object {
        "whatsapp_business_account" => Channel::Whatsapp,
        "page" => Channel::Facebook,
        "instagram" => Channel::Instagram,
        other => return Err(ChannelError::UnsupportedObject(other.chars().take(64).collect())),
    };
    let entry = root.req("entry")?;
    if !entry.value.is_array() {
        return Err(entry.wrong("an array"));
    }
    let mut events = Vec::new();
    for entry in root.items("entry")? {
        // An entry whose shape is wrong spoils only itself.
        let result = match channel {
            Channel::Whatsapp => whatsapp_entry(&entry, &mut events),
            _ => messaging_entry(channel, &entry, &mut events),
        };
        if let Err(e) = result {
            events.push(MetaEvent::Malformed(e));
        }
    }
    Ok(events)
}

/// Turn one item's result into an event, keeping its error as the event.
fn event(result: Result<MetaEvent, ChannelError>) -> MetaEvent {
    result.unwrap_or_else(MetaEvent::Malformed)
}

fn ignored(reason: impl Into<String>) -> MetaEvent {
    MetaEvent::Ignored { reason: reason.into() }
}

// ---------------------------------------------------------------------------------------------
// WhatsApp Cloud API: entry[].changes[].value.{contacts,messages,statuses}

fn whatsapp_entry(entry: &Node<'_>, events: &mut Vec<MetaEvent>) -> Result<(), ChannelError> {
    for change in entry.items("changes")? {
        let field = change.opt_str("field")?.unwrap_or_default();
        if field != "messages" {
            events.push(ignored(format!("WhatsApp `{field}` change")));
            continue;
        }
        let value = change.object("value")?.ok_or_else(|| change.missing("value"))?;
        // The profile name of each sender in this change, by wa_id.
        let mut names: Vec<(String, String)> = Vec::new();
        for contact in value.items("contacts")? {
            let wa_id = contact.opt_str("wa_id")?;
            let name = match contact.object("profile")? {
                Some(profile) => profile.opt_str("name")?,
                None => None,
            };
            if let (Some(wa_id), Some(name)) = (wa_id, name) {
                names.push((wa_id, name));
            }
        }
        let messages = value.items("messages")?;
        let statuses = value.items("statuses")?;
        if messages.is_empty() && statuses.is_empty() {
            events.push(ignored("WhatsApp change with neither messages nor statuses"));
        }
        for message in messages {
            events.push(event(whatsapp_message(&message, &names)));
        }
        for status in statuses {
            events.push(event(whatsapp_status(&status)));
        }
    }
    Ok(())
}

fn whatsapp_message(m: &Node<'_>, names: &[(String, String)]) -> Result<MetaEvent, ChannelError> {
    let external_id = m.req_str("id")?;
    let sender = m.req_str("from")?;
    let sent_at = m.opt_unix_seconds("timestamp")?;
    let kind = m.req_str("type")?;
    let sender_name = names.iter().find(|(wa_id, _)| *wa_id == sender).map(|(_, name)| name.clone());
    let mut message = InboundMessage {
        channel: Channel::Whatsapp,
        external_id,
        sender,
        sender_name,
        text: None,
        media: Vec::new(),
        location: None,
        sent_at,
    };
    let body = |key: &str| m.object(key)?.ok_or_else(|| m.missing(key));
    match kind.as_str() {
        "text" => message.text = body("text")?.opt_str("body")?,
        "image" | "document" | "audio" | "video" | "sticker" => {
            let media = body(&kind)?;
            message.media.push(Media {
                kind: match kind.as_str() {
                    "image" => MediaKind::Image,
                    "document" => MediaKind::Document,
                    "audio" => MediaKind::Audio,
                    "video" => MediaKind::Video,
                    _ => MediaKind::Sticker,
                },
                provider_ref: media.req_str("id")?,
                mime_type: media.opt_str("mime_type")?,
                caption: media.opt_str("caption")?,
            });
        }
        "location" => {
            let loc = body("location")?;
            let coordinates = coordinates(loc.req_f64("latitude")?, loc.req_f64("longitude")?, &loc)?;
            message.location = Some(SharedLocation {
                coordinates,
                name: loc.opt_str("name")?,
                address: loc.opt_str("address")?,
            });
        }
        "interactive" => {
            let interactive = body("interactive")?;
            let reply_kind = interactive.req_str("type")?;
            if !matches!(reply_kind.as_str(), "button_reply" | "list_reply") {
                return Ok(ignored(format!("WhatsApp interactive `{reply_kind}` reply")));
            }
            let reply = interactive.object(&reply_kind)?.ok_or_else(|| interactive.missing(&reply_kind))?;
            message.text = reply.opt_str("title")?;
        }
        // A quick-reply button on a template message NTB Care sent.
        "button" => message.text = body("button")?.opt_str("text")?,
        other => return Ok(ignored(format!("WhatsApp message type `{other}`"))),
    }
    Ok(MetaEvent::Message(message))
}

fn whatsapp_status(s: &Node<'_>) -> Result<MetaEvent, ChannelError> {
    let provider_message_id = s.req_str("id")?;
    let recipient = s.req_str("recipient_id")?;
    let at = s.opt_unix_seconds("timestamp")?.ok_or_else(|| s.missing("timestamp"))?;
    let state = match s.req_str("status")?.as_str() {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" => DeliveryState::Failed,
        other => return Ok(ignored(format!("WhatsApp status `{other}`"))),
    };
    let mut error = None;
    if let Some(first) = s.items("errors")?.first() {
        let code = first.get("code").map(|c| c.value.to_string());
        let title = first.opt_str("title")?.or(first.opt_str("message")?);
        let details = match first.object("error_data")? {
            Some(data) => data.opt_str("details")?,
            None => None,
        };
        let parts: Vec<String> = [code, title, details].into_iter().flatten().collect();
        error = (!parts.is_empty()).then(|| parts.join(": "));
    }
    Ok(MetaEvent::Status(DeliveryStatus {
        channel: Channel::Whatsapp,
        provider_message_id,
        recipient,
        state,
        at,
        error,
    }))
}

// ---------------------------------------------------------------------------------------------
// Messenger and Instagram: entry[].messaging[]

fn messaging_entry(
    channel: Channel,
    entry: &Node<'_>,
    events: &mut Vec<MetaEvent>,
) -> Result<(), ChannelError> {
    let product = if channel == Channel::Instagram { "Instagram" } else { "Messenger" };
    for item in entry.items("messaging")? {
        match messaging_item(channel, product, &item) {
            Ok(mut more) => events.append(&mut more),
            Err(e) => events.push(MetaEvent::Malformed(e)),
        }
    }
    // Comments on posts and media, and page feed changes: public conversation, not a message to
    // NTB Care; the Page feed is read another way if at all.
    for change in entry.items("changes")? {
        let field = change.opt_str("field")?.unwrap_or_default();
        events.push(ignored(format!("{product} `{field}` change")));
    }
    Ok(())
}

fn messaging_item(channel: Channel, product: &str, item: &Node<'_>) -> Result<Vec<MetaEvent>, ChannelError> {
    let sender = item.object("sender")?.ok_or_else(|| item.missing("sender"))?.req_str("id")?;
    let at = item.opt_unix_millis("timestamp")?;

    if let Some(message) = item.object("message")? {
        if message.flag("is_echo")? {
            return Ok(vec![ignored(format!("{product} echo of a message the page sent"))]);
        }
        if message.flag("is_deleted")? {
            return Ok(vec![ignored(format!("{product} message deleted by its sender"))]);
        }
        if message.flag("is_unsupported")? {
            return Ok(vec![ignored(format!("{product} message of a type Meta does not deliver"))]);
        }
        let mut inbound = InboundMessage {
            channel,
            external_id: message.req_str("mid")?,
            sender,
            sender_name: None,
            text: message.opt_str("text")?,
            media: Vec::new(),
            location: None,
            sent_at: at,
        };
        for attachment in message.items("attachments")? {
            read_attachment(&attachment, &mut inbound)?;
        }
        if inbound.text.is_none() && inbound.media.is_empty() && inbound.location.is_none() {
            return Ok(vec![ignored(format!("{product} message with nothing to read"))]);
        }
        return Ok(vec![MetaEvent::Message(inbound)]);
    }

    // Receipts for what the page sent: the citizen is the event's sender.
    if let Some(delivery) = item.object("delivery")? {
        let at =
            delivery.opt_unix_millis("watermark")?.or(at).ok_or_else(|| delivery.missing("watermark"))?;
        let mut statuses = Vec::new();
        for mid in delivery.items("mids")? {
            statuses.push(MetaEvent::Status(DeliveryStatus {
                channel,
                provider_message_id: mid.as_str()?.to_string(),
                recipient: sender.clone(),
                state: DeliveryState::Delivered,
                at,
                error: None,
            }));
        }
        if statuses.is_empty() {
            statuses.push(ignored(format!("{product} delivery receipt naming no message")));
        }
        return Ok(statuses);
    }
    if let Some(read) = item.object("read")? {
        // Messenger's read receipt is a watermark only; Instagram's names the message.
        return Ok(vec![match read.opt_str("mid")? {
            Some(mid) => MetaEvent::Status(DeliveryStatus {
                channel,
                provider_message_id: mid,
                recipient: sender,
                state: DeliveryState::Read,
                at: read.opt_unix_millis("watermark")?.or(at).ok_or_else(|| item.missing("timestamp"))?,
                error: None,
            }),
            None => ignored(format!("{product} read receipt naming no message")),
        }]);
    }
    let kind = item
        .value
        .as_object()
        .and_then(|o| o.keys().find(|k| !matches!(k.as_str(), "sender" | "recipient" | "timestamp")).cloned())
        .unwrap_or_else(|| "empty".into());
    Ok(vec![ignored(format!("{product} `{kind}` event"))])
}

fn read_attachment(a: &Node<'_>, inbound: &mut InboundMessage) -> Result<(), ChannelError> {
    let kind = a.req_str("type")?;
    let payload = a.object("payload")?;
    if kind == "location" {
        let payload = payload.ok_or_else(|| a.missing("payload"))?;
        let at = payload.object("coordinates")?.ok_or_else(|| payload.missing("coordinates"))?;
        inbound.location = Some(SharedLocation {
            coordinates: coordinates(at.req_f64("lat")?, at.req_f64("long")?, &at)?,
            name: a.opt_str("title")?,
            address: None,
        });
        return Ok(());
    }
    let media_kind = match kind.as_str() {
        "image" if payload.as_ref().is_some_and(|p| p.get("sticker_id").is_some()) => MediaKind::Sticker,
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        "audio" => MediaKind::Audio,
        "file" => MediaKind::Document,
        _ => MediaKind::Other,
    };
    let url = match &payload {
        Some(p) => p.opt_str("url")?,
        None => None,
    };
    match url {
        Some(url) => {
            inbound.media.push(Media { kind: media_kind, provider_ref: url, mime_type: None, caption: None })
        }
        // Media NTB Care could fetch must have a URL; templates and the like may not.
        None if media_kind != MediaKind::Other => {
            return Err(payload.as_ref().unwrap_or(a).missing("url"));
        }
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::mac::sign_sha256_hex;
    use crate::clock::Timestamp;

    const SECRET: &str = "ntbcare-app-secret";

    fn only(body: &str) -> MetaEvent {
        let mut events = parse(body.as_bytes()).unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        events.remove(0)
    }

    fn message(body: &str) -> InboundMessage {
        match only(body) {
            MetaEvent::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    fn signed(body: &[u8]) -> String {
        format!("sha256={}", sign_sha256_hex(SECRET, &[body]))
    }

    // --- handshake ---

    #[test]
    fn handshake_echoes_the_challenge_when_the_token_matches() {
        assert_eq!(
            verify_handshake(Some("subscribe"), Some("rahasia"), Some("1158201444"), "rahasia"),
            Ok("1158201444".to_string())
        );
    }

    #[test]
    fn handshake_with_a_wrong_token_or_mode_is_refused() {
        let refused = Err(ChannelError::HandshakeRefused);
        assert_eq!(verify_handshake(Some("subscribe"), Some("rahasiaX"), Some("1"), "rahasia"), refused);
        assert_eq!(verify_handshake(Some("subscribe"), Some(""), Some("1"), "rahasia"), refused);
        assert_eq!(verify_handshake(Some("subscribe"), None, Some("1"), "rahasia"), refused);
        assert_eq!(verify_handshake(Some("unsubscribe"), Some("rahasia"), Some("1"), "rahasia"), refused);
        assert_eq!(verify_handshake(None, Some("rahasia"), Some("1"), "rahasia"), refused);
    }

    #[test]
    fn handshake_refuses_a_challenge_that_is_not_plain() {
        for bad in [None, Some(""), Some("<script>alert(1)</script>")] {
            let err = verify_handshake(Some("subscribe"), Some("t"), bad, "t").unwrap_err();
            assert_eq!(err.code(), "malformed-payload", "{bad:?}");
        }
    }

    #[test]
    fn handshake_without_a_configured_token_is_a_configuration_error() {
        assert_eq!(
            verify_handshake(Some("subscribe"), Some(""), Some("1"), ""),
            Err(ChannelError::SecretNotConfigured)
        );
    }

    #[test]
    fn handshake_reads_the_query_string_in_both_spellings() {
        let q = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=rahasia%20NTB";
        assert_eq!(verify_handshake_query(q, "rahasia NTB"), Ok("1158201444".into()));
        let q = "?hub_mode=subscribe&hub_challenge=42&hub_verify_token=t";
        assert_eq!(verify_handshake_query(q, "t"), Ok("42".into()));
        assert_eq!(verify_handshake_query("", "t"), Err(ChannelError::HandshakeRefused));
    }

    // --- signature ---

    #[test]
    fn signed_body_verifies_with_hex_in_either_case() {
        let body = include_bytes!("../../../../tests/fixtures/channels/meta/whatsapp_text.json");
        assert_eq!(verify_signature(body, Some(&signed(body)), SECRET), Ok(()));
        assert_eq!(verify_signature(body, Some(&signed(body).to_uppercase()), SECRET), Ok(()));
    }

    #[test]
    fn rejects_body_altered_after_signing() {
        let body = include_bytes!("../../../../tests/fixtures/channels/meta/whatsapp_text.json");
        let header = signed(body);
        let mut altered = body.to_vec();
        let at = altered.iter().position(|&b| b == b'9').unwrap();
        altered[at] = b'8';
        assert_eq!(verify_signature(&altered, Some(&header), SECRET), Err(ChannelError::BadSignature));
    }

    #[test]
    fn rejects_re_serialised_json() {
        // Same JSON value, different bytes: what a framework that parses first would check.
        let body = br#"{"object":"page","entry":[]}"#;
        let reserialised = br#"{"object": "page", "entry": []}"#;
        assert_eq!(
            verify_signature(reserialised, Some(&signed(body)), SECRET),
            Err(ChannelError::BadSignature)
        );
    }

    #[test]
    fn rejects_a_signature_made_with_another_secret() {
        let body = b"{}";
        let header = format!("sha256={}", sign_sha256_hex("other-secret", &[body]));
        assert_eq!(verify_signature(body, Some(&header), SECRET), Err(ChannelError::BadSignature));
    }

    #[test]
    fn missing_or_malformed_signature_header_is_refused() {
        let body = b"{}";
        assert_eq!(
            verify_signature(body, None, SECRET),
            Err(ChannelError::MissingSignature { header: SIGNATURE_HEADER })
        );
        let sha1 = format!("sha1={}", "0".repeat(40));
        for bad in ["", "sha256=", "sha256=nothex", sha1.as_str(), "abcdef"] {
            assert_eq!(verify_signature(body, Some(bad), SECRET), Err(ChannelError::BadSignature), "{bad:?}");
        }
        assert_eq!(verify_signature(body, Some(&signed(body)), ""), Err(ChannelError::SecretNotConfigured));
    }

    // --- WhatsApp ---

    #[test]
    fn whatsapp_text_becomes_a_message_with_the_profile_name() {
        let m = message(include_str!("../../../../tests/fixtures/channels/meta/whatsapp_text.json"));
        assert_eq!(m.channel, Channel::Whatsapp);
        assert_eq!(m.external_id, "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBDNzZCRTNCQzY5QjI4NjhFNzkA");
        assert_eq!(m.sender, "6281234567890");
        assert_eq!(m.sender_name.as_deref(), Some("Baiq Nurul"));
        assert_eq!(m.text.as_deref(), Some("Lampu jalan di Jl. Pejanggik mati sejak seminggu"));
        assert_eq!(m.sent_at, Some(Timestamp(1_764_379_800_000)));
        assert_eq!(m.phone().unwrap().as_str(), "+6281234567890");
    }

    #[test]
    fn whatsapp_image_carries_its_media_id_and_caption() {
        let m = message(include_str!("../../../../tests/fixtures/channels/meta/whatsapp_image.json"));
        assert_eq!(m.text, None);
        assert_eq!(
            m.media,
            vec![Media {
                kind: MediaKind::Image,
                provider_ref: "1003383421387256".into(),
                mime_type: Some("image/jpeg".into()),
                caption: Some("Jalan berlubang depan SDN 2 Selong".into()),
            }]
        );
        assert_eq!(m.text_or_caption(), Some("Jalan berlubang depan SDN 2 Selong"));
    }

    #[test]
    fn whatsapp_location_is_a_shared_location() {
        let m = message(include_str!("../../../../tests/fixtures/channels/meta/whatsapp_location.json"));
        let loc = m.location.unwrap();
        assert_eq!((loc.coordinates.lat, loc.coordinates.lon), (-8.5833, 116.1167));
        assert_eq!(loc.name.as_deref(), Some("Taman Sangkareang"));
        assert_eq!(loc.address.as_deref(), Some("Jl. Pejanggik, Mataram"));
    }

    #[test]
    fn whatsapp_media_types_map_to_media_kinds() {
        let events =
            parse(include_bytes!("../../../../tests/fixtures/channels/meta/whatsapp_media_batch.json"))
                .unwrap();
        let kinds: Vec<_> = events
            .iter()
            .map(|e| match e {
                MetaEvent::Message(m) => m.media[0].kind,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds, [MediaKind::Document, MediaKind::Audio, MediaKind::Video, MediaKind::Sticker]);
    }

    #[test]
    fn whatsapp_button_and_list_replies_read_as_their_titles() {
        let events =
            parse(include_bytes!("../../../../tests/fixtures/channels/meta/whatsapp_interactive.json"))
                .unwrap();
        let texts: Vec<_> = events
            .iter()
            .map(|e| match e {
                MetaEvent::Message(m) => m.text.clone(),
                MetaEvent::Ignored { reason } => Some(format!("ignored: {reason}")),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            [
                Some("Cek status aduan".to_string()),
                Some("Jalan dan jembatan".to_string()),
                Some("Ya, sudah selesai".to_string()),
                Some("ignored: WhatsApp message type `reaction`".to_string()),
            ]
        );
    }

    #[test]
    fn whatsapp_delivered_status_is_a_delivery_status() {
        let e = only(include_str!("../../../../tests/fixtures/channels/meta/whatsapp_status_delivered.json"));
        assert_eq!(
            e,
            MetaEvent::Status(DeliveryStatus {
                channel: Channel::Whatsapp,
                provider_message_id: "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjRBNjE2QjA4QjhGNjQ0MUM4NQA=".into(),
                recipient: "6281234567890".into(),
                state: DeliveryState::Delivered,
                at: Timestamp(1_764_380_100_000),
                error: None,
            })
        );
    }

    #[test]
    fn whatsapp_failed_status_carries_the_providers_reason() {
        let e = only(include_str!("../../../../tests/fixtures/channels/meta/whatsapp_status_failed.json"));
        let MetaEvent::Status(s) = e else { panic!("{e:?}") };
        assert_eq!(s.state, DeliveryState::Failed);
        assert_eq!(
            s.error.as_deref(),
            Some("131047: Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
        );
    }

    #[test]
    fn whatsapp_template_status_changes_are_ignored() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
            {"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}"#;
        assert_eq!(only(body), ignored("WhatsApp `message_template_status_update` change"));
    }

    #[test]
    fn whatsapp_message_missing_its_id_is_malformed_but_spares_its_batch() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
            "value":{"messages":[
              {"from":"6281","timestamp":"1","type":"text","text":{"body":"tanpa id"}},
              {"from":"6281","id":"wamid.2","timestamp":"1","type":"text","text":{"body":"baik"}}]}}]}]}"#;
        let events = parse(body.as_bytes()).unwrap();
        assert_eq!(
            events[0],
            MetaEvent::Malformed(ChannelError::Malformed(
                "`entry[0].changes[0].value.messages[0].id` is missing".into()
            ))
        );
        assert!(matches!(&events[1], MetaEvent::Message(m) if m.external_id == "wamid.2"));
    }

    #[test]
    fn whatsapp_fields_of_the_wrong_type_are_malformed() {
        let cases = [
            (r#"{"from":"6281","id":"w","timestamp":"soon","type":"text","text":{"body":"x"}}"#, "timestamp"),
            (r#"{"from":6281,"id":"w","timestamp":"1","type":"text","text":{"body":"x"}}"#, "from"),
            (r#"{"from":"6281","id":"w","timestamp":"1","type":"image","image":"1003"}"#, "image"),
            (r#"{"from":"6281","id":"w","timestamp":"1","type":"image","image":{}}"#, "image.id"),
            (
                r#"{"from":"6281","id":"w","timestamp":"1","type":"location","location":{"latitude":"-8.5"}}"#,
                "latitude",
            ),
            (
                r#"{"from":"6281","id":"w","timestamp":"1","type":"location","location":{"latitude":95,"longitude":1}}"#,
                "location",
            ),
            (r#"{"from":"6281","id":"w","timestamp":"1","type":"text"}"#, "text"),
        ];
        for (msg, field) in cases {
            let body = format!(
                r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{{"messages":[{msg}]}}}}]}}]}}"#
            );
            match only(&body) {
                MetaEvent::Malformed(ChannelError::Malformed(reason)) => {
                    assert!(reason.contains(field), "{reason} should name {field}")
                }
                other => panic!("{msg}: {other:?}"),
            }
        }
    }

    // --- Messenger and Instagram ---

    #[test]
    fn messenger_text_becomes_a_message_with_millisecond_time() {
        let m = message(include_str!("../../../../tests/fixtures/channels/meta/messenger_text.json"));
        assert_eq!(m.channel, Channel::Facebook);
        assert_eq!(m.sender, "7384920165473821");
        assert_eq!(
            m.external_id,
            "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
        );
        assert_eq!(m.text.as_deref(), Some("Air PDAM di Ampenan tidak mengalir dua hari"));
        assert_eq!(m.sent_at, Some(Timestamp(1_764_379_801_234)));
        assert_eq!(m.sender_name, None);
        assert_eq!(m.phone(), None);
    }

    #[test]
    fn echoes_are_ignored() {
        assert_eq!(
            only(include_str!("../../../../tests/fixtures/channels/meta/messenger_echo.json")),
            ignored("Messenger echo of a message the page sent")
        );
    }

    #[test]
    fn messenger_attachments_and_location_are_read() {
        let m = message(include_str!("../../../../tests/fixtures/channels/meta/messenger_attachments.json"));
        assert_eq!(m.text, None);
        let kinds: Vec<_> = m.media.iter().map(|x| x.kind).collect();
        assert_eq!(kinds, [MediaKind::Image, MediaKind::Document, MediaKind::Sticker]);
        assert!(m.media[0].provider_ref.starts_with("https://scontent.xx.fbcdn.net/"));
        let loc = m.location.unwrap();
        assert_eq!((loc.coordinates.lat, loc.coordinates.lon), (-8.6476, 116.3249));
        assert_eq!(loc.name.as_deref(), Some("Lokasi Tersemat"));
    }

    #[test]
    fn messenger_delivery_receipts_become_statuses_and_reads_without_mid_are_ignored() {
        let events =
            parse(include_bytes!("../../../../tests/fixtures/channels/meta/messenger_receipts.json"))
                .unwrap();
        assert_eq!(events.len(), 4, "{events:?}");
        for (e, mid) in events[..2].iter().zip(["m_delivered_1", "m_delivered_2"]) {
            let MetaEvent::Status(s) = e else { panic!("{e:?}") };
            assert_eq!(s.provider_message_id, mid);
            assert_eq!(s.recipient, "7384920165473821");
            assert_eq!(s.state, DeliveryState::Delivered);
            assert_eq!(s.at, Timestamp(1_764_380_000_000));
        }
        assert_eq!(events[2], ignored("Messenger read receipt naming no message"));
        assert_eq!(events[3], ignored("Messenger `reaction` event"));
    }

    #[test]
    fn instagram_text_becomes_a_message() {
        let m = message(include_str!("../../../../tests/fixtures/channels/meta/instagram_text.json"));
        assert_eq!(m.channel, Channel::Instagram);
        assert_eq!(m.sender, "17841405793187218");
        assert_eq!(m.text.as_deref(), Some("Sampah menumpuk di Pantai Senggigi, mohon ditindak"));
        assert_eq!(m.media.len(), 1);
        assert_eq!(m.sent_at, Some(Timestamp(1_764_379_900_000)));
    }

    #[test]
    fn instagram_comments_and_reads_are_not_messages() {
        let events =
            parse(include_bytes!("../../../../tests/fixtures/channels/meta/instagram_comment_and_read.json"))
                .unwrap();
        assert_eq!(events.len(), 2, "{events:?}");
        let MetaEvent::Status(read) = &events[0] else { panic!("{events:?}") };
        assert_eq!(
            (read.state, read.provider_message_id.as_str()),
            (DeliveryState::Read, "aWdfZAG1faXRlbToxOklH")
        );
        assert_eq!(events[1], ignored("Instagram `comments` change"));
    }

    #[test]
    fn deleted_and_empty_messenger_messages_are_ignored() {
        let body = r#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[
            {"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"message":{"mid":"m1","is_deleted":true}},
            {"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"message":{"mid":"m2"}},
            {"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"postback":{"title":"Mulai","payload":"GET_STARTED"}}]}]}"#;
        let events = parse(body.as_bytes()).unwrap();
        assert_eq!(
            events,
            [
                ignored("Messenger message deleted by its sender"),
                ignored("Messenger message with nothing to read"),
                ignored("Messenger `postback` event"),
            ]
        );
    }

    #[test]
    fn messenger_items_of_the_wrong_shape_are_malformed() {
        let cases = [
            (
                r#"{"recipient":{"id":"2"},"message":{"mid":"m","text":"x"}}"#,
                "`entry[0].messaging[0].sender` is missing",
            ),
            (
                r#"{"sender":{"id":"1"},"timestamp":"1700000000000","message":{"mid":"m","text":"x"}}"#,
                "`entry[0].messaging[0].timestamp` must be Unix milliseconds",
            ),
            (
                r#"{"sender":{"id":"1"},"message":{"text":"x"}}"#,
                "`entry[0].messaging[0].message.mid` is missing",
            ),
            (
                r#"{"sender":{"id":"1"},"message":{"mid":"m","is_echo":"yes"}}"#,
                "`entry[0].messaging[0].message.is_echo` must be true or false",
            ),
            (
                r#"{"sender":{"id":"1"},"message":{"mid":"m","attachments":[{"type":"image","payload":{}}]}}"#,
                "`entry[0].messaging[0].message.attachments[0].payload.url` is missing",
            ),
            (
                r#"{"sender":{"id":"1"},"message":{"mid":"m","attachments":{"type":"image"}}}"#,
                "`entry[0].messaging[0].message.attachments` must be an array",
            ),
        ];
        for (item, reason) in cases {
            let body = format!(r#"{{"object":"page","entry":[{{"messaging":[{item}]}}]}}"#);
            assert_eq!(only(&body), MetaEvent::Malformed(ChannelError::Malformed(reason.into())), "{item}");
        }
    }

    // --- envelope ---

    #[test]
    fn truncated_json_is_malformed() {
        let body = include_str!("../../../../tests/fixtures/channels/meta/whatsapp_text.json");
        let err = parse(&body.as_bytes()[..body.len() / 2]).unwrap_err();
        assert_eq!(err.code(), "malformed-payload");
        assert!(err.to_string().contains("not JSON"), "{err}");
    }

    #[test]
    fn envelopes_of_the_wrong_shape_are_malformed() {
        let cases = [
            ("", "the body is not JSON"),
            ("[]", "the body must be a JSON object"),
            ("{}", "`object` is missing"),
            (r#"{"object":7,"entry":[]}"#, "`object` must be a string"),
            (r#"{"object":"page"}"#, "`entry` is missing"),
            (r#"{"object":"page","entry":{}}"#, "`entry` must be an array"),
        ];
        for (body, reason) in cases {
            let err = parse(body.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(reason), "{body:?}: {err}");
        }
    }

    #[test]
    fn other_webhook_objects_are_unsupported() {
        assert_eq!(
            parse(br#"{"object":"user","entry":[]}"#),
            Err(ChannelError::UnsupportedObject("user".into()))
        );
    }

    #[test]
    fn an_entry_of_the_wrong_shape_spoils_only_itself() {
        let body = r#"{"object":"page","entry":[{"messaging":"x"},
            {"messaging":[{"sender":{"id":"1"},"timestamp":1,"message":{"mid":"m","text":"ok"}}]}]}"#;
        let events = parse(body.as_bytes()).unwrap();
        assert_eq!(
            events[0],
            MetaEvent::Malformed(ChannelError::Malformed("`entry[0].messaging` must be an array".into()))
        );
        assert!(matches!(&events[1], MetaEvent::Message(m) if m.text.as_deref() == Some("ok")));
    }

    #[test]
    fn every_fixture_parses_without_malformed_events() {
        for (name, body) in FIXTURES {
            let events = parse(body.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!events.is_empty(), "{name}");
            assert!(!events.iter().any(|e| matches!(e, MetaEvent::Malformed(_))), "{name}: {events:?}");
        }
    }

    const FIXTURES: [(&str, &str); 13] = [
        ("whatsapp_text", include_str!("../../../../tests/fixtures/channels/meta/whatsapp_text.json")),
        ("whatsapp_image", include_str!("../../../../tests/fixtures/channels/meta/whatsapp_image.json")),
        (
            "whatsapp_location",
            include_str!("../../../../tests/fixtures/channels/meta/whatsapp_location.json"),
        ),
        (
            "whatsapp_media_batch",
            include_str!("../../../../tests/fixtures/channels/meta/whatsapp_media_batch.json"),
        ),
        (
            "whatsapp_interactive",
            include_str!("../../../../tests/fixtures/channels/meta/whatsapp_interactive.json"),
        ),
        (
            "whatsapp_status_delivered",
            include_str!("../../../../tests/fixtures/channels/meta/whatsapp_status_delivered.json"),
        ),
        (
            "whatsapp_status_failed",
            include_str!("../../../../tests/fixtures/channels/meta/whatsapp_status_failed.json"),
        ),
        ("messenger_text", include_str!("../../../../tests/fixtures/channels/meta/messenger_text.json")),
        ("messenger_echo", include_str!("../../../../tests/fixtures/channels/meta/messenger_echo.json")),
        (
            "messenger_attachments",
            include_str!("../../../../tests/fixtures/channels/meta/messenger_attachments.json"),
        ),
        (
            "messenger_receipts",
            include_str!("../../../../tests/fixtures/channels/meta/messenger_receipts.json"),
        ),
        ("instagram_text", include_str!("../../../../tests/fixtures/channels/meta/instagram_text.json")),
        (
            "instagram_comment_and_read",
            include_str!("../../../../tests/fixtures/channels/meta/instagram_comment_and_read.json"),
        ),
    ];
}
