//! TLS through the example server (`Listen 127.0.0.1:0 https`), with a rustls client:
//! TLS 1.2 and 1.3 under every strategy with each handler kind's path, ALPN `http/1.1`,
//! session resumption across children (each connection on a new child:
//! MaxConnectionsPerChild 1), certificate reload at graceful restart, a bad certificate at
//! reload keeping the running generation, configuration errors under `-t`, and a client
//! stalling mid-handshake cut at the header deadline without holding a worker.
//!
//! Certificates are made by the test (rcgen); no key is committed.

mod common;

use common::{cmd, wait_until, Server};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, RootCertStore, StreamOwned};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A self-signed certificate for `localhost` written to `dir` as `name.pem` and
/// `name.key`; returns (certificate DER, certificate path, key path).
fn make_cert(dir: &Path, name: &str) -> (CertificateDer<'static>, PathBuf, PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (ck.cert.der().clone(), cert, key)
}

/// The TLS part of a configuration.
fn tls_conf(cert: &Path, key: &Path) -> String {
    format!(
        "Listen 127.0.0.1:0 https\nSSLCertificateFile {}\nSSLCertificateKeyFile {}\n",
        cert.display(),
        key.display()
    )
}

/// The TLS listener: the second address the server logged (`Server` adds a plain one
/// first).
fn tls_addr(srv: &Server) -> SocketAddr {
    let addrs = srv.addrs();
    assert_eq!(
        addrs.len(),
        2,
        "two listeners expected; log:\n{}",
        srv.log()
    );
    addrs[1]
}

/// A client trusting `root`, speaking only `version` (or both), offering ALPN `http/1.1`.
fn client(root: &CertificateDer<'static>, version: Option<u8>) -> Arc<ClientConfig> {
    client_trusting(&[root], version)
}

/// A client trusting each of `trusted`, speaking only `version` (or both).
fn client_trusting(trusted: &[&CertificateDer<'static>], version: Option<u8>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for root in trusted {
        roots.add((*root).clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = match version {
        Some(2) => vec![&rustls::version::TLS12],
        Some(3) => vec![&rustls::version::TLS13],
        _ => vec![&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let mut c = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(c)
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn connect(addr: SocketAddr, config: &Arc<ClientConfig>) -> Tls {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let conn =
        ClientConnection::new(config.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).expect("TLS handshake");
    }
    s
}

/// Send `req` and read the whole response (the request says `Connection: close`).
fn exchange(s: &mut Tls, req: &[u8]) -> String {
    s.write_all(req).unwrap();
    s.flush().unwrap();
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) => panic!(
            "reading the response: {e}; got {:?}",
            String::from_utf8_lossy(&out)
        ),
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn get(s: &mut Tls, path: &str) -> String {
    exchange(
        s,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

fn body(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// TLS 1.2 and 1.3, ALPN, a keep-alive request then a large echoed body (the streamed
/// paths, with the records rustls holds flushed), and close_notify at the end.
fn serve_over_tls(mpm: &'static str, handler: &str) {
    let certs = tempfile::tempdir().unwrap();
    let (root, cert, key) = make_cert(certs.path(), "a");
    let srv = Server::start_with(mpm, &tls_conf(&cert, &key), &["--handler", handler]);
    let addr = tls_addr(&srv);
    for v in [2u8, 3] {
        let config = client(&root, Some(v));
        let mut s = connect(addr, &config);
        let want = if v == 2 {
            rustls::ProtocolVersion::TLSv1_2
        } else {
            rustls::ProtocolVersion::TLSv1_3
        };
        assert_eq!(s.conn.protocol_version(), Some(want), "{mpm}/{handler}");
        assert_eq!(s.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
        // Keep-alive first: the response must come out whole before the next request.
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut first = vec![0u8; 4096];
        let mut got = 0;
        while !String::from_utf8_lossy(&first[..got]).contains("Hello, world!\n") {
            let n = s.read(&mut first[got..]).unwrap();
            assert!(n > 0, "connection ended early: {:?}", &first[..got]);
            got += n;
        }
        let big: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut req = format!(
            "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            big.len()
        )
        .into_bytes();
        req.extend_from_slice(&big);
        let resp = exchange(&mut s, &req);
        assert!(
            resp.starts_with("HTTP/1.1 200"),
            "{mpm}/{handler}: {}",
            &resp[..resp.len().min(200)]
        );
        let echoed = body(&resp);
        // The echo may be chunked; every byte of the body must be in it, in order.
        let plain: String = if resp
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            let mut out = String::new();
            let mut rest = echoed;
            loop {
                let (size, after) = rest.split_once("\r\n").unwrap();
                let n = usize::from_str_radix(size.split(';').next().unwrap(), 16).unwrap();
                if n == 0 {
                    break;
                }
                out.push_str(&after[..n]);
                rest = &after[n + 2..];
            }
            out
        } else {
            echoed.to_string()
        };
        assert_eq!(
            plain.len(),
            big.len(),
            "{mpm}/{handler} TLS1.{v}: echoed length"
        );
        assert!(
            plain.as_bytes() == &big[..],
            "{mpm}/{handler}: echoed bytes differ"
        );
    }
    // The plain listener still speaks cleartext.
    let r = common::client::get(srv.addr, "/").unwrap();
    assert_eq!(r.body_text(), "Hello, world!\n");
}

#[test]
fn tls_under_prefork() {
    serve_over_tls("prefork", "stream");
}

#[test]
fn tls_under_worker() {
    serve_over_tls("worker", "blocking");
}

#[test]
fn tls_under_event() {
    serve_over_tls("event", "async");
}

#[test]
fn tls_under_event_stream_handler() {
    serve_over_tls("event", "stream");
}

#[test]
fn tls_under_reactor() {
    serve_over_tls("reactor", "async");
}

/// Every connection on a new child (MaxConnectionsPerChild 1; `/pid` tells): the second
/// one resumes with the ticket the first child issued, under TLS 1.2 and TLS 1.3.
fn resumes_across_children(mpm: &'static str) {
    let certs = tempfile::tempdir().unwrap();
    let (root, cert, key) = make_cert(certs.path(), "a");
    let conf = format!(
        "{}MaxConnectionsPerChild 1\nStartServers 2\n",
        tls_conf(&cert, &key)
    );
    let srv = Server::start(mpm, &conf);
    let addr = tls_addr(&srv);
    for v in [2u8, 3] {
        let config = client(&root, Some(v));
        let mut pids = Vec::new();
        for i in 0..3 {
            let mut s = connect(addr, &config);
            let kind = s.conn.handshake_kind();
            let pid: i32 = body(&get(&mut s, "/pid")).trim().parse().unwrap();
            assert!(!pids.contains(&pid), "connection {i} reused child {pid}");
            pids.push(pid);
            if i == 0 {
                assert_eq!(kind, Some(HandshakeKind::Full));
            } else {
                assert_eq!(
                    kind,
                    Some(HandshakeKind::Resumed),
                    "{mpm} TLS1.{v}: connection {i} (child {pid}) did not resume"
                );
            }
        }
    }
}

#[test]
fn resumption_across_children_prefork() {
    resumes_across_children("prefork");
}

#[test]
fn resumption_across_children_event() {
    resumes_across_children("event");
}

/// The end-entity certificate a new connection is shown.
fn served_cert(addr: SocketAddr, config: &Arc<ClientConfig>) -> Vec<u8> {
    let s = connect(addr, config);
    s.conn.peer_certificates().unwrap()[0].as_ref().to_vec()
}

/// A graceful restart loads the certificate again; a certificate that does not load
/// keeps the running generation (and its certificate), with the error logged; and a
/// ticket issued before a restart still resumes after it.
#[test]
fn certificate_reload_and_bad_certificate_at_reload() {
    let certs = tempfile::tempdir().unwrap();
    let (root_a, cert, key) = make_cert(certs.path(), "a");
    let (root_b, cert_b, key_b) = make_cert(certs.path(), "b");
    let srv = Server::start("event", &tls_conf(&cert, &key));
    let addr = tls_addr(&srv);
    // Used without reading, so that it never stores a ticket (a resumed session would
    // report the certificate of its first connection).
    let both = client_trusting(&[&root_a, &root_b], None);
    assert_eq!(served_cert(addr, &both), root_a.as_ref());
    // This one resumes after the restart, when the certificate is another: it trusts
    // both, so a failed resumption shows as a full handshake, not a refused certificate.
    let resume = client_trusting(&[&root_a, &root_b], Some(3));
    let mut s = connect(addr, &resume);
    get(&mut s, "/");

    // A broken certificate file: the restart is refused, generation 0 goes on.
    std::fs::write(&cert, "not a certificate\n").unwrap();
    srv.signal(libc::SIGUSR1);
    assert!(
        wait_until(Duration::from_secs(10), || srv
            .log()
            .contains("configuration error at restart")),
        "no error logged; log:\n{}",
        srv.log()
    );
    assert!(srv.log().contains("SSLCertificateFile"), "{}", srv.log());
    assert_eq!(
        served_cert(addr, &both),
        root_a.as_ref(),
        "old certificate kept"
    );

    // The new certificate and key: the next generation serves them.
    std::fs::copy(&cert_b, &cert).unwrap();
    std::fs::copy(&key_b, &key).unwrap();
    srv.signal(libc::SIGUSR1);
    assert!(
        wait_until(Duration::from_secs(10), || served_cert(addr, &both)
            == root_b.as_ref()),
        "new certificate not served; log:\n{}",
        srv.log()
    );
    // The ticket from generation 0 opens in generation 1: the restart rotated the keys
    // and kept the previous one.
    let s = connect(addr, &resume);
    assert_eq!(
        s.conn.handshake_kind(),
        Some(HandshakeKind::Resumed),
        "a ticket from before the restart did not resume"
    );
}

/// Configuration errors: `-t` exits non-zero naming the file, the line and the directive.
#[test]
fn configuration_errors_under_dash_t() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = make_cert(dir.path(), "a");
    let (_, _, other_key) = make_cert(dir.path(), "b");
    let conf = dir.path().join("httpd.conf");
    let check = |text: String| {
        std::fs::write(&conf, text).unwrap();
        let out = cmd::run(&["-t", "-f", conf.to_str().unwrap()]);
        (out.code, out.stderr + &out.stdout)
    };
    let (code, err) = check(format!(
        "Listen 127.0.0.1:0 https\nSSLCertificateFile {}/missing.pem\nSSLCertificateKeyFile {}\n",
        dir.path().display(),
        key.display()
    ));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("httpd.conf:2"), "{err}");
    assert!(err.contains("SSLCertificateFile"), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");

    let (code, err) = check(format!(
        "Listen 127.0.0.1:0 https\nSSLCertificateFile {}\nSSLCertificateKeyFile {}\n",
        cert.display(),
        other_key.display()
    ));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("does not match"), "{err}");

    let (code, err) = check("Listen 127.0.0.1:0 https\n".to_string());
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("SSLCertificateFile is required"), "{err}");

    let (code, err) = check(format!(
        "<IfModule ssl_module>\nListen 127.0.0.1:0 https\nSSLCertificateFile {}\nSSLCertificateKeyFile {}\nSSLProtocol -all +TLSv1.3\nSSLCipherSuite HIGH:!aNULL\n</IfModule>\n",
        cert.display(),
        key.display()
    ));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("SSLCipherSuite is accepted and ignored"),
        "{err}"
    );
}

/// `SSLProtocol -all +TLSv1.3`: a TLS 1.2-only client is refused.
#[test]
fn ssl_protocol_limits_versions() {
    let certs = tempfile::tempdir().unwrap();
    let (root, cert, key) = make_cert(certs.path(), "a");
    let conf = format!("{}SSLProtocol -all +TLSv1.3\n", tls_conf(&cert, &key));
    let srv = Server::start("event", &conf);
    let addr = tls_addr(&srv);
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let conn = ClientConnection::new(
        client(&root, Some(2)),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut s = StreamOwned::new(conn, tcp);
    let mut failed = false;
    while s.conn.is_handshaking() {
        if s.conn.complete_io(&mut s.sock).is_err() {
            failed = true;
            break;
        }
    }
    assert!(
        failed,
        "a TLS 1.2 handshake succeeded against SSLProtocol -all +TLSv1.3"
    );
    let mut s = connect(addr, &client(&root, Some(3)));
    assert!(get(&mut s, "/").contains("Hello, world!"));
}

/// A client that sends part of a ClientHello and stalls is cut at the header deadline
/// (`RequestReadTimeout header=1`), and meanwhile (under event, one worker thread) the
/// stalled handshakes hold no worker: a full request is served at once.
#[test]
fn stalled_handshake_is_cut_at_the_header_deadline() {
    let certs = tempfile::tempdir().unwrap();
    let (root, cert, key) = make_cert(certs.path(), "a");
    let conf = format!(
        "{}RequestReadTimeout header=1 body=5\nStartServers 1\nServerLimit 1\nThreadsPerChild 1\nMaxRequestWorkers 1\nMinSpareThreads 1\nMaxSpareThreads 1\nThreadLimit 1\n",
        tls_conf(&cert, &key)
    );
    let srv = Server::start("event", &conf);
    let addr = tls_addr(&srv);
    // A TLS record header announcing a 512-byte handshake message, then nothing.
    let stalled: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut t = TcpStream::connect(addr).unwrap();
            t.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
            t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            t
        })
        .collect();
    let started = Instant::now();
    let mut s = connect(addr, &client(&root, None));
    assert!(get(&mut s, "/").contains("Hello, world!"));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "a request waited {:?} behind stalled handshakes",
        started.elapsed()
    );
    for mut t in stalled {
        let mut buf = [0u8; 64];
        // Cut: end of file (or a reset), well before the 10 s read timeout.
        let r = t.read(&mut buf);
        let waited = started.elapsed();
        assert!(
            matches!(r, Ok(0)) || r.is_err() && waited < Duration::from_secs(5),
            "stalled handshake not cut: {r:?} after {waited:?}"
        );
        assert!(waited < Duration::from_secs(4), "cut only after {waited:?}");
    }
}

/// A binary upgrade (SIGUSR2) hands the listening sockets to a new master: the TLS
/// listener still speaks TLS there (the adopted socket is matched to its `Listen …
/// https`), served by the new master's children.
#[test]
fn tls_listener_survives_a_binary_upgrade() {
    let certs = tempfile::tempdir().unwrap();
    let (root, cert, key) = make_cert(certs.path(), "a");
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("httpd-bin");
    std::fs::copy(common::httpd_path(), &exe).unwrap();
    let mut srv = Server::start_in(dir, &exe, "event", &tls_conf(&cert, &key), &[], &[]);
    let addr = tls_addr(&srv);
    let config = client(&root, None);
    let mut s = connect(addr, &config);
    assert!(get(&mut s, "/").contains("Hello, world!"));
    let old = srv.pid();
    srv.signal(libc::SIGUSR2);
    let pid_file = srv.pid_file();
    let mut new_pid = None;
    let took_over = wait_until(Duration::from_secs(30), || {
        new_pid = cmd::read_pid(&pid_file).filter(|&p| p != old && common::procs::alive(p));
        new_pid.is_some()
    });
    // Stops the new master (not our child) however the test ends.
    struct Reaper(Option<i32>);
    impl Drop for Reaper {
        fn drop(&mut self) {
            if let Some(pid) = self.0 {
                let children = common::procs::children_of(pid);
                common::procs::kill(pid, libc::SIGTERM);
                if !wait_until(Duration::from_secs(12), || !common::procs::alive(pid)) {
                    common::procs::kill(pid, libc::SIGKILL);
                }
                for c in children {
                    common::procs::kill(c, libc::SIGKILL);
                }
            }
        }
    }
    let _reaper = Reaper(new_pid);
    assert!(took_over, "no new master; log:\n{}", srv.log());
    assert!(
        srv.wait_exit(Duration::from_secs(30)),
        "old master did not exit; log:\n{}",
        srv.log()
    );
    let mut s = connect(addr, &config);
    let child: i32 = body(&get(&mut s, "/pid")).trim().parse().unwrap();
    assert_eq!(
        common::procs::stat(child).map(|s| s.0),
        new_pid,
        "served by a child of the new master"
    );
}
