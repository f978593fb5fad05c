//! The strategy contract seen from outside: a handler a strategy cannot serve is refused
//! before anything is forked, with a clear error; a strategy of one's own is selectable
//! beside the compiled-in ones.

use mpm::{ConfigSource, Directives, Handler, Registry, Server};

fn loopback() -> ConfigSource {
    let mut d = Directives::default();
    d.listen.push("127.0.0.1:0".parse().unwrap());
    ConfigSource::from(d)
}

#[test]
#[cfg(feature = "event")]
fn event_refuses_a_connection_handler_before_any_fork() {
    let strategy = Registry::compiled_in()
        .take("event")
        .expect("event compiled in");
    let server = Server::new(strategy, loopback()).expect("server");
    // `run` would become the master; it must return at once, in this process.
    let err = server
        .run(Handler::connection(|_s: std::net::TcpStream, _p| {}))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the event MPM cannot serve this handler")
            && text.contains("use the worker MPM for a ConnectionHandler"),
        "{text}"
    );
}

#[test]
#[cfg(all(feature = "prefork", feature = "worker", feature = "event"))]
fn the_registry_resolves_names_and_module_names() {
    let strategies = Registry::compiled_in();
    assert_eq!(strategies.names(), ["event", "worker", "prefork"]);
    assert_eq!(
        strategies.kind("MPM_WORKER_MODULE").map(|k| k.name()),
        Some("worker")
    );
    assert!(
        strategies.kind("reactor").is_none(),
        "the example adds its own"
    );
    assert_eq!(mpm::default_kind().name(), "event");
    assert_eq!(
        mpm::mpm_for(mpm::MpmKind::Prefork).map(|m| m.kind().name()),
        Some("prefork")
    );
}
