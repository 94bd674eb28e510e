//! Summary: what a task knows about itself beyond its id and state: where
//! it was spawned and, when someone asks for more, its name, the time of
//! its last wake and its tracing span. Also [`TaskMeta`], the view of it
//! that task hooks receive.
//!
//! Role: `task::new_task_at` stores a [`Site`] in every task header;
//! dumps, slow-poll reports, panic reports and hooks read it through
//! `Header` (`raw.rs`); the scheduler stamps wakes into it when the
//! schedule-latency histogram is on; the waker functions (`raw.rs`) and the
//! poll path (`harness.rs`) report to the tracing span through it.
//!
//! Design: the header is 48 bytes and memory per idle task is one of the
//! figures weft is measured on, so a name must not cost unnamed tasks a
//! byte. A [`Site`] is one word: either the `&'static Location` of the
//! spawn (the common case, exactly what the header held before), or, with
//! its low bit set, a pointer to a [`Details`] that holds the
//! location plus the extras. A task gets `Details` only when it is named,
//! when the runtime stamps wakes (histograms on) or when the `tracing`
//! feature is built in; every other spawn allocates and stores what it did
//! before. Rejected: a `name: Option<Arc<str>>` field in the header (8 more
//! bytes per task, named or not); keeping names in a side table keyed by
//! id (a lock or a map lookup on every dump line and every named spawn,
//! and a second place to clean up); a `Details` box for every task (one
//! more allocation per spawn, measurable in `chain_spawn`).
//!
//! Unsafe: this module holds four `unsafe` blocks outside the allowed list
//! (`task::{raw, harness}`): turning the tagged word back into the
//! reference it was made from, writing the `Details` into its block, and
//! dropping and freeing them; and the `Send`/`Sync` impls a raw pointer
//! needs. A safe enum of the two cases would take two
//! words (the header would grow to 56 bytes); the tag costs one bit that
//! both pointees' alignment leaves free (TAG-1), checked at compile time.
//!
//! Invariants:
//!
//! - TAG-1: `Site::word` is either the address of a `'static Location` with
//!   the low bit clear, or the address of a live `Details` in a block from
//!   `blocks::alloc` for `Layout::new::<Details>()`, plus one, owned by
//!   this `Site` and dropped and freed only by its `Drop`.
//!   Both types are at least 2-aligned, so their addresses have the low bit
//!   clear.
//!
//! Concurrency: a `Site` is written once before the task is published and
//! only read afterwards (`&self`), except for `Details::woken_at`, an atomic
//! described on the field.

use super::blocks;
use super::id::Id;
use crate::trace;
use std::alloc::Layout;
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A task's spawn site, and its [`Details`] when it has any (TAG-1).
pub(crate) struct Site {
    /// The tagged pointer (TAG-1).
    word: NonNull<u8>,
    /// A `Site` owns its `Details` (for auto traits and drop check).
    _details: PhantomData<Box<Details>>,
}

/// The extras a task carries when it is named or observed.
pub(crate) struct Details {
    /// Where `spawn` was called.
    pub(crate) spawned_at: &'static Location<'static>,
    /// The name given with `task::Builder::name`.
    pub(crate) name: Option<Arc<str>>,
    /// When the task was last queued, a reading of the runtime's poll
    /// clock (`poll_clock/`), for the schedule-latency histogram; 0 until
    /// first stamped.
    /// Relaxed: written by the thread that queues the task and read by the
    /// one that pops it; the queue's own synchronisation orders the two.
    pub(crate) woken_at: AtomicU64,
    /// The tracing span (a unit struct unless the `tracing` feature is on).
    pub(crate) span: trace::TaskSpan,
}

const TAG: usize = 1;

// TAG-1 holds for both pointees.
const _: () = assert!(std::mem::align_of::<Location<'static>>() > TAG);
const _: () = assert!(std::mem::align_of::<Details>() > TAG);

// SAFETY: a Site is a `&'static Location` (Send + Sync) or an owned
// `Details` (as a `Box` would), whose fields are all Send + Sync; TAG-1.
unsafe impl Send for Site {}
// SAFETY: as for Send: shared access is `&Location` or `&Details`.
unsafe impl Sync for Site {}

impl Site {
    /// A site with no extras: just the location (no allocation).
    #[inline]
    pub(crate) fn plain(spawned_at: &'static Location<'static>) -> Site {
        Site {
            word: NonNull::from(spawned_at).cast(),
            _details: PhantomData,
        }
    }

    /// A site carrying `details`, in a block of the task-block cache
    /// (`blocks.rs`): a spawn that needs them (the histograms stamp every
    /// task's wakes) frees a `Details` and takes one a moment later on the
    /// same thread, as with the task's own block.
    pub(crate) fn detailed(details: Details) -> Site {
        let block = blocks::alloc(Layout::new::<Details>()).cast::<Details>();
        // SAFETY: BLOCK-2: `blocks::alloc` returned an unused block with at
        // least the size and alignment of `Details`; it is written once,
        // here, and owned by the `Site` from now on (TAG-1).
        unsafe { block.as_ptr().write(details) };
        // The block is at least 2-aligned (TAG-1), so adding one keeps the
        // pointer inside it and non-null.
        let word = NonNull::new(block.as_ptr().cast::<u8>().wrapping_add(TAG))
            .expect("a block pointer plus one is not null");
        Site {
            word,
            _details: PhantomData,
        }
    }

    /// The extras, if this site has them.
    #[inline]
    pub(crate) fn details(&self) -> Option<&Details> {
        if self.word.as_ptr() as usize & TAG == 0 {
            return None;
        }
        let ptr = self.word.as_ptr().wrapping_sub(TAG).cast::<Details>();
        // SAFETY: TAG-1: with the tag set, the word is a live `Details` owned
        // by `self` plus one; it is freed only by `drop`, which needs `&mut`.
        Some(unsafe { &*ptr })
    }

    /// Where the task was spawned.
    pub(crate) fn spawned_at(&self) -> &'static Location<'static> {
        match self.details() {
            Some(details) => details.spawned_at,
            // SAFETY: TAG-1: with the tag clear, the word is a
            // `&'static Location`.
            None => unsafe { &*self.word.as_ptr().cast::<Location<'static>>() },
        }
    }

    /// The task's name, if it was given one.
    pub(crate) fn name(&self) -> Option<&str> {
        self.details()?.name.as_deref()
    }

    /// The task's name as a shared string, for snapshots that outlive it.
    pub(crate) fn shared_name(&self) -> Option<Arc<str>> {
        self.details()?.name.clone()
    }

    /// Records that the task was queued at `now` (a poll clock reading).
    /// A task without details is never stamped.
    pub(crate) fn stamp_woken(&self, now: u64) {
        if let Some(details) = self.details() {
            // Relaxed: see the field.
            details.woken_at.store(now, Ordering::Relaxed);
        }
    }

    /// When the task was last queued (0 if never stamped).
    pub(crate) fn woken_at(&self) -> u64 {
        // Relaxed: see the field.
        self.details()
            .map_or(0, |details| details.woken_at.load(Ordering::Relaxed))
    }

    /// The tracing span, when the `tracing` feature is built in.
    #[inline]
    pub(crate) fn span(&self) -> Option<&trace::TaskSpan> {
        if !trace::ENABLED {
            return None;
        }
        self.details().map(|details| &details.span)
    }
}

impl Drop for Site {
    #[inline]
    fn drop(&mut self) {
        if self.word.as_ptr() as usize & TAG != 0 {
            self.free_details();
        }
    }
}

impl Site {
    /// The slow half of `drop`: drops the details and frees their block.
    #[cold]
    #[inline(never)]
    fn free_details(&mut self) {
        let ptr = self.word.as_ptr().wrapping_sub(TAG).cast::<Details>();
        // SAFETY: TAG-1: the untagged word is the live `Details` that
        // `detailed` wrote into a block from `blocks::alloc` for
        // `Layout::new::<Details>()` (so the untagged word is not null);
        // `drop` runs once, so it is dropped and its block given back once
        // (BLOCK-2: with the same layout).
        unsafe {
            std::ptr::drop_in_place(ptr);
            blocks::free(NonNull::new_unchecked(ptr).cast(), Layout::new::<Details>());
        }
    }
}

/// What a task hook is told about the task it is called for: its id, its
/// name and where it was spawned.
///
/// A `TaskMeta` borrows from the task, so a hook copies what it wants to
/// keep.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let names = Arc::new(Mutex::new(Vec::new()));
/// let seen = names.clone();
/// let rt = weft_runtime::Builder::new_current_thread()
///     .on_task_spawn(move |meta| seen.lock().unwrap().push(meta.name().map(str::to_owned)))
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     weft_runtime::task::Builder::new().name("fetch").spawn(async {}).await.unwrap();
///     weft_runtime::spawn(async {}).await.unwrap();
/// });
/// assert_eq!(*names.lock().unwrap(), [Some("fetch".to_owned()), None]);
/// ```
#[derive(Clone, Copy)]
pub struct TaskMeta<'a> {
    id: Id,
    name: Option<&'a str>,
    spawned_at: &'static Location<'static>,
}

impl<'a> TaskMeta<'a> {
    /// A view made of its parts (for the spawn hook, before the task exists).
    pub(crate) fn new(
        id: Id,
        name: Option<&'a str>,
        spawned_at: &'static Location<'static>,
    ) -> TaskMeta<'a> {
        TaskMeta {
            id,
            name,
            spawned_at,
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's name, if it was spawned with one (`task::Builder::name`).
    pub fn name(&self) -> Option<&'a str> {
        self.name
    }

    /// Where the task was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }
}

impl fmt::Debug for TaskMeta<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskMeta")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("spawned_at", &self.spawned_at)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Details, Site};
    use crate::trace;
    use std::panic::Location;
    use std::sync::atomic::AtomicU64;

    fn details(name: Option<&str>) -> Details {
        Details {
            spawned_at: Location::caller(),
            name: name.map(Into::into),
            woken_at: AtomicU64::new(0),
            span: trace::TaskSpan::none(),
        }
    }

    /// A plain site is the location itself: no details, no name, and the
    /// location reads back (TAG-1).
    #[test]
    fn plain_site_reads_back_its_location() {
        let here = Location::caller();
        let site = Site::plain(here);
        assert!(site.details().is_none());
        assert_eq!(site.name(), None);
        assert!(std::ptr::eq(site.spawned_at(), here));
        assert_eq!(site.woken_at(), 0);
        site.stamp_woken(5);
        assert_eq!(site.woken_at(), 0, "a plain site keeps no stamp");
    }

    /// A detailed site reads back its location, name and stamp, and frees
    /// its box when dropped (run under valgrind/ASan by CI).
    #[test]
    fn detailed_site_reads_back_everything() {
        let site = Site::detailed(details(Some("fetch")));
        assert_eq!(site.name(), Some("fetch"));
        assert_eq!(site.spawned_at().file(), file!());
        site.stamp_woken(42);
        assert_eq!(site.woken_at(), 42);
        let unnamed = Site::detailed(details(None));
        assert_eq!(unnamed.name(), None);
        assert!(unnamed.details().is_some());
    }

    /// The point of the tag: a site is one word.
    #[test]
    fn a_site_is_one_word() {
        assert_eq!(std::mem::size_of::<Site>(), std::mem::size_of::<usize>());
    }
}
