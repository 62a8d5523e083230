//! The load of the Redis-outage test: loops of session-validated requests,
//! round-robin on every node and through nginx, and a visitor chatting;
//! what went wrong, tallied by kind.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::common::http::answer;
use crate::messenger::ChatClient;

/// Occurrences of one kind of outcome ("what, where, when: status"): how
/// many, and the first one in full.
#[derive(Debug, Default)]
pub struct Tally(BTreeMap<String, (usize, String)>);

impl Tally {
    fn add(&mut self, key: String, example: String) {
        self.0.entry(key).or_insert((0, example)).0 += 1;
    }

    pub fn total(&self) -> usize {
        self.0.values().map(|(n, _)| n).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> =
            self.0.iter().map(|(key, (n, first))| format!("  {n} x {key}\n      first: {first}")).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// What the load saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub requests: u64,
    /// Every 5xx: which request, on which node, when, and what it said.
    pub server_errors: Tally,
    /// Requests that got no answer at all.
    pub transport_errors: Tally,
    /// The valid session refused.
    pub refused: Tally,
    /// The revoked session accepted after its revocation returned.
    pub accepted_revoked: Tally,
}

/// When a request was sent, relative to the outage.
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    BeforeOutage,
    DuringOutage,
    AfterRedisReturned,
}

impl Phase {
    const ALL: [Phase; 3] = [Phase::BeforeOutage, Phase::DuringOutage, Phase::AfterRedisReturned];

    fn describe(self) -> &'static str {
        match self {
            Phase::BeforeOutage => "before the outage",
            Phase::DuringOutage => "during the outage",
            Phase::AfterRedisReturned => "after Redis returned",
        }
    }
}

/// The session a request loop sends.
#[derive(Debug, Clone, Copy)]
pub enum Session {
    /// Must get a 200 throughout.
    Valid,
    /// Must get a 401 for every request sent after [`Load::mark_revoked`].
    Revoked,
}

/// What the load's tasks share.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    /// Whether the revocation of the [`Session::Revoked`] session has returned.
    revoked: AtomicBool,
    /// The [`Phase`], as its index in [`Phase::ALL`].
    phase: AtomicUsize,
    seen: Mutex<Seen>,
}

/// The running load: its tasks, and what they saw so far.
#[derive(Debug, Default)]
pub struct Load {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    /// Requests that stamp what they see with `phase` from now on.
    pub fn set_phase(&self, phase: Phase) {
        self.shared.phase.store(phase as usize, Ordering::SeqCst);
    }

    /// The revocation of the [`Session::Revoked`] session has returned.
    pub fn mark_revoked(&self) {
        self.shared.revoked.store(true, Ordering::SeqCst);
    }

    /// GETs `path` with the `Cookie` header `cookies`, round-robin on
    /// `targets` (name, base URL), every 10 ms until stopped.
    pub fn requests(
        &mut self,
        http: &reqwest::Client,
        targets: &[(String, String)],
        path: &'static str,
        cookies: String,
        session: Session,
    ) {
        let (shared, http, targets) = (self.shared.clone(), http.clone(), targets.to_vec());
        self.tasks.push(tokio::spawn(async move {
            for round in 0.. {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let (name, base) = &targets[round % targets.len()];
                let after_revocation = shared.revoked.load(Ordering::SeqCst);
                let phase = Phase::ALL[shared.phase.load(Ordering::SeqCst)].describe();
                let which = match session {
                    Session::Valid => "valid",
                    Session::Revoked => "revoked",
                };
                let what = format!("{which} session GET {path} on {name} {phase}");
                let started = Instant::now();
                match answer(http.get(format!("{base}{path}")).header("cookie", &cookies)).await {
                    Ok(res) => {
                        let mut seen = shared.seen.lock().expect("load");
                        seen.requests += 1;
                        let example = format!(
                            "{} after {:?}: {:?} {:.300}",
                            res.status,
                            started.elapsed(),
                            res.location,
                            res.body
                        );
                        let key = format!("{what}: {}", res.status);
                        if res.status >= 500 {
                            seen.server_errors.add(key, example);
                        } else {
                            match session {
                                Session::Valid if res.status != 200 => seen.refused.add(key, example),
                                Session::Revoked if after_revocation && res.status != 401 => {
                                    seen.accepted_revoked.add(key, example);
                                }
                                _ => {}
                            }
                        }
                    }
                    Err(e) => shared.seen.lock().expect("load").transport_errors.add(what, e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }

    /// The visitor says "under load N" every 200 ms until stopped.
    pub fn chat(&mut self, visitor: &Arc<ChatClient>) {
        let (shared, visitor) = (self.shared.clone(), visitor.clone());
        self.tasks.push(tokio::spawn(async move {
            for i in 1.. {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                visitor.send(format!("under load {i}"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }

    /// Stops every task, waits for them to end, and returns what they saw.
    pub async fn stop(self) -> Seen {
        self.shared.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("a load task");
        }
        std::mem::take(&mut *self.shared.seen.lock().expect("load"))
    }
}
