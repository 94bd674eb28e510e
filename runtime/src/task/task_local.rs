//! Summary: context variables (asyncio's `contextvars`): [`LocalKey`],
//! declared with [`task_local!`](crate::task_local), whose value is set for
//! one future by [`LocalKey::scope`] and copied into every task spawned
//! from inside that scope.
//!
//! Role: users declare keys and call `scope`/`get`/`try_get`/`with`. The
//! spawn entry points call [`capture`] and, only when it returns a context,
//! wrap the new task's future ([`Scope::inherit`]) or closure
//! ([`enter_captured`]); `Handle::block_on` moves the caller's context onto
//! its main future ([`take_current`]) so that tasks it polls on this thread
//! never see it.
//!
//! Design: the context is an immutable linked list of frames, one frame per
//! scope, innermost first; a thread-local holds the frame of the future
//! being polled now, `None` outside any scope. Copying the context into a
//! child (asyncio's `copy_context()` in `create_task`) is one `Arc` clone
//! of the innermost frame, and a child's own `scope` pushes a frame on top
//! of its copy, which neither its parent nor its siblings can reach. A
//! spawn with no value in scope reads one thread-local `None` and wraps
//! nothing, so it costs what it cost before context variables existed.
//! The thread-local holds a borrowed pointer, not an `Arc`: installing a
//! frame for one poll is a pointer swap with no reference-count traffic,
//! and the pointer has no destructor to register, so reading it is one
//! load. A scope rebuilds its frame only when the context around it
//! changed since its last poll.
//!
//! Alternatives rejected: tokio's `task_local!` (a thread-local per key,
//! swapped in for each poll) cannot be inherited by a spawned task, which
//! is tokio#2396 and the point of this module; a per-task map copied at
//! spawn costs an allocation and a copy on every spawn, and a field in the
//! task header costs every task 8 bytes whether it uses context or not.
//!
//! Unsafe (outside the task modules that otherwise hold the crate's
//! `unsafe`, so justified here): `Scope` projects its pin onto the wrapped
//! future by hand (two blocks), because a pin-projection crate is a new
//! dependency and boxing the future would cost an allocation per scope;
//! the future is never moved out of its field and is dropped in place.
//! `with_current` borrows the frame behind the thread-local's pointer (one
//! block, CTXV-1), because every spawn reads it: a first version with an
//! owning `RefCell<Option<Arc<_>>>` there, and the wrap inline in `spawn`,
//! measured 5-8 % slower on the spawn benchmark; the borrowed pointer and
//! the out-of-line wrap together brought it within 2 % (the two were not
//! measured apart; `docs/performance.md`).
//!
//! Invariants:
//!
//! - CTXV-1: guards that install a frame in the thread-local are dropped in
//!   reverse order of creation on their thread (they are `!Send` and live
//!   for one poll, one drop or one closure call), so when a guard drops,
//!   the thread-local holds exactly the frame it installed, and putting
//!   back the previous one restores the surrounding context, also when the
//!   poll panicked.
//! - CTXV-2: frames are never mutated after they are built; a context is
//!   shared by cloning the `Arc` of its innermost frame.
//!
//! Concurrency: the thread-local is per thread; frames are `Send + Sync`
//! (every value is `Send + Sync`) and are shared between the tasks that
//! inherited them, on any thread.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

thread_local! {
    /// The innermost frame of the future being polled on this thread, or
    /// `None` outside every scope. A borrowed pointer: the `Arc` that keeps
    /// the frame alive is held by the guard that installed it (CTXV-1).
    /// A plain pointer in a `Cell` has no destructor, so reading it is one
    /// thread-local load, the whole cost of a spawn outside any scope.
    static CURRENT: Cell<Option<NonNull<Frame>>> = const { Cell::new(None) };
}

/// Calls `f` with this thread's innermost frame, if any.
fn with_current<R>(f: impl FnOnce(Option<&Arc<Frame>>) -> R) -> R {
    match CURRENT.with(Cell::get) {
        None => f(None),
        Some(frame) => {
            // SAFETY: CTXV-1: a frame in CURRENT came from `Arc::as_ptr` of an
            // `Arc` that the guard which installed it still holds, and that
            // guard is alive on this thread until it puts the previous frame
            // back. ManuallyDrop: the reference count is borrowed, not owned.
            let frame = ManuallyDrop::new(unsafe { Arc::from_raw(frame.as_ptr()) });
            f(Some(&frame))
        }
    }
}

/// One `scope`: a key's value on top of the context it was entered in (CTXV-2).
struct Frame {
    entry: Entry,
    parent: Option<Arc<Frame>>,
}

/// A key and its value in one scope.
#[derive(Clone)]
struct Entry {
    /// The address of the key's static: unique per key.
    key: usize,
    value: Arc<dyn Any + Send + Sync>,
}

impl Frame {
    /// The value of `key` in this context: the innermost frame that sets it.
    fn find(self: &Arc<Frame>, key: usize) -> Option<&Arc<dyn Any + Send + Sync>> {
        let mut frame = Some(self);
        while let Some(current) = frame {
            if current.entry.key == key {
                return Some(&current.entry.value);
            }
            frame = current.parent.as_ref();
        }
        None
    }
}

/// A key for a value that a future and the tasks it spawns can read
/// (asyncio's `ContextVar`). Declare one with [`task_local!`](crate::task_local).
///
/// `T` must be `Clone + Send + Sync + 'static`: children on other threads
/// share the value, and [`get`](LocalKey::get) hands out clones.
///
/// ```
/// weft_runtime::task_local! {
///     static REQUEST_ID: u64;
/// }
///
/// weft_runtime::run(REQUEST_ID.scope(7, async {
///     assert_eq!(REQUEST_ID.get(), 7);
///     // Inherited: the child starts with the values in scope at the spawn.
///     let child = weft_runtime::spawn(async { REQUEST_ID.get() });
///     assert_eq!(child.await.unwrap(), 7);
/// }));
/// assert_eq!(REQUEST_ID.try_get(), None);
/// ```
pub struct LocalKey<T: 'static> {
    name: &'static str,
    _value: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + Sync + 'static> LocalKey<T> {
    /// Used by [`task_local!`](crate::task_local); not public API.
    #[doc(hidden)]
    pub const fn __new(name: &'static str) -> LocalKey<T> {
        LocalKey {
            name,
            _value: PhantomData,
        }
    }

    /// Identity of this key: the address of its static.
    fn id(&'static self) -> usize {
        self as *const LocalKey<T> as usize
    }

    /// Runs `future` with this key set to `value`: every poll of `future`,
    /// and every task spawned from inside it, sees `value`. The value
    /// around the scope is back in place between polls and after it ends,
    /// also if `future` panics or is dropped before it finishes; `future`
    /// is dropped inside the scope, so its destructors see `value` too.
    ///
    /// ```
    /// weft_runtime::task_local! { static DEPTH: u32; }
    ///
    /// weft_runtime::run(DEPTH.scope(1, async {
    ///     let inner = DEPTH.scope(2, async { DEPTH.get() }).await;
    ///     assert_eq!((inner, DEPTH.get()), (2, 1));
    /// }));
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> Scope<F> {
        Scope {
            entry: Some(Entry {
                key: self.id(),
                value: Arc::new(value),
            }),
            frame: None,
            future: Some(future),
        }
    }

    /// A clone of the value in scope.
    ///
    /// # Panics
    ///
    /// Panics outside every scope of this key, naming the key.
    ///
    /// ```
    /// weft_runtime::task_local! { static USER: String; }
    ///
    /// let name = weft_runtime::run(USER.scope("ada".to_owned(), async { USER.get() }));
    /// assert_eq!(name, "ada");
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }

    /// A clone of the value in scope, or `None` outside every scope of this key.
    ///
    /// ```
    /// weft_runtime::task_local! { static TRACE: bool; }
    ///
    /// assert_eq!(TRACE.try_get(), None);
    /// ```
    pub fn try_get(&'static self) -> Option<T> {
        self.try_with(T::clone)
    }

    /// Calls `f` with a reference to the value in scope.
    ///
    /// # Panics
    ///
    /// Panics outside every scope of this key, naming the key, as
    /// [`get`](LocalKey::get) does.
    ///
    /// ```
    /// weft_runtime::task_local! { static PATH: Vec<&'static str>; }
    ///
    /// let depth = weft_runtime::run(PATH.scope(vec!["api", "users"], async {
    ///     PATH.with(|path| path.len())
    /// }));
    /// assert_eq!(depth, 2);
    /// ```
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Some(result) => result,
            None => panic!(
                "task-local `{}` is not in scope: run this code inside `{}.scope(value, future)`, \
                 or in a task spawned from inside such a scope; use try_get where it may be unset",
                self.name, self.name
            ),
        }
    }

    /// `f` applied to the value in scope, or `None` outside every scope.
    fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // The value is taken out of the thread-local before `f` runs, so `f`
        // may itself poll scopes or spawn (which touch the thread-local).
        let value = with_current(|current| Some(current?.find(self.id())?.clone()))?;
        let value = value
            .downcast_ref::<T>()
            .expect("a task-local frame holds a value of its key's type (keys are unique statics)");
        Some(f(value))
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Declares one or more context variables ([`LocalKey`] statics):
/// `static NAME: Type;`, each optionally `pub` and with attributes.
///
/// ```
/// weft_runtime::task_local! {
///     /// The id of the request being handled.
///     pub static REQUEST_ID: u64;
///     static DEADLINE_MS: u32;
/// }
/// assert_eq!(REQUEST_ID.try_get(), None);
/// assert_eq!(DEADLINE_MS.try_get(), None);
/// ```
///
/// The type must be `Clone + Send + Sync + 'static`; this does not compile:
///
/// ```compile_fail
/// weft_runtime::task_local! { static SHARED: std::rc::Rc<u8>; }
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident : $ty:ty; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$ty> =
            $crate::task::LocalKey::__new(::core::stringify!($name));
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident : $ty:ty) => {
        $crate::task_local!($(#[$attr])* $vis static $name: $ty;);
    };
}

/// A future running with a context: the one a [`LocalKey::scope`] sets up,
/// or the one a spawned task inherited.
///
/// Dropping it drops the wrapped future inside the same context.
#[must_use = "futures do nothing unless polled"]
pub struct Scope<F> {
    /// What this scope adds on top of the context around it; `None` for a
    /// spawned task's inherited context, which is `frame` as it stands.
    entry: Option<Entry>,
    /// The context the future runs in. For a `scope`, built on first poll
    /// and rebuilt when the context around it changed; installed in the
    /// thread-local for each poll (CTXV-1).
    frame: Option<Arc<Frame>>,
    /// # Invariant
    /// Pinned whenever `Scope` is (structural pinning): never moved out,
    /// only polled through a pin and dropped in place.
    future: Option<F>,
}

impl<F> Scope<F> {
    /// Runs `future` in the captured context `frame` (a spawned task's
    /// inheritance).
    pub(crate) fn inherit(frame: Captured, future: F) -> Scope<F> {
        Scope {
            entry: None,
            frame: Some(frame.0),
            future: Some(future),
        }
    }

    /// Makes `frame` hold this scope's entry on top of the current context,
    /// reusing the previous frame if the context around did not change.
    fn refresh_frame(&mut self) {
        let Some(entry) = &self.entry else { return };
        let parent = with_current(|current| {
            let unchanged = match (&self.frame, current) {
                (Some(frame), current) => match (&frame.parent, current) {
                    (Some(parent), Some(current)) => Arc::ptr_eq(parent, current),
                    (None, None) => true,
                    _ => false,
                },
                (None, _) => false,
            };
            (!unchanged).then(|| current.cloned())
        });
        if let Some(parent) = parent {
            self.frame = Some(Arc::new(Frame {
                entry: entry.clone(),
                parent,
            }));
        }
    }
}

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `future` (its field doc): it is only
        // re-pinned below and dropped in place by `Drop`/`set(None)`; the
        // other fields are not pinned and may be moved freely.
        let this = unsafe { self.get_unchecked_mut() };
        this.refresh_frame();
        let entered = Entered::enter(&this.frame);
        let future = this.future.as_mut().expect(
            "a task-local Scope polled after it completed; poll it to completion only once",
        );
        // SAFETY: `this` was pinned, and `future` is structurally pinned (as above).
        let polled = unsafe { Pin::new_unchecked(future) }.poll(cx);
        if polled.is_ready() {
            // Dropped in place, inside the scope, like any destructor here.
            this.future = None;
        }
        drop(entered);
        polled
    }
}

impl<F> Drop for Scope<F> {
    fn drop(&mut self) {
        if self.future.is_none() {
            return;
        }
        self.refresh_frame();
        let frame = self.frame.take();
        let _entered = Entered::enter(&frame);
        // Dropped in place (pinning allows it), inside the scope.
        self.future = None;
    }
}

impl<F> fmt::Debug for Scope<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("is_inherited", &self.entry.is_none())
            .finish_non_exhaustive()
    }
}

/// A frame installed in the thread-local for one poll, drop or call; on
/// drop the previous frame is put back (CTXV-1). It borrows the `Arc` that
/// keeps the installed frame alive, so the frame outlives its stay in the
/// thread-local. `!Send`, so it is dropped on the thread that made it.
struct Entered<'a> {
    _frame: &'a Option<Arc<Frame>>,
    previous: Option<NonNull<Frame>>,
    _not_send: PhantomData<*const ()>,
}

impl<'a> Entered<'a> {
    fn enter(frame: &'a Option<Arc<Frame>>) -> Entered<'a> {
        let installed = frame
            .as_ref()
            .and_then(|frame| NonNull::new(Arc::as_ptr(frame).cast_mut()));
        Entered {
            _frame: frame,
            previous: CURRENT.with(|current| current.replace(installed)),
            _not_send: PhantomData,
        }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
    }
}

/// The context in scope at a spawn point, to be given to the child.
pub(crate) struct Captured(Arc<Frame>);

/// The context in scope on this thread, or `None` (the common case, which
/// costs one thread-local load and nothing else).
#[inline]
pub(crate) fn capture() -> Option<Captured> {
    CURRENT.with(Cell::get)?;
    with_current(|current| current.cloned().map(Captured))
}

/// Runs `f` in the captured context (a `spawn_blocking` closure's inheritance).
pub(crate) fn enter_captured<R>(captured: Captured, f: impl FnOnce() -> R) -> R {
    let frame = Some(captured.0);
    let _entered = Entered::enter(&frame);
    f()
}

/// Clears this thread's context until the guard drops, handing a copy back
/// so the caller can give it to one future: a `block_on` whose thread also
/// runs tasks must not let them see it. The frame stays alive meanwhile:
/// its owner is further up this thread's stack (CTXV-1).
pub(crate) fn take_current() -> (Option<Captured>, impl Drop) {
    struct Restore(Option<NonNull<Frame>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| current.set(self.0));
        }
    }
    let captured = capture();
    let previous = CURRENT.with(|current| current.replace(None));
    (captured, Restore(previous))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::{Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    crate::task_local! {
        static NUMBER: u32;
        static WORD: &'static str;
    }

    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut TaskContext::from_waker(&Waker::from(Arc::new(Noop))))
    }

    /// A scope that is polled, then dropped before it finishes, leaves the
    /// outer value in place each time, and its future's destructor ran
    /// inside the scope.
    #[test]
    fn scope_dropped_midway_restores_the_outer_value() {
        struct SeesNumber(std::sync::mpsc::Sender<Option<u32>>);
        impl Drop for SeesNumber {
            fn drop(&mut self) {
                let _ = self.0.send(NUMBER.try_get());
            }
        }
        let (sender, seen) = std::sync::mpsc::channel();
        let mut outer = Box::pin(NUMBER.scope(1, async move {
            let guard = SeesNumber(sender);
            let mut inner = Box::pin(NUMBER.scope(2, async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            assert!(poll_once(inner.as_mut()).is_pending());
            assert_eq!(NUMBER.get(), 1, "restored after the inner poll");
            drop(inner);
            assert_eq!(NUMBER.get(), 1, "restored after the inner drop");
            WORD.try_get()
        }));
        assert_eq!(poll_once(outer.as_mut()), Poll::Ready(None));
        assert_eq!(seen.recv().unwrap(), Some(2), "dropped inside its scope");
        assert_eq!(NUMBER.try_get(), None);
    }

    /// A scope whose future panics restores the outer value as the panic
    /// unwinds through it.
    #[test]
    fn scope_that_panics_restores_the_outer_value() {
        let mut outer = Box::pin(NUMBER.scope(1, async {
            let inner = NUMBER.scope(2, async {
                assert_eq!(NUMBER.get(), 2);
                panic!("inner scope fails");
            });
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut inner = Box::pin(inner);
                poll_once(inner.as_mut())
            }));
            assert!(caught.is_err());
            NUMBER.get()
        }));
        assert_eq!(poll_once(outer.as_mut()), Poll::Ready(1));
        assert_eq!(NUMBER.try_get(), None);
    }

    /// Two keys are independent; the innermost scope of a key wins.
    #[test]
    fn keys_are_independent_and_innermost_wins() {
        let mut future = Box::pin(NUMBER.scope(
            1,
            WORD.scope("a", async {
                NUMBER.scope(3, async { (NUMBER.get(), WORD.get()) }).await
            }),
        ));
        assert_eq!(poll_once(future.as_mut()), Poll::Ready((3, "a")));
    }

    /// Outside every scope, `get` panics naming the key.
    #[test]
    fn get_outside_a_scope_names_the_key() {
        let caught = std::panic::catch_unwind(|| WORD.get()).unwrap_err();
        let message = crate::task::error::panic_message(&*caught).unwrap_or_default();
        assert!(message.contains("`WORD`"), "{message}");
        assert!(message.contains("scope"), "{message}");
    }
}
