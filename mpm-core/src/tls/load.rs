//! Loading the certificate and key (in the master, at every configuration load), and the
//! rustls configuration each child builds from them.

use super::{TlsAcceptor, TlsSettings};
use crate::config::ServerConfig;
use crate::listen::Listener;
use crate::scoreboard::Scoreboard;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::net::SocketAddr;
use std::sync::Arc;

/// The ALPN protocol identifiers (RFC 7301 §6; RFC 9113 §3.2).
const ALPN_HTTP11: &[u8] = b"http/1.1";
const ALPN_H2: &[u8] = b"h2";

fn pem_error(path: &std::path::Path, e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => format!(
            "{}: {io} (errno {})",
            path.display(),
            io.raw_os_error().unwrap_or(0)
        ),
        rustls::pki_types::pem::Error::NoItemsFound => {
            format!("{}: no PEM item of the expected kind found", path.display())
        }
        other => format!("{}: not a valid PEM file: {other:?}", path.display()),
    }
}

/// Read the certificate chain and the key and check that they belong together; errors are
/// `(directive, message)`.
pub(super) fn load(s: &TlsSettings) -> Result<Arc<CertifiedKey>, (&'static str, String)> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&s.certificate_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ("SSLCertificateFile", pem_error(&s.certificate_file, e)))?;
    if certs.is_empty() {
        return Err((
            "SSLCertificateFile",
            format!("{}: no certificate found", s.certificate_file.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&s.certificate_key_file).map_err(|e| {
        (
            "SSLCertificateKeyFile",
            pem_error(&s.certificate_key_file, e),
        )
    })?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider.key_provider.load_private_key(key).map_err(|e| {
        (
            "SSLCertificateKeyFile",
            format!(
                "{}: unusable private key: {e}",
                s.certificate_key_file.display()
            ),
        )
    })?;
    let ck = CertifiedKey::new(certs, signing);
    if let Err(e) = ck.keys_match() {
        return Err((
            "SSLCertificateKeyFile",
            format!(
                "the private key in {} does not match the certificate in {} ({e})",
                s.certificate_key_file.display(),
                s.certificate_file.display()
            ),
        ));
    }
    Ok(Arc::new(ck))
}

/// One certificate for every connection (no SNI selection: there are no virtual hosts).
#[derive(Debug)]
struct OneCert(Arc<CertifiedKey>);

impl ResolvesServerCert for OneCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The rustls configuration of a child: this generation's certificate, the versions
/// `SSLProtocol` allows, ALPN `http/1.1` (and `h2` first when `h2`), and session tickets sealed with the keys the
/// master keeps in the scoreboard mapping (shared by every child and generation).
pub(crate) fn server_config(
    settings: &TlsSettings,
    key: Arc<CertifiedKey>,
    scoreboard: &Scoreboard,
    h2: bool,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if settings.versions.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if settings.versions.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut c = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(OneCert(key)));
    c.alpn_protocols = if h2 {
        vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()]
    } else {
        vec![ALPN_HTTP11.to_vec()]
    };
    c.ticketer = Arc::new(super::tickets::SharedTicketer::new(scoreboard.clone()));
    Ok(Arc::new(c))
}

pub(super) fn acceptor(
    config: &ServerConfig,
    listeners: &[Listener],
    scoreboard: &Scoreboard,
) -> Option<TlsAcceptor> {
    let settings = config.tls.as_ref()?;
    let key = config.tls_material.key.clone()?;
    let addrs: Arc<[SocketAddr]> = listeners
        .iter()
        .filter(|l| l.https || settings.all_listeners)
        .map(|l| l.local_addr)
        .collect();
    if addrs.is_empty() {
        return None;
    }
    let h2 = crate::http::HttpOptions::from_config(config).http2.h2;
    let config_h2 = if h2 {
        server_config(settings, key.clone(), scoreboard, true).ok()
    } else {
        None
    };
    match server_config(settings, key, scoreboard, false) {
        Ok(config) => Some(TlsAcceptor {
            config,
            config_h2,
            addrs,
        }),
        Err(e) => {
            tracing::error!("TLS configuration refused by rustls: {e}; serving no TLS");
            None
        }
    }
}
