//! STARTTLS settings: the mode, the rustls client configuration (which roots to
//! trust), and the per-host hook where DANE or MTA-STS would decide.

use std::sync::Arc;

use tempfail::session::TlsMode;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// Why TLS settings could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// The PEM text held no certificate, or one that does not parse.
    #[error("expected PEM certificates, got {0}")]
    Pem(String),
    /// A certificate was refused as a trust anchor.
    #[error("expected a usable CA certificate, got {0}")]
    Anchor(String),
    /// rustls refused the protocol versions of the crypto provider.
    #[error("expected a crypto provider with TLS 1.2/1.3, got {0}")]
    Provider(String),
    /// The platform's certificate store could not be read, or held nothing usable.
    #[error("expected the platform's trusted roots, got {0}")]
    Platform(String),
}

/// How a connection uses STARTTLS (RFC 3207) and whom it trusts.
///
/// The mode is the session's [`TlsMode`]: `Disabled` never sends `STARTTLS`;
/// `Opportunistic` (the default) uses it when offered and goes on in plain text
/// when it is not; `Required` moves on to the next host (transient `tls_required`)
/// when it is not offered. In both modes that send `STARTTLS` the server's
/// certificate is verified against [`client`](Self::client)'s roots for the host
/// name the connection was made to (the MX host, RFC 7672/8461's reference
/// identity): a failed handshake or certificate is a transient `tls_failed` and
/// the next host is tried.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    /// When to send `STARTTLS`.
    pub mode: TlsMode,
    /// The rustls client configuration (roots, verifier, protocol versions). Its
    /// verifier decides what a valid certificate is: replace it for DANE (a
    /// verifier that checks TLSA records) or for unauthenticated opportunistic TLS.
    pub client: Arc<ClientConfig>,
}

impl TlsSettings {
    /// Trust exactly `roots` (a private CA, a test CA, a bundle of your choice).
    pub fn with_roots(mode: TlsMode, roots: RootCertStore) -> Result<Self, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Provider(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsSettings {
            mode,
            client: Arc::new(client),
        })
    }

    /// Trust exactly the CA certificates in `pem` (one or more `CERTIFICATE` blocks).
    pub fn with_ca_pem(mode: TlsMode, pem: &[u8]) -> Result<Self, TlsSetupError> {
        let mut roots = RootCertStore::empty();
        let mut n = 0usize;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| TlsSetupError::Pem(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| TlsSetupError::Anchor(e.to_string()))?;
            n += 1;
        }
        if n == 0 {
            return Err(TlsSetupError::Pem("no CERTIFICATE block".into()));
        }
        Self::with_roots(mode, roots)
    }

    /// Trust the platform's roots (on Linux the system bundle, e.g.
    /// `/etc/ssl/certs`). Certificates the platform lists but rustls cannot use
    /// are skipped; none usable at all is an error.
    #[cfg(feature = "native-roots")]
    pub fn platform(mode: TlsMode) -> Result<Self, TlsSetupError> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no certificate".into());
            return Err(TlsSetupError::Platform(why));
        }
        Self::with_roots(mode, roots)
    }

    /// No TLS at all (`STARTTLS` is never sent; the client configuration trusts
    /// nothing and is never used).
    pub fn disabled() -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // ring offers TLS 1.2 and 1.3: the safe defaults are always accepted.
        let client = match ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        {
            Ok(b) => b
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth(),
            Err(_) => ClientConfig::builder()
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth(),
        };
        TlsSettings {
            mode: TlsMode::Disabled,
            client: Arc::new(client),
        }
    }
}

/// The per-host TLS hook: where a sender plugs MTA-STS (RFC 8461) or DANE
/// (RFC 7672), both out of this crate's scope.
///
/// Before connecting to a host, the sender asks the policy for that host's
/// settings; `None` keeps [`SenderConfig::tls`](crate::SenderConfig::tls). An
/// MTA-STS implementation returns `Required` with WebPKI roots for a domain in
/// `enforce` mode (and refuses hosts outside the policy's `mx` patterns through
/// [`TlsPolicy::allows`]); a DANE implementation returns `Required` with a
/// client whose verifier checks the host's TLSA records.
pub trait TlsPolicy: Send + Sync {
    /// The settings for `host` (an MX host name, or the relay) when delivering to
    /// `destination` (the recipient domain, or the relay); `None` for the default.
    fn for_host(&self, destination: &str, host: &str) -> Option<TlsSettings>;

    /// Whether `host` may be used for `destination` at all (MTA-STS's `mx`
    /// patterns). A refused host is skipped as if it had failed with `tls_required`.
    /// Default: every host.
    fn allows(&self, destination: &str, host: &str) -> bool {
        let _ = (destination, host);
        true
    }
}

/// Why a TLS handshake failed: the certificate, or anything else.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TlsFailure {
    /// The server's certificate did not verify (chain, name, validity).
    Certificate,
    /// Any other handshake failure (protocol, alert, lost connection, timeout).
    Handshake,
}

/// Reads rustls's error out of the handshake's I/O error.
pub(crate) fn tls_failure(e: &std::io::Error) -> TlsFailure {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(_))
        | Some(rustls::Error::NoCertificatesPresented) => TlsFailure::Certificate,
        _ => TlsFailure::Handshake,
    }
}
