//! TLS settings through the typed builder and serde, with certificates made here (rcgen):
//! the certificate and key are loaded and matched while the configuration is validated.
#![cfg(feature = "tls")]

use mpm_core::config::{Directives, ServerConfig};
use mpm_core::kind::MpmKind;
use std::path::PathBuf;

fn cert(dir: &std::path::Path, name: &str) -> (PathBuf, PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (c, k) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&c, ck.cert.pem()).unwrap();
    std::fs::write(&k, ck.signing_key.serialize_pem()).unwrap();
    (c, k)
}

#[test]
fn builder_loads_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = cert(dir.path(), "a");
    let config = ServerConfig::builder()
        .listen("127.0.0.1:0 https")
        .ssl_certificate(&c, &k)
        .ssl_protocol("-all +TLSv1.3")
        .build(MpmKind::Event)
        .unwrap();
    let tls = config.tls.as_ref().expect("TLS settings");
    assert!(tls.versions.tls13 && !tls.versions.tls12);
    assert!(config.tls_material.is_loaded());
    assert!(config.listen[0].https);
}

#[test]
fn builder_refuses_what_apache_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let (c, _) = cert(dir.path(), "a");
    let (_, other_key) = cert(dir.path(), "b");
    let e = ServerConfig::builder()
        .listen("127.0.0.1:0 https")
        .build(MpmKind::Event)
        .unwrap_err();
    assert!(
        e.to_string().contains("SSLCertificateFile is required"),
        "{e}"
    );
    let e = ServerConfig::builder()
        .listen("127.0.0.1:0 https")
        .ssl_certificate(&c, &other_key)
        .build(MpmKind::Event)
        .unwrap_err();
    assert!(e.to_string().contains("does not match"), "{e}");
    let e = ServerConfig::builder()
        .listen("127.0.0.1:0 https")
        .ssl_certificate(&c, dir.path().join("missing.key"))
        .build(MpmKind::Event)
        .unwrap_err();
    assert!(e.to_string().contains("SSLCertificateKeyFile"), "{e}");
    let e = ServerConfig::builder()
        .listen("127.0.0.1:0 https")
        .ssl_engine(false)
        .build(MpmKind::Event)
        .unwrap_err();
    assert!(e.to_string().contains("SSLEngine off"), "{e}");
    // No TLS listener: nothing is loaded or required.
    let plain = ServerConfig::builder()
        .listen("127.0.0.1:0")
        .build(MpmKind::Event)
        .unwrap();
    assert!(plain.tls.is_none() && !plain.tls_material.is_loaded());
}

#[test]
fn serde_directives_use_apache_names() {
    let dir = tempfile::tempdir().unwrap();
    let (c, k) = cert(dir.path(), "a");
    let json = serde_json::json!({
        "Listen": ["127.0.0.1:0 https"],
        "SSLCertificateFile": c,
        "SSLCertificateKeyFile": k,
        "SSLEngine": true,
    });
    let d: Directives = serde_json::from_value(json).unwrap();
    let config = ServerConfig::from_directives(&d, MpmKind::Worker, None).unwrap();
    assert!(config.tls.unwrap().all_listeners);
    assert!(config.tls_material.is_loaded());
}
