//! Paths and operations per kind, as kube-apiserver's installer (built-in kinds) and
//! apiextensions-apiserver's OpenAPI builder (CRD-style kinds) publish them.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::schema::{is_builtin, list_definition_name, Renderer};
use super::{parameter, V2_REF, V3_REF};
use crate::model::Kind;

const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
const API_RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

/// Resources whose DELETE answers the deleted object rather than a Status (upstream's registries with
/// `ReturnDeletedObject: true`).
// TODO(ir): a per-kind fact the runtime needs too; move it into the schema format/IR.
const RETURNS_DELETED_OBJECT: &[(&str, &str)] = &[
    ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"),
    ("", "pods"),
    ("", "podtemplates"),
    ("", "resourcequotas"),
    ("", "serviceaccounts"),
    ("", "services"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "volumeattachments"),
    ("storage.k8s.io", "volumeattributesclasses"),
];

/// Resources without DELETE on the collection upstream (namespaces are deleted one by one).
// TODO(ir): as above, a per-kind verb set.
const NO_DELETE_COLLECTION: &[(&str, &str)] = &[("", "namespaces")];

/// Extra subresources (`x-kapi-subresources`) kapi knows how to document: name → (method, verb,
/// body/response definition, its GVK). The definition must be in the model, else the subresource is
/// left out of the documents (e.g. `binding` until a schema defines `io.k8s.api.core.v1.Binding`).
/// `finalize` uses the kind's own type.
const EXTRA_SUBRESOURCES: &[(&str, &str, &str, &str, [&str; 3])] = &[
    ("binding", "post", "create", "io.k8s.api.core.v1.Binding", ["", "v1", "Binding"]),
    ("eviction", "post", "create", "io.k8s.api.policy.v1.Eviction", ["policy", "v1", "Eviction"]),
    ("token", "post", "create", "io.k8s.api.authentication.v1.TokenRequest", ["authentication.k8s.io", "v1", "TokenRequest"]),
];

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// What an operation answers with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Produces {
    /// JSON, YAML, protobuf.
    Object,
    /// ... plus the watch stream types.
    Watch,
    /// A CRD's JSON and YAML.
    CrdObject,
    /// A CRD's list (JSON, YAML, JSON watch stream).
    CrdList,
}

impl Produces {
    fn types(self) -> &'static [&'static str] {
        match self {
            Produces::Object => &["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
            Produces::Watch => &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
                "application/json;stream=watch",
                "application/vnd.kubernetes.protobuf;stream=watch",
            ],
            Produces::CrdObject => &["application/json", "application/yaml"],
            Produces::CrdList => &["application/json", "application/yaml", "application/json;stream=watch"],
        }
    }
}

/// One operation (method on a path).
pub(super) struct Op {
    method: &'static str,
    op_id: String,
    description: String,
    tag: String,
    action: Option<&'static str>,
    /// group, version, kind.
    gvk: Option<[String; 3]>,
    /// Non-body parameters in v2 form (`uniqueItems, type, description, name, in, required`).
    params: Vec<Map<String, Value>>,
    /// Body definition and whether it is required.
    body: Option<(String, bool)>,
    consumes: &'static [&'static str],
    produces: &'static [&'static str],
    /// (code, definition) besides 401.
    responses: Vec<(&'static str, String)>,
}

/// A parameter in v2 form.
type Param = Map<String, Value>;

/// The operations of one path.
pub(super) struct PathItem {
    ops: Vec<Op>,
}

fn key(p: &Map<String, Value>) -> (String, String) {
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    (s("name"), s("in"))
}

fn response_description(code: &str) -> &'static str {
    match code {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        _ => "Unauthorized",
    }
}

impl PathItem {
    /// Operations in upstream's order, path-level parameters (those every operation has, as
    /// kube-openapi hoists them) and each operation's remaining ones, all sorted by (name, in).
    fn split(&self) -> (Vec<&Op>, Vec<Param>, Vec<Vec<Param>>) {
        let mut ops: Vec<&Op> = self.ops.iter().collect();
        ops.sort_by_key(|o| METHODS.iter().position(|m| *m == o.method).unwrap_or(METHODS.len()));
        let mut common: Vec<Map<String, Value>> = match ops.first() {
            Some(first) => first.params.iter().filter(|p| ops.iter().all(|o| o.params.iter().any(|q| key(q) == key(p)))).cloned().collect(),
            None => Vec::new(),
        };
        common.sort_by_key(key);
        let own = ops
            .iter()
            .map(|o| {
                let mut ps: Vec<Map<String, Value>> = o.params.iter().filter(|p| !common.iter().any(|c| key(c) == key(p))).cloned().collect();
                ps.sort_by_key(key);
                ps
            })
            .collect();
        (ops, common, own)
    }

    pub(super) fn to_v3(&self) -> Value {
        let (ops, common, own) = self.split();
        let mut item = Map::new();
        for (op, params) in ops.iter().zip(own) {
            let mut m = Map::new();
            m.insert("tags".into(), json!([op.tag]));
            m.insert("description".into(), json!(op.description));
            m.insert("operationId".into(), json!(op.op_id));
            if !params.is_empty() {
                m.insert("parameters".into(), Value::Array(params.iter().map(v3_param).collect()));
            }
            if let Some((def, required)) = &op.body {
                let mut types: Vec<&str> = op.consumes.to_vec();
                types.sort_unstable();
                let content: Map<String, Value> = types.iter().map(|t| (t.to_string(), json!({"schema": {"$ref": format!("{V3_REF}{def}")}}))).collect();
                let mut body = Map::new();
                body.insert("content".into(), Value::Object(content));
                if *required {
                    body.insert("required".into(), json!(true));
                }
                m.insert("requestBody".into(), Value::Object(body));
            }
            let mut types: Vec<&str> = op.produces.to_vec();
            types.sort_unstable();
            let mut responses = Map::new();
            for (code, def) in &op.responses {
                let content: Map<String, Value> = types.iter().map(|t| (t.to_string(), json!({"schema": {"$ref": format!("{V3_REF}{def}")}}))).collect();
                responses.insert(code.to_string(), json!({"description": response_description(code), "content": content}));
            }
            responses.insert("401".into(), json!({"description": "Unauthorized"}));
            m.insert("responses".into(), Value::Object(responses));
            if let Some(a) = op.action {
                m.insert("x-kubernetes-action".into(), json!(a));
            }
            if let Some([g, v, k]) = &op.gvk {
                m.insert("x-kubernetes-group-version-kind".into(), json!({"group": g, "version": v, "kind": k}));
            }
            item.insert(op.method.into(), Value::Object(m));
        }
        if !common.is_empty() {
            item.insert("parameters".into(), Value::Array(common.iter().map(v3_param).collect()));
        }
        Value::Object(item)
    }

    pub(super) fn to_v2(&self) -> Value {
        let (ops, common, own) = self.split();
        let mut item = Map::new();
        for (op, params) in ops.iter().zip(own) {
            let mut m = Map::new();
            m.insert("description".into(), json!(op.description));
            m.insert("consumes".into(), json!(op.consumes));
            m.insert("produces".into(), json!(op.produces));
            m.insert("schemes".into(), json!(["https"]));
            m.insert("tags".into(), json!([op.tag]));
            m.insert("operationId".into(), json!(op.op_id));
            let mut params: Vec<Map<String, Value>> = params;
            if let Some((def, required)) = &op.body {
                let mut b = Map::new();
                b.insert("name".into(), json!("body"));
                b.insert("in".into(), json!("body"));
                if *required {
                    b.insert("required".into(), json!(true));
                }
                b.insert("schema".into(), json!({"$ref": format!("{V2_REF}{def}")}));
                params.push(b);
                params.sort_by_key(key);
            }
            if !params.is_empty() {
                m.insert("parameters".into(), Value::Array(params.into_iter().map(Value::Object).collect()));
            }
            let mut responses = Map::new();
            for (code, def) in &op.responses {
                responses.insert(code.to_string(), json!({"description": response_description(code), "schema": {"$ref": format!("{V2_REF}{def}")}}));
            }
            responses.insert("401".into(), json!({"description": "Unauthorized"}));
            m.insert("responses".into(), Value::Object(responses));
            if let Some(a) = op.action {
                m.insert("x-kubernetes-action".into(), json!(a));
            }
            if let Some([g, v, k]) = &op.gvk {
                m.insert("x-kubernetes-group-version-kind".into(), json!({"group": g, "kind": k, "version": v}));
            }
            item.insert(op.method.into(), Value::Object(m));
        }
        if !common.is_empty() {
            item.insert("parameters".into(), Value::Array(common.into_iter().map(Value::Object).collect()));
        }
        Value::Object(item)
    }
}

/// A v2 parameter as v3 writes it: `{name, in, description, required, schema: {type, uniqueItems}}`.
fn v3_param(p: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    for k in ["name", "in", "description", "required"] {
        if let Some(v) = p.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    let mut schema = Map::new();
    for k in ["type", "uniqueItems"] {
        if let Some(v) = p.get(k) {
            schema.insert(k.into(), v.clone());
        }
    }
    m.insert("schema".into(), Value::Object(schema));
    Value::Object(m)
}

/// kube-openapi's `ToValidOperationID`: letters and `_` kept (digits too, except first), anything
/// else dropped and the next letter capitalized.
fn operation_id_part(s: &str, capitalize_first: bool) -> String {
    let mut out = String::new();
    let mut capitalize = capitalize_first;
    for (i, c) in s.char_indices() {
        if c.is_alphabetic() || c == '_' || (i != 0 && c.is_numeric()) {
            if capitalize {
                out.extend(c.to_uppercase());
                capitalize = false;
            } else {
                out.push(c);
            }
        } else {
            capitalize = true;
        }
    }
    out
}

/// `endpoints.GetArticleForNoun(noun, " ")`.
fn article(noun: &str) -> &'static str {
    if !noun.ends_with("ss") && noun.ends_with('s') {
        return " ";
    }
    match noun.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => " an ",
        _ => " a ",
    }
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn params(ids: &[&str]) -> Vec<Map<String, Value>> {
    ids.iter().map(|id| parameter(id)).collect()
}

fn name_param(kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("uniqueItems".into(), json!(true));
    m.insert("type".into(), json!("string"));
    m.insert("description".into(), json!(format!("name of the {kind}")));
    m.insert("name".into(), json!("name"));
    m.insert("in".into(), json!("path"));
    m.insert("required".into(), json!(true));
    m
}

const LIST_PARAMS: &[&str] = &[
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "shardSelector",
    "timeoutSeconds",
    "watch",
];
const DELETE_COLLECTION_PARAMS: &[&str] = &[
    "continue",
    "dryRun",
    "fieldSelector",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "labelSelector",
    "limit",
    "orphanDependents",
    "propagationPolicy",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "shardSelector",
    "timeoutSeconds",
];
const WRITE_PARAMS: &[&str] = &["dryRun", "fieldManager", "fieldValidation"];
const PATCH_PARAMS: &[&str] = &["dryRun", "fieldManagerPatch", "fieldValidation", "force"];
const DELETE_PARAMS: &[&str] = &["dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential", "orphanDependents", "propagationPolicy"];

const CONSUMES_ANY: &[&str] = &["*/*"];
const CONSUMES_PATCH: &[&str] = &["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];
// Custom resources have no strategic merge patch.
const CONSUMES_CRD_PATCH: &[&str] = &["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];
const DISCOVERY_TYPES: &[&str] = &["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

/// Everything needed to name one kind's operations.
struct KindOps<'a> {
    k: &'a Kind,
    builtin: bool,
    /// `CoreV1`, `AppsV1`, `RbacAuthorizationV1`.
    prefix: String,
    tag: String,
    /// `Namespaced` or empty.
    nsd: &'static str,
}

impl KindOps<'_> {
    fn gvk(&self) -> Option<[String; 3]> {
        Some([self.k.group.clone(), self.k.version.clone(), self.k.kind.clone()])
    }

    fn object(&self) -> Produces {
        if self.builtin {
            Produces::Object
        } else {
            Produces::CrdObject
        }
    }

    /// Path parameters (namespace, name) plus `pretty`, which every resource operation has.
    fn base_params(&self, path: &str, name_kind: &str) -> Vec<Map<String, Value>> {
        let mut ps = vec![parameter("pretty")];
        if path.contains("{namespace}") {
            ps.push(parameter("namespace"));
        }
        if path.contains("{name}") {
            ps.push(name_param(name_kind));
        }
        ps
    }

    #[allow(clippy::too_many_arguments)]
    fn op(
        &self,
        path: &str,
        method: &'static str,
        verb: &str,
        rest: String,
        description: String,
        action: &'static str,
        gvk: Option<[String; 3]>,
        extra: &[&str],
        body: Option<(String, bool)>,
        produces: Produces,
        responses: Vec<(&'static str, String)>,
    ) -> Op {
        let name_kind = gvk.as_ref().map(|g| g[2].clone()).unwrap_or_default();
        let mut ps = self.base_params(path, &name_kind);
        ps.extend(params(extra));
        let consumes = match (method, self.builtin) {
            ("patch", true) => CONSUMES_PATCH,
            ("patch", false) => CONSUMES_CRD_PATCH,
            _ => CONSUMES_ANY,
        };
        Op {
            method,
            op_id: format!("{verb}{}{}", self.prefix, title(&rest)),
            description,
            tag: self.tag.clone(),
            action: Some(action),
            gvk,
            params: ps,
            body,
            consumes,
            produces: produces.types(),
            responses,
        }
    }
}

fn add(out: &mut BTreeMap<String, PathItem>, path: String, op: Op) {
    out.entry(path).or_insert_with(|| PathItem { ops: Vec::new() }).ops.push(op);
}

/// `/api/v1` or `/apis/<group>/<version>`.
fn base_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// (operation-id prefix, tag) for a group-version, as kube-apiserver's `GetOperationIDAndTags`.
fn prefix_and_tag(group: &str, version: &str) -> (String, String) {
    let g = if group.is_empty() { "core" } else { group.strip_suffix(".k8s.io").unwrap_or(group) };
    (
        format!("{}{}", operation_id_part(g, true), operation_id_part(version, true)),
        format!("{}_{}", operation_id_part(g, false), operation_id_part(version, false)),
    )
}

/// All paths of one group-version.
pub(super) fn group_version(r: &Renderer<'_>, group: &str, version: &str, kinds: &[&Kind]) -> BTreeMap<String, PathItem> {
    let mut out = BTreeMap::new();
    let base = base_path(group, version);
    let (prefix, tag) = prefix_and_tag(group, version);
    // Discovery of the group-version (custom resources' groups are not in upstream's OpenAPI).
    if kinds.iter().any(|k| is_builtin(k)) {
        add(
            &mut out,
            format!("{base}/"),
            Op {
                method: "get",
                op_id: format!("get{prefix}APIResources"),
                description: "get available resources".into(),
                tag: tag.clone(),
                action: None,
                gvk: None,
                params: Vec::new(),
                body: None,
                consumes: DISCOVERY_TYPES,
                produces: DISCOVERY_TYPES,
                responses: vec![("200", API_RESOURCE_LIST.into())],
            },
        );
    }
    for k in kinds {
        kind_paths(r, k, &base, &prefix, &tag, &mut out);
    }
    out
}

fn kind_paths(r: &Renderer<'_>, k: &Kind, base: &str, prefix: &str, tag: &str, out: &mut BTreeMap<String, PathItem>) {
    let ko = KindOps {
        k,
        builtin: is_builtin(k),
        prefix: prefix.to_string(),
        tag: tag.to_string(),
        nsd: if k.namespaced { "Namespaced" } else { "" },
    };
    let kind = k.kind.as_str();
    let nsd = ko.nsd;
    let def = k.definition.clone();
    let list = list_definition_name(k);
    let ns_seg = if k.namespaced { "/namespaces/{namespace}" } else { "" };
    let coll = format!("{base}{ns_seg}/{}", k.plural);
    let item = format!("{coll}/{{name}}");
    let obj = ko.object();
    let list_produces = if ko.builtin { Produces::Watch } else { Produces::CrdList };
    let deleted = if ko.builtin && RETURNS_DELETED_OBJECT.contains(&(k.group.as_str(), k.plural.as_str())) { def.clone() } else { STATUS.to_string() };
    let gvk = ko.gvk();

    let create = ko.op(
        &coll,
        "post",
        "create",
        format!("{nsd}{kind}"),
        format!("create{}{kind}", article(kind)),
        "post",
        gvk.clone(),
        WRITE_PARAMS,
        Some((def.clone(), true)),
        obj,
        vec![("200", def.clone()), ("201", def.clone()), ("202", def.clone())],
    );
    if k.create_only() {
        // A create-only kind (SubjectAccessReview, TokenReview): the POST on the collection, nothing else.
        add(out, coll, create);
        return;
    }

    // The collection.
    add(out, coll.clone(), ko.op(&coll, "get", "list", format!("{nsd}{kind}"), format!("list or watch objects of kind {kind}"), "list", gvk.clone(), LIST_PARAMS, None, list_produces, vec![("200", list.clone())]));
    add(out, coll.clone(), create);
    if !NO_DELETE_COLLECTION.contains(&(k.group.as_str(), k.plural.as_str())) {
        add(
            out,
            coll.clone(),
            ko.op(
                &coll,
                "delete",
                "delete",
                format!("Collection{nsd}{kind}"),
                format!("delete collection of {kind}"),
                "deletecollection",
                gvk.clone(),
                DELETE_COLLECTION_PARAMS,
                Some((DELETE_OPTIONS.into(), false)),
                obj,
                vec![("200", STATUS.into())],
            ),
        );
    }

    // One object.
    let item_ops = [
        ("get", "read", format!("read the specified {kind}"), "get", &[][..], None, vec![("200", def.clone())]),
        ("put", "replace", format!("replace the specified {kind}"), "put", WRITE_PARAMS, Some((def.clone(), true)), vec![("200", def.clone()), ("201", def.clone())]),
        ("delete", "delete", format!("delete{}{kind}", article(kind)), "delete", DELETE_PARAMS, Some((DELETE_OPTIONS.to_string(), false)), vec![("200", deleted.clone()), ("202", deleted.clone())]),
        ("patch", "patch", format!("partially update the specified {kind}"), "patch", PATCH_PARAMS, Some((PATCH.to_string(), true)), vec![("200", def.clone()), ("201", def.clone())]),
    ];
    for (method, verb, desc, action, extra, body, responses) in item_ops {
        add(out, item.clone(), ko.op(&item, method, verb, format!("{nsd}{kind}"), desc, action, gvk.clone(), extra, body, obj, responses));
    }

    // Lists across namespaces.
    if k.namespaced {
        let all = format!("{base}/{}", k.plural);
        add(out, all.clone(), ko.op(&all, "get", "list", format!("{kind}ForAllNamespaces"), format!("list or watch objects of kind {kind}"), "list", gvk.clone(), LIST_PARAMS, None, list_produces, vec![("200", list.clone())]));
    }

    // The deprecated watch paths (kube-apiserver only; CRDs publish none).
    if ko.builtin {
        let watch_list_desc = format!("watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead.");
        let wcoll = format!("{base}/watch{ns_seg}/{}", k.plural);
        add(out, wcoll.clone(), ko.op(&wcoll, "get", "watch", format!("{nsd}{kind}List"), watch_list_desc.clone(), "watchlist", gvk.clone(), LIST_PARAMS, None, Produces::Watch, vec![("200", WATCH_EVENT.into())]));
        let witem = format!("{wcoll}/{{name}}");
        add(
            out,
            witem.clone(),
            ko.op(
                &witem,
                "get",
                "watch",
                format!("{nsd}{kind}"),
                format!("watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."),
                "watch",
                gvk.clone(),
                LIST_PARAMS,
                None,
                Produces::Watch,
                vec![("200", WATCH_EVENT.into())],
            ),
        );
        if k.namespaced {
            let wall = format!("{base}/watch/{}", k.plural);
            add(out, wall.clone(), ko.op(&wall, "get", "watch", format!("{kind}ListForAllNamespaces"), watch_list_desc, "watchlist", gvk.clone(), LIST_PARAMS, None, Produces::Watch, vec![("200", WATCH_EVENT.into())]));
        }
    }

    // get/put/patch subresources: status (the kind itself) and scale (autoscaling/v1 Scale).
    let mut subs: Vec<(&str, String, Option<[String; 3]>)> = Vec::new();
    if k.status {
        subs.push(("status", def.clone(), gvk.clone()));
    }
    if k.scale.is_some() {
        subs.push(("scale", SCALE.to_string(), Some(["autoscaling".into(), "v1".into(), "Scale".into()])));
    }
    for (sub, sdef, sgvk) in subs {
        let path = format!("{item}/{sub}");
        let rest = format!("{nsd}{kind}{}", title(sub));
        add(out, path.clone(), ko.op(&path, "get", "read", rest.clone(), format!("read {sub} of the specified {kind}"), "get", sgvk.clone(), &[], None, obj, vec![("200", sdef.clone())]));
        add(
            out,
            path.clone(),
            ko.op(&path, "put", "replace", rest.clone(), format!("replace {sub} of the specified {kind}"), "put", sgvk.clone(), WRITE_PARAMS, Some((sdef.clone(), true)), obj, vec![("200", sdef.clone()), ("201", sdef.clone())]),
        );
        add(
            out,
            path.clone(),
            ko.op(&path, "patch", "patch", rest, format!("partially update {sub} of the specified {kind}"), "patch", sgvk, PATCH_PARAMS, Some((PATCH.into(), true)), obj, vec![("200", sdef.clone()), ("201", sdef)]),
        );
    }

    // Extra subresources served by runtime hooks.
    for sub in &k.extra_subresources {
        let path = format!("{item}/{sub}");
        let rest = format!("{nsd}{kind}{}", title(sub));
        if sub == "finalize" {
            add(out, path.clone(), ko.op(&path, "put", "replace", rest, format!("replace {sub} of the specified {kind}"), "put", gvk.clone(), WRITE_PARAMS, Some((def.clone(), true)), obj, vec![("200", def.clone()), ("201", def.clone())]));
            continue;
        }
        let Some((_, method, verb, sdef, [g, v, sk])) = EXTRA_SUBRESOURCES.iter().find(|e| e.0 == sub) else {
            // Unknown to the documents: the runtime hook serves it undocumented.
            continue;
        };
        if !r.has_definition(sdef) {
            // Its body type is not in the model (e.g. io.k8s.api.core.v1.Binding): leave it out
            // rather than publish a dangling $ref.
            continue;
        }
        let sdef = sdef.to_string();
        add(
            out,
            path.clone(),
            ko.op(
                &path,
                method,
                verb,
                rest,
                format!("create {sub} of{}{kind}", article(kind)),
                "post",
                Some([g.to_string(), v.to_string(), sk.to_string()]),
                WRITE_PARAMS,
                Some((sdef.clone(), true)),
                obj,
                vec![("200", sdef.clone()), ("201", sdef.clone()), ("202", sdef)],
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_and_tags() {
        assert_eq!(prefix_and_tag("", "v1"), ("CoreV1".to_string(), "core_v1".to_string()));
        assert_eq!(prefix_and_tag("rbac.authorization.k8s.io", "v1"), ("RbacAuthorizationV1".to_string(), "rbacAuthorization_v1".to_string()));
        assert_eq!(prefix_and_tag("monitoring.coreos.com", "v1"), ("MonitoringCoreosComV1".to_string(), "monitoringCoreosCom_v1".to_string()));
        assert_eq!(prefix_and_tag("cert-manager.io", "v1alpha2"), ("CertManagerIoV1alpha2".to_string(), "certManagerIo_v1alpha2".to_string()));
    }

    #[test]
    fn articles() {
        assert_eq!(article("Pod"), " a ");
        assert_eq!(article("Event"), " an ");
        assert_eq!(article("Endpoints"), " ");
        assert_eq!(article("Ingress"), " an ");
    }
}
