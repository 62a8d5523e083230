//! Login and logout, the same flow for every interface.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tessera_core::{Interface, Password, SiteId};
use tessera_session::{CoreError, LoginError, NewSession};

use super::{Layout, render, sentence};
use crate::client::Client;
use tessera_cookies::CookieId;

use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::MaybeAuthed;
use crate::setcookie::append;
use crate::{AppState, Iface, WebError};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    ask_site: bool,
    site_id: String,
    email: String,
    offer_remember: bool,
}

fn login_form<I: Iface>(
    state: &AppState,
    ctx: &Ctx,
    csrf: FormToken,
    error: Option<String>,
    site_id: String,
    email: String,
) -> LoginPage {
    LoginPage {
        layout: Layout::new::<I>(state, ctx, &ctx.tr.get("login-title"), None, csrf),
        error,
        ask_site: I::INTERFACE == Interface::Agent,
        site_id,
        email,
        offer_remember: I::INTERFACE.allows_remember_me(),
    }
}

pub(crate) async fn login_page<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    if live.is_some() {
        return Ok(Redirect::to(&format!("{}/account", I::PREFIX)).into_response());
    }
    // An agent who ticked "Remember me" last time finds the site ID filled in.
    let cookies = headers.get_all(header::COOKIE).into_iter().map(|v| v.as_bytes());
    let remembered_site = match I::INTERFACE {
        Interface::Agent => tessera_cookies::find_cookie(cookies, state.registry().name(CookieId::AgentSite))
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| state.agent_site_cookie().decode(v))
            .map(|site| site.get().to_string()),
        _ => None,
    };
    render(&login_form::<I>(&state, &ctx, csrf, None, remembered_site.unwrap_or_default(), String::new()))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct LoginForm {
    site_id: String,
    email: String,
    password: String,
    remember: Option<String>,
}

pub(crate) async fn login_submit<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Client(client): Client,
    MaybeAuthed(previous): MaybeAuthed,
    csrf: FormToken,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let site = match I::INTERFACE {
        Interface::Agent => match SiteId::parse(&form.site_id) {
            Ok(site) => site,
            Err(e) => {
                let page = login_form::<I>(&state, &ctx, csrf, Some(e.to_string()), form.site_id, form.email);
                return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
            }
        },
        _ => ctx.site.id,
    };
    let fail = |status: StatusCode, message: String, csrf: FormToken, form: LoginForm| -> Result<Response, WebError> {
        let page = login_form::<I>(&state, &ctx, csrf, Some(message), form.site_id, form.email);
        Ok((status, render(&page)?).into_response())
    };
    let Some(password) = Password::for_login(form.password.clone()) else {
        return fail(StatusCode::UNAUTHORIZED, sentence(LoginError::Invalid), csrf, form);
    };
    let core = state.core();
    let person = match core.login(site, &form.email, password, I::INTERFACE, &client).await {
        Ok(person) => person,
        Err(LoginError::Invalid) => {
            return fail(StatusCode::UNAUTHORIZED, sentence(LoginError::Invalid), csrf, form);
        }
        Err(e @ LoginError::Throttled { retry_after_seconds }) => {
            let mut res = fail(StatusCode::TOO_MANY_REQUESTS, sentence(e), csrf, form)?;
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            return Ok(res);
        }
        Err(LoginError::Core(e)) => return Err(e.into()),
    };
    // A login replaces whatever session this browser had on the interface.
    if let Some(old) = previous {
        core.revoke_session(old.id_hash()).await?;
    }
    // The remember-me series (if ticked) comes first, so the session can name it.
    let ticked = form.remember.as_deref().is_some_and(|v| matches!(v, "on" | "1" | "true" | "yes"));
    let remember = match I::REMEMBER_COOKIE {
        Some(_) if ticked => core.remember(&person, I::INTERFACE, &client).await?,
        _ => None,
    };
    let facts = NewSession {
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        restored: false,
        remember: remember.as_ref().map(|r| r.selector),
    };
    let (token, _) = match core.create_session(&person, I::INTERFACE, facts).await {
        Ok(created) => created,
        // Disabled or re-keyed while the password was being checked: the
        // password that matched is no longer the account's, so the login failed.
        Err(CoreError::AccountChanged) => {
            if let Some(remember) = &remember {
                core.forget_remember(remember.encode().as_bytes()).await?;
            }
            return fail(StatusCode::UNAUTHORIZED, sentence(LoginError::Invalid), csrf, form);
        }
        Err(e) => return Err(e.into()),
    };
    let mut res = Redirect::to(&format!("{}/account", I::PREFIX)).into_response();
    append(&mut res, state.registry().set(I::SESSION_COOKIE, token.encode()));
    if let (Some(remember_id), Some(remember)) = (I::REMEMBER_COOKIE, remember) {
        append(&mut res, state.registry().set(remember_id, remember.encode()));
        if I::INTERFACE == Interface::Agent {
            append(&mut res, state.registry().set(CookieId::AgentSite, state.agent_site_cookie().encode(site)));
        }
    }
    if I::INTERFACE == Interface::Portal {
        // The browser's guest votes, comments and views become the person's.
        let guest = super::guest::Guest::resolve(&state, &ctx, &headers).await?;
        if let Some(visitor) = &guest.visitor {
            state.visitors().link(visitor.id, person.id).await?;
        }
    }
    Ok(res)
}

/// Ends the session server-side, forgets this browser's remember-me series
/// and clears both cookies.
pub(crate) async fn logout<I: Iface>(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    MaybeAuthed(live): MaybeAuthed,
) -> Result<Response, WebError> {
    let core = state.core();
    let registry = state.registry();
    if let Some(live) = &live {
        core.revoke_session(live.id_hash()).await?;
        core.audit_logout(live, &client).await;
    }
    let mut res = Redirect::to(&format!("{}/login", I::PREFIX)).into_response();
    append(&mut res, registry.clear(I::SESSION_COOKIE));
    if let Some(remember_id) = I::REMEMBER_COOKIE {
        let cookies = headers.get_all(header::COOKIE).into_iter().map(|v| v.as_bytes());
        if let Some(value) = tessera_cookies::find_cookie(cookies, registry.name(remember_id)) {
            core.forget_remember(value).await?;
        }
        append(&mut res, registry.clear(remember_id));
    }
    Ok(res)
}

super::pages!(LoginPage);
