//! The one error type of the web layer: logs the cause, shows a safe message.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// Too many requests of one kind from one client; the message says what to do.
    #[error("too many requests: {0}")]
    TooMany(String),
    /// Overloaded for a moment (e.g. the page-view queue is full): try again shortly.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// The store could not be reached (a database outage): try again later.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] tessera_store::StoreError),
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<tessera_session::CoreError> for WebError {
    fn from(e: tessera_session::CoreError) -> Self {
        match e {
            // A race with an admin or the person's other browser, not a fault: say what to do.
            tessera_session::CoreError::AccountChanged => {
                Self::Forbidden("Your account was changed while this request was handled. Please log in again.")
            }
            tessera_session::CoreError::Store(e) => e.into(),
            e => Self::Internal(Box::new(e)),
        }
    }
}

impl From<tessera_store::StoreError> for WebError {
    fn from(e: tessera_store::StoreError) -> Self {
        match e {
            // The backend failing (connection, I/O) is an outage, not a bug: 503.
            e @ tessera_store::StoreError::Backend(_) => Self::Unavailable(e),
            e => Self::Internal(Box::new(e)),
        }
    }
}

impl From<tessera_kb::KbError> for WebError {
    fn from(e: tessera_kb::KbError) -> Self {
        match e {
            tessera_kb::KbError::NotFound => Self::NotFound,
            tessera_kb::KbError::Store(e) => e.into(),
            invalid => Self::BadRequest(crate::pages::sentence(invalid)),
        }
    }
}

impl From<tessera_visitor::VisitorError> for WebError {
    fn from(e: tessera_visitor::VisitorError) -> Self {
        match e {
            tessera_visitor::VisitorError::Store(e) => e.into(),
        }
    }
}

impl From<tessera_chat::ChatError> for WebError {
    fn from(e: tessera_chat::ChatError) -> Self {
        match e {
            tessera_chat::ChatError::NotFound => Self::NotFound,
            tessera_chat::ChatError::Store(e) => e.into(),
            invalid => Self::BadRequest(crate::pages::sentence(invalid)),
        }
    }
}

impl From<tessera_monitor::MonitorError> for WebError {
    fn from(e: tessera_monitor::MonitorError) -> Self {
        match e {
            tessera_monitor::MonitorError::Store(e) => e.into(),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl WebError {
    /// The status and the message shown; the generic messages come from the English catalogue
    /// (error pages are rendered without the request's language).
    fn status_and_message(&self) -> (StatusCode, std::borrow::Cow<'_, str>) {
        let english = |id: &str| tessera_i18n::Catalog::embedded().english().get(id).into();
        match self {
            Self::BadRequest(msg) => (StatusCode::BAD_REQUEST, msg.into()),
            Self::Forbidden(msg) => (StatusCode::FORBIDDEN, (*msg).into()),
            Self::NotFound => (StatusCode::NOT_FOUND, english("error-not-found")),
            Self::TooMany(msg) => (StatusCode::TOO_MANY_REQUESTS, msg.into()),
            Self::Busy(msg) => (StatusCode::SERVICE_UNAVAILABLE, (*msg).into()),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, english("error-unavailable")),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, english("error-internal")),
        }
    }
}

/// Marks a response that failed on a store error, for the metrics layer
/// (`tessera_store_errors_total`), which has the state this type does not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StoreFailure;

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut store_failed = false;
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                // The domain errors' `Store` variants are unwrapped by the `From`s above.
                store_failed = cause.is::<tessera_store::StoreError>();
            }
            Self::Unavailable(cause) => {
                tracing::error!(error = %cause, "request failed: the store is unavailable");
                store_failed = true;
            }
            _ => {}
        }
        let (status, message) = self.status_and_message();
        let mut res = (status, Html(crate::pages::message_page(status, &message))).into_response();
        if store_failed {
            res.extensions_mut().insert(StoreFailure);
        }
        if matches!(self, Self::Busy(_) | Self::Unavailable(_)) {
            res.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
        }
        res
    }
}
