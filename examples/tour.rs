//! The weft tour: every asyncio pattern, live. Grows as the runtime lands.
fn main() {
    println!("weft tour: the runtime core is still being built (issue 2)");
}
