//! Summary: the storage orders a queue can use: FIFO, LIFO, smallest first.
//!
//! Role: [`GenericQueue`](super::GenericQueue) keeps its items in a
//! [`QueueStorage`]; everything else (waiting, fairness, shutdown, join) is
//! shared. asyncio does the same with `_put`/`_get` overrides in `LifoQueue`
//! and `PriorityQueue`.
//!
//! Design: the trait is implemented directly for the std collections, so
//! there is no wrapper type to learn: `VecDeque` is FIFO, `Vec` is LIFO and
//! `BinaryHeap<Reverse<T>>` pops the smallest item first (asyncio's
//! PriorityQueue is a min-heap too).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Where a queue keeps its items and in which order it hands them out.
///
/// Implement it for your own collection to get a queue with another order;
/// `len` must count exactly the items `pop` can still return.
pub trait QueueStorage: Default {
    /// The item type.
    type Item;

    /// Stores one item.
    fn push(&mut self, item: Self::Item);

    /// Removes the next item in this storage's order.
    fn pop(&mut self) -> Option<Self::Item>;

    /// How many items are stored.
    fn len(&self) -> usize;

    /// True if no item is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out (asyncio.Queue).
impl<T> QueueStorage for VecDeque<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        self.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
}

/// Last in, first out (asyncio.LifoQueue).
impl<T> QueueStorage for Vec<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

/// Smallest item first (asyncio.PriorityQueue).
impl<T: Ord> QueueStorage for BinaryHeap<Reverse<T>> {
    type Item = T;
    fn push(&mut self, item: T) {
        BinaryHeap::push(self, Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        BinaryHeap::pop(self).map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        BinaryHeap::len(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<S: QueueStorage<Item = u32>>(input: &[u32]) -> Vec<u32> {
        let mut storage = S::default();
        for &item in input {
            storage.push(item);
        }
        assert_eq!(storage.len(), input.len());
        std::iter::from_fn(|| storage.pop()).collect()
    }

    #[test]
    fn each_storage_pops_in_its_documented_order() {
        let input = [3, 1, 4, 1, 5];
        assert_eq!(drain::<VecDeque<u32>>(&input), [3, 1, 4, 1, 5], "fifo");
        assert_eq!(drain::<Vec<u32>>(&input), [5, 1, 4, 1, 3], "lifo");
        assert_eq!(
            drain::<BinaryHeap<Reverse<u32>>>(&input),
            [1, 1, 3, 4, 5],
            "priority"
        );
    }
}
