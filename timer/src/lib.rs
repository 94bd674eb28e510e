//! weft-timer: a hierarchical timer wheel, the time driver, sleep/timeout/interval
//! and a test clock.

mod clock;
mod driver;
mod handle;
mod instant;
mod interval;
mod loom;
mod sleep;
mod timeout;
pub mod wheel;

pub use clock::{advance, pause, resume};
pub use driver::Driver;
pub use handle::{EnterGuard, Handle};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior, MISSED_TICK_TOLERANCE};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
