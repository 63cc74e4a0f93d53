//! The follow-up simulation (issue #18, "Done when"): a diligent, a late and a negligent unit
//! over a year of `as_of` sweeps, through the built casework and reporting components.
//!
//! Officers act at the real time; the sweep is run `as_of` later and later moments, so a
//! unit that acts only after some sweeps is a unit that acted late. After every sweep the
//! cases themselves are read back and checked: none orphaned (every open case is in its
//! unit's queue), none past the late point of its step without every level raised, none
//! closed without the unit's completion report or the complainant's confirmation. At the
//! end the follow-up rate the reports give equals the one counted from the cases' own
//! histories.

use ntbcare_domain::clock::days_from_civil;
use ntbcare_tests::{rfc3339_days_from_now, Reply, TestApp, TEST_ADMIN_TOKEN};
use serde_json::{json, Value};

const PASSWORD: &str = "kata-sandi-panjang";

/// (unit, liaison officer) for the diligent, late and negligent unit.
const DILIGENT: (&str, &str) = ("pemkot-mataram", "mataram");
const LATE: (&str, &str) = ("dikes", "dikes");
const NEGLIGENT: (&str, &str) = ("pupr", "pupr");

const ANSWER: &str =
    "Petugas sudah meninjau lokasi dan menjadwalkan perbaikan oleh tim lapangan pekan depan.";
const REPORT: &str =
    "Tim lapangan menambal dan meratakan jalan di lokasi pada hari Senin 2 Maret, diperiksa lurah setempat.";

struct Sim {
    app: TestApp,
    coordinator: String,
    lead: String,
    officers: Vec<(&'static str, String)>,
}

struct Case {
    ticket: String,
    secret: String,
    unit: &'static str,
}

impl Sim {
    fn open() -> Sim {
        let app = TestApp::spawn().unwrap();
        for (username, role, unit) in [
            ("koordinator", "provincial-coordinator", None),
            ("pimpinan", "leadership", None),
            (DILIGENT.1, "liaison-officer", Some(DILIGENT.0)),
            (LATE.1, "liaison-officer", Some(LATE.0)),
            (NEGLIGENT.1, "liaison-officer", Some(NEGLIGENT.0)),
        ] {
            let body = json!({"username": username, "name": username.to_uppercase(), "role": role,
                              "unit": unit, "password": PASSWORD});
            let r = app.post_json_as(TEST_ADMIN_TOKEN, "/api/v1/officers", &body).unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let coordinator = app.sign_in("koordinator", PASSWORD);
        let lead = app.sign_in("pimpinan", PASSWORD);
        let officers = [DILIGENT, LATE, NEGLIGENT]
            .into_iter()
            .map(|(unit, username)| (unit, app.sign_in(username, PASSWORD)))
            .collect();
        Sim { app, coordinator, lead, officers }
    }

    fn officer(&self, unit: &str) -> &str {
        &self.officers.iter().find(|(u, _)| *u == unit).unwrap().1
    }

    fn act(&self, token: &str, ticket: &str, action: Value) -> Reply {
        let r = self.app.post_json_as(token, &format!("/api/v1/cases/{ticket}/actions"), &action).unwrap();
        assert_eq!(r.status, 200, "{action} on {ticket}: {}", r.body);
        r
    }

    /// A complaint verified and dispatched to `unit`, accepted by it.
    fn dispatched(&self, unit: &'static str, n: usize) -> Case {
        let body = json!({"description": format!("Jalan rusak nomor {n} di depan pasar, berlubang dan tergenang"),
                          "region_code": "52.71", "category": "infrastruktur", "privacy": "anonymous"});
        let r = self.app.post_json("/api/v1/complaints", &body).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json().unwrap();
        let case = Case {
            ticket: v["ticket"].as_str().unwrap().to_string(),
            secret: v["tracking_secret"].as_str().unwrap().to_string(),
            unit,
        };
        self.act(&self.coordinator, &case.ticket, json!({"action": "verify"}));
        self.act(&self.coordinator, &case.ticket, json!({"action": "dispatch", "unit": unit}));
        self.act(self.officer(unit), &case.ticket, json!({"action": "accept"}));
        case
    }

    fn answer(&self, c: &Case, inspection: bool) {
        let body = json!({"action": "respond", "answer": ANSWER, "field_inspection": inspection});
        self.act(self.officer(c.unit), &c.ticket, body);
    }

    fn complete(&self, c: &Case) {
        self.act(self.officer(c.unit), &c.ticket, json!({"action": "complete", "report": REPORT}));
    }

    fn rate(&self, c: &Case, score: u8, resolved: &str) -> Value {
        let r = ntbcare_tests::TestApp::post_raw(
            &self.app,
            &format!("/api/v1/complaints/{}/rating", c.ticket),
            "application/json",
            json!({"score": score, "resolved": resolved}).to_string().as_bytes(),
            &[("x-tracking-secret", &c.secret)],
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().unwrap()
    }

    fn sweep(&self, days: i64) -> i64 {
        let as_of = rfc3339_days_from_now(days);
        let r = self
            .app
            .post_json_as(TEST_ADMIN_TOKEN, &format!("/api/v1/cases/sweep?as_of={as_of}"), &json!({}))
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        millis(&as_of)
    }

    fn case(&self, ticket: &str) -> Value {
        self.app.get_as(&self.coordinator, &format!("/api/v1/cases/{ticket}")).unwrap().json().unwrap()
    }

    fn queue(&self, unit: &str) -> Vec<String> {
        let v = self.app.get_as(self.officer(unit), "/api/v1/cases").unwrap().json().unwrap();
        v["cases"].as_array().unwrap().iter().map(|c| c["ticket"].as_str().unwrap().to_string()).collect()
    }

    /// The three checks of the issue, on every case, after a sweep as of `as_of` (ms).
    fn check_invariants(&self, cases: &[Case], as_of: i64, when: &str) {
        let queues: Vec<(&str, Vec<String>)> =
            [DILIGENT.0, LATE.0, NEGLIGENT.0].into_iter().map(|u| (u, self.queue(u))).collect();
        for c in cases {
            let v = self.case(&c.ticket);
            let status = v["status"].as_str().unwrap();
            let history = v["history"].as_array().unwrap();
            if status == "closed" {
                assert!(completed(&v), "{when}: {} closed without completion or confirmation: {v}", c.ticket);
                continue;
            }
            let queue = &queues.iter().find(|(u, _)| *u == c.unit).unwrap().1;
            assert!(queue.contains(&c.ticket), "{when}: {} ({status}) is in nobody's queue", c.ticket);
            let deadline = &v["deadline"];
            let late_at = millis(deadline["late_at"].as_str().unwrap());
            if as_of > late_at {
                let step = deadline["step"].as_str().unwrap();
                assert_eq!(
                    v["case"]["escalation"],
                    json!([step, "late"]),
                    "{when}: {} not escalated: {v}",
                    c.ticket
                );
                // Every level is in the history, in order, for this step.
                let notes: Vec<&str> = history
                    .iter()
                    .filter(|e| e["action"] == "escalate")
                    .filter_map(|e| e["internal_note"].as_str())
                    .filter(|n| n.contains(&format!("({step};")))
                    .collect();
                let levels: Vec<&str> = ["Peringatan", "Melewati tenggat", "Terlambat"]
                    .into_iter()
                    .filter(|l| notes.iter().any(|n| n.starts_with(l)))
                    .collect();
                assert_eq!(levels.len(), 3, "{when}: {} skipped a level: {notes:?}", c.ticket);
            }
        }
    }
}

/// Whether a case's history ends (of completions, confirmations and reopenings) with the
/// unit's completion report or the complainant's confirmation (a rating that closed it).
fn completed(case: &Value) -> bool {
    let confirmed = |e: &Value| e["action"] == "close" && e["actor"]["kind"] == "complainant";
    case["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["action"] == "complete" || e["action"] == "reopen" || confirmed(e))
        .is_some_and(|e| e["action"] == "complete" || confirmed(e))
}

fn answered(case: &Value) -> bool {
    case["history"].as_array().unwrap().iter().any(|e| e["action"] == "respond")
}

/// Milliseconds since the epoch of an RFC 3339 time (`Z` or `+08:00`), to the second.
fn millis(t: &str) -> i64 {
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    let days = days_from_civil(n(0, 4) as i32, n(5, 7) as u32, n(8, 10) as u32);
    let mut secs = days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19);
    if let Some(offset) = t.get(19..).filter(|o| o.starts_with('+') || o.starts_with('-')) {
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        secs -=
            sign * (offset[1..3].parse::<i64>().unwrap() * 3600 + offset[4..6].parse::<i64>().unwrap() * 60);
    }
    secs * 1000
}

fn period() -> String {
    let from = rfc3339_days_from_now(-2);
    let to = rfc3339_days_from_now(2);
    format!("from={}&to={}", &from[..7], &to[..7])
}

#[test]
fn a_year_of_sweeps_orphans_nothing_escalates_every_level_and_closes_only_what_was_completed() {
    let sim = Sim::open();
    let mut cases = Vec::new();
    // The diligent unit answers and reports every follow-up done at once; the complainant
    // confirms half of them, the rest close by themselves after the quiet period.
    let diligent: Vec<Case> = (0..6).map(|i| sim.dispatched(DILIGENT.0, i)).collect();
    for (i, c) in diligent.iter().enumerate() {
        sim.answer(c, i % 3 == 0);
        sim.complete(c);
        if i % 2 == 0 {
            assert_eq!(sim.rate(c, 5, "yes")["status"], "closed");
        }
    }
    // The late unit answers at once but reports completion only after the sweeps have
    // escalated it; one complainant is not satisfied and the case comes back.
    let late: Vec<Case> = (0..6).map(|i| sim.dispatched(LATE.0, 10 + i)).collect();
    for (i, c) in late.iter().enumerate() {
        sim.answer(c, i == 1);
    }
    // The negligent unit answers some cases and never reports anything done; two
    // complainants confirm anyway ("partly", 4), one is left unanswered entirely.
    let negligent: Vec<Case> = (0..6).map(|i| sim.dispatched(NEGLIGENT.0, 20 + i)).collect();
    for c in &negligent[..5] {
        sim.answer(c, false);
    }
    for c in &negligent[..2] {
        assert_eq!(sim.rate(c, 4, "partly")["status"], "closed");
    }
    cases.extend(diligent);
    cases.extend(late);
    cases.extend(negligent);

    // A year of sweeps, weekly at first, then monthly; the late unit acts after day 45.
    let days = [0, 3, 7, 14, 21, 30, 45, 60, 75, 90, 120, 150, 180, 240, 300, 365];
    for day in days {
        let as_of = sim.sweep(day);
        sim.check_invariants(&cases, as_of, &format!("day {day}"));
        if day == 45 {
            // Escalated to the inspectorate by now; the late unit reports what it did.
            let v = sim.case(&cases[6].ticket);
            assert_eq!(v["case"]["escalation"], json!(["completion", "late"]), "{v}");
            for c in &cases[6..12] {
                sim.complete(c);
            }
            // One complainant says it is not resolved: back to the unit, which answers and
            // completes again.
            let reopened = &cases[7];
            assert_eq!(sim.rate(reopened, 1, "no")["status"], "reopened");
            sim.act(sim.officer(LATE.0), &reopened.ticket, json!({"action": "accept"}));
            sim.answer(reopened, false);
            sim.complete(reopened);
        }
    }

    // Where the year ends: the diligent and late units' cases closed, the negligent unit's
    // unconfirmed ones still open (escalated to the inspectorate, never closed by the sweep).
    let statuses: Vec<(String, String)> = cases
        .iter()
        .map(|c| (c.unit.to_string(), sim.case(&c.ticket)["status"].as_str().unwrap().to_string()))
        .collect();
    for (unit, status) in &statuses[..12] {
        assert_eq!(status, "closed", "{unit}: {statuses:?}");
    }
    let open: Vec<&str> = statuses[12..].iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(open, ["closed", "closed", "responded", "responded", "responded", "in-progress"]);

    // The figures the reports give are the ones the histories give.
    let records: Vec<Value> = cases.iter().map(|c| sim.case(&c.ticket)).collect();
    let followed_up = records.iter().filter(|v| completed(v)).count() as i64;
    let answered_n = records.iter().filter(|v| answered(v)).count() as i64;
    assert_eq!((followed_up, answered_n), (6 + 6 + 2, 6 + 6 + 5));
    let r = sim.app.get_as(&sim.lead, &format!("/api/v1/reports/measures?{}", period())).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let m = &r.json().unwrap()["measures"];
    assert_eq!(m["verified"], 18, "{m}");
    assert_eq!(
        (m["followed_up"].as_i64(), m["answered"].as_i64()),
        (Some(followed_up), Some(answered_n)),
        "{m}"
    );
    let rate = (followed_up as f64 / 18.0 * 10_000.0).round() / 10_000.0;
    assert_eq!(m["follow_up_rate"].as_f64(), Some(rate), "{m}");
    // By unit, too: the negligent unit's answers are not follow-ups.
    let pupr =
        sim.app.get_as(&sim.lead, &format!("/api/v1/reports/measures?unit=pupr&{}", period())).unwrap();
    let pupr = &pupr.json().unwrap()["measures"];
    assert_eq!((pupr["answered"].as_i64(), pupr["followed_up"].as_i64()), (Some(5), Some(2)), "{pupr}");
}
