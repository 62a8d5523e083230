//! The admin's tools for this foundation: every session of the site with
//! revoke, people (create, reset password, role, disable/enable), and the
//! audit log. Sites are in `admin_sites`.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use tessera_core::{DisplayName, Email, Password, PersonId, Role, Timestamp};
use tessera_session::{CoreError, PasswordChange};
use tessera_store::{AuditFilter, AuditKind, StoreError};

use super::account::{Done, SessionRow, SessionsPage, parse_hash};
use super::{Layout, format_time, render};
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::Authed;
use crate::{Admin, AppState, WebError};

/// Names of the site's people by ID, for tables that show who.
async fn names(state: &AppState, site: tessera_core::SiteId) -> Result<HashMap<PersonId, String>, WebError> {
    let people = state.core().store().people(site).await?;
    Ok(people.into_iter().map(|p| (p.id, format!("{} <{}>", p.name, p.email))).collect())
}

pub(crate) async fn sessions(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let site = live.person.site_id;
    let names = names(&state, site).await?;
    let records = state.core().sessions_of_site(site, 500).await?;
    let rows = records
        .iter()
        .map(|r| SessionRow::new(r, live.id_hash(), names.get(&r.person_id).cloned().unwrap_or_default()))
        .collect();
    render(&SessionsPage {
        layout: Layout::new::<Admin>(&state, &ctx, "All sessions", Some(&live), csrf),
        heading: "All sessions of the site".into(),
        notice: done.notice(&ctx.tr),
        rows,
        show_person: true,
        revoke_action: "/admin/sessions/revoke".into(),
        show_devices: false,
        devices: Vec::new(),
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct SessionForm {
    session: String,
}

pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Admin>,
    Form(form): Form<SessionForm>,
) -> Result<Response, WebError> {
    let target = parse_hash(&form.session)?;
    let core = state.core();
    let on_site = core.store().session(&target).await?.is_some_and(|s| s.site_id == live.person.site_id);
    if !on_site {
        return Err(WebError::BadRequest("That session does not exist.".into()));
    }
    core.revoke_session_by(&target, live.person.id).await?;
    Ok(Redirect::to("/admin/sessions?done=revoked").into_response())
}

#[derive(Debug)]
struct PersonRow {
    id: i64,
    roles: [(&'static str, bool); 3],
    name: String,
    email: String,
    role: &'static str,
    disabled: bool,
    is_me: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    layout: Layout,
    notice: Option<String>,
    /// Why the create form was refused, and what was typed (never the password).
    error: Option<String>,
    new: NewPersonForm,
    new_roles: [(&'static str, bool); 3],
    /// Which reset form failed, and why.
    reset_error: Option<(i64, String)>,
    people: Vec<PersonRow>,
}

/// This page's own notices (the rest are the account pages' [`Done`]).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct PeopleDone {
    done: String,
}

impl PeopleDone {
    fn notice(&self) -> Option<String> {
        let text = match self.done.as_str() {
            "created" => "The person was created and can log in with the password you chose.",
            "reset" => "The password was reset. All the person's sessions ended and remembered devices were forgotten.",
            _ => return None,
        };
        Some(text.to_owned())
    }
}

pub(crate) async fn people(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Query(done): Query<Done>,
    Query(mine): Query<PeopleDone>,
) -> Result<Response, WebError> {
    let notice = mine.notice().or_else(|| done.notice(&ctx.tr));
    let page = people_page(&state, &ctx, &live, csrf, notice, Refused::Nothing).await?;
    render(&page)
}

/// Which form of the people page was refused.
enum Refused {
    Nothing,
    Create(String, NewPersonForm),
    Reset(PersonId, String),
}

async fn people_page(
    state: &AppState,
    ctx: &Ctx,
    live: &tessera_session::LiveSession,
    csrf: FormToken,
    notice: Option<String>,
    refused: Refused,
) -> Result<PeoplePage, WebError> {
    let (error, new, reset_error) = match refused {
        Refused::Nothing => (None, NewPersonForm::default(), None),
        Refused::Create(message, typed) => (Some(message), typed, None),
        Refused::Reset(id, message) => (None, NewPersonForm::default(), Some((id.get(), message))),
    };
    let new_role = Role::parse(&new.role).unwrap_or(Role::Agent);
    let people = state.core().store().people(live.person.site_id).await?;
    let people = people
        .iter()
        .map(|p| PersonRow {
            id: p.id.get(),
            roles: [Role::User, Role::Agent, Role::Admin].map(|r| (r.as_str(), r == p.role)),
            name: p.name.to_string(),
            email: p.email.to_string(),
            role: p.role.as_str(),
            disabled: p.disabled,
            is_me: p.id == live.person.id,
        })
        .collect();
    Ok(PeoplePage {
        layout: Layout::new::<Admin>(state, ctx, "People", Some(live), csrf),
        notice,
        error,
        new_roles: [Role::User, Role::Agent, Role::Admin].map(|r| (r.as_str(), r == new_role)),
        new: NewPersonForm { password: String::new(), ..new },
        reset_error,
        people,
    })
}

/// The create form as typed. No `Debug`: it holds the initial password.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewPersonForm {
    name: String,
    email: String,
    role: String,
    password: String,
}

/// Creates a person on the admin's site with the password the admin chose.
pub(crate) async fn create_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Form(form): Form<NewPersonForm>,
) -> Result<Response, WebError> {
    let site = live.person.site_id;
    let checked = (|| {
        let name = DisplayName::parse(&form.name).map_err(|e| format!("Name: {e}."))?;
        let email = Email::parse(&form.email).map_err(|e| format!("Email: {e}."))?;
        let role = Role::parse(&form.role).map_err(|e| format!("Role: {e}."))?;
        let password = Password::new_choice(form.password.clone()).map_err(|e| format!("Initial password: {e}."))?;
        Ok::<_, String>((name, email, role, password))
    })();
    let taken = || format!("Email: there is already a person with the address {} on this site.", form.email.trim());
    let outcome = match checked {
        Err(message) => Err(message),
        Ok((name, email, role, password)) => {
            if state.core().store().person_by_email(site, &email).await?.is_some() {
                Err(taken())
            } else {
                match state.core().create_person(site, email, name, role, password, Some(live.person.id)).await {
                    Ok(_) => Ok(()),
                    // Taken between our check and the insert.
                    Err(CoreError::Store(StoreError::Conflict(_))) => Err(taken()),
                    Err(e) => return Err(e.into()),
                }
            }
        }
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/admin/people?done=created").into_response()),
        Err(message) => {
            let page = people_page(&state, &ctx, &live, csrf, None, Refused::Create(message, form)).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ResetForm {
    person: String,
    password: String,
}

/// Sets a new password for someone else on the site. Every session and
/// remembered device of theirs ends (admins change their own password on
/// their account page, which keeps their session).
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Form(form): Form<ResetForm>,
) -> Result<Response, WebError> {
    let id =
        someone_else_on_site(&state, &live, &form.person, "Change your own password on your account page, not here.")
            .await?;
    match state.core().reset_password(id, form.password, live.person.id).await {
        Ok(()) => Ok(Redirect::to("/admin/people?done=reset").into_response()),
        Err(PasswordChange::Core(e)) => Err(e.into()),
        Err(refused) => {
            let message = format!("New password: {refused}.");
            let page = people_page(&state, &ctx, &live, csrf, None, Refused::Reset(id, message)).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct PersonForm {
    person: String,
}

/// The person named by a form field, if they are on the admin's site and are
/// not the admin (who must not lock themselves out).
async fn someone_else_on_site(
    state: &AppState,
    admin: &tessera_session::LiveSession,
    field: &str,
    yourself: &'static str,
) -> Result<PersonId, WebError> {
    let not_found = || WebError::BadRequest("That person does not exist.".into());
    let id: PersonId = field.parse().map_err(|_| not_found())?;
    let person = state.core().store().person(id).await?.ok_or_else(not_found)?;
    if person.site_id != admin.person.site_id {
        return Err(not_found());
    }
    if person.id == admin.person.id {
        return Err(WebError::BadRequest(yourself.into()));
    }
    Ok(id)
}

async fn set_disabled(
    state: &AppState,
    admin: &tessera_session::LiveSession,
    form: PersonForm,
    disabled: bool,
) -> Result<Response, WebError> {
    let id = someone_else_on_site(state, admin, &form.person, "You cannot disable your own account.").await?;
    state.core().set_disabled(id, disabled, Some(admin.person.id)).await?;
    let done = if disabled { "disabled" } else { "enabled" };
    Ok(Redirect::to(&format!("/admin/people?done={done}")).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct RoleForm {
    person: String,
    role: String,
}

/// Changes a person's role. Privileges live in sessions, so every session
/// and remembered device of the person ends: they log in again and get a
/// new session ID carrying the new role.
pub(crate) async fn change_role(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Admin>,
    Form(form): Form<RoleForm>,
) -> Result<Response, WebError> {
    let role = Role::parse(&form.role).map_err(|e| WebError::BadRequest(super::sentence(e)))?;
    let id = someone_else_on_site(&state, &live, &form.person, "You cannot change your own role.").await?;
    state.core().set_role(id, role, Some(live.person.id)).await?;
    Ok(Redirect::to("/admin/people?done=role").into_response())
}

pub(crate) async fn disable(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Admin>,
    Form(form): Form<PersonForm>,
) -> Result<Response, WebError> {
    set_disabled(&state, &live, form, true).await
}

pub(crate) async fn enable(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Admin>,
    Form(form): Form<PersonForm>,
) -> Result<Response, WebError> {
    set_disabled(&state, &live, form, false).await
}

#[derive(Debug)]
struct AuditRow {
    at: String,
    kind: &'static str,
    person: String,
    actor: String,
    interface: &'static str,
    ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    layout: Layout,
    kinds: Vec<&'static str>,
    selected: String,
    entries: Vec<AuditRow>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct AuditQuery {
    kind: String,
    since: Option<i64>,
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let site = live.person.site_id;
    let filter = AuditFilter {
        site_id: Some(site),
        person_id: None,
        kind: AuditKind::parse(&q.kind),
        since: q.since.map(Timestamp::from_unix),
        limit: 500,
    };
    let names = names(&state, site).await?;
    let who = |id: Option<PersonId>| {
        id.map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))).unwrap_or_default()
    };
    let entries = state
        .core()
        .store()
        .audit(&filter)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: format_time(e.event.at),
            kind: e.event.kind.as_str(),
            person: who(e.event.person_id),
            actor: who(e.event.actor_id),
            interface: e.event.interface.map_or("", |i| i.as_str()),
            ip: e.event.ip.unwrap_or_default(),
            detail: e.event.detail,
        })
        .collect();
    render(&AuditPage {
        layout: Layout::new::<Admin>(&state, &ctx, "Audit log", Some(&live), csrf),
        kinds: AuditKind::ALL.iter().map(|k| k.as_str()).collect(),
        selected: q.kind,
        entries,
    })
}

super::pages!(PeoplePage, AuditPage);
