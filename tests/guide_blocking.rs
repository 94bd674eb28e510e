//! The guide's sidebar on blocking (chapter 3, "Sidebar: blocking inside a
//! task"): a blocking call made inside a task holds its worker for the
//! whole call, and the slow-poll report names the task and where it was
//! spawned; the same call moved to `spawn_blocking` holds no worker, and
//! nothing is reported. The chapter's exercise moves the call back.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::SlowPoll;

/// Far above what a poll that only spawns a blocking job and waits takes,
/// even on a loaded machine.
const THRESHOLD: Duration = Duration::from_millis(50);
/// The blocking call: four times the threshold.
const BLOCK: Duration = Duration::from_millis(200);

/// A blocking function, as a database driver or a hash might be.
fn checksum_file() -> u64 {
    std::thread::sleep(BLOCK);
    42
}

/// The async function under test: it offloads the blocking call.
async fn checksum() -> u64 {
    weft::spawn_blocking(checksum_file)
        .await
        .expect("the blocking job does not panic")
}

#[test]
fn a_blocking_call_offloaded_to_spawn_blocking_is_not_a_slow_poll() {
    let reports: Arc<Mutex<Vec<SlowPoll>>> = Arc::default();
    let sink = reports.clone();
    let rt = weft::Builder::new_current_thread()
        .slow_poll_threshold(threshold())
        .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.clone()))
        .build()
        .expect("the runtime builds");
    let task = rt.spawn(checksum());
    assert_eq!(rt.block_on(task).expect("the task finishes"), 42);
    // Reports are made after the poll returns; dropping the runtime waits.
    drop(rt);
    let reports = reports.lock().unwrap();
    let lines: Vec<String> = reports.iter().map(ToString::to_string).collect();
    assert!(
        lines.is_empty(),
        "a task blocked its worker (call blocking code through spawn_blocking):\n{}",
        lines.join("\n")
    );
}

/// The threshold in force: `THRESHOLD`, or three times it under a memory
/// checker (`WEFT_CHECKER=1`), where the first polls of fresh code took 51
/// ms under valgrind; still below `BLOCK`, so a blocking call made inside
/// the task would still be reported.
fn threshold() -> Duration {
    match std::env::var("WEFT_CHECKER").is_ok_and(|value| value == "1") {
        true => THRESHOLD * 3,
        false => THRESHOLD,
    }
}
