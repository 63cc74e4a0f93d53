//! Tallies kept as events happen, and the summary read from them.
//!
//! Each event adds to a handful of counters with the store's atomic increment, so a summary
//! over any number of complaints is a fixed number of reads, not a scan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::complaint::{Channel, Complaint};
use crate::directory::Directory;
use crate::keys;
use crate::lifecycle::CaseStatus;
use crate::store::{decode_counter, StoreError};

/// The counters a newly received complaint adds one to. (The total is the sum of the status
/// counts, as every complaint is in exactly one status: no counter of its own.)
pub fn tallies_for_received(complaint: &Complaint) -> Vec<String> {
    vec![
        keys::tally_status(complaint.status),
        keys::tally_unit(complaint.unit.as_ref()),
        keys::tally_channel(complaint.channel),
    ]
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCount {
    pub unit: String,
    pub name: String,
    pub count: i64,
}

/// Headline figures: how many complaints, where they stand, who holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_channel: BTreeMap<String, i64>,
    /// Units that received at least one complaint, most first; `triage` for unrouted ones.
    pub by_unit: Vec<UnitCount>,
}

/// Every counter a summary reads, in the order [`Summary::from_counters`] expects.
pub fn summary_keys(directory: &Directory) -> Vec<String> {
    let mut k: Vec<String> = Vec::new();
    k.extend(CaseStatus::ALL.iter().map(|s| keys::tally_status(*s)));
    k.extend(Channel::ALL.iter().map(|c| keys::tally_channel(*c)));
    k.push(keys::tally_unit(None));
    k.extend(directory.units.iter().map(|u| keys::tally_unit(Some(&u.id))));
    k
}

impl Summary {
    pub fn from_counters(directory: &Directory, values: &[Option<Vec<u8>>]) -> Result<Summary, StoreError> {
        let names = summary_keys(directory);
        let counts: Vec<i64> = names
            .iter()
            .zip(values.iter().map(Option::as_deref).chain(std::iter::repeat(None)))
            .map(|(k, v)| decode_counter(k, v))
            .collect::<Result<_, _>>()?;
        let mut it = counts.into_iter();
        let by_status: BTreeMap<String, i64> =
            CaseStatus::ALL.iter().map(|s| (s.code().to_string(), it.next().unwrap_or(0))).collect();
        let total = by_status.values().sum();
        let by_channel =
            Channel::ALL.iter().map(|c| (c.code().to_string(), it.next().unwrap_or(0))).collect();
        let mut by_unit = Vec::new();
        let triage = it.next().unwrap_or(0);
        if triage > 0 {
            by_unit.push(UnitCount {
                unit: keys::TRIAGE.into(),
                name: "Antrean triase koordinator".into(),
                count: triage,
            });
        }
        for unit in &directory.units {
            let count = it.next().unwrap_or(0);
            if count > 0 {
                by_unit.push(UnitCount { unit: unit.id.to_string(), name: unit.name.clone(), count });
            }
        }
        by_unit.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.unit.cmp(&b.unit)));
        Ok(Summary { total, by_status, by_channel, by_unit })
    }
}
