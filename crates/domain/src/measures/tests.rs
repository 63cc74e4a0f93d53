//! A known scenario, hand-computed, checked through both paths: tallies kept by
//! `tally_deltas` as each event happens, and the rebuild from the records.
//!
//! August 2026 in Mataram: Saturday 15 and Sunday 16 are the weekend and Monday 17 is
//! Proklamasi, a national holiday, so Friday 14 16:00 → Tuesday 18 10:00 is
//! 8 h + 10 h = 0.75 working days.

use super::facts::{Context, Dim, Month, PROVINCE};
use super::read::{compute_from_records, read_tallies, total, Filter, Measures};
use super::tally::{apply, rebuild, tally_deltas};
use crate::casework::{apply as act, apply_sweep, assess, rate, tests_support, ActionRequest, RatingRequest};
use crate::clock::Timestamp;
use crate::complaint::{Channel, Complaint, Resolution};
use crate::directory::{Directory, UnitId};
use crate::keys;
use crate::lifecycle::CaseStatus;
use crate::org::{Principal, Role};
use crate::region::RegionCode;
use crate::store::{KeyValue, MemoryStore};
use crate::ticket::Ticket;

fn at(day: u32, hour: u32, minute: u32) -> Timestamp {
    Timestamp::from_wita(2026, 8, day, hour, minute)
}

struct World {
    store: MemoryStore,
    dir: Directory,
    seq: u64,
}

fn coordinator() -> Principal {
    Principal { username: "koordinator".into(), role: Role::ProvincialCoordinator, unit: None }
}

fn liaison(unit: &str) -> Principal {
    Principal { username: format!("lo-{unit}"), role: Role::LiaisonOfficer, unit: UnitId::parse(unit).ok() }
}

const ANSWER: &str =
    "Lubang jalan di depan SDN 3 sudah ditambal oleh tim Dinas PUPR Kota Mataram pada hari Senin pagi.";

impl World {
    fn new() -> World {
        World { store: MemoryStore::new(), dir: Directory::seed(), seq: 0 }
    }

    /// Intake: save the record and add its tallies.
    fn receive(
        &mut self,
        when: Timestamp,
        region: &str,
        category: Option<&str>,
        channel: Channel,
    ) -> Complaint {
        self.seq += 1;
        self.store.increment(&keys::ticket_sequence(2026), 1).unwrap();
        let mut c = tests_support::complaint(Ticket::number(2026, self.seq).unwrap());
        self.store.set(&keys::numbering(2026, self.seq), c.ticket.as_str().as_bytes()).unwrap();
        c.received_at = when;
        c.updated_at = when;
        c.channel = channel;
        c.location.region_code = RegionCode::parse(region).unwrap();
        c.category = category.map(str::to_string);
        if region != "52.71" {
            c.unit = None;
        }
        self.save(None, &c);
        c
    }

    /// Save the record and keep every tally as intake and casework do.
    fn save(&self, before: Option<&Complaint>, after: &Complaint) {
        self.store.set(&keys::complaint(&after.ticket), &serde_json::to_vec(after).unwrap()).unwrap();
        match before {
            None => {
                for k in [keys::tally_status(after.status), keys::tally_channel(after.channel)] {
                    self.store.increment(&k, 1).unwrap();
                }
            }
            Some(b) if b.status != after.status => {
                self.store.increment(&keys::tally_status(b.status), -1).unwrap();
                self.store.increment(&keys::tally_status(after.status), 1).unwrap();
            }
            Some(_) => {}
        }
        apply(&self.store, &tally_deltas(before, after)).unwrap();
    }

    fn act(&self, c: &mut Complaint, by: &Principal, json: &str, when: Timestamp) {
        let before = c.clone();
        act(c, by, ActionRequest::from_json(json.as_bytes()).unwrap(), when, &self.dir).unwrap();
        self.save(Some(&before), c);
    }

    fn rate(&self, c: &mut Complaint, score: u8, resolved: Resolution, when: Timestamp) {
        let before = c.clone();
        rate(c, RatingRequest { score, resolved, comment: None }, when).unwrap();
        self.save(Some(&before), c);
    }
}

/// The scenario; answers the complaints as they end.
fn scenario() -> (World, Vec<Complaint>) {
    let mut w = World::new();
    let k = coordinator();
    let mataram = liaison("pemkot-mataram");
    let dikes = liaison("dikes");

    // A: over the weekend and the holiday; answered in time; rated 5, closed.
    let mut a = w.receive(at(14, 16, 0), "52.71", Some("infrastruktur"), Channel::Web);
    w.act(&mut a, &k, r#"{"action": "verify"}"#, at(18, 10, 0));
    w.act(&mut a, &k, r#"{"action": "dispatch"}"#, at(18, 10, 30));
    w.act(&mut a, &mataram, r#"{"action": "accept"}"#, at(18, 11, 0));
    w.act(&mut a, &mataram, &format!(r#"{{"action": "respond", "answer": "{ANSWER}"}}"#), at(20, 12, 0));
    w.rate(&mut a, 5, Resolution::Yes, at(21, 9, 0));

    // B: routed to triage, dispatched to Dinas Kesehatan, answered late, rated 2: reopened.
    let mut b = w.receive(at(10, 8, 0), "52.01", Some("kesehatan"), Channel::Whatsapp);
    w.act(&mut b, &k, r#"{"action": "verify"}"#, at(10, 14, 0));
    w.act(&mut b, &k, r#"{"action": "dispatch", "unit": "dikes"}"#, at(10, 14, 30));
    w.act(&mut b, &dikes, r#"{"action": "accept"}"#, at(11, 8, 0));
    w.act(&mut b, &dikes, &format!(r#"{{"action": "respond", "answer": "{ANSWER}"}}"#), at(26, 10, 0));
    w.rate(&mut b, 2, Resolution::No, at(27, 9, 0));

    // C: received on Saturday, rejected as spam.
    let mut c = w.receive(at(15, 10, 0), "52.71", Some("infrastruktur"), Channel::Web);
    w.act(&mut c, &k, r#"{"action": "reject", "reason": "spam"}"#, at(18, 9, 0));

    // D: verified in half an hour, dispatched, never accepted: the sweep escalates it late.
    let mut d = w.receive(at(19, 9, 0), "52.03", Some("infrastruktur"), Channel::Sms);
    w.act(&mut d, &k, r#"{"action": "verify"}"#, at(19, 9, 30));
    w.act(&mut d, &k, r#"{"action": "dispatch", "unit": "pemkot-mataram"}"#, at(19, 10, 0));
    let ctx = Context::seed();
    let sweep_at = at(31, 9, 0);
    let step = assess(&d, &ctx.rules, &ctx.calendar, sweep_at);
    let before = d.clone();
    apply_sweep(&mut d, &step, sweep_at).expect("the sweep escalates D");
    w.save(Some(&before), &d);

    // E: September, no category, waiting in triage.
    let e = w.receive(Timestamp::from_wita(2026, 9, 1, 8, 0), "52.02", None, Channel::Web);
    (w, vec![a, b, c, d, e])
}

fn august() -> Vec<Month> {
    vec![Month { year: 2026, month: 8 }]
}

fn from_tallies(w: &World, dim: Dim, value: &str, months: &[Month]) -> Measures {
    Measures::from_totals(&total(&read_tallies(&w.store, dim, value, months, &[]).unwrap()))
}

fn from_records(w: &World, filter: &Filter, months: &[Month]) -> Measures {
    Measures::from_totals(&total(&compute_from_records(&w.store, filter, months, Context::seed()).unwrap()))
}

#[test]
fn hand_computed_figures_for_august() {
    let (w, cases) = scenario();
    assert_eq!(cases[3].history.last().unwrap().internal_note.as_deref().map(|n| &n[..9]), Some("Terlambat"));
    let m = from_tallies(&w, Dim::All, PROVINCE, &august());
    assert_eq!((m.received, m.verified, m.dispatched, m.answered, m.followed_up), (4, 3, 3, 2, 1), "{m:#?}");
    assert_eq!((m.closed, m.rejected, m.reopened, m.reopenings, m.open), (1, 1, 1, 1, 2));
    // Followed up (completed, or confirmed by the complainant): A of the three verified; B's
    // complainant said the problem was not resolved.
    assert_eq!(m.follow_up_rate, Some(0.3333));
    // A answered by Thursday 20 against a deadline of Wednesday 26 (five working days after
    // Tuesday 18: Tuesday 25, Maulid Nabi, is a holiday too); B on Wednesday 26 against
    // Tuesday 18 (five working days after Monday 10, Monday 17 skipped).
    assert_eq!((m.answered_within_deadline.count, m.answered_within_deadline.of), (1, 2));
    assert_eq!(m.answered_within_deadline.share, Some(0.5));
    // To verification: A 0.750 (Fri 16:00 → Tue 10:00 over the weekend and the holiday),
    // B 0.250 (6 h), D 0.021 (30 min). Mean 1.021 / 3; median in (0.2, 0.3]; p90 in (0.7, 0.8].
    let v = &m.time_to_verification;
    assert_eq!((v.count, v.mean, v.median, v.p90), (3, Some(0.3403), Some(0.3), Some(0.8)));
    // To first answer: A 2.833 (8 h Fri + Tue + Wed + 12 h Thu = 68 h); B 10.083
    // (16 h Mon 10 + Tue 11–Fri 14 + Tue 18–Fri 21 + Mon 24 + 10 h Wed 26 = 242 h: the
    // weekends, Proklamasi on Monday 17 and Maulid Nabi on Tuesday 25 count nothing).
    // Mean 6.458; median in (2.75, 3.0]; p90 in (10, 11].
    let a = &m.time_to_first_answer;
    assert_eq!((a.count, a.mean, a.median, a.p90), (2, Some(6.458), Some(3.0), Some(11.0)));
    // To closure: A only, 3.708 (89 h).
    let c = &m.time_to_closure;
    assert_eq!((c.count, c.mean, c.median, c.p90), (1, Some(3.708), Some(4.0), Some(4.0)));
    // D was first swept after its late point: every level is recorded, lowest first.
    assert_eq!((m.escalations.complaints, m.escalations.warn, m.escalations.late), (1, 1, 1));
    let s = &m.satisfaction;
    assert_eq!((s.rated, s.mean_rating, s.not_resolved, s.not_resolved_share), (2, Some(3.5), 1, Some(0.5)));
    assert_eq!((s.distribution["2"], s.distribution["5"], s.distribution["1"]), (1, 1, 0));
    assert_eq!(m.by_status["reopened"], 1);
    assert_eq!(m.by_status["dispatched"], 1);

    // By unit, the unit a coordinator dispatched to: Kota Mataram holds A and D (dispatched
    // there from Lombok Timur); B left triage for Dinas Kesehatan, taking everything with it.
    // C, which routing proposed to Kota Mataram, was rejected by the coordinator without
    // reaching any unit: it stays in triage and never moves Kota Mataram's figures.
    let mataram = from_tallies(&w, Dim::Unit, "pemkot-mataram", &august());
    assert_eq!((mataram.received, mataram.verified, mataram.follow_up_rate), (2, 2, Some(0.5)));
    let dikes = from_tallies(&w, Dim::Unit, "dikes", &august());
    // B was answered, but its complainant said "not resolved": not followed up.
    assert_eq!((dikes.received, dikes.followed_up, dikes.follow_up_rate), (1, 0, Some(0.0)));
    let triage = from_tallies(&w, Dim::Unit, keys::TRIAGE, &august());
    assert_eq!((triage.received, triage.rejected), (1, 1));
    assert_eq!(from_tallies(&w, Dim::Region, "52.71", &august()).received, 2);
    assert_eq!(from_tallies(&w, Dim::Channel, "sms", &august()).received, 1);
    assert_eq!(from_tallies(&w, Dim::Category, "infrastruktur", &august()).received, 3);
    // September holds E alone; the period sums the months.
    let sept = [Month { year: 2026, month: 9 }];
    assert_eq!(from_tallies(&w, Dim::Category, "none", &sept).received, 1);
    assert_eq!(from_tallies(&w, Dim::Unit, keys::TRIAGE, &sept).received, 1);
    let both = Month { year: 2026, month: 8 }.through(Month { year: 2026, month: 9 });
    assert_eq!(from_tallies(&w, Dim::All, PROVINCE, &both).received, 5);
}

#[test]
fn tallies_equal_the_rebuild_from_records() {
    let (w, _) = scenario();
    let months = Month { year: 2026, month: 7 }.through(Month { year: 2026, month: 10 });
    // Every single-dimension view, both ways.
    for (dim, value) in [
        (Dim::All, PROVINCE),
        (Dim::Unit, "pemkot-mataram"),
        (Dim::Unit, "dikes"),
        (Dim::Region, "52.71"),
        (Dim::Channel, "web"),
        (Dim::Category, "none"),
    ] {
        let mut filter = Filter::default();
        match dim {
            Dim::All => {}
            Dim::Unit => filter.unit = Some(value.into()),
            Dim::Region => filter.region = Some(value.into()),
            Dim::Channel => filter.channel = Some(value.into()),
            Dim::Category => filter.category = Some(value.into()),
        }
        assert_eq!(
            from_tallies(&w, dim, value, &months),
            from_records(&w, &filter, &months),
            "{dim:?}={value}"
        );
    }
    // The audit finds nothing to repair.
    let report = rebuild(&w.store, 2020..=2026, Context::seed(), true).unwrap();
    assert_eq!((report.complaints, report.counters_wrong), (5, 0), "{:?}", report.differences);
    assert!(report.counters_checked > 100);

    // A lost increment is found and repaired, by increment.
    w.store.increment("m/unit/dikes/2026-08/received", 3).unwrap();
    w.store.increment(&keys::tally_status(CaseStatus::Closed), -1).unwrap();
    let report = rebuild(&w.store, 2020..=2026, Context::seed(), false).unwrap();
    assert_eq!(report.counters_wrong, 2);
    assert_eq!(rebuild(&w.store, 2020..=2026, Context::seed(), true).unwrap().counters_wrong, 0);
}

#[test]
fn combined_filters_are_computed_from_records() {
    let (w, _) = scenario();
    let f =
        Filter { unit: Some("pemkot-mataram".into()), region: Some("52.71".into()), ..Default::default() };
    assert_eq!(f.cell(), None);
    let m = from_records(&w, &f, &august());
    // A only: C, in Mataram too, was rejected in triage and never was the unit's.
    assert_eq!((m.received, m.verified, m.followed_up, m.rejected), (1, 1, 1, 0));
}

#[test]
fn backlog_and_overdue_are_read_at_a_moment() {
    let (w, cases) = scenario();
    let (backlog, overdue) =
        super::live::backlog(&cases, &w.dir, Context::seed(), Timestamp::from_wita(2026, 9, 2, 9, 0));
    // Open: B (reopened), D (dispatched), E (received).
    assert_eq!(backlog.open, 3);
    let tickets: Vec<&str> = overdue.iter().map(|o| o.ticket.as_str()).collect();
    assert!(tickets.contains(&cases[3].ticket.as_str()), "{overdue:?}");
    assert!(!tickets.contains(&cases[4].ticket.as_str()), "E is one working day old");
    assert_eq!(backlog.by_age.iter().map(|b| b.count).sum::<usize>(), 3);
}

#[test]
fn csv_quotes_and_round_trips_indonesian_text() {
    let mut csv = super::csv::Csv::new(&["a", "b"]);
    csv.row(["Jalan \"rusak\", berlubang", "Lurah Sukamulia —\r\nsudah ditegur; Rp 50.000"]);
    let text = String::from_utf8(csv.bytes.clone()).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains("\"Jalan \"\"rusak\"\", berlubang\""));
    let rows = super::csv::parse(&text);
    assert_eq!(rows[1], vec!["Jalan \"rusak\", berlubang", "Lurah Sukamulia —\r\nsudah ditegur; Rp 50.000"]);
}

#[test]
fn text_that_a_spreadsheet_would_run_as_a_formula_is_kept_as_text() {
    use super::csv::not_a_formula;
    for f in ["=HYPERLINK(\"http://contoh.invalid\",\"klik\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1"] {
        assert_eq!(not_a_formula(f), format!("'{f}"));
    }
    assert_eq!(not_a_formula("Jalan rusak = bahaya"), "Jalan rusak = bahaya");
}

#[test]
fn open_data_suppresses_small_counts() {
    let mut t = vec![0; super::metric::METRICS];
    t[super::metric::RECEIVED] = 3;
    t[super::metric::VERIFIED] = 3;
    let row = super::open_data::open_row("52.71", "Kota Mataram", &t);
    assert_eq!((row.received, row.follow_up_rate, row.suppressed), (None, None, true));
    t[super::metric::RECEIVED] = 12;
    t[super::metric::VERIFIED] = 10;
    t[super::metric::FOLLOWED_UP] = 5;
    let row = super::open_data::open_row("52.71", "Kota Mataram", &t);
    assert_eq!((row.received, row.follow_up_rate), (Some(12), Some(0.5)));
}

#[test]
fn scorecard_ranks_only_units_with_enough_complaints() {
    use super::scorecard::{rank, row};
    let mut big = vec![0; super::metric::METRICS];
    big[super::metric::RECEIVED] = 20;
    big[super::metric::VERIFIED] = 20;
    big[super::metric::FOLLOWED_UP] = 10;
    let mut small = big.clone();
    small[super::metric::RECEIVED] = 2;
    small[super::metric::VERIFIED] = 2;
    small[super::metric::FOLLOWED_UP] = 2;
    let rows = rank(vec![row("kecil", "Kecil", &small), row("besar", "Besar", &big)], 10);
    assert_eq!((rows[0].unit.as_str(), rows[0].rank), ("besar", Some(1)));
    assert_eq!((rows[1].unit.as_str(), rows[1].rank), ("kecil", None));
}

/// A complaint whose record was saved but whose increments were lost (the host killed in
/// between): its cells are short until the reconciliation adds exactly what is missing.
#[test]
fn reconciliation_adds_the_increments_a_crash_lost_and_leaves_the_rest() {
    use super::tally::reconcile_year;
    let (mut w, _) = scenario();
    // F: saved, never tallied.
    w.seq += 1;
    w.store.increment(&keys::ticket_sequence(2026), 1).unwrap();
    let mut f = tests_support::complaint(Ticket::number(2026, w.seq).unwrap());
    w.store.set(&keys::numbering(2026, w.seq), f.ticket.as_str().as_bytes()).unwrap();
    f.received_at = at(20, 9, 0);
    f.updated_at = f.received_at;
    w.store.set(&keys::complaint(&f.ticket), &serde_json::to_vec(&f).unwrap()).unwrap();
    let months = august();
    assert_eq!(from_tallies(&w, Dim::All, PROVINCE, &months).received, 4);

    let report = reconcile_year(&w.store, 2026, 2026, Context::seed(), &mut || {}).unwrap();
    assert_eq!(report.complaints, 6);
    assert_eq!(report.in_flight, 0);
    assert!(!report.repaired.is_empty() && report.repaired.len() == report.counters_differing);
    assert_eq!(from_tallies(&w, Dim::All, PROVINCE, &months).received, 5);
    assert_eq!(from_tallies(&w, Dim::All, PROVINCE, &months), from_records(&w, &Filter::default(), &months));
    // A second run finds nothing.
    let again = reconcile_year(&w.store, 2026, 2026, Context::seed(), &mut || {}).unwrap();
    assert_eq!((again.counters_differing, again.repaired.len()), (0, 0));
}

/// An event in flight (record written, increments on their way) is not "repaired": its
/// increments land during the settling pause, and adding them again would count it twice.
#[test]
fn reconciliation_leaves_an_event_in_flight_alone() {
    use super::tally::reconcile_year;
    let (mut w, _) = scenario();
    w.seq += 1;
    w.store.increment(&keys::ticket_sequence(2026), 1).unwrap();
    let mut f = tests_support::complaint(Ticket::number(2026, w.seq).unwrap());
    w.store.set(&keys::numbering(2026, w.seq), f.ticket.as_str().as_bytes()).unwrap();
    f.received_at = at(20, 9, 0);
    f.updated_at = f.received_at;
    w.store.set(&keys::complaint(&f.ticket), &serde_json::to_vec(&f).unwrap()).unwrap();
    let deltas = tally_deltas(None, &f);
    let store = &w.store;
    let report =
        reconcile_year(store, 2026, 2026, Context::seed(), &mut || apply(store, &deltas).unwrap()).unwrap();
    assert!(report.counters_differing > 0);
    assert_eq!((report.repaired.len(), report.in_flight), (0, report.counters_differing));
    let months = august();
    assert_eq!(from_tallies(&w, Dim::All, PROVINCE, &months), from_records(&w, &Filter::default(), &months));
}

/// Only one repair at a time: a second taker is refused until the lease expires.
#[test]
fn one_tally_repair_at_a_time() {
    use super::tally::{release_repair_lease, take_repair_lease};
    let s = MemoryStore::new();
    assert!(take_repair_lease(&s, 1_000, 61_000).unwrap());
    assert!(!take_repair_lease(&s, 2_000, 62_000).unwrap());
    assert!(take_repair_lease(&s, 61_001, 121_001).unwrap(), "an expired lease is taken over");
    release_repair_lease(&s, 121_001).unwrap();
    assert!(take_repair_lease(&s, 70_000, 130_000).unwrap());
}

/// The summary counts by the unit responsible now, as the measures do; the unit at receipt
/// is its own figure. B was routed to triage and dispatched to Dinas Kesehatan.
#[test]
fn the_summary_counts_by_the_unit_responsible_now_as_the_measures_do() {
    use crate::summary::Summary;
    let (w, _) = scenario();
    let months = Month { year: 2026, month: 8 }.through(Month { year: 2026, month: 9 });
    let s = Summary::from_tallies(&w.store, &w.dir, &months).unwrap();
    let unit = |s: &Summary, u: &str| s.by_unit.iter().find(|x| x.unit == u).map(|x| x.count).unwrap_or(0);
    assert_eq!(s.total, 5);
    assert_eq!(unit(&s, "dikes"), from_tallies(&w, Dim::Unit, "dikes", &months).received);
    assert_eq!(unit(&s, "dikes"), 1);
    assert_eq!(s.by_unit.iter().map(|u| u.count).sum::<i64>(), 5);
    assert_eq!(s.by_region.iter().map(|r| r.count).sum::<i64>(), 5);
    assert_eq!(s.by_status.values().sum::<i64>(), 5);
    // From the records, with and without a filter, the same figures.
    let r = Summary::from_records(&w.store, &w.dir, &Filter::default(), &months, Context::seed()).unwrap();
    assert_eq!(
        (r.total, &r.by_unit, &r.by_region, &r.by_status),
        (s.total, &s.by_unit, &s.by_region, &s.by_status)
    );
    let f = Filter { region: Some("52.71".into()), ..Default::default() };
    let r = Summary::from_records(&w.store, &w.dir, &f, &months, Context::seed()).unwrap();
    assert_eq!(r.total, from_tallies(&w, Dim::Region, "52.71", &months).received);
    assert_eq!(r.by_region.len(), 1);
}
