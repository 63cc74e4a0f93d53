//! Tallies: the measures kept current with atomic increments as events happen, and the
//! rebuild that recomputes them from the complaint records.
//!
//! A cell is (dimension, value, month of receipt); each cell holds one counter per metric
//! under `m/<dim>/<value>/<YYYY-MM>/<metric>`. An event's deltas are the complaint's
//! [`facts`] after it minus its facts before it, so whatever moved (a status, the unit, a
//! duration's bucket) leaves its old cell and enters its new one, and the sum over all
//! records is always what the increments add up to.

use std::collections::{BTreeMap, HashMap};

use crate::complaint::{Channel, Complaint};
use crate::keys;
use crate::lifecycle::CaseStatus;
use crate::store::{decode_counter, KeyValue, StoreError};

use super::facts::{facts, facts_lazy, Context, Dim, Facts, Month};
use super::metric::{self, METRICS};

/// Every measure key starts so.
pub const PREFIX: &str = "m/";

/// The key of one metric in one cell.
pub fn key(dim: Dim, value: &str, month: Month, metric: usize) -> String {
    format!("{PREFIX}{}/{value}/{month}/{}", dim.code(), metric::metric_name(metric))
}

fn push_keys(f: &Facts, sign: i64, out: &mut BTreeMap<String, i64>) {
    for dim in Dim::ALL {
        for (m, n) in f.values.iter().filter(|(m, _)| !metric::is_derived(*m)) {
            *out.entry(key(dim, f.coord(dim), f.month, *m)).or_default() += sign * n;
        }
    }
}

/// The increments that move the tallies from `before` (none for a new complaint) to
/// `after`, with the shipped calendar and SLA rules (parsed only if a duration needs them).
/// Keys whose delta is zero are left out.
pub fn tally_deltas(before: Option<&Complaint>, after: &Complaint) -> Vec<(String, i64)> {
    deltas(before, after, &Context::seed)
}

pub fn tally_deltas_with(before: Option<&Complaint>, after: &Complaint, ctx: &Context) -> Vec<(String, i64)> {
    deltas(before, after, &|| ctx)
}

fn deltas<'a>(
    before: Option<&Complaint>,
    after: &Complaint,
    ctx: &dyn Fn() -> &'a Context,
) -> Vec<(String, i64)> {
    let mut map = BTreeMap::new();
    if let Some(b) = before {
        push_keys(&facts_lazy(b, ctx), -1, &mut map);
    }
    push_keys(&facts_lazy(after, ctx), 1, &mut map);
    map.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// Apply deltas with the store's atomic increment.
pub fn apply(store: &impl KeyValue, deltas: &[(String, i64)]) -> Result<(), StoreError> {
    for (k, n) in deltas {
        store.increment(k, *n)?;
    }
    Ok(())
}

/// Sums of facts per cell, the rebuild's working table.
#[derive(Default)]
pub struct Aggregate {
    cells: HashMap<(Dim, String, Month), Vec<i64>>,
    pub complaints: u64,
}

impl Aggregate {
    pub fn add(&mut self, f: &Facts) {
        self.complaints += 1;
        for dim in Dim::ALL {
            let cell = self
                .cells
                .entry((dim, f.coord(dim).to_string(), f.month))
                .or_insert_with(|| vec![0; METRICS]);
            for (m, n) in &f.values {
                cell[*m] += n;
            }
        }
    }

    /// Every non-zero counter that is stored (derived metrics are not), by key.
    pub fn counters(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for ((dim, value, month), cell) in &self.cells {
            for (m, n) in cell.iter().enumerate() {
                if *n != 0 && !metric::is_derived(m) {
                    out.insert(key(*dim, value, *month, m), *n);
                }
            }
        }
        out
    }

    /// One cell's metrics (zeros if no complaint fell in it).
    pub fn cell(&self, dim: Dim, value: &str, month: Month) -> Vec<i64> {
        self.cells.get(&(dim, value.to_string(), month)).cloned().unwrap_or_else(|| vec![0; METRICS])
    }
}

/// The first WITA year whose tickets the rebuild reads.
pub const FIRST_YEAR: i32 = 2020;
const PAGE: u64 = 500;

/// Every complaint record, read by the ticket numbering of each year from [`FIRST_YEAR`]
/// to `last_year` (no key listing), oldest first, a page at a time.
pub fn for_each_complaint(
    store: &impl KeyValue,
    years: std::ops::RangeInclusive<i32>,
    mut each: impl FnMut(Complaint),
) -> Result<(), StoreError> {
    let years: Vec<i32> = years.collect();
    let counter_keys: Vec<String> = years.iter().map(|y| keys::ticket_sequence(*y)).collect();
    let counters = store.get_many(&counter_keys)?;
    for ((year, key), value) in years.iter().zip(&counter_keys).zip(counters) {
        let counter = decode_counter(key, value.as_deref())?.max(0) as u64;
        let mut seq = 1;
        while seq <= counter {
            let last = (seq + PAGE - 1).min(counter);
            let tickets = crate::intake::issued(store, *year, seq..=last)?;
            let keys: Vec<String> = tickets.iter().flatten().map(keys::complaint).collect();
            for (k, value) in keys.iter().zip(store.get_many(&keys)?) {
                let Some(value) = value else { continue };
                let c: Complaint = serde_json::from_slice(&value)
                    .map_err(|e| StoreError::Corrupt { key: k.clone(), reason: e.to_string() })?;
                each(c);
            }
            seq = last + 1;
        }
    }
    Ok(())
}

/// What the records say every tally should be: the measures, and the summary's
/// `tally/status/*` and `tally/channel/*`. (`tally/unit/*` counts the unit
/// routing chose at receipt, which the record does not keep once a complaint is dispatched
/// elsewhere, so the rebuild leaves it alone.)
pub fn expected(
    store: &impl KeyValue,
    years: std::ops::RangeInclusive<i32>,
    ctx: &Context,
) -> Result<(Aggregate, BTreeMap<String, i64>), StoreError> {
    let mut agg = Aggregate::default();
    let mut summary: BTreeMap<String, i64> = BTreeMap::new();
    for s in CaseStatus::ALL {
        summary.insert(keys::tally_status(s), 0);
    }
    for ch in Channel::ALL {
        summary.insert(keys::tally_channel(ch), 0);
    }
    for_each_complaint(store, years, |c| {
        agg.add(&facts(&c, ctx));
        *summary.entry(keys::tally_status(c.status)).or_default() += 1;
        *summary.entry(keys::tally_channel(c.channel)).or_default() += 1;
    })?;
    Ok((agg, summary))
}

/// A counter the rebuild found wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    pub key: String,
    pub stored: i64,
    pub expected: i64,
}

/// What a rebuild found, and did unless it was a dry run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RebuildReport {
    pub complaints: u64,
    pub counters_checked: usize,
    pub counters_wrong: usize,
    pub repaired: bool,
    /// The first wrong counters, for the audit trail.
    pub differences: Vec<Difference>,
}

/// Recompute every tally from the records and, unless `dry_run`, bring each counter to its
/// expected value by incrementing it by the difference (counters are only ever written by
/// increment). The measure counters now stored are found by listing keys: costly, and why
/// this is an administrator's repair, best run when no officer is acting.
pub fn rebuild(
    store: &impl KeyValue,
    years: std::ops::RangeInclusive<i32>,
    ctx: &Context,
    dry_run: bool,
) -> Result<RebuildReport, StoreError> {
    let (agg, summary) = expected(store, years, ctx)?;
    let mut want = agg.counters();
    want.extend(summary);
    let mut check: Vec<String> = store.keys()?.into_iter().filter(|k| k.starts_with(PREFIX)).collect();
    check.extend(want.keys().cloned());
    check.sort();
    check.dedup();
    let mut report = RebuildReport { complaints: agg.complaints, repaired: !dry_run, ..Default::default() };
    for chunk in check.chunks(1000) {
        let stored = store.get_many(chunk)?;
        for (k, v) in chunk.iter().zip(stored) {
            let have = decode_counter(k, v.as_deref())?;
            let expected = want.get(k).copied().unwrap_or(0);
            report.counters_checked += 1;
            if have != expected {
                report.counters_wrong += 1;
                if report.differences.len() < 100 {
                    report.differences.push(Difference { key: k.clone(), stored: have, expected });
                }
                if !dry_run {
                    store.increment(k, expected - have)?;
                }
            }
        }
    }
    Ok(report)
}

/// Each differing counter's (stored, expected), by key.
type Gaps = BTreeMap<String, (i64, i64)>;

/// The measure counters of the cells whose month falls in `year`, against what the records
/// say (tickets of `year` and later: a complaint keeps the month it was received in): how
/// many complaints, how many counters checked, and each differing key's (stored, expected).
/// With `only`, just those keys are checked.
fn year_differences(
    store: &impl KeyValue,
    year: i32,
    last_year: i32,
    ctx: &Context,
    only: Option<&Gaps>,
) -> Result<(u64, usize, Gaps), StoreError> {
    let in_year = |k: &str| month_of_key(k).is_some_and(|m| m.year == year);
    let mut agg = Aggregate::default();
    let mut complaints = 0;
    for_each_complaint(store, year..=last_year.max(year), |c| {
        let f = facts(&c, ctx);
        if f.month.year == year {
            complaints += 1;
            agg.add(&f);
        }
    })?;
    let want: BTreeMap<String, i64> = agg.counters().into_iter().filter(|(k, _)| in_year(k)).collect();
    let check: Vec<String> = match only {
        Some(keys) => keys.keys().cloned().collect(),
        None => {
            let mut check: Vec<String> =
                store.keys()?.into_iter().filter(|k| k.starts_with(PREFIX) && in_year(k)).collect();
            check.extend(want.keys().cloned());
            check.sort();
            check.dedup();
            check
        }
    };
    let mut out = BTreeMap::new();
    for chunk in check.chunks(1000) {
        for (k, v) in chunk.iter().zip(store.get_many(chunk)?) {
            let have = decode_counter(k, v.as_deref())?;
            let expected = want.get(k).copied().unwrap_or(0);
            if have != expected {
                out.insert(k.clone(), (have, expected));
            }
        }
    }
    Ok((complaints, check.len(), out))
}

/// The month of a measure key (`m/<dim>/<value>/<YYYY-MM>/<metric>`).
fn month_of_key(k: &str) -> Option<Month> {
    let rest = k.strip_prefix(PREFIX)?;
    let mut parts = rest.rsplitn(3, '/');
    let _metric = parts.next()?;
    Month::parse(parts.next()?)
}

/// What one reconciliation of a year found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub year: i32,
    pub complaints: u64,
    pub counters_checked: usize,
    /// Counters that differed from the records at the first look.
    pub counters_differing: usize,
    /// Of those, the ones that still differed by the same amount after the settling pause:
    /// an increment lost to a crash between the record and its tally. Repaired.
    pub repaired: Vec<Difference>,
    /// Differences that changed or vanished during the pause: an event in flight (its record
    /// written, its increments not yet), left alone; the next run looks again.
    pub in_flight: usize,
}

/// Bring the measure tallies of the months of `year` to what the records say, safely while
/// complaints arrive and officers act.
///
/// Writers commit the record, then add its increments: while an event is in flight its
/// record is ahead of its tallies, for milliseconds. A crash in that gap leaves the tallies
/// short for good. So: find every counter that differs from the records, `settle` (a pause
/// much longer than any write takes), look again at those counters against freshly read
/// records, and repair only what differs by the same amount both times, by an increment of
/// the difference (never a set, so increments made meanwhile are kept). A difference caused
/// by an event in flight changes or vanishes within the pause and is left alone.
///
/// Incremental: one year of receipt per call (the records read are that year's tickets and
/// later ones), so a schedule can take the current year on every run and older years in turn.
pub fn reconcile_year(
    store: &impl KeyValue,
    year: i32,
    last_year: i32,
    ctx: &Context,
    settle: &mut dyn FnMut(),
) -> Result<ReconcileReport, StoreError> {
    let (complaints, checked, first) = year_differences(store, year, last_year, ctx, None)?;
    let mut report = ReconcileReport {
        year,
        complaints,
        counters_checked: checked,
        counters_differing: first.len(),
        ..Default::default()
    };
    if first.is_empty() {
        return Ok(report);
    }
    settle();
    let (_, _, second) = year_differences(store, year, last_year, ctx, Some(&first))?;
    for (k, (stored, expected)) in &first {
        let gap = expected - stored;
        match second.get(k) {
            Some((s2, e2)) if e2 - s2 == gap => {
                store.increment(k, gap)?;
                report.repaired.push(Difference { key: k.clone(), stored: *stored, expected: *expected });
            }
            _ => report.in_flight += 1,
        }
    }
    Ok(report)
}

/// The key of the lease that lets one tally repair (reconciliation or rebuild) run at a time:
/// two at once would each add the same missing increment.
pub const REPAIR_LEASE: &str = "reconcile/lease";

/// Take the repair lease until `until_ms` (Unix ms) if it is free or expired at `now_ms`;
/// `false` if another repair holds it. Created once, then moved by compare-and-swap.
pub fn take_repair_lease(store: &impl KeyValue, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
    let mine = until_ms.to_string().into_bytes();
    if crate::store::created_here(store, REPAIR_LEASE, &mine)? {
        return Ok(true);
    }
    let Some(held) = store.get(REPAIR_LEASE)? else { return Ok(false) };
    let expiry: i64 = std::str::from_utf8(&held).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    if expiry > now_ms {
        return Ok(false);
    }
    store.compare_and_swap(REPAIR_LEASE, &held, &mine)
}

/// Give the lease back (only if it is still ours: `until_ms` as taken).
pub fn release_repair_lease(store: &impl KeyValue, until_ms: i64) -> Result<(), StoreError> {
    store.compare_and_swap(REPAIR_LEASE, until_ms.to_string().as_bytes(), b"0").map(|_| ())
}
