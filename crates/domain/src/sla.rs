//! Service levels: how long each step of a complaint may take, when to warn, and when to
//! escalate.
//!
//! The limits are data (seeded from `data/sla-rules.toml`) because they come from several
//! sources that disagree (LAPOR!'s 3/5/10 working days, NTB Care's 1/24/48-hour priorities,
//! 14/60 days whose day type varies between sources) and because the province will change
//! them. A rule is (step, priority, duration, unit); units are hours, working days (on the
//! [`WorkingCalendar`]) or calendar days. This module computes instants only: it must never
//! import spin-sdk, a store or a system clock, and it never decides who is notified.
//!
//! **Day limits** end at 23:59:59.999 WITA on the last counted day, counting from the day
//! after the step started (see [`crate::calendar`]). **Hour limits** are wall-clock hours:
//! nights, weekends and holidays count, because an urgent complaint is urgent on Sunday.
//!
//! **Pauses.** While a complaint waits for information from the complainant its clock is
//! stopped. For hour limits the time spent waiting after the step started (before the
//! deadline is reached) is added back exactly. For day limits a day counts only if the
//! complaint is not waiting when that day ends: a request sent on Tuesday and answered on
//! Thursday loses Tuesday and Wednesday and adds two working days, while a request answered
//! the same day adds nothing. This keeps deadlines at the end of a day, cannot be gamed by
//! a one-minute request, and needs nothing but the pause intervals the event log records.
//! An open pause is passed as `(start, now)`.
//!
//! **Escalation.** Each rule has a warning point and a late point as fractions of its
//! allowed time (`warn_at` < 1 < `late_at`). [`Deadlines::escalation`] turns them into
//! [`Escalation`]: on time, warn, overdue, late. Who hears of each level is casework's
//! decision (`casework::sweep_notices`): for a dispatched case the unit's liaison officers,
//! its head, then the coordinators and the Inspectorate; for a complaint no coordinator has
//! dispatched yet, the coordinators of its region, the provincial coordinators, then the
//! Inspectorate, never the unit routing proposed.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::calendar::{merge_pauses, Count, WorkingCalendar};
use crate::clock::Timestamp;
use crate::language::Text;
use crate::region::RegionCode;

pub const SEED_TOML: &str = include_str!("../../../data/sla-rules.toml");

/// The longest duration a rule may have, in its own unit: a typo such as 600 for 60 is
/// refused rather than silently granting years.
pub const MAX_DURATION: u32 = 1000;

/// A step of a complaint's handling that has a time limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The admin verifies the complaint and forwards it. Starts at receipt.
    Verification,
    /// The agency's first response (NTB Care's priorities). Starts at dispatch.
    FirstResponse,
    /// The agency proposes a follow-up. Starts at dispatch.
    FollowUp,
    /// Settled without a field inspection. Starts at dispatch.
    Completion,
    /// Settled with a field inspection. Starts at dispatch.
    CompletionInspection,
    /// Closed automatically when an answer gets no reply. Starts at the answer.
    AutoClose,
    /// The complainant may rate the answer. Starts at the answer.
    RatingReply,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::Verification,
        Step::FirstResponse,
        Step::FollowUp,
        Step::Completion,
        Step::CompletionInspection,
        Step::AutoClose,
        Step::RatingReply,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Step::Verification => "verification",
            Step::FirstResponse => "first-response",
            Step::FollowUp => "follow-up",
            Step::Completion => "completion",
            Step::CompletionInspection => "completion-inspection",
            Step::AutoClose => "auto-close",
            Step::RatingReply => "rating-reply",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.code() == s.trim())
    }

    pub fn label(self) -> Text {
        let (id, en) = match self {
            Step::Verification => ("Verifikasi", "Verification"),
            Step::FirstResponse => ("Tanggapan pertama", "First response"),
            Step::FollowUp => ("Tindak lanjut", "Follow-up"),
            Step::Completion => ("Penyelesaian", "Completion"),
            Step::CompletionInspection => {
                ("Penyelesaian dengan pemeriksaan lapangan", "Completion with inspection")
            }
            Step::AutoClose => ("Penutupan otomatis", "Automatic closure"),
            Step::RatingReply => ("Penilaian oleh pelapor", "Complainant's rating"),
        };
        Text::new(id, en)
    }
}

/// NTB Care's priorities, set by the admin who screens a complaint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    /// *Mendesak*: first response within 1 hour.
    Urgent,
    /// *Penting*: within 1×24 hours.
    Important,
    /// *Biasa*: within 2×24 hours.
    Ordinary,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Urgent, Priority::Important, Priority::Ordinary];

    pub fn code(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::Important => "important",
            Priority::Ordinary => "ordinary",
        }
    }

    /// The Bahasa Indonesia name officers use (`mendesak`).
    pub fn name_id(self) -> &'static str {
        match self {
            Priority::Urgent => "mendesak",
            Priority::Important => "penting",
            Priority::Ordinary => "biasa",
        }
    }

    /// Accepts the code or the Indonesian name, ignoring case.
    pub fn parse(s: &str) -> Option<Priority> {
        let s = s.trim().to_ascii_lowercase();
        Priority::ALL.into_iter().find(|p| p.code() == s || p.name_id() == s)
    }

    pub fn label(self) -> Text {
        let (id, en) = match self {
            Priority::Urgent => ("Mendesak", "Urgent"),
            Priority::Important => ("Penting", "Important"),
            Priority::Ordinary => ("Biasa", "Ordinary"),
        };
        Text::new(id, en)
    }
}

/// What a rule's duration counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    Hours,
    WorkingDays,
    CalendarDays,
}

impl Unit {
    pub fn code(self) -> &'static str {
        match self {
            Unit::Hours => "hours",
            Unit::WorkingDays => "working-days",
            Unit::CalendarDays => "calendar-days",
        }
    }

    pub fn parse(s: &str) -> Option<Unit> {
        [Unit::Hours, Unit::WorkingDays, Unit::CalendarDays].into_iter().find(|u| u.code() == s.trim())
    }
}

/// One validated rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub step: Step,
    /// `None`: every priority without a rule of its own.
    pub priority: Option<Priority>,
    pub duration: u32,
    pub unit: Unit,
    /// Fraction of the allowed time at which the handling unit is warned, in (0, 1).
    pub warn_at: f64,
    /// Multiple of the allowed time after which the case is late, above 1.
    pub late_at: f64,
}

/// The instants an escalation sweep compares `now` with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    pub warn_at: Timestamp,
    pub due: Timestamp,
    pub late_at: Timestamp,
}

/// How far a step has run against its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Escalation {
    /// Before the warning point.
    OnTime,
    /// From the warning point to the deadline: remind whoever holds the case (the unit's
    /// liaison officers, or the region's coordinators before dispatch).
    Warn,
    /// Past the deadline, within the grace period: escalate one level up (the unit head, or
    /// the provincial coordinators before dispatch).
    Overdue,
    /// Past the grace period: escalate to the Inspectorate (and the coordinators, for a
    /// dispatched case).
    Late,
}

impl Escalation {
    /// `now` against the three points. The deadline itself is still on time (day deadlines
    /// are the last millisecond of their day).
    pub fn assess(now: Timestamp, warn_at: Timestamp, due: Timestamp, late_at: Timestamp) -> Escalation {
        if now > late_at {
            Escalation::Late
        } else if now > due {
            Escalation::Overdue
        } else if now >= warn_at {
            Escalation::Warn
        } else {
            Escalation::OnTime
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Escalation::OnTime => "on-time",
            Escalation::Warn => "warn",
            Escalation::Overdue => "overdue",
            Escalation::Late => "late",
        }
    }

    pub fn label(self) -> Text {
        let (id, en) = match self {
            Escalation::OnTime => ("Tepat waktu", "On time"),
            Escalation::Warn => ("Mendekati batas waktu", "Nearing the deadline"),
            Escalation::Overdue => ("Melewati batas waktu", "Overdue"),
            Escalation::Late => {
                ("Terlambat, dieskalasi ke koordinator", "Late, escalated to the coordinator")
            }
        };
        Text::new(id, en)
    }
}

impl Deadlines {
    pub fn escalation(&self, now: Timestamp) -> Escalation {
        Escalation::assess(now, self.warn_at, self.due, self.late_at)
    }
}

/// A rules file that cannot be used. Row numbers count the `[[rule]]` tables from 1.
#[derive(Debug, Error)]
pub enum SlaError {
    #[error("SLA rules are not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("SLA rule row {row} ({step}): {problem}")]
    Row { row: usize, step: String, problem: String },
    #[error("SLA rules: `{name} = {value}` in [defaults] {problem}")]
    Default { name: &'static str, value: f64, problem: &'static str },
    #[error("SLA rules: no rule covers step `{step}` for priority `{priority}`")]
    Missing { step: &'static str, priority: &'static str },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    #[serde(default = "default_warn_at")]
    warn_at: f64,
    #[serde(default = "default_late_at")]
    late_at: f64,
}

fn default_warn_at() -> f64 {
    0.75
}

fn default_late_at() -> f64 {
    1.5
}

impl Default for RawDefaults {
    fn default() -> Self {
        RawDefaults { warn_at: default_warn_at(), late_at: default_late_at() }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    step: Option<String>,
    priority: Option<String>,
    duration: Option<i64>,
    unit: Option<String>,
    warn_at: Option<f64>,
    late_at: Option<f64>,
}

const WARN_PROBLEM: &str = "must be a fraction between 0 and 1 (exclusive)";
const LATE_PROBLEM: &str = "must be above 1 and at most 10";

fn warn_ok(f: f64) -> bool {
    f > 0.0 && f < 1.0
}

fn late_ok(f: f64) -> bool {
    f > 1.0 && f <= 10.0
}

impl RawRule {
    fn parse(self, row: usize, defaults: &RawDefaults) -> Result<Rule, SlaError> {
        let name = self.step.clone().unwrap_or_else(|| "no step".into());
        let fail = |problem: String| SlaError::Row { row, step: format!("`{name}`"), problem };
        let step = match self.step.as_deref() {
            None => return Err(fail("`step` is missing".into())),
            Some(s) => Step::parse(s).ok_or_else(|| {
                let known: Vec<&str> = Step::ALL.iter().map(|s| s.code()).collect();
                fail(format!("unknown step `{s}` (known: {})", known.join(", ")))
            })?,
        };
        let priority = match self.priority.as_deref() {
            None => None,
            Some(p) => Some(Priority::parse(p).ok_or_else(|| {
                fail(format!("unknown priority `{p}` (urgent/mendesak, important/penting, ordinary/biasa)"))
            })?),
        };
        let duration = match self.duration {
            None => return Err(fail("`duration` is missing".into())),
            Some(d) if d < 1 || d > i64::from(MAX_DURATION) => {
                return Err(fail(format!("duration {d} must be between 1 and {MAX_DURATION}")))
            }
            Some(d) => d as u32,
        };
        let unit = match self.unit.as_deref() {
            None => return Err(fail("`unit` is missing (hours, working-days or calendar-days)".into())),
            Some(u) => Unit::parse(u)
                .ok_or_else(|| fail(format!("unknown unit `{u}` (hours, working-days or calendar-days)")))?,
        };
        let warn_at = self.warn_at.unwrap_or(defaults.warn_at);
        if !warn_ok(warn_at) {
            return Err(fail(format!("warn_at {warn_at} {WARN_PROBLEM}")));
        }
        let late_at = self.late_at.unwrap_or(defaults.late_at);
        if !late_ok(late_at) {
            return Err(fail(format!("late_at {late_at} {LATE_PROBLEM}")));
        }
        Ok(Rule { step, priority, duration, unit, warn_at, late_at })
    }
}

/// The validated rules: every step covered for every priority, no (step, priority) twice.
#[derive(Clone, Debug, PartialEq)]
pub struct SlaRules {
    rules: Vec<Rule>,
}

impl SlaRules {
    /// The shipped rules (tested to parse).
    pub fn seed() -> SlaRules {
        SlaRules::from_toml(SEED_TOML).expect("the shipped SLA rules are valid")
    }

    /// Parse and validate an administrator's rules.
    pub fn from_toml(text: &str) -> Result<SlaRules, SlaError> {
        let raw: RawRules = toml::from_str(text)?;
        if !warn_ok(raw.defaults.warn_at) {
            return Err(SlaError::Default {
                name: "warn_at",
                value: raw.defaults.warn_at,
                problem: WARN_PROBLEM,
            });
        }
        if !late_ok(raw.defaults.late_at) {
            return Err(SlaError::Default {
                name: "late_at",
                value: raw.defaults.late_at,
                problem: LATE_PROBLEM,
            });
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(raw.rule.len());
        for (i, raw_rule) in raw.rule.into_iter().enumerate() {
            let row = i + 1;
            let rule = raw_rule.parse(row, &raw.defaults)?;
            if let Some(first) = rules.iter().position(|r| r.step == rule.step && r.priority == rule.priority)
            {
                let scope = rule.priority.map_or("every priority", Priority::code);
                return Err(SlaError::Row {
                    row,
                    step: format!("`{}`", rule.step.code()),
                    problem: format!("repeats row {} for {scope}", first + 1),
                });
            }
            rules.push(rule);
        }
        let rules = SlaRules { rules };
        for step in Step::ALL {
            for priority in Priority::ALL {
                if rules.find(step, priority).is_none() {
                    return Err(SlaError::Missing { step: step.code(), priority: priority.code() });
                }
            }
        }
        Ok(rules)
    }

    fn find(&self, step: Step, priority: Priority) -> Option<&Rule> {
        let mut general = None;
        for rule in self.rules.iter().filter(|r| r.step == step) {
            match rule.priority {
                Some(p) if p == priority => return Some(rule),
                None => general = Some(rule),
                Some(_) => {}
            }
        }
        general
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule for a step at a priority: its own row, else the step's general row.
    pub fn rule(&self, step: Step, priority: Priority) -> &Rule {
        // Validation guarantees a rule for every (step, priority); the fallback keeps this
        // total without a panic path.
        self.find(step, priority).unwrap_or(&FALLBACK)
    }

    /// When the step is due: see the module docs for days, hours and pauses.
    pub fn due(
        &self,
        step: Step,
        priority: Priority,
        started_at: Timestamp,
        paused: &[(Timestamp, Timestamp)],
        calendar: &WorkingCalendar,
        region: Option<&RegionCode>,
    ) -> Timestamp {
        let rule = self.rule(step, priority);
        point(rule, Point::Due, started_at, paused, calendar, region)
    }

    /// When the escalation sweep first warns the handling unit: the same rule with its
    /// allowed time cut to `warn_at` (whole days rounded down, so the warning is never late).
    pub fn warning_at(
        &self,
        step: Step,
        priority: Priority,
        started_at: Timestamp,
        paused: &[(Timestamp, Timestamp)],
        calendar: &WorkingCalendar,
        region: Option<&RegionCode>,
    ) -> Timestamp {
        let rule = self.rule(step, priority);
        point(rule, Point::Warn, started_at, paused, calendar, region)
    }

    /// Warning point, deadline and late point (the allowed time times `late_at`, whole days
    /// rounded up, so nobody is escalated before the grace period has fully run).
    pub fn deadlines(
        &self,
        step: Step,
        priority: Priority,
        started_at: Timestamp,
        paused: &[(Timestamp, Timestamp)],
        calendar: &WorkingCalendar,
        region: Option<&RegionCode>,
    ) -> Deadlines {
        let rule = self.rule(step, priority);
        let at = |p| point(rule, p, started_at, paused, calendar, region);
        Deadlines { warn_at: at(Point::Warn), due: at(Point::Due), late_at: at(Point::Late) }
    }
}

/// Never used: [`SlaRules::from_toml`] refuses rules that leave a (step, priority) uncovered.
static FALLBACK: Rule = Rule {
    step: Step::Verification,
    priority: None,
    duration: 3,
    unit: Unit::WorkingDays,
    warn_at: 0.75,
    late_at: 1.5,
};

#[derive(Clone, Copy)]
enum Point {
    Warn,
    Due,
    Late,
}

fn point(
    rule: &Rule,
    which: Point,
    started_at: Timestamp,
    paused: &[(Timestamp, Timestamp)],
    calendar: &WorkingCalendar,
    region: Option<&RegionCode>,
) -> Timestamp {
    let factor = match which {
        Point::Warn => rule.warn_at,
        Point::Due => 1.0,
        Point::Late => rule.late_at,
    };
    let scaled = f64::from(rule.duration) * factor;
    let days = match which {
        Point::Warn => scaled.floor(),
        Point::Due | Point::Late => scaled.ceil(),
    } as u32;
    match rule.unit {
        Unit::Hours => add_running_time(started_at, (scaled * 3_600_000.0).round() as i64, paused),
        Unit::WorkingDays => calendar.end_of_nth_day(started_at, days, Count::WorkingDays, region, paused),
        Unit::CalendarDays => calendar.end_of_nth_day(started_at, days, Count::CalendarDays, region, paused),
    }
}

/// `start + running_ms` with the clock stopped during the pauses that begin before the
/// deadline is reached.
fn add_running_time(start: Timestamp, running_ms: i64, paused: &[(Timestamp, Timestamp)]) -> Timestamp {
    let mut t = start.0;
    let mut left = running_ms;
    for (a, b) in merge_pauses(paused) {
        if b.0 <= t {
            continue;
        }
        let a = a.0.max(t);
        if a - t >= left {
            break;
        }
        left -= a - t;
        t = b.0;
    }
    Timestamp(t.saturating_add(left))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Date;

    fn wita(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
        Timestamp::from_wita(y, m, d, h, min)
    }

    fn due(step: Step, priority: Priority, start: Timestamp, paused: &[(Timestamp, Timestamp)]) -> String {
        let cal = WorkingCalendar::seed();
        SlaRules::seed().due(step, priority, start, paused, &cal, None).to_rfc3339_wita()
    }

    #[test]
    fn shipped_rules_carry_the_official_limits() {
        let rules = SlaRules::seed();
        let r = |s, p| {
            let rule = rules.rule(s, p);
            (rule.duration, rule.unit)
        };
        assert_eq!(r(Step::Verification, Priority::Ordinary), (3, Unit::WorkingDays));
        assert_eq!(r(Step::FollowUp, Priority::Urgent), (5, Unit::WorkingDays));
        assert_eq!(r(Step::AutoClose, Priority::Important), (10, Unit::WorkingDays));
        assert_eq!(r(Step::FirstResponse, Priority::Urgent), (1, Unit::Hours));
        assert_eq!(r(Step::FirstResponse, Priority::Important), (24, Unit::Hours));
        assert_eq!(r(Step::FirstResponse, Priority::Ordinary), (48, Unit::Hours));
        assert_eq!(r(Step::Completion, Priority::Ordinary), (14, Unit::WorkingDays));
        assert_eq!(r(Step::CompletionInspection, Priority::Ordinary), (60, Unit::WorkingDays));
        assert_eq!(r(Step::RatingReply, Priority::Ordinary), (10, Unit::WorkingDays));
    }

    #[test]
    fn priorities_read_in_both_languages() {
        assert_eq!(Priority::parse("mendesak"), Some(Priority::Urgent));
        assert_eq!(Priority::parse("Penting"), Some(Priority::Important));
        assert_eq!(Priority::parse("ordinary"), Some(Priority::Ordinary));
        assert_eq!(Priority::parse("segera"), None);
        assert_eq!(Priority::Urgent.name_id(), "mendesak");
    }

    #[test]
    fn verification_over_a_weekend_lands_on_monday() {
        // Wednesday 4 March 2026 → Thu 5, Fri 6, Mon 9.
        let got = due(Step::Verification, Priority::Ordinary, wita(2026, 3, 4, 10, 0), &[]);
        assert_eq!(got, "2026-03-09T23:59:59+08:00");
    }

    #[test]
    fn follow_up_skips_idulfitri_2026_and_its_cuti_bersama() {
        // Dispatched Tuesday 17 March 2026; 18–24 March are all off. Counted: 25, 26, 27,
        // 30, 31 March.
        let got = due(Step::FollowUp, Priority::Ordinary, wita(2026, 3, 17, 14, 0), &[]);
        assert_eq!(got, "2026-03-31T23:59:59+08:00");
    }

    #[test]
    fn complaint_received_on_saturday_is_verified_by_wednesday() {
        let got = due(Step::Verification, Priority::Ordinary, wita(2026, 3, 7, 20, 0), &[]);
        assert_eq!(got, "2026-03-11T23:59:59+08:00");
    }

    #[test]
    fn hour_rules_ignore_the_calendar() {
        // Saturday night, urgent: one hour later, weekend or not.
        let got = due(Step::FirstResponse, Priority::Urgent, wita(2026, 3, 7, 22, 30), &[]);
        assert_eq!(got, "2026-03-07T23:30:00+08:00");
        // Idulfitri morning, important: 24 hours later, on the second day of Idulfitri.
        let got = due(Step::FirstResponse, Priority::Important, wita(2026, 3, 21, 9, 0), &[]);
        assert_eq!(got, "2026-03-22T09:00:00+08:00");
        // Ordinary, Saturday 22:30 → Monday 22:30.
        let got = due(Step::FirstResponse, Priority::Ordinary, wita(2026, 3, 7, 22, 30), &[]);
        assert_eq!(got, "2026-03-09T22:30:00+08:00");
    }

    #[test]
    fn pause_extends_an_hour_limit_by_the_time_waited() {
        // Urgent at 10:00; waiting for the complainant 10:20–12:20 → due 13:00.
        let start = wita(2026, 3, 2, 10, 0);
        let pause = [(wita(2026, 3, 2, 10, 20), wita(2026, 3, 2, 12, 20))];
        assert_eq!(due(Step::FirstResponse, Priority::Urgent, start, &pause), "2026-03-02T13:00:00+08:00");
        // A pause that starts after the deadline changes nothing.
        let after = [(wita(2026, 3, 2, 11, 30), wita(2026, 3, 2, 15, 0))];
        assert_eq!(due(Step::FirstResponse, Priority::Urgent, start, &after), "2026-03-02T11:00:00+08:00");
        // Nor does a pause that ended before the step started.
        let before = [(wita(2026, 3, 1, 8, 0), wita(2026, 3, 1, 9, 0))];
        assert_eq!(due(Step::FirstResponse, Priority::Urgent, start, &before), "2026-03-02T11:00:00+08:00");
    }

    #[test]
    fn pause_over_two_day_ends_adds_two_working_days() {
        // Received Monday 2 March 2026 09:00: due Thursday 5 March without a pause. Waiting
        // from Tuesday 10:00 to Thursday 14:00: Tuesday and Wednesday do not count, so the
        // three days are Thu 5, Fri 6, Mon 9.
        let start = wita(2026, 3, 2, 9, 0);
        assert_eq!(due(Step::Verification, Priority::Ordinary, start, &[]), "2026-03-05T23:59:59+08:00");
        let pause = [(wita(2026, 3, 3, 10, 0), wita(2026, 3, 5, 14, 0))];
        assert_eq!(due(Step::Verification, Priority::Ordinary, start, &pause), "2026-03-09T23:59:59+08:00");
        // Overlapping pauses are counted once.
        let overlapping = [
            (wita(2026, 3, 3, 10, 0), wita(2026, 3, 4, 12, 0)),
            (wita(2026, 3, 4, 9, 0), wita(2026, 3, 5, 14, 0)),
        ];
        assert_eq!(
            due(Step::Verification, Priority::Ordinary, start, &overlapping),
            "2026-03-09T23:59:59+08:00"
        );
    }

    #[test]
    fn pause_answered_the_same_day_adds_nothing_to_a_day_limit() {
        let start = wita(2026, 3, 2, 9, 0);
        let pause = [(wita(2026, 3, 3, 10, 0), wita(2026, 3, 3, 15, 0))];
        assert_eq!(due(Step::Verification, Priority::Ordinary, start, &pause), "2026-03-05T23:59:59+08:00");
    }

    #[test]
    fn pause_over_a_weekend_costs_only_the_working_day_it_began_on() {
        // Waiting from Friday 6 March 18:00 to Monday 9 March 08:00: Friday does not count,
        // the weekend never did. Received Wed 4: Thu 5 (1), Mon 9 (2), Tue 10 (3).
        let start = wita(2026, 3, 4, 9, 0);
        let pause = [(wita(2026, 3, 6, 18, 0), wita(2026, 3, 9, 8, 0))];
        assert_eq!(due(Step::Verification, Priority::Ordinary, start, &pause), "2026-03-10T23:59:59+08:00");
    }

    #[test]
    fn calendar_day_rules_count_weekends_and_holidays() {
        let rules = SlaRules::from_toml(
            r#"
            [[rule]]
            step = "completion"
            duration = 14
            unit = "calendar-days"
            "#,
        );
        // A file covering one step is refused: every step needs a rule.
        assert!(matches!(rules, Err(SlaError::Missing { .. })));
        let rules = SlaRules::from_toml(&SEED_TOML.replace(
            "step = \"completion\"\nduration = 14\nunit = \"working-days\"",
            "step = \"completion\"\nduration = 14\nunit = \"calendar-days\"",
        ))
        .unwrap();
        assert_eq!(rules.rule(Step::Completion, Priority::Ordinary).unit, Unit::CalendarDays);
        let cal = WorkingCalendar::seed();
        // Tuesday 17 March 2026 + 14 calendar days → Tuesday 31 March, holidays included.
        let got = rules.due(Step::Completion, Priority::Ordinary, wita(2026, 3, 17, 9, 0), &[], &cal, None);
        assert_eq!(got, Date::new(2026, 3, 31).unwrap().end());
    }

    #[test]
    fn late_night_utc_start_counts_from_the_next_wita_day() {
        // 2026-03-05T17:30Z = Friday 6 March 01:30 WITA: three working days are Mon 9 – Wed 11.
        let start = Timestamp(Date::new(2026, 3, 5).unwrap().days() * 86_400_000 + (17 * 3600 + 1800) * 1000);
        assert_eq!(due(Step::Verification, Priority::Ordinary, start, &[]), "2026-03-11T23:59:59+08:00");
    }

    #[test]
    fn warning_and_late_points_scale_the_allowed_time() {
        let rules = SlaRules::seed();
        let cal = WorkingCalendar::seed();
        // Verification from Wednesday 4 March: warn after floor(2.25) = 2 days (Fri 6),
        // due after 3 (Mon 9), late after ceil(4.5) = 5 (Wed 11).
        let d =
            rules.deadlines(Step::Verification, Priority::Ordinary, wita(2026, 3, 4, 10, 0), &[], &cal, None);
        assert_eq!(d.warn_at.to_rfc3339_wita(), "2026-03-06T23:59:59+08:00");
        assert_eq!(d.due.to_rfc3339_wita(), "2026-03-09T23:59:59+08:00");
        assert_eq!(d.late_at.to_rfc3339_wita(), "2026-03-11T23:59:59+08:00");
        let w = rules.warning_at(
            Step::Verification,
            Priority::Ordinary,
            wita(2026, 3, 4, 10, 0),
            &[],
            &cal,
            None,
        );
        assert_eq!(w, d.warn_at);
        // Urgent first response at 10:00: warn 10:45, due 11:00, late 11:30.
        let d =
            rules.deadlines(Step::FirstResponse, Priority::Urgent, wita(2026, 3, 2, 10, 0), &[], &cal, None);
        assert_eq!(
            (d.warn_at, d.due, d.late_at),
            (wita(2026, 3, 2, 10, 45), wita(2026, 3, 2, 11, 0), wita(2026, 3, 2, 11, 30))
        );
    }

    #[test]
    fn escalation_levels_follow_the_three_points() {
        let d = Deadlines {
            warn_at: wita(2026, 3, 2, 10, 45),
            due: wita(2026, 3, 2, 11, 0),
            late_at: wita(2026, 3, 2, 11, 30),
        };
        assert_eq!(d.escalation(wita(2026, 3, 2, 10, 44)), Escalation::OnTime);
        assert_eq!(d.escalation(wita(2026, 3, 2, 10, 45)), Escalation::Warn);
        assert_eq!(d.escalation(wita(2026, 3, 2, 11, 0)), Escalation::Warn);
        assert_eq!(d.escalation(Timestamp(wita(2026, 3, 2, 11, 0).0 + 1)), Escalation::Overdue);
        assert_eq!(d.escalation(wita(2026, 3, 2, 11, 30)), Escalation::Overdue);
        assert_eq!(d.escalation(wita(2026, 3, 2, 11, 31)), Escalation::Late);
    }

    #[test]
    fn per_rule_fractions_override_the_defaults() {
        let text = SEED_TOML.replace(
            "step = \"verification\"\nduration = 3\nunit = \"working-days\"",
            "step = \"verification\"\nduration = 3\nunit = \"working-days\"\nwarn_at = 0.34\nlate_at = 2.0",
        );
        let rules = SlaRules::from_toml(&text).unwrap();
        let cal = WorkingCalendar::seed();
        // floor(1.02) = 1 day → Thu 5; ceil(6) = 6 days → Thu 12.
        let d =
            rules.deadlines(Step::Verification, Priority::Ordinary, wita(2026, 3, 4, 10, 0), &[], &cal, None);
        assert_eq!(d.warn_at, Date::new(2026, 3, 5).unwrap().end());
        assert_eq!(d.late_at, Date::new(2026, 3, 12).unwrap().end());
    }

    fn refused(text: &str) -> String {
        SlaRules::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn unknown_unit_is_refused_naming_the_row() {
        let text =
            SEED_TOML.replace("duration = 5\nunit = \"working-days\"", "duration = 5\nunit = \"hari\"");
        assert_eq!(
            refused(&text),
            "SLA rule row 5 (`follow-up`): unknown unit `hari` (hours, working-days or calendar-days)"
        );
    }

    #[test]
    fn bad_rows_are_refused_naming_the_row() {
        let text = r#"
            [[rule]]
            step = "verification"
            duration = 0
            unit = "hours"
        "#;
        assert_eq!(refused(text), "SLA rule row 1 (`verification`): duration 0 must be between 1 and 1000");
        let text = r#"
            [[rule]]
            step = "verifikasi"
            duration = 3
            unit = "hours"
        "#;
        assert!(refused(text).starts_with("SLA rule row 1 (`verifikasi`): unknown step `verifikasi`"));
        let text = r#"
            [[rule]]
            step = "first-response"
            priority = "segera"
            duration = 3
            unit = "hours"
        "#;
        assert!(refused(text).starts_with("SLA rule row 1 (`first-response`): unknown priority `segera`"));
        let text = r#"
            [[rule]]
            step = "verification"
            duration = 3
            unit = "hours"
            warn_at = 1.2
        "#;
        assert!(refused(text).contains("row 1 (`verification`): warn_at 1.2 must be a fraction"));
        let text = "[defaults]\nlate_at = 0.5\n";
        assert!(refused(text).contains("`late_at = 0.5` in [defaults]"));
    }

    #[test]
    fn repeated_step_and_priority_is_refused() {
        let text = format!(
            "{SEED_TOML}\n[[rule]]\nstep = \"first-response\"\npriority = \"mendesak\"\nduration = 2\nunit = \"hours\"\n"
        );
        assert_eq!(refused(&text), "SLA rule row 10 (`first-response`): repeats row 2 for urgent");
    }

    #[test]
    fn step_without_a_rule_for_some_priority_is_refused() {
        let only_specific = SEED_TOML.replace(
            "step = \"first-response\"\npriority = \"ordinary\"    # biasa\nduration = 48\nunit = \"hours\"",
            "step = \"follow-up\"\npriority = \"ordinary\"\nduration = 4\nunit = \"working-days\"",
        );
        assert_eq!(
            refused(&only_specific),
            "SLA rules: no rule covers step `first-response` for priority `ordinary`"
        );
    }
}
