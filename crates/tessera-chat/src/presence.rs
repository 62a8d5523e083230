//! Which agents are online, per site: what "agents available" in the
//! Messenger means. An agent counts while at least one of their consoles is
//! connected and they have not set themselves away.

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Instant;

use parking_lot::Mutex;
use tessera_core::{PersonId, SiteId};
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct AgentState {
    connections: usize,
    away: bool,
}

#[derive(Debug, Default)]
pub struct Presence {
    sites: Mutex<HashMap<SiteId, HashMap<PersonId, AgentState>>>,
    /// Other nodes' sites with an available agent, as of their last snapshot.
    remote: Mutex<HashMap<String, (Instant, Vec<SiteId>)>>,
    /// Woken on every local change, so the snapshot goes out at once.
    changed: Arc<Notify>,
}

/// Held by a connected console; dropping it disconnects.
#[derive(Debug)]
pub struct Connected {
    presence: Arc<Presence>,
    site: SiteId,
    agent: PersonId,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut sites = self.presence.sites.lock();
        if let Some(agents) = sites.get_mut(&self.site) {
            if let Some(state) = agents.get_mut(&self.agent) {
                state.connections = state.connections.saturating_sub(1);
                if state.connections == 0 {
                    agents.remove(&self.agent);
                }
            }
            if agents.is_empty() {
                sites.remove(&self.site);
            }
        }
        self.presence.changed.notify_one();
    }
}

impl Presence {
    pub fn connect(self: &Arc<Self>, site: SiteId, agent: PersonId) -> Connected {
        let mut sites = self.sites.lock();
        sites.entry(site).or_default().entry(agent).or_default().connections += 1;
        self.changed.notify_one();
        Connected { presence: self.clone(), site, agent }
    }

    pub fn set_away(&self, site: SiteId, agent: PersonId, away: bool) {
        if let Some(state) = self.sites.lock().get_mut(&site).and_then(|a| a.get_mut(&agent)) {
            state.away = away;
        }
        self.changed.notify_one();
    }

    /// An agent is available on this node or, as of a fresh snapshot, on another.
    pub fn available(&self, site: SiteId) -> bool {
        if self.sites.lock().get(&site).is_some_and(|agents| agents.values().any(|s| !s.away)) {
            return true;
        }
        let remote = self.remote.lock();
        remote.values().any(|(at, sites)| at.elapsed() < crate::cluster::PRESENCE_STALE && sites.contains(&site))
    }

    /// Sites with an available agent on this node (what the snapshot says).
    pub(crate) fn local_sites(&self) -> Vec<u32> {
        let sites = self.sites.lock();
        sites.iter().filter(|(_, agents)| agents.values().any(|s| !s.away)).map(|(site, _)| site.get()).collect()
    }

    pub(crate) fn remote(&self, node: String, sites: Vec<SiteId>) {
        self.remote.lock().insert(node, (Instant::now(), sites));
    }

    pub(crate) fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_is_available_while_connected_and_not_away() {
        let presence = Arc::new(Presence::default());
        let site = SiteId::DEFAULT;
        let agent = PersonId::new(1);
        assert!(!presence.available(site));
        let first = presence.connect(site, agent);
        let second = presence.connect(site, agent);
        assert!(presence.available(site));
        presence.set_away(site, agent, true);
        assert!(!presence.available(site));
        presence.set_away(site, agent, false);
        drop(first);
        assert!(presence.available(site), "one console is still open");
        drop(second);
        assert!(!presence.available(site));
    }
}
