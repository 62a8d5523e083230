//! Settings of the session core, with the defaults documented in `docs/settings.md`.

use serde::{Deserialize, Serialize};
use tessera_core::Interface;

/// `[session]`: idle and absolute timeouts per interface, enforced server-side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    pub portal_idle_seconds: i64,
    pub portal_absolute_seconds: i64,
    pub agent_idle_seconds: i64,
    pub agent_absolute_seconds: i64,
    pub admin_idle_seconds: i64,
    pub admin_absolute_seconds: i64,
    /// "Last seen" is written to the store at most this often per session.
    pub touch_interval_seconds: i64,
    /// Sessions kept in memory in front of the store.
    pub cache_capacity: usize,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            portal_idle_seconds: 60 * 60,
            portal_absolute_seconds: 24 * 60 * 60,
            agent_idle_seconds: 60 * 60,
            agent_absolute_seconds: 12 * 60 * 60,
            admin_idle_seconds: 15 * 60,
            admin_absolute_seconds: 8 * 60 * 60,
            touch_interval_seconds: 60,
            cache_capacity: 100_000,
        }
    }
}

impl SessionSettings {
    pub fn idle_seconds(&self, interface: Interface) -> i64 {
        match interface {
            Interface::Portal => self.portal_idle_seconds,
            Interface::Agent => self.agent_idle_seconds,
            Interface::Admin => self.admin_idle_seconds,
        }
    }
    pub fn absolute_seconds(&self, interface: Interface) -> i64 {
        match interface {
            Interface::Portal => self.portal_absolute_seconds,
            Interface::Agent => self.agent_absolute_seconds,
            Interface::Admin => self.admin_absolute_seconds,
        }
    }
}

/// `[remember]`: remember-me token lifetimes and the grace window for parallel use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RememberSettings {
    pub portal_max_age_seconds: i64,
    pub agent_max_age_seconds: i64,
    /// Requests presenting the previous validator this soon after a rotation
    /// are parallel requests of the same browser, not theft.
    pub grace_seconds: i64,
}

impl Default for RememberSettings {
    fn default() -> Self {
        Self { portal_max_age_seconds: 30 * 86_400, agent_max_age_seconds: 14 * 86_400, grace_seconds: 30 }
    }
}

impl RememberSettings {
    /// `None` for interfaces without remember-me (admin).
    pub fn max_age_seconds(&self, interface: Interface) -> Option<i64> {
        match interface {
            Interface::Portal => Some(self.portal_max_age_seconds),
            Interface::Agent => Some(self.agent_max_age_seconds),
            Interface::Admin => None,
        }
    }
}

/// `[throttle]`: growing delays after failed logins, per account and per IP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSettings {
    /// Failures allowed per account before delays start.
    pub account_free_attempts: u32,
    /// Failures allowed per client IP before delays start.
    pub ip_free_attempts: u32,
    /// The first delay; each further failure doubles it.
    pub base_delay_seconds: i64,
    /// The longest delay: there is never a permanent lockout.
    pub max_delay_seconds: i64,
    /// Failures older than this are forgotten.
    pub forget_after_seconds: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            account_free_attempts: 5,
            ip_free_attempts: 20,
            base_delay_seconds: 1,
            max_delay_seconds: 15 * 60,
            forget_after_seconds: 60 * 60,
        }
    }
}

/// `[password]`: Argon2id cost. The defaults are OWASP's recommendation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self { argon2_memory_kib: 19 * 1024, argon2_iterations: 2, argon2_parallelism: 1 }
    }
}
