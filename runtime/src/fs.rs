//! Files on the blocking pool (the aiofiles pattern). Being built under issue 4.
