//! Photos attached to models, through the real server over HTTP: resumable chunked upload,
//! download, and who may do which (the test tree and accounts are in `common`: `a`, `b` cadres of
//! Bản Bo, `c` of Trường Sơn, `d` of Đức Long, `r` reviewer of the Hà Quảng district). Runs on
//! SQLite, and on PostgreSQL too when DANVAN_TEST_POSTGRES_URL is set.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use danvan::server::Config;
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CHUNK: usize = 64 * 1024;

/// `len` pseudo-random bytes that start like a JPEG.
fn photo(len: usize, seed: u64) -> (String, Vec<u8>) {
    let mut x = seed | 1;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    bytes[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    (hex::encode(Sha256::digest(&bytes)), bytes)
}

struct Client<'a> {
    server: &'a Server,
    http: reqwest::Client,
}

impl Client<'_> {
    fn url(&self, doc: &str, id: &str) -> String {
        format!("{}/api/photos/{doc}/{id}", self.server.url)
    }

    fn token(&self, user: Option<&str>) -> Option<String> {
        user.map(|u| self.server.tokens.of(u))
    }

    async fn put_typed(
        &self,
        user: Option<&str>,
        doc: &str,
        id: &str,
        (offset, total): (usize, usize),
        body: &[u8],
        content_type: &str,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .put(format!("{}?offset={offset}&total={total}", self.url(doc, id)))
            .header("content-type", content_type)
            .body(body.to_vec());
        if let Some(t) = self.token(user) {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
    }

    /// Sends `bytes[offset..end]` as a chunk of the JPEG `bytes`.
    async fn put(&self, user: &str, doc: &str, id: &str, bytes: &[u8], offset: usize, end: usize) -> (u16, Value) {
        self.put_typed(Some(user), doc, id, (offset, bytes.len()), &bytes[offset..end], "image/jpeg").await
    }

    async fn status(&self, user: Option<&str>, doc: &str, id: &str) -> (u16, Value) {
        let mut req = self.http.get(format!("{}/status", self.url(doc, id)));
        if let Some(t) = self.token(user) {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
    }

    /// Status code, content type, cache control, bytes.
    async fn download(&self, user: Option<&str>, doc: &str, id: &str) -> (u16, String, String, Vec<u8>) {
        let mut req = self.http.get(self.url(doc, id));
        if let Some(t) = self.token(user) {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let header = |name| res.headers().get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string()).unwrap_or_default();
        let (content_type, cache) = (header("content-type"), header("cache-control"));
        (res.status().as_u16(), content_type, cache, res.bytes().await.unwrap().to_vec())
    }

    /// Uploads `bytes` whole from `offset`, in chunks; returns the last answer.
    async fn upload_from(&self, user: &str, doc: &str, id: &str, bytes: &[u8], mut offset: usize) -> (u16, Value) {
        loop {
            let end = (offset + CHUNK).min(bytes.len());
            let (code, body) = self.put(user, doc, id, bytes, offset, end).await;
            assert_eq!(code, 200, "{body}");
            if end == bytes.len() {
                return (code, body);
            }
            assert_eq!(body["received"], end, "{body}");
            offset = end;
        }
    }
}

fn status(received: usize, complete: bool) -> Value {
    serde_json::json!({ "received": received, "complete": complete })
}

/// Bản Bo's and Đức Long's cadres have registered a model each, synced to the server.
async fn with_models(server: &Server) {
    for (user, unit) in [("a", "BANBO"), ("d", "DUCLONG")] {
        let replica = MemoryReplica::new();
        let id = format!("m-{unit}");
        replica.put_local(&id, &mut new_model_in(&id, &format!("Mô hình của {unit}"), unit));
        let report = run_session(&replica, &Http::as_user(server, user), &mut ()).await.unwrap();
        assert_eq!((report.pending, report.rejected.len()), (0, 0));
    }
}

async fn uploads_resume_and_download_whole(server: &Server) {
    with_models(server).await;
    let c = Client { server, http: reqwest::Client::new() };
    let (id, bytes) = photo(300_000, 7);
    let doc = "m-BANBO";

    // Not uploaded yet: status 0, nothing to download.
    assert_eq!(c.status(Some("a"), doc, &id).await, (200, status(0, false)));
    assert_eq!(c.download(Some("a"), doc, &id).await.0, 404);

    // Two chunks, then the connection is cut; the status says where to resume.
    assert_eq!(c.put("a", doc, &id, &bytes, 0, CHUNK).await, (200, status(CHUNK, false)));
    assert_eq!(c.put("a", doc, &id, &bytes, CHUNK, 2 * CHUNK).await, (200, status(2 * CHUNK, false)));
    assert_eq!(c.status(Some("a"), doc, &id).await, (200, status(2 * CHUNK, false)));
    assert_eq!(c.download(Some("a"), doc, &id).await.0, 404, "an incomplete photo is not served");

    // A wrong offset (a chunk sent again, or one ahead): 409 with where the upload stands.
    for offset in [CHUNK, 3 * CHUNK] {
        let (code, body) = c.put("a", doc, &id, &bytes, offset, offset + CHUNK).await;
        assert_eq!(code, 409, "{body}");
        assert_eq!((body["received"].as_u64(), body["complete"].as_bool(), body["retryable"].as_bool()), (Some(2 * CHUNK as u64), Some(false), Some(true)));
        assert!(body["error"].as_str().unwrap().contains("gửi tiếp"), "{body}");
    }

    // Resume from `received`, another cadre of the unit finishing it (a second device).
    let received = c.status(Some("b"), doc, &id).await.1["received"].as_u64().unwrap() as usize;
    assert_eq!(c.upload_from("b", doc, &id, &bytes, received).await, (200, status(bytes.len(), true)));
    // The reply to the last chunk was lost; it is sent again: still fine.
    let last = bytes.len() - bytes.len() % CHUNK;
    assert_eq!(c.put("a", doc, &id, &bytes, last, bytes.len()).await, (200, status(bytes.len(), true)));
    assert_eq!(c.put("a", doc, &id, &bytes, 0, CHUNK).await, (200, status(bytes.len(), true)), "any chunk of a complete photo");

    let (code, content_type, cache, body) = c.download(Some("a"), doc, &id).await;
    assert_eq!((code, content_type.as_str(), cache.as_str()), (200, "image/jpeg", "private, max-age=31536000, immutable"));
    assert!(body == bytes, "the photo comes back byte for byte");

    // The district's reviewer reads it but adds no evidence.
    assert_eq!(c.status(Some("r"), doc, &id).await, (200, status(bytes.len(), true)));
    assert_eq!(c.download(Some("r"), doc, &id).await.0, 200);
    let (other_id, other) = photo(1_000, 8);
    let (code, body) = c.put("r", doc, &other_id, &other, 0, other.len()).await;
    assert_eq!(code, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("cán bộ"), "{body}");

    // Another commune's cadre (same district) and another district's: as if it did not exist.
    for user in ["c", "d"] {
        assert_eq!(c.status(Some(user), doc, &id).await.0, 404, "{user}");
        assert_eq!(c.download(Some(user), doc, &id).await.0, 404, "{user}");
        assert_eq!(c.put(user, doc, &other_id, &other, 0, other.len()).await.0, 404, "{user}");
        assert_eq!(c.put(user, doc, &id, &bytes, 0, CHUNK).await.0, 404, "{user}: not even 'complete'");
    }
    // Đức Long's own model is theirs.
    assert_eq!(c.put("d", "m-DUCLONG", &other_id, &other, 0, other.len()).await, (200, status(other.len(), true)));
    assert_eq!(c.download(Some("a"), "m-DUCLONG", &other_id).await.0, 404);
    assert_eq!(c.download(Some("a"), doc, &other_id).await.0, 404, "a photo belongs to its document");
}

async fn damaged_oversized_and_refused_uploads(server: &Server) {
    with_models(server).await;
    let c = Client { server, http: reqwest::Client::new() };
    let doc = "m-BANBO";
    let (id, bytes) = photo(150_000, 9);

    // Damaged on the way: the last chunk reveals it; the upload starts again from 0.
    let mut damaged = bytes.clone();
    damaged[100_000] ^= 0x40;
    c.put_typed(Some("a"), doc, &id, (0, bytes.len()), &damaged[..CHUNK], "image/png").await;
    c.put_typed(Some("a"), doc, &id, (CHUNK, bytes.len()), &damaged[CHUNK..2 * CHUNK], "image/png").await;
    let (code, body) = c.put_typed(Some("a"), doc, &id, (2 * CHUNK, bytes.len()), &damaged[2 * CHUNK..], "image/png").await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["retryable"], true);
    assert_eq!(body["error"], "Ảnh bị hỏng trên đường truyền; sẽ gửi lại từ đầu.");
    assert_eq!(c.status(Some("a"), doc, &id).await, (200, status(0, false)));
    assert_eq!(c.download(Some("a"), doc, &id).await.0, 404);

    // Sent again, as PNG: the type is kept (parameters dropped).
    for (offset, end) in [(0, CHUNK), (CHUNK, 2 * CHUNK), (2 * CHUNK, bytes.len())] {
        let (code, body) = c.put_typed(Some("a"), doc, &id, (offset, bytes.len()), &bytes[offset..end], "image/png; x=y").await;
        assert_eq!(code, 200, "{body}");
    }
    let (code, content_type, _, body) = c.download(Some("a"), doc, &id).await;
    assert_eq!((code, content_type.as_str()), (200, "image/png"));
    assert!(body == bytes);

    // Too large a photo, too large a chunk, a total that changes, data past the total.
    let (new_id, small) = photo(10_000, 10);
    let (code, body) = c.put_typed(Some("a"), doc, &new_id, (0, 5 * 1024 * 1024 + 1), &small, "image/jpeg").await;
    assert_eq!(code, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("tối đa 5 MB"), "{body}");
    let big = vec![0u8; 256 * 1024 + 1];
    let (code, body) = c.put_typed(Some("a"), doc, &new_id, (0, 1024 * 1024), &big, "image/jpeg").await;
    assert_eq!(code, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("256 KiB"), "{body}");
    assert_eq!(c.put("a", doc, &new_id, &small, 0, 5_000).await.0, 200);
    let (code, body) = c.put_typed(Some("a"), doc, &new_id, (5_000, 20_000), &small[5_000..], "image/jpeg").await;
    assert_eq!(code, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("khác với lúc bắt đầu"), "{body}");
    assert_eq!(c.put_typed(Some("a"), doc, &new_id, (5_000, 6_000), &small[5_000..], "image/jpeg").await.0, 400, "past the total");
    assert_eq!(c.status(Some("a"), doc, &new_id).await, (200, status(5_000, false)), "refused chunks change nothing");

    // Bad requests.
    assert_eq!(c.put_typed(Some("a"), doc, &new_id, (5_000, 10_000), &small[5_000..], "text/html").await.0, 400);
    assert_eq!(c.put_typed(Some("a"), doc, &new_id.to_uppercase(), (0, 10_000), &small, "image/jpeg").await.0, 400);
    assert_eq!(c.put_typed(Some("a"), "bad.id", &new_id, (0, 10_000), &small, "image/jpeg").await.0, 400);
    assert_eq!(c.status(Some("a"), doc, "abc").await.0, 400);
    let res = c.http.put(c.url(doc, &new_id)).bearer_auth(server.tokens.of("a")).body(small.clone()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400, "offset and total are required");

    // No session.
    assert_eq!(c.put_typed(None, doc, &new_id, (5_000, 10_000), &small[5_000..], "image/jpeg").await.0, 401);
    assert_eq!(c.status(None, doc, &id).await.0, 401);
    assert_eq!(c.download(None, doc, &id).await.0, 401);

    // The model's text has not reached the server yet: later, retryable.
    let (code, body) = c.put("a", "m-not-synced", &new_id, &small, 0, small.len()).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["retryable"], true);
    assert_eq!(body["error"], "Mô hình chưa được đồng bộ lên máy chủ; ảnh sẽ được gửi sau.");
    assert_eq!(c.status(Some("a"), "m-not-synced", &new_id).await.0, 404);
}

async fn sqlite_server() -> (tempfile::TempDir, Server) {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    (dir, server)
}

async fn postgres_server() -> Option<(tempfile::TempDir, Server)> {
    let url = fresh_postgres().await?;
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: dir.path().join("unused.sqlite3"),
        database_url: Some(url),
        dist: dir.path().join("no-dist"),
        cache_docs: 2000,
        session_days: 30.0,
        tls: Default::default(),
    })
    .await;
    Some((dir, server))
}

#[tokio::test]
async fn sqlite_uploads_resume_and_download_whole() {
    let (_dir, server) = sqlite_server().await;
    uploads_resume_and_download_whole(&server).await;
}

#[tokio::test]
async fn sqlite_damaged_oversized_and_refused_uploads() {
    let (_dir, server) = sqlite_server().await;
    damaged_oversized_and_refused_uploads(&server).await;
}

#[tokio::test]
async fn postgres_uploads_resume_and_download_whole() {
    let Some((_dir, server)) = postgres_server().await else { return };
    uploads_resume_and_download_whole(&server).await;
}

#[tokio::test]
async fn postgres_damaged_oversized_and_refused_uploads() {
    let Some((_dir, server)) = postgres_server().await else { return };
    damaged_oversized_and_refused_uploads(&server).await;
}
