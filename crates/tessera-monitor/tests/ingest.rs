//! The ingestion pipeline against a store that can be held: intake refuses
//! once the byte budget is spent (bounded memory), nothing acknowledged is
//! lost, and a graceful drain writes everything before it returns.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use parking_lot::Mutex;
use tessera_core::{MonitorSessionId, SiteId, Timestamp, TokenHash, VisitorId};
use tessera_monitor::{Busy, Ingest, IngestConfig};
use tessera_store::{MonitorSession, MonitorStore, NewMonitorSession, PageEvent, StoreResult, Visitor};
use tokio::sync::Semaphore;

/// Records what it is asked to write; each write waits for a permit.
#[derive(Debug)]
struct HeldStore {
    gate: Semaphore,
    written: Mutex<Vec<PageEvent>>,
    batches: Mutex<Vec<usize>>,
}

impl HeldStore {
    fn new(open: bool) -> Arc<Self> {
        let permits = if open { Semaphore::MAX_PERMITS } else { 0 };
        Arc::new(Self { gate: Semaphore::new(permits), written: Mutex::default(), batches: Mutex::default() })
    }
}

const UNUSED: &str = "the pipeline only writes page events";

#[async_trait]
impl MonitorStore for HeldStore {
    async fn record_page_events(&self, events: &[PageEvent]) -> StoreResult<()> {
        let permit = self.gate.acquire().await.expect("the gate stays open");
        permit.forget();
        self.batches.lock().push(events.len());
        self.written.lock().extend_from_slice(events);
        Ok(())
    }
    async fn add_visitor_token(&self, _: VisitorId, _: &TokenHash, _: Timestamp) -> StoreResult<()> {
        unreachable!("{UNUSED}")
    }
    async fn visitor_by_monitor_token(&self, _: SiteId, _: &TokenHash) -> StoreResult<Option<Visitor>> {
        unreachable!("{UNUSED}")
    }
    async fn drop_visitor_token(&self, _: &TokenHash) -> StoreResult<bool> {
        unreachable!("{UNUSED}")
    }
    async fn monitor_session(&self, _: SiteId, _: &TokenHash) -> StoreResult<Option<MonitorSession>> {
        unreachable!("{UNUSED}")
    }
    async fn start_monitor_session(&self, _: &NewMonitorSession<'_>) -> StoreResult<MonitorSession> {
        unreachable!("{UNUSED}")
    }
    async fn live_sessions(&self, _: SiteId, _: Timestamp, _: u32) -> StoreResult<Vec<MonitorSession>> {
        unreachable!("{UNUSED}")
    }
    async fn sessions_of_visitor(&self, _: VisitorId, _: u32) -> StoreResult<Vec<MonitorSession>> {
        unreachable!("{UNUSED}")
    }
    async fn page_events_of_session(&self, _: MonitorSessionId, _: u32) -> StoreResult<Vec<PageEvent>> {
        unreachable!("{UNUSED}")
    }
    async fn anonymous_page_events(&self, _: SiteId, _: Timestamp) -> StoreResult<u64> {
        unreachable!("{UNUSED}")
    }
    async fn purge_page_events(&self, _: SiteId, _: Timestamp) -> StoreResult<u64> {
        unreachable!("{UNUSED}")
    }
    async fn erase_visitor(&self, _: VisitorId) -> StoreResult<bool> {
        unreachable!("{UNUSED}")
    }
    async fn merge_visitors(&self, _: VisitorId, _: VisitorId) -> StoreResult<bool> {
        unreachable!("{UNUSED}")
    }
}

fn event(n: usize) -> PageEvent {
    PageEvent {
        site_id: SiteId::DEFAULT,
        visitor_id: Some(VisitorId::new(1)),
        session_id: Some(MonitorSessionId::new(1)),
        tab: Some("t".into()),
        url: format!("https://shop.example/p{n}"),
        title: "Page".into(),
        referrer: String::new(),
        ip: None,
        at: Timestamp::from_unix(1_000),
    }
}

#[tokio::test]
async fn a_stalled_store_fills_the_budget_then_intake_refuses_and_nothing_accepted_is_lost() {
    let store = HeldStore::new(false);
    let config = IngestConfig { budget_bytes: 64 * 1024, max_batch: 100 };
    let (ingest, drain) = Ingest::start(store.clone(), config);
    let mut accepted = 0;
    let mut refused = 0;
    for n in 0..10_000 {
        match ingest.submit(vec![event(n)]) {
            Ok(()) => accepted += 1,
            Err(Busy) => refused += 1,
        }
    }
    assert!(accepted > 0 && refused > 0, "accepted {accepted}, refused {refused}");
    assert!(ingest.queued_bytes(&config) <= config.budget_bytes, "memory stays within the budget");
    assert_eq!(ingest.stats().refused.load(Ordering::Relaxed), refused);

    // The store recovers: everything that was acknowledged is written, in order.
    store.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    drain.drain().await;
    let written = store.written.lock();
    assert_eq!(written.len(), accepted as usize);
    let urls: Vec<&str> = written.iter().map(|e| e.url.as_str()).collect();
    let expected: Vec<String> = (0..accepted).map(|n| format!("https://shop.example/p{n}")).collect();
    assert_eq!(urls, expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(store.batches.lock().iter().all(|b| *b <= 100), "batches stay within max_batch");
}

#[tokio::test]
async fn a_graceful_drain_writes_what_was_acknowledged_and_refuses_what_comes_after() {
    let store = HeldStore::new(true);
    let (ingest, drain) = Ingest::start(store.clone(), IngestConfig::default());
    for n in 0..1_000 {
        ingest.submit(vec![event(n), event(n)]).expect("room in the budget");
    }
    drain.drain().await;
    assert_eq!(store.written.lock().len(), 2_000);
    assert!(store.batches.lock().len() < 1_000, "writes were batched: {:?}", store.batches.lock().len());
    assert_eq!(ingest.submit(vec![event(0)]), Err(Busy), "stopped: nothing new is acknowledged");
}
