//! A minimal WebSocket client (RFC 6455) over a std socket: the opening handshake, masked
//! text frames out, unmasked text frames in, the closing handshake. Enough to check that
//! an upgraded connection really carries the new protocol.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An open WebSocket.
pub struct WebSocket {
    reader: BufReader<TcpStream>,
}

/// Open a WebSocket to `path`; panics unless the server answers `101`.
pub fn connect(addr: SocketAddr, path: &str) -> WebSocket {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = s.try_clone().unwrap();
    write!(
        w,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "EOF in 101 head: {head}"
        );
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // The accept value of the RFC 6455 §1.3 sample key.
    assert!(
        head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "no Sec-WebSocket-Accept for the key: {head}"
    );
    WebSocket { reader }
}

impl WebSocket {
    fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        assert!(payload.len() < 126, "short frames only");
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.reader.get_mut().write_all(&frame).expect("send frame");
    }

    /// Send a text message.
    pub fn send_text(&mut self, text: &str) {
        self.send_frame(0x1, text.as_bytes());
    }

    /// Receive one frame: (opcode, payload).
    fn recv_frame(&mut self) -> (u8, Vec<u8>) {
        let mut h = [0u8; 2];
        self.reader.read_exact(&mut h).expect("frame header");
        assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
        let len = match h[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                self.reader.read_exact(&mut l).unwrap();
                u16::from_be_bytes(l) as usize
            }
            127 => panic!("unexpectedly long frame"),
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        self.reader.read_exact(&mut payload).expect("frame payload");
        (h[0] & 0x0f, payload)
    }

    /// Receive a text message.
    pub fn recv_text(&mut self) -> String {
        let (op, payload) = self.recv_frame();
        assert_eq!(op, 0x1, "expected a text frame");
        String::from_utf8(payload).expect("UTF-8 text")
    }

    /// The closing handshake: send Close, expect Close back, then the end of the stream.
    pub fn close(mut self) {
        self.send_frame(0x8, &1000u16.to_be_bytes());
        let (op, _) = self.recv_frame();
        assert_eq!(op, 0x8, "expected the server's Close");
        let mut rest = Vec::new();
        let _ = self.reader.read_to_end(&mut rest);
        assert!(rest.is_empty(), "bytes after Close: {rest:?}");
    }
}
