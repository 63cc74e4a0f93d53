//! Measures that depend on the moment they are read: the backlog by age and the overdue
//! list. They are computed from the open cases (the work queues and triage, never a scan
//! of every record), so their cost grows with the backlog, not with history.

use serde::Serialize;

use crate::casework::clocks;
use crate::clock::Timestamp;
use crate::complaint::Complaint;
use crate::directory::Directory;
use crate::keys::TRIAGE;
use crate::sla::Escalation;

use super::facts::Context;

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
        let region = c.location.region_code.regency();
        let age = ctx.calendar.working_days_between(c.received_at, now, Some(&region));
        if let Some(band) = by_age.iter_mut().rev().find(|b| age >= f64::from(b.from_working_days)) {
            band.count += 1;
        }
        let Some((step, deadlines)) = clocks::deadlines(c, &ctx.rules, &ctx.calendar, now) else { continue };
        if now <= deadlines.due || step == crate::sla::Step::AutoClose {
            continue;
        }
        let late = ctx.calendar.working_days_between(deadlines.due, now, Some(&region));
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
