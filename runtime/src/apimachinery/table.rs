//! `meta.k8s.io/v1` Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): column
//! definitions and rows computed from a kind's printer columns, as `kubectl get` receives them.
//!
//! Two flavours, as upstream has two table convertors:
//! - kinds of the groups kube-apiserver serves ([`is_builtin_group`]) behave like its Go printers
//!   (`pkg/printers/internalversion`): a missing field prints as its Go zero value (`""`, `0`),
//!   `date` columns hold RFC 3339 timestamps, and named printer hooks (`x-kapi-printer`, see
//!   [`printers`]) compute the cells a JSONPath cannot (pod status, ages, selectors, ...);
//! - other kinds behave like CustomResourceDefinitions (`tableconvertor`): `Name`, then each
//!   column's first JSONPath result typed by the column (`null` when missing), `date` columns as ages;
//!   without printer columns the table is `Name` + `Age`.

mod printers;

pub use printers::HOOKS as PRINTER_HOOKS;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::jsonpath::{self, JsonPath};
use super::resource::{KindInfo, PrinterColumn};
use super::schema::{Schema, Type};
use super::time::Time;
use crate::endpoints::discovery::is_builtin_group;

/// `metav1.ObjectMeta`'s description of `name` (the `Name` column's description).
pub const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// `metav1.ObjectMeta`'s description of `creationTimestamp` (the `Age`/`Created At` column's description).
pub const CREATION_TIMESTAMP_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The `includeObject` query parameter: what each row's `object` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// `None`: `object` is `null`.
    None,
    /// `Metadata` (the default): a `PartialObjectMetadata` with the object's metadata.
    #[default]
    Metadata,
    /// `Object`: the whole object.
    Object,
}

/// Built-in columns whose Go printer writes a placeholder instead of an empty value
/// (`group`, `kind`, column name, placeholder).
const EMPTY_PLACEHOLDERS: &[(&str, &str, &str, &str)] = &[
    ("", "Pod", "IP", "<none>"),
    ("", "Pod", "Node", "<none>"),
    ("", "Pod", "Nominated Node", "<none>"),
    ("", "Node", "OS-Image", "<unknown>"),
    ("", "Node", "Kernel-Version", "<unknown>"),
    ("", "Node", "Container-Runtime", "<unknown>"),
];

/// Go's zero `time.Time` as `Format(time.RFC3339)` writes it.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// True when the kind is printed like kube-apiserver's built-in kinds (see the module docs).
fn builtin(info: &KindInfo) -> bool {
    is_builtin_group(info.group)
}

/// True when a built-in kind places its own `Name` column (events put it last, at priority 1).
fn has_own_name_column(info: &KindInfo) -> bool {
    builtin(info) && info.printer_columns.iter().any(|c| c.format == "name")
}

fn column(name: &str, type_: &str, format: &str, description: &str, priority: i32) -> Value {
    json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
}

/// The table's `columnDefinitions`: `Name` (unless a built-in kind places it itself), the default
/// creation-time column when the kind has no printer columns (`Created At` for built-in kinds, as
/// the default table convertor; `Age` for others, as CRDs), then the kind's printer columns.
pub fn column_definitions(info: &KindInfo) -> Vec<Value> {
    let mut cols = Vec::with_capacity(info.printer_columns.len() + 2);
    if !has_own_name_column(info) {
        cols.push(column("Name", "string", "name", NAME_DESCRIPTION, 0));
    }
    if info.printer_columns.is_empty() {
        let name = if builtin(info) { "Created At" } else { "Age" };
        cols.push(column(name, "date", "", CREATION_TIMESTAMP_DESCRIPTION, 0));
    }
    for c in info.printer_columns {
        cols.push(column(c.name, c.type_, c.format, c.description, c.priority));
    }
    cols
}

/// The cells of one object's row, in [`column_definitions`] order. `now` is the reference time of
/// ages (`5m10s`).
pub fn row_cells(info: &KindInfo, object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let go = builtin(info);
    let mut cells = Vec::with_capacity(info.printer_columns.len() + 2);
    if !has_own_name_column(info) {
        cells.push(Value::String(str_at(object, "/metadata/name").to_string()));
    }
    if info.printer_columns.is_empty() {
        let created = object.pointer("/metadata/creationTimestamp");
        cells.push(if go {
            Value::String(rfc3339_cell(created))
        } else {
            JsonPath::parse(".metadata.creationTimestamp").map_or(Value::Null, |p| jsonpath::cell("date", &p, object, now))
        });
    }
    for col in info.printer_columns {
        let hooked = col.printer.and_then(|hook| printers::cell(hook, info, col, object, now));
        cells.push(match hooked {
            Some(v) => v,
            None if go => go_cell(info, col, object),
            None => crd_cell(col, object, now),
        });
    }
    cells
}

/// A CRD column cell (`tableconvertor`): first JSONPath result typed by the column, `null` if none.
fn crd_cell(col: &PrinterColumn, object: &Value, now: DateTime<Utc>) -> Value {
    match JsonPath::parse(col.json_path) {
        Ok(path) => jsonpath::cell(col.type_, &path, object, now),
        Err(_) => Value::Null,
    }
}

/// A built-in column cell without a hook, as the Go printer writing the typed field would: the
/// value as it is (an integer stays an integer even in a `string` column), the field type's zero
/// value when missing, `date` columns as RFC 3339.
fn go_cell(info: &KindInfo, col: &PrinterColumn, object: &Value) -> Value {
    let placeholder = EMPTY_PLACEHOLDERS
        .iter()
        .find(|(g, k, c, _)| *g == info.group && *k == info.kind && *c == col.name)
        .map(|(_, _, _, p)| *p);
    let found = JsonPath::parse(col.json_path).ok().and_then(|p| p.find_first(object).cloned());
    if col.type_ == "date" {
        return Value::String(rfc3339_cell(found.as_ref()));
    }
    let value = match found {
        Some(Value::Null) | None => zero_value(info.schema, col),
        Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => v,
        Some(other) => Value::String(jsonpath::print_text(&other)),
    };
    match (placeholder, &value) {
        (Some(p), Value::String(s)) if s.is_empty() => Value::String(p.to_string()),
        _ => value,
    }
}

/// The Go zero value of the field a simple `.a.b.c` path names (by its schema type), else of the
/// column type.
fn zero_value(schema: &Schema, col: &PrinterColumn) -> Value {
    let field_type = col.json_path.strip_prefix('.').and_then(|path| {
        let mut s = schema;
        for name in path.split('.') {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            s = s.field(name)?;
        }
        Some(s.ty)
    });
    match (field_type, col.type_) {
        (Some(Type::Integer | Type::Number), _) | (None | Some(Type::Any), "integer" | "number") => json!(0),
        (Some(Type::Boolean), _) | (None | Some(Type::Any), "boolean") => json!(false),
        _ => json!(""),
    }
}

/// `Time.UTC().Format(time.RFC3339)` of a timestamp value (Go's zero time when missing).
fn rfc3339_cell(v: Option<&Value>) -> String {
    match v.and_then(Value::as_str) {
        Some(s) => s.parse::<Time>().map_or_else(|_| s.to_string(), |t| t.truncated().to_rfc3339()),
        None => GO_ZERO_TIME.to_string(),
    }
}

/// The string at a JSON pointer, `""` when missing or not a string.
fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A row's `object` for the `includeObject` policy.
fn row_object(object: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
        IncludeObject::Object => object.clone(),
    }
}

/// A complete `meta.k8s.io/v1` Table of `objects` (one row each, in order). `list_meta` becomes the
/// table's `metadata` as given (`resourceVersion`, `continue`, `remainingItemCount`, computed by the
/// caller). Column definitions are always included, as kube-apiserver does for lists and single
/// objects (only watch events after the first omit them).
pub fn build_table(
    info: &KindInfo,
    objects: &[&Value],
    include_object: IncludeObject,
    list_meta: Value,
    now: DateTime<Utc>,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut row = Map::new();
            row.insert("cells".into(), Value::Array(row_cells(info, object, now)));
            if let Some(conditions) = printers::row_conditions(info, object) {
                row.insert("conditions".into(), conditions);
            }
            row.insert("object".into(), row_object(object, include_object));
            Value::Object(row)
        })
        .collect();
    let metadata = if list_meta.is_object() { list_meta } else { json!({}) };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions(info),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const fn col(name: &'static str, type_: &'static str, json_path: &'static str, printer: Option<&'static str>) -> PrinterColumn {
        PrinterColumn { name, type_, format: "", description: "d", priority: 0, json_path, printer }
    }

    const WIDGET: KindInfo = KindInfo {
        group: "example.com",
        kind: "Widget",
        list_kind: "WidgetList",
        plural: "widgets",
        singular: "widget",
        definition: "com.example.v1.Widget",
        proto_package: "com.example.v1",
        ..KindInfo::BLANK
    };

    static WIDGET_COLUMNS: KindInfo = KindInfo {
        printer_columns: &[
            col("Color", "string", ".spec.color", None),
            col("Size", "integer", ".spec.size", None),
            col("Created", "date", ".metadata.creationTimestamp", None),
            col("Hooked", "string", ".spec.color", Some("no-such-hook")),
        ],
        ..WIDGET
    };

    static LEASE: KindInfo = KindInfo {
        group: "coordination.k8s.io",
        kind: "Lease",
        printer_columns: &[col("Holder", "string", ".spec.holderIdentity", None), col("Age", "string", ".metadata.creationTimestamp", Some("age"))],
        ..WIDGET
    };

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 10, 0).single().unwrap_or_default()
    }

    fn widget() -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget",
               "metadata": {"name": "w", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z"},
               "spec": {"color": "red", "size": 3.0}})
    }

    #[test]
    fn crd_default_columns() {
        let defs = column_definitions(&WIDGET);
        assert_eq!(defs.len(), 2);
        assert_eq!(defs[1], json!({"name": "Age", "type": "date", "format": "", "description": CREATION_TIMESTAMP_DESCRIPTION, "priority": 0}));
        assert_eq!(row_cells(&WIDGET, &widget(), now()), vec![json!("w"), json!("10m")]);
    }

    #[test]
    fn crd_columns() {
        assert_eq!(column_definitions(&WIDGET_COLUMNS)[0]["format"], "name");
        assert_eq!(row_cells(&WIDGET_COLUMNS, &widget(), now()), vec![json!("w"), json!("red"), json!(3), json!("10m"), json!("red")]);
        let bare = json!({"metadata": {"name": "b"}});
        assert_eq!(row_cells(&WIDGET_COLUMNS, &bare, now()), vec![json!("b"), Value::Null, Value::Null, Value::Null, Value::Null]);
    }

    #[test]
    fn builtin_zero_values_and_hooks() {
        let lease = json!({"metadata": {"name": "l", "creationTimestamp": "2026-01-01T00:09:58Z"}, "spec": {}});
        assert_eq!(row_cells(&LEASE, &lease, now()), vec![json!("l"), json!(""), json!("2s")]);
    }

    #[test]
    fn table_shape() {
        let w = widget();
        let t = build_table(&WIDGET, &[&w], IncludeObject::Metadata, json!({"resourceVersion": "5"}), now());
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["metadata"], json!({"resourceVersion": "5"}));
        assert_eq!(t["rows"][0]["object"], json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": w["metadata"]}));
        let keys: Vec<&String> = t.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]);
        let t = build_table(&WIDGET, &[&w], IncludeObject::None, Value::Null, now());
        assert_eq!(t["rows"][0]["object"], Value::Null);
        assert_eq!(t["metadata"], json!({}));
        let t = build_table(&WIDGET, &[&w], IncludeObject::Object, json!({}), now());
        assert_eq!(t["rows"][0]["object"], w);
    }
}
