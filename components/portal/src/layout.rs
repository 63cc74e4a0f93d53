//! The frame every page shares: head, skip link, header with the language switch, footer.

use crate::html::Html;
use crate::{assets, Ctx};

pub fn document(ctx: &Ctx, title: &str, body: Html) -> Html {
    let officer_nav = if ctx.session().is_some() {
        h!(
            "<a href=\"/petugas\">{}</a><form method=\"post\" action=\"/petugas/keluar\" class=\"inline-form\">{}<button class=\"secondary\" type=\"submit\">{}</button></form>",
            ctx.t("Meja petugas", "Officer desk"),
            ctx.csrf_field(),
            ctx.t("Keluar", "Sign out")
        )
    } else {
        h!("<a href=\"/petugas/masuk\">{}</a>", ctx.t("Petugas", "Officers"))
    };
    let (other_lang, other_name) = match ctx.lang {
        ntbcare_domain::language::Language::Id => ("en", "English"),
        ntbcare_domain::language::Language::En => ("id", "Bahasa Indonesia"),
    };
    h!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{} · NTB Care</title><link rel=\"stylesheet\" href=\"{}\"><link rel=\"icon\" href=\"{}\">\
<script src=\"{}\" defer></script></head><body{}>\
<a class=\"skip\" href=\"#isi\">{}</a>\
<header class=\"top\"><div class=\"bar\"><a class=\"brand\" href=\"/\"><img src=\"{}\" alt=\"\" width=\"32\" height=\"32\">NTB Care</a>\
<nav class=\"main\" aria-label=\"{}\"><a href=\"/lapor\">{}</a><a href=\"/lacak\">{}</a>{}\
<a class=\"lang\" href=\"{}\" hreflang=\"{}\" lang=\"{}\">{}</a></nav></div></header>\
<main id=\"isi\" tabindex=\"-1\">{}</main>\
<footer><p>{}</p><p><a href=\"{}\">{}</a></p></footer></body></html>",
        ctx.lang.code(),
        title,
        assets::href("portal.css"),
        assets::href("logo.svg"),
        assets::href("portal.js"),
        // Officers' pages use the width of a desktop screen.
        Html::when(ctx.path.starts_with("/petugas"), " class=\"desk\""),
        ctx.t("Langsung ke isi", "Skip to content"),
        assets::href("logo.svg"),
        ctx.t("Menu utama", "Main menu"),
        ctx.t("Buat pengaduan", "File a complaint"),
        ctx.t("Lacak pengaduan", "Track a complaint"),
        officer_nav,
        ctx.switch_language_href(),
        other_lang,
        other_lang,
        other_name,
        body,
        ctx.t(
            "NTB Care — layanan pengaduan publik Pemerintah Provinsi Nusa Tenggara Barat.",
            "NTB Care — the public-complaint service of the Province of West Nusa Tenggara."
        ),
        // The service standard the province holds itself to, in the page's language.
        if ctx.lang == ntbcare_domain::language::Language::En {
            "/standar-pelayanan?lang=en"
        } else {
            "/standar-pelayanan"
        },
        ctx.t("Standar Pelayanan Pengaduan", "Complaint service standard")
    )
}
