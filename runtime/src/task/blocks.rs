//! Summary: where task blocks come from: a small per-thread cache of freed
//! blocks, one free list per 16-byte size class, in front of the global
//! allocator.
//!
//! Role: `raw.rs` takes a block for every new task with [`alloc`] and
//! `harness.rs` gives it back with [`free`] when the last reference goes;
//! `meta.rs` does the same for a task's `Details` (a named task's, or
//! every task's while the histograms are on), which live and die with the
//! task block. Nothing else uses it.
//!
//! Design: a spawn-heavy workload frees a task block and allocates one of
//! the same size a moment later on the same thread (a chain of spawns, a
//! task per request). The allocator's own per-thread cache handles that
//! too, but through its general path (size-class lookup, chunk headers,
//! the consolidation checks of `free`); here a block goes back on a
//! singly-linked list threaded through the freed blocks themselves, and
//! comes off it with two loads and a store. The list is per thread, so it
//! needs no atomic: a block freed on another thread than the one that
//! allocated it joins *that* thread's list (blocks are plain memory, any
//! thread may reuse any block), and each list is bounded
//! ([`MAX_CACHED`]), past which blocks go back to the allocator, so a
//! thread that only frees (a worker completing tasks spawned elsewhere)
//! holds at most `MAX_CACHED` blocks per class. Classes are the sizes that
//! fill one of glibc's chunks (16-byte steps, less its 8-byte size word:
//! 8, 24, ..., 136, 152, ...), so caching costs no memory per live task: a
//! block is allocated in the chunk its own size would have taken. (Classes
//! at multiples of 16 cost a chunk 16 bytes larger for every size 8 past
//! one, such as a 136-byte task block.) Blocks larger than
//! [`MAX_CLASS_BYTES`] or aligned above 16 skip the cache.
//!
//! Alternatives rejected: a cache owned by the worker's core (tokio keeps
//! none; glommio's is per executor) would be reachable only where a core
//! is, but blocks are freed wherever the last reference drops (a waker on
//! a timer thread, a `JoinHandle` on a user thread), and handing the core
//! to `dealloc` would put a scheduler type into the task's vtable; a
//! lock-free global pool would make every spawn and free an RMW on a
//! shared line, which is the cost this avoids. Under `cfg(loom)` and
//! `cfg(weft_no_block_cache)` (set by `scripts/asan.sh`, so AddressSanitizer
//! sees every use after free) every block goes straight to the allocator.
//!
//! Invariants:
//!
//! - BLOCK-1: every block on a list was allocated by [`alloc`] with the
//!   layout of that list's class ([`class_layout`]), is not in use, and is
//!   on exactly one list once; its first word holds the next block (or
//!   null).
//! - BLOCK-2: a block is always freed with the layout it was allocated
//!   with: [`alloc`] and [`free`] both use [`class_layout`] of the caller's
//!   layout, which depends on nothing else.
//!
//! - BLOCK-3: a list takes a block only while its thread's drain is
//!   registered (its room is zero before the first free and after the
//!   drain ran), so every cached block is given back when its thread ends.
//!
//! Concurrency: none: each list belongs to one thread (a thread-local);
//! blocks move between threads only inside tasks, published by the task
//! machinery's own synchronisation (the state word's release/acquire on the
//! last reference, INV-4).

use std::alloc::Layout;
use std::ptr::NonNull;

/// The class granularity and the largest alignment a class block has.
const CLASS_BYTES: usize = 16;
/// The allocator's word in front of each chunk (glibc's size field): a
/// request of `16 * n - 8` bytes fills a `16 * n`-byte chunk.
const CHUNK_WORD: usize = 8;
/// The largest block the cache keeps (a no-op task is about 100 bytes; a
/// typical request handler's future a few hundred).
const MAX_CLASS_BYTES: usize = 512;
/// Classes: 8, 24, ..., 504 bytes.
#[cfg(not(any(loom, weft_no_block_cache)))]
const CLASSES: usize = MAX_CLASS_BYTES / CLASS_BYTES;
/// Blocks kept per class per thread.
#[cfg(not(any(loom, weft_no_block_cache)))]
const MAX_CACHED: u32 = 64;

/// The layout a block of `layout` is allocated with (BLOCK-2): its size
/// rounded up to the class (the rest of its allocator chunk), aligned to
/// 16, when it fits a class. Always inlined: a task's layout is a
/// constant, so this folds away.
#[inline(always)]
fn class_layout(layout: Layout) -> (Layout, Option<usize>) {
    let chunk = (layout.size() + CHUNK_WORD).next_multiple_of(CLASS_BYTES);
    if layout.align() > CLASS_BYTES || chunk > MAX_CLASS_BYTES + CHUNK_WORD || layout.size() == 0 {
        return (layout, None);
    }
    let class_layout = Layout::from_size_align(chunk - CHUNK_WORD, CLASS_BYTES)
        .expect("a class size is a small multiple of 16 less 8, a valid layout");
    (class_layout, Some(chunk / CLASS_BYTES - 1))
}

/// Allocates a block for `layout` (never zero-sized: a task block holds a
/// header, a `Details` a location), from this thread's cache when it has
/// one.
///
/// Inlined into the spawn: with the layout a constant the class is one,
/// and what is left is the list's head test; a spawn whose block the
/// cache cannot give (many tasks alive) pays only that before `malloc`.
#[inline(always)]
pub(super) fn alloc(layout: Layout) -> NonNull<u8> {
    let (block_layout, class) = class_layout(layout);
    if let Some(block) = class.and_then(cache::pop) {
        return block;
    }
    assert!(block_layout.size() > 0, "a block is never zero-sized");
    // SAFETY: `block_layout` has a non-zero size (asserted above).
    let ptr = unsafe { std::alloc::alloc(block_layout) };
    NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(block_layout))
}

/// Gives back a block [`alloc`] returned for the same `layout`.
///
/// # Safety
///
/// `block` came from [`alloc`] with this same `layout`, is no longer used
/// by anything, and is freed once.
#[inline(always)]
pub(super) unsafe fn free(block: NonNull<u8>, layout: Layout) {
    let (block_layout, class) = class_layout(layout);
    let Some(block) = (match class {
        Some(class) => cache::push(class, block),
        None => Some(block),
    }) else {
        return;
    };
    // SAFETY: the caller's contract: `block` came from `alloc`, which
    // allocated it with `block_layout` (BLOCK-2), and is freed once.
    unsafe { std::alloc::dealloc(block.as_ptr(), block_layout) }
}

#[cfg(not(any(loom, weft_no_block_cache)))]
mod cache {
    //! The lists are a thread-local without a destructor, so reaching them
    //! is one address computation with no "is it alive" test; a second,
    //! empty thread-local with a destructor (`DRAIN`) is registered by
    //! the thread's first free and gives the blocks back when the thread
    //! ends. Until then every list has no room, so a free before the
    //! registration (or after the drain) takes the slow path, which
    //! registers (or refuses); the fast paths test only the head (pop) and
    //! the room (push), which they would test anyway.

    use super::{class_layout, CHUNK_WORD, CLASSES, CLASS_BYTES, MAX_CACHED};
    use std::alloc::Layout;
    use std::cell::{Cell, UnsafeCell};
    use std::ptr::NonNull;

    /// One class's list: its first block and how many more it may take.
    #[derive(Clone, Copy)]
    struct List {
        head: Option<NonNull<u8>>,
        room: u32,
    }

    /// Where this thread's cache is in its life.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Life {
        /// No free yet: every list empty, with no room.
        Unregistered,
        /// The drain is registered: lists take blocks up to `MAX_CACHED`.
        Open,
        /// The thread is ending and the lists were drained: no room, ever.
        Drained,
    }

    /// This thread's lists and the state of their drain.
    struct Lists {
        lists: UnsafeCell<[List; CLASSES]>,
        life: Cell<Life>,
    }

    /// Gives this thread's cached blocks back to the allocator when the
    /// thread ends (registered on the first free).
    struct Drain;

    thread_local! {
        /// `UnsafeCell`: only this thread touches it, and never reentrantly
        /// (`pop` and `push` call nothing that could come back here; the
        /// slow path's registration runs no task code).
        static LISTS: Lists = const {
            Lists {
                lists: UnsafeCell::new([List { head: None, room: 0 }; CLASSES]),
                life: Cell::new(Life::Unregistered),
            }
        };
        static DRAIN: Drain = const { Drain };
    }

    /// A cached block of `class`, if this thread has one.
    #[inline(always)]
    pub(super) fn pop(class: usize) -> Option<NonNull<u8>> {
        LISTS.with(|lists| {
            // SAFETY: this thread's lists, borrowed for this call only
            // (no reentrancy: nothing below calls back into the cache).
            let list = unsafe { &mut (*lists.lists.get())[class] };
            let block = list.head?;
            // SAFETY: BLOCK-1: a listed block is unused and its first
            // word holds the next one; it is aligned to 16.
            list.head = unsafe { block.cast::<Option<NonNull<u8>>>().read() };
            list.room += 1;
            Some(block)
        })
    }

    /// Keeps `block` of `class` for reuse; gives it back (`Some`) when the
    /// list is full or the thread's cache is gone.
    #[inline(always)]
    pub(super) fn push(class: usize, block: NonNull<u8>) -> Option<NonNull<u8>> {
        LISTS.with(|lists| {
            // SAFETY: as in `pop`.
            let list = unsafe { &mut (*lists.lists.get())[class] };
            if list.room == 0 {
                // A full list (it has a head) gives the block back at once;
                // an empty one without room is unregistered or drained.
                if list.head.is_some() {
                    return Some(block);
                }
                return push_slow(lists, class, block);
            }
            // SAFETY: the caller of `free` gave up the block, which is
            // at least 8 bytes and 16-aligned (its class layout), so
            // its first word is ours to write (BLOCK-1).
            unsafe { block.cast::<Option<NonNull<u8>>>().write(list.head) };
            list.head = Some(block);
            list.room -= 1;
            None
        })
    }

    /// A free that found an empty list with no room: this is the thread's
    /// first free (register the drain, open every list, retry), or the
    /// thread is ending (give the block back).
    #[cold]
    #[inline(never)]
    fn push_slow(lists: &Lists, class: usize, block: NonNull<u8>) -> Option<NonNull<u8>> {
        if lists.life.get() != Life::Unregistered || DRAIN.try_with(|_| ()).is_err() {
            return Some(block);
        }
        lists.life.set(Life::Open);
        // SAFETY: as in `pop`; every list is empty (nothing was pushed
        // before the drain was registered, so nothing could be popped).
        let all = unsafe { &mut *lists.lists.get() };
        for list in all.iter_mut() {
            list.room = MAX_CACHED;
        }
        push(class, block)
    }

    impl Drop for Drain {
        fn drop(&mut self) {
            LISTS.with(|lists| {
                lists.life.set(Life::Drained);
                // SAFETY: as in `pop`; the drop runs on this thread with no
                // `pop` or `push` in progress.
                let all = unsafe { &mut *lists.lists.get() };
                for (class, list) in all.iter_mut().enumerate() {
                    list.room = 0;
                    let size = (class + 1) * CLASS_BYTES - CHUNK_WORD;
                    let (layout, _) = class_layout(
                        Layout::from_size_align(size, 8).expect("a class size is a valid layout"),
                    );
                    while let Some(block) = list.head {
                        // SAFETY: BLOCK-1 as in `pop`; then the block,
                        // allocated with this class's layout (BLOCK-2),
                        // leaves the list and is freed once.
                        unsafe {
                            list.head = block.cast::<Option<NonNull<u8>>>().read();
                            std::alloc::dealloc(block.as_ptr(), layout);
                        }
                    }
                }
            });
        }
    }
}

/// Without the cache (loom models, AddressSanitizer runs): every block goes
/// to and comes from the allocator.
#[cfg(any(loom, weft_no_block_cache))]
mod cache {
    use std::ptr::NonNull;

    #[inline(always)]
    pub(super) fn pop(_class: usize) -> Option<NonNull<u8>> {
        None
    }

    #[inline(always)]
    pub(super) fn push(_class: usize, block: NonNull<u8>) -> Option<NonNull<u8>> {
        Some(block)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{alloc, class_layout, free};
    use std::alloc::Layout;

    /// Sizes round up to the class that fills their allocator chunk
    /// (16-byte steps less 8); large or over-aligned blocks and zero sizes
    /// skip the cache.
    #[test]
    fn class_layouts() {
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert_eq!(class_layout(l(88, 8)), (l(88, 16), Some(5)));
        assert_eq!(class_layout(l(96, 8)), (l(104, 16), Some(6)));
        assert_eq!(class_layout(l(97, 8)), (l(104, 16), Some(6)));
        // A task block for a 64-byte future: a 144-byte chunk, not 160.
        assert_eq!(class_layout(l(136, 8)), (l(136, 16), Some(8)));
        assert_eq!(class_layout(l(144, 8)), (l(152, 16), Some(9)));
        assert_eq!(class_layout(l(1, 1)), (l(8, 16), Some(0)));
        assert_eq!(class_layout(l(504, 16)).1, Some(31));
        assert_eq!(class_layout(l(505, 8)), (l(505, 8), None));
        assert_eq!(class_layout(l(64, 64)), (l(64, 64), None));
    }

    /// A freed block is handed out again to the next allocation of its
    /// class on the same thread (the cache works, and is per class).
    #[cfg(not(weft_no_block_cache))]
    #[test]
    fn a_freed_block_is_reused_by_its_class() {
        let layout = Layout::from_size_align(100, 8).unwrap();
        let block = alloc(layout);
        // SAFETY: from `alloc` with this layout, unused, freed once.
        unsafe { free(block, layout) };
        let other_class = alloc(Layout::from_size_align(300, 8).unwrap());
        assert_ne!(other_class, block, "another class does not take it");
        let again = alloc(Layout::from_size_align(104, 8).unwrap());
        assert_eq!(again, block, "the same class (104 bytes) reuses it");
        // SAFETY: as above, each with the layout it was allocated for.
        unsafe {
            free(again, Layout::from_size_align(104, 8).unwrap());
            free(other_class, Layout::from_size_align(300, 8).unwrap());
        }
    }

    /// A thread's first free registers its cache's drain and is cached
    /// (the slow path opens the lists, then retries); a full list gives
    /// blocks back to the allocator; the thread then ends with blocks
    /// cached, which the drain frees (under a leak checker: no leak).
    #[cfg(not(weft_no_block_cache))]
    #[test]
    fn a_fresh_threads_first_free_is_cached_and_its_lists_are_bounded() {
        std::thread::spawn(|| {
            let layout = Layout::from_size_align(200, 8).unwrap();
            let blocks: Vec<_> = (0..super::MAX_CACHED + 8).map(|_| alloc(layout)).collect();
            let first = blocks[0];
            // SAFETY: from `alloc` with this layout, unused, freed once.
            unsafe { free(first, layout) };
            assert_eq!(alloc(layout), first, "the first free of a thread is cached");
            for &block in &blocks {
                // SAFETY: as above (`first` was handed out again above).
                unsafe { free(block, layout) };
            }
            let again: Vec<_> = (0..super::MAX_CACHED).map(|_| alloc(layout)).collect();
            let cached = again.iter().filter(|block| blocks.contains(block)).count();
            assert_eq!(
                cached,
                super::MAX_CACHED as usize,
                "a full list holds MAX_CACHED"
            );
            for block in again {
                // SAFETY: as above; these stay cached until the thread ends.
                unsafe { free(block, layout) };
            }
        })
        .join()
        .expect("the thread's checks pass");
    }

    /// Race: eight threads allocate blocks, write them, pass half of them
    /// to a neighbour thread that frees them (so lists fill with blocks
    /// other threads allocated, past their bound), and check that no block
    /// is handed out twice while in use: each thread writes its own mark
    /// into every block it holds and finds it intact before freeing.
    #[test]
    fn blocks_freed_across_threads_are_never_handed_out_twice() {
        use std::sync::mpsc;
        const THREADS: usize = 8;
        const ROUNDS: usize = 2_000;
        let layout = Layout::from_size_align(96, 8).unwrap();
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..THREADS).map(|_| mpsc::channel::<usize>()).unzip();
        let workers: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(me, inbox)| {
                let next = senders[(me + 1) % THREADS].clone();
                std::thread::spawn(move || {
                    let mark = |addr: usize| (me as u64) << 32 | (addr as u64 & 0xffff_ffff);
                    let mut held = Vec::new();
                    for round in 0..ROUNDS {
                        let block = alloc(layout).cast::<[u64; 12]>();
                        // SAFETY: a fresh 96-byte, 16-aligned block, ours.
                        unsafe { block.write([mark(block.as_ptr() as usize); 12]) };
                        held.push(block);
                        if round % 3 == 0 {
                            let given = held.swap_remove(0);
                            // SAFETY: ours until sent; the receiver frees it.
                            let words = unsafe { given.read() };
                            assert!(words.iter().all(|&w| w == mark(given.as_ptr() as usize)));
                            next.send(given.as_ptr() as usize).unwrap();
                        }
                        if held.len() > 70 || round % 5 == 0 {
                            for block in held.drain(..) {
                                // SAFETY: ours; the mark says nobody else
                                // wrote it while we held it.
                                let words = unsafe { block.read() };
                                assert!(words.iter().all(|&w| w == mark(block.as_ptr() as usize)));
                                // SAFETY: from `alloc` with `layout`, freed once.
                                unsafe { free(block.cast(), layout) };
                            }
                        }
                        while let Ok(addr) = inbox.try_recv() {
                            let block = std::ptr::NonNull::new(addr as *mut u8).unwrap();
                            // SAFETY: a neighbour's block, handed over to us
                            // to free; from `alloc` with `layout`.
                            unsafe { free(block, layout) };
                        }
                    }
                    for block in held {
                        // SAFETY: from `alloc` with `layout`, freed once.
                        unsafe { free(block.cast(), layout) };
                    }
                    inbox
                })
            })
            .collect();
        drop(senders);
        // Every worker first: an inbox dropped early would refuse a
        // neighbour still sending.
        let inboxes: Vec<_> = workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker thread panicked"))
            .collect();
        for inbox in inboxes {
            for addr in inbox.try_iter() {
                let block = std::ptr::NonNull::new(addr as *mut u8).unwrap();
                // SAFETY: as in the workers.
                unsafe { free(block, layout) };
            }
        }
    }

    /// Race on a real runtime: four threads spawn tasks of two block sizes
    /// onto a two-worker runtime, abort every third, detach every fifth
    /// and await the rest from another runtime's `block_on`, while the
    /// workers complete and free blocks spawned elsewhere (their caches
    /// fill with other threads' blocks). Every future is dropped exactly
    /// once and every awaited task returns its own value.
    #[test]
    fn spawning_aborting_and_dropping_from_many_threads_accounts_for_every_task() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        const THREADS: usize = 4;
        const PER_THREAD: usize = 2_000;
        struct CountDrop(Arc<AtomicUsize>);
        impl Drop for CountDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let rt = crate::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a runtime");
        let dropped = Arc::new(AtomicUsize::new(0));
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = rt.handle().clone();
                let dropped = dropped.clone();
                std::thread::spawn(move || {
                    let waiter = crate::Builder::new_current_thread().build().expect("rt");
                    for i in 0..PER_THREAD {
                        let guard = CountDrop(dropped.clone());
                        let value = t * PER_THREAD + i;
                        let join = if i % 2 == 0 {
                            handle.spawn(async move {
                                crate::task::yield_now().await;
                                drop(guard);
                                value
                            })
                        } else {
                            let pad = [value as u8; 200];
                            handle.spawn(async move {
                                crate::task::yield_now().await;
                                drop(guard);
                                std::hint::black_box(pad);
                                value
                            })
                        };
                        if i % 3 == 0 {
                            join.abort();
                            let _ = waiter.block_on(join);
                        } else if i % 5 == 0 {
                            drop(join);
                        } else {
                            assert_eq!(waiter.block_on(join).expect("not aborted"), value);
                        }
                    }
                })
            })
            .collect();
        for spawner in spawners {
            spawner.join().expect("a spawner thread panicked");
        }
        drop(rt);
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            THREADS * PER_THREAD,
            "every future dropped exactly once"
        );
    }
}
