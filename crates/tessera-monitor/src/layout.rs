//! Where each cookie solution type keeps the visitor and the visit (the
//! product brief's table, from the LivePerson seed).

use tessera_cookies::CookieId;
use tessera_core::SolutionType;

/// The cookies one solution type uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Names the visitor.
    pub visitor: CookieId,
    /// Names the visit.
    pub session: CookieId,
    /// Also names the visit, as an unpartitioned third-party cookie, so one
    /// site ID can follow a visit across several of the customer's domains.
    pub cross_domain: Option<CookieId>,
    /// First-party stand-ins for `visitor` and `session` when the browser
    /// refuses third-party cookies.
    pub fallback: Option<(CookieId, CookieId)>,
    /// The visitor outlives the browser session (repeat visitors are recognised).
    pub persistent: bool,
}

impl Layout {
    pub const fn of(solution: SolutionType) -> Self {
        use CookieId::*;
        match solution {
            SolutionType::ThirdParty => Self {
                visitor: ThirdPartyVisitor,
                session: ThirdPartySession,
                cross_domain: None,
                fallback: Some((MonitorVisitor, MonitorSession)),
                persistent: true,
            },
            SolutionType::ThirdPartySession => Self {
                visitor: ThirdPartyVisitorSession,
                session: ThirdPartySession,
                cross_domain: None,
                fallback: Some((MonitorVisitorSession, MonitorSession)),
                persistent: false,
            },
            SolutionType::FirstPartyPersistentWithThirdPartySession => Self {
                visitor: MonitorVisitor,
                session: MonitorSession,
                cross_domain: Some(CrossDomainSession),
                fallback: None,
                persistent: true,
            },
            SolutionType::FirstPartyPersistent => Self {
                visitor: MonitorVisitor,
                session: MonitorSession,
                cross_domain: None,
                fallback: None,
                persistent: true,
            },
            SolutionType::FirstPartySession => Self {
                visitor: MonitorVisitorSession,
                session: MonitorSession,
                cross_domain: None,
                fallback: None,
                persistent: false,
            },
        }
    }

    /// Whether the primary cookies are third-party (set by the server on Tessera's origin).
    pub fn third_party(&self) -> bool {
        self.fallback.is_some()
    }
}

/// Every cookie that can name a visitor, persistent ones first.
pub const VISITOR_COOKIES: [CookieId; 4] = [
    CookieId::ThirdPartyVisitor,
    CookieId::MonitorVisitor,
    CookieId::ThirdPartyVisitorSession,
    CookieId::MonitorVisitorSession,
];

/// Every cookie that can name a visit.
pub const SESSION_COOKIES: [CookieId; 3] =
    [CookieId::ThirdPartySession, CookieId::MonitorSession, CookieId::CrossDomainSession];

/// Whether `id` is set by the server on Tessera's origin (the others are
/// the tag's, on the customer's pages).
pub fn server_set(id: CookieId) -> bool {
    matches!(
        id,
        CookieId::ThirdPartyVisitor
            | CookieId::ThirdPartyVisitorSession
            | CookieId::ThirdPartySession
            | CookieId::CrossDomainSession
    )
}

/// Whether a visitor cookie lasts beyond the browser session.
pub fn persistent_visitor(id: CookieId) -> bool {
    matches!(id, CookieId::ThirdPartyVisitor | CookieId::MonitorVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_the_product_brief() {
        let tp = Layout::of(SolutionType::ThirdParty);
        assert!(tp.third_party() && tp.persistent && server_set(tp.visitor) && server_set(tp.session));
        assert_eq!(tp.fallback, Some((CookieId::MonitorVisitor, CookieId::MonitorSession)));
        let tps = Layout::of(SolutionType::ThirdPartySession);
        assert!(tps.third_party() && !tps.persistent && !persistent_visitor(tps.visitor));
        assert_eq!(tps.fallback, Some((CookieId::MonitorVisitorSession, CookieId::MonitorSession)));
        let xd = Layout::of(SolutionType::FirstPartyPersistentWithThirdPartySession);
        assert!(!xd.third_party() && xd.persistent && !server_set(xd.visitor));
        assert_eq!(xd.cross_domain, Some(CookieId::CrossDomainSession));
        let fpp = Layout::of(SolutionType::FirstPartyPersistent);
        assert!(!fpp.third_party() && fpp.persistent && fpp.cross_domain.is_none());
        let fps = Layout::of(SolutionType::FirstPartySession);
        assert!(!fps.third_party() && !fps.persistent && !server_set(fps.session));
    }
}
