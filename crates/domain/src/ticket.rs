//! Ticket numbers: short enough to read out over the phone, unique under concurrency, and
//! not guessable from one deployment to the next.
//!
//! A ticket is `NTB-26-7KQ4MX`: the WITA year, five Crockford base-32 symbols and a check
//! symbol. The five symbols are a keyed bijective scramble of the year's sequence number, which
//! the store allocates with an atomic increment, so two submissions at the same moment can
//! never share a ticket, while consecutive tickets do not look consecutive. The scramble is
//! keyed by the deployment's secret ([`TicketKey`], from `deployment_key`): without the key,
//! knowing tickets of one deployment tells nothing of another's, and nobody can list a
//! deployment's tickets to learn which confidential complaints exist. Crockford's alphabet
//! has no I, L, O or U, and reading accepts the usual mix-ups (`O` for `0`, `I`/`L` for `1`),
//! lower case, spaces and missing dashes. The check symbol catches a mistyped or swapped
//! symbol before anything is looked up. Reading a ticket needs no key; only numbering does.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use thiserror::Error;

use crate::pseudonym::DeploymentKey;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// How many tickets one year can number: 32^5.
pub const TICKETS_PER_YEAR: u64 = 1 << 25;
const MASK: u64 = TICKETS_PER_YEAR - 1;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TicketError {
    #[error("`{0}` is not an NTB Care ticket such as NTB-26-7KQ4MX")]
    Malformed(String),
    #[error("ticket `{0}` has a wrong check symbol: a symbol was probably mistyped")]
    BadCheck(String),
    #[error("sequence {0} is beyond what one year can number")]
    Exhausted(u64),
}

impl Ticket {
    /// The ticket for the `sequence`-th complaint (1-based) of a WITA `year` in the deployment
    /// whose key is `key`.
    pub fn issue(year: i32, sequence: u64, key: &TicketKey) -> Result<Ticket, TicketError> {
        if sequence == 0 || sequence > TICKETS_PER_YEAR {
            return Err(TicketError::Exhausted(sequence));
        }
        Ok(Ticket::from_scrambled(year, key.scramble(sequence - 1)))
    }

    /// The ticket a store numbered before tickets were keyed (every deployment the same
    /// scramble) gave the `sequence`-th complaint of `year`. Only for finding complaints that
    /// such a store numbered without a numbering index ([`crate::intake::issued`]); never
    /// to number a new one.
    pub fn unkeyed_before_keys(year: i32, sequence: u64) -> Result<Ticket, TicketError> {
        if sequence == 0 || sequence > TICKETS_PER_YEAR {
            return Err(TicketError::Exhausted(sequence));
        }
        Ok(Ticket::from_scrambled(year, unkeyed::scramble(sequence - 1)))
    }

    fn from_scrambled(year: i32, x: u64) -> Ticket {
        let yy = (year.rem_euclid(100)) as u32;
        let mut symbols = [0u8; 7];
        symbols[0] = (yy / 10) as u8;
        symbols[1] = (yy % 10) as u8;
        for i in 0..5 {
            symbols[2 + i] = ((x >> (5 * (4 - i))) & 31) as u8;
        }
        let check = check_symbol(&symbols);
        let body: String = symbols[2..].iter().map(|&v| ALPHABET[v as usize] as char).collect();
        Ticket(format!("NTB-{yy:02}-{body}{}", ALPHABET[check as usize] as char))
    }

    /// Read a ticket as a person might type or say it.
    pub fn parse(input: &str) -> Result<Ticket, TicketError> {
        let malformed = || TicketError::Malformed(input.chars().take(40).collect());
        let cleaned: Vec<u8> = input
            .trim()
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' ' | b'.'))
            .map(|b| b.to_ascii_uppercase())
            .collect();
        let rest = cleaned.strip_prefix(b"NTB").ok_or_else(malformed)?;
        if rest.len() != 8 {
            return Err(malformed());
        }
        let mut values = [0u8; 8];
        for (i, &b) in rest.iter().enumerate() {
            values[i] = decode_symbol(b).ok_or_else(malformed)?;
        }
        if values[0] > 9 || values[1] > 9 {
            return Err(malformed());
        }
        if check_symbol(&values[..7]) != values[7] {
            return Err(TicketError::BadCheck(input.chars().take(40).collect()));
        }
        let canonical: String = values[2..].iter().map(|&v| ALPHABET[v as usize] as char).collect();
        Ok(Ticket(format!("NTB-{}{}-{canonical}", values[0], values[1])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sequence number this ticket was made from, in the deployment whose key is `key`.
    /// Nothing in production needs it: lists read the numbering index
    /// ([`crate::intake::issued`]) and order by time.
    pub fn sequence_under(&self, key: &TicketKey) -> u64 {
        let body = &self.0.as_bytes()[7..12];
        let x = body.iter().fold(0u64, |acc, &b| (acc << 5) | decode_symbol(b).unwrap() as u64);
        key.unscramble(x) + 1
    }
}

/// Tests number tickets as the test harness's deployment does (`deployment_key` =
/// `test-deployment-key`), so an end-to-end test can name the first ticket a fresh app issues.
#[cfg(any(test, feature = "test-util"))]
impl Ticket {
    pub fn number(year: i32, sequence: u64) -> Result<Ticket, TicketError> {
        Ticket::issue(year, sequence, &TicketKey::for_tests())
    }

    pub fn sequence(&self) -> u64 {
        self.sequence_under(&TicketKey::for_tests())
    }
}

fn decode_symbol(b: u8) -> Option<u8> {
    let b = match b {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        other => other,
    };
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u8)
}

/// Weighted sum modulo 31: weights 1..=7 are all invertible mod 31, so any single wrong
/// symbol or swap of two neighbours changes the check.
fn check_symbol(values: &[u8]) -> u8 {
    let sum: u32 = values.iter().enumerate().map(|(i, &v)| (i as u32 + 1) * v as u32).sum();
    (sum % 31) as u8
}

/// The scramble every deployment shared before tickets were keyed (kept only to find what
/// such a store numbered: see [`Ticket::unkeyed_before_keys`]).
mod unkeyed {
    use super::MASK;

    const MUL: u64 = 0x0B5_AD4B;

    pub(super) fn scramble(mut x: u64) -> u64 {
        x ^= x >> 13;
        x = x.wrapping_mul(MUL) & MASK;
        x ^= x >> 11;
        x = (x ^ 0x15A_5A5A) & MASK;
        x
    }
}

/// The key of the ticket scramble: HMAC-SHA256 under a key derived from the deployment key
/// with the label `ticket/v1`.
///
/// The scramble is an unbalanced Feistel network on the 25 bits of a sequence number: a
/// 13-bit half and a 12-bit half, each round xoring one half with a keyed function of the
/// other. Every round undoes itself, so the whole is a bijection of 0..2^25 onto itself
/// whatever the round function, with no cycle walking. The round function is the first 32
/// bits of HMAC-SHA256(key, round ‖ half), so without the key the rounds are unpredictable.
/// Eight rounds: each half passes through four keyed functions.
#[derive(Clone)]
pub struct TicketKey(Hmac<Sha256>);

const HIGH_BITS: u32 = 13;
const LOW_MASK: u64 = (1 << (25 - HIGH_BITS)) - 1;
const HIGH_MASK: u64 = (1 << HIGH_BITS) - 1;
const ROUNDS: u8 = 8;

impl TicketKey {
    pub fn new(deployment: &DeploymentKey) -> TicketKey {
        TicketKey(Hmac::new_from_slice(&deployment.derive("ticket/v1")).expect("HMAC takes any key length"))
    }

    /// The key of the test harness's deployment (`test-deployment-key`).
    #[cfg(any(test, feature = "test-util"))]
    pub fn for_tests() -> TicketKey {
        TicketKey::new(&DeploymentKey::new("test-deployment-key").expect("not empty"))
    }

    fn round(&self, round: u8, half: u64) -> u64 {
        let mut mac = self.0.clone();
        mac.update(&[round]);
        mac.update(&(half as u32).to_be_bytes());
        let out = mac.finalize().into_bytes();
        u32::from_be_bytes([out[0], out[1], out[2], out[3]]) as u64
    }

    fn step(&self, round: u8, x: u64) -> u64 {
        let (high, low) = (x >> (25 - HIGH_BITS), x & LOW_MASK);
        let (high, low) = if round.is_multiple_of(2) {
            (high ^ (self.round(round, low) & HIGH_MASK), low)
        } else {
            (high, low ^ (self.round(round, high) & LOW_MASK))
        };
        (high << (25 - HIGH_BITS)) | low
    }

    fn scramble(&self, x: u64) -> u64 {
        (0..ROUNDS).fold(x & MASK, |x, r| self.step(r, x))
    }

    fn unscramble(&self, x: u64) -> u64 {
        (0..ROUNDS).rev().fold(x & MASK, |x, r| self.step(r, x))
    }
}

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(…)")
    }
}

impl std::fmt::Display for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Ticket {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Ticket {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ticket::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ticket_reads_back_as_itself_and_its_sequence() {
        for seq in [1u64, 2, 3, 1000, 77_777, TICKETS_PER_YEAR] {
            let t = Ticket::number(2026, seq).unwrap();
            assert_eq!(t.as_str().len(), "NTB-26-7KQ4MX".len(), "{t}");
            assert!(t.as_str().starts_with("NTB-26-"));
            assert_eq!(Ticket::parse(t.as_str()).unwrap(), t);
            assert_eq!(t.sequence(), seq);
        }
    }

    #[test]
    fn distinct_sequences_give_distinct_tickets() {
        let tickets: HashSet<_> = (1..=50_000).map(|s| Ticket::number(2026, s).unwrap()).collect();
        assert_eq!(tickets.len(), 50_000);
    }

    #[test]
    fn the_unkeyed_scramble_of_earlier_stores_is_kept_exactly() {
        // Every deployment before keyed tickets issued NTB-26-NMPJTY first (issue #16).
        assert_eq!(Ticket::unkeyed_before_keys(2026, 1).unwrap().as_str(), "NTB-26-NMPJTY");
    }

    #[test]
    fn scramble_is_a_bijection() {
        let key = TicketKey::for_tests();
        for x in (0..TICKETS_PER_YEAR).step_by(9973) {
            let y = key.scramble(x);
            assert!(y < TICKETS_PER_YEAR);
            assert_eq!(key.unscramble(y), x);
        }
    }

    #[test]
    fn two_deployments_number_their_tickets_differently() {
        let a = TicketKey::new(&DeploymentKey::new("deployment a").unwrap());
        let b = TicketKey::new(&DeploymentKey::new("deployment b").unwrap());
        let first_a: Vec<Ticket> = (1..=1000).map(|s| Ticket::issue(2026, s, &a).unwrap()).collect();
        let first_b: HashSet<Ticket> = (1..=1000).map(|s| Ticket::issue(2026, s, &b).unwrap()).collect();
        assert_ne!(first_a[0], Ticket::issue(2026, 1, &b).unwrap());
        // 1000 of 2^25 each: an overlap or two is chance, a shared run would be a leak.
        let shared = first_a.iter().filter(|t| first_b.contains(t)).count();
        assert!(shared <= 2, "{shared} shared");
        // The same key numbers the same way every time.
        let again = TicketKey::new(&DeploymentKey::new("deployment a").unwrap());
        assert_eq!(first_a[0], Ticket::issue(2026, 1, &again).unwrap());
    }

    #[test]
    fn the_scramble_is_pinned_for_its_mirror_in_scripts_bench_reporting() {
        // scripts/bench-reporting numbers a pre-generated store in python the same way.
        let key = TicketKey::new(&DeploymentKey::new("bench-deployment-key").unwrap());
        let t = |year, seq| Ticket::issue(year, seq, &key).unwrap().to_string();
        assert_eq!(
            (t(2026, 1), t(2026, 2), t(2027, 123456)),
            ("NTB-26-KV1NMG".into(), "NTB-26-FNA94V".into(), "NTB-27-3ZX2DS".into())
        );
    }

    #[test]
    fn a_ticket_reads_back_without_the_key_and_its_sequence_with_it() {
        let key = TicketKey::new(&DeploymentKey::new("deployment a").unwrap());
        for seq in [1u64, 2, 99, 1 << 20, TICKETS_PER_YEAR] {
            let t = Ticket::issue(2031, seq, &key).unwrap();
            assert_eq!(Ticket::parse(&t.as_str().to_lowercase()).unwrap(), t);
            assert_eq!(t.sequence_under(&key), seq);
        }
    }

    #[test]
    fn reads_tickets_as_people_type_them() {
        let t = Ticket::number(2026, 42).unwrap();
        let sloppy = t.as_str().to_lowercase().replace('-', " ");
        assert_eq!(Ticket::parse(&sloppy).unwrap(), t);
        let no_dashes = t.as_str().replace('-', "");
        assert_eq!(Ticket::parse(&no_dashes).unwrap(), t);
    }

    #[test]
    fn a_mistyped_or_swapped_symbol_fails_the_check() {
        let t = Ticket::number(2026, 12345).unwrap();
        let s = t.as_str().as_bytes().to_vec();
        for i in 7..12 {
            let mut typo = s.clone();
            typo[i] = if typo[i] == b'7' { b'8' } else { b'7' };
            assert!(Ticket::parse(std::str::from_utf8(&typo).unwrap()).is_err());
            if s[i] != s[i + 1] {
                let mut swapped = s.clone();
                swapped.swap(i, i + 1);
                assert!(Ticket::parse(std::str::from_utf8(&swapped).unwrap()).is_err());
            }
        }
    }

    #[test]
    fn rejects_what_is_not_a_ticket() {
        for bad in
            ["", "NTB", "LPR-26-7KQ4MX", "NTB-26-7KQ4M", "NTB-26-7KQ4MXX", "NTB-2A-7KQ4MX", "NTB-26-7KQ4U!"]
        {
            assert!(Ticket::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Ticket::number(2026, 0).is_err());
        assert!(Ticket::number(2026, TICKETS_PER_YEAR + 1).is_err());
    }
}
