//! "Your account": overview, sessions and remembered devices, password change.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use tessera_core::{Interface, ParseError, Password, Role, SessionToken, TokenHash};
use tessera_i18n::{Arg, Tr};
use tessera_session::{EmailChange, LiveSession, PasswordChange};
use tessera_store::{RememberRecord, SessionRecord};

use super::{Layout, format_time, render, sentence};
use crate::client::{Client, device_label};
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::Authed;
use crate::setcookie::append;
use crate::{AppState, Iface, WebError};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct Done {
    done: String,
}

impl Done {
    /// The notice for `?done=…`, in the page's language.
    pub(crate) fn notice(&self, t: &Tr<'_>) -> Option<String> {
        let id = match self.done.as_str() {
            "password" => "notice-password-changed",
            "revoked" => "notice-session-revoked",
            "forgotten" => "notice-device-forgotten",
            "disabled" => "notice-account-disabled",
            "enabled" => "notice-account-enabled",
            "role" => "notice-role-changed",
            "saved" => "notice-saved",
            "published" => "notice-published",
            "unpublished" => "notice-unpublished",
            "approved" => "notice-comment-approved",
            "rejected" => "notice-comment-rejected",
            "already-moderated" => "notice-already-moderated",
            "created" => "notice-created",
            "reset" => "notice-password-reset",
            _ => return None,
        };
        Some(t.get(id))
    }
}

/// A role's display name.
fn role_name(t: &Tr<'_>, role: Role) -> String {
    t.get(match role {
        Role::User => "role-user",
        Role::Agent => "role-agent",
        Role::Admin => "role-admin",
    })
}

/// An interface's display name.
fn interface_name(t: &Tr<'_>, interface: Interface) -> String {
    t.get(match interface {
        Interface::Portal => "interface-portal",
        Interface::Agent => "interface-agent",
        Interface::Admin => "interface-admin",
    })
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    notice: Option<String>,
    name: String,
    email: String,
    role: String,
    site: u32,
    restored: bool,
    is_admin_area: bool,
}

pub(crate) async fn overview<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<I>,
    csrf: FormToken,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let p = &live.person;
    render(&AccountPage {
        layout: Layout::new::<I>(&state, &ctx, &ctx.tr.get("account-title"), Some(&live), csrf),
        notice: done.notice(&ctx.tr),
        name: p.name.to_string(),
        email: p.email.to_string(),
        role: role_name(&ctx.tr, p.role),
        site: p.site_id.get(),
        restored: live.record.restored,
        is_admin_area: I::INTERFACE == Interface::Admin,
    })
}

/// One row of a sessions table.
#[derive(Debug)]
pub(crate) struct SessionRow {
    pub id: String,
    pub person: String,
    pub device: String,
    pub ip: String,
    pub created: String,
    pub last_seen: String,
    pub this_device: bool,
    pub restored: bool,
    /// The record's interface and whether it has an IP address, for [`Self::interface_name`] and [`Self::ip_in`].
    kind: Interface,
    ip_known: bool,
}

impl SessionRow {
    pub fn new(r: &SessionRecord, current: &TokenHash, person: String) -> Self {
        Self {
            id: hex::encode(r.id_hash.as_bytes()),
            person,
            device: device_label(r.user_agent.as_deref()),
            ip: r.ip.clone().unwrap_or_else(|| "unknown".into()),
            created: format_time(r.created_at),
            last_seen: format_time(r.last_seen_at),
            this_device: r.id_hash == *current,
            restored: r.restored,
            kind: r.interface,
            ip_known: r.ip.is_some(),
        }
    }

    /// The interface's name in the page's language.
    pub fn interface_name(&self, t: &Tr<'_>) -> String {
        interface_name(t, self.kind)
    }

    /// The IP address, or "unknown" in the page's language.
    pub fn ip_in(&self, t: &Tr<'_>) -> String {
        if self.ip_known { self.ip.clone() } else { t.get("sessions-ip-unknown") }
    }

    /// The revoke button's accessible name.
    pub fn revoke_label(&self, t: &Tr<'_>) -> String {
        t.with("sessions-revoke-label", &[("started", Arg::Str(&self.created)), ("device", Arg::Str(&self.device))])
    }
}

#[derive(Debug)]
pub(crate) struct DeviceRow {
    id: String,
    interface: String,
    device: String,
    ip: String,
    created: String,
    last_used: String,
    expires: String,
    forget_label: String,
}

impl DeviceRow {
    fn new(r: &RememberRecord, t: &Tr<'_>) -> Self {
        let created = format_time(r.created_at);
        Self {
            id: tessera_session::device_id(&r.selector),
            interface: interface_name(t, r.interface),
            device: device_label(r.user_agent.as_deref()),
            ip: r.ip.clone().unwrap_or_else(|| t.get("sessions-ip-unknown")),
            forget_label: t.with("devices-forget-label", &[("since", Arg::Str(&created))]),
            created,
            last_used: format_time(r.rotated_at),
            expires: format_time(r.expires_at),
        }
    }
}

#[derive(Template)]
#[template(path = "sessions.html")]
pub(crate) struct SessionsPage {
    pub layout: Layout,
    pub heading: String,
    pub notice: Option<String>,
    pub rows: Vec<SessionRow>,
    pub show_person: bool,
    pub revoke_action: String,
    pub show_devices: bool,
    pub devices: Vec<DeviceRow>,
}

pub(crate) async fn sessions<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<I>,
    csrf: FormToken,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let core = state.core();
    let rows = core.sessions_of(live.person.id).await?;
    let devices = core.remembered_devices(live.person.id).await?;
    render(&SessionsPage {
        layout: Layout::new::<I>(&state, &ctx, &ctx.tr.get("sessions-title"), Some(&live), csrf),
        heading: ctx.tr.get("sessions-heading"),
        notice: done.notice(&ctx.tr),
        rows: rows.iter().map(|r| SessionRow::new(r, live.id_hash(), String::new())).collect(),
        show_person: false,
        revoke_action: format!("{}/account/sessions/revoke", I::PREFIX),
        show_devices: true,
        devices: devices.iter().map(|d| DeviceRow::new(d, &ctx.tr)).collect(),
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct RevokeForm {
    session: String,
    device: String,
}

pub(crate) fn parse_hash(hex_text: &str) -> Result<TokenHash, WebError> {
    hex::decode(hex_text)
        .ok()
        .and_then(|b| TokenHash::from_bytes(&b))
        .ok_or_else(|| WebError::BadRequest("That session does not exist.".into()))
}

/// Revokes one of the person's own sessions; revoking this one logs out.
pub(crate) async fn revoke_session<I: Iface>(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<I>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, WebError> {
    let target = parse_hash(&form.session)?;
    let core = state.core();
    let owned = core.sessions_of(live.person.id).await?.iter().any(|s| s.id_hash == target);
    if !owned {
        return Err(WebError::BadRequest("That session does not exist or is not yours.".into()));
    }
    core.revoke_session_by(&target, live.person.id).await?;
    if target == *live.id_hash() {
        let mut res = Redirect::to(&format!("{}/login", I::PREFIX)).into_response();
        append(&mut res, state.registry().clear(I::SESSION_COOKIE));
        if let Some(remember_id) = I::REMEMBER_COOKIE {
            append(&mut res, state.registry().clear(remember_id));
        }
        return Ok(res);
    }
    Ok(Redirect::to(&format!("{}/account/sessions?done=revoked", I::PREFIX)).into_response())
}

pub(crate) async fn forget_device<I: Iface>(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<I>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, WebError> {
    if !state.core().revoke_remembered(live.person.id, &form.device).await? {
        return Err(WebError::BadRequest("That device does not exist or is not yours.".into()));
    }
    Ok(Redirect::to(&format!("{}/account/sessions?done=forgotten", I::PREFIX)).into_response())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<String>,
}

pub(crate) async fn password_page<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<I>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let title = ctx.tr.get("account-password");
    render(&PasswordPage { layout: Layout::new::<I>(&state, &ctx, &title, Some(&live), csrf), error: None })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub(crate) async fn password_submit<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    Authed { live, .. }: Authed<I>,
    csrf: FormToken,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let refuse = |live: &LiveSession, csrf: FormToken, message: String| -> Result<Response, WebError> {
        let page = PasswordPage {
            layout: Layout::new::<I>(&state, &ctx, &ctx.tr.get("account-password"), Some(live), csrf),
            error: Some(message),
        };
        Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
    };
    if form.new != form.confirm {
        return refuse(&live, csrf, ctx.tr.get("password-mismatch"));
    }
    let Some(current) = Password::for_login(form.current) else {
        return refuse(&live, csrf, ctx.tr.get("password-wrong-current"));
    };
    // `Weak` only says why in English; the length tells which rule the new password broke.
    let too_long = form.new.len() > Password::MAX_BYTES;
    match state.core().change_password(&live, current, form.new, &client).await {
        Ok((token, _)) => Ok(credentials_changed::<I>(&state, &token, "password")),
        Err(PasswordChange::Core(e)) => Err(e.into()),
        Err(PasswordChange::WrongPassword) => refuse(&live, csrf, ctx.tr.get("password-wrong-current")),
        Err(PasswordChange::Weak(_)) => {
            refuse(&live, csrf, ctx.tr.get(if too_long { "password-too-long" } else { "password-too-short" }))
        }
    }
}

/// After a password or email change: the session's new ID goes into its
/// cookie, and the remember-me cookie goes (its series was ended).
fn credentials_changed<I: Iface>(state: &AppState, token: &SessionToken, done: &str) -> Response {
    let mut res = Redirect::to(&format!("{}/account?done={done}", I::PREFIX)).into_response();
    append(&mut res, state.registry().set(I::SESSION_COOKIE, token.encode()));
    if let Some(remember_id) = I::REMEMBER_COOKIE {
        append(&mut res, state.registry().clear(remember_id));
    }
    res
}

#[derive(Template)]
#[template(path = "email.html")]
struct EmailPage {
    layout: Layout,
    /// Translated text with the (escaped) current address in `<strong>`: rendered unescaped.
    intro_html: String,
    error: Option<String>,
}

/// The email page's introduction, naming the current address.
fn email_intro(t: &Tr<'_>, live: &LiveSession) -> String {
    let email = escape_html(live.person.email.as_str());
    t.with("email-intro", &[("email", Arg::Str(&email))])
}

/// Escapes text for HTML the way the templates do.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) async fn email_page<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<I>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    render(&EmailPage {
        layout: Layout::new::<I>(&state, &ctx, &ctx.tr.get("account-email"), Some(&live), csrf),
        intro_html: email_intro(&ctx.tr, &live),
        error: None,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct EmailForm {
    email: String,
    current: String,
}

pub(crate) async fn email_submit<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    Authed { live, .. }: Authed<I>,
    csrf: FormToken,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    let refuse = |live: &LiveSession, csrf: FormToken, message: String| -> Result<Response, WebError> {
        let page = EmailPage {
            layout: Layout::new::<I>(&state, &ctx, &ctx.tr.get("account-email"), Some(live), csrf),
            intro_html: email_intro(&ctx.tr, live),
            error: Some(message),
        };
        Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
    };
    let Some(current) = Password::for_login(form.current) else {
        return refuse(&live, csrf, ctx.tr.get("password-wrong-current"));
    };
    match state.core().change_email(&live, current, &form.email, &client).await {
        Ok((token, _)) => Ok(credentials_changed::<I>(&state, &token, "email")),
        Err(EmailChange::Core(e)) => Err(e.into()),
        Err(EmailChange::WrongPassword) => refuse(&live, csrf, ctx.tr.get("password-wrong-current")),
        Err(EmailChange::Invalid(ParseError::Email)) => refuse(&live, csrf, ctx.tr.get("email-invalid")),
        Err(EmailChange::Taken) => refuse(&live, csrf, ctx.tr.get("email-taken")),
        Err(e) => refuse(&live, csrf, sentence(e)),
    }
}

super::pages!(AccountPage, SessionsPage, PasswordPage, EmailPage);
