//! Twilio's inbound SMS (and MMS) webhook: a form-encoded POST signed with
//! `X-Twilio-Signature`.
//!
//! Twilio's signature is Base64(HMAC-SHA1(Auth Token, URL + every POST parameter sorted by
//! name, each as name then value with no separator)). The URL is the one configured in
//! Twilio's console, *exactly* (scheme, host, port if any, path and query): behind a proxy the
//! intake component must pass its public URL from configuration, never the URL it sees, or no
//! request will verify. Twilio adds parameters without notice, and every one is signed, so
//! verification takes all parameters as received, never a filtered set.
//!
//! Twilio's WhatsApp sandbox and senders use the same webhook with `From=whatsapp:+62…`;
//! [`to_message`] reads those as [`Channel::Whatsapp`] with the number as the wa_id.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{mac, parse_urlencoded, ChannelError, InboundMessage, Media, MediaKind, SharedLocation};
use crate::complaint::{Channel, Coordinates, PhoneNumber};

/// The header carrying Twilio's signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Twilio sends at most 10 media items with one message.
pub const MAX_MEDIA: usize = 10;

/// Read Twilio's `application/x-www-form-urlencoded` body into its parameters, in order.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, ChannelError> {
    parse_urlencoded(body)
}

/// Check `X-Twilio-Signature` for a POST to `public_url` with the given (decoded) parameters.
pub fn verify_signature(
    public_url: &str,
    params: &[(String, String)],
    header: Option<&str>,
    auth_token: &str,
) -> Result<(), ChannelError> {
    if auth_token.is_empty() {
        return Err(ChannelError::SecretNotConfigured);
    }
    let header = header.ok_or(ChannelError::MissingSignature { header: SIGNATURE_HEADER })?;
    let expected = STANDARD.decode(header.trim()).map_err(|_| ChannelError::BadSignature)?;
    // Sorted by name, then by value for a repeated name, as Twilio's own validators do.
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data: Vec<&[u8]> = Vec::with_capacity(1 + 2 * sorted.len());
    data.push(public_url.as_bytes());
    for (name, value) in sorted {
        data.push(name.as_bytes());
        data.push(value.as_bytes());
    }
    mac::verify_sha1(auth_token, &data, &expected)
}

/// Read a (verified) webhook's parameters into the message a citizen sent.
pub fn to_message(params: &[(String, String)]) -> Result<InboundMessage, ChannelError> {
    let get =
        |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let missing = |name: &str| ChannelError::Malformed(format!("parameter `{name}` is missing"));

    // SmsSid and SmsMessageSid are the deprecated spellings of the same id.
    let external_id = get("MessageSid")
        .or_else(|| get("SmsMessageSid"))
        .or_else(|| get("SmsSid"))
        .ok_or_else(|| missing("MessageSid"))?
        .to_string();
    let from = get("From").ok_or_else(|| missing("From"))?;
    let (channel, sender) = match from.strip_prefix("whatsapp:") {
        Some(number) => {
            // A wa_id, as the Cloud API spells senders: the number's digits without `+`.
            let phone = PhoneNumber::parse(number).ok_or_else(|| {
                ChannelError::Malformed(format!("`From` is not a WhatsApp number: {number}"))
            })?;
            (Channel::Whatsapp, phone.as_str().trim_start_matches('+').to_string())
        }
        // Short codes and alphanumeric sender ids are not phone numbers; keep them as sent.
        None => {
            (Channel::Sms, PhoneNumber::parse(from).map_or_else(|| from.to_string(), |p| p.as_str().into()))
        }
    };

    let count = match get("NumMedia") {
        None => 0,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= MAX_MEDIA)
            .ok_or_else(|| ChannelError::Malformed(format!("`NumMedia` must be 0 to {MAX_MEDIA}")))?,
    };
    let mut media = Vec::with_capacity(count);
    for i in 0..count {
        let url_name = format!("MediaUrl{i}");
        let url = get(&url_name).ok_or_else(|| missing(&url_name))?;
        let mime_type = get(&format!("MediaContentType{i}")).map(str::to_string);
        media.push(Media {
            kind: mime_type.as_deref().map_or(MediaKind::Other, MediaKind::from_mime),
            provider_ref: url.to_string(),
            mime_type,
            caption: None,
        });
    }

    // Twilio's WhatsApp location messages.
    let location = match (get("Latitude"), get("Longitude")) {
        (None, None) => None,
        (Some(lat), Some(lon)) => {
            let (lat, lon) = (lat.parse::<f64>(), lon.parse::<f64>());
            let (Ok(lat), Ok(lon)) = (lat, lon) else {
                return Err(ChannelError::Malformed("`Latitude` and `Longitude` must be numbers".into()));
            };
            if !((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)) {
                return Err(ChannelError::Malformed("`Latitude` and `Longitude` are not on Earth".into()));
            }
            Some(SharedLocation {
                coordinates: Coordinates { lat, lon },
                name: get("Label").map(str::to_string),
                address: get("Address").map(str::to_string),
            })
        }
        _ => return Err(ChannelError::Malformed("`Latitude` and `Longitude` come together".into())),
    };

    Ok(InboundMessage {
        channel,
        external_id,
        sender,
        sender_name: get("ProfileName").map(str::to_string),
        text: get("Body").map(str::to_string),
        media,
        location,
        // Twilio's webhook carries no send time; the component uses its clock.
        sent_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha1::Sha1;

    const FIXTURE_SMS: &[u8] = include_bytes!("../../../../tests/fixtures/channels/twilio/sms.form");
    const FIXTURE_MMS: &[u8] = include_bytes!("../../../../tests/fixtures/channels/twilio/mms.form");
    const FIXTURE_WHATSAPP: &[u8] =
        include_bytes!("../../../../tests/fixtures/channels/twilio/whatsapp_location.form");
    /// The URL and token the fixtures' recorded signatures were made with (see their README).
    const FIXTURE_URL: &str = "https://care.ntbprov.go.id/channels/twilio/sms";
    const FIXTURE_TOKEN: &str = "ntbcare-test-auth-token";
    const FIXTURE_SMS_SIGNATURE: &str = "0zr+3EXABVqAqH8v9/xuNFT5xJA=";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn sign(url: &str, params: &[(String, String)], token: &str) -> String {
        let mut sorted = params.to_vec();
        sorted.sort();
        let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).unwrap();
        mac.update(url.as_bytes());
        for (k, v) in &sorted {
            mac.update(k.as_bytes());
            mac.update(v.as_bytes());
        }
        STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn twilio_documented_test_vector_verifies() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(verify_signature(url, &params, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ="), "12345"), Ok(()));
        // Order of arrival does not matter: Twilio signs them sorted.
        let mut reversed = params.clone();
        reversed.reverse();
        assert_eq!(verify_signature(url, &reversed, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ="), "12345"), Ok(()));
    }

    #[test]
    fn twilio_fixture_signatures_verify_after_decoding_the_form() {
        // Recorded with Python's hmac over the same URL and token (fixtures' README).
        for (body, signature) in [
            (FIXTURE_SMS, FIXTURE_SMS_SIGNATURE),
            (FIXTURE_MMS, "uUNiVo6avXTavOfpoDT6J1xpYgQ="),
            (FIXTURE_WHATSAPP, "FgCmWk5xRSC/lLlxjQC7I3exJGQ="),
        ] {
            let params = parse_form(body).unwrap();
            assert_eq!(
                verify_signature(FIXTURE_URL, &params, Some(signature), FIXTURE_TOKEN),
                Ok(()),
                "{signature}"
            );
        }
    }

    #[test]
    fn rejects_a_changed_parameter_url_or_token() {
        let params = parse_form(FIXTURE_SMS).unwrap();
        let header = Some(FIXTURE_SMS_SIGNATURE);
        let mut changed = params.clone();
        changed.iter_mut().find(|(k, _)| k == "Body").unwrap().1.push('!');
        assert_eq!(
            verify_signature(FIXTURE_URL, &changed, header, FIXTURE_TOKEN),
            Err(ChannelError::BadSignature)
        );
        let mut added = params.clone();
        added.push(("Extra".into(), "1".into()));
        assert_eq!(
            verify_signature(FIXTURE_URL, &added, header, FIXTURE_TOKEN),
            Err(ChannelError::BadSignature)
        );
        let http = FIXTURE_URL.replace("https", "http");
        assert_eq!(verify_signature(&http, &params, header, FIXTURE_TOKEN), Err(ChannelError::BadSignature));
        assert_eq!(verify_signature(FIXTURE_URL, &params, header, "other"), Err(ChannelError::BadSignature));
    }

    #[test]
    fn missing_or_undecodable_twilio_signature_is_refused() {
        let params = pairs(&[("From", "+6281234567890")]);
        assert_eq!(
            verify_signature(FIXTURE_URL, &params, None, FIXTURE_TOKEN),
            Err(ChannelError::MissingSignature { header: SIGNATURE_HEADER })
        );
        for bad in ["", "not base64!", "AAAA"] {
            assert_eq!(
                verify_signature(FIXTURE_URL, &params, Some(bad), FIXTURE_TOKEN),
                Err(ChannelError::BadSignature),
                "{bad:?}"
            );
        }
        let good = sign(FIXTURE_URL, &params, FIXTURE_TOKEN);
        assert_eq!(
            verify_signature(FIXTURE_URL, &params, Some(&good), ""),
            Err(ChannelError::SecretNotConfigured)
        );
    }

    #[test]
    fn repeated_parameters_are_signed_in_value_order() {
        let params = pairs(&[("B", "2"), ("A", "z"), ("A", "a")]);
        let header = sign("https://x/", &pairs(&[("A", "a"), ("A", "z"), ("B", "2")]), "t");
        assert_eq!(verify_signature("https://x/", &params, Some(&header), "t"), Ok(()));
    }

    #[test]
    fn form_decoding_handles_plus_percent_and_oddities() {
        assert_eq!(
            parse_form(
                b"Body=Jalan+rusak%2C+tolong%21&From=%2B6281234567890&Empty=&Flag&&Caf%C3%A9=%E2%9C%93"
            )
            .unwrap(),
            pairs(&[
                ("Body", "Jalan rusak, tolong!"),
                ("From", "+6281234567890"),
                ("Empty", ""),
                ("Flag", ""),
                ("Café", "✓"),
            ])
        );
        // A stray percent stays literal; a value may contain `=`.
        assert_eq!(
            parse_form(b"a=100%&b=%zz&c=x=y").unwrap(),
            pairs(&[("a", "100%"), ("b", "%zz"), ("c", "x=y")])
        );
        assert_eq!(parse_form(b"").unwrap(), vec![]);
    }

    #[test]
    fn form_that_is_not_utf8_is_malformed() {
        let err = parse_form(b"Body=%FF%FE").unwrap_err();
        assert_eq!(err.code(), "malformed-payload");
        assert_eq!(parse_form(b"Body=\xff").unwrap_err().code(), "malformed-payload");
    }

    #[test]
    fn sms_becomes_a_message_from_an_e164_number() {
        let m = to_message(&parse_form(FIXTURE_SMS).unwrap()).unwrap();
        assert_eq!(m.channel, Channel::Sms);
        assert_eq!(m.external_id, "SM5b6d0a3f2e8c4a1b9d7e6f5a4b3c2d1e");
        assert_eq!(m.sender, "+6281234567890");
        assert_eq!(
            m.text.as_deref(),
            Some("Jembatan di Desa Sukadana, Lombok Timur putus. Mohon segera diperbaiki.")
        );
        assert!(m.media.is_empty());
        assert_eq!((&m.sender_name, m.sent_at), (&None, None));
        assert_eq!(m.phone().unwrap().as_str(), "+6281234567890");
    }

    #[test]
    fn mms_media_urls_and_types_are_read() {
        let m = to_message(&parse_form(FIXTURE_MMS).unwrap()).unwrap();
        assert_eq!(m.media.len(), 2);
        assert_eq!(m.media[0].kind, MediaKind::Image);
        assert_eq!(m.media[0].mime_type.as_deref(), Some("image/jpeg"));
        assert!(m.media[0].provider_ref.ends_with("/Media/ME1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"));
        assert_eq!(m.media[1].kind, MediaKind::Video);
        assert_eq!(m.text, None);
    }

    #[test]
    fn twilio_whatsapp_location_reads_as_whatsapp() {
        let m = to_message(&parse_form(FIXTURE_WHATSAPP).unwrap()).unwrap();
        assert_eq!(m.channel, Channel::Whatsapp);
        assert_eq!(m.sender, "6281234567890");
        assert_eq!(m.sender_name.as_deref(), Some("Baiq Nurul"));
        let loc = m.location.unwrap();
        assert_eq!((loc.coordinates.lat, loc.coordinates.lon), (-8.7362, 116.2771));
        assert_eq!(loc.name.as_deref(), Some("Bundaran Praya"));
    }

    #[test]
    fn local_format_numbers_normalise_and_sender_ids_are_kept() {
        let m =
            to_message(&pairs(&[("MessageSid", "SM1"), ("From", "081234567890"), ("Body", " x ")])).unwrap();
        assert_eq!((m.sender.as_str(), m.text.as_deref()), ("+6281234567890", Some("x")));
        let m = to_message(&pairs(&[("SmsSid", "SM2"), ("From", "TELKOMSEL")])).unwrap();
        assert_eq!((m.external_id.as_str(), m.sender.as_str(), m.text), ("SM2", "TELKOMSEL", None));
    }

    #[test]
    fn twilio_parameters_missing_or_wrong_are_malformed() {
        let cases: [(&[(&str, &str)], &str); 7] = [
            (&[("From", "+6281234567890")], "`MessageSid` is missing"),
            (&[("MessageSid", "SM1"), ("From", "  ")], "`From` is missing"),
            (&[("MessageSid", "SM1"), ("From", "+62812345678"), ("NumMedia", "two")], "`NumMedia` must be"),
            (&[("MessageSid", "SM1"), ("From", "+62812345678"), ("NumMedia", "11")], "`NumMedia` must be"),
            (&[("MessageSid", "SM1"), ("From", "+62812345678"), ("NumMedia", "1")], "`MediaUrl0` is missing"),
            (&[("MessageSid", "SM1"), ("From", "+62812345678"), ("Latitude", "-8.5")], "come together"),
            (&[("MessageSid", "SM1"), ("From", "whatsapp:abc")], "not a WhatsApp number"),
        ];
        for (params, reason) in cases {
            let err = to_message(&pairs(params)).unwrap_err();
            assert_eq!(err.code(), "malformed-payload");
            assert!(err.to_string().contains(reason), "{params:?}: {err}");
        }
    }
}
