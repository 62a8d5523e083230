//! The declarations themselves. Adding a cookie to Tessera means adding a
//! variant here; nothing else can produce a `Set-Cookie`.

use crate::{Audience, Category, Declaration, Lifetime, Party, RegistryConfig, SameSite, SetBy};

/// Every cookie Tessera sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CookieId {
    PortalSession,
    AgentSession,
    AdminSession,
    RememberPortal,
    RememberAgent,
    Csrf,
}

impl CookieId {
    /// In discriminant order: [`crate::Registry::get`] indexes by it.
    pub const ALL: [CookieId; 6] = [
        Self::PortalSession,
        Self::AgentSession,
        Self::AdminSession,
        Self::RememberPortal,
        Self::RememberAgent,
        Self::Csrf,
    ];

    pub(crate) fn declare(self, config: &RegistryConfig) -> Declaration {
        use Audience::*;
        let essential_session = |base: &'static str, purpose, audience, same_site| Declaration {
            id: self,
            name: base.into(),
            purpose,
            category: Category::Essential,
            lifetime: Lifetime::Session,
            max_age_seconds: None,
            party: Party::First,
            set_by: SetBy::Server,
            audience,
            http_only: true,
            secure: true,
            same_site,
            partitioned: false,
            path: "/",
        };
        let remember = |base: &'static str, audience, max_age: std::time::Duration| Declaration {
            category: Category::Optional,
            lifetime: Lifetime::Persistent,
            max_age_seconds: Some(max_age.as_secs()),
            ..essential_session(
                base,
                "If you tick \"Remember me\" when logging in, this holds a token that logs you in \
                 again when you come back in a later browser session. It changes every time it is \
                 used; if a copy is ever used by someone else, every remembered login of yours is \
                 revoked.",
                audience,
                SameSite::Lax,
            )
        };
        let mut d = match self {
            Self::PortalSession => essential_session(
                "ts_portal",
                "Your session in the Help Center. It holds a random identifier that lets Tessera \
                 know you are logged in as you move from page to page; nothing about you is \
                 stored in it.",
                &[Users],
                SameSite::Lax,
            ),
            Self::AgentSession => essential_session(
                "ts_agent",
                "Your session in the agent interface, separate from the Help Center and admin \
                 sessions. It holds only a random identifier.",
                &[Agents],
                SameSite::Lax,
            ),
            Self::AdminSession => essential_session(
                "ts_admin",
                "Your session in the admin interface, separate from the other two and with a \
                 short idle timeout. It holds only a random identifier.",
                &[Admins],
                SameSite::Strict,
            ),
            Self::RememberPortal => remember("ts_remember_portal", &[Users], config.remember_portal_max_age),
            Self::RememberAgent => remember("ts_remember_agent", &[Agents], config.remember_agent_max_age),
            Self::Csrf => essential_session(
                "ts_csrf",
                "A security token that is sent with every form you submit, so that Tessera can \
                 tell your own submissions from forged ones sent by other websites.",
                &[Users, Agents, Admins],
                SameSite::Lax,
            ),
        };
        d.secure = config.secure;
        if config.secure && d.party == Party::First && d.set_by == SetBy::Server {
            d.name = format!("__Host-{}", d.name);
        }
        d
    }
}
