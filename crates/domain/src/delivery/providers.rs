//! The HTTP requests each provider expects, built byte for byte; the component only sends them.
//!
//! - WhatsApp Cloud API: `POST {base}/{version}/{phone_number_id}/messages`, JSON, Bearer token;
//!   free text inside the window, an approved template outside it.
//! - Messenger Send API: `POST {base}/{version}/me/messages`, JSON
//!   `{"recipient":{"id":PSID},"messaging_type":"RESPONSE","message":{"text":…}}`.
//! - Instagram messaging: the same shape at `POST {base}/{version}/{account}/messages`
//!   (`me` with a Page token on graph.facebook.com, or the professional account id with an
//!   Instagram-login token on graph.instagram.com).
//! - Twilio SMS: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
//!   `To`, `From` or `MessagingServiceSid`, `Body`; HTTP Basic `AccountSid:AuthToken`.
//! - NTB Care's SMS gateway: `POST {url}`, JSON `{"id","to","text"}`, signed like the inbound
//!   format of `channels::sms_gateway` (`X-NTBCare-Timestamp`, `X-NTBCare-Signature`).
//! - SendGrid v3: `POST {base}/v3/mail/send`, JSON, Bearer API key.
//!
//! Tokens always travel in the `Authorization` header, never in the URL (Meta's examples put
//! `access_token` in the query string, where it ends up in every proxy and access log).
//! Bodies are serialised from structs, so field order is fixed whatever serde_json features
//! another crate turns on, and the golden files in `tests/fixtures/delivery/` stay exact.
//!
//! # Idempotency
//! Each request is keyed by the outbox message id, which is stable across retries. Only NTB
//! Care's gateway deduplicates on it (`id`). WhatsApp (`biz_opaque_callback_data`), Messenger
//! (`message.metadata`) and SendGrid (`custom_args`) echo it back in their receipts and events,
//! so a duplicate can be recognised but not prevented. Twilio's Messages API and Instagram
//! have no field for it at all. Where nothing deduplicates, a retry after an ambiguous
//! failure (a timeout once the request was sent) may deliver twice. NTB Care accepts that:
//! a repeated status message is better than a lost one. [`Idempotency`] records which case
//! applies to each request.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::templates::WhatsappTemplateMessage;
use crate::channels::sms_gateway::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::clock::Timestamp;
use crate::complaint::Channel;

/// An HTTP request to make, exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ProviderRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Who carries a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    WhatsappCloud,
    Messenger,
    Instagram,
    Twilio,
    SmsGateway,
    Sendgrid,
}

impl Provider {
    pub fn code(self) -> &'static str {
        match self {
            Provider::WhatsappCloud => "whatsapp-cloud",
            Provider::Messenger => "messenger",
            Provider::Instagram => "instagram",
            Provider::Twilio => "twilio",
            Provider::SmsGateway => "sms-gateway",
            Provider::Sendgrid => "sendgrid",
        }
    }
}

/// How a retried request is recognised (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// The provider drops a second request carrying the same key.
    Deduplicated { key: String, field: &'static str },
    /// The provider echoes the key in receipts and events, but sends a repeat.
    Echoed { key: String, field: &'static str },
    /// The provider's API has no place for a key.
    Unsupported { why: &'static str },
}

/// A request and what is known about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub provider: Provider,
    pub request: ProviderRequest,
    pub idempotency: Idempotency,
}

/// WhatsApp Cloud API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatsappConfig {
    /// `https://graph.facebook.com`
    pub base_url: String,
    /// `v21.0`
    pub api_version: String,
    pub phone_number_id: String,
    pub access_token: String,
}

/// Messenger (a Page) or Instagram (a professional account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaMessagingConfig {
    /// `https://graph.facebook.com` (or `https://graph.instagram.com` for Instagram login).
    pub base_url: String,
    pub api_version: String,
    /// `me` with a Page token; the Instagram account id with an Instagram-login token.
    pub sender: String,
    pub access_token: String,
}

/// Who Twilio sends as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TwilioSender {
    /// A number or alphanumeric sender id (`From`).
    From(String),
    /// A Messaging Service, which picks the sender (`MessagingServiceSid`, `MG…`).
    MessagingService(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwilioConfig {
    /// `https://api.twilio.com`
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub sender: TwilioSender,
    /// Where Twilio reports delivery (`StatusCallback`), if anywhere.
    pub status_callback: Option<String>,
}

/// NTB Care's own SMS gateway (a Gammu SMSD bridge or a local provider adapter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The gateway's send endpoint.
    pub url: String,
    /// The shared secret, the same one the gateway signs inbound SMS with.
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsConfig {
    Twilio(TwilioConfig),
    Gateway(GatewayConfig),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendgridConfig {
    /// `https://api.sendgrid.com` (or `https://api.eu.sendgrid.com`).
    pub base_url: String,
    pub api_key: String,
    pub from_email: String,
    pub from_name: String,
    pub reply_to: Option<String>,
}

/// Every provider NTB Care may use; `None` for one it does not. The component fills it from
/// Spin variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    pub whatsapp: Option<WhatsappConfig>,
    pub messenger: Option<MetaMessagingConfig>,
    pub instagram: Option<MetaMessagingConfig>,
    pub sms: Option<SmsConfig>,
    pub email: Option<SendgridConfig>,
}

impl ProviderConfig {
    /// The channels NTB Care can send on, for [`super::route::RouteInput::enabled`].
    pub fn enabled_channels(&self) -> Vec<Channel> {
        [
            (Channel::Whatsapp, self.whatsapp.is_some()),
            (Channel::Facebook, self.messenger.is_some()),
            (Channel::Instagram, self.instagram.is_some()),
            (Channel::Sms, self.sms.is_some()),
            (Channel::Email, self.email.is_some()),
        ]
        .into_iter()
        .filter_map(|(c, on)| on.then_some(c))
        .collect()
    }
}

// --- Which providers are on ----------------------------------------------------------------

/// Whether a provider may be called (see [`configure`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Readiness {
    /// Every setting it needs to send is there: it is called.
    On,
    /// Complete, but `sms_provider` chose the other SMS provider: not called.
    Standby,
    /// Some of its settings are given, not all: never called, and reported.
    Incomplete { missing: Vec<&'static str> },
    /// Nothing of it is configured.
    Off,
}

/// A provider and whether it is on, for the start-up log and the administrator's view.
/// Names settings, never their values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderStatus {
    pub provider: Provider,
    pub channel: Channel,
    #[serde(flatten)]
    pub readiness: Readiness,
}

/// The providers to call, and every provider's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configured {
    pub config: ProviderConfig,
    pub status: Vec<ProviderStatus>,
}

impl Configured {
    /// The providers some but not all of whose settings are given.
    pub fn incomplete(&self) -> impl Iterator<Item = (Provider, &[&'static str])> {
        self.status.iter().filter_map(|s| match &s.readiness {
            Readiness::Incomplete { missing } => Some((s.provider, missing.as_slice())),
            _ => None,
        })
    }
}

/// A base URL NTB Care could actually reach: `http(s)://host[:port]`, the host not under a
/// name reserved never to resolve (`.invalid`, `.example`, RFC 2606/6761). A placeholder
/// such as `https://sms-gateway.invalid` is not a configuration.
pub fn is_real_base_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        Some(v6) => match v6.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => return false,
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return false;
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    !host.is_empty()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && !["invalid", "example"].iter().any(|tld| host == *tld || host.ends_with(&format!(".{tld}")))
}

/// One provider's settings, read and checked.
struct Check<'a> {
    get: &'a dyn Fn(&str) -> String,
    missing: Vec<&'static str>,
    /// Whether any setting without a usable default was given.
    touched: bool,
}

impl<'a> Check<'a> {
    fn new(get: &'a dyn Fn(&str) -> String) -> Self {
        Check { get, missing: Vec::new(), touched: false }
    }

    fn value(&self, name: &str) -> String {
        (self.get)(name).trim().to_string()
    }

    /// A setting the operator must give (a credential, an account or sender id).
    fn required(&mut self, name: &'static str) -> String {
        let v = self.value(name);
        if v.is_empty() {
            self.missing.push(name);
        } else {
            self.touched = true;
        }
        v
    }

    /// One of two settings (a Twilio sender: Messaging Service or number).
    fn either(&mut self, first: &'static str, second: &'static str, label: &'static str) -> (String, String) {
        let (a, b) = (self.value(first), self.value(second));
        if a.is_empty() && b.is_empty() {
            self.missing.push(label);
        } else {
            self.touched = true;
        }
        (a, b)
    }

    /// A setting that has a default (a base URL, an API version): missing when unusable,
    /// but giving it alone does not turn a provider on.
    fn defaulted(&mut self, name: &'static str, usable: impl Fn(&str) -> bool) -> String {
        let v = self.value(name);
        if !usable(&v) {
            self.missing.push(name);
        }
        v
    }

    fn base_url(&mut self, name: &'static str) -> String {
        self.defaulted(name, is_real_base_url)
    }

    fn finish<T>(self, build: impl FnOnce() -> T) -> (Option<T>, Readiness) {
        match (self.touched, self.missing.is_empty()) {
            (false, _) => (None, Readiness::Off),
            (true, true) => (Some(build()), Readiness::On),
            (true, false) => (None, Readiness::Incomplete { missing: self.missing }),
        }
    }
}

fn nonempty(v: &str) -> bool {
    !v.is_empty()
}

/// Which providers are on, from their settings (Spin variables, by name; an unknown name
/// reads as empty). A provider is on only when *everything* it needs to send is given:
///
/// | provider | needs |
/// |---|---|
/// | WhatsApp Cloud API | `whatsapp_access_token`, `whatsapp_phone_number_id`, `whatsapp_api_base_url`, `meta_api_version` |
/// | Messenger | `messenger_page_access_token`, `messenger_api_base_url`, `meta_api_version` |
/// | Instagram | `instagram_access_token`, `instagram_account_id`, `instagram_api_base_url`, `meta_api_version` |
/// | Twilio | `twilio_account_sid`, `twilio_auth_token`, `twilio_messaging_service_sid` or `twilio_from`, `twilio_api_base_url` |
/// | SMS gateway | `sms_gateway_secret`, `sms_gateway_base_url`, `sms_gateway_send_path` |
/// | SendGrid | `sendgrid_api_key`, `mail_from_email`, `sendgrid_api_base_url` |
///
/// A base URL must be real ([`is_real_base_url`]). A provider none of whose credentials or
/// ids are given is off; one with some but not all is incomplete and never called (Twilio's
/// auth token alone verifies inbound webhooks; it does not make Twilio a sender). Of the two
/// SMS providers, `sms_provider` (`twilio`, `gateway`) chooses; empty means Twilio when it is
/// on, else the gateway.
pub fn configure(get: &dyn Fn(&str) -> String) -> Configured {
    let mut status = Vec::new();
    let mut note =
        |provider, channel, readiness| status.push(ProviderStatus { provider, channel, readiness });

    let mut c = Check::new(get);
    let access_token = c.required("whatsapp_access_token");
    let phone_number_id = c.required("whatsapp_phone_number_id");
    let base_url = c.base_url("whatsapp_api_base_url");
    let api_version = c.defaulted("meta_api_version", nonempty);
    let (whatsapp, r) = c.finish(|| WhatsappConfig { base_url, api_version, phone_number_id, access_token });
    note(Provider::WhatsappCloud, Channel::Whatsapp, r);

    let mut c = Check::new(get);
    let access_token = c.required("messenger_page_access_token");
    let base_url = c.base_url("messenger_api_base_url");
    let api_version = c.defaulted("meta_api_version", nonempty);
    let (messenger, r) =
        c.finish(|| MetaMessagingConfig { base_url, api_version, sender: "me".into(), access_token });
    note(Provider::Messenger, Channel::Facebook, r);

    let mut c = Check::new(get);
    let access_token = c.required("instagram_access_token");
    let sender = c.defaulted("instagram_account_id", nonempty);
    let base_url = c.base_url("instagram_api_base_url");
    let api_version = c.defaulted("meta_api_version", nonempty);
    let (instagram, r) = c.finish(|| MetaMessagingConfig { base_url, api_version, sender, access_token });
    note(Provider::Instagram, Channel::Instagram, r);

    let mut c = Check::new(get);
    let account_sid = c.required("twilio_account_sid");
    let auth_token = c.required("twilio_auth_token");
    let (service, from) = c.either(
        "twilio_messaging_service_sid",
        "twilio_from",
        "twilio_messaging_service_sid or twilio_from",
    );
    let base_url = c.base_url("twilio_api_base_url");
    let status_callback = Some(c.value("twilio_status_callback_url")).filter(|v| !v.is_empty());
    let (twilio, twilio_r) = c.finish(|| TwilioConfig {
        base_url,
        account_sid,
        auth_token,
        sender: if service.is_empty() {
            TwilioSender::From(from)
        } else {
            TwilioSender::MessagingService(service)
        },
        status_callback,
    });

    let mut c = Check::new(get);
    let secret = c.required("sms_gateway_secret");
    let base = c.base_url("sms_gateway_base_url");
    let path = c.defaulted("sms_gateway_send_path", nonempty);
    let (gateway, gateway_r) = c.finish(|| GatewayConfig {
        url: format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')),
        secret,
    });

    let choice = get("sms_provider").trim().to_ascii_lowercase();
    let use_twilio = match choice.as_str() {
        "twilio" => true,
        "gateway" => false,
        _ => twilio.is_some(),
    };
    let standby = |r: Readiness, used: bool| if r == Readiness::On && !used { Readiness::Standby } else { r };
    let sms = if use_twilio { twilio.map(SmsConfig::Twilio) } else { gateway.map(SmsConfig::Gateway) };
    note(Provider::Twilio, Channel::Sms, standby(twilio_r, use_twilio));
    note(Provider::SmsGateway, Channel::Sms, standby(gateway_r, !use_twilio));

    let mut c = Check::new(get);
    let api_key = c.required("sendgrid_api_key");
    let from_email = c.required("mail_from_email");
    let base_url = c.base_url("sendgrid_api_base_url");
    let from_name = c.value("mail_from_name");
    let reply_to = Some(c.value("mail_reply_to")).filter(|v| !v.is_empty());
    // The sender address has a default in spin.toml: on its own it configures nothing.
    c.touched = !api_key.is_empty();
    let (email, r) = c.finish(|| SendgridConfig { base_url, api_key, from_email, from_name, reply_to });
    note(Provider::Sendgrid, Channel::Email, r);

    Configured { config: ProviderConfig { whatsapp, messenger, instagram, sms, email }, status }
}

fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("request bodies encode")
}

fn bearer(token: &str) -> (String, String) {
    ("Authorization".into(), format!("Bearer {token}"))
}

fn content_type(value: &str) -> (String, String) {
    ("Content-Type".into(), value.into())
}

// --- WhatsApp ------------------------------------------------------------------------------

#[derive(Serialize)]
struct WaMessage<'a, B: Serialize> {
    messaging_product: &'static str,
    recipient_type: &'static str,
    to: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: B,
    biz_opaque_callback_data: &'a str,
}

#[derive(Serialize)]
struct WaTextBody<'a> {
    text: WaText<'a>,
}

#[derive(Serialize)]
struct WaText<'a> {
    /// Off: a preview makes WhatsApp fetch the link, and a tracking link carries a secret.
    preview_url: bool,
    body: &'a str,
}

#[derive(Serialize)]
struct WaTemplateBody<'a> {
    template: WaTemplate<'a>,
}

#[derive(Serialize)]
struct WaTemplate<'a> {
    name: &'a str,
    language: WaLanguage<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<WaComponent<'a>>,
}

#[derive(Serialize)]
struct WaLanguage<'a> {
    policy: &'static str,
    code: &'a str,
}

#[derive(Serialize)]
struct WaComponent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    parameters: Vec<WaParameter<'a>>,
}

#[derive(Serialize)]
struct WaParameter<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

/// A WhatsApp `to`: the wa_id's digits (an E.164 number loses its `+`).
fn wa_to(to: &str) -> &str {
    to.trim().trim_start_matches('+')
}

fn whatsapp_request<B: Serialize>(
    cfg: &WhatsappConfig,
    message_id: &str,
    to: &str,
    kind: &'static str,
    body: B,
) -> Outbound {
    let message = WaMessage {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: wa_to(to),
        kind,
        body,
        biz_opaque_callback_data: message_id,
    };
    Outbound {
        provider: Provider::WhatsappCloud,
        request: ProviderRequest {
            method: "POST".into(),
            url: join(&cfg.base_url, &format!("{}/{}/messages", cfg.api_version, cfg.phone_number_id)),
            headers: vec![bearer(&cfg.access_token), content_type("application/json")],
            body: json(&message),
        },
        idempotency: Idempotency::Echoed { key: message_id.into(), field: "biz_opaque_callback_data" },
    }
}

/// Free text on WhatsApp (inside the 24-hour window).
pub fn whatsapp_text(cfg: &WhatsappConfig, message_id: &str, to: &str, text: &str) -> Outbound {
    whatsapp_request(
        cfg,
        message_id,
        to,
        "text",
        WaTextBody { text: WaText { preview_url: false, body: text } },
    )
}

/// An approved template on WhatsApp (outside the window).
pub fn whatsapp_template(
    cfg: &WhatsappConfig,
    message_id: &str,
    to: &str,
    template: &WhatsappTemplateMessage,
) -> Outbound {
    let parameters: Vec<WaParameter<'_>> =
        template.parameters.iter().map(|p| WaParameter { kind: "text", text: p }).collect();
    let components =
        if parameters.is_empty() { Vec::new() } else { vec![WaComponent { kind: "body", parameters }] };
    let body = WaTemplateBody {
        template: WaTemplate {
            name: &template.name,
            language: WaLanguage { policy: "deterministic", code: template.language_code },
            components,
        },
    };
    whatsapp_request(cfg, message_id, to, "template", body)
}

// --- Messenger and Instagram ----------------------------------------------------------------

#[derive(Serialize)]
struct MetaSend<'a> {
    recipient: MetaRecipient<'a>,
    messaging_type: &'static str,
    message: MetaMessage<'a>,
}

#[derive(Serialize)]
struct MetaRecipient<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct MetaMessage<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a str>,
}

fn meta_send(
    cfg: &MetaMessagingConfig,
    recipient: &str,
    text: &str,
    metadata: Option<&str>,
) -> ProviderRequest {
    let body = MetaSend {
        recipient: MetaRecipient { id: recipient.trim() },
        // A reply to a person who wrote within the window; NTB Care never sends otherwise.
        messaging_type: "RESPONSE",
        message: MetaMessage { text, metadata },
    };
    ProviderRequest {
        method: "POST".into(),
        url: join(&cfg.base_url, &format!("{}/{}/messages", cfg.api_version, cfg.sender)),
        headers: vec![bearer(&cfg.access_token), content_type("application/json")],
        body: json(&body),
    }
}

/// Free text on Messenger to a page-scoped id (inside the window).
pub fn messenger_text(cfg: &MetaMessagingConfig, message_id: &str, psid: &str, text: &str) -> Outbound {
    Outbound {
        provider: Provider::Messenger,
        request: meta_send(cfg, psid, text, Some(message_id)),
        idempotency: Idempotency::Echoed { key: message_id.into(), field: "message.metadata" },
    }
}

/// Free text on Instagram to an Instagram-scoped id (inside the window).
pub fn instagram_text(cfg: &MetaMessagingConfig, igsid: &str, text: &str) -> Outbound {
    Outbound {
        provider: Provider::Instagram,
        request: meta_send(cfg, igsid, text, None),
        idempotency: Idempotency::Unsupported {
            why: "Instagram's send API has no idempotency key or metadata field",
        },
    }
}

// --- Twilio ---------------------------------------------------------------------------------

/// `application/x-www-form-urlencoded`, as browsers and Twilio's libraries encode it: letters,
/// digits and `*-._` kept, space as `+`, everything else `%XX` of its UTF-8 bytes.
pub fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    fn encode(s: &str, out: &mut String) {
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode(name, &mut out);
        out.push('=');
        encode(value, &mut out);
    }
    out
}

/// An SMS through Twilio.
pub fn twilio_sms(cfg: &TwilioConfig, to: &str, text: &str) -> Outbound {
    let mut pairs: Vec<(&str, &str)> = vec![("To", to.trim())];
    match &cfg.sender {
        TwilioSender::From(from) => pairs.push(("From", from)),
        TwilioSender::MessagingService(sid) => pairs.push(("MessagingServiceSid", sid)),
    }
    pairs.push(("Body", text));
    if let Some(callback) = &cfg.status_callback {
        pairs.push(("StatusCallback", callback));
    }
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", cfg.account_sid, cfg.auth_token));
    Outbound {
        provider: Provider::Twilio,
        request: ProviderRequest {
            method: "POST".into(),
            url: join(&cfg.base_url, &format!("2010-04-01/Accounts/{}/Messages.json", cfg.account_sid)),
            headers: vec![
                ("Authorization".into(), format!("Basic {credentials}")),
                content_type("application/x-www-form-urlencoded"),
            ],
            body: form_urlencode(&pairs).into_bytes(),
        },
        idempotency: Idempotency::Unsupported {
            why: "Twilio's Messages API accepts no idempotency key: a retry after a timeout may send twice",
        },
    }
}

// --- NTB Care's SMS gateway ----------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct GatewayOutbound<'a> {
    id: &'a str,
    to: &'a str,
    text: &'a str,
}

/// `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`): the scheme
/// `channels::sms_gateway::verify_signature` checks on inbound requests, so the gateway
/// verifies NTB Care's requests with the same code it signs its own with. (The channels
/// module keeps its signer private to its tests; this is the one outbound signer.)
pub fn sign_gateway_request(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex = crate::hex::encode(&mac.finalize().into_bytes());
    format!("sha256={hex}")
}

/// An SMS through NTB Care's gateway, signed at `now`.
pub fn gateway_sms(cfg: &GatewayConfig, message_id: &str, to: &str, text: &str, now: Timestamp) -> Outbound {
    let body = json(&GatewayOutbound { id: message_id, to: to.trim(), text });
    let timestamp = now.0.div_euclid(1000).to_string();
    let signature = sign_gateway_request(&cfg.secret, &timestamp, &body);
    Outbound {
        provider: Provider::SmsGateway,
        request: ProviderRequest {
            method: "POST".into(),
            url: cfg.url.clone(),
            headers: vec![
                content_type("application/json"),
                (TIMESTAMP_HEADER.into(), timestamp),
                (SIGNATURE_HEADER.into(), signature),
            ],
            body,
        },
        idempotency: Idempotency::Deduplicated { key: message_id.into(), field: "id" },
    }
}

// --- SendGrid -------------------------------------------------------------------------------

/// The `custom_args` key carrying the outbox message id, echoed in SendGrid's event webhook.
pub const SENDGRID_MESSAGE_ID_ARG: &str = "ntbcare_message_id";

#[derive(Serialize)]
struct SgMail<'a> {
    personalizations: [SgPersonalization<'a>; 1],
    from: SgAddress<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<SgAddress<'a>>,
    subject: &'a str,
    content: [SgContent<'a>; 1],
    custom_args: SgCustomArgs<'a>,
}

#[derive(Serialize)]
struct SgPersonalization<'a> {
    to: [SgAddress<'a>; 1],
}

#[derive(Serialize)]
struct SgAddress<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct SgContent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct SgCustomArgs<'a> {
    ntbcare_message_id: &'a str,
}

/// A plain-text e-mail through SendGrid.
pub fn sendgrid_mail(
    cfg: &SendgridConfig,
    message_id: &str,
    to: &str,
    subject: &str,
    text: &str,
) -> Outbound {
    let mail = SgMail {
        personalizations: [SgPersonalization { to: [SgAddress { email: to.trim(), name: None }] }],
        from: SgAddress {
            email: &cfg.from_email,
            name: Some(cfg.from_name.as_str()).filter(|n| !n.is_empty()),
        },
        reply_to: cfg.reply_to.as_deref().map(|email| SgAddress { email, name: None }),
        subject,
        content: [SgContent { kind: "text/plain", value: text }],
        custom_args: SgCustomArgs { ntbcare_message_id: message_id },
    };
    Outbound {
        provider: Provider::Sendgrid,
        request: ProviderRequest {
            method: "POST".into(),
            url: join(&cfg.base_url, "v3/mail/send"),
            headers: vec![bearer(&cfg.api_key), content_type("application/json")],
            body: json(&mail),
        },
        idempotency: Idempotency::Echoed { key: message_id.into(), field: "custom_args.ntbcare_message_id" },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::channels::sms_gateway;
    use crate::delivery::golden::assert_golden;

    /// 2026-11-29T09:30:00+08:00.
    pub(crate) const NOW: Timestamp = Timestamp(1_795_915_800_000);
    pub(crate) const MESSAGE_ID: &str = "5d1e0c3b9a7f42e8b6c1d0a9e8f7a6b5";

    pub(crate) fn config() -> ProviderConfig {
        ProviderConfig {
            whatsapp: Some(WhatsappConfig {
                base_url: "https://graph.facebook.com".into(),
                api_version: "v21.0".into(),
                phone_number_id: "106540352242922".into(),
                access_token: "EAAtestWhatsappToken".into(),
            }),
            messenger: Some(MetaMessagingConfig {
                base_url: "https://graph.facebook.com".into(),
                api_version: "v21.0".into(),
                sender: "me".into(),
                access_token: "EAAtestPageToken".into(),
            }),
            instagram: Some(MetaMessagingConfig {
                base_url: "https://graph.instagram.com/".into(),
                api_version: "v21.0".into(),
                sender: "17841400000000000".into(),
                access_token: "IGtestToken".into(),
            }),
            sms: Some(SmsConfig::Twilio(TwilioConfig {
                base_url: "https://api.twilio.com".into(),
                account_sid: "ACtest0000000000000000000000000000".into(),
                auth_token: "test-auth-token".into(),
                sender: TwilioSender::MessagingService("MGtest0000000000000000000000000000".into()),
                status_callback: Some("https://care.ntbprov.go.id/api/v1/notifications/twilio/status".into()),
            })),
            email: Some(SendgridConfig {
                base_url: "https://api.sendgrid.com".into(),
                api_key: "SG.test-key".into(),
                from_email: "noreply@care.ntbprov.go.id".into(),
                from_name: "NTB Care".into(),
                reply_to: None,
            }),
        }
    }

    fn gateway() -> GatewayConfig {
        GatewayConfig {
            url: "https://sms-gw.ntbprov.go.id/api/send".into(),
            secret: "gateway-test-secret".into(),
        }
    }

    const TEXT: &str = "Status aduan NTB-26-7KQ4MX kini: Sedang ditindaklanjuti. Rincian di https://care.ntbprov.go.id/t/NTB-26-7KQ4MX";

    #[test]
    fn whatsapp_text_request_matches_golden() {
        let out = whatsapp_text(config().whatsapp.as_ref().unwrap(), MESSAGE_ID, "+6281234567890", TEXT);
        assert_golden("whatsapp_text.http", &out.request);
        assert_eq!(
            out.idempotency,
            Idempotency::Echoed { key: MESSAGE_ID.into(), field: "biz_opaque_callback_data" }
        );
    }

    #[test]
    fn whatsapp_template_request_matches_golden() {
        let template = WhatsappTemplateMessage {
            name: "ntbcare_status_changed".into(),
            language_code: "id",
            parameters: vec![
                "NTB-26-7KQ4MX".into(),
                "Sedang ditindaklanjuti".into(),
                "https://care.ntbprov.go.id/t/NTB-26-7KQ4MX".into(),
            ],
        };
        let out =
            whatsapp_template(config().whatsapp.as_ref().unwrap(), MESSAGE_ID, "6281234567890", &template);
        assert_golden("whatsapp_template.http", &out.request);
        let body: serde_json::Value = serde_json::from_slice(&out.request.body).unwrap();
        assert_eq!(body["template"]["components"][0]["parameters"][1]["text"], "Sedang ditindaklanjuti");
    }

    #[test]
    fn messenger_request_matches_golden() {
        let out = messenger_text(config().messenger.as_ref().unwrap(), MESSAGE_ID, "24032017593019453", TEXT);
        assert_golden("messenger_text.http", &out.request);
        assert!(!out.request.url.contains("access_token"), "tokens stay out of URLs");
    }

    #[test]
    fn instagram_request_matches_golden() {
        let out = instagram_text(config().instagram.as_ref().unwrap(), "1134567890123456", TEXT);
        assert_golden("instagram_text.http", &out.request);
        assert!(matches!(out.idempotency, Idempotency::Unsupported { .. }));
    }

    #[test]
    fn twilio_request_matches_golden() {
        let Some(SmsConfig::Twilio(cfg)) = config().sms else { panic!() };
        let out =
            twilio_sms(&cfg, "+6281234567890", "NTB Care: aduan NTB-26-7KQ4MX kini Selesai & ditutup. 100%");
        assert_golden("twilio_sms.http", &out.request);
        assert!(matches!(out.idempotency, Idempotency::Unsupported { .. }));
        // The form decodes back to what was meant.
        let pairs = crate::channels::parse_urlencoded(&out.request.body).unwrap();
        assert_eq!(pairs[0], ("To".into(), "+6281234567890".into()));
        assert_eq!(pairs[2].1, "NTB Care: aduan NTB-26-7KQ4MX kini Selesai & ditutup. 100%");
    }

    #[test]
    fn twilio_can_send_from_a_number_without_a_callback() {
        let cfg = TwilioConfig {
            base_url: "https://api.twilio.com/".into(),
            account_sid: "AC1".into(),
            auth_token: "t".into(),
            sender: TwilioSender::From("+15005550006".into()),
            status_callback: None,
        };
        let out = twilio_sms(&cfg, "+6281", "hi");
        assert_eq!(out.request.url, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json");
        assert_eq!(
            String::from_utf8(out.request.body.clone()).unwrap(),
            "To=%2B6281&From=%2B15005550006&Body=hi"
        );
        assert_eq!(out.request.header("authorization"), Some("Basic QUMxOnQ="));
    }

    #[test]
    fn gateway_request_matches_golden_and_verifies_with_the_inbound_checker() {
        let cfg = gateway();
        let out =
            gateway_sms(&cfg, MESSAGE_ID, "+6281234567890", "NTB Care: aduan NTB-26-7KQ4MX diterima.", NOW);
        assert_golden("sms_gateway.http", &out.request);
        assert_eq!(out.idempotency, Idempotency::Deduplicated { key: MESSAGE_ID.into(), field: "id" });
        // The gateway checks NTB Care's request exactly as intake checks the gateway's.
        let r = &out.request;
        assert_eq!(
            sms_gateway::verify_signature(
                &r.body,
                r.header(SIGNATURE_HEADER),
                r.header(TIMESTAMP_HEADER),
                &cfg.secret,
                NOW
            ),
            Ok(())
        );
        assert!(sms_gateway::verify_signature(
            &r.body,
            r.header(SIGNATURE_HEADER),
            r.header(TIMESTAMP_HEADER),
            "other",
            NOW
        )
        .is_err());
    }

    #[test]
    fn sendgrid_request_matches_golden() {
        let out = sendgrid_mail(
            config().email.as_ref().unwrap(),
            MESSAGE_ID,
            "warga@example.org",
            "Status aduan NTB-26-7KQ4MX: Sedang ditindaklanjuti",
            TEXT,
        );
        assert_golden("sendgrid_mail.http", &out.request);
        assert_eq!(
            out.idempotency,
            Idempotency::Echoed { key: MESSAGE_ID.into(), field: "custom_args.ntbcare_message_id" }
        );
    }

    #[test]
    fn form_encoding_follows_the_html_rules() {
        assert_eq!(form_urlencode(&[("a b", "x+y/z~é")]), "a+b=x%2By%2Fz%7E%C3%A9");
        assert_eq!(form_urlencode(&[("k", "*-._")]), "k=*-._");
    }

    /// spin.toml's defaults, plus `given`.
    fn settings(given: &[(&str, &str)]) -> Configured {
        let defaults = [
            ("meta_api_version", "v21.0"),
            ("whatsapp_api_base_url", "https://graph.facebook.com"),
            ("messenger_api_base_url", "https://graph.facebook.com"),
            ("instagram_api_base_url", "https://graph.instagram.com"),
            ("instagram_account_id", "me"),
            ("twilio_api_base_url", "https://api.twilio.com"),
            ("sms_gateway_base_url", "https://sms-gateway.invalid"),
            ("sms_gateway_send_path", "/api/send"),
            ("sendgrid_api_base_url", "https://api.sendgrid.com"),
            ("mail_from_email", "noreply@care.ntbprov.go.id"),
            ("mail_from_name", "NTB Care"),
        ];
        let map: std::collections::HashMap<String, String> =
            defaults.iter().chain(given).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        configure(&|name| map.get(name).cloned().unwrap_or_default())
    }

    fn readiness(c: &Configured, provider: Provider) -> Readiness {
        c.status.iter().find(|s| s.provider == provider).unwrap().readiness.clone()
    }

    #[test]
    fn nothing_configured_is_every_provider_off() {
        let c = settings(&[]);
        assert_eq!(c.config, ProviderConfig::default());
        assert!(c.status.iter().all(|s| s.readiness == Readiness::Off), "{:?}", c.status);
        assert_eq!(c.status.len(), 6);
    }

    #[test]
    fn a_twilio_auth_token_alone_is_incomplete_and_names_what_is_missing() {
        let c = settings(&[("twilio_auth_token", "verifies-inbound-only")]);
        assert_eq!(c.config.sms, None, "never called");
        assert_eq!(
            readiness(&c, Provider::Twilio),
            Readiness::Incomplete {
                missing: vec!["twilio_account_sid", "twilio_messaging_service_sid or twilio_from"]
            }
        );
        let incomplete: Vec<_> = c.incomplete().collect();
        assert_eq!(incomplete.len(), 1);
        assert_eq!(incomplete[0].0, Provider::Twilio);
        // The report names settings, never values.
        let shown = serde_json::to_string(&c.status).unwrap();
        assert!(!shown.contains("verifies-inbound-only"), "{shown}");
        assert!(shown.contains(r#"{"provider":"twilio","channel":"sms","state":"incomplete","missing":["twilio_account_sid","#), "{shown}");
    }

    #[test]
    fn a_gateway_secret_with_the_placeholder_url_is_incomplete() {
        let c = settings(&[("sms_gateway_secret", "s")]);
        assert_eq!(c.config.sms, None);
        assert_eq!(
            readiness(&c, Provider::SmsGateway),
            Readiness::Incomplete { missing: vec!["sms_gateway_base_url"] }
        );
        let c = settings(&[("sms_gateway_secret", "s"), ("sms_gateway_base_url", "http://127.0.0.1:9000/")]);
        assert_eq!(readiness(&c, Provider::SmsGateway), Readiness::On);
        let Some(SmsConfig::Gateway(g)) = c.config.sms else { panic!("{:?}", c.config.sms) };
        assert_eq!(g.url, "http://127.0.0.1:9000/api/send");
    }

    #[test]
    fn a_complete_provider_is_on_and_sms_provider_chooses_between_two() {
        let twilio = [
            ("twilio_account_sid", "AC1"),
            ("twilio_auth_token", "t"),
            ("twilio_from", "NTBCare"),
            ("sms_gateway_secret", "s"),
            ("sms_gateway_base_url", "https://sms-gw.ntbprov.go.id"),
        ];
        let c = settings(&twilio);
        assert!(matches!(c.config.sms, Some(SmsConfig::Twilio(_))));
        assert_eq!(readiness(&c, Provider::Twilio), Readiness::On);
        assert_eq!(readiness(&c, Provider::SmsGateway), Readiness::Standby);
        let mut chosen = twilio.to_vec();
        chosen.push(("sms_provider", "gateway"));
        let c = settings(&chosen);
        assert!(matches!(c.config.sms, Some(SmsConfig::Gateway(_))));
        assert_eq!(readiness(&c, Provider::Twilio), Readiness::Standby);
        // Choosing an incomplete one leaves SMS off rather than calling it.
        let c = settings(&[
            ("twilio_account_sid", "AC1"),
            ("twilio_auth_token", "t"),
            ("sms_provider", "twilio"),
        ]);
        assert_eq!(c.config.sms, None);
    }

    #[test]
    fn meta_and_sendgrid_need_their_ids_and_a_real_base_url() {
        let c = settings(&[("whatsapp_access_token", "EAA")]);
        assert_eq!(
            readiness(&c, Provider::WhatsappCloud),
            Readiness::Incomplete { missing: vec!["whatsapp_phone_number_id"] }
        );
        let c = settings(&[
            ("whatsapp_access_token", "EAA"),
            ("whatsapp_phone_number_id", "1065"),
            ("whatsapp_api_base_url", ""),
        ]);
        assert_eq!(
            readiness(&c, Provider::WhatsappCloud),
            Readiness::Incomplete { missing: vec!["whatsapp_api_base_url"] }
        );
        let c = settings(&[("sendgrid_api_key", "SG"), ("mail_from_email", "")]);
        assert_eq!(
            readiness(&c, Provider::Sendgrid),
            Readiness::Incomplete { missing: vec!["mail_from_email"] }
        );
        let c = settings(&[("sendgrid_api_key", "SG"), ("messenger_page_access_token", "EAA")]);
        assert_eq!(c.config.enabled_channels(), [Channel::Facebook, Channel::Email]);
    }

    #[test]
    fn a_real_base_url_is_http_to_a_host_that_can_resolve() {
        for ok in [
            "https://api.twilio.com",
            "http://127.0.0.1:8080",
            "https://gw.ntbprov.go.id/",
            "http://[::1]:80",
        ] {
            assert!(is_real_base_url(ok), "{ok}");
        }
        for bad in [
            "",
            "api.twilio.com",
            "https://sms-gateway.invalid",
            "https://SMS.INVALID.",
            "https://gw.example",
            "ftp://gw.ntbprov.go.id",
            "https://",
            "http://host:port",
            "https://gw .ntbprov.go.id",
        ] {
            assert!(!is_real_base_url(bad), "{bad}");
        }
    }

    #[test]
    fn enabled_channels_follow_the_configuration() {
        assert_eq!(
            config().enabled_channels(),
            [Channel::Whatsapp, Channel::Facebook, Channel::Instagram, Channel::Sms, Channel::Email]
        );
        let only_sms = ProviderConfig { sms: Some(SmsConfig::Gateway(gateway())), ..Default::default() };
        assert_eq!(only_sms.enabled_channels(), [Channel::Sms]);
    }
}
