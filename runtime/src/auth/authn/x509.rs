//! Client-certificate authentication (`--client-ca-file`): the subject's CN is the user, its O
//! values the groups (upstream's x509 request authenticator with `CommonNameUserConversion`).

use std::path::Path;

use async_trait::async_trait;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use sha2::{Digest, Sha256};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{Authenticated, AuthnError, RequestAuthenticator, RequestCredentials};
use crate::auth::UserInfo;

/// The extra key carrying the credential's id (upstream's `user.CredentialIDKey`).
pub const CREDENTIAL_ID_KEY: &str = "authentication.kubernetes.io/credential-id";

/// Why a CA bundle could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaBundleError {
    /// The file could not be read.
    #[error("reading {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The PEM held no certificate.
    #[error("{0}: data does not contain any valid RSA or ECDSA certificates")]
    Empty(String),
    /// A certificate could not be used as a trust anchor.
    #[error("{origin}: certificate {index} is not a valid CA certificate: {reason}")]
    BadCertificate {
        /// The file (or "data").
        origin: String,
        /// The certificate's position in the bundle (from 0).
        index: usize,
        /// Why.
        reason: String,
    },
}

/// A bundle of trusted CA certificates verifying client certificates.
#[derive(Debug, Clone)]
pub struct CaBundle {
    anchors: Vec<TrustAnchor<'static>>,
}

impl CaBundle {
    /// Reads a PEM bundle from `path`.
    pub fn from_pem_file(path: &Path) -> Result<CaBundle, CaBundleError> {
        let data = std::fs::read(path)
            .map_err(|e| CaBundleError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        CaBundle::from_pem(&data, &path.display().to_string())
    }

    /// Parses a PEM bundle (`source` names it in errors). Blocks other than CERTIFICATE are ignored.
    pub fn from_pem(data: &[u8], source: &str) -> Result<CaBundle, CaBundleError> {
        let mut anchors = Vec::new();
        for (index, pem) in x509_parser::pem::Pem::iter_from_buffer(data).enumerate() {
            let pem = pem.map_err(|e| CaBundleError::BadCertificate { origin: source.to_string(), index, reason: e.to_string() })?;
            if pem.label != "CERTIFICATE" {
                continue;
            }
            let der = CertificateDer::from(pem.contents);
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| CaBundleError::BadCertificate { origin: source.to_string(), index, reason: format!("{e:?}") })?;
            anchors.push(anchor.to_owned());
        }
        if anchors.is_empty() {
            return Err(CaBundleError::Empty(source.to_string()));
        }
        Ok(CaBundle { anchors })
    }

    /// Verifies `chain` (leaf first, then intermediates) for client authentication at `now`.
    /// The error reads like Go's x509 errors.
    pub fn verify_client(&self, chain: &[CertificateDer<'static>], now: UnixTime) -> Result<(), String> {
        if chain.is_empty() {
            return Err("x509: no certificate presented".to_string());
        }
        verify_chain(&self.anchors, chain, KeyUsage::client_auth(), now).map_err(|e| match e {
            webpki::Error::BadDer | webpki::Error::BadDerTime | webpki::Error::TrailingData(_) => {
                format!("x509: malformed certificate: {e:?}")
            }
            other => go_message(&other, now),
        })
    }
}

/// The trust anchors of `certs`; certificates that cannot be anchors are skipped.
pub fn anchors_of(certs: &[CertificateDer<'_>]) -> Vec<TrustAnchor<'static>> {
    certs.iter().filter_map(|c| webpki::anchor_from_trusted_cert(c).ok().map(|a| a.to_owned())).collect()
}

/// Verifies `chain` (leaf first, then intermediates) against `anchors` for `usage` at time `at`:
/// the one chain check of client authentication, the generated PKI and the kubeconfig.
pub fn verify_chain(anchors: &[TrustAnchor<'_>], chain: &[CertificateDer<'_>], usage: KeyUsage, at: UnixTime) -> Result<(), webpki::Error> {
    let Some((leaf, intermediates)) = chain.split_first() else { return Err(webpki::Error::BadDer) };
    let cert = EndEntityCert::try_from(leaf)?;
    cert.verify_for_usage(webpki::ALL_VERIFICATION_ALGS, anchors, intermediates, at, usage, None, None).map(|_| ())
}

/// Go's crypto/x509 wording for webpki's verification errors.
fn go_message(e: &webpki::Error, now: UnixTime) -> String {
    let now = chrono::DateTime::from_timestamp(now.as_secs() as i64, 0).unwrap_or_default();
    match e {
        webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey => {
            "x509: certificate signed by unknown authority".to_string()
        }
        webpki::Error::CertExpired { not_after, .. } => {
            let after = chrono::DateTime::from_timestamp(not_after.as_secs() as i64, 0).unwrap_or_default();
            format!(
                "x509: certificate has expired or is not yet valid: current time {} is after {}",
                now.format("%Y-%m-%dT%H:%M:%SZ"),
                after.format("%Y-%m-%dT%H:%M:%SZ")
            )
        }
        webpki::Error::CertNotValidYet { not_before, .. } => {
            let before = chrono::DateTime::from_timestamp(not_before.as_secs() as i64, 0).unwrap_or_default();
            format!(
                "x509: certificate has expired or is not yet valid: current time {} is before {}",
                now.format("%Y-%m-%dT%H:%M:%SZ"),
                before.format("%Y-%m-%dT%H:%M:%SZ")
            )
        }
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "x509: certificate specifies an incompatible key usage".to_string()
        }
        other => format!("x509: {other:?}"),
    }
}

/// The subject fields authentication uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The common name (the last CN attribute, as Go's `pkix.Name`).
    pub common_name: String,
    /// The organization values, in order.
    pub organizations: Vec<String>,
    /// Go's `certificateIdentifier`: `SN=<serial>, SKID=<hex>, AKID=<hex>`.
    pub identifier: String,
}

/// Parses the subject of a DER certificate.
pub fn subject_of(der: &[u8]) -> Result<Subject, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("x509: malformed certificate: {e}"))?;
    let mut subject = Subject::default();
    for rdn in cert.subject().iter() {
        for attr in rdn.iter() {
            let value = attr.as_str().map(str::to_owned).unwrap_or_default();
            if *attr.attr_type() == x509_parser::oid_registry::OID_X509_COMMON_NAME {
                subject.common_name = value;
            } else if *attr.attr_type() == x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME {
                subject.organizations.push(value);
            }
        }
    }
    let mut skid = Vec::new();
    let mut akid = Vec::new();
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => skid = k.0.to_vec(),
            x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(a) => {
                akid = a.key_identifier.as_ref().map(|k| k.0.to_vec()).unwrap_or_default();
            }
            _ => {}
        }
    }
    subject.identifier =
        format!("SN={}, SKID={}, AKID={}", cert.serial, colon_hex(&skid), colon_hex(&akid));
    Ok(subject)
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// Authenticates requests by their verified client certificate.
#[derive(Debug, Clone)]
pub struct X509Authenticator {
    ca: CaBundle,
}

impl X509Authenticator {
    /// An authenticator trusting `ca`.
    pub fn new(ca: CaBundle) -> X509Authenticator {
        X509Authenticator { ca }
    }

    /// Authenticates `chain` at `now` (the request-independent part, for tests).
    pub fn authenticate_chain(&self, chain: &[CertificateDer<'static>], now: UnixTime) -> Result<Option<Authenticated>, AuthnError> {
        let Some(leaf) = chain.first() else {
            return Ok(None);
        };
        let subject = subject_of(leaf).map_err(AuthnError)?;
        self.ca
            .verify_client(chain, now)
            .map_err(|e| AuthnError(format!("verifying certificate {} failed: {e}", subject.identifier)))?;
        if subject.common_name.is_empty() {
            // Upstream's CommonNameUserConversion: no CN, no user (and no error).
            return Ok(None);
        }
        let fingerprint = Sha256::digest(leaf.as_ref());
        let id: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
        let mut user = UserInfo { username: subject.common_name, groups: subject.organizations, ..UserInfo::default() };
        user.extra.insert(CREDENTIAL_ID_KEY.to_string(), vec![format!("X509SHA256={id}")]);
        Ok(Some(Authenticated { user, audiences: Vec::new() }))
    }
}

#[async_trait]
impl RequestAuthenticator for X509Authenticator {
    async fn authenticate(&self, request: &RequestCredentials<'_>) -> Result<Option<Authenticated>, AuthnError> {
        self.authenticate_chain(request.peer_certificates, UnixTime::now())
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Certificates for the authenticators' tests.

    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use rustls_pki_types::CertificateDer;

    /// A validity period: first and last day (year, month, day).
    pub(crate) type Validity = ((i32, u8, u8), (i32, u8, u8));

    /// A CA: its PEM and what signs with it.
    pub(crate) struct TestCa {
        pub(crate) pem: String,
        pub(crate) issuer: Issuer<'static, KeyPair>,
    }

    impl TestCa {
        pub(crate) fn new(cn: &str) -> TestCa {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
            params.distinguished_name.push(DnType::CommonName, cn);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
            let key = KeyPair::generate().expect("key");
            let cert = params.self_signed(&key).expect("self-signed");
            TestCa { pem: cert.pem(), issuer: Issuer::new(params, key) }
        }

        /// A client certificate with `cn` and `orgs`, valid between two dates (year, month, day),
        /// for `ekus` (empty: no EKU extension).
        pub(crate) fn client(
            &self,
            cn: &str,
            orgs: &[&str],
            validity: Option<Validity>,
            ekus: &[ExtendedKeyUsagePurpose],
        ) -> CertificateDer<'static> {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
            params.distinguished_name = rcgen::DistinguishedName::new();
            if !cn.is_empty() {
                params.distinguished_name.push(DnType::CommonName, cn);
            }
            // rcgen keeps one value per attribute type: the second O is a custom type with O's
            // OID (2.5.4.10), which encodes the same.
            assert!(orgs.len() <= 2, "at most two organizations");
            for (i, o) in orgs.iter().enumerate() {
                let ty = if i == 0 { DnType::OrganizationName } else { DnType::CustomDnType(vec![2, 5, 4, 10]) };
                params.distinguished_name.push(ty, *o);
            }
            params.extended_key_usages = ekus.to_vec();
            if let Some(((y1, m1, d1), (y2, m2, d2))) = validity {
                params.not_before = rcgen::date_time_ymd(y1, m1, d1);
                params.not_after = rcgen::date_time_ymd(y2, m2, d2);
            }
            let key = KeyPair::generate().expect("key");
            params.signed_by(&key, &self.issuer).expect("signed").der().clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use rcgen::ExtendedKeyUsagePurpose as Eku;

    use super::testing::TestCa;
    use super::*;

    fn now() -> UnixTime {
        UnixTime::now()
    }

    #[test]
    fn cn_and_o_map_to_user_and_groups() {
        let ca = TestCa::new("test-ca");
        let auth = X509Authenticator::new(CaBundle::from_pem(ca.pem.as_bytes(), "ca.pem").expect("bundle"));
        let cert = ca.client("jane", &["system:masters", "devs"], None, &[Eku::ClientAuth]);
        let got = auth.authenticate_chain(std::slice::from_ref(&cert), now()).expect("ok").expect("authenticated");
        assert_eq!(got.user.username, "jane");
        assert_eq!(got.user.groups, vec!["system:masters".to_string(), "devs".to_string()]);
        let id = &got.user.extra[CREDENTIAL_ID_KEY][0];
        assert!(id.starts_with("X509SHA256=") && id.len() == 11 + 64, "{id}");
        // No EKU at all is fine for client auth (as Go).
        let cert = ca.client("bob", &[], None, &[]);
        assert_eq!(auth.authenticate_chain(&[cert], now()).expect("ok").expect("user").user.username, "bob");
        // No certificate: not mine.
        assert_eq!(auth.authenticate_chain(&[], now()), Ok(None));
    }

    #[test]
    fn rejects_other_ca_expired_and_server_only() {
        let ca = TestCa::new("test-ca");
        let other = TestCa::new("other-ca");
        let auth = X509Authenticator::new(CaBundle::from_pem(ca.pem.as_bytes(), "ca.pem").expect("bundle"));
        let foreign = other.client("mallory", &[], None, &[Eku::ClientAuth]);
        let e = auth.authenticate_chain(&[foreign], now()).expect_err("unknown CA");
        assert!(e.0.contains("x509: certificate signed by unknown authority"), "{e}");
        assert!(e.0.starts_with("verifying certificate SN="), "{e}");
        let expired = ca.client("old", &[], Some(((2001, 1, 1), (2004, 11, 9))), &[Eku::ClientAuth]);
        let e = auth.authenticate_chain(&[expired], now()).expect_err("expired");
        assert!(e.0.contains("certificate has expired or is not yet valid: current time"), "{e}");
        assert!(e.0.contains("is after 2004-11-09T00:00:00Z"), "{e}");
        let server = ca.client("web", &[], None, &[Eku::ServerAuth]);
        let e = auth.authenticate_chain(&[server], now()).expect_err("server cert");
        assert!(e.0.contains("incompatible key usage"), "{e}");
    }

    #[test]
    fn empty_cn_is_not_a_user() {
        let ca = TestCa::new("test-ca");
        let auth = X509Authenticator::new(CaBundle::from_pem(ca.pem.as_bytes(), "ca.pem").expect("bundle"));
        let cert = ca.client("", &["grp"], None, &[Eku::ClientAuth]);
        assert_eq!(auth.authenticate_chain(&[cert], now()), Ok(None));
    }

    #[test]
    fn bundles() {
        let a = TestCa::new("a");
        let b = TestCa::new("b");
        let both = format!("{}\n{}", a.pem, b.pem);
        let auth = X509Authenticator::new(CaBundle::from_pem(both.as_bytes(), "both").expect("bundle"));
        for ca in [&a, &b] {
            let cert = ca.client("u", &[], None, &[Eku::ClientAuth]);
            assert!(auth.authenticate_chain(&[cert], now()).expect("ok").is_some());
        }
        assert_eq!(CaBundle::from_pem(b"", "x.pem").expect_err("empty"), CaBundleError::Empty("x.pem".into()));
        assert!(CaBundle::from_pem_file(Path::new("/nonexistent/ca.pem")).expect_err("missing").to_string().contains("/nonexistent/ca.pem"));
    }
}
