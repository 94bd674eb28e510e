//! Summary: the debugging surface: slow-poll reports, task dumps and the
//! unhandled-panic policy.
//!
//! Role: `Builder` stores the settings; workers time polls and call the
//! slow-poll callback; `Handle::dump` walks the owned-tasks list; the task
//! harness reports panics to the scheduler, which applies
//! [`UnhandledPanic`].
//!
//! Design: everything reads what the runtime keeps anyway (the task header
//! holds id, spawn site and name, spawn time and poll count), so a dump
//! costs one pass over the owned list under its lock and nothing when
//! unused. Poll timing (slow-poll reports, and the histograms of
//! `histogram.rs`) reads a clock at each poll (`poll_clock/`) and is off
//! unless asked for. A task leaves the owned list before its output is visible
//! (`task/harness.rs`, `Harness::complete`), so a dump never lists a task
//! whose `JoinHandle` has returned.
//!
//! Invariants: none.
//!
//! Concurrency: the types here are plain snapshots.

use crate::task::Id;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

/// A poll that took longer than `Builder::slow_poll_threshold`.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// let seen = Arc::new(AtomicBool::new(false));
/// let flag = seen.clone();
/// let rt = weft_runtime::Builder::new_current_thread()
///     .slow_poll_threshold(std::time::Duration::from_millis(1))
///     .on_slow_poll(move |slow| { assert!(slow.duration() >= std::time::Duration::from_millis(1)); flag.store(true, Ordering::SeqCst) })
///     .build()
///     .unwrap();
/// rt.block_on(rt.spawn(async { std::thread::sleep(std::time::Duration::from_millis(5)) })).unwrap();
/// assert!(seen.load(Ordering::SeqCst));
/// ```
#[derive(Clone, Debug)]
pub struct SlowPoll {
    pub(crate) task_id: Id,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) duration: Duration,
}

impl SlowPoll {
    /// The task whose poll was slow.
    pub fn task_id(&self) -> Id {
        self.task_id
    }

    /// The task's name, if it was spawned with one (`task::Builder::name`).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// How long the poll took.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weft: task {}", self.task_id)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        write!(
            f,
            " (spawned at {}) blocked a worker thread for {:?} in one poll: \
             no other task ran on that worker meanwhile; move blocking calls to \
             spawn_blocking, or await yield_now in long loops",
            self.spawned_at, self.duration
        )
    }
}

/// Runs user code the runtime calls on its own threads (thread hooks, task
/// hooks, the slow-poll callback, wakers fired by the drivers) so that a panic in it
/// cannot kill a worker: a dead worker would strand its queue and make
/// `Runtime::drop` wait forever. The panic has already been reported on
/// stderr by the panic hook; the runtime goes on.
pub(crate) fn contain_panic(f: impl FnOnce()) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
}

/// The slow-poll callback type.
pub(crate) type SlowPollCallback = Arc<dyn Fn(&SlowPoll) + Send + Sync + 'static>;

/// Slow-poll reporting, enabled by either builder setting.
#[derive(Clone)]
pub(crate) struct SlowPollConfig {
    pub(crate) threshold: Duration,
    pub(crate) callback: SlowPollCallback,
}

/// Used when only `on_slow_poll` is set: 100 ms is long enough that no
/// healthy poll reaches it and short enough to catch a blocking call.
pub(crate) const DEFAULT_SLOW_POLL_THRESHOLD: Duration = Duration::from_millis(100);

/// The default report: one line on stderr.
pub(crate) fn default_slow_poll_callback() -> SlowPollCallback {
    Arc::new(|slow: &SlowPoll| eprintln!("{slow}"))
}

/// What the runtime does when a spawned task panics. It applies to async
/// tasks; a panicking `spawn_blocking` closure only reaches its JoinHandle.
///
/// ```should_panic
/// let rt = weft_runtime::Builder::new_current_thread()
///     .unhandled_panic(weft_runtime::UnhandledPanic::ShutdownRuntime)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     weft_runtime::spawn(async { panic!("boom") });
///     std::future::pending::<()>().await
/// });
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// Keep running; the panic reaches the task's `JoinHandle` as a `JoinError` (the default).
    #[default]
    Ignore,
    /// Shut the runtime down: `block_on` panics with the task's panic message.
    ShutdownRuntime,
}

/// What a task is doing when dumped.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting to be woken.
    Idle,
    /// Woken, waiting in a run queue.
    Scheduled,
    /// Being polled by a thread right now.
    Running,
}

/// One live task in a [`TaskDump`].
#[derive(Clone, Debug)]
pub struct TaskInfo {
    pub(crate) id: Id,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) state: TaskState,
    pub(crate) polls: u64,
    pub(crate) age: Duration,
}

impl TaskInfo {
    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// Its name, if it was spawned with one (`task::Builder::name`).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where it was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// What it was doing at the dump.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times it has been polled.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// How long ago it was spawned.
    pub fn age(&self) -> Duration {
        self.age
    }
}

/// The live tasks of a runtime, from [`Handle::dump`](crate::Handle::dump).
///
/// ```
/// let rt = weft_runtime::Runtime::new().unwrap();
/// let handle = rt.spawn(std::future::pending::<()>());
/// let dump = rt.handle().dump();
/// assert!(dump.tasks().iter().any(|task| task.id() == handle.id()));
/// println!("{dump}");
/// ```
#[derive(Clone, Debug, Default)]
pub struct TaskDump {
    pub(crate) tasks: Vec<TaskInfo>,
}

impl TaskDump {
    /// The tasks, in no particular order.
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for task in &self.tasks {
            write!(
                f,
                "task {:>6}  {:<9} polls {:>8}  age {:>10.3?}  spawned at {}",
                task.id,
                format!("{:?}", task.state),
                task.polls,
                task.age,
                task.spawned_at
            )?;
            match &task.name {
                Some(name) => writeln!(f, "  {name:?}")?,
                None => writeln!(f)?,
            }
        }
        Ok(())
    }
}
