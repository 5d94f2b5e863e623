//! Discovery documents (legacy `/api`, `/apis`, `/apis/{group}`, per group-version, and aggregated v2)
//! built from the registry table, shaped and ordered as kube-apiserver v1.36 serves them.
//!
//! Kinds of the groups kube-apiserver itself serves ([`is_builtin_group`]) are described the way the
//! generic API server describes built-in resources; kinds of any other group the way
//! apiextensions-apiserver describes CustomResourceDefinitions (CRD verb order, group priority 1000,
//! `responseKind` with group and version filled in), since that is how they appear on a real cluster.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::apimachinery::KindInfo;

/// The verbs of an ordinary built-in resource, sorted as the generic API server lists them.
pub const DEFAULT_VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// The verbs of a custom resource, in the order apiextensions-apiserver writes them.
pub const CRD_VERBS: &[&str] = &["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"];

/// Verbs of `status`-like subresources (get/patch/update of part of the object).
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];

/// Built-in resources whose storage does not implement every verb (`group`, `plural`, verbs), for
/// those whose schema does not say it (`x-kapi-verbs`, [`KindInfo::verbs`], e.g. the create-only
/// reviews). Everything else gets [`DEFAULT_VERBS`]. Taken from kube-apiserver v1.36's discovery.
const BUILTIN_VERBS: &[(&str, &str, &[&str])] = &[
    // The namespace registry has no DeleteCollection (deleting namespaces in bulk is too dangerous).
    ("", "namespaces", &["create", "delete", "get", "list", "patch", "update", "watch"]),
    ("", "componentstatuses", &["get", "list"]),
];

/// Built-in resources stored as another group's kind (`storageFactory.AddCohabitatingResources`): their
/// storage version hash is that of the stored kind.
const COHABITING: &[Cohabiting] =
    &[Cohabiting { group: "events.k8s.io", plural: "events", stored: ("", "v1", "Event") }];

/// A resource stored as another kind.
struct Cohabiting {
    group: &'static str,
    plural: &'static str,
    /// The stored (group, version, kind).
    stored: (&'static str, &'static str, &'static str),
}

/// A built-in group: its group priority and the priorities of its versions.
struct GroupPriority {
    group: &'static str,
    priority: i32,
    versions: &'static [(&'static str, i32)],
}

const fn g(group: &'static str, priority: i32, versions: &'static [(&'static str, i32)]) -> GroupPriority {
    GroupPriority { group, priority, versions }
}

/// Group priority of the groups kube-apiserver serves, with the version priorities it registers for
/// them (kube-apiserver's `apiVersionPriorities`; higher first). `resource.k8s.io`'s priorities are
/// not in the source consulted: the group is placed where the reference `/apis` shows it (between
/// `discovery.k8s.io` and `flowcontrol.apiserver.k8s.io`), its versions GA > beta > alpha. `apiregistration.k8s.io` is the
/// aggregator's own group, which it always lists first.
const BUILTIN_GROUPS: &[GroupPriority] = &[
    g("apiregistration.k8s.io", 20000, &[("v1", 15), ("v1beta1", 9)]),
    g("", 18000, &[("v1", 1)]),
    g("apps", 17800, &[("v1", 15)]),
    g("events.k8s.io", 17750, &[("v1", 15), ("v1beta1", 5)]),
    g("authentication.k8s.io", 17700, &[("v1", 15), ("v1beta1", 9), ("v1alpha1", 1)]),
    g("authorization.k8s.io", 17600, &[("v1", 15)]),
    g("autoscaling", 17500, &[("v2", 30), ("v1", 15), ("v2beta1", 9), ("v2beta2", 1)]),
    g("batch", 17400, &[("v1", 15), ("v1beta1", 9), ("v2alpha1", 9)]),
    g("certificates.k8s.io", 17300, &[("v1", 15), ("v1beta1", 9), ("v1alpha1", 1)]),
    g("networking.k8s.io", 17200, &[("v1", 15), ("v1beta1", 9), ("v1alpha1", 1)]),
    g("policy", 17100, &[("v1", 15), ("v1beta1", 9)]),
    g("rbac.authorization.k8s.io", 17000, &[("v1", 15)]),
    g("storage.k8s.io", 16800, &[("v1", 15), ("v1beta1", 9), ("v1alpha1", 1)]),
    g("apiextensions.k8s.io", 16700, &[("v1", 15)]),
    g("admissionregistration.k8s.io", 16700, &[("v1", 15), ("v1beta1", 12), ("v1alpha1", 9)]),
    g("scheduling.k8s.io", 16600, &[("v1", 15)]),
    g("coordination.k8s.io", 16500, &[("v1", 15), ("v1beta1", 13), ("v1alpha2", 12)]),
    g("node.k8s.io", 16300, &[("v1", 15), ("v1beta1", 9), ("v1alpha1", 1)]),
    g("discovery.k8s.io", 16200, &[("v1", 15), ("v1beta1", 12)]),
    g("resource.k8s.io", 16150, &[("v1", 15), ("v1beta2", 12), ("v1beta1", 9), ("v1alpha3", 9)]),
    g("flowcontrol.apiserver.k8s.io", 16100, &[("v1", 21), ("v1beta3", 18), ("v1beta2", 15), ("v1beta1", 12), ("v1alpha1", 9)]),
    g("internal.apiserver.k8s.io", 16000, &[("v1alpha1", 9)]),
    g("storagemigration.k8s.io", 15800, &[("v1beta1", 9), ("v1alpha1", 9)]),
];

/// Group priority of a CRD's group (crdregistration controller and the CRD discovery controller).
const CRD_GROUP_PRIORITY: i32 = 1000;
/// Version priority of every CRD version (ties are broken by kube-aware version order).
const CRD_VERSION_PRIORITY: i32 = 100;

/// True for the API groups kube-apiserver serves itself (`""`, `apps`, `rbac.authorization.k8s.io`, ...):
/// their kinds are described like built-in resources rather than like CRDs.
pub fn is_builtin_group(group: &str) -> bool {
    BUILTIN_GROUPS.iter().any(|g| g.group == group)
}

/// (group priority, version priority) used to order groups and versions.
fn priority(group: &str, version: &str) -> (i32, i32) {
    match BUILTIN_GROUPS.iter().find(|g| g.group == group) {
        Some(g) => (g.priority, g.versions.iter().find(|(v, _)| *v == version).map_or(0, |(_, p)| *p)),
        None => (CRD_GROUP_PRIORITY, CRD_VERSION_PRIORITY),
    }
}

/// `discovery.StorageVersionHash`: base64 of the first 8 bytes of sha256(`group/version/kind`).
pub fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    let digest = Sha256::digest(format!("{group}/{version}/{kind}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

/// A version `v<major>[(alpha|beta)<minor>]`: (stability, major, minor); GA ranks above beta above alpha.
fn parse_kube_version(v: &str) -> Option<(u8, u64, u64)> {
    let rest = v.strip_prefix('v')?;
    let digits_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (major, tail) = rest.split_at(digits_end);
    if major.is_empty() || major.starts_with('0') {
        return None;
    }
    let major: u64 = major.parse().ok()?;
    if tail.is_empty() {
        return Some((2, major, 0));
    }
    let (stability, minor) = if let Some(m) = tail.strip_prefix("alpha") {
        (0, m)
    } else if let Some(m) = tail.strip_prefix("beta") {
        (1, m)
    } else {
        return None;
    };
    if minor.is_empty() || minor.starts_with('0') || !minor.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((stability, major, minor.parse().ok()?))
}

/// `version.CompareKubeAwareVersionStrings`: `Greater` when `a` has the higher priority
/// (v10 > v2 > v1 > v11beta2 > v10beta3 > v3beta1 > v12alpha1 > v11alpha2 > foo1 > foo10).
pub fn compare_kube_aware_versions(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    match (parse_kube_version(a), parse_kube_version(b)) {
        (None, None) => b.cmp(a),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// The verbs discovery lists for a kind's main resource: the kind's own ([`KindInfo::verbs`]) when it
/// declares them, else those of an ordinary built-in resource or custom resource.
pub fn verbs(info: &KindInfo) -> &'static [&'static str] {
    if !info.verbs.is_empty() {
        return info.verbs;
    }
    if !is_builtin_group(info.group) {
        return CRD_VERBS;
    }
    BUILTIN_VERBS
        .iter()
        .find(|(g, p, _)| *g == info.group && *p == info.plural)
        .map_or(DEFAULT_VERBS, |(_, _, v)| v)
}

/// How a subresource is described: the kind it answers with and its verbs.
struct SubresourceInfo {
    group: String,
    version: String,
    kind: String,
    verbs: &'static [&'static str],
}

/// Upstream's description of the subresource `name` of `info`. Subresources upstream does not have
/// answer with the parent kind and accept `create` (extra subresources are action hooks like `binding`).
fn subresource_info(info: &KindInfo, name: &str) -> SubresourceInfo {
    let same = |verbs| SubresourceInfo {
        group: info.group.to_string(),
        version: info.version.to_string(),
        kind: info.kind.to_string(),
        verbs,
    };
    let other = |group: &str, version: &str, kind: String, verbs| SubresourceInfo {
        group: group.to_string(),
        version: version.to_string(),
        kind,
        verbs,
    };
    match name {
        "status" | "approval" | "ephemeralcontainers" | "resize" => same(GET_PATCH_UPDATE),
        "scale" => other("autoscaling", "v1", "Scale".into(), GET_PATCH_UPDATE),
        "finalize" => same(&["update"]),
        "log" => same(&["get"]),
        "binding" => other("", "v1", "Binding".into(), &["create"]),
        "eviction" => other("policy", "v1", "Eviction".into(), &["create"]),
        "token" => other("authentication.k8s.io", "v1", "TokenRequest".into(), &["create"]),
        "exec" => other("", "v1", "PodExecOptions".into(), &["create", "get"]),
        "attach" => other("", "v1", "PodAttachOptions".into(), &["create", "get"]),
        "portforward" => other("", "v1", "PodPortForwardOptions".into(), &["create", "get"]),
        "proxy" => other("", "v1", format!("{}ProxyOptions", info.kind), &["create", "delete", "get", "patch", "update"]),
        _ => same(&["create"]),
    }
}

/// The subresource names of a kind: `status`, `scale`, then the extra ones.
fn subresource_names(info: &KindInfo) -> Vec<&'static str> {
    let mut names = Vec::new();
    if info.status_subresource {
        names.push("status");
    }
    if info.scale.is_some() {
        names.push("scale");
    }
    for s in info.extra_subresources {
        if !names.contains(s) {
            names.push(s);
        }
    }
    names
}

/// The storage version hash of a kind's resource: the hash of the storage version's group/version/kind
/// (or of the kind it cohabits with); `None` if no compiled version is the storage version.
fn resource_storage_version_hash(kinds: &[&KindInfo], info: &KindInfo) -> Option<String> {
    if info.create_only() {
        // Never stored: upstream's REST for reviews provides no storage version.
        return None;
    }
    if let Some(c) = COHABITING.iter().find(|c| c.group == info.group && c.plural == info.plural) {
        let (g, v, k) = c.stored;
        return Some(storage_version_hash(g, v, k));
    }
    kinds
        .iter()
        .find(|k| k.storage && k.group == info.group && k.plural == info.plural)
        .map(|k| storage_version_hash(k.group, k.version, k.kind))
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::String((*s).to_string())).collect())
}

/// `{"groupVersion": ..., "version": ...}`.
fn group_version_for_discovery(group: &str, version: &str) -> Value {
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    json!({"groupVersion": gv, "version": version})
}

/// The served kinds, deduplicated by (group, version, plural), in registry order.
fn served<'a>(kinds: &[&'a KindInfo]) -> Vec<&'a KindInfo> {
    let mut seen = BTreeSet::new();
    kinds
        .iter()
        .copied()
        .filter(|k| k.served && seen.insert((k.group, k.version, k.plural)))
        .collect()
}

/// `/api`: `APIVersions` with the one core version and the address clients should use.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// The served versions of `group`, highest priority first (the order of `versions`; the first is the
/// preferred version).
fn group_versions(kinds: &[&KindInfo], group: &str) -> Vec<&'static str> {
    let mut versions: Vec<&'static str> = Vec::new();
    for k in served(kinds) {
        if k.group == group && !versions.contains(&k.version) {
            versions.push(k.version);
        }
    }
    versions.sort_by(|a, b| {
        let (pa, pb) = (priority(group, a).1, priority(group, b).1);
        pb.cmp(&pa).then_with(|| compare_kube_aware_versions(b, a))
    });
    versions
}

/// One `APIGroup` (without `kind`/`apiVersion`, as it appears in an `APIGroupList`).
fn api_group_entry(kinds: &[&KindInfo], group: &str) -> Option<Map<String, Value>> {
    let versions = group_versions(kinds, group);
    let preferred = versions.first()?;
    let mut m = Map::new();
    m.insert("name".into(), Value::String(group.to_string()));
    m.insert("versions".into(), Value::Array(versions.iter().map(|v| group_version_for_discovery(group, v)).collect()));
    m.insert("preferredVersion".into(), group_version_for_discovery(group, preferred));
    Some(m)
}

/// The non-core groups in the order the aggregator's `/apis` lists them: APIServices (one per
/// group-version) sorted by group priority (highest first), then by name (`version.group`); a group
/// appears where its first APIService does.
fn legacy_group_order(kinds: &[&KindInfo]) -> Vec<&'static str> {
    let mut services: Vec<(i32, String, &'static str)> = Vec::new();
    for k in served(kinds) {
        if k.group.is_empty() {
            continue;
        }
        let name = format!("{}.{}", k.version, k.group);
        if !services.iter().any(|(_, n, _)| *n == name) {
            services.push((priority(k.group, k.version).0, name, k.group));
        }
    }
    services.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut groups: Vec<&'static str> = Vec::new();
    for (_, _, g) in services {
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups
}

/// The groups in the order aggregated discovery lists them: highest group priority (the maximum over
/// the group's versions) first, ties by group name.
fn aggregated_group_order(kinds: &[&KindInfo], core: bool) -> Vec<&'static str> {
    let mut groups: Vec<(i32, &'static str)> = Vec::new();
    for k in served(kinds) {
        if k.group.is_empty() != core {
            continue;
        }
        let p = priority(k.group, k.version).0;
        match groups.iter_mut().find(|(_, g)| *g == k.group) {
            Some(entry) => entry.0 = entry.0.max(p),
            None => groups.push((p, k.group)),
        }
    }
    groups.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    groups.into_iter().map(|(_, g)| g).collect()
}

/// `/apis`: the `APIGroupList` of every non-core group with a served version.
pub fn api_group_list(kinds: &[&KindInfo]) -> Value {
    let groups: Vec<Value> = legacy_group_order(kinds)
        .into_iter()
        .filter_map(|g| api_group_entry(kinds, g).map(Value::Object))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`: the `APIGroup`, or `None` if no version of the group is served.
pub fn api_group(kinds: &[&KindInfo], group: &str) -> Option<Value> {
    if group.is_empty() {
        return None;
    }
    let entry = api_group_entry(kinds, group)?;
    let mut m = Map::new();
    m.insert("kind".into(), json!("APIGroup"));
    m.insert("apiVersion".into(), json!("v1"));
    m.extend(entry);
    Some(Value::Object(m))
}

/// One legacy `APIResource`.
struct LegacyResource {
    name: String,
    value: Value,
}

/// The legacy `APIResource` entries of one kind: the resource, then its subresources.
fn legacy_resources(kinds: &[&KindInfo], info: &KindInfo) -> Vec<LegacyResource> {
    let mut out = Vec::new();
    let mut m = Map::new();
    m.insert("name".into(), json!(info.plural));
    m.insert("singularName".into(), json!(info.singular));
    m.insert("namespaced".into(), json!(info.namespaced()));
    m.insert("kind".into(), json!(info.kind));
    m.insert("verbs".into(), strings(verbs(info)));
    if !info.short_names.is_empty() {
        m.insert("shortNames".into(), strings(info.short_names));
    }
    if !info.categories.is_empty() {
        m.insert("categories".into(), strings(info.categories));
    }
    if let Some(hash) = resource_storage_version_hash(kinds, info) {
        m.insert("storageVersionHash".into(), Value::String(hash));
    }
    out.push(LegacyResource { name: info.plural.to_string(), value: Value::Object(m) });
    for sub in subresource_names(info) {
        let s = subresource_info(info, sub);
        let name = format!("{}/{sub}", info.plural);
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("singularName".into(), json!(""));
        m.insert("namespaced".into(), json!(info.namespaced()));
        if (s.group.as_str(), s.version.as_str()) != (info.group, info.version) {
            m.insert("group".into(), json!(s.group));
            m.insert("version".into(), json!(s.version));
        }
        m.insert("kind".into(), json!(s.kind));
        m.insert("verbs".into(), strings(s.verbs));
        out.push(LegacyResource { name, value: Value::Object(m) });
    }
    out
}

/// The served kinds of one group-version, sorted by resource name.
fn kinds_of<'a>(kinds: &[&'a KindInfo], group: &str, version: &str) -> Vec<&'a KindInfo> {
    let mut v: Vec<&KindInfo> = served(kinds).into_iter().filter(|k| k.group == group && k.version == version).collect();
    v.sort_by(|a, b| a.plural.cmp(b.plural));
    v
}

/// `/api/v1` or `/apis/{group}/{version}`: the `APIResourceList`, or `None` if nothing is served there.
/// Built-in groups list resources and subresources sorted by name (as the API installer registers
/// them); other groups list each resource followed by its subresources (as the CRD discovery
/// controller does).
pub fn api_resource_list(kinds: &[&KindInfo], group: &str, version: &str) -> Option<Value> {
    let of_gv = kinds_of(kinds, group, version);
    if of_gv.is_empty() {
        return None;
    }
    let mut resources: Vec<LegacyResource> = of_gv.iter().flat_map(|k| legacy_resources(kinds, k)).collect();
    if is_builtin_group(group) {
        resources.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let mut m = Map::new();
    m.insert("kind".into(), json!("APIResourceList"));
    // The core group's list is written without apiVersion (as kube-apiserver does).
    if !group.is_empty() {
        m.insert("apiVersion".into(), json!("v1"));
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    m.insert("groupVersion".into(), json!(gv));
    m.insert("resources".into(), Value::Array(resources.into_iter().map(|r| r.value).collect()));
    Some(Value::Object(m))
}

/// `responseKind`: built-in resources leave group and version empty when they are the resource's own
/// (the conversion from legacy `APIResource`s); CRDs always fill them in.
fn response_kind(builtin: bool, info: &KindInfo, group: &str, version: &str, kind: &str) -> Value {
    if builtin && (group, version) == (info.group, info.version) {
        json!({"group": "", "version": "", "kind": kind})
    } else {
        json!({"group": group, "version": version, "kind": kind})
    }
}

/// One aggregated `APIResourceDiscovery`.
fn aggregated_resource(info: &KindInfo) -> Value {
    let builtin = is_builtin_group(info.group);
    let mut m = Map::new();
    m.insert("resource".into(), json!(info.plural));
    m.insert("responseKind".into(), response_kind(builtin, info, info.group, info.version, info.kind));
    m.insert("scope".into(), json!(if info.namespaced() { "Namespaced" } else { "Cluster" }));
    m.insert("singularResource".into(), json!(info.singular));
    m.insert("verbs".into(), strings(verbs(info)));
    if !info.short_names.is_empty() {
        m.insert("shortNames".into(), strings(info.short_names));
    }
    if !info.categories.is_empty() {
        m.insert("categories".into(), strings(info.categories));
    }
    let mut names = subresource_names(info);
    if builtin {
        names.sort_unstable();
    }
    let subs: Vec<Value> = names
        .into_iter()
        .map(|sub| {
            let s = subresource_info(info, sub);
            json!({
                "subresource": sub,
                "responseKind": response_kind(builtin, info, &s.group, &s.version, &s.kind),
                "verbs": strings(s.verbs),
            })
        })
        .collect();
    if !subs.is_empty() {
        m.insert("subresources".into(), Value::Array(subs));
    }
    Value::Object(m)
}

/// One aggregated `APIGroupDiscovery`.
fn aggregated_group(kinds: &[&KindInfo], group: &str) -> Value {
    let versions: Vec<Value> = group_versions(kinds, group)
        .into_iter()
        .map(|v| {
            let resources: Vec<Value> = kinds_of(kinds, group, v).into_iter().map(aggregated_resource).collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() { json!({}) } else { json!({"name": group}) };
    json!({"metadata": metadata, "versions": versions})
}

fn aggregated_list(kinds: &[&KindInfo], core: bool) -> Value {
    let items: Vec<Value> = aggregated_group_order(kinds, core).into_iter().map(|g| aggregated_group(kinds, g)).collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// `/api` with `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`: the
/// aggregated discovery document of the core group.
pub fn aggregated_api(kinds: &[&KindInfo]) -> Value {
    aggregated_list(kinds, true)
}

/// `/apis` with `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`: the
/// aggregated discovery document of every other group.
pub fn aggregated_apis(kinds: &[&KindInfo]) -> Value {
    aggregated_list(kinds, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apimachinery::schema::Schema;
    use crate::apimachinery::{ScaleInfo, Scope};

    const BASE: KindInfo = KindInfo {
        group: "",
        version: "v1",
        kind: "Pod",
        list_kind: "PodList",
        plural: "pods",
        singular: "pod",
        short_names: &["po"],
        categories: &["all"],
        scope: Scope::Namespaced,
        served: true,
        storage: true,
        deprecated: false,
        deprecation_warning: None,
        definition: "io.k8s.api.core.v1.Pod",
        schema: &Schema::DEFAULT,
        status_subresource: true,
        scale: None,
        extra_subresources: &["binding"],
        strategy: None,
        printer_columns: &[],
        selectable_fields: &[],
        proto_package: "k8s.io.api.core.v1",
        verbs: &[],
        conversion: crate::apimachinery::conversion::Conversion::None,
        hooks: crate::apimachinery::Hooks::NONE,
    };

    static POD: KindInfo = BASE;
    static NAMESPACE: KindInfo = KindInfo {
        kind: "Namespace",
        list_kind: "NamespaceList",
        plural: "namespaces",
        singular: "namespace",
        short_names: &["ns"],
        categories: &[],
        scope: Scope::Cluster,
        extra_subresources: &[],
        ..BASE
    };
    static DEPLOYMENT: KindInfo = KindInfo {
        group: "apps",
        kind: "Deployment",
        list_kind: "DeploymentList",
        plural: "deployments",
        singular: "deployment",
        short_names: &["deploy"],
        scale: Some(ScaleInfo { spec_replicas_path: ".spec.replicas", status_replicas_path: ".status.replicas", label_selector_path: None }),
        extra_subresources: &[],
        ..BASE
    };
    static WIDGET_V1: KindInfo = KindInfo {
        group: "example.com",
        kind: "Widget",
        list_kind: "WidgetList",
        plural: "widgets",
        singular: "widget",
        short_names: &[],
        categories: &[],
        extra_subresources: &[],
        scale: Some(ScaleInfo { spec_replicas_path: ".spec.replicas", status_replicas_path: ".status.replicas", label_selector_path: None }),
        ..BASE
    };
    static WIDGET_V2BETA1: KindInfo = KindInfo { version: "v2beta1", storage: false, ..WIDGET_V1 };
    static WIDGET_V1ALPHA1: KindInfo = KindInfo { version: "v1alpha1", storage: false, served: false, ..WIDGET_V1 };
    static GADGET: KindInfo = KindInfo {
        group: "aaa.example.com",
        kind: "Gadget",
        plural: "gadgets",
        singular: "gadget",
        status_subresource: false,
        scale: None,
        ..WIDGET_V1
    };

    static SUBJECT_ACCESS_REVIEW: KindInfo = KindInfo {
        group: "authorization.k8s.io",
        kind: "SubjectAccessReview",
        list_kind: "SubjectAccessReviewList",
        plural: "subjectaccessreviews",
        singular: "subjectaccessreview",
        short_names: &[],
        categories: &[],
        scope: Scope::Cluster,
        status_subresource: false,
        extra_subresources: &[],
        verbs: &["create"],
        ..BASE
    };
    static LOCAL_SUBJECT_ACCESS_REVIEW: KindInfo = KindInfo {
        kind: "LocalSubjectAccessReview",
        list_kind: "LocalSubjectAccessReviewList",
        plural: "localsubjectaccessreviews",
        singular: "localsubjectaccessreview",
        scope: Scope::Namespaced,
        ..SUBJECT_ACCESS_REVIEW
    };

    fn all() -> Vec<&'static KindInfo> {
        vec![&POD, &NAMESPACE, &DEPLOYMENT, &WIDGET_V1, &WIDGET_V2BETA1, &WIDGET_V1ALPHA1, &GADGET]
    }

    #[test]
    fn create_only_kinds_list_their_verbs_and_no_storage_hash() {
        let kinds: Vec<&KindInfo> = vec![&SUBJECT_ACCESS_REVIEW, &LOCAL_SUBJECT_ACCESS_REVIEW, &POD];
        assert_eq!(verbs(&SUBJECT_ACCESS_REVIEW), ["create"]);
        assert_eq!(verbs(&POD), DEFAULT_VERBS);
        assert_eq!(verbs(&NAMESPACE), ["create", "delete", "get", "list", "patch", "update", "watch"]);
        let list = api_resource_list(&kinds, "authorization.k8s.io", "v1").unwrap_or_default();
        assert_eq!(list, json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "authorization.k8s.io/v1", "resources": [
            {"name": "localsubjectaccessreviews", "singularName": "localsubjectaccessreview", "namespaced": true,
             "kind": "LocalSubjectAccessReview", "verbs": ["create"]},
            {"name": "subjectaccessreviews", "singularName": "subjectaccessreview", "namespaced": false,
             "kind": "SubjectAccessReview", "verbs": ["create"]},
        ]}));
        let apis = aggregated_apis(&kinds);
        assert_eq!(apis["items"][0]["versions"][0]["resources"][1], json!({
            "resource": "subjectaccessreviews",
            "responseKind": {"group": "", "version": "", "kind": "SubjectAccessReview"},
            "scope": "Cluster",
            "singularResource": "subjectaccessreview",
            "verbs": ["create"],
        }));
    }

    #[test]
    fn hash_matches_upstream() {
        assert_eq!(storage_version_hash("", "v1", "ConfigMap"), "qFsyl6wFWjQ=");
        assert_eq!(storage_version_hash("apps", "v1", "Deployment"), "8aSe+NMegvE=");
    }

    #[test]
    fn kube_aware_order() {
        let mut v = vec!["foo10", "v1alpha1", "v2", "v11beta2", "v1", "v10beta3", "foo1", "v12alpha1", "v10", "v3beta1", "v11alpha2"];
        v.sort_by(|a, b| compare_kube_aware_versions(b, a));
        assert_eq!(v, ["v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1", "v11alpha2", "v1alpha1", "foo1", "foo10"]);
        assert_eq!(parse_kube_version("v01"), None);
        assert_eq!(parse_kube_version("v1beta"), None);
    }

    #[test]
    fn api_versions_shape() {
        assert_eq!(
            serde_json::to_string(&api_versions("127.0.0.1:6443")).ok(),
            Some(r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:6443"}]}"#.to_string())
        );
    }

    #[test]
    fn group_list_orders_builtins_then_crds() {
        let list = api_group_list(&all());
        let names: Vec<&str> = list["groups"].as_array().into_iter().flatten().filter_map(|g| g["name"].as_str()).collect();
        // apps (17800) first; CRD groups at 1000 by APIService name: "v1.aaa.example.com" < "v1.example.com".
        assert_eq!(names, ["apps", "aaa.example.com", "example.com"]);
        let widget = &list["groups"][2];
        assert_eq!(widget["versions"], json!([
            {"groupVersion": "example.com/v1", "version": "v1"},
            {"groupVersion": "example.com/v2beta1", "version": "v2beta1"},
        ]));
        assert_eq!(widget["preferredVersion"], json!({"groupVersion": "example.com/v1", "version": "v1"}));
        assert_eq!(api_group(&all(), "example.com").map(|g| g["kind"].clone()), Some(json!("APIGroup")));
        assert_eq!(api_group(&all(), "nope.io"), None);
    }

    #[test]
    fn core_resource_list() {
        let list = api_resource_list(&all(), "", "v1").unwrap_or_default();
        let expected = json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace",
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"], "shortNames": ["ns"],
             "storageVersionHash": "Q3oi5N2YM8M="},
            {"name": "namespaces/status", "singularName": "", "namespaced": false, "kind": "Namespace", "verbs": ["get", "patch", "update"]},
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": DEFAULT_VERBS,
             "shortNames": ["po"], "categories": ["all"], "storageVersionHash": "xPOwRZ+Yhw8="},
            {"name": "pods/binding", "singularName": "", "namespaced": true, "kind": "Binding", "verbs": ["create"]},
            {"name": "pods/status", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get", "patch", "update"]},
        ]});
        assert_eq!(list, expected);
        assert_eq!(api_resource_list(&all(), "", "v2"), None);
    }

    #[test]
    fn crd_resource_list() {
        let list = api_resource_list(&all(), "example.com", "v2beta1").unwrap_or_default();
        assert_eq!(list["apiVersion"], "v1");
        let names: Vec<&str> = list["resources"].as_array().into_iter().flatten().filter_map(|r| r["name"].as_str()).collect();
        assert_eq!(names, ["widgets", "widgets/status", "widgets/scale"]);
        assert_eq!(list["resources"][0]["verbs"], strings(CRD_VERBS));
        // The storage version (v1) is hashed, whatever version is asked for.
        assert_eq!(list["resources"][0]["storageVersionHash"], json!(storage_version_hash("example.com", "v1", "Widget")));
        assert_eq!(list["resources"][2]["group"], "autoscaling");
        // v1alpha1 is not served.
        assert_eq!(api_resource_list(&all(), "example.com", "v1alpha1"), None);
    }

    #[test]
    fn aggregated_documents() {
        let core = aggregated_api(&all());
        assert_eq!(core["items"][0]["metadata"], json!({}));
        let pods = &core["items"][0]["versions"][0]["resources"][1];
        assert_eq!(pods["resource"], "pods");
        assert_eq!(pods["subresources"][0], json!({"subresource": "binding", "responseKind": {"group": "", "version": "", "kind": "Binding"}, "verbs": ["create"]}));
        let apis = aggregated_apis(&all());
        let names: Vec<&str> = apis["items"].as_array().into_iter().flatten().filter_map(|g| g["metadata"]["name"].as_str()).collect();
        assert_eq!(names, ["apps", "aaa.example.com", "example.com"]);
        let widget = &apis["items"][2]["versions"][0];
        assert_eq!(widget["version"], "v1");
        assert_eq!(widget["freshness"], "Current");
        assert_eq!(widget["resources"][0]["responseKind"], json!({"group": "example.com", "version": "v1", "kind": "Widget"}));
        assert_eq!(widget["resources"][0]["subresources"][0]["subresource"], "status");
        assert_eq!(widget["resources"][0]["subresources"][1]["responseKind"], json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}));
    }
}
