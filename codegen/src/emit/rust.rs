//! Rust emitter: a module per group-version with one struct per named type, a list type and a
//! `Resource` impl per kind, static schema trees (validation, defaulting, pruning run over them in
//! kapi-runtime), `KindInfo` statics and the registry table `KINDS`.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Hook, Kind, Model, Module, NamedType, Schema, Ty};

/// Path prefix of the runtime crate in generated code.
fn rt() -> TokenStream {
    quote!(::kapi_runtime)
}

/// Emits the whole model as one token stream (the body `include_schemas!` expands to).
pub fn emit(model: &Model) -> TokenStream {
    // Identical inline objects compile once (see `share`); the OpenAPI and proto emitters keep every copy.
    let (shared, aliases) = super::share::share_identical_types(model);
    let model = &shared;
    let cycles = Cycles::new(model);
    let mut modules: BTreeMap<Module, Vec<TokenStream>> = BTreeMap::new();
    for t in model.types.values() {
        let Some(m) = &t.module else { continue };
        modules.entry(m.clone()).or_default().push(emit_named(model, t, &cycles));
    }
    for a in &aliases {
        let Some(NamedType { module: Some(m), rust_name, .. }) = model.named(&a.target) else { continue };
        let path = module_path(m);
        let (rep, alias) = (ident(rust_name), ident(&a.rust_name));
        let rep_schema = format_ident!("{}_SCHEMA", screaming(rust_name));
        let alias_schema = format_ident!("{}_SCHEMA", screaming(&a.rust_name));
        modules.entry(a.module.clone()).or_default().push(quote!(pub use #path::{#rep as #alias, #rep_schema as #alias_schema};));
    }
    for k in &model.kinds {
        modules.entry(k.module.clone()).or_default().push(emit_kind(model, k));
        if k.storage {
            modules.entry(k.module.clone()).or_default().push(emit_hook_glue(model, k));
        }
    }
    // Strategy modules (`x-kapi-strategy`), each once, beside the group modules.
    let strategies: BTreeMap<&str, &std::path::Path> =
        model.kinds.iter().filter_map(|k| Some((k.strategy.as_deref()?, k.strategy_file.as_deref()?))).collect();
    let strategy_mods = strategies.iter().map(|(name, file)| {
        let m = ident(name);
        let path = file.display().to_string();
        let doc = format!("The strategy module `{name}` (typed hooks, `{}`).", file.file_name().and_then(|f| f.to_str()).unwrap_or_default());
        quote! {
            #[doc = #doc]
            #[path = #path]
            pub mod #m;
        }
    });
    // Nest modules: group { version { items } }.
    let mut groups: BTreeMap<String, Vec<TokenStream>> = BTreeMap::new();
    for (m, items) in modules {
        let v = ident(&m.version);
        let doc = format!("Version {} of group module `{}`.", m.version, m.group);
        groups.entry(m.group.clone()).or_default().push(quote! {
            #[doc = #doc]
            #[allow(clippy::all, missing_docs, non_camel_case_types, unused_imports)]
            pub mod #v {
                #(#items)*
            }
        });
    }
    let group_mods = groups.into_iter().map(|(g, vs)| {
        let g = ident(&g);
        let doc = format!("API group module `{g}`.");
        quote! {
            #[doc = #doc]
            pub mod #g { #(#vs)* }
        }
    });
    let kind_refs = model.kinds.iter().map(|k| {
        let (g, v) = (ident(&k.module.group), ident(&k.module.version));
        let path = quote!(#g::#v);
        let info = format_ident!("{}_INFO", screaming(&k.kind));
        quote!(&#path::#info)
    });
    let includes = model.files.iter().map(|f| {
        let s = f.display().to_string();
        quote!(const _: &str = include_str!(#s);)
    });
    let rt = rt();
    quote! {
        #(#includes)*
        #(#strategy_mods)*
        #(#group_mods)*
        /// Every kind in every version, in (group, version, kind) order: the registry table.
        pub static KINDS: &[&#rt::apimachinery::KindInfo] = &[#(#kind_refs),*];
    }
}

fn ident(s: &str) -> Ident {
    let s = if syn::parse_str::<Ident>(s).is_ok() { s.to_string() } else { format!("{s}_") };
    Ident::new(&s, Span::call_site())
}

/// The path of a group-version module from inside another one (relative, so `include_schemas!`
/// may be called inside a module).
fn module_path(m: &Module) -> TokenStream {
    let g = ident(&m.group);
    let v = ident(&m.version);
    quote!(super::super::#g::#v)
}

/// `PodSpec` → `POD_SPEC`.
fn screaming(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev_lower = chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || (next_lower && chars[i - 1].is_uppercase()) {
                out.push('_');
            }
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// `podIPs` → `pod_i_ps`-free snake case: `pod_ips`; keywords get a trailing underscore.
pub fn field_ident(json: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = json.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let prev_lower = prev.is_lowercase() || prev.is_ascii_digit();
            // `IPs`, `CIDRs`: a plural `s` after an acronym does not start a new word.
            let plural_s = chars.get(i + 1) == Some(&'s') && chars.get(i + 2).is_none_or(|n| n.is_uppercase());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase()) && !plural_s;
            if (prev_lower || (next_lower && prev.is_uppercase())) && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    let mut out = out.trim_matches('_').to_string();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'f');
        out.insert(1, '_');
    }
    if syn::parse_str::<Ident>(&out).is_err() || out == "self" || out == "super" || out == "crate" || out == "Self" {
        out.push('_');
    }
    out
}

/// Named types that can reach themselves (their fields must be boxed).
struct Cycles {
    reach: BTreeMap<String, BTreeSet<String>>,
}

impl Cycles {
    fn new(model: &Model) -> Self {
        let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in model.types.values() {
            let mut set = BTreeSet::new();
            collect_named(&t.schema, &mut set);
            direct.insert(t.name.clone(), set);
        }
        let mut reach = BTreeMap::new();
        for name in direct.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<String> = direct.get(name).map(|s| s.iter().cloned().collect()).unwrap_or_default();
            while let Some(n) = stack.pop() {
                if seen.insert(n.clone()) {
                    if let Some(next) = direct.get(&n) {
                        stack.extend(next.iter().cloned());
                    }
                }
            }
            reach.insert(name.clone(), seen);
        }
        Cycles { reach }
    }

    /// Whether a field of type `target` inside `owner` closes a cycle.
    fn boxed(&self, owner: &str, target: &str) -> bool {
        owner == target || self.reach.get(target).is_some_and(|r| r.contains(owner))
    }
}

fn collect_named(s: &Schema, out: &mut BTreeSet<String>) {
    match &s.ty {
        Ty::Named(n) => {
            out.insert(n.clone());
        }
        Ty::Array(i) | Ty::Map(i) => collect_named(i, out),
        Ty::Object(o) => o.properties.values().for_each(|p| collect_named(p, out)),
        _ => {}
    }
}

/// The Rust type of a named type, as seen from generated code.
fn named_path(model: &Model, name: &str) -> TokenStream {
    let rt = rt();
    match model.named(name) {
        Some(NamedType { well_known: Some(w), .. }) => {
            let w = ident(w);
            quote!(#rt::apimachinery::#w)
        }
        Some(t) => {
            let m = t.module.as_ref().map(module_path).unwrap_or_default();
            let n = ident(&t.rust_name);
            quote!(#m::#n)
        }
        None => quote!(#rt::__private::serde_json::Value),
    }
}

fn rust_type(model: &Model, owner: &str, s: &Schema, cycles: &Cycles) -> TokenStream {
    let rt = rt();
    match &s.ty {
        Ty::Any => quote!(#rt::__private::serde_json::Value),
        Ty::FreeObject => quote!(#rt::__private::serde_json::Map<::std::string::String, #rt::__private::serde_json::Value>),
        Ty::String => quote!(::std::string::String),
        Ty::Integer => match s.format.as_deref() {
            Some("int32") => quote!(i32),
            _ => quote!(i64),
        },
        Ty::Number => quote!(f64),
        Ty::Boolean => quote!(bool),
        Ty::IntOrString => quote!(#rt::apimachinery::IntOrString),
        Ty::Array(i) => {
            let inner = rust_type(model, owner, i, cycles);
            quote!(::std::vec::Vec<#inner>)
        }
        Ty::Map(i) => {
            let inner = rust_type(model, owner, i, cycles);
            quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
        }
        Ty::Named(n) => {
            let p = named_path(model, n);
            if cycles.boxed(owner, n) {
                quote!(::std::boxed::Box<#p>)
            } else {
                p
            }
        }
        Ty::Object(_) => quote!(#rt::__private::serde_json::Value),
    }
}

fn doc_attr(d: Option<&str>) -> TokenStream {
    match d {
        Some(d) if !d.trim().is_empty() => {
            let d = format!(" {}", d.trim().replace('\n', "\n "));
            quote!(#[doc = #d])
        }
        _ => quote!(),
    }
}

fn emit_named(model: &Model, t: &NamedType, cycles: &Cycles) -> TokenStream {
    let Some(obj) = t.object() else { return quote!() };
    let rt = rt();
    let name = ident(&t.rust_name);
    let doc = doc_attr(t.description.as_deref().or(Some(&format!("`{}`", t.name))));
    let serde_path = quote!(#rt::__private::serde);
    let mut used = BTreeSet::new();
    let mut fields = Vec::new();
    let root_kind = model.kinds.iter().find(|k| k.definition == t.name);
    for (json, s) in &obj.properties {
        let mut f = field_ident(json);
        while !used.insert(f.clone()) {
            f.push('_');
        }
        let fid = ident(&f);
        let ty = rust_type(model, &t.name, s, cycles);
        let fdoc = doc_attr(s.description.as_deref());
        let required = obj.required.iter().any(|r| r == json) && !s.nullable;
        let is_meta = root_kind.is_some() && json == "metadata";
        if is_meta || required {
            fields.push(quote! {
                #fdoc
                #[serde(rename = #json, default, deserialize_with = "::kapi_runtime::apimachinery::serde_util::null_default")]
                pub #fid: #ty,
            });
        } else {
            fields.push(quote! {
                #fdoc
                #[serde(rename = #json, default, skip_serializing_if = "::std::option::Option::is_none")]
                pub #fid: ::std::option::Option<#ty>,
            });
        }
    }
    if t.schema.preserve_unknown_fields {
        fields.push(quote! {
            /// Fields not declared in the schema (kept: `x-kubernetes-preserve-unknown-fields`).
            #[serde(flatten)]
            pub unknown_fields: #rt::__private::serde_json::Map<::std::string::String, #rt::__private::serde_json::Value>,
        });
    }
    let schema_static = format_ident!("{}_SCHEMA", screaming(&t.rust_name));
    let schema_body = object_schema(model, t);
    let sdoc = format!("Schema tree of `{}`.", t.name);
    quote! {
        #doc
        #[derive(Debug, Clone, Default, PartialEq, #serde_path::Serialize, #serde_path::Deserialize)]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct #name {
            #(#fields)*
        }
        #[doc = #sdoc]
        pub static #schema_static: #rt::apimachinery::schema::ObjectSchema = #schema_body;
    }
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(::std::option::Option::Some(#s)),
        None => quote!(::std::option::Option::None),
    }
}

fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

fn opt_f64(v: Option<f64>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

fn object_schema(model: &Model, t: &NamedType) -> TokenStream {
    let rt = rt();
    let Some(obj) = t.object() else { return quote!() };
    let props = obj.properties.iter().map(|(k, s)| {
        let sc = schema_expr(model, s);
        quote!((#k, #sc))
    });
    let required = obj.required.iter();
    let name = &t.name;
    let preserve = t.schema.preserve_unknown_fields;
    let protobuf = t.protobuf && has_protobuf(obj);
    let embedded = obj.proto_embedded.iter().map(|e| {
        let number = e.number;
        let props = e.properties.iter();
        quote!(#rt::apimachinery::schema::ProtoEmbedded { number: #number, properties: &[#(#props),*] })
    });
    quote! {
        #rt::apimachinery::schema::ObjectSchema {
            name: #name,
            properties: &[#(#props),*],
            required: &[#(#required),*],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: #preserve,
            protobuf: #protobuf,
            proto_embedded: &[#(#embedded),*],
        }
    }
}

/// Whether an object type (of a version with a protobuf form, [`crate::model::Kind::protobuf`]) has a
/// protobuf message the codec can write: every property but `apiVersion`/`kind` (Go's inline TypeMeta,
/// carried by the envelope) has a field number (`x-kapi-proto`, or the one the build took from the
/// `.proto` files, [`crate::generate::number_fields`]). Custom resources have no protobuf form
/// (upstream serves them as JSON only).
fn has_protobuf(obj: &crate::model::Object) -> bool {
    !obj.properties.is_empty() && obj.properties.iter().all(|(k, s)| s.proto.is_some() || k == "apiVersion" || k == "kind")
}

/// The protobuf wire type named by `x-kapi-proto-type` (or a well-known definition name), when the
/// codec must be told (`None`: implied by the JSON schema, or a message reached through the tree).
fn proto_type_named(name: &str) -> Option<&'static str> {
    let name = name.trim().trim_start_matches('.');
    if name == "bytes" {
        return Some("Bytes");
    }
    Some(match name.rsplit('.').next().unwrap_or(name) {
        "Time" => "Time",
        "MicroTime" => "MicroTime",
        "Duration" => "Duration",
        "Quantity" => "Quantity",
        "IntOrString" => "IntOrString",
        "RawExtension" | "FieldsV1" => "RawExtension",
        _ => return None,
    })
}

/// `proto: Proto { .. },` for a node: its field number, its wire type where the JSON schema does not
/// imply it, and whether a zero read from the wire is left out of JSON (a Go value field with
/// `omitempty`, which Go writes even when zero; Go pointers like `replicas: 0` keep their zeros).
fn proto_fields(s: &Schema) -> Option<TokenStream> {
    let rt = rt();
    let sch = quote!(#rt::apimachinery::schema);
    let override_ty = s.proto_type.as_deref().filter(|pt| !pt.starts_with("map<") && !matches!(s.ty, Ty::Array(_) | Ty::Map(_)));
    let ty = match override_ty {
        Some(pt) => proto_type_named(pt.trim_start_matches("repeated ")),
        None => match &s.ty {
            Ty::String => match s.format.as_deref() {
                Some("byte") => Some("Bytes"),
                Some("date-time") => Some("Time"),
                _ => None,
            },
            Ty::IntOrString => Some("IntOrString"),
            Ty::Any | Ty::FreeObject => Some("RawExtension"),
            Ty::Named(n) if crate::model::wellknown::runtime_type(n).is_some() => proto_type_named(n),
            _ => None,
        },
    };
    let number = s.proto.unwrap_or(0);
    let omit_zero = s.proto.is_some() && s.omit_zero;
    if number == 0 && ty.is_none() {
        return None;
    }
    let ty = format_ident!("{}", ty.unwrap_or("Implied"));
    Some(quote!(proto: #sch::Proto { number: #number, ty: #sch::ProtoType::#ty, omit_zero: #omit_zero },))
}

/// The element schema of an array or map property, with the property's `x-kapi-proto-type` (which
/// names the element type, `map<K, V>` the value type) carried down when the element has none.
fn element_with_proto_type(parent: &Schema, elem: &Schema) -> Schema {
    let mut e = elem.clone();
    if e.proto_type.is_none() {
        if let Some(pt) = parent.proto_type.as_deref().map(str::trim) {
            e.proto_type = match pt.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
                Some(inner) => inner.split_once(',').map(|(_, v)| v.trim().to_string()),
                None => Some(pt.trim_start_matches("repeated ").to_string()),
            };
        }
    }
    e
}

/// A `Schema { .. }` constant expression for a use-site schema.
fn schema_expr(model: &Model, s: &Schema) -> TokenStream {
    let rt = rt();
    let sch = quote!(#rt::apimachinery::schema);
    let mut fields = Vec::new();
    let ty = match &s.ty {
        Ty::Any | Ty::Object(_) => quote!(#sch::Type::Any),
        Ty::FreeObject => quote!(#sch::Type::Map(&#sch::Schema::DEFAULT)),
        Ty::String => quote!(#sch::Type::String),
        Ty::Integer => quote!(#sch::Type::Integer),
        Ty::Number => quote!(#sch::Type::Number),
        Ty::Boolean => quote!(#sch::Type::Boolean),
        Ty::IntOrString => {
            fields.push(quote!(int_or_string: true,));
            quote!(#sch::Type::Any)
        }
        Ty::Array(i) => {
            let inner = schema_expr(model, &element_with_proto_type(s, i));
            quote!(#sch::Type::Array(&#inner))
        }
        Ty::Map(i) => {
            let inner = schema_expr(model, &element_with_proto_type(s, i));
            quote!(#sch::Type::Map(&#inner))
        }
        Ty::Named(n) => match model.named(n) {
            Some(t) if t.well_known.is_none() => {
                let m = t.module.as_ref().map(module_path).unwrap_or_default();
                let st = format_ident!("{}_SCHEMA", screaming(&t.rust_name));
                quote!(#sch::Type::Object(&#m::#st))
            }
            _ => well_known_type(n, s.format.is_some(), &mut fields),
        },
    };
    if s.nullable {
        fields.push(quote!(nullable: true,));
    }
    if let Some(d) = &s.default {
        let d = d.to_string();
        fields.push(quote!(default: ::std::option::Option::Some(#d),));
    }
    if !s.enum_values.is_empty() {
        let es = s.enum_values.iter().map(|e| e.to_string());
        fields.push(quote!(enum_values: &[#(#es),*],));
    }
    if s.format.is_some() {
        let f = opt_str(s.format.as_deref());
        fields.push(quote!(format: #f,));
    }
    if let Some(p) = &s.pattern {
        fields.push(quote!(pattern: ::std::option::Option::Some(#p),));
    }
    for (name, v) in [
        ("min_length", s.min_length),
        ("max_length", s.max_length),
        ("min_items", s.min_items),
        ("max_items", s.max_items),
        ("min_properties", s.min_properties),
        ("max_properties", s.max_properties),
    ] {
        if v.is_some() {
            let id = format_ident!("{}", name);
            let v = opt_u64(v);
            fields.push(quote!(#id: #v,));
        }
    }
    for (name, v) in [("minimum", s.minimum), ("maximum", s.maximum), ("multiple_of", s.multiple_of)] {
        if v.is_some() {
            let id = format_ident!("{}", name);
            let v = opt_f64(v);
            fields.push(quote!(#id: #v,));
        }
    }
    if s.exclusive_minimum {
        fields.push(quote!(exclusive_minimum: true,));
    }
    if s.exclusive_maximum {
        fields.push(quote!(exclusive_maximum: true,));
    }
    if s.unique_items {
        fields.push(quote!(unique_items: true,));
    }
    match s.list_type.as_deref() {
        Some("set") => fields.push(quote!(list_type: #sch::ListType::Set,)),
        Some("map") => {
            let keys = s.list_map_keys.iter();
            fields.push(quote!(list_type: #sch::ListType::Map(&[#(#keys),*]),));
        }
        _ => {}
    }
    if s.map_type.as_deref() == Some("atomic") {
        fields.push(quote!(map_type: #sch::MapType::Atomic,));
    }
    if s.patch_strategy.is_some() {
        let v = opt_str(s.patch_strategy.as_deref());
        fields.push(quote!(patch_strategy: #v,));
    }
    if s.patch_merge_key.is_some() {
        let v = opt_str(s.patch_merge_key.as_deref());
        fields.push(quote!(patch_merge_key: #v,));
    }
    if s.preserve_unknown_fields {
        fields.push(quote!(preserve_unknown_fields: true,));
    }
    if s.embedded_resource {
        fields.push(quote!(embedded_resource: true,));
    }
    if !s.rules.is_empty() {
        let rules = s.rules.iter().map(|r| {
            let rule = &r.rule;
            let message = opt_str(r.message.as_deref());
            let me = opt_str(r.message_expression.as_deref());
            let reason = opt_str(r.reason.as_deref());
            let fp = opt_str(r.field_path.as_deref());
            let oos = r.optional_old_self.unwrap_or(false);
            quote!(#sch::CelRule { rule: #rule, message: #message, message_expression: #me, reason: #reason, field_path: #fp, optional_old_self: #oos })
        });
        fields.push(quote!(rules: &[#(#rules),*],));
    }
    if let Some(p) = proto_fields(s) {
        fields.push(p);
    }
    quote!(#sch::Schema { ty: #ty, #(#fields)* ..#sch::Schema::DEFAULT })
}

/// The schema of a well-known type: object types point at kapi-runtime's static schemas
/// (`schema::wellknown::OBJECT_META_OBJECT`), scalar ones are written inline.
fn well_known_type(name: &str, has_format: bool, fields: &mut Vec<TokenStream>) -> TokenStream {
    let rt = rt();
    let sch = quote!(#rt::apimachinery::schema);
    let last = name.rsplit('.').next().unwrap_or("");
    match last {
        "Time" | "MicroTime" => {
            if !has_format {
                fields.push(quote!(format: ::std::option::Option::Some("date-time"),));
            }
            quote!(#sch::Type::String)
        }
        "Duration" => quote!(#sch::Type::String),
        "Quantity" => quote!(#sch::Type::Any),
        "IntOrString" => {
            fields.push(quote!(int_or_string: true,));
            if !has_format {
                fields.push(quote!(format: ::std::option::Option::Some("int-or-string"),));
            }
            quote!(#sch::Type::Any)
        }
        "RawExtension" | "FieldsV1" => {
            fields.push(quote!(preserve_unknown_fields: true,));
            quote!(#sch::Type::Any)
        }
        _ => {
            let obj = format_ident!("{}_OBJECT", screaming(last));
            quote!(#sch::Type::Object(&#sch::wellknown::#obj))
        }
    }
}

/// The names of a kind's hook glue functions (in its storage version's module).
fn glue_fn(k: &Kind, hook: &str) -> proc_macro2::Ident {
    format_ident!("__kapi_{}_{hook}", k.kind.to_lowercase())
}

/// The glue between the runtime's JSON objects and a kind's typed hooks (`x-kapi-hooks`), emitted
/// in the module of its storage version: decode into the generated type, call the hook, encode.
fn emit_hook_glue(model: &Model, k: &Kind) -> TokenStream {
    let (Some(strategy), false) = (&k.strategy, k.hooks.is_empty()) else { return quote!() };
    let rt = rt();
    let json = quote!(#rt::__private::serde_json);
    let m = ident(strategy);
    let module = quote!(super::super::#m);
    let Some(root) = model.named(&k.definition) else { return quote!() };
    let ty = {
        let p = root.module.as_ref().map(module_path).unwrap_or_default();
        let n = ident(&root.rust_name);
        quote!(#p::#n)
    };
    let decode = quote!(#json::from_value::<#ty>(object.clone()).map_err(|e| e.to_string()));
    let encode = quote!(#json::to_value(&typed).map_err(|e| e.to_string()));
    let mut out = Vec::new();
    for h in &k.hooks {
        let item = match h {
            Hook::Default | Hook::PrepareForCreate => {
                let (f, user) = (glue_fn(k, h.function()), ident(h.function()));
                quote! {
                    #[doc(hidden)]
                    pub fn #f(object: &mut #json::Value) -> ::std::result::Result<(), ::std::string::String> {
                        let mut typed = #decode?;
                        #module::#user(&mut typed);
                        *object = #encode?;
                        Ok(())
                    }
                }
            }
            Hook::PrepareForUpdate => {
                let (f, user) = (glue_fn(k, h.function()), ident(h.function()));
                quote! {
                    #[doc(hidden)]
                    pub fn #f(object: &mut #json::Value, old: &#json::Value) -> ::std::result::Result<(), ::std::string::String> {
                        let mut typed = #decode?;
                        let old = #json::from_value::<#ty>(old.clone()).map_err(|e| e.to_string())?;
                        #module::#user(&mut typed, &old);
                        *object = #encode?;
                        Ok(())
                    }
                }
            }
            Hook::ValidateCreate => {
                let (f, user) = (glue_fn(k, h.function()), ident(h.function()));
                quote! {
                    #[doc(hidden)]
                    pub fn #f(object: &#json::Value) -> ::std::result::Result<::std::vec::Vec<#rt::apimachinery::FieldError>, ::std::string::String> {
                        let typed = #decode?;
                        Ok(#module::#user(&typed))
                    }
                }
            }
            Hook::ValidateUpdate => {
                let (f, user) = (glue_fn(k, h.function()), ident(h.function()));
                quote! {
                    #[doc(hidden)]
                    pub fn #f(object: &#json::Value, old: &#json::Value) -> ::std::result::Result<::std::vec::Vec<#rt::apimachinery::FieldError>, ::std::string::String> {
                        let typed = #decode?;
                        let old = #json::from_value::<#ty>(old.clone()).map_err(|e| e.to_string())?;
                        Ok(#module::#user(&typed, &old))
                    }
                }
            }
            Hook::Convert => emit_convert_glue(model, k, &module, &ty),
        };
        out.push(item);
    }
    quote!(#(#out)*)
}

/// `fn(object, to_version)` over the typed `convert_<from>_to_<to>` hooks: any version → the storage
/// version → the version asked for; `apiVersion` and `kind` are set by the glue.
fn emit_convert_glue(model: &Model, k: &Kind, module: &TokenStream, storage_ty: &TokenStream) -> TokenStream {
    let rt = rt();
    let json = quote!(#rt::__private::serde_json);
    let f = glue_fn(k, "convert");
    let storage = &k.version;
    let others: Vec<(&str, TokenStream)> = model
        .kinds
        .iter()
        .filter(|o| o.group == k.group && o.kind == k.kind && o.version != k.version)
        .filter_map(|o| {
            let root = model.named(&o.definition)?;
            let p = root.module.as_ref().map(module_path).unwrap_or_default();
            let n = ident(&root.rust_name);
            Some((o.version.as_str(), quote!(#p::#n)))
        })
        .collect();
    let from_arms = others.iter().map(|(v, ty)| {
        let hook = format_ident!("convert_{}_to_{}", v, storage);
        quote!(#v => #module::#hook(#json::from_value::<#ty>(object).map_err(|e| e.to_string())?)?,)
    });
    let to_arms = others.iter().map(|(v, _)| {
        let hook = format_ident!("convert_{}_to_{}", storage, v);
        quote!(#v => #json::to_value(&#module::#hook(stored)?).map_err(|e| e.to_string())?,)
    });
    let api_version = |v: &str| if k.group.is_empty() { v.to_string() } else { format!("{}/{v}", k.group) };
    let prefix = api_version("");
    let kind = &k.kind;
    quote! {
        #[doc(hidden)]
        pub fn #f(object: #json::Value, to: &str) -> ::std::result::Result<#json::Value, ::std::string::String> {
            let from = object
                .get("apiVersion")
                .and_then(#json::Value::as_str)
                .and_then(|av| av.strip_prefix(#prefix))
                .unwrap_or_default()
                .to_string();
            let stored: #storage_ty = match from.as_str() {
                #storage => #json::from_value(object).map_err(|e| e.to_string())?,
                #(#from_arms)*
                other => return Err(format!("cannot convert from version {other:?}")),
            };
            let mut out = match to {
                #storage => #json::to_value(&stored).map_err(|e| e.to_string())?,
                #(#to_arms)*
                other => return Err(format!("cannot convert to version {other:?}")),
            };
            if let Some(map) = out.as_object_mut() {
                map.insert("apiVersion".into(), #json::Value::String(format!("{}{}", #prefix, to)));
                map.insert("kind".into(), #json::Value::String(#kind.into()));
            }
            Ok(out)
        }
    }
}

/// `conversion:` and `hooks:` of a kind's `KindInfo` (the same in every version).
fn kind_conversion_and_hooks(model: &Model, k: &Kind) -> (TokenStream, TokenStream) {
    let rt = rt();
    let conv = quote!(#rt::apimachinery::conversion);
    let storage_module = model
        .kinds
        .iter()
        .find(|o| o.group == k.group && o.kind == k.kind && o.storage)
        .map(|o| module_path(&o.module))
        .unwrap_or_else(|| module_path(&k.module));
    let storage_kind = model.kinds.iter().find(|o| o.group == k.group && o.kind == k.kind && o.storage).unwrap_or(k);
    let conversion = if k.hooks.contains(&Hook::Convert) {
        let f = glue_fn(storage_kind, "convert");
        quote!(#conv::Conversion::Hook(#storage_module::#f))
    } else {
        match &k.conversion {
            crate::model::Conversion::None => quote!(#conv::Conversion::None),
            crate::model::Conversion::Webhook { url, service, ca_bundle, review_versions } => {
                let url = opt_str(url.as_deref());
                let ca = opt_str(ca_bundle.as_deref());
                let service = match service {
                    Some((ns, name, path, port)) => {
                        let path = opt_str(path.as_deref());
                        quote!(::std::option::Option::Some(#conv::ServiceReference { namespace: #ns, name: #name, path: #path, port: #port }))
                    }
                    None => quote!(::std::option::Option::None),
                };
                quote!(#conv::Conversion::Webhook(#conv::WebhookConversion { url: #url, service: #service, ca_bundle: #ca, review_versions: &[#(#review_versions),*] }))
            }
        }
    };
    let hook = |h: Hook| -> TokenStream {
        if k.hooks.contains(&h) {
            let f = glue_fn(storage_kind, h.function());
            quote!(::std::option::Option::Some(#storage_module::#f))
        } else {
            quote!(::std::option::Option::None)
        }
    };
    let (d, pc, pu, vc, vu) =
        (hook(Hook::Default), hook(Hook::PrepareForCreate), hook(Hook::PrepareForUpdate), hook(Hook::ValidateCreate), hook(Hook::ValidateUpdate));
    let hooks = quote!(#rt::apimachinery::Hooks { default: #d, prepare_for_create: #pc, prepare_for_update: #pu, validate_create: #vc, validate_update: #vu });
    (conversion, hooks)
}

fn emit_kind(model: &Model, k: &Kind) -> TokenStream {
    let rt = rt();
    let sch = quote!(#rt::apimachinery::schema);
    let list = ident(&k.list_kind);
    let info = format_ident!("{}_INFO", screaming(&k.kind));
    let root_schema = format_ident!("{}_ROOT_SCHEMA", screaming(&k.kind));
    let Some(root) = model.named(&k.definition) else { return quote!() };
    let root_obj = format_ident!("{}_SCHEMA", screaming(&root.rust_name));
    let root_path = {
        let m = root.module.as_ref().map(module_path).unwrap_or_default();
        let n = ident(&root.rust_name);
        quote!(#m::#n)
    };
    let root_obj_path = {
        let m = root.module.as_ref().map(module_path).unwrap_or_default();
        quote!(#m::#root_obj)
    };
    let (group, version, kind, list_kind, plural, singular) = (&k.group, &k.version, &k.kind, &k.list_kind, &k.plural, &k.singular);
    let short = k.short_names.iter();
    let cats = k.categories.iter();
    let scope = if k.namespaced { quote!(#rt::apimachinery::Scope::Namespaced) } else { quote!(#rt::apimachinery::Scope::Cluster) };
    let (served, storage, deprecated) = (k.served, k.storage, k.deprecated);
    let dw = opt_str(k.deprecation_warning.as_deref());
    let definition = &k.definition;
    let status = k.status;
    let scale = match &k.scale {
        Some(s) => {
            let (a, b) = (&s.spec_replicas_path, &s.status_replicas_path);
            let c = opt_str(s.label_selector_path.as_deref());
            quote!(::std::option::Option::Some(#rt::apimachinery::ScaleInfo { spec_replicas_path: #a, status_replicas_path: #b, label_selector_path: #c }))
        }
        None => quote!(::std::option::Option::None),
    };
    let extra = k.extra_subresources.iter();
    let strategy = opt_str(k.strategy.as_deref());
    let cols = k.printer_columns.iter().map(|c| {
        let (n, t, f, d, p, j) = (&c.name, &c.type_, &c.format, &c.description, c.priority, &c.json_path);
        let pr = opt_str(c.printer.as_deref());
        quote!(#rt::apimachinery::PrinterColumn { name: #n, type_: #t, format: #f, description: #d, priority: #p, json_path: #j, printer: #pr })
    });
    let sel = k.selectable_fields.iter();
    let proto = &k.proto_package;
    let verbs = k.verbs.iter();
    let (conversion, hooks) = kind_conversion_and_hooks(model, k);
    let api_version = k.api_version();
    let list_doc = format!("A list of `{kind}` objects (`{api_version}` `{list_kind}`).");
    let info_doc = format!("Registry facts of `{api_version}` `{kind}`.");
    let serde_path = quote!(#rt::__private::serde);
    // The list type, and the Resource impl on the root struct (which may live in another module when
    // a named root is shared, so the impl is written where the kind is).
    // Create-only kinds are never listed: no list type.
    let list_struct = if k.create_only() {
        quote!()
    } else {
        quote! {
            #[doc = #list_doc]
            #[derive(Debug, Clone, Default, PartialEq, #serde_path::Serialize, #serde_path::Deserialize)]
            #[serde(crate = "::kapi_runtime::__private::serde")]
            pub struct #list {
                /// APIVersion of the list.
                #[serde(rename = "apiVersion", default, skip_serializing_if = "::std::option::Option::is_none")]
                pub api_version: ::std::option::Option<::std::string::String>,
                /// Kind of the list.
                #[serde(rename = "kind", default, skip_serializing_if = "::std::option::Option::is_none")]
                pub kind: ::std::option::Option<::std::string::String>,
                /// Standard list metadata.
                #[serde(rename = "metadata", default)]
                pub metadata: #rt::apimachinery::ListMeta,
                /// The objects.
                #[serde(rename = "items", default)]
                pub items: ::std::vec::Vec<#root_path>,
            }
        }
    };
    quote! {
        #list_struct

        /// Root schema of the kind.
        pub static #root_schema: #sch::Schema = #sch::Schema { ty: #sch::Type::Object(&#root_obj_path), ..#sch::Schema::DEFAULT };

        #[doc = #info_doc]
        pub static #info: #rt::apimachinery::KindInfo = #rt::apimachinery::KindInfo {
            group: #group,
            version: #version,
            kind: #kind,
            list_kind: #list_kind,
            plural: #plural,
            singular: #singular,
            short_names: &[#(#short),*],
            categories: &[#(#cats),*],
            scope: #scope,
            served: #served,
            storage: #storage,
            deprecated: #deprecated,
            deprecation_warning: #dw,
            definition: #definition,
            schema: &#root_schema,
            status_subresource: #status,
            scale: #scale,
            extra_subresources: &[#(#extra),*],
            strategy: #strategy,
            printer_columns: &[#(#cols),*],
            selectable_fields: &[#(#sel),*],
            proto_package: #proto,
            verbs: &[#(#verbs),*],
            conversion: #conversion,
            hooks: #hooks,
        };

        impl #rt::apimachinery::Resource for #root_path {
            const INFO: &'static #rt::apimachinery::KindInfo = &#info;
            fn metadata(&self) -> &#rt::apimachinery::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut #rt::apimachinery::ObjectMeta {
                &mut self.metadata
            }
        }
    }
}

/// Formats a token stream as Rust source (for snapshots and `cargo xtask generate`).
pub fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents() {
        assert_eq!(field_ident("podIPs"), "pod_ips");
        assert_eq!(field_ident("type"), "type_");
        assert_eq!(field_ident("apiVersion"), "api_version");
        assert_eq!(field_ident("x-kubernetes-foo"), "x_kubernetes_foo");
        assert_eq!(field_ident("$ref"), "ref_");
        assert_eq!(field_ident("3d"), "f_3d");
        assert_eq!(field_ident("hostIPC"), "host_ipc");
        assert_eq!(field_ident("externalIPs"), "external_ips");
        assert_eq!(screaming("PodSpec"), "POD_SPEC");
        assert_eq!(screaming("HTTPRoute"), "HTTP_ROUTE");
    }

    #[test]
    fn proto_facts() {
        assert_eq!(proto_type_named("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"), Some("MicroTime"));
        assert_eq!(proto_type_named("bytes"), Some("Bytes"));
        assert_eq!(proto_type_named("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"), Some("RawExtension"));
        assert_eq!(proto_type_named("k8s.io.api.core.v1.PodSpec"), None);
        // A property's `map<K, V>` / element override reaches the element.
        let parent = Schema { proto_type: Some("map<string, k8s.io.apimachinery.pkg.api.resource.Quantity>".into()), ..Schema::default() };
        let e = element_with_proto_type(&parent, &Schema { ty: Ty::String, ..Schema::default() });
        assert_eq!(e.proto_type.as_deref(), Some("k8s.io.apimachinery.pkg.api.resource.Quantity"));
        let p = proto_fields(&Schema { ty: Ty::String, proto: Some(3), omit_zero: true, ..Schema::default() }).expect("numbered").to_string();
        assert!(p.contains("number : 3u32") && p.contains("ProtoType :: Implied") && p.contains("omit_zero : true"), "{p}");
        let p = proto_fields(&Schema { ty: Ty::String, format: Some("byte".into()), proto: Some(2), ..Schema::default() }).expect("bytes").to_string();
        assert!(p.contains("ProtoType :: Bytes") && p.contains("omit_zero : false"), "{p}");
        assert!(proto_fields(&Schema { ty: Ty::Integer, ..Schema::default() }).is_none());
        let mut obj = crate::model::Object::default();
        obj.properties.insert("kind".into(), Schema { ty: Ty::String, ..Schema::default() });
        obj.properties.insert("spec".into(), Schema { proto: Some(2), ..Schema::default() });
        assert!(has_protobuf(&obj));
        obj.properties.insert("status".into(), Schema::default());
        assert!(!has_protobuf(&obj));
    }
}
