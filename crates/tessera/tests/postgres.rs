//! End to end: an embedded (SQLite) install moves to PostgreSQL with
//! `tessera export` / `tessera import`, and a browser that only kept its
//! remember-me cookie is logged in again by the server now running on
//! PostgreSQL with the same data directory (same secret key).
//!
//! Needs a PostgreSQL cluster: the admin URL in `TESSERA_TEST_POSTGRES`
//! (`eval "$(.ci/postgres.sh start)"`); without it the test says so and
//! passes, unless `TESSERA_REQUIRE_CLUSTER=1`.

mod common;

use std::path::Path;
use std::process::Command;

use common::http::Browser;
use common::{BIN, Server, add_user};
use tessera_core::{Language, SiteId, Timestamp, VisitorToken};
use tessera_store::{
    Author, ChatOwner, ConversationStore, KnowledgeBaseStore, NewConversation, PersonStore, RememberStore, SiteStore,
    VisitorStore,
};
use tessera_store_postgres::testing::fresh_database;
use tessera_store_sqlite::SqliteStore;

const REMEMBER: &str = "__Host-ts_remember_portal";
const SESSION: &str = "__Host-ts_portal";

fn run(args: &[&str], data: &Path) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).arg("--data").arg(data).output().expect("run tessera");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn site() -> SiteId {
    SiteId::new(1001).expect("site ID")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_install_moves_to_postgres_and_remember_me_logs_the_browser_in_again() {
    let Some(db) = fresh_database().await else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");

    // 1. The embedded install: a user, demo articles, a login with "Remember me".
    assert!(add_user(&data, "ann@example.com", "user").status.success());
    let server = Server::start_with(&data, &["--demo"]);
    let mut before = Browser::new();
    before.login(&server.base, "", "ann@example.com", true, &[]).await;
    let remember = before.jar.get(REMEMBER).cloned().expect("a remember-me cookie");
    let session = before.jar.get(SESSION).cloned().expect("a session cookie");
    server.stop();

    // A visitor with a conversation, written straight into the SQLite file.
    let visitor_token = VisitorToken::generate().hash();
    let conversation = {
        let sqlite = SqliteStore::open(&data.join("tessera.db")).await.expect("open SQLite");
        let now = Timestamp::from_unix(1_700_000_000);
        let visitor = sqlite.create_visitor(site(), &visitor_token, true, now).await.expect("visitor");
        let owner = ChatOwner { visitor: Some(visitor.id), verified_user: None };
        let new =
            NewConversation { site_id: site(), owner, visitor_name: "Guest".to_owned(), visitor_email: String::new() };
        let chat = sqlite.create_conversation(&new, now).await.expect("conversation");
        for body in ["Hello?", "Anyone there?"] {
            sqlite.append_message(chat.id, Author::Visitor, body, None, now).await.expect("message");
        }
        sqlite.pool().close().await;
        chat.id
    };

    // 2. Export, migrate the new database, import.
    let file = dir.path().join("export.jsonl");
    let (ok, _, err) = run(&["export", "--out", file.to_str().expect("UTF-8 path")], &data);
    assert!(ok, "export: {err}");
    let url = db.url().to_owned();
    let (ok, out, err) = run(&["migrate", "--database", &url], &data);
    assert!(ok && out.contains("version 4"), "migrate: {out} {err}");
    let import = ["import", "--database", &url, file.to_str().expect("UTF-8 path")];
    let (ok, out, err) = run(&import, &data);
    assert!(ok && out.contains("Imported"), "import: {out} {err}");
    let (ok, _, err) = run(&import, &data);
    assert!(!ok && err.contains("not empty"), "a second import is refused: {err}");

    // 3. The same data directory (same key), now on PostgreSQL.
    let server = Server::start_with(&data, &["--database", &url]);
    let mut kept_session = Browser::new();
    kept_session.jar.insert(SESSION.to_owned(), session);
    let page = kept_session.get(&format!("{}/account", server.base)).await;
    assert_eq!(page.status, 200, "the session moved too");
    assert!(page.body.contains("ann@example.com"));

    let mut restarted = Browser::new();
    restarted.jar.insert(REMEMBER.to_owned(), remember.clone());
    let page = restarted.get(&format!("{}/account", server.base)).await;
    assert_eq!(page.status, 200, "remember-me logs the browser in on PostgreSQL");
    assert!(page.body.contains("ann@example.com"));
    assert!(restarted.jar.contains_key(SESSION), "a new session was issued");
    assert_ne!(restarted.jar.get(REMEMBER), Some(&remember), "the remember-me token rotated");

    let page = Browser::new().get(&format!("{}/search?q=password", server.base)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("How do I change my password?"), "the search index was rebuilt");
    server.stop();

    // 4. Everything else is there, and sequences go on after the imported rows.
    let store = db.store().await;
    let ann = store
        .person_by_email(site(), &tessera_core::Email::parse("ann@example.com").expect("email"))
        .await
        .expect("person")
        .expect("ann moved");
    assert_eq!(store.remember_of_person(ann.id).await.expect("series").len(), 1, "one rotated series");
    assert_eq!(store.articles(site(), true).await.expect("articles").len(), 3);
    let visitor = store.visitor_by_token(&visitor_token).await.expect("visitor").expect("the visitor moved");
    let chat = store.conversation(conversation).await.expect("conversation").expect("the conversation moved");
    assert_eq!((chat.owner.visitor, chat.last_seq), (Some(visitor.id), 2));
    let next = store
        .append_message(conversation, Author::Visitor, "Still here", None, Timestamp::from_unix(1_700_000_100))
        .await
        .expect("append")
        .expect("open conversation");
    assert_eq!(next.message.seq, 3);
    let hits =
        store.search(site(), &Language::parse("fr").expect("fr"), &["passe".to_owned()], 5).await.expect("search");
    assert!(!hits.is_empty(), "French articles are indexed too");
    assert!(store.site(site()).await.expect("site").is_some());
    store.close().await;
    db.drop_database().await;
}
