//! A cache stampede: every request that misses the cache fetches the value
//! from the backend itself. Requests that arrive while the first fetch is
//! still under way all miss, and the backend sees one call per request
//! instead of one in total.
//!
//! Found by the default explore at seed 1 (of 1,000) when written;
//! 46 of the first 100 seeds fail. The fix
//! lets one request fetch while the others wait on a lock and then read
//! the value it cached (single flight).

use crate::{find_and_replay, round_trip};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use weft::sync::Lock;

#[derive(Default)]
struct Cache {
    values: Mutex<HashMap<&'static str, u32>>,
    backend_calls: AtomicU32,
    /// Held by the one request that fetches (the fix only).
    fetching: Lock<()>,
}

impl Cache {
    fn cached(&self, key: &'static str) -> Option<u32> {
        self.values.lock().unwrap().get(key).copied()
    }

    async fn fetch(&self, key: &'static str) -> u32 {
        self.backend_calls.fetch_add(1, Ordering::SeqCst);
        round_trip().await;
        let value = key.len() as u32;
        self.values.lock().unwrap().insert(key, value);
        value
    }

    async fn get_buggy(&self, key: &'static str) -> u32 {
        match self.cached(key) {
            Some(value) => value,
            None => self.fetch(key).await,
        }
    }

    async fn get_fixed(&self, key: &'static str) -> u32 {
        if let Some(value) = self.cached(key) {
            return value;
        }
        let _single_flight = self.fetching.lock().await;
        match self.cached(key) {
            Some(value) => value,
            None => self.fetch(key).await,
        }
    }
}

async fn three_requests(fixed: bool) {
    let cache = Arc::new(Cache::default());
    let requests: Vec<_> = (0..3)
        .map(|_| {
            let cache = cache.clone();
            weft::spawn(async move {
                round_trip().await; // parse the request
                if fixed {
                    cache.get_fixed("config").await
                } else {
                    cache.get_buggy("config").await
                }
            })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 6);
    }
    assert_eq!(
        cache.backend_calls.load(Ordering::SeqCst),
        1,
        "the backend was called more than once"
    );
}

/// Explore finds concurrent misses that all go to the backend.
#[test]
fn explore_finds_the_stampede() {
    find_and_replay(
        || three_requests(false),
        "the backend was called more than once",
    );
}

/// Single flight: one backend call in every schedule.
#[weft::test(explore = 500)]
async fn single_flight_calls_the_backend_once() {
    three_requests(true).await;
}
