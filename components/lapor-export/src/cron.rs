//! The scheduled side of lapor-export: Spin's cron trigger calls `handle-cron-event`, which
//! runs the same unit of work as `POST /api/v1/lapor/sync`, in process. While the
//! integration is off (`lapor_base_url` empty) it does nothing.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/deps/spin-cron@2.0.0/cron.wit",
        world: "fermyon:spin-cron/spin-cron",
    });
}

use bindings::{Error, Guest, Metadata};

struct Scheduled;

impl Guest for Scheduled {
    fn handle_cron_event(_metadata: Metadata) -> Result<(), Error> {
        match crate::sync_at(crate::now()) {
            Ok(Some(report)) => {
                println!("lapor sync: {}", serde_json::to_string(&report).unwrap_or_default());
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(Error::Other(format!("{} {:?}", e.code, e.cause))),
        }
    }
}

bindings::export!(Scheduled with_types_in bindings);
