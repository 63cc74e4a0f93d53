//! The agency scorecard the Governor reads: units ranked by follow-up rate, then by the
//! share answered within the deadline, then by mean rating. A unit is ranked only once it
//! has received at least the minimum number of complaints in the period, so a unit with two
//! complaints and two answers does not top a unit with two hundred.

use serde::Serialize;

use super::metric;

/// The default minimum number of complaints before a unit is ranked.
pub const DEFAULT_MIN_COMPLAINTS: i64 = 10;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreRow {
    /// None: too few complaints to rank.
    pub rank: Option<usize>,
    pub unit: String,
    pub name: String,
    pub received: i64,
    pub verified: i64,
    pub followed_up: i64,
    pub follow_up_rate: Option<f64>,
    pub answered_within_deadline_share: Option<f64>,
    pub mean_days_to_first_answer: Option<f64>,
    pub mean_rating: Option<f64>,
    pub not_resolved_share: Option<f64>,
    pub open: i64,
    pub escalated: i64,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| (a as f64 / b as f64 * 10_000.0).round() / 10_000.0)
}

pub fn row(unit: &str, name: &str, t: &[i64]) -> ScoreRow {
    use metric::*;
    let tta = Duration::FirstAnswer;
    ScoreRow {
        rank: None,
        unit: unit.to_string(),
        name: name.to_string(),
        received: t[RECEIVED],
        verified: t[VERIFIED],
        followed_up: t[FOLLOWED_UP],
        follow_up_rate: ratio(t[FOLLOWED_UP], t[VERIFIED]),
        answered_within_deadline_share: ratio(t[ANSWERED_IN_TIME], t[ANSWERED]),
        mean_days_to_first_answer: (t[tta.n()] > 0)
            .then(|| (t[tta.sum()] as f64 / t[tta.n()] as f64).round() / 1000.0),
        mean_rating: ratio(t[RATING_SUM], t[RATED]),
        not_resolved_share: ratio(t[RESOLVED_NO], t[RATED]),
        open: t[OPEN],
        escalated: t[ESCALATED],
    }
}

/// Rank the rows; units with fewer than `min_complaints` follow, unranked, most first.
/// Units that received nothing are left out. The coordinators' triage queue is not an
/// agency: it is never ranked and comes last, so that the rows still add up to the total.
pub fn rank(rows: Vec<ScoreRow>, min_complaints: i64) -> Vec<ScoreRow> {
    let key = |x: Option<f64>| x.unwrap_or(-1.0);
    let (triage, rows): (Vec<ScoreRow>, Vec<ScoreRow>) =
        rows.into_iter().filter(|r| r.received > 0).partition(|r| r.unit == crate::keys::TRIAGE);
    let (mut ranked, mut rest): (Vec<ScoreRow>, Vec<ScoreRow>) =
        rows.into_iter().partition(|r| r.received >= min_complaints);
    ranked.sort_by(|a, b| {
        key(b.follow_up_rate)
            .total_cmp(&key(a.follow_up_rate))
            .then(key(b.answered_within_deadline_share).total_cmp(&key(a.answered_within_deadline_share)))
            .then(key(b.mean_rating).total_cmp(&key(a.mean_rating)))
            .then(a.unit.cmp(&b.unit))
    });
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = Some(i + 1);
    }
    rest.sort_by(|a, b| b.received.cmp(&a.received).then(a.unit.cmp(&b.unit)));
    ranked.extend(rest);
    ranked.extend(triage);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(unit: &str, n: i64, followed_up: i64) -> ScoreRow {
        let mut t = vec![0; metric::METRICS];
        t[metric::RECEIVED] = n;
        t[metric::VERIFIED] = n;
        t[metric::FOLLOWED_UP] = followed_up;
        row(unit, unit, &t)
    }

    #[test]
    fn the_triage_queue_is_never_ranked_as_an_agency() {
        let rows = rank(
            vec![received(crate::keys::TRIAGE, 50, 50), received("dikes", 20, 10), received("pupr", 12, 3)],
            10,
        );
        let order: Vec<(&str, Option<usize>)> = rows.iter().map(|r| (r.unit.as_str(), r.rank)).collect();
        assert_eq!(order, vec![("dikes", Some(1)), ("pupr", Some(2)), (crate::keys::TRIAGE, None)]);
    }
}
