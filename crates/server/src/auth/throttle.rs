//! Login throttling: after too many failed logins for one user name or from one client
//! address, further logins are refused for a while, even with the right password.

use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

/// Most keys remembered; the oldest are forgotten beyond it (bounded memory under a spray).
const MAX_KEYS: usize = 10_000;

/// Failures of one key.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Timestamp,
    locked_until: Option<Timestamp>,
}

/// Counts failed logins per key ("user:NAME", "client:ADDR") and locks keys out.
#[derive(Debug)]
pub struct Throttle {
    max_failures: u32,
    lockout: SignedDuration,
    keys: Mutex<HashMap<String, Failures>>,
}

impl Throttle {
    /// Locks a key for `lockout` after `max_failures` failures within `lockout`.
    pub fn new(max_failures: u32, lockout: SignedDuration) -> Throttle {
        Throttle {
            max_failures: max_failures.max(1),
            lockout,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` while any of `keys` is locked at `now`.
    pub fn check(&self, keys: &[String], now: Timestamp) -> Result<(), u64> {
        let map = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let wait = keys
            .iter()
            .filter_map(|k| map.get(k))
            .filter_map(|f| f.locked_until)
            .filter(|until| *until > now)
            .map(|until| until.duration_since(now).as_secs().max(1))
            .max();
        match wait {
            Some(secs) => Err(u64::try_from(secs).unwrap_or(1)),
            None => Ok(()),
        }
    }

    /// Records a failed login for each of `keys`.
    pub fn fail(&self, keys: &[String], now: Timestamp) {
        let mut map = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS {
            let horizon = now.checked_sub(self.lockout).unwrap_or(now);
            map.retain(|_, f| f.first > horizon || f.locked_until.is_some_and(|u| u > now));
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        for key in keys {
            let entry = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                first: now,
                locked_until: None,
            });
            let window_over = now.duration_since(entry.first) > self.lockout;
            let lock_over = entry.locked_until.is_some_and(|u| u <= now);
            if window_over || lock_over {
                *entry = Failures {
                    count: 0,
                    first: now,
                    locked_until: None,
                };
            }
            entry.count += 1;
            if entry.count >= self.max_failures {
                entry.locked_until = now.checked_add(self.lockout).ok();
            }
        }
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        let mut map = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_lockout() {
        let t = Throttle::new(3, SignedDuration::from_secs(300));
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let keys = vec!["user:alice".to_string()];
        for _ in 0..2 {
            t.fail(&keys, now);
            assert!(t.check(&keys, now).is_ok());
        }
        t.fail(&keys, now);
        assert_eq!(t.check(&keys, now), Err(300));
        let later = now.checked_add(SignedDuration::from_secs(301)).unwrap();
        assert!(t.check(&keys, later).is_ok());
        t.fail(&keys, later);
        assert!(t.check(&keys, later).is_ok(), "counting starts again");
        t.clear("user:alice");
        assert!(t.check(&keys, later).is_ok());
    }
}
