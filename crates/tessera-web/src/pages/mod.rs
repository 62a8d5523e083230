//! The pages of the three interfaces.

mod account;
mod admin;
mod auth;
mod portal;

use askama::Template;
use axum::Router;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use tessera_core::Timestamp;
use tessera_session::LiveSession;

use crate::csrf::FormToken;
use crate::{Admin, Agent, AppState, Iface, Portal, WebError};

pub(crate) use portal::{healthz, not_found};

/// The parts every page's frame needs.
#[derive(Debug)]
pub(crate) struct Layout {
    pub page_title: String,
    pub area: &'static str,
    pub prefix: &'static str,
    pub home: String,
    pub css_url: &'static str,
    pub user: Option<String>,
    pub csrf: String,
    /// The CSRF cookie to set, when this page issued the browser's first anchor.
    anchor_cookie: Option<cookie::Cookie<'static>>,
}

impl Layout {
    pub fn new<I: Iface>(state: &AppState, title: &str, live: Option<&LiveSession>, csrf: FormToken) -> Self {
        let anchor_cookie = csrf.new_anchor.map(|anchor| state.registry().set(tessera_cookies::CookieId::Csrf, anchor));
        Self {
            anchor_cookie,
            page_title: title.to_owned(),
            area: I::TITLE,
            prefix: I::PREFIX,
            home: if I::PREFIX.is_empty() { "/".into() } else { I::PREFIX.into() },
            css_url: crate::assets::css_url(),
            user: live.map(|l| l.person.name.to_string()),
            csrf: csrf.token,
        }
    }
}

/// A full page: a template with the common frame.
pub(crate) trait Page: Template {
    fn layout(&self) -> &Layout;
}

macro_rules! pages {
    ($($page:ty),* $(,)?) => {
        $(impl $crate::pages::Page for $page {
            fn layout(&self) -> &$crate::pages::Layout {
                &self.layout
            }
        })*
    };
}
pub(crate) use pages;

/// Renders a page into an HTML response, setting the CSRF cookie if the page
/// issued the browser's anchor (only pages with forms ever do).
pub(crate) fn render(page: &impl Page) -> Result<Response, WebError> {
    let mut res = Html(page.render()?).into_response();
    if let Some(cookie) = &page.layout().anchor_cookie {
        crate::setcookie::append(&mut res, cookie.clone());
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
}

/// A bare message page (errors), rendered without request context.
pub(crate) fn message_page(status: StatusCode, message: &str) -> String {
    let layout = Layout {
        page_title: status.canonical_reason().unwrap_or("Error").to_owned(),
        area: "",
        prefix: "",
        home: "/".into(),
        css_url: crate::assets::css_url(),
        user: None,
        csrf: String::new(),
        anchor_cookie: None,
    };
    let heading = status.canonical_reason().unwrap_or("Error");
    MessagePage { layout, heading, message }
        .render()
        .unwrap_or_else(|_| format!("<!doctype html><title>{heading}</title><p>{heading}</p>"))
}

/// An error's lower-case message as a sentence: "wrong password" → "Wrong password."
pub(crate) fn sentence(error: impl std::fmt::Display) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => text,
    }
}

/// "2026-11-22 16:20 UTC"
pub(crate) fn format_time(t: Timestamp) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(t.unix())
        .ok()
        .and_then(|dt| dt.format(&format).ok())
        .unwrap_or_else(|| t.to_string())
}

/// Login, logout and account pages, the same for every interface.
fn common_routes<I: Iface>() -> Router<AppState> {
    Router::new()
        .route("/login", get(auth::login_page::<I>).post(auth::login_submit::<I>))
        .route("/logout", post(auth::logout::<I>))
        .route("/account", get(account::overview::<I>))
        .route("/account/sessions", get(account::sessions::<I>))
        .route("/account/sessions/revoke", post(account::revoke_session::<I>))
        .route("/account/devices/revoke", post(account::forget_device::<I>))
        .route("/account/password", get(account::password_page::<I>).post(account::password_submit::<I>))
        .route("/account/email", get(account::email_page::<I>).post(account::email_submit::<I>))
}

pub(crate) fn portal_routes() -> Router<AppState> {
    common_routes::<Portal>()
        .route("/", get(portal::home))
        .route("/cookies", get(portal::cookie_policy))
        .route("/api/session", get(portal::api_session))
}

pub(crate) fn agent_routes() -> Router<AppState> {
    common_routes::<Agent>().route("/", get(portal::interface_home::<Agent>))
}

pub(crate) fn admin_routes() -> Router<AppState> {
    common_routes::<Admin>()
        .route("/", get(portal::interface_home::<Admin>))
        .route("/sessions", get(admin::sessions))
        .route("/sessions/revoke", post(admin::revoke_session))
        .route("/people", get(admin::people))
        .route("/people/disable", post(admin::disable))
        .route("/people/enable", post(admin::enable))
        .route("/people/role", post(admin::change_role))
        .route("/audit", get(admin::audit))
}
