//! The timer and I/O drivers are wired in: sleeps and sockets work on both
//! flavours, on workers and in `block_on`, and a paused clock jumps to the
//! next timer when the runtime is idle.

mod common;

use common::runtimes;
use std::time::Duration;
use weft_io::io::{AsyncReadExt, AsyncWriteExt};
use weft_io::net::{TcpListener, TcpStream};
use weft_runtime::Builder;

/// A real-clock sleep inside a spawned task and in `block_on` completes
/// and lasts at least its duration.
#[test]
fn sleep_completes_in_tasks_and_block_on() {
    for rt in runtimes() {
        let start = std::time::Instant::now();
        rt.block_on(async {
            let task = weft_runtime::spawn(weft_timer::sleep(Duration::from_millis(20)));
            weft_timer::sleep(Duration::from_millis(10)).await;
            task.await.unwrap();
        });
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}

/// With `start_paused(true)`, an idle runtime jumps its clock to the next
/// timer: an hour of sleeps finishes at once (current-thread flavour).
#[test]
fn paused_clock_auto_advances_when_idle_current_thread() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    let virtual_elapsed = rt.block_on(async {
        let begin = weft_timer::Instant::now();
        let task = weft_runtime::spawn(weft_timer::sleep(Duration::from_secs(3600)));
        weft_timer::sleep(Duration::from_secs(60)).await;
        task.await.unwrap();
        begin.elapsed()
    });
    assert!(
        virtual_elapsed >= Duration::from_secs(3600),
        "{virtual_elapsed:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "the paused clock must not sleep in real time"
    );
}

/// The same on the multi-thread flavour: the clock jumps once every worker is idle.
#[test]
fn paused_clock_auto_advances_when_idle_multi_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .start_paused(true)
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (1..=10)
            .map(|minutes| {
                weft_runtime::spawn(weft_timer::sleep(Duration::from_secs(60 * minutes)))
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert!(start.elapsed() < Duration::from_secs(30));
}

/// A TCP echo over loopback between two tasks works on both flavours.
#[test]
fn tcp_echo_between_tasks() {
    for rt in runtimes() {
        let echoed = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = weft_runtime::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"hello").await.unwrap();
            let mut buf = [0u8; 5];
            client.read_exact(&mut buf).await.unwrap();
            server.await.unwrap();
            buf
        });
        assert_eq!(&echoed, b"hello");
    }
}

/// Timer and reactor handles are current on worker and blocking threads.
#[test]
fn driver_handles_are_current_on_every_runtime_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        assert!(weft_timer::Handle::try_current().is_some());
        assert!(
            weft_runtime::spawn(async { weft_io::Handle::try_current().is_some() })
                .await
                .unwrap()
        );
        assert!(
            weft_runtime::spawn_blocking(|| weft_timer::Handle::try_current().is_some())
                .await
                .unwrap()
        );
    });
}

/// Tasks the drivers wake in one batch onto the worker parked in them are
/// shared: that worker defers notifying the other one until it leaves the
/// drivers (`Core::in_drivers`), then wakes it once. Two tasks woken by the
/// same timer tick each wait (blocking their thread) for the other to
/// arrive, which can only happen if both workers run them at once.
#[test]
fn a_batch_of_driver_wakes_is_shared_with_a_sleeping_worker() {
    use std::sync::mpsc;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for round in 0..20 {
        let (a_tx, a_rx) = mpsc::channel::<()>();
        let (b_tx, b_rx) = mpsc::channel::<()>();
        let meet = |tx: mpsc::Sender<()>, rx: mpsc::Receiver<()>, at| async move {
            weft_timer::sleep_until(at).await;
            // The other task may already have given up (the failure case).
            let _ = tx.send(());
            // Blocks this worker: only the other worker can send.
            rx.recv_timeout(Duration::from_secs(10)).is_ok()
        };
        let met = rt.block_on(async {
            // One deadline, so one driver pass wakes both.
            let at = weft_timer::Instant::now() + Duration::from_millis(5);
            let a = weft_runtime::spawn(meet(a_tx, b_rx, at));
            let b = weft_runtime::spawn(meet(b_tx, a_rx, at));
            (a.await.unwrap(), b.await.unwrap())
        });
        assert_eq!(
            met,
            (true, true),
            "round {round}: the two tasks never ran at once"
        );
    }
}
