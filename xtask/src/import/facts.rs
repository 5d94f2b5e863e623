//! Hand-kept facts about upstream that the served reference (OpenAPI, discovery, tables) does not
//! carry: which kinds to import, printer-column cells (`kubectl get`), field selectors, scale paths.
//! Everything here is checked against the reference at import time where the reference can say
//! something (discovery subresources, table column names, JSON paths resolving in the schema).

/// One built-in kind to import.
pub(super) struct Kind {
    /// API group (`""` for the legacy core group).
    pub(super) group: &'static str,
    pub(super) version: &'static str,
    pub(super) kind: &'static str,
    /// Resource name (discovery `resource`).
    pub(super) plural: &'static str,
    /// Emit `subresources.status: {}` (discovery must list a `status` subresource).
    pub(super) status: bool,
    /// Emit `subresources.scale` (discovery must list a `scale` subresource).
    pub(super) scale: Option<Scale>,
    /// `x-kapi-subresources`: extra subresources served by named runtime hooks.
    pub(super) hooks: &'static [&'static str],
    /// `selectableFields` (JSON paths) beyond metadata.name / metadata.namespace.
    pub(super) selectable: &'static [&'static str],
    /// `x-kapi-verbs`: the only verbs served (empty: the full set). Checked against discovery.
    pub(super) verbs: &'static [&'static str],
}

/// The CRD scale subresource paths.
pub(super) struct Scale {
    pub(super) spec_replicas: &'static str,
    pub(super) status_replicas: &'static str,
    pub(super) label_selector: &'static str,
}

// Scale: upstream's Scale (autoscaling/v1) answers `status.selector` as a *string* ("app=d", see
// reference/responses/deployment-scale.http), computed from `spec.selector` (a LabelSelector for
// apps/v1, a map for ReplicationController). None of these kinds has a status field holding the
// serialized selector (checked in the reference: ReplicationControllerStatus, ReplicaSetStatus,
// DeploymentStatus, StatefulSetStatus), so `labelSelectorPath` points at `.spec.selector` and the
// runtime must serialize that object/map to selector string form (a CRD would expect a string there).
const SCALE: Option<Scale> = Some(Scale {
    spec_replicas: ".spec.replicas",
    status_replicas: ".status.replicas",
    label_selector: ".spec.selector",
});

// Field selectors: facts from kubernetes pkg/registry/*/strategy.go `ToSelectableFields` /
// `*ToSelectableFields` and the field label conversions in pkg/apis/core/v1/conversion.go and
// pkg/apis/events/v1/conversion.go (v1.36):
// - pods (pkg/registry/core/pod/strategy.go): spec.nodeName, spec.restartPolicy, spec.schedulerName,
//   spec.serviceAccountName, spec.hostNetwork, status.phase, status.podIP (= status.podIPs[0].ip),
//   status.nominatedNodeName. There is no `status.podIPs` selector upstream.
// - nodes: spec.unschedulable. namespaces: status.phase. secrets: type.
// - services (since v1.31, kubernetes PRs #122541/#123905): spec.clusterIP, spec.type.
// - replicationcontrollers, replicasets: status.replicas.
// - core events (pkg/registry/core/event/strategy.go): involvedObject.{kind,namespace,name,uid,
//   apiVersion,resourceVersion,fieldPath}, reason, reportingComponent, source, type.
//   `source` is computed (source.component, else reportingController): its label is not a JSON
//   path of the object, so a CRD selectableField cannot express it; it is left out (see report).
// - events.k8s.io/v1 events (same storage; labels converted in pkg/apis/events/v1/conversion.go):
//   regarding.{kind,namespace,name,uid,apiVersion,resourceVersion,fieldPath}, reason,
//   reportingController, type, and `source` (no such field in events.k8s.io/v1: left out).
// - everything else: only metadata.name (and metadata.namespace when namespaced).
const POD_FIELDS: &[&str] = &[
    ".spec.nodeName",
    ".spec.restartPolicy",
    ".spec.schedulerName",
    ".spec.serviceAccountName",
    ".spec.hostNetwork",
    ".status.phase",
    ".status.podIP",
    ".status.nominatedNodeName",
];
const CORE_EVENT_FIELDS: &[&str] = &[
    ".involvedObject.kind",
    ".involvedObject.namespace",
    ".involvedObject.name",
    ".involvedObject.uid",
    ".involvedObject.apiVersion",
    ".involvedObject.resourceVersion",
    ".involvedObject.fieldPath",
    ".reason",
    ".reportingComponent",
    ".type",
];
const EVENTS_V1_FIELDS: &[&str] = &[
    ".regarding.kind",
    ".regarding.namespace",
    ".regarding.name",
    ".regarding.uid",
    ".regarding.apiVersion",
    ".regarding.resourceVersion",
    ".regarding.fieldPath",
    ".reason",
    ".reportingController",
    ".type",
];

/// Field selector labels upstream accepts that no JSON path can express (reported, not written).
pub(super) const UNREPRESENTABLE_SELECTORS: &[(&str, &str, &str)] = &[
    (
        "",
        "events",
        "source (= source.component, else reportingController)",
    ),
    (
        "events.k8s.io",
        "events",
        "source (= deprecatedSource.component, else reportingController)",
    ),
];

const fn kind(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    status: bool,
    scale: Option<Scale>,
    hooks: &'static [&'static str],
    selectable: &'static [&'static str],
) -> Kind {
    Kind {
        group,
        version: "v1",
        kind,
        plural,
        status,
        scale,
        hooks,
        selectable,
        verbs: &[],
    }
}

/// A create-only, never-stored kind (`x-kapi-verbs: [create]`): the access and token reviews,
/// answered by runtime handlers (kubernetes pkg/registry/authorization/*, pkg/registry/authentication/*).
/// Upstream has no list kind, printer table or field selectors for them.
const fn review(group: &'static str, kind: &'static str, plural: &'static str) -> Kind {
    Kind {
        group,
        version: "v1",
        kind,
        plural,
        status: false,
        scale: None,
        hooks: &[],
        selectable: &[],
        verbs: &["create"],
    }
}

/// The imported kinds, in output order.
#[rustfmt::skip]
pub(super) const KINDS: &[Kind] = &[
    kind("", "Namespace", "namespaces", true, None, &[], &[".status.phase"]),
    kind("", "Pod", "pods", true, None, &["binding"], POD_FIELDS),
    kind("", "Node", "nodes", true, None, &[], &[".spec.unschedulable"]),
    kind("", "Service", "services", true, None, &[], &[".spec.clusterIP", ".spec.type"]),
    kind("", "Endpoints", "endpoints", false, None, &[], &[]),
    kind("", "ConfigMap", "configmaps", false, None, &[], &[]),
    kind("", "Secret", "secrets", false, None, &[], &[".type"]),
    kind("", "Event", "events", false, None, &[], CORE_EVENT_FIELDS),
    kind("", "ServiceAccount", "serviceaccounts", false, None, &["token"], &[]),
    kind("", "ReplicationController", "replicationcontrollers", true, SCALE, &[], &[".status.replicas"]),
    kind("", "ResourceQuota", "resourcequotas", true, None, &[], &[]),
    kind("", "LimitRange", "limitranges", false, None, &[], &[]),
    kind("apps", "ReplicaSet", "replicasets", true, SCALE, &[], &[".status.replicas"]),
    kind("apps", "Deployment", "deployments", true, SCALE, &[], &[]),
    kind("apps", "StatefulSet", "statefulsets", true, SCALE, &[], &[]),
    kind("apps", "DaemonSet", "daemonsets", true, None, &[], &[]),
    kind("coordination.k8s.io", "Lease", "leases", false, None, &[], &[]),
    kind("events.k8s.io", "Event", "events", false, None, &[], EVENTS_V1_FIELDS),
    kind("rbac.authorization.k8s.io", "Role", "roles", false, None, &[], &[]),
    kind("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", false, None, &[], &[]),
    kind("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", false, None, &[], &[]),
    kind("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", false, None, &[], &[]),
    review("authentication.k8s.io", "TokenReview", "tokenreviews"),
    review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"),
    review("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews"),
    review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
    review("authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews"),
    review("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
];

/// Printer columns: (resource as `<group-or-core>/<plural>`, column name, jsonPath, hook).
///
/// Facts from upstream's printers in kubernetes pkg/printers/internalversion/printers.go
/// (`printPod`, `printDeployment`, ... at v1.36): `jsonPath` is the field the cell is read from
/// (the best simple path; CRD-style printing only shows the first match of a `[*]` path), and a
/// hook name marks cells upstream *computes* rather than copies:
/// - `age`: translateTimestampSince(creationTimestamp) ("5m").
/// - `pod-ready`: "<ready>/<total>" over containerStatuses (+ restartable init containers).
/// - `pod-status`: the phase, overridden by status.reason, SchedulingGated, init/container
///   waiting/terminated reasons, "Terminating", "Unknown" (node unreachable).
/// - `pod-restarts`: sum of restartCounts, plus " (<age> ago)" of the last termination.
/// - `pod-readiness-gates`: "<true>/<total>" of spec.readinessGates, "<none>" when none.
/// - `deployment-ready` / `statefulset-ready`: "<status.readyReplicas>/<spec.replicas>".
/// - `container-names` / `container-images`: the template's containers joined with ",".
/// - `label-map`: labels.FormatLabels of a map ("a=b,c=d", "<none>" when empty).
/// - `label-selector`: metav1.FormatLabelSelector of a LabelSelector ("<none>" when empty).
/// - `service-cluster-ip`: spec.clusterIPs[0], "<none>" when empty.
/// - `service-external-ip`: by spec.type: externalIPs / load-balancer ingress IPs or hostnames
///   / "<pending>" / spec.externalName / "<none>".
/// - `service-ports`: "<port>[:<nodePort>]/<protocol>" joined with ",", "<none>" when empty.
/// - `endpoints`: formatEndpoints(subsets): "ip:port,..." (at most 3, then " + N more..."),
///   "<none>" when empty.
/// - `node-status`: "Ready" / "NotReady" / "Unknown" from the Ready condition, plus
///   ",SchedulingDisabled" when spec.unschedulable.
/// - `node-roles`: from node-role.kubernetes.io/<role> and kubernetes.io/role labels.
/// - `node-internal-ip` / `node-external-ip`: first status.addresses entry of that type.
/// - `count`: number of entries of the map at jsonPath (Secret data).
/// - `configmap-data-count`: len(data) + len(binaryData).
/// - `quota-request` / `quota-limit`: "<res>: <used>/<hard>, ..." over status.hard, split by the
///   "requests."/"limits." prefixes (unprefixed cpu/memory count as requests).
/// - `role-ref`: "<roleRef.kind>/<roleRef.name>".
/// - `subjects-users` / `subjects-groups` / `subjects-serviceaccounts`: rbac.SubjectsStrings,
///   joined with ", " (service accounts as "<namespace>/<name>").
/// - `event-last-seen`: age of lastTimestamp, else of firstTimestamp/eventTime, or of
///   series.lastObservedTime when series is set.
/// - `event-first-seen`: age of firstTimestamp, else of eventTime.
/// - `event-object`: "<lowercase kind>/<name>" of the involved (regarding) object.
/// - `event-source`: "<component>, <host>" from source (deprecatedSource), falling back to
///   reportingController / reportingInstance.
/// - `event-count`: series.count, else count, else 1.
/// - `trim-space`: strings.TrimSpace (event message / note).
///
/// Plain cells upstream also differ from a CRD's in one way: empty strings print as "<none>" or
/// "<unknown>" for some columns (Pod IP/Node/Nominated Node, Node OS-Image/Kernel/Runtime), and
/// absent integers as 0; kubectl renders a missing CRD cell as "<none>" as well.
#[rustfmt::skip]
pub(super) const COLUMNS: &[(&str, &str, &str, Option<&str>)] = &[
    // core/v1
    ("core/pods", "Ready", ".status.containerStatuses[*].ready", Some("pod-ready")),
    ("core/pods", "Status", ".status.phase", Some("pod-status")),
    ("core/pods", "Restarts", ".status.containerStatuses[*].restartCount", Some("pod-restarts")),
    ("core/pods", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/pods", "IP", ".status.podIP", None),
    ("core/pods", "Node", ".spec.nodeName", None),
    ("core/pods", "Nominated Node", ".status.nominatedNodeName", None),
    ("core/pods", "Readiness Gates", ".spec.readinessGates[*].conditionType", Some("pod-readiness-gates")),
    ("core/namespaces", "Status", ".status.phase", None),
    ("core/namespaces", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/nodes", "Status", ".status.conditions", Some("node-status")),
    ("core/nodes", "Roles", ".metadata.labels", Some("node-roles")),
    ("core/nodes", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/nodes", "Version", ".status.nodeInfo.kubeletVersion", None),
    ("core/nodes", "Internal-IP", ".status.addresses", Some("node-internal-ip")),
    ("core/nodes", "External-IP", ".status.addresses", Some("node-external-ip")),
    ("core/nodes", "OS-Image", ".status.nodeInfo.osImage", None),
    ("core/nodes", "Kernel-Version", ".status.nodeInfo.kernelVersion", None),
    ("core/nodes", "Container-Runtime", ".status.nodeInfo.containerRuntimeVersion", None),
    ("core/services", "Type", ".spec.type", None),
    ("core/services", "Cluster-IP", ".spec.clusterIP", Some("service-cluster-ip")),
    ("core/services", "External-IP", ".spec.externalIPs", Some("service-external-ip")),
    ("core/services", "Port(s)", ".spec.ports", Some("service-ports")),
    ("core/services", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/services", "Selector", ".spec.selector", Some("label-map")),
    ("core/endpoints", "Endpoints", ".subsets", Some("endpoints")),
    ("core/endpoints", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/configmaps", "Data", ".data", Some("configmap-data-count")),
    ("core/configmaps", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/secrets", "Type", ".type", None),
    ("core/secrets", "Data", ".data", Some("count")),
    ("core/secrets", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/events", "Last Seen", ".lastTimestamp", Some("event-last-seen")),
    ("core/events", "Type", ".type", None),
    ("core/events", "Reason", ".reason", None),
    ("core/events", "Object", ".involvedObject.name", Some("event-object")),
    ("core/events", "Subobject", ".involvedObject.fieldPath", None),
    ("core/events", "Source", ".source.component", Some("event-source")),
    ("core/events", "Message", ".message", Some("trim-space")),
    ("core/events", "First Seen", ".firstTimestamp", Some("event-first-seen")),
    ("core/events", "Count", ".count", Some("event-count")),
    ("core/events", "Name", ".metadata.name", None),
    ("core/serviceaccounts", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/replicationcontrollers", "Desired", ".spec.replicas", None),
    ("core/replicationcontrollers", "Current", ".status.replicas", None),
    ("core/replicationcontrollers", "Ready", ".status.readyReplicas", None),
    ("core/replicationcontrollers", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/replicationcontrollers", "Containers", ".spec.template.spec.containers[*].name", Some("container-names")),
    ("core/replicationcontrollers", "Images", ".spec.template.spec.containers[*].image", Some("container-images")),
    ("core/replicationcontrollers", "Selector", ".spec.selector", Some("label-map")),
    ("core/resourcequotas", "Request", ".status.hard", Some("quota-request")),
    ("core/resourcequotas", "Limit", ".status.hard", Some("quota-limit")),
    ("core/resourcequotas", "Age", ".metadata.creationTimestamp", Some("age")),
    ("core/limitranges", "Created At", ".metadata.creationTimestamp", None),
    // apps/v1
    ("apps/replicasets", "Desired", ".spec.replicas", None),
    ("apps/replicasets", "Current", ".status.replicas", None),
    ("apps/replicasets", "Ready", ".status.readyReplicas", None),
    ("apps/replicasets", "Age", ".metadata.creationTimestamp", Some("age")),
    ("apps/replicasets", "Containers", ".spec.template.spec.containers[*].name", Some("container-names")),
    ("apps/replicasets", "Images", ".spec.template.spec.containers[*].image", Some("container-images")),
    ("apps/replicasets", "Selector", ".spec.selector", Some("label-selector")),
    ("apps/deployments", "Ready", ".status.readyReplicas", Some("deployment-ready")),
    ("apps/deployments", "Up-to-date", ".status.updatedReplicas", None),
    ("apps/deployments", "Available", ".status.availableReplicas", None),
    ("apps/deployments", "Age", ".metadata.creationTimestamp", Some("age")),
    ("apps/deployments", "Containers", ".spec.template.spec.containers[*].name", Some("container-names")),
    ("apps/deployments", "Images", ".spec.template.spec.containers[*].image", Some("container-images")),
    ("apps/deployments", "Selector", ".spec.selector", Some("label-selector")),
    ("apps/statefulsets", "Ready", ".status.readyReplicas", Some("statefulset-ready")),
    ("apps/statefulsets", "Age", ".metadata.creationTimestamp", Some("age")),
    ("apps/statefulsets", "Containers", ".spec.template.spec.containers[*].name", Some("container-names")),
    ("apps/statefulsets", "Images", ".spec.template.spec.containers[*].image", Some("container-images")),
    ("apps/daemonsets", "Desired", ".status.desiredNumberScheduled", None),
    ("apps/daemonsets", "Current", ".status.currentNumberScheduled", None),
    ("apps/daemonsets", "Ready", ".status.numberReady", None),
    ("apps/daemonsets", "Up-to-date", ".status.updatedNumberScheduled", None),
    ("apps/daemonsets", "Available", ".status.numberAvailable", None),
    ("apps/daemonsets", "Node Selector", ".spec.template.spec.nodeSelector", Some("label-map")),
    ("apps/daemonsets", "Age", ".metadata.creationTimestamp", Some("age")),
    ("apps/daemonsets", "Containers", ".spec.template.spec.containers[*].name", Some("container-names")),
    ("apps/daemonsets", "Images", ".spec.template.spec.containers[*].image", Some("container-images")),
    ("apps/daemonsets", "Selector", ".spec.selector", Some("label-selector")),
    // coordination.k8s.io/v1
    ("coordination.k8s.io/leases", "Holder", ".spec.holderIdentity", None),
    ("coordination.k8s.io/leases", "Age", ".metadata.creationTimestamp", Some("age")),
    // events.k8s.io/v1: upstream prints these through the core Event printer (same storage), so
    // the cells are the core ones read from the events.k8s.io field names.
    ("events.k8s.io/events", "Last Seen", ".deprecatedLastTimestamp", Some("event-last-seen")),
    ("events.k8s.io/events", "Type", ".type", None),
    ("events.k8s.io/events", "Reason", ".reason", None),
    ("events.k8s.io/events", "Object", ".regarding.name", Some("event-object")),
    ("events.k8s.io/events", "Subobject", ".regarding.fieldPath", None),
    ("events.k8s.io/events", "Source", ".reportingController", Some("event-source")),
    ("events.k8s.io/events", "Message", ".note", Some("trim-space")),
    ("events.k8s.io/events", "First Seen", ".deprecatedFirstTimestamp", Some("event-first-seen")),
    ("events.k8s.io/events", "Count", ".deprecatedCount", Some("event-count")),
    ("events.k8s.io/events", "Name", ".metadata.name", None),
    // rbac.authorization.k8s.io/v1
    ("rbac.authorization.k8s.io/roles", "Created At", ".metadata.creationTimestamp", None),
    ("rbac.authorization.k8s.io/clusterroles", "Created At", ".metadata.creationTimestamp", None),
    ("rbac.authorization.k8s.io/rolebindings", "Role", ".roleRef.name", Some("role-ref")),
    ("rbac.authorization.k8s.io/rolebindings", "Age", ".metadata.creationTimestamp", Some("age")),
    ("rbac.authorization.k8s.io/rolebindings", "Users", ".subjects[*].name", Some("subjects-users")),
    ("rbac.authorization.k8s.io/rolebindings", "Groups", ".subjects[*].name", Some("subjects-groups")),
    ("rbac.authorization.k8s.io/rolebindings", "ServiceAccounts", ".subjects[*].name", Some("subjects-serviceaccounts")),
    ("rbac.authorization.k8s.io/clusterrolebindings", "Role", ".roleRef.name", Some("role-ref")),
    ("rbac.authorization.k8s.io/clusterrolebindings", "Age", ".metadata.creationTimestamp", Some("age")),
    ("rbac.authorization.k8s.io/clusterrolebindings", "Users", ".subjects[*].name", Some("subjects-users")),
    ("rbac.authorization.k8s.io/clusterrolebindings", "Groups", ".subjects[*].name", Some("subjects-groups")),
    ("rbac.authorization.k8s.io/clusterrolebindings", "ServiceAccounts", ".subjects[*].name", Some("subjects-serviceaccounts")),
];

/// The printer column fact for one reference table column.
pub(super) fn column(resource: &str, name: &str) -> Option<(&'static str, Option<&'static str>)> {
    COLUMNS
        .iter()
        .find(|(r, c, _, _)| *r == resource && *c == name)
        .map(|(_, _, path, hook)| (*path, *hook))
}
