//! A lost wakeup: a worker finds its mailbox empty, awaits a log write,
//! then clears the "work available" `Event` and waits on it. If the
//! producer posts the last message and sets the event during that log
//! write, the `clear` erases the only wakeup and the worker sleeps forever:
//! the run ends in a deadlock.
//!
//! Found by the default explore at seed 3 (of 1,000) when written;
//! 32 of the first 100 seeds fail. The fix
//! clears the event *before* looking at the mailbox, so a set that lands
//! after the look is kept.

use crate::{find_and_replay, round_trip};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use weft::sync::Event;

/// The message that tells the worker to stop.
const STOP: u32 = u32::MAX;

#[derive(Default)]
struct Mailbox {
    messages: Mutex<VecDeque<u32>>,
    work_available: Event,
}

impl Mailbox {
    fn post(&self, message: u32) {
        self.messages.lock().unwrap().push_back(message);
        self.work_available.set();
    }

    fn take(&self) -> Option<u32> {
        self.messages.lock().unwrap().pop_front()
    }
}

async fn worker_buggy(mailbox: Arc<Mailbox>) -> u32 {
    let mut handled = 0;
    loop {
        match mailbox.take() {
            Some(STOP) => return handled,
            Some(_) => handled += 1,
            None => {
                round_trip().await; // log "idle"
                mailbox.work_available.clear();
                mailbox.work_available.wait().await;
            }
        }
    }
}

async fn worker_fixed(mailbox: Arc<Mailbox>) -> u32 {
    let mut handled = 0;
    loop {
        mailbox.work_available.clear();
        match mailbox.take() {
            Some(STOP) => return handled,
            Some(_) => handled += 1,
            None => {
                round_trip().await; // log "idle"
                mailbox.work_available.wait().await;
            }
        }
    }
}

async fn post_three_then_stop<Fut>(worker: fn(Arc<Mailbox>) -> Fut)
where
    Fut: std::future::Future<Output = u32> + Send + 'static,
{
    let mailbox = Arc::new(Mailbox::default());
    let handle = weft::spawn(worker(mailbox.clone()));
    for message in 0..3 {
        round_trip().await;
        mailbox.post(message);
    }
    mailbox.post(STOP);
    assert_eq!(handle.await.unwrap(), 3);
}

/// Explore finds the worker asleep with its stop message unread.
#[test]
fn explore_finds_the_lost_wakeup() {
    let found = find_and_replay(|| post_three_then_stop(worker_buggy), "deadlock");
    assert!(
        !found.dump().tasks().is_empty(),
        "the dump shows the stuck worker:\n{found}"
    );
}

/// Clearing before looking keeps every wakeup.
#[weft::test(explore = 500)]
async fn clearing_before_looking_keeps_the_wakeup() {
    post_three_then_stop(worker_fixed).await;
}
