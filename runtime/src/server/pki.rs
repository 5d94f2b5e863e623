//! The generated PKI in `--cert-dir`: kapi's CA, the serving certificate, the admin's client
//! certificate and the service-account signing key, created when missing and kept across restarts.
//!
//! Layout (kubeadm's names): `ca.crt`/`ca.key` (self-signed CA "kapi-ca"), `apiserver.crt`/
//! `apiserver.key` (serving certificate signed by the CA; not made when `--tls-cert-file` serves),
//! `admin.crt`/`admin.key` (CN=kubernetes-admin, O=system:masters, signed by the CA) and `sa.key`
//! (ECDSA P-256, PKCS#8 PEM). Keys are written 0600. A file that is missing is generated; a
//! certificate that no longer fits (not signed by the current CA, expiring within 30 days, or a
//! serving certificate lacking one of the wanted names) is re-issued; everything else is kept.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::Flags;
use crate::auth::authn::x509::{anchors_of, verify_chain};

/// Common name of kapi's generated CA.
pub const CA_COMMON_NAME: &str = "kapi-ca";
/// Common name (user) of the admin's client certificate.
pub const ADMIN_USER: &str = "kubernetes-admin";
/// Organization (group) of the admin's client certificate.
pub const ADMIN_GROUP: &str = "system:masters";

/// A certificate is re-issued when it expires within this margin.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Validity of the CA (years).
const CA_YEARS: i32 = 10;
/// Validity of the serving and admin certificates (years).
const LEAF_YEARS: i32 = 1;

/// Why the PKI could not be prepared (start-up fails with it).
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Reading, writing or creating a file or directory.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file exists but cannot be used.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (and what to do).
        message: String,
    },
    /// Generating or signing a key or certificate.
    #[error("generating {what}: {source}")]
    Generate {
        /// What was being generated.
        what: &'static str,
        /// Why.
        source: rcgen::Error,
    },
}

/// Where the serving and authentication material lives, once [`Pki::from_flags`] has made sure
/// the generated part exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pki {
    /// `--cert-dir` (default `<data-dir>/pki`).
    pub dir: PathBuf,
    /// kapi's CA certificate (`ca.crt`): signs the generated serving and admin certificates.
    pub ca_cert: PathBuf,
    /// kapi's CA key (`ca.key`).
    pub ca_key: PathBuf,
    /// The serving certificate chain in effect: `--tls-cert-file`, else the generated `apiserver.crt`.
    pub serving_cert: PathBuf,
    /// The serving key in effect: `--tls-private-key-file`, else the generated `apiserver.key`.
    pub serving_key: PathBuf,
    /// Whether the serving certificate is the generated one (signed by [`Pki::ca_cert`]).
    pub serving_generated: bool,
    /// The admin's client certificate (`admin.crt`, CN=kubernetes-admin, O=system:masters).
    pub admin_cert: PathBuf,
    /// The admin's client key (`admin.key`).
    pub admin_key: PathBuf,
    /// The generated service-account signing key (`sa.key`, ECDSA P-256, PKCS#8 PEM).
    pub sa_key: PathBuf,
    /// The CA bundle verifying client certificates, in effect: `--client-ca-file`, else kapi's
    /// `ca.crt` (so always set today; an `Option` like upstream's flag, for code that must also
    /// handle a configuration without client-certificate authentication).
    pub client_ca_file: Option<PathBuf>,
    /// `--requestheader-client-ca-file` (the front proxy's CA), when given.
    pub requestheader_client_ca_file: Option<PathBuf>,
}

/// What the generated serving certificate is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingNames {
    /// DNS names.
    pub dns: Vec<String>,
    /// IP addresses.
    pub ips: Vec<IpAddr>,
}

impl ServingNames {
    /// kube-apiserver's names: localhost, the `kubernetes` Service's names, 127.0.0.1, ::1, the
    /// bind address when it is a specific one, and this host's name.
    pub fn for_bind_address(bind: IpAddr) -> ServingNames {
        let mut dns: Vec<String> = [
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if let Some(host) = host_name() {
            if !dns.contains(&host) {
                dns.push(host);
            }
        }
        let mut ips: Vec<IpAddr> = vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)];
        if !bind.is_unspecified() && !ips.contains(&bind) {
            ips.push(bind);
        }
        ServingNames { dns, ips }
    }

    fn sans(&self) -> Vec<String> {
        self.dns.iter().cloned().chain(self.ips.iter().map(IpAddr::to_string)).collect()
    }
}

/// This machine's host name when it is a valid DNS name (Linux: /proc/sys/kernel/hostname).
fn host_name() -> Option<String> {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?;
    let name = raw.trim().to_ascii_lowercase();
    rustls_pki_types::DnsName::try_from(name.as_str()).ok()?;
    Some(name)
}

impl Pki {
    /// Prepares the PKI the flags ask for: generates what is missing in `--cert-dir` (default
    /// `<data-dir>/pki`) and resolves the serving certificate and client CA in effect.
    pub fn from_flags(flags: &Flags) -> Result<Pki, PkiError> {
        let dir = flags.cert_dir.clone().unwrap_or_else(|| flags.data_dir.join("pki"));
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let user_serving = match (&flags.tls_cert_file, &flags.tls_private_key_file) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            _ => None,
        };
        let names = ServingNames::for_bind_address(flags.bind_address);
        let mut pki = Pki::ensure(&dir, user_serving.is_none().then_some(&names))?;
        if let Some((cert, key)) = user_serving {
            pki.serving_cert = cert;
            pki.serving_key = key;
            pki.serving_generated = false;
        }
        pki.client_ca_file = Some(flags.client_ca_file.clone().unwrap_or_else(|| pki.ca_cert.clone()));
        pki.requestheader_client_ca_file = flags.requestheader_client_ca_file.clone();
        Ok(pki)
    }

    /// Makes sure `dir` holds the CA, the admin certificate, the service-account key and (when
    /// `serving` is given) a serving certificate for those names, generating only what is
    /// missing or no longer fits. The result's client CA is kapi's CA.
    pub fn ensure(dir: &Path, serving: Option<&ServingNames>) -> Result<Pki, PkiError> {
        create_private_dir(dir)?;
        let pki = Pki {
            dir: dir.to_path_buf(),
            ca_cert: dir.join("ca.crt"),
            ca_key: dir.join("ca.key"),
            serving_cert: dir.join("apiserver.crt"),
            serving_key: dir.join("apiserver.key"),
            serving_generated: true,
            admin_cert: dir.join("admin.crt"),
            admin_key: dir.join("admin.key"),
            sa_key: dir.join("sa.key"),
            client_ca_file: Some(dir.join("ca.crt")),
            requestheader_client_ca_file: None,
        };
        let (ca, ca_der, ca_new) = ensure_ca(&pki.ca_cert, &pki.ca_key)?;
        if let Some(names) = serving {
            let fits = |leaf: &CertificateDer<'_>| {
                leaf_fits(&ca_der, leaf, webpki::KeyUsage::server_auth())
                    && names.dns.iter().map(|n| ServerName::try_from(n.clone())).chain(names.ips.iter().map(|ip| Ok(ServerName::from(*ip))))
                        .all(|n| n.is_ok_and(|n| name_fits(leaf, &n)))
            };
            ensure_leaf(&pki.serving_cert, &pki.serving_key, ca_new, fits, || {
                let mut params = CertificateParams::new(names.sans())
                    .map_err(|source| PkiError::Generate { what: "the serving certificate", source })?;
                params.distinguished_name.push(DnType::CommonName, "kube-apiserver");
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                Ok((params, "the serving certificate"))
            }, &ca)?;
        }
        ensure_leaf(&pki.admin_cert, &pki.admin_key, ca_new, |leaf| leaf_fits(&ca_der, leaf, webpki::KeyUsage::client_auth()), || {
            let mut params = CertificateParams::default();
            params.distinguished_name = rcgen::DistinguishedName::new();
            params.distinguished_name.push(DnType::OrganizationName, ADMIN_GROUP);
            params.distinguished_name.push(DnType::CommonName, ADMIN_USER);
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            Ok((params, "the admin certificate"))
        }, &ca)?;
        ensure_sa_key(&pki.sa_key)?;
        Ok(pki)
    }
}

/// Loads `ca.crt`/`ca.key` or, when either is missing, generates a new CA. Returns the issuer,
/// the certificate's DER and whether it is new (then every certificate it signs is re-issued).
fn ensure_ca(cert_path: &Path, key_path: &Path) -> Result<(Issuer<'static, KeyPair>, CertificateDer<'static>, bool), PkiError> {
    if cert_path.exists() && key_path.exists() {
        let cert_pem = read_text(cert_path)?;
        let key = KeyPair::from_pem(&read_text(key_path)?)
            .map_err(|e| invalid(key_path, format!("not a PEM private key kapi can use ({e}); delete ca.crt and ca.key to generate a new CA")))?;
        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| invalid(cert_path, format!("no PEM certificate ({e}); delete ca.crt and ca.key to generate a new CA")))?;
        if spki_of(&der).as_deref() != Some(key.subject_public_key_info().as_slice()) {
            return Err(invalid(cert_path, format!("does not match {}; delete both to generate a new CA", key_path.display())));
        }
        let issuer = Issuer::from_ca_cert_der(&der, key)
            .map_err(|e| invalid(cert_path, format!("not a CA certificate kapi can sign with ({e})")))?;
        return Ok((issuer, der, false));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_COMMON_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    set_validity(&mut params, CA_YEARS);
    let key = KeyPair::generate().map_err(|source| PkiError::Generate { what: "the CA key", source })?;
    let cert = params.self_signed(&key).map_err(|source| PkiError::Generate { what: "the CA certificate", source })?;
    write_file(key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(cert_path, cert.pem().as_bytes(), false)?;
    let der = cert.der().clone();
    Ok((Issuer::new(params, key), der, true))
}

/// Keeps the certificate at `cert_path` (with its key) when both exist, `ca_new` is false and
/// `fits` accepts it; otherwise issues a new one from `params` signed by `ca`.
fn ensure_leaf(
    cert_path: &Path,
    key_path: &Path,
    ca_new: bool,
    fits: impl Fn(&CertificateDer<'_>) -> bool,
    params: impl FnOnce() -> Result<(CertificateParams, &'static str), PkiError>,
    ca: &Issuer<'static, KeyPair>,
) -> Result<(), PkiError> {
    if !ca_new && cert_path.exists() && key_path.exists() {
        let cert_pem = read_text(cert_path)?;
        let key_pem = read_text(key_path)?;
        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).ok();
        let key = KeyPair::from_pem(&key_pem).ok();
        let matches = match (&der, &key) {
            (Some(der), Some(key)) => spki_of(der).as_deref() == Some(key.subject_public_key_info().as_slice()),
            _ => false,
        };
        if matches && der.as_ref().is_some_and(&fits) {
            return Ok(());
        }
    }
    let (mut params, what) = params()?;
    set_validity(&mut params, LEAF_YEARS);
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(|source| PkiError::Generate { what, source })?;
    let cert = params.signed_by(&key, ca).map_err(|source| PkiError::Generate { what, source })?;
    write_file(key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(cert_path, cert.pem().as_bytes(), false)?;
    Ok(())
}

/// Generates `sa.key` when missing; an existing one must be a private key.
fn ensure_sa_key(path: &Path) -> Result<(), PkiError> {
    if path.exists() {
        let pem = read_text(path)?;
        PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| invalid(path, format!("not a PEM private key ({e}); delete it to generate a new one")))?;
        return Ok(());
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|source| PkiError::Generate { what: "the service-account key", source })?;
    write_file(path, key.serialize_pem().as_bytes(), true)
}

/// Whether `leaf` chains to the CA `ca_der` for `usage` and is still valid [`RENEW_BEFORE`] from now.
fn leaf_fits(ca_der: &CertificateDer<'_>, leaf: &CertificateDer<'_>, usage: webpki::KeyUsage) -> bool {
    let at = UnixTime::since_unix_epoch(Duration::from_secs(UnixTime::now().as_secs()) + RENEW_BEFORE);
    verify_chain(&anchors_of(std::slice::from_ref(ca_der)), std::slice::from_ref(leaf), usage, at).is_ok()
}

/// Whether `leaf` is valid for `name` (a DNS name or an IP address).
pub(crate) fn name_fits(leaf: &CertificateDer<'_>, name: &ServerName<'_>) -> bool {
    webpki::EndEntityCert::try_from(leaf).is_ok_and(|c| c.verify_is_valid_for_subject_name(name).is_ok())
}

/// The DER SubjectPublicKeyInfo of a certificate.
fn spki_of(der: &CertificateDer<'_>) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| c.public_key().raw.to_vec())
}

/// Valid from a day ago (clock skew) for `years`.
fn set_validity(params: &mut CertificateParams, years: i32) {
    use chrono::Datelike;
    let from = chrono::Utc::now() - chrono::Duration::days(1);
    let until = chrono::Utc::now() + chrono::Duration::days(1);
    let ymd = |d: chrono::DateTime<chrono::Utc>, plus: i32| {
        // Day 28 at most: every month has it, so the date is always valid.
        rcgen::date_time_ymd(d.year() + plus, u8::try_from(d.month()).unwrap_or(1), u8::try_from(d.day().min(28)).unwrap_or(1))
    };
    params.not_before = ymd(from, 0);
    params.not_after = ymd(until, years);
}

fn invalid(path: &Path, message: String) -> PkiError {
    PkiError::Invalid { path: path.to_path_buf(), message }
}

fn read_text(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Io { what: "reading", path: path.to_path_buf(), source })
}

fn create_private_dir(dir: &Path) -> Result<(), PkiError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| PkiError::Io { what: "creating", path: dir.to_path_buf(), source })
}

/// Writes `bytes` to `path` through a temporary file and a rename (never a half-written file);
/// `private` files are 0600.
pub(crate) fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), PkiError> {
    use std::io::Write;
    fn io<'a>(what: &'static str, p: &'a Path) -> impl FnOnce(std::io::Error) -> PkiError + 'a {
        move |source| PkiError::Io { what, path: p.to_path_buf(), source }
    }
    let mut tmp_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let mut file = options.open(&tmp).map_err(io("writing", &tmp))?;
    #[cfg(unix)]
    {
        // The mode above applies only when the file is created: make an old temp file private too.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(if private { 0o600 } else { 0o644 }))
            .map_err(io("writing", &tmp))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("writing", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ServingNames {
        ServingNames::for_bind_address(IpAddr::from([0, 0, 0, 0]))
    }

    fn der(path: &Path) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(path).expect("a PEM certificate")
    }

    fn verifies(pki: &Pki, name: &str) -> bool {
        let ca = der(&pki.ca_cert);
        let anchor = webpki::anchor_from_trusted_cert(&ca).expect("anchor");
        let leaf = der(&pki.serving_cert);
        let ee = webpki::EndEntityCert::try_from(&leaf).expect("end entity");
        let anchors = [anchor];
        let chain = ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            UnixTime::now(),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        );
        let server_name = ServerName::try_from(name.to_owned()).expect("a server name");
        chain.is_ok() && ee.verify_is_valid_for_subject_name(&server_name).is_ok()
    }

    #[test]
    fn generates_a_ca_signed_serving_cert_for_local_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(&dir.path().join("pki"), Some(&names())).expect("pki");
        for name in ["localhost", "127.0.0.1", "::1", "kubernetes.default.svc.cluster.local"] {
            assert!(verifies(&pki, name), "{name}");
        }
        assert!(!verifies(&pki, "example.com"));
        assert!(!verifies(&pki, "10.1.2.3"));
        // The admin certificate is a client certificate of system:masters signed by the CA.
        let admin = der(&pki.admin_cert);
        assert!(leaf_fits(&der(&pki.ca_cert), &admin, webpki::KeyUsage::client_auth()));
        assert!(!leaf_fits(&der(&pki.ca_cert), &admin, webpki::KeyUsage::server_auth()));
        let (_, parsed) = x509_parser::parse_x509_certificate(&admin).expect("x509");
        let subject = parsed.subject().to_string();
        assert!(subject.contains("CN=kubernetes-admin") && subject.contains("O=system:masters"), "{subject}");
        // sa.key is a PKCS#8 ECDSA P-256 key.
        let sa = std::fs::read_to_string(&pki.sa_key).expect("sa.key");
        assert!(sa.starts_with("-----BEGIN PRIVATE KEY-----"), "{sa}");
        let key = KeyPair::from_pem(&sa).expect("sa key");
        assert!(key.is_compatible(&rcgen::PKCS_ECDSA_P256_SHA256));
        assert_eq!(pki.client_ca_file.as_deref(), Some(pki.ca_cert.as_path()));
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(dir.path(), Some(&names())).expect("pki");
        for key in [&pki.ca_key, &pki.serving_key, &pki.admin_key, &pki.sa_key] {
            let mode = std::fs::metadata(key).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
        let mode = std::fs::metadata(&pki.ca_cert).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn regenerates_only_what_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(dir.path(), Some(&names())).expect("pki");
        let read = |p: &PathBuf| std::fs::read(p).expect("read");
        let all = |pki: &Pki| {
            [&pki.ca_cert, &pki.ca_key, &pki.serving_cert, &pki.serving_key, &pki.admin_cert, &pki.admin_key, &pki.sa_key]
                .map(read)
        };
        let first = all(&pki);
        // A second start keeps everything.
        let again = Pki::ensure(dir.path(), Some(&names())).expect("pki");
        assert_eq!(all(&again), first);
        // A missing admin key re-issues the admin pair only.
        std::fs::remove_file(&pki.admin_key).expect("rm");
        let third = all(&Pki::ensure(dir.path(), Some(&names())).expect("pki"));
        assert_eq!(&third[..4], &first[..4]);
        assert_ne!(third[4], first[4]);
        assert_ne!(third[5], first[5]);
        assert_eq!(third[6], first[6]);
        // A missing sa.key is generated alone.
        std::fs::remove_file(&pki.sa_key).expect("rm");
        let fourth = all(&Pki::ensure(dir.path(), Some(&names())).expect("pki"));
        assert_eq!(&fourth[..6], &third[..6]);
        assert_ne!(fourth[6], third[6]);
        // A new CA re-issues everything it signed (the old certificates would not verify).
        std::fs::remove_file(&pki.ca_key).expect("rm");
        let fifth = Pki::ensure(dir.path(), Some(&names())).expect("pki");
        let fifth_files = all(&fifth);
        for i in 0..6 {
            assert_ne!(fifth_files[i], fourth[i], "file {i}");
        }
        assert_eq!(fifth_files[6], fourth[6]);
        assert!(verifies(&fifth, "localhost"));
        assert!(leaf_fits(&der(&fifth.ca_cert), &der(&fifth.admin_cert), webpki::KeyUsage::client_auth()));
    }

    #[test]
    fn a_new_name_reissues_the_serving_cert() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(dir.path(), Some(&names())).expect("pki");
        let before = std::fs::read(&pki.serving_cert).expect("read");
        assert!(!verifies(&pki, "10.9.8.7"));
        let wider = ServingNames::for_bind_address(IpAddr::from([10, 9, 8, 7]));
        let pki = Pki::ensure(dir.path(), Some(&wider)).expect("pki");
        assert_ne!(std::fs::read(&pki.serving_cert).expect("read"), before);
        assert!(verifies(&pki, "10.9.8.7") && verifies(&pki, "localhost"));
    }

    #[test]
    fn without_serving_names_no_serving_cert_is_made() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(dir.path(), None).expect("pki");
        assert!(!pki.serving_cert.exists());
        assert!(pki.ca_cert.exists() && pki.admin_cert.exists() && pki.sa_key.exists());
    }

    #[test]
    fn broken_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::ensure(dir.path(), None).expect("pki");
        std::fs::write(&pki.ca_key, "garbage").expect("write");
        let e = Pki::ensure(dir.path(), None).expect_err("refused").to_string();
        assert!(e.contains("ca.key") && e.contains("delete"), "{e}");
        let other = tempfile::tempdir().expect("tempdir");
        let other_pki = Pki::ensure(other.path(), None).expect("pki");
        std::fs::copy(&other_pki.ca_key, &pki.ca_key).expect("copy");
        let e = Pki::ensure(dir.path(), None).expect_err("refused").to_string();
        assert!(e.contains("ca.crt") && e.contains("does not match"), "{e}");
    }

    #[test]
    fn from_flags_resolves_the_client_ca_and_user_serving_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let flags = Flags::from_args([format!("--data-dir={}", data.display())]).expect("flags");
        let pki = Pki::from_flags(&flags).expect("pki");
        assert_eq!(pki.dir, std::path::absolute(data.join("pki")).expect("absolute"));
        assert!(pki.serving_generated && pki.serving_cert.exists());
        assert_eq!(pki.client_ca_file.as_ref(), Some(&pki.ca_cert));
        let flags = Flags::from_args([
            format!("--data-dir={}", data.display()),
            format!("--cert-dir={}", dir.path().join("certs").display()),
            "--tls-cert-file=/x/tls.crt".into(),
            "--tls-private-key-file=/x/tls.key".into(),
            "--client-ca-file=/x/clients.crt".into(),
        ])
        .expect("flags");
        let pki = Pki::from_flags(&flags).expect("pki");
        assert_eq!(pki.dir, dir.path().join("certs"));
        assert!(!pki.serving_generated);
        assert_eq!(pki.serving_cert, PathBuf::from("/x/tls.crt"));
        assert!(!dir.path().join("certs/apiserver.crt").exists());
        assert_eq!(pki.client_ca_file, Some(PathBuf::from("/x/clients.crt")));
    }
}
