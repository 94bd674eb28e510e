//! Files through `weft_io::fs`: written and read back with the whole-file
//! functions and with `File`, every operation on the blocking hook.

mod common;

use std::io::ErrorKind;
use std::path::PathBuf;

use common::block_on;
use weft_io::fs::{self, File};
use weft_io::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};

/// A fresh path in a per-process temp directory.
fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-io-fs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `fs::write` then `fs::read` and `fs::read_to_string` give the bytes back.
#[test]
fn whole_file_write_then_read_round_trips() {
    let path = temp_path("whole.txt");
    block_on(async {
        fs::write(&path, "hello, files\n").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"hello, files\n");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "hello, files\n");
    });
}

/// Missing files are `NotFound`; non-UTF-8 content is `InvalidData`.
#[test]
fn file_errors_are_io_errors_of_the_right_kind() {
    let missing = temp_path("does-not-exist");
    let binary = temp_path("binary.bin");
    block_on(async {
        let error = fs::read(&missing).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let error = File::open(&missing).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        fs::write(&binary, [0xff, 0xfe, 0x00]).await.unwrap();
        let error = fs::read_to_string(&binary).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
    });
}

/// A `File` written in many pieces through a `BufWriter` and closed reads
/// back identically, larger than one blocking-pool transfer buffer.
#[test]
fn file_written_in_pieces_reads_back_identically() {
    const LINES: usize = 20_000;
    let path = temp_path("lines.txt");
    block_on(async {
        let mut writer = BufWriter::new(File::create(&path).await.unwrap());
        for i in 0..LINES {
            writer
                .write_all(format!("line {i}\n").as_bytes())
                .await
                .unwrap();
        }
        writer.close().await.unwrap();

        let mut reader = BufReader::new(File::open(&path).await.unwrap());
        let mut line = String::new();
        for i in 0..LINES {
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, format!("line {i}\n"));
        }
        line.clear();
        assert_eq!(reader.read_line(&mut line).await.unwrap(), 0, "end of file");

        let mut whole = Vec::new();
        File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut whole)
            .await
            .unwrap();
        let expected: String = (0..LINES).map(|i| format!("line {i}\n")).collect();
        assert_eq!(whole, expected.as_bytes());
    });
}

/// Big writes and reads are split into bounded blocking operations and
/// still return every byte; `sync_all` succeeds after writing.
#[test]
fn large_file_round_trips_through_file() {
    let path = temp_path("large.bin");
    let data: Vec<u8> = (0..5 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    block_on(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&data).await.unwrap();
        file.sync_all().await.unwrap();
        file.close().await.unwrap();
        let mut back = Vec::new();
        File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut back)
            .await
            .unwrap();
        assert!(back == data, "5 MiB read back differ");
    });
}

/// A write to a file opened read-only fails, and the error is reported by
/// the write-behind machinery (at the latest by `flush`), not lost.
#[test]
fn write_error_is_reported_by_flush() {
    let path = temp_path("readonly.txt");
    block_on(async {
        fs::write(&path, "x").await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        let result = async {
            file.write_all(b"not allowed").await?;
            file.flush().await
        }
        .await;
        assert!(result.is_err(), "writing a read-only file must fail");
    });
}
