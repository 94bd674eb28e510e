//! Loom models of the reactor's private structures; run with
//! `RUSTFLAGS="--cfg loom" cargo test -p weft-io --release --lib loom`.

mod loom_readiness;
