//! Unix-domain sockets: a line echo server on a socket file, several
//! clients, and a datagram pair.
//!
//! What it shows: `weft::net::UnixListener`/`UnixStream` (the same
//! `AsyncRead`/`AsyncWrite` API as TCP, without the network stack),
//! `BufReader::lines` as a stream of lines, and `UnixDatagram::pair` for
//! message passing between two ends in one process.
//!
//! How to run: `cargo run --example unix_echo` creates a socket file in the
//! temp directory, runs 4 clients of 10 lines each, prints the echoes and
//! the time taken, and removes the file.
//!
//! What to read next: `io/src/net/unix.rs`, then `io/src/io/buf_read.rs`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use weft::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use weft::net::{UnixDatagram, UnixListener, UnixStream};
use weft::stream::StreamExt;

/// Clients connecting to the stream server.
const CLIENTS: usize = 4;
/// Lines each client sends.
const LINES_PER_CLIENT: usize = 10;

fn main() -> io::Result<()> {
    let path: PathBuf =
        std::env::temp_dir().join(format!("weft-unix-echo-{}.sock", std::process::id()));
    let result = weft::run(run(&path));
    // Remove the socket file even if the run failed.
    let _ = std::fs::remove_file(&path);
    result
}

async fn run(path: &Path) -> io::Result<()> {
    let started = Instant::now();
    let listener = UnixListener::bind(path).await?;
    println!("echo server on {}", path.display());
    let server = weft::spawn(async move {
        let mut handlers = Vec::new();
        for _ in 0..CLIENTS {
            let (stream, _) = listener.accept().await?;
            handlers.push(weft::spawn(echo_lines(stream)));
        }
        for handler in handlers {
            handler.await.expect("echo task panicked")?;
        }
        Ok::<(), io::Error>(())
    });

    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| weft::spawn(client(path.to_path_buf(), id)))
        .collect();
    for client in clients {
        let last = client.await.expect("client panicked")?;
        println!("{last}");
    }
    server.await.expect("server panicked")?;

    let (left, right) = UnixDatagram::pair()?;
    left.send(b"one datagram").await?;
    let mut buf = [0u8; 64];
    let n = right.recv(&mut buf).await?;
    println!(
        "datagram pair carried {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    println!("done in {:?}", started.elapsed());
    Ok(())
}

/// Echoes each line back until the client closes.
async fn echo_lines(stream: UnixStream) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while reader.read_line(&mut line).await? > 0 {
        reader.write_all(line.as_bytes()).await?;
        line.clear();
    }
    Ok(())
}

/// Sends its lines, half-closes, then reads every echo as a stream of
/// lines; returns the last one.
async fn client(path: PathBuf, id: usize) -> io::Result<String> {
    let mut stream = UnixStream::connect(&path).await?;
    for n in 0..LINES_PER_CLIENT {
        stream
            .write_all(format!("client {id} line {n}\n").as_bytes())
            .await?;
    }
    stream.close().await?;
    let mut lines = BufReader::new(stream).lines();
    let mut last = String::new();
    let mut count = 0;
    while let Some(line) = lines.next().await {
        last = line?;
        count += 1;
    }
    assert_eq!(count, LINES_PER_CLIENT, "client {id} lost lines");
    Ok(last)
}
