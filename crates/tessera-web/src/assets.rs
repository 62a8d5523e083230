//! Static assets, served under content-hashed names so they can be cached forever.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use sha2::{Digest, Sha256};

use crate::WebError;

const CSS: &str = include_str!("../assets/tessera.css");

/// The stylesheet's URL, `/assets/tessera.<hash>.css`. The content is compiled
/// in, so the hash is computed once per process.
static CSS_URL: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(CSS.as_bytes());
    format!("/assets/tessera.{}.css", hex::encode(&digest[..6]))
});

pub(crate) fn css_url() -> &'static str {
    &CSS_URL
}

pub(crate) async fn serve(Path(file): Path<String>) -> Result<Response, WebError> {
    if css_url().strip_prefix("/assets/") != Some(file.as_str()) {
        return Err(WebError::NotFound);
    }
    let mut res = CSS.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(res)
}
