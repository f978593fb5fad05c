//! `Listen` parsing and binding.

use mpm_core::listen::{bind_all, is_cloexec, set_nonblocking_all, BindOptions, ListenSpec};
use mpm_core::Error;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn parse_accepts_apache_forms() {
    let table = [
        ("80", "0.0.0.0:80"),
        ("  8080  ", "0.0.0.0:8080"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("[::1]:8080", "[::1]:8080"),
        ("[::]:80", "[::]:80"),
        ("*:81", "0.0.0.0:81"),
        ("0.0.0.0:443 https", "0.0.0.0:443"),
        ("10.1.2.3:80 http", "10.1.2.3:80"),
        ("[::1]:80 HTTP", "[::1]:80"),
        ("127.0.0.1:0", "127.0.0.1:0"),
        ("65535", "0.0.0.0:65535"),
    ];
    for (input, want) in table {
        let spec: ListenSpec = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(spec.addr, sa(want), "{input:?}");
        // Display round-trips through the parser.
        assert_eq!(spec.to_string().parse::<ListenSpec>().unwrap(), spec);
    }
}

#[test]
fn parse_rejects_garbage_with_clear_messages() {
    let table = [
        ("", "requires an address"),
        ("abc:", "port must be specified"),
        ("65536", "out of range"),
        ("127.0.0.1:99999", "out of range"),
        ("127.0.0.1:-1", "invalid port"),
        ("127.0.0.1:+80", "invalid port"),
        ("localhost:80", "host names are not resolved"),
        ("www.example.com:8080", "host names are not resolved"),
        ("localhost", "host names are not resolved"),
        ("::1:80", "brackets"),
        ("[::1]", "port must be specified"),
        ("[::1:80", "missing ']'"),
        ("[zz]:80", "not a valid IPv6"),
        ("300.1.1.1:80", "not a valid IPv4"),
        ("127.0.0.1", "port must be specified"),
        ("80 ftp", "unsupported protocol"),
        ("80 http extra", "too many arguments"),
        ("a$b", "not a port or address"),
    ];
    for (input, want) in table {
        let err = input
            .parse::<ListenSpec>()
            .expect_err(&format!("{input:?} should be refused"));
        assert!(err.contains(want), "{input:?}: {err:?} lacks {want:?}");
    }
}

fn opts() -> BindOptions {
    BindOptions {
        backlog: 16,
        reuse_port: false,
    }
}

#[test]
fn port_zero_reports_the_real_port_and_accepts() {
    let ls = bind_all(&[ListenSpec::new(sa("127.0.0.1:0"))], opts()).unwrap();
    assert_eq!(ls.len(), 1);
    let addr = ls[0].local_addr;
    assert_ne!(addr.port(), 0);
    assert_eq!(addr, ls[0].socket.local_addr().unwrap());
    let _c = TcpStream::connect(addr).unwrap();
    let (_s, peer) = ls[0].socket.accept().unwrap();
    assert!(peer.ip().is_loopback());
}

#[test]
fn bind_error_names_the_address() {
    let first = bind_all(&[ListenSpec::new(sa("127.0.0.1:0"))], opts()).unwrap();
    let taken = first[0].local_addr;
    let err = bind_all(&[ListenSpec::new(taken)], opts()).unwrap_err();
    match &err {
        Error::Bind { addr, source } => {
            assert_eq!(*addr, taken);
            assert_eq!(source.raw_os_error(), Some(libc::EADDRINUSE));
        }
        other => panic!("unexpected error {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("could not bind to address {taken}: ")),
        "{msg}"
    );
    assert!(msg.contains("os error"), "{msg}");
}

#[test]
fn listeners_are_cloexec_and_blocking() {
    let ls = bind_all(&[ListenSpec::new(sa("127.0.0.1:0"))], opts()).unwrap();
    assert!(is_cloexec(&ls[0]));
    let flags = nix::fcntl::fcntl(ls[0].socket.as_fd(), nix::fcntl::FcntlArg::F_GETFD).unwrap();
    assert_ne!(flags & libc::FD_CLOEXEC, 0);
    let fl = nix::fcntl::fcntl(ls[0].socket.as_fd(), nix::fcntl::FcntlArg::F_GETFL).unwrap();
    assert_eq!(fl & libc::O_NONBLOCK, 0, "listeners are returned blocking");
    set_nonblocking_all(&ls, true).unwrap();
    let fl = nix::fcntl::fcntl(ls[0].socket.as_fd(), nix::fcntl::FcntlArg::F_GETFL).unwrap();
    assert_ne!(fl & libc::O_NONBLOCK, 0);
    assert_eq!(
        ls[0].socket.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

#[test]
fn duplicates_are_bound_once_and_v6_is_v6only() {
    let probe = bind_all(&[ListenSpec::new(sa("127.0.0.1:0"))], opts()).unwrap();
    let port = probe[0].local_addr.port();
    drop(probe);
    let spec = ListenSpec::new(SocketAddr::from(([127, 0, 0, 1], port)));
    let ls = bind_all(&[spec, spec], opts()).unwrap();
    assert_eq!(ls.len(), 1);

    // IPv6 (when the host has it): V6ONLY means a v4 wildcard on the same port still binds.
    if let Ok(v6) = bind_all(&[ListenSpec::new(sa("[::]:0"))], opts()) {
        let p = v6[0].local_addr.port();
        let only = socket2::SockRef::from(&v6[0].socket).only_v6().unwrap();
        assert!(only);
        let v4 = bind_all(
            &[ListenSpec::new(SocketAddr::from(([0, 0, 0, 0], p)))],
            opts(),
        );
        assert!(v4.is_ok(), "{v4:?}");
    }
}

#[test]
fn reuse_port_lets_two_sockets_share_a_port() {
    let o = BindOptions {
        backlog: 16,
        reuse_port: true,
    };
    let a = bind_all(&[ListenSpec::new(sa("127.0.0.1:0"))], o).unwrap();
    let b = bind_all(&[ListenSpec::new(a[0].local_addr)], o).unwrap();
    assert_eq!(a[0].local_addr, b[0].local_addr);
}
