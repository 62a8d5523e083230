//! The Help Center: home, categories, articles, search, votes, comments.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use tessera_core::{ArticleId, CategoryId, Language};
use tessera_i18n::Arg;
use tessera_kb::{CategoryTree, choose, name_in};
use tessera_store::{Article, Category, CommentStatus, SearchHit};

use super::guest::Guest;
use super::{Layout, format_time, render};
use crate::client::Client;
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::MaybeAuthed;
use crate::{AppState, Portal, WebError};

/// A line in an article body that the page replaces with the live cookie
/// table, so an article about cookies can never disagree with the registry.
pub(crate) const COOKIE_TABLE_MARKER: &str = "<p>[[cookie-table]]</p>";

#[derive(Debug)]
pub(crate) struct Link {
    pub href: String,
    pub text: String,
}

#[derive(Debug)]
pub(crate) struct CategoryCard {
    pub href: String,
    pub name: String,
    pub description: String,
    pub count: String,
    pub articles: Vec<Link>,
}

fn category_name(c: &Category, ctx: &Ctx) -> (String, String) {
    name_in(c, &ctx.lang, &ctx.site.settings.default_language)
        .map(|n| (n.name.clone(), n.description.clone()))
        .unwrap_or_default()
}

fn article_title(a: &Article, ctx: &Ctx) -> String {
    choose(a, &ctx.lang, &ctx.site.settings.default_language).map(|c| c.translation.title.clone()).unwrap_or_default()
}

fn article_link(a: &Article, ctx: &Ctx) -> Link {
    Link { href: format!("/kb/a/{}", a.id), text: article_title(a, ctx) }
}

fn cards(tree: &CategoryTree, parent: Option<CategoryId>, articles: &[Article], ctx: &Ctx) -> Vec<CategoryCard> {
    tree.children(parent)
        .map(|c| {
            let ids = tree.subtree(c.id);
            let inside: Vec<&Article> = articles.iter().filter(|a| ids.contains(&a.category_id)).collect();
            let (name, description) = category_name(c, ctx);
            CategoryCard {
                href: format!("/kb/c/{}", c.id),
                name,
                description,
                count: ctx.tr.with("kb-article-count", &[("count", Arg::Num(inside.len() as i64))]),
                articles: inside.iter().take(5).map(|a| article_link(a, ctx)).collect(),
            }
        })
        .collect()
}

fn crumbs(tree: &CategoryTree, id: CategoryId, ctx: &Ctx) -> Vec<Link> {
    let mut out = vec![Link { href: "/".into(), text: ctx.tr.get("nav-knowledge-base") }];
    out.extend(
        tree.trail(id).into_iter().map(|c| Link { href: format!("/kb/c/{}", c.id), text: category_name(c, ctx).0 }),
    );
    out
}

#[derive(Template)]
#[template(path = "hc_home.html")]
struct HomePage {
    layout: Layout,
    cards: Vec<CategoryCard>,
    query: String,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let mut guest = Guest::resolve(&state, &ctx, &headers).await?;
    let tree = state.kb().tree(ctx.site.id).await?;
    let articles = state.kb().articles(ctx.site.id, true).await?;
    let title = ctx.tr.get("nav-help-center");
    guest.track(&state, &ctx, live.as_deref(), &title, None).await?;
    let mut layout = Layout::new::<Portal>(&state, &ctx, &title, live.as_deref(), csrf);
    layout.consent_banner = guest.consent.ask;
    let mut res = render(&HomePage { layout, cards: cards(&tree, None, &articles, &ctx), query: String::new() })?;
    guest.apply(&mut res);
    Ok(res)
}

#[derive(Template)]
#[template(path = "hc_category.html")]
struct CategoryPage {
    layout: Layout,
    crumbs: Vec<Link>,
    name: String,
    description: String,
    subcategories: Vec<CategoryCard>,
    articles: Vec<Link>,
}

pub(crate) async fn category(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let id: CategoryId = id.parse().map_err(|_| WebError::NotFound)?;
    let tree = state.kb().tree(ctx.site.id).await?;
    let category = tree.get(id).ok_or(WebError::NotFound)?;
    let mut guest = Guest::resolve(&state, &ctx, &headers).await?;
    let all = state.kb().articles(ctx.site.id, true).await?;
    let (name, description) = category_name(category, &ctx);
    guest.track(&state, &ctx, live.as_deref(), &name, None).await?;
    let mut layout = Layout::new::<Portal>(&state, &ctx, &name, live.as_deref(), csrf);
    layout.consent_banner = guest.consent.ask;
    let page = CategoryPage {
        layout,
        crumbs: crumbs(&tree, id, &ctx),
        subcategories: cards(&tree, Some(id), &all, &ctx),
        articles: all.iter().filter(|a| a.category_id == id).map(|a| article_link(a, &ctx)).collect(),
        name,
        description,
    };
    let mut res = render(&page)?;
    guest.apply(&mut res);
    Ok(res)
}

#[derive(Debug)]
pub(crate) struct CommentView {
    pub author: String,
    pub body: String,
    pub pending: bool,
}

#[derive(Template)]
#[template(path = "hc_article.html")]
struct ArticlePage {
    layout: Layout,
    id: ArticleId,
    crumbs: Vec<Link>,
    title: String,
    body_html: String,
    fallback_notice: Option<String>,
    byline: String,
    my_vote: Option<bool>,
    totals: String,
    comments_heading: String,
    comments: Vec<CommentView>,
    comment_name: String,
    posted: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ArticleQuery {
    posted: Option<String>,
}

pub(crate) async fn article(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<ArticleQuery>,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let id: ArticleId = id.parse().map_err(|_| WebError::NotFound)?;
    let kb = state.kb();
    let article = kb.published(ctx.site.id, id).await?;
    let default = &ctx.site.settings.default_language;
    let chosen = choose(&article, &ctx.lang, default).ok_or(WebError::NotFound)?;
    let mut guest = Guest::resolve(&state, &ctx, &headers).await?;
    kb.count_view(id).await?;
    guest.track(&state, &ctx, live.as_deref(), &chosen.translation.title, Some(id)).await?;
    let actor = guest.actor(live.as_deref());
    let tree = kb.tree(ctx.site.id).await?;
    let totals = kb.vote_totals(id).await?;
    let comments = kb.comments(id, actor).await?;
    // The heading counts what this reader sees: public comments and their own pending ones.
    let visible = comments.len();
    let t = &ctx.tr;
    let language_name = |l: &Language| tessera_i18n::Catalog::embedded().tr(l).native_name();
    let fallback_notice = chosen.fallback.then(|| {
        t.with(
            "kb-fallback-notice",
            &[
                ("language", Arg::Str(&language_name(&ctx.lang))),
                ("fallback", Arg::Str(&language_name(&chosen.translation.language))),
            ],
        )
    });
    let updated = (chosen.translation.updated_at > article.published_at.unwrap_or(article.created_at))
        .then(|| t.with("kb-updated", &[("date", Arg::Str(&format_time(chosen.translation.updated_at)))]));
    let byline = [
        Some(t.with("kb-written-by", &[("author", Arg::Str(&article.author_name))])),
        Some(t.with(
            "kb-published",
            &[("date", Arg::Str(&format_time(article.published_at.unwrap_or(article.created_at))))],
        )),
        updated,
        Some(t.with("kb-views", &[("count", Arg::Num(article.views as i64 + 1))])),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let cookie_table = state.registry().to_html_table_in(&super::cookies::TrLabels(ctx.tr));
    let page = ArticlePage {
        id,
        crumbs: crumbs(&tree, article.category_id, &ctx),
        title: chosen.translation.title.clone(),
        body_html: chosen.translation.body_html.replace(COOKIE_TABLE_MARKER, &cookie_table),
        fallback_notice,
        byline,
        my_vote: kb.vote_of(id, actor).await?,
        totals: t.with(
            "vote-totals",
            &[("up", Arg::Num(totals.helpful as i64)), ("down", Arg::Num(totals.not_helpful as i64))],
        ),
        comments_heading: t.with("comments-heading", &[("count", Arg::Num(visible as i64))]),
        comments: comments
            .into_iter()
            .map(|c| CommentView {
                author: t.with(
                    "comment-by",
                    &[("author", Arg::Str(&c.author_name)), ("date", Arg::Str(&format_time(c.created_at)))],
                ),
                pending: c.status == CommentStatus::Pending,
                body: c.body,
            })
            .collect(),
        comment_name: live.as_ref().map(|l| l.person.name.to_string()).unwrap_or_default(),
        posted: query.posted.is_some(),
        layout: {
            let mut layout = Layout::new::<Portal>(&state, &ctx, &chosen.translation.title, live.as_deref(), csrf);
            layout.consent_banner = guest.consent.ask;
            layout
        },
    };
    let mut res = render(&page)?;
    guest.apply(&mut res);
    Ok(res)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct VoteForm {
    helpful: String,
}

pub(crate) async fn vote(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    MaybeAuthed(live): MaybeAuthed,
    Form(form): Form<VoteForm>,
) -> Result<Response, WebError> {
    let id: ArticleId = id.parse().map_err(|_| WebError::NotFound)?;
    let helpful = match form.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(WebError::BadRequest("Choose yes or no.".into())),
    };
    let mut guest = Guest::resolve(&state, &ctx, &headers).await?;
    if live.is_none() {
        guest.ensure_visitor(&state, &ctx).await?;
    }
    state.kb().vote(ctx.site.id, id, guest.actor(live.as_deref()), helpful).await?;
    let mut res = Redirect::to(&format!("/kb/a/{id}#vote")).into_response();
    guest.apply(&mut res);
    Ok(res)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct CommentForm {
    name: String,
    body: String,
}

/// Comments one address may post per hour: generous for people, a wall for
/// scripts filling the moderation queue.
const COMMENTS_PER_HOUR: u32 = 20;

pub(crate) async fn comment(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Client(client): Client,
    Path(id): Path<String>,
    MaybeAuthed(live): MaybeAuthed,
    Form(form): Form<CommentForm>,
) -> Result<Response, WebError> {
    let id: ArticleId = id.parse().map_err(|_| WebError::NotFound)?;
    if !state.core().within_rate("comment", &client, COMMENTS_PER_HOUR, 3_600).await? {
        return Err(WebError::TooMany(ctx.tr.get("comment-too-many")));
    }
    let mut guest = Guest::resolve(&state, &ctx, &headers).await?;
    if live.is_none() {
        guest.ensure_visitor(&state, &ctx).await?;
    }
    let name = match &live {
        Some(l) => l.person.name.to_string(),
        None if form.name.trim().is_empty() => ctx.tr.get("comment-guest"),
        None => form.name,
    };
    state.kb().comment(ctx.site.id, id, guest.actor(live.as_deref()), &name, &form.body).await?;
    let mut res = Redirect::to(&format!("/kb/a/{id}?posted=1#comments")).into_response();
    guest.apply(&mut res);
    Ok(res)
}

#[derive(Template)]
#[template(path = "hc_search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    summary: String,
    hits: Vec<SearchItem>,
}

#[derive(Debug)]
pub(crate) struct SearchItem {
    href: String,
    title: String,
    /// Escaped text with `<mark>` around the matches.
    snippet_html: String,
}

/// Escapes the snippet, then turns the store's match markers into `<mark>`.
fn snippet_html(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 16);
    for c in snippet.chars() {
        match c {
            SearchHit::MARK_START => out.push_str("<mark>"),
            SearchHit::MARK_END => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    MaybeAuthed(live): MaybeAuthed,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let query = params.get("q").map(|q| q.chars().take(200).collect::<String>()).unwrap_or_default();
    let hits = state.kb().search(ctx.site.id, &ctx.lang, &query).await?;
    let t = &ctx.tr;
    let summary = if hits.is_empty() {
        t.with("search-none", &[("query", Arg::Str(&query))])
    } else {
        t.with("search-results", &[("count", Arg::Num(hits.len() as i64)), ("query", Arg::Str(&query))])
    };
    let mut guest = Guest::resolve(&state, &ctx, &headers).await?;
    guest.track(&state, &ctx, live.as_deref(), &t.get("nav-search"), None).await?;
    let mut layout = Layout::new::<Portal>(&state, &ctx, &t.get("nav-search"), live.as_deref(), csrf);
    layout.consent_banner = guest.consent.ask;
    let hits = hits.into_iter().map(|h| SearchItem {
        href: format!("/kb/a/{}", h.article_id),
        snippet_html: snippet_html(&h.snippet),
        title: h.title,
    });
    let page = SearchPage { layout, summary, hits: hits.collect(), query };
    let mut res = render(&page)?;
    guest.apply(&mut res);
    Ok(res)
}

super::pages!(HomePage, CategoryPage, ArticlePage, SearchPage);
