//! What NTB Care sends to LAPOR! when it creates a complaint there.
//!
//! Built from the shared [`Complaint`] record only, which carries no contact and a name
//! only for a public complaint; the payload does not read even that name. A reporter who
//! wants to be known to LAPOR! files there themselves. `is_anonymous` is set unless the
//! reporter chose public, `is_secret` for a confidential complaint, so LAPOR! hides it from
//! the public as NTB Care does.

use serde::Serialize;

use super::config::LaporConfig;
use super::master::Masters;
use crate::complaint::{Complaint, Privacy};
use crate::directory::Directory;

/// The body of `POST /complaints/complaint`, in the integrator's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportPayload {
    pub title: String,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub channel: Option<i64>,
    pub classification_id: Option<i64>,
    pub category_id: Option<String>,
    pub location_id: Option<String>,
    /// The institution the complaint is for: the unit's own LAPOR! institution when one is
    /// known, else NTB's.
    pub disposition_id: Option<String>,
    pub tags_raw: String,
    /// A JSON-array string of uploaded file ids, as the integrator sends it.
    pub attachments: String,
    pub is_anonymous: bool,
    pub is_secret: bool,
}

/// The line that carries our ticket, by which a retry finds the complaint on LAPOR!.
pub fn reference_line(c: &Complaint) -> String {
    format!("Nomor tiket NTB Care: {}", c.ticket)
}

pub fn payload(
    c: &Complaint,
    directory: &Directory,
    masters: &Masters,
    config: &LaporConfig,
    uploaded_file_ids: &[String],
) -> ExportPayload {
    let title = c.title.clone().unwrap_or_else(|| {
        let mut t: String = c.description.chars().take(80).collect();
        if c.description.chars().count() > 80 {
            t.push('…');
        }
        t
    });
    let region = directory
        .region(&c.location.region_code)
        .map(|r| r.name.clone())
        .unwrap_or_else(|| c.location.region_code.to_string());
    let content = format!("{}\n\nLokasi: {region}\n{}", c.description, reference_line(c));
    ExportPayload {
        title,
        content,
        user_id: config.user_id.clone(),
        channel: config.channel_id,
        classification_id: config.classification_id,
        category_id: c.category.as_deref().and_then(|code| masters.category_id(directory, code)),
        location_id: masters.location_id(directory, &c.location.region_code),
        disposition_id: c
            .unit
            .as_ref()
            .and_then(|u| masters.institution_id(directory, u))
            .or_else(|| config.institution_id.clone()),
        tags_raw: format!("#ntbcare #{}", c.ticket),
        attachments: format!("[{}]", uploaded_file_ids.join(",")),
        is_anonymous: c.privacy != Privacy::Public,
        is_secret: c.privacy == Privacy::Confidential,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::casework::tests_support::complaint;
    use crate::lapor::config::test_config;
    use crate::ticket::Ticket;

    #[test]
    fn a_confidential_complaint_is_secret_and_names_nobody() {
        let mut c = complaint(Ticket::number(2026, 4).unwrap());
        c.privacy = Privacy::Confidential;
        // Even a name wrongly left on the record is not read.
        c.reporter_name = Some("Lalu Canary".into());
        let p = payload(&c, &Directory::seed(), &Masters::default(), &test_config("https://x.example"), &[]);
        assert!(p.is_secret && p.is_anonymous);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("Canary"), "{json}");
        assert!(p.content.contains(&format!("Nomor tiket NTB Care: {}", c.ticket)));
        assert_eq!(p.disposition_id.as_deref(), Some("5200"), "NTB's institution when the unit has none");
        assert_eq!(p.attachments, "[]");
    }

    #[test]
    fn a_public_complaint_is_not_anonymous_but_still_carries_no_identity() {
        let mut c = complaint(Ticket::number(2026, 5).unwrap());
        c.privacy = Privacy::Public;
        c.reporter_name = Some("Baiq Nurul".into());
        let p = payload(&c, &Directory::seed(), &Masters::default(), &test_config("https://x.example"), &[]);
        assert!(!p.is_anonymous && !p.is_secret);
        assert!(!serde_json::to_string(&p).unwrap().contains("Baiq"));
    }
}
