//! The service's clock, injectable so that the scheduler and session expiry are tested with any
//! "now" and without waiting.

use jiff::{SignedDuration, Timestamp};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::watch;

/// A boxed future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Tells the time, and waits for a time.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;

    /// Resolves at `at` or somewhat before (callers check the time again and wait again).
    fn sleep_until(&self, at: Timestamp) -> BoxFuture<'_, ()>;
}

/// The longest single wait of the system clock, so that a wall-clock jump (NTP, an operator
/// setting the time) delays a due scan by at most this much.
const MAX_NAP: Duration = Duration::from_secs(30);

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn sleep_until(&self, at: Timestamp) -> BoxFuture<'_, ()> {
        let wait = at.duration_since(Timestamp::now());
        let wait = if wait <= SignedDuration::ZERO {
            Duration::ZERO
        } else {
            Duration::try_from(wait).unwrap_or(MAX_NAP).min(MAX_NAP)
        };
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told (for tests).
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<Timestamp>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            now: watch::Sender::new(start),
        }
    }

    /// Sets the time (forward or back); wakes every waiter.
    pub fn set(&self, at: Timestamp) {
        self.now.send_replace(at);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: SignedDuration) {
        let next = self.now().checked_add(by).unwrap_or(Timestamp::MAX);
        self.set(next);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: Timestamp) -> BoxFuture<'_, ()> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            while *rx.borrow_and_update() < at {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}
