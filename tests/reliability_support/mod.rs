//! Shared helpers of the root reliability and debug tests: a watchdog that
//! turns a hang into a failure, the two runtime flavours they run on,
//! destructor counters, a seeded generator and the soak scale knob.
//!
//! Each test file includes this with `mod reliability_support;`; not every
//! file uses every helper, hence the `dead_code` allowance below.
//!
//! Design: a hang is the failure these tests hunt for, so every scenario
//! runs on its own thread under [`within`]; if it does not finish in time
//! the test panics with a message naming the scenario (the stuck thread is
//! left behind and dies with the test process). Nothing here sleeps for
//! ordering: the only waits are the watchdog's timeout and explicit joins.
//!
//! Unsafe (design note): `getrlimit`/`setrlimit` through
//! libc, which std has no safe form of, to raise the open-files limit.
#![allow(dead_code)] // each test crate uses a different subset

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The two flavours every debug-tool test runs on, each with its label:
/// a current-thread runtime and a multi-thread one with two workers.
pub fn flavours() -> [(&'static str, weft::Builder); 2] {
    let mut multi = weft::Builder::new_multi_thread();
    multi.worker_threads(2);
    [
        ("current_thread", weft::Builder::new_current_thread()),
        ("multi_thread", multi),
    ]
}

/// Runs `scenario` on its own thread and returns its result; panics if it
/// does not finish within `limit` (a hang), and re-raises its panic if it
/// panicked.
pub fn within<T: Send + 'static>(
    what: &str,
    limit: Duration,
    scenario: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done_tx, done_rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("scenario: {what}"))
        .spawn(move || {
            let output = scenario();
            let _ = done_tx.send(output);
        })
        .expect("the scenario thread starts");
    match done_rx.recv_timeout(limit) {
        Ok(output) => {
            thread.join().expect("the scenario thread ended cleanly");
            output
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the scenario thread exits only after sending or panicking"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: hung, did not finish within {limit:?}")
        }
    }
}

/// Memory checkers run the code 20 to 50 times slower: under
/// `WEFT_CHECKER=1` (set by scripts/memcheck.sh and scripts/asan.sh) the
/// default counts are divided by this, keeping every path but fewer rounds.
pub const CHECKER_DIVISOR: usize = 20;

/// `soak` when `WEFT_SOAK=1` is set, `default / CHECKER_DIVISOR` under a
/// memory checker, else `default`: the long and the short variants of these
/// tests are the same code with other numbers (scripts/soak.sh).
pub fn scale(default: usize, soak: usize) -> usize {
    if is_soak() {
        soak
    } else if is_checker() {
        (default / CHECKER_DIVISOR).max(1)
    } else {
        default
    }
}

/// True under a memory checker (`WEFT_CHECKER=1`).
pub fn is_checker() -> bool {
    std::env::var("WEFT_CHECKER").is_ok_and(|value| value == "1")
}

/// True when the long variants were asked for (`WEFT_SOAK=1`).
pub fn is_soak() -> bool {
    std::env::var("WEFT_SOAK").is_ok_and(|value| value == "1")
}

/// One destructor counter per object: proves each was dropped exactly once.
pub struct DropLedger {
    counts: Box<[AtomicU8]>,
    total: AtomicUsize,
}

impl DropLedger {
    /// A ledger for objects `0..len`.
    pub fn new(len: usize) -> Arc<DropLedger> {
        Arc::new(DropLedger {
            counts: (0..len).map(|_| AtomicU8::new(0)).collect(),
            total: AtomicUsize::new(0),
        })
    }

    /// A probe for object `index`; its drop is recorded here.
    pub fn probe(self: &Arc<Self>, index: usize) -> DropProbe {
        DropProbe {
            ledger: self.clone(),
            index,
        }
    }

    /// Drops recorded so far, over all objects.
    pub fn total(&self) -> usize {
        // Acquire: pairs with the Release in `DropProbe::drop`.
        self.total.load(Ordering::Acquire)
    }

    /// How many times object `index` was dropped.
    pub fn count(&self, index: usize) -> u8 {
        // Acquire: pairs with the Release in `DropProbe::drop`.
        self.counts[index].load(Ordering::Acquire)
    }

    /// Panics unless every object was dropped exactly once.
    pub fn assert_each_dropped_once(&self) {
        let wrong: Vec<(usize, u8)> = (0..self.counts.len())
            .map(|index| (index, self.count(index)))
            .filter(|&(_, count)| count != 1)
            .take(10)
            .collect();
        assert!(
            wrong.is_empty(),
            "every destructor runs exactly once; (object, drops) that did not: {wrong:?}"
        );
        assert_eq!(self.total(), self.counts.len());
    }
}

/// Records its own drop in a [`DropLedger`].
pub struct DropProbe {
    ledger: Arc<DropLedger>,
    index: usize,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        // Release: the test thread's Acquire load sees the drop.
        self.ledger.counts[self.index].fetch_add(1, Ordering::Release);
        self.ledger.total.fetch_add(1, Ordering::Release);
    }
}

/// xorshift64*: a tiny seeded generator, so "random" moments are the same
/// choices run after run (the timing between threads still varies).
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// A waker that counts its wakes.
pub struct CountingWaker(pub AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release: pairs with the test's Acquire read of the count.
        self.0.fetch_add(1, Ordering::Release);
    }
}

/// A waker whose wake panics (a buggy executor's waker).
pub struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("reliability test: this waker panics on wake");
    }
}

/// Set in the environment of a child test process started by [`in_child_process`].
const CHILD_ENV: &str = "WEFT_RELIABILITY_CHILD";

/// Runs `scenario` in a fresh child process (this test binary, re-run with
/// only `test_name`), for scenarios whose failure mode is killing the
/// process (an abort on a double panic) rather than failing a test.
///
/// In the parent, returns the child's exit status; in the child (which runs
/// this same test function), runs `scenario` and returns `None`.
pub fn in_child_process(
    test_name: &str,
    scenario: impl FnOnce(),
) -> Option<std::process::ExitStatus> {
    if std::env::var_os(CHILD_ENV).is_some() {
        scenario();
        return None;
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let output = std::process::Command::new(exe)
        .args([
            test_name,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .expect("the test binary can be re-run as a child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success() || stdout.contains("1 passed"),
        "the child process ran no test named `{test_name}`:\n{stdout}"
    );
    if !output.status.success() {
        eprintln!(
            "child `{test_name}` exited with {}; its stderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Some(output.status)
}

/// Waits until `handle`'s runtime counts `expected` live tasks: a task
/// leaves the owned list (the count) just after waking its `JoinHandle`, so
/// on a multi-thread runtime the count may lag a join by a moment. Fails
/// the test, with a task dump, if it does not settle within 10 s.
pub fn settle_alive_tasks(handle: &weft::Handle, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.metrics().alive_tasks() != expected {
        assert!(
            Instant::now() < deadline,
            "tasks leaked: {} alive, expected {expected}\n{}",
            handle.metrics().alive_tasks(),
            handle.dump()
        );
        std::thread::yield_now();
    }
}

/// Raises `RLIMIT_NOFILE` towards `wanted` descriptors: the soft limit up
/// to the hard one, and the hard one too when the process may (root with
/// `CAP_SYS_RESOURCE`). Returns the soft limit now in force, which may be
/// below `wanted` when the hard limit cannot be raised.
pub fn raise_open_files_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `struct rlimit`.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    if limit.rlim_cur >= wanted {
        return limit.rlim_cur;
    }
    let raised = libc::rlimit {
        rlim_cur: wanted,
        rlim_max: limit.rlim_max.max(wanted),
    };
    // SAFETY: `raised` is a valid `struct rlimit`; the kernel checks the values.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        return wanted;
    }
    // Not allowed to raise the hard limit: take all of it.
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: as above; the soft limit may always rise to the hard one.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
    limit.rlim_cur
}
