//! lapor-export: keeps NTB Care and the national SP4N-LAPOR! system in step.
//!
//! Glue only. The domain (`ntbcare_domain::lapor`) decides what to send, what to mirror and
//! when to look again; this component reads the Spin variables into its configuration, opens
//! the store, implements the domain's `Outside` port (LAPOR! over `wasi:http` with timeouts,
//! routing through the contract, a random tracking secret) and answers the routes:
//!
//! - `POST /api/v1/lapor/sync`: one bounded unit of work (internal token or admin; an admin
//!   may pass `as_of` to run the schedule as of another time). A scheduler calls it.
//! - `GET /api/v1/lapor/sync`: what the last sync did (admin).
//! - `GET /api/v1/lapor/pending`, `/ledger`, `/failures`, `/reconciliation` (admin).
//! - `POST /api/v1/lapor/failures/{ticket}/retry` (admin).
//!
//! It cannot open the identity store (not declared), so nothing it sends can carry a
//! reporter's contact; the export payload reads no name either.

mod cron;
mod outbound;

use ntbcare_contract as contract;
use ntbcare_domain::clock::{Clock, Timestamp};
use ntbcare_domain::complaint::{Channel, Complaint, Privacy, Submission};
use ntbcare_domain::keys;
use ntbcare_domain::language::Text;
use ntbcare_domain::lapor::config::LaporConfig;
use ntbcare_domain::lapor::ledger::{self, LedgerEntry};
use ntbcare_domain::lapor::sync::{self, Context, Limits, Outside, SyncReport};
use ntbcare_domain::lapor::wire::{LaporError, WireRequest, WireResponse};
use ntbcare_domain::lapor::{keys as lapor_keys, reconcile};
use ntbcare_domain::routing::Decision;
use ntbcare_domain::store::{get_json, KeyValue};
use ntbcare_domain::ticket::Ticket;
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{data, variable, ApiError, ApiResult, SpinStore, SystemClock};
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let lang = web::language(&req);
    route(req).unwrap_or_else(|e| e.into_response(lang))
}

fn route(req: Request) -> ApiResult {
    let path = web::path(&req).trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["api", "v1", "lapor", "health"]) => Ok(web::health("lapor-export")),
        (Method::Post, ["api", "v1", "lapor", "sync"]) => run_sync(&req),
        (Method::Get, ["api", "v1", "lapor", "sync"]) => admin(&req, last_sync),
        (Method::Get, ["api", "v1", "lapor", "pending"]) => admin(&req, pending),
        (Method::Get, ["api", "v1", "lapor", "ledger"]) => admin(&req, list_ledger),
        (Method::Get, ["api", "v1", "lapor", "failures"]) => admin(&req, failures),
        (Method::Get, ["api", "v1", "lapor", "reconciliation"]) => admin(&req, reconciliation),
        (Method::Post, ["api", "v1", "lapor", "failures", ticket, "retry"]) => {
            web::require_admin(&req)?;
            retry(ticket)
        }
        (_, ["api", "v1", "lapor", "sync" | "pending" | "ledger" | "failures" | "reconciliation", ..]) => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::no_route()),
    }
}

fn admin(req: &Request, f: impl FnOnce() -> ApiResult) -> ApiResult {
    web::require_admin(req)?;
    f()
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// The adapter's configuration from the Spin variables; 503 while it is off or wrong.
fn config() -> ApiResult<LaporConfig> {
    let off = |id: String, en: String| ApiError::new(503, "lapor-not-configured", Text::new(id, en));
    match LaporConfig::from_variables(|name| spin_sdk::variables::get(name).ok()) {
        Ok(Some(c)) => {
            // The origin Spin allows must be the base URL's, or every call is denied.
            let origin = spin_sdk::variables::get("lapor_outbound_host").unwrap_or_default();
            let origin = origin.trim().trim_end_matches('/');
            let same =
                c.base_url.strip_prefix(origin).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if same {
                Ok(c)
            } else {
                Err(off(
                    format!("lapor_base_url harus berada di lapor_outbound_host ({origin})."),
                    format!("lapor_base_url must be under lapor_outbound_host ({origin})."),
                ))
            }
        }
        Ok(None) => Err(off(
            "Integrasi SP4N-LAPOR! belum dikonfigurasi (lapor_base_url kosong).".into(),
            "The SP4N-LAPOR! integration is not configured (lapor_base_url is empty).".into(),
        )),
        Err(e) => Err(off(
            format!("Konfigurasi SP4N-LAPOR! salah: {e}."),
            format!("SP4N-LAPOR! configuration is wrong: {e}."),
        )),
    }
}

fn run_sync(req: &Request) -> ApiResult {
    let internal = web::require_secret(req, contract::INTERNAL_TOKEN_HEADER, "internal_token").is_ok();
    let admin = !internal && web::require_admin(req).is_ok();
    if !internal && !admin {
        return Err(ApiError::unauthorized());
    }
    let at = match web::query_param(req, "as_of") {
        Some(t) if admin => ntbcare_domain::channels::sms_gateway::parse_rfc3339(&t).ok_or_else(|| {
            ApiError::new(
                400,
                "bad-as-of",
                Text::new("`as_of` harus berupa waktu RFC 3339.", "`as_of` must be an RFC 3339 time."),
            )
        })?,
        _ => now(),
    };
    let report = sync_with(config()?, at)?;
    Ok(json_response(200, &report))
}

/// One unit of work as of `at`, or nothing while the integration is off (the scheduled run).
fn sync_at(at: Timestamp) -> ApiResult<Option<SyncReport>> {
    match config() {
        Ok(config) => sync_with(config, at).map(Some),
        Err(e) if e.code == "lapor-not-configured" && variable("lapor_base_url")?.trim().is_empty() => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn sync_with(config: LaporConfig, at: Timestamp) -> ApiResult<SyncReport> {
    let store = SpinStore::open_default()?;
    let directory = data::directory(&store)?;
    let public_base_url = variable("public_base_url")?;
    // Imported complaints are numbered as intake numbers its own.
    let tickets = ntbcare_domain::ticket::TicketKey::new(
        &ntbcare_domain::pseudonym::DeploymentKey::new(&variable("deployment_key")?)
            .map_err(|e| ApiError::internal(e.to_string()))?,
    );
    let ctx = Context {
        store: &store,
        directory: &directory,
        config: &config,
        public_base_url: &public_base_url,
        now: at,
        limits: Limits::default(),
        tickets: &tickets,
    };
    let report = sync::run(&ctx, &SpinOutside { timeout_ms: config.timeout_ms })?;
    for e in &report.errors {
        eprintln!("lapor sync: {e}");
    }
    Ok(report)
}

/// The world outside the store, for the domain's sync.
struct SpinOutside {
    timeout_ms: u64,
}

impl Outside for SpinOutside {
    fn send(&self, request: &WireRequest) -> Result<WireResponse, LaporError> {
        outbound::send(request, self.timeout_ms)
    }

    /// Routing's decision through the contract, as intake asks it; the triage queue when
    /// routing cannot be reached, so an import is never refused because routing is down.
    fn route(&self, ticket: &Ticket, submission: &Submission) -> Decision {
        let request = contract::routing_request(ticket, Channel::Lapor, submission);
        let answer = (|| -> Result<contract::Assignment, String> {
            let base = variable("routing_url").map_err(|e| format!("{e:?}"))?;
            let token = variable("internal_token").map_err(|e| format!("{e:?}"))?;
            let call = WireRequest {
                method: ntbcare_domain::lapor::wire::Method::Post,
                url: format!("{}{}", base.trim_end_matches('/'), contract::ROUTING_ROUTE_PATH),
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    (contract::INTERNAL_TOKEN_HEADER.into(), token),
                ],
                body: serde_json::to_vec(&request).map_err(|e| e.to_string())?,
            };
            let resp = outbound::send(&call, 10_000).map_err(|e| e.to_string())?;
            if resp.status != 200 {
                return Err(format!("routing answered {}", resp.status));
            }
            serde_json::from_slice(&resp.body).map_err(|e| format!("routing: bad answer: {e}"))
        })();
        contract::decision_or_triage(ticket, answer)
    }

    fn secret(&self) -> String {
        ntbcare_platform::random_hex(16)
    }
}

fn last_sync() -> ApiResult {
    let store = SpinStore::open_default()?;
    let report: Option<SyncReport> = get_json(&store, lapor_keys::LAST_SYNC)?;
    Ok(json_response(200, &json!({ "last_sync": report })))
}

fn entry_json(e: &LedgerEntry) -> serde_json::Value {
    let mut v = serde_json::to_value(e).expect("ledger encodes");
    v["failing"] = json!(e.is_failing());
    v
}

fn list_ledger() -> ApiResult {
    let store = SpinStore::open_default()?;
    let entries: Vec<_> = ledger::all(&store)?.iter().map(entry_json).collect();
    Ok(json_response(200, &json!({ "count": entries.len(), "entries": entries })))
}

fn failures() -> ApiResult {
    let store = SpinStore::open_default()?;
    let failing: Vec<_> = ledger::all(&store)?.iter().filter(|e| e.is_failing()).map(entry_json).collect();
    Ok(json_response(200, &json!({ "count": failing.len(), "failures": failing })))
}

fn reconciliation() -> ApiResult {
    let store = SpinStore::open_default()?;
    let entries = ledger::all(&store)?;
    let queued = sync::queued_tickets(&store)?;
    let without_record = queued.iter().filter(|t| !entries.iter().any(|e| &e.ticket == *t)).count();
    let keys: Vec<String> = entries.iter().map(|e| keys::complaint(&e.ticket)).collect();
    let mut complaints = std::collections::HashMap::new();
    for value in store.get_many(&keys)?.into_iter().flatten() {
        let c: Complaint =
            serde_json::from_slice(&value).map_err(|e| ApiError::internal(format!("complaint: {e}")))?;
        complaints.insert(c.ticket.clone(), c);
    }
    let report = reconcile::report(&entries, |t| complaints.get(t).cloned(), without_record);
    Ok(json_response(200, &report))
}

fn retry(ticket: &str) -> ApiResult {
    let not_found = || {
        ApiError::not_found(Text::new(
            "Tiket ini tidak ada dalam buku sinkronisasi LAPOR!.",
            "This ticket is not in the LAPOR! ledger.",
        ))
    };
    let ticket = Ticket::parse(ticket).map_err(|_| not_found())?;
    let store = SpinStore::open_default()?;
    let (entry, ()) = ledger::update(&store, &ticket, |e| ledger::retry(e, now()))?.ok_or_else(not_found)?;
    Ok(json_response(200, &entry_json(&entry)))
}

fn pending() -> ApiResult {
    let store = SpinStore::open_default()?;
    let complaint_keys: Vec<String> = sync::queued_tickets(&store)?.iter().map(keys::complaint).collect();
    let mut items = Vec::with_capacity(complaint_keys.len());
    for value in store.get_many(&complaint_keys)?.into_iter().flatten() {
        let c: Complaint =
            serde_json::from_slice(&value).map_err(|e| ApiError::internal(format!("complaint: {e}")))?;
        items.push(json!({
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
    Ok(json_response(200, &json!({ "pending": items.len(), "complaints": items })))
}
