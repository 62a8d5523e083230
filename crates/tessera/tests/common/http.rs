//! HTTP like a browser, without one: a cookie jar kept by hand (the
//! `__Host-` cookies are `Secure`, and HTTP clients disagree about
//! loopback) and no automatic redirects.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::PASSWORD;

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Answer {
    /// The value this answer sets cookie `name` to, if it sets it.
    pub fn sets(&self, name: &str) -> Option<String> {
        set_cookie_value(&self.set_cookies, name)
    }

    /// Whether this answer deletes cookie `name` (`Max-Age=0`).
    pub fn clears(&self, name: &str) -> bool {
        self.set_cookies.iter().any(|c| c.starts_with(&format!("{name}=")) && c.contains("Max-Age=0"))
    }
}

/// Sends `req` and reads the whole response.
pub async fn answer(req: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let res = req.send().await?;
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let set_cookies =
        res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
    let body = res.text().await?;
    Ok(Answer { status, location, set_cookies, body })
}

/// The value that one of the `Set-Cookie` headers `set_cookies` gives cookie `name`.
pub fn set_cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let (pair, _) = c.split_once(';').unwrap_or((c, ""));
        pair.strip_prefix(name)?.strip_prefix('=').map(str::to_owned)
    })
}

/// Takes `Set-Cookie` headers into a jar: a cookie with `Max-Age=0` leaves it.
pub fn absorb(jar: &mut BTreeMap<String, String>, set_cookies: &[String]) {
    for text in set_cookies {
        let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
        let (name, value) = pair.split_once('=').unwrap_or_else(|| panic!("a Set-Cookie without name=value: {text}"));
        if attributes.contains("Max-Age=0") {
            jar.remove(name);
        } else {
            jar.insert(name.to_owned(), value.to_owned());
        }
    }
}

/// The `Cookie` header a browser with this jar sends.
pub fn cookie_header(jar: &BTreeMap<String, String>) -> String {
    jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// The value of a page's CSRF form field.
pub fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"_csrf\" value=\"").unwrap_or_else(|| panic!("no CSRF field in {page}")) + 20;
    page[start..].split('"').next().expect("closing quote").to_owned()
}

/// A cookie jar and an HTTP client that does not follow redirects.
#[derive(Debug, Clone)]
pub struct Browser {
    pub http: reqwest::Client,
    pub jar: BTreeMap<String, String>,
    /// Every `Set-Cookie` header it was given, in order.
    pub set_cookies: Vec<String>,
}

impl Browser {
    pub fn new() -> Self {
        Self::from_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// A browser whose connections come from `local` (127.0.0.2 is another
    /// client than a proxy's 127.0.0.1).
    pub fn from_address(local: IpAddr) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .local_address(local)
            .build()
            .expect("HTTP client");
        Self { http, jar: BTreeMap::new(), set_cookies: Vec::new() }
    }

    /// Sends `req` with the jar's cookies and takes the answer's into the jar.
    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let req = if self.jar.is_empty() { req } else { req.header("cookie", cookie_header(&self.jar)) };
        let answer = answer(req).await.unwrap_or_else(|e| panic!("request failed: {e}"));
        absorb(&mut self.jar, &answer.set_cookies);
        self.set_cookies.extend(answer.set_cookies.iter().cloned());
        answer
    }

    pub async fn get(&mut self, url: &str) -> Answer {
        let req = self.http.get(url);
        self.send(req).await
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Answer {
        let req = self.http.post(url).form(form);
        self.send(req).await
    }

    /// Logs `email` in with [`PASSWORD`] at `{base}{interface}/login`, where
    /// `interface` is `""` (the portal), `"/agent"` (which also asks for the
    /// site: 1001) or `"/admin"`, ticking "Remember me" if `remember`, and
    /// sending `extra_headers` with the form.
    pub async fn login(
        &mut self,
        base: &str,
        interface: &str,
        email: &str,
        remember: bool,
        extra_headers: &[(&str, &str)],
    ) {
        let page = self.get(&format!("{base}{interface}/login")).await;
        assert_eq!(page.status, 200, "GET {base}{interface}/login: {}", page.body);
        let csrf = csrf_of(&page.body);
        let mut form = vec![("_csrf", csrf.as_str()), ("email", email), ("password", PASSWORD)];
        if interface == "/agent" {
            form.push(("site_id", "1001"));
        }
        if remember {
            form.push(("remember", "on"));
        }
        let mut req = self.http.post(format!("{base}{interface}/login")).form(&form);
        for (name, value) in extra_headers {
            req = req.header(*name, *value);
        }
        let res = self.send(req).await;
        assert_eq!(res.status, 303, "{email} logs in at {base}{interface}/login: {}", res.body);
        assert_eq!(res.location.as_deref(), Some(format!("{interface}/account").as_str()));
    }
}
