//! The Kubernetes CEL libraries cel-rust lacks, registered on its `Env` as overloads (upstream's
//! `apiserver/pkg/cel/library`): lists (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`),
//! regex (`find`, `findAll`), URLs, IPs and CIDRs, quantities, semver, sets (`sets.contains`,
//! `sets.equivalent`, `sets.intersects`) and format (`format.named(..).validate(..)`); also the Go
//! duration syntax and upstream's runtime error texts.
//!
//! Overloads take `dyn` arguments and dispatch on the value: the checker (`check.rs`) already holds
//! calls to the declared signatures, and one overload per name avoids cel-rust's duplicate-signature
//! refusals between libraries that share a method name (`isLessThan` on quantities and semvers).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use cel::common::types::{DYN_TYPE, INT_TYPE, LIST_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::objects::{Key, Map, Opaque, OptionalValue};
use cel::{DeclarationError, Env, ExecutionError, Value};

type R = Result<Value, ExecutionError>;

fn values(args: &[CowVal<'_, '_>]) -> Result<Vec<Value>, ExecutionError> {
    args.iter().map(|a| Value::try_from(a.as_ref())).collect()
}

/// Declares a cel-rust overload function over `Value`s.
macro_rules! vfn {
    ($name:ident, $body:path) => {
        fn $name<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
            let vals = values(&args)?;
            let out: Value = $body(&vals)?;
            let boxed: Box<dyn Val> = out.try_into()?;
            Ok(CowVal::from(boxed))
        }
    };
}

fn err(function: &str, msg: impl Into<String>) -> ExecutionError {
    ExecutionError::function_error(function, msg.into())
}

fn no_overload(function: &str) -> ExecutionError {
    ExecutionError::no_such_overload(function, Vec::new())
}

fn string_arg<'a>(v: Option<&'a Value>, function: &str) -> Result<&'a str, ExecutionError> {
    match v {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => Err(no_overload(function)),
    }
}

fn list_arg<'a>(v: Option<&'a Value>, function: &str) -> Result<&'a [Value], ExecutionError> {
    match v {
        Some(Value::List(l)) => Ok(l.as_slice()),
        _ => Err(no_overload(function)),
    }
}

fn opaque<T: Opaque + 'static>(v: Option<&Value>) -> Option<&T> {
    match v {
        Some(Value::Opaque(o)) => o.downcast_ref::<T>(),
        _ => None,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::UInt(x), Value::UInt(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x.cmp(y)),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

// ---- lists ----

fn is_sorted(a: &[Value]) -> R {
    let l = list_arg(a.first(), "isSorted")?;
    for w in l.windows(2) {
        match compare(&w[0], &w[1]) {
            Some(Ordering::Greater) => return Ok(Value::Bool(false)),
            Some(_) => {}
            None => return Err(no_overload("isSorted")),
        }
    }
    Ok(Value::Bool(true))
}
vfn!(f_is_sorted, is_sorted);

fn sum(a: &[Value]) -> R {
    let l = list_arg(a.first(), "sum")?;
    let mut acc = match l.first() {
        None => return Ok(Value::Int(0)),
        Some(Value::Float(_)) => Value::Float(0.0),
        Some(Value::UInt(_)) => Value::UInt(0),
        Some(Value::Duration(_)) => Value::Duration(chrono::Duration::zero()),
        Some(_) => Value::Int(0),
    };
    for v in l {
        acc = match (&acc, v) {
            (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_add(*y).ok_or_else(|| err("sum", "integer overflow"))?),
            (Value::UInt(x), Value::UInt(y)) => Value::UInt(x.checked_add(*y).ok_or_else(|| err("sum", "unsigned integer overflow"))?),
            (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
            (Value::Duration(x), Value::Duration(y)) => Value::Duration(*x + *y),
            _ => return Err(no_overload("sum")),
        };
    }
    Ok(acc)
}
vfn!(f_sum, sum);

fn extreme(a: &[Value], name: &str, want: Ordering) -> R {
    let l = list_arg(a.first(), name)?;
    let mut best = l.first().ok_or_else(|| err(name, format!("{name} called on empty list")))?;
    for v in l.iter().skip(1) {
        if compare(v, best).ok_or_else(|| no_overload(name))? == want {
            best = v;
        }
    }
    Ok(best.clone())
}
fn min(a: &[Value]) -> R {
    extreme(a, "min", Ordering::Less)
}
fn max(a: &[Value]) -> R {
    extreme(a, "max", Ordering::Greater)
}
vfn!(f_min, min);
vfn!(f_max, max);

fn index_of(a: &[Value]) -> R {
    let l = list_arg(a.first(), "indexOf")?;
    let x = a.get(1).ok_or_else(|| no_overload("indexOf"))?;
    Ok(Value::Int(l.iter().position(|v| v == x).map_or(-1, |i| i as i64)))
}
fn last_index_of(a: &[Value]) -> R {
    let l = list_arg(a.first(), "lastIndexOf")?;
    let x = a.get(1).ok_or_else(|| no_overload("lastIndexOf"))?;
    Ok(Value::Int(l.iter().rposition(|v| v == x).map_or(-1, |i| i as i64)))
}
vfn!(f_index_of, index_of);
vfn!(f_last_index_of, last_index_of);

// ---- two-variable comprehensions (`twovar`) and optional lists ----

fn key_value(k: &Key) -> Value {
    match k {
        Key::Int(i) => Value::Int(*i),
        Key::Uint(u) => Value::UInt(*u),
        Key::Bool(b) => Value::Bool(*b),
        Key::String(s) => Value::String(Arc::clone(s)),
    }
}

/// `@pairs(range)`: `[index, value]` for each element of a list, `[key, value]` for each entry of a
/// map (in key order; upstream's order over a map is Go's, unspecified).
fn pairs(a: &[Value]) -> R {
    let pair = |k: Value, v: Value| Value::List(Arc::new(vec![k, v]));
    match a.first() {
        Some(Value::List(l)) => Ok(Value::List(Arc::new(l.iter().enumerate().map(|(i, v)| pair(Value::Int(i as i64), v.clone())).collect()))),
        Some(Value::Map(m)) => {
            let mut entries: Vec<(&Key, &Value)> = m.map.iter().collect();
            entries.sort_by(|x, y| compare(&key_value(x.0), &key_value(y.0)).unwrap_or_else(|| format!("{:?}", x.0).cmp(&format!("{:?}", y.0))));
            Ok(Value::List(Arc::new(entries.into_iter().map(|(k, v)| pair(key_value(k), v.clone())).collect())))
        }
        _ => Err(no_overload("@pairs")),
    }
}
vfn!(f_pairs, pairs);

/// The key of `m` equal to `k` by CEL equality (`1`, `1u` and `1.0` are one key).
fn find_key(m: &HashMap<Key, Value>, k: &Value) -> Option<Key> {
    let mut candidates: Vec<Key> = match k {
        Value::Int(i) => vec![Key::Int(*i)],
        Value::UInt(u) => vec![Key::Uint(*u)],
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => vec![Key::Int(*f as i64)],
        Value::Bool(b) => vec![Key::Bool(*b)],
        Value::String(s) => vec![Key::String(Arc::clone(s))],
        _ => Vec::new(),
    };
    match candidates.first() {
        Some(Key::Int(i)) if *i >= 0 => candidates.push(Key::Uint(*i as u64)),
        Some(Key::Uint(u)) if *u <= i64::MAX as u64 => candidates.push(Key::Int(*u as i64)),
        _ => {}
    }
    candidates.into_iter().find(|c| m.contains_key(c))
}

fn insert_key(m: &mut HashMap<Key, Value>, k: &Value, v: Value) -> Result<(), ExecutionError> {
    if find_key(m, k).is_some() {
        return Err(err(crate::twovar::MAP_INSERT, format!("insert failed: key {} already exists", display_value(k))));
    }
    let key: Key = k.clone().try_into().map_err(|_| no_overload(crate::twovar::MAP_INSERT))?;
    m.insert(key, v);
    Ok(())
}

/// Go's `%v` of a CEL scalar.
fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => f.to_string(),
        other => format!("{other:?}"),
    }
}

/// `cel.@mapInsert(map, key, value)` and `cel.@mapInsert(map, entries)`: a map with the entries
/// added, an error for a key already there.
fn map_insert(a: &[Value]) -> R {
    let Some(Value::Map(m)) = a.first() else { return Err(no_overload(crate::twovar::MAP_INSERT)) };
    let mut out = (*m.map).clone();
    match (a.get(1), a.get(2)) {
        (Some(k), Some(v)) => insert_key(&mut out, k, v.clone())?,
        (Some(Value::Map(entries)), None) => {
            let mut sorted: Vec<(&Key, &Value)> = entries.map.iter().collect();
            sorted.sort_by_key(|(k, _)| format!("{k:?}"));
            for (k, v) in sorted {
                insert_key(&mut out, &key_value(k), v.clone())?;
            }
        }
        _ => return Err(no_overload(crate::twovar::MAP_INSERT)),
    }
    Ok(Value::Map(Map { map: Arc::new(out) }))
}
vfn!(f_map_insert, map_insert);

fn optional_of(v: Option<&Value>) -> Value {
    Value::Opaque(Arc::new(match v {
        Some(v) => OptionalValue::of(v.clone()),
        None => OptionalValue::none(),
    }))
}

/// `lists.range(n)`: `[0, .., n-1]`, empty for `n <= 0` (cel-go v0.26's `genRange`; cel-rust's
/// refuses a negative `n`). A non-literal `n` is estimated unbounded, so only a literal gets here.
fn range(a: &[Value]) -> R {
    match a.first() {
        Some(Value::Int(n)) => Ok(Value::List(Arc::new((0..*n.max(&0)).map(Value::Int).collect()))),
        _ => Err(no_overload("lists.range")),
    }
}
vfn!(f_range, range);

/// Overloads that must win over cel-rust's extensions: registered before them (the first
/// overload matching a call is the one run).
pub(crate) fn register_overrides(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload("lists.range", "lists_range_go", vec![DYN_TYPE], f_range)
}

/// `list.first()`, `list.last()` (cel-go's optional types, version 2).
fn first(a: &[Value]) -> R {
    Ok(optional_of(list_arg(a.first(), "first")?.first()))
}
fn last(a: &[Value]) -> R {
    Ok(optional_of(list_arg(a.first(), "last")?.last()))
}
vfn!(f_first, first);
vfn!(f_last, last);

/// `optional.unwrap(list)` and `list.unwrapOpt()`: the values of the optionals that have one.
fn unwrap_opt(a: &[Value]) -> R {
    let l = list_arg(a.first(), "unwrapOpt")?;
    let mut out = Vec::new();
    for v in l {
        match opaque::<OptionalValue>(Some(v)) {
            Some(o) => out.extend(o.value().cloned()),
            None => return Err(no_overload("unwrapOpt")),
        }
    }
    Ok(Value::List(Arc::new(out)))
}
vfn!(f_unwrap_opt, unwrap_opt);

// ---- regex ----

/// `pattern` compiled (once, when it is a literal of the rule: see `regexes`).
fn regex(pattern: &str, function: &str) -> Result<Arc<regex::Regex>, ExecutionError> {
    crate::regexes::compiled(pattern).map_err(|e| err(function, format!("error parsing regexp: {e}")))
}

fn find(a: &[Value]) -> R {
    let s = string_arg(a.first(), "find")?;
    let re = regex(string_arg(a.get(1), "find")?, "find")?;
    Ok(Value::String(Arc::new(re.find(s).map_or(String::new(), |m| m.as_str().to_string()))))
}
fn find_all(a: &[Value]) -> R {
    let s = string_arg(a.first(), "findAll")?;
    let re = regex(string_arg(a.get(1), "findAll")?, "findAll")?;
    let limit = match a.get(2) {
        Some(Value::Int(n)) if *n >= 0 => *n as usize,
        Some(Value::Int(_)) | None => usize::MAX,
        Some(_) => return Err(no_overload("findAll")),
    };
    let found: Vec<Value> = re.find_iter(s).take(limit).map(|m| Value::String(Arc::new(m.as_str().to_string()))).collect();
    Ok(Value::List(Arc::new(found)))
}
vfn!(f_find, find);
vfn!(f_find_all, find_all);

// ---- sets ----

fn sets_contains(a: &[Value]) -> R {
    let (x, y) = (list_arg(a.first(), "sets.contains")?, list_arg(a.get(1), "sets.contains")?);
    Ok(Value::Bool(y.iter().all(|v| x.contains(v))))
}
fn sets_equivalent(a: &[Value]) -> R {
    let (x, y) = (list_arg(a.first(), "sets.equivalent")?, list_arg(a.get(1), "sets.equivalent")?);
    Ok(Value::Bool(y.iter().all(|v| x.contains(v)) && x.iter().all(|v| y.contains(v))))
}
fn sets_intersects(a: &[Value]) -> R {
    let (x, y) = (list_arg(a.first(), "sets.intersects")?, list_arg(a.get(1), "sets.intersects")?);
    Ok(Value::Bool(y.iter().any(|v| x.contains(v))))
}
vfn!(f_sets_contains, sets_contains);
vfn!(f_sets_equivalent, sets_equivalent);
vfn!(f_sets_intersects, sets_intersects);

// ---- URLs ----

/// A parsed URL (Go's `url.ParseRequestURI` as the `url` library uses it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    scheme: String,
    host: String,
    path: String,
    query: String,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        "net.URL"
    }
}

fn parse_url(s: &str) -> Option<Url> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (before_query, query) = match s.split_once('?') {
        Some((a, q)) => (a, q.to_string()),
        None => (s, String::new()),
    };
    if before_query.starts_with('/') {
        return Some(Url { scheme: String::new(), host: String::new(), path: before_query.to_string(), query });
    }
    let (scheme, rest) = before_query.split_once(':')?;
    let mut chars = scheme.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    let (host, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (r[..i].to_string(), r[i..].to_string()),
            None => (r.to_string(), String::new()),
        },
        None if rest.starts_with('/') => (String::new(), rest.to_string()),
        None => return None,
    };
    let host = host.rsplit_once('@').map_or(host.clone(), |(_, h)| h.to_string());
    Some(Url { scheme: scheme.to_string(), host, path, query })
}

fn url_of(a: &[Value], function: &str) -> Result<Url, ExecutionError> {
    if let Some(u) = opaque::<Url>(a.first()) {
        return Ok(u.clone());
    }
    Err(no_overload(function))
}

fn url(a: &[Value]) -> R {
    let s = string_arg(a.first(), "url")?;
    match parse_url(s) {
        Some(u) => Ok(Value::Opaque(Arc::new(u))),
        None => Err(err("url", format!("URL parse error during conversion from string: parse {}: invalid URI for request", go_quote(s)))),
    }
}
fn is_url(a: &[Value]) -> R {
    Ok(Value::Bool(parse_url(string_arg(a.first(), "isURL")?).is_some()))
}
fn hostname(host: &str) -> &str {
    if let Some(r) = host.strip_prefix('[') {
        return r.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}
fn port(host: &str) -> &str {
    let after = match host.rfind(']') {
        Some(i) => &host[i + 1..],
        None => host,
    };
    after.rsplit_once(':').map_or("", |(_, p)| p)
}
fn s(v: impl Into<String>) -> Value {
    Value::String(Arc::new(v.into()))
}
fn url_scheme(a: &[Value]) -> R {
    Ok(s(url_of(a, "getScheme")?.scheme))
}
fn url_host(a: &[Value]) -> R {
    Ok(s(url_of(a, "getHost")?.host))
}
fn url_hostname(a: &[Value]) -> R {
    Ok(s(hostname(&url_of(a, "getHostname")?.host)))
}
fn url_port(a: &[Value]) -> R {
    Ok(s(port(&url_of(a, "getPort")?.host)))
}
fn url_path(a: &[Value]) -> R {
    Ok(s(url_of(a, "getEscapedPath")?.path))
}
fn url_query(a: &[Value]) -> R {
    let u = url_of(a, "getQuery")?;
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for pair in u.query.split(['&', ';']).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(k.to_string()).or_default().push(s(v));
    }
    let map: HashMap<Key, Value> = out.into_iter().map(|(k, v)| (Key::String(Arc::new(k)), Value::List(Arc::new(v)))).collect();
    Ok(Value::Map(Map { map: Arc::new(map) }))
}
vfn!(f_url, url);
vfn!(f_is_url, is_url);
vfn!(f_url_scheme, url_scheme);
vfn!(f_url_host, url_host);
vfn!(f_url_hostname, url_hostname);
vfn!(f_url_port, url_port);
vfn!(f_url_path, url_path);
vfn!(f_url_query, url_query);

// ---- IPs and CIDRs ----

#[derive(Debug, Clone, PartialEq, Eq)]
struct Ip(IpAddr);

impl Opaque for Ip {
    fn runtime_type_name(&self) -> &str {
        "net.IP"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cidr {
    ip: IpAddr,
    prefix: u8,
}

impl Opaque for Cidr {
    fn runtime_type_name(&self) -> &str {
        "net.CIDR"
    }
}

/// `netip.ParseAddr` as the library uses it: no zones, no IPv4-mapped IPv6.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.parse().ok()?;
    if let IpAddr::V6(v6) = ip {
        if v6.to_ipv4_mapped().is_some() {
            return None;
        }
    }
    Some(ip)
}

fn parse_cidr(s: &str) -> Option<Cidr> {
    let (ip, len) = s.split_once('/')?;
    let ip = parse_ip(ip)?;
    if len.is_empty() || (len.len() > 1 && len.starts_with('0')) {
        return None;
    }
    let prefix: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(Cidr { ip, prefix })
}

fn ip_bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v) => (u32::from(v) as u128, 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    }
}

fn masked(c: &Cidr) -> IpAddr {
    let (bits, width) = ip_bits(c.ip);
    let host = width - c.prefix;
    let mask = if host >= 128 { 0 } else { !0u128 << host };
    let m = bits & mask;
    match c.ip {
        IpAddr::V4(_) => IpAddr::V4((m as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(m.into()),
    }
}

fn cidr_contains(c: &Cidr, ip: IpAddr) -> bool {
    if c.ip.is_ipv4() != ip.is_ipv4() {
        return false;
    }
    masked(&Cidr { ip, prefix: c.prefix }) == masked(c)
}

fn ip_fn(a: &[Value]) -> R {
    if let Some(c) = opaque::<Cidr>(a.first()) {
        return Ok(Value::Opaque(Arc::new(Ip(c.ip))));
    }
    let text = string_arg(a.first(), "ip")?;
    match parse_ip(text) {
        Some(ip) => Ok(Value::Opaque(Arc::new(Ip(ip)))),
        None => Err(err("ip", format!("IP Address {} parse error during conversion from string: ParseAddr({}): unable to parse IP", go_quote(text), go_quote(text)))),
    }
}
fn is_ip(a: &[Value]) -> R {
    Ok(Value::Bool(parse_ip(string_arg(a.first(), "isIP")?).is_some()))
}
fn ip_is_canonical(a: &[Value]) -> R {
    let text = string_arg(a.first(), "ip.isCanonical")?;
    match parse_ip(text) {
        Some(ip) => Ok(Value::Bool(ip.to_string() == text)),
        None => Err(err("ip.isCanonical", format!("IP Address {} parse error during conversion from string", go_quote(text)))),
    }
}
fn ip_of(a: &[Value], f: &str) -> Result<IpAddr, ExecutionError> {
    opaque::<Ip>(a.first()).map(|i| i.0).ok_or_else(|| no_overload(f))
}
fn ip_family(a: &[Value]) -> R {
    Ok(Value::Int(if ip_of(a, "family")?.is_ipv4() { 4 } else { 6 }))
}
fn ip_unspecified(a: &[Value]) -> R {
    Ok(Value::Bool(ip_of(a, "isUnspecified")?.is_unspecified()))
}
fn ip_loopback(a: &[Value]) -> R {
    Ok(Value::Bool(ip_of(a, "isLoopback")?.is_loopback()))
}
fn ip_ll_multicast(a: &[Value]) -> R {
    Ok(Value::Bool(match ip_of(a, "isLinkLocalMulticast")? {
        IpAddr::V4(v) => v.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v) => v.segments()[0] & 0xff0f == 0xff02,
    }))
}
fn ip_ll_unicast(a: &[Value]) -> R {
    Ok(Value::Bool(match ip_of(a, "isLinkLocalUnicast")? {
        IpAddr::V4(v) => v.is_link_local(),
        IpAddr::V6(v) => v.segments()[0] & 0xffc0 == 0xfe80,
    }))
}
fn ip_global_unicast(a: &[Value]) -> R {
    let ip = ip_of(a, "isGlobalUnicast")?;
    let ok = match ip {
        IpAddr::V4(v) => !(v.is_unspecified() || v.is_loopback() || v.is_multicast() || v.is_link_local() || v.is_broadcast()),
        IpAddr::V6(v) => !(v.is_unspecified() || v.is_loopback() || v.is_multicast() || v.segments()[0] & 0xffc0 == 0xfe80),
    };
    Ok(Value::Bool(ok))
}
fn cidr_fn(a: &[Value]) -> R {
    let text = string_arg(a.first(), "cidr")?;
    match parse_cidr(text) {
        Some(c) => Ok(Value::Opaque(Arc::new(c))),
        None => Err(err("cidr", format!("network address parse error during conversion from string: netip.ParsePrefix({}): invalid prefix", go_quote(text)))),
    }
}
fn is_cidr(a: &[Value]) -> R {
    Ok(Value::Bool(parse_cidr(string_arg(a.first(), "isCIDR")?).is_some()))
}
fn cidr_of(a: &[Value], f: &str) -> Result<Cidr, ExecutionError> {
    opaque::<Cidr>(a.first()).cloned().ok_or_else(|| no_overload(f))
}
fn cidr_contains_ip(a: &[Value]) -> R {
    let c = cidr_of(a, "containsIP")?;
    let ip = match (a.get(1), opaque::<Ip>(a.get(1))) {
        (_, Some(ip)) => ip.0,
        (Some(Value::String(t)), _) => parse_ip(t).ok_or_else(|| err("containsIP", format!("IP Address {} parse error", go_quote(t))))?,
        _ => return Err(no_overload("containsIP")),
    };
    Ok(Value::Bool(cidr_contains(&c, ip)))
}
fn cidr_contains_cidr(a: &[Value]) -> R {
    let c = cidr_of(a, "containsCIDR")?;
    let other = match (a.get(1), opaque::<Cidr>(a.get(1))) {
        (_, Some(o)) => o.clone(),
        (Some(Value::String(t)), _) => parse_cidr(t).ok_or_else(|| err("containsCIDR", format!("network address parse error {}", go_quote(t))))?,
        _ => return Err(no_overload("containsCIDR")),
    };
    Ok(Value::Bool(other.prefix >= c.prefix && cidr_contains(&c, other.ip)))
}
fn cidr_masked(a: &[Value]) -> R {
    let c = cidr_of(a, "masked")?;
    Ok(Value::Opaque(Arc::new(Cidr { ip: masked(&c), prefix: c.prefix })))
}
fn cidr_prefix(a: &[Value]) -> R {
    Ok(Value::Int(cidr_of(a, "prefixLength")?.prefix as i64))
}
fn net_string(a: &[Value]) -> R {
    if let Some(ip) = opaque::<Ip>(a.first()) {
        return Ok(s(ip.0.to_string()));
    }
    if let Some(c) = opaque::<Cidr>(a.first()) {
        return Ok(s(format!("{}/{}", c.ip, c.prefix)));
    }
    Err(no_overload("string"))
}
vfn!(f_ip, ip_fn);
vfn!(f_is_ip, is_ip);
vfn!(f_ip_is_canonical, ip_is_canonical);
vfn!(f_ip_family, ip_family);
vfn!(f_ip_unspecified, ip_unspecified);
vfn!(f_ip_loopback, ip_loopback);
vfn!(f_ip_ll_multicast, ip_ll_multicast);
vfn!(f_ip_ll_unicast, ip_ll_unicast);
vfn!(f_ip_global_unicast, ip_global_unicast);
vfn!(f_cidr, cidr_fn);
vfn!(f_is_cidr, is_cidr);
vfn!(f_cidr_contains_ip, cidr_contains_ip);
vfn!(f_cidr_contains_cidr, cidr_contains_cidr);
vfn!(f_cidr_masked, cidr_masked);
vfn!(f_cidr_prefix, cidr_prefix);
vfn!(f_net_string, net_string);

// ---- quantities ----

/// A quantity as an exact decimal: `num × 10^exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Quantity {
    num: i128,
    exp: i32,
}

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

/// `resource.ParseQuantity`: `<signed number><suffix>` with binary (Ki..Ei), decimal (n..E) or
/// exponent (e3, E-2) suffixes.
fn parse_quantity(text: &str) -> Option<Quantity> {
    let t = text.trim_start_matches('+');
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, suffix) = t.split_at(end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int}{frac}");
    let mut num: i128 = digits.trim_start_matches('0').parse().unwrap_or(0);
    if digits.len() > 30 {
        return None;
    }
    let mut exp = -(frac.len() as i32);
    let binary = |n: u32| -> Option<i128> { 1024i128.checked_pow(n) };
    match suffix {
        "" => {}
        "Ki" => num = num.checked_mul(binary(1)?)?,
        "Mi" => num = num.checked_mul(binary(2)?)?,
        "Gi" => num = num.checked_mul(binary(3)?)?,
        "Ti" => num = num.checked_mul(binary(4)?)?,
        "Pi" => num = num.checked_mul(binary(5)?)?,
        "Ei" => num = num.checked_mul(binary(6)?)?,
        "n" => exp -= 9,
        "u" => exp -= 6,
        "m" => exp -= 3,
        "k" => exp += 3,
        "M" => exp += 6,
        "G" => exp += 9,
        "T" => exp += 12,
        "P" => exp += 15,
        "E" => exp += 18,
        s if s.starts_with(['e', 'E']) => {
            let e: i32 = s[1..].parse().ok()?;
            if s[1..].starts_with('+') {
                return None;
            }
            exp += e;
        }
        _ => return None,
    }
    if neg {
        num = -num;
    }
    Some(normalize(Quantity { num, exp }))
}

fn normalize(mut q: Quantity) -> Quantity {
    if q.num == 0 {
        return Quantity { num: 0, exp: 0 };
    }
    while q.num % 10 == 0 {
        q.num /= 10;
        q.exp += 1;
    }
    q
}

/// The two quantities at a common exponent (None on overflow).
fn align(a: &Quantity, b: &Quantity) -> Option<(i128, i128, i32)> {
    let exp = a.exp.min(b.exp);
    let scale = |q: &Quantity| -> Option<i128> { q.num.checked_mul(10i128.checked_pow((q.exp - exp) as u32)?) };
    Some((scale(a)?, scale(b)?, exp))
}

fn q_cmp(a: &Quantity, b: &Quantity) -> Ordering {
    match align(a, b) {
        Some((x, y, _)) => x.cmp(&y),
        None => (a.num as f64 * 10f64.powi(a.exp)).partial_cmp(&(b.num as f64 * 10f64.powi(b.exp))).unwrap_or(Ordering::Equal),
    }
}

fn quantity(a: &[Value]) -> R {
    let text = string_arg(a.first(), "quantity")?;
    parse_quantity(text).map(|q| Value::Opaque(Arc::new(q))).ok_or_else(|| err("quantity", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
}
fn is_quantity(a: &[Value]) -> R {
    Ok(Value::Bool(parse_quantity(string_arg(a.first(), "isQuantity")?).is_some()))
}
fn q_of(v: Option<&Value>, f: &str) -> Result<Quantity, ExecutionError> {
    match v {
        Some(Value::Int(i)) => Ok(normalize(Quantity { num: *i as i128, exp: 0 })),
        _ => opaque::<Quantity>(v).cloned().ok_or_else(|| no_overload(f)),
    }
}
fn q_is_integer(a: &[Value]) -> R {
    Ok(Value::Bool(q_of(a.first(), "isInteger")?.exp >= 0))
}
fn q_as_integer(a: &[Value]) -> R {
    let q = q_of(a.first(), "asInteger")?;
    let fail = || err("asInteger", "cannot convert value to integer");
    if q.exp < 0 {
        return Err(fail());
    }
    let v = q.num.checked_mul(10i128.checked_pow(q.exp as u32).ok_or_else(fail)?).ok_or_else(fail)?;
    i64::try_from(v).map(Value::Int).map_err(|_| fail())
}
fn q_as_float(a: &[Value]) -> R {
    let q = q_of(a.first(), "asApproximateFloat")?;
    Ok(Value::Float(q.num as f64 * 10f64.powi(q.exp)))
}
fn q_sign(a: &[Value]) -> R {
    Ok(Value::Int(q_of(a.first(), "sign")?.num.signum() as i64))
}
fn q_add_sub(a: &[Value], f: &str, sign: i128) -> R {
    let (x, y) = (q_of(a.first(), f)?, q_of(a.get(1), f)?);
    let (p, q, exp) = align(&x, &y).ok_or_else(|| err(f, "quantity overflow"))?;
    let num = p.checked_add(sign * q).ok_or_else(|| err(f, "quantity overflow"))?;
    Ok(Value::Opaque(Arc::new(normalize(Quantity { num, exp }))))
}
fn q_add(a: &[Value]) -> R {
    q_add_sub(a, "add", 1)
}
fn q_sub(a: &[Value]) -> R {
    q_add_sub(a, "sub", -1)
}
vfn!(f_quantity, quantity);
vfn!(f_is_quantity, is_quantity);
vfn!(f_q_is_integer, q_is_integer);
vfn!(f_q_as_integer, q_as_integer);
vfn!(f_q_as_float, q_as_float);
vfn!(f_q_sign, q_sign);
vfn!(f_q_add, q_add);
vfn!(f_q_sub, q_sub);

// ---- semver ----

#[derive(Debug, Clone, PartialEq, Eq)]
struct Semver {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
}

impl Opaque for Semver {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Semver"
    }
}

fn parse_semver(text: &str, normalize: bool) -> Option<Semver> {
    let mut t = text;
    if normalize {
        t = t.strip_prefix('v').unwrap_or(t);
    }
    let core_end = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(core_end);
    let mut parts: Vec<&str> = core.split('.').collect();
    if normalize {
        while parts.len() < 3 {
            parts.push("0");
        }
    }
    let [ma, mi, pa] = parts.as_slice() else { return None };
    let num = |p: &str| -> Option<u64> {
        if p.is_empty() || (!normalize && p.len() > 1 && p.starts_with('0')) || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let pre_text = rest.strip_prefix('-').map(|r| r.split('+').next().unwrap_or(""));
    let pre: Vec<String> = match pre_text {
        Some("") => return None,
        Some(p) => p.split('.').map(str::to_string).collect(),
        None => Vec::new(),
    };
    Some(Semver { major: num(ma)?, minor: num(mi)?, patch: num(pa)?, pre })
}

fn semver_cmp(a: &Semver, b: &Semver) -> Ordering {
    (a.major, a.minor, a.patch).cmp(&(b.major, b.minor, b.patch)).then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            for (x, y) in a.pre.iter().zip(&b.pre) {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.pre.len().cmp(&b.pre.len())
        }
    })
}

fn semver(a: &[Value]) -> R {
    let text = string_arg(a.first(), "semver")?;
    let normalize = matches!(a.get(1), Some(Value::Bool(true)));
    parse_semver(text, normalize).map(|v| Value::Opaque(Arc::new(v))).ok_or_else(|| err("semver", "No Major.Minor.Patch elements found"))
}
fn is_semver(a: &[Value]) -> R {
    let normalize = matches!(a.get(1), Some(Value::Bool(true)));
    Ok(Value::Bool(parse_semver(string_arg(a.first(), "isSemver")?, normalize).is_some()))
}
fn sv_of(v: Option<&Value>, f: &str) -> Result<Semver, ExecutionError> {
    opaque::<Semver>(v).cloned().ok_or_else(|| no_overload(f))
}
fn sv_major(a: &[Value]) -> R {
    Ok(Value::Int(sv_of(a.first(), "major")?.major as i64))
}
fn sv_minor(a: &[Value]) -> R {
    Ok(Value::Int(sv_of(a.first(), "minor")?.minor as i64))
}
fn sv_patch(a: &[Value]) -> R {
    Ok(Value::Int(sv_of(a.first(), "patch")?.patch as i64))
}
vfn!(f_semver, semver);
vfn!(f_is_semver, is_semver);
vfn!(f_sv_major, sv_major);
vfn!(f_sv_minor, sv_minor);
vfn!(f_sv_patch, sv_patch);

/// `isLessThan`, `isGreaterThan`, `compareTo` of quantities and semvers.
fn ordering(a: &[Value], f: &str) -> Result<Ordering, ExecutionError> {
    if let (Some(x), Some(y)) = (opaque::<Semver>(a.first()), opaque::<Semver>(a.get(1))) {
        return Ok(semver_cmp(x, y));
    }
    Ok(q_cmp(&q_of(a.first(), f)?, &q_of(a.get(1), f)?))
}
fn is_less_than(a: &[Value]) -> R {
    Ok(Value::Bool(ordering(a, "isLessThan")? == Ordering::Less))
}
fn is_greater_than(a: &[Value]) -> R {
    Ok(Value::Bool(ordering(a, "isGreaterThan")? == Ordering::Greater))
}
fn compare_to(a: &[Value]) -> R {
    Ok(Value::Int(match ordering(a, "compareTo")? {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}
vfn!(f_is_less_than, is_less_than);
vfn!(f_is_greater_than, is_greater_than);
vfn!(f_compare_to, compare_to);

// ---- format ----

#[derive(Debug, Clone, PartialEq, Eq)]
struct NamedFormat(&'static str);

impl Opaque for NamedFormat {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.NamedFormat"
    }
}

const FORMATS: &[&str] = &[
    "dns1123Label", "dns1123Subdomain", "dns1035Label", "qualifiedName", "dns1123LabelPrefix",
    "dns1123SubdomainPrefix", "dns1035LabelPrefix", "labelValue", "uri", "uuid", "byte", "date", "datetime",
];

const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1035_LABEL: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const QUALIFIED_NAME: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

fn full_match(re: &str, s: &str) -> bool {
    // The patterns are the constants above: compiled once.
    let anchored = format!("^(?:{re})$");
    crate::regexes::precompile(&anchored);
    crate::regexes::compiled(&anchored).is_ok_and(|r| r.is_match(s))
}

fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let quoted: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!("{msg} (e.g. {}regex used for validation is '{fmt}')", quoted.join(" or "))
}

/// Upstream's `IsDNS1123Label` and friends: the messages, empty when valid.
fn validate_format(name: &str, v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let label = |v: &str, errs: &mut Vec<String>, re: &str, msg: &str, ex: &[&str]| {
        if v.len() > 63 {
            errs.push("must be no more than 63 characters".to_string());
        }
        if !full_match(re, v) {
            errs.push(regex_error(msg, re, ex));
        }
    };
    let mask = |v: &str| if v.len() > 1 && v.ends_with('-') { format!("{}a", &v[..v.len() - 2]) } else { v.to_string() };
    const L_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    const S_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    const D_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
    match name {
        "dns1123Label" => label(v, &mut errs, DNS1123_LABEL, L_MSG, &["my-name", "123-abc"]),
        "dns1123LabelPrefix" => label(&mask(v), &mut errs, DNS1123_LABEL, L_MSG, &["my-name", "123-abc"]),
        "dns1035Label" => label(v, &mut errs, DNS1035_LABEL, D_MSG, &["my-name", "abc-123"]),
        "dns1035LabelPrefix" => label(&mask(v), &mut errs, DNS1035_LABEL, D_MSG, &["my-name", "abc-123"]),
        "dns1123Subdomain" | "dns1123SubdomainPrefix" => {
            let v = if name.ends_with("Prefix") { mask(v) } else { v.to_string() };
            if v.len() > 253 {
                errs.push("must be no more than 253 characters".to_string());
            }
            if !full_match(DNS1123_SUBDOMAIN, &v) {
                errs.push(regex_error(S_MSG, DNS1123_SUBDOMAIN, &["example.com"]));
            }
        }
        "qualifiedName" => {
            let (prefix, n) = match v.split_once('/') {
                Some((p, n)) => (Some(p), n),
                None => (None, v),
            };
            if let Some(p) = prefix {
                if p.is_empty() {
                    errs.push("prefix part must be non-empty".to_string());
                } else if !full_match(DNS1123_SUBDOMAIN, p) {
                    errs.push(format!("prefix part {}", regex_error(S_MSG, DNS1123_SUBDOMAIN, &["example.com"])));
                }
            }
            if n.is_empty() {
                errs.push("name part must be non-empty".to_string());
            } else if n.len() > 63 {
                errs.push("name part must be no more than 63 characters".to_string());
            }
            if !full_match(QUALIFIED_NAME, n) {
                let msg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
                errs.push(regex_error(msg, QUALIFIED_NAME, &["MyName", "my.name", "123-abc"]));
            }
        }
        "labelValue" => {
            if v.len() > 63 {
                errs.push("must be no more than 63 characters".to_string());
            }
            if !full_match(LABEL_VALUE, v) {
                let msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
                errs.push(regex_error(msg, LABEL_VALUE, &["MyValue", "my_value", "12345"]));
            }
        }
        "uri" if parse_url(v).is_none() => errs.push("invalid URI".to_string()),
        "uuid" if !full_match("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", v) => errs.push("does not match the UUID format".to_string()),
        "byte" if !full_match("(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", v) => errs.push("invalid base64".to_string()),
        "date" if chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err() => errs.push("invalid date".to_string()),
        "datetime" if chrono::DateTime::parse_from_rfc3339(v).is_err() => errs.push("invalid datetime".to_string()),
        _ => {}
    }
    errs
}

fn format_named(a: &[Value]) -> R {
    let name = string_arg(a.first(), "format.named")?;
    let opt = match FORMATS.iter().find(|f| **f == name) {
        Some(f) => OptionalValue::of(Value::Opaque(Arc::new(NamedFormat(f)))),
        None => OptionalValue::none(),
    };
    Ok(Value::Opaque(Arc::new(opt)))
}
fn format_validate(a: &[Value]) -> R {
    let f = opaque::<NamedFormat>(a.first()).ok_or_else(|| no_overload("validate"))?;
    let v = string_arg(a.get(1), "validate")?;
    let errs = validate_format(f.0, v);
    let opt = if errs.is_empty() {
        OptionalValue::none()
    } else {
        OptionalValue::of(Value::List(Arc::new(errs.into_iter().map(s).collect())))
    };
    Ok(Value::Opaque(Arc::new(opt)))
}
vfn!(f_format_named, format_named);
vfn!(f_format_validate, format_validate);

macro_rules! named_format {
    ($($fname:ident => $name:literal),* $(,)?) => {
        $(
            fn $fname<'b, 'v>(_args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
                let out = Value::Opaque(Arc::new(NamedFormat($name)));
                let boxed: Box<dyn Val> = out.try_into()?;
                Ok(CowVal::from(boxed))
            }
        )*
        const NAMED_FORMATS: &[(&str, cel::common::functions::Function)] = &[$((concat!("format.", $name), $fname)),*];
    };
}

named_format! {
    nf_dns1123_label => "dns1123Label", nf_dns1123_subdomain => "dns1123Subdomain", nf_dns1035_label => "dns1035Label",
    nf_qualified_name => "qualifiedName", nf_dns1123_label_prefix => "dns1123LabelPrefix",
    nf_dns1123_subdomain_prefix => "dns1123SubdomainPrefix", nf_dns1035_label_prefix => "dns1035LabelPrefix",
    nf_label_value => "labelValue", nf_uri => "uri", nf_uuid => "uuid", nf_byte => "byte", nf_date => "date",
    nf_datetime => "datetime",
}

/// Registers the libraries on `env`.
pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let d = || DYN_TYPE;
    // Lists.
    env.add_member_overload("isSorted", "list_is_sorted", LIST_TYPE, vec![], f_is_sorted)?;
    env.add_member_overload("sum", "list_sum", LIST_TYPE, vec![], f_sum)?;
    env.add_member_overload("min", "list_min", LIST_TYPE, vec![], f_min)?;
    env.add_member_overload("max", "list_max", LIST_TYPE, vec![], f_max)?;
    env.add_member_overload("indexOf", "list_index_of", LIST_TYPE, vec![d()], f_index_of)?;
    env.add_member_overload("lastIndexOf", "list_last_index_of", LIST_TYPE, vec![d()], f_last_index_of)?;
    env.add_member_overload("first", "list_first", LIST_TYPE, vec![], f_first)?;
    env.add_member_overload("last", "list_last", LIST_TYPE, vec![], f_last)?;
    env.add_member_overload("unwrapOpt", "optional_unwrapOpt", LIST_TYPE, vec![], f_unwrap_opt)?;
    env.add_overload("optional.unwrap", "optional_unwrap", vec![LIST_TYPE], f_unwrap_opt)?;
    // Two-variable comprehensions.
    env.add_overload(crate::twovar::PAIRS, "pairs", vec![d()], f_pairs)?;
    env.add_overload(crate::twovar::MAP_INSERT, "map_insert_key_value", vec![d(), d(), d()], f_map_insert)?;
    env.add_overload(crate::twovar::MAP_INSERT, "map_insert_map", vec![d(), d()], f_map_insert)?;
    // Regex.
    env.add_member_overload("find", "string_find", STRING_TYPE, vec![STRING_TYPE], f_find)?;
    env.add_member_overload("findAll", "string_find_all", STRING_TYPE, vec![STRING_TYPE], f_find_all)?;
    env.add_member_overload("findAll", "string_find_all_n", STRING_TYPE, vec![STRING_TYPE, INT_TYPE], f_find_all)?;
    // Sets.
    env.add_overload("sets.contains", "sets_contains", vec![LIST_TYPE, LIST_TYPE], f_sets_contains)?;
    env.add_overload("sets.equivalent", "sets_equivalent", vec![LIST_TYPE, LIST_TYPE], f_sets_equivalent)?;
    env.add_overload("sets.intersects", "sets_intersects", vec![LIST_TYPE, LIST_TYPE], f_sets_intersects)?;
    // URLs.
    env.add_overload("url", "string_to_url", vec![STRING_TYPE], f_url)?;
    env.add_overload("isURL", "is_url_string", vec![STRING_TYPE], f_is_url)?;
    env.add_member_overload("getScheme", "url_get_scheme", d(), vec![], f_url_scheme)?;
    env.add_member_overload("getHost", "url_get_host", d(), vec![], f_url_host)?;
    env.add_member_overload("getHostname", "url_get_hostname", d(), vec![], f_url_hostname)?;
    env.add_member_overload("getPort", "url_get_port", d(), vec![], f_url_port)?;
    env.add_member_overload("getEscapedPath", "url_get_escaped_path", d(), vec![], f_url_path)?;
    env.add_member_overload("getQuery", "url_get_query", d(), vec![], f_url_query)?;
    // IPs and CIDRs.
    env.add_overload("ip", "string_to_ip", vec![STRING_TYPE], f_ip)?;
    env.add_member_overload("ip", "cidr_ip", d(), vec![], f_ip)?;
    env.add_overload("isIP", "is_ip", vec![STRING_TYPE], f_is_ip)?;
    env.add_overload("ip.isCanonical", "ip_is_canonical", vec![STRING_TYPE], f_ip_is_canonical)?;
    env.add_member_overload("family", "ip_family", d(), vec![], f_ip_family)?;
    env.add_member_overload("isUnspecified", "ip_is_unspecified", d(), vec![], f_ip_unspecified)?;
    env.add_member_overload("isLoopback", "ip_is_loopback", d(), vec![], f_ip_loopback)?;
    env.add_member_overload("isLinkLocalMulticast", "ip_is_link_local_multicast", d(), vec![], f_ip_ll_multicast)?;
    env.add_member_overload("isLinkLocalUnicast", "ip_is_link_local_unicast", d(), vec![], f_ip_ll_unicast)?;
    env.add_member_overload("isGlobalUnicast", "ip_is_global_unicast", d(), vec![], f_ip_global_unicast)?;
    env.add_overload("cidr", "string_to_cidr", vec![STRING_TYPE], f_cidr)?;
    env.add_overload("isCIDR", "is_cidr", vec![STRING_TYPE], f_is_cidr)?;
    env.add_member_overload("containsIP", "cidr_contains_ip", d(), vec![d()], f_cidr_contains_ip)?;
    env.add_member_overload("containsCIDR", "cidr_contains_cidr", d(), vec![d()], f_cidr_contains_cidr)?;
    env.add_member_overload("masked", "cidr_masked", d(), vec![], f_cidr_masked)?;
    env.add_member_overload("prefixLength", "cidr_prefix_length", d(), vec![], f_cidr_prefix)?;
    env.add_overload("string", "net_to_string", vec![d()], f_net_string)?;
    // Quantities.
    env.add_overload("quantity", "string_to_quantity", vec![STRING_TYPE], f_quantity)?;
    env.add_overload("isQuantity", "is_quantity", vec![STRING_TYPE], f_is_quantity)?;
    env.add_member_overload("isInteger", "quantity_is_integer", d(), vec![], f_q_is_integer)?;
    env.add_member_overload("asInteger", "quantity_as_integer", d(), vec![], f_q_as_integer)?;
    env.add_member_overload("asApproximateFloat", "quantity_as_float", d(), vec![], f_q_as_float)?;
    env.add_member_overload("sign", "quantity_sign", d(), vec![], f_q_sign)?;
    env.add_member_overload("add", "quantity_add", d(), vec![d()], f_q_add)?;
    env.add_member_overload("sub", "quantity_sub", d(), vec![d()], f_q_sub)?;
    env.add_member_overload("isLessThan", "less_than", d(), vec![d()], f_is_less_than)?;
    env.add_member_overload("isGreaterThan", "greater_than", d(), vec![d()], f_is_greater_than)?;
    env.add_member_overload("compareTo", "compare_to", d(), vec![d()], f_compare_to)?;
    // Semver.
    env.add_overload("semver", "string_to_semver", vec![STRING_TYPE], f_semver)?;
    env.add_overload("semver", "string_to_semver_normalize", vec![STRING_TYPE, d()], f_semver)?;
    env.add_overload("isSemver", "is_semver", vec![STRING_TYPE], f_is_semver)?;
    env.add_overload("isSemver", "is_semver_normalize", vec![STRING_TYPE, d()], f_is_semver)?;
    env.add_member_overload("major", "semver_major", d(), vec![], f_sv_major)?;
    env.add_member_overload("minor", "semver_minor", d(), vec![], f_sv_minor)?;
    env.add_member_overload("patch", "semver_patch", d(), vec![], f_sv_patch)?;
    // Format.
    env.add_overload("format.named", "format_named", vec![STRING_TYPE], f_format_named)?;
    for (name, f) in NAMED_FORMATS {
        env.add_overload(name, name, vec![], *f)?;
    }
    env.add_member_overload("validate", "format_validate", d(), vec![STRING_TYPE], f_format_validate)?;
    Ok(())
}

/// Go's `%q`.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// Parses a Go duration (`1h30m`, `-1.5s`, `300ms`, `0`).
pub(crate) fn parse_go_duration(text: &str) -> Option<chrono::Duration> {
    let (neg, mut t) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if t == "0" {
        return Some(chrono::Duration::zero());
    }
    if t.is_empty() {
        return None;
    }
    let mut nanos: f64 = 0.0;
    while !t.is_empty() {
        let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = t[..end].parse().ok()?;
        t = &t[end..];
        let unit_end = t.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(t.len());
        let scale = match &t[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        nanos += n * scale;
        t = &t[unit_end..];
    }
    let d = chrono::Duration::nanoseconds(nanos as i64);
    Some(if neg { -d } else { d })
}

/// cel-go's text for a runtime error (`no such key: x`, `division by zero`, `no such overload`).
pub(crate) fn error_text(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(k) => format!("no such key: {k}"),
        ExecutionError::DivisionByZero(_) => "division by zero".into(),
        ExecutionError::RemainderByZero(_) => "modulus by zero".into(),
        ExecutionError::Overflow(..) => "integer overflow".into(),
        ExecutionError::IndexOutOfBounds(i) => match i {
            Value::Int(n) => format!("index out of bounds: {n}"),
            other => format!("index out of bounds: {other:?}"),
        },
        ExecutionError::NoSuchOverload(_) | ExecutionError::UnsupportedBinaryOperator(..) | ExecutionError::ValuesNotComparable(..) => {
            "no such overload".into()
        }
        ExecutionError::FunctionError { message, .. } => message.clone(),
        ExecutionError::UndeclaredReference(r) => format!("no such attribute: {r}"),
        other => other.to_string(),
    }
}
