//! Field-level validation errors, formatted exactly like `k8s.io/apimachinery/pkg/util/validation/field`.

use std::fmt;

use serde_json::Value;

use super::go;

/// Why a field is invalid (`field.ErrorType`); [`ErrorType::reason`] is the `StatusCause` reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// `FieldValueNotFound`.
    NotFound,
    /// `FieldValueRequired`.
    Required,
    /// `FieldValueDuplicate`.
    Duplicate,
    /// `FieldValueInvalid`.
    Invalid,
    /// `FieldValueNotSupported`.
    NotSupported,
    /// `FieldValueForbidden`.
    Forbidden,
    /// `FieldValueTooLong`.
    TooLong,
    /// `FieldValueTooMany`.
    TooMany,
    /// `FieldValueTooFew`.
    TooFew,
    /// `FieldValueTooShort`.
    TooShort,
    /// `InternalError`.
    InternalError,
    /// `FieldValueTypeInvalid`.
    TypeInvalid,
}

impl ErrorType {
    /// The machine-readable reason (`FieldValueRequired`, ...), used as `StatusCause.reason`.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::TooFew => "FieldValueTooFew",
            ErrorType::TooShort => "FieldValueTooShort",
            ErrorType::InternalError => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The human-readable text (`Required value`, `Invalid value`, ...).
    pub fn text(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::TooFew => "Too few",
            ErrorType::TooShort => "Too short",
            ErrorType::InternalError => "Internal error",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// One field-level validation error (`field.Error`).
///
/// `bad_value` is the offending value as decoded JSON; `None` means the value is omitted from the
/// message (upstream's `omitValue`). `Display` is upstream's `Error()`: `<field>: <body>`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The kind of error.
    pub error_type: ErrorType,
    /// The field path, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The offending value, if it is shown.
    pub bad_value: Option<Value>,
    /// Extra detail appended after the value.
    pub detail: String,
}

impl FieldError {
    fn new(error_type: ErrorType, field: impl Into<String>, bad_value: Option<Value>, detail: impl Into<String>) -> Self {
        FieldError { error_type, field: field.into(), bad_value, detail: detail.into() }
    }

    /// `field.Required`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, Some(Value::String(String::new())), detail)
    }

    /// `field.Invalid`.
    pub fn invalid(field: impl Into<String>, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Invalid, field, Some(value.into()), detail)
    }

    /// `field.TypeInvalid`.
    pub fn type_invalid(field: impl Into<String>, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::TypeInvalid, field, Some(value.into()), detail)
    }

    /// `field.NotFound`.
    pub fn not_found(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(ErrorType::NotFound, field, Some(value.into()), "")
    }

    /// `field.Duplicate`.
    pub fn duplicate(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(ErrorType::Duplicate, field, Some(value.into()), "")
    }

    /// `field.NotSupported`: the detail lists the quoted supported values.
    pub fn not_supported<S: AsRef<str>>(field: impl Into<String>, value: impl Into<Value>, valid: &[S]) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go::quote(v.as_ref())).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, field, Some(value.into()), detail)
    }

    /// `field.Forbidden`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, Some(Value::String(String::new())), detail)
    }

    /// `field.TooLong`: `may not be more than N bytes` (a negative `max` omits the bound).
    pub fn too_long(field: impl Into<String>, max: i64) -> Self {
        let detail = if max >= 0 {
            format!("may not be more than {max} {}", if max == 1 { "byte" } else { "bytes" })
        } else {
            "value is too long".to_string()
        };
        Self::new(ErrorType::TooLong, field, Some(Value::String("<value omitted>".into())), detail)
    }

    /// `field.TooLongCharacters`: `may not be more than N characters`.
    pub fn too_long_characters(field: impl Into<String>, max: i64) -> Self {
        let detail = if max >= 0 {
            format!("may not be more than {max} {}", if max == 1 { "character" } else { "characters" })
        } else {
            "value is too long".to_string()
        };
        Self::new(ErrorType::TooLong, field, Some(Value::String("<value omitted>".into())), detail)
    }

    /// `field.TooShort`.
    pub fn too_short(field: impl Into<String>, value: impl Into<Value>, min: i64) -> Self {
        let detail = if min >= 0 {
            format!("must be at least {min} {}", if min == 1 { "character" } else { "characters" })
        } else {
            "value is too short".to_string()
        };
        Self::new(ErrorType::TooShort, field, Some(value.into()), detail)
    }

    /// `field.TooMany`: negative `actual` omits the value, negative `max` the bound.
    pub fn too_many(field: impl Into<String>, actual: i64, max: i64) -> Self {
        let detail = if max >= 0 {
            format!("must have at most {max} {}", if max == 1 { "item" } else { "items" })
        } else {
            "has too many items".to_string()
        };
        let value = (actual >= 0).then(|| Value::from(actual));
        Self::new(ErrorType::TooMany, field, value, detail)
    }

    /// `field.InternalError`.
    pub fn internal(field: impl Into<String>, err: impl fmt::Display) -> Self {
        let detail = err.to_string();
        Self::new(ErrorType::InternalError, field, Some(Value::String(detail.clone())), detail)
    }

    /// The message without the field name (`ErrorBody()`), used as `StatusCause.message`.
    pub fn body(&self) -> String {
        let mut s = match self.error_type {
            ErrorType::Required
            | ErrorType::Forbidden
            | ErrorType::TooLong
            | ErrorType::TooShort
            | ErrorType::InternalError => self.error_type.text().to_string(),
            _ => match &self.bad_value {
                None => self.error_type.text().to_string(),
                Some(v) => format!("{}: {}", self.error_type.text(), render_value(v)),
            },
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// `StatusCause.reason` for this error.
    pub fn reason(&self) -> &'static str {
        self.error_type.reason()
    }
}

/// How `ErrorBody` prints a bad value: simple types with `%v`, strings with `%q`, anything else as JSON.
fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => go::quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go::format_number(n),
        other => go::json(other),
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// `ErrorList.ToAggregate().Error()`: one message, or `[a, b]` for several (duplicates dropped).
pub fn aggregate_message(errors: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in errors {
        let msg = e.to_string();
        if !seen.contains(&msg) {
            seen.push(msg);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// A field path builder (`field.Path`): `child` joins with `.`, `index` and `key` append `[..]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(String);

impl Path {
    /// A path starting at `name` (`field.NewPath`).
    pub fn new(name: &str) -> Path {
        Path(name.to_string())
    }

    /// The empty root path; its first `child` becomes the path's first element.
    pub fn root() -> Path {
        Path(String::new())
    }

    /// `p.Child(name)`.
    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    /// `p.Index(i)`.
    pub fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// `p.Key(k)`.
    pub fn key(&self, k: &str) -> Path {
        Path(format!("{}[{k}]", self.0))
    }

    /// The path text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Path> for String {
    fn from(p: Path) -> String {
        p.0
    }
}

impl From<&Path> for String {
    fn from(p: &Path) -> String {
        p.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_match_upstream() {
        assert_eq!(FieldError::required("spec.containers[0].image", "").to_string(), "spec.containers[0].image: Required value");
        assert_eq!(
            FieldError::invalid("spec.replicas", -1, "spec.replicas in body should be greater than or equal to 0").to_string(),
            "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0"
        );
        assert_eq!(
            FieldError::not_supported("spec.restartPolicy", "Sometimes", &["Always", "Never", "OnFailure"]).to_string(),
            r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure""#
        );
        assert_eq!(
            FieldError::duplicate("spec.ports[1]", json!({"port": 80})).to_string(),
            r#"spec.ports[1]: Duplicate value: {"port":80}"#
        );
        assert_eq!(FieldError::too_long("spec.x", 5).to_string(), "spec.x: Too long: may not be more than 5 bytes");
        assert_eq!(FieldError::too_many("spec.x", 3, 2).to_string(), "spec.x: Too many: 3: must have at most 2 items");
        assert_eq!(FieldError::too_many("spec.x", -1, 1).to_string(), "spec.x: Too many: must have at most 1 item");
        assert_eq!(FieldError::forbidden("metadata.namespace", "not allowed on this type").to_string(), "metadata.namespace: Forbidden: not allowed on this type");
        assert_eq!(FieldError::invalid("x", Value::Null, "bad").to_string(), "x: Invalid value: null: bad");
        assert_eq!(FieldError::invalid("x", 1.5, "bad").body(), "Invalid value: 1.5: bad");
        assert_eq!(FieldError::required("x", "").reason(), "FieldValueRequired");
    }

    #[test]
    fn aggregate() {
        let a = FieldError::required("a", "");
        let b = FieldError::required("b", "");
        assert_eq!(aggregate_message(std::slice::from_ref(&a)), "a: Required value");
        assert_eq!(aggregate_message(&[a.clone(), b, a]), "[a: Required value, b: Required value]");
    }

    #[test]
    fn paths() {
        let p = Path::new("spec").child("containers").index(0).child("image");
        assert_eq!(p.as_str(), "spec.containers[0].image");
        assert_eq!(Path::root().child("metadata").child("labels").key("a/b").as_str(), "metadata.labels[a/b]");
    }
}
