//! Open data: aggregates only, no personal data, and small counts suppressed so that no
//! complainant can be singled out.
//!
//! A count from 1 to [`MIN_COUNT`] − 1 is published as `null` (zero is published: it
//! identifies nobody). A rate is published only when its numerator and denominator both
//! could be. Within a table, if exactly one row's count is suppressed, the next smallest
//! is suppressed too, so the suppressed one cannot be recovered from the total.

use serde::Serialize;

use super::metric;
use super::read::percentile;

/// The smallest count published.
pub const MIN_COUNT: i64 = 5;

fn publishable(n: i64) -> bool {
    n == 0 || n >= MIN_COUNT
}

fn count(n: i64) -> Option<i64> {
    publishable(n).then_some(n)
}

fn rate(num: i64, den: i64) -> Option<f64> {
    (den > 0 && publishable(num) && publishable(den) && publishable(den - num))
        .then(|| (num as f64 / den as f64 * 10_000.0).round() / 10_000.0)
}

/// One published row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenRow {
    pub key: String,
    pub name: String,
    pub received: Option<i64>,
    pub verified: Option<i64>,
    pub followed_up: Option<i64>,
    pub closed: Option<i64>,
    pub follow_up_rate: Option<f64>,
    pub answered_within_deadline_share: Option<f64>,
    /// Working days, from the histogram; only over at least [`MIN_COUNT`] answers.
    pub median_days_to_first_answer: Option<f64>,
    pub mean_rating: Option<f64>,
    /// Whether anything in the row was withheld.
    pub suppressed: bool,
}

pub fn open_row(key: &str, name: &str, t: &[i64]) -> OpenRow {
    use metric::*;
    let tta = Duration::FirstAnswer;
    let buckets: Vec<i64> = (0..BUCKETS).map(|b| t[tta.bucket(b)]).collect();
    let mut row = OpenRow {
        key: key.to_string(),
        name: name.to_string(),
        received: count(t[RECEIVED]),
        verified: count(t[VERIFIED]),
        followed_up: count(t[FOLLOWED_UP]),
        closed: count(t[CLOSED]),
        follow_up_rate: rate(t[FOLLOWED_UP], t[VERIFIED]),
        answered_within_deadline_share: rate(t[ANSWERED_IN_TIME], t[ANSWERED]),
        median_days_to_first_answer: (t[tta.n()] >= MIN_COUNT).then(|| percentile(&buckets, 0.5)).flatten(),
        mean_rating: (t[RATED] >= MIN_COUNT)
            .then(|| (t[RATING_SUM] as f64 / t[RATED] as f64 * 100.0).round() / 100.0),
        suppressed: false,
    };
    row.suppressed = [t[RECEIVED], t[VERIFIED], t[FOLLOWED_UP], t[CLOSED]].iter().any(|n| !publishable(*n));
    row
}

/// Secondary suppression of the `received` column of a table (see the module doc).
pub fn protect_table(rows: &mut [OpenRow], received: &[i64]) {
    let hidden = rows.iter().filter(|r| r.received.is_none()).count();
    if hidden == 1 {
        if let Some(i) = (0..rows.len())
            .filter(|i| rows[*i].received.is_some_and(|n| n > 0))
            .min_by_key(|i| (received[*i], rows[*i].key.clone()))
        {
            rows[i].received = None;
            rows[i].verified = None;
            rows[i].followed_up = None;
            rows[i].closed = None;
            rows[i].follow_up_rate = None;
            rows[i].suppressed = true;
        }
    }
}
