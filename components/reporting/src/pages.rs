//! Server-rendered pages: the dashboard (officers and the public) and the printable
//! semi-annual M&E report. Charts are inline SVG drawn here; styles are inline; nothing is
//! loaded from another host, so the pages work on an office network without internet and
//! print as they show. Bahasa Indonesia by default, English with `?lang=en`.

use std::fmt::Write;

use ntbcare_domain::language::Language;
use ntbcare_domain::measures::live::{Backlog, OverdueCase};
use ntbcare_domain::measures::metric;
use ntbcare_domain::measures::open_data::OpenRow;
use ntbcare_domain::measures::read::{DurationStats, MonthRow};
use ntbcare_domain::measures::scorecard::ScoreRow;
use ntbcare_domain::measures::{Measures, Month};

use crate::OpenData;

fn t(lang: Language, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::En => en,
        _ => id,
    }
}

use ntbcare_platform::html::esc;

/// A whole number with the reader's thousands separator.
fn int(lang: Language, n: i64) -> String {
    let digits = n.abs().to_string();
    let sep = if lang == Language::En { ',' } else { '.' };
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A decimal with the reader's decimal mark, rounded half away from zero: the one rounding
/// rule of every page, CSV and JSON figure (the domain rounds the same way), so a mean of
/// 3.125 reads 3,13 everywhere rather than 3,12 here (formatting alone rounds half to even).
fn dec(lang: Language, x: f64, places: usize) -> String {
    let scale = 10f64.powi(places as i32);
    let x = (x * scale).round() / scale;
    let s = format!("{x:.places$}");
    if lang == Language::En {
        s
    } else {
        s.replace('.', ",")
    }
}

fn pct(lang: Language, x: Option<f64>) -> String {
    x.map(|x| format!("{}%", dec(lang, x * 100.0, 1))).unwrap_or_else(|| "–".into())
}

fn opt_dec(lang: Language, x: Option<f64>, places: usize) -> String {
    x.map(|x| dec(lang, x, places)).unwrap_or_else(|| "–".into())
}

fn opt_int(lang: Language, x: Option<i64>) -> String {
    x.map(|n| int(lang, n)).unwrap_or_else(|| t(lang, "<5", "<5").into())
}

const MONTHS_ID: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"];
const MONTHS_EN: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn month_label(lang: Language, m: &str) -> String {
    match Month::parse(m) {
        Some(m) => {
            let names = if lang == Language::En { MONTHS_EN } else { MONTHS_ID };
            // The full year: "Jan 26" reads as the 26th of January.
            format!("{} {}", names[(m.month - 1) as usize], m.year)
        }
        None => m.to_string(),
    }
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;color:#1b2733;background:#f4f6f8}
header{background:#0b5394;color:#fff;padding:14px 24px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:20px;margin:0} header a{color:#fff}
main{padding:16px 24px;max-width:1200px;margin:auto}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:16px;margin:0 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.card{background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .v{font-size:26px;font-weight:700;color:#0b5394} .card .l{font-size:12px;color:#566}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{border-bottom:1px solid #e3e7eb;padding:5px 6px;text-align:left}
td.n,th.n{text-align:right} .muted{color:#667;font-size:12px}
svg text{font-size:11px;fill:#334}
@media print{body{background:#fff} header{background:#fff;color:#000;border-bottom:2px solid #000} header a{display:none}
section{box-shadow:none;border:1px solid #ccc;page-break-inside:avoid} .noprint{display:none}}
";

/// Where a page's header links go: the language switch keeps the page's other parameters
/// (period, semester), and a signed-in officer has a way back to their desk in the portal.
#[derive(Clone, Debug, Default)]
pub struct Nav {
    /// The request's query string without `lang` (raw, as the browser sent it).
    pub query: String,
    pub signed_in: bool,
}

impl Nav {
    /// The navigation of a page asked for with `query` (the raw query string).
    pub fn new(query: &str, signed_in: bool) -> Nav {
        let kept: Vec<&str> =
            query.split('&').filter(|p| !p.is_empty() && *p != "lang" && !p.starts_with("lang=")).collect();
        Nav { query: kept.join("&"), signed_in }
    }

    fn switch_to(&self, code: &str) -> String {
        if self.query.is_empty() {
            format!("?lang={code}")
        } else {
            format!("?{}&lang={code}", self.query)
        }
    }
}

fn layout(lang: Language, nav: &Nav, title: &str, subtitle: &str, body: &str) -> String {
    let switch = match lang {
        Language::En => {
            format!("<a href=\"{}\" hreflang=\"id\">Bahasa Indonesia</a>", esc(&nav.switch_to("id")))
        }
        _ => format!("<a href=\"{}\" hreflang=\"en\">English</a>", esc(&nav.switch_to("en"))),
    };
    let back = if nav.signed_in {
        format!("<a href=\"/petugas\">{}</a> · ", t(lang, "Meja petugas", "Officers' desk"))
    } else {
        format!("<a href=\"/\">{}</a> · ", t(lang, "Beranda NTB Care", "NTB Care home"))
    };
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><header><div><h1>{}</h1><div class=\"muted\" style=\"color:#dde\">{}</div></div>\
<nav class=\"noprint\">{back}{switch}</nav></header><main>{body}</main></body></html>",
        if lang == Language::En { "en" } else { "id" },
        esc(title),
        esc(title),
        esc(subtitle)
    )
}

fn card(label: &str, value: &str, id: &str) -> String {
    format!(
        "<div class=\"card\" id=\"{id}\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>",
        esc(value),
        esc(label)
    )
}

/// One month of the trend chart: received, verified, followed up; `None` is a count the
/// open data withholds (1 to 4), drawn as withheld, never as zero.
struct TrendPoint {
    month: String,
    values: [Option<i64>; 3],
}

fn trend_points(rows: &[MonthRow]) -> Vec<TrendPoint> {
    rows.iter()
        .map(|r| TrendPoint {
            month: r.month.clone(),
            values: [Some(r.received), Some(r.verified), Some(r.followed_up)],
        })
        .collect()
}

/// Grouped vertical bars per month, one colour per series.
fn trend_chart(lang: Language, id: &str, rows: &[TrendPoint]) -> String {
    let series: [(&str, &str); 3] = [
        (t(lang, "Diterima", "Received"), "#0b5394"),
        (t(lang, "Terverifikasi", "Verified"), "#6fa8dc"),
        (t(lang, "Ditindaklanjuti", "Followed up"), "#38761d"),
    ];
    let (w, h, left, bottom, top) = (900.0, 260.0, 44.0, 30.0, 24.0);
    // The axis runs to a multiple of four whole complaints, so that each of its five ticks
    // is a whole number (a top of 1 would print 0, 0, 1, 1, 1).
    let highest = rows.iter().flat_map(|r| r.values.iter().flatten().copied()).max().unwrap_or(0).max(1);
    let max = (4 * ((highest + 3) / 4)) as f64;
    let n = rows.len().max(1) as f64;
    let slot = (w - left - 10.0) / n;
    let bar = (slot * 0.8 / 3.0).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(t(lang, "Tren bulanan", "Monthly trend"))
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = h - bottom - (h - bottom - top) * f64::from(i) / 4.0;
        let _ = write!(s, "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e7eb\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", w - 10.0, left - 4.0, y + 4.0, int(lang, v.round() as i64));
    }
    for (i, r) in rows.iter().enumerate() {
        let x0 = left + slot * i as f64 + slot * 0.1;
        for (k, ((name, colour), value)) in series.iter().zip(r.values).enumerate() {
            let Some(v) = value else {
                let _ = write!(
                    s,
                    "<text class=\"withheld\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"8\"><title>{} {}: {}</title>&lt;5</text>",
                    x0 + bar * k as f64 + bar / 2.0,
                    h - bottom - 3.0,
                    esc(name),
                    esc(&month_label(lang, &r.month)),
                    esc(withheld(lang))
                );
                continue;
            };
            let v = v as f64;
            let bh = (h - bottom - top) * v / max;
            let _ = write!(
                s,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{colour}\"><title>{} {}: {}</title></rect>",
                x0 + bar * k as f64,
                h - bottom - bh,
                esc(name),
                esc(&month_label(lang, &r.month)),
                int(lang, v as i64)
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x0 + bar * 1.5,
            h - bottom + 16.0,
            esc(&month_label(lang, &r.month))
        );
    }
    for (k, (name, colour)) in series.iter().enumerate() {
        let x = left + 170.0 * k as f64;
        let _ = write!(s, "<rect x=\"{x}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"13\">{}</text>", x + 14.0, esc(name));
    }
    s.push_str("</svg>");
    s
}

/// What a withheld count reads as.
fn withheld(lang: Language) -> &'static str {
    t(lang, "disembunyikan (kurang dari 5)", "withheld (fewer than 5)")
}

/// Horizontal bars of a share (0 to 1) per row, with the count it is of; a count of `None`
/// is withheld (open data), and the row says so instead of drawing a bar.
fn share_chart(lang: Language, id: &str, title: &str, rows: &[(String, Option<f64>, Option<i64>)]) -> String {
    let (w, label_w, row_h) = (900.0, 300.0, 20.0);
    let h = row_h * rows.len().max(1) as f64 + 24.0;
    let mut s = String::new();
    if rows.is_empty() {
        let _ = write!(
            s,
            "<p id=\"{id}\" class=\"muted\">{}</p>",
            esc(t(
                lang,
                "Belum ada pengaduan terverifikasi dalam periode ini.",
                "No verified complaints in this period yet."
            ))
        );
        return s;
    }
    let _ = write!(s, "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>", esc(title));
    let bar_w = w - label_w - 120.0;
    for (i, (label, share, of)) in rows.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let Some(of) = of else {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" fill=\"#eef1f4\"/>\
<text class=\"withheld\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                label_w - 6.0,
                y + 13.0,
                esc(label),
                row_h - 6.0,
                label_w + bar_w + 6.0,
                y + 13.0,
                esc(withheld(lang)),
            );
            continue;
        };
        let v = share.unwrap_or(0.0);
        let colour = if v >= 0.8 {
            "#38761d"
        } else if v >= 0.5 {
            "#bf9000"
        } else {
            "#cc0000"
        };
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" fill=\"#eef1f4\"/>\
<rect class=\"bar\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{} ({} {})</text>",
            label_w - 6.0,
            y + 13.0,
            esc(label),
            row_h - 6.0,
            bar_w * v,
            row_h - 6.0,
            esc(label),
            pct(lang, *share),
            label_w + bar_w + 6.0,
            y + 13.0,
            pct(lang, *share),
            int(lang, *of),
            t(lang, "terverifikasi", "verified"),
        );
    }
    let _ = write!(s, "<text x=\"{label_w}\" y=\"{:.1}\" class=\"muted\">0%</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">100%</text></svg>", h - 4.0, label_w + bar_w, h - 4.0);
    s
}

fn backlog_chart(lang: Language, b: &Backlog) -> String {
    let rows: Vec<(String, Option<f64>, i64)> = b
        .by_age
        .iter()
        .map(|band| {
            (
                format!("{} {}", band.label, t(lang, "hari kerja", "working days")),
                Some(if b.open > 0 { band.count as f64 / b.open as f64 } else { 0.0 }),
                band.count as i64,
            )
        })
        .collect();
    let mut s = String::new();
    let (w, row_h) = (900.0, 20.0);
    let h = row_h * rows.len() as f64 + 8.0;
    let _ = write!(s, "<svg id=\"backlog-chart\" class=\"chart\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>", esc(t(lang, "Tunggakan menurut umur", "Backlog by age")));
    for (i, (label, share, count)) in rows.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let _ = write!(
            s,
            "<text x=\"294\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"300\" y=\"{y:.1}\" width=\"{:.1}\" height=\"14\" fill=\"#e69138\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            y + 13.0,
            esc(label),
            480.0 * share.unwrap_or(0.0),
            306.0 + 480.0 * share.unwrap_or(0.0),
            y + 13.0,
            int(lang, *count)
        );
    }
    s.push_str("</svg>");
    s
}

fn days(lang: Language, d: &DurationStats) -> String {
    match d.median {
        Some(m) => format!("{} / {}", dec(lang, m, 1), opt_dec(lang, d.p90, 1)),
        None => "–".into(),
    }
}

fn headline(lang: Language, m: &Measures, backlog: Option<&Backlog>) -> String {
    let mut s = String::from("<div class=\"cards\" id=\"headline\">");
    s += &card(t(lang, "Pengaduan diterima", "Complaints received"), &int(lang, m.received), "received");
    s += &card(t(lang, "Terverifikasi", "Verified"), &int(lang, m.verified), "verified");
    s += &card(
        t(lang, "Tingkat tindak lanjut", "Follow-up rate"),
        &pct(lang, m.follow_up_rate),
        "follow-up-rate",
    );
    s += &card(
        t(lang, "Dijawab tepat waktu", "Answered within deadline"),
        &pct(lang, m.answered_within_deadline.share),
        "in-time",
    );
    s += &card(
        t(lang, "Hari kerja sampai jawaban (median / p90)", "Working days to answer (median / p90)"),
        &days(lang, &m.time_to_first_answer),
        "time-to-answer",
    );
    s += &card(
        t(lang, "Rata-rata penilaian (1–5)", "Mean rating (1–5)"),
        &opt_dec(lang, m.satisfaction.mean_rating, 2),
        "rating",
    );
    s += &card(t(lang, "Selesai", "Closed"), &int(lang, m.closed), "closed");
    if let Some(b) = backlog {
        s += &card(t(lang, "Terbuka sekarang", "Open now"), &int(lang, b.open as i64), "open");
        s += &card(t(lang, "Melewati tenggat", "Overdue"), &int(lang, b.overdue as i64), "overdue-count");
    }
    s.push_str("</div>");
    s
}

fn measures_table(lang: Language, m: &Measures) -> String {
    let rows: Vec<(&str, String)> = vec![
        (t(lang, "Diterima", "Received"), int(lang, m.received)),
        (t(lang, "Terverifikasi", "Verified"), int(lang, m.verified)),
        (t(lang, "Diteruskan ke instansi", "Dispatched"), int(lang, m.dispatched)),
        (t(lang, "Dijawab", "Answered"), int(lang, m.answered)),
        (
            t(lang, "Ditindaklanjuti unit penanggung jawab", "Followed up by the responsible unit"),
            int(lang, m.followed_up),
        ),
        (t(lang, "Tingkat tindak lanjut", "Follow-up rate"), pct(lang, m.follow_up_rate)),
        (
            t(lang, "Dijawab tepat waktu", "Answered within deadline"),
            pct(lang, m.answered_within_deadline.share),
        ),
        (t(lang, "Selesai", "Closed"), int(lang, m.closed)),
        (t(lang, "Ditolak", "Rejected"), int(lang, m.rejected)),
        (t(lang, "Dibuka kembali", "Reopened"), int(lang, m.reopened)),
        (
            t(
                lang,
                "Hari kerja sampai verifikasi (median / p90)",
                "Working days to verification (median / p90)",
            ),
            days(lang, &m.time_to_verification),
        ),
        (
            t(
                lang,
                "Hari kerja sampai jawaban pertama (median / p90)",
                "Working days to first answer (median / p90)",
            ),
            days(lang, &m.time_to_first_answer),
        ),
        (
            t(lang, "Hari kerja sampai selesai (median / p90)", "Working days to closure (median / p90)"),
            days(lang, &m.time_to_closure),
        ),
        (t(lang, "Pengaduan dieskalasi", "Complaints escalated"), int(lang, m.escalations.complaints)),
        (t(lang, "Rata-rata penilaian", "Mean rating"), opt_dec(lang, m.satisfaction.mean_rating, 2)),
        (
            t(lang, "Menilai \"tidak selesai\"", "Rated \"not resolved\""),
            pct(lang, m.satisfaction.not_resolved_share),
        ),
    ];
    let mut s = String::from("<table id=\"measures\">");
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{}</th><td class=\"n\">{}</td></tr>", esc(k), esc(&v));
    }
    s.push_str("</table>");
    s
}

fn shares_of(rows: &[(String, String, Vec<i64>)], limit: usize) -> Vec<(String, Option<f64>, Option<i64>)> {
    let mut v: Vec<(String, Option<f64>, Option<i64>)> = rows
        .iter()
        .filter(|(_, _, t)| t[metric::VERIFIED] > 0)
        .map(|(_, name, t)| {
            (
                name.clone(),
                Some(t[metric::FOLLOWED_UP] as f64 / t[metric::VERIFIED] as f64),
                Some(t[metric::VERIFIED]),
            )
        })
        .collect();
    v.sort_by(|a, b| b.1.unwrap_or(0.0).total_cmp(&a.1.unwrap_or(0.0)).then(b.2.cmp(&a.2)));
    v.truncate(limit);
    v
}

pub struct Dashboard<'a> {
    pub lang: Language,
    pub nav: Nav,
    pub unit_name: Option<String>,
    pub months: &'a [Month],
    pub measures: Measures,
    pub trend: Vec<MonthRow>,
    pub units: Vec<(String, String, Vec<i64>)>,
    pub regions: Vec<(String, String, Vec<i64>)>,
    pub backlog: Backlog,
    pub overdue: Vec<OverdueCase>,
}

fn period_text(lang: Language, months: &[Month]) -> String {
    match (months.first(), months.last()) {
        (Some(a), Some(b)) => format!(
            "{} {} – {}",
            t(lang, "Periode penerimaan", "Received"),
            month_label(lang, &a.to_string()),
            month_label(lang, &b.to_string())
        ),
        _ => String::new(),
    }
}

pub fn dashboard(d: &Dashboard) -> String {
    let lang = d.lang;
    let mut body = String::new();
    body += &headline(lang, &d.measures, Some(&d.backlog));
    let _ = write!(
        body,
        "<section><h2>{}</h2>{}</section>",
        t(lang, "Tren bulanan", "Monthly trend"),
        trend_chart(lang, "trend-chart", &trend_points(&d.trend))
    );
    if !d.units.is_empty() {
        let _ = write!(
            body,
            "<section><h2>{}</h2>{}</section>",
            t(lang, "Tingkat tindak lanjut per instansi", "Follow-up rate by agency"),
            share_chart(
                lang,
                "unit-chart",
                t(lang, "Tingkat tindak lanjut per instansi", "Follow-up rate by agency"),
                &shares_of(&d.units, 25)
            )
        );
    }
    if !d.regions.is_empty() {
        let _ = write!(
            body,
            "<section><h2>{}</h2>{}</section>",
            t(lang, "Tingkat tindak lanjut per kabupaten/kota", "Follow-up rate by regency/city"),
            share_chart(
                lang,
                "region-chart",
                t(lang, "Tingkat tindak lanjut per kabupaten/kota", "Follow-up rate by regency/city"),
                &shares_of(&d.regions, 12)
            )
        );
    }
    let _ = write!(
        body,
        "<section><h2>{}</h2>{}</section>",
        t(lang, "Tunggakan menurut umur", "Backlog by age"),
        backlog_chart(lang, &d.backlog)
    );
    let _ = write!(
        body,
        "<section><h2>{}</h2>{}</section>",
        t(lang, "Ukuran", "Measures"),
        measures_table(lang, &d.measures)
    );
    let _ = write!(
        body,
        "<section><h2>{} ({})</h2><table id=\"overdue\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th></tr>",
        t(lang, "Melewati tenggat", "Overdue"),
        int(lang, d.overdue.len() as i64),
        t(lang, "Tiket", "Ticket"),
        t(lang, "Instansi", "Agency"),
        t(lang, "Tahap", "Step"),
        t(lang, "Tenggat", "Due"),
        t(lang, "Eskalasi", "Escalation"),
        t(lang, "Hari kerja terlambat", "Working days late"),
    );
    for o in d.overdue.iter().take(100) {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&o.ticket),
            esc(&o.unit_name),
            esc(&o.step),
            esc(&o.due[..16.min(o.due.len())].replace('T', " ")),
            esc(o.escalation.label().get(lang)),
            dec(lang, o.working_days_overdue, 2)
        );
    }
    body.push_str("</table></section>");
    let title = match &d.unit_name {
        Some(u) => format!("{} — {u}", t(lang, "Dasbor Pengaduan NTB Care", "NTB Care Complaints Dashboard")),
        None => t(lang, "Dasbor Pengaduan NTB Care", "NTB Care Complaints Dashboard").to_string(),
    };
    layout(lang, &d.nav, &title, &period_text(lang, d.months), &body)
}

fn open_table(lang: Language, id: &str, head: &str, rows: &[OpenRow]) -> String {
    let mut s = format!(
        "<table id=\"{id}\"><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        esc(head),
        t(lang, "Diterima", "Received"),
        t(lang, "Tingkat tindak lanjut", "Follow-up rate"),
        t(lang, "Rata-rata penilaian", "Mean rating"),
    );
    for r in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&r.name),
            opt_int(lang, r.received),
            pct(lang, r.follow_up_rate),
            opt_dec(lang, r.mean_rating, 2)
        );
    }
    s.push_str("</table>");
    s
}

/// The public's dashboard: open data only, small counts withheld.
pub fn public_dashboard(d: &OpenData, lang: Language, nav: &Nav) -> String {
    let p = &d.province;
    let mut body = String::from("<div class=\"cards\" id=\"headline\">");
    body +=
        &card(t(lang, "Pengaduan diterima", "Complaints received"), &opt_int(lang, p.received), "received");
    body += &card(
        t(lang, "Tingkat tindak lanjut", "Follow-up rate"),
        &pct(lang, p.follow_up_rate),
        "follow-up-rate",
    );
    body += &card(
        t(lang, "Dijawab tepat waktu", "Answered within deadline"),
        &pct(lang, p.answered_within_deadline_share),
        "in-time",
    );
    body += &card(
        t(lang, "Rata-rata penilaian (1–5)", "Mean rating (1–5)"),
        &opt_dec(lang, p.mean_rating, 2),
        "rating",
    );
    body.push_str("</div>");
    let trend: Vec<TrendPoint> = d
        .by_month
        .iter()
        .map(|r| TrendPoint { month: r.key.clone(), values: [r.received, r.verified, r.followed_up] })
        .collect();
    let _ = write!(
        body,
        "<section><h2>{}</h2>{}</section>",
        t(lang, "Tren bulanan", "Monthly trend"),
        trend_chart(lang, "trend-chart", &trend)
    );
    let regions: Vec<(String, Option<f64>, Option<i64>)> =
        d.by_region.iter().map(|r| (r.name.clone(), r.follow_up_rate, r.verified)).collect();
    let _ = write!(
        body,
        "<section><h2>{}</h2>{}{}</section>",
        t(lang, "Tingkat tindak lanjut per kabupaten/kota", "Follow-up rate by regency/city"),
        share_chart(lang, "region-chart", t(lang, "Per kabupaten/kota", "By regency/city"), &regions),
        open_table(lang, "regions", t(lang, "Kabupaten/kota", "Regency/city"), &d.by_region)
    );
    let _ = write!(
        body,
        "<section><h2>{}</h2>{}<p class=\"muted\">{}</p></section>",
        t(lang, "Per kategori", "By category"),
        open_table(lang, "categories", t(lang, "Kategori", "Category"), &d.by_category),
        t(
            lang,
            "Data terbuka: hanya agregat, tanpa data pribadi; jumlah 1–4 disembunyikan (<5).",
            "Open data: aggregates only, no personal data; counts of 1–4 are withheld (<5)."
        )
    );
    let months: Vec<Month> = d.by_month.iter().filter_map(|r| Month::parse(&r.key)).collect();
    layout(
        lang,
        nav,
        t(lang, "Data Terbuka Pengaduan NTB Care", "NTB Care Complaints Open Data"),
        &period_text(lang, &months),
        &body,
    )
}

pub struct Semester<'a> {
    pub lang: Language,
    pub nav: Nav,
    pub year: i32,
    pub half: u32,
    pub months: &'a [Month],
    pub measures: Measures,
    pub trend: Vec<MonthRow>,
    pub scorecard: Vec<ScoreRow>,
    pub min_complaints: i64,
    pub regions: Vec<(String, String, Vec<i64>)>,
    pub categories: Vec<(String, String, Vec<i64>)>,
    pub channels: Vec<(String, String, Vec<i64>)>,
    pub generated_at: String,
}

fn breakdown_table(lang: Language, id: &str, head: &str, rows: &[(String, String, Vec<i64>)]) -> String {
    let mut s = format!(
        "<table id=\"{id}\"><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        esc(head),
        t(lang, "Diterima", "Received"),
        t(lang, "Terverifikasi", "Verified"),
        t(lang, "Tindak lanjut", "Follow-up"),
        t(lang, "Tepat waktu", "In time"),
        t(lang, "Penilaian", "Rating"),
    );
    for (_, name, m) in rows.iter().filter(|(_, _, m)| m[metric::RECEIVED] > 0) {
        let ratio = |a: i64, b: i64| (b > 0).then(|| a as f64 / b as f64);
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(name),
            int(lang, m[metric::RECEIVED]),
            int(lang, m[metric::VERIFIED]),
            pct(lang, ratio(m[metric::FOLLOWED_UP], m[metric::VERIFIED])),
            pct(lang, ratio(m[metric::ANSWERED_IN_TIME], m[metric::ANSWERED])),
            opt_dec(lang, ratio(m[metric::RATING_SUM], m[metric::RATED]), 2),
        );
    }
    s.push_str("</table>");
    s
}

/// The printed report's own appendix of what its figures mean: a reader at the coordination
/// meeting has the paper, not the repository (the same definitions as docs/measures.md).
fn definitions(lang: Language) -> String {
    let rows: [(&str, &str, &str, &str); 7] = [
        ("Diterima", "pengaduan yang masuk dalam periode, dari semua kanal.", "Received", "complaints received in the period, from every channel."),
        ("Terverifikasi", "pengaduan yang telah diverifikasi koordinator.", "Verified", "complaints a coordinator has verified."),
        ("Tindak lanjut", "pengaduan terverifikasi yang telah dijawab oleh instansi yang kini bertanggung jawab, dibagi jumlah terverifikasi.", "Follow-up", "verified complaints answered by the agency now responsible for them, divided by those verified."),
        ("Tepat waktu", "pengaduan yang jawaban pertamanya terbit sebelum tenggat tindak lanjut (5 hari kerja sejak disposisi, jeda permintaan informasi tidak dihitung), dibagi jumlah yang dijawab.", "In time", "complaints whose first answer came before the follow-up deadline (5 working days from dispatch, pauses for requested information excluded), divided by those answered."),
        ("Hari kerja", "hari kerja menurut kalender hari libur nasional dan cuti bersama kabupaten/kota pengadu; Sabtu, Minggu dan hari libur tidak dihitung.", "Working days", "working days on the national holiday and collective-leave calendar of the complainant's regency/city; weekends and holidays count nothing."),
        ("Penilaian", "rata-rata nilai 1–5 dari pengadu atas jawaban (penilaian terakhir bila dinilai dua kali).", "Rating", "the mean 1–5 score complainants gave the answer (the last, if rated twice)."),
        ("Pembulatan", "persentase dan rata-rata dibulatkan setengah ke atas; jumlah 1–4 pada data terbuka disembunyikan.", "Rounding", "percentages and means are rounded half up; counts of 1–4 are withheld in open data."),
    ];
    let mut s = format!(
        "<section id=\"definitions\"><h2>{}</h2><table>",
        t(lang, "Definisi ukuran", "Definitions of the measures")
    );
    for (id_term, id_text, en_term, en_text) in rows {
        let _ = write!(
            s,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(t(lang, id_term, en_term)),
            esc(t(lang, id_text, en_text))
        );
    }
    s.push_str("</table></section>");
    s
}

/// The printable semi-annual M&E report for the coordination meeting.
pub fn semester(r: &Semester) -> String {
    let lang = r.lang;
    let mut body = String::new();
    body += &headline(lang, &r.measures, None);
    let _ = write!(
        body,
        "<section><h2>1. {}</h2>{}</section>",
        t(lang, "Ringkasan ukuran", "Summary of measures"),
        measures_table(lang, &r.measures)
    );
    let _ = write!(
        body,
        "<section><h2>2. {}</h2>{}</section>",
        t(lang, "Tren bulanan", "Monthly trend"),
        trend_chart(lang, "trend-chart", &trend_points(&r.trend))
    );
    let _ = write!(
        body,
        "<section><h2>3. {}</h2><p class=\"muted\">{} {}</p><table id=\"scorecard\"><tr><th class=\"n\">#</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        t(lang, "Rapor instansi", "Agency scorecard"),
        t(lang, "Diperingkat bila menerima sekurang-kurangnya", "Ranked when it received at least"),
        int(lang, r.min_complaints),
        t(lang, "Instansi", "Agency"),
        t(lang, "Diterima", "Received"),
        t(lang, "Tindak lanjut", "Follow-up"),
        t(lang, "Tepat waktu", "In time"),
        t(lang, "Hari kerja ke jawaban (rata-rata)", "Working days to answer (mean)"),
        t(lang, "Penilaian", "Rating"),
    );
    for s in &r.scorecard {
        let _ = write!(
            body,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            s.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
            esc(&s.name),
            int(lang, s.received),
            pct(lang, s.follow_up_rate),
            pct(lang, s.answered_within_deadline_share),
            opt_dec(lang, s.mean_days_to_first_answer, 1),
            opt_dec(lang, s.mean_rating, 2),
        );
    }
    body.push_str("</table></section>");
    let _ = write!(
        body,
        "<section><h2>4. {}</h2>{}</section>",
        t(lang, "Per kabupaten/kota", "By regency/city"),
        breakdown_table(lang, "regions", t(lang, "Kabupaten/kota", "Regency/city"), &r.regions)
    );
    let _ = write!(
        body,
        "<section><h2>5. {}</h2>{}</section>",
        t(lang, "Per kategori", "By category"),
        breakdown_table(lang, "categories", t(lang, "Kategori", "Category"), &r.categories)
    );
    let _ = write!(
        body,
        "<section><h2>6. {}</h2>{}</section>",
        t(lang, "Per kanal", "By channel"),
        breakdown_table(lang, "channels", t(lang, "Kanal", "Channel"), &r.channels)
    );
    body += &definitions(lang);
    let _ =
        write!(body, "<p class=\"muted\">{} {}.</p>", t(lang, "Disusun", "Generated"), esc(&r.generated_at),);
    let title = format!(
        "{} {} {}",
        t(
            lang,
            "Laporan Monitoring dan Evaluasi Pengaduan — Semester",
            "Complaints Monitoring and Evaluation Report — Semester"
        ),
        if r.half == 1 { "I" } else { "II" },
        r.year
    );
    layout(lang, &r.nav, &title, &period_text(lang, r.months), &body)
}
