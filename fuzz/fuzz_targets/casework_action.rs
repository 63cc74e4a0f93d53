//! Officers' casework bodies (`POST /api/v1/cases/{ticket}/actions`) and the complainant's
//! rating (`POST …/rating`): an accepted action's texts are within their limits and trimmed,
//! a rating's score is 1 to 5; the answer check reads any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::casework::{check_answer, ActionRequest, Command, RatingRequest};

fn within(s: &str, max: usize) {
    assert!(!s.is_empty() && s.trim() == s && s.chars().count() <= max, "{s:?} (max {max})");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = ActionRequest::from_json(data) {
        if let Some(n) = &a.internal_note {
            within(n, 2000);
        }
        match &a.command {
            Command::Verify { title, category, .. } => {
                if let Some(t) = title {
                    within(t, 150);
                }
                if let Some(c) = category {
                    within(c, 64);
                }
            }
            Command::Forward { reason, .. } | Command::Reopen { reason } => within(reason, 1000),
            Command::RequestInformation { question } => within(question, 2000),
            Command::Respond { answer, .. } | Command::Complete { report: answer } => within(answer, 5000),
            _ => {}
        }
        let _ = a.command.action();
    }
    if let Ok(r) = RatingRequest::from_json(data) {
        assert!((1..=5).contains(&r.score));
        if let Some(c) = &r.comment {
            within(c, 1000);
        }
        let _ = r.reopens();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = check_answer(text);
    }
});
