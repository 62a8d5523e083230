//! The declarations themselves. Adding a cookie to Tessera means adding a
//! variant here; nothing else can produce a `Set-Cookie`.

use crate::{Audience, Category, Declaration, Lifetime, Party, RegistryConfig, SameSite, SetBy, Storage};

/// Browsers cap cookie lifetimes at 400 days; declaring more would be a lie.
const MAX_BROWSER_AGE: u64 = 400 * 86_400;

/// How long the tag's loader keeps the Messenger's address (a week).
const LOADER_MAX_AGE: u64 = 7 * 86_400;

/// How long a consent choice is remembered before the banner asks again
/// (six months, as data-protection authorities recommend).
const CONSENT_MAX_AGE: u64 = 180 * 86_400;

/// Every cookie Tessera sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CookieId {
    PortalSession,
    AgentSession,
    AdminSession,
    RememberPortal,
    RememberAgent,
    Csrf,
    Language,
    Visitor,
    Visit,
    Consent,
    AgentSite,
    MessengerVisitor,
    MessengerVisit,
    LoaderUrl,
    LoaderTime,
    TabId,
    OpenState,
    PageStore,
    FrameStore,
    MonitorVisitor,
    MonitorVisitorSession,
    MonitorSession,
    LastVisit,
    ThirdPartyVisitor,
    ThirdPartyVisitorSession,
    ThirdPartySession,
    CrossDomainSession,
    Node,
}

impl CookieId {
    /// In discriminant order: [`crate::Registry::get`] indexes by it.
    pub const ALL: [CookieId; 28] = [
        Self::PortalSession,
        Self::AgentSession,
        Self::AdminSession,
        Self::RememberPortal,
        Self::RememberAgent,
        Self::Csrf,
        Self::Language,
        Self::Visitor,
        Self::Visit,
        Self::Consent,
        Self::AgentSite,
        Self::MessengerVisitor,
        Self::MessengerVisit,
        Self::LoaderUrl,
        Self::LoaderTime,
        Self::TabId,
        Self::OpenState,
        Self::PageStore,
        Self::FrameStore,
        Self::MonitorVisitor,
        Self::MonitorVisitorSession,
        Self::MonitorSession,
        Self::LastVisit,
        Self::ThirdPartyVisitor,
        Self::ThirdPartyVisitorSession,
        Self::ThirdPartySession,
        Self::CrossDomainSession,
        Self::Node,
    ];

    /// A stable key naming the cookie's purpose in translation catalogues
    /// (`cookie-purpose-<key>`), independent of the deployed name.
    pub const fn key(self) -> &'static str {
        match self {
            Self::PortalSession => "portal-session",
            Self::AgentSession => "agent-session",
            Self::AdminSession => "admin-session",
            Self::RememberPortal => "remember-portal",
            Self::RememberAgent => "remember-agent",
            Self::Csrf => "csrf",
            Self::Language => "language",
            Self::Visitor => "visitor",
            Self::Visit => "visit",
            Self::Consent => "consent",
            Self::AgentSite => "agent-site",
            Self::MessengerVisitor => "messenger-visitor",
            Self::MessengerVisit => "messenger-visit",
            Self::LoaderUrl => "loader-url",
            Self::LoaderTime => "loader-time",
            Self::TabId => "tab-id",
            Self::OpenState => "open-state",
            Self::PageStore => "page-store",
            Self::FrameStore => "frame-store",
            Self::MonitorVisitor => "monitor-visitor",
            Self::MonitorVisitorSession => "monitor-visitor-session",
            Self::MonitorSession => "monitor-session",
            Self::LastVisit => "last-visit",
            Self::ThirdPartyVisitor => "third-party-visitor",
            Self::ThirdPartyVisitorSession => "third-party-visitor-session",
            Self::ThirdPartySession => "third-party-session",
            Self::CrossDomainSession => "cross-domain-session",
            Self::Node => "node",
        }
    }

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
            storage: Storage::Cookie,
        };
        let remember = |base: &'static str, audience, max_age: std::time::Duration| Declaration {
            category: Category::Optional,
            lifetime: Lifetime::Persistent,
            max_age_seconds: Some(max_age.as_secs()),
            ..essential_session(
                base,
                "If you tick “Remember me” when logging in, this holds a token that logs you in \
                 again when you come back in a later browser session. It changes every time it is \
                 used; if a copy is ever used by someone else, every remembered login of yours is \
                 revoked.",
                audience,
                SameSite::Lax,
            )
        };
        // The Messenger frame runs on customers' websites: a third-party
        // context, so its cookies are SameSite=None and partitioned (CHIPS).
        let messenger = |base: &'static str, purpose| Declaration {
            party: Party::Third,
            same_site: SameSite::None,
            partitioned: true,
            ..essential_session(base, purpose, &[Users], SameSite::None)
        };
        // Kept by the tag on the customer's own pages (first-party there).
        let loader = |base: &'static str, purpose| Declaration {
            category: Category::Optional,
            lifetime: Lifetime::Persistent,
            max_age_seconds: Some(LOADER_MAX_AGE),
            set_by: SetBy::Script,
            http_only: false,
            ..essential_session(base, purpose, &[Users], SameSite::Lax)
        };
        // Visitor monitoring on customers' websites: optional, per site (the
        // site ID is in every name, so two sites' tags on a page never collide).
        let monitor_first_party = |base: &'static str, persistent: bool, purpose| Declaration {
            lifetime: if persistent { Lifetime::Persistent } else { Lifetime::Session },
            max_age_seconds: persistent.then(|| config.visitor_max_age.as_secs().min(MAX_BROWSER_AGE)),
            ..loader(base, purpose)
        };
        let monitor_third_party = |base: &'static str, persistent: bool, partitioned: bool, purpose| Declaration {
            category: Category::Optional,
            lifetime: if persistent { Lifetime::Persistent } else { Lifetime::Session },
            max_age_seconds: persistent.then(|| config.visitor_max_age.as_secs().min(MAX_BROWSER_AGE)),
            partitioned,
            ..messenger(base, purpose)
        };
        let storage = |base: &'static str, purpose| Declaration {
            set_by: SetBy::Script,
            http_only: false,
            storage: Storage::SessionStorage,
            ..essential_session(base, purpose, &[Users], SameSite::Lax)
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
            Self::Language => essential_session(
                "ts_lang",
                "The language you picked in the Help Center, so that every page stays in that \
                 language until you close the browser.",
                &[Users, Agents, Admins],
                SameSite::Lax,
            ),
            Self::Visitor => Declaration {
                category: Category::Optional,
                lifetime: Lifetime::Persistent,
                max_age_seconds: Some(config.visitor_max_age.as_secs().min(MAX_BROWSER_AGE)),
                ..essential_session(
                    "ts_v",
                    "A random token that recognises this browser when you come back, so that your \
                     votes, comments, chats and page views stay linked across visits. Set only with \
                     your consent; it identifies the browser, not you, and stays when you log out.",
                    &[Users],
                    SameSite::Lax,
                )
            },
            Self::Visit => essential_session(
                "ts_visit",
                "Set when you vote or comment as a guest without having allowed optional cookies: \
                 a random token that keeps your vote and comment yours until you close the \
                 browser. It is never used to recognise you later.",
                &[Users],
                SameSite::Lax,
            ),
            Self::Consent => Declaration {
                lifetime: Lifetime::Persistent,
                max_age_seconds: Some(CONSENT_MAX_AGE),
                ..essential_session(
                    "ts_consent",
                    "Remembers whether you accepted or rejected optional cookies, so that we do not \
                     ask again on every page. It holds only a random token naming that choice.",
                    &[Users],
                    SameSite::Lax,
                )
            },
            Self::AgentSite => Declaration {
                category: Category::Optional,
                lifetime: Lifetime::Persistent,
                max_age_seconds: Some(config.remember_agent_max_age.as_secs().min(MAX_BROWSER_AGE)),
                ..essential_session(
                    "ts_agent_site",
                    "If an agent ticks “Remember me”, this remembers the site ID of the last login so \
                     the login form can fill it in next time.",
                    &[Agents],
                    SameSite::Lax,
                )
            },
            Self::MessengerVisitor => Declaration {
                category: Category::Optional,
                lifetime: Lifetime::Persistent,
                max_age_seconds: Some(config.visitor_max_age.as_secs().min(MAX_BROWSER_AGE)),
                ..messenger(
                    "ts_mv",
                    "Set by the chat window on websites that embed Tessera’s Messenger, only with your \
                     consent: a random token that lets you see your earlier conversations when you come \
                     back to that website. Kept separately for each website (partitioned), so it cannot \
                     follow you from one website to another.",
                )
            },
            Self::MessengerVisit => messenger(
                "ts_mvs",
                "Set by the chat window when you chat without having allowed optional cookies: a random \
                 token that keeps your conversation yours until you close the browser. Kept separately \
                 for each website (partitioned).",
            ),
            Self::LoaderUrl => loader(
                "ts_loader_url_{site}",
                "Set by the Tessera tag on a website that embeds the Messenger, only with your \
                 consent: the address of the current Messenger version, so later pages load the chat \
                 without asking for it first. Secure on HTTPS pages.",
            ),
            Self::LoaderTime => loader(
                "ts_loader_time_{site}",
                "Set with the previous one: when the tag learnt that address, so it knows when to \
                 check for a newer version.",
            ),
            Self::TabId => storage(
                "ts_tab",
                "Session storage on a website that embeds the Messenger: a random name for the \
                 browser tab, so two tabs can tell their messages apart. Gone when the tab closes.",
            ),
            Self::OpenState => storage(
                "ts_open_{site}",
                "Session storage on a website that embeds the Messenger: whether the chat window is \
                 open, so it stays open as you move from page to page. Gone when the tab closes.",
            ),
            Self::PageStore => storage(
                "ts_frame_{site}_*",
                "Session storage on a website that embeds the Messenger, used only when your browser \
                 blocks the chat window’s own storage: the chat’s visitor token, the conversation, \
                 what you have seen and your consent answer (never the messages). Gone when the tab \
                 closes.",
            ),
            Self::FrameStore => Declaration {
                party: Party::Third,
                ..storage(
                    "ts_m_{site}_*",
                    "Session storage of the chat window: the conversation, what you have seen, recent \
                     messages, your consent answer, the chat’s visitor token, and any message not yet \
                     sent with the name and email you gave. Gone when the tab closes.",
                )
            },
            Self::MonitorVisitor => monitor_first_party(
                "ts_vid_{site}",
                true,
                "Set by the Tessera tag on a website whose visitor monitoring uses first-party cookies \
                 (or as the fallback when third-party cookies are blocked), only with your consent: a \
                 random token that recognises this browser when you come back to that website.",
            ),
            Self::MonitorVisitorSession => monitor_first_party(
                "ts_vids_{site}",
                false,
                "Set by the Tessera tag, only with your consent, on a website that recognises visitors \
                 only until the browser closes: a random token for this browser, never kept longer.",
            ),
            Self::MonitorSession => monitor_first_party(
                "ts_sid_{site}",
                false,
                "Set by the Tessera tag, only with your consent: a random token naming your current \
                 visit to that website, so the pages you see in it are counted as one visit.",
            ),
            Self::LastVisit => monitor_first_party(
                "ts_last_{site}",
                true,
                "Set by the Tessera tag, only with your consent: when you last visited that website, \
                 signed by Tessera, so that a returning visit is recognised (and the days since the \
                 last one counted) even where no visitor token is kept.",
            ),
            Self::ThirdPartyVisitor => monitor_third_party(
                "ts_tp_vid_{site}",
                true,
                true,
                "Set by Tessera on a website whose visitor monitoring uses third-party cookies, only \
                 with your consent: a random token that recognises this browser when you come back to \
                 that website. Kept separately for each website (partitioned).",
            ),
            Self::ThirdPartyVisitorSession => monitor_third_party(
                "ts_tp_vids_{site}",
                false,
                true,
                "Like the previous one, for websites that recognise visitors only until the browser \
                 closes. Kept separately for each website (partitioned).",
            ),
            Self::ThirdPartySession => monitor_third_party(
                "ts_tp_sid_{site}",
                false,
                true,
                "Set by Tessera, only with your consent: a random token naming your current visit to \
                 a website whose monitoring uses third-party cookies. Kept separately for each website \
                 (partitioned).",
            ),
            Self::CrossDomainSession => monitor_third_party(
                "ts_xd_sid_{site}",
                false,
                false,
                "Set by Tessera, only with your consent, for a company whose monitoring follows one \
                 visit across several of its own websites: a random token naming the current visit, \
                 readable on each of them. Not partitioned, so it works only where your browser allows \
                 third-party cookies; gone when the browser closes.",
            ),
            // Only in cluster mode. Read by the load balancer, so every request
            // of a browser (pages, the Messenger frame on customers' websites,
            // its WebSocket) reaches the node that already holds its state.
            Self::Node => Declaration {
                party: Party::First,
                audience: &[Users, Agents, Admins],
                ..messenger(
                    "ts_node",
                    "Set only when Tessera runs on several servers: the name of the server that \
                     answered you, so that your next requests go to the same one. It holds nothing \
                     about you and is gone when you close the browser.",
                )
            },
        };
        // SameSite=None is only valid with Secure (browsers and the cookie crate insist).
        d.secure = config.secure || d.same_site == SameSite::None;
        // Script-set cookies are Secure exactly when the customer's page is
        // HTTPS (the tag decides); storage keys have no such attribute.
        if d.set_by == SetBy::Script {
            d.secure = d.storage == Storage::Cookie;
        }
        if config.secure && d.set_by == SetBy::Server {
            d.name = format!("__Host-{}", d.name);
        }
        d
    }
}
