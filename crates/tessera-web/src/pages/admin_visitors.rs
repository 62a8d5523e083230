//! Admin: a visitor's data by visitor ID, exported as JSON or erased (the
//! data-protection requests a site receives).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, header};
use tessera_core::VisitorId;
use tessera_store::{ActivityKind, Author, ChatOwner, Visitor};

use super::{Layout, render};
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::Authed;
use crate::{Admin, AppState, WebError};
use tessera_session::LiveSession;

#[derive(Template)]
#[template(path = "admin_visitors.html")]
struct VisitorsPage {
    layout: Layout,
    notice: Option<String>,
}

#[derive(serde::Deserialize)]
pub(crate) struct Lookup {
    #[serde(default)]
    id: String,
    #[serde(default)]
    erased: String,
}

/// The form: a visitor ID to export or erase. `?id=` goes to the visitor.
pub(crate) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Lookup>,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let notice =
        (!q.erased.is_empty()).then(|| format!("Visitor {} and everything recorded about it were erased.", q.erased));
    if !q.id.trim().is_empty() {
        let id = q.id.trim().trim_start_matches('#');
        return Ok(Redirect::to(&format!("/admin/visitors/{}", urlencode(id))).into_response());
    }
    render(&VisitorsPage { layout: Layout::new::<Admin>(&state, &ctx, "Visitor data", Some(&live), csrf), notice })
}

fn urlencode(text: &str) -> String {
    text.bytes().filter(u8::is_ascii_digit).map(char::from).collect()
}

/// The visitor, if this admin's sites include its site (else 404).
async fn managed_visitor(state: &AppState, live: &LiveSession, id: &str) -> Result<Visitor, WebError> {
    let id: VisitorId = id.parse().map_err(|_| WebError::NotFound)?;
    let visitor = state.visitors().visitor(id).await?.ok_or(WebError::NotFound)?;
    if !super::admin_sites::may_manage(state, live, visitor.site_id) {
        return Err(WebError::NotFound);
    }
    Ok(visitor)
}

#[derive(Template)]
#[template(path = "admin_visitor.html")]
struct VisitorPage {
    layout: Layout,
    id: VisitorId,
    site: u32,
    first_seen: String,
    visits: usize,
    conversations: usize,
}

pub(crate) async fn visitor(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Authed { live, .. }: Authed<Admin>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let v = managed_visitor(&state, &live, &id).await?;
    let visits = state.core().store().sessions_of_visitor(v.id, 10_000).await?.len();
    let owner = ChatOwner { visitor: Some(v.id), verified_user: None };
    let conversations = state.chat().conversations_of(v.site_id, &owner).await?.len();
    render(&VisitorPage {
        layout: Layout::new::<Admin>(&state, &ctx, &format!("Visitor {}", v.id), Some(&live), csrf),
        id: v.id,
        site: v.site_id.get(),
        first_seen: super::format_time(v.created_at),
        visits,
        conversations,
    })
}

#[derive(serde::Serialize)]
struct Export {
    visitor: serde_json::Value,
    visits: Vec<serde_json::Value>,
    help_center_activity: Vec<serde_json::Value>,
    conversations: Vec<serde_json::Value>,
}

/// Everything recorded about the visitor, as one JSON document.
pub(crate) async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Authed { live, .. }: Authed<Admin>,
) -> Result<Response, WebError> {
    use serde_json::json;
    let v = managed_visitor(&state, &live, &id).await?;
    let store = state.core().store();
    let mut visits = Vec::new();
    for s in store.sessions_of_visitor(v.id, 10_000).await? {
        let pages: Vec<_> = store
            .page_events_of_session(s.id, 100_000)
            .await?
            .into_iter()
            .map(|e| json!({"at": e.at.unix(), "url": e.url, "title": e.title, "referrer": e.referrer, "tab": e.tab, "ip": e.ip}))
            .collect();
        visits.push(json!({
            "visit": s.visit_number, "started_at": s.started_at.unix(), "last_seen_at": s.last_seen_at.unix(),
            "previous_visit_at": s.previous_visit_at.map(|t| t.unix()), "pages": pages,
        }));
    }
    let help_center_activity = state
        .visitors()
        .activity(v.id)
        .await?
        .into_iter()
        .filter(|a| a.visitor_id == Some(v.id))
        .map(|a| match a.kind {
            ActivityKind::PageView { path, title } => json!({"at": a.at.unix(), "viewed": path, "title": title}),
            ActivityKind::Vote { article_id, helpful } => {
                json!({"at": a.at.unix(), "voted_on_article": article_id.get(), "helpful": helpful})
            }
            ActivityKind::Comment { article_id, body, status, .. } => {
                json!({"at": a.at.unix(), "commented_on_article": article_id.get(), "comment": body, "status": status.as_str()})
            }
        })
        .collect();
    let mut conversations = Vec::new();
    let owner = ChatOwner { visitor: Some(v.id), verified_user: None };
    for c in state.chat().conversations_of(v.site_id, &owner).await? {
        let messages: Vec<_> = store
            .messages_after(c.id, 0, 100_000)
            .await?
            .into_iter()
            .map(|m| {
                let from = match m.author {
                    Author::Visitor => "visitor",
                    Author::Agent(_) => "agent",
                    Author::System => "system",
                };
                json!({"seq": m.seq, "at": m.created_at.unix(), "from": from, "body": m.body})
            })
            .collect();
        conversations.push(json!({
            "id": c.id.get(), "status": c.status.as_str(), "started_at": c.created_at.unix(),
            "name": c.visitor_name, "email": c.visitor_email, "messages": messages,
        }));
    }
    let export = Export {
        visitor: json!({
            "id": v.id.get(), "site": v.site_id.get(), "created_at": v.created_at.unix(),
            "last_seen_at": v.last_seen_at.unix(), "linked_person": v.person_id.map(|p| p.get()),
        }),
        visits,
        help_center_activity,
        conversations,
    };
    let mut res = axum::Json(export).into_response();
    let disposition = format!("attachment; filename=\"tessera-visitor-{}.json\"", v.id);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(serde::Deserialize)]
pub(crate) struct EraseForm {
    #[serde(default)]
    confirm: String,
}

pub(crate) async fn erase(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Authed { live, .. }: Authed<Admin>,
    Form(form): Form<EraseForm>,
) -> Result<Response, WebError> {
    let v = managed_visitor(&state, &live, &id).await?;
    if form.confirm.trim() != v.id.to_string() {
        return Err(WebError::BadRequest(format!("Type the visitor ID ({}) to confirm the erasure.", v.id)));
    }
    state.core().store().erase_visitor(v.id).await?;
    tracing::info!(visitor = %v.id, admin = %live.person.id, "visitor erased");
    Ok(Redirect::to(&format!("/admin/visitors?erased={}", v.id)).into_response())
}

super::pages!(VisitorsPage, VisitorPage);
