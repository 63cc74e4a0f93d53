//! The web and mobile JSON API: submit a complaint, track it.

use ntbcare_domain::casework::service::RateError;
use ntbcare_domain::casework::{self as casework, CaseError, RatingRequest};
use ntbcare_domain::channels::InboundMessage;
use ntbcare_domain::clock::Clock;
use ntbcare_domain::clock::Timestamp;
use ntbcare_domain::complaint::{limits, Channel, Complaint, Submission, SubmissionError};
use ntbcare_domain::conversation;
use ntbcare_domain::idempotency::{self, Claim, Scope};
use ntbcare_domain::intake;
use ntbcare_domain::keys;
use ntbcare_domain::language::{Language, Text};
use ntbcare_domain::pseudonym::{Kind, Pseudonym};
use ntbcare_domain::ratelimit::{self, Verdict};
use ntbcare_domain::store::get_json;
use ntbcare_domain::store::KeyValue;
use ntbcare_domain::ticket::Ticket;
use ntbcare_domain::tracking_code::{self, Checked, CodeError};
use ntbcare_domain::upload;
use ntbcare_platform::http::json_response;
use ntbcare_platform::{data, ApiError, ApiResult, SpinStore, SystemClock};
use spin_sdk::http::{Request, Response};

use crate::pipeline;

pub fn submission_error(e: SubmissionError) -> ApiError {
    let status = match e {
        SubmissionError::MalformedJson(_) | SubmissionError::NotAnObject => 400,
        _ => 422,
    };
    ApiError::new(status, e.code(), e.message()).with_field(e.field())
}

fn upload_error(e: upload::UploadError) -> ApiError {
    ApiError::new(
        match e {
            upload::UploadError::FileTooLarge(_) => 413,
            upload::UploadError::UnsupportedType(_) => 415,
            _ => 422,
        },
        e.code(),
        e.message(),
    )
}

/// Refuse a client address or sender over its limit, saying when to come back.
fn within_limits(store: &SpinStore, req: &Request, submission: &Submission, now: Timestamp) -> ApiResult<()> {
    // The limits' counts are Spin variables, so a campaign desk or a load test can raise them.
    let count = |name: &str, default: ratelimit::Limit| {
        let requests = ntbcare_platform::variable(name).ok().and_then(|v| v.trim().parse().ok());
        ratelimit::Limit { requests: requests.unwrap_or(default.requests), ..default }
    };
    let mut keys = Vec::new();
    // A call from another function of the app (the portal) carries no citizen's address:
    // chained in one app Spin reports 0.0.0.0; deployed apart the portal presents the internal
    // token. The portal applies the per-address limit itself.
    let internal = ntbcare_platform::http::require_secret(
        req,
        ntbcare_contract::INTERNAL_TOKEN_HEADER,
        "internal_token",
    )
    .is_ok();
    if let Some(ip) = ntbcare_platform::http::client_ip(req).filter(|ip| ip != "0.0.0.0" && !internal) {
        // Keyed hashes, not the address or contact: rate keys are in the shared store.
        let ip = Pseudonym::of(Kind::ClientAddress, &ip, &pipeline::pseudonym_key()?);
        keys.push((format!("ip/{ip}"), count("rate_limit_per_address", ratelimit::PER_ADDRESS)));
    }
    let r = &submission.reporter;
    if let Some(contact) = r
        .phone
        .as_ref()
        .map(|p| p.as_str().to_string())
        .or(r.email.as_ref().map(|e| e.as_str().to_lowercase()))
    {
        let limit = count("rate_limit_per_sender", ratelimit::PER_SENDER);
        let sender = Pseudonym::of(Kind::Contact, &contact, &pipeline::pseudonym_key()?);
        keys.push((format!("sender/{sender}"), limit));
    }
    for (key, limit) in keys {
        if let Verdict::Limited { retry_after_secs } = ratelimit::check(store, &key, limit, now)? {
            return Err(ApiError::too_many_requests(retry_after_secs));
        }
    }
    Ok(())
}

pub async fn submit(req: Request, lang: Language) -> ApiResult {
    let body = req.body();
    let content_type = req.header("content-type").and_then(|v| v.as_str()).unwrap_or("application/json");
    // JSON, or multipart with a `complaint` JSON part and up to three files.
    let (json, uploads) = if let Some(boundary) = upload::boundary(content_type) {
        if body.len() > upload::MAX_BODY_BYTES {
            return Err(ApiError::payload_too_large(upload::MAX_BODY_BYTES));
        }
        upload::submission_parts(body, &boundary).map_err(upload_error)?
    } else if content_type.to_ascii_lowercase().starts_with("application/json") {
        (body.to_vec(), vec![])
    } else {
        return Err(ApiError::new(
            415,
            "unsupported-media-type",
            Text::new(
                "Kirim pengaduan sebagai application/json atau multipart/form-data.",
                "Send the complaint as application/json or multipart/form-data.",
            ),
        ));
    };
    if json.len() > limits::JSON_BODY_MAX_BYTES {
        return Err(ApiError::payload_too_large(limits::JSON_BODY_MAX_BYTES));
    }
    let store = SpinStore::open_default()?;
    let submission = Submission::from_json(&json, &data::codes(&store)?).map_err(submission_error)?;
    let identity = SpinStore::open("identity")?;
    let now = SystemClock.now();
    within_limits(&store, &req, &submission, now)?;
    // `Idempotency-Key`: a retried POST gets the first answer (kept with the identity data,
    // since it holds the tracking secret), never a second complaint.
    let idempotency_key = match req.header("idempotency-key").and_then(|v| v.as_str()) {
        None => None,
        Some(k) if (1..=200).contains(&k.len()) => Some(ntbcare_domain::intake::tracking_secret_sha256(k)),
        Some(_) => {
            return Err(ApiError::new(
                400,
                "bad-idempotency-key",
                Text::new(
                    "`Idempotency-Key` harus 1–200 karakter.",
                    "`Idempotency-Key` must be 1–200 characters.",
                ),
            ))
        }
    };
    if let Some(key) = &idempotency_key {
        let scope = Scope { name: "idempotency/web", key };
        match idempotency::claim(&store, &scope, now)? {
            Claim::First => {}
            Claim::Done(_) => {
                if let Some(first) = identity.get(&format!("idempotency-answer/{key}"))? {
                    let mut resp = Response::new(201, first);
                    resp.set_header("content-type", "application/json; charset=utf-8");
                    resp.set_header("idempotent-replayed", "true");
                    return Ok(resp);
                }
            }
            Claim::InFlight => {
                return Err(ApiError::new(
                    409,
                    "in-flight",
                    Text::new(
                        "Permintaan yang sama sedang diproses; coba lagi sebentar.",
                        "The same request is being processed; retry shortly.",
                    ),
                ))
            }
        }
    }
    let accepted = pipeline::prepare(&store, &identity, submission, Channel::Web, now, None, uploads).await?;
    let complaint = &accepted.received.complaint;
    let ticket = &complaint.ticket;
    let answer = serde_json::json!({
            "ticket": ticket.to_string(),
            "tracking_url": accepted.tracking_url,
            // The code on its own (grouped for reading), apart from the ticket; the same
            // value under its older name for clients written before it.
            "tracking_code": accepted.tracking_secret,
            "tracking_secret": accepted.tracking_secret,
            "status": complaint.status.code(),
            "status_label": complaint.status.label().get(lang),
            "unit": complaint.unit.as_ref().map(|u| u.to_string()),
            "attachments": complaint.attachments.iter().enumerate().map(|(n, a)| serde_json::json!({
                "index": n + 1, "kind": a.kind, "mime_type": a.mime_type, "size": a.size, "name": a.caption,
            })).collect::<Vec<_>>(),
            "message": Text::new(
                format!("Pengaduan Anda diterima dengan nomor {ticket}. Simpan kode pelacakan Anda."),
                format!("Your complaint was received as {ticket}. Keep your tracking code."),
            ).get(lang),
    });
    // The answer and the ticket are saved before the commit: if the host dies between the
    // commit and `complete`, a retry finds this complaint and gets this answer, never a second.
    if let Some(key) = &idempotency_key {
        identity.set(&format!("idempotency-answer/{key}"), answer.to_string().as_bytes())?;
        idempotency::reserve(&store, &Scope { name: "idempotency/web", key }, ticket)?;
    }
    pipeline::commit(&store, &identity, &accepted)?;
    if let Some(key) = &idempotency_key {
        idempotency::complete(&store, &Scope { name: "idempotency/web", key }, ticket)?;
    }
    let mut resp = json_response(201, &answer);
    resp.set_header("location", format!("/api/v1/complaints/{ticket}"));
    Ok(resp)
}

fn parse_ticket(raw_ticket: &str) -> ApiResult<Ticket> {
    Ticket::parse(raw_ticket).map_err(|e| {
        ApiError::new(
            400,
            "malformed-ticket",
            Text::new(
                format!("`{raw_ticket}` bukan nomor tiket NTB Care (contoh NTB-26-7KQ4MX)."),
                format!("{e}."),
            ),
        )
        .with_field(Some("ticket".into()))
    })
}

fn not_found(ticket: &Ticket) -> ApiError {
    ApiError::not_found(Text::new(
        format!("Pengaduan {ticket} tidak ditemukan."),
        format!("Complaint {ticket} not found."),
    ))
}

fn wrong_secret() -> ApiError {
    ApiError::new(
        403,
        "wrong-secret",
        Text::new(
            "Kode pelacakan tidak cocok dengan pengaduan ini.",
            "The tracking code does not match this complaint.",
        ),
    )
}

/// The tracking secret, from the `X-Tracking-Secret` header or the `secret` query parameter
/// (the tracking link).
/// Whether the caller is a browser (it asks for HTML): a person who opened a link to the
/// API, such as one in a message sent before links went to the tracking page.
fn asks_for_a_page(req: &Request) -> bool {
    req.header("accept").and_then(|v| v.as_str()).is_some_and(|accept| accept.contains("text/html"))
}

/// A browser is sent (303) to the page made for people, in its reader's language, with the
/// code it presented as `?secret=` passed on as the page's `?kode=`.
fn to_tracking_page(req: &Request, ticket: &Ticket, lang: Language) -> ApiResult<Response> {
    let mut page =
        intake::tracking_url(&ntbcare_platform::variable("public_base_url")?, ticket.as_str(), lang);
    if let Some(code) = ntbcare_platform::http::query_param(req, "secret") {
        // Letters, digits and the dashes a code is grouped with: nothing else reaches the header.
        let code: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        page.push(if page.contains('?') { '&' } else { '?' });
        page.push_str(&format!("kode={code}"));
    }
    Ok(Response::builder()
        .status(303)
        .header("location", page)
        .header("cache-control", "no-store")
        .header("content-type", "text/plain; charset=utf-8")
        .body("")
        .build())
}

/// Whether the code presented opens `complaint`, within the attempt limits: a wrong code
/// counts against the ticket and the client's address (`tracking_code` has the arithmetic),
/// a typo the check character catches does not (it was never compared) and is told so.
fn open_with_code(store: &SpinStore, req: &Request, complaint: &Complaint, presented: &str) -> ApiResult<()> {
    let now = SystemClock.now();
    let key = pipeline::deployment_key()?;
    let mut limits = vec![(format!("code/ticket/{}", complaint.ticket), ratelimit::CODE_PER_TICKET)];
    if let Some(ip) = ntbcare_platform::http::client_ip(req).filter(|ip| ip != "0.0.0.0") {
        let ip = Pseudonym::of(Kind::ClientAddress, &ip, &key.pseudonyms());
        limits.push((format!("code/ip/{ip}"), ratelimit::CODE_PER_ADDRESS));
    }
    for (name, limit) in &limits {
        if let Verdict::Limited { retry_after_secs } = ratelimit::exceeded(store, name, *limit, now)? {
            return Err(ApiError::too_many_requests(retry_after_secs));
        }
    }
    match tracking_code::check(&key, &complaint.ticket, &complaint.tracking_secret_sha256, presented) {
        Checked::Opens => Ok(()),
        Checked::Unreadable(e @ CodeError::Check) => {
            Err(ApiError::new(400, e.code(), e.message()).with_field(Some("secret".into())))
        }
        Checked::Unreadable(e) => Err(ApiError::new(403, "wrong-secret", e.message())),
        Checked::Wrong => {
            for (name, limit) in &limits {
                ratelimit::check(store, name, *limit, now)?;
            }
            Err(wrong_secret())
        }
    }
}

fn presented_secret(req: &Request) -> Option<String> {
    req.header("x-tracking-secret")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .or_else(|| ntbcare_platform::http::query_param(req, "secret"))
}

fn load(store: &SpinStore, ticket: &Ticket) -> ApiResult<Complaint> {
    get_json(store, &keys::complaint(ticket))?.ok_or_else(|| not_found(ticket))
}

/// The public view for anyone with the ticket; the complainant's own view with the secret.
pub fn track(req: &Request, raw_ticket: &str, lang: Language) -> ApiResult {
    let ticket = parse_ticket(raw_ticket)?;
    let store = SpinStore::open_default()?;
    let complaint = load(&store, &ticket)?;
    if asks_for_a_page(req) {
        return to_tracking_page(req, &ticket, lang);
    }
    let directory = data::directory(&store)?;
    match presented_secret(req) {
        None => Ok(json_response(200, &complaint.public_view(&directory, lang))),
        Some(secret) => {
            open_with_code(&store, req, &complaint, &secret)?;
            Ok(json_response(200, &complaint.own_view(&directory, lang)))
        }
    }
}

fn case_error(e: CaseError) -> ApiError {
    ApiError::new(e.status(), e.code(), e.message()).with_field(e.field().map(str::to_string))
}

/// The complainant rates the answer: a low rating or "not resolved" reopens the case.
pub fn rate(req: &Request, raw_ticket: &str, lang: Language) -> ApiResult {
    let ticket = parse_ticket(raw_ticket)?;
    let secret = presented_secret(req).ok_or_else(wrong_secret)?;
    let rating = RatingRequest::from_json(req.body()).map_err(case_error)?;
    let store = SpinStore::open_default()?;
    open_with_code(&store, req, &load(&store, &ticket)?, &secret)?;
    match casework::service::rate_case(&store, &ticket, rating, SystemClock.now()) {
        Ok((case, _)) => Ok(json_response(200, &case.own_view(&data::directory(&store)?, lang))),
        Err(RateError::NotFound(t)) => Err(not_found(&t)),
        Err(RateError::Case(e)) => Err(case_error(e)),
        Err(RateError::Store(e)) => Err(e.into()),
    }
}

/// The complainant answers a request for information from the web.
pub fn provide_information(req: &Request, raw_ticket: &str, lang: Language) -> ApiResult {
    let ticket = parse_ticket(raw_ticket)?;
    let secret = presented_secret(req).ok_or_else(wrong_secret)?;
    let body: serde_json::Value = ntbcare_platform::http::json_body(req)?;
    let text = body["text"].as_str().map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::new(
            422,
            "missing-field",
            Text::new("Kolom `text` wajib diisi.", "Field `text` is required."),
        )
        .with_field(Some("text".into()))
    })?;
    if text.chars().count() > limits::DESCRIPTION_MAX_CHARS {
        return Err(ApiError::new(
            422,
            "too-long",
            Text::new("Kolom `text` terlalu panjang.", "Field `text` is too long."),
        )
        .with_field(Some("text".into())));
    }
    let store = SpinStore::open_default()?;
    let complaint = load(&store, &ticket)?;
    open_with_code(&store, req, &complaint, &secret)?;
    if !complaint.status.is_open() {
        return Err(ApiError::new(
            409,
            "case-finished",
            Text::new("Pengaduan ini sudah selesai.", "This complaint is finished."),
        ));
    }
    // A web reply has no provider id to recognise a resend by: its text stands in (only its
    // keyed pseudonym is kept), so a double tap is one follow-up and a new answer another.
    let message = InboundMessage {
        channel: Channel::Web,
        external_id: format!("web-reply:{text}"),
        sender: String::new(),
        sender_name: None,
        text: Some(text.to_string()),
        media: vec![],
        location: None,
        sent_at: None,
    };
    conversation::add_follow_up(&store, &ticket, &message, &pipeline::pseudonym_key()?, SystemClock.now())?;
    Ok(json_response(200, &load(&store, &ticket)?.own_view(&data::directory(&store)?, lang)))
}

/// A file sent with a complaint: to anyone for a public or anonymous complaint, only with
/// the tracking secret for a confidential one.
pub fn attachment(req: &Request, raw_ticket: &str, index: &str) -> ApiResult {
    let ticket = parse_ticket(raw_ticket)?;
    let store = SpinStore::open_default()?;
    let complaint = load(&store, &ticket)?;
    let allowed = complaint.privacy != ntbcare_domain::complaint::Privacy::Confidential
        || presented_secret(req).is_some_and(|s| open_with_code(&store, req, &complaint, &s).is_ok());
    let missing = || ApiError::not_found(Text::new("Lampiran tidak ditemukan.", "Attachment not found."));
    if !allowed {
        return Err(missing());
    }
    let n: usize = index.parse().map_err(|_| missing())?;
    let meta = complaint
        .attachments
        .get(n.wrapping_sub(1))
        .filter(|a| a.reference.starts_with("attachment/"))
        .ok_or_else(missing)?;
    let bytes = store.get(&meta.reference)?.ok_or_else(missing)?;
    let mut resp = Response::new(200, bytes);
    resp.set_header(
        "content-type",
        meta.mime_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
    );
    resp.set_header("x-content-type-options", "nosniff");
    resp.set_header("content-disposition", format!("inline; filename=\"lampiran-{n}\""));
    resp.set_header("cache-control", "private, max-age=3600");
    Ok(resp)
}
