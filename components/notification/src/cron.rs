//! The scheduled side of notification: Spin's cron trigger calls `handle-cron-event`. Every
//! event runs one delivery sweep; events between 07:00 and 08:00 WITA also queue the
//! units' daily digests (keyed by day, so later events that hour queue nothing twice).

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/deps/spin-cron@2.0.0/cron.wit",
        world: "fermyon:spin-cron/spin-cron",
    });
}

use bindings::{Error, Guest, Metadata};

struct Scheduled;

impl Guest for Scheduled {
    fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        let fail = |e: ntbcare_platform::ApiError| Error::Other(format!("{e:?}"));
        let wita = ntbcare_domain::clock::Timestamp(metadata.timestamp as i64 * 1000).wita();
        if wita.hour == 7 {
            let digest = crate::run_digest().map_err(fail)?;
            println!("digest: {}", digest["queued"]);
        }
        let counts = crate::run_sweep().map_err(fail)?;
        println!("sweep: {}", serde_json::to_string(&counts).unwrap_or_default());
        Ok(())
    }
}

bindings::export!(Scheduled with_types_in bindings);
