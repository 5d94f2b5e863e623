//! Behaviour tests of server-side apply and update tracking against upstream's observable results:
//! the FieldsV1 kube-apiserver records, its conflict messages, and ownership after each step.

use serde_json::{json, Value};

use super::*;
use crate::apimachinery::schema::{wellknown, ListType, MapType, ObjectSchema, Schema, Type};

const STRING: Schema = Schema { ty: Type::String, ..Schema::DEFAULT };
const INT: Schema = Schema { ty: Type::Integer, format: Some("int32"), ..Schema::DEFAULT };
const BOOL: Schema = Schema { ty: Type::Boolean, ..Schema::DEFAULT };
const INT_OR_STRING: Schema = Schema { ty: Type::Any, int_or_string: true, ..Schema::DEFAULT };
const STRING_MAP: Schema = Schema { ty: Type::Map(&STRING), ..Schema::DEFAULT };
const QUANTITY_MAP: Schema = Schema { ty: Type::Map(&INT_OR_STRING), ..Schema::DEFAULT };
const META: Schema = Schema { ty: Type::Object(&wellknown::OBJECT_META_OBJECT), ..Schema::DEFAULT };
const META_STRUCT: Schema = Schema { ty: Type::Object(&wellknown::OBJECT_META_OBJECT), default: Some("{}"), ..Schema::DEFAULT };

// --- A Deployment as upstream's OpenAPI describes it (trimmed). ---

static PORT_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.ContainerPort",
    properties: &[
        ("containerPort", INT),
        ("name", STRING),
        ("protocol", Schema { ty: Type::String, default: Some("\"TCP\""), ..Schema::DEFAULT }),
    ],
    required: &["containerPort"],
    ..ObjectSchema::DEFAULT
};
static PORT: Schema = Schema { ty: Type::Object(&PORT_OBJ), ..Schema::DEFAULT };
static ENV_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.EnvVar",
    properties: &[("name", STRING), ("value", STRING)],
    required: &["name"],
    ..ObjectSchema::DEFAULT
};
static ENV: Schema = Schema { ty: Type::Object(&ENV_OBJ), ..Schema::DEFAULT };
static RESOURCES_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.ResourceRequirements",
    properties: &[("limits", QUANTITY_MAP), ("requests", QUANTITY_MAP)],
    ..ObjectSchema::DEFAULT
};
static CONTAINER_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.Container",
    properties: &[
        ("args", Schema { ty: Type::Array(&STRING), ..Schema::DEFAULT }),
        (
            "env",
            Schema {
                ty: Type::Array(&ENV),
                list_type: ListType::Map(&["name"]),
                patch_strategy: Some("merge"),
                patch_merge_key: Some("name"),
                ..Schema::DEFAULT
            },
        ),
        ("image", STRING),
        ("imagePullPolicy", STRING),
        ("name", STRING),
        (
            "ports",
            Schema {
                ty: Type::Array(&PORT),
                list_type: ListType::Map(&["containerPort", "protocol"]),
                patch_strategy: Some("merge"),
                patch_merge_key: Some("containerPort"),
                ..Schema::DEFAULT
            },
        ),
        ("resources", Schema { ty: Type::Object(&RESOURCES_OBJ), default: Some("{}"), ..Schema::DEFAULT }),
        ("terminationMessagePath", STRING),
    ],
    required: &["name"],
    ..ObjectSchema::DEFAULT
};
static CONTAINER: Schema = Schema { ty: Type::Object(&CONTAINER_OBJ), ..Schema::DEFAULT };
static POD_SECURITY_OBJ: ObjectSchema =
    ObjectSchema { name: "io.k8s.api.core.v1.PodSecurityContext", properties: &[("runAsUser", INT)], ..ObjectSchema::DEFAULT };
static POD_SPEC_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.PodSpec",
    properties: &[
        (
            "containers",
            Schema {
                ty: Type::Array(&CONTAINER),
                list_type: ListType::Map(&["name"]),
                patch_strategy: Some("merge"),
                patch_merge_key: Some("name"),
                ..Schema::DEFAULT
            },
        ),
        ("dnsPolicy", STRING),
        ("restartPolicy", STRING),
        ("schedulerName", STRING),
        ("securityContext", Schema { ty: Type::Object(&POD_SECURITY_OBJ), ..Schema::DEFAULT }),
        ("terminationGracePeriodSeconds", INT),
    ],
    required: &["containers"],
    ..ObjectSchema::DEFAULT
};
static TEMPLATE_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.PodTemplateSpec",
    properties: &[("metadata", META_STRUCT), ("spec", Schema { ty: Type::Object(&POD_SPEC_OBJ), default: Some("{}"), ..Schema::DEFAULT })],
    ..ObjectSchema::DEFAULT
};
static ROLLING_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.apps.v1.RollingUpdateDeployment",
    properties: &[("maxSurge", INT_OR_STRING), ("maxUnavailable", INT_OR_STRING)],
    ..ObjectSchema::DEFAULT
};
static STRATEGY_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.apps.v1.DeploymentStrategy",
    properties: &[("rollingUpdate", Schema { ty: Type::Object(&ROLLING_OBJ), ..Schema::DEFAULT }), ("type", STRING)],
    ..ObjectSchema::DEFAULT
};
static SPEC_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.apps.v1.DeploymentSpec",
    properties: &[
        ("minReadySeconds", INT),
        ("paused", BOOL),
        ("progressDeadlineSeconds", INT),
        ("replicas", INT),
        ("revisionHistoryLimit", INT),
        ("selector", Schema { ty: Type::Object(&wellknown::LABEL_SELECTOR_OBJECT), map_type: MapType::Atomic, ..Schema::DEFAULT }),
        ("strategy", Schema { ty: Type::Object(&STRATEGY_OBJ), default: Some("{}"), ..Schema::DEFAULT }),
        ("template", Schema { ty: Type::Object(&TEMPLATE_OBJ), default: Some("{}"), ..Schema::DEFAULT }),
    ],
    required: &["selector", "template"],
    ..ObjectSchema::DEFAULT
};
static CONDITION_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.apps.v1.DeploymentCondition",
    properties: &[("message", STRING), ("reason", STRING), ("status", STRING), ("type", STRING)],
    required: &["type", "status"],
    ..ObjectSchema::DEFAULT
};
static CONDITION: Schema = Schema { ty: Type::Object(&CONDITION_OBJ), ..Schema::DEFAULT };
static STATUS_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.apps.v1.DeploymentStatus",
    properties: &[
        ("availableReplicas", INT),
        (
            "conditions",
            Schema {
                ty: Type::Array(&CONDITION),
                list_type: ListType::Map(&["type"]),
                patch_strategy: Some("merge"),
                patch_merge_key: Some("type"),
                ..Schema::DEFAULT
            },
        ),
        ("replicas", INT),
    ],
    ..ObjectSchema::DEFAULT
};
static DEPLOYMENT_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.apps.v1.Deployment",
    properties: &[
        ("apiVersion", STRING),
        ("kind", STRING),
        ("metadata", META),
        ("spec", Schema { ty: Type::Object(&SPEC_OBJ), default: Some("{}"), ..Schema::DEFAULT }),
        ("status", Schema { ty: Type::Object(&STATUS_OBJ), default: Some("{}"), ..Schema::DEFAULT }),
    ],
    ..ObjectSchema::DEFAULT
};
static DEPLOYMENT: Schema = Schema { ty: Type::Object(&DEPLOYMENT_OBJ), ..Schema::DEFAULT };

// --- A ConfigMap, without a declared metadata (the root supplies it). ---

static CONFIGMAP_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.ConfigMap",
    properties: &[("apiVersion", STRING), ("binaryData", STRING_MAP), ("data", STRING_MAP), ("immutable", BOOL), ("kind", STRING)],
    ..ObjectSchema::DEFAULT
};
static CONFIGMAP: Schema = Schema { ty: Type::Object(&CONFIGMAP_OBJ), ..Schema::DEFAULT };

// --- A custom resource with a set, an atomic map and free-form fields. ---

static WIDGET_SPEC_OBJ: ObjectSchema = ObjectSchema {
    name: "com.example.v1.WidgetSpec",
    properties: &[
        ("color", STRING),
        ("extra", Schema { ty: Type::Any, preserve_unknown_fields: true, ..Schema::DEFAULT }),
        ("owner", Schema { ty: Type::Map(&STRING), map_type: MapType::Atomic, ..Schema::DEFAULT }),
        ("size", INT),
        ("tags", Schema { ty: Type::Array(&STRING), list_type: ListType::Set, ..Schema::DEFAULT }),
    ],
    ..ObjectSchema::DEFAULT
};
static WIDGET_OBJ: ObjectSchema = ObjectSchema {
    name: "com.example.v1.Widget",
    properties: &[
        ("spec", Schema { ty: Type::Object(&WIDGET_SPEC_OBJ), ..Schema::DEFAULT }),
        (
            "status",
            Schema { ty: Type::Object(&ObjectSchema { properties: &[("phase", STRING)], ..ObjectSchema::DEFAULT }), ..Schema::DEFAULT },
        ),
    ],
    ..ObjectSchema::DEFAULT
};
static WIDGET: Schema = Schema { ty: Type::Object(&WIDGET_OBJ), ..Schema::DEFAULT };

const T0: &str = "2026-11-25T12:00:00Z";
const T1: &str = "2026-11-25T12:00:01Z";
const T2: &str = "2026-11-25T12:00:02Z";

fn deployments() -> FieldManager<'static> {
    FieldManager::new(&DEPLOYMENT, "apps/v1", "Deployment")
}

fn configmaps() -> FieldManager<'static> {
    FieldManager::new(&CONFIGMAP, "v1", "ConfigMap")
}

fn widgets() -> FieldManager<'static> {
    FieldManager::new(&WIDGET, "example.com/v1", "Widget")
}

fn nginx(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]}
            }
        }
    })
}

fn entries(obj: &Value) -> &Vec<Value> {
    obj["metadata"]["managedFields"].as_array().expect("managedFields")
}

fn entry<'v>(obj: &'v Value, manager: &str) -> &'v Value {
    entries(obj).iter().find(|e| e["manager"] == manager).unwrap_or_else(|| panic!("no entry for {manager} in {obj}"))
}

fn fields(obj: &Value, manager: &str) -> String {
    serde_json::to_string(&entry(obj, manager)["fieldsV1"]).expect("json")
}

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "default"}, "data": data})
}

#[test]
fn apply_create_records_what_kube_apiserver_records() {
    let obj = deployments().apply(None, &nginx(2, "nginx:1.14.2"), "kubectl", false, T0).expect("apply");
    assert_eq!(
        serde_json::to_string(&obj["metadata"]["managedFields"]).expect("json"),
        concat!(
            r#"[{"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","time":"2026-11-25T12:00:00Z","fieldsType":"FieldsV1","fieldsV1":"#,
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"#,
            r#""f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":"#,
            r#"{".":{},"f:containerPort":{}}}}}}}}}}]"#
        )
    );
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.14.2");
    assert_eq!(obj["metadata"]["name"], "nginx");
}

#[test]
fn create_by_update_records_go_struct_fields_like_kubectl_create() {
    // The object as kube-apiserver stores it after defaulting a `kubectl create deployment`.
    let mut obj = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "uid": "u", "creationTimestamp": T0, "generation": 1, "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [{"name": "nginx", "image": "nginx", "imagePullPolicy": "Always", "resources": {}, "terminationMessagePath": "/dev/termination-log"}],
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {},
                    "terminationGracePeriodSeconds": 30
                }
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600
        },
        "status": {}
    });
    deployments().update(None, &mut obj, "kubectl-create", T0).expect("update");
    let e = entry(&obj, "kubectl-create");
    assert_eq!(e["operation"], "Update");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(
        fields(&obj, "kubectl-create"),
        concat!(
            r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"#,
            r#""f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"#,
            r#""f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"#,
            r#""f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{}}},"f:dnsPolicy":{},"#,
            r#""f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}"#
        )
    );
}

#[test]
fn create_by_update_matches_recorded_configmap() {
    // responses/create-unknown-field-warn.http of the reference kube-apiserver.
    let mut obj = json!({
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "unk", "namespace": "default", "uid": "bdcff5f1-78e7-4ad6-bd56-950a313c58ce", "creationTimestamp": "2026-11-25T12:56:39Z"},
        "data": {"a": "b"}
    });
    configmaps().update(None, &mut obj, "curl", "2026-11-25T12:56:39Z").expect("update");
    assert_eq!(
        serde_json::to_string(&obj["metadata"]).expect("json"),
        r#"{"name":"unk","namespace":"default","uid":"bdcff5f1-78e7-4ad6-bd56-950a313c58ce","creationTimestamp":"2026-11-25T12:56:39Z","managedFields":[{"manager":"curl","operation":"Update","apiVersion":"v1","time":"2026-11-25T12:56:39Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:a":{}}}}]}"#
    );
}

#[test]
fn custom_resources_compare_as_unstructured() {
    let mut obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"color": "red"}});
    widgets().update(None, &mut obj, "m", T0).expect("update");
    assert_eq!(fields(&obj, "m"), r#"{"f:spec":{".":{},"f:color":{}}}"#);
}

#[test]
fn reapply_without_a_field_removes_it() {
    let fm = deployments();
    let obj = fm.apply(None, &nginx(2, "nginx:1"), "kubectl", false, T0).expect("create");
    let mut cfg = nginx(2, "nginx:1");
    cfg["spec"].as_object_mut().expect("spec").remove("replicas");
    cfg["metadata"].as_object_mut().expect("meta").remove("labels");
    let obj = fm.apply(Some(&obj), &cfg, "kubectl", false, T1).expect("reapply");
    assert!(obj["spec"].get("replicas").is_none(), "{obj}");
    assert!(obj["metadata"].get("labels").is_none(), "{obj}");
    assert!(!fields(&obj, "kubectl").contains("f:replicas"));
    assert_eq!(entry(&obj, "kubectl")["time"], T1);
}

#[test]
fn reapply_keeps_a_dropped_field_another_manager_owns() {
    let fm = configmaps();
    let obj = fm.apply(None, &cm(json!({"a": "1", "b": "2"})), "one", false, T0).expect("one");
    let obj = fm.apply(Some(&obj), &cm(json!({"b": "2"})), "two", false, T1).expect("two shares b");
    let obj = fm.apply(Some(&obj), &cm(json!({"a": "1"})), "one", false, T2).expect("one drops b");
    assert_eq!(obj["data"], json!({"a": "1", "b": "2"}));
    assert_eq!(fields(&obj, "one"), r#"{"f:data":{"f:a":{}}}"#);
    assert_eq!(fields(&obj, "two"), r#"{"f:data":{"f:b":{}}}"#);
    // Once the last owner lets go, the field goes.
    let obj = fm.apply(Some(&obj), &cm(json!({})), "two", false, T2).expect("two drops b");
    assert_eq!(obj["data"], json!({"a": "1"}));
}

#[test]
fn dropped_field_set_by_an_update_stays() {
    let fm = configmaps();
    let obj = fm.apply(None, &cm(json!({"a": "1"})), "applier", false, T0).expect("apply");
    let mut edited = obj.clone();
    edited["data"]["a"] = json!("edited");
    fm.update(Some(&obj), &mut edited, "kubectl-edit", T1).expect("edit");
    assert_eq!(fields(&edited, "kubectl-edit"), r#"{"f:data":{"f:a":{}}}"#);
    // The applier lost the field to the edit, so dropping it from its configuration keeps it.
    let obj = fm.apply(Some(&edited), &cm(json!({})), "applier", false, T2).expect("reapply");
    assert_eq!(obj["data"], json!({"a": "edited"}));
}

#[test]
fn conflict_with_an_updater_has_upstreams_message() {
    let fm = configmaps();
    let mut obj = cm(json!({"key": "a"}));
    fm.update(None, &mut obj, "kubectl-client-side-apply", T0).expect("create");
    let err = fm.apply(Some(&obj), &cm(json!({"key": "b"})), "kubectl", false, T1).expect_err("conflict");
    assert_eq!(err.to_string(), r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.key"#);
    assert_eq!(err.code(), 409);
    assert_eq!(err.reason(), "Conflict");
    assert_eq!(
        err.causes(),
        vec![(
            "FieldManagerConflict".to_string(),
            r#"conflict with "kubectl-client-side-apply" using v1"#.to_string(),
            ".data.key".to_string()
        )]
    );
    // The same value is no conflict: both own it.
    let shared = fm.apply(Some(&obj), &cm(json!({"key": "a"})), "kubectl", false, T1).expect("same value");
    assert_eq!(fields(&shared, "kubectl"), r#"{"f:data":{"f:key":{}}}"#);
    assert_eq!(fields(&shared, "kubectl-client-side-apply"), r#"{"f:data":{".":{},"f:key":{}}}"#);
}

#[test]
fn conflicts_with_several_fields_are_listed_per_manager() {
    let fm = deployments();
    let obj = fm.apply(None, &nginx(1, "nginx:1"), "first", false, T0).expect("create");
    let err = fm.apply(Some(&obj), &nginx(3, "nginx:2"), "second", false, T1).expect_err("conflicts");
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"first\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image"
    );
    assert_eq!(err.causes().len(), 2);
    assert_eq!(err.causes()[1].2, r#".spec.template.spec.containers[name="nginx"].image"#);
}

#[test]
fn conflicts_name_subresources() {
    let fm = deployments().with_subresource("status");
    let mut obj = nginx(1, "nginx");
    obj["status"] = json!({"replicas": 1});
    let mut updated = obj.clone();
    updated["status"]["replicas"] = json!(2);
    fm.update(Some(&obj), &mut updated, "kube-controller-manager", T0).expect("status update");
    assert_eq!(entry(&updated, "kube-controller-manager")["subresource"], "status");
    let mut cfg = nginx(1, "nginx");
    cfg["status"] = json!({"replicas": 5});
    let err = fm.apply(Some(&updated), &cfg, "me", false, T1).expect_err("conflict");
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "kube-controller-manager" with subresource "status" using apps/v1: .status.replicas"#
    );
}

#[test]
fn force_takes_ownership() {
    let fm = deployments();
    let obj = fm.apply(None, &nginx(1, "nginx:1"), "first", false, T0).expect("create");
    let obj = fm.apply(Some(&obj), &nginx(3, "nginx:1"), "second", true, T1).expect("forced");
    assert_eq!(obj["spec"]["replicas"], 3);
    assert!(fields(&obj, "second").contains("f:replicas"));
    assert!(!fields(&obj, "first").contains("f:replicas"));
    // The field now belongs to `second`: `first` conflicts when it applies its old value again.
    let err = fm.apply(Some(&obj), &nginx(1, "nginx:1"), "first", false, T2).expect_err("conflict");
    assert_eq!(err.to_string(), r#"Apply failed with 1 conflict: conflict with "second": .spec.replicas"#);
}

#[test]
fn list_map_items_are_owned_per_key() {
    let fm = deployments();
    let mut base = nginx(1, "nginx");
    let obj = fm.apply(None, &base, "one", false, T0).expect("one");
    base["spec"]["template"]["spec"]["containers"] = json!([{"name": "sidecar", "image": "busybox"}]);
    base["spec"].as_object_mut().expect("spec").remove("replicas");
    let obj = fm.apply(Some(&obj), &base, "two", false, T1).expect("two adds a container");
    let names: Vec<&str> =
        obj["spec"]["template"]["spec"]["containers"].as_array().expect("list").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["nginx", "sidecar"]);
    assert!(fields(&obj, "two").contains(r#"k:{\"name\":\"sidecar\"}"#));
    assert!(!fields(&obj, "two").contains(r#"k:{\"name\":\"nginx\"}"#));
    // `one` drops its container: only that item goes.
    let mut cfg = nginx(1, "nginx");
    cfg["spec"]["template"]["spec"]["containers"] = json!([]);
    let obj = fm.apply(Some(&obj), &cfg, "one", false, T2).expect("one drops nginx");
    let names: Vec<&str> =
        obj["spec"]["template"]["spec"]["containers"].as_array().expect("list").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["sidecar"]);
}

#[test]
fn list_items_merge_in_order_and_keep_live_extras() {
    let fm = deployments();
    let mut cfg = nginx(1, "nginx");
    cfg["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]);
    let obj = fm.apply(None, &cfg, "one", false, T0).expect("create");
    cfg["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "C", "value": "3"}, {"name": "A", "value": "1"}]);
    let obj = fm.apply(Some(&obj), &cfg, "one", false, T1).expect("reorder");
    let env = &obj["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env, &json!([{"name": "C", "value": "3"}, {"name": "A", "value": "1"}]));
}

#[test]
fn sets_are_owned_per_value() {
    let fm = widgets();
    let base = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "finalizers": ["a"]}, "spec": {"tags": ["x", "y"]}});
    let obj = fm.apply(None, &base, "one", false, T0).expect("one");
    assert_eq!(fields(&obj, "one"), r#"{"f:metadata":{"f:finalizers":{"v:\"a\"":{}}},"f:spec":{"f:tags":{"v:\"x\"":{},"v:\"y\"":{}}}}"#);
    let two = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"tags": ["z"]}});
    let obj = fm.apply(Some(&obj), &two, "two", false, T1).expect("two");
    assert_eq!(obj["spec"]["tags"], json!(["x", "y", "z"]));
    let one = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"tags": ["y"]}});
    let obj = fm.apply(Some(&obj), &one, "one", false, T2).expect("one drops x");
    assert_eq!(obj["spec"]["tags"], json!(["y", "z"]));
    assert!(obj["metadata"].get("finalizers").is_none());
}

#[test]
fn atomic_maps_and_lists_are_one_field() {
    let fm = widgets();
    let base =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"owner": {"team": "a", "lead": "x"}}});
    let obj = fm.apply(None, &base, "one", false, T0).expect("one");
    assert_eq!(fields(&obj, "one"), r#"{"f:spec":{"f:owner":{}}}"#);
    let two = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"owner": {"team": "b"}}});
    let err = fm.apply(Some(&obj), &two, "two", false, T1).expect_err("atomic map conflicts as a whole");
    assert!(err.to_string().ends_with(": .spec.owner"), "{err}");
    let obj = fm.apply(Some(&obj), &two, "two", true, T1).expect("forced");
    assert_eq!(obj["spec"]["owner"], json!({"team": "b"}), "replaced, not merged");

    let dfm = deployments();
    let mut cfg = nginx(1, "nginx");
    cfg["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["a", "b"]);
    let obj = dfm.apply(None, &cfg, "one", false, T0).expect("create");
    assert!(fields(&obj, "one").contains(r#""f:args":{}"#));
    cfg["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["c"]);
    let obj = dfm.apply(Some(&obj), &cfg, "one", false, T1).expect("replace list");
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][0]["args"], json!(["c"]));
    // The selector is an atomic map: one leaf.
    assert!(fields(&obj, "one").contains(r#""f:selector":{}"#));
}

#[test]
fn free_form_fields_are_granular_maps_and_atomic_lists() {
    let fm = widgets();
    let cfg = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"extra": {"a": {"b": 1}, "l": [1, 2]}}});
    let obj = fm.apply(None, &cfg, "one", false, T0).expect("apply");
    assert_eq!(fields(&obj, "one"), r#"{"f:spec":{"f:extra":{"f:a":{".":{},"f:b":{}},"f:l":{}}}}"#);
}

#[test]
fn update_tracking_moves_changed_fields() {
    let fm = configmaps();
    let mut obj = cm(json!({"a": "1", "b": "2"}));
    fm.update(None, &mut obj, "creator", T0).expect("create");
    let mut edited = obj.clone();
    edited["data"]["a"] = json!("changed");
    edited["data"].as_object_mut().expect("data").remove("b");
    edited["data"]["c"] = json!("new");
    fm.update(Some(&obj), &mut edited, "kubectl-edit", T1).expect("edit");
    assert_eq!(fields(&edited, "creator"), r#"{"f:data":{}}"#);
    assert_eq!(fields(&edited, "kubectl-edit"), r#"{"f:data":{"f:a":{},"f:c":{}}}"#);
    assert_eq!(entry(&edited, "kubectl-edit")["time"], T1);
    assert_eq!(entry(&edited, "creator")["time"], T0);
    // Entries come out by operation, then time.
    let order: Vec<&str> = entries(&edited).iter().filter_map(|e| e["manager"].as_str()).collect();
    assert_eq!(order, ["creator", "kubectl-edit"]);
}

#[test]
fn update_by_the_same_manager_merges_into_one_entry() {
    let fm = configmaps();
    let mut obj = cm(json!({"a": "1"}));
    fm.update(None, &mut obj, "m", T0).expect("create");
    let mut next = obj.clone();
    next["data"]["b"] = json!("2");
    fm.update(Some(&obj), &mut next, "m", T1).expect("update");
    assert_eq!(entries(&next).len(), 1);
    assert_eq!(fields(&next, "m"), r#"{"f:data":{".":{},"f:a":{},"f:b":{}}}"#);
    assert_eq!(entry(&next, "m")["time"], T1);
}

#[test]
fn noop_writes_keep_timestamps() {
    let fm = configmaps();
    let mut obj = cm(json!({"a": "1"}));
    fm.update(None, &mut obj, "m", T0).expect("create");
    let mut same = obj.clone();
    fm.update(Some(&obj), &mut same, "m", T1).expect("noop update");
    assert_eq!(same, obj);
    let applied = fm.apply(None, &cm(json!({"a": "1"})), "kubectl", false, T0).expect("apply");
    let again = fm.apply(Some(&applied), &cm(json!({"a": "1"})), "kubectl", false, T2).expect("reapply");
    assert_eq!(again, applied);
}

#[test]
fn managed_fields_sent_with_an_update() {
    let fm = configmaps();
    let mut obj = cm(json!({"a": "1"}));
    fm.update(None, &mut obj, "m", T0).expect("create");

    // Valid entries replace the tracked ones.
    let mut replaced = obj.clone();
    replaced["metadata"]["managedFields"] = json!([{"manager": "other", "operation": "Update", "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}]);
    fm.update(Some(&obj), &mut replaced, "m", T1).expect("replace");
    assert_eq!(entries(&replaced).len(), 1);
    assert_eq!(entry(&replaced, "other")["fieldsV1"], json!({"f:data": {"f:a": {}}}));

    // `[{}]` and `[]` clear them.
    for reset in [json!([{}]), json!([])] {
        let mut cleared = obj.clone();
        cleared["metadata"]["managedFields"] = reset;
        fm.update(Some(&obj), &mut cleared, "m", T1).expect("reset");
        assert!(cleared["metadata"].get("managedFields").is_none(), "{cleared}");
    }

    // Invalid ones are ignored: the old object's stay.
    let mut junk = obj.clone();
    junk["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Bogus"}]);
    fm.update(Some(&obj), &mut junk, "m", T1).expect("junk");
    assert_eq!(junk, obj);

    // Subresources never take them from the request.
    let mut via_status = obj.clone();
    via_status["metadata"]["managedFields"] = json!([]);
    fm.with_subresource("status").update(Some(&obj), &mut via_status, "m", T1).expect("status");
    assert_eq!(via_status, obj);
}

#[test]
fn apply_rejects_bad_requests() {
    let fm = configmaps();
    let mut cfg = cm(json!({"a": "1"}));
    cfg["metadata"]["managedFields"] = json!([]);
    let err = fm.apply(None, &cfg, "m", false, T0).expect_err("managedFields");
    assert_eq!(err, ApplyError::BadRequest("metadata.managedFields must be nil".into()));
    assert_eq!(err.code(), 400);
    cfg["metadata"]["managedFields"] = Value::Null;
    assert!(fm.apply(None, &cfg, "m", false, T0).is_ok(), "null managedFields is fine");

    let mut other_version = cm(json!({}));
    other_version["apiVersion"] = json!("v2");
    assert_eq!(
        fm.apply(None, &other_version, "m", false, T0),
        Err(ApplyError::BadRequest("invalid object type: /v2, Kind=ConfigMap".into()))
    );
    let mut other_kind = cm(json!({}));
    other_kind["kind"] = json!("Secret");
    assert_eq!(fm.apply(None, &other_kind, "m", false, T0), Err(ApplyError::BadRequest("invalid object type: /v1, Kind=Secret".into())));
    assert_eq!(fm.apply(None, &json!([1]), "m", false, T0).map_err(|e| e.code()), Err(400));

    let live_with_junk =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "managedFields": [{"operation": "Nope"}]}});
    let err = fm.apply(Some(&live_with_junk), &cm(json!({})), "m", false, T0).expect_err("corrupt live");
    assert_eq!(err, ApplyError::Invalid("failed to decode managed fields: operation must be `Apply` or `Update`".into()));
}

#[test]
fn apply_reports_schema_errors_like_upstream() {
    let fm = deployments();
    let mut cfg = nginx(1, "nginx");
    cfg["spec"]["bogus"] = json!(1);
    let err = fm.apply(None, &cfg, "m", false, T0).expect_err("unknown field");
    assert_eq!(
        err.to_string(),
        "failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.bogus: field not declared in schema"
    );
    assert_eq!((err.code(), err.reason()), (500, ""));

    let mut dup = nginx(1, "nginx");
    dup["spec"]["template"]["spec"]["containers"] = json!([{"name": "a"}, {"name": "a"}]);
    let err = fm.apply(None, &dup, "m", false, T0).expect_err("duplicate");
    assert!(err.to_string().ends_with(r#": .spec.template.spec.containers: duplicate entries for key [name="a"]"#), "{err}");

    let mut nokey = nginx(1, "nginx");
    nokey["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"value": "x"}]);
    let err = fm.apply(None, &nokey, "m", false, T0).expect_err("missing key");
    assert!(
        err.to_string().ends_with(
            r#": .spec.template.spec.containers[name="nginx"].env: element 0: associative list with keys has an element that omits key field "name" (and doesn't have default value)"#
        ),
        "{err}"
    );

    let mut wrong = nginx(1, "nginx");
    wrong["spec"]["replicas"] = json!("three");
    let err = fm.apply(None, &wrong, "m", false, T0).expect_err("wrong type");
    assert!(err.to_string().ends_with(": .spec.replicas: expected numeric (int or float), got string"), "{err}");
}

#[test]
fn reset_fields_are_neither_owned_nor_conflicting() {
    let fm = deployments().ignoring(status_reset_fields(""));
    let mut cfg = nginx(1, "nginx");
    cfg["status"] = json!({"replicas": 9});
    let obj = fm.apply(None, &cfg, "m", false, T0).expect("apply");
    assert!(!fields(&obj, "m").contains("f:status"));
    let mut updated = obj.clone();
    updated["status"]["replicas"] = json!(1);
    fm.update(Some(&obj), &mut updated, "other", T1).expect("update");
    assert!(entries(&updated).iter().all(|e| e["manager"] != "other"), "status changes are not tracked on the main resource");
}

#[test]
fn objects_without_managed_fields_get_a_before_first_apply_owner() {
    let fm = configmaps();
    let live = cm(json!({"a": "old"}));
    let err = fm.apply(Some(&live), &cm(json!({"a": "new"})), "m", false, T0).expect_err("conflict");
    assert_eq!(err.to_string(), r#"Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a"#);
    let obj = fm.apply(Some(&live), &cm(json!({"a": "new"})), "m", true, T0).expect("forced");
    assert_eq!(fields(&obj, "before-first-apply"), r#"{"f:data":{}}"#);
}

#[test]
fn kubectl_upgrades_from_client_side_apply() {
    let fm = configmaps();
    let last = r#"{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"cm","namespace":"default"}}"#;
    let mut live = cm(json!({"a": "1"}));
    live["metadata"]["annotations"] = json!({ LAST_APPLIED_ANNOTATION: format!("{last}\n") });
    fm.update(None, &mut live, "kubectl-client-side-apply", T0).expect("create");

    // `a` still holds its last-applied value, so kubectl may take it over.
    let obj = fm.apply(Some(&live), &cm(json!({"a": "2"})), "kubectl", false, T1).expect("upgrade");
    assert_eq!(obj["data"]["a"], "2");
    assert!(fields(&obj, "kubectl").contains("f:a"));
    assert_eq!(
        obj["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
        "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\",\"namespace\":\"default\"}}\n"
    );

    // Another manager gets no such pass.
    let err = fm.apply(Some(&live), &cm(json!({"a": "2"})), "someone", false, T1).expect_err("conflict");
    assert_eq!(err.code(), 409);
}

#[test]
fn update_entries_are_capped_at_ten() {
    let fm = configmaps();
    let mut obj = cm(json!({}));
    fm.update(None, &mut obj, "m0", T0).expect("create");
    for i in 1..=12 {
        let mut next = obj.clone();
        next["data"][format!("k{i}")] = json!("v");
        fm.update(Some(&obj), &mut next, &format!("m{i:02}"), &format!("2026-11-25T12:00:{i:02}Z")).expect("update");
        obj = next;
    }
    assert_eq!(entries(&obj).len(), 10);
    assert!(entries(&obj).iter().any(|e| e["manager"] == "ancient-changes"));
}

#[test]
fn free_functions_follow_the_brief() {
    let obj = apply(None, &cm(json!({"a": "1"})), &CONFIGMAP, "m", false, "v1", T0, "").expect("apply");
    let mut next = obj.clone();
    next["data"]["a"] = json!("2");
    track_update(Some(&obj), &mut next, &CONFIGMAP, "e", "v1", T1, "").expect("update");
    assert!(fields(&next, "e").contains("f:a"));
}

#[test]
fn default_manager_is_the_user_agent_prefix() {
    assert_eq!(default_manager("kubectl/v1.36.0 (linux/amd64) kubernetes/abcdef"), "kubectl");
    assert_eq!(default_manager("Go-http-client/2.0"), "Go-http-client");
    assert_eq!(default_manager("curl/8.5.0"), "curl");
    assert_eq!(default_manager("tab\there/1"), "tabhere");
    assert_eq!(default_manager(""), "");
    assert_eq!(default_manager(&"x".repeat(300)).len(), 128);
}

#[test]
fn builtin_kinds_are_recognised_by_name() {
    assert!(is_builtin_kind(&DEPLOYMENT));
    assert!(!is_builtin_kind(&WIDGET));
    assert!(deployments().go_structs);
}

static LEGACY_OBJ: ObjectSchema = ObjectSchema {
    name: "com.example.v1.Legacy",
    properties: &[
        ("env", Schema { ty: Type::Array(&ENV), patch_strategy: Some("merge"), patch_merge_key: Some("name"), ..Schema::DEFAULT }),
        ("names", Schema { ty: Type::Array(&STRING), patch_strategy: Some("merge"), ..Schema::DEFAULT }),
        ("plain", Schema { ty: Type::Array(&STRING), ..Schema::DEFAULT }),
    ],
    ..ObjectSchema::DEFAULT
};
static LEGACY: Schema = Schema { ty: Type::Object(&LEGACY_OBJ), ..Schema::DEFAULT };

#[test]
fn patch_merge_lists_without_a_list_type_are_associative() {
    let fm = FieldManager::new(&LEGACY, "example.com/v1", "Legacy");
    let cfg = json!({"apiVersion": "example.com/v1", "kind": "Legacy", "metadata": {"name": "l"}, "env": [{"name": "A", "value": "1"}], "names": ["x"], "plain": ["p"]});
    let obj = fm.apply(None, &cfg, "m", false, T0).expect("apply");
    assert_eq!(
        fields(&obj, "m"),
        r#"{"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}},"f:names":{"v:\"x\"":{}},"f:plain":{}}"#
    );
}

#[test]
fn live_duplicates_are_replaced_by_the_applied_item() {
    let fm = deployments();
    let mut live = nginx(1, "nginx");
    live["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}, {"name": "B", "value": "b"}]);
    fm.update(None, &mut live, "creator", T0).expect("create");
    let mut cfg = nginx(1, "nginx");
    cfg["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "3"}]);
    let obj = fm.apply(Some(&live), &cfg, "m", true, T1).expect("apply");
    assert_eq!(obj["spec"]["template"]["spec"]["containers"][0]["env"], json!([{"name": "A", "value": "3"}, {"name": "B", "value": "b"}]));
}

#[test]
fn conflict_paths_print_every_key() {
    let fm = deployments();
    let mut cfg = nginx(1, "nginx");
    cfg["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80, "name": "http"}]);
    let obj = fm.apply(None, &cfg, "one", false, T0).expect("create");
    cfg["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80, "protocol": "TCP", "name": "web"}]);
    let err = fm.apply(Some(&obj), &cfg, "two", false, T1).expect_err("conflict");
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "one": .spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].name"#
    );
}

#[test]
fn applying_null_sets_null() {
    let fm = deployments();
    let obj = fm.apply(None, &nginx(2, "nginx"), "m", false, T0).expect("create");
    let mut cfg = nginx(2, "nginx");
    cfg["spec"]["replicas"] = Value::Null;
    let obj = fm.apply(Some(&obj), &cfg, "m", false, T1).expect("null");
    assert_eq!(obj["spec"]["replicas"], Value::Null);
    assert!(fields(&obj, "m").contains("f:replicas"));
}

#[test]
fn unchanged_entries_are_written_back_as_stored() {
    let fm = configmaps();
    let mut old = cm(json!({"a": "1", "b": "2"}));
    old["metadata"]["managedFields"] = json!([{"manager": "m", "operation": "Update", "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:b": {}, ".": {}, "f:a": {}}}}]);
    let mut new = old.clone();
    new["data"]["c"] = json!("3");
    fm.update(Some(&old), &mut new, "other", T1).expect("update");
    assert_eq!(serde_json::to_string(&entry(&new, "m")["fieldsV1"]).expect("json"), r#"{"f:data":{"f:b":{},".":{},"f:a":{}}}"#);
    assert_eq!(fields(&new, "other"), r#"{"f:data":{"f:c":{}}}"#);
}
