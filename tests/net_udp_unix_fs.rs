//! weft-io on the real runtime: UDP, Unix sockets and files through the
//! `weft` facade (files run on the runtime's blocking pool).

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{UdpSocket, UnixListener, UnixStream};

/// UDP round trips between tasks on a multi-thread runtime.
#[test]
fn udp_round_trips_between_tasks() {
    const PINGS: u64 = 200;
    weft::run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let echo = weft::spawn(async move {
            let mut buf = [0u8; 8];
            for _ in 0..PINGS {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(addr).await.unwrap();
        let mut buf = [0u8; 8];
        for i in 0..PINGS {
            client.send(&i.to_le_bytes()).await.unwrap();
            assert_eq!(client.recv(&mut buf).await.unwrap(), 8);
            assert_eq!(u64::from_le_bytes(buf), i);
        }
        echo.await.unwrap();
    });
}

/// A Unix stream echo between two tasks.
#[test]
fn unix_stream_echo_between_tasks() {
    let path = std::env::temp_dir().join(format!("weft-net-unix-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let bound = path.clone();
    weft::run(async move {
        let listener = UnixListener::bind(&bound).await.unwrap();
        let server = weft::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            stream.read_to_end(&mut all).await.unwrap();
            stream.write_all(&all).await.unwrap();
        });
        let mut client = UnixStream::connect(&bound).await.unwrap();
        client.write_all(b"over a socket file").await.unwrap();
        client.close().await.unwrap();
        let mut back = String::new();
        client.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "over a socket file");
        server.await.unwrap();
    });
    std::fs::remove_file(path).unwrap();
}

/// Files written and read back through `weft::fs` on the blocking pool.
#[test]
fn files_round_trip_through_the_blocking_pool() {
    let path = std::env::temp_dir().join(format!("weft-net-fs-{}.txt", std::process::id()));
    let file_path = path.clone();
    weft::run(async move {
        weft::fs::write(&file_path, "first\n").await.unwrap();
        assert_eq!(
            weft::fs::read_to_string(&file_path).await.unwrap(),
            "first\n"
        );
        let mut file = weft::fs::File::create(&file_path).await.unwrap();
        for i in 0..1000 {
            file.write_all(format!("{i}\n").as_bytes()).await.unwrap();
        }
        file.close().await.unwrap();
        let mut text = String::new();
        weft::fs::File::open(&file_path)
            .await
            .unwrap()
            .read_to_string(&mut text)
            .await
            .unwrap();
        let expected: String = (0..1000).map(|i| format!("{i}\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(
            weft::fs::read(&file_path).await.unwrap(),
            expected.as_bytes()
        );
    });
    std::fs::remove_file(path).unwrap();
}
