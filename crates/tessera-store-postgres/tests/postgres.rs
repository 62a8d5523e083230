//! What the conformance suite cannot see from one store: two nodes (two
//! connection pools) racing on one database, the import, and the cost of
//! batched page-event writes. Same skip rule as `conformance.rs`.

use std::time::Instant;

use serde_json::{Map, Value, json};
use tessera_core::{
    DisplayName, Email, Interface, MonitorSessionId, RememberToken, Role, SiteId, Timestamp, TokenHash, VisitorId,
    VisitorToken,
};
use tessera_store::{
    Author, ChatOwner, ConversationStore, KnowledgeBaseStore, MonitorStore, NewConversation, NewMonitorSession,
    NewPerson, PageEvent, PersonStore, RememberRecord, RememberStore, SessionStore, SiteStore, ThrottleStore,
    VisitorStore,
};
use tessera_store_postgres::PostgresStore;
use tessera_store_postgres::import::TABLES;
use tessera_store_postgres::testing::{TestDatabase, fresh_database};

const T0: i64 = 1_000_000_000;

fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix(T0 + offset)
}

fn site() -> SiteId {
    SiteId::new(1001).expect("site ID")
}

/// A fresh database and two stores on it: two nodes.
async fn two_nodes() -> Option<(TestDatabase, PostgresStore, PostgresStore)> {
    let db = fresh_database().await?;
    let a = db.store().await;
    let b = db.store().await;
    a.ensure_site(site(), "Race", at(0)).await.expect("ensure_site");
    Some((db, a, b))
}

/// Runs `make(store, i)` for i in 0..n on a multi-threaded runtime, half on
/// each node, and returns the outputs in order of i.
async fn race<T, F, Fut>(a: &PostgresStore, b: &PostgresStore, n: usize, make: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(PostgresStore, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> =
        (0..n).map(|i| tokio::spawn(make(if i % 2 == 0 { a.clone() } else { b.clone() }, i))).collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

async fn person(store: &PostgresStore, address: &str) -> tessera_core::PersonId {
    let new = NewPerson {
        site_id: site(),
        email: Email::parse(address).expect("email"),
        name: DisplayName::parse("Racer").expect("name"),
        role: Role::Agent,
        password_hash: "x".to_owned(),
    };
    store.create_person(&new, at(0)).await.expect("create_person").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_rotating_one_remember_me_series_have_exactly_one_winner() {
    let Some((_db, a, b)) = two_nodes().await else { return };
    let person = person(&a, "rot@example.com").await;
    let token = RememberToken::generate();
    let first = token.validator.hash();
    a.insert_remember(&RememberRecord {
        selector: token.selector,
        person_id: person,
        site_id: site(),
        interface: Interface::Portal,
        validator_hash: first,
        previous_hash: None,
        rotated_at: at(0),
        created_at: at(0),
        expires_at: at(1000),
        ip: None,
        user_agent: None,
    })
    .await
    .expect("insert_remember");
    let selector = token.selector;
    let wins = race(&a, &b, 24, move |store, _| async move {
        let next = RememberToken::generate().validator.hash();
        store.rotate_remember(&selector, &first, &next, at(5)).await.expect("rotate")
    })
    .await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "exactly one rotation wins: {wins:?}");
    let series = a.remember(&selector).await.expect("remember").expect("the series");
    assert_eq!(series.previous_hash, Some(first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_appending_messages_get_consecutive_numbers_and_a_resend_is_stored_once() {
    let Some((_db, a, b)) = two_nodes().await else { return };
    let owner = ChatOwner { visitor: None, verified_user: Some("u".to_owned()) };
    let new = NewConversation { site_id: site(), owner, visitor_name: String::new(), visitor_email: String::new() };
    let chat = a.create_conversation(&new, at(0)).await.expect("create_conversation").id;
    let appended = race(&a, &b, 40, move |store, i| async move {
        // Every fourth message is sent twice (same client key), from both nodes.
        let key = format!("k{}", if i % 4 == 1 { i - 1 } else { i });
        store.append_message(chat, Author::Visitor, "hi", Some(&key), at(1)).await.expect("append")
    })
    .await;
    let created = appended.iter().flatten().filter(|a| a.created).count();
    assert_eq!(created, 30, "ten resends are recognised");
    let messages = a.messages_after(chat, 0, 100).await.expect("messages_after");
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<u64>>(), "consecutive, none shared or skipped");
    let conversation = a.conversation(chat).await.expect("conversation").expect("exists");
    assert_eq!(conversation.last_seq, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_starting_visits_of_one_visitor_number_them_without_repeats() {
    let Some((_db, a, b)) = two_nodes().await else { return };
    let visitor = a.create_visitor(site(), &VisitorToken::generate().hash(), true, at(0)).await.expect("visitor");
    let id = visitor.id;
    let numbers = race(&a, &b, 16, move |store, _| async move {
        let token = VisitorToken::generate().hash();
        let new =
            NewMonitorSession { site_id: site(), visitor_id: id, token: &token, previous_visit_at: None, now: at(10) };
        store.start_monitor_session(&new).await.expect("start_monitor_session").visit_number
    })
    .await;
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=16).collect::<Vec<u32>>(), "{numbers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_counting_failures_lose_none() {
    let Some((_db, a, b)) = two_nodes().await else { return };
    race(&a, &b, 30, |store, _| async move {
        store.record_failure("ip:203.0.113.9", at(1), at(-100)).await.expect("record_failure")
    })
    .await;
    assert_eq!(a.throttle("ip:203.0.113.9").await.expect("throttle").map(|t| t.failures), Some(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn merging_visitors_while_their_visits_are_written_from_another_node_loses_no_visit() {
    let Some((_db, a, b)) = two_nodes().await else { return };
    let into = a.create_visitor(site(), &VisitorToken::generate().hash(), true, at(0)).await.expect("into");
    let mut pairs = Vec::new();
    for _ in 0..8 {
        let from = a.create_visitor(site(), &VisitorToken::generate().hash(), true, at(0)).await.expect("from");
        let token = VisitorToken::generate().hash();
        let new = NewMonitorSession {
            site_id: site(),
            visitor_id: from.id,
            token: &token,
            previous_visit_at: None,
            now: at(1),
        };
        pairs.push((from.id, a.start_monitor_session(&new).await.expect("visit").id));
    }
    // Node b moves the visits (events without a visitor: those of a merged
    // visitor would rightly fail their foreign key) while node a merges.
    let (into_id, moves) = (into.id, pairs.clone());
    let writer = tokio::spawn(async move {
        for round in 0..20 {
            let events: Vec<PageEvent> =
                moves.iter().map(|(_, session)| event(None, Some(*session), at(2 + round))).collect();
            b.record_page_events(&events).await.expect("record_page_events");
        }
    });
    for (from, _) in &pairs {
        assert!(a.merge_visitors(*from, into_id).await.expect("merge"), "merged");
    }
    writer.await.expect("writer");
    let visits = a.sessions_of_visitor(into_id, 100).await.expect("sessions_of_visitor");
    assert_eq!(visits.len(), 8, "every visit now belongs to the visitor kept");
    assert!(visits.iter().all(|v| v.last_seen_at == at(21)), "and moved to its last event");
}

fn event(visitor: Option<VisitorId>, session: Option<MonitorSessionId>, when: Timestamp) -> PageEvent {
    PageEvent {
        site_id: site(),
        visitor_id: visitor,
        session_id: session,
        tab: Some("t1".to_owned()),
        url: "https://shop.example/products/42?ref=mail".to_owned(),
        title: "A product page with a realistic title".to_owned(),
        referrer: "https://www.example.com/".to_owned(),
        ip: Some("203.0.113.0".to_owned()),
        at: when,
    }
}

/// The ingestion pipeline writes up to 4,000 events per batch; the SQLite
/// backend takes about 50,000 events a second. Prints the rate; fails only
/// if it is far below what one PostgreSQL on a small machine does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_events_are_written_in_large_batches_quickly() {
    let Some(db) = fresh_database().await else { return };
    let store = db.store().await;
    store.ensure_site(site(), "Load", at(0)).await.expect("ensure_site");
    let mut visits = Vec::new();
    for _ in 0..500 {
        let visitor = store.create_visitor(site(), &VisitorToken::generate().hash(), true, at(0)).await.expect("v");
        let token = VisitorToken::generate().hash();
        let new = NewMonitorSession {
            site_id: site(),
            visitor_id: visitor.id,
            token: &token,
            previous_visit_at: None,
            now: at(0),
        };
        visits.push((visitor.id, store.start_monitor_session(&new).await.expect("visit").id));
    }
    let (batches, per_batch) = (25, 4_000);
    let started = Instant::now();
    for b in 0..batches {
        let events: Vec<PageEvent> = (0..per_batch)
            .map(|i| {
                let (visitor, visit) = visits[(b * per_batch + i) % visits.len()];
                event(Some(visitor), Some(visit), at(1 + i64::try_from(b).unwrap_or(0)))
            })
            .collect();
        store.record_page_events(&events).await.expect("record_page_events");
    }
    let elapsed = started.elapsed();
    let total = batches * per_batch;
    let rate = total as f64 / elapsed.as_secs_f64();
    let mut out = std::io::stderr().lock();
    let _ = std::io::Write::write_fmt(
        &mut out,
        format_args!(
            "PostgreSQL page events: {total} in {:.2} s = {rate:.0} events/s (batches of {per_batch})\n",
            elapsed.as_secs_f64()
        ),
    );
    let counted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM page_events").fetch_one(store.pool()).await.expect("count");
    assert_eq!(counted, i64::try_from(total).unwrap_or(0));
    assert!(rate > 5_000.0, "{rate:.0} events/s is far too slow");
}

/// A row as the exporter writes it: column → JSON value, BLOBs as `\x…` hex.
fn row(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn hex(hash: &TokenHash) -> String {
    let digits: String = hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("\\x{digits}")
}

#[tokio::test]
async fn an_import_keeps_ids_continues_sequences_rebuilds_search_and_then_refuses_a_second() {
    let Some(db) = fresh_database().await else { return };
    let store = db.store().await;
    let mut import = store.begin_import().await.expect("begin_import");
    import
        .row(
            "sites",
            &row(json!({"id": 1001, "name": "Acme", "created_at": T0, "languages": "en\nfr", "default_language": "en",
                        "embed_origins": "", "solution_type": "third_party", "consent_mode": "opt_in",
                        "registration_open": 1, "updated_at": T0, "monitor_idle_minutes": 30,
                        "monitor_retention_days": 90, "cookieless_counting": 0, "full_ip": 0})),
        )
        .await
        .expect("site");
    import
        .row(
            "people",
            &row(json!({"id": 7, "site_id": 1001, "email": "ann@example.com", "name": "Ann", "role": "agent",
                        "password_hash": "x", "disabled": 0, "created_at": T0, "updated_at": T0})),
        )
        .await
        .expect("person");
    let session = TokenHash::from_bytes(&[7; 32]).expect("hash");
    import
        .row(
            "sessions",
            &row(json!({"id_hash": hex(&session), "person_id": 7, "site_id": 1001, "interface": "portal",
                        "created_at": T0, "last_seen_at": T0, "expires_at": T0 + 100, "restored": 1,
                        "remember_selector": null, "ip": null, "user_agent": "test"})),
        )
        .await
        .expect("session");
    import
        .row("categories", &row(json!({"id": 3, "site_id": 1001, "parent_id": null, "position": 0})))
        .await
        .expect("category");
    import
        .row(
            "articles",
            &row(json!({"id": 5, "site_id": 1001, "category_id": 3, "author_id": 7, "status": "published",
                        "created_at": T0, "updated_at": T0, "published_at": T0, "views": 2})),
        )
        .await
        .expect("article");
    import
        .row(
            "article_translations",
            &row(json!({"article_id": 5, "language": "fr", "title": "Réinitialiser", "body_markdown": "En décembre.",
                        "body_html": "<p>En décembre.</p>", "updated_at": T0})),
        )
        .await
        .expect("translation");
    // Out of order, unknown tables and columns, derived tables: refused.
    assert!(import.row("sites", &row(json!({"id": 2002}))).await.is_err(), "a parent after its children");
    assert!(import.row("article_search", &row(json!({}))).await.is_err(), "derived");
    assert!(import.row("nonsense", &row(json!({}))).await.is_err(), "unknown table");
    assert!(import.row("votes", &row(json!({"id": 1, "colour": "red"}))).await.is_err(), "unknown column");
    import.sequence("people", 40).expect("the source used IDs up to 40");
    import.sequence("activity_sequence", 99).expect("activity sequence");
    assert!(import.sequence("nonsense", 1).is_err());
    let summary = import.finish().await.expect("finish");
    assert_eq!(summary.rows.get("people"), Some(&1));
    assert_eq!(summary.indexed, 1);
    assert_eq!(summary.rows.len(), TABLES.len());

    let restored = store.session(&session).await.expect("session").expect("imported");
    assert!(restored.restored && restored.user_agent.as_deref() == Some("test"));
    let next = store
        .create_person(
            &NewPerson {
                site_id: site(),
                email: Email::parse("bo@example.com").expect("email"),
                name: DisplayName::parse("Bo").expect("name"),
                role: Role::User,
                password_hash: "x".to_owned(),
            },
            at(1),
        )
        .await
        .expect("a new person");
    assert_eq!(next.id.get(), 41, "IDs continue after the highest the source used");
    let hits = store
        .search(site(), &tessera_core::Language::parse("fr").expect("fr"), &["decembre".to_owned()], 5)
        .await
        .expect("search");
    assert_eq!(hits.len(), 1, "the search index was rebuilt");
    let visitor = store.create_visitor(site(), &VisitorToken::generate().hash(), false, at(2)).await.expect("v");
    store
        .record_page_view(&tessera_store::PageView {
            site_id: site(),
            visitor_id: visitor.id,
            person_id: None,
            path: "/".to_owned(),
            title: "Home".to_owned(),
            article_id: None,
            at: at(2),
        })
        .await
        .expect("page view");
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM page_views").fetch_one(store.pool()).await.expect("seq");
    assert_eq!(seq, 100, "activity continues after the source's sequence");

    let again = store.begin_import().await;
    assert!(
        matches!(&again, Err(e) if e.to_string().contains("not empty")),
        "a second import into the same database is refused: {again:?}"
    );
    drop(again);
    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_failed_import_leaves_the_database_empty() {
    let Some(db) = fresh_database().await else { return };
    let store = db.store().await;
    let mut import = store.begin_import().await.expect("begin_import");
    import.row("sites", &row(json!({"id": 1001, "name": "Acme", "created_at": T0}))).await.expect("buffered");
    // The sites batch is written when the next table starts, and fails: its
    // NOT NULL columns are missing.
    let failed = import.row("people", &row(json!({"id": 1}))).await;
    assert!(failed.is_err());
    drop(import);
    assert!(store.sites().await.expect("sites").is_empty(), "rolled back");
    assert!(store.begin_import().await.is_ok(), "and still importable");
}

#[tokio::test]
async fn migrate_is_idempotent_and_reports_the_schema_version() {
    let Some(db) = fresh_database().await else { return };
    let first = PostgresStore::migrate(db.url()).await.expect("migrate");
    let again = PostgresStore::migrate(db.url()).await.expect("migrate again");
    assert_eq!(first, again);
    assert_eq!(first, 4, "the same versions as the SQLite migrations");
    let store = db.store().await;
    assert!(store.sites().await.expect("sites").is_empty());
    store.ensure_site(site(), "Acme", at(0)).await.expect("usable");
    let _ = store.article(tessera_core::ArticleId::new(1)).await.expect("article");
}
