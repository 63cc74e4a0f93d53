//! Provider settings and delivery tuning, from Spin variables. A provider whose secret is
//! empty is off; base URLs are origins (`scheme://host[:port]`, no path) because the same
//! variables fill `allowed_outbound_hosts`, which Spin resolves when it loads the app.

use ntbcare_domain::delivery::providers::{
    GatewayConfig, MetaMessagingConfig, SendgridConfig, SmsConfig, TwilioConfig, TwilioSender, WhatsappConfig,
};
use ntbcare_domain::delivery::{ProviderConfig, RetryPolicy};
use ntbcare_platform::{variable, ApiResult};

fn var(name: &str) -> ApiResult<String> {
    Ok(variable(name)?.trim().to_string())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    variable(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn some(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Every provider NTB Care may send through, as configured.
pub fn providers() -> ApiResult<ProviderConfig> {
    let version = var("meta_api_version")?;
    let whatsapp = match (some(var("whatsapp_access_token")?), some(var("whatsapp_phone_number_id")?)) {
        (Some(access_token), Some(phone_number_id)) => Some(WhatsappConfig {
            base_url: var("whatsapp_api_base_url")?,
            api_version: version.clone(),
            phone_number_id,
            access_token,
        }),
        _ => None,
    };
    let messenger = some(var("messenger_page_access_token")?).map(|access_token| MetaMessagingConfig {
        base_url: var("messenger_api_base_url").unwrap_or_default(),
        api_version: version.clone(),
        sender: "me".into(),
        access_token,
    });
    let instagram = some(var("instagram_access_token")?).map(|access_token| MetaMessagingConfig {
        base_url: var("instagram_api_base_url").unwrap_or_default(),
        api_version: version.clone(),
        sender: some(var("instagram_account_id").unwrap_or_default()).unwrap_or_else(|| "me".into()),
        access_token,
    });
    let twilio = match (some(var("twilio_account_sid")?), some(var("twilio_auth_token")?)) {
        (Some(account_sid), Some(auth_token)) => {
            let sender = match (some(var("twilio_messaging_service_sid")?), some(var("twilio_from")?)) {
                (Some(sid), _) => Some(TwilioSender::MessagingService(sid)),
                (None, Some(from)) => Some(TwilioSender::From(from)),
                (None, None) => None,
            };
            sender.map(|sender| {
                Ok::<_, ntbcare_platform::ApiError>(SmsConfig::Twilio(TwilioConfig {
                    base_url: var("twilio_api_base_url")?,
                    account_sid,
                    auth_token,
                    sender,
                    status_callback: some(var("twilio_status_callback_url")?),
                }))
            })
        }
        _ => None,
    }
    .transpose()?;
    let gateway = some(var("sms_gateway_secret")?).map(|secret| {
        let base = var("sms_gateway_base_url").unwrap_or_default();
        let path = var("sms_gateway_send_path").unwrap_or_default();
        SmsConfig::Gateway(GatewayConfig {
            url: format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')),
            secret,
        })
    });
    let sms = match var("sms_provider")?.as_str() {
        "twilio" => twilio,
        "gateway" => gateway,
        _ => twilio.or(gateway),
    };
    let email = some(var("sendgrid_api_key")?).map(|api_key| {
        Ok::<_, ntbcare_platform::ApiError>(SendgridConfig {
            base_url: var("sendgrid_api_base_url")?,
            api_key,
            from_email: var("mail_from_email")?,
            from_name: var("mail_from_name")?,
            reply_to: some(var("mail_reply_to")?),
        })
    });
    Ok(ProviderConfig { whatsapp, messenger, instagram, sms, email: email.transpose()? })
}

/// Attempts, backoff, lease, timeout and batch size.
pub struct Tuning {
    pub policy: RetryPolicy,
    pub lease_ms: i64,
    pub timeout_ms: u64,
    pub batch: usize,
}

pub fn tuning() -> Tuning {
    let d = RetryPolicy::default();
    let timeout_ms = number("notification_provider_timeout_ms", 10_000u64).max(1);
    Tuning {
        policy: RetryPolicy {
            max_attempts: number("notification_max_attempts", d.max_attempts).max(1),
            base_delay_ms: number("notification_retry_base_ms", d.base_delay_ms),
            max_delay_ms: number("notification_retry_max_ms", d.max_delay_ms),
        },
        // A lease must outlast a provider call, or a slow call's message could go out twice.
        lease_ms: number("notification_lease_ms", 120_000i64).max(3 * timeout_ms as i64),
        timeout_ms,
        batch: number("notification_batch", 50usize).clamp(1, 500),
    }
}
