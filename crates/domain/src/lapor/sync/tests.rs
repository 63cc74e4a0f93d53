//! The sync against a scripted LAPOR! in memory.

use std::cell::{Cell, RefCell};

use super::*;
use crate::casework::tests_support::complaint;
use crate::complaint::{Answer, Privacy};
use crate::directory::UnitId;
use crate::lapor::config::test_config;
use crate::store::MemoryStore;
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Up,
    /// Every call answers 503.
    Unavailable,
    /// Creates take effect but the answer never comes.
    CreateTimesOut,
    /// Every call answers 200 with a body that is not the envelope.
    Malformed,
}

struct Fake {
    mode: Cell<Mode>,
    complaints: RefCell<Vec<Value>>,
    followups: RefCell<Vec<(String, String)>>,
    status: RefCell<String>,
    inbox: RefCell<Vec<Value>>,
    log: RefCell<Vec<String>>,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            mode: Cell::new(Mode::Up),
            complaints: RefCell::new(vec![]),
            followups: RefCell::new(vec![]),
            status: RefCell::new("Belum Terverifikasi".into()),
            inbox: RefCell::new(vec![]),
            log: RefCell::new(vec![]),
        }
    }
    fn calls(&self, prefix: &str) -> usize {
        self.log.borrow().iter().filter(|l| l.starts_with(prefix)).count()
    }
}

fn ok(v: Value) -> Result<WireResponse, LaporError> {
    Ok(WireResponse { status: 200, body: v.to_string().into_bytes() })
}

impl Outside for Fake {
    fn send(&self, r: &WireRequest) -> Result<WireResponse, LaporError> {
        let path = r.url.strip_prefix("https://lapor.example").unwrap().to_string();
        self.log.borrow_mut().push(format!("{} {path}", r.method.as_str()));
        assert!(r.headers.contains(&("token".into(), "rahasia-token".into())));
        match self.mode.get() {
            Mode::Unavailable => return Ok(WireResponse { status: 503, body: b"down".to_vec() }),
            Mode::Malformed => return Ok(WireResponse { status: 200, body: b"<html>".to_vec() }),
            _ => {}
        }
        let data = |d: Value| ok(json!({"results": {"data": d}, "message": "ok"}));
        match (r.method, path.as_str()) {
            (wire::Method::Get, p) if p.starts_with("/masters/institutions") => {
                data(json!([{"id": 5200, "name": "Pemerintah Provinsi Nusa Tenggara Barat"},
                            {"id": 151, "name": "PT PLN (Persero) UID NTB"}]))
            }
            (wire::Method::Get, p) if p.starts_with("/masters/categories") => {
                data(json!([{"id": 436, "name": "Infrastruktur"}]))
            }
            (wire::Method::Get, p) if p.starts_with("/masters/locations") => {
                data(json!([{"id": 34, "name": "Kota Mataram"}]))
            }
            (wire::Method::Post, "/complaints/complaint") => {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                let id = 1000 + self.complaints.borrow().len();
                let mut stored = body.clone();
                stored["id"] = json!(id);
                self.complaints.borrow_mut().push(stored);
                if self.mode.get() == Mode::CreateTimesOut {
                    return Err(LaporError::Timeout("no answer".into()));
                }
                ok(json!({"complaint_id": id, "message": "ok"}))
            }
            (wire::Method::Get, p) if p.starts_with("/complaints/search") => {
                let q = p.split("keyword=").nth(1).unwrap_or("");
                let found: Vec<Value> = self
                    .complaints
                    .borrow()
                    .iter()
                    .filter(|c| c["content"].as_str().unwrap().contains(q))
                    .cloned()
                    .collect();
                data(json!(found))
            }
            (wire::Method::Get, p) if p.ends_with("/complaint") => {
                data(json!({"status_name": *self.status.borrow(), "status_code": 1, "disposition_id": 5200}))
            }
            (wire::Method::Get, p) if p.ends_with("/followups") => {
                let list: Vec<Value> = self
                    .followups
                    .borrow()
                    .iter()
                    .map(|(at, c)| json!({"created_at": at, "content": c}))
                    .collect();
                data(json!(list))
            }
            (wire::Method::Post, "/complaints/followup/add") => {
                let body = String::from_utf8_lossy(&r.body).to_string();
                let content =
                    body.split("name=\"content\"\r\n\r\n").nth(1).unwrap().split("\r\n").next().unwrap();
                self.followups.borrow_mut().push(("02-12-2026 09:00:00".into(), content.to_string()));
                ok(json!({"message": "ok"}))
            }
            (wire::Method::Post, p) if p.ends_with("/reject") => ok(json!({"message": "ok"})),
            (wire::Method::Get, p) if p.starts_with("/complaints/inbox") => data(json!(*self.inbox.borrow())),
            _ => Ok(WireResponse { status: 404, body: b"{}".to_vec() }),
        }
    }
    fn route(&self, _: &Ticket, _: &Submission) -> Decision {
        Decision { unit: UnitId::parse("dikes").ok(), rule_id: "test".into(), suggested_category: None }
    }
    fn secret(&self) -> String {
        "rahasia".into()
    }
}

struct World {
    store: MemoryStore,
    dir: Directory,
    cfg: LaporConfig,
    lapor: Fake,
}

impl World {
    fn new() -> World {
        World {
            store: MemoryStore::new(),
            dir: Directory::seed(),
            cfg: test_config("https://lapor.example"),
            lapor: Fake::new(),
        }
    }
    fn queue(&self, seq: u64, privacy: Privacy) -> Ticket {
        let t = Ticket::number(2026, seq).unwrap();
        let mut c = complaint(t.clone());
        c.privacy = privacy;
        c.unit = UnitId::parse("pemkot-mataram").ok();
        self.store.set(&store_keys::complaint(&t), &serde_json::to_vec(&c).unwrap()).unwrap();
        self.store.set(&store_keys::lapor_pending(&t), b"{}").unwrap();
        t
    }
    fn sync(&self, at: i64) -> SyncReport {
        let ctx = Context {
            store: &self.store,
            directory: &self.dir,
            config: &self.cfg,
            public_base_url: "http://ntb.example",
            now: Timestamp(at),
            limits: Limits::default(),
            tickets: &crate::ticket::TicketKey::for_tests(),
        };
        run(&ctx, &self.lapor).unwrap()
    }
    fn entry(&self, t: &Ticket) -> LedgerEntry {
        ledger::get(&self.store, t).unwrap().unwrap()
    }
    fn case(&self, t: &Ticket) -> Complaint {
        get_json(&self.store, &store_keys::complaint(t)).unwrap().unwrap()
    }
}

const HOUR: i64 = 3600 * 1000;

#[test]
fn a_queued_complaint_is_created_once_with_mapped_ids() {
    let w = World::new();
    let t = w.queue(1, Privacy::Confidential);
    let r = w.sync(0);
    assert_eq!(r.exported, 1, "{r:?}");
    w.sync(10);
    w.sync(2 * HOUR);
    assert_eq!(w.lapor.complaints.borrow().len(), 1);
    let sent = &w.lapor.complaints.borrow()[0];
    assert_eq!((sent["is_secret"].as_bool(), sent["is_anonymous"].as_bool()), (Some(true), Some(true)));
    assert_eq!((sent["category_id"].as_str(), sent["location_id"].as_str()), (Some("436"), Some("34")));
    assert_eq!(
        sent["disposition_id"].as_str(),
        Some("5200"),
        "Kota Mataram has no LAPOR! institution: NTB's"
    );
    let e = w.entry(&t);
    assert_eq!((e.state, e.lapor_id.as_deref()), (State::Linked, Some("1000")));
    assert!(!w.store.exists(&store_keys::lapor_pending(&t)).unwrap());
    // Master data was fetched once and cached.
    assert_eq!(w.lapor.calls("GET /masters/categories"), 1);
}

#[test]
fn a_create_that_timed_out_is_found_by_our_ticket_not_created_again() {
    let w = World::new();
    let t = w.queue(1, Privacy::Anonymous);
    w.lapor.mode.set(Mode::CreateTimesOut);
    let r = w.sync(0);
    assert_eq!((r.exported, r.failures, r.outage), (0, 1, true));
    assert!(matches!(w.entry(&t).state, State::Uncertain { .. }));
    w.lapor.mode.set(Mode::Up);
    // Not before its backoff.
    assert_eq!(w.sync(10).found_by_search, 0);
    let r = w.sync(ledger::backoff_ms(1));
    assert_eq!((r.found_by_search, r.exported), (1, 1), "{r:?}");
    assert_eq!(w.lapor.complaints.borrow().len(), 1);
    assert_eq!(w.lapor.calls("POST /complaints/complaint"), 1);
    assert_eq!(w.entry(&t).lapor_id.as_deref(), Some("1000"));
}

#[test]
fn without_a_search_endpoint_an_unknown_outcome_waits_for_an_administrator() {
    let mut w = World::new();
    w.cfg.paths.search = None;
    let t = w.queue(1, Privacy::Anonymous);
    w.lapor.mode.set(Mode::CreateTimesOut);
    w.sync(0);
    w.lapor.mode.set(Mode::Up);
    w.sync(HOUR);
    let e = w.entry(&t);
    assert_eq!(e.state, State::Review);
    assert!(e.is_failing());
    assert_eq!(w.lapor.calls("POST /complaints/complaint"), 1);
    ledger::update(&w.store, &t, |e| ledger::retry(e, Timestamp(2 * HOUR))).unwrap();
    w.sync(2 * HOUR);
    assert_eq!(w.entry(&t).state, State::Linked);
    assert_eq!(w.lapor.complaints.borrow().len(), 2, "the administrator chose to send it again");
}

#[test]
fn an_outage_backs_off_loses_nothing_and_lists_the_failure() {
    let w = World::new();
    let a = w.queue(1, Privacy::Anonymous);
    let b = w.queue(2, Privacy::Anonymous);
    w.lapor.mode.set(Mode::Unavailable);
    let mut at = 0;
    for n in 1..=3 {
        let r = w.sync(at);
        assert!(r.outage && r.failures == 1, "{r:?}");
        let e = w.entry(&a);
        assert_eq!((e.state.clone(), e.attempts), (State::Queued, n));
        assert_eq!(e.next_check_at, Timestamp(at + ledger::backoff_ms(n)));
        at = e.next_check_at.0;
    }
    assert!(w.entry(&a).is_failing());
    assert!(w.entry(&a).last_error.as_deref().unwrap().contains("503"));
    // The second complaint was never tried during the outage, and is still queued.
    assert!(w.store.exists(&store_keys::lapor_pending(&b)).unwrap());
    w.lapor.mode.set(Mode::Malformed);
    let r = w.sync(at);
    assert!(matches!(w.entry(&a).state, State::Uncertain { .. }), "{r:?}");
    w.lapor.mode.set(Mode::Up);
    let r = w.sync(at + ledger::BACKOFF_MAX_MS);
    assert_eq!(r.exported, 2, "{r:?}");
    assert_eq!(w.lapor.complaints.borrow().len(), 2);
    assert!(!w.entry(&a).is_failing());
}

#[test]
fn statuses_follow_ups_and_answers_travel_both_ways_once() {
    let w = World::new();
    let t = w.queue(1, Privacy::Anonymous);
    w.sync(0);
    // LAPOR! moves and writes; NTB Care answers.
    *w.lapor.status.borrow_mut() = "Dalam Proses".into();
    w.lapor.followups.borrow_mut().push(("01-12-2026 10:00:00".into(), "Mohon foto lokasi".into()));
    let mut c = w.case(&t);
    c.status = CaseStatus::Responded;
    c.case.answers.push(Answer {
        at: Timestamp(5),
        unit: c.unit.clone().unwrap(),
        text: "Jalan sudah ditambal Senin.".into(),
    });
    w.store.set(&store_keys::complaint(&t), &serde_json::to_vec(&c).unwrap()).unwrap();
    let r = w.sync(HOUR);
    assert_eq!((r.statuses_mirrored, r.followups_in, r.answers_out), (1, 1, 1), "{r:?}");
    let c = w.case(&t);
    assert_eq!(c.case.follow_ups[0].text.as_deref(), Some("Mohon foto lokasi"));
    assert!(c
        .history
        .iter()
        .any(|e| e.internal_note.as_deref() == Some("Status di SP4N-LAPOR!: Dalam Proses.")));
    // Everything is in step: a later check sends and records nothing again.
    let r = w.sync(3 * HOUR);
    assert_eq!((r.polled, r.statuses_mirrored, r.followups_in, r.answers_out), (1, 0, 0, 0), "{r:?}");
    assert_eq!(w.lapor.followups.borrow().len(), 2);
    // LAPOR! closes it: the answered case closes here.
    *w.lapor.status.borrow_mut() = "Selesai".into();
    w.sync(5 * HOUR);
    assert_eq!(w.case(&t).status, CaseStatus::Closed);
    let e = w.entry(&t);
    assert_eq!(e.next_check_at, Timestamp(5 * HOUR + ledger::SETTLED_INTERVAL_MS));
    let rep = super::super::reconcile::report(&ledger::all(&w.store).unwrap(), |t| Some(w.case(t)), 0);
    assert_eq!((rep.in_step, rep.pending, rep.failed), (1, 0, 0));
    assert!(rep.items[0].statuses_agree);
}

#[test]
fn a_case_forwarded_to_a_national_unit_goes_through_lapor_reject_once() {
    let w = World::new();
    let t = w.queue(1, Privacy::Anonymous);
    w.sync(0);
    let mut c = w.case(&t);
    c.status = CaseStatus::Forwarded;
    c.unit = UnitId::parse("pln-uid-ntb").ok();
    w.store.set(&store_keys::complaint(&t), &serde_json::to_vec(&c).unwrap()).unwrap();
    assert_eq!(w.sync(HOUR).forwarded, 1);
    assert_eq!(w.sync(3 * HOUR).forwarded, 0);
    assert_eq!(w.lapor.calls("POST /complaints/process/1000/reject"), 1);
    assert_eq!(w.entry(&t).forwarded_to.as_deref(), Some("pln-uid-ntb"));
}

#[test]
fn lapor_complaints_for_ntb_are_imported_once_and_never_exported_back() {
    let w = World::new();
    w.lapor.inbox.borrow_mut().push(json!({"id": 777, "title": "Puskesmas tutup",
        "content": "Puskesmas Ampenan tutup di jam layanan", "category_name": "Kesehatan",
        "location_name": "Kota Mataram", "disposition_id": 5200, "is_secret": 1, "status_name": "Dalam Proses"}));
    w.lapor
        .inbox
        .borrow_mut()
        .push(json!({"id": 778, "title": "Bukan NTB", "content": "Untuk provinsi lain",
        "disposition_id": 9999}));
    let r = w.sync(0);
    assert_eq!(r.imported, 1, "{r:?}");
    w.sync(10);
    w.sync(2 * HOUR);
    let entries = ledger::all(&w.store).unwrap();
    assert_eq!(entries.len(), 1);
    let c = w.case(&entries[0].ticket);
    assert_eq!((c.channel, c.privacy), (Channel::Lapor, Privacy::Confidential));
    assert_eq!(c.external.as_ref().map(|e| e.reference.as_str()), Some("777"));
    assert_eq!(c.unit.as_ref().map(|u| u.as_str()), Some("dikes"));
    assert_eq!(w.lapor.calls("POST /complaints/complaint"), 0, "never sent back");
    assert!(queued_tickets(&w.store).unwrap().is_empty());
}
