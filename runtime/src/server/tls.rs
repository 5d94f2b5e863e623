//! TLS on the secure port: the rustls server configuration (serving certificate, protocol versions,
//! ALPN `h2` and `http/1.1`), requesting client certificates without requiring them (Go's
//! `tls.RequestClientCert`, as kube-apiserver), and the handshake with its timeout.
//!
//! The handshake does not judge the client's chain: authentication does, per request, against
//! `--client-ca-file` (and the front proxy's CA). The handshake still proves the client holds the
//! certificate's key: its signatures are verified with the ring provider's algorithms.
// Start-up errors, made once per process: their size does not matter.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::flags::TlsVersion;
use super::pki::Pki;

/// How long a client has to complete the TLS handshake before its connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the TLS configuration could not be built (start-up fails with it).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file that cannot be read or used.
    #[error("{what} {}: {message}", path.display())]
    File {
        /// Which file: the flag naming it, or "generated serving certificate".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The serving certificate and key are not a pair.
    #[error("{cert_what} {} does not match {key_what} {}: {source}", cert.display(), key.display())]
    Mismatch {
        /// The certificate's description.
        cert_what: &'static str,
        /// The certificate file.
        cert: PathBuf,
        /// The key's description.
        key_what: &'static str,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// rustls refused the configuration.
    #[error("building the TLS configuration: {0}")]
    Config(rustls::Error),
}

/// The ring provider every TLS piece of the server uses.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The secure port's configuration: the serving certificate in effect, `min` and up, ALPN `h2`
/// then `http/1.1`, and client certificates requested with the client CAs' subjects as hints.
pub fn server_config(pki: &Pki, min: TlsVersion) -> Result<Arc<ServerConfig>, TlsError> {
    let (cert_what, key_what) = if pki.serving_generated {
        ("generated serving certificate", "generated serving key")
    } else {
        ("--tls-cert-file", "--tls-private-key-file")
    };
    let chain = load_certificates(&pki.serving_cert, cert_what)?;
    let key = load_private_key(&pki.serving_key, key_what)?;
    let mut hint_certs = Vec::new();
    for (what, file) in [("--client-ca-file", &pki.client_ca_file), ("--requestheader-client-ca-file", &pki.requestheader_client_ca_file)] {
        if let Some(path) = file {
            hint_certs.extend(load_certificates(path, what)?);
        }
    }
    let versions: &[&rustls::SupportedProtocolVersion] = match min {
        TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(TlsError::Config)?
        .with_client_cert_verifier(Arc::new(RequestClientCert::new(&hint_certs)))
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
                cert_what,
                cert: pki.serving_cert.clone(),
                key_what,
                key: pki.serving_key.clone(),
                source: e,
            },
            other => TlsError::File { what: key_what, path: pki.serving_key.clone(), message: other.to_string() },
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Every certificate of a PEM file (a chain or a CA bundle), in order; at least one.
pub fn load_certificates(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file_error = |message: String| TlsError::File { what, path: path.to_path_buf(), message };
    let bytes = std::fs::read(path).map_err(|e| file_error(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(file_error("no PEM certificate found".into()));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_private_key(path: &Path, what: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let file_error = |message: String| TlsError::File { what, path: path.to_path_buf(), message };
    let bytes = std::fs::read(path).map_err(|e| file_error(e.to_string()))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| file_error(format!("no PEM private key found ({e})")))
}

/// Requests a client certificate, requires none, and accepts any chain (authentication judges it
/// per request), while verifying the handshake signatures that prove the client holds the key.
#[derive(Debug)]
pub struct RequestClientCert {
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl RequestClientCert {
    /// Offers the subjects of `hint_certs` (the client CAs) as acceptable issuers.
    pub fn new(hint_certs: &[CertificateDer<'static>]) -> RequestClientCert {
        let mut hints: Vec<DistinguishedName> = Vec::new();
        for cert in hint_certs {
            if let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert) {
                let subject = DistinguishedName::from(parsed.subject().as_raw().to_vec());
                if !hints.iter().any(|h| h.as_ref() == subject.as_ref()) {
                    hints.push(subject);
                }
            }
        }
        RequestClientCert { hints, algorithms: provider().signature_verification_algorithms }
    }
}

impl ClientCertVerifier for RequestClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// What Go's HTTP server answers a plain HTTP request sent to its TLS port (kube-apiserver too).
pub const HTTP_TO_HTTPS_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// Whether the first bytes of a connection look like an HTTP request rather than a TLS record
/// (Go's `tlsRecordHeaderLooksLikeHTTP`).
pub fn looks_like_http(first: &[u8]) -> bool {
    [b"GET /", b"HEAD ", b"POST ", b"PUT /", b"OPTIO"].iter().any(|m| first.starts_with(*m))
}

/// Runs the server side of a TLS handshake within [`HANDSHAKE_TIMEOUT`]. `Ok(None)`: the client
/// spoke plain HTTP and was told so (as Go does, without a log line); the error says why the
/// handshake failed (for one log line).
pub async fn handshake(acceptor: &TlsAcceptor, stream: TcpStream) -> Result<Option<TlsStream<TcpStream>>, String> {
    let run = async {
        let mut first = [0u8; 5];
        let n = stream.peek(&mut first).await.map_err(|e| e.to_string())?;
        if n == first.len() && looks_like_http(&first) {
            use tokio::io::AsyncWriteExt;
            let mut stream = stream;
            let _ = stream.write_all(HTTP_TO_HTTPS_ANSWER).await;
            let _ = stream.shutdown().await;
            return Ok(None);
        }
        acceptor.accept(stream).await.map(Some).map_err(|e| e.to_string())
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, run).await {
        Ok(result) => result,
        Err(_) => Err(format!("no handshake within {HANDSHAKE_TIMEOUT:?}")),
    }
}

/// The client's certificate chain (leaf first) of a completed handshake; empty when it sent none.
pub fn peer_certificates(tls: &TlsStream<TcpStream>) -> Vec<CertificateDer<'static>> {
    tls.get_ref().1.peer_certificates().map(<[CertificateDer<'static>]>::to_vec).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair};

    fn self_signed(cn: &str) -> (CertificateDer<'static>, KeyPair) {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.self_signed(&key).expect("cert");
        (cert.der().clone(), key)
    }

    #[test]
    fn plain_http_is_recognised_by_its_first_bytes() {
        assert!(looks_like_http(b"GET /readyz HTTP/1.1"));
        assert!(looks_like_http(b"OPTIONS * HTTP/1.1"));
        assert!(!looks_like_http(&[0x16, 0x03, 0x01, 0x02, 0x00]), "a TLS handshake record");
        assert!(!looks_like_http(b"GET"), "too short to tell");
    }

    #[test]
    fn hints_are_the_ca_subjects_der() {
        let (a, _) = self_signed("ca-a");
        let (b, _) = self_signed("ca-b");
        let v = RequestClientCert::new(&[a.clone(), b, a.clone()]);
        assert_eq!(v.root_hint_subjects().len(), 2, "duplicates are offered once");
        // The same bytes rustls's own root store offers (the full DER Name, SEQUENCE included).
        let mut store = rustls::RootCertStore::empty();
        store.add(a).expect("add");
        assert_eq!(v.root_hint_subjects()[0].as_ref(), store.subjects()[0].as_ref());
        assert!(v.offer_client_auth() && !v.client_auth_mandatory());
    }

    /// Presents `chain` with `key` (matching or not) and records the hints the server offered.
    #[derive(Debug)]
    struct Present {
        key: Option<Arc<rustls::sign::CertifiedKey>>,
        hints: std::sync::Mutex<Vec<Vec<u8>>>,
    }

    impl rustls::client::ResolvesClientCert for Present {
        fn resolve(&self, hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<rustls::sign::CertifiedKey>> {
            *self.hints.lock().expect("lock") = hints.iter().map(|h| h.to_vec()).collect();
            self.key.clone()
        }

        fn has_certs(&self) -> bool {
            self.key.is_some()
        }
    }

    fn present(chain: Option<(Vec<CertificateDer<'static>>, &Path)>) -> Arc<Present> {
        let key = chain.map(|(chain, key_file)| {
            let key = load_private_key(key_file, "test key").expect("key");
            let signer = provider().key_provider.load_private_key(key).expect("signing key");
            Arc::new(rustls::sign::CertifiedKey::new(chain, signer))
        });
        Arc::new(Present { key, hints: std::sync::Mutex::new(Vec::new()) })
    }

    /// An in-memory handshake of a client trusting `pki`'s CA against `server`; the server side's
    /// connection (for its peer certificates) or the first error.
    fn handshake(
        server: Arc<ServerConfig>,
        pki: &Pki,
        versions: &[&'static rustls::SupportedProtocolVersion],
        client_cert: Arc<Present>,
    ) -> Result<rustls::ServerConnection, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(load_certificates(&pki.ca_cert, "ca").expect("ca"));
        let client = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)?
            .with_root_certificates(roots)
            .with_client_cert_resolver(client_cert);
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let mut c = rustls::ClientConnection::new(Arc::new(client), name)?;
        let mut s = rustls::ServerConnection::new(server)?;
        for _ in 0..10 {
            let mut buf = Vec::new();
            c.write_tls(&mut buf).expect("write");
            s.read_tls(&mut buf.as_slice()).expect("read");
            s.process_new_packets()?;
            buf.clear();
            s.write_tls(&mut buf).expect("write");
            c.read_tls(&mut buf.as_slice()).expect("read");
            c.process_new_packets()?;
            if !c.is_handshaking() && !s.is_handshaking() {
                return Ok(s);
            }
        }
        panic!("the handshake did not finish");
    }

    #[test]
    fn client_certificates_are_requested_not_required_and_their_keys_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(dir.path(), Some(&super::super::pki::ServingNames::for_bind_address([127, 0, 0, 1].into())))
            .expect("pki");
        let server = server_config(&pki, TlsVersion::Tls12).expect("config");
        let admin = load_certificates(&pki.admin_cert, "admin").expect("admin");
        let ca_subject = RequestClientCert::new(&load_certificates(&pki.ca_cert, "ca").expect("ca")).hints;
        for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]] {
            // The admin certificate: its chain reaches the server; the CA's subject was the hint.
            let client = present(Some((admin.clone(), &pki.admin_key)));
            let s = handshake(server.clone(), &pki, versions, client.clone()).expect("handshake with a certificate");
            assert_eq!(s.peer_certificates().map(<[_]>::to_vec), Some(admin.clone()));
            let hints = client.hints.lock().expect("lock").clone();
            assert_eq!(hints, vec![ca_subject[0].as_ref().to_vec()]);
            // No certificate at all.
            let s = handshake(server.clone(), &pki, versions, present(None)).expect("handshake without a certificate");
            assert!(s.peer_certificates().is_none_or(<[_]>::is_empty));
            // Any chain is accepted by the handshake (authentication judges it later)...
            let other = tempfile::tempdir().expect("tempdir");
            let foreign = Pki::ensure(other.path(), None).expect("pki");
            let foreign_chain = load_certificates(&foreign.admin_cert, "foreign").expect("foreign");
            let s = handshake(server.clone(), &pki, versions, present(Some((foreign_chain.clone(), &foreign.admin_key))))
                .expect("handshake with a foreign certificate");
            assert_eq!(s.peer_certificates().map(<[_]>::to_vec), Some(foreign_chain));
            // ...but the client must hold the certificate's key.
            let forged = present(Some((admin.clone(), &foreign.admin_key)));
            let e = handshake(server.clone(), &pki, versions, forged).expect_err("a certificate with another key");
            assert_eq!(e, rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature), "{e:?}");
        }
        // TLS 1.3 only refuses a TLS 1.2 client.
        let tls13 = server_config(&pki, TlsVersion::Tls13).expect("config");
        assert!(handshake(tls13.clone(), &pki, &[&rustls::version::TLS12], present(None)).is_err());
        assert!(handshake(tls13, &pki, &[&rustls::version::TLS13], present(None)).is_ok());
    }

    #[test]
    fn serving_files_are_checked_and_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(dir.path(), Some(&super::super::pki::ServingNames::for_bind_address([127, 0, 0, 1].into())))
            .expect("pki");
        let config = server_config(&pki, TlsVersion::Tls12).expect("config");
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert!(server_config(&pki, TlsVersion::Tls13).is_ok());
        // A user's certificate with another key.
        let user = Pki { serving_generated: false, serving_key: pki.admin_key.clone(), ..pki.clone() };
        let e = server_config(&user, TlsVersion::Tls12).expect_err("mismatch").to_string();
        assert!(e.contains("--tls-cert-file") && e.contains("does not match") && e.contains("admin.key"), "{e}");
        let missing = Pki { serving_generated: false, serving_cert: dir.path().join("nope.crt"), ..pki.clone() };
        let e = server_config(&missing, TlsVersion::Tls12).expect_err("missing").to_string();
        assert!(e.contains("--tls-cert-file") && e.contains("nope.crt"), "{e}");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "hello").expect("write");
        let bad_key = Pki { serving_generated: false, serving_key: garbage.clone(), ..pki.clone() };
        let e = server_config(&bad_key, TlsVersion::Tls12).expect_err("bad key").to_string();
        assert!(e.contains("--tls-private-key-file") && e.contains("garbage.pem"), "{e}");
        let bad_ca = Pki { client_ca_file: Some(garbage), ..pki.clone() };
        let e = server_config(&bad_ca, TlsVersion::Tls12).expect_err("bad ca").to_string();
        assert!(e.contains("--client-ca-file") && e.contains("no PEM certificate"), "{e}");
    }
}
