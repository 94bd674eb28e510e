//! # `toy`: the guide's constructive track, runnable
//!
//! Chapter 1's executor, extended with a timer thread and a reactor on mio,
//! each with a leaf future that stores a waker and fires it from another
//! thread. The walk-through is `docs/guide/01b-leaf-futures.md`; the tests
//! that the chapter's exercises break are in `tests/guide_toy.rs`.
//!
//! Run: `cargo run --example toy`.

mod executor;
mod reactor;
mod timer;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use executor::Executor;
use reactor::{Async, Reactor};
use timer::Timer;

fn main() {
    let timer = Timer::new();
    let reactor = Reactor::new().expect("cannot start the reactor");
    let executor = Executor::new();
    let (done, finished) = mpsc::channel();

    // Three sleeps of different lengths, spawned in the wrong order: they
    // finish in deadline order, and the executor sleeps in between.
    let started = Instant::now();
    for ms in [30, 10, 20] {
        let (sleep, done) = (timer.sleep(Duration::from_millis(ms)), done.clone());
        executor.spawn(async move {
            sleep.await;
            println!("slept {ms} ms (at {:?})", started.elapsed());
            done.send(()).unwrap();
        });
    }

    // A ping-pong over a socket pair: this end is a task on the executor,
    // the other end a plain thread with a blocking socket.
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().expect("socketpair");
    ours.set_nonblocking(true).expect("non-blocking");
    let ours = mio::net::UnixStream::from_std(ours);
    let mut ours = Async::new(&reactor, ours).expect("register with the reactor");
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 5];
        while theirs.read_exact(&mut buf).is_ok() {
            theirs.write_all(&buf).unwrap();
        }
    });
    executor.spawn(async move {
        let mut buf = [0u8; 5];
        for round in 0..3 {
            ours.write_all(b"ping!").unwrap();
            let mut got = 0;
            while got < buf.len() {
                got += ours.read(&mut buf[got..]).await.unwrap();
            }
            println!(
                "round {round}: echoed {:?}",
                std::str::from_utf8(&buf).unwrap()
            );
        }
        drop(ours); // closes our end: the echo thread's read ends
        done.send(()).unwrap();
    });

    // `run` returns when no task is left and no waker can queue one.
    executor.run();
    assert_eq!(finished.try_iter().count(), 4, "every task finished");
    echo.join().unwrap();
    println!("the reactor dispatched {} events", reactor.dispatched());
}
