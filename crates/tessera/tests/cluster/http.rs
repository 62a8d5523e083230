//! HTTP in the cluster, on top of `common::http`'s cookie-jar browser: the
//! node cookie's checks, a copied cookie sent to another node, the sessions
//! pages, and the Messenger's session.

use serde_json::{Value, json};

use crate::common::http::{Answer, Browser, answer};
use crate::harness::{NODE_COOKIE, NODE_IDS};

/// What is wrong with a `Set-Cookie: __Host-ts_node=...`, if anything: it must
/// be an essential session cookie, `Path=/; Secure; HttpOnly; SameSite=None;
/// Partitioned`, naming one of the nodes.
fn node_cookie_problem(header: &str) -> Option<String> {
    let mut parts = header.split(';').map(str::trim);
    let value = parts.next()?.strip_prefix(NODE_COOKIE)?.strip_prefix('=')?;
    let mut attributes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    attributes.sort();
    let want = ["httponly", "partitioned", "path=/", "samesite=none", "secure"];
    if attributes != want {
        return Some(format!("{header}: want exactly Path=/; Secure; HttpOnly; SameSite=None; Partitioned"));
    }
    (!NODE_IDS.contains(&value)).then(|| format!("{header}: names no node of the cluster"))
}

/// What was wrong with the node cookies among `set_cookies` (asserted at the
/// end of a test, so that they do not hide what else fails).
pub fn node_cookie_problems(set_cookies: &[String]) -> Vec<String> {
    set_cookies
        .iter()
        .filter(|c| c.split_once('=').is_some_and(|(name, _)| name == NODE_COOKIE))
        .filter_map(|c| node_cookie_problem(c))
        .collect()
}

/// GET with exactly this `Cookie` header (no jar): a copied cookie on another node.
pub async fn get_with_cookies(http: &reqwest::Client, url: &str, cookies: &str) -> Answer {
    let mut req = http.get(url);
    if !cookies.is_empty() {
        req = req.header("cookie", cookies);
    }
    answer(req).await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The ID the sessions pages give a session: hex SHA-256 of the cookie's 32 bytes.
pub fn session_id(cookie: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cookie).expect("a base64url session cookie");
    sha2::Sha256::digest(raw).iter().map(|b| format!("{b:02x}")).collect()
}

/// The table row of a sessions page that revokes session `id`.
pub fn session_row<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("value=\"{id}\"")).unwrap_or_else(|| panic!("no session {id} on the page:\n{page}"));
    let start = page[..at].rfind("<tr>").expect("the row's start");
    &page[start..at]
}

/// Starts a Messenger session (what the frame POSTs) and returns its JSON.
pub async fn messenger_session(browser: &mut Browser, base: &str, public: &str) -> Value {
    let req = browser
        .http
        .post(format!("{base}/messenger/session"))
        .header("origin", public)
        .header("content-type", "application/json")
        .body(json!({"site": 1001, "consent": true}).to_string());
    let res = browser.send(req).await;
    assert_eq!(res.status, 200, "POST {base}/messenger/session: {}", res.body);
    serde_json::from_str(&res.body).expect("JSON")
}
