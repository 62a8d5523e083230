//! The admin interface's sites and people: creating a site and editing every
//! setting (with refusals that name the wrong value and change nothing), the
//! cookie declaration preview, creating people who can then log in, password
//! resets that end the person's sessions, and who may reach these pages.

mod common;

use axum::body::Body;
use common::*;
use http::{Method, StatusCode, header};
use tessera_core::{ConsentMode, Role, SiteId, SolutionType};
use tessera_store::{Site, SiteStore};

/// A logged-in admin of the default site.
async fn admin(app: &TestApp) -> Browser {
    app.person("root@example.com", Role::Admin).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;
    admin
}

async fn stored_site(app: &TestApp, id: u32) -> Site {
    let id = SiteId::new(id).expect("a valid site ID");
    app.store.raw().site(id).await.expect("read the site").expect("the site exists")
}

/// Creates site `id` through the form.
async fn create_site(admin: &mut Browser, id: &str, name: &str) -> Response {
    let token = admin.token("/admin/sites").await;
    admin.post_form("/admin/sites", &[("_csrf", &token), ("site_id", id), ("name", name)]).await
}

/// The settings form of a site, every field given.
struct Settings<'a> {
    name: &'a str,
    hosts: &'a str,
    origins: &'a str,
    languages: &'a [&'a str],
    default_language: &'a str,
    solution_type: &'a str,
    consent_mode: &'a str,
    registration_open: bool,
}

impl Default for Settings<'_> {
    fn default() -> Self {
        Self {
            name: "Nordic help",
            hosts: "",
            origins: "",
            languages: &["en"],
            default_language: "en",
            solution_type: "third_party",
            consent_mode: "opt_in",
            registration_open: true,
        }
    }
}

async fn save_site(admin: &mut Browser, id: u32, s: &Settings<'_>) -> Response {
    let path = format!("/admin/sites/{id}");
    let token = admin.token(&path).await;
    let mut fields = vec![
        ("_csrf", token.as_str()),
        ("name", s.name),
        ("hosts", s.hosts),
        ("origins", s.origins),
        ("default_language", s.default_language),
        ("solution_type", s.solution_type),
        ("consent_mode", s.consent_mode),
    ];
    fields.extend(s.languages.iter().map(|l| ("languages", *l)));
    if s.registration_open {
        fields.push(("registration_open", "on"));
    }
    admin.post_form(&path, &fields).await
}

/// The `lang` of the Help Center home page served on `host`.
async fn home_language_on(app: &TestApp, host: &str) -> String {
    let req = http::Request::get("/").header(header::HOST, host).body(Body::empty()).expect("a valid request");
    let html = app.send(req).await.text();
    let start = html.find("<html lang=\"").expect("the page names its language") + "<html lang=\"".len();
    html[start..start + html[start..].find('"').expect("closed attribute")].to_owned()
}

#[tokio::test]
async fn an_admin_creates_a_site_and_edits_its_hosts_languages_and_consent_mode() {
    let app = TestApp::new().await;
    let mut admin = admin(&app).await;

    create_site(&mut admin, "2002", "Nordic help").await.assert_redirect("/admin/sites/2002?done=created");
    let list = admin.get("/admin/sites").await.text();
    assert!(list.contains("/admin/sites/2002") && list.contains("Nordic help"), "{list}");
    let created = stored_site(&app, 2002).await;
    assert_eq!(created.settings.consent_mode, ConsentMode::OptIn);
    assert!(created.settings.hosts.is_empty());
    assert_eq!(home_language_on(&app, "help.nordic.example").await, "en", "an unknown host gets the default site");

    let settings = Settings {
        name: "Nordic help desk",
        hosts: "help.nordic.example\r\n\r\nHELP.Nordic.example\r\nlocalhost:8081",
        origins: "https://shop.nordic.example/\nhttp://localhost:3000",
        languages: &["da", "en"],
        default_language: "da",
        solution_type: "first_party_persistent",
        consent_mode: "opt_out",
        registration_open: false,
    };
    save_site(&mut admin, 2002, &settings).await.assert_redirect("/admin/sites/2002?done=saved");

    let s = stored_site(&app, 2002).await.settings;
    assert_eq!(s.name, "Nordic help desk");
    let hosts: Vec<&str> = s.hosts.iter().map(|h| h.as_str()).collect();
    assert_eq!(hosts, ["help.nordic.example", "localhost:8081"], "lower-cased, blank lines and duplicates dropped");
    let origins: Vec<&str> = s.embed_origins.iter().map(|o| o.as_str()).collect();
    assert_eq!(origins, ["https://shop.nordic.example", "http://localhost:3000"]);
    let languages: Vec<&str> = s.languages.iter().map(|l| l.as_str()).collect();
    assert_eq!(languages, ["en", "da"], "catalogue order, whatever the form's order");
    assert_eq!(s.default_language.as_str(), "da");
    assert_eq!(s.solution_type, SolutionType::FirstPartyPersistent);
    assert_eq!(s.consent_mode, ConsentMode::OptOut);
    assert!(!s.registration_open);

    // The page shows what was saved...
    let page = admin.get("/admin/sites/2002?done=saved").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("class=\"notice\""), "{html}");
    assert!(html.contains("help.nordic.example\nlocalhost:8081</textarea>"), "{html}");
    assert!(html.contains("value=\"da\" checked"), "{html}");
    assert!(!html.contains("value=\"fr\" checked"), "{html}");
    assert!(html.contains("value=\"opt_out\" checked"), "{html}");
    assert!(html.contains("<option value=\"first_party_persistent\" selected>"), "{html}");
    assert!(!html.contains("name=\"registration_open\" value=\"on\" checked"), "{html}");
    // ...and the site answers on its new host at once, in its default language.
    assert_eq!(home_language_on(&app, "help.nordic.example").await, "da");
    let list = admin.get("/admin/sites").await.text();
    assert!(list.contains("help.nordic.example, localhost:8081") && list.contains("opt_out"), "{list}");
}

#[tokio::test]
async fn a_site_id_that_is_taken_or_malformed_is_refused_on_the_form() {
    let app = TestApp::new().await;
    let mut admin = admin(&app).await;
    let res = create_site(&mut admin, "1001", "Again").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.text().contains("Site ID 1001 is already taken"), "{}", res.text());
    assert!(res.text().contains("value=\"Again\""), "the admin's input comes back: {}", res.text());
    assert_eq!(stored_site(&app, 1001).await.settings.name, "Default site");
    for bad in ["0", "abc", "1234567890"] {
        let res = create_site(&mut admin, bad, "Bad").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(res.text().contains("site ID must be a number"), "{}", res.text());
    }
    let sites = app.store.raw().sites().await.expect("read the sites");
    assert_eq!(sites.len(), 1, "nothing was created");
}

#[tokio::test]
async fn a_host_taken_by_another_site_is_refused_and_nothing_changes() {
    let app = TestApp::new().await;
    let mut admin = admin(&app).await;
    create_site(&mut admin, "2002", "Nordic help").await.assert_redirect("/admin/sites/2002?done=created");
    create_site(&mut admin, "3003", "Other help").await.assert_redirect("/admin/sites/3003?done=created");
    let taken = Settings { name: "Other help", hosts: "help.taken.example", ..Settings::default() };
    save_site(&mut admin, 3003, &taken).await.assert_redirect("/admin/sites/3003?done=saved");
    let before = stored_site(&app, 2002).await;

    let grab = Settings {
        name: "Renamed",
        hosts: "help.free.example\nHelp.Taken.example",
        consent_mode: "none",
        ..Settings::default()
    };
    let res = save_site(&mut admin, 2002, &grab).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let html = res.text();
    assert!(html.contains("help.taken.example is already used by another site"), "{html}");
    assert!(html.contains("Nothing was saved"), "{html}");
    assert!(html.contains("value=\"Renamed\""), "the admin's input comes back: {html}");
    assert!(html.contains("help.free.example\nHelp.Taken.example</textarea>"), "{html}");
    assert!(html.contains("value=\"none\" checked"), "{html}");
    assert_eq!(stored_site(&app, 2002).await, before, "nothing changed");
    assert_eq!(stored_site(&app, 3003).await.settings.hosts.len(), 1);
    assert_eq!(home_language_on(&app, "help.free.example").await, "en");
}

#[tokio::test]
async fn an_invalid_origin_line_is_refused_naming_the_line() {
    let app = TestApp::new().await;
    let mut admin = admin(&app).await;
    create_site(&mut admin, "2002", "Nordic help").await.assert_redirect("/admin/sites/2002?done=created");
    let before = stored_site(&app, 2002).await;

    let bad_origin = Settings {
        hosts: "help.nordic.example",
        origins: "https://shop.nordic.example\n\nhttp://shop.example.com",
        ..Settings::default()
    };
    let res = save_site(&mut admin, 2002, &bad_origin).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let html = res.text();
    assert!(html.contains("Allowed embedding origins, line 3: &#34;http://shop.example.com&#34;"), "{html}");
    assert!(html.contains("https://shop.nordic.example\n\nhttp://shop.example.com</textarea>"), "{html}");

    let bad_host = Settings { hosts: "help.nordic.example\nnot a host", ..Settings::default() };
    let html = save_site(&mut admin, 2002, &bad_host).await.text();
    assert!(html.contains("Host names, line 2: &#34;not a host&#34;"), "{html}");

    let default_not_offered = Settings { languages: &["en", "fr"], default_language: "da", ..Settings::default() };
    let res = save_site(&mut admin, 2002, &default_not_offered).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.text().contains("Default language: &#34;da&#34; must be one of the offered languages"),
        "{}",
        res.text()
    );

    let unknown_language = Settings { languages: &["en", "de"], ..Settings::default() };
    let res = save_site(&mut admin, 2002, &unknown_language).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.text().contains("&#34;de&#34; is not an available language"), "{}", res.text());

    let no_language = Settings { languages: &[], ..Settings::default() };
    assert_eq!(save_site(&mut admin, 2002, &no_language).await.status, StatusCode::BAD_REQUEST);
    let bad_mode = Settings { consent_mode: "maybe", ..Settings::default() };
    assert_eq!(save_site(&mut admin, 2002, &bad_mode).await.status, StatusCode::BAD_REQUEST);

    assert_eq!(stored_site(&app, 2002).await, before, "nothing was saved");
}

#[tokio::test]
async fn the_preview_shows_the_cookie_declaration_in_the_chosen_site_language_and_the_consent_mode() {
    let app = TestApp::new().await;
    let mut admin = admin(&app).await;
    create_site(&mut admin, "2002", "Nordic help").await.assert_redirect("/admin/sites/2002?done=created");
    let settings = Settings { languages: &["en", "fr"], default_language: "en", ..Settings::default() };
    save_site(&mut admin, 2002, &settings).await.assert_redirect("/admin/sites/2002?done=saved");

    let english = admin.get("/admin/sites/2002").await.text();
    assert!(english.contains("lang=\"en\" id=\"preview-table\""), "{english}");
    assert!(english.contains("<code>__Host-ts_csrf</code>"), "{english}");
    assert!(english.contains("A security token that is sent with every form"), "{english}");
    assert!(english.contains("are set only after the visitor accepts"), "{english}");

    let french = admin.get("/admin/sites/2002?preview=fr").await.text();
    assert!(french.contains("lang=\"fr\" id=\"preview-table\""), "{french}");
    assert!(french.contains("Un jeton de sécurité envoyé avec chaque formulaire"), "{french}");
    assert!(french.contains("<option value=\"fr\" lang=\"fr\" selected>"), "{french}");

    // A language the site does not offer falls back to its default.
    let danish = admin.get("/admin/sites/2002?preview=da").await.text();
    assert!(danish.contains("lang=\"en\" id=\"preview-table\""), "{danish}");

    let opt_out = Settings { languages: &["en", "fr"], consent_mode: "opt_out", ..Settings::default() };
    save_site(&mut admin, 2002, &opt_out).await.assert_redirect("/admin/sites/2002?done=saved");
    let html = admin.get("/admin/sites/2002").await.text();
    assert!(
        html.contains("Consent mode <code>opt_out</code>") && html.contains("are set from the first visit"),
        "{html}"
    );
}

#[tokio::test]
async fn an_admin_creates_an_agent_who_can_then_log_in_at_the_agent_interface() {
    let app = TestApp::new().await;
    let mut admin = admin(&app).await;
    let token = admin.token("/admin/people").await;
    let dana = [
        ("_csrf", token.as_str()),
        ("name", "Dana Weaver"),
        ("email", "dana@example.com"),
        ("role", "agent"),
        ("password", "agent-password-1"),
    ];
    admin.post_form("/admin/people/create", &dana).await.assert_redirect("/admin/people?done=created");
    let people = admin.get("/admin/people?done=created").await.text();
    assert!(people.contains("dana@example.com") && people.contains("The person was created"), "{people}");

    let mut agent = app.browser();
    let res = agent.login("/agent", "dana@example.com", "agent-password-1", false, Some(1001)).await;
    res.assert_redirect("/agent/account");
    assert!(agent.logged_in("/agent").await);

    // The same email again, and a short password: refused, the input kept, nobody created.
    let res = admin.post_form("/admin/people/create", &dana).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.text().contains("there is already a person with the address dana@example.com"), "{}", res.text());
    let mut short = dana;
    short[2] = ("email", "eve@example.com");
    short[4] = ("password", "short");
    let res = admin.post_form("/admin/people/create", &short).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.text().contains("at least 8 characters") && res.text().contains("value=\"eve@example.com\""));
    assert!(!res.text().contains("value=\"short\""), "the password is never echoed");
    let site = app.store.raw();
    let people = tessera_store::PersonStore::people(site, SiteId::DEFAULT).await.expect("read people");
    assert_eq!(people.len(), 2, "root and dana only");
}

#[tokio::test]
async fn resetting_a_password_ends_the_persons_sessions_and_the_new_password_works() {
    let app = TestApp::new().await;
    let mut admin = admin(&app).await;
    let alice = app.person("alice@example.com", Role::Agent).await;
    let mut alice_browser = app.browser();
    alice_browser.login_ok("/agent", "alice@example.com", true).await;
    let mut alice_portal = app.browser();
    alice_portal.login_ok("", "alice@example.com", false).await;
    let id = alice.id.to_string();

    // Too short: refused, nothing ends.
    let token = admin.token("/admin/people").await;
    let res =
        admin.post_form("/admin/people/password", &[("_csrf", &token), ("person", &id), ("password", "short")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.text().contains("at least 8 characters"), "{}", res.text());
    assert!(alice_browser.logged_in("/agent").await);

    let fields = [("_csrf", token.as_str()), ("person", &id), ("password", "a-brand-new-secret")];
    admin.post_form("/admin/people/password", &fields).await.assert_redirect("/admin/people?done=reset");
    assert!(admin.get("/admin/people?done=reset").await.text().contains("The password was reset"));

    // Her next requests are logged out, remembered device included.
    assert!(!alice_browser.logged_in("/agent").await);
    assert!(!alice_portal.logged_in("").await);
    assert!(app.password_is(alice.id, "a-brand-new-secret").await);
    let old = app.browser().login("/agent", "alice@example.com", PASSWORD, false, Some(1001)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = alice_browser.login("/agent", "alice@example.com", "a-brand-new-secret", false, Some(1001)).await;
    new.assert_redirect("/agent/account");
    // The admin's own session goes on, and an admin cannot reset their own password here.
    let root = app.store.raw();
    let root = tessera_store::PersonStore::person_by_email(
        root,
        SiteId::DEFAULT,
        &tessera_core::Email::parse("root@example.com").expect("email"),
    )
    .await
    .expect("read")
    .expect("root exists");
    let fields = [("_csrf", token.as_str()), ("person", &root.id.to_string()), ("password", "another-secret")];
    assert_eq!(admin.post_form("/admin/people/password", &fields).await.status, StatusCode::BAD_REQUEST);
    assert!(admin.logged_in("/admin").await);
}

#[tokio::test]
async fn an_agent_session_gets_no_access_to_the_admin_sites_pages() {
    let app = TestApp::new().await;
    app.person("carol@example.com", Role::Agent).await;
    let mut carol = app.browser();
    let agent_session = carol.login_ok("/agent", "carol@example.com", false).await;

    for path in ["/admin/sites", "/admin/sites/1001"] {
        carol.get(path).await.assert_redirect("/admin/login");
    }
    // The agent session cookie presented as an admin one is no session there either.
    let mut replayed = replay(&app, ADMIN_COOKIE, &agent_session);
    replayed.get("/admin/sites").await.assert_redirect("/admin/login");
    // An agent cannot log into the admin interface to get one.
    let res = carol.login("/admin", "carol@example.com", PASSWORD, false, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    carol.get("/admin/sites").await.assert_redirect("/admin/login");
    // A forged post without an admin session changes nothing.
    let token = carol.token("/admin/login").await;
    let req = carol
        .builder(Method::POST, "/admin/sites")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form(&[("_csrf", &token), ("site_id", "4004"), ("name", "Sneaky")])))
        .expect("a valid request");
    let res = carol.send(req).await;
    let refused = res.status == StatusCode::FORBIDDEN || res.location() == Some("/admin/login");
    assert!(refused, "{} {:?}: {}", res.status, res.location(), res.text());
    assert!(app.store.raw().site(SiteId::new(4004).expect("id")).await.expect("read").is_none());
}

#[tokio::test]
async fn an_admin_of_another_site_manages_only_that_site() {
    let app = TestApp::new().await;
    let mut root = admin(&app).await;
    create_site(&mut root, "2002", "Nordic help").await.assert_redirect("/admin/sites/2002?done=created");
    let nordic = Settings { hosts: "help.nordic.example", ..Settings::default() };
    save_site(&mut root, 2002, &nordic).await.assert_redirect("/admin/sites/2002?done=saved");
    let site = SiteId::new(2002).expect("id");
    app.person_on(site, "nils@example.com", Role::Admin).await;

    // Nils logs in on his site's host.
    let mut nils = app.browser();
    let at =
        |b: &Browser, method: Method, path: &str| b.builder(method, path).header(header::HOST, "help.nordic.example");
    let page = nils.send(at(&nils, Method::GET, "/admin/login").body(Body::empty()).expect("request")).await;
    let token = csrf_from(&page.text());
    let login = form(&[("_csrf", &token), ("email", "nils@example.com"), ("password", PASSWORD)]);
    let req = at(&nils, Method::POST, "/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(login))
        .expect("request");
    nils.send(req).await.assert_redirect("/admin/account");

    let list = nils.send(at(&nils, Method::GET, "/admin/sites").body(Body::empty()).expect("request")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("/admin/sites/2002") && !list.text().contains("/admin/sites/1001"), "{}", list.text());
    assert!(!list.text().contains("action=\"/admin/sites\""), "no create form: {}", list.text());
    let other = nils.send(at(&nils, Method::GET, "/admin/sites/1001").body(Body::empty()).expect("request")).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let own = nils.send(at(&nils, Method::GET, "/admin/sites/2002").body(Body::empty()).expect("request")).await;
    assert_eq!(own.status, StatusCode::OK);

    let token = csrf_from(&own.text());
    let create = form(&[("_csrf", &token), ("site_id", "5005"), ("name", "Mine now")]);
    let req = at(&nils, Method::POST, "/admin/sites")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(create))
        .expect("request");
    assert_eq!(nils.send(req).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.raw().sites().await.expect("read").len(), 2);
}
