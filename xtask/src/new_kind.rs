//! `cargo xtask new-kind <group>/<version> <Kind> [--cluster]`: scaffolds `schemas/<group>/<plural>.yaml`.

use std::path::Path;

use anyhow::{bail, Context};

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut positional = Vec::new();
    let mut cluster = false;
    let mut schemas = root.join("schemas");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--cluster" => cluster = true,
            "--schemas-dir" => schemas = it.next().context("--schemas-dir needs a folder")?.into(),
            _ => positional.push(a.clone()),
        }
    }
    let [gv, kind] = positional.as_slice() else {
        bail!("usage: cargo xtask new-kind <group>/<version> <Kind> [--cluster] [--schemas-dir DIR]\n  e.g. cargo xtask new-kind example.com/v1 Widget");
    };
    let (group, version) = gv.split_once('/').context("the first argument is <group>/<version>, e.g. example.com/v1")?;
    check_inputs(group, version, kind)?;
    let plural = plural_of(&kind.to_lowercase());
    let path = schemas.join(group).join(format!("{plural}.yaml"));
    if path.exists() {
        bail!("{} already exists; edit it, or pick another kind", path.display());
    }
    std::fs::create_dir_all(path.parent().context("schema path has a parent")?)?;
    std::fs::write(&path, scaffold(group, version, kind, &plural, cluster))?;
    println!("wrote {}", path.strip_prefix(root).unwrap_or(&path).display());
    println!("next: edit it, then `cargo xtask generate` and `cargo build -p apiserver`");
    Ok(())
}

/// The same name rules the schema loader applies (kapi_codegen::model), plus: a user group needs a dot.
fn check_inputs(group: &str, version: &str, kind: &str) -> anyhow::Result<()> {
    use kapi_codegen::model::{is_dns_subdomain, is_version_name};
    if !group.contains('.') || !is_dns_subdomain(group) {
        bail!("group {group:?} must be a lower-case DNS name you own with at least one dot, e.g. example.com");
    }
    if !is_version_name(version) {
        bail!("version {version:?} must look like v1, v1beta1 or v2alpha3");
    }
    if !kind.chars().next().is_some_and(|c| c.is_ascii_uppercase()) || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("kind {kind:?} must be CamelCase, e.g. Widget");
    }
    Ok(())
}

/// English plural the way Kubernetes tooling guesses it (kubebuilder's rules).
fn plural_of(s: &str) -> String {
    if s.ends_with('s') || s.ends_with('x') || s.ends_with("ch") || s.ends_with("sh") || s.ends_with('z') {
        format!("{s}es")
    } else if s.ends_with('y') && !s.ends_with("ay") && !s.ends_with("ey") && !s.ends_with("oy") && !s.ends_with("uy") {
        format!("{}ies", &s[..s.len() - 1])
    } else {
        format!("{s}s")
    }
}

fn scaffold(group: &str, version: &str, kind: &str, plural: &str, cluster: bool) -> String {
    let singular = kind.to_lowercase();
    let scope = if cluster { "Cluster" } else { "Namespaced" };
    format!(
        r#"# yaml-language-server: $schema=../../generated/schema-format.json
# {kind}: scaffolded by `cargo xtask new-kind {group}/{version} {kind}`. Edit freely; see codegen/SCHEMA.md.
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
spec:
  group: {group}
  names:
    kind: {kind}
    listKind: {kind}List
    plural: {plural}
    singular: {singular}
  scope: {scope}
  versions:
  - name: {version}
    served: true
    storage: true
    subresources:
      status: {{}}
    additionalPrinterColumns:
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        description: {kind} is a kapi resource.
        properties:
          apiVersion:
            type: string
            x-kapi-proto: 1
          kind:
            type: string
            x-kapi-proto: 2
          metadata:
            type: object
            x-kapi-proto: 3
          spec:
            type: object
            description: Desired state of the {kind}.
            x-kapi-proto: 4
            properties:
              replicas:
                type: integer
                format: int32
                minimum: 0
                default: 1
                description: How many copies to run.
                x-kapi-proto: 1
              message:
                type: string
                maxLength: 256
                description: A free-form message.
                x-kapi-proto: 2
          status:
            type: object
            description: Observed state of the {kind}.
            x-kapi-proto: 5
            properties:
              observedGeneration:
                type: integer
                format: int64
                x-kapi-proto: 1
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural_of("widget"), "widgets");
        assert_eq!(plural_of("policy"), "policies");
        assert_eq!(plural_of("gateway"), "gateways");
        assert_eq!(plural_of("ingress"), "ingresses");
    }

    #[test]
    fn inputs() {
        assert!(check_inputs("example.com", "v1", "Widget").is_ok());
        assert!(check_inputs("example", "v1", "Widget").is_err());
        assert!(check_inputs("example.com", "1", "Widget").is_err());
        assert!(check_inputs("example.com", "v1", "widget").is_err());
    }
}
