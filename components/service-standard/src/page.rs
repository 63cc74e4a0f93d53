//! The standard as a page people read on a phone: one column, no tables (a 360-px screen
//! cannot hold one without scrolling sideways), every value escaped, nothing fetched from
//! elsewhere. It renders the same `ServiceStandard` value the JSON answer carries.

use ntbcare_domain::language::Language;
use ntbcare_domain::service_standard::{Label, ServiceStandard, VersionSource};
use ntbcare_platform::html::esc;
use std::fmt::Write;

const STYLE: &str = "*{box-sizing:border-box}\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.5;color:#1a1a1a;background:#fafafa}\
main{max-width:46rem;margin:0 auto;padding:1rem;overflow-wrap:anywhere}\
h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:2px solid #0b6e4f}\
h3{font-size:1rem;margin:0 0 .25rem}\
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;margin:.5rem 0}\
ul{padding-left:1.2rem;margin:.25rem 0}p{margin:.4rem 0}.muted{color:#555;font-size:.9rem}\
.tag{display:inline-block;font-size:.8rem;padding:0 .4rem;border-radius:4px;background:#fff3cd;color:#664d03}\
a{color:#0b6e4f}nav{text-align:right;font-size:.9rem}summary{cursor:pointer}li{margin:.15rem 0}";

/// The whole page in `lang`.
pub fn render(s: &ServiceStandard, lang: Language) -> String {
    let t = |l: &Label| esc(l.get(lang)).into_owned();
    let tr = |id: &'static str, en: &'static str| if lang == Language::Id { id } else { en };
    let mut h = String::with_capacity(16 * 1024);
    let html_lang = if lang == Language::Id { "id" } else { "en" };
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>",
        title = t(&s.title)
    );
    let (other, other_name) =
        if lang == Language::Id { ("en", "English") } else { ("id", "Bahasa Indonesia") };
    let _ = write!(h, "<nav><a href=\"?lang={other}\" hreflang=\"{other}\">{other_name}</a></nav>");
    let _ = write!(h, "<h1>{}</h1>", t(&s.title));
    let effective = match &s.effective_from {
        Some(at) => format!("{} {}", tr("berlaku sejak", "in effect since"), esc(&when(at))),
        None => tr(
            "tanggal berlakunya belum tercatat (lihat bagian Versi)",
            "its effective date is not recorded (see Versions)",
        )
        .to_string(),
    };
    let _ = write!(
        h,
        "<p>{}</p><p class=\"muted\">{} <code>{}</code>, {effective}. <a href=\"/api/v1/service-standard\">JSON</a></p>",
        tr(
            "Standar ini disusun otomatis dari data yang dipakai NTB Care untuk menangani pengaduan, \
             sehingga selalu sama dengan aturan yang berlaku.",
            "This standard is generated from the data NTB Care uses to handle complaints, so it always \
             matches the rules in force."
        ),
        tr("Versi", "Version"),
        esc(&s.version)
    );

    let _ = write!(h, "<h2>{}</h2>", tr("Tahapan dan batas waktu", "Stages and time limits"));
    for stage in &s.stages {
        let _ = write!(
            h,
            "<section class=\"card\"><h3>{}</h3><p class=\"muted\">{}</p><ul>",
            t(&stage.label),
            t(&stage.starts)
        );
        for limit in &stage.limits {
            match &limit.priority_label {
                Some(p) => {
                    let _ = write!(h, "<li>{}: {}</li>", t(p), t(&limit.text));
                }
                None => {
                    let _ = write!(h, "<li>{}</li>", t(&limit.text));
                }
            }
        }
        h.push_str("</ul></section>");
    }
    let _ = write!(
        h,
        "<p class=\"muted\">{}</p>",
        tr(
            "Hari kerja dihitung menurut kalender di bawah, mulai hari berikutnya, sampai pukul 23.59 WITA \
             pada hari terakhir. Waktu berhenti selama menunggu jawaban pelapor.",
            "Working days are counted on the calendar below, from the next day, until 23:59 WITA on the \
             last day. The clock stops while waiting for the complainant's reply."
        )
    );

    let _ = write!(h, "<h2>{}</h2>", tr("Hari kerja dan hari libur", "Working days and days off"));
    let _ = write!(h, "<p>{}: {}.</p>", tr("Hari kerja", "Office days"), esc(&office_days(s, lang)));
    // One folded list per year: the page stays short on a phone, and a year is one tap away.
    let mut years: Vec<&str> = s.calendar.days_off.iter().filter_map(|d| d.date.get(..4)).collect();
    years.dedup();
    for year in years {
        let days: Vec<_> = s.calendar.days_off.iter().filter(|d| d.date.starts_with(year)).collect();
        let _ = write!(
            h,
            "<details class=\"card\"><summary><strong>{}</strong>: {} {}</summary><ul>",
            esc(year),
            days.len(),
            tr("hari libur dan cuti bersama", "holidays and collective-leave days")
        );
        for day in days {
            let _ = write!(
                h,
                "<li>{} — {} ({})",
                esc(&date(&day.date, lang)),
                esc(&day.name),
                t(&day.kind_label)
            );
            if !day.regions.is_empty() {
                let _ = write!(h, ", {}", esc(&day.regions.join(", ")));
            }
            if !day.confirmed {
                let _ = write!(
                    h,
                    " <span class=\"tag\">{}</span>",
                    tr("belum dikonfirmasi", "not yet confirmed")
                );
            }
            h.push_str("</li>");
        }
        h.push_str("</ul></details>");
    }
    if s.calendar.days_off.iter().any(|d| !d.confirmed) {
        let _ = write!(
            h,
            "<p class=\"muted\"><span class=\"tag\">{}</span> {}</p>",
            tr("belum dikonfirmasi", "not yet confirmed"),
            tr(
                "Tanggal ini belum dicocokkan administrator dengan SKB hari libur nasional dan cuti bersama.",
                "An administrator has not yet checked this date against the decree on national holidays \
                 and collective leave."
            )
        );
    }

    let _ = write!(h, "<h2>{}</h2>", tr("Instansi dan yang ditanganinya", "Agencies and what they handle"));
    h.push_str("<ul>");
    for unit in &s.units {
        let handles: Vec<String> = unit.handles.iter().map(|x| t(&x.text)).collect();
        let _ = write!(
            h,
            "<li><strong>{}</strong> <span class=\"muted\">({})</span>: {}</li>",
            esc(&unit.name),
            t(&unit.kind),
            handles.join("; ")
        );
    }
    h.push_str("</ul>");
    let _ = write!(h, "<p>{}</p>", t(&s.unmatched));

    let _ = write!(h, "<h2>{}</h2><ul>", tr("Saluran pengaduan", "Complaint channels"));
    for channel in &s.channels {
        let _ = write!(h, "<li><strong>{}</strong>: {}</li>", t(&channel.name), t(&channel.how));
    }
    h.push_str("</ul>");

    let _ = write!(h, "<h2>{}</h2>", tr("Pilihan kerahasiaan", "Privacy options"));
    for option in &s.privacy {
        let _ = write!(h, "<section class=\"card\"><h3>{}", t(&option.name));
        if option.default {
            let _ = write!(h, " <span class=\"tag\">{}</span>", tr("bawaan", "default"));
        }
        let _ = write!(h, "</h3><p>{}</p></section>", t(&option.protects));
    }

    let _ = write!(h, "<h2>{}</h2><ul>", tr("Versi", "Versions"));
    for v in &s.versions {
        let source = match v.source {
            VersionSource::Seed => tr("bawaan NTB Care", "as shipped with NTB Care"),
            VersionSource::Administrator => tr("diubah administrator", "changed by an administrator"),
        };
        let since = match &v.effective_from {
            Some(at) => format!("{} {}", tr("berlaku sejak", "in effect since"), esc(&when(at))),
            None => tr("tanggal berlaku belum tercatat", "effective date not recorded").to_string(),
        };
        let _ =
            write!(h, "<li>{}: <code>{}</code>, {source}, {since}</li>", t(&v.title), esc(&v.fingerprint));
    }
    h.push_str("</ul></main></body></html>");
    h
}

/// `Senin, Selasa, …` or `Monday, Tuesday, …` (the codes are the English names).
fn office_days(s: &ServiceStandard, lang: Language) -> String {
    if lang == Language::Id {
        return s.calendar.office_days.join(", ");
    }
    let capitalised = s.calendar.office_days_codes.iter().map(|code| {
        let mut chars = code.chars();
        chars.next().map_or_else(String::new, |first| first.to_ascii_uppercase().to_string() + chars.as_str())
    });
    capitalised.collect::<Vec<_>>().join(", ")
}

const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `2026-08-17` → `17 Agustus 2026` / `17 August 2026`; anything else as it is.
fn date(iso: &str, lang: Language) -> String {
    let mut parts = iso.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return iso.to_string();
    };
    let Some(month) = m.parse::<usize>().ok().filter(|m| (1..=12).contains(m)) else {
        return iso.to_string();
    };
    let names = if lang == Language::Id { &MONTHS_ID } else { &MONTHS_EN };
    format!("{} {} {y}", d.trim_start_matches('0'), names[month - 1])
}

/// `2026-12-01T09:00:00+08:00` → `2026-12-01 09:00 WITA`.
fn when(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} WITA"),
        _ => rfc3339.to_string(),
    }
}
