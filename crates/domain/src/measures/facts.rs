//! What one complaint record adds to the measures: a pure function of the record (and the
//! working-day calendar and SLA rules), which is what lets the tallies kept by increments
//! and the rebuild from records agree exactly.

use std::sync::OnceLock;

use crate::calendar::WorkingCalendar;
use crate::clock::Timestamp;
use crate::complaint::{Complaint, Resolution};
use crate::keys::TRIAGE;
use crate::lifecycle::{Action, CaseStatus};
use crate::sla::{Priority, SlaRules, Step};

use super::metric;

/// What the measures are computed with.
pub struct Context {
    pub calendar: WorkingCalendar,
    pub rules: SlaRules,
}

impl Context {
    /// The shipped calendar and rules, parsed once per instance.
    pub fn seed() -> &'static Context {
        static SEED: OnceLock<Context> = OnceLock::new();
        SEED.get_or_init(|| Context { calendar: WorkingCalendar::seed(), rules: SlaRules::seed() })
    }
}

/// A dimension figures are broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// The whole province (value `ntb`).
    All,
    /// The unit now responsible: the unit a coordinator dispatched the complaint to, `triage`
    /// before dispatch (whatever routing proposed), after a forward back or a rejection.
    Unit,
    /// The regency or city where the problem is (`52.71`).
    Region,
    Channel,
    /// The category (`none` when none was given).
    Category,
}

impl Dim {
    pub const ALL: [Dim; 5] = [Dim::All, Dim::Unit, Dim::Region, Dim::Channel, Dim::Category];

    pub fn code(self) -> &'static str {
        match self {
            Dim::All => "all",
            Dim::Unit => "unit",
            Dim::Region => "region",
            Dim::Channel => "channel",
            Dim::Category => "category",
        }
    }

    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.code() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The value of [`Dim::All`].
pub const PROVINCE: &str = "ntb";
/// The category value of a complaint without one.
pub const NO_CATEGORY: &str = "none";

/// A calendar month in WITA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(t: Timestamp) -> Month {
        let w = t.wita();
        Month { year: w.year, month: w.month }
    }

    /// `2026-03`, or the month of `2026-03-15`.
    pub fn parse(s: &str) -> Option<Month> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        if let Some(day) = parts.next() {
            let d: u32 = day.parse().ok()?;
            if !(1..=31).contains(&d) {
                return None;
            }
        }
        ((2000..=2099).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month { year: self.year - 1, month: 12 }
        } else {
            Month { year: self.year, month: self.month - 1 }
        }
    }

    /// Every month from `self` to `to`, both included.
    pub fn through(self, to: Month) -> Vec<Month> {
        let mut out = Vec::new();
        let mut m = self;
        while m <= to && out.len() < 1200 {
            out.push(m);
            m = m.next();
        }
        out
    }

    /// The semester (1: January–June, 2: July–December) this month is in.
    pub fn semester(self) -> (Month, Month) {
        if self.month <= 6 {
            (Month { year: self.year, month: 1 }, Month { year: self.year, month: 6 })
        } else {
            (Month { year: self.year, month: 7 }, Month { year: self.year, month: 12 })
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One complaint's contribution: the cells it belongs to and what it adds to each.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub month: Month,
    /// The value of each dimension, in [`Dim::ALL`] order.
    pub coords: [String; 5],
    /// (metric index, amount), amounts never zero.
    pub values: Vec<(usize, i64)>,
}

impl Facts {
    pub fn coord(&self, dim: Dim) -> &str {
        &self.coords[dim.index()]
    }
}

/// The escalation level an escalation event recorded, read from the note the sweep writes
/// (`casework::apply_sweep`).
fn escalation_level(note: Option<&str>) -> Option<usize> {
    let note = note?;
    if note.starts_with("Peringatan") {
        Some(metric::ESCALATIONS_WARN)
    } else if note.starts_with("Melewati tenggat") {
        Some(metric::ESCALATIONS_OVERDUE)
    } else if note.starts_with("Terlambat") {
        Some(metric::ESCALATIONS_LATE)
    } else {
        None
    }
}

/// When the complaint was first verified.
pub fn verified_at(c: &Complaint) -> Option<Timestamp> {
    c.history.iter().find(|e| e.action == Action::Verify).map(|e| e.at)
}

/// Whether a verified complaint was followed up, meaning completed: the unit reported the
/// follow-up done (`complete`, checked like answers), the complainant confirmed it (a
/// rating that closed the case), or SP4N-LAPOR! declared it done (`Selesai`), and no
/// reopening came after. An answer alone is not a follow-up (that is
/// [`answered`]). A record answered before completion was a step (no `completion` stored)
/// counts as it did then: an answer from the unit now responsible.
pub fn followed_up(c: &Complaint) -> bool {
    if verified_at(c).is_none() || c.unit.is_none() {
        return false;
    }
    if c.case.completion.is_none() {
        return answered(c);
    }
    // The latest word stands: a reopening (the complainant said it is not resolved) undoes
    // an earlier completion until the unit reports it done again.
    let confirmed = |e: &crate::lifecycle::Event| {
        e.action == Action::Close && e.actor == crate::lifecycle::Actor::Complainant
    };
    let last = c
        .history
        .iter()
        .rev()
        .find(|e| matches!(e.action, Action::Complete | Action::Reopen) || confirmed(e));
    c.case.completion.as_ref().is_some_and(|d| d.completed_at.is_some())
        || last.is_some_and(|e| e.action == Action::Complete || confirmed(e))
}

/// Whether a verified complaint has an answer from the unit now responsible for it (every
/// answer is substantive: casework refuses boilerplate, see `casework::check_answer`).
pub fn answered(c: &Complaint) -> bool {
    verified_at(c).is_some()
        && c.unit.is_some()
        && c.case.answers.iter().any(|a| Some(&a.unit) == c.unit.as_ref())
}

/// When the unit first answered.
pub fn first_answer_at(c: &Complaint) -> Option<Timestamp> {
    c.case.answers.first().map(|a| a.at)
}

/// When a closed complaint was (last) closed.
pub fn closed_at(c: &Complaint) -> Option<Timestamp> {
    (c.status == CaseStatus::Closed)
        .then(|| c.history.iter().rev().find(|e| e.to == CaseStatus::Closed).map(|e| e.at))
        .flatten()
}

/// Working days from receipt to `t`, in thousandths, rounded, on the calendar of the
/// complaint's regency.
pub fn working_mwd(c: &Complaint, t: Timestamp, ctx: &Context) -> i64 {
    let region = c.location.region_code.regency();
    (ctx.calendar.working_days_between(c.received_at, t, Some(&region)) * 1000.0).round() as i64
}

/// The priority the case had when first answered: each later reopening raised it by one.
fn priority_at_first_answer(c: &Complaint, first_respond: usize) -> Priority {
    let later_reopenings = c.history[first_respond..].iter().filter(|e| e.action == Action::Reopen).count();
    let mut p = c.case.priority.unwrap_or(Priority::Ordinary);
    for _ in 0..later_reopenings {
        p = match p {
            Priority::Urgent => Priority::Important,
            Priority::Important | Priority::Ordinary => Priority::Ordinary,
        };
    }
    p
}

/// Whether the first answer came by the follow-up deadline counted from the dispatch
/// before it (pauses for the complainant's information excluded).
pub fn answered_in_time(c: &Complaint, ctx: &Context) -> Option<bool> {
    let first = c.case.answers.first()?;
    let respond = c.history.iter().position(|e| e.action == Action::Respond).unwrap_or(c.history.len());
    let started = c.history[..respond]
        .iter()
        .rev()
        .find(|e| e.action == Action::Dispatch)
        .map(|e| e.at)
        .unwrap_or(c.received_at);
    let pauses: Vec<(Timestamp, Timestamp)> =
        c.case.pauses.iter().copied().filter(|(_, end)| *end <= first.at).collect();
    let region = c.location.region_code.regency();
    let due = ctx.rules.due(
        Step::FollowUp,
        priority_at_first_answer(c, respond),
        started,
        &pauses,
        &ctx.calendar,
        Some(&region),
    );
    Some(first.at <= due)
}

/// What the complaint adds to the measures.
pub fn facts(c: &Complaint, ctx: &Context) -> Facts {
    facts_lazy(c, &|| ctx)
}

/// [`facts`], asking for the context only when a duration or a deadline is computed: a
/// complaint not yet verified, answered or closed needs none, and parsing the shipped
/// calendar and SLA rules was most of a new complaint's CPU time in intake.
pub(crate) fn facts_lazy<'a>(c: &Complaint, ctx: &dyn Fn() -> &'a Context) -> Facts {
    use metric::*;
    let mut v: Vec<(usize, i64)> = Vec::with_capacity(24);
    let mut add = |i: usize, n: i64| {
        if n != 0 {
            v.push((i, n));
        }
    };
    add(RECEIVED, 1);
    let verified = verified_at(c);
    add(VERIFIED, verified.is_some() as i64);
    add(DISPATCHED, c.history.iter().any(|e| e.action == Action::Dispatch) as i64);
    add(ANSWERED, !c.case.answers.is_empty() as i64);
    add(FOLLOWED_UP, followed_up(c) as i64);
    add(CLOSED, (c.status == CaseStatus::Closed) as i64);
    add(REJECTED, (c.status == CaseStatus::Rejected) as i64);
    add(REOPENED, (c.case.reopened > 0) as i64);
    add(REOPENINGS, i64::from(c.case.reopened));
    add(OPEN, c.status.is_open() as i64);
    let in_time = !c.case.answers.is_empty() && answered_in_time(c, ctx()) == Some(true);
    add(ANSWERED_IN_TIME, in_time as i64);
    let mut levels = [0i64; 3];
    for e in c.history.iter().filter(|e| e.action == Action::Escalate) {
        if let Some(level) = escalation_level(e.internal_note.as_deref()) {
            levels[level - ESCALATIONS_WARN] += 1;
        }
    }
    add(ESCALATED, (levels[1] + levels[2] > 0) as i64);
    for (i, n) in levels.into_iter().enumerate() {
        add(ESCALATIONS_WARN + i, n);
    }
    if let Some(r) = &c.case.rating {
        add(RATED, 1);
        add(RATING_SUM, i64::from(r.score));
        if (1..=5).contains(&r.score) {
            add(RATING_1 + usize::from(r.score) - 1, 1);
        }
        add(
            match r.resolved {
                Resolution::Yes => RESOLVED_YES,
                Resolution::Partly => RESOLVED_PARTLY,
                Resolution::No => RESOLVED_NO,
            },
            1,
        );
    }
    let status = CaseStatus::ALL.iter().position(|s| *s == c.status).unwrap_or(0);
    add(STATUS + status, 1);
    for (d, at) in [
        (Duration::Verification, verified),
        (Duration::FirstAnswer, first_answer_at(c)),
        (Duration::Closure, closed_at(c)),
    ] {
        if let Some(at) = at {
            let mwd = working_mwd(c, at, ctx()).max(0);
            add(d.n(), 1);
            add(d.sum(), mwd);
            add(d.bucket(bucket_of(mwd)), 1);
        }
    }
    Facts {
        month: Month::of(c.received_at),
        coords: [
            PROVINCE.to_string(),
            // The unit responsible now: only once a coordinator has dispatched the complaint
            // to it. Before that (and after a forward back, or a rejection) it is the
            // coordinators' triage, whatever unit routing proposed: that unit must not see its
            // figures move for a complaint it may be the subject of.
            c.unit
                .as_ref()
                .filter(|_| crate::org::with_unit(c))
                .map(|u| u.as_str())
                .unwrap_or(TRIAGE)
                .to_string(),
            c.location.region_code.regency().as_str().to_string(),
            c.channel.code().to_string(),
            c.category.clone().unwrap_or_else(|| NO_CATEGORY.to_string()),
        ],
        values: v,
    }
}
