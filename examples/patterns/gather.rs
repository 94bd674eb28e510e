//! gather: run ten "fetches" at once and get the results in input order
//! (asyncio.gather), plus `join!` for a couple of futures of different types.
//!
//! Each fetch waits 0.5 s, so ten in a row would take 5 s; gathered they
//! overlap and take about 0.5 s. `gather` runs the futures inside the current
//! task (nothing is spawned), so they need not be `Send` or `'static`.

use std::time::{Duration, Instant};
use weft::time::sleep;

/// Simulated latency of one fetch.
const FETCH_LATENCY: Duration = Duration::from_millis(500);
/// How many users are fetched.
const USERS: u32 = 10;

/// A fetched record.
#[derive(Debug)]
struct User {
    id: u32,
    name: String,
}

async fn fetch_user(id: u32) -> User {
    sleep(FETCH_LATENCY).await;
    User {
        id,
        name: format!("User {id}"),
    }
}

async fn count_orders() -> usize {
    sleep(FETCH_LATENCY / 5).await;
    3
}

/// Gathers ten fetches and compares with the sequential cost.
pub async fn run() -> String {
    let started = Instant::now();
    let users = weft::gather((1..=USERS).map(fetch_user)).await;
    let took = started.elapsed();
    let ids: Vec<u32> = users.iter().map(|user| user.id).collect();
    println!("  gathered {} users in input order: {ids:?}", users.len());
    println!("  first: {:?}", users[0].name);
    let sequential = FETCH_LATENCY * USERS;
    println!(
        "  concurrent: {:.2} s; one after another it would be {:.1} s",
        took.as_secs_f64(),
        sequential.as_secs_f64()
    );

    // join! awaits a fixed set of futures of different types.
    let (user, orders) = weft::join!(fetch_user(42), count_orders());
    println!("  join!: {} has {orders} orders", user.name);
    format!(
        "{USERS} fetches of {:.1} s took {:.2} s instead of {:.1} s",
        FETCH_LATENCY.as_secs_f64(),
        took.as_secs_f64(),
        sequential.as_secs_f64()
    )
}
