//! Which regency/city of NTB a point lies in: point-in-polygon against the ten regencies'
//! and cities' boundaries in `data/boundaries/ntb-regencies.geojson` (geoBoundaries IDN ADM2,
//! CC BY 3.0 IGO; source, licence and accuracy in `data/boundaries/README.md`).
//!
//! Decisions:
//! - **Polygons, not boxes.** Regency boxes overlap (Mataram lies wholly inside Lombok Barat's
//!   box), so only the outlines can say which side of a border a point is on.
//! - **Compiled in.** The file is `include_str!`-ed: a component has no files at run time, and
//!   the data is small (35 KB, 1,579 points). It is parsed once per instance, on first use.
//! - **Unsure means triage.** A point outside every outline (the sea, a shore the simplified
//!   outline cuts off, outside NTB) or, should outlines ever overlap, inside two, gives `None`:
//!   the caller keeps the complaint with the provincial coordinator's triage queue, as before.
//!   Guessing a regency would send it to the wrong agency silently.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::complaint::Coordinates;
use crate::region::RegionCode;

const BOUNDARIES: &str = include_str!("../../../data/boundaries/ntb-regencies.geojson");

/// The regency/city (`52.01`…`52.08`, `52.71`, `52.72`) whose boundary contains `at`, or
/// `None` when no single one does (see the module's decisions).
pub fn locate(at: &Coordinates) -> Option<RegionCode> {
    if !at.lat.is_finite() || !at.lon.is_finite() {
        return None;
    }
    let mut found = regencies().iter().filter(|r| r.contains(at.lon, at.lat));
    let first = found.next()?;
    match found.next() {
        Some(_) => None,
        None => Some(first.code.clone()),
    }
}

/// The codes the boundary data covers, in order.
pub fn covered_codes() -> Vec<RegionCode> {
    regencies().iter().map(|r| r.code.clone()).collect()
}

struct Regency {
    code: RegionCode,
    polygons: Vec<Polygon>,
}

/// One polygon: its outer ring and holes, with its bounding box to skip it quickly.
struct Polygon {
    min: (f64, f64),
    max: (f64, f64),
    rings: Vec<Vec<(f64, f64)>>,
}

impl Regency {
    fn contains(&self, x: f64, y: f64) -> bool {
        self.polygons.iter().any(|p| p.contains(x, y))
    }
}

impl Polygon {
    /// Even-odd rule over all rings, so a point in a hole is outside.
    fn contains(&self, x: f64, y: f64) -> bool {
        if x < self.min.0 || x > self.max.0 || y < self.min.1 || y > self.max.1 {
            return false;
        }
        let mut inside = false;
        for ring in &self.rings {
            let mut prev = match ring.last() {
                Some(p) => *p,
                None => continue,
            };
            for &(x2, y2) in ring {
                let (x1, y1) = prev;
                if (y1 > y) != (y2 > y) && x < (x2 - x1) * (y - y1) / (y2 - y1) + x1 {
                    inside = !inside;
                }
                prev = (x2, y2);
            }
        }
        inside
    }
}

#[derive(Deserialize)]
struct Collection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: Properties,
    geometry: Geometry,
}

#[derive(Deserialize)]
struct Properties {
    code: RegionCode,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum Geometry {
    Polygon(Vec<Vec<[f64; 2]>>),
    MultiPolygon(Vec<Vec<Vec<[f64; 2]>>>),
}

fn regencies() -> &'static [Regency] {
    static REGENCIES: OnceLock<Vec<Regency>> = OnceLock::new();
    REGENCIES.get_or_init(|| {
        // The file is part of the build and checked by this module's tests.
        let collection: Collection =
            serde_json::from_str(BOUNDARIES).expect("data/boundaries/ntb-regencies.geojson is valid GeoJSON");
        collection
            .features
            .into_iter()
            .map(|f| {
                let polygons = match f.geometry {
                    Geometry::Polygon(rings) => vec![rings],
                    Geometry::MultiPolygon(polygons) => polygons,
                };
                Regency { code: f.properties.code, polygons: polygons.into_iter().map(polygon).collect() }
            })
            .collect()
    })
}

fn polygon(rings: Vec<Vec<[f64; 2]>>) -> Polygon {
    let rings: Vec<Vec<(f64, f64)>> =
        rings.into_iter().map(|r| r.into_iter().map(|[x, y]| (x, y)).collect()).collect();
    let mut min = (f64::INFINITY, f64::INFINITY);
    let mut max = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &(x, y) in rings.iter().flatten() {
        min = (min.0.min(x), min.1.min(y));
        max = (max.0.max(x), max.1.max(y));
    }
    Polygon { min, max, rings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Option<String> {
        locate(&Coordinates { lat, lon }).map(|c| c.to_string())
    }

    #[test]
    fn the_data_covers_exactly_ntbs_ten_regencies_and_cities() {
        let codes: Vec<String> = covered_codes().iter().map(|c| c.to_string()).collect();
        assert_eq!(
            codes,
            ["52.01", "52.02", "52.03", "52.04", "52.05", "52.06", "52.07", "52.08", "52.71", "52.72"]
        );
    }

    #[test]
    fn each_regency_seat_and_landmark_lands_in_its_own_regency() {
        for (place, lat, lon, code) in [
            ("Kantor Gubernur NTB, Mataram", -8.5836, 116.1106, "52.71"),
            ("Bandara Internasional Lombok, Praya", -8.7573, 116.2767, "52.02"),
            ("Senggigi", -8.4930, 116.0450, "52.01"),
            ("Selong", -8.6500, 116.5300, "52.03"),
            ("Tanjung", -8.3530, 116.1530, "52.08"),
            ("Gili Trawangan", -8.3500, 116.0400, "52.08"),
            ("Sumbawa Besar", -8.4930, 117.4200, "52.04"),
            ("Taliwang", -8.7380, 116.8650, "52.07"),
            ("Dompu", -8.5370, 118.4630, "52.05"),
            ("Woha (seat of Bima regency)", -8.6075, 118.7120, "52.06"),
            ("Sape", -8.5700, 119.0130, "52.06"),
            ("Kota Bima", -8.4605, 118.7265, "52.72"),
        ] {
            assert_eq!(at(lat, lon).as_deref(), Some(code), "{place}");
        }
    }

    #[test]
    fn points_either_side_of_a_city_border_land_on_their_own_side() {
        // Mataram's southern border with Labuapi (Lombok Barat) runs near 8.625° S.
        assert_eq!(at(-8.615, 116.100).as_deref(), Some("52.71"));
        assert_eq!(at(-8.640, 116.100).as_deref(), Some("52.01"));
        // Mataram's eastern side and Narmada (Lombok Barat) beyond it.
        assert_eq!(at(-8.585, 116.140).as_deref(), Some("52.71"));
        assert_eq!(at(-8.590, 116.190).as_deref(), Some("52.01"));
        // Kota Bima's southern border with Palibelo (Bima regency) runs near 8.515° S.
        assert_eq!(at(-8.505, 118.750).as_deref(), Some("52.72"));
        assert_eq!(at(-8.535, 118.750).as_deref(), Some("52.06"));
        assert_eq!(at(-8.470, 118.930).as_deref(), Some("52.06"), "Wawo, east of the city");
    }

    #[test]
    fn the_sea_and_places_outside_ntb_stay_unplaced() {
        for (place, lat, lon) in [
            ("Lombok Strait", -8.55, 115.85),
            ("Alas Strait, between Lombok and Sumbawa", -8.45, 116.78),
            ("off Ampenan", -8.57, 116.06),
            ("Bima Bay", -8.40, 118.70),
            ("Flores Sea", -8.0, 117.0),
            ("Denpasar, Bali", -8.65, 115.22),
            ("Sumba, NTT", -9.65, 120.0),
        ] {
            assert_eq!(at(lat, lon), None, "{place}");
        }
        assert_eq!(at(f64::NAN, 116.1), None);
    }
}
