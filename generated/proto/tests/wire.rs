//! The compiled types speak upstream's wire format: field numbers from k8s.io/api v0.36.3
//! (Pod.metadata=1, Pod.spec=2, ObjectMeta.name=1, PodSpec.containers=2, Container.name=1, Container.image=2).

use kapi_proto::k8s::io::api::core::v1::{Container, Pod, PodList, PodSpec};
use kapi_proto::k8s::io::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta, Time};
use kapi_proto::k8s::io::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use prost::Message;

fn pod(name: &str, image: &str) -> Pod {
    Pod {
        metadata: Some(ObjectMeta { name: Some(name.into()), ..Default::default() }),
        spec: Some(PodSpec { containers: vec![Container { image: Some(image.into()), ..Default::default() }], ..Default::default() }),
        ..Default::default()
    }
}

#[test]
fn pod_round_trips() {
    let p = pod("web", "nginx:1.27");
    let bytes = p.encode_to_vec();
    let back = Pod::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(back, p);
    assert_eq!(back.metadata.as_ref().and_then(|m| m.name.as_deref()), Some("web"));
    assert_eq!(back.spec.as_ref().and_then(|s| s.containers[0].image.as_deref()), Some("nginx:1.27"));
}

#[test]
fn pod_bytes_are_upstreams() {
    // tag = field << 3 | wire type (2 = length-delimited).
    let want: &[u8] = &[
        0x0a, 0x03, // Pod.metadata (1), 3 bytes
        0x0a, 0x01, b'a', //   ObjectMeta.name (1) = "a"
        0x12, 0x05, // Pod.spec (2), 5 bytes
        0x12, 0x03, //   PodSpec.containers (2), 3 bytes
        0x12, 0x01, b'x', //     Container.image (2) = "x"
    ];
    assert_eq!(pod("a", "x").encode_to_vec(), want);
    assert_eq!(Pod::decode(want).expect("decodes"), pod("a", "x"));
}

#[test]
fn list_time_and_envelope() {
    // PodList.metadata (1) ListMeta.resourceVersion (2) = "7"; PodList.items (2) = empty Pod.
    let list = PodList { metadata: Some(ListMeta { resource_version: Some("7".into()), ..Default::default() }), items: vec![Pod::default()] };
    assert_eq!(list.encode_to_vec(), [0x0a, 0x03, 0x12, 0x01, b'7', 0x12, 0x00]);
    // Time { seconds (1) varint = 1, nanos (2) varint = 0 }: upstream writes both; prost writes set optionals.
    let t = Time { seconds: Some(1), nanos: Some(0) };
    assert_eq!(t.encode_to_vec(), [0x08, 0x01, 0x10, 0x00]);
    // runtime.Unknown: typeMeta (1) { apiVersion (1) = "v1", kind (2) = "Pod" }, raw (2).
    let raw = pod("a", "x").encode_to_vec();
    let u = Unknown {
        type_meta: Some(TypeMeta { api_version: Some("v1".into()), kind: Some("Pod".into()) }),
        raw: Some(raw.clone()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut want = vec![0x0a, 0x09, 0x0a, 0x02, b'v', b'1', 0x12, 0x03, b'P', b'o', b'd', 0x12, raw.len() as u8];
    want.extend(&raw);
    want.extend([0x1a, 0x00, 0x22, 0x00]);
    assert_eq!(u.encode_to_vec(), want);
    assert_eq!(kapi_proto::MAGIC, *b"k8s\0");
}

#[test]
fn descriptor_set_lists_every_package() {
    let set = prost_types::FileDescriptorSet::decode(kapi_proto::FILE_DESCRIPTOR_SET).expect("descriptor set decodes");
    let packages: Vec<&str> = set.file.iter().map(|f| f.package()).collect();
    for want in ["k8s.io.api.core.v1", "k8s.io.api.apps.v1", "k8s.io.apimachinery.pkg.apis.meta.v1", "k8s.io.apimachinery.pkg.runtime"] {
        assert!(packages.contains(&want), "{want} missing from {packages:?}");
    }
    let core = set.file.iter().find(|f| f.package() == "k8s.io.api.core.v1").expect("core/v1");
    let pod = core.message_type.iter().find(|m| m.name() == "Pod").expect("Pod");
    let numbers: Vec<(&str, i32)> = pod.field.iter().map(|f| (f.name(), f.number())).collect();
    assert_eq!(numbers, [("metadata", 1), ("spec", 2), ("status", 3)]);
}
