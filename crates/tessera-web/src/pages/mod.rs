//! The pages of the three interfaces.

mod account;
mod admin;
mod admin_sites;
mod admin_visitors;
mod agent;
mod agent_monitor;
pub(crate) use agent_monitor::live_visit_count;
mod auth;
mod cookies;
mod guest;
mod help_center;
mod portal;
mod register;

use askama::Template;
use axum::Router;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use tessera_core::Timestamp;
use tessera_session::LiveSession;

use tessera_i18n::{Catalog, Tr};

use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::{Admin, Agent, AppState, Iface, Portal, WebError};

pub use cookies::TrLabels as CookieLabels;
pub(crate) use portal::not_found;

/// One entry of the language picker.
#[derive(Debug)]
pub(crate) struct LanguageOption {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// The parts every page's frame needs.
#[derive(Debug)]
pub(crate) struct Layout {
    pub page_title: String,
    /// The interface's name in the page language ("Help Center", "Agent"...).
    pub area: String,
    pub prefix: &'static str,
    pub home: String,
    pub css_url: &'static str,
    pub user: Option<String>,
    pub csrf: String,
    /// The page's language and its translator: `{{ layout.t.get("id") }}`.
    pub lang: String,
    pub t: Tr<'static>,
    pub languages: Vec<LanguageOption>,
    /// This page's path: where the picker and the consent banner come back to.
    pub here: String,
    /// Show the consent banner (Help Center pages, when the site asks).
    pub consent_banner: bool,
    /// The CSRF cookie to set, when this page issued the browser's first anchor.
    anchor_cookie: Option<cookie::Cookie<'static>>,
}

impl Layout {
    pub fn new<I: Iface>(
        state: &AppState,
        ctx: &Ctx,
        title: &str,
        live: Option<&LiveSession>,
        csrf: FormToken,
    ) -> Self {
        let anchor_cookie = csrf.new_anchor.map(|anchor| state.registry().set(tessera_cookies::CookieId::Csrf, anchor));
        let catalog = Catalog::embedded();
        let languages = ctx
            .offered
            .iter()
            .map(|l| LanguageOption {
                code: l.as_str().to_owned(),
                name: catalog.tr(l).native_name(),
                selected: *l == ctx.lang,
            })
            .collect();
        Self {
            anchor_cookie,
            page_title: title.to_owned(),
            area: if I::PREFIX.is_empty() { ctx.tr.get("nav-help-center") } else { I::TITLE.to_owned() },
            prefix: I::PREFIX,
            home: if I::PREFIX.is_empty() { "/".into() } else { I::PREFIX.into() },
            css_url: crate::assets::css_url(),
            user: live.map(|l| l.person.name.to_string()),
            csrf: csrf.token,
            lang: ctx.lang.as_str().to_owned(),
            t: ctx.tr,
            languages,
            here: ctx.here.clone(),
            consent_banner: false,
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
    let t = Catalog::embedded().english();
    let layout = Layout {
        page_title: status.canonical_reason().unwrap_or("Error").to_owned(),
        area: String::new(),
        prefix: "",
        home: "/".into(),
        css_url: crate::assets::css_url(),
        user: None,
        csrf: String::new(),
        lang: t.lang().as_str().to_owned(),
        t,
        languages: Vec::new(),
        here: "/".into(),
        consent_banner: false,
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
        .route("/language", post(cookies::pick_language::<I>))
}

pub(crate) fn portal_routes() -> Router<AppState> {
    common_routes::<Portal>()
        .route("/", get(help_center::home))
        .route("/kb/c/{id}", get(help_center::category))
        .route("/kb/a/{id}", get(help_center::article))
        .route("/kb/a/{id}/vote", post(help_center::vote))
        .route("/kb/a/{id}/comments", post(help_center::comment))
        .route("/search", get(help_center::search))
        .route("/register", get(register::page).post(register::submit))
        .route("/consent", post(cookies::consent))
        .route("/cookies", get(cookies::policy))
        .route("/api/session", get(portal::api_session))
}

pub(crate) fn agent_routes() -> Router<AppState> {
    common_routes::<Agent>()
        .route("/", get(agent::home))
        .route("/articles", get(agent::articles).post(agent::create_article))
        .route("/articles/{id}", get(agent::editor).post(agent::save))
        .route("/categories", post(agent::create_category))
        .route("/comments", get(agent::comments))
        .route("/comments/{id}", post(agent::moderate))
        .route("/visitors", get(agent::visitors))
        .route("/visitors/{id}", get(agent::visitor))
        .route("/visitors/{id}/invite", post(agent_monitor::invite))
        .route("/live", get(agent_monitor::live))
        .route("/live/ws", get(agent_monitor::live_socket))
        .route("/console", get(crate::messenger::console_page))
        .route("/ws", get(crate::messenger::console_socket))
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
        .route("/people/create", post(admin::create_person))
        .route("/people/password", post(admin::reset_password))
        .route("/sites", get(admin_sites::sites).post(admin_sites::create))
        .route("/sites/{id}", get(admin_sites::site).post(admin_sites::save))
        .route("/sites/{id}/identity-secret", post(admin_sites::rotate_identity_secret))
        .route("/audit", get(admin::audit))
        .route("/visitors", get(admin_visitors::page))
        .route("/visitors/{id}", get(admin_visitors::visitor))
        .route("/visitors/{id}/export", get(admin_visitors::export))
        .route("/visitors/{id}/erase", post(admin_visitors::erase))
}
