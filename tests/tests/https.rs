//! HTTPS serving end to end: HTTP/2 and HTTP/1.1 over TLS, `--tls-min-version`, garbage and plain
//! HTTP on the TLS port, a user-given serving certificate, the CA kept across restarts, the
//! insecure port (loopback only, plain HTTP) and start-up refusals.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kapi_tests::server::{Client, Credentials, Identity};
use kapi_tests::Server;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS connection to `port` trusting `ca_pem`, optionally with a client certificate, limited to
/// `versions`, offering `alpn`.
async fn connect(
    port: u16,
    ca_pem: &str,
    client_cert: Option<(&str, &str)>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(CertificateDer::pem_slice_iter(ca_pem.as_bytes()).filter_map(Result::ok));
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots);
    let mut config = match client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert.as_bytes()).filter_map(Result::ok).collect(),
                PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key"),
            )
            .expect("client cert"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from("127.0.0.1").expect("name");
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await
}

fn admin(c: &Credentials) -> Option<(&str, &str)> {
    c.cert_pem.as_deref().zip(c.key_pem.as_deref())
}

#[test]
fn http2_and_http1_over_tls() {
    let s = Server::start(&[]);
    let creds = s.credentials();
    let ca = creds.ca_pem.clone().expect("the kubeconfig has the CA");
    let port = s.port();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        // HTTP/2, negotiated by ALPN (as kubectl does).
        let tls = connect(port, &ca, admin(&creds), rustls::DEFAULT_VERSIONS, &[b"h2", b"http/1.1"]).await.expect("tls");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.expect("h2");
        tokio::spawn(conn);
        for path in ["/api/v1/namespaces", "/readyz"] {
            let req = http::Request::get(format!("https://127.0.0.1:{port}{path}")).body(Empty::<Bytes>::new()).expect("request");
            let resp = send.send_request(req).await.expect("h2 response");
            assert_eq!(resp.version(), http::Version::HTTP_2);
            assert_eq!(resp.status(), 200, "{path}");
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            if path.starts_with("/api") {
                assert!(String::from_utf8_lossy(&body).contains("kube-system"));
            }
        }
        // Header lists up to upstream's 1 MiB (MaxHeaderBytes) are read, over HTTP/2 as over
        // HTTP/1.1 (hyper's defaults answered 431 from 16 KiB and 400 KiB).
        let big = "x".repeat(600 * 1024);
        let req = http::Request::get(format!("https://127.0.0.1:{port}/readyz")).header("x-big", &big).body(Empty::<Bytes>::new()).expect("request");
        assert_eq!(send.send_request(req).await.expect("h2 response").status(), 200);
        // HTTP/1.1, by ALPN and without ALPN.
        for alpn in [&[&b"http/1.1"[..]][..], &[]] {
            let tls = connect(port, &ca, admin(&creds), rustls::DEFAULT_VERSIONS, alpn).await.expect("tls");
            assert_eq!(tls.get_ref().1.alpn_protocol(), alpn.first().copied());
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.expect("http/1.1");
            tokio::spawn(conn);
            let req = http::Request::get("/api/v1/namespaces")
                .header("host", format!("127.0.0.1:{port}"))
                .body(Empty::<Bytes>::new())
                .expect("request");
            let resp = send.send_request(req).await.expect("http/1.1 response");
            assert_eq!(resp.version(), http::Version::HTTP_11);
            assert_eq!(resp.status(), 200);
            // HTTP/1.1 takes the next request once this response is read.
            resp.into_body().collect().await.expect("body");
            send.ready().await.expect("the connection takes another request");
            let req = http::Request::get("/readyz")
                .header("host", format!("127.0.0.1:{port}"))
                .header("x-big", &big)
                .body(Empty::<Bytes>::new())
                .expect("request");
            assert_eq!(send.send_request(req).await.expect("http/1.1 response").status(), 200);
        }
        // TLS 1.2 is served by default.
        assert!(connect(port, &ca, None, &[&rustls::version::TLS12], &[]).await.is_ok());
    });
    // The harness's client (ureq, HTTP/1.1) and every identity get through TLS.
    assert_eq!(s.get("/api/v1/namespaces/default").status, 200);
    for identity in [Identity::Anonymous, Identity::Bearer("some-token".into())] {
        assert_ne!(s.request_as(&identity, "GET", "/readyz", &[], None).status, 0, "{identity:?}");
    }
}

#[test]
fn tls13_minimum_refuses_a_tls12_client() {
    let s = Server::start(&["--tls-min-version=VersionTLS13"]);
    let ca = s.credentials().ca_pem.expect("ca");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let refused = connect(s.port(), &ca, None, &[&rustls::version::TLS12], &[]).await;
        assert!(refused.is_err(), "a TLS 1.2-only client must be refused");
        let tls = connect(s.port(), &ca, None, &[&rustls::version::TLS13], &[]).await.expect("TLS 1.3");
        assert_eq!(tls.get_ref().1.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
    });
    assert_eq!(s.get("/readyz").status, 200);
}

#[test]
fn garbage_handshakes_do_not_disturb_the_server() {
    let s = Server::start(&[]);
    let addr = ("127.0.0.1", s.port());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut half_open = Vec::new();
    for i in 0..200 {
        let mut c = TcpStream::connect(addr).expect("connect");
        match i % 4 {
            // Random bytes, then close.
            0 => {
                let bytes: Vec<u8> = (0..64 + random() % 512).map(|_| random() as u8).collect();
                let _ = c.write_all(&bytes);
            }
            // A TLS record header that promises more than is ever sent; kept open.
            1 => {
                let _ = c.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
                half_open.push(c);
            }
            // Connected, nothing sent; kept open.
            2 => half_open.push(c),
            // Plain HTTP to the TLS port: Go's answer.
            _ => {
                c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
                c.write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("write");
                let mut answer = Vec::new();
                let _ = c.read_to_end(&mut answer);
                let answer = String::from_utf8_lossy(&answer);
                assert!(
                    answer.starts_with("HTTP/1.0 400 Bad Request") && answer.contains("Client sent an HTTP request to an HTTPS server."),
                    "{answer}"
                );
            }
        }
    }
    // With 100 connections still hanging in their handshake, the server answers.
    assert_eq!(half_open.len(), 100);
    for _ in 0..5 {
        assert_eq!(s.get("/api/v1/namespaces").status, 200, "{}", s.log());
    }
    drop(half_open);
    assert_eq!(s.get("/readyz").status, 200);
    // Each failed handshake logged at most one line.
    let log = s.log();
    let lines = log.lines().filter(|l| l.contains("TLS handshake error")).count();
    assert!(lines <= 150, "{lines} handshake error lines for 150 failed handshakes");
}

/// A CA and a serving certificate for 127.0.0.1/localhost made by the test, as PEM files in `dir`.
fn user_certificates(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name.push(DnType::CommonName, "user-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("ca key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let ca = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("params");
    params.distinguished_name.push(DnType::CommonName, "user-serving");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca).expect("cert");
    let (ca_path, cert_path, key_path) = (dir.join("user-ca.crt"), dir.join("user.crt"), dir.join("user.key"));
    std::fs::write(&ca_path, ca_cert.pem()).expect("write");
    // A chain: the leaf, then its CA.
    std::fs::write(&cert_path, format!("{}{}", cert.pem(), ca_cert.pem())).expect("write");
    std::fs::write(&key_path, key.serialize_pem()).expect("write");
    (ca_path, cert_path, key_path, cert.pem())
}

#[test]
fn a_user_serving_certificate_is_served() {
    let files = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key, leaf_pem) = user_certificates(files.path());
    let args = [
        format!("--tls-cert-file={}", cert.display()),
        format!("--tls-private-key-file={}", key.display()),
        format!("--client-ca-file={}", ca.display()),
    ];
    let s = Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    // The kubeconfig names the user's CA (it verifies the certificate) and no admin credentials
    // (kapi's CA does not authenticate clients here).
    let creds = s.credentials();
    assert_eq!(creds.ca_pem.as_deref(), Some(std::fs::read_to_string(&ca).expect("ca").as_str()));
    assert_eq!(creds.cert_pem, None);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let served = rt.block_on(async {
        let tls = connect(s.port(), creds.ca_pem.as_deref().expect("ca"), None, rustls::DEFAULT_VERSIONS, &[]).await.expect("tls");
        tls.get_ref().1.peer_certificates().map(<[_]>::to_vec).unwrap_or_default()
    });
    let leaf = CertificateDer::from_pem_slice(leaf_pem.as_bytes()).expect("leaf");
    assert_eq!(served.first(), Some(&leaf), "the user's certificate is served");
    assert_eq!(served.len(), 2, "with its chain");
    assert!(!s.pki_dir().join("apiserver.crt").exists(), "no serving certificate is generated");
    assert_eq!(s.request_as(&Identity::Anonymous, "GET", "/readyz", &[], None).status, 200);
}

#[test]
fn bad_serving_files_refuse_start_up_naming_the_file() {
    let files = tempfile::tempdir().expect("tempdir");
    let (_, cert, _, _) = user_certificates(files.path());
    let other = tempfile::tempdir().expect("tempdir");
    let (_, _, other_key, _) = user_certificates(other.path());
    let missing = files.path().join("missing.crt");
    for (args, needles) in [
        (
            vec![format!("--tls-cert-file={}", cert.display()), format!("--tls-private-key-file={}", other_key.display())],
            vec!["does not match", "user.crt"],
        ),
        (
            vec![format!("--tls-cert-file={}", missing.display()), format!("--tls-private-key-file={}", other_key.display())],
            vec!["--tls-cert-file", "missing.crt"],
        ),
        (vec![format!("--tls-cert-file={}", cert.display())], vec!["together"]),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let failure = Server::start_failure(&args, Duration::from_secs(60));
        assert!(!failure.status.success());
        for needle in needles {
            assert!(failure.output.contains(needle), "{args:?}: {}", failure.output);
        }
    }
}

#[test]
fn a_restart_keeps_the_ca_and_the_kubeconfig_credentials() {
    let s = Server::start(&[]);
    let before = s.credentials();
    let ca_file = std::fs::read(s.pki_dir().join("ca.crt")).expect("ca.crt");
    assert!(before.ca_pem.is_some() && before.cert_pem.is_some());
    assert!(s.post_json("/api/v1/namespaces", &serde_json::json!({"metadata": {"name": "kept"}})).status == 201);
    let dir = s.kill();
    let s = Server::start_in(dir, &[]);
    assert_eq!(std::fs::read(s.pki_dir().join("ca.crt")).expect("ca.crt"), ca_file);
    assert_eq!(s.credentials(), before, "same CA and admin certificate in the new kubeconfig");
    // The credentials from before the restart still work against the new server.
    let old = Client::new(&s.url(), before.ca_pem.as_deref(), &Identity::Admin, admin(&before));
    assert_eq!(old.get("/api/v1/namespaces/kept").status, 200);
    assert!(s.kubectl_ok(&["get", "ns", "kept", "-o", "name"]).contains("namespace/kept"));
}

#[test]
fn the_insecure_port_serves_plain_http_on_loopback_only() {
    let insecure = kapi_tests::free_port();
    let s = Server::start(&[&format!("--insecure-port={insecure}")]);
    let r = kapi_tests::server::request(&format!("http://127.0.0.1:{insecure}/api/v1/namespaces"), "GET", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.get("/readyz").status, 200, "HTTPS is served as well");
    drop(s);
    let port = kapi_tests::free_port().to_string();
    let failure = Server::start_failure(
        &[&format!("--insecure-port={port}"), "--insecure-bind-address=0.0.0.0"],
        Duration::from_secs(60),
    );
    assert!(!failure.status.success());
    assert!(failure.output.contains("--insecure-bind-address=0.0.0.0") && failure.output.contains("loopback"), "{}", failure.output);
    let failure = Server::start_failure(&["--secure-port=0", "--insecure-port=0"], Duration::from_secs(60));
    assert!(failure.output.contains("nothing to serve"), "{}", failure.output);
}

/// 1,100 clients that finished the TLS handshake and then sent nothing used up the server's file
/// descriptors (limit 1024) and locked every other client out for good; a client dribbling its
/// headers was held forever. Now the connections waiting longest make room for new ones, and a
/// request's headers are due within 32 s (upstream's ReadHeaderTimeout).
#[test]
fn silent_and_slow_clients_cannot_lock_others_out() {
    let s = Server::start_with_open_files(&[], 1024);
    let creds = s.credentials();
    let ca = creds.ca_pem.clone().expect("the kubeconfig has the CA");
    let port = s.port();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let silent = rt.block_on(async {
        let mut silent = Vec::new();
        for _ in 0..1_100 {
            // The server may already be closing older ones: a refused handshake is fine here.
            if let Ok(tls) = connect(port, &ca, None, rustls::DEFAULT_VERSIONS, &[b"http/1.1"]).await {
                silent.push(tls);
            }
        }
        silent
    });
    assert!(silent.len() > 1_024, "only {} handshakes: the test must exceed the server's descriptors", silent.len());
    // A new client still gets in, again and again.
    for _ in 0..3 {
        let r = s.client().request_within("GET", "/healthz", &[], None, Duration::from_secs(10));
        assert_eq!((r.status, r.text()), (200, "ok".to_string()), "a client was locked out by silent connections");
    }
    drop(silent);

    // A slowloris: headers dribbled a line every 2 s are cut off once 32 s have passed.
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tls = connect(port, &ca, None, rustls::DEFAULT_VERSIONS, &[b"http/1.1"]).await.expect("tls");
        let started = std::time::Instant::now();
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("request line");
        let closed = loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let mut buf = [0u8; 64];
            let read = tokio::time::timeout(Duration::from_millis(10), tls.read(&mut buf)).await;
            if matches!(read, Ok(Ok(0) | Err(_))) || tls.write_all(b"X-Slow: 1\r\n").await.is_err() {
                break started.elapsed();
            }
            assert!(started.elapsed() < Duration::from_secs(45), "a dribbling client was held past 45 s");
        };
        assert!(closed >= Duration::from_secs(31), "cut off after {closed:?}, before upstream's 32 s");
    });
}
