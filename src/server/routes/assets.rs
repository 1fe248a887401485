//! Serving the built client (`dist/`): precompressed (brotli, gzip), long-lived caching for
//! content-hashed files, the SPA fallback to `index.html`, and the service worker generated with
//! the exact list of files to precache and a cache version derived from their contents.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::server::AppState;

const SW_TEMPLATE: &str = include_str!("../../client/sw.js");
const COMPRESSIBLE: &[&str] = &["html", "js", "css", "wasm", "webmanifest", "json", "svg", "txt", "tsv"];

pub struct Assets {
    pub dist: PathBuf,
    /// Changes whenever any file of the build changes (names the service worker's cache).
    pub version: String,
    pub service_worker: String,
    pub built: bool,
    /// The Content-Security-Policy of every response (see [`content_security_policy`]).
    pub csp: String,
}

impl Assets {
    /// Scans `dist` and renders the service worker; returns the files still to compress
    /// (see [`precompress_all`]), which the server does in the background while already serving.
    pub fn prepare(dist: &Path) -> anyhow::Result<(Assets, Vec<PathBuf>)> {
        let mut files = Vec::new();
        if dist.join("index.html").is_file() {
            collect(dist, dist, &mut files)?;
        }
        files.sort();
        let mut hasher = Sha256::new();
        let mut precache = vec!["/".to_string()];
        let mut to_compress = Vec::new();
        for rel in &files {
            let path = dist.join(rel);
            let bytes = std::fs::read(&path)?;
            hasher.update(rel.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
            precache.push(format!("/{rel}"));
            if is_compressible(rel) && !siblings_fresh(&path)? {
                // A stale sibling would be served in place of the new file: remove it now, and
                // compress again in the background.
                for ext in ["br", "gz"] {
                    match std::fs::remove_file(sibling(&path, ext)) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                        _ => {}
                    }
                }
                to_compress.push(path);
            }
        }
        let version = hex::encode(&hasher.finalize()[..8]);
        let index = std::fs::read_to_string(dist.join("index.html")).unwrap_or_default();
        let csp = content_security_policy(&inline_script_hashes(&index));
        let service_worker = SW_TEMPLATE
            .replace("__VERSION__", &version)
            .replace("__ASSETS__", &serde_json::to_string(&precache)?);
        Ok((Assets { dist: dist.to_path_buf(), version, service_worker, built: !files.is_empty(), csp }, to_compress))
    }
}

/// Writes missing or stale `.br`/`.gz` siblings. Until a file's siblings exist it is served
/// uncompressed, which is correct, only bigger.
pub fn precompress_all(files: &[PathBuf]) -> anyhow::Result<()> {
    for path in files {
        let bytes = std::fs::read(path)?;
        precompress(path, &bytes)?;
    }
    Ok(())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if !(rel.ends_with(".br") || rel.ends_with(".gz") || rel.ends_with(".tmp")) {
            out.push(rel);
        }
    }
    Ok(())
}

/// The SHA-256 (CSP source form) of each inline `<script>` of the shell: Trunk writes one that
/// starts the wasm, and the policy allows exactly that script, no other inline code.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let Some(close) = after[open_end..].find("</script>") else { break };
        let tag = &after[..open_end];
        if !tag.contains("src=") {
            let body = &after[open_end + 1..open_end + close];
            use base64::Engine;
            hashes.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()))));
        }
        rest = &after[open_end + close..];
    }
    hashes
}

/// Same-origin everything; wasm may be compiled (`wasm-unsafe-eval`), no other eval, no inline
/// script but the shell's own, no inline styles, no framing. Photos and QR codes are `data:` or
/// `blob:` images.
pub fn content_security_policy(script_hashes: &[String]) -> String {
    let mut script = vec!["'self'", "'wasm-unsafe-eval'"];
    script.extend(script_hashes.iter().map(String::as_str));
    format!(
        "default-src 'self'; script-src {}; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; \
         worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
        script.join(" ")
    )
}

fn is_compressible(rel: &str) -> bool {
    rel.rsplit_once('.').is_some_and(|(_, ext)| COMPRESSIBLE.contains(&ext))
}

fn sibling(path: &Path, ext: &str) -> PathBuf {
    PathBuf::from(format!("{}.{ext}", path.display()))
}

/// Both compressed siblings exist and are not older than the file.
fn siblings_fresh(path: &Path) -> std::io::Result<bool> {
    let source_time = std::fs::metadata(path)?.modified()?;
    Ok(["br", "gz"].iter().all(|ext| {
        std::fs::metadata(sibling(path, ext)).and_then(|m| m.modified()).is_ok_and(|t| t >= source_time)
    }))
}

/// Writes each sibling under a temporary name and renames it, so a half-written file is never served.
fn precompress(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let write = |ext: &str, data: Vec<u8>| -> std::io::Result<()> {
        let tmp = sibling(path, &format!("{ext}.tmp"));
        std::fs::write(&tmp, data)?;
        std::fs::rename(tmp, sibling(path, ext))
    };
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    write("br", out)?;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    write("gz", enc.finish()?)?;
    Ok(())
}

/// Trunk names built files `name-<16 hex>…`; such a URL never changes content.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.match_indices('-').any(|(i, _)| {
        let rest = &name[i + 1..];
        rest.len() > 16
            && rest[..16].bytes().all(|b| b.is_ascii_hexdigit())
            && matches!(rest.as_bytes()[16], b'.' | b'_')
    })
}

pub fn router(assets: Arc<Assets>) -> Router<Arc<AppState>> {
    let sw = assets.service_worker.clone();
    let index = assets.dist.join("index.html");
    let serve_dir = ServeDir::new(&assets.dist).precompressed_br().precompressed_gzip().append_index_html_on_directories(true);
    let built = assets.built;
    let spa = move |req: Request| {
        let serve_dir = serve_dir.clone();
        let index = index.clone();
        async move {
            if !built {
                return (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response();
            }
            // App routes (no file extension) get the shell; missing files get a plain 404.
            let path = req.uri().path().to_string();
            let last = path.rsplit('/').next().unwrap_or("");
            let res = serve_dir.oneshot(req).await.into_response();
            if res.status() == StatusCode::NOT_FOUND && !last.contains('.') && !path.starts_with("/api/") {
                let req = Request::builder().uri("/index.html").body(axum::body::Body::empty()).unwrap();
                return ServeFile::new(index).precompressed_br().precompressed_gzip().oneshot(req).await.into_response();
            }
            res
        }
    };
    Router::new()
        .route(
            "/sw.js",
            get(move || {
                let sw = sw.clone();
                async move { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], sw) }
            }),
        )
        .fallback(spa)
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    let value = if hashed && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        // The shell, the service worker and the manifest must be revalidated so updates arrive.
        "no-cache"
    };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    // The same URL is sent raw, gzip or brotli depending on the request.
    res.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// For the developer who started the server before building the app (Vietnamese only: no app, no
/// language chosen yet).
const NOT_BUILT: &str = crate::i18n::vi(
    "<!doctype html><meta charset=utf-8><title>danvan</title>\
<p>Ứng dụng chưa được xây dựng (thiếu dist/index.html). Chạy <code>.ci/serve</code> — xem README.md.</p>",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_inline_scripts_of_the_shell() {
        let html = "<head><script type=module>import init from '/a.js';</script><script src=/b.js></script></head>";
        let hashes = inline_script_hashes(html);
        use base64::Engine;
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"import init from '/a.js';"));
        assert_eq!(hashes, [format!("'sha256-{expected}'")]);
        let csp = content_security_policy(&hashes);
        assert!(csp.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';")));
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed("/danvan-9f2d4b8ac1e3f5d7_bg.wasm"));
        assert!(is_hashed("/danvan-9f2d4b8ac1e3f5d7.js"));
        assert!(is_hashed("/main-0123456789abcdef.css"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/sw.js"));
        assert!(!is_hashed("/icons/icon-192.png"));
        assert!(!is_hashed("/mo-hinh/3f0c2a9e-5b7d-4c1e-9a8f-1d2e3f4a5b6c"));
    }

    #[test]
    fn prepares_compressed_siblings_and_a_versioned_worker() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html>".repeat(200)).unwrap();
        std::fs::write(dir.path().join("app-0123456789abcdef.js"), "console.log(1)").unwrap();
        let (a, todo) = Assets::prepare(dir.path()).unwrap();
        precompress_all(&todo).unwrap();
        assert!(dir.path().join("index.html.br").is_file());
        assert!(dir.path().join("app-0123456789abcdef.js.gz").is_file());
        assert!(a.service_worker.contains(&a.version));
        assert!(a.service_worker.contains(r#"["/","/app-0123456789abcdef.js","/index.html"]"#));
        // Any change to the build changes the version, and the old compressed copies go at once.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("app-0123456789abcdef.js"), "console.log(2)").unwrap();
        let (b, todo) = Assets::prepare(dir.path()).unwrap();
        assert_ne!(a.version, b.version);
        assert!(!dir.path().join("app-0123456789abcdef.js.br").exists());
        assert_eq!(todo.len(), 1, "only the changed file is compressed again");
    }
}
