//! `httpd -k COMMAND`: talk to a running server through its PidFile, with Apache's
//! messages.

use crate::cli::Cli;
use mpm::pidfile;
use mpm::{Command, ConfigSource, Control, MpmKind, ServerConfig};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Run `-k cmd`.
pub fn run(cmd: &str, kind: MpmKind, source: &ConfigSource, cli: &Cli) -> ExitCode {
    // Apache reads (and checks) the configuration before signalling: a graceful restart
    // with a broken file is refused here, with the error, and the server keeps running.
    let config = match crate::load(kind, source) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(pid_path) = config.pid_file.clone() else {
        eprintln!("httpd: no PidFile configured, cannot find the running server");
        return ExitCode::from(1);
    };
    let running = match pidfile::read(&pid_path) {
        Ok(Some(pid)) if Control::for_pid(pid).is_running() => Ok(pid),
        Ok(Some(pid)) => Err(format!("httpd (pid {pid}?) not running")),
        Ok(None) => Err("httpd (no pid file) not running".to_string()),
        Err(e) => {
            eprintln!("httpd: {e}");
            return ExitCode::from(1);
        }
    };
    let command = match cmd {
        "start" => {
            return match running {
                Ok(pid) => {
                    println!("httpd (pid {pid}) already running");
                    ExitCode::SUCCESS
                }
                Err(_) => start_detached(&pid_path, &config, cli),
            }
        }
        "stop" => Command::Stop,
        "restart" => Command::Restart,
        "graceful" => Command::GracefulRestart,
        "graceful-stop" => Command::GracefulStop,
        other => {
            eprintln!(
                "httpd: unknown -k command {other:?}: expected start, stop, restart, graceful or graceful-stop"
            );
            return ExitCode::from(1);
        }
    };
    match running {
        Ok(pid) => match Control::for_pid(pid).send(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("httpd: cannot signal pid {pid}: {e}");
                // As Apache: `stop` ignores the result of kill(); the others report it.
                if command == Command::Stop {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
        },
        Err(status) => match command {
            Command::Restart | Command::GracefulRestart => {
                // Apache prints this status to stdout, like the others.
                println!("httpd not running, trying to start");
                start_detached(&pid_path, &config, cli)
            }
            _ => {
                println!("{status}");
                ExitCode::SUCCESS
            }
        },
    }
}

/// Start this program again without `-k`, detached in its own process group (so terminal
/// signals do not reach it) with its log in a file (`-E`, else `ErrorLog`, else
/// `error_log` beside the PidFile), and wait until its PidFile names a live process. Then
/// say where it listens and where its PidFile and log are; if it exits instead, print
/// what it logged (the cause) and where.
fn start_detached(pid_path: &Path, config: &ServerConfig, cli: &Cli) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("httpd: cannot find my own executable: {e}");
            return ExitCode::from(1);
        }
    };
    let mut args: Vec<String> = Vec::new();
    if let Some(f) = &cli.config {
        args.push("-f".into());
        args.push(f.display().to_string());
    }
    for (flag, values) in [
        ("-C", &cli.before),
        ("-c", &cli.after),
        ("-D", &cli.defines),
    ] {
        for v in values {
            args.push(flag.into());
            args.push(v.clone());
        }
    }
    if let Some(m) = &cli.mpm {
        args.push(format!("--mpm={m}"));
    }
    if let Some(l) = cli.level() {
        args.push(format!("--log-level={l}"));
    }
    if cli.test_routes {
        args.push("--test-routes".into());
    }
    if cli.async_handler {
        args.push("--async-handler".into());
    }
    // Without -E the detached server logs beside its PidFile (Apache's logs/error_log),
    // so it holds no descriptor of the caller's terminal or pipe.
    let default_log = pid_path.with_file_name("error_log");
    let log_path = cli
        .error_log
        .as_deref()
        .or(config.error_log.as_deref())
        .unwrap_or(&default_log);
    args.push("-E".into());
    args.push(log_path.display().to_string());
    let log = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
    {
        Ok(f) => Stdio::from(f),
        Err(e) => {
            eprintln!("httpd: log file {}: {e}", log_path.display());
            return ExitCode::from(1);
        }
    };
    // What the server logs from here on is this start's.
    let log_start = std::fs::metadata(log_path).map_or(0, |m| m.len());
    use std::os::unix::process::CommandExt;
    let mut child = match std::process::Command::new(exe)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("httpd: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let logged = read_from(log_path, log_start);
            for line in logged.lines().filter(|l| !l.trim().is_empty()) {
                eprintln!("{line}");
            }
            eprintln!(
                "httpd: the server exited during startup ({status}); its log: {}",
                log_path.display()
            );
            return ExitCode::from(1);
        }
        if let Ok(Some(pid)) = pidfile::read(pid_path) {
            if pid.as_raw() as u32 == child.id() {
                // The `listening on` lines follow the PidFile closely (bounded wait).
                let until = Instant::now() + Duration::from_secs(5);
                let mut addrs = Vec::new();
                while addrs.is_empty() && Instant::now() < until {
                    addrs = listening(&read_from(log_path, log_start));
                    if addrs.is_empty() {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                if addrs.is_empty() {
                    addrs = config.listen.iter().map(|l| l.to_string()).collect();
                }
                println!(
                    "httpd (pid {pid}) listening on {}; PidFile {}; log {}",
                    addrs.join(", "),
                    pid_path.display(),
                    log_path.display()
                );
                return ExitCode::SUCCESS;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "httpd: the server did not write {} within 10 s",
        pid_path.display()
    );
    ExitCode::from(1)
}

/// The log's text from byte `from` on (empty if unreadable).
fn read_from(path: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let mut bytes = Vec::new();
            let _ = f.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    text
}

/// The addresses of the `listening on ADDR` lines of a log.
fn listening(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.split("listening on ").nth(1))
        .map(|a| a.trim().to_string())
        .collect()
}
