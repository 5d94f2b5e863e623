//! Reads YAML into `serde_json::Value` while remembering where every node came from (line:column), so
//! later stages can point at the exact spot of a mistake.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in a source file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

/// A path into a JSON document, as JSON-pointer-like segments.
pub type NodePath = Vec<String>;

/// One loaded YAML document: its JSON value and the position of every node.
#[derive(Debug, Clone)]
pub struct SourceDoc {
    /// The file it came from.
    pub file: PathBuf,
    /// The document as JSON.
    pub value: Value,
    /// Where each node starts, keyed by its path (`/spec/versions/0/name`).
    spans: BTreeMap<String, Pos>,
    /// Where each mapping key starts (for "unknown key" errors).
    key_spans: BTreeMap<String, Pos>,
}

/// A place in a source file, printed as `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// The position within it.
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.pos.line, self.pos.col)
    }
}

/// Renders path segments as a JSON pointer.
pub fn pointer(path: &[String]) -> String {
    let mut s = String::new();
    for seg in path {
        s.push('/');
        s.push_str(&seg.replace('~', "~0").replace('/', "~1"));
    }
    s
}

impl SourceDoc {
    /// A document with no file or positions (for trial checks).
    pub fn detached(value: Value) -> Self {
        SourceDoc { file: PathBuf::new(), value, spans: BTreeMap::new(), key_spans: BTreeMap::new() }
    }

    /// The location of the node at `path`, or of its nearest ancestor that has one.
    pub fn locate(&self, path: &[String]) -> Location {
        self.locate_inner(path, false)
    }

    /// The location of the *key* of the node at `path` (falls back to the node itself).
    pub fn locate_key(&self, path: &[String]) -> Location {
        self.locate_inner(path, true)
    }

    fn locate_inner(&self, path: &[String], key: bool) -> Location {
        let mut p = path.to_vec();
        let mut exact = true;
        loop {
            let ptr = pointer(&p);
            // For an ancestor (the node itself is missing) the key line reads best: `spec:` rather than its first child.
            let prefer_key = key || !exact;
            let hit = if prefer_key { self.key_spans.get(&ptr).or_else(|| self.spans.get(&ptr)) } else { self.spans.get(&ptr) };
            exact = false;
            if let Some(pos) = hit {
                return Location { file: self.file.clone(), pos: *pos };
            }
            if p.pop().is_none() {
                return Location { file: self.file.clone(), pos: Pos { line: 1, col: 1 } };
            }
        }
    }
}

/// A YAML syntax error.
#[derive(Debug, thiserror::Error)]
#[error("{location}: invalid YAML: {message}")]
pub struct YamlError {
    /// Where.
    pub location: Location,
    /// What the YAML parser said.
    pub message: String,
}

impl YamlError {
    /// What to do about it, for the mistakes people make in schema files.
    pub fn hint(&self) -> Option<String> {
        yaml_hint(&self.message).map(str::to_string)
    }
}

/// A hint for a YAML parser message (yaml-rust2's words, and the builder's own).
fn yaml_hint(message: &str) -> Option<&'static str> {
    let hints: &[(&str, &str)] = &[
        ("tab", "YAML indents with spaces only: replace the tabs on this line with spaces"),
        (
            "mapping values are not allowed",
            "a plain value cannot contain \": \": quote it (\"...\"), or indent this key under its parent",
        ),
        (
            "block mapping, did not find expected key",
            "this line is indented differently from the keys above it: align it with its siblings, or quote a \
             value that starts with one of * & ! | > ' \" % @ `",
        ),
        ("did not find expected '-' indicator", "the items of a list start with \"- \" at one indentation: align them"),
        (
            "did not find expected node content",
            "a value is missing here, or starts with a character YAML reserves (@ ` %): quote it",
        ),
        ("unexpected character", "a plain value cannot start with @ or `: quote it"),
        ("quoted scalar, found unexpected end of stream", "a quoted string is not closed: add its closing quote"),
        ("flow mapping", "an inline {...} is not closed, or its entries are not separated by \",\""),
        ("flow sequence", "an inline [...] is not closed, or its items are not separated by \",\""),
        (
            "unknown escape character",
            "in double quotes a backslash starts an escape: write \\\\ for a backslash, or use single quotes",
        ),
        ("unknown anchor", "an alias (*name) needs an anchor (&name) defined before it in the same document"),
        ("duplicate key", "a key may appear once per mapping: remove or merge the other one"),
        ("only plain string keys", "write the key as a plain or quoted string (not a list, mapping or `? ` key)"),
    ];
    hints.iter().find(|(needle, _)| message.contains(needle)).map(|(_, hint)| *hint)
}

/// Parses every non-empty YAML document in `text`.
pub fn load_yaml(file: &Path, text: &str) -> Result<Vec<SourceDoc>, YamlError> {
    let mut builder = Builder { file: file.to_path_buf(), ..Builder::default() };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        location: Location { file: file.to_path_buf(), pos: pos_of(e.marker()) },
        message: e.info().to_string(),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.docs.into_iter().filter(|d| !d.value.is_null()).collect())
}

fn pos_of(m: &Marker) -> Pos {
    Pos { line: m.line(), col: m.col() + 1 }
}

enum Frame {
    Seq { items: Vec<Value>, path: NodePath, anchor: usize },
    Map { map: Map<String, Value>, pending_key: Option<(String, Pos)>, path: NodePath, anchor: usize },
}

#[derive(Default)]
struct Builder {
    file: PathBuf,
    stack: Vec<Frame>,
    docs: Vec<SourceDoc>,
    spans: BTreeMap<String, Pos>,
    key_spans: BTreeMap<String, Pos>,
    anchors: BTreeMap<usize, Value>,
    error: Option<YamlError>,
}

impl Builder {
    /// The path the next value will have.
    fn next_path(&self) -> Option<NodePath> {
        match self.stack.last() {
            None => Some(Vec::new()),
            Some(Frame::Seq { items, path, .. }) => {
                let mut p = path.clone();
                p.push(items.len().to_string());
                Some(p)
            }
            Some(Frame::Map { pending_key: Some((k, _)), path, .. }) => {
                let mut p = path.clone();
                p.push(k.clone());
                Some(p)
            }
            Some(Frame::Map { pending_key: None, .. }) => None,
        }
    }

    fn fail(&mut self, pos: Pos, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError { location: Location { file: self.file.clone(), pos }, message });
        }
    }

    /// Hands a finished value to its parent (or finishes the document).
    fn push_value(&mut self, v: Value, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, v.clone());
        }
        match self.stack.last_mut() {
            None => {
                let spans = std::mem::take(&mut self.spans);
                let key_spans = std::mem::take(&mut self.key_spans);
                self.docs.push(SourceDoc { file: self.file.clone(), value: v, spans, key_spans });
            }
            Some(Frame::Seq { items, .. }) => items.push(v),
            Some(Frame::Map { map, pending_key, .. }) => {
                if let Some((k, _)) = pending_key.take() {
                    map.insert(k, v);
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = pos_of(&mark);
        // A scalar in key position of a mapping is a key, not a value.
        if let (Event::Scalar(s, _, _, _), Some(Frame::Map { pending_key, map, path, .. })) = (&ev, self.stack.last_mut()) {
            if pending_key.is_none() {
                if map.contains_key(s) {
                    let s = s.clone();
                    self.fail(pos, format!("duplicate key {s:?}"));
                    return;
                }
                let mut p = path.clone();
                p.push(s.clone());
                self.key_spans.insert(pointer(&p), pos);
                *pending_key = Some((s.clone(), pos));
                return;
            }
        }
        let is_start = matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..) | Event::Scalar(..) | Event::Alias(_));
        if is_start && matches!(self.stack.last(), Some(Frame::Map { pending_key: None, .. })) {
            self.fail(pos, "only plain string keys are supported in schema files".into());
            return;
        }
        match ev {
            Event::Scalar(s, style, anchor, tag) => {
                if let Some(p) = self.next_path() {
                    self.spans.insert(pointer(&p), pos);
                }
                let v = scalar(&s, style, tag.as_ref().map(|t| t.suffix.as_str()));
                self.push_value(v, anchor);
            }
            Event::Alias(id) => {
                if let Some(p) = self.next_path() {
                    self.spans.insert(pointer(&p), pos);
                }
                let v = self.anchors.get(&id).cloned().unwrap_or(Value::Null);
                self.push_value(v, 0);
            }
            Event::SequenceStart(anchor, _) => {
                let path = self.next_path().unwrap_or_default();
                self.spans.insert(pointer(&path), pos);
                self.stack.push(Frame::Seq { items: Vec::new(), path, anchor });
            }
            Event::MappingStart(anchor, _) => {
                let path = self.next_path().unwrap_or_default();
                self.spans.insert(pointer(&path), pos);
                self.stack.push(Frame::Map { map: Map::new(), pending_key: None, path, anchor });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, anchor, .. }) = self.stack.pop() {
                    self.push_value(Value::Array(items), anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { map, anchor, .. }) = self.stack.pop() {
                    self.push_value(Value::Object(map), anchor);
                }
            }
            Event::DocumentStart | Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

/// Resolves a scalar the way Kubernetes' YAML→JSON conversion does (YAML 1.2 core schema for plain scalars).
fn scalar(s: &str, style: TScalarStyle, tag: Option<&str>) -> Value {
    if style != TScalarStyle::Plain || tag == Some("str") {
        return Value::String(s.to_string());
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Some(hex) = s.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Number(i.into());
        }
    }
    if let Some(oct) = s.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Number(i.into());
        }
    }
    let looks_numeric = s.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.');
    if looks_numeric {
        if let Ok(f) = s.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_values() {
        let text = "a: 1\nb:\n  c: [x, \"2\"]\n  d: true\n";
        let docs = load_yaml(Path::new("f.yaml"), text).expect("parses");
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d.value, serde_json::json!({"a": 1, "b": {"c": ["x", "2"], "d": true}}));
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(d.locate(&p(&["b", "c", "1"])).pos, Pos { line: 3, col: 10 });
        assert_eq!(d.locate_key(&p(&["b", "d"])).pos, Pos { line: 4, col: 3 });
        assert_eq!(d.locate(&p(&["b", "d"])).pos, Pos { line: 4, col: 6 });
        assert_eq!(d.locate(&p(&["b", "zz"])).to_string(), "f.yaml:2:1");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = load_yaml(Path::new("f.yaml"), "a: 1\na: 2\n").expect_err("duplicate");
        assert_eq!(err.location.pos.line, 2);
    }

    /// The mistakes people make in schema files get a hint saying what to write.
    #[test]
    fn yaml_errors_carry_a_hint() {
        let cases = [
            ("a:\n\tb: 1\n", "tabs", 2),
            ("description: see: here\n", "quote it", 1),
            ("a:\n    b: 1\n  c: 2\n", "align it with its siblings", 3),
            ("a: \"open\n", "closing quote", 1),
            ("a: [x, y\n", "inline [...]", 2),
            ("a: \"\\q\"\n", "backslash", 1),
            ("a: *nowhere\n", "anchor (&name)", 1),
            ("a: 1\na: 2\n", "once per mapping", 2),
            ("a: @x\n", "quote it", 1),
        ];
        let mut wrong = Vec::new();
        for (text, hint, line) in cases {
            let err = load_yaml(Path::new("f.yaml"), text).expect_err(text);
            let got = err.hint().unwrap_or_default();
            if !got.contains(hint) || err.location.pos.line != line {
                wrong.push(format!("{text:?}: line {} {} → hint {got:?}", err.location.pos.line, err.message));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn multi_document() {
        let docs = load_yaml(Path::new("f.yaml"), "---\na: 1\n---\n---\nb: 2\n").expect("parses");
        assert_eq!(docs.len(), 2);
    }
}
