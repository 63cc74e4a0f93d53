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
    fn control_characters_are_escaped_and_non_finite_durations_are_null() {
        let l = line(Level::Error, "x\u{1}", &[("duration_ms", Value::Ms(f64::NAN))]);
        assert!(l.contains("\"msg\":\"x\\u0001\""), "{l}");
        assert!(l.ends_with("\"duration_ms\":null}"), "{l}");
    }
}
