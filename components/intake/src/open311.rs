//! Open311 GeoReport v2 under `/open311/v2/`, in XML and JSON, for existing Open311 clients
//! (FixMyStreet and the like). The domain's `open311` module does the wire formats; this
//! is the glue: keys, storage, answers.

use ntbcare_domain::clock::Clock;
use ntbcare_domain::complaint::{Channel, Complaint};
use ntbcare_domain::keys;
use ntbcare_domain::language::Language;
use ntbcare_domain::open311::{self as o311, Format, Open311Error, Route};
use ntbcare_domain::queues;
use ntbcare_domain::store::{get_json, KeyValue};
use ntbcare_platform::{data, variable, SpinStore, SystemClock};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};

use crate::pipeline;

pub const BASE: &str = "/open311/v2";

fn answer(status: u16, format: Format, body: String) -> Response {
    Response::builder().status(status).header("content-type", format.content_type()).body(body).build()
}

fn error(e: Open311Error, format: Format, lang: Language) -> Response {
    if e.http_status() >= 500 {
        eprintln!("open311: {e:?}");
    }
    answer(e.http_status(), format, e.render(format, lang))
}

pub async fn handle(req: Request, path: &str, lang: Language) -> Response {
    let format = Format::for_path(path);
    match serve(req, path, lang).await {
        Ok(resp) => resp,
        Err(e) => error(e, format, lang),
    }
}

fn internal(e: impl std::fmt::Display) -> Open311Error {
    eprintln!("open311: {e}");
    Open311Error::Internal
}

async fn serve(req: Request, path: &str, lang: Language) -> Result<Response, Open311Error> {
    let method = req.method().to_string();
    let (route, format) = o311::route(&method, path)?;
    let store = SpinStore::open_default().map_err(internal)?;
    let directory = data::directory(&store).map_err(|e| internal(format!("{e:?}")))?;
    match route {
        Route::ListServices => {
            o311::check_jurisdiction(req.query())?;
            Ok(answer(200, format, o311::render_services(&o311::services(&directory, lang), format)))
        }
        Route::DefineService(code) => {
            o311::check_jurisdiction(req.query())?;
            Ok(answer(200, format, o311::service_definition(&code, &directory, lang)?.render(format)))
        }
        Route::CreateRequest => {
            let parsed = o311::parse_request_form(req.body(), &directory)?;
            if !key_is_known(&store, &parsed.api_key)? {
                return Err(Open311Error::InvalidApiKey);
            }
            let identity = SpinStore::open("identity").map_err(internal)?;
            let mut submission = parsed.submission;
            submission.language = lang;
            let accepted = pipeline::accept(
                &store,
                &identity,
                submission,
                Channel::Open311,
                SystemClock.now(),
                None,
                vec![],
            )
            .await
            .map_err(|e| internal(format!("{e:?}")))?;
            let ticket = &accepted.received.complaint.ticket;
            Ok(answer(200, format, o311::PostAnswer::new(ticket.clone(), &parsed.meta, lang).render(format)))
        }
        Route::ListRequests => {
            let now = SystemClock.now();
            let query = o311::parse_query(req.query(), now)?;
            let found: Vec<Complaint> = if query.ids.is_empty() {
                queues::newest_first(&store, now, query.start, query.limit, |c| o311::matches(c, &query))
                    .map_err(internal)?
            } else {
                let keys: Vec<String> = query.ids.iter().map(keys::complaint).collect();
                let values = store.get_many(&keys).map_err(internal)?;
                values.into_iter().flatten().filter_map(|v| serde_json::from_slice(&v).ok()).collect()
            };
            let chosen = o311::select(found.iter(), &query);
            let rendered: Vec<_> = chosen
                .into_iter()
                .map(|c| o311::ServiceRequest::from_complaint(c, &directory, lang))
                .collect();
            Ok(answer(200, format, o311::render_requests(&rendered, format)))
        }
        Route::GetRequest(ticket) => {
            let complaint: Complaint = get_json(&store, &keys::complaint(&ticket))
                .map_err(internal)?
                .ok_or_else(|| Open311Error::RequestNotFound(ticket.to_string()))?;
            let request = o311::ServiceRequest::from_complaint(&complaint, &directory, lang);
            Ok(answer(200, format, o311::render_requests(&[request], format)))
        }
    }
}

/// An API key is known if the `open311_api_keys` variable lists it (`owner:key` or `key`,
/// comma-separated: the seed) or an administrator issued it (stored by its hash).
fn key_is_known(store: &SpinStore, presented: &str) -> Result<bool, Open311Error> {
    let seeded = variable("open311_api_keys").unwrap_or_default();
    let listed = seeded.split(',').map(str::trim).filter(|k| !k.is_empty()).any(|entry| {
        let key = entry.rsplit_once(':').map(|(_, k)| k).unwrap_or(entry);
        ntbcare_platform::http::constant_time_eq(key.as_bytes(), presented.as_bytes())
    });
    if listed {
        return Ok(true);
    }
    store.exists(&issued_key(presented)).map_err(internal)
}

/// Where an administrator-issued key is kept: by hash, so the store never holds the key.
pub fn issued_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("open311/key/{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// An administrator issues an Open311 API key for a client (`{"owner": "fixmystreet"}`); the
/// key is shown once and kept only as its hash. `DELETE` with `{"key": …}` revokes it.
pub fn manage_keys(req: &Request) -> ntbcare_platform::ApiResult {
    use ntbcare_domain::language::Text;
    use ntbcare_platform::{http as web, ApiError};
    web::require_admin(req)?;
    let body: serde_json::Value = web::json_body(req)?;
    let store = SpinStore::open_default()?;
    let field = |name: &str| {
        body[name]
            .as_str()
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 100)
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::new(
                    422,
                    "missing-field",
                    Text::new(format!("Kolom `{name}` wajib diisi."), format!("Field `{name}` is required.")),
                )
                .with_field(Some(name.to_string()))
            })
    };
    if req.method() == &spin_sdk::http::Method::Delete {
        store.delete(&issued_key(&field("key")?))?;
        return Ok(Response::new(204, Vec::<u8>::new()));
    }
    let owner = field("owner")?;
    let key = format!("o311_{}", ntbcare_platform::random_hex(20));
    let record = serde_json::json!({ "owner": owner, "issued_at": SystemClock.now() });
    store.set(&issued_key(&key), record.to_string().as_bytes())?;
    Ok(web::json_response(201, &serde_json::json!({ "owner": owner, "api_key": key })))
}
