//! Context variables (`weft::task_local!`, asyncio's contextvars): what a
//! scope sets is seen by its future and copied into every task spawned
//! from inside it, by every kind of spawn; a child's own scope stays its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use weft::task::TaskGroup;

weft::task_local! {
    static REQUEST_ID: u64;
    static USER: String;
}

/// A value set by a parent is seen by its child and its grandchild, on
/// both flavours, and outlives the parent's scope in the child.
#[test]
fn child_and_grandchild_inherit_the_parents_value() {
    for mut builder in [
        weft::Builder::new_multi_thread(),
        weft::Builder::new_current_thread(),
    ] {
        let rt = builder.build().unwrap();
        let (child, grandchild) = rt.block_on(REQUEST_ID.scope(7, async {
            let child = weft::spawn(async {
                let grandchild = weft::spawn(async {
                    weft::yield_now().await;
                    REQUEST_ID.get()
                });
                (REQUEST_ID.get(), grandchild.await.unwrap())
            });
            child.await.unwrap()
        }));
        assert_eq!((child, grandchild), (7, 7));
    }
}

/// A task spawned inside a scope keeps the value after the scope ended
/// (it was copied at the spawn point, as asyncio's create_task copies).
#[test]
fn the_copy_outlives_the_scope_that_made_it() {
    weft::run(async {
        let (release, wait) = weft::sync::oneshot::channel::<()>();
        let mut child = None;
        REQUEST_ID
            .scope(3, async {
                child = Some(weft::spawn(async move {
                    wait.await.unwrap();
                    REQUEST_ID.try_get()
                }));
            })
            .await;
        let child = child.expect("the scope ran");
        assert_eq!(REQUEST_ID.try_get(), None);
        release.send(()).unwrap();
        assert_eq!(child.await.unwrap(), Some(3));
    });
}

/// Members of a TaskGroup, tasks spawned through `Handle::spawn` from a
/// task, and `spawn_blocking` closures all start with the value in scope.
#[test]
fn every_kind_of_spawn_inherits() {
    weft::run(USER.scope("ada".to_owned(), async {
        let mut group = TaskGroup::new();
        for _ in 0..4 {
            group.spawn(async { USER.get() });
        }
        for joined in group.join_all().await {
            assert_eq!(joined.unwrap(), "ada");
        }
        let by_handle = weft::Handle::current().spawn(async { USER.get() });
        assert_eq!(by_handle.await.unwrap(), "ada");
        let blocking = weft::spawn_blocking(|| USER.with(|user| user.len()));
        assert_eq!(blocking.await.unwrap(), 3);
    }));
}

/// A child's own scope is seen by neither its parent nor its sibling, and a
/// grandchild spawned inside that scope gets the child's value.
#[test]
fn a_childs_scope_stays_in_the_child() {
    weft::run(REQUEST_ID.scope(1, async {
        let (entered, inside) = weft::sync::oneshot::channel::<()>();
        let (leave, left) = weft::sync::oneshot::channel::<()>();
        let child = weft::spawn(REQUEST_ID.scope(2, async move {
            let grandchild = weft::spawn(async { REQUEST_ID.get() });
            entered.send(()).unwrap();
            left.await.unwrap();
            (REQUEST_ID.get(), grandchild.await.unwrap())
        }));
        inside.await.unwrap();
        // The child is suspended inside its scope right now.
        let sibling = weft::spawn(async { REQUEST_ID.get() });
        assert_eq!(sibling.await.unwrap(), 1);
        assert_eq!(REQUEST_ID.get(), 1);
        leave.send(()).unwrap();
        assert_eq!(child.await.unwrap(), (2, 2));
        assert_eq!(REQUEST_ID.get(), 1);
    }));
}

/// Nested scopes restore the outer value when the inner one ends and when
/// it is dropped mid-way (here by a timeout).
#[test]
fn nested_scopes_restore_on_exit_and_drop() {
    weft::run(REQUEST_ID.scope(1, async {
        assert_eq!(REQUEST_ID.scope(2, async { REQUEST_ID.get() }).await, 2);
        assert_eq!(REQUEST_ID.get(), 1);

        let dropped = weft::time::timeout(
            std::time::Duration::from_millis(1),
            REQUEST_ID.scope(3, std::future::pending::<()>()),
        )
        .await;
        assert!(dropped.is_err());
        assert_eq!(REQUEST_ID.get(), 1);
    }));
}

/// A task that panics inside its scope leaves nothing behind on the thread
/// that ran it: the next task polled there, and the `block_on` future, see
/// no value.
#[test]
fn a_panic_inside_a_scope_leaves_the_thread_clean() {
    let rt = weft::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let panicked = weft::spawn(REQUEST_ID.scope(4, async {
            weft::yield_now().await;
            assert_eq!(REQUEST_ID.get(), 4);
            panic!("the scoped future panics");
        }));
        assert!(panicked.await.unwrap_err().is_panic());
        assert_eq!(REQUEST_ID.try_get(), None);
        let next = weft::spawn(async { REQUEST_ID.try_get() });
        assert_eq!(next.await.unwrap(), None);
    });
}

/// A spawn with no value in scope gives the child nothing, and so does a
/// `block_on` inside a `spawn_blocking` closure to the tasks that its
/// thread runs meanwhile: only the future handed to `block_on` inherits.
#[test]
fn only_the_block_on_future_sees_the_callers_context() {
    let rt = weft::Builder::new_current_thread().build().unwrap();
    let background = rt.spawn(async {
        weft::yield_now().await;
        REQUEST_ID.try_get()
    });
    let handle = rt.handle().clone();
    let outer = weft::Runtime::new().unwrap();
    let (main_sees, task_saw) = outer.block_on(REQUEST_ID.scope(9, async move {
        weft::spawn_blocking(move || {
            let main_sees = handle.block_on(async { REQUEST_ID.try_get() });
            (main_sees, handle.block_on(background).unwrap())
        })
        .await
        .unwrap()
    }));
    assert_eq!((main_sees, task_saw), (Some(9), None));
    let plain = rt.block_on(async { weft::spawn(async { REQUEST_ID.try_get() }).await });
    assert_eq!(plain.unwrap(), None);
}

/// Stress: a thousand tasks on four workers, each in its own scope and
/// spawning a child, yield across threads; a quarter are aborted midway.
/// Every survivor and child sees its own value, and every scoped future is
/// dropped exactly once.
#[test]
fn stress_many_scopes_across_workers_with_aborts() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    const TASKS: u64 = 1_000;
    let dropped = Arc::new(AtomicUsize::new(0));
    let rt = weft::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|id| {
                let counted = Counted(dropped.clone());
                weft::spawn(REQUEST_ID.scope(id, async move {
                    let _counted = counted;
                    for _ in 0..3 {
                        weft::yield_now().await;
                        assert_eq!(REQUEST_ID.get(), id);
                    }
                    let child = weft::spawn(async { REQUEST_ID.get() });
                    assert_eq!(child.await.unwrap(), id);
                    id
                }))
            })
            .collect();
        for (id, handle) in handles.iter().enumerate() {
            if id % 4 == 0 {
                handle.abort();
            }
        }
        for (id, handle) in handles.into_iter().enumerate() {
            match handle.await {
                Ok(seen) => assert_eq!(seen, id as u64),
                Err(err) => assert!(err.is_cancelled() && id % 4 == 0, "{err}"),
            }
        }
    });
    drop(rt);
    assert_eq!(dropped.load(Ordering::Relaxed), TASKS as usize);
}
