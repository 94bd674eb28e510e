//! Async iteration: `Stream` and a small `StreamExt`. Being built under issue 6.
