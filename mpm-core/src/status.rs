//! Status output: Apache's `server-status?auto`, JSON, HTML and Prometheus text, rendered
//! from a snapshot.
//!
//! Every renderer takes a [`ScoreboardSnapshot`] (see
//! [`Scoreboard::snapshot`](crate::scoreboard::Scoreboard::snapshot)) and a
//! [`StatusContext`] carrying what the scoreboard does not know (names, the clock, the
//! effective limits). The counting rules are mod_status's:
//!
//! * only processes with a pid and not quiescing count towards Busy/Idle/Graceful;
//! * `_` is idle only in a process of the current generation; `G` is graceful; every other
//!   letter except `.`, `S` and `I` is busy;
//! * the scoreboard string skips "disabled" slots: dead ones at process slot
//!   `>= max_daemons` or thread `>= threads_per_child`.
//!
//! Times are printed in UTC (`Thursday, 26-Nov-2026 15:04:05 UTC`); floats like C's `%g`
//! (see [`format_g`]). The CPU lines of Apache's output are not produced (not measured).

use crate::info::MpmState;
use crate::kind::MpmKind;
use crate::limits::Limits;
use crate::scoreboard::{ProcessSnapshot, ScoreboardSnapshot, WorkerSnapshot};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the renderers need beyond the scoreboard.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusContext {
    /// The server name (first line of `?auto`, page title).
    pub server_name: String,
    /// `ServerVersion`, e.g. `mpm/0.1.0 (Unix)`.
    pub server_version: String,
    /// The strategy (`ServerMPM`).
    pub kind: MpmKind,
    /// `Server Built`: a build description or date.
    pub server_built: String,
    /// The current time (fixed in tests).
    pub now: SystemTime,
    /// Apache's `AP_MPMQ_MAX_DAEMONS`: MaxRequestWorkers for prefork, MaxRequestWorkers /
    /// ThreadsPerChild (capped by ServerLimit) for worker and event.
    pub max_daemons: u32,
    /// ThreadsPerChild (1 for prefork).
    pub threads_per_child: u32,
    /// ExtendedStatus (default on, as with Apache when mod_status is loaded): totals and
    /// per-worker details are shown only when on.
    pub extended_status: bool,
    /// 1, 5 and 15 minute load averages; `None` prints `-1.00` as Apache does when the
    /// load cannot be read.
    pub load: Option<[f64; 3]>,
    /// CPU time of the server's processes (the HTML page's `CPU Usage` line; `None`
    /// leaves it out). [`crate::status_page::respond`] reads it from `/proc`.
    pub cpu: Option<CpuUsage>,
}

/// CPU seconds, as Apache's `CPU Usage: u… s… cu… cs…` line adds them up: user and system
/// time of the master and the live children, and of the children already reaped.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CpuUsage {
    /// User time of the live processes, seconds.
    pub user: f64,
    /// System time of the live processes, seconds.
    pub system: f64,
    /// User time of the reaped children, seconds.
    pub children_user: f64,
    /// System time of the reaped children, seconds.
    pub children_system: f64,
}

impl CpuUsage {
    /// Sum `/proc/PID/stat`'s utime and stime over `pids`, and the reaped children's
    /// (cutime, cstime) of `master`; clock ticks of 1/100 s, as Linux reports them to
    /// user space. `None` where `/proc` is unreadable.
    pub fn read(master: u32, pids: impl IntoIterator<Item = u32>) -> Option<CpuUsage> {
        fn ticks(pid: u32) -> Option<[f64; 4]> {
            let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Fields after the `(comm)`, which may contain spaces: state is field 3.
            let rest = &text[text.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let n = |i: usize| f.get(i - 3)?.parse::<f64>().ok().map(|v| v / 100.0);
            Some([n(14)?, n(15)?, n(16)?, n(17)?])
        }
        let m = ticks(master)?;
        let mut cpu = CpuUsage {
            user: m[0],
            system: m[1],
            children_user: m[2],
            children_system: m[3],
        };
        for pid in pids.into_iter().filter(|&p| p != master && p != 0) {
            if let Some(t) = ticks(pid) {
                cpu.user += t[0];
                cpu.system += t[1];
            }
        }
        Some(cpu)
    }

    /// Total seconds.
    pub fn total(&self) -> f64 {
        self.user + self.system + self.children_user + self.children_system
    }
}

impl StatusContext {
    /// A context with the defaults: version `mpm/<version> (Unix)`, built string
    /// `mpm-core <version>`, `now` = the current time, extended status on, load from
    /// `/proc/loadavg`.
    pub fn new(
        server_name: impl Into<String>,
        kind: MpmKind,
        max_daemons: u32,
        threads_per_child: u32,
    ) -> StatusContext {
        StatusContext {
            server_name: server_name.into(),
            server_version: concat!("mpm/", env!("CARGO_PKG_VERSION"), " (Unix)").to_string(),
            kind,
            server_built: concat!("mpm-core ", env!("CARGO_PKG_VERSION")).to_string(),
            now: SystemTime::now(),
            max_daemons,
            threads_per_child,
            extended_status: true,
            load: read_loadavg(),
            cpu: None,
        }
    }

    /// [`new`](Self::new) with `kind`, `max_daemons` and `threads_per_child` taken from the
    /// effective limits.
    pub fn from_limits(server_name: impl Into<String>, limits: &Limits) -> StatusContext {
        Self::new(
            server_name,
            limits.kind,
            limits.max_daemons,
            limits.threads_per_child,
        )
    }
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg` (`None` where unreadable).
pub fn read_loadavg() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// Busy, idle and graceful worker counts by mod_status's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkerCounts {
    /// Workers in any state but `.`, `S`, `_`, `G`, `I`.
    pub busy: u32,
    /// `_` workers of processes of the current generation.
    pub idle: u32,
    /// `G` workers.
    pub graceful: u32,
}

/// Count busy / idle / graceful workers: only processes with a pid that are not quiescing
/// count; `_` counts as idle only in a process of the snapshot's current generation.
pub fn worker_counts(snap: &ScoreboardSnapshot) -> WorkerCounts {
    let mut c = WorkerCounts::default();
    for p in &snap.processes {
        if p.pid == 0 || p.quiescing {
            continue;
        }
        let pc = count_process(p, Some(snap.generation));
        c.busy += pc.busy;
        c.idle += pc.idle;
        c.graceful += pc.graceful;
    }
    c
}

/// Counts of one process's workers; with `generation`, `_` counts only if it matches.
fn count_process(p: &ProcessSnapshot, generation: Option<u32>) -> WorkerCounts {
    let mut c = WorkerCounts::default();
    for w in &p.workers {
        match w.status {
            '_' => {
                if generation.is_none_or(|g| g == p.generation) {
                    c.idle += 1;
                }
            }
            'G' => c.graceful += 1,
            '.' | 'S' | 'I' => {}
            _ => c.busy += 1,
        }
    }
    c
}

/// The scoreboard string: one letter per slot in slot order, skipping disabled slots (dead
/// and at process slot `>= max_daemons` or thread `>= threads_per_child`).
pub fn scoreboard_string(
    snap: &ScoreboardSnapshot,
    max_daemons: u32,
    threads_per_child: u32,
) -> String {
    let mut s = String::new();
    for (i, p) in snap.processes.iter().enumerate() {
        for (j, w) in p.workers.iter().enumerate() {
            let disabled = w.status == '.'
                && (i as u64 >= u64::from(max_daemons) || j as u64 >= u64::from(threads_per_child));
            if !disabled {
                s.push(w.status);
            }
        }
    }
    s
}

/// A duration given in milliseconds, for people: `12.3 ms`, `840 µs`, `0.3 µs`, `2.5 s`
/// (three significant digits at most).
pub fn format_duration_ms(ms: f64) -> String {
    let (v, unit) = if ms >= 1000.0 {
        (ms / 1000.0, "s")
    } else if ms >= 1.0 {
        (ms, "ms")
    } else {
        (ms * 1000.0, "µs")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{v:.digits$}");
    format!("{} {unit}", strip_zeros(&text))
}

/// Format like C's `printf("%g", v)`: 6 significant digits, trailing zeros removed,
/// exponent form (`1e-05`, `1.5e+07`) when the exponent is < -4 or >= 6.
pub fn format_g(v: f64) -> String {
    const P: i32 = 6;
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let e_form = format!("{:.*e}", (P - 1) as usize, v);
    let (mantissa, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if (-4..P).contains(&x) {
        let fixed = format!("{:.*}", (P - 1 - x) as usize, v);
        strip_zeros(&fixed).to_string()
    } else {
        let sign = if x < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", strip_zeros(mantissa), sign, x.unsigned_abs())
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Year, month (1-12), day (1-31) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // month index from March, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Apache's status-page time format, in UTC: `Thursday, 26-Nov-2026 15:04:05 UTC`.
pub fn format_apache_time(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    format!(
        "{weekday}, {d:02}-{}-{y} {:02}:{:02}:{:02} UTC",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Apache's uptime text: ` 1 day 2 hours 3 minutes 4 seconds`, each part with a leading
/// space, zero parts omitted, singular for 1 (empty for 0 seconds).
pub fn format_uptime(secs: u64) -> String {
    let parts = [
        (secs / 86_400, "day"),
        (secs % 86_400 / 3600, "hour"),
        (secs % 3600 / 60, "minute"),
        (secs % 60, "second"),
    ];
    let mut s = String::new();
    for (n, unit) in parts {
        if n > 0 {
            let _ = write!(s, " {n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    s
}

/// Bytes as Apache's HTML page shows them (`512 B`, `1.5 kB`, `2.0 MB`, `3.1 GB`).
pub fn format_bytes(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K {
        format!("{bytes} B")
    } else if b < K * K {
        format!("{:.1} kB", b / K)
    } else if b < K * K * K {
        format!("{:.1} MB", b / (K * K))
    } else {
        format!("{:.1} GB", b / (K * K * K))
    }
}

/// Lifetime totals with mod_status's rule: a slot counts if it served something or is in a
/// state other than `_` / `.`.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    accesses: u64,
    bytes: u64,
    duration_us: u64,
}

fn totals(snap: &ScoreboardSnapshot) -> Totals {
    let mut t = Totals::default();
    for w in snap.processes.iter().flat_map(|p| &p.workers) {
        if w.access_count != 0 || (w.status != '_' && w.status != '.') {
            t.accesses = t.accesses.saturating_add(w.access_count);
            t.bytes = t.bytes.saturating_add(w.bytes_served);
            t.duration_us = t.duration_us.saturating_add(w.duration_us);
        }
    }
    t
}

/// Event's asynchronous connection summary, over processes with a pid.
#[derive(Debug, Clone, Copy, Default)]
struct AsyncSummary {
    processes: u32,
    stopping: u32,
    connections: u32,
    wait_io: u32,
    writing: u32,
    keep_alive: u32,
    closing: u32,
}

fn async_summary(snap: &ScoreboardSnapshot) -> AsyncSummary {
    let mut a = AsyncSummary::default();
    for p in snap.processes.iter().filter(|p| p.pid != 0) {
        a.processes += 1;
        a.stopping += u32::from(p.quiescing);
        a.connections = a.connections.saturating_add(p.connections);
        a.wait_io = a.wait_io.saturating_add(p.wait_io);
        a.writing = a.writing.saturating_add(p.writing);
        a.keep_alive = a.keep_alive.saturating_add(p.keep_alive);
        a.closing = a.closing.saturating_add(p.closing);
    }
    a
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn uptime_secs(snap: &ScoreboardSnapshot, ctx: &StatusContext) -> u64 {
    unix_secs(ctx.now).saturating_sub(snap.restart_time)
}

/// The stable JSON document of [`render_json`]. Field names are part of the API.
///
/// Totals and rates are `null` when extended status is off (and rates also when
/// undefined: zero uptime or zero accesses). `processes` lists occupied process slots
/// (pid ≠ 0); `workers` lists every worker slot that is not dead (only with extended
/// status; otherwise empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Server name.
    pub server_name: String,
    /// Server version string.
    pub server_version: String,
    /// `prefork`, `worker` or `event`.
    pub server_mpm: MpmKind,
    /// Build string.
    pub server_built: String,
    /// Current time, Unix seconds.
    pub current_time: u64,
    /// Last (re)start, Unix seconds.
    pub restart_time: u64,
    /// ParentServerConfigGeneration.
    pub config_generation: u32,
    /// ParentServerMPMGeneration.
    pub mpm_generation: u32,
    /// Where the server is in its life (`AP_MPMQ_MPM_STATE`: `starting`, `running`,
    /// `stopping`), as the master published it. JSON only: Apache's `?auto` has no such
    /// line.
    #[serde(default)]
    pub mpm_state: MpmState,
    /// Seconds since the last (re)start.
    pub uptime_seconds: u64,
    /// 1/5/15 minute load averages, if known.
    pub load: Option<[f64; 3]>,
    /// Whether extended status (totals, per-worker details) is on.
    pub extended_status: bool,
    /// Requests served over the server's life.
    pub total_accesses: Option<u64>,
    /// Bytes served over the server's life.
    pub total_bytes: Option<u64>,
    /// `total_bytes / 1024`, rounded down.
    pub total_kbytes: Option<u64>,
    /// Total time spent in requests, milliseconds.
    pub total_duration_ms: Option<u64>,
    /// Requests per second of uptime.
    pub req_per_sec: Option<f64>,
    /// Bytes per second of uptime.
    pub bytes_per_sec: Option<f64>,
    /// Bytes per request.
    pub bytes_per_req: Option<f64>,
    /// Milliseconds per request.
    pub duration_per_req_ms: Option<f64>,
    /// BusyWorkers.
    pub busy_workers: u32,
    /// GracefulWorkers.
    pub graceful_workers: u32,
    /// IdleWorkers.
    pub idle_workers: u32,
    /// Processes with a pid (event's `Processes`).
    pub process_count: u32,
    /// Of which stopping (event's `Stopping`).
    pub stopping_count: u32,
    /// Open connections (`ConnsTotal`).
    pub conns_total: u32,
    /// `ConnsAsyncWaitIO`.
    pub conns_async_wait_io: u32,
    /// `ConnsAsyncWriting`.
    pub conns_async_writing: u32,
    /// `ConnsAsyncKeepAlive`.
    pub conns_async_keep_alive: u32,
    /// `ConnsAsyncClosing`.
    pub conns_async_closing: u32,
    /// The scoreboard string, as in `?auto`.
    pub scoreboard: String,
    /// Occupied process slots.
    pub processes: Vec<ProcessReport>,
    /// Worker slots that are not dead (extended status only).
    pub workers: Vec<WorkerReport>,
}

/// One occupied process slot in a [`StatusReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessReport {
    /// Slot index.
    pub slot: u32,
    /// Pid.
    pub pid: i32,
    /// The generation the child was started in.
    pub generation: u32,
    /// The child is stopping (quiescing).
    pub stopping: bool,
    /// The child belongs to an older generation.
    pub old_generation: bool,
    /// The child accepts new connections.
    pub accepting: bool,
    /// Open connections.
    pub connections: u32,
    /// Busy threads.
    pub busy: u32,
    /// Gracefully finishing threads.
    pub graceful: u32,
    /// Idle threads.
    pub idle: u32,
    /// Asynchronous connections waiting for I/O.
    pub wait_io: u32,
    /// Asynchronous connections in write completion.
    pub writing: u32,
    /// Asynchronous keep-alive connections.
    pub keep_alive: u32,
    /// Asynchronous connections in lingering close.
    pub closing: u32,
}

/// One non-dead worker slot in a [`StatusReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Process slot index.
    pub slot: u32,
    /// Thread index.
    pub thread: u32,
    /// Pid of the process in the slot.
    pub pid: i32,
    /// Status letter.
    pub status: char,
    /// Requests on the current connection.
    pub conn_count: u32,
    /// Requests in the current child.
    pub child_accesses: u64,
    /// Requests over the slot's life.
    pub slot_accesses: u64,
    /// Bytes on the current connection.
    pub conn_bytes: u64,
    /// Bytes in the current child.
    pub child_bytes: u64,
    /// Bytes over the slot's life.
    pub slot_bytes: u64,
    /// Duration of the current or last request, milliseconds.
    pub request_duration_ms: u64,
    /// Seconds since the last request finished (`None` if never).
    pub seconds_since_last_used: Option<u64>,
    /// Client address.
    pub client: String,
    /// Virtual host.
    pub vhost: String,
    /// Protocol.
    pub protocol: String,
    /// Request line.
    pub request: String,
}

/// Build the [`StatusReport`] that the renderers share.
pub fn report(snap: &ScoreboardSnapshot, ctx: &StatusContext) -> StatusReport {
    let counts = worker_counts(snap);
    let a = async_summary(snap);
    let uptime = uptime_secs(snap, ctx);
    let t = totals(snap);
    let ext = ctx.extended_status;
    let now_us = ctx
        .now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let processes = snap
        .processes
        .iter()
        .filter(|p| p.pid != 0)
        .map(|p| {
            let c = count_process(p, None);
            ProcessReport {
                slot: p.slot,
                pid: p.pid,
                generation: p.generation,
                stopping: p.quiescing,
                old_generation: p.generation != snap.generation,
                accepting: !p.not_accepting,
                connections: p.connections,
                busy: c.busy,
                graceful: c.graceful,
                idle: c.idle,
                wait_io: p.wait_io,
                writing: p.writing,
                keep_alive: p.keep_alive,
                closing: p.closing,
            }
        })
        .collect();
    let workers = if ext {
        snap.processes
            .iter()
            .flat_map(|p| p.workers.iter().map(move |w| (p, w)))
            .filter(|(_, w)| w.status != '.')
            .map(|(p, w)| worker_report(p, w, now_us))
            .collect()
    } else {
        Vec::new()
    };
    let on = |v| if ext { Some(v) } else { None };
    StatusReport {
        server_name: ctx.server_name.clone(),
        server_version: ctx.server_version.clone(),
        server_mpm: snap.kind,
        server_built: ctx.server_built.clone(),
        current_time: unix_secs(ctx.now),
        restart_time: snap.restart_time,
        config_generation: snap.config_generation,
        mpm_generation: snap.generation,
        mpm_state: snap.state,
        uptime_seconds: uptime,
        load: ctx.load,
        extended_status: ext,
        total_accesses: on(t.accesses),
        total_bytes: on(t.bytes),
        total_kbytes: on(t.bytes / 1024),
        total_duration_ms: on(t.duration_us / 1000),
        req_per_sec: (ext && uptime > 0).then(|| t.accesses as f64 / uptime as f64),
        bytes_per_sec: (ext && uptime > 0).then(|| t.bytes as f64 / uptime as f64),
        bytes_per_req: (ext && t.accesses > 0).then(|| t.bytes as f64 / t.accesses as f64),
        duration_per_req_ms: (ext && t.accesses > 0)
            .then(|| t.duration_us as f64 / 1000.0 / t.accesses as f64),
        busy_workers: counts.busy,
        graceful_workers: counts.graceful,
        idle_workers: counts.idle,
        process_count: a.processes,
        stopping_count: a.stopping,
        conns_total: a.connections,
        conns_async_wait_io: a.wait_io,
        conns_async_writing: a.writing,
        conns_async_keep_alive: a.keep_alive,
        conns_async_closing: a.closing,
        scoreboard: scoreboard_string(snap, ctx.max_daemons, ctx.threads_per_child),
        processes,
        workers,
    }
}

fn worker_report(p: &ProcessSnapshot, w: &WorkerSnapshot, now_us: u64) -> WorkerReport {
    WorkerReport {
        slot: p.slot,
        thread: w.thread,
        pid: p.pid,
        status: w.status,
        conn_count: w.conn_count,
        child_accesses: w.my_access_count,
        slot_accesses: w.access_count,
        conn_bytes: w.conn_bytes,
        child_bytes: w.my_bytes_served,
        slot_bytes: w.bytes_served,
        request_duration_ms: w.request_duration_ms,
        seconds_since_last_used: (w.last_used != 0)
            .then(|| now_us.saturating_sub(w.last_used) / 1_000_000),
        client: w.client.clone(),
        vhost: w.vhost.clone(),
        protocol: w.protocol.clone(),
        request: w.request.clone(),
    }
}

/// Apache 2.4.58+'s `server-status?auto` text (every line ends with `\n`).
pub fn render_auto(snap: &ScoreboardSnapshot, ctx: &StatusContext) -> String {
    let r = report(snap, ctx);
    let mut s = String::with_capacity(1024 + r.scoreboard.len());
    let load = ctx.load.unwrap_or([-1.0; 3]);
    let _ = writeln!(s, "{}", ctx.server_name);
    let _ = writeln!(s, "ServerVersion: {}", ctx.server_version);
    let _ = writeln!(s, "ServerMPM: {}", snap.kind.name());
    let _ = writeln!(s, "Server Built: {}", ctx.server_built);
    let _ = writeln!(s, "CurrentTime: {}", format_apache_time(ctx.now));
    let _ = writeln!(
        s,
        "RestartTime: {}",
        format_apache_time(snap.restart_system_time())
    );
    let _ = writeln!(s, "ParentServerConfigGeneration: {}", r.config_generation);
    let _ = writeln!(s, "ParentServerMPMGeneration: {}", r.mpm_generation);
    let _ = writeln!(s, "ServerUptimeSeconds: {}", r.uptime_seconds);
    let _ = writeln!(s, "ServerUptime:{}", format_uptime(r.uptime_seconds));
    let _ = writeln!(s, "Load1: {:.2}", load[0]);
    let _ = writeln!(s, "Load5: {:.2}", load[1]);
    let _ = writeln!(s, "Load15: {:.2}", load[2]);
    if let (Some(acc), Some(kb), Some(dur)) =
        (r.total_accesses, r.total_kbytes, r.total_duration_ms)
    {
        let _ = writeln!(s, "Total Accesses: {acc}");
        let _ = writeln!(s, "Total kBytes: {kb}");
        let _ = writeln!(s, "Total Duration: {dur}");
        let _ = writeln!(s, "Uptime: {}", r.uptime_seconds);
        if let (Some(rps), Some(bps)) = (r.req_per_sec, r.bytes_per_sec) {
            let _ = writeln!(s, "ReqPerSec: {}", format_g(rps));
            let _ = writeln!(s, "BytesPerSec: {}", format_g(bps));
        }
        if let (Some(bpr), Some(dpr)) = (r.bytes_per_req, r.duration_per_req_ms) {
            let _ = writeln!(s, "BytesPerReq: {}", format_g(bpr));
            let _ = writeln!(s, "DurationPerReq: {}", format_g(dpr));
        }
    }
    let _ = writeln!(s, "BusyWorkers: {}", r.busy_workers);
    let _ = writeln!(s, "GracefulWorkers: {}", r.graceful_workers);
    let _ = writeln!(s, "IdleWorkers: {}", r.idle_workers);
    if snap.kind.rules().reports_async_connections() {
        let _ = writeln!(s, "Processes: {}", r.process_count);
        let _ = writeln!(s, "Stopping: {}", r.stopping_count);
        let _ = writeln!(s, "ConnsTotal: {}", r.conns_total);
        let _ = writeln!(s, "ConnsAsyncWaitIO: {}", r.conns_async_wait_io);
        let _ = writeln!(s, "ConnsAsyncWriting: {}", r.conns_async_writing);
        let _ = writeln!(s, "ConnsAsyncKeepAlive: {}", r.conns_async_keep_alive);
        let _ = writeln!(s, "ConnsAsyncClosing: {}", r.conns_async_closing);
    }
    let _ = writeln!(s, "Scoreboard: {}", r.scoreboard);
    s
}

/// The [`StatusReport`] as compact JSON.
pub fn render_json(snap: &ScoreboardSnapshot, ctx: &StatusContext) -> String {
    // Serializing plain structs of strings and finite numbers cannot fail; NaN/inf cannot
    // occur (rates are only computed with non-zero divisors) and would become `null`.
    serde_json::to_string(&report(snap, ctx))
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
}

/// Read the `refresh` parameter of a query string (`refresh=N` among `&`- or
/// `;`-separated parameters). Returns `None` without a `refresh` parameter; otherwise the
/// leading decimal number of its value (so `42;fish` gives 42), with a value that is
/// missing, not a number or below 1 giving 10, as Apache does. Huge numbers saturate.
pub fn parse_refresh(query: &str) -> Option<u32> {
    let query = query.strip_prefix('?').unwrap_or(query);
    for param in query.split('&') {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param.split(';').next().unwrap_or(param), None),
        };
        if !key.eq_ignore_ascii_case("refresh") {
            continue;
        }
        let Some(value) = value else {
            return Some(10);
        };
        let value = value.trim_start();
        let digits: &str = {
            let end = value
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(value.len());
            &value[..end]
        };
        let n = if digits.is_empty() {
            0
        } else {
            digits.parse::<u32>().unwrap_or(u32::MAX)
        };
        return Some(if n < 1 { 10 } else { n });
    }
    None
}

/// Prometheus text exposition (format 0.0.4) of the summary: server info, uptime,
/// generations, totals (extended status only), workers by state, scoreboard slots by
/// letter, and (event) processes and asynchronous connections by state. Metric names are
/// prefixed `mpm_`.
pub fn render_prometheus(snap: &ScoreboardSnapshot, ctx: &StatusContext) -> String {
    let r = report(snap, ctx);
    let mut s = String::with_capacity(2048);
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(s, "# HELP mpm_{name} {help}\n# TYPE mpm_{name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(s, "mpm_{name}{labels} {v}");
        }
    };
    let info = format!(
        "{{mpm=\"{}\",version=\"{}\",server=\"{}\"}}",
        snap.kind.name(),
        label_escape(&ctx.server_version),
        label_escape(&ctx.server_name)
    );
    metric("info", "gauge", "Server information.", &[(&info, 1.0)]);
    metric(
        "uptime_seconds",
        "gauge",
        "Seconds since the last (re)start.",
        &[("", r.uptime_seconds as f64)],
    );
    metric(
        "generation",
        "gauge",
        "Running MPM generation.",
        &[("", f64::from(r.mpm_generation))],
    );
    metric(
        "config_generation",
        "gauge",
        "Configuration generation.",
        &[("", f64::from(r.config_generation))],
    );
    if let (Some(acc), Some(bytes), Some(dur)) =
        (r.total_accesses, r.total_bytes, r.total_duration_ms)
    {
        metric(
            "accesses_total",
            "counter",
            "Requests served.",
            &[("", acc as f64)],
        );
        metric(
            "sent_bytes_total",
            "counter",
            "Bytes served.",
            &[("", bytes as f64)],
        );
        metric(
            "request_duration_seconds_total",
            "counter",
            "Time spent serving requests.",
            &[("", dur as f64 / 1000.0)],
        );
    }
    metric(
        "workers",
        "gauge",
        "Workers by state (mod_status counting rules).",
        &[
            ("{state=\"busy\"}", f64::from(r.busy_workers)),
            ("{state=\"idle\"}", f64::from(r.idle_workers)),
            ("{state=\"graceful\"}", f64::from(r.graceful_workers)),
        ],
    );
    let by_letter: Vec<(String, f64)> = LEGEND
        .iter()
        .map(|(letter, class, _)| {
            let n = r.scoreboard.chars().filter(|c| c == letter).count();
            (format!("{{state=\"{class}\"}}"), n as f64)
        })
        .collect();
    let by_letter: Vec<(&str, f64)> = by_letter.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    metric(
        "scoreboard",
        "gauge",
        "Scoreboard slots by state.",
        &by_letter,
    );
    let lc = &snap.lifecycle;
    metric(
        "restarts_total",
        "counter",
        "Restarts since the master started.",
        &[
            ("{kind=\"graceful\"}", f64::from(lc.graceful_restarts)),
            ("{kind=\"hard\"}", f64::from(lc.hard_restarts)),
        ],
    );
    let crashes: Vec<(String, f64)> = lc
        .crashes_by_signal
        .iter()
        .map(|(sig, n)| {
            let name = nix::sys::signal::Signal::try_from(*sig)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| sig.to_string());
            (format!("{{signal=\"{name}\"}}"), f64::from(*n))
        })
        .collect();
    let crashes: Vec<(&str, f64)> = crashes.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    metric(
        "child_crashes_total",
        "counter",
        "Children killed by a signal nobody sent them, by signal.",
        &crashes,
    );
    metric(
        "accept_backoffs_total",
        "counter",
        "Accept back-offs on descriptor or memory shortage.",
        &[("", f64::from(lc.accept_backoffs))],
    );
    if snap.kind.rules().reports_async_connections() {
        metric(
            "processes",
            "gauge",
            "Child processes by state.",
            &[
                (
                    "{state=\"running\"}",
                    f64::from(r.process_count - r.stopping_count),
                ),
                ("{state=\"stopping\"}", f64::from(r.stopping_count)),
            ],
        );
        metric(
            "connections",
            "gauge",
            "Connections by state.",
            &[
                ("{state=\"total\"}", f64::from(r.conns_total)),
                ("{state=\"wait_io\"}", f64::from(r.conns_async_wait_io)),
                ("{state=\"writing\"}", f64::from(r.conns_async_writing)),
                (
                    "{state=\"keep_alive\"}",
                    f64::from(r.conns_async_keep_alive),
                ),
                ("{state=\"closing\"}", f64::from(r.conns_async_closing)),
            ],
        );
    }
    s
}

fn label_escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Escape text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The legend of the status letters: (letter, CSS class, meaning).
pub const LEGEND: [(char, &str, &str); 11] = [
    ('_', "ready", "Waiting for Connection"),
    ('S', "starting", "Starting up"),
    ('R', "read", "Reading Request"),
    ('W', "write", "Sending Reply"),
    ('K', "keepalive", "Keepalive (read)"),
    ('D', "dns", "DNS Lookup"),
    ('C', "closing", "Closing connection"),
    ('L', "log", "Logging"),
    ('G', "graceful", "Gracefully finishing"),
    ('I', "idlekill", "Idle cleanup of worker"),
    ('.', "dead", "Open slot with no current process"),
];

fn letter_class(c: char) -> &'static str {
    LEGEND
        .iter()
        .find(|(l, _, _)| *l == c)
        .map(|(_, class, _)| *class)
        .unwrap_or("dead")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}\
dl.summary{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}\
dl.summary dt{font-weight:600}dl.summary dd{margin:0}\
pre.scoreboard{font-size:1.1em;line-height:1.3;background:#fafafa;padding:.5em;display:inline-block}\
table{border-collapse:collapse;font-size:.9em}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right;white-space:nowrap}\
td.text{text-align:left;font-family:monospace}td.request{white-space:normal;overflow-wrap:anywhere}\
.legend span.l{font-family:monospace;font-weight:bold;padding:0 .3em}\
.ready{color:#2e7d32}.starting{color:#6a1b9a}.read{color:#1565c0}.write{color:#c62828}\
.keepalive{color:#ef6c00}.dns{color:#00838f}.closing{color:#ad1457}.log{color:#4e342e}\
.graceful{color:#9e9d24}.idlekill{color:#546e7a}.dead{color:#bbb}";

/// A human-readable HTML status page. `refresh` adds `<meta http-equiv="refresh">` (a value
/// below 1 means 10 seconds, as Apache); the caller may also set the `Refresh` header.
pub fn render_html(snap: &ScoreboardSnapshot, ctx: &StatusContext, refresh: Option<u32>) -> String {
    let r = report(snap, ctx);
    let name = html_escape(&ctx.server_name);
    let mut s = String::with_capacity(8192 + r.scoreboard.len() * 2 + r.workers.len() * 256);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    if let Some(n) = refresh {
        let n = if n < 1 { 10 } else { n };
        let _ = writeln!(s, "<meta http-equiv=\"refresh\" content=\"{n}\">");
    }
    let _ = writeln!(s, "<title>Server Status for {name}</title>");
    let _ = writeln!(s, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(s, "<h1>Server Status for {name}</h1>");

    // Summary.
    s.push_str("<dl class=\"summary\">\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(s, "<dt>{k}</dt><dd>{v}</dd>");
    };
    row("Server Version", html_escape(&ctx.server_version));
    row("Server MPM", snap.kind.name().to_string());
    row("Server Built", html_escape(&ctx.server_built));
    row("Current Time", format_apache_time(ctx.now));
    row(
        "Restart Time",
        format_apache_time(snap.restart_system_time()),
    );
    row(
        "Parent Server Config. Generation",
        r.config_generation.to_string(),
    );
    row("Parent Server MPM Generation", r.mpm_generation.to_string());
    let up = format_uptime(r.uptime_seconds);
    row(
        "Server uptime",
        if up.is_empty() {
            "0 seconds".to_string()
        } else {
            up.trim_start().to_string()
        },
    );
    if let Some(l) = ctx.load {
        row(
            "Server load",
            format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]),
        );
    }
    if let Some(cpu) = ctx.cpu {
        let load = if r.uptime_seconds > 0 {
            cpu.total() / r.uptime_seconds as f64 * 100.0
        } else {
            0.0
        };
        row(
            "CPU Usage",
            format!(
                "u{} s{} cu{} cs{} &middot; {}% CPU load",
                format_g(cpu.user),
                format_g(cpu.system),
                format_g(cpu.children_user),
                format_g(cpu.children_system),
                format_g((load * 1000.0).round() / 1000.0)
            ),
        );
    }
    if let (Some(acc), Some(bytes), Some(dur)) =
        (r.total_accesses, r.total_bytes, r.total_duration_ms)
    {
        row(
            "Total accesses",
            format!(
                "{acc} &middot; Total traffic: {} &middot; Total duration: {dur} ms",
                format_bytes(bytes)
            ),
        );
        let mut rates = Vec::new();
        if let (Some(rps), Some(bps)) = (r.req_per_sec, r.bytes_per_sec) {
            rates.push(format!("{} requests/sec", format_g(rps)));
            rates.push(format!("{}/second", format_bytes(bps as u64)));
        }
        if let (Some(bpr), Some(dpr)) = (r.bytes_per_req, r.duration_per_req_ms) {
            rates.push(format!("{}/request", format_bytes(bpr as u64)));
            rates.push(format!("{}/request", format_duration_ms(dpr)));
        }
        if !rates.is_empty() {
            row("Rates", rates.join(" &middot; "));
        }
    }
    row(
        "Workers",
        format!(
            "{} busy, {} gracefully finishing, {} idle",
            r.busy_workers, r.graceful_workers, r.idle_workers
        ),
    );
    if snap.kind.rules().reports_async_connections() {
        row(
            "Connections",
            format!(
                "{} total &middot; async: {} wait-io, {} writing, {} keep-alive, {} closing",
                r.conns_total,
                r.conns_async_wait_io,
                r.conns_async_writing,
                r.conns_async_keep_alive,
                r.conns_async_closing
            ),
        );
    }
    s.push_str("</dl>\n");

    // Scoreboard grid: 64 letters per row, runs of one letter in one coloured span.
    s.push_str("<h2>Scoreboard</h2>\n<pre class=\"scoreboard\">");
    let letters: Vec<char> = r.scoreboard.chars().collect();
    for (i, line) in letters.chunks(64).enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let mut k = 0;
        while k < line.len() {
            let c = line[k];
            let run = line[k..].iter().take_while(|&&x| x == c).count();
            let _ = write!(s, "<span class=\"{}\">", letter_class(c));
            s.extend(std::iter::repeat_n(c, run));
            s.push_str("</span>");
            k += run;
        }
    }
    s.push_str("</pre>\n<p class=\"legend\">Scoreboard Key:<br>\n");
    for (letter, class, meaning) in LEGEND {
        let _ = writeln!(
            s,
            "<span class=\"l {class}\">&quot;{letter}&quot;</span> {meaning}<br>"
        );
    }
    s.push_str("</p>\n");

    // Processes.
    s.push_str("<h2>Processes</h2>\n");
    if r.processes.is_empty() {
        s.push_str("<p>No running processes.</p>\n");
    } else {
        // Connections and their async states are the event strategy's (Apache's async
        // table); the others count none, so they get no such columns.
        let asynchronous = snap.kind.rules().reports_async_connections();
        s.push_str(
            "<table class=\"processes\">\n<tr><th rowspan=\"2\">Slot</th><th rowspan=\"2\">PID</th>\
             <th rowspan=\"2\">Generation</th><th rowspan=\"2\">Stopping</th>",
        );
        if asynchronous {
            s.push_str("<th colspan=\"2\">Connections</th>");
        }
        s.push_str("<th colspan=\"3\">Threads</th>");
        if asynchronous {
            s.push_str("<th colspan=\"4\">Async connections</th>");
        }
        s.push_str("</tr>\n<tr>");
        if asynchronous {
            s.push_str("<th>total</th><th>accepting</th>");
        }
        s.push_str("<th>busy</th><th>graceful</th><th>idle</th>");
        if asynchronous {
            s.push_str("<th>wait-io</th><th>writing</th><th>keep-alive</th><th>closing</th>");
        }
        s.push_str("</tr>\n");
        for p in &r.processes {
            let stopping = format!(
                "{}{}",
                if p.stopping { "yes" } else { "no" },
                if p.old_generation { " (old gen)" } else { "" }
            );
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{stopping}</td>",
                p.slot, p.pid, p.generation,
            );
            if asynchronous {
                let _ = write!(
                    s,
                    "<td>{}</td><td>{}</td>",
                    p.connections,
                    if p.accepting { "yes" } else { "no" },
                );
            }
            let _ = write!(
                s,
                "<td>{}</td><td>{}</td><td>{}</td>",
                p.busy, p.graceful, p.idle
            );
            if asynchronous {
                let _ = write!(
                    s,
                    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                    p.wait_io, p.writing, p.keep_alive, p.closing
                );
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</table>\n");
    }

    // Workers.
    if ctx.extended_status {
        s.push_str("<h2>Workers</h2>\n");
        if r.workers.is_empty() {
            s.push_str("<p>No active worker slots.</p>\n");
        } else {
            s.push_str(
                "<table>\n<tr><th>Slot</th><th>PID</th><th>Status</th>\
                 <th>Accesses (conn / child / slot)</th><th>Last used (s ago)</th>\
                 <th>Req (ms)</th><th>Conn</th><th>Child</th><th>Slot</th>\
                 <th>Client</th><th>Request</th></tr>\n",
            );
            for w in &r.workers {
                let last = w
                    .seconds_since_last_used
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".to_string());
                let _ = writeln!(
                    s,
                    "<tr><td>{}-{}</td><td>{}</td><td><b class=\"{}\">{}</b></td>\
                     <td>{} / {} / {}</td><td>{last}</td><td>{}</td><td>{}</td><td>{}</td>\
                     <td>{}</td><td class=\"text\">{}</td><td class=\"text request\">{}</td></tr>",
                    w.slot,
                    w.thread,
                    w.pid,
                    letter_class(w.status),
                    w.status,
                    w.conn_count,
                    w.child_accesses,
                    w.slot_accesses,
                    w.request_duration_ms,
                    format_bytes(w.conn_bytes),
                    format_bytes(w.child_bytes),
                    format_bytes(w.slot_bytes),
                    html_escape(&w.client),
                    html_escape(&w.request)
                );
            }
            s.push_str("</table>\n");
        }
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_537), (2026, 3, 25));
    }

    #[test]
    fn apache_time() {
        assert_eq!(
            format_apache_time(UNIX_EPOCH),
            "Thursday, 01-Jan-1970 00:00:00 UTC"
        );
        assert_eq!(
            format_apache_time(UNIX_EPOCH + Duration::from_secs(1_795_705_445)),
            "Thursday, 26-Nov-2026 15:04:05 UTC"
        );
    }
}
