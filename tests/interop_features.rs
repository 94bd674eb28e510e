//! The `hyper` and `tokio-io` features of the `weft` package, through the
//! names a user writes: `weft::hyper::*` serves and fetches one request,
//! and `weft::net::TcpStream` speaks tokio's I/O traits. Built by
//! `.ci/run`'s feature step (`--features hyper,tokio-io`); without them this
//! binary has no test.
#![cfg(all(feature = "hyper", feature = "tokio-io"))]

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::client::legacy::Client;
use weft::hyper::{HttpConnector, WeftExecutor, WeftIo, WeftTimer};
use weft::net::{TcpListener, TcpStream};

/// A hyper server and hyper-util's pooled client, both on `weft::hyper`,
/// exchange three requests on one keep-alive connection.
#[weft::test]
async fn hyper_feature_serves_and_fetches() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = weft::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let service = service_fn(|request: hyper::Request<hyper::body::Incoming>| {
            let body = format!("you asked for {}", request.uri().path());
            async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body)))) }
        });
        http1::Builder::new()
            .timer(WeftTimer::new())
            .serve_connection(WeftIo::new(stream), service)
            .await
            .unwrap();
    });
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    let client = Client::builder(WeftExecutor::new())
        .timer(WeftTimer::new())
        .pool_timer(WeftTimer::new())
        .build::<_, Empty<Bytes>>(connector);
    for n in 0..3 {
        let uri = format!("http://{addr}/{n}").parse().unwrap();
        let response = client.get(uri).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("you asked for /{n}"));
    }
    drop(client);
    weft::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server sees the client's pool close the connection")
        .unwrap();
}

/// The connector refuses a non-`http` URI and a URI without a host with
/// an error that says why.
#[weft::test]
async fn connector_errors_say_why() {
    use tower_service::Service;
    let mut connector = HttpConnector::new();
    let error = connector
        .call("https://localhost/".parse().unwrap())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("plain HTTP"), "{error}");
    let error = connector
        .call("/no/host".parse().unwrap())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("names no host"), "{error}");
}

/// `weft::net::TcpStream` under tokio's extension traits.
#[weft::test]
async fn tokio_io_feature_reads_and_writes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    AsyncWriteExt::write_all(&mut client, b"tokio traits")
        .await
        .unwrap();
    let mut buf = [0u8; 12];
    AsyncReadExt::read_exact(&mut server, &mut buf)
        .await
        .unwrap();
    assert_eq!(&buf, b"tokio traits");
}
