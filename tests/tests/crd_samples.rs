//! The three real-world CRDs in schemas/ compile into typed, validated kinds: their upstream samples
//! validate and decode, and broken samples get the errors kube-apiserver gives.

use apiserver::KINDS;
use kapi_runtime::apimachinery::schema::validate;
use kapi_runtime::apimachinery::{ErrorType, KindInfo};
use serde_json::{json, Value};

fn sample(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/crds/samples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn info(api_version: &str, kind: &str) -> &'static KindInfo {
    KINDS
        .iter()
        .copied()
        .find(|k| {
            let av = if k.group.is_empty() { k.version.to_string() } else { format!("{}/{}", k.group, k.version) };
            av == api_version && k.kind == kind
        })
        .unwrap_or_else(|| panic!("{api_version} {kind} is not in the registry"))
}

fn errors(v: &Value) -> Vec<(ErrorType, String, String)> {
    let av = v["apiVersion"].as_str().unwrap_or_default();
    let kind = v["kind"].as_str().unwrap_or_default();
    validate(info(av, kind).schema, v, "").into_iter().map(|e| (e.error_type, e.field.clone(), e.to_string())).collect()
}

#[test]
fn valid_samples_validate_and_decode() {
    let sm = sample("monitoring.coreos.com_servicemonitors.yaml");
    assert_eq!(errors(&sm), vec![]);
    let typed: apiserver::monitoring_coreos_com::v1::ServiceMonitor = serde_json::from_value(sm.clone()).expect("decodes");
    assert_eq!(typed.spec.endpoints.first().and_then(|e| e.interval.as_deref()), Some("30s"));
    assert_eq!(serde_json::to_value(&typed).expect("encodes"), sm, "round trip is lossless");

    let cert = sample("cert-manager.io_certificates.yaml");
    assert_eq!(errors(&cert), vec![]);
    let typed: apiserver::cert_manager_io::v1::Certificate = serde_json::from_value(cert.clone()).expect("decodes");
    assert_eq!(typed.spec.as_ref().map(|s| s.secret_name.as_str()), Some("example-com-tls"));
    assert_eq!(serde_json::to_value(&typed).expect("encodes"), cert);

    let route = sample("gateway.networking.k8s.io_httproutes.yaml");
    assert_eq!(errors(&route), vec![]);
    let typed: apiserver::gateway::v1beta1::HTTPRoute = serde_json::from_value(route.clone()).expect("decodes");
    let port = typed.spec.rules.as_ref().and_then(|r| r[0].backend_refs.as_ref()).map(|b| b[0].port);
    assert_eq!(port, Some(Some(80)));
}

#[test]
fn invalid_samples_are_rejected_like_upstream() {
    let mut sm = sample("monitoring.coreos.com_servicemonitors.yaml");
    sm["spec"]["endpoints"][0]["interval"] = json!("30 seconds");
    sm["spec"]["endpoints"][0]["scheme"] = json!("ftp");
    let errs = errors(&sm);
    assert!(errs.iter().any(|(t, f, _)| *t == ErrorType::Invalid && f == "spec.endpoints[0].interval"), "{errs:#?}");
    assert!(
        errs.iter().any(|(t, _, m)| *t == ErrorType::NotSupported
            && m == r#"spec.endpoints[0].scheme: Unsupported value: "ftp": supported values: "http", "https""#),
        "{errs:#?}"
    );

    let mut cert = sample("cert-manager.io_certificates.yaml");
    cert["spec"].as_object_mut().expect("spec").remove("secretName");
    cert["spec"]["dnsNames"] = json!("example.com");
    let errs = errors(&cert);
    assert!(errs.iter().any(|(t, _, m)| *t == ErrorType::Required && m == "spec.secretName: Required value"), "{errs:#?}");
    assert!(errs.iter().any(|(t, f, _)| *t == ErrorType::TypeInvalid && f == "spec.dnsNames"), "{errs:#?}");

    let mut route = sample("gateway.networking.k8s.io_httproutes.yaml");
    route["spec"]["rules"][0]["backendRefs"][0]["port"] = json!(70000);
    let errs = errors(&route);
    assert!(
        errs.iter().any(|(_, _, m)| m
            == "spec.rules[0].backendRefs[0].port: Invalid value: 70000: spec.rules[0].backendRefs[0].port in body should be less than or equal to 65535"),
        "{errs:#?}"
    );
}
