//! Which agents are online, per site: what "agents available" in the
//! Messenger means. An agent counts while at least one of their consoles is
//! connected and they have not set themselves away.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tessera_core::{PersonId, SiteId};

#[derive(Debug, Default)]
struct AgentState {
    connections: usize,
    away: bool,
}

#[derive(Debug, Default)]
pub struct Presence {
    sites: Mutex<HashMap<SiteId, HashMap<PersonId, AgentState>>>,
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
    }
}

impl Presence {
    pub fn connect(self: &Arc<Self>, site: SiteId, agent: PersonId) -> Connected {
        let mut sites = self.sites.lock();
        sites.entry(site).or_default().entry(agent).or_default().connections += 1;
        Connected { presence: self.clone(), site, agent }
    }

    pub fn set_away(&self, site: SiteId, agent: PersonId, away: bool) {
        if let Some(state) = self.sites.lock().get_mut(&site).and_then(|a| a.get_mut(&agent)) {
            state.away = away;
        }
    }

    pub fn available(&self, site: SiteId) -> bool {
        self.sites.lock().get(&site).is_some_and(|agents| agents.values().any(|s| !s.away))
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
