//! Kemendagri region codes: `52` (province), `52.71` (regency/city), `52.71.01` (district),
//! `52.71.01.1001` (village). Accepted with or without dots, stored with dots.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A syntactically valid region code, normalised to its dotted form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RegionCodeError {
    #[error("region code is empty")]
    Empty,
    #[error("region code `{0}` is not a Kemendagri code such as 52.71")]
    Malformed(String),
}

impl RegionCode {
    pub fn parse(input: &str) -> Result<RegionCode, RegionCodeError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(RegionCodeError::Empty);
        }
        let malformed = || RegionCodeError::Malformed(input.chars().take(40).collect());
        let digits: String = if input.contains('.') {
            let parts: Vec<&str> = input.split('.').collect();
            let widths = [2usize, 2, 2, 4];
            if parts.len() > 4
                || parts
                    .iter()
                    .zip(widths)
                    .any(|(p, w)| p.len() != w || !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(malformed());
            }
            parts.concat()
        } else {
            if !input.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            input.to_string()
        };
        let dotted = match digits.len() {
            2 => digits.clone(),
            4 => format!("{}.{}", &digits[..2], &digits[2..]),
            6 => format!("{}.{}.{}", &digits[..2], &digits[2..4], &digits[4..]),
            10 => format!("{}.{}.{}.{}", &digits[..2], &digits[2..4], &digits[4..6], &digits[6..]),
            _ => return Err(malformed()),
        };
        Ok(RegionCode(dotted))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province part (`52`).
    pub fn province(&self) -> RegionCode {
        RegionCode(self.0[..2].to_string())
    }

    /// The regency/city part (`52.71`), or the province itself for a province code.
    pub fn regency(&self) -> RegionCode {
        RegionCode(self.0[..self.0.len().min(5)].to_string())
    }

    /// Whether `self` is `other` or lies inside it (`52.71.01` is within `52.71` and `52`).
    pub fn is_within(&self, other: &RegionCode) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'.'))
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RegionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_codes_with_or_without_dots() {
        assert_eq!(RegionCode::parse("5271").unwrap().as_str(), "52.71");
        assert_eq!(RegionCode::parse(" 52.71 ").unwrap().as_str(), "52.71");
        assert_eq!(RegionCode::parse("52").unwrap().as_str(), "52");
        assert_eq!(RegionCode::parse("527101").unwrap().as_str(), "52.71.01");
        assert_eq!(RegionCode::parse("52.71.01.1001").unwrap().as_str(), "52.71.01.1001");
    }

    #[test]
    fn rejects_what_is_not_a_code() {
        for bad in ["", "5", "527", "52.7", "52..71", "ab.cd", "52.71.01.1", "5271010", "52-71"] {
            assert!(RegionCode::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn containment_follows_the_dots() {
        let village = RegionCode::parse("52.71.01.1001").unwrap();
        assert!(village.is_within(&RegionCode::parse("52.71").unwrap()));
        assert!(village.is_within(&RegionCode::parse("52").unwrap()));
        assert!(RegionCode::parse("52.7").is_err());
        assert!(!RegionCode::parse("52.72").unwrap().is_within(&RegionCode::parse("52.71").unwrap()));
        assert_eq!(village.regency().as_str(), "52.71");
    }
}
