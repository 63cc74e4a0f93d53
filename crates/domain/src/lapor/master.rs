//! LAPOR!'s master data (institutions, categories, locations), fetched and cached in the
//! store with the time it was fetched, never hard-coded. NTB Care's own directory is matched
//! to it by name, so an administrator fixes a mismatch by naming, not by code.

use serde::{Deserialize, Serialize};

use super::wire::MasterItem;
use crate::clock::Timestamp;
use crate::directory::{Directory, UnitId};
use crate::region::RegionCode;

/// Master data older than this is fetched again (the old copy serves if that fails).
pub const REFRESH_AFTER_MS: i64 = 24 * 3600 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MasterKind {
    Institutions,
    Categories,
    Locations,
}

impl MasterKind {
    pub const ALL: [MasterKind; 3] =
        [MasterKind::Institutions, MasterKind::Categories, MasterKind::Locations];

    pub fn code(self) -> &'static str {
        match self {
            MasterKind::Institutions => "institutions",
            MasterKind::Categories => "categories",
            MasterKind::Locations => "locations",
        }
    }
}

/// One cached list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cached {
    pub fetched_at: Timestamp,
    pub items: Vec<MasterItem>,
}

impl Cached {
    pub fn is_stale(&self, now: Timestamp) -> bool {
        self.items.is_empty() || now.0 - self.fetched_at.0 >= REFRESH_AFTER_MS
    }
}

/// The three lists, as cached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Masters {
    pub institutions: Cached,
    pub categories: Cached,
    pub locations: Cached,
}

/// Lowercase words of letters and digits: "Infrastruktur (jalan, …)" → "infrastruktur jalan …".
fn normal(s: &str) -> String {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The item whose name is `name`, or failing that whose name is the part of `name` before
/// a parenthesis.
fn find<'a>(items: &'a [MasterItem], name: &str) -> Option<&'a MasterItem> {
    let full = normal(name);
    let short = normal(name.split('(').next().unwrap_or(name));
    items.iter().find(|i| normal(&i.name) == full).or_else(|| items.iter().find(|i| normal(&i.name) == short))
}

impl Masters {
    pub fn get(&self, kind: MasterKind) -> &Cached {
        match kind {
            MasterKind::Institutions => &self.institutions,
            MasterKind::Categories => &self.categories,
            MasterKind::Locations => &self.locations,
        }
    }

    /// LAPOR!'s category for one of NTB Care's.
    pub fn category_id(&self, directory: &Directory, code: &str) -> Option<String> {
        let category = directory.category(code)?;
        find(&self.categories.items, &category.name).map(|i| i.id.clone())
    }

    /// LAPOR!'s location for a region (its regency or city, else the province).
    pub fn location_id(&self, directory: &Directory, region: &RegionCode) -> Option<String> {
        let own = directory.region(region).and_then(|r| find(&self.locations.items, &r.name));
        let province = directory.regions.iter().find(|r| r.code.as_str().len() == 2);
        own.or_else(|| province.and_then(|p| find(&self.locations.items, &p.name))).map(|i| i.id.clone())
    }

    /// LAPOR!'s institution for one of NTB Care's units.
    pub fn institution_id(&self, directory: &Directory, unit: &UnitId) -> Option<String> {
        let unit = directory.unit(unit)?;
        find(&self.institutions.items, &unit.name).map(|i| i.id.clone())
    }

    /// NTB Care's category for a LAPOR! category name.
    pub fn our_category(directory: &Directory, lapor_name: &str) -> Option<String> {
        let n = normal(lapor_name);
        directory
            .categories
            .iter()
            .find(|c| normal(&c.name) == n || normal(c.name.split('(').next().unwrap_or("")) == n)
            .map(|c| c.code.clone())
    }

    /// NTB Care's region for a LAPOR! location name.
    pub fn our_region(directory: &Directory, lapor_name: &str) -> Option<RegionCode> {
        let n = normal(lapor_name);
        directory.regions.iter().find(|r| normal(&r.name) == n).map(|r| r.code.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(rows: &[(&str, &str)]) -> Cached {
        Cached {
            fetched_at: Timestamp(0),
            items: rows
                .iter()
                .map(|(id, n)| MasterItem { id: id.to_string(), name: n.to_string() })
                .collect(),
        }
    }

    #[test]
    fn names_match_across_the_two_directories() {
        let dir = Directory::seed();
        let m = Masters {
            institutions: items(&[("151", "PT PLN (Persero) UID NTB"), ("5271", "Pemerintah Kota Mataram")]),
            categories: items(&[("436", "Infrastruktur"), ("12", "Kesehatan")]),
            locations: items(&[("34", "Nusa Tenggara Barat"), ("3471", "Kota Mataram")]),
        };
        assert_eq!(m.category_id(&dir, "infrastruktur").as_deref(), Some("436"));
        assert_eq!(m.category_id(&dir, "pendidikan"), None);
        assert_eq!(m.location_id(&dir, &RegionCode::parse("52.71").unwrap()).as_deref(), Some("3471"));
        assert_eq!(m.location_id(&dir, &RegionCode::parse("52.04").unwrap()).as_deref(), Some("34"));
        assert_eq!(m.institution_id(&dir, &UnitId::parse("pln-uid-ntb").unwrap()).as_deref(), Some("151"));
        assert_eq!(Masters::our_category(&dir, "INFRASTRUKTUR").as_deref(), Some("infrastruktur"));
        assert_eq!(
            Masters::our_region(&dir, "kota mataram").map(|r| r.to_string()).as_deref(),
            Some("52.71")
        );
        assert!(m.institutions.is_stale(Timestamp(REFRESH_AFTER_MS)));
        assert!(!m.institutions.is_stale(Timestamp(1)));
    }
}
