//! The cooperative budget on a current-thread runtime: a task that loops
//! over an always-ready weft operation still lets a 1 ms timer fire and
//! another task run, because every leaf future spends one unit of the
//! task's per-poll budget and yields once it is spent (issue 14).
//!
//! Each test spawns the busy loop, then another task, then sleeps 1 ms on
//! the main future. Without the budget the loop never returns `Pending`, so
//! it runs to its cap (`MAX_OPS`, or the end of what it loops over) before
//! anything else on the thread runs, and both assertions fail: that is the
//! bug these tests guard. With the budget, the other task runs within the
//! loop's first budget of operations, the loop is still running when the
//! timer fires, and the main future stops it.

// Each test's setup is an async block that returns the loop future, on
// purpose: the harness spawns the loop only once the setup is done.
#![allow(clippy::async_yields_async)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream, UdpSocket};
use weft::sync::{oneshot, Barrier, Condition, Event, Lock, Queue, RwLock, Semaphore};

/// How many operations a busy loop may do before it gives up on being
/// stopped. Large enough that without the budget, running to it takes far
/// longer than the 1 ms timer (a fair loop is stopped after a few ms).
const MAX_OPS: u64 = 500_000;

/// What a busy loop shares with the test: the stop request, how many
/// operations it has done so far, and whether it has finished (stopped or
/// at its cap).
#[derive(Clone, Default)]
struct Busy {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    ops: Arc<AtomicU64>,
}

impl Busy {
    /// True while the loop should do operation number `n`; publishes `n`.
    fn should_continue(&self, n: u64) -> bool {
        // Relaxed: every access is on the runtime's one thread.
        self.ops.store(n, Ordering::Relaxed);
        n < MAX_OPS && !self.stop.load(Ordering::Relaxed)
    }

    /// Records the end of the loop.
    fn finish(&self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

/// `busy_loop!(busy, n => op)` runs `op` (which may use the operation
/// number `n` and `.await`) until `busy` is stopped or `MAX_OPS` times;
/// `busy_loop!(busy, n < limit => op)` stops after `limit` operations too,
/// for loops over a resource that runs out.
macro_rules! busy_loop {
    ($busy:expr, $n:ident => $op:expr) => {
        busy_loop!($busy, $n < MAX_OPS => $op)
    };
    ($busy:expr, $n:ident < $limit:expr => $op:expr) => {{
        let busy = $busy;
        let mut $n: u64 = 0;
        while $n < $limit && busy.should_continue($n) {
            $op;
            $n += 1;
        }
        busy.finish();
    }};
}

/// The busy loop, built by a test's setup and spawned by the harness.
type Loop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs `setup(busy)` on a current-thread runtime, then spawns the loop it
/// returns beside another task and a 1 ms sleep, and asserts that the other
/// task ran within the loop's first budget of operations and that the timer
/// fired while the loop was still going.
fn assert_loop_lets_others_run<S>(what: &str, setup: impl FnOnce(Busy) -> S)
where
    S: Future<Output = Loop>,
{
    let budget = u64::from(weft::task::coop::BUDGET_PER_POLL);
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let busy = Busy::default();
        let the_loop = setup(busy.clone()).await;
        let (ops, done) = (busy.ops.clone(), busy.done.clone());
        // Spawned from a task, so both wait in the worker's own queue (the
        // injector, where the main future's spawns go, is the scheduler's
        // fairness to test, not the budget's). The other task waits for the
        // loop to start, then reports how far it got before this turn.
        let (looping, other) = weft::spawn(async move {
            let looping = weft::spawn(the_loop);
            let other = weft::spawn(async move {
                while ops.load(Ordering::Relaxed) == 0 && !done.load(Ordering::Relaxed) {
                    weft::yield_now().await;
                }
                ops.load(Ordering::Relaxed)
            });
            (looping, other)
        })
        .await
        .unwrap();
        weft::time::sleep(Duration::from_millis(1)).await;
        let timer_fired_first = !busy.done.load(Ordering::Relaxed);
        let ops_before_other = other.await.unwrap();
        busy.stop.store(true, Ordering::Relaxed);
        looping.await.unwrap();
        let ops = busy.ops.load(Ordering::Relaxed);
        assert!(
            ops_before_other <= budget,
            "{what}: another task ran only after {ops_before_other} operations of the loop (budget {budget})"
        );
        assert!(
            timer_fired_first,
            "{what}: a 1 ms timer fired only after the loop's {ops} operations: the loop never yielded"
        );
        assert!(ops < MAX_OPS, "{what}: the loop was never stopped");
    });
}

/// `Semaphore::acquire` with spare permits.
#[test]
fn semaphore_acquire_loop_yields() {
    assert_loop_lets_others_run("Semaphore::acquire", |busy| async move {
        Box::pin(async move {
            let semaphore = Semaphore::new(4);
            busy_loop!(busy, _n => drop(semaphore.acquire().await));
        }) as Loop
    });
}

/// `Lock::lock` on a free lock.
#[test]
fn lock_loop_yields() {
    assert_loop_lets_others_run("Lock::lock", |busy| async move {
        Box::pin(async move {
            let lock = Lock::new(0u64);
            busy_loop!(busy, n => *lock.lock().await = n);
        }) as Loop
    });
}

/// `RwLock::read` and `RwLock::write` on a free lock.
#[test]
fn rwlock_loop_yields() {
    assert_loop_lets_others_run("RwLock::read", |busy| async move {
        Box::pin(async move {
            let lock = RwLock::new(0u64);
            busy_loop!(busy, _n => drop(lock.read().await));
        }) as Loop
    });
    assert_loop_lets_others_run("RwLock::write", |busy| async move {
        Box::pin(async move {
            let lock = RwLock::new(0u64);
            busy_loop!(busy, n => *lock.write().await = n);
        }) as Loop
    });
}

/// `Event::wait` on a set event.
#[test]
fn event_wait_loop_yields() {
    assert_loop_lets_others_run("Event::wait", |busy| async move {
        Box::pin(async move {
            let event = Event::new();
            event.set();
            busy_loop!(busy, _n => event.wait().await);
        }) as Loop
    });
}

/// `Condition::wait_for` whose predicate already holds: the lock it
/// re-takes spends the budget. (A plain `Condition::wait` always suspends
/// until another future notifies, so it cannot loop without yielding; that
/// a notified wait spends the budget and yields once it is spent is
/// `condition_wait_spends_the_budget` in weft-sync's tests.)
#[test]
fn condition_wait_for_loop_yields() {
    assert_loop_lets_others_run("Condition::wait_for", |busy| async move {
        Box::pin(async move {
            let lock = Lock::new(1u64);
            let condition = Condition::new();
            busy_loop!(busy, _n => drop(condition.wait_for(lock.lock().await, |n| *n > 0).await));
        }) as Loop
    });
}

/// `Queue::get` with an item always waiting.
#[test]
fn queue_get_loop_yields() {
    assert_loop_lets_others_run("Queue::get", |busy| async move {
        Box::pin(async move {
            let queue = Queue::unbounded();
            busy_loop!(busy, n => {
                queue.put_nowait(n).unwrap();
                assert_eq!(queue.get().await.unwrap(), n);
            });
        }) as Loop
    });
}

/// `Queue::put` with room always free.
#[test]
fn queue_put_loop_yields() {
    assert_loop_lets_others_run("Queue::put", |busy| async move {
        Box::pin(async move {
            let queue = Queue::bounded(1);
            busy_loop!(busy, n => {
                queue.put(n).await.unwrap();
                assert_eq!(queue.get_nowait().unwrap(), n);
            });
        }) as Loop
    });
}

/// `Barrier::wait` with one party (every wait is the leader's).
#[test]
fn barrier_wait_loop_yields() {
    assert_loop_lets_others_run("Barrier::wait", |busy| async move {
        Box::pin(async move {
            let barrier = Barrier::new(1);
            busy_loop!(busy, _n => assert!(barrier.wait().await.is_leader()));
        }) as Loop
    });
}

/// A oneshot `Receiver` whose value was already sent.
#[test]
fn oneshot_receive_loop_yields() {
    assert_loop_lets_others_run("oneshot::Receiver", |busy| async move {
        Box::pin(async move {
            busy_loop!(busy, n => {
                let (sender, receiver) = oneshot::channel();
                sender.send(n).unwrap();
                assert_eq!(receiver.await.unwrap(), n);
            });
        }) as Loop
    });
}

/// `sleep` with a deadline already passed.
#[test]
fn elapsed_sleep_loop_yields() {
    assert_loop_lets_others_run("sleep(0)", |busy| async move {
        Box::pin(async move {
            busy_loop!(busy, _n => weft::time::sleep(Duration::ZERO).await);
        }) as Loop
    });
}

/// `timeout` around an always-ready future.
#[test]
fn timeout_loop_yields() {
    assert_loop_lets_others_run("timeout", |busy| async move {
        Box::pin(async move {
            busy_loop!(busy, n => {
                let value = weft::time::timeout(Duration::from_secs(60), async { n }).await;
                assert_eq!(value.unwrap(), n);
            });
        }) as Loop
    });
}

/// `JoinHandle` of tasks that already finished.
#[test]
fn finished_join_handle_loop_yields() {
    /// Finished tasks to await; the fair loop is still awaiting them when
    /// the 1 ms timer fires.
    const TASKS: u64 = 100_000;
    assert_loop_lets_others_run("JoinHandle", |busy| async move {
        let handles: Vec<_> = (0..TASKS).map(|n| weft::spawn(async move { n })).collect();
        while !handles.iter().all(|handle| handle.is_finished()) {
            weft::yield_now().await;
        }
        Box::pin(async move {
            let mut handles = handles.into_iter();
            busy_loop!(busy, n < TASKS => {
                let handle = handles.next().unwrap();
                assert_eq!(handle.await.unwrap(), n);
            });
        }) as Loop
    });
}

/// Reads from a TCP socket whose peer (a plain thread) keeps its receive
/// buffer full.
#[test]
fn tcp_read_loop_yields() {
    assert_loop_lets_others_run("TcpStream::read", |busy| async move {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Writes until the loop's end drops the stream (then the write fails).
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let (mut peer, _) = listener.accept().unwrap();
            let chunk = [7u8; 64 * 1024];
            while peer.write_all(&chunk).is_ok() {}
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        // Let the receive buffer fill before the loop starts.
        std::thread::sleep(Duration::from_millis(20));
        Box::pin(async move {
            busy_loop!(busy, _n => assert_eq!(stream.read(&mut byte).await.unwrap(), 1));
            drop(stream);
            writer.join().unwrap();
        }) as Loop
    });
}

/// Writes to a TCP socket whose peer (a plain thread) keeps draining it.
#[test]
fn tcp_write_loop_yields() {
    assert_loop_lets_others_run("TcpStream::write", |busy| async move {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let (mut peer, _) = listener.accept().unwrap();
            let mut sink = vec![0u8; 256 * 1024];
            while peer.read(&mut sink).is_ok_and(|n| n > 0) {}
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        Box::pin(async move {
            busy_loop!(busy, _n => assert_eq!(stream.write(&[1]).await.unwrap(), 1));
            drop(stream);
            reader.join().unwrap();
        }) as Loop
    });
}

/// Accepts from a listener with a backlog of connections already made,
/// which two plain threads keep topping up.
#[test]
fn tcp_accept_loop_yields() {
    /// Connections in the backlog before the loop starts (under the
    /// listener's backlog and the descriptor limit).
    const BACKLOG: usize = 600;
    assert_loop_lets_others_run("TcpListener::accept", |busy| async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let backlog: Vec<_> = (0..BACKLOG)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        // One accept first, so the listener's readiness is known before the
        // loop starts.
        drop(listener.accept().await.unwrap());
        let connectors: Vec<_> = (0..2)
            .map(|_| {
                let stop = busy.stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        drop(std::net::TcpStream::connect(addr));
                    }
                    // One more, for a loop already waiting when it was stopped.
                    drop(std::net::TcpStream::connect(addr));
                })
            })
            .collect();
        Box::pin(async move {
            busy_loop!(busy, _n => drop(listener.accept().await.unwrap()));
            drop(backlog);
            for connector in connectors {
                connector.join().unwrap();
            }
        }) as Loop
    });
}

/// `UdpSocket::send` on a connected socket (always ready).
#[test]
fn udp_send_loop_yields() {
    assert_loop_lets_others_run("UdpSocket::send", |busy| async move {
        let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(sink.local_addr().unwrap()).await.unwrap();
        Box::pin(async move {
            busy_loop!(busy, _n => assert_eq!(socket.send(&[1]).await.unwrap(), 1));
            drop(sink);
        }) as Loop
    });
}

/// Asks for a receive buffer of 16 MiB (`SO_RCVBUFFORCE` when permitted,
/// else as much as `SO_RCVBUF` allows), so thousands of datagrams wait.
fn grow_receive_buffer(socket: &std::net::UdpSocket) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 16 << 20;
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid descriptor, and a pointer to a c_int with its size.
        let set = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if set == 0 {
            return;
        }
    }
}

/// `UdpSocket::recv` with thousands of datagrams waiting, which two plain
/// threads keep topping up.
#[test]
fn udp_recv_loop_yields() {
    assert_loop_lets_others_run("UdpSocket::recv", |busy| async move {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        grow_receive_buffer(&std_socket);
        let socket = UdpSocket::from_std(std_socket).unwrap();
        let addr = socket.local_addr().unwrap();
        let senders: Vec<_> = (0..2)
            .map(|_| {
                let stop = busy.stop.clone();
                std::thread::spawn(move || {
                    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        let _ = sender.send_to(&[1], addr);
                    }
                    // One more, for a loop already waiting when it was stopped.
                    let _ = sender.send_to(&[1], addr);
                })
            })
            .collect();
        let mut buf = [0u8; 8];
        socket.recv(&mut buf).await.unwrap();
        // Let the receive buffer fill before the loop starts.
        std::thread::sleep(Duration::from_millis(100));
        Box::pin(async move {
            busy_loop!(busy, _n => assert_eq!(socket.recv(&mut buf).await.unwrap(), 1));
            for sender in senders {
                sender.join().unwrap();
            }
        }) as Loop
    });
}

/// `consume_budget` makes a loop with no weft operation in it fair too.
#[test]
fn consume_budget_loop_yields() {
    assert_loop_lets_others_run("consume_budget", |busy| async move {
        Box::pin(async move {
            busy_loop!(busy, _n => weft::task::consume_budget().await);
        }) as Loop
    });
}

/// `block_on`'s main future has a budget too: looping over an always-ready
/// operation there lets a spawned task and a 1 ms timer run.
#[test]
fn block_on_main_future_loop_yields() {
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    let (ops_before_other, ops_before_timer) = runtime.block_on(async {
        let other_ran = Arc::new(AtomicBool::new(false));
        let timer_fired = Arc::new(AtomicBool::new(false));
        weft::spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.store(true, Ordering::Relaxed) }
        });
        weft::spawn({
            let timer_fired = timer_fired.clone();
            async move {
                weft::time::sleep(Duration::from_millis(1)).await;
                timer_fired.store(true, Ordering::Relaxed);
            }
        });
        let semaphore = Semaphore::new(1);
        let (mut ops, mut ops_before_other) = (0u64, None);
        loop {
            // Checked before the exit test: the other task and the timer
            // may both have run in the same yield (under valgrind the 1 ms
            // sleep is already due at its first poll, in the turn where
            // the other task runs too).
            if ops_before_other.is_none() && other_ran.load(Ordering::Relaxed) {
                ops_before_other = Some(ops);
            }
            if ops >= MAX_OPS || timer_fired.load(Ordering::Relaxed) {
                break;
            }
            drop(semaphore.acquire().await);
            ops += 1;
        }
        (ops_before_other, ops)
    });
    let budget = u64::from(weft::task::coop::BUDGET_PER_POLL);
    // Seen at the check after the operation that yielded: one budget + 1.
    assert!(
        ops_before_other.is_some_and(|ops| ops <= budget + 1),
        "a spawned task ran only after {ops_before_other:?} operations of the main future"
    );
    assert!(
        ops_before_timer < MAX_OPS,
        "the timer never fired while the main future looped"
    );
}

/// `unconstrained` really opts out: the same always-ready loop inside it
/// runs to its end before the timer or the other task get a turn.
#[test]
fn unconstrained_loop_does_not_yield() {
    /// Operations of the unconstrained loop: enough to outlast 1 ms, few
    /// enough to finish quickly.
    const OPS: u64 = 20_000;
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let busy = Busy::default();
        let done = busy.done.clone();
        let looping = weft::spawn(weft::task::unconstrained(async move {
            let semaphore = Semaphore::new(1);
            let mut polls_left_budget = 0;
            for _ in 0..OPS {
                drop(semaphore.acquire().await);
                if weft::task::coop::has_budget_remaining() {
                    polls_left_budget += 1;
                }
            }
            busy.done.store(true, Ordering::Relaxed);
            polls_left_budget
        }));
        let other = weft::spawn(async move { !done.load(Ordering::Relaxed) });
        weft::time::sleep(Duration::from_millis(1)).await;
        assert!(
            !other.await.unwrap(),
            "the other task ran before the unconstrained loop finished: it yielded"
        );
        assert_eq!(
            looping.await.unwrap(),
            OPS,
            "the budget was visible inside unconstrained"
        );
    });
}

/// A `poll_proceed` guard dropped without `made_progress` gives its unit
/// back: a future that polls and finds nothing to do does not spend.
#[test]
fn poll_proceed_guard_refunds_without_progress() {
    use std::task::Poll;
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        weft::spawn(async {
            std::future::poll_fn(|cx| {
                for _ in 0..10 * weft::task::coop::BUDGET_PER_POLL as usize {
                    match weft::task::coop::poll_proceed(cx) {
                        Poll::Ready(guard) => drop(guard),
                        Poll::Pending => {
                            panic!("refunded units ran out: the guard did not give them back")
                        }
                    }
                }
                let mut spent = 0;
                for _ in 0..2 * weft::task::coop::BUDGET_PER_POLL as usize {
                    let Poll::Ready(guard) = weft::task::coop::poll_proceed(cx) else {
                        break;
                    };
                    guard.made_progress();
                    spent += 1;
                }
                assert_eq!(spent, weft::task::coop::BUDGET_PER_POLL as usize);
                Poll::Ready(())
            })
            .await;
        })
        .await
        .unwrap();
    });
}

/// `gather` over children that each loop over always-ready operations:
/// every parent poll stops once the budget is spent instead of polling the
/// rest of the children for nothing, so the child polls stay linear in the
/// work (a rescan of every child on each parent poll would be quadratic).
#[test]
fn gather_stays_linear_when_children_exhaust_the_budget() {
    const CHILDREN: u64 = 2_000;
    const OPS_PER_CHILD: u64 = 300;
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    let child_polls = Arc::new(AtomicU64::new(0));
    let total = runtime.block_on({
        let child_polls = child_polls.clone();
        async move {
            let semaphore = Semaphore::new(1);
            let children = (0..CHILDREN).map(|_| {
                CountPolls::new(child_polls.clone(), async {
                    for _ in 0..OPS_PER_CHILD {
                        drop(semaphore.acquire().await);
                    }
                    OPS_PER_CHILD
                })
            });
            weft::gather(children).await.into_iter().sum::<u64>()
        }
    });
    assert_eq!(total, CHILDREN * OPS_PER_CHILD);
    let ops = CHILDREN * OPS_PER_CHILD;
    let budget = u64::from(weft::task::coop::BUDGET_PER_POLL);
    let polls = child_polls.load(Ordering::Relaxed);
    // Each parent poll completes at most a budget of operations and wastes
    // at most a couple of child polls; each child needs a poll per budget.
    let linear_bound = 4 * (ops / budget + CHILDREN * (OPS_PER_CHILD / budget + 1));
    assert!(
        polls <= linear_bound,
        "{polls} child polls for {ops} operations over {CHILDREN} children (bound {linear_bound})"
    );
}

/// `race` over children that each exhaust the budget: linear as `gather`.
#[test]
fn race_stays_linear_when_children_exhaust_the_budget() {
    const CHILDREN: u64 = 2_000;
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    let child_polls = Arc::new(AtomicU64::new(0));
    let winner = runtime.block_on({
        let child_polls = child_polls.clone();
        async move {
            let semaphore = Semaphore::new(1);
            let children = (0..CHILDREN).map(|child| {
                let semaphore = &semaphore;
                CountPolls::new(child_polls.clone(), async move {
                    // Child `c` needs c + 1 operations: the first one wins.
                    for _ in 0..=child {
                        drop(semaphore.acquire().await);
                    }
                    child
                })
            });
            weft::race(children).await
        }
    });
    assert_eq!(winner, 0);
    let polls = child_polls.load(Ordering::Relaxed);
    assert!(
        polls <= 4 * CHILDREN,
        "{polls} child polls for a race of {CHILDREN} children"
    );
}

/// `TaskGroup::join_all` over many finished tasks: the JoinHandles spend
/// the budget, so the joining task yields every budget's worth of joins,
/// and its number of polls stays linear in the number of tasks.
#[test]
fn task_group_stays_linear_when_joins_exhaust_the_budget() {
    const TASKS: u64 = 20_000;
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    let parent_polls = Arc::new(AtomicU64::new(0));
    let results = runtime.block_on({
        let parent_polls = parent_polls.clone();
        async move {
            let mut group = weft::task::TaskGroup::new();
            for n in 0..TASKS {
                group.spawn(async move { n });
            }
            let joined = CountPolls::new(parent_polls, async move { group.join_all().await });
            weft::spawn(joined).await.unwrap()
        }
    });
    assert_eq!(results.len() as u64, TASKS);
    let polls = parent_polls.load(Ordering::Relaxed);
    let budget = u64::from(weft::task::coop::BUDGET_PER_POLL);
    assert!(
        polls >= TASKS / budget,
        "{polls} polls joined {TASKS} tasks: the joins did not spend the budget"
    );
    assert!(
        polls <= 4 * (TASKS / budget) + 16,
        "{polls} polls to join {TASKS} tasks"
    );
}

/// A future that counts its polls.
struct CountPolls<F> {
    polls: Arc<AtomicU64>,
    inner: std::pin::Pin<Box<F>>,
}

impl<F> CountPolls<F> {
    fn new(polls: Arc<AtomicU64>, inner: F) -> Self {
        CountPolls {
            polls,
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // Relaxed: a test counter read after the runtime is done.
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.inner.as_mut().poll(cx)
    }
}
