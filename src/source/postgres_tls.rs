//! TLS for PostgreSQL connections, with libpq's `sslmode` meanings: `prefer`
//! and `require` encrypt without checking who answers, `verify-ca` checks the
//! certificate chain, `verify-full` also checks that it names the host.
//! rustls on ring, as the rest of Dropsync uses.
//!
//! What `verify-ca` and `verify-full` trust: the CA certificates in
//! `sslrootcert` and nothing else; without `sslrootcert`, the system's CA
//! bundle ([`system_roots`]), else the public web roots built into Dropsync.
//! MySQL shares [`system_roots`] and [`trusted_roots`] (its client reads the
//! same file).

use super::connection::TlsMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The system's CA bundle: `SSL_CERT_FILE`, else the first of the usual
/// places (Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine/macOS) that exists.
pub fn system_roots() -> Option<PathBuf> {
    if let Some(f) = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from) {
        if f.is_file() {
            return Some(f);
        }
    }
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// What a verifying mode trusts, for messages: `sslrootcert ca.pem`, or the
/// system roots, saying that sslrootcert is not set.
pub fn trusted_roots(ca_file: Option<&Path>) -> String {
    match (ca_file, system_roots()) {
        (Some(ca), _) => format!("sslrootcert {}", ca.display()),
        (None, Some(system)) => format!(
            "the system's CA certificates ({}), as sslrootcert is not set",
            system.display()
        ),
        (None, None) => {
            "the public web roots built into Dropsync, as sslrootcert is not set and the system has no CA bundle".into()
        }
    }
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "cannot read the CA file {} ({e}); sslrootcert in [source] url must name a PEM file",
                path.display()
            )
        })
}

/// The rustls client configuration for `mode`, trusting only `ca_file`
/// (PEM) when given, else the system's roots (see the module).
pub fn client_config(mode: TlsMode, ca_file: Option<&Path>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = match mode {
        TlsMode::VerifyCa | TlsMode::VerifyFull => {
            let mut roots = RootCertStore::empty();
            match ca_file {
                Some(path) => {
                    let certs = read_pem(path)?;
                    if certs.is_empty() {
                        return Err(format!(
                            "the CA file {} holds no certificate; sslrootcert must name a PEM file",
                            path.display()
                        ));
                    }
                    for c in certs {
                        roots.add(c).map_err(|e| {
                            format!(
                                "the CA file {} holds a bad certificate ({e})",
                                path.display()
                            )
                        })?;
                    }
                }
                None => match system_roots() {
                    Some(bundle) => {
                        // A system bundle may hold certificates webpki cannot
                        // use; those are skipped, as other clients do.
                        roots.add_parsable_certificates(read_pem(&bundle)?);
                    }
                    None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                },
            }
            tracing::debug!(trusts = %trusted_roots(ca_file), ?mode, "TLS certificate checks");
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("cannot set up certificate checks: {e}"))?,
            )
        }
        _ => None,
    };
    let verifier = Verifier {
        chain,
        check_name: mode == TlsMode::VerifyFull,
        trusts: trusted_roots(ca_file),
        provider: provider.clone(),
    };
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// Checks what the mode asks for; handshake signatures are always checked,
/// so an encrypted-but-unverified session is still one session with one peer.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    /// What the chain must lead to, for the message when it does not.
    trusts: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
                Err(rustls::Error::General(format!(
                    "the server's certificate is not signed by a CA in {}",
                    self.trusts
                )))
            }
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Err(rustls::Error::General(format!(
                "the server's certificate does not name {} (sslmode=verify-full checks the host name; verify-ca does not)",
                server_name.to_str()
            ))),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
