//! Service-account tokens: signing keys and verification keys (RS256, ES256), the bound-token
//! issuer (TokenRequest), the JWT authenticator (upstream's pkg/serviceaccount), and the OIDC
//! discovery documents (`/.well-known/openid-configuration`, `/openid/v1/jwks`).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use x509_parser::prelude::FromDer;

use super::lookup::{deletion_timestamp, str_at, ObjectLookup};
use super::x509::CREDENTIAL_ID_KEY;
use super::{Authenticated, AuthnError, TokenAuthenticator};
use crate::auth::{names, UserInfo};

/// The issuer of legacy (Secret-based) service-account tokens.
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";
/// The default `--service-account-issuer`.
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// Extra key: the name of the Pod a token is bound to.
pub const POD_NAME_KEY: &str = "authentication.kubernetes.io/pod-name";
/// Extra key: the uid of the Pod a token is bound to.
pub const POD_UID_KEY: &str = "authentication.kubernetes.io/pod-uid";
/// Extra key: the name of the Node a token is bound to (or its Pod runs on).
pub const NODE_NAME_KEY: &str = "authentication.kubernetes.io/node-name";
/// Extra key: the uid of that Node.
pub const NODE_UID_KEY: &str = "authentication.kubernetes.io/node-uid";
/// The path of the JWKS document below the issuer.
pub const JWKS_PATH: &str = "/openid/v1/jwks";
/// Clock skew allowed on `exp`, `nbf` and `iat` (go-jose's `jwt.DefaultLeeway`).
pub const LEEWAY_SECONDS: i64 = 60;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a key file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("reading {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No usable key in the data.
    #[error("{0}: data does not contain any valid RSA or ECDSA public keys")]
    NoPublicKeys(String),
    /// No usable private key in the data.
    #[error("{0}: data does not contain a valid RSA or ECDSA (P-256) private key")]
    NoPrivateKey(String),
    /// A PEM block that could not be parsed.
    #[error("{origin}: {what}")]
    Bad {
        /// The file (or "data").
        origin: String,
        /// What is wrong.
        what: String,
    },
}

// ---- DER helpers (just what SubjectPublicKeyInfo and PKCS#8 wrapping need) ----

const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn der_seq(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

fn der_uint(be: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    der(0x02, &content)
}

fn der_bit_string(bytes: &[u8]) -> Vec<u8> {
    der(0x03, &[&[0u8][..], bytes].concat())
}

fn strip_zeros(be: &[u8]) -> Vec<u8> {
    let v: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    if v.is_empty() {
        vec![0]
    } else {
        v
    }
}

// ---- Keys ----

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyKind {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed P-256 point (0x04 || x || y).
    EcP256 { point: Vec<u8> },
}

/// A key verifying service-account tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kind: KeyKind,
    kid: String,
}

impl PublicKey {
    fn rsa(n: &[u8], e: &[u8]) -> PublicKey {
        PublicKey::with_kid(KeyKind::Rsa { n: strip_zeros(n), e: strip_zeros(e) })
    }

    fn ec(point: &[u8], origin: &str) -> Result<PublicKey, KeyError> {
        if point.len() != 65 || point[0] != 4 {
            return Err(KeyError::Bad { origin: origin.into(), what: "ECDSA public key is not an uncompressed P-256 point".into() });
        }
        Ok(PublicKey::with_kid(KeyKind::EcP256 { point: point.to_vec() }))
    }

    fn with_kid(kind: KeyKind) -> PublicKey {
        let mut key = PublicKey { kind, kid: String::new() };
        key.kid = B64.encode(Sha256::digest(key.spki_der()));
        key
    }

    /// The key id: base64url(sha256(DER SubjectPublicKeyInfo)), upstream's keyIDFromPublicKey.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The JWS algorithm: RS256 or ES256.
    pub fn algorithm(&self) -> &'static str {
        match self.kind {
            KeyKind::Rsa { .. } => "RS256",
            KeyKind::EcP256 { .. } => "ES256",
        }
    }

    /// The DER SubjectPublicKeyInfo, as Go's `x509.MarshalPKIXPublicKey` writes it.
    pub fn spki_der(&self) -> Vec<u8> {
        match &self.kind {
            KeyKind::Rsa { n, e } => {
                let alg = der_seq(&[&der(0x06, OID_RSA_ENCRYPTION), &[0x05, 0x00]]);
                let pkcs1 = der_seq(&[&der_uint(n), &der_uint(e)]);
                der_seq(&[&alg, &der_bit_string(&pkcs1)])
            }
            KeyKind::EcP256 { point } => {
                let alg = der_seq(&[&der(0x06, OID_EC_PUBLIC_KEY), &der(0x06, OID_P256)]);
                der_seq(&[&alg, &der_bit_string(point)])
            }
        }
    }

    /// The key as a JWK (go-jose's field order: use, kty, kid, crv, alg, x, y / n, e).
    pub fn jwk(&self) -> Value {
        let mut m = Map::new();
        m.insert("use".into(), json!("sig"));
        match &self.kind {
            KeyKind::Rsa { n, e } => {
                m.insert("kty".into(), json!("RSA"));
                m.insert("kid".into(), json!(self.kid));
                m.insert("alg".into(), json!("RS256"));
                m.insert("n".into(), json!(B64.encode(n)));
                m.insert("e".into(), json!(B64.encode(e)));
            }
            KeyKind::EcP256 { point } => {
                m.insert("kty".into(), json!("EC"));
                m.insert("kid".into(), json!(self.kid));
                m.insert("crv".into(), json!("P-256"));
                m.insert("alg".into(), json!("ES256"));
                m.insert("x".into(), json!(B64.encode(&point[1..33])));
                m.insert("y".into(), json!(B64.encode(&point[33..65])));
            }
        }
        Value::Object(m)
    }

    /// Checks a JWS signature made with `alg`.
    fn verify(&self, alg: &str, message: &[u8], sig: &[u8]) -> Result<(), String> {
        match (&self.kind, alg) {
            (KeyKind::Rsa { n, e }, "RS256") => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .map_err(|_| "square/go-jose: error in cryptographic primitive".to_string()),
            (KeyKind::EcP256 { point }, "ES256") => signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, sig)
                .map_err(|_| "square/go-jose: error in cryptographic primitive".to_string()),
            _ => Err("square/go-jose: unsupported key type/format".to_string()),
        }
    }

    fn from_spki(der_bytes: &[u8], origin: &str) -> Result<PublicKey, KeyError> {
        let bad = |what: String| KeyError::Bad { origin: origin.into(), what };
        let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(der_bytes)
            .map_err(|e| bad(format!("malformed public key: {e}")))?;
        match spki.parsed().map_err(|e| bad(format!("malformed public key: {e}")))? {
            x509_parser::public_key::PublicKey::RSA(rsa) => Ok(PublicKey::rsa(rsa.modulus, rsa.exponent)),
            x509_parser::public_key::PublicKey::EC(point) => {
                let curve = spki.algorithm.parameters.as_ref().map(|p| p.data).unwrap_or_default();
                if curve != OID_P256 {
                    return Err(bad("ECDSA keys must use the P-256 curve".into()));
                }
                PublicKey::ec(point.data(), origin)
            }
            _ => Err(bad("unsupported public key type: use RSA or ECDSA P-256".into())),
        }
    }
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key signing service-account tokens.
pub struct SigningKey {
    signer: Signer,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("public", &self.public).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads the first private key of a PEM file (RSA PKCS#1 or PKCS#8, ECDSA P-256 SEC1 or PKCS#8).
    pub fn from_pem_file(path: &Path) -> Result<SigningKey, KeyError> {
        let data = std::fs::read(path).map_err(|e| KeyError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        SigningKey::from_pem(&data, &path.display().to_string())
    }

    /// Parses the first private key of PEM `data` (`origin` names it in errors).
    pub fn from_pem(data: &[u8], origin: &str) -> Result<SigningKey, KeyError> {
        for pem in x509_parser::pem::Pem::iter_from_buffer(data) {
            let pem = pem.map_err(|e| KeyError::Bad { origin: origin.into(), what: format!("malformed PEM: {e}") })?;
            if let Some(key) = SigningKey::from_block(&pem.label, &pem.contents, origin)? {
                return Ok(key);
            }
        }
        Err(KeyError::NoPrivateKey(origin.into()))
    }

    fn from_block(label: &str, der_bytes: &[u8], origin: &str) -> Result<Option<SigningKey>, KeyError> {
        let bad = |what: String| KeyError::Bad { origin: origin.into(), what };
        let signer = match label {
            "RSA PRIVATE KEY" => Signer::Rsa(RsaKeyPair::from_der(der_bytes).map_err(|e| bad(format!("RSA private key: {e}")))?),
            "EC PRIVATE KEY" => {
                let alg_id = der_seq(&[&der(0x06, OID_EC_PUBLIC_KEY), &der(0x06, OID_P256)]);
                let pkcs8 = der_seq(&[&[0x02, 0x01, 0x00], &alg_id, &der(0x04, der_bytes)]);
                Signer::Ec(
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &SystemRandom::new())
                        .map_err(|e| bad(format!("ECDSA private key (P-256 only): {e}")))?,
                )
            }
            "PRIVATE KEY" => match RsaKeyPair::from_pkcs8(der_bytes) {
                Ok(k) => Signer::Rsa(k),
                Err(_) => Signer::Ec(
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der_bytes, &SystemRandom::new())
                        .map_err(|e| bad(format!("PKCS#8 private key is neither RSA nor ECDSA P-256: {e}")))?,
                ),
            },
            _ => return Ok(None),
        };
        let public = match &signer {
            Signer::Rsa(k) => {
                let c: signature::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
                PublicKey::rsa(&c.n, &c.e)
            }
            Signer::Ec(k) => PublicKey::ec(k.public_key().as_ref(), origin)?,
        };
        Ok(Some(SigningKey { signer, public }))
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuthnError> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| AuthnError("signing the token failed".into()))?;
                Ok(sig)
            }
            Signer::Ec(k) => {
                k.sign(&rng, message).map(|s| s.as_ref().to_vec()).map_err(|_| AuthnError("signing the token failed".into()))
            }
        }
    }

    /// A compact JWS of `claims` with header `{"alg", "kid"}`.
    fn jws(&self, claims: &Value) -> Result<String, AuthnError> {
        let header = json!({"alg": self.public.algorithm(), "kid": self.public.kid});
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let sig = self.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", B64.encode(sig)))
    }
}

/// Every public key of a PEM file: PUBLIC KEY, RSA PUBLIC KEY, private keys and certificates
/// (upstream's keyutil.ParsePublicKeysPEM).
pub fn public_keys_from_pem_file(path: &Path) -> Result<Vec<PublicKey>, KeyError> {
    let data = std::fs::read(path).map_err(|e| KeyError::Read { path: path.display().to_string(), reason: e.to_string() })?;
    public_keys_from_pem(&data, &path.display().to_string())
}

/// Every public key of PEM `data` (`origin` names it in errors); at least one is required.
pub fn public_keys_from_pem(data: &[u8], origin: &str) -> Result<Vec<PublicKey>, KeyError> {
    let mut keys = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(data) {
        let pem = pem.map_err(|e| KeyError::Bad { origin: origin.into(), what: format!("malformed PEM: {e}") })?;
        let bad = |what: String| KeyError::Bad { origin: origin.into(), what };
        match pem.label.as_str() {
            "PUBLIC KEY" => keys.push(PublicKey::from_spki(&pem.contents, origin)?),
            "RSA PUBLIC KEY" => {
                let (_, rsa) = x509_parser::public_key::RSAPublicKey::from_der(&pem.contents)
                    .map_err(|e| bad(format!("malformed RSA public key: {e}")))?;
                keys.push(PublicKey::rsa(rsa.modulus, rsa.exponent));
            }
            "CERTIFICATE" => {
                let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&pem.contents)
                    .map_err(|e| bad(format!("malformed certificate: {e}")))?;
                keys.push(PublicKey::from_spki(cert.public_key().raw, origin)?);
            }
            label => {
                if let Some(k) = SigningKey::from_block(label, &pem.contents, origin)? {
                    keys.push(k.public);
                }
            }
        }
    }
    if keys.is_empty() {
        return Err(KeyError::NoPublicKeys(origin.into()));
    }
    Ok(keys)
}

// ---- Issuing ----

/// What a bound token is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundKind {
    /// A Pod: the token dies with it.
    Pod,
    /// A Secret.
    Secret,
    /// A Node.
    Node,
}

impl BoundKind {
    /// From a `boundObjectRef.kind` (`Pod`, `Secret`, `Node`).
    pub fn from_kind(kind: &str) -> Option<BoundKind> {
        match kind {
            "Pod" => Some(BoundKind::Pod),
            "Secret" => Some(BoundKind::Secret),
            "Node" => Some(BoundKind::Node),
            _ => None,
        }
    }

    fn claim(self) -> &'static str {
        match self {
            BoundKind::Pod => "pod",
            BoundKind::Secret => "secret",
            BoundKind::Node => "node",
        }
    }
}

/// The object a token is bound to (TokenRequest's `boundObjectRef`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundObject {
    /// Its kind.
    pub kind: BoundKind,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: String,
}

/// A freshly issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// When it expires.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The lifetime actually granted (shortened to the maximum when longer was asked).
    pub expiration_seconds: i64,
}

/// Issues service-account tokens and publishes the keys verifying them.
#[derive(Debug)]
pub struct TokenIssuer {
    issuers: Vec<String>,
    signing: SigningKey,
    verification: Vec<PublicKey>,
    max_expiration_seconds: Option<i64>,
}

impl TokenIssuer {
    /// An issuer signing with `signing`, naming itself `issuers[0]` (default
    /// [`DEFAULT_ISSUER`]) and accepting all `issuers`; `extra_keys` also verify tokens.
    pub fn new(issuers: Vec<String>, signing: SigningKey, extra_keys: Vec<PublicKey>, max_expiration_seconds: Option<i64>) -> TokenIssuer {
        let issuers = if issuers.is_empty() { vec![DEFAULT_ISSUER.to_string()] } else { issuers };
        let mut verification = vec![signing.public.clone()];
        for k in extra_keys {
            if !verification.iter().any(|v| v.kid == k.kid) {
                verification.push(k);
            }
        }
        TokenIssuer { issuers, signing, verification, max_expiration_seconds }
    }

    /// The issuer written into new tokens.
    pub fn issuer(&self) -> &str {
        self.issuers.first().map_or(DEFAULT_ISSUER, String::as_str)
    }

    /// Every accepted issuer (the first is the one that issues).
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The keys verifying tokens (the signing key's first).
    pub fn verification_keys(&self) -> &[PublicKey] {
        &self.verification
    }

    /// `--service-account-max-token-expiration` in seconds, if set.
    pub fn max_expiration_seconds(&self) -> Option<i64> {
        self.max_expiration_seconds
    }

    /// Issues a bound token for ServiceAccount `namespace/name` (uid `uid`) valid for `audiences`
    /// and `expiration_seconds` (shortened to the maximum), optionally bound to an object and
    /// carrying the node a bound Pod runs on (`node`: name, uid).
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        audiences: &[String],
        expiration_seconds: i64,
        bound: Option<&BoundObject>,
        node: Option<(&str, &str)>,
    ) -> Result<IssuedToken, AuthnError> {
        self.issue_at(namespace, name, uid, audiences, expiration_seconds, bound, node, chrono::Utc::now())
    }

    /// [`TokenIssuer::issue`] as if the time were `now`.
    #[allow(clippy::too_many_arguments)]
    pub fn issue_at(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        audiences: &[String],
        expiration_seconds: i64,
        bound: Option<&BoundObject>,
        node: Option<(&str, &str)>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<IssuedToken, AuthnError> {
        let expiration_seconds = match self.max_expiration_seconds {
            Some(max) if max > 0 && expiration_seconds > max => max,
            _ => expiration_seconds,
        };
        let iat = now.timestamp();
        let exp = iat.saturating_add(expiration_seconds);
        let reference = |n: &str, u: &str| {
            let mut m = Map::new();
            if !n.is_empty() {
                m.insert("name".into(), json!(n));
            }
            if !u.is_empty() {
                m.insert("uid".into(), json!(u));
            }
            Value::Object(m)
        };
        // Keys in Go's (sorted map) order: namespace, node, pod, secret, serviceaccount.
        let mut refs: Vec<(&str, Value)> = Vec::new();
        if let Some(b) = bound {
            refs.push((b.kind.claim(), reference(&b.name, &b.uid)));
            if b.kind == BoundKind::Pod {
                if let Some((node_name, node_uid)) = node {
                    refs.push(("node", reference(node_name, node_uid)));
                }
            }
        }
        refs.sort_by_key(|(k, _)| *k);
        let mut k8s = Map::new();
        k8s.insert("namespace".into(), json!(namespace));
        for (k, v) in refs {
            k8s.insert(k.into(), v);
        }
        k8s.insert("serviceaccount".into(), reference(name, uid));
        let claims = json!({
            "aud": audiences,
            "exp": exp,
            "iat": iat,
            "iss": self.issuer(),
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": Value::Object(k8s),
            "nbf": iat,
            "sub": format!("{}{namespace}:{name}", names::SERVICE_ACCOUNT_USER_PREFIX),
        });
        let token = self.signing.jws(&claims)?;
        let expires_at = chrono::DateTime::from_timestamp(exp, 0).unwrap_or(now);
        Ok(IssuedToken { token, expires_at, expiration_seconds })
    }

    /// A legacy (Secret-based, non-expiring) token, as the token controller wrote them.
    pub fn issue_legacy(&self, namespace: &str, name: &str, uid: &str, secret_name: &str) -> Result<String, AuthnError> {
        let claims = json!({
            "iss": LEGACY_ISSUER,
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/secret.name": secret_name,
            "kubernetes.io/serviceaccount/service-account.name": name,
            "kubernetes.io/serviceaccount/service-account.uid": uid,
            "sub": format!("{}{namespace}:{name}", names::SERVICE_ACCOUNT_USER_PREFIX),
        });
        self.signing.jws(&claims)
    }

    /// `/.well-known/openid-configuration` (upstream's openidmetadata.go).
    pub fn openid_configuration(&self) -> Value {
        let mut algs: Vec<&str> = self.verification.iter().map(PublicKey::algorithm).collect();
        algs.sort_unstable();
        algs.dedup();
        json!({
            "issuer": self.issuer(),
            "jwks_uri": format!("{}{JWKS_PATH}", self.issuer().trim_end_matches('/')),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algs,
        })
    }

    /// `/openid/v1/jwks`: every verification key.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.verification.iter().map(PublicKey::jwk).collect::<Vec<_>>()})
    }
}

// ---- Authenticating ----

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

fn claim_audiences(claims: &Value) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn claim_time(claims: &Value, key: &str) -> Option<i64> {
    let v = claims.get(key)?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

/// Authenticates service-account JWTs: bound tokens of the accepted issuers and legacy
/// Secret-based tokens.
pub struct ServiceAccountAuthenticator {
    issuer: Arc<TokenIssuer>,
    implicit_audiences: Vec<String>,
    lookup: Arc<dyn ObjectLookup>,
    legacy_lookup: bool,
}

impl ServiceAccountAuthenticator {
    /// Verifies with `issuer`'s keys and issuers; `implicit_audiences` are the API audiences;
    /// bound tokens' objects are always looked up, legacy tokens' only with `legacy_lookup`
    /// (`--service-account-lookup`), as upstream.
    pub fn new(issuer: Arc<TokenIssuer>, implicit_audiences: Vec<String>, lookup: Arc<dyn ObjectLookup>, legacy_lookup: bool) -> Self {
        ServiceAccountAuthenticator { issuer, implicit_audiences, lookup, legacy_lookup }
    }

    /// Authenticates `token` for `audiences` (empty: the API audiences) as if the time were `now`
    /// (unix seconds).
    pub async fn authenticate_at(&self, token: &str, audiences: &[String], now: i64) -> Result<Option<Authenticated>, AuthnError> {
        if token.trim_start().starts_with('{') {
            return Ok(None);
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, sig_b64] = parts[..] else {
            return Ok(None);
        };
        let Some(payload) = B64.decode(payload_b64).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
            return Ok(None);
        };
        // Unverified: only to decide whether the token is ours.
        let iss = payload.get("iss").and_then(Value::as_str).unwrap_or_default();
        let legacy = iss == LEGACY_ISSUER;
        if !legacy && !self.issuer.issuers.iter().any(|i| i == iss) {
            return Ok(None);
        }
        let Some(header) = B64.decode(header_b64).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
            return Ok(None);
        };
        let Ok(sig) = B64.decode(sig_b64) else {
            return Ok(None);
        };
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
        if alg != "RS256" && alg != "ES256" {
            return Err(AuthnError(format!("square/go-jose: unsupported signature algorithm {alg:?}: service-account tokens use RS256 or ES256")));
        }
        let kid = header.get("kid").and_then(Value::as_str).unwrap_or_default();
        let keys: Vec<&PublicKey> =
            self.issuer.verification.iter().filter(|k| kid.is_empty() || k.kid == kid).collect();
        if keys.is_empty() {
            return Err(AuthnError("invalid signature, no keys found".into()));
        }
        let signed = format!("{header_b64}.{payload_b64}");
        let mut errors: Vec<String> = Vec::new();
        if !keys.iter().any(|k| match k.verify(alg, signed.as_bytes(), &sig) {
            Ok(()) => true,
            Err(e) => {
                if !errors.contains(&e) {
                    errors.push(e);
                }
                false
            }
        }) {
            return Err(AuthnError(if errors.len() == 1 { errors.remove(0) } else { format!("[{}]", errors.join(", ")) }));
        }

        let mut token_audiences = claim_audiences(&payload);
        if token_audiences.is_empty() {
            // Only the API audiences are allowed for legacy tokens.
            token_audiences = self.implicit_audiences.clone();
        }
        let requested: Vec<String> = if audiences.is_empty() { self.implicit_audiences.clone() } else { audiences.to_vec() };
        let granted: Vec<String> = token_audiences.iter().filter(|a| requested.contains(a)).cloned().collect();
        if granted.is_empty() && !self.implicit_audiences.is_empty() {
            return Err(AuthnError(format!(
                "token audiences {} is invalid for the target audiences {}",
                go_quote_list(&token_audiences),
                go_quote_list(&requested)
            )));
        }
        let user = if legacy {
            self.validate_legacy(token, &payload).await?
        } else {
            self.validate_bound(&payload, now).await?
        };
        Ok(Some(Authenticated { user, audiences: granted }))
    }

    /// Upstream's validator for bound tokens.
    async fn validate_bound(&self, claims: &Value, now: i64) -> Result<UserInfo, AuthnError> {
        if claim_time(claims, "nbf").is_some_and(|nbf| now + LEEWAY_SECONDS < nbf) {
            return Err(AuthnError("service account token is not valid yet".into()));
        }
        if claim_time(claims, "exp").is_some_and(|exp| now - LEEWAY_SECONDS > exp) {
            return Err(AuthnError("service account token has expired".into()));
        }
        if claim_time(claims, "iat").is_some_and(|iat| now + LEEWAY_SECONDS < iat) {
            return Err(AuthnError("service account token is issued in the future".into()));
        }
        let k8s = claims.get("kubernetes.io").cloned().unwrap_or(Value::Null);
        let namespace = str_at(&k8s, &["namespace"]);
        let (sa_name, sa_uid) = (str_at(&k8s, &["serviceaccount", "name"]), str_at(&k8s, &["serviceaccount", "uid"]));
        // Objects deleted before now - leeway invalidate the token.
        let deleted_before = |o: &Value| deletion_timestamp(o).is_some_and(|t| t.timestamp() < now - LEEWAY_SECONDS);

        let Some(sa) = self.lookup.get("", "serviceaccounts", namespace, sa_name).await? else {
            return Err(AuthnError(format!("serviceaccounts \"{sa_name}\" not found")));
        };
        if deleted_before(&sa) {
            return Err(AuthnError(format!("service account {namespace}/{sa_name} has been deleted")));
        }
        let actual = str_at(&sa, &["metadata", "uid"]);
        if actual != sa_uid {
            return Err(AuthnError(format!("service account UID ({actual}) does not match claim ({sa_uid})")));
        }
        let invalidated = || AuthnError("service account token has been invalidated".into());
        if k8s.get("secret").is_some() {
            let (name, uid) = (str_at(&k8s, &["secret", "name"]), str_at(&k8s, &["secret", "uid"]));
            let secret = self.lookup.get("", "secrets", namespace, name).await.ok().flatten().ok_or_else(invalidated)?;
            if deleted_before(&secret) {
                return Err(invalidated());
            }
            let actual = str_at(&secret, &["metadata", "uid"]);
            if actual != uid {
                return Err(AuthnError(format!("secret UID ({actual}) does not match service account secret ref claim ({uid})")));
            }
        }
        let mut user = UserInfo {
            username: format!("{}{namespace}:{sa_name}", names::SERVICE_ACCOUNT_USER_PREFIX),
            uid: sa_uid.to_string(),
            groups: vec![names::ALL_SERVICE_ACCOUNTS.to_string(), format!("{}:{namespace}", names::ALL_SERVICE_ACCOUNTS)],
            ..UserInfo::default()
        };
        let pod_bound = k8s.get("pod").is_some();
        if pod_bound {
            let (name, uid) = (str_at(&k8s, &["pod", "name"]), str_at(&k8s, &["pod", "uid"]));
            let pod = self.lookup.get("", "pods", namespace, name).await.ok().flatten().ok_or_else(invalidated)?;
            if deleted_before(&pod) {
                return Err(invalidated());
            }
            let actual = str_at(&pod, &["metadata", "uid"]);
            if actual != uid {
                return Err(AuthnError(format!("pod UID ({actual}) does not match service account pod ref claim ({uid})")));
            }
            if !name.is_empty() && !uid.is_empty() {
                user.extra.insert(POD_NAME_KEY.into(), vec![name.to_string()]);
                user.extra.insert(POD_UID_KEY.into(), vec![uid.to_string()]);
            }
        }
        if k8s.get("node").is_some() {
            let (name, uid) = (str_at(&k8s, &["node", "name"]), str_at(&k8s, &["node", "uid"]));
            if !pod_bound {
                let node = self.lookup.get("", "nodes", "", name).await.ok().flatten().ok_or_else(invalidated)?;
                if deleted_before(&node) {
                    return Err(invalidated());
                }
                let actual = str_at(&node, &["metadata", "uid"]);
                if actual != uid {
                    return Err(AuthnError(format!("node UID ({actual}) does not match service account node ref claim ({uid})")));
                }
            }
            if !name.is_empty() {
                user.extra.insert(NODE_NAME_KEY.into(), vec![name.to_string()]);
                if !uid.is_empty() {
                    user.extra.insert(NODE_UID_KEY.into(), vec![uid.to_string()]);
                }
            }
        }
        if let Some(jti) = claims.get("jti").and_then(Value::as_str).filter(|j| !j.is_empty()) {
            user.extra.insert(CREDENTIAL_ID_KEY.into(), vec![format!("JTI={jti}")]);
        }
        Ok(user)
    }

    /// Upstream's legacy validator (Secret-based tokens).
    async fn validate_legacy(&self, token: &str, claims: &Value) -> Result<UserInfo, AuthnError> {
        let claim = |k: &str| claims.get(format!("kubernetes.io/serviceaccount/{k}")).and_then(Value::as_str).unwrap_or_default();
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or_default();
        if sub.is_empty() {
            return Err(AuthnError("sub claim is missing".into()));
        }
        let (namespace, secret_name, sa_name, sa_uid) =
            (claim("namespace"), claim("secret.name"), claim("service-account.name"), claim("service-account.uid"));
        for (value, what) in [(namespace, "namespace"), (secret_name, "secretName"), (sa_name, "serviceAccountName"), (sa_uid, "serviceAccountUID")] {
            if value.is_empty() {
                return Err(AuthnError(format!("{what} claim is missing")));
            }
        }
        if sub != format!("{}{namespace}:{sa_name}", names::SERVICE_ACCOUNT_USER_PREFIX) {
            return Err(AuthnError("sub claim is invalid".into()));
        }
        if self.legacy_lookup {
            let invalidated = || AuthnError("token has been invalidated".into());
            let secret = self.lookup.get("", "secrets", namespace, secret_name).await.ok().flatten().ok_or_else(invalidated)?;
            if deletion_timestamp(&secret).is_some() {
                return Err(invalidated());
            }
            let stored = base64::engine::general_purpose::STANDARD.decode(str_at(&secret, &["data", "token"])).unwrap_or_default();
            if stored != token.as_bytes() {
                return Err(AuthnError("token does not match server's copy".into()));
            }
            let Some(sa) = self.lookup.get("", "serviceaccounts", namespace, sa_name).await? else {
                return Err(AuthnError(format!("serviceaccounts \"{sa_name}\" not found")));
            };
            if deletion_timestamp(&sa).is_some() {
                return Err(AuthnError(format!("service account {namespace}/{sa_name} has been deleted")));
            }
            let actual = str_at(&sa, &["metadata", "uid"]);
            if actual != sa_uid {
                return Err(AuthnError(format!("service account UID ({actual}) does not match claim ({sa_uid})")));
            }
        }
        Ok(UserInfo {
            username: format!("{}{namespace}:{sa_name}", names::SERVICE_ACCOUNT_USER_PREFIX),
            uid: sa_uid.to_string(),
            groups: vec![names::ALL_SERVICE_ACCOUNTS.to_string(), format!("{}:{namespace}", names::ALL_SERVICE_ACCOUNTS)],
            ..UserInfo::default()
        })
    }
}

#[async_trait]
impl TokenAuthenticator for ServiceAccountAuthenticator {
    async fn authenticate_token(&self, token: &str, audiences: &[String]) -> Result<Option<Authenticated>, AuthnError> {
        self.authenticate_at(token, audiences, chrono::Utc::now().timestamp()).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::lookup::testing::MapLookup;
    use super::*;

    // Test vectors from upstream's pkg/serviceaccount tests (keyid_test.go pins the RSA key's id).
    const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA249XwEo9k4tM8fMxV7zx
OhcrP+WvXn917koM5Qr2ZXs4vo26e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt+ecI
zshKuv1gKIxbbLQMOuK1eA/4HALyEkFgmS/tleLJrhc65tKPMGD+pKQ/xhmzRuCG
51RoiMgbQxaCyYxGfNLpLAZK9L0Tctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJU
j7OTh/AjjCnMnkgvKT2tpKxYQ59PgDgU8Ssc7RDSmSkLxnrv+OrN80j6xrw0OjEi
B4Ycr0PqfzZcvy8efTtFQ/Jnc4Bp1zUtFXt7+QeevePtQ2EcyELXE0i63T1CujRM
WwIDAQAB
-----END PUBLIC KEY-----
";
    const RSA_KID: &str = "JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU";
    const RSA_PRIVATE: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA249XwEo9k4tM8fMxV7zxOhcrP+WvXn917koM5Qr2ZXs4vo26
e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt+ecIzshKuv1gKIxbbLQMOuK1eA/4HALy
EkFgmS/tleLJrhc65tKPMGD+pKQ/xhmzRuCG51RoiMgbQxaCyYxGfNLpLAZK9L0T
ctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJUj7OTh/AjjCnMnkgvKT2tpKxYQ59P
gDgU8Ssc7RDSmSkLxnrv+OrN80j6xrw0OjEiB4Ycr0PqfzZcvy8efTtFQ/Jnc4Bp
1zUtFXt7+QeevePtQ2EcyELXE0i63T1CujRMWwIDAQABAoIBAHJx8GqyCBDNbqk7
e7/hI9iE1S10Wwol5GH2RWxqX28cYMKq+8aE2LI1vPiXO89xOgelk4DN6urX6xjK
ZBF8RRIMQy/e/O2F4+3wl+Nl4vOXV1u6iVXMsD6JRg137mqJf1Fr9elg1bsaRofL
Q7CxPoB8dhS+Qb+hj0DhlqhgA9zG345CQCAds0ZYAZe8fP7bkwrLqZpMn7Dz9WVm
++YgYYKjuE95kPuup/LtWfA9rJyE/Fws8/jGvRSpVn1XglMLSMKhLd27sE8ZUSV0
2KUzbfRGE0+AnRULRrjpYaPu0XQ2JjdNvtkjBnv27RB89W9Gklxq821eH1Y8got8
FZodjxECgYEA93pz7AQZ2xDs67d1XLCzpX84GxKzttirmyj3OIlxgzVHjEMsvw8v
sjFiBU5xEEQDosrBdSknnlJqyiq1YwWG/WDckr13d8G2RQWoySN7JVmTQfXcLoTu
YGRiiTuoEi3ab3ZqrgGrFgX7T/cHuasbYvzCvhM2b4VIR3aSxU2DTUMCgYEA4x7J
T/ErP6GkU5nKstu/mIXwNzayEO1BJvPYsy7i7EsxTm3xe/b8/6cYOz5fvJLGH5mT
Q8YvuLqBcMwZardrYcwokD55UvNLOyfADDFZ6l3WntIqbA640Ok2g1X4U8J09xIq
ZLIWK1yWbbvi4QCeN5hvWq47e8sIj5QHjIIjRwkCgYEAyNqjltxFN9zmzPDa2d24
EAvOt3pYTYBQ1t9KtqImdL0bUqV6fZ6PsWoPCgt+DBuHb+prVPGP7Bkr/uTmznU/
+AlTO+12NsYLbr2HHagkXE31DEXE7CSLa8RNjN/UKtz4Ohq7vnowJvG35FCz/mb3
FUHbtHTXa2+bGBUOTf/5Hw0CgYBxw0r9EwUhw1qnUYJ5op7OzFAtp+T7m4ul8kCa
SCL8TxGsgl+SQ34opE775dtYfoBk9a0RJqVit3D8yg71KFjOTNAIqHJm/Vyyjc+h
i9rJDSXiuczsAVfLtPVMRfS0J9QkqeG4PIfkQmVLI/CZ2ZBmsqEcX+eFs4ZfPLun
Qsxe2QKBgGuPilIbLeIBDIaPiUI0FwU8v2j8CEQBYvoQn34c95hVQsig/o5z7zlo
UsO0wlTngXKlWdOcCs1kqEhTLrstf48djDxAYAxkw40nzeJOt7q52ib/fvf4/UBy
X024wzbiw1q07jFCyfQmODzURAx1VNT7QVUMdz/N8vy47/H40AZJ
-----END RSA PRIVATE KEY-----
";
    const EC_PRIVATE: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIEZmTmUhuanLjPA2CLquXivuwBDHTt5XYwgIr/kA1LtRoAoGCCqGSM49
AwEHoUQDQgAEH6cuzP8XuD5wal6wf9M6xDljTOPLX2i8uIp/C/ASqiIGUeeKQtX0
/IR3qCXyThP/dbCiHrF3v1cuhBOHY8CLVg==
-----END EC PRIVATE KEY-----
";
    const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH6cuzP8XuD5wal6wf9M6xDljTOPL
X2i8uIp/C/ASqiIGUeeKQtX0/IR3qCXyThP/dbCiHrF3v1cuhBOHY8CLVg==
-----END PUBLIC KEY-----
";

    fn pem_der(pem: &str) -> Vec<u8> {
        x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()).next().expect("block").expect("pem").contents
    }

    fn pem(label: &str, der_bytes: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der_bytes);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    fn rsa_key() -> SigningKey {
        SigningKey::from_pem(RSA_PRIVATE.as_bytes(), "rsa.pem").expect("rsa key")
    }

    fn ec_key() -> SigningKey {
        let generated = rcgen::KeyPair::generate().expect("P-256 key");
        SigningKey::from_pem(generated.serialize_pem().as_bytes(), "ec.pem").expect("ec key")
    }

    fn setup(key: SigningKey) -> (Arc<TokenIssuer>, Arc<MapLookup>, ServiceAccountAuthenticator) {
        let issuer = Arc::new(TokenIssuer::new(Vec::new(), key, Vec::new(), None));
        let lookup = Arc::new(MapLookup::default());
        lookup.put("", "serviceaccounts", "ns", "sa", json!({"metadata": {"name": "sa", "namespace": "ns", "uid": "sa-uid"}}));
        let auth = ServiceAccountAuthenticator::new(issuer.clone(), vec![DEFAULT_ISSUER.into()], lookup.clone(), true);
        (issuer, lookup, auth)
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn api() -> Vec<String> {
        vec![DEFAULT_ISSUER.to_string()]
    }

    #[test]
    fn key_ids_match_upstream() {
        let public = public_keys_from_pem(RSA_PUBLIC.as_bytes(), "pub.pem").expect("public");
        assert_eq!(public.len(), 1);
        assert_eq!(public[0].key_id(), RSA_KID);
        // Re-encoding is canonical: the same DER as the PEM.
        assert_eq!(public[0].spki_der(), pem_der(RSA_PUBLIC));
        assert_eq!(rsa_key().public_key().key_id(), RSA_KID);
        // PKCS#1 public key, PKCS#8 private key: the same key id.
        let spki = pem_der(RSA_PUBLIC);
        let (_, parsed) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).expect("spki");
        let pkcs1 = pem("RSA PUBLIC KEY", &parsed.subject_public_key.data);
        assert_eq!(public_keys_from_pem(pkcs1.as_bytes(), "p1").expect("pkcs1")[0].key_id(), RSA_KID);
        let alg = der_seq(&[&der(0x06, OID_RSA_ENCRYPTION), &[0x05, 0x00]]);
        let pkcs8 = pem("PRIVATE KEY", &der_seq(&[&[0x02, 0x01, 0x00], &alg, &der(0x04, &pem_der(RSA_PRIVATE))]));
        assert_eq!(SigningKey::from_pem(pkcs8.as_bytes(), "p8").expect("pkcs8").public_key().key_id(), RSA_KID);
        // SEC1 private key (with curve parameters) and its public key agree.
        let ec = SigningKey::from_pem(EC_PRIVATE.as_bytes(), "ec.pem").expect("sec1");
        let ec_public = public_keys_from_pem(EC_PUBLIC.as_bytes(), "ecpub").expect("ec public");
        assert_eq!(ec.public_key(), &ec_public[0]);
        assert_eq!(ec_public[0].spki_der(), pem_der(EC_PUBLIC));
        // Several blocks in one file, private keys among them.
        let both = format!("{RSA_PUBLIC}{EC_PRIVATE}");
        let keys = public_keys_from_pem(both.as_bytes(), "both").expect("both");
        assert_eq!(keys.iter().map(PublicKey::algorithm).collect::<Vec<_>>(), vec!["RS256", "ES256"]);
    }

    #[test]
    fn key_files_errors() {
        assert_eq!(public_keys_from_pem(b"", "k.pem"), Err(KeyError::NoPublicKeys("k.pem".into())));
        assert!(matches!(SigningKey::from_pem(RSA_PUBLIC.as_bytes(), "k.pem"), Err(KeyError::NoPrivateKey(_))));
        let e = SigningKey::from_pem(b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "k.pem")
            .expect_err("garbage");
        assert!(e.to_string().starts_with("k.pem: RSA private key"), "{e}");
        assert!(SigningKey::from_pem_file(Path::new("/nonexistent/sa.key")).expect_err("missing").to_string().contains("/nonexistent/sa.key"));
        // A certificate's key is a verification key.
        let ca = super::super::x509::testing::TestCa::new("ca");
        assert_eq!(public_keys_from_pem(ca.pem.as_bytes(), "ca.crt").expect("cert").len(), 1);
    }

    #[tokio::test]
    async fn rsa_and_ec_round_trip() {
        for key in [rsa_key(), ec_key()] {
            let alg = key.public_key().algorithm();
            let (issuer, _lookup, auth) = setup(key);
            let issued = issuer.issue("ns", "sa", "sa-uid", &api(), 3600, None, None).expect("issue");
            assert!((issued.expires_at.timestamp() - now() - 3600).abs() <= 2);
            let header: Value = serde_json::from_slice(&B64.decode(issued.token.split('.').next().expect("header")).expect("b64")).expect("json");
            assert_eq!(header, json!({"alg": alg, "kid": issuer.verification_keys()[0].key_id()}));
            let got = auth.authenticate_token(&issued.token, &[]).await.expect("valid").expect("authenticated");
            assert_eq!(got.user.username, "system:serviceaccount:ns:sa");
            assert_eq!(got.user.uid, "sa-uid");
            assert_eq!(got.user.groups, vec!["system:serviceaccounts", "system:serviceaccounts:ns"]);
            assert!(got.user.extra[CREDENTIAL_ID_KEY][0].starts_with("JTI="));
            assert_eq!(got.audiences, api());
        }
    }

    #[tokio::test]
    async fn tampering_and_foreign_tokens() {
        let (issuer, _lookup, auth) = setup(rsa_key());
        let token = issuer.issue("ns", "sa", "sa-uid", &api(), 3600, None, None).expect("issue").token;
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: Value = serde_json::from_slice(&B64.decode(parts[1]).expect("b64")).expect("json");
        claims["sub"] = json!("system:serviceaccount:kube-system:admin");
        let forged = format!("{}.{}.{}", parts[0], B64.encode(claims.to_string()), parts[2]);
        let e = auth.authenticate_token(&forged, &[]).await.expect_err("bad signature");
        assert_eq!(e.0, "square/go-jose: error in cryptographic primitive");
        // A flipped signature byte, too.
        let mut sig = B64.decode(parts[2]).expect("sig");
        sig[10] ^= 1;
        let forged = format!("{}.{}.{}", parts[0], parts[1], B64.encode(sig));
        assert!(auth.authenticate_token(&forged, &[]).await.is_err());
        // Another issuer, or not a JWT: not ours.
        let other = TokenIssuer::new(vec!["https://other".into()], rsa_key(), Vec::new(), None);
        let foreign = other.issue("ns", "sa", "sa-uid", &api(), 3600, None, None).expect("issue").token;
        assert_eq!(auth.authenticate_token(&foreign, &[]).await, Ok(None));
        assert_eq!(auth.authenticate_token("abc.def", &[]).await, Ok(None));
        assert_eq!(auth.authenticate_token("static-token", &[]).await, Ok(None));
        // A key we do not know (by kid, then without kid).
        let stranger = TokenIssuer::new(Vec::new(), ec_key(), Vec::new(), None);
        let unknown = stranger.issue("ns", "sa", "sa-uid", &api(), 3600, None, None).expect("issue").token;
        assert_eq!(auth.authenticate_token(&unknown, &[]).await, Err(AuthnError("invalid signature, no keys found".into())));
        let p: Vec<&str> = unknown.split('.').collect();
        let no_kid = format!("{}.{}.{}", B64.encode(r#"{"alg":"ES256"}"#), p[1], p[2]);
        assert!(auth.authenticate_token(&no_kid, &[]).await.is_err());
        let none_alg = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), p[1]);
        assert!(auth.authenticate_token(&none_alg, &[]).await.expect_err("alg none").0.contains("unsupported signature algorithm"));
        // Rotation: a key given as an extra verification key is accepted.
        let rotated = TokenIssuer::new(Vec::new(), rsa_key(), vec![stranger.verification_keys()[0].clone()], None);
        let (_, lookup, _) = setup(rsa_key());
        let auth2 = ServiceAccountAuthenticator::new(Arc::new(rotated), api(), lookup, true);
        assert!(auth2.authenticate_token(&unknown, &[]).await.expect("ok").is_some());
    }

    #[tokio::test]
    async fn audiences_and_times() {
        let (issuer, _lookup, auth) = setup(ec_key());
        let vault = issuer.issue("ns", "sa", "sa-uid", &["vault".to_string()], 3600, None, None).expect("issue").token;
        let e = auth.authenticate_token(&vault, &[]).await.expect_err("wrong audience");
        assert_eq!(e.0, format!("token audiences [\"vault\"] is invalid for the target audiences [\"{DEFAULT_ISSUER}\"]"));
        let got = auth.authenticate_token(&vault, &["vault".to_string(), "x".to_string()]).await.expect("ok").expect("user");
        assert_eq!(got.audiences, vec!["vault".to_string()]);

        let t = now();
        let at = |secs_ago: i64| chrono::DateTime::from_timestamp(t - secs_ago, 0).expect("time");
        let expired = issuer.issue_at("ns", "sa", "sa-uid", &api(), 3600, None, None, at(7200)).expect("issue").token;
        assert_eq!(auth.authenticate_at(&expired, &[], t).await, Err(AuthnError("service account token has expired".into())));
        let in_leeway = issuer.issue_at("ns", "sa", "sa-uid", &api(), 3600, None, None, at(3630)).expect("issue").token;
        assert!(auth.authenticate_at(&in_leeway, &[], t).await.expect("leeway").is_some());
        let future = issuer.issue_at("ns", "sa", "sa-uid", &api(), 3600, None, None, at(-600)).expect("issue").token;
        assert_eq!(auth.authenticate_at(&future, &[], t).await, Err(AuthnError("service account token is not valid yet".into())));
    }

    #[tokio::test]
    async fn lookups_invalidate_tokens() {
        let (issuer, lookup, auth) = setup(rsa_key());
        let pod = BoundObject { kind: BoundKind::Pod, name: "web".into(), uid: "pod-uid".into() };
        lookup.put("", "pods", "ns", "web", json!({"metadata": {"name": "web", "uid": "pod-uid"}}));
        let token = issuer.issue("ns", "sa", "sa-uid", &api(), 3600, Some(&pod), Some(("node-1", "node-uid"))).expect("issue").token;
        let payload: Value = serde_json::from_slice(&B64.decode(token.split('.').nth(1).expect("payload")).expect("b64")).expect("json");
        assert_eq!(
            payload["kubernetes.io"],
            json!({"namespace": "ns", "node": {"name": "node-1", "uid": "node-uid"}, "pod": {"name": "web", "uid": "pod-uid"}, "serviceaccount": {"name": "sa", "uid": "sa-uid"}})
        );
        let got = auth.authenticate_token(&token, &[]).await.expect("ok").expect("user");
        assert_eq!(got.user.extra[POD_NAME_KEY], vec!["web".to_string()]);
        assert_eq!(got.user.extra[POD_UID_KEY], vec!["pod-uid".to_string()]);
        assert_eq!(got.user.extra[NODE_NAME_KEY], vec!["node-1".to_string()]);
        assert_eq!(got.user.extra[NODE_UID_KEY], vec!["node-uid".to_string()]);
        // The pod is replaced (new uid), then deleted.
        lookup.put("", "pods", "ns", "web", json!({"metadata": {"name": "web", "uid": "other"}}));
        let e = auth.authenticate_token(&token, &[]).await.expect_err("uid");
        assert_eq!(e.0, "pod UID (other) does not match service account pod ref claim (pod-uid)");
        lookup.remove("", "pods", "ns", "web");
        assert_eq!(auth.authenticate_token(&token, &[]).await, Err(AuthnError("service account token has been invalidated".into())));
        // The service account is recreated, then deleted.
        let plain = issuer.issue("ns", "sa", "sa-uid", &api(), 3600, None, None).expect("issue").token;
        lookup.put("", "serviceaccounts", "ns", "sa", json!({"metadata": {"name": "sa", "uid": "new"}}));
        assert_eq!(
            auth.authenticate_token(&plain, &[]).await,
            Err(AuthnError("service account UID (new) does not match claim (sa-uid)".into()))
        );
        lookup.remove("", "serviceaccounts", "ns", "sa");
        assert_eq!(auth.authenticate_token(&plain, &[]).await, Err(AuthnError("serviceaccounts \"sa\" not found".into())));
        // Secret- and node-bound tokens.
        lookup.put("", "serviceaccounts", "ns", "sa", json!({"metadata": {"name": "sa", "uid": "sa-uid"}}));
        let secret = BoundObject { kind: BoundKind::Secret, name: "s".into(), uid: "s-uid".into() };
        let token = issuer.issue("ns", "sa", "sa-uid", &api(), 3600, Some(&secret), None).expect("issue").token;
        assert!(auth.authenticate_token(&token, &[]).await.is_err());
        lookup.put("", "secrets", "ns", "s", json!({"metadata": {"name": "s", "uid": "s-uid"}}));
        assert!(auth.authenticate_token(&token, &[]).await.expect("ok").is_some());
        let node = BoundObject { kind: BoundKind::Node, name: "n1".into(), uid: "n-uid".into() };
        let token = issuer.issue("ns", "sa", "sa-uid", &api(), 3600, Some(&node), None).expect("issue").token;
        assert!(auth.authenticate_token(&token, &[]).await.is_err());
        lookup.put("", "nodes", "", "n1", json!({"metadata": {"name": "n1", "uid": "n-uid"}}));
        let got = auth.authenticate_token(&token, &[]).await.expect("ok").expect("node-bound");
        assert_eq!(got.user.extra[NODE_NAME_KEY], vec!["n1".to_string()]);
        assert!(!got.user.extra.contains_key(POD_NAME_KEY));
    }

    #[tokio::test]
    async fn legacy_tokens() {
        let (issuer, lookup, auth) = setup(rsa_key());
        let token = issuer.issue_legacy("ns", "sa", "sa-uid", "sa-token-x").expect("legacy");
        assert_eq!(auth.authenticate_token(&token, &[]).await, Err(AuthnError("token has been invalidated".into())));
        let data = base64::engine::general_purpose::STANDARD.encode(&token);
        lookup.put("", "secrets", "ns", "sa-token-x", json!({"metadata": {"name": "sa-token-x"}, "data": {"token": data}}));
        let got = auth.authenticate_token(&token, &[]).await.expect("ok").expect("user");
        assert_eq!(got.user.username, "system:serviceaccount:ns:sa");
        assert_eq!(got.audiences, api());
        lookup.put("", "secrets", "ns", "sa-token-x", json!({"metadata": {"name": "sa-token-x"}, "data": {"token": "eA=="}}));
        assert_eq!(auth.authenticate_token(&token, &[]).await, Err(AuthnError("token does not match server's copy".into())));
    }

    #[test]
    fn discovery_documents_and_limits() {
        let ec = ec_key();
        let ec_public = ec.public_key().clone();
        let issuer = TokenIssuer::new(vec!["https://issuer.example".into(), "https://old".into()], rsa_key(), vec![ec_public.clone()], Some(7200));
        assert_eq!(
            issuer.openid_configuration(),
            json!({
                "issuer": "https://issuer.example",
                "jwks_uri": "https://issuer.example/openid/v1/jwks",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            })
        );
        let jwks = issuer.jwks();
        let keys = jwks["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0]["kid"], json!(RSA_KID));
        assert_eq!((keys[0]["kty"].as_str(), keys[0]["alg"].as_str(), keys[0]["e"].as_str()), (Some("RSA"), Some("RS256"), Some("AQAB")));
        assert_eq!(B64.decode(keys[0]["n"].as_str().expect("n")).expect("n").len(), 256);
        assert_eq!((keys[1]["kty"].as_str(), keys[1]["crv"].as_str(), keys[1]["use"].as_str()), (Some("EC"), Some("P-256"), Some("sig")));
        assert_eq!(keys[1]["kid"], json!(ec_public.key_id()));
        assert_eq!(B64.decode(keys[1]["x"].as_str().expect("x")).expect("x").len(), 32);
        // The longest lifetime is enforced.
        let issued = issuer.issue("ns", "sa", "uid", &api(), 86400, None, None).expect("issue");
        assert_eq!(issued.expiration_seconds, 7200);
        let payload: Value = serde_json::from_slice(&B64.decode(issued.token.split('.').nth(1).expect("p")).expect("b64")).expect("json");
        assert_eq!(payload["exp"].as_i64().expect("exp") - payload["iat"].as_i64().expect("iat"), 7200);
        assert_eq!(payload["iss"], json!("https://issuer.example"));
        assert_eq!(payload["sub"], json!("system:serviceaccount:ns:sa"));
        assert_eq!(payload["nbf"], payload["iat"]);
    }
}
