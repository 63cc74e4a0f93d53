//! How long a text is on each channel, and how to shorten a field so a message fits.
//!
//! SMS is counted in segments, not characters. A text entirely in the GSM 03.38 alphabet is
//! sent as GSM-7: 160 septets in one SMS, 153 per segment once it must be split (the user
//! data header takes the rest); characters of the extension table (`€ [ ] { } ^ ~ | \`)
//! take two septets and are never split across segments. One character outside that
//! alphabet (an en dash, curly quotes, `…`, an emoji, most non-Latin letters) makes the whole
//! SMS UCS-2: 70 UTF-16 units in one SMS, 67 per segment, and a character outside the Basic
//! Multilingual Plane (most emoji) takes two units that are never split. That is why shortened
//! text ends in three dots and not in `…`: the ellipsis alone would cost half the space.

/// The GSM 03.38 basic character set (escape excluded).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table: each is sent as escape + character, two septets.
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{0C}";

/// How an SMS text is encoded on the air.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// The size of an SMS text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsSize {
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

/// The most segments NTB Care lets one SMS take: three segments is what most Indonesian
/// handsets show as one message without trouble, and what a citizen's reply costs stays low.
pub const SMS_MAX_SEGMENTS: usize = 3;
/// Messenger refuses text longer than 2000 characters.
pub const MESSENGER_MAX_CHARS: usize = 2000;
/// Instagram refuses text longer than 1000 bytes of UTF-8.
pub const INSTAGRAM_MAX_BYTES: usize = 1000;
/// WhatsApp's limit for a text message body.
pub const WHATSAPP_MAX_CHARS: usize = 4096;
/// A WhatsApp template's body, parameters filled in, may not exceed 1024 characters.
pub const WHATSAPP_TEMPLATE_BODY_MAX_CHARS: usize = 1024;
/// An excerpt is an excerpt: even in an e-mail, the full answer is one link away.
pub const EXCERPT_MAX_CHARS: usize = 400;

fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding, units and segment count of an SMS text.
pub fn sms_size(text: &str) -> SmsSize {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    let (encoding, widths, single, multi) = match gsm {
        Some(widths) => (SmsEncoding::Gsm7, widths, 160, 153),
        None => (SmsEncoding::Ucs2, text.chars().map(char::len_utf16).collect(), 70, 67),
    };
    let units: usize = widths.iter().sum();
    let segments = if units <= single {
        1
    } else {
        // Pack greedily: a two-unit character (escape pair, surrogate pair) never straddles
        // two segments, so the count can exceed units / 153.
        let mut segments = 1;
        let mut used = 0;
        for w in widths {
            if used + w > multi {
                segments += 1;
                used = 0;
            }
            used += w;
        }
        segments
    };
    SmsSize { encoding, units, segments }
}

/// How much text a channel carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// At most this many SMS segments.
    SmsSegments(usize),
    /// At most this many characters (Unicode scalar values).
    Chars(usize),
    /// At most this many bytes of UTF-8.
    Utf8Bytes(usize),
    /// No limit worth enforcing (e-mail).
    Unlimited,
}

impl Budget {
    pub fn fits(self, text: &str) -> bool {
        match self {
            Budget::SmsSegments(n) => sms_size(text).segments <= n,
            Budget::Chars(n) => text.chars().count() <= n,
            Budget::Utf8Bytes(n) => text.len() <= n,
            Budget::Unlimited => true,
        }
    }
}

/// Shorten `text` to at most `max_chars` characters, at a word boundary when one is near,
/// ending in `...` (three ASCII dots, so an SMS stays GSM-7). Text that fits is unchanged.
pub fn shorten(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    const DOTS: &str = "...";
    if max_chars <= DOTS.len() {
        return DOTS.chars().take(max_chars).collect();
    }
    let keep = max_chars - DOTS.len();
    let head: String = text.chars().take(keep).collect();
    // Cut at the last space if it does not throw away more than a third of what we keep,
    // so "pipa bocor di Jl. Langko" does not end in "Lan...".
    let cut = match head.rfind(char::is_whitespace) {
        Some(at) if head[..at].chars().count() * 3 >= keep * 2 => &head[..at],
        _ => &head[..],
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '.'));
    format!("{cut}{DOTS}")
}

/// One line: newlines, tabs and runs of spaces become single spaces. WhatsApp refuses a
/// template parameter with a newline, a tab or more than four consecutive spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_indonesian_is_gsm7_and_160_septets_fit_one_sms() {
        let s = "a".repeat(160);
        assert_eq!(sms_size(&s), SmsSize { encoding: SmsEncoding::Gsm7, units: 160, segments: 1 });
        let s = "b".repeat(161);
        assert_eq!(sms_size(&s).segments, 2);
        assert_eq!(sms_size(&"c".repeat(306)).segments, 2);
        assert_eq!(sms_size(&"c".repeat(307)).segments, 3);
        assert_eq!(sms_size("").segments, 1);
    }

    #[test]
    fn extension_characters_take_two_septets_and_never_split() {
        assert_eq!(sms_size("€").units, 2);
        assert_eq!(sms_size(&"{".repeat(80)).segments, 1);
        assert_eq!(sms_size(&"{".repeat(81)).segments, 2);
        // 152 septets then an escape pair: the pair moves to the second segment.
        let s = format!("{}€{}", "x".repeat(152), "y".repeat(10));
        assert_eq!(sms_size(&s), SmsSize { encoding: SmsEncoding::Gsm7, units: 164, segments: 2 });
        let s = format!("{}€{}", "x".repeat(152), "y".repeat(152));
        assert_eq!(sms_size(&s).segments, 3, "the escape pair cannot straddle segments");
    }

    #[test]
    fn one_character_outside_gsm7_makes_the_whole_sms_ucs2() {
        let s = format!("{}–", "a".repeat(69));
        assert_eq!(sms_size(&s), SmsSize { encoding: SmsEncoding::Ucs2, units: 70, segments: 1 });
        let s = format!("{}…", "a".repeat(70));
        assert_eq!(sms_size(&s).segments, 2);
        assert_eq!(sms_size(&"é".repeat(160)).encoding, SmsEncoding::Gsm7, "é is in the basic set");
        assert_eq!(sms_size(&"ê".repeat(10)).encoding, SmsEncoding::Ucs2);
    }

    #[test]
    fn emoji_take_two_ucs2_units_and_never_split() {
        assert_eq!(sms_size("🙏").units, 2);
        assert_eq!(sms_size(&"🙏".repeat(35)).segments, 1);
        let s = format!("{}🙏", "a".repeat(66));
        assert_eq!(sms_size(&s).segments, 1);
        let s = format!("{}🙏{}", "a".repeat(66), "a".repeat(10));
        assert_eq!(sms_size(&s).segments, 2);
        let s = format!("{}🙏{}", "a".repeat(66), "a".repeat(66));
        assert_eq!(sms_size(&s).segments, 3, "a surrogate pair cannot straddle segments");
    }

    #[test]
    fn shortening_cuts_at_a_word_and_ends_in_ascii_dots() {
        let answer = "Pipa PDAM di Jl. Langko sudah diperbaiki oleh petugas pada hari Senin pagi";
        let s = shorten(answer, 40);
        assert_eq!(s, "Pipa PDAM di Jl. Langko sudah...");
        assert!(s.chars().count() <= 40);
        assert_eq!(sms_size(&s).encoding, SmsEncoding::Gsm7);
        assert_eq!(shorten(answer, 500), answer);
        assert_eq!(shorten("  padded  ", 20), "padded");
    }

    #[test]
    fn shortening_a_single_long_word_cuts_inside_it() {
        let s = shorten(&"x".repeat(50), 10);
        assert_eq!(s, "xxxxxxx...");
        assert_eq!(shorten("abcdef", 2), "..");
        assert_eq!(shorten("abcdef", 0), "");
    }

    #[test]
    fn budgets_measure_what_each_channel_limits() {
        assert!(Budget::Utf8Bytes(4).fits("abcd"));
        assert!(!Budget::Utf8Bytes(4).fits("abcé"));
        assert!(Budget::Chars(4).fits("abcé"));
        assert!(!Budget::SmsSegments(1).fits(&"a".repeat(161)));
        assert!(Budget::Unlimited.fits(&"a".repeat(100_000)));
    }

    #[test]
    fn one_line_removes_what_whatsapp_parameters_refuse() {
        assert_eq!(one_line("Jawaban:\n\tpipa     sudah\r\ndiganti "), "Jawaban: pipa sudah diganti");
    }
}
