//! intake: every channel into one complaint record.
//!
//! Glue only: read the request, let the domain parse and decide, ask routing through the
//! contract, save through the store port, encode the answer. The reporter's identity is
//! written to the `identity` store, which only intake and notification declare.

use ntbcare_contract as contract;
use ntbcare_domain::clock::Clock;
use ntbcare_domain::complaint::{limits, Channel, Complaint, Submission};
use ntbcare_domain::directory::Directory;
use ntbcare_domain::intake::{self, Arrival};
use ntbcare_domain::language::{Language, Text};
use ntbcare_domain::routing::Decision;
use ntbcare_domain::store::get_json;
use ntbcare_domain::{keys, ticket::Ticket};
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{variable, ApiError, ApiResult, SpinStore, SystemClock};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: Request) -> Response {
    let lang = web::language(&req);
    route(req, lang).await.unwrap_or_else(|e| e.into_response(lang))
}

async fn route(req: Request, lang: Language) -> ApiResult {
    let path = web::path(&req).trim_end_matches('/').to_string();
    match (req.method(), path.as_str()) {
        (Method::Get, "/api/v1/intake/health") => Ok(web::health("intake")),
        (Method::Post, "/api/v1/complaints") => submit(req, lang).await,
        (Method::Get, p) if p.starts_with("/api/v1/complaints/") => {
            track(&p["/api/v1/complaints/".len()..], lang)
        }
        (_, "/api/v1/complaints") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

fn submission_error(e: ntbcare_domain::complaint::SubmissionError) -> ApiError {
    use ntbcare_domain::complaint::SubmissionError as E;
    let status = match e {
        E::MalformedJson(_) | E::NotAnObject => 400,
        _ => 422,
    };
    ApiError::new(status, e.code(), e.message()).with_field(e.field())
}

async fn submit(req: Request, lang: Language) -> ApiResult {
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
    let directory = Directory::seed();
    let submission = Submission::from_json(body, &directory).map_err(submission_error)?;

    let store = SpinStore::open_default()?;
    let identity = SpinStore::open("identity")?;
    let now = SystemClock.now();
    let ticket = intake::allocate_ticket(&store, now).map_err(|e| ApiError::internal(e.to_string()))?;
    let decision = ask_routing(&ticket, &submission).await;

    let secret = ntbcare_platform::random_hex(16);
    let base = variable("public_base_url")?;
    let tracking_url = format!("{}/api/v1/complaints/{ticket}", base.trim_end_matches('/'));
    let received = intake::receive(Arrival {
        submission,
        channel: Channel::Web,
        ticket: ticket.clone(),
        decision,
        tracking_secret: &secret,
        tracking_url: &tracking_url,
        now,
    });
    intake::save(&store, &identity, &received, |ack| {
        serde_json::to_vec(&contract::OutboxMessage::from(ack)).expect("outbox message encodes")
    })?;

    let complaint = &received.complaint;
    let mut resp = json_response(
        201,
        &serde_json::json!({
            "ticket": ticket.to_string(),
            "tracking_url": tracking_url,
            "tracking_secret": secret,
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

/// Routing's decision, or the triage queue when routing cannot be reached: a complaint is
/// never refused because another function is down.
async fn ask_routing(ticket: &Ticket, submission: &Submission) -> Decision {
    let request = contract::RoutingRequest {
        ticket: ticket.to_string(),
        channel: Channel::Web.into(),
        category: submission.category.clone(),
        region_code: submission.location.region_code.to_string(),
        description: submission.description.clone(),
    };
    let answer: Result<contract::Assignment, String> = async {
        let base = variable("routing_url").map_err(|e| format!("{e:?}"))?;
        let token = variable("internal_token").map_err(|e| format!("{e:?}"))?;
        web::call_contract(
            &base,
            contract::ROUTING_ROUTE_PATH,
            contract::INTERNAL_TOKEN_HEADER,
            &token,
            &request,
        )
        .await
    }
    .await;
    match answer.map(Decision::try_from) {
        Ok(Ok(decision)) => decision,
        Ok(Err(bad)) => {
            eprintln!("routing gave an unusable assignment for {ticket}: {}", bad.0);
            Decision { unit: None, rule_id: "triage:bad-assignment".into(), suggested_category: None }
        }
        Err(e) => {
            eprintln!("routing unavailable for {ticket}, sent to triage: {e}");
            Decision { unit: None, rule_id: "triage:routing-unavailable".into(), suggested_category: None }
        }
    }
}

fn track(raw_ticket: &str, lang: Language) -> ApiResult {
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
