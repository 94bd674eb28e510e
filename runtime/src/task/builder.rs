//! Summary: `task::Builder`, a spawn with options: today a name, shown in
//! `Handle::dump`, slow-poll reports, unhandled-panic reports, task hooks
//! and tokio-console.
//!
//! Role: users call it instead of `spawn` or `spawn_local`; it builds a
//! `SpawnMeta` and hands it to the matching spawn path (`Handle::spawn_with`,
//! `local::spawn_local_with`).
//!
//! Design: the builder only collects options and turns them into one
//! [`SpawnMeta`] (`meta()`); each `spawn*` method is that plus the matching
//! spawn path, so a new kind of spawn is one more method of three lines.
//! The name is borrowed until the spawn, which copies it into the task
//! (`task/meta.rs`), so naming costs one allocation per named spawn and
//! nothing for unnamed ones. A name is a label, not an identity: two tasks
//! may share one; use `task::Id` to tell tasks apart.
//!
//! Invariants: none. Concurrency: a plain value.

use super::join::JoinHandle;
use super::spawn::SpawnMeta;
use crate::handle::Handle;
use crate::trace;
use std::future::Future;
use std::panic::Location;

/// Spawns a task with options (tokio's `task::Builder`, stable here).
///
/// ```
/// weft_runtime::run(async {
///     let server = weft_runtime::task::Builder::new()
///         .name("server")
///         .spawn(std::future::pending::<()>());
///     let dump = weft_runtime::Handle::current().dump();
///     let info = dump.tasks().iter().find(|task| task.id() == server.id()).unwrap();
///     assert_eq!(info.name(), Some("server"));
///     println!("{dump}"); // task      2  Idle      polls  1 ... "server"
///     server.abort();
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a task::Builder does nothing until one of its spawn methods is called"]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no options: its `spawn` is plain `spawn`.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task.
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Spawns `future` on the current runtime, as `weft::spawn` does.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime, saying so.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = self.meta(trace::Kind::Task, Location::caller());
        match Handle::try_current() {
            Some(handle) => handle.spawn_with(future, meta),
            None => panic!("task::Builder::spawn called outside a runtime: spawn inside Runtime::block_on, weft::run or another task, or use Builder::spawn_on with a Handle"),
        }
    }

    /// Spawns `future` on the runtime of `handle`, as `Handle::spawn` does.
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new().unwrap();
    /// let task = weft_runtime::task::Builder::new()
    ///     .name("answer")
    ///     .spawn_on(async { 42 }, rt.handle());
    /// assert_eq!(rt.block_on(task).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = self.meta(trace::Kind::Task, Location::caller());
        handle.spawn_with(future, meta)
    }

    /// Spawns a local (`!Send`) task on the `LocalRuntime` driving this
    /// thread, as `weft::task::spawn_local` does.
    ///
    /// # Panics
    ///
    /// Panics where no `LocalRuntime` drives this thread, saying so.
    ///
    /// ```
    /// weft_runtime::run_local(async {
    ///     let shared = std::rc::Rc::new(5);
    ///     let task = weft_runtime::task::Builder::new()
    ///         .name("local-reader")
    ///         .spawn_local({
    ///             let shared = shared.clone();
    ///             async move { *shared }
    ///         });
    ///     assert_eq!(task.await.unwrap(), 5);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let meta = self.meta(trace::Kind::Local, Location::caller());
        crate::local::spawn_local_with(future, meta)
    }

    /// What every spawn method passes to its spawn path.
    fn meta(self, kind: trace::Kind, spawned_at: &'static Location<'static>) -> SpawnMeta<'a> {
        SpawnMeta {
            name: self.name,
            kind,
            spawned_at,
        }
    }
}
