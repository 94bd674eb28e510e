//! weft-sync: asyncio's synchronisation primitives, usable under any executor.
//! Being built under issue 5.
