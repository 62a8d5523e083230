//! Facts about the client taken from the request.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::request::Parts;
use http::{HeaderMap, header};
use tessera_session::ClientInfo;

/// The peer address and User-Agent of a request (no proxy headers are trusted).
pub(crate) fn client_info(extensions: &http::Extensions, headers: &HeaderMap) -> ClientInfo {
    let ip = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
    let user_agent =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| ua.chars().take(256).collect());
    ClientInfo { ip, user_agent }
}

/// Extractor: the request's [`ClientInfo`].
#[derive(Debug)]
pub(crate) struct Client(pub ClientInfo);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_info(&parts.extensions, &parts.headers)))
    }
}

/// "Firefox on Linux": a short label for a User-Agent, for session lists.
pub(crate) fn device_label(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else { return "Unknown device".into() };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("Browser", |(_, name)| name);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_labels_name_browser_and_system() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(device_label(Some(chrome)), "Chrome on Linux");
        assert_eq!(device_label(Some("curl/8.0")), "curl");
        assert_eq!(device_label(None), "Unknown device");
    }
}
