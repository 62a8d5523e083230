//! Static assets, served under content-hashed names so they can be cached forever.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use sha2::{Digest, Sha256};

use crate::{AppState, WebError};

const CSS: &str = include_str!("../assets/tessera.css");

#[derive(Debug)]
pub(crate) struct Assets {
    /// `tessera.<hash>.css`
    pub css_name: String,
}

impl Assets {
    pub fn build() -> Self {
        let digest = Sha256::digest(CSS.as_bytes());
        Self { css_name: format!("tessera.{}.css", hex::encode(&digest[..6])) }
    }
    pub fn css_url(&self) -> String {
        format!("/assets/{}", self.css_name)
    }
}

pub(crate) async fn serve(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, WebError> {
    if file != state.assets().css_name {
        return Err(WebError::NotFound);
    }
    let mut res = CSS.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(res)
}
