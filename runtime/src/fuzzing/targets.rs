//! The fuzz targets over the runtime's parsers and patches (each a `fuzz_*` test; the targets that
//! need a kind's schema live beside their schemas: strategic merge patch and apply in their own
//! test modules, the protobuf codec over every kind in `tests/proto.rs`).
//!
//! Properties: no input panics or overflows the stack; what parses prints back to a text that
//! parses to the same thing (selectors, quantities, durations, times, JSON patches); merge patches
//! round-trip; processing time grows linearly with the input (the `growth_*` tests).

use proptest::prop_assert_eq;
use serde_json::{json, Value};

use super::generate::{self, json_value, Gen, Source};
use super::{assert_linear, fuzz};
use crate::apimachinery::jsonpath::{self, JsonPath};
use crate::apimachinery::patch::{
    create_merge_patch, json_patch, merge_patch, validate_merge_patch,
};
use crate::apimachinery::selector::{parse_fields, parse_labels};
use crate::apimachinery::{Duration, MicroTime, Quantity, QuantityValue, Time};
use crate::endpoints::negotiate::{decode_body, parse_accept, patch_type};
use crate::endpoints::request::{decode, decode_segment, parse_path, Query};

// ---------------------------------------------------------------------------------------------
// Selectors and queries

#[test]
fn fuzz_label_selector() {
    fuzz(
        "label_selector",
        Gen(|src: &mut Source<'_>| {
            if src.chance(85) {
                generate::label_selector(src)
            } else {
                src.any_string(40)
            }
        }),
        |s| {
            let Ok(sel) = parse_labels(&s) else {
                return Ok(());
            };
            let text = sel.to_string();
            // The canonical string parses back to the same selector.
            let again = parse_labels(&text);
            prop_assert_eq!(
                again.as_ref().ok(),
                Some(&sel),
                "{:?} printed as {:?}: {:?}",
                s,
                text,
                again
            );
            let labels = [("a", "x"), ("app", "1"), ("b", "")];
            sel.matches(|k| labels.iter().find(|(l, _)| *l == k).map(|(_, v)| *v));
            Ok(())
        },
    );
}

#[test]
fn fuzz_field_selector() {
    fuzz(
        "field_selector",
        Gen(|src: &mut Source<'_>| {
            if src.chance(85) {
                generate::field_selector(src)
            } else {
                src.any_string(40)
            }
        }),
        |s| {
            let Ok(sel) = parse_fields(&s) else {
                return Ok(());
            };
            let text = sel.to_string();
            let again = parse_fields(&text);
            // Terms are sorted by their text before parsing, so printing may reorder them.
            let sorted = |f: &crate::apimachinery::selector::Fields| {
                let mut r: Vec<String> = f.requirements().iter().map(|r| r.to_string()).collect();
                r.sort();
                r
            };
            prop_assert_eq!(
                again.as_ref().ok().map(sorted),
                Some(sorted(&sel)),
                "{:?} printed as {:?}: {:?}",
                s,
                text,
                again
            );
            sel.matches(|k| (k == "metadata.name").then_some("a"));
            Ok(())
        },
    );
}

#[test]
fn fuzz_query_and_path() {
    fuzz(
        "query_and_path",
        Gen(|src: &mut Source<'_>| {
            let mut q = String::new();
            for _ in 0..src.len(4) {
                let key = src.pick(&[
                    "labelSelector",
                    "fieldSelector",
                    "limit",
                    "watch",
                    "dryRun",
                    "a",
                    "",
                ]);
                q.push_str(&format!("{key}={}&", src.string_of("ab%2F%zZ+=&;,!09", 12)));
            }
            if src.chance(30) {
                q = src.any_string(30);
            }
            q
        }),
        |q| {
            let query = Query::parse(Some(&q));
            for key in ["labelSelector", "fieldSelector", "limit", "watch", "dryRun"] {
                let _ = query.bool(key);
                let _ = query.int(key);
                if let Some(v) = query.get(key) {
                    let _ = parse_labels(v);
                    let _ = parse_fields(v);
                }
            }
            let _ = decode(&q);
            let _ = decode_segment(&q);
            let _ = parse_path(&format!("/api/v1/namespaces/{q}/pods"));
            let _ = parse_path(&q);
            let _ = parse_accept(Some(&q));
            let _ = patch_type(Some(&q));
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Quantities, durations, times

#[test]
fn fuzz_quantity() {
    fuzz(
        "quantity",
        Gen(|src: &mut Source<'_>| {
            if src.chance(85) {
                generate::quantity_text(src)
            } else {
                src.any_string(24)
            }
        }),
        |s| {
            let Ok(q) = Quantity::parse(&s) else {
                return Ok(());
            };
            // What a quantity serializes to parses back to the same value, and from the second
            // round on the text is a fixed point. (Not from the first: a binary-suffixed value
            // that is no whole multiple of its unit, `78.125Ki`, is written `80000`, which reads
            // back as a decimal quantity, `80k` — what v1.36.2 serves after its storage round trip.)
            let again = Quantity::parse(q.as_str());
            prop_assert_eq!(
                again.as_ref().ok().map(|a| a.value().cmp_value(&q.value())),
                Some(std::cmp::Ordering::Equal),
                "{:?} serialized as {:?}: {:?}",
                s,
                q.as_str(),
                again
            );
            if let Ok(again) = again {
                let third = Quantity::parse(again.as_str());
                prop_assert_eq!(third.as_ref().ok(), Some(&again), "{:?} then {:?}: {:?}", q.as_str(), again.as_str(), third);
            }
            let v = QuantityValue::parse(s.trim());
            if let Ok(v) = v {
                let c = v.canonical();
                let back = QuantityValue::parse(&c);
                prop_assert_eq!(
                    back.as_ref().map(|b| b.cmp_value(&v)).ok(),
                    Some(std::cmp::Ordering::Equal),
                    "{:?} canonical {:?}",
                    s,
                    c
                );
                // Stable from the second round (see above).
                if let Ok(c2) = back.map(|b| b.canonical()) {
                    prop_assert_eq!(
                        QuantityValue::parse(&c2).map(|b| b.canonical()).ok(),
                        Some(c2.clone()),
                        "{:?}: canonical form {:?} is not stable",
                        s,
                        c2
                    );
                }
                let _ = (
                    v.value(),
                    v.milli_value(),
                    v.as_f64(),
                    v.is_zero(),
                    v.is_negative(),
                    v.scaled_value(-9),
                    v.scaled_value(18),
                );
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_duration() {
    fuzz(
        "duration",
        Gen(|src: &mut Source<'_>| {
            if src.chance(85) {
                generate::duration_text(src)
            } else {
                src.any_string(24)
            }
        }),
        |s| {
            let Ok(d) = Duration::parse(&s) else {
                return Ok(());
            };
            let text = d.to_string();
            let again = Duration::parse(&text);
            prop_assert_eq!(
                again.as_ref().ok(),
                Some(&d),
                "{:?} printed as {:?}: {:?}",
                s,
                text,
                again
            );
            Ok(())
        },
    );
}

#[test]
fn fuzz_time() {
    fuzz(
        "time",
        Gen(|src: &mut Source<'_>| {
            if src.chance(30) {
                return src.any_string(30);
            }
            let mut s = format!(
                "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
                src.pick(&[&0u32, &1, &1970, &2024, &9999, &10000]),
                src.below(14),
                src.below(33),
                src.pick(&["T", "t", " ", "Z"]),
                src.below(26),
                src.below(61),
                src.below(62)
            );
            if src.chance(40) {
                s.push('.');
                s.push_str(&src.string_of("0123456789", 12));
            }
            s.push_str(src.pick(&[
                "Z", "z", "+00:00", "-23:59", "+24:00", "+05:30", "", "+0530",
            ]));
            s
        }),
        |s| {
            if let Ok(t) = s.parse::<Time>().map(Time::truncated) {
                use chrono::Datelike as _;
                if !(0..=9999).contains(&t.0.year()) {
                    // Go prints such years differently (and never reads them back).
                    return Ok(());
                }
                let text = t.to_rfc3339();
                let again = text.parse::<Time>();
                prop_assert_eq!(
                    again.as_ref().ok(),
                    Some(&t),
                    "{:?} printed as {:?}",
                    s,
                    text
                );
                let _ = serde_json::to_string(&t);
            }
            if let Ok(m) = serde_json::from_value::<MicroTime>(Value::String(s.clone())) {
                let text = m.to_rfc3339();
                let _ = serde_json::from_value::<MicroTime>(Value::String(text));
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// JSONPath

#[test]
fn fuzz_jsonpath() {
    fuzz(
        "jsonpath",
        Gen(|src: &mut Source<'_>| {
            (
                if src.chance(90) {
                    generate::jsonpath_expr(src)
                } else {
                    src.any_string(30)
                },
                json_value(src, 4),
            )
        }),
        |(expr, doc)| {
            let Ok(path) = JsonPath::parse(&expr) else {
                return Ok(());
            };
            for v in path.find(&doc) {
                let _ = jsonpath::print_text(v);
            }
            let now = chrono::Utc::now();
            for ty in ["string", "integer", "number", "boolean", "date"] {
                let _ = jsonpath::cell(ty, &path, &doc, now);
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Patches

/// A JSON patch against `doc`: operations on its own paths (and some that are not there).
fn json_patch_ops(src: &mut Source<'_>, doc: &Value) -> Value {
    let paths = generate::json_paths(doc);
    let mut ops = Vec::new();
    for _ in 0..=src.len(4) {
        let mut path = paths[src.below(paths.len())].clone();
        match src.below(6) {
            0 => path.push("-".into()),
            1 => path.push(
                src.pick(&["0", "1", "999", "-1", "01", "new", "a"])
                    .to_string(),
            ),
            _ => {}
        }
        let pointer = if src.chance(5) {
            src.any_string(8)
        } else {
            generate::json_pointer(&path)
        };
        let from = generate::json_pointer(&paths[src.below(paths.len())]);
        let op = src.pick(&["add", "remove", "replace", "move", "copy", "test", "bogus"]);
        let mut o = json!({"op": op, "path": pointer});
        match op {
            "add" | "replace" | "test" => o["value"] = json_value(src, 2),
            "move" | "copy" => o["from"] = Value::String(from),
            _ => {}
        }
        if src.chance(5) {
            o = json_value(src, 1);
        }
        ops.push(o);
    }
    Value::Array(ops)
}

#[test]
fn fuzz_json_patch() {
    fuzz(
        "json_patch",
        Gen(|src: &mut Source<'_>| {
            let doc = json_value(src, 4);
            let patch = if src.chance(90) {
                json_patch_ops(src, &doc)
            } else {
                json_value(src, 3)
            };
            (doc, patch)
        }),
        |(doc, patch)| {
            match json_patch(&doc, &patch) {
                Ok(out) => {
                    // `test` of every leaf of the result against itself passes.
                    let tests: Vec<Value> = generate::json_paths(&out)
                        .into_iter()
                        .take(20)
                        .filter_map(|p| {
                            let pointer = generate::json_pointer(&p);
                            out.pointer(&pointer)
                                .map(|v| json!({"op": "test", "path": pointer, "value": v}))
                        })
                        .collect();
                    let tested = json_patch(&out, &Value::Array(tests));
                    prop_assert_eq!(tested.as_ref().ok(), Some(&out));
                }
                Err(e) => {
                    let _ = (e.code(), e.reason(), e.message());
                }
            }
            Ok(())
        },
    );
}

/// Whether `v` holds a null anywhere inside an array.
fn null_in_array(v: &Value, in_array: bool) -> bool {
    match v {
        Value::Null => in_array,
        Value::Array(items) => items.iter().any(|i| null_in_array(i, true)),
        Value::Object(m) => m.values().any(|i| null_in_array(i, in_array)),
        _ => false,
    }
}

#[test]
fn fuzz_merge_patch() {
    fuzz(
        "merge_patch",
        Gen(|src: &mut Source<'_>| {
            (
                json_value(src, 4),
                generate::json_value_no_null_members(json_value(src, 4)),
                json_value(src, 3),
            )
        }),
        |(doc, modified, random)| {
            // A patch made from two documents turns the first into the second.
            let patch = create_merge_patch(&doc, &modified);
            let _ = validate_merge_patch(&patch);
            let out = merge_patch(&doc, &patch);
            if doc.is_object() && modified.is_object() {
                prop_assert_eq!(&out, &modified, "patch {}", patch);
            }
            // Any patch applies without panicking, and applying it twice changes nothing more —
            // except a patch with a null inside an array: upstream (evanphx/json-patch) keeps such
            // nulls when the array replaces an object and prunes them when it replaces anything
            // else, so its second application differs from the first (checked on v1.36.2:
            // `{"spec":[{"a":null,"b":1}]}` onto `spec: {}` gives `[{"a":null,"b":1}]`, then `[{"b":1}]`).
            if validate_merge_patch(&random).is_ok() && !null_in_array(&random, false) {
                let once = merge_patch(&doc, &random);
                prop_assert_eq!(merge_patch(&once, &random), once);
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Request bodies (JSON and YAML; protobuf bodies are fuzzed per kind in tests/proto.rs)

fn body(src: &mut Source<'_>) -> (usize, Vec<u8>) {
    let v = json_value(src, 5);
    let text = match src.below(4) {
        0 => serde_json::to_vec(&v).unwrap_or_default(),
        1 => serde_json::to_vec_pretty(&v).unwrap_or_default(),
        2 => serde_yaml::to_string(&v).unwrap_or_default().into_bytes(),
        _ => src.bytes(64),
    };
    let text = if src.chance(30) {
        generate::mutate(src, &text)
    } else {
        text
    };
    (src.below(3), text)
}

const CONTENT_TYPES: [&str; 3] = [
    "application/json",
    "application/yaml",
    "application/json;charset=utf-8",
];

#[test]
fn fuzz_request_body() {
    fuzz("request_body", Gen(body), |(ct, b)| {
        if let Err(e) = decode_body(Some(CONTENT_TYPES[ct]), &b, "ConfigMap", None) {
            let _ = (e.code(), e.to_string());
        }
        Ok(())
    });
}

#[test]
fn fuzz_json_text_reads_the_same_as_yaml() {
    // JSON is YAML: a JSON body sent as application/yaml (what `kubectl apply` may send) decodes to
    // the same object, as sigs.k8s.io/yaml does upstream.
    fuzz(
        "json_text_reads_the_same_as_yaml",
        Gen(|src: &mut Source<'_>| generate::without_fractions(json_value(src, 4))),
        |v| {
            let text =
                String::from_utf8(serde_json::to_vec(&v).unwrap_or_default()).unwrap_or_default();
            let json = decode_body(Some("application/json"), text.as_bytes(), "ConfigMap", None)
                .map_err(|e| e.to_string());
            let yaml = decode_body(Some("application/yaml"), text.as_bytes(), "ConfigMap", None)
                .map_err(|e| e.to_string());
            // Where YAML reads JSON differently upstream too (kube-apiserver v1.36, a ConfigMap
            // value sent as application/yaml): DEL and the C1 controls are refused ("control
            // characters are not allowed"), and NEL, LS and PS (U+0085, U+2028, U+2029) are line
            // breaks to YAML 1.1: a double-quoted scalar folds them with the spaces around them.
            if text.contains(|c: char| {
                ('\u{7f}'..='\u{9f}').contains(&c)
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}')
            }) {
                return Ok(());
            }
            prop_assert_eq!(yaml.ok(), json.ok());
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Growth: time per byte on growing inputs of one shape

#[test]
fn growth_label_selector() {
    assert_linear(
        "label_selector",
        &[4 << 10, 64 << 10],
        8.0,
        |n| "a in (b,c),".repeat(n / 11) + "d",
        |s| {
            let _ = parse_labels(s);
            s.len()
        },
    );
    assert_linear(
        "label_selector_values",
        &[4 << 10, 64 << 10],
        8.0,
        |n| format!("a in ({})", "b,".repeat(n / 2)),
        |s| {
            let _ = parse_labels(s);
            s.len()
        },
    );
}

#[test]
fn growth_field_selector() {
    assert_linear(
        "field_selector",
        &[4 << 10, 64 << 10],
        8.0,
        |n| "metadata.name=a\\,b,".repeat(n / 20),
        |s| {
            let _ = parse_fields(s);
            s.len()
        },
    );
}

#[test]
fn growth_jsonpath() {
    assert_linear(
        "jsonpath",
        &[4 << 10, 64 << 10],
        8.0,
        |n| format!("{{{}}}", ".a[0]".repeat(n / 5)),
        |s| {
            let _ = JsonPath::parse(s);
            s.len()
        },
    );
}

#[test]
fn growth_json_patch() {
    // Many operations on one document: each is applied to a copy of what the previous made.
    assert_linear(
        "json_patch_ops",
        &[256, 4096],
        8.0,
        |n| {
            let ops: Vec<Value> = (0..n)
                .map(|i| json!({"op": "add", "path": format!("/k{}", i % 8), "value": i}))
                .collect();
            Value::Array(ops)
        },
        |p| {
            let _ = json_patch(&json!({}), p);
            p.as_array().map_or(0, Vec::len) * 40
        },
    );
}

#[test]
fn growth_json_body() {
    assert_linear(
        "json_body_wide",
        &[16 << 10, 256 << 10],
        8.0,
        |n| format!("[{}1]", "1,".repeat(n / 2)).into_bytes(),
        |b| {
            let _ = decode_body(Some("application/json"), b, "ConfigMap", None);
            b.len()
        },
    );
    assert_linear(
        "yaml_body_block",
        &[16 << 10, 256 << 10],
        8.0,
        |n| "- a: b\n".repeat(n / 7).into_bytes(),
        |b| {
            let _ = decode_body(Some("application/yaml"), b, "ConfigMap", None);
            b.len()
        },
    );
}

#[test]
fn growth_yaml_flow_nesting() {
    // With serde_yaml (libyaml), `{a: {a: {a: ...` unclosed was super-linear (debug apiserver:
    // 16 KiB 0.13 s, 64 KiB 1.3 s, 256 KiB 44 s); the event parser refuses it in linear time.
    for (name, shape) in [
        ("yaml_flow_sequences", "["),
        ("yaml_flow_mappings_unclosed", "{a: "),
    ] {
        assert_linear(
            name,
            &[2 << 10, 32 << 10],
            8.0,
            |n| {
                let mut body = shape.repeat(n / shape.len());
                if shape == "[" {
                    body.push_str(&"]".repeat(n));
                }
                body.into_bytes()
            },
            |b| {
                let _ = decode_body(Some("application/yaml"), b, "ConfigMap", None);
                b.len()
            },
        );
    }
    // Nesting that is read (up to 8,192 flow levels here) with a token list at the bottom: the
    // cost per token must not grow with the depth (a scanner that rechecks every open level's
    // simple key per token is quadratic here). Deep values need the server's stack to drop.
    let run = std::thread::Builder::new().stack_size(crate::apimachinery::json::STACK_SIZE).spawn(|| {
        assert_linear(
            "yaml_tokens_under_deep_flow",
            &[2 << 10, 64 << 10],
            8.0,
            |n| format!("{}{}{}", "[".repeat(n / 8), "a, ".repeat(n / 6), "]".repeat(n / 8)).into_bytes(),
            |b| {
                let read = decode_body(Some("application/yaml"), b, "ConfigMap", None);
                assert!(read.is_ok(), "{read:?}");
                b.len()
            },
        );
    });
    run.expect("thread").join().expect("linear");
}

// ---------------------------------------------------------------------------------------------
// Depth: nesting far beyond upstream's 10,000 levels must fail cleanly before any recursive
// walk, here on the default 2 MiB test thread stack (the server's threads have
// `json::STACK_SIZE` for the values up to 10,000 deep that it reads); an overflow aborts the
// whole test binary.

#[test]
fn deep_nesting_stays_on_the_stack() {
    let n = 100_000;
    let json_body = format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(decode_body(
        Some("application/json"),
        json_body.as_bytes(),
        "ConfigMap",
        None
    )
    .is_err());
    let json_objects = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    assert!(decode_body(
        Some("application/json"),
        json_objects.as_bytes(),
        "ConfigMap",
        None
    )
    .is_err());
    let yaml_block: String = (0..2_000)
        .map(|i| format!("{}a:\n", "  ".repeat(i)))
        .collect();
    let _ = decode_body(
        Some("application/yaml"),
        yaml_block.as_bytes(),
        "ConfigMap",
        None,
    );
    let yaml_seq = format!("{}x\n", "- ".repeat(20_000));
    let _ = decode_body(
        Some("application/yaml"),
        yaml_seq.as_bytes(),
        "ConfigMap",
        None,
    );
    // JSONPath (printer columns come from CRDs, written by users): nested filters and brackets.
    let filters = format!("{{{}1{}}}", "[?(@".repeat(n / 4), ")]".repeat(n / 4));
    let _ = JsonPath::parse(&filters);
    let filters_ops = format!("{{.a{}}}", "[?(@.b == @".repeat(n / 12));
    let _ = JsonPath::parse(&filters_ops);
}
