//! weft-sync knows no runtime: the same primitives work under smol's
//! executor, across its threads.

#![cfg(not(loom))]

use std::sync::Arc;
use weft_sync::{Event, Lock, Queue, Semaphore};

/// Producer/consumer with `join`, a lock-protected counter, a semaphore
/// limit and an event start signal, all on smol's multi-threaded executor.
#[test]
fn primitives_work_under_smol() {
    let executor = Arc::new(smol::Executor::new());
    let (stop, shutdown) = smol::channel::unbounded::<()>();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (executor, shutdown) = (executor.clone(), shutdown.clone());
            std::thread::spawn(move || smol::block_on(executor.run(shutdown.recv())))
        })
        .collect();
    smol::block_on(async {
        let start = Arc::new(Event::new());
        let counter = Arc::new(Lock::new(0u32));
        let limit = Arc::new(Semaphore::new(2));
        let queue = Arc::new(Queue::bounded(4));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let (start, counter, limit, queue) =
                    (start.clone(), counter.clone(), limit.clone(), queue.clone());
                executor.spawn(async move {
                    start.wait().await;
                    while let Ok(item) = queue.get().await {
                        let _permit = limit.acquire().await;
                        *counter.lock().await += item;
                        queue.task_done();
                    }
                })
            })
            .collect();
        start.set();
        for item in 1..=100 {
            queue.put(item).await.unwrap();
        }
        queue.join().await;
        queue.shutdown(false);
        for consumer in consumers {
            consumer.await;
        }
        assert_eq!(*counter.lock().await, 5050);
        assert_eq!(limit.available_permits(), 2);
    });
    drop(stop);
    for thread in threads {
        let _ = thread.join().unwrap();
    }
}
