//! Sessions across nodes: the confirmed revocation broadcast, the link
//! handler, and the shared cache tier's encoding.
//!
//! Each node keeps its own in-memory cache (the per-request path never
//! leaves the process). What makes that safe with several nodes:
//! - a revocation tombstones the ID in the shared tier first (so no node
//!   refills it from there), then is broadcast with confirmation: when the
//!   call returns, every node has tombstoned it locally or has stopped
//!   trusting its cache ([`tessera_cluster::Cluster::publish_confirmed`]);
//! - while a node cannot trust its cache (the bus is down, or its heartbeat
//!   lease lapsed), every request re-reads the durable store;
//! - on every link change the node drops its live entries (it may have
//!   missed revocations) and keeps its tombstones.

use std::sync::{Arc, Weak};

use serde::{Deserialize, Serialize};
use tessera_cluster::{Link, Topic};
use tessera_core::{DisplayName, Email, Interface, PersonId, Role, Selector, SiteId, Timestamp, TokenHash};
use tessera_store::SessionRecord;

use crate::sessions::{LiveSession, PersonView};
use crate::{Inner, SessionCore};

/// A filled entry lives this long in the shared tier; it is only a cache.
pub(crate) const FILL_SECONDS: u64 = 60;
/// A tombstone must outlive any fill that raced it (a load in flight).
pub(crate) const TOMBSTONE_SECONDS: u64 = 2 * FILL_SECONDS;
const TOMBSTONE: &[u8] = b"R";

pub(crate) fn key(id: &TokenHash) -> String {
    format!("session:{}", hex::encode(id.as_bytes()))
}

/// What a shared-tier lookup found.
pub(crate) enum Shared {
    Revoked,
    Live(Box<LiveSession>),
}

#[derive(Serialize, Deserialize)]
struct Entry {
    person: i64,
    site: u32,
    interface: String,
    created: i64,
    seen: i64,
    expires: i64,
    restored: bool,
    remember: Option<String>,
    ip: Option<String>,
    ua: Option<String>,
    email: String,
    name: String,
    role: String,
}

pub(crate) fn encode(live: &LiveSession) -> Vec<u8> {
    let (r, p) = (&live.record, &live.person);
    let entry = Entry {
        person: r.person_id.get(),
        site: r.site_id.get(),
        interface: r.interface.as_str().to_owned(),
        created: r.created_at.unix(),
        seen: live.last_seen().unix(),
        expires: r.expires_at.unix(),
        restored: r.restored,
        remember: r.remember.map(|s| hex::encode(s.as_bytes())),
        ip: r.ip.clone(),
        ua: r.user_agent.clone(),
        email: p.email.as_str().to_owned(),
        name: p.name.as_str().to_owned(),
        role: p.role.as_str().to_owned(),
    };
    serde_json::to_vec(&entry).unwrap_or_default()
}

/// Decodes an entry; `None` for anything malformed (treated as a miss).
pub(crate) fn decode(id: TokenHash, bytes: &[u8]) -> Option<Shared> {
    if bytes == TOMBSTONE {
        return Some(Shared::Revoked);
    }
    let e: Entry = serde_json::from_slice(bytes).ok()?;
    let site_id = SiteId::new(e.site).ok()?;
    let remember = match e.remember {
        Some(hex) => Some(Selector::from_bytes(&hex::decode(hex).ok()?)?),
        None => None,
    };
    let record = SessionRecord {
        id_hash: id,
        person_id: PersonId::new(e.person),
        site_id,
        interface: Interface::parse(&e.interface).ok()?,
        created_at: Timestamp::from_unix(e.created),
        last_seen_at: Timestamp::from_unix(e.seen),
        expires_at: Timestamp::from_unix(e.expires),
        restored: e.restored,
        remember,
        ip: e.ip,
        user_agent: e.ua,
    };
    let person = PersonView {
        id: record.person_id,
        site_id,
        email: Email::parse(&e.email).ok()?,
        name: DisplayName::parse(&e.name).ok()?,
        role: Role::parse(&e.role).ok()?,
    };
    Some(Shared::Live(Box::new(LiveSession::new(record, person))))
}

impl SessionCore {
    /// Tells every other node that `ids` are gone (see the module docs).
    pub(crate) async fn broadcast_revoked(&self, ids: &[TokenHash]) {
        let cluster = &self.inner.cluster;
        if ids.is_empty() || cluster.node().is_none() {
            return;
        }
        let tombstones: Vec<_> = ids.iter().map(|id| (key(id), TOMBSTONE.to_vec())).collect();
        cluster.shared_overwrite(&tombstones, TOMBSTONE_SECONDS).await;
        let payload = ids.iter().flat_map(|id| id.as_bytes().iter().copied()).collect();
        if let Err(e) = cluster.publish_confirmed(Topic::Sessions, payload).await {
            // Kept by the bus and sent when it returns; meanwhile no node trusts its cache.
            tracing::warn!(error = %e, sessions = ids.len(), "revocation broadcast deferred");
        }
    }
}

/// Subscribes the core to other nodes' revocations and to link changes.
pub(crate) fn listen(inner: &Arc<Inner>) {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    inner.cluster.on_message(
        Topic::Sessions,
        Arc::new(move |payload: &[u8]| {
            let Some(inner) = weak.upgrade() else { return };
            let now = inner.clock.now();
            for id in payload.chunks_exact(32).filter_map(TokenHash::from_bytes) {
                inner.cache.revoke(id, now);
            }
        }),
    );
    let weak: Weak<Inner> = Arc::downgrade(inner);
    inner.cluster.on_link(Arc::new(move |link: Link| {
        let Some(inner) = weak.upgrade() else { return };
        let dropped = inner.cache.clear_live();
        tracing::info!(link = link.as_str(), dropped, "cluster link changed: session cache emptied");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::SessionToken;

    #[test]
    fn a_shared_entry_round_trips_and_garbage_is_a_miss() {
        let id = SessionToken::generate().hash();
        let t = Timestamp::from_unix(1_000);
        let record = SessionRecord {
            id_hash: id,
            person_id: PersonId::new(7),
            site_id: SiteId::DEFAULT,
            interface: Interface::Agent,
            created_at: t,
            last_seen_at: t.plus(5),
            expires_at: t.plus(100),
            restored: true,
            remember: Selector::from_bytes(&[3; 16]),
            ip: Some("10.0.0.1".into()),
            user_agent: None,
        };
        let person = PersonView {
            id: PersonId::new(7),
            site_id: SiteId::DEFAULT,
            email: Email::parse("a@example.com").expect("email"),
            name: DisplayName::parse("Ann").expect("name"),
            role: Role::Agent,
        };
        let live = LiveSession::new(record.clone(), person.clone());
        let Some(Shared::Live(back)) = decode(id, &encode(&live)) else { panic!("decodes") };
        assert_eq!((back.record.clone(), back.person.clone()), (record, person));
        assert!(matches!(decode(id, TOMBSTONE), Some(Shared::Revoked)));
        assert!(decode(id, b"{\"person\":1}").is_none());
        assert!(decode(id, b"\xff").is_none());
    }
}
