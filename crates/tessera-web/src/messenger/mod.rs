//! The tag and the Messenger, server side (see docs/messenger-protocol.md):
//! the manifest the loader asks for, the frame page customers' sites embed,
//! the messaging session, and the visitor's WebSocket.
//!
//! These routes sit outside the interfaces' session-and-CSRF layer: the
//! frame lives in a third-party context where SameSite=Lax cookies (the CSRF
//! anchor among them) are not sent. They protect themselves instead: exact
//! `Origin` checks, JSON bodies (which cross-origin pages cannot send
//! without a preflight we never grant), and messaging tokens.

mod console;
mod follow;
mod frame;
mod session;
mod ws;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) use console::{console_page, console_socket};
pub(crate) use session::check_origin;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/tag.js", get(frame::tag_js))
        .route("/messenger/manifest", get(frame::manifest))
        .route("/messenger/frame", get(frame::frame))
        .route("/messenger/session", post(session::session))
        .route("/messenger/ws", get(ws::upgrade))
}
