//! Measures that depend on the moment they are read: the backlog by age and the overdue
//! list. They are computed from the open cases (the work queues and triage, never a scan
//! of every record), so their cost grows with the backlog, not with history.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::complaint::clocks;
use crate::complaint::{Channel, Complaint};
use crate::directory::{Directory, UnitId};
use crate::keys::TRIAGE;
use crate::lifecycle::CaseStatus;
use crate::region::RegionCode;
use crate::sla::{Deadlines, Escalation, Step};

use super::facts::{Context, Dim, NO_CATEGORY, PROVINCE};
use super::read::Filter;

/// What the live measures read of an open case: its coordinates, status, receipt and the
/// open step's deadlines. Short field names: the open-case index (`crate::open_index`) keeps
/// one per queued case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCase {
    /// Filled from the index's map key, so not stored twice.
    #[serde(skip)]
    pub ticket: String,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    /// The regency.
    #[serde(rename = "g")]
    pub region: RegionCode,
    #[serde(rename = "c")]
    pub channel: Channel,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(rename = "s")]
    pub status: CaseStatus,
    #[serde(rename = "r")]
    pub received_at: Timestamp,
    /// The open step and its warning, deadline and late points.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub deadlines: Option<(Step, Timestamp, Timestamp, Timestamp)>,
}

impl OpenCase {
    /// The view of a full record at `now` (`clocks::deadlines`: an open pause runs to `now`).
    pub fn of(c: &Complaint, ctx: &Context, now: Timestamp) -> OpenCase {
        OpenCase {
            ticket: c.ticket.to_string(),
            unit: c.unit.clone(),
            region: c.location.region_code.regency(),
            channel: c.channel,
            category: c.category.clone(),
            status: c.status,
            received_at: c.received_at,
            deadlines: clocks::deadlines(c, &ctx.rules, &ctx.calendar, now)
                .map(|(step, d)| (step, d.warn_at, d.due, d.late_at)),
        }
    }

    /// Its value of a dimension, as `facts` gives it.
    pub fn coord(&self, dim: Dim) -> &str {
        match dim {
            Dim::All => PROVINCE,
            Dim::Unit => self.unit.as_ref().map(|u| u.as_str()).unwrap_or(TRIAGE),
            Dim::Region => self.region.as_str(),
            Dim::Channel => self.channel.code(),
            Dim::Category => self.category.as_deref().unwrap_or(NO_CATEGORY),
        }
    }

    pub fn matches(&self, f: &Filter) -> bool {
        f.pairs().iter().all(|(d, v)| self.coord(*d) == *v)
    }
}

/// Age bands of the backlog, in working days since receipt: `[from, to)`.
pub const AGE_BANDS: [(u32, Option<u32>); 5] =
    [(0, Some(3)), (3, Some(5)), (5, Some(10)), (10, Some(20)), (20, None)];

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgeBand {
    pub label: String,
    pub from_working_days: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_working_days: Option<u32>,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Backlog {
    pub open: usize,
    pub overdue: usize,
    pub by_age: Vec<AgeBand>,
}

/// A case past its step's deadline, for the coordinator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OverdueCase {
    pub ticket: String,
    pub unit: String,
    pub unit_name: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub status: String,
    pub step: String,
    pub due: String,
    /// Working days since the deadline, rounded to two decimals.
    pub working_days_overdue: f64,
    pub escalation: Escalation,
}

/// The backlog by age and the overdue cases (most overdue first) among `cases`.
pub fn backlog(
    cases: &[Complaint],
    directory: &Directory,
    ctx: &Context,
    now: Timestamp,
) -> (Backlog, Vec<OverdueCase>) {
    let cases: Vec<OpenCase> = cases.iter().map(|c| OpenCase::of(c, ctx, now)).collect();
    backlog_of(&cases, directory, ctx, now)
}

/// The same over the open-case view.
pub fn backlog_of(
    cases: &[OpenCase],
    directory: &Directory,
    ctx: &Context,
    now: Timestamp,
) -> (Backlog, Vec<OverdueCase>) {
    let mut by_age: Vec<AgeBand> = AGE_BANDS
        .iter()
        .map(|(from, to)| AgeBand {
            label: match to {
                Some(to) => format!("{from}-{to}"),
                None => format!("{from}+"),
            },
            from_working_days: *from,
            to_working_days: *to,
            count: 0,
        })
        .collect();
    let mut overdue = Vec::new();
    let mut open = 0;
    for c in cases.iter().filter(|c| c.status.is_open()) {
        open += 1;
        let region = &c.region;
        let age = ctx.calendar.working_days_between(c.received_at, now, Some(region));
        if let Some(band) = by_age.iter_mut().rev().find(|b| age >= f64::from(b.from_working_days)) {
            band.count += 1;
        }
        let Some((step, warn_at, due, late_at)) = c.deadlines else { continue };
        let deadlines = Deadlines { warn_at, due, late_at };
        if now <= deadlines.due || step == Step::AutoClose {
            continue;
        }
        let late = ctx.calendar.working_days_between(deadlines.due, now, Some(region));
        let unit = c.unit.as_ref().map(|u| u.as_str()).unwrap_or(TRIAGE).to_string();
        overdue.push(OverdueCase {
            unit_name: c
                .unit
                .as_ref()
                .and_then(|u| directory.unit(u))
                .map(|u| u.name.clone())
                .unwrap_or_else(|| "Antrean triase koordinator".into()),
            unit,
            ticket: c.ticket.to_string(),
            region: region.as_str().to_string(),
            category: c.category.clone(),
            status: c.status.code().to_string(),
            step: step.code().to_string(),
            due: deadlines.due.to_rfc3339_wita(),
            working_days_overdue: (late * 100.0).round() / 100.0,
            escalation: deadlines.escalation(now),
        });
    }
    overdue.sort_by(|a, b| {
        b.working_days_overdue.total_cmp(&a.working_days_overdue).then(a.ticket.cmp(&b.ticket))
    });
    (Backlog { open, overdue: overdue.len(), by_age }, overdue)
}
