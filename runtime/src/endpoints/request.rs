//! Parses a request path and query into what it asks for (upstream's `RequestInfoFactory`).

use std::collections::BTreeMap;

/// What a request path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/api`.
    LegacyRoot,
    /// `/apis`.
    GroupsRoot,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    GroupVersion {
        /// Group (`""` for core).
        group: String,
        /// Version.
        version: String,
    },
    /// A resource request.
    Resource(ResourcePath),
    /// Anything else (`/version`, `/healthz`, `/openapi/...`): handled by name.
    Other,
}

/// A resource path: `/api/v1/namespaces/default/pods/web/status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcePath {
    /// Group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace, when the path names one.
    pub namespace: Option<String>,
    /// Resource (plural).
    pub resource: String,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`status`, `scale`, `binding`, ...).
    pub subresource: Option<String>,
    /// The deprecated `/watch/` path prefix was used.
    pub watch_prefix: bool,
}

/// Parses a path (without query).
pub fn parse_path(path: &str) -> Target {
    // Segments are percent-decoded (`system%3Aadmin`), as Go's URL.Path is before routing.
    let decoded: Vec<String> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).map(decode_segment).collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api"] => return Target::LegacyRoot,
        ["apis"] => return Target::GroupsRoot,
        ["apis", g] => return Target::Group((*g).to_string()),
        ["api", v] => return Target::GroupVersion { group: String::new(), version: (*v).to_string() },
        ["apis", g, v] => return Target::GroupVersion { group: (*g).to_string(), version: (*v).to_string() },
        ["api", v, rest @ ..] => ("", v, rest),
        ["apis", g, v, rest @ ..] => (g, v, rest),
        _ => return Target::Other,
    };
    let mut rp = ResourcePath { group: group.to_string(), version: version.to_string(), ..ResourcePath::default() };
    let mut rest = rest;
    if rest.first() == Some(&"watch") {
        rp.watch_prefix = true;
        rest = &rest[1..];
    }
    match rest {
        // `/namespaces/{ns}/{resource}/...` (a namespaced resource) vs `/namespaces/{name}[/{sub}]`
        // (the namespace object itself).
        ["namespaces", ns, resource, tail @ ..] if !matches!(*resource, "status" | "finalize") || !tail.is_empty() => {
            rp.namespace = Some((*ns).to_string());
            rp.resource = (*resource).to_string();
            set_name(&mut rp, tail);
        }
        [resource, tail @ ..] => {
            rp.resource = (*resource).to_string();
            set_name(&mut rp, tail);
            if tail.len() > 2 {
                return Target::Other;
            }
        }
        [] => return Target::Other,
    }
    Target::Resource(rp)
}

fn set_name(rp: &mut ResourcePath, tail: &[&str]) {
    if let Some(name) = tail.first() {
        rp.name = Some((*name).to_string());
    }
    if let Some(sub) = tail.get(1) {
        rp.subresource = Some((*sub).to_string());
    }
    if tail.len() > 2 {
        // Deeper paths (`/proxy/...`) are not served.
        rp.subresource = Some(tail[1..].join("/"));
    }
}

/// Query parameters (last value wins, as Go's `url.Values.Get` takes the first: we keep the first).
#[derive(Debug, Clone, Default)]
pub struct Query(BTreeMap<String, String>);

impl Query {
    /// Parses `a=b&c=d` with percent- and `+`-decoding.
    pub fn parse(query: Option<&str>) -> Query {
        let mut map = BTreeMap::new();
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.entry(decode(k)).or_insert_with(|| decode(v));
        }
        Query(map)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value of `key`, `None` when absent or empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// A boolean parameter (`true`, `1`; Go's strconv.ParseBool).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(Some(true)),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(Some(false)),
            Some(v) => Err(format!("strconv.ParseBool: parsing {}: invalid syntax", crate::apimachinery::go::quote(v))),
        }
    }

    /// An integer parameter.
    pub fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("strconv.ParseInt: parsing {}: invalid syntax", crate::apimachinery::go::quote(v))),
        }
    }
}

/// Percent-decoding of one path segment (`+` stays `+`).
pub fn decode_segment(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    decode(&s.replace('+', "%2B"))
}

/// Percent-decoding with `+` as space (query strings).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse_path(path) {
            Target::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path("/api"), Target::LegacyRoot);
        assert_eq!(parse_path("/apis/"), Target::GroupsRoot);
        assert_eq!(parse_path("/apis/apps"), Target::Group("apps".into()));
        assert_eq!(parse_path("/api/v1"), Target::GroupVersion { group: "".into(), version: "v1".into() });
        let r = res("/api/v1/namespaces/default/pods/web/status");
        assert_eq!(
            (r.namespace.as_deref(), r.resource.as_str(), r.name.as_deref(), r.subresource.as_deref()),
            (Some("default"), "pods", Some("web"), Some("status"))
        );
        let r = res("/api/v1/namespaces/kube-system");
        assert_eq!((r.namespace, r.resource.as_str(), r.name.as_deref()), (None, "namespaces", Some("kube-system")));
        let r = res("/api/v1/namespaces/x/finalize");
        assert_eq!((r.resource.as_str(), r.name.as_deref(), r.subresource.as_deref()), ("namespaces", Some("x"), Some("finalize")));
        let r = res("/api/v1/namespaces/x/configmaps");
        assert_eq!((r.namespace.as_deref(), r.resource.as_str(), r.name), (Some("x"), "configmaps", None));
        let r = res("/apis/apps/v1/watch/namespaces/x/deployments");
        assert!(r.watch_prefix);
        assert_eq!(r.group, "apps");
        assert_eq!(parse_path("/version"), Target::Other);
        let r = res("/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aadmin+x");
        assert_eq!(r.name.as_deref(), Some("system:admin+x"));
    }

    #[test]
    fn query() {
        let q = Query::parse(Some("labelSelector=app%3Dweb%2Ctier+in+(a)&watch=1&limit=5"));
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert_eq!(q.bool("watch"), Ok(Some(true)));
        assert_eq!(q.int("limit"), Ok(Some(5)));
        assert!(q.int("labelSelector").is_err());
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
