//! notification: delivers messages to citizens and officers from the outbox.
//!
//! Producers write each message to the outbox (in the `identity` store, because messages
//! carry addresses) or a notice naming an audience (casework, in the shared store) before
//! anything is sent. A sweep (`POST /api/v1/notifications/sweep`, run by a scheduler, and
//! `/wake`, chained to by a producer that wants its message out now) turns notices into
//! outbox entries and delivers what is due; every decision is `delivery::sweep`'s, this
//! component only performs the HTTP call (with timeouts) and reads its settings.
//!
//! Administrators see the outbox with addresses masked, the dead letters (and requeue
//! them), which providers are on (`GET /providers`: a provider is on only when every setting
//! it needs is given; a partly configured one is named with its missing settings, logged
//! once, and never called), and edit the templates, which are data: an override in the shared store, checked
//! by the same loader as the shipped seed.
//!
//! Finding due entries lists the identity store's keys: fine for NTB Care's volumes, and the
//! first thing to replace with a due-index if the outbox grows to many thousands of entries.
//! The administrators' listing lists them too but reads entries one at a time and answers a
//! page (`limit`, at most 1000, and `offset`), so its memory stays bounded at any size.

mod cron;
mod settings;
mod transport;

use ntbcare_contract as contract;
use ntbcare_domain::casework::service::open_cases;
use ntbcare_domain::clock::{Clock, Timestamp};
use ntbcare_domain::delivery::listing;
use ntbcare_domain::delivery::outbox::{OutboxEntry, Refusal, State};
use ntbcare_domain::delivery::providers::Configured;
use ntbcare_domain::delivery::sweep::{self, Counts, Env, Settings};
use ntbcare_domain::delivery::{audience, keys as delivery_keys, Templates};
use ntbcare_domain::keys;
use ntbcare_domain::language::Text;
use ntbcare_domain::org::accounts;
use ntbcare_domain::store::{update_json, KeyValue};
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{
    data, random_bytes, random_hex, variable, ApiError, ApiResult, SpinStore, SystemClock,
};
use serde_json::{json, Value};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

use transport::WasiTransport;

#[http_component]
fn handle(req: Request) -> Response {
    let lang = web::language(&req);
    route(req).unwrap_or_else(|e| e.into_response(lang))
}

fn route(req: Request) -> ApiResult {
    let path = web::path(&req).trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let Some(rest) = segments.strip_prefix(&["api", "v1", "notifications"]) else {
        return Err(ApiError::no_route());
    };
    match (req.method(), rest) {
        (Method::Get, ["health"]) => Ok(web::health("notification")),
        (Method::Post, ["sweep"]) => {
            require_internal_or_admin(&req)?;
            Ok(json_response(200, &run_sweep()?))
        }
        (Method::Post, ["wake"]) => {
            web::require_secret(&req, contract::INTERNAL_TOKEN_HEADER, "internal_token")?;
            Ok(json_response(200, &run_sweep()?))
        }
        (Method::Post, ["digest"]) => {
            require_internal_or_admin(&req)?;
            digest()
        }
        (Method::Get, ["outbox"]) => {
            web::require_admin(&req)?;
            outbox(&req, web::query_param(&req, "state").as_deref())
        }
        (Method::Get, ["dead-letters"]) => {
            web::require_admin(&req)?;
            outbox(&req, Some("dead-letter"))
        }
        (Method::Post, ["dead-letters", id, "requeue"]) => {
            web::require_admin(&req)?;
            requeue(id)
        }
        (Method::Get, ["providers"]) => {
            web::require_admin(&req)?;
            providers_view()
        }
        (Method::Get, ["templates"]) => {
            web::require_admin(&req)?;
            templates_view()
        }
        (Method::Put, ["templates"]) => {
            web::require_admin(&req)?;
            put_templates(&req)
        }
        (
            _,
            ["health" | "sweep" | "wake" | "digest" | "outbox" | "dead-letters" | "providers" | "templates", ..],
        ) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

/// Another function (internal token) or an administrator.
fn require_internal_or_admin(req: &Request) -> ApiResult<()> {
    web::require_secret(req, contract::INTERNAL_TOKEN_HEADER, "internal_token")
        .or_else(|_| web::require_admin(req))
}

fn now() -> Timestamp {
    SystemClock.now()
}

fn random_u64() -> u64 {
    let bytes = random_bytes(8);
    u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))
}

/// The administrator's templates if any, else the shipped seed.
fn templates(shared: &SpinStore) -> ApiResult<(Templates, Option<String>)> {
    if let Some(bytes) = shared.get(delivery_keys::TEMPLATES_OVERRIDE)? {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match Templates::from_toml(&text) {
            Ok(t) => return Ok((t, Some(text))),
            // Checked when saved; a bad override never stops delivery.
            Err(e) => eprintln!("notification: stored templates refused, using the seed: {e}"),
        }
    }
    Ok((Templates::seed(), None))
}

fn run_sweep() -> ApiResult<Counts> {
    let shared = SpinStore::open_default()?;
    let identity = SpinStore::open("identity")?;
    let (templates, _) = templates(&shared)?;
    let providers = providers(&shared)?.config;
    let tuning = settings::tuning();
    let (directory, rules, calendar) =
        (data::directory(&shared)?, data::sla_rules(&shared)?, data::calendar(&shared)?);
    let public_base_url = variable("public_base_url")?;
    let settings = Settings {
        templates: &templates,
        providers: &providers,
        policy: tuning.policy,
        lease_ms: tuning.lease_ms,
        batch: tuning.batch,
        directory: &directory,
        rules: &rules,
        calendar: &calendar,
        public_base_url: &public_base_url,
    };
    let claim = format!("sweep-{}", random_hex(8));
    let env = Env { now: &now, random: &random_u64, claim: &claim };
    let transport = WasiTransport { timeout_ms: tuning.timeout_ms };
    Ok(sweep::sweep(&shared, &identity, &transport, &settings, &env)?)
}

/// Queue today's digest for every unit with open cases, then sweep.
fn digest() -> ApiResult {
    Ok(json_response(200, &run_digest()?))
}

fn run_digest() -> ApiResult<Value> {
    let shared = SpinStore::open_default()?;
    let identity = SpinStore::open("identity")?;
    let (directory, rules, calendar) =
        (data::directory(&shared)?, data::sla_rules(&shared)?, data::calendar(&shared)?);
    let at = now();
    let lines = audience::digest(&open_cases(&shared, &directory, at)?, &rules, &calendar, at);
    let officers = accounts::list(&shared)?;
    let enabled = providers(&shared)?.config.enabled_channels();
    let mut queued = 0;
    for line in &lines {
        for message in audience::digest_messages(line, &officers, &directory, &enabled, at) {
            if sweep::enqueue(&identity, &OutboxEntry::new(message))? {
                queued += 1;
            }
        }
    }
    let counts = run_sweep()?;
    Ok(json!({ "units": lines, "queued": queued, "sweep": counts }))
}

/// The providers as configured. A provider given some settings but not all is never called,
/// and is logged (names of the missing settings, never values) the first time this
/// configuration is seen: once at start, and again only when the configuration changes.
fn providers(shared: &SpinStore) -> ApiResult<Configured> {
    let configured = settings::providers();
    let seen = serde_json::to_vec(&configured.status).unwrap_or_default();
    if shared.get(delivery_keys::PROVIDERS_REPORTED)?.as_deref() != Some(seen.as_slice()) {
        for (provider, missing) in configured.incomplete() {
            eprintln!(
                "notification: provider {} is incomplete and will not be called; missing: {}",
                provider.code(),
                missing.join(", ")
            );
        }
        shared.set(delivery_keys::PROVIDERS_REPORTED, &seen)?;
    }
    Ok(configured)
}

/// `GET /providers`: each provider on, on standby, incomplete (with the missing settings'
/// names) or off.
fn providers_view() -> ApiResult {
    let shared = SpinStore::open_default()?;
    let configured = providers(&shared)?;
    Ok(json_response(200, &json!({ "providers": configured.status })))
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

/// A private tracking link (`…/lacak/<ticket>?kode=<code>`) with its code hidden: the code
/// opens the complainant's own view, which is for the complainant alone.
fn without_private_code(value: &str) -> String {
    match value.find("kode=") {
        Some(at) => {
            let start = at + "kode=".len();
            let end = value[start..]
                .find(|c: char| c == '&' || c.is_whitespace())
                .map_or(value.len(), |n| start + n);
            format!("{}***{}", &value[..start], &value[end..])
        }
        None => value.to_string(),
    }
}

/// An entry as administrators see it: addresses masked, private codes hidden.
fn view(e: &OutboxEntry) -> Value {
    let m = &e.message;
    let d = &e.delivery;
    let mut v = json!({
        "id": m.id,
        "ticket": m.ticket,
        "template": m.template,
        "language": m.language,
        "channel": contract::Channel::from(m.channel),
        "recipient": mask(&m.recipient),
        "fields": m.fields.iter().map(|(k, v)| (k.as_str(), without_private_code(v))).collect::<Vec<_>>(),
        "queued_at": m.queued_at,
        "state": d.state.code(),
        "attempts": d.attempts,
    });
    let extra = [
        ("last_error", d.last_error.as_ref().map(|s| json!(s))),
        ("provider_message_id", d.provider_message_id.as_ref().map(|s| json!(s))),
        ("updated_at", d.updated_at.map(|t| json!(t))),
        (
            "via",
            d.via.as_ref().map(|via| {
                json!({ "channel": via.channel, "provider": via.provider, "address": mask(&via.address) })
            }),
        ),
        (
            "next_attempt_at",
            match &d.state {
                State::Failed { next_attempt_at } => Some(json!(next_attempt_at)),
                _ => None,
            },
        ),
    ];
    for (name, value) in extra {
        if let Some(value) = value {
            v[name] = value;
        }
    }
    v
}

/// One page of the outbox (`?state=&limit=&offset=`), counted entry by entry
/// (`delivery::listing`): bounded in memory however many entries there are.
fn outbox(req: &Request, state: Option<&str>) -> ApiResult {
    let query = listing::Query::parse(
        state,
        web::query_param(req, "limit").as_deref(),
        web::query_param(req, "offset").as_deref(),
    )
    .map_err(|e| ApiError::new(400, "bad-query", e.text()).with_field(Some(e.parameter().to_string())))?;
    let identity = SpinStore::open("identity")?;
    let page = listing::list(&identity, &query)?;
    let messages: Vec<Value> = page.entries.iter().map(view).collect();
    Ok(json_response(
        200,
        &json!({
            "pending": page.pending,
            "count": page.count,
            "offset": page.offset,
            "limit": page.limit,
            "next_offset": page.next_offset,
            "messages": messages,
        }),
    ))
}

fn requeue(id: &str) -> ApiResult {
    let identity = SpinStore::open("identity")?;
    let at = now();
    let not_found =
        || ApiError::not_found(Text::new(format!("Pesan `{id}` tidak ada."), format!("No message `{id}`.")));
    if id.is_empty() || id.contains('/') {
        return Err(not_found());
    }
    // The done mark goes before and after: a sweep's mark from a stale read cannot stay.
    sweep::unmark_done(&identity, id)?;
    let requeued = update_json(&identity, &keys::outbox(id), |e: &mut OutboxEntry| e.requeue(at))?;
    sweep::unmark_done(&identity, id)?;
    match requeued {
        None => Err(not_found()),
        Some(Err(Refusal::NotDeadLettered)) | Some(Err(_)) => Err(ApiError::new(
            409,
            "not-dead-lettered",
            Text::new(
                "Hanya pesan di daftar gagal kirim yang dapat dikirim ulang.",
                "Only a dead-lettered message can be requeued.",
            ),
        )),
        Some(Ok(entry)) => Ok(json_response(200, &view(&entry))),
    }
}

fn templates_answer(templates: &Templates, text: Option<String>) -> Response {
    let list: Vec<Value> = templates
        .all()
        .iter()
        .map(|t| json!({ "id": t.id, "officer": t.audience == ntbcare_domain::delivery::templates::Audience::Officer }))
        .collect();
    let source = if text.is_some() { "override" } else { "seed" };
    let toml = text.unwrap_or_else(|| ntbcare_domain::delivery::templates::SEED_TOML.to_string());
    json_response(200, &json!({ "source": source, "templates": list, "toml": toml }))
}

fn templates_view() -> ApiResult {
    let shared = SpinStore::open_default()?;
    let (templates, text) = templates(&shared)?;
    Ok(templates_answer(&templates, text))
}

fn put_templates(req: &Request) -> ApiResult {
    const MAX_BYTES: usize = 256 * 1024;
    if req.body().len() > MAX_BYTES {
        return Err(ApiError::payload_too_large(MAX_BYTES));
    }
    let text = std::str::from_utf8(req.body()).map_err(|_| {
        ApiError::new(
            400,
            "malformed-body",
            Text::new("Isi harus teks UTF-8 (TOML).", "The body must be UTF-8 text (TOML)."),
        )
    })?;
    let templates = Templates::from_toml(text).map_err(|e| {
        ApiError::new(
            422,
            "invalid-templates",
            Text::new(format!("Templat ditolak: {e}"), format!("Templates refused: {e}")),
        )
    })?;
    let shared = SpinStore::open_default()?;
    shared.set(delivery_keys::TEMPLATES_OVERRIDE, text.as_bytes())?;
    Ok(templates_answer(&templates, Some(text.to_string())))
}
