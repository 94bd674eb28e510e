//! local_state: asyncio's single-threaded model (plain shared objects
//! across `await`) with `weft::run_local` and `spawn_local`, and
//! `contextvars` with `weft::task_local!`.
//!
//! Each request handler runs as a local task, so all of them share one
//! `Rc<RefCell<..>>` cache without `Arc` or a lock: a `LocalRuntime` runs
//! every local task on its one thread. Each handler sets its request id in
//! a `task_local!` scope, and the audit task it starts inherits that id,
//! as asyncio's `create_task` copies the current context.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use weft::task::spawn_local;
use weft::time::sleep;

weft::task_local! {
    /// The id of the request being handled (a `contextvars.ContextVar`).
    static REQUEST_ID: u32;
}

/// A cache shared by every handler on this thread: `Rc`, not `Arc`.
type Cache = Rc<RefCell<HashMap<&'static str, String>>>;

/// Looks `key` up, "fetching" it on a miss; returns whether it was a hit.
async fn lookup(cache: &Cache, key: &'static str) -> bool {
    if cache.borrow().contains_key(key) {
        return true;
    }
    sleep(Duration::from_millis(20)).await; // stands in for a fetch
    cache.borrow_mut().insert(key, format!("{key} page"));
    false
}

/// One request: look the key up, and start an audit task that logs under
/// the same request id without being passed it.
async fn handle(cache: Cache, key: &'static str) -> (bool, u32) {
    let hit = lookup(&cache, key).await;
    let audit = spawn_local(async move {
        let id = REQUEST_ID.get(); // inherited from the handler's scope
        println!(
            "  [request {id}] {key}: {}",
            if hit { "hit" } else { "miss" }
        );
        id
    });
    (hit, audit.await.expect("the audit task does not panic"))
}

/// Runs three requests as local tasks; must run on a `LocalRuntime`.
pub async fn run() -> String {
    let cache: Cache = Rc::new(RefCell::new(HashMap::new()));
    // Requests 1 and 3 fill the cache (a 20 ms fetch each); 2 and 4 start
    // 150 ms later and find the entries. The margin is wide so that a
    // loaded machine that stalls this thread for a while still prints the
    // same hits.
    let requests = [
        (1, "home", 0),
        (2, "home", 150),
        (3, "about", 0),
        (4, "about", 150),
    ];
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(id, key, delay_ms)| {
            let cache = cache.clone();
            spawn_local(REQUEST_ID.scope(id, async move {
                sleep(Duration::from_millis(delay_ms)).await;
                handle(cache, key).await
            }))
        })
        .collect();
    let mut hits = 0;
    let mut ids_seen = Vec::new();
    for task in tasks {
        let (hit, id) = task.await.expect("handlers do not panic");
        hits += usize::from(hit);
        ids_seen.push(id);
    }
    format!("4 local tasks, 1 Rc<RefCell> cache, {hits} hits; audit ids {ids_seen:?}")
}
