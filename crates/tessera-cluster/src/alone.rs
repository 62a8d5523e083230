use async_trait::async_trait;

use crate::{Cluster, ClusterError, Handler, Link, LinkHandler, NodeId, Topic};

/// The single-node cluster: nobody to tell, nothing to miss.
#[derive(Debug, Default, Clone, Copy)]
pub struct Alone;

#[async_trait]
impl Cluster for Alone {
    fn node(&self) -> Option<&NodeId> {
        None
    }
    fn link(&self) -> Link {
        Link::Alone
    }
    fn errors(&self) -> u64 {
        0
    }
    fn cache_trusted(&self) -> bool {
        true
    }
    fn on_message(&self, _topic: Topic, _handler: Handler) {}
    fn on_link(&self, _handler: LinkHandler) {}
    fn publish(&self, _topic: Topic, _payload: Vec<u8>) {}
    async fn publish_confirmed(&self, _topic: Topic, _payload: Vec<u8>) -> Result<(), ClusterError> {
        Ok(())
    }
    async fn shared_get(&self, _key: &str) -> Option<Vec<u8>> {
        None
    }
    async fn shared_fill(&self, _key: &str, _value: &[u8], _ttl_seconds: u64) {}
    async fn shared_overwrite(&self, _entries: &[(String, Vec<u8>)], _ttl_seconds: u64) {}
}
