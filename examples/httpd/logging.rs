//! The log sink is mpm's (`mpm::log`: Apache's error-log lines, `ErrorLog`, `LogLevel`);
//! this adds one log line per panic.

/// One log line per panic (with its location) instead of the default multi-line dump;
/// handler panics are also answered 500 and logged with the request by mpm.
pub fn panic_hook() {
    std::panic::set_hook(Box::new(|info| tracing::error!("panic: {info}")));
}
