//! "Your account": overview, sessions and remembered devices, password change.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use tessera_core::{Password, SessionToken, TokenHash};
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
    pub(crate) fn notice(&self) -> Option<String> {
        let text = match self.done.as_str() {
            "password" => {
                "Your password was changed. Every other session was logged out and remembered devices were forgotten."
            }
            "revoked" => "The session was revoked.",
            "forgotten" => "The device was forgotten.",
            "disabled" => "The account was disabled; all its sessions and remembered devices ended.",
            "enabled" => "The account was enabled.",
            "role" => "The role was changed; the person's sessions and remembered devices ended.",
            "saved" => "Saved.",
            "published" => "Saved and published: readers can see it now.",
            "unpublished" => "Saved and unpublished: only agents can see it now.",
            "approved" => "The comment was approved and is now public.",
            "rejected" => "The comment was rejected.",
            "already-moderated" => "Someone else moderated that comment a moment ago.",
            "created" => "Created.",
            "reset" => "The password was reset; every session and remembered device of that person ended.",
            _ => return None,
        };
        Some(text.to_owned())
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    notice: Option<String>,
    name: String,
    email: String,
    role: &'static str,
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
        layout: Layout::new::<I>(&state, &ctx, "Your account", Some(&live), csrf),
        notice: done.notice(),
        name: p.name.to_string(),
        email: p.email.to_string(),
        role: p.role.as_str(),
        site: p.site_id.get(),
        restored: live.record.restored,
        is_admin_area: I::INTERFACE == tessera_core::Interface::Admin,
    })
}

/// One row of a sessions table.
#[derive(Debug)]
pub(crate) struct SessionRow {
    pub id: String,
    pub person: String,
    pub interface: &'static str,
    pub device: String,
    pub ip: String,
    pub created: String,
    pub last_seen: String,
    pub this_device: bool,
    pub restored: bool,
}

impl SessionRow {
    pub fn new(r: &SessionRecord, current: &TokenHash, person: String) -> Self {
        Self {
            id: hex::encode(r.id_hash.as_bytes()),
            person,
            interface: r.interface.as_str(),
            device: device_label(r.user_agent.as_deref()),
            ip: r.ip.clone().unwrap_or_else(|| "unknown".into()),
            created: format_time(r.created_at),
            last_seen: format_time(r.last_seen_at),
            this_device: r.id_hash == *current,
            restored: r.restored,
        }
    }
}

#[derive(Debug)]
pub(crate) struct DeviceRow {
    id: String,
    interface: &'static str,
    device: String,
    ip: String,
    created: String,
    last_used: String,
    expires: String,
}

impl DeviceRow {
    fn new(r: &RememberRecord) -> Self {
        Self {
            id: tessera_session::device_id(&r.selector),
            interface: r.interface.as_str(),
            device: device_label(r.user_agent.as_deref()),
            ip: r.ip.clone().unwrap_or_else(|| "unknown".into()),
            created: format_time(r.created_at),
            last_used: format_time(r.rotated_at),
            expires: format_time(r.expires_at),
        }
    }
}

#[derive(Template)]
#[template(path = "sessions.html")]
pub(crate) struct SessionsPage {
    pub layout: Layout,
    pub heading: &'static str,
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
        layout: Layout::new::<I>(&state, &ctx, "Your sessions", Some(&live), csrf),
        heading: "Your sessions and remembered devices",
        notice: done.notice(),
        rows: rows.iter().map(|r| SessionRow::new(r, live.id_hash(), String::new())).collect(),
        show_person: false,
        revoke_action: format!("{}/account/sessions/revoke", I::PREFIX),
        show_devices: true,
        devices: devices.iter().map(DeviceRow::new).collect(),
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
    render(&PasswordPage { layout: Layout::new::<I>(&state, &ctx, "Change password", Some(&live), csrf), error: None })
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
            layout: Layout::new::<I>(&state, &ctx, "Change password", Some(live), csrf),
            error: Some(message),
        };
        Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
    };
    if form.new != form.confirm {
        return refuse(&live, csrf, "The two new passwords are not the same.".into());
    }
    let Some(current) = Password::for_login(form.current) else {
        return refuse(&live, csrf, sentence(PasswordChange::WrongPassword));
    };
    match state.core().change_password(&live, current, form.new, &client).await {
        Ok((token, _)) => Ok(credentials_changed::<I>(&state, &token, "password")),
        Err(PasswordChange::Core(e)) => Err(e.into()),
        Err(e) => refuse(&live, csrf, sentence(e)),
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
    current_email: String,
    error: Option<String>,
}

pub(crate) async fn email_page<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<I>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let current_email = live.person.email.to_string();
    render(&EmailPage {
        layout: Layout::new::<I>(&state, &ctx, "Change email", Some(&live), csrf),
        current_email,
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
            layout: Layout::new::<I>(&state, &ctx, "Change email", Some(live), csrf),
            current_email: live.person.email.to_string(),
            error: Some(message),
        };
        Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
    };
    let Some(current) = Password::for_login(form.current) else {
        return refuse(&live, csrf, sentence(EmailChange::WrongPassword));
    };
    match state.core().change_email(&live, current, &form.email, &client).await {
        Ok((token, _)) => Ok(credentials_changed::<I>(&state, &token, "email")),
        Err(EmailChange::Core(e)) => Err(e.into()),
        Err(e) => refuse(&live, csrf, sentence(e)),
    }
}

super::pages!(AccountPage, SessionsPage, PasswordPage, EmailPage);
