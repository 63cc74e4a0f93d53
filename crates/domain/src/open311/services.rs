//! `GET services` and `GET services/{service_code}`: one Open311 service per directory category.
//!
//! The service code *is* the category code, so a category an administrator adds to the
//! directory is offered at once, without a code change. The catalogue below only enriches the
//! seed categories (English names, search keywords, groups); a category it does not know is
//! offered with its directory name and the group "Lainnya".

use super::wire::{to_json, to_xml, Node};
use super::{Format, Open311Error};
use crate::complaint::{limits, Privacy};
use crate::directory::{Category, Directory, RegionKind};
use crate::language::{Language, Text};

/// The attribute codes a client may send as `attribute[<code>]`.
pub mod attribute {
    pub const PRIVACY: &str = "privacy";
    pub const REGION_CODE: &str = "region_code";
    pub const TITLE: &str = "title";
}

/// How a service answers a POST. NTB Care numbers a complaint at once, so always realtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceType {
    Realtime,
    Batch,
    Blackbox,
}

impl ServiceType {
    pub fn code(self) -> &'static str {
        match self {
            ServiceType::Realtime => "realtime",
            ServiceType::Batch => "batch",
            ServiceType::Blackbox => "blackbox",
        }
    }
}

/// One entry of `GET services`.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// Whether [`service_definition`] has attributes for it (always, here: `privacy`).
    pub metadata: bool,
    pub service_type: ServiceType,
    pub keywords: Vec<String>,
    pub group: String,
}

/// The data type of a service attribute, as the spec names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    SingleValueList,
    MultiValueList,
}

impl Datatype {
    pub fn code(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::SingleValueList => "singlevaluelist",
            Datatype::MultiValueList => "multivaluelist",
        }
    }
}

/// One choice of a list attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// A question a client may ask the citizen, sent back as `attribute[<code>]=<value>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// `false` would mean information only, not something to fill in.
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
    pub values: Vec<AttributeValue>,
}

/// `GET services/{service_code}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

/// The groups services are shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Infrastructure,
    BasicServices,
    Administration,
    OrderAndDisasters,
    Other,
}

impl Group {
    fn label(self) -> Text {
        let (id, en) = match self {
            Group::Infrastructure => ("Infrastruktur dan lingkungan", "Infrastructure and environment"),
            Group::BasicServices => ("Layanan dasar", "Basic services"),
            Group::Administration => ("Administrasi dan perizinan", "Administration and permits"),
            Group::OrderAndDisasters => ("Ketertiban dan kebencanaan", "Public order and disasters"),
            Group::Other => ("Lainnya", "Other"),
        };
        Text::new(id, en)
    }
}

/// What the seed categories are called in English, where they are grouped, and words people
/// search for them by (in both languages: Open311 clients show keywords as they are).
const CATALOGUE: &[(&str, &str, Group, &str)] = &[
    (
        "infrastruktur",
        "Infrastructure (roads, bridges, drainage)",
        Group::Infrastructure,
        "jalan, jembatan, drainase, got, berlubang, road, pothole, bridge",
    ),
    ("kesehatan", "Health", Group::BasicServices, "puskesmas, rumah sakit, BPJS, obat, health, hospital"),
    ("pendidikan", "Education", Group::BasicServices, "sekolah, guru, beasiswa, PPDB, school, teacher"),
    (
        "kependudukan",
        "Civil registration",
        Group::Administration,
        "KTP, KK, akta kelahiran, dukcapil, identity card",
    ),
    ("perizinan", "Permits and licensing", Group::Administration, "izin, PBG, OSS, usaha, permit, licence"),
    (
        "lingkungan",
        "Environment and cleanliness",
        Group::Infrastructure,
        "sampah, limbah, pencemaran, kebersihan, garbage, pollution",
    ),
    (
        "transportasi",
        "Transport",
        Group::Infrastructure,
        "angkutan umum, terminal, lampu lalu lintas, parkir, transport, traffic",
    ),
    ("sosial", "Social assistance", Group::BasicServices, "bansos, PKH, BLT, warga miskin, welfare"),
    ("air-bersih", "Clean water", Group::Infrastructure, "PDAM, PTAM, air, pipa bocor, water, leak"),
    (
        "listrik",
        "Electricity",
        Group::Infrastructure,
        "PLN, listrik padam, lampu jalan, power cut, streetlight",
    ),
    ("pertanahan", "Land", Group::Administration, "tanah, sertifikat, BPN, sengketa, land, certificate"),
    (
        "ketertiban",
        "Public order",
        Group::OrderAndDisasters,
        "keamanan, pedagang kaki lima, Satpol PP, kebisingan, noise, security",
    ),
    ("bencana", "Disasters", Group::OrderAndDisasters, "gempa, banjir, longsor, BPBD, earthquake, flood"),
    ("ketenagakerjaan", "Employment", Group::Administration, "kerja, upah, PMI, PHK, wages, migrant worker"),
    ("pariwisata", "Tourism", Group::Other, "wisata, pantai, Mandalika, Gili, tourism, beach"),
    ("lainnya", "Other", Group::Other, ""),
];

fn catalogue(code: &str) -> Option<&'static (&'static str, &'static str, Group, &'static str)> {
    CATALOGUE.iter().find(|(c, ..)| *c == code)
}

fn service_of(category: &Category, lang: Language) -> Service {
    let entry = catalogue(&category.code);
    let name = match (lang, entry) {
        (Language::En, Some((_, en, ..))) => en.to_string(),
        _ => category.name.clone(),
    };
    let description = match lang {
        Language::Id => {
            format!("Pengaduan masyarakat tentang {} di Nusa Tenggara Barat.", in_sentence(&category.name))
        }
        Language::En => format!("Public complaints about {} in West Nusa Tenggara.", in_sentence(&name)),
    };
    let keywords = entry
        .map(|(.., words)| {
            words.split(',').map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect()
        })
        .unwrap_or_default();
    let group = entry.map(|(_, _, g, _)| *g).unwrap_or(Group::Other).label().get(lang).to_string();
    Service {
        service_code: category.code.clone(),
        service_name: name,
        description,
        metadata: true,
        service_type: ServiceType::Realtime,
        keywords,
        group,
    }
}

/// A name as it reads inside a sentence: `Kesehatan` → `kesehatan`, but `PDAM` stays.
fn in_sentence(name: &str) -> String {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(name.chars().skip(1)).collect()
        }
        _ => name.to_string(),
    }
}

/// A service's name in `lang`, for request objects.
pub(crate) fn service_name(code: &str, directory: &Directory, lang: Language) -> Option<String> {
    directory.category(code).map(|c| service_of(c, lang).service_name)
}

/// `GET services`: every directory category, in the directory's order.
pub fn services(directory: &Directory, lang: Language) -> Vec<Service> {
    directory.categories.iter().map(|c| service_of(c, lang)).collect()
}

/// `GET services/{service_code}`: the attributes a client may send with a request.
pub fn service_definition(
    code: &str,
    directory: &Directory,
    lang: Language,
) -> Result<ServiceDefinition, Open311Error> {
    let category = directory
        .category(code)
        .ok_or_else(|| Open311Error::ServiceNotFound(code.chars().take(64).collect()))?;
    Ok(ServiceDefinition {
        service_code: category.code.clone(),
        attributes: vec![privacy_attribute(lang), region_attribute(directory, lang), title_attribute(lang)],
    })
}

/// What each privacy choice hides from whom. The texts are the promise made to the citizen,
/// so they say exactly what `Complaint::public_view` and the identity store do.
pub fn privacy_choice(privacy: Privacy) -> Text {
    match privacy {
        Privacy::Public => Text::new(
            "Publik: isi pengaduan dapat dilihat siapa saja, dan nama Anda boleh ditampilkan \
             bersamanya serta diketahui instansi yang menanganinya. Nomor telepon dan e-mail Anda \
             tidak pernah ditampilkan.",
            "Public: anyone may read the complaint, and your name may be shown with it and is \
             known to the agency handling it. Your phone number and e-mail are never shown.",
        ),
        Privacy::Anonymous => Text::new(
            "Anonim (bawaan): isi pengaduan dapat dilihat siapa saja, tetapi nama dan kontak Anda \
             tidak diberikan kepada instansi maupun masyarakat; NTB Care hanya memakainya untuk \
             mengabari Anda.",
            "Anonymous (the default): anyone may read the complaint, but your name and contact \
             are given neither to the agency nor to the public; NTB Care uses them only to keep \
             you informed.",
        ),
        Privacy::Confidential => Text::new(
            "Rahasia: orang lain hanya dapat melihat nomor tiket dan statusnya. Isi pengaduan \
             hanya dibaca petugas yang menanganinya, dan identitas Anda tidak diberikan kepada \
             siapa pun.",
            "Confidential: others see only the ticket number and its status. Only the officers \
             handling it read the complaint, and your identity is given to no one.",
        ),
    }
}

fn privacy_attribute(lang: Language) -> Attribute {
    let description = Text::new(
        "Siapa yang boleh melihat pengaduan dan identitas Anda. Jika tidak dipilih, pengaduan \
         dicatat sebagai anonim.",
        "Who may see the complaint and your identity. If nothing is chosen, the complaint is \
         recorded as anonymous.",
    );
    Attribute {
        variable: true,
        code: attribute::PRIVACY.into(),
        datatype: Datatype::SingleValueList,
        required: false,
        datatype_description: Text::new(
            "Salah satu kunci: public, anonymous, confidential.",
            "One of the keys: public, anonymous, confidential.",
        )
        .get(lang)
        .to_string(),
        order: 1,
        description: description.get(lang).to_string(),
        values: [Privacy::Public, Privacy::Anonymous, Privacy::Confidential]
            .into_iter()
            .map(|p| AttributeValue { key: p.code().into(), name: privacy_choice(p).get(lang).to_string() })
            .collect(),
    }
}

fn region_attribute(directory: &Directory, lang: Language) -> Attribute {
    let description = Text::new(
        "Kabupaten/kota tempat masalah berada. Jika kosong, pengaduan ditujukan ke Pemerintah \
         Provinsi NTB dan dipilah oleh koordinator.",
        "The regency or city where the problem is. If empty, the complaint goes to the Province \
         of West Nusa Tenggara and its coordinator sorts it.",
    );
    Attribute {
        variable: true,
        code: attribute::REGION_CODE.into(),
        datatype: Datatype::SingleValueList,
        required: false,
        datatype_description: Text::new(
            "Kode wilayah Kemendagri, misalnya 52.71 untuk Kota Mataram.",
            "A Kemendagri region code, such as 52.71 for Mataram.",
        )
        .get(lang)
        .to_string(),
        order: 2,
        description: description.get(lang).to_string(),
        values: directory
            .regions
            .iter()
            .map(|r| {
                let name = match r.kind {
                    // Choosing the province says "I do not know which regency": say so.
                    RegionKind::Province => Text::new(
                        format!("Provinsi {} (kabupaten/kota tidak diketahui)", r.name),
                        format!("Province of {} (regency or city unknown)", r.name),
                    )
                    .get(lang)
                    .to_string(),
                    RegionKind::Regency | RegionKind::City => r.name.clone(),
                };
                AttributeValue { key: r.code.to_string(), name }
            })
            .collect(),
    }
}

fn title_attribute(lang: Language) -> Attribute {
    let max = limits::TITLE_MAX_CHARS;
    Attribute {
        variable: true,
        code: attribute::TITLE.into(),
        datatype: Datatype::String,
        required: false,
        datatype_description: Text::new(
            format!("Teks, paling banyak {max} karakter."),
            format!("Text, at most {max} characters."),
        )
        .get(lang)
        .to_string(),
        order: 3,
        description: Text::new("Judul singkat pengaduan.", "A short title for the complaint.")
            .get(lang)
            .to_string(),
        values: vec![],
    }
}

impl Service {
    fn node(&self) -> Node {
        Node::Object(vec![
            ("service_code", Node::text(&self.service_code)),
            ("service_name", Node::text(&self.service_name)),
            ("description", Node::text(&self.description)),
            ("metadata", Node::Bool(self.metadata)),
            ("type", Node::text(self.service_type.code())),
            ("keywords", Node::text(self.keywords.join(", "))),
            ("group", Node::text(&self.group)),
        ])
    }
}

/// The `GET services` document: `<services><service>…` or a JSON array.
pub fn render_services(services: &[Service], format: Format) -> String {
    let doc = Node::List { item: "service", entries: services.iter().map(Service::node).collect() };
    match format {
        Format::Xml => to_xml("services", &doc),
        Format::Json => to_json(&doc),
    }
}

impl ServiceDefinition {
    fn node(&self) -> Node {
        let attributes = self
            .attributes
            .iter()
            .map(|a| {
                let mut fields = vec![
                    ("variable", Node::Bool(a.variable)),
                    ("code", Node::text(&a.code)),
                    ("datatype", Node::text(a.datatype.code())),
                    ("required", Node::Bool(a.required)),
                    ("datatype_description", Node::text(&a.datatype_description)),
                    ("order", Node::Int(a.order.into())),
                    ("description", Node::text(&a.description)),
                ];
                if !a.values.is_empty() {
                    let values = a
                        .values
                        .iter()
                        .map(|v| {
                            Node::Object(vec![("key", Node::text(&v.key)), ("name", Node::text(&v.name))])
                        })
                        .collect();
                    fields.push(("values", Node::List { item: "value", entries: values }));
                }
                Node::Object(fields)
            })
            .collect();
        Node::Object(vec![
            ("service_code", Node::text(&self.service_code)),
            ("attributes", Node::List { item: "attribute", entries: attributes }),
        ])
    }

    /// The `<service_definition>` document (a JSON object).
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Xml => to_xml("service_definition", &self.node()),
            Format::Json => to_json(&self.node()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open311::golden::assert_golden;

    fn dir() -> Directory {
        Directory::seed()
    }

    #[test]
    fn every_directory_category_is_a_realtime_service_with_metadata() {
        let d = dir();
        let list = services(&d, Language::Id);
        assert_eq!(list.len(), d.categories.len());
        for (s, c) in list.iter().zip(&d.categories) {
            assert_eq!(s.service_code, c.code);
            assert_eq!(s.service_name, c.name);
            assert!(s.metadata && s.service_type == ServiceType::Realtime);
            assert!(service_definition(&s.service_code, &d, Language::Id).is_ok());
        }
    }

    #[test]
    fn the_catalogue_names_only_seed_categories() {
        let d = dir();
        for (code, ..) in CATALOGUE {
            assert!(d.category(code).is_some(), "catalogue entry `{code}` is not in the seed directory");
        }
    }

    #[test]
    fn a_category_added_by_an_administrator_is_offered_without_code_changes() {
        let mut d = dir();
        d.categories.push(Category { code: "perikanan".into(), name: "Perikanan dan kelautan".into() });
        let s = services(&d, Language::En).pop().unwrap();
        assert_eq!(
            (s.service_code.as_str(), s.service_name.as_str()),
            ("perikanan", "Perikanan dan kelautan")
        );
        assert_eq!(s.group, "Other");
        assert!(s.keywords.is_empty());
    }

    #[test]
    fn service_descriptions_read_as_sentences() {
        assert_eq!(in_sentence("Kesehatan"), "kesehatan");
        assert_eq!(in_sentence("PDAM"), "PDAM");
        assert_eq!(
            services(&dir(), Language::En)[1].description,
            "Public complaints about health in West Nusa Tenggara."
        );
    }

    #[test]
    fn english_names_come_from_the_catalogue() {
        let list = services(&dir(), Language::En);
        assert_eq!(list[0].service_name, "Infrastructure (roads, bridges, drainage)");
        assert_eq!(list[0].group, "Infrastructure and environment");
    }

    #[test]
    fn unknown_service_definition_is_not_found() {
        let err = service_definition("sihir", &dir(), Language::Id).unwrap_err();
        assert_eq!(err, Open311Error::ServiceNotFound("sihir".into()));
        assert_eq!(err.http_status(), 404);
    }

    #[test]
    fn privacy_attribute_offers_the_three_choices_and_is_optional() {
        let def = service_definition("kesehatan", &dir(), Language::Id).unwrap();
        let privacy = &def.attributes[0];
        assert_eq!(privacy.code, "privacy");
        assert_eq!(privacy.datatype, Datatype::SingleValueList);
        assert!(!privacy.required);
        let keys: Vec<_> = privacy.values.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(keys, ["public", "anonymous", "confidential"]);
        assert!(privacy.values[2].name.contains("hanya dapat melihat nomor tiket dan statusnya"));
    }

    #[test]
    fn services_list_matches_the_golden_files() {
        let list = services(&dir(), Language::Id);
        assert_golden("services.xml", &render_services(&list[..2], Format::Xml));
        assert_golden("services.json", &render_services(&list[..2], Format::Json));
    }

    #[test]
    fn service_definition_matches_the_golden_files() {
        let def = service_definition("infrastruktur", &dir(), Language::Id).unwrap();
        assert_golden("service_definition.xml", &def.render(Format::Xml));
        assert_golden("service_definition.json", &def.render(Format::Json));
    }

    #[test]
    fn service_definition_in_english() {
        let def = service_definition("infrastruktur", &dir(), Language::En).unwrap();
        assert!(def.render(Format::Json).contains("\"description\": \"Who may see the complaint"));
    }
}
