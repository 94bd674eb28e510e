//! Shutdown under load: dropping a runtime while 100k tasks are alive
//! (waiting, queued, running, holding each other's wakers) finishes within
//! a bound and frees everything.
//!
//! What it proves, through the facade only:
//! - `drop(Runtime)` returns in bounded time with workers busy and queues
//!   full, and every unfinished task's future has been dropped exactly
//!   once before it returns (`Runtime`'s `Drop` docs);
//! - `metrics().alive_tasks()`, read through a `Handle` that outlives the
//!   runtime, is zero afterwards (no task leaked);
//! - wakers that outlive the runtime stay safe to wake and to drop, and a
//!   spawn onto a shut-down runtime's handle is cancelled at once;
//! - `shutdown_timeout` returns in bounded time even when a blocking
//!   closure never finishes.
//!
//! Scale: 100k tasks by default (about a second in debug on two cores);
//! `WEFT_SOAK=1` runs 1M.

mod reliability_support;

use reliability_support::{in_child_process, scale, within, DropLedger};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use weft::sync::{Event, Lock, Queue};

/// Generous bound for each scenario; a hang shows as a watchdog failure.
const LIMIT: Duration = Duration::from_secs(120);
/// The runtime's drop must finish within this, even in debug with 1M tasks.
const DROP_BOUND: Duration = Duration::from_secs(30);

/// A future that parks forever after handing its waker to `wakers`, so the
/// test can wake it after the runtime is gone.
struct LeakWaker {
    wakers: Arc<Mutex<Vec<Waker>>>,
}

impl Future for LeakWaker {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.wakers.lock().unwrap().push(cx.waker().clone());
        Poll::Pending
    }
}

/// Shared things the loaded tasks wait on.
struct Load {
    gate: Event,
    lock: Lock<()>,
    queue: Queue<u32>,
    wakers: Arc<Mutex<Vec<Waker>>>,
}

/// Task `index` of the load: one of five ways of being alive at shutdown.
async fn loaded_task(load: Arc<Load>, index: usize) {
    match index % 5 {
        0 => load.gate.wait().await,
        1 => {
            // Everyone queues behind a lock that one task holds forever.
            let _guard = load.lock.lock().await;
            std::future::pending::<()>().await
        }
        2 => {
            let _ = load.queue.get().await;
        }
        3 => {
            LeakWaker {
                wakers: load.wakers.clone(),
            }
            .await
        }
        _ => loop {
            // Keeps the workers busy until shutdown.
            weft::yield_now().await
        },
    }
}

/// Loads `rt` with `tasks` live tasks, drops it, and checks the bound and
/// that everything was freed. Returns how long the drop took.
fn drop_loaded_runtime(rt: weft::Runtime, tasks: usize) -> Duration {
    let load = Arc::new(Load {
        gate: Event::new(),
        lock: Lock::new(()),
        queue: Queue::unbounded(),
        wakers: Arc::default(),
    });
    let ledger = DropLedger::new(tasks);
    let handle = rt.handle().clone();
    rt.block_on(async {
        for index in 0..tasks {
            let (load, probe) = (load.clone(), ledger.probe(index));
            weft::spawn(async move {
                let _probe = probe;
                loaded_task(load, index).await
            });
            if index % 1024 == 0 {
                weft::yield_now().await;
            }
        }
        // Let every task be polled at least once, so wakers are registered.
        for _ in 0..8 {
            weft::yield_now().await;
        }
    });
    assert!(handle.metrics().alive_tasks() > 0);
    let start = Instant::now();
    drop(rt);
    let took = start.elapsed();
    assert!(
        took < DROP_BOUND,
        "dropping a runtime with {tasks} live tasks took {took:?}"
    );
    ledger.assert_each_dropped_once();
    assert_eq!(
        handle.metrics().alive_tasks(),
        0,
        "a task outlived its runtime"
    );
    // Wakers that outlived the runtime: safe to wake, by ref and by value, and to drop.
    let wakers = std::mem::take(&mut *load.wakers.lock().unwrap());
    for waker in wakers {
        waker.wake_by_ref();
        waker.wake();
    }
    load.gate.set();
    took
}

/// 100k live tasks (1M with `WEFT_SOAK=1`) on a two-worker runtime with
/// busy workers: the drop finishes within the bound and frees everything.
#[test]
fn dropping_a_multi_thread_runtime_with_100k_live_tasks_frees_everything() {
    let tasks = scale(100_000, 1_000_000);
    let took = within("multi-thread shutdown under load", LIMIT, move || {
        let rt = weft::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime builds");
        drop_loaded_runtime(rt, tasks)
    });
    eprintln!("multi-thread: dropping {tasks} live tasks took {took:?}");
}

/// The same on the current-thread runtime, whose queue is full when it is
/// dropped outside `block_on`.
#[test]
fn dropping_a_current_thread_runtime_with_live_tasks_frees_everything() {
    let tasks = scale(50_000, 500_000);
    let took = within("current-thread shutdown under load", LIMIT, move || {
        let rt = weft::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        drop_loaded_runtime(rt, tasks)
    });
    eprintln!("current-thread: dropping {tasks} live tasks took {took:?}");
}

/// A `Handle` that outlives its runtime stays usable: a task spawned on it
/// after shutdown is cancelled at once, its future dropped.
#[test]
fn spawn_on_the_handle_of_a_dropped_runtime_is_cancelled() {
    within("spawn after shutdown", LIMIT, || {
        let rt = weft::Runtime::new().expect("runtime builds");
        let handle = rt.handle().clone();
        drop(rt);
        let ledger = DropLedger::new(1);
        let probe = ledger.probe(0);
        let join = handle.spawn(async move {
            let _probe = probe;
        });
        ledger.assert_each_dropped_once();
        let other = weft::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        let err = other
            .block_on(join)
            .expect_err("nothing runs after shutdown");
        assert!(err.is_cancelled());
    });
}

/// `shutdown_timeout` gives up on a blocking closure that never finishes
/// and returns within about the timeout, dropping the async tasks anyway.
#[test]
fn shutdown_timeout_returns_despite_a_stuck_blocking_closure() {
    within("shutdown_timeout", LIMIT, || {
        let rt = weft::Runtime::new().expect("runtime builds");
        let release = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let stuck = release.clone();
        rt.spawn_blocking(move || {
            let (flag, condvar) = &*stuck;
            let mut released = flag.lock().unwrap();
            while !*released {
                released = condvar.wait(released).unwrap();
            }
        });
        let ledger = DropLedger::new(1);
        let probe = ledger.probe(0);
        rt.spawn(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        });
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(100));
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "shutdown_timeout took {took:?}"
        );
        ledger.assert_each_dropped_once();
        // Let the abandoned blocking thread finish, so the test leaves nothing behind.
        *release.0.lock().unwrap() = true;
        release.1.notify_all();
    });
}

/// Descriptors kept free for the runtime, the test harness and stdio.
const DESCRIPTOR_HEADROOM: u64 = 256;
/// Connections in the sockets-at-shutdown test (2,000 descriptors with the
/// clients' ends).
const SOCKETS: usize = 1_000;
/// Of those, how many server tasks are blocked writing (the peer never
/// reads) rather than reading; few, because each fills megabytes of socket
/// buffers.
const BLOCKED_WRITERS: usize = 10;

/// 1,000 live sockets at shutdown: the server ends live inside the runtime,
/// in tasks blocked reading (990) or blocked writing into a full socket
/// (10), plus 10,000 idle tasks. Dropping the runtime finishes within the
/// bound, drops every task, and closes every socket: each client end
/// (plain std sockets outside the runtime) reads to end-of-stream.
#[test]
fn dropping_a_runtime_with_1k_live_sockets_closes_every_socket() {
    use std::io::Read;
    use weft::io::{AsyncReadExt, AsyncWriteExt};
    let sockets = scale(SOCKETS, SOCKETS).max(BLOCKED_WRITERS + 1);
    let idle_tasks = scale(10_000, 100_000);
    within("shutdown with live sockets", LIMIT, move || {
        let wanted = 2 * sockets as u64 + DESCRIPTOR_HEADROOM;
        let limit = reliability_support::raise_open_files_limit(wanted);
        assert!(
            limit >= wanted,
            "this test needs {wanted} open files, the limit is {limit}"
        );
        let rt = weft::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime builds");
        let ledger = DropLedger::new(sockets + idle_tasks);
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
        let addr = std_listener.local_addr().expect("bound");
        let mut clients = Vec::with_capacity(sockets);
        let blocked = Arc::new(weft::sync::Semaphore::new(0));
        rt.block_on(async {
            let listener = weft::net::TcpListener::from_std(std_listener).expect("adopt listener");
            for index in 0..sockets {
                // One at a time, so the listen backlog never overflows (a
                // dropped SYN would cost a one-second retransmit).
                clients.push(std::net::TcpStream::connect(addr).expect("connect on loopback"));
                let (mut stream, _) = listener.accept().await.expect("accept");
                let (probe, blocked) = (ledger.probe(index), blocked.clone());
                weft::spawn(async move {
                    let _probe = probe;
                    if index < BLOCKED_WRITERS {
                        let chunk = vec![0u8; 64 * 1024];
                        // Write until the peer's buffers are full and the write blocks.
                        loop {
                            let write = stream.write(&chunk);
                            match weft::time::timeout(Duration::from_millis(50), write).await {
                                Ok(written) => drop(written.expect("write")),
                                Err(_) => break,
                            }
                        }
                        blocked.add_permits(1);
                        let _ = stream.write_all(&chunk).await;
                    } else {
                        let mut buf = [0u8; 16];
                        let _ = stream.read(&mut buf).await;
                    }
                    std::future::pending::<()>().await
                });
            }
            for index in sockets..sockets + idle_tasks {
                let probe = ledger.probe(index);
                weft::spawn(async move {
                    let _probe = probe;
                    std::future::pending::<()>().await
                });
            }
            // Every writer has filled its socket (the reads are registered by then too).
            let _all_blocked = blocked.acquire_many(BLOCKED_WRITERS).await;
        });
        let start = Instant::now();
        drop(rt);
        let took = start.elapsed();
        assert!(
            took < DROP_BOUND,
            "dropping a runtime with {sockets} sockets took {took:?}"
        );
        ledger.assert_each_dropped_once();
        for (index, mut client) in clients.into_iter().enumerate() {
            client
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("set a read timeout");
            let mut sink = Vec::new();
            let drained = client.read_to_end(&mut sink);
            assert!(
                drained.is_ok(),
                "socket {index} was not closed by the runtime's drop: {drained:?}"
            );
        }
        eprintln!("dropping {sockets} sockets and {idle_tasks} tasks took {took:?}");
    });
}

/// Open descriptors of this process.
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable")
        .count()
}

/// Runtimes dropped while tasks sit in their run queues (tasks that keep
/// yielding) are freed completely: after 16 such runtimes of each flavour
/// the process holds no more descriptors than before (each leaked runtime
/// would keep its reactor's epoll and waker descriptors). Counted in a
/// child process, where no other test opens descriptors meanwhile.
#[test]
fn dropping_runtimes_with_queued_tasks_releases_their_descriptors() {
    const RUNTIMES: usize = 16;
    let status = in_child_process(
        "dropping_runtimes_with_queued_tasks_releases_their_descriptors",
        || {
            let before = open_descriptors();
            for round in 0..RUNTIMES {
                let rt = match round % 2 {
                    0 => weft::Builder::new_current_thread().build(),
                    _ => weft::Builder::new_multi_thread().worker_threads(2).build(),
                }
                .expect("runtime builds");
                rt.block_on(async {
                    for _ in 0..8 {
                        weft::spawn(async {
                            loop {
                                weft::yield_now().await
                            }
                        });
                    }
                    for _ in 0..4 {
                        weft::yield_now().await;
                    }
                });
                drop(rt);
            }
            let after = open_descriptors();
            assert_eq!(
                after,
                before,
                "{RUNTIMES} dropped runtimes left {} descriptors open: the runtimes leaked",
                after.saturating_sub(before)
            );
        },
    );
    if let Some(status) = status {
        assert!(status.success(), "dropped runtimes leaked: {status}");
    }
}
