//! Input generators for the fuzz targets: a [`Source`] of random choices, the [`Gen`] strategy that
//! turns a generation function into shrinkable values ([`Shrink`]), and generators of JSON values,
//! schema-shaped objects, label/field selectors, JSONPath expressions, quantities, durations and
//! byte mutations.

use std::fmt::Debug;

use base64::Engine as _;
use proptest::prelude::Rng;
use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::{TestRng, TestRunner};
use serde_json::{Map, Number, Value};

use crate::apimachinery::schema::{ProtoType, Schema, Type};

/// Random choices for a generation function.
pub struct Source<'a> {
    rng: &'a mut TestRng,
}

impl Source<'_> {
    /// A random 64-bit number.
    pub fn u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.rng.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.rng.next_u64() % 100 < percent
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'b, T: ?Sized>(&mut self, items: &[&'b T]) -> &'b T {
        let i = self.below(items.len());
        items[i]
    }

    /// A length in `0..=max`, short lengths far more likely than long ones.
    pub fn len(&mut self, max: usize) -> usize {
        let bits = self.below(64 - (max as u64).leading_zeros() as usize + 1);
        self.below((1usize << bits).min(max + 1))
    }

    /// A string of `len(max)` characters drawn from `alphabet`.
    pub fn string_of(&mut self, alphabet: &str, max: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..self.len(max))
            .map(|_| chars[self.below(chars.len())])
            .collect()
    }

    /// Any string: mostly ASCII (with the characters parsers care about), some Unicode, some
    /// control characters.
    pub fn any_string(&mut self, max: usize) -> String {
        let n = self.len(max);
        (0..n)
            .map(|_| match self.below(10) {
                0 => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
                1 => self
                    .pick(&[
                        "\0", "\u{1}", "\t", "\n", "\r", "\u{7f}", "\u{85}", "\u{a0}", "é",
                        "\u{2028}", "\u{feff}", "😀",
                    ])
                    .chars()
                    .next()
                    .unwrap_or('x'),
                2..=4 => self
                    .pick(&[
                        " ", "\\", "\"", "'", ",", "=", "!", "(", ")", "{", "}", "[", "]", ".",
                        "-", "_", "/", ":", "@", "$", "*", "?", "#", "%", "&", "+", "<", ">", "~",
                        "|",
                    ])
                    .chars()
                    .next()
                    .unwrap_or('x'),
                _ => char::from(b"abcdefxyzABZ0123456789"[self.below(22)]),
            })
            .collect()
    }

    /// Bytes: random, or a string's.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        if self.chance(50) {
            self.any_string(max).into_bytes()
        } else {
            (0..self.len(max))
                .map(|_| self.rng.next_u64() as u8)
                .collect()
        }
    }
}

/// Values that can be made smaller, for reporting a failing input at its simplest.
pub trait Shrink: Clone + Debug {
    /// Simpler versions of `self`, the most promising first.
    fn shrink(&self) -> Vec<Self>;
}

/// At most this many candidates are offered per step.
const MAX_CANDIDATES: usize = 64;

impl Shrink for String {
    fn shrink(&self) -> Vec<String> {
        let chars: Vec<char> = self.chars().collect();
        let mut out = Vec::new();
        if chars.is_empty() {
            return out;
        }
        let half = chars.len() / 2;
        if half > 0 {
            out.push(chars[..half].iter().collect());
            out.push(chars[half..].iter().collect());
        }
        for i in 0..chars.len().min(MAX_CANDIDATES) {
            let mut c = chars.clone();
            c.remove(i);
            out.push(c.into_iter().collect());
        }
        out
    }
}

impl Shrink for Vec<u8> {
    fn shrink(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let n = self.len();
        let mut chunk = n / 2;
        while chunk > 0 && out.len() < MAX_CANDIDATES {
            let mut start = 0;
            while start < n && out.len() < MAX_CANDIDATES {
                let mut v = self[..start].to_vec();
                v.extend_from_slice(&self[(start + chunk).min(n)..]);
                out.push(v);
                start += chunk;
            }
            chunk /= 2;
        }
        out
    }
}

impl Shrink for Value {
    fn shrink(&self) -> Vec<Value> {
        let mut out = Vec::new();
        shrink_value(self, &mut |v| out.push(v), &mut 0);
        out
    }
}

/// Calls `emit` with versions of `v` that have one thing removed or simplified.
fn shrink_value(v: &Value, emit: &mut dyn FnMut(Value), budget: &mut usize) {
    if *budget >= MAX_CANDIDATES {
        return;
    }
    match v {
        Value::Object(map) => {
            for k in map.keys() {
                *budget += 1;
                let mut m = map.clone();
                m.shift_remove(k);
                emit(Value::Object(m));
            }
            for (k, child) in map {
                shrink_value(
                    child,
                    &mut |c| {
                        let mut m = map.clone();
                        m.insert(k.clone(), c);
                        emit(Value::Object(m));
                    },
                    budget,
                );
            }
        }
        Value::Array(items) => {
            for i in 0..items.len() {
                *budget += 1;
                let mut a = items.clone();
                a.remove(i);
                emit(Value::Array(a));
            }
            for (i, child) in items.iter().enumerate() {
                shrink_value(
                    child,
                    &mut |c| {
                        let mut a = items.clone();
                        a[i] = c;
                        emit(Value::Array(a));
                    },
                    budget,
                );
            }
        }
        Value::String(s) => {
            for c in s.shrink().into_iter().take(8) {
                *budget += 1;
                emit(Value::String(c));
            }
        }
        Value::Number(n) if n.as_i64() != Some(0) => {
            *budget += 1;
            emit(Value::from(0));
        }
        Value::Bool(true) => emit(Value::Bool(false)),
        _ => {}
    }
}

impl<A: Shrink, B: Shrink> Shrink for (A, B) {
    fn shrink(&self) -> Vec<Self> {
        let mut out: Vec<Self> = self
            .0
            .shrink()
            .into_iter()
            .map(|a| (a, self.1.clone()))
            .collect();
        out.extend(self.1.shrink().into_iter().map(|b| (self.0.clone(), b)));
        out
    }
}

impl<A: Shrink, B: Shrink, C: Shrink> Shrink for (A, B, C) {
    fn shrink(&self) -> Vec<Self> {
        let mut out: Vec<Self> = self
            .0
            .shrink()
            .into_iter()
            .map(|a| (a, self.1.clone(), self.2.clone()))
            .collect();
        out.extend(
            self.1
                .shrink()
                .into_iter()
                .map(|b| (self.0.clone(), b, self.2.clone())),
        );
        out.extend(
            self.2
                .shrink()
                .into_iter()
                .map(|c| (self.0.clone(), self.1.clone(), c)),
        );
        out
    }
}

/// Indexes (a kind, a case) are kept as they are.
impl Shrink for usize {
    fn shrink(&self) -> Vec<usize> {
        Vec::new()
    }
}

/// A proptest strategy from a generation function; its values shrink with [`Shrink`].
pub struct Gen<F>(pub F);

impl<T: Shrink, F: Fn(&mut Source<'_>) -> T> Debug for Gen<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gen")
    }
}

impl<T: Shrink, F: Fn(&mut Source<'_>) -> T> Strategy for Gen<F> {
    type Tree = ShrinkTree<T>;
    type Value = T;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let value = (self.0)(&mut Source { rng: runner.rng() });
        Ok(ShrinkTree {
            accepted: value,
            candidate: None,
            queue: Vec::new(),
            started: false,
        })
    }
}

/// Shrinking by candidates: a failing candidate becomes the accepted value, and the search
/// restarts from its own candidates.
pub struct ShrinkTree<T> {
    accepted: T,
    candidate: Option<T>,
    queue: Vec<T>,
    started: bool,
}

impl<T: Shrink> ShrinkTree<T> {
    fn next(&mut self) -> bool {
        self.candidate = self.queue.pop();
        self.candidate.is_some()
    }
}

impl<T: Shrink> ValueTree for ShrinkTree<T> {
    type Value = T;

    fn current(&self) -> T {
        self.candidate
            .clone()
            .unwrap_or_else(|| self.accepted.clone())
    }

    /// Called after the current value failed: accept it and try its first simplification.
    fn simplify(&mut self) -> bool {
        if let Some(c) = self.candidate.take() {
            self.accepted = c;
            self.started = false;
        }
        if !self.started {
            self.started = true;
            self.queue = self.accepted.shrink();
            self.queue.reverse();
        }
        self.next()
    }

    /// Called after the current candidate passed: drop it and try the next one.
    fn complicate(&mut self) -> bool {
        self.next()
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// Keys that collide often (so patches and merges meet existing fields) and some that do not.
const KEYS: &[&str] = &[
    "a",
    "b",
    "name",
    "items",
    "metadata",
    "spec",
    "$patch",
    "$retainKeys",
    "kind",
    "x.y",
    "a/b",
    "~0",
    "",
    "0",
    "-",
];

/// A JSON value up to `depth` levels of objects and arrays.
pub fn json_value(src: &mut Source<'_>, depth: usize) -> Value {
    let n = if depth == 0 { 6 } else { 8 };
    match src.below(n) {
        0 => Value::Null,
        1 => Value::Bool(src.chance(50)),
        2 => json_number(src),
        3..=5 => Value::String(if src.chance(30) {
            src.pick(KEYS).to_string()
        } else {
            src.any_string(12)
        }),
        6 => Value::Array(
            (0..src.len(5))
                .map(|_| json_value(src, depth - 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..src.len(6) {
                let key = if src.chance(70) {
                    src.pick(KEYS).to_string()
                } else {
                    src.any_string(8)
                };
                map.insert(key, json_value(src, depth - 1));
            }
            Value::Object(map)
        }
    }
}

/// A JSON number: small integers, edges of the integer types, fractions, big exponents.
pub fn json_number(src: &mut Source<'_>) -> Value {
    match src.below(8) {
        0 => Value::from(src.below(10) as i64),
        1 => Value::from(*src.pick(&[
            &i64::MIN,
            &i64::MAX,
            &-1i64,
            &(i32::MAX as i64),
            &(i32::MIN as i64),
            &(1i64 << 53),
        ])),
        2 => Value::from(u64::MAX - src.below(3) as u64),
        3 => Value::from(src.u64() as i64),
        4 => Number::from_f64(*src.pick(&[
            &0.5f64,
            &-0.0,
            &1e300,
            &-1e-300,
            &1.5,
            &f64::MAX,
            &f64::MIN_POSITIVE,
        ]))
        .map_or(Value::Null, Value::Number),
        5 => Number::from_f64(f64::from_bits(src.u64())).map_or(Value::from(1), Value::Number),
        _ => Value::from(src.below(1000) as i64 - 500),
    }
}

/// A JSON value without nulls inside objects (merge patches cannot express those).
pub fn json_value_no_null_members(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, json_value_no_null_members(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(json_value_no_null_members).collect()),
        v => v,
    }
}

/// `v` with every fractional number replaced by an integer, for properties that need numbers
/// read back exactly. Finding left open: serde_json (without its `float_roundtrip` feature) reads
/// some floats one unit in the last place off (`1.2604650252878419e-160` as
/// `1.260465025287842e-160`), where Go's `strconv.ParseFloat` is exact.
pub fn without_fractions(v: Value) -> Value {
    match v {
        Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => Value::from(7),
        Value::Array(a) => Value::Array(a.into_iter().map(without_fractions).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, without_fractions(v)))
                .collect(),
        ),
        v => v,
    }
}

/// Every path (as JSON pointer tokens) to a node of `v`.
pub fn json_paths(v: &Value) -> Vec<Vec<String>> {
    fn walk(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    at.push(k.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    at.push(i.to_string());
                    walk(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// A JSON pointer (RFC 6901) from tokens.
pub fn json_pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Schema-shaped values

/// A value of `schema`'s shape: properties of objects (a random subset), items, map entries and
/// scalars of the right type and format (times, quantities, durations, base64, int-or-string,
/// enum values), so a codec or patch gets past its type checks. Recursive schemas are cut off at
/// `depth`.
pub fn schema_value(src: &mut Source<'_>, schema: &'static Schema, depth: usize) -> Value {
    let mut nodes = 0;
    schema_node(src, schema, depth, &mut nodes)
}

fn schema_node(src: &mut Source<'_>, s: &'static Schema, depth: usize, nodes: &mut usize) -> Value {
    *nodes += 1;
    let enums = s.enum_list();
    if !enums.is_empty() && src.chance(80) {
        return enums[src.below(enums.len())].clone();
    }
    match s.proto.ty {
        ProtoType::Time => return time_text(src, false),
        ProtoType::MicroTime => return time_text(src, true),
        ProtoType::Duration => return Value::String(duration_text(src)),
        ProtoType::Quantity => return Value::String(quantity_text(src)),
        ProtoType::IntOrString => return int_or_string(src),
        ProtoType::Bytes => return base64_text(src),
        ProtoType::RawExtension => {
            return if depth == 0 {
                Value::Null
            } else {
                json_value(src, depth.min(2))
            }
        }
        ProtoType::Implied => {}
    }
    if s.int_or_string {
        return int_or_string(src);
    }
    let room = depth > 0 && *nodes < 300;
    match s.ty {
        Type::Any => {
            if room {
                json_value(src, 2)
            } else {
                Value::Null
            }
        }
        Type::String => match s.format {
            Some("byte") => base64_text(src),
            Some("date-time") => time_text(src, false),
            _ => Value::String(if src.chance(20) {
                src.any_string(10)
            } else {
                src.string_of("abcxyz-.0123456789", 12)
            }),
        },
        Type::Integer => {
            let r = src.u64();
            if s.format == Some("int32") {
                Value::from(*src.pick(&[
                    &0i64,
                    &1,
                    &-1,
                    &80,
                    &(i32::MAX as i64),
                    &(i32::MIN as i64),
                    &(r as i32 as i64),
                ]))
            } else {
                Value::from(*src.pick(&[&0i64, &1, &-1, &3600, &i64::MAX, &i64::MIN, &(r as i64)]))
            }
        }
        Type::Number => {
            let r = src.below(1000) as f64;
            Number::from_f64(*src.pick(&[&0.0f64, &0.5, &-2.25, &1e10, &r]))
                .map_or(Value::from(1), Value::Number)
        }
        Type::Boolean => Value::Bool(src.chance(50)),
        Type::Array(items) => {
            let n = if room { src.len(3) } else { 0 };
            Value::Array(
                (0..n)
                    .map(|_| schema_node(src, items, depth - 1, nodes))
                    .collect(),
            )
        }
        Type::Map(values) => {
            let n = if room { src.len(3) } else { 0 };
            let mut map = Map::new();
            for _ in 0..n {
                let key = src.string_of("abk-./0123", 8);
                let v = schema_node(src, values, depth - 1, nodes);
                map.insert(key, v);
            }
            Value::Object(map)
        }
        Type::Object(obj) => {
            let mut map = Map::new();
            if room {
                let p = if *nodes < 50 { 40 } else { 15 };
                for (name, prop) in obj.properties {
                    if *name == "apiVersion" || *name == "kind" || !src.chance(p) {
                        continue;
                    }
                    let v = schema_node(src, prop, depth - 1, nodes);
                    map.insert((*name).to_string(), v);
                }
            }
            Value::Object(map)
        }
    }
}

fn time_text(src: &mut Source<'_>, micro: bool) -> Value {
    let r = src.below(2_000_000_000) as i64;
    let secs = *src.pick(&[
        &0i64,
        &1_700_000_000,
        &253_402_300_799,
        &-62_135_596_800,
        &r,
    ]);
    let Some(t) = chrono::DateTime::from_timestamp(
        secs,
        if micro {
            src.below(1_000_000) as u32 * 1000
        } else {
            0
        },
    ) else {
        return Value::Null;
    };
    let format = if micro {
        chrono::SecondsFormat::Micros
    } else {
        chrono::SecondsFormat::Secs
    };
    Value::String(t.to_rfc3339_opts(format, true))
}

fn base64_text(src: &mut Source<'_>) -> Value {
    let b = src.bytes(12);
    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
}

fn int_or_string(src: &mut Source<'_>) -> Value {
    if src.chance(50) {
        let r = src.u64() as i32 as i64;
        Value::from(*src.pick(&[&0i64, &8080, &-1, &(i32::MAX as i64), &r]))
    } else {
        Value::String(src.pick(&["http", "25%", "", "1.5", "x"]).to_string())
    }
}

/// A Go duration's text: valid most of the time, with units, signs, fractions and overflow.
pub fn duration_text(src: &mut Source<'_>) -> String {
    let mut s = String::new();
    if src.chance(10) {
        s.push_str(src.pick(&["-", "+"]));
    }
    for _ in 0..=src.len(3) {
        s.push_str(
            &src.string_of("0123456789", 20)
                .chars()
                .take(if src.chance(90) { 4 } else { 25 })
                .collect::<String>(),
        );
        if s.is_empty() || src.chance(20) {
            s.push('1');
        }
        if src.chance(15) {
            s.push('.');
            s.push_str(&src.string_of("0123456789", 12));
        }
        s.push_str(src.pick(&["ns", "us", "µs", "μs", "ms", "s", "m", "h", "", "d", "x"]));
    }
    s
}

/// A quantity's text: sign, digits, fraction, then a binary or decimal suffix or an exponent.
pub fn quantity_text(src: &mut Source<'_>) -> String {
    let mut s = String::new();
    if src.chance(15) {
        s.push_str(src.pick(&["-", "+"]));
    }
    let digits = if src.chance(90) { 6 } else { 40 };
    s.push_str(&src.string_of("0123456789", digits));
    if s.is_empty() || s == "-" || s == "+" || src.chance(10) {
        s.push('1');
    }
    if src.chance(25) {
        s.push('.');
        s.push_str(&src.string_of("0123456789", digits));
    }
    match src.below(4) {
        0 => {}
        1 => s.push_str(src.pick(&["n", "u", "m", "k", "M", "G", "T", "P", "E"])),
        2 => s.push_str(src.pick(&["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"])),
        _ => {
            s.push_str(src.pick(&["e", "E"]));
            if src.chance(40) {
                s.push('-');
            }
            s.push_str(&src.string_of("0123456789", 4));
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Grammars

/// A label selector from upstream's grammar, with mistakes: keys (prefixed, long, with dots and
/// slashes), every operator, value sets, whitespace and stray tokens.
pub fn label_selector(src: &mut Source<'_>) -> String {
    let mut parts = Vec::new();
    for _ in 0..=src.len(4) {
        let key = label_key(src);
        let part = match src.below(12) {
            0 => key,
            1 => format!("!{key}"),
            2 => format!("{key}={}", label_value(src)),
            3 => format!("{key}=={}", label_value(src)),
            4 => format!("{key}!={}", label_value(src)),
            5 | 6 => {
                let op = src.pick(&[" in ", " notin ", " in", "in ", " IN "]);
                let values: Vec<String> = (0..src.len(3)).map(|_| label_value(src)).collect();
                let close = if src.chance(90) { ")" } else { "" };
                format!(
                    "{key}{op}({}{close}",
                    values.join(src.pick(&[",", ", ", " ,"]))
                )
            }
            7 => format!(
                "{key}{}{}",
                src.pick(&[">", "<", " > ", "<="]),
                src.pick(&["1", "-5", "9999999999999999999", "x", ""])
            ),
            8 => src
                .pick(&[
                    "(", ")", ",", "!", "=", "!=", "==", "in", "notin", "", " ", "\t", "\0", "a b",
                    "=!", "!!a",
                ])
                .to_string(),
            9 => src.any_string(16),
            _ => format!("{key}={}", src.any_string(6)),
        };
        parts.push(part);
    }
    let sep = src.pick(&[",", ", ", " ,", ",,"]);
    parts.join(sep)
}

fn label_key(src: &mut Source<'_>) -> String {
    let name = match src.below(6) {
        0 => src.string_of("abcxyz0123-_.", 10),
        1 => "a".repeat(if src.chance(50) { 63 } else { 64 }),
        2 => src
            .pick(&["app", "tier", "in", "notin", "a.b", "-a", "a-", "_", "A"])
            .to_string(),
        _ => src.string_of("abc", 4),
    };
    match src.below(5) {
        0 => format!(
            "{}/{name}",
            src.pick(&[
                "example.com",
                "k8s.io",
                "a",
                "",
                "UPPER.com",
                "a/b",
                "x.".repeat(60).as_str()
            ])
        ),
        _ => name,
    }
}

fn label_value(src: &mut Source<'_>) -> String {
    match src.below(6) {
        0 => String::new(),
        1 => "v".repeat(if src.chance(50) { 63 } else { 64 }),
        2 => src
            .pick(&["in", "notin", "-x", "x-", "a_b", "1.0", "é"])
            .to_string(),
        _ => src.string_of("abcxyz0123", 6),
    }
}

/// A field selector from upstream's grammar, with escapes (good and bad) and stray operators.
pub fn field_selector(src: &mut Source<'_>) -> String {
    let mut parts = Vec::new();
    for _ in 0..=src.len(4) {
        let field = src
            .pick(&[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "status.phase",
                "",
                "a!",
                "a\\",
                "x=y",
            ])
            .to_string();
        let op = src.pick(&["=", "==", "!=", "", "=!", "!"]);
        let value = match src.below(4) {
            0 => src.string_of("ab\\,=!", 6),
            1 => src.any_string(8),
            _ => src.string_of("abc-0", 6),
        };
        parts.push(format!("{field}{op}{value}"));
    }
    parts.join(",")
}

/// A JSONPath expression as printer columns and `kubectl -o jsonpath` write them, with mistakes.
pub fn jsonpath_expr(src: &mut Source<'_>) -> String {
    let mut s = String::new();
    if src.chance(60) {
        s.push('{');
    }
    if src.chance(80) {
        s.push_str(src.pick(&[".", "$.", "$", "@.", ""]));
    }
    for i in 0..=src.len(6) {
        let seg = match src.below(14) {
            0 => format!(
                "[{}]",
                src.pick(&[
                    "0",
                    "-1",
                    "*",
                    "1:2",
                    ":",
                    "::2",
                    "0:-1",
                    "9999999999999999999999",
                    "'a'",
                    "\"b\"",
                    "'a','b'",
                    ""
                ])
            ),
            1 => format!(
                "[?(@.{} {} {})]",
                src.pick(&["a", "name", "x.y"]),
                src.pick(&["==", "!=", "<", ">", "<=", ">=", "=~"]),
                src.pick(&["'a'", "1", "\"x\"", "@.b", "true"])
            ),
            2 => "..".to_string(),
            3 => "*".to_string(),
            4 => src
                .pick(&[
                    "[",
                    "]",
                    "{",
                    "}",
                    "(",
                    ")",
                    "'",
                    "\"",
                    "\\",
                    "@",
                    "?",
                    "range",
                    "end",
                    "{end}",
                    "{range .items[*]}",
                ])
                .to_string(),
            5 => src.any_string(6),
            _ => {
                let key = src
                    .pick(&[
                        "a", "b", "name", "items", "metadata", "spec", "x-y", "a\\.b",
                    ])
                    .to_string();
                if i > 0 {
                    format!(".{key}")
                } else {
                    key
                }
            }
        };
        s.push_str(&seg);
    }
    if src.chance(60) {
        s.push('}');
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Byte mutations

/// `base` with a few mutations: flipped bits, changed bytes, cut or repeated runs, inserted
/// varints (lengths and tags that point past the end), or truncation.
pub fn mutate(src: &mut Source<'_>, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..=src.len(4) {
        let n = b.len();
        match src.below(7) {
            0 if n > 0 => {
                let i = src.below(n);
                b[i] ^= 1 << src.below(8);
            }
            1 if n > 0 => {
                let i = src.below(n);
                b[i] = *src.pick(&[&0u8, &0x7f, &0x80, &0xff, &0x0a, &0x12, &0x08]);
            }
            2 if n > 0 => {
                let i = src.below(n);
                let len = src.below(n - i) + 1;
                b.drain(i..i + len);
            }
            3 if n > 0 => {
                let i = src.below(n);
                let len = (src.below(n - i) + 1).min(64);
                let run: Vec<u8> = b[i..i + len].to_vec();
                b.splice(i..i, run);
            }
            4 => {
                let i = src.below(n + 1);
                let r = src.u64() >> src.below(64);
                let v = *src.pick(&[&0u64, &1, &0x7f, &0x80, &0xffff_ffff, &u64::MAX, &r]);
                let mut enc = Vec::new();
                let mut x = v;
                loop {
                    let byte = (x & 0x7f) as u8;
                    x >>= 7;
                    if x == 0 {
                        enc.push(byte);
                        break;
                    }
                    enc.push(byte | 0x80);
                }
                b.splice(i..i, enc);
            }
            5 if n > 0 => b.truncate(src.below(n)),
            _ => {
                let i = src.below(n + 1);
                let extra = src.bytes(6);
                b.splice(i..i, extra);
            }
        }
    }
    b
}
