//! Growing delays after failed logins. Never a permanent lockout: the delay
//! is capped, and failures are forgotten after a quiet period.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Weak};

use tessera_core::{Email, SiteId, Timestamp};
use tessera_store::ThrottleRecord;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::ThrottleSettings;

/// The throttle key of an account: site and normalised email. Anything that
/// is not an email shares one bucket per site, so junk cannot create rows
/// without bound.
pub(crate) fn account_key(site: SiteId, email_text: &str) -> String {
    match Email::parse(email_text) {
        Ok(email) => format!("account:{site}:{email}"),
        Err(_) => format!("account:{site}:<not an email>"),
    }
}

/// The throttle key of a client address. IPv6 clients are keyed by their /64:
/// one subscriber usually holds a whole /64, so per-address keys would give an
/// attacker 2^64 fresh buckets.
pub(crate) fn ip_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => format!("ip:{ip}"),
    }
}

/// Serialises, within this process, the login attempts that share a throttle
/// key, so that a burst of parallel guesses cannot all read "no failures yet"
/// before any failure is written: each attempt sees the ones before it.
#[derive(Debug, Default)]
pub(crate) struct AttemptLocks {
    locks: parking_lot::Mutex<HashMap<String, Weak<Mutex<()>>>>,
}

impl AttemptLocks {
    /// Waits for the turn of `key`; the turn lasts as long as the guard.
    pub async fn turn(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock();
            match locks.get(key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    if locks.len() >= 4_096 {
                        locks.retain(|_, lock| lock.strong_count() > 0);
                    }
                    let lock = Arc::new(Mutex::new(()));
                    locks.insert(key.to_owned(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

/// Seconds to wait after `failures` failures, given `free` allowed ones:
/// 0 below `free`, then base, 2×base, 4×base… capped at `max`.
///
/// `free` counts attempts, not failures-before-the-penalty: with 5 free
/// attempts the 6th must wait, so the delay starts *at* the 5th failure.
/// (Starting after it would hand every attacker one extra undelayed guess
/// per account.) Zero free attempts still lets the very first one through:
/// nothing has failed yet.
pub fn delay_after(failures: u32, free: u32, settings: &ThrottleSettings) -> i64 {
    let first_delayed = free.max(1);
    if failures < first_delayed {
        return 0;
    }
    let doublings = (failures - first_delayed).min(30);
    settings.base_delay_seconds.saturating_mul(1_i64 << doublings).min(settings.max_delay_seconds)
}

/// Seconds until `record` allows another attempt (0 if allowed now).
pub(crate) fn wait_for(record: Option<&ThrottleRecord>, free: u32, now: Timestamp, settings: &ThrottleSettings) -> i64 {
    let Some(r) = record else { return 0 };
    if now.since(r.last_failure_at) >= settings.forget_after_seconds {
        return 0;
    }
    let until = r.last_failure_at.plus(delay_after(r.failures, free, settings));
    until.since(now).max(0)
}

impl crate::SessionCore {
    /// Counts one `action` (e.g. posting a comment) from the client's address
    /// and says whether it stays within `limit` per `window_seconds`: the
    /// login throttle's counters, used for anything anonymous that writes.
    /// A client without a known address shares one bucket per action.
    pub async fn within_rate(
        &self,
        action: &'static str,
        client: &crate::ClientInfo,
        limit: u32,
        window_seconds: i64,
    ) -> Result<bool, crate::CoreError> {
        let key = format!("{action}:{}", ip_key(client.ip.as_deref().unwrap_or("unknown")));
        let now = self.now();
        let record = self.inner.store.record_failure(&key, now, now.plus(-window_seconds)).await?;
        Ok(record.failures <= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_a_key_per_64_and_ipv4_clients_per_address() {
        assert_eq!(ip_key("2001:db8:1:2:aaaa::1"), ip_key("2001:db8:1:2:ffff::9"));
        assert_ne!(ip_key("2001:db8:1:2::1"), ip_key("2001:db8:1:3::1"));
        assert_eq!(ip_key("203.0.113.9"), "ip:203.0.113.9");
    }

    #[test]
    fn account_keys_are_normalised_and_junk_shares_one_bucket() {
        let site = SiteId::DEFAULT;
        assert_eq!(account_key(site, " Ann@Example.com "), account_key(site, "ann@example.com"));
        assert_eq!(account_key(site, &"x".repeat(60_000)), account_key(site, "not an email"));
        assert!(account_key(site, &"x".repeat(60_000)).len() < 64);
    }

    #[tokio::test]
    async fn attempts_on_one_key_take_turns_and_other_keys_do_not_wait() {
        let locks = AttemptLocks::default();
        let first = locks.turn("ip:1").await;
        let _other = locks.turn("ip:2").await;
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), locks.turn("ip:1")).await;
        assert!(waiting.is_err(), "a second attempt on the same key waits");
        drop(first);
        let _second = locks.turn("ip:1").await;
    }

    #[test]
    fn delays_start_after_free_attempts_double_and_are_capped() {
        let s = ThrottleSettings::default();
        let delays: Vec<i64> = (0..=7).map(|f| delay_after(f, 5, &s)).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4], "5 free attempts: the 6th waits");
        assert_eq!(delay_after(10_000, 5, &s), s.max_delay_seconds);
        assert_eq!(delay_after(0, 0, &s), 0, "no failure, no wait");
        assert_eq!(delay_after(1, 0, &s), s.base_delay_seconds);
    }

    #[test]
    fn waiting_counts_down_and_old_failures_are_forgotten() {
        let s = ThrottleSettings::default();
        let r = ThrottleRecord { key: "k".into(), failures: 9, last_failure_at: Timestamp::from_unix(1_000) };
        assert_eq!(wait_for(Some(&r), 5, Timestamp::from_unix(1_000), &s), 16);
        assert_eq!(wait_for(Some(&r), 5, Timestamp::from_unix(1_011), &s), 5);
        assert_eq!(wait_for(Some(&r), 5, Timestamp::from_unix(1_016), &s), 0);
        let huge = ThrottleRecord { failures: 1_000, ..r };
        assert_eq!(wait_for(Some(&huge), 5, Timestamp::from_unix(1_000 + 3_600), &s), 0);
    }
}
