//! context_manager: a resource that is always released (`async with`).
//!
//! Rust has no `__aexit__`, and `Drop` cannot `.await`. So there are two
//! layers, and this pattern shows both:
//! 1. A closure-scoped helper, `with_connection(dsn, |conn| async { .. })`,
//!    opens the resource, runs the body, then closes it with an async
//!    `close()`, whatever the body returned: the `async with` block.
//! 2. A `Drop` fallback on the resource itself, for the case where the whole
//!    operation is cancelled mid-way (a timeout, an abort): it cannot await,
//!    so it releases synchronously.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use weft::time::{sleep, timeout};

/// Simulated cost of opening or closing a connection.
const HANDSHAKE: Duration = Duration::from_millis(50);

/// Connections currently open, to prove none is leaked.
static OPEN_CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

/// A pretend database connection.
struct Connection {
    dsn: String,
    is_closed: bool,
}

impl Connection {
    async fn open(dsn: &str) -> Connection {
        sleep(HANDSHAKE).await;
        OPEN_CONNECTIONS.fetch_add(1, Ordering::SeqCst);
        println!("  opening connection to {dsn}");
        Connection {
            dsn: dsn.to_string(),
            is_closed: false,
        }
    }

    async fn query(&self, sql: &str, latency: Duration) -> String {
        sleep(latency).await;
        format!("rows for {sql:?} from {}", self.dsn)
    }

    /// The `__aexit__`: an orderly, awaited close.
    async fn close(mut self) {
        sleep(HANDSHAKE).await;
        println!("  closing connection (async close)");
        self.is_closed = true;
        OPEN_CONNECTIONS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for Connection {
    /// The fallback when the holder was cancelled before `close()`.
    fn drop(&mut self) {
        if !self.is_closed {
            println!("  connection dropped unclosed (cancelled): releasing synchronously");
            OPEN_CONNECTIONS.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Opens a connection, runs `body` with it, and closes it afterwards.
async fn with_connection<T, F, Fut>(dsn: &str, body: F) -> T
where
    F: FnOnce(Arc<Connection>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let conn = Arc::new(Connection::open(dsn).await);
    let output = body(Arc::clone(&conn)).await;
    match Arc::try_unwrap(conn) {
        Ok(conn) => conn.close().await,
        Err(_still_shared) => {
            println!("  the body kept a clone: it is released when that clone drops")
        }
    }
    output
}

/// The normal path, then a cancelled one; no connection leaks.
pub async fn run() -> String {
    let rows = with_connection("postgresql://localhost", |conn| async move {
        conn.query("select 1", HANDSHAKE).await
    })
    .await;
    println!("  query returned {rows:?}");

    let cancelled = timeout(
        HANDSHAKE * 2,
        with_connection("postgresql://localhost", |conn| async move {
            conn.query("select pg_sleep(10)", Duration::from_secs(10))
                .await
        }),
    )
    .await;
    println!("  slow query cancelled by timeout: {}", cancelled.is_err());
    let open = OPEN_CONNECTIONS.load(Ordering::SeqCst);
    assert_eq!(open, 0, "every connection was released");
    format!("async close after use, Drop release on cancel; {open} left open")
}
