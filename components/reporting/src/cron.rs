//! The scheduled side of reporting: Spin's cron trigger calls `handle-cron-event`, which runs
//! the tally reconciliation (`POST /api/v1/reports/reconcile`), in process.

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
        match crate::reconcile(None) {
            Ok(report) => {
                println!("reconcile: {}", serde_json::to_string(&report).unwrap_or_default());
                Ok(())
            }
            // Another repair holds the lease: this run has nothing to do.
            Err(e) if e.status == 409 => Ok(()),
            Err(e) => Err(Error::Other(format!("{e:?}"))),
        }
    }
}

bindings::export!(Scheduled with_types_in bindings);
