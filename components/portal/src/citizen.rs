//! The citizen's pages: home, filing a complaint, the receipt, tracking, rating and replying.

use ntbcare_domain::language::Language;
use ntbcare_domain::sla::{Rule, SlaRules, Step, Unit};
use ntbcare_domain::ticket::Ticket;
use serde_json::{json, Value};

use crate::backend::{Api, Call, Reply};
use crate::forms::Form;
use crate::html::{url_encode, Html};
use crate::security::names;
use crate::{Ctx, Page, PageError};

/// Show an RFC 3339 WITA time as `29-11-2026 18:40 WITA`.
pub fn when(rfc3339: &str) -> String {
    let (date, time) = rfc3339.split_once('T').unwrap_or((rfc3339, ""));
    let mut d = date.split('-');
    match (d.next(), d.next(), d.next(), time.get(0..5)) {
        (Some(y), Some(m), Some(day), Some(hm)) => format!("{day}-{m}-{y} {hm} WITA"),
        _ => rfc3339.to_string(),
    }
}

pub fn region_name(ctx: &Ctx, code: &str) -> String {
    ntbcare_domain::region::RegionCode::parse(code)
        .ok()
        .and_then(|c| ctx.directory().region(&c).map(|r| r.name.clone()))
        .unwrap_or_else(|| code.to_string())
}

pub fn category_name(ctx: &Ctx, code: &str) -> String {
    ctx.directory().category(code).map(|c| c.name.clone()).unwrap_or_else(|| code.to_string())
}

pub fn home(ctx: &Ctx) -> Page {
    let body = h!(
        "<section class=\"hero\"><h1>{}</h1><p>{}</p>\
<div class=\"actions\"><a class=\"button\" href=\"/lapor\">{}</a><a class=\"button secondary\" href=\"/lacak\">{}</a></div></section>\
<div class=\"grid two\"><section class=\"card\"><h2>{}</h2><ol><li>{}</li><li>{}</li><li>{}</li><li>{}</li></ol></section>\
<section class=\"card\"><h2>{}</h2><p>{}</p><p><a href=\"/lapor#privasi\">{}</a></p></section></div>",
        ctx.t("Sampaikan pengaduan Anda", "Tell us what went wrong"),
        ctx.t(
            "NTB Care meneruskan pengaduan tentang layanan publik di Nusa Tenggara Barat kepada instansi yang berwenang, dan memantau agar dijawab tepat waktu.",
            "NTB Care sends complaints about public services in West Nusa Tenggara to the agency responsible, and sees that they are answered on time."
        ),
        ctx.t("Buat pengaduan", "File a complaint"),
        ctx.t("Lacak pengaduan", "Track a complaint"),
        ctx.t("Cara kerjanya", "How it works"),
        ctx.t("Tulis apa yang terjadi, di mana, dan lampirkan foto bila ada.", "Write what happened and where, with a photo if you have one."),
        ctx.t("Simpan nomor tiket dan kode pelacakan yang Anda terima.", "Keep the ticket number and tracking code you receive."),
        ctx.t("Petugas memeriksa dan meneruskan pengaduan ke instansi yang berwenang.", "Officers check the complaint and send it to the agency responsible."),
        ctx.t("Instansi menjawab; Anda menilai apakah masalahnya selesai.", "The agency answers; you say whether the problem was solved."),
        ctx.t("Identitas Anda terlindungi", "Your identity is protected"),
        ctx.t(
            "Anda dapat melapor tanpa nama (anonim) atau secara rahasia. Nomor telepon dan e-mail Anda tidak pernah ditampilkan kepada instansi maupun publik.",
            "You can report without your name (anonymous) or in confidence. Your phone number and e-mail are never shown to the agency or the public."
        ),
        ctx.t("Baca penjelasan pilihan privasi", "Read about the privacy choices")
    );
    ctx.html(200, ctx.t("Beranda", "Home"), body)
}

fn options(items: &[(String, String)], selected: &str, blank: Option<&str>) -> Html {
    let mut out = Html::empty();
    if let Some(blank) = blank {
        out.push(h!("<option value=\"\">{}</option>", blank));
    }
    for (value, label) in items {
        let sel = Html::when(value == selected, " selected");
        out.push(h!("<option value=\"{}\"{}>{}</option>", value, sel, label));
    }
    out
}

/// Attributes marking a field invalid, pointing at its message.
fn invalid_attrs(error_field: Option<&str>, field: &str) -> Html {
    if error_field == Some(field) {
        h!(" aria-invalid=\"true\" aria-describedby=\"e-{}\"", field)
    } else {
        Html::empty()
    }
}

fn field_error(error: Option<&(String, Option<String>)>, field: &str) -> Html {
    match error {
        Some((message, Some(f))) if f == field => {
            h!("<span class=\"field-error\" id=\"e-{}\">{}</span>", field, message)
        }
        _ => Html::empty(),
    }
}

/// The form field a submission error names (intake names `reporter.phone`, we name `phone`).
fn form_field(api_field: &str) -> String {
    api_field.strip_prefix("reporter.").unwrap_or(api_field).to_string()
}

fn privacy_choice(form: &Form, value: &str, label: &str, hint: &str) -> Html {
    let current = form.get("privacy").unwrap_or("anonymous");
    let checked = Html::when(current == value, " checked");
    h!(
        "<div class=\"choice\"><input type=\"radio\" name=\"privacy\" id=\"p-{}\" value=\"{}\"{} aria-describedby=\"h-{}\">\
<label for=\"p-{}\">{}<span class=\"hint\" id=\"h-{}\">{}</span></label></div>",
        value,
        value,
        checked,
        value,
        value,
        label,
        value,
        hint
    )
}

/// The complaint form, empty or with what was sent and what was wrong with it.
pub fn file_form(ctx: &Ctx, form: &Form, error: Option<(String, Option<String>)>) -> Page {
    let dir = ctx.directory();
    let regions: Vec<(String, String)> =
        dir.regions.iter().map(|r| (r.code.to_string(), r.name.clone())).collect();
    let categories: Vec<(String, String)> =
        dir.categories.iter().map(|c| (c.code.clone(), c.name.clone())).collect();
    let err_field = error.as_ref().and_then(|(_, f)| f.as_deref());
    let summary = match &error {
        Some((message, field)) => h!(
            "<div class=\"error\" role=\"alert\" tabindex=\"-1\"><strong>{}</strong> {}{}</div>",
            ctx.t("Pengaduan belum terkirim.", "The complaint was not sent."),
            message,
            match field {
                Some(f) => h!(" <a href=\"#f-{}\">{}</a>", f, ctx.t("Perbaiki isian ini", "Fix this field")),
                None => Html::empty(),
            }
        ),
        None => Html::empty(),
    };
    let photo_note = if error.is_some() && form.file("photo").is_some() {
        h!(
            "<span class=\"hint\">{}</span>",
            ctx.t("Pilih foto Anda sekali lagi sebelum mengirim.", "Choose your photo again before sending.")
        )
    } else {
        Html::empty()
    };
    let body = h!(
        "<h1>{}</h1>{}<p>{}</p>\
<form method=\"post\" action=\"/lapor\" enctype=\"multipart/form-data\" novalidate>{}\
<input type=\"hidden\" name=\"kirim_id\" value=\"{}\">\
<fieldset><legend>{}</legend>\
<label for=\"f-description\">{}<span class=\"hint\">{}</span></label>{}\
<textarea id=\"f-description\" name=\"description\" maxlength=\"5000\" required{}>{}</textarea>\
<label for=\"f-title\">{}<span class=\"hint\">{}</span></label>\
<input type=\"text\" id=\"f-title\" name=\"title\" maxlength=\"150\" value=\"{}\"{}>\
<label for=\"f-category\">{}</label>\
<select id=\"f-category\" name=\"category\"{}>{}</select>{}\
<label for=\"f-region_code\">{}</label>{}\
<select id=\"f-region_code\" name=\"region_code\" required{}>{}</select>\
<label for=\"f-address\">{}<span class=\"hint\">{}</span></label>\
<input type=\"text\" id=\"f-address\" name=\"address\" maxlength=\"300\" value=\"{}\"{}>\
<label for=\"f-photo\">{}<span class=\"hint\">{}</span></label>{}\
<input type=\"file\" id=\"f-photo\" name=\"photo\" accept=\"image/jpeg,image/png,image/webp\" data-too-large=\"{}\">\
</fieldset>\
<fieldset id=\"privasi\"><legend>{}</legend><p class=\"hint\">{}</p>{}{}{}</fieldset>\
<fieldset><legend>{}</legend><p class=\"hint\">{}</p>\
<label for=\"f-name\">{}</label>{}<input type=\"text\" id=\"f-name\" name=\"name\" maxlength=\"100\" autocomplete=\"name\" value=\"{}\"{}>\
<label for=\"f-phone\">{}<span class=\"hint\">{}</span></label>{}<input type=\"tel\" id=\"f-phone\" name=\"phone\" autocomplete=\"tel\" value=\"{}\"{}>\
<label for=\"f-email\">{}</label>{}<input type=\"email\" id=\"f-email\" name=\"email\" autocomplete=\"email\" value=\"{}\"{}>\
</fieldset><div class=\"actions\"><button type=\"submit\">{}</button></div></form>",
        ctx.t("Buat pengaduan", "File a complaint"),
        summary,
        ctx.t(
            "Isian bertanda wajib hanya uraian dan wilayah. Semua yang lain boleh dikosongkan.",
            "Only the description and the region are required. Everything else may be left empty."
        ),
        ctx.csrf_field(),
        form.get("kirim_id").map(str::to_string).unwrap_or_else(|| ntbcare_platform::random_hex(16)),
        ctx.t("Apa yang terjadi", "What happened"),
        ctx.t("Uraian pengaduan (wajib)", "Description (required)"),
        ctx.t("Apa masalahnya, sejak kapan, dan di mana tepatnya. Paling sedikit 10 karakter.", "What the problem is, since when, and exactly where. At least 10 characters."),
        field_error(error.as_ref(), "description"),
        invalid_attrs(err_field, "description"),
        form.value("description"),
        ctx.t("Judul singkat", "Short title"),
        ctx.t("Tidak wajib", "Optional"),
        form.value("title"),
        invalid_attrs(err_field, "title"),
        ctx.t("Kategori", "Category"),
        invalid_attrs(err_field, "category"),
        options(&categories, form.value("category"), Some(ctx.t("— Pilih bila tahu —", "— Choose if you know —"))),
        field_error(error.as_ref(), "category"),
        ctx.t("Kabupaten/kota (wajib)", "Regency or city (required)"),
        field_error(error.as_ref(), "region_code"),
        invalid_attrs(err_field, "region_code"),
        options(&regions, form.value("region_code"), Some(ctx.t("— Pilih wilayah —", "— Choose the region —"))),
        ctx.t("Lokasi atau alamat", "Location or address"),
        ctx.t("Nama jalan, desa/kelurahan, patokan", "Street, village, landmark"),
        form.value("address"),
        invalid_attrs(err_field, "address"),
        ctx.t("Foto", "Photo"),
        ctx.t("Tidak wajib. JPEG, PNG atau WebP, paling besar 4 MB.", "Optional. JPEG, PNG or WebP, at most 4 MB."),
        photo_note,
        ctx.t("Foto terlalu besar: paling besar 4 MB.", "The photo is too large: at most 4 MB."),
        ctx.t("Siapa yang boleh melihat apa", "Who may see what"),
        ctx.t(
            "Nomor telepon dan e-mail Anda tidak pernah ditampilkan kepada siapa pun: hanya dipakai NTB Care untuk mengirim kabar kepada Anda.",
            "Your phone number and e-mail are never shown to anyone: NTB Care only uses them to send you news."
        ),
        privacy_choice(
            form,
            "anonymous",
            ctx.t("Anonim (pilihan awal)", "Anonymous (the default)"),
            ctx.t(
                "Nama Anda tidak ditampilkan kepada publik dan tidak diberikan kepada instansi yang menangani. Isi pengaduan dan perkembangannya dapat dilihat siapa saja yang mengetahui nomor tiket.",
                "Your name is not shown to the public and is not given to the agency handling it. The complaint and its progress can be seen by anyone who knows the ticket number."
            )
        ),
        privacy_choice(
            form,
            "confidential",
            ctx.t("Rahasia", "Confidential"),
            ctx.t(
                "Seperti anonim, dan isi pengaduan juga disembunyikan dari publik: orang lain yang mengetahui nomor tiket hanya melihat statusnya. Petugas instansi membaca isi pengaduan untuk menindaklanjutinya, tetapi tidak pernah melihat nama atau kontak Anda. Pilih ini bila isi laporan dapat membuat Anda dikenali.",
                "Like anonymous, and the complaint itself is hidden from the public: others who know the ticket number see only its status. The agency's officers read the complaint to act on it, but never see your name or contact. Choose this if the report itself could identify you."
            )
        ),
        privacy_choice(
            form,
            "public",
            ctx.t("Publik", "Public"),
            ctx.t(
                "Nama Anda tampil bersama pengaduan kepada instansi dan kepada siapa saja yang mengetahui nomor tiket. Kontak Anda tetap tidak ditampilkan.",
                "Your name is shown with the complaint to the agency and to anyone who knows the ticket number. Your contact is still never shown."
            )
        ),
        ctx.t("Kontak Anda", "Your contact"),
        ctx.t(
            "Tidak wajib. Isi bila Anda ingin menerima kabar perkembangan lewat SMS, WhatsApp atau e-mail.",
            "Optional. Fill in if you want news of the progress by SMS, WhatsApp or e-mail."
        ),
        ctx.t("Nama", "Name"),
        field_error(error.as_ref(), "name"),
        form.value("name"),
        invalid_attrs(err_field, "name"),
        ctx.t("Nomor telepon/WhatsApp", "Phone/WhatsApp number"),
        ctx.t("Contoh 0812 3456 7890", "For example 0812 3456 7890"),
        field_error(error.as_ref(), "phone"),
        form.value("phone"),
        invalid_attrs(err_field, "phone"),
        ctx.t("E-mail", "E-mail"),
        field_error(error.as_ref(), "email"),
        form.value("email"),
        invalid_attrs(err_field, "email"),
        ctx.t("Kirim pengaduan", "Send the complaint")
    );
    let status = if error.is_some() { 422 } else { 200 };
    ctx.html(status, ctx.t("Buat pengaduan", "File a complaint"), body)
}

/// The JSON document of intake's API, from the form.
fn complaint_json(lang: Language, form: &Form) -> Value {
    let mut doc = json!({ "language": lang.code(), "privacy": form.get("privacy").unwrap_or("anonymous") });
    for field in ["description", "title", "category", "region_code", "address"] {
        if let Some(v) = form.get(field) {
            doc[field] = json!(v);
        }
    }
    let mut reporter = serde_json::Map::new();
    for field in ["name", "phone", "email"] {
        if let Some(v) = form.get(field) {
            reporter.insert(field.into(), json!(v));
        }
    }
    if !reporter.is_empty() {
        doc["reporter"] = Value::Object(reporter);
    }
    doc
}

/// A file name fit for a multipart header: no path, no quotes or control characters.
fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String =
        base.chars().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_')).take(80).collect();
    if clean.is_empty() {
        "foto".into()
    } else {
        clean
    }
}

fn multipart(boundary: &str, complaint: &Value, photo: &crate::forms::FilePart) -> Vec<u8> {
    let mut body = Vec::with_capacity(photo.data.len() + 4096);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"complaint\"\r\nContent-Type: application/json\r\n\r\n{complaint}\r\n"
        )
        .as_bytes(),
    );
    let content_type: String =
        photo.content_type.chars().filter(|c| c.is_ascii_graphic() && *c != '"').take(100).collect();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
            safe_filename(&photo.filename)
        )
        .as_bytes(),
    );
    body.extend_from_slice(&photo.data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// File the complaint with intake; on success remember the receipt and redirect to it.
pub async fn file_submit(ctx: &mut Ctx, form: Form) -> Result<Page, PageError> {
    let doc = complaint_json(ctx.lang, &form);
    // One submission per form: a double click or a retried post files one complaint.
    let idempotency = form
        .get("kirim_id")
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|id| format!("portal-{id}"))
        .unwrap_or_else(|| format!("portal-{}", ntbcare_platform::random_hex(16)));
    let mut photo_dropped = false;
    let reply: Reply = match form.file("photo") {
        Some(photo) => {
            let boundary = format!("ntbcare-{}", ntbcare_platform::random_hex(12));
            let reply = Call::post(Api::Intake, "/api/v1/complaints")
                .header("idempotency-key", &idempotency)
                .raw(&format!("multipart/form-data; boundary={boundary}"), multipart(&boundary, &doc, photo))
                .send(ctx.lang)
                .await?;
            if reply.status == 415 {
                // An intake without attachments yet: file the complaint, say the photo was not kept.
                photo_dropped = true;
                Call::post(Api::Intake, "/api/v1/complaints").json(&doc).send(ctx.lang).await?
            } else {
                reply
            }
        }
        None => {
            Call::post(Api::Intake, "/api/v1/complaints")
                .header("idempotency-key", &idempotency)
                .json(&doc)
                .send(ctx.lang)
                .await?
        }
    };
    match reply.status {
        200 | 201 => {
            let ticket = reply.json["ticket"].as_str().unwrap_or_default().to_string();
            let secret = reply.json["tracking_secret"].as_str().unwrap_or_default().to_string();
            let attached = reply.json["attachments"].as_array().map(|a| a.len()).unwrap_or(0);
            let flag = if photo_dropped {
                "~tanpa-foto"
            } else if attached > 0 {
                "~foto"
            } else {
                ""
            };
            ctx.set_cookie(
                names::RECEIPT,
                &format!("{ticket}~{secret}{flag}"),
                "/lapor/terkirim",
                Some(3600),
            );
            Ok(ctx.redirect("/lapor/terkirim"))
        }
        400 | 413 | 415 | 422 => {
            let message = reply.error_message().unwrap_or_default();
            let field = reply.error_field().map(|f| form_field(&f));
            Ok(file_form(ctx, &form, Some((message, field))))
        }
        _ => Err(reply.into_error(ctx.lang)),
    }
}

fn public_base_url() -> String {
    spin_sdk::variables::get("public_base_url").unwrap_or_default().trim_end_matches('/').to_string()
}

/// The confirmation: the ticket, the tracking code, and a tracking link that holds it.
pub fn receipt(ctx: &Ctx) -> Page {
    let parsed = ctx.cookie(names::RECEIPT).and_then(|c| {
        let mut parts = c.split('~');
        let ticket = Ticket::parse(parts.next()?).ok()?;
        let secret = parts
            .next()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))?;
        Some((ticket, secret.to_string(), parts.next().map(str::to_string)))
    });
    let Some((ticket, secret, flag)) = parsed else {
        let body = h!(
            "<h1>{}</h1><p>{}</p><p><a class=\"button\" href=\"/lacak\">{}</a></p>",
            ctx.t("Tanda terima tidak tersedia", "No receipt to show"),
            ctx.t(
                "Tanda terima hanya ditampilkan sesaat setelah pengaduan dikirim, di peramban yang mengirimnya. Gunakan nomor tiket dan kode pelacakan Anda untuk melacak.",
                "The receipt is shown only just after the complaint is sent, in the browser that sent it. Use your ticket number and tracking code to track it."
            ),
            ctx.t("Lacak pengaduan", "Track a complaint")
        );
        return ctx.html(404, ctx.t("Tanda terima", "Receipt"), body);
    };
    let link = format!("{}/lacak/{}?kode={}", public_base_url(), ticket, url_encode(&secret));
    let photo = match flag.as_deref() {
        Some("foto") => {
            h!("<p class=\"notice\">{}</p>", ctx.t("Foto Anda terlampir.", "Your photo is attached."))
        }
        Some("tanpa-foto") => h!(
            "<p class=\"error\">{}</p>",
            ctx.t(
                "Pengaduan diterima, tetapi foto belum dapat dilampirkan saat ini.",
                "The complaint was received, but the photo could not be attached at this time."
            )
        ),
        _ => Html::empty(),
    };
    let body = h!(
        "<div class=\"notice\" role=\"status\"><h1>{}</h1></div>{}\
<section class=\"card\"><dl class=\"facts\"><dt>{}</dt><dd><span class=\"secret\" id=\"tiket\">{}</span></dd>\
<dt>{}</dt><dd><span class=\"secret code\" id=\"kode\">{}</span></dd></dl>\
<p><strong>{}</strong> {}</p>\
<p>{}<br><a id=\"tautan-lacak\" href=\"{}\">{}</a></p></section>\
<p class=\"actions\"><a class=\"button\" id=\"lihat-lacak\" href=\"{}\">{}</a><a class=\"button secondary\" href=\"/\">{}</a></p>",
        ctx.t("Pengaduan Anda sudah diterima", "Your complaint has been received"),
        photo,
        ctx.t("Nomor tiket", "Ticket number"),
        ticket.to_string(),
        ctx.t("Kode pelacakan", "Tracking code"),
        // Grouped as the citizen copies it (K7QM-4RXD-9P); an older 32-hex code as it was.
        ntbcare_domain::tracking_code::parse(&secret)
            .map(|c| ntbcare_domain::tracking_code::format_for_display(&c))
            .unwrap_or_else(|_| secret.clone()),
        ctx.t("Catat atau potret halaman ini sekarang.", "Write this down or take a picture of this page now."),
        ctx.t(
            "Kode pelacakan hanya ditampilkan sekali. Dengan kode ini Anda dapat melihat jawaban instansi, menilainya, dan menjawab pertanyaan petugas. Jangan bagikan kode ini.",
            "The tracking code is shown only once. With it you can read the agency's answer, rate it and answer the officers' questions. Do not share it."
        ),
        ctx.t("Tautan pelacakan pribadi (simpan sebagai markah):", "Your private tracking link (bookmark it):"),
        link.clone(),
        link,
        format!("/lacak/{}?kode={}", ticket, url_encode(&secret)),
        ctx.t("Lihat perkembangan", "See its progress"),
        ctx.t("Kembali ke beranda", "Back to the home page")
    );
    ctx.html(200, ctx.t("Pengaduan diterima", "Complaint received"), body)
}

pub fn track_form(ctx: &Ctx, error: Option<&str>) -> Page {
    let err = match error {
        Some(e) => h!("<div class=\"error\" role=\"alert\">{}</div>", e),
        None => Html::empty(),
    };
    let body = h!(
        "<h1>{}</h1>{}<form method=\"post\" action=\"/lacak\" class=\"card\">{}\
<label for=\"f-tiket\">{}<span class=\"hint\">{}</span></label>\
<input type=\"text\" id=\"f-tiket\" name=\"tiket\" required autocapitalize=\"characters\" spellcheck=\"false\">\
<label for=\"f-kode\">{}<span class=\"hint\">{}</span></label>\
<input type=\"text\" id=\"f-kode\" name=\"kode\" autocomplete=\"off\" spellcheck=\"false\">\
<div class=\"actions\"><button type=\"submit\">{}</button></div></form>",
        ctx.t("Lacak pengaduan", "Track a complaint"),
        err,
        ctx.csrf_field(),
        ctx.t("Nomor tiket", "Ticket number"),
        ctx.t("Contoh NTB-26-7KQ4MX", "For example NTB-26-7KQ4MX"),
        ctx.t("Kode pelacakan", "Tracking code"),
        ctx.t(
            "Tidak wajib. Dengan kode ini Anda melihat jawaban instansi dan dapat menilainya.",
            "Optional. With it you see the agency's answers and can rate them."
        ),
        ctx.t("Lacak", "Track")
    );
    ctx.html(if error.is_some() { 422 } else { 200 }, ctx.t("Lacak pengaduan", "Track a complaint"), body)
}

fn track_href(ticket: &Ticket, secret: Option<&str>, ok: Option<&str>) -> String {
    let mut href = format!("/lacak/{ticket}");
    let mut sep = '?';
    if let Some(s) = secret {
        href.push_str(&format!("{sep}kode={}", url_encode(s)));
        sep = '&';
    }
    if let Some(ok) = ok {
        href.push_str(&format!("{sep}ok={ok}"));
    }
    href
}

pub fn track_lookup(ctx: &Ctx, form: &Form) -> Page {
    match Ticket::parse(form.value("tiket")) {
        Ok(ticket) => ctx.redirect(&track_href(&ticket, form.get("kode"), None)),
        Err(_) => track_form(
            ctx,
            Some(ctx.t(
                "Nomor tiket tidak dikenali. Periksa lagi, contoh NTB-26-7KQ4MX.",
                "That ticket number is not recognised. Check it, for example NTB-26-7KQ4MX.",
            )),
        ),
    }
}

fn parse_ticket(ctx: &Ctx, raw: &str) -> Result<Ticket, PageError> {
    Ticket::parse(raw).map_err(|_| PageError::not_found(ctx.lang))
}

async fn fetch_view(ctx: &Ctx, ticket: &Ticket, secret: Option<&str>) -> Result<Reply, PageError> {
    let mut call = Call::get(Api::Intake, format!("/api/v1/complaints/{ticket}"));
    if let Some(s) = secret {
        call = call.header("x-tracking-secret", s);
    }
    call.send(ctx.lang).await
}

pub async fn track_page(ctx: &Ctx, raw: &str) -> Result<Page, PageError> {
    let ticket = parse_ticket(ctx, raw)?;
    let secret = ctx.query("kode");
    render_track(ctx, &ticket, secret.as_deref(), None).await
}

async fn render_track(
    ctx: &Ctx,
    ticket: &Ticket,
    secret: Option<&str>,
    error: Option<String>,
) -> Result<Page, PageError> {
    let reply = fetch_view(ctx, ticket, secret).await?;
    match reply.status {
        200 => {}
        404 => {
            return Ok(track_form(
                ctx,
                Some(ctx.t(
                    "Pengaduan dengan nomor itu tidak ditemukan.",
                    "No complaint has that ticket number.",
                )),
            ))
        }
        403 => {
            return Ok(track_form(
                ctx,
                Some(ctx.t(
                    "Kode pelacakan tidak cocok dengan nomor tiket ini.",
                    "The tracking code does not match this ticket.",
                )),
            ))
        }
        _ => return Err(reply.into_error(ctx.lang)),
    }
    let v = &reply.json;
    let own = secret.is_some();
    let flash = match ctx.query("ok").as_deref() {
        Some("nilai") => h!(
            "<div class=\"notice\" role=\"status\">{}</div>",
            ctx.t("Terima kasih, penilaian Anda tersimpan.", "Thank you, your rating was saved.")
        ),
        Some("jawab") => h!(
            "<div class=\"notice\" role=\"status\">{}</div>",
            ctx.t("Jawaban Anda sudah dikirim kepada petugas.", "Your reply was sent to the officers.")
        ),
        _ => Html::empty(),
    };
    let error = match error {
        Some(e) => h!("<div class=\"error\" role=\"alert\">{}</div>", e),
        None => Html::empty(),
    };
    let s = |k: &str| v[k].as_str().map(str::to_string);
    let mut facts = Html::empty();
    let mut fact = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            facts.push(h!("<dt>{}</dt><dd>{}</dd>", label, value));
        }
    };
    fact(ctx.t("Diterima", "Received"), s("received_at").map(|t| when(&t)));
    fact(ctx.t("Kategori", "Category"), s("category").map(|c| category_name(ctx, &c)));
    fact(ctx.t("Wilayah", "Region"), s("region_code").map(|c| region_name(ctx, &c)));
    // Until a coordinator dispatches it, no agency holds the complaint: say so.
    let waiting = matches!(s("status").as_deref(), Some("received" | "verified" | "forwarded"));
    fact(
        ctx.t("Instansi", "Agency"),
        s("unit").or_else(|| {
            waiting.then(|| {
                ctx.t(
                    "Belum ditentukan: menunggu verifikasi petugas",
                    "Not yet decided: waiting for verification",
                )
                .to_string()
            })
        }),
    );
    fact(
        ctx.t("Privasi", "Privacy"),
        s("privacy").map(|p| {
            match p.as_str() {
                "public" => ctx.t("Publik", "Public"),
                "confidential" => ctx.t("Rahasia", "Confidential"),
                _ => ctx.t("Anonim", "Anonymous"),
            }
            .to_string()
        }),
    );
    let description = match (s("title"), s("description")) {
        (title, Some(d)) => h!(
            "<section class=\"card\"><h2>{}</h2>{}<p>{}</p></section>",
            ctx.t("Isi pengaduan", "The complaint"),
            title.map(|t| h!("<h3>{}</h3>", t)).unwrap_or_default(),
            d
        ),
        _ => h!(
            "<p class=\"muted\">{}</p>",
            ctx.t(
                "Isi pengaduan ini rahasia: hanya statusnya yang ditampilkan tanpa kode pelacakan.",
                "This complaint is confidential: without the tracking code only its status is shown."
            )
        ),
    };
    let question = match (own, s("question"), s("status").as_deref()) {
        (true, Some(q), Some(st)) if st != "closed" && st != "rejected" => h!(
            "<section class=\"card\" id=\"pertanyaan\"><h2>{}</h2><p>{}</p>\
<form method=\"post\" action=\"/lacak/{}/jawab\">{}<input type=\"hidden\" name=\"kode\" value=\"{}\">\
<label for=\"f-jawab\">{}</label><textarea id=\"f-jawab\" name=\"text\" maxlength=\"5000\" required></textarea>\
<div class=\"actions\"><button type=\"submit\">{}</button></div></form></section>",
            ctx.t("Petugas meminta keterangan", "The officers ask for information"),
            q,
            ticket.to_string(),
            ctx.csrf_field(),
            secret.unwrap_or(""),
            ctx.t("Jawaban Anda", "Your reply"),
            ctx.t("Kirim jawaban", "Send the reply")
        ),
        _ => Html::empty(),
    };
    let answers: Html = v["answers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|ans| {
                    h!(
                        "<article class=\"card answer\"><h3>{} <span class=\"muted\">· {}</span></h3><p>{}</p></article>",
                        ans["agency"].as_str().unwrap_or(""),
                        when(ans["at"].as_str().unwrap_or("")),
                        ans["text"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let answers = if answers.as_str().is_empty() {
        if own {
            h!(
                "<h2>{}</h2><p class=\"muted\">{}</p>",
                ctx.t("Jawaban instansi", "The agency's answers"),
                ctx.t("Belum ada jawaban.", "No answer yet.")
            )
        } else {
            Html::empty()
        }
    } else {
        h!("<h2>{}</h2>{}", ctx.t("Jawaban instansi", "The agency's answers"), answers)
    };
    let rating = if v["can_rate"].as_bool() == Some(true) {
        rating_form(ctx, ticket, secret.unwrap_or(""))
    } else if let Some(r) = v["rating"].as_object() {
        h!(
            "<section class=\"card\"><h2>{}</h2><p>{}: {}/5 · {}: {}</p></section>",
            ctx.t("Penilaian Anda", "Your rating"),
            ctx.t("Nilai", "Score"),
            r.get("score").and_then(Value::as_u64).unwrap_or(0),
            ctx.t("Masalah selesai", "Problem solved"),
            match r.get("resolved").and_then(Value::as_str) {
                Some("yes") => ctx.t("Ya", "Yes"),
                Some("partly") => ctx.t("Sebagian", "Partly"),
                _ => ctx.t("Tidak", "No"),
            }
        )
    } else {
        Html::empty()
    };
    let history: Html = v["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|e| {
                    h!(
                        "<li><strong>{}</strong> <span class=\"muted\">{}</span>{}</li>",
                        e["status_label"].as_str().unwrap_or(""),
                        when(e["at"].as_str().unwrap_or("")),
                        e["note"].as_str().map(|n| h!("<br>{}", n)).unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let history = if history.as_str().is_empty() {
        Html::empty()
    } else {
        h!("<h2>{}</h2><ol class=\"timeline\">{}</ol>", ctx.t("Riwayat", "History"), history)
    };
    let own_hint = if own {
        Html::empty()
    } else {
        h!(
            "<p class=\"muted\">{} <a href=\"/lacak\">{}</a></p>",
            ctx.t("Anda melihat tampilan publik.", "You are seeing the public view."),
            ctx.t(
                "Masukkan kode pelacakan untuk melihat jawaban dan menilainya.",
                "Enter the tracking code to see the answers and rate them."
            )
        )
    };
    let body = h!(
        "<h1>{} <span class=\"nowrap\">{}</span></h1>{}{}<p><span class=\"status\">{}</span></p>{}\
<section class=\"card\"><dl class=\"facts\">{}</dl></section>{}{}{}{}{}{}",
        ctx.t("Pengaduan", "Complaint"),
        ticket.to_string(),
        flash,
        error,
        s("status_label").unwrap_or_default(),
        own_hint,
        facts,
        deadlines(ctx, v),
        question,
        answers,
        rating,
        description,
        history
    );
    Ok(ctx.html(200, &format!("{} {ticket}", ctx.t("Pengaduan", "Complaint")), body))
}

fn duration(ctx: &Ctx, rule: &Rule) -> String {
    let unit = match rule.unit {
        Unit::Hours => ctx.t("jam", "hours"),
        Unit::WorkingDays => ctx.t("hari kerja", "working days"),
        Unit::CalendarDays => ctx.t("hari", "days"),
    };
    format!("{} {unit}", rule.duration)
}

/// The deadline of the current step when the API gives it, and the service's time limits.
fn deadlines(ctx: &Ctx, v: &Value) -> Html {
    let current = match v["deadline"]["due"].as_str() {
        Some(due) => h!(
            "<p><strong>{}</strong> {}{}</p>",
            ctx.t("Batas waktu langkah ini:", "This step is due by:"),
            when(due),
            if v["deadline"]["overdue"].as_bool() == Some(true) {
                h!(" <span class=\"badge overdue\">{}</span>", ctx.t("Terlambat", "Overdue"))
            } else {
                Html::empty()
            }
        ),
        None => Html::empty(),
    };
    let rules = SlaRules::seed();
    let find = |step: Step| rules.rules().iter().find(|r| r.step == step && r.priority.is_none());
    let mut items = Html::empty();
    if let Some(r) = find(Step::Verification) {
        items.push(h!(
            "<li>{} {} {}</li>",
            ctx.t("Verifikasi oleh petugas: paling lambat", "Verification by the officers: within"),
            duration(ctx, r),
            ctx.t("sejak diterima.", "of receipt.")
        ));
    }
    if let Some(r) = find(Step::Completion) {
        items.push(h!(
            "<li>{} {} {}</li>",
            ctx.t("Penyelesaian oleh instansi: paling lambat", "Settlement by the agency: within"),
            duration(ctx, r),
            ctx.t("sejak diteruskan kepadanya.", "of being sent to it.")
        ));
    }
    if let Some(r) = find(Step::RatingReply) {
        items.push(h!(
            "<li>{} {} {}</li>",
            ctx.t("Anda dapat menilai jawaban dalam", "You may rate the answer within"),
            duration(ctx, r),
            ctx.t("sejak dijawab.", "of the answer.")
        ));
    }
    h!(
        "<section class=\"card\"><h2>{}</h2>{}<ul>{}</ul></section>",
        ctx.t("Batas waktu", "Deadlines"),
        current,
        items
    )
}

fn rating_form(ctx: &Ctx, ticket: &Ticket, secret: &str) -> Html {
    let scores: Html = (1..=5u8)
        .map(|n| {
            h!(
                "<div class=\"choice\"><input type=\"radio\" name=\"score\" id=\"s-{}\" value=\"{}\" required><label for=\"s-{}\">{}</label></div>",
                n,
                n,
                n,
                n
            )
        })
        .collect();
    let resolved: Html = [
        ("yes", ctx.t("Ya, selesai", "Yes, solved")),
        ("partly", ctx.t("Sebagian", "Partly")),
        ("no", ctx.t("Tidak", "No")),
    ]
    .into_iter()
    .map(|(v, label)| {
        h!(
            "<div class=\"choice\"><input type=\"radio\" name=\"resolved\" id=\"r-{}\" value=\"{}\" required><label for=\"r-{}\">{}</label></div>",
            v,
            v,
            v,
            label
        )
    })
    .collect();
    h!(
        "<section class=\"card\" id=\"nilai\"><h2>{}</h2><form method=\"post\" action=\"/lacak/{}/nilai\">{}\
<input type=\"hidden\" name=\"kode\" value=\"{}\">\
<fieldset><legend>{}</legend><p class=\"hint\">{}</p><div class=\"inline\">{}</div></fieldset>\
<fieldset><legend>{}</legend><div class=\"inline\">{}</div><p class=\"hint\">{}</p></fieldset>\
<label for=\"f-komentar\">{}<span class=\"hint\">{}</span></label><textarea id=\"f-komentar\" name=\"comment\" maxlength=\"1000\"></textarea>\
<div class=\"actions\"><button type=\"submit\">{}</button></div></form></section>",
        ctx.t("Nilai jawaban ini", "Rate this answer"),
        ticket.to_string(),
        ctx.csrf_field(),
        secret,
        ctx.t("Seberapa puas Anda dengan jawaban ini?", "How satisfied are you with this answer?"),
        ctx.t("1 = sangat tidak puas, 5 = sangat puas", "1 = very unsatisfied, 5 = very satisfied"),
        scores,
        ctx.t("Apakah masalah Anda sudah selesai?", "Was your problem solved?"),
        resolved,
        ctx.t(
            "Bila tidak atau nilai rendah, pengaduan dibuka kembali untuk instansi yang sama.",
            "If not, or with a low score, the complaint is reopened for the same agency."
        ),
        ctx.t("Komentar", "Comment"),
        ctx.t("Tidak wajib", "Optional"),
        ctx.t("Kirim penilaian", "Send the rating")
    )
}

pub async fn rate(ctx: &Ctx, raw: &str, form: &Form) -> Result<Page, PageError> {
    let ticket = parse_ticket(ctx, raw)?;
    let secret = form.value("kode");
    let score: u64 = form.value("score").parse().unwrap_or(0);
    let mut doc = json!({ "score": score, "resolved": form.value("resolved") });
    if let Some(c) = form.get("comment") {
        doc["comment"] = json!(c);
    }
    let reply = Call::post(Api::Intake, format!("/api/v1/complaints/{ticket}/rating"))
        .header("x-tracking-secret", secret)
        .json(&doc)
        .send(ctx.lang)
        .await?;
    if reply.ok() {
        return Ok(ctx.redirect(&track_href(&ticket, Some(secret), Some("nilai"))));
    }
    let message = reply.error_message().unwrap_or_default();
    let mut page = render_track(ctx, &ticket, Some(secret).filter(|s| !s.is_empty()), Some(message)).await?;
    page.status = reply.status.clamp(400, 499);
    Ok(page)
}

pub async fn reply(ctx: &Ctx, raw: &str, form: &Form) -> Result<Page, PageError> {
    let ticket = parse_ticket(ctx, raw)?;
    let secret = form.value("kode");
    let reply = Call::post(Api::Intake, format!("/api/v1/complaints/{ticket}/information"))
        .header("x-tracking-secret", secret)
        .json(&json!({ "text": form.value("text") }))
        .send(ctx.lang)
        .await?;
    if reply.ok() {
        return Ok(ctx.redirect(&track_href(&ticket, Some(secret), Some("jawab"))));
    }
    let message = reply.error_message().unwrap_or_default();
    let mut page = render_track(ctx, &ticket, Some(secret).filter(|s| !s.is_empty()), Some(message)).await?;
    page.status = reply.status.clamp(400, 499);
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_wita() {
        assert_eq!(when("2026-11-29T18:40:12+08:00"), "29-11-2026 18:40 WITA");
        assert_eq!(when("garbage"), "garbage");
    }

    #[test]
    fn file_names_lose_their_path_and_quotes() {
        assert_eq!(safe_filename("C:\\Users\\x\\foto \"jalan\".jpg"), "fotojalan.jpg");
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("\"\""), "foto");
    }

    #[test]
    fn the_form_becomes_intakes_document() {
        let form = Form::from_pairs(&[
            ("description", "Jalan berlubang di depan SDN 3"),
            ("region_code", "52.71"),
            ("privacy", "confidential"),
            ("phone", "0812 3456 7890"),
            ("title", " "),
            ("csrf", "not for intake"),
        ]);
        assert_eq!(
            complaint_json(Language::En, &form),
            json!({"description": "Jalan berlubang di depan SDN 3", "region_code": "52.71", "privacy": "confidential",
                   "language": "en", "reporter": {"phone": "0812 3456 7890"}})
        );
        assert_eq!(complaint_json(Language::Id, &Form::default())["privacy"], "anonymous");
        assert_eq!(form_field("reporter.phone"), "phone");
    }
}
