//! Listening sockets: `Listen` in Apache's forms, binding, and systemd socket activation.
//!
//! * [`ListenSpec`] parses what a `Listen` directive takes: `80` (all IPv4 addresses),
//!   `127.0.0.1:8080`, `*:80`, `[::1]:8080`, `[::]:80`, optionally followed by a protocol
//!   word (`http`, or `https`: TLS on that listener, with the `tls` feature). Host names are refused: we never
//!   resolve names at startup (a DNS hiccup must not decide which address a server binds).
//!   Port `0` is accepted (Apache refuses it) and means "any free port", which embedding
//!   programs and tests need; [`Listener::local_addr`] then reports the real port.
//! * [`bind_all`] binds in the master, before any fork: SO_REUSEADDR, SO_KEEPALIVE,
//!   IPV6_V6ONLY on IPv6 (as Apache without v4-mapped addresses), optional SO_REUSEPORT,
//!   close-on-exec, `listen(backlog)`, left blocking.
//! * [`adopt_systemd`] takes the sockets systemd passes (`LISTEN_PID`, `LISTEN_FDS`).

use crate::error::{Error, Result};
use crate::sys::fd;
use serde::{Deserialize, Serialize};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd};
use std::str::FromStr;

/// One `Listen` directive: `80`, `127.0.0.1:8080`, `[::1]:8080`, with an optional
/// protocol: `http` (the default) or `https` (TLS on this listener; needs the `tls`
/// feature and a certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenSpec {
    /// The address to bind; a bare port means all IPv4 addresses.
    pub addr: SocketAddr,
    /// `Listen … https`: connections on this listener speak TLS.
    pub https: bool,
}

impl ListenSpec {
    /// A spec for an address given in code (plain HTTP).
    pub fn new(addr: SocketAddr) -> ListenSpec {
        ListenSpec { addr, https: false }
    }

    /// A spec for a TLS listener given in code (`Listen addr https`).
    pub fn https(addr: SocketAddr) -> ListenSpec {
        ListenSpec { addr, https: true }
    }
}

impl From<SocketAddr> for ListenSpec {
    fn from(addr: SocketAddr) -> Self {
        ListenSpec::new(addr)
    }
}

const FORMS: &str = "expected a port (80), an IPv4 address and port (127.0.0.1:8080) or an IPv6 address in brackets and port ([::1]:8080)";

fn parse_port(s: &str, whole: &str) -> Result<u16, String> {
    if s.is_empty() {
        return Err(format!("Listen {whole}: port must be specified"));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("Listen {whole}: invalid port '{s}' ({FORMS})"));
    }
    match s.parse::<u32>() {
        Ok(p) if p <= u32::from(u16::MAX) => Ok(p as u16),
        _ => Err(format!(
            "Listen {whole}: port {s} out of range (must be 0-65535)"
        )),
    }
}

fn looks_like_host_name(host: &str) -> bool {
    host.bytes().any(|b| b.is_ascii_alphabetic())
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}

fn parse_addr(a: &str) -> Result<SocketAddr, String> {
    if a.bytes().all(|b| b.is_ascii_digit()) {
        let port = parse_port(a, a)?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if let Some(rest) = a.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(format!("Listen {a}: missing ']' after the IPv6 address"));
        };
        let ip: std::net::Ipv6Addr = host
            .parse()
            .map_err(|_| format!("Listen {a}: '{host}' is not a valid IPv6 address"))?;
        let Some(port) = after.strip_prefix(':') else {
            return Err(format!("Listen {a}: port must be specified"));
        };
        let port = parse_port(port, a)?;
        return Ok(SocketAddr::new(IpAddr::V6(ip), port));
    }
    let Some((host, port)) = a.rsplit_once(':') else {
        if looks_like_host_name(a) {
            return Err(format!(
                "Listen {a}: host names are not resolved, give a numeric IP address and a port ({FORMS})"
            ));
        }
        if a.parse::<IpAddr>().is_ok() {
            return Err(format!("Listen {a}: port must be specified"));
        }
        return Err(format!("Listen {a}: not a port or address ({FORMS})"));
    };
    if host.contains(':') {
        return Err(format!(
            "Listen {a}: an IPv6 address must be written in brackets, as in [::1]:8080"
        ));
    }
    let port = parse_port(port, a)?;
    if host == "*" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(SocketAddr::new(IpAddr::V4(ip), port));
    }
    if looks_like_host_name(host) {
        return Err(format!(
            "Listen {a}: host names are not resolved, give a numeric IP address instead of '{host}'"
        ));
    }
    Err(format!(
        "Listen {a}: '{host}' is not a valid IPv4 address ({FORMS})"
    ))
}

impl FromStr for ListenSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words = s.split_whitespace();
        let Some(addr) = words.next() else {
            return Err(format!("Listen requires an address ({FORMS})"));
        };
        let mut https = false;
        if let Some(proto) = words.next() {
            if proto.eq_ignore_ascii_case("https") {
                https = true;
            } else if !proto.eq_ignore_ascii_case("http") {
                return Err(format!(
                    "Listen {addr} {proto}: unsupported protocol '{proto}' (expected http or https)"
                ));
            }
        }
        if words.next().is_some() {
            return Err(format!(
                "Listen {}: too many arguments (expected an address and an optional protocol)",
                s.trim()
            ));
        }
        Ok(ListenSpec {
            addr: parse_addr(addr)?,
            https,
        })
    }
}

impl fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.addr)?;
        if self.https {
            f.write_str(" https")?;
        }
        Ok(())
    }
}

impl Serialize for ListenSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ListenSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Options for binding.
#[derive(Debug, Clone, Copy)]
pub struct BindOptions {
    /// listen(2) backlog.
    pub backlog: i32,
    /// Set SO_REUSEPORT.
    pub reuse_port: bool,
}

impl Default for BindOptions {
    /// Apache's `ListenBacklog` default (511), no SO_REUSEPORT.
    fn default() -> Self {
        BindOptions {
            backlog: 511,
            reuse_port: false,
        }
    }
}

/// A bound (or adopted) listening socket, CLOEXEC, blocking.
#[derive(Debug)]
pub struct Listener {
    /// The socket.
    pub socket: TcpListener,
    /// The address it is actually bound to (the real port when `:0` was asked).
    pub local_addr: SocketAddr,
    /// Its `Listen` said `https`: connections accepted here speak TLS (false for sockets
    /// adopted from systemd).
    pub https: bool,
}

impl Listener {
    /// A second handle to the same socket (`dup`, close-on-exec), e.g. for another thread.
    pub fn try_clone(&self) -> io::Result<Listener> {
        Ok(Listener {
            socket: self.socket.try_clone()?,
            local_addr: self.local_addr,
            https: self.https,
        })
    }
}

fn bind_one(addr: SocketAddr, opts: BindOptions) -> io::Result<Listener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // socket2 already asks for SOCK_CLOEXEC; say it again so it never depends on that.
    socket.set_cloexec(true)?;
    socket.set_reuse_address(true)?;
    socket.set_keepalive(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if opts.reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(opts.backlog)?;
    socket.set_nonblocking(false)?;
    let socket: TcpListener = socket.into();
    let local_addr = socket.local_addr()?;
    Ok(Listener {
        socket,
        local_addr,
        https: false,
    })
}

/// Bind every spec, in order; a failure names the address and the OS error.
///
/// The same address given twice is bound once (but every `:0` is its own socket, since
/// each asks for a port of its own). Must run in the master before it forks;
/// children inherit the sockets (they are close-on-exec, so an `exec`ed program does not).
pub fn bind_all(specs: &[ListenSpec], opts: BindOptions) -> Result<Vec<Listener>> {
    let mut seen: Vec<SocketAddr> = Vec::with_capacity(specs.len());
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        if spec.addr.port() != 0 && seen.contains(&spec.addr) {
            continue;
        }
        seen.push(spec.addr);
        let mut l = bind_one(spec.addr, opts).map_err(|source| Error::Bind {
            addr: spec.addr,
            source,
        })?;
        l.https = spec.https;
        tracing::debug!(addr = %l.local_addr, "listening");
        out.push(l);
    }
    Ok(out)
}

/// Mark the adopted sockets (systemd's, or those a binary upgrade handed over) whose
/// `Listen` says `https`: the same address, or the same port of an unspecified address;
/// a `:0` spec matches the socket at its position when there are as many sockets as specs
/// (a binary upgrade passes them in the order they were bound).
pub fn mark_https(adopted: &mut [Listener], specs: &[ListenSpec]) {
    let positional = adopted.len() == specs.len();
    for (i, l) in adopted.iter_mut().enumerate() {
        let a = l.local_addr;
        l.https = specs.iter().any(|s| {
            s.https
                && (s.addr == a
                    || (s.addr.port() == a.port()
                        && s.addr.ip().is_unspecified()
                        && s.addr.is_ipv4() == a.is_ipv4()))
        }) || (positional && specs[i].https && specs[i].addr.port() == 0);
    }
}

/// Put every listener in non-blocking (`true`) or blocking (`false`) mode.
///
/// Apache makes listeners non-blocking when a process polls several of them, so a
/// connection taken by another process between `poll` and `accept` cannot block it.
pub fn set_nonblocking_all(listeners: &[Listener], nonblocking: bool) -> io::Result<()> {
    for l in listeners {
        l.socket.set_nonblocking(nonblocking)?;
    }
    Ok(())
}

/// Whether the close-on-exec flag is set on a listener's descriptor.
pub fn is_cloexec(l: &Listener) -> bool {
    fd::cloexec(&l.socket.as_fd()).unwrap_or(false)
}

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: i32 = 3;

fn check_inherited(n: i32) -> Result<()> {
    let verdict = fd::inspect_inherited(n, |s: SockRef<'_>| -> Result<(), String> {
        let is_listener = s
            .is_listener()
            .map_err(|e| format!("descriptor {n} is not a socket ({e})"))?;
        if s.r#type().map_err(|e| e.to_string())? != Type::STREAM {
            return Err(format!("descriptor {n} is not a stream socket"));
        }
        let domain = s.domain().map_err(|e| e.to_string())?;
        if domain != Domain::IPV4 && domain != Domain::IPV6 {
            return Err(format!(
                "descriptor {n} is not a TCP socket (only IPv4 and IPv6 listeners can be adopted)"
            ));
        }
        if !is_listener {
            return Err(format!(
                "descriptor {n} is not a listening socket (SO_ACCEPTCONN is off)"
            ));
        }
        Ok(())
    });
    match verdict {
        None => Err(Error::SocketActivation(format!(
            "descriptor {n} named by LISTEN_FDS is not open"
        ))),
        Some(Err(msg)) => Err(Error::SocketActivation(msg)),
        Some(Ok(())) => Ok(()),
    }
}

/// Adopt sockets passed by systemd (`LISTEN_PID` == our pid, `LISTEN_FDS` = n, fds 3..3+n).
/// Returns `Ok(None)` when the variables are absent or meant for another process.
///
/// Every descriptor must be an IPv4/IPv6 listening stream socket, or the whole adoption
/// fails with [`Error::SocketActivation`]. Adopted sockets are made close-on-exec and
/// blocking. `LISTEN_FDS=0` is treated as "nothing passed" (`Ok(None)`).
///
/// On success (and on `LISTEN_FDS=0`) `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` are
/// removed from the environment, so children and `exec`ed programs do not see them. This
/// mutates the process environment: call it only from the single-threaded master at
/// startup, before any thread or runtime exists (as DESIGN §4 already requires).
pub fn adopt_systemd() -> Result<Option<Vec<Listener>>> {
    let Some(pid) = std::env::var_os("LISTEN_PID") else {
        return Ok(None);
    };
    let pid = pid
        .to_str()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .ok_or_else(|| {
            Error::SocketActivation(format!("LISTEN_PID={pid:?} is not a process id"))
        })?;
    if pid != std::process::id() {
        tracing::debug!(
            listen_pid = pid,
            "LISTEN_PID names another process; ignored"
        );
        return Ok(None);
    }
    let fds = std::env::var("LISTEN_FDS")
        .map_err(|_| Error::SocketActivation("LISTEN_PID is set but LISTEN_FDS is not".into()))?;
    let n: i32 = fds
        .trim()
        .parse()
        .ok()
        .filter(|n| (0..=4096).contains(n))
        .ok_or_else(|| {
            Error::SocketActivation(format!("LISTEN_FDS={fds:?} is not a descriptor count"))
        })?;
    if n == 0 {
        unset_activation_env();
        return Ok(None);
    }
    for i in 0..n {
        check_inherited(LISTEN_FDS_START + i)?;
    }
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let raw = LISTEN_FDS_START + i;
        let owned = fd::take_inherited(raw)
            .map_err(|e| Error::SocketActivation(format!("cannot take descriptor {raw}: {e}")))?;
        let socket = Socket::from(owned);
        let setup = |s: &Socket| -> io::Result<SocketAddr> {
            s.set_cloexec(true)?;
            s.set_nonblocking(false)?;
            s.local_addr()?
                .as_socket()
                .ok_or_else(|| io::Error::other("not an IP socket"))
        };
        let local_addr = setup(&socket)
            .map_err(|e| Error::SocketActivation(format!("descriptor {raw}: {e}")))?;
        tracing::debug!(fd = socket.as_raw_fd(), addr = %local_addr, "adopted listener");
        out.push(Listener {
            socket: socket.into(),
            local_addr,
            https: false,
        });
    }
    unset_activation_env();
    Ok(Some(out))
}

fn unset_activation_env() {
    // Single-threaded master at startup (see `adopt_systemd`), so no other thread can be
    // reading the environment while it changes.
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
}
