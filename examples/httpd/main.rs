//! `httpd`: an Apache-like server on mpm.
//!
//! ```text
//! httpd [-f FILE] [--mpm NAME] [-t | -V | -k start|stop|restart|graceful|graceful-stop]
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
use mpm::{ConfigSource, Directives, MpmKind, Registry, Server, ServerConfig};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_level.as_deref());
    let strategies = strategies();
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
    let source = match &cli.config {
        Some(path) => ConfigSource::File(path.clone()),
        None => ConfigSource::from(default_directives()),
    };
    if cli.version_info {
        return version(strategies, kind, &source);
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
            serve(strategies, kind, source, cli.test_routes, handler)
        }
        Some(cmd) => signal_cmd::run(cmd, kind, &source, &cli),
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
        None => format!("the {name} MPM is not compiled into this build"),
    }
}

/// Without `-f`: listen on 127.0.0.1:8080 with the strategy's defaults.
fn default_directives() -> Directives {
    let mut d = Directives::default();
    d.listen
        .push("127.0.0.1:8080".parse().expect("valid address"));
    d.pid_file = Some(PathBuf::from("httpd.pid"));
    d
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

fn version(mut strategies: Registry, kind: MpmKind, source: &ConfigSource) -> ExitCode {
    let config = match load(kind, source) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let compiled = strategies.names();
    let Some(strategy) = strategies.take(kind.name()) else {
        return ExitCode::from(1);
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
    mut strategies: Registry,
    kind: MpmKind,
    source: ConfigSource,
    test_routes: bool,
    handler: routes::Kind,
) -> ExitCode {
    let compiled = strategies.names();
    let Some(strategy) = strategies.take(kind.name()) else {
        eprintln!(
            "httpd: the {kind} MPM is not compiled into this build (compiled in: {compiled:?}); rebuild with --features {kind}"
        );
        return ExitCode::from(1);
    };
    let server = match Server::new(strategy, source) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("httpd: {e}");
            return ExitCode::from(1);
        }
    };
    let handler = routes::handler(handler, test_routes);
    match server.run(handler) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("httpd: {e}");
            ExitCode::from(1)
        }
    }
}
