//! Field paths and field sets (structured-merge-diff's `fieldpath`): path elements with upstream's
//! order and display, the set trie with its set algebra, and the `FieldsV1` encoding stored in
//! `metadata.managedFields` (`f:name`, `k:{"name":"x"}`, `v:"value"`, `i:0`, `.` for the node itself).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::value::{compare, go_json, to_display, write_go_json, write_go_string};

/// One step of a field path.
#[derive(Debug, Clone)]
pub(crate) enum PathElement {
    /// A field of a map or struct (`f:name`).
    Field(String),
    /// An item of an associative list, by its key fields sorted by name (`k:{"name":"x"}`).
    Key(Vec<(String, Value)>),
    /// An item of a set (`v:"x"`).
    Value(Value),
    /// An item of a list by position (`i:0`).
    Index(i64),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The `FieldsV1` key of this element.
    pub(crate) fn serialize(&self) -> String {
        let mut out = String::new();
        match self {
            PathElement::Field(name) => {
                out.push_str("f:");
                out.push_str(name);
            }
            PathElement::Key(fields) => {
                out.push_str("k:{");
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_go_string(name, &mut out);
                    out.push(':');
                    write_go_json(v, &mut out);
                }
                out.push('}');
            }
            PathElement::Value(v) => {
                out.push_str("v:");
                out.push_str(&go_json(v));
            }
            PathElement::Index(i) => {
                out.push_str("i:");
                out.push_str(&i.to_string());
            }
        }
        out
    }

    /// Parses a `FieldsV1` key; `Ok(None)` for an unknown element type, which upstream skips.
    pub(crate) fn parse(s: &str) -> Result<Option<PathElement>, String> {
        let mut chars = s.chars();
        let (Some(kind), Some(sep)) = (chars.next(), chars.next()) else {
            return Err("key must be 2 characters long:".into());
        };
        if sep != ':' {
            return Err(format!("missing colon: {s}"));
        }
        let rest = chars.as_str();
        match kind {
            'f' => Ok(Some(PathElement::Field(rest.to_string()))),
            'v' => crate::apimachinery::json::from_str(rest).map(|v| Some(PathElement::Value(v))).map_err(|e| e.to_string()),
            'k' => {
                let m: Map<String, Value> = crate::apimachinery::json::from_str(rest).map_err(|e| e.to_string())?;
                let mut fields: Vec<(String, Value)> = m.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Some(PathElement::Key(fields)))
            }
            'i' => rest.parse::<i64>().map(|i| Some(PathElement::Index(i))).map_err(|e| e.to_string()),
            _ => Ok(None),
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => {
                for ((na, va), (nb, vb)) in a.iter().zip(b) {
                    let c = na.cmp(nb).then_with(|| compare(va, vb));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (PathElement::Value(a), PathElement::Value(b)) => compare(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl fmt::Display for PathElement {
    /// Upstream's `PathElement.String`: `.name`, `[name="x",port=80]`, `[="x"]`, `[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(n, v)| format!("{n}={}", to_display(v))).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", to_display(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path as upstream prints it in conflicts (`.spec.containers[name="nginx"].image`).
pub(crate) fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// A set of field paths, as a trie: `members` are paths ending here, `children` lead to deeper ones.
/// A child set is never empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSet {
    pub(crate) members: BTreeSet<PathElement>,
    pub(crate) children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// A set of the given paths.
    #[cfg(test)]
    pub(crate) fn from_paths<'a>(paths: impl IntoIterator<Item = &'a [PathElement]>) -> FieldSet {
        let mut s = FieldSet::default();
        for p in paths {
            s.insert(p);
        }
        s
    }

    /// Adds `path` (not its parents); the empty path (the whole object) is never tracked.
    pub(crate) fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether `path` is a member.
    #[cfg(test)]
    pub(crate) fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// True when no path is a member.
    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    /// The paths below `pe` (without `pe`), if any.
    pub(crate) fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    /// Paths in either set.
    pub(crate) fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// Paths in both sets.
    pub(crate) fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    children.insert(pe.clone(), i);
                }
            }
        }
        FieldSet { members, children }
    }

    /// Paths in `self` but not in `other` (a parent in `other` does not remove its children).
    pub(crate) fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                children.insert(pe.clone(), d);
            }
        }
        FieldSet { members, children }
    }

    /// Paths in `self` that are neither in `other` nor below a member of `other`.
    pub(crate) fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            if other.members.contains(pe) {
                continue;
            }
            let d = match other.children.get(pe) {
                Some(o) => c.recursive_difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                children.insert(pe.clone(), d);
            }
        }
        FieldSet { members, children }
    }

    /// Every member path, in upstream's iteration order (a node's members, then its children's).
    pub(crate) fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (pe, c) in &self.children {
            prefix.push(pe.clone());
            c.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The `FieldsV1` form: keys in path-element order, `"."` marking a member that also has children.
    pub(crate) fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self && !self.is_empty() {
            out.insert(".".into(), Value::Object(Map::new()));
        }
        let keys: BTreeSet<&PathElement> = self.members.iter().chain(self.children.keys()).collect();
        for pe in keys {
            let member = self.members.contains(pe);
            let inner = match self.children.get(pe) {
                Some(c) if !c.is_empty() => c.emit(member),
                _ => Map::new(),
            };
            out.insert(pe.serialize(), Value::Object(inner));
        }
        out
    }

    /// Parses the `FieldsV1` form; unknown element types are skipped as upstream does.
    pub(crate) fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        match v {
            Value::Null => Ok(FieldSet::default()),
            Value::Object(m) => Ok(read_node(m)?.0.unwrap_or_default()),
            other => Err(format!("expected an object, got {}", go_json(other))),
        }
    }
}

/// Reads one trie level: the set below it (if anything was found) and whether the node is a member.
fn read_node(m: &Map<String, Value>) -> Result<(Option<FieldSet>, bool), String> {
    let mut set: Option<FieldSet> = None;
    let mut member = false;
    for (k, v) in m {
        if k == "." {
            member = true;
            continue;
        }
        let Some(pe) = PathElement::parse(k).map_err(|e| format!("parsing key as path element: {e}"))? else {
            continue;
        };
        let (grandchildren, child_member) = match v {
            Value::Null => (None, true),
            Value::Object(inner) => read_node(inner)?,
            other => return Err(format!("expected an object under {k}, got {}", go_json(other))),
        };
        if child_member {
            set.get_or_insert_with(FieldSet::default).members.insert(pe.clone());
        }
        if let Some(g) = grandchildren {
            set.get_or_insert_with(FieldSet::default).children.insert(pe, g);
        }
    }
    if set.is_none() {
        member = true;
    }
    Ok((set, member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> PathElement {
        PathElement::Field(s.into())
    }

    #[test]
    fn element_order_and_display() {
        let key = PathElement::Key(vec![("containerPort".into(), json!(80)), ("protocol".into(), json!("TCP"))]);
        assert_eq!(key.serialize(), r#"k:{"containerPort":80,"protocol":"TCP"}"#);
        assert_eq!(key.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
        assert_eq!(PathElement::Value(json!("a<b")).serialize(), r#"v:"a\u003cb""#);
        assert_eq!(PathElement::Value(json!("x")).to_string(), r#"[="x"]"#);
        assert_eq!(PathElement::Index(3).serialize(), "i:3");
        assert!(f("z") < key);
        assert!(key < PathElement::Value(json!(0)));
        assert!(PathElement::Value(json!(0)) < PathElement::Index(0));
        let parsed = PathElement::parse(r#"k:{"protocol":"TCP","containerPort":80.0}"#).expect("parse").expect("known");
        assert_eq!(parsed, key);
        assert_eq!(PathElement::parse("x:whatever"), Ok(None));
        assert!(PathElement::parse("f").is_err());
        assert!(PathElement::parse("fx").is_err());
        assert_eq!(path_string(&[f("spec"), key, f("name")]), r#".spec[containerPort=80,protocol="TCP"].name"#);
    }

    #[test]
    fn set_algebra() {
        let a = FieldSet::from_paths([&[f("a"), f("b")][..], &[f("a")][..], &[f("c")][..]]);
        let b = FieldSet::from_paths([&[f("a")][..], &[f("d")][..]]);
        assert!(a.has(&[f("a"), f("b")]));
        assert!(!a.has(&[f("b")]));
        assert_eq!(a.difference(&b), FieldSet::from_paths([&[f("a"), f("b")][..], &[f("c")][..]]));
        assert_eq!(a.recursive_difference(&b), FieldSet::from_paths([&[f("c")][..]]));
        assert_eq!(a.intersection(&b), FieldSet::from_paths([&[f("a")][..]]));
        assert_eq!(a.union(&b).paths().len(), 4);
        assert!(FieldSet::default().is_empty());
        assert!(a.intersection(&FieldSet::from_paths([&[f("a"), f("x")][..]])).is_empty());
    }

    #[test]
    fn fields_v1_round_trip() {
        let text = r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}},"f:finalizers":{"v:\"a\"":{}},"f:list":{"i:0":{}}}}"#;
        let v: Value = crate::apimachinery::json::from_str(text).expect("json");
        let set = FieldSet::from_fields_v1(&v).expect("decode");
        assert!(set.has(&[f("metadata"), f("labels")]));
        assert!(!set.has(&[f("metadata")]));
        assert_eq!(serde_json::to_string(&set.to_fields_v1()).expect("encode"), text);
        // Keys come out sorted whatever order they went in, and unknown types are dropped.
        let shuffled = json!({"f:b": {}, "z:unknown": {}, "f:a": {"f:y": {}, "f:x": null}});
        let set = FieldSet::from_fields_v1(&shuffled).expect("decode");
        assert_eq!(serde_json::to_string(&set.to_fields_v1()).expect("encode"), r#"{"f:a":{"f:x":{},"f:y":{}},"f:b":{}}"#);
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"q": {}})).is_err());
    }
}
