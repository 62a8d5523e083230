//! The agent interface: articles (editor with translations side by side,
//! preview, publish), the comment moderation queue, and visitor profiles.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::{ArticleId, CategoryId, CommentId, Language, VisitorId};
use tessera_kb::{choose, markdown, name_in};
use tessera_store::{ActivityKind, Article, ArticleStatus, CategoryName, Site};

use super::account::Done;
use super::{Layout, format_time, render};
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::Authed;
use crate::{Agent, AppState, WebError};

async fn agent_site(state: &AppState, site: tessera_core::SiteId) -> Result<Arc<Site>, WebError> {
    state.sites().get(state, site).await?.ok_or(WebError::NotFound)
}

fn title_of(article: &Article, site: &Site) -> String {
    let default = &site.settings.default_language;
    choose(article, default, default).map(|c| c.translation.title.clone()).unwrap_or_else(|| "(untitled)".into())
}

#[derive(Template)]
#[template(path = "agent_home.html")]
struct HomePage {
    layout: Layout,
    site_name: String,
    pending: usize,
    drafts: usize,
    published: usize,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let site = agent_site(&state, live.person.site_id).await?;
    let articles = state.kb().articles(site.id, false).await?;
    let published = articles.iter().filter(|a| a.status == ArticleStatus::Published).count();
    let page = HomePage {
        layout: Layout::new::<Agent>(&state, &ctx, "Agent", Some(&live), csrf),
        site_name: site.settings.name.clone(),
        pending: state.kb().pending_comments(site.id).await?.len(),
        drafts: articles.len() - published,
        published,
    };
    render(&page)
}

#[derive(Debug)]
struct ArticleRow {
    id: ArticleId,
    title: String,
    status: &'static str,
    languages: String,
    updated: String,
}

#[derive(Clone, Debug)]
struct CategoryOption {
    id: CategoryId,
    name: String,
    selected: bool,
}

async fn category_options(
    state: &AppState,
    site: &Site,
    selected: Option<CategoryId>,
) -> Result<Vec<CategoryOption>, WebError> {
    let tree = state.kb().tree(site.id).await?;
    let default = &site.settings.default_language;
    Ok(tree
        .iter()
        .map(|c| {
            let path: Vec<String> = tree
                .trail(c.id)
                .iter()
                .map(|t| name_in(t, default, default).map(|n| n.name.clone()).unwrap_or_default())
                .collect();
            CategoryOption { id: c.id, name: path.join(" › "), selected: Some(c.id) == selected }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "agent_articles.html")]
struct ArticlesPage {
    layout: Layout,
    notice: Option<String>,
    rows: Vec<ArticleRow>,
    categories: Vec<CategoryOption>,
    default_language: String,
    /// (tag, native name) of the site's languages, for the category form.
    languages: Vec<(String, String)>,
}

pub(crate) async fn articles(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let site = agent_site(&state, live.person.site_id).await?;
    let rows = state
        .kb()
        .articles(site.id, false)
        .await?
        .iter()
        .map(|a| ArticleRow {
            id: a.id,
            title: title_of(a, &site),
            status: a.status.as_str(),
            languages: a.translations.iter().map(|t| t.language.as_str()).collect::<Vec<_>>().join(", "),
            updated: format_time(a.updated_at),
        })
        .collect();
    let page = ArticlesPage {
        layout: Layout::new::<Agent>(&state, &ctx, "Articles", Some(&live), csrf),
        notice: done.notice(&ctx.tr),
        rows,
        categories: category_options(&state, &site, None).await?,
        default_language: site.settings.default_language.to_string(),
        languages: site
            .settings
            .languages
            .iter()
            .map(|l| (l.to_string(), tessera_i18n::Catalog::embedded().tr(l).native_name()))
            .collect(),
    };
    render(&page)
}

/// The new-category form: a parent (or none) and a name per language,
/// `name.<lang>`; the default language's name is required, others optional.
#[derive(serde::Deserialize, Default, Debug)]
#[serde(default)]
pub(crate) struct NewCategoryForm {
    parent: String,
    #[serde(flatten)]
    names: std::collections::HashMap<String, String>,
}

pub(crate) async fn create_category(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Agent>,
    Form(form): Form<NewCategoryForm>,
) -> Result<Response, WebError> {
    let site = agent_site(&state, live.person.site_id).await?;
    let tree = state.kb().tree(site.id).await?;
    let parent = match form.parent.as_str() {
        "" => None,
        id => Some(id.parse::<CategoryId>().ok().filter(|c| tree.get(*c).is_some()).ok_or(WebError::NotFound)?),
    };
    let names: Vec<CategoryName> = site
        .settings
        .languages
        .iter()
        .filter_map(|lang| {
            let name = form.names.get(&format!("name.{lang}"))?.trim();
            (!name.is_empty()).then(|| CategoryName {
                language: lang.clone(),
                name: name.to_owned(),
                description: String::new(),
            })
        })
        .collect();
    if !names.iter().any(|n| n.language == site.settings.default_language) {
        let msg = format!("A category needs a name in {}.", site.settings.default_language);
        return Err(WebError::BadRequest(msg));
    }
    let position = i32::try_from(tree.children(parent).count()).unwrap_or(i32::MAX);
    state.kb().create_category(site.id, parent, position, &names).await?;
    Ok(Redirect::to("/agent/articles?done=created").into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewArticleForm {
    category: String,
    title: String,
}

pub(crate) async fn create_article(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Agent>,
    Form(form): Form<NewArticleForm>,
) -> Result<Response, WebError> {
    let site = agent_site(&state, live.person.site_id).await?;
    let category: CategoryId = form.category.parse().map_err(|_| WebError::BadRequest("Choose a category.".into()))?;
    if state.kb().tree(site.id).await?.get(category).is_none() {
        return Err(WebError::BadRequest("Choose a category.".into()));
    }
    let article = state.kb().create_article(site.id, category, live.person.id).await?;
    let lang = site.settings.default_language.clone();
    state.kb().save_translation(site.id, article.id, lang, &form.title, "").await?;
    Ok(Redirect::to(&format!("/agent/articles/{}", article.id)).into_response())
}

#[derive(Debug)]
struct EditorColumn {
    lang: String,
    language_name: String,
    title: String,
    body: String,
    preview_html: Option<String>,
    missing: bool,
}

#[derive(Template)]
#[template(path = "agent_editor.html")]
struct EditorPage {
    layout: Layout,
    id: ArticleId,
    notice: Option<String>,
    error: Option<String>,
    published: bool,
    categories: Vec<CategoryOption>,
    columns: Vec<EditorColumn>,
}

fn columns(article: &Article, site: &Site, edited: Option<&EditorForm>, preview: bool) -> Vec<EditorColumn> {
    let catalog = tessera_i18n::Catalog::embedded();
    site.settings
        .languages
        .iter()
        .map(|lang| {
            let saved = article.translation(lang);
            let (title, body) = match edited {
                Some(form) => (form.field("title", lang), form.field("body", lang)),
                None => saved.map(|t| (t.title.clone(), t.body_markdown.clone())).unwrap_or_default(),
            };
            EditorColumn {
                lang: lang.to_string(),
                language_name: catalog.tr(lang).native_name(),
                preview_html: (preview && !body.trim().is_empty()).then(|| markdown::render(&body)),
                missing: saved.is_none(),
                title,
                body,
            }
        })
        .collect()
}

pub(crate) async fn editor(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let id: ArticleId = id.parse().map_err(|_| WebError::NotFound)?;
    let site = agent_site(&state, live.person.site_id).await?;
    let article = state.kb().article(site.id, id).await?;
    let categories = category_options(&state, &site, Some(article.category_id)).await?;
    let columns = columns(&article, &site, None, false);
    let mut page = editor_page(&state, &ctx, &live, csrf, (&article, &site), categories, columns);
    page.notice = done.notice(&ctx.tr);
    render(&page)
}

/// The editor for `article`, with the given columns (saved or as typed).
fn editor_page(
    state: &AppState,
    ctx: &Ctx,
    live: &tessera_session::LiveSession,
    csrf: FormToken,
    (article, site): (&Article, &Site),
    categories: Vec<CategoryOption>,
    columns: Vec<EditorColumn>,
) -> EditorPage {
    EditorPage {
        layout: Layout::new::<Agent>(state, ctx, &title_of(article, site), Some(live), csrf),
        id: article.id,
        notice: None,
        error: None,
        published: article.status == ArticleStatus::Published,
        categories,
        columns,
    }
}

/// The editor's fields: `title.<lang>` and `body.<lang>` for each language,
/// the category, and which button was pressed.
#[derive(serde::Deserialize, Default, Debug)]
#[serde(default)]
pub(crate) struct EditorForm {
    action: String,
    category: String,
    #[serde(flatten)]
    fields: std::collections::HashMap<String, String>,
}

impl EditorForm {
    fn field(&self, name: &str, lang: &Language) -> String {
        self.fields.get(&format!("{name}.{lang}")).cloned().unwrap_or_default()
    }

    /// Whether the form carried this language's column at all.
    fn has(&self, lang: &Language) -> bool {
        self.fields.contains_key(&format!("title.{lang}"))
    }
}

pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
    Form(form): Form<EditorForm>,
) -> Result<Response, WebError> {
    let id: ArticleId = id.parse().map_err(|_| WebError::NotFound)?;
    let site = agent_site(&state, live.person.site_id).await?;
    let kb = state.kb();
    let article = kb.article(site.id, id).await?;
    let chosen = form.category.parse::<CategoryId>().ok().or(Some(article.category_id));
    let categories = category_options(&state, &site, chosen).await?;
    let render_form = |error: Option<String>, preview: bool, csrf| -> Result<Response, WebError> {
        let columns = columns(&article, &site, Some(&form), preview);
        let mut page = editor_page(&state, &ctx, &live, csrf, (&article, &site), categories.clone(), columns);
        page.error = error;
        render(&page)
    };
    if form.action == "preview" {
        return render_form(None, true, csrf);
    }
    // Validate every language before saving any, so a bad column loses nothing.
    let mut changes = Vec::new();
    for lang in site.settings.languages.iter().filter(|l| form.has(l)) {
        let (title, body) = (form.field("title", lang), form.field("body", lang));
        let saved = article.translation(lang);
        let unchanged = saved.is_some_and(|t| t.title == title.trim() && t.body_markdown == body);
        if unchanged || (saved.is_none() && title.trim().is_empty() && body.trim().is_empty()) {
            continue;
        }
        if title.trim().is_empty() || title.chars().count() > tessera_kb::MAX_TITLE_CHARS {
            let msg = format!("The {lang} title must be 1 to {} characters.", tessera_kb::MAX_TITLE_CHARS);
            return Ok((http::StatusCode::BAD_REQUEST, render_form(Some(msg), false, csrf)?).into_response());
        }
        changes.push((lang.clone(), title, body));
    }
    for (lang, title, body) in changes {
        kb.save_translation(site.id, id, lang, &title, &body).await?;
    }
    if let Ok(category) = form.category.parse::<CategoryId>()
        && category != article.category_id
        && kb.tree(site.id).await?.get(category).is_some()
    {
        state.core().store().set_article_category(id, category, state.core().now()).await?;
    }
    let done = match form.action.as_str() {
        "publish" => {
            kb.set_published(site.id, id, true).await?;
            "published"
        }
        "unpublish" => {
            kb.set_published(site.id, id, false).await?;
            "unpublished"
        }
        _ => "saved",
    };
    Ok(Redirect::to(&format!("/agent/articles/{id}?done={done}")).into_response())
}

#[derive(Debug)]
struct PendingRow {
    id: CommentId,
    article_href: String,
    article_title: String,
    author: String,
    body: String,
    at: String,
    visitor_href: Option<String>,
}

#[derive(Template)]
#[template(path = "agent_comments.html")]
struct CommentsPage {
    layout: Layout,
    notice: Option<String>,
    rows: Vec<PendingRow>,
}

pub(crate) async fn comments(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let site = agent_site(&state, live.person.site_id).await?;
    let articles = state.kb().articles(site.id, false).await?;
    let rows = state
        .kb()
        .pending_comments(site.id)
        .await?
        .into_iter()
        .map(|c| PendingRow {
            id: c.id,
            article_href: format!("/kb/a/{}", c.article_id),
            article_title: articles
                .iter()
                .find(|a| a.id == c.article_id)
                .map(|a| title_of(a, &site))
                .unwrap_or_default(),
            author: c.author_name,
            body: c.body,
            at: format_time(c.created_at),
            visitor_href: c.author.visitor.map(|v| format!("/agent/visitors/{v}")),
        })
        .collect();
    let page = CommentsPage {
        layout: Layout::new::<Agent>(&state, &ctx, "Comments to moderate", Some(&live), csrf),
        notice: done.notice(&ctx.tr),
        rows,
    };
    render(&page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ModerateForm {
    decision: String,
}

pub(crate) async fn moderate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Authed { live, .. }: Authed<Agent>,
    Form(form): Form<ModerateForm>,
) -> Result<Response, WebError> {
    let id: CommentId = id.parse().map_err(|_| WebError::NotFound)?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(WebError::BadRequest("Approve or reject.".into())),
    };
    let changed = state.kb().moderate(live.person.site_id, id, approve, live.person.id).await?;
    let done = match (changed, approve) {
        (false, _) => "already-moderated",
        (true, true) => "approved",
        (true, false) => "rejected",
    };
    Ok(Redirect::to(&format!("/agent/comments?done={done}")).into_response())
}

#[derive(Debug)]
struct VisitorRow {
    href: String,
    label: String,
    person: String,
    persistent: bool,
    first_seen: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "agent_visitors.html")]
struct VisitorsPage {
    layout: Layout,
    rows: Vec<VisitorRow>,
}

async fn person_name(state: &AppState, person: Option<tessera_core::PersonId>) -> Result<String, WebError> {
    Ok(match person {
        Some(p) => {
            state.core().store().person(p).await?.map(|p| format!("{} <{}>", p.name, p.email)).unwrap_or_default()
        }
        None => String::new(),
    })
}

pub(crate) async fn visitors(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let mut rows = Vec::new();
    for v in state.visitors().recent(live.person.site_id).await? {
        rows.push(VisitorRow {
            href: format!("/agent/visitors/{}", v.id),
            label: format!("Visitor {}", v.id),
            person: person_name(&state, v.person_id).await?,
            persistent: v.persistent,
            first_seen: format_time(v.created_at),
            last_seen: format_time(v.last_seen_at),
        });
    }
    let page = VisitorsPage { layout: Layout::new::<Agent>(&state, &ctx, "Visitors", Some(&live), csrf), rows };
    render(&page)
}

#[derive(Debug)]
struct TrailRow {
    at: String,
    kind: &'static str,
    text: String,
    href: Option<String>,
    by_person: bool,
}

#[derive(Debug)]
struct ConversationRow {
    id: i64,
    status: &'static str,
    started: String,
    messages: u64,
}

#[derive(Template)]
#[template(path = "agent_visitor.html")]
struct VisitorPage {
    layout: Layout,
    id: VisitorId,
    conversations: Vec<ConversationRow>,
    person: String,
    persistent: bool,
    first_seen: String,
    last_seen: String,
    trail: Vec<TrailRow>,
    on_site: super::agent_monitor::OnSite,
    csrf_token: String,
    notice: Option<&'static str>,
}

#[derive(serde::Deserialize)]
pub(crate) struct VisitorQuery {
    #[serde(default)]
    done: String,
}

pub(crate) async fn visitor(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(query): Query<VisitorQuery>,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let id: VisitorId = id.parse().map_err(|_| WebError::NotFound)?;
    let site = agent_site(&state, live.person.site_id).await?;
    let visitor = state.visitors().visitor(id).await?.filter(|v| v.site_id == site.id).ok_or(WebError::NotFound)?;
    let articles = state.kb().articles(site.id, false).await?;
    let article_title = |a: ArticleId| {
        articles.iter().find(|x| x.id == a).map(|x| title_of(x, &site)).unwrap_or_else(|| format!("article {a}"))
    };
    let trail = state
        .visitors()
        .activity(id)
        .await?
        .into_iter()
        .map(|item| {
            let by_person = item.visitor_id != Some(id);
            let at = format_time(item.at);
            match item.kind {
                ActivityKind::PageView { path, title } => {
                    TrailRow { at, kind: "Viewed", text: format!("{title} ({path})"), href: None, by_person }
                }
                ActivityKind::Vote { article_id, helpful } => TrailRow {
                    at,
                    kind: "Voted",
                    text: format!(
                        "{} on “{}”",
                        if helpful { "helpful" } else { "not helpful" },
                        article_title(article_id)
                    ),
                    href: Some(format!("/kb/a/{article_id}")),
                    by_person,
                },
                ActivityKind::Comment { article_id, status, body, .. } => TrailRow {
                    at,
                    kind: "Commented",
                    text: format!("on “{}” ({}): {}", article_title(article_id), status.as_str(), body),
                    href: Some(format!("/kb/a/{article_id}")),
                    by_person,
                },
            }
        })
        .collect();
    let owner = tessera_store::ChatOwner { visitor: Some(id), verified_user: None };
    let conversations = state
        .chat()
        .conversations_of(site.id, &owner)
        .await?
        .iter()
        .map(|c| ConversationRow {
            id: c.id.get(),
            status: c.status.as_str(),
            started: format_time(c.created_at),
            messages: c.last_seq,
        })
        .collect();
    let on_site = super::agent_monitor::on_site(&state, site.id, id).await?;
    let notice = match query.done.as_str() {
        "invited" => Some("Invitation sent: the visitor's chat window opens with it."),
        "not-online" => Some("The visitor has no chat window open right now; nothing was sent."),
        _ => None,
    };
    let layout = Layout::new::<Agent>(&state, &ctx, &format!("Visitor {id}"), Some(&live), csrf);
    let page = VisitorPage {
        csrf_token: layout.csrf.clone(),
        layout,
        on_site,
        notice,
        id,
        conversations,
        person: person_name(&state, visitor.person_id).await?,
        persistent: visitor.persistent,
        first_seen: format_time(visitor.created_at),
        last_seen: format_time(visitor.last_seen_at),
        trail,
    };
    render(&page)
}

super::pages!(HomePage, ArticlesPage, EditorPage, CommentsPage, VisitorsPage, VisitorPage);
