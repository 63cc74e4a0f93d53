//! LAPOR!'s wire format: requests built (method, URL, headers, body) and answers parsed.
//! A malformed answer is a [`LaporError`], never a panic.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::config::LaporConfig;
use super::status::LaporStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request to LAPOR!.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// LAPOR!'s answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a call failed, and whether LAPOR! may have acted on it anyway.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum LaporError {
    /// The request never reached LAPOR! (connection refused, DNS, denied by the host).
    #[error("LAPOR! unreachable: {0}")]
    Unreachable(String),
    /// No answer in time: LAPOR! may have acted on it.
    #[error("LAPOR! did not answer in time: {0}")]
    Timeout(String),
    #[error("LAPOR! answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    /// A success status with a body that is not the envelope we expect.
    #[error("LAPOR! answered something unreadable: {0}")]
    Malformed(String),
}

/// Whether a failed call may have taken effect on LAPOR!.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Certainly not: safe to send again.
    NotApplied,
    /// Perhaps: look before sending again.
    Unknown,
}

impl LaporError {
    pub fn delivery(&self) -> Delivery {
        match self {
            LaporError::Unreachable(_) => Delivery::NotApplied,
            // A refusal, or "unavailable" from LAPOR! or its gateway, changed nothing.
            LaporError::Status { status, .. } if *status < 500 || *status == 503 => Delivery::NotApplied,
            LaporError::Status { .. } | LaporError::Timeout(_) | LaporError::Malformed(_) => {
                Delivery::Unknown
            }
        }
    }

    /// Whether LAPOR! as a whole seems down (stop calling it for this sync).
    pub fn is_outage(&self) -> bool {
        matches!(self, LaporError::Unreachable(_) | LaporError::Timeout(_))
            || matches!(self, LaporError::Status { status, .. } if *status >= 500)
    }
}

impl LaporConfig {
    fn request(
        &self,
        method: Method,
        url: String,
        content_type: Option<String>,
        body: Vec<u8>,
    ) -> WireRequest {
        let mut headers = vec![
            (self.auth_header.name().to_string(), self.auth_value.clone()),
            ("token".to_string(), self.token.clone()),
            ("accept".to_string(), "application/json".to_string()),
        ];
        if let Some(ct) = content_type {
            headers.push(("content-type".to_string(), ct));
        }
        WireRequest { method, url, headers, body }
    }

    fn get(&self, url: String) -> WireRequest {
        self.request(Method::Get, url, None, vec![])
    }

    fn post_json(&self, url: String, body: &impl Serialize) -> WireRequest {
        let bytes = serde_json::to_vec(body).expect("requests encode");
        self.request(Method::Post, url, Some("application/json".into()), bytes)
    }

    fn post_multipart(&self, url: String, form: Multipart) -> WireRequest {
        let (content_type, body) = form.finish();
        self.request(Method::Post, url, Some(content_type), body)
    }

    /// Upload one attachment (`attachments[]`), before creating the complaint that lists it.
    pub fn upload_request(&self, file_name: &str, mime_type: &str, bytes: &[u8]) -> WireRequest {
        let mut form = Multipart::default();
        form.file("attachments[]", file_name, mime_type, bytes);
        self.post_multipart(self.url(&self.paths.upload, &[]), form)
    }

    pub fn create_request(&self, payload: &super::export::ExportPayload) -> WireRequest {
        self.post_json(self.url(&self.paths.create, &[]), payload)
    }

    pub fn detail_request(&self, lapor_id: &str) -> WireRequest {
        self.get(self.url(&self.paths.detail, &[("id", lapor_id)]))
    }

    pub fn followups_request(&self, lapor_id: &str) -> WireRequest {
        self.get(self.url(&self.paths.followups, &[("id", lapor_id)]))
    }

    /// Post NTB Care's answer as a follow-up (multipart, as the integrator does).
    pub fn followup_add_request(&self, lapor_id: &str, content: &str, is_secret: bool) -> WireRequest {
        let inst = self.institution_id.clone().unwrap_or_default();
        let mut form = Multipart::default();
        if let Some(user) = &self.user_id {
            form.text("user_id", user);
        }
        form.text("institution_from_id", &inst);
        form.text("institution_to_id", &inst);
        form.text("complaint_id", lapor_id);
        form.text("template_code", &self.template_code);
        form.text("rating", "0");
        form.text("is_secret", if is_secret { "1" } else { "0" });
        form.text("content", content);
        self.post_multipart(self.url(&self.paths.followup_add, &[]), form)
    }

    /// "Not our authority": hand the complaint to another institution.
    pub fn reject_request(&self, lapor_id: &str, target_institution_id: &str, reason: &str) -> WireRequest {
        let body = serde_json::json!({
            "is_request": 1,
            "reason": target_institution_id,
            "reason_description": reason,
            "not_authority": 1,
        });
        self.post_json(self.url(&self.paths.reject, &[("id", lapor_id)]), &body)
    }

    pub fn search_request(&self, reference: &str) -> Option<WireRequest> {
        let path = self.paths.search.as_deref()?;
        Some(self.get(self.url(path, &[("reference", reference)])))
    }

    pub fn inbox_request(&self) -> Option<WireRequest> {
        let path = self.paths.inbox.as_deref()?;
        Some(self.get(self.url(path, &[])))
    }
}

/// A `multipart/form-data` body. The boundary is derived from the content, so the same form
/// is the same bytes (golden tests), and checked not to occur in it.
#[derive(Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

/// A field's name, its file name and type if it is a file, and its bytes.
type Part = (String, Option<(String, String)>, Vec<u8>);

impl Multipart {
    pub fn text(&mut self, name: &str, value: &str) {
        self.parts.push((name.to_string(), None, value.as_bytes().to_vec()));
    }

    pub fn file(&mut self, name: &str, file_name: &str, mime_type: &str, bytes: &[u8]) {
        self.parts.push((
            name.to_string(),
            Some((file_name.to_string(), mime_type.to_string())),
            bytes.to_vec(),
        ));
    }

    /// The content type (with its boundary) and the body.
    pub fn finish(self) -> (String, Vec<u8>) {
        let mut hasher = Sha256::new();
        for (name, file, bytes) in &self.parts {
            hasher.update(name.as_bytes());
            if let Some((f, m)) = file {
                hasher.update(f.as_bytes());
                hasher.update(m.as_bytes());
            }
            hasher.update(bytes);
        }
        let digest = hasher.finalize();
        let mut boundary = crate::hex::encode(&digest[..12]);
        boundary.insert_str(0, "ntbcare-");
        while self.parts.iter().any(|(_, _, b)| contains(b, boundary.as_bytes())) {
            boundary.push('x');
        }
        let clean = |s: &str| s.replace(['"', '\r', '\n'], "_");
        let mut body = Vec::new();
        for (name, file, bytes) in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", clean(name)).as_bytes(),
                ),
                Some((file_name, mime)) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                        clean(name),
                        clean(file_name),
                        clean(mime)
                    )
                    .as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The envelope's `results`, from a successful answer.
pub fn results(resp: &WireResponse) -> Result<Value, LaporError> {
    let body = body_json(resp)?;
    match body.get("results") {
        Some(r @ Value::Object(_)) => Ok(r.clone()),
        _ => Err(LaporError::Malformed("no `results` object in the envelope".into())),
    }
}

fn body_json(resp: &WireResponse) -> Result<Value, LaporError> {
    if !(200..300).contains(&resp.status) {
        let message = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&resp.body).chars().take(200).collect());
        return Err(LaporError::Status { status: resp.status, message });
    }
    let value: Value =
        serde_json::from_slice(&resp.body).map_err(|e| LaporError::Malformed(format!("not JSON: {e}")))?;
    if !value.is_object() {
        return Err(LaporError::Malformed("the answer is not a JSON object".into()));
    }
    Ok(value)
}

/// An id that LAPOR! may send as a number or a string.
pub fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag_of(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    }
}

fn data_list(results: &Value) -> Result<&Vec<Value>, LaporError> {
    results
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| LaporError::Malformed("`results.data` is not a list".into()))
}

/// The new complaint's id. The integrator reads a top-level `complaint_id`; the envelope's
/// `results.data.id` is accepted too.
pub fn parse_created(resp: &WireResponse) -> Result<String, LaporError> {
    let body = body_json(resp)?;
    id_of(body.get("complaint_id"))
        .or_else(|| id_of(body.pointer("/results/complaint_id")))
        .or_else(|| id_of(body.pointer("/results/data/complaint_id")))
        .or_else(|| id_of(body.pointer("/results/data/id")))
        .ok_or_else(|| LaporError::Malformed("no complaint id in the answer".into()))
}

/// A complaint's detail as `GET /complaints/{id}/complaint` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaporDetail {
    pub status: LaporStatus,
    pub status_code: Option<String>,
    pub disposition_id: Option<String>,
}

pub fn parse_detail(resp: &WireResponse) -> Result<LaporDetail, LaporError> {
    let results = results(resp)?;
    let data = results
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| LaporError::Malformed("`results.data` is not an object".into()))?;
    let name = data
        .get("status_name")
        .and_then(Value::as_str)
        .ok_or_else(|| LaporError::Malformed("no `status_name`".into()))?;
    Ok(LaporDetail {
        status: LaporStatus::parse(name),
        status_code: text_of(data.get("status_code")),
        disposition_id: id_of(data.get("disposition_id")),
    })
}

/// One follow-up in LAPOR!'s thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaporFollowUp {
    /// LAPOR!'s id, or a digest of its time and content when it has none.
    pub key: String,
    /// As LAPOR! writes it, `d-m-Y H:i:s`.
    pub created_at: String,
    pub content: String,
}

pub fn parse_followups(resp: &WireResponse) -> Result<Vec<LaporFollowUp>, LaporError> {
    let results = results(resp)?;
    let mut out = Vec::new();
    for item in data_list(&results)? {
        let content = item
            .get("content")
            .and_then(Value::as_str)
            .ok_or_else(|| LaporError::Malformed("a follow-up without `content`".into()))?
            .to_string();
        let created_at = text_of(item.get("created_at")).unwrap_or_default();
        let key = id_of(item.get("id")).unwrap_or_else(|| digest(&format!("{created_at}\n{content}")));
        out.push(LaporFollowUp { key, created_at, content });
    }
    Ok(out)
}

/// One row of master data.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MasterItem {
    pub id: String,
    pub name: String,
}

pub fn parse_master(resp: &WireResponse) -> Result<Vec<MasterItem>, LaporError> {
    let results = results(resp)?;
    let mut out = Vec::new();
    for item in data_list(&results)? {
        let id =
            id_of(item.get("id")).ok_or_else(|| LaporError::Malformed("a master row without `id`".into()))?;
        let name = ["name", "topic_name", "title"]
            .iter()
            .find_map(|k| item.get(*k).and_then(Value::as_str))
            .ok_or_else(|| LaporError::Malformed(format!("master row {id} without a name")))?;
        out.push(MasterItem { id, name: name.to_string() });
    }
    Ok(out)
}

/// A LAPOR! complaint as a list (search, inbox) gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaporComplaint {
    pub id: String,
    pub title: String,
    pub content: String,
    pub category_id: Option<String>,
    pub category_name: Option<String>,
    pub location_id: Option<String>,
    pub location_name: Option<String>,
    pub disposition_id: Option<String>,
    pub status: Option<LaporStatus>,
    pub is_anonymous: bool,
    pub is_secret: bool,
}

pub fn parse_complaints(resp: &WireResponse) -> Result<Vec<LaporComplaint>, LaporError> {
    let results = results(resp)?;
    let mut out = Vec::new();
    for item in data_list(&results)? {
        let id = id_of(item.get("id").or(item.get("complaint_id")))
            .ok_or_else(|| LaporError::Malformed("a complaint without `id`".into()))?;
        let s = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let named = |k: &str| {
            s(&format!("{k}_name"))
                .or_else(|| item.pointer(&format!("/{k}/name")).and_then(Value::as_str).map(str::to_string))
        };
        out.push(LaporComplaint {
            title: s("title").unwrap_or_default(),
            content: s("content").unwrap_or_default(),
            category_id: id_of(item.get("category_id")),
            category_name: named("category"),
            location_id: id_of(item.get("location_id")),
            location_name: named("location"),
            disposition_id: id_of(item.get("disposition_id")),
            status: s("status_name").map(|n| LaporStatus::parse(&n)),
            is_anonymous: flag_of(item.get("is_anonymous")),
            is_secret: flag_of(item.get("is_secret")),
            id,
        });
    }
    Ok(out)
}

/// A short stable digest, hex.
pub fn digest(text: &str) -> String {
    crate::hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lapor::config::test_config;

    fn ok(body: &str) -> WireResponse {
        WireResponse { status: 200, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn every_request_carries_the_static_auth_headers() {
        let c = test_config("https://lapor.example");
        for r in [
            c.detail_request("9"),
            c.followup_add_request("9", "isi", false),
            c.reject_request("9", "77", "x"),
        ] {
            assert!(r.headers.contains(&("auth".into(), "rahasia-auth".into())), "{r:?}");
            assert!(r.headers.contains(&("token".into(), "rahasia-token".into())), "{r:?}");
        }
        let reject = c.reject_request("9", "77", "bukan wewenang");
        assert_eq!(reject.url, "https://lapor.example/complaints/process/9/reject");
        let body: Value = serde_json::from_slice(&reject.body).unwrap();
        assert_eq!((body["reason"].as_str(), body["not_authority"].as_i64()), (Some("77"), Some(1)));
    }

    #[test]
    fn multipart_forms_are_well_formed_and_stable() {
        let c = test_config("https://lapor.example");
        let a = c.followup_add_request("9", "Jalan sudah ditambal.", true);
        assert_eq!(a, c.followup_add_request("9", "Jalan sudah ditambal.", true));
        let ct = a.headers.iter().find(|(k, _)| k == "content-type").unwrap().1.clone();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let body = String::from_utf8(a.body).unwrap();
        assert!(body.starts_with(&format!("--{boundary}\r\n")));
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
        assert!(body.contains("name=\"is_secret\"\r\n\r\n1\r\n"), "{body}");
        assert!(body.contains("name=\"content\"\r\n\r\nJalan sudah ditambal.\r\n"));
        let up = c.upload_request("foto.jpg", "image/jpeg", b"\xff\xd8");
        assert!(
            String::from_utf8_lossy(&up.body).contains("filename=\"foto.jpg\"\r\nContent-Type: image/jpeg")
        );
    }

    #[test]
    fn the_envelope_is_read_and_malformed_answers_are_errors() {
        assert_eq!(parse_created(&ok(r#"{"complaint_id": 123, "message": "ok"}"#)).unwrap(), "123");
        assert_eq!(parse_created(&ok(r#"{"results": {"data": {"id": "abc"}}}"#)).unwrap(), "abc");
        let d = parse_detail(&ok(
            r#"{"results": {"data": {"status_name": "Dalam Proses", "status_code": 2, "disposition_id": 5200}}, "message": "ok"}"#,
        ))
        .unwrap();
        assert_eq!((d.status, d.disposition_id.as_deref()), (LaporStatus::DalamProses, Some("5200")));
        let f = parse_followups(&ok(
            r#"{"results": {"data": [{"created_at": "01-12-2026 10:00:00", "content": "Sedang dicek"}]}}"#,
        ))
        .unwrap();
        assert_eq!(f[0].content, "Sedang dicek");
        assert_eq!(f[0].key.len(), 24);
        for bad in [
            "",
            "not json",
            "[]",
            r#"{"message": "ok"}"#,
            r#"{"results": {"data": {}}}"#,
            r#"{"results": []}"#,
        ] {
            assert!(matches!(parse_detail(&ok(bad)), Err(LaporError::Malformed(_))), "{bad}");
            assert!(matches!(parse_followups(&ok(bad)), Err(LaporError::Malformed(_))), "{bad}");
            assert!(matches!(parse_master(&ok(bad)), Err(LaporError::Malformed(_))), "{bad}");
        }
        assert!(matches!(parse_created(&ok(r#"{"message": "ok"}"#)), Err(LaporError::Malformed(_))));
        let refused = WireResponse { status: 422, body: br#"{"message": "title wajib"}"#.to_vec() };
        let err = parse_created(&refused).unwrap_err();
        assert_eq!(err, LaporError::Status { status: 422, message: "title wajib".into() });
        assert_eq!(err.delivery(), Delivery::NotApplied);
        assert_eq!(LaporError::Status { status: 500, message: String::new() }.delivery(), Delivery::Unknown);
        assert_eq!(
            LaporError::Status { status: 503, message: String::new() }.delivery(),
            Delivery::NotApplied
        );
        assert_eq!(LaporError::Timeout("t".into()).delivery(), Delivery::Unknown);
    }

    #[test]
    fn complaint_lists_accept_numbers_strings_and_flags() {
        let list = parse_complaints(&ok(r#"{"results": {"data": [
            {"id": 88, "title": "Sekolah rusak", "content": "Atap SDN 2 bocor", "category_id": 436,
             "category_name": "Pendidikan", "location": {"name": "Kota Mataram"}, "is_anonymous": 1,
             "is_secret": "0", "status_name": "Dalam Proses"}]}}"#))
        .unwrap();
        let c = &list[0];
        assert_eq!((c.id.as_str(), c.category_id.as_deref()), ("88", Some("436")));
        assert_eq!(c.location_name.as_deref(), Some("Kota Mataram"));
        assert!(c.is_anonymous && !c.is_secret);
    }
}
