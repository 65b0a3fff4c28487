//! The gateway's own counters, exported on `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of per-operation series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    /// Signing name of the service, or `unknown`.
    pub service: String,
    /// Operation name, or `unknown` for unregistered ones.
    pub operation: String,
    /// HTTP status class (`2xx`, `4xx`, `5xx`).
    pub status: String,
}

/// Labels of latency series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    /// Signing name of the service.
    pub service: String,
    /// Operation name.
    pub operation: String,
}

/// Counters and histograms the gateway maintains.
#[derive(Clone)]
pub struct GatewayMetrics {
    /// Requests by service, operation and status class.
    pub requests: Family<OpLabels, Counter>,
    /// Request latency in seconds by service and operation.
    pub latency: Family<LatencyLabels, Histogram>,
    /// Requests that failed authentication.
    pub auth_failures: Counter,
    /// Activity records that could not be made durable.
    pub journal_failures: Counter,
    /// Request bytes received.
    pub request_bytes: Counter,
}

impl Default for GatewayMetrics {
    fn default() -> Self {
        GatewayMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_05, 2.0, 18))),
            auth_failures: Counter::default(),
            journal_failures: Counter::default(),
            request_bytes: Counter::default(),
        }
    }
}

impl GatewayMetrics {
    /// Registers every series under the `watchtrail_gateway` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let sub = registry.sub_registry_with_prefix("watchtrail_gateway");
        sub.register("requests", "API requests handled", self.requests.clone());
        sub.register("request_duration_seconds", "API request latency", self.latency.clone());
        sub.register("auth_failures", "Requests that failed authentication", self.auth_failures.clone());
        sub.register("journal_failures", "Activity records that could not be made durable", self.journal_failures.clone());
        sub.register("request_bytes", "Request body bytes received", self.request_bytes.clone());
    }
}
