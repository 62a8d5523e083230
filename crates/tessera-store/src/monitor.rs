//! Visitor monitoring on customers' websites: visits (monitoring sessions)
//! and the page views the tag reports.

use async_trait::async_trait;
use tessera_core::{MonitorSessionId, SiteId, Timestamp, TokenHash, VisitorId};

use crate::StoreResult;

/// How a site's visitor monitoring behaves (beyond where its cookies live,
/// which is [`crate::SiteSettings::solution_type`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitoringSettings {
    /// Minutes without a page view after which the next one starts a new visit.
    pub idle_minutes: u32,
    /// Days page views are kept before they are purged.
    pub retention_days: u32,
    /// Count page views of visitors who gave no consent, with no identifier at all.
    pub cookieless_counting: bool,
    /// Keep whole IP addresses; by default they are truncated before storage.
    pub full_ip: bool,
}

impl MonitoringSettings {
    pub const IDLE_MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;
    pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        Self { idle_minutes: 30, retention_days: 90, cookieless_counting: false, full_ip: false }
    }
}

/// One visit of a visitor to a site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorSession {
    pub id: MonitorSessionId,
    pub site_id: SiteId,
    pub visitor_id: VisitorId,
    pub started_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// When the browser's previous visit ended, if it had one: from the
    /// visitor's own history, or vouched for by the signed last-visit cookie.
    pub previous_visit_at: Option<Timestamp>,
    /// 1 for the visitor's first visit, 2 for the second, …
    pub visit_number: u32,
    /// The page most recently reported in this visit.
    pub current_url: String,
    pub current_title: String,
}

/// What starts a visit.
#[derive(Clone, Copy, Debug)]
pub struct NewMonitorSession<'a> {
    pub site_id: SiteId,
    pub visitor_id: VisitorId,
    pub token: &'a TokenHash,
    /// From the last-visit cookie; the visitor's own history wins when it has one.
    pub previous_visit_at: Option<Timestamp>,
    pub now: Timestamp,
}

/// A page view as the tag reported it, validated. Without consent, and only
/// where the site counts cookieless views, it carries no identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageEvent {
    pub site_id: SiteId,
    pub visitor_id: Option<VisitorId>,
    pub session_id: Option<MonitorSessionId>,
    pub tab: Option<String>,
    pub url: String,
    pub title: String,
    pub referrer: String,
    /// Already truncated unless the site keeps whole addresses.
    pub ip: Option<String>,
    pub at: Timestamp,
}

#[async_trait]
pub trait MonitorStore {
    /// Gives the visitor one more monitoring token (a visitor may be known
    /// under several: one per customer domain). Fails with
    /// [`crate::StoreError::Conflict`] if the token is taken.
    async fn add_visitor_token(&self, visitor: VisitorId, token: &TokenHash, now: Timestamp) -> StoreResult<()>;
    /// The site's visitor named by a monitoring token.
    async fn visitor_by_monitor_token(&self, site: SiteId, token: &TokenHash) -> StoreResult<Option<crate::Visitor>>;
    /// The token stops naming anyone (consent withdrawn). Returns whether it did.
    async fn drop_visitor_token(&self, token: &TokenHash) -> StoreResult<bool>;
    /// The visit with this token on this site, whatever its age (the caller
    /// decides whether it is still going on).
    async fn monitor_session(&self, site: SiteId, token: &TokenHash) -> StoreResult<Option<MonitorSession>>;
    /// Starts a visit. Its number follows the visitor's earlier visits; its
    /// previous visit is the visitor's latest one when there is one.
    /// Fails with [`crate::StoreError::Conflict`] if the token is taken.
    async fn start_monitor_session(&self, new: &NewMonitorSession<'_>) -> StoreResult<MonitorSession>;
    /// Writes the events in one transaction, and moves each event's visit
    /// (`last_seen_at` only ever raised, and the current page with it).
    async fn record_page_events(&self, events: &[PageEvent]) -> StoreResult<()>;
    /// Visits seen at or after `since`, most recently seen first, at most `limit`.
    async fn live_sessions(&self, site: SiteId, since: Timestamp, limit: u32) -> StoreResult<Vec<MonitorSession>>;
    /// The visitor's visits, newest first, at most `limit`.
    async fn sessions_of_visitor(&self, visitor: VisitorId, limit: u32) -> StoreResult<Vec<MonitorSession>>;
    /// The visit's page views, oldest first, at most the newest `limit`.
    async fn page_events_of_session(&self, session: MonitorSessionId, limit: u32) -> StoreResult<Vec<PageEvent>>;
    /// Page views of the site without any identifier, at or after `since`.
    async fn anonymous_page_events(&self, site: SiteId, since: Timestamp) -> StoreResult<u64>;
    /// Deletes the site's page views older than `before`; returns how many.
    async fn purge_page_events(&self, site: SiteId, before: Timestamp) -> StoreResult<u64>;
    /// Deletes the visitor and everything recorded about it: visits, page
    /// views (the tag's and the Help Center's), guest votes and comments,
    /// conversations. Returns false if there was no such visitor.
    async fn erase_visitor(&self, visitor: VisitorId) -> StoreResult<bool>;
    /// Moves everything of visitor `from` to `into` (same site) and deletes
    /// `from`: one browser seen by the Messenger and the tag as two visitors.
    async fn merge_visitors(&self, from: VisitorId, into: VisitorId) -> StoreResult<bool>;
}
