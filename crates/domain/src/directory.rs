//! The directory: regions, the units that answer complaints, and complaint categories.
//!
//! It is data an administrator edits (seeded from `data/ntb-directory.toml`), never code:
//! NTB reorganises its agencies, and regencies join with their own units.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::region::RegionCode;

/// The seed shipped with NTB Care.
pub const SEED_TOML: &str = include_str!("../../../data/ntb-directory.toml");
/// The same seed as JSON, made by build.rs: parsed on every request, so it must be quick.
pub const SEED_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/directory.json"));

/// A unit's id: lowercase letters, digits and dashes (`dikes`, `pemkot-mataram`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitId(String);

#[derive(Debug, Error, PartialEq, Eq)]
#[error("unit id `{0}` must be 1-64 lowercase letters, digits or dashes")]
pub struct UnitIdError(String);

impl UnitId {
    pub fn parse(s: &str) -> Result<UnitId, UnitIdError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(UnitId(s.to_string()))
        } else {
            Err(UnitIdError(s.chars().take(64).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnitId {
    type Error = UnitIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        UnitId::parse(&s)
    }
}

impl From<UnitId> for String {
    fn from(u: UnitId) -> String {
        u.0
    }
}

impl std::fmt::Display for UnitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegionKind {
    Province,
    Regency,
    City,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub kind: RegionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    /// The provincial government itself (its coordinator's desk).
    Province,
    /// A provincial agency (OPD).
    ProvincialAgency,
    /// A regency government, with its own coordinator.
    Regency,
    /// A city government, with its own coordinator.
    City,
    /// An agency of a regency or city.
    RegencyAgency,
    /// A regional utility or enterprise (BUMD), e.g. PTAM Giri Menang.
    Utility,
    /// A national (vertical) agency, reachable only through SP4N-LAPOR!.
    Vertical,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
    pub kind: UnitKind,
    pub region: RegionCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<UnitId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
}

/// Regions, units and categories, as one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    #[serde(rename = "region")]
    pub regions: Vec<Region>,
    #[serde(rename = "unit")]
    pub units: Vec<Unit>,
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
}

/// What a submission is checked against: the regions NTB Care serves and the complaint
/// categories, without the units. Reading them alone from the directory's JSON skips the
/// part of the document that costs most to parse, on the path every new complaint takes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Codes {
    #[serde(rename = "region")]
    pub regions: Vec<Region>,
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
}

/// Looking up the region and category a complaint names: the whole [`Directory`] or its
/// [`Codes`] answer alike.
pub trait RegionsAndCategories {
    /// The province or regency/city a code belongs to, if NTB Care serves it. District and
    /// village codes resolve to their regency/city.
    fn region(&self, code: &RegionCode) -> Option<&Region>;
    fn category(&self, code: &str) -> Option<&Category>;
}

impl Codes {
    /// The regions and categories of the shipped directory.
    pub fn seed() -> Codes {
        Codes::from_json(SEED_JSON).expect("the shipped directory is valid")
    }

    /// From a directory's JSON form (checked as a whole when it was saved).
    pub fn from_json(text: &str) -> Result<Codes, DirectoryError> {
        serde_json::from_str::<Codes>(text)
            .map_err(|e| DirectoryError::Inconsistent(format!("not a directory: {e}")))
    }
}

impl RegionsAndCategories for Codes {
    fn region(&self, code: &RegionCode) -> Option<&Region> {
        region_in(&self.regions, code)
    }

    fn category(&self, code: &str) -> Option<&Category> {
        category_in(&self.categories, code)
    }
}

/// The region (province or regency/city) a code belongs to: district and village codes
/// resolve to their regency/city.
fn region_in<'a>(regions: &'a [Region], code: &RegionCode) -> Option<&'a Region> {
    let regency = code.regency();
    regions.iter().find(|r| r.code == regency)
}

fn category_in<'a>(categories: &'a [Category], code: &str) -> Option<&'a Category> {
    categories.iter().find(|c| c.code == code)
}

impl RegionsAndCategories for Directory {
    fn region(&self, code: &RegionCode) -> Option<&Region> {
        Directory::region(self, code)
    }

    fn category(&self, code: &str) -> Option<&Category> {
        Directory::category(self, code)
    }
}

#[derive(Debug, Error)]
pub enum DirectoryError {
    #[error("directory is not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("directory is inconsistent: {0}")]
    Inconsistent(String),
}

impl Directory {
    /// The directory shipped with NTB Care.
    pub fn seed() -> Directory {
        Directory::from_json(SEED_JSON).expect("the shipped directory is valid")
    }

    /// Parse and check a directory: ids unique, parents and regions known.
    pub fn from_toml(text: &str) -> Result<Directory, DirectoryError> {
        toml::from_str::<Directory>(text)?.checked()
    }

    /// The same from JSON (a seed converted at build time, or a saved document's JSON form).
    pub fn from_json(text: &str) -> Result<Directory, DirectoryError> {
        serde_json::from_str::<Directory>(text)
            .map_err(|e| DirectoryError::Inconsistent(format!("not a directory: {e}")))?
            .checked()
    }

    fn checked(self) -> Result<Directory, DirectoryError> {
        let dir = self;
        // A second entry with a code already used would be shadowed by the first wherever the
        // code is looked up: the administrator would see their edit offered and never applied.
        let mut codes = std::collections::HashSet::new();
        for category in &dir.categories {
            if !codes.insert(category.code.as_str()) {
                return Err(DirectoryError::Inconsistent(format!(
                    "category `{}` appears twice",
                    category.code
                )));
            }
        }
        let mut regions = std::collections::HashSet::new();
        for region in &dir.regions {
            if !regions.insert(&region.code) {
                return Err(DirectoryError::Inconsistent(format!("region `{}` appears twice", region.code)));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for unit in &dir.units {
            if !seen.insert(&unit.id) {
                return Err(DirectoryError::Inconsistent(format!("unit `{}` appears twice", unit.id)));
            }
            if dir.region(&unit.region).is_none() {
                return Err(DirectoryError::Inconsistent(format!(
                    "unit `{}` is in unknown region `{}`",
                    unit.id, unit.region
                )));
            }
        }
        for unit in &dir.units {
            if let Some(parent) = &unit.parent {
                if dir.unit(parent).is_none() {
                    return Err(DirectoryError::Inconsistent(format!(
                        "unit `{}` has unknown parent `{parent}`",
                        unit.id
                    )));
                }
            }
        }
        Ok(dir)
    }

    /// The province or regency/city a code belongs to, if NTB Care serves it. District and
    /// village codes resolve to their regency/city.
    pub fn region(&self, code: &RegionCode) -> Option<&Region> {
        region_in(&self.regions, code)
    }

    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.units.iter().find(|u| &u.id == id)
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        category_in(&self.categories, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_directorys_regions_and_categories() {
        let dir = Directory::seed();
        let codes = Codes::seed();
        assert_eq!(codes.regions, dir.regions);
        assert_eq!(codes.categories, dir.categories);
        let village = RegionCode::parse("52.71.01.1001").unwrap();
        assert_eq!(RegionsAndCategories::region(&codes, &village), dir.region(&village));
        assert!(RegionsAndCategories::category(&codes, "kesehatan").is_some());
        assert!(RegionsAndCategories::category(&codes, "unknown").is_none());
        assert!(Codes::from_json("{\"region\": 1}").is_err());
    }

    #[test]
    fn seed_has_the_province_and_its_ten_regencies_and_cities() {
        let dir = Directory::seed();
        assert_eq!(dir.regions.len(), 11);
        for code in ["52", "52.01", "52.08", "52.71", "52.72"] {
            assert!(dir.region(&RegionCode::parse(code).unwrap()).is_some(), "{code}");
        }
        assert!(dir.region(&RegionCode::parse("52.09").unwrap()).is_none());
        assert!(dir.region(&RegionCode::parse("51.71").unwrap()).is_none());
        assert!(dir.region(&RegionCode::parse("52.71.01").unwrap()).is_some());
    }

    #[test]
    fn the_json_seed_is_the_toml_seed() {
        assert_eq!(Directory::from_json(SEED_JSON).unwrap(), Directory::from_toml(SEED_TOML).unwrap());
    }

    #[test]
    fn a_category_or_region_given_twice_is_refused_not_shadowed() {
        let twice = format!("{SEED_TOML}\n[[category]]\ncode = \"air-bersih\"\nname = \"Air minum\"\n");
        let err = Directory::from_toml(&twice).unwrap_err().to_string();
        assert!(err.contains("category `air-bersih` appears twice"), "{err}");
        let twice =
            format!("{SEED_TOML}\n[[region]]\ncode = \"52.71\"\nname = \"Mataram lagi\"\nkind = \"city\"\n");
        let err = Directory::from_toml(&twice).unwrap_err().to_string();
        assert!(err.contains("region `52.71` appears twice"), "{err}");
    }

    #[test]
    fn rejects_a_unit_with_an_unknown_parent() {
        let text = r#"
            [[region]]
            code = "52"
            name = "NTB"
            kind = "province"
            [[unit]]
            id = "a"
            name = "A"
            kind = "provincial-agency"
            region = "52"
            parent = "nobody"
            [[category]]
            code = "lainnya"
            name = "Lainnya"
        "#;
        let err = Directory::from_toml(text).unwrap_err();
        assert!(err.to_string().contains("unknown parent `nobody`"), "{err}");
    }
}
