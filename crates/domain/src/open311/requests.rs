//! `GET requests` and `GET requests/{id}`: complaints as Open311 request objects, and the
//! filters that choose them.
//!
//! A request object is built from [`Complaint::public_view`], the one place that decides what
//! anyone holding a ticket may read, plus the problem's place for complaints that are not
//! confidential (the place is the complaint's content, which Open311 clients map; it says
//! nothing about who complained). Nothing about the reporter is ever written.

use super::services::service_name;
use super::wire::{to_json, to_xml, Node};
use super::{jurisdiction, Format, Open311Error};
use crate::channels::parse_urlencoded;
use crate::clock::{days_from_civil, Timestamp, WITA_OFFSET_MS};
use crate::complaint::{Channel, Complaint, Coordinates, Privacy};
use crate::directory::Directory;
use crate::language::{Language, Text};
use crate::lifecycle::CaseStatus;
use crate::ticket::Ticket;

/// The spec's default window: the last 90 days…
pub const DEFAULT_WINDOW_DAYS: i64 = 90;
/// …or the first 1,000 requests, whichever is smaller.
pub const MAX_RESULTS: usize = 1000;
const DAY_MS: i64 = 86_400_000;

/// Open311's two statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenClosed {
    Open,
    Closed,
}

impl OpenClosed {
    /// Closed and rejected complaints are closed; everything else still needs someone to act.
    pub fn of(status: CaseStatus) -> OpenClosed {
        if status.is_open() {
            OpenClosed::Open
        } else {
            OpenClosed::Closed
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            OpenClosed::Open => "open",
            OpenClosed::Closed => "closed",
        }
    }
}

/// One Open311 request object. Built only by [`ServiceRequest::from_complaint`], so what it
/// shows always follows the complaint's privacy.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRequest {
    service_request_id: String,
    status: OpenClosed,
    status_notes: String,
    /// Confidential: nothing beyond id and status may be added.
    withheld: bool,
    service_name: Option<String>,
    service_code: Option<String>,
    description: Option<String>,
    agency_responsible: Option<String>,
    requested_datetime: Option<String>,
    updated_datetime: Option<String>,
    expected_datetime: Option<String>,
    address: Option<String>,
    address_id: Option<String>,
    coordinates: Option<Coordinates>,
    media_url: Option<String>,
}

impl ServiceRequest {
    /// The request object for a complaint, in `lang` (labels and service names).
    ///
    /// `status_notes` carries NTB Care's own status as `code: label` (`in-progress: Sedang
    /// ditindaklanjuti`); `address_id` is the complaint's Kemendagri region code, the same
    /// reading [`parse_request_form`](super::parse_request_form) gives it on the way in.
    pub fn from_complaint(complaint: &Complaint, directory: &Directory, lang: Language) -> ServiceRequest {
        let view = complaint.public_view(directory, lang);
        let status_notes = format!("{}: {}", view.status, view.status_label);
        let withheld = view.description.is_none() || complaint.privacy == Privacy::Confidential;
        let mut request = ServiceRequest {
            service_request_id: view.ticket,
            status: OpenClosed::of(complaint.status),
            status_notes,
            withheld,
            service_name: None,
            service_code: None,
            description: None,
            agency_responsible: None,
            requested_datetime: None,
            updated_datetime: None,
            expected_datetime: None,
            address: None,
            address_id: None,
            coordinates: None,
            media_url: None,
        };
        if withheld {
            return request;
        }
        request.service_name = view.category.as_deref().and_then(|c| service_name(c, directory, lang));
        request.service_code = view.category;
        request.description = view.description;
        request.agency_responsible = view.unit;
        request.requested_datetime = view.received_at;
        request.updated_datetime = Some(complaint.updated_at.to_rfc3339_wita());
        request.address_id = view.region_code;
        request.address = complaint.location.address.clone();
        request.coordinates = complaint.location.coordinates;
        request.media_url = published_media_url(complaint);
        request
    }

    /// When the complaint is expected to be answered (from the SLA deadlines the caller
    /// computed). Ignored for a confidential complaint.
    pub fn with_expected(mut self, at: Timestamp) -> ServiceRequest {
        if !self.withheld {
            self.expected_datetime = Some(at.to_rfc3339_wita());
        }
        self
    }

    /// A public URL of the complaint's photo (by default, the one an Open311 client sent is
    /// shown). Ignored for a confidential complaint.
    pub fn with_media_url(mut self, url: &str) -> ServiceRequest {
        if !self.withheld {
            self.media_url = Some(url.to_string());
        }
        self
    }

    pub fn service_request_id(&self) -> &str {
        &self.service_request_id
    }

    pub fn status(&self) -> OpenClosed {
        self.status
    }

    fn node(&self) -> Node {
        let mut fields = vec![
            ("service_request_id", Node::text(&self.service_request_id)),
            ("status", Node::text(self.status.code())),
            ("status_notes", Node::text(&self.status_notes)),
        ];
        let mut text = |name: &'static str, value: &Option<String>| {
            if let Some(v) = value {
                fields.push((name, Node::text(v)));
            }
        };
        text("service_name", &self.service_name);
        text("service_code", &self.service_code);
        text("description", &self.description);
        text("agency_responsible", &self.agency_responsible);
        text("requested_datetime", &self.requested_datetime);
        text("updated_datetime", &self.updated_datetime);
        text("expected_datetime", &self.expected_datetime);
        text("address", &self.address);
        text("address_id", &self.address_id);
        if let Some(c) = self.coordinates {
            fields.push(("lat", Node::Number(c.lat)));
            fields.push(("long", Node::Number(c.lon)));
        }
        if let Some(url) = &self.media_url {
            fields.push(("media_url", Node::text(url)));
        }
        Node::Object(fields)
    }
}

fn published_media_url(complaint: &Complaint) -> Option<String> {
    if complaint.channel != Channel::Open311 {
        return None;
    }
    complaint
        .attachments
        .iter()
        .map(|a| a.reference.as_str())
        .find(|r| r.starts_with("https://") || r.starts_with("http://"))
        .map(String::from)
}

/// `<service_requests><request>…` (a JSON array), for both `GET requests` and
/// `GET requests/{id}` (an array of one).
pub fn render_requests(requests: &[ServiceRequest], format: Format) -> String {
    let doc = Node::List { item: "request", entries: requests.iter().map(ServiceRequest::node).collect() };
    match format {
        Format::Xml => to_xml("service_requests", &doc),
        Format::Json => to_json(&doc),
    }
}

/// The filters of `GET requests`, with the spec's defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestsQuery {
    /// `service_request_id`: when given, these and nothing else (the other filters are ignored).
    pub ids: Vec<Ticket>,
    /// `service_code`: any of these; empty for all.
    pub service_codes: Vec<String>,
    /// `start_date` ..= `end_date`, on the complaint's `requested_datetime`.
    pub start: Timestamp,
    pub end: Timestamp,
    /// `status`: any of these; empty for both.
    pub statuses: Vec<OpenClosed>,
    pub limit: usize,
}

/// Read a `GET requests` query string. `now` sets the default window: the last 90 days; a
/// window given by one date extends 90 days from it; a window longer than 90 days is refused,
/// as the spec says it may not be. Dates are ISO 8601 with a time zone, or a bare date read in
/// WITA (a bare `end_date` includes its whole day). Unknown parameters are ignored.
pub fn parse_query(query: &str, now: Timestamp) -> Result<RequestsQuery, Open311Error> {
    let params = parse_urlencoded(query.as_bytes()).map_err(|_| Open311Error::MalformedForm)?;
    jurisdiction(&params)?;
    let get = |name: &str| -> Result<Option<&str>, Open311Error> {
        let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim());
        let first = values.next();
        if values.next().is_some() {
            return Err(Open311Error::Repeated(name.into()));
        }
        Ok(first.filter(|v| !v.is_empty()))
    };
    let list = |v: Option<&str>| -> Vec<String> {
        v.map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    };

    let raw_ids = list(get("service_request_id")?);
    if raw_ids.len() > MAX_RESULTS {
        return Err(invalid(
            "service_request_id",
            Text::new(
                format!("paling banyak {MAX_RESULTS} nomor tiket."),
                format!("at most {MAX_RESULTS} ticket numbers."),
            ),
        ));
    }
    let ids = raw_ids
        .iter()
        .map(|id| {
            Ticket::parse(id).map_err(|_| {
                invalid(
                    "service_request_id",
                    Text::new(
                        format!("`{}` bukan nomor tiket NTB Care seperti NTB-26-7KQ4MX.", clip(id)),
                        format!("`{}` is not an NTB Care ticket such as NTB-26-7KQ4MX.", clip(id)),
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let service_codes = list(get("service_code")?).into_iter().map(|c| c.to_lowercase()).collect();
    let statuses = list(get("status")?)
        .iter()
        .map(|s| match s.to_ascii_lowercase().as_str() {
            "open" => Ok(OpenClosed::Open),
            "closed" => Ok(OpenClosed::Closed),
            _ => Err(invalid(
                "status",
                Text::new(
                    "harus open atau closed (boleh keduanya, dipisah koma).",
                    "must be open or closed (or both, comma-separated).",
                ),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;

    let date = |name: &'static str, end_of_day: bool| -> Result<Option<Timestamp>, Open311Error> {
        get(name)?
            .map(|v| {
                parse_datetime(v, end_of_day).ok_or_else(|| {
                    invalid(
                        name,
                        Text::new(
                            "harus berupa tanggal ISO 8601 dengan zona waktu, \
                             misalnya 2026-11-29T09:30:00+08:00.",
                            "must be an ISO 8601 date with a time zone, such as 2026-11-29T09:30:00+08:00.",
                        ),
                    )
                })
            })
            .transpose()
    };
    let window = DEFAULT_WINDOW_DAYS * DAY_MS;
    let (start, end) = match (date("start_date", false)?, date("end_date", true)?) {
        (None, None) => (Timestamp(now.0 - window), now),
        (Some(s), None) => (s, Timestamp(s.0 + window)),
        (None, Some(e)) => (Timestamp(e.0 - window), e),
        (Some(s), Some(e)) => (s, e),
    };
    if start > end {
        return Err(invalid(
            "end_date",
            Text::new("tidak boleh sebelum start_date.", "must not be before start_date."),
        ));
    }
    // A bare end date reaches the last millisecond of its day, so allow that millisecond.
    if end.0 - start.0 > window + DAY_MS - 1 {
        return Err(invalid(
            "end_date",
            Text::new(
                format!("rentang tanggal paling lama {DEFAULT_WINDOW_DAYS} hari."),
                format!("the date range may span at most {DEFAULT_WINDOW_DAYS} days."),
            ),
        ));
    }
    Ok(RequestsQuery { ids, service_codes, start, end, statuses, limit: MAX_RESULTS })
}

/// Whether a complaint is one the query asks for.
///
/// A confidential complaint matches only when asked for by its id: a listing by date, service
/// or status would reveal when it came and what it is about.
pub fn matches(complaint: &Complaint, query: &RequestsQuery) -> bool {
    if !query.ids.is_empty() {
        return query.ids.contains(&complaint.ticket);
    }
    complaint.privacy != Privacy::Confidential
        && (query.start..=query.end).contains(&complaint.received_at)
        && (query.service_codes.is_empty()
            || complaint.category.as_ref().is_some_and(|c| query.service_codes.contains(c)))
        && (query.statuses.is_empty() || query.statuses.contains(&OpenClosed::of(complaint.status)))
}

/// The complaints a query answers with: matching ones, newest first, at most `query.limit`.
pub fn select<'a>(
    complaints: impl IntoIterator<Item = &'a Complaint>,
    query: &RequestsQuery,
) -> Vec<&'a Complaint> {
    let mut chosen: Vec<&Complaint> = complaints.into_iter().filter(|c| matches(c, query)).collect();
    chosen.sort_by(|a, b| b.received_at.cmp(&a.received_at).then_with(|| a.ticket.cmp(&b.ticket)));
    chosen.truncate(query.limit);
    chosen
}

fn invalid(parameter: &str, reason: Text) -> Open311Error {
    Open311Error::InvalidParameter { parameter: parameter.into(), reason }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// An ISO 8601 (W3C profile) date or date-time. A date-time must carry its zone (`Z`,
/// `±hh:mm` or `±hhmm`); a bare date is a WITA day, its first millisecond or, for the end of
/// a range, its last. A space where the zone's `+` belongs is read as `+`: it is what an
/// unencoded `+` in a query string decodes to, a mistake clients make all the time.
pub fn parse_datetime(input: &str, end_of_day: bool) -> Option<Timestamp> {
    let s = input.trim_start();
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight_utc = days_from_civil(year as i32, month as u32, day as u32) * DAY_MS;
    if b.len() == 10 {
        let start = midnight_utc - WITA_OFFSET_MS;
        return Some(Timestamp(if end_of_day { start + DAY_MS - 1 } else { start }));
    }
    if !matches!(b[10], b'T' | b't') || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11, 2)?, num(14, 2)?);
    let mut i = 16;
    let mut second = 0;
    let mut millis = 0;
    if b.get(i) == Some(&b':') {
        second = num(i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            let frac = &s[i + 1..i + 1 + digits.min(3)];
            millis = format!("{frac:0<3}").parse::<i64>().ok()?;
            i += 1 + digits;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_ms = match b.get(i)? {
        b'Z' | b'z' if b.len() == i + 1 => 0,
        sign @ (b'+' | b'-' | b' ') => {
            let (oh, om) = match b.len() - i - 1 {
                5 if b[i + 3] == b':' => (num(i + 1, 2)?, num(i + 4, 2)?),
                4 => (num(i + 1, 2)?, num(i + 3, 2)?),
                _ => return None,
            };
            if oh > 14 || om > 59 {
                return None;
            }
            let ms = (oh * 60 + om) * 60_000;
            if *sign == b'-' {
                -ms
            } else {
                ms
            }
        }
        _ => return None,
    };
    Some(Timestamp(midnight_utc + ((hour * 60 + minute) * 60 + second) * 1000 + millis - offset_ms))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaint::{Attachment, Location};
    use crate::directory::UnitId;
    use crate::lifecycle::{Action, Actor, Event};
    use crate::open311::golden::assert_golden;
    use crate::region::RegionCode;

    fn at(day: u32, hour: u32) -> Timestamp {
        Timestamp::from_wita(2026, 11, day, hour, 30)
    }

    fn complaint(seq: u64, privacy: Privacy, status: CaseStatus) -> Complaint {
        Complaint {
            ticket: Ticket::number(2026, seq).unwrap(),
            channel: Channel::Open311,
            privacy,
            title: Some("Jalan berlubang".into()),
            description: "Jalan berlubang <besar> & licin di depan \"SDN 3\" Cakranegara, 'berbahaya'."
                .into(),
            category: Some("infrastruktur".into()),
            location: Location {
                region_code: RegionCode::parse("52.71").unwrap(),
                address: Some("Jl. Pejanggik No. 10, Cakranegara".into()),
                coordinates: Some(Coordinates { lat: -8.5833, lon: 116.1167 }),
            },
            status,
            unit: Some(UnitId::parse("pemkot-mataram").unwrap()),
            routing_rule: "mataram-all".into(),
            received_at: at(20, 9),
            updated_at: at(22, 14),
            language: Language::Id,
            reporter_name: (privacy == Privacy::Public).then(|| "Baiq Nurul".to_string()),
            reachable: true,
            tracking_secret_sha256: "ab".repeat(32),
            history: vec![Event {
                at: at(20, 9),
                actor: Actor::Complainant,
                action: Action::Receive,
                from: None,
                to: CaseStatus::Received,
                public_note: None,
                internal_note: Some("pelapor menelepon dua kali".into()),
            }],
            attachments: vec![],
            external: None,
            case: Default::default(),
        }
    }

    fn photo(url: &str) -> Attachment {
        Attachment { kind: "image".into(), reference: url.into(), mime_type: None, caption: None, size: None }
    }

    fn request(c: &Complaint) -> ServiceRequest {
        ServiceRequest::from_complaint(c, &Directory::seed(), Language::Id)
    }

    #[test]
    fn status_maps_to_open_or_closed() {
        for s in CaseStatus::ALL {
            let expected =
                if matches!(s, CaseStatus::Closed | CaseStatus::Rejected) { "closed" } else { "open" };
            assert_eq!(OpenClosed::of(s).code(), expected, "{s:?}");
        }
    }

    #[test]
    fn richer_status_is_in_status_notes() {
        let r = request(&complaint(1, Privacy::Anonymous, CaseStatus::InProgress));
        assert_eq!(r.status_notes, "in-progress: Sedang ditindaklanjuti");
        let r = ServiceRequest::from_complaint(
            &complaint(1, Privacy::Anonymous, CaseStatus::Rejected),
            &Directory::seed(),
            Language::En,
        );
        assert_eq!((r.status, r.status_notes.as_str()), (OpenClosed::Closed, "rejected: Rejected"));
    }

    #[test]
    fn a_confidential_complaint_renders_nothing_but_id_and_status() {
        let mut c = complaint(7, Privacy::Confidential, CaseStatus::Dispatched);
        c.attachments.push(photo("https://y.example/b.jpg"));
        let r = request(&c).with_media_url("https://x.example/a.jpg").with_expected(at(30, 9));
        let xml = render_requests(std::slice::from_ref(&r), Format::Xml);
        assert_golden("request_confidential.xml", &xml);
        assert_golden("request_confidential.json", &render_requests(&[r], Format::Json));
        for secret in ["Jalan", "Pejanggik", "-8.58", "infrastruktur", "pemkot", "2026-11-20", ".example"] {
            assert!(!xml.contains(secret), "{secret} leaked:\n{xml}");
        }
        let elements: Vec<&str> = xml
            .lines()
            .filter_map(|l| l.trim().strip_prefix('<'))
            .filter_map(|l| l.split('>').next())
            .collect();
        assert_eq!(
            elements,
            [
                "?xml version=\"1.0\" encoding=\"utf-8\"?",
                "service_requests",
                "request",
                "service_request_id",
                "status",
                "status_notes",
                "/request",
                "/service_requests"
            ]
        );
    }

    #[test]
    fn no_reporter_data_is_ever_rendered() {
        for privacy in [Privacy::Public, Privacy::Anonymous, Privacy::Confidential] {
            let c = complaint(3, privacy, CaseStatus::Received);
            for format in [Format::Xml, Format::Json] {
                let out = render_requests(&[request(&c)], format);
                for secret in ["Baiq", "Nurul", "abab", "pelapor menelepon", "routing", "mataram-all"] {
                    assert!(!out.contains(secret), "{privacy:?} {format:?} leaked {secret}:\n{out}");
                }
            }
        }
    }

    #[test]
    fn an_anonymous_complaint_matches_the_golden_files() {
        let mut c = complaint(1042, Privacy::Anonymous, CaseStatus::InProgress);
        c.attachments.push(photo("https://fixmystreet.example/photo/1042.jpeg"));
        let r = request(&c).with_expected(at(27, 16));
        assert_golden("requests.xml", &render_requests(std::slice::from_ref(&r), Format::Xml));
        assert_golden("requests.json", &render_requests(&[r], Format::Json));
    }

    #[test]
    fn only_a_url_an_open311_client_published_becomes_media_url() {
        let mut c = complaint(1, Privacy::Anonymous, CaseStatus::Received);
        c.attachments.push(photo("https://lookaside.fbsbx.com/private/123"));
        c.channel = Channel::Facebook;
        assert_eq!(request(&c).media_url, None);
        c.channel = Channel::Open311;
        assert_eq!(request(&c).media_url.as_deref(), Some("https://lookaside.fbsbx.com/private/123"));
        c.attachments[0].reference = "wamid-media-991".into();
        assert_eq!(request(&c).media_url, None);
    }

    #[test]
    fn descriptions_are_escaped_in_xml_and_json() {
        let xml =
            render_requests(&[request(&complaint(1, Privacy::Public, CaseStatus::Received))], Format::Xml);
        assert!(
            xml.contains(
                "<description>Jalan berlubang &lt;besar&gt; &amp; licin di depan &quot;SDN 3&quot; \
             Cakranegara, &apos;berbahaya&apos;.</description>"
            ),
            "{xml}"
        );
        let json =
            render_requests(&[request(&complaint(1, Privacy::Public, CaseStatus::Received))], Format::Json);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed[0]["description"], complaint(1, Privacy::Public, CaseStatus::Received).description);
        assert_eq!(parsed[0]["lat"], -8.5833);
    }

    #[test]
    fn the_default_window_is_the_last_ninety_days() {
        let now = at(29, 12);
        let q = parse_query("", now).unwrap();
        assert_eq!((q.start, q.end, q.limit), (Timestamp(now.0 - 90 * DAY_MS), now, 1000));
        assert!(q.ids.is_empty() && q.service_codes.is_empty() && q.statuses.is_empty());
    }

    #[test]
    fn reads_every_filter() {
        let t1 = Ticket::number(2026, 1).unwrap();
        let t2 = Ticket::number(2026, 2).unwrap();
        let q = parse_query(
            &format!(
                "service_request_id={t1},{}&service_code=Infrastruktur,kesehatan&status=open\
                 &start_date=2026-11-01T00:00:00Z&end_date=2026-11-30&jurisdiction_id=ntbprov.go.id",
                t2.as_str().to_lowercase()
            ),
            at(29, 12),
        )
        .unwrap();
        assert_eq!(q.ids, [t1, t2]);
        assert_eq!(q.service_codes, ["infrastruktur", "kesehatan"]);
        assert_eq!(q.statuses, [OpenClosed::Open]);
        assert_eq!(q.start.to_rfc3339_wita(), "2026-11-01T08:00:00+08:00");
        assert_eq!(q.end, Timestamp(Timestamp::from_wita(2026, 12, 1, 0, 0).0 - 1));
    }

    #[test]
    fn a_single_date_opens_a_ninety_day_window_from_it() {
        let q = parse_query("start_date=2026-01-01T00:00:00%2B08:00", at(29, 12)).unwrap();
        assert_eq!(q.start, Timestamp::from_wita(2026, 1, 1, 0, 0));
        assert_eq!(q.end.0 - q.start.0, 90 * DAY_MS);
        let q = parse_query("end_date=2026-11-29T12:00:00+08:00", at(29, 12)).unwrap();
        assert_eq!(q.end, Timestamp::from_wita(2026, 11, 29, 12, 0));
        assert_eq!(q.end.0 - q.start.0, 90 * DAY_MS);
    }

    #[test]
    fn bad_filters_are_400() {
        let now = at(29, 12);
        for (query, parameter) in [
            ("service_request_id=12345", "service_request_id"),
            ("status=pending", "status"),
            ("start_date=2026-11-01T00:00:00", "start_date"),
            ("start_date=29/11/2026", "start_date"),
            ("start_date=2026-02-30", "start_date"),
            ("start_date=2026-11-10&end_date=2026-11-01", "end_date"),
            ("start_date=2026-01-01&end_date=2026-11-01", "end_date"),
            ("status=open&status=closed", "status"),
        ] {
            let err = parse_query(query, now).unwrap_err();
            assert_eq!((err.http_status(), err.parameter()), (400, Some(parameter)), "{query}");
        }
        assert_eq!(parse_query("jurisdiction_id=x", now).unwrap_err().http_status(), 404);
    }

    #[test]
    fn reads_iso_8601_as_the_w3c_profile_allows() {
        let expected = Timestamp::from_wita(2026, 11, 29, 9, 30);
        for s in [
            "2026-11-29T09:30:00+08:00",
            "2026-11-29T01:30:00Z",
            "2026-11-29T01:30Z",
            "2026-11-28T20:30:00-05:00",
            "2026-11-29T09:30:00+0800",
            "2026-11-29T09:30:00 08:00",
        ] {
            assert_eq!(parse_datetime(s, false), Some(expected), "{s}");
        }
        assert_eq!(parse_datetime("2026-11-29T01:30:00.250Z", false), Some(Timestamp(expected.0 + 250)));
        for bad in [
            "",
            "2026-11-29T09:30",
            "2026-13-01",
            "2026-11-29T25:00:00Z",
            "2026-11-29T09:30:00+08",
            "2026-11-29X",
        ] {
            assert_eq!(parse_datetime(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn filters_choose_by_date_service_and_status() {
        let q = parse_query(
            "start_date=2026-11-15&end_date=2026-11-25&status=open&service_code=infrastruktur",
            at(29, 12),
        )
        .unwrap();
        let c = complaint(1, Privacy::Anonymous, CaseStatus::Received);
        assert!(matches(&c, &q));
        let mut other = c.clone();
        other.category = Some("kesehatan".into());
        assert!(!matches(&other, &q));
        let mut closed = c.clone();
        closed.status = CaseStatus::Closed;
        assert!(!matches(&closed, &q));
        let mut old = c.clone();
        old.received_at = at(10, 9);
        assert!(!matches(&old, &q));
    }

    #[test]
    fn a_confidential_complaint_is_found_only_by_its_id() {
        let c = complaint(5, Privacy::Confidential, CaseStatus::Received);
        let now = at(29, 12);
        assert!(!matches(&c, &parse_query("", now).unwrap()));
        assert!(!matches(&c, &parse_query("service_code=infrastruktur", now).unwrap()));
        assert!(matches(&c, &parse_query(&format!("service_request_id={}", c.ticket), now).unwrap()));
    }

    #[test]
    fn ids_override_the_other_filters() {
        let c = complaint(5, Privacy::Anonymous, CaseStatus::Closed);
        let q = parse_query(
            &format!("service_request_id={}&status=open&service_code=kesehatan", c.ticket),
            at(29, 12),
        )
        .unwrap();
        assert!(matches(&c, &q));
    }

    #[test]
    fn select_returns_the_newest_first_up_to_the_limit() {
        let mut cs: Vec<Complaint> =
            (1..=5).map(|i| complaint(i, Privacy::Anonymous, CaseStatus::Received)).collect();
        for (i, c) in cs.iter_mut().enumerate() {
            c.received_at = at(20 + i as u32, 9);
        }
        let mut q = parse_query("", at(29, 12)).unwrap();
        q.limit = 3;
        let chosen: Vec<u64> = select(&cs, &q).iter().map(|c| c.ticket.sequence()).collect();
        assert_eq!(chosen, [5, 4, 3]);
    }
}
