//! The other authorization modes and the front proxy, end to end against the real binary:
//! ABAC (`--authorization-policy-file`), Webhook (a real HTTP SubjectAccessReview server, with
//! its answers cached), AlwaysDeny, impersonation, and front-proxy request headers trusted only
//! from a client certificate of the request-header CA with an allowed name.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kapi_tests::server::{Identity, Server};
use serde_json::{json, Value};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    p.display().to_string()
}

fn tokens(dir: &Path) -> String {
    write(dir, "tokens.csv", "alice-token,alice,1\nfriend-token,webhook-friend,2\nenemy-token,webhook-enemy,3\n")
}

fn bearer(t: &str) -> Identity {
    Identity::Bearer(t.into())
}

fn status(s: &Server, id: &Identity, method: &str, path: &str) -> u16 {
    let body = (method == "POST").then(|| br#"{"metadata":{"name":"x"}}"#.to_vec());
    s.request_as(id, method, path, &[("content-type", "application/json")], body.as_deref()).status
}

#[test]
fn abac_policy_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = write(
        dir.path(),
        "policy.jsonl",
        concat!(
            r#"{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "alice", "namespace": "ns1", "resource": "configmaps", "readonly": true}}"#,
            "\n",
            r#"{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "system:authenticated", "readonly": true, "nonResourcePath": "*"}}"#,
            "\n",
            r#"{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "alice", "namespace": "*", "apiGroup": "authorization.k8s.io", "resource": "selfsubjectrulesreviews"}}"#,
            "\n"
        ),
    );
    let s = Server::start(&["--authorization-mode=ABAC", &format!("--authorization-policy-file={policy}"), &format!("--token-auth-file={}", tokens(dir.path()))]);
    let admin = Identity::Admin;
    assert_eq!(status(&s, &admin, "POST", "/api/v1/namespaces"), 201, "system:masters is always allowed");
    let alice = bearer("alice-token");
    assert_eq!(status(&s, &alice, "GET", "/api/v1/namespaces/ns1/configmaps"), 200);
    assert_eq!(status(&s, &alice, "GET", "/api/v1/namespaces/ns1/configmaps?watch=1&timeoutSeconds=1"), 200);
    assert_eq!(status(&s, &alice, "POST", "/api/v1/namespaces/ns1/configmaps"), 403, "readonly");
    assert_eq!(status(&s, &alice, "GET", "/api/v1/namespaces/default/configmaps"), 403, "other namespace");
    assert_eq!(status(&s, &alice, "GET", "/api/v1/namespaces/ns1/secrets"), 403, "other resource");
    assert_eq!(status(&s, &alice, "GET", "/version"), 200, "nonResourcePath *");
    assert_eq!(status(&s, &Identity::Anonymous, "GET", "/version"), 403, "anonymous is not in system:authenticated");
    // SelfSubjectRulesReview lists the policies' rules.
    let r = s.request_as(&alice, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", &[("content-type", "application/json")], Some(br#"{"spec":{"namespace":"ns1"}}"#));
    let review = r.json();
    assert_eq!(review["status"]["incomplete"], false, "{review}");
    assert_eq!(
        review["status"]["resourceRules"],
        json!([
            {"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["configmaps"]},
            {"verbs": ["*"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews"]}
        ]),
        "{review}"
    );
    // As upstream's RulesFor: only policies of that namespace (or `*`) count, so the
    // namespace-less nonResourcePath policy is not listed.
    assert_eq!(review["status"]["nonResourceRules"], json!([]), "{review}");
    // A bad policy line stops start-up, naming the line.
    let bad = write(dir.path(), "bad.jsonl", "{\"apiVersion\": \"abac.authorization.kubernetes.io/v1beta1\", \"kind\": \"Policy\", \"spec\": {\"user\": \"a\"}}\nnot json\n");
    let failed = Server::start_failure(&["--authorization-mode=ABAC", &format!("--authorization-policy-file={bad}")], std::time::Duration::from_secs(30));
    assert!(!failed.status.success());
    assert!(failed.output.contains("line 2"), "{}", failed.output);
}

/// A SubjectAccessReview webhook on loopback: allows `webhook-friend`, denies `webhook-enemy`,
/// has no opinion on anyone else; counts the reviews it answered.
fn webhook() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    // Request line and headers.
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end().to_ascii_lowercase();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let user = review["spec"]["user"].as_str().unwrap_or_default();
                    let status = match user {
                        "webhook-friend" => json!({"allowed": true, "reason": "friends of the webhook"}),
                        "webhook-enemy" => json!({"allowed": false, "denied": true, "reason": "the webhook says no"}),
                        _ => json!({"allowed": false}),
                    };
                    let answer = serde_json::to_vec(&json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "status": status})).unwrap_or_default();
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", answer.len());
                    let stream = reader.get_mut();
                    if stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&answer)).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, hits)
}

#[test]
fn webhook_authorizer_decides_and_caches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, hits) = webhook();
    let config = write(
        dir.path(),
        "webhook.kubeconfig",
        &format!("apiVersion: v1\nkind: Config\nclusters:\n- name: hook\n  cluster:\n    server: http://127.0.0.1:{port}/authorize\nusers:\n- name: apiserver\n  user: {{}}\ncontexts:\n- name: hook\n  context: {{cluster: hook, user: apiserver}}\ncurrent-context: hook\n"),
    );
    let s = Server::start(&[
        "--authorization-mode=Webhook,RBAC",
        &format!("--authorization-webhook-config-file={config}"),
        &format!("--token-auth-file={}", tokens(dir.path())),
    ]);
    let friend = bearer("friend-token");
    assert_eq!(status(&s, &friend, "GET", "/api/v1/namespaces/default/secrets"), 200);
    let after_first = hits.load(Ordering::SeqCst);
    assert!(after_first >= 1, "the webhook was asked");
    assert_eq!(status(&s, &friend, "GET", "/api/v1/namespaces/default/secrets"), 200);
    assert_eq!(hits.load(Ordering::SeqCst), after_first, "the second identical request is answered from the cache");
    // A Deny from the webhook is final: RBAC (next in the chain) would allow the enemy.
    let binding = json!({
        "metadata": {"name": "enemy-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "webhook-enemy"}]
    });
    let r = s.request_as(&Identity::Admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", &[("content-type", "application/json")], Some(&serde_json::to_vec(&binding).expect("json")));
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.request_as(&bearer("enemy-token"), "GET", "/api/v1/namespaces/default/secrets", &[], None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("the webhook says no"), "the webhook's reason is in the message: {}", r.text());
    // alice: the webhook has no opinion, RBAC neither: 403 naming her.
    let r = s.request_as(&bearer("alice-token"), "GET", "/api/v1/namespaces/default/secrets", &[], None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("User \\\"alice\\\" cannot list resource \\\"secrets\\\""), "{}", r.text());
}

#[test]
fn always_deny_and_impersonation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Server::start(&["--authorization-mode=AlwaysDeny", &format!("--token-auth-file={}", tokens(dir.path()))]);
    assert_eq!(status(&s, &bearer("alice-token"), "GET", "/api/v1/namespaces"), 403);
    assert_eq!(status(&s, &Identity::Admin, "GET", "/api/v1/namespaces"), 200, "system:masters is allowed first");
    // The admin impersonates alice: then AlwaysDeny applies to her.
    let r = s.request_as(&Identity::Admin, "GET", "/api/v1/namespaces", &[("Impersonate-User", "alice")], None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("User \\\"alice\\\""), "{}", r.text());
    // alice may not impersonate anyone.
    let r = s.request_as(&bearer("alice-token"), "GET", "/api/v1/namespaces", &[("Impersonate-User", "bob")], None);
    assert_eq!(r.status, 403);
    assert!(r.text().contains("cannot impersonate resource \\\"users\\\""), "{}", r.text());
    // Impersonated groups without a user are refused.
    let r = s.request_as(&Identity::Admin, "GET", "/api/v1/namespaces", &[("Impersonate-Group", "devs")], None);
    assert_eq!(r.status, 500, "{}", r.text());
    let r = s.request_as(&Identity::Admin, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &[("content-type", "application/json"), ("Impersonate-User", "carol"), ("Impersonate-Group", "system:masters")], Some(b"{}"));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["status"]["userInfo"], json!({"username": "carol", "groups": ["system:masters", "system:authenticated"]}));
}

/// A CA: its certificate (PEM) and the issuer signing with it.
fn ca(name: &str) -> (String, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("ca");
    (cert.pem(), rcgen::Issuer::new(params, key))
}

fn client_of(ca: &rcgen::Issuer<'_, rcgen::KeyPair>, cn: &str) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, ca).expect("sign");
    (cert.pem(), key.serialize_pem())
}

#[test]
fn front_proxy_headers_only_from_the_proxy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca_pem, proxy_ca) = ca("front-proxy-ca");
    let (proxy_cert, proxy_key) = client_of(&proxy_ca, "front-proxy");
    let ca_file = write(dir.path(), "front-proxy-ca.crt", &ca_pem);
    let s = Server::start(&[
        &format!("--requestheader-client-ca-file={ca_file}"),
        "--requestheader-allowed-names=front-proxy",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    ]);
    let headers = [
        ("content-type", "application/json"),
        ("X-Remote-User", "carol"),
        ("X-Remote-Group", "system:masters"),
        ("X-Remote-Group", "team-a"),
        ("X-Remote-Extra-Scopes", "read"),
    ];
    let whoami = |id: &Identity| s.request_as(id, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", &headers, Some(b"{}"));
    let proxy = Identity::ClientCert { cert_pem: proxy_cert, key_pem: proxy_key };
    let r = whoami(&proxy);
    assert_eq!(r.status, 201, "{}", r.text());
    let info = &r.json()["status"]["userInfo"];
    assert_eq!(info["username"], "carol");
    assert_eq!(info["groups"], json!(["system:masters", "team-a", "system:authenticated"]));
    assert_eq!(info["extra"]["scopes"], json!(["read"]));
    // The same headers from another client of that CA (not an allowed name), or from a
    // "front-proxy" of another CA: 401.
    let (cert, key) = client_of(&proxy_ca, "not-the-proxy");
    let r = whoami(&Identity::ClientCert { cert_pem: cert, key_pem: key });
    assert_eq!(r.status, 401, "a client of the proxy CA with a name not allowed: {}", r.text());
    let (_, other_ca) = ca("other-ca");
    let (cert, key) = client_of(&other_ca, "front-proxy");
    let r = whoami(&Identity::ClientCert { cert_pem: cert, key_pem: key });
    assert_eq!(r.status, 401, "a front-proxy certificate of another CA: {}", r.text());
    // From the admin (kapi's CA): the headers are not trusted, the admin is who asks.
    let r = whoami(&Identity::Admin);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["status"]["userInfo"]["username"], "kubernetes-admin");
    // Without a certificate: anonymous, who may not even ask who they are.
    assert_eq!(whoami(&Identity::Anonymous).status, 403);
}
