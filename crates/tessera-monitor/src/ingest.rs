//! The ingestion pipeline: page views are acknowledged once queued in
//! memory and written to the store in batches by one task, off the request
//! path.
//!
//! - **Bounded.** The queue holds at most a byte budget of events; when the
//!   store falls behind and the budget is spent, [`Ingest::submit`] refuses
//!   (the endpoint answers 503 with `Retry-After`) instead of growing.
//! - **No loss on a graceful stop.** [`Drain::drain`] stops intake and
//!   writes everything already acknowledged before it returns.
//! - **What a crash loses:** the events acknowledged but not yet written, at
//!   most the byte budget (typically well under a second of traffic: the
//!   writer takes a batch as soon as one is waiting).
//! - A failed write is retried with backoff, never dropped: meanwhile the
//!   budget fills and intake refuses, which is the back-pressure.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tessera_store::{MonitorStore, PageEvent};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Refused: the queue's byte budget is spent (or the pipeline is stopping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many page views are waiting to be stored; try again shortly")]
pub struct Busy;

#[derive(Clone, Copy, Debug)]
pub struct IngestConfig {
    /// Bytes of queued events (an estimate per event) before intake refuses.
    pub budget_bytes: usize,
    /// Events per store write.
    pub max_batch: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { budget_bytes: 32 << 20, max_batch: 4_000 }
    }
}

/// Counters for metrics and the benchmark.
#[derive(Debug, Default)]
pub struct IngestStats {
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub written: AtomicU64,
    pub batches: AtomicU64,
    pub write_errors: AtomicU64,
}

struct Batch {
    events: Vec<PageEvent>,
    budget: OwnedSemaphorePermit,
}

/// The intake side; cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::UnboundedSender<Batch>,
    budget: Arc<Semaphore>,
    stats: Arc<IngestStats>,
    written: watch::Receiver<u64>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest").field("free_bytes", &self.budget.available_permits()).finish_non_exhaustive()
    }
}

/// Stops the pipeline once everything acknowledged is written.
#[derive(Debug)]
pub struct Drain {
    stop: oneshot::Sender<()>,
    writer: JoinHandle<()>,
}

impl Drain {
    pub async fn drain(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.writer.await {
            tracing::error!(error = %e, "the page-view writer ended abnormally");
        }
    }
}

/// What an event costs against the budget: its text plus the struct.
fn cost(e: &PageEvent) -> usize {
    std::mem::size_of::<PageEvent>()
        + e.url.len()
        + e.title.len()
        + e.referrer.len()
        + e.tab.as_ref().map_or(0, String::len)
        + e.ip.as_ref().map_or(0, String::len)
}

impl Ingest {
    /// Starts the writer task (on the current Tokio runtime).
    pub fn start(store: Arc<dyn MonitorStore + Send + Sync>, config: IngestConfig) -> (Self, Drain) {
        let (queue, rx) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let stats = Arc::new(IngestStats::default());
        let budget = Arc::new(Semaphore::new(config.budget_bytes.min(Semaphore::MAX_PERMITS)));
        let (wrote, written) = watch::channel(0);
        let writer = tokio::spawn(write_loop(store, rx, stopped, config.max_batch.max(1), stats.clone(), wrote));
        (Self { queue, budget, stats, written }, Drain { stop, writer })
    }

    /// Queues all of `events` or none.
    pub fn submit(&self, events: Vec<PageEvent>) -> Result<(), Busy> {
        if events.is_empty() {
            return Ok(());
        }
        let bytes: usize = events.iter().map(cost).sum();
        let permits = u32::try_from(bytes).map_err(|_| Busy)?;
        let refused = |stats: &IngestStats| {
            stats.refused.fetch_add(events.len() as u64, Ordering::Relaxed);
            Busy
        };
        let Ok(budget) = self.budget.clone().try_acquire_many_owned(permits) else {
            return Err(refused(&self.stats));
        };
        let n = events.len() as u64;
        match self.queue.send(Batch { events, budget }) {
            Ok(()) => {
                self.stats.accepted.fetch_add(n, Ordering::Relaxed);
                Ok(())
            }
            Err(_) => {
                self.stats.refused.fetch_add(n, Ordering::Relaxed);
                Err(Busy)
            }
        }
    }

    /// Changes after every write: live views refresh when it does.
    pub fn written(&self) -> watch::Receiver<u64> {
        self.written.clone()
    }

    pub fn stats(&self) -> &IngestStats {
        &self.stats
    }

    /// Bytes of events waiting to be written.
    pub fn queued_bytes(&self, config: &IngestConfig) -> usize {
        config.budget_bytes.saturating_sub(self.budget.available_permits())
    }
}

async fn write_loop(
    store: Arc<dyn MonitorStore + Send + Sync>,
    mut rx: mpsc::UnboundedReceiver<Batch>,
    mut stopped: oneshot::Receiver<()>,
    max_batch: usize,
    stats: Arc<IngestStats>,
    wrote: watch::Sender<u64>,
) {
    let mut pending: VecDeque<Batch> = VecDeque::new();
    let mut stopping = false;
    loop {
        if pending.is_empty() {
            tokio::select! {
                biased;
                _ = &mut stopped, if !stopping => {
                    stopping = true;
                    rx.close(); // nothing new; what is queued still comes out
                    continue;
                }
                got = rx.recv() => match got {
                    Some(batch) => pending.push_back(batch),
                    None => return, // closed and empty: everything acknowledged is written
                },
            }
        }
        // Whatever else is already queued, up to one write's worth, in order.
        let mut queued: usize = pending.iter().map(|b| b.events.len()).sum();
        while queued < max_batch {
            let Ok(batch) = rx.try_recv() else { break };
            queued += batch.events.len();
            pending.push_back(batch);
        }
        let mut events: Vec<PageEvent> = Vec::new();
        let mut budgets: Vec<OwnedSemaphorePermit> = Vec::new();
        while pending.front().is_some_and(|b| events.is_empty() || events.len() + b.events.len() <= max_batch) {
            let Some(mut batch) = pending.pop_front() else { break };
            events.append(&mut batch.events);
            budgets.push(batch.budget);
        }
        write_with_retry(&*store, &events, &stats).await;
        stats.written.fetch_add(events.len() as u64, Ordering::Relaxed);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        drop(budgets); // the budget comes back only once written
        wrote.send_modify(|n| *n += 1);
    }
}

/// Retries until the store takes the batch: acknowledged events are never dropped.
async fn write_with_retry(store: &(dyn MonitorStore + Send + Sync), events: &[PageEvent], stats: &IngestStats) {
    let mut delay = Duration::from_millis(50);
    loop {
        match store.record_page_events(events).await {
            Ok(()) => return,
            Err(e) => {
                stats.write_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, events = events.len(), retry_in = ?delay, "writing page views failed");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
