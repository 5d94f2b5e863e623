//! The build-time check against kube-apiserver v1.36.2: every text below is what a real one answered
//! when a CRD with the same rule was created (`Invalid value: {...}` aside: upstream prints the whole
//! entry there, the location says which one it is), and every position is the rule's in the file.

use std::path::PathBuf;

/// Writes a CRD whose `spec` property is `spec` (YAML indented for its place) and loads it:
/// the diagnostics as `line:col: message` (help lines kept).
fn check(name: &str, spec: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("kapi-cel-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file: PathBuf = dir.join("widgets.yaml");
    let text = format!(
        "apiVersion: apiextensions.k8s.io/v1
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
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
{spec}"
    );
    std::fs::write(&file, text).expect("write");
    let out = match crate::model::load_files(std::slice::from_ref(&file)) {
        Ok(_) => Vec::new(),
        Err(d) => {
            let mut all = d.0;
            all.sort();
            all.iter().map(|d| d.to_string().replace(&format!("{}:", file.display()), "").replace(": error: ", ": ")).collect()
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
}

const SYNTAX: &str = "compilation failed: ERROR: <input>:1:16: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}";

#[test]
fn positions_inside_rules() {
    let spec = r#"            type: object
            properties:
              replicas: {type: integer}
              color: {type: string}
            x-kubernetes-validations:
            - rule: self.replicas >
            - rule: "self.colour == 'red'"
            - {rule: 'self.colour == "red"', message: m}
            - rule: |
                self.replicas > 0 &&
                  self.colour == 'red'
              message: m
            - rule: >-
                self.replicas > 0 &&
                self.colour == 'red'
            - rule: self.replicas > 0 &&
                self.colour == 'red'
            - rule: "self.colour == \"red\""
"#;
    let undefined = "x-kubernetes-validations[{i}].rule: Invalid value: compilation failed: ERROR: <input>:{at}: undefined field 'colour'\n  help: did you mean `color`?";
    let u = |i: usize, at: &str| undefined.replace("{i}", &i.to_string()).replace("{at}", at);
    assert_eq!(
        check("positions", spec),
        vec![
            format!("22:36: x-kubernetes-validations[0].rule: Invalid value: {SYNTAX}"),
            format!("23:26: {}", u(1, "1:5")),
            format!("24:27: {}", u(2, "1:5")),
            // A literal block: the rule's second line is the file's.
            format!("27:23: {}", u(3, "2:7")),
            // Folded (a `>` block, a plain scalar over two lines): the file line the column falls on.
            format!("31:21: {}", u(4, "1:26")),
            format!("33:21: {}", u(5, "1:26")),
            // Escapes: the file's columns are not the rule's; the rule's start, with upstream's excerpt.
            format!("34:21: {}", u(6, "1:5")).replace("'colour'\n", "'colour'\n | self.colour == \"red\"\n | ....^\n"),
        ]
    );
}

#[test]
fn entry_checks_as_upstream() {
    let spec = r#"            type: object
            properties:
              replicas: {type: integer}
              m: {type: object, additionalProperties: {type: string}}
              items: {type: array, items: {type: string}}
            x-kubernetes-validations:
            - {rule: "self.replicas > 0", reason: FieldValueBogus}
            - {rule: "self.replicas > 0", fieldPath: ".nope"}
            - {rule: "self.replicas > 0", fieldPath: ".items[0]"}
            - {rule: "self.replicas > 0", fieldPath: "replicas"}
            - {rule: "self.replicas > 0", fieldPath: ".m.x"}
            - {rule: "self.replicas > 0", fieldPath: ".m['y']"}
            - {rule: "self.replicas > 0", optionalOldSelf: true}
            - {rule: "self.replicas > 0", messageExpression: "  "}
            - {rule: "self.replicas > 0", messageExpression: "self.replicas"}
            - {rule: "self.replicas > 0", message: "  "}
            - {rule: "self.replicas > 0", message: "a\nb"}
            - {rule: "self.replicas >\n 0"}
            - {rule: "  "}
            - {rule: "self.replicas + 1", message: m}
            - {rule: "self.replicas > 0", messageExpression: "'a' +"}
"#;
    let e = check("entries", spec);
    let want = [
        r#"23:51: x-kubernetes-validations[0].reason: Unsupported value: "FieldValueBogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired""#,
        r#"24:54: x-kubernetes-validations[1].fieldPath: Invalid value: ".nope": must be a valid path"#,
        r#"25:54: x-kubernetes-validations[2].fieldPath: Invalid value: ".items[0]": must be a valid path"#,
        r#"26:54: x-kubernetes-validations[3].fieldPath: Invalid value: "replicas": must be a valid path"#,
        "29:60: x-kubernetes-validations[6].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule",
        "30:62: x-kubernetes-validations[7].messageExpression: Required value: messageExpression must be non-empty if specified",
        "31:62: x-kubernetes-validations[8].messageExpression: Invalid value: messageExpression must evaluate to a string",
        r#"32:52: x-kubernetes-validations[9].message: Invalid value: "  ": must be non-empty if specified"#,
        r#"33:52: x-kubernetes-validations[10].message: Invalid value: "a\nb": must not contain line breaks"#,
        "34:15: x-kubernetes-validations[11].message: Required value: message must be specified if rule contains line breaks",
        "35:22: x-kubernetes-validations[12].rule: Required value: rule is not specified",
        "36:22: x-kubernetes-validations[13].rule: Invalid value: cel expression must evaluate to a bool",
        "37:68: x-kubernetes-validations[14].messageExpression: Invalid value: messageExpression compilation failed: ERROR: <input>:1:6: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}",
    ];
    let strip = |s: &String| s.split("\n  help:").next().unwrap_or("").to_string();
    assert_eq!(e.iter().map(strip).collect::<Vec<_>>(), want, "{}", e.join("\n"));
}

#[test]
fn old_self_root_and_costs() {
    let spec = r#"            type: object
            x-kubernetes-validations:
            - rule: "self.replicas == oldSelf.replicas"
            properties:
              replicas: {type: integer}
              sets:
                type: array
                x-kubernetes-list-type: set
                maxItems: 10
                items:
                  type: string
                  maxLength: 10
                  x-kubernetes-validations: [{rule: "self == oldSelf"}]
              mapl:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [a]
                maxItems: 10
                items:
                  type: object
                  required: [a]
                  properties:
                    a: {type: string, maxLength: 10}
                  x-kubernetes-validations: [{rule: "self.a == oldSelf.a"}]
              ints:
                type: array
                items:
                  type: integer
                  x-kubernetes-validations:
                  - rule: "true"
                    messageExpression: "string(self) + string(self) + string(self) + string(self) + string(self) + string(self) + string(self) + string(self)"
"#;
    let e = check("costs", spec);
    let big = "exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";
    assert_eq!(
        e,
        vec![
            r#"29:53: x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within openAPIV3Schema.properties[spec].properties[sets]
  help: items of a list correlate with their old values only in `x-kubernetes-list-type: map` lists; move the rule above the list or make it a map list"#
                .to_string(),
            format!("47:40: openAPIV3Schema of Widget v1: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema {big}"),
            "47:40: x-kubernetes-validations[0].messageExpression: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema".to_string(),
            format!("47:40: x-kubernetes-validations[0].messageExpression: Forbidden: estimated messageExpression cost {big}"),
        ]
    );
}

#[test]
fn resource_root() {
    let root = r#"            type: object
            properties:
              replicas: {type: integer}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}
                x-kubernetes-validations:
                - rule: "self.kind == 'Pod' && self.metadata.name != ''"
            x-kubernetes-validations:
            - rule: "self.replicas >= 0"
            - rule: "self.metadata.name == 'x'"
"#;
    assert_eq!(
        check("root", root),
        vec!["28:26: x-kubernetes-validations[1].rule: Invalid value: compilation failed: ERROR: <input>:1:5: undefined field 'metadata'".to_string()]
    );
}
