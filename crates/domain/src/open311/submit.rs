//! `POST requests`: an Open311 form read into a complaint [`Submission`], and the answer.
//!
//! The form is translated into the web API's JSON shape and checked by
//! [`Submission::from_json`] itself, so an Open311 complaint obeys exactly the rules every other
//! complaint does (description length, known category and region, coordinates inside NTB,
//! phone and e-mail shapes, privacy choices); only the parameter names in the errors are
//! Open311's. What the spec adds (api key, location alternatives, external ids) is checked here.
//!
//! Parameters NTB Care does not know (FixMyStreet sends `attribute[easting]`, `attribute[report_url]`
//! and others) are ignored, as Open311 servers commonly do; parameters it knows may appear
//! only once, because a second `lat` or `service_code` can only be a client bug.

use serde_json::{json, Map, Value};

use super::services::attribute;
use super::{jurisdiction, Format, Open311Error};
use crate::boundaries;
use crate::channels::parse_urlencoded;
use crate::complaint::{limits, Attachment, Coordinates, Submission, SubmissionError};
use crate::directory::Directory;
use crate::language::{Language, Text};
use crate::region::RegionCode;
use crate::ticket::Ticket;

use super::wire::{to_json, to_xml, Node};

/// The largest form accepted: the same as a JSON submission (media are sent by URL).
pub const FORM_BODY_MAX_BYTES: usize = limits::JSON_BODY_MAX_BYTES;
/// `device_id`, `account_id`.
pub const EXTERNAL_ID_MAX_CHARS: usize = 128;
pub const MEDIA_URL_MAX_CHARS: usize = 2048;
/// The province's own code: where a complaint without a regency goes.
pub const PROVINCE_CODE: &str = "52";

/// Where the complaint's region code came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionSource {
    /// `attribute[region_code]`.
    Attribute,
    /// `address_id`, read as a Kemendagri code (village, district or regency/city).
    AddressId,
    /// Neither was given, and `lat`/`long` lie inside one regency's or city's boundary
    /// ([`boundaries::locate`]).
    Coordinates,
    /// None of these: the province, whose coordinator triages.
    ProvinceDefault,
}

/// What an Open311 client sent beyond the complaint itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open311Meta {
    /// The `service_code`, which is the complaint's category.
    pub service_code: String,
    pub region_source: RegionSource,
    pub device_id: Option<String>,
    /// The client's own account id for the reporter; echoed in the answer.
    pub account_id: Option<String>,
    /// A public URL of a photo; NTB Care does not fetch it here.
    pub media_url: Option<String>,
    pub address_id: Option<String>,
}

/// A checked `POST requests`.
#[derive(Clone, Debug, PartialEq)]
pub struct Open311Request {
    /// Present and non-empty; whose key it is, the caller checks (403 if nobody's).
    pub api_key: String,
    /// The complaint, checked by the same rules as the web API's.
    pub submission: Submission,
    pub meta: Open311Meta,
}

impl Open311Request {
    pub fn into_submission(self) -> Submission {
        self.submission
    }
}

/// The parameters NTB Care reads; each may appear once.
const KNOWN: [&str; 14] = [
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
];
const KNOWN_ATTRIBUTES: [&str; 3] = [attribute::PRIVACY, attribute::REGION_CODE, attribute::TITLE];

struct Form {
    params: Vec<(String, String)>,
}

impl Form {
    /// A known parameter's trimmed value; an empty value counts as absent (forms send them).
    fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

/// Read a `POST requests` body (`application/x-www-form-urlencoded`).
///
/// Checks, in order: size (413), UTF-8 (400), repeated parameters (400), `jurisdiction_id`
/// (404), `api_key` present (401), `service_code` present and known (400), a location (400),
/// then the complaint rules (400). The language of the complaint is left at the default
/// (Bahasa Indonesia); the caller sets `submission.language` from `Accept-Language`.
pub fn parse_request_form(body: &[u8], directory: &Directory) -> Result<Open311Request, Open311Error> {
    if body.len() > FORM_BODY_MAX_BYTES {
        return Err(Open311Error::TooLarge { max_bytes: FORM_BODY_MAX_BYTES });
    }
    let params = parse_urlencoded(body).map_err(|_| Open311Error::MalformedForm)?;
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &params {
        let known = KNOWN.contains(&name.as_str())
            || attribute_code(name).is_some_and(|c| KNOWN_ATTRIBUTES.contains(&c));
        if known && !seen.insert(name.as_str()) {
            return Err(Open311Error::Repeated(name.clone()));
        }
    }
    let form = Form { params };
    jurisdiction(&form.params)?;
    let api_key = form.get("api_key").ok_or(Open311Error::MissingApiKey)?.to_string();

    let service_code = form.get("service_code").ok_or(Open311Error::Missing("service_code"))?.to_lowercase();
    if directory.category(&service_code).is_none() {
        return Err(Open311Error::UnknownServiceCode(service_code.chars().take(64).collect()));
    }

    let coordinates = match (form.get("lat"), form.get("long")) {
        (None, None) => None,
        (Some(lat), Some(lon)) => Some((coordinate("lat", lat)?, coordinate("long", lon)?)),
        (Some(_), None) => return Err(Open311Error::Missing("long")),
        (None, Some(_)) => return Err(Open311Error::Missing("lat")),
    };
    let address = form.get("address_string");
    // Kept whatever the region came from, so held to the limits of the other ids (fuzzing
    // found an address id of any length accepted beside a region attribute).
    let address_id = external_id(&form, "address_id")?;
    let address_id = address_id.as_deref();
    if coordinates.is_none() && address.is_none() && address_id.is_none() {
        return Err(Open311Error::MissingLocation);
    }

    let (region, region_source) = match (form.get("attribute[region_code]"), address_id) {
        (Some(code), _) => (code.to_string(), RegionSource::Attribute),
        (None, Some(id)) => {
            let code = RegionCode::parse(id).map_err(|_| Open311Error::InvalidParameter {
                parameter: "address_id".into(),
                reason: Text::new(
                    "harus berupa kode wilayah Kemendagri di NTB, misalnya 52.71.01.1001.",
                    "must be a Kemendagri region code in West Nusa Tenggara, such as 52.71.01.1001.",
                ),
            })?;
            (code.to_string(), RegionSource::AddressId)
        }
        (None, None) => {
            match coordinates.and_then(|(lat, lon)| boundaries::locate(&Coordinates { lat, lon })) {
                Some(code) => (code.to_string(), RegionSource::Coordinates),
                None => (PROVINCE_CODE.to_string(), RegionSource::ProvinceDefault),
            }
        }
    };

    let name =
        [form.get("first_name"), form.get("last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if name.chars().count() > limits::NAME_MAX_CHARS {
        return Err(Open311Error::InvalidParameter {
            parameter: "first_name".into(),
            reason: Text::new(
                format!("nama depan dan belakang bersama paling banyak {} karakter.", limits::NAME_MAX_CHARS),
                format!("first and last name together are at most {} characters.", limits::NAME_MAX_CHARS),
            ),
        });
    }

    let device_id = external_id(&form, "device_id")?;
    let account_id = external_id(&form, "account_id")?;
    let media_url = media_url(&form)?;

    // The complaint in the web API's shape, checked by the complaint rules themselves.
    let mut obj = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            obj.insert(k.to_string(), Value::from(v));
        }
    };
    put("description", form.get("description"));
    put("title", form.get("attribute[title]"));
    put("category", Some(&service_code));
    put("region_code", Some(&region));
    put("address", address);
    put("privacy", form.get("attribute[privacy]"));
    if let Some((lat, lon)) = coordinates {
        obj.insert("coordinates".into(), json!({ "lat": lat, "lon": lon }));
    }
    let mut reporter = Map::new();
    for (key, value) in [
        ("name", (!name.is_empty()).then_some(name.as_str())),
        ("phone", form.get("phone")),
        ("email", form.get("email")),
    ] {
        if let Some(v) = value {
            reporter.insert(key.into(), Value::from(v));
        }
    }
    if !reporter.is_empty() {
        obj.insert("reporter".into(), Value::Object(reporter));
    }
    let body = serde_json::to_vec(&Value::Object(obj)).expect("a JSON map always serialises");
    let mut submission = Submission::from_json(&body, directory).map_err(|source| Open311Error::Invalid {
        parameter: open311_parameter(&source, region_source).to_string(),
        source,
    })?;
    if let Some(url) = &media_url {
        // Open311's media_url is "e.g. an image"; the client has already published it.
        submission.attachments.push(Attachment {
            kind: "image".into(),
            reference: url.clone(),
            mime_type: None,
            caption: None,
            size: None,
        });
    }

    Ok(Open311Request {
        api_key,
        submission,
        meta: Open311Meta {
            service_code,
            region_source,
            device_id,
            account_id,
            media_url,
            address_id: address_id.map(String::from),
        },
    })
}

/// `attribute[code]` → `code`.
fn attribute_code(name: &str) -> Option<&str> {
    name.strip_prefix("attribute[")?.strip_suffix(']')
}

fn coordinate(parameter: &'static str, value: &str) -> Result<f64, Open311Error> {
    value.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| Open311Error::InvalidParameter {
        parameter: parameter.into(),
        reason: Text::new(
            "harus berupa angka desimal WGS84, misalnya -8.5833.",
            "must be a WGS84 decimal number, such as -8.5833.",
        ),
    })
}

fn external_id(form: &Form, parameter: &'static str) -> Result<Option<String>, Open311Error> {
    match form.get(parameter) {
        Some(v) if v.chars().count() > EXTERNAL_ID_MAX_CHARS || v.chars().any(char::is_control) => {
            Err(Open311Error::InvalidParameter {
                parameter: parameter.into(),
                reason: Text::new(
                    format!("paling banyak {EXTERNAL_ID_MAX_CHARS} karakter tanpa karakter kontrol."),
                    format!("at most {EXTERNAL_ID_MAX_CHARS} characters, without control characters."),
                ),
            })
        }
        other => Ok(other.map(String::from)),
    }
}

fn media_url(form: &Form) -> Result<Option<String>, Open311Error> {
    let Some(url) = form.get("media_url") else { return Ok(None) };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && url.chars().count() <= MEDIA_URL_MAX_CHARS
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(Some(url.to_string()))
    } else {
        Err(Open311Error::InvalidParameter {
            parameter: "media_url".into(),
            reason: Text::new(
                format!("harus berupa URL http(s) paling banyak {MEDIA_URL_MAX_CHARS} karakter."),
                format!("must be an http(s) URL of at most {MEDIA_URL_MAX_CHARS} characters."),
            ),
        })
    }
}

/// The Open311 parameter a complaint rule's error is about.
fn open311_parameter(e: &SubmissionError, region_source: RegionSource) -> &'static str {
    let field = e.field();
    match field.as_deref() {
        Some("region_code") => match region_source {
            RegionSource::AddressId => "address_id",
            RegionSource::Coordinates => "lat",
            RegionSource::Attribute | RegionSource::ProvinceDefault => "attribute[region_code]",
        },
        Some("coordinates") => "lat",
        Some("reporter.phone") => "phone",
        Some("reporter.email") => "email",
        Some("reporter.name") => "first_name",
        Some("category") => "service_code",
        Some("privacy") => "attribute[privacy]",
        Some("title") => "attribute[title]",
        Some("address") => "address_string",
        Some("description") => "description",
        _ => "body",
    }
}

/// The answer to a `POST requests`: the ticket, at once (services are realtime, so there is
/// never a `token`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostAnswer {
    pub service_request_id: Ticket,
    pub service_notice: String,
    pub account_id: Option<String>,
}

impl PostAnswer {
    /// The answer for a complaint saved under `ticket`. The notice tells the citizen to keep
    /// the ticket and, when no regency was named, that the province will pass it on.
    pub fn new(ticket: Ticket, meta: &Open311Meta, lang: Language) -> PostAnswer {
        let mut notice = Text::new(
            format!(
                "Pengaduan diterima dengan nomor tiket {ticket}. Simpan nomor ini untuk memantau \
                 penanganannya."
            ),
            format!("Complaint received with ticket number {ticket}. Keep this number to follow it up."),
        );
        if meta.region_source == RegionSource::Coordinates {
            notice.id.push_str(" Kabupaten/kota ditentukan dari titik lokasi yang dikirim.");
            notice.en.push_str(" The regency or city was found from the location sent.");
        }
        if meta.region_source == RegionSource::ProvinceDefault {
            notice.id.push_str(
                " Kabupaten/kota tidak disebutkan, jadi koordinator Provinsi NTB akan meneruskannya \
                 ke instansi yang berwenang.",
            );
            notice.en.push_str(
                " No regency or city was given, so the Province's coordinator will pass it to the \
                 responsible agency.",
            );
        }
        PostAnswer {
            service_request_id: ticket,
            service_notice: notice.get(lang).to_string(),
            account_id: meta.account_id.clone(),
        }
    }

    /// `<service_requests><request>…` (a JSON array of one).
    pub fn render(&self, format: Format) -> String {
        let mut fields = vec![
            ("service_request_id", Node::text(self.service_request_id.as_str())),
            ("service_notice", Node::text(&self.service_notice)),
        ];
        if let Some(a) = &self.account_id {
            fields.push(("account_id", Node::text(a)));
        }
        let doc = Node::List { item: "request", entries: vec![Node::Object(fields)] };
        match format {
            Format::Xml => to_xml("service_requests", &doc),
            Format::Json => to_json(&doc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaint::Privacy;
    use crate::open311::golden::{assert_golden, fixture};

    fn parse(form: &str) -> Result<Open311Request, Open311Error> {
        parse_request_form(form.as_bytes(), &Directory::seed())
    }

    const DESC: &str = "description=Jalan+berlubang+di+depan+SDN+3+Cakranegara";

    #[test]
    fn reads_a_fixmystreet_style_form() {
        let r = parse_request_form(&fixture("post_request.form"), &Directory::seed()).unwrap();
        assert_eq!(r.api_key, "kunci-uji-fms");
        let s = &r.submission;
        assert_eq!(s.category.as_deref(), Some("infrastruktur"));
        assert_eq!(s.location.region_code.as_str(), "52.71");
        assert_eq!(r.meta.region_source, RegionSource::Attribute);
        let c = s.location.coordinates.unwrap();
        assert_eq!((c.lat, c.lon), (-8.5833, 116.1167));
        assert_eq!(s.location.address.as_deref(), Some("Jl. Pejanggik No. 10, Cakranegara"));
        assert_eq!(s.title.as_deref(), Some("Jalan berlubang"));
        assert_eq!(s.privacy, Privacy::Public);
        assert_eq!(s.reporter.name.as_deref(), Some("Baiq Nurul"));
        assert_eq!(s.reporter.phone.as_ref().unwrap().as_str(), "+6281234567890");
        assert_eq!(s.reporter.email.as_ref().unwrap().as_str(), "nurul@example.id");
        assert_eq!(r.meta.device_id.as_deref(), Some("android-7f3a"));
        assert_eq!(r.meta.account_id.as_deref(), Some("fms-1042"));
        assert_eq!(r.meta.media_url.as_deref(), Some("https://fixmystreet.example/photo/1042.jpeg"));
        assert!(s.description.contains("berbahaya & licin"));
        assert_eq!(s.attachments.len(), 1);
        assert_eq!(s.attachments[0].reference, "https://fixmystreet.example/photo/1042.jpeg");
    }

    #[test]
    fn missing_service_code_is_the_specs_400() {
        let err = parse(&format!("api_key=k&lat=-8.58&long=116.11&{DESC}")).unwrap_err();
        assert_eq!(err, Open311Error::Missing("service_code"));
        assert_eq!(err.http_status(), 400);
        assert_golden("error_missing_service_code.xml", &err.render(Format::Xml, Language::Id));
        assert_golden("error_missing_service_code.json", &err.render(Format::Json, Language::Id));
    }

    #[test]
    fn missing_location_is_the_specs_400() {
        let err = parse(&format!("api_key=k&service_code=infrastruktur&{DESC}")).unwrap_err();
        assert_eq!(err, Open311Error::MissingLocation);
        assert_eq!(err.http_status(), 400);
        assert_golden("error_missing_location.xml", &err.render(Format::Xml, Language::Id));
        assert_golden("error_missing_location.json", &err.render(Format::Json, Language::En));
    }

    #[test]
    fn empty_location_parameters_are_no_location() {
        let err = parse(&format!("api_key=k&service_code=kesehatan&lat=&long=&address_string=+&{DESC}"));
        assert_eq!(err.unwrap_err(), Open311Error::MissingLocation);
    }

    #[test]
    fn missing_api_key_is_401() {
        let err = parse(&format!("service_code=infrastruktur&lat=-8.58&long=116.11&{DESC}")).unwrap_err();
        assert_eq!(err, Open311Error::MissingApiKey);
        assert_eq!(err.http_status(), 401);
    }

    #[test]
    fn unknown_service_code_is_400() {
        let err = parse(&format!("api_key=k&service_code=sihir&lat=-8.58&long=116.11&{DESC}")).unwrap_err();
        assert_eq!(err, Open311Error::UnknownServiceCode("sihir".into()));
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn service_code_is_read_case_insensitively() {
        let r = parse(&format!("api_key=k&service_code=Kesehatan&address_string=Puskesmas+Selong&{DESC}"))
            .unwrap();
        assert_eq!(r.meta.service_code, "kesehatan");
        assert_eq!(r.submission.category.as_deref(), Some("kesehatan"));
    }

    #[test]
    fn coordinates_without_a_region_place_the_complaint_in_their_regency() {
        // Bandara Internasional Lombok, in Lombok Tengah.
        let r =
            parse(&format!("api_key=k&service_code=infrastruktur&lat=-8.7573&long=116.2767&{DESC}")).unwrap();
        assert_eq!(r.submission.location.region_code.as_str(), "52.02");
        assert_eq!(r.meta.region_source, RegionSource::Coordinates);
        let answer = PostAnswer::new(Ticket::number(2026, 1).unwrap(), &r.meta, Language::Id);
        assert!(answer.service_notice.contains("ditentukan dari titik lokasi"), "{}", answer.service_notice);
        // A region the client names still wins over the point.
        let r = parse(&format!(
            "api_key=k&service_code=infrastruktur&lat=-8.7573&long=116.2767&attribute[region_code]=52.71&{DESC}"
        ))
        .unwrap();
        assert_eq!(r.submission.location.region_code.as_str(), "52.71");
    }

    #[test]
    fn coordinates_in_the_sea_stay_with_the_province() {
        // Alas Strait, between Lombok and Sumbawa: inside NTB's box, in no regency.
        let r = parse(&format!("api_key=k&service_code=infrastruktur&lat=-8.45&long=116.78&{DESC}")).unwrap();
        assert_eq!(r.submission.location.region_code.as_str(), "52");
        assert_eq!(r.meta.region_source, RegionSource::ProvinceDefault);
    }

    #[test]
    fn without_a_region_the_complaint_goes_to_the_province() {
        let r =
            parse(&format!("api_key=k&service_code=infrastruktur&address_string=Pasar+Kebon+Roek&{DESC}"))
                .unwrap();
        assert_eq!(r.submission.location.region_code.as_str(), "52");
        assert_eq!(r.meta.region_source, RegionSource::ProvinceDefault);
        let answer = PostAnswer::new(Ticket::number(2026, 1).unwrap(), &r.meta, Language::Id);
        assert!(answer.service_notice.contains("koordinator Provinsi NTB"), "{}", answer.service_notice);
    }

    #[test]
    fn a_kemendagri_address_id_names_the_region() {
        let r = parse(&format!("api_key=k&service_code=infrastruktur&address_id=5203012001&{DESC}")).unwrap();
        assert_eq!(r.submission.location.region_code.as_str(), "52.03.01.2001");
        assert_eq!(r.meta.region_source, RegionSource::AddressId);
        assert_eq!(r.meta.address_id.as_deref(), Some("5203012001"));
    }

    #[test]
    fn the_region_attribute_wins_over_address_id() {
        let r = parse(&format!(
            "api_key=k&service_code=infrastruktur&address_id=52.03&attribute%5Bregion_code%5D=52.72&{DESC}"
        ))
        .unwrap();
        assert_eq!(r.submission.location.region_code.as_str(), "52.72");
    }

    #[test]
    fn an_overlong_address_id_is_refused_even_beside_a_region_attribute() {
        let long = "5".repeat(EXTERNAL_ID_MAX_CHARS + 1);
        let err = parse(&format!(
            "api_key=k&service_code=infrastruktur&address_id={long}&attribute%5Bregion_code%5D=52.71&{DESC}"
        ))
        .unwrap_err();
        assert_eq!((err.parameter(), err.http_status()), (Some("address_id"), 400));
    }

    #[test]
    fn an_address_id_that_is_not_a_region_code_is_refused() {
        let err =
            parse(&format!("api_key=k&service_code=infrastruktur&address_id=ABC-12&{DESC}")).unwrap_err();
        assert_eq!(err.parameter(), Some("address_id"));
        assert_eq!(err.http_status(), 400);
        let err =
            parse(&format!("api_key=k&service_code=infrastruktur&address_id=51.71&{DESC}")).unwrap_err();
        assert_eq!(err.parameter(), Some("address_id"));
        assert!(matches!(err, Open311Error::Invalid { source: SubmissionError::UnknownRegion(_), .. }));
    }

    #[test]
    fn complaint_rules_apply_with_open311_parameter_names() {
        let base = "api_key=k&service_code=infrastruktur";
        let cases = [
            (format!("{base}&lat=-8.58&long=116.11"), "description", "missing-field"),
            (format!("{base}&lat=-8.58&long=116.11&description=pendek"), "description", "too-short"),
            (format!("{base}&lat=116.11&long=-8.58&{DESC}"), "lat", "coordinates-outside-ntb"),
            (format!("{base}&lat=-8.58&long=116.11&phone=abc&{DESC}"), "phone", "invalid-phone"),
            (format!("{base}&lat=-8.58&long=116.11&email=nobody&{DESC}"), "email", "invalid-email"),
            (
                format!("{base}&lat=-8.58&long=116.11&attribute[privacy]=secret&{DESC}"),
                "attribute[privacy]",
                "unknown-privacy",
            ),
            (
                format!("{base}&lat=-8.58&long=116.11&attribute[region_code]=52.99&{DESC}"),
                "attribute[region_code]",
                "unknown-region",
            ),
            (format!("{base}&address_string={}&{DESC}", "a".repeat(301)), "address_string", "too-long"),
        ];
        for (form, parameter, code) in cases {
            match parse(&form).unwrap_err() {
                Open311Error::Invalid { parameter: p, source } => {
                    assert_eq!((p.as_str(), source.code()), (parameter, code), "{form}");
                }
                other => panic!("{form}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_description_limit_is_the_complaint_limit() {
        let long = "a".repeat(limits::DESCRIPTION_MAX_CHARS + 1);
        let err = parse(&format!("api_key=k&service_code=lainnya&address_string=Mataram&description={long}"))
            .unwrap_err();
        assert_eq!(err.parameter(), Some("description"));
        assert_eq!(
            err.description(Language::Id),
            "Kolom `description` terlalu panjang: paling banyak 5000 karakter."
        );
    }

    #[test]
    fn half_a_coordinate_pair_is_refused() {
        let err = parse(&format!("api_key=k&service_code=lainnya&lat=-8.58&{DESC}")).unwrap_err();
        assert_eq!(err, Open311Error::Missing("long"));
        let err = parse(&format!("api_key=k&service_code=lainnya&lat=abc&long=116&{DESC}")).unwrap_err();
        assert_eq!(err.parameter(), Some("lat"));
        let err = parse(&format!("api_key=k&service_code=lainnya&lat=NaN&long=116&{DESC}")).unwrap_err();
        assert_eq!(err.parameter(), Some("lat"));
    }

    #[test]
    fn a_repeated_parameter_is_refused() {
        let err = parse(&format!(
            "api_key=k&service_code=lainnya&service_code=kesehatan&lat=-8.58&long=116.1&{DESC}"
        ))
        .unwrap_err();
        assert_eq!(err, Open311Error::Repeated("service_code".into()));
    }

    #[test]
    fn unknown_parameters_and_attributes_are_ignored() {
        let r = parse(&format!(
            "api_key=k&service_code=lainnya&lat=-8.58&long=116.1\
             &attribute[easting]=1&attribute[easting]=2&foo=bar&{DESC}"
        ));
        assert!(r.is_ok(), "{r:?}");
    }

    #[test]
    fn someone_elses_jurisdiction_is_404() {
        let err = parse(&format!(
            "api_key=k&jurisdiction_id=sf.gov&service_code=lainnya&lat=-8.58&long=116.1&{DESC}"
        ))
        .unwrap_err();
        assert_eq!(err.http_status(), 404);
    }

    #[test]
    fn privacy_defaults_to_anonymous_even_with_a_name() {
        let r = parse(&format!("api_key=k&service_code=lainnya&lat=-8.58&long=116.1&first_name=Lalu&{DESC}"))
            .unwrap();
        assert_eq!(r.submission.privacy, Privacy::Anonymous);
        assert_eq!(r.submission.reporter.name.as_deref(), Some("Lalu"));
    }

    #[test]
    fn media_url_must_be_http() {
        for bad in ["javascript:alert(1)", "ftp://x/y", "https://", "https:///x", "https://a b"] {
            let form = format!(
                "api_key=k&service_code=lainnya&lat=-8.58&long=116.1&media_url={}&{DESC}",
                bad.replace(' ', "+")
            );
            assert_eq!(parse(&form).unwrap_err().parameter(), Some("media_url"), "{bad}");
        }
    }

    #[test]
    fn an_oversized_or_non_utf8_body_is_refused() {
        let big = vec![b'a'; FORM_BODY_MAX_BYTES + 1];
        let err = parse_request_form(&big, &Directory::seed()).unwrap_err();
        assert_eq!(err.http_status(), 413);
        let err = parse_request_form(b"description=%FF%FE", &Directory::seed()).unwrap_err();
        assert_eq!(err, Open311Error::MalformedForm);
    }

    #[test]
    fn post_answer_matches_the_golden_files() {
        let r = parse_request_form(&fixture("post_request.form"), &Directory::seed()).unwrap();
        let answer = PostAnswer::new(Ticket::number(2026, 1042).unwrap(), &r.meta, Language::Id);
        assert_golden("post_answer.xml", &answer.render(Format::Xml));
        assert_golden("post_answer.json", &answer.render(Format::Json));
    }
}
