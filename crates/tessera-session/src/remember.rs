//! Remember-me: split `selector:validator` tokens, rotated on every use, with
//! theft detection.
//!
//! Only the SHA-256 of a validator is stored. Using a token issues a new
//! validator in the same series (compare-and-swap in the store, so two
//! parallel uses cannot both rotate). The previous validator stays valid for
//! `grace_seconds` after a rotation so that a browser's parallel requests do
//! not look like theft; any other stale validator for a known selector means
//! someone else holds a copy: every series and session of the person is
//! revoked and the event is audited.

use std::sync::Arc;

use tessera_core::{Interface, RememberToken};
use tessera_store::{AuditKind, Person, RememberRecord};

use crate::audit::Audit;
use crate::sessions::{LiveSession, NewSession};
use crate::{ClientInfo, CoreError, SessionCore};

/// The result of presenting a remember-me cookie.
#[derive(Debug)]
pub enum RestoreOutcome {
    /// Logged in again: set the new session cookie, and the rotated remember
    /// cookie if there is one (none inside the grace window).
    Restored { session: tessera_core::SessionToken, live: Arc<LiveSession>, remember: Option<RememberToken> },
    /// Unknown, expired or unusable token: clear the cookie.
    Invalid,
    /// A stale validator was replayed: everything of the person was revoked.
    Theft,
}

impl SessionCore {
    /// Starts a remember-me series for `person` (who ticked "Remember me").
    pub async fn remember(
        &self,
        person: &Person,
        interface: Interface,
        client: &ClientInfo,
    ) -> Result<Option<RememberToken>, CoreError> {
        let Some(max_age) = self.inner.settings.remember.max_age_seconds(interface) else { return Ok(None) };
        let now = self.now();
        let token = RememberToken::generate();
        let record = RememberRecord {
            selector: token.selector,
            person_id: person.id,
            site_id: person.site_id,
            interface,
            validator_hash: token.validator.hash(),
            previous_hash: None,
            rotated_at: now,
            created_at: now,
            expires_at: now.plus(max_age),
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
        };
        self.inner.store.insert_remember(&record).await?;
        Ok(Some(token))
    }

    /// Logs the browser in again from its remember-me cookie.
    pub async fn restore(
        &self,
        interface: Interface,
        cookie_value: &[u8],
        client: &ClientInfo,
    ) -> Result<RestoreOutcome, CoreError> {
        let Ok(token) = RememberToken::parse(cookie_value) else { return Ok(RestoreOutcome::Invalid) };
        let store = &self.inner.store;
        let Some(series) = store.remember(&token.selector).await? else { return Ok(RestoreOutcome::Invalid) };
        let now = self.now();
        if series.interface != interface {
            return Ok(RestoreOutcome::Invalid);
        }
        if now >= series.expires_at {
            store.delete_remember(&token.selector).await?;
            return Ok(RestoreOutcome::Invalid);
        }
        let presented = token.validator.hash();
        let next = RememberToken::rotated(token.selector);
        let rotated = if presented.ct_eq(&series.validator_hash) {
            // Lost the race to a parallel request? Then we are in its grace window.
            store.rotate_remember(&token.selector, &presented, &next.validator.hash(), now).await?
        } else {
            false
        };
        if !rotated && !self.within_grace(&series, &presented, now).await? {
            self.theft(&series, client).await?;
            return Ok(RestoreOutcome::Theft);
        }
        let Some(person) = store.person(series.person_id).await? else {
            store.delete_remember(&token.selector).await?;
            return Ok(RestoreOutcome::Invalid);
        };
        if person.disabled || !person.role.may_use(interface) {
            store.delete_remember(&token.selector).await?;
            return Ok(RestoreOutcome::Invalid);
        }
        let facts = NewSession {
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            restored: true,
            remember: Some(token.selector),
        };
        let (session, live) = match self.create_session(&person, interface, facts).await {
            Ok(created) => created,
            Err(CoreError::AccountChanged) => return Ok(RestoreOutcome::Invalid),
            Err(e) => return Err(e),
        };
        // A theft response may have deleted the series after our rotation but
        // before our session was stored, missing it in its sweep. It deletes
        // the series first, so reading it again settles who won.
        if store.remember(&token.selector).await?.is_none() {
            self.revoke_session(live.id_hash()).await?;
            return Ok(RestoreOutcome::Invalid);
        }
        let audit = Audit {
            site: Some(person.site_id),
            person: Some(person.id),
            interface: Some(interface),
            ip: client.ip.as_deref(),
            detail: if rotated { "rotated" } else { "parallel use within grace window" },
            ..Audit::default()
        };
        self.audit(AuditKind::RememberUsed, audit).await;
        Ok(RestoreOutcome::Restored { session, live, remember: rotated.then_some(next) })
    }

    /// Whether `presented` is the validator a parallel request just rotated away.
    async fn within_grace(
        &self,
        seen: &RememberRecord,
        presented: &tessera_core::TokenHash,
        now: tessera_core::Timestamp,
    ) -> Result<bool, CoreError> {
        // Re-read: the rotation that beat us may have happened after our first read.
        let Some(series) = self.inner.store.remember(&seen.selector).await? else { return Ok(false) };
        let grace = self.inner.settings.remember.grace_seconds;
        let was_previous = series.previous_hash.as_ref().is_some_and(|prev| prev.ct_eq(presented));
        Ok(was_previous && now.since(series.rotated_at) <= grace)
    }

    async fn theft(&self, series: &RememberRecord, client: &ClientInfo) -> Result<(), CoreError> {
        let store = &self.inner.store;
        let series_count = store.delete_remember_of_person(series.person_id).await?;
        let sessions = self.revoke_sessions_of(series.person_id, None, None).await?;
        tracing::warn!(person = %series.person_id, series_count, sessions, "remember-me token replayed; all revoked");
        let detail = format!("stale remember-me token replayed; revoked {series_count} series and {sessions} sessions");
        let audit = Audit {
            site: Some(series.site_id),
            person: Some(series.person_id),
            interface: Some(series.interface),
            ip: client.ip.as_deref(),
            detail: &detail,
            ..Audit::default()
        };
        self.audit(AuditKind::RememberTheft, audit).await;
        Ok(())
    }

    /// Forgets one series (logout, or the person revoking a remembered device).
    pub async fn forget_remember(&self, cookie_value: &[u8]) -> Result<(), CoreError> {
        if let Ok(token) = RememberToken::parse(cookie_value) {
            // Only the holder of a valid validator (the current one, or the one
            // a parallel request just rotated away) may delete the series.
            let presented = token.validator.hash();
            if let Some(series) = self.inner.store.remember(&token.selector).await?
                && (series.validator_hash.ct_eq(&presented)
                    || series.previous_hash.as_ref().is_some_and(|prev| prev.ct_eq(&presented)))
            {
                self.inner.store.delete_remember(&token.selector).await?;
            }
        }
        Ok(())
    }

    /// Remembered devices of `person`, newest first.
    pub async fn remembered_devices(&self, person: tessera_core::PersonId) -> Result<Vec<RememberRecord>, CoreError> {
        Ok(self.inner.store.remember_of_person(person).await?)
    }

    /// Revokes the remembered device of `person` whose [`device_id`] is `device`.
    pub async fn revoke_remembered(&self, person: tessera_core::PersonId, device: &str) -> Result<bool, CoreError> {
        let series = self.inner.store.remember_of_person(person).await?;
        match series.iter().find(|s| device_id(&s.selector) == device) {
            Some(s) => Ok(self.inner.store.delete_remember(&s.selector).await?),
            None => Ok(false),
        }
    }
}

/// How pages and forms name a remembered device: a hash of its selector. The
/// selector is half of the token; shown on a screen, a copy of it replayed
/// with any validator would set off the theft response and log the person
/// out everywhere.
pub fn device_id(selector: &tessera_core::Selector) -> String {
    hex::encode(tessera_core::TokenHash::of(selector.as_bytes()).as_bytes())
}
