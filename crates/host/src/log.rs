//! The host's own log lines: one JSON object per line on stderr, the same shape for the
//! per-request line, startup, cron runs and errors, so a log collector (Loki, Fluent Bit,
//! `jq`) reads every function's process alike.
//!
//! Every line has `ts` (UTC, RFC 3339 with milliseconds), `level` (`info`, `warn`, `error`)
//! and `msg`; a request line adds `component`, `method`, `path`, `route`, `status` and
//! `duration_ms`. Example:
//!
//! ```text
//! {"ts":"2026-11-29T21:00:00.123Z","level":"info","msg":"request","component":"intake","method":"POST","path":"/api/v1/complaints","route":"/api/v1/complaints/...","status":201,"duration_ms":4.2}
//! ```
//!
//! What stays as Spin prints it, because operators and scripts read it as Spin's: the
//! `Serving …` / `Available Routes:` / `Storing … key-value data …` lines on stdout, the
//! `Error: …` line of an app refused before it serves, and a component's own stdout/stderr,
//! shown line by line after `[<component-id>] `.
//!
//! What never appears: request or response bodies, headers (so no `Authorization`,
//! `X-Tracking-Secret`, `X-Hub-Signature`, cookies), query values, and credentials in URLs.
//! A citizen may open their own tracking view with `?secret=…` or `/lacak/…?kode=…`, a
//! provider's handshake carries `hub.verify_token=…`, an Open311 client `api_key=…`: whoever
//! reads the log must learn none of them, so every URI the host logs goes through
//! [`target`] or [`url`], which keep the path and only the *names* of the query's parameters.

use std::fmt::Write as _;
use std::io::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// A field's value.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    Str(&'a str),
    Int(i64),
    Ms(f64),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Str(s)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

/// One line, without its newline.
pub fn line(level: Level, msg: &str, fields: &[(&str, Value<'_>)]) -> String {
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut out = String::with_capacity(160);
    out.push_str("{\"ts\":");
    quote(&mut out, &ts);
    out.push_str(",\"level\":");
    quote(&mut out, level.as_str());
    out.push_str(",\"msg\":");
    quote(&mut out, msg);
    for (name, value) in fields {
        out.push(',');
        quote(&mut out, name);
        out.push(':');
        match value {
            Value::Str(s) => quote(&mut out, s),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            // One decimal is enough for a request's duration; JSON has no NaN or infinity.
            Value::Ms(ms) if ms.is_finite() => {
                let _ = write!(out, "{ms:.1}");
            }
            Value::Ms(_) => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

/// Write one line to stderr (whole, so lines of concurrent requests never interleave).
pub fn emit(level: Level, msg: &str, fields: &[(&str, Value<'_>)]) {
    let mut text = line(level, msg, fields);
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

pub fn info(msg: &str, fields: &[(&str, Value<'_>)]) {
    emit(Level::Info, msg, fields)
}

pub fn warn(msg: &str, fields: &[(&str, Value<'_>)]) {
    emit(Level::Warn, msg, fields)
}

pub fn error(msg: &str, fields: &[(&str, Value<'_>)]) {
    emit(Level::Error, msg, fields)
}

/// A request target (`/path?query`) as the log shows it: the path, and of the query only the
/// parameter names (`/lacak/NTB-26-7KQ4MX?kode=AB12&lang=en` → `/lacak/NTB-26-7KQ4MX?kode&lang`).
/// A part without `=`, or a name that does not look like one, may itself be a secret
/// (`?AB12`), so it is shown as `*`.
pub fn target(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let mut out = String::with_capacity(path.len() + 1 + query.len().min(64));
    out.push_str(path);
    out.push('?');
    for (i, part) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match part.split_once('=') {
            Some((name, _)) if looks_like_a_name(name) => out.push_str(name),
            _ => out.push('*'),
        }
    }
    out
}

/// A full URL (outbound requests) as the log shows it: scheme, host, port and [`target`];
/// never the user or password of the authority (`https://user:pw@host/`).
pub fn url(uri: &http::Uri) -> String {
    let mut out = String::new();
    if let Some(scheme) = uri.scheme_str() {
        out.push_str(scheme);
        out.push_str("://");
    }
    if let Some(host) = uri.host() {
        out.push_str(host);
    }
    if let Some(port) = uri.port_u16() {
        let _ = write!(out, ":{port}");
    }
    out.push_str(&target(uri.path_and_query().map(|p| p.as_str()).unwrap_or("")));
    out
}

/// Parameter names are short words (`kode`, `hub.verify_token`, `filter[status]`); anything
/// else is treated as a value.
fn looks_like_a_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name.bytes().any(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-[]".contains(&b))
}

/// A JSON string literal.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_is_one_json_object_with_the_fields_in_order() {
        let l = line(
            Level::Info,
            "request",
            &[
                ("component", "intake".into()),
                ("path", "/a?q=\"x\"\n".into()),
                ("status", 201.into()),
                ("duration_ms", Value::Ms(4.21)),
            ],
        );
        assert!(l.starts_with("{\"ts\":\""), "{l}");
        assert!(
            l.ends_with(
                "\"level\":\"info\",\"msg\":\"request\",\"component\":\"intake\",\
                 \"path\":\"/a?q=\\\"x\\\"\\n\",\"status\":201,\"duration_ms\":4.2}"
            ),
            "{l}"
        );
        assert!(!l.contains('\n'));
    }

    #[test]
    fn query_values_never_reach_the_log_only_parameter_names() {
        assert_eq!(target("/lacak/NTB-26-7KQ4MX?kode=AB12CD"), "/lacak/NTB-26-7KQ4MX?kode");
        assert_eq!(
            target("/api/v1/complaints/NTB-26-7KQ4MX?secret=s3cr3t&lang=en"),
            "/api/v1/complaints/NTB-26-7KQ4MX?secret&lang"
        );
        assert_eq!(
            target("/webhooks/meta?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=42"),
            "/webhooks/meta?hub.mode&hub.verify_token&hub.challenge"
        );
        // A bare value, an encoded or over-long name: shown as `*`.
        assert_eq!(target("/lacak?AB12CD&x%3Dy=1&=v"), "/lacak?*&*&*");
        assert_eq!(target(&format!("/a?{}=1", "k".repeat(41))), "/a?*");
        assert_eq!(target("/a?"), "/a?*");
        assert_eq!(target("/api/v1/cases"), "/api/v1/cases");
    }

    #[test]
    fn outbound_urls_lose_their_credentials_and_query_values() {
        let u: http::Uri =
            "https://user:pw@graph.facebook.com:8443/v20.0/123/messages?access_token=EAAB".parse().unwrap();
        assert_eq!(url(&u), "https://graph.facebook.com:8443/v20.0/123/messages?access_token");
        let u: http::Uri = "http://routing.spin.internal/api/v1/routing/route".parse().unwrap();
        assert_eq!(url(&u), "http://routing.spin.internal/api/v1/routing/route");
    }

    #[test]
    fn control_characters_are_escaped_and_non_finite_durations_are_null() {
        let l = line(Level::Error, "x\u{1}", &[("duration_ms", Value::Ms(f64::NAN))]);
        assert!(l.contains("\"msg\":\"x\\u0001\""), "{l}");
        assert!(l.ends_with("\"duration_ms\":null}"), "{l}");
    }
}
