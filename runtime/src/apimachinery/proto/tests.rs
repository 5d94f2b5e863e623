//! Unit tests of the protobuf codec over hand-written schema trees (shaped like upstream's
//! ConfigMap, Secret, Probe, ServicePort, ResourceRequirements); golden bytes are written out by hand
//! from k8s.io/api `generated.proto` field numbers.

use serde_json::{json, Value};

use super::*;
use crate::apimachinery::schema::wellknown::{INT_OR_STRING, OBJECT_META_OBJECT, QUANTITY, STATUS};
use crate::apimachinery::schema::{ListType, Proto, ProtoEmbedded, Type};

const fn field(number: u32, s: Schema) -> Schema {
    Schema { proto: Proto { number, ..s.proto }, ..s }
}
const STR: Schema = Schema { ty: Type::String, ..Schema::DEFAULT };
const VALUE_STR: Schema = Schema { ty: Type::String, proto: Proto { omit_zero: true, ..Proto::DEFAULT }, ..Schema::DEFAULT };
const INT32: Schema = Schema { ty: Type::Integer, format: Some("int32"), ..Schema::DEFAULT };
const INT64: Schema = Schema { ty: Type::Integer, format: Some("int64"), ..Schema::DEFAULT };
const BOOL: Schema = Schema { ty: Type::Boolean, ..Schema::DEFAULT };
const BYTES: Schema = Schema { ty: Type::String, format: Some("byte"), ..Schema::DEFAULT };
const META: Schema = Schema { ty: Type::Object(&OBJECT_META_OBJECT), ..Schema::DEFAULT };

static CONFIG_MAP_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.ConfigMap",
    properties: &[
        ("apiVersion", STR),
        ("binaryData", field(3, Schema { ty: Type::Map(&BYTES), ..Schema::DEFAULT })),
        ("data", field(2, Schema { ty: Type::Map(&STR), ..Schema::DEFAULT })),
        ("immutable", field(4, BOOL)),
        ("kind", STR),
        ("metadata", field(1, META)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
static CONFIG_MAP: Schema = Schema { ty: Type::Object(&CONFIG_MAP_OBJ), ..Schema::DEFAULT };

static EXEC_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.ExecAction",
    properties: &[("command", field(1, Schema { ty: Type::Array(&STR), list_type: ListType::Atomic, ..Schema::DEFAULT }))],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
static HTTP_GET_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.HTTPGetAction",
    properties: &[("path", field(1, VALUE_STR)), ("port", field(2, INT_OR_STRING))],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
static PROBE_OBJ: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.core.v1.Probe",
    properties: &[
        ("exec", field(1, Schema { ty: Type::Object(&EXEC_OBJ), ..Schema::DEFAULT })),
        ("httpGet", field(2, Schema { ty: Type::Object(&HTTP_GET_OBJ), ..Schema::DEFAULT })),
        ("initialDelaySeconds", field(2, INT32)),
        ("terminationGracePeriodSeconds", field(7, INT64)),
        ("timeoutSeconds", field(3, INT32)),
    ],
    protobuf: true,
    proto_embedded: &[ProtoEmbedded { number: 1, properties: &["exec", "httpGet"] }],
    ..ObjectSchema::DEFAULT
};
static PROBE: Schema = Schema { ty: Type::Object(&PROBE_OBJ), ..Schema::DEFAULT };

static QUANTITY_MAP: Schema = Schema { ty: Type::Map(&QUANTITY), ..Schema::DEFAULT };
static EXTRA_OBJ: ObjectSchema = ObjectSchema {
    name: "test.Extra",
    properties: &[
        ("doubles", field(5, Schema { ty: Type::Array(&Schema { ty: Type::Number, ..Schema::DEFAULT }), ..Schema::DEFAULT })),
        ("extra", field(3, Schema { ty: Type::Map(&Schema { ty: Type::Array(&STR), ..Schema::DEFAULT }), ..Schema::DEFAULT })),
        ("groups", field(4, Schema { ty: Type::Array(&INT64), ..Schema::DEFAULT })),
        ("limits", field(1, QUANTITY_MAP)),
        ("raw", field(6, Schema { ty: Type::Any, preserve_unknown_fields: true, ..Schema::DEFAULT })),
        ("renewTime", field(7, crate::apimachinery::schema::wellknown::MICRO_TIME)),
        ("timeout", field(8, crate::apimachinery::schema::wellknown::DURATION)),
        ("when", field(2, crate::apimachinery::schema::wellknown::TIME)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
static EXTRA: Schema = Schema { ty: Type::Object(&EXTRA_OBJ), ..Schema::DEFAULT };

static CR_OBJ: ObjectSchema =
    ObjectSchema { name: "com.example.v1.Widget", properties: &[("spec", Schema { ty: Type::Any, ..Schema::DEFAULT })], ..ObjectSchema::DEFAULT };
static CR: Schema = Schema { ty: Type::Object(&CR_OBJ), ..Schema::DEFAULT };

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

fn round_trip(schema: &Schema, v: Value) {
    let bytes = encode(schema, &v).unwrap_or_else(|e| panic!("encode {v}: {e}"));
    let back = decode(schema, &bytes).unwrap_or_else(|e| panic!("decode {}: {e}", hex(&bytes)));
    assert_eq!(back, v, "bytes {}", hex(&bytes));
}

#[test]
fn config_map_golden_bytes() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"b": "2", "a": "1"}});
    let bytes = encode(&CONFIG_MAP, &cm).expect("encode");
    // metadata (1) {name (1) "x"}; data (2) entries sorted by key {key (1), value (2)}.
    let want = [0x0a, 0x03, 0x0a, 0x01, b'x', 0x12, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'1', 0x12, 0x06, 0x0a, 0x01, b'b', 0x12, 0x01, b'2'];
    assert_eq!(hex(&bytes), hex(&want));
    let back = decode(&CONFIG_MAP, &bytes).expect("decode");
    assert_eq!(back, json!({"metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}}));
    // Envelope: apiVersion and kind travel outside the message.
    let body = encode_object(&CONFIG_MAP, &cm).expect("encode_object");
    assert!(body.starts_with(b"k8s\0\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12\x15"));
    assert!(body.ends_with(&[0x1a, 0x00, 0x22, 0x00]));
    assert_eq!(decode_object(&CONFIG_MAP, &body).expect("decode_object"), cm);
}

#[test]
fn go_value_fields_and_empty_messages() {
    // What Go writes for ObjectMeta{Name: "x"}: every value string, generation 0, an empty Time.
    let mut meta = Vec::new();
    for (n, s) in [(1u32, "x"), (2, ""), (3, ""), (4, ""), (5, ""), (6, "")] {
        wire::put_bytes_field(&mut meta, n, s.as_bytes());
    }
    wire::put_varint_field(&mut meta, 7, 0);
    wire::put_bytes_field(&mut meta, 8, b"");
    let mut cm = Vec::new();
    wire::put_bytes_field(&mut cm, 1, &meta);
    // data {"k": ""}: map values keep their zeros; immutable false (a Go pointer) is kept.
    wire::put_bytes_field(&mut cm, 2, &[0x0a, 0x01, b'k', 0x12, 0x00]);
    wire::put_varint_field(&mut cm, 4, 0);
    let v = decode(&CONFIG_MAP, &cm).expect("decode");
    // creationTimestamp is `omitempty,omitzero` upstream: the empty Time is left out too.
    assert_eq!(v, json!({"metadata": {"name": "x"}, "data": {"k": ""}, "immutable": false}));
}

#[test]
fn zero_times_are_null_unless_omitted() {
    // A Time without omit_zero (a Go value Time with plain omitempty, like PodCondition.lastProbeTime).
    assert_eq!(decode(&EXTRA, &[0x12, 0x00]).expect("decode"), json!({"when": null}));
    // Fields come out in wire order, like Go's struct order.
    let v = decode(&EXTRA, &[0x12, 0x00, 0x0a, 0x08, 0x0a, 0x01, b'b', 0x12, 0x03, 0x0a, 0x01, b'1']).expect("decode");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["when", "limits"]);
}

#[test]
fn times_outside_rfc3339_years_are_refused() {
    // Found by the fuzzing harness: seconds past 9999-12-31 decoded to "+10000-01-01T00:00:00Z",
    // a text no Time parser (Go's nor ours) reads back, so the object could not be encoded again.
    let time = |seconds: i64| {
        let mut t = Vec::new();
        wire::put_varint_field(&mut t, 1, seconds as u64);
        let mut b = Vec::new();
        wire::put_bytes_field(&mut b, 2, &t);
        b
    };
    assert_eq!(
        decode(&EXTRA, &time(253_402_300_799)).expect("decode"),
        json!({"when": "9999-12-31T23:59:59Z"})
    );
    let err = decode(&EXTRA, &time(253_402_300_800)).expect_err("year 10000");
    assert_eq!(
        err.to_string(),
        "protobuf: field when: seconds 253402300800 out of range"
    );
    assert!(decode(&EXTRA, &time(-62_167_219_201)).is_err(), "year -1");
}

#[test]
fn binary_data_is_base64() {
    round_trip(&CONFIG_MAP, json!({"binaryData": {"bin": "AAEC/w==", "empty": ""}, "immutable": true}));
    let bytes = encode(&CONFIG_MAP, &json!({"binaryData": {"bin": "AAEC/w=="}})).expect("encode");
    assert_eq!(hex(&bytes), "1a 0b 0a 03 62 69 6e 12 04 00 01 02 ff");
    let err = encode(&CONFIG_MAP, &json!({"binaryData": {"bin": "%%%"}})).expect_err("bad base64");
    assert!(err.to_string().contains("binaryData[bin]"), "{err}");
}

#[test]
fn embedded_handler_and_int_or_string() {
    let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 3, "timeoutSeconds": 0});
    let bytes = encode(&PROBE, &probe).expect("encode");
    // handler (1) {httpGet (2) {path (1), port (2) IntOrString {type 0, intVal 8080, strVal ""}}}, then 2, 3.
    assert_eq!(
        hex(&bytes),
        "0a 15 12 13 0a 08 2f 68 65 61 6c 74 68 7a 12 07 08 00 10 90 3f 1a 00 10 03 18 00"
    );
    round_trip(&PROBE, probe);
    round_trip(&PROBE, json!({"exec": {"command": ["cat", "/tmp/ok"]}, "httpGet": {"port": "http"}, "terminationGracePeriodSeconds": -1}));
    // Go writes the embedded struct even when empty.
    assert_eq!(hex(&encode(&PROBE, &json!({})).expect("encode")), "0a 00");
    assert_eq!(decode(&PROBE, &[0x0a, 0x00]).expect("decode"), json!({}));
}

#[test]
fn well_known_values() {
    round_trip(
        &EXTRA,
        json!({
            "limits": {"cpu": "500m", "memory": "1Gi"},
            "when": "2024-01-02T03:04:05Z",
            "extra": {"scopes": ["a", "b"], "none": []},
            "groups": [0, 1, -5],
            "doubles": [1.5, -2.25],
            "raw": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
            "renewTime": "2024-01-02T03:04:05.123456Z",
            "timeout": "1m30s",
        }),
    );
    // Time: {seconds, nanos 0}, as upstream (which drops nanos).
    let bytes = encode(&EXTRA, &json!({"when": "1970-01-01T00:00:01.5Z"})).expect("encode");
    assert_eq!(hex(&bytes), "12 04 08 01 10 00");
    assert_eq!(decode(&EXTRA, &bytes).expect("decode"), json!({"when": "1970-01-01T00:00:01Z"}));
    // Quantities are canonicalized as upstream's String() does; numbers are accepted.
    let bytes = encode(&EXTRA, &json!({"limits": {"cpu": 2}})).expect("encode");
    assert_eq!(decode(&EXTRA, &bytes).expect("decode"), json!({"limits": {"cpu": "2"}}));
    assert!(encode(&EXTRA, &json!({"limits": {"cpu": "2 cores"}})).is_err());
}

#[test]
fn packed_repeated_scalars_are_read() {
    // groups (4) packed: [1, 2, 300]; doubles (5) packed: [0.5].
    let mut b = vec![0x22, 0x04, 0x01, 0x02, 0xac, 0x02];
    b.extend([0x2a, 0x08]);
    b.extend(0.5f64.to_le_bytes());
    assert_eq!(decode(&EXTRA, &b).expect("decode"), json!({"groups": [1, 2, 300], "doubles": [0.5]}));
}

#[test]
fn unknown_fields_are_skipped_and_bad_wire_types_rejected() {
    // Field 99 (varint) is unknown; metadata with a varint is a wire-type error.
    let b = [0xb8, 0x06, 0x01, 0x0a, 0x01, 0x0a, 0x01, b'x'];
    assert!(decode(&CONFIG_MAP, &b[..3]).expect("unknown field").as_object().is_some_and(|m| m.is_empty()));
    let err = decode(&CONFIG_MAP, &[0x08, 0x01]).expect_err("wire type");
    assert!(matches!(err, ProtoError::WireType { ref path, .. } if path == "metadata"), "{err:?}");
    assert!(decode(&CONFIG_MAP, &[0x0a, 0x05, 0x0a]).is_err());
}

#[test]
fn custom_resources_have_no_protobuf() {
    let err = encode(&CR, &json!({"spec": {}})).expect_err("no protobuf");
    assert_eq!(err, ProtoError::NoProtobuf { type_name: "com.example.v1.Widget".into() });
    assert!(decode(&CR, &[]).is_err());
    assert!(err.to_string().contains("JSON only"));
}

#[test]
fn json_values_of_the_wrong_type_are_errors() {
    for (v, path) in [
        (json!({"metadata": {"name": 3}}), "metadata.name"),
        (json!({"data": ["a"]}), "data"),
        (json!({"metadata": {"labels": {"a": 1}}}), "metadata.labels[a]"),
        (json!({"immutable": "yes"}), "immutable"),
    ] {
        let err = encode(&CONFIG_MAP, &v).expect_err("type error");
        assert!(matches!(&err, ProtoError::Value { path: p, .. } if p == path), "{v}: {err:?}");
    }
}

#[test]
fn envelope_list_and_status() {
    assert_eq!(decode_envelope(b"{}"), Err(ProtoError::NotProtobuf));
    let body = encode_envelope("v1", "Pod", &[0x0a, 0x00]);
    assert_eq!(hex(&body), "6b 38 73 00 0a 09 0a 02 76 31 12 03 50 6f 64 12 02 0a 00 1a 00 22 00");
    let env = decode_envelope(&body).expect("envelope");
    assert_eq!((env.api_version.as_str(), env.kind.as_str(), env.raw.as_slice()), ("v1", "Pod", &[0x0a, 0x00][..]));
    // ConfigMapList {metadata {resourceVersion "7"}, items [..]}.
    let item = encode(&CONFIG_MAP, &json!({"metadata": {"name": "a"}})).expect("item");
    let list = encode_list(&json!({"resourceVersion": "7"}), &[&item, &item]).expect("list");
    assert_eq!(hex(&list), "0a 03 12 01 37 12 05 0a 03 0a 01 61 12 05 0a 03 0a 01 61");
    let back = decode_list(&CONFIG_MAP, &list).expect("decode_list");
    assert_eq!(back, json!({"metadata": {"resourceVersion": "7"}, "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "a"}}]}));
    assert_eq!(hex(&encode_list(&Value::Null, &[]).expect("empty list")), "0a 00");
    // A Status (errors are served in protobuf too).
    let status = json!({"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure", "message": "nope", "reason": "NotFound",
        "details": {"name": "x", "kind": "pods"}, "code": 404});
    let body = encode_object(&STATUS, &status).expect("status");
    assert_eq!(decode_object(&STATUS, &body).expect("decode status"), status);
}

#[test]
fn watch_frames() {
    let object = encode_envelope("v1", "ConfigMap", &[0x0a, 0x00]);
    let f = watch_frame("ADDED", &object);
    let (msg, rest) = split_frame(&f).expect("whole frame");
    assert!(rest.is_empty());
    assert_eq!(&f[..4], &(msg.len() as u32).to_be_bytes());
    // WatchEvent {type (1) "ADDED", object (2) RawExtension {raw (1)}}: no envelope around the event.
    assert_eq!(&msg[..7], &[0x0a, 0x05, b'A', b'D', b'D', b'E', b'D']);
    let (ty, raw) = decode_watch_event(msg).expect("event");
    assert_eq!((ty.as_str(), raw), ("ADDED", object));
    assert_eq!(split_frame(&f[..f.len() - 1]), None);
    assert_eq!(split_frame(&f[..2]), None);
}

#[test]
fn deep_nesting_is_bounded() {
    static NODE_OBJ: ObjectSchema = ObjectSchema {
        name: "test.Node",
        properties: &[("child", field(1, Schema { ty: Type::Object(&NODE_OBJ), ..Schema::DEFAULT }))],
        protobuf: true,
        ..ObjectSchema::DEFAULT
    };
    static NODE: Schema = Schema { ty: Type::Object(&NODE_OBJ), ..Schema::DEFAULT };
    let mut b: Vec<u8> = Vec::new();
    for _ in 0..200 {
        let mut outer = Vec::new();
        wire::put_bytes_field(&mut outer, 1, &b);
        b = outer;
    }
    assert!(matches!(decode(&NODE, &b), Err(ProtoError::TooDeep { .. })));
    let mut v = json!({});
    for _ in 0..200 {
        v = json!({ "child": v });
    }
    assert!(matches!(encode(&NODE, &v), Err(ProtoError::TooDeep { .. })));
}

#[test]
fn well_known_numbers_match_the_checked_in_proto() {
    use crate::apimachinery::schema::wellknown as wk;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../generated/proto/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (message, obj) in [
        ("ObjectMeta", &wk::OBJECT_META_OBJECT),
        ("ListMeta", &wk::LIST_META_OBJECT),
        ("OwnerReference", &wk::OWNER_REFERENCE_OBJECT),
        ("ManagedFieldsEntry", &wk::MANAGED_FIELDS_ENTRY_OBJECT),
        ("LabelSelector", &wk::LABEL_SELECTOR_OBJECT),
        ("LabelSelectorRequirement", &wk::LABEL_SELECTOR_REQUIREMENT_OBJECT),
        ("Condition", &wk::CONDITION_OBJECT),
        ("Preconditions", &wk::PRECONDITIONS_OBJECT),
        ("DeleteOptions", &wk::DELETE_OPTIONS_OBJECT),
        ("StatusCause", &wk::STATUS_CAUSE_OBJECT),
        ("StatusDetails", &wk::STATUS_DETAILS_OBJECT),
        ("Status", &wk::STATUS_OBJECT),
        ("ShardInfo", &wk::SHARD_INFO_OBJECT),
        ("WatchEvent", &wk::WATCH_EVENT_OBJECT),
    ] {
        let start = text.find(&format!("\nmessage {message} {{")).unwrap_or_else(|| panic!("{message} not in {path}"));
        let body = &text[start..];
        let body = &body[..body.find("\n}").unwrap_or(body.len())];
        let mut want: Vec<(String, u32)> = body
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let (decl, n) = l.strip_suffix(';')?.split_once(" = ")?;
                Some((decl.rsplit(' ').next()?.to_string(), n.trim().parse().ok()?))
            })
            .collect();
        want.sort();
        let mut got: Vec<(String, u32)> =
            obj.properties.iter().filter(|(_, s)| s.proto.number != 0).map(|(n, s)| (n.to_string(), s.proto.number)).collect();
        got.sort();
        assert_eq!(got, want, "{message}");
        assert!(obj.protobuf, "{message}");
    }
}
