//! Appending registry-built cookies to responses.

use axum::response::Response;
use cookie::Cookie;
use http::{HeaderValue, header};

/// Appends `cookie` unless the response already sets a cookie of that name
/// (a handler's decision, e.g. logout clearing it, wins over middleware's).
pub(crate) fn append_unless_set(response: &mut Response, cookie: Cookie<'static>) {
    let prefix = format!("{}=", cookie.name());
    let already =
        response.headers().get_all(header::SET_COOKIE).iter().any(|v| v.as_bytes().starts_with(prefix.as_bytes()));
    if !already {
        append(response, cookie);
    }
}

pub(crate) fn append(response: &mut Response, cookie: Cookie<'static>) {
    // Registry cookies hold base64url values and fixed attributes: always valid header text.
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
