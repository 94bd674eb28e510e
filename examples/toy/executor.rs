//! Chapter 1's executor, unchanged: a task is its boxed future plus a way
//! back onto the run queue, and the waker *is* the task.
//!
//! The guide's constructive track (`docs/guide/01b-leaf-futures.md`) adds
//! the two things this executor lacks, each in its own file: a timer thread
//! (`timer.rs`) and a reactor on mio (`reactor.rs`). Both are leaf futures:
//! they store the waker they are given and fire it from another thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A task is its future plus a way back onto the run queue.
struct Task {
    future: Mutex<Option<BoxFuture>>,
    queue: Sender<Arc<Task>>,
}

/// The waker *is* the task: waking re-queues it.
impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let queue = self.queue.clone();
        let _ = queue.send(self); // the executor may be gone: drop silently
    }
}

/// Runs many tasks on the thread that calls [`Executor::run`].
pub struct Executor {
    queue: Sender<Arc<Task>>,
    ready: Receiver<Arc<Task>>,
}

impl Executor {
    /// An executor with an empty run queue.
    pub fn new() -> Executor {
        let (queue, ready) = channel();
        Executor { queue, ready }
    }

    /// Queues `future` as a new task; it first runs inside [`Executor::run`].
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(future))),
            queue: self.queue.clone(),
        });
        self.queue
            .send(task)
            .expect("the executor owns the receiver");
    }

    /// Runs until no task is queued and no waker can queue one.
    pub fn run(self) {
        drop(self.queue); // only tasks (and their wakers) hold senders now
        while let Ok(task) = self.ready.recv() {
            let mut slot = task.future.lock().unwrap();
            let Some(mut future) = slot.take() else {
                continue;
            }; // already done
            let waker = Waker::from(task.clone());
            let mut cx = Context::from_waker(&waker);
            if future.as_mut().poll(&mut cx).is_pending() {
                *slot = Some(future); // put it back; a wake will re-queue the task
            }
        }
    }
}

impl Default for Executor {
    fn default() -> Executor {
        Executor::new()
    }
}
