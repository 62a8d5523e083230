//! The conformance suite every backend runs in its own tests.
//!
//! Each `pub async fn` here proves one behaviour of the store traits on a
//! fresh, empty store, and panics with a message saying what broke. A backend
//! runs them all with one line in its `tests/conformance.rs`:
//!
//! ```ignore
//! async fn fresh_store() -> tessera_store::conformance::WithGuard<MyStore, tempfile::TempDir> { ... }
//!
//! tessera_store::conformance_tests!(fresh_store());
//! ```
//!
//! [`conformance_tests!`](crate::conformance_tests) expands into one
//! `#[tokio::test]` per check, so the calling crate needs `tokio` (with the
//! `macros` and `rt` features) in its dev-dependencies. Its argument is an
//! expression evaluated afresh in every test; it must be a future whose output
//! is a [`Fixture`]: either a store itself, or a [`WithGuard`] holding the
//! store together with whatever must outlive it (a temporary directory, a
//! throwaway database schema...). A backend that needs a server the machine
//! may not have writes `conformance_tests!(optional: make)`, where `make`'s
//! output is an `Option` of a fixture: with `None` (the maker said why) each
//! test returns without checking anything.
//!
//! Every timestamp is passed explicitly and lies far from the wall clock, so a
//! backend that reads its own clock fails. The suite needs no other runtime:
//! concurrency checks poll several store futures at once on the test's task.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use tessera_core::{
    DisplayName, Email, Interface, PersonId, RememberToken, Role, Selector, SessionToken, SiteId, Timestamp, TokenHash,
    Validator,
};

use crate::{
    AuditEntry, AuditEvent, AuditFilter, AuditKind, NewPerson, Person, RememberRecord, SessionRecord, Site,
    SiteSettings, Store, StoreError, ThrottleRecord,
};

// The Help Center's checks (site settings, knowledge base, engagement, visitors).
mod help_center;
pub use help_center::*;

// The Messenger's checks (conversations, messages, identity secrets).
mod chat;
pub use chat::*;

// Visitor monitoring's checks (visits, page views, erasure, merging).
mod monitor;
pub use monitor::*;

/// Expands into one `#[tokio::test]` per conformance check, each given a
/// fresh store by awaiting `$make` (see the [module docs](crate::conformance)).
#[macro_export]
macro_rules! conformance_tests {
    (optional: $make:expr) => {
        $crate::conformance_tests!(@list optional $make);
    };
    ($make:expr) => {
        $crate::conformance_tests!(@list required $make);
    };
    (@list $mode:ident $make:expr) => {
        $crate::conformance_tests!(@each $mode $make;
            ensure_site_is_idempotent,
            sites_are_found_by_id_and_listed,
            person_round_trips_through_every_lookup,
            email_is_unique_per_site_but_not_across_sites,
            people_lists_only_the_sites_people,
            person_updates_role_password_disabled_email_and_updated_at,
            session_round_trips_every_field,
            insert_session_refuses_a_duplicate_hash,
            touch_only_raises_last_seen,
            touch_never_recreates_a_deleted_session,
            delete_session_reports_whether_it_deleted,
            delete_sessions_of_person_returns_ids_and_keeps_the_one_asked,
            sessions_of_person_newest_first,
            sessions_of_site_newest_first_and_limited,
            purge_removes_idle_and_absolutely_expired_sessions_only,
            remember_round_trips_every_field,
            insert_remember_refuses_a_duplicate_selector,
            rotate_remember_is_compare_and_swap,
            concurrent_rotations_have_exactly_one_winner,
            remember_of_person_and_delete,
            purge_remember_removes_expired_series_only,
            throttle_counts_failures_and_forgets_after_window,
            clear_throttle_forgets_only_that_key,
            purge_throttles_drops_only_forgotten_records,
            concurrent_failures_are_all_counted,
            audit_round_trips_every_field,
            audit_filters_by_kind_person_site_since_and_limit_newest_first,
            timestamps_are_the_callers_not_the_databases,
            site_settings_round_trip_and_hosts_are_unique_across_sites,
            update_site_replaces_hosts,
            categories_nest_and_order_by_position,
            category_parent_must_be_same_site,
            article_round_trips_with_translations_and_author_name,
            articles_list_newest_first_and_move_between_categories,
            publishing_sets_published_at_once,
            search_finds_published_articles_in_the_language_with_prefix_and_diacritics,
            search_index_follows_translation_changes,
            search_terms_cannot_inject_fts_syntax,
            votes_are_one_per_guest_and_changeable,
            votes_are_one_per_person,
            link_visitor_moves_guest_votes_and_comments_and_person_vote_wins,
            pending_comment_visible_only_to_its_author,
            moderation_only_moves_pending_comments,
            visitor_token_can_be_replaced_or_dropped,
            activity_merges_kinds_in_time_order_including_the_linked_person,
            activity_in_the_same_second_follows_the_order_of_events,
            consent_records_round_trip,
            view_counts_add_up,
            recent_visitors_newest_first,
            conversation_round_trips_and_needs_an_owner,
            conversations_of_finds_by_visitor_or_verified_user_newest_first_on_the_site_only,
            open_conversations_lists_waiting_and_active_oldest_first,
            messages_get_consecutive_sequence_numbers_from_one,
            concurrent_appends_never_share_or_skip_a_sequence_number,
            a_resent_client_key_returns_the_first_message_and_stores_nothing,
            closed_conversations_take_no_messages,
            messages_after_resumes_exactly_after_the_acknowledged_sequence,
            claim_is_compare_and_swap_and_idempotent_for_the_same_agent,
            transfer_needs_the_current_holder,
            close_is_once,
            identity_secret_is_replaced_on_rotation,
            monitoring_settings_round_trip,
            visits_are_numbered_per_visitor_and_know_the_previous_one,
            page_events_are_written_in_batches_and_move_their_visit_forward_only,
            live_sessions_are_the_sites_recent_visits_newest_first,
            purge_page_events_drops_only_the_sites_old_views,
            erasing_a_visitor_removes_its_visits_views_and_guest_conversations,
            merging_visitors_moves_visits_and_conversations_within_a_site,
            a_visitor_can_have_several_monitoring_tokens_each_on_its_site,
        );
    };
    (@each required $make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let fixture = $make.await;
                $crate::conformance::$check($crate::conformance::Fixture::store(&fixture)).await;
            }
        )+
    };
    (@each optional $make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let Some(fixture) = $make.await else { return };
                $crate::conformance::$check($crate::conformance::Fixture::store(&fixture)).await;
            }
        )+
    };
}

/// What a test's `$make` produces: gives access to the store under test.
pub trait Fixture {
    type Store: Store;
    fn store(&self) -> &Self::Store;
}

impl<S: Store> Fixture for S {
    type Store = S;
    fn store(&self) -> &S {
        self
    }
}

/// A store plus something that must live as long as it (e.g. a `TempDir`).
#[derive(Debug)]
pub struct WithGuard<S, G> {
    pub store: S,
    pub guard: G,
}

impl<S: Store, G> Fixture for WithGuard<S, G> {
    type Store = S;
    fn store(&self) -> &S {
        &self.store
    }
}

// ---------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------

/// An arbitrary origin (2001-09-09), far from today's wall clock.
const T0: i64 = 1_000_000_000;
const DAY: i64 = 86_400;

fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix(T0 + offset)
}

fn site_id(n: u32) -> SiteId {
    SiteId::new(n).expect("a valid site ID")
}

fn email(text: &str) -> Email {
    Email::parse(text).expect("a valid email")
}

fn new_person(site: SiteId, address: &str, role: Role) -> NewPerson {
    NewPerson {
        site_id: site,
        email: email(address),
        name: DisplayName::parse("Ann Example").expect("a valid name"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
    }
}

/// Ensures `site` exists and creates a person on it.
async fn person_on<S: Store>(store: &S, site: SiteId, address: &str) -> Person {
    store.ensure_site(site, "Conformance", at(0)).await.expect("ensure_site");
    store.create_person(&new_person(site, address, Role::Agent), at(0)).await.expect("create_person")
}

fn session_of(person: &Person, interface: Interface, created: Timestamp) -> SessionRecord {
    SessionRecord {
        id_hash: SessionToken::generate().hash(),
        person_id: person.id,
        site_id: person.site_id,
        interface,
        created_at: created,
        last_seen_at: created,
        expires_at: created.plus(30 * DAY),
        restored: false,
        remember: None,
        ip: Some("192.0.2.7".to_owned()),
        user_agent: Some("conformance/1.0".to_owned()),
    }
}

fn series_of(person: &Person, interface: Interface, created: Timestamp) -> RememberRecord {
    let token = RememberToken::generate();
    RememberRecord {
        selector: token.selector,
        person_id: person.id,
        site_id: person.site_id,
        interface,
        validator_hash: token.validator.hash(),
        previous_hash: None,
        rotated_at: created,
        created_at: created,
        expires_at: created.plus(30 * DAY),
        ip: Some("198.51.100.4".to_owned()),
        user_agent: Some("conformance/1.0".to_owned()),
    }
}

async fn insert_sessions<S: Store>(store: &S, sessions: &[&SessionRecord]) {
    for session in sessions {
        store.insert_session(session).await.expect("insert_session");
    }
}

async fn session_in<S: Store>(store: &S, id: &TokenHash) -> Option<SessionRecord> {
    store.session(id).await.expect("session")
}

async fn series_in<S: Store>(store: &S, selector: &Selector) -> Option<RememberRecord> {
    store.remember(selector).await.expect("remember")
}

/// Hashes in a canonical order, for comparing sets of IDs.
fn sorted(mut ids: Vec<TokenHash>) -> Vec<TokenHash> {
    ids.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    ids
}

fn ids_of(sessions: &[SessionRecord]) -> Vec<TokenHash> {
    sessions.iter().map(|s| s.id_hash).collect()
}

fn events_of(entries: &[AuditEntry]) -> Vec<AuditEvent> {
    entries.iter().map(|e| e.event.clone()).collect()
}

/// Polls all `futures` at once on the current task, so their store calls race.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("every joined future finished")).collect()
}

// ---------------------------------------------------------------------------
// Sites
// ---------------------------------------------------------------------------

/// `ensure_site` creates once, with the default settings, and afterwards
/// returns the existing site unchanged: a second call never renames it or
/// moves `created_at`.
pub async fn ensure_site_is_idempotent<S: Store>(store: &S) {
    let id = site_id(1001);
    let first = store.ensure_site(id, "Acme", at(0)).await.expect("ensure_site");
    let defaults = SiteSettings::named("Acme");
    assert_eq!(first, Site { id, settings: defaults, created_at: at(0), updated_at: at(0) });

    let again = store.ensure_site(id, "Renamed", at(500)).await.expect("ensure_site again");
    assert_eq!(again, first, "ensure_site must return the existing site unchanged");
    assert_eq!(store.sites().await.expect("sites"), vec![first.clone()], "ensure_site must not duplicate");
    assert_eq!(store.site(id).await.expect("site"), Some(first));
}

/// `site` finds by ID (None for an unknown one) and `sites` lists them all.
pub async fn sites_are_found_by_id_and_listed<S: Store>(store: &S) {
    assert_eq!(store.sites().await.expect("sites"), vec![], "a fresh store has no sites");
    let a = store.ensure_site(site_id(1001), "Acme", at(0)).await.expect("ensure_site");
    let b = store.ensure_site(site_id(2002), "Globex", at(10)).await.expect("ensure_site");

    assert_eq!(store.site(site_id(2002)).await.expect("site"), Some(b.clone()));
    assert_eq!(store.site(site_id(3003)).await.expect("site"), None);
    let mut all = store.sites().await.expect("sites");
    all.sort_by_key(|s| s.id);
    assert_eq!(all, vec![a, b]);
}

// ---------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------

/// A created person comes back identical from `person` and `person_by_email`,
/// with a fresh ID, `disabled` false and both timestamps set to `now`.
pub async fn person_round_trips_through_every_lookup<S: Store>(store: &S) {
    let site = site_id(1001);
    let other_site = site_id(2002);
    store.ensure_site(site, "Acme", at(0)).await.expect("ensure_site");
    store.ensure_site(other_site, "Globex", at(0)).await.expect("ensure_site");

    let new = new_person(site, "Ann@Example.com", Role::Admin);
    let ann = store.create_person(&new, at(5)).await.expect("create_person");
    assert_eq!(ann.site_id, site);
    assert_eq!(ann.email, email("ann@example.com"));
    assert_eq!(ann.name, new.name);
    assert_eq!(ann.role, Role::Admin);
    assert_eq!(ann.password_hash, new.password_hash);
    assert!(!ann.disabled, "a new person is enabled");
    assert_eq!((ann.created_at, ann.updated_at), (at(5), at(5)));

    let bob = store.create_person(&new_person(site, "bob@example.com", Role::User), at(6)).await.expect("create");
    assert_ne!(ann.id, bob.id, "each person gets their own ID");

    assert_eq!(store.person(ann.id).await.expect("person"), Some(ann.clone()));
    assert_eq!(store.person_by_email(site, &email("ANN@example.COM")).await.expect("by email"), Some(ann.clone()));
    assert_eq!(
        store.person_by_email(other_site, &ann.email).await.expect("by email"),
        None,
        "email lookup is per site"
    );
    assert_eq!(store.person_by_email(site, &email("nobody@example.com")).await.expect("by email"), None);
    assert_eq!(store.person(PersonId::new(ann.id.get() + bob.id.get() + 1_000)).await.expect("person"), None);
}

/// One email may exist once per site: a duplicate on the same site is a
/// `Conflict` and changes nothing; the same address on another site is fine.
pub async fn email_is_unique_per_site_but_not_across_sites<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    let ann = person_on(store, a, "ann@example.com").await;
    store.ensure_site(b, "Globex", at(0)).await.expect("ensure_site");

    let duplicate = new_person(a, "ANN@example.com", Role::User);
    match store.create_person(&duplicate, at(1)).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a duplicate email on one site must be a Conflict, got {other:?}"),
    }
    assert_eq!(store.people(a).await.expect("people"), vec![ann.clone()], "a refused person must not be stored");

    let elsewhere = store.create_person(&new_person(b, "ann@example.com", Role::User), at(2)).await;
    let elsewhere = elsewhere.expect("the same email on another site is a different person");
    assert_ne!(elsewhere.id, ann.id);
    assert_eq!(store.person_by_email(b, &ann.email).await.expect("by email"), Some(elsewhere));
    assert_eq!(store.person_by_email(a, &ann.email).await.expect("by email"), Some(ann));
}

/// `people` returns exactly the people of the site asked for.
pub async fn people_lists_only_the_sites_people<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    let ann = person_on(store, a, "ann@example.com").await;
    let bob = person_on(store, a, "bob@example.com").await;
    let cat = person_on(store, b, "cat@example.com").await;

    let mut on_a = store.people(a).await.expect("people");
    on_a.sort_by_key(|p| p.id);
    let mut expected = vec![ann, bob];
    expected.sort_by_key(|p| p.id);
    assert_eq!(on_a, expected);
    assert_eq!(store.people(b).await.expect("people"), vec![cat]);
    assert_eq!(store.people(site_id(3003)).await.expect("people"), vec![]);
}

/// Each setter changes its field and `updated_at` only, reports true, and
/// reports false (changing nothing) for an unknown person.
pub async fn person_updates_role_password_disabled_email_and_updated_at<S: Store>(store: &S) {
    let site = site_id(1001);
    let ann = person_on(store, site, "ann@example.com").await;
    let bob = person_on(store, site, "bob@example.com").await;
    let mut expected = ann.clone();

    assert!(store.set_password_hash(ann.id, "$argon2id$new", at(10)).await.expect("set_password_hash"));
    expected.password_hash = "$argon2id$new".to_owned();
    expected.updated_at = at(10);
    assert_eq!(store.person(ann.id).await.expect("person"), Some(expected.clone()));

    assert!(store.set_role(ann.id, Role::Admin, at(20)).await.expect("set_role"));
    expected.role = Role::Admin;
    expected.updated_at = at(20);
    assert_eq!(store.person(ann.id).await.expect("person"), Some(expected.clone()));

    assert!(store.set_disabled(ann.id, true, at(30)).await.expect("set_disabled"));
    expected.disabled = true;
    expected.updated_at = at(30);
    assert_eq!(store.person(ann.id).await.expect("person"), Some(expected.clone()));

    assert!(store.set_disabled(ann.id, false, at(40)).await.expect("set_disabled"));
    expected.disabled = false;
    expected.updated_at = at(40);
    assert_eq!(store.person(ann.id).await.expect("person"), Some(expected.clone()));

    let new_email = Email::parse("ann.new@example.com").expect("email");
    assert!(store.set_email(ann.id, &new_email, at(45)).await.expect("set_email"));
    expected.email = new_email.clone();
    expected.updated_at = at(45);
    assert_eq!(store.person(ann.id).await.expect("person"), Some(expected.clone()));
    assert_eq!(store.person_by_email(site, &new_email).await.expect("by email"), Some(expected.clone()));
    let old_email = Email::parse("ann@example.com").expect("email");
    assert_eq!(store.person_by_email(site, &old_email).await.expect("by email"), None, "the old email is free");
    match store.set_email(ann.id, &bob.email, at(46)).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("taking another person's email must be a Conflict, got {other:?}"),
    }
    assert_eq!(store.person(ann.id).await.expect("person"), Some(expected.clone()), "a refused change changes nothing");
    assert_eq!(expected.created_at, ann.created_at, "created_at never moves");

    let ghost = PersonId::new(ann.id.get() + bob.id.get() + 1_000);
    assert!(!store.set_password_hash(ghost, "x", at(50)).await.expect("set_password_hash"), "unknown person");
    assert!(!store.set_role(ghost, Role::User, at(50)).await.expect("set_role"), "unknown person");
    assert!(!store.set_disabled(ghost, true, at(50)).await.expect("set_disabled"), "unknown person");
    let spare = Email::parse("spare@example.com").expect("email");
    assert!(!store.set_email(ghost, &spare, at(50)).await.expect("set_email"), "unknown person");
    assert_eq!(store.person(ghost).await.expect("person"), None, "setters never create a person");
    assert_eq!(store.person(bob.id).await.expect("person"), Some(bob), "other people are untouched");
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

/// A session comes back exactly as inserted, including absent optional fields.
pub async fn session_round_trips_every_field<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let full = SessionRecord {
        restored: true,
        remember: Some(RememberToken::generate().selector),
        last_seen_at: at(7),
        ..session_of(&ann, Interface::Agent, at(5))
    };
    let bare = SessionRecord { ip: None, user_agent: None, ..session_of(&ann, Interface::Portal, at(6)) };
    insert_sessions(store, &[&full, &bare]).await;

    assert_eq!(session_in(store, &full.id_hash).await, Some(full));
    assert_eq!(session_in(store, &bare.id_hash).await, Some(bare));
    assert_eq!(session_in(store, &SessionToken::generate().hash()).await, None);
}

/// Inserting an existing session ID is a `Conflict` and leaves the stored one alone.
pub async fn insert_session_refuses_a_duplicate_hash<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let original = session_of(&ann, Interface::Portal, at(0));
    insert_sessions(store, &[&original]).await;

    let clash = SessionRecord { interface: Interface::Admin, created_at: at(9), ..original.clone() };
    match store.insert_session(&clash).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a duplicate session hash must be a Conflict, got {other:?}"),
    }
    assert_eq!(session_in(store, &original.id_hash).await, Some(original));
}

/// `touch_sessions` raises `last_seen_at` to the latest time given for each
/// session (even if a batch names one twice, out of order), never lowers it,
/// changes nothing else, and ignores unknown IDs.
pub async fn touch_only_raises_last_seen<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let a = SessionRecord { last_seen_at: at(100), ..session_of(&ann, Interface::Portal, at(0)) };
    let b = SessionRecord { last_seen_at: at(100), ..session_of(&ann, Interface::Agent, at(0)) };
    let c = SessionRecord { last_seen_at: at(100), ..session_of(&ann, Interface::Admin, at(0)) };
    insert_sessions(store, &[&a, &b, &c]).await;

    store.touch_sessions(&[]).await.expect("an empty batch is fine");
    let unknown = SessionToken::generate().hash();
    let batch = [(a.id_hash, at(150)), (b.id_hash, at(90)), (unknown, at(150)), (a.id_hash, at(120))];
    store.touch_sessions(&batch).await.expect("touch_sessions");

    assert_eq!(session_in(store, &a.id_hash).await, Some(SessionRecord { last_seen_at: at(150), ..a }));
    assert_eq!(session_in(store, &b.id_hash).await, Some(b), "an older touch must not lower last_seen_at");
    assert_eq!(session_in(store, &c.id_hash).await, Some(c), "untouched sessions stay as they were");
    assert_eq!(session_in(store, &unknown).await, None, "touch must not create sessions");
}

/// A touch that arrives after a logout must not bring the session back.
pub async fn touch_never_recreates_a_deleted_session<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let session = session_of(&ann, Interface::Portal, at(0));
    insert_sessions(store, &[&session]).await;

    assert!(store.delete_session(&session.id_hash).await.expect("delete_session"));
    store.touch_sessions(&[(session.id_hash, at(60))]).await.expect("touching a deleted session is not an error");
    assert_eq!(session_in(store, &session.id_hash).await, None, "a late touch resurrected a deleted session");
    assert_eq!(store.sessions_of_person(ann.id).await.expect("sessions_of_person"), vec![]);
}

/// `delete_session` reports true once, then false; other sessions stay.
pub async fn delete_session_reports_whether_it_deleted<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let gone = session_of(&ann, Interface::Portal, at(0));
    let kept = session_of(&ann, Interface::Portal, at(1));
    insert_sessions(store, &[&gone, &kept]).await;

    assert!(store.delete_session(&gone.id_hash).await.expect("delete_session"));
    assert!(!store.delete_session(&gone.id_hash).await.expect("delete_session"), "second delete finds nothing");
    assert!(!store.delete_session(&SessionToken::generate().hash()).await.expect("delete_session"));
    assert_eq!(session_in(store, &gone.id_hash).await, None);
    assert_eq!(session_in(store, &kept.id_hash).await, Some(kept));
}

/// `delete_sessions_of_person` deletes that person's sessions (of one
/// interface if asked, never the one to keep), returns exactly the IDs it
/// deleted, and leaves other people alone.
pub async fn delete_sessions_of_person_returns_ids_and_keeps_the_one_asked<S: Store>(store: &S) {
    let site = site_id(1001);
    let ann = person_on(store, site, "ann@example.com").await;
    let bob = person_on(store, site, "bob@example.com").await;
    let portal_1 = session_of(&ann, Interface::Portal, at(1));
    let portal_2 = session_of(&ann, Interface::Portal, at(2));
    let agent = session_of(&ann, Interface::Agent, at(3));
    let admin = session_of(&ann, Interface::Admin, at(4));
    let bobs = session_of(&bob, Interface::Portal, at(5));
    insert_sessions(store, &[&portal_1, &portal_2, &agent, &admin, &bobs]).await;

    // "Log out my other portal sessions".
    let deleted = store
        .delete_sessions_of_person(ann.id, Some(Interface::Portal), Some(&portal_1.id_hash))
        .await
        .expect("delete_sessions_of_person");
    assert_eq!(sorted(deleted), vec![portal_2.id_hash]);
    let left = ids_of(&store.sessions_of_person(ann.id).await.expect("sessions_of_person"));
    assert_eq!(sorted(left), sorted(vec![portal_1.id_hash, agent.id_hash, admin.id_hash]));

    // "Log out everywhere but here", across interfaces.
    let deleted =
        store.delete_sessions_of_person(ann.id, None, Some(&agent.id_hash)).await.expect("delete_sessions_of_person");
    assert_eq!(sorted(deleted), sorted(vec![portal_1.id_hash, admin.id_hash]));

    // An interface with nothing left deletes nothing.
    let deleted =
        store.delete_sessions_of_person(ann.id, Some(Interface::Admin), None).await.expect("delete_sessions_of_person");
    assert_eq!(deleted, vec![]);

    // Everything (e.g. the person was disabled).
    let deleted = store.delete_sessions_of_person(ann.id, None, None).await.expect("delete_sessions_of_person");
    assert_eq!(deleted, vec![agent.id_hash]);
    assert_eq!(store.delete_sessions_of_person(ann.id, None, None).await.expect("again"), vec![]);
    assert_eq!(store.sessions_of_person(ann.id).await.expect("sessions_of_person"), vec![]);
    assert_eq!(session_in(store, &bobs.id_hash).await, Some(bobs), "another person's session was deleted");
}

/// `sessions_of_person` lists only that person's sessions, newest first.
pub async fn sessions_of_person_newest_first<S: Store>(store: &S) {
    let site = site_id(1001);
    let ann = person_on(store, site, "ann@example.com").await;
    let bob = person_on(store, site, "bob@example.com").await;
    let old = session_of(&ann, Interface::Portal, at(10));
    let newest = session_of(&ann, Interface::Agent, at(30));
    let middle = session_of(&ann, Interface::Portal, at(20));
    let bobs = session_of(&bob, Interface::Portal, at(25));
    insert_sessions(store, &[&old, &newest, &bobs, &middle]).await;

    assert_eq!(store.sessions_of_person(ann.id).await.expect("sessions_of_person"), vec![newest, middle, old]);
    assert_eq!(store.sessions_of_person(bob.id).await.expect("sessions_of_person"), vec![bobs]);
    let nobody = PersonId::new(ann.id.get() + bob.id.get() + 1_000);
    assert_eq!(store.sessions_of_person(nobody).await.expect("sessions_of_person"), vec![]);
}

/// `sessions_of_site` lists the site's sessions newest first, at most `limit`.
pub async fn sessions_of_site_newest_first_and_limited<S: Store>(store: &S) {
    let (a, b) = (site_id(1001), site_id(2002));
    let ann = person_on(store, a, "ann@example.com").await;
    let bob = person_on(store, a, "bob@example.com").await;
    let cat = person_on(store, b, "cat@example.com").await;
    let s1 = session_of(&ann, Interface::Portal, at(10));
    let s2 = session_of(&bob, Interface::Agent, at(20));
    let s3 = session_of(&ann, Interface::Agent, at(30));
    let s4 = session_of(&bob, Interface::Portal, at(40));
    let other = session_of(&cat, Interface::Portal, at(35));
    insert_sessions(store, &[&s3, &s1, &other, &s4, &s2]).await;

    let all = store.sessions_of_site(a, 10).await.expect("sessions_of_site");
    assert_eq!(all, vec![s4.clone(), s3.clone(), s2, s1]);
    assert_eq!(store.sessions_of_site(a, 2).await.expect("sessions_of_site"), vec![s4, s3], "limit keeps the newest");
    assert_eq!(store.sessions_of_site(b, 10).await.expect("sessions_of_site"), vec![other]);
    assert_eq!(store.sessions_of_site(site_id(3003), 10).await.expect("sessions_of_site"), vec![]);
}

/// `purge_sessions` deletes sessions whose absolute expiry is at or before
/// `now`, and sessions last seen strictly before their interface's idle
/// cutoff; interfaces without a cutoff are purged by expiry only. It returns
/// exactly the deleted IDs.
pub async fn purge_removes_idle_and_absolutely_expired_sessions_only<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let now = at(10_000);
    let cutoffs = [(Interface::Portal, at(5_000)), (Interface::Agent, at(8_000))];
    let session = |interface, last_seen: i64, expires: i64| SessionRecord {
        last_seen_at: at(last_seen),
        expires_at: at(expires),
        ..session_of(&ann, interface, at(0))
    };

    // Purged:
    let expired_now = session(Interface::Portal, 9_000, 10_000);
    let expired_admin = session(Interface::Admin, 9_999, 9_999);
    let idle_portal = session(Interface::Portal, 4_999, 50_000);
    let idle_agent = session(Interface::Agent, 6_000, 50_000);
    // Kept:
    let portal_at_cutoff = session(Interface::Portal, 5_000, 50_000);
    let portal_same_age_as_idle_agent = session(Interface::Portal, 6_000, 50_000);
    let live_agent = session(Interface::Agent, 8_500, 10_001);
    let old_admin_without_cutoff = session(Interface::Admin, 0, 50_000);
    insert_sessions(
        store,
        &[
            &expired_now,
            &expired_admin,
            &idle_portal,
            &idle_agent,
            &portal_at_cutoff,
            &portal_same_age_as_idle_agent,
            &live_agent,
            &old_admin_without_cutoff,
        ],
    )
    .await;

    let purged = store.purge_sessions(now, &cutoffs).await.expect("purge_sessions");
    let expected = vec![expired_now.id_hash, expired_admin.id_hash, idle_portal.id_hash, idle_agent.id_hash];
    assert_eq!(sorted(purged), sorted(expected));

    let left = ids_of(&store.sessions_of_person(ann.id).await.expect("sessions_of_person"));
    let kept = vec![
        portal_at_cutoff.id_hash,
        portal_same_age_as_idle_agent.id_hash,
        live_agent.id_hash,
        old_admin_without_cutoff.id_hash,
    ];
    assert_eq!(sorted(left), sorted(kept));
    assert_eq!(session_in(store, &live_agent.id_hash).await, Some(live_agent), "kept sessions are unchanged");
    assert_eq!(store.purge_sessions(now, &cutoffs).await.expect("purge again"), vec![], "nothing left to purge");
}

// ---------------------------------------------------------------------------
// Remember-me series
// ---------------------------------------------------------------------------

/// A series comes back exactly as inserted, with or without optional fields.
pub async fn remember_round_trips_every_field<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let full = RememberRecord {
        previous_hash: Some(Validator::generate().hash()),
        rotated_at: at(8),
        ..series_of(&ann, Interface::Agent, at(5))
    };
    let bare = RememberRecord { ip: None, user_agent: None, ..series_of(&ann, Interface::Portal, at(6)) };
    store.insert_remember(&full).await.expect("insert_remember");
    store.insert_remember(&bare).await.expect("insert_remember");

    assert_eq!(series_in(store, &full.selector).await, Some(full));
    assert_eq!(series_in(store, &bare.selector).await, Some(bare));
    assert_eq!(series_in(store, &RememberToken::generate().selector).await, None);
}

/// Inserting an existing selector is a `Conflict` and leaves the series alone.
pub async fn insert_remember_refuses_a_duplicate_selector<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let original = series_of(&ann, Interface::Portal, at(0));
    store.insert_remember(&original).await.expect("insert_remember");

    let clash = RememberRecord { validator_hash: Validator::generate().hash(), ..original.clone() };
    match store.insert_remember(&clash).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a duplicate selector must be a Conflict, got {other:?}"),
    }
    assert_eq!(series_in(store, &original.selector).await, Some(original));
}

/// `rotate_remember` wins only while the current validator is `expected`:
/// it then stores `next`, keeps `expected` as the previous one and sets
/// `rotated_at`. A stale, wrong or unknown validator changes nothing.
pub async fn rotate_remember_is_compare_and_swap<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let series = series_of(&ann, Interface::Portal, at(0));
    store.insert_remember(&series).await.expect("insert_remember");
    let v1 = series.validator_hash;
    let (v2, v3) = (Validator::generate().hash(), Validator::generate().hash());

    assert!(store.rotate_remember(&series.selector, &v1, &v2, at(100)).await.expect("rotate"), "first rotation wins");
    let rotated = RememberRecord { validator_hash: v2, previous_hash: Some(v1), rotated_at: at(100), ..series.clone() };
    assert_eq!(series_in(store, &series.selector).await, Some(rotated.clone()));

    assert!(!store.rotate_remember(&series.selector, &v1, &v3, at(200)).await.expect("rotate"), "stale validator");
    let wrong = Validator::generate().hash();
    assert!(!store.rotate_remember(&series.selector, &wrong, &v3, at(200)).await.expect("rotate"), "wrong validator");
    assert_eq!(series_in(store, &series.selector).await, Some(rotated), "a lost swap must change nothing");

    let unknown = RememberToken::generate().selector;
    assert!(!store.rotate_remember(&unknown, &v2, &v3, at(200)).await.expect("rotate"), "unknown selector");
    assert_eq!(series_in(store, &unknown).await, None, "rotation must not create a series");

    assert!(store.rotate_remember(&series.selector, &v2, &v3, at(300)).await.expect("rotate"), "second rotation wins");
    let twice = RememberRecord { validator_hash: v3, previous_hash: Some(v2), rotated_at: at(300), ..series };
    assert_eq!(series_in(store, &twice.selector).await, Some(twice));
}

/// Two requests presenting the same cookie at once: exactly one rotation wins,
/// and the stored validator is the winner's.
pub async fn concurrent_rotations_have_exactly_one_winner<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let series = series_of(&ann, Interface::Portal, at(0));
    store.insert_remember(&series).await.expect("insert_remember");
    let nexts: Vec<TokenHash> = (0..4).map(|_| Validator::generate().hash()).collect();

    let attempts = nexts
        .iter()
        .map(|next| store.rotate_remember(&series.selector, &series.validator_hash, next, at(10)))
        .collect();
    let results: Vec<bool> = join_all(attempts).await.into_iter().map(|r| r.expect("rotate")).collect();
    let winners: Vec<TokenHash> = nexts.iter().zip(&results).filter(|(_, won)| **won).map(|(n, _)| *n).collect();
    assert_eq!(winners.len(), 1, "exactly one concurrent rotation must win, got {results:?}");

    let stored = series_in(store, &series.selector).await.expect("the series still exists");
    assert_eq!(stored.validator_hash, winners[0]);
    assert_eq!(stored.previous_hash, Some(series.validator_hash));
}

/// `remember_of_person` lists a person's series newest first; `delete_remember`
/// reports whether it deleted; `delete_remember_of_person` counts what it
/// deleted and leaves other people's series alone.
pub async fn remember_of_person_and_delete<S: Store>(store: &S) {
    let site = site_id(1001);
    let ann = person_on(store, site, "ann@example.com").await;
    let bob = person_on(store, site, "bob@example.com").await;
    let old = series_of(&ann, Interface::Portal, at(10));
    let newest = series_of(&ann, Interface::Agent, at(30));
    let middle = series_of(&ann, Interface::Portal, at(20));
    let bobs = series_of(&bob, Interface::Portal, at(25));
    for series in [&old, &newest, &bobs, &middle] {
        store.insert_remember(series).await.expect("insert_remember");
    }

    let listed = store.remember_of_person(ann.id).await.expect("remember_of_person");
    assert_eq!(listed, vec![newest.clone(), middle.clone(), old.clone()]);

    assert!(store.delete_remember(&middle.selector).await.expect("delete_remember"));
    assert!(!store.delete_remember(&middle.selector).await.expect("delete_remember"), "already deleted");
    assert_eq!(store.remember_of_person(ann.id).await.expect("remember_of_person"), vec![newest, old]);

    assert_eq!(store.delete_remember_of_person(ann.id).await.expect("delete_remember_of_person"), 2);
    assert_eq!(store.delete_remember_of_person(ann.id).await.expect("delete_remember_of_person"), 0);
    assert_eq!(store.remember_of_person(ann.id).await.expect("remember_of_person"), vec![]);
    assert_eq!(store.remember_of_person(bob.id).await.expect("remember_of_person"), vec![bobs]);
}

/// `purge_remember` deletes series whose expiry is at or before `now`, and
/// counts them.
pub async fn purge_remember_removes_expired_series_only<S: Store>(store: &S) {
    let ann = person_on(store, site_id(1001), "ann@example.com").await;
    let series = |expires: i64| RememberRecord { expires_at: at(expires), ..series_of(&ann, Interface::Portal, at(0)) };
    let (early, on_time, later) = (series(100), series(200), series(300));
    for s in [&early, &on_time, &later] {
        store.insert_remember(s).await.expect("insert_remember");
    }

    assert_eq!(store.purge_remember(at(200)).await.expect("purge_remember"), 2);
    assert_eq!(store.remember_of_person(ann.id).await.expect("remember_of_person"), vec![later]);
    assert_eq!(store.purge_remember(at(200)).await.expect("purge_remember"), 0, "nothing left to purge");
}

// ---------------------------------------------------------------------------
// Login throttling
// ---------------------------------------------------------------------------

/// Failures count up per key; a record whose last failure is strictly before
/// `forget_before` starts again from one, so a lockout is never permanent.
pub async fn throttle_counts_failures_and_forgets_after_window<S: Store>(store: &S) {
    let key = "login:1001:ann@example.com";
    let window = 900;
    assert_eq!(store.throttle(key).await.expect("throttle"), None);

    for (n, t) in [(1, 0), (2, 10), (3, 20)] {
        let record = store.record_failure(key, at(t), at(t - window)).await.expect("record_failure");
        assert_eq!(record, ThrottleRecord { key: key.to_owned(), failures: n, last_failure_at: at(t) });
    }
    let three = ThrottleRecord { key: key.to_owned(), failures: 3, last_failure_at: at(20) };
    assert_eq!(store.throttle(key).await.expect("throttle"), Some(three));
    assert_eq!(store.throttle("login:1001:bob@example.com").await.expect("throttle"), None, "keys are independent");

    // The last failure (at 20) is before the window: start again.
    let fresh = store.record_failure(key, at(1_000), at(100)).await.expect("record_failure");
    assert_eq!(fresh, ThrottleRecord { key: key.to_owned(), failures: 1, last_failure_at: at(1_000) });
    // A last failure exactly at `forget_before` still counts.
    let counted = store.record_failure(key, at(1_100), at(1_000)).await.expect("record_failure");
    assert_eq!(counted, ThrottleRecord { key: key.to_owned(), failures: 2, last_failure_at: at(1_100) });
    assert_eq!(store.throttle(key).await.expect("throttle"), Some(counted));
}

/// `clear_throttle` forgets one key (a missing key is fine) and nothing else.
pub async fn clear_throttle_forgets_only_that_key<S: Store>(store: &S) {
    let (ann, bob) = ("login:1001:ann@example.com", "login:1001:bob@example.com");
    store.record_failure(ann, at(0), at(-900)).await.expect("record_failure");
    store.record_failure(ann, at(1), at(-899)).await.expect("record_failure");
    let bobs = store.record_failure(bob, at(2), at(-898)).await.expect("record_failure");

    store.clear_throttle(ann).await.expect("clear_throttle");
    store.clear_throttle("login:1001:nobody@example.com").await.expect("clearing a missing key is fine");
    assert_eq!(store.throttle(ann).await.expect("throttle"), None);
    assert_eq!(store.throttle(bob).await.expect("throttle"), Some(bobs));
    let again = store.record_failure(ann, at(3), at(-897)).await.expect("record_failure");
    assert_eq!(again.failures, 1, "a cleared key starts from one");
}

/// Purging drops exactly the records whose last failure is before the cutoff.
pub async fn purge_throttles_drops_only_forgotten_records<S: Store>(store: &S) {
    let (old, recent) = ("login:1001:old@example.com", "login:1001:new@example.com");
    store.record_failure(old, at(100), at(0)).await.expect("record_failure");
    let kept = store.record_failure(recent, at(200), at(0)).await.expect("record_failure");
    assert_eq!(store.purge_throttles(at(200)).await.expect("purge_throttles"), 1);
    assert_eq!(store.throttle(old).await.expect("throttle"), None);
    assert_eq!(store.throttle(recent).await.expect("throttle"), Some(kept), "a failure at the cutoff still counts");
}

/// Failures recorded at the same moment (several nodes, one attacker) are all
/// counted: each call sees a distinct count.
pub async fn concurrent_failures_are_all_counted<S: Store>(store: &S) {
    let key = "login:1001:ann@example.com";
    let attempts = (0..8).map(|i| store.record_failure(key, at(i), at(-900))).collect();
    let mut counts: Vec<u32> =
        join_all(attempts).await.into_iter().map(|r| r.expect("record_failure").failures).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=8).collect::<Vec<u32>>(), "record_failure is not atomic");
    assert_eq!(store.throttle(key).await.expect("throttle").map(|r| r.failures), Some(8));
}

// ---------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------

fn event(at: Timestamp, kind: AuditKind, site: Option<SiteId>, person: Option<PersonId>) -> AuditEvent {
    AuditEvent {
        at,
        kind,
        site_id: site,
        person_id: person,
        actor_id: None,
        interface: Some(Interface::Portal),
        ip: Some("203.0.113.9".to_owned()),
        detail: format!("{} at {at}", kind.as_str()),
    }
}

fn everything() -> AuditFilter {
    AuditFilter { limit: 1_000, ..AuditFilter::default() }
}

/// Audit events come back exactly as appended, each with its own ID, for
/// every kind and with every optional field present or absent.
pub async fn audit_round_trips_every_field<S: Store>(store: &S) {
    let full = AuditEvent {
        at: at(5),
        kind: AuditKind::SessionRevoked,
        site_id: Some(site_id(1001)),
        person_id: Some(PersonId::new(7)),
        actor_id: Some(PersonId::new(8)),
        interface: Some(Interface::Admin),
        ip: Some("2001:db8::1".to_owned()),
        detail: "revoked from the admin interface".to_owned(),
    };
    let bare = AuditEvent {
        at: at(6),
        kind: AuditKind::LoginThrottled,
        site_id: None,
        person_id: None,
        actor_id: None,
        interface: None,
        ip: None,
        detail: String::new(),
    };
    store.append_audit(&full).await.expect("append_audit");
    store.append_audit(&bare).await.expect("append_audit");
    let kinds: Vec<AuditEvent> =
        AuditKind::ALL.iter().enumerate().map(|(i, kind)| event(at(10 + i as i64), *kind, None, None)).collect();
    for e in &kinds {
        store.append_audit(e).await.expect("append_audit");
    }

    let entries = store.audit(&everything()).await.expect("audit");
    let mut expected: Vec<AuditEvent> = kinds.into_iter().rev().collect();
    expected.extend([bare, full]);
    assert_eq!(events_of(&entries), expected);
    let mut ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), entries.len(), "every audit entry has its own ID");
}

/// `audit` returns the entries matching every set field of the filter
/// (`person_id` matches the person it happened to, not the actor; `since` is
/// inclusive), newest first (later-appended first on equal times), at most
/// `limit`.
pub async fn audit_filters_by_kind_person_site_since_and_limit_newest_first<S: Store>(store: &S) {
    let (a, b) = (Some(site_id(1001)), Some(site_id(2002)));
    let (ann, bob) = (Some(PersonId::new(1)), Some(PersonId::new(2)));
    let e1 = event(at(10), AuditKind::LoginSucceeded, a, ann);
    let e2 = event(at(20), AuditKind::LoginFailed, a, ann);
    let e3 = event(at(30), AuditKind::LoginSucceeded, b, bob);
    let e4 = AuditEvent { actor_id: ann, ..event(at(40), AuditKind::SessionRevoked, a, bob) };
    let e5 = event(at(50), AuditKind::LoginThrottled, None, None);
    let e6 = event(at(50), AuditKind::LoginSucceeded, a, ann);
    for e in [&e1, &e2, &e3, &e4, &e5, &e6] {
        store.append_audit(e).await.expect("append_audit");
    }

    let query = async |filter: AuditFilter| events_of(&store.audit(&filter).await.expect("audit"));
    let all = everything();
    assert_eq!(query(all.clone()).await, vec![e6.clone(), e5.clone(), e4.clone(), e3.clone(), e2.clone(), e1.clone()]);
    assert_eq!(
        query(AuditFilter { kind: Some(AuditKind::LoginSucceeded), ..all.clone() }).await,
        vec![e6.clone(), e3.clone(), e1.clone()],
        "by kind"
    );
    assert_eq!(
        query(AuditFilter { person_id: ann, ..all.clone() }).await,
        vec![e6.clone(), e2.clone(), e1.clone()],
        "by person (not actor)"
    );
    assert_eq!(
        query(AuditFilter { site_id: a, ..all.clone() }).await,
        vec![e6.clone(), e4.clone(), e2.clone(), e1.clone()],
        "by site"
    );
    assert_eq!(
        query(AuditFilter { since: Some(at(30)), ..all.clone() }).await,
        vec![e6.clone(), e5.clone(), e4.clone(), e3.clone()],
        "since is inclusive"
    );
    assert_eq!(query(AuditFilter { limit: 2, ..all.clone() }).await, vec![e6.clone(), e5], "limit keeps the newest");
    let combined =
        AuditFilter { site_id: a, kind: Some(AuditKind::LoginSucceeded), since: Some(at(20)), ..all.clone() };
    assert_eq!(query(combined).await, vec![e6.clone()], "every set field must match");
    assert_eq!(query(AuditFilter { site_id: a, person_id: ann, limit: 1, ..all.clone() }).await, vec![e6]);
    assert_eq!(query(AuditFilter { site_id: Some(site_id(3003)), ..all }).await, vec![]);
}

// ---------------------------------------------------------------------------
// Crate-wide rules
// ---------------------------------------------------------------------------

/// Every timestamp stored is the one passed in, and expiry is judged against
/// the `now` passed in, never the database's clock: records dated in 1970 and
/// in 2100 round-trip, and a session "expiring" in 1970 survives a purge whose
/// `now` is before that.
pub async fn timestamps_are_the_callers_not_the_databases<S: Store>(store: &S) {
    let early = Timestamp::from_unix(1_000);
    let late = Timestamp::from_unix(4_102_444_800); // 2100-01-01
    let site = store.ensure_site(site_id(1001), "Acme", late).await.expect("ensure_site");
    assert_eq!(site.created_at, late);
    let ann = store.create_person(&new_person(site.id, "ann@example.com", Role::User), early).await.expect("create");
    assert_eq!(store.person(ann.id).await.expect("person").map(|p| (p.created_at, p.updated_at)), Some((early, early)));

    let session = SessionRecord { expires_at: early.plus(1_000), ..session_of(&ann, Interface::Portal, early) };
    insert_sessions(store, &[&session]).await;
    let series = RememberRecord { expires_at: early.plus(1_000), ..series_of(&ann, Interface::Portal, early) };
    store.insert_remember(&series).await.expect("insert_remember");
    store.append_audit(&event(early, AuditKind::LoginSucceeded, Some(site.id), Some(ann.id))).await.expect("append");

    let before_expiry = early.plus(500);
    let idle_cutoff = [(Interface::Portal, early)];
    assert_eq!(store.purge_sessions(before_expiry, &idle_cutoff).await.expect("purge_sessions"), vec![]);
    assert_eq!(store.purge_remember(before_expiry).await.expect("purge_remember"), 0);
    assert_eq!(session_in(store, &session.id_hash).await, Some(session.clone()));
    assert_eq!(series_in(store, &series.selector).await, Some(series));
    let audit = store.audit(&AuditFilter { since: Some(early), ..everything() }).await.expect("audit");
    assert_eq!(audit.iter().map(|e| e.event.at).collect::<Vec<_>>(), vec![early]);

    store.touch_sessions(&[(session.id_hash, late)]).await.expect("touch_sessions");
    assert_eq!(session_in(store, &session.id_hash).await.map(|s| s.last_seen_at), Some(late));
}
