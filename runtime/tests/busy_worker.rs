//! A worker busy in one long poll (here: a task that blocks its thread by
//! mistake) does not hold up I/O, timers or tasks for the other workers:
//! no worker keeps the drivers while it polls, a parked worker takes them
//! over, what the busy worker alone could run (its LIFO slot) is rescued,
//! and its deque is stolen.

use std::sync::mpsc;
use std::time::{Duration, Instant};
use weft_io::io::{AsyncReadExt, AsyncWriteExt};
use weft_io::net::{TcpListener, TcpStream};
use weft_runtime::{Builder, Runtime};

/// How long the misbehaving task blocks its worker.
const BLOCKED_FOR: Duration = Duration::from_millis(300);
/// The bound each probe must meet while the worker is blocked.
const WINDOW: Duration = Duration::from_millis(50);
/// The bound under a memory checker (`WEFT_CHECKER=1`): valgrind runs the
/// probes 20-50 times slower (58-113 ms for a 10 ms sleep or an echo round
/// trip there), and a bound still below `BLOCKED_FOR` still tells a probe
/// that ran beside the blocked worker from one that waited for it.
const WINDOW_UNDER_CHECKER: Duration = Duration::from_millis(200);

/// The bound in force for this run.
fn window() -> Duration {
    match std::env::var("WEFT_CHECKER").is_ok_and(|value| value == "1") {
        true => WINDOW_UNDER_CHECKER,
        false => WINDOW,
    }
}

fn two_workers() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Time for a 10 ms sleep.
async fn sleep_probe() -> Duration {
    let start = Instant::now();
    weft_timer::sleep(Duration::from_millis(10)).await;
    start.elapsed()
}

/// Starts an echo server; returns its address.
async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    weft_runtime::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            weft_runtime::spawn(async move {
                let mut buf = [0u8; 64];
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    stream.write_all(&buf[..n]).await.unwrap();
                }
            });
        }
    });
    addr
}

/// Time to connect to `addr`, send a line and read it back.
async fn echo_probe(addr: std::net::SocketAddr) -> Duration {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    start.elapsed()
}

/// Blocks the calling worker thread for `BLOCKED_FOR`, after telling
/// `started` (a task doing this is the bug the runtime must survive).
fn block_worker(started: mpsc::Sender<()>) {
    started.send(()).unwrap();
    std::thread::sleep(BLOCKED_FOR);
}

fn assert_within_window(what: &str, took: Duration) {
    let window = window();
    assert!(
        took < window,
        "{what} took {took:?} while another worker was blocked (bound {window:?})"
    );
}

#[test]
fn a_blocked_worker_does_not_hold_up_timers_or_sockets() {
    let rt = two_workers();
    rt.block_on(async {
        let addr = echo_server().await;
        // Warm the path once, so the probe measures scheduling only.
        echo_probe(addr).await;
        let (started, blocked) = mpsc::channel();
        let blocker = weft_runtime::spawn(async move { block_worker(started) });
        blocked.recv().unwrap();
        let sleep = weft_runtime::spawn(sleep_probe()).await.unwrap();
        let echo = weft_runtime::spawn(echo_probe(addr)).await.unwrap();
        assert_within_window("a 10 ms sleep", sleep);
        assert_within_window("a TCP echo round trip", echo);
        blocker.await.unwrap();
    });
}

/// The task that blocks is woken by a timer, so it runs on the worker that
/// held the drivers, while the other worker sleeps without them: leaving
/// the drivers, the first hands them over, and a sleep already pending
/// fires on time.
#[test]
fn a_worker_leaving_the_drivers_hands_them_over() {
    let rt = two_workers();
    rt.block_on(async {
        for _ in 0..3 {
            let (started, blocked) = mpsc::channel();
            let probe = weft_runtime::spawn(sleep_probe());
            let blocker = weft_runtime::spawn(async move {
                weft_timer::sleep(Duration::from_millis(3)).await;
                block_worker(started);
            });
            blocked.recv().unwrap();
            assert_within_window(
                "a 10 ms sleep pending before the block",
                probe.await.unwrap(),
            );
            blocker.await.unwrap();
        }
    });
}

/// The blocking task first fills its worker's LIFO slot and deque (it
/// spawns three tasks), behind a task that yielded: all of them
/// run within the window, as do a sleep and an echo round trip.
#[test]
fn tasks_queued_behind_a_blocked_worker_are_rescued() {
    let rt = two_workers();
    rt.block_on(async {
        let addr = echo_server().await;
        echo_probe(addr).await;
        let (started, blocked) = mpsc::channel();
        let (done, finished) = mpsc::channel::<(&'static str, Instant)>();
        let outer = weft_runtime::spawn(async move {
            let queued = done.clone();
            // Spawned from inside the next poll: runs right after it, on
            // this worker, from the LIFO slot.
            weft_runtime::spawn(async move {
                for name in ["first spawned", "second spawned", "in the LIFO slot"] {
                    let done = queued.clone();
                    // X, then Y displacing X to the deque, then Z displacing Y:
                    // LIFO slot = Z, deque = [X, Y].
                    weft_runtime::spawn(async move {
                        done.send((name, Instant::now())).unwrap();
                    });
                }
                block_worker(started);
            });
            // Woken during its own poll: to the back of this worker's
            // deque, behind the blocker.
            weft_runtime::yield_now().await;
            done.send(("yielded", Instant::now())).unwrap();
        });
        blocked.recv().unwrap();
        let block_start = Instant::now();
        let sleep = weft_runtime::spawn(sleep_probe()).await.unwrap();
        let echo = weft_runtime::spawn(echo_probe(addr)).await.unwrap();
        assert_within_window("a 10 ms sleep", sleep);
        assert_within_window("a TCP echo round trip", echo);
        let mut seen = Vec::new();
        while seen.len() < 4 {
            let (name, at) = finished
                .recv_timeout(Duration::from_secs(10))
                .expect("a queued task never ran");
            let waited = at.saturating_duration_since(block_start);
            assert_within_window(&format!("the task {name}"), waited);
            seen.push(name);
        }
        outer.await.unwrap();
    });
}
