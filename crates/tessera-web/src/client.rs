//! Facts about the client taken from the request.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;
use http::{HeaderMap, header};
use tessera_session::ClientInfo;

/// The client's IP address and User-Agent. The IP is the socket's peer,
/// unless that peer is a trusted proxy: then it is the right-most address in
/// `X-Forwarded-For` that is not itself a trusted proxy (everything left of
/// it could have been written by the client).
pub(crate) fn client_info(extensions: &http::Extensions, headers: &HeaderMap, trusted: &[IpAddr]) -> ClientInfo {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let ip = peer.map(|peer| forwarded_client(peer, headers, trusted).to_string());
    let user_agent =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| ua.chars().take(256).collect());
    ClientInfo { ip, user_agent }
}

/// The client's IP address alone (see [`client_info`]).
pub(crate) fn client_ip(extensions: &http::Extensions, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip())?;
    Some(forwarded_client(peer, headers, trusted))
}

fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Garbage where an address should be: stop believing the header.
            Err(_) => break,
        }
    }
    peer
}

/// Extractor: the request's [`ClientInfo`].
#[derive(Debug)]
pub(crate) struct Client(pub ClientInfo);

impl axum::extract::FromRequestParts<crate::AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &crate::AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(client_info(&parts.extensions, &parts.headers, &state.config().trusted_proxies)))
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

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", http::HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an IP")
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let h = xff(&["203.0.113.9"]);
        assert_eq!(forwarded_client(ip("198.51.100.7"), &h, &[]), ip("198.51.100.7"));
        assert_eq!(forwarded_client(ip("198.51.100.7"), &h, &[ip("10.0.0.1")]), ip("198.51.100.7"));
        assert_eq!(forwarded_client(ip("10.0.0.1"), &h, &[ip("10.0.0.1")]), ip("203.0.113.9"));
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop_so_spoofed_entries_are_ignored() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // The client wrote "1.2.3.4"; its real address was appended by the proxies.
        let h = xff(&["1.2.3.4, 203.0.113.9", "10.0.0.2"]);
        assert_eq!(forwarded_client(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        let garbage = xff(&["1.2.3.4, not-an-ip"]);
        assert_eq!(forwarded_client(ip("10.0.0.1"), &garbage, &trusted), ip("10.0.0.1"));
        assert_eq!(forwarded_client(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn device_labels_name_browser_and_system() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(device_label(Some(chrome)), "Chrome on Linux");
        assert_eq!(device_label(Some("curl/8.0")), "curl");
        assert_eq!(device_label(None), "Unknown device");
    }
}
