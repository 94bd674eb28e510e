//! Summary: [`HttpConnector`], the `tower_service::Service<http::Uri>` that
//! opens TCP connections for hyper-util's pooled client.
//!
//! Role: `hyper_util::client::legacy::Client::builder(WeftExecutor::new())
//! .build(HttpConnector::new())` is the pooled keep-alive HTTP client
//! (aiohttp's `ClientSession` with a `TCPConnector`); the pool calls the
//! connector only when no idle connection to the host is left.
//!
//! Design: the URI's host and port (80 for `http`, 443 for `https`) go to
//! `weft_io::net::TcpStream::connect`, which resolves names on the
//! runtime's blocking pool and tries each address in turn; an optional
//! connect timeout bounds resolution and connection together with weft's
//! `timeout`. `TCP_NODELAY` is on by default (request/response traffic
//! gains nothing from Nagle's algorithm). Only `http` URIs are accepted
//! unless `enforce_http(false)`, as hyper-util's own connector does: a TLS
//! connector wrapping this one turns it off.
//!
//! Invariants: none.
//!
//! Concurrency: `Clone`; each `call` is an independent future.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use weft_io::net::TcpStream;

use crate::WeftIo;

/// Connects hyper-util's pooled client to HTTP servers over weft's TCP.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use weft_hyper::HttpConnector;
///
/// let mut connector = HttpConnector::new();
/// connector.set_connect_timeout(Some(Duration::from_secs(5)));
/// // hyper_util::client::legacy::Client::builder(weft_hyper::WeftExecutor::new())
/// //     .timer(weft_hyper::WeftTimer::new())
/// //     .build::<_, http_body_util::Empty<bytes::Bytes>>(connector);
/// ```
#[derive(Clone, Debug)]
pub struct HttpConnector {
    connect_timeout: Option<Duration>,
    nodelay: bool,
    enforce_http: bool,
}

impl Default for HttpConnector {
    fn default() -> HttpConnector {
        HttpConnector::new()
    }
}

impl HttpConnector {
    /// A connector with no connect timeout, `TCP_NODELAY` on, and only
    /// `http` URIs accepted.
    pub fn new() -> HttpConnector {
        HttpConnector {
            connect_timeout: None,
            nodelay: true,
            enforce_http: true,
        }
    }

    /// Bounds each connect (name resolution included); `None` waits as
    /// long as the OS does. A connect over the bound fails with
    /// `ErrorKind::TimedOut`.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) {
        self.connect_timeout = timeout;
    }

    /// Sets `TCP_NODELAY` on each new connection (on by default).
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.nodelay = nodelay;
    }

    /// Whether to refuse URIs whose scheme is not `http` (the default).
    /// A TLS connector that wraps this one sets it to `false` and does the
    /// handshake itself.
    pub fn enforce_http(&mut self, enforce: bool) {
        self.enforce_http = enforce;
    }
}

impl tower_service::Service<Uri> for HttpConnector {
    type Response = WeftIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<WeftIo<TcpStream>>> + Send>>;

    /// Always ready: a connector holds no resource that could run out.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connector = self.clone();
        Box::pin(async move { connector.connect(uri).await })
    }
}

impl HttpConnector {
    async fn connect(self, uri: Uri) -> io::Result<WeftIo<TcpStream>> {
        let (host, port) = self.host_and_port(&uri)?;
        let connecting = TcpStream::connect((host.as_str(), port));
        let stream = match self.connect_timeout {
            None => connecting.await?,
            Some(limit) => weft_timer::timeout(limit, connecting).await.map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting to {host}:{port} took longer than {limit:?}"),
                )
            })??,
        };
        stream.set_nodelay(self.nodelay)?;
        Ok(WeftIo::new(stream))
    }

    /// The host (without an IPv6 literal's brackets) and port to dial.
    fn host_and_port(&self, uri: &Uri) -> io::Result<(String, u16)> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        let scheme = uri.scheme_str().unwrap_or("http");
        if self.enforce_http && scheme != "http" {
            return Err(invalid(format!(
                "HttpConnector speaks plain HTTP and was given {uri}; \
                 wrap it in a TLS connector (with enforce_http(false)) for {scheme}"
            )));
        }
        let host = uri
            .host()
            .ok_or_else(|| invalid(format!("the URI {uri} names no host")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = match (uri.port_u16(), scheme) {
            (Some(port), _) => port,
            (None, "https") => 443,
            (None, _) => 80,
        };
        Ok((host.to_owned(), port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(connector: &HttpConnector, uri: &str) -> io::Result<(String, u16)> {
        connector.host_and_port(&uri.parse().unwrap())
    }

    /// Default ports per scheme, IPv6 literals without brackets, and the
    /// refusals that say why.
    #[test]
    fn host_and_port_follow_the_uri() {
        let mut connector = HttpConnector::new();
        assert_eq!(
            dial(&connector, "http://example.com/a").unwrap(),
            ("example.com".into(), 80)
        );
        assert_eq!(
            dial(&connector, "http://[::1]:8080/").unwrap(),
            ("::1".into(), 8080)
        );
        let error = dial(&connector, "https://example.com/").unwrap_err();
        assert!(error.to_string().contains("plain HTTP"), "{error}");
        let error = dial(&connector, "/only/a/path").unwrap_err();
        assert!(error.to_string().contains("names no host"), "{error}");
        connector.enforce_http(false);
        assert_eq!(
            dial(&connector, "https://example.com/").unwrap(),
            ("example.com".into(), 443)
        );
    }
}
