//! Tables built for the compiled kinds (`apiserver::KINDS`) against the `as=Table` responses of a real
//! kube-apiserver v1.36 (`tests/reference/tables/`, fetched with `includeObject=None`). The reference
//! does not carry its objects, so each test rebuilds them as that server stored them (defaulted
//! fields included, creation times `age` before a fixed `now`) and requires the whole Table (column
//! definitions, cells with their JSON types, row objects) to equal the reference.

use std::path::Path;

use kapi_runtime::apimachinery::table::{build_table, column_definitions, IncludeObject, PRINTER_HOOKS};
use kapi_runtime::apimachinery::{KindInfo, Time};
use serde_json::{json, Value};

/// The fixed "now" of every table: 2026-11-25T12:56:26Z.
const NOW_SECONDS_OF_DAY: i64 = 12 * 3600 + 56 * 60 + 26;

fn now() -> Time {
    ago(0).parse().unwrap_or_default()
}

/// `now - seconds` (less than a day) as a `metav1.Time`.
fn ago(seconds: i64) -> String {
    let t = NOW_SECONDS_OF_DAY - seconds;
    format!("2026-11-25T{:02}:{:02}:{:02}Z", t / 3600, t / 60 % 60, t % 60)
}

fn meta(name: &str, namespace: Option<&str>, age: i64) -> Value {
    let mut m = json!({"name": name, "uid": format!("uid-{name}"), "resourceVersion": "100", "creationTimestamp": ago(age)});
    if let Some(ns) = namespace {
        m["namespace"] = json!(ns);
    }
    m
}

fn info(group: &str, plural: &str) -> &'static KindInfo {
    apiserver::KINDS
        .iter()
        .copied()
        .find(|k| k.group == group && k.plural == plural && k.served)
        .unwrap_or_else(|| panic!("{group}/{plural} is not compiled"))
}

fn reference(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/tables").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Builds the table of `objects` and compares it with the reference file (column by column and row by
/// row first, for readable failures, then as a whole).
fn check(file: &str, group: &str, plural: &str, objects: &[Value]) {
    let info = info(group, plural);
    let theirs = reference(file);
    let cols = column_definitions(info);
    let their_cols = theirs["columnDefinitions"].as_array().cloned().unwrap_or_default();
    assert_eq!(cols.len(), their_cols.len(), "{file}: number of columns");
    for (o, t) in cols.iter().zip(&their_cols) {
        assert_eq!(o, t, "{file}: column {}", t["name"]);
    }
    let refs: Vec<&Value> = objects.iter().collect();
    let ours = build_table(info, &refs, IncludeObject::None, json!({}), now().0);
    let their_rows = theirs["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(objects.len(), their_rows.len(), "{file}: number of rows");
    for (i, t) in their_rows.iter().enumerate() {
        let o = &ours["rows"][i];
        let names: Vec<&Value> = their_cols.iter().map(|c| &c["name"]).collect();
        let cells = o["cells"].as_array().cloned().unwrap_or_default();
        let their_cells = t["cells"].as_array().cloned().unwrap_or_default();
        for (j, (oc, tc)) in cells.iter().zip(&their_cells).enumerate() {
            assert_eq!(oc, tc, "{file}: row {i} column {}", names.get(j).map_or(json!(j), |n| (*n).clone()));
        }
        assert_eq!(o, t, "{file}: row {i}");
    }
    assert_eq!(ours, theirs, "{file}: table");
}

fn containers() -> Value {
    json!([{"name": "c", "image": "nginx", "resources": {}, "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}])
}

fn template(app: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}}, "spec": {"containers": containers(), "restartPolicy": "Always",
           "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "securityContext": {}, "schedulerName": "default-scheduler"}})
}

#[test]
fn daemonsets() {
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("tbl-ds", Some("default"), 1),
        "spec": {"selector": {"matchLabels": {"app": "ds"}}, "template": template("ds"),
                 "updateStrategy": {"type": "RollingUpdate"}, "revisionHistoryLimit": 10},
        "status": {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}});
    check("apps__daemonsets.json", "apps", "daemonsets", &[ds]);
}

#[test]
fn deployments() {
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("tbl-deploy", Some("default"), 1),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}}, "template": template("d"),
                 "strategy": {"type": "RollingUpdate"}, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {}});
    check("apps__deployments.json", "apps", "deployments", &[d]);
}

#[test]
fn replicasets() {
    let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("tbl-rs", Some("default"), 1),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rs"}}, "template": template("rs")},
        "status": {"replicas": 0}});
    check("apps__replicasets.json", "apps", "replicasets", &[rs]);
}

#[test]
fn statefulsets() {
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("tbl-sts", Some("default"), 1),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "sts"}}, "template": template("sts"), "serviceName": "",
                 "podManagementPolicy": "OrderedReady"},
        "status": {"replicas": 0, "availableReplicas": 0}});
    check("apps__statefulsets.json", "apps", "statefulsets", &[sts]);
}

#[test]
fn leases() {
    let l = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta("tbl-lease", Some("default"), 2),
        "spec": {"holderIdentity": "me"}});
    check("coordination.k8s.io__leases.json", "coordination.k8s.io", "leases", &[l]);
}

#[test]
fn configmaps() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("tbl-cm", Some("default"), 0), "data": {"k": "v"}});
    check("core__configmaps.json", "", "configmaps", &[cm]);
}

#[test]
fn endpoints() {
    let ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("tbl-ep", Some("default"), 3)});
    check("core__endpoints.json", "", "endpoints", &[ep]);
}

#[test]
fn core_events() {
    let readyz = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": meta("openshift-kube-apiserver.18eb4b0198af6cba", Some("openshift-kube-apiserver"), 41),
        "involvedObject": {"kind": "Namespace", "namespace": "openshift-kube-apiserver", "name": "openshift-kube-apiserver"},
        "reason": "KubeAPIReadyz", "message": "readyz=true", "source": {"component": "apiserver", "host": "vm"},
        "firstTimestamp": ago(41), "lastTimestamp": ago(41), "count": 1, "type": "Warning", "eventTime": null,
        "reportingComponent": "", "reportingInstance": ""});
    let test = json!({"apiVersion": "v1", "kind": "Event", "metadata": meta("tbl-ev", Some("default"), 1),
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "tbl-pod"},
        "reason": "Test", "message": "hello", "source": {}, "firstTimestamp": null, "lastTimestamp": null,
        "type": "Normal", "eventTime": null, "reportingComponent": "", "reportingInstance": ""});
    check("core__events.json", "", "events", &[readyz, test]);
}

#[test]
fn events_k8s_io_events() {
    let readyz = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": meta("openshift-kube-apiserver.18eb4b0198af6cba", Some("openshift-kube-apiserver"), 41),
        "eventTime": null, "reportingController": "", "reportingInstance": "", "reason": "KubeAPIReadyz",
        "regarding": {"kind": "Namespace", "namespace": "openshift-kube-apiserver", "name": "openshift-kube-apiserver"},
        "note": "readyz=true", "type": "Warning", "deprecatedSource": {"component": "apiserver", "host": "vm"},
        "deprecatedFirstTimestamp": ago(41), "deprecatedLastTimestamp": ago(41), "deprecatedCount": 1});
    let test = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": meta("tbl-ev", Some("default"), 1),
        "eventTime": null, "reportingController": "", "reportingInstance": "", "reason": "Test",
        "regarding": {"kind": "Pod", "namespace": "default", "name": "tbl-pod"}, "note": "hello", "type": "Normal",
        "deprecatedSource": {}});
    check("events.k8s.io__events.json", "events.k8s.io", "events", &[readyz, test]);
}

#[test]
fn limitranges() {
    let mut m = meta("tbl-lr", Some("default"), 1);
    m["creationTimestamp"] = json!("2026-11-25T12:56:25Z");
    let lr = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": m,
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}});
    check("core__limitranges.json", "", "limitranges", &[lr]);
}

#[test]
fn namespaces() {
    let ns = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, None, 40),
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    };
    check("core__namespaces.json", "", "namespaces", &[ns("default"), ns("kube-node-lease"), ns("kube-public")]);
}

#[test]
fn nodes() {
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": meta("tbl-node", None, 0), "spec": {},
        "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
                   "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "", "osImage": "",
                                "containerRuntimeVersion": "", "kubeletVersion": "", "kubeProxyVersion": "",
                                "operatingSystem": "", "architecture": ""}}});
    check("core__nodes.json", "", "nodes", &[node]);
}

#[test]
fn pods() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("tbl-pod", Some("default"), 1),
        "spec": {"containers": containers(), "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                 "dnsPolicy": "ClusterFirst", "serviceAccountName": "default", "securityContext": {},
                 "schedulerName": "default-scheduler", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"},
        "status": {"phase": "Pending", "qosClass": "BestEffort"}});
    check("core__pods.json", "", "pods", &[pod]);
}

#[test]
fn replicationcontrollers() {
    let rc = json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": meta("tbl-rc", Some("default"), 1),
        "spec": {"replicas": 1, "selector": {"app": "rc"}, "template": template("rc")},
        "status": {"replicas": 0}});
    check("core__replicationcontrollers.json", "", "replicationcontrollers", &[rc]);
}

#[test]
fn resourcequotas() {
    let q = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("tbl-quota", Some("default"), 2),
        "spec": {"hard": {"pods": "10"}}, "status": {}});
    check("core__resourcequotas.json", "", "resourcequotas", &[q]);
}

#[test]
fn secrets() {
    let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta("tbl-secret", Some("default"), 1),
        "data": {"k": "dg=="}, "type": "Opaque"});
    check("core__secrets.json", "", "secrets", &[s]);
}

#[test]
fn serviceaccounts() {
    let sa = |name: &str, age| json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name, Some("default"), age)});
    check("core__serviceaccounts.json", "", "serviceaccounts", &[sa("default", 40), sa("tbl-sa", 1)]);
}

#[test]
fn services() {
    let kubernetes = json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("kubernetes", Some("default"), 40),
        "spec": {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
                 "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP", "sessionAffinity": "None",
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}});
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("tbl-svc", Some("default"), 1),
        "spec": {"ports": [{"protocol": "TCP", "port": 80, "targetPort": 80}], "selector": {"app": "x"},
                 "clusterIP": "10.96.32.35", "clusterIPs": ["10.96.32.35"], "type": "ClusterIP", "sessionAffinity": "None",
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}});
    check("core__services.json", "", "services", &[kubernetes, svc]);
}

fn binding(kind: &str, name: &str, namespace: Option<&str>, age: i64, role_kind: &str, role: &str, subjects: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta(name, namespace, age),
           "subjects": subjects, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}})
}

#[test]
fn clusterrolebindings() {
    let g = |name: &str| json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}]);
    let rows = [
        binding("ClusterRoleBinding", "cluster-admin", None, 41, "ClusterRole", "cluster-admin", g("system:masters")),
        binding("ClusterRoleBinding", "system:basic-user", None, 41, "ClusterRole", "system:basic-user", g("system:authenticated")),
        binding(
            "ClusterRoleBinding",
            "system:controller:attachdetach-controller",
            None,
            41,
            "ClusterRole",
            "system:controller:attachdetach-controller",
            json!([{"kind": "ServiceAccount", "name": "attachdetach-controller", "namespace": "kube-system"}]),
        ),
    ];
    check("rbac.authorization.k8s.io__clusterrolebindings.json", "rbac.authorization.k8s.io", "clusterrolebindings", &rows);
}

#[test]
fn rolebindings() {
    let rb = binding(
        "RoleBinding",
        "tbl-rb",
        Some("default"),
        2,
        "Role",
        "tbl-role",
        json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]),
    );
    check("rbac.authorization.k8s.io__rolebindings.json", "rbac.authorization.k8s.io", "rolebindings", &[rb]);
}

fn role(kind: &str, name: &str, namespace: Option<&str>, created: &str) -> Value {
    let mut m = meta(name, namespace, 0);
    m["creationTimestamp"] = json!(created);
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": m,
           "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]})
}

#[test]
fn clusterroles() {
    let rows: Vec<Value> =
        ["admin", "cluster-admin", "edit"].iter().map(|n| role("ClusterRole", n, None, "2026-11-25T12:55:46Z")).collect();
    check("rbac.authorization.k8s.io__clusterroles.json", "rbac.authorization.k8s.io", "clusterroles", &rows);
}

#[test]
fn roles() {
    let r = role("Role", "tbl-role", Some("default"), "2026-11-25T12:56:25Z");
    check("rbac.authorization.k8s.io__roles.json", "rbac.authorization.k8s.io", "roles", &[r]);
}

#[test]
fn every_schema_hook_is_implemented() {
    let mut unknown = Vec::new();
    for k in apiserver::KINDS {
        for c in k.printer_columns {
            if let Some(hook) = c.printer {
                if !PRINTER_HOOKS.contains(&hook) {
                    unknown.push(format!("{}/{} {}: {hook}", k.group, k.plural, c.name));
                }
            }
        }
    }
    assert!(unknown.is_empty(), "printer hooks without an implementation: {unknown:?}");
}

#[test]
fn every_kind_builds_a_table() {
    // Each compiled kind (custom ones included) yields one cell per column for an empty object.
    for k in apiserver::KINDS {
        let obj = json!({"metadata": {"name": "x"}});
        let t = build_table(k, &[&obj], IncludeObject::Metadata, json!({}), now().0);
        let cols = t["columnDefinitions"].as_array().map_or(0, Vec::len);
        let cells = t["rows"][0]["cells"].as_array().map_or(0, Vec::len);
        assert_eq!(cols, cells, "{}/{}", k.group, k.plural);
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    }
}
