//! Conformance checks of visitor monitoring: visits numbered per visitor,
//! page views written in batches, the live list, retention, and erasing or
//! merging a visitor.

use tessera_core::{MonitorToken, SiteId, Timestamp, VisitorId, VisitorToken};

use super::{at, site_id};
use crate::{
    Author, ChatOwner, MonitorSession, MonitoringSettings, NewConversation, NewMonitorSession, PageEvent, SiteSettings,
    Store, StoreError,
};

async fn visitor_on<S: Store>(store: &S, site: SiteId) -> VisitorId {
    store.ensure_site(site, "Conformance", at(0)).await.expect("ensure_site");
    let visitor = store.create_visitor(site, &VisitorToken::generate().hash(), true, at(0)).await;
    visitor.expect("create_visitor").id
}

async fn visit<S: Store>(store: &S, visitor: VisitorId, previous: Option<Timestamp>, now: Timestamp) -> MonitorSession {
    let site = store.visitor(visitor).await.expect("visitor").expect("it exists").site_id;
    let token = MonitorToken::generate().hash();
    let new = NewMonitorSession { site_id: site, visitor_id: visitor, token: &token, previous_visit_at: previous, now };
    store.start_monitor_session(&new).await.expect("start_monitor_session")
}

fn view(session: &MonitorSession, url: &str, when: Timestamp) -> PageEvent {
    PageEvent {
        site_id: session.site_id,
        visitor_id: Some(session.visitor_id),
        session_id: Some(session.id),
        tab: Some("tab-1".to_owned()),
        url: url.to_owned(),
        title: format!("Title of {url}"),
        referrer: String::new(),
        ip: Some("192.0.2.0".to_owned()),
        at: when,
    }
}

pub async fn monitoring_settings_round_trip<S: Store>(store: &S) {
    let site = site_id(3001);
    let mut settings = SiteSettings::named("Monitored");
    assert_eq!(settings.monitoring, MonitoringSettings::default());
    settings.monitoring =
        MonitoringSettings { idle_minutes: 45, retention_days: 7, cookieless_counting: true, full_ip: true };
    store.create_site(site, &settings, at(0)).await.expect("create_site");
    let back = store.site(site).await.expect("site").expect("it exists");
    assert_eq!(back.settings.monitoring, settings.monitoring);
    settings.monitoring.cookieless_counting = false;
    assert!(store.update_site(site, &settings, at(1)).await.expect("update_site"));
    let back = store.site(site).await.expect("site").expect("it exists");
    assert_eq!(back.settings.monitoring, settings.monitoring);
}

pub async fn visits_are_numbered_per_visitor_and_know_the_previous_one<S: Store>(store: &S) {
    let visitor = visitor_on(store, site_id(1001)).await;
    let first = visit(store, visitor, None, at(100)).await;
    assert_eq!((first.visit_number, first.previous_visit_at), (1, None));
    assert_eq!((first.started_at, first.last_seen_at), (at(100), at(100)));
    store.record_page_events(&[view(&first, "https://shop.example/a", at(400))]).await.expect("record");

    // A signed last-visit cookie may vouch for a visit the store does not know;
    // the visitor's own history wins when it has one.
    let second = visit(store, visitor, Some(at(50)), at(90_000)).await;
    assert_eq!((second.visit_number, second.previous_visit_at), (2, Some(at(400))));
    let stranger = visitor_on(store, site_id(1001)).await;
    let vouched = visit(store, stranger, Some(at(50)), at(90_000)).await;
    assert_eq!((vouched.visit_number, vouched.previous_visit_at), (1, Some(at(50))));

    let token = MonitorToken::generate().hash();
    let new = NewMonitorSession {
        site_id: site_id(1001),
        visitor_id: visitor,
        token: &token,
        previous_visit_at: None,
        now: at(1),
    };
    let found = |site| async move { store.monitor_session(site, &token).await.expect("monitor_session") };
    assert_eq!(found(site_id(1001)).await, None);
    let started = store.start_monitor_session(&new).await.expect("start");
    assert_eq!(found(site_id(1001)).await, Some(started));
    assert_eq!(found(site_id(1002)).await, None, "a token names a visit on its own site only");
    assert!(matches!(store.start_monitor_session(&new).await, Err(StoreError::Conflict(_))));
}

pub async fn page_events_are_written_in_batches_and_move_their_visit_forward_only<S: Store>(store: &S) {
    let visitor = visitor_on(store, site_id(1001)).await;
    let session = visit(store, visitor, None, at(100)).await;
    let batch: Vec<PageEvent> =
        (0..5000).map(|i| view(&session, &format!("https://shop.example/p{i}"), at(100 + i / 10))).collect();
    store.record_page_events(&batch).await.expect("a large batch");
    let now = store.live_sessions(site_id(1001), at(0), 10).await.expect("live");
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].last_seen_at, at(599));
    assert_eq!(now[0].current_url, "https://shop.example/p4999");
    // A late event (an older time) is kept but does not move the visit back.
    store.record_page_events(&[view(&session, "https://shop.example/late", at(150))]).await.expect("late");
    let now = store.live_sessions(site_id(1001), at(0), 10).await.expect("live");
    assert_eq!((now[0].last_seen_at, now[0].current_url.as_str()), (at(599), "https://shop.example/p4999"));
    let trail = store.page_events_of_session(session.id, 3).await.expect("trail");
    let urls: Vec<&str> = trail.iter().map(|e| e.url.as_str()).collect();
    assert_eq!(urls, ["https://shop.example/p4998", "https://shop.example/p4999", "https://shop.example/late"]);
    assert_eq!(trail[0], batch[4998], "every field round-trips");

    let anonymous = PageEvent { visitor_id: None, session_id: None, tab: None, ip: None, ..batch[0].clone() };
    store.record_page_events(&[anonymous.clone(), anonymous]).await.expect("anonymous");
    assert_eq!(store.anonymous_page_events(site_id(1001), at(0)).await.expect("count"), 2);
    assert_eq!(store.anonymous_page_events(site_id(1002), at(0)).await.expect("count"), 0);
}

pub async fn live_sessions_are_the_sites_recent_visits_newest_first<S: Store>(store: &S) {
    let a = visit(store, visitor_on(store, site_id(1001)).await, None, at(100)).await;
    let b = visit(store, visitor_on(store, site_id(1001)).await, None, at(200)).await;
    let other = visit(store, visitor_on(store, site_id(1002)).await, None, at(300)).await;
    store.record_page_events(&[view(&a, "https://x.example/", at(500))]).await.expect("record");
    let ids = |list: Vec<MonitorSession>| list.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(store.live_sessions(site_id(1001), at(0), 10).await.expect("live")), [a.id, b.id]);
    assert_eq!(ids(store.live_sessions(site_id(1001), at(300), 10).await.expect("live")), [a.id]);
    assert_eq!(ids(store.live_sessions(site_id(1001), at(0), 1).await.expect("live")), [a.id]);
    assert_eq!(ids(store.live_sessions(site_id(1002), at(0), 10).await.expect("live")), [other.id]);
    assert_eq!(ids(store.sessions_of_visitor(a.visitor_id, 10).await.expect("of visitor")), [a.id]);

    // One batch moves every visit in it, each to its own latest page.
    let batch = [
        view(&a, "https://x.example/a1", at(600)),
        view(&b, "https://x.example/b1", at(601)),
        view(&a, "https://x.example/a2", at(602)),
        view(&b, "https://x.example/b0", at(100)),
    ];
    store.record_page_events(&batch).await.expect("record");
    let now = store.live_sessions(site_id(1001), at(0), 10).await.expect("live");
    let pages: Vec<(&str, Timestamp)> = now.iter().map(|s| (s.current_url.as_str(), s.last_seen_at)).collect();
    assert_eq!(pages, [("https://x.example/a2", at(602)), ("https://x.example/b1", at(601))]);
}

pub async fn purge_page_events_drops_only_the_sites_old_views<S: Store>(store: &S) {
    let mine = visit(store, visitor_on(store, site_id(1001)).await, None, at(0)).await;
    let theirs = visit(store, visitor_on(store, site_id(1002)).await, None, at(0)).await;
    let events =
        [view(&mine, "https://a/1", at(10)), view(&mine, "https://a/2", at(20)), view(&theirs, "https://b/", at(10))];
    store.record_page_events(&events).await.expect("record");
    assert_eq!(store.purge_page_events(site_id(1001), at(20)).await.expect("purge"), 1);
    assert_eq!(store.page_events_of_session(mine.id, 10).await.expect("trail").len(), 1);
    assert_eq!(store.page_events_of_session(theirs.id, 10).await.expect("trail").len(), 1);
}

pub async fn erasing_a_visitor_removes_its_visits_views_and_guest_conversations<S: Store>(store: &S) {
    let site = site_id(1001);
    let visitor = visitor_on(store, site).await;
    let keep = visitor_on(store, site).await;
    let session = visit(store, visitor, None, at(0)).await;
    store.record_page_events(&[view(&session, "https://a/", at(1))]).await.expect("record");
    let owner = ChatOwner { visitor: Some(visitor), verified_user: None };
    let new = NewConversation { site_id: site, owner, visitor_name: "Eve".into(), visitor_email: String::new() };
    let conversation = store.create_conversation(&new, at(2)).await.expect("conversation");
    store.append_message(conversation.id, Author::Visitor, "hello", None, at(3)).await.expect("append");

    assert!(store.erase_visitor(visitor).await.expect("erase"));
    assert_eq!(store.visitor(visitor).await.expect("visitor"), None);
    assert!(store.sessions_of_visitor(visitor, 10).await.expect("visits").is_empty());
    assert!(store.page_events_of_session(session.id, 10).await.expect("views").is_empty());
    assert_eq!(store.conversation(conversation.id).await.expect("conversation"), None);
    assert!(store.visitor(keep).await.expect("visitor").is_some(), "only that visitor");
    assert!(!store.erase_visitor(visitor).await.expect("erase twice"));
}

pub async fn merging_visitors_moves_visits_and_conversations_within_a_site<S: Store>(store: &S) {
    let site = site_id(1001);
    let chat_visitor = visitor_on(store, site).await;
    let tag_visitor = visitor_on(store, site).await;
    let elsewhere = visitor_on(store, site_id(1002)).await;
    let owner = ChatOwner { visitor: Some(chat_visitor), verified_user: None };
    let new = NewConversation { site_id: site, owner, visitor_name: String::new(), visitor_email: String::new() };
    let conversation = store.create_conversation(&new, at(1)).await.expect("conversation");
    let session = visit(store, chat_visitor, None, at(2)).await;

    assert!(!store.merge_visitors(chat_visitor, elsewhere).await.expect("merge"), "never across sites");
    assert!(store.merge_visitors(chat_visitor, tag_visitor).await.expect("merge"));
    assert_eq!(store.visitor(chat_visitor).await.expect("visitor"), None);
    let moved = store.conversation(conversation.id).await.expect("conversation").expect("kept");
    assert_eq!(moved.owner.visitor, Some(tag_visitor));
    let visits = store.sessions_of_visitor(tag_visitor, 10).await.expect("visits");
    assert_eq!(visits.iter().map(|v| v.id).collect::<Vec<_>>(), [session.id]);
}

pub async fn a_visitor_can_have_several_monitoring_tokens_each_on_its_site<S: Store>(store: &S) {
    let visitor = visitor_on(store, site_id(1001)).await;
    let (a, b) = (VisitorToken::generate().hash(), VisitorToken::generate().hash());
    store.add_visitor_token(visitor, &a, at(1)).await.expect("first token");
    store.add_visitor_token(visitor, &b, at(2)).await.expect("second token");
    assert!(matches!(store.add_visitor_token(visitor, &a, at(3)).await, Err(StoreError::Conflict(_))));
    for t in [&a, &b] {
        let found = store.visitor_by_monitor_token(site_id(1001), t).await.expect("lookup");
        assert_eq!(found.map(|v| v.id), Some(visitor));
        assert_eq!(store.visitor_by_monitor_token(site_id(1002), t).await.expect("lookup"), None, "own site only");
    }
    assert!(store.drop_visitor_token(&a).await.expect("drop"));
    assert!(!store.drop_visitor_token(&a).await.expect("drop twice"));
    assert_eq!(store.visitor_by_monitor_token(site_id(1001), &a).await.expect("lookup"), None);

    // Merging carries the tokens over.
    let into = visitor_on(store, site_id(1001)).await;
    assert!(store.merge_visitors(visitor, into).await.expect("merge"));
    let found = store.visitor_by_monitor_token(site_id(1001), &b).await.expect("lookup");
    assert_eq!(found.map(|v| v.id), Some(into));
}
