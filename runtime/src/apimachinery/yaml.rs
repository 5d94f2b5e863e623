//! YAML request bodies to JSON, as kube-apiserver reads them (sigs.k8s.io/yaml over go-yaml v2).
//!
//! Linear in the input: granit-parser's event parser (its simple-key bookkeeping is amortized, so
//! deep flow nesting costs no quadratic rescans), with the JSON built on an explicit stack, and
//! go-yaml's limits: nesting depth 10,000 (block and flow alike) and its alias-expansion ratio (no
//! "billion laughs"); the JSON made is then held to the JSON decoder's depth limit, as upstream's
//! conversion to JSON is (a value 10,001 containers deep, reachable through 10,000 YAML levels
//! under a top mapping or through aliases, is refused with the JSON decoder's message).
//! Scalars resolve as go-yaml v2 (YAML 1.1) resolves them: `yes`/`on`/`y` are `true`, `0777` is
//! octal, `1_000` is 1000, timestamps stay strings, `.inf`/`.nan` cannot become JSON. Only the
//! first document of a stream is read, as upstream.

use serde_json::{Map, Number, Value};
use granit_parser::{Event, Marker, Options, Parser, ScalarStyle, StructureStyle, Tag};

/// go-yaml's `max_flow_level` and `max_indents`: deeper documents are refused.
pub const MAX_DEPTH: usize = 10_000;

/// The parser's own nesting limits, past go-yaml's by more than its token lookahead (a simple
/// key's 1,024 characters) so that the level too many reaches the builder, which refuses it with
/// go-yaml's message and line.
const PARSER_DEPTH: usize = MAX_DEPTH + 2_048;

/// Why a YAML body could not become JSON, worded as upstream's decoder words it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum YamlError {
    /// Not well-formed YAML.
    #[error("yaml: {}{message}", syntax_line(*line))]
    Syntax {
        /// The line go-yaml names: 1-based for the scanner's errors, 0-based (its quirk) for the
        /// parser's; none when 0.
        line: usize,
        /// The parser's description.
        message: String,
    },
    /// Nested deeper than [`MAX_DEPTH`] levels below the top node (go-yaml names the line of the
    /// level too many unless it is the first).
    #[error("yaml: {}exceeded max depth of {MAX_DEPTH}", line_prefix(*line))]
    TooDeep {
        /// 1-based line of the collection that went too deep.
        line: usize,
    },
    /// The JSON made holds more than the JSON decoder's 10,000 nested containers.
    #[error("couldn't get version/kind; json parse error: invalid character '{bracket}' exceeded max depth")]
    JsonTooDeep {
        /// `[` or `{`: the kind of container that went too deep.
        bracket: char,
    },
    /// Aliases expand to far more nodes than the document holds.
    #[error("yaml: document contains excessive aliasing")]
    ExcessiveAliasing,
    /// An alias names no anchor defined before it.
    #[error("yaml: unknown anchor referenced")]
    UnknownAnchor,
    /// The body is not UTF-8.
    #[error("yaml: invalid leading UTF-8 octet")]
    NotUtf8,
    /// A character outside YAML's printable set (go-yaml's reader refuses it anywhere).
    #[error("yaml: control characters are not allowed")]
    Control,
    /// A `%YAML` directive of a version other than 1.1 (go-yaml v2 reads 1.1 only).
    #[error("yaml: {}found incompatible YAML document", syntax_line(*line))]
    Version {
        /// 0-based line of the directive (go-yaml's parser convention).
        line: usize,
    },
    /// A tagged scalar that does not read as its tag.
    #[error("yaml: cannot decode {found} `{value}` as a {tag}")]
    BadTag {
        /// What the text resolves to (`!!str`, `!!int`, ...).
        found: &'static str,
        /// The text.
        value: String,
        /// The tag given.
        tag: String,
    },
    /// `!!binary` that is not base64.
    #[error("yaml: !!binary value contains invalid base64 data")]
    BadBinary,
    /// A `<<` merge whose value is not a mapping or a sequence of mappings.
    #[error("yaml: map merge requires map or sequence of maps as the value")]
    BadMerge,
    /// `.inf`, `.nan`: JSON has no such numbers.
    #[error("json: unsupported value: {0}")]
    NonFinite(&'static str),
    /// A null, sequence or mapping used as a mapping key.
    #[error("unsupported map key of type: {kind}, key: {key}, value: {value}")]
    MapKey {
        /// Go's name of the key's type.
        kind: &'static str,
        /// The key as Go prints it.
        key: String,
        /// The value as Go prints it.
        value: String,
    },
}

/// Parses the first document of `body` into JSON.
pub fn to_json(body: &[u8]) -> Result<Value, YamlError> {
    let text = std::str::from_utf8(body).map_err(|_| YamlError::NotUtf8)?;
    if !text.chars().all(printable) {
        return Err(YamlError::Control);
    }
    let mut options = Options::default();
    options.emit_comments = false;
    // go-yaml (libyaml's port) ends a block scalar cut off by the end of input without a newline.
    options.block_scalar_eof_without_line_feed = true;
    options.flow_nesting_limit = PARSER_DEPTH;
    options.block_nesting_limit = PARSER_DEPTH;
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut builder = Builder::default();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| match e.kind() {
            granit_parser::ErrorKind::RecursionLimitExceeded => YamlError::TooDeep { line: e.marker().line().max(1) },
            kind => syntax(text, e.marker(), kind),
        })?;
        match event {
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::DocumentStart(_, Some(v)) if (v.major, v.minor) != (1, 1) => {
                // go-yaml names the directive's (0-based) line.
                let line = text[..span.start.byte_offset().unwrap_or(text.len()).min(text.len())]
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| l.starts_with("%YAML"))
                    .last()
                    .map_or(0, |(i, _)| i);
                return Err(YamlError::Version { line });
            }
            Event::Alias(id) => builder.alias(id)?,
            Event::Scalar(text, style, anchor, tag) => {
                // A plain, untagged `<<` is a merge key (a quoted one is the string).
                let merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                let value = scalar(text.into_owned(), style, tag.as_deref())?;
                builder.node(Node { merge, ..Node::leaf(value) }, anchor, Origin::Event)?;
            }
            Event::SequenceStart(style, anchor, _) => {
                builder.open(Open::Seq(Vec::new()), anchor, span.start, style == StructureStyle::Flow)?
            }
            Event::MappingStart(style, anchor, _) => {
                builder.open(Open::Map(Map::new(), Key::None), anchor, span.start, style == StructureStyle::Flow)?
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
            // Stream and document starts, comments and the rest carry no content.
            _ => {}
        }
        if builder.done.is_some() && builder.stack.is_empty() {
            break;
        }
    }
    Ok(builder.done.map(|n| n.value).unwrap_or(Value::Null))
}

fn line_prefix(line: usize) -> String {
    if line > 1 { format!("line {line}: ") } else { String::new() }
}

/// go-yaml's reader: tab, line breaks and printable Unicode only.
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn syntax_line(line: usize) -> String {
    if line > 0 { format!("line {line}: ") } else { String::new() }
}

/// A parse error as go-yaml words it: its problem text, and its line — 1-based for scanner
/// errors, the 0-based line for parser errors (go-yaml adds one only to the former).
fn syntax(text: &str, mark: &Marker, kind: &granit_parser::ErrorKind) -> YamlError {
    use granit_parser::ErrorKind as K;
    let line = mark.line().max(1);
    let (message, line) = match kind {
        K::ExpectedBlockMappingKey => ("did not find expected key".to_string(), line - 1),
        K::ExpectedNodeContent => ("did not find expected node content".to_string(), line - 1),
        K::ExpectedFlowMappingSeparator => ("did not find expected ',' or '}'".to_string(), line - 1),
        K::ExpectedFlowSequenceSeparator => ("did not find expected ',' or ']'".to_string(), line - 1),
        K::ExpectedBlockSequenceEntry => ("did not find expected '-' indicator".to_string(), line - 1),
        K::ExpectedDocumentStart => ("did not find expected <document start>".to_string(), line - 1),
        K::UndeclaredTagHandle => ("found undefined tag handle".to_string(), line - 1),
        K::UnexpectedCharacter { .. } | K::TabInBlockIndentation | K::TabInIndentation => {
            ("found character that cannot start any token".to_string(), line)
        }
        // go-yaml finds a key stale where its scanner stands next: past the blank lines after it.
        K::SimpleKeyExpected => ("could not find expected ':'".to_string(), next_token_line(text, mark)),
        // Unclosed collections and quotes are found at the end of input.
        K::UnclosedFlowCollection { open: '{' } => ("did not find expected ',' or '}'".to_string(), end_line(text)),
        K::UnclosedFlowCollection { .. } => ("did not find expected ',' or ']'".to_string(), end_line(text)),
        K::UnclosedQuotedScalar => ("found unexpected end of stream".to_string(), end_line(text) + 1),
        // The rest as granit-parser words them, without its "while parsing ..." context (go-yaml
        // reports the problem only).
        other => {
            let info = other.to_string();
            let problem = info.strip_prefix("while ").and_then(|rest| rest.split_once(", ")).map_or(info.as_str(), |(_, p)| p);
            (problem.to_string(), line)
        }
    };
    YamlError::Syntax { line, message }
}

/// The 1-based line of the first non-blank line after `mark`'s line, or past the end of input.
fn next_token_line(text: &str, mark: &Marker) -> usize {
    let start = mark.byte_offset().unwrap_or_else(|| text.char_indices().nth(mark.index()).map_or(text.len(), |(b, _)| b));
    let mut line = mark.line().max(1);
    let mut lines = text.get(start..).unwrap_or_default().split_inclusive('\n');
    lines.next();
    for l in lines {
        line += 1;
        if !l.trim_start_matches([' ', '\t', '\r', '\n']).is_empty() {
            return line;
        }
    }
    line + 1
}

/// The 0-based line go-yaml's end of input is on (it ends an unfinished last line first).
fn end_line(text: &str) -> usize {
    text.matches('\n').count() + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

/// A finished node: its value and what go-yaml's alias accounting counts in it.
#[derive(Clone)]
struct Node {
    value: Value,
    /// Containers nested in it, itself included (0 for a scalar).
    height: usize,
    /// Nodes decoded to make it (aliases count their target's nodes again).
    nodes: u64,
    /// Aliases expanded inside it.
    aliases: u64,
    /// A plain `<<`: a merge when it is a mapping key.
    merge: bool,
}

impl Node {
    fn leaf(value: Value) -> Self {
        Node { value, nodes: 1, aliases: 0, merge: false, height: 0 }
    }
}

/// Where a node comes from: the parser (its children are counted already) or an alias (its whole
/// subtree is decoded again, as go-yaml counts it).
#[derive(PartialEq)]
enum Origin {
    Event,
    Alias,
}

/// A mapping's state between a key and its value.
enum Key {
    None,
    Name(String),
    /// A `<<` merge key: its value's entries go into the mapping.
    Merge,
    /// A key JSON cannot have (null, a sequence, a mapping): refused once its value is known.
    Invalid {
        kind: &'static str,
        key: String,
    },
}

enum Open {
    Seq(Vec<Value>),
    Map(Map<String, Value>, Key),
}

struct Frame {
    open: Open,
    anchor: usize,
    nodes: u64,
    aliases: u64,
    /// The most containers nested in one of its children so far.
    height: usize,
    /// A flow collection (`[`, `{`).
    flow: bool,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    done: Option<Node>,
    /// go-yaml's decodeCount and aliasCount over the whole document.
    decoded: u64,
    aliased: u64,
    /// Nodes copied to remember anchors (bounded like alias expansion).
    copied: u64,
    /// Flow collections open (at the top of the stack).
    flows: usize,
}

/// Most nodes copied for anchors and aliases: go-yaml's upper alias-accounting bound.
const MAX_COPIED: u64 = 4_000_000;

impl Builder {
    fn open(&mut self, open: Open, anchor: usize, mark: Marker, flow: bool) -> Result<(), YamlError> {
        // go-yaml counts flow levels (`max_flow_level`) and block indents below the top node
        // (`max_indents`) apart; flow collections only ever nest inside block ones.
        let too_deep = if flow { self.flows >= MAX_DEPTH } else { self.stack.len() - self.flows > MAX_DEPTH };
        if too_deep {
            return Err(YamlError::TooDeep { line: mark.line().max(1) });
        }
        self.flows += usize::from(flow);
        self.stack.push(Frame { open, anchor, nodes: 1, aliases: 0, height: 0, flow });
        Ok(())
    }

    fn close(&mut self) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else { return Ok(()) };
        self.flows -= usize::from(frame.flow);
        let value = match frame.open {
            Open::Seq(items) => Value::Array(items),
            Open::Map(map, _) => Value::Object(map),
        };
        let node = Node { value, nodes: frame.nodes, aliases: frame.aliases, merge: false, height: frame.height + 1 };
        self.node(node, frame.anchor, Origin::Event)
    }

    fn alias(&mut self, id: usize) -> Result<(), YamlError> {
        let target = self.anchors.get(&id).ok_or(YamlError::UnknownAnchor)?;
        let node = Node { nodes: target.nodes + 1, aliases: target.aliases + 1, ..target.clone() };
        self.copy(node.nodes)?;
        self.node(node, 0, Origin::Alias)
    }

    fn copy(&mut self, nodes: u64) -> Result<(), YamlError> {
        self.copied += nodes;
        if self.copied > MAX_COPIED {
            return Err(YamlError::ExcessiveAliasing);
        }
        Ok(())
    }

    /// A complete node: remembered under its anchor, then placed in its parent.
    fn node(&mut self, node: Node, anchor: usize, origin: Origin) -> Result<(), YamlError> {
        self.count(&node, origin)?;
        if anchor != 0 {
            self.copy(node.nodes)?;
            self.anchors.insert(anchor, node.clone());
        }
        // The JSON decoder's limit on the value made (an alias can place a deep anchor deeper).
        if self.stack.len() + node.height > crate::apimachinery::json::MAX_DEPTH {
            return Err(YamlError::JsonTooDeep { bracket: if node.value.is_object() { '{' } else { '[' } });
        }
        let Some(parent) = self.stack.last_mut() else {
            self.done.get_or_insert(node);
            return Ok(());
        };
        parent.nodes += node.nodes;
        parent.aliases += node.aliases;
        // A merge's entries land one level up.
        let merged = matches!(parent.open, Open::Map(_, Key::Merge));
        parent.height = parent.height.max(if merged { node.height.saturating_sub(1) } else { node.height });
        match &mut parent.open {
            Open::Seq(items) => items.push(node.value),
            Open::Map(map, key) => match std::mem::replace(key, Key::None) {
                Key::None if node.merge => *key = Key::Merge,
                Key::None => *key = map_key(node.value),
                Key::Name(name) => {
                    map.insert(name, node.value);
                }
                Key::Merge => merge(map, node.value)?,
                Key::Invalid { kind, key } => return Err(YamlError::MapKey { kind, key, value: go_value(&node.value) }),
            },
        }
        Ok(())
    }

    /// go-yaml v2's guard against alias bombs: past 1,000 decoded nodes, aliased nodes may make up
    /// at most 99% of them, falling to 10% from 400,000 to 4,000,000 nodes.
    fn count(&mut self, node: &Node, origin: Origin) -> Result<(), YamlError> {
        if origin == Origin::Alias {
            self.decoded += node.nodes;
            self.aliased += node.aliases;
        } else {
            self.decoded += 1;
        }
        if self.aliased > 100 && self.decoded > 1000 && (self.aliased as f64 / self.decoded as f64) > allowed_alias_ratio(self.decoded) {
            return Err(YamlError::ExcessiveAliasing);
        }
        Ok(())
    }
}

fn allowed_alias_ratio(decoded: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    match decoded {
        d if d <= LOW => 0.99,
        d if d >= HIGH => 0.10,
        d => 0.99 - 0.89 * ((d - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

/// A mapping key as sigs.k8s.io/yaml makes it a JSON key.
fn map_key(key: Value) -> Key {
    match key {
        Value::String(s) => Key::Name(s),
        Value::Bool(b) => Key::Name(b.to_string()),
        Value::Number(n) => Key::Name(match n.as_f64() {
            // Go formats float keys with FormatFloat(f, 'g', -1, 32).
            Some(f) if n.is_f64() => format_float32(f),
            _ => n.to_string(),
        }),
        Value::Null => Key::Invalid { kind: "%!s(<nil>)", key: "<nil>".into() },
        Value::Array(_) => Key::Invalid { kind: "[]interface {}", key: go_value(&key) },
        Value::Object(_) => Key::Invalid { kind: "map[interface {}]interface {}", key: go_value(&key) },
    }
}

/// A value roughly as Go's `%+#v` prints it in sigs.k8s.io/yaml's key error.
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

fn format_float32(f: f64) -> String {
    let f = f as f32;
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// go-yaml v2's merge: a mapping's entries (or each mapping's of a sequence, earlier ones winning)
/// are set in the mapping being built.
fn merge(map: &mut Map<String, Value>, value: Value) -> Result<(), YamlError> {
    match value {
        Value::Object(entries) => {
            map.extend(entries);
            Ok(())
        }
        Value::Array(items) => {
            if !items.iter().all(Value::is_object) {
                return Err(YamlError::BadMerge);
            }
            for item in items.into_iter().rev() {
                if let Value::Object(entries) = item {
                    map.extend(entries);
                }
            }
            Ok(())
        }
        _ => Err(YamlError::BadMerge),
    }
}

const YAML_TAG: &str = "tag:yaml.org,2002:";

/// A scalar's JSON value: quoted ones are strings, plain ones resolve as go-yaml v2 resolves them,
/// tagged ones as their tag says.
fn scalar(text: String, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, YamlError> {
    let tag = tag.and_then(|t| (t.handle() == YAML_TAG).then_some(t.suffix()).or(Some("!")));
    match tag {
        None if style != ScalarStyle::Plain => Ok(Value::String(text)),
        None | Some("timestamp") => resolve(text),
        Some("str") => Ok(Value::String(text)),
        Some("binary") => {
            use base64::Engine;
            let compact: String = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(compact).map_err(|_| YamlError::BadBinary)?;
            Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Some(t @ ("int" | "float" | "bool" | "null")) => {
            let value = resolve(text.clone())?;
            let fits = match (t, &value) {
                ("int", Value::Number(n)) => n.is_i64() || n.is_u64(),
                ("float", Value::Number(_)) | ("bool", Value::Bool(_)) | ("null", Value::Null) => true,
                _ => false,
            };
            if fits {
                Ok(value)
            } else {
                Err(YamlError::BadTag { found: short_tag(&value), value: text, tag: format!("!!{t}") })
            }
        }
        // Tags go-yaml cannot resolve leave the text as it is.
        Some(_) => Ok(Value::String(text)),
    }
}

fn short_tag(v: &Value) -> &'static str {
    match v {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Number(n) if n.is_f64() => "!!float",
        Value::Number(_) => "!!int",
        _ => "!!str",
    }
}

/// go-yaml v2's `resolve` for an untagged plain scalar.
fn resolve(text: String) -> Result<Value, YamlError> {
    let Some(&first) = text.as_bytes().first() else { return Ok(Value::Null) };
    match text.as_str() {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return Ok(Value::Bool(true)),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => return Ok(Value::Bool(false)),
        "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        ".nan" | ".NaN" | ".NAN" => return Err(YamlError::NonFinite("NaN")),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Err(YamlError::NonFinite("+Inf")),
        "-.inf" | "-.Inf" | "-.INF" => return Err(YamlError::NonFinite("-Inf")),
        _ => {}
    }
    match first {
        b'.' => Ok(parse_float(&text).map_or(Value::String(text), float_value)),
        b'0'..=b'9' | b'+' | b'-' => {
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(i) = parse_go_int(&plain) {
                return Ok(i);
            }
            if yaml_style_float(&plain) {
                if let Some(f) = parse_float(&plain) {
                    return Ok(float_value(f));
                }
            }
            Ok(Value::String(text))
        }
        _ => Ok(Value::String(text)),
    }
}

fn parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A float as it reads after Go's `json.Marshal` and the apiserver's JSON decoding: integral
/// values below 1e21 print without a fraction and come back as integers.
fn float_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9_223_372_036_854_775_808.0 {
        return Value::from(f as i64);
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: a sign, then `0x`/`0o`/`0b`
/// or a leading `0` (octal) or decimal digits.
fn parse_go_int(s: &str) -> Option<Value> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = match unsigned.as_bytes() {
        [b'0', b'x' | b'X', ..] => (16, &unsigned[2..]),
        [b'0', b'o' | b'O', ..] => (8, &unsigned[2..]),
        [b'0', b'b' | b'B', ..] => (2, &unsigned[2..]),
        [b'0', _, ..] => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        // -9223372036854775808 fits; anything larger in magnitude does not parse.
        return (magnitude <= i64::MAX as u64 + 1).then(|| Value::from((magnitude as i128).wrapping_neg() as i64));
    }
    if s.starts_with('+') && magnitude > i64::MAX as u64 {
        return None; // ParseUint takes no sign
    }
    Some(Value::from(magnitude))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn y(s: &str) -> Value {
        to_json(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    /// Pinned against kube-apiserver v1.36.2: a preserve-unknown-fields custom resource posted as
    /// `application/yaml` with each scalar, read back as JSON.
    #[test]
    fn scalars_resolve_as_upstream() {
        let cases: &[(&str, Value)] = &[
            ("yes", json!(true)),
            ("Yes", json!(true)),
            ("YES", json!(true)),
            ("y", json!(true)),
            ("Y", json!(true)),
            ("no", json!(false)),
            ("n", json!(false)),
            ("on", json!(true)),
            ("Off", json!(false)),
            ("True", json!(true)),
            ("false", json!(false)),
            ("null", json!(null)),
            ("Null", json!(null)),
            ("~", json!(null)),
            ("", json!(null)),
            ("0x1F", json!(31)),
            ("0o17", json!(15)),
            ("017", json!(15)),
            ("0b101", json!(5)),
            ("0B11", json!(3)),
            ("1_000", json!(1000)),
            ("1__0", json!(10)),
            ("0x_1F", json!(31)),
            ("+12", json!(12)),
            ("-0", json!(0)),
            ("1e3", json!(1000)),
            ("1e+3", json!(1000)),
            ("0.1e1", json!(1)),
            ("1.5", json!(1.5)),
            ("1.0", json!(1)),
            ("-0.0", json!(0)),
            ("0.", json!(0)),
            (".5", json!(0.5)),
            ("+.5", json!(0.5)),
            ("-.5", json!(-0.5)),
            ("0777", json!(511)),
            ("08", json!(8)),
            ("6.8523015e+5", json!(685230.15)),
            ("685_230.15", json!(685230.15)),
            ("2001-12-14", json!("2001-12-14")),
            ("2001-12-14T21:59:43.10-05:00", json!("2001-12-14T21:59:43.10-05:00")),
            ("12:30:45", json!("12:30:45")),
            ("1:20", json!("1:20")),
            ("9223372036854775807", json!(9223372036854775807i64)),
            ("-9223372036854775808", json!(-9223372036854775808i64)),
            ("9223372036854775808", json!(9223372036854775808u64)),
            ("1e400", json!("1e400")),
            ("=", json!("=")),
            ("!!str 12", json!("12")),
            ("!!int \"12\"", json!(12)),
            ("\"12\"", json!("12")),
            ("'x''y'", json!("x'y")),
            ("!!binary aGk=", json!("hi")),
            ("!foo bar", json!("bar")),
            ("&a [1]", json!([1])),
            ("{a: 1, a: 2}", json!({"a": 2})),
            ("!!set {a, b}", json!({"a": null, "b": null})),
        ];
        for (text, want) in cases {
            assert_eq!(&y(&format!("x: {text}\n"))["x"], want, "{text}");
        }
    }

    #[test]
    fn refusals_read_as_upstream() {
        let err = |s: &str| to_json(s.as_bytes()).err().map(|e| e.to_string());
        assert_eq!(err("x: .inf\n").as_deref(), Some("json: unsupported value: +Inf"));
        assert_eq!(err("x: .nan\n").as_deref(), Some("json: unsupported value: NaN"));
        assert_eq!(err("x: [1, 2]: y\n").as_deref(), Some("yaml: line 1: mapping values are not allowed in this context"));
        assert!(err("x: *b\n").is_some_and(|e| e.starts_with("yaml: ")), "{:?}", err("x: *b\n"));
        assert_eq!(to_json(format!("x: {}", "[".repeat(150_000)).as_bytes()).err(), Some(YamlError::TooDeep { line: 1 }));
        assert!(to_json(format!("x: {}{}", "[".repeat(129), "]".repeat(129)).as_bytes()).is_ok());
        // Unclosed but within go-yaml's depth: the syntax error upstream reports too.
        assert!(matches!(to_json(format!("x: {}", "[".repeat(200)).as_bytes()), Err(YamlError::Syntax { .. })));
        assert_eq!(err(&format!("x:\n{}a", "- ".repeat(20_000))).as_deref(), Some("yaml: line 2: exceeded max depth of 10000"));
        // Flow nesting is read as deep as go-yaml reads it.
        assert!(to_json(format!("x: {}{}", "[".repeat(300), "]".repeat(300)).as_bytes()).is_ok());
        assert_eq!(to_json(b"\xff\xfe").err(), Some(YamlError::NotUtf8));
        // As kube-apiserver v1.36.2 answers them: go-yaml's problem texts, the scanner's errors on
        // their 1-based line, the parser's on the 0-based one, reader errors on none.
        assert_eq!(err("a: 1\nb:\n  k: v\n l: w\n").as_deref(), Some("yaml: line 3: did not find expected key"));
        assert_eq!(err("a: 1\ndata: {k: v, l: w\n").as_deref(), Some("yaml: line 2: did not find expected ',' or '}'"));
        assert_eq!(err(&format!("a: 1\ndata: {{{}: v}}\n", "k".repeat(1100))).as_deref(), Some("yaml: line 1: did not find expected ',' or '}'"));
        assert_eq!(err("a: 1\ndata:\n\tk: v\n").as_deref(), Some("yaml: line 3: found character that cannot start any token"));
        assert_eq!(err("a: 1\nk: @x\n").as_deref(), Some("yaml: line 2: found character that cannot start any token"));
        assert_eq!(err("a: 1\nk: `x\n").as_deref(), Some("yaml: line 2: found character that cannot start any token"));
        assert_eq!(err("a:\n  k: v\n  l:\u{a0}w\n").as_deref(), Some("yaml: line 4: could not find expected ':'"));
        assert_eq!(err("a:\n  k: v\n  l:\u{a0}w").as_deref(), Some("yaml: line 4: could not find expected ':'"));
        assert_eq!(err("a:\n  k: v\n  l:\u{a0}w\n\n\n# c\n\nb: 1\n").as_deref(), Some("yaml: line 6: could not find expected ':'"));
        assert_eq!(err("a: [1, 2\n").as_deref(), Some("yaml: line 1: did not find expected ',' or ']'"));
        assert_eq!(err("a: 'x\n").as_deref(), Some("yaml: line 2: found unexpected end of stream"));
        assert_eq!(err("a: \"x\n").as_deref(), Some("yaml: line 2: found unexpected end of stream"));
        assert_eq!(err("a:\n  k: a\u{7}b\n").as_deref(), Some("yaml: control characters are not allowed"));
        assert_eq!(err("k: \"a\u{1}\"\n").as_deref(), Some("yaml: control characters are not allowed"));
        assert_eq!(err("%YAML 1.2\n---\na: 1\n").as_deref(), Some("yaml: found incompatible YAML document"));
        assert_eq!(err("# c\n%YAML 1.2\n---\na: 1\n").as_deref(), Some("yaml: line 1: found incompatible YAML document"));
        assert_eq!(y("%YAML 1.1\n---\na: 1\n"), json!({"a": 1}));
        // A block scalar cut off by the end of input has no final newline (libyaml's reading).
        assert_eq!(y("k: |\n  text"), json!({"k": "text"}));
        assert_eq!(y("k: >\n  folded\n  more"), json!({"k": "folded more"}));
        assert_eq!(y("k: |\n  text\n"), json!({"k": "text\n"}));
        assert_eq!(y("k: |+\n  keep\n\n"), json!({"k": "keep\n\n"}));
        // Flow entries without a space after the colon are keys, as go-yaml reads them.
        assert_eq!(y("data: {k:v, l: w}\n"), json!({"data": {"k:v": null, "l": "w"}}));
    }

    #[test]
    fn documents_anchors_and_merges() {
        assert_eq!(y("a\n---\nb: 2\n"), json!("a"));
        assert_eq!(y(""), json!(null));
        assert_eq!(y("base: &b {x: 1, q: 2}\nuse: {<<: *b, q: 3}\n")["use"], json!({"x": 1, "q": 3}));
        // YAML 1.1, as go-yaml v2: a `y` key is `true`.
        assert_eq!(y("{y: 1}"), json!({"true": 1}));
        assert_eq!(y("a: &a {x: 1}\nb: &b {x: 2, z: 1}\nc: {<<: [*a, *b]}\n")["c"], json!({"x": 1, "z": 1}));
        assert_eq!(y("{1: a, 2.5: b, true: c}"), json!({"1": "a", "2.5": "b", "true": "c"}));
        assert!(matches!(to_json(b"{null: d}"), Err(YamlError::MapKey { .. })));
    }

    /// Depth limits as kube-apiserver v1.36.2 answers them (its messages read from it): block
    /// nesting to 10,000 levels below the top node, a JSON value to 10,000 containers, the line of
    /// the level too many; flow levels and block levels are counted apart, as go-yaml counts them.
    #[test]
    fn depth_limits_are_upstreams() {
        let run = std::thread::Builder::new().stack_size(crate::apimachinery::json::STACK_SIZE).spawn(|| {
            let block = |head: &str, n: usize| to_json(format!("{head}x:\n{}a\n", "- ".repeat(n)).as_bytes()).map(|_| ());
            assert_eq!(block("", 9_999), Ok(()));
            assert_eq!(block("", 10_000), Err(YamlError::JsonTooDeep { bracket: '[' }));
            assert_eq!(block("", 10_001).map_err(|e| e.to_string()), Err("yaml: line 2: exceeded max depth of 10000".into()));
            assert_eq!(block("a: 1\nb: 2\n", 10_001).map_err(|e| e.to_string()), Err("yaml: line 4: exceeded max depth of 10000".into()));
            let flow = |head: &str, open: &str, n: usize| to_json(format!("{head}x: {}{}", open.repeat(n), "]".repeat(n)).as_bytes()).map(|_| ());
            assert_eq!(flow("", "[", 9_999), Ok(()));
            assert_eq!(flow("", "[", 10_000), Err(YamlError::JsonTooDeep { bracket: '[' }));
            assert_eq!(flow("", "[", 10_001).map_err(|e| e.to_string()), Err("yaml: exceeded max depth of 10000".into()));
            assert_eq!(flow("a: 1\n", "[", 10_001).map_err(|e| e.to_string()), Err("yaml: line 2: exceeded max depth of 10000".into()));
            assert_eq!(flow("", "[\n  ", 10_001).map_err(|e| e.to_string()), Err("yaml: line 10001: exceeded max depth of 10000".into()));
            // A bomb that never closes.
            assert_eq!(to_json(format!("x: {}", "[".repeat(150_000)).as_bytes()), Err(YamlError::TooDeep { line: 1 }));
            // Quoted brackets are text.
            let quoted = to_json(format!("x: {}'{}'{}", "[".repeat(300), "[".repeat(20_000), "]".repeat(300)).as_bytes()).expect("read");
            let mut inner = &quoted["x"];
            for _ in 0..300 {
                inner = &inner[0];
            }
            assert_eq!(inner.as_str().map(str::len), Some(20_000));
            // A top-level flow document: 10,000 levels read (a JSON value too deep), the next refused.
            let top = |n: usize| to_json(format!("{}{}", "[".repeat(n), "]".repeat(n)).as_bytes());
            assert!(top(10_000).is_ok());
            assert_eq!(top(10_001), Err(YamlError::TooDeep { line: 1 }));
            // Block and flow levels are counted apart: 6,000 of each pass go-yaml's scanner and
            // make a JSON value too deep.
            let mixed = format!("x:\n{}{}{}\n", "- ".repeat(6_000), "[".repeat(6_000), "]".repeat(6_000));
            assert_eq!(to_json(mixed.as_bytes()), Err(YamlError::JsonTooDeep { bracket: '[' }));
            // An alias places a 6,000-deep anchor 6,000 deep: a JSON value too deep.
            let doc = format!("a: &a\n{}x\nb:\n{}*a\n", "- ".repeat(6_000), "- ".repeat(6_000));
            assert!(to_json(format!("a: &a\n{}x\nb: *a\n", "- ".repeat(6_000)).as_bytes()).is_ok());
            assert_eq!(to_json(doc.as_bytes()), Err(YamlError::JsonTooDeep { bracket: '[' }));
        });
        run.expect("thread").join().expect("no overflow");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        assert_eq!(to_json(doc.as_bytes()).err(), Some(YamlError::ExcessiveAliasing));
        // A few aliases of a small anchor are fine.
        assert!(to_json(b"a: &a {x: 1}\nb: *a\nc: *a\n").is_ok());
    }
}
