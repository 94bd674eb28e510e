//! Running out of file descriptors while connections wait (EMFILE on
//! accept) neither kills the listener nor spins the CPU: `accept` backs
//! off and resumes once descriptors are free. Its own test binary, because
//! it lowers the process's descriptor limit.

mod common;

use std::time::{Duration, Instant};

use common::Executor;
use weft_io::net::TcpListener;

/// How long the test holds every descriptor while `accept` waits.
const EXHAUSTED_FOR: Duration = Duration::from_millis(300);
/// The same under valgrind, whose one-off cost of translating the code the
/// window runs first (130 ms of CPU in a 300 ms window, measured under
/// scripts/memcheck.sh) does not grow with the window, while a spinning
/// loop's does.
const EXHAUSTED_FOR_UNDER_VALGRIND: Duration = Duration::from_millis(1500);
/// The share of the window `accept` may burn as CPU time: a spinning
/// accept loop burns the whole window; backing off every 10 ms costs a few
/// milliseconds.
const MAX_CPU_SHARE_WHILE_EXHAUSTED: u32 = 3;

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the valid, exclusively borrowed struct.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// True when this process runs under valgrind, which preloads its own
/// libraries into the program it runs.
///
/// Valgrind enforces a lowered `RLIMIT_NOFILE` itself, after the system
/// call: the kernel's `accept` succeeds (its limit is valgrind's own,
/// higher one), then valgrind closes the new descriptor ("invalid file
/// descriptor 256 in syscall accept()" with `-v`) and returns `EMFILE`. The
/// pending connection is gone, not left in the backlog as the kernel
/// leaves it, so under valgrind the test accepts a second connection made
/// once descriptors are freed.
fn under_valgrind() -> bool {
    std::env::var("LD_PRELOAD").is_ok_and(|preload| preload.contains("vgpreload"))
}

/// Lowers the soft descriptor limit to `limit`.
fn set_fd_limit(limit: u64) {
    let mut rlimit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the valid struct; setrlimit reads it.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rlimit), 0);
        rlimit.rlim_cur = limit;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit), 0);
    }
}

/// With every descriptor in use, a pending connection cannot be accepted;
/// `accept` waits (cheaply) and returns the connection once descriptors are
/// freed.
#[test]
fn accept_survives_emfile_without_spinning() {
    let mut executor = Executor::new();
    executor.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();

        // Fill the descriptor table: lower the limit, then open files until
        // EMFILE.
        set_fd_limit(256);
        let mut hogs = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            hogs.push(file);
        }
        assert!(!hogs.is_empty());

        let exhausted_for = match under_valgrind() {
            true => EXHAUSTED_FOR_UNDER_VALGRIND,
            false => EXHAUSTED_FOR,
        };
        let (release_tx, release_rx) = std::sync::mpsc::channel::<Duration>();
        let listening_on = listener.local_addr().unwrap();
        let releaser = std::thread::spawn(move || {
            let cpu_before = cpu_time();
            std::thread::sleep(exhausted_for);
            let cpu_used = cpu_time() - cpu_before;
            drop(hogs);
            release_tx.send(cpu_used).unwrap();
            // Under valgrind the first connection was lost (`under_valgrind`).
            under_valgrind().then(|| std::net::TcpStream::connect(listening_on).unwrap())
        });

        let started = Instant::now();
        let (accepted, peer) = listener.accept().await.unwrap();
        // `started` is a little after the releaser began its sleep.
        assert!(
            started.elapsed() >= exhausted_for / 2,
            "accepted while exhausted?"
        );
        let second_client = releaser.join().unwrap();
        let expected = second_client.as_ref().unwrap_or(&client);
        assert_eq!(peer, expected.local_addr().unwrap());
        assert_eq!(accepted.peer_addr().unwrap(), peer);
        let cpu_used = release_rx.recv().unwrap();
        assert!(
            cpu_used < exhausted_for / MAX_CPU_SHARE_WHILE_EXHAUSTED,
            "accept burned {cpu_used:?} of CPU in {exhausted_for:?}"
        );
    });
}
