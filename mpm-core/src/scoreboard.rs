//! The shared-memory scoreboard: one anonymous shared mapping made by the master before it
//! forks, written by every child in its own slots and read by the master and status pages.
//!
//! STUB: the scoreboard helper owns this file. The signatures below are the agreed contract.

use crate::error::Result;
use crate::kind::MpmKind;
use serde::{Deserialize, Serialize};

/// The status of one worker slot, with Apache's letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum WorkerStatus {
    /// `.` open slot, no process or thread.
    Dead = 0,
    /// `S` starting up.
    Starting = 1,
    /// `_` waiting for a connection.
    Ready = 2,
    /// `R` reading a request.
    BusyRead = 3,
    /// `W` processing / sending the reply.
    BusyWrite = 4,
    /// `K` waiting for the next request on a keep-alive connection.
    BusyKeepalive = 5,
    /// `L` logging.
    BusyLog = 6,
    /// `D` DNS lookup.
    BusyDns = 7,
    /// `C` closing the connection.
    Closing = 8,
    /// `G` gracefully finishing.
    Graceful = 9,
    /// `I` idle cleanup of worker.
    IdleKill = 10,
}

impl WorkerStatus {
    /// Apache's status letter.
    pub fn letter(self) -> char {
        b".S_RWKLDCGI"[self as usize] as char
    }
}

/// The scoreboard mapping. Cloning is cheap and shares the same memory; it stays valid in
/// forked children.
#[derive(Clone)]
pub struct Scoreboard {
    _private: (),
}

impl Scoreboard {
    /// Create a zeroed shared anonymous mapping for `server_limit` × `thread_limit` slots.
    pub fn create(kind: MpmKind, server_limit: u32, thread_limit: u32) -> Result<Scoreboard> {
        let _ = (kind, server_limit, thread_limit);
        unimplemented!("scoreboard helper")
    }
}

// ---- temporary contract stubs (the scoreboard helper replaces this file) ----
#[allow(missing_docs, dead_code, clippy::missing_panics_doc)]
impl Scoreboard {
    pub fn server_limit(&self) -> u32 { unimplemented!() }
    pub fn thread_limit(&self) -> u32 { unimplemented!() }
    pub fn generation(&self) -> u32 { unimplemented!() }
    pub fn set_generation(&self, _g: u32) { unimplemented!() }
    pub fn config_generation(&self) -> u32 { unimplemented!() }
    pub fn set_config_generation(&self, _g: u32) { unimplemented!() }
    pub fn set_restart_time(&self, _t: std::time::SystemTime) { unimplemented!() }
    pub fn set_master_pid(&self, _p: i32) { unimplemented!() }
    pub fn process(&self, _s: usize) -> ProcessSlot<'_> { unimplemented!() }
    pub fn worker(&self, _s: usize, _t: usize) -> WorkerSlot<'_> { unimplemented!() }
    pub fn reset_process(&self, _s: usize) { unimplemented!() }
    pub fn clear(&self) { unimplemented!() }
}
#[allow(missing_docs, dead_code)]
pub struct ProcessSlot<'a>(&'a ());
#[allow(missing_docs, dead_code)]
impl ProcessSlot<'_> {
    pub fn set_pid(&self, _p: i32) { unimplemented!() }
    pub fn set_generation(&self, _g: u32) { unimplemented!() }
    pub fn set_quiescing(&self, _q: bool) { unimplemented!() }
    pub fn not_accepting(&self) -> bool { unimplemented!() }
}
#[allow(missing_docs, dead_code)]
pub struct WorkerSlot<'a>(&'a ());
#[allow(missing_docs, dead_code)]
impl WorkerSlot<'_> {
    pub fn status(&self) -> WorkerStatus { unimplemented!() }
    pub fn set_status(&self, _s: WorkerStatus) { unimplemented!() }
}
