//! The officers' desk: sign in and out, the queue, a case with the actions the role allows,
//! the coordinator's triage and the inspectorate's read-only view of what is overdue.
//!
//! What an officer may do is decided by the domain (`org::forbid`, `lifecycle::next_status`),
//! the same functions casework applies; the portal only hides the forms casework would refuse.
//! Casework checks again on every action.

use ntbcare_domain::complaint::{Complaint, Privacy};
use ntbcare_domain::directory::Directory;
use ntbcare_domain::lifecycle::{next_status, Action, Actor};
use ntbcare_domain::org::{forbid, Principal, Role};
use ntbcare_domain::ticket::Ticket;
use serde_json::{json, Value};

use crate::backend::{Api, Call};
use crate::citizen::{category_name, region_name, when};
use crate::forms::Form;
use crate::html::Html;
use crate::security::{self, names};
use crate::{Ctx, Page, PageError};

/// The actions the desk offers, in the order shown.
const ACTIONS: [Action; 11] = [
    Action::Verify,
    Action::Dispatch,
    Action::Reject,
    Action::MarkDuplicate,
    Action::Accept,
    Action::RequestInformation,
    Action::Respond,
    Action::Complete,
    Action::Forward,
    Action::Close,
    Action::Reopen,
];

/// Skeletons an officer may start an answer from: what was done, when, by whom.
const ANSWER_TEMPLATES: [(&str, &str); 3] = [
    (
        "Perbaikan selesai",
        "Pada tanggal [tanggal], tim [nama tim/bidang] telah [tindakan yang dilakukan] di [lokasi]. Hasilnya: [hasil]. Bila masalah muncul lagi, silakan laporkan kembali dengan nomor tiket ini.",
    ),
    (
        "Dijadwalkan",
        "Pengaduan Anda sudah kami periksa di lapangan pada [tanggal]. Perbaikan [jenis pekerjaan] dijadwalkan pada [tanggal] oleh [pelaksana] karena [alasan].",
    ),
    (
        "Bukan kewenangan, sudah dikoordinasikan",
        "Setelah kami periksa, [masalah] menjadi kewenangan [instansi]. Pada [tanggal] kami telah menyampaikan kepada [nama/jabatan] di instansi tersebut, yang akan [tindakan].",
    ),
];

fn role_label(ctx: &Ctx, role: Role) -> &'static str {
    let (id, en) = match role {
        Role::Administrator => ("Administrator", "Administrator"),
        Role::ProvincialCoordinator => ("Koordinator provinsi", "Provincial coordinator"),
        Role::RegencyCoordinator => ("Koordinator kabupaten/kota", "Regency coordinator"),
        Role::LiaisonOfficer => ("Petugas penghubung", "Liaison officer"),
        Role::UnitHead => ("Kepala unit", "Unit head"),
        Role::Inspectorate => ("Inspektorat", "Inspectorate"),
        Role::Leadership => ("Pimpinan", "Leadership"),
    };
    if ctx.lang == ntbcare_domain::language::Language::En {
        en
    } else {
        id
    }
}

/// The domain's label for the action, in the page's language only.
fn action_label(ctx: &Ctx, action: Action) -> String {
    action.label().get(ctx.lang).to_string()
}

fn unit_name(ctx: &Ctx, id: &str) -> String {
    ntbcare_domain::directory::UnitId::parse(id)
        .ok()
        .and_then(|u| ctx.directory().unit(&u).map(|u| u.name.clone()))
        .unwrap_or_else(|| id.to_string())
}

fn to_sign_in(ctx: &mut Ctx) -> Page {
    ctx.clear_cookie(names::SESSION, "/");
    ctx.redirect("/petugas/masuk?ok=sesi")
}

/// Who the signed-in officer is, as casework says; a redirect to sign in otherwise.
async fn whoami(ctx: &mut Ctx) -> Result<Result<Principal, Page>, PageError> {
    let Some(token) = ctx.session().map(str::to_string) else {
        return Ok(Err(ctx.redirect("/petugas/masuk")));
    };
    let reply = Call::get(Api::Casework, "/api/v1/sessions/current").bearer(&token).send(ctx.lang).await?;
    match reply.status {
        200 => serde_json::from_value(reply.json)
            .map(Ok)
            .map_err(|e| PageError::unavailable(ctx.lang, format!("session answer: {e}"))),
        401 => Ok(Err(to_sign_in(ctx))),
        _ => Err(reply.into_error(ctx.lang)),
    }
}

pub async fn sign_in_form(
    ctx: &mut Ctx,
    error: Option<(u16, String)>,
    username: &str,
) -> Result<Page, PageError> {
    if error.is_none() && ctx.session().is_some() {
        if let Ok(principal) = whoami(ctx).await? {
            let body = h!(
                "<h1>{}</h1><p>{} <strong>{}</strong> ({}).</p><p class=\"actions\"><a class=\"button\" href=\"/petugas\">{}</a></p>\
<form method=\"post\" action=\"/petugas/keluar\">{}<button class=\"secondary\" type=\"submit\">{}</button></form>",
                ctx.t("Anda sudah masuk", "You are signed in"),
                ctx.t("Masuk sebagai", "Signed in as"),
                principal.username,
                role_label(ctx, principal.role),
                ctx.t("Buka meja petugas", "Open the officer desk"),
                ctx.csrf_field(),
                ctx.t("Keluar", "Sign out")
            );
            return Ok(ctx.html(200, ctx.t("Masuk petugas", "Officer sign-in"), body));
        }
    }
    let notice = match ctx.query("ok").as_deref() {
        Some("keluar") => h!(
            "<div class=\"notice\" role=\"status\">{}</div>",
            ctx.t("Anda sudah keluar.", "You are signed out.")
        ),
        Some("sesi") => h!(
            "<div class=\"notice\" role=\"status\">{}</div>",
            ctx.t("Sesi Anda berakhir; silakan masuk lagi.", "Your session ended; please sign in again.")
        ),
        _ => Html::empty(),
    };
    let (status, err) = match &error {
        Some((status, message)) => (*status, h!("<div class=\"error\" role=\"alert\">{}</div>", message)),
        None => (200, Html::empty()),
    };
    let body = h!(
        "<h1>{}</h1>{}{}<form method=\"post\" action=\"/petugas/masuk\" class=\"card\">{}\
<label for=\"f-username\">{}</label><input type=\"text\" id=\"f-username\" name=\"username\" autocomplete=\"username\" required value=\"{}\" autocapitalize=\"none\" spellcheck=\"false\">\
<label for=\"f-password\">{}</label><input type=\"password\" id=\"f-password\" name=\"password\" autocomplete=\"current-password\" required>\
<div class=\"actions\"><button type=\"submit\">{}</button></div></form><p class=\"muted\">{}</p>",
        ctx.t("Masuk petugas", "Officer sign-in"),
        notice,
        err,
        ctx.csrf_field(),
        ctx.t("Nama pengguna", "Username"),
        username,
        ctx.t("Kata sandi", "Password"),
        ctx.t("Masuk", "Sign in"),
        ctx.t(
            "Akun dibuat oleh administrator NTB Care. Setelah 5 percobaan dalam 15 menit, masuk ditahan sementara.",
            "Accounts are made by NTB Care's administrator. After 5 attempts in 15 minutes, signing in is paused."
        )
    );
    Ok(ctx.html(status, ctx.t("Masuk petugas", "Officer sign-in"), body))
}

pub async fn sign_in(ctx: &mut Ctx, form: &Form) -> Result<Page, PageError> {
    let username = form.value("username").to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    if let Err(wait) = security::count_login(&ctx.store, &username, &ctx.client_ip, now) {
        let minutes = wait.div_ceil(60);
        return Err(PageError {
            status: 429,
            message: format!(
                "{} {minutes} {}",
                ctx.t(
                    "Terlalu banyak percobaan masuk. Coba lagi dalam",
                    "Too many sign-in attempts. Try again in"
                ),
                ctx.t("menit.", "minutes.")
            ),
            cause: None,
            retry_after: Some(wait),
        });
    }
    let reply = Call::post(Api::Casework, "/api/v1/sessions")
        .json(&json!({ "username": username, "password": form.value("password") }))
        .send(ctx.lang)
        .await?;
    match reply.status {
        200 | 201 => {
            let token = reply.json["token"].as_str().unwrap_or_default().to_string();
            if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b',') {
                return Err(PageError::unavailable(ctx.lang, "casework issued an unusable token"));
            }
            ctx.set_cookie(names::SESSION, &token, "/", Some(ntbcare_domain::session::SESSION_TTL_MS / 1000));
            Ok(ctx.redirect("/petugas"))
        }
        400 | 401 | 422 => {
            let message = reply.error_message().unwrap_or_default();
            sign_in_form(ctx, Some((401, message)), &username).await
        }
        _ => Err(reply.into_error(ctx.lang)),
    }
}

pub async fn sign_out(ctx: &mut Ctx) -> Result<Page, PageError> {
    if let Some(token) = ctx.session().map(str::to_string) {
        // Revoke the token at casework, so a copy of the cookie is worthless too.
        let _ = Call::new(Api::Casework, spin_sdk::http::Method::Delete, "/api/v1/sessions/current")
            .bearer(&token)
            .send(ctx.lang)
            .await;
    }
    ctx.clear_cookie(names::SESSION, "/");
    Ok(ctx.redirect("/petugas/masuk?ok=keluar"))
}

/// A case of a queue: its JSON from casework and when it is due.
struct Row {
    case: Value,
    due: Option<String>,
}

fn rows(cases: &Value) -> Vec<Row> {
    cases["cases"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| Row { case: c.clone(), due: c["deadline"]["due"].as_str().map(str::to_string) })
                .collect()
        })
        .unwrap_or_default()
}

fn queue_table(ctx: &Ctx, mut rows: Vec<Row>) -> Html {
    // Due first; times are all RFC 3339 in WITA, so they sort as text. No deadline: last.
    rows.sort_by(|a, b| match (&a.due, &b.due) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.case["received_at"].as_i64().cmp(&b.case["received_at"].as_i64()),
    });
    if rows.is_empty() {
        return h!(
            "<p class=\"notice\">{}</p>",
            ctx.t("Tidak ada pengaduan di antrean ini.", "No complaints in this queue.")
        );
    }
    let body: Html = rows
        .iter()
        .map(|r| {
            let c = &r.case;
            let ticket = c["ticket"].as_str().unwrap_or("");
            let overdue = c["deadline"]["overdue"].as_bool() == Some(true);
            let state = c["deadline"]["state"].as_str().unwrap_or("");
            let mark = if overdue {
                h!(" <span class=\"badge overdue\">{}</span>", ctx.t("Terlambat", "Overdue"))
            } else if state == "warned" || state == "warning" {
                h!(" <span class=\"badge warned\">{}</span>", ctx.t("Segera", "Due soon"))
            } else {
                Html::empty()
            };
            let status = c["status"]
                .as_str()
                .and_then(|s| serde_json::from_value::<ntbcare_domain::lifecycle::CaseStatus>(json!(s)).ok())
                .map(|s| s.label().get(ctx.lang).to_string())
                .unwrap_or_default();
            let summary: String = c["title"]
                .as_str()
                .or(c["description"].as_str())
                .unwrap_or("")
                .chars()
                .take(90)
                .collect();
            h!(
                "<tr{}><td class=\"ticket\"><a href=\"/petugas/kasus/{}\">{}</a></td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}{}</td></tr>",
                Html::when(overdue, " class=\"is-overdue\""),
                ticket,
                ticket,
                summary,
                c["category"].as_str().map(|c| category_name(ctx, c)).unwrap_or_default(),
                c["location"]["region_code"].as_str().map(|c| region_name(ctx, c)).unwrap_or_default(),
                status,
                r.due.as_deref().map(when).unwrap_or_else(|| "—".into()),
                mark
            )
        })
        .collect();
    h!(
        "<div class=\"table-wrap\"><table><caption class=\"muted\">{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>{}</tbody></table></div>",
        ctx.t("Diurutkan menurut batas waktu, yang paling mendesak di atas.", "Sorted by due time, the most urgent first."),
        ctx.t("Tiket", "Ticket"),
        ctx.t("Pengaduan", "Complaint"),
        ctx.t("Kategori · wilayah", "Category · region"),
        ctx.t("Status", "Status"),
        ctx.t("Batas waktu", "Due"),
        body
    )
}

/// The form that finds a case by its ticket: citizens phone in and read it out, so any form
/// `Ticket::parse` accepts will do (lower case, spaces, no dashes).
fn search_form(ctx: &Ctx, value: &str, error: Option<&str>) -> Html {
    h!(
        "<form method=\"get\" action=\"/petugas\" class=\"search\" role=\"search\"><div><label for=\"cari-tiket\">{}<span class=\"hint\">{}</span></label>\
<input type=\"text\" id=\"cari-tiket\" name=\"tiket\" value=\"{}\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\"{}></div>\
<button type=\"submit\">{}</button></form>{}",
        ctx.t("Cari pengaduan menurut nomor tiket", "Find a complaint by its ticket"),
        ctx.t("Misalnya NTB-26-7KQ4MX; huruf kecil dan tanpa tanda hubung juga bisa.", "For example NTB-26-7KQ4MX; lower case and no dashes work too."),
        value,
        Html::when(error.is_some(), " aria-invalid=\"true\" aria-describedby=\"cari-galat\""),
        ctx.t("Cari", "Find"),
        error.map(|e| h!("<p class=\"error\" role=\"alert\" id=\"cari-galat\">{}</p>", e))
    )
}

/// The reports the role may read, linked from the desk. They are reporting's pages and
/// exports, opened in the browser under the portal's session (reporting reads the session
/// cookie on `GET`), with reporting's role limits: a unit sees its own figures only; the
/// semi-annual report and the breakdowns by region and month are for everyone else.
fn reports_links(ctx: &Ctx, role: Role) -> Html {
    let everything = ntbcare_domain::measures::access::scope(Some(&Principal {
        username: String::new(),
        role,
        unit: None,
    })) == ntbcare_domain::measures::access::Scope::Everything;
    let lang = ctx.lang.code();
    let link = |id: &str, href: String, label: &str, hint: &str| {
        h!("<li><a id=\"{}\" href=\"{}\">{}</a> <span class=\"muted\">{}</span></li>", id, href, label, hint)
    };
    let mut pages = vec![
        link(
            "lap-dasbor",
            format!("/api/v1/reports/dashboard?lang={lang}"),
            ctx.t("Dasbor pemantauan", "Monitoring dashboard"),
            if everything {
                ctx.t("angka seluruh provinsi, 12 bulan terakhir", "the whole province, the last 12 months")
            } else {
                ctx.t("angka unit Anda, 12 bulan terakhir", "your unit's figures, the last 12 months")
            },
        ),
        link(
            "lap-terlambat",
            format!("/api/v1/reports/dashboard?lang={lang}#overdue"),
            ctx.t("Daftar yang melewati batas waktu", "The overdue list"),
            ctx.t("di bagian akhir dasbor", "at the end of the dashboard"),
        ),
    ];
    let mut exports = vec![];
    if everything {
        pages.push(link(
            "lap-rapor",
            format!("/api/v1/reports/semester?lang={lang}#scorecard"),
            ctx.t("Peringkat instansi (rapor)", "Agency scorecard"),
            ctx.t("semester ini", "this semester"),
        ));
        pages.push(link(
            "lap-semester",
            format!("/api/v1/reports/semester?lang={lang}"),
            ctx.t("Laporan semester (siap cetak)", "Semi-annual report (ready to print)"),
            ctx.t("semester ini", "this semester"),
        ));
        exports.push(link(
            "csv-wilayah",
            "/api/v1/reports/measures.csv?by=region".into(),
            ctx.t("Ukuran per kabupaten/kota", "Measures by regency/city"),
            "CSV",
        ));
        exports.push(link(
            "csv-bulan",
            "/api/v1/reports/measures.csv?by=month".into(),
            ctx.t("Ukuran per bulan", "Measures by month"),
            "CSV",
        ));
    }
    exports.insert(
        0,
        link(
            "csv-unit",
            "/api/v1/reports/measures.csv?by=unit".into(),
            ctx.t("Ukuran per instansi", "Measures by agency"),
            "CSV",
        ),
    );
    exports.push(link(
        "csv-pengaduan",
        "/api/v1/reports/complaints.csv".into(),
        ctx.t(
            "Satu baris per pengaduan (tanpa identitas pelapor)",
            "One row per complaint (no reporter identity)",
        ),
        "CSV",
    ));
    let pages: Html = pages.into_iter().collect();
    let exports: Html = exports.into_iter().collect();
    h!(
        "<section class=\"card\" id=\"laporan\"><h2>{}</h2><div class=\"grid two\"><div><h3>{}</h3><ul class=\"links\">{}</ul></div><div><h3>{}</h3><ul class=\"links\">{}</ul></div></div></section>",
        ctx.t("Laporan dan angka", "Reports and figures"),
        ctx.t("Halaman", "Pages"),
        pages,
        ctx.t("Unduh (CSV, dapat dibuka di spreadsheet)", "Download (CSV, opens in a spreadsheet)"),
        exports
    )
}

pub async fn queue(ctx: &mut Ctx) -> Result<Page, PageError> {
    let principal = match whoami(ctx).await? {
        Ok(p) => p,
        Err(redirect) => return Ok(redirect),
    };
    // A ticket typed into the desk's search: straight to the case when it reads as one.
    let wanted = ctx.query("tiket").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    let mut search_error = None;
    if let Some(q) = &wanted {
        match Ticket::parse(q) {
            Ok(ticket) => return Ok(ctx.redirect(&format!("/petugas/kasus/{ticket}"))),
            Err(_) => {
                search_error = Some(ctx.t(
                    "Nomor tiket itu tidak dikenali. Periksa lagi: NTB, dua angka tahun, lalu enam huruf/angka (misalnya NTB-26-7KQ4MX).",
                    "That ticket is not recognised. Check it again: NTB, two digits of the year, then six letters/digits (for example NTB-26-7KQ4MX).",
                ))
            }
        }
    }
    let token = ctx.session().unwrap_or_default().to_string();
    let (title, intro, table) = match principal.role {
        Role::Leadership => (
            ctx.t("Meja pimpinan", "Leadership desk"),
            ctx.t(
                "Angka pemantauan dan evaluasi: dasbor, peringkat instansi, pengaduan yang terlambat, laporan semester dan unduhan CSV.",
                "Monitoring and evaluation figures: the dashboard, the agency scorecard, overdue complaints, the semi-annual report and CSV downloads.",
            ),
            Html::empty(),
        ),
        Role::Inspectorate => {
            // Casework lists one unit's queue at a time for the inspectorate; gather them all.
            let mut overdue = vec![];
            let mut seen = std::collections::HashSet::new();
            for unit in ctx.directory().units.clone() {
                let reply =
                    Call::get(Api::Casework, format!("/api/v1/cases?queue=unit:{}&limit=500", unit.id))
                        .bearer(&token)
                        .send(ctx.lang)
                        .await?;
                if reply.status == 401 {
                    return Ok(to_sign_in(ctx));
                }
                for row in rows(&reply.json) {
                    let ticket = row.case["ticket"].as_str().unwrap_or("").to_string();
                    if row.case["deadline"]["overdue"].as_bool() == Some(true) && seen.insert(ticket) {
                        overdue.push(row);
                    }
                }
            }
            (
                ctx.t("Semua yang terlambat", "Everything overdue"),
                ctx.t(
                    "Tampilan baca saja: setiap pengaduan yang melewati batas waktunya, di semua instansi.",
                    "Read-only: every complaint past its deadline, in every agency.",
                ),
                queue_table(ctx, overdue),
            )
        }
        role => {
            let reply =
                Call::get(Api::Casework, "/api/v1/cases?limit=500").bearer(&token).send(ctx.lang).await?;
            if reply.status == 401 {
                return Ok(to_sign_in(ctx));
            }
            if !reply.ok() {
                return Err(reply.into_error(ctx.lang));
            }
            let title = if matches!(role, Role::LiaisonOfficer | Role::UnitHead) {
                ctx.t("Antrean unit", "Unit queue")
            } else {
                ctx.t("Triase", "Triage")
            };
            let intro = if matches!(role, Role::LiaisonOfficer | Role::UnitHead) {
                ctx.t("Pengaduan yang diteruskan kepada unit Anda.", "Complaints sent to your unit.")
            } else {
                ctx.t(
                    "Pengaduan baru dan yang dialihkan: verifikasi, tolak, tandai duplikat, atau teruskan ke instansi.",
                    "New and forwarded complaints: verify, reject, mark as duplicate, or dispatch to an agency.",
                )
            };
            (title, intro, queue_table(ctx, rows(&reply.json)))
        }
    };
    let unit = principal.unit.as_ref().map(|u| h!(" · {}", unit_name(ctx, u.as_str()))).unwrap_or_default();
    let search = if principal.role == Role::Leadership {
        Html::empty()
    } else {
        search_form(ctx, wanted.as_deref().unwrap_or(""), search_error)
    };
    // Leadership reads figures first; officers their queue, with the figures below it.
    let (first, last) = if principal.role == Role::Leadership {
        (reports_links(ctx, principal.role), table)
    } else {
        (table, reports_links(ctx, principal.role))
    };
    let body = h!(
        "<h1>{}</h1><p class=\"muted\">{} <strong>{}</strong> · {}{}</p>{}<p>{}</p>{}{}",
        title,
        ctx.t("Masuk sebagai", "Signed in as"),
        principal.username,
        role_label(ctx, principal.role),
        unit,
        search,
        intro,
        first,
        last
    );
    Ok(ctx.html(if search_error.is_some() { 400 } else { 200 }, title, body))
}

/// Whether the officer may take the action on the case now: the domain's two checks.
fn offered(principal: &Principal, case: &Complaint, action: Action, directory: &Directory) -> bool {
    forbid(principal, action, case, directory).is_none()
        && next_status(case.status, action).is_ok()
        && !(action == Action::RequestInformation && case.case.awaiting_information_since.is_some())
        // The follow-up is reported done once per answer (casework refuses a second report).
        && (action != Action::Complete
            || matches!(&case.case.completion, Some(c) if c.completed_at.is_none()))
}

fn unit_select(ctx: &Ctx, name: &str, id: &str, selected: Option<&str>, blank: &str) -> Html {
    let options: Html = ctx
        .directory()
        .units
        .iter()
        .map(|u| {
            h!(
                "<option value=\"{}\"{}>{}</option>",
                u.id.as_str(),
                Html::when(selected == Some(u.id.as_str()), " selected"),
                u.name.as_str()
            )
        })
        .collect();
    h!("<select id=\"{}\" name=\"{}\"><option value=\"\">{}</option>{}</select>", id, name, blank, options)
}

fn action_form(
    ctx: &Ctx,
    ticket: &str,
    action: Action,
    case: &Complaint,
    templates: &[(String, String)],
) -> Html {
    let code = action.code();
    let fields = match action {
        Action::Verify => {
            let categories: Html = ctx
                .directory()
                .categories
                .iter()
                .map(|c| {
                    h!(
                        "<option value=\"{}\"{}>{}</option>",
                        c.code.as_str(),
                        Html::when(case.category.as_deref() == Some(c.code.as_str()), " selected"),
                        c.name.as_str()
                    )
                })
                .collect();
            let privacy = if case.privacy == Privacy::Confidential {
                Html::empty()
            } else {
                h!(
                    "<label for=\"verify-privacy\">{}<span class=\"hint\">{}</span></label><select id=\"verify-privacy\" name=\"privacy\"><option value=\"\">{}</option>{}<option value=\"confidential\">{}</option></select>",
                    ctx.t("Naikkan privasi", "Raise the privacy"),
                    ctx.t("Hanya dapat dinaikkan, tidak pernah diturunkan.", "It can only be raised, never lowered."),
                    ctx.t("— Tetap —", "— Keep —"),
                    if case.privacy == Privacy::Public {
                        h!("<option value=\"anonymous\">{}</option>", ctx.t("Anonim", "Anonymous"))
                    } else {
                        Html::empty()
                    },
                    ctx.t("Rahasia", "Confidential")
                )
            };
            h!(
                "<label for=\"verify-title\">{}</label><input type=\"text\" id=\"verify-title\" name=\"title\" maxlength=\"150\" value=\"{}\">\
<label for=\"verify-category\">{}</label><select id=\"verify-category\" name=\"category\"><option value=\"\">—</option>{}</select>\
<label for=\"verify-priority\">{}</label><select id=\"verify-priority\" name=\"priority\"><option value=\"\">—</option><option value=\"urgent\">{}</option><option value=\"important\">{}</option><option value=\"ordinary\">{}</option></select>{}",
                ctx.t("Judul", "Title"),
                case.title.clone(),
                ctx.t("Kategori", "Category"),
                categories,
                ctx.t("Prioritas", "Priority"),
                ctx.t("Mendesak", "Urgent"),
                ctx.t("Penting", "Important"),
                ctx.t("Biasa", "Ordinary"),
                privacy
            )
        }
        Action::Dispatch => h!(
            "<label for=\"dispatch-unit\">{}</label>{}",
            ctx.t("Instansi tujuan", "Agency"),
            unit_select(ctx, "unit", "dispatch-unit", case.unit.as_ref().map(|u| u.as_str()), "—")
        ),
        Action::Reject => h!(
            "<label for=\"reject-reason\">{}</label><select id=\"reject-reason\" name=\"reason\" required><option value=\"spam\">{}</option><option value=\"out-of-scope\">{}</option><option value=\"incomplete\">{}</option><option value=\"other\">{}</option></select>",
            ctx.t("Alasan", "Reason"),
            ctx.t("Bukan pengaduan (spam)", "Not a complaint (spam)"),
            ctx.t("Di luar lingkup pelayanan publik", "Outside public services"),
            ctx.t("Informasi tidak cukup", "Not enough information"),
            ctx.t("Lainnya", "Other")
        ),
        Action::MarkDuplicate => h!(
            "<label for=\"dup-of\">{}</label><input type=\"text\" id=\"dup-of\" name=\"of\" required placeholder=\"NTB-26-XXXXXX\">",
            ctx.t("Sama dengan tiket", "Same as ticket")
        ),
        Action::RequestInformation => h!(
            "<label for=\"ask-question\">{}<span class=\"hint\">{}</span></label><textarea id=\"ask-question\" name=\"question\" maxlength=\"2000\" required></textarea>",
            ctx.t("Pertanyaan kepada pelapor", "Question to the complainant"),
            ctx.t("Dikirim kepada pelapor tanpa membuka identitasnya.", "Sent to the complainant without revealing who they are.")
        ),
        Action::Respond => {
            let listed: Html =
                templates.iter().map(|(name, text)| h!("<li><strong>{}</strong>: {}</li>", name, text)).collect();
            let templates: Html =
                templates.iter().map(|(name, text)| h!("<option value=\"{}\">{}</option>", text, name)).collect();
            h!(
                "<label for=\"respond-template\">{}</label><select id=\"respond-template\" data-template-for=\"respond-answer\"><option value=\"\">—</option>{}</select>\
<details><summary>{}</summary><ul>{}</ul></details>\
<label for=\"respond-answer\">{}<span class=\"hint\">{}</span></label><textarea id=\"respond-answer\" name=\"answer\" maxlength=\"5000\" required></textarea>\
<label for=\"respond-note\">{}<span class=\"hint\">{}</span></label><textarea id=\"respond-note\" name=\"internal_note\" maxlength=\"2000\"></textarea>",
                ctx.t("Mulai dari templat", "Start from a template"),
                templates,
                ctx.t("Templat jawaban", "Answer templates"),
                listed,
                ctx.t("Jawaban untuk pelapor", "Answer to the complainant"),
                ctx.t("Katakan apa yang dilakukan, kapan, dan oleh siapa. Tampil di halaman pelacakan.", "Say what was done, when and by whom. Shown on the tracking page."),
                ctx.t("Catatan internal", "Internal note"),
                ctx.t("Tidak wajib; hanya untuk petugas.", "Optional; officers only.")
            )
        }
        Action::Complete => h!(
            "<label for=\"complete-report\">{}<span class=\"hint\">{}</span></label><textarea id=\"complete-report\" name=\"report\" maxlength=\"5000\" required></textarea>",
            ctx.t("Laporan tindak lanjut selesai", "Report of the follow-up done"),
            ctx.t(
                "Apa yang sudah dikerjakan, oleh siapa, kapan, dan hasilnya. Tampil di halaman pelacakan; kasus ditutup setelah masa tunggu bila pelapor tidak keberatan.",
                "What was done, by whom, when, and the result. Shown on the tracking page; the case closes after a quiet period unless the complainant objects."
            )
        ),
        Action::Forward => h!(
            "<label for=\"forward-reason\">{}<span class=\"hint\">{}</span></label><textarea id=\"forward-reason\" name=\"reason\" maxlength=\"1000\" required></textarea>\
<label for=\"forward-unit\">{}</label>{}",
            ctx.t("Alasan pengalihan (wajib)", "Why forward it (required)"),
            ctx.t("Untuk koordinator; tidak ditampilkan kepada publik.", "For the coordinator; not shown to the public."),
            ctx.t("Usulan instansi yang berwenang", "Suggested agency"),
            unit_select(ctx, "suggested_unit", "forward-unit", None, ctx.t("— Tidak tahu —", "— Don't know —"))
        ),
        Action::Reopen => h!(
            "<label for=\"reopen-reason\">{}</label><textarea id=\"reopen-reason\" name=\"reason\" maxlength=\"1000\" required></textarea>",
            ctx.t("Alasan", "Reason")
        ),
        _ => Html::empty(),
    };
    let danger = matches!(action, Action::Reject | Action::MarkDuplicate);
    h!(
        "<form method=\"post\" action=\"/petugas/kasus/{}\" class=\"card\" id=\"aksi-{}\"><h3>{}</h3>{}<input type=\"hidden\" name=\"action\" value=\"{}\">{}\
<div class=\"actions\"><button type=\"submit\"{}>{}</button></div></form>",
        ticket,
        code,
        action_label(ctx, action),
        ctx.csrf_field(),
        code,
        fields,
        Html::when(danger, " class=\"danger\""),
        action_label(ctx, action)
    )
}

/// The unit's answer templates for the case's category, from casework; the built-in
/// skeletons when casework has none to offer (or does not serve them yet).
async fn answer_templates(ctx: &Ctx, token: &str, ticket: &str) -> Vec<(String, String)> {
    let reply = Call::get(Api::Casework, format!("/api/v1/cases/{ticket}/answer-templates"))
        .bearer(token)
        .send(ctx.lang)
        .await;
    let from_casework: Vec<(String, String)> = match reply {
        Ok(r) if r.ok() => r.json["templates"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| Some((t["title"].as_str()?.to_string(), t["text"].as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec![],
    };
    if from_casework.is_empty() {
        ANSWER_TEMPLATES.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
    } else {
        from_casework
    }
}

fn actor(ctx: &Ctx, a: &Actor) -> String {
    match a {
        Actor::System => ctx.t("Sistem", "System").into(),
        Actor::Complainant => ctx.t("Pelapor", "Complainant").into(),
        Actor::Officer { id } => id.clone(),
    }
}

pub async fn case_page(ctx: &mut Ctx, raw: &str, error: Option<(u16, String)>) -> Result<Page, PageError> {
    let ticket = Ticket::parse(raw).map_err(|_| PageError::not_found(ctx.lang))?;
    let principal = match whoami(ctx).await? {
        Ok(p) => p,
        Err(redirect) => return Ok(redirect),
    };
    let token = ctx.session().unwrap_or_default().to_string();
    let reply =
        Call::get(Api::Casework, format!("/api/v1/cases/{ticket}")).bearer(&token).send(ctx.lang).await?;
    match reply.status {
        200 => {}
        401 => return Ok(to_sign_in(ctx)),
        _ => return Err(reply.into_error(ctx.lang)),
    }
    let mut value = reply.json;
    let deadline = value["deadline"].take();
    if let Some(obj) = value.as_object_mut() {
        obj.remove("deadline");
        obj.insert("tracking_secret_sha256".into(), json!(""));
    }
    let case: Complaint = serde_json::from_value(value)
        .map_err(|e| PageError::unavailable(ctx.lang, format!("case {ticket} from casework: {e}")))?;
    let directory = ctx.directory();
    let t = ticket.to_string();

    let flash = match ctx.query("ok") {
        Some(code) => ACTIONS
            .iter()
            .find(|a| a.code() == code)
            .map(|a| {
                h!(
                    "<div class=\"notice\" role=\"status\">{}: {}</div>",
                    ctx.t("Tersimpan", "Saved"),
                    action_label(ctx, *a)
                )
            })
            .unwrap_or_default(),
        None => Html::empty(),
    };
    let (status, err) = match &error {
        Some((s, m)) => (*s, h!("<div class=\"error\" role=\"alert\" tabindex=\"-1\">{}</div>", m)),
        None => (200, Html::empty()),
    };
    let due = match deadline["due"].as_str() {
        Some(d) => h!(
            "{} <span class=\"muted\">({})</span>{}",
            when(d),
            deadline["step"]
                .as_str()
                .and_then(ntbcare_domain::sla::Step::parse)
                .map(|s| s.label().get(ctx.lang).to_string())
                .unwrap_or_default(),
            Html::when(
                deadline["overdue"].as_bool() == Some(true),
                " <span class=\"badge overdue\">!</span>"
            )
        ),
        None => h!("—"),
    };
    let overdue_text = if deadline["overdue"].as_bool() == Some(true) {
        h!(
            "<p class=\"error\">{}</p>",
            ctx.t("Pengaduan ini melewati batas waktu.", "This complaint is overdue.")
        )
    } else {
        Html::empty()
    };
    let privacy = match case.privacy {
        Privacy::Public => ctx.t("Publik", "Public"),
        Privacy::Anonymous => ctx.t(
            "Anonim — identitas pelapor tidak diberikan",
            "Anonymous — the complainant's identity is withheld",
        ),
        Privacy::Confidential => ctx.t(
            "Rahasia — identitas pelapor tidak diberikan; isi tidak tampil kepada publik",
            "Confidential — identity withheld; content hidden from the public",
        ),
    };
    let reporter = case
        .reporter_name
        .as_ref()
        .map(|n| h!("<dt>{}</dt><dd>{}</dd>", ctx.t("Pelapor", "Complainant"), n.as_str()));
    // Photos are shown where the officer reads the case (intake serves the cleaned file, same
    // origin, so the page's `img-src 'self'` allows it); other files stay links. Intake gives
    // a confidential complaint's files only with the complainant's tracking code, so those are
    // named, not shown.
    let confidential = case.privacy == Privacy::Confidential;
    let attachments: Html = case
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let href = format!("/api/v1/complaints/{t}/attachments/{}", i + 1);
            let mime = a.mime_type.clone().unwrap_or_else(|| a.kind.clone());
            let label = format!("{} {}", ctx.t("Lampiran", "Attachment"), i + 1);
            if confidential {
                h!("<li>{} <span class=\"muted\">{}</span></li>", label, mime)
            } else if mime.starts_with("image/") {
                h!(
                    "<li><a href=\"{}\"><img src=\"{}\" alt=\"{} {}\" loading=\"lazy\"></a></li>",
                    href.as_str(),
                    href.as_str(),
                    ctx.t("Foto dari pelapor", "Photo from the complainant"),
                    i + 1
                )
            } else {
                h!(
                    "<li><a href=\"{}\">{}</a> <span class=\"muted\">{}</span></li>",
                    href.as_str(),
                    label,
                    mime
                )
            }
        })
        .collect();
    let attachments = if case.attachments.is_empty() {
        Html::empty()
    } else {
        h!(
            "<h3>{}</h3><ul class=\"photos\" id=\"lampiran\">{}</ul>",
            ctx.t("Lampiran", "Attachments"),
            attachments
        )
    };
    let attachments = if confidential && !case.attachments.is_empty() {
        let mut a = attachments;
        a.push(h!(
            "<p class=\"muted\">{}</p>",
            ctx.t(
                "Lampiran pengaduan rahasia hanya dapat dibuka dengan kode pelacak pelapor.",
                "A confidential complaint's attachments open only with the complainant's tracking code."
            )
        ));
        a
    } else {
        attachments
    };
    let follow_ups: Html = case
        .case
        .follow_ups
        .iter()
        .map(|f| {
            h!(
                "<li><span class=\"muted\">{}</span><br>{}</li>",
                when(&f.at.to_rfc3339_wita()),
                f.text.clone()
            )
        })
        .collect();
    let follow_ups = if case.case.follow_ups.is_empty() {
        Html::empty()
    } else {
        h!(
            "<h2>{}</h2><ol class=\"timeline\">{}</ol>",
            ctx.t("Keterangan tambahan dari pelapor", "More from the complainant"),
            follow_ups
        )
    };
    let answers: Html = case
        .case
        .answers
        .iter()
        .map(|a| {
            h!(
                "<article class=\"card\"><h3>{} <span class=\"muted\">· {}</span></h3><p>{}</p></article>",
                unit_name(ctx, a.unit.as_str()),
                when(&a.at.to_rfc3339_wita()),
                a.text.as_str()
            )
        })
        .collect();
    let answers = if case.case.answers.is_empty() {
        Html::empty()
    } else {
        h!("<h2>{}</h2>{}", ctx.t("Jawaban", "Answers"), answers)
    };
    let history: Html = case
        .history
        .iter()
        .map(|e| {
            h!(
                "<tr><td class=\"nowrap\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                when(&e.at.to_rfc3339_wita()),
                actor(ctx, &e.actor),
                action_label(ctx, e.action),
                e.to.label().get(ctx.lang),
                e.public_note.clone(),
                e.internal_note.as_ref().map(|n| h!(
                    "<div class=\"internal\">{}: {}</div>",
                    ctx.t("Internal", "Internal"),
                    n.as_str()
                ))
            )
        })
        .collect();
    let offers: Vec<Action> =
        ACTIONS.iter().copied().filter(|a| offered(&principal, &case, *a, directory)).collect();
    let templates =
        if offers.contains(&Action::Respond) { answer_templates(ctx, &token, &t).await } else { vec![] };
    let forms: Html = offers.iter().map(|a| action_form(ctx, &t, *a, &case, &templates)).collect();
    let actions = if forms.as_str().is_empty() {
        h!(
            "<p class=\"muted\">{}</p>",
            if principal.role == Role::Inspectorate {
                ctx.t("Tampilan baca saja.", "Read-only view.")
            } else {
                ctx.t(
                    "Tidak ada tindakan yang dapat Anda ambil pada status ini.",
                    "There is nothing you can do at this status.",
                )
            }
        )
    } else {
        h!("<h2>{}</h2>{}", ctx.t("Tindakan", "Actions"), forms)
    };
    let rating = case.case.rating.as_ref().map(|r| {
        h!(
            "<dt>{}</dt><dd>{}/5 · {}{}</dd>",
            ctx.t("Penilaian pelapor", "Complainant's rating"),
            r.score,
            match r.resolved {
                ntbcare_domain::complaint::Resolution::Yes => ctx.t("selesai", "solved"),
                ntbcare_domain::complaint::Resolution::Partly => ctx.t("sebagian", "partly"),
                ntbcare_domain::complaint::Resolution::No => ctx.t("tidak selesai", "not solved"),
            },
            r.comment.as_ref().map(|c| h!(" — {}", c.as_str()))
        )
    });
    let body = h!(
        "<p><a href=\"/petugas\">← {}</a></p><h1>{} <span class=\"nowrap\">{}</span></h1>{}{}{}\
<section class=\"card\"><dl class=\"facts\"><dt>{}</dt><dd><span class=\"status\">{}</span></dd><dt>{}</dt><dd>{}</dd>\
<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>{}{}</dl></section>\
<section class=\"card\"><h2>{}</h2>{}<p class=\"description\">{}</p>{}</section>{}{}{}\
<h2>{}</h2><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>{}</tbody></table></div>",
        ctx.t("Kembali ke antrean", "Back to the queue"),
        ctx.t("Pengaduan", "Complaint"),
        t.as_str(),
        flash,
        err,
        overdue_text,
        ctx.t("Status", "Status"),
        case.status.label().get(ctx.lang),
        ctx.t("Batas waktu", "Due"),
        due,
        ctx.t("Diterima", "Received"),
        when(&case.received_at.to_rfc3339_wita()),
        ctx.t("Instansi", "Agency"),
        case.unit.as_ref().map(|u| unit_name(ctx, u.as_str())).unwrap_or_else(|| "—".into()),
        ctx.t("Kategori · wilayah", "Category · region"),
        case.category.as_deref().map(|c| category_name(ctx, c)).unwrap_or_else(|| "—".into()),
        h!(" · {}", region_name(ctx, case.location.region_code.as_str())),
        ctx.t("Prioritas", "Priority"),
        case.case.priority.map(|p| p.label().get(ctx.lang).to_string()).unwrap_or_else(|| "—".into()),
        ctx.t("Privasi", "Privacy"),
        privacy,
        reporter,
        rating,
        ctx.t("Isi pengaduan", "The complaint"),
        case.title.as_ref().map(|x| h!("<h3>{}</h3>", x.as_str())),
        case.description.as_str(),
        case.location.address.as_ref().map(|a| h!("<p class=\"muted\">{}: {}</p>", ctx.t("Lokasi", "Location"), a.as_str())),
        h!("{}", attachments),
        follow_ups,
        answers,
        ctx.t("Riwayat lengkap", "Full history"),
        ctx.t("Waktu", "Time"),
        ctx.t("Oleh", "By"),
        ctx.t("Tindakan", "Action"),
        ctx.t("Status", "Status"),
        ctx.t("Catatan", "Notes"),
        history
    );
    let body = h!(
        "<div class=\"case\"><div class=\"case-main\">{}</div><aside class=\"case-actions\">{}</aside></div>",
        body,
        actions
    );
    Ok(ctx.html(status, &format!("{} {t}", ctx.t("Pengaduan", "Complaint")), body))
}

/// The JSON of casework's action API from the form: only the fields the action takes.
fn action_json(form: &Form) -> Option<Value> {
    let action = form.get("action")?;
    let fields: &[&str] = match action {
        "verify" => &["title", "category", "priority", "privacy"],
        "reject" => &["reason"],
        "mark-duplicate" => &["of"],
        "dispatch" => &["unit", "internal_note"],
        "forward" => &["reason", "suggested_unit"],
        "accept" | "close" => &[],
        "request-information" => &["question"],
        "respond" => &["answer", "internal_note"],
        "complete" => &["report", "internal_note"],
        "reopen" => &["reason"],
        _ => return None,
    };
    let mut doc = json!({ "action": action });
    for f in fields {
        if let Some(v) = form.get(f) {
            doc[*f] = json!(v);
        }
    }
    Some(doc)
}

pub async fn act(ctx: &mut Ctx, raw: &str, form: &Form) -> Result<Page, PageError> {
    let ticket = Ticket::parse(raw).map_err(|_| PageError::not_found(ctx.lang))?;
    let Some(token) = ctx.session().map(str::to_string) else { return Ok(ctx.redirect("/petugas/masuk")) };
    let Some(doc) = action_json(form) else {
        return Err(PageError::new(400, ctx.t("Tindakan tidak dikenal.", "Unknown action.")));
    };
    let reply = Call::post(Api::Casework, format!("/api/v1/cases/{ticket}/actions"))
        .bearer(&token)
        .json(&doc)
        .send(ctx.lang)
        .await?;
    match reply.status {
        200 => {
            Ok(ctx.redirect(&format!("/petugas/kasus/{ticket}?ok={}", doc["action"].as_str().unwrap_or(""))))
        }
        401 => Ok(to_sign_in(ctx)),
        400..=499 => {
            let message = reply.error_message().unwrap_or_default();
            case_page(ctx, ticket.as_str(), Some((reply.status, message))).await
        }
        _ => Err(reply.into_error(ctx.lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_takes_only_its_own_fields() {
        let form = Form::from_pairs(&[
            ("action", "respond"),
            ("answer", "Sudah ditambal"),
            ("csrf", "x"),
            ("unit", "dikes"),
        ]);
        assert_eq!(action_json(&form), Some(json!({"action": "respond", "answer": "Sudah ditambal"})));
        assert_eq!(action_json(&Form::from_pairs(&[("action", "escalate")])), None);
    }

    #[test]
    fn the_desk_offers_what_the_role_and_status_allow() {
        let directory = Directory::seed();
        let mut case = ntbcare_domain::casework::tests_support::complaint(Ticket::number(2026, 5).unwrap());
        let coordinator = Principal { username: "k".into(), role: Role::ProvincialCoordinator, unit: None };
        let unit = Principal {
            username: "m".into(),
            role: Role::LiaisonOfficer,
            unit: ntbcare_domain::directory::UnitId::parse("pemkot-mataram").ok(),
        };
        let inspector = Principal { username: "i".into(), role: Role::Inspectorate, unit: None };
        let offers = |p: &Principal, c: &Complaint| -> Vec<&str> {
            ACTIONS.iter().filter(|a| offered(p, c, **a, &directory)).map(|a| a.code()).collect()
        };
        assert_eq!(offers(&coordinator, &case), ["verify", "reject", "mark-duplicate"]);
        assert!(offers(&unit, &case).is_empty());
        case.status = ntbcare_domain::lifecycle::CaseStatus::InProgress;
        assert_eq!(offers(&unit, &case), ["request-information", "respond", "forward"]);
        assert!(offers(&inspector, &case).is_empty());
    }
}
