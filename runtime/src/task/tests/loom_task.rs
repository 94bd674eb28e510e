//! Summary: loom models of a task's state word under concurrent wake,
//! poll, complete, abort and JoinHandle poll/drop.
//!
//! Role: run with
//! `RUSTFLAGS="--cfg loom" cargo test -p weft-runtime --release --lib loom`.
//! The real `task::{state, raw, harness}` code runs against a mock
//! scheduler whose queue is a loom mutex.
//!
//! Design: each model sets a task up on the main thread, then races two
//! or three operations on loom threads, then drains the mock queue and
//! checks the outcome: no lost wake (a future that was signalled and woken
//! always completes), no double poll (the future counts concurrent polls),
//! no use after free (loom tracks the `Arc` every task holds) and no leak
//! (loom fails a model that leaks a tracked `Arc`; the drop counter
//! checks the future). Preemptions are bounded to keep the run short.
//!
//! Invariants checked: INV-1 (one poller), INV-2 (output handed over once),
//! INV-4 (freed once, never leaked), INV-5 (no double submit), INV-11 (the
//! untagged stage: the output consumed once).
//!
//! Concurrency: models only.

use crate::task::id::Id;
use crate::task::join::JoinHandle;
use crate::task::schedule::{Notified, Schedule, Task};
use crate::task::spawn::new_task;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Preemption bound: 3 finds the interleavings these models target (each
/// race is between two or three operations) and keeps the run in minutes.
const PREEMPTION_BOUND: usize = 3;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTION_BOUND);
    builder.check(f);
}

#[derive(Clone)]
struct Mock(Arc<MockInner>);

struct MockInner {
    queue: Mutex<VecDeque<Notified<Mock>>>,
    owned: Mutex<Option<Task<Mock>>>,
}

impl Schedule for Mock {
    fn schedule(&self, task: Notified<Self>) {
        self.0.queue.lock().unwrap().push_back(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let mut owned = self.0.owned.lock().unwrap();
        match owned.as_ref() {
            Some(held) if held.is_same(task.header()) => owned.take(),
            _ => None,
        }
    }
}

impl Mock {
    fn new() -> Mock {
        Mock(Arc::new(MockInner {
            queue: Mutex::new(VecDeque::new()),
            owned: Mutex::new(None),
        }))
    }

    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, self.clone(), Id::next());
        *self.0.owned.lock().unwrap() = Some(task);
        self.schedule(notified);
        join
    }

    fn pop(&self) -> Option<Notified<Mock>> {
        self.0.queue.lock().unwrap().pop_front()
    }

    /// Runs queued tasks until none is left.
    fn drain(&self) {
        while let Some(task) = self.pop() {
            task.run();
        }
    }

    /// Cancels whatever is still owned (as runtime shutdown does).
    fn shutdown(&self) {
        let task = self.0.owned.lock().unwrap().take();
        if let Some(task) = task {
            task.shutdown();
        }
        self.drain();
    }
}

/// Shared with the test future: its waker, a signal, and counters.
struct Probe {
    waker: Mutex<Option<Waker>>,
    signal: AtomicBool,
    polling: AtomicBool,
    polls: AtomicUsize,
    drops: AtomicUsize,
}

/// Pending until `probe.signal` is set; checks it is never polled twice at once.
struct Signalled(std::sync::Arc<Probe>);

impl Future for Signalled {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let probe = &self.0;
        assert!(!probe.polling.swap(true, SeqCst), "double poll (INV-1)");
        let polls = probe.polls.fetch_add(1, SeqCst) + 1;
        *probe.waker.lock().unwrap() = Some(cx.waker().clone());
        let ready = probe.signal.load(SeqCst);
        probe.polling.store(false, SeqCst);
        if ready {
            Poll::Ready(polls)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Signalled {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

fn probe() -> std::sync::Arc<Probe> {
    std::sync::Arc::new(Probe {
        waker: Mutex::new(None),
        signal: AtomicBool::new(false),
        polling: AtomicBool::new(false),
        polls: AtomicUsize::new(0),
        drops: AtomicUsize::new(0),
    })
}

/// A probe whose future is ready on its first poll.
fn ready_probe() -> std::sync::Arc<Probe> {
    let probe = probe();
    probe.signal.store(true, SeqCst);
    probe
}

impl Probe {
    /// The waker the future's last poll registered.
    fn take_waker(&self) -> Waker {
        self.waker.lock().unwrap().take().expect("registered")
    }

    /// Drops the registered waker, if any, so that no task reference is
    /// left behind when the model ends (loom reports leaks).
    fn release_waker(&self) {
        drop(self.waker.lock().unwrap().take());
    }

    fn assert_dropped_once(&self) {
        assert_eq!(
            self.drops.load(SeqCst),
            1,
            "the future is dropped exactly once"
        );
    }
}

/// A thread that sets `probe`'s signal and then wakes its task.
fn signal_and_wake(probe: &std::sync::Arc<Probe>, waker: Waker) -> loom::thread::JoinHandle<()> {
    let probe = probe.clone();
    loom::thread::spawn(move || {
        probe.signal.store(true, SeqCst);
        waker.wake();
    })
}

impl Mock {
    /// A thread that runs every queued task.
    fn drain_on_thread(&self) -> loom::thread::JoinHandle<()> {
        let mock = self.clone();
        loom::thread::spawn(move || mock.drain())
    }

    fn assert_list_empty(&self) {
        assert!(
            self.0.owned.lock().unwrap().is_none(),
            "a completed task leaves the owned list"
        );
    }
}

/// Polls a JoinHandle once with a no-op waker.
fn poll_join(join: &mut JoinHandle<usize>) -> Poll<Result<usize, crate::task::error::JoinError>> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(join).poll(&mut cx)
}

/// Wake racing a poll, with the JoinHandle dropped concurrently: the
/// signalled wake is never lost, the future is polled by one thread at a
/// time, dropped once, and the task freed once.
#[test]
fn loom_wake_races_poll_and_join_drop() {
    model(|| {
        let mock = Mock::new();
        let probe = probe();
        let join = mock.spawn(Signalled(probe.clone()));
        mock.drain(); // first poll: registers the waker
        let waker = probe.take_waker();
        waker.wake_by_ref(); // queue a second poll
        let runner = mock.drain_on_thread();
        let waking = signal_and_wake(&probe, waker);
        drop(join);
        runner.join().unwrap();
        waking.join().unwrap();
        mock.drain();
        probe.assert_dropped_once();
        mock.assert_list_empty();
        probe.release_waker();
    });
}

/// Abort racing a poll and a wake: the JoinHandle yields either the output
/// or a cancellation, only after the future is dropped, and nothing leaks.
#[test]
fn loom_abort_races_poll_and_wake() {
    model(|| {
        let mock = Mock::new();
        let probe = probe();
        let mut join = mock.spawn(Signalled(probe.clone()));
        mock.drain();
        let waker = probe.take_waker();
        let abort = join.abort_handle();
        let waking = signal_and_wake(&probe, waker);
        let aborting = loom::thread::spawn(move || abort.abort());
        let runner = mock.drain_on_thread();
        waking.join().unwrap();
        aborting.join().unwrap();
        runner.join().unwrap();
        mock.drain();
        match poll_join(&mut join) {
            Poll::Ready(Ok(polls)) => assert!(polls >= 2),
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            Poll::Pending => panic!("a woken or aborted task must finish (lost wake)"),
        }
        probe.assert_dropped_once();
        probe.release_waker();
    });
}

/// Completion racing the JoinHandle registering its waker: the join waker
/// is woken or the output is seen, never neither.
#[test]
fn loom_complete_races_join_poll() {
    model(|| {
        let mock = Mock::new();
        let probe = ready_probe();
        let mut join = mock.spawn(Signalled(probe.clone()));
        let woken = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
        let runner = mock.drain_on_thread();
        let waker = Waker::from(woken.clone());
        let first = Pin::new(&mut join).poll(&mut Context::from_waker(&waker));
        runner.join().unwrap();
        match first {
            Poll::Ready(result) => assert_eq!(result.unwrap(), 1),
            Poll::Pending => {
                assert!(
                    woken.0.load(SeqCst),
                    "the join waker must be woken on completion (lost wake)"
                );
                assert_eq!(poll_join(&mut join).map(Result::unwrap), Poll::Ready(1));
            }
        }
        drop(join);
        probe.release_waker();
    });
}

/// Shutdown racing a wake of an idle task: the future is dropped once and
/// the JoinHandle reports cancellation.
#[test]
fn loom_shutdown_races_wake() {
    model(|| {
        let mock = Mock::new();
        let probe = probe();
        let mut join = mock.spawn(Signalled(probe.clone()));
        mock.drain();
        let waker = probe.take_waker();
        let waking = loom::thread::spawn(move || waker.wake());
        mock.shutdown();
        waking.join().unwrap();
        mock.drain();
        probe.assert_dropped_once();
        match poll_join(&mut join) {
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            other => panic!("expected a cancellation, got {other:?}"),
        }
        probe.release_waker();
    });
}

/// The stage has no tag (`raw.rs` INV-11): a JoinHandle that reads the
/// output and is dropped, racing the task's completion on another thread,
/// leaves the output read or dropped exactly once (by the JoinHandle's
/// read, its drop, or the task's `complete`) and the task freed once, by
/// whichever reference goes last. The output is a loom `Arc`: one never
/// dropped fails the model as a leak, and the count says it went once.
#[test]
fn loom_output_read_and_join_drop_race_completion() {
    model(|| {
        let mock = Mock::new();
        let output = Arc::new(());
        let sent = output.clone();
        let mut join = mock.spawn(async move { sent });
        let runner = mock.drain_on_thread();
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(result) = Pin::new(&mut join).poll(&mut cx) {
            drop(result.expect("the task was not cancelled"));
        }
        drop(join);
        runner.join().unwrap();
        assert_eq!(
            Arc::strong_count(&output),
            1,
            "the output went exactly once"
        );
    });
}

struct FlagWaker(AtomicBool);

impl std::task::Wake for FlagWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// The dump that tells the truth (issue 17): a JoinHandle polled while
/// another thread completes the task never returns the output while the
/// task is still in the owned list (`Harness::complete` releases it first),
/// so `Handle::dump` and `alive_tasks` cannot list a joined task.
#[test]
fn loom_joined_task_has_left_the_owned_list() {
    model(|| {
        let mock = Mock::new();
        let probe = ready_probe();
        let mut join = mock.spawn(Signalled(probe.clone()));
        let runner = mock.drain_on_thread();
        let joined = poll_join(&mut join).is_ready();
        if joined {
            assert!(
                mock.0.owned.lock().unwrap().is_none(),
                "the output is visible only after the task left the owned list"
            );
        }
        runner.join().unwrap();
        if !joined {
            assert!(poll_join(&mut join).is_ready(), "complete after the drain");
        }
        drop(join);
        probe.release_waker();
    });
}

/// A JoinHandle dropped before its task ran, racing the task's run and
/// completion on another thread: the drop either takes its reference in
/// the same step as its interest (nothing to clean up, not the last one)
/// or finds the task complete and drops the output; either way the future
/// and the output are dropped once and the task is freed once (a leaked
/// block would leak the mock scheduler's loom `Arc`, which loom reports).
#[test]
fn loom_fresh_join_handle_drop_races_run() {
    model(|| {
        let mock = Mock::new();
        let probe = ready_probe();
        let join = mock.spawn(Signalled(probe.clone()));
        let runner = mock.drain_on_thread();
        drop(join);
        runner.join().unwrap();
        mock.drain();
        probe.assert_dropped_once();
        mock.assert_list_empty();
        probe.release_waker();
    });
}
