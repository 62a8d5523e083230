//! The staff interfaces' start page and small shared handlers.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::{Layout, render};
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::MaybeAuthed;
use crate::{AppState, Iface, WebError};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    layout: Layout,
    heading: &'a str,
    intro: &'a str,
}

pub(crate) async fn interface_home<I: Iface>(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    if live.is_none() {
        return Ok(axum::response::Redirect::to(&format!("{}/login", I::PREFIX)).into_response());
    }
    let layout = Layout::new::<I>(&state, &ctx, I::TITLE, live.as_deref(), csrf);
    render(&HomePage { layout, heading: I::TITLE, intro: &ctx.tr.get("home-intro") })
}

#[derive(serde::Serialize)]
struct SessionInfo<'a> {
    interface: &'static str,
    name: &'a str,
    role: &'static str,
    site: u32,
    expires_at: i64,
}

/// The Help Center session as JSON, for scripts; 401 without one.
pub(crate) async fn api_session(MaybeAuthed(live): MaybeAuthed) -> Response {
    match live {
        Some(live) => Json(SessionInfo {
            interface: live.record.interface.as_str(),
            name: live.person.name.as_str(),
            role: live.person.role.as_str(),
            site: live.record.site_id.get(),
            expires_at: live.record.expires_at.unix(),
        })
        .into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            [(http::header::CONTENT_TYPE, "application/json")],
            r#"{"error":"not logged in"}"#,
        )
            .into_response(),
    }
}

/// Liveness: the process answers. Also the bare route of the benchmark.
pub(crate) async fn not_found() -> WebError {
    WebError::NotFound
}

super::pages!(HomePage<'_>);
