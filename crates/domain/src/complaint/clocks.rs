//! The clock of the step a case is in: which step, since when, and its deadlines.
//!
//! Here, beside the record, rather than in casework: casework, the open-case index, the
//! live measures and delivery all read it, and none of them is then imported by another
//! through it (it was `casework::clocks`, and `casework` → `open_index` → `measures::live`
//! → `casework` was a loop). `casework::clocks` still names it.

use crate::calendar::WorkingCalendar;
use crate::clock::Timestamp;
use crate::complaint::Complaint;
use crate::lifecycle::{Action, CaseStatus};
use crate::sla::{Deadlines, Priority, SlaRules, Step};

/// When the case last took `actions`, or was received.
fn last(c: &Complaint, actions: &[Action]) -> Timestamp {
    c.history.iter().rev().find(|e| actions.contains(&e.action)).map(|e| e.at).unwrap_or(c.received_at)
}

/// The step now running and when it started; none for a finished case.
///
/// After the answer a case is in the completion step (with a field inspection, the
/// longer one) until the unit reports the follow-up done; only then does the quiet period
/// before the automatic closure start. A record answered before completion was a step
/// (no `completion` stored) keeps the rule it was answered under: quiet period from the
/// answer.
pub fn open_step(c: &Complaint) -> Option<(Step, Timestamp)> {
    use CaseStatus as S;
    Some(match c.status {
        S::Received | S::Verified => (Step::Verification, c.received_at),
        S::Forwarded => (Step::Verification, last(c, &[Action::Forward])),
        S::Dispatched | S::Reopened => (Step::FirstResponse, last(c, &[Action::Dispatch, Action::Reopen])),
        S::InProgress => (Step::FollowUp, last(c, &[Action::Dispatch, Action::Reopen])),
        S::Responded => match &c.case.completion {
            // Answered, the follow-up not yet reported done: the completion limit, counted
            // like LAPOR!'s from the dispatch (or reopening) that gave the unit the case.
            Some(done) if done.completed_at.is_none() => (
                if done.inspection { Step::CompletionInspection } else { Step::Completion },
                last(c, &[Action::Dispatch, Action::Reopen]),
            ),
            // Reported done: the quiet period before closing runs from the report.
            Some(done) => (Step::AutoClose, done.completed_at.unwrap_or(c.received_at)),
            // Stored before completion was a step: the answer stands for it, as then.
            None => (Step::AutoClose, last(c, &[Action::Respond])),
        },
        S::Closed | S::Rejected => return None,
    })
}

/// The open step's deadlines, counting pauses (an open pause runs until `now`).
pub fn deadlines(
    c: &Complaint,
    rules: &SlaRules,
    calendar: &WorkingCalendar,
    now: Timestamp,
) -> Option<(Step, Deadlines)> {
    let (step, started) = open_step(c)?;
    let mut paused = c.case.pauses.clone();
    if let Some(since) = c.case.awaiting_information_since {
        paused.push((since, now.max(since)));
    }
    let region = c.location.region_code.regency();
    let priority = c.case.priority.unwrap_or(Priority::Ordinary);
    Some((step, rules.deadlines(step, priority, started, &paused, calendar, Some(&region))))
}
