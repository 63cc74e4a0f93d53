//! The steps every channel shares once a submission is checked: number it, ask routing,
//! receive it in the domain, save it.

use ntbcare_contract as contract;
use ntbcare_domain::clock::Timestamp;
use ntbcare_domain::complaint::{Attachment, Channel, ExternalReference, Submission};
use ntbcare_domain::duplicates;
use ntbcare_domain::intake::{self, Arrival, Received};
use ntbcare_domain::pseudonym::{DeploymentKey, PseudonymKey};
use ntbcare_domain::routing::Decision;
use ntbcare_domain::store::KeyValue;
use ntbcare_domain::ticket::{Ticket, TicketKey};
use ntbcare_domain::tracking_code::{self, TrackingCode};
use ntbcare_domain::upload::Upload;
use ntbcare_platform::http as web;
use ntbcare_platform::{variable, ApiError, ApiResult, SpinStore};

/// A complaint received and saved, with the secret only its complainant gets.
pub struct Accepted {
    pub received: Received,
    pub tracking_url: String,
    pub tracking_secret: String,
}

pub async fn accept(
    store: &SpinStore,
    identity: &SpinStore,
    submission: Submission,
    channel: Channel,
    now: Timestamp,
    external: Option<ExternalReference>,
    uploads: Vec<Upload>,
) -> ApiResult<Accepted> {
    let accepted = prepare(store, identity, submission, channel, now, external, uploads).await?;
    commit(store, identity, &accepted)?;
    Ok(accepted)
}

/// Everything up to the commit: numbered, routed, received, files saved. Nothing visible
/// yet; a caller with something to save before the commit (an idempotent answer) saves it
/// now, then calls [`commit`].
pub async fn prepare(
    store: &SpinStore,
    identity: &SpinStore,
    submission: Submission,
    channel: Channel,
    now: Timestamp,
    external: Option<ExternalReference>,
    uploads: Vec<Upload>,
) -> ApiResult<Accepted> {
    let ticket = intake::allocate_ticket(store, now, &TicketKey::new(&deployment_key()?))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let decision = ask_routing(&ticket, channel, &submission).await;
    // Nine random characters and a check character (`domain::tracking_code`); the record
    // keeps only a keyed hash of it.
    let code = TrackingCode::from_random(&ntbcare_platform::random_bytes(tracking_code::DATA_CHARS as u64));
    let tracking_secret = code.format_for_display();
    let base = variable("public_base_url")?;
    let tracking_url = intake::tracking_url(&base, ticket.as_str(), submission.language);
    let mut received = intake::receive(Arrival {
        submission,
        channel,
        ticket,
        decision,
        tracking_secret: &tracking_secret,
        tracking_url: &tracking_url,
        now,
    });
    received.complaint.external = external;
    let key = deployment_key()?;
    received.complaint.tracking_secret_sha256 =
        tracking_code::verifier(&key, &received.complaint.ticket, &code);
    // On a messaging channel the acknowledgement goes back to the sender the channel
    // verified: it carries the private link (ticket and code) to their own view.
    if let Some(ack) = received.acknowledgement.as_mut() {
        if intake::carries_private_link(channel, ack.channel) {
            let link = intake::private_tracking_url(&base, ack.ticket.as_str(), code.as_str(), ack.language);
            for (name, value) in ack.fields.iter_mut() {
                if name == "tracking_url" {
                    *value = link.clone();
                }
            }
        }
    }
    if let Some(reporter) = &received.reporter {
        let c = &received.complaint;
        // Advisory: a flag for the verifier. If the reporter's recent list is too busy to
        // update, the complaint goes ahead unflagged rather than failing.
        received.complaint.case.possible_duplicate_of =
            duplicates::note(identity, reporter, &c.ticket, &c.description, now).unwrap_or_else(|e| {
                eprintln!("duplicate check skipped for {}: {e}", c.ticket);
                None
            });
    }
    if !uploads.is_empty() {
        // Files first: an orphan file names no visible complaint; the record is the commit.
        let ticket = &received.complaint.ticket;
        let mut files = Vec::with_capacity(uploads.len());
        for (n, upload) in uploads.into_iter().enumerate() {
            let key = format!("attachment/{ticket}/{}", n + 1);
            received.complaint.attachments.push(Attachment {
                kind: upload.kind.to_string(),
                reference: key.clone(),
                mime_type: Some(upload.mime_type.to_string()),
                caption: upload.name,
                size: Some(upload.data.len() as u64),
            });
            files.push((key, upload.data));
        }
        store.set_many(&files)?;
    }
    Ok(Accepted { received, tracking_url, tracking_secret })
}

/// The deployment's secret (`deployment_key`), from which ticket numbers and pseudonyms are
/// keyed; a deployment without one cannot take complaints (500, and the cause in the log).
pub fn deployment_key() -> ApiResult<DeploymentKey> {
    DeploymentKey::new(&variable("deployment_key")?).map_err(|e| ApiError::internal(e.to_string()))
}

/// The key of the pseudonyms the shared store keeps instead of message ids, numbers,
/// addresses and handles (`domain::pseudonym`).
pub fn pseudonym_key() -> ApiResult<PseudonymKey> {
    Ok(deployment_key()?.pseudonyms())
}

/// Save the complaint: the commit point (`intake::save`).
pub fn commit(store: &SpinStore, identity: &SpinStore, accepted: &Accepted) -> ApiResult<()> {
    intake::save(store, identity, &accepted.received, |ack| {
        serde_json::to_vec(&contract::OutboxMessage::from(ack)).expect("outbox message encodes")
    })?;
    Ok(())
}

/// Routing's decision, or the triage queue when routing cannot be reached: a complaint is
/// never refused because another function is down.
async fn ask_routing(ticket: &Ticket, channel: Channel, submission: &Submission) -> Decision {
    let request = contract::routing_request(ticket, channel, submission);
    let answer: Result<contract::Assignment, String> = async {
        let base = variable("routing_url").map_err(|e| format!("{e:?}"))?;
        let token = variable("internal_token").map_err(|e| format!("{e:?}"))?;
        web::call_contract(
            &base,
            contract::ROUTING_ROUTE_PATH,
            contract::INTERNAL_TOKEN_HEADER,
            &token,
            &request,
        )
        .await
    }
    .await;
    contract::decision_or_triage(ticket, answer)
}
