//! HTTPS served by danvan itself: the certificate and key (PEM files) read into a rustls
//! configuration, the plain-HTTP port that only redirects to https, and HSTS.
//!
//! Why the app needs it: browsers give service workers and persistent storage only to secure
//! contexts, so a phone on `http://<LAN address>` can use the app online only. rustls with the
//! `ring` provider (no C toolchain beyond `cc`, no cmake/nasm as aws-lc-rs needs); the provider is
//! named explicitly, so another crate enabling a second rustls provider never makes the choice
//! ambiguous at run time.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header, uri::Authority};
use axum::response::{IntoResponse, Redirect, Response};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// One year, the value browsers' preload lists ask for. Sent only over TLS: a browser ignores it on
/// plain HTTP, and promising https from a server that has none would lock users out.
pub const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// The crypto provider danvan's TLS uses (server, and PostgreSQL client connections).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a PEM certificate chain (leaf first, as certbot's `fullchain.pem`) and its private key,
/// and checks that they belong together, so a wrong file fails at start with its name, not at the
/// first phone's handshake.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<rustls::ServerConfig> {
    let read = |path: &Path, what: &str| {
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read the TLS {what} {}: {e}", path.display()))
    };
    let cert_pem = read(cert, "certificate")?;
    let key_pem = read(key, "key")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the TLS certificate {} is not valid PEM: {e}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("the TLS certificate {} holds no certificate (expected -----BEGIN CERTIFICATE-----)", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        anyhow::anyhow!("the TLS key {} holds no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}", key.display())
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            anyhow::anyhow!("the TLS certificate {} and key {} do not go together: {e}", cert.display(), key.display())
        })?;
    // HTTP/2 when the browser offers it (one connection for the client's files), else HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The plain-HTTP port: every request is sent to the same host and path over https. 308 keeps the
/// method, so nothing is ever served, or accepted, over plain HTTP.
pub fn redirect_router(https_port: u16) -> Router {
    Router::new().fallback(move |headers: HeaderMap, uri: Uri| async move { redirect(https_port, &headers, &uri) })
}

fn redirect(https_port: u16, headers: &HeaderMap, uri: &Uri) -> Response {
    // A host with user information is no host a browser sends; refuse it rather than echo it.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.contains('@'))
        .and_then(|h| h.parse::<Authority>().ok());
    let Some(host) = host else {
        // Already in both languages: a browser that reached the plain-http port has no app loaded.
        return (StatusCode::BAD_REQUEST, crate::i18n::vi("Hãy mở địa chỉ https của máy chủ. Use the server's https address.")).into_response();
    };
    let port = if https_port == 443 { String::new() } else { format!(":{https_port}") };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("https://{}{port}{path}", host.host())).into_response()
}

/// libpq's `sslrootcert` parameter of a PostgreSQL URL (`…?sslmode=require&sslrootcert=/etc/danvan/db-ca.pem`),
/// taken out because tokio-postgres refuses parameters it does not know; returns the URL without it.
pub fn take_sslrootcert(url: &str) -> (String, Option<std::path::PathBuf>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_string(), None) };
    let mut root = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("sslrootcert=") {
            Some(value) => {
                root = Some(std::path::PathBuf::from(percent_decode(value)));
                false
            }
            None => true,
        })
        .collect();
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    (url, root)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// TLS for PostgreSQL connections (`sslmode=require`). The server's certificate is always verified
/// — name and chain, like libpq's `verify-full`, since an unverified TLS connection stops only a
/// passive listener — against `sslrootcert` when given (a private CA, a self-signed database),
/// else the system's roots.
pub fn postgres_connector(root_cert: Option<&Path>) -> anyhow::Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read the database's CA certificate (sslrootcert) {}: {e}", path.display()))?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("the database's CA certificate {} is not valid PEM: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                anyhow::bail!("the database's CA certificate {} holds no usable certificate", path.display());
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                anyhow::bail!("sslmode=require: no system CA certificates found; give the database's CA with sslrootcert=FILE in the URL");
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sslrootcert_is_taken_out_of_the_database_url() {
        assert_eq!(take_sslrootcert("postgres://u@db/x"), ("postgres://u@db/x".into(), None));
        assert_eq!(
            take_sslrootcert("postgres://u@db/x?sslmode=require&sslrootcert=/etc/danvan/ca%20db.pem&connect_timeout=5"),
            ("postgres://u@db/x?sslmode=require&connect_timeout=5".into(), Some("/etc/danvan/ca db.pem".into()))
        );
        assert_eq!(take_sslrootcert("postgres://u@db/x?sslrootcert=ca.pem"), ("postgres://u@db/x".into(), Some("ca.pem".into())));
    }

    use super::*;

    fn location(https_port: u16, host: &str, uri: &str) -> (StatusCode, Option<String>) {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        let res = redirect(https_port, &headers, &uri.parse().unwrap());
        let location = res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
        (res.status(), location)
    }

    #[test]
    fn redirects_keep_host_path_and_query_and_take_the_https_port() {
        assert_eq!(
            location(8443, "danvan.example:8080", "/mo-hinh/1?x=2"),
            (StatusCode::PERMANENT_REDIRECT, Some("https://danvan.example:8443/mo-hinh/1?x=2".into()))
        );
        assert_eq!(location(443, "danvan.example", "/"), (StatusCode::PERMANENT_REDIRECT, Some("https://danvan.example/".into())));
        assert_eq!(location(443, "192.168.1.10:80", "/api/sync"), (StatusCode::PERMANENT_REDIRECT, Some("https://192.168.1.10/api/sync".into())));
        assert_eq!(location(443, "[fe80::1]:80", "/"), (StatusCode::PERMANENT_REDIRECT, Some("https://[fe80::1]/".into())));
    }

    #[test]
    fn a_request_without_a_usable_host_is_refused_not_redirected_elsewhere() {
        let res = redirect(443, &HeaderMap::new(), &"/".parse().unwrap());
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(location(443, "evil.example/path", "/").0, StatusCode::BAD_REQUEST);
        assert_eq!(location(443, "user@evil.example", "/").0, StatusCode::BAD_REQUEST);
    }
}
