//! intake: every channel into one complaint record.
//!
//! Glue only: read the request, let the domain parse, verify and decide, ask routing
//! through the contract, save through the store port, encode the answer. The reporter's
//! identity is written to the `identity` store, which only intake and notification declare.

mod open311;
mod partners;
mod pipeline;
mod web_api;
mod webhooks;

use ntbcare_domain::language::Language;
use ntbcare_platform::http as web;
use ntbcare_platform::{ApiError, ApiResult};
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
        (Method::Post | Method::Delete, "/api/v1/intake/open311-keys") => open311::manage_keys(&req),
        (Method::Post, "/api/v1/complaints") => web_api::submit(req, lang).await,
        (Method::Post, p) if p.starts_with("/api/v1/complaints/") && p.ends_with("/rating") => {
            web_api::rate(&req, &p["/api/v1/complaints/".len()..p.len() - "/rating".len()], lang)
        }
        (Method::Post, p) if p.starts_with("/api/v1/complaints/") && p.ends_with("/information") => {
            web_api::provide_information(
                &req,
                &p["/api/v1/complaints/".len()..p.len() - "/information".len()],
                lang,
            )
        }
        (Method::Get, p) if p.starts_with("/api/v1/complaints/") && p.contains("/attachments/") => {
            let rest = &p["/api/v1/complaints/".len()..];
            let (ticket, index) = rest.split_once("/attachments/").unwrap_or((rest, ""));
            web_api::attachment(&req, ticket, index)
        }
        (Method::Get, p) if p.starts_with("/api/v1/complaints/") => {
            web_api::track(&req, &p["/api/v1/complaints/".len()..], lang)
        }
        (_, "/api/v1/complaints") => Err(ApiError::method_not_allowed()),
        (Method::Post, "/api/v1/partners/complaints") => partners::submit(req, lang).await,
        (Method::Get, p) if p.starts_with("/api/v1/partners/complaints/") => {
            partners::lookup(&req, &p["/api/v1/partners/complaints/".len()..], lang)
        }
        (_, p) if p.starts_with(open311::BASE) => {
            let rest = p[open311::BASE.len()..].to_string();
            Ok(open311::handle(req, &rest, lang).await)
        }
        (Method::Get, "/webhooks/meta") => webhooks::meta_handshake(&req),
        (Method::Post, "/webhooks/meta") => webhooks::meta(req).await,
        (Method::Post, "/webhooks/sms/twilio") => webhooks::twilio(req).await,
        (Method::Post, "/webhooks/sms/gateway") => webhooks::sms_gateway(req).await,
        (_, "/webhooks/meta" | "/webhooks/sms/twilio" | "/webhooks/sms/gateway") => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::no_route()),
    }
}
