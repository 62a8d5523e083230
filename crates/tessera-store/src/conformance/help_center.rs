//! Conformance checks of the Help Center traits: site settings and hosts, the
//! knowledge base and its search, votes and comments, visitors and consent.

use tessera_core::{
    ArticleId, CategoryId, CommentId, ConsentMode, ConsentToken, HostName, Language, Origin, PersonId, SiteId,
    SolutionType, Timestamp, VisitorId, VisitorToken,
};

use super::{at, join_all, person_on, site_id};
use crate::{
    Activity, ActivityKind, Actor, Article, ArticleStatus, Category, CategoryName, Comment, CommentStatus,
    ConsentChoice, ConsentRecord, NewComment, PageView, SearchHit, Site, SiteSettings, Store, StoreError, Translation,
    Visitor, VoteTotals,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn lang(tag: &str) -> Language {
    Language::parse(tag).expect("a valid language")
}

fn host(text: &str) -> HostName {
    HostName::parse(text).expect("a valid host name")
}

fn origin(text: &str) -> Origin {
    Origin::parse(text).expect("a valid origin")
}

fn named(language: &str, name: &str) -> CategoryName {
    CategoryName { language: lang(language), name: name.to_owned(), description: format!("About {name}") }
}

fn text(language: &str, title: &str, body: &str, when: Timestamp) -> Translation {
    Translation {
        language: lang(language),
        title: title.to_owned(),
        body_markdown: body.to_owned(),
        body_html: format!("<p>{body}</p>"),
        updated_at: when,
    }
}

fn settings(name: &str, hosts: &[&str]) -> SiteSettings {
    SiteSettings { hosts: hosts.iter().map(|h| host(h)).collect(), ..SiteSettings::named(name) }
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what} must be a Conflict, got {other:?}"),
    }
}

/// A site with an author and one root category.
async fn knowledge_base<S: Store>(store: &S, site: SiteId) -> (PersonId, Category) {
    let author = person_on(store, site, "author@example.com").await;
    let category = store.create_category(site, None, 0, &[named("en", "General")]).await.expect("create_category");
    (author.id, category)
}

/// An article with the given translations, published (at `when`) if asked.
async fn article_with<S: Store>(
    store: &S,
    (author, category): &(PersonId, Category),
    translations: &[Translation],
    publish: bool,
    when: Timestamp,
) -> ArticleId {
    let article = store.create_article(category.site_id, category.id, *author, when).await.expect("create_article");
    for t in translations {
        assert!(store.put_translation(article.id, t).await.expect("put_translation"), "the article exists");
    }
    if publish {
        assert!(store.set_article_status(article.id, ArticleStatus::Published, when).await.expect("publish"));
    }
    article.id
}

async fn article_in<S: Store>(store: &S, id: ArticleId) -> Article {
    store.article(id).await.expect("article").expect("the article exists")
}

async fn visitor_on<S: Store>(store: &S, site: SiteId, when: Timestamp) -> Visitor {
    store.create_visitor(site, &VisitorToken::generate().hash(), false, when).await.expect("create_visitor")
}

fn guest(visitor: &Visitor) -> Actor {
    Actor { visitor: Some(visitor.id), person: None }
}

fn member(person: PersonId, visitor: Option<&Visitor>) -> Actor {
    Actor { visitor: visitor.map(|v| v.id), person: Some(person) }
}

const NOBODY: Actor = Actor { visitor: None, person: None };

async fn search_ids<S: Store>(store: &S, site: SiteId, language: &str, terms: &[&str]) -> Vec<ArticleId> {
    let terms: Vec<String> = terms.iter().map(|t| (*t).to_owned()).collect();
    let hits = store.search(site, &lang(language), &terms, 10).await.expect("search");
    hits.into_iter().map(|h| h.article_id).collect()
}

/// A comment on an article of site 1001, where every check here puts them.
fn new_comment(article: ArticleId, author: Actor, body: &str) -> NewComment {
    NewComment {
        site_id: site_id(1001),
        article_id: article,
        author,
        author_name: "Guest".to_owned(),
        body: body.to_owned(),
    }
}

async fn comment_on<S: Store>(store: &S, article: ArticleId, author: Actor, body: &str, when: Timestamp) -> Comment {
    store.add_comment(&new_comment(article, author, body), when).await.expect("add_comment")
}

fn ids(comments: &[Comment]) -> Vec<CommentId> {
    comments.iter().map(|c| c.id).collect()
}

// ---------------------------------------------------------------------------
// Sites
// ---------------------------------------------------------------------------

/// Every setting round-trips (list order kept), `site_by_host` finds the site
/// by any of its hosts, and a host already taken by another site is a
/// `Conflict` that stores nothing.
pub async fn site_settings_round_trip_and_hosts_are_unique_across_sites<S: Store>(store: &S) {
    let acme = SiteSettings {
        name: "Acme Help".to_owned(),
        hosts: vec![host("help.acme.test"), host("localhost:8080")],
        languages: vec![lang("fr"), lang("en"), lang("pt-BR")],
        default_language: lang("fr"),
        embed_origins: vec![origin("https://shop.acme.test"), origin("http://localhost:3000")],
        solution_type: SolutionType::FirstPartySession,
        consent_mode: ConsentMode::OptOut,
        registration_open: false,
        monitoring: crate::MonitoringSettings::default(),
    };
    let created = store.create_site(site_id(1001), &acme, at(10)).await.expect("create_site");
    let expected = Site { id: site_id(1001), settings: acme.clone(), created_at: at(10), updated_at: at(10) };
    assert_eq!(created, expected);
    assert_eq!(store.site(site_id(1001)).await.expect("site"), Some(expected.clone()));
    for h in ["help.acme.test", "localhost:8080"] {
        assert_eq!(store.site_by_host(&host(h)).await.expect("site_by_host"), Some(expected.clone()), "{h}");
    }
    assert_eq!(store.site_by_host(&host("help.globex.test")).await.expect("site_by_host"), None);

    let thief = settings("Globex", &["help.acme.test", "help.globex.test"]);
    conflict(store.create_site(site_id(2002), &thief, at(20)).await, "a host of another site");
    assert_eq!(store.site(site_id(2002)).await.expect("site"), None, "a refused site must not be stored");
    assert_eq!(store.site_by_host(&host("help.globex.test")).await.expect("site_by_host"), None, "nor its hosts");
    conflict(store.create_site(site_id(1001), &settings("Again", &[]), at(20)).await, "an existing site ID");

    let globex = store.create_site(site_id(2002), &settings("Globex", &["help.globex.test"]), at(30)).await;
    let globex = globex.expect("create_site with a free host");
    assert_eq!(store.site_by_host(&host("help.globex.test")).await.expect("site_by_host"), Some(globex.clone()));
    assert_eq!(store.sites().await.expect("sites"), vec![expected, globex]);
}

/// `update_site` replaces every setting and the host list, moves `updated_at`
/// only; a host of another site is a `Conflict` that changes nothing; an
/// unknown site is false and is not created.
pub async fn update_site_replaces_hosts<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    store.create_site(a, &settings("Acme", &["a1.test", "a2.test"]), at(10)).await.expect("create_site");
    let globex = store.create_site(b, &settings("Globex", &["b1.test"]), at(10)).await.expect("create_site");

    let next = SiteSettings {
        languages: vec![lang("en"), lang("de")],
        consent_mode: ConsentMode::None,
        ..settings("Acme Support", &["a2.test", "a3.test"])
    };
    assert!(store.update_site(a, &next, at(20)).await.expect("update_site"));
    let updated = Site { id: a, settings: next.clone(), created_at: at(10), updated_at: at(20) };
    assert_eq!(store.site(a).await.expect("site"), Some(updated.clone()));
    assert_eq!(store.site_by_host(&host("a1.test")).await.expect("site_by_host"), None, "a dropped host is free");
    assert_eq!(store.site_by_host(&host("a3.test")).await.expect("site_by_host"), Some(updated.clone()));

    let grab = settings("Acme", &["a2.test", "b1.test"]);
    conflict(store.update_site(a, &grab, at(30)).await, "taking another site's host");
    assert_eq!(store.site(a).await.expect("site"), Some(updated), "a refused update changes nothing");
    assert_eq!(store.site_by_host(&host("b1.test")).await.expect("site_by_host"), Some(globex));

    assert!(!store.update_site(site_id(3003), &next, at(40)).await.expect("update_site"), "unknown site");
    assert_eq!(store.site(site_id(3003)).await.expect("site"), None, "update_site never creates");

    assert!(store.update_site(a, &settings("Acme", &[]), at(50)).await.expect("update_site"));
    assert!(store.update_site(b, &settings("Globex", &["b1.test", "a2.test"]), at(50)).await.expect("update_site"));
    assert_eq!(store.site_by_host(&host("a2.test")).await.expect("site_by_host").map(|s| s.id), Some(b));
}

// ---------------------------------------------------------------------------
// Knowledge base
// ---------------------------------------------------------------------------

/// Categories come back as created, ordered by parent (roots first),
/// position, then ID, and only the site's own.
pub async fn categories_nest_and_order_by_position<S: Store>(store: &S) {
    let (site, other) = (site_id(1001), site_id(2002));
    store.ensure_site(site, "Acme", at(0)).await.expect("ensure_site");
    store.ensure_site(other, "Globex", at(0)).await.expect("ensure_site");
    let create = async |parent: Option<CategoryId>, position: i32, names: &[CategoryName]| {
        store.create_category(site, parent, position, names).await.expect("create_category")
    };
    let second = create(None, 2, &[named("en", "Billing")]).await;
    let first = create(None, 1, &[named("en", "Start"), named("fr", "Démarrer")]).await;
    let tie = create(None, 1, &[named("en", "Also first")]).await;
    let child_b = create(Some(first.id), 2, &[named("en", "Accounts")]).await;
    let child_a = create(Some(first.id), 1, &[named("en", "Install")]).await;
    let grandchild = create(Some(child_a.id), 0, &[named("en", "Linux")]).await;
    let other_child = create(Some(second.id), 5, &[named("en", "Invoices")]).await;
    store.create_category(other, None, 0, &[named("en", "Elsewhere")]).await.expect("create_category");

    assert_eq!(first.site_id, site);
    assert_eq!((first.parent_id, first.position), (None, 1));
    assert_eq!(first.names, vec![named("en", "Start"), named("fr", "Démarrer")]);
    assert_eq!((child_a.parent_id, grandchild.parent_id), (Some(first.id), Some(child_a.id)));

    let mut expected = vec![second, first, tie, child_b, child_a, grandchild, other_child];
    expected.sort_by_key(|c| (c.parent_id, c.position, c.id));
    assert_eq!(store.categories(site).await.expect("categories"), expected);
    assert_eq!(store.categories(site_id(3003)).await.expect("categories"), vec![]);
    assert!(store.create_category(site, None, 0, &[]).await.is_err(), "a category needs a name");
    assert_eq!(store.categories(site).await.expect("categories").len(), 7, "a refused category is not stored");
}

/// A parent, an article's category or a new category for an article must be
/// on the same site: otherwise a `Conflict` that stores nothing.
pub async fn category_parent_must_be_same_site<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    let kb_a = knowledge_base(store, a).await;
    let kb_b = knowledge_base(store, b).await;
    let foreign = kb_a.1.id;

    conflict(store.create_category(b, Some(foreign), 0, &[named("en", "Stolen")]).await, "a parent on another site");
    assert_eq!(store.categories(b).await.expect("categories"), vec![kb_b.1.clone()]);
    let ghost = CategoryId::new(foreign.get() + kb_b.1.id.get() + 1_000);
    assert!(store.create_category(b, Some(ghost), 0, &[named("en", "Orphan")]).await.is_err(), "a missing parent");

    conflict(store.create_article(b, foreign, kb_b.0, at(10)).await, "an article in another site's category");
    assert_eq!(store.articles(b, false).await.expect("articles"), vec![]);

    let article = article_with(store, &kb_b, &[], false, at(20)).await;
    conflict(store.set_article_category(article, foreign, at(30)).await, "moving to another site's category");
    assert_eq!(article_in(store, article).await.category_id, kb_b.1.id, "a refused move changes nothing");
}

/// An article starts as an empty draft with the author's name; translations
/// are added and replaced per language and move `updated_at`.
pub async fn article_round_trips_with_translations_and_author_name<S: Store>(store: &S) {
    let site = site_id(1001);
    let (author, category) = knowledge_base(store, site).await;
    let draft = store.create_article(site, category.id, author, at(10)).await.expect("create_article");
    let expected = Article {
        id: draft.id,
        site_id: site,
        category_id: category.id,
        author_id: author,
        author_name: "Ann Example".to_owned(),
        status: ArticleStatus::Draft,
        created_at: at(10),
        updated_at: at(10),
        published_at: None,
        views: 0,
        translations: vec![],
    };
    assert_eq!(draft, expected);
    assert_eq!(store.article(draft.id).await.expect("article"), Some(expected.clone()));

    let en = text("en", "Reset your password", "Open **settings**.", at(20));
    let fr = text("fr", "Réinitialiser le mot de passe", "Ouvrez les *paramètres*.", at(30));
    assert!(store.put_translation(draft.id, &en).await.expect("put_translation"));
    assert!(store.put_translation(draft.id, &fr).await.expect("put_translation"));
    let stored = article_in(store, draft.id).await;
    assert_eq!(stored.updated_at, at(30), "a translation moves updated_at");
    assert_eq!((stored.translation(&lang("en")), stored.translation(&lang("fr"))), (Some(&en), Some(&fr)));
    assert_eq!(stored.translations.len(), 2);

    let en2 = text("en", "Change your password", "Open your profile.", at(40));
    assert!(store.put_translation(draft.id, &en2).await.expect("put_translation"));
    let stored = article_in(store, draft.id).await;
    assert_eq!((stored.translation(&lang("en")), stored.translations.len()), (Some(&en2), 2), "replaced, not added");
    assert_eq!(store.articles(site, false).await.expect("articles"), vec![stored.clone()]);

    let ghost = ArticleId::new(draft.id.get() + 1_000);
    assert!(!store.put_translation(ghost, &en).await.expect("put_translation"), "unknown article");
    assert_eq!(store.article(ghost).await.expect("article"), None);
}

/// `articles` lists the site's articles newest first (published ones only
/// when asked); `set_article_category` moves one and reports unknown ones.
pub async fn articles_list_newest_first_and_move_between_categories<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let elsewhere = knowledge_base(store, site_id(2002)).await;
    let old = article_with(store, &kb, &[text("en", "Old", "old", at(10))], true, at(10)).await;
    let draft = article_with(store, &kb, &[text("en", "Draft", "draft", at(20))], false, at(20)).await;
    let new = article_with(store, &kb, &[], true, at(30)).await;
    article_with(store, &elsewhere, &[], true, at(40)).await;

    let listed = store.articles(site, false).await.expect("articles");
    assert_eq!(listed.iter().map(|a| a.id).collect::<Vec<_>>(), vec![new, draft, old]);
    assert_eq!(listed[2].translations, vec![text("en", "Old", "old", at(10))], "translations come along");
    let published = store.articles(site, true).await.expect("articles");
    assert_eq!(published.iter().map(|a| a.id).collect::<Vec<_>>(), vec![new, old]);
    assert_eq!(published[1], article_in(store, old).await);

    let moved_to = store.create_category(site, Some(kb.1.id), 0, &[named("en", "Sub")]).await.expect("create");
    assert!(store.set_article_category(old, moved_to.id, at(50)).await.expect("set_article_category"));
    let moved = article_in(store, old).await;
    assert_eq!((moved.category_id, moved.updated_at), (moved_to.id, at(50)));
    let ghost = ArticleId::new(new.get() + 1_000);
    assert!(!store.set_article_category(ghost, moved_to.id, at(60)).await.expect("set_article_category"));
}

/// Publishing sets `published_at` the first time only; unpublishing keeps it.
pub async fn publishing_sets_published_at_once<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let id = article_with(store, &kb, &[], false, at(0)).await;
    let state = async || {
        let a = article_in(store, id).await;
        (a.status, a.published_at, a.updated_at)
    };
    let listed = async || store.articles(site, true).await.expect("articles").len();

    assert!(store.set_article_status(id, ArticleStatus::Published, at(10)).await.expect("publish"));
    assert_eq!(state().await, (ArticleStatus::Published, Some(at(10)), at(10)));
    assert_eq!(listed().await, 1);
    assert!(store.set_article_status(id, ArticleStatus::Draft, at(20)).await.expect("unpublish"));
    assert_eq!(state().await, (ArticleStatus::Draft, Some(at(10)), at(20)), "unpublishing keeps published_at");
    assert_eq!(listed().await, 0);
    assert!(store.set_article_status(id, ArticleStatus::Published, at(30)).await.expect("publish again"));
    assert_eq!(state().await, (ArticleStatus::Published, Some(at(10)), at(30)), "the first publication stays");
    let ghost = ArticleId::new(id.get() + 1_000);
    assert!(!store.set_article_status(ghost, ArticleStatus::Published, at(40)).await.expect("unknown article"));
}

/// Search finds published articles of the site in the language asked, every
/// term required, the last one as a prefix, accents ignored, title matches
/// first; hits carry the title and a marked snippet.
pub async fn search_finds_published_articles_in_the_language_with_prefix_and_diacritics<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let reset = article_with(
        store,
        &kb,
        &[
            text("en", "Reset your password", "Open the settings and choose a new password.", at(1)),
            text("fr", "Réinitialiser le mot de passe", "Les factures partent en décembre.", at(1)),
        ],
        true,
        at(1),
    )
    .await;
    let billing = article_with(
        store,
        &kb,
        &[text("en", "Billing", "Invoices are sent monthly; no password is needed to read them.", at(2))],
        true,
        at(2),
    )
    .await;
    article_with(store, &kb, &[text("en", "Password policy", "A password draft.", at(3))], false, at(3)).await;
    let elsewhere = knowledge_base(store, site_id(2002)).await;
    article_with(store, &elsewhere, &[text("en", "Password", "Another site's password.", at(4))], true, at(4)).await;

    assert_eq!(search_ids(store, site, "en", &["password"]).await, vec![reset, billing], "title matches first");
    assert_eq!(search_ids(store, site, "en", &["PASSW"]).await, vec![reset, billing], "the last term is a prefix");
    assert_eq!(search_ids(store, site, "en", &["reset", "pass"]).await, vec![reset]);
    assert_eq!(search_ids(store, site, "en", &["pass", "reset"]).await, vec![], "only the last term is a prefix");
    assert_eq!(search_ids(store, site, "en", &["reset", "invoices"]).await, vec![], "every term is required");
    assert_eq!(search_ids(store, site, "fr", &["decembre"]).await, vec![reset], "accents are ignored");
    assert_eq!(search_ids(store, site, "fr", &["réinitialiser"]).await, vec![reset]);
    assert_eq!(search_ids(store, site, "fr", &["password"]).await, vec![], "only the language asked");
    assert_eq!(search_ids(store, site, "en", &[]).await, vec![], "no terms, no hits");

    let terms = vec!["password".to_owned()];
    let hits = store.search(site, &lang("en"), &terms, 1).await.expect("search");
    assert_eq!(hits.len(), 1, "at most limit hits");
    let SearchHit { article_id, title, snippet } = &hits[0];
    assert_eq!((article_id, title.as_str()), (&reset, "Reset your password"));
    let marked = format!("{}password{}", SearchHit::MARK_START, SearchHit::MARK_END);
    assert!(snippet.contains(&marked), "the snippet marks the match: {snippet:?}");
    let fr = store.search(site, &lang("fr"), &["decembre".to_owned()], 5).await.expect("search");
    let marked = format!("{}décembre{}", SearchHit::MARK_START, SearchHit::MARK_END);
    assert!(fr[0].snippet.contains(&marked), "the original text is marked: {:?}", fr[0].snippet);
    assert_eq!(fr[0].title, "Réinitialiser le mot de passe");
}

/// Replacing a translation replaces what search finds; unpublishing hides it.
pub async fn search_index_follows_translation_changes<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let id = article_with(store, &kb, &[text("en", "Printer setup", "Install the driver.", at(1))], true, at(1)).await;
    assert_eq!(search_ids(store, site, "en", &["driver"]).await, vec![id]);

    assert!(store.put_translation(id, &text("en", "Scanner setup", "Plug it in.", at(2))).await.expect("put"));
    assert_eq!(search_ids(store, site, "en", &["driver"]).await, vec![], "the old text is gone from the index");
    assert_eq!(search_ids(store, site, "en", &["printer"]).await, vec![]);
    assert_eq!(search_ids(store, site, "en", &["scanner", "plug"]).await, vec![id]);
    let hits = store.search(site, &lang("en"), &["scanner".to_owned()], 5).await.expect("search");
    assert_eq!(hits.len(), 1, "one hit per article and language, however often it was saved");

    assert!(store.set_article_status(id, ArticleStatus::Draft, at(3)).await.expect("unpublish"));
    assert_eq!(search_ids(store, site, "en", &["scanner"]).await, vec![], "drafts are not found");
}

/// Terms are plain words: quotes, operators, column filters and stray
/// punctuation never cause an error or act as syntax.
pub async fn search_terms_cannot_inject_fts_syntax<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let id =
        article_with(store, &kb, &[text("en", "Reset password", "Open the settings page.", at(1))], true, at(1)).await;
    let nasty = [
        "\"",
        "\"\"",
        "*",
        "OR",
        "AND",
        "NOT",
        "NEAR(",
        "NEAR",
        ")",
        "(",
        "-x",
        "+x",
        "^",
        "title:",
        "title:reset",
        "body:",
        "{title}",
        ":",
        "'",
        "\\",
        "a\"b",
        "''",
        "%",
        "_",
        "",
        " ",
        "\u{0}",
        "🙂",
        "&",
        "|",
        "!",
    ];
    for term in nasty {
        for terms in [vec![term], vec!["reset", term], vec![term, "reset"]] {
            let terms: Vec<String> = terms.into_iter().map(str::to_owned).collect();
            if let Err(e) = store.search(site, &lang("en"), &terms, 10).await {
                panic!("search for {terms:?} must not fail: {e}");
            }
        }
    }
    assert_eq!(search_ids(store, site, "en", &["reset", "OR", "xyzzy"]).await, vec![], "OR is a word, not an operator");
    assert_eq!(search_ids(store, site, "en", &["xyzzy", "OR", "reset"]).await, vec![]);
    assert_eq!(search_ids(store, site, "en", &["settings", "NOT", "page"]).await, vec![], "NOT is a word too");
    assert_eq!(search_ids(store, site, "en", &["body:settings"]).await, vec![], "no column filters");
    assert_eq!(search_ids(store, site, "en", &["\"reset", "password\""]).await, vec![id], "quotes are ignored");
}

// ---------------------------------------------------------------------------
// Votes and comments
// ---------------------------------------------------------------------------

/// A guest has one vote per article, which it can change; the totals count
/// each guest once; an anonymous actor cannot vote.
pub async fn votes_are_one_per_guest_and_changeable<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let (a, b) = (article_with(store, &kb, &[], true, at(0)).await, article_with(store, &kb, &[], true, at(0)).await);
    let (v1, v2, v3) = (
        visitor_on(store, site, at(0)).await,
        visitor_on(store, site, at(0)).await,
        visitor_on(store, site, at(0)).await,
    );
    let totals = async |article| store.vote_totals(article).await.expect("vote_totals");
    let vote_of = async |article, actor| store.vote_of(article, actor).await.expect("vote_of");

    assert_eq!(totals(a).await, VoteTotals::default());
    store.set_vote(a, guest(&v1), true, at(1)).await.expect("set_vote");
    assert_eq!(
        (totals(a).await, vote_of(a, guest(&v1)).await),
        (VoteTotals { helpful: 1, not_helpful: 0 }, Some(true))
    );
    store.set_vote(a, guest(&v1), false, at(2)).await.expect("set_vote");
    assert_eq!(
        (totals(a).await, vote_of(a, guest(&v1)).await),
        (VoteTotals { helpful: 0, not_helpful: 1 }, Some(false))
    );
    store.set_vote(a, guest(&v2), true, at(3)).await.expect("set_vote");
    assert_eq!(totals(a).await, VoteTotals { helpful: 1, not_helpful: 1 });
    assert_eq!((vote_of(a, guest(&v3)).await, vote_of(b, guest(&v1)).await), (None, None));
    assert_eq!(totals(b).await, VoteTotals::default(), "votes are per article");

    conflict(store.set_vote(a, NOBODY, true, at(4)).await, "an anonymous vote");
    assert_eq!(vote_of(a, NOBODY).await, None);
    assert_eq!(totals(a).await, VoteTotals { helpful: 1, not_helpful: 1 });
}

/// A person has one vote per article whatever browser it comes from; it
/// replaces the guest vote of the browser it is cast from.
pub async fn votes_are_one_per_person<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let a = article_with(store, &kb, &[], true, at(0)).await;
    let ann = person_on(store, site, "ann@example.com").await.id;
    let (home, work) = (visitor_on(store, site, at(0)).await, visitor_on(store, site, at(0)).await);
    let totals = async || store.vote_totals(a).await.expect("vote_totals");

    store.set_vote(a, member(ann, Some(&home)), true, at(1)).await.expect("set_vote");
    store.set_vote(a, member(ann, Some(&work)), false, at(2)).await.expect("set_vote");
    store.set_vote(a, member(ann, None), false, at(3)).await.expect("set_vote");
    assert_eq!(totals().await, VoteTotals { helpful: 0, not_helpful: 1 }, "one vote per person");
    assert_eq!(store.vote_of(a, member(ann, None)).await.expect("vote_of"), Some(false));
    assert_eq!(store.vote_of(a, member(ann, Some(&home))).await.expect("vote_of"), Some(false));
    assert_eq!(store.vote_of(a, guest(&home)).await.expect("vote_of"), None, "a guest sees only guest votes");

    let shared = visitor_on(store, site, at(0)).await;
    let bob = person_on(store, site, "bob@example.com").await.id;
    store.set_vote(a, guest(&shared), true, at(4)).await.expect("set_vote");
    store.set_vote(a, member(bob, Some(&shared)), true, at(5)).await.expect("set_vote");
    assert_eq!(totals().await, VoteTotals { helpful: 1, not_helpful: 1 }, "the guest vote gave way to bob's");
    assert_eq!(store.vote_of(a, guest(&shared)).await.expect("vote_of"), None);
}

/// Linking a visitor to a person makes its guest votes and comments the
/// person's; where the person had voted already, the person's vote wins.
pub async fn link_visitor_moves_guest_votes_and_comments_and_person_vote_wins<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let (a, b) = (article_with(store, &kb, &[], true, at(0)).await, article_with(store, &kb, &[], true, at(0)).await);
    let ann = person_on(store, site, "ann@example.com").await.id;
    let (laptop, phone) = (visitor_on(store, site, at(0)).await, visitor_on(store, site, at(0)).await);

    store.set_vote(a, member(ann, Some(&laptop)), true, at(1)).await.expect("set_vote");
    store.set_vote(a, guest(&phone), false, at(2)).await.expect("set_vote");
    store.set_vote(b, guest(&phone), true, at(3)).await.expect("set_vote");
    let said = comment_on(store, a, guest(&phone), "Thanks!", at(4)).await;

    assert!(store.link_visitor(phone.id, ann, at(5)).await.expect("link_visitor"));
    assert_eq!(store.visitor(phone.id).await.expect("visitor").and_then(|v| v.person_id), Some(ann));
    assert_eq!(
        store.vote_totals(a).await.expect("totals"),
        VoteTotals { helpful: 1, not_helpful: 0 },
        "ann's vote won"
    );
    assert_eq!(store.vote_of(a, member(ann, None)).await.expect("vote_of"), Some(true));
    assert_eq!(store.vote_totals(b).await.expect("totals"), VoteTotals { helpful: 1, not_helpful: 0 });
    assert_eq!(store.vote_of(b, member(ann, None)).await.expect("vote_of"), Some(true), "the guest vote is ann's");
    assert_eq!(store.vote_of(b, guest(&phone)).await.expect("vote_of"), None, "no guest vote is left");

    let moved = store.comment(said.id).await.expect("comment").expect("the comment exists");
    assert_eq!(moved.author, member(ann, Some(&phone)));
    let seen = store.comments(a, member(ann, Some(&laptop))).await.expect("comments");
    assert_eq!(ids(&seen), vec![said.id], "ann sees her pending comment from any browser");

    let mut browsers: Vec<VisitorId> =
        store.visitors_of_person(ann).await.expect("visitors_of_person").iter().map(|v| v.id).collect();
    browsers.sort_unstable();
    assert_eq!(browsers, vec![phone.id], "only linked visitors are the person's");
    let ghost = VisitorId::new(laptop.id.get() + phone.id.get() + 1_000);
    assert!(!store.link_visitor(ghost, ann, at(6)).await.expect("link_visitor"), "unknown visitor");
}

/// Approved comments are public; a pending one is shown only to its author
/// (by person or by visitor); lists are oldest first.
pub async fn pending_comment_visible_only_to_its_author<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let a = article_with(store, &kb, &[], true, at(0)).await;
    let moderator = kb.0;
    let ann = person_on(store, site, "ann@example.com").await.id;
    let (v1, v2, v3) = (
        visitor_on(store, site, at(0)).await,
        visitor_on(store, site, at(0)).await,
        visitor_on(store, site, at(0)).await,
    );

    let public = comment_on(store, a, guest(&v3), "First!", at(1)).await;
    assert!(store.moderate_comment(public.id, CommentStatus::Approved, moderator, at(2)).await.expect("moderate"));
    let by_guest = comment_on(store, a, guest(&v1), "Guest question", at(3)).await;
    let by_ann = comment_on(store, a, member(ann, Some(&v2)), "Ann's question", at(4)).await;
    assert_eq!(
        (by_guest.status, by_guest.created_at, by_guest.moderated_at, by_guest.moderated_by),
        (CommentStatus::Pending, at(3), None, None),
        "a new comment is pending"
    );
    assert_eq!((by_guest.author, by_guest.body.as_str(), by_guest.site_id), (guest(&v1), "Guest question", site));

    let visible = async |viewer| ids(&store.comments(a, viewer).await.expect("comments"));
    assert_eq!(visible(guest(&v1)).await, vec![public.id, by_guest.id]);
    assert_eq!(visible(member(ann, None)).await, vec![public.id, by_ann.id]);
    assert_eq!(visible(guest(&v2)).await, vec![public.id, by_ann.id], "the browser it was written from");
    assert_eq!(visible(guest(&v3)).await, vec![public.id]);
    assert_eq!(visible(NOBODY).await, vec![public.id]);

    assert_eq!(store.approved_comment_count(a).await.expect("count"), 1);
    assert_eq!(ids(&store.pending_comments(site).await.expect("pending")), vec![by_guest.id, by_ann.id]);
    assert_eq!(store.pending_comments(site_id(2002)).await.expect("pending"), vec![]);
    assert_eq!(store.comment(by_guest.id).await.expect("comment"), Some(by_guest.clone()));
    store.ensure_site(site_id(2002), "Globex", at(0)).await.expect("ensure_site");
    let stranger = NewComment { site_id: site_id(2002), ..new_comment(a, guest(&v1), "x") };
    conflict(store.add_comment(&stranger, at(5)).await, "a comment on another site's article");
    assert_eq!(store.pending_comments(site_id(2002)).await.expect("pending"), vec![]);
}

/// Moderation approves or rejects pending comments once; a decided comment
/// cannot be decided again.
pub async fn moderation_only_moves_pending_comments<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let (a, moderator) = (article_with(store, &kb, &[], true, at(0)).await, kb.0);
    let visitor = visitor_on(store, site, at(0)).await;
    let good = comment_on(store, a, guest(&visitor), "Helpful", at(1)).await;
    let spam = comment_on(store, a, guest(&visitor), "Buy now", at(2)).await;

    assert!(store.moderate_comment(good.id, CommentStatus::Approved, moderator, at(10)).await.expect("moderate"));
    let approved = Comment {
        status: CommentStatus::Approved,
        moderated_at: Some(at(10)),
        moderated_by: Some(moderator),
        ..good.clone()
    };
    assert_eq!(store.comment(good.id).await.expect("comment"), Some(approved.clone()));
    assert!(!store.moderate_comment(good.id, CommentStatus::Rejected, moderator, at(11)).await.expect("moderate"));
    assert_eq!(store.comment(good.id).await.expect("comment"), Some(approved.clone()), "decided once");

    assert!(store.moderate_comment(spam.id, CommentStatus::Rejected, moderator, at(12)).await.expect("moderate"));
    assert!(!store.moderate_comment(spam.id, CommentStatus::Approved, moderator, at(13)).await.expect("moderate"));
    assert_eq!(store.comment(spam.id).await.expect("comment").map(|c| c.status), Some(CommentStatus::Rejected));
    assert_eq!(store.comments(a, guest(&visitor)).await.expect("comments"), vec![approved], "rejected is hidden");
    assert_eq!(store.pending_comments(site).await.expect("pending"), vec![]);
    assert_eq!(store.approved_comment_count(a).await.expect("count"), 1);
    let ghost = CommentId::new(spam.id.get() + 1_000);
    assert!(!store.moderate_comment(ghost, CommentStatus::Approved, moderator, at(14)).await.expect("moderate"));
}

// ---------------------------------------------------------------------------
// Visitors
// ---------------------------------------------------------------------------

/// A visitor is found by its current token only: a new token replaces the
/// old one, none at all makes every old cookie useless; tokens are unique;
/// touches only move `last_seen_at` forward.
pub async fn visitor_token_can_be_replaced_or_dropped<S: Store>(store: &S) {
    let site = site_id(1001);
    store.ensure_site(site, "Acme", at(0)).await.expect("ensure_site");
    let (t1, t2) = (VisitorToken::generate().hash(), VisitorToken::generate().hash());
    let created = store.create_visitor(site, &t1, false, at(10)).await.expect("create_visitor");
    let expected = Visitor {
        id: created.id,
        site_id: site,
        person_id: None,
        persistent: false,
        created_at: at(10),
        last_seen_at: at(10),
    };
    assert_eq!(created, expected);
    assert_eq!(store.visitor_by_token(&t1).await.expect("by token"), Some(expected.clone()));
    assert_eq!(store.visitor(created.id).await.expect("visitor"), Some(expected.clone()));
    conflict(store.create_visitor(site, &t1, true, at(11)).await, "a taken visitor token");

    assert!(store.set_visitor_token(created.id, Some(&t2), true, at(20)).await.expect("set_visitor_token"));
    assert_eq!(store.visitor_by_token(&t1).await.expect("by token"), None, "the old token is gone");
    let now_persistent = store.visitor_by_token(&t2).await.expect("by token").expect("found by the new token");
    assert_eq!((now_persistent.id, now_persistent.persistent, now_persistent.created_at), (created.id, true, at(10)));

    let other = store.create_visitor(site, &t1, false, at(21)).await.expect("a freed token can be used again");
    conflict(store.set_visitor_token(other.id, Some(&t2), true, at(22)).await, "another visitor's token");
    assert!(store.set_visitor_token(created.id, None, false, at(30)).await.expect("set_visitor_token"));
    assert!(store.set_visitor_token(other.id, None, false, at(30)).await.expect("several visitors may have none"));
    assert_eq!(store.visitor_by_token(&t2).await.expect("by token"), None);
    assert_eq!(store.visitor(created.id).await.expect("visitor").map(|v| v.persistent), Some(false));
    let ghost = VisitorId::new(created.id.get() + other.id.get() + 1_000);
    assert!(!store.set_visitor_token(ghost, Some(&t2), true, at(31)).await.expect("set_visitor_token"));

    store.touch_visitor(created.id, at(50)).await.expect("touch_visitor");
    store.touch_visitor(created.id, at(40)).await.expect("touch_visitor");
    store.touch_visitor(ghost, at(50)).await.expect("touching an unknown visitor is fine");
    assert_eq!(store.visitor(created.id).await.expect("visitor").map(|v| v.last_seen_at), Some(at(50)));
    assert_eq!(store.visitor(ghost).await.expect("visitor"), None, "a touch never creates");
}

/// The trail holds page views, votes and comments, oldest first, the newest
/// `limit`; once linked, also what the person did from other browsers.
pub async fn activity_merges_kinds_in_time_order_including_the_linked_person<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let (a, b) = (article_with(store, &kb, &[], true, at(0)).await, article_with(store, &kb, &[], true, at(0)).await);
    let ann = person_on(store, site, "ann@example.com").await.id;
    let (phone, laptop) = (visitor_on(store, site, at(0)).await, visitor_on(store, site, at(0)).await);
    assert!(store.link_visitor(laptop.id, ann, at(0)).await.expect("link_visitor"));
    let view = |visitor: &Visitor, person: Option<PersonId>, path: &str, when: i64| PageView {
        site_id: site,
        visitor_id: visitor.id,
        person_id: person,
        path: path.to_owned(),
        title: format!("Page {path}"),
        article_id: Some(a),
        at: at(when),
    };

    store.record_page_view(&view(&phone, None, "/a", 10)).await.expect("record_page_view");
    store.record_page_view(&view(&laptop, Some(ann), "/b", 15)).await.expect("record_page_view");
    store.set_vote(a, guest(&phone), true, at(20)).await.expect("set_vote");
    store.set_vote(b, member(ann, Some(&laptop)), false, at(25)).await.expect("set_vote");
    let said = comment_on(store, a, guest(&phone), "Nice", at(30)).await;

    let page = |path: &str| ActivityKind::PageView { path: path.to_owned(), title: format!("Page {path}") };
    let comment = ActivityKind::Comment {
        article_id: a,
        comment_id: said.id,
        status: CommentStatus::Pending,
        body: "Nice".to_owned(),
    };
    let trail = async |limit| -> Vec<(Timestamp, Option<VisitorId>, ActivityKind)> {
        let lines: Vec<Activity> = store.activity(phone.id, limit).await.expect("activity");
        lines.into_iter().map(|l| (l.at, l.visitor_id, l.kind)).collect()
    };
    let p = Some(phone.id);
    let mine = vec![
        (at(10), p, page("/a")),
        (at(20), p, ActivityKind::Vote { article_id: a, helpful: true }),
        (at(30), p, comment.clone()),
    ];
    assert_eq!(trail(100).await, mine, "a guest's own trail");

    assert!(store.link_visitor(phone.id, ann, at(40)).await.expect("link_visitor"));
    let l = Some(laptop.id);
    let merged = vec![
        (at(10), p, page("/a")),
        (at(15), l, page("/b")),
        (at(20), p, ActivityKind::Vote { article_id: a, helpful: true }),
        (at(25), l, ActivityKind::Vote { article_id: b, helpful: false }),
        (at(30), p, comment),
    ];
    assert_eq!(trail(100).await, merged, "the linked person's activity joins in");
    assert_eq!(trail(2).await, merged[3..].to_vec(), "the newest `limit`, oldest first");
    let lines = store.activity(phone.id, 100).await.expect("activity");
    assert!(lines[2..].iter().all(|l| l.person_id == Some(ann)), "votes and comments are the person's now");
    let ghost = VisitorId::new(phone.id.get() + laptop.id.get() + 1_000);
    assert_eq!(store.activity(ghost, 10).await.expect("activity"), vec![]);
}

/// Timestamps are whole seconds: events of one second are listed in the
/// order they happened, whatever their kind (a vote before the page view its
/// redirect produced); a changed vote is a new event; linking keeps the order.
pub async fn activity_in_the_same_second_follows_the_order_of_events<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let (a, b) = (article_with(store, &kb, &[], true, at(0)).await, article_with(store, &kb, &[], true, at(0)).await);
    let ann = person_on(store, site, "ann@example.com").await.id;
    let (phone, laptop) = (visitor_on(store, site, at(0)).await, visitor_on(store, site, at(0)).await);
    assert!(store.link_visitor(laptop.id, ann, at(0)).await.expect("link_visitor"));
    let view = async |visitor: &Visitor, person: Option<PersonId>, path: &str| {
        let page = PageView {
            site_id: site,
            visitor_id: visitor.id,
            person_id: person,
            path: path.to_owned(),
            title: format!("Page {path}"),
            article_id: Some(a),
            at: at(10),
        };
        store.record_page_view(&page).await.expect("record_page_view");
    };

    // All in second 10; the vote on `b` comes first and is changed last.
    store.set_vote(b, guest(&phone), true, at(10)).await.expect("set_vote");
    view(&phone, None, "/a").await;
    store.set_vote(a, guest(&phone), true, at(10)).await.expect("set_vote");
    view(&phone, None, "/a?voted").await;
    let said = comment_on(store, a, guest(&phone), "Nice", at(10)).await;
    view(&laptop, Some(ann), "/elsewhere").await;
    view(&phone, None, "/a?commented").await;
    store.set_vote(b, guest(&phone), false, at(10)).await.expect("set_vote");

    let page = |path: &str| ActivityKind::PageView { path: path.to_owned(), title: format!("Page {path}") };
    let trail = async |limit| -> Vec<(Timestamp, Option<VisitorId>, ActivityKind)> {
        let lines: Vec<Activity> = store.activity(phone.id, limit).await.expect("activity");
        lines.into_iter().map(|l| (l.at, l.visitor_id, l.kind)).collect()
    };
    let (p, l) = (Some(phone.id), Some(laptop.id));
    let comment = ActivityKind::Comment {
        article_id: a,
        comment_id: said.id,
        status: CommentStatus::Pending,
        body: "Nice".into(),
    };
    let mine = vec![
        (at(10), p, page("/a")),
        (at(10), p, ActivityKind::Vote { article_id: a, helpful: true }),
        (at(10), p, page("/a?voted")),
        (at(10), p, comment.clone()),
        (at(10), p, page("/a?commented")),
        (at(10), p, ActivityKind::Vote { article_id: b, helpful: false }),
    ];
    assert_eq!(trail(100).await, mine, "events of one second in the order they happened");
    assert_eq!(trail(2).await, mine[4..].to_vec(), "the newest `limit` are the last events");

    assert!(store.link_visitor(phone.id, ann, at(10)).await.expect("link_visitor"));
    let mut merged = mine.clone();
    merged.insert(4, (at(10), l, page("/elsewhere")));
    assert_eq!(trail(100).await, merged, "linking keeps the order and merges in the person's events");
}

/// Consent records come back as recorded and are never overwritten.
pub async fn consent_records_round_trip<S: Store>(store: &S) {
    let site = site_id(1001);
    store.ensure_site(site, "Acme", at(0)).await.expect("ensure_site");
    let visitor = visitor_on(store, site, at(0)).await;
    let accepted = ConsentRecord {
        token_hash: ConsentToken::generate().hash(),
        site_id: site,
        choice: ConsentChoice::Accepted,
        visitor_id: Some(visitor.id),
        decided_at: at(10),
    };
    let rejected = ConsentRecord {
        token_hash: ConsentToken::generate().hash(),
        choice: ConsentChoice::Rejected,
        visitor_id: None,
        decided_at: at(20),
        ..accepted.clone()
    };
    store.record_consent(&accepted).await.expect("record_consent");
    store.record_consent(&rejected).await.expect("record_consent");
    assert_eq!(store.consent(&accepted.token_hash).await.expect("consent"), Some(accepted.clone()));
    assert_eq!(store.consent(&rejected.token_hash).await.expect("consent"), Some(rejected));
    assert_eq!(store.consent(&ConsentToken::generate().hash()).await.expect("consent"), None);

    let overwrite = ConsentRecord { choice: ConsentChoice::Rejected, decided_at: at(30), ..accepted.clone() };
    conflict(store.record_consent(&overwrite).await, "a second record with the same token");
    assert_eq!(store.consent(&accepted.token_hash).await.expect("consent"), Some(accepted), "evidence is kept");
}

/// Every counted view is counted, also when they arrive at once, and
/// counting does not touch `updated_at`.
pub async fn view_counts_add_up<S: Store>(store: &S) {
    let site = site_id(1001);
    let kb = knowledge_base(store, site).await;
    let (a, b) = (article_with(store, &kb, &[], true, at(5)).await, article_with(store, &kb, &[], true, at(5)).await);
    for _ in 0..3 {
        store.count_view(a).await.expect("count_view");
    }
    store.count_view(b).await.expect("count_view");
    join_all((0..8).map(|_| store.count_view(a)).collect()).await.into_iter().for_each(|r| r.expect("count_view"));
    store.count_view(ArticleId::new(a.get() + b.get() + 1_000)).await.expect("counting an unknown article is fine");

    let counted = article_in(store, a).await;
    assert_eq!((counted.views, counted.updated_at), (11, at(5)));
    assert_eq!(article_in(store, b).await.views, 1);
}

/// `recent_visitors` lists the site's visitors by last sight, newest first
/// (later-created first on equal times), at most `limit`.
pub async fn recent_visitors_newest_first<S: Store>(store: &S) {
    let site = site_id(1001);
    store.ensure_site(site, "Acme", at(0)).await.expect("ensure_site");
    store.ensure_site(site_id(2002), "Globex", at(0)).await.expect("ensure_site");
    let v1 = visitor_on(store, site, at(10)).await;
    let v2 = visitor_on(store, site, at(20)).await;
    let v3 = visitor_on(store, site, at(30)).await;
    let v4 = visitor_on(store, site, at(30)).await;
    visitor_on(store, site_id(2002), at(60)).await;
    store.touch_visitor(v1.id, at(50)).await.expect("touch_visitor");

    let recent = async |limit| -> Vec<VisitorId> {
        store.recent_visitors(site, limit).await.expect("recent_visitors").iter().map(|v| v.id).collect()
    };
    assert_eq!(recent(10).await, vec![v1.id, v4.id, v3.id, v2.id]);
    assert_eq!(recent(2).await, vec![v1.id, v4.id]);
    let listed = store.recent_visitors(site, 1).await.expect("recent_visitors");
    assert_eq!(listed, vec![Visitor { last_seen_at: at(50), ..v1 }]);
}
