//! Summary: loom models of what keeps a busy worker from holding others
//! up: the drivers hand-over (`park::HandOff`, PARK-3) and the LIFO slot's
//! rescue (`scheduler::lifo`, LIFO-1).
//!
//! Role: run with
//! `RUSTFLAGS="--cfg loom" cargo test -p weft-runtime --release --lib loom`.
//!
//! Design: the hand-over model races a holder leaving the drivers (to poll
//! a task that will keep its worker busy) against a thread that finds them
//! taken and is about to sleep; the drivers lock is a loom mutex taken with
//! `try_lock`, as `DriverLock::try_lock` is. The LIFO model races the owner
//! refilling and emptying its slot against a rescuer taking from it, with
//! real tasks (the blocking pool's scheduler, which needs no runtime).
//!
//! Invariants checked: PARK-3 (never unattended drivers with an untimed
//! waiter asleep), LIFO-1 (each queued task taken exactly once).
//!
//! Concurrency: models only.

use crate::blocking::BlockingSchedule;
use crate::park::HandOff;
use crate::scheduler::lifo::LifoSlot;
use crate::task::{new_task, Id};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// As in `loom_sleepers.rs`: the races are a few steps on two threads.
const PREEMPTION_BOUND: usize = 3;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTION_BOUND);
    builder.check(f);
}

/// A worker leaves the drivers to run a task that will keep it busy,
/// while another finds them taken and goes to sleep on its condvar: the
/// sleeper either gets the drivers on its second look (W3) or is woken by
/// the leaving holder (H4), so it never sleeps with the drivers free.
#[test]
fn loom_driver_takeover_while_a_worker_is_busy() {
    model(|| {
        let drivers = Arc::new(Mutex::new(()));
        let waiters = Arc::new(HandOff::<usize>::new());
        let holder = {
            let (drivers, waiters) = (drivers.clone(), waiters.clone());
            thread::spawn(move || {
                let held = drivers.lock().unwrap();
                drop(held); // H1: off to poll a long task
                waiters.take_after_release() // H2..H4
            })
        };
        const ME: usize = 7;
        let took_drivers = match drivers.try_lock() {
            Ok(_) => true,
            Err(_) => {
                waiters.register(ME, false); // W1, W2
                match drivers.try_lock() {
                    // W3
                    Ok(_) => {
                        waiters.unregister(|&waiter| waiter == ME);
                        true
                    }
                    Err(_) => false, // W4: would sleep on the condvar
                }
            }
        };
        let woken = holder.join().unwrap();
        assert!(
            took_drivers || woken == Some(ME),
            "PARK-3: a waiter sleeps while the drivers are unattended"
        );
    });
}

/// A waiter that slept with a timeout (the runtime was busy) is not the one
/// a leaving holder wakes: it comes back by itself; an untimed waiter
/// registered beside it still gets the drivers or the wake (PARK-3).
#[test]
fn loom_leaving_holder_wakes_only_an_untimed_waiter() {
    model(|| {
        let drivers = Arc::new(Mutex::new(()));
        let waiters = Arc::new(HandOff::<usize>::new());
        const TIMED: usize = 3;
        const UNTIMED: usize = 7;
        let held = drivers.lock().unwrap();
        waiters.register(TIMED, true);
        drop(held);
        let holder = {
            let (drivers, waiters) = (drivers.clone(), waiters.clone());
            thread::spawn(move || {
                let held = drivers.lock().unwrap();
                drop(held);
                waiters.take_after_release()
            })
        };
        let took_drivers = match drivers.try_lock() {
            Ok(_) => true,
            Err(_) => {
                waiters.register(UNTIMED, false);
                match drivers.try_lock() {
                    Ok(_) => {
                        waiters.unregister(|&waiter| waiter == UNTIMED);
                        true
                    }
                    Err(_) => false,
                }
            }
        };
        let woken = holder.join().unwrap();
        assert_ne!(woken, Some(TIMED), "a timed waiter was woken");
        assert!(
            took_drivers || woken == Some(UNTIMED),
            "PARK-3: an untimed waiter sleeps while the drivers are unattended"
        );
    });
}

/// The owner displaces and takes its LIFO task while a rescuer takes from
/// the slot: each task ends with exactly one of them (LIFO-1).
#[test]
fn loom_lifo_slot_owner_races_rescuer() {
    model(|| {
        let slot = Arc::new(LifoSlot::<BlockingSchedule>::new());
        let (first_task, first, first_join) = new_task(async {}, BlockingSchedule, Id::next());
        let (second_task, second, second_join) = new_task(async {}, BlockingSchedule, Id::next());
        let mut ids = [first.header().id, second.header().id];
        ids.sort();
        assert!(slot.replace(first).is_none());
        let rescuer = {
            let slot = slot.clone();
            thread::spawn(move || slot.take().map(|task| task.header().id))
        };
        let displaced = slot.replace(second).map(|task| task.header().id);
        let taken = slot.take().map(|task| task.header().id);
        let rescued = rescuer.join().unwrap();
        let mut got: Vec<Id> = [displaced, taken, rescued].into_iter().flatten().collect();
        got.sort();
        assert_eq!(got, ids.to_vec(), "LIFO-1: a task lost or taken twice");
        assert!(slot.take().is_none());
        drop((first_task, first_join, second_task, second_join));
    });
}
