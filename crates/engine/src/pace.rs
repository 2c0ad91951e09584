//! Pacing: packet-rate limiters per device and overall.

use otsensor_core::Pacer;
use otsensor_core::probe::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

/// Spaces events evenly at a fixed rate: each caller reserves the next free slot and sleeps
/// until it. A rate of 0 never waits.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter for `per_second` events per second (0: unlimited).
    pub fn new(per_second: u32) -> RateLimiter {
        RateLimiter {
            interval: (per_second > 0)
                .then(|| Duration::from_secs_f64(1.0 / f64::from(per_second))),
            next: Mutex::new(None),
        }
    }

    /// Resolves when the next event may happen.
    pub async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + interval);
            slot
        };
        sleep_until(slot).await;
    }
}

/// The pacer one probe gets: its device's own limiter, then the global one.
#[derive(Debug)]
pub struct DevicePacer {
    device: RateLimiter,
    global: Arc<RateLimiter>,
}

impl DevicePacer {
    /// A pacer for one device at `per_device` packets/s sharing `global`.
    pub fn new(per_device: u32, global: Arc<RateLimiter>) -> DevicePacer {
        DevicePacer {
            device: RateLimiter::new(per_device),
            global,
        }
    }
}

impl Pacer for DevicePacer {
    fn ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.device.acquire().await;
            self.global.acquire().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn forty_per_second_takes_a_second_for_forty_one_packets() {
        let global = Arc::new(RateLimiter::new(1000));
        let pacer = DevicePacer::new(40, global);
        let start = Instant::now();
        for _ in 0..41 {
            pacer.ready().await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(999), "{took:?}");
        assert!(took < Duration::from_millis(1100), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_rate_binds_many_devices_together() {
        let global = Arc::new(RateLimiter::new(100));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let pacer = DevicePacer::new(0, global.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    pacer.ready().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 100 packets at 100/s: the last one goes out 0.99 s after the first
        assert!(
            start.elapsed() >= Duration::from_millis(989),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_of_zero_never_waits() {
        let pacer = DevicePacer::new(0, Arc::new(RateLimiter::new(0)));
        let start = Instant::now();
        for _ in 0..10_000 {
            pacer.ready().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
