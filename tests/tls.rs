//! HTTPS served by danvan itself (`--tls-cert`, `--tls-key`, `--http-redirect-addr`): the app and
//! the sync API answer over TLS with HSTS, nothing is served in clear on the TLS port, the plain
//! port only redirects, and a wrong certificate or key stops the start with a specific reason.
//! The certificate is made per run (rcgen) for `localhost`.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::*;
use danvan::server::{Config, TlsConfig, bind};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;

struct Certificate {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    pem: String,
}

fn certificate() -> Certificate {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate made");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("fullchain.pem"), dir.path().join("privkey.pem"));
    let pem = made.cert.pem();
    std::fs::write(&cert, &pem).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    Certificate { _dir: dir, cert, key, pem }
}

/// A client that trusts only the test's certificate and does not follow redirects.
fn client(trusted: &Certificate) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(trusted.pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn config(db: &Path, dir: &Path, tls: TlsConfig) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: db.to_path_buf(),
        database_url: None,
        dist: dir.join("no-dist"),
        cache_docs: 100,
        session_days: 30.0,
        tls,
    }
}

/// A port free now, for the redirect listener (the server reports only its main address).
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

#[tokio::test]
async fn the_server_answers_over_tls_with_hsts_and_syncs() {
    let (dir, db) = temp();
    let cert = certificate();
    let tls = TlsConfig { tls_cert: Some(cert.cert.clone()), tls_key: Some(cert.key.clone()), http_redirect_addr: None };
    let server = start_with(config(&db, dir.path(), tls)).await;
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let base = format!("https://localhost:{port}");
    let https = client(&cert);

    let res = https.get(format!("{base}/api/health")).send().await.expect("TLS handshake with the test certificate");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000", "HSTS on every TLS response");
    assert!(res.headers().contains_key("content-security-policy"), "the usual security headers too");

    // The real sync session over TLS: a model pushed by one device reaches another.
    let (a, b) = (MemoryReplica::new(), MemoryReplica::new());
    a.put_local("m1", &mut new_model("m1", "Hũ gạo tình thương"));
    let report = run_session(&a, &Http::with_client(https.clone(), &base, &server.tokens.of("a")), &mut ()).await.unwrap();
    assert_eq!(report.pending, 0, "acknowledged over TLS");
    run_session(&b, &Http::with_client(https.clone(), &base, &server.tokens.of("b")), &mut ()).await.unwrap();
    assert_eq!(model(&b, "m1").name, "Hũ gạo tình thương");

    // The TLS port never answers in clear.
    let plain = reqwest::Client::new();
    let clear = plain.get(format!("http://127.0.0.1:{port}/api/health")).send().await;
    assert!(clear.is_err() || clear.is_ok_and(|r| !r.status().is_success()), "no plain HTTP on the TLS port");
}

#[tokio::test]
async fn the_plain_port_only_redirects_to_https() {
    let (dir, db) = temp();
    let cert = certificate();
    let redirect_at = free_port();
    let tls = TlsConfig { tls_cert: Some(cert.cert.clone()), tls_key: Some(cert.key.clone()), http_redirect_addr: Some(redirect_at) };
    let server = start_with(config(&db, dir.path(), tls)).await;
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let plain = client(&cert);

    let res = plain.get(format!("http://localhost:{}/mo-hinh/m1?tab=2", redirect_at.port())).send().await.unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], format!("https://localhost:{port}/mo-hinh/m1?tab=2"));
    assert!(!res.headers().contains_key("strict-transport-security"), "HSTS only over TLS");

    // An API call with a token over plain HTTP is not served either; the client is sent to https.
    let res = plain
        .post(format!("http://localhost:{}/api/sync", redirect_at.port()))
        .bearer_auth(server.tokens.of("a"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], format!("https://localhost:{port}/api/sync"));

    // And the redirect leads somewhere that answers.
    let followed = plain.get(res.headers()["location"].to_str().unwrap().replace("/api/sync", "/api/health")).send().await.unwrap();
    assert_eq!(followed.status(), 200);
}

#[tokio::test]
async fn without_tls_there_is_no_hsts() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let res = reqwest::get(format!("{}/api/health", server.url)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.headers().contains_key("strict-transport-security"), "no https promise from a plain-HTTP server");
}

#[tokio::test]
async fn a_wrong_certificate_or_key_stops_the_start_with_its_reason() {
    let (dir, db) = temp();
    let (one, other) = (certificate(), certificate());
    let start = |tls: TlsConfig| {
        let config = config(&db, dir.path(), tls);
        async move { bind(&config).await.err().map(|e| format!("{e:#}")).expect("the server refuses to start") }
    };
    let tls = |cert: &Path, key: &Path| TlsConfig { tls_cert: Some(cert.into()), tls_key: Some(key.into()), http_redirect_addr: None };

    let e = start(tls(&one.cert, &other.key)).await;
    assert!(e.contains("do not go together"), "{e}");
    let e = start(tls(&one.key, &one.key)).await;
    assert!(e.contains("holds no certificate"), "{e}");
    let e = start(tls(&one.cert, &one.cert)).await;
    assert!(e.contains("no usable private key"), "{e}");
    let e = start(tls(&dir.path().join("missing.pem"), &one.key)).await;
    assert!(e.contains("cannot read the TLS certificate") && e.contains("missing.pem"), "{e}");
    let e = start(TlsConfig { tls_cert: Some(one.cert.clone()), tls_key: None, http_redirect_addr: None }).await;
    assert!(e.contains("--tls-cert and --tls-key go together"), "{e}");
    let e = start(TlsConfig { tls_cert: None, tls_key: None, http_redirect_addr: Some(free_port()) }).await;
    assert!(e.contains("--http-redirect-addr"), "{e}");
}
