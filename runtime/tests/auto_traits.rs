//! Compile-time checks of the auto traits every public type promises.

use weft_runtime::task::{AbortHandle, Id, JoinError, JoinHandle, LocalKey, Scope};
use weft_runtime::{
    Builder, Handle, Runtime, RuntimeMetrics, SlowPoll, TaskDump, TaskInfo, TaskState,
    UnhandledPanic,
};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}

/// The public types are Send, Sync and Unpin where their docs say so.
#[test]
fn public_types_are_send_sync_unpin() {
    send::<JoinHandle<u8>>();
    sync::<JoinHandle<u8>>();
    unpin::<JoinHandle<u8>>();
    // A JoinHandle is Sync even when its output is only Send.
    sync::<JoinHandle<std::cell::Cell<u8>>>();
    send::<AbortHandle>();
    sync::<AbortHandle>();
    unpin::<AbortHandle>();
    send::<JoinError>();
    sync::<JoinError>();
    send::<Id>();
    sync::<Id>();
    send::<Handle>();
    sync::<Handle>();
    send::<Runtime>();
    sync::<Runtime>();
    send::<Builder>();
    send::<RuntimeMetrics>();
    sync::<RuntimeMetrics>();
    send::<SlowPoll>();
    sync::<SlowPoll>();
    send::<TaskDump>();
    sync::<TaskDump>();
    send::<TaskInfo>();
    send::<TaskState>();
    send::<UnhandledPanic>();
    // Context variables: keys are shared statics; a scope is Send when its
    // future is (so a scoped future can be spawned).
    sync::<LocalKey<String>>();
    send::<Scope<std::future::Ready<u8>>>();
}

/// `Id` is Copy + Eq + Hash + Display.
#[test]
fn task_id_is_copy_eq_hash_display() {
    fn traits<T: Copy + Eq + std::hash::Hash + std::fmt::Display>() {}
    traits::<Id>();
}

/// `JoinError` is a std error usable with `?` into `Box<dyn Error + Send + Sync>`.
#[test]
fn join_error_is_a_std_error() {
    fn boxed(err: JoinError) -> Box<dyn std::error::Error + Send + Sync> {
        err.into()
    }
    let rt = Builder::new_current_thread().build().unwrap();
    let handle = rt.spawn(std::future::pending::<()>());
    handle.abort();
    let err = rt.block_on(handle).unwrap_err();
    assert!(boxed(err).to_string().contains("cancelled"));
}
