//! Serde helpers reproducing Go `encoding/json` semantics: `omitempty` tests for
//! `skip_serializing_if`, and `null` decoding to the zero value (Go ignores `null` for non-pointers).
//!
//! Generated code uses them as
//! `#[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero")]`.

use serde::{Deserialize, Deserializer};

/// Decodes `null` as `T::default()`, like Go does for non-pointer fields.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Go's `omitempty` test for values whose zero value is their `Default` (numbers, strings, bools,
/// slices, maps).
pub fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// `omitempty` for `bool`.
pub fn is_false(v: &bool) -> bool {
    !*v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct S {
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero")]
        name: String,
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero")]
        n: i64,
        #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_false")]
        b: bool,
    }

    #[test]
    fn go_semantics() {
        let s: S = serde_json::from_str(r#"{"name":null,"n":null,"b":null}"#).expect("decode");
        assert_eq!(s, S::default());
        assert_eq!(serde_json::to_string(&s).expect("encode"), "{}");
        let s: S = serde_json::from_str(r#"{"name":"x","n":2,"b":true}"#).expect("decode");
        assert_eq!(serde_json::to_string(&s).expect("encode"), r#"{"name":"x","n":2,"b":true}"#);
    }
}
