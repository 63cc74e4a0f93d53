//! reporting: monitoring and evaluation figures for leadership, units and the public.
//!
//! Glue only: who is asking (administrator token or a signed officer session, exactly as
//! casework authenticates), which scope that gives them (`measures::access`), then the
//! domain's measures read from the tallies (a fixed number of keys per month, however many
//! complaints), or computed from the records when a filter combines dimensions. Pages are
//! rendered on the server with inline SVG charts (`pages`): nothing is fetched from outside,
//! so they work on an office network without internet.

mod cron;
mod pages;

use ntbcare_domain::clock::{Clock, Timestamp};
use ntbcare_domain::complaint::Channel;
use ntbcare_domain::directory::Directory;
use ntbcare_domain::keys;
use ntbcare_domain::language::{Language, Text};
use ntbcare_domain::measures::access::{self, Scope};
use ntbcare_domain::measures::csv::{complaint_row, ComplaintPages, Csv, COMPLAINT_COLUMNS};
use ntbcare_domain::measures::live::{backlog_of, Backlog, OverdueCase};
use ntbcare_domain::measures::metric;
use ntbcare_domain::measures::read::{self, compute_from_records, month_rows, read_tallies, total, MonthRow};
use ntbcare_domain::measures::tally::{self, rebuild, FIRST_YEAR};
use ntbcare_domain::measures::{facts, open_data, scorecard, Context, Dim, Filter, Measures, Month};
use ntbcare_domain::org::Principal;
use ntbcare_domain::store::KeyValue;
use ntbcare_domain::summary::Summary;
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{ApiError, ApiResult, SpinStore, SystemClock};
use serde::Serialize;
use serde_json::json;
use spin_sdk::http::{Method, OutgoingResponse, Request, Response, ResponseOutparam};
use spin_sdk::http_component;

/// Every answer is whole but the per-complaint CSV, which is streamed a page at a time.
#[http_component]
async fn handle(req: Request, out: ResponseOutparam) {
    let lang = web::language(&req);
    let csv = req.method() == &Method::Get
        && web::path(&req).trim_end_matches('/') == "/api/v1/reports/complaints.csv";
    let response = if csv {
        match complaints_csv(&req) {
            Ok(export) => return export.stream(out).await,
            Err(e) => e.into_response(lang),
        }
    } else {
        route(req).unwrap_or_else(|e| e.into_response(lang))
    };
    send(out, response).await;
}

/// Send a whole response (what `#[http_component]` does for a handler returning one).
async fn send(out: ResponseOutparam, mut response: Response) {
    let body = std::mem::take(response.body_mut());
    match OutgoingResponse::try_from(response) {
        Ok(response) => {
            if let Err(e) = out.set_with_body(response, body).await {
                eprintln!("could not send the response: {e}");
            }
        }
        Err(e) => eprintln!("could not convert the response: {e}"),
    }
}

fn route(req: Request) -> ApiResult {
    let path = web::path(&req).trim_end_matches('/').to_string();
    let get = req.method() == &Method::Get;
    let post = req.method() == &Method::Post;
    if get || post {
        if let Some(allowed) = parameters(&path) {
            check_parameters(&req, allowed)?;
        }
    }
    match path.as_str() {
        "/api/v1/reports/health" if get => Ok(web::health("reporting")),
        "/api/v1/reports/summary" if get => summary(&req),
        "/api/v1/reports/measures" if get => measures(&req),
        "/api/v1/reports/measures.csv" if get => measures_csv(&req),
        "/api/v1/reports/scorecard" if get => scorecard_json(&req),
        "/api/v1/reports/overdue" if get => overdue(&req),
        "/api/v1/reports/open-data" if get => open_data_json(&req),
        "/api/v1/reports/open-data.csv" if get => open_data_csv(&req),
        "/api/v1/reports/semester" if get => semester(&req),
        "/api/v1/reports/dashboard" if get => dashboard(&req),
        "/api/v1/reports/rebuild" if post => rebuild_tallies(&req),
        "/api/v1/reports/reconcile" if post => reconcile_route(&req),
        "/api/v1/reports/health"
        | "/api/v1/reports/summary"
        | "/api/v1/reports/measures"
        | "/api/v1/reports/measures.csv"
        | "/api/v1/reports/complaints.csv"
        | "/api/v1/reports/scorecard"
        | "/api/v1/reports/overdue"
        | "/api/v1/reports/open-data"
        | "/api/v1/reports/open-data.csv"
        | "/api/v1/reports/semester"
        | "/api/v1/reports/dashboard"
        | "/api/v1/reports/rebuild"
        | "/api/v1/reports/reconcile" => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

/// The filters every report honours: `unit` (the unit responsible now), `region`
/// (regency/city), `channel`, `category`, then the period of receipt `from` and `to`.
const FILTERS: [&str; 6] = ["unit", "region", "channel", "category", "from", "to"];

/// The query parameters each route reads, beyond [`FILTERS`] (`None`: a route that is not a
/// report). Any other parameter is refused: a misspelt filter must never silently answer
/// the province-wide figure.
fn parameters(path: &str) -> Option<&'static [&'static str]> {
    Some(match path {
        "/api/v1/reports/health" => &["-"],
        "/api/v1/reports/summary"
        | "/api/v1/reports/measures"
        | "/api/v1/reports/complaints.csv"
        | "/api/v1/reports/open-data"
        | "/api/v1/reports/open-data.csv" => &[],
        "/api/v1/reports/measures.csv" => &["by"],
        "/api/v1/reports/scorecard" => &["min"],
        // As of now: no period.
        "/api/v1/reports/overdue" => &["-from", "-to"],
        "/api/v1/reports/semester" => &["year", "half", "min", "lang", "-from", "-to"],
        "/api/v1/reports/dashboard" => &["lang"],
        "/api/v1/reports/rebuild" => &["-", "dry_run"],
        "/api/v1/reports/reconcile" => &["-", "year"],
        _ => return None,
    })
}

/// Refuse a parameter the route does not read (400, saying which and what it reads).
/// `extra` adds to [`FILTERS`]; `-` there means "no filters", `-from` "not this filter".
fn check_parameters(req: &Request, extra: &[&str]) -> ApiResult<()> {
    let no_filters = extra.contains(&"-");
    let mut known: Vec<&str> = if no_filters {
        vec![]
    } else {
        FILTERS.iter().copied().filter(|f| !extra.contains(&format!("-{f}").as_str())).collect()
    };
    known.extend(extra.iter().copied().filter(|e| !e.starts_with('-')));
    let pairs = ntbcare_domain::channels::parse_urlencoded(req.query().as_bytes()).map_err(|_| {
        bad_request("bad-query", "Parameter kueri tidak dapat dibaca.", "The query string cannot be read.")
    })?;
    for (name, _) in pairs {
        if !known.contains(&name.as_str()) {
            let list = if known.is_empty() { "-".to_string() } else { known.join(", ") };
            return Err(bad_request(
                "unknown-parameter",
                format!("Parameter `{name}` tidak dikenal untuk laporan ini; yang dikenal: {list}."),
                format!("`{name}` is not a parameter of this report; it reads: {list}."),
            ));
        }
    }
    Ok(())
}

fn now() -> Timestamp {
    SystemClock.now()
}

fn bad_request(code: &str, id: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::new(400, code, Text::new(id, en))
}

fn forbidden(why: &str) -> ApiError {
    ApiError::new(
        403,
        "forbidden",
        Text::new("Anda tidak berwenang melihat ini.", format!("Forbidden: {why}.")),
    )
}

// ------------------------------------------------------------------ who is asking

/// The caller: none without a token; the administrator token; or a valid, unrevoked
/// officer session (`ntbcare_platform::auth`). A bearer token that is neither is refused.
///
/// Without a bearer header, a `GET` may present the portal's session cookie: the same
/// casework token, checked the same way, so an officer signed in on the portal opens the
/// leadership desk's reports in the browser with the role limits of the API. The cookie is
/// HttpOnly and SameSite=Strict (another site's page cannot send it), reports are read-only
/// `GET`s, and the one `POST` (rebuild) never reads it. A stale cookie counts as no caller.
fn caller(req: &Request) -> ApiResult<Option<Principal>> {
    if ntbcare_platform::auth::bearer(req).is_none() && req.method() == &Method::Get {
        if let Some(token) = portal_session(req) {
            return Ok(ntbcare_platform::auth::principal_of(token).ok().map(|(p, _)| p));
        }
    }
    Ok(ntbcare_platform::auth::caller(req)?.map(|(p, _)| p))
}

/// The portal's session cookie (`ntb_sesi`, set by the portal at sign-in), if sent.
fn portal_session(req: &Request) -> Option<&str> {
    const PORTAL_SESSION_COOKIE: &str = "ntb_sesi";
    let cookies = req.header("cookie").and_then(|v| v.as_str())?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == PORTAL_SESSION_COOKIE && !v.is_empty())
        .map(|(_, v)| v)
}

/// Officers' reports: open data is not enough.
fn officer_scope(req: &Request) -> ApiResult<Scope> {
    match access::scope(caller(req)?.as_ref()) {
        Scope::OpenData => Err(ApiError::unauthorized()),
        s => Ok(s),
    }
}

// ------------------------------------------------------------------ parameters

/// The period asked for: `from` and `to` as `YYYY-MM` (or dates, read as their months);
/// by default the twelve months up to this one.
fn period(req: &Request) -> ApiResult<Vec<Month>> {
    let parse = |name: &str| -> ApiResult<Option<Month>> {
        match web::query_param(req, name) {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => Month::parse(&s).map(Some).ok_or_else(|| {
                bad_request(
                    "bad-period",
                    format!("`{name}` harus berupa bulan (2026-01) atau tanggal (2026-01-15)."),
                    format!("`{name}` must be a month (2026-01) or a date (2026-01-15)."),
                )
            }),
        }
    };
    let this = Month::of(now());
    let to = parse("to")?.unwrap_or(this);
    let mut from = parse("from")?.unwrap_or(to);
    if web::query_param(req, "from").is_none() {
        for _ in 0..11 {
            from = from.prev();
        }
    }
    if from > to {
        return Err(bad_request("bad-period", "`from` sesudah `to`.", "`from` is after `to`."));
    }
    let months = from.through(to);
    if months.len() > 120 {
        return Err(bad_request("bad-period", "Paling lama 120 bulan.", "At most 120 months."));
    }
    Ok(months)
}

/// The filters asked for, checked against the directory, and narrowed to the caller's unit.
fn filter(req: &Request, dir: &Directory, scope: &Scope) -> ApiResult<Filter> {
    let p = |n: &str| web::query_param(req, n).filter(|v| !v.is_empty());
    let f = Filter { unit: p("unit"), region: p("region"), channel: p("channel"), category: p("category") };
    let unknown = |field: &str, v: &str| {
        bad_request(
            "unknown-filter",
            format!("Nilai `{v}` untuk `{field}` tidak dikenal."),
            format!("`{v}` is not a known {field}."),
        )
    };
    if let Some(u) = &f.unit {
        if u != keys::TRIAGE && !dir.units.iter().any(|x| x.id.as_str() == u) {
            return Err(unknown("unit", u));
        }
    }
    if let Some(r) = &f.region {
        if !dir.regions.iter().any(|x| x.code.as_str() == r && r.len() == 5) {
            return Err(unknown("region", r));
        }
    }
    if let Some(c) = &f.channel {
        if !Channel::ALL.iter().any(|x| x.code() == c) {
            return Err(unknown("channel", c));
        }
    }
    if let Some(c) = &f.category {
        if c != facts::NO_CATEGORY && dir.category(c).is_none() {
            return Err(unknown("category", c));
        }
    }
    narrow(f, scope)
}

fn narrow(mut f: Filter, scope: &Scope) -> ApiResult<Filter> {
    if let Scope::Unit(own) = scope {
        match &f.unit {
            Some(u) if u != own.as_str() => return Err(forbidden("a unit sees its own figures only")),
            _ => f.unit = Some(own.to_string()),
        }
    }
    Ok(f)
}

fn directory(store: &SpinStore) -> ApiResult<Directory> {
    ntbcare_platform::data::directory(store)
}

fn years(months: &[Month]) -> std::ops::RangeInclusive<i32> {
    let first = months.first().map(|m| m.year).unwrap_or(FIRST_YEAR);
    let last = months.last().map(|m| m.year).unwrap_or(first);
    first..=last
}

// ------------------------------------------------------------------ figures

/// The measures of a filter over a period: from the tallies when one cell series answers
/// it, else from the records.
struct Figures {
    source: &'static str,
    series: read::Series,
}

fn figures(store: &SpinStore, f: &Filter, months: &[Month]) -> ApiResult<Figures> {
    Ok(match f.cell() {
        Some((dim, value)) => {
            Figures { source: "tallies", series: read_tallies(store, dim, value, months, &[])? }
        }
        None => {
            Figures { source: "records", series: compute_from_records(store, f, months, Context::seed())? }
        }
    })
}

/// The backlog and the overdue cases matching the filter, from the open-case index.
fn live(store: &SpinStore, dir: &Directory, f: &Filter) -> ApiResult<(Backlog, Vec<OverdueCase>)> {
    let now = now();
    let mut cases = ntbcare_domain::open_index::open_cases(store, dir, now)?;
    cases.retain(|c| c.matches(f));
    Ok(backlog_of(&cases, dir, Context::seed(), now))
}

#[derive(Serialize)]
struct MeasuresAnswer {
    period: serde_json::Value,
    filter: Filter,
    /// `tallies` or `records`: where the figures were read from (they agree).
    source: &'static str,
    measures: Measures,
    by_month: Vec<MonthRow>,
    /// Now, whatever the period: open cases by working days since receipt.
    backlog: Backlog,
}

fn period_json(months: &[Month]) -> serde_json::Value {
    json!({
        "from": months.first().map(|m| m.to_string()),
        "to": months.last().map(|m| m.to_string()),
        "months": months.len(),
        "month_of": "receipt, WITA",
    })
}

/// The headline figures, for anyone: the same filters and period as every report (twelve
/// months to this one by default), counted by the unit responsible now.
fn summary(req: &Request) -> ApiResult {
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let f = filter(req, &dir, &Scope::OpenData)?;
    let (source, summary) = if f.pairs().is_empty() {
        ("tallies", Summary::from_tallies(&store, &dir, &months)?)
    } else {
        ("records", Summary::from_records(&store, &dir, &f, &months, Context::seed())?)
    };
    let mut answer = serde_json::to_value(&summary).map_err(|e| ApiError::internal(e.to_string()))?;
    answer["period"] = period_json(&months);
    answer["filter"] = serde_json::to_value(&f).map_err(|e| ApiError::internal(e.to_string()))?;
    answer["source"] = json!(source);
    answer["by_unit_means"] = json!(
        "the unit responsible now; by_unit_at_receipt: routing's choice at receipt, province-wide, all time"
    );
    Ok(json_response(200, &answer))
}

fn measures(req: &Request) -> ApiResult {
    let scope = officer_scope(req)?;
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let f = filter(req, &dir, &scope)?;
    let fig = figures(&store, &f, &months)?;
    let (backlog, _) = live(&store, &dir, &f)?;
    Ok(json_response(
        200,
        &MeasuresAnswer {
            period: period_json(&months),
            source: fig.source,
            measures: Measures::from_totals(&total(&fig.series)),
            by_month: month_rows(&months, &fig.series),
            filter: f,
            backlog,
        },
    ))
}

fn overdue(req: &Request) -> ApiResult {
    let scope = officer_scope(req)?;
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let f = filter(req, &dir, &scope)?;
    let (backlog, overdue) = live(&store, &dir, &f)?;
    Ok(json_response(
        200,
        &json!({ "as_of": now().to_rfc3339_wita(), "backlog": backlog, "overdue": overdue }),
    ))
}

fn csv_response(name: &str, bytes: Vec<u8>) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .header("content-disposition", format!("attachment; filename=\"{name}\""))
        .header("cache-control", "no-store")
        .body(bytes)
        .build()
}

/// The per-complaint export, checked and ready to stream.
struct ComplaintsExport {
    store: SpinStore,
    dir: Directory,
    filter: Filter,
    first: Month,
    last: Month,
    pages: ComplaintPages,
}

/// One row per complaint received in the period (no reporter identity, no description):
/// everything that can refuse the request is checked here, before the status is sent.
fn complaints_csv(req: &Request) -> ApiResult<ComplaintsExport> {
    check_parameters(req, &[])?;
    let scope = officer_scope(req)?;
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let filter = filter(req, &dir, &scope)?;
    let pages = ComplaintPages::new(&store, years(&months))?;
    Ok(ComplaintsExport { store, dir, filter, first: months[0], last: months[months.len() - 1], pages })
}

impl ComplaintsExport {
    /// The rows of the next page of records (`None` after the last), as CSV bytes.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ntbcare_domain::store::StoreError> {
        let Some(page) = self.pages.next_page(&self.store)? else { return Ok(None) };
        let ctx = Context::seed();
        let any_filter = !self.filter.pairs().is_empty();
        let mut csv = Csv { bytes: Vec::with_capacity(page.len() * 320) };
        for c in &page {
            let m = Month::of(c.received_at);
            if m < self.first || m > self.last || (any_filter && !self.filter.matches(&facts(c, ctx))) {
                continue;
            }
            let row = complaint_row(c, &self.dir, ctx);
            csv.row(row.iter().map(String::as_str));
        }
        Ok(Some(csv.bytes))
    }

    /// Send the headers, then the byte-order mark and header row, then one chunk per page of
    /// records (500): memory stays flat however many rows, and the first bytes leave at once.
    async fn stream(mut self, out: ResponseOutparam) {
        use futures::SinkExt;
        let name = format!("pengaduan-{}-{}.csv", self.first, self.last);
        let response = match OutgoingResponse::try_from(csv_response(&name, vec![])) {
            Ok(r) => r,
            Err(e) => return eprintln!("could not convert the response: {e}"),
        };
        let mut body = response.take_body();
        out.set(response);
        let mut chunk = Some(Csv::new(&COMPLAINT_COLUMNS).bytes);
        while let Some(bytes) = chunk {
            if !bytes.is_empty() {
                if let Err(e) = body.send(bytes).await {
                    // The client went away: nobody to write to.
                    return eprintln!("complaints.csv: client stopped reading: {e}");
                }
            }
            chunk = match self.next_chunk() {
                Ok(c) => c,
                // The status is sent: end the body abnormally (the instance traps) so the
                // client sees a broken transfer, never a short file that looks whole.
                Err(e) => panic!("complaints.csv: store failed mid-export: {e}"),
            };
        }
        if let Err(e) = body.close().await {
            eprintln!("complaints.csv: could not finish the body: {e}");
        }
    }
}

/// The rows of a breakdown: (key, name, totals) for each value of `dim` (months for `None`).
/// Each row holds `metrics` (all of [`read::table_metrics`] when empty); months hold all.
fn breakdown(
    store: &SpinStore,
    dir: &Directory,
    dim: Option<Dim>,
    months: &[Month],
    metrics: &[usize],
    f: &Filter,
) -> ApiResult<Vec<(String, String, Vec<i64>)>> {
    let values: Vec<(String, String)> = match dim {
        None | Some(Dim::All) => {
            let series = figures(store, f, months)?.series;
            return Ok(months.iter().zip(series).map(|(m, t)| (m.to_string(), m.to_string(), t)).collect());
        }
        Some(Dim::Unit) => {
            std::iter::once((keys::TRIAGE.to_string(), "Antrean triase koordinator".to_string()))
                .chain(dir.units.iter().map(|u| (u.id.to_string(), u.name.clone())))
                .collect()
        }
        Some(Dim::Region) => dir
            .regions
            .iter()
            .filter(|r| r.code.as_str().len() == 5)
            .map(|r| (r.code.to_string(), r.name.clone()))
            .collect(),
        Some(Dim::Channel) => {
            Channel::ALL.iter().map(|c| (c.code().to_string(), c.code().to_string())).collect()
        }
        Some(Dim::Category) => dir
            .categories
            .iter()
            .map(|c| (c.code.clone(), c.name.clone()))
            .chain(std::iter::once((facts::NO_CATEGORY.to_string(), "Tanpa kategori".to_string())))
            .collect(),
    };
    let keys: Vec<String> = values.iter().map(|(k, _)| k.clone()).collect();
    let dim = dim.unwrap_or(Dim::All);
    let tables = if f.pairs().is_empty() {
        let all = read::table_metrics();
        let metrics = if metrics.is_empty() { &all[..] } else { metrics };
        read::read_table_of(store, dim, &keys, months, metrics)?
    } else {
        breakdown_from_records(store, dim, &keys, months, f)?
    };
    Ok(values.into_iter().zip(tables).map(|((k, n), t)| (k, n, t)).collect())
}

/// A breakdown under a filter, which no tally cell answers: one pass over the records of the
/// period's years, each complaint the filter selects added to its value's row.
fn breakdown_from_records(
    store: &SpinStore,
    dim: Dim,
    values: &[String],
    months: &[Month],
    f: &Filter,
) -> ApiResult<Vec<Vec<i64>>> {
    let mut rows = vec![vec![0; metric::METRICS]; values.len()];
    let (first, last) = (months[0], months[months.len() - 1]);
    let ctx = Context::seed();
    ntbcare_domain::measures::tally::for_each_complaint(store, years(months), |c| {
        let fx = facts(&c, ctx);
        if fx.month < first || fx.month > last || !f.matches(&fx) {
            return;
        }
        if let Some(i) = values.iter().position(|v| v == fx.coord(dim)) {
            read::add_into(&mut rows[i], &vec_of(&fx.values));
        }
    })?;
    Ok(rows)
}

fn vec_of(values: &[(usize, i64)]) -> Vec<i64> {
    let mut v = vec![0; metric::METRICS];
    for (m, n) in values {
        v[*m] += n;
    }
    v
}

fn by_param(req: &Request) -> ApiResult<Option<Dim>> {
    match web::query_param(req, "by").as_deref() {
        None | Some("") | Some("month") => Ok(None),
        Some(s) => Dim::parse(s).filter(|d| *d != Dim::All).map(Some).ok_or_else(|| {
            bad_request(
                "bad-breakdown",
                "`by` harus unit, region, channel, category atau month.",
                "`by` must be unit, region, channel, category or month.",
            )
        }),
    }
}

/// The measures by unit, region, channel, category or month, one row each.
fn measures_csv(req: &Request) -> ApiResult {
    let scope = officer_scope(req)?;
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let by = by_param(req)?;
    let f = match &scope {
        // A unit's own row is its `by=unit` row: the unit is the breakdown, not a filter.
        Scope::Unit(_) => filter(req, &dir, &Scope::Everything)?,
        _ => filter(req, &dir, &scope)?,
    };
    let mut rows = breakdown(&store, &dir, by, &months, &[], &f)?;
    if let Scope::Unit(own) = &scope {
        if by != Some(Dim::Unit) {
            return Err(forbidden("a unit exports its own figures only: by=unit"));
        }
        rows.retain(|(k, _, _)| k == own.as_str());
    }
    let mut csv = Csv::new(&[
        "key",
        "name",
        "received",
        "verified",
        "answered",
        "followed_up",
        "follow_up_rate",
        "answered_within_deadline",
        "answered_within_deadline_share",
        "closed",
        "open",
        "mean_working_days_to_first_answer",
        "rated",
        "mean_rating",
        "not_resolved",
        "escalated",
    ]);
    let ratio = |a: i64, b: i64| if b > 0 { format!("{:.4}", a as f64 / b as f64) } else { String::new() };
    use ntbcare_domain::measures::metric::*;
    for (k, n, t) in rows.iter().filter(|(_, _, t)| by.is_none() || t[RECEIVED] > 0) {
        let tta = Duration::FirstAnswer;
        let mean_tta = if t[tta.n()] > 0 {
            format!("{:.3}", t[tta.sum()] as f64 / t[tta.n()] as f64 / 1000.0)
        } else {
            String::new()
        };
        let fields = [
            k.clone(),
            n.clone(),
            t[RECEIVED].to_string(),
            t[VERIFIED].to_string(),
            t[ANSWERED].to_string(),
            t[FOLLOWED_UP].to_string(),
            ratio(t[FOLLOWED_UP], t[VERIFIED]),
            t[ANSWERED_IN_TIME].to_string(),
            ratio(t[ANSWERED_IN_TIME], t[ANSWERED]),
            t[CLOSED].to_string(),
            t[OPEN].to_string(),
            mean_tta,
            t[RATED].to_string(),
            ratio(t[RATING_SUM], t[RATED]),
            t[RESOLVED_NO].to_string(),
            t[ESCALATED].to_string(),
        ];
        csv.row(fields.iter().map(String::as_str));
    }
    let by_name = by.map(|d| d.code()).unwrap_or("month");
    Ok(csv_response(&format!("ukuran-{by_name}-{}-{}.csv", months[0], months[months.len() - 1]), csv.bytes))
}

fn min_complaints(req: &Request) -> ApiResult<i64> {
    match web::query_param(req, "min").filter(|m| !m.is_empty()) {
        None => Ok(scorecard::DEFAULT_MIN_COMPLAINTS),
        Some(m) => m.parse::<i64>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
            bad_request(
                "bad-min",
                "`min` harus bilangan bulat 1 sampai 100000.",
                "`min` must be a whole number from 1 to 100000.",
            )
        }),
    }
}

fn scorecard_rows(
    store: &SpinStore,
    dir: &Directory,
    months: &[Month],
    min: i64,
    f: &Filter,
) -> ApiResult<Vec<scorecard::ScoreRow>> {
    // The unit filter picks rows; the other filters narrow what each row counts.
    let others = Filter { unit: None, ..f.clone() };
    let mut rows = breakdown(store, dir, Some(Dim::Unit), months, &[], &others)?;
    if let Some(u) = &f.unit {
        rows.retain(|(k, _, _)| k == u);
    }
    Ok(scorecard::rank(rows.iter().map(|(k, n, t)| scorecard::row(k, n, t)).collect(), min))
}

fn scorecard_json(req: &Request) -> ApiResult {
    let scope = officer_scope(req)?;
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let min = min_complaints(req)?;
    let f = filter(req, &dir, &scope)?;
    let rows = scorecard_rows(&store, &dir, &months, min, &f)?;
    Ok(json_response(
        200,
        &json!({ "period": period_json(&months), "filter": f, "min_complaints": min, "units": rows }),
    ))
}

/// Aggregates for anyone: no personal data, small counts suppressed.
#[derive(Serialize)]
pub(crate) struct OpenData {
    pub(crate) period: serde_json::Value,
    pub(crate) filter: Filter,
    pub(crate) suppression: serde_json::Value,
    pub(crate) province: open_data::OpenRow,
    pub(crate) by_month: Vec<open_data::OpenRow>,
    pub(crate) by_region: Vec<open_data::OpenRow>,
    pub(crate) by_category: Vec<open_data::OpenRow>,
    pub(crate) by_channel: Vec<open_data::OpenRow>,
    pub(crate) by_unit: Vec<open_data::OpenRow>,
}

fn open_data_of(store: &SpinStore, dir: &Directory, months: &[Month], f: &Filter) -> ApiResult<OpenData> {
    let table = |dim: Option<Dim>| -> ApiResult<Vec<open_data::OpenRow>> {
        let rows = breakdown(store, dir, dim, months, &[], f)?;
        let received: Vec<i64> = rows.iter().map(|(_, _, t)| t[0]).collect();
        let mut out: Vec<open_data::OpenRow> =
            rows.iter().map(|(k, n, t)| open_data::open_row(k, n, t)).collect();
        if dim.is_some() {
            open_data::protect_table(&mut out, &received);
            let keep: Vec<bool> = received.iter().map(|n| *n > 0).collect();
            let mut i = 0;
            out.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        Ok(out)
    };
    let by_month = table(None)?;
    let province_series = figures(store, f, months)?.series;
    Ok(OpenData {
        period: period_json(months),
        filter: f.clone(),
        suppression: json!({
            "min_count": open_data::MIN_COUNT,
            "rule": "counts from 1 to 4 are withheld (null), with the next smallest in a table when only one is; rates only where both parts could be published",
        }),
        province: open_data::open_row(facts::PROVINCE, "Nusa Tenggara Barat", &total(&province_series)),
        by_month,
        by_region: table(Some(Dim::Region))?,
        by_category: table(Some(Dim::Category))?,
        by_channel: table(Some(Dim::Channel))?,
        by_unit: table(Some(Dim::Unit))?,
    })
}

fn open_data_json(req: &Request) -> ApiResult {
    // Anyone: a bad token is still refused, so a mistaken officer learns of it.
    caller(req)?;
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let f = filter(req, &dir, &Scope::OpenData)?;
    let mut resp = json_response(200, &open_data_of(&store, &dir, &months, &f)?);
    resp.set_header("access-control-allow-origin", "*");
    Ok(resp)
}

/// Open data as CSV, for anyone: one row per table row (`table` says which: province,
/// month, region, category, channel, unit). A withheld figure is an **empty cell**, never a
/// zero (a spreadsheet then leaves it out of sums instead of adding a false 0), and the row's
/// `disembunyikan` column says `ya` when anything in it was withheld.
fn open_data_csv(req: &Request) -> ApiResult {
    caller(req)?;
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let f = filter(req, &dir, &Scope::OpenData)?;
    let d = open_data_of(&store, &dir, &months, &f)?;
    let mut csv = Csv::new(&[
        "table",
        "key",
        "name",
        "received",
        "verified",
        "followed_up",
        "closed",
        "follow_up_rate",
        "answered_within_deadline_share",
        "median_days_to_first_answer",
        "mean_rating",
        "disembunyikan",
    ]);
    let n = |x: Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
    let r = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
    let tables: [(&str, &[open_data::OpenRow]); 6] = [
        ("province", std::slice::from_ref(&d.province)),
        ("month", &d.by_month),
        ("region", &d.by_region),
        ("category", &d.by_category),
        ("channel", &d.by_channel),
        ("unit", &d.by_unit),
    ];
    for (table, rows) in tables {
        for row in rows {
            let fields = [
                table.to_string(),
                row.key.clone(),
                row.name.clone(),
                n(row.received),
                n(row.verified),
                n(row.followed_up),
                n(row.closed),
                r(row.follow_up_rate),
                r(row.answered_within_deadline_share),
                r(row.median_days_to_first_answer),
                r(row.mean_rating),
                if row.suppressed { "ya" } else { "tidak" }.to_string(),
            ];
            csv.row(fields.iter().map(String::as_str));
        }
    }
    let mut resp =
        csv_response(&format!("data-terbuka-{}-{}.csv", months[0], months[months.len() - 1]), csv.bytes);
    resp.set_header("access-control-allow-origin", "*");
    Ok(resp)
}

fn rebuild_tallies(req: &Request) -> ApiResult {
    let principal = caller(req)?.ok_or_else(ApiError::unauthorized)?;
    if !access::may_rebuild(&principal) {
        return Err(forbidden("only an administrator rebuilds the tallies"));
    }
    let dry_run = web::query_param(req, "dry_run").is_some_and(|v| v == "true" || v == "1");
    let store = SpinStore::open_default()?;
    let year = now().wita().year;
    let report = if dry_run {
        rebuild(&store, FIRST_YEAR..=year, Context::seed(), true)?
    } else {
        with_repair_lease(&store, || Ok(rebuild(&store, FIRST_YEAR..=year, Context::seed(), false)?))?
    };
    let index = ntbcare_domain::open_index::rebuild(&store, &directory(&store)?, dry_run)?;
    let mut answer = serde_json::to_value(&report).map_err(|e| ApiError::internal(e.to_string()))?;
    answer["open_index"] = serde_json::to_value(&index).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_response(200, &answer))
}

fn page_lang(req: &Request) -> Language {
    match web::query_param(req, "lang").as_deref() {
        Some("en") => Language::En,
        Some(_) => Language::Id,
        None => Language::Id,
    }
}

fn html_response(body: String) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        .body(body.into_bytes())
        .build()
}

fn dashboard(req: &Request) -> ApiResult {
    let lang = page_lang(req);
    let scope = access::scope(caller(req)?.as_ref());
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let months = period(req)?;
    let page = match &scope {
        Scope::OpenData => pages::public_dashboard(
            &open_data_of(&store, &dir, &months, &filter(req, &dir, &scope)?)?,
            lang,
            &pages::Nav::new(req.query(), false),
        ),
        Scope::Everything | Scope::Unit(_) => {
            let f = filter(req, &dir, &scope)?;
            let fig = figures(&store, &f, &months)?;
            let (backlog, overdue) = live(&store, &dir, &f)?;
            // The charts show follow-up rates: two metrics a unit or region, not thirteen.
            let rates = [metric::VERIFIED, metric::FOLLOWED_UP];
            let (units, regions) = if matches!(scope, Scope::Everything) {
                (
                    breakdown(&store, &dir, Some(Dim::Unit), &months, &rates, &f)?,
                    breakdown(&store, &dir, Some(Dim::Region), &months, &rates, &f)?,
                )
            } else {
                (vec![], vec![])
            };
            let unit_name = f.unit.as_ref().map(|u| {
                dir.units.iter().find(|x| x.id.as_str() == u).map(|x| x.name.clone()).unwrap_or(u.clone())
            });
            pages::dashboard(&pages::Dashboard {
                lang,
                nav: pages::Nav::new(req.query(), true),
                unit_name,
                months: &months,
                measures: Measures::from_totals(&total(&fig.series)),
                trend: month_rows(&months, &fig.series),
                units,
                regions,
                backlog,
                overdue,
            })
        }
    };
    Ok(html_response(page))
}

/// The printable semi-annual M&E report: `year` and `half` (1 or 2), this semester by default.
fn semester(req: &Request) -> ApiResult {
    if officer_scope(req)? != Scope::Everything {
        return Err(forbidden("the semi-annual report is for leadership, the inspectorate and coordinators"));
    }
    let lang = page_lang(req);
    let this = Month::of(now());
    let year = web::query_param(req, "year").and_then(|y| y.parse().ok()).unwrap_or(this.year);
    let half: u32 = web::query_param(req, "half")
        .and_then(|h| h.parse().ok())
        .unwrap_or(if this.month <= 6 { 1 } else { 2 });
    let (from, to) = Month::parse(&format!("{year}-{:02}", if half == 1 { 1 } else { 7 }))
        .map(|m| m.semester())
        .filter(|_| half == 1 || half == 2)
        .ok_or_else(|| bad_request("bad-semester", "`half` harus 1 atau 2.", "`half` must be 1 or 2."))?;
    let months = from.through(to);
    let store = SpinStore::open_default()?;
    let dir = directory(&store)?;
    let f = filter(req, &dir, &Scope::Everything)?;
    let series = figures(&store, &f, &months)?.series;
    let min = min_complaints(req)?;
    let page = pages::semester(&pages::Semester {
        lang,
        nav: pages::Nav::new(req.query(), true),
        year,
        half,
        months: &months,
        measures: Measures::from_totals(&total(&series)),
        trend: month_rows(&months, &series),
        scorecard: scorecard_rows(&store, &dir, &months, min, &f)?,
        min_complaints: min,
        regions: breakdown(&store, &dir, Some(Dim::Region), &months, &[], &f)?,
        categories: breakdown(&store, &dir, Some(Dim::Category), &months, &[], &f)?,
        channels: breakdown(&store, &dir, Some(Dim::Channel), &months, &[], &f)?,
        generated_at: now().to_rfc3339_wita(),
    });
    Ok(html_response(page))
}

// ------------------------------------------------------------------ reconciliation

/// How long one repair may hold the lease before another may take it over.
const REPAIR_LEASE_MS: i64 = 10 * 60 * 1000;
/// The pause between the two looks of a reconciliation: far longer than any record-then-
/// increments write takes, so a difference that lasts it is a lost increment.
const SETTLE_MS: u64 = 2_000;

/// Run `work` holding the repair lease (409 if another repair holds it).
fn with_repair_lease<T>(store: &SpinStore, work: impl FnOnce() -> ApiResult<T>) -> ApiResult<T> {
    let start = now().0;
    let until = start + REPAIR_LEASE_MS;
    if !tally::take_repair_lease(store, start, until)? {
        return Err(ApiError::new(
            409,
            "repair-running",
            Text::new(
                "Perbaikan penghitung lain sedang berjalan; coba lagi nanti.",
                "Another tally repair is running; try again later.",
            ),
        ));
    }
    let result = work();
    if let Err(e) = tally::release_repair_lease(store, until) {
        eprintln!("reconcile: could not release the lease: {e}");
    }
    result
}

/// One scheduled reconciliation: the current WITA year every run, and one older year in turn
/// (a cursor counts the runs), so every year is looked at within a few runs and a run reads
/// at most two years of tickets.
pub(crate) fn reconcile(only: Option<i32>) -> ApiResult<Vec<tally::ReconcileReport>> {
    let store = SpinStore::open_default()?;
    let this = now().wita().year;
    let years: Vec<i32> = match only {
        Some(y) => vec![y],
        None => {
            let run = store.increment("reconcile/runs", 1)?;
            let older = this - FIRST_YEAR;
            let mut ys = vec![this];
            if older > 0 {
                ys.push(this - 1 - (run.rem_euclid(older as i64) as i32));
            }
            ys
        }
    };
    with_repair_lease(&store, || {
        let mut out = Vec::new();
        for y in years {
            let mut settle = || std::thread::sleep(std::time::Duration::from_millis(SETTLE_MS));
            out.push(tally::reconcile_year(&store, y, this, Context::seed(), &mut settle)?);
        }
        Ok(out)
    })
}

/// `POST /api/v1/reports/reconcile`: the scheduled reconciliation, run now by the scheduler
/// or an administrator (`year` for one year of receipt only).
fn reconcile_route(req: &Request) -> ApiResult {
    // The scheduler's internal token (a CronJob where the cron trigger is not installed),
    // when the component is given one; else an administrator.
    let internal = req.header(ntbcare_contract::INTERNAL_TOKEN_HEADER).is_some()
        && web::require_secret(req, ntbcare_contract::INTERNAL_TOKEN_HEADER, "internal_token").is_ok();
    if !internal {
        let principal = caller(req)?.ok_or_else(ApiError::unauthorized)?;
        if !access::may_rebuild(&principal) {
            return Err(forbidden("only an administrator repairs the tallies"));
        }
    }
    let year = match web::query_param(req, "year").filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => {
            Some(y.parse::<i32>().ok().filter(|y| (FIRST_YEAR..=2100).contains(y)).ok_or_else(|| {
                bad_request("bad-year", "`year` harus tahun (2026).", "`year` must be a year (2026).")
            })?)
        }
    };
    Ok(json_response(200, &json!({ "years": reconcile(year)? })))
}
