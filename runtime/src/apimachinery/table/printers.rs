//! The named printer hooks (`x-kapi-printer`) of built-in kinds: cells kube-apiserver's Go printers
//! (`pkg/printers/internalversion/printers.go`) compute from several fields, re-done over JSON.
//! Every hook reads the object as decoded JSON; a missing field reads as its Go zero value.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::apimachinery::go;
use crate::apimachinery::jsonpath::{self, JsonPath};
use crate::apimachinery::quantity::Quantity;
use crate::apimachinery::resource::{KindInfo, PrinterColumn};
use crate::apimachinery::time::human_duration;

/// The printer hook names (`x-kapi-printer`) implemented here; any other name falls back to the
/// column's JSONPath.
pub const HOOKS: &[&str] = &[
    "age",
    "configmap-data-count",
    "container-images",
    "container-names",
    "count",
    "deployment-ready",
    "endpoints",
    "event-count",
    "event-first-seen",
    "event-last-seen",
    "event-object",
    "event-source",
    "label-map",
    "label-selector",
    "node-external-ip",
    "node-internal-ip",
    "node-roles",
    "node-status",
    "pod-readiness-gates",
    "pod-ready",
    "pod-restarts",
    "pod-status",
    "quota-limit",
    "quota-request",
    "role-ref",
    "service-cluster-ip",
    "service-external-ip",
    "service-ports",
    "statefulset-ready",
    "subjects-groups",
    "subjects-serviceaccounts",
    "subjects-users",
    "trim-space",
];

/// The cell of column `col` computed by hook `hook`; `None` for an unknown hook (the caller then
/// evaluates the column's JSONPath).
pub(super) fn cell(hook: &str, info: &KindInfo, col: &PrinterColumn, obj: &Value, now: DateTime<Utc>) -> Option<Value> {
    let s = |s: String| Some(Value::String(s));
    match hook {
        "age" => s(translate_since(first(obj, col.json_path), now)),
        "trim-space" => s(first(obj, col.json_path).map(text).unwrap_or_default().trim().to_string()),
        "container-names" | "container-images" => s(all(obj, col.json_path).iter().map(|v| text(v)).collect::<Vec<_>>().join(",")),
        "label-map" => s(format_labels(first(obj, col.json_path))),
        "label-selector" => s(format_label_selector(first(obj, col.json_path))),
        "count" => Some(json!(len(first(obj, col.json_path)))),
        "configmap-data-count" => Some(json!(len(obj.get("data")) + len(obj.get("binaryData")))),
        "deployment-ready" | "statefulset-ready" => {
            s(format!("{}/{}", int(obj.pointer("/status/readyReplicas")), int(obj.pointer("/spec/replicas"))))
        }
        "pod-ready" => s(PodSummary::of(obj, now).ready),
        "pod-status" => s(PodSummary::of(obj, now).reason),
        "pod-restarts" => s(PodSummary::of(obj, now).restarts),
        "pod-readiness-gates" => s(readiness_gates(obj)),
        "role-ref" => s(format!("{}/{}", str_at(obj, "/roleRef/kind"), str_at(obj, "/roleRef/name"))),
        "subjects-users" => s(subjects(obj, "User")),
        "subjects-groups" => s(subjects(obj, "Group")),
        "subjects-serviceaccounts" => s(subjects(obj, "ServiceAccount")),
        "endpoints" => s(format_endpoints(obj.get("subsets"))),
        "node-status" => s(node_status(obj)),
        "node-roles" => s(node_roles(obj)),
        "node-internal-ip" => s(node_address(obj, "InternalIP")),
        "node-external-ip" => s(node_address(obj, "ExternalIP")),
        "quota-request" => s(quota(obj, false)),
        "quota-limit" => s(quota(obj, true)),
        "service-cluster-ip" => s(service_cluster_ip(obj)),
        "service-external-ip" => s(service_external_ip(obj)),
        "service-ports" => s(service_ports(obj)),
        "event-last-seen" => s(EventView::of(info, obj, now).last_seen),
        "event-first-seen" => s(EventView::of(info, obj, now).first_seen),
        "event-count" => Some(json!(EventView::of(info, obj, now).count)),
        "event-object" => s(EventView::of(info, obj, now).target),
        "event-source" => s(EventView::of(info, obj, now).source),
        _ => None,
    }
}

/// The row `conditions` of a pod (`Completed` for a terminal phase), for kinds printed by `pod-status`.
pub(super) fn row_conditions(info: &KindInfo, obj: &Value) -> Option<Value> {
    if !info.printer_columns.iter().any(|c| c.printer == Some("pod-status")) {
        return None;
    }
    let (reason, message) = match str_at(obj, "/status/phase") {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

// ---- JSON helpers -------------------------------------------------------------------------------

fn all<'a>(obj: &'a Value, path: &str) -> Vec<&'a Value> {
    JsonPath::parse(path).map(|p| p.find(obj)).unwrap_or_default()
}

fn first<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    all(obj, path).into_iter().next()
}

/// A scalar as the Go printer would write it (`""` for null).
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => jsonpath::print_text(other),
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An integer field (`0` when missing or not a number).
fn int(v: Option<&Value>) -> i64 {
    v.and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))).unwrap_or(0)
}

/// The number of entries of a map or list (`0` otherwise).
fn len(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// A present, non-null field (a Go pointer that is set).
fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// A `metav1.Time`/`MicroTime`; `None` for missing, unparsable or Go's zero time (`IsZero`).
fn time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(v?.as_str()?).ok()?.with_timezone(&Utc);
    (t.timestamp() != GO_ZERO_UNIX).then_some(t)
}

/// Unix seconds of `0001-01-01T00:00:00Z`.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// `translateTimestampSince`: `<unknown>` for a zero time, else the age as `HumanDuration`.
fn translate_since(v: Option<&Value>, now: DateTime<Utc>) -> String {
    match time(v) {
        Some(t) => human_duration(now.signed_duration_since(t)),
        None => "<unknown>".to_string(),
    }
}

// ---- labels and selectors ------------------------------------------------------------------------

/// `labels.FormatLabels`: `k=v` pairs sorted by key, comma-separated; `<none>` when empty.
fn format_labels(map: Option<&Value>) -> String {
    let Some(m) = map.and_then(Value::as_object) else { return "<none>".to_string() };
    let mut pairs: Vec<(&String, String)> = m.iter().map(|(k, v)| (k, text(v))).collect();
    pairs.sort();
    let s = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s
    }
}

/// `metav1.FormatLabelSelector`: the selector's requirements sorted by key (`k=v`, `k in (a,b)`,
/// `k notin (a,b)`, `k`, `!k`); `<none>` when it selects nothing or everything; `<error>` when invalid.
fn format_label_selector(sel: Option<&Value>) -> String {
    let Some(sel) = present(sel) else { return "<none>".to_string() };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            reqs.push((k.clone(), format!("{k}={}", text(v))));
        }
    }
    for expr in array(sel.get("matchExpressions")) {
        let key = str_of(expr, "key");
        let mut values: Vec<String> = array(expr.get("values")).iter().map(text).collect();
        values.sort();
        let req = match (str_of(expr, "operator"), values.is_empty()) {
            ("In", false) => format!("{key} in ({})", values.join(",")),
            ("NotIn", false) => format!("{key} notin ({})", values.join(",")),
            ("Exists", true) => key.to_string(),
            ("DoesNotExist", true) => format!("!{key}"),
            _ => return "<error>".to_string(),
        };
        reqs.push((key.to_string(), req));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    let s = reqs.into_iter().map(|(_, r)| r).collect::<Vec<_>>().join(",");
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s
    }
}

// ---- pods ----------------------------------------------------------------------------------------

/// The Ready, Status and Restarts cells of a pod (`printPod`).
struct PodSummary {
    ready: String,
    reason: String,
    restarts: String,
}

/// `podutil.IsRestartableInitContainer`: an init container with `restartPolicy: Always` (a sidecar).
fn is_restartable(container: Option<&Value>) -> bool {
    container.is_some_and(|c| str_of(c, "restartPolicy") == "Always")
}

/// The later of `latest` and the `lastState.terminated.finishedAt` of a container status.
fn later_restart(latest: Option<DateTime<Utc>>, status: &Value) -> Option<DateTime<Utc>> {
    let finished = time(status.pointer("/lastState/terminated/finishedAt"));
    match (latest, finished) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn has_condition(obj: &Value, type_: &str) -> bool {
    array(obj.pointer("/status/conditions")).iter().any(|c| str_of(c, "type") == type_ && str_of(c, "status") == "True")
}

impl PodSummary {
    fn of(pod: &Value, now: DateTime<Utc>) -> PodSummary {
        let spec_containers = array(pod.pointer("/spec/containers"));
        let spec_init = array(pod.pointer("/spec/initContainers"));
        let init_statuses = array(pod.pointer("/status/initContainerStatuses"));
        let statuses = array(pod.pointer("/status/containerStatuses"));
        let conditions = array(pod.pointer("/status/conditions"));

        let mut restarts = 0i64;
        let mut restartable_restarts = 0i64;
        let mut total = spec_containers.len();
        let mut ready = 0usize;
        let mut last_restart: Option<DateTime<Utc>> = None;
        let mut last_restartable_restart: Option<DateTime<Utc>> = None;

        let phase = str_at(pod, "/status/phase");
        let mut reason = phase.to_string();
        let status_reason = str_at(pod, "/status/reason");
        if !status_reason.is_empty() {
            reason = status_reason.to_string();
        }
        if conditions.iter().any(|c| str_of(c, "type") == "PodScheduled" && str_of(c, "reason") == "SchedulingGated") {
            reason = "SchedulingGated".to_string();
        }

        let init_container = |name: &str| spec_init.iter().rev().find(|c| str_of(c, "name") == name);
        total += spec_init.iter().filter(|c| is_restartable(Some(c))).count();

        let mut initializing = false;
        for (i, c) in init_statuses.iter().enumerate() {
            restarts += int(c.get("restartCount"));
            last_restart = later_restart(last_restart, c);
            let restartable = is_restartable(init_container(str_of(c, "name")));
            if restartable {
                restartable_restarts += int(c.get("restartCount"));
                last_restartable_restart = later_restart(last_restartable_restart, c);
            }
            let terminated = present(c.pointer("/state/terminated"));
            let waiting = present(c.pointer("/state/waiting"));
            if terminated.is_some_and(|t| int(t.get("exitCode")) == 0) {
                continue;
            }
            if restartable && c.get("started").and_then(Value::as_bool) == Some(true) {
                if c.get("ready").and_then(Value::as_bool) == Some(true) {
                    ready += 1;
                }
                continue;
            }
            if let Some(t) = terminated {
                let r = str_of(t, "reason");
                reason = if !r.is_empty() {
                    format!("Init:{r}")
                } else if int(t.get("signal")) != 0 {
                    format!("Init:Signal:{}", int(t.get("signal")))
                } else {
                    format!("Init:ExitCode:{}", int(t.get("exitCode")))
                };
            } else if let Some(r) = waiting.map(|w| str_of(w, "reason")).filter(|r| !r.is_empty() && *r != "PodInitializing") {
                reason = format!("Init:{r}");
            } else {
                reason = format!("Init:{}/{}", i, spec_init.len());
            }
            initializing = true;
            break;
        }

        let initialized = conditions
            .iter()
            .find(|c| str_of(c, "type") == "Initialized")
            .is_some_and(|c| str_of(c, "status") == "True");
        if !initializing || initialized {
            restarts = restartable_restarts;
            last_restart = last_restartable_restart;
            let mut has_running = false;
            for c in statuses.iter().rev() {
                restarts += int(c.get("restartCount"));
                last_restart = later_restart(last_restart, c);
                let waiting_reason = present(c.pointer("/state/waiting")).map(|w| str_of(w, "reason"));
                let terminated = present(c.pointer("/state/terminated"));
                if let Some(r) = waiting_reason.filter(|r| !r.is_empty()) {
                    reason = r.to_string();
                } else if let Some(t) = terminated {
                    let r = str_of(t, "reason");
                    reason = if !r.is_empty() {
                        r.to_string()
                    } else if int(t.get("signal")) != 0 {
                        format!("Signal:{}", int(t.get("signal")))
                    } else {
                        format!("ExitCode:{}", int(t.get("exitCode")))
                    };
                } else if c.get("ready").and_then(Value::as_bool) == Some(true) && present(c.pointer("/state/running")).is_some() {
                    has_running = true;
                    ready += 1;
                }
            }
            if reason == "Completed" && has_running {
                reason = if has_condition(pod, "Ready") { "Running" } else { "NotReady" }.to_string();
            }
        }

        let deleting = present(pod.pointer("/metadata/deletionTimestamp")).is_some();
        if deleting && status_reason == "NodeLost" {
            reason = "Unknown".to_string();
        } else if deleting && phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating".to_string();
        }

        let restarts = match last_restart {
            Some(t) if restarts != 0 => format!("{restarts} ({} ago)", human_duration(now.signed_duration_since(t))),
            _ => restarts.to_string(),
        };
        PodSummary { ready: format!("{ready}/{total}"), reason, restarts }
    }
}

/// The Readiness Gates cell: `true/total` gate conditions, or `<none>`.
fn readiness_gates(pod: &Value) -> String {
    let gates = array(pod.pointer("/spec/readinessGates"));
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let conditions = array(pod.pointer("/status/conditions"));
    let true_count = gates
        .iter()
        .filter(|g| {
            let t = str_of(g, "conditionType");
            conditions.iter().find(|c| str_of(c, "type") == t).is_some_and(|c| str_of(c, "status") == "True")
        })
        .count();
    format!("{true_count}/{}", gates.len())
}

// ---- rbac ----------------------------------------------------------------------------------------

/// `rbac.SubjectsStrings` for one subject kind, joined with `", "` (service accounts as `ns/name`).
fn subjects(obj: &Value, kind: &str) -> String {
    array(obj.get("subjects"))
        .iter()
        .filter(|s| str_of(s, "kind") == kind)
        .map(|s| {
            if kind == "ServiceAccount" {
                format!("{}/{}", str_of(s, "namespace"), str_of(s, "name"))
            } else {
                str_of(s, "name").to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- endpoints -----------------------------------------------------------------------------------

/// `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints(endpoints, nil)`: up to three `ip:port` (or `ip` for port-less subsets), then
/// `+ N more...`; `<none>` without subsets.
fn format_endpoints(subsets: Option<&Value>) -> String {
    let subsets = array(subsets);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = array(ss.get("addresses"));
        let ports = array(ss.get("ports"));
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_of(a, "ip").to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(str_of(a, "ip"), int(port.get("port"))));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count.saturating_sub(MAX))
    } else {
        ret
    }
}

// ---- nodes ---------------------------------------------------------------------------------------

/// The Status cell of a node: `Ready`/`NotReady` (or `Unknown`), plus `SchedulingDisabled`.
fn node_status(node: &Value) -> String {
    let ready = array(node.pointer("/status/conditions")).iter().rev().find(|c| str_of(c, "type") == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_of(c, "status") == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value, sorted.
fn node_roles(node: &Value) -> String {
    let mut roles = BTreeSet::new();
    if let Some(labels) = node.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role" && !text(v).is_empty() {
                roles.insert(text(v));
            }
        }
    }
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

/// The first address of `type_`, or `<none>`.
fn node_address(node: &Value, type_: &str) -> String {
    array(node.pointer("/status/addresses"))
        .iter()
        .find(|a| str_of(a, "type") == type_)
        .map_or_else(|| "<none>".to_string(), |a| str_of(a, "address").to_string())
}

// ---- resource quotas -----------------------------------------------------------------------------

/// `Quantity.String()` of a quantity field (`0` when missing).
fn quantity_text(v: Option<&Value>) -> String {
    let raw = match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => go::format_number(n),
        _ => return "0".to_string(),
    };
    Quantity::parse(&raw).map_or(raw, |q| q.as_str().to_string())
}

/// The Request (`limit == false`) or Limit column of a quota: `name: used/hard` for each resource
/// in `status.hard`, sorted by name; `limits.*` resources go to the Limit column.
fn quota(obj: &Value, limit: bool) -> String {
    let Some(hard) = obj.pointer("/status/hard").and_then(Value::as_object) else { return String::new() };
    let mut names: Vec<&String> = hard.keys().collect();
    names.sort();
    names
        .into_iter()
        .filter(|name| {
            let mut pieces = name.split('.');
            let is_limit = pieces.next() == Some("limits") && pieces.next().is_some();
            is_limit == limit
        })
        .map(|name| {
            let used = quantity_text(obj.pointer("/status/used").and_then(|u| u.get(name.as_str())));
            format!("{name}: {used}/{}", quantity_text(hard.get(name.as_str())))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- services ------------------------------------------------------------------------------------

/// `spec.clusterIPs[0]`, else `<none>`. (`spec.clusterIP` is used when `clusterIPs` is absent,
/// which upstream's defaulting never leaves.)
fn service_cluster_ip(svc: &Value) -> String {
    let ips = array(svc.pointer("/spec/clusterIPs"));
    let ip = ips.first().map_or_else(|| str_at(svc, "/spec/clusterIP").to_string(), text);
    if ip.is_empty() {
        "<none>".to_string()
    } else {
        ip
    }
}

/// `getServiceExternalIP(svc, wide=true)`.
fn service_external_ip(svc: &Value) -> String {
    let external: Vec<String> = array(svc.pointer("/spec/externalIPs")).iter().map(text).collect();
    match str_at(svc, "/spec/type") {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb: BTreeSet<String> = array(svc.pointer("/status/loadBalancer/ingress"))
                .iter()
                .filter_map(|i| {
                    let ip = str_of(i, "ip");
                    let host = str_of(i, "hostname");
                    (!ip.is_empty()).then(|| ip.to_string()).or_else(|| (!host.is_empty()).then(|| host.to_string()))
                })
                .collect();
            let mut results: Vec<String> = lb.into_iter().collect();
            if !external.is_empty() {
                results.extend(external);
                return results.join(",");
            }
            if results.is_empty() {
                "<pending>".to_string()
            } else {
                results.join(",")
            }
        }
        "ExternalName" => str_at(svc, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// `makePortString`: `port/protocol` or `port:nodePort/protocol`, comma-separated; `<none>` if none.
fn service_ports(svc: &Value) -> String {
    let s = array(svc.pointer("/spec/ports"))
        .iter()
        .map(|p| {
            let (port, node_port, protocol) = (int(p.get("port")), int(p.get("nodePort")), str_of(p, "protocol"));
            if node_port > 0 {
                format!("{port}:{node_port}/{protocol}")
            } else {
                format!("{port}/{protocol}")
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s
    }
}

// ---- events --------------------------------------------------------------------------------------

/// The computed cells of `printEvent`, from a core/v1 Event or an events.k8s.io Event (which
/// kube-apiserver converts to the internal core Event before printing).
struct EventView {
    last_seen: String,
    first_seen: String,
    count: i64,
    target: String,
    source: String,
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

impl EventView {
    fn of(info: &KindInfo, ev: &Value, now: DateTime<Utc>) -> EventView {
        // (firstTimestamp, lastTimestamp, count, involvedObject, source, reportingController)
        let (first_ts, last_ts, count_key, object_key, source_key, controller_key) = if info.group == "events.k8s.io" {
            ("deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount", "regarding", "deprecatedSource", "reportingController")
        } else {
            ("firstTimestamp", "lastTimestamp", "count", "involvedObject", "source", "reportingComponent")
        };
        let first_seen = if time(ev.get(first_ts)).is_some() {
            translate_since(ev.get(first_ts), now)
        } else {
            translate_since(ev.get("eventTime"), now)
        };
        let mut last_seen = if time(ev.get(last_ts)).is_some() { translate_since(ev.get(last_ts), now) } else { first_seen.clone() };
        let mut count = int(ev.get(count_key));
        if let Some(series) = present(ev.get("series")) {
            last_seen = translate_since(series.get("lastObservedTime"), now);
            count = int(series.get("count"));
        } else if count == 0 {
            count = 1;
        }
        let object = ev.get(object_key).unwrap_or(&Value::Null);
        let kind = str_of(object, "kind").to_lowercase();
        let name = str_of(object, "name");
        let target = if name.is_empty() { kind } else { format!("{kind}/{name}") };
        let source = ev.get(source_key).unwrap_or(&Value::Null);
        let component = first_non_empty(str_of(source, "component"), str_of(ev, controller_key));
        let instance = first_non_empty(str_of(source, "host"), str_of(ev, "reportingInstance"));
        let source = if instance.is_empty() { component.to_string() } else { format!("{component}, {instance}") };
        EventView { last_seen, first_seen, count, target, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).single().unwrap_or_default()
    }

    fn pod(status: Value) -> Value {
        json!({"metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z"},
               "spec": {"containers": [{"name": "a"}, {"name": "b"}]}, "status": status})
    }

    fn summary(p: &Value) -> (String, String, String) {
        let s = PodSummary::of(p, now());
        (s.ready, s.reason, s.restarts)
    }

    #[test]
    fn pod_running_with_restarts() {
        let p = pod(json!({"phase": "Running", "containerStatuses": [
            {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:55:00Z"}}},
            {"name": "b", "ready": false, "restartCount": 1, "state": {"running": {}}},
        ]}));
        assert_eq!(summary(&p), ("1/2".into(), "Running".into(), "3 (5m ago)".into()));
    }

    #[test]
    fn pod_crash_loop_and_terminated() {
        let p = pod(json!({"phase": "Running", "containerStatuses": [
            {"name": "a", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            {"name": "b", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 137, "signal": 9}}},
        ]}));
        // Statuses are walked last to first: the first container's reason wins.
        assert_eq!(summary(&p).1, "CrashLoopBackOff");
        let p = pod(json!({"phase": "Running", "containerStatuses": [
            {"name": "a", "state": {"terminated": {"exitCode": 2}}},
        ]}));
        assert_eq!(summary(&p).1, "ExitCode:2");
    }

    #[test]
    fn pod_completed_but_running_sidecar_container() {
        let p = pod(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}], "containerStatuses": [
            {"name": "a", "ready": true, "state": {"running": {}}},
            {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        ]}));
        assert_eq!(summary(&p).1, "NotReady");
    }

    #[test]
    fn pod_init_containers() {
        let mut p = pod(json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
            {"name": "i2", "state": {"waiting": {"reason": "PodInitializing"}}},
        ]}));
        p["spec"]["initContainers"] = json!([{"name": "i1"}, {"name": "i2"}, {"name": "side", "restartPolicy": "Always"}]);
        assert_eq!(summary(&p), ("0/3".into(), "Init:1/3".into(), "0".into()));
        p["status"]["initContainerStatuses"][1] = json!({"name": "i2", "state": {"waiting": {"reason": "ImagePullBackOff"}}});
        assert_eq!(summary(&p).1, "Init:ImagePullBackOff");
        p["status"]["initContainerStatuses"][1] = json!({"name": "i2", "restartCount": 4, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}});
        assert_eq!(summary(&p), ("0/3".into(), "Init:Error".into(), "4".into()));
        p["status"]["initContainerStatuses"][1] = json!({"name": "i2", "state": {"terminated": {"exitCode": 3}}});
        assert_eq!(summary(&p).1, "Init:ExitCode:3");
        // A started, ready sidecar counts as ready and does not block.
        p["status"]["initContainerStatuses"] = json!([
            {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
            {"name": "i2", "state": {"terminated": {"exitCode": 0}}},
            {"name": "side", "started": true, "ready": true, "restartCount": 1, "state": {"running": {}}},
        ]);
        p["status"]["phase"] = json!("Running");
        p["status"]["containerStatuses"] = json!([{"name": "a", "ready": true, "state": {"running": {}}}]);
        assert_eq!(summary(&p), ("2/3".into(), "Running".into(), "1".into()));
    }

    #[test]
    fn pod_terminating_gated_and_node_lost() {
        let mut p = pod(json!({"phase": "Running"}));
        p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:59:00Z");
        assert_eq!(summary(&p).1, "Terminating");
        p["status"]["reason"] = json!("NodeLost");
        assert_eq!(summary(&p).1, "Unknown");
        let p = pod(json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}));
        assert_eq!(summary(&p).1, "SchedulingGated");
        let p = pod(json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(summary(&p).1, "Evicted");
    }

    #[test]
    fn selectors_and_labels() {
        assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
        assert_eq!(format_labels(Some(&json!({}))), "<none>");
        assert_eq!(format_labels(None), "<none>");
        let sel = json!({"matchLabels": {"z": "1"}, "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "x", "operator": "DoesNotExist"},
            {"key": "a", "operator": "Exists"},
        ]});
        assert_eq!(format_label_selector(Some(&sel)), "a,env in (dev,prod),!x,z=1");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_label_selector(Some(&json!({"matchExpressions": [{"key": "a", "operator": "In"}]}))), "<error>");
    }

    #[test]
    fn endpoints_format() {
        let subsets = json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]);
        assert_eq!(format_endpoints(Some(&subsets)), "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...");
        assert_eq!(format_endpoints(Some(&json!([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]))), "[fd00::1]:80");
        assert_eq!(format_endpoints(Some(&json!([]))), "<none>");
    }

    #[test]
    fn services_and_quota() {
        let svc = json!({"spec": {"type": "LoadBalancer", "clusterIPs": ["10.0.0.9"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]},
                         "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example"}, {"ip": "1.2.3.4"}]}}});
        assert_eq!(service_external_ip(&svc), "1.2.3.4,lb.example");
        assert_eq!(service_ports(&svc), "80:30080/TCP");
        assert_eq!(service_cluster_ip(&svc), "10.0.0.9");
        assert_eq!(service_external_ip(&json!({"spec": {"type": "LoadBalancer"}})), "<pending>");
        let q = json!({"status": {"hard": {"pods": "10", "limits.cpu": "2", "requests.memory": "1Gi"}, "used": {"pods": "1", "requests.memory": "512Mi"}}});
        assert_eq!(quota(&q, false), "pods: 1/10, requests.memory: 512Mi/1Gi");
        assert_eq!(quota(&q, true), "limits.cpu: 0/2");
    }

    #[test]
    fn nodes() {
        let n = json!({"metadata": {"labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker", "node-role.kubernetes.io/": "x"}},
                       "spec": {"unschedulable": true},
                       "status": {"conditions": [{"type": "Ready", "status": "False"}], "addresses": [{"type": "InternalIP", "address": "10.1.1.1"}]}});
        assert_eq!(node_status(&n), "NotReady,SchedulingDisabled");
        assert_eq!(node_roles(&n), "control-plane,worker");
        assert_eq!(node_address(&n, "InternalIP"), "10.1.1.1");
        assert_eq!(node_address(&n, "ExternalIP"), "<none>");
        assert_eq!(node_status(&json!({})), "Unknown");
    }
}
