//! Composing futures the asyncio way: [`gather`], [`try_gather`], [`race`],
//! [`join!`](crate::join), [`select!`](crate::select) and [`TaskGroup`].
//!
//! # Summary
//! The path these names always had in weft-runtime. All but [`TaskGroup`]
//! are weft-compose's, re-exported unchanged: they run their futures inside
//! the calling task and work under any executor. [`TaskGroup`] spawns, so it
//! is the runtime's own (`task_group.rs`).
//!
//! # Role
//! Public API, re-exported by the facade as `weft::{gather, try_gather,
//! race, join, select}` and `weft::task::TaskGroup`.
//!
//! # Design
//! Re-exports rather than a second copy or a wrapper: `weft_runtime::compose::
//! gather` and `weft_compose::gather` are the same function, so code written
//! against either path, and the macros' `$crate` paths, agree. The rejected
//! alternative, moving `TaskGroup` into weft-compose too, would make that
//! crate depend on the runtime (to spawn) and lose its "any executor" claim.
//!
//! # Invariants
//! Every name that was public here before the split still resolves here,
//! with the same item behind it.
//!
//! # Concurrency
//! See weft-compose's crate doc and `task_group.rs`.

pub use crate::task_group::TaskGroup;
pub use weft_compose::{gather, race, try_gather, Gather, Race, TryGather};

/// Helpers that `join!` and `select!` expand to. Not public API.
#[doc(hidden)]
pub use weft_compose::__private;

#[cfg(test)]
mod tests {
    /// Every path this crate had before the split still names an item, and
    /// the same item as weft-compose's: the combinators run on this
    /// runtime through the old paths.
    #[test]
    fn the_paths_from_before_the_split_still_resolve() {
        use crate::compose::{gather, race, try_gather, Gather, Race, TaskGroup, TryGather};
        use crate::stream::{
            iter, unfold, Collect, Filter, Iter, Map, Next, Stream, StreamExt, Take, Unfold,
        };
        // Same items, not look-alikes: a value of one path's type is a
        // value of the other's.
        let _: fn(std::ops::Range<u8>) -> weft_compose::stream::Iter<_> =
            iter::<std::ops::Range<u8>>;
        let same: Gather<std::future::Ready<u8>> = weft_compose::gather([std::future::ready(1u8)]);
        drop(same);
        fn names<A, B, C, D, E, F, G, H>() {}
        names::<
            Race<std::future::Ready<u8>>,
            TryGather<std::future::Ready<Result<u8, ()>>, u8>,
            Collect<Iter<std::vec::IntoIter<u8>>, Vec<u8>>,
            Filter<Iter<std::vec::IntoIter<u8>>, fn(&u8) -> bool>,
            Map<Iter<std::vec::IntoIter<u8>>, fn(u8) -> u8>,
            Next<'static, Iter<std::vec::IntoIter<u8>>>,
            Take<Iter<std::vec::IntoIter<u8>>>,
            Unfold<
                u8,
                fn(u8) -> std::future::Ready<Option<(u8, u8)>>,
                std::future::Ready<Option<(u8, u8)>>,
            >,
        >();
        fn is_stream<S: Stream>(_: &S) {}
        is_stream(&iter([1u8]));

        let (gathered, raced, tried, joined, selected, streamed, grouped) = crate::run(async {
            let gathered = gather((1..=3u32).map(|n| async move { n * 2 })).await;
            let raced = race([std::future::ready(5u8)]).await;
            let tried = try_gather([async { Ok::<u8, ()>(1) }]).await;
            let joined = crate::join!(async { 1u8 }, async { "two" });
            let selected = crate::select! {
                word = async { "first" } => word,
                _ = std::future::pending::<()>() => "never",
            };
            let streamed = unfold(0u8, |n| async move { (n < 3).then_some((n, n + 1)) })
                .map(|n| n + 1)
                .collect::<Vec<u8>>()
                .await;
            let mut group = TaskGroup::new();
            group.spawn(async { 9u8 });
            let grouped = group
                .join_next()
                .await
                .map(|joined| joined.expect("no panic"));
            (gathered, raced, tried, joined, selected, streamed, grouped)
        });
        assert_eq!(gathered, [2, 4, 6]);
        assert_eq!(raced, 5);
        assert_eq!(tried, Ok(vec![1]));
        assert_eq!(joined, (1, "two"));
        assert_eq!(selected, "first");
        assert_eq!(streamed, [1, 2, 3]);
        assert_eq!(grouped, Some(9));
    }
}
