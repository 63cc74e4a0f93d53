//! Every key NTB Care stores, built in one place.
//!
//! Layout: one JSON record per complaint under `complaint/<ticket>`, so tracking is one read;
//! counters (`sequence/…`, `tally/…`) only ever written by atomic increment; queues as one
//! marker key per item under a prefix, so adding to a queue never rewrites a shared list.
//! The `identity` store (intake and notification only) holds `reporter/<ticket>` and the
//! outbox, whose messages carry addresses.

use crate::complaint::Channel;
use crate::directory::UnitId;
use crate::lifecycle::CaseStatus;
use crate::ticket::Ticket;

pub const COMPLAINT_PREFIX: &str = "complaint/";
pub const OUTBOX_PREFIX: &str = "outbox/";
pub const LAPOR_PENDING_PREFIX: &str = "lapor/pending/";

pub fn complaint(ticket: &Ticket) -> String {
    format!("{COMPLAINT_PREFIX}{ticket}")
}

/// The reporter's identity and contact (identity store).
pub fn reporter(ticket: &Ticket) -> String {
    format!("reporter/{ticket}")
}

/// A message waiting for delivery (identity store).
pub fn outbox(message_id: &str) -> String {
    format!("{OUTBOX_PREFIX}{message_id}")
}

/// The counter that numbers a WITA year's tickets.
pub fn ticket_sequence(year: i32) -> String {
    format!("sequence/ticket/{year}")
}

/// The ticket the `sequence`-th complaint of a WITA year was given (see
/// `intake::allocate_ticket`): lists read a year's complaints through it, so they never need
/// the key tickets are scrambled with.
pub fn numbering(year: i32, sequence: u64) -> String {
    format!("numbering/{year}/{sequence}")
}

/// A complaint waiting to be created on SP4N-LAPOR!.
pub fn lapor_pending(ticket: &Ticket) -> String {
    format!("{LAPOR_PENDING_PREFIX}{ticket}")
}

/// Complaints now in a status.
pub fn tally_status(status: CaseStatus) -> String {
    format!("tally/status/{}", status.code())
}

/// Complaints received for a unit (`triage` for those no rule matched).
pub fn tally_unit(unit: Option<&UnitId>) -> String {
    format!("tally/unit/{}", unit.map(UnitId::as_str).unwrap_or(TRIAGE))
}

/// Complaints received through a channel.
pub fn tally_channel(channel: Channel) -> String {
    format!("tally/channel/{}", channel.code())
}

/// The name of the coordinator's triage queue in tallies and views.
pub const TRIAGE: &str = "triage";

/// An officer's account.
pub fn officer(username: &crate::org::Username) -> String {
    format!("officer/{username}")
}

/// The list of every officer's username (for administrators' listings).
pub const OFFICERS: &str = "officers";

/// Claimed once by the first registration of a username.
pub fn officer_claim(username: &crate::org::Username) -> String {
    format!("claim/officer/{username}")
}

/// A signed-out session, refused until it would have expired anyway.
pub fn revoked_session(jti: &str) -> String {
    format!("session/revoked/{jti}")
}
