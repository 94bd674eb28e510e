//! A WebSocket echo server and its clients, with async-tungstenite over
//! weft's futures-io sockets.
//!
//! What it shows: async-tungstenite speaks futures-io's
//! `AsyncRead`/`AsyncWrite`, which weft's `TcpStream` implements, so the
//! handshake (`accept_async`, `client_async`) and the message stream run
//! on weft with no adapter and no feature flag. Messages arrive through
//! `weft::stream::StreamExt::next`; each text or binary message is sent
//! back, a close frame ends the conversation. Clients that reset their
//! connection mid-conversation are counted as failed connections and the
//! server keeps serving.
//!
//! How to run: `cargo run --example websocket_echo` (a server and its demo
//! clients in one process; prints what happened and exits).
//!
//! What to read next: `examples/tls_echo.rs` (a library written against
//! tokio's traits instead), `examples/echo_server.rs` (the same shape over
//! raw TCP).

#[path = "support/reset.rs"]
mod reset;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_tungstenite::tungstenite::{self, Message};
use async_tungstenite::WebSocketStream;
use weft::net::{TcpListener, TcpStream};
use weft::stream::StreamExt;

/// Well-behaved clients: each echoes its messages, then closes.
const CLIENTS: usize = 10;
/// Clients that reset their connection after one echo.
const RESETTING_CLIENTS: usize = 3;
/// Messages each well-behaved client sends.
const MESSAGES: usize = 5;

/// What the server counts.
#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    messages: AtomicUsize,
    failed: AtomicUsize,
}

fn main() -> io::Result<()> {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("WebSocket echo server on ws://{addr}/");
        let stats = Arc::new(Stats::default());
        let expected = CLIENTS + RESETTING_CLIENTS;
        let server = weft::spawn(serve(listener, expected, Arc::clone(&stats)));

        let good = (0..CLIENTS).map(|id| client(addr, id));
        let resetting = (0..RESETTING_CLIENTS).map(|_| resetting_client(addr));
        let (good, resetting) = weft::join!(weft::gather(good), weft::gather(resetting));
        for result in good.into_iter().chain(resetting) {
            result.map_err(io::Error::other)?;
        }
        server.await.expect("the server does not panic");

        println!(
            "{} WebSocket connections, {} messages echoed; {} connections failed (reset by their client), the server kept serving",
            stats.connections.load(Ordering::SeqCst),
            stats.messages.load(Ordering::SeqCst),
            stats.failed.load(Ordering::SeqCst),
        );
        Ok(())
    })
}

/// Accepts `connections` connections, each echoed by its own task; a
/// connection's failure is counted, never returned.
async fn serve(listener: TcpListener, connections: usize, stats: Arc<Stats>) {
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                println!("  accept failed: {error}");
                continue;
            }
        };
        stats.connections.fetch_add(1, Ordering::SeqCst);
        let stats = Arc::clone(&stats);
        tasks.push(weft::spawn(async move {
            if let Err(error) = echo(stream, &stats).await {
                stats.failed.fetch_add(1, Ordering::SeqCst);
                println!("  connection failed: {error}");
            }
        }));
    }
    for task in tasks {
        task.await.expect("connection tasks do not panic");
    }
}

/// The WebSocket handshake, then every data message goes back until the
/// client closes.
async fn echo(stream: TcpStream, stats: &Stats) -> Result<(), tungstenite::Error> {
    let mut socket = async_tungstenite::accept_async(stream).await?;
    while let Some(message) = socket.next().await {
        // Pings are answered by tungstenite itself; a close frame ends the
        // stream after tungstenite has replied to it.
        let message = message?;
        if message.is_text() || message.is_binary() {
            stats.messages.fetch_add(1, Ordering::SeqCst);
            socket.send(message).await?;
        }
    }
    Ok(())
}

/// Connects and performs the client side of the handshake.
async fn connect(addr: SocketAddr) -> Result<WebSocketStream<TcpStream>, tungstenite::Error> {
    let stream = TcpStream::connect(addr).await?;
    let (socket, _response) =
        async_tungstenite::client_async(format!("ws://{addr}/echo"), stream).await?;
    Ok(socket)
}

/// Sends its messages, checks every echo, and closes.
async fn client(addr: SocketAddr, id: usize) -> Result<(), tungstenite::Error> {
    let mut socket = connect(addr).await?;
    for n in 0..MESSAGES {
        let text = format!("client {id} message {n}");
        socket.send(Message::text(text.clone())).await?;
        match socket.next().await {
            Some(Ok(Message::Text(echoed))) => assert_eq!(echoed.as_str(), text),
            other => panic!("client {id}: expected the echo of {text:?}, got {other:?}"),
        }
    }
    socket.close(None).await?;
    // Read until the server's answering close frame ends the stream.
    while let Some(message) = socket.next().await {
        message?;
    }
    Ok(())
}

/// One echo, then a reset in the middle of the conversation.
async fn resetting_client(addr: SocketAddr) -> Result<(), tungstenite::Error> {
    let mut socket = connect(addr).await?;
    socket.send(Message::text("about to vanish")).await?;
    socket.next().await.transpose()?;
    reset::reset_on_drop(socket.get_ref())?;
    drop(socket);
    Ok(())
}
