//! Time as NTB reckons it: instants are milliseconds since the Unix epoch; dates, deadlines
//! and reports are read in WITA (UTC+8, Asia/Makassar, which has no daylight saving).

use serde::{Deserialize, Serialize};

/// WITA's offset from UTC in milliseconds.
pub const WITA_OFFSET_MS: i64 = 8 * 3600 * 1000;

/// An instant, in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Where the time comes from: the system clock in components, a fixed one in tests.
pub trait Clock {
    fn now(&self) -> Timestamp;
}

/// A calendar date and time of day in WITA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WitaDateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Timestamp {
    /// This instant on the WITA wall clock.
    pub fn wita(self) -> WitaDateTime {
        let local_ms = self.0 + WITA_OFFSET_MS;
        let days = local_ms.div_euclid(86_400_000);
        let ms_of_day = local_ms.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let secs = (ms_of_day / 1000) as u32;
        WitaDateTime { year, month, day, hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60 }
    }

    /// RFC 3339 in WITA, e.g. `2026-11-29T09:30:00+08:00`.
    pub fn to_rfc3339_wita(self) -> String {
        let t = self.wita();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }

    /// The instant of a WITA wall-clock time.
    pub fn from_wita(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Timestamp {
        let days = days_from_civil(year, month, day);
        Timestamp(days * 86_400_000 + (hour as i64 * 3600 + minute as i64 * 60) * 1000 - WITA_OFFSET_MS)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// A proleptic Gregorian date to days since 1970-01-01.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_evening_is_next_day_in_wita() {
        // 2026-12-31T17:30:00Z is 01:30 on New Year's Day in Mataram.
        let t = Timestamp(days_from_civil(2026, 12, 31) * 86_400_000 + (17 * 3600 + 1800) * 1000);
        let w = t.wita();
        assert_eq!((w.year, w.month, w.day, w.hour, w.minute), (2027, 1, 1, 1, 30));
        assert_eq!(t.to_rfc3339_wita(), "2027-01-01T01:30:00+08:00");
    }

    #[test]
    fn wita_round_trip() {
        let t = Timestamp::from_wita(2026, 2, 28, 23, 59);
        let w = t.wita();
        assert_eq!((w.year, w.month, w.day, w.hour, w.minute), (2026, 2, 28, 23, 59));
        assert_eq!(civil_from_days(days_from_civil(2028, 2, 29)), (2028, 2, 29));
    }
}
