//! Measures what evaluating rules costs: the ten rules of the bench's `CelWidget` kind
//! (`tests/src/bin/kapi-bench/schemas/bench.kapi.dev/celwidgets.yaml`) over the bench's body, each
//! node's rules with one activation as kapi-runtime runs them, and prints µs per rule and per
//! create. Run it optimised: `cargo run --release -p kapi-cel --example rule_cost [iterations]`.

use std::collections::BTreeMap;
use std::time::Instant;

use kapi_cel::{Activation, CompileOptions, CompiledRule, DeclType, ListKind, Outcome, Rule, RUNTIME_CEL_COST_BUDGET};
use serde_json::{json, Value};

fn s(max: Option<u64>) -> DeclType {
    DeclType::string(None, max, &[])
}

fn fields(f: &[(&str, DeclType)]) -> BTreeMap<String, DeclType> {
    f.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// The node types of `CelWidget`, as kapi-runtime's `decl_type` builds them.
struct Types {
    root: DeclType,
    spec: DeclType,
    image: DeclType,
    memory: DeclType,
    labels: DeclType,
    ports: DeclType,
    port: DeclType,
}

fn types() -> Types {
    let port = DeclType::object(
        "port",
        fields(&[("name", s(Some(15))), ("port", DeclType::int()), ("protocol", s(Some(8)))]),
        vec!["name".into(), "port".into()],
        None,
    );
    let ports = DeclType::list(port.clone(), ListKind::Map, vec!["name".into()], Some(16));
    let labels = DeclType::map(s(Some(63)), Some(32));
    let image = s(Some(256));
    let memory = s(Some(32));
    let spec = DeclType::object(
        "spec",
        fields(&[
            ("image", image.clone()),
            ("mode", DeclType::string(None, None, &["Fixed", "Scaled"])),
            ("minReplicas", DeclType::int()),
            ("maxReplicas", DeclType::int()),
            ("schedule", s(Some(64))),
            ("memory", memory.clone()),
            ("labels", labels.clone()),
            ("ports", ports.clone()),
        ]),
        vec!["image".into(), "minReplicas".into(), "maxReplicas".into()],
        None,
    );
    let root = DeclType::object(
        "object",
        fields(&[("apiVersion", s(None)), ("kind", s(None)), ("metadata", DeclType::dyn_type()), ("spec", spec.clone())]),
        vec![],
        None,
    );
    Types { root, spec, image, memory, labels, ports, port }
}

fn body() -> Value {
    let labels: serde_json::Map<String, Value> = (0..8).map(|i| (format!("team-{i}.example.com"), json!(format!("value-{i}")))).collect();
    json!({
        "apiVersion": "bench.kapi.dev/v1", "kind": "CelWidget",
        "metadata": {
            "generateName": "bench-", "name": "bench-x7k2p", "namespace": "default",
            "uid": "0b8f3f7e-6a4e-4d8e-9f0e-2a1f4f6c2b11", "creationTimestamp": "2025-01-01T00:00:00Z", "generation": 1,
            "annotations": {"pad": "x".repeat(400)},
        },
        "spec": {
            "image": "registry.example.com/team/widget:v1.2.3", "mode": "Scaled",
            "minReplicas": 1, "maxReplicas": 5, "schedule": "*/5 * * * 1-5", "memory": "512Mi",
            "labels": labels,
            "ports": [
                {"name": "http", "port": 8080, "protocol": "TCP"},
                {"name": "metrics", "port": 9090, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        },
    })
}

fn compile(rule: &str, decl: &DeclType, root: bool) -> CompiledRule {
    let opts = CompileOptions { old_self: Some(decl), cardinality: 1, resource_root: root, check_cost: false };
    match kapi_cel::compile_with(&Rule { rule, ..Rule::default() }, decl, &opts) {
        Ok(r) => r,
        Err(e) => panic!("{rule}: {e}"),
    }
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let t = types();
    let obj = body();
    let spec = &obj["spec"];
    // (node, rules, the values it runs over)
    let nodes: Vec<(&str, Vec<CompiledRule>, Vec<&Value>)> = vec![
        ("root", vec![compile("has(self.spec)", &t.root, true)], vec![&obj]),
        (
            "spec",
            vec![
                compile("self.minReplicas <= self.maxReplicas", &t.spec, false),
                compile("self.mode != 'Scaled' || self.maxReplicas > self.minReplicas", &t.spec, false),
                compile("!has(self.schedule) || self.schedule.matches('^(@(hourly|daily|weekly)|([0-9*/,-]+ ){4}[0-9*/,-]+)$')", &t.spec, false),
                compile("!has(self.ports) || self.ports.exists(p, p.name == 'http')", &t.spec, false),
            ],
            vec![spec],
        ),
        ("image", vec![compile("self.contains(':') && !self.endsWith(':latest')", &t.image, false)], vec![&spec["image"]]),
        (
            "memory",
            vec![compile("isQuantity(self) && quantity(self).compareTo(quantity('64Gi')) <= 0", &t.memory, false)],
            vec![&spec["memory"]],
        ),
        (
            "labels",
            vec![compile("self.all(k, k.size() <= 63 && k.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'))", &t.labels, false)],
            vec![&spec["labels"]],
        ),
        ("ports", vec![compile("self.all(p, self.exists_one(q, q.port == p.port))", &t.ports, false)], vec![&spec["ports"]]),
        (
            "ports[i]",
            vec![compile("self.port > 0 && self.port < 65536 && (!has(self.protocol) || self.protocol in ['TCP', 'UDP', 'SCTP'])", &t.port, false)],
            spec["ports"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
        ),
    ];
    // Each rule alone (a fresh activation per evaluation, so the conversion of `self` counts).
    println!("{:>9}  {:>8}  rule", "µs/eval", "max_cost");
    for (_, rules, values) in &nodes {
        for rule in rules {
            let start = Instant::now();
            for _ in 0..n {
                for v in values {
                    let act = Activation::new(v, None);
                    let mut budget = RUNTIME_CEL_COST_BUDGET;
                    let out = rule.evaluate(&act, &mut budget);
                    assert_eq!(out, Outcome::Pass, "{}", rule.rule());
                }
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n) / values.len() as f64;
            println!("{us:>9.2}  {:>8}  {}", rule.max_cost, rule.rule());
        }
    }
    // A whole create: each node's rules with one activation, one budget.
    let start = Instant::now();
    for _ in 0..n {
        let mut budget = RUNTIME_CEL_COST_BUDGET;
        for (_, rules, values) in &nodes {
            for v in values {
                let act = Activation::new(v, None);
                for rule in rules {
                    let _ = rule.evaluate(&act, &mut budget);
                }
            }
        }
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let evals: usize = nodes.iter().map(|(_, r, v)| r.len() * v.len()).sum();
    println!("per create: {us:.1} µs for {evals} evaluations ({:.2} µs each)", us / evals as f64);
}
