//! Log lines in Apache's error-log shape: `[time] [level] [pid N] message`.

use std::fmt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::registry::LookupSpan;

struct ApacheFormat;

impl<S, N> FormatEvent<S, N> for ApacheFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "notice",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        write!(
            writer,
            "[{}.{:06}] [mpm:{level}] [pid {}] ",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id()
        )?;
        // The connection span (pid, slot, generation, client), Apache-style in brackets.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(writer, "[{} {}] ", span.name(), fields)?;
                    }
                }
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Install the stderr subscriber (no threads are started: the master stays
/// single-threaded).
pub fn init(level: Option<&str>) {
    let level = level
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(ApacheFormat)
        .try_init();
    // One log line per panic (with its location) instead of the default multi-line dump;
    // handler panics are also answered 500 and logged with the request by mpm.
    std::panic::set_hook(Box::new(|info| tracing::error!("panic: {info}")));
}
