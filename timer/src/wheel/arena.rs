//! The arena that owns every wheel entry, and the intrusive index lists that
//! thread entries through the wheel's slots.
//!
//! # Summary
//!
//! `Arena<T>` is a slab: a `Vec` of nodes plus a free list. A [`Key`] names a
//! node by index *and* generation, so a key kept by a `Sleep` after its entry
//! fired (and the node was reused) resolves to nothing instead of to a
//! stranger's timer. Each node also carries `prev`/`next` indices, which makes
//! every slot of the wheel a doubly linked list that lives inside the arena:
//! linking and unlinking are O(1) and need no allocation and no `unsafe`.
//!
//! # Role
//!
//! Used only by [`Wheel`](super::Wheel), which decides which list a node is on.
//!
//! # Design
//!
//! Alternatives considered:
//! - *Intrusive nodes pinned inside each `Sleep`* (tokio's design) avoid the
//!   arena entirely, but every link then is a raw pointer into a future that
//!   the user may drop on any thread at any moment; soundness rests on
//!   `unsafe` code and careful pin/drop protocols. The measurable gain is one
//!   `Vec` slot per live timer, which the arena reuses anyway.
//! - *`slab::Slab` plus a `Vec` per slot* gives O(1) insert but O(n) cancel
//!   (or swap-remove bookkeeping), and a slot's `Vec` allocates.
//!
//! Cost of the arena: one bounds-checked index per link step, and memory that
//! stays at the high-water mark of simultaneously live timers (freed nodes are
//! reused, never returned to the allocator).
//!
//! # Invariants
//!
//! - INV-1: a node is *live* iff its `value` is `Some`; only live nodes are on
//!   a list, and a live node is on exactly one list (the one named by `list`),
//!   or on none if `list` is [`ListId::Held`].
//! - INV-2: `generation` changes every time a node is freed, so a [`Key`]
//!   resolves only while the node it was issued for is still live. It never
//!   takes the two values of [`Key::MARKERS`], so a marker key resolves to
//!   nothing.
//! - INV-3: a vacant node's `next` is the next vacant index (the free list);
//!   its `prev` is [`NIL`].
//!
//! # Concurrency
//!
//! None: the arena is a plain value; the driver keeps the wheel under its lock.

use std::fmt;

/// The "no node" index used to end lists.
pub(crate) const NIL: u32 = u32::MAX;

/// Names one timer entry in a [`Wheel`](super::Wheel).
///
/// A key stays valid until its entry fires or is removed; afterwards every
/// operation with it is a no-op that reports "not found" (INV-2), even if the
/// arena reused the node for another entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    index: u32,
    generation: u64,
}

impl Key {
    /// Two keys no arena ever issues (INV-2), for a holder that needs
    /// "no entry" states in the key's own 16 bytes (a `Sleep`'s
    /// registration).
    pub(crate) const MARKERS: [Key; 2] = [
        Key {
            index: NIL,
            generation: u64::MAX,
        },
        Key {
            index: NIL,
            generation: u64::MAX - 1,
        },
    ];
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}v{})", self.index, self.generation)
    }
}

/// Which list of the wheel a live node is on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ListId {
    /// Due: fires on the next poll.
    Expired,
    /// A slot of one level. Bytes, not `usize`s (6 levels, 64 slots): the
    /// id sits in every node, and two `usize`s made a node 64 bytes where
    /// it is now 48.
    Slot { level: u8, slot: u8 },
    /// Beyond the top level's reach: held until the wheel gets close enough.
    Overflow,
    /// Live but on no list: never due until rescheduled
    /// ([`Wheel::hold`](super::Wheel::hold)).
    Held,
}

/// The ends of one intrusive list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List {
    head: u32,
    tail: u32,
}

impl List {
    /// A list with no nodes.
    pub(crate) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    /// True when no node is on the list.
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

impl Default for List {
    fn default() -> Self {
        List::EMPTY
    }
}

struct Node<T> {
    generation: u64,
    prev: u32,
    next: u32,
    tick: u64,
    list: ListId,
    /// `Some` iff the node is live (INV-1).
    value: Option<T>,
}

/// A slab of timer entries with generation-checked keys and intrusive lists.
pub(crate) struct Arena<T> {
    nodes: Vec<Node<T>>,
    /// Head of the free list (INV-3).
    free: u32,
    len: usize,
}

impl<T> Arena<T> {
    pub(crate) fn new() -> Self {
        Arena {
            nodes: Vec::new(),
            free: NIL,
            len: 0,
        }
    }

    /// Number of live nodes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `value` in a vacant node (not yet on any list) and names it.
    ///
    /// # Panics
    ///
    /// Panics if more than `u32::MAX - 1` timers are live at once.
    pub(crate) fn alloc(&mut self, tick: u64, value: T) -> (Key, u32) {
        let index = if self.free != NIL {
            let index = self.free;
            let node = &mut self.nodes[index as usize];
            self.free = node.next;
            node.prev = NIL;
            node.next = NIL;
            node.tick = tick;
            node.list = ListId::Expired;
            node.value = Some(value);
            index
        } else {
            let index = u32::try_from(self.nodes.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("more than u32::MAX - 1 timers live at once in one weft runtime");
            self.nodes.push(Node {
                generation: 0,
                prev: NIL,
                next: NIL,
                tick,
                list: ListId::Expired,
                value: Some(value),
            });
            index
        };
        self.len += 1;
        let generation = self.nodes[index as usize].generation;
        (Key { index, generation }, index)
    }

    /// Frees a live node that is on no list; returns its value.
    pub(crate) fn free(&mut self, index: u32) -> T {
        let node = &mut self.nodes[index as usize];
        let value = node.value.take().expect("freeing a vacant timer node");
        // INV-2: any key issued for this life of the node stops resolving;
        // the markers' generations are skipped.
        node.generation = match node.generation.wrapping_add(1) {
            next if next >= u64::MAX - 1 => 0,
            next => next,
        };
        node.prev = NIL;
        node.next = self.free;
        self.free = index;
        self.len -= 1;
        value
    }

    /// The index of the live node `key` names, if it is still live (INV-2).
    pub(crate) fn resolve(&self, key: Key) -> Option<u32> {
        let node = self.nodes.get(key.index as usize)?;
        (node.generation == key.generation && node.value.is_some()).then_some(key.index)
    }

    pub(crate) fn tick(&self, index: u32) -> u64 {
        self.nodes[index as usize].tick
    }

    pub(crate) fn set_tick(&mut self, index: u32, tick: u64) {
        self.nodes[index as usize].tick = tick;
    }

    /// Marks a live node that is on no list as held (INV-1).
    pub(crate) fn set_held(&mut self, index: u32) {
        self.nodes[index as usize].list = ListId::Held;
    }

    pub(crate) fn list_of(&self, index: u32) -> ListId {
        self.nodes[index as usize].list
    }

    pub(crate) fn value_mut(&mut self, index: u32) -> &mut T {
        self.nodes[index as usize]
            .value
            .as_mut()
            .expect("timer key resolved to a vacant node")
    }

    /// Appends a live, unlinked node to `list`, recording `id` in the node.
    pub(crate) fn push_back(&mut self, list: &mut List, id: ListId, index: u32) {
        let tail = list.tail;
        {
            let node = &mut self.nodes[index as usize];
            node.list = id;
            node.prev = tail;
            node.next = NIL;
        }
        if tail == NIL {
            list.head = index;
        } else {
            self.nodes[tail as usize].next = index;
        }
        list.tail = index;
    }

    /// Removes a node from `list`, which must be the list it is on (INV-1).
    pub(crate) fn unlink(&mut self, list: &mut List, index: u32) {
        let (prev, next) = {
            let node = &mut self.nodes[index as usize];
            let links = (node.prev, node.next);
            node.prev = NIL;
            node.next = NIL;
            links
        };
        if prev == NIL {
            debug_assert_eq!(
                list.head, index,
                "unlinking a node from a list it is not on"
            );
            list.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            list.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    /// Detaches and returns the first node of `list`.
    pub(crate) fn pop_front(&mut self, list: &mut List) -> Option<u32> {
        let head = list.head;
        if head == NIL {
            return None;
        }
        self.unlink(list, head);
        Some(head)
    }

    /// Calls `f` with the tick of every node on `list`.
    pub(crate) fn for_each_tick(&self, list: &List, mut f: impl FnMut(u64)) {
        let mut at = list.head;
        while at != NIL {
            let node = &self.nodes[at as usize];
            f(node.tick);
            at = node.next;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Every pending timer holds one node: its list id is two bytes of
    /// level and slot, so a node with a waker is 48 bytes, not 64.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_node_holding_a_waker_is_48_bytes() {
        assert_eq!(std::mem::size_of::<ListId>(), 3);
        assert_eq!(std::mem::size_of::<Node<std::task::Waker>>(), 48);
    }
}
