//! Growing delays after failed logins. Never a permanent lockout: the delay
//! is capped, and failures are forgotten after a quiet period.

use tessera_core::Timestamp;
use tessera_store::ThrottleRecord;

use crate::ThrottleSettings;

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

#[cfg(test)]
mod tests {
    use super::*;

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
