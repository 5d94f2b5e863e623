//! Bootstrap tokens (`--enable-bootstrap-token-auth`): `<id>.<secret>` bearer tokens backed by
//! Secrets `bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token` in kube-system, as
//! upstream's plugin/pkg/auth/authenticator/token/bootstrap.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::Value;

use super::lookup::{str_at, ObjectLookup};
use super::{Authenticated, AuthnError, TokenAuthenticator};
use crate::auth::{names, UserInfo};

/// The namespace of bootstrap token Secrets.
pub const NAMESPACE: &str = "kube-system";
/// The Secret name prefix: `bootstrap-token-<id>`.
pub const SECRET_PREFIX: &str = "bootstrap-token-";
/// The Secret type.
pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// The user name prefix: `system:bootstrap:<id>`.
pub const USER_PREFIX: &str = "system:bootstrap:";
/// Data key of the token id.
pub const KEY_TOKEN_ID: &str = "token-id";
/// Data key of the token secret.
pub const KEY_TOKEN_SECRET: &str = "token-secret";
/// Data key of the expiration (RFC 3339).
pub const KEY_EXPIRATION: &str = "expiration";
/// Data key that must be "true" for the token to authenticate.
pub const KEY_USAGE_AUTHENTICATION: &str = "usage-bootstrap-authentication";
/// Data key of extra groups (comma separated, each `system:bootstrappers:...`).
pub const KEY_EXTRA_GROUPS: &str = "auth-extra-groups";

/// Splits a bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}` into id and secret.
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_once('.')?;
    let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (ok(id, 6) && ok(secret, 16)).then_some((id, secret))
}

/// Upstream's ValidateBootstrapGroupName: `\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`.
pub fn validate_group_name(group: &str) -> Result<(), String> {
    let prefix = "system:bootstrappers:";
    let valid = group.strip_prefix(prefix).is_some_and(|rest| {
        let b = rest.as_bytes();
        !b.is_empty()
            && b.len() <= 256
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b':' || *c == b'-')
            && b.last().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if valid {
        Ok(())
    } else {
        Err(format!("bootstrap group {group:?} is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{{0,255}}[a-z0-9]\\z)"))
    }
}

/// A Secret's `data[key]`, base64-decoded ("" when absent or undecodable).
fn data(secret: &Value, key: &str) -> String {
    let encoded = str_at(secret, &["data", key]);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// Constant-time equality (length leaks, as Go's `subtle.ConstantTimeCompare`).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Authenticates bootstrap tokens against their Secrets.
pub struct BootstrapTokens {
    lookup: Arc<dyn ObjectLookup>,
}

impl BootstrapTokens {
    /// Reads Secrets through `lookup`.
    pub fn new(lookup: Arc<dyn ObjectLookup>) -> BootstrapTokens {
        BootstrapTokens { lookup }
    }

    /// Checks `secret` for token `id.secret` at `now`: the user, or why it is refused (upstream
    /// only logs the reason; the token is then not authenticated).
    pub fn check(secret: &Value, id: &str, token_secret: &str, now: chrono::DateTime<chrono::Utc>) -> Result<UserInfo, String> {
        let name = str_at(secret, &["metadata", "name"]);
        let refuse = |why: String| Err(format!("bootstrap secret {NAMESPACE}/{name} {why}"));
        if !str_at(secret, &["metadata", "deletionTimestamp"]).is_empty() {
            return refuse("is deleted and awaiting removal".into());
        }
        if str_at(secret, &["type"]) != SECRET_TYPE || !secret.get("data").is_some_and(Value::is_object) {
            return refuse(format!("has invalid type, expected {SECRET_TYPE}."));
        }
        if !constant_time_eq(data(secret, KEY_TOKEN_SECRET).as_bytes(), token_secret.as_bytes()) {
            return refuse(format!("has invalid value for key {KEY_TOKEN_SECRET}."));
        }
        if data(secret, KEY_TOKEN_ID) != id {
            return refuse(format!("has invalid value for key {KEY_TOKEN_ID}."));
        }
        let expiration = data(secret, KEY_EXPIRATION);
        if !expiration.is_empty() {
            match chrono::DateTime::parse_from_rfc3339(&expiration) {
                Ok(t) if t.with_timezone(&chrono::Utc) > now => {}
                Ok(_) => return refuse(format!("has expired at {expiration}.")),
                Err(_) => return refuse(format!("has an unparseable expiration time ({expiration}): treating as expired.")),
            }
        }
        if data(secret, KEY_USAGE_AUTHENTICATION) != "true" {
            return refuse(format!("not marked {KEY_USAGE_AUTHENTICATION}=true."));
        }
        // Groups: the default plus extras, de-duplicated and sorted (upstream's sets.String.List()).
        let mut groups = std::collections::BTreeSet::from([names::BOOTSTRAPPERS.to_string()]);
        let extra = data(secret, KEY_EXTRA_GROUPS);
        if !extra.is_empty() {
            for group in extra.split(',') {
                if let Err(e) = validate_group_name(group) {
                    return refuse(format!("has invalid value for key {KEY_EXTRA_GROUPS}: {e}."));
                }
                groups.insert(group.to_string());
            }
        }
        Ok(UserInfo { username: format!("{USER_PREFIX}{id}"), groups: groups.into_iter().collect(), ..UserInfo::default() })
    }
}

#[async_trait]
impl TokenAuthenticator for BootstrapTokens {
    async fn authenticate_token(&self, token: &str, _audiences: &[String]) -> Result<Option<Authenticated>, AuthnError> {
        let Some((id, token_secret)) = parse_token(token) else {
            return Ok(None);
        };
        let Some(secret) = self.lookup.get("", "secrets", NAMESPACE, &format!("{SECRET_PREFIX}{id}")).await? else {
            return Ok(None);
        };
        match BootstrapTokens::check(&secret, id, token_secret, chrono::Utc::now()) {
            Ok(user) => Ok(Some(Authenticated { user, audiences: Vec::new() })),
            // Upstream logs the reason and answers "not authenticated".
            Err(_why) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::lookup::testing::MapLookup;
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn secret(id: &str, token_secret: &str, extra: &[(&str, &str)]) -> Value {
        let mut data = serde_json::Map::new();
        data.insert(KEY_TOKEN_ID.into(), json!(b64(id)));
        data.insert(KEY_TOKEN_SECRET.into(), json!(b64(token_secret)));
        data.insert(KEY_USAGE_AUTHENTICATION.into(), json!(b64("true")));
        for (k, v) in extra {
            if v.is_empty() {
                data.remove(*k);
            } else {
                data.insert((*k).into(), json!(b64(v)));
            }
        }
        json!({
            "metadata": {"name": format!("{SECRET_PREFIX}{id}"), "namespace": NAMESPACE},
            "type": SECRET_TYPE,
            "data": data,
        })
    }

    #[test]
    fn token_format() {
        assert_eq!(parse_token("abcdef.0123456789abcdef"), Some(("abcdef", "0123456789abcdef")));
        for bad in ["abcdef0123456789abcdef", "abcde.0123456789abcdef", "ABCDEF.0123456789abcdef", "abcdef.0123456789abcde", "abcdef.0123456789abcdef.x"] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
        assert!(validate_group_name("system:bootstrappers:kubeadm:default-node-token").is_ok());
        for bad in ["system:bootstrappers:", "system:bootstrappers:x-", "system:nodes", "system:bootstrappers:UP"] {
            assert!(validate_group_name(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn authenticates_valid_tokens() {
        let lookup = Arc::new(MapLookup::default());
        let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let s = secret(
            "abcdef",
            "0123456789abcdef",
            &[(KEY_EXPIRATION, &future), (KEY_EXTRA_GROUPS, "system:bootstrappers:zz,system:bootstrappers:aa")],
        );
        lookup.put("", "secrets", NAMESPACE, "bootstrap-token-abcdef", s);
        let auth = BootstrapTokens::new(lookup.clone());
        let got = auth.authenticate_token("abcdef.0123456789abcdef", &[]).await.expect("ok").expect("user");
        assert_eq!(got.user.username, "system:bootstrap:abcdef");
        assert_eq!(got.user.groups, vec!["system:bootstrappers", "system:bootstrappers:aa", "system:bootstrappers:zz"]);
        // Wrong secret, unknown id, not a bootstrap token: not authenticated.
        assert_eq!(auth.authenticate_token("abcdef.0123456789abcdee", &[]).await, Ok(None));
        assert_eq!(auth.authenticate_token("zzzzzz.0123456789abcdef", &[]).await, Ok(None));
        assert_eq!(auth.authenticate_token("not-a-bootstrap-token", &[]).await, Ok(None));
        // Lookup failures are errors.
        *lookup.fail.lock().expect("lock") = Some("etcd down".into());
        assert_eq!(auth.authenticate_token("abcdef.0123456789abcdef", &[]).await, Err(AuthnError("etcd down".into())));
    }

    #[test]
    fn refusals() {
        let now = chrono::Utc::now();
        let past = (now - chrono::Duration::seconds(1)).to_rfc3339();
        let future = (now + chrono::Duration::hours(1)).to_rfc3339();
        let check = |s: &Value| BootstrapTokens::check(s, "abcdef", "0123456789abcdef", now);
        assert!(check(&secret("abcdef", "0123456789abcdef", &[(KEY_EXPIRATION, &future)])).is_ok());
        let cases: Vec<(Value, &str)> = vec![
            (secret("abcdef", "0123456789abcdef", &[(KEY_EXPIRATION, &past)]), "has expired"),
            (secret("abcdef", "0123456789abcdef", &[(KEY_EXPIRATION, "tomorrow")]), "unparseable expiration"),
            (secret("abcdef", "wrongwrongwrongw", &[]), "invalid value for key token-secret"),
            (secret("abcdeg", "0123456789abcdef", &[]), "invalid value for key token-id"),
            (secret("abcdef", "0123456789abcdef", &[(KEY_USAGE_AUTHENTICATION, "")]), "not marked usage-bootstrap-authentication=true"),
            (secret("abcdef", "0123456789abcdef", &[(KEY_USAGE_AUTHENTICATION, "false")]), "not marked"),
            (secret("abcdef", "0123456789abcdef", &[(KEY_EXTRA_GROUPS, "system:masters")]), "auth-extra-groups"),
        ];
        for (s, needle) in cases {
            let e = check(&s).expect_err(needle);
            assert!(e.contains(needle), "{needle}: {e}");
        }
        let mut s = secret("abcdef", "0123456789abcdef", &[]);
        s["type"] = json!("Opaque");
        assert!(check(&s).expect_err("type").contains("invalid type"));
        let mut s = secret("abcdef", "0123456789abcdef", &[]);
        s["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        assert!(check(&s).expect_err("deleting").contains("is deleted"));
    }
}
