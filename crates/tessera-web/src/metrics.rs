//! This node's Prometheus metrics (`GET /metrics`, see `docs/operations.md`).
//!
//! Every series is created when the node starts, so a request only indexes
//! an array and adds to atomics: no label map lookup, no lock, no
//! allocation. The request duration histogram is our own (two atomic adds
//! per request) because prometheus-client's takes a mutex per observation;
//! it is still encoded by prometheus-client. Gauges that describe state
//! (sessions cached, the cluster link) are read when scraped.

use std::convert::Infallible;
use std::fmt::{self, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler as _;
use axum::response::Response;
use prometheus_client::encoding::{
    EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};
use tessera_cluster::Link;
use tower::{Layer, Service};

use crate::AppState;

/// The `Content-Type` of the exposition (OpenMetrics text, which Prometheus reads).
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which part of the application answered: the `interface` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Surface {
    /// The Help Center.
    Portal,
    Agent,
    Admin,
    /// The tag, the Messenger frame, its session and the visitor's socket.
    Messenger,
    /// Visitor monitoring (hits, probes, events).
    Monitor,
    /// Content-hashed static files.
    Assets,
    /// No route (404).
    Other,
}

impl Surface {
    const ALL: [Surface; 7] = [
        Surface::Portal,
        Surface::Agent,
        Surface::Admin,
        Surface::Messenger,
        Surface::Monitor,
        Surface::Assets,
        Surface::Other,
    ];

    const fn as_str(self) -> &'static str {
        match self {
            Surface::Portal => "portal",
            Surface::Agent => "agent",
            Surface::Admin => "admin",
            Surface::Messenger => "messenger",
            Surface::Monitor => "monitor",
            Surface::Assets => "assets",
            Surface::Other => "other",
        }
    }

    pub(crate) const fn of(interface: tessera_core::Interface) -> Self {
        match interface {
            tessera_core::Interface::Portal => Surface::Portal,
            tessera_core::Interface::Agent => Surface::Agent,
            tessera_core::Interface::Admin => Surface::Admin,
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl EncodeLabelValue for Surface {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// A response status by its first digit: the `status` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct StatusClass(u8);

impl StatusClass {
    const COUNT: usize = 5;

    fn index_of(status: http::StatusCode) -> usize {
        usize::from(status.as_u16() / 100).clamp(1, Self::COUNT) - 1
    }
}

impl EncodeLabelValue for StatusClass {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        write!(encoder, "{}xx", self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    interface: Surface,
    status: StatusClass,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SurfaceLabels {
    interface: Surface,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LinkLabels {
    state: &'static str,
}

const LINKS: [Link; 3] = [Link::Alone, Link::Up, Link::Down];

/// This node's metrics. Cheap to clone (one `Arc`).
///
/// Counted by the web layer, except the cluster bus's failures, which the
/// bus counts itself (`Cluster::errors`) and a scrape copies.
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    /// `[surface][status class]`.
    requests: [[Counter; StatusClass::COUNT]; Surface::ALL.len()],
    durations: [DurationHistogram; Surface::ALL.len()],
    sessions_cached: Gauge,
    visitors_live: Gauge,
    conversations_active: Gauge,
    store_errors: Counter,
    cluster_errors: Counter,
    /// In the order of [`LINKS`].
    cluster_link: [Gauge; 3],
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();

        let requests_family = Family::<RequestLabels, Counter>::default();
        let requests = Surface::ALL.map(|interface| {
            std::array::from_fn(|i| {
                let status = StatusClass(u8::try_from(i + 1).unwrap_or(5));
                requests_family.get_or_create(&RequestLabels { interface, status }).clone()
            })
        });
        registry.register(
            "tessera_http_requests",
            "HTTP requests answered, by interface and status class (health, readiness and metrics not counted)",
            requests_family,
        );

        let durations_family = Family::<SurfaceLabels, DurationHistogram>::default();
        let durations =
            Surface::ALL.map(|interface| durations_family.get_or_create(&SurfaceLabels { interface }).clone());
        registry.register_with_unit(
            "tessera_http_request_duration",
            "Time from routing to the response head, by interface (a WebSocket counts its upgrade only)",
            Unit::Seconds,
            durations_family,
        );

        let sessions_cached = Gauge::default();
        registry.register(
            "tessera_sessions_cached",
            "Sessions held in this node's session cache (all interfaces)",
            sessions_cached.clone(),
        );
        let visitors_live = Gauge::default();
        registry.register(
            "tessera_visitors_live",
            "Visits on customers' websites still within their site's idle window, all nodes (read from the store when scraped)",
            visitors_live.clone(),
        );
        let conversations_active = Gauge::default();
        registry.register(
            "tessera_conversations_active",
            "Sockets on this node following a conversation (a visitor's Messenger or an agent's console)",
            conversations_active.clone(),
        );
        let store_errors = Counter::default();
        registry.register(
            "tessera_store_errors",
            "Store failures: requests that failed on a store error, and failed readiness checks",
            store_errors.clone(),
        );
        let cluster_errors = Counter::default();
        registry.register(
            "tessera_cluster_errors",
            "Failures of this node's link to its peers (the cluster bus), as reported by the cluster layer",
            cluster_errors.clone(),
        );
        let link_family = Family::<LinkLabels, Gauge>::default();
        let cluster_link = LINKS.map(|link| link_family.get_or_create(&LinkLabels { state: link.as_str() }).clone());
        registry.register(
            "tessera_cluster_link",
            "This node's link to its peers: 1 for the current state (alone, up or down), 0 for the others",
            link_family,
        );

        let inner = Inner {
            registry,
            requests,
            durations,
            sessions_cached,
            visitors_live,
            conversations_active,
            store_errors,
            cluster_errors,
            cluster_link,
        };
        Self { inner: Arc::new(inner) }
    }

    /// Counts one store failure (`tessera_store_errors_total`).
    pub(crate) fn store_error(&self) {
        self.inner.store_errors.inc();
    }

    /// Counts a socket that follows a conversation until the guard is dropped.
    pub(crate) fn conversation_followed(&self) -> Following {
        self.inner.conversations_active.inc();
        Following(self.inner.conversations_active.clone())
    }

    fn record(&self, surface: Surface, status: http::StatusCode, took: Duration) {
        self.inner.requests[surface.index()][StatusClass::index_of(status)].inc();
        self.inner.durations[surface.index()].observe(took);
    }

    /// The exposition, with the state gauges read now.
    /// `cluster_errors` is the bus's own running count (`Cluster::errors`);
    /// `visitors_live` is `None` when the store did not answer in time (the
    /// gauge keeps its last value).
    pub(crate) fn render(&self, now: Scrape) -> String {
        let Scrape { sessions_cached, link, cluster_errors, visitors_live } = now;
        let inner = &self.inner;
        if let Some(n) = visitors_live {
            inner.visitors_live.set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        inner.cluster_errors.inc_by(cluster_errors.saturating_sub(inner.cluster_errors.get()));
        inner.sessions_cached.set(i64::try_from(sessions_cached).unwrap_or(i64::MAX));
        for (gauge, state) in inner.cluster_link.iter().zip(LINKS) {
            gauge.set(i64::from(state == link));
        }
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &inner.registry);
        out
    }
}

/// The figures a scrape reads at that moment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scrape {
    pub sessions_cached: usize,
    pub link: Link,
    pub cluster_errors: u64,
    pub visitors_live: Option<u64>,
}

/// One socket following a conversation; `tessera_conversations_active` counts it while it lives.
#[derive(Debug)]
pub(crate) struct Following(Gauge);

impl Drop for Following {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Upper bounds of the duration buckets, in microseconds (1 ms to 10 s; then +Inf).
const BOUNDS_MICROS: [u64; 13] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// A histogram of durations made of atomics: an observation is two relaxed
/// adds (its bucket and the sum). The count is the sum of the buckets, so a
/// scrape always sees them agree.
#[derive(Clone, Debug, Default)]
struct DurationHistogram(Arc<HistogramCells>);

#[derive(Debug, Default)]
struct HistogramCells {
    /// Per bucket (not cumulative); the last one is +Inf.
    buckets: [AtomicU64; BOUNDS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl DurationHistogram {
    fn observe(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_MICROS.iter().position(|&bound| micros <= bound).unwrap_or(BOUNDS_MICROS.len());
        self.0.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.0.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

impl TypedMetric for DurationHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for DurationHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> fmt::Result {
        let mut buckets = [(f64::INFINITY, 0_u64); BOUNDS_MICROS.len() + 1];
        let mut count = 0;
        for (i, (bound, n)) in buckets.iter_mut().enumerate() {
            *n = self.0.buckets[i].load(Ordering::Relaxed);
            count += *n;
            if let Some(&micros) = BOUNDS_MICROS.get(i) {
                *bound = micros as f64 / 1e6;
            }
        }
        let sum = self.0.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// `routes`, each request counted and timed under `surface`.
pub(crate) fn tracked(state: &AppState, surface: Surface, routes: Router<AppState>) -> Router<AppState> {
    routes.layer(TrackLayer { metrics: state.metrics().clone(), surface })
}

/// The answer to a path no route matches (404), counted under `other`.
pub(crate) fn not_found(
    state: &AppState,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + Sync + 'static {
    TrackLayer { metrics: state.metrics().clone(), surface: Surface::Other }
        .layer(crate::pages::not_found.with_state(state.clone()))
}

/// Counts and times requests. A hand-written layer with its own future (no
/// boxing), like the interface layer.
#[derive(Clone, Debug)]
pub(crate) struct TrackLayer {
    metrics: Metrics,
    surface: Surface,
}

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Track { inner, metrics: self.metrics.clone(), surface: self.surface }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Track<S> {
    inner: S,
    metrics: Metrics,
    surface: Surface,
}

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        TrackFuture {
            inner: self.inner.call(req),
            metrics: self.metrics.clone(),
            surface: self.surface,
            start: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The wrapped service's future; records the response when it is ready.
    pub(crate) struct TrackFuture<F> {
        #[pin]
        inner: F,
        metrics: Metrics,
        surface: Surface,
        start: Instant,
    }
}

impl<F, E> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(res) = &result {
            this.metrics.record(*this.surface, res.status(), this.start.elapsed());
            if res.extensions().get::<crate::error::StoreFailure>().is_some() {
                this.metrics.store_error();
            }
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes_cover_every_status() {
        assert_eq!(StatusClass::index_of(http::StatusCode::SWITCHING_PROTOCOLS), 0);
        assert_eq!(StatusClass::index_of(http::StatusCode::OK), 1);
        assert_eq!(StatusClass::index_of(http::StatusCode::SEE_OTHER), 2);
        assert_eq!(StatusClass::index_of(http::StatusCode::NOT_FOUND), 3);
        assert_eq!(StatusClass::index_of(http::StatusCode::SERVICE_UNAVAILABLE), 4);
        let odd = http::StatusCode::from_u16(999).expect("a three-digit status");
        assert_eq!(StatusClass::index_of(odd), 4);
    }

    #[test]
    fn the_link_gauge_shows_the_state_given_at_the_scrape() {
        let metrics = Metrics::new();
        let down =
            metrics.render(Scrape { sessions_cached: 3, link: Link::Down, cluster_errors: 2, visitors_live: Some(7) });
        assert!(down.contains("tessera_cluster_link{state=\"down\"} 1\n"), "{down}");
        assert!(down.contains("tessera_cluster_link{state=\"up\"} 0\n"), "{down}");
        assert!(down.contains("tessera_cluster_link{state=\"alone\"} 0\n"), "{down}");
        assert!(down.contains("tessera_sessions_cached 3\n"), "{down}");
        assert!(down.contains("tessera_cluster_errors_total 2\n"), "{down}");
        assert!(down.contains("tessera_visitors_live 7\n"), "{down}");
        let up = metrics.render(Scrape { sessions_cached: 0, link: Link::Up, cluster_errors: 5, visitors_live: None });
        assert!(up.contains("tessera_cluster_link{state=\"up\"} 1\n") && up.contains("{state=\"down\"} 0\n"));
        assert!(up.contains("tessera_cluster_errors_total 5\n"), "the bus's running count: {up}");
        assert!(up.contains("tessera_visitors_live 7\n"), "a slow store keeps the last figure: {up}");
    }

    #[test]
    fn durations_land_in_their_bucket_and_the_count_is_the_buckets_sum() {
        let h = DurationHistogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(60));
        let counts: Vec<u64> = h.0.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        assert_eq!(counts[0], 2, "up to and including 1 ms");
        assert_eq!(counts[5], 1, "25 ms < 30 ms <= 50 ms");
        assert_eq!(counts[BOUNDS_MICROS.len()], 1, "past 10 s: +Inf");
        assert_eq!(counts.iter().sum::<u64>(), 4);
        assert_eq!(h.0.sum_micros.load(Ordering::Relaxed), 500 + 1_000 + 30_000 + 60_000_000);
    }
}
