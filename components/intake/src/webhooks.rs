//! Messaging channels: Meta (WhatsApp, Messenger, Instagram), Twilio SMS and the JSON SMS
//! gateway. Every signature is checked over the raw body before anything is parsed; every
//! message is claimed by its provider id so a redelivery never makes a second complaint.

use ntbcare_contract as contract;
use ntbcare_domain::channels::{meta, sms_gateway, twilio, ChannelError, InboundMessage};
use ntbcare_domain::clock::{Clock, Timestamp};
use ntbcare_domain::conversation::{self, Claim, Target};
use ntbcare_domain::delivery;
use ntbcare_domain::keys;
use ntbcare_domain::language::Text;
use ntbcare_domain::replies;
use ntbcare_domain::store::KeyValue;
use ntbcare_platform::http::json_response;
use ntbcare_platform::{variable, ApiError, ApiResult, SpinStore, SystemClock};
use serde_json::json;
use spin_sdk::http::{Request, Response};

use crate::pipeline;

/// A channel error as an answer: signatures and handshakes refuse (401/403), malformed
/// payloads are the sender's fault (400), a missing secret is ours (503).
fn refuse(e: ChannelError) -> ApiError {
    let status = match e {
        ChannelError::MissingSignature { .. } | ChannelError::BadSignature | ChannelError::Stale { .. } => {
            401
        }
        ChannelError::HandshakeRefused => 403,
        ChannelError::SecretNotConfigured => 503,
        ChannelError::Malformed(_) | ChannelError::UnsupportedObject(_) => 400,
    };
    ApiError::new(status, e.code(), e.message())
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|v| v.as_str())
}

fn secret(name: &str) -> ApiResult<String> {
    variable(name)
}

pub fn meta_handshake(req: &Request) -> ApiResult {
    let challenge =
        meta::verify_handshake_query(req.query(), &secret("meta_verify_token")?).map_err(refuse)?;
    Ok(Response::builder().status(200).header("content-type", "text/plain").body(challenge).build())
}

pub async fn meta(req: Request) -> ApiResult {
    meta::verify_signature(req.body(), header(&req, meta::SIGNATURE_HEADER), &secret("meta_app_secret")?)
        .map_err(refuse)?;
    let events = meta::parse(req.body()).map_err(refuse)?;
    let mut outcomes = Vec::new();
    for event in events {
        match event {
            meta::MetaEvent::Message(msg) => outcomes.push(take(msg).await?),
            meta::MetaEvent::Status(status) => {
                // Receipts belong to notification; it reads them from the identity store,
                // where the messages they are about live.
                // One key per state, so a "delivered" and a "read" arriving between two
                // sweeps are both applied.
                let identity = SpinStore::open("identity")?;
                let state =
                    serde_json::to_value(status.state).ok().and_then(|v| v.as_str().map(str::to_string));
                identity.set(
                    &format!(
                        "{}/{}",
                        delivery::keys::receipt(&status.provider_message_id),
                        state.unwrap_or_else(|| "unknown".into())
                    ),
                    &serde_json::to_vec(&status).expect("receipt encodes"),
                )?;
            }
            meta::MetaEvent::Ignored { reason } => eprintln!("meta: ignored: {reason}"),
            meta::MetaEvent::Malformed(e) => eprintln!("meta: malformed item skipped: {e}"),
        }
    }
    // Meta retries and eventually disables a webhook that does not answer 200, so an item
    // we could not read is logged, not refused. A message still in flight elsewhere is the
    // one case where we ask for a retry.
    if outcomes.iter().any(|o| matches!(o, Outcome::InFlight)) {
        return Err(retry_later());
    }
    Ok(json_response(200, &json!({ "received": outcomes.iter().map(Outcome::describe).collect::<Vec<_>>() })))
}

pub async fn twilio(req: Request) -> ApiResult {
    let params = twilio::parse_form(req.body()).map_err(refuse)?;
    let url = format!("{}/webhooks/sms/twilio", variable("public_base_url")?.trim_end_matches('/'));
    twilio::verify_signature(
        &url,
        &params,
        header(&req, twilio::SIGNATURE_HEADER),
        &secret("twilio_auth_token")?,
    )
    .map_err(refuse)?;
    let msg = twilio::to_message(&params).map_err(refuse)?;
    if let Outcome::InFlight = take(msg).await? {
        return Err(retry_later());
    }
    // An empty TwiML answer: the acknowledgement goes out through notification's outbox.
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/xml")
        .body("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")
        .build())
}

pub async fn sms_gateway(req: Request) -> ApiResult {
    let now = SystemClock.now();
    sms_gateway::verify_signature(
        req.body(),
        header(&req, sms_gateway::SIGNATURE_HEADER),
        header(&req, sms_gateway::TIMESTAMP_HEADER),
        &secret("sms_gateway_secret")?,
        now,
    )
    .map_err(refuse)?;
    let sms = sms_gateway::parse(req.body()).map_err(refuse)?;
    let msg = match sms.stored_part(now) {
        None => sms.message.clone(),
        Some(part) => {
            let info = sms.part.expect("a stored part has part info");
            let prefix = format!("sms/part/{}/{}/{}", sms.message.sender, info.reference, info.count);
            let identity = SpinStore::open("identity")?;
            identity.set(
                &format!("{prefix}/{}", part.index),
                &serde_json::to_vec(&part).expect("part encodes"),
            )?;
            let keys: Vec<String> = (1..=info.count).map(|i| format!("{prefix}/{i}")).collect();
            let mut stored = Vec::new();
            for value in identity.get_many(&keys)?.into_iter().flatten() {
                if let Ok(p) = serde_json::from_slice(&value) {
                    stored.push(p);
                }
            }
            match sms.reassemble(&stored, now) {
                sms_gateway::Reassembly::Waiting { missing } => {
                    return Ok(json_response(202, &json!({ "waiting_for_parts": missing })));
                }
                sms_gateway::Reassembly::Complete(whole) => whole,
            }
        }
    };
    let outcome = take(msg).await?;
    if let Outcome::InFlight = outcome {
        return Err(retry_later());
    }
    Ok(json_response(200, &json!({ "received": [outcome.describe()] })))
}

fn retry_later() -> ApiError {
    ApiError::new(
        503,
        "in-flight",
        Text::new(
            "Pesan ini sedang diproses; kirim ulang nanti.",
            "This message is being processed; retry later.",
        ),
    )
}

enum Outcome {
    New(String),
    Added(String),
    Duplicate(String),
    /// A reply to what the case waits for: information, a rating, or help with rating.
    Replied(String, &'static str),
    InFlight,
    /// "STOP" / "BERHENTI": no more messages, on any channel; "MULAI" / "START": again.
    OptedOut,
    OptedIn,
}

impl Outcome {
    fn describe(&self) -> serde_json::Value {
        match self {
            Outcome::New(t) => json!({ "ticket": t, "result": "new" }),
            Outcome::Added(t) => json!({ "ticket": t, "result": "added" }),
            Outcome::Duplicate(t) => json!({ "ticket": t, "result": "duplicate" }),
            Outcome::Replied(t, what) => json!({ "ticket": t, "result": what }),
            Outcome::InFlight => json!({ "result": "in-flight" }),
            Outcome::OptedOut => json!({ "result": "opted-out" }),
            Outcome::OptedIn => json!({ "result": "opted-in" }),
        }
    }
}

fn window_ms() -> i64 {
    variable("conversation_window_hours")
        .ok()
        .and_then(|h| h.trim().parse::<i64>().ok())
        .map(|h| h * 3600 * 1000)
        .unwrap_or(conversation::DEFAULT_WINDOW_MS)
}

/// One message, exactly once: to the sender's complaint, or a new one.
async fn take(msg: InboundMessage) -> ApiResult<Outcome> {
    let now: Timestamp = SystemClock.now();
    let store = SpinStore::open_default()?;
    let identity = SpinStore::open("identity")?;
    // BERHENTI / MULAI is an instruction, not a complaint: for the person on every channel,
    // confirmed through the outbox on the channel it came on (`delivery::consent`).
    match delivery::consent::take(&identity, &msg, now)? {
        Some(delivery::consent::Command::Stop) => return Ok(Outcome::OptedOut),
        Some(delivery::consent::Command::Start) => return Ok(Outcome::OptedIn),
        None => {}
    }
    // The shared store knows the message only by a keyed hash of its id.
    let key = pipeline::pseudonym_key()?;
    match conversation::claim(&store, &msg, &key, now)? {
        Claim::Done(t) => return Ok(Outcome::Duplicate(t.to_string())),
        Claim::InFlight => return Ok(Outcome::InFlight),
        Claim::First => {}
    }
    // A reply to what one of the sender's cases waits for (an answer to the officer's
    // question, a rating of the answer) goes to that case, whatever the window.
    let conversation_ticket = conversation::open_ticket(&identity, &msg)?;
    if let Some((replied, case)) = replies::take(&store, &identity, &msg, conversation_ticket, now, |t| {
        conversation::add_follow_up(&store, t, &msg, &key, now)
    })? {
        if let Some(answer) = replied.answer(&msg, &case, now) {
            identity.set(
                &keys::outbox(&answer.id),
                &serde_json::to_vec(&contract::OutboxMessage::from(&answer)).expect("outbox message encodes"),
            )?;
        }
        conversation::remember(&store, &identity, &msg, &key, replied.ticket(), now)?;
        return Ok(Outcome::Replied(replied.ticket().to_string(), replied.code()));
    }
    let outcome = match conversation::target(&store, &identity, &msg, now, window_ms())? {
        Target::Existing(ticket) if conversation::add_follow_up(&store, &ticket, &msg, &key, now)? => {
            conversation::remember(&store, &identity, &msg, &key, &ticket, now)?;
            Outcome::Added(ticket.to_string())
        }
        _ => {
            let accepted = pipeline::prepare(
                &store,
                &identity,
                conversation::submission_from(&msg),
                msg.channel,
                now,
                None,
                vec![],
            )
            .await?;
            // Reserved before the commit: a redelivery after a crash between the commit and
            // `remember` is answered with this complaint, not made into a second one.
            conversation::reserve(&store, &msg, &key, &accepted.received.complaint.ticket)?;
            pipeline::commit(&store, &identity, &accepted)?;
            let ticket = accepted.received.complaint.ticket;
            conversation::remember(&store, &identity, &msg, &key, &ticket, now)?;
            Outcome::New(ticket.to_string())
        }
    };
    Ok(outcome)
}
