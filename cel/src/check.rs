//! The type checker and the cost estimator cel-rust does not have: one walk over the parsed AST that
//! types every node against the declared type of `self` (cel-go's `checker`), reports what cel-go
//! reports at CRD creation (`undefined field`, `undeclared reference`, `found no matching overload`)
//! and estimates the worst-case cost with cel-go's cost model (`checker/cost.go`: identifiers and
//! selections 1, literals 0, list literals 10, map literals 30, string traversals 0.1 per byte,
//! comprehensions their body times the range's size bound).
//!
//! The same walk prices an evaluation: given a declared type whose size bounds are the actual sizes
//! of the value at hand, its estimate bounds the actual cost of the call (see `lib.rs`).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use cel::common::ast::{operators, EntryExpr, Expr, IdedExpr, LiteralValue};

use crate::decl::{DeclKind, DeclType};

/// A CEL type as the checker sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty<'d> {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Null,
    Duration,
    Timestamp,
    /// Any type (and the type of an erroneous node, so one mistake is reported once).
    Dyn,
    /// A type value (`int`, `type(x)`).
    Type,
    List(Box<Ty<'d>>),
    Map(Box<Ty<'d>>, Box<Ty<'d>>),
    /// A schema object (its fields are known).
    Object(&'d DeclType),
    Optional(Box<Ty<'d>>),
    /// A library type (`net.IP`, `kubernetes.Quantity`, ...).
    Opaque(&'static str),
    /// A type parameter of a signature.
    Param(u8),
}

impl fmt::Display for Ty<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Uint => f.write_str("uint"),
            Ty::Double => f.write_str("double"),
            Ty::String => f.write_str("string"),
            Ty::Bytes => f.write_str("bytes"),
            Ty::Null => f.write_str("null_type"),
            Ty::Duration => f.write_str("google.protobuf.Duration"),
            Ty::Timestamp => f.write_str("google.protobuf.Timestamp"),
            Ty::Dyn => f.write_str("dyn"),
            Ty::Type => f.write_str("type"),
            Ty::List(e) => write!(f, "list({e})"),
            Ty::Map(k, v) => write!(f, "map({k}, {v})"),
            Ty::Object(d) => match &d.kind {
                DeclKind::Object { name, .. } => f.write_str(name),
                _ => f.write_str("object"),
            },
            Ty::Optional(t) => write!(f, "optional_type({t})"),
            Ty::Opaque(n) => f.write_str(n),
            Ty::Param(i) => write!(f, "{}", (b'A' + i) as char),
        }
    }
}

impl<'d> Ty<'d> {
    pub(crate) fn from_decl(d: &'d DeclType) -> Ty<'d> {
        match &d.kind {
            DeclKind::Bool => Ty::Bool,
            DeclKind::Int => Ty::Int,
            DeclKind::Double => Ty::Double,
            DeclKind::String => Ty::String,
            DeclKind::Bytes => Ty::Bytes,
            DeclKind::Duration => Ty::Duration,
            DeclKind::Timestamp => Ty::Timestamp,
            DeclKind::Dyn => Ty::Dyn,
            DeclKind::List { elem, .. } => Ty::List(Box::new(Ty::from_decl(elem))),
            DeclKind::Map { value } => Ty::Map(Box::new(Ty::String), Box::new(Ty::from_decl(value))),
            DeclKind::Object { .. } => Ty::Object(d),
        }
    }

    fn is_dyn(&self) -> bool {
        matches!(self, Ty::Dyn)
    }
}

/// One checker diagnostic: the expression it is about and the text.
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub(crate) expr_id: u64,
    pub(crate) message: String,
}

/// A cost range in cel-go's units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) min: u64,
    pub(crate) max: u64,
}

impl Cost {
    fn n(n: u64) -> Cost {
        Cost { min: n, max: n }
    }
    fn add(self, o: Cost) -> Cost {
        Cost { min: self.min.saturating_add(o.min), max: self.max.saturating_add(o.max) }
    }
}

/// What the walk learns of a node: its type, cost and size bound (string bytes, list items, map entries).
#[derive(Debug, Clone)]
struct Node<'d> {
    ty: Ty<'d>,
    cost: Cost,
    size: u64,
    /// The declared type the value comes from, when it is a path into `self`/`oldSelf`.
    decl: Option<&'d DeclType>,
}

impl<'d> Node<'d> {
    fn new(ty: Ty<'d>, cost: Cost) -> Self {
        Node { ty, cost, size: 0, decl: None }
    }
    fn of_decl(d: &'d DeclType, cost: Cost) -> Self {
        Node { ty: Ty::from_decl(d), cost, size: d.max_elements, decl: Some(d) }
    }
}

/// The result of checking one expression.
pub(crate) struct Checked {
    pub(crate) ty: String,
    pub(crate) is_bool: bool,
    pub(crate) cost: Cost,
    pub(crate) uses_old_self: bool,
    pub(crate) issues: Vec<Issue>,
}

pub(crate) struct Checker<'d> {
    scopes: Vec<(String, Node<'d>)>,
    issues: Vec<Issue>,
    /// Issues of the validators cel-go runs once the expression checks.
    late: Vec<Issue>,
    /// Inside a call of `format`, which the homogeneous literal validator exempts (ext strings).
    in_format: u32,
    uses_old_self: bool,
    /// Only the cost is wanted (an expression already checked): skip what only finds issues and
    /// costs time, as compiling regex literals.
    pricing: bool,
}

impl<'d> Checker<'d> {
    fn new(decl: &'d DeclType, old: Option<(&'d DeclType, bool)>, pricing: bool) -> Self {
        let mut c = Checker { scopes: Vec::new(), issues: Vec::new(), late: Vec::new(), in_format: 0, uses_old_self: false, pricing };
        c.scopes.push(("self".into(), Node::of_decl(decl, Cost::n(1))));
        if let Some((old, optional)) = old {
            let mut n = Node::of_decl(old, Cost::n(1));
            if optional {
                n.ty = Ty::Optional(Box::new(n.ty));
            }
            c.scopes.push(("oldSelf".into(), n));
        }
        c
    }
}

/// The estimated worst-case cost of `expr`, an expression [`check`] accepted, with `self` of `decl`
/// and `oldSelf` of `old`: `check(..).cost.max` without the diagnostics.
pub(crate) fn price<'d>(expr: &IdedExpr, decl: &'d DeclType, old: Option<(&'d DeclType, bool)>) -> u64 {
    Checker::new(decl, old, true).expr(expr).cost.max
}

/// Types and prices `expr` with `self` of `decl` and `oldSelf` of `old` (optional with
/// `optionalOldSelf`; absent where the rule may not use it).
pub(crate) fn check<'d>(expr: &IdedExpr, decl: &'d DeclType, old: Option<(&'d DeclType, bool)>) -> Checked {
    let mut c = Checker::new(decl, old, false);
    let n = c.expr(expr);
    if c.issues.is_empty() {
        c.issues = std::mem::take(&mut c.late);
    }
    Checked {
        is_bool: matches!(n.ty, Ty::Bool | Ty::Dyn),
        ty: n.ty.to_string(),
        cost: n.cost,
        uses_old_self: c.uses_old_self,
        issues: c.issues,
    }
}

const STRING_TRAVERSAL: f64 = 0.1;

fn traversal(size: u64) -> u64 {
    (size as f64 * STRING_TRAVERSAL).ceil() as u64
}

/// The library's signatures: `name`, member or global, parameter types and result, written as
/// `recv.name(args) -> result` or `name(args) -> result`; `A`/`B` are type parameters.
const SIGNATURES: &[&str] = &[
    // Operators.
    "_+_(int,int)->int", "_+_(uint,uint)->uint", "_+_(double,double)->double", "_+_(string,string)->string",
    "_+_(bytes,bytes)->bytes", "_+_(list(A),list(A))->list(A)", "_+_(duration,duration)->duration",
    "_+_(timestamp,duration)->timestamp", "_+_(duration,timestamp)->timestamp",
    "_-_(int,int)->int", "_-_(uint,uint)->uint", "_-_(double,double)->double", "_-_(duration,duration)->duration",
    "_-_(timestamp,timestamp)->duration", "_-_(timestamp,duration)->timestamp",
    "_*_(int,int)->int", "_*_(uint,uint)->uint", "_*_(double,double)->double",
    "_/_(int,int)->int", "_/_(uint,uint)->uint", "_/_(double,double)->double",
    "_%_(int,int)->int", "_%_(uint,uint)->uint",
    "-_(int)->int", "-_(double)->double", "!_(bool)->bool",
    "_==_(A,A)->bool", "_!=_(A,A)->bool",
    "_[_](list(A),int)->A", "_[_](map(A,B),A)->B",
    "@in(A,list(A))->bool", "@in(A,map(A,B))->bool",
    "size(string)->int", "size(bytes)->int", "size(list(A))->int", "size(map(A,B))->int",
    "string.size()->int", "bytes.size()->int", "list(A).size()->int", "map(A,B).size()->int",
    // Conversions.
    "int(int)->int", "int(uint)->int", "int(double)->int", "int(string)->int", "int(timestamp)->int", "int(duration)->int",
    "uint(int)->uint", "uint(uint)->uint", "uint(double)->uint", "uint(string)->uint",
    "double(int)->double", "double(uint)->double", "double(double)->double", "double(string)->double",
    "string(int)->string", "string(uint)->string", "string(double)->string", "string(bool)->string", "string(bytes)->string",
    "string(string)->string", "string(timestamp)->string", "string(duration)->string",
    "string(net.IP)->string", "string(net.CIDR)->string",
    "bytes(string)->bytes", "bytes(bytes)->bytes", "bool(bool)->bool", "bool(string)->bool",
    "duration(string)->duration", "duration(duration)->duration", "timestamp(string)->timestamp", "timestamp(int)->timestamp",
    "timestamp(timestamp)->timestamp", "dyn(A)->dyn", "type(A)->type",
    // Strings (standard and ext).
    "string.contains(string)->bool", "string.startsWith(string)->bool", "string.endsWith(string)->bool",
    "string.matches(string)->bool", "matches(string,string)->bool",
    "string.charAt(int)->string", "string.indexOf(string)->int", "string.indexOf(string,int)->int",
    "string.lastIndexOf(string)->int", "string.lastIndexOf(string,int)->int", "string.lowerAscii()->string",
    "string.upperAscii()->string", "string.replace(string,string)->string", "string.replace(string,string,int)->string",
    "string.split(string)->list(string)", "string.split(string,int)->list(string)", "string.substring(int)->string",
    "string.substring(int,int)->string", "string.trim()->string", "list(string).join()->string",
    "list(string).join(string)->string", "strings.quote(string)->string", "string.format(list(dyn))->string",
    // Timestamps and durations.
    "timestamp.getFullYear()->int", "timestamp.getFullYear(string)->int", "timestamp.getMonth()->int",
    "timestamp.getMonth(string)->int", "timestamp.getDate()->int", "timestamp.getDate(string)->int",
    "timestamp.getDayOfMonth()->int", "timestamp.getDayOfMonth(string)->int", "timestamp.getDayOfWeek()->int",
    "timestamp.getDayOfWeek(string)->int", "timestamp.getDayOfYear()->int", "timestamp.getDayOfYear(string)->int",
    "timestamp.getHours()->int", "timestamp.getHours(string)->int", "timestamp.getMinutes()->int",
    "timestamp.getMinutes(string)->int", "timestamp.getSeconds()->int", "timestamp.getSeconds(string)->int",
    "timestamp.getMilliseconds()->int", "timestamp.getMilliseconds(string)->int",
    "duration.getHours()->int", "duration.getMinutes()->int", "duration.getSeconds()->int", "duration.getMilliseconds()->int",
    // Optionals.
    "optional.of(A)->optional(A)", "optional.ofNonZeroValue(A)->optional(A)", "optional.none()->optional(dyn)",
    "optional(A).hasValue()->bool", "optional(A).value()->A", "optional(A).orValue(A)->A",
    "optional(A).or(optional(A))->optional(A)",
    // Kubernetes lists.
    "list(A).isSorted()->bool", "list(A).sum()->A", "list(A).min()->A", "list(A).max()->A",
    "list(A).indexOf(A)->int", "list(A).lastIndexOf(A)->int",
    // Kubernetes regex.
    "string.find(string)->string", "string.findAll(string)->list(string)", "string.findAll(string,int)->list(string)",
    // Kubernetes URLs.
    "url(string)->net.URL", "isURL(string)->bool", "net.URL.getScheme()->string", "net.URL.getHost()->string",
    "net.URL.getHostname()->string", "net.URL.getPort()->string", "net.URL.getEscapedPath()->string",
    "net.URL.getQuery()->map(string,list(string))",
    // Kubernetes IP and CIDR.
    "ip(string)->net.IP", "isIP(string)->bool", "ip.isCanonical(string)->bool", "net.IP.family()->int",
    "net.IP.isUnspecified()->bool", "net.IP.isLoopback()->bool", "net.IP.isLinkLocalMulticast()->bool",
    "net.IP.isLinkLocalUnicast()->bool", "net.IP.isGlobalUnicast()->bool",
    "cidr(string)->net.CIDR", "isCIDR(string)->bool", "net.CIDR.containsIP(string)->bool",
    "net.CIDR.containsIP(net.IP)->bool", "net.CIDR.containsCIDR(string)->bool", "net.CIDR.containsCIDR(net.CIDR)->bool",
    "net.CIDR.ip()->net.IP", "net.CIDR.masked()->net.CIDR", "net.CIDR.prefixLength()->int",
    // Kubernetes quantities.
    "quantity(string)->kubernetes.Quantity", "isQuantity(string)->bool", "kubernetes.Quantity.isInteger()->bool",
    "kubernetes.Quantity.asInteger()->int", "kubernetes.Quantity.asApproximateFloat()->double",
    "kubernetes.Quantity.sign()->int", "kubernetes.Quantity.add(kubernetes.Quantity)->kubernetes.Quantity",
    "kubernetes.Quantity.add(int)->kubernetes.Quantity", "kubernetes.Quantity.sub(kubernetes.Quantity)->kubernetes.Quantity",
    "kubernetes.Quantity.sub(int)->kubernetes.Quantity", "kubernetes.Quantity.isGreaterThan(kubernetes.Quantity)->bool",
    "kubernetes.Quantity.isLessThan(kubernetes.Quantity)->bool", "kubernetes.Quantity.compareTo(kubernetes.Quantity)->int",
    // Kubernetes semver.
    "semver(string)->kubernetes.Semver", "semver(string,bool)->kubernetes.Semver", "isSemver(string)->bool",
    "isSemver(string,bool)->bool", "kubernetes.Semver.major()->int", "kubernetes.Semver.minor()->int",
    "kubernetes.Semver.patch()->int", "kubernetes.Semver.isGreaterThan(kubernetes.Semver)->bool",
    "kubernetes.Semver.isLessThan(kubernetes.Semver)->bool", "kubernetes.Semver.compareTo(kubernetes.Semver)->int",
    // Kubernetes sets (cel-go ext.Sets).
    "sets.contains(list(A),list(A))->bool", "sets.equivalent(list(A),list(A))->bool",
    "sets.intersects(list(A),list(A))->bool",
    // Kubernetes format.
    "format.named(string)->optional(kubernetes.NamedFormat)", "format.dns1123Label()->kubernetes.NamedFormat",
    "format.dns1123Subdomain()->kubernetes.NamedFormat", "format.dns1035Label()->kubernetes.NamedFormat",
    "format.qualifiedName()->kubernetes.NamedFormat", "format.dns1123LabelPrefix()->kubernetes.NamedFormat",
    "format.dns1123SubdomainPrefix()->kubernetes.NamedFormat", "format.dns1035LabelPrefix()->kubernetes.NamedFormat",
    "format.labelValue()->kubernetes.NamedFormat", "format.uri()->kubernetes.NamedFormat",
    "format.uuid()->kubernetes.NamedFormat", "format.byte()->kubernetes.NamedFormat", "format.date()->kubernetes.NamedFormat",
    "format.datetime()->kubernetes.NamedFormat",
    "kubernetes.NamedFormat.validate(string)->optional(list(string))",
    // cel-go ext.Lists (version 3), in the CRD environment since 1.34.
    "list(A).slice(int,int)->list(A)", "list(list(A)).flatten()->list(A)", "list(dyn).flatten(int)->list(dyn)",
    "list(A).distinct()->list(A)", "list(A).reverse()->list(A)", "lists.range(int)->list(int)",
    "list(int).sort()->list(int)", "list(uint).sort()->list(uint)", "list(double).sort()->list(double)",
    "list(bool).sort()->list(bool)", "list(duration).sort()->list(duration)", "list(timestamp).sort()->list(timestamp)",
    "list(string).sort()->list(string)", "list(bytes).sort()->list(bytes)",
    "list(A).@sortByAssociatedKeys(list(int))->list(A)", "list(A).@sortByAssociatedKeys(list(uint))->list(A)",
    "list(A).@sortByAssociatedKeys(list(double))->list(A)", "list(A).@sortByAssociatedKeys(list(bool))->list(A)",
    "list(A).@sortByAssociatedKeys(list(duration))->list(A)", "list(A).@sortByAssociatedKeys(list(timestamp))->list(A)",
    "list(A).@sortByAssociatedKeys(list(string))->list(A)", "list(A).@sortByAssociatedKeys(list(bytes))->list(A)",
    // cel-go optional types, version 2 (lists).
    "list(A).first()->optional(A)", "list(A).last()->optional(A)",
    "optional.unwrap(list(optional(A)))->list(A)", "list(optional(A)).unwrapOpt()->list(A)",
    // cel-go ext.TwoVarComprehensions: the step of transformMap and transformMapEntry.
    "cel.@mapInsert(map(A,B),A,B)->map(A,B)", "cel.@mapInsert(map(A,B),map(A,B))->map(A,B)",
    // Not in the CRD environment (kube-apiserver v1.36.2 refuses them as undeclared references):
    // ext.Math (`math.*`), ext.Encoders (`base64.*`), ext.Bindings (`cel.bind`), ext.Strings
    // past version 2 (`string.reverse()`).
];

/// A parsed signature.
struct Sig {
    member: bool,
    params: Vec<Ty<'static>>,
    result: Ty<'static>,
}

fn parse_ty(s: &str) -> Ty<'static> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("list(").and_then(|r| r.strip_suffix(')')) {
        return Ty::List(Box::new(parse_ty(inner)));
    }
    if let Some(inner) = s.strip_prefix("optional(").and_then(|r| r.strip_suffix(')')) {
        return Ty::Optional(Box::new(parse_ty(inner)));
    }
    if let Some(inner) = s.strip_prefix("map(").and_then(|r| r.strip_suffix(')')) {
        let (k, v) = split_top(inner);
        return Ty::Map(Box::new(parse_ty(k)), Box::new(parse_ty(v)));
    }
    match s {
        "bool" => Ty::Bool,
        "int" => Ty::Int,
        "uint" => Ty::Uint,
        "double" => Ty::Double,
        "string" => Ty::String,
        "bytes" => Ty::Bytes,
        "duration" => Ty::Duration,
        "timestamp" => Ty::Timestamp,
        "dyn" => Ty::Dyn,
        "type" => Ty::Type,
        "A" => Ty::Param(0),
        "B" => Ty::Param(1),
        "net.IP" => Ty::Opaque("net.IP"),
        "net.CIDR" => Ty::Opaque("net.CIDR"),
        "net.URL" => Ty::Opaque("net.URL"),
        "kubernetes.Quantity" => Ty::Opaque("kubernetes.Quantity"),
        "kubernetes.Semver" => Ty::Opaque("kubernetes.Semver"),
        "kubernetes.NamedFormat" => Ty::Opaque("kubernetes.NamedFormat"),
        _ => Ty::Dyn,
    }
}

/// The byte index of the `(` opening the final, balanced argument list of `call`.
fn args_open(call: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in call.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits `a,b` at its top-level comma.
fn split_top(s: &str) -> (&str, &str) {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return (&s[..i], &s[i + 1..]),
            _ => {}
        }
    }
    (s, "")
}

fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.trim().is_empty() {
        let (a, b) = split_top(rest);
        out.push(a);
        rest = b;
    }
    out
}

/// Function name → its signatures.
fn signatures() -> &'static HashMap<&'static str, Vec<Sig>> {
    static SIGS: OnceLock<HashMap<&'static str, Vec<Sig>>> = OnceLock::new();
    SIGS.get_or_init(|| {
        let mut map: HashMap<&'static str, Vec<Sig>> = HashMap::new();
        for line in SIGNATURES {
            let Some((call, result)) = line.split_once("->") else { continue };
            let Some(open) = args_open(call) else { continue };
            let head = &call[..open];
            let args = call[open + 1..].strip_suffix(')').unwrap_or(&call[open + 1..]);
            let mut params: Vec<Ty<'static>> = split_args(args).into_iter().map(parse_ty).collect();
            // `recv.name`: the receiver is all before the last dot, unless the head is a global
            // namespaced function (`optional.of`, `strings.quote`, `sets.contains`, `format.named`).
            let global_ns = ["optional.", "strings.", "sets.", "format.", "lists.", "cel.", "ip.isCanonical"];
            let (name, member) = match head.rfind('.') {
                Some(dot) if !global_ns.iter().any(|ns| head.starts_with(ns)) => {
                    params.insert(0, parse_ty(&head[..dot]));
                    (&head[dot + 1..], true)
                }
                _ => (head, false),
            };
            map.entry(name).or_default().push(Sig { member, params, result: parse_ty(result) });
        }
        map
    })
}

/// Unifies `arg` into `param`, binding type parameters. Dyn matches anything.
fn unify<'d>(param: &Ty<'static>, arg: &Ty<'d>, binds: &mut [Option<Ty<'d>>; 2]) -> bool {
    match (param, arg) {
        (Ty::Param(i), a) => {
            let slot = &mut binds[*i as usize];
            match slot {
                None => {
                    *slot = Some(a.clone());
                    true
                }
                Some(b) if b.is_dyn() => {
                    *slot = Some(a.clone());
                    true
                }
                Some(b) => a.is_dyn() || same(b, a),
            }
        }
        (Ty::Dyn, _) | (_, Ty::Dyn) => true,
        (Ty::List(p), Ty::List(a)) => unify(p, a, binds),
        (Ty::Optional(p), Ty::Optional(a)) => unify(p, a, binds),
        (Ty::Map(pk, pv), Ty::Map(ak, av)) => unify(pk, ak, binds) && unify(pv, av, binds),
        (Ty::Map(pk, pv), Ty::Object(_)) => unify(pk, &Ty::String, binds) && unify(pv, &Ty::Dyn, binds),
        (p, a) => same_static(p, a),
    }
}

/// cel-go's `IsEquivalentType` as the homogeneous literal validator uses it: the same type, `dyn`
/// only equal to `dyn`. A nested `dyn` matches anything, as this checker also writes the free type
/// parameters of `[]`, `{}` and `optional.none()` as `dyn` (cel-go infers them).
fn equivalent(a: &Ty<'_>, b: &Ty<'_>) -> bool {
    fn inner(a: &Ty<'_>, b: &Ty<'_>) -> bool {
        a.is_dyn() || b.is_dyn() || equivalent(a, b)
    }
    match (a, b) {
        (Ty::Dyn, Ty::Dyn) => true,
        (Ty::Dyn, _) | (_, Ty::Dyn) => false,
        (Ty::List(x), Ty::List(y)) | (Ty::Optional(x), Ty::Optional(y)) => inner(x, y),
        (Ty::Map(xk, xv), Ty::Map(yk, yv)) => inner(xk, yk) && inner(xv, yv),
        _ => a == b,
    }
}

fn same(a: &Ty<'_>, b: &Ty<'_>) -> bool {
    match (a, b) {
        (Ty::Dyn, _) | (_, Ty::Dyn) => true,
        (Ty::List(x), Ty::List(y)) | (Ty::Optional(x), Ty::Optional(y)) => same(x, y),
        (Ty::Map(xk, xv), Ty::Map(yk, yv)) => same(xk, yk) && same(xv, yv),
        (Ty::Object(x), Ty::Object(y)) => std::ptr::eq(*x, *y) || x == y,
        // cel-go's legacy nullability: objects, opaques, timestamps and durations compare with null.
        (Ty::Null, t) | (t, Ty::Null) => matches!(t, Ty::Null | Ty::Object(_) | Ty::Opaque(_) | Ty::Timestamp | Ty::Duration),
        (Ty::Object(_), Ty::Map(k, _)) | (Ty::Map(k, _), Ty::Object(_)) => same(k, &Ty::String),
        (Ty::Opaque(x), Ty::Opaque(y)) => x == y,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn same_static(p: &Ty<'static>, a: &Ty<'_>) -> bool {
    match (p, a) {
        (Ty::Opaque(x), Ty::Opaque(y)) => x == y,
        (Ty::List(_), _) | (Ty::Map(..), _) | (Ty::Optional(_), _) => false,
        _ => std::mem::discriminant(p) == std::mem::discriminant(a),
    }
}

fn subst<'d>(t: &Ty<'static>, binds: &[Option<Ty<'d>>; 2]) -> Ty<'d> {
    match t {
        Ty::Param(i) => binds[*i as usize].clone().unwrap_or(Ty::Dyn),
        Ty::List(e) => Ty::List(Box::new(subst(e, binds))),
        Ty::Optional(e) => Ty::Optional(Box::new(subst(e, binds))),
        Ty::Map(k, v) => Ty::Map(Box::new(subst(k, binds)), Box::new(subst(v, binds))),
        Ty::Bool => Ty::Bool,
        Ty::Int => Ty::Int,
        Ty::Uint => Ty::Uint,
        Ty::Double => Ty::Double,
        Ty::String => Ty::String,
        Ty::Bytes => Ty::Bytes,
        Ty::Null => Ty::Null,
        Ty::Duration => Ty::Duration,
        Ty::Timestamp => Ty::Timestamp,
        Ty::Dyn | Ty::Object(_) => Ty::Dyn,
        Ty::Type => Ty::Type,
        Ty::Opaque(n) => Ty::Opaque(n),
    }
}

fn is_numeric(t: &Ty<'_>) -> bool {
    matches!(t, Ty::Int | Ty::Uint | Ty::Double)
}

/// Names a global call or a namespaced one: `optional.of`, `sets.contains`.
fn qualified(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(n) => Some(n.clone()),
        Expr::Select(s) if !s.test => qualified(&s.operand).map(|p| format!("{p}.{}", s.field)),
        _ => None,
    }
}

impl<'d> Checker<'d> {
    fn issue(&mut self, id: u64, message: String) {
        self.issues.push(Issue { expr_id: id, message });
    }

    fn lookup(&self, name: &str) -> Option<Node<'d>> {
        self.scopes.iter().rev().find(|(n, _)| n == name).map(|(_, t)| t.clone())
    }

    fn expr(&mut self, e: &IdedExpr) -> Node<'d> {
        match &e.expr {
            Expr::Unspecified => Node::new(Ty::Dyn, Cost::default()),
            Expr::Literal(l) => {
                let (ty, size) = match l {
                    LiteralValue::Boolean(_) => (Ty::Bool, 0),
                    LiteralValue::Bytes(b) => (Ty::Bytes, b.inner().len() as u64),
                    LiteralValue::Double(_) => (Ty::Double, 0),
                    LiteralValue::Int(_) => (Ty::Int, 0),
                    LiteralValue::Null => (Ty::Null, 0),
                    LiteralValue::String(s) => (Ty::String, s.inner().len() as u64),
                    LiteralValue::UInt(_) => (Ty::Uint, 0),
                };
                Node { ty, cost: Cost::default(), size, decl: None }
            }
            Expr::Ident(name) => self.ident(e.id, name),
            Expr::Select(s) => {
                if !s.test {
                    if let Some(q) = qualified(e) {
                        if self.lookup(q.split('.').next().unwrap_or("")).is_none() {
                            // A namespaced identifier that is not a variable.
                            return self.ident(e.id, &q);
                        }
                    }
                }
                let operand = self.expr(&s.operand);
                let mut n = self.select(e.id, &operand, &s.field);
                // A presence test costs nothing itself: Kubernetes builds its environments with
                // cel-go's `PresenceTestHasCost(false)` (a CRD with `has(self.a)` on 6,000,000 items
                // is accepted; at 1 per test it would be over the 10,000,000 limit).
                n.cost = if s.test { operand.cost } else { operand.cost.add(Cost::n(1)) };
                if s.test {
                    n.ty = Ty::Bool;
                    n.decl = None;
                }
                n
            }
            Expr::Call(call) => self.call(e, call),
            Expr::Comprehension(c) => {
                let range = self.expr(&c.iter_range);
                let (v1, v2): (Node<'d>, Option<Node<'d>>) = match &range.ty {
                    Ty::List(elem) => {
                        let d = range.decl.and_then(DeclType::elem);
                        let item = match d {
                            Some(d) => Node::of_decl(d, Cost::n(1)),
                            None => Node { ty: (**elem).clone(), cost: Cost::n(1), size: range.size, decl: None },
                        };
                        if c.iter_var2.is_some() {
                            (Node::new(Ty::Int, Cost::n(1)), Some(item))
                        } else {
                            (item, None)
                        }
                    }
                    Ty::Map(k, v) => {
                        // A schema map's keys have no declared size: Kubernetes estimates them at 0.
                        let key_size = if range.decl.is_some() { 0 } else { range.size };
                        let key = Node { ty: (**k).clone(), cost: Cost::n(1), size: key_size, decl: None };
                        let val = match range.decl.and_then(DeclType::elem) {
                            Some(d) => Node::of_decl(d, Cost::n(1)),
                            None => Node::new((**v).clone(), Cost::n(1)),
                        };
                        (key, Some(val))
                    }
                    Ty::Object(_) => (Node::new(Ty::String, Cost::n(1)), Some(Node::new(Ty::Dyn, Cost::n(1)))),
                    Ty::Dyn => (Node::new(Ty::Dyn, Cost::n(1)), Some(Node::new(Ty::Dyn, Cost::n(1)))),
                    other => {
                        let msg = format!("expression of type '{other}' cannot be range of a comprehension (must be list, map, or dynamic)");
                        self.issue(c.iter_range.id, msg);
                        (Node::new(Ty::Dyn, Cost::n(1)), Some(Node::new(Ty::Dyn, Cost::n(1))))
                    }
                };
                let init = self.expr(&c.accu_init);
                let depth = self.scopes.len();
                self.scopes.push((c.accu_var.clone(), init.clone()));
                self.scopes.push((c.iter_var.clone(), v1));
                if let (Some(name), Some(v2)) = (&c.iter_var2, v2) {
                    self.scopes.push((name.clone(), v2));
                }
                let cond = self.expr(&c.loop_cond);
                let step = self.expr(&c.loop_step);
                self.scopes.truncate(depth);
                let mut accu = init.clone();
                if matches!(&init.ty, Ty::List(e) if e.is_dyn()) && matches!(step.ty, Ty::List(_)) {
                    accu.ty = step.ty.clone();
                }
                if matches!(&init.ty, Ty::Map(..)) && matches!(step.ty, Ty::Map(..)) {
                    accu.ty = step.ty.clone();
                }
                // cel-go: the accumulator has its initial value's size (a `cel.bind`-like
                // comprehension, as `sortBy` expands to, binds a list of the target's size); the
                // comprehension's value has the range's size when it builds a list or a map, its
                // literal's size, or an unknown one.
                let built = matches!(c.accu_init.expr, Expr::List(_) | Expr::Map(_));
                if built {
                    accu.size = range.size;
                }
                self.scopes.push((c.accu_var.clone(), accu));
                let result = self.expr(&c.result);
                self.scopes.truncate(depth);
                let per_iter = cond.cost.add(step.cost);
                let loops = Cost { min: 0, max: per_iter.max.saturating_mul(range.size) };
                let cost = range.cost.add(init.cost).add(loops).add(result.cost);
                let size = match &c.accu_init.expr {
                    _ if built => range.size,
                    Expr::Literal(_) => init.size,
                    _ => result.size,
                };
                Node { ty: result.ty, cost, size, decl: None }
            }
            Expr::List(l) => {
                let mut cost = Cost::n(10);
                let mut elem: Option<Ty<'d>> = None;
                let (mut first, mut mismatch): (Option<Ty<'d>>, bool) = (None, false);
                for (i, item) in l.elements.iter().enumerate() {
                    let n = self.expr(item);
                    cost = cost.add(n.cost);
                    let ty = if l.optional_indices.contains(&i) {
                        match n.ty {
                            Ty::Optional(t) => *t,
                            t => t,
                        }
                    } else {
                        n.ty
                    };
                    match &first {
                        None => first = Some(ty.clone()),
                        // One issue per list: the validator stops at the first mismatch.
                        Some(f) if !mismatch => mismatch = !self.homogeneous(item.id, &f.clone(), &ty),
                        Some(_) => {}
                    }
                    elem = Some(Self::join(elem, &ty));
                }
                Node { ty: Ty::List(Box::new(elem.unwrap_or(Ty::Dyn))), cost, size: l.elements.len() as u64, decl: None }
            }
            Expr::Map(m) => {
                let mut cost = Cost::n(30);
                let (mut kt, mut vt): (Option<Ty<'d>>, Option<Ty<'d>>) = (None, None);
                let mut first: Option<(Ty<'d>, Ty<'d>)> = None;
                for entry in &m.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        let k = self.expr(&me.key);
                        let v = self.expr(&me.value);
                        cost = cost.add(k.cost).add(v.cost);
                        let vty = match (&v.ty, me.optional) {
                            (Ty::Optional(t), true) => (**t).clone(),
                            (t, _) => t.clone(),
                        };
                        match &first {
                            None => first = Some((k.ty.clone(), vty.clone())),
                            Some((fk, fv)) => {
                                let (fk, fv) = (fk.clone(), fv.clone());
                                self.homogeneous(me.key.id, &fk, &k.ty);
                                self.homogeneous(me.value.id, &fv, &vty);
                            }
                        }
                        kt = Some(Self::join(kt, &k.ty));
                        vt = Some(Self::join(vt, &vty));
                    }
                }
                let ty = Ty::Map(Box::new(kt.unwrap_or(Ty::Dyn)), Box::new(vt.unwrap_or(Ty::Dyn)));
                Node { ty, cost, size: m.entries.len() as u64, decl: None }
            }
            Expr::Struct(s) => {
                self.issue(e.id, format!("undeclared reference to '{}' (in container '')", s.type_name));
                Node::new(Ty::Dyn, Cost::n(40))
            }
        }
    }

    /// The type of a literal's elements (keys, values) so far joined with one more: `dyn` unless all
    /// agree. Kubernetes' `ValidateHomogeneousAggregateLiterals` is checked apart ([`Self::homogeneous`]).
    fn join(prev: Option<Ty<'d>>, cur: &Ty<'d>) -> Ty<'d> {
        match prev {
            None => cur.clone(),
            Some(p) if same(&p, cur) && !p.is_dyn() => p,
            Some(_) => Ty::Dyn,
        }
    }

    /// cel-go's homogeneous aggregate literal validator (in Kubernetes' base environment since 1.29):
    /// every element of a list literal, and every key and every value of a map literal, has the type
    /// of the first one exactly (`dyn` included). It runs once the expression checks, so its issues
    /// wait in `late`. Returns whether `cur` agrees with `first`.
    fn homogeneous(&mut self, id: u64, first: &Ty<'d>, cur: &Ty<'d>) -> bool {
        if self.in_format > 0 || equivalent(first, cur) {
            return true;
        }
        // cel-go's `FormatCELType` names the null type `null`.
        let name = |t: &Ty<'_>| t.to_string().replace("null_type", "null");
        self.late.push(Issue { expr_id: id, message: format!("expected type '{}' but found '{}'", name(first), name(cur)) });
        false
    }

    fn ident(&mut self, id: u64, name: &str) -> Node<'d> {
        if let Some(n) = self.lookup(name) {
            if name == "oldSelf" {
                self.uses_old_self = true;
            }
            return Node { cost: Cost::n(1), ..n };
        }
        match name {
            "int" | "uint" | "double" | "string" | "bool" | "bytes" | "list" | "map" | "null_type" | "type"
            | "google.protobuf.Timestamp" | "google.protobuf.Duration" | "optional_type" => {
                Node::new(Ty::Type, Cost::n(1))
            }
            _ => {
                self.issue(id, format!("undeclared reference to '{name}' (in container '')"));
                Node::new(Ty::Dyn, Cost::n(1))
            }
        }
    }

    fn select(&mut self, id: u64, operand: &Node<'d>, field: &str) -> Node<'d> {
        match &operand.ty {
            Ty::Object(d) => match d.field(field) {
                Some(f) => Node::of_decl(f, Cost::n(1)),
                None => {
                    self.issue(id, format!("undefined field '{field}'"));
                    Node::new(Ty::Dyn, Cost::n(1))
                }
            },
            Ty::Map(k, v) if same(k, &Ty::String) => match operand.decl.and_then(DeclType::elem) {
                Some(d) => Node::of_decl(d, Cost::n(1)),
                None => Node::new((**v).clone(), Cost::n(1)),
            },
            Ty::Dyn => Node::new(Ty::Dyn, Cost::n(1)),
            other => {
                self.issue(id, format!("type '{other}' does not support field selection"));
                Node::new(Ty::Dyn, Cost::n(1))
            }
        }
    }

    fn call(&mut self, e: &IdedExpr, call: &cel::common::ast::CallExpr) -> Node<'d> {
        let name = call.func_name.as_str();
        // Namespaced globals parse as member calls on an identifier (`optional.of(x)`).
        if let Some(target) = &call.target {
            if let Some(ns) = qualified(target) {
                if self.lookup(&ns).is_none() {
                    let full = format!("{ns}.{name}");
                    if signatures().contains_key(full.as_str()) {
                        return self.resolve(e.id, &full, false, &call.args, None);
                    }
                }
            }
        }
        match name {
            operators::LOGICAL_AND | operators::LOGICAL_OR => {
                let mut cost = Cost::default();
                let mut min = u64::MAX;
                for a in &call.args {
                    let n = self.expr(a);
                    self.expect_bool(a.id, name, &n.ty, &call.args);
                    cost = cost.add(n.cost);
                    min = min.min(n.cost.min);
                }
                Node::new(Ty::Bool, Cost { min: if min == u64::MAX { 0 } else { min }, max: cost.max })
            }
            operators::CONDITIONAL => {
                let (Some(c), Some(t), Some(f)) = (call.args.first(), call.args.get(1), call.args.get(2)) else {
                    return Node::new(Ty::Dyn, Cost::default());
                };
                let c = self.expr(c);
                let t = self.expr(t);
                let f = self.expr(f);
                if !matches!(c.ty, Ty::Bool | Ty::Dyn) {
                    let msg = format!("found no matching overload for '_?_:_' applied to '({}, {}, {})'", c.ty, t.ty, f.ty);
                    self.issue(e.id, msg);
                }
                let ty = if same(&t.ty, &f.ty) && !t.ty.is_dyn() { t.ty.clone() } else if t.ty == Ty::Null { f.ty.clone() } else if f.ty == Ty::Null { t.ty.clone() } else { Ty::Dyn };
                let cost = Cost { min: c.cost.min + t.cost.min.min(f.cost.min), max: c.cost.max + t.cost.max.max(f.cost.max) };
                Node { ty, cost, size: t.size.max(f.size), decl: None }
            }
            operators::NOT_STRICTLY_FALSE => {
                // cel-go prices it as any call without an estimator: 1 (the loop condition of
                // `all` and `exists`: a CRD's `self.l.all(x, true)` over 10 items is estimated at 33).
                let n = call.args.first().map(|a| self.expr(a));
                Node::new(Ty::Bool, n.map(|n| n.cost).unwrap_or_default().add(Cost::n(1)))
            }
            operators::OPT_SELECT => {
                let (Some(op), Some(field)) = (call.args.first(), call.args.get(1)) else {
                    return Node::new(Ty::Dyn, Cost::default());
                };
                let operand = self.expr(op);
                let fname = match &field.expr {
                    Expr::Literal(LiteralValue::String(s)) => s.inner().to_string(),
                    _ => String::new(),
                };
                let inner = match &operand.ty {
                    Ty::Optional(t) => Node { ty: (**t).clone(), ..operand.clone() },
                    _ => operand.clone(),
                };
                let mut n = self.select(e.id, &inner, &fname);
                n.ty = Ty::Optional(Box::new(n.ty));
                n.cost = operand.cost.add(Cost::n(1));
                n
            }
            operators::OPT_INDEX => {
                let (Some(a), Some(i)) = (call.args.first(), call.args.get(1)) else {
                    return Node::new(Ty::Dyn, Cost::default());
                };
                let operand = self.expr(a);
                let index = self.expr(i);
                let inner = match &operand.ty {
                    Ty::Optional(t) => (**t).clone(),
                    t => t.clone(),
                };
                let ty = match inner {
                    Ty::List(e) => *e,
                    Ty::Map(_, v) => *v,
                    _ => Ty::Dyn,
                };
                let decl = operand.decl.and_then(DeclType::elem);
                Node { ty: Ty::Optional(Box::new(ty)), cost: operand.cost.add(index.cost).add(Cost::n(1)), size: decl.map_or(0, |d| d.max_elements), decl }
            }
            _ => {
                let target = call.target.as_deref();
                self.resolve(e.id, name, target.is_some(), &call.args, target)
            }
        }
    }

    fn expect_bool(&mut self, _id: u64, _name: &str, _ty: &Ty<'d>, _args: &[IdedExpr]) {}

    /// Types a call by the signature table.
    fn resolve(&mut self, id: u64, name: &str, member: bool, args: &[IdedExpr], target: Option<&IdedExpr>) -> Node<'d> {
        let mut nodes: Vec<Node<'d>> = Vec::new();
        let format = u32::from(name == "format");
        self.in_format += format;
        if let Some(t) = target {
            nodes.push(self.expr(t));
        }
        for a in args {
            nodes.push(self.expr(a));
        }
        self.in_format -= format;
        let arg_cost = nodes.iter().fold(Cost::default(), |c, n| c.add(n.cost));
        let tys: Vec<Ty<'d>> = nodes.iter().map(|n| n.ty.clone()).collect();
        if matches!(name, "_<_" | "_<=_" | "_>_" | "_>=_") {
            if !comparable(&tys) {
                let shown: Vec<String> = tys.iter().map(ToString::to_string).collect();
                self.issue(id, format!("found no matching overload for '{name}' applied to '({})'", shown.join(", ")));
                return Node::new(Ty::Dyn, arg_cost);
            }
            let (c, _) = call_cost(name, &nodes, args);
            return Node::new(Ty::Bool, arg_cost.add(c));
        }
        let Some(sigs) = signatures().get(name) else {
            self.issue(id, format!("undeclared reference to '{name}' (in container '')"));
            return Node::new(Ty::Dyn, arg_cost);
        };
        let mut found: Option<Ty<'d>> = None;
        let mut any = false;
        for sig in sigs.iter().filter(|s| s.member == member && s.params.len() == tys.len()) {
            any = true;
            let mut binds: [Option<Ty<'d>>; 2] = [None, None];
            let ok = sig.params.iter().zip(&tys).all(|(p, a)| unify(p, a, &mut binds));
            if ok {
                let r = subst(&sig.result, &binds);
                found = Some(match found {
                    None => r,
                    Some(prev) if same(&prev, &r) => prev,
                    Some(_) => Ty::Dyn,
                });
                if !tys.iter().any(Ty::is_dyn) {
                    break;
                }
            }
        }
        if !any {
            self.issue(id, format!("undeclared reference to '{name}' (in container '')"));
            return Node::new(Ty::Dyn, arg_cost);
        }
        let Some(ty) = found else {
            let shown: Vec<String> = tys.iter().map(ToString::to_string).collect();
            let applied = if member && !shown.is_empty() {
                format!("{}.({})", shown[0], shown[1..].join(", "))
            } else {
                format!("({})", shown.join(", "))
            };
            self.issue(id, format!("found no matching overload for '{name}' applied to '{applied}'"));
            return Node::new(Ty::Dyn, arg_cost);
        };
        self.check_literal_args(id, name, args);
        let (call_cost, size) = call_cost(name, &nodes, args);
        let decl = match (name, nodes.first()) {
            ("_[_]", Some(n)) => n.decl.and_then(DeclType::elem),
            _ => None,
        };
        let size = decl.map_or(size, |d| d.max_elements);
        Node { ty, cost: arg_cost.add(call_cost), size, decl }
    }

    /// Constant arguments upstream checks at compile time (`matches`, `find`, `findAll` regexes).
    fn check_literal_args(&mut self, id: u64, name: &str, args: &[IdedExpr]) {
        if self.pricing || !matches!(name, "matches" | "find" | "findAll") {
            return;
        }
        let Some(IdedExpr { expr: Expr::Literal(LiteralValue::String(re)), .. }) = args.last().filter(|_| name == "matches").or(args.first()) else {
            return;
        };
        if regex::Regex::new(re.inner()).is_err() {
            let arg_id = args.last().filter(|_| name == "matches").or(args.first()).map_or(id, |a| a.id);
            self.issue(arg_id, format!("invalid {name} argument"));
        }
    }
}

/// `<`, `<=`, `>`, `>=`: same types, or numbers of any kind (CrossTypeNumericComparisons).
fn comparable(tys: &[Ty<'_>]) -> bool {
    let [a, b] = tys else { return false };
    if a.is_dyn() || b.is_dyn() {
        return true;
    }
    if is_numeric(a) && is_numeric(b) {
        return true;
    }
    matches!((a, b), (Ty::String, Ty::String) | (Ty::Bytes, Ty::Bytes) | (Ty::Bool, Ty::Bool) | (Ty::Timestamp, Ty::Timestamp) | (Ty::Duration, Ty::Duration))
        || matches!((a, b), (Ty::Opaque(x), Ty::Opaque(y)) if x == y)
}

/// The cost of a call itself (beyond its arguments) and the size bound of its result.
/// cel-go's `MultiplyByCostFactor`: `ceil(n * f)`, saturating.
fn by_factor(n: u64, f: f64) -> u64 {
    let x = (n as f64 * f).ceil();
    if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x as u64
    }
}

/// ext.Lists' `estimateAllocatingListCall`: the list's size times a factor, plus the call (1) and
/// the new list (10); the result's size is the size given.
fn allocating_list_call(factor: f64, size: u64) -> (Cost, u64) {
    (Cost { min: 11, max: by_factor(size, factor).saturating_add(11) }, size)
}

/// ext.Lists' `nodeAsIntValue`: an int literal argument (negative as 0), else `default`.
fn int_literal(arg: Option<&IdedExpr>, default: u64) -> u64 {
    match arg.map(|a| &a.expr) {
        Some(Expr::Literal(LiteralValue::Int(i))) => u64::try_from(*i.inner()).unwrap_or(0),
        _ => default,
    }
}

fn call_cost(name: &str, nodes: &[Node<'_>], args: &[IdedExpr]) -> (Cost, u64) {
    let size = |i: usize| nodes.get(i).map_or(0, |n| n.size);
    // ext.Lists (version 3 estimators); the member's target is `nodes[0]`, its arguments `args`.
    let strings = |i: usize| nodes.get(i).is_some_and(|n| matches!(&n.ty, Ty::List(e) if matches!(**e, Ty::String | Ty::Bytes)));
    match name {
        "slice" if nodes.len() == 3 => {
            let start = int_literal(args.first(), 0);
            let end = int_literal(args.get(1), size(0));
            // Go's unsigned subtraction: `slice(2, 1)` is estimated at a huge size.
            return allocating_list_call(1.0, end.wrapping_sub(start));
        }
        "lists.range" => return allocating_list_call(1.0, int_literal(args.first(), u64::MAX)),
        "reverse" => return allocating_list_call(1.0, size(0)),
        "flatten" => {
            let depth = if args.is_empty() { 1 } else { int_literal(args.first(), u64::MAX) };
            return allocating_list_call(depth as f64, size(0));
        }
        "distinct" => return allocating_list_call(2.0, size(0).saturating_mul(size(0))),
        "sort" => return allocating_list_call(if strings(0) { 2.1 } else { 2.0 }, size(0).saturating_mul(size(0))),
        "@sortByAssociatedKeys" => return allocating_list_call(if strings(1) { 2.1 } else { 2.0 }, size(1).saturating_mul(size(1))),
        _ => {}
    }
    let is_str = |i: usize| nodes.get(i).is_some_and(|n| matches!(n.ty, Ty::String | Ty::Bytes));
    match name {
        "_==_" | "_!=_" => {
            // cel-go: a traversal of the smaller operand, of any type: a schema value has its
            // declared size (0 for numbers), another number, bool, timestamp or duration 1.
            let eq_size = |i: usize| {
                nodes.get(i).map_or(0, |n| match n.ty {
                    _ if n.decl.is_some() => n.size,
                    Ty::Int | Ty::Uint | Ty::Double | Ty::Bool | Ty::Null | Ty::Duration | Ty::Timestamp => 1,
                    _ => n.size,
                })
            };
            let smallest = eq_size(0).min(eq_size(1));
            (Cost { min: u64::from(smallest > 0), max: traversal(smallest) }, 0)
        }
        "_<_" | "_<=_" | "_>_" | "_>=_" => {
            if is_str(0) {
                (Cost { min: 1, max: traversal(size(0).min(size(1))).max(1) }, 0)
            } else if nodes.first().is_some_and(|n| matches!(n.ty, Ty::List(_) | Ty::Map(..) | Ty::Object(_))) {
                (Cost { min: 1, max: size(0).min(size(1)).max(1) }, 0)
            } else {
                (Cost::n(1), 0)
            }
        }
        "_+_" if is_str(0) => (Cost { min: 1, max: traversal(size(0).saturating_add(size(1))).max(1) }, size(0).saturating_add(size(1))),
        "_+_" if nodes.first().is_some_and(|n| matches!(n.ty, Ty::List(_))) => (Cost::n(1), size(0).saturating_add(size(1))),
        // cel-go knows no size of a conversion's string: any (a CRD with `string(self) + 'x' == 'ax'`
        // on the items of a list of at most 1,000 integers is refused, more than 100x over the limit).
        "string" | "bytes" => (Cost::n(1), u64::MAX),
        "@in" if nodes.get(1).is_some_and(|n| matches!(n.ty, Ty::List(_))) => (Cost { min: 1, max: size(1).max(1) }, 0),
        "contains" | "startsWith" | "endsWith" | "lowerAscii" | "upperAscii" | "trim" | "charAt"
        | "indexOf" | "lastIndexOf" | "substring" | "replace" | "split" | "join" | "quote" | "strings.quote" | "format"
        | "isSorted" | "sum" | "min" | "max" | "url" | "isURL" | "ip" | "isIP" | "cidr" | "isCIDR" | "quantity"
        | "isQuantity" | "semver" | "isSemver" | "validate" => {
            let s = size(0);
            let per = if nodes.first().is_some_and(|n| matches!(n.ty, Ty::List(_))) { s } else { traversal(s) };
            let arg = (1..nodes.len()).map(|i| if is_str(i) { traversal(size(i)) } else { 0 }).sum::<u64>();
            let out = match name {
                "lowerAscii" | "upperAscii" | "trim" | "substring" | "replace" | "format" | "quote" | "strings.quote" => s,
                "split" => s,
                _ => 0,
            };
            (Cost { min: 1, max: per.saturating_add(arg).max(1) }, out)
        }
        "matches" | "find" | "findAll" => {
            let (s, re) = (size(0), size(1));
            let c = traversal(s).saturating_mul((re as f64 * 0.25).ceil().max(1.0) as u64);
            (Cost { min: 1, max: c.max(1) }, s)
        }
        "sets.contains" | "sets.equivalent" | "sets.intersects" => (Cost { min: 1, max: size(0).saturating_mul(size(1)).max(1) }, 0),
        _ => (Cost::n(1), nodes.first().map_or(0, |n| n.size)),
    }
}
