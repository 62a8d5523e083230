//! Type-level interface markers, so each interface's middleware and handlers
//! are one generic function instead of three copies.

use tessera_cookies::CookieId;
use tessera_core::Interface;

pub trait Iface: Send + Sync + 'static {
    const INTERFACE: Interface;
    /// URL prefix of the interface's pages ("" for the Help Center).
    const PREFIX: &'static str;
    const SESSION_COOKIE: CookieId;
    const REMEMBER_COOKIE: Option<CookieId>;
    const TITLE: &'static str;
}

#[derive(Debug)]
pub struct Portal;
#[derive(Debug)]
pub struct Agent;
#[derive(Debug)]
pub struct Admin;

impl Iface for Portal {
    const INTERFACE: Interface = Interface::Portal;
    const PREFIX: &'static str = "";
    const SESSION_COOKIE: CookieId = CookieId::PortalSession;
    const REMEMBER_COOKIE: Option<CookieId> = Some(CookieId::RememberPortal);
    const TITLE: &'static str = "Help Center";
}

impl Iface for Agent {
    const INTERFACE: Interface = Interface::Agent;
    const PREFIX: &'static str = "/agent";
    const SESSION_COOKIE: CookieId = CookieId::AgentSession;
    const REMEMBER_COOKIE: Option<CookieId> = Some(CookieId::RememberAgent);
    const TITLE: &'static str = "Agent";
}

impl Iface for Admin {
    const INTERFACE: Interface = Interface::Admin;
    const PREFIX: &'static str = "/admin";
    const SESSION_COOKIE: CookieId = CookieId::AdminSession;
    const REMEMBER_COOKIE: Option<CookieId> = None;
    const TITLE: &'static str = "Admin";
}
