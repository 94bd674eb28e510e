//! weft's public surface (the names and paths the crate docs promise), written
//! down as code that must compile and run.
//!
//! Each test names a part of the contract and exercises it through the facade
//! paths only, so a rename or a moved re-export breaks this file first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `weft::run`, `spawn`, `JoinHandle`, `yield_now`: the asyncio.run / create_task pair.
#[test]
fn run_spawn_and_join_through_the_facade() {
    let out = weft::run(async {
        let handle: weft::task::JoinHandle<u32> = weft::spawn(async {
            weft::yield_now().await;
            7
        });
        handle.await.expect("task completed")
    });
    assert_eq!(out, 7);
}

/// Builder flavours and the knobs `Builder`'s docs list, each returning `&mut Self`.
#[test]
fn builder_knobs_build_both_flavours() {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let rt = weft::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("weft-contract")
        .max_blocking_threads(4)
        .on_thread_start(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .on_thread_stop(|| {})
        .build()
        .expect("multi-thread runtime builds");
    assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    let metrics: weft::RuntimeMetrics = rt.metrics();
    assert_eq!(metrics.num_workers(), 2);
    let _: u64 = metrics.spawned_tasks();
    // Per-worker counters next to the totals (issue 8).
    let workers: &[weft::WorkerStats] = metrics.workers();
    assert_eq!(workers.len(), 2);
    assert_eq!(
        workers.iter().map(|w| w.polls()).sum::<u64>(),
        metrics.polls()
    );
    assert_eq!(
        workers.iter().map(|w| w.parks()).sum::<u64>(),
        metrics.parks()
    );
    rt.shutdown_timeout(Duration::from_secs(5));
    assert!(
        started.load(Ordering::Relaxed) >= 2,
        "both workers ran on_thread_start"
    );

    let rt = weft::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .expect("current-thread runtime builds");
    rt.block_on(async {
        let before = weft::time::Instant::now();
        weft::time::sleep(Duration::from_secs(3600)).await;
        assert!(before.elapsed() >= Duration::from_secs(3600));
    });
}

/// `Handle` is Clone + Send + Sync and spawns from a plain thread.
#[test]
fn handle_spawns_from_a_foreign_thread() {
    let rt = weft::Runtime::new().expect("runtime");
    let handle: weft::Handle = rt.handle().clone();
    let joined = std::thread::spawn(move || {
        let task = handle.spawn(async { 5 });
        handle.block_on(task).expect("task completed")
    })
    .join()
    .expect("thread");
    assert_eq!(joined, 5);
    assert!(weft::Handle::try_current().is_none());
}

/// Abort, JoinError::is_cancelled, panics caught as JoinError::is_panic.
#[test]
fn abort_and_panic_become_join_errors() {
    weft::run(async {
        let sleeper = weft::spawn(weft::time::sleep(Duration::from_secs(60)));
        let abort: weft::task::AbortHandle = sleeper.abort_handle();
        abort.abort();
        let err: weft::task::JoinError = sleeper.await.expect_err("aborted");
        assert!(err.is_cancelled());

        let boom = weft::spawn(async { panic!("boom") });
        let err = boom.await.expect_err("panicked");
        assert!(err.is_panic());

        let blocking = weft::spawn_blocking(|| 3);
        assert_eq!(blocking.await.expect("blocking closure"), 3);
    });
}

/// gather keeps input order, try_gather stops at the first error, race takes the first.
#[test]
fn gather_try_gather_race() {
    weft::run(async {
        let delays = [30u64, 10, 20];
        let out = weft::gather(delays.iter().map(|&ms| async move {
            weft::time::sleep(Duration::from_millis(ms)).await;
            ms
        }))
        .await;
        assert_eq!(out, vec![30, 10, 20]);

        let res: Result<Vec<u32>, &str> = weft::try_gather((0..3u32).map(|i| async move {
            if i == 1 {
                Err("no")
            } else {
                Ok(i)
            }
        }))
        .await;
        assert_eq!(res, Err("no"));

        // Wide gaps, so the winner is the same even under valgrind's slowdown.
        let winner = weft::race([300u64, 10, 200].iter().map(|&ms| async move {
            weft::time::sleep(Duration::from_millis(ms)).await;
            ms
        }))
        .await;
        assert_eq!(winner, 10);

        let (a, b) = weft::join!(async { 1u8 }, async { "two" });
        assert_eq!((a, b), (1, "two"));
    });
}

/// timeout returns Elapsed after the deadline; interval ticks immediately first.
#[test]
fn time_surface() {
    weft::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .expect("runtime")
        .block_on(async {
            let res = weft::time::timeout(
                Duration::from_secs(1),
                weft::time::sleep(Duration::from_secs(5)),
            )
            .await;
            let _: weft::time::Elapsed = res.expect_err("elapsed");
            let mut tick = weft::time::interval(Duration::from_secs(1));
            let first = tick.tick().await;
            let second = tick.tick().await;
            assert_eq!(second - first, Duration::from_secs(1));
            weft::time::advance(Duration::from_secs(10)).await;
        });
}

/// The sync primitives under the facade paths.
#[test]
fn sync_surface() {
    weft::run(async {
        let lock = weft::sync::Lock::new(0u32);
        *lock.lock().await += 1;
        assert!(!lock.is_locked());
        let sem = weft::sync::Semaphore::new(2);
        let permit = sem.acquire().await;
        assert_eq!(sem.available_permits(), 1);
        drop(permit);
        let event = weft::sync::Event::new();
        event.set();
        event.wait().await;
        let queue = weft::sync::Queue::bounded(2);
        queue.put(1).await.expect("open");
        assert_eq!(queue.get().await.expect("item"), 1);
        queue.task_done();
        queue.join().await;
        let (tx, rx) = weft::sync::oneshot::channel();
        tx.send(9).expect("receiver alive");
        assert_eq!(rx.await.expect("sent"), 9);
        let barrier = weft::sync::Barrier::new(1);
        assert!(barrier.wait().await.is_leader());
    });
}

/// TCP echo over loopback through the facade's net and io paths.
#[test]
fn net_and_io_surface() {
    use weft::io::{AsyncReadExt, AsyncWriteExt};
    weft::run(async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = weft::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 5];
            stream.read_exact(&mut buf).await.expect("read");
            stream.write_all(&buf).await.expect("write");
        });
        let mut client = weft::net::TcpStream::connect(addr).await.expect("connect");
        client.write_all(b"hello").await.expect("write");
        let mut buf = [0u8; 5];
        client.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"hello");
        server.await.expect("server task");
    });
}

/// Public types are Send + Sync where their docs say so.
#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    send_sync::<weft::Handle>();
    send_sync::<weft::task::JoinHandle<u8>>();
    unpin::<weft::task::JoinHandle<u8>>();
    send_sync::<weft::task::AbortHandle>();
    send_sync::<weft::sync::Lock<u8>>();
    send_sync::<weft::sync::Semaphore>();
    send_sync::<weft::sync::Queue<u8>>();
    send_sync::<weft::sync::Event>();
    send_sync::<weft::sync::Condition>();
}
