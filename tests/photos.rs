//! Photos attached to models, through the real server over HTTP: resumable chunked upload,
//! download, and who may do which (the test tree and accounts are in `common`: `a`, `b` cadres of
//! Bản Bo, `c` of Trường Sơn, `d` of Đức Long, `r` reviewer of the Hà Quảng district). Runs on
//! SQLite, and on PostgreSQL too when DANVAN_TEST_POSTGRES_URL is set.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use danvan::domain::{JournalEntry, PhotoRef};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CHUNK: usize = 64 * 1024;

/// Noise bytes (photos compress badly, so this is their size's worth of work for the server);
/// seeds that differ only in their lowest bit give the same noise.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `header` followed by noise up to `len` bytes, with its id (SHA-256).
fn named(header: &[u8], len: usize, seed: u64) -> (String, Vec<u8>) {
    let mut bytes = header.to_vec();
    bytes.extend(noise(len.saturating_sub(header.len()), seed));
    (hex::encode(Sha256::digest(&bytes)), bytes)
}

/// The headers of a baseline JPEG of `width`×`height`: JFIF (APP0), then the frame (SOF0).
fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
    let mut h = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
    h.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    h.extend_from_slice(&height.to_be_bytes());
    h.extend_from_slice(&width.to_be_bytes());
    h.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    h
}

fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut h = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    h.extend_from_slice(&width.to_be_bytes());
    h.extend_from_slice(&height.to_be_bytes());
    h.extend_from_slice(&[8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE]);
    h
}

/// An extended WebP (VP8X) of `width`×`height`.
fn webp_header(len: usize, width: u32, height: u32) -> Vec<u8> {
    let mut h = b"RIFF".to_vec();
    h.extend_from_slice(&((len - 8) as u32).to_le_bytes());
    h.extend_from_slice(b"WEBPVP8X");
    h.extend_from_slice(&10u32.to_le_bytes());
    h.extend_from_slice(&[0, 0, 0, 0]);
    h.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    h.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    h
}

/// A `len`-byte JPEG photo of 1600×1200.
fn photo(len: usize, seed: u64) -> (String, Vec<u8>) {
    named(&jpeg_header(1600, 1200), len, seed)
}

fn png(len: usize, seed: u64) -> (String, Vec<u8>) {
    named(&png_header(1200, 900), len, seed)
}

/// An activity log entry of `user` showing the photos.
fn entry(user: &str, n: usize, photos: &[String]) -> JournalEntry {
    JournalEntry {
        id: format!("e-{user}-{n}"),
        date: "2025-06-01".into(),
        text: "Họp dân ở nhà văn hóa thôn.".into(),
        updates: Vec::new(),
        photos: photos
            .iter()
            .map(|id| PhotoRef { id: id.clone(), content_type: "image/jpeg".into(), bytes: 1, width: 1600, height: 1200 })
            .collect(),
        location: None,
        place: "Thôn Nà Mạ".into(),
        by: user.into(),
        by_name: format!("Người dùng {user}"),
        at: 1_700_000_000_000 + n as i64,
    }
}

/// `user` adds to the activity log of `doc` entries showing `photos` (six to an entry, as the form
/// allows), and syncs them to the server: what the app does before it uploads a photo.
async fn attach(server: &Server, user: &str, doc: &str, photos: &[String]) {
    let replica = MemoryReplica::new();
    let http = Http::as_user(server, user);
    run_session(&replica, &http, &mut ()).await.unwrap();
    edit(&replica, doc, |m| {
        let first = m.journal.len();
        for (k, ids) in photos.chunks(6).enumerate() {
            m.journal.push(entry(user, first + k, ids));
        }
    });
    let report = run_session(&replica, &http, &mut ()).await.unwrap();
    assert_eq!((report.pending, report.rejected.len()), (0, 0), "{:?}", report.rejected);
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
    let (other_id, other) = photo(1_000, 8);
    let doc = "m-BANBO";
    attach(server, "a", doc, std::slice::from_ref(&id)).await;
    attach(server, "d", "m-DUCLONG", std::slice::from_ref(&other_id)).await;

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
    let (id, bytes) = png(150_000, 9);
    let (new_id, small) = photo(100_000, 10);
    attach(server, "a", doc, &[id.clone(), new_id.clone()]).await;

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
    let (code, body) = c.put_typed(Some("a"), doc, &new_id, (0, 5 * 1024 * 1024 + 1), &small, "image/jpeg").await;
    assert_eq!(code, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("tối đa 5 MB"), "{body}");
    let big = vec![0u8; 256 * 1024 + 1];
    let (code, body) = c.put_typed(Some("a"), doc, &new_id, (0, 1024 * 1024), &big, "image/jpeg").await;
    assert_eq!(code, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("256 KiB"), "{body}");
    assert_eq!(c.put("a", doc, &new_id, &small, 0, 40_000).await.0, 200);
    let (code, body) = c.put_typed(Some("a"), doc, &new_id, (40_000, 200_000), &small[40_000..], "image/jpeg").await;
    assert_eq!(code, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("khác với lúc bắt đầu"), "{body}");
    assert_eq!(c.put_typed(Some("a"), doc, &new_id, (40_000, 41_000), &small[40_000..], "image/jpeg").await.0, 400, "past the total");
    assert_eq!(c.status(Some("a"), doc, &new_id).await, (200, status(40_000, false)), "refused chunks change nothing");

    // Bad requests.
    assert_eq!(c.put_typed(Some("a"), doc, &new_id, (40_000, 100_000), &small[40_000..], "text/html").await.0, 400);
    assert_eq!(c.put_typed(Some("a"), doc, &new_id.to_uppercase(), (0, 100_000), &small, "image/jpeg").await.0, 400);
    assert_eq!(c.put_typed(Some("a"), "bad.id", &new_id, (0, 100_000), &small, "image/jpeg").await.0, 400);
    assert_eq!(c.status(Some("a"), doc, "abc").await.0, 400);
    let res = c.http.put(c.url(doc, &new_id)).bearer_auth(server.tokens.of("a")).body(small.clone()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400, "offset and total are required");

    // No session.
    assert_eq!(c.put_typed(None, doc, &new_id, (40_000, 100_000), &small[40_000..], "image/jpeg").await.0, 401);
    assert_eq!(c.status(None, doc, &id).await.0, 401);
    assert_eq!(c.download(None, doc, &id).await.0, 401);

    // The model's text has not reached the server yet: later, retryable.
    let (code, body) = c.put("a", "m-not-synced", &new_id, &small, 0, small.len()).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["retryable"], true);
    assert_eq!(body["error"], "Mô hình chưa được đồng bộ lên máy chủ; ảnh sẽ được gửi sau.");
    assert_eq!(c.status(Some("a"), "m-not-synced", &new_id).await.0, 404);
}

/// Bytes that are not an image are refused, whatever type is claimed, and what is served is the
/// type found in the bytes.
async fn only_images_are_stored(server: &Server) {
    with_models(server).await;
    let c = Client { server, http: reqwest::Client::new() };
    let doc = "m-BANBO";
    let (html_id, html) = named(b"<!doctype html><script>fetch('/api/session')</script>", 2_000, 1);
    let (png_id, png_bytes) = png(50_000, 2);
    let (frameless_id, frameless) = named(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0], 100_000, 3);
    let (empty_id, empty) = named(&jpeg_header(0, 0), 3_000, 4);
    let (huge_id, huge) = named(&jpeg_header(60_000, 20), 3_000, 5);
    let (webp_id, webp) = named(&webp_header(40_000, 800, 600), 40_000, 6);
    let all = [&html_id, &png_id, &frameless_id, &empty_id, &huge_id, &webp_id].map(|s| s.to_string());
    attach(server, "a", doc, &all).await;

    // A web page sent as a JPEG: refused at its first chunk, nothing kept.
    let (code, body) = c.put_typed(Some("a"), doc, &html_id, (0, html.len()), &html, "image/jpeg").await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["retryable"], false);
    assert!(body["error"].as_str().unwrap().contains("không phải ảnh JPEG"), "{body}");
    assert_eq!(c.status(Some("a"), doc, &html_id).await, (200, status(0, false)));
    assert_eq!(c.download(Some("a"), doc, &html_id).await.0, 404);

    // A PNG claimed to be a JPEG: the bytes say what they are.
    let (code, body) = c.put_typed(Some("a"), doc, &png_id, (0, png_bytes.len()), &png_bytes, "image/jpeg").await;
    assert_eq!(code, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("là ảnh PNG"), "{body}");

    // JPEG magic without a frame header, dimensions 0×0 or 60,000 px wide: refused when the photo
    // is complete, and the upload is dropped.
    assert_eq!(c.put("a", doc, &frameless_id, &frameless, 0, CHUNK).await, (200, status(CHUNK, false)));
    let (code, body) = c.put("a", doc, &frameless_id, &frameless, CHUNK, frameless.len()).await;
    assert_eq!(code, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("không đọc được kích thước"), "{body}");
    assert_eq!(c.status(Some("a"), doc, &frameless_id).await, (200, status(0, false)));
    for (id, bytes) in [(&empty_id, &empty), (&huge_id, &huge)] {
        let (code, body) = c.put("a", doc, id, bytes, 0, bytes.len()).await;
        assert_eq!(code, 422, "{body}");
        assert!(body["error"].as_str().unwrap().contains("1 đến 10000 điểm ảnh"), "{body}");
        assert_eq!(c.download(Some("a"), doc, id).await.0, 404);
    }

    // Real images of each type are kept and served as what they are.
    for (id, bytes, content_type) in [(&png_id, &png_bytes, "image/png"), (&webp_id, &webp, "image/webp")] {
        assert_eq!(c.put_typed(Some("a"), doc, id, (0, bytes.len()), bytes, content_type).await, (200, status(bytes.len(), true)));
        let (code, served_as, _, body) = c.download(Some("a"), doc, id).await;
        assert_eq!((code, served_as.as_str()), (200, content_type));
        assert!(&body == bytes);
    }
}

/// A photo is taken only for an entry of the model's activity log already on the server, in
/// chunks of at least 32 KiB (but the last), and within the limits per model and per user a day.
async fn uploads_need_an_entry_and_stay_within_limits(server: &Server) {
    with_models(server).await;
    let c = Client { server, http: reqwest::Client::new() };
    let doc = "m-BANBO";

    // Shown by no entry (the app sends only photos of saved entries, after they synced): later.
    let (id, bytes) = photo(200_000, 20);
    let (code, body) = c.put("a", doc, &id, &bytes, 0, CHUNK).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["retryable"], true);
    assert!(body["error"].as_str().unwrap().contains("nhật ký"), "{body}");
    assert_eq!(c.status(Some("a"), doc, &id).await, (200, status(0, false)), "nothing kept");
    attach(server, "a", doc, std::slice::from_ref(&id)).await;

    // Tiny chunks (each append is a write): refused but for the last one.
    let (code, body) = c.put("a", doc, &id, &bytes, 0, 1_024).await;
    assert_eq!(code, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("32 KiB"), "{body}");
    assert_eq!(c.put("a", doc, &id, &bytes, 0, 32 * 1024).await, (200, status(32 * 1024, false)));
    assert_eq!(c.put("a", doc, &id, &bytes, 32 * 1024, 199_000).await, (200, status(199_000, false)));
    assert_eq!(c.put("a", doc, &id, &bytes, 199_000, 200_000).await, (200, status(200_000, true)), "the last chunk may be small");

    // At most 200 photos per model: the 201st is refused for good, an existing one still answers.
    let many: Vec<(String, Vec<u8>)> = (0..200).map(|i| photo(600, 1_000 + 2 * i)).collect();
    let ids: Vec<String> = many.iter().map(|(id, _)| id.clone()).collect();
    attach(server, "b", doc, &ids).await;
    for (id, bytes) in &many[..199] {
        assert_eq!(c.put("b", doc, id, bytes, 0, bytes.len()).await, (200, status(bytes.len(), true)));
    }
    let (code, body) = c.put("b", doc, &many[199].0, &many[199].1, 0, many[199].1.len()).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["retryable"], false);
    assert!(body["error"].as_str().unwrap().contains("200 ảnh"), "{body}");
    assert_eq!(c.put("a", doc, &id, &bytes, 0, CHUNK).await, (200, status(200_000, true)), "a complete photo is not a new one");

    // At most 300 new photos a day per user (b has 199): then 429, with when to try again.
    let second = "m-BANBO-2";
    let replica = MemoryReplica::new();
    replica.put_local(second, &mut new_model_in(second, "Mô hình thứ hai", "BANBO"));
    run_session(&replica, &Http::as_user(server, "b"), &mut ()).await.unwrap();
    let more: Vec<(String, Vec<u8>)> = (0..102).map(|i| photo(600, 5_000 + 2 * i)).collect();
    attach(server, "b", second, &more.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()).await;
    for (id, bytes) in &more[..101] {
        assert_eq!(c.put("b", second, id, bytes, 0, bytes.len()).await, (200, status(bytes.len(), true)));
    }
    let res = c
        .http
        .put(format!("{}?offset=0&total={}", c.url(second, &more[101].0), more[101].1.len()))
        .bearer_auth(server.tokens.of("b"))
        .header("content-type", "image/jpeg")
        .body(more[101].1.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((80_000..=86_400).contains(&retry_after), "{retry_after}");
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("300 ảnh"), "{body}");
    // Another cadre of the unit is not held back by b's limit.
    assert_eq!(c.put("a", second, &more[101].0, &more[101].1, 0, more[101].1.len()).await.0, 200);
}

/// The sweeper, against what the server holds: photos no entry shows (once past the grace
/// period), uploads abandoned half-way, expired sessions and invitations go; the rest stays.
async fn the_sweeper_keeps_only_what_is_used(server: &Server, store: &dyn danvan::server::store::Store) {
    use danvan::server::photos::{ABANDONED_AFTER_MS, UNREFERENCED_AFTER_MS, sweep};
    use danvan::server::store::{Invitation, PhotoAppend, PhotoChunk, Session};
    with_models(server).await;
    let c = Client { server, http: reqwest::Client::new() };
    let doc = "m-BANBO";
    let (shown, shown_bytes) = photo(100_000, 30);
    let (partial, partial_bytes) = photo(200_000, 31);
    attach(server, "a", doc, &[shown.clone(), partial.clone()]).await;
    assert_eq!(c.upload_from("a", doc, &shown, &shown_bytes, 0).await.0, 200);
    assert_eq!(c.put("a", doc, &partial, &partial_bytes, 0, CHUNK).await.0, 200);
    // A photo no entry shows, as main accepted them before uploads needed an entry.
    let (orphan, orphan_bytes) = photo(5_000, 32);
    let now = danvan::server::now_ms();
    let chunk = PhotoChunk {
        doc_id: doc.into(),
        id: orphan.clone(),
        content_type: "image/jpeg".into(),
        offset: 0,
        total: orphan_bytes.len() as u64,
        bytes: orphan_bytes.clone(),
        by: "a".into(),
    };
    assert!(matches!(store.append_photo(chunk, &danvan::server::photos::LIMITS, now).await.unwrap(), PhotoAppend::Stored(_)));
    let session = |expires_at| Session { username: "b".into(), verifier_hash: "v".into(), created_at: now, expires_at };
    store.create_session("old-session", &session(now + 1_000)).await.unwrap();
    store.save_invitation("old-invitation", &Invitation { username: "c".into(), verifier_hash: "v".into(), expires_at: now + 1_000 }, now).await.unwrap();

    // Within the grace periods nothing goes (the orphan's entry may still be on its way).
    let swept = sweep(store, now + 60_000).await.unwrap();
    assert_eq!((swept.unreferenced_photos, swept.abandoned_uploads, swept.sessions, swept.invitations), (0, 0, 1, 1));
    assert!(store.session_user("old-session").await.unwrap().is_none());
    assert!(store.invitation("old-invitation").await.unwrap().is_none());
    assert_eq!(c.status(Some("a"), doc, &orphan).await.1, status(orphan_bytes.len(), true));

    // Past them: the orphan and the abandoned upload go; the photo an entry shows stays, and
    // every signed-in test account stays signed in.
    let later = now + UNREFERENCED_AFTER_MS.max(ABANDONED_AFTER_MS) + 60_000;
    let swept = sweep(store, later).await.unwrap();
    assert_eq!((swept.unreferenced_photos, swept.abandoned_uploads, swept.sessions, swept.invitations), (1, 1, 0, 0));
    assert_eq!(c.status(Some("a"), doc, &orphan).await.1, status(0, false));
    assert_eq!(c.status(Some("a"), doc, &partial).await.1, status(0, false));
    let (code, _, _, body) = c.download(Some("a"), doc, &shown).await;
    assert!(code == 200 && body == shown_bytes);
    // Run again: nothing left to do, and the kept photo's document is not read again.
    let swept = sweep(store, later).await.unwrap();
    assert_eq!((swept.unreferenced_photos, swept.abandoned_uploads, swept.photos_checked), (0, 0, 0));
}

async fn sqlite_server() -> (tempfile::TempDir, Server) {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    (dir, server)
}

async fn postgres_server() -> Option<(tempfile::TempDir, Server)> {
    postgres_server_at().await.map(|(dir, server, _)| (dir, server))
}

async fn postgres_server_at() -> Option<(tempfile::TempDir, Server, String)> {
    let url = fresh_postgres().await?;
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(postgres_config(dir.path(), &url)).await;
    Some((dir, server, url))
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

#[tokio::test]
async fn sqlite_only_images_are_stored() {
    let (_dir, server) = sqlite_server().await;
    only_images_are_stored(&server).await;
}

#[tokio::test]
async fn postgres_only_images_are_stored() {
    let Some((_dir, server)) = postgres_server().await else { return };
    only_images_are_stored(&server).await;
}

#[tokio::test]
async fn sqlite_uploads_need_an_entry_and_stay_within_limits() {
    let (_dir, server) = sqlite_server().await;
    uploads_need_an_entry_and_stay_within_limits(&server).await;
}

#[tokio::test]
async fn postgres_uploads_need_an_entry_and_stay_within_limits() {
    let Some((_dir, server)) = postgres_server().await else { return };
    uploads_need_an_entry_and_stay_within_limits(&server).await;
}

#[tokio::test]
async fn sqlite_the_sweeper_keeps_only_what_is_used() {
    let (dir, server) = sqlite_server().await;
    // A second store over the server's file, as another process would open it.
    let store = danvan::server::store::SqliteStore::open(&dir.path().join("danvan.sqlite3")).unwrap();
    the_sweeper_keeps_only_what_is_used(&server, &store).await;
}

#[tokio::test]
async fn postgres_the_sweeper_keeps_only_what_is_used() {
    let Some((_dir, server, url)) = postgres_server_at().await else { return };
    let store = danvan::server::store::postgres::PostgresStore::connect(&url).await.unwrap();
    the_sweeper_keeps_only_what_is_used(&server, &store).await;
}
