//! Reading the measures: from the tallies (a fixed number of keys per month, however many
//! complaints) or from the records (for filters that combine dimensions, and for audit),
//! both ending in the same [`Measures`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::lifecycle::CaseStatus;
use crate::store::{decode_counter, KeyValue, StoreError};

use super::facts::{facts, Context, Dim, Facts, Month, PROVINCE};
use super::metric::{self, Duration, BUCKETS, BUCKET_EDGES_MWD, METRICS};
use super::tally::{for_each_complaint, key};

/// Which complaints: by any of the four dimensions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl Filter {
    pub fn pairs(&self) -> Vec<(Dim, &str)> {
        [
            (Dim::Unit, &self.unit),
            (Dim::Region, &self.region),
            (Dim::Channel, &self.channel),
            (Dim::Category, &self.category),
        ]
        .into_iter()
        .filter_map(|(d, v)| v.as_deref().map(|v| (d, v)))
        .collect()
    }

    /// The one tally cell series that answers this filter, if one does (no filter: the
    /// province; one dimension: that dimension's value). Combined filters have none.
    pub fn cell(&self) -> Option<(Dim, &str)> {
        match self.pairs().as_slice() {
            [] => Some((Dim::All, PROVINCE)),
            [one] => Some(*one),
            _ => None,
        }
    }

    pub fn matches(&self, f: &Facts) -> bool {
        self.pairs().iter().all(|(d, v)| f.coord(*d) == *v)
    }
}

/// Metrics summed per month, in period order.
pub type Series = Vec<Vec<i64>>;

/// Add `b` into `a`.
pub fn add_into(a: &mut [i64], b: &[i64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// The sum of a series.
pub fn total(series: &Series) -> Vec<i64> {
    let mut t = vec![0; METRICS];
    for m in series {
        add_into(&mut t, m);
    }
    t
}

/// Read the tallies of one cell series: `metrics` (all if empty) for each month.
pub fn read_tallies(
    store: &impl KeyValue,
    dim: Dim,
    value: &str,
    months: &[Month],
    metrics: &[usize],
) -> Result<Series, StoreError> {
    let all: Vec<usize>;
    let metrics = if metrics.is_empty() {
        all = (0..METRICS).collect();
        &all
    } else {
        metrics
    };
    let metrics = metric::stored_for(metrics);
    let keys: Vec<String> =
        months.iter().flat_map(|m| metrics.iter().map(move |i| key(dim, value, *m, *i))).collect();
    let values = store.get_many(&keys)?;
    let mut out = vec![vec![0; METRICS]; months.len()];
    for (n, (k, v)) in keys.iter().zip(values).enumerate() {
        out[n / metrics.len()][metrics[n % metrics.len()]] = decode_counter(k, v.as_deref())?;
    }
    out.iter_mut().for_each(|row| metric::derive(row));
    Ok(out)
}

/// Compute the same series from the records, for any filter.
pub fn compute_from_records(
    store: &impl KeyValue,
    filter: &Filter,
    months: &[Month],
    ctx: &Context,
) -> Result<Series, StoreError> {
    let mut out = vec![vec![0; METRICS]; months.len()];
    let (Some(first), Some(last)) = (months.first(), months.last()) else { return Ok(out) };
    for_each_complaint(store, first.year..=last.year, |c| {
        let f = facts(&c, ctx);
        if let Some(i) = months.iter().position(|m| *m == f.month) {
            if filter.matches(&f) {
                for (m, n) in &f.values {
                    out[i][*m] += n;
                }
            }
        }
    })?;
    Ok(out)
}

fn r4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn share(n: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| r4(n as f64 / of as f64))
}

/// A share with what it is of.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Share {
    pub count: i64,
    pub of: i64,
    pub share: Option<f64>,
}

/// A duration in working days: how many were measured, mean, and median and 90th
/// percentile read from the histogram (upper bucket edges).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DurationStats {
    pub count: i64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// The `p` quantile (nearest rank) of a histogram, as its bucket's upper edge in working
/// days; the open last bucket reports its lower edge.
pub fn percentile(buckets: &[i64], p: f64) -> Option<f64> {
    let n: i64 = buckets.iter().sum();
    if n <= 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (b, count) in buckets.iter().enumerate() {
        seen += count;
        if seen >= rank {
            let edge = BUCKET_EDGES_MWD.get(b).or(BUCKET_EDGES_MWD.last()).copied().unwrap_or(0);
            return Some(edge as f64 / 1000.0);
        }
    }
    None
}

impl DurationStats {
    pub fn of(t: &[i64], d: Duration) -> DurationStats {
        let n = t[d.n()];
        let buckets: Vec<i64> = (0..BUCKETS).map(|b| t[d.bucket(b)]).collect();
        DurationStats {
            count: n,
            mean: (n > 0).then(|| r4(t[d.sum()] as f64 / n as f64 / 1000.0)),
            median: percentile(&buckets, 0.5),
            p90: percentile(&buckets, 0.9),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Escalations {
    /// Complaints escalated past a deadline (overdue or late) at least once.
    pub complaints: i64,
    pub warn: i64,
    pub overdue: i64,
    pub late: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Satisfaction {
    pub rated: i64,
    pub mean_rating: Option<f64>,
    /// Ratings 1 to 5.
    pub distribution: BTreeMap<String, i64>,
    pub resolved: i64,
    pub partly_resolved: i64,
    pub not_resolved: i64,
    pub not_resolved_share: Option<f64>,
}

/// Every measure over a set of complaints (see docs/measures.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measures {
    pub received: i64,
    pub verified: i64,
    pub dispatched: i64,
    pub answered: i64,
    pub followed_up: i64,
    pub closed: i64,
    pub rejected: i64,
    pub reopened: i64,
    pub reopenings: i64,
    pub open: i64,
    /// Followed up / verified.
    pub follow_up_rate: Option<f64>,
    pub answered_within_deadline: Share,
    pub time_to_verification: DurationStats,
    pub time_to_first_answer: DurationStats,
    pub time_to_closure: DurationStats,
    pub escalations: Escalations,
    pub satisfaction: Satisfaction,
    pub by_status: BTreeMap<String, i64>,
}

impl Measures {
    pub fn from_totals(t: &[i64]) -> Measures {
        use metric::*;
        Measures {
            received: t[RECEIVED],
            verified: t[VERIFIED],
            dispatched: t[DISPATCHED],
            answered: t[ANSWERED],
            followed_up: t[FOLLOWED_UP],
            closed: t[CLOSED],
            rejected: t[REJECTED],
            reopened: t[REOPENED],
            reopenings: t[REOPENINGS],
            open: t[OPEN],
            follow_up_rate: share(t[FOLLOWED_UP], t[VERIFIED]),
            answered_within_deadline: Share {
                count: t[ANSWERED_IN_TIME],
                of: t[ANSWERED],
                share: share(t[ANSWERED_IN_TIME], t[ANSWERED]),
            },
            time_to_verification: DurationStats::of(t, Duration::Verification),
            time_to_first_answer: DurationStats::of(t, Duration::FirstAnswer),
            time_to_closure: DurationStats::of(t, Duration::Closure),
            escalations: Escalations {
                complaints: t[ESCALATED],
                warn: t[ESCALATIONS_WARN],
                overdue: t[ESCALATIONS_OVERDUE],
                late: t[ESCALATIONS_LATE],
            },
            satisfaction: Satisfaction {
                rated: t[RATED],
                mean_rating: (t[RATED] > 0).then(|| r4(t[RATING_SUM] as f64 / t[RATED] as f64)),
                distribution: (1..=5).map(|s| (s.to_string(), t[RATING_1 + s - 1])).collect(),
                resolved: t[RESOLVED_YES],
                partly_resolved: t[RESOLVED_PARTLY],
                not_resolved: t[RESOLVED_NO],
                not_resolved_share: share(t[RESOLVED_NO], t[RATED]),
            },
            by_status: CaseStatus::ALL
                .iter()
                .enumerate()
                .map(|(i, s)| (s.code().to_string(), t[STATUS + i]))
                .collect(),
        }
    }
}

/// One month of the trend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthRow {
    pub month: String,
    pub received: i64,
    pub verified: i64,
    pub answered: i64,
    pub followed_up: i64,
    pub closed: i64,
    pub follow_up_rate: Option<f64>,
}

pub fn month_rows(months: &[Month], series: &Series) -> Vec<MonthRow> {
    use metric::*;
    months
        .iter()
        .zip(series)
        .map(|(m, t)| MonthRow {
            month: m.to_string(),
            received: t[RECEIVED],
            verified: t[VERIFIED],
            answered: t[ANSWERED],
            followed_up: t[FOLLOWED_UP],
            closed: t[CLOSED],
            follow_up_rate: share(t[FOLLOWED_UP], t[VERIFIED]),
        })
        .collect()
}

/// The metrics the per-unit and per-region tables need.
pub fn table_metrics() -> Vec<usize> {
    use metric::*;
    vec![
        RECEIVED,
        VERIFIED,
        ANSWERED,
        FOLLOWED_UP,
        ANSWERED_IN_TIME,
        CLOSED,
        OPEN,
        RATED,
        RATING_SUM,
        RESOLVED_NO,
        ESCALATED,
        Duration::FirstAnswer.n(),
        Duration::FirstAnswer.sum(),
    ]
}

/// Totals over the period for each value of a dimension, from the tallies.
pub fn read_table(
    store: &impl KeyValue,
    dim: Dim,
    values: &[String],
    months: &[Month],
) -> Result<Vec<Vec<i64>>, StoreError> {
    read_table_of(store, dim, values, months, &table_metrics())
}

/// The same for only `metrics` (the others stay zero), in one read.
pub fn read_table_of(
    store: &impl KeyValue,
    dim: Dim,
    values: &[String],
    months: &[Month],
    metrics: &[usize],
) -> Result<Vec<Vec<i64>>, StoreError> {
    let metrics = metric::stored_for(metrics);
    let mut keys = Vec::with_capacity(values.len() * months.len() * metrics.len());
    for v in values {
        for m in months {
            keys.extend(metrics.iter().map(|i| key(dim, v, *m, *i)));
        }
    }
    let per_value = months.len() * metrics.len();
    let got = store.get_many(&keys)?;
    let mut out = vec![vec![0; METRICS]; values.len()];
    for (n, (k, v)) in keys.iter().zip(got).enumerate() {
        out[n / per_value.max(1)][metrics[n % metrics.len()]] += decode_counter(k, v.as_deref())?;
    }
    out.iter_mut().for_each(|row| metric::derive(row));
    Ok(out)
}
