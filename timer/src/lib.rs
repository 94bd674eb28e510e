//! weft-timer: a hierarchical timer wheel, the time driver, sleep/timeout/interval
//! and a test clock.

pub mod wheel;
