//! A lock-protected counter: 8 tasks x 1,000 increments, with a suspension
//! point while the lock is held (the case where `std::sync::Mutex` must not
//! be used).
//!
//! Run: `cargo run -p weft-sync --example lock_counter_on_smol`
//! Read next: `sync/src/lock.rs` ("Which should I use?").

use std::sync::Arc;
use weft_sync::Lock;

fn main() {
    smol::block_on(async {
        let counter = Arc::new(Lock::new(0u64));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let counter = counter.clone();
                smol::spawn(async move {
                    for _ in 0..1_000 {
                        let mut value = counter.lock().await;
                        let seen = *value;
                        smol::future::yield_now().await; // other tasks run; none gets the lock
                        *value = seen + 1;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let total = *counter.lock().await;
        println!("counter = {total}");
        assert_eq!(total, 8_000);
    });
}
