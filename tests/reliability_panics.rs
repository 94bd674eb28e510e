//! Panics everywhere: in tasks, in blocking closures, in wakers, in the
//! destructors of futures (on abort and during shutdown) and in the user
//! hooks the runtime calls. The runtime keeps running or shuts down
//! cleanly; it never aborts the process and never hangs.
//!
//! Every scenario runs under the watchdog of `reliability_support::within`,
//! so a hang fails the test instead of stalling the suite; the scenarios
//! whose failure would abort the process run in a child process.
//!
//! # The behaviour we require of a panicking waker
//!
//! A waker whose `wake` panics is a bug of whoever made the waker (an
//! executor), not of weft; weft must contain it without losing anyone
//! else's wakeup:
//! - a weft primitive wakes every *other* waiter it meant to wake, and its
//!   state stays consistent (the lock is still handed on, permits are not
//!   lost); the first panic then propagates to the caller of the operation
//!   that woke (`set`, a guard's drop, ...), which inside a weft task makes
//!   that task's `JoinHandle` report `is_panic()`; later panics of the same
//!   batch are swallowed, never turned into a double-panic abort;
//! - the runtime itself catches the panic and carries on wherever it wakes
//!   a waker outside a task's poll: a `JoinHandle`'s waker when its task
//!   completes, and the timer and I/O drivers' wakers inside the park
//!   (there, a panic would otherwise kill a worker thread or escape the
//!   current-thread `block_on`).

mod reliability_support;

use reliability_support::{
    in_child_process, settle_alive_tasks, within, CountingWaker, DropLedger, PanickingWaker,
};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weft::sync::{Event, Lock};

/// Generous bound for each scenario (each takes milliseconds).
const LIMIT: Duration = Duration::from_secs(20);

fn both_flavours() -> [weft::Runtime; 2] {
    [
        weft::Builder::new_current_thread()
            .build()
            .expect("runtime builds"),
        weft::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime builds"),
    ]
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// A future whose destructor panics; it never completes by itself.
struct PanicOnDrop;

impl Future for PanicOnDrop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("reliability test: this future panics in its destructor");
    }
}

/// A panic inside a task reaches its `JoinHandle` as `is_panic()` with the
/// original payload, and the runtime goes on running other tasks, on both
/// flavours.
#[test]
fn panicking_task_yields_join_error_and_the_runtime_keeps_running() {
    within("task panic", LIMIT, || {
        for rt in both_flavours() {
            let err = rt
                .block_on(rt.spawn(async { panic!("task boom") }))
                .expect_err("the task panicked");
            assert!(err.is_panic() && !err.is_cancelled());
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"task boom"));
            let sum: u64 = rt.block_on(async {
                let joins: Vec<_> = (0..100u64).map(|i| weft::spawn(async move { i })).collect();
                let mut sum = 0;
                for join in joins {
                    sum += join.await.expect("healthy tasks finish");
                }
                sum
            });
            assert_eq!(sum, 4950);
        }
    });
}

/// A panicking `spawn_blocking` closure yields `is_panic()`, and the pool
/// (even capped at one thread) still runs the next closure.
#[test]
fn panicking_blocking_closure_yields_join_error_and_the_pool_keeps_working() {
    within("blocking panic", LIMIT, || {
        let rt = weft::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .expect("runtime builds");
        for round in 0..3 {
            let err = rt
                .block_on(rt.spawn_blocking(move || -> u32 { panic!("blocking boom {round}") }))
                .expect_err("the closure panicked");
            assert!(err.is_panic());
            assert_eq!(
                rt.block_on(rt.spawn_blocking(move || round + 1)).ok(),
                Some(round + 1)
            );
        }
    });
}

/// The main future of `block_on` panicking propagates to the caller (it is
/// the caller's code), and the runtime stays usable afterwards.
#[test]
fn panic_in_block_on_future_propagates_and_the_runtime_stays_usable() {
    within("block_on panic", LIMIT, || {
        for rt in both_flavours() {
            let caught = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async {
                    weft::yield_now().await;
                    panic!("main future boom")
                })
            }));
            assert!(caught.is_err());
            assert_eq!(rt.block_on(rt.spawn(async { 7 })).ok(), Some(7));
        }
    });
}

/// Aborting a task whose future panics in its destructor reports the panic
/// through the `JoinHandle` and disturbs no other task.
#[test]
fn panicking_destructor_on_abort_is_reported_as_a_panic() {
    within("destructor panic on abort", LIMIT, || {
        for rt in both_flavours() {
            let join = rt.spawn(PanicOnDrop);
            let healthy = rt.spawn(async { 5 });
            join.abort();
            let err = rt.block_on(join).expect_err("aborted");
            assert!(
                err.is_panic(),
                "the destructor's panic is what the user must see"
            );
            assert_eq!(rt.block_on(healthy).ok(), Some(5));
            settle_alive_tasks(rt.handle(), 0);
        }
    });
}

/// Dropping a runtime whose live tasks include futures that panic in their
/// destructors finishes, drops every other future exactly once and does
/// not abort the process (run in a child process, where an abort would
/// show as a signal instead of killing the test binary).
#[test]
fn panicking_destructors_during_runtime_drop_are_contained() {
    let status = in_child_process(
        "panicking_destructors_during_runtime_drop_are_contained",
        || {
            within("destructor panics at shutdown", LIMIT, || {
                for rt in both_flavours() {
                    let tasks = 1_000;
                    let ledger = DropLedger::new(tasks);
                    for index in 0..tasks {
                        let probe = ledger.probe(index);
                        rt.spawn(async move {
                            let _probe = probe;
                            if index % 10 == 0 {
                                PanicOnDrop.await
                            } else {
                                std::future::pending::<()>().await
                            }
                        });
                    }
                    // Let the multi-thread workers poll some of them first.
                    rt.block_on(weft::yield_now());
                    drop(rt);
                    ledger.assert_each_dropped_once();
                }
            });
        },
    );
    if let Some(status) = status {
        assert!(
            status.success(),
            "runtime drop with panicking destructors: {status}"
        );
    }
}

/// A `JoinHandle` polled with a panicking waker: when the task completes the
/// runtime wakes that waker, catches the panic and keeps running; the
/// output is still delivered.
#[test]
fn panicking_join_waker_is_contained_by_the_runtime() {
    within("panicking join waker", LIMIT, || {
        for rt in both_flavours() {
            let release = Arc::new(Event::new());
            let gate = release.clone();
            let mut join = rt.spawn(async move {
                gate.wait().await;
                11
            });
            let panicking = Waker::from(Arc::new(PanickingWaker));
            assert!(poll_once(&mut join, &panicking).is_pending());
            release.set();
            // The runtime must still run this task (on the current-thread
            // flavour it also runs the first one here).
            assert_eq!(rt.block_on(rt.spawn(async { 3 })).ok(), Some(3));
            assert_eq!(rt.block_on(join).ok(), Some(11));
        }
    });
}

/// `Event::set` wakes eight waiters, one of which has a panicking waker at
/// `panicking_index`. Inside a weft task: the task reports the panic, every
/// other waiter is woken exactly once, and the runtime keeps running.
fn event_set_with_one_panicking_waiter(panicking_index: usize) {
    const WAITERS: usize = 8;
    let rt = weft::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime builds");
    let counters: Vec<_> = (0..WAITERS).map(|_| counting_waker()).collect();
    let wakers: Vec<Waker> = (0..WAITERS)
        .map(|index| match index == panicking_index {
            true => Waker::from(Arc::new(PanickingWaker)),
            false => counters[index].1.clone(),
        })
        .collect();
    let err = rt
        .block_on(rt.spawn(async move {
            let event = Event::new();
            let mut waits: Vec<_> = (0..WAITERS).map(|_| Box::pin(event.wait())).collect();
            for (wait, waker) in waits.iter_mut().zip(&wakers) {
                assert!(poll_once(wait, waker).is_pending());
            }
            event.set();
        }))
        .expect_err("the panicking waker's panic reaches the caller of set");
    assert!(err.is_panic());
    for (index, (counter, _)) in counters.iter().enumerate() {
        if index != panicking_index {
            assert_eq!(
                counter.0.load(Ordering::Acquire),
                1,
                "waiter {index} lost its wakeup because waiter {panicking_index}'s waker panicked"
            );
        }
    }
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).ok(), Some(1));
}

/// The panicking waker is the first of the waiters `Event::set` wakes.
#[test]
fn event_set_with_a_panicking_first_waker_still_wakes_every_other_waiter() {
    within("panicking first waker", LIMIT, || {
        event_set_with_one_panicking_waiter(0)
    });
}

/// The panicking waker is one of the later waiters (past the primitive's
/// small inline batch of wakers).
#[test]
fn event_set_with_a_panicking_later_waker_still_wakes_every_other_waiter() {
    within("panicking later waker", LIMIT, || {
        event_set_with_one_panicking_waiter(5)
    });
}

/// Two panicking wakers woken by one `Event::set`: the first panic reaches
/// the caller, the second must not turn into a panic during unwinding,
/// which would abort the process (checked in a child process).
#[test]
fn two_panicking_wakers_in_one_wake_batch_do_not_abort_the_process() {
    let status = in_child_process(
        "two_panicking_wakers_in_one_wake_batch_do_not_abort_the_process",
        || {
            let event = Event::new();
            let panicking = Waker::from(Arc::new(PanickingWaker));
            let mut first = Box::pin(event.wait());
            let mut second = Box::pin(event.wait());
            assert!(poll_once(&mut first, &panicking).is_pending());
            assert!(poll_once(&mut second, &panicking).is_pending());
            let caught = catch_unwind(AssertUnwindSafe(|| event.set()));
            assert!(
                caught.is_err(),
                "the first waker's panic reaches the caller"
            );
            assert!(event.is_set());
        },
    );
    if let Some(status) = status {
        assert!(
            status.success(),
            "two panicking wakers in one batch: {status}"
        );
    }
}

/// A lock holder's guard drop hands the lock to a waiter whose waker
/// panics: the drop propagates the panic, but the lock's state stays
/// consistent: when that waiter's future is dropped, the lock passes on to
/// the next waiter.
#[test]
fn lock_handoff_to_a_panicking_waker_keeps_the_lock_consistent() {
    within("lock handoff to panicking waker", LIMIT, || {
        let lock = Lock::new(0u32);
        let guard = lock.try_lock().expect("the lock starts free");
        let panicking = Waker::from(Arc::new(PanickingWaker));
        let (next_counter, next_waker) = counting_waker();
        let mut doomed = Box::pin(lock.lock());
        let mut next = Box::pin(lock.lock());
        assert!(poll_once(&mut doomed, &panicking).is_pending());
        assert!(poll_once(&mut next, &next_waker).is_pending());
        let caught = catch_unwind(AssertUnwindSafe(move || drop(guard)));
        assert!(
            caught.is_err(),
            "the waker's panic reaches the guard's drop"
        );
        drop(doomed);
        assert_eq!(
            next_counter.0.load(Ordering::Acquire),
            1,
            "the lock was passed on"
        );
        match poll_once(&mut next, &next_waker) {
            Poll::Ready(mut guard) => *guard += 1,
            Poll::Pending => panic!("the next waiter holds the lock after the hand-off"),
        }
        drop(next);
        assert_eq!(lock.try_lock().map(|guard| *guard), Some(1));
    });
}

/// A panicking `on_slow_poll` hook (user code run on a worker) must not
/// kill the worker: tasks keep running and the runtime drops in bounded
/// time.
#[test]
fn panicking_slow_poll_hook_does_not_kill_a_worker() {
    within("panicking slow-poll hook", LIMIT, || {
        let rt = weft::Builder::new_multi_thread()
            .worker_threads(2)
            .slow_poll_threshold(Duration::ZERO)
            .on_slow_poll(|_| panic!("reliability test: the slow-poll hook panics"))
            .build()
            .expect("runtime builds");
        let total: u64 = rt.block_on(async {
            let joins: Vec<_> = (0..64u64).map(|i| weft::spawn(async move { i })).collect();
            let mut total = 0;
            for join in joins {
                total += join.await.expect("the task itself is healthy");
            }
            total
        });
        assert_eq!(total, 2016);
        drop(rt);
    });
}

/// A panicking `on_thread_start` hook: the runtime either refuses to build
/// or runs without that thread, and in every case dropping it finishes.
#[test]
fn panicking_thread_start_hook_does_not_hang_the_runtime() {
    within("panicking thread-start hook", LIMIT, || {
        let built = weft::Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(|| panic!("reliability test: the thread-start hook panics"))
            .build();
        if let Ok(rt) = built {
            drop(rt);
        }
    });
}

/// Runs `scenario` on each flavour and fails naming every flavour on which
/// it panicked or returned false.
fn on_each_flavour(what: &str, scenario: impl Fn(&weft::Runtime) -> bool) {
    let failed: Vec<&str> = ["current_thread", "multi_thread"]
        .into_iter()
        .zip(both_flavours())
        .filter(|(_, rt)| !catch_unwind(AssertUnwindSafe(|| scenario(rt))).unwrap_or(false))
        .map(|(flavour, _)| flavour)
        .collect();
    assert!(failed.is_empty(), "{what}: failed on {failed:?}");
}

/// How far ahead the timer armed with a panicking waker fires.
const ARMED_SLEEP: Duration = Duration::from_millis(50);

/// Arms a `sleep` on the runtime's timer with a panicking waker, then lets
/// its deadline pass: the timer driver fires it from inside the runtime's
/// park. The runtime must contain the panic: the arming task, later
/// timers and later tasks all still complete, and the runtime drops.
#[test]
fn panicking_waker_fired_by_the_timer_driver_is_contained() {
    within("panicking waker in the timer driver", LIMIT, || {
        on_each_flavour("the timer driver's panicking waker", |rt| {
            rt.block_on(async {
                let armed = weft::spawn(async {
                    // Far enough ahead to be pending at its first poll even
                    // under valgrind's slowdown.
                    let mut sleep = Box::pin(weft::time::sleep(ARMED_SLEEP));
                    let panicking = Waker::from(Arc::new(PanickingWaker));
                    assert!(poll_once(&mut sleep, &panicking).is_pending());
                    // Hold the armed timer past its deadline.
                    weft::time::sleep(ARMED_SLEEP * 4).await;
                    drop(sleep);
                });
                let armed = armed.await;
                weft::time::sleep(Duration::from_millis(1)).await;
                let later = weft::spawn(async { 4 }).await;
                armed.is_ok() && later.ok() == Some(4)
            })
        });
    });
}

/// Registers a panicking waker for a socket read, then makes the socket
/// readable: the I/O driver wakes it from inside the runtime's park. The
/// runtime must contain the panic and go on serving sockets and tasks.
#[test]
fn panicking_waker_fired_by_the_io_driver_is_contained() {
    use weft::io::{AsyncReadExt, AsyncWriteExt};
    use weft::net::{TcpListener, TcpStream};
    within("panicking waker in the I/O driver", LIMIT, || {
        on_each_flavour("the I/O driver's panicking waker", |rt| {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("bound");
                let mut client = TcpStream::connect(addr).await.expect("connect");
                let (mut server, _) = listener.accept().await.expect("accept");
                let (armed, written) = (Arc::new(Event::new()), Arc::new(Event::new()));
                let reader = {
                    let (armed, written) = (armed.clone(), written.clone());
                    weft::spawn(async move {
                        let mut buf = [0u8; 8];
                        let panicking = Waker::from(Arc::new(PanickingWaker));
                        let mut read = Box::pin(server.read(&mut buf));
                        assert!(poll_once(&mut read, &panicking).is_pending());
                        armed.set();
                        // The panicking waker stays registered while the data arrives.
                        written.wait().await;
                        let len = read.await.expect("read");
                        buf[..len].to_vec()
                    })
                };
                armed.wait().await;
                client.write_all(b"ping").await.expect("write");
                written.set();
                let echoed = reader.await;
                let later = weft::spawn(async { 4 }).await;
                echoed.ok() == Some(b"ping".to_vec()) && later.ok() == Some(4)
            })
        });
    });
}
