//! Local (`!Send`) tasks: `LocalRuntime`, `spawn_local`, `run_local` and
//! `#[weft::test(flavor = "local")]`. Local tasks share `Rc`/`RefCell`
//! state, interleave, abort, panic and are dropped like any task, always on
//! the runtime's own thread; `spawn_local` anywhere else panics with a
//! message that says where it works.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;
use weft::task::spawn_local;

fn local_runtime() -> weft::LocalRuntime {
    weft::Builder::new_current_thread().build_local().unwrap()
}

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("expected a panic");
    payload_text(payload)
}

/// The text of a panic payload (`String` or `&str`), or empty.
fn payload_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|message| message.to_string())
            .unwrap_or_default(),
    }
}

/// Records the thread its destructor runs on.
struct DropsOn(Arc<Mutex<Vec<ThreadId>>>);

impl Drop for DropsOn {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

/// A thousand local tasks share one `Rc<RefCell<_>>` across `.await`s.
#[test]
fn rc_refcell_shared_by_a_thousand_local_tasks() {
    let shared = Rc::new(RefCell::new(Vec::new()));
    let total = weft::run_local({
        let shared = shared.clone();
        async move {
            let tasks: Vec<_> = (0..1_000u32)
                .map(|id| {
                    let shared = shared.clone();
                    spawn_local(async move {
                        shared.borrow_mut().push(id);
                        weft::yield_now().await;
                        let len = shared.borrow().len();
                        assert!(len >= 1);
                        id
                    })
                })
                .collect();
            let mut total = 0u64;
            for task in tasks {
                total += u64::from(task.await.unwrap());
            }
            total
        }
    });
    assert_eq!(total, 999 * 1_000 / 2);
    assert_eq!(shared.borrow().len(), 1_000);
    assert_eq!(
        Rc::strong_count(&shared),
        1,
        "every task's clone was dropped"
    );
}

/// Runs `future` as a local task and awaits it.
async fn spawn_local_from_task<F: Future<Output = ()> + 'static>(future: F) {
    spawn_local(future).await.unwrap();
}

/// Two local tasks that yield in a loop take turns: each `yield_now` lets
/// the other run before the yielder runs again.
#[test]
fn local_tasks_interleave_at_yield_now() {
    let order = Rc::new(RefCell::new(Vec::new()));
    // Spawned from a local task, so both start on the runtime's own queue.
    let spawner = order.clone();
    weft::run_local(spawn_local_from_task(async move {
        let order = spawner;
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let order = order.clone();
                spawn_local(async move {
                    for _ in 0..3 {
                        order.borrow_mut().push(name);
                        weft::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }));
    let order = order.borrow();
    assert_eq!(order.len(), 6);
    assert!(
        order.windows(2).all(|pair| pair[0] != pair[1]),
        "the two tasks did not alternate: {order:?}"
    );
}

/// An aborted local task is cancelled at its next scheduling point and its
/// destructors run on the runtime's thread; a panicking one yields a
/// `JoinError` and the runtime keeps going.
#[test]
fn local_task_aborted_and_panicking() {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let rt = local_runtime();
    let owner = thread::current().id();
    rt.block_on(async {
        let guard = (Rc::new(()), DropsOn(drops.clone()));
        let stuck = spawn_local(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        weft::yield_now().await;
        stuck.abort();
        assert!(stuck.await.unwrap_err().is_cancelled());
        assert_eq!(*drops.lock().unwrap(), [owner]);

        let failing = spawn_local(async {
            let _local = Rc::new(1);
            panic!("a local task panics");
        });
        assert!(failing.await.unwrap_err().is_panic());
        let after = spawn_local(async { Rc::new(2) });
        assert_eq!(*after.await.unwrap(), 2);
    });
}

/// Dropping the runtime drops its unfinished local tasks, on its thread,
/// before `drop` returns.
#[test]
fn local_tasks_dropped_at_runtime_drop_on_its_thread() {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let rt = local_runtime();
    for _ in 0..10 {
        let guard = (Rc::new(()), DropsOn(drops.clone()));
        rt.spawn_local(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
    }
    rt.block_on(weft::yield_now());
    drop(rt);
    let drops = drops.lock().unwrap();
    assert_eq!(drops.len(), 10);
    assert!(drops.iter().all(|&id| id == thread::current().id()));
}

/// A local task's waker, sent to another thread and fired there, wakes the
/// task, which resumes on the runtime's thread.
#[test]
fn waker_of_a_local_task_fired_from_another_thread() {
    /// Pending once; sends its waker to a thread that wakes it.
    struct WakeFromThread {
        sent: bool,
        wakers: mpsc::Sender<Waker>,
    }
    impl Future for WakeFromThread {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.sent {
                return Poll::Ready(());
            }
            self.sent = true;
            self.wakers.send(cx.waker().clone()).unwrap();
            Poll::Pending
        }
    }
    let (send_waker, wakers) = mpsc::channel::<Waker>();
    let waking = thread::spawn(move || {
        for waker in wakers {
            waker.wake();
        }
    });
    let rt = local_runtime();
    let owner = thread::current().id();
    let resumed_on = rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let wakers = send_waker.clone();
                let local = Rc::new(Cell::new(0));
                spawn_local(async move {
                    WakeFromThread {
                        sent: false,
                        wakers,
                    }
                    .await;
                    local.set(1);
                    thread::current().id()
                })
            })
            .collect();
        let mut threads = Vec::new();
        for task in tasks {
            threads.push(task.await.unwrap());
        }
        threads
    });
    drop(send_waker);
    waking.join().unwrap();
    assert!(resumed_on.iter().all(|&id| id == owner));
}

/// `spawn_local` outside a `LocalRuntime` panics with a message naming
/// `LocalRuntime` and `run_local`: on a plain thread, inside a plain
/// current-thread runtime, on a multi-thread worker, and in a blocking
/// closure of a `LocalRuntime`.
#[test]
fn spawn_local_outside_a_local_runtime_panics_with_the_message() {
    let check = |message: String| {
        assert!(message.contains("LocalRuntime"), "{message}");
        assert!(message.contains("run_local"), "{message}");
    };
    check(panic_message(|| drop(spawn_local(async {}))));

    let current = weft::Builder::new_current_thread().build().unwrap();
    check(panic_message(|| {
        current.block_on(async { drop(spawn_local(async {})) })
    }));

    let multi = weft::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let on_worker = multi.block_on(multi.spawn(async { drop(spawn_local(async {})) }));
    check(payload_text(on_worker.unwrap_err().into_panic()));

    let local = local_runtime();
    let in_blocking = local.block_on(local.spawn_blocking(|| drop(spawn_local(async {}))));
    assert!(in_blocking.unwrap_err().is_panic());
}

/// `build_local` on a multi-thread builder is an `InvalidInput` error.
#[test]
fn build_local_needs_a_current_thread_builder() {
    let err = weft::Builder::new_multi_thread().build_local().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// Local tasks appear in the dump, count in the metrics, get slow-poll
/// reports, and run beside `Send` tasks spawned through the handle from
/// another thread.
///
/// The threshold is far above any healthy poll: under valgrind the first
/// poll of each of the two fast tasks took 20-25 ms (code valgrind had not
/// translated yet), so a 5 ms threshold reported them too.
#[test]
fn local_tasks_are_dumped_counted_and_reported() {
    /// Far above a fast task's first poll under valgrind (25 ms measured).
    const THRESHOLD: Duration = Duration::from_millis(150);
    /// How long the slow task blocks in its one poll.
    const BLOCK: Duration = Duration::from_millis(200);
    let slow = Arc::new(Mutex::new(Vec::new()));
    let rt = weft::Builder::new_current_thread()
        .slow_poll_threshold(THRESHOLD)
        .on_slow_poll({
            let slow = slow.clone();
            move |report| {
                slow.lock()
                    .unwrap()
                    .push((report.task_id(), report.duration()))
            }
        })
        .build_local()
        .unwrap();
    let parked = rt.spawn_local(async {
        let _local = Rc::new(());
        std::future::pending::<()>().await
    });
    let handle = rt.handle().clone();
    let from_thread = thread::spawn(move || handle.spawn(async { 40 + 2 }))
        .join()
        .unwrap();
    let slow_task = rt.spawn_local(async {
        let _local = Rc::new(());
        thread::sleep(BLOCK);
    });
    let slow_id = slow_task.id();
    rt.block_on(async {
        assert_eq!(from_thread.await.unwrap(), 42);
        slow_task.await.unwrap();
    });
    let dump = rt.handle().dump();
    assert!(dump.tasks().iter().any(|task| task.id() == parked.id()));
    assert!(rt.metrics().spawned_tasks() >= 3);
    let slow = slow.lock().unwrap();
    assert!(
        matches!(slow[..], [(id, duration)] if id == slow_id && duration >= BLOCK),
        "only the slow task is reported, for at least its {BLOCK:?}: {slow:?}"
    );
}

/// A `block_on` through the handle on another thread polls its own future
/// and leaves the local tasks alone; they run when the owner drives. Its
/// future yields first: a `block_on` that held the core would run the
/// runtime's tasks while its future waits.
#[test]
fn handle_block_on_elsewhere_never_runs_local_tasks() {
    let rt = local_runtime();
    let ran = Rc::new(Cell::new(false));
    let task = rt.spawn_local({
        let ran = ran.clone();
        async move { ran.set(true) }
    });
    let handle = rt.handle();
    let answer = thread::scope(|scope| {
        scope
            .spawn(|| {
                handle.block_on(async {
                    weft::yield_now().await;
                    7
                })
            })
            .join()
            .unwrap()
    });
    assert_eq!(answer, 7);
    assert!(!ran.get() && !task.is_finished());
    rt.block_on(task).unwrap();
    assert!(ran.get());
}

/// The JoinHandle of a local task whose output is `Send` may be awaited on
/// another thread.
#[test]
fn join_handle_of_a_send_output_leaves_the_thread() {
    let rt = local_runtime();
    let output = rt.block_on(async {
        let task = spawn_local(async {
            let local = Rc::new(20);
            weft::yield_now().await;
            *local + 1
        });
        let awaiting = thread::spawn(move || {
            let other = weft::Builder::new_current_thread().build().unwrap();
            other.block_on(task).unwrap()
        });
        weft::spawn_blocking(move || awaiting.join().unwrap())
            .await
            .unwrap()
    });
    assert_eq!(output, 21);
}

weft::task_local! {
    static REQUEST_ID: u64;
}

/// `spawn_local` copies the context variables in scope, as `spawn` does.
#[test]
fn spawn_local_inherits_context_variables() {
    let seen = weft::run_local(REQUEST_ID.scope(5, async {
        spawn_local(async { REQUEST_ID.get() }).await.unwrap()
    }));
    assert_eq!(seen, 5);
}

/// `#[weft::test(flavor = "local")]` runs the body on a `LocalRuntime`.
#[weft::test(flavor = "local")]
async fn the_local_flavour_of_the_attribute() {
    let shared = Rc::new(Cell::new(0));
    let task = spawn_local({
        let shared = shared.clone();
        async move { shared.set(3) }
    });
    task.await.unwrap();
    assert_eq!(shared.get(), 3);
}

/// Stress: a thousand local tasks wait on channels that four other threads
/// complete, while a fifth thread aborts every third task through its
/// `AbortHandle`. Every task ends (finished or cancelled), and every
/// future is dropped exactly once, on the runtime's thread.
#[test]
fn stress_remote_wakes_and_aborts_of_local_tasks() {
    const TASKS: usize = 1_000;
    let drops = Arc::new(Mutex::new(Vec::new()));
    let rt = local_runtime();
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let (send, receive) = weft::sync::oneshot::channel::<u32>();
        let guard = (Rc::new(()), DropsOn(drops.clone()));
        senders.push(send);
        handles.push(rt.spawn_local(async move {
            let _guard = guard;
            receive.await.unwrap_or(0)
        }));
    }
    let aborts: Vec<_> = handles
        .iter()
        .step_by(3)
        .map(|h| h.abort_handle())
        .collect();
    let results = rt.block_on(async {
        // Let every task register its waker before the threads start.
        weft::yield_now().await;
        let mut threads = Vec::new();
        let per_thread = TASKS / 4;
        for chunk in 0..4 {
            let batch: Vec<_> = senders.drain(..per_thread.min(senders.len())).collect();
            threads.push(thread::spawn(move || {
                for (i, send) in batch.into_iter().enumerate() {
                    let _ = send.send((chunk * per_thread + i) as u32);
                }
            }));
        }
        threads.push(thread::spawn(move || aborts.iter().for_each(|a| a.abort())));
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await);
        }
        for thread in threads {
            thread.join().unwrap();
        }
        results
    });
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(value) => assert_eq!(value as usize, index),
            Err(err) => assert!(err.is_cancelled() && index % 3 == 0, "{err}"),
        }
    }
    let drops = drops.lock().unwrap();
    assert_eq!(drops.len(), TASKS);
    assert!(drops.iter().all(|&id| id == thread::current().id()));
}

/// `task::Builder::spawn_local` names a local task (shown in the dump) and,
/// like every spawn, copies the context variables in scope.
#[test]
fn builder_spawn_local_names_the_task_and_inherits_context() {
    weft::run_local(REQUEST_ID.scope(8, async {
        let local = Rc::new(());
        let named = weft::task::Builder::new()
            .name("local-worker")
            .spawn_local(async move {
                let _local = local;
                weft::yield_now().await;
                REQUEST_ID.get()
            });
        let dump = weft::Handle::current().dump();
        let info = dump
            .tasks()
            .iter()
            .find(|task| task.id() == named.id())
            .expect("the local task is in the dump");
        assert_eq!(info.name(), Some("local-worker"));
        assert_eq!(named.await.unwrap(), 8);
    }));
}

/// Local tasks obey the cooperative budget: a local task that only ever
/// spends budget (every unit is ready at once) still yields, so another
/// local task runs before it finishes.
#[test]
fn a_busy_local_task_yields_when_its_budget_is_spent() {
    let other_ran = Rc::new(Cell::new(false));
    let seen_at = weft::run_local(spawn_local_from_task_output({
        let other_ran = other_ran.clone();
        async move {
            let busy = spawn_local({
                let other_ran = other_ran.clone();
                async move {
                    for step in 0..10_000u32 {
                        if other_ran.get() {
                            return Some(step);
                        }
                        weft::task::consume_budget().await;
                    }
                    None
                }
            });
            let other = spawn_local(async move { other_ran.set(true) });
            other.await.unwrap();
            busy.await.unwrap()
        }
    }));
    let step = seen_at.expect("the other local task never ran while the busy one spent its budget");
    assert!(
        step <= 256,
        "the busy task ran {step} steps before yielding"
    );
    assert!(other_ran.get());
}

/// Runs `future` as a local task and returns its output.
async fn spawn_local_from_task_output<T: 'static>(future: impl Future<Output = T> + 'static) -> T {
    spawn_local(future).await.unwrap()
}
