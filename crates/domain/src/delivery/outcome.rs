//! What a provider's answer means, and when to try again.
//!
//! A 2xx means the provider accepted the message: it is never sent again, even when the
//! provider's id cannot be read from the answer (then receipts simply cannot be matched).
//! 408, 429, 5xx and transport failures are worth retrying; other 4xx are not, except for
//! the errors Meta marks transient or as rate limits, which it answers with 400 too.
//!
//! Retries back off exponentially with *full jitter* (a uniformly random delay between zero
//! and the capped exponential step), so a provider outage does not end with every queued
//! message retrying in the same second. The randomness is an input, so tests are exact.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::providers::Provider;
use crate::clock::Timestamp;

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The provider accepted the message; its id for it when the answer carried one.
    Delivered { provider_message_id: Option<String> },
    /// Try again later; not before `not_before` when the provider said so (`Retry-After`).
    Retry {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_before: Option<NotBefore>,
    },
    /// Trying again cannot help.
    Permanent { reason: String },
}

impl Outcome {
    /// The request never got an answer (DNS, connection, TLS, timeout).
    pub fn transport_error(error: &str) -> Outcome {
        Outcome::Retry { reason: format!("transport: {}", clip(error)), not_before: None }
    }
}

/// A provider's `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotBefore {
    /// This many seconds after the answer.
    Seconds(u64),
    /// This instant.
    At(Timestamp),
}

impl NotBefore {
    /// The first instant a retry may go, for an answer received at `now`.
    pub fn instant(self, now: Timestamp) -> Timestamp {
        match self {
            NotBefore::Seconds(s) => {
                Timestamp(now.0.saturating_add((s.min(i64::MAX as u64 / 1000) * 1000) as i64))
            }
            NotBefore::At(t) => t,
        }
    }

    /// Read a `Retry-After` value; `None` if it is neither form.
    pub fn parse(value: &str) -> Option<NotBefore> {
        let v = value.trim();
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            return v.parse().ok().map(NotBefore::Seconds);
        }
        http_date(v).map(NotBefore::At)
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP senders must use.
fn http_date(v: &str) -> Option<Timestamp> {
    let rest = v.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let day: u32 = day.parse().ok()?;
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let year: i32 = year.parse().ok()?;
    let hms: Vec<u32> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else { return None };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    let days = crate::clock::days_from_civil(year, month, day);
    Some(Timestamp((days * 86_400 + i64::from(*h) * 3600 + i64::from(*m) * 60 + i64::from(*s)) * 1000))
}

/// Meta error codes worth retrying although Meta answers them with 400: API unknown/service
/// (1, 2), app and user rate limits (4, 17, 32, 613), WhatsApp Business Account rate limit
/// (80007), Cloud API throughput (130429), spam and pair rate limits (131048, 131056), and
/// "something went wrong"/"service unavailable" (131000, 131016).
const META_RETRYABLE: [i64; 13] =
    [1, 2, 4, 17, 32, 613, 80007, 130429, 131000, 131016, 131048, 131056, 133016];

/// Twilio's own "too many requests" code, sometimes with a 400.
const TWILIO_RETRYABLE: [i64; 1] = [20429];

/// Read a provider's answer.
pub fn classify(provider: Provider, status: u16, headers: &[(String, String)], body: &[u8]) -> Outcome {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        let provider_message_id = match provider {
            Provider::WhatsappCloud => json
                .as_ref()
                .and_then(|v| v.pointer("/messages/0/id"))
                .and_then(Value::as_str)
                .map(str::to_string),
            Provider::Messenger | Provider::Instagram => str_field(&json, "message_id"),
            Provider::Twilio => str_field(&json, "sid"),
            Provider::SmsGateway => str_field(&json, "message_id").or_else(|| str_field(&json, "id")),
            Provider::Sendgrid => headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("x-message-id"))
                .map(|(_, v)| v.trim().to_string()),
        }
        .filter(|id| !id.is_empty());
        return Outcome::Delivered { provider_message_id };
    }
    let (code, detail) = error_detail(provider, json.as_ref());
    let reason = match (&code, &detail) {
        (Some(c), Some(d)) => format!("{} {status}: ({c}) {d}", provider.code()),
        (Some(c), None) => format!("{} {status}: ({c})", provider.code()),
        (None, Some(d)) => format!("{} {status}: {d}", provider.code()),
        (None, None) => format!("{} {status}", provider.code()),
    };
    let transient_flag =
        json.as_ref().and_then(|v| v.pointer("/error/is_transient")).and_then(Value::as_bool);
    let retryable_code = match provider {
        Provider::WhatsappCloud | Provider::Messenger | Provider::Instagram => {
            code.is_some_and(|c| META_RETRYABLE.contains(&c)) || transient_flag == Some(true)
        }
        Provider::Twilio => code.is_some_and(|c| TWILIO_RETRYABLE.contains(&c)),
        Provider::SmsGateway | Provider::Sendgrid => false,
    };
    if matches!(status, 408 | 429 | 500..=599) || retryable_code {
        let not_before = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| NotBefore::parse(v));
        Outcome::Retry { reason, not_before }
    } else {
        Outcome::Permanent { reason }
    }
}

fn str_field(json: &Option<Value>, key: &str) -> Option<String> {
    json.as_ref().and_then(|v| v.get(key)).and_then(Value::as_str).map(str::to_string)
}

fn clip(s: &str) -> String {
    s.chars().take(300).collect()
}

/// The provider's error code and message, from each provider's error shape.
fn error_detail(provider: Provider, json: Option<&Value>) -> (Option<i64>, Option<String>) {
    let Some(v) = json else { return (None, None) };
    let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(clip);
    match provider {
        // {"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}
        Provider::WhatsappCloud | Provider::Messenger | Provider::Instagram => {
            let code = v.pointer("/error/code").and_then(Value::as_i64);
            let detail = text("/error/error_data/details").or_else(|| text("/error/message"));
            (code, detail)
        }
        // {"code":21211,"message":"…","more_info":"…","status":400}
        Provider::Twilio => (v.get("code").and_then(Value::as_i64), text("/message")),
        // {"errors":[{"message","field","help"}]}
        Provider::Sendgrid => (None, text("/errors/0/message")),
        // NTB Care's gateway: {"error":"…"}
        Provider::SmsGateway => (None, text("/error")),
    }
}

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    /// Eight attempts, 30 s doubling to at most an hour: the last try comes a few hours
    /// after the first in the worst case, long enough to ride out a provider's outage,
    /// short enough that a status message is still news.
    fn default() -> Self {
        RetryPolicy { max_attempts: 8, base_delay_ms: 30_000, max_delay_ms: 3_600_000 }
    }
}

impl RetryPolicy {
    /// When to try again after `attempt` attempts (1 after the first) have failed, or `None`
    /// when they are used up and the message goes to the dead letters. The delay is
    /// `random` reduced uniformly into `0..=min(max_delay, base_delay × 2^(attempt-1))`.
    pub fn next_attempt_at(&self, attempt: u32, now: Timestamp, random: u64) -> Option<Timestamp> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exponent = attempt.saturating_sub(1).min(62);
        let step = self.base_delay_ms.saturating_mul(1u64 << exponent).min(self.max_delay_ms);
        let delay = if step == u64::MAX { random } else { random % (step + 1) };
        Some(Timestamp(now.0.saturating_add(delay.min(i64::MAX as u64) as i64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn delivered(id: &str) -> Outcome {
        Outcome::Delivered { provider_message_id: Some(id.into()) }
    }

    #[test]
    fn accepted_answers_yield_each_providers_message_id() {
        let wa = br#"{"messaging_product":"whatsapp","contacts":[{"input":"6281234567890","wa_id":"6281234567890"}],"messages":[{"id":"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ2"}]}"#;
        assert_eq!(
            classify(Provider::WhatsappCloud, 200, &[], wa),
            delivered("wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ2")
        );
        let meta = br#"{"recipient_id":"24032017593019453","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"}"#;
        assert_eq!(classify(Provider::Messenger, 200, &[], meta), delivered("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"));
        assert_eq!(classify(Provider::Instagram, 200, &[], meta), delivered("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"));
        let twilio =
            br#"{"sid":"SM1f0e8ae6ade43cb3c0ce4525424e404f","status":"accepted","num_segments":"0"}"#;
        assert_eq!(
            classify(Provider::Twilio, 201, &[], twilio),
            delivered("SM1f0e8ae6ade43cb3c0ce4525424e404f")
        );
        assert_eq!(
            classify(Provider::Sendgrid, 202, &h(&[("X-Message-Id", "W1ZqkPZqRGiJ3wOyO5bMDw")]), b""),
            delivered("W1ZqkPZqRGiJ3wOyO5bMDw")
        );
        assert_eq!(
            classify(Provider::SmsGateway, 202, &[], br#"{"id":"abc","message_id":"gammu-77"}"#),
            delivered("gammu-77")
        );
        assert_eq!(classify(Provider::SmsGateway, 200, &[], br#"{"id":"abc"}"#), delivered("abc"));
    }

    #[test]
    fn an_accepted_answer_without_an_id_is_still_delivered_never_resent() {
        for p in [Provider::WhatsappCloud, Provider::Twilio, Provider::Sendgrid, Provider::SmsGateway] {
            assert_eq!(classify(p, 200, &[], b"not json"), Outcome::Delivered { provider_message_id: None });
        }
    }

    #[test]
    fn timeouts_rate_limits_and_server_errors_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(classify(Provider::Twilio, status, &[], b""), Outcome::Retry { .. }),
                "{status}"
            );
        }
        assert!(
            matches!(Outcome::transport_error("connection refused"), Outcome::Retry { reason, .. } if reason.contains("refused"))
        );
    }

    #[test]
    fn other_client_errors_are_permanent_with_the_providers_reason() {
        let twilio =
            br#"{"code":21211,"message":"The 'To' number +62812 is not a valid phone number.","status":400}"#;
        assert_eq!(
            classify(Provider::Twilio, 400, &[], twilio),
            Outcome::Permanent {
                reason: "twilio 400: (21211) The 'To' number +62812 is not a valid phone number.".into()
            }
        );
        let sg = br#"{"errors":[{"message":"The from address does not match a verified Sender Identity.","field":"from","help":null}]}"#;
        assert!(
            matches!(classify(Provider::Sendgrid, 403, &[], sg), Outcome::Permanent { reason } if reason.contains("Sender Identity"))
        );
        assert!(matches!(
            classify(Provider::SmsGateway, 401, &[], br#"{"error":"bad signature"}"#),
            Outcome::Permanent { .. }
        ));
    }

    #[test]
    fn whatsapp_window_closed_is_permanent() {
        let body = br#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A1"}}"#;
        let Outcome::Permanent { reason } = classify(Provider::WhatsappCloud, 400, &[], body) else {
            panic!()
        };
        assert!(reason.starts_with("whatsapp-cloud 400: (131047) Message failed"), "{reason}");
    }

    #[test]
    fn meta_rate_limits_and_transient_errors_answered_with_400_are_retried() {
        let throughput = br#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."}}}"#;
        assert!(matches!(classify(Provider::WhatsappCloud, 400, &[], throughput), Outcome::Retry { .. }));
        let page_limit = br#"{"error":{"message":"Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613}}"#;
        assert!(matches!(classify(Provider::Messenger, 400, &[], page_limit), Outcome::Retry { .. }));
        let transient =
            br#"{"error":{"message":"An unexpected error has occurred.","code":999,"is_transient":true}}"#;
        assert!(matches!(classify(Provider::Instagram, 400, &[], transient), Outcome::Retry { .. }));
        let token =
            br#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190}}"#;
        assert!(matches!(classify(Provider::Messenger, 401, &[], token), Outcome::Permanent { .. }));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let p = RetryPolicy { max_attempts: 6, base_delay_ms: 1000, max_delay_ms: 5000 };
        let now = Timestamp(1_000_000);
        // The delay is uniform in 0..=step: `step` itself is the top, `step + 1` wraps to zero.
        // Steps double from 1 s and stop at the 5 s cap.
        for (attempt, step) in [(1, 1000i64), (2, 2000), (3, 4000), (4, 5000), (5, 5000)] {
            assert_eq!(p.next_attempt_at(attempt, now, step as u64), Some(Timestamp(now.0 + step)));
            assert_eq!(p.next_attempt_at(attempt, now, step as u64 + 1), Some(now));
            let any = p.next_attempt_at(attempt, now, 0xDEAD_BEEF_CAFE).unwrap();
            assert!(any >= now && any.0 <= now.0 + step);
        }
        assert_eq!(p.next_attempt_at(3, now, 4000), Some(Timestamp(now.0 + 4000)));
        assert_eq!(
            p.next_attempt_at(3, now, 4001),
            Some(now),
            "4001 mod 4001 is zero: full jitter may retry at once"
        );
        assert_eq!(p.next_attempt_at(1, now, 0), Some(now));
    }

    #[test]
    fn attempts_used_up_mean_dead_letter() {
        let p = RetryPolicy { max_attempts: 3, base_delay_ms: 1000, max_delay_ms: 60_000 };
        assert!(p.next_attempt_at(2, Timestamp(0), 7).is_some());
        assert_eq!(p.next_attempt_at(3, Timestamp(0), 7), None);
        assert_eq!(p.next_attempt_at(30, Timestamp(0), 7), None);
    }

    #[test]
    fn huge_attempt_counts_and_delays_do_not_overflow() {
        let p = RetryPolicy { max_attempts: u32::MAX, base_delay_ms: u64::MAX / 2, max_delay_ms: u64::MAX };
        let t = p.next_attempt_at(100, Timestamp(i64::MAX - 10), u64::MAX).unwrap();
        assert_eq!(t, Timestamp(i64::MAX));
    }

    #[test]
    fn a_providers_retry_after_is_read_in_seconds_or_as_an_http_date() {
        let after = |v: &str| match classify(Provider::Twilio, 429, &h(&[("Retry-After", v)]), b"") {
            Outcome::Retry { not_before, .. } => not_before,
            other => panic!("{other:?}"),
        };
        assert_eq!(after("4"), Some(NotBefore::Seconds(4)));
        assert_eq!(after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(NotBefore::At(Timestamp(784_111_777_000))));
        assert_eq!(after("soon"), None);
        assert_eq!(NotBefore::Seconds(4).instant(Timestamp(1_000)), Timestamp(5_000));
    }
}
