//! lock: a read-modify-write that spans an `.await` needs an async lock
//! (asyncio.Lock).
//!
//! Fifty increments each read the counter, wait a moment (simulated work),
//! then write it back. Without a lock they interleave at the `.await` and
//! most updates are lost; holding `weft::sync::Lock` across the whole
//! section serialises them. A `std::sync::Mutex` guard must not be held
//! across `.await` (it would block a worker thread); `weft::sync::Lock`'s
//! guard can be, because waiting for it suspends the task instead.

use std::sync::Mutex;
use std::time::Duration;
use weft::sync::Lock;
use weft::time::sleep;

/// Number of concurrent increments.
const INCREMENTS: u64 = 50;
/// Simulated work inside the critical section.
const WORK: Duration = Duration::from_millis(1);

/// The asyncio example's AsyncCounter.
struct AsyncCounter {
    value: Lock<u64>,
}

impl AsyncCounter {
    async fn increment(&self) {
        let mut value = self.value.lock().await; // `async with self.lock:`
        let current = *value;
        sleep(WORK).await;
        *value = current + 1;
    }
}

/// The same counter without a lock around the await: updates get lost.
async fn racy_increment(value: &Mutex<u64>) {
    let current = *value.lock().expect("not poisoned");
    sleep(WORK).await; // other increments read the same `current` meanwhile
    *value.lock().expect("not poisoned") = current + 1;
}

/// Fifty increments with and without the lock.
pub async fn run() -> String {
    let racy = Mutex::new(0);
    weft::gather((0..INCREMENTS).map(|_| racy_increment(&racy))).await;
    let racy = racy.into_inner().expect("not poisoned");
    println!("  without a lock across the await: {racy} of {INCREMENTS} increments survived");

    let counter = AsyncCounter {
        value: Lock::new(0),
    };
    weft::gather((0..INCREMENTS).map(|_| counter.increment())).await;
    let locked = counter.value.into_inner();
    println!("  with weft::sync::Lock held across it: {locked} of {INCREMENTS}");
    assert_eq!(locked, INCREMENTS);
    format!("{locked}/{INCREMENTS} increments kept with the lock, {racy}/{INCREMENTS} without")
}
