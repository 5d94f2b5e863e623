//! `x-kapi-verbs: [create]`: a create-only, never-stored kind (SubjectAccessReview, TokenReview) gets
//! only the POST on its collection in OpenAPI, no list definition, no List protobuf message, no Rust
//! list type, and `verbs: &["create"]` in its `KindInfo`; other verb lists and storage-only settings
//! are schema errors at their line.

use std::path::Path;

use kapi_codegen::emit::{openapi, proto, rust};
use kapi_codegen::model::{lower_docs, Model};
use kapi_codegen::source::load_yaml;
use kapi_codegen::Diagnostics;

/// A namespaced built-in-style review kind; `extra` is spliced into `spec` (2-space indented keys).
fn review(spec_extra: &str, version_extra: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: localthingreviews.authorization.k8s.io
spec:
  group: authorization.k8s.io
  names: {{kind: LocalThingReview, plural: localthingreviews}}
  scope: Namespaced
{spec_extra}  versions:
  - name: v1
    served: true
    storage: true
{version_extra}    schema:
      openAPIV3Schema:
        type: object
        x-kapi-type: io.k8s.api.authorization.v1.LocalThingReview
        description: LocalThingReview checks a thing.
        properties:
          apiVersion: {{type: string}}
          kind: {{type: string}}
          metadata: {{type: object, x-kapi-type: io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, x-kapi-proto: 1}}
          spec:
            type: object
            x-kapi-proto: 2
            x-kapi-type: io.k8s.api.authorization.v1.LocalThingReviewSpec
            properties:
              thing: {{type: string, x-kapi-proto: 1}}
"
    )
}

fn lower(text: &str) -> Result<Model, Diagnostics> {
    let docs = load_yaml(Path::new("review.yaml"), text).unwrap_or_else(|e| panic!("YAML: {}", e.message));
    lower_docs(&docs)
}

fn model() -> Model {
    lower(&review("  x-kapi-verbs: [create]\n", "")).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn the_knob_reaches_the_ir() {
    let m = model();
    assert_eq!(m.kinds[0].verbs, ["create"]);
    assert!(m.kinds[0].create_only());
    let plain = lower(&review("", "")).unwrap_or_else(|d| panic!("{d}"));
    assert!(plain.kinds[0].verbs.is_empty());
    assert!(!plain.kinds[0].create_only());
}

#[test]
fn openapi_has_only_the_create_path_and_no_list() {
    let files = openapi::emit(&model());
    let doc = files.iter().find(|f| f.path == Path::new("openapi/v3/apis__authorization.k8s.io__v1.json")).expect("v3 document");
    let v3: serde_json::Value = serde_json::from_str(&doc.contents).expect("JSON");
    let paths: Vec<&String> = v3["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(paths, ["/apis/authorization.k8s.io/v1/", "/apis/authorization.k8s.io/v1/namespaces/{namespace}/localthingreviews"]);
    let item = &v3["paths"]["/apis/authorization.k8s.io/v1/namespaces/{namespace}/localthingreviews"];
    let methods: Vec<&String> = item.as_object().expect("item").keys().collect();
    assert_eq!(methods, ["post", "parameters"]);
    assert_eq!(item["post"]["operationId"], "createAuthorizationV1NamespacedLocalThingReview");
    let codes: Vec<&String> = item["post"]["responses"].as_object().expect("responses").keys().collect();
    assert_eq!(codes, ["200", "201", "202", "401"]);
    let params: Vec<&str> = item["parameters"].as_array().expect("parameters").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(params, ["dryRun", "fieldManager", "fieldValidation", "namespace", "pretty"]);
    let schemas = v3["components"]["schemas"].as_object().expect("schemas");
    assert!(schemas.contains_key("io.k8s.api.authorization.v1.LocalThingReview"));
    assert!(!schemas.contains_key("io.k8s.api.authorization.v1.LocalThingReviewList"));
    assert!(!schemas.contains_key("io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"));
    let v2 = files.iter().find(|f| f.path == Path::new("openapi/v2.json")).expect("v2");
    assert!(!v2.contents.contains("LocalThingReviewList") && !v2.contents.contains("/watch/"), "v2 lists or watches the review");
}

#[test]
fn proto_has_no_list_message() {
    let files = proto::emit(&model(), &|_| None);
    let text: String = files.iter().map(|f| f.contents.as_str()).collect();
    assert!(text.contains("message LocalThingReview {"), "{text}");
    assert!(!text.contains("message LocalThingReviewList"), "{text}");
    let plain = lower(&review("", "")).unwrap_or_else(|d| panic!("{d}"));
    let text: String = proto::emit(&plain, &|_| None).iter().map(|f| f.contents.as_str()).collect();
    assert!(text.contains("message LocalThingReviewList {"));
}

#[test]
fn rust_has_no_list_type_and_lists_the_verbs() {
    let code = rust::pretty(rust::emit(&model()));
    assert!(!code.contains("pub struct LocalThingReviewList"), "{code}");
    assert!(code.contains("verbs: &[\"create\"]"), "{code}");
    let plain = rust::pretty(rust::emit(&lower(&review("", "")).unwrap_or_else(|d| panic!("{d}"))));
    assert!(plain.contains("pub struct LocalThingReviewList") && plain.contains("verbs: &[]"));
}

#[test]
fn other_verb_lists_are_errors_at_their_line() {
    for verbs in ["[create, get]", "[get]"] {
        let diags = lower(&review(&format!("  x-kapi-verbs: {verbs}\n"), "")).expect_err("an error");
        let text = diags.to_string();
        assert_eq!(diags.0.len(), 1, "{text}");
        assert!(text.starts_with("review.yaml:9:"), "{text}");
        assert!(text.contains("only create-only resources (`[create]`) are supported"), "{text}");
        assert!(text.contains("help: write `x-kapi-verbs: [create]`"), "{text}");
    }
}

#[test]
fn create_only_kinds_cannot_have_storage_features() {
    let version_extra = "    x-kapi-subresources: [token]\n    selectableFields: [{jsonPath: .spec.thing}]\n";
    let diags = lower(&review("  x-kapi-verbs: [create]\n", version_extra)).expect_err("errors");
    let text = diags.to_string();
    assert_eq!(diags.0.len(), 2, "{text}");
    assert!(text.contains("review.yaml:14:5: error: a create-only kind (`x-kapi-verbs: [create]`) is never stored, so it cannot have `x-kapi-subresources`"), "{text}");
    assert!(text.contains("review.yaml:15:5: error: a create-only kind (`x-kapi-verbs: [create]`) is never stored, so it cannot have `selectableFields`"), "{text}");
}
