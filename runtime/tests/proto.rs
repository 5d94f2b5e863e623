//! The protobuf codec over the real schema trees (`schemas/` compiled in with `include_schemas!`):
//! every tree codegen emits agrees with the checked-in `.proto` files (field numbers, wire types,
//! Go-embedded messages); realistic objects round-trip; the bytes agree with prost's types of the
//! same `.proto` files both ways; and bodies captured from a real `kubectl` decode to the JSON
//! upstream would have read.

use std::collections::{BTreeSet, HashMap};

use kapi_runtime::apimachinery::proto::{self, ProtoError};
use kapi_runtime::apimachinery::schema::{ObjectSchema, ProtoType, Schema, Type};
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type as PType};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use serde_json::{json, Value};

kapi_macros::include_schemas!("../schemas");

use kapi_proto::k8s::io::api::apps::v1 as pb_apps;
use kapi_proto::k8s::io::api::core::v1 as pb;
use kapi_proto::k8s::io::apimachinery::pkg::api::resource::Quantity as PbQuantity;
use kapi_proto::k8s::io::apimachinery::pkg::apis::meta::v1 as pb_meta;
use kapi_proto::k8s::io::apimachinery::pkg::util::intstr::IntOrString as PbIntOrString;

fn schema(group: &str, kind: &str) -> &'static Schema {
    KINDS.iter().find(|k| k.group == group && k.kind == kind).map(|k| k.schema).unwrap_or_else(|| panic!("{group}/{kind} not compiled in"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// decode(encode(x)) == x, through the full body (envelope included).
fn round_trip(s: &Schema, v: &Value) -> Vec<u8> {
    let body = proto::encode_object(s, v).unwrap_or_else(|e| panic!("encode: {e}"));
    let back = proto::decode_object(s, &body).unwrap_or_else(|e| panic!("decode: {e}"));
    assert_eq!(&back, v, "\nwant {v:#}\n got {back:#}");
    proto::decode_envelope(&body).expect("envelope").raw
}

// ---------------------------------------------------------------------------------------------
// The trees codegen emits agree with the .proto files prost compiled.

struct Descriptors {
    messages: HashMap<String, DescriptorProto>,
}

impl Descriptors {
    fn load() -> Self {
        let set = FileDescriptorSet::decode(kapi_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
        let mut messages = HashMap::new();
        fn add(prefix: &str, m: &DescriptorProto, out: &mut HashMap<String, DescriptorProto>) {
            let name = format!("{prefix}.{}", m.name());
            for n in &m.nested_type {
                add(&name, n, out);
            }
            out.insert(name, m.clone());
        }
        for f in &set.file {
            for m in &f.message_type {
                add(&format!(".{}", f.package()), m, &mut messages);
            }
        }
        Descriptors { messages }
    }

    fn get(&self, name: &str) -> &DescriptorProto {
        self.messages.get(name).unwrap_or_else(|| panic!("no message {name}"))
    }
}

struct Checker<'d> {
    d: &'d Descriptors,
    seen: BTreeSet<(String, String)>,
    checked_fields: usize,
}

impl Checker<'_> {
    /// `obj` against message `msg` (fields of the Go-embedded message `embedded` when given).
    fn object(&mut self, obj: &'static ObjectSchema, msg: &str, embedded: Option<&'static [&'static str]>) {
        if !self.seen.insert((obj.name.to_string(), msg.to_string())) {
            return;
        }
        assert!(obj.protobuf, "{} (message {msg}) has no protobuf flag", obj.name);
        let d = self.d.get(msg).clone();
        let mut covered = BTreeSet::new();
        if embedded.is_none() {
            for e in obj.proto_embedded {
                let f = field(&d, e.number, msg);
                assert_eq!(f.r#type(), PType::Message, "{msg}.{}", f.name());
                covered.insert(e.number);
                self.object(obj, f.type_name(), Some(e.properties));
            }
        }
        for (name, s) in obj.properties {
            let member = obj.proto_embedded.iter().any(|e| e.properties.contains(name));
            match embedded {
                Some(props) if !props.contains(name) => continue,
                None if member => continue,
                _ => {}
            }
            if s.proto.number == 0 {
                assert!(*name == "apiVersion" || *name == "kind", "{}.{name} has no field number", obj.name);
                continue;
            }
            let f = field(&d, s.proto.number, msg);
            assert_eq!(f.name(), *name, "{msg} field {}", s.proto.number);
            covered.insert(s.proto.number);
            self.value(s, &f, &format!("{}.{name}", obj.name));
        }
        let all: BTreeSet<u32> = d.field.iter().map(|f| f.number() as u32).collect();
        assert_eq!(covered, all, "{msg}: fields of the .proto the schema {} does not cover", obj.name);
    }

    /// One property's schema against its field.
    fn value(&mut self, s: &'static Schema, f: &FieldDescriptorProto, at: &str) {
        self.checked_fields += 1;
        let repeated = f.label() == Label::Repeated;
        let map_entry = repeated && f.r#type() == PType::Message && self.d.get(f.type_name()).options.as_ref().is_some_and(|o| o.map_entry());
        match s.ty {
            Type::Array(items) if s.proto.ty == ProtoType::Implied => {
                assert!(repeated && !map_entry, "{at}: an array, but {} is not repeated", f.name());
                self.element(items, f, at);
            }
            Type::Map(values) if s.proto.ty == ProtoType::Implied => {
                assert!(map_entry, "{at}: a map, but {} is not a map", f.name());
                let entry = self.d.get(f.type_name()).clone();
                let v = field(&entry, 2, f.type_name());
                self.element(values, &v, at);
            }
            _ => {
                assert!(!repeated, "{at}: a single value, but {} is repeated", f.name());
                self.element(s, f, at);
            }
        }
    }

    /// A single value (or element) against the field's type.
    fn element(&mut self, s: &'static Schema, f: &FieldDescriptorProto, at: &str) {
        let message = |suffix: &str| f.r#type() == PType::Message && f.type_name().ends_with(suffix);
        let ok = match (s.proto.ty, s.ty) {
            (ProtoType::Bytes, _) => f.r#type() == PType::Bytes,
            (ProtoType::Time, _) => message(".meta.v1.Time"),
            (ProtoType::MicroTime, _) => message(".meta.v1.MicroTime"),
            (ProtoType::Duration, _) => message(".meta.v1.Duration"),
            (ProtoType::Quantity, _) => message(".resource.Quantity"),
            (ProtoType::IntOrString, _) => message(".intstr.IntOrString"),
            (ProtoType::RawExtension, _) => message(".runtime.RawExtension") || message(".meta.v1.FieldsV1"),
            (ProtoType::Implied, Type::String) => match s.format {
                Some("byte") => f.r#type() == PType::Bytes,
                Some("date-time") => message(".meta.v1.Time"),
                _ => f.r#type() == PType::String,
            },
            (ProtoType::Implied, Type::Integer) => {
                f.r#type() == if s.format == Some("int32") { PType::Int32 } else { PType::Int64 }
            }
            (ProtoType::Implied, Type::Number) => f.r#type() == PType::Double,
            (ProtoType::Implied, Type::Boolean) => f.r#type() == PType::Bool,
            (ProtoType::Implied, Type::Object(o)) => {
                assert_eq!(f.r#type(), PType::Message, "{at}");
                self.object(o, f.type_name(), None);
                true
            }
            (ProtoType::Implied, Type::Any) => message(".runtime.RawExtension") || s.int_or_string && message(".intstr.IntOrString"),
            // A nested array or map: a wrapper message `{items = 1}` (upstream's `ExtraValue`).
            (ProtoType::Implied, Type::Array(_) | Type::Map(_)) => {
                assert_eq!(f.r#type(), PType::Message, "{at}: nested containers need a wrapper message");
                let wrapper = self.d.get(f.type_name()).clone();
                let items = field(&wrapper, 1, f.type_name());
                self.value(s, &items, &format!("{at}[]"));
                true
            }
        };
        assert!(ok, "{at}: schema {:?}/{:?} (format {:?}) but field {} is {:?} {}", s.proto.ty, s.ty, s.format, f.name(), f.r#type(), f.type_name());
    }
}

fn field(d: &DescriptorProto, number: u32, msg: &str) -> FieldDescriptorProto {
    d.field.iter().find(|f| f.number() as u32 == number).cloned().unwrap_or_else(|| panic!("{msg} has no field {number}"))
}

#[test]
fn every_tree_agrees_with_the_proto_files() {
    let d = Descriptors::load();
    let mut c = Checker { d: &d, seen: BTreeSet::new(), checked_fields: 0 };
    let mut kinds = 0;
    for k in KINDS {
        let Some(obj) = k.schema.object() else { continue };
        if !k.proto_package.starts_with("k8s.io.") {
            // Custom resources: no protobuf form, and the codec says so.
            assert!(!obj.protobuf, "{}", k.kind);
            let err = proto::encode(k.schema, &json!({"spec": {}})).expect_err("custom resource");
            assert!(matches!(err, ProtoError::NoProtobuf { .. }), "{}: {err}", k.kind);
            continue;
        }
        kinds += 1;
        c.object(obj, &format!(".{}.{}", k.proto_package, k.kind), None);
    }
    assert!(kinds >= 20, "{kinds} built-in kinds");
    // Every field of every message reached from a built-in kind (each message once).
    assert!(c.checked_fields > 1_000, "{} fields checked", c.checked_fields);
}

// ---------------------------------------------------------------------------------------------
// Realistic objects round-trip.

fn config_map() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "app-config",
            "namespace": "default",
            "uid": "7c4b6a7e-1c1e-4f0e-9b1a-3f1f1f1f1f1f",
            "resourceVersion": "42",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u-1", "controller": true, "blockOwnerDeletion": true}],
            "finalizers": ["example.com/keep"],
            "managedFields": [{
                "manager": "kubectl-create",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2024-05-01T10:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {".": {}, "f:a": {}}}
            }]
        },
        "data": {"a": "1", "config.yaml": "key: value\nother: 2\n", "empty": ""},
        "binaryData": {"logo.png": "iVBORw0KGgo="},
        "immutable": false
    })
}

#[test]
fn config_map_round_trips() {
    round_trip(schema("", "ConfigMap"), &config_map());
}

#[test]
fn secret_with_binary_data_round_trips() {
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod", "generation": 3},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "AAECAwQFBgcICQ==", "tls.key": "/w==", "zero": ""},
        "immutable": true
    });
    let raw = round_trip(schema("", "Secret"), &secret);
    let pb = pb::Secret::decode(raw.as_slice()).expect("prost decodes");
    assert_eq!(pb.data.get("tls.key").map(Vec::as_slice), Some(&[0xffu8][..]));
    assert_eq!(pb.data.get("tls.crt").map(Vec::len), Some(10));
    assert_eq!(pb.r#type.as_deref(), Some("kubernetes.io/tls"));
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "args": ["--port", "8080"],
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "env": [
                            {"name": "MODE", "value": "prod"},
                            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "a", "optional": false}}},
                            {"name": "LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}}
                        ],
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
                        "livenessProbe": {
                            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP", "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                            "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3
                        },
                        "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 5},
                        "startupProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 30, "terminationGracePeriodSeconds": 0},
                        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                        "securityContext": {"runAsUser": 0, "runAsNonRoot": false, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": true}]
                    }],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "app-config", "defaultMode": 420, "items": [{"key": "a", "path": "a.txt"}]}},
                        {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}
                    ],
                    "terminationGracePeriodSeconds": 30,
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 60}]
                }
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        },
        "status": {
            "observedGeneration": 2, "replicas": 1, "readyReplicas": 1,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok",
                "lastUpdateTime": "2024-05-01T10:00:05Z", "lastTransitionTime": "2024-05-01T10:00:05Z"}]
        }
    })
}

#[test]
fn deployment_with_probes_round_trips() {
    let raw = round_trip(schema("apps", "Deployment"), &deployment());
    // prost reads the same bytes: the Go-embedded ProbeHandler, IntOrString ports, Quantity maps,
    // and Go pointers holding zero (replicas 0, runAsUser 0).
    let d = pb_apps::Deployment::decode(raw.as_slice()).expect("prost decodes");
    let spec = d.spec.as_ref().expect("spec");
    assert_eq!(spec.replicas, Some(0));
    let c = &spec.template.as_ref().and_then(|t| t.spec.as_ref()).expect("pod spec").containers[0];
    let live = c.liveness_probe.as_ref().and_then(|p| p.handler.as_ref()).and_then(|h| h.http_get.as_ref()).expect("httpGet");
    assert_eq!(live.port, Some(PbIntOrString { r#type: Some(1), int_val: Some(0), str_val: Some("http".into()) }));
    let ready = c.readiness_probe.as_ref().and_then(|p| p.handler.as_ref()).and_then(|h| h.exec.as_ref()).expect("exec");
    assert_eq!(ready.command, ["cat", "/tmp/ready"]);
    let tcp = c.startup_probe.as_ref().and_then(|p| p.handler.as_ref()).and_then(|h| h.tcp_socket.as_ref()).expect("tcpSocket");
    assert_eq!(tcp.port, Some(PbIntOrString { r#type: Some(0), int_val: Some(8080), str_val: Some(String::new()) }));
    let limits = &c.resources.as_ref().expect("resources").limits;
    assert_eq!(limits.get("cpu"), Some(&PbQuantity { string: Some("500m".into()) }));
    assert_eq!(c.security_context.as_ref().and_then(|s| s.run_as_user), Some(0));
    let cm_ref = c.env[1].value_from.as_ref().and_then(|v| v.config_map_key_ref.as_ref()).expect("configMapKeyRef");
    assert_eq!(cm_ref.local_object_reference.as_ref().and_then(|l| l.name.as_deref()), Some("app-config"));
    let vol = &spec.template.as_ref().and_then(|t| t.spec.as_ref()).expect("pod spec").volumes[0];
    let src = vol.volume_source.as_ref().and_then(|s| s.config_map.as_ref()).expect("configMap source");
    assert_eq!(src.default_mode, Some(420));
    // Whatever prost re-encodes decodes to the same JSON (prost keeps no unknown fields, so a
    // field written under a wrong number would be lost here).
    let again = proto::decode(schema("apps", "Deployment"), &d.encode_to_vec()).expect("decode prost's bytes");
    let mut want = deployment();
    if let Some(m) = want.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
    }
    assert_eq!(again, want);
}

fn service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                {"name": "https", "protocol": "TCP", "port": 443, "targetPort": "https", "appProtocol": "https"}
            ],
            "selector": {"app": "web"},
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"
        },
        "status": {"loadBalancer": {}}
    })
}

#[test]
fn service_with_int_or_string_target_ports_round_trips() {
    let raw = round_trip(schema("", "Service"), &service());
    let s = pb::Service::decode(raw.as_slice()).expect("prost decodes");
    let ports = &s.spec.as_ref().expect("spec").ports;
    assert_eq!(ports[0].target_port, Some(PbIntOrString { r#type: Some(0), int_val: Some(8080), str_val: Some(String::new()) }));
    assert_eq!(ports[1].target_port, Some(PbIntOrString { r#type: Some(1), int_val: Some(0), str_val: Some("https".into()) }));
    // No map with two entries: prost's bytes are ours, byte for byte.
    assert_eq!(hex(&s.encode_to_vec()), hex(&raw));
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": "2024-05-01T10:00:00Z", "uid": "p-1",
            "deletionTimestamp": "2024-05-01T11:00:00Z", "deletionGracePeriodSeconds": 0},
        "spec": {
            "containers": [{
                "name": "app",
                "image": "busybox",
                "command": ["sh", "-c", "sleep 3600"],
                "resources": {"limits": {"cpu": "1", "memory": "256Mi", "nvidia.com/gpu": "1"}, "requests": {"cpu": "100m", "memory": "64Mi"}}
            }],
            "restartPolicy": "Always",
            "nodeName": "node-1",
            "priority": 0,
            "enableServiceLinks": false,
            "overhead": {"cpu": "10m"}
        },
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.5",
            "podIPs": [{"ip": "10.0.0.5"}],
            "startTime": "2024-05-01T10:00:01Z",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-01T10:00:03Z"}],
            "containerStatuses": [{
                "name": "app", "ready": true, "restartCount": 0, "image": "busybox", "imageID": "docker.io/library/busybox@sha256:1",
                "started": true, "state": {"running": {"startedAt": "2024-05-01T10:00:02Z"}}, "lastState": {}
            }],
            "qosClass": "Burstable"
        }
    })
}

#[test]
fn pod_with_quantities_and_times_round_trips() {
    let raw = round_trip(schema("", "Pod"), &pod());
    let p = pb::Pod::decode(raw.as_slice()).expect("prost decodes");
    let meta = p.metadata.as_ref().expect("metadata");
    assert_eq!(meta.creation_timestamp, Some(pb_meta::Time { seconds: Some(1_714_557_600), nanos: Some(0) }));
    assert_eq!(meta.deletion_grace_period_seconds, Some(0));
    let c = &p.spec.as_ref().expect("spec").containers[0];
    assert_eq!(c.resources.as_ref().and_then(|r| r.requests.get("memory")), Some(&PbQuantity { string: Some("64Mi".into()) }));
    assert_eq!(p.spec.as_ref().and_then(|s| s.enable_service_links), Some(false));
}

#[test]
fn prost_bytes_decode_to_the_same_json() {
    // A Pod written by prost (as client-go would, less its always-written Go value fields).
    let pod = pb::Pod {
        metadata: Some(pb_meta::ObjectMeta {
            name: Some("a".into()),
            labels: [("app".to_string(), "x".to_string())].into_iter().collect(),
            creation_timestamp: Some(pb_meta::Time { seconds: Some(0), nanos: Some(0) }),
            ..Default::default()
        }),
        spec: Some(pb::PodSpec {
            containers: vec![pb::Container {
                name: Some("c".into()),
                image: Some("x".into()),
                liveness_probe: Some(pb::Probe {
                    handler: Some(pb::ProbeHandler {
                        http_get: Some(pb::HttpGetAction { port: Some(PbIntOrString { r#type: Some(0), int_val: Some(80), str_val: None }), ..Default::default() }),
                        ..Default::default()
                    }),
                    period_seconds: Some(3),
                    ..Default::default()
                }),
                resources: Some(pb::ResourceRequirements {
                    limits: [("cpu".to_string(), PbQuantity { string: Some("2".into()) })].into_iter().collect(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    };
    let bytes = pod.encode_to_vec();
    let v = proto::decode(schema("", "Pod"), &bytes).expect("decode");
    assert_eq!(
        v,
        json!({
            "metadata": {"name": "a", "labels": {"app": "x"}, "creationTimestamp": "1970-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "c", "image": "x", "livenessProbe": {"httpGet": {"port": 80}, "periodSeconds": 3},
                "resources": {"limits": {"cpu": "2"}}}]}
        })
    );
    // Our bytes for that JSON are prost's bytes (one-entry maps, so the order is fixed), except that
    // we write IntOrString's strVal as Go does.
    let ours = proto::encode(schema("", "Pod"), &v).expect("encode");
    let mut with_str_val = pod.clone();
    if let Some(p) = with_str_val.spec.as_mut().and_then(|s| s.containers[0].liveness_probe.as_mut()) {
        if let Some(port) = p.handler.as_mut().and_then(|h| h.http_get.as_mut()).and_then(|g| g.port.as_mut()) {
            port.str_val = Some(String::new());
        }
    }
    assert_eq!(hex(&ours), hex(&with_str_val.encode_to_vec()));
}

#[test]
fn the_existing_golden_pod_bytes() {
    // Pod{metadata{name "a"}, spec{containers[{image "x"}]}} as in generated/proto/tests/wire.rs.
    let want = [0x0a, 0x03, 0x0a, 0x01, b'a', 0x12, 0x05, 0x12, 0x03, 0x12, 0x01, b'x'];
    let v = json!({"metadata": {"name": "a"}, "spec": {"containers": [{"image": "x"}]}});
    assert_eq!(proto::encode(schema("", "Pod"), &v).expect("encode"), want);
    assert_eq!(proto::decode(schema("", "Pod"), &want).expect("decode"), v);
}

#[test]
fn lists_and_watch_events() {
    let s = schema("", "ConfigMap");
    let items: Vec<Vec<u8>> = ["a", "b"].iter().map(|n| proto::encode(s, &json!({"metadata": {"name": n}})).expect("item")).collect();
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    let list = proto::encode_list(&json!({"resourceVersion": "9", "continue": "tok", "remainingItemCount": 0}), &refs).expect("list");
    let pl = pb::ConfigMapList::decode(list.as_slice()).expect("prost reads the list");
    assert_eq!(pl.metadata.as_ref().and_then(|m| m.resource_version.as_deref()), Some("9"));
    assert_eq!(pl.metadata.as_ref().and_then(|m| m.remaining_item_count), Some(0));
    assert_eq!(pl.items.len(), 2);
    assert_eq!(pl.items[1].metadata.as_ref().and_then(|m| m.name.as_deref()), Some("b"));
    // A watch frame: length, then a bare WatchEvent whose object is a full body.
    let object = proto::encode_envelope("v1", "ConfigMap", &items[0]);
    let frame = proto::watch_frame("MODIFIED", &object);
    let (msg, _) = proto::split_frame(&frame).expect("whole frame");
    let ev = pb_meta::WatchEvent::decode(msg).expect("prost reads the event");
    assert_eq!(ev.r#type.as_deref(), Some("MODIFIED"));
    let raw = ev.object.and_then(|o| o.raw).expect("raw");
    assert_eq!(proto::decode_object(s, &raw).expect("object"), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}));
}

// ---------------------------------------------------------------------------------------------
// Bodies kubectl sent (captured through a logging proxy in front of kapi's apiserver; see
// runtime/tests/fixtures/proto/README.md).

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/proto/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture decodes to `want`, and our re-encoding of that JSON decodes to it again.
fn check_fixture(name: &str, s: &Schema, want: Value) {
    let body = fixture(name);
    let got = proto::decode_object(s, &body).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got, want, "{name}\n got {got:#}");
    let again = proto::decode_object(s, &proto::encode_object(s, &got).expect("re-encode")).expect("re-decode");
    assert_eq!(again, got, "{name}: re-encoded");
}

#[test]
fn kubectl_create_configmap() {
    check_fixture(
        "kubectl-create-configmap.pb",
        schema("", "ConfigMap"),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}),
    );
    // Go's ObjectMeta as kubectl wrote it: every value field, zero or not (generateName "",
    // namespace "", selfLink "", uid "", resourceVersion "", generation 0, creationTimestamp {}).
    let raw = proto::decode_envelope(&fixture("kubectl-create-configmap.pb")).expect("envelope").raw;
    assert_eq!(hex(&raw), "0a 11 0a 01 78 12 00 1a 00 22 00 2a 00 32 00 38 00 42 00 12 06 0a 01 61 12 01 62");
}

#[test]
fn kubectl_create_configmap_from_file() {
    check_fixture(
        "kubectl-create-configmap-from-file.pb",
        schema("", "ConfigMap"),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bin"}, "data": {"x": "y"}, "binaryData": {"bin.dat": "AAEC/w=="}}),
    );
}

#[test]
fn kubectl_create_secret_generic() {
    check_fixture(
        "kubectl-create-secret.pb",
        schema("", "Secret"),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}),
    );
}

#[test]
fn kubectl_create_deployment() {
    // As `kubectl create deployment d --image=nginx --dry-run=client -o json` prints it: Go value
    // structs stay (`resources: {}`, `strategy: {}`, `status: {}`), zero value fields go.
    check_fixture(
        "kubectl-create-deployment.pb",
        schema("apps", "Deployment"),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "d"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "d"}},
                "template": {
                    "metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                },
                "strategy": {}
            },
            "status": {}
        }),
    );
}

#[test]
fn kubectl_create_deployment_with_zero_replicas_and_a_port() {
    // replicas is a Go pointer: its 0 is kept; the port's zero name/hostPort/protocol/hostIP are not
    // (protocol left out, so defaulting makes it TCP as upstream does).
    check_fixture(
        "kubectl-create-deployment-replicas0-port.pb",
        schema("apps", "Deployment"),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d0", "labels": {"app": "d0"}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "d0"}},
                "template": {
                    "metadata": {"labels": {"app": "d0"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 8080}], "resources": {}}]}
                },
                "strategy": {}
            },
            "status": {}
        }),
    );
}

#[test]
fn kubectl_create_service_clusterip() {
    // nodePort 0, healthCheckNodePort 0, clusterIP "" and publishNotReadyAddresses false are Go
    // value fields kubectl always writes; they mean unset.
    check_fixture(
        "kubectl-create-service-clusterip.pb",
        schema("", "Service"),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                "selector": {"app": "web"},
                "type": "ClusterIP"
            },
            "status": {"loadBalancer": {}}
        }),
    );
}

// ---------------------------------------------------------------------------------------------
// Fuzzing (kapi_runtime::fuzzing): every kind with a protobuf message, arbitrary and mutated bytes,
// and round trips of schema-shaped objects.

fn protobuf_kinds() -> Vec<(&'static str, &'static Schema)> {
    KINDS
        .iter()
        .filter(|k| k.schema.object().is_some_and(|o| o.protobuf))
        .map(|k| (k.kind, k.schema))
        .collect()
}

/// An object of `schema` with its `apiVersion` and `kind`, encoded (`None` when a generated
/// value does not fit its wire type, e.g. a quantity the grammar made invalid).
fn encoded(kind: &str, schema: &'static Schema, value: &Value) -> Option<Vec<u8>> {
    let mut v = value.clone();
    if let Value::Object(m) = &mut v {
        m.insert("kind".into(), json!(kind));
        m.insert("apiVersion".into(), json!("v1"));
    }
    match proto::encode_object(schema, &v) {
        Ok(b) => Some(b),
        Err(ProtoError::Value { .. }) => None,
        Err(e) => panic!("encoding a generated {kind}: {e}\n{v:#}"),
    }
}

#[test]
fn fuzz_proto_decode_every_kind() {
    use kapi_runtime::endpoints::negotiate::decode_body;
    use kapi_runtime::fuzzing::generate::{self, Gen, Source};
    let kinds = protobuf_kinds();
    assert!(kinds.len() > 20, "{} kinds with protobuf", kinds.len());
    kapi_runtime::fuzzing::fuzz(
        "proto_decode_every_kind",
        Gen(|src: &mut Source<'_>| {
            let i = src.below(kinds.len());
            let (kind, schema) = kinds[i];
            let bytes = if src.chance(70) {
                let v = generate::schema_value(src, schema, 8);
                let base = encoded(kind, schema, &v).unwrap_or_default();
                generate::mutate(src, &base)
            } else {
                let mut b = if src.chance(70) {
                    proto::MAGIC.to_vec()
                } else {
                    Vec::new()
                };
                b.extend(src.bytes(64));
                b
            };
            (i, bytes)
        }),
        |(i, bytes)| {
            let (kind, schema) = kinds[i];
            if let Ok(v) = proto::decode_object(schema, &bytes) {
                // What decodes encodes again.
                proto::encode_object(schema, &v).map_err(|e| {
                    proptest::test_runner::TestCaseError::fail(format!("{kind}: {e}\n{v:#}"))
                })?;
            }
            let _ = decode_body(Some(proto::CONTENT_TYPE), &bytes, kind, Some(schema));
            let raw = bytes.get(4..).unwrap_or_default();
            let _ = proto::decode_list(schema, raw);
            let _ = proto::decode_watch_event(raw);
            let _ = proto::split_frame(&bytes);
            Ok(())
        },
    );
}

#[test]
fn fuzz_proto_round_trip_every_kind() {
    use kapi_runtime::fuzzing::generate::{self, Gen, Source};
    let kinds = protobuf_kinds();
    kapi_runtime::fuzzing::fuzz(
        "proto_round_trip_every_kind",
        Gen(|src: &mut Source<'_>| {
            let i = src.below(kinds.len());
            // Free-form JSON (RawExtension, FieldsV1) goes through serde_json, which reads some
            // floats one ulp off (see `generate::without_fractions`).
            (
                i,
                generate::without_fractions(generate::schema_value(src, kinds[i].1, 8)),
            )
        }),
        |(i, value)| {
            let (kind, schema) = kinds[i];
            let Some(body) = encoded(kind, schema, &value) else {
                return Ok(());
            };
            // The first decode reads what upstream would serve (Go value fields' zeros dropped, an
            // empty time null); from there, encode and decode are each other's inverse.
            let once = proto::decode_object(schema, &body).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(format!("{kind}: decode: {e}"))
            })?;
            let again = proto::encode_object(schema, &once).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(format!("{kind}: encode: {e}"))
            })?;
            let twice = proto::decode_object(schema, &again).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(format!("{kind}: decode: {e}"))
            })?;
            // A present but empty Time decodes as `null` (a non-nil pointer to Go's zero time), which
            // encodes as absent: equal up to null members.
            let strip = generate::json_value_no_null_members;
            proptest::prop_assert_eq!(
                strip(twice.clone()),
                strip(once.clone()),
                "{}: {:#}",
                kind,
                value
            );
            let thrice = proto::encode_object(schema, &twice).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(format!("{kind}: encode: {e}"))
            })?;
            proptest::prop_assert_eq!(thrice, again, "{}: bytes differ", kind);
            Ok(())
        },
    );
}
