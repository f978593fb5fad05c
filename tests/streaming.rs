//! Streamed bodies through the example server under every strategy: a 1 GiB upload echoed
//! back and a 1 GiB download leave each server process's peak memory less than 16 MiB
//! above where it was (memory is bounded by buffers, not body size), with the blocking
//! streaming handler and with a tower service; server-sent events arrive one by one, and
//! the connection's slot is freed once the client leaves.

mod common;

use common::{procs, wait_until, Server};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const GIB: u64 = 1 << 30;
const MAX_GROWTH_KIB: u64 = 16 * 1024;

/// `VmHWM` (peak resident memory) or `VmRSS` of `pid`, in KiB.
fn mem_kib(pid: i32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix(field)?
            .trim_start_matches(':')
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

/// Resident memory of the master and each child now.
fn resident(srv: &Server) -> HashMap<i32, u64> {
    std::iter::once(srv.pid())
        .chain(srv.children())
        .filter_map(|p| Some((p, mem_kib(p, "VmRSS")?)))
        .collect()
}

/// The largest growth of a process's peak memory since `before` (a process that did not
/// exist then counts from zero).
fn worst_growth(srv: &Server, before: &HashMap<i32, u64>) -> (i32, u64) {
    std::iter::once(srv.pid())
        .chain(srv.children())
        .filter_map(|p| {
            let peak = mem_kib(p, "VmHWM")?;
            Some((p, peak.saturating_sub(before.get(&p).copied().unwrap_or(0))))
        })
        .max_by_key(|&(_, g)| g)
        .unwrap_or((0, 0))
}

/// Read one response head; returns it (lower-cased) and leaves the stream at the body.
fn read_head(r: &mut BufReader<TcpStream>) -> String {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(
            r.read_line(&mut line).expect("read head") > 0,
            "EOF in head: {head}"
        );
        if line == "\r\n" {
            return head.to_ascii_lowercase();
        }
        head.push_str(&line);
    }
}

/// Read a chunked body to its end, counting its bytes.
fn read_chunked(r: &mut BufReader<TcpStream>) -> u64 {
    let mut total = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("chunk line");
        let size = u64::from_str_radix(line.trim_end(), 16).expect("hex size");
        if size == 0 {
            let mut end = String::new();
            r.read_line(&mut end).expect("last CRLF");
            assert_eq!(end, "\r\n");
            return total;
        }
        let mut left = size;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            let n = r.read(&mut buf[..want]).expect("chunk");
            assert!(n > 0, "EOF inside a chunk");
            left -= n as u64;
        }
        total += size;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf).expect("CRLF after chunk");
        assert_eq!(&crlf, b"\r\n");
    }
}

/// POST `len` bytes to `/echo` with chunked framing (a writer thread) while reading the
/// echo back; returns the bytes echoed.
fn echo_upload(srv: &Server, len: u64) -> u64 {
    let s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        w.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")?;
        let block = vec![b'u'; 256 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            w.write_all(format!("{n:x}\r\n").as_bytes())?;
            w.write_all(&block[..n])?;
            w.write_all(b"\r\n")?;
            left -= n as u64;
        }
        w.write_all(b"0\r\n\r\n")
    });
    let mut r = BufReader::with_capacity(256 * 1024, s);
    let head = read_head(&mut r);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let echoed = read_chunked(&mut r);
    writer.join().unwrap().expect("upload");
    echoed
}

/// GET `/bytes/len`; returns the body length read (and checks the Content-Length).
fn download(srv: &Server, len: u64) -> u64 {
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET /bytes/{len} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = BufReader::with_capacity(256 * 1024, s);
    let head = read_head(&mut r);
    assert!(head.contains(&format!("content-length: {len}")), "{head}");
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf).expect("body");
        if n == 0 {
            return total;
        }
        total += n as u64;
    }
}

fn one_gib_each_way(mpm: &'static str, kind: &str) {
    let srv = Server::start_with(mpm, "StartServers 1", &["--handler", kind]);
    assert_eq!(common::client::get(srv.addr, "/").unwrap().status, 200);
    let before = resident(&srv);
    assert_eq!(echo_upload(&srv, GIB), GIB, "{mpm}/{kind}: echo");
    assert_eq!(download(&srv, GIB), GIB, "{mpm}/{kind}: download");
    let (pid, growth) = worst_growth(&srv, &before);
    eprintln!("{mpm}/{kind}: worst peak-memory growth {growth} KiB (pid {pid})");
    assert!(
        growth < MAX_GROWTH_KIB,
        "{mpm}/{kind}: pid {pid} grew by {growth} KiB moving 1 GiB each way"
    );
}

#[test]
fn prefork_streams_a_gib_each_way_in_bounded_memory() {
    one_gib_each_way("prefork", "stream");
    one_gib_each_way("prefork", "tower");
}

#[test]
fn worker_streams_a_gib_each_way_in_bounded_memory() {
    one_gib_each_way("worker", "stream");
    one_gib_each_way("worker", "tower");
}

#[test]
fn event_streams_a_gib_each_way_in_bounded_memory() {
    one_gib_each_way("event", "stream");
    one_gib_each_way("event", "tower");
}

/// Server-side sockets of `port` (local port) still open to a client: ESTABLISHED or
/// CLOSE_WAIT, from /proc/net/tcp.
fn open_server_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let local_port = f
                .get(1)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            let state = f.get(3).copied().unwrap_or("");
            local_port == Some(port) && (state == "01" || state == "08")
        })
        .count()
}

/// Events arrive one by one on an open response; when the client leaves, the server
/// notices at its next write and the worker goes back to idle.
fn events_until_the_client_leaves(mpm: &'static str, kind: &str) {
    let srv = Server::start_with(mpm, "StartServers 1", &["--handler", kind]);
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /sse HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(s);
    let head = read_head(&mut r);
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut seen = String::new();
    while !seen.contains("data: tick 2\n") {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "stream ended: {seen}");
        seen.push_str(&line);
    }
    assert!(seen.contains("data: tick 1\n"), "{seen}");
    // After the client leaves, the server's side of the connection sits in CLOSE_WAIT (or
    // ESTABLISHED) until the next event's write fails and the server closes it.
    let port = srv.addr.port();
    assert_eq!(
        open_server_sockets(port),
        1,
        "{mpm}/{kind}: the SSE connection"
    );
    drop(r);
    assert!(
        wait_until(Duration::from_secs(10), || open_server_sockets(port) == 0),
        "{mpm}/{kind}: the SSE response went on after the client left"
    );
    for p in srv.children() {
        assert!(procs::alive(p));
    }
}

#[test]
fn server_sent_events_stream_until_the_client_leaves() {
    for mpm in ["prefork", "worker", "event"] {
        events_until_the_client_leaves(mpm, "stream");
        events_until_the_client_leaves(mpm, "tower");
    }
}
