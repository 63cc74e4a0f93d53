//! The reconciliation report: for every complaint NTB Care shares with LAPOR!, whether the
//! two are in step, still catching up, or failing.

use serde::Serialize;

use super::ledger::{LedgerEntry, Origin, State};
use super::status::lapor_equivalent;
use crate::complaint::Complaint;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Linked, everything NTB Care has to send is sent, and LAPOR! was read on the last check.
    InStep,
    /// Not yet on LAPOR!, or something still to send or read.
    Pending,
    /// Failing repeatedly, or waiting for an administrator.
    Failed,
    /// Deliberately not shared (e.g. rejected before export).
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    pub ticket: String,
    pub origin: Origin,
    pub standing: Standing,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lapor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntb_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lapor_status: Option<String>,
    /// Whether LAPOR!'s status is the one NTB Care's status maps to (docs/lapor.md).
    pub statuses_agree: bool,
    pub answers: usize,
    pub answers_sent: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub in_step: usize,
    pub pending: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Complaints queued for export that no sync has picked up yet (counted in `pending`).
    pub queued: usize,
    pub items: Vec<Item>,
}

pub fn state_name(s: &State) -> &'static str {
    match s {
        State::Queued => "queued",
        State::Creating { .. } => "creating",
        State::Uncertain { .. } => "uncertain",
        State::Review => "review",
        State::Linked => "linked",
        State::Skipped { .. } => "skipped",
    }
}

pub fn standing(entry: &LedgerEntry, complaint: Option<&Complaint>) -> Standing {
    if let State::Skipped { .. } = entry.state {
        return Standing::Skipped;
    }
    if entry.is_failing() {
        return Standing::Failed;
    }
    let answers = complaint.map(|c| c.case.answers.len()).unwrap_or(0);
    if entry.state == State::Linked && entry.lapor_status.is_some() && entry.answers_sent >= answers {
        Standing::InStep
    } else {
        Standing::Pending
    }
}

/// The report over the ledger, the complaints it names (by ticket) and the queued tickets
/// without a ledger record yet.
pub fn report(
    entries: &[LedgerEntry],
    complaint_of: impl Fn(&crate::ticket::Ticket) -> Option<Complaint>,
    queued_without_record: usize,
) -> Report {
    let mut r = Report { queued: queued_without_record, pending: queued_without_record, ..Report::default() };
    for e in entries {
        let c = complaint_of(&e.ticket);
        let s = standing(e, c.as_ref());
        match s {
            Standing::InStep => r.in_step += 1,
            Standing::Pending => r.pending += 1,
            Standing::Failed => r.failed += 1,
            Standing::Skipped => r.skipped += 1,
        }
        let expected = c.as_ref().map(|c| lapor_equivalent(c.status).name().to_string());
        r.items.push(Item {
            ticket: e.ticket.to_string(),
            origin: e.origin,
            standing: s,
            state: state_name(&e.state).into(),
            lapor_id: e.lapor_id.clone(),
            ntb_status: c.as_ref().map(|c| c.status.code().to_string()),
            lapor_status: e.lapor_status.clone(),
            statuses_agree: expected.is_some() && expected == e.lapor_status,
            answers: c.as_ref().map(|c| c.case.answers.len()).unwrap_or(0),
            answers_sent: e.answers_sent,
            last_error: e.last_error.clone(),
        });
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::casework::tests_support::complaint;
    use crate::clock::Timestamp;
    use crate::ticket::Ticket;

    #[test]
    fn counts_in_step_pending_failed_and_queued() {
        let t = |n| Ticket::number(2026, n).unwrap();
        let mut linked = LedgerEntry::new(t(1), Origin::Export, Timestamp(0));
        linked.state = State::Linked;
        linked.lapor_id = Some("1".into());
        linked.lapor_status = Some("Belum Terverifikasi".into());
        let queued = LedgerEntry::new(t(2), Origin::Export, Timestamp(0));
        let mut failing = LedgerEntry::new(t(3), Origin::Export, Timestamp(0));
        for _ in 0..3 {
            failing.record_failure("HTTP 503", Timestamp(0));
        }
        let r = report(&[linked, queued, failing], |t| Some(complaint(t.clone())), 2);
        assert_eq!((r.in_step, r.pending, r.failed, r.queued), (1, 3, 1, 2));
        assert!(r.items[0].statuses_agree);
        assert_eq!(r.items[2].last_error.as_deref(), Some("HTTP 503"));
    }
}
