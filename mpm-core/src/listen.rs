//! Listening sockets: `Listen` in Apache's forms, binding, and systemd socket activation.
//!
//! STUB: the listen/http helper owns this file. The types below are the agreed contract.

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::str::FromStr;

/// One `Listen` directive: `80`, `127.0.0.1:8080`, `[::1]:8080` (an optional protocol
/// argument such as `http` is accepted and ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenSpec {
    /// The address to bind; a bare port means all IPv4 addresses.
    pub addr: SocketAddr,
}

impl FromStr for ListenSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        unimplemented!("listen helper")
    }
}

impl fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.addr)
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

/// A bound (or adopted) listening socket, CLOEXEC, blocking.
#[derive(Debug)]
pub struct Listener {
    /// The socket.
    pub socket: TcpListener,
    /// The address it is actually bound to (the real port when `:0` was asked).
    pub local_addr: SocketAddr,
}

/// Bind every spec, in order; a failure names the address and the OS error.
pub fn bind_all(specs: &[ListenSpec], opts: BindOptions) -> Result<Vec<Listener>> {
    let _ = (specs, opts);
    unimplemented!("listen helper")
}

/// Adopt sockets passed by systemd (`LISTEN_PID` == our pid, `LISTEN_FDS` = n, fds 3..3+n).
/// Returns `Ok(None)` when the variables are absent or meant for another process.
pub fn adopt_systemd() -> Result<Option<Vec<Listener>>> {
    unimplemented!("listen helper")
}
