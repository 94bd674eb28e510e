//! Summary: `CancellationToken`, the Rust answer to asyncio's
//! `Task.cancel()`: a task watches a token and, once it is cancelled, runs
//! its own async cleanup (a goodbye line, a flush) before it ends.
//!
//! Role: user code calls [`CancellationToken::cancel`] (or drops a
//! [`DropGuard`]); tasks await [`CancellationToken::cancelled`], usually
//! inside a `select!` or `race` beside their work. Tokens form a tree
//! through [`CancellationToken::child_token`]: cancelling a node cancels
//! its whole subtree, never its ancestors. Built on the FIFO waiter kernel
//! of `waitlist.rs`, like every primitive of this crate, so it knows no
//! runtime.
//!
//! # Design
//!
//! Each token is a handle to a shared [`Node`]: a flag, a [`WaitList`] of
//! `cancelled()` futures, the node's children and a link to its parent,
//! under one mutex per node. `cancel` sets the flag, grants every waiter in
//! arrival order (an `Event::set` that is never cleared), and then cancels
//! the children it took out of the node, one node lock at a time. An
//! atomic copy of the flag makes `is_cancelled` and an already-cancelled
//! `cancelled()` lock-free.
//!
//! A parent holds its children (`Arc`s in a slab) and each child holds its
//! parent, so a child can unlink itself: when the last handle of a node is
//! dropped and it has no children left, it leaves its parent's slab, and
//! its parent leaves the grandparent's the same way if it is now unused
//! too. Memory is therefore bounded by the live tokens, however many short
//! child tokens a long-lived root hands out (one per connection, say).
//!
//! Rejected: moving a dropped node's children up to its parent (tokio
//! re-parents them). It frees an inner node sooner, but it rewrites other
//! nodes' parent links, which makes every unlink a lock-and-retry dance;
//! here a node's parent never changes, so an unlink locks the parent once.
//! Rejected: a global lock for the tree: unrelated trees (one per server)
//! would contend. Rejected: waking waiters through `Event`: `cancel` never
//! clears, and the node needs its children under the same lock anyway.
//!
//! # Invariants
//!
//! - INV-1: `cancelled` only goes from false to true, under the node's
//!   lock; the atomic copy is set (Release) before the lock is released,
//!   so a reader that sees it true (Acquire) sees a cancelled node.
//! - INV-2: once a node is cancelled its waitlist is empty and stays so,
//!   and its children slab is empty and stays so: a `cancelled()` after
//!   the flag returns at once, and a `child_token()` of a cancelled node is
//!   created cancelled and not linked.
//! - INV-3: a node's `parent` link never changes after creation. A node is
//!   removed from its parent's slab at most once, by whoever sets
//!   `unlinked` under the node's lock, so a slab key is never removed twice
//!   (no ABA with a reused key).
//! - INV-4: locks are taken parent before child, and `cancel` holds one
//!   node lock at a time, so the tree cannot deadlock.
//! - INV-5: wakers are woken with no lock held (the `WakeList` of
//!   `waitlist.rs`).
//!
//! # State machine (one node)
//!
//! ```text
//!   live --cancel / parent cancelled--> cancelled   (final; waiters granted)
//!    |                                     |
//!    +--last handle dropped, no children-->+--> unlinked from the parent
//! ```
//!
//! # Concurrency
//!
//! Every field of `NodeState` is touched only under the node's mutex;
//! `is_cancelled` is the atomic mirror of INV-1. The waiter side follows
//! R1–R4 / C1–C3 of `waitlist.rs` with "resource" = the flag; cancel is N1–N5
//! followed by the same steps on each child, one at a time (INV-4):
//!
//! ```text
//!   child_token (on P)                   cancel (on P)
//!   T1. lock P                           K1. lock P
//!   T2. P cancelled? -> new child,       K2. set the flag (INV-1), grant
//!       cancelled, unlinked; unlock          every waiter, take the children
//!   T3. else link the child into P's     K3. unlock, wake the waiters
//!       slab; unlock                     K4. cancel each taken child (K1..)
//! ```
//!
//! T and K are serialised by P's lock: a child linked at T3 is taken at K2;
//! a child created after K2 is born cancelled at T2. No child escapes.
//!
//! # References
//!
//! tokio-util `sync/cancellation_token` (the token tree); CPython
//! `asyncio/tasks.py` (`Task.cancel`, `CancelledError`).

use crate::loom::{Arc, AtomicU8, Mutex};
use crate::waitlist::{WaitList, WaiterKey, WakeList};
use slab::Slab;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

/// A token that tasks watch to learn that they should wind down
/// (asyncio's `Task.cancel()`, delivered cooperatively).
///
/// Cloning gives another handle to the same token. [`child_token`] makes
/// a token that is cancelled with this one but can also be cancelled on its
/// own. Works under any executor.
///
/// [`child_token`]: CancellationToken::child_token
///
/// # Examples
///
/// ```
/// use weft_sync::CancellationToken;
/// smol::block_on(async {
///     let root = CancellationToken::new();
///     let child = root.child_token();
///     let worker = smol::spawn({
///         let child = child.clone();
///         async move {
///             child.cancelled().await;
///             "cleaned up" // async cleanup would run here
///         }
///     });
///     root.cancel();
///     assert_eq!(worker.await, "cleaned up");
///     assert!(child.is_cancelled());
/// });
/// ```
pub struct CancellationToken {
    node: Arc<Node>,
}

/// One node of the token tree; shared by its handles, its children (as
/// their parent) and its parent's slab.
struct Node {
    /// Mirror of `NodeState::cancelled` (INV-1): 1 once cancelled.
    is_cancelled: AtomicU8,
    state: Mutex<NodeState>,
    /// This node's parent and its key in the parent's slab; fixed (INV-3).
    parent: Option<(Arc<Node>, usize)>,
}

struct NodeState {
    cancelled: bool,
    /// `cancelled()` futures waiting, oldest first (empty once cancelled, INV-2).
    waiters: WaitList<()>,
    /// Linked children (empty once cancelled, INV-2).
    children: Slab<Arc<Node>>,
    /// Live `CancellationToken` handles to this node.
    handles: usize,
    /// Set once this node left its parent's slab (INV-3).
    unlinked: bool,
}

impl Node {
    fn new(parent: Option<(Arc<Node>, usize)>, cancelled: bool) -> Node {
        Node {
            is_cancelled: AtomicU8::new(u8::from(cancelled)),
            state: Mutex::new(NodeState {
                cancelled,
                waiters: WaitList::new(),
                children: Slab::new(),
                handles: 1,
                unlinked: parent.is_none(),
            }),
            parent,
        }
    }

    fn is_cancelled(&self) -> bool {
        // Acquire: pairs with the Release store in `cancel` (INV-1).
        self.is_cancelled.load(Ordering::Acquire) == 1
    }

    /// K1–K4 for this node and, one at a time, its whole subtree.
    fn cancel(this: &Arc<Node>) {
        let mut pending = vec![this.clone()];
        while let Some(node) = pending.pop() {
            let mut wakes = WakeList::new();
            {
                let mut state = node.state.lock();
                if state.cancelled {
                    continue;
                }
                state.cancelled = true;
                // Release: pairs with the Acquire in `is_cancelled` (INV-1).
                node.is_cancelled.store(1, Ordering::Release);
                state.waiters.grant_all(&mut wakes);
                pending.extend(state.children.drain());
            }
            // K3 (INV-5): no lock held.
            wakes.wake_all();
        }
    }

    /// Drops one handle; unlinks this node, and then any ancestor left
    /// unused, if nothing can reach them any more.
    fn release_handle(this: &Arc<Node>) {
        let mut node = this.clone();
        let mut is_handle = true;
        loop {
            {
                let mut state = node.state.lock();
                if is_handle {
                    state.handles -= 1;
                }
                if state.handles > 0 || !state.children.is_empty() || state.unlinked {
                    return;
                }
                state.unlinked = true; // INV-3: only this caller removes the key
            }
            let Some((parent, key)) = &node.parent else {
                return;
            };
            {
                let mut parent_state = parent.state.lock();
                // A cancelled parent already took its children (INV-2), so
                // the key may be gone; it cannot have been reused, since a
                // cancelled node links no new child.
                parent_state.children.try_remove(*key);
            }
            let parent = parent.clone();
            node = parent;
            is_handle = false;
        }
    }
}

impl CancellationToken {
    /// A new token, not cancelled, with no parent.
    pub fn new() -> CancellationToken {
        CancellationToken {
            node: Arc::new(Node::new(None, false)),
        }
    }

    /// Cancels this token and every token below it (its children, their
    /// children...). Wakes every `cancelled()` future of each, oldest
    /// first. Idempotent; never touches the parent.
    pub fn cancel(&self) {
        Node::cancel(&self.node);
    }

    /// True once this token (or an ancestor) was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// Waits until the token is cancelled; ready at once if it already is.
    ///
    /// Cancel-safe: dropping the future before it completes removes its
    /// waiter and loses nothing (a cancellation is never consumed: every
    /// later `cancelled()` sees it too).
    ///
    /// ```
    /// use weft_sync::CancellationToken;
    /// smol::block_on(async {
    ///     let token = CancellationToken::new();
    ///     token.cancel();
    ///     token.cancelled().await; // ready at once
    /// });
    /// ```
    pub fn cancelled(&self) -> Cancelled<'_> {
        Cancelled {
            node: &self.node,
            key: None,
        }
    }

    /// A token cancelled when this one is; cancelling the child leaves this
    /// token (and its other children) alone. A child of a cancelled token
    /// is born cancelled.
    ///
    /// ```
    /// use weft_sync::CancellationToken;
    /// let parent = CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// let sibling = parent.child_token();
    /// parent.cancel();
    /// assert!(sibling.is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        let mut state = self.node.state.lock();
        if state.cancelled {
            // T2 (INV-2): born cancelled, nothing to link.
            return CancellationToken {
                node: Arc::new(Node::new(None, true)),
            };
        }
        // T3: the key is known only once the slot is taken.
        let entry = state.children.vacant_entry();
        let child = Arc::new(Node::new(Some((self.node.clone(), entry.key())), false));
        entry.insert(child.clone());
        CancellationToken { node: child }
    }

    /// A guard that cancels this token when it is dropped (a scope's
    /// "cancel everything I started on the way out", asyncio.Runner's
    /// cancel-all on close). [`DropGuard::disarm`] takes the token back
    /// without cancelling.
    ///
    /// ```
    /// use weft_sync::CancellationToken;
    /// let token = CancellationToken::new();
    /// {
    ///     let _guard = token.clone().drop_guard();
    /// }
    /// assert!(token.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }
}

impl Default for CancellationToken {
    fn default() -> CancellationToken {
        CancellationToken::new()
    }
}

impl Clone for CancellationToken {
    fn clone(&self) -> CancellationToken {
        self.node.state.lock().handles += 1;
        CancellationToken {
            node: self.node.clone(),
        }
    }
}

impl Drop for CancellationToken {
    fn drop(&mut self) {
        Node::release_handle(&self.node);
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Future of [`CancellationToken::cancelled`].
#[must_use = "futures do nothing unless polled"]
pub struct Cancelled<'a> {
    node: &'a Arc<Node>,
    /// Set while queued (R3).
    key: Option<WaiterKey>,
}

impl Future for Cancelled<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        crate::budget::budgeted(cx, |cx| {
            let this = &mut *self;
            if this.key.is_none() && this.node.is_cancelled() {
                return Poll::Ready(());
            }
            let mut state = this.node.state.lock();
            let cancelled = state.cancelled;
            state
                .waiters
                .poll_broadcast(&mut this.key, cancelled, cx.waker())
        })
    }
}

impl Drop for Cancelled<'_> {
    /// C1–C3: a cancellation is broadcast, so a dropped waiter owes nothing
    /// to the others; it only leaves the list.
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.node.state.lock().waiters.remove(key);
        }
    }
}

impl fmt::Debug for Cancelled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("is_queued", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// Cancels its token when dropped; see [`CancellationToken::drop_guard`].
#[must_use = "dropping the guard at once cancels the token"]
pub struct DropGuard {
    /// `None` only after `disarm`.
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Takes the token back without cancelling it.
    ///
    /// ```
    /// use weft_sync::CancellationToken;
    /// let token = CancellationToken::new().drop_guard().disarm();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("a DropGuard holds its token until disarm or drop")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = &self.token {
            token.cancel();
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn linked_children(token: &CancellationToken) -> usize {
        token.node.state.lock().children.len()
    }

    #[test]
    fn dropped_children_unlink_themselves() {
        let root = CancellationToken::new();
        let children: Vec<_> = (0..100).map(|_| root.child_token()).collect();
        assert_eq!(linked_children(&root), 100);
        drop(children);
        assert_eq!(linked_children(&root), 0);
    }

    #[test]
    fn an_inner_node_stays_linked_while_a_grandchild_lives() {
        let root = CancellationToken::new();
        let child = root.child_token();
        let grandchild = child.child_token();
        drop(child);
        assert_eq!(
            linked_children(&root),
            1,
            "the grandchild still needs its path"
        );
        root.cancel();
        assert!(grandchild.is_cancelled());
        drop(grandchild);
        assert_eq!(linked_children(&root), 0);
    }

    #[test]
    fn the_last_grandchild_unlinks_an_unused_parent_too() {
        let root = CancellationToken::new();
        let child = root.child_token();
        let grandchild = child.child_token();
        drop(child);
        drop(grandchild);
        assert_eq!(linked_children(&root), 0);
    }

    #[test]
    fn a_clone_keeps_the_node_linked() {
        let root = CancellationToken::new();
        let child = root.child_token();
        let clone = child.clone();
        drop(child);
        assert_eq!(linked_children(&root), 1);
        drop(clone);
        assert_eq!(linked_children(&root), 0);
    }
}
