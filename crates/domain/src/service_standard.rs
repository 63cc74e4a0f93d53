//! The published service standard, *Standar Pelayanan Pengaduan*: what NTB Care promises the
//! public, built from the very documents the software runs on, so the regulation and the
//! software cannot say different things.
//!
//! [`build`] takes the SLA rules, the working-day calendar, the directory and the routing rules
//! in force (each with the [`DocumentVersion`] it came from) and gives a [`ServiceStandard`]:
//! the stages and their limits, the days offices are closed, the units and what they handle,
//! the channels, the privacy options and what each protects, and the versions. It serialises
//! as the JSON answer; the component renders the same value as the public page, so the page and
//! the JSON cannot disagree either.
//!
//! Decisions:
//! - **Versions are fingerprints, dates are only what was recorded.** A version is named by the
//!   SHA-256 of its text (the first 12 hex digits), so two readers can tell whether they read
//!   the same rules. The date a version took effect is shown only when the save path recorded
//!   it (the RFC 3339 time under [`effective_from_key`]); otherwise the standard says it is not
//!   recorded, rather than guessing from when someone happened to read it.
//! - **Channels and privacy options are fixed in code** (they are not managed data), so their
//!   descriptions live here, next to the enums they describe.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::calendar::{DayKind, Weekday, WorkingCalendar};
use crate::clock::Timestamp;
use crate::complaint::{Channel, Privacy};
use crate::directory::{Directory, UnitKind};
use crate::language::{Language, Text};
use crate::region::RegionCode;
use crate::routing::{Matcher, RoutingRules};
use crate::sla::{Priority, SlaRules, Step, Unit};

/// A text in both languages, as it appears in the JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub id: String,
    pub en: String,
}

impl Label {
    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::Id => &self.id,
            Language::En => &self.en,
        }
    }
}

impl From<Text> for Label {
    fn from(t: Text) -> Label {
        Label { id: t.id, en: t.en }
    }
}

fn label(id: impl Into<String>, en: impl Into<String>) -> Label {
    Label { id: id.into(), en: en.into() }
}

/// The store key beside a managed document's (`config/sla-rules`) under which its save path
/// records, as RFC 3339, when the saved version took effect.
pub fn effective_from_key(document_key: &str) -> String {
    format!("{document_key}.effective-from")
}

/// Where a document in force came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionSource {
    /// The version shipped with NTB Care: no administrator has saved one.
    Seed,
    /// Saved by an administrator.
    Administrator,
}

/// One managed document's version in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocumentVersion {
    /// `sla-rules`, `calendar`, `directory`, `routing-rules`.
    pub document: String,
    pub title: Label,
    /// The first 12 hex digits of the SHA-256 of the document's text.
    pub fingerprint: String,
    pub source: VersionSource,
    /// When this version took effect, if its save recorded it (RFC 3339, WITA).
    pub effective_from: Option<String>,
    #[serde(skip)]
    effective_ms: Option<Timestamp>,
}

impl DocumentVersion {
    /// The version of `document` whose text is `text`; `saved` when an administrator's copy is
    /// in the store, `effective_from` when its save recorded the time.
    pub fn of(document: &str, text: &str, saved: bool, effective_from: Option<Timestamp>) -> DocumentVersion {
        DocumentVersion {
            document: document.to_string(),
            title: document_title(document),
            fingerprint: fingerprint(text),
            source: if saved { VersionSource::Administrator } else { VersionSource::Seed },
            effective_from: effective_from.map(Timestamp::to_rfc3339_wita),
            effective_ms: effective_from,
        }
    }
}

fn document_title(document: &str) -> Label {
    match document {
        "sla-rules" => label("Batas waktu layanan", "Service time limits"),
        "calendar" => label("Kalender hari kerja", "Working-day calendar"),
        "directory" => label("Direktori instansi", "Directory of agencies"),
        "routing-rules" => label("Aturan penerusan", "Routing rules"),
        other => label(other, other),
    }
}

fn fingerprint(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// One time limit of a stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Limit {
    /// `None`: every priority.
    pub priority: Option<Priority>,
    pub priority_label: Option<Label>,
    pub duration: u32,
    pub unit: Unit,
    /// "paling lambat 3 hari kerja".
    pub text: Label,
}

/// A stage of a complaint's handling and its limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub step: Step,
    pub label: Label,
    /// What starts the clock.
    pub starts: Label,
    pub limits: Vec<Limit>,
}

/// A day offices are closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClosedDay {
    pub date: String,
    pub name: String,
    pub kind: DayKind,
    pub kind_label: Label,
    /// Empty: the whole country. Otherwise the regions' names.
    pub regions: Vec<String>,
    /// Whether an administrator has checked the row against the decree.
    pub confirmed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CalendarSection {
    /// Office days, in Bahasa Indonesia (`Senin`).
    pub office_days: Vec<String>,
    pub office_days_codes: Vec<&'static str>,
    pub days_off: Vec<ClosedDay>,
}

/// What a unit handles: one routing rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Handles {
    /// Category names; empty means every category.
    pub categories: Vec<String>,
    /// Region names; empty means the whole province.
    pub regions: Vec<String>,
    pub text: Label,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitEntry {
    pub unit: String,
    pub name: String,
    pub kind: Label,
    pub handles: Vec<Handles>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelEntry {
    pub channel: Channel,
    pub name: Label,
    pub how: Label,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrivacyOption {
    pub privacy: Privacy,
    pub name: Label,
    pub protects: Label,
    pub default: bool,
}

/// The whole standard, as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceStandard {
    pub title: Label,
    /// The fingerprint of the four versions together: changes whenever any of them does.
    pub version: String,
    /// When the latest of the versions took effect, if every one's time was recorded.
    pub effective_from: Option<String>,
    pub versions: Vec<DocumentVersion>,
    pub stages: Vec<Stage>,
    pub calendar: CalendarSection,
    pub units: Vec<UnitEntry>,
    /// Where a complaint no rule matches goes.
    pub unmatched: Label,
    pub channels: Vec<ChannelEntry>,
    pub privacy: Vec<PrivacyOption>,
}

/// The documents in force, each with its version.
pub struct Sources<'a> {
    pub sla: (&'a SlaRules, DocumentVersion),
    pub calendar: (&'a WorkingCalendar, DocumentVersion),
    pub directory: (&'a Directory, DocumentVersion),
    pub routing: (&'a RoutingRules, DocumentVersion),
}

/// The standard the documents in force describe.
pub fn build(sources: Sources<'_>) -> ServiceStandard {
    let Sources { sla, calendar, directory, routing } = sources;
    let dir = directory.0;
    let versions = vec![sla.1, calendar.1, directory.1, routing.1];
    let version = fingerprint(&versions.iter().map(|v| v.fingerprint.as_str()).collect::<Vec<_>>().join(" "));
    let effective_from = versions
        .iter()
        .map(|v| v.effective_ms)
        .collect::<Option<Vec<_>>>()
        .and_then(|all| all.into_iter().max())
        .map(Timestamp::to_rfc3339_wita);
    ServiceStandard {
        title: label("Standar Pelayanan Pengaduan NTB Care", "NTB Care Complaint Service Standard"),
        version,
        effective_from,
        versions,
        stages: stages(sla.0),
        calendar: calendar_section(calendar.0, dir),
        units: units(routing.0, dir),
        unmatched: label(
            "Pengaduan yang tidak cocok dengan aturan mana pun ditelaah koordinator Provinsi NTB \
             (triase) dan diteruskan ke instansi yang berwenang.",
            "A complaint no rule matches is reviewed by the NTB Province coordinator (triage) and \
             passed to the responsible agency.",
        ),
        channels: channels(),
        privacy: privacy_options(),
    }
}

fn stages(rules: &SlaRules) -> Vec<Stage> {
    Step::ALL
        .into_iter()
        .map(|step| {
            let per_priority: Vec<_> = Priority::ALL.into_iter().map(|p| (p, rules.rule(step, p))).collect();
            let same = per_priority
                .windows(2)
                .all(|w| w[0].1.duration == w[1].1.duration && w[0].1.unit == w[1].1.unit);
            let limits = if same {
                let r = per_priority[0].1;
                vec![limit(step, None, r.duration, r.unit)]
            } else {
                per_priority.iter().map(|(p, r)| limit(step, Some(*p), r.duration, r.unit)).collect()
            };
            Stage { step, label: step.label().into(), starts: starts(step), limits }
        })
        .collect()
}

fn limit(step: Step, priority: Option<Priority>, duration: u32, unit: Unit) -> Limit {
    let (id_unit, en_unit) = match unit {
        Unit::Hours => ("jam", if duration == 1 { "hour" } else { "hours" }),
        Unit::WorkingDays => ("hari kerja", if duration == 1 { "working day" } else { "working days" }),
        Unit::CalendarDays => ("hari kalender", if duration == 1 { "calendar day" } else { "calendar days" }),
    };
    Limit {
        priority,
        priority_label: priority.map(|p| p.label().into()),
        duration,
        unit,
        text: match step {
            // Not a promise of the province's but what happens without the complainant.
            Step::AutoClose => label(
                format!("ditutup otomatis setelah {duration} {id_unit} tanpa balasan pelapor"),
                format!("closed automatically after {duration} {en_unit} without the complainant's reply"),
            ),
            Step::RatingReply => label(
                format!("pelapor dapat menilai dalam {duration} {id_unit}"),
                format!("the complainant may rate within {duration} {en_unit}"),
            ),
            _ => label(format!("paling lambat {duration} {id_unit}"), format!("within {duration} {en_unit}")),
        },
    }
}

fn starts(step: Step) -> Label {
    match step {
        Step::Verification => label("sejak pengaduan diterima", "from receipt of the complaint"),
        Step::FirstResponse | Step::FollowUp | Step::Completion | Step::CompletionInspection => {
            label("sejak diteruskan ke instansi", "from dispatch to the agency")
        }
        Step::AutoClose | Step::RatingReply => {
            label("sejak jawaban dikirim kepada pelapor", "from the answer sent to the complainant")
        }
    }
}

fn region_name(dir: &Directory, code: &RegionCode) -> String {
    dir.region(code).map_or_else(|| code.to_string(), |r| r.name.clone())
}

fn calendar_section(calendar: &WorkingCalendar, dir: &Directory) -> CalendarSection {
    let office: Vec<Weekday> = Weekday::ALL.into_iter().filter(|d| calendar.is_office_day(*d)).collect();
    CalendarSection {
        office_days: office.iter().map(|d| d.name_id().to_string()).collect(),
        office_days_codes: office.iter().map(|d| d.code()).collect(),
        days_off: calendar
            .days_off()
            .iter()
            .map(|d| ClosedDay {
                date: d.date.to_string(),
                name: d.name.clone(),
                kind: d.kind,
                kind_label: match d.kind {
                    DayKind::Holiday => label("Hari libur", "Holiday"),
                    DayKind::CollectiveLeave => label("Cuti bersama", "Collective leave"),
                },
                regions: d.regions.iter().map(|r| region_name(dir, r)).collect(),
                confirmed: d.confirmed,
            })
            .collect(),
    }
}

fn unit_kind(kind: UnitKind) -> Label {
    match kind {
        UnitKind::Province => label("Pemerintah Provinsi", "Provincial government"),
        UnitKind::ProvincialAgency => label("Perangkat daerah provinsi", "Provincial agency"),
        UnitKind::Regency => label("Pemerintah kabupaten", "Regency government"),
        UnitKind::City => label("Pemerintah kota", "City government"),
        UnitKind::RegencyAgency => label("Perangkat daerah kabupaten/kota", "Regency/city agency"),
        UnitKind::Utility => label("Badan usaha milik daerah", "Regional utility"),
        UnitKind::Vertical => {
            label("Instansi vertikal (melalui SP4N-LAPOR!)", "National agency (through SP4N-LAPOR!)")
        }
    }
}

fn units(rules: &RoutingRules, dir: &Directory) -> Vec<UnitEntry> {
    let mut out: Vec<UnitEntry> = Vec::new();
    for rule in &rules.rules {
        let categories: Vec<String> = match &rule.categories {
            Matcher::Any(_) => Vec::new(),
            Matcher::Only(codes) => {
                codes.iter().map(|c| dir.category(c).map_or_else(|| c.clone(), |c| c.name.clone())).collect()
            }
        };
        let regions: Vec<String> = match &rule.regions {
            Matcher::Any(_) => Vec::new(),
            Matcher::Only(codes) if codes.iter().any(|c| c.as_str() == "52") => Vec::new(),
            Matcher::Only(codes) => codes.iter().map(|c| region_name(dir, c)).collect(),
        };
        let (cat_id, cat_en) = if categories.is_empty() {
            ("semua kategori".to_string(), "every category".to_string())
        } else {
            (categories.join(", "), categories.join(", "))
        };
        let (reg_id, reg_en) = if regions.is_empty() {
            ("seluruh NTB".to_string(), "all of NTB".to_string())
        } else {
            (regions.join(", "), regions.join(", "))
        };
        let handles = Handles {
            categories,
            regions,
            text: label(format!("{cat_id} di {reg_id}"), format!("{cat_en} in {reg_en}")),
        };
        match out.iter_mut().find(|u| u.unit == rule.unit.as_str()) {
            Some(entry) => entry.handles.push(handles),
            None => {
                let unit = dir.unit(&rule.unit);
                out.push(UnitEntry {
                    unit: rule.unit.as_str().to_string(),
                    name: unit.map_or_else(|| rule.unit.as_str().to_string(), |u| u.name.clone()),
                    kind: unit.map_or_else(|| label("", ""), |u| unit_kind(u.kind)),
                    handles: vec![handles],
                });
            }
        }
    }
    out
}

fn channels() -> Vec<ChannelEntry> {
    Channel::ALL
        .into_iter()
        .map(|channel| {
            let (name, how) = match channel {
                Channel::Web => (
                    label("Situs web", "Website"),
                    label("Isi formulir di halaman /lapor.", "Fill in the form on the /lapor page."),
                ),
                Channel::Mobile => (
                    label("Aplikasi seluler", "Mobile app"),
                    label(
                        "Melalui aplikasi yang memakai API NTB Care.",
                        "Through an app built on NTB Care's API.",
                    ),
                ),
                Channel::Sms => (
                    label("SMS", "SMS"),
                    label("Kirim SMS ke nomor NTB Care.", "Send a text message to NTB Care's number."),
                ),
                Channel::Whatsapp => (
                    label("WhatsApp", "WhatsApp"),
                    label(
                        "Kirim pesan ke nomor WhatsApp NTB Care.",
                        "Send a message to NTB Care's WhatsApp number.",
                    ),
                ),
                Channel::Facebook => (
                    label("Facebook Messenger", "Facebook Messenger"),
                    label("Kirim pesan ke halaman Facebook NTB Care.", "Message NTB Care's Facebook page."),
                ),
                Channel::Instagram => (
                    label("Instagram", "Instagram"),
                    label(
                        "Kirim pesan langsung ke akun Instagram NTB Care.",
                        "Send a direct message to NTB Care's Instagram account.",
                    ),
                ),
                Channel::Email => (
                    label("Surel", "E-mail"),
                    label(
                        "Kirim surel ke alamat pengaduan NTB Care.",
                        "Send an e-mail to NTB Care's complaints address.",
                    ),
                ),
                Channel::Open311 => (
                    label("Aplikasi Open311", "Open311 apps"),
                    label(
                        "Aplikasi pelaporan standar Open311 (GeoReport v2).",
                        "Reporting apps that speak Open311 (GeoReport v2).",
                    ),
                ),
                Channel::Partner => (
                    label("Sistem mitra", "Partner systems"),
                    label(
                        "Sistem pengaduan instansi mitra yang terhubung.",
                        "Connected complaint systems of partner agencies.",
                    ),
                ),
                Channel::Lapor => (
                    label("SP4N-LAPOR!", "SP4N-LAPOR!"),
                    label(
                        "Pengaduan dari LAPOR! untuk NTB diteruskan ke NTB Care.",
                        "Complaints to LAPOR! about NTB are passed to NTB Care.",
                    ),
                ),
            };
            ChannelEntry { channel, name, how }
        })
        .collect()
}

fn privacy_options() -> Vec<PrivacyOption> {
    [Privacy::Public, Privacy::Anonymous, Privacy::Confidential]
        .into_iter()
        .map(|privacy| {
            let (name, protects) = match privacy {
                Privacy::Public => (
                    label("Terbuka", "Public"),
                    label(
                        "Isi pengaduan dan nama pelapor dapat ditampilkan. Nomor telepon dan alamat surel \
                         tidak pernah ditampilkan.",
                        "The complaint and the complainant's name may be shown. Phone numbers and e-mail \
                         addresses are never shown.",
                    ),
                ),
                Privacy::Anonymous => (
                    label("Anonim", "Anonymous"),
                    label(
                        "Isi pengaduan dapat ditampilkan, tetapi identitas pelapor tidak pernah keluar dari \
                         bagian penerimaan: instansi yang menangani tidak mengetahuinya.",
                        "The complaint may be shown, but the complainant's identity never leaves intake: \
                         the agency handling it does not learn it.",
                    ),
                ),
                Privacy::Confidential => (
                    label("Rahasia", "Confidential"),
                    label(
                        "Selain pelapor, siapa pun hanya melihat status pengaduan; identitas pelapor tidak \
                         pernah keluar dari bagian penerimaan dan tidak muncul dalam laporan, ekspor, \
                         maupun pesan.",
                        "Anyone but the complainant sees only the complaint's status; the complainant's \
                         identity never leaves intake and appears in no report, export or message.",
                    ),
                ),
            };
            PrivacyOption { privacy, name, protects, default: privacy == Privacy::default() }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_standard() -> ServiceStandard {
        let sla = SlaRules::seed();
        let calendar = WorkingCalendar::seed();
        let dir = Directory::seed();
        let routing = RoutingRules::seed(&dir);
        build(Sources {
            sla: (&sla, DocumentVersion::of("sla-rules", crate::sla::SEED_TOML, false, None)),
            calendar: (&calendar, DocumentVersion::of("calendar", crate::calendar::SEED_TOML, false, None)),
            directory: (&dir, DocumentVersion::of("directory", "d", false, None)),
            routing: (&routing, DocumentVersion::of("routing-rules", "r", false, None)),
        })
    }

    #[test]
    fn every_stage_carries_the_limits_of_the_rules_in_force() {
        let standard = seed_standard();
        let verification = &standard.stages[0];
        assert_eq!(verification.step, Step::Verification);
        assert_eq!(verification.limits.len(), 1, "one limit for every priority");
        assert_eq!(verification.limits[0].text.id, "paling lambat 3 hari kerja");
        let first = standard.stages.iter().find(|s| s.step == Step::FirstResponse).unwrap();
        let texts: Vec<&str> = first.limits.iter().map(|l| l.text.id.as_str()).collect();
        assert_eq!(texts, ["paling lambat 1 jam", "paling lambat 24 jam", "paling lambat 48 jam"]);
        assert_eq!(first.limits[0].priority_label.as_ref().unwrap().id, "Mendesak");
        assert_eq!(standard.stages.len(), Step::ALL.len());
        let auto_close = standard.stages.iter().find(|s| s.step == Step::AutoClose).unwrap();
        assert!(
            auto_close.limits[0].text.id.starts_with("ditutup otomatis setelah"),
            "{:?}",
            auto_close.limits
        );
    }

    #[test]
    fn a_changed_rule_changes_the_standard_and_its_version() {
        let before = seed_standard();
        let text = crate::sla::SEED_TOML.replacen("duration = 3\n", "duration = 2\n", 1);
        let sla = SlaRules::from_toml(&text).unwrap();
        let calendar = WorkingCalendar::seed();
        let dir = Directory::seed();
        let routing = RoutingRules::seed(&dir);
        let saved_at = Timestamp::from_wita(2026, 12, 1, 9, 0);
        let after = build(Sources {
            sla: (&sla, DocumentVersion::of("sla-rules", &text, true, Some(saved_at))),
            calendar: (&calendar, DocumentVersion::of("calendar", crate::calendar::SEED_TOML, false, None)),
            directory: (&dir, DocumentVersion::of("directory", "d", false, None)),
            routing: (&routing, DocumentVersion::of("routing-rules", "r", false, None)),
        });
        assert_eq!(after.stages[0].limits[0].text.en, "within 2 working days");
        assert_ne!(after.version, before.version);
        assert_eq!(after.versions[0].source, VersionSource::Administrator);
        assert_eq!(after.versions[0].effective_from.as_deref(), Some("2026-12-01T09:00:00+08:00"));
        // The other documents' dates were not recorded, so neither is the whole standard's.
        assert_eq!(after.effective_from, None);
    }

    #[test]
    fn the_standard_lists_closed_days_units_channels_and_privacy_options() {
        let standard = seed_standard();
        assert_eq!(standard.calendar.office_days, ["Senin", "Selasa", "Rabu", "Kamis", "Jumat"]);
        assert!(standard.calendar.days_off.iter().any(|d| d.date == "2026-08-17"), "Hari Kemerdekaan");
        let ptam = standard.units.iter().find(|u| u.unit == "ptam-giri-menang").unwrap();
        assert!(ptam.handles[0].text.id.contains("Kota Mataram"), "{:?}", ptam.handles);
        assert_eq!(standard.channels.len(), Channel::ALL.len());
        let defaults: Vec<_> = standard.privacy.iter().filter(|p| p.default).map(|p| p.privacy).collect();
        assert_eq!(defaults, [Privacy::Anonymous]);
    }

    #[test]
    fn a_version_is_named_by_its_text() {
        let a = DocumentVersion::of("calendar", "x", true, None);
        assert_eq!(a.fingerprint.len(), 12);
        assert_eq!(a.fingerprint, DocumentVersion::of("calendar", "x", false, None).fingerprint);
        assert_ne!(a.fingerprint, DocumentVersion::of("calendar", "y", true, None).fingerprint);
        assert_eq!(effective_from_key("config/calendar"), "config/calendar.effective-from");
    }
}
