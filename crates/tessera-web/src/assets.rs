//! Static assets, served under content-hashed names so they can be cached
//! forever: a new release is a new URL. Only the tag's loader (`/tag.js`)
//! has a fixed name, because customers paste it into their pages.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use sha2::{Digest, Sha256};

use crate::WebError;

/// The tag as served: the monitoring script's current address filled in,
/// and every line's indentation and every comment-only line dropped (the
/// loader's 2 KB gzipped budget; the source stays readable). The tag has no
/// string or template literal spanning lines, so this changes nothing else.
pub(crate) static TAG_JS: LazyLock<String> = LazyLock::new(|| {
    let source = include_str!("../assets/js/tag.js").replace("__MONITOR_JS__", monitor_js_url());
    source.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")).collect::<Vec<_>>().join("\n")
});

/// One hashed asset: `/assets/{stem}.{hash}.{ext}`.
struct Asset {
    url: String,
    hash: String,
    body: &'static str,
    content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static str) -> Asset {
    let hash = hex::encode(&Sha256::digest(body.as_bytes())[..6]);
    let content_type = if ext == "js" { "text/javascript; charset=utf-8" } else { "text/css; charset=utf-8" };
    Asset { url: format!("/assets/{stem}.{hash}.{ext}"), hash, body, content_type }
}

/// The content is compiled in, so hashes are computed once per process.
static ASSETS: LazyLock<[Asset; 7]> = LazyLock::new(|| {
    [
        asset("tessera", "css", include_str!("../assets/tessera.css")),
        asset("messenger", "js", include_str!("../assets/js/messenger.js")),
        asset("messenger", "css", include_str!("../assets/js/messenger.css")),
        asset("console", "js", include_str!("../assets/js/console.js")),
        asset("console", "css", include_str!("../assets/js/console.css")),
        asset("monitor", "js", include_str!("../assets/js/monitor.js")),
        asset("live", "js", include_str!("../assets/js/live.js")),
    ]
});

pub(crate) fn css_url() -> &'static str {
    &ASSETS[0].url
}
pub(crate) fn messenger_js_url() -> &'static str {
    &ASSETS[1].url
}
pub(crate) fn messenger_css_url() -> &'static str {
    &ASSETS[2].url
}
pub(crate) fn console_js_url() -> &'static str {
    &ASSETS[3].url
}
pub(crate) fn console_css_url() -> &'static str {
    &ASSETS[4].url
}

/// The Messenger's release: part of the frame URL the loader caches.
pub(crate) fn monitor_js_url() -> &'static str {
    &ASSETS[5].url
}

pub(crate) fn live_js_url() -> &'static str {
    &ASSETS[6].url
}

pub(crate) fn messenger_version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut h = Sha256::new();
        h.update(ASSETS[1].hash.as_bytes());
        h.update(ASSETS[2].hash.as_bytes());
        hex::encode(&h.finalize()[..6])
    });
    &VERSION
}

pub(crate) async fn serve(Path(file): Path<String>) -> Result<Response, WebError> {
    let asset =
        ASSETS.iter().find(|a| a.url.strip_prefix("/assets/") == Some(file.as_str())).ok_or(WebError::NotFound)?;
    let mut res = asset.body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `gzip -9` size of `bytes` (Debian always has gzip; the budget is stated for it).
    fn gzipped(bytes: &[u8]) -> usize {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut gzip = Command::new("gzip")
            .args(["-9", "-c"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("gzip is installed");
        gzip.stdin.take().expect("stdin").write_all(bytes).expect("write to gzip");
        gzip.wait_with_output().expect("gzip output").stdout.len()
    }

    #[test]
    fn the_loader_stays_within_its_2_kb_gzipped_budget_and_loads_the_monitor() {
        let size = gzipped(TAG_JS.as_bytes());
        assert!(size <= 2048, "tag.js is {size} bytes gzipped, over the 2,048-byte budget");
        assert!(TAG_JS.contains(monitor_js_url()), "the monitoring script's current address is filled in");
        assert!(!TAG_JS.contains("__MONITOR_JS__"));
    }

    #[test]
    fn the_messenger_stays_within_its_30_kb_gzipped_budget() {
        let both = [ASSETS[1].body.as_bytes(), ASSETS[2].body.as_bytes()].concat();
        let size = gzipped(&both);
        assert!(size <= 30 * 1024, "messenger js + css are {size} bytes gzipped");
    }
}
