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
        return (StatusCode::BAD_REQUEST, "Hãy mở địa chỉ https của máy chủ. Use the server's https address.").into_response();
    };
    let port = if https_port == 443 { String::new() } else { format!(":{https_port}") };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("https://{}{port}{path}", host.host())).into_response()
}

#[cfg(test)]
mod tests {
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
