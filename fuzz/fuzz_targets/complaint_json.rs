//! The web and mobile API's complaint body (`POST /api/v1/complaints`, JSON) against the
//! shipped directory: never a panic, and an accepted complaint holds the documented limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::complaint::Submission;

fuzz_target!(|data: &[u8]| {
    match Submission::from_json(data, ntbcare_fuzz::directory()) {
        Ok(s) => ntbcare_fuzz::check_submission(&s),
        Err(e) => {
            // Every refusal can be told to a citizen, in both languages, naming its field.
            let text = e.message();
            assert!(!text.id.is_empty() && !text.en.is_empty());
            let _ = (e.code(), e.field());
        }
    }
});
