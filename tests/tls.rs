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
use danvan::sync::session::{Transport, run_session};
use danvan::sync::{SyncRequest, SyncResponse};
use rustls::pki_types::pem::PemObject;

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

/// One HTTPS request by a client that trusts only the test's certificate: (status, headers, body).
/// HTTP/1.1 with `Connection: close`, read to the end (enough for one request; reqwest's rustls
/// feature is left off, see Cargo.toml).
async fn https(trusted: &Certificate, port: u16, method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_slice(trusted.pem.as_bytes()).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(danvan::server::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake with the test certificate");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(body).await.unwrap();
    let mut response = Vec::new();
    // A peer closing without close_notify after the body is fine here: the body is complete.
    let _ = tls.read_to_end(&mut response).await;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = response[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The real sync session's transport, over the test's HTTPS client.
struct Https<'a> {
    trusted: &'a Certificate,
    port: u16,
    token: String,
}

impl Transport for Https<'_> {
    type Error = String;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        let auth = format!("Bearer {}", self.token);
        let headers = [("Authorization", auth.as_str()), ("Content-Type", danvan::sync::CONTENT_TYPE)];
        let (status, _, body) = https(self.trusted, self.port, "POST", "/api/sync", &headers, &danvan::sync::encode(request)).await;
        if status != 200 {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
        }
        danvan::sync::decode(&body).map_err(|e| e.to_string())
    }
    fn feed_budget(&self) -> Option<u32> {
        None
    }
}

/// A client for the plain-HTTP port that shows redirects instead of following them.
fn plain() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn config(db: &Path, dir: &Path, tls: TlsConfig) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: db.to_path_buf(),
        database_url: None,
        dist: dir.join("no-dist"),
        cache_docs: 100,
        cache_mb: 48,
        session_days: 30.0,
        trusted_proxies: Vec::new(),
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
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();

    let (status, headers, _) = https(&cert, port, "GET", "/api/health", &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "strict-transport-security"), Some("max-age=31536000"), "HSTS on every TLS response");
    assert!(header(&headers, "content-security-policy").is_some(), "the usual security headers too");

    // The real sync session over TLS: a model pushed by one device reaches another.
    let (a, b) = (MemoryReplica::new(), MemoryReplica::new());
    a.put_local("m1", &mut new_model("m1", "Hũ gạo tình thương"));
    let report = run_session(&a, &Https { trusted: &cert, port, token: server.tokens.of("a") }, &mut ()).await.unwrap();
    assert_eq!(report.pending, 0, "acknowledged over TLS");
    run_session(&b, &Https { trusted: &cert, port, token: server.tokens.of("b") }, &mut ()).await.unwrap();
    assert_eq!(model(&b, "m1").name, "Hũ gạo tình thương");

    // The TLS port never answers in clear.
    let clear = plain().get(format!("http://127.0.0.1:{port}/api/health")).send().await;
    assert!(clear.is_err() || clear.is_ok_and(|r| !r.status().is_success()), "no plain HTTP on the TLS port");
}

#[tokio::test]
async fn the_plain_port_only_redirects_to_https() {
    let (dir, db) = temp();
    let cert = certificate();
    let redirect_at = free_port();
    let tls = TlsConfig { tls_cert: Some(cert.cert.clone()), tls_key: Some(cert.key.clone()), http_redirect_addr: Some(redirect_at) };
    let server = start_with(config(&db, dir.path(), tls)).await;
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    let plain = plain();

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

    // And the https side answers.
    assert_eq!(https(&cert, port, "GET", "/api/health", &[], b"").await.0, 200);
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

/// Whether a TLS handshake with the server on `port` succeeds trusting only `trusted`.
async fn handshake_trusting(trusted: &Certificate, port: u16) -> bool {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_slice(trusted.pem.as_bytes()).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(danvan::server::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.is_ok()
}

/// A renewed certificate is taken on SIGHUP without a restart (certbot's deploy hook), and a broken
/// one is refused with the current one kept: a bad renewal never stops HTTPS. The real binary.
#[tokio::test]
async fn sighup_takes_a_renewed_certificate_and_keeps_the_old_one_if_the_new_is_broken() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let (dir, db) = temp();
    let (old, renewed) = (certificate(), certificate());
    let (cert, key) = (dir.path().join("fullchain.pem"), dir.path().join("privkey.pem"));
    std::fs::copy(&old.cert, &cert).unwrap();
    std::fs::copy(&old.key, &key).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .args(["--addr", "127.0.0.1:0", "--dist", "/nonexistent-dist", "--database"])
        .arg(&db)
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("danvan-server starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().expect("the server prints its URL");
    assert!(line.contains("https://127.0.0.1:"), "the printed URL is https: {line}");
    let port: u16 = line.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    assert!(handshake_trusting(&old, port).await);
    assert!(!handshake_trusting(&renewed, port).await, "the renewed certificate is not served before the reload");

    let hangup = |child: &tokio::process::Child| {
        // SAFETY: kill(2) on our own child's pid with a plain signal number.
        unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGHUP) };
    };
    std::fs::copy(&renewed.cert, &cert).unwrap();
    std::fs::copy(&renewed.key, &key).unwrap();
    hangup(&child);
    let mut reloaded = false;
    for _ in 0..50 {
        if handshake_trusting(&renewed, port).await {
            reloaded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reloaded, "SIGHUP serves the renewed certificate");

    std::fs::write(&cert, "not a certificate").unwrap();
    hangup(&child);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(child.try_wait().unwrap().is_none(), "a broken renewal does not stop the server");
    assert!(handshake_trusting(&renewed, port).await, "the certificate in use stays");
}
