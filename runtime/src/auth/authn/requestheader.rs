//! Front-proxy authentication (`--requestheader-*`): a proxy whose client certificate verifies
//! against `--requestheader-client-ca-file` (and whose CN is allowed) asserts the user in request
//! headers, as upstream's headerrequest authenticator behind an x509 Verifier.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rustls_pki_types::{CertificateDer, UnixTime};

use super::x509::{subject_of, CaBundle};
use super::{Authenticated, AuthnError, RequestAuthenticator, RequestCredentials};
use crate::auth::UserInfo;

/// Which headers carry the identity, and who may send them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeaderConfig {
    /// `--requestheader-username-headers`: the first with a non-empty value names the user.
    pub username_headers: Vec<String>,
    /// `--requestheader-uid-headers`.
    pub uid_headers: Vec<String>,
    /// `--requestheader-group-headers`: every value of each is a group.
    pub group_headers: Vec<String>,
    /// `--requestheader-extra-headers-prefix`.
    pub extra_headers_prefixes: Vec<String>,
    /// `--requestheader-allowed-names`: CNs allowed to act as the proxy (empty: any).
    pub allowed_names: Vec<String>,
}

/// Splits a comma-separated flag value, dropping empty items.
pub fn split_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Go's `url.PathUnescape`; malformed input is kept as it is (upstream records it anyway).
fn path_unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            match (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => return s.to_string(),
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

fn value_string(v: &http::HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// Authenticates requests relayed by a trusted front proxy.
#[derive(Debug, Clone)]
pub struct RequestHeaderAuthenticator {
    ca: CaBundle,
    config: RequestHeaderConfig,
}

impl RequestHeaderAuthenticator {
    /// Trusts proxies whose certificates `ca` verifies.
    pub fn new(ca: CaBundle, config: RequestHeaderConfig) -> RequestHeaderAuthenticator {
        RequestHeaderAuthenticator { ca, config }
    }

    /// The configuration.
    pub fn config(&self) -> &RequestHeaderConfig {
        &self.config
    }

    /// Removes every identity header (user, uid, group, extra-prefixed) from `headers`: callers
    /// strip them so no handler trusts what a client, rather than the proxy, wrote.
    pub fn strip_headers(&self, headers: &mut http::HeaderMap) {
        strip_identity_headers(&self.config, headers);
    }

    /// Authenticates with the peer chain checked at `now`.
    pub fn authenticate_at(
        &self,
        headers: &http::HeaderMap,
        peer: &[CertificateDer<'static>],
        now: UnixTime,
    ) -> Result<Option<Authenticated>, AuthnError> {
        let Some(leaf) = peer.first() else {
            return Ok(None);
        };
        // Upstream's Verifier: a certificate this CA does not verify is an error here; the chain
        // goes on to the other authenticators (the x509 one may accept it).
        self.ca.verify_client(peer, now).map_err(AuthnError)?;
        if !self.config.allowed_names.is_empty() {
            let cn = subject_of(leaf).map_err(AuthnError)?.common_name;
            if !self.config.allowed_names.contains(&cn) {
                return Err(AuthnError(format!("x509: subject with cn={cn} is not in the allowed list")));
            }
        }
        let first = |names: &[String]| {
            names.iter().filter_map(|n| headers.get(n.as_str())).map(value_string).find(|v| !v.is_empty()).unwrap_or_default()
        };
        let username = first(&self.config.username_headers);
        if username.is_empty() {
            return Ok(None);
        }
        let uid = first(&self.config.uid_headers);
        let groups: Vec<String> = self
            .config
            .group_headers
            .iter()
            .flat_map(|n| headers.get_all(n.as_str()).iter().map(value_string))
            .filter(|g| !g.is_empty())
            .collect();
        let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for prefix in &self.config.extra_headers_prefixes {
            let prefix = prefix.to_ascii_lowercase();
            for name in headers.keys() {
                // Header names are lower case in `http`.
                if let Some(rest) = name.as_str().strip_prefix(prefix.as_str()) {
                    extra.entry(path_unescape(rest)).or_default().extend(headers.get_all(name).iter().map(value_string));
                }
            }
        }
        Ok(Some(Authenticated { user: UserInfo { username, uid, groups, extra }, audiences: Vec::new() }))
    }
}

/// Removes the identity headers `config` names from `headers`.
pub(crate) fn strip_identity_headers(config: &RequestHeaderConfig, headers: &mut http::HeaderMap) {
    for name in config.username_headers.iter().chain(&config.uid_headers).chain(&config.group_headers) {
        if let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) {
            headers.remove(name);
        }
    }
    let prefixes: Vec<String> = config.extra_headers_prefixes.iter().map(|p| p.to_ascii_lowercase()).collect();
    let doomed: Vec<http::HeaderName> =
        headers.keys().filter(|k| prefixes.iter().any(|p| k.as_str().starts_with(p.as_str()))).cloned().collect();
    for name in doomed {
        headers.remove(name);
    }
}

#[async_trait]
impl RequestAuthenticator for RequestHeaderAuthenticator {
    async fn authenticate(&self, request: &RequestCredentials<'_>) -> Result<Option<Authenticated>, AuthnError> {
        self.authenticate_at(request.headers, request.peer_certificates, UnixTime::now())
    }
}

#[cfg(test)]
mod tests {
    use rcgen::ExtendedKeyUsagePurpose as Eku;

    use super::super::x509::testing::TestCa;
    use super::*;

    fn config(allowed: &[&str]) -> RequestHeaderConfig {
        RequestHeaderConfig {
            username_headers: split_list("X-Remote-User, X-Other-User"),
            uid_headers: split_list("X-Remote-Uid"),
            group_headers: split_list("X-Remote-Group"),
            extra_headers_prefixes: split_list("X-Remote-Extra-"),
            allowed_names: allowed.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).expect("name"), http::HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn proxied_identity() {
        let ca = TestCa::new("front-proxy-ca");
        let auth = RequestHeaderAuthenticator::new(CaBundle::from_pem(ca.pem.as_bytes(), "fp.pem").expect("ca"), config(&["front-proxy"]));
        let proxy = ca.client("front-proxy", &[], None, &[Eku::ClientAuth]);
        let h = headers(&[
            ("X-Remote-User", ""),
            ("X-Other-User", "jane"),
            ("X-Remote-Uid", "u-1"),
            ("X-Remote-Group", "devs"),
            ("X-Remote-Group", ""),
            ("X-Remote-Group", "ops"),
            ("X-Remote-Extra-Scopes", "a"),
            ("X-Remote-Extra-Scopes", "b"),
            ("X-Remote-Extra-Acme.com%2Fproject", "p"),
            ("X-Remote-Extra-Bad%zz", "x"),
        ]);
        let got = auth.authenticate_at(&h, std::slice::from_ref(&proxy), UnixTime::now()).expect("ok").expect("user");
        assert_eq!(got.user.username, "jane");
        assert_eq!(got.user.uid, "u-1");
        assert_eq!(got.user.groups, vec!["devs".to_string(), "ops".to_string()]);
        assert_eq!(got.user.extra["scopes"], vec!["a".to_string(), "b".to_string()]);
        assert_eq!(got.user.extra["acme.com/project"], vec!["p".to_string()]);
        assert_eq!(got.user.extra["bad%zz"], vec!["x".to_string()]);
        // No user header: not authenticated by the proxy.
        assert_eq!(auth.authenticate_at(&headers(&[("X-Remote-Group", "g")]), &[proxy], UnixTime::now()), Ok(None));
        // No certificate: not a proxied request.
        assert_eq!(auth.authenticate_at(&h, &[], UnixTime::now()), Ok(None));
    }

    #[test]
    fn untrusted_proxies() {
        let ca = TestCa::new("front-proxy-ca");
        let other = TestCa::new("client-ca");
        let auth = RequestHeaderAuthenticator::new(CaBundle::from_pem(ca.pem.as_bytes(), "fp.pem").expect("ca"), config(&["front-proxy"]));
        let h = headers(&[("X-Remote-User", "root"), ("X-Remote-Group", "system:masters")]);
        let wrong_cn = ca.client("someone", &[], None, &[Eku::ClientAuth]);
        let e = auth.authenticate_at(&h, &[wrong_cn], UnixTime::now()).expect_err("cn");
        assert_eq!(e.0, "x509: subject with cn=someone is not in the allowed list");
        let foreign = other.client("front-proxy", &[], None, &[Eku::ClientAuth]);
        let e = auth.authenticate_at(&h, &[foreign], UnixTime::now()).expect_err("other CA");
        assert!(e.0.contains("unknown authority"), "{e}");
        // Any CN is allowed when the list is empty.
        let open = RequestHeaderAuthenticator::new(CaBundle::from_pem(ca.pem.as_bytes(), "fp.pem").expect("ca"), config(&[]));
        let any = ca.client("whoever", &[], None, &[Eku::ClientAuth]);
        assert_eq!(open.authenticate_at(&h, &[any], UnixTime::now()).expect("ok").expect("user").user.username, "root");
    }

    #[test]
    fn strips_identity_headers() {
        let ca = TestCa::new("front-proxy-ca");
        let auth = RequestHeaderAuthenticator::new(CaBundle::from_pem(ca.pem.as_bytes(), "fp.pem").expect("ca"), config(&[]));
        let mut h = headers(&[
            ("X-Remote-User", "a"),
            ("X-Other-User", "b"),
            ("X-Remote-Uid", "c"),
            ("X-Remote-Group", "d"),
            ("X-Remote-Extra-Foo", "e"),
            ("Accept", "application/json"),
        ]);
        auth.strip_headers(&mut h);
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), vec!["accept"]);
        assert_eq!(path_unescape("a%2Fb%20c"), "a/b c");
        assert_eq!(path_unescape("100%"), "100%");
    }
}
