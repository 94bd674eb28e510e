//! A timer thread and its leaf future, [`Sleep`]: the smallest real source
//! of wakeups (guide, chapter 1b).
//!
//! One thread owns a heap of deadlines and sleeps on a condvar until the
//! earliest. A `Sleep` registers its deadline on its first poll and keeps
//! an `Arc<Entry>`: the entry is the one place the sleeping task and the
//! timer thread meet. Two rules make it correct, and the chapter breaks
//! each of them:
//!
//! - T1 (no lost wakeup): `Sleep::poll` checks `fired` and stores its waker
//!   in *one* critical section of the entry's mutex, and the timer thread
//!   sets `fired` and takes the waker in one critical section too. So the
//!   timer either fires before the poll looked (the poll sees `fired`) or
//!   after the waker is stored (the timer finds it). Split the poll's
//!   section in two and the timer can fire in between: it finds no waker,
//!   and the task sleeps forever.
//! - T2 (waker refresh): each poll stores the waker of *this* poll unless
//!   the stored one would wake the same task (`Waker::will_wake`). A future
//!   may be polled with different wakers over its life (moved into another
//!   task, or polled inside a combinator that gives each child its own
//!   waker); keeping the first would wake someone who no longer waits.
//!
//! The waker is woken after the entry's lock is released: waking runs
//! executor code, which must not run under a lock it might need.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The timer thread. Dropping it stops the thread; sleeps not yet fired
/// then never fire.
pub struct Timer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

struct Queue {
    due: BinaryHeap<Reverse<Due>>,
    next_seq: u64,
    shutdown: bool,
}

/// A registered deadline. `seq` orders equal deadlines by registration.
struct Due {
    at: Instant,
    seq: u64,
    entry: Arc<Entry>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Due) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Due) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Where a sleeping task and the timer thread meet (T1).
struct Entry {
    state: Mutex<EntryState>,
}

struct EntryState {
    fired: bool,
    waker: Option<Waker>,
}

impl Entry {
    /// The timer thread's half of T1: mark fired and take the waker in one
    /// critical section, wake outside it.
    fn fire(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.fired = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Timer {
    /// Starts the timer thread.
    pub fn new() -> Timer {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                due: BinaryHeap::new(),
                next_seq: 0,
                shutdown: false,
            }),
            changed: Condvar::new(),
        });
        let thread = {
            let shared = shared.clone();
            thread::Builder::new()
                .name("toy-timer".into())
                .spawn(move || run(&shared))
                .expect("cannot start the timer thread")
        };
        Timer {
            shared,
            thread: Some(thread),
        }
    }

    /// A future that completes `duration` from now.
    pub fn sleep(&self, duration: Duration) -> Sleep {
        Sleep {
            at: Instant::now() + duration,
            timer: self.shared.clone(),
            entry: None,
        }
    }
}

impl Default for Timer {
    fn default() -> Timer {
        Timer::new()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.shared.queue.lock().unwrap().shutdown = true;
        self.shared.changed.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The timer thread: fire what is due, then sleep until the next deadline
/// or until a registration changes it.
fn run(shared: &Shared) {
    let mut queue = shared.queue.lock().unwrap();
    loop {
        if queue.shutdown {
            return;
        }
        let now = Instant::now();
        let mut fired = Vec::new();
        while queue.due.peek().is_some_and(|Reverse(due)| due.at <= now) {
            fired.push(queue.due.pop().expect("peeked").0.entry);
        }
        if !fired.is_empty() {
            drop(queue); // wake outside the lock: a waker may register a new sleep
            fired.iter().for_each(|entry| entry.fire());
            queue = shared.queue.lock().unwrap();
            continue;
        }
        queue = match queue.due.peek() {
            Some(Reverse(due)) => {
                let wait = due.at.saturating_duration_since(now);
                shared.changed.wait_timeout(queue, wait).unwrap().0
            }
            None => shared.changed.wait(queue).unwrap(),
        };
    }
}

/// Completes at its deadline. Registers with the timer on its first poll.
pub struct Sleep {
    at: Instant,
    timer: Arc<Shared>,
    entry: Option<Arc<Entry>>,
}

impl Sleep {
    /// Registers the deadline with the timer thread (first poll only).
    fn register(&mut self) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            state: Mutex::new(EntryState {
                fired: false,
                waker: None,
            }),
        });
        let mut queue = self.timer.queue.lock().unwrap();
        let seq = queue.next_seq;
        queue.next_seq += 1;
        queue.due.push(Reverse(Due {
            at: self.at,
            seq,
            entry: entry.clone(),
        }));
        drop(queue);
        // The deadline may be earlier than the one the thread sleeps towards.
        self.timer.changed.notify_one();
        entry
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Sleep holds no self-reference, so it is Unpin and may be reached
        // through a plain `&mut` (see the guide's sidebar on Pin).
        let this = self.get_mut();
        let entry = match &this.entry {
            Some(entry) => entry.clone(),
            None => {
                let entry = this.register();
                this.entry = Some(entry.clone());
                entry
            }
        };
        // T1: check and store in one critical section.
        let mut state = entry.state.lock().unwrap();
        if state.fired {
            return Poll::Ready(());
        }
        // T2: keep the stored waker only if it wakes the same task.
        match &state.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
