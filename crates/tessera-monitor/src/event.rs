//! What a page-view report may contain. The tag is code on someone else's
//! page: anything can arrive, so every field is bounded and checked.

use tessera_core::Origin;

pub const MAX_URL: usize = 2048;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_TAB: usize = 64;
/// Events in one request (a beacon flushes a few SPA navigations at most).
pub const MAX_BATCH: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the page address must be an http(s) address of at most {MAX_URL} characters")]
    Url,
    #[error("the page is not on a website allowed to embed this site's tag")]
    Foreign,
    #[error("the referrer must be empty or an http(s) address of at most {MAX_URL} characters")]
    Referrer,
    #[error("the tab ID must be 1 to {MAX_TAB} letters, digits or dashes")]
    Tab,
    #[error("a request carries 1 to {MAX_BATCH} events")]
    Batch,
}

fn http_url(text: &str) -> bool {
    text.len() <= MAX_URL
        && (text.starts_with("https://") || text.starts_with("http://"))
        && !text.chars().any(char::is_control)
}

/// The page address, if it is an http(s) URL on one of the site's embedding origins.
pub fn page_url(text: &str, allowed: &[Origin]) -> Result<String, EventError> {
    let text = text.trim();
    if !http_url(text) {
        return Err(EventError::Url);
    }
    let on_allowed = allowed.iter().any(|o| {
        text.strip_prefix(o.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
    });
    if on_allowed { Ok(text.to_owned()) } else { Err(EventError::Foreign) }
}

pub fn referrer(text: &str) -> Result<String, EventError> {
    let text = text.trim();
    if text.is_empty() || http_url(text) { Ok(text.to_owned()) } else { Err(EventError::Referrer) }
}

/// Titles are shown, never trusted: control characters go, length is capped.
pub fn title(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(MAX_TITLE_CHARS).collect::<String>().trim().to_owned()
}

pub fn tab(text: &str) -> Result<String, EventError> {
    let ok = !text.is_empty()
        && text.len() <= MAX_TAB
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(text.to_owned()) } else { Err(EventError::Tab) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Vec<Origin> {
        vec![Origin::parse("https://shop.example").expect("origin"), Origin::parse("http://localhost:3000").expect("o")]
    }

    #[test]
    fn page_urls_must_be_http_on_an_allowed_origin() {
        let ok = |u: &str| page_url(u, &origins());
        assert_eq!(ok("https://shop.example/cart?x=1"), Ok("https://shop.example/cart?x=1".into()));
        assert!(ok("https://shop.example").is_ok());
        assert!(ok("http://localhost:3000/#top").is_ok());
        assert_eq!(ok("https://shop.example.evil.test/"), Err(EventError::Foreign));
        assert_eq!(ok("https://shop.examplex/"), Err(EventError::Foreign));
        assert_eq!(ok("http://localhost:30001/"), Err(EventError::Foreign));
        assert_eq!(ok("javascript:alert(1)"), Err(EventError::Url));
        assert_eq!(ok("https://shop.example/\u{0}"), Err(EventError::Url));
        assert_eq!(ok(&format!("https://shop.example/{}", "a".repeat(MAX_URL))), Err(EventError::Url));
    }

    #[test]
    fn titles_tabs_and_referrers_are_bounded() {
        assert_eq!(title(" Cart\u{7}\n "), "Cart");
        assert_eq!(title(&"é".repeat(1000)).chars().count(), MAX_TITLE_CHARS);
        assert!(tab("3-41-9").is_ok());
        assert_eq!(tab(""), Err(EventError::Tab));
        assert_eq!(tab("<script>"), Err(EventError::Tab));
        assert_eq!(referrer(""), Ok(String::new()));
        assert_eq!(referrer("data:text/html,x"), Err(EventError::Referrer));
    }
}
