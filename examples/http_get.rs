//! A tiny HTTP/1.1 client on `TcpStream`, fetching pages from a tiny HTTP
//! server started in the same example.
//!
//! What it shows: a line-based protocol over a socket with
//! `weft::io::BufReader` (`read_line` for the status line and headers,
//! `read_exact` for a body of known length), writing a request with
//! `write_all`, and a server that answers each connection in its own task.
//! Only what the example needs of HTTP: `GET`, `Content-Length` bodies,
//! `Connection: close`.
//!
//! How to run: `cargo run --example http_get` fetches three paths (one of
//! them missing) from its own server on loopback, prints each status,
//! header count and body, then the total time.
//!
//! What to read next: `io/src/io/buf_read.rs` (how `read_line` moves bytes
//! out of the buffer), `examples/echo_client.rs` (many connections at once).

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use weft::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use weft::net::{TcpListener, TcpStream};

/// The paths the client fetches; the server knows the first two.
const PATHS: [&str; 3] = ["/", "/hello", "/missing"];
/// The largest header section either side accepts, against runaway peers.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// A parsed response.
struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn main() -> io::Result<()> {
    weft::run(async {
        let started = Instant::now();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = weft::spawn(serve(listener, PATHS.len()));
        println!("tiny HTTP server on http://{addr}");

        for path in PATHS {
            let response = get(addr, path).await?;
            println!(
                "GET {path} -> {} {} ({} headers): {:?}",
                response.status,
                response.reason,
                response.headers.len(),
                String::from_utf8_lossy(&response.body)
            );
        }
        server.await.expect("server task panicked")?;
        println!("fetched {} pages in {:?}", PATHS.len(), started.elapsed());
        Ok(())
    })
}

/// Fetches `path` from the server at `addr`.
async fn get(addr: SocketAddr, path: &str) -> io::Result<Response> {
    let mut stream = BufReader::new(TcpStream::connect(addr).await?);
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;

    let status_line = read_header_line(&mut stream).await?;
    let mut parts = status_line.splitn(3, ' ');
    let (version, status, reason) = (parts.next(), parts.next(), parts.next());
    if version != Some("HTTP/1.1") {
        return Err(invalid(format!(
            "expected an HTTP/1.1 status line, got {status_line:?}"
        )));
    }
    let status = status
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("bad status code in {status_line:?}")))?;

    let headers = read_headers(&mut stream).await?;
    let length: usize = header(&headers, "content-length")
        .ok_or_else(|| invalid("the response has no Content-Length".into()))?
        .parse()
        .map_err(|_| invalid("Content-Length is not a number".into()))?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(Response {
        status,
        reason: reason.unwrap_or("").to_string(),
        headers,
        body,
    })
}

/// Serves `requests` connections, one request each, each in its own task.
async fn serve(listener: TcpListener, requests: usize) -> io::Result<()> {
    let mut handlers = Vec::new();
    for _ in 0..requests {
        let (stream, _) = listener.accept().await?;
        handlers.push(weft::spawn(respond(stream)));
    }
    for handler in handlers {
        handler.await.expect("handler panicked")?;
    }
    Ok(())
}

/// Reads one request and answers it.
async fn respond(stream: TcpStream) -> io::Result<()> {
    let mut stream = BufReader::new(stream);
    let request_line = read_header_line(&mut stream).await?;
    let _headers = read_headers(&mut stream).await?;
    let path = request_line.split(' ').nth(1).unwrap_or("");
    let (status, body) = match path {
        "/" => ("200 OK", "hello from weft\n".to_string()),
        "/hello" => ("200 OK", format!("you asked for {path}\n")),
        _ => ("404 Not Found", format!("no page at {path}\n")),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.close().await
}

/// Reads one CRLF-terminated line, without the CRLF.
async fn read_header_line(stream: &mut BufReader<TcpStream>) -> io::Result<String> {
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-header",
        ));
    }
    if line.len() > MAX_HEADER_BYTES {
        return Err(invalid(format!(
            "header line longer than {MAX_HEADER_BYTES} bytes"
        )));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Reads `Name: value` lines up to the blank line.
async fn read_headers(stream: &mut BufReader<TcpStream>) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    let mut total = 0;
    loop {
        let line = read_header_line(stream).await?;
        total += line.len();
        if line.is_empty() {
            return Ok(headers);
        }
        if total > MAX_HEADER_BYTES {
            return Err(invalid(format!(
                "headers longer than {MAX_HEADER_BYTES} bytes"
            )));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("header without a colon: {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

/// The value of header `name` (case-insensitive).
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
