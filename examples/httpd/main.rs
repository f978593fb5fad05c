//! `httpd`: an Apache-like server on mpm.
//!
//! ```text
//! httpd [-f FILE] [-C DIRECTIVE] [-c DIRECTIVE] [-D NAME] [-E FILE] [-e LEVEL] [--mpm NAME]
//!       [-t | -V | -k start|stop|restart|graceful|graceful-stop]
//! ```
//! Without `-k` or with `-k start`, it serves `/` (a 14-byte hello) and `/server-status`
//! (`?auto`, `?json`, `?refresh=N`) under the strategy chosen by the build or `--mpm`.

mod bodies;
mod cli;
mod logging;
mod reactor;
mod routes;
mod signal_cmd;
#[cfg(feature = "tower")]
mod tower_routes;

use clap::Parser;
use cli::Cli;
use mpm::log::LogLevel;
use mpm::{CommandLine, ConfigSource, Directives, Mpm, MpmKind, Registry, Server, ServerConfig};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.level().map(str::parse::<LogLevel>) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            eprintln!("httpd: -e {}: {e}", cli.level().unwrap_or_default());
            return ExitCode::from(1);
        }
    };
    logging::panic_hook();
    let mut strategies = strategies();
    let kind = match cli.mpm.as_deref() {
        None => mpm::default_kind(),
        Some(name) => match strategies.kind(name) {
            Some(k) => k,
            None => {
                eprintln!("httpd: {}", unknown_mpm(name, &strategies));
                return ExitCode::from(1);
            }
        },
    };
    let names = strategies.names();
    // Every use of the strategy fails the same way when it is missing: -t, -V, a start.
    let Some(strategy) = strategies.take(kind.name()) else {
        eprintln!("httpd: {}", not_compiled(kind, &names));
        return ExitCode::from(1);
    };
    let source = source(&cli);
    if cli.version_info {
        return version(strategy, &names, &source);
    }
    if cli.test_config {
        return test_config(kind, &source);
    }
    match cli.command.as_deref() {
        None => {
            let handler = if cli.async_handler {
                routes::Kind::Async
            } else {
                cli.handler
            };
            serve(strategy, source, &cli, level, handler)
        }
        Some(cmd) => {
            // Nothing is served here: messages go to the terminal.
            let _ = mpm::log::install_to(None, level.unwrap_or_default());
            signal_cmd::run(cmd, kind, &source, &cli)
        }
    }
}

/// The strategies this binary can run: those compiled into mpm, then the reactor
/// written here with mpm's strategy kit.
fn strategies() -> Registry {
    Registry::compiled_in().with(Box::new(reactor::ReactorMpm))
}

/// Apache's names first, as `MpmKind`'s own error words them, then this program's own.
fn unknown_mpm(name: &str, strategies: &Registry) -> String {
    let apache = name.parse::<MpmKind>().err().map(|e| e.to_string());
    let ours: Vec<&str> = strategies
        .names()
        .into_iter()
        .filter(|n| n.parse::<MpmKind>().is_err())
        .collect();
    match apache {
        Some(e) if !ours.is_empty() => {
            format!("{e}, or one of this program's: {}", ours.join(", "))
        }
        Some(e) => e,
        // One of Apache's names, but not compiled into this build.
        None => match name.parse::<MpmKind>() {
            Ok(kind) => not_compiled(kind, &strategies.names()),
            Err(_) => format!("the {name} MPM is not compiled into this build"),
        },
    }
}

fn not_compiled(kind: MpmKind, compiled: &[&str]) -> String {
    format!(
        "the {kind} MPM is not compiled into this build (compiled in: {}); rebuild with --features {kind}",
        compiled.join(", ")
    )
}

/// Without `-f`: listen on 127.0.0.1:8080 with the strategy's defaults.
fn default_directives() -> Directives {
    let mut d = Directives::default();
    d.listen
        .push("127.0.0.1:8080".parse().expect("valid address"));
    d.pid_file = Some(PathBuf::from("httpd.pid"));
    d
}

/// `-f`, `-C`, `-c`, `-D` as one source. Without `-f`, the defaults of
/// [`default_directives`] come first; their `Listen` only if `-C`/`-c` give none.
fn source(cli: &Cli) -> ConfigSource {
    if cli.before.is_empty() && cli.after.is_empty() && cli.defines.is_empty() {
        return match &cli.config {
            Some(path) => ConfigSource::File(path.clone()),
            None => ConfigSource::from(default_directives()),
        };
    }
    let mut before = Vec::new();
    if cli.config.is_none() {
        let listens = cli.before.iter().chain(&cli.after).any(|d| {
            d.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("Listen"))
        });
        if !listens {
            before.push("Listen 127.0.0.1:8080".to_string());
        }
        before.push("PidFile httpd.pid".to_string());
    }
    before.extend(cli.before.iter().cloned());
    ConfigSource::from(CommandLine {
        before,
        file: cli.config.clone(),
        after: cli.after.clone(),
        defines: cli.defines.clone(),
    })
}

fn load(kind: MpmKind, source: &ConfigSource) -> Result<ServerConfig, ExitCode> {
    source.load(kind, None).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(1)
    })
}

fn test_config(kind: MpmKind, source: &ConfigSource) -> ExitCode {
    let config = match load(kind, source) {
        Ok(c) => c,
        Err(code) => return code,
    };
    for n in &config.notices {
        eprintln!("{n}");
    }
    for w in &config.warnings {
        eprintln!("{}", w.startup);
    }
    let summary = config.summary();
    print!("{summary}");
    if !summary.ends_with('\n') {
        println!();
    }
    eprintln!("Syntax OK");
    ExitCode::SUCCESS
}

fn version(strategy: Box<dyn Mpm>, compiled: &[&str], source: &ConfigSource) -> ExitCode {
    let config = match load(strategy.kind(), source) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let info = strategy.info(&config.limits, 0, mpm::MpmState::Starting);
    println!("Server version: mpm/{} (Unix)", env!("CARGO_PKG_VERSION"));
    println!(
        "Server built:   {}",
        option_env!("MPM_BUILD_DATE").unwrap_or("unknown")
    );
    println!("Architecture:   {}-bit", std::mem::size_of::<usize>() * 8);
    print!("{}", info.version_lines());
    println!("Server compiled with....");
    println!(" -D MPM_COMPILED_IN=\"{}\"", compiled.join(","));
    println!(" -D DEFAULT_MPM=\"{}\"", mpm::default_kind());
    ExitCode::SUCCESS
}

fn serve(
    strategy: Box<dyn Mpm>,
    source: ConfigSource,
    cli: &Cli,
    level: Option<LogLevel>,
    handler: routes::Kind,
) -> ExitCode {
    // The configuration's ErrorLog and LogLevel, unless -E / -e say otherwise.
    let config = match load(strategy.kind(), &source) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let file = cli.error_log.as_deref().or(config.error_log.as_deref());
    if let Err(e) = mpm::log::install_to(file, level.unwrap_or(config.log_level)) {
        eprintln!("httpd: {e}");
        return ExitCode::from(1);
    }
    let server = match Server::new(strategy, source) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            // The log is a file: the terminal (if any) gets the cause too.
            if file.is_some() && std::io::stderr().is_terminal() {
                eprintln!("httpd: {e}");
            }
            return ExitCode::from(1);
        }
    };
    let handler = routes::handler(handler, cli.test_routes);
    match server.run(handler) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            // The log is a file: the terminal (if any) gets the cause too.
            if file.is_some() && std::io::stderr().is_terminal() {
                eprintln!("httpd: {e}");
            }
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--mpm worker` on a build without worker: refused before `-t`, `-V` or a start,
    /// naming what is compiled in (not a Debug list).
    #[test]
    fn a_strategy_not_compiled_in_is_named_with_the_remedy() {
        let r = Registry::empty().with(Box::new(reactor::ReactorMpm));
        assert_eq!(r.kind("worker"), None);
        assert_eq!(
            unknown_mpm("worker", &r),
            "the worker MPM is not compiled into this build (compiled in: reactor); rebuild with --features worker"
        );
    }
}
