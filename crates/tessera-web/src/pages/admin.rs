//! The admin's tools for this foundation: every session of the site with
//! revoke, people with disable/enable, and the audit log.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::{PersonId, Role, Timestamp};
use tessera_store::{AuditFilter, AuditKind};

use super::account::{Done, SessionRow, SessionsPage, parse_hash};
use super::{Layout, format_time, render};
use crate::csrf::FormToken;
use crate::session::Authed;
use crate::{Admin, AppState, WebError};

/// Names of the site's people by ID, for tables that show who.
async fn names(state: &AppState, site: tessera_core::SiteId) -> Result<HashMap<PersonId, String>, WebError> {
    let people = state.core().store().people(site).await?;
    Ok(people.into_iter().map(|p| (p.id, format!("{} <{}>", p.name, p.email))).collect())
}

pub(crate) async fn sessions(
    State(state): State<AppState>,
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
        layout: Layout::new::<Admin>(&state, "All sessions", Some(&live), csrf),
        heading: "All sessions of the site",
        notice: done.notice(),
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
    people: Vec<PersonRow>,
}

pub(crate) async fn people(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
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
    render(&PeoplePage {
        layout: Layout::new::<Admin>(&state, "People", Some(&live), csrf),
        notice: done.notice(),
        people,
    })
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
#[template(path = "audit.html")]
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
        layout: Layout::new::<Admin>(&state, "Audit log", Some(&live), csrf),
        kinds: AuditKind::ALL.iter().map(|k| k.as_str()).collect(),
        selected: q.kind,
        entries,
    })
}

super::pages!(PeoplePage, AuditPage);
