//! The floor section (`cargo bench --bench compare -- --floor`): what the
//! machine charges for the parts no runtime can skip, measured in the same
//! run as the workloads, and each workload's cost per operation next to the
//! sum of its parts.
//!
//! # Method
//!
//! A spawn cannot cost less than one allocation and one free of the task's
//! block, one push and one pop of a run queue, and the atomic
//! read-modify-writes of the completion and join handshake; a TCP round trip
//! cannot cost less than one write and one read on each side. Each part is
//! timed alone, in a tight loop on this machine (best of [`PART_ROUNDS`]
//! rounds, so a round that lost the CPU to another process does not count);
//! a workload's *floor* is the sum of its parts, counted per operation from
//! what the workload does (the [`FLOORS`] table says how). The ratio
//! `ns/op / floor` says how far a runtime is above what the hardware and
//! the kernel charge: 1.0 would be a runtime with no cost of its own.
//!
//! Two parts come in two forms. A block or a queue entry reused at once
//! stays in the cache; `spawn_inside` keeps 100k tasks alive before joining
//! them, so its blocks and queue entries are cold: its floor counts the
//! "100k alive" forms (allocate 100k blocks, touch each, free them all; push
//! 100k, pop them all). And an RMW on a line the other core just wrote costs
//! a cache-line transfer: it is printed for reference (what a task handed
//! between workers pays per atomic), but every floor counts one thread's
//! parts, so on a two-thread runtime a ratio below 1.0 is possible (two
//! cores share the work) and means the floor is met.
//!
//! The parts are lower bounds, not a model: a real spawn also writes the
//! future, a waker's vtable call and the scheduler's bookkeeping; the point
//! is to see which workloads sit near their floor and which do not.

use std::hint::black_box;
use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::harness::{self, Scale, Workload};
use super::rt::Flavour;
use super::{channels, net, tasks};

/// The size of a task block: weft's for a no-op future (header, scheduler
/// hook, future and output slot).
const TASK_BLOCK_BYTES: usize = 96;
/// The payload of one `tcp_echo` message.
const MESSAGE_BYTES: usize = 64;
/// Rounds per part; the best one is kept.
const PART_ROUNDS: usize = 7;
/// Blocks or entries alive at once in the "100k alive" parts (as many as
/// `spawn_inside` keeps alive at full scale).
const ALIVE: usize = 100_000;

/// One irreducible part, timed alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// `Box` allocation and free of a [`TASK_BLOCK_BYTES`] block.
    Alloc,
    /// The same with [`ALIVE`] blocks alive at once (each written once).
    AllocAlive,
    /// A push and a pop of a `crossbeam_deque::Worker` (a run queue).
    QueuePushPop,
    /// The same with [`ALIVE`] entries queued at once.
    QueueAlive,
    /// An atomic RMW on a line this core owns.
    RmwLocal,
    /// An atomic RMW on a line the other core just wrote (one transfer).
    RmwHandedOver,
    /// An 8-byte `write` and `read` of an eventfd (a parked thread's wake).
    EventfdWriteRead,
    /// A 64-byte `write` on one end of a loopback TCP pair and the `read`
    /// of it on the other.
    LoopbackSendRecv,
}

impl Part {
    const ALL: [Part; 8] = [
        Part::Alloc,
        Part::AllocAlive,
        Part::QueuePushPop,
        Part::QueueAlive,
        Part::RmwLocal,
        Part::RmwHandedOver,
        Part::EventfdWriteRead,
        Part::LoopbackSendRecv,
    ];

    fn label(self) -> &'static str {
        match self {
            Part::Alloc => "Box alloc+free, 96 B",
            Part::AllocAlive => "Box alloc+free, 96 B, 100k alive",
            Part::QueuePushPop => "crossbeam deque push+pop",
            Part::QueueAlive => "crossbeam deque push+pop, 100k queued",
            Part::RmwLocal => "atomic RMW, own line",
            Part::RmwHandedOver => "atomic RMW, line from the other core",
            Part::EventfdWriteRead => "eventfd write+read",
            Part::LoopbackSendRecv => "loopback TCP send+recv, 64 B",
        }
    }

    /// Operations per timed round.
    fn iterations(self) -> u64 {
        match self {
            Part::Alloc | Part::QueuePushPop | Part::RmwLocal => 1_000_000,
            Part::AllocAlive | Part::QueueAlive => ALIVE as u64,
            Part::RmwHandedOver => 200_000,
            Part::EventfdWriteRead | Part::LoopbackSendRecv => 20_000,
        }
    }

    /// Nanoseconds per operation of one round.
    fn time_round(self) -> f64 {
        let iterations = self.iterations();
        let elapsed = match self {
            Part::Alloc => alloc_round(iterations),
            Part::AllocAlive => alloc_alive_round(),
            Part::QueuePushPop => queue_round(iterations),
            Part::QueueAlive => queue_alive_round(),
            Part::RmwLocal => rmw_local_round(iterations),
            Part::RmwHandedOver => rmw_handed_over_round(iterations),
            Part::EventfdWriteRead => eventfd_round(iterations),
            Part::LoopbackSendRecv => loopback_round(iterations),
        };
        elapsed * 1e9 / iterations as f64
    }
}

fn alloc_round(iterations: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        drop(black_box(Box::new(
            MaybeUninit::<[u8; TASK_BLOCK_BYTES]>::uninit(),
        )));
    }
    start.elapsed().as_secs_f64()
}

fn alloc_alive_round() -> f64 {
    let mut blocks = Vec::with_capacity(ALIVE);
    let start = Instant::now();
    for i in 0..ALIVE {
        // Written in full, as a spawn writes the task's header and future.
        blocks.push(black_box(Box::new([i as u8; TASK_BLOCK_BYTES])));
    }
    drop(black_box(blocks));
    start.elapsed().as_secs_f64()
}

fn queue_alive_round() -> f64 {
    let queue = crossbeam_deque::Worker::new_fifo();
    let start = Instant::now();
    for i in 0..ALIVE {
        queue.push(black_box(i));
    }
    while let Some(entry) = queue.pop() {
        black_box(entry);
    }
    start.elapsed().as_secs_f64()
}

fn queue_round(iterations: u64) -> f64 {
    let queue = crossbeam_deque::Worker::new_fifo();
    let start = Instant::now();
    for i in 0..iterations {
        queue.push(black_box(i));
        black_box(queue.pop());
    }
    start.elapsed().as_secs_f64()
}

fn rmw_local_round(iterations: u64) -> f64 {
    let counter = AtomicU64::new(0);
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(&counter).fetch_add(1, Ordering::AcqRel);
    }
    start.elapsed().as_secs_f64()
}

/// Two threads take turns: each waits (spinning) until the counter has its
/// parity, then increments it, so every increment finds the line in the
/// other core's cache. Time per increment = one handed-over RMW.
fn rmw_handed_over_round(iterations: u64) -> f64 {
    let counter = Arc::new(AtomicU64::new(0));
    let other = {
        let counter = counter.clone();
        std::thread::spawn(move || take_turns(&counter, 1, iterations))
    };
    let start = Instant::now();
    take_turns(&counter, 0, iterations);
    let elapsed = start.elapsed().as_secs_f64();
    other.join().expect("the other turn-taker panicked");
    elapsed
}

/// Increments `counter` whenever it is `parity` modulo 2, until it reaches
/// `total`.
fn take_turns(counter: &AtomicU64, parity: u64, total: u64) {
    loop {
        let seen = counter.load(Ordering::Acquire);
        if seen >= total {
            return;
        }
        if seen % 2 == parity {
            counter.fetch_add(1, Ordering::AcqRel);
        } else {
            std::hint::spin_loop();
        }
    }
}

fn eventfd_round(iterations: u64) -> f64 {
    // SAFETY: `eventfd` takes no pointers; the descriptor it returns is
    // owned below and closed when `file` drops.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` was just returned by `eventfd`, is open, and nothing else
    // owns it.
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut value = [0u8; 8];
    let start = Instant::now();
    for _ in 0..iterations {
        file.write_all(&1u64.to_ne_bytes()).expect("eventfd write");
        file.read_exact(&mut value).expect("eventfd read");
    }
    start.elapsed().as_secs_f64()
}

fn loopback_round(iterations: u64) -> f64 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let mut sender =
        std::net::TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    let (mut receiver, _) = listener.accept().expect("accept");
    sender.set_nodelay(true).expect("nodelay");
    let message = [7u8; MESSAGE_BYTES];
    let mut buf = [0u8; MESSAGE_BYTES];
    let start = Instant::now();
    for _ in 0..iterations {
        sender.write_all(&message).expect("loopback write");
        receiver.read_exact(&mut buf).expect("loopback read");
    }
    start.elapsed().as_secs_f64()
}

/// What one operation of a workload must do at least, as counts of parts.
struct Floor {
    workload: &'static str,
    /// What one operation is.
    op: &'static str,
    /// Operations per sample at `scale`.
    ops: fn(Scale) -> usize,
    /// (part, count per operation).
    parts: &'static [(Part, u32)],
    /// How the parts were counted.
    why: &'static str,
}

/// The workloads with a floor, and how it is counted.
const FLOORS: &[Floor] = &[
    Floor {
        workload: "spawn_inside",
        op: "task spawned and joined",
        ops: tasks::spawn_inside::ops,
        parts: &[
            (Part::AllocAlive, 1),
            (Part::QueueAlive, 1),
            (Part::RmwLocal, 2),
        ],
        why: "block alloc+free and push+pop, 100k alive; RMW to complete, RMW to join",
    },
    Floor {
        workload: "chain_spawn",
        op: "link (a task spawning the next)",
        ops: tasks::chain_spawn::ops,
        parts: &[
            (Part::Alloc, 1),
            (Part::QueuePushPop, 1),
            (Part::RmwLocal, 2),
        ],
        why: "block alloc+free; push+pop; RMW to complete, RMW to drop the handle",
    },
    Floor {
        workload: "ping_pong",
        op: "round trip (two oneshot messages)",
        ops: channels::ping_pong::ops,
        parts: &[
            (Part::Alloc, 2),
            (Part::QueuePushPop, 2),
            (Part::RmwLocal, 4),
        ],
        why: "per message: oneshot alloc+free, send RMW, receive RMW, wake = push+pop",
    },
    Floor {
        workload: "tcp_echo",
        op: "round trip of 64 B",
        ops: net::tcp_echo::ops,
        parts: &[(Part::LoopbackSendRecv, 2)],
        why: "request and reply: each one write and one read (no readiness wait counted)",
    },
];

/// The floor of one operation of `floor`, in ns.
fn floor_ns(floor: &Floor, part_ns: &[(Part, f64)]) -> f64 {
    floor
        .parts
        .iter()
        .map(|&(part, count)| {
            let ns = part_ns
                .iter()
                .find(|(measured, _)| *measured == part)
                .map_or(f64::NAN, |&(_, ns)| ns);
            f64::from(count) * ns
        })
        .sum()
}

/// Runs the floor section: times every part, then the workloads of
/// [`FLOORS`] on `flavours`, and prints both tables.
pub fn run(workloads: &[Workload], flavours: &[Flavour], runs: usize, scale: Scale) {
    eprintln!("compare: timing the floor parts ({PART_ROUNDS} rounds each)");
    let part_ns: Vec<(Part, f64)> = Part::ALL
        .iter()
        .map(|&part| {
            let best = (0..PART_ROUNDS)
                .map(|_| part.time_round())
                .fold(f64::INFINITY, f64::min);
            (part, best)
        })
        .collect();
    println!("floor parts (best of {PART_ROUNDS} rounds)");
    for (part, ns) in &part_ns {
        println!("  {:<40} {:>9.1} ns", part.label(), ns);
    }
    println!();
    println!(
        "{:<14} {:<9} {:>10} {:>10} {:>7}  op; floor counted as",
        "workload", "runtime", "ns/op", "floor ns", "ratio"
    );
    for floor in FLOORS {
        let Some(workload) = workloads.iter().find(|w| w.name == floor.workload) else {
            continue;
        };
        let outcome = harness::measure(workload, flavours, runs, scale);
        let ops = (floor.ops)(scale) as f64;
        for result in &outcome.results {
            let floor_ns = floor_ns(floor, &part_ns);
            match &result.outcome {
                Ok(stats) => {
                    let ns_per_op = stats.median * 1e6 / ops;
                    println!(
                        "{:<14} {:<9} {:>10.1} {:>10.1} {:>7.1}  {}; {}",
                        floor.workload,
                        result.flavour.label(),
                        ns_per_op,
                        floor_ns,
                        ns_per_op / floor_ns,
                        floor.op,
                        floor.why
                    );
                }
                Err(message) => println!(
                    "{:<14} {:<9} failed: {message}",
                    floor.workload,
                    result.flavour.label()
                ),
            }
        }
    }
}
