//! Name and metadata validation with upstream's exact messages: DNS-1123 labels and subdomains,
//! DNS-1035 labels, qualified names, label values, path segment names, and `ValidateObjectMeta`.

use std::sync::OnceLock;

use regex::Regex;

use super::field::{FieldError, Path};
use super::meta::ObjectMeta;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// Maximum length of a DNS-1123 label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of a DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Maximum total size of all annotations (256 KiB).
pub const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * 1024;

fn anchored(fmt: &'static str, cell: &'static OnceLock<Option<Regex>>) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(&format!("^(?:{fmt})$")).ok()).as_ref()
}

fn matches(fmt: &'static str, cell: &'static OnceLock<Option<Regex>>, value: &str) -> bool {
    anchored(fmt, cell).is_some_and(|re| re.is_match(value))
}

/// `validation.RegexError`: the message with examples and the regex used.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let quoted: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!("{msg} (e.g. {}regex used for validation is '{fmt}')", quoted.join(" or "))
}

/// `validation.MaxLenError`.
pub fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// The length message of label keys and values (and their prefixes), which v1.36 counts in bytes
/// (`metadata.labels: Invalid value: "...": must be no more than 63 bytes`).
fn max_bytes_error(n: usize) -> String {
    format!("must be no more than {n} bytes")
}

/// `validation.EmptyError`.
pub fn empty_error() -> String {
    "must be non-empty".to_string()
}

/// `IsDNS1123Label`: error messages, empty when valid.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches(DNS1123_LABEL_FMT, &RE, value) {
        errs.push(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
    }
    errs
}

/// `IsDNS1123Subdomain`: error messages, empty when valid.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches(DNS1123_SUBDOMAIN_FMT, &RE, value) {
        errs.push(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    errs
}

/// `IsDNS1035Label`: error messages, empty when valid.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches(DNS1035_LABEL_FMT, &RE, value) {
        errs.push(regex_error(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, &["my-name", "abc-123"]));
    }
    errs
}

/// `IsQualifiedName`: `[prefix/]name` as used by label and annotation keys and finalizers.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                static PREFIX_RE: OnceLock<Option<Regex>> = OnceLock::new();
                if prefix.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
                    errs.push(format!("prefix part {}", max_bytes_error(DNS1123_SUBDOMAIN_MAX_LENGTH)));
                }
                if !matches(DNS1123_SUBDOMAIN_FMT, &PREFIX_RE, prefix) {
                    errs.push(format!("prefix part {}", regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, &["example.com"])));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(format!("name part {}", max_bytes_error(DNS1123_LABEL_MAX_LENGTH)));
    }
    if !matches(QUALIFIED_NAME_FMT, &RE, name) {
        errs.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

/// `IsValidLabelValue`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_bytes_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches(LABEL_VALUE_FMT, &RE, value) {
        errs.push(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    errs
}

/// `path.ValidatePathSegmentName`: names used in URL paths may not be `.`/`..` nor contain `/` or `%`
/// (`prefix` checks a generateName prefix, where only the characters matter).
pub fn validate_path_segment_name(name: &str, prefix: bool) -> Vec<String> {
    if !prefix {
        for illegal in [".", ".."] {
            if name == illegal {
                return vec![format!("may not be '{illegal}'")];
            }
        }
    }
    ["/", "%"]
        .iter()
        .filter(|c| name.contains(*c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

/// A generateName prefix may end in `-`; upstream masks it (`name[:len-2] + "a"`) before validating.
fn mask_trailing_dash(name: &str, prefix: bool) -> String {
    if prefix && name.len() > 1 && name.ends_with('-') {
        format!("{}a", name.get(..name.len() - 2).unwrap_or(""))
    } else {
        name.to_string()
    }
}

/// `NameIsDNSSubdomain`: the name rule of most kinds.
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    is_dns1123_subdomain(&mask_trailing_dash(name, prefix))
}

/// `NameIsDNSLabel`: the name rule of namespaces, services, ...
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    is_dns1123_label(&mask_trailing_dash(name, prefix))
}

/// `NameIsDNS1035Label`.
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    is_dns1035_label(&mask_trailing_dash(name, prefix))
}

/// A name validation function: `(name, is_prefix) -> messages`.
pub type NameFn = fn(&str, bool) -> Vec<String>;

/// `ValidateLabels`: keys must be qualified names, values valid label values; both are reported at
/// the map's path (`metadata.labels`), not the key's.
pub fn validate_labels<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        for msg in is_qualified_name(k) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        for msg in is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, v.as_str(), msg));
        }
    }
    errs
}

/// `ValidateAnnotations`: keys must be (lower-cased) qualified names; total size at most 256 KiB.
pub fn validate_annotations<'a>(annotations: impl IntoIterator<Item = (&'a String, &'a String)>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0usize;
    for (k, v) in annotations {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        total += k.len() + v.len();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT_B as i64));
    }
    errs
}

/// `ValidateObjectMeta` for create: name (or generateName), namespace presence and format,
/// generation, labels, annotations, owner references and finalizers.
pub fn validate_object_meta(meta: &ObjectMeta, requires_namespace: bool, name_fn: NameFn, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !meta.generate_name.is_empty() {
        for msg in name_fn(&meta.generate_name, true) {
            errs.push(FieldError::invalid(path.child("generateName"), meta.generate_name.as_str(), msg));
        }
    }
    if meta.name.is_empty() {
        errs.push(FieldError::required(path.child("name"), "name or generateName is required"));
    } else {
        for msg in name_fn(&meta.name, false) {
            errs.push(FieldError::invalid(path.child("name"), meta.name.as_str(), msg));
        }
    }
    if requires_namespace {
        if meta.namespace.is_empty() {
            errs.push(FieldError::required(path.child("namespace"), ""));
        } else {
            for msg in name_is_dns_label(&meta.namespace, false) {
                errs.push(FieldError::invalid(path.child("namespace"), meta.namespace.as_str(), msg));
            }
        }
    } else if !meta.namespace.is_empty() {
        errs.push(FieldError::forbidden(path.child("namespace"), "not allowed on this type"));
    }
    if meta.generation < 0 {
        errs.push(FieldError::invalid(path.child("generation"), meta.generation, "must be greater than or equal to 0"));
    }
    errs.extend(validate_labels(&meta.labels, &path.child("labels")));
    errs.extend(validate_annotations(&meta.annotations, &path.child("annotations")));
    errs.extend(validate_owner_references(meta, &path.child("ownerReferences")));
    let fin = path.child("finalizers");
    for f in &meta.finalizers {
        for msg in is_qualified_name(f) {
            errs.push(FieldError::invalid(&fin, f.as_str(), msg));
        }
    }
    if meta.finalizers.iter().any(|f| f == "orphan") && meta.finalizers.iter().any(|f| f == "foregroundDeletion") {
        errs.push(FieldError::invalid(
            &fin,
            serde_json::to_value(&meta.finalizers).unwrap_or_default(),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

fn validate_owner_references(meta: &ObjectMeta, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut first_controller: Option<String> = None;
    for r in &meta.owner_references {
        // schema.FromAPIVersionAndKind: an unparsable group/version leaves the version empty.
        let version = match r.api_version.split('/').collect::<Vec<_>>().as_slice() {
            [v] => *v,
            [_, v] => *v,
            _ => "",
        };
        if version.is_empty() {
            errs.push(FieldError::invalid(path.child("apiVersion"), r.api_version.as_str(), "version must not be empty"));
        }
        if r.kind.is_empty() {
            errs.push(FieldError::invalid(path.child("kind"), r.kind.as_str(), "kind must not be empty"));
        }
        if r.name.is_empty() {
            errs.push(FieldError::invalid(path.child("name"), r.name.as_str(), "name must not be empty"));
        }
        if r.uid.is_empty() {
            errs.push(FieldError::invalid(path.child("uid"), r.uid.as_str(), "uid must not be empty"));
        }
        if r.api_version == "v1" && r.kind == "Event" {
            errs.push(FieldError::invalid(
                path,
                serde_json::to_value(r).unwrap_or_default(),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.controller == Some(true) {
            let current = format!("{}/{}", r.kind, r.name);
            match &first_controller {
                Some(first) => errs.push(FieldError::invalid(
                    path,
                    serde_json::to_value(&meta.owner_references).unwrap_or_default(),
                    format!("Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_message_matches_reference() {
        assert_eq!(
            is_dns1123_subdomain("UPPER_case"),
            vec!["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()]
        );
        assert!(is_dns1123_subdomain("example.com").is_empty());
        assert_eq!(is_dns1123_subdomain(&"a".repeat(254))[0], "must be no more than 253 characters");
    }

    #[test]
    fn labels_and_names() {
        assert!(is_dns1123_label("my-name").is_empty());
        assert_eq!(
            is_dns1123_label("-x")[0],
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        );
        assert!(is_dns1035_label("1abc").len() == 1);
        assert!(is_qualified_name("example.com/MyName").is_empty());
        assert_eq!(is_qualified_name("/x"), vec!["prefix part must be non-empty".to_string()]);
        assert_eq!(is_qualified_name("a/b/c").len(), 1);
        assert!(is_valid_label_value("").is_empty());
        assert_eq!(is_valid_label_value("-bad").len(), 1);
        assert_eq!(validate_path_segment_name("..", false), vec!["may not be '..'".to_string()]);
        assert_eq!(validate_path_segment_name("a/b%c", false), vec!["may not contain '/'".to_string(), "may not contain '%'".to_string()]);
        assert!(name_is_dns_subdomain("web-", true).is_empty());
        assert!(!name_is_dns_subdomain("web-", false).is_empty());
    }

    #[test]
    fn object_meta_rules() {
        let mut meta = ObjectMeta { name: "UPPER_case".into(), namespace: "default".into(), ..Default::default() };
        let errs = validate_object_meta(&meta, true, name_is_dns_subdomain, &Path::new("metadata"));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().starts_with("metadata.name: Invalid value: \"UPPER_case\": a lowercase RFC 1123 subdomain"));
        meta.name = String::new();
        let errs = validate_object_meta(&meta, false, name_is_dns_subdomain, &Path::new("metadata"));
        assert_eq!(errs[0].to_string(), "metadata.name: Required value: name or generateName is required");
        assert_eq!(errs[1].to_string(), "metadata.namespace: Forbidden: not allowed on this type");
        meta.name = "ok".into();
        meta.labels.insert("bad key!".into(), "v".into());
        let errs = validate_object_meta(&meta, true, name_is_dns_subdomain, &Path::new("metadata"));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().starts_with("metadata.labels: Invalid value: \"bad key!\": name part must consist of"));
    }

    /// Label keys and values as kube-apiserver v1.36 words them (POST of a ConfigMap with these
    /// labels): lengths in bytes, several slashes "a valid label key", value errors at the map's path.
    #[test]
    fn label_messages_match_v1_36() {
        let long = "a".repeat(64);
        assert_eq!(
            is_qualified_name(&long),
            vec!["name part must be no more than 63 bytes".to_string()]
        );
        assert_eq!(
            is_qualified_name(&format!("{}/x", "a".repeat(254))),
            vec!["prefix part must be no more than 253 bytes".to_string()]
        );
        let upper = is_qualified_name(&format!("{}/x", "A".repeat(254)));
        assert_eq!(upper.len(), 2);
        assert_eq!(upper[0], "prefix part must be no more than 253 bytes");
        assert!(
            upper[1].starts_with("prefix part a lowercase RFC 1123 subdomain must consist of"),
            "{}",
            upper[1]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec!["a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string()]
        );
        assert_eq!(
            is_valid_label_value(&"v".repeat(64)),
            vec!["must be no more than 63 bytes".to_string()]
        );
        // Names keep counting characters.
        assert_eq!(
            is_dns1123_label(&long)[0],
            "must be no more than 63 characters"
        );
        let labels = std::collections::BTreeMap::from([("app".to_string(), "a b".to_string())]);
        let errs = validate_labels(&labels, &Path::new("metadata").child("labels"));
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .to_string()
                .starts_with("metadata.labels: Invalid value: \"a b\": a valid label must be"),
            "{}",
            errs[0]
        );
    }
}
