//! lapor-export: keeps NTB Care and the national SP4N-LAPOR! system in step.
//!
//! Intake queues every complaint for export with a marker key; this function lists what
//! awaits export, as LAPOR! would receive it: privacy flags set, and never anything that
//! identifies an anonymous or confidential reporter (the shared record has none).

use ntbcare_domain::complaint::{Complaint, Privacy};
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
        (Method::Get, "/api/v1/lapor/health") => Ok(web::health("lapor-export")),
        (Method::Get, "/api/v1/lapor/pending") => {
            web::require_admin(&req)?;
            pending()
        }
        (_, "/api/v1/lapor/pending") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

fn pending() -> ApiResult {
    let store = SpinStore::open_default()?;
    let complaint_keys: Vec<String> = store
        .keys()?
        .into_iter()
        .filter_map(|k| {
            k.strip_prefix(keys::LAPOR_PENDING_PREFIX).map(|t| format!("{}{t}", keys::COMPLAINT_PREFIX))
        })
        .collect();
    let mut items = Vec::with_capacity(complaint_keys.len());
    for value in store.get_many(&complaint_keys)?.into_iter().flatten() {
        let c: Complaint =
            serde_json::from_slice(&value).map_err(|e| ApiError::internal(format!("complaint: {e}")))?;
        items.push(serde_json::json!({
            "ticket": c.ticket.to_string(),
            "title": c.title.clone().unwrap_or_else(|| c.description.chars().take(80).collect()),
            "category": c.category,
            "region_code": c.location.region_code.to_string(),
            "unit": c.unit.as_ref().map(|u| u.to_string()),
            "is_anonymous": c.privacy != Privacy::Public,
            "is_secret": c.privacy == Privacy::Confidential,
            "queued_at": c.received_at,
        }));
    }
    items.sort_by(|a, b| a["queued_at"].as_i64().cmp(&b["queued_at"].as_i64()));
    Ok(json_response(200, &serde_json::json!({ "pending": items.len(), "complaints": items })))
}
