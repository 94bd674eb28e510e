//! hyper and TLS on weft start no thread of their own: while an HTTP
//! request is being served and while a TLS handshake is in progress, the
//! process's threads (`/proc/self/task`) are exactly the main thread,
//! weft's workers and weft's blocking-pool threads. No tokio thread exists
//! (tokio is linked, for its I/O traits and hyper-util's channels, but
//! with no runtime).
//!
//! A test binary of its own with no test harness (`harness = false` in
//! Cargo.toml), so that the main thread is the only thread not weft's:
//! libtest would add threads of its own to the count. It ignores its
//! arguments (the checker scripts pass `--test-threads`).

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::client::legacy::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use weft::net::{TcpListener, TcpStream};
use weft_hyper::{HttpConnector, WeftExecutor, WeftIo, WeftTimer};

/// Worker threads of the runtime under test.
const WORKERS: usize = 2;
/// The name every weft thread of the runtime gets (a thread's `comm` keeps
/// 15 bytes).
const THREAD_NAME: &str = "weft-interop";

/// The threads of this process: (thread id, name).
fn threads() -> Vec<(u32, String)> {
    let mut threads: Vec<(u32, String)> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task lists the threads")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let tid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            Some((tid, name.trim_end().to_owned()))
        })
        .collect();
    threads.sort();
    threads
}

/// What a check saw: where, the threads, and what weft accounts for.
struct Census {
    at: &'static str,
    threads: Vec<(u32, String)>,
    workers: usize,
    blocking: u64,
}

impl fmt::Display for Census {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} threads {:?}; weft accounts for main + {} workers + {} blocking",
            self.at,
            self.threads.len(),
            self.threads,
            self.workers,
            self.blocking
        )
    }
}

/// Whether a thread other than the main one still has the main thread's
/// name: a thread that has just started, before it named itself (a new
/// thread inherits its creator's name until `std::thread::Builder::name`
/// takes effect in it).
fn has_unnamed_newcomer(threads: &[(u32, String)]) -> bool {
    let pid = std::process::id();
    let Some((_, main_name)) = threads.iter().find(|(tid, _)| *tid == pid) else {
        return false;
    };
    threads
        .iter()
        .any(|(tid, name)| *tid != pid && name == main_name)
}

/// Counts the threads now and checks them against weft's own count. The
/// blocking pool can start or retire a thread between the two readings,
/// so a reading is retried until the pool's count is the same before and
/// after it, and until no thread is caught between its start and its
/// naming, for up to about a second (a thread the machine has not yet
/// scheduled stays unnamed that long; a foreign thread keeps its name
/// through every retry, and the check then names it).
fn census(at: &'static str) -> Census {
    let handle = weft::Handle::current();
    const ATTEMPTS: usize = 1_000;
    for attempt in 1..=ATTEMPTS {
        let before = handle.metrics();
        let threads = threads();
        let after = handle.metrics();
        if has_unnamed_newcomer(&threads) && attempt < ATTEMPTS {
            std::thread::sleep(std::time::Duration::from_millis(1));
            continue;
        }
        if before.blocking_threads() == after.blocking_threads() {
            return Census {
                at,
                threads,
                workers: after.num_workers(),
                blocking: after.blocking_threads(),
            };
        }
    }
    panic!("{at}: the blocking pool kept changing size while the threads were counted");
}

fn check(census: &Census) {
    let expected = 1 + census.workers + census.blocking as usize;
    assert_eq!(census.threads.len(), expected, "{census}");
    let pid = std::process::id();
    for (tid, name) in &census.threads {
        assert!(
            !name.to_lowercase().contains("tokio"),
            "a tokio thread: {census}"
        );
        if *tid != pid {
            assert_eq!(name, THREAD_NAME, "a thread weft did not start: {census}");
        }
    }
    println!("{census}");
}

/// Records a census from inside the HTTP service: the request is in flight.
async fn http_round_trip(seen: Arc<Mutex<Vec<Census>>>) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let server = weft::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let service = service_fn(move |_request: hyper::Request<hyper::body::Incoming>| {
            seen.lock()
                .unwrap()
                .push(census("while serving an HTTP request"));
            async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok")))) }
        });
        http1::Builder::new()
            .timer(WeftTimer::new())
            .serve_connection(WeftIo::new(stream), service)
            .await
            .map_err(io::Error::other)
    });
    let client = Client::builder(WeftExecutor::new())
        .timer(WeftTimer::new())
        .pool_timer(WeftTimer::new())
        .build::<_, Empty<Bytes>>(HttpConnector::new());
    // A host name, so the connector resolves it on the blocking pool.
    let uri = format!("http://localhost:{port}/").parse().unwrap();
    let response = client.get(uri).await.map_err(io::Error::other)?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?;
    assert_eq!(&body.to_bytes()[..], b"ok");
    drop(client);
    server.await.expect("the server task does not panic")
}

/// A certificate resolver that records a census: rustls calls it in the
/// middle of the handshake, after the client's hello.
struct CountingResolver {
    key: Arc<CertifiedKey>,
    seen: Arc<Mutex<Vec<Census>>>,
}

impl fmt::Debug for CountingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CountingResolver")
    }
}

impl ResolvesServerCert for CountingResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.seen
            .lock()
            .unwrap()
            .push(census("during a TLS handshake"));
        Some(Arc::clone(&self.key))
    }
}

/// A TLS handshake and one echo over tokio-rustls on weft's sockets.
async fn tls_handshake(seen: Arc<Mutex<Vec<Census>>>) -> io::Result<()> {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .map_err(io::Error::other)?;
    let certificate: CertificateDer<'static> = generated.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()));
    // ring builds with a C compiler only (see examples/tls_echo.rs).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(io::Error::other)?;
    let resolver = CountingResolver {
        key: Arc::new(CertifiedKey::new(vec![certificate.clone()], signing_key)),
        seen,
    };
    let server_config = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    let mut roots = RootCertStore::empty();
    roots.add(certificate).map_err(io::Error::other)?;
    let client_config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(Arc::new(server_config));
    let server = weft::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let mut tls = acceptor.accept(stream).await?;
        let mut buf = [0u8; 5];
        tls.read_exact(&mut buf).await?;
        tls.write_all(&buf).await?;
        tls.shutdown().await
    });
    let connector = TlsConnector::from(Arc::new(client_config));
    let name = ServerName::try_from("localhost").expect("a valid DNS name");
    let mut tls = connector
        .connect(name, TcpStream::connect(addr).await?)
        .await?;
    tls.write_all(b"hello").await?;
    let mut echoed = [0u8; 5];
    tls.read_exact(&mut echoed).await?;
    assert_eq!(&echoed, b"hello");
    server.await.expect("the server task does not panic")
}

fn main() {
    let runtime = weft::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name(THREAD_NAME)
        .build()
        .expect("building the runtime");
    let seen = Arc::new(Mutex::new(Vec::new()));
    runtime
        .block_on(async {
            http_round_trip(Arc::clone(&seen)).await?;
            tls_handshake(Arc::clone(&seen)).await?;
            seen.lock().unwrap().push(census("after both"));
            Ok::<_, io::Error>(())
        })
        .expect("the HTTP round trip and the TLS handshake succeed");
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        3,
        "a census while serving, during the handshake, and after"
    );
    for census in seen.iter() {
        check(census);
    }
    println!("interop_threads: 3 passed, 0 failed");
}
