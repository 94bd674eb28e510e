//! Composing futures the asyncio way: `gather`, `try_gather`, `race`,
//! `join!`, `select!` and `TaskGroup`. Being built under issue 6.
