//! `join!` and `select!`: a fixed number of futures of different types.
//!
//! # Summary
//! [`join!`](crate::join) awaits every branch and evaluates to the tuple of
//! their outputs; [`select!`](crate::select) awaits the first branch to
//! finish, drops the others and runs that branch's handler.
//!
//! # Role
//! Exported at the crate root (`weft_compose::join!`, re-exported as
//! `weft_runtime::join!` and `weft::join!`); the helpers they expand to live
//! in [`__private`](super::__private) and are reached through `$crate`, so
//! the macros work whatever the caller imported, and through whichever
//! crate's re-export they were named.
//!
//! # Design
//! Each branch future is pinned on the stack of the awaiting task with
//! `core::pin::pin!` (no allocation) inside an `Option`, which
//! `Pin::set(None)` drops in place once the branch is done. Both macros
//! expand to `core::future::poll_fn(..).await`, so they only work inside
//! async code, as `.await` does.
//!
//! A branch count is small and fixed at compile time, so on every wake these
//! macros poll each unfinished branch (O(branches)), unlike `gather`, which
//! polls only the woken children of an arbitrarily large set.
//!
//! The macros are recursive `macro_rules!`: each recursion step introduces
//! its branch's variables, and macro hygiene gives each step's `future`
//! (and `output`) its own identity, so N branches get N distinct locals
//! without a proc macro. `select!` delivers the winner as a nested
//! `Either<A, Either<B, C>>`, built and matched by `@wrap` / `@unwrap`
//! steps, so the handler runs outside the polling closure: `return`, `?`,
//! `break` and `.await` in a handler behave as in the surrounding code.
//!
//! # Invariants
//! - INV-1: a branch future is polled only while its slot is `Some`, and its
//!   slot becomes `None` (dropping it) as soon as it returns `Ready`.
//! - INV-2 (`select!`): when a handler runs, every branch future has already
//!   been dropped.
//!
//! # Concurrency
//! Everything runs inside the awaiting task; nothing is spawned.

/// Awaits several futures of possibly different types concurrently and
/// evaluates to the tuple of their outputs, in argument order.
///
/// Like `asyncio.gather(a, b)` with a fixed list: the futures run inside the
/// current task (nothing is spawned), and dropping the enclosing future drops
/// the branches still running. Use it inside async code only: it expands to
/// an `.await`. For many futures of one type, use
/// [`gather()`](crate::gather()), which polls only the woken ones.
///
/// # Examples
/// ```
/// # use std::future::Future;
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = std::task::Context::from_waker(&waker);
/// let both = async {
///     let (number, text) = weft_compose::join!(async { 7 }, async { "seven" });
///     format!("{number} is {text}")
/// };
/// let result = std::pin::pin!(both).poll(&mut cx);
/// assert_eq!(result, std::task::Poll::Ready("7 is seven".to_string()));
/// ```
#[macro_export]
macro_rules! join {
    ($($future:expr),+ $(,)?) => {
        $crate::__join_internal!(@collect [] $($future,)+)
    };
}

/// Implementation of [`join!`]: not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_internal {
    // One step per branch: `future` and `output` get fresh hygiene here.
    (@collect [$($branch:tt)*] $next:expr, $($rest:expr,)*) => {
        $crate::__join_internal!(@collect [$($branch)* (future output $next)] $($rest,)*)
    };
    (@collect [$(($future:ident $output:ident $expr:expr))*]) => {{
        $(
            let mut $future = ::core::pin::pin!(::core::option::Option::Some($expr));
            let mut $output = ::core::option::Option::None;
        )*
        ::core::future::poll_fn(|cx| {
            let mut is_pending = false;
            $(
                // INV-1: poll only while the slot is Some, clear it on Ready.
                if let ::core::option::Option::Some(running) = $future.as_mut().as_pin_mut() {
                    match ::core::future::Future::poll(running, cx) {
                        ::core::task::Poll::Ready(value) => {
                            $output = ::core::option::Option::Some(value);
                            $future.set(::core::option::Option::None);
                        }
                        ::core::task::Poll::Pending => is_pending = true,
                    }
                }
            )*
            if is_pending {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(($($crate::__private::take_output(&mut $output),)*))
        })
        .await
    }};
}

/// Awaits the first of several futures to finish, drops the others, and runs
/// that branch's handler with the output bound to its pattern.
///
/// Syntax: `select! { pattern = future => handler, ... }`, commas between
/// branches required. Like `asyncio.wait(..., return_when=FIRST_COMPLETED)`
/// followed by cancelling the rest. Details a Python programmer should know:
/// - The losing futures are dropped (cancelled) *before* the handler runs.
/// - Branches are polled in the order written, so if several are ready the
///   first one written wins; a branch that is always ready starves those
///   after it.
/// - Patterns must be irrefutable (`x`, `(a, b)`, `_`); match on the value
///   inside the handler instead.
/// - The handler runs in the enclosing async code: `return`, `?`, `break`
///   and `.await` work there.
///
/// # Examples
/// ```
/// # use std::future::Future;
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = std::task::Context::from_waker(&waker);
/// let first = async {
///     weft_compose::select! {
///         never = std::future::pending::<u32>() => format!("pending gave {never}"),
///         word = async { "ready" } => format!("the second branch won: {word}"),
///     }
/// };
/// let result = std::pin::pin!(first).poll(&mut cx);
/// assert_eq!(result, std::task::Poll::Ready("the second branch won: ready".to_string()));
/// ```
#[macro_export]
macro_rules! select {
    ($($pattern:pat = $future:expr => $handler:expr),+ $(,)?) => {
        $crate::__select_internal!(@collect [] [] $($pattern = $future => $handler,)+)
    };
}

/// Implementation of [`select!`]: not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_internal {
    // One step per branch: `future` gets fresh hygiene, and the branch
    // remembers its position as a run of `_` tokens.
    (@collect [$($branch:tt)*] [$($depth:tt)*]
        $pattern:pat = $future:expr => $handler:expr, $($rest:tt)*) => {
        $crate::__select_internal!(@collect
            [$($branch)* (future [$($depth)*] ($pattern) ($future) ($handler))]
            [$($depth)* _]
            $($rest)*)
    };
    (@collect [$(($name:ident $depth:tt ($pattern:pat) ($future:expr) ($handler:expr)))*]
        $total:tt) => {{
        // INV-2: the futures live in this block, which ends before any handler.
        let winner = {
            $( let mut $name = ::core::pin::pin!($future); )*
            ::core::future::poll_fn(|cx| {
                $(
                    if let ::core::task::Poll::Ready(value) =
                        ::core::future::Future::poll($name.as_mut(), cx)
                    {
                        return ::core::task::Poll::Ready(
                            $crate::__select_internal!(@wrap $depth $total value),
                        );
                    }
                )*
                ::core::task::Poll::Pending
            })
            .await
        };
        match winner {
            $( $crate::__select_internal!(@unwrap $depth $total $pattern) => $handler, )*
        }
    }};
    // Branch k of n becomes Right^k(Left(value)), the last one Right^(n-1)(value).
    (@wrap [] [_] $value:expr) => { $value };
    (@wrap [] [_ $($more:tt)+] $value:expr) => {
        $crate::__private::Either::Left($value)
    };
    (@wrap [_ $($depth:tt)*] [_ $($total:tt)*] $value:expr) => {
        $crate::__private::Either::Right(
            $crate::__select_internal!(@wrap [$($depth)*] [$($total)*] $value)
        )
    };
    (@unwrap [] [_] $pattern:pat) => { $pattern };
    (@unwrap [] [_ $($more:tt)+] $pattern:pat) => {
        $crate::__private::Either::Left($pattern)
    };
    (@unwrap [_ $($depth:tt)*] [_ $($total:tt)*] $pattern:pat) => {
        $crate::__private::Either::Right(
            $crate::__select_internal!(@unwrap [$($depth)*] [$($total)*] $pattern)
        )
    };
}

#[cfg(test)]
mod tests {
    use crate::testing::{block_on, YieldTimes};

    #[test]
    fn join_returns_outputs_of_mixed_types_in_argument_order() {
        let out = block_on(async {
            crate::join!(
                async {
                    YieldTimes(3).await;
                    1u8
                },
                async { "two" },
                async {
                    YieldTimes(1).await;
                    3.0f64
                },
            )
        });
        assert_eq!(out, (1u8, "two", 3.0f64));
    }

    #[test]
    fn join_of_one_future_is_a_one_tuple() {
        assert_eq!(block_on(async { crate::join!(async { 5 }) }), (5,));
    }

    #[test]
    fn join_drops_a_finished_branch_before_the_others_finish() {
        let (tracked, drops) = crate::testing::DropCounter::new();
        let out = block_on(async move {
            crate::join!(
                async move {
                    let _tracked = tracked;
                },
                async {
                    YieldTimes(2).await;
                    drops.get()
                },
            )
        });
        assert_eq!(
            out.1, 1,
            "the first branch must be dropped when it finishes"
        );
    }

    #[test]
    fn select_runs_the_first_finished_branch_and_drops_the_others() {
        let (tracked, drops) = crate::testing::DropCounter::new();
        let out = block_on(async {
            crate::select! {
                slow = async move {
                    let _tracked = tracked;
                    YieldTimes(10).await;
                    "slow"
                } => slow.to_string(),
                (left, right) = async { YieldTimes(2).await; (1, 2) } => {
                    format!("fast {left}+{right}, losers dropped: {}", drops.get())
                },
            }
        });
        assert_eq!(out, "fast 1+2, losers dropped: 1");
    }

    #[test]
    fn select_prefers_the_first_written_branch_when_both_are_ready() {
        let out = block_on(async {
            crate::select! {
                a = async { 'a' } => a,
                b = async { 'b' } => b,
                c = async { 'c' } => c,
            }
        });
        assert_eq!(out, 'a');
    }

    #[test]
    fn select_handler_can_return_from_the_enclosing_async_block() {
        let out: Result<u32, String> = block_on(async {
            let value = crate::select! {
                failed = async { Err::<u32, String>("boom".into()) } => failed?,
                _ = std::future::pending::<()>() => 0,
            };
            Ok(value + 1)
        });
        assert_eq!(out, Err("boom".to_string()));
    }
}
