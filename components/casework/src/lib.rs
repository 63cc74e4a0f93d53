//! casework: officers sign in, see their queues and act on cases.
//!
//! Glue only: authentication (administrator token or a signed session), then the domain
//! decides what the officer may see and do (`org`, `casework`), and stores through the
//! port. Officers never see a reporter's contact: the case record has none, and the
//! identity store is not declared for this component.

mod cron;

use ntbcare_domain::calendar::WorkingCalendar;
use ntbcare_domain::casework::service::{self, act, ActError};
use ntbcare_domain::casework::ActionRequest;
use ntbcare_domain::clock::{Clock, Timestamp};
use ntbcare_domain::complaint::{Complaint, EmailAddress, PhoneNumber};
use ntbcare_domain::directory::UnitId;
use ntbcare_domain::keys;
use ntbcare_domain::language::{Language, Text};
use ntbcare_domain::org::accounts::{self, RegisterError};
use ntbcare_domain::org::{
    can_view, check_assignment, hash_password, may_list_unit_queue, verify_password, Officer, Principal,
    Role, Username,
};
use ntbcare_domain::queues::{self, Queue};
use ntbcare_domain::session;
use ntbcare_domain::sla::SlaRules;
use ntbcare_domain::store::{get_json, KeyValue};
use ntbcare_domain::ticket::Ticket;
use ntbcare_platform::http::{self as web, json_body, json_response};
use ntbcare_platform::{data, random_hex, variable, ApiError, ApiResult, SpinStore, SystemClock};
use serde_json::{json, Value};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let lang = web::language(&req);
    route(req, lang).unwrap_or_else(|e| e.into_response(lang))
}

fn route(req: Request, lang: Language) -> ApiResult {
    let path = web::path(&req).trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["api", "v1", "casework", "health"]) => Ok(web::health("casework")),
        (Method::Post, ["api", "v1", "sessions"]) => sign_in(&req),
        (Method::Get, ["api", "v1", "sessions", "current"]) => {
            let (principal, _) = authenticate(&req)?;
            Ok(json_response(200, &principal))
        }
        (Method::Delete, ["api", "v1", "sessions", "current"]) => sign_out(&req),
        (Method::Post, ["api", "v1", "officers"]) => register_officer(&req),
        (Method::Patch, ["api", "v1", "officers", username]) => update_officer(&req, username),
        (Method::Post, ["api", "v1", "officers", username, "api-tokens"]) => issue_api_token(&req, username),
        (Method::Get, ["api", "v1", "officers"]) => list_officers(&req),
        (Method::Get, ["api", "v1", "cases"]) => list_cases(&req),
        (Method::Post, ["api", "v1", "cases", "sweep"]) => sweep(&req),
        (Method::Get | Method::Put, ["api", "v1", "admin", name]) => admin_document(&req, name),
        (Method::Get, ["api", "v1", "cases", ticket]) => show_case(&req, ticket),
        (Method::Post, ["api", "v1", "cases", ticket, "actions"]) => act_on_case(&req, ticket, lang),
        (Method::Get, ["api", "v1", "cases", ticket, "answer-templates"]) => answer_templates(&req, ticket),
        (_, ["api", "v1", "sessions" | "officers" | "cases" | "admin", ..]) => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::no_route()),
    }
}

fn now() -> Timestamp {
    SystemClock.now()
}

fn bad_request(code: &str, id: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::new(400, code, Text::new(id, en))
}

fn field<'a>(body: &'a Value, name: &str) -> ApiResult<&'a str> {
    body.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            422,
            "missing-field",
            Text::new(format!("Kolom `{name}` wajib diisi."), format!("Field `{name}` is required.")),
        )
        .with_field(Some(name.to_string()))
    })
}

fn session_secret() -> ApiResult<Vec<u8>> {
    Ok(variable("session_secret")?.into_bytes())
}

use ntbcare_platform::auth::authenticate;

fn require_administrator(req: &Request) -> ApiResult<Principal> {
    let (principal, _) = authenticate(req)?;
    if principal.role != Role::Administrator {
        return Err(forbidden("only an administrator manages accounts"));
    }
    Ok(principal)
}

fn forbidden(why: &str) -> ApiError {
    ApiError::new(
        403,
        "forbidden",
        Text::new("Anda tidak berwenang melakukan ini.", format!("Forbidden: {why}.")),
    )
}

fn sign_in(req: &Request) -> ApiResult {
    let body = json_body(req)?;
    let (username, password) = (field(&body, "username")?, field(&body, "password")?);
    let refused = || {
        ApiError::new(
            401,
            "wrong-credentials",
            Text::new("Nama pengguna atau kata sandi salah.", "Wrong username or password."),
        )
    };
    let store = SpinStore::open_default()?;
    let officer = match Username::parse(username) {
        Some(u) => accounts::find(&store, &u)?,
        None => None,
    };
    let Some(officer) = officer.filter(|o| o.active) else { return Err(refused()) };
    if !verify_password(password, &officer.password_hash) {
        return Err(refused());
    }
    let principal =
        Principal { username: officer.username.to_string(), role: officer.role, unit: officer.unit.clone() };
    let (token, claims) = session::issue(principal, now(), random_hex(16), &session_secret()?)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_response(
        201,
        &json!({
            "token": token,
            "expires_at": claims.exp.to_rfc3339_wita(),
            "officer": { "username": officer.username, "name": officer.name, "role": officer.role, "unit": officer.unit },
        }),
    ))
}

fn sign_out(req: &Request) -> ApiResult {
    let (_, claims) = authenticate(req)?;
    if let Some(claims) = claims {
        let store = SpinStore::open_default()?;
        store.set(&keys::revoked_session(&claims.jti), claims.exp.0.to_string().as_bytes())?;
    }
    Ok(Response::new(204, Vec::<u8>::new()))
}

fn officer_not_found(username: &str) -> ApiError {
    ApiError::not_found(Text::new(
        format!("Petugas `{username}` tidak ditemukan."),
        format!("Officer `{username}` not found."),
    ))
}

/// An administrator changes an account: `active` (false signs the officer out of new
/// sessions), `role`, `unit`, `name`, `email`, `phone`, `password`.
fn update_officer(req: &Request, raw: &str) -> ApiResult {
    require_administrator(req)?;
    let username = Username::parse(raw).ok_or_else(|| officer_not_found(raw))?;
    let body = json_body(req)?;
    let store = SpinStore::open_default()?;
    let directory = data::directory(&store)?;
    let invalid = |field: &str, e: String| {
        ApiError::new(
            422,
            "invalid-officer",
            Text::new(format!("Isian `{field}` tidak sah: {e}."), format!("{e}.")),
        )
        .with_field(Some(field.to_string()))
    };
    let role = match body.get("role").and_then(Value::as_str) {
        Some(r) => Some(Role::parse(r).ok_or_else(|| invalid("role", format!("role `{r}` is not known")))?),
        None => None,
    };
    let unit = match body.get("unit") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(u) => Some(Some(
            u.as_str()
                .and_then(|u| UnitId::parse(u).ok())
                .ok_or_else(|| invalid("unit", "not a unit id".into()))?,
        )),
    };
    let password_hash = match body.get("password").and_then(Value::as_str) {
        Some(p) => Some(
            hash_password(p, &ntbcare_platform::random_bytes(16))
                .map_err(|e| invalid("password", e.to_string()))?,
        ),
        None => None,
    };
    let updated = accounts::update(&store, &username, |o| {
        if let Some(role) = role {
            o.role = role;
        }
        if let Some(unit) = &unit {
            o.unit = unit.clone();
        }
        check_assignment(o.role, o.unit.as_ref(), &directory)?;
        if let Some(active) = body.get("active").and_then(Value::as_bool) {
            o.active = active;
        }
        if let Some(name) = body.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) {
            o.name = name.trim().to_string();
        }
        if let Some(hash) = &password_hash {
            o.password_hash = hash.clone();
        }
        if let Some(e) = body.get("email").and_then(Value::as_str) {
            o.email = EmailAddress::parse(e);
        }
        if let Some(p) = body.get("phone").and_then(Value::as_str) {
            o.phone = PhoneNumber::parse(p);
        }
        Ok(())
    })?;
    match updated {
        None => Err(officer_not_found(raw)),
        Some(Err(e)) => Err(invalid("unit", e.to_string())),
        Some(Ok(officer)) => Ok(json_response(200, &public_officer(&officer))),
    }
}

/// An administrator issues a long-lived API token for an integration acting as an officer
/// (for example a regency's system posting answers). It is revoked like a session, by
/// `DELETE /api/v1/sessions/current` with the token itself.
fn issue_api_token(req: &Request, raw: &str) -> ApiResult {
    require_administrator(req)?;
    let username = Username::parse(raw).ok_or_else(|| officer_not_found(raw))?;
    let store = SpinStore::open_default()?;
    let officer =
        accounts::find(&store, &username)?.filter(|o| o.active).ok_or_else(|| officer_not_found(raw))?;
    let principal =
        Principal { username: officer.username.to_string(), role: officer.role, unit: officer.unit };
    let (token, claims) =
        session::issue_for(principal, now(), session::API_TOKEN_TTL_MS, random_hex(16), &session_secret()?)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_response(201, &json!({ "token": token, "expires_at": claims.exp.to_rfc3339_wita() })))
}

fn register_officer(req: &Request) -> ApiResult {
    require_administrator(req)?;
    let body = json_body(req)?;
    let invalid = |field: &str, id: String, en: String| {
        ApiError::new(422, "invalid-officer", Text::new(id, en)).with_field(Some(field.to_string()))
    };
    let username = Username::parse(field(&body, "username")?).ok_or_else(|| {
        invalid(
            "username",
            "Nama pengguna 3–40 huruf kecil, angka, titik, strip atau garis bawah.".into(),
            "A username is 3–40 lowercase letters, digits, dots, dashes or underscores.".into(),
        )
    })?;
    let name = field(&body, "name")?.trim().to_string();
    let role_text = field(&body, "role")?;
    let role = Role::parse(role_text).ok_or_else(|| {
        invalid(
            "role",
            format!("Peran `{role_text}` tidak dikenal."),
            format!("Role `{role_text}` is not known."),
        )
    })?;
    let unit = match body.get("unit").and_then(Value::as_str) {
        Some(u) => Some(
            UnitId::parse(u).map_err(|e| invalid("unit", format!("Unit `{u}` tidak sah."), e.to_string()))?,
        ),
        None => None,
    };
    let store = SpinStore::open_default()?;
    let directory = data::directory(&store)?;
    check_assignment(role, unit.as_ref(), &directory)
        .map_err(|e| invalid("unit", format!("Peran dan unit tidak cocok: {e}."), format!("{e}.")))?;
    let salt = ntbcare_platform::random_bytes(16);
    let password_hash = hash_password(field(&body, "password")?, &salt)
        .map_err(|e| invalid("password", "Kata sandi terlalu pendek.".into(), format!("{e}.")))?;
    let email = match body.get("email").and_then(Value::as_str) {
        Some(e) => Some(EmailAddress::parse(e).ok_or_else(|| {
            invalid(
                "email",
                format!("`{e}` bukan alamat e-mail yang sah."),
                format!("`{e}` is not an e-mail address."),
            )
        })?),
        None => None,
    };
    let phone = match body.get("phone").and_then(Value::as_str) {
        Some(p) => Some(PhoneNumber::parse(p).ok_or_else(|| {
            invalid(
                "phone",
                format!("`{p}` bukan nomor telepon yang sah."),
                format!("`{p}` is not a phone number."),
            )
        })?),
        None => None,
    };
    let officer = Officer { username, name, role, unit, password_hash, active: true, email, phone };
    match accounts::register(&store, &officer) {
        Ok(()) => Ok(json_response(201, &public_officer(&officer))),
        Err(RegisterError::Taken(u)) => Err(ApiError::new(
            409,
            "username-taken",
            Text::new(format!("Nama pengguna `{u}` sudah dipakai."), format!("Username `{u}` is taken.")),
        )),
        Err(RegisterError::Store(e)) => Err(e.into()),
    }
}

fn public_officer(o: &Officer) -> Value {
    json!({ "username": o.username, "name": o.name, "role": o.role, "unit": o.unit, "active": o.active })
}

fn list_officers(req: &Request) -> ApiResult {
    require_administrator(req)?;
    let store = SpinStore::open_default()?;
    let officers: Vec<Value> = accounts::list(&store)?.iter().map(public_officer).collect();
    Ok(json_response(200, &json!({ "officers": officers })))
}

/// A case as officers see it: everything but the tracking secret's hash. The record has no
/// contact details, and a name only for public complaints.
fn officer_view(case: &Complaint, clocks: &Clocks) -> Value {
    let mut v = serde_json::to_value(case).expect("case encodes");
    if let Some(obj) = v.as_object_mut() {
        obj.remove("tracking_secret_sha256");
        let now = now();
        if let Some((step, d)) = ntbcare_domain::casework::clocks::deadlines(case, &clocks.0, &clocks.1, now)
        {
            obj.insert(
                "deadline".into(),
                json!({
                    "step": step,
                    "due": d.due.to_rfc3339_wita(),
                    "warn_at": d.warn_at.to_rfc3339_wita(),
                    "late_at": d.late_at.to_rfc3339_wita(),
                    "state": d.escalation(now),
                    "overdue": now >= d.due,
                }),
            );
        }
    }
    v
}

fn parse_ticket(raw: &str) -> ApiResult<Ticket> {
    Ticket::parse(raw).map_err(|e| {
        bad_request("malformed-ticket", format!("`{raw}` bukan nomor tiket NTB Care."), format!("{e}."))
    })
}

fn case_not_found(ticket: &Ticket) -> ApiError {
    ApiError::not_found(Text::new(
        format!("Pengaduan {ticket} tidak ditemukan."),
        format!("Case {ticket} not found."),
    ))
}

fn show_case(req: &Request, raw: &str) -> ApiResult {
    let (principal, _) = authenticate(req)?;
    let ticket = parse_ticket(raw)?;
    let store = SpinStore::open_default()?;
    let case: Complaint =
        get_json(&store, &keys::complaint(&ticket))?.ok_or_else(|| case_not_found(&ticket))?;
    if !can_view(&principal, &case, &data::directory(&store)?) {
        return Err(forbidden("this case is not in your unit or region"));
    }
    Ok(json_response(200, &officer_view(&case, &clocks(&store)?)))
}

/// The reusable answers for a case's category, for the officer answering it.
fn answer_templates(req: &Request, raw: &str) -> ApiResult {
    let (principal, _) = authenticate(req)?;
    let ticket = parse_ticket(raw)?;
    let store = SpinStore::open_default()?;
    let directory = data::directory(&store)?;
    let case: Complaint =
        get_json(&store, &keys::complaint(&ticket))?.ok_or_else(|| case_not_found(&ticket))?;
    if !can_view(&principal, &case, &directory) {
        return Err(forbidden("this case is not in your unit or region"));
    }
    let templates = data::answer_templates(&store, &directory)?;
    Ok(json_response(200, &json!({ "templates": templates.for_category(case.category.as_deref()) })))
}

fn act_on_case(req: &Request, raw: &str, lang: Language) -> ApiResult {
    let (principal, _) = authenticate(req)?;
    let ticket = parse_ticket(raw)?;
    let request = ActionRequest::from_json(req.body()).map_err(|e| case_error(e, lang))?;
    let store = SpinStore::open_default()?;
    match act(&store, &data::directory(&store)?, &principal, &ticket, request, now()) {
        Ok((case, applied)) => Ok(json_response(
            200,
            &json!({ "from": applied.from, "to": applied.to, "case": officer_view(&case, &clocks(&store)?) }),
        )),
        Err(ActError::NotFound(t)) => Err(case_not_found(&t)),
        Err(ActError::Case(e)) => Err(case_error(e, lang)),
        Err(ActError::Store(e)) => Err(e.into()),
    }
}

fn case_error(e: ntbcare_domain::casework::CaseError, _lang: Language) -> ApiError {
    ApiError::new(e.status(), e.code(), e.message()).with_field(e.field().map(str::to_string))
}

/// The queues an officer may list: coordinators see triage and forwarded cases, units see
/// their own queue, the inspectorate any unit's.
fn list_cases(req: &Request) -> ApiResult {
    let (principal, _) = authenticate(req)?;
    let store = SpinStore::open_default()?;
    let directory = data::directory(&store)?;
    let clocks = clocks(&store)?;
    let requested = web::query_param(req, "queue");
    let limit: usize =
        web::query_param(req, "limit").and_then(|l| l.parse().ok()).unwrap_or(100).clamp(1, 500);
    let offset: usize = web::query_param(req, "offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let due_before = match web::query_param(req, "due_before") {
        Some(t) => Some(ntbcare_domain::channels::sms_gateway::parse_rfc3339(&t).ok_or_else(|| {
            bad_request(
                "bad-due-before",
                "`due_before` harus berupa waktu RFC 3339.",
                "`due_before` must be an RFC 3339 time.",
            )
        })?),
        None => None,
    };
    let cases: Vec<Complaint> = match (principal.role, requested.as_deref()) {
        (
            Role::ProvincialCoordinator | Role::RegencyCoordinator | Role::Administrator,
            None | Some("triage"),
        ) => {
            let mut cases = queues::triage(&store, now(), limit)?;
            cases.extend(load(&store, &queues::tickets_in(&store, &Queue::Forwarded)?)?);
            cases
        }
        (_, Some(q)) if q.starts_with("unit:") => {
            let unit = UnitId::parse(&q[5..])
                .map_err(|e| bad_request("bad-queue", "Antrean tidak sah.", e.to_string()))?;
            if !may_list_unit_queue(&principal, &unit) {
                return Err(forbidden("this queue is not your unit's"));
            }
            load(&store, &queues::tickets_in(&store, &Queue::Unit(unit))?)?
        }
        (Role::LiaisonOfficer | Role::UnitHead, None) => match &principal.unit {
            Some(u) => load(&store, &queues::tickets_in(&store, &Queue::Unit(u.clone()))?)?,
            None => vec![],
        },
        (Role::Leadership, _) => return Err(forbidden("leadership reads reports, not cases")),
        // Everything past its deadline, for the inspectorate and coordinators.
        (
            Role::Inspectorate | Role::ProvincialCoordinator | Role::RegencyCoordinator | Role::Administrator,
            Some("overdue"),
        ) => {
            let at = now();
            let mut late: Vec<(Timestamp, Complaint)> = service::open_cases(&store, &directory, at)?
                .into_iter()
                .filter_map(|c| {
                    ntbcare_domain::casework::clocks::deadlines(&c, &clocks.0, &clocks.1, at)
                        .filter(|(_, d)| at >= d.due)
                        .map(|(_, d)| (d.due, c))
                })
                .collect();
            late.sort_by_key(|(due, _)| *due);
            late.into_iter().map(|(_, c)| c).collect()
        }
        _ => {
            return Err(bad_request(
                "bad-queue",
                "Sebutkan antrean: triage atau unit:<id>.",
                "Name a queue: triage or unit:<id>.",
            ))
        }
    };
    let visible: Vec<Value> = cases
        .iter()
        .filter(|c| can_view(&principal, c, &directory))
        .filter(|c| web::query_param(req, "status").is_none_or(|s| c.status.code() == s))
        .filter(|c| {
            web::query_param(req, "category").is_none_or(|s| c.category.as_deref() == Some(s.as_str()))
        })
        .filter(|c| {
            web::query_param(req, "region").is_none_or(|s| c.location.region_code.as_str().starts_with(&s))
        })
        .filter(|c| {
            due_before.is_none_or(|limit| {
                ntbcare_domain::casework::clocks::deadlines(c, &clocks.0, &clocks.1, now())
                    .is_some_and(|(_, d)| d.due < limit)
            })
        })
        .skip(offset)
        .take(limit)
        .map(|c| officer_view(c, &clocks))
        .collect();
    Ok(json_response(200, &json!({ "count": visible.len(), "offset": offset, "cases": visible })))
}

/// The escalation sweep, for the scheduler (internal token) or an administrator. An
/// administrator may run it `as_of` another time (RFC 3339), to see what a sweep then would do.
fn sweep(req: &Request) -> ApiResult {
    let internal =
        web::require_secret(req, ntbcare_contract::INTERNAL_TOKEN_HEADER, "internal_token").is_ok();
    let admin = !internal && authenticate(req).is_ok_and(|(p, _)| p.role == Role::Administrator);
    if !internal && !admin {
        return Err(ApiError::unauthorized());
    }
    let at = match web::query_param(req, "as_of") {
        Some(t) if admin => ntbcare_domain::channels::sms_gateway::parse_rfc3339(&t).ok_or_else(|| {
            bad_request(
                "bad-as-of",
                "`as_of` harus berupa waktu RFC 3339.",
                "`as_of` must be an RFC 3339 time.",
            )
        })?,
        _ => now(),
    };
    Ok(json_response(200, &run_sweep(at)?))
}

/// One escalation sweep as of `at`: for the route and for the cron trigger alike.
fn run_sweep(at: Timestamp) -> ApiResult<service::SweepReport> {
    let store = SpinStore::open_default()?;
    let (rules, calendar) = clocks(&store)?;
    Ok(service::sweep(&store, &data::directory(&store)?, &rules, &calendar, at)?)
}

/// The SLA rules and working-day calendar in force.
type Clocks = (SlaRules, WorkingCalendar);

fn clocks(store: &SpinStore) -> ApiResult<Clocks> {
    Ok((data::sla_rules(store)?, data::calendar(store)?))
}

/// An administrator reads or replaces a managed document (directory, routing rules,
/// calendar, SLA rules) as TOML; a document that does not check is refused with the reason.
fn admin_document(req: &Request, name: &str) -> ApiResult {
    require_administrator(req)?;
    let doc = data::Document::parse(name).ok_or_else(ApiError::no_route)?;
    let store = SpinStore::open_default()?;
    if req.method() == &Method::Get {
        return Ok(Response::builder()
            .status(200)
            .header("content-type", "application/toml; charset=utf-8")
            .body(data::text(&store, doc)?)
            .build());
    }
    let text = std::str::from_utf8(req.body()).map_err(|_| {
        ApiError::new(400, "not-utf8", Text::new("Dokumen harus UTF-8.", "The document must be UTF-8."))
    })?;
    data::replace(&store, doc, text).map_err(|problem| {
        ApiError::new(
            422,
            "invalid-document",
            Text::new(format!("Dokumen ditolak: {problem}"), format!("Document refused: {problem}")),
        )
    })?;
    Ok(json_response(200, &json!({ "saved": name })))
}

fn load(store: &SpinStore, tickets: &[Ticket]) -> ApiResult<Vec<Complaint>> {
    let keys: Vec<String> = tickets.iter().map(keys::complaint).collect();
    store
        .get_many(&keys)?
        .into_iter()
        .flatten()
        .map(|v| serde_json::from_slice(&v).map_err(|e| ApiError::internal(format!("case record: {e}"))))
        .collect()
}
