//! The in-memory session cache in front of the store.
//!
//! Why not moka or dashmap: validation must stay a single uncontended read
//! lock and a hash-map probe, and revocation needs *tombstones*: once a
//! session is revoked, a request that loaded it from the store a moment
//! earlier must not be able to put it back. [`SessionCache::insert_loaded`]
//! therefore only inserts into an empty slot, and revocation overwrites the
//! slot with [`Slot::Revoked`]. Keys are SHA-256 outputs, already uniformly
//! random, so the map hashes them by taking their first eight bytes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;
use tessera_core::{Timestamp, TokenHash};

use crate::sessions::LiveSession;

const SHARDS: usize = 64;
/// Tombstones only need to outlive in-flight store loads; a minute is plenty.
const TOMBSTONE_SECONDS: i64 = 60;

#[derive(Clone, Debug)]
pub(crate) enum Slot {
    Live(Arc<LiveSession>),
    /// Revoked at this time; loads racing the revocation must not resurrect it.
    Revoked(Timestamp),
}

/// Hashes a key that is already a cryptographic hash by taking eight bytes of it.
#[derive(Default)]
pub(crate) struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }
    fn write_usize(&mut self, _length_prefix: usize) {}
}

type Shard = HashMap<TokenHash, Slot, BuildHasherDefault<PrefixHasher>>;

#[derive(Debug)]
pub(crate) struct SessionCache {
    shards: Box<[RwLock<Shard>]>,
    per_shard: usize,
}

impl SessionCache {
    pub fn new(capacity: usize) -> Self {
        let shards = (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect();
        Self { shards, per_shard: capacity.div_ceil(SHARDS).max(1) }
    }

    fn shard(&self, key: &TokenHash) -> &RwLock<Shard> {
        // The last byte picks the shard; the first eight pick the bucket.
        &self.shards[key.as_bytes()[31] as usize % SHARDS]
    }

    pub fn get(&self, key: &TokenHash) -> Option<Slot> {
        self.shard(key).read().get(key).cloned()
    }

    /// Inserts a session just loaded from the store, unless the slot is taken
    /// (by a tombstone, or by a racing load). Returns what the slot holds.
    pub fn insert_loaded(&self, key: TokenHash, session: Arc<LiveSession>, now: Timestamp) -> Slot {
        let mut shard = self.shard(&key).write();
        if let Some(existing) = shard.get(&key) {
            return existing.clone();
        }
        self.make_room(&mut shard, now);
        shard.insert(key, Slot::Live(session.clone()));
        Slot::Live(session)
    }

    /// Inserts a session the server just created; false if a tombstone is
    /// already there. A fresh random ID only has one when a revocation swept
    /// it from the store between its insert and this call (a theft response
    /// or an admin revoking it that instant), and that revocation must win.
    pub fn insert_new(&self, key: TokenHash, session: Arc<LiveSession>, now: Timestamp) -> bool {
        let mut shard = self.shard(&key).write();
        if matches!(shard.get(&key), Some(Slot::Revoked(_))) {
            return false;
        }
        self.make_room(&mut shard, now);
        shard.insert(key, Slot::Live(session));
        true
    }

    /// Replaces a live entry with a fresher load; false if tombstoned.
    pub fn replace_live(&self, key: TokenHash, session: Arc<LiveSession>, now: Timestamp) -> bool {
        let mut shard = self.shard(&key).write();
        if matches!(shard.get(&key), Some(Slot::Revoked(_))) {
            return false;
        }
        self.make_room(&mut shard, now);
        shard.insert(key, Slot::Live(session));
        true
    }

    /// Marks `key` revoked: no later load can bring it back into the cache.
    pub fn revoke(&self, key: TokenHash, now: Timestamp) {
        let mut shard = self.shard(&key).write();
        self.make_room(&mut shard, now);
        shard.insert(key, Slot::Revoked(now));
    }

    /// Drops every live entry, keeping tombstones: after a cluster link
    /// change this node may have missed revocations. Returns how many went.
    pub fn clear_live(&self) -> usize {
        let mut dropped = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            let before = shard.len();
            shard.retain(|_, slot| matches!(slot, Slot::Revoked(_)));
            dropped += before - shard.len();
        }
        dropped
    }

    /// Live entries (for metrics; takes each shard's read lock in turn).
    pub fn live_len(&self) -> usize {
        self.shards.iter().map(|s| s.read().values().filter(|slot| matches!(slot, Slot::Live(_))).count()).sum()
    }

    /// Keeps the shard under its share of the capacity: first old tombstones,
    /// then arbitrary live entries (they are only a cache of the store).
    fn make_room(&self, shard: &mut Shard, now: Timestamp) {
        if shard.len() < self.per_shard {
            return;
        }
        shard.retain(|_, slot| !matches!(slot, Slot::Revoked(at) if now.since(*at) > TOMBSTONE_SECONDS));
        let mut excess = (shard.len() + 1).saturating_sub(self.per_shard);
        if excess > 0 {
            shard.retain(|_, slot| {
                if excess > 0 && matches!(slot, Slot::Live(_)) {
                    excess -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use tessera_core::{DisplayName, Email, Interface, PersonId, Role, SessionToken, SiteId};
    use tessera_store::SessionRecord;

    use super::*;
    use crate::sessions::PersonView;

    fn live(key: TokenHash) -> Arc<LiveSession> {
        let t = Timestamp::from_unix(0);
        let record = SessionRecord {
            id_hash: key,
            person_id: PersonId::new(1),
            site_id: SiteId::DEFAULT,
            interface: Interface::Portal,
            created_at: t,
            last_seen_at: t,
            expires_at: t.plus(100),
            restored: false,
            remember: None,
            ip: None,
            user_agent: None,
        };
        let person = PersonView {
            id: PersonId::new(1),
            site_id: SiteId::DEFAULT,
            email: Email::parse("a@example.com").expect("email"),
            name: DisplayName::parse("A").expect("name"),
            role: Role::User,
        };
        Arc::new(LiveSession::new(record, person))
    }

    #[test]
    fn a_load_that_races_a_revocation_cannot_resurrect_the_session() {
        let cache = SessionCache::new(1_000);
        let key = SessionToken::generate().hash();
        let now = Timestamp::from_unix(10);
        // The request read the row from the store, then the logout won the race.
        let loaded = live(key);
        cache.revoke(key, now);
        assert!(matches!(cache.insert_loaded(key, loaded, now), Slot::Revoked(_)));
        assert!(matches!(cache.get(&key), Some(Slot::Revoked(_))));
    }

    #[test]
    fn a_new_session_cannot_overwrite_a_tombstone() {
        let cache = SessionCache::new(1_000);
        let key = SessionToken::generate().hash();
        let now = Timestamp::from_unix(10);
        // Stored, then swept by a revocation before it reached the cache.
        cache.revoke(key, now);
        assert!(!cache.insert_new(key, live(key), now));
        assert!(matches!(cache.get(&key), Some(Slot::Revoked(_))));
        let fresh = SessionToken::generate().hash();
        assert!(cache.insert_new(fresh, live(fresh), now));
    }

    #[test]
    fn a_second_racing_load_gets_the_first_loads_entry() {
        let cache = SessionCache::new(1_000);
        let key = SessionToken::generate().hash();
        let now = Timestamp::from_unix(10);
        let first = live(key);
        cache.insert_loaded(key, first.clone(), now);
        match cache.insert_loaded(key, live(key), now) {
            Slot::Live(s) => assert!(Arc::ptr_eq(&s, &first)),
            Slot::Revoked(_) => panic!("not revoked"),
        }
    }

    #[test]
    fn the_cache_stays_bounded_and_drops_old_tombstones_first() {
        let cache = SessionCache::new(SHARDS * 4);
        let now = Timestamp::from_unix(1_000);
        for _ in 0..SHARDS * 40 {
            let key = SessionToken::generate().hash();
            cache.insert_new(key, live(key), now);
        }
        assert!(cache.len() <= SHARDS * 4, "{} entries", cache.len());
        let old = SessionToken::generate().hash();
        cache.revoke(old, Timestamp::from_unix(0));
        for _ in 0..SHARDS * 40 {
            let key = SessionToken::generate().hash();
            cache.insert_new(key, live(key), now);
        }
        assert!(cache.get(&old).is_none(), "a minute-old tombstone is dropped under pressure");
    }
}
