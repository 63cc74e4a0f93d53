//! `[[trigger.cron]]`: Spin's cron trigger plugin (`trigger-cron`, spinframework/
//! spin-trigger-cron `src/lib.rs`), built in.
//!
//! As the plugin: every trigger is its own schedule (croner 2, seconds first, UTC; see
//! [`crate::manifest::parse_cron_expression`]); at each tick the component gets a fresh
//! instance and its `handle-cron-event` export is called with `metadata { timestamp }`, the
//! Unix time in seconds. A run is not awaited before the next tick is scheduled, so a slow
//! run may overlap the next one (tokio-cron-scheduler spawns each run too). A guest `error`
//! or a trap is logged and the schedule goes on. The instance gets the same host interfaces
//! (key-value, variables, outbound HTTP) as an HTTP instance and sees the same stores.
//!
//! Unlike Spin, where the plugin runs as its own process beside the HTTP trigger, the
//! schedules here run in the host's process; stores are shared either way.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use chrono::Utc;

use crate::bindings::cron::fermyon::spin_cron::cron_types::{Error as CronError, Metadata};
use crate::runtime::Runtime;

/// Start one task per `[[trigger.cron]]`; they run until the process exits.
pub fn start(runtime: &Arc<Runtime>) {
    for trigger in &runtime.cron_triggers {
        crate::log::info(
            "cron scheduled",
            &[
                ("component", (&trigger.component).into()),
                ("cron_expression", (&trigger.cron_expression).into()),
            ],
        );
        let runtime = runtime.clone();
        let trigger = trigger.clone();
        tokio::spawn(async move {
            let mut last = Utc::now();
            loop {
                let now = Utc::now().max(last);
                let next = match trigger.schedule.find_next_occurrence(&now, false) {
                    Ok(n) => n,
                    Err(e) => {
                        crate::log::error(
                            "cron has no next run",
                            &[
                                ("component", (&trigger.component).into()),
                                ("error", e.to_string().as_str().into()),
                            ],
                        );
                        return;
                    }
                };
                if let Ok(wait) = (next - Utc::now()).to_std() {
                    tokio::time::sleep(wait).await;
                }
                last = next;
                let timestamp =
                    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                let runtime = runtime.clone();
                let id = trigger.component.clone();
                let expr = trigger.cron_expression.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let outcome = run_once(&runtime, &id, timestamp).await;
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    let fields = [
                        ("component", id.as_str().into()),
                        ("cron_expression", expr.as_str().into()),
                        ("duration_ms", crate::log::Value::Ms(ms)),
                    ];
                    match outcome {
                        Ok(()) => crate::log::info("cron run", &fields),
                        Err(e) => {
                            let error = format!("{e:#}");
                            let mut fields = fields.to_vec();
                            fields.push(("error", error.as_str().into()));
                            crate::log::error("cron run failed", &fields)
                        }
                    }
                });
            }
        });
    }
}

/// One cron event for `component_id`: a fresh instance, `handle-cron-event`, its result.
pub async fn run_once(runtime: &Arc<Runtime>, component_id: &str, timestamp: u64) -> Result<()> {
    let component = runtime
        .components
        .get(component_id)
        .with_context(|| format!("unknown component {component_id:?}"))?;
    let pre =
        component.cron.clone().with_context(|| format!("component {component_id:?} has no cron trigger"))?;
    let mut store = runtime.new_store(component);
    let used_kv = store.data().kv.used.clone();
    let call = async move {
        let instance = pre.instantiate_async(&mut store).await.map_err(|e| anyhow!("{e:?}"))?;
        instance
            .call_handle_cron_event(&mut store, Metadata { timestamp })
            .await
            .map_err(|e| anyhow!("cron handler trapped: {e:?}"))
    };
    let result = match runtime.options.request_timeout {
        Some(t) => tokio::time::timeout(t, call)
            .await
            .map_err(|_| anyhow!("cron handler gave no result within {t:?}"))??,
        None => call.await?,
    };
    // The run counts as done only once what it stored is durable, as for a request.
    if used_kv.load(std::sync::atomic::Ordering::Relaxed) {
        runtime
            .stores
            .sync()
            .await
            .map_err(|e| anyhow!("cron run's writes could not be made durable: {e}"))?;
    }
    match result {
        Ok(()) => Ok(()),
        Err(CronError::Other(message)) => Err(anyhow!("Component {component_id} failed: {message}")),
    }
}
