//! The directives mpm knows: their names, argument counts, the MPMs they belong to, and how
//! a located directive list becomes [`Directives`].

use super::parser::{Item, Located};
use super::reqtimeout::{parse_arg, Stage};
use super::Directives;
use crate::error::ConfigError;
use crate::kind::MpmKind;
use crate::listen::ListenSpec;
use crate::rules::Family;

/// Which strategies accept a directive: all, or those whose rules take its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every strategy (core, mpm_common, unixd directives).
    All,
    /// The strategies that take this family ([`Rules::takes`](crate::rules::Rules::takes)).
    Only(Family),
}

impl Scope {
    /// Whether `kind` accepts directives of this scope.
    pub fn accepts(self, kind: MpmKind) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(family) => kind.rules().takes(family),
        }
    }
}

/// An integer field of [`Directives`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntField {
    /// StartServers
    StartServers,
    /// ServerLimit
    ServerLimit,
    /// MinSpareServers
    MinSpareServers,
    /// MaxSpareServers
    MaxSpareServers,
    /// MinSpareThreads
    MinSpareThreads,
    /// MaxSpareThreads
    MaxSpareThreads,
    /// ThreadsPerChild
    ThreadsPerChild,
    /// ThreadLimit
    ThreadLimit,
    /// MaxRequestWorkers
    MaxRequestWorkers,
    /// MaxConnectionsPerChild
    MaxConnectionsPerChild,
    /// GracefulShutdownTimeout
    GracefulShutdownTimeout,
    /// ListenBacklog
    ListenBacklog,
    /// KeepAliveTimeout
    KeepAliveTimeout,
    /// MaxKeepAliveRequests
    MaxKeepAliveRequests,
    /// Timeout
    Timeout,
    /// LimitRequestLine
    LimitRequestLine,
    /// LimitRequestFieldSize
    LimitRequestFieldSize,
    /// LimitRequestFields
    LimitRequestFields,
    /// LimitRequestBody
    LimitRequestBody,
    /// HandlerTimeout (ours)
    HandlerTimeout,
    /// MaxConnectionsPerChildJitter (ours)
    MaxConnectionsPerChildJitter,
}

impl IntField {
    /// Every integer field.
    pub const ALL: [IntField; 21] = [
        IntField::StartServers,
        IntField::ServerLimit,
        IntField::MinSpareServers,
        IntField::MaxSpareServers,
        IntField::MinSpareThreads,
        IntField::MaxSpareThreads,
        IntField::ThreadsPerChild,
        IntField::ThreadLimit,
        IntField::MaxRequestWorkers,
        IntField::MaxConnectionsPerChild,
        IntField::GracefulShutdownTimeout,
        IntField::ListenBacklog,
        IntField::KeepAliveTimeout,
        IntField::MaxKeepAliveRequests,
        IntField::Timeout,
        IntField::LimitRequestLine,
        IntField::LimitRequestFieldSize,
        IntField::LimitRequestFields,
        IntField::LimitRequestBody,
        IntField::HandlerTimeout,
        IntField::MaxConnectionsPerChildJitter,
    ];

    /// The field in `d`.
    pub fn slot(self, d: &mut Directives) -> &mut Option<i64> {
        match self {
            IntField::StartServers => &mut d.start_servers,
            IntField::ServerLimit => &mut d.server_limit,
            IntField::MinSpareServers => &mut d.min_spare_servers,
            IntField::MaxSpareServers => &mut d.max_spare_servers,
            IntField::MinSpareThreads => &mut d.min_spare_threads,
            IntField::MaxSpareThreads => &mut d.max_spare_threads,
            IntField::ThreadsPerChild => &mut d.threads_per_child,
            IntField::ThreadLimit => &mut d.thread_limit,
            IntField::MaxRequestWorkers => &mut d.max_request_workers,
            IntField::MaxConnectionsPerChild => &mut d.max_connections_per_child,
            IntField::GracefulShutdownTimeout => &mut d.graceful_shutdown_timeout,
            IntField::ListenBacklog => &mut d.listen_backlog,
            IntField::KeepAliveTimeout => &mut d.keep_alive_timeout,
            IntField::MaxKeepAliveRequests => &mut d.max_keep_alive_requests,
            IntField::Timeout => &mut d.timeout,
            IntField::LimitRequestLine => &mut d.limit_request_line,
            IntField::LimitRequestFieldSize => &mut d.limit_request_field_size,
            IntField::LimitRequestFields => &mut d.limit_request_fields,
            IntField::LimitRequestBody => &mut d.limit_request_body,
            IntField::HandlerTimeout => &mut d.handler_timeout,
            IntField::MaxConnectionsPerChildJitter => &mut d.max_connections_per_child_jitter,
        }
    }

    /// The value in `d`.
    pub fn get(self, d: &Directives) -> Option<i64> {
        match self {
            IntField::StartServers => d.start_servers,
            IntField::ServerLimit => d.server_limit,
            IntField::MinSpareServers => d.min_spare_servers,
            IntField::MaxSpareServers => d.max_spare_servers,
            IntField::MinSpareThreads => d.min_spare_threads,
            IntField::MaxSpareThreads => d.max_spare_threads,
            IntField::ThreadsPerChild => d.threads_per_child,
            IntField::ThreadLimit => d.thread_limit,
            IntField::MaxRequestWorkers => d.max_request_workers,
            IntField::MaxConnectionsPerChild => d.max_connections_per_child,
            IntField::GracefulShutdownTimeout => d.graceful_shutdown_timeout,
            IntField::ListenBacklog => d.listen_backlog,
            IntField::KeepAliveTimeout => d.keep_alive_timeout,
            IntField::MaxKeepAliveRequests => d.max_keep_alive_requests,
            IntField::Timeout => d.timeout,
            IntField::LimitRequestLine => d.limit_request_line,
            IntField::LimitRequestFieldSize => d.limit_request_field_size,
            IntField::LimitRequestFields => d.limit_request_fields,
            IntField::LimitRequestBody => d.limit_request_body,
            IntField::HandlerTimeout => d.handler_timeout,
            IntField::MaxConnectionsPerChildJitter => d.max_connections_per_child_jitter,
        }
    }
}

/// What a directive does with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A whole number, stored in a field.
    Int(IntField),
    /// AsyncRequestWorkerFactor: a positive number.
    Factor,
    /// KeepAlive On|Off.
    KeepAlive,
    /// User.
    User,
    /// Group.
    Group,
    /// PidFile.
    PidFile,
    /// Listen (accumulates).
    Listen,
    /// RequestReadTimeout (mod_reqtimeout syntax; stages merge).
    ReadTimeout,
    /// ErrorLog (a file path).
    ErrorLog,
    /// LogLevel (Apache's keywords; per-module `mod:level` words get a notice).
    LogLevel,
    /// SSLEngine on|off.
    SslEngine,
    /// SSLCertificateFile.
    SslCertificateFile,
    /// SSLCertificateKeyFile.
    SslCertificateKeyFile,
    /// SSLProtocol.
    SslProtocol,
    /// SSLCipherSuite: accepted with a notice (rustls chooses its suites).
    SslCipherSuite,
    /// Protocols (h2, h2c, http/1.1).
    Protocols,
    /// H2MaxSessionStreams.
    H2MaxSessionStreams,
    /// H2WindowSize.
    H2WindowSize,
    /// Accepted with a notice because it means nothing here; the text says why.
    Ignored(&'static str),
}

/// One known directive.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The canonical spelling.
    pub name: &'static str,
    /// Fewest arguments.
    pub min_args: usize,
    /// Most arguments.
    pub max_args: usize,
    /// The MPMs that accept it.
    pub scope: Scope,
    /// What it does.
    pub action: Action,
    /// Apache's one-line description (used in argument-count errors).
    pub about: &'static str,
    /// For an old alias: the current name (a deprecation notice is recorded).
    pub alias_of: Option<&'static str>,
}

const fn int(name: &'static str, scope: Scope, field: IntField, about: &'static str) -> Spec {
    Spec {
        name,
        min_args: 1,
        max_args: 1,
        scope,
        action: Action::Int(field),
        about,
        alias_of: None,
    }
}

const fn ignored(name: &'static str, min: usize, max: usize, why: &'static str) -> Spec {
    Spec {
        name,
        min_args: min,
        max_args: max,
        scope: Scope::All,
        action: Action::Ignored(why),
        about: why,
        alias_of: None,
    }
}

const fn other(
    name: &'static str,
    min: usize,
    max: usize,
    action: Action,
    about: &'static str,
) -> Spec {
    Spec {
        name,
        min_args: min,
        max_args: max,
        scope: Scope::All,
        action,
        about,
        alias_of: None,
    }
}

/// Every directive mpm accepts (besides `Include`, `IncludeOptional` and the sections).
///
/// The accepted-but-ignored ones (a notice is recorded, arguments are counted but not
/// otherwise checked): MaxMemFree, ThreadStackSize, ScoreBoardFile, Mutex, AcceptFilter,
/// ListenCoresBucketsRatio, SendBufferSize, ReceiveBufferSize, CoreDumpDirectory,
/// EnableExceptionHook, ServerName, ServerRoot, LoadModule.
pub const SPECS: &[Spec] = &[
    int("StartServers", Scope::All, IntField::StartServers, "Number of child processes launched at server startup"),
    int("ServerLimit", Scope::All, IntField::ServerLimit, "Maximum value of MaxRequestWorkers for this run of Apache"),
    int("MinSpareServers", Scope::Only(Family::ProcessSpares), IntField::MinSpareServers, "Minimum number of idle children, to handle request spikes"),
    int("MaxSpareServers", Scope::Only(Family::ProcessSpares), IntField::MaxSpareServers, "Maximum number of idle children"),
    int("MinSpareThreads", Scope::Only(Family::Threads), IntField::MinSpareThreads, "Minimum number of idle threads, to handle request spikes"),
    int("MaxSpareThreads", Scope::Only(Family::Threads), IntField::MaxSpareThreads, "Maximum number of idle threads"),
    int("ThreadsPerChild", Scope::Only(Family::Threads), IntField::ThreadsPerChild, "Number of threads each child creates"),
    int("ThreadLimit", Scope::Only(Family::Threads), IntField::ThreadLimit, "Maximum number of worker threads per child process for this run of Apache - Upper limit for ThreadsPerChild"),
    int("MaxRequestWorkers", Scope::All, IntField::MaxRequestWorkers, "Maximum number of threads alive at the same time"),
    Spec {
        alias_of: Some("MaxRequestWorkers"),
        ..int("MaxClients", Scope::All, IntField::MaxRequestWorkers, "Deprecated name of MaxRequestWorkers")
    },
    int("MaxConnectionsPerChild", Scope::All, IntField::MaxConnectionsPerChild, "Maximum number of connections a particular child serves before dying."),
    Spec {
        alias_of: Some("MaxConnectionsPerChild"),
        ..int("MaxRequestsPerChild", Scope::All, IntField::MaxConnectionsPerChild, "Deprecated name of MaxConnectionsPerChild")
    },
    Spec {
        scope: Scope::Only(Family::AsyncConnections),
        ..other("AsyncRequestWorkerFactor", 1, 1, Action::Factor, "How many additional connects will be accepted per idle worker thread")
    },
    int("GracefulShutdownTimeout", Scope::All, IntField::GracefulShutdownTimeout, "Maximum time in seconds to wait for child processes to complete transactions during shutdown"),
    int("ListenBacklog", Scope::All, IntField::ListenBacklog, "Maximum length of the queue of pending connections, as used by listen(2)"),
    int("KeepAliveTimeout", Scope::All, IntField::KeepAliveTimeout, "Keep-Alive timeout duration (sec)"),
    int("MaxKeepAliveRequests", Scope::All, IntField::MaxKeepAliveRequests, "Maximum number of Keep-Alive requests per connection, or 0 for infinite"),
    int("Timeout", Scope::All, IntField::Timeout, "Timeout duration (sec)"),
    other("KeepAlive", 1, 1, Action::KeepAlive, "Whether persistent connections should be On or Off"),
    other("User", 1, 1, Action::User, "Effective user id for this server"),
    other("Group", 1, 1, Action::Group, "Effective group id for this server"),
    other("PidFile", 1, 1, Action::PidFile, "A file for logging the server process ID"),
    other("Listen", 1, 2, Action::Listen, "A port number or a numeric IP address and a port number, and an optional protocol"),
    int("LimitRequestLine", Scope::All, IntField::LimitRequestLine, "Limit on maximum size of an HTTP request line"),
    int("LimitRequestFieldSize", Scope::All, IntField::LimitRequestFieldSize, "Limit on maximum size of an HTTP request header field"),
    int("LimitRequestFields", Scope::All, IntField::LimitRequestFields, "Limit (0 = unlimited) on max number of header fields in a request message"),
    int("LimitRequestBody", Scope::All, IntField::LimitRequestBody, "Limit (in bytes) on maximum size of request message body (0 = the built-in cap)"),
    int("HandlerTimeout", Scope::All, IntField::HandlerTimeout, "Seconds a handler may run before the master recycles its child (0 = no limit; not an Apache directive)"),
    int("MaxConnectionsPerChildJitter", Scope::All, IntField::MaxConnectionsPerChildJitter, "Up to this many connections added at random to each child's MaxConnectionsPerChild, so children do not recycle in lockstep (not an Apache directive)"),
    other("ErrorLog", 1, 1, Action::ErrorLog, "The filename of the error log"),
    other("LogLevel", 1, usize::MAX, Action::LogLevel, "Level of verbosity in error logging"),
    other("RequestReadTimeout", 1, 3, Action::ReadTimeout, "Set various timeout parameters for reading request headers and body"),
    other("SSLEngine", 1, 1, Action::SslEngine, "SSL switch for the protocol engine (server-wide here)"),
    other("SSLCertificateFile", 1, 1, Action::SslCertificateFile, "SSL Server Certificate file ('/path/to/file' - PEM encoded)"),
    other("SSLCertificateKeyFile", 1, 1, Action::SslCertificateKeyFile, "SSL Server Private Key file ('/path/to/file' - PEM encoded)"),
    other("SSLProtocol", 1, usize::MAX, Action::SslProtocol, "Enable or disable various SSL protocols ('[+-][TLSv1.2|TLSv1.3] ...' - see manual)"),
    other("SSLCipherSuite", 1, 2, Action::SslCipherSuite, "Colon-delimited list of permitted SSL Ciphers (rustls decides here)"),
    other("Protocols", 1, usize::MAX, Action::Protocols, "Controls which protocols are allowed (h2, h2c, http/1.1)"),
    other("H2MaxSessionStreams", 1, 1, Action::H2MaxSessionStreams, "maximum number of open streams per session"),
    other("H2WindowSize", 1, 1, Action::H2WindowSize, "window size on client DATA"),
    ignored("MaxMemFree", 1, 1, "memory is managed by Rust's allocator, not APR pools"),
    ignored("ThreadStackSize", 1, 1, "threads use the Rust runtime's default stack size"),
    ignored("ScoreBoardFile", 1, 1, "the scoreboard is always anonymous shared memory"),
    ignored("Mutex", 1, usize::MAX, "accept serialization is built into each strategy"),
    ignored("AcceptFilter", 2, 2, "no kernel accept filters are installed"),
    ignored("ListenCoresBucketsRatio", 1, 1, "a single listener bucket is used"),
    ignored("SendBufferSize", 1, 1, "sockets keep the operating system's buffer sizes"),
    ignored("ReceiveBufferSize", 1, 1, "sockets keep the operating system's buffer sizes"),
    ignored("CoreDumpDirectory", 1, 1, "core dumps are left to the operating system's settings"),
    ignored("EnableExceptionHook", 1, 1, "there is no exception hook"),
    ignored("ServerName", 1, 1, "there are no virtual hosts"),
    ignored("ServerRoot", 1, 1, "relative paths are resolved from the including file's directory"),
    ignored("LoadModule", 2, 2, "modules are not loaded at run time; the MPM is chosen by cargo feature or `Mpm`"),
];

/// The spec of `name` (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// The known name closest to `name`, if close enough to be a likely typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let close_in_length = |n: &&str| n.len().abs_diff(name.len()) <= 2.max(n.len() / 4);
    let names = SPECS
        .iter()
        .map(|s| s.name)
        .chain(["Include", "IncludeOptional"]);
    names
        .filter(close_in_length)
        .map(|n| (edit_distance(&lower, &n.to_ascii_lowercase()), n))
        .filter(|(dist, n)| *dist <= 2.max(n.len() / 4))
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Range checks shared by the file and serde paths; `Err` is the message.
///
/// Negative numbers are rejected (Apache's `atoi` would take them; see the module docs of
/// [`crate::limits`]), as are values over `i32::MAX` (Apache's `int`s). `ListenBacklog`
/// must be > 0, as in Apache.
pub fn check_int(field: IntField, v: i64) -> Result<(), String> {
    if field == IntField::ListenBacklog && v <= 0 {
        return Err("ListenBacklog must be > 0".to_string());
    }
    if matches!(
        field,
        IntField::LimitRequestLine | IntField::LimitRequestFieldSize
    ) && v == 0
    {
        return Err(format!("{} must be at least 1", field_name(field)));
    }
    if v < 0 {
        return Err(format!(
            "negative value {v} is not allowed; use 0 or a positive whole number"
        ));
    }
    if v > i64::from(i32::MAX) {
        return Err(format!("value {v} is too large (at most {})", i32::MAX));
    }
    Ok(())
}

/// AsyncRequestWorkerFactor's check, with Apache's messages.
pub fn check_factor(v: f64) -> Result<(), String> {
    if !v.is_finite() {
        return Err("error parsing value".to_string());
    }
    if v <= 0.0 {
        return Err("AsyncRequestWorkerFactor argument must be a positive number".to_string());
    }
    Ok(())
}

fn parse_int(field: IntField, s: &str) -> Result<i64, String> {
    let v = match s.parse::<i64>() {
        Ok(v) => v,
        Err(_) => {
            let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("value {s} is too large (at most {})", i32::MAX));
            }
            return Err(format!("argument '{s}' is not a whole number"));
        }
    };
    check_int(field, v)?;
    Ok(v)
}

/// The name of a field's directive.
pub fn field_name(field: IntField) -> &'static str {
    SPECS
        .iter()
        .find(|s| s.action == Action::Int(field) && s.alias_of.is_none())
        .map_or("", |s| s.name)
}

fn arity_message(spec: &Spec) -> String {
    let takes = match (spec.min_args, spec.max_args) {
        (1, 1) => "takes one argument",
        (2, 2) => "takes two arguments",
        (1, 2) => "takes one or two arguments",
        (1, 3) => "takes one to three arguments",
        _ => "requires at least one argument",
    };
    format!("{} {takes}, {}", spec.name, spec.about)
}

/// Directives built from a located list, with notices and errors.
#[derive(Debug, Default)]
pub struct Applied {
    /// The values (last occurrence wins; `Listen` accumulates).
    pub directives: Directives,
    /// Notices (deprecated aliases, ignored directives), each prefixed `file:line: `.
    pub notices: Vec<String>,
    /// Every error, in reading order.
    pub errors: Vec<ConfigError>,
}

fn location(d: &Located) -> String {
    match &d.file {
        Some(f) => format!("{}:{}: ", f.display(), d.line),
        None => format!("line {}: ", d.line),
    }
}

/// Turn what the parser read into [`Directives`] for `kind`; the parser's errors and the
/// directives' errors come out together, in reading order.
pub fn apply(kind: MpmKind, items: &[Item]) -> Applied {
    let mut out = Applied::default();
    for item in items {
        match item {
            Item::Directive(d) => {
                if let Err(message) = apply_one(kind, d, &mut out) {
                    out.errors.push(d.error(message));
                }
            }
            Item::Error(e) => out.errors.push(e.clone()),
        }
    }
    out
}

fn apply_one(kind: MpmKind, d: &Located, out: &mut Applied) -> Result<(), String> {
    let Some(spec) = lookup(&d.name) else {
        let mut message = format!(
            "Invalid command '{}', perhaps misspelled or defined by a module not included \
             in the server configuration",
            d.name
        );
        if let Some(s) = suggest(&d.name) {
            message.push_str(&format!("; did you mean {s}?"));
        }
        return Err(message);
    };
    if !spec.scope.accepts(kind) {
        return Err(format!(
            "{} is not valid for the {} MPM",
            spec.name,
            kind.name()
        ));
    }
    if d.args.len() < spec.min_args || d.args.len() > spec.max_args {
        return Err(arity_message(spec));
    }
    let arg = d.args.first().map(String::as_str).unwrap_or_default();
    match spec.action {
        Action::Int(field) => {
            let v = parse_int(field, arg)?;
            *field.slot(&mut out.directives) = Some(v);
        }
        Action::Factor => {
            let v: f64 = arg.parse().map_err(|_| "error parsing value".to_string())?;
            check_factor(v)?;
            out.directives.async_request_worker_factor = Some(v);
        }
        Action::KeepAlive => {
            let on = if arg.eq_ignore_ascii_case("on") {
                true
            } else if arg.eq_ignore_ascii_case("off") {
                false
            } else {
                return Err(format!("KeepAlive must be On or Off, not '{arg}'"));
            };
            out.directives.keep_alive = Some(on);
        }
        Action::User => out.directives.user = Some(arg.to_string()),
        Action::Group => out.directives.group = Some(arg.to_string()),
        Action::PidFile => out.directives.pid_file = Some(arg.into()),
        Action::Listen => {
            let spec: ListenSpec = d.args.join(" ").parse()?;
            out.directives.listen.push(spec);
        }
        Action::ReadTimeout => {
            let mut set = out.directives.request_read_timeout.unwrap_or_default();
            for a in &d.args {
                match parse_arg(a)? {
                    (Stage::Header, t) => set.header = Some(t),
                    (Stage::Body, t) => set.body = Some(t),
                    (Stage::Handshake, _) => out.notices.push(format!(
                        "{}RequestReadTimeout handshake=… is accepted and ignored: the TLS handshake runs under the header deadline",
                        location(d)
                    )),
                }
            }
            out.directives.request_read_timeout = Some(set);
        }
        Action::ErrorLog => {
            out.directives.error_log = Some(crate::log::parse_error_log(arg)?);
        }
        Action::LogLevel => {
            for a in &d.args {
                if a.contains(':') {
                    out.notices.push(format!(
                        "{}LogLevel {a} is accepted and ignored: there are no modules, one level applies",
                        location(d)
                    ));
                } else {
                    out.directives.log_level = Some(a.parse()?);
                }
            }
        }
        Action::SslEngine => {
            no_tls(spec.name)?;
            let on = if arg.eq_ignore_ascii_case("on") {
                true
            } else if arg.eq_ignore_ascii_case("off") {
                false
            } else {
                return Err(format!(
                    "SSLEngine must be On or Off, not '{arg}' (optional/addr:port forms are not supported)"
                ));
            };
            out.directives.ssl_engine = Some(on);
        }
        Action::SslCertificateFile | Action::SslCertificateKeyFile => {
            no_tls(spec.name)?;
            let path = resolve(d, arg);
            // Read it now, so that a missing or unreadable file is reported at its line;
            // the chain and key are parsed and matched when the configuration is
            // validated.
            if let Err(e) = std::fs::File::open(&path) {
                return Err(format!(
                    "{} '{}' does not exist or is not readable: {e} (errno {})",
                    spec.name,
                    path.display(),
                    e.raw_os_error().unwrap_or(0)
                ));
            }
            if spec.action == Action::SslCertificateFile {
                out.directives.ssl_certificate_file = Some(path);
            } else {
                out.directives.ssl_certificate_key_file = Some(path);
            }
        }
        Action::SslProtocol => {
            no_tls(spec.name)?;
            crate::tls::TlsVersions::parse(&d.args)?;
            out.directives.ssl_protocol = Some(d.args.clone());
        }
        Action::SslCipherSuite => {
            no_tls(spec.name)?;
            out.notices.push(format!(
                "{}SSLCipherSuite is accepted and ignored: rustls offers its own safe suites (AEAD with forward secrecy only)",
                location(d)
            ));
        }
        Action::Protocols => {
            let wants_h2 = d
                .args
                .iter()
                .any(|a| a.eq_ignore_ascii_case("h2") || a.eq_ignore_ascii_case("h2c"));
            if wants_h2 && !crate::http::HTTP2_COMPILED_IN {
                out.notices.push(format!(
                    "{}Protocols h2/h2c: HTTP/2 is not compiled in (cargo feature `http2`); only http/1.1 is offered",
                    location(d)
                ));
            }
            out.directives.protocols = Some(d.args.clone());
        }
        Action::H2MaxSessionStreams | Action::H2WindowSize => {
            if !crate::http::HTTP2_COMPILED_IN {
                return Err(format!(
                    "Invalid command '{}': HTTP/2 is not compiled in (cargo feature `http2`); put it inside <IfModule http2_module>",
                    spec.name
                ));
            }
            let v: i64 = arg
                .parse()
                .map_err(|_| format!("argument '{arg}' is not a whole number"))?;
            if spec.action == Action::H2MaxSessionStreams {
                out.directives.h2_max_session_streams = Some(v);
            } else {
                out.directives.h2_window_size = Some(v);
            }
        }
        Action::Ignored(why) => {
            out.notices.push(format!(
                "{}{} is accepted and ignored: {why}",
                location(d),
                spec.name
            ));
        }
    }
    if let Some(new) = spec.alias_of {
        out.notices.push(format!(
            "{}{} is deprecated, use {new} instead.",
            location(d),
            spec.name
        ));
    }
    Ok(())
}

/// Refuse an SSL directive when TLS is not compiled in (as Apache refuses mod_ssl's
/// directives without the module).
fn no_tls(name: &str) -> Result<(), String> {
    if crate::tls::COMPILED_IN {
        Ok(())
    } else {
        Err(format!(
            "Invalid command '{name}': TLS is not compiled in (cargo feature `tls`); put it inside <IfModule ssl_module>"
        ))
    }
}

/// A path argument: relative ones from the directory of the file that says it.
fn resolve(d: &Located, arg: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(arg);
    match (&d.file, p.is_relative()) {
        (Some(f), true) => f
            .parent()
            .map_or_else(|| p.to_path_buf(), |dir| dir.join(p)),
        _ => p.to_path_buf(),
    }
}

/// The checks of the file path, for directives that came from serde or code: fields of
/// another MPM, negative or too large numbers, ListenBacklog, AsyncRequestWorkerFactor.
pub fn check_directives(kind: MpmKind, d: &Directives) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut err = |directive: &str, message: String| {
        errors.push(ConfigError {
            file: None,
            line: None,
            directive: directive.to_string(),
            message,
        })
    };
    for field in IntField::ALL {
        let Some(v) = field.get(d) else { continue };
        let name = field_name(field);
        let scope = lookup(name).map_or(Scope::All, |s| s.scope);
        if !scope.accepts(kind) {
            err(
                name,
                format!("{name} is not valid for the {} MPM", kind.name()),
            );
        } else if let Err(message) = check_int(field, v) {
            err(name, message);
        }
    }
    if let Some(t) = &d.request_read_timeout {
        if let Err(message) = t.check() {
            err("RequestReadTimeout", message);
        }
    }
    if let Some(v) = d.async_request_worker_factor {
        let name = "AsyncRequestWorkerFactor";
        if !Scope::Only(Family::AsyncConnections).accepts(kind) {
            err(
                name,
                format!("{name} is not valid for the {} MPM", kind.name()),
            );
        } else if let Err(message) = check_factor(v) {
            err(name, message);
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("StartServer"), Some("StartServers"));
        assert_eq!(suggest("maxrequestworker"), Some("MaxRequestWorkers"));
        assert_eq!(suggest("Frobnicate"), None);
    }

    #[test]
    fn every_int_field_has_a_name() {
        for f in IntField::ALL {
            assert!(!field_name(f).is_empty(), "{f:?}");
        }
    }
}
