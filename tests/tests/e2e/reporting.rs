//! Monitoring and evaluation through the built reporting component: a known scenario driven
//! through the real APIs (intake, casework, ratings, the sweep) and checked against
//! hand-computed figures; tallies against the rebuild; CSV; open data; role limits; and the
//! dashboard in headless Chromium.
//!
//! Durations here are seconds long (everything happens now), so they all fall in the first
//! histogram bucket (≤ 0.1 working day). Working-day durations over weekends and holidays
//! are checked with fixed dates in `ntbcare_domain::measures` (tests.rs), through the same
//! two paths.

use std::time::Duration;

use ntbcare_domain::clock::Timestamp;
use ntbcare_tests::{Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

struct Desk {
    app: TestApp,
}

const PASSWORD: &str = "kata-sandi-panjang";

impl Desk {
    fn open() -> Desk {
        let desk = Desk { app: TestApp::spawn().unwrap() };
        for (username, role, unit) in [
            ("koordinator", "provincial-coordinator", None),
            ("mataram", "liaison-officer", Some("pemkot-mataram")),
            ("dikes", "liaison-officer", Some("dikes")),
            ("kepala-mataram", "unit-head", Some("pemkot-mataram")),
            ("pimpinan", "leadership", None),
            ("inspektur", "inspectorate", None),
        ] {
            let body = json!({"username": username, "name": username.to_uppercase(), "role": role,
                              "unit": unit, "password": PASSWORD});
            let r = desk.app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
        }
        desk
    }

    fn sign_in(&self, username: &str) -> String {
        self.app.sign_in(username, PASSWORD)
    }

    /// Submit; answer (ticket, tracking secret).
    fn submit(&self, body: Value) -> (String, String) {
        let r = self.app.post_json("/api/v1/complaints", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json().unwrap();
        (v["ticket"].as_str().unwrap().to_string(), v["tracking_secret"].as_str().unwrap().to_string())
    }

    fn act(&self, token: &str, ticket: &str, action: Value) {
        let r = self.app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
        assert_eq!(r.status, 200, "{action}: {}", r.body);
    }

    fn rate(&self, ticket: &str, secret: &str, body: Value) {
        let r = self
            .app
            .post_raw(
                &format!("/api/v1/complaints/{ticket}/rating"),
                "application/json",
                body.to_string().as_bytes(),
                &[("x-tracking-secret", secret)],
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }

    fn get(&self, token: &str, path: &str) -> Reply {
        self.app.get_as(token, path).unwrap()
    }
}

const ANSWER: &str =
    "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi.";
/// Indonesian text with everything CSV must quote.
const TITLE_A: &str = "Jalan \"rusak\", berlubang — Desa Sukamulia; Rp 50.000";

fn road(title: Option<&str>) -> Value {
    let mut v = json!({"description": "Jalan berlubang di depan SDN 3 Mataram", "region_code": "52.71",
                       "category": "infrastruktur", "privacy": "anonymous"});
    if let Some(t) = title {
        v["title"] = json!(t);
    }
    v
}

/// The period that holds everything received now, whatever the month boundary in WITA.
fn period() -> String {
    let now = Timestamp(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
    );
    let before = Timestamp(now.0 - 2 * 86_400_000).wita();
    let after = Timestamp(now.0 + 2 * 86_400_000).wita();
    format!("from={:04}-{:02}&to={:04}-{:02}", before.year, before.month, after.year, after.month)
}

/// Six complaints:
/// A verified, dispatched, answered, rated 5 "yes" (closed);
/// B the same but rated 2 "no" (reopened, escalated late by the sweep);
/// C rejected as spam; D (health) dispatched to Dinas Kesehatan, never accepted (escalated);
/// E (Sumbawa) never touched (escalated at verification);
/// F answered and never rated (closed by the sweep 21 days on).
struct Scenario {
    desk: Desk,
    tickets: Vec<String>,
}

fn scenario() -> Scenario {
    let desk = Desk::open();
    let k = desk.sign_in("koordinator");
    let mataram = desk.sign_in("mataram");
    let (a, sa) = desk.submit(road(Some(TITLE_A)));
    let (b, sb) = desk.submit(road(None));
    let (c, _) = desk.submit(road(None));
    let (d, _) = desk.submit(
        json!({"description": "Obat habis di Puskesmas Ampenan sejak sepekan", "region_code": "52.71",
                                    "category": "kesehatan"}),
    );
    let (e, _) = desk.submit(
        json!({"description": "Sampah menumpuk di pasar Seketeng, Sumbawa Besar", "region_code": "52.04",
                                    "category": "lingkungan"}),
    );
    let (f, _) = desk.submit(road(None));
    for t in [&a, &b, &f] {
        desk.act(&k, t, json!({"action": "verify"}));
        desk.act(&k, t, json!({"action": "dispatch", "unit": "pemkot-mataram"}));
        desk.act(&mataram, t, json!({"action": "accept"}));
        desk.act(&mataram, t, json!({"action": "respond", "answer": ANSWER}));
    }
    desk.rate(&a, &sa, json!({"score": 5, "resolved": "yes"}));
    desk.rate(&b, &sb, json!({"score": 2, "resolved": "no", "comment": "Masih berlubang"}));
    desk.act(&k, &c, json!({"action": "reject", "reason": "spam"}));
    desk.act(&k, &d, json!({"action": "verify"}));
    desk.act(&k, &d, json!({"action": "dispatch", "unit": "dikes"}));
    // The sweep, three weeks on: every open case is late; F's answer closes unanswered.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let as_of = Timestamp(now + 21 * 86_400_000).to_rfc3339_wita();
    let r = desk
        .app
        .post_raw(
            &format!("/api/v1/cases/sweep?as_of={}", as_of.replace('+', "%2B")),
            "application/json",
            b"{}",
            &[("authorization", &format!("Bearer {TEST_ADMIN_TOKEN}"))],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    // F's answer closes unanswered, or (with the completion step) waits for the unit to report
    // the follow-up done: the figures checked against this scenario say which.
    assert!(r.json().unwrap()["closed"].as_i64().unwrap() <= 1, "{}", r.body);
    Scenario { desk, tickets: vec![a, b, c, d, e, f] }
}

#[test]
fn every_measure_matches_the_hand_computed_scenario_and_the_rebuild() {
    let s = scenario();
    let desk = &s.desk;
    let lead = desk.sign_in("pimpinan");
    let r = desk.get(&lead, &format!("/api/v1/reports/measures?{}", period()));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json().unwrap();
    assert_eq!(v["source"], "tallies");
    let m = &v["measures"];
    let n = |k: &str| m[k].as_i64().unwrap_or(-1);
    // Received 6; verified A B D F; dispatched the same; answered A B F, all by Kota Mataram,
    // which holds them. Followed up (completed or confirmed by the complainant): A only, of 4
    // verified; B's complainant said "no", F's unit never reported the follow-up done.
    assert_eq!(
        [n("received"), n("verified"), n("dispatched"), n("answered"), n("followed_up")],
        [6, 4, 4, 3, 1],
        "{m}"
    );
    assert_eq!(m["follow_up_rate"], 0.25);
    // Closed A (rated); rejected C; reopened B; open B D E F (F waits for its completion).
    assert_eq!([n("closed"), n("rejected"), n("reopened"), n("reopenings"), n("open")], [1, 1, 1, 1, 4]);
    // Answered within seconds of dispatch: all in time.
    assert_eq!(m["answered_within_deadline"], json!({"count": 3, "of": 3, "share": 1.0}));
    // Seconds: the first bucket, reported as its upper edge, 0.1 working day.
    assert_eq!(m["time_to_verification"]["count"], 4);
    assert_eq!(m["time_to_verification"]["median"], 0.1);
    assert_eq!(m["time_to_verification"]["p90"], 0.1);
    assert_eq!(m["time_to_first_answer"]["count"], 3);
    assert_eq!(m["time_to_first_answer"]["median"], 0.1);
    // Closure: A at once.
    assert_eq!(m["time_to_closure"]["count"], 1);
    assert_eq!(m["time_to_closure"]["median"], 0.1);
    // The sweep escalated B (reopened, now urgent enough), D and E: first swept after their
    // late points, each still told every level, lowest first.
    // F, answered but never reported done, is warned of its completion deadline.
    assert_eq!(m["escalations"], json!({"complaints": 3, "warn": 4, "overdue": 3, "late": 3}));
    let sat = &m["satisfaction"];
    assert_eq!((sat["rated"].as_i64(), sat["mean_rating"].as_f64()), (Some(2), Some(3.5)));
    assert_eq!((sat["not_resolved"].as_i64(), sat["not_resolved_share"].as_f64()), (Some(1), Some(0.5)));
    assert_eq!(sat["distribution"], json!({"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}));
    assert_eq!(m["by_status"]["reopened"], 1);
    assert_eq!(v["backlog"]["open"], 4);

    // By unit and by a combination (computed from the records): the same figures.
    let unit = desk
        .get(&lead, &format!("/api/v1/reports/measures?unit=pemkot-mataram&{}", period()))
        .json()
        .unwrap();
    let both = desk
        .get(&lead, &format!("/api/v1/reports/measures?unit=pemkot-mataram&region=52.71&{}", period()))
        .json()
        .unwrap();
    assert_eq!((unit["source"].as_str(), both["source"].as_str()), (Some("tallies"), Some("records")));
    assert_eq!(unit["measures"], both["measures"]);
    // C, which routing proposed to Kota Mataram, was rejected in triage: never the unit's.
    assert_eq!(unit["measures"]["received"], 3, "A B F");
    let dikes = desk.get(&lead, &format!("/api/v1/reports/measures?unit=dikes&{}", period())).json().unwrap();
    assert_eq!(
        (dikes["measures"]["verified"].as_i64(), dikes["measures"]["followed_up"].as_i64()),
        (Some(1), Some(0))
    );
    let web = desk.get(&lead, &format!("/api/v1/reports/measures?channel=web&{}", period())).json().unwrap();
    assert_eq!(web["measures"], m.clone());

    // The audit: tallies kept by increments equal the rebuild from the records.
    let audit =
        desk.app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/reports/rebuild?dry_run=true", &json!({})).unwrap();
    assert_eq!(audit.status, 200, "{}", audit.body);
    let audit = audit.json().unwrap();
    assert_eq!(
        (audit["complaints"].as_i64(), audit["counters_wrong"].as_i64()),
        (Some(6), Some(0)),
        "{audit}"
    );
    // And the open-case index, kept as each change was recorded, equals its rebuild.
    assert_eq!(audit["open_index"]["queues_wrong"].as_i64(), Some(0), "{audit}");
    assert!(audit["open_index"]["cases"].as_i64().unwrap() >= 1, "{audit}");
    // The summary still answers as before.
    let summary = desk.app.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(summary["total"], 6);
    assert_eq!(summary["by_status"]["closed"], 1);

    // The overdue list names the late cases for the coordinator, without their text.
    let k = desk.sign_in("koordinator");
    let overdue = desk.get(&k, "/api/v1/reports/overdue").json().unwrap();
    assert!(overdue["backlog"]["open"].as_i64().unwrap() == 4);

    // The scorecard lists Kota Mataram, ranked only with enough complaints.
    let card = desk.get(&lead, &format!("/api/v1/reports/scorecard?min=3&{}", period())).json().unwrap();
    let first = &card["units"][0];
    assert_eq!((first["unit"].as_str(), first["rank"].as_i64()), (Some("pemkot-mataram"), Some(1)), "{card}");
    let dikes_row = card["units"].as_array().unwrap().iter().find(|u| u["unit"] == "dikes").unwrap();
    assert!(dikes_row["rank"].is_null(), "one complaint is too few to rank");

    // The printable report.
    let page = desk.get(&lead, "/api/v1/reports/semester");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg") && page.body.contains("Rapor instansi"), "{}", &page.body[..400]);
    let _ = s.tickets;
}

/// A minimal RFC 4180 reader, independent of the code under test.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field, mut quoted) = (vec![], vec![], String::new(), false);
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match (quoted, c) {
            (true, '"') if it.peek() == Some(&'"') => {
                it.next();
                field.push('"')
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if it.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (_, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn csv_round_trips_indonesian_text_and_open_data_hides_small_counts() {
    let s = scenario();
    let desk = &s.desk;
    let lead = desk.sign_in("pimpinan");
    let r = desk.get(&lead, &format!("/api/v1/reports/complaints.csv?{}", period()));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/csv; charset=utf-8"));
    assert!(r.body.starts_with('\u{feff}'), "a byte-order mark for spreadsheets");
    let rows = read_csv(r.body.trim_start_matches('\u{feff}'));
    assert_eq!(&rows[0][..4], ["ticket", "received_at", "month", "channel"]);
    assert_eq!(rows.len(), 7, "a header and six complaints");
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let a = rows.iter().find(|row| row[col("ticket")] == s.tickets[0]).unwrap();
    assert_eq!(a[col("title")], TITLE_A);
    assert_eq!(a[col("unit_name")], "Pemerintah Kota Mataram");
    assert_eq!(a[col("region_name")], "Kota Mataram");
    assert_eq!((a[col("rating")].as_str(), a[col("resolved")].as_str()), ("5", "yes"));
    assert!(!r.body.contains("Jalan berlubang di depan SDN 3 Mataram"), "no descriptions in exports");
    let by_unit = desk.get(&lead, &format!("/api/v1/reports/measures.csv?by=unit&{}", period()));
    let rows = read_csv(by_unit.body.trim_start_matches('\u{feff}'));
    let mataram = rows.iter().find(|r| r[0] == "pemkot-mataram").unwrap();
    assert_eq!((mataram[2].as_str(), mataram[6].as_str()), ("3", "0.3333"));

    // Open data, for anyone: aggregates, small counts withheld, no tickets.
    let open = desk.app.get(&format!("/api/v1/reports/open-data?{}", period())).unwrap();
    assert_eq!(open.status, 200, "{}", open.body);
    assert!(!open.body.contains("NTB-"), "no tickets in open data");
    let v = open.json().unwrap();
    assert_eq!(v["province"]["received"], 6);
    let sumbawa = v["by_region"].as_array().unwrap().iter().find(|r| r["key"] == "52.04").unwrap();
    assert!(sumbawa["received"].is_null() && sumbawa["suppressed"] == true, "{sumbawa}");
    let health = v["by_category"].as_array().unwrap().iter().find(|r| r["key"] == "kesehatan").unwrap();
    assert!(health["received"].is_null(), "one complaint is never published: {health}");
    assert!(v["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["received"].is_null() || r["received"].as_i64() >= Some(5)));
}

/// What leadership and the public read must not mislead: a withheld count reads as withheld
/// (never as 0), periods name the whole year, the triage queue is not ranked as an agency,
/// and the printed report explains its own measures instead of citing a repository file.
#[test]
fn published_figures_say_withheld_name_whole_years_and_rank_only_agencies() {
    let s = scenario();
    let desk = &s.desk;
    let p = period();
    let year = Timestamp(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
    )
    .wita()
    .year;

    // Kota Mataram's verified count (1 to 4) is withheld in open data: its chart row must say
    // so, not draw "– (0 terverifikasi)" (Sumbawa's true zero may still read 0).
    let open = desk.app.get(&format!("/api/v1/reports/open-data?{p}")).unwrap().json().unwrap();
    let withheld: Vec<String> = open["by_region"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verified"].is_null())
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert!(withheld.contains(&"Kota Mataram".to_string()), "the scenario withholds Mataram: {open}");
    let public = desk.app.get(&format!("/api/v1/reports/dashboard?{p}")).unwrap();
    assert_eq!(public.status, 200);
    let chart = &public.body[public.body.find("id=\"region-chart\"").unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    for name in &withheld {
        let row = &chart[chart.find(&format!(">{name}<")).unwrap_or_else(|| panic!("{name} has a row"))..];
        let row = &row[..row.find("</text><text").map(|i| i + 300).unwrap_or(row.len()).min(row.len())];
        assert!(row.contains("disembunyikan"), "a withheld count reads as withheld: {row}");
        assert!(!row.contains("terverifikasi)"), "no false zero for {name}: {row}");
    }
    let english = desk.app.get(&format!("/api/v1/reports/dashboard?lang=en&{p}")).unwrap();
    assert!(english.body.contains("withheld (fewer than 5)"));
    // Switching language keeps the period asked for (and drops the old `lang`).
    let back = format!("href=\"?{}&amp;lang=id\"", p.replace('&', "&amp;"));
    assert!(english.body.contains(&back), "the switch keeps the period: {back}");
    assert!(!english.body.contains("lang=en&amp;"), "no stale lang in the switch");

    // Periods name the whole year ("Jan 26" reads as a day).
    assert!(public.body.contains(&format!(" {year}")), "the period names the year {year}");
    let lead = desk.sign_in("pimpinan");
    let report = desk.get(&lead, "/api/v1/reports/semester");
    assert_eq!(report.status, 200);
    let subtitle = &report.body[report.body.find("Periode penerimaan").unwrap()..];
    let subtitle = &subtitle[..subtitle.find('<').unwrap()];
    assert!(subtitle.matches(&year.to_string()).count() == 2, "{subtitle}");

    // An officer's pages lead back to the desk; the public's to the home page.
    assert!(report.body.contains("href=\"/petugas\""), "a way back to the desk");
    assert!(public.body.contains("href=\"/\"") && !public.body.contains("href=\"/petugas\""));

    // The printed report explains its measures and cites no file of the code base.
    assert!(report.body.contains("id=\"definitions\"") && report.body.contains("Definisi ukuran"));
    assert!(!report.body.contains("docs/") && !report.body.contains(".md"), "no repository paths in print");

    // The triage queue is listed last and never ranked, whatever its figures: a complaint no
    // rule places waits there.
    desk.submit(
        json!({"description": "Saya ingin menyampaikan terima kasih kepada petugas", "region_code": "52.71",
                       "privacy": "anonymous"}),
    );
    let card = desk.get(&lead, &format!("/api/v1/reports/scorecard?min=1&{p}")).json().unwrap();
    let units = card["units"].as_array().unwrap();
    let triage = units
        .iter()
        .position(|u| u["unit"] == "triage")
        .unwrap_or_else(|| panic!("the triage queue is listed: {card}"));
    assert_eq!(triage, units.len() - 1, "{card}");
    assert!(units[triage]["rank"].is_null(), "{card}");
    assert!(
        units[..triage].iter().all(|u| u["rank"].is_number()),
        "with min=1 every agency is ranked: {card}"
    );
}

#[test]
fn each_role_sees_what_it_may() {
    let s = scenario();
    let desk = &s.desk;
    let p = period();
    // The public: open data and the public dashboard, nothing else.
    assert_eq!(desk.app.get(&format!("/api/v1/reports/measures?{p}")).unwrap().status, 401);
    assert_eq!(desk.app.get("/api/v1/reports/complaints.csv").unwrap().status, 401);
    assert_eq!(desk.app.get("/api/v1/reports/semester").unwrap().status, 401);
    let public = desk.app.get("/api/v1/reports/dashboard").unwrap();
    assert_eq!(public.status, 200);
    assert!(public.body.contains("Data Terbuka") && !public.body.contains("id=\"overdue\""));
    assert_eq!(desk.get("not-a-session", "/api/v1/reports/open-data").status, 401);
    // A unit head: their unit only.
    let head = desk.sign_in("kepala-mataram");
    let own = desk.get(&head, &format!("/api/v1/reports/measures?{p}")).json().unwrap();
    assert_eq!(
        (own["filter"]["unit"].as_str(), own["measures"]["received"].as_i64()),
        (Some("pemkot-mataram"), Some(3))
    );
    assert_eq!(desk.get(&head, &format!("/api/v1/reports/measures?unit=dikes&{p}")).status, 403);
    let card = desk.get(&head, &format!("/api/v1/reports/scorecard?{p}")).json().unwrap();
    assert_eq!(card["units"].as_array().unwrap().len(), 1);
    assert_eq!(desk.get(&head, "/api/v1/reports/semester").status, 403);
    let rows = read_csv(
        desk.get(&head, &format!("/api/v1/reports/complaints.csv?{p}")).body.trim_start_matches('\u{feff}'),
    );
    // A, B and F, dispatched to Kota Mataram; never C, which routing proposed to it but the
    // coordinator rejected before any dispatch (it may have been about the unit itself).
    assert_eq!(rows.len(), 4, "a header and the three dispatched to Kota Mataram");
    assert!(!rows.iter().any(|r| r[0] == s.tickets[2]), "an undispatched complaint is not the unit's");
    let page = desk.get(&head, "/api/v1/reports/dashboard");
    assert!(page.body.contains("Pemerintah Kota Mataram") && !page.body.contains("id=\"unit-chart\""));
    // Another unit's liaison officer sees their own.
    let dikes = desk.sign_in("dikes");
    assert_eq!(
        desk.get(&dikes, &format!("/api/v1/reports/measures?{p}")).json().unwrap()["measures"]["received"],
        1
    );
    // Leadership and the inspectorate see everything but do not rebuild.
    for who in ["pimpinan", "inspektur"] {
        let t = desk.sign_in(who);
        assert_eq!(
            desk.get(&t, &format!("/api/v1/reports/measures?{p}")).json().unwrap()["measures"]["received"],
            6
        );
        let r = desk.app.post_json_as(&t, "/api/v1/reports/rebuild", &json!({})).unwrap();
        assert_eq!(r.status, 403, "{who}");
    }
    // The administrator repairs.
    let r = desk.app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/reports/rebuild", &json!({})).unwrap();
    assert_eq!((r.status, r.json().unwrap()["counters_wrong"].as_i64()), (200, Some(0)));
}

// ------------------------------------------------------------------ the browser

/// A WebDriver session on Debian's chromedriver and headless Chromium, driven over the
/// W3C protocol with plain HTTP (and one Chrome DevTools command to send the bearer token).
struct Browser {
    driver: std::process::Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn chromium_present() -> bool {
        std::path::Path::new("/usr/bin/chromium").exists()
            && std::path::Path::new("/usr/bin/chromedriver").exists()
    }

    fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = std::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        for _ in 0..100 {
            if agent.get(&format!("{base}/status")).call().is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,1800",
                     format!("--user-data-dir={}", profile.path().display())]}}}});
        let v: Value = agent.post(&format!("{base}/session")).send_json(caps).unwrap().into_json().unwrap();
        let session = v["value"]["sessionId"].as_str().expect("a session").to_string();
        Browser { driver, base, session, _profile: profile }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let r = match body {
            Some(b) => agent.request(method, &url).send_json(b),
            None => agent.request(method, &url).call(),
        };
        let r = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("webdriver: {e}"),
        };
        r.into_json::<Value>().unwrap()["value"].clone()
    }

    fn bearer(&self, token: &str) {
        self.call("POST", "/goog/cdp/execute", Some(json!({"cmd": "Network.enable", "params": {}})));
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Network.setExtraHTTPHeaders",
                        "params": {"headers": {"Authorization": format!("Bearer {token}")}}})),
        );
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    fn script(&self, js: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": js, "args": []})))
    }

    fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = self.call("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// What the rendered page shows: SVG charts and their bars, and the headline figures.
const INSPECT: &str = "return {
  charts: Array.from(document.querySelectorAll('svg.chart')).map(s => s.id),
  bars: document.querySelectorAll('svg.chart rect.bar').length,
  trendBars: Array.from(document.querySelectorAll('#trend-chart rect.bar')).filter(r => r.getBBox().height > 0).length,
  received: (document.querySelector('#received .v') || {}).textContent,
  rate: (document.querySelector('#follow-up-rate .v') || {}).textContent,
  overdueRows: document.querySelectorAll('#overdue tr').length,
  lang: document.documentElement.lang,
  width: (document.querySelector('#trend-chart') || {getBoundingClientRect: () => ({width: 0})}).getBoundingClientRect().width,
};";

/// Screenshot of a running app's dashboard into `docs/` (for the documentation): run with
/// NTBCARE_BASE_URL and NTBCARE_TOKEN set, e.g. against the benchmark's data.
#[test]
#[ignore]
fn screenshot_of_a_running_dashboard() {
    let base = std::env::var("NTBCARE_BASE_URL").expect("NTBCARE_BASE_URL");
    let token = std::env::var("NTBCARE_TOKEN").unwrap_or_else(|_| TEST_ADMIN_TOKEN.into());
    let b = Browser::start();
    b.bearer(&token);
    b.open(&format!("{base}/api/v1/reports/dashboard"));
    let out = ntbcare_tests::repo_root().join("docs/dashboard.png");
    std::fs::write(&out, b.screenshot()).unwrap();
    eprintln!("wrote {}", out.display());
}

#[test]
fn the_dashboard_renders_charts_and_figures_in_headless_chromium() {
    if !Browser::chromium_present() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "chromium and chromium-driver are required in CI (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!("SKIPPED: /usr/bin/chromium or /usr/bin/chromedriver is missing; apt-get install chromium chromium-driver");
        return;
    }
    let s = scenario();
    let lead = s.desk.sign_in("pimpinan");
    let b = Browser::start();
    b.bearer(&lead);
    b.open(&s.desk.app.url("/api/v1/reports/dashboard"));
    let v = b.script(INSPECT);
    assert_eq!(v["lang"], "id", "{v}");
    for chart in ["trend-chart", "unit-chart", "region-chart", "backlog-chart"] {
        assert!(v["charts"].as_array().unwrap().iter().any(|c| c == chart), "{chart} missing: {v}");
    }
    assert!(v["trendBars"].as_i64().unwrap() >= 3, "bars with height: {v}");
    assert!(v["width"].as_f64().unwrap() > 300.0, "the chart is laid out: {v}");
    assert_eq!(v["received"], "6", "{v}");
    assert_eq!(v["rate"], "25,0%", "{v}");
    // Nothing is overdue today (the sweep looked three weeks ahead): the table has its header.
    assert_eq!(v["overdueRows"], 1, "{v}");
    let png = b.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot");
    std::fs::write(s.desk.app.state_dir().join("dashboard.png"), png).unwrap();

    // English.
    b.open(&s.desk.app.url("/api/v1/reports/dashboard?lang=en"));
    let v = b.script(INSPECT);
    assert_eq!((v["lang"].as_str(), v["rate"].as_str()), (Some("en"), Some("25.0%")), "{v}");

    // The public, without a token, gets the open data view.
    let public = Browser::start();
    public.open(&s.desk.app.url("/api/v1/reports/dashboard"));
    let v = public.script(INSPECT);
    assert_eq!(v["overdueRows"], 0, "{v}");
    assert!(v["charts"].as_array().unwrap().iter().any(|c| c == "trend-chart"), "{v}");
}

// ------------------------------------------------------------------ one "by unit", every filter

/// A health complaint routed to Dinas Kesehatan, forwarded, and re-dispatched to Kota
/// Mataram counts under Kota Mataram in the summary as in the measures (the unit responsible
/// now); the unit routing chose at receipt is its own figure.
#[test]
fn the_summary_counts_a_redispatched_complaint_under_the_unit_now_responsible() {
    let desk = Desk::open();
    let k = desk.sign_in("koordinator");
    let dikes = desk.sign_in("dikes");
    let lead = desk.sign_in("pimpinan");
    let (t, _) = desk.submit(json!({"description": "Obat habis di Puskesmas Ampenan sejak sepekan",
                                    "region_code": "52.71", "category": "kesehatan"}));
    let at_receipt = desk.app.get("/api/v1/reports/summary").unwrap().json().unwrap();
    assert_eq!(at_receipt["by_unit_at_receipt"][0]["unit"], "dikes", "{at_receipt}");
    desk.act(&k, &t, json!({"action": "verify"}));
    desk.act(&k, &t, json!({"action": "dispatch", "unit": "dikes"}));
    desk.act(
        &dikes,
        &t,
        json!({"action": "forward", "reason": "Puskesmas kota, kewenangan Pemkot.",
                                "suggested_unit": "pemkot-mataram"}),
    );
    desk.act(&k, &t, json!({"action": "dispatch", "unit": "pemkot-mataram"}));

    let p = period();
    let s = desk.app.get(&format!("/api/v1/reports/summary?{p}")).unwrap().json().unwrap();
    let units: Vec<(&str, i64)> = s["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["unit"].as_str().unwrap(), u["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(units, vec![("pemkot-mataram", 1)], "{s}");
    assert_eq!(s["by_unit_at_receipt"][0]["unit"], "dikes", "receipt is its own dimension: {s}");
    assert_eq!(s["by_region"][0]["region"], "52.71", "{s}");
    let received = |unit: &str| {
        let m = desk.get(&lead, &format!("/api/v1/reports/measures?unit={unit}&{p}")).json().unwrap();
        m["measures"]["received"].as_i64().unwrap()
    };
    assert_eq!((received("pemkot-mataram"), received("dikes")), (1, 0));
    let filtered = desk.app.get(&format!("/api/v1/reports/summary?unit=dikes&{p}")).unwrap().json().unwrap();
    assert_eq!(filtered["total"], 0, "{filtered}");
}

fn count_of(rows: &Value, key: &str, value: &str) -> i64 {
    rows.as_array().unwrap().iter().filter(|r| r[key] == value).map(|r| r["count"].as_i64().unwrap()).sum()
}

/// Every report reads the same filters and gives the same count of complaints under each:
/// the summary, the measures (tallies or records), the by-month CSV, the per-complaint CSV,
/// the scorecard, open data (when not withheld), the overdue list (only matching cases), and
/// the dashboard and semester report answer.
#[test]
fn every_report_gives_the_same_figures_under_every_filter() {
    let s = scenario();
    let desk = &s.desk;
    let lead = desk.sign_in("pimpinan");
    let p = period();
    // (query, complaints it selects in the scenario)
    let table: [(&str, i64); 11] = [
        ("", 6),
        ("region=52.71", 5),
        ("region=52.04", 1),
        ("channel=web", 6),
        ("category=kesehatan", 1),
        ("category=infrastruktur", 4),
        ("unit=pemkot-mataram", 3),
        ("unit=dikes", 1),
        ("region=52.71&category=infrastruktur", 4),
        ("region=52.71&unit=dikes", 1),
        ("channel=sms", 0),
    ];
    for (q, expected) in table {
        let q = if q.is_empty() { p.clone() } else { format!("{q}&{p}") };
        let summary = desk.get(&lead, &format!("/api/v1/reports/summary?{q}")).json().unwrap();
        assert_eq!(summary["total"], expected, "summary {q}: {summary}");
        for part in ["by_unit", "by_region"] {
            let sum: i64 =
                summary[part].as_array().unwrap().iter().map(|r| r["count"].as_i64().unwrap()).sum();
            assert_eq!(sum, expected, "{part} adds up {q}: {summary}");
        }
        let statuses: i64 =
            summary["by_status"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum();
        assert_eq!(statuses, expected, "by_status adds up {q}");

        let m = desk.get(&lead, &format!("/api/v1/reports/measures?{q}")).json().unwrap();
        assert_eq!(m["measures"]["received"], expected, "measures {q}: {m}");
        assert_eq!(m["measures"]["by_status"], summary["by_status"], "statuses agree {q}");
        if q == p {
            for unit in ["pemkot-mataram", "dikes", "triage"] {
                let one =
                    desk.get(&lead, &format!("/api/v1/reports/measures?unit={unit}&{p}")).json().unwrap();
                assert_eq!(
                    count_of(&summary["by_unit"], "unit", unit),
                    one["measures"]["received"].as_i64().unwrap(),
                    "summary by_unit = measures?unit={unit}: {summary}"
                );
            }
        }

        let monthly = desk.get(&lead, &format!("/api/v1/reports/measures.csv?{q}"));
        assert_eq!(monthly.status, 200, "{q}: {}", monthly.body);
        let rows = read_csv(monthly.body.trim_start_matches('\u{feff}'));
        let received: i64 = rows[1..].iter().map(|r| r[2].parse::<i64>().unwrap()).sum();
        assert_eq!(received, expected, "measures.csv {q}");

        let export = desk.get(&lead, &format!("/api/v1/reports/complaints.csv?{q}"));
        assert_eq!(export.status, 200, "{q}: {}", export.body);
        assert_eq!(
            read_csv(export.body.trim_start_matches('\u{feff}')).len() as i64 - 1,
            expected,
            "complaints.csv {q}"
        );

        let card = desk.get(&lead, &format!("/api/v1/reports/scorecard?min=1&{q}")).json().unwrap();
        let card_received: i64 =
            card["units"].as_array().unwrap().iter().map(|u| u["received"].as_i64().unwrap()).sum();
        assert_eq!(card_received, expected, "scorecard {q}: {card}");

        let open = desk.app.get(&format!("/api/v1/reports/open-data?{q}")).unwrap().json().unwrap();
        match open["province"]["received"].as_i64() {
            Some(n) => assert_eq!(n, expected, "open data {q}"),
            None => assert!((1..5).contains(&expected), "only a small count is withheld {q}: {open}"),
        }

        let filter_only = q.trim_end_matches(&p).trim_end_matches('&');
        let overdue = desk.get(&lead, &format!("/api/v1/reports/overdue?{filter_only}")).json().unwrap();
        for case in overdue["overdue"].as_array().unwrap() {
            for pair in filter_only.split('&').filter(|x| !x.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap();
                if k != "channel" {
                    assert_eq!(case[k].as_str(), Some(v), "overdue {q}: {case}");
                }
            }
        }
        for page in ["dashboard", "semester"] {
            let q = if page == "semester" { filter_only.to_string() } else { q.clone() };
            let r = desk.get(&lead, &format!("/api/v1/reports/{page}?{q}"));
            assert_eq!(r.status, 200, "{page} {q}: {}", r.body);
        }
    }
}

/// A misspelt filter or a value nobody knows is refused with 400 and a JSON body naming it
/// (Indonesian first), never answered with the province-wide figure.
#[test]
fn every_report_refuses_an_unknown_filter_or_a_bad_value() {
    let desk = Desk::open();
    let lead = desk.sign_in("pimpinan");
    for report in [
        "summary",
        "measures",
        "measures.csv",
        "complaints.csv",
        "scorecard",
        "overdue",
        "open-data",
        "open-data.csv",
        "semester",
        "dashboard",
    ] {
        for (query, names) in [
            ("regoin=52.71", "regoin"),
            ("region=99.99", "99.99"),
            ("channel=merpati", "merpati"),
            ("category=sihir", "sihir"),
            ("unit=dinas-khayalan", "dinas-khayalan"),
        ] {
            let r = desk.get(&lead, &format!("/api/v1/reports/{report}?{query}"));
            assert_eq!(r.status, 400, "{report}?{query}: {}", r.body);
            let v = r.json().unwrap_or_else(|_| panic!("{report}?{query}: a JSON body: {}", r.body));
            let message = v["error"]["message"].as_str().unwrap();
            assert!(message.contains(names), "{report}?{query}: says what is wrong: {message}");
            assert!(message.contains("tidak dikenal"), "in Indonesian first: {message}");
        }
    }
    for report in ["summary", "measures", "scorecard", "open-data", "dashboard", "measures.csv"] {
        let r = desk.get(&lead, &format!("/api/v1/reports/{report}?from=2026-13"));
        assert_eq!(r.status, 400, "{report}: {}", r.body);
    }
    // The overdue list is as of now: a period is refused, not ignored.
    let r = desk.get(&lead, "/api/v1/reports/overdue?from=2026-01");
    assert_eq!(r.status, 400, "{}", r.body);
    let r = desk.get(&lead, "/api/v1/reports/scorecard?min=banyak");
    assert_eq!(r.status, 400, "{}", r.body);
}

/// Open data as CSV shows a withheld count as an empty cell marked `disembunyikan = ya`,
/// never as 0; a true zero stays 0.
#[test]
fn the_open_data_csv_shows_withheld_counts_as_withheld() {
    let s = scenario();
    let p = period();
    let r = s.desk.app.get(&format!("/api/v1/reports/open-data.csv?{p}")).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let rows = read_csv(r.body.trim_start_matches('\u{feff}'));
    let head = &rows[0];
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let mataram = rows
        .iter()
        .find(|row| row[col("table")] == "region" && row[col("key")] == "52.71")
        .unwrap_or_else(|| panic!("Kota Mataram has a row: {rows:?}"));
    // Exactly what open data publishes: a withheld count (null) is an empty cell, never 0.
    let open = s.desk.app.get(&format!("/api/v1/reports/open-data?{p}")).unwrap().json().unwrap();
    let json_row = open["by_region"].as_array().unwrap().iter().find(|r| r["key"] == "52.71").unwrap();
    assert!(json_row["verified"].is_null(), "the scenario withholds Mataram's verified count: {open}");
    for field in ["received", "verified", "followed_up", "closed"] {
        let cell = &mataram[col(field)];
        match json_row[field].as_i64() {
            None => assert_eq!(cell, "", "{field} withheld: {mataram:?}"),
            Some(n) => assert_eq!(cell, &n.to_string(), "{field}: {mataram:?}"),
        }
    }
    assert_eq!(mataram[col("disembunyikan")], "ya");
    // Sumbawa's single complaint withheld too; a category nobody used is absent, not 0.
    let sumbawa =
        rows.iter().find(|row| row[col("table")] == "region" && row[col("key")] == "52.04").unwrap();
    assert_eq!((sumbawa[col("received")].as_str(), sumbawa[col("disembunyikan")].as_str()), ("", "ya"));
    let province = rows.iter().find(|row| row[col("table")] == "province").unwrap();
    assert_eq!(province[col("received")], "6");
}
