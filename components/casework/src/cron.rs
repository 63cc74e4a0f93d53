//! The scheduled side of casework: Spin's cron trigger calls `handle-cron-event`, which runs
//! the same escalation sweep as `POST /api/v1/cases/sweep`, in process.

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
        let report = crate::run_sweep(crate::now()).map_err(|e| Error::Other(format!("{e:?}")))?;
        println!("sweep: {}", serde_json::to_string(&report).unwrap_or_default());
        Ok(())
    }
}

bindings::export!(Scheduled with_types_in bindings);
