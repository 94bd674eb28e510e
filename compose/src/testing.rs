//! Test helpers for the combinators and `stream`: a tiny executor and
//! instrumented futures. Compiled only for this crate's unit tests.
//!
//! `block_on` is the smallest correct executor: the waker unparks the
//! blocked thread (`Arc` + `std::task::Wake`, no unsafe). The combinators are
//! executor-agnostic, so they are tested here without the real runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes the thread that is blocked in [`block_on`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it completes, parking while pending.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Returns `Pending` (after waking itself) this many times, then `Ready`.
pub(crate) struct YieldTimes(pub(crate) usize);

impl Future for YieldTimes {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A value whose drop is counted, and the shared count.
pub(crate) struct DropCounter(Arc<AtomicUsize>);

/// Reads the count of a [`DropCounter`].
#[derive(Clone)]
pub(crate) struct Drops(Arc<AtomicUsize>);

impl DropCounter {
    pub(crate) fn new() -> (DropCounter, Drops) {
        let count = Arc::new(AtomicUsize::new(0));
        (DropCounter(Arc::clone(&count)), Drops(count))
    }
}

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drops {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// N turnstile futures that finish strictly one at a time, last index first:
/// future `i` may finish only after every future with a larger index has,
/// and finishing wakes future `i - 1` only. Every poll is counted.
///
/// Gathering them is the worst case for a combinator that polls all children
/// on each wake (N + (N-1) + ... polls); one that polls only woken children
/// needs exactly 2N - 1 (N first polls, then one per wake).
pub(crate) struct Turnstiles {
    state: Mutex<TurnstileState>,
    polls: AtomicUsize,
}

struct TurnstileState {
    /// Index of the future allowed to finish next (`usize::MAX` when done).
    next: usize,
    wakers: Vec<Option<Waker>>,
}

impl Turnstiles {
    pub(crate) fn new(count: usize) -> Arc<Turnstiles> {
        Arc::new(Turnstiles {
            state: Mutex::new(TurnstileState {
                next: count.wrapping_sub(1),
                wakers: (0..count).map(|_| None).collect(),
            }),
            polls: AtomicUsize::new(0),
        })
    }

    /// Total polls of all turnstile futures so far.
    pub(crate) fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    /// The future for turnstile `index`; resolves to `index`.
    pub(crate) fn wait(self: &Arc<Self>, index: usize) -> impl Future<Output = usize> {
        let gate = Arc::clone(self);
        std::future::poll_fn(move |cx| {
            gate.polls.fetch_add(1, Ordering::SeqCst);
            let mut state = gate.state.lock().expect("a turnstile test panicked");
            if state.next != index {
                state.wakers[index] = Some(cx.waker().clone());
                return Poll::Pending;
            }
            state.next = index.wrapping_sub(1);
            if let Some(previous) = index.checked_sub(1) {
                if let Some(waker) = state.wakers[previous].take() {
                    waker.wake();
                }
            }
            Poll::Ready(index)
        })
    }
}

thread_local! {
    /// Polls left in the current top-level poll of [`block_on_budgeted`].
    static BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// Like [`block_on`], but every top-level poll gets `budget` polls of
/// [`Budgeted`] children, the way a tokio-style cooperative budget works.
pub(crate) fn block_on_budgeted<F: Future>(budget: usize, future: F) -> F::Output {
    let mut future = pin!(future);
    block_on(std::future::poll_fn(move |cx| {
        BUDGET.with(|left| left.set(budget));
        let poll = future.as_mut().poll(cx);
        BUDGET.with(|left| left.set(usize::MAX));
        poll
    }))
}

/// A child that spends one unit of budget per poll; with none left it wakes
/// itself and returns `Pending`, as a tokio `JoinHandle` does.
pub(crate) fn budgeted<F: Future + Unpin>(
    mut inner: F,
    polls: Arc<AtomicUsize>,
) -> impl Future<Output = F::Output> {
    std::future::poll_fn(move |cx| {
        polls.fetch_add(1, Ordering::SeqCst);
        let has_budget = BUDGET.with(|left| match left.get() {
            0 => false,
            n => {
                left.set(n - 1);
                true
            }
        });
        if !has_budget {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        std::pin::Pin::new(&mut inner).poll(cx)
    })
}
