//! Help Center registration: a visitor creates their own account, when the
//! site allows it, and is logged in at once.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use tessera_cookies::CookieId;
use tessera_core::{DisplayName, Email, Password, Role};
use tessera_session::{CoreError, NewSession};
use tessera_store::StoreError;

use super::guest::Guest;
use super::{Layout, render};
use crate::client::Client;
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::MaybeAuthed;
use crate::setcookie::append;
use crate::{AppState, Portal, WebError};

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    open: bool,
    error: Option<String>,
    name: String,
    email: String,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    if live.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    let layout = Layout::new::<Portal>(&state, &ctx, &ctx.tr.get("register-title"), None, csrf);
    let open = ctx.site.settings.registration_open;
    render(&RegisterPage { layout, open, error: None, name: String::new(), email: String::new() })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct RegisterForm {
    name: String,
    email: String,
    password: String,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Client(client): Client,
    csrf: FormToken,
    Form(form): Form<RegisterForm>,
) -> Result<Response, WebError> {
    let t = ctx.tr;
    if !ctx.site.settings.registration_open {
        return Err(WebError::Forbidden("Registration is closed on this site."));
    }
    let checked = (|| {
        let name = DisplayName::parse(&form.name).map_err(super::sentence)?;
        let email = Email::parse(&form.email).map_err(super::sentence)?;
        let password = Password::new_choice(form.password.clone()).map_err(super::sentence)?;
        Ok::<_, String>((name, email, password))
    })();
    let fail = |error: String, csrf: FormToken, form: RegisterForm| -> Result<Response, WebError> {
        let layout = Layout::new::<Portal>(&state, &ctx, &t.get("register-title"), None, csrf);
        let page = RegisterPage { layout, open: true, error: Some(error), name: form.name, email: form.email };
        Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
    };
    let (name, email, password) = match checked {
        Ok(fields) => fields,
        Err(error) => return fail(error, csrf, form),
    };
    let core = state.core();
    let person = match core.create_person(ctx.site.id, email, name, Role::User, password, None).await {
        Ok(person) => person,
        Err(CoreError::Store(StoreError::Conflict(_))) => return fail(t.get("register-taken"), csrf, form),
        Err(e) => return Err(e.into()),
    };
    let facts = NewSession { ip: client.ip, user_agent: client.user_agent, restored: false, remember: None };
    let (token, _) = core.create_session(&person, tessera_core::Interface::Portal, facts).await?;
    let guest = Guest::resolve(&state, &ctx, &headers).await?;
    if let Some(visitor) = &guest.visitor {
        state.visitors().link(visitor.id, person.id).await?;
    }
    let mut res = Redirect::to("/account").into_response();
    append(&mut res, state.registry().set(CookieId::PortalSession, token.encode()));
    guest.apply(&mut res);
    Ok(res)
}

super::pages!(RegisterPage);
