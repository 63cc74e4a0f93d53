//! Open311 GeoReport v2 `POST requests` (form-encoded) against the shipped directory: an
//! accepted request carries a complaint within the web API's limits and an API key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::open311::submit::{parse_request_form, EXTERNAL_ID_MAX_CHARS, MEDIA_URL_MAX_CHARS};
use ntbcare_domain::open311::Format;

fuzz_target!(|data: &[u8]| {
    match parse_request_form(data, ntbcare_fuzz::directory()) {
        Ok(req) => {
            assert!(!req.api_key.trim().is_empty());
            ntbcare_fuzz::check_submission(&req.submission);
            assert_eq!(req.submission.category.as_deref(), Some(req.meta.service_code.as_str()));
            for v in [&req.meta.device_id, &req.meta.account_id, &req.meta.address_id].into_iter().flatten() {
                assert!(v.chars().count() <= EXTERNAL_ID_MAX_CHARS, "{v:?}");
            }
            if let Some(u) = &req.meta.media_url {
                assert!(u.chars().count() <= MEDIA_URL_MAX_CHARS);
            }
        }
        Err(e) => {
            let status = e.http_status();
            assert!((400..500).contains(&status), "a bad request answered {status}");
            let _ = (e.render(Format::Json, Default::default()), e.render(Format::Xml, Default::default()));
        }
    }
});
