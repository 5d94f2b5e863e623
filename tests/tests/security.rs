//! Security acceptance against the real binary over HTTPS: the authorization matrix (users ×
//! verbs × resources under `--authorization-mode=Node,RBAC`), denied responses carry no data,
//! bad credentials are 401, TokenRequest / TokenReview / OIDC discovery, RBAC escalation
//! prevention, and `kubectl auth can-i` / `whoami` with the generated kubeconfig.

use std::path::Path;

use kapi_tests::server::{Identity, Reply, Server};
use serde_json::{json, Value};

/// A secret value that must never appear in a denied response.
const SECRET_B64: &str = "dG9wLXNlY3JldC12YWx1ZQ=="; // "top-secret-value"
const ALICE_TOKEN: &str = "alice-token-0123456789";
const BOB_TOKEN: &str = "bob-token-0123456789";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    p.display().to_string()
}

/// A client certificate for `cn` in `groups`, signed by the server's generated CA (PEM cert, key).
fn client_cert(server: &Server, cn: &str, groups: &[&str]) -> (String, String) {
    let pki = server.pki_dir();
    let ca_cert = std::fs::read_to_string(pki.join("ca.crt")).expect("ca.crt");
    let ca_key = std::fs::read_to_string(pki.join("ca.key")).expect("ca.key");
    let ca_key = rcgen::KeyPair::from_pem(&ca_key).expect("ca key");
    let ca = rcgen::Issuer::from_ca_cert_pem(&ca_cert, ca_key).expect("ca issuer");
    sign_client(&ca, cn, groups)
}

fn sign_client(ca: &rcgen::Issuer<'_, rcgen::KeyPair>, cn: &str, groups: &[&str]) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    for g in groups {
        params.distinguished_name.push(rcgen::DnType::OrganizationName, *g);
    }
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, ca).expect("sign");
    (cert.pem(), key.serialize_pem())
}

/// A client certificate from a CA the server does not know.
fn foreign_cert(cn: &str) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "other-ca");
    let key = rcgen::KeyPair::generate().expect("key");
    let ca = rcgen::Issuer::new(params, key);
    sign_client(&ca, cn, &["system:masters"])
}

fn ok(r: &Reply, what: &str) -> Value {
    assert!((200..300).contains(&r.status), "{what}: {} {}", r.status, r.text());
    r.json()
}

fn admin_post(s: &Server, path: &str, body: Value) -> Value {
    ok(&s.request_as(&Identity::Admin, "POST", path, &[("content-type", "application/json")], Some(&serde_json::to_vec(&body).expect("json"))), path)
}

fn pod(name: &str, node: Option<&str>, secret: Option<&str>) -> Value {
    let mut spec = json!({"containers": [{"name": "c", "image": "busybox"}]});
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    if let Some(sec) = secret {
        spec["volumes"] = json!([{"name": "v", "secret": {"secretName": sec}}]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

/// The server and objects every test of the matrix shares.
struct Fixture {
    server: Server,
    _files: tempfile::TempDir,
    node_cert: (String, String),
    sa_token: String,
}

fn fixture() -> Fixture {
    let files = tempfile::tempdir().expect("tempdir");
    let tokens = write(files.path(), "tokens.csv", &format!("{ALICE_TOKEN},alice,alice-uid\n{BOB_TOKEN},bob,bob-uid,\"devs,readers\"\n"));
    let server = Server::start(&[&format!("--token-auth-file={tokens}"), "--enable-bootstrap-token-auth", "--authorization-mode=Node,RBAC"]);
    let s = &server;
    admin_post(s, "/api/v1/namespaces", json!({"metadata": {"name": "ns1"}}));
    admin_post(s, "/api/v1/namespaces/ns1/configmaps", json!({"metadata": {"name": "cm1"}, "data": {"k": "v"}}));
    for name in ["s1", "s-ref"] {
        admin_post(s, "/api/v1/namespaces/ns1/secrets", json!({"metadata": {"name": name}, "data": {"password": SECRET_B64}}));
    }
    for name in ["n1", "n2"] {
        admin_post(s, "/api/v1/nodes", json!({"metadata": {"name": name}}));
    }
    admin_post(s, "/api/v1/namespaces/ns1/pods", pod("p1", Some("n1"), Some("s-ref")));
    // alice: a Role in ns1 on configmaps and pods.
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/roles", json!({
        "metadata": {"name": "alice-role"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list", "watch", "create", "delete"]}]
    }));
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/rolebindings", json!({
        "metadata": {"name": "alice-binding"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "alice-role"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]
    }));
    // bob: the view ClusterRole everywhere.
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json!({
        "metadata": {"name": "bob-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}]
    }));
    // sa1: edit in ns1, through a token from the TokenRequest API.
    admin_post(s, "/api/v1/namespaces/ns1/serviceaccounts", json!({"metadata": {"name": "sa1"}}));
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/rolebindings", json!({
        "metadata": {"name": "sa1-edit"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa1", "namespace": "ns1"}]
    }));
    let tr = admin_post(s, "/api/v1/namespaces/ns1/serviceaccounts/sa1/token", json!({"spec": {"expirationSeconds": 3600}}));
    let sa_token = tr["status"]["token"].as_str().expect("token").to_string();
    assert_eq!(tr["kind"], "TokenRequest", "{tr}");
    // An expired bootstrap token.
    admin_post(s, "/api/v1/namespaces/kube-system/secrets", json!({
        "metadata": {"name": "bootstrap-token-abcdef"},
        "type": "bootstrap.kubernetes.io/token",
        "stringData": {"token-id": "abcdef", "token-secret": "0123456789abcdef", "usage-bootstrap-authentication": "true", "expiration": "2020-01-01T00:00:00Z"}
    }));
    let node_cert = client_cert(s, "system:node:n1", &["system:nodes"]);
    Fixture { server, _files: files, node_cert, sa_token }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Alice,
    Bob,
    Anonymous,
    Node,
    ServiceAccount,
    ExpiredBootstrap,
}

const VERBS: [&str; 5] = ["get", "list", "watch", "create", "delete"];
const RESOURCES: [&str; 4] = ["configmaps", "secrets", "pods", "nodes"];

/// What upstream's rules decide: Some(true) allowed, Some(false) 403, None 401.
fn expected(who: Who, verb: &str, resource: &str) -> Option<bool> {
    let read = matches!(verb, "get" | "list" | "watch");
    Some(match who {
        Who::Admin => true,
        // A Role in ns1 on configmaps and pods, nothing else.
        Who::Alice => matches!(resource, "configmaps" | "pods"),
        // view: reads of configmaps and pods; never secrets; nodes are not in view.
        Who::Bob => read && matches!(resource, "configmaps" | "pods"),
        Who::Anonymous => false,
        // edit in ns1 covers configmaps, secrets and pods; nodes are cluster-scoped.
        Who::ServiceAccount => resource != "nodes",
        // Node authorizer: its own Node (get; create by the static rules, no delete, no list
        // without a metadata.name selector), pods bound to it (get) and the static rules (create,
        // delete pods; no unscoped list/watch), secrets/configmaps only when a pod on it uses them.
        Who::Node => matches!((resource, verb), ("nodes", "get" | "create") | ("pods", "get" | "create" | "delete")),
        Who::ExpiredBootstrap => return None,
    })
}

fn identity(f: &Fixture, who: Who) -> Identity {
    match who {
        Who::Admin => Identity::Admin,
        Who::Alice => Identity::Bearer(ALICE_TOKEN.into()),
        Who::Bob => Identity::Bearer(BOB_TOKEN.into()),
        Who::Anonymous => Identity::Anonymous,
        Who::Node => Identity::ClientCert { cert_pem: f.node_cert.0.clone(), key_pem: f.node_cert.1.clone() },
        Who::ServiceAccount => Identity::Bearer(f.sa_token.clone()),
        Who::ExpiredBootstrap => Identity::Bearer("abcdef.0123456789abcdef".into()),
    }
}

/// Performs `verb` on `resource` as `id`; objects to delete were made by the admin beforehand.
fn perform(s: &Server, id: &Identity, tag: &str, verb: &str, resource: &str) -> Reply {
    let (collection, existing) = match resource {
        "nodes" => ("/api/v1/nodes".to_string(), "n1"),
        "configmaps" => ("/api/v1/namespaces/ns1/configmaps".to_string(), "cm1"),
        "secrets" => ("/api/v1/namespaces/ns1/secrets".to_string(), "s1"),
        _ => ("/api/v1/namespaces/ns1/pods".to_string(), "p1"),
    };
    let body = |name: &str| -> Value {
        match resource {
            "pods" => pod(name, None, None),
            "secrets" => json!({"metadata": {"name": name}, "data": {"password": SECRET_B64}}),
            _ => json!({"metadata": {"name": name}}),
        }
    };
    let json_ct = [("content-type", "application/json")];
    match verb {
        "get" => s.request_as(id, "GET", &format!("{collection}/{existing}"), &[], None),
        "list" => s.request_as(id, "GET", &collection, &[], None),
        "watch" => s.request_as(id, "GET", &format!("{collection}?watch=1&timeoutSeconds=1"), &[], None),
        "create" => {
            let b = serde_json::to_vec(&body(&format!("new-{tag}"))).expect("json");
            s.request_as(id, "POST", &collection, &json_ct, Some(&b))
        }
        _ => {
            let victim = format!("del-{tag}");
            let b = serde_json::to_vec(&body(&victim)).expect("json");
            let made = s.request_as(&Identity::Admin, "POST", &collection, &json_ct, Some(&b));
            assert_eq!(made.status, 201, "admin creates {victim}: {}", made.text());
            s.request_as(id, "DELETE", &format!("{collection}/{victim}"), &[], None)
        }
    }
}

#[test]
fn authorization_matrix() {
    let f = fixture();
    let s = &f.server;
    let mut failures = Vec::new();
    for who in [Who::Admin, Who::Alice, Who::Bob, Who::Anonymous, Who::Node, Who::ServiceAccount, Who::ExpiredBootstrap] {
        let id = identity(&f, who);
        for resource in RESOURCES {
            for verb in VERBS {
                let tag = format!("{who:?}-{verb}").to_lowercase();
                let reply = perform(s, &id, &tag, verb, resource);
                let want = expected(who, verb, resource);
                let got = match reply.status {
                    200..=299 => Some(true),
                    403 => Some(false),
                    401 => None,
                    other => {
                        failures.push(format!("{who:?} {verb} {resource}: unexpected {other} {}", reply.text()));
                        continue;
                    }
                };
                if got != want {
                    failures.push(format!("{who:?} {verb} {resource}: want {want:?}, got {} {}", reply.status, reply.text()));
                }
                if reply.status == 403 || reply.status == 401 {
                    let body = reply.text();
                    let status = reply.json();
                    assert_eq!(status["kind"], "Status", "{body}");
                    assert_eq!(status["code"], reply.status, "{body}");
                    assert!(!body.contains(SECRET_B64) && !body.contains("\"items\""), "denied response leaks data: {body}");
                }
                if reply.status == 403 {
                    let message = reply.json()["message"].as_str().unwrap_or_default().to_string();
                    assert!(message.contains(&format!("cannot {verb} resource \"{resource}\"")), "{who:?}: {message}");
                }
                if reply.status == 401 {
                    assert_eq!(reply.json()["message"], "Unauthorized");
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} wrong decisions:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn view_user_cannot_list_or_watch_secrets_and_node_reads_only_its_pods_secrets() {
    let f = fixture();
    let s = &f.server;
    let bob = identity(&f, Who::Bob);
    for path in ["/api/v1/namespaces/ns1/secrets", "/api/v1/secrets", "/api/v1/namespaces/ns1/secrets?watch=true", "/api/v1/watch/namespaces/ns1/secrets"] {
        let r = s.request_as(&bob, "GET", path, &[], None);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        assert!(!r.text().contains(SECRET_B64));
        assert_eq!(r.json()["reason"], "Forbidden");
    }
    let r = s.request_as(&bob, "GET", "/api/v1/namespaces/ns1/secrets", &[], None);
    assert_eq!(
        r.json()["message"],
        "secrets is forbidden: User \"bob\" cannot list resource \"secrets\" in API group \"\" in the namespace \"ns1\""
    );
    let node = identity(&f, Who::Node);
    let r = s.request_as(&node, "GET", "/api/v1/namespaces/ns1/secrets/s-ref", &[], None);
    assert_eq!(r.status, 200, "a node reads the secret of a pod bound to it: {}", r.text());
    let r = s.request_as(&node, "GET", "/api/v1/namespaces/ns1/secrets/s1", &[], None);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = s.request_as(&node, "GET", "/api/v1/nodes/n2", &[], None);
    assert_eq!(r.status, 403, "a node reads only its own Node: {}", r.text());
}

#[test]
fn bad_credentials_are_401() {
    let f = fixture();
    let s = &f.server;
    let (cert, key) = foreign_cert("intruder");
    let mut tampered = f.sa_token.clone().into_bytes();
    // Flip one character of the payload (the middle part).
    let dot = tampered.iter().position(|b| *b == b'.').expect("jwt") + 5;
    tampered[dot] = if tampered[dot] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let cases: Vec<(&str, Identity)> = vec![
        ("bogus token", Identity::Bearer("definitely-not-a-token".into())),
        ("expired bootstrap token", identity(&f, Who::ExpiredBootstrap)),
        ("cert from another CA", Identity::ClientCert { cert_pem: cert, key_pem: key }),
        ("tampered JWT", Identity::Bearer(tampered)),
        ("malformed JWT", Identity::Bearer("eyJhbGciOiJSUzI1NiJ9.e30".into())),
        ("garbage JWT", Identity::Bearer("a.b.c".into())),
    ];
    for (what, id) in cases {
        for path in ["/api/v1/namespaces/ns1/configmaps", "/version", "/api"] {
            let r = s.request_as(&id, "GET", path, &[], None);
            assert_eq!(r.status, 401, "{what} {path}: {}", r.text());
            assert_eq!(r.json(), json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}));
        }
    }
    // An expired service-account token: a TokenReview of a token signed for another audience fails too.
    let review = admin_post(s, "/apis/authentication.k8s.io/v1/tokenreviews", json!({"spec": {"token": f.sa_token, "audiences": ["someone-else"]}}));
    assert_eq!(review["status"]["authenticated"], Value::Null, "{review}");
    // Anonymous: public info only.
    let anon = Identity::Anonymous;
    for (path, want) in [("/version", 200), ("/healthz", 200), ("/livez", 200), ("/readyz", 200), ("/api", 403), ("/api/v1/namespaces/ns1/configmaps", 403)] {
        let r = s.request_as(&anon, "GET", path, &[], None);
        assert_eq!(r.status, want, "anonymous {path}: {}", r.text());
    }
    // The server still serves.
    assert_eq!(s.request_as(&Identity::Admin, "GET", "/readyz", &[], None).status, 200);
}

#[test]
fn token_review_token_request_and_oidc_discovery() {
    let f = fixture();
    let s = &f.server;
    let review = admin_post(s, "/apis/authentication.k8s.io/v1/tokenreviews", json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": f.sa_token}}));
    assert_eq!(review["status"]["authenticated"], true, "{review}");
    assert_eq!(review["status"]["user"]["username"], "system:serviceaccount:ns1:sa1");
    let groups = review["status"]["user"]["groups"].as_array().cloned().unwrap_or_default();
    for g in ["system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"] {
        assert!(groups.contains(&json!(g)), "{g} in {groups:?}");
    }
    let sa = ok(&s.request_as(&Identity::Admin, "GET", "/api/v1/namespaces/ns1/serviceaccounts/sa1", &[], None), "sa");
    assert_eq!(review["status"]["user"]["uid"], sa["metadata"]["uid"]);
    let review = admin_post(s, "/apis/authentication.k8s.io/v1/tokenreviews", json!({"spec": {"token": ALICE_TOKEN}}));
    assert_eq!(review["status"]["user"]["username"], "alice", "{review}");
    // A token bound to a pod must be for the pod's service account.
    let r = s.request_as(&Identity::Admin, "POST", "/api/v1/namespaces/ns1/serviceaccounts/sa1/token", &[("content-type", "application/json")], Some(br#"{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p1"}}}"#));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("cannot bind token for serviceaccount \\\"sa1\\\" to pod running with different serviceaccount name."), "{}", r.text());
    // SelfSubjectRulesReview needs a namespace.
    let r = s.request_as(&Identity::Admin, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", &[("content-type", "application/json")], Some(b"{}"));
    assert_eq!((r.status, r.json()["message"].clone()), (400, json!("no namespace on request")), "{}", r.text());
    // Too-short tokens are refused as upstream does.
    let r = s.request_as(&Identity::Admin, "POST", "/api/v1/namespaces/ns1/serviceaccounts/sa1/token", &[("content-type", "application/json")], Some(br#"{"spec":{"expirationSeconds":60}}"#));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = s.request_as(&Identity::Admin, "POST", "/api/v1/namespaces/ns1/serviceaccounts/missing/token", &[("content-type", "application/json")], Some(b"{}"));
    assert_eq!(r.status, 404, "{}", r.text());
    // A deleted service account's token stops working (--service-account-lookup).
    let tr = admin_post(s, "/api/v1/namespaces/ns1/serviceaccounts", json!({"metadata": {"name": "short-lived"}}));
    let _ = tr;
    let token = admin_post(s, "/api/v1/namespaces/ns1/serviceaccounts/short-lived/token", json!({}))["status"]["token"].as_str().expect("token").to_string();
    let whoami = |t: &str| s.request_as(&Identity::Bearer(t.into()), "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &[("content-type", "application/json")], Some(b"{}"));
    let r = whoami(&token);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["status"]["userInfo"]["username"], "system:serviceaccount:ns1:short-lived");
    assert_eq!(s.request_as(&Identity::Admin, "DELETE", "/api/v1/namespaces/ns1/serviceaccounts/short-lived", &[], None).status, 200);
    assert_eq!(whoami(&token).status, 401);
    // OIDC discovery (anonymous may not read it; service accounts may).
    let sa_id = Identity::Bearer(f.sa_token.clone());
    let config = ok(&s.request_as(&sa_id, "GET", "/.well-known/openid-configuration", &[], None), "openid-configuration");
    assert_eq!(config["issuer"], "https://kubernetes.default.svc.cluster.local");
    assert_eq!(config["jwks_uri"].as_str().map(|u| u.ends_with("/openid/v1/jwks")), Some(true), "{config}");
    let jwks = s.request_as(&sa_id, "GET", "/openid/v1/jwks", &[], None);
    assert_eq!(jwks.header("content-type"), Some("application/jwk-set+json"));
    let keys = jwks.json()["keys"].as_array().cloned().unwrap_or_default();
    assert!(!keys.is_empty());
    // The token's kid is one of the published keys.
    let header = f.sa_token.split('.').next().expect("header");
    let header: Value = serde_json::from_slice(&base64_url(header)).expect("jwt header");
    assert!(keys.iter().any(|k| k["kid"] == header["kid"]), "{header} not in {keys:?}");
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

#[test]
fn rbac_escalation_is_prevented() {
    let f = fixture();
    let s = &f.server;
    // alice may manage roles and bindings in ns1 but holds only alice-role's rules.
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/roles", json!({
        "metadata": {"name": "rbac-manager"},
        // Not "*": that would include `escalate` and `bind`.
        "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}]
    }));
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/rolebindings", json!({
        "metadata": {"name": "alice-rbac"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "rbac-manager"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]
    }));
    let alice = Identity::Bearer(ALICE_TOKEN.into());
    let post = |path: &str, body: Value| {
        s.request_as(&alice, "POST", path, &[("content-type", "application/json")], Some(&serde_json::to_vec(&body).expect("json")))
    };
    // Binding the admin ClusterRole (which she does not hold): refused.
    let r = post("/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/rolebindings", json!({
        "metadata": {"name": "alice-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]
    }));
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("attempting to grant RBAC permissions not currently held"), "{}", r.text());
    // A Role with secrets access: refused; a Role within her own rules: allowed.
    let r = post("/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/roles", json!({
        "metadata": {"name": "secrets-reader"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    }));
    assert_eq!(r.status, 403, "{}", r.text());
    let r = post("/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/roles", json!({
        "metadata": {"name": "cm-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
    }));
    assert_eq!(r.status, 201, "{}", r.text());
    let r = post("/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/rolebindings", json!({
        "metadata": {"name": "bob-cm-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "carol"}]
    }));
    assert_eq!(r.status, 201, "{}", r.text());
    // Nothing half-written: the refused objects do not exist.
    for path in ["rolebindings/alice-admin", "roles/secrets-reader"] {
        let r = s.request_as(&Identity::Admin, "GET", &format!("/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/{path}"), &[], None);
        assert_eq!(r.status, 404, "{path}");
    }
    // An aggregationRule can gather any rules: it needs cluster-admin's authority, even with no
    // rules of its own.
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/clusterroles", json!({
        "metadata": {"name": "clusterrole-writer"},
        "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["create", "update", "patch"]}]
    }));
    admin_post(s, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json!({
        "metadata": {"name": "alice-clusterrole-writer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "clusterrole-writer"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]
    }));
    let r = post("/apis/rbac.authorization.k8s.io/v1/clusterroles", json!({
        "metadata": {"name": "gather-everything"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}]},
        "rules": []
    }));
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("must have cluster-admin privileges to use the aggregationRule"), "{}", r.text());
    let r = post("/apis/rbac.authorization.k8s.io/v1/clusterroles", json!({"metadata": {"name": "harmless"}, "rules": []}));
    assert_eq!(r.status, 201, "{}", r.text());
    // A new binding takes effect at once: carol (a token-less user, checked through a SubjectAccessReview).
    let sar = admin_post(s, "/apis/authorization.k8s.io/v1/subjectaccessreviews", json!({"spec": {
        "user": "carol", "resourceAttributes": {"namespace": "ns1", "verb": "list", "resource": "configmaps"}
    }}));
    assert_eq!(sar["status"]["allowed"], true, "{sar}");
}

#[test]
fn kubectl_auth_can_i_and_whoami() {
    let f = fixture();
    let s = &f.server;
    // The generated kubeconfig works with no flags.
    let out = s.kubectl_ok(&["auth", "whoami", "-o", "json"]);
    let me: Value = serde_json::from_str(&out).expect("whoami json");
    assert_eq!(me["status"]["userInfo"]["username"], "kubernetes-admin", "{me}");
    assert!(me["status"]["userInfo"]["groups"].as_array().is_some_and(|g| g.contains(&json!("system:masters"))));
    assert_eq!(s.kubectl_ok(&["auth", "can-i", "delete", "nodes"]).trim(), "yes");
    // `kubectl create token` (a protobuf TokenRequest) gives a token the server accepts.
    s.kubectl_ok(&["create", "serviceaccount", "robot", "-n", "ns1"]);
    let token = s.kubectl_ok(&["create", "token", "robot", "-n", "ns1", "--duration=1h"]).trim().to_string();
    let r = s.request_as(&Identity::Bearer(token), "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &[("content-type", "application/json")], Some(b"{}"));
    assert_eq!(r.json()["status"]["userInfo"]["username"], "system:serviceaccount:ns1:robot", "{}", r.text());
    // Impersonation (`--as`): the admin may; bob's answer is `no` (exit code 1).
    let out = s.kubectl(&["auth", "can-i", "list", "secrets", "-n", "ns1", "--as", "bob"]);
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).trim()), (Some(1), "no"), "{out:?}");
    let out = s.kubectl(&["auth", "can-i", "list", "configmaps", "-n", "ns1", "--as", "bob"]);
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).trim()), (Some(0), "yes"), "{out:?}");
    // As alice (token): can-i answers from her Role; `no` exits 1.
    let kubeconfig = alice_kubeconfig(s, &f);
    let can_i = |args: &[&str]| {
        let mut all = vec!["auth", "can-i"];
        all.extend_from_slice(args);
        let out = kapi_tests::kubectl(Path::new(&kubeconfig), &all);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    assert_eq!(can_i(&["get", "configmaps", "-n", "ns1"]), (Some(0), "yes".into()));
    assert_eq!(can_i(&["get", "secrets", "-n", "ns1"]), (Some(1), "no".into()));
    assert_eq!(can_i(&["create", "pods", "-n", "default"]), (Some(1), "no".into()));
    let out = kapi_tests::kubectl(Path::new(&kubeconfig), &["auth", "whoami"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("alice"), "{out:?}");
    let out = kapi_tests::kubectl(Path::new(&kubeconfig), &["auth", "can-i", "--list", "-n", "ns1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("configmaps") && !text.contains("secrets"), "{text}");
    // Node,RBAC enumerates a non-node user's rules completely (no "the list may be incomplete").
    assert!(!String::from_utf8_lossy(&out.stderr).contains("incomplete"), "{out:?}");
}

/// A kubeconfig for alice's token, next to the admin's.
fn alice_kubeconfig(s: &Server, f: &Fixture) -> String {
    let admin = std::fs::read_to_string(s.kubeconfig()).expect("kubeconfig");
    let doc: serde_yaml::Value = serde_yaml::from_str(&admin).expect("yaml");
    let cluster = &doc["clusters"][0]["cluster"];
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kapi\n  cluster:\n    server: {}\n    certificate-authority-data: {}\ncontexts:\n- name: alice\n  context: {{cluster: kapi, user: alice}}\ncurrent-context: alice\nusers:\n- name: alice\n  user:\n    token: {ALICE_TOKEN}\n",
        cluster["server"].as_str().expect("server"),
        cluster["certificate-authority-data"].as_str().expect("ca data"),
    );
    write(f._files.path(), "alice.kubeconfig", &text)
}

/// Re-signs `token`'s claims, changed by `edit`, with the server's service-account key (as an
/// attacker holding no key cannot; here the test plays the issuer to make an expired token).
fn resign(server: &Server, token: &str, edit: impl Fn(&mut Value)) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let header = parts.next().expect("header").to_string();
    let mut claims: Value = serde_json::from_slice(&base64_url(parts.next().expect("claims"))).expect("claims json");
    edit(&mut claims);
    let signing_input = format!("{header}.{}", b64.encode(serde_json::to_vec(&claims).expect("json")));
    let pem = std::fs::read_to_string(server.pki_dir().join("sa.key")).expect("sa.key");
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(der).expect("pem body");
    let rng = ring::rand::SystemRandom::new();
    let key = ring::signature::EcdsaKeyPair::from_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng).expect("ES256 key");
    let signature = key.sign(&rng, signing_input.as_bytes()).expect("sign");
    format!("{signing_input}.{}", b64.encode(signature.as_ref()))
}

#[test]
fn expired_service_account_token_is_401() {
    let f = fixture();
    let s = &f.server;
    let whoami = |t: &str| s.request_as(&Identity::Bearer(t.into()), "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &[("content-type", "application/json")], Some(b"{}"));
    // The same claims re-signed with the server's key authenticate (the test signs correctly)...
    let now = chrono::Utc::now().timestamp();
    let fresh = resign(s, &f.sa_token, |c| c["exp"] = json!(now + 600));
    let r = whoami(&fresh);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["status"]["userInfo"]["username"], "system:serviceaccount:ns1:sa1");
    // ...but not once expired (beyond upstream's 60 s leeway), nor before nbf.
    let expired = resign(s, &f.sa_token, |c| {
        c["iat"] = json!(now - 7200);
        c["nbf"] = json!(now - 7200);
        c["exp"] = json!(now - 3600);
    });
    assert_eq!(whoami(&expired).status, 401);
    let future = resign(s, &f.sa_token, |c| c["nbf"] = json!(now + 3600));
    assert_eq!(whoami(&future).status, 401);
    let other_issuer = resign(s, &f.sa_token, |c| c["iss"] = json!("https://evil.example.com"));
    assert_eq!(whoami(&other_issuer).status, 401);
    let review = admin_post(s, "/apis/authentication.k8s.io/v1/tokenreviews", json!({"spec": {"token": expired}}));
    assert_ne!(review["status"]["authenticated"], true, "{review}");
    assert!(review["status"]["error"].as_str().is_some_and(|e| !e.is_empty()), "{review}");
}
