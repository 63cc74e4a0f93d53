//! portal: the web pages citizens and officers use.
//!
//! Server-rendered HTML, Bahasa Indonesia first with an English switch, every page usable
//! without JavaScript (forms post, then redirect: PRG). Static assets are embedded, so a
//! page never waits on an outside server. The portal holds no complaint data: it reaches
//! intake and casework only through their public HTTP APIs ([`backend`]), with the officer's
//! casework token kept in an HttpOnly cookie, and checks a CSRF token on every form post.
//! Its store holds only its CSRF key and sign-in counters.
//!
//! Every interpolation into a page goes through [`html::esc`] by way of the [`h!`] macro.

#[macro_use]
pub mod html;
mod assets;
mod backend;
mod citizen;
mod forms;
mod layout;
mod officer;
mod security;

use ntbcare_domain::directory::Directory;
use ntbcare_domain::language::Language;
use ntbcare_platform::http as web;
use ntbcare_platform::SpinStore;
use spin_sdk::http::{Fields, Method, OutgoingResponse, Request, ResponseOutparam};
use spin_sdk::http_component;

use crate::forms::Form;
use crate::html::Html;
use crate::security::names;

/// Text in the reader's language.
pub fn t<'a>(lang: Language, id: &'a str, en: &'a str) -> &'a str {
    match lang {
        Language::Id => id,
        Language::En => en,
    }
}

/// A page or redirect, with every header it sets (several `Set-Cookie` among them).
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Page {
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Page {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Why a page could not be shown: a status and a message the reader can act on. 5xx say
/// only that the service is unavailable; the cause goes to the log.
#[derive(Debug)]
pub struct PageError {
    pub status: u16,
    pub message: String,
    pub cause: Option<String>,
    pub retry_after: Option<u64>,
}

impl PageError {
    pub fn new(status: u16, message: impl Into<String>) -> PageError {
        PageError { status, message: message.into(), cause: None, retry_after: None }
    }

    pub fn unavailable(lang: Language, cause: impl Into<String>) -> PageError {
        PageError {
            status: 503,
            message: t(
                lang,
                "Layanan sedang tidak dapat dihubungi. Silakan coba lagi beberapa saat lagi.",
                "The service cannot be reached right now. Please try again shortly.",
            )
            .into(),
            cause: Some(cause.into()),
            retry_after: None,
        }
    }

    pub fn not_found(lang: Language) -> PageError {
        PageError::new(404, t(lang, "Halaman tidak ditemukan.", "Page not found."))
    }

    pub fn forbidden_csrf(lang: Language) -> PageError {
        PageError::new(
            403,
            t(
                lang,
                "Formulir ini sudah kedaluwarsa atau tidak berasal dari NTB Care. Muat ulang halaman lalu kirim lagi.",
                "This form has expired or did not come from NTB Care. Reload the page and send it again.",
            ),
        )
    }
}

/// What every page needs to know about its request.
pub struct Ctx {
    pub lang: Language,
    pub path: String,
    pub query: String,
    cookies: Vec<(String, String)>,
    nonce: String,
    nonce_is_new: bool,
    lang_chosen: Option<Language>,
    csrf_key: Vec<u8>,
    pub secure_cookies: bool,
    pub client_ip: String,
    pub store: SpinStore,
    /// The directory the administrator saved (the seed until one is saved), read on first use:
    /// the same one intake checks a complaint against, so the portal offers only what it accepts.
    directory: std::cell::OnceCell<Directory>,
    /// Set-Cookie values for the answer.
    pub set_cookies: Vec<String>,
}

impl Ctx {
    /// The saved directory (issue 17: not `Directory::seed()`, which an administrator's edit
    /// leaves behind). A saved one that no longer parses is logged and the seed is shown, so the
    /// pages stay up; intake answers such complaints with its own error.
    pub fn directory(&self) -> &Directory {
        self.directory.get_or_init(|| {
            ntbcare_platform::data::directory(&self.store).unwrap_or_else(|e| {
                eprintln!("portal: the saved directory could not be read, showing the seed: {e:?}");
                Directory::seed()
            })
        })
    }

    pub fn t<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        t(self.lang, id, en)
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let pairs = ntbcare_domain::channels::parse_urlencoded(self.query.as_bytes()).ok()?;
        pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v).filter(|v| !v.is_empty())
    }

    /// The officer's casework token, if the browser holds one.
    pub fn session(&self) -> Option<&str> {
        self.cookie(names::SESSION)
    }

    /// The hidden CSRF field every form carries.
    pub fn csrf_field(&self) -> Html {
        let token = security::csrf_token(&self.csrf_key, &self.nonce, self.session());
        h!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", token)
    }

    /// Refuse a post without the right CSRF token (403).
    pub fn check_csrf(&self, form: &Form) -> Result<(), PageError> {
        let nonce = (!self.nonce_is_new).then_some(self.nonce.as_str());
        if security::csrf_valid(&self.csrf_key, nonce, self.session(), form.get("csrf")) {
            Ok(())
        } else {
            Err(PageError::forbidden_csrf(self.lang))
        }
    }

    pub fn set_cookie(&mut self, name: &str, value: &str, path: &str, max_age: Option<i64>) {
        self.set_cookies.push(security::set_cookie(name, value, path, max_age, self.secure_cookies));
    }

    pub fn clear_cookie(&mut self, name: &str, path: &str) {
        self.set_cookies.push(security::clear_cookie(name, path, self.secure_cookies));
    }

    /// The current address with the language switched, for the language link.
    pub fn switch_language_href(&self) -> String {
        let other = match self.lang {
            Language::Id => "en",
            Language::En => "id",
        };
        let kept: Vec<&str> =
            self.query.split('&').filter(|p| !p.is_empty() && !p.starts_with("lang=")).collect();
        let mut q = kept.join("&");
        if !q.is_empty() {
            q.push('&');
        }
        format!("{}?{q}lang={other}", self.path)
    }

    /// An HTML page.
    pub fn html(&self, status: u16, title: &str, body: Html) -> Page {
        let doc = layout::document(self, title, body);
        Page {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: doc.into_string().into_bytes(),
        }
    }

    /// See Other: the R of PRG.
    pub fn redirect(&self, location: &str) -> Page {
        Page { status: 303, headers: vec![("location".into(), location.into())], body: vec![] }
    }

    /// The error page.
    pub fn error_page(&self, e: PageError) -> Page {
        if let Some(cause) = &e.cause {
            eprintln!("portal error {}: {cause}", e.status);
        }
        let title = match e.status {
            404 => self.t("Tidak ditemukan", "Not found"),
            403 => self.t("Ditolak", "Refused"),
            429 => self.t("Terlalu banyak percobaan", "Too many attempts"),
            500..=599 => self.t("Layanan tidak tersedia", "Service unavailable"),
            _ => self.t("Tidak dapat diproses", "Could not be processed"),
        };
        let body = h!(
            "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/\">{}</a></p>",
            title,
            e.message,
            self.t("Kembali ke beranda", "Back to the home page")
        );
        let mut page = self.html(e.status, title, body);
        if let Some(secs) = e.retry_after {
            page = page.header("retry-after", secs.to_string());
        }
        page
    }
}

#[http_component]
async fn handle(req: Request, out: ResponseOutparam) {
    let page = serve(req).await;
    let mut headers: Vec<(String, Vec<u8>)> =
        page.headers.into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    headers.push(("content-length".into(), page.body.len().to_string().into_bytes()));
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(page.status);
    if let Err(e) = out.set_with_body(response, page.body).await {
        eprintln!("portal: could not send the response: {e}");
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|v| v.as_str())
}

async fn serve(req: Request) -> Page {
    let path = web::path(&req).to_string();
    if let Some(name) = path.strip_prefix("/aset/") {
        return assets::serve(name, header(&req, "if-none-match"));
    }
    let mut ctx = match context(&req) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("portal error: {e}");
            return Page {
                status: 503,
                headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
                body: b"NTB Care: layanan tidak tersedia / service unavailable".to_vec(),
            };
        }
    };
    let result = route(&mut ctx, &req).await;
    let mut page = result.unwrap_or_else(|e| ctx.error_page(e));
    if ctx.nonce_is_new {
        let cookie = security::set_cookie(names::NONCE, &ctx.nonce, "/", None, ctx.secure_cookies);
        ctx.set_cookies.push(cookie);
    }
    if let Some(lang) = ctx.lang_chosen {
        let cookie =
            security::set_cookie(names::LANG, lang.code(), "/", Some(365 * 86400), ctx.secure_cookies);
        ctx.set_cookies.push(cookie);
    }
    for c in ctx.set_cookies.drain(..) {
        page.headers.push(("set-cookie".into(), c));
    }
    for (k, v) in security_headers() {
        page.headers.push((k.into(), v.into()));
    }
    page
}

/// Sent with every page: no outside content, no framing, no referrer (tracking links carry
/// the secret), no caching (pages show personal data).
fn security_headers() -> [(&'static str, &'static str); 6] {
    [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ]
}

fn context(req: &Request) -> Result<Ctx, String> {
    let cookies = security::parse_cookies(header(req, "cookie"));
    let cookie = |name: &str| cookies.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let query = req.query().to_string();
    let lang_param = web::query_param(req, "lang");
    let lang_chosen = match lang_param.as_deref() {
        Some("en") => Some(Language::En),
        Some("id") => Some(Language::Id),
        _ => None,
    };
    let lang = lang_chosen
        .or(match cookie(names::LANG).as_deref() {
            Some("en") => Some(Language::En),
            Some("id") => Some(Language::Id),
            _ => None,
        })
        .unwrap_or_else(|| web::language(req));
    let (nonce, nonce_is_new) = match cookie(names::NONCE) {
        Some(n) if n.len() >= 16 && n.len() <= 64 && n.bytes().all(|b| b.is_ascii_hexdigit()) => (n, false),
        _ => (ntbcare_platform::random_hex(16), true),
    };
    let store = SpinStore::open_default().map_err(|e| e.to_string())?;
    let configured = spin_sdk::variables::get("portal_secret").unwrap_or_default();
    let csrf_key = security::csrf_key(&configured, &store, || ntbcare_platform::random_hex(32));
    if csrf_key.is_empty() {
        return Err("no CSRF key: the store refused to keep one".into());
    }
    let secure_cookies =
        spin_sdk::variables::get("portal_secure_cookies").map(|v| v != "false").unwrap_or(true);
    Ok(Ctx {
        lang,
        path: web::path(req).to_string(),
        query,
        cookies,
        nonce,
        nonce_is_new,
        lang_chosen,
        csrf_key,
        secure_cookies,
        client_ip: web::client_ip(req).unwrap_or_else(|| "unknown".into()),
        store,
        directory: std::cell::OnceCell::new(),
        set_cookies: vec![],
    })
}

/// The largest form the portal reads: one photo of intake's limit and the text fields.
pub const MAX_FORM_BYTES: usize = ntbcare_domain::upload::MAX_FILE_BYTES + 128 * 1024;

/// Complaints filed through the portal reach intake from inside the app, without the
/// citizen's address, so the per-address limit is the portal's to apply, with intake's count.
fn within_address_limit(ctx: &Ctx) -> Result<(), PageError> {
    use ntbcare_domain::ratelimit::{self, Limit, Verdict};
    let requests =
        ntbcare_platform::variable("rate_limit_per_address").ok().and_then(|v| v.trim().parse().ok());
    let limit =
        Limit { requests: requests.unwrap_or(ratelimit::PER_ADDRESS.requests), ..ratelimit::PER_ADDRESS };
    let now = ntbcare_domain::clock::Clock::now(&ntbcare_platform::SystemClock);
    // The shared store keeps a keyed hash of the address, never the address (docs/architecture.md).
    use ntbcare_domain::pseudonym::{DeploymentKey, Kind, Pseudonym};
    let key = ntbcare_platform::variable("deployment_key")
        .ok()
        .and_then(|k| DeploymentKey::new(&k).ok())
        .ok_or_else(|| {
            eprintln!("portal: deployment_key is not set");
            PageError::new(
                503,
                ctx.t(
                    "Layanan belum siap. Silakan coba lagi nanti.",
                    "The service is not ready. Please try again later.",
                ),
            )
        })?;
    let address = Pseudonym::of(Kind::ClientAddress, &ctx.client_ip, &key.pseudonyms());
    match ratelimit::check(&ctx.store, &format!("portal/ip/{address}"), limit, now) {
        Ok(Verdict::Allowed) => Ok(()),
        Ok(Verdict::Limited { retry_after_secs }) => {
            let mut e = PageError::new(
                429,
                ctx.t(
                    "Terlalu banyak pengaduan dari alamat ini. Silakan coba lagi nanti.",
                    "Too many complaints from this address. Please try again later.",
                ),
            );
            e.retry_after = Some(retry_after_secs.max(1) as u64);
            Err(e)
        }
        Err(e) => Err(PageError::new(503, e.to_string())),
    }
}

fn read_form(ctx: &Ctx, req: &Request) -> Result<Form, PageError> {
    if req.body().len() > MAX_FORM_BYTES {
        return Err(PageError::new(
            413,
            ctx.t(
                "Kiriman terlalu besar: foto paling besar 4 MB.",
                "Too large: a photo may be at most 4 MB.",
            ),
        ));
    }
    let content_type = header(req, "content-type").unwrap_or("application/x-www-form-urlencoded");
    let form = Form::parse(content_type, req.body()).map_err(|e| {
        PageError::new(400, format!("{}: {e}", ctx.t("Formulir tidak terbaca", "The form could not be read")))
    })?;
    ctx.check_csrf(&form)?;
    Ok(form)
}

async fn route(ctx: &mut Ctx, req: &Request) -> Result<Page, PageError> {
    let path = ctx.path.trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method().clone();
    match (&method, segments.as_slice()) {
        (Method::Get, []) => Ok(citizen::home(ctx)),
        (Method::Get, ["lapor"]) => Ok(citizen::file_form(ctx, &Form::default(), None)),
        (Method::Post, ["lapor"]) => {
            let form = read_form(ctx, req)?;
            within_address_limit(ctx)?;
            citizen::file_submit(ctx, form).await
        }
        (Method::Get, ["lapor", "terkirim"]) => Ok(citizen::receipt(ctx)),
        (Method::Get, ["lacak"]) => Ok(citizen::track_form(ctx, None)),
        (Method::Post, ["lacak"]) => {
            let form = read_form(ctx, req)?;
            Ok(citizen::track_lookup(ctx, &form))
        }
        (Method::Get, ["lacak", ticket]) => citizen::track_page(ctx, ticket).await,
        (Method::Post, ["lacak", ticket, "nilai"]) => {
            let form = read_form(ctx, req)?;
            citizen::rate(ctx, ticket, &form).await
        }
        (Method::Post, ["lacak", ticket, "jawab"]) => {
            let form = read_form(ctx, req)?;
            citizen::reply(ctx, ticket, &form).await
        }
        (Method::Get, ["petugas", "masuk"]) => officer::sign_in_form(ctx, None, "").await,
        (Method::Post, ["petugas", "masuk"]) => {
            let form = read_form(ctx, req)?;
            officer::sign_in(ctx, &form).await
        }
        (Method::Post, ["petugas", "keluar"]) => {
            let _form = read_form(ctx, req)?;
            officer::sign_out(ctx).await
        }
        (Method::Get, ["petugas"]) => officer::queue(ctx).await,
        (Method::Get, ["petugas", "kasus", ticket]) => officer::case_page(ctx, ticket, None).await,
        (Method::Post, ["petugas", "kasus", ticket]) => {
            let form = read_form(ctx, req)?;
            officer::act(ctx, ticket, &form).await
        }
        (Method::Get, _) => Err(PageError::not_found(ctx.lang)),
        _ => Err(PageError::new(
            405,
            ctx.t("Metode tidak didukung di alamat ini.", "Method not allowed here."),
        )),
    }
}
