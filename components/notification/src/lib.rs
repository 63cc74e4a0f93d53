//! notification: delivers messages to citizens and officers from the outbox.
//!
//! Producers write each message to the outbox (in the `identity` store, because messages
//! carry addresses) before anything is sent; this function is the only other reader of that
//! store. Administrators see the outbox with addresses masked.

use ntbcare_contract as contract;
use ntbcare_domain::keys;
use ntbcare_domain::store::KeyValue;
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{ApiError, ApiResult, SpinStore};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let lang = web::language(&req);
    route(req).unwrap_or_else(|e| e.into_response(lang))
}

fn route(req: Request) -> ApiResult {
    let path = web::path(&req).trim_end_matches('/').to_string();
    match (req.method(), path.as_str()) {
        (Method::Get, "/api/v1/notifications/health") => Ok(web::health("notification")),
        (Method::Get, "/api/v1/notifications/outbox") => {
            web::require_admin(&req)?;
            outbox()
        }
        (_, "/api/v1/notifications/outbox") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

/// Keep the first and last few characters of an address, so an administrator can tell
/// messages apart without reading anyone's number.
fn mask(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let keep = 3;
    chars[..keep]
        .iter()
        .chain(std::iter::repeat_n(&'*', chars.len() - 2 * keep))
        .chain(&chars[chars.len() - keep..])
        .collect()
}

fn outbox() -> ApiResult {
    let identity = SpinStore::open("identity")?;
    let ids: Vec<String> =
        identity.keys()?.into_iter().filter(|k| k.starts_with(keys::OUTBOX_PREFIX)).collect();
    let mut messages = Vec::with_capacity(ids.len());
    for value in identity.get_many(&ids)?.into_iter().flatten() {
        let mut message: contract::OutboxMessage =
            serde_json::from_slice(&value).map_err(|e| ApiError::internal(format!("outbox entry: {e}")))?;
        message.recipient = mask(&message.recipient);
        messages.push(message);
    }
    messages.sort_by(|a, b| a.queued_at.cmp(&b.queued_at).then_with(|| a.id.cmp(&b.id)));
    Ok(json_response(200, &serde_json::json!({ "pending": messages.len(), "messages": messages })))
}
