//! Open311's errors: typed here, written in the spec's `<errors><error>` shape.

use thiserror::Error;

use super::wire::{to_json, to_xml, Node};
use super::Format;
use crate::complaint::SubmissionError;
use crate::language::{Language, Text};

/// Why an Open311 call cannot be answered as asked. Each maps to one HTTP status
/// ([`Open311Error::http_status`]), which is also the `code` in the error document.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum Open311Error {
    /// `api_key` is absent from a POST.
    #[error("an api_key is required to submit a request")]
    MissingApiKey,
    /// The caller did not recognise the key (the domain never sees the key list).
    #[error("the api_key received is not valid")]
    InvalidApiKey,
    #[error("jurisdiction `{0}` is not served here")]
    UnknownJurisdiction(String),
    /// A required parameter is absent (`service_code`).
    #[error("parameter `{0}` is required")]
    Missing(&'static str),
    /// None of `lat`+`long`, `address_string`, `address_id` was given.
    #[error("a location is required: lat and long, address_string or address_id")]
    MissingLocation,
    /// POST names a service that does not exist.
    #[error("service code `{0}` is not a service offered here")]
    UnknownServiceCode(String),
    /// `GET services/{code}` for a service that does not exist.
    #[error("service `{0}` was not found")]
    ServiceNotFound(String),
    /// `GET requests/{id}` for an id that is not an NTB Care ticket or names no complaint.
    #[error("service request `{0}` was not found")]
    RequestNotFound(String),
    /// A parameter given more than once where the spec allows one.
    #[error("parameter `{0}` was given more than once")]
    Repeated(String),
    /// A parameter whose value cannot be read; `reason` says what was expected.
    #[error("parameter `{parameter}` is invalid: {}", reason.en)]
    InvalidParameter { parameter: String, reason: Text },
    /// The request read fine but is not a valid complaint by NTB Care's own rules.
    #[error("parameter `{parameter}` is invalid: {source}")]
    Invalid { parameter: String, source: SubmissionError },
    #[error("the body is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    #[error("the body is not a UTF-8 form")]
    MalformedForm,
    /// The path is not an Open311 resource (or lacks `.xml`/`.json`).
    #[error("no such resource")]
    NotFound,
    #[error("method {0} is not allowed on this resource")]
    MethodNotAllowed(String),
    /// Anything the caller could not do (store down, …). The cause is logged, never shown.
    #[error("internal error")]
    Internal,
}

impl Open311Error {
    pub fn http_status(&self) -> u16 {
        use Open311Error::*;
        match self {
            MissingApiKey => 401,
            InvalidApiKey => 403,
            UnknownJurisdiction(_) | ServiceNotFound(_) | RequestNotFound(_) | NotFound => 404,
            MethodNotAllowed(_) => 405,
            TooLarge { .. } => 413,
            Internal => 500,
            Missing(_)
            | MissingLocation
            | UnknownServiceCode(_)
            | Repeated(_)
            | InvalidParameter { .. }
            | Invalid { .. }
            | MalformedForm => 400,
        }
    }

    /// The description, in Bahasa Indonesia and English.
    pub fn message(&self) -> Text {
        use Open311Error::*;
        let id = match self {
            MissingApiKey => "Parameter `api_key` wajib diisi untuk mengirim pengaduan.".to_string(),
            InvalidApiKey => "Parameter `api_key` tidak dikenal.".to_string(),
            UnknownJurisdiction(j) => format!("Yurisdiksi `{j}` tidak dilayani di sini."),
            Missing(p) => format!("Parameter `{p}` wajib diisi."),
            MissingLocation => {
                "Lokasi wajib diisi: kirim `lat` dan `long`, `address_string`, atau `address_id`.".to_string()
            }
            UnknownServiceCode(c) => format!("Layanan `{c}` tidak tersedia; lihat daftar di services."),
            ServiceNotFound(c) => format!("Layanan `{c}` tidak ditemukan."),
            RequestNotFound(id) => format!("Pengaduan `{id}` tidak ditemukan."),
            Repeated(p) => format!("Parameter `{p}` dikirim lebih dari sekali."),
            InvalidParameter { parameter, reason } => {
                format!("Parameter `{parameter}` tidak sah: {}", reason.id)
            }
            Invalid { source, .. } => source.message().id,
            TooLarge { max_bytes } => format!("Isi permintaan lebih dari {max_bytes} byte."),
            MalformedForm => "Isi permintaan bukan formulir UTF-8 yang sah.".to_string(),
            NotFound => "Sumber daya tidak ditemukan.".to_string(),
            MethodNotAllowed(m) => format!("Metode {m} tidak diizinkan untuk sumber daya ini."),
            Internal => "Terjadi kesalahan internal.".to_string(),
        };
        let en = match self {
            Invalid { source, .. } => source.message().en,
            other => sentence(other.to_string()),
        };
        Text::new(sentence(id), en)
    }

    /// What a client reads, in `lang`.
    pub fn description(&self, lang: Language) -> String {
        self.message().get(lang).to_string()
    }

    /// The parameter the error is about, for logs and clients that highlight it.
    pub fn parameter(&self) -> Option<&str> {
        use Open311Error::*;
        match self {
            MissingApiKey | InvalidApiKey => Some("api_key"),
            UnknownJurisdiction(_) => Some("jurisdiction_id"),
            Missing(p) => Some(p),
            UnknownServiceCode(_) => Some("service_code"),
            Repeated(p) | InvalidParameter { parameter: p, .. } | Invalid { parameter: p, .. } => Some(p),
            _ => None,
        }
    }

    /// This error as an Open311 error document.
    pub fn render(&self, format: Format, lang: Language) -> String {
        render_errors(std::slice::from_ref(self), format, lang)
    }
}

/// Several errors as one document (the spec allows more than one `error`). The HTTP status
/// to send is the first error's.
pub fn render_errors(errors: &[Open311Error], format: Format, lang: Language) -> String {
    let doc = Node::List {
        item: "error",
        entries: errors
            .iter()
            .map(|e| {
                Node::Object(vec![
                    ("code", Node::Int(e.http_status().into())),
                    ("description", Node::Text(e.description(lang))),
                ])
            })
            .collect(),
    };
    match format {
        Format::Xml => to_xml("errors", &doc),
        Format::Json => to_json(&doc),
    }
}

fn sentence(mut s: String) -> String {
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Open311Error> {
        use Open311Error::*;
        vec![
            MissingApiKey,
            InvalidApiKey,
            UnknownJurisdiction("chicago".into()),
            Missing("service_code"),
            MissingLocation,
            UnknownServiceCode("sihir".into()),
            ServiceNotFound("sihir".into()),
            RequestNotFound("NTB-26-0000".into()),
            Repeated("lat".into()),
            InvalidParameter {
                parameter: "lat".into(),
                reason: Text::new("harus berupa angka.", "must be a number."),
            },
            Invalid { parameter: "phone".into(), source: SubmissionError::InvalidPhone("abc".into()) },
            TooLarge { max_bytes: 65536 },
            MalformedForm,
            NotFound,
            MethodNotAllowed("DELETE".into()),
            Internal,
        ]
    }

    #[test]
    fn every_error_has_a_status_and_a_sentence_in_both_languages() {
        for e in all() {
            let m = e.message();
            assert!((400..600).contains(&e.http_status()), "{e:?}");
            assert!(m.id.ends_with('.') && m.en.ends_with('.'), "{m:?}");
            assert!(!m.id.starts_with(char::is_lowercase) && !m.en.starts_with(char::is_lowercase), "{m:?}");
            assert_ne!(m.id, m.en, "{e:?}");
        }
    }

    #[test]
    fn indonesian_is_read_unless_english_is_asked_for() {
        let e = Open311Error::Missing("service_code");
        assert_eq!(e.description(Language::default()), "Parameter `service_code` wajib diisi.");
        assert_eq!(e.description(Language::En), "Parameter `service_code` is required.");
    }

    #[test]
    fn internal_errors_say_nothing_more() {
        assert_eq!(Open311Error::Internal.description(Language::En), "Internal error.");
        assert_eq!(Open311Error::Internal.http_status(), 500);
    }

    #[test]
    fn api_key_errors_use_the_specs_statuses() {
        assert_eq!(Open311Error::MissingApiKey.http_status(), 401);
        assert_eq!(Open311Error::InvalidApiKey.http_status(), 403);
    }

    #[test]
    fn an_error_description_is_escaped_in_xml() {
        let e = Open311Error::UnknownServiceCode("<b>&'\"".into());
        let xml = e.render(Format::Xml, Language::En);
        assert!(xml.contains("<description>Service code `&lt;b&gt;&amp;&apos;&quot;` is not"), "{xml}");
    }
}
