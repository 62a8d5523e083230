//! Accounts: login with throttling, password changes, and the admin actions
//! that must end a person's sessions at once.

use std::sync::Arc;

use tessera_core::{DisplayName, Email, Interface, Password, PersonId, Role, SessionToken, SiteId};
use tessera_store::{AuditKind, NewPerson, Person, StoreError};

use crate::audit::Audit;
use crate::sessions::LiveSession;
use crate::throttle::{self, wait_for};
use crate::{CoreError, SessionCore};

/// Where a request came from, as recorded on sessions and audit events.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email, wrong password, disabled account or wrong interface:
    /// one answer for all, so the response says nothing about which.
    #[error("email or password is incorrect")]
    Invalid,
    #[error("too many failed attempts; try again in {retry_after_seconds} seconds")]
    Throttled { retry_after_seconds: i64 },
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Why an email change was refused.
#[derive(Debug, thiserror::Error)]
pub enum EmailChange {
    #[error("the current password is not correct")]
    WrongPassword,
    #[error("{0}")]
    Invalid(tessera_core::ParseError),
    #[error("another account on this site already uses that email address")]
    Taken,
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Why a password change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChange {
    #[error("the current password is not correct")]
    WrongPassword,
    #[error("{0}")]
    Weak(&'static str),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl SessionCore {
    /// Checks a password login to `interface` of `site`, with throttling per
    /// account and per IP. Does not create the session (see [`Self::create_session`]).
    pub async fn login(
        &self,
        site: SiteId,
        email_text: &str,
        password: Password,
        interface: Interface,
        client: &ClientInfo,
    ) -> Result<Person, LoginError> {
        let store = &self.inner.store;
        let t = &self.inner.settings.throttle;
        let account_key = throttle::account_key(site, email_text);
        let ip_key = client.ip.as_deref().map(throttle::ip_key);
        // One attempt at a time per account and per address (account first, so
        // no two attempts ever wait for each other in opposite order).
        let _account_turn = self.inner.attempts.turn(&account_key).await;
        let _ip_turn = match &ip_key {
            Some(key) => Some(self.inner.attempts.turn(key).await),
            None => None,
        };
        let now = self.now();
        let mut wait = wait_for(
            store.throttle(&account_key).await.map_err(CoreError::from)?.as_ref(),
            t.account_free_attempts,
            now,
            t,
        );
        if let Some(ip_key) = &ip_key {
            let ip_record = store.throttle(ip_key).await.map_err(CoreError::from)?;
            wait = wait.max(wait_for(ip_record.as_ref(), t.ip_free_attempts, now, t));
        }
        let audit = |person: Option<PersonId>, detail| Audit {
            site: Some(site),
            person,
            interface: Some(interface),
            ip: client.ip.as_deref(),
            detail,
            ..Audit::default()
        };
        if wait > 0 {
            self.audit(AuditKind::LoginThrottled, audit(None, "")).await;
            return Err(LoginError::Throttled { retry_after_seconds: wait });
        }
        let person = match Email::parse(email_text) {
            Ok(email) => store.person_by_email(site, &email).await.map_err(CoreError::from)?,
            Err(_) => None,
        };
        // Always run the hash check, against a dummy hash if there is no such person.
        let matched = self.inner.hasher.verify(password, person.as_ref().map(|p| p.password_hash.clone())).await;
        match person {
            Some(p) if matched && !p.disabled && p.role.may_use(interface) => {
                store.clear_throttle(&account_key).await.map_err(CoreError::from)?;
                self.audit(AuditKind::LoginSucceeded, audit(Some(p.id), "")).await;
                Ok(p)
            }
            person => {
                let forget_before = now.plus(-t.forget_after_seconds);
                store.record_failure(&account_key, now, forget_before).await.map_err(CoreError::from)?;
                if let Some(ip_key) = &ip_key {
                    store.record_failure(ip_key, now, forget_before).await.map_err(CoreError::from)?;
                }
                let detail = match &person {
                    None => "unknown account",
                    Some(p) if p.disabled => "account disabled",
                    Some(p) if matched && !p.role.may_use(interface) => "role may not use this interface",
                    Some(_) => "wrong password",
                };
                self.audit(AuditKind::LoginFailed, audit(person.map(|p| p.id), detail)).await;
                Err(LoginError::Invalid)
            }
        }
    }

    /// Creates a person with a freshly hashed password.
    pub async fn create_person(
        &self,
        site: SiteId,
        email: Email,
        name: DisplayName,
        role: Role,
        password: Password,
        actor: Option<PersonId>,
    ) -> Result<Person, CoreError> {
        let password_hash = self.inner.hasher.hash(password).await?;
        let new = NewPerson { site_id: site, email, name, role, password_hash };
        let person = self.inner.store.create_person(&new, self.now()).await?;
        let audit =
            Audit { site: Some(site), person: Some(person.id), actor, detail: role.as_str(), ..Audit::default() };
        self.audit(AuditKind::PersonCreated, audit).await;
        Ok(person)
    }

    /// Changes the password of the session's person after checking the current
    /// one. Every other session and every remember-me series of the person
    /// ends; this session continues under a new ID, which is returned.
    pub async fn change_password(
        &self,
        live: &LiveSession,
        current: Password,
        new_text: String,
        client: &ClientInfo,
    ) -> Result<(SessionToken, Arc<LiveSession>), PasswordChange> {
        let new = Password::new_choice(new_text).map_err(PasswordChange::Weak)?;
        let person = self.person_of(live).await?;
        if !self.inner.hasher.verify(current, Some(person.password_hash.clone())).await {
            return Err(PasswordChange::WrongPassword);
        }
        let phc = self.inner.hasher.hash(new).await?;
        self.inner.store.set_password_hash(person.id, &phc, self.now()).await.map_err(CoreError::from)?;
        Ok(self.after_credential_change(live, &person, AuditKind::PasswordChanged, client).await?)
    }

    /// Changes the email (the login name) of the session's person after
    /// checking their password — always, and so also for a session restored
    /// by remember-me. Like a password change, it ends every other session and
    /// remember-me series; this session continues under a new ID.
    pub async fn change_email(
        &self,
        live: &LiveSession,
        current: Password,
        new_text: &str,
        client: &ClientInfo,
    ) -> Result<(SessionToken, Arc<LiveSession>), EmailChange> {
        let email = Email::parse(new_text).map_err(EmailChange::Invalid)?;
        let person = self.person_of(live).await?;
        if !self.inner.hasher.verify(current, Some(person.password_hash.clone())).await {
            return Err(EmailChange::WrongPassword);
        }
        match self.inner.store.set_email(person.id, &email, self.now()).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(EmailChange::Taken),
            Err(e) => return Err(EmailChange::Core(e.into())),
        }
        Ok(self.after_credential_change(live, &person, AuditKind::EmailChanged, client).await?)
    }

    /// After a change of login credentials: every other session and every
    /// remember-me series ends (whoever else holds them must log in with the
    /// new credentials), and this session gets a new ID.
    async fn after_credential_change(
        &self,
        live: &LiveSession,
        person: &Person,
        kind: AuditKind,
        client: &ClientInfo,
    ) -> Result<(SessionToken, Arc<LiveSession>), CoreError> {
        self.inner.store.delete_remember_of_person(person.id).await?;
        self.revoke_sessions_of(person.id, None, Some(live.id_hash())).await?;
        let rotated = self.rotate_session(live, false).await?;
        let audit = Audit {
            site: Some(person.site_id),
            person: Some(person.id),
            interface: Some(live.record.interface),
            ip: client.ip.as_deref(),
            ..Audit::default()
        };
        self.audit(kind, audit).await;
        Ok(rotated)
    }

    /// An admin sets a new password for someone: all their sessions and series end.
    pub async fn reset_password(
        &self,
        person: PersonId,
        new_text: String,
        actor: PersonId,
    ) -> Result<(), PasswordChange> {
        let new = Password::new_choice(new_text).map_err(PasswordChange::Weak)?;
        let phc = self.inner.hasher.hash(new).await?;
        let found = self.inner.store.set_password_hash(person, &phc, self.now()).await.map_err(CoreError::from)?;
        if found {
            self.end_everything_of(person).await?;
            let audit =
                Audit { person: Some(person), actor: Some(actor), detail: "reset by admin", ..Audit::default() };
            self.audit(AuditKind::PasswordChanged, audit).await;
        }
        Ok(())
    }

    /// Disables or re-enables an account; disabling ends every session and
    /// remember-me series of the person at once.
    pub async fn set_disabled(
        &self,
        person: PersonId,
        disabled: bool,
        actor: Option<PersonId>,
    ) -> Result<bool, CoreError> {
        let found = self.inner.store.set_disabled(person, disabled, self.now()).await?;
        if found && disabled {
            self.end_everything_of(person).await?;
        }
        let kind = if disabled { AuditKind::PersonDisabled } else { AuditKind::PersonEnabled };
        if found {
            self.audit(kind, Audit { person: Some(person), actor, ..Audit::default() }).await;
        }
        Ok(found)
    }

    /// Changes a role. Sessions carry privileges, so they all end: the person
    /// logs in again and gets a session (with a new ID) for the new role.
    pub async fn set_role(&self, person: PersonId, role: Role, actor: Option<PersonId>) -> Result<bool, CoreError> {
        let found = self.inner.store.set_role(person, role, self.now()).await?;
        if found {
            self.end_everything_of(person).await?;
            self.audit(
                AuditKind::RoleChanged,
                Audit { person: Some(person), actor, detail: role.as_str(), ..Audit::default() },
            )
            .await;
        }
        Ok(found)
    }

    /// `actor` (an admin, or the person themselves) revokes one session, and
    /// the remember-me series tied to it, which would otherwise log the
    /// browser straight back in.
    pub async fn revoke_session_by(
        &self,
        session: &tessera_core::TokenHash,
        actor: PersonId,
    ) -> Result<bool, CoreError> {
        let record = self.inner.store.session(session).await?;
        let revoked = self.revoke_session(session).await?;
        if let Some(selector) = record.as_ref().and_then(|r| r.remember) {
            self.inner.store.delete_remember(&selector).await?;
        }
        if let Some(r) = record.filter(|_| revoked) {
            let audit = Audit {
                site: Some(r.site_id),
                person: Some(r.person_id),
                actor: Some(actor),
                interface: Some(r.interface),
                ..Audit::default()
            };
            self.audit(AuditKind::SessionRevoked, audit).await;
        }
        Ok(revoked)
    }

    /// Records a logout (the caller already revoked the session).
    pub async fn audit_logout(&self, live: &LiveSession, client: &ClientInfo) {
        let audit = Audit {
            site: Some(live.record.site_id),
            person: Some(live.person.id),
            interface: Some(live.record.interface),
            ip: client.ip.as_deref(),
            ..Audit::default()
        };
        self.audit(AuditKind::Logout, audit).await;
    }

    async fn end_everything_of(&self, person: PersonId) -> Result<(), CoreError> {
        self.inner.store.delete_remember_of_person(person).await?;
        self.revoke_sessions_of(person, None, None).await?;
        Ok(())
    }

    /// The current stored record of the session's person.
    pub(crate) async fn person_of(&self, live: &LiveSession) -> Result<Person, CoreError> {
        self.inner
            .store
            .person(live.person.id)
            .await?
            .ok_or_else(|| CoreError::Store(StoreError::Corrupt("session without person".into())))
    }
}
