//! The metric table: every figure a complaint can add to, by index, and the histogram
//! buckets durations are counted in.
//!
//! Durations are kept as a count, a sum (in thousandths of a working day) and a histogram,
//! because an atomic increment can add to a bucket but cannot keep a sorted list. A median
//! or 90th percentile read from the buckets is the upper edge of the bucket holding that
//! rank (see [`BUCKET_EDGES_MWD`] for the precision).

use std::sync::OnceLock;

use crate::lifecycle::CaseStatus;

/// Simple counts, in index order.
pub const COUNTS: [&str; 25] = [
    "received",
    "verified",
    "dispatched",
    "answered",
    "followed_up",
    "closed",
    "rejected",
    "reopened",
    "reopenings",
    "open",
    "answered_in_time",
    "escalated",
    "escalations_warn",
    "escalations_overdue",
    "escalations_late",
    "rated",
    "rating_sum",
    "rating_1",
    "rating_2",
    "rating_3",
    "rating_4",
    "rating_5",
    "resolved_yes",
    "resolved_partly",
    "resolved_no",
];

pub const RECEIVED: usize = 0;
pub const VERIFIED: usize = 1;
pub const DISPATCHED: usize = 2;
pub const ANSWERED: usize = 3;
pub const FOLLOWED_UP: usize = 4;
pub const CLOSED: usize = 5;
pub const REJECTED: usize = 6;
pub const REOPENED: usize = 7;
pub const REOPENINGS: usize = 8;
pub const OPEN: usize = 9;
pub const ANSWERED_IN_TIME: usize = 10;
pub const ESCALATED: usize = 11;
pub const ESCALATIONS_WARN: usize = 12;
pub const ESCALATIONS_OVERDUE: usize = 13;
pub const ESCALATIONS_LATE: usize = 14;
pub const RATED: usize = 15;
pub const RATING_SUM: usize = 16;
/// `RATING_1 + score - 1`.
pub const RATING_1: usize = 17;
pub const RESOLVED_YES: usize = 22;
pub const RESOLVED_PARTLY: usize = 23;
pub const RESOLVED_NO: usize = 24;

/// `STATUS + index in CaseStatus::ALL`: complaints now in each status.
pub const STATUS: usize = COUNTS.len();

/// Metrics that are sums of status counts, so they are never stored: every complaint is in
/// exactly one status, so `received` is the sum of all of them, `open` of the open ones, and
/// `closed` and `rejected` are one each. Keeping only the status counts cuts a new
/// complaint's increments from 15 to 5 (one per dimension), and a status change's too.
pub const DERIVED: [usize; 4] = [RECEIVED, OPEN, CLOSED, REJECTED];

/// Whether metric `i` is derived from the status counts (see [`DERIVED`]).
pub fn is_derived(i: usize) -> bool {
    DERIVED.contains(&i)
}

/// The status counts a derived metric is the sum of.
pub fn derived_from(i: usize) -> Vec<usize> {
    CaseStatus::ALL
        .iter()
        .enumerate()
        .filter(|(_, s)| match i {
            RECEIVED => true,
            OPEN => s.is_open(),
            CLOSED => **s == CaseStatus::Closed,
            REJECTED => **s == CaseStatus::Rejected,
            _ => false,
        })
        .map(|(n, _)| STATUS + n)
        .collect()
}

/// Fill the derived metrics of one cell's values from its status counts.
pub fn derive(values: &mut [i64]) {
    for i in DERIVED {
        values[i] = derived_from(i).into_iter().map(|s| values[s]).sum();
    }
}

/// The metrics to read from the store to answer `metrics`: the stored ones asked for, and
/// the status counts the derived ones asked for are summed from.
pub fn stored_for(metrics: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(metrics.len() + CaseStatus::ALL.len());
    for &i in metrics {
        let add = if is_derived(i) { derived_from(i) } else { vec![i] };
        for j in add {
            if !out.contains(&j) {
                out.push(j);
            }
        }
    }
    out
}

/// Upper edges of the duration buckets, in thousandths of a working day; the last bucket is
/// open-ended. Precision: 0.1 working day up to 1, 0.25 up to 3, 0.5 up to 6, 1 up to 15,
/// 5 up to 30, then 45, 60, 90, 180 and 365.
pub const BUCKET_EDGES_MWD: [i64; 40] = [
    100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, // 0.1 steps
    1250, 1500, 1750, 2000, 2250, 2500, 2750, 3000, // 0.25 steps
    3500, 4000, 4500, 5000, 5500, 6000, // 0.5 steps
    7000, 8000, 9000, 10000, 11000, 12000, 13000, 14000, 15000, // 1 step
    20000, 25000, 30000, 45000, 60000, 90000, 180000,
];
/// Buckets: one per edge, and one more for everything above 180 working days.
pub const BUCKETS: usize = BUCKET_EDGES_MWD.len() + 1;

/// The three durations, each from receipt (in working days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duration {
    /// Received to verified.
    Verification,
    /// Received to the unit's first answer.
    FirstAnswer,
    /// Received to the (last) closure of a closed complaint.
    Closure,
}

impl Duration {
    pub const ALL: [Duration; 3] = [Duration::Verification, Duration::FirstAnswer, Duration::Closure];

    pub fn code(self) -> &'static str {
        match self {
            Duration::Verification => "ttv",
            Duration::FirstAnswer => "tta",
            Duration::Closure => "ttc",
        }
    }

    fn ordinal(self) -> usize {
        match self {
            Duration::Verification => 0,
            Duration::FirstAnswer => 1,
            Duration::Closure => 2,
        }
    }

    /// Index of the count of measured complaints.
    pub fn n(self) -> usize {
        DURATIONS + self.ordinal() * (2 + BUCKETS)
    }

    /// Index of the sum, in thousandths of a working day.
    pub fn sum(self) -> usize {
        self.n() + 1
    }

    /// Index of bucket `b`.
    pub fn bucket(self, b: usize) -> usize {
        self.n() + 2 + b
    }
}

/// Where duration metrics start.
pub const DURATIONS: usize = STATUS + CaseStatus::ALL.len();

/// How many metrics there are.
pub const METRICS: usize = DURATIONS + 3 * (2 + BUCKETS);

/// The bucket a duration (thousandths of a working day) falls in: the first whose upper
/// edge is not below it.
pub fn bucket_of(mwd: i64) -> usize {
    BUCKET_EDGES_MWD.partition_point(|&edge| edge < mwd)
}

/// One metric's name, without building the whole table (a component instance lives for one
/// request, and intake names only the status counts).
pub fn metric_name(i: usize) -> std::borrow::Cow<'static, str> {
    if i < COUNTS.len() {
        COUNTS[i].into()
    } else if i < DURATIONS {
        format!("status.{}", CaseStatus::ALL[i - STATUS].code()).into()
    } else {
        names()[i].clone().into()
    }
}

/// Every metric's name, by index (`received`, `status.closed`, `ttv.n`, `ttv.b07`).
pub fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v: Vec<String> = COUNTS.iter().map(|s| s.to_string()).collect();
        v.extend(CaseStatus::ALL.iter().map(|s| format!("status.{}", s.code())));
        for d in Duration::ALL {
            v.push(format!("{}.n", d.code()));
            v.push(format!("{}.sum", d.code()));
            v.extend((0..BUCKETS).map(|b| format!("{}.b{b:02}", d.code())));
        }
        debug_assert_eq!(v.len(), METRICS);
        v
    })
}

/// The index of a metric name.
pub fn index_of(name: &str) -> Option<usize> {
    names().iter().position(|n| n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_name_what_they_say() {
        assert_eq!(names().len(), METRICS);
        assert_eq!(names()[STATUS], "status.received");
        assert_eq!(names()[Duration::Verification.n()], "ttv.n");
        assert_eq!(names()[Duration::Closure.bucket(BUCKETS - 1)], "ttc.b40");
        assert_eq!(names()[RATING_1 + 4], "rating_5");
        assert_eq!(names()[RESOLVED_NO], "resolved_no");
        for (i, n) in names().iter().enumerate() {
            assert_eq!(metric_name(i), n.as_str());
        }
    }

    #[test]
    fn derived_metrics_are_sums_of_status_counts() {
        let mut v = vec![0; METRICS];
        let at = |s: CaseStatus| STATUS + CaseStatus::ALL.iter().position(|x| *x == s).unwrap();
        v[at(CaseStatus::Received)] = 3;
        v[at(CaseStatus::Closed)] = 2;
        v[at(CaseStatus::Rejected)] = 1;
        derive(&mut v);
        assert_eq!((v[RECEIVED], v[OPEN], v[CLOSED], v[REJECTED]), (6, 3, 2, 1));
        let stored = stored_for(&[RECEIVED, VERIFIED]);
        assert!(stored.contains(&VERIFIED) && !stored.contains(&RECEIVED));
        assert_eq!(stored.len(), 1 + CaseStatus::ALL.len());
    }

    #[test]
    fn buckets_include_their_upper_edge() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(100), 0);
        assert_eq!(bucket_of(101), 1);
        assert_eq!(bucket_of(1250), 10);
        assert_eq!(bucket_of(999_999), BUCKETS - 1);
    }
}
