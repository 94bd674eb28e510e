//! The driver seam of `docs/architecture.md`: `Driver::poll` and its
//! return value, `Unparker`, the thread-local `Handle` context, and what
//! happens outside a runtime or after the driver is gone.

mod common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::new_driver;
use weft_io::net::{TcpListener, UdpSocket};
use weft_io::Handle;

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match payload.downcast_ref::<&str>() {
        Some(text) => text.to_string(),
        None => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default(),
    }
}

/// Counts wake-ups.
#[derive(Default)]
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// With nothing registered and nothing happening, `poll` returns false
/// after its timeout.
#[test]
fn poll_without_events_returns_false() {
    let mut driver = new_driver();
    assert!(!driver.poll(Some(Duration::from_millis(1))).unwrap());
    assert!(!driver.poll(Some(Duration::ZERO)).unwrap());
}

/// A timeout with a fraction of a millisecond (waited with `ppoll` on
/// Linux, then collected; from 10 ms up, `epoll_wait` first) behaves like
/// any other: it is waited out in full with nothing ready, an unpark ends
/// it early, and a ready socket is reported and its task woken.
#[test]
fn sub_millisecond_timeouts_wait_in_full_and_still_see_unparks_and_events() {
    let mut driver = new_driver();
    let timeout = Duration::from_micros(300);
    let start = std::time::Instant::now();
    assert!(!driver.poll(Some(timeout)).unwrap());
    assert!(
        start.elapsed() >= timeout,
        "woke after {:?}",
        start.elapsed()
    );

    // A long one is waited in whole milliseconds first, then the fraction:
    // never shorter than asked either.
    let timeout = Duration::from_micros(10_300);
    let start = std::time::Instant::now();
    assert!(!driver.poll(Some(timeout)).unwrap());
    assert!(
        start.elapsed() >= timeout,
        "woke after {:?}",
        start.elapsed()
    );

    driver.unparker().unpark();
    let start = std::time::Instant::now();
    assert!(!driver.poll(Some(Duration::from_micros(4_999_500))).unwrap());
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the unpark ended the wait"
    );

    let _entered = driver.handle().enter();
    let socket = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut buf = [0u8; 4];
    let mut recv = std::pin::pin!(socket.recv_from(&mut buf));
    while driver.poll(Some(Duration::ZERO)).unwrap() {}
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender
        .send_to(b"ping", socket.local_addr().unwrap())
        .unwrap();
    assert!(driver.poll(Some(Duration::from_micros(4_999_500))).unwrap());
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// `unpark` from another thread ends a `poll(None)` that would otherwise
/// block forever; the unpark is not reported as an I/O event.
#[test]
fn unparker_wakes_a_poll_blocked_forever() {
    let mut driver = new_driver();
    let unparker = driver.unparker();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let poller = std::thread::spawn(move || {
        ready_tx.send(()).unwrap();
        driver.poll(None).unwrap()
    });
    ready_rx.recv().unwrap();
    unparker.unpark();
    assert!(!poller.join().unwrap(), "an unpark is not an I/O event");
}

/// An unpark that happens before `poll` is not lost: the next poll returns
/// at once.
#[test]
fn unpark_before_poll_is_remembered() {
    let mut driver = new_driver();
    driver.unparker().unpark();
    assert!(!driver.poll(None).unwrap());
}

/// A zero-timeout poll with no source registered skips the system call
/// (INV-4 of the reactor): an unpark made before it is therefore still
/// there for the next blocking poll, which returns at once instead of
/// hanging; and once a source exists, zero-timeout polls see its events.
#[test]
fn zero_timeout_polls_with_no_source_keep_the_unpark_and_see_later_sources() {
    let mut driver = new_driver();
    driver.unparker().unpark();
    for _ in 0..3 {
        assert!(!driver.poll(Some(Duration::ZERO)).unwrap());
    }
    assert!(!driver.poll(None).unwrap(), "the unpark was kept");

    let _entered = driver.handle().enter();
    let socket = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    assert_eq!(driver.source_count(), 1);
    // The new registration's writable event is collected without blocking.
    assert!(driver.poll(Some(Duration::ZERO)).unwrap());
    drop(socket);
    assert_eq!(driver.source_count(), 0);
    assert!(!driver.poll(Some(Duration::ZERO)).unwrap());
}

/// A socket that becomes ready makes `poll` return true and wakes the task
/// waiting on it.
#[test]
fn ready_socket_makes_poll_return_true_and_wakes_its_task() {
    let mut driver = new_driver();
    let _entered = driver.handle().enter();
    let socket = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut buf = [0u8; 4];
    let mut recv = std::pin::pin!(socket.recv_from(&mut buf));
    // Drain the registration's initial writable event first.
    while driver.poll(Some(Duration::ZERO)).unwrap() {}
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());

    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender
        .send_to(b"ping", socket.local_addr().unwrap())
        .unwrap();
    assert!(driver.poll(Some(Duration::from_secs(5))).unwrap());
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    match recv.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Ok((4, _))) => {}
        other => panic!("expected the datagram, got {other:?}"),
    }
}

/// `Handle::current` outside any runtime panics with a message that says
/// so; `try_current` returns None; creating a socket panics the same way.
#[test]
fn outside_a_runtime_current_panics_with_a_clear_message() {
    assert!(Handle::try_current().is_none());
    let panic = catch_unwind(Handle::current).unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains("no weft runtime"), "message: {message}");

    let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let panic = catch_unwind(AssertUnwindSafe(|| UdpSocket::from_std(std_socket))).unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains("no weft runtime"), "message: {message}");
}

/// Entering nests: dropping the inner guard restores the outer handle, and
/// dropping the outer one leaves no handle.
#[test]
fn enter_guards_restore_the_previous_handle() {
    let outer = new_driver();
    let inner = new_driver();
    {
        let _outer = outer.handle().enter();
        {
            let _inner = inner.handle().enter();
            let _socket = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
            assert!(format!("{inner:?}").contains("sources: 1"), "{inner:?}");
        }
        let _socket = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
        assert!(format!("{outer:?}").contains("sources: 1"), "{outer:?}");
        assert!(format!("{inner:?}").contains("sources: 0"), "{inner:?}");
    }
    assert!(Handle::try_current().is_none());
}

/// Dropping the driver wakes pending I/O, which then fails with an error
/// instead of hanging; new sockets on its handle fail to register.
#[test]
fn dropping_the_driver_fails_pending_io_and_new_registrations() {
    let driver = new_driver();
    let handle = driver.handle();
    let _entered = handle.enter();
    let listener =
        TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut accept = std::pin::pin!(listener.accept());
    assert!(accept
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());

    drop(driver);
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    match accept.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Err(_)) => {}
        other => panic!("expected an error after shutdown, got {other:?}"),
    }
    let late = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
    assert!(late.is_err());
}
