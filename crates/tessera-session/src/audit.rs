//! Writing audit events. An audit write failure is logged, never fatal:
//! refusing a logout because the log is unavailable would be worse.

use tessera_core::{Interface, PersonId, SiteId};
use tessera_store::{AuditEvent, AuditKind};

use crate::SessionCore;

/// The parts of an audit event the caller knows.
#[derive(Debug, Default)]
pub(crate) struct Audit<'a> {
    pub site: Option<SiteId>,
    pub person: Option<PersonId>,
    pub actor: Option<PersonId>,
    pub interface: Option<Interface>,
    pub ip: Option<&'a str>,
    pub detail: &'a str,
}

impl SessionCore {
    pub(crate) async fn audit(&self, kind: AuditKind, a: Audit<'_>) {
        let event = AuditEvent {
            at: self.now(),
            kind,
            site_id: a.site,
            person_id: a.person,
            actor_id: a.actor,
            interface: a.interface,
            ip: a.ip.map(str::to_owned),
            detail: a.detail.to_owned(),
        };
        if let Err(e) = self.inner.store.append_audit(&event).await {
            tracing::error!(error = %e, kind = kind.as_str(), "could not write audit event");
        }
    }
}
