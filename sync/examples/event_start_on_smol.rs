//! An `Event` starting workers together, and a `Barrier` lining them up
//! again between two phases.
//!
//! Run: `cargo run -p weft-sync --example event_start_on_smol`
//! Read next: `sync/src/event.rs` (why `clear` right after `set` still
//! releases the waiters that were already queued).

use std::sync::Arc;
use weft_sync::{Barrier, Event};

fn main() {
    smol::block_on(async {
        let start = Arc::new(Event::new());
        let phase = Arc::new(Barrier::new(4));
        let workers: Vec<_> = (0..4)
            .map(|id| {
                let (start, phase) = (start.clone(), phase.clone());
                smol::spawn(async move {
                    start.wait().await;
                    println!("worker {id}: phase 1");
                    if phase.wait().await.is_leader() {
                        println!("worker {id} closed phase 1 for everyone");
                    }
                    println!("worker {id}: phase 2");
                })
            })
            .collect();
        println!("starting the workers");
        // Workers that arrive late still see the flag: it stays set. (Had we
        // called `clear()` now, waiters already queued would still be
        // released, but a worker not yet polled would wait for the next `set`.)
        start.set();
        for worker in workers {
            worker.await;
        }
    });
}
