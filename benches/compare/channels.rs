//! Message-passing workloads: ping-pong over fresh oneshots, and a bounded
//! multi-producer multi-consumer queue.
//!
//! These measure wake-up latency between two tasks (the LIFO slot or its
//! equivalent keeps a ping-pong pair on one worker and hot in cache) and the
//! cost of a channel's waiter bookkeeping when it is full or empty.
//!
//! `ping_pong`'s two tasks are the same text on every runtime, over each
//! runtime's own oneshot, and are written once (`ping_pong_tasks!`);
//! `queue_mpmc`'s tokio and smol bodies are one function taking the spawn.

use super::harness::{wall_ms, Metric, Primitives, Scale, Workload};
use super::rt::{tokio_run, weft_run, Executor, Flavour, Rt};

/// The workloads of this family.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "ping_pong",
            stresses: "task-to-task wake-up latency, oneshot allocation, LIFO-slot scheduling",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::sync::oneshot",
                tokio: "tokio::sync::oneshot",
                smol: "futures-channel oneshot (smol has none)",
            },
            sample: ping_pong::sample,
        },
        Workload {
            name: "queue_mpmc",
            stresses:
                "bounded queue under contention: full/empty waiter lists, wake-ups across workers",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::sync::Queue::bounded",
                tokio: "async-channel bounded (tokio has no MPMC queue)",
                smol: "async-channel bounded",
            },
            sample: queue_mpmc::sample,
        },
    ]
}

/// P pairs of tasks exchange R round trips; every message travels on a fresh
/// oneshot and carries the sender of the next one, so each round trip
/// allocates two oneshots.
pub mod ping_pong {
    use super::*;

    const ROUND_TRIPS: usize = 100;

    fn pairs(scale: Scale) -> usize {
        scale.pick(1_000, 200)
    }

    /// Round trips per sample (the floor section's operations).
    pub fn ops(scale: Scale) -> usize {
        pairs(scale) * ROUND_TRIPS
    }

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let pairs = pairs(scale);
        let (ms, finished) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(pairs))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(pairs))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, pairs))),
        };
        assert_eq!(finished, 2 * pairs, "ping_pong lost a task");
        ms
    }

    /// Defines the pair's two tasks, `ponger` and `pinger`, and their
    /// messages, on the oneshot module `$oneshot` (each runtime's own).
    ///
    /// The tasks are the same text on all three runtimes, but each
    /// runtime's oneshot is its own type, so one generic function would
    /// need a trait of ours over the three oneshots; the macro writes the
    /// same text for each instead. Spawning and joining the pairs stays
    /// written out per runtime, side by side, since there the APIs differ.
    /// The tasks are functions returning an async block, not `async fn`s,
    /// whose futures would be larger (they keep their arguments twice).
    macro_rules! ping_pong_tasks {
        ($($oneshot:ident)::+) => {
            use $($oneshot)::+::{channel, Receiver, Sender};
            struct Ping(Sender<Pong>);
            struct Pong(Sender<Ping>);

            /// Answers every ping on the sender it carries, with the sender
            /// of the next ping.
            fn ponger(ponger_inbox: Receiver<Ping>) -> impl std::future::Future<Output = ()> {
                async move {
                    let mut inbox = ponger_inbox;
                    for _ in 0..ROUND_TRIPS {
                        let Ping(reply) = inbox.await.expect("the pinger vanished");
                        let (next, next_inbox) = channel();
                        assert!(reply.send(Pong(next)).is_ok(), "the pinger vanished");
                        inbox = next_inbox;
                    }
                }
            }

            /// Sends a ping carrying a fresh reply sender, then waits for
            /// the pong, which carries the sender of the next ping.
            fn pinger(mut to_ponger: Sender<Ping>) -> impl std::future::Future<Output = ()> {
                async move {
                    for _ in 0..ROUND_TRIPS {
                        let (reply, reply_inbox) = channel();
                        assert!(to_ponger.send(Ping(reply)).is_ok(), "the ponger vanished");
                        let Pong(next) = reply_inbox.await.expect("the ponger vanished");
                        to_ponger = next;
                    }
                }
            }
        };
    }

    async fn weft(pairs: usize) -> usize {
        ping_pong_tasks!(weft::sync::oneshot);
        let mut handles = Vec::with_capacity(2 * pairs);
        for _ in 0..pairs {
            let (to_ponger, ponger_inbox) = channel::<Ping>();
            handles.push(weft::spawn(ponger(ponger_inbox)));
            handles.push(weft::spawn(pinger(to_ponger)));
        }
        let finished = handles.len();
        for handle in handles {
            handle.await.expect("a ping-pong task panicked");
        }
        finished
    }

    async fn tokio(pairs: usize) -> usize {
        ping_pong_tasks!(tokio::sync::oneshot);
        let mut handles = Vec::with_capacity(2 * pairs);
        for _ in 0..pairs {
            let (to_ponger, ponger_inbox) = channel::<Ping>();
            handles.push(tokio::spawn(ponger(ponger_inbox)));
            handles.push(tokio::spawn(pinger(to_ponger)));
        }
        let finished = handles.len();
        for handle in handles {
            handle.await.expect("a ping-pong task panicked");
        }
        finished
    }

    async fn smol(ex: Executor, pairs: usize) -> usize {
        ping_pong_tasks!(futures_channel::oneshot);
        let mut handles = Vec::with_capacity(2 * pairs);
        for _ in 0..pairs {
            let (to_ponger, ponger_inbox) = channel::<Ping>();
            handles.push(ex.spawn(ponger(ponger_inbox)));
            handles.push(ex.spawn(pinger(to_ponger)));
        }
        let finished = handles.len();
        for handle in handles {
            handle.await;
        }
        finished
    }
}

/// 4 producers put I items each into a queue of capacity 1,024 drained by 4
/// consumers; the consumers stop when the queue is closed and empty.
mod queue_mpmc {
    use super::*;

    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 4;
    const CAPACITY: usize = 1_024;

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let items = scale.pick(250_000, 25_000);
        let (ms, received) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(items))),
            Rt::Tokio(rt) => {
                wall_ms(|| tokio_run(&rt, async_channel_body(items, |f| drop(tokio::spawn(f)))))
            }
            Rt::Smol(rt) => {
                wall_ms(|| rt.run(|ex| async_channel_body(items, move |f| ex.spawn(f).detach())))
            }
        };
        assert_eq!(received, PRODUCERS * items, "queue_mpmc lost an item");
        ms
    }

    /// weft's own Queue: producers `put`, and once they are all done the
    /// queue is shut down gently, so consumers drain it and then get
    /// `Err(QueueShutDown)`.
    async fn weft(items: usize) -> usize {
        let queue = std::sync::Arc::new(weft::sync::Queue::bounded(CAPACITY));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                let queue = queue.clone();
                weft::spawn(async move {
                    for item in 0..items {
                        queue
                            .put(item)
                            .await
                            .expect("the queue was shut down early");
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let queue = queue.clone();
                weft::spawn(async move {
                    let mut received = 0;
                    while queue.get().await.is_ok() {
                        received += 1;
                    }
                    received
                })
            })
            .collect();
        for producer in producers {
            producer.await.expect("a producer panicked");
        }
        queue.shutdown(false);
        let mut received = 0;
        for consumer in consumers {
            received += consumer.await.expect("a consumer panicked");
        }
        received
    }

    /// tokio and smol both use async-channel; only how tasks are spawned
    /// differs. Completion is counted through a second channel so the body
    /// needs no runtime-specific JoinHandle type.
    async fn async_channel_body<S>(items: usize, spawn: S) -> usize
    where
        S: Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
    {
        let (tx, rx) = async_channel::bounded::<usize>(CAPACITY);
        let (counts, totals) = async_channel::unbounded::<usize>();
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            spawn(Box::pin(async move {
                for item in 0..items {
                    tx.send(item).await.expect("every consumer vanished");
                }
            }));
        }
        drop(tx);
        for _ in 0..CONSUMERS {
            let rx = rx.clone();
            let counts = counts.clone();
            spawn(Box::pin(async move {
                let mut received = 0;
                while rx.recv().await.is_ok() {
                    received += 1;
                }
                let _ = counts.try_send(received);
            }));
        }
        drop(counts);
        let mut received = 0;
        while let Ok(count) = totals.recv().await {
            received += count;
        }
        received
    }
}
