//! TLS, as mod_ssl configures it: which listeners speak TLS, the certificate and key, the
//! protocol versions — server-wide (there are no virtual hosts, so no SNI selection of
//! certificates yet).
//!
//! The settings ([`TlsSettings`], [`TlsVersions`]) exist in every build so that a
//! configuration reads the same everywhere; serving TLS needs the cargo feature `tls`
//! (rustls with the `ring` provider). With it:
//!
//! * the master loads and checks the certificate chain and key while it validates the
//!   configuration ([`TlsMaterial`]), before any child is forked; a graceful restart
//!   loads them again, and a certificate or key that fails to load keeps the running
//!   generation (as any configuration error at restart does);
//! * each child builds its rustls configuration from that material and from the session
//!   ticket keys the master keeps in the scoreboard mapping (`tickets`), so a client
//!   resumes its session on any child, of any generation still accepting the keys;
//! * the HTTP/1.1 engine runs the handshake under the first request's deadline and then
//!   serves the connection exactly as a plain one (`conn`).

#[cfg(feature = "tls")]
pub(crate) mod conn;
#[cfg(feature = "tls")]
mod load;
#[cfg(feature = "tls")]
pub(crate) mod tickets;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Whether TLS is compiled in (the `tls` feature): `<IfModule ssl_module>` is true then.
pub const COMPILED_IN: bool = cfg!(feature = "tls");

/// The TLS protocol versions offered (`SSLProtocol`); rustls implements TLS 1.2 and 1.3
/// only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsVersions {
    /// TLSv1.2
    pub tls12: bool,
    /// TLSv1.3
    pub tls13: bool,
}

impl Default for TlsVersions {
    /// Both (mod_ssl's `all`, less the versions rustls does not implement).
    fn default() -> Self {
        TlsVersions {
            tls12: true,
            tls13: true,
        }
    }
}

impl TlsVersions {
    /// Parse `SSLProtocol`'s words (`all -TLSv1.2`, `-all +TLSv1.3`, `TLSv1.2`): a word
    /// without `+`/`-` first replaces the set, later ones add to it. `SSLv3`, `TLSv1` and
    /// `TLSv1.1` are accepted when removed and refused when asked for (rustls does not
    /// implement them). An empty result is an error.
    pub fn parse(words: &[String]) -> Result<TlsVersions, String> {
        let mut v = TlsVersions::default();
        for (i, w) in words.iter().enumerate() {
            let (op, name) = match w.as_bytes().first() {
                Some(b'+') => ('+', &w[1..]),
                Some(b'-') => ('-', &w[1..]),
                _ => ('=', w.as_str()),
            };
            let (t12, t13) = if name.eq_ignore_ascii_case("all") {
                (true, true)
            } else if name.eq_ignore_ascii_case("TLSv1.2") {
                (true, false)
            } else if name.eq_ignore_ascii_case("TLSv1.3") {
                (false, true)
            } else if ["SSLv3", "TLSv1", "TLSv1.1"]
                .iter()
                .any(|o| name.eq_ignore_ascii_case(o))
            {
                if op == '-' {
                    continue;
                }
                return Err(format!(
                    "SSLProtocol: {name} is not supported (rustls implements TLSv1.2 and TLSv1.3 only)"
                ));
            } else {
                return Err(format!("SSLProtocol: illegal protocol '{w}'"));
            };
            match op {
                '=' if i == 0 => {
                    v = TlsVersions {
                        tls12: t12,
                        tls13: t13,
                    }
                }
                '-' => {
                    v.tls12 &= !t12;
                    v.tls13 &= !t13;
                }
                _ => {
                    v.tls12 |= t12;
                    v.tls13 |= t13;
                }
            }
        }
        if !v.tls12 && !v.tls13 {
            return Err(
                "SSLProtocol: no protocol left (TLSv1.2 and TLSv1.3 are those rustls implements)"
                    .into(),
            );
        }
        Ok(v)
    }
}

/// The TLS part of a validated configuration: present when some listener speaks TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSettings {
    /// `SSLCertificateFile`: the PEM certificate chain, leaf first.
    pub certificate_file: PathBuf,
    /// `SSLCertificateKeyFile`: the PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub certificate_key_file: PathBuf,
    /// `SSLProtocol`.
    #[serde(default)]
    pub versions: TlsVersions,
    /// `SSLEngine on`: every listener speaks TLS, not only those whose `Listen` says
    /// `https`.
    #[serde(default)]
    pub all_listeners: bool,
}

/// The certificate chain and key a configuration's [`TlsSettings`] name, loaded and
/// checked (the key matches the certificate) by the master. Empty when no listener speaks
/// TLS, or without the `tls` feature. Two values are equal when they are the same load.
#[derive(Clone, Default)]
pub struct TlsMaterial {
    #[cfg(feature = "tls")]
    pub(crate) key: Option<std::sync::Arc<rustls::sign::CertifiedKey>>,
}

impl TlsMaterial {
    /// Whether a certificate is loaded.
    pub fn is_loaded(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.key.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    /// Load what `settings` names: errors are `(directive, message)`.
    #[cfg(feature = "tls")]
    pub fn load(settings: &TlsSettings) -> Result<TlsMaterial, (&'static str, String)> {
        load::load(settings).map(|k| TlsMaterial { key: Some(k) })
    }
}

impl PartialEq for TlsMaterial {
    fn eq(&self, _other: &Self) -> bool {
        #[cfg(feature = "tls")]
        return match (&self.key, &_other.key) {
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        #[cfg(not(feature = "tls"))]
        return true;
    }
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_loaded() {
            "TlsMaterial(loaded)"
        } else {
            "TlsMaterial(none)"
        })
    }
}

/// What the engine needs to serve TLS in a child: the rustls configuration (this
/// generation's certificate, the shared ticket keys) and which listening addresses speak
/// TLS. Made by [`TlsAcceptor::for_child`]; `None` in [`HttpOptions::tls`] when no listener
/// does. Two values are equal when they share one rustls configuration.
///
/// [`HttpOptions::tls`]: crate::http::HttpOptions::tls
#[derive(Clone)]
pub struct TlsAcceptor {
    #[cfg(feature = "tls")]
    pub(crate) config: std::sync::Arc<rustls::ServerConfig>,
    /// The same, offering ALPN `h2` before `http/1.1` (`Protocols h2`; not under
    /// prefork, and not for a blocking streaming handler, whose writer speaks HTTP/1.1).
    #[cfg(feature = "tls")]
    pub(crate) config_h2: Option<std::sync::Arc<rustls::ServerConfig>>,
    #[cfg(feature = "tls")]
    pub(crate) addrs: std::sync::Arc<[std::net::SocketAddr]>,
}

impl TlsAcceptor {
    /// The acceptor for a child of this generation: `None` when no listener speaks TLS
    /// (or without the `tls` feature).
    pub fn for_child(ctx: &crate::child::ChildContext<'_>) -> Option<TlsAcceptor> {
        #[cfg(feature = "tls")]
        return load::acceptor(ctx.config(), ctx.listeners(), ctx.scoreboard());
        #[cfg(not(feature = "tls"))]
        {
            let _ = ctx;
            None
        }
    }

    /// Whether a connection accepted on `local` (its socket's own address) speaks TLS.
    pub fn applies_to(&self, local: std::net::SocketAddr) -> bool {
        #[cfg(feature = "tls")]
        return self.addrs.contains(&local)
            || self.addrs.iter().any(|a| {
                a.ip().is_unspecified()
                    && a.port() == local.port()
                    && a.is_ipv4() == local.is_ipv4()
            });
        #[cfg(not(feature = "tls"))]
        {
            let _ = local;
            false
        }
    }
}

impl PartialEq for TlsAcceptor {
    fn eq(&self, _other: &Self) -> bool {
        #[cfg(feature = "tls")]
        return std::sync::Arc::ptr_eq(&self.config, &_other.config);
        #[cfg(not(feature = "tls"))]
        return true;
    }
}

impl Eq for TlsAcceptor {}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("TlsAcceptor");
        #[cfg(feature = "tls")]
        d.field("addrs", &self.addrs);
        d.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<TlsVersions, String> {
        TlsVersions::parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn ssl_protocol_words() {
        let both = TlsVersions::default();
        let only12 = TlsVersions {
            tls12: true,
            tls13: false,
        };
        let only13 = TlsVersions {
            tls12: false,
            tls13: true,
        };
        assert_eq!(p("all").unwrap(), both);
        assert_eq!(p("all -SSLv3 -TLSv1 -TLSv1.1").unwrap(), both);
        assert_eq!(p("-all +TLSv1.2").unwrap(), only12);
        assert_eq!(p("all -TLSv1.2").unwrap(), only13);
        assert_eq!(p("TLSv1.3").unwrap(), only13);
        assert_eq!(p("TLSv1.2 TLSv1.3").unwrap(), both);
        assert!(p("-all").is_err());
        assert!(p("+TLSv1.1").unwrap_err().contains("not supported"));
        assert!(p("TLSv9").unwrap_err().contains("illegal"));
    }
}
