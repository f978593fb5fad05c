//! The shared-memory scoreboard: one anonymous shared mapping made by the master before it
//! forks, written by every child in its own slots and read by the master and status pages.
//!
//! # Layout (version [`LAYOUT_VERSION`])
//!
//! One contiguous zero-filled `MAP_SHARED | MAP_ANONYMOUS` mapping, every field an atomic:
//!
//! ```text
//! header        (256 bytes)       magic, layout version, kind, limits, generations,
//!                                 restart time, master pid, lifecycle counters, the
//!                                 master's state (starting, running, stopping)
//! process[ServerLimit]            64-byte records (one cache line each): pid, generation,
//!                                 quiescing, not_accepting, connection counters
//! worker[ServerLimit][ThreadLimit] 8-byte aligned records: status letter, counters,
//!                                 times, text (client, request, vhost, protocol)
//! tickets       (128 bytes)       TLS session-ticket keys: current and previous, under
//!                                 a seqlock written by the master only
//! ```
//!
//! Counters use relaxed atomics and are written only by the thread that owns the slot (the
//! connection counters of a process by any thread of that process, with atomic
//! read-modify-write). The text fields of a worker are guarded by a per-worker sequence
//! counter (a seqlock): a reader retries a few times when it sees a write in progress, then
//! settles for what it read, so it never blocks and never returns torn text in practice.
//!
//! No reference into the mapping escapes this module: [`ProcessSlot`] and [`WorkerSlot`]
//! are borrowing handles whose methods return plain values, and [`Scoreboard::snapshot`]
//! copies everything out into serde-friendly structs.

use crate::error::{Error, Result};
use crate::info::MpmState;
use crate::kind::MpmKind;
use crate::sys::shm::{shm_record, SharedMemory};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::mem::size_of;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, AtomicU8};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A process record's `quiescing` word: stopping…
const QUIESCING: u32 = 1;
/// …and past the master's drain deadline (GracefulShutdownTimeout).
const DRAIN_EXPIRED: u32 = 2;

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

impl WorkerStatus {
    /// Every status, in Apache's numeric order (`Dead` = 0 … `IdleKill` = 10).
    pub const ALL: [WorkerStatus; 11] = [
        WorkerStatus::Dead,
        WorkerStatus::Starting,
        WorkerStatus::Ready,
        WorkerStatus::BusyRead,
        WorkerStatus::BusyWrite,
        WorkerStatus::BusyKeepalive,
        WorkerStatus::BusyLog,
        WorkerStatus::BusyDns,
        WorkerStatus::Closing,
        WorkerStatus::Graceful,
        WorkerStatus::IdleKill,
    ];

    /// The status with Apache's numeric value `v`, if any.
    pub fn from_u8(v: u8) -> Option<WorkerStatus> {
        Self::ALL.get(usize::from(v)).copied()
    }

    /// The status shown by Apache's letter `c`, if any.
    pub fn from_letter(c: char) -> Option<WorkerStatus> {
        Self::ALL.into_iter().find(|s| s.letter() == c)
    }
}

/// The magic number at the start of the mapping (`"MPMSCORE"` in little-endian bytes).
pub const MAGIC: u64 = u64::from_le_bytes(*b"MPMSCORE");
/// The version of the binary layout described in the module documentation.
pub const LAYOUT_VERSION: u32 = 4;
/// Bytes kept of the request line (Apache keeps the first 63 characters).
pub const REQUEST_MAX: usize = 63;
/// Bytes kept of the client address.
pub const CLIENT_MAX: usize = 63;
/// Bytes kept of the virtual host (`name:port`).
pub const VHOST_MAX: usize = 31;
/// Bytes kept of the protocol (`HTTP/1.1`).
pub const PROTOCOL_MAX: usize = 15;

/// How many times a reader retries text that is being rewritten before it settles
/// (with exponential back-off between tries: about 6,000 spin-loop hints in all).
const SEQ_RETRIES: usize = 16;

shm_record! {
    /// The global part of the scoreboard.
    struct Header {
        magic: AtomicU64,
        version: AtomicU32,
        kind: AtomicU32,
        server_limit: AtomicU32,
        thread_limit: AtomicU32,
        generation: AtomicU32,
        config_generation: AtomicU32,
        /// Unix seconds.
        restart_time: AtomicU64,
        master_pid: AtomicI32,
        hard_restarts: AtomicU32,
        graceful_restarts: AtomicU32,
        accept_backoffs: AtomicU32,
        /// Children that died of signal n (index n, 1..=31) without being asked to.
        crashes: [AtomicU32; 32],
        /// The master's [`MpmState`]: 0 starting (the zero-filled mapping), 1 running,
        /// 2 stopping.
        state: AtomicU32,
    }
}

shm_record! {
    /// One child process.
    #[repr(align(64))]
    struct ProcessRecord {
        pid: AtomicI32,
        generation: AtomicU32,
        quiescing: AtomicU32,
        not_accepting: AtomicU32,
        connections: AtomicU32,
        keep_alive: AtomicU32,
        writing: AtomicU32,
        closing: AtomicU32,
        wait_io: AtomicU32,
        reserved: AtomicU32,
    }
}

shm_record! {
    /// One worker (thread) slot.
    struct WorkerRecord {
        status: AtomicU8,
        pad: [AtomicU8; 3],
        /// Seqlock over the text fields: odd while a write is in progress.
        seq: AtomicU32,
        conn_count: AtomicU32,
        reserved: AtomicU32,
        access_count: AtomicU64,
        bytes_served: AtomicU64,
        my_access_count: AtomicU64,
        my_bytes_served: AtomicU64,
        conn_bytes: AtomicU64,
        /// Unix microseconds; 0 = never.
        last_used: AtomicU64,
        /// Unix microseconds of the start of the current/last request; 0 = none.
        start_time: AtomicU64,
        /// Unix microseconds of the end of the last request; 0 = none.
        stop_time: AtomicU64,
        /// Total microseconds spent in requests (lifetime, like the access count).
        duration: AtomicU64,
        client: [AtomicU64; 8],
        request: [AtomicU64; 8],
        vhost: [AtomicU64; 4],
        protocol: [AtomicU64; 2],
    }
}

shm_record! {
    /// The TLS session-ticket keys (feature `tls`): written by the master alone (a
    /// seqlock: `seq` is odd while it writes), read by every child on each ticket it seals
    /// or opens. A key is 48 bytes: a 16-byte name, then a 32-byte AEAD key.
    struct TicketRecord {
        seq: AtomicU64,
        current: [AtomicU64; 6],
        previous: [AtomicU64; 6],
        /// Bit 0: `current` is set; bit 1: `previous` is set.
        present: AtomicU64,
        /// Unix seconds of the last rotation.
        rotated_at: AtomicU64,
        reserved: AtomicU64,
    }
}

/// One session-ticket key as kept in the mapping: a 16-byte name, a 32-byte key.
pub(crate) type TicketKey = [u8; 48];

const HEADER_SIZE: usize = 256;
const TICKETS_SIZE: usize = size_of::<TicketRecord>();
const PROCESS_SIZE: usize = size_of::<ProcessRecord>();
const WORKER_SIZE: usize = size_of::<WorkerRecord>();
const _: () = assert!(size_of::<Header>() <= HEADER_SIZE);
const _: () = assert!(PROCESS_SIZE % 64 == 0);
const _: () = assert!(WORKER_SIZE % 8 == 0);

/// The strategy's name folded to 32 bits (FNV-1a), so a reader of the region can tell
/// which strategy wrote it without the header holding a string.
fn kind_code(kind: MpmKind) -> u32 {
    kind.name().bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Microseconds since the Unix epoch (0 for times before it).
fn unix_micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The wall clock in Unix microseconds, as the scoreboard stamps requests.
pub(crate) fn now_micros() -> u64 {
    unix_micros(SystemTime::now())
}

/// Truncate `s` to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Store `s` (already truncated to fit with a NUL) into `words`, NUL padded.
fn store_text(words: &[AtomicU64], s: &str) {
    let bytes = s.as_bytes();
    for (i, w) in words.iter().enumerate() {
        let mut buf = [0u8; 8];
        let start = (i * 8).min(bytes.len());
        let end = (i * 8 + 8).min(bytes.len());
        buf[..end - start].copy_from_slice(&bytes[start..end]);
        w.store(u64::from_ne_bytes(buf), Relaxed);
    }
}

/// Copy the raw words of a text field (the only work done inside a seqlock read).
fn copy_words<const N: usize>(words: &[AtomicU64; N]) -> [u64; N] {
    std::array::from_fn(|i| words[i].load(Relaxed))
}

/// Decode NUL-terminated text from copied words (lossy UTF-8, so a torn read cannot
/// panic).
fn decode_text(words: &[u64]) -> String {
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.truncate(len);
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Remove the password of an absolute URI's userinfo (`scheme://user:pass@host` →
/// `scheme://user@host`) in every whitespace-separated part of a request line.
fn strip_password(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        let ws = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (token, tail) = rest.split_at(ws);
        out.push_str(&strip_token_password(token));
        let sep_len = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..sep_len]);
        rest = &tail[sep_len..];
    }
    out
}

fn strip_token_password(token: &str) -> std::borrow::Cow<'_, str> {
    let Some(scheme_end) = token.find("://") else {
        return token.into();
    };
    let auth_start = scheme_end + 3;
    let auth_len = token[auth_start..]
        .find(['/', '?', '#'])
        .unwrap_or(token.len() - auth_start);
    let authority = &token[auth_start..auth_start + auth_len];
    let Some(at) = authority.rfind('@') else {
        return token.into();
    };
    let Some(colon) = authority[..at].find(':') else {
        return token.into();
    };
    let mut s = String::with_capacity(token.len());
    s.push_str(&token[..auth_start + colon]);
    s.push_str(&token[auth_start + at..]);
    s.into()
}

/// The scoreboard mapping, as its creator holds it: every slot and the header writable.
/// Cloning is cheap and shares the same memory; it stays valid in forked children.
///
/// Only the master holds one (and a test or benchmark that makes its own). Nobody else is
/// handed this type: a strategy's child gets [`ChildSlots`](crate::kit::ChildSlots), its
/// own slots only; a handler reads through [`ChildInfo::snapshot`](crate::child::ChildInfo::snapshot);
/// the embedding application through [`ScoreboardView`](crate::ScoreboardView).
#[derive(Clone)]
pub struct Scoreboard {
    shm: SharedMemory,
    kind: MpmKind,
    server_limit: u32,
    thread_limit: u32,
}

impl fmt::Debug for Scoreboard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoreboard")
            .field("kind", &self.kind)
            .field("server_limit", &self.server_limit)
            .field("thread_limit", &self.thread_limit)
            .field("bytes", &self.shm.len())
            .finish()
    }
}

impl Scoreboard {
    /// Create a zeroed shared anonymous mapping for `server_limit` × `thread_limit` slots.
    ///
    /// Fails with [`Error::Scoreboard`] when a limit is zero, the size overflows, or the
    /// kernel refuses the mapping. Call it in the master before forking.
    pub fn create(kind: MpmKind, server_limit: u32, thread_limit: u32) -> Result<Scoreboard> {
        if server_limit == 0 || thread_limit == 0 {
            return Err(Error::Scoreboard(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("ServerLimit ({server_limit}) and ThreadLimit ({thread_limit}) must be at least 1"),
            )));
        }
        let len = Self::mapping_size(server_limit, thread_limit).ok_or_else(|| {
            Error::Scoreboard(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("ServerLimit {server_limit} x ThreadLimit {thread_limit} is too large"),
            ))
        })?;
        let shm = SharedMemory::anonymous(len).map_err(Error::Scoreboard)?;
        let sb = Scoreboard {
            shm,
            kind,
            server_limit,
            thread_limit,
        };
        let h = sb.header();
        h.version.store(LAYOUT_VERSION, Relaxed);
        h.kind.store(kind_code(kind), Relaxed);
        h.server_limit.store(server_limit, Relaxed);
        h.thread_limit.store(thread_limit, Relaxed);
        h.magic.store(MAGIC, Release);
        Ok(sb)
    }

    /// The size in bytes of the mapping for these limits (`None` on overflow).
    pub fn mapping_size(server_limit: u32, thread_limit: u32) -> Option<usize> {
        let sl = usize::try_from(server_limit).ok()?;
        let tl = usize::try_from(thread_limit).ok()?;
        let procs = sl.checked_mul(PROCESS_SIZE)?;
        let workers = sl.checked_mul(tl)?.checked_mul(WORKER_SIZE)?;
        HEADER_SIZE
            .checked_add(procs)?
            .checked_add(workers)?
            .checked_add(TICKETS_SIZE)
    }

    fn tickets(&self) -> &TicketRecord {
        let base = HEADER_SIZE
            + self.server_limit as usize * PROCESS_SIZE
            + self.server_limit as usize * self.thread_limit as usize * WORKER_SIZE;
        self.shm.record(base)
    }

    /// Install new session-ticket keys (the master only: one writer). Readers never wait:
    /// one that sees a write in progress retries.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn set_ticket_keys(&self, current: &TicketKey, previous: Option<&TicketKey>) {
        let t = self.tickets();
        let seq = t.seq.load(Relaxed);
        t.seq.store(seq.wrapping_add(1) | 1, Relaxed);
        std::sync::atomic::fence(Release);
        let put = |dst: &[AtomicU64; 6], src: &TicketKey| {
            for (d, c) in dst.iter().zip(src.chunks_exact(8)) {
                d.store(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])), Relaxed);
            }
        };
        put(&t.current, current);
        if let Some(p) = previous {
            put(&t.previous, p);
        }
        t.present
            .store(1 | if previous.is_some() { 2 } else { 0 }, Relaxed);
        t.rotated_at.store(
            SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Relaxed,
        );
        t.seq.store((seq | 1).wrapping_add(1), Release);
    }

    /// The session-ticket keys: `(current, previous)`, `None` before the master set any.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn ticket_keys(&self) -> Option<(TicketKey, Option<TicketKey>)> {
        let t = self.tickets();
        let get = |src: &[AtomicU64; 6]| {
            let mut k = [0u8; 48];
            for (c, s) in k.chunks_exact_mut(8).zip(src.iter()) {
                c.copy_from_slice(&s.load(Relaxed).to_le_bytes());
            }
            k
        };
        for _ in 0..SEQ_RETRIES * 64 {
            let before = t.seq.load(Acquire);
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let present = t.present.load(Relaxed);
            let current = get(&t.current);
            let previous = get(&t.previous);
            std::sync::atomic::fence(Acquire);
            if t.seq.load(Relaxed) == before {
                if present & 1 == 0 {
                    return None;
                }
                return Some((current, (present & 2 != 0).then_some(previous)));
            }
        }
        None
    }

    fn header(&self) -> &Header {
        self.shm.record(0)
    }

    fn process_record(&self, slot: usize) -> &ProcessRecord {
        assert!(
            slot < self.server_limit as usize,
            "scoreboard process slot {slot} out of range (ServerLimit {})",
            self.server_limit
        );
        self.shm.record(HEADER_SIZE + slot * PROCESS_SIZE)
    }

    fn worker_record(&self, slot: usize, thread: usize) -> &WorkerRecord {
        assert!(
            slot < self.server_limit as usize && thread < self.thread_limit as usize,
            "scoreboard worker slot ({slot}, {thread}) out of range (ServerLimit {}, ThreadLimit {})",
            self.server_limit,
            self.thread_limit
        );
        let base = HEADER_SIZE + self.server_limit as usize * PROCESS_SIZE;
        let index = slot * self.thread_limit as usize + thread;
        self.shm.record(base + index * WORKER_SIZE)
    }

    /// The strategy this scoreboard was created for.
    pub fn kind(&self) -> MpmKind {
        self.kind
    }

    /// The number of process slots (ServerLimit at first start).
    pub fn server_limit(&self) -> u32 {
        self.server_limit
    }

    /// The number of worker slots per process (ThreadLimit; 1 for prefork).
    pub fn thread_limit(&self) -> u32 {
        self.thread_limit
    }

    /// The magic number found in the mapping's header (always [`MAGIC`]).
    pub fn magic(&self) -> u64 {
        self.header().magic.load(Acquire)
    }

    /// The layout version found in the mapping's header (always [`LAYOUT_VERSION`]).
    pub fn layout_version(&self) -> u32 {
        self.header().version.load(Relaxed)
    }

    /// The running (MPM) generation, incremented by the master at every restart.
    pub fn generation(&self) -> u32 {
        self.header().generation.load(Relaxed)
    }

    /// Set the running (MPM) generation.
    pub fn set_generation(&self, g: u32) {
        self.header().generation.store(g, Relaxed);
    }

    /// The configuration generation (1 at first start; `ParentServerConfigGeneration`).
    pub fn config_generation(&self) -> u32 {
        self.header().config_generation.load(Relaxed)
    }

    /// Set the configuration generation.
    pub fn set_config_generation(&self, g: u32) {
        self.header().config_generation.store(g, Relaxed);
    }

    /// When the server was last (re)started, to the second.
    pub fn restart_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.header().restart_time.load(Relaxed))
    }

    /// Record the (re)start time (kept to the second; times before 1970 store 0).
    pub fn set_restart_time(&self, t: SystemTime) {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.header().restart_time.store(secs, Relaxed);
    }

    /// The master's process id (0 until set).
    pub fn master_pid(&self) -> i32 {
        self.header().master_pid.load(Relaxed)
    }

    /// Record the master's process id.
    pub fn set_master_pid(&self, pid: i32) {
        self.header().master_pid.store(pid, Relaxed);
    }

    /// Where the server is in its life, as the master last published it
    /// ([`MpmState::Starting`] until it says otherwise).
    pub fn state(&self) -> MpmState {
        match self.header().state.load(Relaxed) {
            1 => MpmState::Running,
            2 => MpmState::Stopping,
            _ => MpmState::Starting,
        }
    }

    /// Publish where the server is in its life (the master: starting at start and at each
    /// restart, running once a child serves, stopping when it stops).
    pub fn set_state(&self, state: MpmState) {
        let v = match state {
            MpmState::Starting => 0,
            MpmState::Running => 1,
            MpmState::Stopping => 2,
        };
        self.header().state.store(v, Relaxed);
    }

    /// How many times [`clear`](Self::clear) (a hard restart) ran on this mapping.
    pub fn hard_restarts(&self) -> u32 {
        self.header().hard_restarts.load(Relaxed)
    }

    /// Count a graceful restart (the master, at each one).
    pub fn count_graceful_restart(&self) {
        self.header().graceful_restarts.fetch_add(1, Relaxed);
    }

    /// Count one accept back-off episode (a child, on EMFILE/ENFILE/ENOBUFS/ENOMEM).
    pub fn count_accept_backoff(&self) {
        self.header().accept_backoffs.fetch_add(1, Relaxed);
    }

    /// Count a child killed by `signal` that nobody asked to stop (the master).
    pub fn count_crash(&self, signal: i32) {
        if let Some(c) = usize::try_from(signal)
            .ok()
            .and_then(|i| self.header().crashes.get(i))
        {
            c.fetch_add(1, Relaxed);
        }
    }

    /// The lifecycle counters.
    pub fn lifecycle(&self) -> LifecycleCounters {
        let h = self.header();
        LifecycleCounters {
            hard_restarts: h.hard_restarts.load(Relaxed),
            graceful_restarts: h.graceful_restarts.load(Relaxed),
            accept_backoffs: h.accept_backoffs.load(Relaxed),
            crashes_by_signal: h
                .crashes
                .iter()
                .enumerate()
                .filter_map(|(sig, c)| {
                    let n = c.load(Relaxed);
                    (n > 0).then_some((sig as i32, n))
                })
                .collect(),
        }
    }

    /// The handle of process slot `slot`.
    ///
    /// # Panics
    ///
    /// If `slot >= server_limit()` (a programming error).
    pub fn process(&self, slot: usize) -> ProcessSlot<'_> {
        ProcessSlot {
            sb: self,
            rec: self.process_record(slot),
            slot,
        }
    }

    /// The handle of worker slot `thread` of process slot `slot`.
    ///
    /// # Panics
    ///
    /// If `slot >= server_limit()` or `thread >= thread_limit()` (a programming error).
    pub fn worker(&self, slot: usize, thread: usize) -> WorkerSlot<'_> {
        WorkerSlot {
            rec: self.worker_record(slot, thread),
            slot,
            thread,
        }
    }

    /// Reset a process slot after its child died: pid 0, flags and connection counters 0,
    /// every worker [`Dead`](WorkerStatus::Dead) with per-child counters (`my_*`),
    /// connection counters, times and text cleared. The lifetime totals (`access_count`,
    /// `bytes_served`, total duration) are kept, so `Total Accesses` survives child
    /// turnover as in Apache. The process generation is kept too (it is rewritten by the
    /// next child in the slot).
    ///
    /// Call only when no process writes this slot any more (after `waitpid`).
    ///
    /// # Panics
    ///
    /// If `slot >= server_limit()` (a programming error).
    pub fn reset_process(&self, slot: usize) {
        let p = self.process_record(slot);
        for f in [
            &p.quiescing,
            &p.not_accepting,
            &p.connections,
            &p.keep_alive,
            &p.writing,
            &p.closing,
            &p.wait_io,
        ] {
            f.store(0, Relaxed);
        }
        for t in 0..self.thread_limit as usize {
            let w = self.worker_record(slot, t);
            w.status.store(WorkerStatus::Dead as u8, Relaxed);
            w.my_access_count.store(0, Relaxed);
            w.my_bytes_served.store(0, Relaxed);
            w.conn_count.store(0, Relaxed);
            w.conn_bytes.store(0, Relaxed);
            w.start_time.store(0, Relaxed);
            w.stop_time.store(0, Relaxed);
            WorkerSlot::write_text(w, |w| {
                store_text(&w.client, "");
                store_text(&w.request, "");
                store_text(&w.vhost, "");
                store_text(&w.protocol, "");
            });
        }
        p.pid.store(0, Release);
    }

    /// Hard restart: zero every process and worker record and the header's generations and
    /// restart time, keeping the magic, layout version, kind, limits and master pid, and
    /// counting the restart in [`hard_restarts`](Self::hard_restarts).
    ///
    /// Call only when no child is running.
    pub fn clear(&self) {
        let h = self.header();
        h.generation.store(0, Relaxed);
        h.config_generation.store(0, Relaxed);
        h.restart_time.store(0, Relaxed);
        h.hard_restarts.fetch_add(1, Relaxed);
        for slot in 0..self.server_limit as usize {
            let p = self.process_record(slot);
            for f in [
                &p.generation,
                &p.quiescing,
                &p.not_accepting,
                &p.connections,
                &p.keep_alive,
                &p.writing,
                &p.closing,
                &p.wait_io,
                &p.reserved,
            ] {
                f.store(0, Relaxed);
            }
            p.pid.store(0, Relaxed);
            for t in 0..self.thread_limit as usize {
                let w = self.worker_record(slot, t);
                w.status.store(0, Relaxed);
                w.conn_count.store(0, Relaxed);
                w.reserved.store(0, Relaxed);
                for f in [
                    &w.access_count,
                    &w.bytes_served,
                    &w.my_access_count,
                    &w.my_bytes_served,
                    &w.conn_bytes,
                    &w.last_used,
                    &w.start_time,
                    &w.stop_time,
                    &w.duration,
                ] {
                    f.store(0, Relaxed);
                }
                WorkerSlot::write_text(w, |w| {
                    store_text(&w.client, "");
                    store_text(&w.request, "");
                    store_text(&w.vhost, "");
                    store_text(&w.protocol, "");
                });
            }
        }
    }

    /// Copy the whole scoreboard out (every process slot, every worker slot).
    pub fn snapshot(&self) -> ScoreboardSnapshot {
        let now = now_micros();
        let h = self.header();
        let processes = (0..self.server_limit as usize)
            .map(|slot| {
                let p = self.process(slot);
                ProcessSnapshot {
                    slot: slot as u32,
                    pid: p.pid(),
                    generation: p.generation(),
                    quiescing: p.quiescing(),
                    not_accepting: p.not_accepting(),
                    connections: p.connections(),
                    keep_alive: p.keep_alive(),
                    writing: p.writing(),
                    closing: p.closing(),
                    wait_io: p.wait_io(),
                    workers: (0..self.thread_limit as usize)
                        .map(|t| self.worker(slot, t).snapshot_at(now))
                        .collect(),
                }
            })
            .collect();
        ScoreboardSnapshot {
            lifecycle: self.lifecycle(),
            kind: self.kind,
            server_limit: self.server_limit,
            thread_limit: self.thread_limit,
            generation: h.generation.load(Relaxed),
            config_generation: h.config_generation.load(Relaxed),
            restart_time: h.restart_time.load(Relaxed),
            master_pid: h.master_pid.load(Relaxed),
            hard_restarts: h.hard_restarts.load(Relaxed),
            state: self.state(),
            processes,
        }
    }
}

/// A borrowing handle on one process slot; every method reads or writes the shared record.
#[derive(Clone, Copy)]
pub struct ProcessSlot<'a> {
    sb: &'a Scoreboard,
    rec: &'a ProcessRecord,
    slot: usize,
}

impl fmt::Debug for ProcessSlot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessSlot")
            .field("slot", &self.slot)
            .field("pid", &self.pid())
            .field("generation", &self.generation())
            .finish()
    }
}

macro_rules! connection_counter {
    ($field:ident, $get_doc:literal, $set:ident, $add:ident, $sub:ident) => {
        #[doc = $get_doc]
        pub fn $field(&self) -> u32 {
            self.rec.$field.load(Relaxed)
        }

        #[doc = concat!("Set `", stringify!($field), "`.")]
        pub fn $set(&self, v: u32) {
            self.rec.$field.store(v, Relaxed);
        }

        #[doc = concat!("Add `n` to `", stringify!($field), "` (saturating at `u32::MAX`).")]
        pub fn $add(&self, n: u32) {
            let _ = self
                .rec
                .$field
                .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_add(n)));
        }

        #[doc = concat!("Subtract `n` from `", stringify!($field), "` (saturating at 0).")]
        pub fn $sub(&self, n: u32) {
            let _ = self
                .rec
                .$field
                .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(n)));
        }
    };
}

impl<'a> ProcessSlot<'a> {
    /// The slot index.
    pub fn index(&self) -> usize {
        self.slot
    }

    /// The child's pid (0 = no process in this slot).
    pub fn pid(&self) -> i32 {
        self.rec.pid.load(Acquire)
    }

    /// Record the child's pid (0 frees the slot).
    pub fn set_pid(&self, pid: i32) {
        self.rec.pid.store(pid, Release);
    }

    /// The generation the child was started in.
    pub fn generation(&self) -> u32 {
        self.rec.generation.load(Relaxed)
    }

    /// Record the generation the child was started in.
    pub fn set_generation(&self, g: u32) {
        self.rec.generation.store(g, Relaxed);
    }

    /// True when the child is stopping (gracefully finishing; no longer counted).
    pub fn quiescing(&self) -> bool {
        self.rec.quiescing.load(Relaxed) != 0
    }

    /// Mark the child as stopping (or not). Marking it stopping again keeps a passed
    /// drain deadline ([`set_drain_expired`](Self::set_drain_expired)).
    pub fn set_quiescing(&self, q: bool) {
        if q {
            self.rec.quiescing.fetch_max(QUIESCING, Relaxed);
        } else {
            self.rec.quiescing.store(0, Relaxed);
        }
    }

    /// True when the master's drain deadline (GracefulShutdownTimeout) has passed for this
    /// stopping child: its idle connections should close now.
    pub fn drain_expired(&self) -> bool {
        self.rec.quiescing.load(Relaxed) == DRAIN_EXPIRED
    }

    /// Mark the child stopping with its drain deadline passed.
    pub fn set_drain_expired(&self) {
        self.rec.quiescing.fetch_max(DRAIN_EXPIRED, Relaxed);
    }

    /// True when the child stopped accepting new connections (event's accept limit).
    pub fn not_accepting(&self) -> bool {
        self.rec.not_accepting.load(Relaxed) != 0
    }

    /// Mark whether the child stopped accepting new connections.
    pub fn set_not_accepting(&self, v: bool) {
        self.rec.not_accepting.store(u32::from(v), Relaxed);
    }

    connection_counter!(
        connections,
        "Open connections of this child (event `ConnsTotal`).",
        set_connections,
        add_connections,
        sub_connections
    );
    connection_counter!(
        keep_alive,
        "Connections parked in asynchronous keep-alive (event).",
        set_keep_alive,
        add_keep_alive,
        sub_keep_alive
    );
    connection_counter!(
        writing,
        "Connections in asynchronous write completion (event).",
        set_writing,
        add_writing,
        sub_writing
    );
    connection_counter!(
        closing,
        "Connections in asynchronous lingering close (event).",
        set_closing,
        add_closing,
        sub_closing
    );
    connection_counter!(
        wait_io,
        "Connections waiting for I/O asynchronously (event, `ConnsAsyncWaitIO`).",
        set_wait_io,
        add_wait_io,
        sub_wait_io
    );

    /// The handle of this process's worker slot `thread`.
    ///
    /// # Panics
    ///
    /// If `thread >= thread_limit()` (a programming error).
    pub fn worker(&self, thread: usize) -> WorkerSlot<'a> {
        self.sb.worker(self.slot, thread)
    }
}

/// A borrowing handle on one worker slot; every method reads or writes the shared record.
///
/// Each worker slot is meant to be written by one thread at a time (the one that owns it).
#[derive(Clone, Copy)]
pub struct WorkerSlot<'a> {
    rec: &'a WorkerRecord,
    slot: usize,
    thread: usize,
}

impl fmt::Debug for WorkerSlot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerSlot")
            .field("slot", &self.slot)
            .field("thread", &self.thread)
            .field("status", &self.status())
            .finish()
    }
}

impl WorkerSlot<'_> {
    /// Run `write` as the writer side of the text seqlock.
    fn write_text(rec: &WorkerRecord, write: impl FnOnce(&WorkerRecord)) {
        let s = rec.seq.fetch_add(1, Relaxed); // odd: write in progress
        fence(Release);
        write(rec);
        rec.seq.store(s.wrapping_add(2), Release);
    }

    /// Read with the reader side of the text seqlock (bounded retries, never blocks).
    fn read_text<T>(&self, read: impl Fn(&WorkerRecord) -> T) -> T {
        let rec = self.rec;
        let mut last = None;
        for attempt in 0..SEQ_RETRIES {
            let s1 = rec.seq.load(Acquire);
            if s1 & 1 == 0 {
                let v = read(rec);
                fence(Acquire);
                if rec.seq.load(Relaxed) == s1 {
                    return v;
                }
                last = Some(v);
            }
            // Bounded exponential back-off (a few microseconds at most) so that a writer in
            // the middle of its short critical section can finish.
            for _ in 0..(1u32 << attempt.min(10)) {
                std::hint::spin_loop();
            }
            // Still inconsistent after the first half: the writer was most likely
            // descheduled inside its critical section (a loaded machine, where a torn read
            // showed in CI). Give up the CPU so it can finish, instead of spinning on.
            if attempt >= SEQ_RETRIES / 2 {
                std::thread::yield_now();
            }
        }
        last.unwrap_or_else(|| read(rec))
    }

    /// The process slot index.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The thread index within the process.
    pub fn thread(&self) -> usize {
        self.thread
    }

    /// The current status (an unknown byte reads as `Dead`).
    pub fn status(&self) -> WorkerStatus {
        WorkerStatus::from_u8(self.rec.status.load(Relaxed)).unwrap_or(WorkerStatus::Dead)
    }

    /// Set the status. Only the status byte changes.
    pub fn set_status(&self, s: WorkerStatus) {
        self.rec.status.store(s as u8, Relaxed);
    }

    /// Record the client address (text, at most [`CLIENT_MAX`] bytes kept).
    pub fn set_client(&self, client: &str) {
        let c = truncate(client, CLIENT_MAX);
        Self::write_text(self.rec, |r| store_text(&r.client, c));
    }

    /// The client address.
    pub fn client(&self) -> String {
        decode_text(&self.read_text(|r| copy_words(&r.client)))
    }

    /// Record the request line: a password in an absolute URI's userinfo is removed
    /// (`http://user:pw@host/` → `http://user@host/`), then the first [`REQUEST_MAX`] (63)
    /// bytes are kept (cut on a character boundary).
    pub fn set_request(&self, line: &str) {
        // Only an absolute URI (`scheme://`) can carry a password: most lines are copied
        // as they are, without building a new string per request.
        let clean: std::borrow::Cow<'_, str> = if line.contains("://") {
            strip_password(line).into()
        } else {
            line.into()
        };
        let r = truncate(&clean, REQUEST_MAX);
        Self::write_text(self.rec, |rec| store_text(&rec.request, r));
    }

    /// The request line.
    pub fn request(&self) -> String {
        decode_text(&self.read_text(|r| copy_words(&r.request)))
    }

    /// Record the virtual host (`name:port`, at most [`VHOST_MAX`] bytes kept).
    pub fn set_vhost(&self, vhost: &str) {
        let v = truncate(vhost, VHOST_MAX);
        Self::write_text(self.rec, |r| store_text(&r.vhost, v));
    }

    /// The virtual host.
    pub fn vhost(&self) -> String {
        decode_text(&self.read_text(|r| copy_words(&r.vhost)))
    }

    /// Record the protocol (`HTTP/1.1`, at most [`PROTOCOL_MAX`] bytes kept).
    pub fn set_protocol(&self, protocol: &str) {
        let p = truncate(protocol, PROTOCOL_MAX);
        Self::write_text(self.rec, |r| store_text(&r.protocol, p));
    }

    /// The protocol.
    pub fn protocol(&self) -> String {
        decode_text(&self.read_text(|r| copy_words(&r.protocol)))
    }

    /// A request begins: stamp its start time and count it on the current connection.
    pub fn start_request(&self) {
        self.rec.start_time.store(now_micros(), Relaxed);
        self.rec.conn_count.fetch_add(1, Relaxed);
    }

    /// A request ended having sent `bytes`: count it in the lifetime, per-child and
    /// per-connection totals, add its duration, and stamp `last_used`.
    pub fn finish_request(&self, bytes: u64) {
        let now = now_micros();
        let r = self.rec;
        r.access_count.fetch_add(1, Relaxed);
        r.my_access_count.fetch_add(1, Relaxed);
        r.bytes_served.fetch_add(bytes, Relaxed);
        r.my_bytes_served.fetch_add(bytes, Relaxed);
        r.conn_bytes.fetch_add(bytes, Relaxed);
        let start = r.start_time.load(Relaxed);
        if start != 0 {
            r.duration.fetch_add(now.saturating_sub(start), Relaxed);
        }
        r.stop_time.store(now, Relaxed);
        r.last_used.store(now, Relaxed);
    }

    /// A new connection begins on this worker: reset the per-connection counters.
    pub fn new_connection(&self) {
        self.rec.conn_count.store(0, Relaxed);
        self.rec.conn_bytes.store(0, Relaxed);
    }

    /// Requests served by this slot over the server's life (kept across child turnover).
    pub fn access_count(&self) -> u64 {
        self.rec.access_count.load(Relaxed)
    }

    /// Bytes served by this slot over the server's life.
    pub fn bytes_served(&self) -> u64 {
        self.rec.bytes_served.load(Relaxed)
    }

    /// Requests served by this slot in the current child.
    pub fn my_access_count(&self) -> u64 {
        self.rec.my_access_count.load(Relaxed)
    }

    /// Bytes served by this slot in the current child.
    pub fn my_bytes_served(&self) -> u64 {
        self.rec.my_bytes_served.load(Relaxed)
    }

    /// Requests on the current connection.
    pub fn conn_count(&self) -> u32 {
        self.rec.conn_count.load(Relaxed)
    }

    /// Bytes sent on the current connection.
    pub fn conn_bytes(&self) -> u64 {
        self.rec.conn_bytes.load(Relaxed)
    }

    /// When the last request finished (`None` if never).
    pub fn last_used(&self) -> Option<SystemTime> {
        match self.rec.last_used.load(Relaxed) {
            0 => None,
            us => Some(UNIX_EPOCH + Duration::from_micros(us)),
        }
    }

    /// A copy of this slot's values.
    pub fn snapshot(&self) -> WorkerSnapshot {
        self.snapshot_at(now_micros())
    }

    /// A copy of this slot's values, a running request's duration measured up to `now`
    /// (Unix microseconds): the master's HandlerTimeout check passes its own clock.
    pub(crate) fn snapshot_at(&self, now: u64) -> WorkerSnapshot {
        let r = self.rec;
        let start = r.start_time.load(Relaxed);
        let stop = r.stop_time.load(Relaxed);
        let request_duration_ms = if start == 0 {
            0
        } else if stop >= start {
            (stop - start) / 1000
        } else {
            now.saturating_sub(start) / 1000
        };
        let (client, request, vhost, protocol) = self.read_text(|r| {
            (
                copy_words(&r.client),
                copy_words(&r.request),
                copy_words(&r.vhost),
                copy_words(&r.protocol),
            )
        });
        let (client, request, vhost, protocol) = (
            decode_text(&client),
            decode_text(&request),
            decode_text(&vhost),
            decode_text(&protocol),
        );
        WorkerSnapshot {
            thread: self.thread as u32,
            status: self.status().letter(),
            access_count: r.access_count.load(Relaxed),
            bytes_served: r.bytes_served.load(Relaxed),
            my_access_count: r.my_access_count.load(Relaxed),
            my_bytes_served: r.my_bytes_served.load(Relaxed),
            conn_count: r.conn_count.load(Relaxed),
            conn_bytes: r.conn_bytes.load(Relaxed),
            duration_us: r.duration.load(Relaxed),
            last_used: r.last_used.load(Relaxed),
            request_duration_ms,
            client,
            request,
            vhost,
            protocol,
        }
    }
}

/// A copy of the whole scoreboard at one moment (see [`Scoreboard::snapshot`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ScoreboardSnapshot {
    /// Restarts, crashes and accept back-offs since the master started.
    #[serde(default)]
    pub lifecycle: LifecycleCounters,
    /// The strategy.
    pub kind: MpmKind,
    /// Process slots.
    pub server_limit: u32,
    /// Worker slots per process.
    pub thread_limit: u32,
    /// The running (MPM) generation.
    pub generation: u32,
    /// The configuration generation.
    pub config_generation: u32,
    /// Last (re)start, Unix seconds.
    pub restart_time: u64,
    /// The master's pid.
    pub master_pid: i32,
    /// Hard restarts counted so far.
    pub hard_restarts: u32,
    /// Where the server is in its life, as the master published it.
    #[serde(default)]
    pub state: MpmState,
    /// Every process slot, in slot order (`server_limit` entries).
    pub processes: Vec<ProcessSnapshot>,
}

/// Lifecycle counters kept in the scoreboard header (they survive restarts; only a new
/// master starts them at zero).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleCounters {
    /// Hard restarts (SIGHUP).
    pub hard_restarts: u32,
    /// Graceful restarts (SIGUSR1).
    pub graceful_restarts: u32,
    /// Accept back-off episodes (descriptor or memory shortage).
    pub accept_backoffs: u32,
    /// (signal number, children killed by it without being asked to stop).
    pub crashes_by_signal: Vec<(i32, u32)>,
}

impl ScoreboardSnapshot {
    /// An all-dead snapshot of the given shape (handy for tests and tools).
    pub fn empty(kind: MpmKind, server_limit: u32, thread_limit: u32) -> ScoreboardSnapshot {
        ScoreboardSnapshot {
            lifecycle: LifecycleCounters::default(),
            kind,
            server_limit,
            thread_limit,
            generation: 0,
            config_generation: 0,
            restart_time: 0,
            master_pid: 0,
            hard_restarts: 0,
            state: MpmState::Starting,
            processes: (0..server_limit)
                .map(|slot| ProcessSnapshot {
                    slot,
                    workers: (0..thread_limit)
                        .map(|thread| WorkerSnapshot {
                            thread,
                            ..WorkerSnapshot::default()
                        })
                        .collect(),
                    ..ProcessSnapshot::default()
                })
                .collect(),
        }
    }

    /// The restart time as a `SystemTime`.
    pub fn restart_system_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.restart_time)
    }
}

/// A copy of one process slot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ProcessSnapshot {
    /// Slot index.
    pub slot: u32,
    /// The child's pid (0 = empty slot).
    pub pid: i32,
    /// The generation the child was started in.
    pub generation: u32,
    /// The child is stopping.
    pub quiescing: bool,
    /// The child stopped accepting new connections.
    pub not_accepting: bool,
    /// Open connections.
    pub connections: u32,
    /// Asynchronous keep-alive connections.
    pub keep_alive: u32,
    /// Connections in asynchronous write completion.
    pub writing: u32,
    /// Connections in asynchronous lingering close.
    pub closing: u32,
    /// Connections waiting for I/O asynchronously.
    pub wait_io: u32,
    /// Every worker slot of the process (`thread_limit` entries).
    pub workers: Vec<WorkerSnapshot>,
}

/// A copy of one worker slot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WorkerSnapshot {
    /// Thread index within the process.
    pub thread: u32,
    /// Apache's status letter (`.`, `S`, `_`, `R`, `W`, `K`, `L`, `D`, `C`, `G`, `I`).
    pub status: char,
    /// Requests served by this slot over the server's life.
    pub access_count: u64,
    /// Bytes served by this slot over the server's life.
    pub bytes_served: u64,
    /// Requests served in the current child.
    pub my_access_count: u64,
    /// Bytes served in the current child.
    pub my_bytes_served: u64,
    /// Requests on the current connection.
    pub conn_count: u32,
    /// Bytes on the current connection.
    pub conn_bytes: u64,
    /// Total time spent in requests over the server's life, microseconds.
    pub duration_us: u64,
    /// When the last request finished, Unix microseconds (0 = never).
    pub last_used: u64,
    /// Duration of the current request (time so far) or of the last one, milliseconds.
    pub request_duration_ms: u64,
    /// Client address.
    pub client: String,
    /// Request line (first 63 bytes, password removed).
    pub request: String,
    /// Virtual host.
    pub vhost: String,
    /// Protocol.
    pub protocol: String,
}

impl Default for WorkerSnapshot {
    fn default() -> Self {
        WorkerSnapshot {
            thread: 0,
            status: '.',
            access_count: 0,
            bytes_served: 0,
            my_access_count: 0,
            my_bytes_served: 0,
            conn_count: 0,
            conn_bytes: 0,
            duration_us: 0,
            last_used: 0,
            request_duration_ms: 0,
            client: String::new(),
            request: String::new(),
            vhost: String::new(),
            protocol: String::new(),
        }
    }
}

impl WorkerSnapshot {
    /// The status for the letter (an unknown letter reads as `Dead`).
    pub fn worker_status(&self) -> WorkerStatus {
        WorkerStatus::from_letter(self.status).unwrap_or(WorkerStatus::Dead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_password_variants() {
        assert_eq!(
            strip_password("GET http://u:secret@h.example/x?a:b@c HTTP/1.1"),
            "GET http://u@h.example/x?a:b@c HTTP/1.1"
        );
        assert_eq!(
            strip_password("GET http://u@h/ HTTP/1.1"),
            "GET http://u@h/ HTTP/1.1"
        );
        assert_eq!(strip_password("GET /a:b@c HTTP/1.1"), "GET /a:b@c HTTP/1.1");
        assert_eq!(strip_password("GET  https://a:b@h"), "GET  https://a@h");
    }

    #[test]
    fn layout_sizes() {
        assert_eq!(PROCESS_SIZE, 64);
        assert_eq!(WORKER_SIZE % 8, 0);
        assert_eq!(
            Scoreboard::mapping_size(2, 3),
            Some(HEADER_SIZE + 2 * PROCESS_SIZE + 6 * WORKER_SIZE + TICKETS_SIZE)
        );
        assert_eq!(Scoreboard::mapping_size(u32::MAX, u32::MAX), None);
    }

    #[test]
    fn the_header_kind_code_is_the_fnv1a_hash_of_the_strategy_name() {
        // What a reader of the mapping compares against (FNV-1a, 32 bits).
        assert_eq!(kind_code(MpmKind::Prefork), 0x7a82_cb02);
        assert_eq!(kind_code(MpmKind::Worker), 0x95ce_3757);
        assert_eq!(kind_code(MpmKind::Event), 0xfe30_d09f);
        let sb = Scoreboard::create(MpmKind::Worker, 1, 1).unwrap();
        assert_eq!(sb.header().kind.load(Relaxed), 0x95ce_3757);
    }

    #[test]
    fn truncate_cuts_at_or_below_max_on_a_character_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcdef", 3), "abc");
        // é is two bytes (1..3), € three (1..4): a cut inside one backs off before it.
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("a€b", 3), "a");
        assert_eq!(truncate("a€b", 2), "a");
        assert_eq!(truncate("a€b", 4), "a€");
    }

    #[test]
    fn lifecycle_counters_count_restarts_back_offs_and_crashes_by_signal() {
        let sb = Scoreboard::create(MpmKind::Prefork, 2, 1).unwrap();
        assert_eq!(sb.lifecycle(), LifecycleCounters::default());
        sb.count_graceful_restart();
        sb.count_graceful_restart();
        sb.count_accept_backoff();
        for sig in [9, 11, 9, -1, 32, 1000] {
            // Signals outside 1..=31 are not counted (and never panic).
            sb.count_crash(sig);
        }
        sb.clear();
        sb.clear();
        assert_eq!(sb.hard_restarts(), 2);
        assert_eq!(
            sb.lifecycle(),
            LifecycleCounters {
                hard_restarts: 2,
                graceful_restarts: 2,
                accept_backoffs: 1,
                crashes_by_signal: vec![(9, 2), (11, 1)],
            }
        );
    }

    #[test]
    fn slot_handles_know_their_indices() {
        let sb = Scoreboard::create(MpmKind::Worker, 3, 4).unwrap();
        assert_eq!(sb.process(2).index(), 2);
        let w = sb.worker(2, 3);
        assert_eq!((w.slot(), w.thread()), (2, 3));
    }

    #[test]
    fn request_duration_is_stop_minus_start_or_now_minus_start_while_running() {
        let sb = Scoreboard::create(MpmKind::Prefork, 1, 1).unwrap();
        let w = sb.worker(0, 0);
        assert_eq!(
            w.snapshot_at(9_000_000).request_duration_ms,
            0,
            "never started"
        );
        w.rec.start_time.store(5_000_000, Relaxed);
        w.rec.stop_time.store(7_500_000, Relaxed);
        assert_eq!(
            w.snapshot_at(9_000_000).request_duration_ms,
            2_500,
            "finished"
        );
        w.rec.stop_time.store(1_000_000, Relaxed);
        assert_eq!(
            w.snapshot_at(9_000_000).request_duration_ms,
            4_000,
            "running"
        );
        assert_eq!(
            w.snapshot_at(4_000_000).request_duration_ms,
            0,
            "clock went back"
        );
    }

    #[test]
    fn the_snapshot_restart_time_is_seconds_after_the_epoch() {
        let mut s = ScoreboardSnapshot::empty(MpmKind::Event, 1, 1);
        s.restart_time = 1_795_705_445;
        assert_eq!(
            s.restart_system_time(),
            UNIX_EPOCH + Duration::from_secs(1_795_705_445)
        );
    }
}
