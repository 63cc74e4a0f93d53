//! routing: decides which unit is responsible for a complaint.
//!
//! Serves `ntbcare:platform/routing.route` at `POST /api/v1/routing/route` for the other
//! functions (internal token required) and the rules for administrators. Glue only: the
//! rules and their evaluation are the domain's.

use ntbcare_contract as contract;
use ntbcare_domain::language::Text;
use ntbcare_domain::region::RegionCode;
use ntbcare_domain::routing::RoutingInput;
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{data, ApiError, ApiResult, SpinStore};
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
        (Method::Get, "/api/v1/routing/health") => Ok(web::health("routing")),
        (Method::Post, contract::ROUTING_ROUTE_PATH) => {
            web::require_secret(&req, contract::INTERNAL_TOKEN_HEADER, "internal_token")?;
            decide(req.body())
        }
        (Method::Get, "/api/v1/routing/rules") => {
            web::require_admin(&req)?;
            let store = SpinStore::open_default()?;
            let directory = data::directory(&store)?;
            Ok(json_response(200, &data::routing_rules(&store, &directory)?))
        }
        (_, contract::ROUTING_ROUTE_PATH | "/api/v1/routing/rules") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

fn invalid(reason: String) -> ApiError {
    ApiError::new(400, "invalid-routing-request", Text::new(reason.clone(), reason))
}

fn decide(body: &[u8]) -> ApiResult {
    let request: contract::RoutingRequest =
        serde_json::from_slice(body).map_err(|e| invalid(format!("routing-request: {e}")))?;
    let region = RegionCode::parse(&request.region_code).map_err(|e| invalid(e.to_string()))?;
    let store = SpinStore::open_default()?;
    let rules = data::routing_rules_in_force(&store, request.category.is_some())?;
    let decision = rules.decide(&RoutingInput {
        category: request.category.as_deref(),
        region: &region,
        description: &request.description,
    });
    Ok(json_response(200, &contract::Assignment::from(&decision)))
}
