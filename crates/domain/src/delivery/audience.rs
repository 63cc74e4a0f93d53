//! From a notice (who is to be told) to outbox messages (to whom, on which channel).
//!
//! Casework names an [`Audience`]; this module finds the people: the complainant through the
//! reporter record of the identity store and [`intake::reply_address`], officers through
//! their accounts (role, unit, and for regency coordinators the case's region). Each
//! message's id is derived from (notice, channel, address), so resolving a notice twice (a
//! sweep that crashed before marking it done) queues nothing twice.
//!
//! Casework's notices carry the fields it knows; the rest ([`complete_fields`]) comes from
//! the case record: the unit's name, the open step's deadline, the tracking link (for the
//! complainant only). Officers' templates may use only placeholders that cannot identify a
//! complainant ([`super::templates::OFFICER_PLACEHOLDERS`]), so whatever a field holds, an
//! officer's message never carries an identity.

use sha2::{Digest, Sha256};

use super::outbox::QueuedMessage;
use crate::calendar::WorkingCalendar;
use crate::clock::Timestamp;
use crate::complaint::{Channel, Complaint, Reporter};
use crate::directory::{Directory, UnitId};
use crate::hex::encode as hex;
use crate::intake;
use crate::language::{Language, Text};
use crate::notices::{Audience, Notice};
use crate::org::{Officer, Role};
use crate::sla::SlaRules;

/// One person to tell, on one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub channel: Channel,
    pub address: String,
    pub language: Language,
}

/// Every address a reporter gave, as (channel, address): the handle on the complaint's
/// messaging channel, the phone for SMS, the e-mail.
pub fn reporter_addresses(reporter: &Reporter, complaint_channel: Channel) -> Vec<(Channel, String)> {
    let mut out = Vec::new();
    if let Some(h) = &reporter.handle {
        if matches!(complaint_channel, Channel::Whatsapp | Channel::Facebook | Channel::Instagram) {
            out.push((complaint_channel, h.clone()));
        }
    }
    if let Some(p) = &reporter.phone {
        out.push((Channel::Sms, p.as_str().to_string()));
    }
    if let Some(e) = &reporter.email {
        out.push((Channel::Email, e.as_str().to_string()));
    }
    out
}

/// When the complainant last wrote on each channel, as far as the case record knows: the
/// complaint itself and every follow-up message.
pub fn last_inbound(complaint: &Complaint) -> Vec<(Channel, Timestamp)> {
    let mut out = vec![(complaint.channel, complaint.received_at)];
    out.extend(complaint.case.follow_ups.iter().map(|f| (f.channel, f.at)));
    out
}

/// Whether an officer belongs to an audience.
pub fn officer_in(
    officer: &Officer,
    audience: &Audience,
    case: Option<&Complaint>,
    directory: &Directory,
) -> bool {
    if !officer.active {
        return false;
    }
    let of_unit = |unit: &UnitId| officer.unit.as_ref() == Some(unit);
    match audience {
        Audience::Complainant => false,
        Audience::UnitOfficers { unit } => officer.role == Role::LiaisonOfficer && of_unit(unit),
        Audience::UnitHead { unit } => officer.role == Role::UnitHead && of_unit(unit),
        Audience::Coordinators => match officer.role {
            Role::ProvincialCoordinator => true,
            Role::RegencyCoordinator => match (coordinated_region(officer, directory), case) {
                (Some(region), Some(c)) => {
                    c.location.region_code.is_within(region)
                        || c.unit
                            .as_ref()
                            .and_then(|u| directory.unit(u))
                            .is_some_and(|u| u.region.is_within(region))
                }
                _ => false,
            },
            _ => false,
        },
        Audience::RegionCoordinators => {
            officer.role == Role::RegencyCoordinator
                && match (coordinated_region(officer, directory), case) {
                    (Some(region), Some(c)) => c.location.region_code.is_within(region),
                    _ => false,
                }
        }
        Audience::ProvincialCoordinators => officer.role == Role::ProvincialCoordinator,
        Audience::Inspectorate => officer.role == Role::Inspectorate,
    }
}

/// The region a regency coordinator's account coordinates: that of its government unit.
fn coordinated_region<'d>(
    officer: &Officer,
    directory: &'d Directory,
) -> Option<&'d crate::region::RegionCode> {
    officer.unit.as_ref().and_then(|u| directory.unit(u)).map(|u| &u.region)
}

/// Where to reach an officer: e-mail when NTB Care can send e-mail, else SMS, else whatever
/// address the account has (the message then dead-letters saying which provider is missing).
pub fn officer_address(officer: &Officer, enabled: &[Channel]) -> Option<(Channel, String)> {
    let email = officer.email.as_ref().map(|e| (Channel::Email, e.as_str().to_string()));
    let phone = officer.phone.as_ref().map(|p| (Channel::Sms, p.as_str().to_string()));
    let on = |a: &Option<(Channel, String)>| a.as_ref().is_some_and(|(c, _)| enabled.contains(c));
    if on(&email) {
        email
    } else if on(&phone) {
        phone
    } else {
        email.or(phone)
    }
}

/// The people a notice is for. The complainant needs their reporter record and the case;
/// officers are read from their accounts. Officers' messages are in Indonesian.
pub fn recipients(
    notice: &Notice,
    case: Option<&Complaint>,
    reporter: Option<&Reporter>,
    officers: &[Officer],
    directory: &Directory,
    enabled: &[Channel],
) -> Vec<Recipient> {
    match &notice.audience {
        Audience::Complainant => match (case, reporter) {
            (Some(c), Some(r)) => intake::reply_address(r, c.channel)
                .map(|(channel, address)| Recipient { channel, address, language: c.language })
                .into_iter()
                .collect(),
            _ => vec![],
        },
        Audience::RegionCoordinators => {
            let region = officers_in(&notice.audience, case, officers, directory, enabled);
            if region.is_empty() {
                // No coordinator account for that region: the warning must still reach
                // someone who can verify, never fall silent.
                officers_in(&Audience::ProvincialCoordinators, case, officers, directory, enabled)
            } else {
                region
            }
        }
        audience => officers_in(audience, case, officers, directory, enabled),
    }
}

/// The officers of an audience, each address once; officers' messages are in Indonesian.
fn officers_in(
    audience: &Audience,
    case: Option<&Complaint>,
    officers: &[Officer],
    directory: &Directory,
    enabled: &[Channel],
) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    for o in officers.iter().filter(|o| officer_in(o, audience, case, directory)) {
        if let Some((channel, address)) = officer_address(o, enabled) {
            let r = Recipient { channel, address, language: Language::Id };
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// A deadline as people read it: `04-12-2026 17:00 WITA`.
pub fn format_due(due: Timestamp) -> String {
    let t = due.wita();
    format!("{:02}-{:02}-{:04} {:02}:{:02} WITA", t.day, t.month, t.year, t.hour, t.minute)
}

/// What the case record adds to a notice's fields, each only where the notice has none.
pub struct CaseContext<'a> {
    pub directory: &'a Directory,
    pub rules: &'a SlaRules,
    pub calendar: &'a WorkingCalendar,
    /// Where citizens reach NTB Care (`public_base_url`).
    pub public_base_url: &'a str,
    pub now: Timestamp,
}

/// Fill in what a notice's template may need and the notice lacks: `status`, `agency`,
/// `due_date`, `reason`, and for the complainant only, `tracking_url`.
pub fn complete_fields(
    notice: &Notice,
    case: Option<&Complaint>,
    language: Language,
    ctx: &CaseContext<'_>,
) -> Vec<(String, String)> {
    let mut fields = notice.fields.clone();
    let mut add = |name: &str, value: Option<String>| {
        let missing = !fields.iter().any(|(k, v)| k == name && !v.trim().is_empty());
        if let (true, Some(value)) = (missing, value.filter(|v| !v.trim().is_empty())) {
            fields.retain(|(k, _)| k != name);
            fields.push((name.to_string(), value));
        }
    };
    add("ticket", Some(notice.ticket.to_string()));
    if let Some(c) = case {
        add("status", Some(c.status.label().get(language).to_string()));
        let agency = c.unit.as_ref().and_then(|u| ctx.directory.unit(u)).map(|u| u.name.clone());
        add("agency", Some(agency.unwrap_or_else(|| "NTB Care".to_string())));
        let due = crate::casework::clocks::deadlines(c, ctx.rules, ctx.calendar, ctx.now).map(|(_, d)| d.due);
        add("due_date", due.map(format_due));
        let reason = c
            .history
            .iter()
            .rev()
            .find_map(|e| e.public_note.clone().or_else(|| e.internal_note.clone()))
            .unwrap_or_else(|| default_reason().get(language).to_string());
        add("reason", Some(reason));
    }
    if notice.audience == Audience::Complainant {
        // The same link intake gives in the acknowledgement.
        add(
            "tracking_url",
            Some(crate::intake::tracking_url(ctx.public_base_url, notice.ticket.as_str(), language)),
        );
    }
    fields
}

fn default_reason() -> Text {
    Text::new("lihat riwayat kasus", "see the case history")
}

/// The outbox message for one recipient of a notice; its id is stable for (notice, channel,
/// address).
pub fn message_for(notice: &Notice, to: &Recipient, fields: Vec<(String, String)>) -> QueuedMessage {
    QueuedMessage {
        id: intake::message_id(&format!("notice:{}", notice.id), &notice.ticket, to.channel, &to.address),
        ticket: notice.ticket.to_string(),
        template: notice.template.clone(),
        language: to.language,
        channel: to.channel,
        recipient: to.address.clone(),
        fields,
        queued_at: notice.at,
    }
}

/// One unit's line of the daily digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DigestLine {
    pub unit: UnitId,
    pub open: usize,
    pub overdue: usize,
}

/// Open and overdue cases per unit. Only cases in a unit's hands count: a complaint waiting
/// for verification (or forwarded back) is the coordinators' alone, and even its count must
/// not reach the unit routing proposed, which may be the one complained about.
pub fn digest(
    cases: &[Complaint],
    rules: &SlaRules,
    calendar: &WorkingCalendar,
    now: Timestamp,
) -> Vec<DigestLine> {
    let mut lines: Vec<DigestLine> = Vec::new();
    for c in cases.iter().filter(|c| c.status.is_open()) {
        let Some(crate::queues::Queue::Unit(unit)) = crate::queues::queue_of(c) else { continue };
        let unit = &unit;
        let overdue =
            crate::casework::clocks::deadlines(c, rules, calendar, now).is_some_and(|(_, d)| d.due < now);
        let i = match lines.iter().position(|l| &l.unit == unit) {
            Some(i) => i,
            None => {
                lines.push(DigestLine { unit: unit.clone(), open: 0, overdue: 0 });
                lines.len() - 1
            }
        };
        lines[i].open += 1;
        lines[i].overdue += usize::from(overdue);
    }
    lines.sort_by(|a, b| a.unit.as_str().cmp(b.unit.as_str()));
    lines
}

/// The digest messages of one unit for one WITA day: to its liaison officers and its head,
/// with an id derived from (unit, day, channel, address), so a second run that day queues
/// nothing new.
pub fn digest_messages(
    line: &DigestLine,
    officers: &[Officer],
    directory: &Directory,
    enabled: &[Channel],
    now: Timestamp,
) -> Vec<QueuedMessage> {
    let day = now.wita();
    let day = format!("{:04}-{:02}-{:02}", day.year, day.month, day.day);
    let agency = directory.unit(&line.unit).map(|u| u.name.clone()).unwrap_or_else(|| line.unit.to_string());
    let audiences =
        [Audience::UnitOfficers { unit: line.unit.clone() }, Audience::UnitHead { unit: line.unit.clone() }];
    let mut out: Vec<QueuedMessage> = Vec::new();
    for o in officers.iter().filter(|o| audiences.iter().any(|a| officer_in(o, a, None, directory))) {
        let Some((channel, address)) = officer_address(o, enabled) else { continue };
        let digest =
            Sha256::digest(format!("digest\n{}\n{day}\n{}\n{address}", line.unit, channel.code()).as_bytes());
        let id = hex(&digest[..16]);
        if out.iter().any(|m| m.id == id) {
            continue;
        }
        out.push(QueuedMessage {
            id,
            ticket: format!("digest-{}-{day}", line.unit),
            template: "daily-digest".into(),
            language: Language::Id,
            channel,
            recipient: address,
            fields: vec![
                ("agency".into(), agency.clone()),
                ("open".into(), line.open.to_string()),
                ("overdue".into(), line.overdue.to_string()),
            ],
            queued_at: now,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaint::{EmailAddress, PhoneNumber, Privacy};
    use crate::lifecycle::CaseStatus;
    use crate::org::Username;
    use crate::ticket::Ticket;

    fn officer(
        name: &str,
        role: Role,
        unit: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Officer {
        Officer {
            username: Username::parse(name).unwrap(),
            name: name.into(),
            role,
            unit: unit.map(|u| UnitId::parse(u).unwrap()),
            password_hash: "x".into(),
            active: true,
            email: email.and_then(EmailAddress::parse),
            phone: phone.and_then(PhoneNumber::parse),
        }
    }

    fn case() -> Complaint {
        let mut c = crate::casework::tests_support::complaint(Ticket::number(2026, 5).unwrap());
        c.status = CaseStatus::Dispatched;
        c.unit = Some(UnitId::parse("pemkot-mataram").unwrap());
        c.privacy = Privacy::Confidential;
        c
    }

    const ALL: [Channel; 2] = [Channel::Sms, Channel::Email];

    #[test]
    fn unit_officers_are_the_units_liaisons_reached_by_email_first() {
        let dir = Directory::seed();
        let officers = [
            officer(
                "mataram",
                Role::LiaisonOfficer,
                Some("pemkot-mataram"),
                Some("a@mataram.go.id"),
                Some("0811111111"),
            ),
            officer("mataram2", Role::LiaisonOfficer, Some("pemkot-mataram"), None, Some("0812222222")),
            officer("dikes", Role::LiaisonOfficer, Some("dikes"), Some("d@dikes.go.id"), None),
            officer("kepala", Role::UnitHead, Some("pemkot-mataram"), Some("k@mataram.go.id"), None),
        ];
        let c = case();
        let n = Notice::new(
            &c.ticket,
            "event-3",
            Audience::UnitOfficers { unit: c.unit.clone().unwrap() },
            "case-assigned",
            vec![],
            Timestamp(1),
        );
        let to = recipients(&n, Some(&c), None, &officers, &dir, &ALL);
        assert_eq!(
            to.iter().map(|r| (r.channel, r.address.as_str())).collect::<Vec<_>>(),
            [(Channel::Email, "a@mataram.go.id"), (Channel::Sms, "+62812222222")]
        );
        let only_sms = recipients(&n, Some(&c), None, &officers, &dir, &[Channel::Sms]);
        assert_eq!(only_sms[0].channel, Channel::Sms);
    }

    #[test]
    fn the_complainant_is_reached_on_their_reply_address_and_the_id_is_stable() {
        let dir = Directory::seed();
        let c = case();
        let reporter = Reporter { phone: PhoneNumber::parse("081299990000"), ..Default::default() };
        let n =
            Notice::new(&c.ticket, "event-3", Audience::Complainant, "status-changed", vec![], Timestamp(1));
        let to = recipients(&n, Some(&c), Some(&reporter), &[], &dir, &ALL);
        assert_eq!(
            to,
            [Recipient { channel: Channel::Sms, address: "+6281299990000".into(), language: c.language }]
        );
        let a = message_for(&n, &to[0], vec![]);
        let b = message_for(&n, &to[0], vec![("x".into(), "y".into())]);
        assert_eq!(a.id, b.id);
        assert!(recipients(&n, Some(&c), None, &[], &dir, &ALL).is_empty());
    }

    #[test]
    fn fields_are_completed_from_the_case_and_the_link_only_for_the_complainant() {
        let dir = Directory::seed();
        let (rules, calendar) = (SlaRules::seed(), WorkingCalendar::seed());
        let c = case();
        let ctx = CaseContext {
            directory: &dir,
            rules: &rules,
            calendar: &calendar,
            public_base_url: "https://care.example/",
            now: c.received_at,
        };
        let officers = Notice::new(
            &c.ticket,
            "e",
            Audience::UnitOfficers { unit: c.unit.clone().unwrap() },
            "case-assigned",
            vec![("ticket".into(), c.ticket.to_string())],
            Timestamp(1),
        );
        let f = complete_fields(&officers, Some(&c), Language::Id, &ctx);
        let get = |f: &[(String, String)], k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert!(get(&f, "agency").unwrap().contains("Mataram"));
        assert!(get(&f, "due_date").unwrap().ends_with("WITA"));
        assert_eq!(get(&f, "tracking_url"), None);
        let citizen =
            Notice::new(&c.ticket, "e", Audience::Complainant, "status-changed", vec![], Timestamp(1));
        let f = complete_fields(&citizen, Some(&c), Language::En, &ctx);
        // A page made for people, in the reader's language: never the JSON API.
        assert_eq!(
            get(&f, "tracking_url").unwrap(),
            format!("https://care.example/lacak/{}?lang=en", c.ticket)
        );
        let f = complete_fields(&citizen, Some(&c), Language::Id, &ctx);
        assert_eq!(get(&f, "tracking_url").unwrap(), format!("https://care.example/lacak/{}", c.ticket));
    }

    #[test]
    fn the_digest_counts_open_and_overdue_cases_per_unit_once_a_day() {
        let dir = Directory::seed();
        let (rules, calendar) = (SlaRules::seed(), WorkingCalendar::seed());
        let c = case();
        let later = Timestamp(c.received_at.0 + 90 * 86_400_000);
        let lines = digest(&[c.clone(), c.clone()], &rules, &calendar, later);
        assert_eq!(lines, [DigestLine { unit: c.unit.clone().unwrap(), open: 2, overdue: 2 }]);
        let officers =
            [officer("mataram", Role::LiaisonOfficer, Some("pemkot-mataram"), Some("a@m.go.id"), None)];
        let a = digest_messages(&lines[0], &officers, &dir, &ALL, later);
        let b = digest_messages(&lines[0], &officers, &dir, &ALL, Timestamp(later.0 + 60_000));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].id, b[0].id, "same day, same message");
    }

    /// Officers around a complaint in Lombok Timur about the provincial transport agency.
    fn around_dishub() -> Vec<Officer> {
        vec![
            officer("dishub", Role::LiaisonOfficer, Some("dishub"), Some("penghubung@dishub.go.id"), None),
            officer("kadishub", Role::UnitHead, Some("dishub"), Some("kepala@dishub.go.id"), None),
            officer(
                "lotim",
                Role::RegencyCoordinator,
                Some("pemkab-lombok-timur"),
                Some("koordinator@lomboktimurkab.go.id"),
                None,
            ),
            officer(
                "mataram",
                Role::RegencyCoordinator,
                Some("pemkot-mataram"),
                Some("koordinator@mataramkota.go.id"),
                None,
            ),
            officer("provinsi", Role::ProvincialCoordinator, None, Some("koordinator@ntbprov.go.id"), None),
            officer("inspektur", Role::Inspectorate, None, Some("inspektorat@ntbprov.go.id"), None),
        ]
    }

    fn unverified_about_dishub() -> Complaint {
        let mut c = crate::casework::tests_support::complaint(Ticket::number(2026, 8).unwrap());
        c.location.region_code = crate::region::RegionCode::parse("52.03.01").unwrap();
        c.unit = Some(UnitId::parse("dishub").unwrap());
        c
    }

    fn addresses(audience: Audience, c: &Complaint, officers: &[Officer]) -> Vec<String> {
        let n = Notice::new(
            &c.ticket,
            "verification-warn",
            audience,
            "deadline-approaching",
            vec![],
            Timestamp(1),
        );
        recipients(&n, Some(c), None, officers, &Directory::seed(), &ALL)
            .into_iter()
            .map(|r| r.address)
            .collect()
    }

    #[test]
    fn region_coordinators_are_those_of_where_the_problem_is() {
        let c = unverified_about_dishub();
        let officers = around_dishub();
        assert_eq!(
            addresses(Audience::RegionCoordinators, &c, &officers),
            ["koordinator@lomboktimurkab.go.id"]
        );
        assert_eq!(addresses(Audience::ProvincialCoordinators, &c, &officers), ["koordinator@ntbprov.go.id"]);
        assert_eq!(addresses(Audience::Inspectorate, &c, &officers), ["inspektorat@ntbprov.go.id"]);
    }

    #[test]
    fn a_region_without_a_coordinator_account_falls_to_the_provincial_coordinators() {
        let c = unverified_about_dishub();
        let mut officers = around_dishub();
        officers.retain(|o| o.username.as_str() != "lotim");
        assert_eq!(addresses(Audience::RegionCoordinators, &c, &officers), ["koordinator@ntbprov.go.id"]);
        // An inactive account is no account.
        let mut officers = around_dishub();
        officers.iter_mut().filter(|o| o.username.as_str() == "lotim").for_each(|o| o.active = false);
        assert_eq!(addresses(Audience::RegionCoordinators, &c, &officers), ["koordinator@ntbprov.go.id"]);
    }

    #[test]
    fn the_digest_leaves_out_complaints_no_coordinator_has_dispatched() {
        let (rules, calendar) = (SlaRules::seed(), WorkingCalendar::seed());
        let mut waiting = unverified_about_dishub();
        let later = Timestamp(waiting.received_at.0 + 90 * 86_400_000);
        assert!(digest(std::slice::from_ref(&waiting), &rules, &calendar, later).is_empty());
        waiting.status = CaseStatus::Verified;
        assert!(digest(std::slice::from_ref(&waiting), &rules, &calendar, later).is_empty());
        waiting.status = CaseStatus::Forwarded;
        assert!(digest(std::slice::from_ref(&waiting), &rules, &calendar, later).is_empty());
        waiting.status = CaseStatus::Dispatched;
        let lines = digest(&[waiting], &rules, &calendar, later);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].unit.as_str(), "dishub");
    }
}
