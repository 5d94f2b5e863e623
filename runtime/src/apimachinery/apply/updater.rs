//! structured-merge-diff's `merge.Updater`: who owns what after an update, and the apply algorithm
//! (merge the configuration, own its fields, prune what the applier dropped and nobody else owns,
//! detect conflicts with other managers).

use serde_json::{Map, Value};

use super::fieldpath::FieldSet;
use super::managed::{ManagedFields, VersionedSet};
use super::typed::{self, Comparison, Ty, ValidationError};
use super::value::equals;

/// Fields other managers own that an operation would change, per manager identifier.
pub(crate) type ConflictSets = Vec<(String, FieldSet)>;

/// Why an apply failed inside the updater.
#[derive(Debug)]
pub(crate) enum UpdaterError {
    /// The configuration could not be merged into the live object.
    Merge(Vec<ValidationError>),
    /// Other managers own fields the apply changes.
    Conflicts(ConflictSets),
}

/// The updater for one kind and version.
pub(crate) struct Updater<'a> {
    /// The kind's root type.
    pub(crate) root: Ty,
    /// Fields the strategy resets: never owned, never in conflict.
    pub(crate) ignored: &'a FieldSet,
    /// Compare as upstream's Go structs do (built-in kinds).
    pub(crate) go_structs: bool,
    /// The version of the objects (`group/version`).
    pub(crate) version: &'a str,
    /// Converts to the versions other managers' entries were recorded at.
    pub(crate) versions: Option<&'a dyn super::VersionConverter>,
}

impl Updater<'_> {
    fn compare(&self, old: &Value, new: &Value) -> Comparison {
        let mut c = if self.go_structs {
            let (mut o, mut n) = (old.clone(), new.clone());
            typed::go_struct_normalize(self.root, &mut o);
            typed::go_struct_normalize(self.root, &mut n);
            typed::compare(self.root, &o, &n)
        } else {
            typed::compare(self.root, old, new)
        };
        c.exclude(self.ignored);
        c
    }

    /// Takes changed fields away from every manager but `workflow` (an error instead, unless
    /// `force`, when any of them owned a modified or added field) and drops removed fields.
    fn update(
        &self,
        old: &Value,
        new: &Value,
        managers: &mut ManagedFields,
        workflow: &str,
        force: bool,
    ) -> Result<Comparison, ConflictSets> {
        let cmp = self.compare(old, new);
        // Entries recorded at another version are compared there (the objects converted to it).
        let mut at_version: std::collections::BTreeMap<String, Comparison> = std::collections::BTreeMap::new();
        if let Some(versions) = self.versions {
            for vs in managers.values() {
                if vs.api_version.is_empty() || vs.api_version == self.version || at_version.contains_key(&vs.api_version) {
                    continue;
                }
                if let (Some((o, schema)), Some((n, _))) = (versions.convert(old, &vs.api_version), versions.convert(new, &vs.api_version)) {
                    let there = Updater { root: Ty::root(schema), ignored: self.ignored, go_structs: self.go_structs, version: &vs.api_version, versions: None };
                    at_version.insert(vs.api_version.clone(), there.compare(&o, &n));
                }
            }
        }
        let cmp_of = |vs: &VersionedSet| at_version.get(&vs.api_version).unwrap_or(&cmp);
        let mut conflicts: ConflictSets = Vec::new();
        for (id, vs) in managers.iter() {
            if id == workflow {
                continue;
            }
            let c_cmp = cmp_of(vs);
            let c = vs.set.intersection(&c_cmp.modified.union(&c_cmp.added));
            if !c.is_empty() {
                conflicts.push((id.clone(), c));
            }
        }
        if !force && !conflicts.is_empty() {
            return Err(conflicts);
        }
        for (id, c) in &conflicts {
            if let Some(vs) = managers.get_mut(id) {
                vs.set = vs.set.difference(c);
            }
        }
        for (id, vs) in managers.iter_mut() {
            if id != workflow {
                let removed = &at_version.get(&vs.api_version).unwrap_or(&cmp).removed;
                if !removed.is_empty() {
                    vs.set = vs.set.difference(removed);
                }
            }
        }
        managers.retain(|_, vs| !vs.set.is_empty());
        Ok(cmp)
    }

    /// Ownership after a non-apply write from `live` to `new` by `manager` (upstream's `Update`).
    pub(crate) fn update_ownership(
        &self,
        live: &Value,
        new: &Value,
        mut managers: ManagedFields,
        manager: &str,
        version: &str,
    ) -> ManagedFields {
        let cmp = match self.update(live, new, &mut managers, manager, true) {
            Ok(c) => c,
            Err(_) => return managers,
        };
        let previous = managers.remove(manager).map(|vs| vs.set).unwrap_or_default();
        let set = previous.union(&cmp.modified).union(&cmp.added).difference(&cmp.removed).recursive_difference(self.ignored);
        if !set.is_empty() {
            managers.insert(manager.to_string(), VersionedSet { set, api_version: version.to_string(), applied: false });
        }
        managers
    }

    /// Applies `config` to `live` for `manager` (upstream's `Apply`): the merged object, or `None`
    /// when it equals `live`, and the new ownership.
    pub(crate) fn apply(
        &self,
        live: &Value,
        config: &Value,
        version: &str,
        mut managers: ManagedFields,
        manager: &str,
        force: bool,
    ) -> Result<(Option<Value>, ManagedFields), UpdaterError> {
        let mut errs = Vec::new();
        let merged = typed::merge(self.root, Some(live), Some(config), "", &mut errs).unwrap_or_else(|| Value::Object(Map::new()));
        if !errs.is_empty() {
            return Err(UpdaterError::Merge(errs));
        }
        let last = managers.get(manager).cloned();
        let set = typed::field_set(self.root, config).recursive_difference(self.ignored);
        managers.insert(manager.to_string(), VersionedSet { set, api_version: version.to_string(), applied: true });
        let new = self.prune(merged, &managers, last.as_ref());
        self.update(live, &new, &mut managers, manager, force).map_err(UpdaterError::Conflicts)?;
        let new = (!equals(live, &new)).then_some(new);
        Ok((new, managers))
    }

    /// Removes what `last` (the applier's previous set) had and nobody owns any more.
    fn prune(&self, merged: Value, managers: &ManagedFields, last: Option<&VersionedSet>) -> Value {
        let Some(last) = last.filter(|l| !l.set.is_empty()) else { return merged };
        let root = Some(self.root);
        let named = |s: &FieldSet| typed::ensure_named_fields(s, root);
        let last = named(&last.set);
        let pruned = typed::remove_items(self.root, &merged, &last);

        // Add back what any manager (the applier's new configuration included) owns.
        let managed = managers.values().fold(FieldSet::default(), |acc, vs| acc.union(&vs.set));
        let merged_set = named(&typed::field_set(self.root, &merged));
        let keep = named(&typed::field_set(self.root, &pruned)).union(&named(&managed));
        let pruned = typed::remove_items(self.root, &merged, &merged_set.difference(&keep));

        // Remove only what the applier owned before: unowned fields and fields of updaters stay.
        let pruned_set = named(&typed::field_set(self.root, &pruned));
        typed::remove_items(self.root, &merged, &merged_set.difference(&pruned_set).intersection(&last))
    }
}
