//! JSON decoding with kube-apiserver's nesting limit.
//!
//! Upstream's decoders (Go's `encoding/json` scanner and sigs.k8s.io/json) read values nested up to
//! [`MAX_DEPTH`] levels and refuse deeper ones with "invalid character '[' exceeded max depth".
//! serde_json stops at 128 levels; kapi decodes with that limit off and checks upstream's instead,
//! so a body upstream takes is taken (a deep unknown field is dropped with a warning, a deep
//! preserved value is stored). The server's threads have stacks sized for walks that deep
//! ([`STACK_SIZE`]).

use serde::de::{Deserialize, Error as _};

/// The deepest nesting upstream's JSON decoders read (Go's `maxNestingDepth`).
pub const MAX_DEPTH: usize = 10_000;

/// The stack of every thread that decodes, walks, encodes or drops request and stored objects:
/// the recursive walks over a value [`MAX_DEPTH`] deep (serde's decoding and encoding, pruning,
/// validation, patches, managed fields, dropping the value) take a few MiB of stack in release
/// builds and tens of MiB in debug builds. Only the pages a thread touches are backed by memory.
pub const STACK_SIZE: usize = 256 << 20;

/// Decodes `bytes` as serde_json does, but reading nesting up to [`MAX_DEPTH`] levels and refusing
/// deeper nesting with upstream's message.
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    if let Some(c) = too_deep(bytes) {
        return Err(serde_json::Error::custom(format!("invalid character '{}' exceeded max depth", char::from(c))));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// [`from_slice`] of a string.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, serde_json::Error> {
    from_slice(text.as_bytes())
}

/// The bracket that opens a level deeper than [`MAX_DEPTH`], if any (outside strings). Bodies too
/// short to nest that deep are not scanned.
fn too_deep(bytes: &[u8]) -> Option<u8> {
    if bytes.len() <= MAX_DEPTH {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(b);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn nested(levels: usize) -> String {
        format!("{{\"x\":{}{}}}", "[".repeat(levels - 1), "]".repeat(levels - 1))
    }

    #[test]
    fn reads_upstreams_depth_and_refuses_deeper() {
        // Run where the stack is as deep as the server's.
        let run = std::thread::Builder::new().stack_size(STACK_SIZE).spawn(|| {
            let v: Value = from_str(&nested(MAX_DEPTH)).expect("10,000 levels");
            assert!(v["x"].is_array());
            let e = from_str::<Value>(&nested(MAX_DEPTH + 1)).expect_err("10,001 levels");
            assert_eq!(e.to_string(), "invalid character '[' exceeded max depth");
            let e = from_str::<Value>(&format!("{}{}", "{\"a\":".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1)))
                .expect_err("objects count as levels too");
            assert_eq!(e.to_string(), "invalid character '{' exceeded max depth");
        });
        run.expect("thread").join().expect("no overflow");
        // Brackets inside strings are text.
        let text = format!("{{\"s\":\"{}\\\"{}\"}}", "[".repeat(MAX_DEPTH + 5), "{".repeat(10));
        assert!(from_str::<Value>(&text).is_ok());
        // serde_json's own errors are unchanged.
        assert_eq!(from_str::<Value>("{\"a\":}").expect_err("bad").to_string(), "expected value at line 1 column 6");
        assert!(from_str::<Value>("{} x").is_err(), "trailing characters");
    }
}
