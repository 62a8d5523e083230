//! What operators and orchestrators ask a node: is it alive (`/healthz`),
//! should it take traffic (`/readyz`), and its metrics (`/metrics`).
//!
//! These routes sit outside the interfaces' session-and-CSRF layer and are
//! not counted in the request metrics: they read no cookie and change
//! nothing. `/metrics` is for a private network only (see
//! `docs/operations.md`): the reverse proxy does not forward it.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use tessera_cluster::Link;

use crate::AppState;

/// How long the readiness check waits for the store.
const STORE_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

/// Liveness: 200 `ok` whenever the process serves HTTP. No I/O, so a slow
/// store or a lost cluster link never gets a live node restarted.
async fn healthz() -> &'static str {
    "ok\n"
}

#[derive(serde::Serialize)]
struct Readiness {
    status: &'static str,
    store: &'static str,
    cluster: &'static str,
    node: Option<String>,
}

/// Readiness: whether a load balancer should send this node requests.
///
/// One cheap store read (the default site, by key) with a one-second
/// timeout, and the cluster link state (an atomic load):
///
/// - store fails or is slow: 503, `"status":"unready"`: this node cannot
///   answer anything that needs the store;
/// - store fine, link `Down`: **200**, `"status":"degraded"`. The node still
///   answers correctly: with the link down it stops trusting its local
///   caches and reads the store instead (slower), and live fan-out from
///   other nodes pauses until the link returns. Taking every node out of the
///   pool because Redis is away would turn a slowdown into an outage;
///   `degraded` and `tessera_cluster_link` are for alerting;
/// - otherwise 200, `"status":"ready"` (`cluster` is `alone` on a single node).
///
/// A failed check counts in `tessera_store_errors_total`.
async fn readyz(State(state): State<AppState>) -> Response {
    let site = state.config().default_site;
    let store_ok = match tokio::time::timeout(STORE_TIMEOUT, state.core().store().site(site)).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: the store failed");
            false
        }
        Err(_) => {
            tracing::warn!(timeout_ms = STORE_TIMEOUT.as_millis(), "readiness check: the store did not answer in time");
            false
        }
    };
    if !store_ok {
        state.metrics().store_error();
    }
    let link = state.cluster().link();
    let (code, status) = verdict(store_ok, link);
    let body = Readiness {
        status,
        store: if store_ok { "ok" } else { "error" },
        cluster: link.as_str(),
        node: state.cluster().node().map(|n| n.as_str().to_owned()),
    };
    (code, axum::Json(body)).into_response()
}

/// The readiness answer for a store check and a link state (see [`readyz`]).
fn verdict(store_ok: bool, link: Link) -> (StatusCode, &'static str) {
    match (store_ok, link) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unready"),
        (true, Link::Down) => (StatusCode::OK, "degraded"),
        (true, Link::Alone | Link::Up) => (StatusCode::OK, "ready"),
    }
}

/// Prometheus metrics of this node (OpenMetrics text). See [`crate::metrics`].
async fn metrics(State(state): State<AppState>) -> Response {
    let cluster = state.cluster();
    let visitors_live = tokio::time::timeout(STORE_TIMEOUT, crate::pages::live_visit_count(&state)).await;
    let now = crate::metrics::Scrape {
        sessions_cached: state.core().cached_sessions(),
        link: cluster.link(),
        cluster_errors: cluster.errors(),
        visitors_live: visitors_live.ok().and_then(Result::ok),
    };
    let body = state.metrics().render(now);
    ([(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE))], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_cluster_link_degrades_but_only_a_failing_store_makes_a_node_unready() {
        assert_eq!(verdict(true, Link::Alone), (StatusCode::OK, "ready"));
        assert_eq!(verdict(true, Link::Up), (StatusCode::OK, "ready"));
        assert_eq!(verdict(true, Link::Down), (StatusCode::OK, "degraded"));
        for link in [Link::Alone, Link::Up, Link::Down] {
            assert_eq!(verdict(false, link), (StatusCode::SERVICE_UNAVAILABLE, "unready"));
        }
    }
}
