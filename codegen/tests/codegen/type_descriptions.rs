//! A named type's own description (`x-kapi-type-description`) versus the descriptions of its uses,
//! and the list kind's texts (`x-kapi-list`).

use std::path::Path;

use kapi_codegen::model::{lower_docs, Model};
use kapi_codegen::source::load_yaml;

/// A kind whose `spec` uses `Part` as a property (`part`) and as array items (`parts`); `part_extra`
/// goes in `part`'s subschema, `parts_extra` in the items', `version_extra` in the version.
fn kind(part_extra: &str, parts_extra: &str, version_extra: &str) -> String {
    format!(
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: widgets.example.com}}
spec:
  group: example.com
  names: {{kind: Widget, plural: widgets}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
{version_extra}    schema:
      openAPIV3Schema:
        type: object
        properties:
          part:
            type: object
            x-kapi-type: com.example.v1.Part
            description: The main part.
{part_extra}            properties:
              name: {{type: string}}
          parts:
            type: array
            items:
              type: object
              x-kapi-type: com.example.v1.Part
              description: A part of a widget.
{parts_extra}              properties:
                name: {{type: string}}
"#
    )
}

fn lower(text: &str) -> Result<Model, String> {
    let docs = load_yaml(Path::new("widgets.yaml"), text).map_err(|e| e.message)?;
    lower_docs(&docs).map_err(|d| d.to_string())
}

fn part_description(m: &Model) -> Option<&str> {
    m.named("com.example.v1.Part").and_then(|t| t.description.as_deref())
}

#[test]
fn explicit_type_description_wins_and_uses_keep_theirs() {
    let m = lower(&kind("            x-kapi-type-description: Part is a piece of a widget.\n", "", "")).expect("lowers");
    assert_eq!(part_description(&m), Some("Part is a piece of a widget."));
    let root = m.named("com.example.v1.Widget").and_then(|t| t.object()).expect("root object");
    assert_eq!(root.properties["part"].description.as_deref(), Some("The main part."));
}

#[test]
fn without_it_an_item_use_describes_the_type() {
    let m = lower(&kind("", "", "")).expect("lowers");
    assert_eq!(part_description(&m), Some("A part of a widget."));
}

#[test]
fn the_type_description_is_not_part_of_the_shape() {
    // Same text at both uses (the items' own description is the type's): no conflict.
    let m = lower(&kind("            x-kapi-type-description: A part of a widget.\n", "", "")).expect("lowers");
    assert_eq!(part_description(&m), Some("A part of a widget."));
}

#[test]
fn conflicting_type_descriptions_are_an_error() {
    let err = lower(&kind("            x-kapi-type-description: One text.\n", "              x-kapi-type-description: Another text.\n", ""))
        .expect_err("two texts for one type");
    assert!(err.contains("x-kapi-type-description of com.example.v1.Part differs"), "{err}");
}

#[test]
fn a_type_description_needs_a_type() {
    let text = kind("", "", "").replace(
        "          parts:\n",
        "          color: {type: string, x-kapi-type-description: Not a type.}\n          parts:\n",
    );
    let err = lower(&text).expect_err("no x-kapi-type");
    assert!(err.contains("has no x-kapi-type"), "{err}");
}

#[test]
fn list_texts_default_or_come_from_x_kapi_list() {
    let m = lower(&kind("", "", "")).expect("lowers");
    assert_eq!(m.kinds[0].list, Default::default());
    let m = lower(&kind("", "", "    x-kapi-list: {description: WidgetList is a list of Widgets., metadataDescription: Standard list metadata.}\n")).expect("lowers");
    let list = &m.kinds[0].list;
    assert_eq!(list.description.as_deref(), Some("WidgetList is a list of Widgets."));
    assert_eq!(list.items_description, None);
    assert_eq!(list.metadata_description.as_deref(), Some("Standard list metadata."));
    let err = lower(&kind("", "", "    x-kapi-list: {descripton: typo}\n")).expect_err("unknown key");
    assert!(err.contains("descripton"), "{err}");
}
