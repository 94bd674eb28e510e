//! The `weft_io::io` helpers on in-memory readers and writers, and on a
//! Unix stream pair: partial reads, `read_exact` at end-of-file, lines,
//! `copy`, `split`, and `BufWriter` flushing.

mod common;

use std::io::ErrorKind;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::block_on;
use futures_core::Stream;
use weft_io::io::{
    copy, split, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter,
};
use weft_io::net::UnixStream;

/// A reader that yields its data one byte per read, so every helper has to
/// loop over partial reads.
struct Trickle<'a>(&'a [u8]);

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.0.is_empty() || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Poll::Ready(Ok(1))
    }
}

/// Polls a stream to its next item.
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// `read_exact` assembles partial reads; at end-of-file it fails with
/// `UnexpectedEof`.
#[test]
fn read_exact_fills_from_partial_reads_and_fails_at_eof() {
    block_on(async {
        let mut reader = Trickle(b"abcdef");
        let mut buf = [0u8; 4];
        reader.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abcd");
        let error = reader.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
    });
}

/// `read_to_string` rejects invalid UTF-8 and leaves the string unchanged.
#[test]
fn read_to_string_rejects_invalid_utf8() {
    block_on(async {
        let mut text = String::from("kept");
        let error = Trickle(&[b'o', b'k', 0xff])
            .read_to_string(&mut text)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert_eq!(text, "kept");
        Trickle(b" and more")
            .read_to_string(&mut text)
            .await
            .unwrap();
        assert_eq!(text, "kept and more");
    });
}

/// `lines` strips `\n` and `\r\n`, yields a last line without a newline,
/// and ends at end-of-file.
#[test]
fn lines_stream_strips_line_endings() {
    block_on(async {
        let mut lines = BufReader::with_capacity(3, Trickle(b"one\r\ntwo\n\nthree")).lines();
        let mut seen = Vec::new();
        while let Some(line) = next(&mut lines).await {
            seen.push(line.unwrap());
        }
        assert_eq!(seen, ["one", "two", "", "three"]);
    });
}

/// `copy` moves every byte and reports the count.
#[test]
fn copy_moves_every_byte() {
    block_on(async {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 256) as u8).collect();
        let mut out = Vec::new();
        let copied = copy(&mut &data[..], &mut out).await.unwrap();
        assert_eq!(copied, data.len() as u64);
        assert_eq!(out, data);
    });
}

/// `BufWriter` holds small writes until `flush`, then delivers them in
/// order.
#[test]
fn buf_writer_delivers_on_flush() {
    block_on(async {
        let (left, mut right) = UnixStream::pair().unwrap();
        let mut writer = BufWriter::new(left);
        writer.write_all(b"small").await.unwrap();
        assert_eq!(writer.buffer(), b"small", "held in the buffer until flush");
        writer.write_all(b" writes").await.unwrap();
        writer.flush().await.unwrap();
        assert!(writer.buffer().is_empty());
        let mut buf = [0u8; 12];
        right.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"small writes");
    });
}

/// `split` gives a read half and a write half of one stream; `unsplit`
/// puts them back.
#[test]
fn split_halves_read_and_write_one_stream() {
    block_on(async {
        let (left, mut right) = UnixStream::pair().unwrap();
        let (mut read_half, mut write_half) = split(left);
        write_half.write_all(b"out").await.unwrap();
        let mut buf = [0u8; 3];
        right.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"out");
        right.write_all(b"in!").await.unwrap();
        read_half.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"in!");
        let _whole: UnixStream = read_half.unsplit(write_half).unwrap();
    });
}
