//! The tracking code: the complainant's private key to their own complaint, made to be copied
//! by hand (onto paper at a socialisation event, read out over the phone) without error.
//!
//! Format: ten characters of Crockford's base32 (`0-9 A-Z` without `I L O U`), shown in
//! groups `XXXX-XXXX-XX`: nine random characters (45 bits) and a check character. Reading is
//! forgiving: case does not matter, spaces and dashes are ignored, and the look-alikes are
//! read as Crockford reads them (`O`→`0`, `I`/`L`→`1`). The check character is the Damm
//! algorithm over GF(32) (`x∗y = 2x + y`, a totally anti-symmetric quasigroup), so every
//! single wrong character and every swap of two neighbouring characters is caught before
//! the code is compared, and answered with "check it again", not "wrong code".
//!
//! Why 45 bits is enough: a code is only ever tried against the store through intake, which
//! allows [`ATTEMPTS_PER_TICKET`] failed tries per ticket per day and [`ATTEMPTS_PER_ADDRESS`]
//! per client address per hour (a typo caught by the check character is not counted). One
//! ticket: 10 × 365 = 3,650 tries a year against 2^45 ≈ 3.5 × 10^13 codes, odds 1 in 10^10.
//! Every ticket of a year at once (say 100,000): 3.65 × 10^8 tries, still 1 in 96,000.
//!
//! Offline, the store holds only a keyed hash ([`verifier`]: HMAC-SHA256 under a key derived
//! from the deployment key, over the ticket and the code), so an insider who copies the store
//! cannot try the 2^45 codes against it without the deployment key; an unkeyed SHA-256 of
//! a 45-bit code would fall to a laptop in a day. Codes issued before this format (32 hex
//! digits, stored as their plain SHA-256) keep working: [`check`] tells the two apart by the
//! stored value's prefix.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::language::Text;
use crate::pseudonym::DeploymentKey;
use crate::ticket::Ticket;

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random characters in a code.
pub const DATA_CHARS: usize = 9;
/// Characters in a code, the check character included.
pub const CODE_CHARS: usize = DATA_CHARS + 1;
/// Failed tries of a code allowed per ticket per [`TICKET_WINDOW_MS`].
pub const ATTEMPTS_PER_TICKET: u32 = 10;
pub const TICKET_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Failed tries of a code allowed per client address per [`ADDRESS_WINDOW_MS`].
pub const ATTEMPTS_PER_ADDRESS: u32 = 30;
pub const ADDRESS_WINDOW_MS: i64 = 3600 * 1000;
/// The prefix of a stored keyed verifier; anything else stored is a legacy plain SHA-256.
const VERIFIER_PREFIX: &str = "hmac1:";

/// A tracking code in its canonical form (ten upper-case Crockford characters).
#[derive(Clone, PartialEq, Eq)]
pub struct TrackingCode(String);

impl std::fmt::Debug for TrackingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A secret: never in a log line by accident.
        f.write_str("TrackingCode(…)")
    }
}

/// Why a typed code was not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a tracking code has {CODE_CHARS} characters; this one has {0}")]
    Length(usize),
    #[error("`{0}` is not a character of a tracking code")]
    Character(char),
    #[error("the check character does not match: a character is mistyped or two are swapped")]
    Check,
}

impl CodeError {
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::Length(_) | CodeError::Character(_) => "malformed-tracking-code",
            CodeError::Check => "tracking-code-typo",
        }
    }

    /// What to tell the person who typed it.
    pub fn message(&self) -> Text {
        match self {
            CodeError::Length(n) => Text::new(
                format!("Kode pelacakan terdiri dari {CODE_CHARS} huruf/angka (contoh K7QM-4RXD-9P); yang Anda ketik {n}."),
                format!("A tracking code has {CODE_CHARS} letters/digits (e.g. K7QM-4RXD-9P); you typed {n}."),
            ),
            CodeError::Character(c) => Text::new(
                format!("`{c}` tidak dipakai dalam kode pelacakan: periksa kembali kode Anda."),
                format!("`{c}` is not used in tracking codes: check your code again."),
            ),
            CodeError::Check => Text::new(
                "Kode pelacakan salah ketik: ada huruf/angka yang keliru atau tertukar. Periksa kembali kode Anda.",
                "The tracking code has a typo: a letter/digit is wrong or two are swapped. Check your code again.",
            ),
        }
    }
}

/// `2x` in GF(32) modulo x^5 + x^2 + 1.
fn double(x: u8) -> u8 {
    let shifted = x << 1;
    if shifted & 0x20 != 0 {
        (shifted ^ 0x25) & 0x1f
    } else {
        shifted
    }
}

/// Damm's interim value over the digits: `i ∗ d = 2i + d`.
fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0, |interim, &d| double(interim) ^ d)
}

/// The value of one typed character, reading look-alikes as Crockford does.
fn value(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u8)
}

impl TrackingCode {
    /// A code from (at least) [`DATA_CHARS`] × 5 random bits: each byte's low five bits make
    /// a character.
    pub fn from_random(random: &[u8]) -> TrackingCode {
        assert!(random.len() >= DATA_CHARS, "a tracking code needs {DATA_CHARS} random bytes");
        let mut digits: Vec<u8> = random[..DATA_CHARS].iter().map(|b| b & 0x1f).collect();
        digits.push(double(damm(&digits)));
        TrackingCode(digits.iter().map(|&d| ALPHABET[d as usize] as char).collect())
    }

    /// Read a typed code: case-insensitive, spaces and dashes ignored, check character
    /// verified.
    pub fn parse(typed: &str) -> Result<TrackingCode, CodeError> {
        let mut digits = Vec::with_capacity(CODE_CHARS);
        for c in typed.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            digits.push(value(c).ok_or(CodeError::Character(c))?);
        }
        if digits.len() != CODE_CHARS {
            return Err(CodeError::Length(digits.len()));
        }
        if damm(&digits) != 0 {
            return Err(CodeError::Check);
        }
        Ok(TrackingCode(digits.iter().map(|&d| ALPHABET[d as usize] as char).collect()))
    }

    /// The canonical form, `K7QM4RXD9P`, as it goes into a link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The grouped form people read and copy: `K7QM-4RXD-9P`.
    pub fn format_for_display(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

/// Read a typed code (see [`TrackingCode::parse`]): for pages that check a code before
/// sending it on.
pub fn parse(typed: &str) -> Result<TrackingCode, CodeError> {
    TrackingCode::parse(typed)
}

/// The grouped form of a code, for a receipt or a message.
pub fn format_for_display(code: &TrackingCode) -> String {
    code.format_for_display()
}

fn mac(key: &DeploymentKey, ticket: &Ticket, code: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.derive("tracking-code/v1")).expect("any key length");
    mac.update(ticket.as_str().as_bytes());
    mac.update(b"\n");
    mac.update(code.as_bytes());
    crate::hex::encode(&mac.finalize().into_bytes())
}

/// What the complaint record keeps of its code: a keyed hash over the ticket and the code.
pub fn verifier(key: &DeploymentKey, ticket: &Ticket, code: &TrackingCode) -> String {
    format!("{VERIFIER_PREFIX}{}", mac(key, ticket, code.as_str()))
}

/// What a presented code does against a stored verifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// It opens the complaint.
    Opens,
    /// A well-formed code that is not this complaint's: a failed attempt, counted.
    Wrong,
    /// Not a code as typed (a typo the check character caught, a wrong length): not counted,
    /// since it was never compared.
    Unreadable(CodeError),
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Check a presented code against what the record `ticket` stores (`stored`): a keyed
/// verifier for a code of this format, the plain SHA-256 of a 32-hex code issued before it.
/// Compared in constant time.
pub fn check(key: &DeploymentKey, ticket: &Ticket, stored: &str, presented: &str) -> Checked {
    if let Some(stored_mac) = stored.strip_prefix(VERIFIER_PREFIX) {
        return match TrackingCode::parse(presented) {
            Ok(code) if same(&mac(key, ticket, code.as_str()), stored_mac) => Checked::Opens,
            Ok(_) => Checked::Wrong,
            Err(e) => Checked::Unreadable(e),
        };
    }
    // A legacy code: 32 lower-case hex digits, kept as its SHA-256. Spaces and dashes a
    // person put in are dropped; case is folded.
    let legacy: String =
        presented.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
    let digest = crate::hex::encode(&Sha256::digest(legacy.as_bytes()));
    if !stored.is_empty() && same(&digest, stored) {
        Checked::Opens
    } else {
        Checked::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DeploymentKey {
        DeploymentKey::new("test-deployment-key").unwrap()
    }

    fn code(seed: u8) -> TrackingCode {
        let random: Vec<u8> =
            (0..DATA_CHARS as u8).map(|i| seed.wrapping_mul(37).wrapping_add(i * 11)).collect();
        TrackingCode::from_random(&random)
    }

    #[test]
    fn a_code_is_ten_unambiguous_characters_shown_in_three_groups() {
        let c = code(7);
        assert_eq!(c.as_str().len(), CODE_CHARS);
        assert!(c.as_str().chars().all(|ch| ALPHABET.contains(&(ch as u8))));
        assert!(!c.as_str().contains(['I', 'L', 'O', 'U']));
        let shown = c.format_for_display();
        assert_eq!(shown.len(), 12);
        assert_eq!(shown.matches('-').count(), 2);
        assert_eq!(TrackingCode::parse(&shown).unwrap(), c);
    }

    #[test]
    fn a_code_is_read_in_any_case_with_spaces_dashes_and_look_alikes() {
        let c = code(3);
        let shown = c.format_for_display();
        assert_eq!(TrackingCode::parse(&shown.to_lowercase()).unwrap(), c);
        assert_eq!(TrackingCode::parse(&format!("  {} ", shown.replace('-', " "))).unwrap(), c);
        let zero_as_o = "0".repeat(DATA_CHARS);
        let all_zero = TrackingCode::from_random(&[0; DATA_CHARS]);
        assert_eq!(all_zero.as_str(), format!("{zero_as_o}0"));
        assert_eq!(TrackingCode::parse("oooo-OOOO-o0").unwrap(), all_zero);
    }

    #[test]
    fn every_single_wrong_character_is_caught_as_a_typo() {
        for seed in 0..40 {
            let c = code(seed);
            for pos in 0..CODE_CHARS {
                for &other in ALPHABET.iter() {
                    let mut typed: Vec<u8> = c.as_str().bytes().collect();
                    if typed[pos] == other {
                        continue;
                    }
                    typed[pos] = other;
                    let typed = String::from_utf8(typed).unwrap();
                    assert_eq!(TrackingCode::parse(&typed), Err(CodeError::Check), "{typed} from {}", c.0);
                }
            }
        }
    }

    #[test]
    fn every_swap_of_neighbouring_characters_is_caught_as_a_typo() {
        for seed in 0..200 {
            let c = code(seed);
            let b: Vec<u8> = c.as_str().bytes().collect();
            for pos in 0..CODE_CHARS - 1 {
                if b[pos] == b[pos + 1] {
                    continue;
                }
                let mut typed = b.clone();
                typed.swap(pos, pos + 1);
                let typed = String::from_utf8(typed).unwrap();
                assert_eq!(TrackingCode::parse(&typed), Err(CodeError::Check), "{typed}");
            }
        }
    }

    #[test]
    fn a_code_of_the_wrong_length_or_with_a_foreign_character_says_so() {
        assert_eq!(TrackingCode::parse("K7QM-4RXD"), Err(CodeError::Length(8)));
        assert_eq!(TrackingCode::parse("K7QM-4RXD-9U"), Err(CodeError::Character('U')));
        assert!(CodeError::Check.message().get(crate::language::Language::Id).contains("salah ketik"));
    }

    #[test]
    fn the_record_keeps_a_keyed_hash_that_opens_only_with_the_code_and_key() {
        let t = Ticket::number(2026, 5).unwrap();
        let c = code(9);
        let stored = verifier(&key(), &t, &c);
        assert!(!stored.contains(c.as_str()));
        // Not the plain SHA-256 an insider could brute-force without the key.
        assert!(!stored.contains(&crate::hex::encode(&Sha256::digest(c.as_str().as_bytes()))));
        assert_eq!(check(&key(), &t, &stored, &c.format_for_display().to_lowercase()), Checked::Opens);
        assert_eq!(check(&key(), &t, &stored, c.as_str()), Checked::Opens);
        assert_eq!(check(&key(), &t, &stored, code(10).as_str()), Checked::Wrong);
        let other_key = DeploymentKey::new("another-key").unwrap();
        assert_eq!(check(&other_key, &t, &stored, c.as_str()), Checked::Wrong);
        // The same code on another ticket is another verifier.
        assert_ne!(verifier(&key(), &Ticket::number(2026, 6).unwrap(), &c), stored);
        assert!(matches!(check(&key(), &t, &stored, "K7QM-4RXD"), Checked::Unreadable(CodeError::Length(8))));
    }

    #[test]
    fn a_32_hex_code_issued_before_this_format_still_opens_its_complaint() {
        let t = Ticket::number(2026, 5).unwrap();
        let legacy = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
        let stored = crate::hex::encode(&Sha256::digest(legacy.as_bytes()));
        assert_eq!(check(&key(), &t, &stored, legacy), Checked::Opens);
        assert_eq!(check(&key(), &t, &stored, &legacy.to_uppercase()), Checked::Opens);
        assert_eq!(check(&key(), &t, &stored, "0f1e2d3c 4b5a6978 8796a5b4 c3d2e1f0"), Checked::Opens);
        assert_eq!(check(&key(), &t, &stored, "0f1e2d3c4b5a69788796a5b4c3d2e1f1"), Checked::Wrong);
        assert_eq!(check(&key(), &t, "", ""), Checked::Wrong);
    }
}
