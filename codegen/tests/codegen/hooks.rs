//! Strategy modules and typed hooks (`x-kapi-strategy`, `x-kapi-hooks`): a hook the schema names
//! that the module lacks, a hook function the schema does not name, a module no schema names, an
//! unknown hook name and conversion settings are schema errors with their place; a complete module
//! loads and its glue reaches every version's `KindInfo`.

use kapi_codegen::load_dir;

fn schema(hooks: &str, conversion: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: widgets.example.com}}
spec:
  group: example.com
  names: {{kind: Widget, plural: widgets}}
  scope: Namespaced
  x-kapi-strategy: widget
  x-kapi-hooks: {hooks}
{conversion}  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {{type: object, properties: {{size: {{type: integer}}}}}}
  - name: v2
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {{type: object, properties: {{replicas: {{type: integer}}}}}}
"
    )
}

/// A schema folder with `widgets.yaml` and the given `.rs` files; the load's error text.
fn load(yaml: &str, modules: &[(&str, &str)]) -> Result<kapi_codegen::Model, String> {
    let dir = tempfile_dir();
    let group = dir.join("example.com");
    std::fs::create_dir_all(&group).expect("mkdir");
    std::fs::write(group.join("widgets.yaml"), yaml).expect("write");
    for (name, text) in modules {
        std::fs::write(group.join(name), text).expect("write");
    }
    let out = load_dir(&dir).map_err(|d| d.to_string().replace(&format!("{}/", dir.display()), ""));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn tempfile_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("kapi-hooks-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const FULL: &str = "use super::example_com::{v1, v2};
pub fn default(w: &mut v1::Widget) {}
pub fn validate_update(w: &v1::Widget, old: &v1::Widget) -> Vec<kapi_runtime::apimachinery::FieldError> { Vec::new() }
pub fn convert_v2_to_v1(w: v2::Widget) -> Result<v1::Widget, String> { Err(String::new()) }
pub fn convert_v1_to_v2(w: v1::Widget) -> Result<v2::Widget, String> { Err(String::new()) }
fn helper() {}
";

#[test]
fn a_complete_module_loads() {
    let m = load(&schema("[default, validateUpdate, convert]", ""), &[("widget.rs", FULL)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.kinds.len(), 2);
    for k in &m.kinds {
        assert_eq!(k.strategy.as_deref(), Some("widget"));
        assert!(k.strategy_file.as_ref().is_some_and(|f| f.ends_with("example.com/widget.rs")));
        assert_eq!(k.storage_version, "v1");
    }
    let code = kapi_codegen::emit::rust::emit(&m).to_string();
    assert!(code.contains("__kapi_widget_convert") && code.contains("Conversion :: Hook"), "the convert glue reaches KindInfo");
    assert!(code.contains("default : :: std :: option :: Option :: Some"), "the default hook reaches KindInfo");
}

#[test]
fn every_mistake_is_an_error_with_its_place() {
    // Named but missing: validateCreate and one direction of convert; written but not named:
    // validate_update; and a module nobody names.
    let partial = "pub fn default(w: &mut super::example_com::v1::Widget) {}
pub fn validate_update(a: &super::example_com::v1::Widget, b: &super::example_com::v1::Widget) -> Vec<kapi_runtime::apimachinery::FieldError> { Vec::new() }
pub fn convert_v2_to_v1(w: super::example_com::v2::Widget) -> Result<super::example_com::v1::Widget, String> { Err(String::new()) }
";
    let err = load(&schema("[default, validateCreate, convert]", ""), &[("widget.rs", partial), ("gadget.rs", "")]).expect_err("errors");
    for expected in [
        "example.com/widgets.yaml:9:27: error: hook validateCreate is named here but",
        "widget.rs has no `pub fn validate_create`\n  help: write `pub fn validate_create(object: &T) -> Vec<FieldError>`",
        "example.com/widgets.yaml:9:43: error: hook convert is named here but",
        "widget.rs has no `pub fn convert_v1_to_v2`",
        "example.com/widget.rs:1:1: error: `pub fn validate_update` is a hook that x-kapi-hooks of",
        "help: add validateUpdate to x-kapi-hooks (or rename the function)",
        "example.com/gadget.rs:1:1: error: a strategy module that no schema names",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }

    let err = load(&schema("[defualt]", ""), &[("widget.rs", "")]).expect_err("unknown hook");
    assert!(err.contains("unknown hook \"defualt\"\n  help: did you mean `default`?"), "{err}");
    let err = load(&schema("[default]", ""), &[]).expect_err("no module");
    assert!(err.contains("x-kapi-strategy: widget names the strategy module") && err.contains("which does not exist"), "{err}");
    let webhook = "  conversion: {strategy: Webhook, webhook: {conversionReviewVersions: [v1alpha1], clientConfig: {url: 'http://x/convert'}}}\n";
    let err = load(&schema("[convert]", webhook), &[("widget.rs", FULL)]).expect_err("webhook with a convert hook");
    for expected in ["a kind with a convert hook converts with it", "'https' is the only allowed URL scheme", "conversionReviewVersions: Invalid value: [\"v1alpha1\"]: must include at least one of v1, v1beta1"] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}
