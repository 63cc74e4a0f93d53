//! NTB Care's own SMS gateway format: how a self-hosted Gammu SMSD modem (through its
//! `RunOnReceive` hook) or an Indonesian SMS provider hands an SMS to intake, and how the
//! segments of a long SMS are put back together.
//!
//! Local providers have no common inbound format (Zenziva's is not even documented), so NTB
//! Care defines one small JSON format and a bridge script or provider adapter speaks it.
//!
//! # Request
//! `POST` with `Content-Type: application/json` and the body
//! ```json
//! {"id": "gammu-20261129-0042", "from": "+6281234567890", "text": "Jalan rusak di Praya",
//!  "received_at": "2026-11-29T09:30:00+08:00",
//!  "part": {"ref": 42, "index": 1, "count": 3}}
//! ```
//! - `id` (required, at most 128 characters): the gateway's id for this SMS or segment, unique
//!   per gateway; intake deduplicates on it, so a resend must reuse it.
//! - `from` (required): the sender. Local (`0812…`) and international (`62812…`, `+62 812…`)
//!   forms are normalised to E.164; an alphanumeric sender id (`TELKOMSEL`) is kept as it is.
//! - `text` (optional): the decoded text; absent or empty for an empty SMS.
//! - `received_at` (optional): when the modem received it, as RFC 3339 **with an offset**
//!   (`Z` or `±hh:mm`; a local time without offset is ambiguous and refused) or as integer
//!   Unix **milliseconds** (values before 2001 are refused, catching seconds sent by mistake).
//! - `part` (optional): for a provider that forwards each segment of a concatenated SMS on its
//!   own: the concatenation reference, the 1-based segment index and the segment count, all
//!   from the SMS's user data header. Gammu already joins segments (`DECODED_1_TEXT`), so its
//!   bridge sends the joined text and no `part`.
//!
//! Unknown fields are refused: both ends are NTB Care's, so a typo (`recieved_at`) should fail
//! loudly rather than silently drop data.
//!
//! # Signature and replay window
//! Headers [`SIGNATURE_HEADER`] `X-NTBCare-Signature: sha256=<hex>` and [`TIMESTAMP_HEADER`]
//! `X-NTBCare-Timestamp: <Unix seconds>`, where hex = HMAC-SHA256(key = the gateway secret,
//! message = `<timestamp>` + `.` + raw body). Binding the timestamp into the MAC and refusing
//! requests more than [`REPLAY_WINDOW_SECONDS`] (5 minutes) either side of now stops a
//! captured request being replayed later; within the window, deduplication on `id` does.
//! Both headers are required. A bridge computes it with standard tools:
//! ```sh
//! ts=$(date +%s)
//! sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$NTBCARE_SMS_SECRET" -r | cut -d' ' -f1)
//! curl -fsS -H 'Content-Type: application/json' -H "X-NTBCare-Timestamp: $ts" \
//!      -H "X-NTBCare-Signature: sha256=$sig" --data-binary "$body" "$NTBCARE_SMS_URL"
//! ```
//!
//! # Multi-part SMS
//! Each segment is kept until all have arrived; [`GatewaySms::reassemble`] decides, purely,
//! whether the message is complete. Suggested keys (to be added to `crate::keys`):
//! `sms/part/<sender E.164>/<ref>/<count>/<index>` holding a [`StoredPart`] as JSON. Putting
//! the count in the key keeps a reused reference with a different count apart, and makes the
//! keys of a message enumerable (`1..=count`) without a list operation. The component stores
//! the arriving part, reads the other indices, calls `reassemble`, and on `Complete` deletes the
//! `count` keys. Parts older than [`PART_MAX_AGE_MS`] are ignored, so a reference reused long
//! after an incomplete message never mixes the two.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::Node;
use super::{mac, ChannelError, InboundMessage};
use crate::clock::{days_from_civil, Timestamp};
use crate::complaint::{Channel, PhoneNumber};

/// The header carrying the gateway's signature.
pub const SIGNATURE_HEADER: &str = "X-NTBCare-Signature";
/// The header carrying the Unix time (seconds) the gateway signed at.
pub const TIMESTAMP_HEADER: &str = "X-NTBCare-Timestamp";
/// How far a request's timestamp may be from now, either way (clock skew included).
pub const REPLAY_WINDOW_SECONDS: i64 = 5 * 60;
/// How long a segment waits for the rest of its message.
pub const PART_MAX_AGE_MS: i64 = 24 * 3600 * 1000;

const ID_MAX_CHARS: usize = 128;
const SENDER_MAX_CHARS: usize = 32;
/// 2001-09-09 in milliseconds: anything smaller was surely sent in seconds.
const MIN_EPOCH_MS: i64 = 1_000_000_000_000;

/// Where a segment sits in a concatenated SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    /// The concatenation reference (8 or 16 bits on the air; wider accepted).
    #[serde(rename = "ref")]
    pub reference: u32,
    /// 1-based.
    pub index: u8,
    pub count: u8,
}

/// An SMS as the gateway delivered it: the message, and its place if it is one segment.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewaySms {
    pub message: InboundMessage,
    /// `None` for a whole SMS (including a "multi-part" one of one part).
    pub part: Option<PartInfo>,
}

/// A segment as the component keeps it until its message is complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    pub id: String,
    pub index: u8,
    pub count: u8,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    /// When NTB Care received it, for [`PART_MAX_AGE_MS`].
    pub stored_at: Timestamp,
}

/// Whether a multi-part SMS can be acted on yet.
#[derive(Clone, Debug, PartialEq)]
pub enum Reassembly {
    /// All segments are here: the whole message, identified by its first segment's id so the
    /// same message is recognised whichever segment completed it.
    Complete(InboundMessage),
    /// Still waiting for these indices.
    Waiting { missing: Vec<u8> },
}

/// Check the gateway's signature and that the request is fresh.
///
/// The MAC is checked before the age, so only an authentic request learns it was late.
pub fn verify_signature(
    raw_body: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    secret: &str,
    now: Timestamp,
) -> Result<(), ChannelError> {
    if secret.is_empty() {
        return Err(ChannelError::SecretNotConfigured);
    }
    let signature = signature.ok_or(ChannelError::MissingSignature { header: SIGNATURE_HEADER })?;
    let timestamp = timestamp.ok_or(ChannelError::MissingSignature { header: TIMESTAMP_HEADER })?.trim();
    // Digits only: the exact text is in the MAC, so `+5` or ` 5` must not pass as `5`.
    if timestamp.is_empty() || timestamp.len() > 12 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ChannelError::BadSignature);
    }
    let expected = mac::sha256_header(signature)?;
    mac::verify_sha256(secret, &[timestamp.as_bytes(), b".", raw_body], &expected)?;
    let signed_at: i64 = timestamp.parse().map_err(|_| ChannelError::BadSignature)?;
    let age_seconds = now.0.div_euclid(1000) - signed_at;
    if age_seconds.abs() > REPLAY_WINDOW_SECONDS {
        return Err(ChannelError::Stale { age_seconds });
    }
    Ok(())
}

/// Read a (verified) gateway body.
pub fn parse(raw_body: &[u8]) -> Result<GatewaySms, ChannelError> {
    let value: Value = serde_json::from_slice(raw_body)
        .map_err(|e| ChannelError::Malformed(format!("the body is not JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(ChannelError::Malformed("the body must be a JSON object".into()));
    };
    if let Some(unknown) =
        object.keys().find(|k| !["id", "from", "text", "received_at", "part"].contains(&k.as_str()))
    {
        return Err(ChannelError::Malformed(format!(
            "field `{}` is not known",
            unknown.chars().take(64).collect::<String>()
        )));
    }
    let root = Node::root(&value);

    let external_id = root.req_str("id")?;
    if external_id.chars().count() > ID_MAX_CHARS {
        return Err(ChannelError::Malformed(format!("`id` is longer than {ID_MAX_CHARS} characters")));
    }
    let from = root.req_str("from")?;
    let sender = match PhoneNumber::parse(&from) {
        Some(phone) => phone.as_str().to_string(),
        None if from.chars().count() <= SENDER_MAX_CHARS && !from.chars().any(char::is_control) => from,
        None => {
            return Err(ChannelError::Malformed("`from` is neither a phone number nor a sender id".into()))
        }
    };
    let text = match root.get("text") {
        // Keep the text as sent: a segment's leading or trailing space is part of a word gap.
        Some(n) => Some(n.as_str()?.to_string()).filter(|t| !t.is_empty()),
        None => None,
    };
    let sent_at = match root.get("received_at") {
        None => None,
        Some(n) => Some(match n.value {
            Value::String(s) => parse_rfc3339(s).ok_or_else(|| n.wrong("RFC 3339 with an offset"))?,
            Value::Number(x) => x
                .as_i64()
                .filter(|&ms| ms >= MIN_EPOCH_MS)
                .map(Timestamp)
                .ok_or_else(|| n.wrong("Unix milliseconds"))?,
            _ => return Err(n.wrong("RFC 3339 text or Unix milliseconds")),
        }),
    };
    let part = match root.object("part")? {
        None => None,
        Some(p) => {
            let int = |key: &str, max: u64| -> Result<u64, ChannelError> {
                let n = p.req(key)?;
                n.value
                    .as_u64()
                    .filter(|&v| v <= max)
                    .ok_or_else(|| n.wrong(&format!("a whole number up to {max}")))
            };
            let reference = int("ref", u32::MAX as u64)? as u32;
            let count = int("count", u8::MAX as u64)? as u8;
            let index = int("index", u8::MAX as u64)? as u8;
            if count == 0 || index == 0 || index > count {
                return Err(ChannelError::Malformed(format!(
                    "`part` index {index} of {count} is impossible"
                )));
            }
            // One segment of one is simply a whole SMS.
            (count > 1).then_some(PartInfo { reference, index, count })
        }
    };
    let message = InboundMessage {
        channel: Channel::Sms,
        external_id,
        sender,
        sender_name: None,
        text,
        media: Vec::new(),
        location: None,
        sent_at,
    };
    Ok(GatewaySms { message, part })
}

impl GatewaySms {
    /// What to keep for this segment until its message is complete; `None` for a whole SMS.
    pub fn stored_part(&self, now: Timestamp) -> Option<StoredPart> {
        let part = self.part?;
        Some(StoredPart {
            id: self.message.external_id.clone(),
            index: part.index,
            count: part.count,
            text: self.message.text.clone().unwrap_or_default(),
            sent_at: self.message.sent_at,
            stored_at: now,
        })
    }

    /// Whether this SMS, with the segments stored so far for the same sender, reference and
    /// count, makes a whole message.
    ///
    /// Tolerant of what networks and providers do: segments in any order, the same segment
    /// twice (the first kept), `stored` with or without this segment, and stray segments of
    /// another count or older than [`PART_MAX_AGE_MS`] (left out).
    pub fn reassemble(&self, stored: &[StoredPart], now: Timestamp) -> Reassembly {
        let Some(this) = self.stored_part(now) else { return Reassembly::Complete(self.message.clone()) };
        let count = this.count;
        let mut slots: Vec<Option<&StoredPart>> = vec![None; count as usize];
        let candidates = stored.iter().chain(std::iter::once(&this));
        for part in candidates {
            let fresh = now.0.saturating_sub(part.stored_at.0) <= PART_MAX_AGE_MS;
            if part.count != count || part.index == 0 || part.index > count || !fresh {
                continue;
            }
            let slot = &mut slots[part.index as usize - 1];
            if slot.is_none() {
                *slot = Some(part);
            }
        }
        let missing: Vec<u8> =
            slots.iter().enumerate().filter(|(_, s)| s.is_none()).map(|(i, _)| i as u8 + 1).collect();
        if !missing.is_empty() {
            return Reassembly::Waiting { missing };
        }
        let parts: Vec<&StoredPart> = slots.into_iter().flatten().collect();
        // Segments split mid-word, so they join with nothing between them.
        let text: String = parts.iter().map(|p| p.text.as_str()).collect();
        let first = parts[0];
        Reassembly::Complete(InboundMessage {
            external_id: first.id.clone(),
            text: Some(text).filter(|t| !t.trim().is_empty()),
            sent_at: first.sent_at,
            ..self.message.clone()
        })
    }
}

/// An RFC 3339 date-time with an offset (`2026-11-29T09:30:00+08:00`, `…T01:30:00.250Z`);
/// `None` for anything else, including a local time without offset. `T` may be `t` or a space
/// (RFC 3339 §5.6 allows it); fractions beyond milliseconds are truncated; a leap second reads
/// as the next second.
pub fn parse_rfc3339(input: &str) -> Option<Timestamp> {
    let b = input.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0i64, |n, d| n * 10 + (d - b'0') as i64))
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut millis = 0;
    if at(i, b".") {
        let start = i + 1;
        i = start;
        while at(i, b"0123456789") {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &b[start..i.min(start + 3)];
        millis = frac.iter().fold(0i64, |n, d| n * 10 + (d - b'0') as i64) * 10i64.pow(3 - frac.len() as u32);
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if b.len() == i + 1 => 0,
        sign @ (b'+' | b'-') if b.len() == i + 6 && at(i + 3, b":") => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year as i32, month as u32, day as u32);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(Timestamp(seconds * 1000 + millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::mac::sign_sha256_hex;

    const SECRET: &str = "ntbcare-gateway-secret";
    const SINGLE: &[u8] = include_bytes!("../../../../tests/fixtures/channels/sms_gateway/single.json");
    const PART_1: &[u8] = include_bytes!("../../../../tests/fixtures/channels/sms_gateway/part_1_of_3.json");
    const PART_2: &[u8] = include_bytes!("../../../../tests/fixtures/channels/sms_gateway/part_2_of_3.json");
    const PART_3: &[u8] = include_bytes!("../../../../tests/fixtures/channels/sms_gateway/part_3_of_3.json");
    /// 2026-11-29T09:30:00+08:00, when the fixtures were "received".
    const NOW: Timestamp = Timestamp(1_795_915_800_000);

    fn sign(ts: &str, body: &[u8]) -> String {
        format!("sha256={}", sign_sha256_hex(SECRET, &[ts.as_bytes(), b".", body]))
    }

    fn now_secs() -> String {
        (NOW.0 / 1000).to_string()
    }

    // --- signature ---

    #[test]
    fn signed_gateway_request_verifies() {
        let ts = now_secs();
        assert_eq!(verify_signature(SINGLE, Some(&sign(&ts, SINGLE)), Some(&ts), SECRET, NOW), Ok(()));
        assert_eq!(
            verify_signature(SINGLE, Some(&sign(&ts, SINGLE).to_uppercase()), Some(&ts), SECRET, NOW),
            Ok(())
        );
    }

    #[test]
    fn rejects_body_altered_after_signing() {
        let ts = now_secs();
        let header = sign(&ts, SINGLE);
        let altered = String::from_utf8(SINGLE.to_vec()).unwrap().replace("Praya", "Bima");
        assert_eq!(
            verify_signature(altered.as_bytes(), Some(&header), Some(&ts), SECRET, NOW),
            Err(ChannelError::BadSignature)
        );
    }

    #[test]
    fn rejects_a_timestamp_changed_after_signing() {
        let ts = now_secs();
        let header = sign(&ts, SINGLE);
        let later = (NOW.0 / 1000 + 1).to_string();
        assert_eq!(
            verify_signature(SINGLE, Some(&header), Some(&later), SECRET, NOW),
            Err(ChannelError::BadSignature)
        );
        for odd in ["", "+1795915800", "17959158e2", "-5", "1795915800.0"] {
            assert_eq!(
                verify_signature(SINGLE, Some(&sign(odd, SINGLE)), Some(odd), SECRET, NOW),
                Err(ChannelError::BadSignature),
                "{odd:?}"
            );
        }
    }

    #[test]
    fn replayed_request_outside_the_window_is_stale() {
        let old = (NOW.0 / 1000 - REPLAY_WINDOW_SECONDS - 1).to_string();
        assert_eq!(
            verify_signature(SINGLE, Some(&sign(&old, SINGLE)), Some(&old), SECRET, NOW),
            Err(ChannelError::Stale { age_seconds: REPLAY_WINDOW_SECONDS + 1 })
        );
        let future = (NOW.0 / 1000 + REPLAY_WINDOW_SECONDS + 60).to_string();
        assert_eq!(
            verify_signature(SINGLE, Some(&sign(&future, SINGLE)), Some(&future), SECRET, NOW),
            Err(ChannelError::Stale { age_seconds: -(REPLAY_WINDOW_SECONDS + 60) })
        );
        // At the edge of the window, still accepted.
        let edge = (NOW.0 / 1000 - REPLAY_WINDOW_SECONDS).to_string();
        assert_eq!(verify_signature(SINGLE, Some(&sign(&edge, SINGLE)), Some(&edge), SECRET, NOW), Ok(()));
    }

    #[test]
    fn a_forged_stale_request_learns_only_that_its_signature_is_bad() {
        let old = "1000000000";
        let forged = format!("sha256={}", "0".repeat(64));
        assert_eq!(
            verify_signature(SINGLE, Some(&forged), Some(old), SECRET, NOW),
            Err(ChannelError::BadSignature)
        );
    }

    #[test]
    fn missing_gateway_headers_or_secret_are_refused() {
        let ts = now_secs();
        let header = sign(&ts, SINGLE);
        assert_eq!(
            verify_signature(SINGLE, None, Some(&ts), SECRET, NOW),
            Err(ChannelError::MissingSignature { header: SIGNATURE_HEADER })
        );
        assert_eq!(
            verify_signature(SINGLE, Some(&header), None, SECRET, NOW),
            Err(ChannelError::MissingSignature { header: TIMESTAMP_HEADER })
        );
        assert_eq!(
            verify_signature(SINGLE, Some("sha256=zz"), Some(&ts), SECRET, NOW),
            Err(ChannelError::BadSignature)
        );
        assert_eq!(
            verify_signature(SINGLE, Some(&header), Some(&ts), "", NOW),
            Err(ChannelError::SecretNotConfigured)
        );
    }

    // --- parsing ---

    #[test]
    fn single_sms_becomes_a_message_from_an_e164_number() {
        let sms = parse(SINGLE).unwrap();
        assert_eq!(sms.part, None);
        let m = sms.message;
        assert_eq!(m.channel, Channel::Sms);
        assert_eq!(m.external_id, "gammu-inbox-1042");
        assert_eq!(m.sender, "+6281234567890");
        assert_eq!(
            m.text.as_deref(),
            Some("Pipa PDAM bocor di depan Pasar Renteng, Praya. Air terbuang sejak pagi.")
        );
        assert_eq!(m.sent_at, Some(NOW));
    }

    #[test]
    fn received_at_may_be_epoch_milliseconds() {
        let sms = parse(br#"{"id":"1","from":"6281234567890","received_at":1795915800000}"#).unwrap();
        assert_eq!(sms.message.sent_at, Some(NOW));
        assert_eq!(sms.message.text, None);
        assert_eq!(sms.message.sender, "+6281234567890");
    }

    #[test]
    fn a_part_of_one_is_a_whole_sms() {
        let sms =
            parse(br#"{"id":"1","from":"+6281234567890","text":"x","part":{"ref":7,"index":1,"count":1}}"#)
                .unwrap();
        assert_eq!(sms.part, None);
        assert_eq!(sms.reassemble(&[], NOW), Reassembly::Complete(sms.message.clone()));
    }

    #[test]
    fn alphanumeric_senders_are_kept() {
        let sms = parse(br#"{"id":"1","from":"TELKOMSEL","text":"Pulsa"}"#).unwrap();
        assert_eq!(sms.message.sender, "TELKOMSEL");
    }

    #[test]
    fn malformed_gateway_bodies_name_the_problem() {
        let cases: [(&str, &str); 14] = [
            (r#"{"id":"1","from":"+62812345678""#, "not JSON"),
            (r#"["id"]"#, "must be a JSON object"),
            (r#"{"from":"+62812345678"}"#, "`id` is missing"),
            (r#"{"id":1,"from":"+62812345678"}"#, "`id` must be a string"),
            (r#"{"id":"1"}"#, "`from` is missing"),
            (r#"{"id":"1","from":"+62812345678","text":5}"#, "`text` must be a string"),
            (r#"{"id":"1","from":"+62812345678","recieved_at":"x"}"#, "`recieved_at` is not known"),
            (r#"{"id":"1","from":"+62812345678","received_at":"2026-11-29 09:30:00"}"#, "RFC 3339"),
            (r#"{"id":"1","from":"+62812345678","received_at":1795915800}"#, "Unix milliseconds"),
            (r#"{"id":"1","from":"+62812345678","received_at":true}"#, "RFC 3339 text or Unix milliseconds"),
            (r#"{"id":"1","from":"+62812345678","part":{"ref":1,"index":4,"count":3}}"#, "index 4 of 3"),
            (r#"{"id":"1","from":"+62812345678","part":{"ref":1,"index":0,"count":3}}"#, "index 0 of 3"),
            (
                r#"{"id":"1","from":"+62812345678","part":{"ref":1,"index":1,"count":300}}"#,
                "`part.count` must be",
            ),
            (r#"{"id":"1","from":"+62812345678","part":{"index":1,"count":2}}"#, "`part.ref` is missing"),
        ];
        for (body, reason) in cases {
            let err = parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "malformed-payload");
            assert!(err.to_string().contains(reason), "{body}: {err}");
        }
        let long_id = format!(r#"{{"id":"{}","from":"+62812345678"}}"#, "x".repeat(129));
        assert!(parse(long_id.as_bytes()).unwrap_err().to_string().contains("longer than 128"));
        let bad_from = format!(r#"{{"id":"1","from":"{}"}}"#, "x".repeat(40));
        assert!(parse(bad_from.as_bytes()).unwrap_err().to_string().contains("neither a phone number"));
    }

    // --- reassembly ---

    fn stored(body: &[u8], at: Timestamp) -> (GatewaySms, StoredPart) {
        let sms = parse(body).unwrap();
        let part = sms.stored_part(at).unwrap();
        (sms, part)
    }

    const JOINED: &str = "Lampu penerangan jalan di Jl. Langko, Mataram sudah mati tiga minggu. \
Malam hari sangat gelap dan rawan kecelakaan. Mohon petugas PJU segera memeriksa. Terima kasih.";

    #[test]
    fn parts_arriving_in_order_are_joined() {
        let (_, p1) = stored(PART_1, NOW);
        let (_, p2) = stored(PART_2, NOW);
        let (sms3, p3) = stored(PART_3, NOW);
        let Reassembly::Complete(m) = sms3.reassemble(&[p1, p2, p3], NOW) else { panic!() };
        assert_eq!(m.text.as_deref(), Some(JOINED));
        assert_eq!(m.external_id, "gammu-inbox-2001");
        assert_eq!(m.sender, "+6287765432100");
        assert_eq!(m.sent_at, Some(Timestamp(NOW.0 - 5000)));
    }

    #[test]
    fn parts_arriving_out_of_order_are_joined() {
        let (sms2, p2) = stored(PART_2, NOW);
        assert_eq!(sms2.reassemble(&[], NOW), Reassembly::Waiting { missing: vec![1, 3] });
        let (sms3, p3) = stored(PART_3, NOW);
        assert_eq!(sms3.reassemble(std::slice::from_ref(&p2), NOW), Reassembly::Waiting { missing: vec![1] });
        // The last to arrive is the first segment; `stored` omits it this time.
        let (sms1, _) = stored(PART_1, NOW);
        let Reassembly::Complete(m) = sms1.reassemble(&[p3, p2], NOW) else { panic!() };
        assert_eq!(m.text.as_deref(), Some(JOINED));
        assert_eq!(m.external_id, "gammu-inbox-2001", "named by its first segment whichever came last");
    }

    #[test]
    fn duplicate_parts_are_harmless() {
        let (_, p1) = stored(PART_1, NOW);
        let (sms2, p2) = stored(PART_2, NOW);
        assert_eq!(
            sms2.reassemble(&[p1.clone(), p1.clone(), p2.clone(), p2.clone()], NOW),
            Reassembly::Waiting { missing: vec![3] }
        );
        let (sms3, _) = stored(PART_3, NOW);
        let Reassembly::Complete(m) = sms3.reassemble(&[p2.clone(), p1, p2], NOW) else { panic!() };
        assert_eq!(m.text.as_deref(), Some(JOINED));
    }

    #[test]
    fn parts_of_another_count_or_too_old_are_left_out() {
        let (_, p1) = stored(PART_1, NOW);
        let (_, p2) = stored(PART_2, NOW);
        let (sms3, _) = stored(PART_3, NOW);
        let stale = StoredPart { stored_at: Timestamp(NOW.0 - PART_MAX_AGE_MS - 1), ..p1.clone() };
        assert_eq!(sms3.reassemble(&[stale, p2.clone()], NOW), Reassembly::Waiting { missing: vec![1] });
        let other_count = StoredPart { count: 2, ..p1 };
        let impossible = StoredPart { index: 9, ..p2.clone() };
        assert_eq!(
            sms3.reassemble(&[other_count, impossible], NOW),
            Reassembly::Waiting { missing: vec![1, 2] }
        );
    }

    #[test]
    fn stored_parts_round_trip_through_json() {
        let (_, p1) = stored(PART_1, NOW);
        let json = serde_json::to_string(&p1).unwrap();
        assert_eq!(serde_json::from_str::<StoredPart>(&json).unwrap(), p1);
        assert!(parse(SINGLE).unwrap().stored_part(NOW).is_none());
    }

    // --- RFC 3339 ---

    #[test]
    fn rfc3339_with_offsets_reads_as_the_same_instant() {
        for s in [
            "2026-11-29T09:30:00+08:00",
            "2026-11-29T01:30:00Z",
            "2026-11-29t01:30:00z",
            "2026-11-29 01:30:00Z",
            "2026-11-28T20:30:00-05:00",
            " 2026-11-29T09:30:00.000+08:00 ",
        ] {
            assert_eq!(parse_rfc3339(s), Some(NOW), "{s}");
        }
        assert_eq!(parse_rfc3339("2026-11-29T01:30:00.25Z"), Some(Timestamp(NOW.0 + 250)));
        assert_eq!(parse_rfc3339("2026-11-29T01:30:00.123456789Z"), Some(Timestamp(NOW.0 + 123)));
        assert_eq!(parse_rfc3339("2028-02-29T00:00:00Z").map(|t| t.0 % 86_400_000), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(Timestamp(-1000)));
    }

    #[test]
    fn rfc3339_without_offset_or_out_of_range_is_refused() {
        for s in [
            "",
            "2026-11-29T09:30:00",
            "2026-11-29",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-29T24:00:00Z",
            "2026-11-29T09:60:00Z",
            "2026-11-29T09:30:00+24:00",
            "2026-11-29T09:30:00+0800",
            "2026-11-29T09:30:00.Z",
            "2026-11-29T09:30:00Zjunk",
            "２０２６-11-29T09:30:00Z",
            "2026/11/29T09:30:00Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s:?}");
        }
    }
}
