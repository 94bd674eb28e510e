//! Summary: the x86_64 time-stamp counter as the poll clock's source:
//! [`Tsc::detect`] decides whether it may be used, [`Tsc::read`] reads it.
//!
//! Role: `poll_clock/mod.rs` calls `detect` once per process and, when it
//! gives a `Tsc`, calibrates it against `Instant` and reads it on every
//! poll boundary of a runtime with poll timing on.
//!
//! Design: the counter is used only when two independent witnesses say it
//! ticks at one rate on every CPU: the CPU reports an invariant TSC
//! (CPUID leaf `0x8000_0007`, EDX bit 8: constant rate through frequency
//! and sleep states), and the operating system uses it as its own clock
//! source. On Linux the second is `clocksource0/current_clocksource` being
//! `tsc`: the kernel checks at boot that the CPUs' counters are in step,
//! and its watchdog switches away from the TSC if it drifts against
//! another clock, which is what happens on a hypervisor that does not keep
//! the guest's counter stable (the guest then runs on `kvm-clock` or
//! `hpet`). When the kernel keeps `tsc`, `Instant::now` is itself this
//! counter scaled by the vDSO, so reading it directly loses nothing but
//! the vDSO's arithmetic and call. Anywhere the file cannot be read (other
//! operating systems, a sandbox without `/sys`) the poll clock falls back
//! to `Instant`. Rejected: trusting CPUID alone (a VM may pass the flag
//! through while migrating the guest between hosts); `RDTSCP` or a fence
//! around `RDTSC` (ordering against neighbouring instructions is a few
//! nanoseconds, far below the histograms' 1 µs resolution).
//!
//! Unsafe: three blocks, outside the modules that otherwise hold the
//! crate's `unsafe` (`task::{raw, harness}`): `_rdtsc`, and `__cpuid` on
//! the toolchains of the workspace's `rust-version` (newer ones declare it
//! safe, hence the one narrow `unused_unsafe` allowance), are `unsafe fn`s
//! only because the instructions may be missing on some x86 CPUs; every
//! x86_64 CPU has both, and neither touches memory.
//!
//! Invariants: none beyond the two checks above, made once.
//!
//! Concurrency: `read` reads a per-CPU register; a thread that moves
//! between CPUs sees counters the kernel checked to be in step.

use std::arch::x86_64::{__cpuid, _rdtsc};

/// Where Linux names the clock source behind `CLOCK_MONOTONIC`.
const CLOCKSOURCE_PATH: &str = "/sys/devices/system/clocksource/clocksource0/current_clocksource";

/// The CPUID leaf whose EDX bit [`INVARIANT_TSC_BIT`] reports an invariant
/// TSC.
const POWER_MANAGEMENT_LEAF: u32 = 0x8000_0007;

/// The CPUID leaf that reports the highest extended leaf.
const MAX_EXTENDED_LEAF: u32 = 0x8000_0000;

/// EDX bit of [`POWER_MANAGEMENT_LEAF`]: the TSC runs at a constant rate.
const INVARIANT_TSC_BIT: u32 = 1 << 8;

/// Proof that the time-stamp counter may be used as a clock (see the
/// module doc); only [`Tsc::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tsc {
    _checked: (),
}

impl Tsc {
    /// The counter, if the CPU reports it invariant and the OS uses it.
    pub(super) fn detect() -> Option<Tsc> {
        let os_uses_it =
            std::fs::read_to_string(CLOCKSOURCE_PATH).is_ok_and(|source| source.trim() == "tsc");
        (os_uses_it && has_invariant_tsc()).then_some(Tsc { _checked: () })
    }

    /// The counter's value, in ticks of a constant but unknown rate.
    #[inline(always)]
    pub(super) fn read(&self) -> u64 {
        // SAFETY: every x86_64 CPU implements RDTSC, and it only reads a
        // register (see the module doc).
        unsafe { _rdtsc() }
    }
}

/// True if CPUID reports an invariant TSC.
#[allow(unused_unsafe)] // `__cpuid` is safe on newer toolchains only
fn has_invariant_tsc() -> bool {
    // SAFETY: every x86_64 CPU implements CPUID, and it only reads
    // registers (see the module doc).
    let max_extended = unsafe { __cpuid(MAX_EXTENDED_LEAF) }.eax;
    if max_extended < POWER_MANAGEMENT_LEAF {
        return false;
    }
    // SAFETY: as above; the leaf exists (checked just now).
    let power = unsafe { __cpuid(POWER_MANAGEMENT_LEAF) };
    power.edx & INVARIANT_TSC_BIT != 0
}
