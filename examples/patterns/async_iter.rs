//! async_iter: a paginated API consumed page by page (`async for` over an
//! async generator).
//!
//! Rust's async iterator is the `Stream` trait (`weft::stream::Stream`).
//! Rust has no `yield` in async code yet, so the generator is written one of
//! two ways, both shown here:
//! - `weft::stream::unfold(state, step)`: an async step function that
//!   returns the next item and the next state (`pages_generator`); the
//!   closest thing to `async def ... yield`;
//! - a type implementing `Stream::poll_next` by hand (`Pages`), which shows
//!   what `unfold` does underneath: start the next page's fetch when asked,
//!   yield the page when it arrives.
//!
//! Either way only one page is in memory at a time. `while let Some(page) =
//! pages.next().await` is the `async for` loop, and `StreamExt` adds `map`,
//! `filter`, `take` and `collect`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use weft::stream::{Stream, StreamExt};
use weft::time::sleep;

/// Simulated latency of one page request.
const PAGE_LATENCY: Duration = Duration::from_millis(40);
/// Items on each page.
const ITEMS_PER_PAGE: usize = 5;

/// One page of results.
#[derive(Debug)]
struct Page {
    number: u32,
    items: Vec<String>,
}

async fn fetch_page(url: &'static str, number: u32) -> Page {
    sleep(PAGE_LATENCY).await;
    let _ = url; // a real client would request `{url}?page={number}`
    Page {
        number,
        items: (0..ITEMS_PER_PAGE)
            .map(|i| format!("item_{number}_{i}"))
            .collect(),
    }
}

/// The async generator: yields pages 1..=max_pages, fetching lazily.
struct Pages {
    url: &'static str,
    next_page: u32,
    max_pages: u32,
    in_flight: Option<Pin<Box<dyn Future<Output = Page> + Send>>>,
}

fn fetch_pages(url: &'static str, max_pages: u32) -> Pages {
    Pages {
        url,
        next_page: 1,
        max_pages,
        in_flight: None,
    }
}

impl Stream for Pages {
    type Item = Page;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Page>> {
        if self.in_flight.is_none() {
            if self.next_page > self.max_pages {
                return Poll::Ready(None); // the generator returned
            }
            let request = fetch_page(self.url, self.next_page);
            self.in_flight = Some(Box::pin(request));
            self.next_page += 1;
        }
        let request = self.in_flight.as_mut().expect("a request is in flight");
        let page = std::task::ready!(request.as_mut().poll(cx));
        self.in_flight = None;
        Poll::Ready(Some(page))
    }
}

/// The same generator as an async step function: `state` is the next page
/// number; returning `None` ends the stream.
fn pages_generator(url: &'static str, max_pages: u32) -> impl Stream<Item = Page> + Unpin {
    weft::stream::unfold(1, move |number| async move {
        if number > max_pages {
            return None;
        }
        Some((fetch_page(url, number).await, number + 1))
    })
}

/// Walks five pages one by one, then pipes a stream through StreamExt.
pub async fn run() -> String {
    let mut pages = fetch_pages("https://api.example.com", 5);
    let mut items = 0;
    while let Some(page) = pages.next().await {
        items += page.items.len();
        println!(
            "  processing page {} ({} items, first {:?})",
            page.number,
            page.items.len(),
            page.items[0]
        );
    }
    let even_pages: Vec<u32> = pages_generator("https://api.example.com", 10)
        .filter(|page| page.number % 2 == 0)
        .map(|page| page.number)
        .take(2)
        .collect()
        .await;
    println!("  unfold generator through filter/map/take(2), stopped after page 4: {even_pages:?}");
    format!("streamed 5 pages ({items} items) lazily; take(2) fetched only what it needed")
}
