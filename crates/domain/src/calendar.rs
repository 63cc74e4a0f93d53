//! The working-day calendar: which days government offices in NTB work, and how many
//! working days lie between two instants.
//!
//! Indonesia's days off change every year (the SKB 3 Menteri on *hari libur nasional dan
//! cuti bersama*, revised during the year, with Islamic dates fixed at the *sidang isbat*),
//! so they are data an administrator edits (seeded from `data/calendar.toml`), never code.
//! Every date is reckoned in WITA through [`crate::clock`]. This module must never import
//! spin-sdk, a store or a system clock: callers pass the instants.
//!
//! **Working-day deadlines.** [`WorkingCalendar::add_working_days`] counts from the day
//! *after* the WITA day of `from` and ends at the last millisecond (23:59:59.999 WITA) of the
//! `n`th working day. A complaint received on Friday at 16:00 with 3 working days is due at
//! the end of Wednesday; one received on Saturday is due at the same moment, because its
//! first counted day is Monday. We count whole days rather than "the same time of day"
//! because the limits are written in days (*paling lambat 3 hari kerja*), because a
//! complaint that lands at 16:00 would otherwise lose most of its last day to the night,
//! and because "due Wednesday" is what an officer and a citizen can read and plan for.
//!
//! **Measuring.** [`WorkingCalendar::working_days_between`] is continuous: each working day
//! is 24 hours of working time and every other day is none, so reports can take medians
//! and 90th percentiles of response times. Whether a step met its limit is decided by the
//! deadline, not by this measure (a 3-day limit leaves up to 3.99 measured working days).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::clock::{civil_from_days, days_from_civil, Timestamp, WITA_OFFSET_MS};
use crate::region::RegionCode;

pub const SEED_TOML: &str = include_str!("../../../data/calendar.toml");

const DAY_MS: i64 = 86_400_000;

/// A civil date in WITA. Always a real date: construct it with [`Date::new`] or
/// [`Date::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DateError {
    #[error("`{0}` is not a date written as YYYY-MM-DD")]
    Malformed(String),
    #[error("{0:04}-{1:02}-{2:02} is not a real date")]
    NotReal(i32, u32, u32),
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// The code used in data files (`monday`).
    pub fn code(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    /// The day's name in Bahasa Indonesia (`Senin`).
    pub fn name_id(self) -> &'static str {
        match self {
            Weekday::Monday => "Senin",
            Weekday::Tuesday => "Selasa",
            Weekday::Wednesday => "Rabu",
            Weekday::Thursday => "Kamis",
            Weekday::Friday => "Jumat",
            Weekday::Saturday => "Sabtu",
            Weekday::Sunday => "Minggu",
        }
    }

    /// Parse a code, in English or Bahasa Indonesia, ignoring case.
    pub fn parse(s: &str) -> Option<Weekday> {
        let s = s.trim().to_ascii_lowercase();
        Weekday::ALL.into_iter().find(|w| w.code() == s || w.name_id().to_ascii_lowercase() == s)
    }

    /// 0 for Monday to 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NotReal(year, month, day));
        }
        Ok(Date { year, month, day })
    }

    /// Parse `YYYY-MM-DD`.
    pub fn parse(input: &str) -> Result<Date, DateError> {
        let s = input.trim();
        let malformed = || DateError::Malformed(s.chars().take(40).collect());
        let parts: Vec<&str> = s.split('-').collect();
        let [y, m, d] = parts.as_slice() else { return Err(malformed()) };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(malformed());
        }
        let num = |p: &str| -> Result<u32, DateError> {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().map_err(|_| malformed())
            } else {
                Err(malformed())
            }
        };
        Date::new(num(y)? as i32, num(m)?, num(d)?)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn day(self) -> u32 {
        self.day
    }

    /// The WITA date of an instant: 2026-03-05T17:30Z is Friday 6 March in Mataram.
    pub fn of(t: Timestamp) -> Date {
        Date::from_days((t.0 + WITA_OFFSET_MS).div_euclid(DAY_MS))
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let (year, month, day) = civil_from_days(days);
        Date { year, month, day }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday (index 3).
        Weekday::ALL[(self.days() + 3).rem_euclid(7) as usize]
    }

    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }

    pub fn next(self) -> Date {
        self.add_days(1)
    }

    /// 00:00 WITA on this date.
    pub fn start(self) -> Timestamp {
        Timestamp(self.days() * DAY_MS - WITA_OFFSET_MS)
    }

    /// The last millisecond of this date in WITA (23:59:59.999): what a day deadline means.
    pub fn end(self) -> Timestamp {
        Timestamp(self.next().start().0 - 1)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why an office is closed on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DayKind {
    /// *Hari libur nasional* (or a regional holiday).
    Holiday,
    /// *Cuti bersama*: offices close; counted against civil servants' annual leave.
    CollectiveLeave,
}

impl DayKind {
    pub fn code(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::CollectiveLeave => "collective-leave",
        }
    }

    fn parse(s: &str) -> Option<DayKind> {
        [DayKind::Holiday, DayKind::CollectiveLeave].into_iter().find(|k| k.code() == s.trim())
    }
}

/// One row of the calendar: a day on which offices are closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayOff {
    pub date: Date,
    /// In Bahasa Indonesia, as the decree names it.
    pub name: String,
    pub kind: DayKind,
    /// Empty for a national day; otherwise the regions (and everything within them) it closes.
    pub regions: Vec<RegionCode>,
    /// Whether an administrator has checked the row against the decree.
    pub confirmed: bool,
    pub note: Option<String>,
}

impl DayOff {
    pub fn is_national(&self) -> bool {
        self.regions.is_empty()
    }

    /// Whether this day off closes offices in `region` (`None`: national rows only).
    pub fn applies_to(&self, region: Option<&RegionCode>) -> bool {
        self.is_national() || region.is_some_and(|r| self.regions.iter().any(|x| r.is_within(x)))
    }

    fn overlaps(&self, other: &DayOff) -> bool {
        self.is_national()
            || other.is_national()
            || self.regions.iter().any(|a| other.regions.iter().any(|b| a.is_within(b) || b.is_within(a)))
    }
}

/// A calendar file that cannot be used. Row numbers count the entries of `days` from 1.
#[derive(Debug, Error)]
pub enum CalendarError {
    #[error("the calendar is not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("calendar: `office_days` is empty; at least one weekday must be a working day")]
    NoOfficeDays,
    #[error("calendar: `office_days` names `{0}`, which is not a weekday (monday … sunday)")]
    UnknownWeekday(String),
    #[error("calendar row {row} ({name}): {problem}")]
    Row { row: usize, name: String, problem: String },
    #[error("calendar row {row} ({name}): {date} is already a day off in row {first_row}")]
    Duplicate { row: usize, name: String, date: Date, first_row: usize },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    office_days: Vec<String>,
    #[serde(default)]
    days: Vec<RawDay>,
}

/// Fields stay loose here so that a bad value is reported with its row, not as a bare
/// deserialisation error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    date: Option<toml::Value>,
    name: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    confirmed: bool,
    note: Option<String>,
}

impl RawDay {
    fn parse(self, row: usize) -> Result<DayOff, CalendarError> {
        let name = self.name.as_deref().map(str::trim).unwrap_or("").to_string();
        let label = if name.is_empty() { "no name".to_string() } else { format!("`{name}`") };
        let fail = |problem: String| CalendarError::Row { row, name: label.clone(), problem };
        if name.is_empty() {
            return Err(fail("`name` is missing or empty".into()));
        }
        let date = match &self.date {
            None => return Err(fail("`date` is missing".into())),
            Some(toml::Value::String(s)) => Date::parse(s).map_err(|e| fail(e.to_string()))?,
            Some(toml::Value::Datetime(dt)) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => Date::new(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .map_err(|e| fail(e.to_string()))?,
                _ => return Err(fail(format!("`date = {dt}` must be a date without a time"))),
            },
            Some(other) => return Err(fail(format!("`date = {other}` is not a date"))),
        };
        let kind = match self.kind.as_deref() {
            None => return Err(fail("`kind` is missing (holiday or collective-leave)".into())),
            Some(k) => DayKind::parse(k)
                .ok_or_else(|| fail(format!("kind `{k}` is neither `holiday` nor `collective-leave`")))?,
        };
        let regions = self
            .regions
            .iter()
            .map(|r| RegionCode::parse(r).map_err(|e| fail(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DayOff { date, name, kind, regions, confirmed: self.confirmed, note: self.note })
    }
}

/// Office days and days off, validated: every date real, no day off listed twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingCalendar {
    /// Indexed by [`Weekday::index`].
    office_days: [bool; 7],
    /// Sorted by date, then file order.
    days_off: Vec<DayOff>,
    years: BTreeSet<i32>,
}

impl WorkingCalendar {
    /// The shipped calendar (tested to parse).
    pub fn seed() -> WorkingCalendar {
        WorkingCalendar::from_toml(SEED_TOML).expect("the shipped calendar is valid")
    }

    /// Parse and validate an administrator's calendar.
    pub fn from_toml(text: &str) -> Result<WorkingCalendar, CalendarError> {
        let raw: RawCalendar = toml::from_str(text)?;
        let mut office_days = [false; 7];
        for code in &raw.office_days {
            let day = Weekday::parse(code).ok_or_else(|| CalendarError::UnknownWeekday(code.clone()))?;
            office_days[day.index()] = true;
        }
        if !office_days.contains(&true) {
            return Err(CalendarError::NoOfficeDays);
        }
        let mut rows: Vec<(usize, DayOff)> = Vec::with_capacity(raw.days.len());
        for (i, raw_day) in raw.days.into_iter().enumerate() {
            let row = i + 1;
            let day = raw_day.parse(row)?;
            if let Some((first_row, _)) = rows.iter().find(|(_, d)| d.date == day.date && d.overlaps(&day)) {
                return Err(CalendarError::Duplicate {
                    row,
                    name: format!("`{}`", day.name),
                    date: day.date,
                    first_row: *first_row,
                });
            }
            rows.push((row, day));
        }
        let mut days_off: Vec<DayOff> = rows.into_iter().map(|(_, d)| d).collect();
        days_off.sort_by_key(|d| d.date);
        let years = days_off.iter().map(|d| d.date.year()).collect();
        Ok(WorkingCalendar { office_days, days_off, years })
    }

    /// Every day off, in date order.
    pub fn days_off(&self) -> &[DayOff] {
        &self.days_off
    }

    /// Rows an administrator has not yet checked against the decree.
    pub fn unconfirmed(&self) -> impl Iterator<Item = &DayOff> {
        self.days_off.iter().filter(|d| !d.confirmed)
    }

    /// Whether the calendar lists any day off in `year`. Outside such years only weekends
    /// are skipped, so deadlines there are early; the sweep should warn the administrator.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn is_office_day(&self, weekday: Weekday) -> bool {
        self.office_days[weekday.index()]
    }

    /// Why offices in `region` are closed on `date`, if the calendar lists it.
    pub fn day_off(&self, date: Date, region: Option<&RegionCode>) -> Option<&DayOff> {
        let from = self.days_off.partition_point(|d| d.date < date);
        self.days_off[from..].iter().take_while(|d| d.date == date).find(|d| d.applies_to(region))
    }

    /// An office day that is not a day off in `region` (`None`: national days off only).
    pub fn is_working_day(&self, date: Date, region: Option<&RegionCode>) -> bool {
        self.is_office_day(date.weekday()) && self.day_off(date, region).is_none()
    }

    /// The first working day on or after `date`.
    pub fn next_working_day(&self, date: Date, region: Option<&RegionCode>) -> Date {
        let mut d = date;
        while !self.is_working_day(d, region) {
            d = d.next();
        }
        d
    }

    /// The deadline `n` working days after `from`: the end (23:59:59.999 WITA) of the `n`th
    /// working day after the WITA day of `from`. `n = 0` is the end of that day itself.
    pub fn add_working_days(&self, from: Timestamp, n: u32, region: Option<&RegionCode>) -> Timestamp {
        self.end_of_nth_day(from, n, Count::WorkingDays, region, &[])
    }

    /// How many working days `[from, to)` holds (0 when `to <= from`).
    pub fn working_days_in(&self, from: Date, to: Date, region: Option<&RegionCode>) -> u32 {
        let span = to.days() - from.days();
        if span <= 0 {
            return 0;
        }
        let per_week = self.office_days.iter().filter(|&&w| w).count() as i64;
        let mut count = span / 7 * per_week;
        let first = from.weekday().index();
        for i in 0..span % 7 {
            if self.office_days[(first + i as usize) % 7] {
                count += 1;
            }
        }
        let start = self.days_off.partition_point(|d| d.date < from);
        let mut last_counted: Option<Date> = None;
        for d in self.days_off[start..].iter().take_while(|d| d.date < to) {
            if last_counted != Some(d.date) && self.is_office_day(d.date.weekday()) && d.applies_to(region) {
                count -= 1;
                last_counted = Some(d.date);
            }
        }
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// Working time from `a` to `b` in working days, where a working day is 24 hours of
    /// working time and any other day none: Friday 16:00 to Monday 10:00 is 0.75. Negative
    /// when `b` is before `a`.
    pub fn working_days_between(&self, a: Timestamp, b: Timestamp, region: Option<&RegionCode>) -> f64 {
        if b < a {
            return -self.working_days_between(b, a, region);
        }
        let (da, db) = (Date::of(a), Date::of(b));
        let working_ms = |d: Date, from: Timestamp, to: Timestamp| {
            if self.is_working_day(d, region) {
                to.0 - from.0
            } else {
                0
            }
        };
        let ms = if da == db {
            working_ms(da, a, b)
        } else {
            working_ms(da, a, da.next().start())
                + i64::from(self.working_days_in(da.next(), db, region)) * DAY_MS
                + working_ms(db, db.start(), b)
        };
        ms as f64 / DAY_MS as f64
    }

    /// The end of the `n`th counted day after the WITA day of `from`. A day counts when it
    /// is of the kind `count` asks for and its last millisecond does not fall inside one of
    /// the `paused` intervals (`[start, end)`; empty or reversed intervals are ignored).
    pub(crate) fn end_of_nth_day(
        &self,
        from: Timestamp,
        n: u32,
        count: Count,
        region: Option<&RegionCode>,
        paused: &[(Timestamp, Timestamp)],
    ) -> Timestamp {
        let pauses = merge_pauses(paused);
        let mut pause = pauses.iter().peekable();
        let mut day = Date::of(from);
        let mut counted = 0;
        while counted < n {
            day = day.next();
            let close = day.end();
            while pause.next_if(|(_, end)| *end <= close).is_some() {}
            if let Some(&&(start, end)) = pause.peek() {
                if start <= close {
                    // Every day whose close falls before the pause ends is lost: jump to the
                    // day the complainant answered.
                    day = Date::of(end).add_days(-1).max(day);
                    continue;
                }
            }
            let counts = match count {
                Count::WorkingDays => self.is_working_day(day, region),
                Count::CalendarDays => true,
            };
            if counts {
                counted += 1;
            }
        }
        day.end()
    }
}

/// Which days a day limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Count {
    WorkingDays,
    CalendarDays,
}

/// Sorted, non-overlapping `[start, end)` intervals; empty and reversed ones dropped.
pub(crate) fn merge_pauses(paused: &[(Timestamp, Timestamp)]) -> Vec<(Timestamp, Timestamp)> {
    let mut v: Vec<(Timestamp, Timestamp)> = paused.iter().copied().filter(|(a, b)| a < b).collect();
    v.sort();
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wita(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
        Timestamp::from_wita(y, m, d, h, min)
    }

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::new(y, m, d).unwrap()
    }

    fn due(from: Timestamp, n: u32) -> String {
        WorkingCalendar::seed().add_working_days(from, n, None).to_rfc3339_wita()
    }

    #[test]
    fn shipped_calendar_parses_and_lists_2026_and_2027() {
        let cal = WorkingCalendar::seed();
        let count = |year: i32, kind: DayKind| {
            cal.days_off().iter().filter(|d| d.date.year() == year && d.kind == kind).count()
        };
        // 2026: 17 holidays and 8 cuti bersama, as announced.
        assert_eq!((count(2026, DayKind::Holiday), count(2026, DayKind::CollectiveLeave)), (17, 8));
        // 2027 has two Isra Mikraj (January and December).
        assert_eq!((count(2027, DayKind::Holiday), count(2027, DayKind::CollectiveLeave)), (18, 8));
        assert!(cal.covers(2026) && cal.covers(2027) && !cal.covers(2028));
        assert!(cal.days_off().iter().all(|d| d.is_national()));
    }

    #[test]
    fn every_shipped_row_is_unconfirmed_until_an_administrator_checks_it() {
        let cal = WorkingCalendar::seed();
        assert_eq!(cal.unconfirmed().count(), cal.days_off().len());
        assert!(SEED_TOML.contains("UNCONFIRMED"));
    }

    #[test]
    fn weekdays_are_computed_from_the_date() {
        assert_eq!(date(2026, 1, 1).weekday(), Weekday::Thursday);
        assert_eq!(date(2026, 3, 21).weekday(), Weekday::Saturday);
        assert_eq!(date(2027, 3, 10).weekday(), Weekday::Wednesday);
        assert_eq!(date(1970, 1, 1).weekday(), Weekday::Thursday);
        assert_eq!(date(2026, 3, 23).weekday().name_id(), "Senin");
    }

    #[test]
    fn dates_must_be_real() {
        assert_eq!(Date::parse("2026-02-29"), Err(DateError::NotReal(2026, 2, 29)));
        assert_eq!(Date::parse("2028-02-29").unwrap().to_string(), "2028-02-29");
        assert!(matches!(Date::parse("2026-13-01"), Err(DateError::NotReal(..))));
        assert!(matches!(Date::parse("26-3-1"), Err(DateError::Malformed(_))));
        assert!(matches!(Date::parse("2026-03-+1"), Err(DateError::Malformed(_))));
    }

    #[test]
    fn late_night_utc_is_the_next_wita_day() {
        // 2026-03-05T17:30Z is Friday 6 March, 01:30 in Mataram.
        let t = Timestamp(date(2026, 3, 5).days() * DAY_MS + (17 * 3600 + 1800) * 1000);
        assert_eq!(Date::of(t), date(2026, 3, 6));
        assert_eq!(Date::of(t).weekday(), Weekday::Friday);
        // So one working day runs to Monday, not to Friday as a UTC reading would say.
        assert_eq!(due(t, 1), "2026-03-09T23:59:59+08:00");
        assert_eq!(date(2026, 3, 6).start(), wita(2026, 3, 6, 0, 0));
    }

    #[test]
    fn weekends_and_days_off_are_not_working_days() {
        let cal = WorkingCalendar::seed();
        assert!(cal.is_working_day(date(2026, 3, 17), None)); // Tuesday
        assert!(!cal.is_working_day(date(2026, 3, 14), None)); // Saturday
        assert!(!cal.is_working_day(date(2026, 3, 19), None)); // Nyepi
        assert!(!cal.is_working_day(date(2026, 3, 20), None)); // cuti bersama Idulfitri
        assert!(cal.is_working_day(date(2026, 3, 25), None));
        assert_eq!(cal.day_off(date(2026, 3, 24), None).unwrap().kind, DayKind::CollectiveLeave);
        assert_eq!(cal.next_working_day(date(2026, 3, 18), None), date(2026, 3, 25));
    }

    #[test]
    fn deadline_over_a_weekend_lands_on_monday() {
        // Wednesday 4 March 2026: Thu 5, Fri 6, (Sat, Sun), Mon 9.
        assert_eq!(due(wita(2026, 3, 4, 10, 0), 3), "2026-03-09T23:59:59+08:00");
    }

    #[test]
    fn friday_afternoon_with_three_working_days_is_due_at_the_end_of_wednesday() {
        let t = wita(2026, 3, 6, 16, 0);
        assert_eq!(due(t, 3), "2026-03-11T23:59:59+08:00");
        assert_eq!(WorkingCalendar::seed().add_working_days(t, 3, None), date(2026, 3, 11).end());
    }

    #[test]
    fn complaint_received_on_saturday_starts_counting_on_monday() {
        assert_eq!(due(wita(2026, 3, 7, 11, 0), 1), "2026-03-09T23:59:59+08:00");
        assert_eq!(due(wita(2026, 3, 7, 11, 0), 3), "2026-03-11T23:59:59+08:00");
    }

    #[test]
    fn deadline_skips_nyepi_idulfitri_and_cuti_bersama_2026() {
        // Received Tuesday 17 March 2026. Off: 18 (cuti Nyepi), 19 (Nyepi), 20 (cuti),
        // 21–22 (Idulfitri, weekend), 23–24 (cuti). Counted: Wed 25, Thu 26, Fri 27.
        assert_eq!(due(wita(2026, 3, 17, 10, 0), 3), "2026-03-27T23:59:59+08:00");
        // Five working days: … Mon 30, Tue 31.
        assert_eq!(due(wita(2026, 3, 17, 10, 0), 5), "2026-03-31T23:59:59+08:00");
    }

    #[test]
    fn zero_working_days_is_the_end_of_the_same_day() {
        assert_eq!(due(wita(2026, 3, 7, 11, 0), 0), "2026-03-07T23:59:59+08:00");
    }

    #[test]
    fn working_days_between_counts_only_working_time() {
        let cal = WorkingCalendar::seed();
        // Friday 16:00 → Monday 10:00: 8 h of Friday and 10 h of Monday.
        let d = cal.working_days_between(wita(2026, 3, 6, 16, 0), wita(2026, 3, 9, 10, 0), None);
        assert!((d - 0.75).abs() < 1e-9, "{d}");
        // Tuesday 17 March 00:00 → Wednesday 25 March 00:00: only the Tuesday works.
        let d = cal.working_days_between(wita(2026, 3, 17, 0, 0), wita(2026, 3, 25, 0, 0), None);
        assert!((d - 1.0).abs() < 1e-9, "{d}");
        let back = cal.working_days_between(wita(2026, 3, 9, 10, 0), wita(2026, 3, 6, 16, 0), None);
        assert!((back + 0.75).abs() < 1e-9);
        // Same day, a Saturday: nothing.
        assert_eq!(cal.working_days_between(wita(2026, 3, 7, 8, 0), wita(2026, 3, 7, 20, 0), None), 0.0);
    }

    #[test]
    fn working_days_in_agrees_with_counting_day_by_day() {
        let cal = WorkingCalendar::seed();
        let start = date(2025, 12, 1);
        for len in [0, 1, 6, 7, 13, 30, 120, 500] {
            let end = start.add_days(len);
            let slow = (0..len).filter(|&i| cal.is_working_day(start.add_days(i), None)).count() as u32;
            assert_eq!(cal.working_days_in(start, end, None), slow, "{len} days");
        }
        // March 2026: 22 weekdays, less 18, 19, 20, 23, 24.
        assert_eq!(cal.working_days_in(date(2026, 3, 1), date(2026, 4, 1), None), 17);
    }

    const REGIONAL: &str = r#"
        office_days = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        days = [
          { date = 2026-07-01, kind = "holiday", name = "Hari Jadi Kota Mataram", regions = ["52.71"] },
        ]
    "#;

    #[test]
    fn regional_holiday_closes_only_its_region() {
        let cal = WorkingCalendar::from_toml(REGIONAL).unwrap();
        let mataram = RegionCode::parse("52.71.01").unwrap();
        let bima = RegionCode::parse("52.72").unwrap();
        let day = date(2026, 7, 1); // Wednesday
        assert!(!cal.is_working_day(day, Some(&mataram)));
        assert!(cal.is_working_day(day, Some(&bima)));
        assert!(cal.is_working_day(day, None));
        let from = wita(2026, 6, 30, 9, 0);
        assert_eq!(cal.add_working_days(from, 1, Some(&mataram)), date(2026, 7, 2).end());
        assert_eq!(cal.add_working_days(from, 1, Some(&bima)), date(2026, 7, 1).end());
    }

    #[test]
    fn a_six_day_week_counts_saturday() {
        let cal = WorkingCalendar::from_toml(
            r#"office_days = ["senin", "selasa", "rabu", "kamis", "jumat", "sabtu"]"#,
        )
        .unwrap();
        // Friday 6 March 2026 + 1 → Saturday 7.
        assert_eq!(cal.add_working_days(wita(2026, 3, 6, 9, 0), 1, None), date(2026, 3, 7).end());
    }

    fn refused(text: &str) -> String {
        WorkingCalendar::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn impossible_date_is_refused_naming_the_row() {
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [
              { date = 2026-01-01, kind = "holiday", name = "Tahun Baru" },
              { date = "2026-02-30", kind = "holiday", name = "Hari Khayalan" },
            ]
        "#,
        );
        assert_eq!(err, "calendar row 2 (`Hari Khayalan`): 2026-02-30 is not a real date");
    }

    #[test]
    fn duplicate_date_is_refused_naming_both_rows() {
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [
              { date = 2026-03-20, kind = "collective-leave", name = "Cuti Bersama Idulfitri" },
              { date = 2026-03-21, kind = "holiday", name = "Idulfitri" },
              { date = "2026-03-20", kind = "holiday", name = "Idulfitri lagi" },
            ]
        "#,
        );
        assert_eq!(err, "calendar row 3 (`Idulfitri lagi`): 2026-03-20 is already a day off in row 1");
    }

    #[test]
    fn regional_row_repeating_a_national_date_is_refused() {
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [
              { date = 2026-07-01, kind = "holiday", name = "Libur A", regions = ["52.71"] },
              { date = 2026-07-01, kind = "holiday", name = "Libur B", regions = ["52.72"] },
              { date = 2026-07-01, kind = "holiday", name = "Libur C", regions = ["52.71.01"] },
            ]
        "#,
        );
        assert_eq!(err, "calendar row 3 (`Libur C`): 2026-07-01 is already a day off in row 1");
    }

    #[test]
    fn unknown_kind_region_or_weekday_is_refused_naming_the_row() {
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [{ date = 2026-01-01, kind = "libur", name = "Tahun Baru" }]
        "#,
        );
        assert_eq!(
            err,
            "calendar row 1 (`Tahun Baru`): kind `libur` is neither `holiday` nor `collective-leave`"
        );
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [{ date = 2026-01-01, kind = "holiday", name = "X", regions = ["NTB"] }]
        "#,
        );
        assert!(err.starts_with("calendar row 1 (`X`): region code `NTB`"), "{err}");
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [{ date = 2026-01-01T08:00:00, kind = "holiday", name = "X" }]
        "#,
        );
        assert!(err.starts_with("calendar row 1 (`X`): `date = 2026-01-01T08:00:00`"), "{err}");
        assert!(refused(r#"office_days = ["funday"]"#).contains("`funday`"));
        assert!(matches!(WorkingCalendar::from_toml("office_days = []"), Err(CalendarError::NoOfficeDays)));
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [{ date = 2026-01-01, kind = "holiday" }]
        "#,
        );
        assert_eq!(err, "calendar row 1 (no name): `name` is missing or empty");
    }

    #[test]
    fn misspelt_field_is_refused() {
        let err = refused(
            r#"
            office_days = ["monday"]
            days = [{ date = 2026-01-01, kind = "holiday", name = "X", region = ["52.71"] }]
        "#,
        );
        assert!(err.contains("region"), "{err}");
    }

    #[test]
    fn merged_pauses_are_sorted_and_disjoint() {
        let t = |h: i64| Timestamp(h * 3_600_000);
        let merged = merge_pauses(&[(t(5), t(7)), (t(1), t(3)), (t(2), t(4)), (t(9), t(8)), (t(6), t(6))]);
        assert_eq!(merged, vec![(t(1), t(4)), (t(5), t(7))]);
    }
}
