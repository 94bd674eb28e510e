//! A hyper 1.x HTTP/1 server on weft or on tokio, for `wrk` (issue 7).
//!
//! ```text
//! weft-hyper-bench weft  127.0.0.1:8081 [workers]   # hyper on weft, multi-thread
//! weft-hyper-bench tokio 127.0.0.1:8082 [workers]   # the same server on tokio
//! ```
//!
//! Both servers answer every request with the same 13-byte body, one task per
//! connection, keep-alive on. The process serves until it is killed;
//! `scripts/bench-hyper.sh` starts each in turn, drives it with `wrk` and
//! prints requests/s and p99 latency side by side.
//!
//! hyper does not know about any runtime: it asks for three things through
//! its `rt` traits, and [`weft_rt`] implements them over weft in a few lines:
//! - `hyper::rt::Read` / `Write` on the connection ([`weft_rt::Io`], over
//!   weft's futures-io `AsyncRead`/`AsyncWrite`),
//! - `hyper::rt::Timer` for header-read timeouts ([`weft_rt::WeftTimer`],
//!   over `weft::time::sleep`),
//! - an executor would be needed only for HTTP/2; HTTP/1 runs the connection
//!   inside the task that serves it.
//!
//! The tokio side uses hyper-util's ready-made `TokioIo` and `TokioTimer`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

/// The response body every request gets.
const BODY: &[u8] = b"Hello, world!";

/// Worker threads unless the command line says otherwise (the machine has 2 cores).
const DEFAULT_WORKERS: usize = 2;

async fn hello(
    _request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// hyper's runtime traits implemented over weft.
mod weft_rt {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::{Duration, Instant};

    use weft::io::{AsyncRead, AsyncWrite};

    /// A weft stream seen through hyper's `Read`/`Write` traits.
    pub struct Io<S>(pub S);

    impl<S: AsyncRead + Unpin> hyper::rt::Read for Io<S> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: hyper::rt::ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            // hyper hands out possibly uninitialised memory; futures-io wants
            // an initialised `&mut [u8]`, so read into a zeroed stack buffer
            // and copy. That keeps the adapter free of `unsafe`, at the cost
            // of zeroing 8 KiB per read that tokio's `TokioIo` avoids (it
            // reads into hyper's buffer directly, with `unsafe`): a handicap
            // for weft of well under a microsecond per request.
            let mut chunk = [0u8; 8192];
            let wanted = buf.remaining().min(chunk.len());
            match Pin::new(&mut self.0).poll_read(cx, &mut chunk[..wanted]) {
                Poll::Ready(Ok(read)) => {
                    buf.put_slice(&chunk[..read]);
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                Poll::Pending => Poll::Pending,
            }
        }
    }

    impl<S: AsyncWrite + Unpin> hyper::rt::Write for Io<S> {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_close(cx)
        }
    }

    /// hyper's timer over `weft::time::sleep`.
    #[derive(Clone, Copy, Debug)]
    pub struct WeftTimer;

    /// A weft `Sleep` seen as hyper's `Sleep`.
    struct WeftSleep(Pin<Box<weft::time::Sleep>>);

    impl Future for WeftSleep {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.0.as_mut().poll(cx)
        }
    }

    impl hyper::rt::Sleep for WeftSleep {}

    impl hyper::rt::Timer for WeftTimer {
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
            Box::pin(WeftSleep(Box::pin(weft::time::sleep(duration))))
        }

        fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
            self.sleep(deadline.saturating_duration_since(Instant::now()))
        }
    }
}

async fn serve_weft(addr: SocketAddr) {
    let listener = weft::net::TcpListener::bind(addr)
        .await
        .expect("binding the weft server");
    eprintln!(
        "weft-hyper-bench: weft serving on {}",
        listener.local_addr().expect("local address")
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        drop(weft::spawn(async move {
            let _ = http1::Builder::new()
                .timer(weft_rt::WeftTimer)
                .serve_connection(weft_rt::Io(stream), service_fn(hello))
                .await;
        }));
    }
}

async fn serve_tokio(addr: SocketAddr) {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("binding the tokio server");
    eprintln!(
        "weft-hyper-bench: tokio serving on {}",
        listener.local_addr().expect("local address")
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: weft-hyper-bench weft|tokio ADDR [workers]";
    if args.len() < 3 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let addr: SocketAddr = args[2].parse().unwrap_or_else(|_| {
        eprintln!(
            "weft-hyper-bench: {:?} is not a socket address like 127.0.0.1:8081",
            args[2]
        );
        std::process::exit(2);
    });
    let workers = match args.get(3) {
        Some(text) => text.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| {
            eprintln!("weft-hyper-bench: workers must be a positive number, got {text:?}");
            std::process::exit(2);
        }),
        None => DEFAULT_WORKERS,
    };
    match args[1].as_str() {
        "weft" => weft::Builder::new_multi_thread()
            .worker_threads(workers)
            .build()
            .expect("building weft's runtime")
            .block_on(serve_weft(addr)),
        "tokio" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("building tokio's runtime")
            .block_on(serve_tokio(addr)),
        other => {
            eprintln!("weft-hyper-bench: unknown runtime {other:?}\n{usage}");
            std::process::exit(2);
        }
    }
}
