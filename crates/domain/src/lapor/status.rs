//! The status mapping, both ways (written down in `docs/lapor.md`).
//!
//! LAPOR! shows five statuses (`status_name`); NTB Care's lifecycle has nine. LAPOR! offers
//! no endpoint to set a status, so NTB Care moves LAPOR! by what it sends (answers as
//! follow-ups, "not our authority" as a reject), and mirrors LAPOR!'s status into its own
//! case only where the meaning is the same.

use serde::{Deserialize, Serialize};

use crate::lifecycle::CaseStatus;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LaporStatus {
    BelumTerverifikasi,
    DalamProses,
    Selesai,
    Diarsipkan,
    Ditolak,
    /// A name not seen before, kept as LAPOR! wrote it.
    Other(String),
}

impl LaporStatus {
    pub fn parse(name: &str) -> LaporStatus {
        let n: String = name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        match n.as_str() {
            "belum terverifikasi" => LaporStatus::BelumTerverifikasi,
            "dalam proses" => LaporStatus::DalamProses,
            "selesai" => LaporStatus::Selesai,
            "diarsipkan" => LaporStatus::Diarsipkan,
            "ditolak" => LaporStatus::Ditolak,
            _ => LaporStatus::Other(name.trim().to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            LaporStatus::BelumTerverifikasi => "Belum Terverifikasi",
            LaporStatus::DalamProses => "Dalam Proses",
            LaporStatus::Selesai => "Selesai",
            LaporStatus::Diarsipkan => "Diarsipkan",
            LaporStatus::Ditolak => "Ditolak",
            LaporStatus::Other(n) => n,
        }
    }

    /// Whether LAPOR! is done with the complaint.
    pub fn is_final(&self) -> bool {
        matches!(self, LaporStatus::Selesai | LaporStatus::Diarsipkan | LaporStatus::Ditolak)
    }
}

/// What LAPOR! should show for a case in NTB Care (NTB Care → LAPOR!).
pub fn lapor_equivalent(status: CaseStatus) -> LaporStatus {
    use CaseStatus as S;
    match status {
        S::Received | S::Verified => LaporStatus::BelumTerverifikasi,
        S::Dispatched | S::InProgress | S::Responded | S::Reopened | S::Forwarded => LaporStatus::DalamProses,
        S::Closed => LaporStatus::Selesai,
        S::Rejected => LaporStatus::Ditolak,
    }
}

/// What NTB Care does when LAPOR!'s status changes (LAPOR! → NTB Care).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mirror {
    /// Record the new LAPOR! status in the case history; the NTB Care status stays.
    Note,
    /// LAPOR! closed an answered case: close it here too.
    Close,
    /// LAPOR! archived or refused a complaint that came from it and that NTB Care has not
    /// dispatched yet: reject it here too.
    Reject,
}

pub fn mirror(lapor: &LaporStatus, case: CaseStatus, came_from_lapor: bool) -> Mirror {
    match (lapor, case) {
        (LaporStatus::Selesai, CaseStatus::Responded) => Mirror::Close,
        (LaporStatus::Diarsipkan | LaporStatus::Ditolak, CaseStatus::Received | CaseStatus::Verified)
            if came_from_lapor =>
        {
            Mirror::Reject
        }
        _ => Mirror::Note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_names_parse_whatever_their_case_and_spacing() {
        for s in ["Belum Terverifikasi", "Dalam Proses", "Selesai", "Diarsipkan", "Ditolak"] {
            let parsed = LaporStatus::parse(&format!(" {} ", s.to_uppercase()));
            assert_eq!(parsed.name(), s);
            assert!(!matches!(parsed, LaporStatus::Other(_)));
        }
        assert_eq!(LaporStatus::parse("Tunda"), LaporStatus::Other("Tunda".into()));
    }

    #[test]
    fn mapping_both_ways() {
        assert_eq!(lapor_equivalent(CaseStatus::Responded), LaporStatus::DalamProses);
        assert_eq!(lapor_equivalent(CaseStatus::Closed), LaporStatus::Selesai);
        assert_eq!(mirror(&LaporStatus::Selesai, CaseStatus::Responded, false), Mirror::Close);
        assert_eq!(mirror(&LaporStatus::Selesai, CaseStatus::InProgress, false), Mirror::Note);
        assert_eq!(mirror(&LaporStatus::Diarsipkan, CaseStatus::Received, true), Mirror::Reject);
        // A complaint NTB Care exported stays NTB Care's to decide.
        assert_eq!(mirror(&LaporStatus::Ditolak, CaseStatus::Received, false), Mirror::Note);
    }
}
