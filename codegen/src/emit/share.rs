//! One Rust struct and one static schema tree per distinct shape: the unnamed nested objects of CRD
//! schemas repeat (a container spec inlined in every field that holds one, each version of a
//! multi-version CRD a copy of the other), and each copy compiled into its own serde-derived struct
//! and schema static. 57 real CRDs inlined 13,034 objects of 1,905 shapes; compiling every copy took
//! most of the build. Here copies become re-exports of one representative (`pub use … as <Name>`,
//! so every generated name stays), and references to a copy point at it.
//!
//! Only synthesized inline types of kinds without a protobuf form are shared: named types
//! (`x-kapi-type`) are API of their own, and protobuf messages name their Go types on the wire.
//! Shapes compare as everything the Rust emitter reads except texts (descriptions are docs only);
//! the one difference a server could show is the shared static's `ObjectSchema::name`, a name kapi
//! synthesizes (upstream's CEL names these types by path, not by this name).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Model, Module, Schema, Ty};

/// A type emitted as a re-export of an identical one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// Module of the copy.
    pub module: Module,
    /// The copy's Rust name.
    pub rust_name: String,
    /// Definition name of the representative.
    pub target: String,
}

/// The model with each copy of an inline type replaced by its representative (references
/// rewritten, the copy removed from `types`), and the copies to re-export.
pub fn share_identical_types(model: &Model) -> (Model, Vec<Alias>) {
    let mut s = Sharer { model, canon: BTreeMap::new(), by_shape: BTreeMap::new(), visiting: BTreeSet::new() };
    for name in model.types.keys() {
        s.visit(name);
    }
    let canon = s.canon;
    let mut out = model.clone();
    let mut aliases = Vec::new();
    out.types.retain(|name, t| match canon.get(name) {
        Some(rep) if rep != name => {
            if let Some(module) = &t.module {
                aliases.push(Alias { module: module.clone(), rust_name: t.rust_name.clone(), target: rep.clone() });
            }
            false
        }
        _ => true,
    });
    for t in out.types.values_mut() {
        rewrite(&mut t.schema, &canon);
    }
    (out, aliases)
}

struct Sharer<'a> {
    model: &'a Model,
    /// Type name → its representative (itself when not shared).
    canon: BTreeMap<String, String>,
    /// Shape → the first type of that shape.
    by_shape: BTreeMap<String, String>,
    /// Types whose children are being visited (a reference back to one is a cycle).
    visiting: BTreeSet<String>,
}

impl Sharer<'_> {
    /// The representative of `name`, its children settled first.
    fn visit(&mut self, name: &str) -> String {
        if let Some(rep) = self.canon.get(name) {
            return rep.clone();
        }
        let Some(t) = self.model.types.get(name) else { return name.to_string() };
        if !self.visiting.insert(name.to_string()) {
            return name.to_string();
        }
        let mut children = BTreeSet::new();
        named_refs(&t.schema, &mut children);
        let mut cyclic = false;
        for c in &children {
            cyclic |= self.visiting.contains(c);
            self.visit(c);
        }
        self.visiting.remove(name);
        let eligible = t.inline && !t.protobuf && t.well_known.is_none() && t.module.is_some() && !cyclic && !self.reaches(name);
        let rep = if eligible {
            let mut shape = t.schema.clone();
            rewrite(&mut shape, &self.canon);
            strip_texts(&mut shape);
            self.by_shape.entry(format!("{shape:?}")).or_insert_with(|| name.to_string()).clone()
        } else {
            name.to_string()
        };
        self.canon.insert(name.to_string(), rep.clone());
        rep
    }

    /// Whether `name` can reach itself through the types it names.
    fn reaches(&self, name: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = Vec::new();
        if let Some(t) = self.model.types.get(name) {
            named_refs(&t.schema, &mut seen);
            stack.extend(seen.iter().cloned());
        }
        while let Some(n) = stack.pop() {
            if n == name {
                return true;
            }
            if let Some(t) = self.model.types.get(&n) {
                let mut next = BTreeSet::new();
                named_refs(&t.schema, &mut next);
                for x in next {
                    if seen.insert(x.clone()) {
                        stack.push(x);
                    }
                }
            }
        }
        seen.contains(name)
    }
}

fn named_refs(s: &Schema, out: &mut BTreeSet<String>) {
    match &s.ty {
        Ty::Named(n) => {
            out.insert(n.clone());
        }
        Ty::Array(i) | Ty::Map(i) => named_refs(i, out),
        Ty::Object(o) => o.properties.values().for_each(|p| named_refs(p, out)),
        _ => {}
    }
}

/// Points every reference at its representative.
fn rewrite(s: &mut Schema, canon: &BTreeMap<String, String>) {
    match &mut s.ty {
        Ty::Named(n) => {
            if let Some(rep) = canon.get(n.as_str()) {
                n.clone_from(rep);
            }
        }
        Ty::Array(i) | Ty::Map(i) => rewrite(i, canon),
        Ty::Object(o) => o.properties.values_mut().for_each(|p| rewrite(p, canon)),
        _ => {}
    }
}

/// Drops what only documents (descriptions become Rust docs, never code).
fn strip_texts(s: &mut Schema) {
    s.description = None;
    match &mut s.ty {
        Ty::Array(i) | Ty::Map(i) => strip_texts(i),
        Ty::Object(o) => o.properties.values_mut().for_each(strip_texts),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NamedType, Object};

    fn object(props: &[(&str, Schema)]) -> Schema {
        let properties = props.iter().map(|(k, s)| (k.to_string(), s.clone())).collect();
        Schema { ty: Ty::Object(Object { properties, ..Object::default() }), ..Schema::default() }
    }

    fn named(name: &str, schema: Schema, inline: bool) -> NamedType {
        NamedType {
            name: name.into(),
            rust_name: name.rsplit('.').next().unwrap_or(name).into(),
            module: Some(Module { group: "example_com".into(), version: "v1".into() }),
            well_known: None,
            description: Some(format!("{name} text")),
            schema,
            inline,
            proto_package: String::new(),
            protobuf: false,
            source: Default::default(),
        }
    }

    fn string(d: &str) -> Schema {
        Schema { ty: Ty::String, description: Some(d.into()), ..Schema::default() }
    }

    fn reference(n: &str) -> Schema {
        Schema { ty: Ty::Named(n.into()), ..Schema::default() }
    }

    #[test]
    fn copies_share_one_type_whatever_their_texts() {
        let mut m = Model::default();
        for t in [
            named("e.v1.ASpecLeft", object(&[("name", string("left"))]), true),
            named("e.v1.ASpecRight", object(&[("name", string("right"))]), true),
            named("e.v1.ASpecOther", object(&[("name", Schema { ty: Ty::Integer, ..Schema::default() })]), true),
            // Parents of identical children are identical too.
            named("e.v1.BSpec", object(&[("x", reference("e.v1.ASpecLeft"))]), true),
            named("e.v1.CSpec", object(&[("x", reference("e.v1.ASpecRight"))]), true),
            // A named type (x-kapi-type) keeps its own struct.
            named("e.v1.Named", object(&[("name", string("n"))]), false),
            named("e.v1.Root", object(&[("b", reference("e.v1.BSpec")), ("c", reference("e.v1.CSpec"))]), false),
        ] {
            m.types.insert(t.name.clone(), t);
        }
        let (shared, aliases) = share_identical_types(&m);
        let kept: Vec<&str> = shared.types.keys().map(String::as_str).collect();
        assert_eq!(kept, ["e.v1.ASpecLeft", "e.v1.ASpecOther", "e.v1.BSpec", "e.v1.Named", "e.v1.Root"]);
        let alias = |n: &str| aliases.iter().find(|a| a.rust_name == n).map(|a| a.target.as_str());
        assert_eq!(alias("ASpecRight"), Some("e.v1.ASpecLeft"));
        assert_eq!(alias("CSpec"), Some("e.v1.BSpec"));
        assert_eq!(aliases.len(), 2);
        let root = shared.types["e.v1.Root"].object().expect("object");
        assert_eq!(root.properties["c"].ty, Ty::Named("e.v1.BSpec".into()));
    }

    #[test]
    fn protobuf_and_cyclic_types_are_never_shared() {
        let mut m = Model::default();
        let mut a = named("e.v1.A", object(&[("self", reference("e.v1.B"))]), true);
        a.protobuf = false;
        let b = named("e.v1.B", object(&[("self", reference("e.v1.A"))]), true);
        let mut p = named("e.v1.P", object(&[("n", string("p"))]), true);
        p.protobuf = true;
        let mut q = named("e.v1.Q", object(&[("n", string("q"))]), true);
        q.protobuf = true;
        for t in [a, b, p, q] {
            m.types.insert(t.name.clone(), t);
        }
        let (shared, aliases) = share_identical_types(&m);
        assert!(aliases.is_empty(), "{aliases:?}");
        assert_eq!(shared.types.len(), 4);
    }
}
