//! The contract between NTB Care's components, generated from `wit/platform.wit`.
//!
//! wit-bindgen turns the WIT package `ntbcare:platform` into Rust types here, with serde
//! derives so that the very same types are the JSON that travels between functions (Spin
//! service chaining, or a URL when deployed apart) and that sits in the shared store. A
//! field added to the WIT changes both sides at once; a mismatch is a compile error, not a
//! surprise in production. This crate also converts between the contract and the domain,
//! so components never do it by hand. The `contract` world imports only types, no
//! functions, so linking this crate adds nothing to a component's imports.

wit_bindgen::generate!({
    path: "../../wit",
    world: "contract",
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    generate_unused_types: true,
});

use ntbcare_domain as domain;

pub use ntbcare::platform::types::{
    Assignment, CaseStatus, Channel, ContractError, OutboxMessage, Privacy, RoutingRequest,
};

/// The route that serves `ntbcare:platform/routing.route`.
pub const ROUTING_ROUTE_PATH: &str = "/api/v1/routing/route";

/// The header carrying the `internal_token` variable on calls between functions.
pub const INTERNAL_TOKEN_HEADER: &str = "x-ntbcare-internal-token";

impl From<domain::complaint::Channel> for Channel {
    fn from(c: domain::complaint::Channel) -> Self {
        use domain::complaint::Channel as D;
        match c {
            D::Web => Channel::Web,
            D::Mobile => Channel::Mobile,
            D::Sms => Channel::Sms,
            D::Whatsapp => Channel::Whatsapp,
            D::Facebook => Channel::Facebook,
            D::Instagram => Channel::Instagram,
            D::Email => Channel::Email,
            D::Open311 => Channel::Open311,
            D::Partner => Channel::Partner,
            D::Lapor => Channel::Lapor,
        }
    }
}

impl From<Channel> for domain::complaint::Channel {
    fn from(c: Channel) -> Self {
        use domain::complaint::Channel as D;
        match c {
            Channel::Web => D::Web,
            Channel::Mobile => D::Mobile,
            Channel::Sms => D::Sms,
            Channel::Whatsapp => D::Whatsapp,
            Channel::Facebook => D::Facebook,
            Channel::Instagram => D::Instagram,
            Channel::Email => D::Email,
            Channel::Open311 => D::Open311,
            Channel::Partner => D::Partner,
            Channel::Lapor => D::Lapor,
        }
    }
}

impl From<&domain::routing::Decision> for Assignment {
    fn from(d: &domain::routing::Decision) -> Self {
        Assignment {
            unit_id: d.unit.as_ref().map(|u| u.to_string()),
            rule_id: d.rule_id.clone(),
            suggested_category: d.suggested_category.clone(),
        }
    }
}

/// Why an assignment received from routing cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct BadAssignment(pub String);

impl TryFrom<Assignment> for domain::routing::Decision {
    type Error = BadAssignment;
    fn try_from(a: Assignment) -> Result<Self, BadAssignment> {
        let unit = match a.unit_id {
            Some(u) => Some(domain::directory::UnitId::parse(&u).map_err(|e| BadAssignment(e.to_string()))?),
            None => None,
        };
        Ok(domain::routing::Decision { unit, rule_id: a.rule_id, suggested_category: a.suggested_category })
    }
}

impl From<&domain::intake::Acknowledgement> for OutboxMessage {
    fn from(a: &domain::intake::Acknowledgement) -> Self {
        OutboxMessage {
            id: a.id.clone(),
            ticket: a.ticket.to_string(),
            template: a.template.clone(),
            language: a.language.code().to_string(),
            channel: a.channel.into(),
            recipient: a.recipient.clone(),
            fields: a.fields.clone(),
            queued_at: a.queued_at.0.max(0) as u64,
        }
    }
}

/// What routing is asked about a new complaint: never anything about the reporter.
pub fn routing_request(
    ticket: &domain::ticket::Ticket,
    channel: domain::complaint::Channel,
    submission: &domain::complaint::Submission,
) -> RoutingRequest {
    RoutingRequest {
        ticket: ticket.to_string(),
        channel: channel.into(),
        category: submission.category.clone(),
        region_code: submission.location.region_code.to_string(),
        description: submission.description.clone(),
    }
}

/// Routing's answer as a decision, or the coordinator's triage queue when routing could not
/// be reached or answered nonsense: a complaint is never refused because routing is down.
pub fn decision_or_triage(
    ticket: &domain::ticket::Ticket,
    answer: Result<Assignment, String>,
) -> domain::routing::Decision {
    let triage =
        |rule: &str| domain::routing::Decision { unit: None, rule_id: rule.into(), suggested_category: None };
    match answer.map(domain::routing::Decision::try_from) {
        Ok(Ok(decision)) => decision,
        Ok(Err(bad)) => {
            eprintln!("routing gave an unusable assignment for {ticket}: {}", bad.0);
            triage("triage:bad-assignment")
        }
        Err(e) => {
            eprintln!("routing unavailable for {ticket}, sent to triage: {e}");
            triage("triage:routing-unavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_round_trips_through_the_contract() {
        for c in domain::complaint::Channel::ALL {
            assert_eq!(domain::complaint::Channel::from(Channel::from(c)), c);
        }
    }

    #[test]
    fn assignment_travels_as_json_and_back() {
        let d = domain::routing::Decision {
            unit: Some(domain::directory::UnitId::parse("dikes").unwrap()),
            rule_id: "kesehatan-dikes".into(),
            suggested_category: None,
        };
        let json = serde_json::to_string(&Assignment::from(&d)).unwrap();
        let back: Assignment = serde_json::from_str(&json).unwrap();
        assert_eq!(domain::routing::Decision::try_from(back).unwrap(), d);
    }

    #[test]
    fn an_assignment_naming_a_malformed_unit_is_refused() {
        let a = Assignment {
            unit_id: Some("Dinas Sihir!".into()),
            rule_id: "x".into(),
            suggested_category: None,
        };
        assert!(domain::routing::Decision::try_from(a).is_err());
    }
}
