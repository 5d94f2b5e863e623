//! Version conversion of a resource served at several versions (a CRD's `spec.conversion`): objects
//! are stored at the storage version and converted to the version of each request, list and watch.
//!
//! - [`Conversion::None`]: upstream's `None` strategy: only `apiVersion` changes.
//! - [`Conversion::Webhook`]: a `ConversionReview` (`apiextensions.k8s.io/v1`) POSTed to the
//!   webhook the schema names ([`webhook`]).
//! - [`Conversion::Hook`]: kapi's own way, since it compiles: a typed Rust hook between the
//!   generated types of two versions (`x-kapi-hooks: [convert]`), glued by codegen into one
//!   `fn(object, to_version)`.
//!
//! As upstream's `schemaCoercingConverter`, every converted object is pruned to the target
//! version's schema (and `metadata` must come back as it went, but for labels and annotations).

pub mod webhook;

use serde_json::Value;

use super::schema::{prune, Schema};
use super::KindInfo;

/// A typed conversion hook, glued by codegen: the object (at any served version) → the object at
/// `to_version` (a version name, `v1`). The error text is shown in the 500 a failed read gets.
pub type ConvertFn = fn(Value, &str) -> Result<Value, String>;

/// How a resource's objects convert between its versions (the same in each version's `KindInfo`).
#[derive(Debug, Clone, Copy, Default)]
pub enum Conversion {
    /// Only `apiVersion` changes.
    #[default]
    None,
    /// A conversion webhook.
    Webhook(WebhookConversion),
    /// A typed Rust hook.
    Hook(ConvertFn),
}

/// `spec.conversion.webhook`.
#[derive(Debug, Clone, Copy)]
pub struct WebhookConversion {
    /// `clientConfig.url`.
    pub url: Option<&'static str>,
    /// `clientConfig.service`.
    pub service: Option<ServiceReference>,
    /// `clientConfig.caBundle` (base64 of PEM certificates).
    pub ca_bundle: Option<&'static str>,
    /// `conversionReviewVersions` (kapi speaks `v1`).
    pub review_versions: &'static [&'static str],
}

/// `clientConfig.service`.
#[derive(Debug, Clone, Copy)]
pub struct ServiceReference {
    /// Namespace of the Service.
    pub namespace: &'static str,
    /// Name of the Service.
    pub name: &'static str,
    /// URL path.
    pub path: Option<&'static str>,
    /// Port (443 by default).
    pub port: u16,
}

/// Why a conversion failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConversionError(pub String);

/// Converts one resource's objects between its versions.
#[derive(Clone)]
pub struct Converter {
    /// `group` of the resource.
    group: &'static str,
    /// Every version of the resource (its served and unserved ones), for pruning targets.
    versions: Vec<&'static KindInfo>,
    conversion: Conversion,
    /// How webhook Services are reached.
    resolver: Option<webhook::ServiceResolver>,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter").field("group", &self.group).field("conversion", &self.conversion).finish_non_exhaustive()
    }
}

impl Converter {
    /// The converter of the resource `info` belongs to, among `kinds`.
    pub fn new(info: &'static KindInfo, kinds: &[&'static KindInfo], resolver: Option<webhook::ServiceResolver>) -> Converter {
        let versions = kinds.iter().copied().filter(|k| k.group == info.group && k.plural == info.plural).collect();
        Converter { group: info.group, versions, conversion: info.conversion, resolver }
    }

    /// The `apiVersion` of `version`.
    fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// The version (`v1`) of an `apiVersion` of this resource's group, if it is one.
    fn version_of<'a>(&self, api_version: &'a str) -> Option<&'a str> {
        if self.group.is_empty() {
            return (!api_version.contains('/')).then_some(api_version);
        }
        api_version.strip_prefix(self.group)?.strip_prefix('/')
    }

    fn schema(&self, version: &str) -> Option<&'static Schema> {
        self.versions.iter().find(|k| k.version == version).map(|k| k.schema)
    }

    /// How many versions the resource has.
    pub fn versions(&self) -> usize {
        self.versions.len()
    }

    /// `object` at `to_version` (unchanged when it is there already).
    pub fn convert(&self, object: Value, to_version: &str) -> Result<Value, ConversionError> {
        let from = object.get("apiVersion").and_then(Value::as_str).and_then(|av| self.version_of(av)).map(str::to_string);
        let Some(from) = from else {
            return Err(ConversionError(format!(
                "{:?} is not an apiVersion of {}",
                object.get("apiVersion").and_then(Value::as_str).unwrap_or_default(),
                self.group
            )));
        };
        if from == to_version {
            return Ok(object);
        }
        let Some(schema) = self.schema(to_version) else {
            return Err(ConversionError(format!("{} is not a version of the resource", self.api_version(to_version))));
        };
        let mut out = match &self.conversion {
            Conversion::None => {
                let mut out = object;
                if let Some(map) = out.as_object_mut() {
                    map.insert("apiVersion".into(), Value::String(self.api_version(to_version)));
                }
                out
            }
            Conversion::Hook(f) => {
                let meta = object.get("metadata").cloned();
                let out = f(object, to_version).map_err(ConversionError)?;
                restore_metadata(out, meta, &self.api_version(to_version))?
            }
            Conversion::Webhook(w) => webhook::convert(w, self.resolver.as_ref(), object, &self.api_version(to_version))?,
        };
        prune(schema, &mut out);
        Ok(out)
    }
}

impl super::apply::VersionConverter for Converter {
    fn convert(&self, object: &Value, api_version: &str) -> Option<(Value, &'static Schema)> {
        let version = self.version_of(api_version)?;
        let schema = self.schema(version)?;
        // Managed fields are compared on objects without them (and conversion must not see them).
        let converted = Converter::convert(self, object.clone(), version).ok()?;
        Some((converted, schema))
    }
}

/// Upstream's rule for converted objects: apiVersion must be the one asked for, and metadata may
/// change only in labels and annotations (everything else is restored from the input).
fn restore_metadata(mut out: Value, input_meta: Option<Value>, api_version: &str) -> Result<Value, ConversionError> {
    let Some(map) = out.as_object_mut() else {
        return Err(ConversionError("the converted object is not a JSON object".into()));
    };
    match map.get("apiVersion").and_then(Value::as_str) {
        Some(av) if av == api_version => {}
        Some(av) => return Err(ConversionError(format!("invalid apiVersion {av:?} in the converted object, expected {api_version:?}"))),
        None => {
            map.insert("apiVersion".into(), Value::String(api_version.to_string()));
        }
    }
    let mut meta = input_meta.unwrap_or_else(|| Value::Object(Default::default()));
    if let (Some(meta_map), Some(Value::Object(converted))) = (meta.as_object_mut(), map.get("metadata")) {
        for key in ["labels", "annotations"] {
            match converted.get(key) {
                Some(v) => {
                    meta_map.insert(key.into(), v.clone());
                }
                None => {
                    meta_map.remove(key);
                }
            }
        }
    }
    map.insert("metadata".into(), meta);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apimachinery::schema::{ObjectSchema, Type};
    use serde_json::json;

    static SPEC_V1: ObjectSchema = ObjectSchema {
        name: "v1.Spec",
        properties: &[("size", Schema { ty: Type::Integer, ..Schema::DEFAULT })],
        ..ObjectSchema::DEFAULT
    };
    static ROOT_V1: ObjectSchema = ObjectSchema {
        name: "v1.Widget",
        properties: &[
            ("apiVersion", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("kind", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("metadata", Schema { ty: Type::Any, preserve_unknown_fields: true, ..Schema::DEFAULT }),
            ("spec", Schema { ty: Type::Object(&SPEC_V1), ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static V1_SCHEMA: Schema = Schema { ty: Type::Object(&ROOT_V1), ..Schema::DEFAULT };
    static SPEC_V2: ObjectSchema = ObjectSchema {
        name: "v2.Spec",
        properties: &[("replicas", Schema { ty: Type::Integer, ..Schema::DEFAULT })],
        ..ObjectSchema::DEFAULT
    };
    static ROOT_V2: ObjectSchema = ObjectSchema {
        name: "v2.Widget",
        properties: &[
            ("apiVersion", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("kind", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("metadata", Schema { ty: Type::Any, preserve_unknown_fields: true, ..Schema::DEFAULT }),
            ("spec", Schema { ty: Type::Object(&SPEC_V2), ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static V2_SCHEMA: Schema = Schema { ty: Type::Object(&ROOT_V2), ..Schema::DEFAULT };
    static V1: KindInfo = KindInfo { group: "example.com", kind: "Widget", plural: "widgets", schema: &V1_SCHEMA, ..KindInfo::BLANK };
    static V2: KindInfo = KindInfo { version: "v2", storage: false, schema: &V2_SCHEMA, ..V1 };

    #[test]
    fn none_changes_the_api_version_and_prunes_to_the_target() {
        let c = Converter::new(&V1, &[&V1, &V2], None);
        let v1 = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}});
        let v2 = c.convert(v1.clone(), "v2").expect("converts");
        assert_eq!(v2, json!({"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}));
        assert_eq!(c.convert(v1.clone(), "v1").expect("same version"), v1);
        assert!(c.convert(json!({"apiVersion": "other.io/v1"}), "v2").is_err());
        assert!(c.convert(v1, "v3").is_err());
    }

    fn size_to_replicas(mut object: Value, to: &str) -> Result<Value, String> {
        let spec = object.get_mut("spec").and_then(Value::as_object_mut).ok_or("no spec")?;
        match to {
            "v2" => {
                let size = spec.remove("size").unwrap_or(Value::Null);
                spec.insert("replicas".into(), size);
            }
            _ => {
                let replicas = spec.remove("replicas").unwrap_or(Value::Null);
                spec.insert("size".into(), replicas);
            }
        }
        object["apiVersion"] = Value::String(format!("example.com/{to}"));
        object["metadata"]["uid"] = json!("changed by the hook");
        object["metadata"]["labels"] = json!({"converted": "yes"});
        Ok(object)
    }

    static HOOKED_V1: KindInfo = KindInfo { conversion: Conversion::Hook(size_to_replicas), ..V1 };
    static HOOKED_V2: KindInfo = KindInfo { conversion: Conversion::Hook(size_to_replicas), ..V2 };

    #[test]
    fn a_hook_converts_and_metadata_keeps_all_but_labels_and_annotations() {
        let c = Converter::new(&HOOKED_V2, &[&HOOKED_V1, &HOOKED_V2], None);
        let v1 = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "uid": "u"}, "spec": {"size": 3}});
        let v2 = c.convert(v1, "v2").expect("converts");
        assert_eq!(
            v2,
            json!({"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w", "uid": "u", "labels": {"converted": "yes"}}, "spec": {"replicas": 3}})
        );
        let back = c.convert(v2, "v1").expect("converts back");
        assert_eq!(back["spec"], json!({"size": 3}));
    }
}
