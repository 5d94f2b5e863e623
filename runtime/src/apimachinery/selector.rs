//! Label and field selectors: upstream's `labels.Parse` / `fields.ParseSelector` grammars, canonical
//! strings, error messages and matching, plus `metav1.LabelSelectorAsSelector` for the wire type.
//!
//! The parsed forms are [`Labels`] and [`Fields`] (the name `LabelSelector` belongs to the wire type
//! in [`super::meta`]). Every error is a [`SelectorError`] whose text is upstream's, byte for byte.

use std::fmt;

use super::go;
use super::meta::LabelSelector;
use super::validation::{is_qualified_name, is_valid_label_value};

/// A selector parse error; `Display` is upstream's message (it becomes a 400 `BadRequest` Status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

/// A label selector operator (`selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelOp {
    /// `key in (a,b)`.
    In,
    /// `key notin (a,b)`: also matches objects without the label.
    NotIn,
    /// `key=value`.
    Equals,
    /// `key==value` (same meaning as `=`, kept apart because the canonical string keeps `==`).
    DoubleEquals,
    /// `key!=value`: also matches objects without the label.
    NotEquals,
    /// `key`: the label exists.
    Exists,
    /// `!key`: the label does not exist.
    DoesNotExist,
    /// `key>n` (integer comparison).
    GreaterThan,
    /// `key<n` (integer comparison).
    LessThan,
}

/// One requirement of a label selector: `key`, operator and values (upstream's `labels.Requirement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRequirement {
    /// The label key.
    pub key: String,
    /// The operator.
    pub op: LabelOp,
    /// The values (empty for `Exists`/`DoesNotExist`, one for `=`/`==`/`!=`/`>`/`<`).
    pub values: Vec<String>,
}

impl LabelRequirement {
    /// Whether this requirement holds for the labels `get` returns.
    pub fn matches<'a>(&self, get: &impl Fn(&str) -> Option<&'a str>) -> bool {
        let has = |v: &str| self.values.iter().any(|x| x == v);
        match self.op {
            LabelOp::In | LabelOp::Equals | LabelOp::DoubleEquals => get(&self.key).is_some_and(has),
            LabelOp::NotIn | LabelOp::NotEquals => get(&self.key).is_none_or(|v| !has(v)),
            LabelOp::Exists => get(&self.key).is_some(),
            LabelOp::DoesNotExist => get(&self.key).is_none(),
            LabelOp::GreaterThan | LabelOp::LessThan => {
                let Some(actual) = get(&self.key).and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                let [bound] = self.values.as_slice() else {
                    return false;
                };
                let Ok(bound) = bound.parse::<i64>() else {
                    return false;
                };
                if self.op == LabelOp::GreaterThan {
                    actual > bound
                } else {
                    actual < bound
                }
            }
        }
    }
}

impl fmt::Display for LabelRequirement {
    /// Upstream's `Requirement.String()`: `!key`, `key`, `key=v`, `key in (a,b)` with sorted values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == LabelOp::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (op, parens) = match self.op {
            LabelOp::Equals => ("=", false),
            LabelOp::DoubleEquals => ("==", false),
            LabelOp::NotEquals => ("!=", false),
            LabelOp::In => (" in ", true),
            LabelOp::NotIn => (" notin ", true),
            LabelOp::GreaterThan => (">", false),
            LabelOp::LessThan => ("<", false),
            LabelOp::Exists | LabelOp::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        if parens {
            f.write_str("(")?;
        }
        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        f.write_str(&values.join(","))?;
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A parsed label selector: the AND of its requirements, sorted by key as upstream sorts them.
/// The empty selector ([`Labels::everything`]) matches every object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    requirements: Vec<LabelRequirement>,
}

impl Labels {
    /// The selector that matches everything (`labels.Everything()`).
    pub fn everything() -> Labels {
        Labels::default()
    }

    /// True when the selector does not restrict anything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[LabelRequirement] {
        &self.requirements
    }

    /// Whether the labels `get` returns (`None` = label absent) satisfy every requirement.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.matches(&get))
    }

    /// Upstream's `RequiresExactMatch`: the single value the first requirement on `label` pins it
    /// to (`=`, `==`, or `in` with one value), if any.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match (r.op, r.values.as_slice()) {
            (LabelOp::Equals | LabelOp::DoubleEquals | LabelOp::In, [v]) => Some(v),
            _ => None,
        }
    }

    fn from_requirements(mut requirements: Vec<LabelRequirement>) -> Labels {
        // Upstream sorts with sort.Sort (insertion sort, hence stable, for the usual short lists).
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Labels { requirements }
    }
}

impl fmt::Display for Labels {
    /// Upstream's canonical `String()`: requirements joined by `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Parses a label selector (`labels.Parse`): comma-separated requirements `key`, `!key`, `key=v`,
/// `key==v`, `key!=v`, `key in (a,b)`, `key notin (a,b)`, `key>n`, `key<n`; keys are qualified
/// names, values label values. Errors carry upstream's texts (`unable to parse requirement: ...`,
/// `found 'x', expected: ...`).
pub fn parse_labels(s: &str) -> Result<Labels, SelectorError> {
    let tokens = lex(s);
    let mut p = Parser { tokens, pos: 0 };
    p.parse().map(Labels::from_requirements).map_err(SelectorError)
}

/// `metav1.LabelSelectorAsSelector` for a present selector: `matchLabels` become `=` requirements,
/// `matchExpressions` `In`/`NotIn`/`Exists`/`DoesNotExist`; an empty selector matches everything.
///
/// A *nil* selector has the opposite meaning upstream (`labels.Nothing()`: it matches no object),
/// which this signature cannot express: callers holding an `Option<&LabelSelector>` must treat
/// `None` as "matches nothing" themselves (unless the API field documents otherwise).
pub fn labels_from_meta(sel: &LabelSelector) -> Result<Labels, SelectorError> {
    let mut requirements = Vec::with_capacity(sel.match_labels.len() + sel.match_expressions.len());
    for (k, v) in &sel.match_labels {
        requirements.push(new_requirement(k, LabelOp::Equals, vec![v.clone()], None)?);
    }
    for expr in &sel.match_expressions {
        let op = match expr.operator.as_str() {
            "In" => LabelOp::In,
            "NotIn" => LabelOp::NotIn,
            "Exists" => LabelOp::Exists,
            "DoesNotExist" => LabelOp::DoesNotExist,
            other => {
                return Err(SelectorError(format!("{} is not a valid label selector operator", go::quote(other))))
            }
        };
        requirements.push(new_requirement(&expr.key, op, expr.values.clone(), None)?);
    }
    Ok(Labels::from_requirements(requirements))
}

/// `field.Invalid(path, value, detail).Error()` for a string value.
fn invalid(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {}: {detail}", go::quote(value))
}

/// Go's `%#v` of a `[]string` (`[]string(nil)` when empty, as a nil slice prints).
fn go_string_slice(values: &[String]) -> String {
    if values.is_empty() {
        return "[]string(nil)".into();
    }
    let quoted: Vec<String> = values.iter().map(|v| go::quote(v)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// `utilerrors.NewAggregate(errs).Error()`: one message as is, several deduplicated in brackets.
fn aggregate(errs: Vec<String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// `labels.NewRequirement` with a nil field path: validates the key, the value count for the
/// operator and every value. `key_path` is `Some("<nil>")` when the parser already validated the
/// key (so only values can fail); `None` validates the key under the path `key`.
fn new_requirement(
    key: &str,
    op: LabelOp,
    values: Vec<String>,
    key_path: Option<&str>,
) -> Result<LabelRequirement, SelectorError> {
    let mut errs = Vec::new();
    let key_errs = is_qualified_name(key);
    if !key_errs.is_empty() {
        errs.push(invalid(key_path.unwrap_or("key"), key, &key_errs.join("; ")));
    }
    match op {
        LabelOp::In | LabelOp::NotIn if values.is_empty() => errs.push(format!(
            "values: Invalid value: {}: for 'in', 'notin' operators, values set can't be empty",
            go_string_slice(&values)
        )),
        LabelOp::Equals | LabelOp::DoubleEquals | LabelOp::NotEquals if values.len() != 1 => errs.push(format!(
            "values: Invalid value: {}: exact-match compatibility requires one single value",
            go_string_slice(&values)
        )),
        LabelOp::Exists | LabelOp::DoesNotExist if !values.is_empty() => errs.push(format!(
            "values: Invalid value: {}: values set must be empty for exists and does not exist",
            go_string_slice(&values)
        )),
        LabelOp::GreaterThan | LabelOp::LessThan => {
            if values.len() != 1 {
                errs.push(format!(
                    "values: Invalid value: {}: for 'Gt', 'Lt' operators, exactly one value is required",
                    go_string_slice(&values)
                ));
            }
            for (i, v) in values.iter().enumerate() {
                if v.parse::<i64>().is_err() {
                    errs.push(invalid(
                        &format!("values[{i}]"),
                        v,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    ));
                }
            }
        }
        _ => {}
    }
    for (i, v) in values.iter().enumerate() {
        let value_errs = is_valid_label_value(v);
        if !value_errs.is_empty() {
            errs.push(invalid(&format!("values[{i}][{key}]"), v, &value_errs.join("; ")));
        }
    }
    if errs.is_empty() {
        Ok(LabelRequirement { key: key.to_string(), op, values })
    } else {
        Err(SelectorError(aggregate(errs)))
    }
}

/// Lexer tokens of the label selector grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// Upstream's `string2token`, minus identifiers.
fn keyword(s: &str) -> Option<Tok> {
    Some(match s {
        ")" => Tok::ClosedPar,
        "," => Tok::Comma,
        "!" => Tok::DoesNotExist,
        "==" => Tok::DoubleEquals,
        "=" => Tok::Equals,
        ">" => Tok::GreaterThan,
        "in" => Tok::In,
        "<" => Tok::LessThan,
        "!=" => Tok::NotEquals,
        "notin" => Tok::NotIn,
        "(" => Tok::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Upstream's byte lexer. Like Go's `read()`, a NUL byte reads as "end" (and is consumed).
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn read(&mut self) -> u8 {
        match self.s.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(self.s.get(from..to).unwrap_or_default()).into_owned()
    }

    fn lex(&mut self) -> (Tok, String) {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return (Tok::EndOfString, String::new());
        }
        self.unread();
        let start = self.pos;
        if is_special(ch) {
            // Longest run of special symbols that still forms a token.
            let mut last: Option<(Tok, usize)> = None;
            loop {
                let c = self.read();
                if c == 0 {
                    break;
                }
                if !is_special(c) {
                    self.unread();
                    break;
                }
                match keyword(&self.text(start, self.pos)) {
                    Some(tok) => last = Some((tok, self.pos)),
                    None if last.is_some() => {
                        self.unread();
                        break;
                    }
                    None => {}
                }
            }
            return match last {
                Some((tok, end)) => (tok, self.text(start, end)),
                None => (Tok::Identifier, format!("error expected: keyword found '{}'", self.text(start, self.pos))),
            };
        }
        let mut end = start;
        loop {
            let c = self.read();
            if c == 0 {
                break;
            }
            if is_special(c) || is_whitespace(c) {
                self.unread();
                break;
            }
            end = self.pos;
        }
        let word = self.text(start, end);
        match keyword(&word) {
            Some(tok) => (tok, word),
            None => (Tok::Identifier, word),
        }
    }
}

fn lex(s: &str) -> Vec<(Tok, String)> {
    let mut lexer = Lexer { s: s.as_bytes(), pos: 0 };
    let mut tokens = Vec::new();
    loop {
        let (tok, lit) = lexer.lex();
        tokens.push((tok, lit));
        if tok == Tok::EndOfString {
            return tokens;
        }
    }
}

/// Whether `in`/`notin` are keywords (after a key) or plain identifiers (keys and values).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    KeyAndOperator,
    Values,
}

struct Parser {
    tokens: Vec<(Tok, String)>,
    pos: usize,
}

impl Parser {
    fn lookahead(&self, ctx: Ctx) -> (Tok, String) {
        let (tok, lit) = self.tokens.get(self.pos).cloned().unwrap_or((Tok::EndOfString, String::new()));
        match tok {
            Tok::In | Tok::NotIn if ctx == Ctx::Values => (Tok::Identifier, lit),
            _ => (tok, lit),
        }
    }

    fn consume(&mut self, ctx: Ctx) -> (Tok, String) {
        let t = self.lookahead(ctx);
        self.pos += 1;
        t
    }

    fn parse(&mut self) -> Result<Vec<LabelRequirement>, String> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Ctx::Values);
            match tok {
                Tok::Identifier | Tok::DoesNotExist => {
                    let r = self.parse_requirement().map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Ctx::Values);
                    match t {
                        Tok::EndOfString => return Ok(requirements),
                        Tok::Comma => {
                            let (t2, l2) = self.lookahead(Ctx::Values);
                            if t2 != Tok::Identifier && t2 != Tok::DoesNotExist {
                                return Err(format!("found '{l2}', expected: identifier after ','"));
                            }
                        }
                        _ => return Err(format!("found '{l}', expected: ',' or 'end of string'")),
                    }
                }
                Tok::EndOfString => return Ok(requirements),
                _ => return Err(format!("found '{lit}', expected: !, identifier, or 'end of string'")),
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<LabelRequirement, String> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(op) = inferred {
            return new_requirement(&key, op, Vec::new(), Some("<nil>")).map_err(|e| e.0);
        }
        let op = self.parse_operator()?;
        let values = match op {
            LabelOp::In | LabelOp::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        new_requirement(&key, op, values, Some("<nil>")).map_err(|e| e.0)
    }

    /// The key, and `Exists`/`DoesNotExist` when no binary operator follows.
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<LabelOp>), String> {
        let (mut tok, mut lit) = self.consume(Ctx::Values);
        let negated = tok == Tok::DoesNotExist;
        if negated {
            (tok, lit) = self.consume(Ctx::Values);
        }
        if tok != Tok::Identifier {
            return Err(format!("found '{lit}', expected: identifier"));
        }
        let errs = is_qualified_name(&lit);
        if !errs.is_empty() {
            return Err(invalid("<nil>", &lit, &errs.join("; ")));
        }
        if negated {
            // `!key` is complete whatever follows; the caller then expects `,` or the end.
            return Ok((lit, Some(LabelOp::DoesNotExist)));
        }
        let (next, _) = self.lookahead(Ctx::Values);
        Ok((lit, (next == Tok::EndOfString || next == Tok::Comma).then_some(LabelOp::Exists)))
    }

    fn parse_operator(&mut self) -> Result<LabelOp, String> {
        let (tok, lit) = self.consume(Ctx::KeyAndOperator);
        Ok(match tok {
            Tok::In => LabelOp::In,
            Tok::Equals => LabelOp::Equals,
            Tok::DoubleEquals => LabelOp::DoubleEquals,
            Tok::GreaterThan => LabelOp::GreaterThan,
            Tok::LessThan => LabelOp::LessThan,
            Tok::NotIn => LabelOp::NotIn,
            Tok::NotEquals => LabelOp::NotEquals,
            _ => return Err(format!("found '{lit}', expected: in, notin, =, ==, !=, gt, lt")),
        })
    }

    /// `(a,b,...)`: a sorted set, `()` meaning the empty string.
    fn parse_values(&mut self) -> Result<Vec<String>, String> {
        let (tok, lit) = self.consume(Ctx::Values);
        if tok != Tok::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Ctx::Values);
        match tok {
            Tok::Identifier | Tok::Comma => {
                let set = self.parse_identifiers_list()?;
                if self.consume(Ctx::Values).0 != Tok::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(set)
            }
            Tok::ClosedPar => {
                self.consume(Ctx::Values);
                Ok(vec![String::new()])
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, String> {
        fn insert(set: &mut Vec<String>, v: String) {
            if let Err(i) = set.binary_search(&v) {
                set.insert(i, v);
            }
        }
        let mut set: Vec<String> = Vec::new();
        loop {
            let (tok, lit) = self.consume(Ctx::Values);
            match tok {
                Tok::Identifier => {
                    insert(&mut set, lit);
                    let (tok2, lit2) = self.lookahead(Ctx::Values);
                    match tok2 {
                        Tok::Comma => continue,
                        Tok::ClosedPar => return Ok(set),
                        _ => return Err(format!("found '{lit2}', expected: ',' or ')'")),
                    }
                }
                Tok::Comma => {
                    if set.is_empty() {
                        insert(&mut set, String::new());
                    }
                    match self.lookahead(Ctx::Values).0 {
                        Tok::ClosedPar => {
                            insert(&mut set, String::new());
                            return Ok(set);
                        }
                        Tok::Comma => {
                            self.consume(Ctx::Values);
                            insert(&mut set, String::new());
                        }
                        _ => {}
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<Vec<String>, String> {
        let (tok, _) = self.lookahead(Ctx::Values);
        if tok == Tok::EndOfString || tok == Tok::Comma {
            return Ok(vec![String::new()]);
        }
        let (tok, lit) = self.consume(Ctx::Values);
        if tok == Tok::Identifier {
            Ok(vec![lit])
        } else {
            Err(format!("found '{lit}', expected: identifier"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------------

/// A field selector operator. `==` parses to [`FieldOp::Equals`] (upstream keeps no difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOp {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

/// One requirement of a field selector (upstream's `fields.Requirement`), value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The operator.
    pub op: FieldOp,
    /// The literal value (escapes removed).
    pub value: String,
}

impl fmt::Display for FieldRequirement {
    /// `field=value` / `field!=value` with `\`, `,` and `=` escaped in the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            FieldOp::Equals => "=",
            FieldOp::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_field_value(&self.value))
    }
}

/// A parsed field selector: the AND of its requirements, in upstream's order (terms sorted as
/// written). The empty selector ([`Fields::everything`]) matches every object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    requirements: Vec<FieldRequirement>,
}

impl Fields {
    /// The selector that matches everything (`fields.Everything()`).
    pub fn everything() -> Fields {
        Fields::default()
    }

    /// True when the selector does not restrict anything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// Whether the fields `get` returns satisfy every requirement; a field `get` does not know
    /// (`None`) reads as the empty string, as upstream's `fields.Set` does.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| {
            let actual = get(&r.field).unwrap_or("");
            match r.op {
                FieldOp::Equals => actual == r.value,
                FieldOp::NotEquals => actual != r.value,
            }
        })
    }

    /// The value of the first `field=value` requirement on `field` (`RequiresExactMatch`), e.g. for
    /// the `metadata.name` fast path.
    pub fn exact_value(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.op == FieldOp::Equals && r.field == field)
            .map(|r| r.value.as_str())
    }
}

impl fmt::Display for Fields {
    /// Upstream's `String()`: requirements joined by `,`, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// `fields.EscapeValue`: prefixes `\`, `,` and `=` with a backslash.
pub fn escape_field_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `fields.UnescapeValue`.
fn unescape_field_value(s: &str) -> Result<String, SelectorError> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(SelectorError(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                )));
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Upstream prints the rune with %v, i.e. as its code point number.
            ',' | '=' => {
                return Err(SelectorError(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )))
            }
            c => out.push(c),
        }
    }
    if in_slash {
        return Err(SelectorError("invalid field selector: invalid escape sequence: \\".into()));
    }
    Ok(out)
}

/// Splits on commas not escaped by a backslash (escapes stay in the terms).
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits a term at the first operator (`!=`, `==`, `=`, tried in that order at each position).
fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (tok, op) in [("!=", FieldOp::NotEquals), ("==", FieldOp::Equals), ("=", FieldOp::Equals)] {
            if let Some(value) = rest.strip_prefix(tok) {
                return Some((&term[..i], op, value));
            }
        }
    }
    None
}

/// Parses a field selector (`fields.ParseSelector`): comma-separated `field=value`, `field==value`
/// or `field!=value`, with `\,`, `\=` and `\\` escapes in values. Terms are kept sorted as
/// upstream sorts them; a term with empty field and value (`=`) is dropped.
pub fn parse_fields(s: &str) -> Result<Fields, SelectorError> {
    let mut terms = split_terms(s);
    terms.sort_unstable();
    let mut requirements = Vec::new();
    for term in terms {
        if term.is_empty() {
            continue;
        }
        let Some((field, op, raw)) = split_term(term) else {
            return Err(SelectorError(format!("invalid selector: '{s}'; can't understand '{term}'")));
        };
        let value = unescape_field_value(raw)?;
        if field.is_empty() && value.is_empty() {
            continue;
        }
        requirements.push(FieldRequirement { field: field.to_string(), op, value });
    }
    Ok(Fields { requirements })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::apimachinery::meta::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn label_matches(sel: &str, set: &[(&str, &str)]) -> bool {
        let m = labels(set);
        parse_labels(sel).expect("parse").matches(|k| m.get(k).map(String::as_str))
    }

    fn label_err(sel: &str) -> String {
        parse_labels(sel).expect_err("should fail").0
    }

    const NAME_PART_ERR: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    #[test]
    fn label_grammar_round_trips_canonically() {
        let cases = [
            ("", ""),
            ("x=a", "x=a"),
            ("x=a,y!=b", "x=a,y!=b"),
            ("y!=b,x=a", "x=a,y!=b"),
            ("x==a", "x==a"),
            ("x=", "x="),
            ("x= ", "x="),
            ("x=,z= ", "x=,z="),
            (" x = a , y = b ", "x=a,y=b"),
            ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
            ("x in (b,a,a)", "x in (a,b)"),
            ("x in (,a)", "x in (,a)"),
            ("x in (a,)", "x in (,a)"),
            ("!x", "!x"),
            ("x,!y", "x,!y"),
            ("!y,x", "x,!y"),
            ("x>1", "x>1"),
            ("x<10,y>0", "x<10,y>0"),
            ("example.com/x in (a)", "example.com/x in (a)"),
            ("in in (in,notin)", "in in (in,notin)"),
            ("notin=in", "notin=in"),
            ("a\tin\n(x)", "a in (x)"),
            ("x=a,x!=b", "x=a,x!=b"),
        ];
        for (input, want) in cases {
            let sel = parse_labels(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), want, "input {input:?}");
        }
        assert!(parse_labels("").expect("parse").is_empty());
        assert!(parse_labels("  ").expect("parse").is_empty());
        assert!(Labels::everything().is_empty());
    }

    #[test]
    fn label_requirements_are_sorted_by_key() {
        let sel = parse_labels("c,b=1,a notin (x)").expect("parse");
        let keys: Vec<&str> = sel.requirements().iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(sel.requirements()[0].op, LabelOp::NotIn);
        assert_eq!(sel.requirements()[2].op, LabelOp::Exists);
    }

    #[test]
    fn label_syntax_errors() {
        let cases = [
            ("x=a b", "found 'b', expected: ',' or 'end of string'"),
            ("x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"),
            ("x=a,", "found '', expected: identifier after ','"),
            ("x=a,,y", "found ',', expected: identifier after ','"),
            (",x", "found ',', expected: !, identifier, or 'end of string'"),
            ("=a", "found '=', expected: !, identifier, or 'end of string'"),
            ("x in", "unable to parse requirement: found '' expected: '('"),
            ("x in a", "unable to parse requirement: found 'a' expected: '('"),
            ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
            ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
            ("x in (a,", "unable to parse requirement: found '', expected: ',', or identifier"),
            ("x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
            ("x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
            ("x==(", "unable to parse requirement: found '(', expected: identifier"),
            ("!", "unable to parse requirement: found '', expected: identifier"),
            ("!=", "found '!=', expected: !, identifier, or 'end of string'"),
            ("x>=1", "unable to parse requirement: found '=', expected: identifier"),
            ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ];
        for (input, want) in cases {
            assert_eq!(label_err(input), want, "input {input:?}");
        }
    }

    #[test]
    fn label_validation_errors() {
        assert_eq!(
            label_err("app:monolith"),
            format!("unable to parse requirement: <nil>: Invalid value: \"app:monolith\": {NAME_PART_ERR}")
        );
        assert_eq!(
            label_err("*bar=x"),
            format!("unable to parse requirement: <nil>: Invalid value: \"*bar\": {NAME_PART_ERR}")
        );
        assert_eq!(
            label_err("a/b/c ?=? def"),
            // kube-apiserver v1.36's words (`kubectl get cm -l 'a/b/c ?=? def'`).
            "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        );
        assert_eq!(
            label_err("app.kubernetes_io/name=x"),
            "unable to parse requirement: <nil>: Invalid value: \"app.kubernetes_io/name\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
        let long = "a".repeat(64);
        assert_eq!(
            label_err(&format!("x={long}")),
            format!("unable to parse requirement: values[0][x]: Invalid value: \"{long}\": must be no more than 63 bytes")
        );
        assert!(label_err("x in (a@,b)").starts_with(
            "unable to parse requirement: values[0][x]: Invalid value: \"a@\": a valid label must be an empty string"
        ));
        assert!(label_err("x in (-a,b-)").starts_with("unable to parse requirement: [values[0][x]: Invalid value: \"-a\""));
        assert_eq!(
            label_err("x>abc"),
            "unable to parse requirement: values[0]: Invalid value: \"abc\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
        assert!(label_err("x>-1").starts_with("unable to parse requirement: values[0][x]: Invalid value: \"-1\""));
    }

    #[test]
    fn label_matching() {
        assert!(label_matches("", &[]));
        assert!(label_matches("x=a", &[("x", "a")]));
        assert!(!label_matches("x=a", &[("x", "b")]));
        assert!(!label_matches("x=a", &[]));
        assert!(label_matches("x==a", &[("x", "a")]));
        assert!(label_matches("x=", &[("x", "")]));
        assert!(!label_matches("x=", &[]));
        assert!(label_matches("x!=a", &[]));
        assert!(label_matches("x!=a", &[("x", "b")]));
        assert!(!label_matches("x!=a", &[("x", "a")]));
        assert!(label_matches("x in (a,b)", &[("x", "b")]));
        assert!(!label_matches("x in (a,b)", &[("x", "c")]));
        assert!(!label_matches("x in (a,b)", &[]));
        assert!(label_matches("x notin (a,b)", &[]));
        assert!(label_matches("x notin (a,b)", &[("x", "c")]));
        assert!(!label_matches("x notin (a,b)", &[("x", "a")]));
        assert!(label_matches("x in ()", &[("x", "")]));
        assert!(label_matches("x", &[("x", "")]));
        assert!(!label_matches("x", &[("y", "")]));
        assert!(label_matches("!x", &[("y", "")]));
        assert!(!label_matches("!x", &[("x", "1")]));
        assert!(label_matches("x>1", &[("x", "2")]));
        assert!(!label_matches("x>1", &[("x", "1")]));
        assert!(!label_matches("x>1", &[("x", "abc")]));
        assert!(!label_matches("x>1", &[]));
        assert!(label_matches("x<1", &[("x", "0")]));
        assert!(label_matches("x=a,y,!z", &[("x", "a"), ("y", "q")]));
        assert!(!label_matches("x=a,y,!z", &[("x", "a"), ("y", "q"), ("z", "")]));
    }

    #[test]
    fn label_exact_match() {
        let sel = parse_labels("a=1,b in (2),c in (3,4),d!=5").expect("parse");
        assert_eq!(sel.requires_exact_match("a"), Some("1"));
        assert_eq!(sel.requires_exact_match("b"), Some("2"));
        assert_eq!(sel.requires_exact_match("c"), None);
        assert_eq!(sel.requires_exact_match("d"), None);
        assert_eq!(sel.requires_exact_match("e"), None);
    }

    fn meta(match_labels: &[(&str, &str)], exprs: &[(&str, &str, &[&str])]) -> LabelSelector {
        LabelSelector {
            match_labels: labels(match_labels),
            match_expressions: exprs
                .iter()
                .map(|(k, op, vals)| LabelSelectorRequirement {
                    key: k.to_string(),
                    operator: op.to_string(),
                    values: vals.iter().map(|v| v.to_string()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn label_selector_from_meta() {
        let empty = labels_from_meta(&LabelSelector::default()).expect("empty");
        assert!(empty.is_empty());
        assert!(empty.matches(|_| None));

        let sel = labels_from_meta(&meta(
            &[("app", "web")],
            &[("tier", "In", &["b", "a"]), ("env", "NotIn", &["prod"]), ("gpu", "DoesNotExist", &[]), ("zone", "Exists", &[])],
        ))
        .expect("valid");
        assert_eq!(sel.to_string(), "app=web,env notin (prod),!gpu,tier in (a,b),zone");
        let set = labels(&[("app", "web"), ("tier", "a"), ("zone", "z1")]);
        assert!(sel.matches(|k| set.get(k).map(String::as_str)));
        let set = labels(&[("app", "web"), ("tier", "a"), ("zone", "z1"), ("gpu", "1")]);
        assert!(!sel.matches(|k| set.get(k).map(String::as_str)));
    }

    #[test]
    fn label_selector_from_meta_errors() {
        let err = |s: LabelSelector| labels_from_meta(&s).expect_err("invalid").0;
        assert_eq!(err(meta(&[], &[("a", "Seriously", &[])])), "\"Seriously\" is not a valid label selector operator");
        assert_eq!(
            err(meta(&[], &[("name", "In", &[])])),
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            err(meta(&[], &[("name", "Exists", &["a", "b"])])),
            "values: Invalid value: []string{\"a\", \"b\"}: values set must be empty for exists and does not exist"
        );
        let z = "z".repeat(64);
        assert_eq!(
            err(meta(&[("good-key", z.as_str())], &[])),
            format!("values[0][good-key]: Invalid value: \"{z}\": must be no more than 63 bytes")
        );
        assert_eq!(
            err(meta(&[("a b", "c")], &[])),
            format!("key: Invalid value: \"a b\": {NAME_PART_ERR}")
        );
        assert!(err(meta(&[], &[("a b", "NotIn", &[])])).starts_with("[key: Invalid value: \"a b\""));
    }

    fn field_matches(sel: &str, set: &[(&str, &str)]) -> bool {
        let m = labels(set);
        parse_fields(sel).expect("parse").matches(|k| m.get(k).map(String::as_str))
    }

    #[test]
    fn field_grammar_and_canonical_string() {
        let cases = [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("b=1,a=2", "a=2,b=1"),
            ("a=b,", "a=b"),
            (",,a=b", "a=b"),
            ("a=", "a="),
            ("=", ""),
            ("=,a=b", "a=b"),
            ("a=x\\,y", "a=x\\,y"),
            ("a=x\\=y\\\\z", "a=x\\=y\\\\z"),
            ("metadata.name=foo,spec.nodeName!=", "metadata.name=foo,spec.nodeName!="),
            ("a!b=c", "a!b=c"),
        ];
        for (input, want) in cases {
            let sel = parse_fields(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), want, "input {input:?}");
        }
        assert!(parse_fields("").expect("parse").is_empty());
        assert!(parse_fields("=").expect("parse").is_empty());
        assert!(Fields::everything().is_empty());
        let sel = parse_fields("a=x\\,y").expect("parse");
        assert_eq!(
            sel.requirements(),
            &[FieldRequirement { field: "a".into(), op: FieldOp::Equals, value: "x,y".into() }]
        );
        assert_eq!(escape_field_value("a\\b,c=d"), "a\\\\b\\,c\\=d");
    }

    #[test]
    fn field_errors() {
        let err = |s: &str| parse_fields(s).expect_err("invalid").0;
        assert_eq!(err("x"), "invalid selector: 'x'; can't understand 'x'");
        assert_eq!(err("a=b,x"), "invalid selector: 'a=b,x'; can't understand 'x'");
        assert_eq!(err("a=b=c"), "invalid field selector: unescaped character in value: 61");
        assert_eq!(err("a=b\\!"), "invalid field selector: invalid escape sequence: \\!");
        assert_eq!(err("a=b\\"), "invalid field selector: invalid escape sequence: \\");
        // Sorted terms: the error names the first bad term in sorted order.
        assert_eq!(err("z,y"), "invalid selector: 'z,y'; can't understand 'y'");
    }

    #[test]
    fn field_matching_and_exact_value() {
        assert!(field_matches("", &[]));
        assert!(field_matches("metadata.name=foo", &[("metadata.name", "foo")]));
        assert!(!field_matches("metadata.name=foo", &[("metadata.name", "bar")]));
        assert!(field_matches("spec.nodeName=", &[]));
        assert!(!field_matches("spec.nodeName!=", &[]));
        assert!(field_matches("a!=x", &[]));
        assert!(field_matches("a=1,b!=2", &[("a", "1"), ("b", "3")]));
        assert!(!field_matches("a=1,b!=2", &[("a", "1"), ("b", "2")]));

        let sel = parse_fields("metadata.name!=x,metadata.name==foo,metadata.namespace=ns").expect("parse");
        assert_eq!(sel.exact_value("metadata.name"), Some("foo"));
        assert_eq!(sel.exact_value("metadata.namespace"), Some("ns"));
        assert_eq!(sel.exact_value("spec.x"), None);
        assert_eq!(parse_fields("a!=b").expect("parse").exact_value("a"), None);
    }
}
