//! Keeping a worker's scoreboard slot current while it serves connections.

use crate::http::ConnObserver;
use crate::scoreboard::WorkerStatus;
use crate::slots::ChildSlots;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// Call `f` with `ip` as text, formatted on the stack: event records the client of every
/// request, and a `String` per request showed in its profile.
fn with_ip_text<R>(ip: IpAddr, f: impl FnOnce(&str) -> R) -> R {
    /// Room for the longest address text (IPv4-mapped IPv6: 45 bytes).
    struct Text {
        bytes: [u8; 64],
        len: usize,
    }
    impl std::fmt::Write for Text {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let end = self.len + s.len();
            let room = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
            room.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut t = Text {
        bytes: [0; 64],
        len: 0,
    };
    if let IpAddr::V4(v4) = ip {
        // The common case by hand: `Display` for an address costs more than the rest of
        // the scoreboard update together (callgrind, inline keep-alive requests).
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                t.bytes[t.len] = b'.';
                t.len += 1;
            }
            t.len += write_octet(octet, &mut t.bytes[t.len..t.len + 3]);
        }
        return f(std::str::from_utf8(&t.bytes[..t.len]).unwrap_or_default());
    }
    match write!(t, "{ip}") {
        // Whole `str` pieces were copied, so the bytes are UTF-8.
        Ok(()) => f(std::str::from_utf8(&t.bytes[..t.len]).unwrap_or_default()),
        Err(_) => f(&ip.to_string()),
    }
}

/// Write `n` in decimal at the start of `out` (room for three digits); the digits written.
fn write_octet(n: u8, out: &mut [u8]) -> usize {
    let digits = [n / 100, n / 10 % 10, n % 10];
    let skip = match n {
        100.. => 0,
        10.. => 1,
        _ => 2,
    };
    for (o, d) in out.iter_mut().zip(&digits[skip..]) {
        *o = b'0' + d;
    }
    3 - skip
}

/// The Protocol column for a request line's version, as Apache's: `HTTP/2` for h2, nothing
/// for what is not an HTTP version.
fn protocol_shown(version: &str) -> &str {
    match version {
        "HTTP/2.0" => "HTTP/2",
        v if v.starts_with("HTTP/") => v,
        _ => "",
    }
}

/// A [`ConnObserver`] that writes into one worker slot of the scoreboard.
#[derive(Clone)]
pub struct SlotObserver {
    slots: ChildSlots,
    thread: usize,
}

impl SlotObserver {
    /// Observe into worker `thread` of the child's own `slots`.
    pub fn new(slots: ChildSlots, thread: usize) -> SlotObserver {
        SlotObserver { slots, thread }
    }

    /// A new connection from `peer` starts on this worker.
    pub fn connection(&self, peer: SocketAddr) {
        let w = self.slots.worker(self.thread);
        w.new_connection();
        with_ip_text(peer.ip(), |ip| w.set_client(ip));
        w.set_status(WorkerStatus::BusyRead);
    }

    /// Record the client this worker is now serving (event: per handler call).
    pub fn set_client(&self, peer: SocketAddr) {
        let w = self.slots.worker(self.thread);
        with_ip_text(peer.ip(), |ip| w.set_client(ip));
    }

    /// A request begins: its line and protocol into the slot, its clock started.
    fn record_request(&self, line: &str, protocol: &str) {
        let w = self.slots.worker(self.thread);
        w.set_request(line);
        w.set_protocol(protocol);
        w.start_request();
    }

    /// The request line this worker's slot shows (as stored: at most 63 bytes, no
    /// password).
    pub fn request_shown(&self) -> String {
        self.slots.worker(self.thread).request()
    }

    /// The worker waits for work: ready, or gracefully finishing (`G`) once its child was
    /// asked to stop, as Apache shows the idle workers of a stopping process.
    pub fn set_idle(&self) {
        self.set(if self.slots.process().quiescing() {
            WorkerStatus::Graceful
        } else {
            WorkerStatus::Ready
        });
    }

    /// Set the worker's status directly.
    pub fn set(&self, status: WorkerStatus) {
        self.slots.worker(self.thread).set_status(status);
    }
}

impl ConnObserver for SlotObserver {
    fn status(&self, s: WorkerStatus) {
        self.set(s);
    }

    fn request_line(&self, line: &str) {
        self.record_request(line, protocol_shown(line.rsplit(' ').next().unwrap_or("")));
    }

    fn request_head(&self, method: &http::Method, target: &str, version: http::Version) {
        // Composed on the stack (a `String` per request showed in the profile); a line too
        // long for the buffer is built as usual.
        let v = crate::http::request_line::version_text(version);
        let parts = [method.as_str(), " ", target, " ", v];
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut buf = [0u8; 256];
        let long;
        let line = if len <= buf.len() {
            let mut at = 0;
            for p in parts {
                buf[at..at + p.len()].copy_from_slice(p.as_bytes());
                at += p.len();
            }
            // Whole `str` pieces were copied, so the bytes are UTF-8.
            std::str::from_utf8(&buf[..len]).unwrap_or_default()
        } else {
            long = crate::http::request_line(method, target, version);
            &long
        };
        self.record_request(line, protocol_shown(v));
    }

    fn request_done(&self, bytes: u64) {
        self.slots.worker(self.thread).finish_request(bytes);
    }
}

/// The tracing span of one connection: pid, scoreboard slot (and worker thread, where a
/// thread owns the connection), generation and client, so every log line about the
/// connection says where it was served.
///
/// Without a thread (the event strategy) the span is at DEBUG level: an enabled span
/// costs a few hundred bytes per connection in the subscriber, which would double the
/// cost of an idle keep-alive connection (≈ 1.5 KiB otherwise), so it exists only when
/// debug logging is on.
pub fn connection_span(
    slots: &ChildSlots,
    thread: Option<usize>,
    peer: SocketAddr,
) -> tracing::Span {
    let slot = slots.slot();
    let generation = slots.process().generation();
    match thread {
        Some(t) => tracing::info_span!(
            "conn",
            pid = std::process::id(),
            slot,
            thread = t,
            generation,
            client = %peer
        ),
        None => tracing::debug_span!(
            "conn",
            pid = std::process::id(),
            slot,
            generation,
            client = %peer
        ),
    }
}

impl SlotObserver {
    /// [`connection_span`] for this worker slot.
    pub fn span(&self, peer: SocketAddr) -> tracing::Span {
        connection_span(&self.slots, Some(self.thread), peer)
    }
}

/// Serve one accepted connection to its end on the calling thread — what a prefork child
/// and a worker thread both do with any kind of [`Handler`](crate::http::Handler): HTTP
/// (blocking or async) through the lean path on `rt`, or the raw stream to a connection
/// handler (a panic there is logged and costs only this connection). The worker slot is
/// kept current, and the connection's tracing span is entered for the duration.
pub fn serve_connection(
    rt: &tokio::runtime::Runtime,
    handler: &crate::http::Handler,
    opts: &crate::http::HttpOptions,
    observer: &SlotObserver,
    closing: &crate::http::Closing,
    stream: std::net::TcpStream,
    peer: SocketAddr,
) {
    use crate::http::{self, Handler};
    let _span = observer.span(peer).entered();
    observer.connection(peer);
    match handler {
        Handler::Connection(h) => {
            let _ = stream.set_nonblocking(false);
            observer.set(WorkerStatus::BusyWrite);
            let served =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.handle(stream, peer)));
            if served.is_err() {
                tracing::error!("connection handler panicked (client {peer})");
            }
        }
        http_handler => {
            http::serve_lean_blocking(rt, stream, peer, opts, http_handler, observer, closing);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_ip_text;
    use std::net::IpAddr;

    #[test]
    fn ip_text_on_the_stack_matches_the_standard_text() {
        for a in [
            "127.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "10.9.100.99",
            "1.20.255.0",
            "::1",
            "1111:2222:3333:4444:5555:6666:7777:8888",
            "::ffff:192.168.100.200",
            "fe80::1:2:3:4",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert_eq!(with_ip_text(ip, str::to_owned), ip.to_string());
        }
    }
}
