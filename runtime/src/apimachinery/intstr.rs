//! `intstr.IntOrString`: a JSON integer (int32) or string, as used by ports and rolling-update sizes.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// An int32 or a string; decodes a JSON string as `String`, anything else as an int32.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// An integer.
    Int(i32),
    /// A string.
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl IntOrString {
    /// The integer, parsing a string value (`80`) when needed.
    pub fn int_value(&self) -> Option<i32> {
        match self {
            IntOrString::Int(i) => Some(*i),
            IntOrString::String(s) => s.parse().ok(),
        }
    }

    /// `GetScaledValueFromIntOrPercent`: an int as is, `25%` of `total` (rounded up or down).
    pub fn scaled_value(&self, total: i32, round_up: bool) -> Result<i32, String> {
        match self {
            IntOrString::Int(i) => Ok(*i),
            IntOrString::String(s) => {
                let pct = s
                    .strip_suffix('%')
                    .and_then(|p| p.parse::<i64>().ok())
                    .ok_or_else(|| format!("invalid value for IntOrString: invalid value {}", super::go::quote(s)))?;
                let v = pct * i64::from(total);
                let r = if round_up { (v + 99).div_euclid(100) } else { v.div_euclid(100) };
                Ok(r as i32)
            }
        }
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl From<i32> for IntOrString {
    fn from(i: i32) -> Self {
        IntOrString::Int(i)
    }
}

impl From<&str> for IntOrString {
    fn from(s: &str) -> Self {
        IntOrString::String(s.to_string())
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(i) => s.serialize_i32(*i),
            IntOrString::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an int32 or a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("json: cannot unmarshal number {v} into Go value of type int32")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("json: cannot unmarshal number {v} into Go value of type int32")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<IntOrString, E> {
                Err(E::custom(format!(
                    "json: cannot unmarshal number {} into Go value of type int32",
                    super::go::format_float(v)
                )))
            }
            fn visit_unit<E: de::Error>(self) -> Result<IntOrString, E> {
                Ok(IntOrString::Int(0))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<IntOrString, E> {
                Err(E::custom("json: cannot unmarshal bool into Go value of type int32"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let i: IntOrString = serde_json::from_str("80").expect("int");
        assert_eq!(i, IntOrString::Int(80));
        assert_eq!(serde_json::to_string(&i).expect("ser"), "80");
        let s: IntOrString = serde_json::from_str(r#""http""#).expect("str");
        assert_eq!(s, IntOrString::String("http".into()));
        assert_eq!(serde_json::to_string(&s).expect("ser"), r#""http""#);
        assert!(serde_json::from_str::<IntOrString>("1.5").is_err());
        assert!(serde_json::from_str::<IntOrString>("4294967296").is_err());
    }

    #[test]
    fn percentages() {
        assert_eq!(IntOrString::from("25%").scaled_value(10, true), Ok(3));
        assert_eq!(IntOrString::from("25%").scaled_value(10, false), Ok(2));
        assert_eq!(IntOrString::Int(4).scaled_value(10, true), Ok(4));
        assert!(IntOrString::from("x").scaled_value(10, true).is_err());
    }
}
