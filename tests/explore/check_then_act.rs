//! Check-then-act on a shared map across an `await`: two sign-ups for the
//! same user name both see it free, both await the e-mail check, and both
//! insert, so one account silently replaces the other.
//!
//! Found by the default explore at seed 1 (of 1,000) when written;
//! 45 of the first 100 seeds fail. The fix does the
//! check and the insert in one step after the await.

use crate::{find_and_replay, round_trip};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Users = Arc<Mutex<HashMap<String, u32>>>;

#[derive(Debug, PartialEq)]
struct NameTaken;

async fn register_buggy(users: Users, name: &str, id: u32) -> Result<(), NameTaken> {
    if users.lock().unwrap().contains_key(name) {
        return Err(NameTaken);
    }
    round_trip().await; // validate the e-mail address
    users.lock().unwrap().insert(name.to_owned(), id);
    Ok(())
}

async fn register_fixed(users: Users, name: &str, id: u32) -> Result<(), NameTaken> {
    round_trip().await; // validate the e-mail address
    let mut users = users.lock().unwrap();
    if users.contains_key(name) {
        return Err(NameTaken);
    }
    users.insert(name.to_owned(), id);
    Ok(())
}

async fn two_sign_ups<F, Fut>(register: F)
where
    F: Fn(Users, &'static str, u32) -> Fut,
    Fut: std::future::Future<Output = Result<(), NameTaken>> + Send + 'static,
{
    let users = Users::default();
    let first = weft::spawn(register(users.clone(), "ada", 1));
    let second = weft::spawn(register(users.clone(), "ada", 2));
    let accepted = [first.await.unwrap(), second.await.unwrap()]
        .iter()
        .filter(|result| result.is_ok())
        .count();
    assert_eq!(accepted, 1, "two accounts were created for one name");
}

/// Explore finds the double registration and its seed replays it.
#[test]
fn explore_finds_the_double_registration() {
    find_and_replay(
        || two_sign_ups(register_buggy),
        "two accounts were created for one name",
    );
}

/// With the check and the insert in one step, every schedule is correct.
#[weft::test(explore = 500)]
async fn checking_and_inserting_together_is_correct() {
    two_sign_ups(register_fixed).await;
}
