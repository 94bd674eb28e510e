//! The guide's constructive track (`docs/guide/01b-leaf-futures.md`): the
//! toy executor of chapter 1 with a timer thread and a mio reactor, whose
//! code lives in `examples/toy/` (run it with `cargo run --example toy`).
//!
//! The chapter's exercises break `examples/toy/timer.rs` and
//! `examples/toy/reactor.rs` and name the test here that catches each
//! break. A lost wakeup shows as a task that never finishes, so every test
//! runs the executor on its own thread and fails after a generous
//! watchdog instead of hanging.

#[path = "../examples/toy/executor.rs"]
mod executor;
#[path = "../examples/toy/reactor.rs"]
mod reactor;
#[path = "../examples/toy/timer.rs"]
mod timer;

use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use executor::Executor;
use reactor::{Async, Reactor};
use timer::Timer;

/// Generous: every test here finishes in well under a second.
const WATCHDOG: Duration = Duration::from_secs(10);

/// Runs `executor` on its own thread and waits for `tasks` messages on
/// `done`; a task that never finishes (a lost wakeup) fails the test.
fn run_until_done(executor: Executor, done: &mpsc::Receiver<()>, tasks: usize, what: &str) {
    thread::spawn(move || executor.run());
    for finished in 0..tasks {
        if done.recv_timeout(WATCHDOG).is_err() {
            panic!("lost wakeup: {what}: {finished} of {tasks} tasks finished within {WATCHDOG:?}");
        }
    }
}

/// A waker that counts its wakes.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    fn new() -> Arc<CountingWaker> {
        Arc::new(CountingWaker(AtomicUsize::new(0)))
    }
    fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Four sleeps spawned in the order 4, 1, 3, 2 (times a step) finish in
/// deadline order.
///
/// Only a run in which all four registered (first poll) before the
/// earliest deadline can tell: a sleep registered after an earlier
/// deadline has passed fires as soon as it registers, in spawn order. Under
/// valgrind the executor thread's start and the first polls took over
/// 30 ms (seen: `[10, 30, 20, 40]` with 10 ms steps). So each run measures
/// when the last registration returned; a run where that came after the
/// earliest deadline does not count, and the next run doubles the step.
#[test]
fn sleeps_finish_in_deadline_order_not_spawn_order() {
    /// The largest step tried: a registration slower than this is a hang.
    const MAX_STEP: Duration = Duration::from_millis(2560);
    let mut step = Duration::from_millis(10);
    loop {
        let (order, registrations_took) = sleeps_in_order_of_finish(step, [4, 1, 3, 2]);
        if registrations_took < step {
            assert_eq!(order, [1, 2, 3, 4], "steps of {step:?}");
            return;
        }
        step *= 2;
        assert!(
            step <= MAX_STEP,
            "registering four sleeps took {registrations_took:?}"
        );
    }
}

/// Spawns one sleep of `step` times each of `multiples` on a toy executor,
/// in that order; returns the multiples in the order their sleeps finished
/// and how long after the sleeps were made the last one registered.
fn sleeps_in_order_of_finish(step: Duration, multiples: [u32; 4]) -> (Vec<u32>, Duration) {
    let timer = Timer::new();
    let executor = Executor::new();
    let (done, finished) = mpsc::channel();
    let (order_tx, order) = mpsc::channel();
    let registered = Arc::new(Mutex::new(Vec::new()));
    let made = Instant::now();
    for multiple in multiples {
        let (mut sleep, done, order_tx, registered) = (
            timer.sleep(step * multiple),
            done.clone(),
            order_tx.clone(),
            registered.clone(),
        );
        executor.spawn(async move {
            let mut first_poll = true;
            std::future::poll_fn(|cx| {
                let poll = Pin::new(&mut sleep).poll(cx);
                if std::mem::take(&mut first_poll) {
                    registered.lock().unwrap().push(Instant::now());
                }
                poll
            })
            .await;
            order_tx.send(multiple).unwrap();
            done.send(()).unwrap();
        });
    }
    run_until_done(executor, &finished, 4, "four sleeps");
    let longest = step * multiples.into_iter().max().unwrap_or(0);
    assert!(made.elapsed() >= longest, "a sleep never ends early");
    let last_registration = registered.lock().unwrap().iter().max().copied();
    let registrations_took = last_registration.expect("every sleep registered") - made;
    (order.try_iter().collect(), registrations_took)
}

/// T2 of `timer.rs`: a future polled with a new waker must wake that one.
#[test]
fn a_sleep_wakes_the_waker_of_its_latest_poll() {
    let timer = Timer::new();
    let mut sleep = timer.sleep(Duration::from_millis(20));
    let (first, second) = (CountingWaker::new(), CountingWaker::new());
    let first_waker = Waker::from(first.clone());
    let second_waker = Waker::from(second.clone());
    let poll = |sleep: &mut timer::Sleep, waker: &Waker| {
        Pin::new(sleep).poll(&mut Context::from_waker(waker))
    };
    assert!(poll(&mut sleep, &first_waker).is_pending());
    // Polling again with the same waker keeps the stored one...
    assert!(poll(&mut sleep, &first_waker).is_pending());
    // ...and a different waker (the future moved to another task) replaces it.
    assert!(poll(&mut sleep, &second_waker).is_pending());
    let deadline = Instant::now() + WATCHDOG;
    while first.wakes() + second.wakes() == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        (first.wakes(), second.wakes()),
        (0, 1),
        "the timer must wake the waker of the latest poll, not the first one"
    );
    assert!(poll(&mut sleep, &second_waker).is_ready());
}

/// T1 of `timer.rs`: thousands of sleeps due at once race the timer thread
/// against the poll that registers them; none may be lost.
#[test]
fn thousands_of_sleeps_due_at_once_all_finish() {
    const SLEEPS: usize = 5_000;
    let timer = Timer::new();
    let executor = Executor::new();
    let (done, finished) = mpsc::channel();
    let sleeps: Vec<_> = (0..SLEEPS).map(|_| timer.sleep(Duration::ZERO)).collect();
    executor.spawn(async move {
        for sleep in sleeps {
            sleep.await;
        }
        done.send(()).unwrap();
    });
    run_until_done(
        executor,
        &finished,
        1,
        "5,000 sleeps awaited one after another",
    );
}

/// R1 of `reactor.rs`: an edge that arrives while nobody waits is kept.
#[test]
fn an_edge_before_the_wait_is_remembered() {
    let reactor = Reactor::new().unwrap();
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let mut ours = Async::new(&reactor, mio::net::UnixStream::from_std(ours)).unwrap();
    theirs.write_all(b"x").unwrap();
    // Let the reactor dispatch the edge before anyone waits for it.
    let deadline = Instant::now() + WATCHDOG;
    while reactor.dispatched() == 0 {
        assert!(
            Instant::now() < deadline,
            "the reactor never reported the socket readable"
        );
        thread::sleep(Duration::from_millis(1));
    }
    let executor = Executor::new();
    let (done, finished) = mpsc::channel();
    executor.spawn(async move {
        ours.readable().await;
        let mut byte = [0u8; 1];
        assert_eq!(ours.read(&mut byte).await.unwrap(), 1);
        assert_eq!(&byte, b"x");
        // The receiver is gone if the watchdog already failed the test.
        let _ = done.send(());
    });
    run_until_done(
        executor,
        &finished,
        1,
        "a wait for an edge that already came",
    );
}

/// The reactor under a real race: the peer answers on another thread, often
/// between this task's `WouldBlock` and its wait.
#[test]
fn two_thousand_round_trips_over_a_socket_pair() {
    const ROUNDS: usize = 2_000;
    let reactor = Reactor::new().unwrap();
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let mut ours = Async::new(&reactor, mio::net::UnixStream::from_std(ours)).unwrap();
    let echo = thread::spawn(move || {
        let mut buf = [0u8; 8];
        while theirs.read_exact(&mut buf).is_ok() {
            theirs.write_all(&buf).unwrap();
        }
    });
    let executor = Executor::new();
    let (done, finished) = mpsc::channel();
    executor.spawn(async move {
        for round in 0..ROUNDS as u64 {
            ours.write_all(&round.to_le_bytes()).unwrap();
            let mut buf = [0u8; 8];
            let mut got = 0;
            while got < buf.len() {
                got += ours.read(&mut buf[got..]).await.unwrap();
            }
            assert_eq!(u64::from_le_bytes(buf), round);
        }
        drop(ours);
        done.send(()).unwrap();
    });
    run_until_done(executor, &finished, 1, "2,000 round trips");
    echo.join().unwrap();
    assert!(reactor.dispatched() >= 1);
}
