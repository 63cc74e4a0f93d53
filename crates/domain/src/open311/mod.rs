//! Open311 GeoReport v2: NTB Care as a standard 311 server, as pure functions.
//!
//! Open311 (<https://wiki.open311.org/GeoReport_v2>) lets any 311 app (FixMyStreet's apps, the
//! `open311` client libraries, a city's CRM) list NTB Care's services, post complaints and
//! follow them. This module tree owns the whole protocol; the intake component only reads the
//! method, path, query and body, calls in here and writes the answer:
//!
//! - [`route`] reads `method` and path (`services.xml`, `requests/NTB-26-7KQ4MX.json`) into a
//!   [`Route`] and a [`Format`].
//! - [`services`](mod@services): the service list and service definitions, one service per directory
//!   category, with `privacy`, `region_code` and `title` attributes.
//! - [`submit`]: `POST requests` parsed into a [`Submission`](crate::complaint::Submission)
//!   checked by the complaint rules themselves, and the answer with the ticket.
//! - [`requests`]: `GET requests` filters and the request objects, rendered from a
//!   [`Complaint`](crate::complaint::Complaint) through its public view.
//! - [`Open311Error`]: errors in Open311's `<errors><error>` shape.
//!
//! Decisions:
//! - **Region.** Open311 knows coordinates and addresses, NTB Care routes by Kemendagri region
//!   code. The code comes from `attribute[region_code]`, else from `address_id` when it is a
//!   Kemendagri code (NTB's master address list *is* Kemendagri's: `52.71.01.1001` names a
//!   village), else from `lat`/`long` when they lie inside one regency's or city's boundary
//!   ([`crate::boundaries::locate`]: point-in-polygon against geoBoundaries' outlines of the ten
//!   regencies/cities, compiled in from `data/boundaries`), else the province `52`, whose
//!   coordinator triages. Outlines, not bounding boxes: regency boxes overlap (Mataram lies
//!   wholly inside Lombok Barat's box, Lombok's three regencies interlock), so a box table would
//!   send complaints near a border to the wrong regency, silently. A point the outlines do not
//!   place (the sea, a shore the simplified outline cuts off) stays with the province desk, the
//!   designed fallback, and the coordinates stay on the record for whoever places it.
//! - **Privacy.** What a request object shows is the complaint's public view: a confidential
//!   complaint is its id and status only, and is found only by its id (a date or service filter
//!   that listed it would reveal when it came and what it is about). No contact ever appears.
//! - **Status.** Open311 has `open` and `closed`: closed and rejected complaints are `closed`,
//!   everything else `open`; NTB Care's own status is in `status_notes` (`in-progress: Sedang
//!   ditindaklanjuti`).
//! - **Shapes.** Every answer is one tree written as XML or JSON (module `wire`), so the two formats
//!   always carry the same fields; absent fields are left out rather than written empty.
//! - Services are `realtime`: a POST answers with the ticket at once, so there are no tokens.

pub mod requests;
pub mod services;
pub mod submit;

mod error;
mod wire;

#[cfg(test)]
mod golden;

pub use error::{render_errors, Open311Error};
pub use requests::{
    matches, parse_query, render_requests, select, OpenClosed, RequestsQuery, ServiceRequest,
};
pub use services::{render_services, service_definition, services, Service, ServiceDefinition};
pub use submit::{parse_request_form, Open311Meta, Open311Request, PostAnswer, RegionSource};

use crate::channels::parse_urlencoded;
use crate::ticket::Ticket;

/// The `jurisdiction_id` NTB Care answers to. NTB Care serves one jurisdiction, so the
/// parameter is optional (as the spec allows); when given it must be this.
pub const JURISDICTION_ID: &str = "ntbprov.go.id";

/// The wire format a resource was asked in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Required by the spec, so also the format of an error about an unreadable path.
    #[default]
    Xml,
    Json,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }

    /// The format to answer a path in, even when the path is not a resource (for its error).
    pub fn for_path(path: &str) -> Format {
        format_of(path).map(|(_, f)| f).unwrap_or_default()
    }
}

/// Split a resource path into its stem and format: `services.json` → (`services`, JSON).
/// `None` when the path has no `.xml` or `.json` suffix.
pub fn format_of(path: &str) -> Option<(&str, Format)> {
    if let Some(stem) = path.strip_suffix(".xml") {
        Some((stem, Format::Xml))
    } else {
        path.strip_suffix(".json").map(|stem| (stem, Format::Json))
    }
}

/// An Open311 resource and method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET services.{fmt}` → [`services()`].
    ListServices,
    /// `GET services/{service_code}.{fmt}` → [`service_definition`].
    DefineService(String),
    /// `POST requests.{fmt}` → [`parse_request_form`].
    CreateRequest,
    /// `GET requests.{fmt}` → [`parse_query`], [`select`].
    ListRequests,
    /// `GET requests/{service_request_id}.{fmt}`.
    GetRequest(Ticket),
}

/// Read a request's method and path, relative to the Open311 base (`/open311/v2`), into a
/// route. Unknown paths are [`Open311Error::NotFound`]; a known path with the wrong method is
/// [`Open311Error::MethodNotAllowed`]; an id that is not a ticket cannot name a complaint, so
/// it is [`Open311Error::RequestNotFound`] without any lookup.
pub fn route(method: &str, path: &str) -> Result<(Route, Format), Open311Error> {
    let (stem, format) = format_of(path).ok_or(Open311Error::NotFound)?;
    let stem = stem.trim_start_matches('/');
    let (route, allowed): (Route, &[&str]) = match stem.split_once('/') {
        None if stem == "services" => (Route::ListServices, &["GET"]),
        None if stem == "requests" => {
            let r = if method == "POST" { Route::CreateRequest } else { Route::ListRequests };
            (r, &["GET", "POST"])
        }
        Some(("services", code)) if !code.is_empty() && !code.contains('/') => {
            (Route::DefineService(code.to_string()), &["GET"])
        }
        Some(("requests", id)) if !id.is_empty() && !id.contains('/') => {
            if method != "GET" {
                return Err(Open311Error::MethodNotAllowed(method.chars().take(16).collect()));
            }
            let ticket = Ticket::parse(id)
                .map_err(|_| Open311Error::RequestNotFound(id.chars().take(40).collect()))?;
            (Route::GetRequest(ticket), &["GET"])
        }
        _ => return Err(Open311Error::NotFound),
    };
    if !allowed.contains(&method) {
        return Err(Open311Error::MethodNotAllowed(method.chars().take(16).collect()));
    }
    Ok((route, format))
}

/// Check the optional `jurisdiction_id` of a query string or form.
pub fn check_jurisdiction(query: &str) -> Result<(), Open311Error> {
    let params = parse_urlencoded(query.as_bytes()).map_err(|_| Open311Error::MalformedForm)?;
    jurisdiction(&params)
}

pub(crate) fn jurisdiction(params: &[(String, String)]) -> Result<(), Open311Error> {
    match params.iter().find(|(k, _)| k == "jurisdiction_id") {
        Some((_, j)) if !j.trim().is_empty() && j.trim() != JURISDICTION_ID => {
            Err(Open311Error::UnknownJurisdiction(j.chars().take(64).collect()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_comes_from_the_suffix() {
        assert_eq!(format_of("services.xml"), Some(("services", Format::Xml)));
        assert_eq!(
            format_of("/requests/NTB-26-7KQ4MX.json"),
            Some(("/requests/NTB-26-7KQ4MX", Format::Json))
        );
        assert_eq!(format_of("services"), None);
        assert_eq!(format_of("services.csv"), None);
        assert_eq!(Format::for_path("services.csv"), Format::Xml);
        assert_eq!(Format::for_path("nothing.json"), Format::Json);
    }

    #[test]
    fn routes_the_five_resources() {
        let t = Ticket::number(2026, 42).unwrap();
        assert_eq!(route("GET", "/services.xml"), Ok((Route::ListServices, Format::Xml)));
        assert_eq!(
            route("GET", "services/infrastruktur.json"),
            Ok((Route::DefineService("infrastruktur".into()), Format::Json))
        );
        assert_eq!(route("POST", "/requests.json"), Ok((Route::CreateRequest, Format::Json)));
        assert_eq!(route("GET", "/requests.xml"), Ok((Route::ListRequests, Format::Xml)));
        assert_eq!(
            route("GET", &format!("/requests/{t}.json")),
            Ok((Route::GetRequest(t.clone()), Format::Json))
        );
        let sloppy = t.as_str().to_lowercase();
        assert_eq!(route("GET", &format!("/requests/{sloppy}.xml")), Ok((Route::GetRequest(t), Format::Xml)));
    }

    #[test]
    fn unknown_paths_are_not_found_and_wrong_methods_not_allowed() {
        assert_eq!(route("GET", "/services"), Err(Open311Error::NotFound));
        assert_eq!(route("GET", "/tokens/abc.xml"), Err(Open311Error::NotFound));
        assert_eq!(route("GET", "/services/a/b.xml"), Err(Open311Error::NotFound));
        assert_eq!(route("POST", "/services.xml"), Err(Open311Error::MethodNotAllowed("POST".into())));
        assert_eq!(route("DELETE", "/requests.xml"), Err(Open311Error::MethodNotAllowed("DELETE".into())));
        assert_eq!(route("GET", "/requests/12345.xml"), Err(Open311Error::RequestNotFound("12345".into())));
        assert_eq!(route("GET", "/requests/12345.xml").unwrap_err().http_status(), 404);
    }

    #[test]
    fn jurisdiction_is_optional_but_must_be_ours() {
        assert_eq!(check_jurisdiction(""), Ok(()));
        assert_eq!(check_jurisdiction("jurisdiction_id=ntbprov.go.id"), Ok(()));
        let err = check_jurisdiction("jurisdiction_id=city.example").unwrap_err();
        assert_eq!(err, Open311Error::UnknownJurisdiction("city.example".into()));
        assert_eq!(err.http_status(), 404);
    }
}
