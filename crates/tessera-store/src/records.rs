//! The records the store keeps. Plain data; backends map them to rows.

use tessera_core::{DisplayName, Email, Interface, PersonId, Role, Selector, SiteId, Timestamp, TokenHash};

#[derive(Clone, Debug)]
pub struct NewPerson {
    pub site_id: SiteId,
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub site_id: SiteId,
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for Person {
    // The hash is not a secret a browser could use, but it has no business in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id)
            .field("site_id", &self.site_id)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A server-side session. Keyed by the SHA-256 of the cookie's token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: TokenHash,
    pub person_id: PersonId,
    pub site_id: SiteId,
    pub interface: Interface,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// Absolute expiry, fixed at creation.
    pub expires_at: Timestamp,
    /// Restored from a remember-me token rather than a password: sensitive
    /// changes need the password again.
    pub restored: bool,
    /// The remember-me series started with this session or that restored it:
    /// revoking the session ends the series too, or the browser would simply
    /// be logged in again.
    pub remember: Option<Selector>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One remember-me series: a selector whose validator rotates on every use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RememberRecord {
    pub selector: Selector,
    pub person_id: PersonId,
    pub site_id: SiteId,
    pub interface: Interface,
    pub validator_hash: TokenHash,
    /// The validator before the last rotation, accepted within the grace window.
    pub previous_hash: Option<TokenHash>,
    pub rotated_at: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleRecord {
    pub key: String,
    pub failures: u32,
    pub last_failure_at: Timestamp,
}

/// What happened, for the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    Logout,
    RememberUsed,
    RememberTheft,
    SessionRevoked,
    PasswordChanged,
    EmailChanged,
    PersonCreated,
    PersonDisabled,
    PersonEnabled,
    RoleChanged,
}

impl AuditKind {
    pub const ALL: [AuditKind; 13] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::LoginThrottled,
        Self::Logout,
        Self::RememberUsed,
        Self::RememberTheft,
        Self::SessionRevoked,
        Self::PasswordChanged,
        Self::EmailChanged,
        Self::PersonCreated,
        Self::PersonDisabled,
        Self::PersonEnabled,
        Self::RoleChanged,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::Logout => "logout",
            Self::RememberUsed => "remember_used",
            Self::RememberTheft => "remember_theft",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordChanged => "password_changed",
            Self::EmailChanged => "email_changed",
            Self::PersonCreated => "person_created",
            Self::PersonDisabled => "person_disabled",
            Self::PersonEnabled => "person_enabled",
            Self::RoleChanged => "role_changed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub kind: AuditKind,
    pub site_id: Option<SiteId>,
    /// Who it happened to (the account logged into, the session revoked...).
    pub person_id: Option<PersonId>,
    /// Who did it, when that is someone else (an admin revoking a session).
    pub actor_id: Option<PersonId>,
    pub interface: Option<Interface>,
    pub ip: Option<String>,
    /// Short, free of secrets and personal data beyond what the fields hold.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub event: AuditEvent,
}

#[derive(Clone, Debug)]
pub struct AuditFilter {
    pub site_id: Option<SiteId>,
    pub person_id: Option<PersonId>,
    pub kind: Option<AuditKind>,
    /// Inclusive.
    pub since: Option<Timestamp>,
    /// At most this many entries (0 returns none).
    pub limit: u32,
}

impl Default for AuditFilter {
    fn default() -> Self {
        Self { site_id: None, person_id: None, kind: None, since: None, limit: 100 }
    }
}
