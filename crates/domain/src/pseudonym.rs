//! Pseudonyms: what the shared (`default`) store keeps instead of anything that could name a
//! reporter.
//!
//! Every component can read the default store, so no key or value there may hold a phone
//! number, an e-mail address, a messaging handle (PSID, IGSID), a provider's message id (a
//! WhatsApp `wamid.…` is base64 of the sender's number) or a client's IP address. Where the
//! shared store still needs such a value as a key (exactly-once claims of a message, rate
//! limits per sender), it keeps [`Pseudonym::of`] it: HMAC-SHA256 under a key derived from
//! the deployment's secret (`deployment_key`), with a label per kind of value. Unkeyed
//! SHA-256 would not do: Indonesian mobile numbers are about 10^10, which a laptop hashes in
//! an afternoon, so an unkeyed digest of a phone is the phone.
//!
//! The same deployment key also keys the ticket scramble ([`crate::ticket::TicketKey`]),
//! through its own label, so neither derived key says anything about the other.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::complaint::Channel;

type HmacSha256 = Hmac<Sha256>;

/// The deployment's secret (Spin variable `deployment_key`), from which every keyed hash of
/// the app derives a key of its own.
#[derive(Clone)]
pub struct DeploymentKey(Vec<u8>);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DeploymentKeyError {
    #[error("deployment_key is empty: set it to a long random secret (scripts/up generates one)")]
    Empty,
}

impl DeploymentKey {
    /// The key as configured; an empty key is refused, never used.
    pub fn new(secret: &str) -> Result<DeploymentKey, DeploymentKeyError> {
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(DeploymentKeyError::Empty);
        }
        Ok(DeploymentKey(secret.as_bytes().to_vec()))
    }

    /// A key for one purpose: HMAC-SHA256(deployment key, "ntbcare/<label>").
    pub(crate) fn derive(&self, label: &str) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"ntbcare/");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The key pseudonyms are made with.
    pub fn pseudonyms(&self) -> PseudonymKey {
        PseudonymKey(self.derive("pseudonym/v1"))
    }
}

impl std::fmt::Debug for DeploymentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeploymentKey(…)")
    }
}

/// The key of [`Pseudonym::of`], derived from the [`DeploymentKey`].
#[derive(Clone)]
pub struct PseudonymKey([u8; 32]);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(…)")
    }
}

/// What a pseudonym stands for; part of what is hashed, so the same string of two kinds
/// (a number as a sender and as a message id) gives two unrelated pseudonyms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A provider's id of an inbound message on a channel.
    Message(Channel),
    /// A person's contact: a phone number or an e-mail address, in its canonical form.
    Contact,
    /// A client's network address.
    ClientAddress,
}

impl Kind {
    fn label(self) -> String {
        match self {
            Kind::Message(channel) => format!("message/{}", channel.code()),
            Kind::Contact => "contact".into(),
            Kind::ClientAddress => "client-address".into(),
        }
    }
}

/// A keyed hash of an identifying value: 128 bits as 32 lowercase hex digits. At 128 bits two
/// values share a pseudonym with odds of about n²/2^129, nothing at any number of messages
/// a province receives, while a key stays short.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym(String);

impl Pseudonym {
    pub fn of(kind: Kind, value: &str, key: &PseudonymKey) -> Pseudonym {
        let mut mac = HmacSha256::new_from_slice(&key.0).expect("HMAC takes any key length");
        mac.update(kind.label().as_bytes());
        mac.update(b"\n");
        mac.update(value.as_bytes());
        Pseudonym(crate::hex::encode(&mac.finalize().into_bytes()[..16]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> PseudonymKey {
        DeploymentKey::new(s).unwrap().pseudonyms()
    }

    #[test]
    fn a_pseudonym_is_stable_under_one_key_and_unrelated_under_another() {
        let a = Pseudonym::of(Kind::Contact, "+6281234567890", &key("one"));
        assert_eq!(a, Pseudonym::of(Kind::Contact, "+6281234567890", &key("one")));
        assert_ne!(a, Pseudonym::of(Kind::Contact, "+6281234567890", &key("two")));
        assert_ne!(a, Pseudonym::of(Kind::Contact, "+6281234567891", &key("one")));
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn the_kind_is_part_of_the_pseudonym() {
        let k = key("one");
        let wa = Pseudonym::of(Kind::Message(Channel::Whatsapp), "x", &k);
        assert_ne!(wa, Pseudonym::of(Kind::Message(Channel::Sms), "x", &k));
        assert_ne!(wa, Pseudonym::of(Kind::Contact, "x", &k));
    }

    #[test]
    fn a_pseudonym_holds_nothing_of_its_value() {
        let phone = "6281234567890";
        let p = Pseudonym::of(Kind::Contact, phone, &key("one"));
        assert!(!p.as_str().contains("81234567"));
    }

    #[test]
    fn an_empty_deployment_key_is_refused() {
        assert_eq!(DeploymentKey::new("  ").unwrap_err(), DeploymentKeyError::Empty);
    }
}
