//! Partner systems (a regency's own complaint app, such as Lombok Timur's Sipepadu): each
//! posts with its own key, its complaints carry its identity and its own reference, a
//! repeated reference never makes a second complaint, and it can look them up by reference.

use ntbcare_domain::clock::Clock;
use ntbcare_domain::complaint::{Channel, Complaint, ExternalReference, Submission};
use ntbcare_domain::idempotency::{self, Claim, Scope};
use ntbcare_domain::keys;
use ntbcare_domain::language::{Language, Text};
use ntbcare_domain::store::get_json;
use ntbcare_platform::http::{constant_time_eq, json_response};
use ntbcare_platform::{data, variable, ApiError, ApiResult, SpinStore, SystemClock};
use serde_json::{json, Value};
use spin_sdk::http::Request;

use crate::pipeline;
use crate::web_api::submission_error;

/// The partner a bearer key belongs to, from `partner_api_keys` (`name:key`, comma-separated).
fn partner(req: &Request) -> ApiResult<String> {
    let presented = req
        .header("authorization")
        .and_then(|v| v.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?;
    let configured = variable("partner_api_keys")?;
    configured
        .split(',')
        .filter_map(|entry| entry.trim().split_once(':'))
        .find(|(_, key)| !key.is_empty() && constant_time_eq(key.as_bytes(), presented.as_bytes()))
        .map(|(name, _)| name.trim().to_string())
        .ok_or_else(ApiError::unauthorized)
}

fn bad_reference() -> ApiError {
    ApiError::new(
        422,
        "invalid-reference",
        Text::new(
            "Kolom `reference` wajib diisi: 1–100 huruf, angka, titik, strip, garis miring atau garis bawah.",
            "Field `reference` is required: 1–100 letters, digits, dots, dashes, slashes or underscores.",
        ),
    )
    .with_field(Some("reference".into()))
}

fn valid_reference(r: &str) -> bool {
    (1..=100).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

fn scope_name(partner: &str) -> String {
    format!("partner/{partner}")
}

pub async fn submit(req: Request, lang: Language) -> ApiResult {
    let partner = partner(&req)?;
    let mut body: Value = ntbcare_platform::http::json_body(&req)?;
    let reference = body
        .as_object_mut()
        .and_then(|o| o.remove("reference"))
        .and_then(|r| r.as_str().map(str::to_string))
        .filter(|r| valid_reference(r))
        .ok_or_else(bad_reference)?;
    let store = SpinStore::open_default()?;
    let submission = Submission::from_json(body.to_string().as_bytes(), &data::codes(&store)?)
        .map_err(submission_error)?;
    let name = scope_name(&partner);
    let scope = Scope { name: &name, key: &reference };
    let now = SystemClock.now();
    let ticket = match idempotency::claim(&store, &scope, now)? {
        Claim::Done(ticket) => {
            return Ok(json_response(
                200,
                &json!({ "ticket": ticket, "reference": reference, "duplicate": true }),
            ));
        }
        Claim::InFlight => {
            return Err(ApiError::new(
                409,
                "in-flight",
                Text::new(
                    "Rujukan ini sedang diproses; coba lagi.",
                    "This reference is being processed; retry.",
                ),
            ))
        }
        Claim::First => {
            let identity = SpinStore::open("identity")?;
            let external = ExternalReference { system: partner.clone(), reference: reference.clone() };
            let accepted = pipeline::prepare(
                &store,
                &identity,
                submission,
                Channel::Partner,
                now,
                Some(external),
                vec![],
            )
            .await?;
            let ticket = accepted.received.complaint.ticket.clone();
            // Reserved before the commit: a retry after a crash before `complete` finds it.
            idempotency::reserve(&store, &scope, &ticket)?;
            pipeline::commit(&store, &identity, &accepted)?;
            idempotency::complete(&store, &scope, &ticket)?;
            ticket
        }
    };
    let _ = lang;
    Ok(json_response(201, &json!({ "ticket": ticket, "reference": reference, "duplicate": false })))
}

pub fn lookup(req: &Request, reference: &str, lang: Language) -> ApiResult {
    let partner = partner(req)?;
    let store = SpinStore::open_default()?;
    let name = scope_name(&partner);
    let not_found = || {
        ApiError::not_found(Text::new(
            format!("Rujukan `{reference}` tidak ditemukan."),
            format!("Reference `{reference}` not found."),
        ))
    };
    let ticket = idempotency::done(&store, &Scope { name: &name, key: reference })?.ok_or_else(not_found)?;
    let complaint: Complaint = get_json(&store, &keys::complaint(&ticket))?.ok_or_else(not_found)?;
    let mut view =
        serde_json::to_value(complaint.public_view(&data::directory(&store)?, lang)).expect("view encodes");
    view["reference"] = json!(reference);
    Ok(json_response(200, &view))
}
