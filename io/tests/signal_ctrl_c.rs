//! `signal::ctrl_c` completes when the process receives SIGINT. Its own
//! test binary: installing the handler changes SIGINT for the whole process.

mod common;

use std::task::Poll;

use common::{poll_once, Executor};

/// Two waiters both complete on one SIGINT sent after they started; a
/// SIGINT before a call does not complete it.
#[test]
fn ctrl_c_completes_for_every_waiter_on_sigint() {
    let mut executor = Executor::new();
    executor.block_on(async {
        let mut first = Box::pin(weft_io::signal::ctrl_c());
        let mut second = Box::pin(weft_io::signal::ctrl_c());
        assert!(poll_once(&mut first).await.is_pending());
        assert!(poll_once(&mut second).await.is_pending());
        // SAFETY: raise only sends a signal to this process; the handler
        // was installed by the ctrl_c calls above.
        assert_eq!(unsafe { libc::raise(libc::SIGINT) }, 0);
        first.await.unwrap();
        second.await.unwrap();

        let mut late = Box::pin(weft_io::signal::ctrl_c());
        assert!(
            matches!(poll_once(&mut late).await, Poll::Pending),
            "an earlier SIGINT must not complete a later call"
        );
        // SAFETY: as above.
        assert_eq!(unsafe { libc::raise(libc::SIGINT) }, 0);
        late.await.unwrap();
    });
}
