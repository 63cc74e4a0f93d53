//! The summary: how many complaints, where they stand, who holds them, where they come from.
//!
//! One definition of "by unit" everywhere: the unit responsible **now** (the measures'
//! `unit` dimension, `triage` while the coordinators hold it), so a health complaint
//! re-dispatched to Kota Mataram counts under Kota Mataram here as in the measures, the
//! scorecard and open data. The summary is read from the same measure tallies as every other
//! report (a fixed number of keys per month), or computed from the records when a filter is
//! given, so its figures agree with the other reports under every filter.
//!
//! The unit routing chose **at receipt** is its own dimension, `by_unit_at_receipt`, read from
//! the receipt-time counters `tally/unit/*` that intake adds to (province-wide, all time: it
//! has no months and no filters).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::complaint::{Channel, Complaint};
use crate::directory::Directory;
use crate::keys;
use crate::lifecycle::CaseStatus;
use crate::measures::facts::{facts, Context, Dim, Month, NO_CATEGORY, PROVINCE};
use crate::measures::metric::{self, RECEIVED, STATUS};
use crate::measures::read::{read_table_of, read_tallies, total, Filter};
use crate::measures::tally::for_each_complaint;
use crate::store::{decode_counter, KeyValue, StoreError};

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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionCount {
    pub region: String,
    pub name: String,
    pub count: i64,
}

/// Headline figures: how many complaints, where they stand, who holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_channel: BTreeMap<String, i64>,
    /// The unit responsible now (as the measures count), most first; `triage` for complaints
    /// the coordinators hold. Units with none are left out.
    pub by_unit: Vec<UnitCount>,
    /// Regency or city of the complaint's location, most first; those with none left out.
    #[serde(default)]
    pub by_region: Vec<RegionCount>,
    /// Category codes (`none` for uncategorised), those with none left out.
    #[serde(default)]
    pub by_category: BTreeMap<String, i64>,
    /// The unit routing chose at receipt (`tally/unit/*`), province-wide and all time.
    #[serde(default)]
    pub by_unit_at_receipt: Vec<UnitCount>,
}

/// Every counter [`Summary::from_counters`] reads, in the order it expects.
pub fn summary_keys(directory: &Directory) -> Vec<String> {
    let mut k: Vec<String> = Vec::new();
    k.extend(CaseStatus::ALL.iter().map(|s| keys::tally_status(*s)));
    k.extend(Channel::ALL.iter().map(|c| keys::tally_channel(*c)));
    k.extend(receipt_unit_keys(directory));
    k
}

/// The receipt-time unit counters, triage first then the directory's units.
pub fn receipt_unit_keys(directory: &Directory) -> Vec<String> {
    std::iter::once(keys::tally_unit(None))
        .chain(directory.units.iter().map(|u| keys::tally_unit(Some(&u.id))))
        .collect()
}

const TRIAGE_NAME: &str = "Antrean triase koordinator";

/// The units a "by unit" figure lists: the triage queue, then the directory's units.
fn unit_values(directory: &Directory) -> Vec<(String, String)> {
    std::iter::once((keys::TRIAGE.to_string(), TRIAGE_NAME.to_string()))
        .chain(directory.units.iter().map(|u| (u.id.to_string(), u.name.clone())))
        .collect()
}

fn region_values(directory: &Directory) -> Vec<(String, String)> {
    directory
        .regions
        .iter()
        .filter(|r| r.code.as_str().len() == 5)
        .map(|r| (r.code.to_string(), r.name.clone()))
        .collect()
}

fn category_values(directory: &Directory) -> Vec<String> {
    directory
        .categories
        .iter()
        .map(|c| c.code.clone())
        .chain(std::iter::once(NO_CATEGORY.to_string()))
        .collect()
}

fn units_most_first(values: &[(String, String)], counts: &[i64]) -> Vec<UnitCount> {
    let mut out: Vec<UnitCount> = values
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|((unit, name), n)| UnitCount { unit: unit.clone(), name: name.clone(), count: *n })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.unit.cmp(&b.unit)));
    out
}

fn regions_most_first(values: &[(String, String)], counts: &[i64]) -> Vec<RegionCount> {
    let mut out: Vec<RegionCount> = values
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|((region, name), n)| RegionCount { region: region.clone(), name: name.clone(), count: *n })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.region.cmp(&b.region)));
    out
}

fn by_status_of(t: &[i64]) -> BTreeMap<String, i64> {
    CaseStatus::ALL.iter().enumerate().map(|(i, s)| (s.code().to_string(), t[STATUS + i])).collect()
}

impl Summary {
    /// The receipt-time counters alone (`tally/*`, values in [`summary_keys`] order): what
    /// intake adds as it saves a complaint. `by_unit` here is the unit at receipt.
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
        let units: Vec<i64> = it.collect();
        let by_unit = units_most_first(&unit_values(directory), &units);
        Ok(Summary {
            total,
            by_status,
            by_channel,
            by_unit_at_receipt: by_unit.clone(),
            by_unit,
            by_region: vec![],
            by_category: BTreeMap::new(),
        })
    }

    /// Province-wide over `months` (of receipt, WITA), from the measure tallies: a fixed
    /// number of keys per month, however many complaints. The status, channel, unit, region
    /// and category counts each add up to the total.
    pub fn from_tallies(
        store: &impl KeyValue,
        directory: &Directory,
        months: &[Month],
    ) -> Result<Summary, StoreError> {
        let province = total(&read_tallies(store, Dim::All, PROVINCE, months, &metric_status())?);
        let received = |dim: Dim, values: &[String]| -> Result<Vec<i64>, StoreError> {
            Ok(read_table_of(store, dim, values, months, &[RECEIVED])?.iter().map(|t| t[RECEIVED]).collect())
        };
        let units = unit_values(directory);
        let regions = region_values(directory);
        let categories = category_values(directory);
        let channels: Vec<String> = Channel::ALL.iter().map(|c| c.code().to_string()).collect();
        let unit_n = received(Dim::Unit, &units.iter().map(|u| u.0.clone()).collect::<Vec<_>>())?;
        let region_n = received(Dim::Region, &regions.iter().map(|r| r.0.clone()).collect::<Vec<_>>())?;
        let category_n = received(Dim::Category, &categories)?;
        let channel_n = received(Dim::Channel, &channels)?;
        Ok(Summary {
            total: province[RECEIVED],
            by_status: by_status_of(&province),
            by_channel: channels.into_iter().zip(channel_n).collect(),
            by_unit: units_most_first(&units, &unit_n),
            by_region: regions_most_first(&regions, &region_n),
            by_category: categories.into_iter().zip(category_n).filter(|(_, n)| *n > 0).collect(),
            by_unit_at_receipt: receipt_units(store, directory)?,
        })
    }

    /// The same for the complaints a filter selects, computed from the records (one pass
    /// over the tickets of the period's years). `by_unit_at_receipt` is left empty: the
    /// receipt-time counters have no cells to filter.
    pub fn from_records(
        store: &impl KeyValue,
        directory: &Directory,
        filter: &Filter,
        months: &[Month],
        ctx: &Context,
    ) -> Result<Summary, StoreError> {
        let mut status = vec![0i64; metric::METRICS];
        let mut cells: BTreeMap<(&'static str, String), i64> = BTreeMap::new();
        let mut count = 0;
        if let (Some(first), Some(last)) = (months.first(), months.last()) {
            for_each_complaint(store, first.year..=last.year, |c| {
                let f = facts(&c, ctx);
                if f.month < *first || f.month > *last || !filter.matches(&f) {
                    return;
                }
                count += 1;
                for (m, n) in &f.values {
                    if *m >= STATUS && *m < STATUS + CaseStatus::ALL.len() {
                        status[*m] += n;
                    }
                }
                for dim in [Dim::Unit, Dim::Region, Dim::Channel, Dim::Category] {
                    *cells.entry((dim.code(), f.coord(dim).to_string())).or_default() += 1;
                }
            })?;
        }
        let of = |dim: Dim, v: &str| cells.get(&(dim.code(), v.to_string())).copied().unwrap_or(0);
        let units = unit_values(directory);
        let regions = region_values(directory);
        let unit_n: Vec<i64> = units.iter().map(|u| of(Dim::Unit, &u.0)).collect();
        let region_n: Vec<i64> = regions.iter().map(|r| of(Dim::Region, &r.0)).collect();
        Ok(Summary {
            total: count,
            by_status: by_status_of(&status),
            by_channel: Channel::ALL
                .iter()
                .map(|c| (c.code().to_string(), of(Dim::Channel, c.code())))
                .collect(),
            by_unit: units_most_first(&units, &unit_n),
            by_region: regions_most_first(&regions, &region_n),
            by_category: category_values(directory)
                .into_iter()
                .map(|c| {
                    let n = of(Dim::Category, &c);
                    (c, n)
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
            by_unit_at_receipt: vec![],
        })
    }
}

fn metric_status() -> Vec<usize> {
    std::iter::once(RECEIVED).chain(STATUS..STATUS + CaseStatus::ALL.len()).collect()
}

/// The unit routing chose at receipt, from intake's counters (`tally/unit/*`).
pub fn receipt_units(store: &impl KeyValue, directory: &Directory) -> Result<Vec<UnitCount>, StoreError> {
    let keys = receipt_unit_keys(directory);
    let values = store.get_many(&keys)?;
    let counts: Vec<i64> =
        keys.iter().zip(values).map(|(k, v)| decode_counter(k, v.as_deref())).collect::<Result<_, _>>()?;
    Ok(units_most_first(&unit_values(directory), &counts))
}
