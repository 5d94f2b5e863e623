//! The discovery documents built from the compiled kinds (`apiserver::KINDS`) against the ones a real
//! kube-apiserver v1.36 serves (`tests/reference/discovery/`), restricted to the resources kapi
//! compiles: every entry present in both must be byte-identical (same keys in the same order: names,
//! verbs, shortNames, categories, namespaced, kind, singularName, storageVersionHash, group/version of
//! subresources), entries must come in upstream's order, and the only reference entries kapi lacks
//! are the subresources listed in `NOT_SERVED`.

use std::collections::BTreeSet;
use std::path::Path;

use kapi_runtime::apimachinery::KindInfo;
use kapi_runtime::endpoints::discovery;
use serde_json::Value;

/// Subresources of compiled kinds that kube-apiserver serves and kapi does not (streaming, proxy,
/// eviction and finalize handlers).
const NOT_SERVED: &[&str] = &[
    "namespaces/finalize",
    "nodes/proxy",
    "pods/attach",
    "pods/ephemeralcontainers",
    "pods/eviction",
    "pods/exec",
    "pods/log",
    "pods/portforward",
    "pods/proxy",
    "pods/resize",
    "services/proxy",
];

fn kinds() -> Vec<&'static KindInfo> {
    apiserver::KINDS.to_vec()
}

fn reference(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/discovery").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compact JSON text (keys in document order), so equality includes key order.
fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

#[test]
fn api_versions() {
    assert_eq!(text(&discovery::api_versions("127.0.0.1:6443")), text(&reference("api.json")));
}

/// Checks one legacy `APIResourceList` and returns the reference's subresources kapi lacks.
fn check_resource_list(file: &str, group: &str, version: &str, missing: &mut BTreeSet<String>) {
    let kinds = kinds();
    let theirs = reference(file);
    let ours = discovery::api_resource_list(&kinds, group, version).unwrap_or_else(|| panic!("{file}: no resource list"));
    // Same envelope (kind, apiVersion presence, groupVersion) in the same key order.
    let envelope = |v: &Value| -> Vec<(String, String)> {
        v.as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "resources")
            .map(|(k, v)| (k.clone(), text(v)))
            .collect()
    };
    assert_eq!(envelope(&ours), envelope(&theirs), "{file}: envelope");
    let compiled: BTreeSet<&str> = kinds.iter().filter(|k| k.group == group && k.version == version).map(|k| k.plural).collect();
    let ours_by_name: Vec<(&str, &Value)> = items(&ours, "resources").iter().map(|r| (str_of(r, "name"), r)).collect();
    let theirs_relevant: Vec<&Value> = items(&theirs, "resources")
        .iter()
        .filter(|r| compiled.contains(str_of(r, "name").split('/').next().unwrap_or("")))
        .collect();
    for t in &theirs_relevant {
        let name = str_of(t, "name");
        match ours_by_name.iter().find(|(n, _)| *n == name) {
            Some((_, o)) => assert_eq!(text(o), text(t), "{file}: resource {name}"),
            None => {
                missing.insert(name.to_string());
            }
        }
    }
    let extra: Vec<&str> =
        ours_by_name.iter().map(|(n, _)| *n).filter(|n| !theirs_relevant.iter().any(|t| str_of(t, "name") == *n)).collect();
    assert!(extra.is_empty(), "{file}: resources upstream does not have: {extra:?}");
    let order_theirs: Vec<&str> = theirs_relevant.iter().map(|t| str_of(t, "name")).filter(|n| !missing.contains(*n)).collect();
    let order_ours: Vec<&str> = ours_by_name.iter().map(|(n, _)| *n).collect();
    assert_eq!(order_ours, order_theirs, "{file}: order");
}

#[test]
fn resource_lists() {
    let mut missing = BTreeSet::new();
    check_resource_list("api__v1.json", "", "v1", &mut missing);
    check_resource_list("apis__apps__v1.json", "apps", "v1", &mut missing);
    check_resource_list("apis__coordination.k8s.io__v1.json", "coordination.k8s.io", "v1", &mut missing);
    check_resource_list("apis__events.k8s.io__v1.json", "events.k8s.io", "v1", &mut missing);
    check_resource_list("apis__rbac.authorization.k8s.io__v1.json", "rbac.authorization.k8s.io", "v1", &mut missing);
    let expected: BTreeSet<String> = NOT_SERVED.iter().map(|s| s.to_string()).collect();
    assert_eq!(missing, expected, "subresources upstream serves that kapi lacks");
}

#[test]
fn group_list() {
    let kinds = kinds();
    let ours = discovery::api_group_list(&kinds);
    let theirs = reference("apis.json");
    assert_eq!(str_of(&ours, "kind"), "APIGroupList");
    assert_eq!(str_of(&ours, "apiVersion"), "v1");
    let reference_groups: Vec<&Value> = items(&theirs, "groups").iter().collect();
    let mut positions = Vec::new();
    for g in items(&ours, "groups") {
        let name = str_of(g, "name");
        let Some(pos) = reference_groups.iter().position(|t| str_of(t, "name") == name) else {
            // Groups upstream does not serve (CRD-style groups) come after every built-in group.
            assert!(!discovery::is_builtin_group(name), "built-in group {name} missing from the reference");
            continue;
        };
        assert_eq!(text(g), text(reference_groups[pos]), "group {name}");
        positions.push(pos);
    }
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "built-in groups out of upstream order: {positions:?}");
    assert!(!positions.is_empty());
    // Every built-in group kapi compiles is listed, each through its own /apis/{group} document too.
    for g in items(&ours, "groups") {
        let name = str_of(g, "name");
        let group = discovery::api_group(&kinds, name).unwrap_or_default();
        assert_eq!(str_of(&group, "kind"), "APIGroup");
        assert_eq!(group["versions"], g["versions"]);
    }
}

/// Compares an aggregated document restricted to the compiled resources.
fn check_aggregated(file: &str, ours: &Value) {
    let theirs = reference(file);
    for key in ["kind", "apiVersion", "metadata"] {
        assert_eq!(ours.get(key), theirs.get(key), "{file}: {key}");
    }
    let name = |g: &Value| g.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    let reference_groups = items(&theirs, "items");
    let mut positions = Vec::new();
    for g in items(ours, "items") {
        let group = name(g);
        let Some(pos) = reference_groups.iter().position(|t| name(t) == group) else {
            assert!(!discovery::is_builtin_group(&group), "{file}: built-in group {group} missing from the reference");
            continue;
        };
        positions.push(pos);
        let t = &reference_groups[pos];
        assert_eq!(text(&g["metadata"]), text(&t["metadata"]), "{file}: {group} metadata");
        for v in items(g, "versions") {
            let version = str_of(v, "version");
            let tv = items(t, "versions").iter().find(|tv| str_of(tv, "version") == version);
            let Some(tv) = tv else { panic!("{file}: {group}/{version} missing from the reference") };
            assert_eq!(v.get("freshness"), tv.get("freshness"));
            let mut last = None;
            for r in items(v, "resources") {
                let resource = str_of(r, "resource");
                let idx = items(tv, "resources").iter().position(|tr| str_of(tr, "resource") == resource);
                let Some(idx) = idx else { panic!("{file}: {group}/{version} {resource} missing from the reference") };
                assert!(last < Some(idx), "{file}: {resource} out of order");
                last = Some(idx);
                let mut tr = items(tv, "resources")[idx].clone();
                // Keep only the subresources kapi serves; the others must be the known ones.
                if let Some(subs) = tr.get_mut("subresources").and_then(Value::as_array_mut) {
                    let ours_subs: Vec<&str> = items(r, "subresources").iter().map(|s| str_of(s, "subresource")).collect();
                    subs.retain(|s| {
                        let sub = str_of(s, "subresource");
                        let keep = ours_subs.contains(&sub);
                        if !keep {
                            let full = format!("{resource}/{sub}");
                            assert!(NOT_SERVED.contains(&full.as_str()), "{file}: kapi lacks {full}");
                        }
                        keep
                    });
                    if subs.is_empty() {
                        tr.as_object_mut().map(|m| m.shift_remove("subresources"));
                    }
                }
                assert_eq!(text(r), text(&tr), "{file}: {group}/{version} {resource}");
            }
        }
    }
    assert!(!positions.is_empty(), "{file}: no group compared");
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{file}: groups out of upstream order: {positions:?}");
}

#[test]
fn aggregated_api() {
    check_aggregated("aggregated-api.json", &discovery::aggregated_api(&kinds()));
}

#[test]
fn aggregated_apis() {
    check_aggregated("aggregated-apis.json", &discovery::aggregated_apis(&kinds()));
}

#[test]
fn every_served_kind_is_discoverable() {
    let kinds = kinds();
    for k in kinds.iter().filter(|k| k.served) {
        let list = discovery::api_resource_list(&kinds, k.group, k.version).unwrap_or_default();
        assert!(
            items(&list, "resources").iter().any(|r| str_of(r, "name") == k.plural),
            "{}/{} {} not listed",
            k.group,
            k.version,
            k.plural
        );
    }
}

/// The create-only groups (the reviews, `x-kapi-verbs: [create]`) have no legacy per-group-version
/// document in the reference: their `APIResourceList`s must say what the reference's aggregated
/// document says of them (names, scope, kind, verbs), list every resource upstream serves there, and
/// carry no storage version hash (never stored).
#[test]
fn create_only_groups_legacy_lists_agree_with_aggregated_reference() {
    let kinds = kinds();
    let aggregated = reference("aggregated-apis.json");
    for group in ["authentication.k8s.io", "authorization.k8s.io"] {
        let theirs_group = items(&aggregated, "items")
            .iter()
            .find(|g| g.pointer("/metadata/name").and_then(Value::as_str) == Some(group))
            .unwrap_or_else(|| panic!("{group} not in the reference"));
        let theirs: Vec<&Value> = items(theirs_group, "versions")
            .iter()
            .filter(|v| str_of(v, "version") == "v1")
            .flat_map(|v| items(v, "resources"))
            .collect();
        let ours = discovery::api_resource_list(&kinds, group, "v1").unwrap_or_else(|| panic!("{group}/v1: no resource list"));
        assert_eq!(str_of(&ours, "groupVersion"), format!("{group}/v1"));
        let ours = items(&ours, "resources");
        let names = |l: &[&Value], key: &str| l.iter().map(|r| str_of(r, key).to_string()).collect::<BTreeSet<_>>();
        assert_eq!(names(&ours.iter().collect::<Vec<_>>(), "name"), names(&theirs, "resource"), "{group}: resources");
        for t in theirs {
            let name = str_of(t, "resource");
            let o = ours.iter().find(|o| str_of(o, "name") == name).unwrap_or_else(|| panic!("{group}: {name} missing"));
            let expected = serde_json::json!({
                "name": name,
                "singularName": str_of(t, "singularResource"),
                "namespaced": str_of(t, "scope") == "Namespaced",
                "kind": t.pointer("/responseKind/kind").cloned().unwrap_or_default(),
                "verbs": t["verbs"].clone(),
            });
            assert_eq!(text(o), text(&expected), "{group}: {name}");
        }
    }
}
