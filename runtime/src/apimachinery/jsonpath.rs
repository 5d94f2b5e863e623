//! The kubectl JSONPath subset used by printer columns and selectable fields (`.a.b`, `.a[0]`,
//! `.a[*].b`, `.a[?(@.type=="Ready")].status`, `['key.with.dots']`, `..name`, `[1:3]`), evaluated
//! over decoded JSON, and table cells formatted as the CRD table convertor does.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::go;
use super::time::{human_duration, Time};

/// A parse error, with the offending expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognized JSONPath {expr:?}: {reason}")]
pub struct JsonPathError {
    /// The expression.
    pub expr: String,
    /// What is wrong.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Keys(Vec<String>),
    Wildcard,
    Index(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Recursive(Option<String>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(JsonPath),
    Literal(Value),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    left: JsonPath,
    op: Option<String>,
    right: Option<Operand>,
}

/// A parsed JSONPath expression. Braces (`{.a.b}`) and a leading `$` are optional.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

/// Deepest nesting of filters inside filters the parser follows (real paths nest one or two; the
/// parser recurses per level, so unbounded nesting would overflow the stack).
const MAX_FILTER_DEPTH: usize = 32;

struct Parser<'a> {
    expr: &'a str,
    chars: Vec<char>,
    pos: usize,
    /// Filters open around the current position.
    depth: usize,
}

fn is_terminator(c: char) -> bool {
    matches!(c, ' ' | '.' | ',' | '[' | ']' | '(' | ')' | '{' | '}' | '$' | '@' | '=' | '!' | '<' | '>')
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> JsonPathError {
        JsonPathError { expr: self.expr.to_string(), reason: reason.into() }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    /// A field name; `\` escapes the next character (`labels.app\.kubernetes\.io/name`).
    fn field_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                self.pos += 1;
                if let Some(n) = self.peek() {
                    name.push(n);
                    self.pos += 1;
                }
                continue;
            }
            if is_terminator(c) {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        name
    }

    /// Steps until the end or a character that ends a relative path (inside filters).
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, JsonPathError> {
        let mut steps = Vec::new();
        if self.peek() == Some('$') || (in_filter && self.peek() == Some('@')) {
            self.pos += 1;
        }
        let mut first = true;
        while let Some(c) = self.peek() {
            match c {
                '.' if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    let name = self.field_name();
                    steps.push(Step::Recursive(if name.is_empty() || name == "*" { None } else { Some(name) }));
                }
                '.' => {
                    self.pos += 1;
                    let name = self.field_name();
                    match name.as_str() {
                        "" => {}
                        "*" => steps.push(Step::Wildcard),
                        _ => steps.push(Step::Field(name)),
                    }
                }
                '[' => {
                    self.pos += 1;
                    steps.push(self.bracket()?);
                }
                c if first && !is_terminator(c) && !in_filter => {
                    let name = self.field_name();
                    steps.push(Step::Field(name));
                }
                _ if in_filter => break,
                c => return Err(self.err(format!("unexpected {c:?}"))),
            }
            first = false;
        }
        Ok(steps)
    }

    fn quoted(&mut self) -> Result<String, JsonPathError> {
        let quote = self.peek().ok_or_else(|| self.err("unterminated string"))?;
        self.pos += 1;
        let mut s = String::new();
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.pos += 1;
            if c == '\\' {
                if let Some(n) = self.peek() {
                    s.push(n);
                    self.pos += 1;
                }
            } else if c == quote {
                return Ok(s);
            } else {
                s.push(c);
            }
        }
    }

    fn bracket(&mut self) -> Result<Step, JsonPathError> {
        self.skip_spaces();
        match self.peek() {
            Some('?') => {
                self.pos += 1;
                self.skip_spaces();
                if self.peek() != Some('(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                self.pos += 1;
                let filter = self.filter()?;
                self.skip_spaces();
                if self.peek() != Some(')') {
                    return Err(self.err("expected ')' closing the filter"));
                }
                self.pos += 1;
                self.close_bracket()?;
                Ok(Step::Filter(Box::new(filter)))
            }
            Some('\'') | Some('"') => {
                let mut keys = vec![self.quoted()?];
                loop {
                    self.skip_spaces();
                    if self.peek() == Some(',') {
                        self.pos += 1;
                        self.skip_spaces();
                        keys.push(self.quoted()?);
                    } else {
                        break;
                    }
                }
                self.close_bracket()?;
                Ok(if keys.len() == 1 { Step::Field(keys.remove(0)) } else { Step::Keys(keys) })
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ']') {
                    self.pos += 1;
                }
                let inner: String = self.chars[start..self.pos].iter().collect();
                self.close_bracket()?;
                let inner = inner.trim();
                if inner == "*" {
                    return Ok(Step::Wildcard);
                }
                let int = |s: &str| -> Result<Option<i64>, JsonPathError> {
                    let s = s.trim();
                    if s.is_empty() {
                        Ok(None)
                    } else {
                        s.parse().map(Some).map_err(|_| self.err(format!("invalid array index {s:?}")))
                    }
                };
                if inner.contains(':') {
                    let parts: Vec<&str> = inner.split(':').collect();
                    if parts.len() > 3 {
                        return Err(self.err("invalid slice"));
                    }
                    return Ok(Step::Slice(
                        int(parts[0])?,
                        int(parts.get(1).copied().unwrap_or(""))?,
                        int(parts.get(2).copied().unwrap_or(""))?,
                    ));
                }
                let mut indices = Vec::new();
                for part in inner.split(',') {
                    indices.push(int(part)?.ok_or_else(|| self.err("empty array index"))?);
                }
                Ok(Step::Index(indices))
            }
        }
    }

    fn close_bracket(&mut self) -> Result<(), JsonPathError> {
        self.skip_spaces();
        if self.peek() != Some(']') {
            return Err(self.err("expected ']'"));
        }
        self.pos += 1;
        Ok(())
    }

    fn filter(&mut self) -> Result<Filter, JsonPathError> {
        if self.depth >= MAX_FILTER_DEPTH {
            return Err(self.err(format!("filters nested more than {MAX_FILTER_DEPTH} deep")));
        }
        self.depth += 1;
        let filter = self.filter_inner();
        self.depth -= 1;
        filter
    }

    fn filter_inner(&mut self) -> Result<Filter, JsonPathError> {
        self.skip_spaces();
        if self.peek() != Some('@') {
            return Err(self.err("a filter must start with '@'"));
        }
        let left = JsonPath { steps: self.steps(true)? };
        self.skip_spaces();
        let op = ["==", "!=", "<=", ">=", "=~", "<", ">"]
            .iter()
            .find(|op| op.chars().enumerate().all(|(i, c)| self.peek_at(i) == Some(c)))
            .map(|op| op.to_string());
        let Some(op) = op else {
            return Ok(Filter { left, op: None, right: None });
        };
        self.pos += op.len();
        self.skip_spaces();
        let right = match self.peek() {
            Some('\'') | Some('"') => Operand::Literal(Value::String(self.quoted()?)),
            Some('@') | Some('$') => Operand::Path(JsonPath { steps: self.steps(true)? }),
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ')' && c != ' ') {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                let literal = match text.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "nil" | "null" => Value::Null,
                    t => serde_json::from_str::<Value>(t)
                        .ok()
                        .filter(Value::is_number)
                        .ok_or_else(|| self.err(format!("unrecognized filter value {t:?}")))?,
                };
                Operand::Literal(literal)
            }
        };
        Ok(Filter { left, op: Some(op), right: Some(right) })
    }
}

impl JsonPath {
    /// Parses an expression such as `.status.conditions[?(@.type=="Ready")].status`.
    pub fn parse(expr: &str) -> Result<JsonPath, JsonPathError> {
        let trimmed = expr.trim();
        let inner = trimmed
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or(trimmed)
            .trim();
        let mut p = Parser { expr, chars: inner.chars().collect(), pos: 0, depth: 0 };
        let steps = p.steps(false)?;
        Ok(JsonPath { steps })
    }

    /// All values the path selects, in document order; missing keys select nothing.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut cur = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for v in cur {
                apply(step, v, &mut next);
            }
            cur = next;
        }
        cur
    }

    /// The first selected value.
    pub fn find_first<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.find(root).into_iter().next()
    }
}

fn apply<'a>(step: &Step, v: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Field(name) => {
            if let Some(x) = v.as_object().and_then(|m| m.get(name)) {
                out.push(x);
            }
        }
        Step::Keys(keys) => {
            if let Some(m) = v.as_object() {
                out.extend(keys.iter().filter_map(|k| m.get(k)));
            }
        }
        Step::Wildcard => match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.extend(keys.into_iter().filter_map(|k| m.get(k)));
            }
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Step::Index(indices) => {
            if let Some(a) = v.as_array() {
                for &i in indices {
                    let idx = if i < 0 { a.len() as i64 + i } else { i };
                    if let Some(x) = usize::try_from(idx).ok().and_then(|i| a.get(i)) {
                        out.push(x);
                    }
                }
            }
        }
        Step::Slice(start, end, stride) => {
            if let Some(a) = v.as_array() {
                let len = a.len() as i64;
                let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
                let s = norm(start.unwrap_or(0));
                let e = norm(end.unwrap_or(len));
                let step = stride.unwrap_or(1).max(1);
                let mut i = s;
                while i < e {
                    if let Some(x) = a.get(i as usize) {
                        out.push(x);
                    }
                    i += step;
                }
            }
        }
        Step::Recursive(name) => recurse(name.as_deref(), v, out),
        Step::Filter(f) => {
            if let Some(a) = v.as_array() {
                out.extend(a.iter().filter(|item| f.matches(item)));
            }
        }
    }
}

fn recurse<'a>(name: Option<&str>, v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            match name {
                Some(n) => out.extend(m.get(n)),
                None => out.extend(m.values()),
            }
            for x in m.values() {
                recurse(name, x, out);
            }
        }
        Value::Array(a) => {
            if name.is_none() {
                out.extend(a.iter());
            }
            for x in a {
                recurse(name, x, out);
            }
        }
        _ => {}
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    v.as_f64()
}

impl Filter {
    fn matches(&self, item: &Value) -> bool {
        let lefts = self.left.find(item);
        let Some(op) = &self.op else {
            return !lefts.is_empty();
        };
        let rights: Vec<&Value> = match &self.right {
            Some(Operand::Literal(v)) => vec![v],
            Some(Operand::Path(p)) => p.find(item),
            None => Vec::new(),
        };
        lefts.iter().any(|l| rights.iter().any(|r| compare(op, l, r)))
    }
}

fn compare(op: &str, l: &Value, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (l, r) {
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Number(_), Value::Number(_)) => as_f64(l).zip(as_f64(r)).and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::Bool(a), Value::Bool(b)) => (op == "==" || op == "!=").then(|| a.cmp(b)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (op, ord) {
        ("=~", _) => match (l, r) {
            (Value::String(a), Value::String(b)) => super::schema::compiled_regex(b).is_ok_and(|re| re.is_match(a)),
            _ => false,
        },
        ("==", Some(o)) => o == Ordering::Equal,
        ("!=", Some(o)) => o != Ordering::Equal,
        ("!=", None) => true,
        ("<", Some(o)) => o == Ordering::Less,
        ("<=", Some(o)) => o != Ordering::Greater,
        (">", Some(o)) => o == Ordering::Greater,
        (">=", Some(o)) => o != Ordering::Less,
        _ => false,
    }
}

/// How `jsonpath.PrintResults` writes one value: strings raw, scalars with `%v`, objects and
/// arrays as JSON, `null` as `<no value>`.
pub fn print_text(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go::format_number(n),
        other => go::json(other),
    }
}

/// A printer column cell exactly as the CRD table convertor computes it: the first match of `path`
/// in `object`, converted for the column `type_` (`string`, `integer`, `number`, `boolean`, `date`);
/// `null` when nothing matches or the value has the wrong type. Dates become ages relative to `now`.
pub fn cell(type_: &str, path: &JsonPath, object: &Value, now: DateTime<Utc>) -> Value {
    let Some(v) = path.find_first(object) else {
        return Value::Null;
    };
    if type_ == "string" {
        return Value::String(print_text(v));
    }
    if v.is_null() {
        return Value::Null;
    }
    match type_ {
        "integer" => match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Value::from(i),
                None => n.as_f64().map_or(Value::Null, |f| Value::from(f as i64)),
            },
            _ => Value::Null,
        },
        "number" => match v {
            Value::Number(n) => n.as_f64().map_or(Value::Null, Value::from),
            _ => Value::Null,
        },
        "boolean" => match v {
            Value::Bool(b) => Value::Bool(*b),
            _ => Value::Null,
        },
        "date" => match v {
            Value::String(s) if s.is_empty() || s == "null" => Value::String("<unknown>".into()),
            Value::String(s) => match s.parse::<Time>() {
                Ok(t) if t.is_zero() => Value::String("<unknown>".into()),
                Ok(t) => Value::String(human_duration(now.signed_duration_since(t.0))),
                Err(_) => Value::String("<invalid>".into()),
            },
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "p", "labels": {"app.kubernetes.io/name": "web"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "redis"}], "replicas": 3, "ratio": 1.5},
            "status": {
                "phase": "Running",
                "ready": true,
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "False"}],
            }
        })
    }

    fn find(expr: &str) -> Vec<Value> {
        JsonPath::parse(expr).unwrap_or_else(|e| panic!("{e}")).find(&pod()).into_iter().cloned().collect()
    }

    #[test]
    fn paths() {
        assert_eq!(find(".status.phase"), vec![json!("Running")]);
        assert_eq!(find("{.status.phase}"), vec![json!("Running")]);
        assert_eq!(find("$.status.phase"), vec![json!("Running")]);
        assert_eq!(find("status.phase"), vec![json!("Running")]);
        assert_eq!(find(".spec.containers[0].name"), vec![json!("a")]);
        assert_eq!(find(".spec.containers[-1].name"), vec![json!("b")]);
        assert_eq!(find(".spec.containers[*].image"), vec![json!("nginx"), json!("redis")]);
        assert_eq!(find(".spec.containers[0:1].name"), vec![json!("a")]);
        assert_eq!(find(r#".status.conditions[?(@.type=="Ready")].status"#), vec![json!("False")]);
        assert_eq!(find(".status.conditions[?(@.type == 'Initialized')].status"), vec![json!("True")]);
        assert_eq!(find(".status.conditions[?(@.type!=\"Ready\")].type"), vec![json!("Initialized")]);
        assert_eq!(find(".metadata.labels['app.kubernetes.io/name']"), vec![json!("web")]);
        assert_eq!(find(r".metadata.labels.app\.kubernetes\.io/name"), vec![json!("web")]);
        assert_eq!(find("..image"), vec![json!("nginx"), json!("redis")]);
        assert_eq!(find(".spec.missing.deeper"), Vec::<Value>::new());
        assert_eq!(find(".spec.containers[5]"), Vec::<Value>::new());
        assert!(JsonPath::parse(".a[").is_err());
        assert!(JsonPath::parse(".a[?(@.x == )]").is_err());
    }

    #[test]
    fn nested_filters_are_bounded() {
        // Found by the fuzzing harness: each nested filter took a few stack frames, so 25,000 of
        // them overflowed the stack and aborted the process.
        let nested = |n: usize| format!("{{.a{}{}}}", "[?(@.b".repeat(n), ")]".repeat(n));
        assert!(JsonPath::parse(&nested(MAX_FILTER_DEPTH)).is_ok());
        let err = JsonPath::parse(&nested(25_000)).expect_err("too deep");
        assert_eq!(err.reason, "filters nested more than 32 deep");
        let p = JsonPath::parse(".a[?(@.b[?(@.c == 'x')])].d").expect("two levels");
        assert_eq!(
            p.find(&json!({"a": [{"b": [{"c": "x"}], "d": 1}, {"b": [], "d": 2}]})),
            vec![&json!(1)]
        );
    }

    #[test]
    fn cells() {
        let now = "2026-01-01T00:05:10Z".parse::<Time>().expect("now").0;
        let p = |e: &str| JsonPath::parse(e).expect("parse");
        let obj = pod();
        assert_eq!(cell("string", &p(".status.phase"), &obj, now), json!("Running"));
        assert_eq!(cell("string", &p(".spec.replicas"), &obj, now), json!("3"));
        assert_eq!(cell("string", &p(".spec.containers[*].name"), &obj, now), json!("a"));
        assert_eq!(cell("string", &p(".spec.containers[0]"), &obj, now), json!(r#"{"image":"nginx","name":"a"}"#));
        assert_eq!(cell("integer", &p(".spec.replicas"), &obj, now), json!(3));
        assert_eq!(cell("integer", &p(".spec.ratio"), &obj, now), json!(1));
        assert_eq!(cell("number", &p(".spec.replicas"), &obj, now), json!(3.0));
        assert_eq!(cell("integer", &p(".status.phase"), &obj, now), Value::Null);
        assert_eq!(cell("boolean", &p(".status.ready"), &obj, now), json!(true));
        assert_eq!(cell("date", &p(".metadata.creationTimestamp"), &obj, now), json!("5m10s"));
        assert_eq!(cell("date", &p(".status.phase"), &obj, now), json!("<invalid>"));
        assert_eq!(cell("string", &p(".status.nothing"), &obj, now), Value::Null);
    }
}
