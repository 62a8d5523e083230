//! The web layer's part of a cluster: invitations and "page views written"
//! reach every node, and in cluster mode each response names its node in
//! `__Host-ts_node` for the load balancer.

use std::sync::Arc;

use axum::extract::Request;
use http::header;
use serde::{Deserialize, Serialize};
use tessera_cluster::Topic;
use tessera_cookies::CookieId;
use tessera_core::{SiteId, VisitorId};

use crate::{AppState, Invite};

#[derive(Serialize, Deserialize)]
struct InviteWire {
    site: u32,
    visitor: i64,
    agent: String,
    message: String,
}

impl AppState {
    /// Sends an invitation to every Messenger socket of the visitor, on any
    /// node. True if it reached a socket here or went out to the other nodes.
    pub fn send_invite(&self, invite: Invite) -> bool {
        let cluster = self.core().cluster();
        let mut sent = false;
        if cluster.node().is_some() {
            let wire = InviteWire {
                site: invite.site.get(),
                visitor: invite.visitor.get(),
                agent: invite.agent.clone(),
                message: invite.message.clone(),
            };
            if let Ok(payload) = serde_json::to_vec(&wire) {
                cluster.publish(Topic::Invites, payload);
                sent = cluster.link() == tessera_cluster::Link::Up;
            }
        }
        self.invites().send(invite).is_ok() || sent
    }

    /// Changes whenever page views were written on any node: live visitor lists refresh.
    pub(crate) fn live_visits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.live_visits.subscribe()
    }
}

/// Registers this node's handlers and starts forwarding local writes. Needs a Tokio runtime.
pub(crate) fn join(state: &AppState) {
    let cluster = state.core().cluster().clone();
    let weak = Arc::downgrade(&state.inner);
    cluster.on_message(
        Topic::Invites,
        Arc::new(move |payload: &[u8]| {
            let Some(inner) = weak.upgrade() else { return };
            let Ok(w) = serde_json::from_slice::<InviteWire>(payload) else { return };
            let Ok(site) = SiteId::new(w.site) else { return };
            let invite = Invite { site, visitor: VisitorId::new(w.visitor), agent: w.agent, message: w.message };
            inner.invites.send(invite).ok();
        }),
    );
    let weak = Arc::downgrade(&state.inner);
    cluster.on_message(
        Topic::Visits,
        Arc::new(move |_payload: &[u8]| {
            if let Some(inner) = weak.upgrade() {
                inner.live_visits.send_modify(|n| *n += 1);
            }
        }),
    );
    let mut written = state.ingest().written();
    let weak = Arc::downgrade(&state.inner);
    tokio::spawn(async move {
        while written.changed().await.is_ok() {
            let Some(inner) = weak.upgrade() else { return };
            inner.live_visits.send_modify(|n| *n += 1);
            cluster.publish(Topic::Visits, Vec::new());
        }
    });
}

/// Cluster mode: the `__Host-ts_node` cookie naming this node, unless the
/// request already carried exactly that name (so a failover updates it at
/// once). Called by the security-headers middleware rather than being a
/// layer of its own: a `from_fn` layer costs every request a boxed service.
pub(crate) fn node_cookie_for(state: &AppState, request: &Request) -> Option<cookie::Cookie<'static>> {
    let node = state.core().cluster().node()?;
    let registry = state.registry();
    let name = registry.name(CookieId::Node);
    let headers = request.headers().get_all(header::COOKIE);
    let current_is_me = tessera_cookies::find_cookie(headers.iter().map(|v| v.as_bytes()), name)
        .is_some_and(|v| v == node.as_str().as_bytes());
    (!current_is_me).then(|| registry.set(CookieId::Node, node.to_string()))
}
