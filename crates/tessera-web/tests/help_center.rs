//! The Help Center over HTTP: language negotiation and the picker, consent
//! and the visitor token, guest votes and comments across a browser restart,
//! linking on login, withdrawal, search, registration, and the agent's
//! editor, moderation queue and visitor profile.

mod common;

use common::*;
use http::StatusCode;
use tessera_core::{ArticleId, ConsentMode, Language, Role, SiteId};
use tessera_store::{CategoryName, SiteStore, VisitorStore};

const VISITOR: &str = "__Host-ts_v";
const VISIT: &str = "__Host-ts_visit";
const CONSENT: &str = "__Host-ts_consent";
const LANG: &str = "__Host-ts_lang";
const OPTIONAL: [&str; 4] = [VISITOR, "__Host-ts_remember_portal", "__Host-ts_remember_agent", "__Host-ts_agent_site"];

fn lang(tag: &str) -> Language {
    Language::parse(tag).expect("a valid tag")
}

struct Seeded {
    /// In English, French and Danish.
    cookies_article: ArticleId,
    /// In English and French only.
    help_article: ArticleId,
}

/// A three-language site with two published articles; `mode` is its consent mode.
async fn seed(app: &TestApp, mode: ConsentMode) -> Seeded {
    let mut settings = app.store.site(SiteId::DEFAULT).await.expect("read site").expect("site 1001").settings;
    settings.languages = vec![lang("en"), lang("fr"), lang("da")];
    settings.consent_mode = mode;
    app.store.update_site(SiteId::DEFAULT, &settings, app.now()).await.expect("update site");
    app.state.sites_changed();
    let author = app.person("author@example.com", Role::Agent).await;
    let kb = app.state.kb();
    let names = ["en", "fr", "da"].map(|l| CategoryName {
        language: lang(l),
        name: format!("General ({l})"),
        description: String::new(),
    });
    let category = kb.create_category(SiteId::DEFAULT, None, 0, &names).await.expect("category");
    let mut ids = Vec::new();
    for texts in [
        vec![
            ("en", "What cookies?", "We use few cookies.\n\n[[cookie-table]]"),
            ("fr", "Quels cookies ?", "Peu de cookies."),
            ("da", "Hvilke cookies?", "Få cookies."),
        ],
        vec![("en", "Getting help", "Search first, then comment."), ("fr", "Obtenir de l’aide", "Cherchez d’abord.")],
    ] {
        let article = kb.create_article(SiteId::DEFAULT, category, author.id).await.expect("article");
        for (l, title, body) in texts {
            kb.save_translation(SiteId::DEFAULT, article.id, lang(l), title, body).await.expect("translation");
        }
        kb.set_published(SiteId::DEFAULT, article.id, true).await.expect("publish");
        ids.push(article.id);
    }
    Seeded { cookies_article: ids[0], help_article: ids[1] }
}

fn html_lang(res: &Response) -> String {
    let html = res.text();
    let start = html.find("<html lang=\"").expect("an html lang") + 12;
    html[start..start + html[start..].find('"').expect("closed")].to_owned()
}

async fn consent(browser: &mut Browser, choice: &str) -> Response {
    let token = browser.token("/cookies").await;
    browser.post_form("/consent", &[("_csrf", &token), ("choice", choice), ("return_to", "/")]).await
}

async fn vote(browser: &mut Browser, article: ArticleId, helpful: &str) -> Response {
    let token = browser.token(&format!("/kb/a/{article}")).await;
    let res = browser.post_form(&format!("/kb/a/{article}/vote"), &[("_csrf", &token), ("helpful", helpful)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    res
}

async fn comment(browser: &mut Browser, article: ArticleId, body: &str) -> Response {
    let token = browser.token(&format!("/kb/a/{article}")).await;
    let fields = [("_csrf", token.as_str()), ("name", "Gus Guest"), ("body", body)];
    let res = browser.post_form(&format!("/kb/a/{article}/comments"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    res
}

fn as_refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn voted_yes(page: &Response) -> bool {
    page.text().contains(r#"id="vote-yes" aria-pressed="true""#)
}

fn assert_no_optional_cookie(browser: &Browser, what: &str) {
    for name in OPTIONAL {
        assert!(browser.cookie(name).is_none(), "{what}: {name} was set");
    }
}

#[tokio::test]
async fn accept_language_decides_until_the_picker_is_used_and_the_choice_ends_with_the_browser_session() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptIn).await;
    let mut browser = app.browser().with_header("accept-language", "fr-CH, fr;q=0.9, en;q=0.5");
    let home = browser.get("/").await;
    assert_eq!(html_lang(&home), "fr");
    assert!(home.text().contains("Centre d’aide"), "{}", home.text());

    let token = csrf_from(&home.text());
    let res = browser.post_form("/language", &[("_csrf", &token), ("lang", "da"), ("return_to", "/cookies")]).await;
    res.assert_redirect("/cookies");
    let value = browser.cookie(LANG).expect("the picker sets the language cookie").to_owned();
    assert_ne!(value, "da", "the cookie value is opaque");
    for path in ["/".to_owned(), format!("/kb/a/{}", s.cookies_article), "/cookies".into(), "/login".into()] {
        assert_eq!(html_lang(&browser.get(&path).await), "da", "{path}");
    }
    assert!(browser.get("/cookies").await.text().contains("Nødvendig"), "the cookie table is Danish too");

    browser.restart();
    assert!(browser.cookie(LANG).is_none(), "the language cookie is a session cookie");
    assert_eq!(html_lang(&browser.get("/").await), "fr", "a new browser session negotiates again");

    let token = browser.token("/").await;
    let res = browser.post_form("/language", &[("_csrf", &token), ("lang", "de"), ("return_to", "/")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "a language the site does not offer is refused");
}

#[tokio::test]
async fn an_article_missing_in_the_readers_language_falls_back_with_a_notice() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptIn).await;
    let mut browser = app.browser().with_header("accept-language", "da");
    let page = browser.get(&format!("/kb/a/{}", s.help_article)).await.text();
    assert!(page.contains("Getting help"), "the default language's text is shown");
    assert!(page.contains(r#"class="notice" role="note""#), "with a notice: {page}");
    let full = browser.get(&format!("/kb/a/{}", s.cookies_article)).await.text();
    assert!(full.contains("Hvilke cookies?") && !full.contains(r#"role="note""#));
}

#[tokio::test]
async fn the_cookies_article_embeds_the_live_registry_table_in_the_readers_language() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptIn).await;
    let page = app.browser().get(&format!("/kb/a/{}", s.cookies_article)).await.text();
    for d in app.registry.declarations() {
        assert!(page.contains(&d.name), "{} missing from the article's table", d.name);
    }
    assert!(!page.contains("[[cookie-table]]"));
}

#[tokio::test]
async fn opt_in_sets_nothing_optional_until_accepted_then_the_visitor_token_is_persistent() {
    let app = TestApp::new().await;
    seed(&app, ConsentMode::OptIn).await;
    let mut browser = app.browser();
    let home = browser.get("/").await;
    assert!(home.text().contains(r#"id="consent-accept""#), "the banner asks");
    assert_no_optional_cookie(&browser, "before a choice");

    consent(&mut browser, "accept").await.assert_redirect("/");
    let visitor = app.registry.get(tessera_cookies::CookieId::Visitor);
    assert!(browser.cookie(VISITOR).is_some(), "accepting issues the visitor token");
    assert!(browser.cookie(CONSENT).is_some(), "the choice is remembered");
    assert!(visitor.max_age_seconds.is_some_and(|s| s <= 400 * 86_400));
    let home = browser.get("/").await;
    assert!(!home.text().contains(r#"id="consent-accept""#), "the banner is gone once answered");
    browser.restart();
    assert!(browser.cookie(VISITOR).is_some() && browser.cookie(CONSENT).is_some(), "both survive a restart");
    assert!(!browser.get("/").await.text().contains(r#"id="consent-accept""#), "and the banner stays away");
}

#[tokio::test]
async fn a_guest_with_consent_is_recognised_after_a_restart_and_login_links_the_trail_to_the_person() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptIn).await;
    let alice = app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    consent(&mut browser, "accept").await;
    vote(&mut browser, s.cookies_article, "yes").await;
    comment(&mut browser, s.cookies_article, "Très utile, merci").await;

    // A week later, same browser: session cookies gone, the visitor token kept.
    browser.restart();
    app.advance(7 * 86_400);
    let page = browser.get(&format!("/kb/a/{}", s.cookies_article)).await;
    assert!(voted_yes(&page), "the vote shows as yours");
    assert!(page.text().contains("Très utile, merci") && page.text().contains("pending-note"), "your pending comment");
    let stranger = app.browser().get(&format!("/kb/a/{}", s.cookies_article)).await.text();
    assert!(!stranger.contains("Très utile, merci"), "nobody else sees a pending comment");

    browser.login_ok("", "alice@example.com", false).await;
    assert!(voted_yes(&browser.get(&format!("/kb/a/{}", s.cookies_article)).await), "still yours, logged in");
    let visitors = app.store.raw().visitors_of_person(alice.id).await.expect("visitors of alice");
    assert_eq!(visitors.len(), 1, "the browser's visitor is linked to the person");

    let mut agent = app.browser();
    agent.login_ok("/agent", "author@example.com", false).await;
    let profile = agent.get(&format!("/agent/visitors/{}", visitors[0].id)).await.text();
    for kind in ["Viewed", "Voted", "Commented"] {
        assert!(profile.contains(kind), "{kind} missing from the trail: {profile}");
    }
    assert!(profile.contains("alice@example.com"), "the profile names the person");
    let (viewed, voted, commented) = (
        profile.find("Viewed").unwrap_or(0),
        profile.find("Voted").unwrap_or(0),
        profile.find("Commented").unwrap_or(0),
    );
    assert!(viewed < voted && voted < commented, "in time order");
}

#[tokio::test]
async fn refusing_consent_keeps_optional_cookies_off_but_guest_votes_work_for_the_session() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptIn).await;
    let mut browser = app.browser();
    consent(&mut browser, "reject").await;
    assert!(!browser.get("/").await.text().contains(r#"id="consent-accept""#), "no more asking");
    vote(&mut browser, s.cookies_article, "yes").await;
    assert_no_optional_cookie(&browser, "after voting");
    assert!(browser.cookie(VISIT).is_some(), "the vote is tied to this browser session");
    assert!(voted_yes(&browser.get(&format!("/kb/a/{}", s.cookies_article)).await));
    vote(&mut browser, s.cookies_article, "no").await;
    let page = browser.get(&format!("/kb/a/{}", s.cookies_article)).await.text();
    assert!(page.contains(r#"id="vote-no" aria-pressed="true""#), "a vote can be changed");
    assert!(page.contains("0 found this helpful, 1 did not"), "never duplicated: {page}");

    browser.restart();
    assert!(!voted_yes(&browser.get(&format!("/kb/a/{}", s.cookies_article)).await));
    assert!(!browser.get(&format!("/kb/a/{}", s.cookies_article)).await.text().contains(r#"aria-pressed="true""#));
    assert_no_optional_cookie(&browser, "after a restart");
}

#[tokio::test]
async fn global_privacy_control_is_a_refusal_even_after_clicking_accept() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptOut).await;
    let mut browser = app.browser().with_header("sec-gpc", "1");
    let home = browser.get("/").await;
    assert!(!home.text().contains(r#"id="consent-accept""#), "no banner: the browser already said no");
    consent(&mut browser, "accept").await;
    vote(&mut browser, s.cookies_article, "yes").await;
    comment(&mut browser, s.cookies_article, "GPC comment").await;
    assert_no_optional_cookie(&browser, "with Sec-GPC: 1");
    let page = browser.get(&format!("/kb/a/{}", s.cookies_article)).await.text();
    assert!(page.contains("GPC comment"), "activity works within the session");
    let cookies = browser.get("/cookies").await.text();
    assert!(cookies.contains("Global Privacy Control"), "the cookie page says why");
}

#[tokio::test]
async fn opt_out_issues_the_visitor_token_at_once_and_a_refusal_takes_it_back() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptOut).await;
    let mut browser = app.browser();
    let home = browser.get("/").await;
    assert!(home.text().contains(r#"id="consent-reject""#), "the visitor is told and offered the refusal");
    let old = browser.cookie(VISITOR).expect("opt-out sets the visitor token on the first view").to_owned();
    vote(&mut browser, s.cookies_article, "yes").await;

    consent(&mut browser, "reject").await;
    assert!(browser.cookie(VISITOR).is_none(), "withdrawing deletes the optional cookie");
    // Even a copy of the old cookie no longer links anything.
    let mut copy = app.browser();
    copy.set_cookie(VISITOR, &old);
    assert!(!voted_yes(&copy.get(&format!("/kb/a/{}", s.cookies_article)).await), "the old token is dead");
}

#[tokio::test]
async fn a_forged_or_unknown_visitor_cookie_is_dropped_not_trusted() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::None).await;
    for value in ["garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let mut browser = app.browser();
        browser.set_cookie(VISITOR, value);
        let res = browser.get(&format!("/kb/a/{}", s.cookies_article)).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_ne!(browser.cookie(VISITOR), Some(value), "{value}: replaced, not kept");
    }
}

#[tokio::test]
async fn search_finds_published_articles_in_the_readers_language_and_survives_odd_input() {
    let app = TestApp::new().await;
    seed(&app, ConsentMode::OptIn).await;
    let mut browser = app.browser().with_header("accept-language", "fr");
    let found = browser.get("/search?q=cooki").await.text();
    assert!(found.contains("Quels cookies ?") && found.contains("<mark>"), "{found}");
    for odd in ["%22", "NEAR(a", "*", "a%20OR%20b", "title:x", "%3Cscript%3E"] {
        let res = browser.get(&format!("/search?q={odd}")).await;
        assert_eq!(res.status, StatusCode::OK, "{odd}");
        assert!(!res.text().contains("<script>"), "{odd} is escaped");
    }
}

#[tokio::test]
async fn registration_follows_the_site_setting_and_logs_the_new_person_in() {
    let app = TestApp::new().await;
    seed(&app, ConsentMode::OptIn).await;
    let mut browser = app.browser();
    let token = browser.token("/register").await;
    let fields =
        [("_csrf", token.as_str()), ("name", "Rita"), ("email", "rita@example.com"), ("password", "long enough")];
    browser.post_form("/register", &fields).await.assert_redirect("/account");
    assert!(browser.logged_in("").await);
    let again = app.browser().post_form("/register", &fields).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "no CSRF token, no account");

    let mut settings = app.store.site(SiteId::DEFAULT).await.expect("site").expect("exists").settings;
    settings.registration_open = false;
    app.store.update_site(SiteId::DEFAULT, &settings, app.now()).await.expect("close registration");
    app.state.sites_changed();
    let mut other = app.browser();
    let page = other.get("/register").await.text();
    assert!(!page.contains(r#"name="password""#), "the form is gone");
    let fields = [
        ("_csrf", csrf_from(&other.get("/login").await.text())),
        ("name", "Sam".into()),
        ("email", "sam@example.com".into()),
        ("password", "long enough".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(other.post_form("/register", &fields).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_agent_edits_previews_publishes_and_moderates() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptIn).await;
    let mut agent = app.browser();
    agent.login_ok("/agent", "author@example.com", false).await;
    let editor = format!("/agent/articles/{}", s.help_article);
    let token = agent.token(&editor).await;
    let fields = |action: &'static str, token: &str| {
        vec![
            ("_csrf".to_owned(), token.to_owned()),
            ("action".into(), action.into()),
            ("title.en".into(), "Getting help".into()),
            ("body.en".into(), "Ask **us**.\n\n<script>alert(1)</script>".into()),
            ("title.da".into(), "Få hjælp".into()),
            ("body.da".into(), "Spørg os.".into()),
        ]
    };
    let preview = agent.post_form(&editor, &as_refs(&fields("preview", &token))).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.text().contains("<strong>us</strong>") && !preview.text().contains("<script>alert"));
    let reader = app.browser().with_header("accept-language", "da").get(&format!("/kb/a/{}", s.help_article)).await;
    assert!(!reader.text().contains("Få hjælp"), "a preview saves nothing");

    let token = agent.token(&editor).await;
    agent.post_form(&editor, &as_refs(&fields("save", &token))).await.assert_redirect(&format!("{editor}?done=saved"));
    let reader = app.browser().with_header("accept-language", "da").get(&format!("/kb/a/{}", s.help_article)).await;
    assert!(reader.text().contains("Få hjælp"), "the Danish translation is live");

    let token = agent.token(&editor).await;
    agent.post_form(&editor, &as_refs(&fields("unpublish", &token))).await;
    assert_eq!(app.browser().get(&format!("/kb/a/{}", s.help_article)).await.status, StatusCode::NOT_FOUND);

    let mut guest = app.browser();
    comment(&mut guest, s.cookies_article, "Please approve me").await;
    let queue = agent.get("/agent/comments").await.text();
    assert!(queue.contains("Please approve me"));
    let start = queue.find("action=\"/agent/comments/").expect("a moderation form") + 24;
    let id = &queue[start..start + queue[start..].find('"').expect("closed")];
    let token = csrf_from(&queue);
    agent.post_form(&format!("/agent/comments/{id}"), &[("_csrf", &token), ("decision", "approve")]).await;
    let public = app.browser().get(&format!("/kb/a/{}", s.cookies_article)).await.text();
    assert!(public.contains("Please approve me") && !public.contains("pending-note"), "approved comments are public");
}

#[tokio::test]
async fn agent_remember_me_remembers_the_site_id_for_the_login_form() {
    let app = TestApp::new().await;
    seed(&app, ConsentMode::OptIn).await;
    let mut agent = app.browser();
    agent.login_ok("/agent", "author@example.com", false).await;
    assert!(agent.cookie("__Host-ts_agent_site").is_none(), "not without Remember me");
    agent.logout("/agent").await;
    agent.login_ok("/agent", "author@example.com", true).await;
    assert!(agent.cookie("__Host-ts_agent_site").is_some());
    agent.logout("/agent").await;
    let form = agent.get("/agent/login").await.text();
    assert!(form.contains(r#"required value="1001""#), "the site ID is filled in: {form}");
    agent.set_cookie("__Host-ts_agent_site", "forged");
    assert!(!agent.get("/agent/login").await.text().contains(r#"value="1001""#), "a forged hint is ignored");
}

#[tokio::test]
async fn one_address_cannot_flood_the_moderation_queue() {
    let app = TestApp::new().await;
    let s = seed(&app, ConsentMode::OptIn).await;
    let mut guest = app.browser().at_ip("203.0.113.7");
    for n in 0..20 {
        comment(&mut guest, s.cookies_article, &format!("comment {n}")).await;
    }
    let token = guest.token(&format!("/kb/a/{}", s.cookies_article)).await;
    let fields = [("_csrf", token.as_str()), ("name", "Gus"), ("body", "one too many")];
    let res = guest.post_form(&format!("/kb/a/{}/comments", s.cookies_article), &fields).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    let mut neighbour = app.browser().at_ip("203.0.113.8");
    comment(&mut neighbour, s.cookies_article, "another address is not affected").await;
    app.advance(3_601);
    comment(&mut guest, s.cookies_article, "an hour later").await;
}

#[tokio::test]
async fn account_pages_follow_the_page_language() {
    let app = TestApp::new().await;
    seed(&app, ConsentMode::OptIn).await;
    app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser().with_header("accept-language", "fr");
    browser.login_ok("", "alice@example.com", false).await;

    let sessions = browser.get("/account/sessions").await.text();
    assert!(sessions.contains("<h1>Vos sessions et appareils mémorisés</h1>"), "{sessions}");
    assert!(sessions.contains("Cet appareil") && sessions.contains("Adresse IP"), "{sessions}");
    assert!(sessions.contains(r#"aria-label="Révoquer la session ouverte le "#), "{sessions}");
    assert!(!sessions.contains("This device") && !sessions.contains(">Revoke<"), "no English left: {sessions}");
    let notice = browser.get("/account/sessions?done=revoked").await.text();
    assert!(notice.contains("La session a été révoquée."), "{notice}");

    let token = browser.token("/account/password").await;
    let fields =
        [("_csrf", token.as_str()), ("current", "not it"), ("new", "a-new-secret"), ("confirm", "a-new-secret")];
    let refused = browser.post_form("/account/password", &fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("Le mot de passe actuel est incorrect."), "{}", refused.text());

    let mut danish = app.browser().with_header("accept-language", "da");
    danish.login_ok("", "alice@example.com", false).await;
    let email = danish.get("/account/email").await.text();
    assert!(email.contains("<strong>alice@example.com</strong>") && email.contains("Ny e-mailadresse"), "{email}");
}

#[tokio::test]
async fn an_agent_nests_categories_that_readers_see_with_breadcrumbs_in_their_language() {
    let app = TestApp::new().await;
    seed(&app, ConsentMode::OptIn).await;
    let mut agent = app.browser();
    agent.login_ok("/agent", "author@example.com", false).await;
    let token = agent.token("/agent/articles").await;
    let top = [("_csrf", token.as_str()), ("parent", ""), ("name.en", "Billing"), ("name.fr", "Facturation")];
    agent.post_form("/agent/categories", &top).await.assert_redirect("/agent/articles?done=created");
    let tree = app.state.kb().tree(SiteId::DEFAULT).await.expect("tree");
    let billing = tree.iter().find(|c| c.names.iter().any(|n| n.name == "Billing")).expect("created").id;
    let parent = billing.to_string();
    let child = [("_csrf", token.as_str()), ("parent", parent.as_str()), ("name.en", "Invoices")];
    agent.post_form("/agent/categories", &child).await.assert_redirect("/agent/articles?done=created");
    let no_name = [("_csrf", token.as_str()), ("parent", ""), ("name.fr", "Sans nom anglais")];
    assert_eq!(agent.post_form("/agent/categories", &no_name).await.status, StatusCode::BAD_REQUEST);

    let tree = app.state.kb().tree(SiteId::DEFAULT).await.expect("tree");
    let invoices = tree.children(Some(billing)).next().expect("nested").id;
    let page = app.browser().with_header("accept-language", "fr").get(&format!("/kb/c/{invoices}")).await.text();
    assert!(page.contains("Facturation") && page.contains("Invoices"), "breadcrumbs, names falling back: {page}");
    let mut user = app.browser();
    let token = user.token("/").await;
    let forged = [("_csrf", token.as_str()), ("parent", ""), ("name.en", "Spam")];
    assert_ne!(user.post_form("/agent/categories", &forged).await.status, StatusCode::SEE_OTHER);
}
