//! With `--demo`, a small "customer website" on a second port: another
//! origin (`http://localhost:PORT` beside Tessera's `127.0.0.1`), its pages
//! carrying the one-line tag, so the Messenger can be seen as a customer's
//! visitors see it. The site is added to the default site's embedding origins.

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use tessera_core::{Origin, SiteId};
use tokio::net::TcpListener;

#[derive(Clone)]
struct Shop {
    tessera: String,
    site: SiteId,
}

const PAGES: [(&str, &str, &str); 3] = [
    ("/", "Home", "Welcome to Tessera Tea Co. Fine teas, shipped fast."),
    ("/pricing", "Pricing", "Green, black and oolong from 6 € per 100 g."),
    ("/contact", "Contact", "Questions? Open the chat in the corner: an agent will answer."),
];

/// Binds the demo shop next to Tessera. It answers as two websites of one
/// customer: the shop (`http://localhost:PORT`) and its outlet
/// (`http://outlet.localhost:PORT`, another origin on the same loopback
/// port, for cross-domain monitoring). Returns both origins and the server.
pub(crate) async fn start(
    tessera_origin: &str,
    site: SiteId,
) -> Result<(Origin, Origin, impl std::future::Future<Output = std::io::Result<()>> + use<>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the demo shop")?;
    let port = listener.local_addr()?.port();
    let origin = Origin::parse(&format!("http://localhost:{port}")).context("demo shop origin")?;
    let outlet = Origin::parse(&format!("http://outlet.localhost:{port}")).context("demo outlet origin")?;
    let shop = Shop { tessera: tessera_origin.to_owned(), site };
    let mut app = Router::new();
    for (path, _, _) in PAGES {
        app = app.route(path, get(page));
    }
    let app = app.route("/consent.js", get(consent_js)).with_state(shop);
    Ok((origin, outlet, async move { axum::serve(listener, app).await }))
}

async fn page(State(shop): State<Shop>, uri: axum::http::Uri) -> Html<String> {
    let (_, title, text) = PAGES.iter().find(|(p, _, _)| *p == uri.path()).copied().unwrap_or(PAGES[0]);
    let nav: String = PAGES.iter().map(|(p, t, _)| format!("<a href=\"{p}\">{t}</a> ")).collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Tessera Tea Co.</title>\
         </head><body><header><strong>Tessera Tea Co.</strong> <nav>{nav}</nav></header>\
         <main><h1>{title}</h1><p>{text}</p>\
         <p><button id=\"consent-yes\">Allow optional cookies</button> \
         <button id=\"consent-no\">Refuse optional cookies</button></p></main>\
         <script src=\"/consent.js\"></script>\
         <script async src=\"{tessera}/tag.js\" data-site=\"{site}\"></script></body></html>",
        tessera = shop.tessera,
        site = shop.site,
    ))
}

/// The shop's own consent banner, talking to the tag's documented API.
async fn consent_js() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        // Like real consent banners, it restates the visitor's choice on every
        // page, before the tag runs (this script comes first).
        "window.tessera = window.tessera || [];\n\
         const said = localStorage.getItem(\"shop_consent\");\n\
         if (said !== null) window.tessera.push([\"consent\", said === \"yes\"]);\n\
         for (const [id, ok] of [[\"consent-yes\", true], [\"consent-no\", false]]) {\n\
         \x20 document.getElementById(id).addEventListener(\"click\", () => {\n\
         \x20   localStorage.setItem(\"shop_consent\", ok ? \"yes\" : \"no\");\n\
         \x20   window.tessera.push([\"consent\", ok]);\n\
         \x20 });\n\
         }\n",
    )
}
