//! The Node authorizer (`--authorization-mode=Node`, upstream's
//! `plugin/pkg/auth/authorizer/node`): kubelets (`system:node:<name>` in `system:nodes`) may read
//! the secrets, configmaps, volumes and service-account tokens of pods bound to their node, their
//! own Node and Lease, and whatever the static node rules allow.
//!
//! Upstream keeps a graph of pods, volumes and nodes; here the relationships are computed on demand
//! from the registry's pods (the watch cache first; a consistent read before saying no, so a pod
//! just bound is seen). The field-selector rules of AuthorizeNodeWithSelectors (GA in 1.34) apply: pod list/watch only with
//! `spec.nodeName=<node>`; a node list or watch only with the node's own name (a `metadata.name`
//! field selector), as upstream.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::rbac::rule::{rules_allow, PolicyRule};
use super::Authorizer;
use crate::auth::{names, Attributes, Verdict};
use crate::cacher::{Keys, ListRequest, ResourceVersion};
use crate::registry::Registry;

/// What the Node authorizer reads: pods bound to a node and single objects.
#[async_trait]
pub trait NodeGraph: Send + Sync {
    /// Pods whose `spec.nodeName` is `node` (in `namespace`, or everywhere); `consistent` asks for
    /// the latest state rather than the cache's.
    async fn pods_on(&self, node: &str, namespace: Option<&str>, consistent: bool) -> Vec<Value>;
    /// One object (`group`/`resource`, namespace "" when cluster-scoped).
    async fn get(&self, group: &str, resource: &str, namespace: &str, name: &str) -> Option<Value>;
}

/// [`NodeGraph`] over the registry.
pub struct RegistryGraph(pub Arc<Registry>);

#[async_trait]
impl NodeGraph for RegistryGraph {
    async fn pods_on(&self, node: &str, namespace: Option<&str>, consistent: bool) -> Vec<Value> {
        let Some(store) = self.0.store("", "v1", "pods") else { return Vec::new() };
        let keys = match namespace {
            Some(ns) => Keys::Prefix(store.namespace_prefix(Some(ns))),
            None => Keys::All,
        };
        let resource_version = if consistent { ResourceVersion::Unset } else { ResourceVersion::NotOlderThan(0) };
        let Ok(listed) = store.list_watch().list(ListRequest { keys, resource_version, ..ListRequest::default() }).await
        else {
            return Vec::new();
        };
        listed
            .items
            .iter()
            .filter_map(|o| serde_json::from_slice::<Value>(&o.bytes).ok())
            .filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node))
            .collect()
    }

    async fn get(&self, group: &str, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        self.0.get_json(group, resource, (!namespace.is_empty()).then_some(namespace), name).await.ok()
    }
}

/// The static rules of `system:node` (upstream's bootstrappolicy `NodeRules()`).
pub fn node_rules() -> Vec<PolicyRule> {
    let r = PolicyRule::resource;
    let read = ["get", "list", "watch"];
    vec![
        r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
        r(&["create"], &["authorization.k8s.io"], &["subjectaccessreviews", "localsubjectaccessreviews"]),
        r(&read, &[""], &["services"]),
        r(&["create", "get", "list", "watch"], &[""], &["nodes"]),
        r(&["update", "patch"], &[""], &["nodes/status"]),
        r(&["update", "patch"], &[""], &["nodes"]),
        r(&["create", "update", "patch"], &["", "events.k8s.io"], &["events"]),
        r(&read, &[""], &["pods"]),
        r(&["create", "delete"], &[""], &["pods"]),
        r(&["update", "patch"], &[""], &["pods/status"]),
        r(&["create"], &[""], &["pods/eviction"]),
        r(&read, &[""], &["secrets", "configmaps"]),
        r(&["get"], &[""], &["persistentvolumeclaims", "persistentvolumes"]),
        r(&["get"], &[""], &["endpoints"]),
        r(&["create", "get", "list", "watch"], &["certificates.k8s.io"], &["certificatesigningrequests"]),
        r(&["get", "create", "update", "patch", "delete"], &["coordination.k8s.io"], &["leases"]),
        r(&["get"], &["storage.k8s.io"], &["volumeattachments"]),
        r(&["create"], &[""], &["serviceaccounts/token"]),
        r(&["get", "update", "patch"], &[""], &["persistentvolumeclaims/status"]),
        r(&["get", "watch", "list"], &["storage.k8s.io"], &["csidrivers"]),
        r(&["get", "create", "update", "patch", "delete"], &["storage.k8s.io"], &["csinodes"]),
        r(&read, &["node.k8s.io"], &["runtimeclasses"]),
        r(&["get"], &["resource.k8s.io"], &["resourceclaims"]),
        r(&read, &["resource.k8s.io"], &["resourceslices"]),
        r(&["deletecollection"], &["resource.k8s.io"], &["resourceslices"]),
    ]
}

/// What a request asks the graph about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vertex {
    Pod,
    Secret,
    ConfigMap,
    Pvc,
    Pv,
    ServiceAccount,
    VolumeAttachment,
}

/// The Node authorizer.
pub struct NodeAuthorizer {
    graph: Arc<dyn NodeGraph>,
    rules: Vec<PolicyRule>,
}

impl NodeAuthorizer {
    /// Over the registry's objects.
    pub fn new(registry: Arc<Registry>) -> NodeAuthorizer {
        NodeAuthorizer::with_graph(Arc::new(RegistryGraph(registry)))
    }

    /// Over any graph (tests).
    pub fn with_graph(graph: Arc<dyn NodeGraph>) -> NodeAuthorizer {
        NodeAuthorizer { graph, rules: node_rules() }
    }

    fn static_rules(&self, a: &Attributes) -> Verdict {
        if rules_allow(a, &self.rules) {
            Verdict::allow("")
        } else {
            Verdict::no_opinion("")
        }
    }

    async fn related(&self, node: &str, vertex: Vertex, a: &Attributes) -> Verdict {
        if a.name.is_empty() {
            return Verdict::no_opinion("No Object name found");
        }
        for consistent in [false, true] {
            if self.has_path(node, vertex, &a.namespace, &a.name, consistent).await {
                return Verdict::allow("");
            }
        }
        Verdict::no_opinion(format!("no relationship found between node '{node}' and this object"))
    }

    async fn has_path(&self, node: &str, vertex: Vertex, namespace: &str, name: &str, consistent: bool) -> bool {
        let scope = (!namespace.is_empty()).then_some(namespace);
        match vertex {
            Vertex::VolumeAttachment => self
                .graph
                .get("storage.k8s.io", "volumeattachments", "", name)
                .await
                .is_some_and(|va| va.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node)),
            Vertex::Pv => {
                for pod in self.graph.pods_on(node, None, consistent).await {
                    let ns = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_string();
                    for claim in references(&pod, Vertex::Pvc) {
                        let pvc = self.graph.get("", "persistentvolumeclaims", &ns, &claim).await;
                        if pvc.as_ref().and_then(|p| p.pointer("/spec/volumeName")).and_then(Value::as_str) == Some(name) {
                            return true;
                        }
                    }
                }
                false
            }
            _ => self.graph.pods_on(node, scope, consistent).await.iter().any(|pod| references(pod, vertex).iter().any(|n| n == name)),
        }
    }
}

/// The names of objects of `vertex`'s type a pod refers to (its own name for `Pod`).
fn references(pod: &Value, vertex: Vertex) -> Vec<String> {
    let mut out = Vec::new();
    let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    let arr = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_array).cloned().unwrap_or_default();
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    match vertex {
        Vertex::Pod => out.extend(text(pod, "/metadata/name")),
        Vertex::ServiceAccount => {
            out.push(text(&spec, "/serviceAccountName").filter(|s| !s.is_empty()).unwrap_or_else(|| "default".into()));
        }
        Vertex::Pvc => {
            let pod_name = text(pod, "/metadata/name").unwrap_or_default();
            for v in arr(&spec, "/volumes") {
                out.extend(text(&v, "/persistentVolumeClaim/claimName"));
                if v.get("ephemeral").is_some() {
                    out.push(format!("{pod_name}-{}", text(&v, "/name").unwrap_or_default()));
                }
            }
        }
        Vertex::Secret | Vertex::ConfigMap => {
            let secret = vertex == Vertex::Secret;
            if secret {
                out.extend(arr(&spec, "/imagePullSecrets").iter().filter_map(|s| text(s, "/name")));
            }
            for v in arr(&spec, "/volumes") {
                if secret {
                    out.extend(text(&v, "/secret/secretName"));
                    // Volume sources naming a secret: cephfs, rbd, csi, flexVolume, iscsi, ...
                    if let Some(sources) = v.as_object() {
                        for source in sources.values() {
                            out.extend(text(source, "/secretRef/name"));
                            out.extend(text(source, "/nodePublishSecretRef/name"));
                            out.extend(text(source, "/secretName").filter(|_| source.get("shareName").is_some()));
                        }
                    }
                } else {
                    out.extend(text(&v, "/configMap/name"));
                }
                for s in arr(&v, "/projected/sources") {
                    out.extend(text(&s, if secret { "/secret/name" } else { "/configMap/name" }));
                }
            }
            for list in ["/containers", "/initContainers", "/ephemeralContainers"] {
                for c in arr(&spec, list) {
                    for e in arr(&c, "/envFrom") {
                        out.extend(text(&e, if secret { "/secretRef/name" } else { "/configMapRef/name" }));
                    }
                    for e in arr(&c, "/env") {
                        out.extend(text(&e, if secret { "/valueFrom/secretKeyRef/name" } else { "/valueFrom/configMapKeyRef/name" }));
                    }
                }
            }
        }
        Vertex::Pv | Vertex::VolumeAttachment => {}
    }
    out
}

/// `system:node:<name>` in `system:nodes`: the node's name.
pub fn node_identity(user: &crate::auth::UserInfo) -> Option<&str> {
    let name = user.username.strip_prefix(names::NODE_USER_PREFIX)?;
    user.in_group(names::NODES_GROUP).then_some(name)
}

#[async_trait]
impl Authorizer for NodeAuthorizer {
    /// Upstream: nodes' permissions are not enumerated (incomplete); other users have none here.
    async fn rules_for(&self, user: &crate::auth::UserInfo, _namespace: &str) -> crate::auth::RulesInfo {
        if node_identity(user).is_some() {
            crate::auth::RulesInfo {
                incomplete: true,
                evaluation_error: "node authorizer does not support user rule resolution".into(),
                ..crate::auth::RulesInfo::default()
            }
        } else {
            crate::auth::RulesInfo::default()
        }
    }

    async fn authorize(&self, a: &Attributes) -> Verdict {
        let Some(node) = node_identity(&a.user) else { return Verdict::no_opinion("") };
        if node.is_empty() {
            return Verdict::no_opinion(format!("unknown node for user {:?}", a.user.username));
        }
        if !a.resource_request {
            return self.static_rules(a);
        }
        let verb = a.verb.as_str();
        let sub = a.subresource.as_str();
        match (a.api_group.as_str(), a.resource.as_str()) {
            ("", "secrets") | ("", "configmaps") => {
                if !matches!(verb, "get" | "list" | "watch") {
                    return Verdict::no_opinion("can only read resources of this type");
                }
                if !sub.is_empty() {
                    return Verdict::no_opinion("cannot read subresource");
                }
                if a.namespace.is_empty() {
                    return Verdict::no_opinion("can only read namespaced object of this type");
                }
                let vertex = if a.resource == "secrets" { Vertex::Secret } else { Vertex::ConfigMap };
                self.related(node, vertex, a).await
            }
            ("", "persistentvolumeclaims") if sub == "status" => {
                if !matches!(verb, "update" | "patch") {
                    return Verdict::no_opinion("can only get/update/patch this type");
                }
                self.related(node, Vertex::Pvc, a).await
            }
            ("", "persistentvolumeclaims") | ("", "persistentvolumes") | ("storage.k8s.io", "volumeattachments") => {
                if verb != "get" {
                    return Verdict::no_opinion("can only get individual resources of this type");
                }
                if !sub.is_empty() {
                    return Verdict::no_opinion("cannot get subresource");
                }
                let vertex = match a.resource.as_str() {
                    "persistentvolumeclaims" => Vertex::Pvc,
                    "persistentvolumes" => Vertex::Pv,
                    _ => Vertex::VolumeAttachment,
                };
                self.related(node, vertex, a).await
            }
            ("", "serviceaccounts") => {
                if verb != "create" || a.name.is_empty() {
                    return Verdict::no_opinion("can only create tokens for individual service accounts");
                }
                if sub != "token" {
                    return Verdict::no_opinion("can only create token subresource of serviceaccount");
                }
                self.related(node, Vertex::ServiceAccount, a).await
            }
            ("coordination.k8s.io", "leases") => {
                if !matches!(verb, "get" | "create" | "update" | "patch" | "delete") {
                    return Verdict::no_opinion("can only get, create, update, patch, or delete a node lease");
                }
                if a.namespace != "kube-node-lease" {
                    return Verdict::no_opinion("can only access leases in the \"kube-node-lease\" system namespace");
                }
                if verb != "create" && a.name != node {
                    return Verdict::no_opinion("can only access node lease with the same name as the requesting node");
                }
                Verdict::allow("")
            }
            ("storage.k8s.io", "csinodes") => {
                if !matches!(verb, "get" | "create" | "update" | "patch" | "delete") {
                    return Verdict::no_opinion("can only get, create, update, patch, or delete a CSINode");
                }
                if !sub.is_empty() {
                    return Verdict::no_opinion("cannot authorize CSINode subresources");
                }
                if verb != "create" && a.name != node {
                    return Verdict::no_opinion("can only access CSINode with the same name as the requesting node");
                }
                Verdict::allow("")
            }
            ("", "nodes") => match (sub, verb) {
                ("", "create" | "update" | "patch") | ("status", "update" | "patch") => Verdict::allow(""),
                ("", "get" | "list" | "watch") => {
                    if a.name == node {
                        Verdict::allow("")
                    } else if a.name.is_empty() {
                        Verdict::no_opinion(format!("node '{node}' cannot read all nodes, only its own Node object"))
                    } else {
                        Verdict::no_opinion(format!("node '{node}' cannot read '{}', only its own Node object", a.name))
                    }
                }
                _ => self.static_rules(a),
            },
            ("", "pods") if verb == "get" && sub.is_empty() => self.related(node, Vertex::Pod, a).await,
            // AuthorizeNodeWithSelectors (GA in 1.34): a node lists and watches only the pods
            // bound to it, through a `spec.nodeName=<node>` field selector.
            ("", "pods") if matches!(verb, "list" | "watch") && sub.is_empty() => {
                if a.field_selector_requires("spec.nodeName", node) {
                    Verdict::allow("")
                } else {
                    Verdict::no_opinion("can only list/watch pods with spec.nodeName field selector")
                }
            }
            _ => self.static_rules(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Decision, UserInfo};
    use serde_json::json;

    struct Fake {
        pods: Vec<Value>,
        objects: Vec<(&'static str, &'static str, Value)>,
    }

    #[async_trait]
    impl NodeGraph for Fake {
        async fn pods_on(&self, node: &str, namespace: Option<&str>, _consistent: bool) -> Vec<Value> {
            self.pods
                .iter()
                .filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node))
                .filter(|p| namespace.is_none_or(|ns| p.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)))
                .cloned()
                .collect()
        }
        async fn get(&self, _group: &str, resource: &str, namespace: &str, name: &str) -> Option<Value> {
            self.objects
                .iter()
                .find(|(r, ns, o)| *r == resource && *ns == namespace && o.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
                .map(|(_, _, o)| o.clone())
        }
    }

    fn authorizer() -> NodeAuthorizer {
        let pod = json!({"metadata":{"name":"web","namespace":"ns"},"spec":{"nodeName":"n1","serviceAccountName":"sa",
            "imagePullSecrets":[{"name":"pull"}],
            "volumes":[{"name":"v1","secret":{"secretName":"vol-secret"}},{"name":"v2","configMap":{"name":"vol-cm"}},
                {"name":"v3","projected":{"sources":[{"secret":{"name":"proj-secret"}},{"configMap":{"name":"proj-cm"}}]}},
                {"name":"v4","persistentVolumeClaim":{"claimName":"data"}}],
            "containers":[{"name":"c","envFrom":[{"secretRef":{"name":"env-secret"}}],
                "env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"env-cm","key":"k"}}}]}]}});
        let other = json!({"metadata":{"name":"db","namespace":"ns"},"spec":{"nodeName":"n2","volumes":[{"name":"s","secret":{"secretName":"db-secret"}}]}});
        let pvc = json!({"metadata":{"name":"data","namespace":"ns"},"spec":{"volumeName":"pv-1"}});
        NodeAuthorizer::with_graph(Arc::new(Fake { pods: vec![pod, other], objects: vec![("persistentvolumeclaims", "ns", pvc)] }))
    }

    fn node(name: &str) -> UserInfo {
        UserInfo::new(format!("system:node:{name}"), &["system:nodes", "system:authenticated"])
    }

    fn req(user: UserInfo, verb: &str, group: &str, resource: &str, sub: &str, ns: &str, name: &str) -> Attributes {
        Attributes {
            user,
            verb: verb.into(),
            resource_request: true,
            namespace: ns.into(),
            api_group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            ..Attributes::default()
        }
    }

    #[tokio::test]
    async fn graph_decisions() {
        let a = authorizer();
        let get = |resource: &str, name: &str| req(node("n1"), "get", "", resource, "", "ns", name);
        for (resource, name) in [
            ("secrets", "vol-secret"),
            ("secrets", "proj-secret"),
            ("secrets", "env-secret"),
            ("secrets", "pull"),
            ("configmaps", "vol-cm"),
            ("configmaps", "proj-cm"),
            ("configmaps", "env-cm"),
            ("persistentvolumeclaims", "data"),
            ("pods", "web"),
        ] {
            assert_eq!(a.authorize(&get(resource, name)).await.decision, Decision::Allow, "{resource}/{name}");
        }
        let v = a.authorize(&get("secrets", "db-secret")).await;
        assert_eq!(v, Verdict::no_opinion("no relationship found between node 'n1' and this object"));
        assert_eq!(a.authorize(&get("pods", "db")).await.decision, Decision::NoOpinion);
        let pv = req(node("n1"), "get", "", "persistentvolumes", "", "", "pv-1");
        assert_eq!(a.authorize(&pv).await.decision, Decision::Allow);
        let pv = req(node("n2"), "get", "", "persistentvolumes", "", "", "pv-1");
        assert_eq!(a.authorize(&pv).await.decision, Decision::NoOpinion);
        let list = req(node("n1"), "list", "", "secrets", "", "ns", "");
        assert_eq!(a.authorize(&list).await, Verdict::no_opinion("No Object name found"));
        let write = req(node("n1"), "update", "", "secrets", "", "ns", "vol-secret");
        assert_eq!(a.authorize(&write).await, Verdict::no_opinion("can only read resources of this type"));
        let token = req(node("n1"), "create", "", "serviceaccounts", "token", "ns", "sa");
        assert_eq!(a.authorize(&token).await.decision, Decision::Allow);
        let token = req(node("n1"), "create", "", "serviceaccounts", "token", "ns", "default");
        assert_eq!(a.authorize(&token).await.decision, Decision::NoOpinion);
    }

    #[tokio::test]
    async fn nodes_leases_and_static_rules() {
        let a = authorizer();
        let n = |verb: &str, sub: &str, name: &str| req(node("n1"), verb, "", "nodes", sub, "", name);
        assert_eq!(a.authorize(&n("get", "", "n1")).await.decision, Decision::Allow);
        assert_eq!(a.authorize(&n("create", "", "")).await.decision, Decision::Allow);
        assert_eq!(a.authorize(&n("patch", "status", "n1")).await.decision, Decision::Allow);
        assert_eq!(
            a.authorize(&n("get", "", "n2")).await,
            Verdict::no_opinion("node 'n1' cannot read 'n2', only its own Node object")
        );
        assert_eq!(a.authorize(&n("list", "", "")).await.decision, Decision::NoOpinion);
        assert_eq!(a.authorize(&n("delete", "", "n1")).await.decision, Decision::NoOpinion);
        let lease = |verb: &str, ns: &str, name: &str| req(node("n1"), verb, "coordination.k8s.io", "leases", "", ns, name);
        assert_eq!(a.authorize(&lease("update", "kube-node-lease", "n1")).await.decision, Decision::Allow);
        assert_eq!(a.authorize(&lease("update", "kube-node-lease", "n2")).await.decision, Decision::NoOpinion);
        assert_eq!(a.authorize(&lease("get", "default", "n1")).await.decision, Decision::NoOpinion);
        assert_eq!(a.authorize(&req(node("n1"), "list", "", "services", "", "", "")).await.decision, Decision::Allow);
        assert_eq!(a.authorize(&req(node("n1"), "delete", "", "services", "", "ns", "x")).await.decision, Decision::NoOpinion);
        // Pods: list and watch only those bound to the node, through its field selector.
        let pods = |verb: &str, selector: &str| Attributes { field_selector: selector.into(), ..req(node("n1"), verb, "", "pods", "", "", "") };
        assert_eq!(a.authorize(&pods("list", "spec.nodeName=n1")).await.decision, Decision::Allow);
        assert_eq!(a.authorize(&pods("watch", "status.phase!=Failed,spec.nodeName==n1")).await.decision, Decision::Allow);
        assert_eq!(
            a.authorize(&pods("list", "")).await,
            Verdict::no_opinion("can only list/watch pods with spec.nodeName field selector")
        );
        assert_eq!(a.authorize(&pods("watch", "spec.nodeName=n2")).await.decision, Decision::NoOpinion);
        assert_eq!(a.authorize(&pods("watch", "spec.nodeName!=n1")).await.decision, Decision::NoOpinion);
        assert_eq!(a.authorize(&req(node("n1"), "create", "", "pods", "", "ns", "")).await.decision, Decision::Allow);
        // Not a node: no opinion at all.
        let user = req(UserInfo::new("system:node:n1", &[]), "get", "", "nodes", "", "", "n1");
        assert_eq!(a.authorize(&user).await, Verdict::no_opinion(""));
    }
}
