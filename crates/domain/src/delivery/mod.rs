//! Delivering a message, everything but the HTTP call.
//!
//! Producers queue an [`outbox::QueuedMessage`] (the WIT `outbox-message`) in the identity
//! store; the notification component delivers it. Every decision on the way is a pure function
//! here, so the component only performs the request these functions describe and stores the
//! outcome:
//!
//! - [`templates`]: the texts, as data (`data/templates.toml`), checked when loaded; officers'
//!   templates may use only placeholders that cannot identify the complainant.
//! - [`text`]: SMS segment counting (GSM-7 and UCS-2) and shortening free text to fit.
//! - [`route`]: which channel: the recipient's own, else SMS, else e-mail, within Meta's
//!   24-hour windows and the recipient's opt-outs; [`route::is_opt_out`] reads `STOP`.
//! - [`consent`]: `BERHENTI`/`STOP` and `MULAI`/`START`, per person across every channel,
//!   each confirmed once on the channel it came on.
//! - [`providers`]: the exact request for WhatsApp Cloud API, Messenger, Instagram, Twilio,
//!   NTB Care's SMS gateway and SendGrid, with what each offers for idempotency.
//! - [`outcome`]: what a provider's answer means, and exponential backoff with full jitter.
//! - [`outbox`]: an entry's states (queued, in flight under a lease, sent, delivered, read,
//!   failed, dead letter) and the transitions between them.
//! - [`listing`]: the administrators' outbox listing, paged and counted entry by entry.
//!
//! [`prepare`] ties the first four together: from a queued message and what is known of the
//! recipient, the route and the request, or a reason that no retry can cure.
//!
//! Suggested keys (identity store; to be added to `crate::keys` by its owner):
//! `outbox/<message id>` holds the [`outbox::OutboxEntry`] (as today);
//! `outbox-sent/<provider>/<provider message id>` holds the message id, written when a
//! provider accepts a message, so a receipt finds its entry in one read;
//! `optout/<sha256 of the contact>` marks an opt-out ([`consent`]; the older
//! `optout/<channel>/<sha256 of the address>` is still honoured and removed by `MULAI`) and
//! `inbound/<channel>/<sha256 of the address>` holds the last inbound time (written by intake),
//! hashed so that listing keys reveals no one's number.

pub mod audience;
pub mod consent;
pub mod listing;
pub mod outbox;
pub mod outcome;
pub mod providers;
pub mod route;
pub mod sweep;
pub mod templates;
pub mod text;

/// The keys delivery keeps beside the outbox (identity store, except the templates), as the
/// module doc suggests; `crate::keys` is their eventual home.
pub mod keys {
    use sha2::{Digest, Sha256};

    use super::Provider;
    use crate::complaint::Channel;

    /// Receipts intake writes for notification (identity store).
    pub const RECEIPT_PREFIX: &str = "receipt/";

    /// A provider's delivery status for the message it gave `provider_message_id`.
    pub fn receipt(provider_message_id: &str) -> String {
        format!("{RECEIPT_PREFIX}{provider_message_id}")
    }

    /// Marks an outbox entry no sweep will claim again (sent, delivered, read, dead letter),
    /// so a sweep reads only the entries still pending (see [`super::sweep`]). Empty value.
    pub const DONE_PREFIX: &str = "outbox-done/";

    /// The mark that message `message_id` is finished.
    pub fn done(message_id: &str) -> String {
        format!("{DONE_PREFIX}{message_id}")
    }

    /// The outbox message id a provider's message id belongs to, written when it accepted it.
    pub fn sent_index(provider: Provider, provider_message_id: &str) -> String {
        format!("outbox-sent/{}/{provider_message_id}", provider.code())
    }

    fn hashed(address: &str) -> String {
        crate::hex::encode(&Sha256::digest(address.trim().trim_start_matches('+').as_bytes()))
    }

    /// An opt-out of `channel` by `address` as recorded before opt-outs were per contact
    /// (hashed: listing keys reveals no one's number). Read and removed by
    /// [`super::consent`]; new opt-outs use [`super::consent::opt_out_key`].
    pub fn opt_out(channel: Channel, address: &str) -> String {
        format!("optout/{}/{}", channel.code(), hashed(address))
    }

    /// The administrator's edited templates (TOML), in the shared store: templates name no one.
    pub const TEMPLATES_OVERRIDE: &str = "notification/templates.toml";

    /// The provider statuses last logged (shared store: setting names, never values), so an
    /// incomplete provider is reported once per configuration, not on every sweep.
    pub const PROVIDERS_REPORTED: &str = "notification/providers-reported";
}

#[cfg(test)]
mod golden;

use thiserror::Error;

pub use outbox::{OutboxEntry, QueuedMessage, Refusal, Report, State};
pub use outcome::{classify, Outcome, RetryPolicy};
pub use providers::{Outbound, Provider, ProviderConfig, ProviderRequest};
pub use route::{choose_route, is_opt_out, Form, NoRoute, Route, RouteInput};
pub use templates::{RenderError, Templates};

use crate::clock::Timestamp;
use crate::complaint::Channel;
use providers::SmsConfig;
use templates::Variant;
use text::{Budget, INSTAGRAM_MAX_BYTES, MESSENGER_MAX_CHARS, SMS_MAX_SEGMENTS, WHATSAPP_MAX_CHARS};

/// What is known of the recipient, read by the component from the identity store.
#[derive(Clone, Debug, Default)]
pub struct Contacts<'a> {
    pub preferred: Option<Channel>,
    pub addresses: &'a [(Channel, String)],
    pub last_inbound: &'a [(Channel, Timestamp)],
    pub opted_out: &'a [Channel],
}

/// A message ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub route: Route,
    pub outbound: Outbound,
}

/// Why a message cannot be sent. Retrying cannot help: each is a permanent outcome.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PrepareError {
    #[error(transparent)]
    NoRoute(#[from] NoRoute),
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl PrepareError {
    pub fn outcome(&self) -> Outcome {
        Outcome::Permanent { reason: self.to_string() }
    }
}

/// Choose the route, render the message for it and build the request.
pub fn prepare(
    templates: &Templates,
    config: &ProviderConfig,
    message: &QueuedMessage,
    contacts: &Contacts<'_>,
    now: Timestamp,
) -> Result<Prepared, PrepareError> {
    let template = templates
        .get(&message.template)
        .ok_or_else(|| RenderError::UnknownTemplate(message.template.clone()))?;
    let enabled = config.enabled_channels();
    let route = choose_route(&RouteInput {
        preferred: contacts.preferred,
        addresses: contacts.addresses,
        last_inbound: contacts.last_inbound,
        opted_out: contacts.opted_out,
        enabled: &enabled,
        has_whatsapp_template: template.whatsapp.is_some(),
        now,
    })?;
    let (id, lang, fields) = (message.template.as_str(), message.language, message.fields.as_slice());
    let to = route.address.as_str();
    let chat = |budget| templates.render(id, lang, Variant::Text, fields, budget);
    // `choose_route` only picks enabled channels, so each configuration is present.
    let outbound = match (route.form, route.channel) {
        (Form::WhatsappTemplate, _) => {
            let wa = templates.whatsapp(id, lang, fields)?;
            providers::whatsapp_template(config.whatsapp.as_ref().expect("enabled"), &message.id, to, &wa)
        }
        (Form::ChatText, Channel::Whatsapp) => providers::whatsapp_text(
            config.whatsapp.as_ref().expect("enabled"),
            &message.id,
            to,
            &chat(Budget::Chars(WHATSAPP_MAX_CHARS))?,
        ),
        (Form::ChatText, Channel::Instagram) => providers::instagram_text(
            config.instagram.as_ref().expect("enabled"),
            to,
            &chat(Budget::Utf8Bytes(INSTAGRAM_MAX_BYTES))?,
        ),
        (Form::ChatText, _) => providers::messenger_text(
            config.messenger.as_ref().expect("enabled"),
            &message.id,
            to,
            &chat(Budget::Chars(MESSENGER_MAX_CHARS))?,
        ),
        (Form::Sms, _) => {
            let text =
                templates.render(id, lang, Variant::Sms, fields, Budget::SmsSegments(SMS_MAX_SEGMENTS))?;
            match config.sms.as_ref().expect("enabled") {
                SmsConfig::Twilio(cfg) => providers::twilio_sms(cfg, to, &text),
                SmsConfig::Gateway(cfg) => providers::gateway_sms(cfg, &message.id, to, &text, now),
            }
        }
        (Form::Email, _) => {
            let subject = templates.render_subject(id, lang, fields)?;
            providers::sendgrid_mail(
                config.email.as_ref().expect("enabled"),
                &message.id,
                to,
                &subject,
                &chat(Budget::Unlimited)?,
            )
        }
    };
    Ok(Prepared { route, outbound })
}

#[cfg(test)]
mod tests {
    use super::providers::tests::{config, MESSAGE_ID, NOW};
    use super::*;
    use crate::language::Language;

    fn message(template: &str, channel: Channel, fields: &[(&str, &str)]) -> QueuedMessage {
        QueuedMessage {
            id: MESSAGE_ID.into(),
            ticket: "NTB-26-7KQ4MX".into(),
            template: template.into(),
            language: Language::Id,
            channel,
            recipient: "6281234567890".into(),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            queued_at: NOW,
        }
    }

    const RECEIVED: [(&str, &str); 2] =
        [("ticket", "NTB-26-7KQ4MX"), ("tracking_url", "https://care.ntbprov.go.id/t/NTB-26-7KQ4MX")];

    fn addresses() -> Vec<(Channel, String)> {
        vec![
            (Channel::Whatsapp, "6281234567890".into()),
            (Channel::Sms, "+6281234567890".into()),
            (Channel::Email, "warga@example.org".into()),
        ]
    }

    #[test]
    fn a_whatsapp_complainant_inside_the_window_gets_rendered_text() {
        let a = addresses();
        let last = [(Channel::Whatsapp, Timestamp(NOW.0 - 3_600_000))];
        let contacts = Contacts {
            preferred: Some(Channel::Whatsapp),
            addresses: &a,
            last_inbound: &last,
            opted_out: &[],
        };
        let m = message("complaint-received", Channel::Whatsapp, &RECEIVED);
        let p = prepare(&Templates::seed(), &config(), &m, &contacts, NOW).unwrap();
        assert_eq!((p.route.channel, p.route.form), (Channel::Whatsapp, Form::ChatText));
        let body: serde_json::Value = serde_json::from_slice(&p.outbound.request.body).unwrap();
        assert!(body["text"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Terima kasih, aduan Anda sudah kami terima"));
        assert_eq!(body["biz_opaque_callback_data"], MESSAGE_ID);
    }

    #[test]
    fn a_whatsapp_complainant_weeks_later_gets_the_approved_template() {
        let a = addresses();
        let contacts = Contacts { preferred: Some(Channel::Whatsapp), addresses: &a, ..Default::default() };
        let m = message("complaint-received", Channel::Whatsapp, &RECEIVED);
        let p = prepare(&Templates::seed(), &config(), &m, &contacts, NOW).unwrap();
        assert_eq!(p.route.form, Form::WhatsappTemplate);
        let body: serde_json::Value = serde_json::from_slice(&p.outbound.request.body).unwrap();
        assert_eq!(body["template"]["name"], "ntbcare_complaint_received");
        assert_eq!(body["template"]["language"]["code"], "id");
    }

    #[test]
    fn an_officer_message_never_uses_a_whatsapp_template_and_falls_back_to_sms() {
        let a = addresses();
        let contacts = Contacts { preferred: Some(Channel::Whatsapp), addresses: &a, ..Default::default() };
        let m = message(
            "daily-digest",
            Channel::Whatsapp,
            &[("agency", "Dinas PUPR"), ("open", "12"), ("overdue", "3")],
        );
        let p = prepare(&Templates::seed(), &config(), &m, &contacts, NOW).unwrap();
        assert_eq!(p.route.channel, Channel::Sms);
        assert_eq!(p.outbound.provider, Provider::Twilio);
        let form = String::from_utf8(p.outbound.request.body).unwrap();
        assert!(form.contains("Body=NTB+Care+Dinas+PUPR%3A+12+kasus+terbuka%2C+3+lewat+batas."), "{form}");
    }

    #[test]
    fn email_gets_a_subject_and_the_full_text() {
        let a = [(Channel::Email, "warga@example.org".to_string())];
        let contacts = Contacts { preferred: Some(Channel::Web), addresses: &a, ..Default::default() };
        let m = message("complaint-received", Channel::Email, &RECEIVED);
        let p = prepare(&Templates::seed(), &config(), &m, &contacts, NOW).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&p.outbound.request.body).unwrap();
        assert_eq!(body["subject"], "Aduan NTB-26-7KQ4MX diterima");
        assert_eq!(body["custom_args"]["ntbcare_message_id"], MESSAGE_ID);
    }

    #[test]
    fn nothing_to_send_on_and_missing_fields_are_permanent() {
        let contacts = Contacts { preferred: Some(Channel::Whatsapp), ..Default::default() };
        let m = message("complaint-received", Channel::Whatsapp, &RECEIVED);
        let err = prepare(&Templates::seed(), &config(), &m, &contacts, NOW).unwrap_err();
        assert!(matches!(err, PrepareError::NoRoute(_)));
        assert!(
            matches!(err.outcome(), Outcome::Permanent { reason } if reason.contains("whatsapp has no address"))
        );
        let a = addresses();
        let contacts = Contacts { preferred: Some(Channel::Sms), addresses: &a, ..Default::default() };
        let m = message("complaint-received", Channel::Sms, &[("ticket", "NTB-26-7KQ4MX")]);
        assert!(matches!(
            prepare(&Templates::seed(), &config(), &m, &contacts, NOW),
            Err(PrepareError::Render(RenderError::MissingField { .. }))
        ));
        let m = message("no-such-template", Channel::Sms, &RECEIVED);
        assert!(matches!(
            prepare(&Templates::seed(), &config(), &m, &contacts, NOW),
            Err(PrepareError::Render(RenderError::UnknownTemplate(_)))
        ));
    }
}
