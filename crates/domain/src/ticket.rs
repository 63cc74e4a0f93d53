//! Ticket numbers: short enough to read out over the phone, unique under concurrency.
//!
//! A ticket is `NTB-26-7KQ4MX`: the WITA year, five Crockford base-32 symbols and a check
//! symbol. The five symbols are a bijective scramble of the year's sequence number, which the
//! store allocates with an atomic increment, so two submissions at the same moment can never
//! share a ticket, while consecutive tickets do not look consecutive. Crockford's alphabet
//! has no I, L, O or U, and reading accepts the usual mix-ups (`O` for `0`, `I`/`L` for `1`),
//! lower case, spaces and missing dashes. The check symbol catches a mistyped or swapped
//! symbol before anything is looked up.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

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
    /// The ticket for the `sequence`-th complaint (1-based) of a WITA `year`.
    pub fn number(year: i32, sequence: u64) -> Result<Ticket, TicketError> {
        if sequence == 0 || sequence > TICKETS_PER_YEAR {
            return Err(TicketError::Exhausted(sequence));
        }
        let x = scramble(sequence - 1);
        let yy = (year.rem_euclid(100)) as u32;
        let mut symbols = [0u8; 7];
        symbols[0] = (yy / 10) as u8;
        symbols[1] = (yy % 10) as u8;
        for i in 0..5 {
            symbols[2 + i] = ((x >> (5 * (4 - i))) & 31) as u8;
        }
        let check = check_symbol(&symbols);
        let body: String = symbols[2..].iter().map(|&v| ALPHABET[v as usize] as char).collect();
        Ok(Ticket(format!("NTB-{yy:02}-{body}{}", ALPHABET[check as usize] as char)))
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

    /// The sequence number this ticket was made from.
    pub fn sequence(&self) -> u64 {
        let body = &self.0.as_bytes()[7..12];
        let x = body.iter().fold(0u64, |acc, &b| (acc << 5) | decode_symbol(b).unwrap() as u64);
        unscramble(x) + 1
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

// Each step is a bijection on 25 bits (xor-shift, odd multiplier modulo 2^25).
const MUL: u64 = 0x0B5_AD4B;
const MUL_INV: u64 = {
    // Newton's iteration for the inverse of an odd number modulo 2^25.
    let mut inv = MUL;
    let mut i = 0;
    while i < 5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(MUL.wrapping_mul(inv))) & MASK;
        i += 1;
    }
    inv
};

fn scramble(mut x: u64) -> u64 {
    x ^= x >> 13;
    x = x.wrapping_mul(MUL) & MASK;
    x ^= x >> 11;
    x = (x ^ 0x15A_5A5A) & MASK;
    x
}

fn unscramble(mut x: u64) -> u64 {
    x = (x ^ 0x15A_5A5A) & MASK;
    x ^= x >> 11;
    x ^= x >> 22;
    x = x.wrapping_mul(MUL_INV) & MASK;
    x ^= x >> 13;
    x
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
    fn scramble_is_a_bijection() {
        for x in (0..TICKETS_PER_YEAR).step_by(9973) {
            assert_eq!(unscramble(scramble(x)), x);
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
