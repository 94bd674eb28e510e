//! A TLS echo server and its clients, with tokio-rustls running on weft's
//! sockets through tokio's I/O traits, on a certificate generated at start.
//!
//! What it shows: rcgen makes a self-signed certificate for `localhost` in
//! memory (no files); rustls (with the `ring` crypto provider) builds the
//! server and client configurations, the client trusting exactly that
//! certificate; tokio-rustls's `TlsAcceptor`/`TlsConnector` wrap weft's
//! `TcpStream`, which implements tokio's `AsyncRead`/`AsyncWrite` under
//! weft's `tokio-io` feature (the tokio crate with no runtime feature: no
//! tokio runtime, reactor or thread exists in this process). Clients that
//! reset their connection mid-stream are counted as failed connections
//! and the server keeps serving.
//!
//! How to run: `cargo run --example tls_echo` (a server and its demo
//! clients in one process; prints what happened and exits). In your own
//! crate: `weft = { ..., features = ["tokio-io"] }`, `tokio-rustls`, and
//! tokio's `io-util` feature for the `AsyncReadExt`/`AsyncWriteExt`
//! helpers used here.
//!
//! What to read next: `examples/websocket_echo.rs` (a protocol over
//! futures-io instead), `io/src/net/tokio_io.rs` (the trait impls).

#[path = "support/reset.rs"]
mod reset;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use weft::net::{TcpListener, TcpStream};

/// Well-behaved clients: each echoes its messages, then closes cleanly.
const CLIENTS: usize = 10;
/// Clients that reset their connection after one echo.
const RESETTING_CLIENTS: usize = 3;
/// Messages each well-behaved client sends.
const MESSAGES: usize = 5;

/// What the server counts.
#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    echoed_bytes: AtomicUsize,
    failed: AtomicUsize,
}

fn main() -> io::Result<()> {
    let (server_config, client_config) = configs()?;
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("TLS echo server on {addr} (certificate for \"localhost\", made at start)");
        let stats = Arc::new(Stats::default());
        let expected = CLIENTS + RESETTING_CLIENTS;
        let server = weft::spawn(serve(listener, server_config, expected, Arc::clone(&stats)));

        let connector = TlsConnector::from(client_config);
        let good = (0..CLIENTS).map(|id| client(addr, connector.clone(), id));
        let resetting = (0..RESETTING_CLIENTS).map(|_| resetting_client(addr, connector.clone()));
        let (good, resetting) = weft::join!(weft::gather(good), weft::gather(resetting));
        for result in good.into_iter().chain(resetting) {
            result?;
        }
        server.await.expect("the server does not panic");

        println!(
            "{} TLS connections, {} bytes echoed; {} connections failed (reset by their client), the server kept serving",
            stats.connections.load(Ordering::SeqCst),
            stats.echoed_bytes.load(Ordering::SeqCst),
            stats.failed.load(Ordering::SeqCst),
        );
        Ok(())
    })
}

/// A self-signed certificate for `localhost`, a server configuration that
/// presents it and a client configuration that trusts only it.
fn configs() -> io::Result<(Arc<ServerConfig>, Arc<ClientConfig>)> {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .map_err(io::Error::other)?;
    let certificate: CertificateDer<'static> = generated.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()));
    // ring builds with nothing but a C compiler; rustls marks it deprecated
    // because it lacks the post-quantum key exchange. A production server
    // would use rustls's default provider (aws-lc-rs) instead.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());

    let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone()], key)
        .map_err(io::Error::other)?;

    let mut roots = RootCertStore::empty();
    roots.add(certificate).map_err(io::Error::other)?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(server), Arc::new(client)))
}

/// Accepts `connections` connections, each echoed by its own task; a
/// connection's failure is counted, never returned.
async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    connections: usize,
    stats: Arc<Stats>,
) {
    let acceptor = TlsAcceptor::from(config);
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
        let (acceptor, stats) = (acceptor.clone(), Arc::clone(&stats));
        tasks.push(weft::spawn(async move {
            match echo(acceptor, stream).await {
                Ok(bytes) => {
                    stats.echoed_bytes.fetch_add(bytes, Ordering::SeqCst);
                }
                Err(error) => {
                    stats.failed.fetch_add(1, Ordering::SeqCst);
                    println!("  connection failed: {error}");
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("connection tasks do not panic");
    }
}

/// The TLS handshake, then everything the client sends comes back, until
/// it closes (with TLS's `close_notify`).
async fn echo(acceptor: TlsAcceptor, stream: TcpStream) -> io::Result<usize> {
    let mut tls = acceptor.accept(stream).await?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = tls.read(&mut buf).await?;
        if n == 0 {
            tls.shutdown().await?;
            return Ok(total);
        }
        tls.write_all(&buf[..n]).await?;
        tls.flush().await?;
        total += n;
    }
}

/// Connects, checks every echo, and closes cleanly.
async fn client(addr: SocketAddr, connector: TlsConnector, id: usize) -> io::Result<()> {
    let name = ServerName::try_from("localhost").expect("a valid DNS name");
    let mut tls = connector
        .connect(name, TcpStream::connect(addr).await?)
        .await?;
    for n in 0..MESSAGES {
        let message = format!("client {id} message {n}");
        tls.write_all(message.as_bytes()).await?;
        tls.flush().await?;
        let mut echoed = vec![0u8; message.len()];
        tls.read_exact(&mut echoed).await?;
        assert_eq!(echoed, message.as_bytes(), "the echo differs");
    }
    tls.shutdown().await?;
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).await?;
    assert!(rest.is_empty());
    Ok(())
}

/// One echo, then a reset in the middle of the conversation.
async fn resetting_client(addr: SocketAddr, connector: TlsConnector) -> io::Result<()> {
    let name = ServerName::try_from("localhost").expect("a valid DNS name");
    let mut tls = connector
        .connect(name, TcpStream::connect(addr).await?)
        .await?;
    tls.write_all(b"about to vanish").await?;
    tls.flush().await?;
    let mut echoed = [0u8; 15];
    tls.read_exact(&mut echoed).await?;
    reset::reset_on_drop(tls.get_ref().0)?;
    drop(tls);
    Ok(())
}
