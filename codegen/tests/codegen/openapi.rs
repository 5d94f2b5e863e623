//! The OpenAPI emitter's output for small fixture schemas (`tests/fixtures/openapi/`): a CRD-style kind
//! (nested objects, a map, an int-or-string, an enum, defaults, CEL rules, status and scale) and a
//! built-in-style kind with named types. Snapshots in `tests/snapshots/openapi/`; bless a change with
//! `EXPECTORATE=overwrite cargo test -p kapi-codegen --test openapi`.

use std::path::Path;

use kapi_codegen::emit::openapi;
use kapi_codegen::emit::GeneratedFile;

fn emitted() -> Vec<GeneratedFile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi");
    let model = kapi_codegen::load_dir(&dir).unwrap_or_else(|d| panic!("fixtures under {} have errors:\n{d}", dir.display()));
    openapi::emit(&model)
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    let names: Vec<_> = files.iter().map(|f| f.path.display().to_string()).collect();
    files.iter().find(|f| f.path == Path::new(path)).map(|f| f.contents.as_str()).unwrap_or_else(|| panic!("{path} not emitted; got {names:?}"))
}

#[test]
fn emits_one_v2_and_one_v3_document_per_group_version() {
    let names: Vec<String> = emitted().iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(names, ["openapi/v2.json", "openapi/v3/api__v1.json", "openapi/v3/apis__example.com__v1.json"]);
}

#[test]
fn output_is_deterministic_pretty_json() {
    let (a, b) = (emitted(), emitted());
    assert_eq!(a, b);
    for f in &a {
        assert!(f.contents.ends_with("}\n"), "{} has no trailing newline", f.path.display());
        assert!(f.contents.starts_with("{\n  \""), "{} is not pretty-printed with 2 spaces", f.path.display());
        let v: serde_json::Value = serde_json::from_str(&f.contents).unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
        assert_eq!(v["info"]["x-kapi-generated-by"], openapi::GENERATED_BY);
        // The only x-kapi-* key is info's generated-by marker.
        assert_eq!(f.contents.matches("\"x-kapi-").count(), 1, "{} leaks x-kapi-* keys", f.path.display());
    }
}

#[test]
fn crd_style_v3_snapshot() {
    let files = emitted();
    expectorate::assert_contents("tests/snapshots/openapi/v3-apis__example.com__v1.json", file(&files, "openapi/v3/apis__example.com__v1.json"));
}

#[test]
fn builtin_style_v3_snapshot() {
    let files = emitted();
    expectorate::assert_contents("tests/snapshots/openapi/v3-api__v1.json", file(&files, "openapi/v3/api__v1.json"));
}

#[test]
fn v2_snapshot() {
    let files = emitted();
    expectorate::assert_contents("tests/snapshots/openapi/v2.json", file(&files, "openapi/v2.json"));
}

#[test]
fn named_types_are_refs_and_unnamed_objects_inline() {
    let files = emitted();
    let v3: serde_json::Value = serde_json::from_str(file(&files, "openapi/v3/api__v1.json")).expect("v3 JSON");
    let schemas = &v3["components"]["schemas"];
    let spec = &schemas["io.k8s.api.core.v1.ThingSpec"]["properties"];
    // A property: use-site description/default next to an allOf-wrapped $ref.
    assert_eq!(spec["owner"]["allOf"][0]["$ref"], "#/components/schemas/io.k8s.api.core.v1.ThingRef");
    assert_eq!(spec["owner"]["description"], "Who owns it.");
    assert_eq!(spec["owner"]["x-kubernetes-patch-strategy"], "retainKeys");
    // Items and map values: a bare $ref.
    assert_eq!(spec["refs"]["items"], serde_json::json!({"$ref": "#/components/schemas/io.k8s.api.core.v1.ThingRef"}));
    assert_eq!(spec["byName"]["additionalProperties"], serde_json::json!({"$ref": "#/components/schemas/io.k8s.api.core.v1.ThingRef"}));
    // The definition carries the type's own description and map type.
    let thing_ref = &schemas["io.k8s.api.core.v1.ThingRef"];
    assert_eq!(thing_ref["description"], "ThingRef points at a thing.");
    assert_eq!(thing_ref["x-kubernetes-map-type"], "atomic");
    assert_eq!(schemas["io.k8s.api.core.v1.Thing"]["x-kubernetes-group-version-kind"], serde_json::json!([{"group": "", "kind": "Thing", "version": "v1"}]));
    // x-kapi-type-description: the type's text on the definition, the property's at the use.
    assert_eq!(schemas["io.k8s.api.core.v1.ThingSpec"]["description"], "ThingSpec is what a thing should be.");
    assert_eq!(schemas["io.k8s.api.core.v1.Thing"]["properties"]["spec"]["description"], "Spec of the thing.");
    // x-kapi-list: given texts replace the defaults, the others keep them.
    let list = &schemas["io.k8s.api.core.v1.ThingList"];
    assert_eq!(list["description"], "ThingList is a list of Things.");
    assert_eq!(list["properties"]["items"]["description"], "Items are the things.");
    assert_eq!(list["properties"]["metadata"]["description"], "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds");

    let crd: serde_json::Value = serde_json::from_str(file(&files, "openapi/v3/apis__example.com__v1.json")).expect("v3 JSON");
    let widget = &crd["components"]["schemas"]["com.example.v1.Widget"];
    assert_eq!(widget["properties"]["spec"]["properties"]["parts"]["items"]["properties"]["name"]["maxLength"], 63);
    assert!(crd["components"]["schemas"].get("com.example.v1.WidgetSpec").is_none(), "unnamed objects stay inline");
    assert_eq!(crd["components"]["schemas"]["com.example.v1.WidgetList"]["properties"]["items"]["items"]["$ref"], "#/components/schemas/com.example.v1.Widget");
    assert!(crd["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale"]["get"].is_object());
    assert!(crd["components"]["schemas"]["io.k8s.api.autoscaling.v1.Scale"].is_object());
}
