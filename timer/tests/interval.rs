//! Behaviour of `Interval` with a paused clock: the first tick is immediate,
//! ticks follow the period, and each `MissedTickBehavior` recovers from a
//! stall the way tokio users expect.

mod common;

use std::pin::Pin;
use std::time::Duration;

use common::TestRuntime;
use futures_core::Stream;
use weft_timer::{advance, interval, interval_at, Instant, MissedTickBehavior};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Runs an interval of 10 ms that stalls for 35 ms after its first tick, and
/// returns (scheduled, observed) offsets in ms for the first six ticks.
fn ticks_after_a_stall(behavior: MissedTickBehavior) -> Vec<(u64, u64)> {
    let rt = TestRuntime::paused();
    rt.block_on(async move {
        let start = Instant::now();
        let mut interval = interval(ms(10));
        interval.set_missed_tick_behavior(behavior);
        assert_eq!(interval.missed_tick_behavior(), behavior);
        let mut seen = Vec::new();
        for n in 0..6 {
            let scheduled = interval.tick().await;
            seen.push((
                (scheduled - start).as_millis() as u64,
                start.elapsed().as_millis() as u64,
            ));
            if n == 0 {
                advance(ms(35)).await;
            }
        }
        seen
    })
}

/// Burst fires the missed ticks back to back, then keeps the schedule.
#[test]
fn burst_catches_up_with_missed_ticks_back_to_back() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Burst),
        [(0, 0), (10, 35), (20, 35), (30, 35), (40, 40), (50, 50)]
    );
}

/// Delay fires once, then restarts the period from that moment.
#[test]
fn delay_restarts_the_period_from_the_late_tick() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Delay),
        [(0, 0), (10, 35), (45, 45), (55, 55), (65, 65), (75, 75)]
    );
}

/// Skip fires once, then continues on the original grid.
#[test]
fn skip_drops_missed_ticks_and_keeps_the_grid() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Skip),
        [(0, 0), (10, 35), (40, 40), (50, 50), (60, 60), (70, 70)]
    );
}

/// Without stalls the first tick is immediate and the rest are one period
/// apart, exactly, on the paused clock.
#[test]
fn the_first_tick_is_immediate_and_the_rest_follow_the_period() {
    let rt = TestRuntime::paused();
    let offsets = rt.block_on(async {
        let start = Instant::now();
        let mut interval = interval(ms(250));
        let mut offsets = Vec::new();
        for _ in 0..4 {
            interval.tick().await;
            offsets.push(start.elapsed());
        }
        offsets
    });
    assert_eq!(offsets, [ms(0), ms(250), ms(500), ms(750)]);
}

/// `interval_at` starts at the given instant; `reset` restarts the period
/// from now.
#[test]
fn interval_at_starts_later_and_reset_restarts_from_now() {
    let rt = TestRuntime::paused();
    let offsets = rt.block_on(async {
        let start = Instant::now();
        let mut interval = interval_at(start + ms(100), ms(10));
        let mut offsets = vec![(interval.tick().await - start).as_millis()];
        advance(ms(3)).await;
        interval.reset();
        offsets.push((interval.tick().await - start).as_millis());
        interval.reset_immediately();
        offsets.push((interval.tick().await - start).as_millis());
        interval.reset_after(ms(1));
        offsets.push((interval.tick().await - start).as_millis());
        offsets
    });
    assert_eq!(offsets, [100, 113, 113, 114]);
}

/// `Interval` is a `Stream` of instants that never ends.
#[test]
fn interval_is_an_endless_stream_of_instants() {
    let rt = TestRuntime::paused();
    let items = rt.block_on(async {
        let start = Instant::now();
        let mut interval = interval(ms(5));
        assert_eq!(interval.size_hint(), (usize::MAX, None));
        let mut items = Vec::new();
        for _ in 0..3 {
            let item = std::future::poll_fn(|cx| Pin::new(&mut interval).poll_next(cx)).await;
            items.push(item.map(|at| (at - start).as_millis()));
        }
        items
    });
    assert_eq!(items, [Some(0), Some(5), Some(10)]);
}

/// A zero period is refused with a message.
#[test]
#[should_panic(expected = "weft::time::interval called with a zero period")]
fn a_zero_period_panics_with_a_message() {
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let _ = interval(Duration::ZERO);
}
