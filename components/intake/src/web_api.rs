//! The web and mobile JSON API: submit a complaint, track it.

use ntbcare_domain::clock::Clock;
use ntbcare_domain::complaint::{limits, Channel, Complaint, Submission, SubmissionError};
use ntbcare_domain::directory::Directory;
use ntbcare_domain::keys;
use ntbcare_domain::language::{Language, Text};
use ntbcare_domain::store::get_json;
use ntbcare_domain::ticket::Ticket;
use ntbcare_platform::http::json_response;
use ntbcare_platform::{ApiError, ApiResult, SpinStore, SystemClock};
use spin_sdk::http::Request;

use crate::pipeline;

fn submission_error(e: SubmissionError) -> ApiError {
    let status = match e {
        SubmissionError::MalformedJson(_) | SubmissionError::NotAnObject => 400,
        _ => 422,
    };
    ApiError::new(status, e.code(), e.message()).with_field(e.field())
}

pub async fn submit(req: Request, lang: Language) -> ApiResult {
    let body = req.body();
    if body.len() > limits::JSON_BODY_MAX_BYTES {
        return Err(ApiError::payload_too_large(limits::JSON_BODY_MAX_BYTES));
    }
    let content_type = req.header("content-type").and_then(|v| v.as_str()).unwrap_or("application/json");
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return Err(ApiError::new(
            415,
            "unsupported-media-type",
            Text::new("Kirim pengaduan sebagai application/json.", "Send the complaint as application/json."),
        ));
    }
    let submission = Submission::from_json(body, &Directory::seed()).map_err(submission_error)?;
    let store = SpinStore::open_default()?;
    let identity = SpinStore::open("identity")?;
    let accepted = pipeline::accept(&store, &identity, submission, Channel::Web, SystemClock.now()).await?;
    let complaint = &accepted.received.complaint;
    let ticket = &complaint.ticket;
    let mut resp = json_response(
        201,
        &serde_json::json!({
            "ticket": ticket.to_string(),
            "tracking_url": accepted.tracking_url,
            "tracking_secret": accepted.tracking_secret,
            "status": complaint.status.code(),
            "status_label": complaint.status.label().get(lang),
            "unit": complaint.unit.as_ref().map(|u| u.to_string()),
            "message": Text::new(
                format!("Pengaduan Anda diterima dengan nomor {ticket}. Simpan kode pelacakan Anda."),
                format!("Your complaint was received as {ticket}. Keep your tracking code."),
            ).get(lang),
        }),
    );
    resp.set_header("location", format!("/api/v1/complaints/{ticket}"));
    Ok(resp)
}

pub fn track(raw_ticket: &str, lang: Language) -> ApiResult {
    let ticket = Ticket::parse(raw_ticket).map_err(|e| {
        ApiError::new(
            400,
            "malformed-ticket",
            Text::new(
                format!("`{raw_ticket}` bukan nomor tiket NTB Care (contoh NTB-26-7KQ4MX)."),
                format!("{e}."),
            ),
        )
        .with_field(Some("ticket".into()))
    })?;
    let store = SpinStore::open_default()?;
    let complaint: Complaint = get_json(&store, &keys::complaint(&ticket))?.ok_or_else(|| {
        ApiError::not_found(Text::new(
            format!("Pengaduan {ticket} tidak ditemukan."),
            format!("Complaint {ticket} not found."),
        ))
    })?;
    Ok(json_response(200, &complaint.public_view(&Directory::seed(), lang)))
}
