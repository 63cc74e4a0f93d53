//! Which channel carries a message: the recipient's own, else SMS, else e-mail.
//!
//! A citizen who wrote on WhatsApp is answered on WhatsApp, because that is where they look.
//! But Meta lets a business write freely only within 24 hours of the person's last message
//! (the customer-service window); after that WhatsApp needs an approved template, and
//! Messenger and Instagram allow nothing NTB Care may use (message tags are for other
//! purposes). Then SMS, then e-mail, if NTB Care has the address, the provider is configured
//! and the person has not opted out. When nothing is possible the answer says why for each
//! channel, so an administrator reading the dead letter knows what to fix.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::complaint::Channel;

/// Meta's customer-service window: WhatsApp, Messenger and Instagram.
pub const CUSTOMER_SERVICE_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// How a message travels on its channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// Free text on a chat channel, inside the window.
    ChatText,
    /// An approved WhatsApp template, outside the window.
    WhatsappTemplate,
    Sms,
    Email,
}

/// Why a channel was passed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Web, mobile, Open311, partners, LAPOR!: nothing to send a message on.
    NotAMessagingChannel,
    /// NTB Care has no provider configured for it.
    NotConfigured,
    /// The recipient asked not to be messaged there.
    OptedOut,
    /// NTB Care has no address for the recipient there.
    NoAddress,
    /// Messenger or Instagram, more than 24 hours after the person last wrote.
    WindowClosed,
    /// WhatsApp, outside the window, and this message has no approved template.
    WindowClosedNoTemplate,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::NotAMessagingChannel => "is not a messaging channel",
            SkipReason::NotConfigured => "has no provider configured",
            SkipReason::OptedOut => "was opted out of by the recipient",
            SkipReason::NoAddress => "has no address for the recipient",
            SkipReason::WindowClosed => "is outside its 24-hour window",
            SkipReason::WindowClosedNoTemplate => {
                "is outside its 24-hour window and the message has no approved template"
            }
        }
    }
}

/// What the choice needs: plain values the component reads from the store.
#[derive(Clone, Debug)]
pub struct RouteInput<'a> {
    /// The channel the recipient uses (the complaint's channel for a citizen).
    pub preferred: Option<Channel>,
    /// Addresses known for the recipient: WhatsApp id, PSID, IGSID, phone (E.164), e-mail.
    pub addresses: &'a [(Channel, String)],
    /// When the recipient last wrote to NTB Care on each channel.
    pub last_inbound: &'a [(Channel, Timestamp)],
    /// Channels the recipient opted out of.
    pub opted_out: &'a [Channel],
    /// Channels NTB Care has a provider for ([`super::ProviderConfig::enabled_channels`]).
    pub enabled: &'a [Channel],
    /// Whether the message has an approved WhatsApp template.
    pub has_whatsapp_template: bool,
    pub now: Timestamp,
}

/// The chosen channel and address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub channel: Channel,
    pub address: String,
    pub form: Form,
    /// The channels tried first and why they were not used, for the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed_over: Vec<(Channel, SkipReason)>,
}

/// No channel can carry the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoRoute {
    pub tried: Vec<(Channel, SkipReason)>,
}

impl fmt::Display for NoRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no channel can carry the message: ")?;
        for (i, (channel, reason)) in self.tried.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} {}", channel.code(), reason.describe())?;
        }
        Ok(())
    }
}

impl std::error::Error for NoRoute {}

/// Whether the person wrote on `channel` less than 24 hours before `now`.
pub fn window_open(last_inbound: &[(Channel, Timestamp)], channel: Channel, now: Timestamp) -> bool {
    last_inbound
        .iter()
        .filter(|(c, _)| *c == channel)
        .any(|(_, at)| now.0.saturating_sub(at.0) < CUSTOMER_SERVICE_WINDOW_MS)
}

/// Choose the channel (see the module doc).
pub fn choose_route(input: &RouteInput<'_>) -> Result<Route, NoRoute> {
    let mut order: Vec<Channel> = Vec::with_capacity(3);
    if let Some(preferred) = input.preferred {
        order.push(preferred);
    }
    for fallback in [Channel::Sms, Channel::Email] {
        if !order.contains(&fallback) {
            order.push(fallback);
        }
    }
    let mut passed_over = Vec::new();
    for channel in order {
        match try_channel(input, channel) {
            Ok((address, form)) => return Ok(Route { channel, address, form, passed_over }),
            Err(reason) => passed_over.push((channel, reason)),
        }
    }
    Err(NoRoute { tried: passed_over })
}

fn try_channel(input: &RouteInput<'_>, channel: Channel) -> Result<(String, Form), SkipReason> {
    if !matches!(
        channel,
        Channel::Whatsapp | Channel::Facebook | Channel::Instagram | Channel::Sms | Channel::Email
    ) {
        return Err(SkipReason::NotAMessagingChannel);
    }
    if !input.enabled.contains(&channel) {
        return Err(SkipReason::NotConfigured);
    }
    if input.opted_out.contains(&channel) {
        return Err(SkipReason::OptedOut);
    }
    let address = input
        .addresses
        .iter()
        .find(|(c, a)| *c == channel && !a.trim().is_empty())
        .map(|(_, a)| a.trim().to_string())
        .ok_or(SkipReason::NoAddress)?;
    let open = window_open(input.last_inbound, channel, input.now);
    let form = match channel {
        Channel::Whatsapp if open => Form::ChatText,
        Channel::Whatsapp if input.has_whatsapp_template => Form::WhatsappTemplate,
        Channel::Whatsapp => return Err(SkipReason::WindowClosedNoTemplate),
        Channel::Facebook | Channel::Instagram if open => Form::ChatText,
        Channel::Facebook | Channel::Instagram => return Err(SkipReason::WindowClosed),
        Channel::Sms => Form::Sms,
        _ => Form::Email,
    };
    Ok((address, form))
}

/// Words that stop messages, as a whole message: `STOP`, `BERHENTI`, `UNREG` (the habit
/// Indonesian operators' services taught), alone or followed by `NTBCARE` or `SEMUA`/`ALL`.
/// "Stop pungli di pasar!" is a complaint, not an opt-out, so more words never count.
pub fn is_opt_out(text: &str) -> bool {
    matches_command(text, &["stop", "berhenti", "unreg"])
}

/// Words that undo an opt-out: `START`, `MULAI`, `REG`, with the same tails as [`is_opt_out`].
pub fn is_opt_in(text: &str) -> bool {
    matches_command(text, &["start", "mulai", "reg"])
}

fn matches_command(text: &str, commands: &[&str]) -> bool {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() || c.is_whitespace() { c.to_ascii_lowercase() } else { ' ' })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let Some((first, rest)) = words.split_first() else { return false };
    commands.contains(first)
        && matches!(rest.join(" ").as_str(), "" | "ntbcare" | "ntb care" | "semua" | "all")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_795_915_800_000);
    const HOUR: i64 = 3600 * 1000;
    const ALL: [Channel; 5] =
        [Channel::Whatsapp, Channel::Facebook, Channel::Instagram, Channel::Sms, Channel::Email];

    fn addresses() -> Vec<(Channel, String)> {
        vec![
            (Channel::Whatsapp, "6281234567890".into()),
            (Channel::Facebook, "PSID-1".into()),
            (Channel::Instagram, "IGSID-1".into()),
            (Channel::Sms, "+6281234567890".into()),
            (Channel::Email, "warga@example.org".into()),
        ]
    }

    fn input<'a>(
        preferred: Channel,
        addresses: &'a [(Channel, String)],
        last_inbound: &'a [(Channel, Timestamp)],
    ) -> RouteInput<'a> {
        RouteInput {
            preferred: Some(preferred),
            addresses,
            last_inbound,
            opted_out: &[],
            enabled: &ALL,
            has_whatsapp_template: true,
            now: NOW,
        }
    }

    #[test]
    fn whatsapp_inside_the_window_gets_free_text_on_whatsapp() {
        let a = addresses();
        let last = [(Channel::Whatsapp, Timestamp(NOW.0 - 23 * HOUR))];
        let route = choose_route(&input(Channel::Whatsapp, &a, &last)).unwrap();
        assert_eq!(
            (route.channel, route.form, route.address.as_str()),
            (Channel::Whatsapp, Form::ChatText, "6281234567890")
        );
        assert!(route.passed_over.is_empty());
    }

    #[test]
    fn whatsapp_outside_the_window_uses_the_approved_template() {
        let a = addresses();
        let last = [(Channel::Whatsapp, Timestamp(NOW.0 - 24 * HOUR))];
        let route = choose_route(&input(Channel::Whatsapp, &a, &last)).unwrap();
        assert_eq!((route.channel, route.form), (Channel::Whatsapp, Form::WhatsappTemplate));
        let never: [(Channel, Timestamp); 0] = [];
        assert_eq!(choose_route(&input(Channel::Whatsapp, &a, &never)).unwrap().form, Form::WhatsappTemplate);
    }

    #[test]
    fn whatsapp_outside_the_window_without_a_template_falls_back_to_sms() {
        let a = addresses();
        let last = [(Channel::Whatsapp, Timestamp(NOW.0 - 30 * HOUR))];
        let mut i = input(Channel::Whatsapp, &a, &last);
        i.has_whatsapp_template = false;
        let route = choose_route(&i).unwrap();
        assert_eq!((route.channel, route.form), (Channel::Sms, Form::Sms));
        assert_eq!(route.passed_over, vec![(Channel::Whatsapp, SkipReason::WindowClosedNoTemplate)]);
    }

    #[test]
    fn messenger_and_instagram_outside_the_window_fall_back_to_sms_then_email() {
        for channel in [Channel::Facebook, Channel::Instagram] {
            let last = [(channel, Timestamp(NOW.0 - 25 * HOUR))];
            let a = addresses();
            let route = choose_route(&input(channel, &a, &last)).unwrap();
            assert_eq!(route.channel, Channel::Sms);
            assert_eq!(route.passed_over, vec![(channel, SkipReason::WindowClosed)]);
            let no_phone: Vec<_> = a.iter().filter(|(c, _)| *c != Channel::Sms).cloned().collect();
            let route = choose_route(&input(channel, &no_phone, &last)).unwrap();
            assert_eq!((route.channel, route.form), (Channel::Email, Form::Email));
            let inside = [(channel, Timestamp(NOW.0 - HOUR))];
            assert_eq!(choose_route(&input(channel, &a, &inside)).unwrap().form, Form::ChatText);
        }
    }

    #[test]
    fn the_window_is_per_channel() {
        let a = addresses();
        // Wrote on SMS an hour ago, on Messenger two days ago: Messenger's window is closed.
        let last =
            [(Channel::Sms, Timestamp(NOW.0 - HOUR)), (Channel::Facebook, Timestamp(NOW.0 - 48 * HOUR))];
        assert_eq!(choose_route(&input(Channel::Facebook, &a, &last)).unwrap().channel, Channel::Sms);
    }

    #[test]
    fn a_missing_handle_falls_back() {
        let a: Vec<_> = addresses().into_iter().filter(|(c, _)| *c != Channel::Whatsapp).collect();
        let route = choose_route(&input(Channel::Whatsapp, &a, &[])).unwrap();
        assert_eq!(route.channel, Channel::Sms);
        assert_eq!(route.passed_over, vec![(Channel::Whatsapp, SkipReason::NoAddress)]);
    }

    #[test]
    fn a_web_complaint_is_answered_by_sms_then_email() {
        let a = addresses();
        let route = choose_route(&input(Channel::Web, &a, &[])).unwrap();
        assert_eq!(route.channel, Channel::Sms);
        assert_eq!(route.passed_over, vec![(Channel::Web, SkipReason::NotAMessagingChannel)]);
        let mut i = input(Channel::Web, &a, &[]);
        i.preferred = None;
        assert_eq!(choose_route(&i).unwrap().channel, Channel::Sms);
    }

    #[test]
    fn opt_outs_and_unconfigured_providers_are_respected() {
        let a = addresses();
        let mut i = input(Channel::Sms, &a, &[]);
        i.opted_out = &[Channel::Sms];
        assert_eq!(choose_route(&i).unwrap().channel, Channel::Email);
        let enabled = [Channel::Whatsapp, Channel::Sms];
        i.enabled = &enabled;
        let err = choose_route(&i).unwrap_err();
        assert_eq!(
            err.tried,
            vec![(Channel::Sms, SkipReason::OptedOut), (Channel::Email, SkipReason::NotConfigured)]
        );
    }

    #[test]
    fn no_route_says_why_for_every_channel() {
        let a = [(Channel::Facebook, "PSID-1".to_string())];
        let last = [(Channel::Facebook, Timestamp(NOW.0 - 72 * HOUR))];
        let err = choose_route(&input(Channel::Facebook, &a, &last)).unwrap_err();
        assert_eq!(
            err.tried,
            vec![
                (Channel::Facebook, SkipReason::WindowClosed),
                (Channel::Sms, SkipReason::NoAddress),
                (Channel::Email, SkipReason::NoAddress)
            ]
        );
        assert_eq!(
            err.to_string(),
            "no channel can carry the message: facebook is outside its 24-hour window; \
             sms has no address for the recipient; email has no address for the recipient"
        );
    }

    #[test]
    fn opt_out_words_count_only_as_a_whole_message() {
        for yes in [
            "STOP",
            "stop",
            " Stop. ",
            "BERHENTI",
            "berhenti!",
            "UNREG",
            "unreg ntbcare",
            "STOP SEMUA",
            "Stop all",
        ] {
            assert!(is_opt_out(yes), "{yes:?}");
        }
        for no in [
            "",
            "stop pungli di pasar",
            "Tolong berhenti membuang sampah",
            "stopkontak rusak",
            "REG",
            "unregister",
        ] {
            assert!(!is_opt_out(no), "{no:?}");
        }
        assert!(is_opt_in("MULAI") && is_opt_in("start") && is_opt_in("REG NTBCARE") && !is_opt_in("STOP"));
    }
}
