//! load → validate → lower: schema files become the IR, and every problem is reported with its
//! file:line:column and a hint.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::wellknown::{self, OBJECT_META};
use super::{Kind, Model, Module, NamedType, Object, PrinterColumn, Scale, Schema, Ty};
use crate::diag::{did_you_mean, Diagnostics};
use crate::schema::{AdditionalProperties, CustomResourceDefinition, JsonSchemaProps, Scope};
use crate::source::{load_yaml, SourceDoc};

/// Loads every `*.yaml`/`*.yml` file under `dir` (recursively, sorted) into the model.
pub fn load_dir(dir: &Path) -> Result<Model, Diagnostics> {
    let (model, diags) = load_dir_partial(dir);
    if diags.is_empty() {
        Ok(model)
    } else {
        Err(diags)
    }
}

/// [`load_dir`] that also gives, beside every problem, the model of the files without problems: the
/// later phases (protobuf numbering) check it, so that one run reports every error of every phase.
pub fn load_dir_partial(dir: &Path) -> (Model, Diagnostics) {
    let mut files = Vec::new();
    let mut modules = Vec::new();
    let mut diags = Diagnostics::default();
    collect_files(dir, &mut files, &mut modules, &mut diags);
    if !diags.is_empty() {
        return (Model::default(), diags);
    }
    files.sort();
    load_files_in(&files, &modules)
}

/// Schema files (`.yaml`, `.yml`) into `out`, strategy modules (`.rs`) into `modules`.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>, modules: &mut Vec<PathBuf>, diags: &mut Diagnostics) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(loc0(dir), format!("cannot read schema folder: {e}"), Some("check the path given to include_schemas!".into()));
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_files(&p, out, modules, diags);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        } else if p.extension().is_some_and(|e| e == "rs") {
            modules.push(p);
        }
    }
}

fn loc0(p: &Path) -> crate::source::Location {
    crate::source::Location { file: p.to_path_buf(), pos: crate::source::Pos { line: 1, col: 1 } }
}

/// Loads the given files into the model.
pub fn load_files(files: &[PathBuf]) -> Result<Model, Diagnostics> {
    let (model, diags) = load_files_in(files, &[]);
    if diags.is_empty() {
        Ok(model)
    } else {
        Err(diags)
    }
}

/// [`load_files`], with the strategy modules (`.rs`) found beside them (each must be named); every
/// problem, and the model of the files without any.
fn load_files_in(files: &[PathBuf], modules: &[PathBuf]) -> (Model, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut docs = Vec::new();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(text) => match load_yaml(f, &text) {
                Ok(ds) => docs.extend(ds),
                Err(e) => {
                    let hint = e.hint();
                    diags.push(e.location, format!("invalid YAML: {}", e.message), hint)
                }
            },
            Err(e) => diags.push(loc0(f), format!("cannot read: {e}"), None),
        }
    }
    let (mut model, lowered) = lower_docs_in(&docs, modules);
    diags.0.extend(lowered.0);
    model.files = files.to_vec();
    (model, diags)
}

/// Checks and lowers loaded documents.
pub fn lower_docs(docs: &[SourceDoc]) -> Result<Model, Diagnostics> {
    let (model, diags) = lower_docs_in(docs, &[]);
    if diags.is_empty() {
        Ok(model)
    } else {
        Err(diags)
    }
}

/// [`lower_docs`], checking that every strategy module in `modules` is named by a schema; every
/// problem, and the model of the kinds whose files have none.
fn lower_docs_in(docs: &[SourceDoc], modules: &[PathBuf]) -> (Model, Diagnostics) {
    let format = crate::schema::format_json_schema();
    let mut diags = Diagnostics::default();
    let mut lw = Lowerer::default();
    for doc in docs {
        let before = diags.0.len();
        let cleaned = crate::check::check_shape(doc, &format, &mut diags);
        let shape_errors = diags.0.len() > before;
        // Lower even after shape errors (with the offending keys removed) to report every problem at once.
        match serde_json::from_value::<CustomResourceDefinition>(cleaned) {
            Ok(crd) => lw.crd(doc, &crd, &mut diags),
            Err(_) if shape_errors => {}
            Err(e) => diags.push(doc.locate(&[]), format!("not a valid schema file: {e}"), None),
        }
    }
    lw.finish(&mut diags);
    super::hooks::check_unnamed(&lw.kinds, modules, &mut diags);
    super::cel_check::check(&lw.kinds, &lw.types, &mut diags);
    let mut kinds = lw.kinds;
    kinds.retain(|k| !diags.0.iter().any(|d| d.location.file == k.file));
    kinds.sort_by(|a, b| (&a.group, &a.version, &a.kind).cmp(&(&b.group, &b.version, &b.kind)));
    (Model { kinds, types: lw.types, files: Vec::new() }, diags)
}

#[derive(Default)]
struct Lowerer {
    kinds: Vec<Kind>,
    types: BTreeMap<String, NamedType>,
    /// Where each named type was first defined, and a fingerprint of its shape.
    defined_at: BTreeMap<String, (crate::source::Location, Value)>,
    /// Each named type's `x-kapi-type-description`, where first given.
    type_descriptions: BTreeMap<String, (crate::source::Location, String)>,
    /// References to named types without a body (checked in `finish`).
    stubs: Vec<(String, crate::source::Location)>,
    /// (group, kind) and (group, plural) → where first seen.
    seen_kinds: BTreeMap<(String, String), crate::source::Location>,
    seen_plurals: BTreeMap<(String, String), crate::source::Location>,
}

fn p(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

/// Rust module identifier of a group.
pub(crate) fn group_module(group: &str) -> String {
    if group.is_empty() {
        return "core".into();
    }
    if let Some(first) = group.strip_suffix(".k8s.io").and_then(|g| g.split('.').next()) {
        return ident(first);
    }
    if !group.contains('.') {
        return ident(group);
    }
    ident(&group.replace(['.', '-'], "_"))
}

fn ident(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Default protobuf package: reversed group labels + version (`example.com`, `v1` → `com.example.v1`).
pub(crate) fn default_proto_package(group: &str, version: &str) -> String {
    if group.is_empty() {
        return format!("k8s.io.api.core.{version}");
    }
    let mut labels: Vec<&str> = group.split('.').collect();
    labels.reverse();
    format!("{}.{}", labels.join(".").replace('-', "_"), version)
}

/// Default definition-name prefix for a group-version (`com.example.v1`), as upstream names CRD models.
fn default_def_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        return format!("io.k8s.api.core.{version}");
    }
    let mut labels: Vec<&str> = group.split('.').collect();
    labels.reverse();
    format!("{}.{}", labels.join("."), version)
}

fn upper_camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if up {
                out.extend(c.to_uppercase());
                up = false;
            } else {
                out.push(c);
            }
        } else {
            up = true;
        }
    }
    out
}

/// A lower-case RFC 1123 DNS label (at most 63 characters).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A lower-case RFC 1123 DNS subdomain (dot-separated labels, at most 253 characters).
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A Kubernetes version name: `v1`, `v2beta3`, `v1alpha1` (no leading zeros).
pub fn is_version_name(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else { return false };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() || digits.starts_with('0') {
        return false;
    }
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return true;
    }
    let num = tail.strip_prefix("alpha").or_else(|| tail.strip_prefix("beta"));
    num.is_some_and(|n| !n.is_empty() && !n.starts_with('0') && n.chars().all(|c| c.is_ascii_digit()))
}

struct Ctx<'a> {
    doc: &'a SourceDoc,
    module: Module,
    def_prefix: String,
    proto_package: String,
    /// The version has a protobuf form (`x-kapi-proto-package`, or an `x-kapi-proto` number in its tree).
    protobuf: bool,
}

/// Whether any node of a schema tree carries `x-kapi-proto`.
fn has_proto_number(node: &JsonSchemaProps) -> bool {
    node.x_kapi_proto.is_some()
        || node.properties.values().any(has_proto_number)
        || node.items.as_deref().is_some_and(has_proto_number)
        || match node.additional_properties.as_deref() {
            Some(crate::schema::AdditionalProperties::Schema(s)) => has_proto_number(s),
            _ => false,
        }
}

impl Lowerer {
    fn crd(&mut self, doc: &SourceDoc, crd: &CustomResourceDefinition, diags: &mut Diagnostics) {
        if crd.api_version != "apiextensions.k8s.io/v1" {
            diags.push(
                doc.locate(&p(&["apiVersion"])),
                format!("schema files are CustomResourceDefinitions; apiVersion is {:?}", crd.api_version),
                Some("write `apiVersion: apiextensions.k8s.io/v1`".into()),
            );
        }
        if crd.kind != "CustomResourceDefinition" {
            diags.push(doc.locate(&p(&["kind"])), format!("kind is {:?}", crd.kind), Some("write `kind: CustomResourceDefinition`".into()));
        }
        let spec = &crd.spec;
        let group = spec.group.as_str();
        if !group.is_empty() && !is_dns_subdomain(group) {
            diags.push(
                doc.locate(&p(&["spec", "group"])),
                format!("group {group:?} is not a lower-case DNS subdomain"),
                Some("write a domain you own, e.g. `group: example.com` (or \"\" for the core group)".into()),
            );
        }
        let names = &spec.names;
        if !names.kind.chars().next().is_some_and(|c| c.is_ascii_uppercase()) || !names.kind.chars().all(|c| c.is_ascii_alphanumeric()) {
            diags.push(
                doc.locate(&p(&["spec", "names", "kind"])),
                format!("kind {:?} must be CamelCase letters and digits starting with an upper-case letter", names.kind),
                Some(format!("e.g. `kind: {}`", upper_camel(&names.kind))),
            );
        }
        if !is_dns_label(&names.plural) {
            diags.push(
                doc.locate(&p(&["spec", "names", "plural"])),
                format!("plural {:?} must be a lower-case DNS label", names.plural),
                Some(format!("e.g. `plural: {}s`", names.kind.to_lowercase())),
            );
        }
        let expected_name = if group.is_empty() { names.plural.clone() } else { format!("{}.{}", names.plural, group) };
        if crd.metadata.name != expected_name {
            diags.push(
                doc.locate(&p(&["metadata", "name"])),
                format!("metadata.name is {:?} but must be <plural>.<group>", crd.metadata.name),
                Some(format!("write `name: {expected_name}`")),
            );
        }
        let singular = names.singular.clone().unwrap_or_else(|| names.kind.to_lowercase());
        let list_kind = names.list_kind.clone().unwrap_or_else(|| format!("{}List", names.kind));
        let here = doc.locate(&p(&["spec", "names", "kind"]));
        if let Some(prev) = self.seen_kinds.insert((group.to_string(), names.kind.clone()), here.clone()) {
            diags.push(here.clone(), format!("kind {} in group {group:?} is already defined at {prev}", names.kind), Some("keep one file per kind".into()));
        }
        let here_p = doc.locate(&p(&["spec", "names", "plural"]));
        if let Some(prev) = self.seen_plurals.insert((group.to_string(), names.plural.clone()), here_p.clone()) {
            diags.push(here_p, format!("resource {} in group {group:?} is already defined at {prev}", names.plural), None);
        }
        if spec.versions.is_empty() {
            diags.push(doc.locate(&p(&["spec", "versions"])), "no versions", Some("add `versions: [{name: v1, served: true, storage: true, schema: ...}]`".into()));
        }
        let storage_count = spec.versions.iter().filter(|v| v.storage).count();
        if !spec.versions.is_empty() && storage_count != 1 {
            diags.push(
                doc.locate(&p(&["spec", "versions"])),
                format!("exactly one version must have `storage: true`, found {storage_count}"),
                Some("set `storage: true` on the version objects are stored in, `false` on the others".into()),
            );
        }
        let verbs = Self::verbs(doc, &spec.x_kapi_verbs, diags);
        let conversion = Self::conversion(doc, spec, diags);
        let hooks = Self::hooks(doc, spec, diags);
        let storage_version = spec.versions.iter().find(|v| v.storage).map(|v| v.name.clone()).unwrap_or_default();
        let strategy_file = spec.x_kapi_strategy.as_ref().map(|name| doc.file.parent().unwrap_or(Path::new("")).join(format!("{name}.rs")));
        let create_only = verbs.len() == 1 && verbs[0] == "create";
        let mut seen_versions = BTreeSet::new();
        for (vi, v) in spec.versions.iter().enumerate() {
            let vs = vi.to_string();
            let vpath = |rest: &[&str]| {
                let mut x = p(&["spec", "versions", &vs]);
                x.extend(rest.iter().map(|s| s.to_string()));
                x
            };
            if !is_version_name(&v.name) {
                diags.push(doc.locate(&vpath(&["name"])), format!("version {:?} is not a Kubernetes version name", v.name), Some("write v1, v2beta1, v1alpha2, ...".into()));
            }
            if !seen_versions.insert(v.name.clone()) {
                diags.push(doc.locate(&vpath(&["name"])), format!("version {} is listed twice", v.name), None);
            }
            let Some(schema) = &v.schema else {
                diags.push(doc.locate(&vpath(&[])), format!("version {} has no schema", v.name), Some("add `schema: {openAPIV3Schema: {type: object, properties: ...}}`".into()));
                continue;
            };
            let module = Module { group: group_module(group), version: ident(&v.name) };
            let proto_package = v.x_kapi_proto_package.clone().unwrap_or_else(|| default_proto_package(group, &v.name));
            let root = &schema.open_api_v3_schema;
            let protobuf = v.x_kapi_proto_package.is_some() || has_proto_number(root);
            let ctx = Ctx { doc, module: module.clone(), def_prefix: default_def_prefix(group, &v.name), proto_package: proto_package.clone(), protobuf };
            let root_path = vpath(&["schema", "openAPIV3Schema"]);
            if root.type_.as_deref() != Some("object") {
                diags.push(doc.locate(&root_path), "the root schema must be `type: object`", Some("write `type: object`".into()));
            }
            let definition = root.x_kapi_type.clone().unwrap_or_else(|| format!("{}.{}", ctx.def_prefix, names.kind));
            self.check_root(&ctx, root, &root_path, diags);
            self.named_object(&ctx, root, &root_path, &definition, &names.kind, false, diags);
            let subs = v.subresources.clone().unwrap_or_default();
            let mut scale = None;
            if let Some(s) = &subs.scale {
                let sp = vpath(&["subresources", "scale"]);
                for (key, path, prefix) in [
                    ("specReplicasPath", &s.spec_replicas_path, ".spec."),
                    ("statusReplicasPath", &s.status_replicas_path, ".status."),
                ] {
                    if !path.starts_with(prefix) {
                        let mut kp = sp.clone();
                        kp.push(key.into());
                        diags.push(doc.locate(&kp), format!("{key} {path:?} must start with {prefix}"), Some(format!("e.g. `{key}: {prefix}replicas`")));
                    }
                }
                scale = Some(Scale {
                    spec_replicas_path: s.spec_replicas_path.clone(),
                    status_replicas_path: s.status_replicas_path.clone(),
                    label_selector_path: s.label_selector_path.clone(),
                });
            }
            // A status subresource without a `status` property is accepted, as upstream accepts it
            // (Tekton opts in only so that metadata.generation counts spec changes): `status` is then
            // pruned like any unknown field, so a status write changes nothing.
            if create_only {
                // Never stored: nothing to read back, select, scale or print.
                let unusable = [
                    ("subresources", v.subresources.is_some()),
                    ("x-kapi-subresources", !v.x_kapi_subresources.is_empty()),
                    ("selectableFields", !v.selectable_fields.is_empty()),
                    ("additionalPrinterColumns", !v.additional_printer_columns.is_empty()),
                ];
                for (key, present) in unusable {
                    if present {
                        diags.push(
                            doc.locate_key(&vpath(&[key])),
                            format!("a create-only kind (`x-kapi-verbs: [create]`) is never stored, so it cannot have `{key}`"),
                            Some(format!("remove `{key}`, or remove `x-kapi-verbs` to serve the full set of verbs")),
                        );
                    }
                }
            }
            let mut printer_columns = Vec::new();
            for (ci, c) in v.additional_printer_columns.iter().enumerate() {
                let cp = vpath(&["additionalPrinterColumns", &ci.to_string()]);
                if !["integer", "number", "string", "boolean", "date"].contains(&c.type_.as_str()) {
                    let mut tp = cp.clone();
                    tp.push("type".into());
                    diags.push(doc.locate(&tp), format!("printer column type {:?} is not supported", c.type_), Some("write one of: integer, number, string, boolean, date".into()));
                }
                if !c.json_path.starts_with('.') {
                    let mut jp = cp.clone();
                    jp.push("jsonPath".into());
                    diags.push(doc.locate(&jp), format!("jsonPath {:?} must start with '.'", c.json_path), Some(format!("write `.{}`", c.json_path)));
                }
                printer_columns.push(PrinterColumn {
                    name: c.name.clone(),
                    type_: c.type_.clone(),
                    format: c.format.clone().unwrap_or_default(),
                    description: c.description.clone().unwrap_or_default(),
                    priority: c.priority.unwrap_or(0),
                    json_path: c.json_path.clone(),
                    printer: c.x_kapi_printer.clone(),
                });
            }
            let mut selectable_fields = Vec::new();
            for (si, f) in v.selectable_fields.iter().enumerate() {
                let fp = vpath(&["selectableFields", &si.to_string(), "jsonPath"]);
                match resolve_simple_path(root, &f.json_path) {
                    Some(t) if matches!(t.as_deref(), Some("string" | "integer" | "boolean")) => {}
                    Some(t) => diags.push(
                        doc.locate(&fp),
                        format!("selectable field {:?} has type {}, but only string, integer and boolean fields can be selected", f.json_path, t.unwrap_or_else(|| "unknown".into())),
                        None,
                    ),
                    None => diags.push(doc.locate(&fp), format!("selectable field {:?} does not name a field of the schema", f.json_path), Some("write a path like `.spec.color`".into())),
                }
                selectable_fields.push(f.json_path.trim_start_matches('.').to_string());
            }
            self.kinds.push(Kind {
                group: group.to_string(),
                version: v.name.clone(),
                kind: names.kind.clone(),
                list_kind: list_kind.clone(),
                plural: names.plural.clone(),
                singular: singular.clone(),
                short_names: names.short_names.clone(),
                categories: names.categories.clone(),
                namespaced: spec.scope == Scope::Namespaced,
                served: v.served,
                storage: v.storage,
                deprecated: v.deprecated,
                deprecation_warning: v.deprecation_warning.clone(),
                definition,
                status: subs.status.is_some(),
                scale,
                extra_subresources: v.x_kapi_subresources.clone(),
                list: v.x_kapi_list.clone().unwrap_or_default(),
                strategy: spec.x_kapi_strategy.clone(),
                strategy_file: strategy_file.clone(),
                file: doc.file.clone(),
                hooks: hooks.clone(),
                conversion: conversion.clone(),
                storage_version: storage_version.clone(),
                verbs: verbs.clone(),
                printer_columns,
                selectable_fields,
                proto_package,
                protobuf,
                module,
                source: doc.file.clone(),
            });
        }
        if let Some(k) = self.kinds.iter().rev().find(|k| k.source == doc.file && k.group == group && k.kind == names.kind) {
            let versions: Vec<String> = spec.versions.iter().map(|v| v.name.clone()).collect();
            super::hooks::check_crd(doc, k, &versions, diags);
        }
    }

    /// `spec.conversion`, checked as upstream checks it (and for what kapi can send).
    fn conversion(doc: &SourceDoc, spec: &crate::schema::CrdSpec, diags: &mut Diagnostics) -> super::Conversion {
        let Some(c) = &spec.conversion else { return super::Conversion::None };
        let at = |rest: &[&str]| {
            let mut x = p(&["spec", "conversion"]);
            x.extend(rest.iter().map(|s| s.to_string()));
            doc.locate(&x)
        };
        match c.strategy.as_str() {
            "None" => {
                if c.webhook.is_some() {
                    diags.push(at(&["webhook"]), "should not be set when strategy is not set to Webhook", Some("remove `webhook` or write `strategy: Webhook`".into()));
                }
                super::Conversion::None
            }
            "Webhook" => {
                let Some(w) = &c.webhook else {
                    diags.push(at(&["strategy"]), "webhook: Required value: required when strategy is set to Webhook", Some("add `webhook: {clientConfig: {url: https://...}, conversionReviewVersions: [v1]}`".into()));
                    return super::Conversion::None;
                };
                let Some(cc) = &w.client_config else {
                    diags.push(at(&["webhook"]), "webhook.clientConfig: Required value: required when strategy is set to Webhook", None);
                    return super::Conversion::None;
                };
                if cc.url.is_some() == cc.service.is_some() {
                    diags.push(at(&["webhook", "clientConfig"]), "exactly one of url or service is required", None);
                }
                if let Some(url) = &cc.url {
                    if !url.starts_with("https://") {
                        diags.push(at(&["webhook", "clientConfig", "url"]), format!("url {url:?}: 'https' is the only allowed URL scheme"), None);
                    }
                }
                // Upstream needs one version it can send (the first of v1, v1beta1 listed); others are ignored.
                if !w.conversion_review_versions.iter().any(|v| v == "v1" || v == "v1beta1") {
                    diags.push(
                        at(&["webhook", "conversionReviewVersions"]),
                        format!("webhook.conversionReviewVersions: Invalid value: {:?}: must include at least one of v1, v1beta1", w.conversion_review_versions),
                        Some("add `v1` to conversionReviewVersions".into()),
                    );
                }
                let service = cc.service.as_ref().map(|s| {
                    let port = s.port.unwrap_or(443);
                    if !(1..=65535).contains(&port) {
                        diags.push(at(&["webhook", "clientConfig", "service", "port"]), format!("port {port} must be between 1 and 65535"), None);
                    }
                    (s.namespace.clone(), s.name.clone(), s.path.clone(), u16::try_from(port).unwrap_or(443))
                });
                super::Conversion::Webhook { url: cc.url.clone(), service, ca_bundle: cc.ca_bundle.clone(), review_versions: w.conversion_review_versions.clone() }
            }
            other => {
                diags.push(at(&["strategy"]), format!("strategy {other:?} is not supported"), Some("write `None` or `Webhook`".into()));
                super::Conversion::None
            }
        }
    }

    /// `spec.x-kapi-hooks`: known hook names, with a strategy module to hold them.
    fn hooks(doc: &SourceDoc, spec: &crate::schema::CrdSpec, diags: &mut Diagnostics) -> Vec<super::Hook> {
        let mut hooks = Vec::new();
        for (i, name) in spec.x_kapi_hooks.iter().enumerate() {
            let at = doc.locate(&p(&["spec", "x-kapi-hooks", &i.to_string()]));
            match super::Hook::ALL.iter().find(|(_, n, _)| *n == name.as_str()) {
                Some((h, _, _)) if hooks.contains(h) => diags.push(at, format!("hook {name} is listed twice"), None),
                Some((h, _, _)) => hooks.push(*h),
                None => {
                    let names = super::Hook::ALL.iter().map(|(_, n, _)| *n);
                    let help = crate::diag::did_you_mean(name, names.clone()).map(|d| format!("did you mean `{d}`?")).unwrap_or_else(|| format!("hooks are {}", names.collect::<Vec<_>>().join(", ")));
                    diags.push(at, format!("unknown hook {name:?}"), Some(help));
                }
            }
        }
        if !hooks.is_empty() && spec.x_kapi_strategy.is_none() {
            diags.push(doc.locate(&p(&["spec", "x-kapi-hooks"])), "hooks need a strategy module", Some("add `x-kapi-strategy: <name>` and write the hooks in <name>.rs next to this file".into()));
        }
        if hooks.contains(&super::Hook::Convert) {
            if spec.versions.len() < 2 {
                diags.push(doc.locate(&p(&["spec", "x-kapi-hooks"])), "a convert hook needs two versions or more", None);
            }
            if spec.conversion.as_ref().is_some_and(|c| c.strategy != "None") {
                diags.push(doc.locate(&p(&["spec", "conversion", "strategy"])), "a kind with a convert hook converts with it", Some("write `strategy: None` (or leave `conversion` out)".into()));
            }
        }
        hooks
    }

    /// `spec.x-kapi-verbs`: empty (every verb) or exactly `[create]`; anything else is reported and
    /// treated as empty.
    fn verbs(doc: &SourceDoc, verbs: &[String], diags: &mut Diagnostics) -> Vec<String> {
        if verbs.is_empty() || verbs == ["create"] {
            return verbs.to_vec();
        }
        let path = p(&["spec", "x-kapi-verbs"]);
        let what = if verbs.iter().any(|v| v == "create") { "lists more than `create`" } else { "does not list `create`" };
        diags.push(
            doc.locate(&path),
            format!("x-kapi-verbs {verbs:?} {what}: only create-only resources (`[create]`) are supported"),
            Some("write `x-kapi-verbs: [create]`, or remove it to serve the full set of verbs".into()),
        );
        Vec::new()
    }

    /// Structural rules for the root of a kind's schema.
    fn check_root(&mut self, ctx: &Ctx<'_>, root: &JsonSchemaProps, path: &[String], diags: &mut Diagnostics) {
        if let Some(meta) = root.properties.get("metadata") {
            let mut mp = path.to_vec();
            mp.extend(p(&["properties", "metadata"]));
            if meta.type_.as_deref() != Some("object") {
                diags.push(ctx.doc.locate(&mp), "`metadata` must be `type: object`", Some("write `metadata: {type: object}`".into()));
            }
            if let Some(t) = &meta.x_kapi_type {
                if t != OBJECT_META {
                    diags.push(ctx.doc.locate(&mp), format!("`metadata` is always ObjectMeta, not {t}"), Some(format!("write `x-kapi-type: {OBJECT_META}` or leave it out")));
                }
            }
            for k in meta.properties.keys() {
                if k != "name" && k != "generateName" {
                    let mut kp = mp.clone();
                    kp.extend(p(&["properties", k]));
                    diags.push(ctx.doc.locate_key(&kp), format!("the root `metadata` may only constrain name and generateName, not {k:?}"), Some("remove it: metadata is always the standard ObjectMeta".into()));
                }
            }
        }
        for (k, want) in [("apiVersion", "string"), ("kind", "string")] {
            if let Some(s) = root.properties.get(k) {
                if s.type_.as_deref() != Some(want) {
                    let mut kp = path.to_vec();
                    kp.extend(p(&["properties", k]));
                    diags.push(ctx.doc.locate(&kp), format!("`{k}` must be `type: string`"), Some("write `type: string`".into()));
                }
            }
        }
    }

    /// Registers `node` (an object) as the named type `name` and returns its use-site schema.
    #[allow(clippy::too_many_arguments)]
    fn named_object(&mut self, ctx: &Ctx<'_>, node: &JsonSchemaProps, path: &[String], name: &str, rust_name: &str, inline: bool, diags: &mut Diagnostics) -> Schema {
        let here = ctx.doc.locate(path);
        let mut obj = Object { properties: BTreeMap::new(), required: node.required.clone(), proto_embedded: node.x_kapi_proto_embedded.clone() };
        for (ei, e) in node.x_kapi_proto_embedded.iter().enumerate() {
            for prop in &e.properties {
                if !node.properties.contains_key(prop) {
                    let mut ep = path.to_vec();
                    ep.extend(p(&["x-kapi-proto-embedded", &ei.to_string()]));
                    diags.push(ctx.doc.locate(&ep), format!("embedded message {} lists {prop:?}, which is not a property here", e.type_), None);
                }
            }
        }
        let is_root = path.len() == 5 && path.last().is_some_and(|s| s == "openAPIV3Schema");
        for (k, child) in &node.properties {
            let mut cp = path.to_vec();
            cp.extend(p(&["properties", k]));
            let child_schema = if is_root && k == "metadata" {
                let mut s = self.use_site(ctx, child, &cp, diags);
                s.ty = Ty::Named(OBJECT_META.into());
                self.register_well_known(OBJECT_META, &ctx.doc.file);
                s
            } else {
                self.lower(ctx, child, &cp, &format!("{rust_name}{}", upper_camel(k)), diags)
            };
            let mut child_schema = child_schema;
            child_schema.omit_zero = super::gofacts::omits_zero(name, k);
            obj.properties.insert(k.clone(), child_schema);
        }
        if is_root {
            // Every object has apiVersion, kind and ObjectMeta metadata, whether or not the root
            // schema lists them (upstream publishes and keeps them all; Istio's CRDs list none).
            for (k, ty) in [("apiVersion", Ty::String), ("kind", Ty::String), ("metadata", Ty::Named(OBJECT_META.into()))] {
                obj.properties.entry(k.to_string()).or_insert_with(|| Schema { ty, ..Schema::default() });
            }
            self.register_well_known(OBJECT_META, &ctx.doc.file);
        }
        for (ri, r) in node.required.iter().enumerate() {
            if !node.properties.contains_key(r) && node.x_preserve_unknown_fields != Some(true) {
                let mut rp = path.to_vec();
                rp.extend(p(&["required", &ri.to_string()]));
                let help = did_you_mean(r, node.properties.keys().map(String::as_str)).map(|s| format!("did you mean `{s}`?"));
                diags.push(ctx.doc.locate(&rp), format!("required property {r:?} is not in `properties`"), help.or(Some("add it to properties or remove it from required".into())));
            }
        }
        // Protobuf numbers are unique within a message (embedded structs are messages of their own).
        let mut numbers: BTreeMap<(usize, u32), &str> = BTreeMap::new();
        for e in &obj.proto_embedded {
            numbers.insert((0, e.number), &e.field);
        }
        for (k, s) in &obj.properties {
            let msg = obj.proto_embedded.iter().position(|e| e.properties.contains(k)).map_or(0, |i| i + 1);
            if let Some(n) = s.proto {
                let mut np = path.to_vec();
                np.extend(p(&["properties", k, "x-kapi-proto"]));
                if n == 0 || n > 536_870_911 || (19_000..=19_999).contains(&n) {
                    diags.push(ctx.doc.locate(&np), format!("protobuf field number {n} is not allowed"), Some("use 1..536870911, except 19000..19999".into()));
                }
                if let Some(prev) = numbers.insert((msg, n), k) {
                    diags.push(ctx.doc.locate(&np), format!("protobuf field number {n} is used by both {prev:?} and {k:?} in {name}"), Some("give each field its own number; never reuse a number".into()));
                }
            }
        }
        self.type_description(ctx, node, path, name, diags);
        let mut own = self.common(ctx, node, path, diags);
        own.ty = Ty::Object(obj);
        // The type's own schema keeps type-level keys; use-site keys (description, default, proto) stay on the use.
        let mut type_schema = own.clone();
        type_schema.default = None;
        type_schema.proto = None;
        type_schema.proto_type = None;
        let fingerprint = fingerprint(&type_schema);
        match self.defined_at.get(name) {
            Some((prev, fp)) => {
                if *fp != fingerprint {
                    diags.push(here.clone(), format!("x-kapi-type {name} is defined differently here than at {prev}"), Some("every subschema with the same x-kapi-type must have the same properties and constraints".into()));
                }
            }
            None => {
                self.defined_at.insert(name.to_string(), (here.clone(), fingerprint));
                let module = name_module(name).unwrap_or_else(|| ctx.module.clone());
                self.types.insert(
                    name.to_string(),
                    NamedType {
                        name: name.to_string(),
                        rust_name: rust_type_name(name, rust_name),
                        module: Some(module),
                        well_known: None,
                        description: node.x_kapi_type_description.clone().or_else(|| node.description.clone()),
                        schema: type_schema,
                        inline,
                        proto_package: if name.starts_with("io.k8s.api.") { name_proto_package(name) } else { ctx.proto_package.clone() },
                        protobuf: ctx.protobuf,
                        source: ctx.doc.file.clone(),
                    },
                );
            }
        }
        let mut use_site = own;
        use_site.ty = Ty::Named(name.to_string());
        use_site
    }

    /// Records `x-kapi-type-description` (every use that gives one must give the same text).
    fn type_description(&mut self, ctx: &Ctx<'_>, node: &JsonSchemaProps, path: &[String], name: &str, diags: &mut Diagnostics) {
        let Some(d) = &node.x_kapi_type_description else { return };
        let mut kp = path.to_vec();
        kp.push("x-kapi-type-description".into());
        let here = ctx.doc.locate(&kp);
        match self.type_descriptions.get(name) {
            Some((prev, first)) if first != d => diags.push(
                here,
                format!("x-kapi-type-description of {name} differs from the one at {prev}"),
                Some("a type has one description: write the same text (or leave it out) at every use".into()),
            ),
            Some(_) => {}
            None => {
                self.type_descriptions.insert(name.to_string(), (here, d.clone()));
            }
        }
    }

    fn register_well_known(&mut self, name: &str, file: &Path) {
        if self.types.contains_key(name) {
            return;
        }
        let Some(rt) = wellknown::runtime_type(name) else { return };
        self.types.insert(
            name.to_string(),
            NamedType {
                name: name.to_string(),
                rust_name: rt.to_string(),
                module: None,
                well_known: Some(rt.to_string()),
                description: None,
                schema: Schema::default(),
                inline: false,
                proto_package: name_proto_package(name),
                protobuf: true,
                source: file.to_path_buf(),
            },
        );
    }

    /// Keys that belong to where a schema is used (description, default, proto number) plus value
    /// validations; the type is filled in by the caller.
    fn use_site(&mut self, ctx: &Ctx<'_>, node: &JsonSchemaProps, path: &[String], diags: &mut Diagnostics) -> Schema {
        self.common(ctx, node, path, diags)
    }

    fn common(&mut self, ctx: &Ctx<'_>, node: &JsonSchemaProps, path: &[String], diags: &mut Diagnostics) -> Schema {
        let mut extra = Map::new();
        if let Some(t) = &node.title {
            extra.insert("title".into(), Value::String(t.clone()));
        }
        if let Some(e) = &node.example {
            extra.insert("example".into(), e.clone());
        }
        if let Some(e) = &node.external_docs {
            extra.insert("externalDocs".into(), e.clone());
        }
        if let Some(u) = &node.x_unions {
            extra.insert("x-kubernetes-unions".into(), u.clone());
        }
        for (key, list) in [("allOf", &node.all_of), ("anyOf", &node.any_of), ("oneOf", &node.one_of)] {
            if !list.is_empty() {
                extra.insert(key.into(), serde_json::to_value(list).unwrap_or(Value::Null));
            }
        }
        if let Some(n) = &node.not {
            extra.insert("not".into(), serde_json::to_value(n).unwrap_or(Value::Null));
        }
        if let Some(pat) = &node.pattern {
            if let Err(e) = regex::Regex::new(pat) {
                let mut pp = path.to_vec();
                pp.push("pattern".into());
                diags.push(ctx.doc.locate(&pp), format!("pattern does not compile: {}", e.to_string().lines().last().unwrap_or("")), Some("write an RE2 regular expression (no look-around or back-references)".into()));
            }
        }
        if let Some(lt) = &node.x_list_type {
            let mut lp = path.to_vec();
            lp.push("x-kubernetes-list-type".into());
            if !["atomic", "set", "map"].contains(&lt.as_str()) {
                diags.push(ctx.doc.locate(&lp), format!("x-kubernetes-list-type {lt:?} is not one of atomic, set, map"), None);
            } else if lt == "map" && node.x_list_map_keys.is_empty() {
                diags.push(ctx.doc.locate(&lp), "x-kubernetes-list-type: map needs x-kubernetes-list-map-keys", Some("add `x-kubernetes-list-map-keys: [name]`".into()));
            } else if lt == "map" {
                if let Some(items) = &node.items {
                    for k in &node.x_list_map_keys {
                        if !items.properties.contains_key(k) {
                            diags.push(ctx.doc.locate(&lp), format!("list map key {k:?} is not a property of the items"), None);
                        }
                    }
                }
            }
        }
        if let Some(mt) = &node.x_map_type {
            if !["granular", "atomic"].contains(&mt.as_str()) {
                let mut mp = path.to_vec();
                mp.push("x-kubernetes-map-type".into());
                diags.push(ctx.doc.locate(&mp), format!("x-kubernetes-map-type {mt:?} is not one of granular, atomic"), None);
            }
        }
        Schema {
            ty: Ty::Any,
            description: node.description.clone(),
            nullable: node.nullable,
            default: node.default.clone(),
            enum_values: node.enum_.clone().unwrap_or_default(),
            format: node.format.clone(),
            pattern: node.pattern.clone(),
            min_length: node.min_length,
            max_length: node.max_length,
            min_items: node.min_items,
            max_items: node.max_items,
            min_properties: node.min_properties,
            max_properties: node.max_properties,
            minimum: node.minimum,
            maximum: node.maximum,
            exclusive_minimum: node.exclusive_minimum,
            exclusive_maximum: node.exclusive_maximum,
            multiple_of: node.multiple_of,
            unique_items: node.unique_items,
            list_type: node.x_list_type.clone(),
            list_map_keys: node.x_list_map_keys.clone(),
            map_type: node.x_map_type.clone(),
            patch_merge_key: node.x_patch_merge_key.clone(),
            patch_strategy: node.x_patch_strategy.clone(),
            preserve_unknown_fields: node.x_preserve_unknown_fields == Some(true),
            embedded_resource: node.x_embedded_resource == Some(true),
            rules: super::cel_check::located(ctx.doc, path, &node.x_validations),
            extra,
            proto: node.x_kapi_proto,
            proto_type: node.x_kapi_proto_type.clone(),
            omit_zero: false,
        }
    }

    /// Lowers any subschema; `suggested` is the Rust name an unnamed object would get.
    fn lower(&mut self, ctx: &Ctx<'_>, node: &JsonSchemaProps, path: &[String], suggested: &str, diags: &mut Diagnostics) -> Schema {
        if node.x_kapi_type_description.is_some() && node.x_kapi_type.is_none() {
            let mut kp = path.to_vec();
            kp.push("x-kapi-type-description".into());
            diags.push(ctx.doc.locate(&kp), "x-kapi-type-description describes a named type, but this subschema has no x-kapi-type", Some("add `x-kapi-type: <definition name>`, or write the text as `description`".into()));
        }
        // Well-known and named types first.
        if let Some(name) = &node.x_kapi_type {
            if wellknown::is_apimachinery(name) {
                if wellknown::runtime_type(name).is_none() {
                    let mut tp = path.to_vec();
                    tp.push("x-kapi-type".into());
                    let help = did_you_mean(name, wellknown::WELL_KNOWN.iter().map(|(n, _)| *n)).map(|s| format!("did you mean {s}?"));
                    diags.push(ctx.doc.locate(&tp), format!("{name} is not a well-known type kapi-runtime implements"), help.or(Some("remove x-kapi-type to get a generated type".into())));
                }
                self.register_well_known(name, &ctx.doc.file);
                let mut s = self.common(ctx, node, path, diags);
                s.ty = Ty::Named(name.clone());
                return s;
            }
            if node.type_.as_deref() == Some("object") && node.properties.is_empty() && node.additional_properties.is_none() && node.x_preserve_unknown_fields != Some(true) {
                // A reference to a type defined elsewhere (e.g. a recursive use).
                self.stubs.push((name.clone(), ctx.doc.locate(path)));
                self.type_description(ctx, node, path, name, diags);
                let mut s = self.common(ctx, node, path, diags);
                s.ty = Ty::Named(name.clone());
                return s;
            }
            if node.type_.as_deref() != Some("object") || node.properties.is_empty() {
                let mut tp = path.to_vec();
                tp.push("x-kapi-type".into());
                diags.push(ctx.doc.locate(&tp), format!("x-kapi-type {name} is on a schema without properties; named types must be objects with properties"), Some("remove x-kapi-type here".into()));
            } else {
                let rust = name.rsplit('.').next().unwrap_or(suggested).to_string();
                return self.named_object(ctx, node, path, name, &rust, false, diags);
            }
        }
        if node.x_int_or_string == Some(true) {
            let mut s = self.common(ctx, node, path, diags);
            s.ty = Ty::IntOrString;
            return s;
        }
        match node.type_.as_deref() {
            Some("object") => {
                if !node.properties.is_empty() {
                    let name = self.synth_name(ctx, suggested);
                    let rust = name.rsplit('.').next().unwrap_or(suggested).to_string();
                    return self.named_object(ctx, node, path, &name, &rust, true, diags);
                }
                let mut s = self.common(ctx, node, path, diags);
                s.ty = match node.additional_properties.as_deref() {
                    Some(AdditionalProperties::Schema(inner)) => {
                        let mut ap = path.to_vec();
                        ap.push("additionalProperties".into());
                        Ty::Map(Box::new(self.lower(ctx, inner, &ap, &format!("{suggested}Value"), diags)))
                    }
                    Some(AdditionalProperties::Bool(true)) => Ty::Map(Box::default()),
                    _ if node.x_preserve_unknown_fields == Some(true) || node.x_embedded_resource == Some(true) => Ty::Any,
                    _ => Ty::FreeObject,
                };
                s
            }
            Some("array") => {
                let mut s = self.common(ctx, node, path, diags);
                match &node.items {
                    Some(items) => {
                        let mut ip = path.to_vec();
                        ip.push("items".into());
                        s.ty = Ty::Array(Box::new(self.lower(ctx, items, &ip, suggested, diags)));
                    }
                    None => {
                        diags.push(ctx.doc.locate(path), "an array needs `items`", Some("add `items: {type: string}` (or the item schema)".into()));
                    }
                }
                s
            }
            Some(t @ ("string" | "integer" | "number" | "boolean")) => {
                let mut s = self.common(ctx, node, path, diags);
                s.ty = match t {
                    "string" => Ty::String,
                    "integer" => Ty::Integer,
                    "number" => Ty::Number,
                    _ => Ty::Boolean,
                };
                self.check_enum_default(ctx, node, path, t, diags);
                s
            }
            Some(other) => {
                let mut tp = path.to_vec();
                tp.push("type".into());
                let help = did_you_mean(other, ["object", "array", "string", "integer", "number", "boolean"]).map(|s| format!("did you mean `{s}`?"));
                diags.push(ctx.doc.locate(&tp), format!("unknown type {other:?}"), help.or(Some("write one of: object, array, string, integer, number, boolean".into())));
                Schema::default()
            }
            None => {
                let s = self.common(ctx, node, path, diags);
                if !s.preserve_unknown_fields && node.all_of.is_empty() && node.any_of.is_empty() && node.one_of.is_empty() {
                    diags.push(ctx.doc.locate(path), "a structural schema needs a `type` here", Some("add `type: ...`, or `x-kubernetes-preserve-unknown-fields: true` for free-form data".into()));
                }
                s
            }
        }
    }

    fn check_enum_default(&mut self, ctx: &Ctx<'_>, node: &JsonSchemaProps, path: &[String], t: &str, diags: &mut Diagnostics) {
        let ok = |v: &Value| match t {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            _ => true,
        } || (v.is_null() && node.nullable);
        if let Some(es) = &node.enum_ {
            for (i, e) in es.iter().enumerate() {
                if !ok(e) {
                    let mut ep = path.to_vec();
                    ep.extend(p(&["enum", &i.to_string()]));
                    diags.push(ctx.doc.locate(&ep), format!("enum value {e} is not a {t}"), Some(if t == "string" { format!("quote it: \"{}\"", e.to_string().trim_matches('"')) } else { format!("write a {t}") }));
                }
            }
        }
        if let Some(d) = &node.default {
            let mut dp = path.to_vec();
            dp.push("default".into());
            if !ok(d) {
                diags.push(ctx.doc.locate(&dp), format!("default {d} is not a {t}"), Some(format!("write a {t} default")));
            } else if let Some(es) = &node.enum_ {
                // Upstream's built-in types publish Go's zero value ("") as the default of some enums.
                let zero = d.as_str() == Some("");
                if !es.contains(d) && !zero {
                    diags.push(ctx.doc.locate(&dp), format!("default {d} is not one of the enum values"), None);
                }
            }
        }
    }

    fn synth_name(&self, ctx: &Ctx<'_>, suggested: &str) -> String {
        let base = format!("{}.{}", ctx.def_prefix, suggested);
        if !self.types.contains_key(&base) {
            return base;
        }
        (2..).map(|i| format!("{base}{i}")).find(|n| !self.types.contains_key(n)).unwrap_or(base)
    }

    fn finish(&mut self, diags: &mut Diagnostics) {
        for (name, loc) in &self.stubs {
            if !self.types.contains_key(name) {
                diags.push(loc.clone(), format!("x-kapi-type {name} is used here without properties but is not defined anywhere"), Some("write its properties at least once".into()));
            }
        }
        self.resolve_descriptions();
        // Rust names must be unique within a module.
        let mut by_ident: BTreeMap<(Module, String), &str> = BTreeMap::new();
        for t in self.types.values() {
            if let Some(m) = &t.module {
                if let Some(prev) = by_ident.insert((m.clone(), t.rust_name.clone()), &t.name) {
                    let loc = self.defined_at.get(&t.name).map(|(l, _)| l.clone()).unwrap_or_else(|| loc0(&t.source));
                    diags.push(loc, format!("{} and {} would both be the Rust type {}::{}::{}", prev, t.name, m.group, m.version, t.rust_name), Some("rename one x-kapi-type".into()));
                }
            }
        }
    }
}

impl Lowerer {
    /// Settles each named type's own description (see [`NamedType::description`]): an explicit
    /// `x-kapi-type-description`, else the description of an array-item or map-value use (those
    /// describe the type, never a property), else the first definition's.
    fn resolve_descriptions(&mut self) {
        fn visit(s: &Schema, item: bool, out: &mut BTreeMap<String, String>) {
            match &s.ty {
                Ty::Named(n) if item => {
                    if let Some(d) = &s.description {
                        out.entry(n.clone()).or_insert_with(|| d.clone());
                    }
                }
                Ty::Array(i) | Ty::Map(i) => visit(i, true, out),
                _ => {}
            }
        }
        let mut item_uses = BTreeMap::new();
        for t in self.types.values() {
            if let Some(o) = t.object() {
                o.properties.values().for_each(|s| visit(s, false, &mut item_uses));
            }
        }
        for t in self.types.values_mut().filter(|t| t.well_known.is_none()) {
            if let Some((_, d)) = self.type_descriptions.get(&t.name) {
                t.description = Some(d.clone());
            } else if let Some(d) = item_uses.remove(&t.name) {
                t.description = Some(d);
            }
        }
    }
}

/// `io.k8s.api.<g>.<v>.<N>` → module `<g>::<v>`.
fn name_module(name: &str) -> Option<Module> {
    let rest = name.strip_prefix("io.k8s.api.")?;
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.len() == 3 {
        Some(Module { group: ident(parts[0]), version: ident(parts[1]) })
    } else {
        None
    }
}

/// `io.k8s.api.core.v1.Pod` → `k8s.io.api.core.v1`; `io.k8s.apimachinery.pkg.apis.meta.v1.Time` → `k8s.io.apimachinery.pkg.apis.meta.v1`.
fn name_proto_package(name: &str) -> String {
    let pkg = name.rsplit_once('.').map(|(p, _)| p).unwrap_or(name);
    match pkg.strip_prefix("io.k8s.") {
        Some(rest) => format!("k8s.io.{rest}"),
        None => pkg.to_string(),
    }
}

fn rust_type_name(name: &str, fallback: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(fallback);
    let camel = upper_camel(last);
    if camel.is_empty() {
        fallback.to_string()
    } else {
        camel
    }
}

/// A comparable summary of a type's shape (descriptions excluded).
fn fingerprint(s: &Schema) -> Value {
    fn fp(s: &Schema) -> Value {
        let ty = match &s.ty {
            Ty::Object(o) => {
                let props: Map<String, Value> = o.properties.iter().map(|(k, v)| (k.clone(), fp(v))).collect();
                serde_json::json!({"object": props, "required": o.required})
            }
            Ty::Array(i) => serde_json::json!({"array": fp(i)}),
            Ty::Map(i) => serde_json::json!({"map": fp(i)}),
            Ty::Named(n) => serde_json::json!({"named": n}),
            other => Value::String(format!("{other:?}")),
        };
        serde_json::json!({
            "ty": ty, "enum": s.enum_values, "format": s.format, "pattern": s.pattern,
            "len": [s.min_length, s.max_length, s.min_items, s.max_items], "num": [s.minimum, s.maximum],
            "list": [s.list_type, s.map_type], "proto": s.proto,
            "embedded": match &s.ty { Ty::Object(o) => serde_json::to_value(&o.proto_embedded).unwrap_or_default(), _ => Value::Null },
        })
    }
    fp(s)
}

/// Resolves `.a.b` through properties; `Some(type)` when it names a field.
fn resolve_simple_path(root: &JsonSchemaProps, path: &str) -> Option<Option<String>> {
    let mut node = root;
    let trimmed = path.strip_prefix('.')?;
    if trimmed == "metadata.name" || trimmed == "metadata.namespace" {
        return Some(Some("string".into()));
    }
    for seg in trimmed.split('.') {
        node = node.properties.get(seg)?;
    }
    Some(node.type_.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(group_module(""), "core");
        assert_eq!(group_module("apps"), "apps");
        assert_eq!(group_module("rbac.authorization.k8s.io"), "rbac");
        assert_eq!(group_module("monitoring.coreos.com"), "monitoring_coreos_com");
        assert_eq!(default_proto_package("example.com", "v1"), "com.example.v1");
        assert!(is_version_name("v1") && is_version_name("v2beta3") && !is_version_name("v0") && !is_version_name("1"));
        assert_eq!(name_proto_package("io.k8s.api.core.v1.Pod"), "k8s.io.api.core.v1");
    }
}
