//! weft-timer: a hierarchical timer wheel, the time driver, sleep/timeout/interval
//! and a test clock. Being built under issue 3; see `docs/architecture.md`.
