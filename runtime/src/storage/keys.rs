//! Storage key layout: kube-apiserver's etcd keys (`/registry/pods/<ns>/<name>`), so a kapi store and
//! a kube-apiserver store of the same objects hold the same keys.
//!
//! Upstream's rules (kubernetes `test/integration/etcd/data.go` pins every one of them):
//! - a built-in resource lives under `<root>/<resource>/` (the plural only, no group), e.g.
//!   `/registry/deployments/default/web`, `/registry/clusterroles/admin`;
//! - a few built-ins keep historical names: services are `services/specs`, endpoints
//!   `services/endpoints`, nodes `minions`, replicationcontrollers `controllers`, ingresses `ingress`,
//!   podsecuritypolicies `podsecuritypolicy`;
//! - resources served by the aggregator and apiextensions, and every custom resource, live under
//!   `<root>/<group>/<resource>/` (`/registry/apiextensions.k8s.io/customresourcedefinitions/...`,
//!   `/registry/stable.example.com/crontabs/default/x`);
//! - `events.k8s.io` events share `events` with core events (same objects, cohabiting).
//!
//! Namespaced objects are `<prefix><namespace>/<name>`, cluster-scoped ones `<prefix><name>`.

/// kube-apiserver's default `--etcd-prefix`.
pub const DEFAULT_ROOT: &str = "/registry";

/// Groups whose resources kube-apiserver stores under the bare resource name. Any other group (CRDs,
/// `apiextensions.k8s.io`, `apiregistration.k8s.io`) is stored under `<group>/<resource>`.
pub const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// Where one kind of object lives in the store, following upstream's layout under a root
/// (`--etcd-prefix`, default `/registry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout {
    root: String,
}

impl Default for KeyLayout {
    fn default() -> Self {
        Self::new(DEFAULT_ROOT)
    }
}

impl KeyLayout {
    /// A layout under `root` (`--etcd-prefix`); a trailing `/` is ignored, a missing leading one added.
    pub fn new(root: &str) -> Self {
        let trimmed = root.trim_end_matches('/');
        let root = if trimmed.starts_with('/') || trimmed.is_empty() {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
        };
        Self { root }
    }

    /// The root, without a trailing `/` (`/registry`).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The prefix of every object of `group`/`resource`, ending with `/`
    /// (`/registry/services/specs/`, `/registry/stable.example.com/crontabs/`).
    pub fn resource_prefix(&self, group: &str, resource: &str) -> String {
        format!("{}/{}/", self.root, resource_path(group, resource))
    }

    /// The prefix of one namespace's objects under a resource prefix, ending with `/`.
    pub fn namespace_prefix(resource_prefix: &str, namespace: &str) -> String {
        format!("{resource_prefix}{namespace}/")
    }

    /// The key of one object under a resource prefix: `<prefix><ns>/<name>` or `<prefix><name>`.
    pub fn object_key(resource_prefix: &str, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if !ns.is_empty() => format!("{resource_prefix}{ns}/{name}"),
            _ => format!("{resource_prefix}{name}"),
        }
    }
}

/// The path segment(s) of a resource below the root, upstream's `ResourcePrefix`.
pub fn resource_path(group: &str, resource: &str) -> String {
    if !BUILTIN_GROUPS.contains(&group) {
        return format!("{group}/{resource}");
    }
    let special = match (group, resource) {
        ("", "services") => "services/specs",
        ("", "endpoints") => "services/endpoints",
        ("", "nodes") => "minions",
        ("", "replicationcontrollers") => "controllers",
        ("networking.k8s.io" | "extensions", "ingresses") => "ingress",
        ("policy" | "extensions", "podsecuritypolicies") => "podsecuritypolicy",
        _ => resource,
    };
    special.to_owned()
}

/// The smallest byte string greater than every key starting with `prefix` (etcd's
/// `GetPrefixRangeEnd`): the prefix with its last byte below 0xff incremented. `None` when no such
/// string exists (empty prefix or all 0xff), meaning "to the end of the keyspace".
pub fn prefix_range_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_paths() {
        let l = KeyLayout::default();
        let cases = [
            ("", "pods", Some("ns1"), "p", "/registry/pods/ns1/p"),
            ("", "services", Some("ns1"), "s", "/registry/services/specs/ns1/s"),
            ("", "endpoints", Some("ns1"), "e", "/registry/services/endpoints/ns1/e"),
            ("", "nodes", None, "n", "/registry/minions/n"),
            ("", "namespaces", None, "ns1", "/registry/namespaces/ns1"),
            ("", "replicationcontrollers", Some("ns1"), "rc", "/registry/controllers/ns1/rc"),
            ("", "events", Some("ns1"), "ev", "/registry/events/ns1/ev"),
            ("events.k8s.io", "events", Some("ns1"), "ev", "/registry/events/ns1/ev"),
            ("apps", "deployments", Some("ns1"), "d", "/registry/deployments/ns1/d"),
            ("networking.k8s.io", "ingresses", Some("ns1"), "i", "/registry/ingress/ns1/i"),
            ("networking.k8s.io", "ingressclasses", None, "c", "/registry/ingressclasses/c"),
            ("rbac.authorization.k8s.io", "clusterroles", None, "r", "/registry/clusterroles/r"),
            ("coordination.k8s.io", "leases", Some("ns1"), "l", "/registry/leases/ns1/l"),
            (
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                None,
                "foos.cr.bar.com",
                "/registry/apiextensions.k8s.io/customresourcedefinitions/foos.cr.bar.com",
            ),
            (
                "apiregistration.k8s.io",
                "apiservices",
                None,
                "v1.foo.com",
                "/registry/apiregistration.k8s.io/apiservices/v1.foo.com",
            ),
            ("cr.bar.com", "foos", Some("ns1"), "f", "/registry/cr.bar.com/foos/ns1/f"),
            ("custom.fancy.com", "pants", None, "p", "/registry/custom.fancy.com/pants/p"),
        ];
        for (group, resource, ns, name, want) in cases {
            let prefix = l.resource_prefix(group, resource);
            assert_eq!(KeyLayout::object_key(&prefix, ns, name), want, "{group}/{resource}");
        }
    }

    #[test]
    fn custom_root() {
        let l = KeyLayout::new("kapi/");
        assert_eq!(l.root(), "/kapi");
        assert_eq!(l.resource_prefix("", "pods"), "/kapi/pods/");
        assert_eq!(KeyLayout::namespace_prefix("/kapi/pods/", "a"), "/kapi/pods/a/");
    }

    #[test]
    fn range_end() {
        assert_eq!(prefix_range_end(b"/registry/pods/"), Some(b"/registry/pods0".to_vec()));
        assert_eq!(prefix_range_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_range_end(b""), None);
        assert_eq!(prefix_range_end(b"\xff\xff"), None);
    }
}
