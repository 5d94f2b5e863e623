//! The admin kubeconfig (`<data-dir>/kubeconfig`, 0600): where the API is, the CA that verifies its
//! serving certificate, and the admin's client certificate when kapi's CA authenticates clients.
// Start-up errors, made once per process: their size does not matter.
#![allow(clippy::result_large_err)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::pki::{name_fits, write_file, Pki, PkiError};
use crate::auth::authn::x509::{anchors_of, verify_chain};
use super::tls::{load_certificates, TlsError};

/// Why the kubeconfig could not be written.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// A certificate could not be read.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The file could not be read or written.
    #[error(transparent)]
    Io(#[from] PkiError),
}

/// What the kubeconfig says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// The API's URL.
    pub server: String,
    /// PEM CA bundle verifying the serving certificate (`certificate-authority-data`).
    pub ca_pem: Option<String>,
    /// PEM client certificate and key (`client-certificate-data`, `client-key-data`).
    pub client: Option<(String, String)>,
    /// Comment lines (why something is left out).
    pub notes: Vec<String>,
}

/// The host clients dial for a listener on `addr`: the address itself, or 127.0.0.1 when it
/// listens on every interface.
pub fn dial_host(addr: IpAddr) -> IpAddr {
    if addr.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr
    }
}

/// `scheme://host:port` for a listener on `addr` ([`dial_host`]; IPv6 in brackets).
pub fn url(scheme: &str, addr: SocketAddr) -> String {
    format!("{scheme}://{}", SocketAddr::new(dial_host(addr.ip()), addr.port()))
}

impl Kubeconfig {
    /// The admin's kubeconfig for the HTTPS listener on `secure`: kapi's CA when it signed the
    /// serving certificate (or a client CA bundle that verifies a user-given one), and the admin
    /// certificate when the client CA in effect includes kapi's CA.
    pub fn for_secure_port(pki: &Pki, secure: SocketAddr) -> Result<Kubeconfig, KubeconfigError> {
        let mut notes = Vec::new();
        let host = ServerName::from(dial_host(secure.ip()));
        let kapi_ca = read(&pki.ca_cert)?;
        let kapi_ca_der = load_certificates(&pki.ca_cert, "generated CA")?;
        let ca_pem = if pki.serving_generated {
            Some(kapi_ca.clone())
        } else {
            let chain = load_certificates(&pki.serving_cert, "--tls-cert-file")?;
            let mut found = None;
            for candidate in pki.client_ca_file.iter().chain(std::iter::once(&pki.ca_cert)) {
                let bundle = load_certificates(candidate, "--client-ca-file")?;
                if verifies(&chain, &bundle, &host) {
                    found = Some(read(candidate)?);
                    break;
                }
            }
            if found.is_none() {
                notes.push(format!(
                    "The serving certificate ({}) is not signed by a CA kapi knows: clients verify it with their system roots; add certificate-authority-data for its CA if they do not trust it.",
                    pki.serving_cert.display()
                ));
            }
            found
        };
        let kapi_authenticates = match &pki.client_ca_file {
            Some(path) => load_certificates(path, "--client-ca-file")?.iter().any(|c| kapi_ca_der.contains(c)),
            None => false,
        };
        let client = if kapi_authenticates {
            Some((read(&pki.admin_cert)?, read(&pki.admin_key)?))
        } else {
            notes.push(
                "No user credentials: the client CA (--client-ca-file) does not include kapi's CA, so the generated admin certificate would not authenticate.".to_owned(),
            );
            None
        };
        Ok(Kubeconfig { server: url("https", secure), ca_pem, client, notes })
    }

    /// A kubeconfig for the plain-HTTP port on `insecure` (no credentials: it has full access).
    pub fn for_insecure_port(insecure: SocketAddr) -> Kubeconfig {
        Kubeconfig { server: url("http", insecure), ca_pem: None, client: None, notes: Vec::new() }
    }

    /// The YAML text (cluster, user and context `kapi`/`admin`, namespace `default`).
    pub fn render(&self) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        let mut text = String::new();
        for note in &self.notes {
            text.push_str(&format!("# {note}\n"));
        }
        text.push_str("apiVersion: v1\nkind: Config\nclusters:\n- name: kapi\n  cluster:\n");
        text.push_str(&format!("    server: {}\n", self.server));
        if let Some(ca) = &self.ca_pem {
            text.push_str(&format!("    certificate-authority-data: {}\n", b64(ca)));
        }
        text.push_str("contexts:\n- name: kapi\n  context:\n    cluster: kapi\n    user: admin\n    namespace: default\n");
        text.push_str("current-context: kapi\nusers:\n- name: admin\n");
        match &self.client {
            Some((cert, key)) => text.push_str(&format!(
                "  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
                b64(cert),
                b64(key)
            )),
            None => text.push_str("  user: {}\n"),
        }
        text
    }

    /// Writes it to `<data_dir>/kubeconfig` (0600) and returns the absolute path.
    pub fn write(&self, data_dir: &Path) -> Result<PathBuf, KubeconfigError> {
        let path = std::path::absolute(data_dir.join("kubeconfig")).unwrap_or_else(|_| data_dir.join("kubeconfig"));
        write_file(&path, self.render().as_bytes(), true)?;
        Ok(path)
    }
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Io { what: "reading", path: path.to_path_buf(), source })
}

/// Whether the serving `chain` verifies against the CA `bundle` for `host`.
fn verifies(chain: &[CertificateDer<'static>], bundle: &[CertificateDer<'static>], host: &ServerName<'_>) -> bool {
    verify_chain(&anchors_of(bundle), chain, webpki::KeyUsage::server_auth(), UnixTime::now()).is_ok()
        && chain.first().is_some_and(|leaf| name_fits(leaf, host))
}

#[cfg(test)]
mod tests {
    use super::super::pki::ServingNames;
    use super::*;

    fn pki(dir: &Path) -> Pki {
        Pki::ensure(dir, Some(&ServingNames::for_bind_address([127, 0, 0, 1].into()))).expect("pki")
    }

    #[test]
    fn urls_dial_loopback_for_unspecified_addresses() {
        assert_eq!(url("https", "0.0.0.0:6443".parse().expect("addr")), "https://127.0.0.1:6443");
        assert_eq!(url("https", "[::]:6443".parse().expect("addr")), "https://127.0.0.1:6443");
        assert_eq!(url("https", "10.1.2.3:443".parse().expect("addr")), "https://10.1.2.3:443");
        assert_eq!(url("http", "[::1]:8080".parse().expect("addr")), "http://[::1]:8080");
    }

    #[test]
    fn generated_pki_gives_the_ca_and_admin_credentials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = pki(dir.path());
        let k = Kubeconfig::for_secure_port(&pki, "127.0.0.1:6443".parse().expect("addr")).expect("kubeconfig");
        assert_eq!(k.ca_pem.as_deref(), Some(read(&pki.ca_cert).expect("ca").as_str()));
        assert_eq!(k.client, Some((read(&pki.admin_cert).expect("c"), read(&pki.admin_key).expect("k"))));
        assert!(k.notes.is_empty());
        let text = k.render();
        assert!(text.contains("server: https://127.0.0.1:6443\n    certificate-authority-data: "), "{text}");
        assert!(text.contains("client-key-data: "), "{text}");
        let path = k.write(dir.path()).expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn user_serving_cert_and_foreign_client_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kapi = pki(&dir.path().join("kapi"));
        // Another CA's PKI: its serving certificate served by the user, its CA the client CA.
        let other = pki(&dir.path().join("other"));
        let user = Pki {
            serving_cert: other.serving_cert.clone(),
            serving_key: other.serving_key.clone(),
            serving_generated: false,
            client_ca_file: Some(other.ca_cert.clone()),
            ..kapi.clone()
        };
        let addr = "127.0.0.1:6443".parse().expect("addr");
        let k = Kubeconfig::for_secure_port(&user, addr).expect("kubeconfig");
        assert_eq!(k.ca_pem.as_deref(), Some(read(&other.ca_cert).expect("ca").as_str()), "the client CA verifies it");
        assert_eq!(k.client, None, "kapi's admin certificate would not authenticate");
        assert_eq!(k.notes.len(), 1);
        assert!(k.render().starts_with("# No user credentials"));
        // A serving certificate no known CA signed: no CA data, a note instead.
        let unknown = Pki { client_ca_file: Some(kapi.ca_cert.clone()), ..user.clone() };
        let k = Kubeconfig::for_secure_port(&unknown, addr).expect("kubeconfig");
        assert_eq!(k.ca_pem, None);
        assert!(k.client.is_some());
        assert!(k.notes[0].contains("not signed by a CA kapi knows"), "{:?}", k.notes);
        // Valid for 127.0.0.1 but not for another address: not verified there.
        let k = Kubeconfig::for_secure_port(&user, "10.1.2.3:6443".parse().expect("addr")).expect("kubeconfig");
        assert_eq!(k.ca_pem, None);
    }
}
