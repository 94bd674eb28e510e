//! weft-macros: `#[weft::main]` and `#[weft::test]`, written on `proc_macro`
//! alone.
//!
//! # Summary
//! Both attributes turn an `async fn` into a plain `fn` that builds a weft
//! runtime and blocks on the function's body: the Rust spelling of
//! `asyncio.run(main())`. Use them through the facade (`#[weft::main]`); the
//! expansion names `::weft::Builder`, so the `weft` crate must be a
//! dependency.
//!
//! | attribute | runtime | options |
//! |---|---|---|
//! | `#[weft::main]` | multi-thread | `flavor = "current_thread"`, `flavor = "local"` (a `LocalRuntime`: `spawn_local` and `!Send` state), `worker_threads = n`, `start_paused = true` (current-thread or local only) |
//! | `#[weft::test]` | current-thread, and adds `#[test]` | the same, and `explore = n` (n seeded schedules, `weft::explore`) |
//!
//! `worker_threads` sizes a multi-thread runtime; with
//! `flavor = "current_thread"` it is accepted and has no effect (that
//! runtime runs everything on the calling thread).
//!
//! # Role
//! Called by the compiler; the facade re-exports the two attributes as
//! `weft::main` and `weft::test`. Calls nothing at run time: the expansion
//! only uses `weft::Builder`'s public API.
//!
//! # Design
//! No `syn` or `quote`: the input is small and regular (an attribute list of
//! `key = value` pairs and one function header), so a hand-written parser
//! keeps compile times short and the crate dependency-free. The parser
//! (`parse.rs`) works on a tiny token model (`tree.rs`) so it can be unit
//! tested without a compiler session; `expand.rs` writes the output, reusing
//! the user's own tokens so error spans stay on the user's code. Bad input
//! becomes a `compile_error!` naming the offending token and what was
//! expected.
//!
//! # Invariants
//! - INV-1: the function body is copied token for token into an
//!   `async move` block; nothing in it is rewritten.
//!
//! # Concurrency
//! None: this runs inside the compiler.

mod expand;
mod parse;
mod tree;

use parse::Kind;
use proc_macro::TokenStream;

/// Runs an `async fn` on a new weft runtime: `asyncio.run(main())`.
///
/// Defaults to a multi-thread runtime with one worker per core. Options:
/// `flavor = "current_thread"`, `"multi_thread"` or `"local"` (a
/// `LocalRuntime`, as `weft::run_local`: the body and the tasks it starts
/// with `weft::task::spawn_local` may hold `Rc` and other `!Send` values),
/// `worker_threads = n` (multi-thread only; accepted and without effect on
/// a one-thread runtime), `start_paused = true` (not on multi-thread). The
/// function may return a value, e.g. `Result<(), Box<dyn Error>>`.
///
/// ```ignore
/// #[weft::main]
/// async fn main() {
///     println!("hello from a weft task");
/// }
///
/// #[weft::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let data = weft::fs::read_to_string("Cargo.toml").await?;
///     println!("{} bytes", data.len());
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Main, args, item)
}

/// Runs an `async fn` test on a new current-thread weft runtime, and marks
/// it `#[test]`.
///
/// Takes the same options as [`macro@main`]; `start_paused = true` starts
/// the runtime with the test clock paused, so timers fire as soon as the
/// runtime is idle and long timeouts are tested instantly.
///
/// `explore = n` runs the body `n` times, each on a fresh current-thread
/// runtime with the clock paused, under a schedule drawn from a seed
/// (`weft::explore`); the first seed that panics (in the body or any task)
/// or deadlocks fails the test with the seed, the command that replays it
/// (`WEFT_SEED=<seed> cargo test <name>`) and the task dump. Such a test
/// returns `()`.
///
/// ```ignore
/// #[weft::test(explore = 500)]
/// async fn two_increments_are_never_lost() {
///     let counter = std::sync::Arc::new(weft::sync::Lock::new(0));
///     let tasks: Vec<_> = (0..2).map(|_| {
///         let counter = counter.clone();
///         weft::spawn(async move { *counter.lock().await += 1 })
///     }).collect();
///     for task in tasks { task.await.unwrap(); }
///     assert_eq!(*counter.lock().await, 2);
/// }
/// ```
///
/// ```ignore
/// #[weft::test(start_paused = true)]
/// async fn an_hour_passes_in_no_time() {
///     let start = weft::time::Instant::now();
///     weft::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert!(start.elapsed() >= std::time::Duration::from_secs(3600));
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Test, args, item)
}

fn entry(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let args = tree::from_stream(args);
    let item = tree::from_stream(item);
    let parsed = parse::parse_options(kind, &args)
        .and_then(|options| Ok((options, parse::parse_fn(kind, &item)?)));
    match parsed {
        Ok((options, parts)) => expand::expand(kind, &options, parts),
        Err(error) => expand::compile_error(error),
    }
}
