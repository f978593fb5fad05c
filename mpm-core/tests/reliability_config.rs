//! The request-limit directives: `LimitRequestLine`, `LimitRequestFieldSize`,
//! `LimitRequestFields`, `LimitRequestBody` and `RequestReadTimeout` — parsing, errors with
//! file and line, serde, the builder, the `httpd -t` summary and the HTTP options they give.

use mpm_core::config::{Directives, ServerConfig, StageTimeout};
use mpm_core::http::{HttpOptions, RequestLimits, DEFAULT_MAX_BODY, UNBOUNDED};
use mpm_core::{ConfigErrors, MpmKind};
use std::path::Path;
use std::time::Duration;

const ORIGIN: &str = "/etc/mpm/limits.conf";

fn ok(kind: MpmKind, text: &str) -> ServerConfig {
    ServerConfig::from_config_str(text, Path::new(ORIGIN), kind, None)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn errs(text: &str) -> Vec<String> {
    match ServerConfig::from_config_str(text, Path::new(ORIGIN), MpmKind::Event, None) {
        Ok(c) => panic!("loaded: {c:?}"),
        Err(ConfigErrors(list)) => list.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn defaults_are_apaches() {
    for kind in MpmKind::ALL {
        let c = ok(kind, "");
        let o = HttpOptions::from_config(&c);
        assert_eq!(o.limits, RequestLimits::default());
        assert_eq!(o.max_body, DEFAULT_MAX_BODY);
        let s = c.summary();
        for line in [
            "LimitRequestLine: 8190",
            "LimitRequestFieldSize: 8190",
            "LimitRequestFields: 100",
            "LimitRequestBody: 1073741824",
            "RequestReadTimeout: header=20-40,MinRate=500 body=20,MinRate=500",
        ] {
            assert!(s.lines().any(|l| l == line), "{line} missing from\n{s}");
        }
    }
}

#[test]
fn directives_set_the_http_options() {
    let c = ok(
        MpmKind::Worker,
        "limitrequestline 1000\nLIMITREQUESTFIELDSIZE 2000\nLimitRequestFields 0\n\
         LimitRequestBody 12345\nRequestReadTimeout header=5-10,MinRate=100 body=0\n",
    );
    let o = HttpOptions::from_config(&c);
    assert_eq!(o.limits.request_line, 1000);
    assert_eq!(o.limits.field_size, 2000);
    assert_eq!(o.limits.fields, 0);
    assert_eq!(o.max_body, 12345);
    assert_eq!(o.limits.header_timeout, Duration::from_secs(5));
    assert_eq!(o.limits.header_timeout_max, Duration::from_secs(10));
    assert_eq!(o.limits.header_min_rate, 100);
    assert_eq!(o.limits.body_timeout, Duration::ZERO);
    assert!(c
        .summary()
        .contains("RequestReadTimeout: header=5-10,MinRate=100 body=0"));
}

#[test]
fn stages_merge_across_lines_and_body_without_max_is_unbounded() {
    let c = ok(
        MpmKind::Event,
        "RequestReadTimeout header=7\nRequestReadTimeout body=3,MinRate=50 handshake=5\n",
    );
    let o = HttpOptions::from_config(&c);
    assert_eq!(o.limits.header_timeout, Duration::from_secs(7));
    assert_eq!(o.limits.header_min_rate, 0);
    assert_eq!(o.limits.body_timeout, Duration::from_secs(3));
    assert_eq!(o.limits.body_timeout_max, UNBOUNDED);
    assert_eq!(o.limits.body_min_rate, 50);
    assert!(
        c.notices.iter().any(|n| n.contains("handshake")),
        "{:?}",
        c.notices
    );
}

#[test]
fn limit_request_body_zero_is_unlimited_for_streams_and_the_built_in_cap_when_buffered() {
    let o = HttpOptions::from_config(&ok(MpmKind::Prefork, "LimitRequestBody 0"));
    assert_eq!(o.max_body, DEFAULT_MAX_BODY);
    assert_eq!(o.body_limit, None);
    let o = HttpOptions::from_config(&ok(MpmKind::Prefork, "LimitRequestBody 12345"));
    assert_eq!(o.max_body, 12345);
    assert_eq!(o.body_limit, Some(12345));
    let o = HttpOptions::from_config(&ok(MpmKind::Prefork, ""));
    assert_eq!(o.max_body, DEFAULT_MAX_BODY);
    assert_eq!(o.body_limit, Some(1 << 30));
}

#[test]
fn bad_values_are_errors_with_file_and_line() {
    let cases: &[(&str, &str)] = &[
        ("LimitRequestLine 0", "LimitRequestLine must be at least 1"),
        ("LimitRequestFieldSize abc", "not a whole number"),
        ("LimitRequestFields -1", "negative value"),
        ("LimitRequestBody 99999999999", "too large"),
        ("LimitRequestLine", "takes one argument"),
        ("RequestReadTimeout", "takes one to three arguments"),
        ("RequestReadTimeout header=10-20", "Must set MinRate"),
        (
            "RequestReadTimeout header=20-10,MinRate=5",
            "must not be smaller",
        ),
        ("RequestReadTimeout header=x", "not a whole number"),
        (
            "RequestReadTimeout tail=5",
            "unknown RequestReadTimeout stage",
        ),
        (
            "RequestReadTimeout header=5,MaxRate=5",
            "unknown RequestReadTimeout option",
        ),
        (
            "RequestReadTimeout header=5,MinRate=0",
            "MinRate must be greater than 0",
        ),
        ("RequestReadTimeout header", "not of the form"),
    ];
    for (text, want) in cases {
        let all = errs(&format!("# comment\n{text}\n"));
        assert_eq!(all.len(), 1, "{text}: {all:?}");
        assert!(
            all[0].starts_with(&format!("{ORIGIN}:2: ")) && all[0].contains(want),
            "{text}: {all:?}"
        );
    }
}

#[test]
fn serde_and_builder_agree_with_the_file() {
    let from_file = ok(
        MpmKind::Event,
        "LimitRequestLine 500\nRequestReadTimeout header=3-6,MinRate=10\n",
    );
    let json = r#"{"LimitRequestLine": 500,
        "RequestReadTimeout": {"Header": {"Timeout": 3, "Max": 6, "MinRate": 10}}}"#;
    let d: Directives = serde_json::from_str(json).unwrap();
    let from_serde = ServerConfig::from_directives(&d, MpmKind::Event, None).unwrap();
    assert_eq!(from_serde.limit_request_line, 500);
    assert_eq!(
        from_serde.request_read_timeout,
        from_file.request_read_timeout
    );
    let built = ServerConfig::builder()
        .limit_request_line(500)
        .header_read_timeout(StageTimeout {
            timeout: 3,
            max: Some(6),
            min_rate: 10,
        })
        .build(MpmKind::Event)
        .unwrap();
    assert_eq!(
        HttpOptions::from_config(&built),
        HttpOptions::from_config(&from_file)
    );
    // A bad stage from serde is an error naming the directive (no file).
    let bad: Directives =
        serde_json::from_str(r#"{"RequestReadTimeout": {"Body": {"Timeout": 3, "Max": 9}}}"#)
            .unwrap();
    let e = ServerConfig::from_directives(&bad, MpmKind::Event, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("RequestReadTimeout: body: Must set MinRate"),
        "{e}"
    );
    // The validated config round-trips through serde.
    let text = serde_json::to_string(&from_file).unwrap();
    let back: ServerConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, from_file);
}
