//! A LAPOR! complaint dispositioned to NTB becomes an NTB Care submission (channel `lapor`),
//! accepted through the same steps as any other: numbered, routed, received, saved.
//!
//! LAPOR! keeps the reporter; NTB Care gets no identity and no contact, so the complaint is
//! anonymous (or confidential when LAPOR! marks it secret) and unreachable from here: the
//! answer travels back as a LAPOR! follow-up.

use super::master::Masters;
use super::wire::LaporComplaint;
use crate::complaint::{limits, ExternalReference, Location, Privacy, Reporter, Submission};
use crate::directory::Directory;
use crate::language::Language;
use crate::region::RegionCode;

pub const SYSTEM: &str = "lapor";

pub fn external(l: &LaporComplaint) -> ExternalReference {
    ExternalReference { system: SYSTEM.into(), reference: l.id.clone() }
}

pub fn submission(l: &LaporComplaint, directory: &Directory) -> Submission {
    let clip = |s: &str, max: usize| s.trim().chars().take(max).collect::<String>();
    let title = Some(clip(&l.title, limits::TITLE_MAX_CHARS)).filter(|t| !t.is_empty());
    let mut description = clip(&l.content, limits::DESCRIPTION_MAX_CHARS);
    if description.chars().count() < limits::DESCRIPTION_MIN_CHARS {
        description = clip(&format!("{} {}", l.title, l.content), limits::DESCRIPTION_MAX_CHARS);
    }
    if description.chars().count() < limits::DESCRIPTION_MIN_CHARS {
        description = format!("Pengaduan SP4N-LAPOR! {}", l.id);
    }
    let region_code = l
        .location_name
        .as_deref()
        .and_then(|n| Masters::our_region(directory, n))
        .unwrap_or_else(|| RegionCode::parse("52").expect("the province's code"));
    Submission {
        title,
        attachments: vec![],
        description,
        category: l.category_name.as_deref().and_then(|n| Masters::our_category(directory, n)),
        location: Location { region_code, address: None, coordinates: None },
        privacy: if l.is_secret { Privacy::Confidential } else { Privacy::Anonymous },
        reporter: Reporter::default(),
        language: Language::Id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lapor(secret: bool) -> LaporComplaint {
        LaporComplaint {
            id: "9001".into(),
            title: "Puskesmas tutup".into(),
            content: "Puskesmas di Ampenan tutup pada jam layanan sejak Senin.".into(),
            category_id: Some("12".into()),
            category_name: Some("Kesehatan".into()),
            location_id: None,
            location_name: Some("Kota Mataram".into()),
            disposition_id: Some("5200".into()),
            status: None,
            is_anonymous: false,
            is_secret: secret,
        }
    }

    #[test]
    fn an_imported_complaint_is_anonymous_located_and_categorised() {
        let s = submission(&lapor(false), &Directory::seed());
        assert_eq!(s.privacy, Privacy::Anonymous);
        assert!(s.reporter.is_empty());
        assert_eq!(s.category.as_deref(), Some("kesehatan"));
        assert_eq!(s.location.region_code.as_str(), "52.71");
        assert_eq!(submission(&lapor(true), &Directory::seed()).privacy, Privacy::Confidential);
        assert_eq!(
            external(&lapor(false)),
            ExternalReference { system: "lapor".into(), reference: "9001".into() }
        );
    }

    #[test]
    fn a_thin_complaint_still_makes_a_valid_submission() {
        let mut l = lapor(false);
        l.content = "".into();
        l.title = "".into();
        l.location_name = Some("Atlantis".into());
        let s = submission(&l, &Directory::seed());
        assert!(s.description.chars().count() >= limits::DESCRIPTION_MIN_CHARS);
        assert_eq!(s.location.region_code.as_str(), "52");
    }
}
