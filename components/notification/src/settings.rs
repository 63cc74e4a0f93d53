//! Provider settings and delivery tuning, from Spin variables. A provider is on only when
//! every setting it needs to send is given (the domain's rule); base URLs are origins
//! (`scheme://host[:port]`, no path) because the same variables fill
//! `allowed_outbound_hosts`, which Spin resolves when it loads the app.

use ntbcare_domain::delivery::providers::{self, Configured};
use ntbcare_domain::delivery::RetryPolicy;
use ntbcare_platform::variable;

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    variable(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// Every provider NTB Care may send through, and each one's status: the domain decides
/// which are complete (`delivery::providers::configure`); an unset variable reads as empty.
pub fn providers() -> Configured {
    providers::configure(&|name| variable(name).map(|v| v.trim().to_string()).unwrap_or_default())
}

/// Attempts, backoff, lease, timeout and batch size.
pub struct Tuning {
    pub policy: RetryPolicy,
    pub lease_ms: i64,
    pub timeout_ms: u64,
    pub batch: usize,
}

pub fn tuning() -> Tuning {
    let d = RetryPolicy::default();
    let timeout_ms = number("notification_provider_timeout_ms", 10_000u64).max(1);
    Tuning {
        policy: RetryPolicy {
            max_attempts: number("notification_max_attempts", d.max_attempts).max(1),
            base_delay_ms: number("notification_retry_base_ms", d.base_delay_ms),
            max_delay_ms: number("notification_retry_max_ms", d.max_delay_ms),
        },
        // A lease must outlast a provider call, or a slow call's message could go out twice.
        lease_ms: number("notification_lease_ms", 120_000i64).max(3 * timeout_ms as i64),
        timeout_ms,
        batch: number("notification_batch", 50usize).clamp(1, 500),
    }
}
