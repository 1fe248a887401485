//! Integration tests: the real server on a random port, driven by the real session code
//! (`danvan::sync::session`) over HTTP, with in-memory replicas standing in for browsers.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{Transport, run_session};
use danvan::sync::{DocMessage, FailureCode, SyncRequest, SyncResponse};

#[tokio::test]
async fn a_model_reaches_a_second_device_and_concurrent_edits_both_survive() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let (a, b) = (MemoryReplica::new(), MemoryReplica::new());
    a.put_local("m1", &mut new_model("m1", "Hũ gạo tình thương"));
    let report = sync(&a, &server).await;
    assert_eq!(report.pending, 0, "A's change acknowledged");
    assert!(report.rejected.is_empty());

    sync(&b, &server).await;
    assert_eq!(model(&b, "m1").name, "Hũ gạo tình thương");
    assert_eq!(b.dirty_count(), 0);
    let shared = automerge::sync::State::decode(&b.record("m1").unwrap().sync.unwrap()).unwrap().shared_heads;
    assert_eq!(shared, b.doc("m1").unwrap().get_heads(), "a feed document records what the server holds");

    // Both edit offline, different fields of the same model, then sync in turn.
    edit(&a, "m1", |m| m.owner_name = "Hội Phụ nữ phường".into());
    edit(&b, "m1", |m| {
        m.end_date = "2025-12-31".into();
        m.situation.update("Nhiều hộ khó khăn cần giúp đỡ.");
    });
    assert_eq!(sync(&b, &server).await.requests, 1, "one round trip pushes B's edit");
    assert_eq!(sync(&a, &server).await.requests, 1, "one round trip pushes A's edit and brings B's");
    sync(&b, &server).await;
    let (ma, mb) = (model(&a, "m1"), model(&b, "m1"));
    assert_eq!(ma, mb, "replicas converge");
    assert_eq!(ma.owner_name, "Hội Phụ nữ phường");
    assert_eq!(ma.end_date, "2025-12-31");
    assert_eq!(ma.situation.as_str(), "Nhiều hộ khó khăn cần giúp đỡ.");
    assert_eq!(a.dirty_count() + b.dirty_count(), 0);
}

#[tokio::test]
async fn a_sync_with_nothing_new_is_one_request() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let a = MemoryReplica::new();
    for i in 0..20 {
        let id = format!("m{i}");
        a.put_local(&id, &mut new_model(&id, "Mô hình"));
    }
    sync(&a, &server).await;
    let again = sync(&a, &server).await;
    assert_eq!(again.requests, 1);
    assert_eq!(again.pending, 0);
}

#[tokio::test]
async fn documents_survive_a_server_restart() {
    let (dir, db) = temp();
    let a = MemoryReplica::new();
    a.put_local("m1", &mut new_model("m1", "Tổ xe ôm tự quản"));
    {
        let server = start(&db, &dir.path().join("no-dist")).await;
        sync(&a, &server).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let server = start(&db, &dir.path().join("no-dist")).await;
    let b = MemoryReplica::new();
    sync(&b, &server).await;
    assert_eq!(model(&b, "m1").name, "Tổ xe ôm tự quản");
    // A's cursor still belongs to this server: nothing is sent again.
    assert_eq!(sync(&a, &server).await.requests, 1);
}

#[tokio::test]
async fn a_replaced_server_receives_everything_again() {
    let (dir, db) = temp();
    let a = MemoryReplica::new();
    a.put_local("m1", &mut new_model("m1", "Bồn hoa thay điểm rác"));
    let old = start(&db, &dir.path().join("no-dist")).await;
    sync(&a, &old).await;
    assert_eq!(a.dirty_count(), 0);
    // A new, empty database (another deployment): the replica notices and re-sends.
    let new = start(&dir.path().join("other.sqlite3"), &dir.path().join("no-dist")).await;
    sync(&a, &new).await;
    let b = MemoryReplica::new();
    sync(&b, &new).await;
    assert_eq!(model(&b, "m1").name, "Bồn hoa thay điểm rác");
}

#[tokio::test]
async fn feed_pages_deliver_many_documents() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let a = MemoryReplica::new();
    let n = 407;
    for i in 0..n {
        let id = format!("doc-{i:04}");
        a.put_local(&id, &mut new_model(&id, &format!("Mô hình {i}")));
    }
    sync(&a, &server).await;
    let b = MemoryReplica::new();
    let mut progress = Progress::default();
    // A slow link asks for pages of about 100 KB.
    let report = run_session(&b, &Http::to(&server).with_feed_budget(100_000), &mut progress).await.unwrap();
    assert_eq!(b.ids().len(), n);
    assert!(report.requests >= 3, "paged: {} requests", report.requests);
    // "Đang đồng bộ 130/407" from the first page on, ending at n/n.
    let (first, total) = progress.0[1];
    assert!(first > 0 && first < n && total == n, "{:?}", progress.0);
    assert_eq!(*progress.0.last().unwrap(), (n, n));
    assert_eq!(model(&b, "doc-0123").name, "Mô hình 123");
}

#[derive(Default)]
struct Progress(Vec<(usize, usize)>);

impl danvan::sync::session::Observer for Progress {
    fn progress(&mut self, done: usize, total: usize) {
        self.0.push((done, total));
    }
}

async fn post_raw(server: &Server, body: impl Into<reqwest::Body>) -> (u16, Vec<u8>) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/sync", server.url))
        .bearer_auth(server.tokens.of("a"))
        .header("content-type", danvan::sync::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
}

fn request(protocol: u32, docs: Vec<DocMessage>) -> Vec<u8> {
    danvan::sync::encode(&SyncRequest { protocol, server: None, cursor: 0, scope: 0, feed_budget: None, docs })
}

#[tokio::test]
async fn bad_input_gets_a_reason_and_never_blocks_good_documents() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;

    let (status, body) = post_raw(&server, "not an envelope").await;
    assert_eq!(status, 400);
    assert!(json(&body)["error"].as_str().unwrap().contains("không hợp lệ"));
    assert_eq!(json(&body)["retryable"], false);

    let (status, body) = post_raw(&server, request(99, vec![])).await;
    assert_eq!(status, 400);
    assert!(json(&body)["error"].as_str().unwrap().contains("99"));

    let many: Vec<_> = (0..danvan::sync::MAX_DOCS_PER_REQUEST + 1)
        .map(|i| DocMessage { id: format!("d{i}"), message: vec![0x42, 0], document: None })
        .collect();
    let (status, _) = post_raw(&server, request(danvan::sync::PROTOCOL, many)).await;
    assert_eq!(status, 413);

    let huge = vec![b' '; danvan::sync::MAX_BODY_BYTES + 1];
    let (status, _) = post_raw(&server, huge).await;
    assert_eq!(status, 413);

    // One corrupt message and one bad id beside a good document: the good one syncs.
    let mut good = new_model("good", "Ngày chủ nhật hồng");
    use automerge::sync::SyncDoc;
    let mut state = automerge::sync::State::new();
    let first = good.sync().generate_sync_message(&mut state).unwrap().encode();
    let req = request(
        danvan::sync::PROTOCOL,
        vec![
            DocMessage { id: "corrupt".into(), message: b"\x42\x00garbage".to_vec(), document: None },
            DocMessage { id: "../../etc".into(), message: first.clone(), document: None },
            DocMessage { id: "good".into(), message: first.clone(), document: None },
            DocMessage { id: "bad-whole".into(), message: first, document: Some(b"not automerge".to_vec()) },
        ],
    );
    let (status, body) = post_raw(&server, req).await;
    assert_eq!(status, 200);
    let body: SyncResponse = danvan::sync::decode(&body).unwrap();
    assert_eq!(body.errors.len(), 3, "{body:?}");
    let mut codes: Vec<_> = body.errors.iter().map(|e| (e.id.as_str(), e.code)).collect();
    codes.sort_by_key(|c| c.0);
    assert_eq!(codes, [("../../etc", FailureCode::Malformed), ("bad-whole", FailureCode::Malformed), ("corrupt", FailureCode::Malformed)]);
    assert_eq!(body.docs[0].id, "good", "the good document got its reply");

    // The session reports refused documents by id and still syncs the rest.
    let a = MemoryReplica::new();
    a.put_local("fine", &mut new_model("fine", "Tuyến hẻm xanh"));
    a.put_local("bad id!", &mut new_model("bad id!", "x"));
    let report = sync(&a, &server).await;
    assert_eq!(report.rejected.keys().collect::<Vec<_>>(), ["bad id!"]);
    assert_eq!(report.pending, 1, "the refused document keeps its changes locally");
    assert!(!a.record("fine").unwrap().dirty);
}

#[tokio::test]
async fn serves_the_built_client_compressed_and_cacheable() {
    let (dir, db) = temp();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join("icons")).unwrap();
    std::fs::write(dist.join("index.html"), format!("<!doctype html><title>danvan</title>{}", "<p>shell</p>".repeat(200))).unwrap();
    std::fs::write(dist.join("danvan-0123456789abcdef.js"), "export default 1;".repeat(300)).unwrap();
    std::fs::write(dist.join("icons/icon-192.png"), [137, 80, 78, 71]).unwrap();
    let server = start(&db, &dist).await;
    let http = reqwest::Client::new();
    let get = |path: &str, enc: &str| http.get(format!("{}{path}", server.url)).header("accept-encoding", enc).send();

    // Precompression runs in the background; until then files go out uncompressed.
    let mut encoding = String::new();
    for _ in 0..100 {
        let res = get("/danvan-0123456789abcdef.js", "br").await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
        encoding = res.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        if encoding == "br" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(encoding, "br");
    let res = get("/danvan-0123456789abcdef.js", "gzip").await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");

    let res = get("/", "identity").await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(res.text().await.unwrap().contains("<title>danvan</title>"));
    // App routes get the shell; missing files do not.
    let res = get("/mo-hinh/3f0c2a9e", "identity").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("<title>danvan</title>"));
    assert_eq!(get("/missing-0123456789abcdef.js", "br").await.unwrap().status(), 404);

    let sw = get("/sw.js", "identity").await.unwrap();
    assert_eq!(sw.headers()["cache-control"], "no-cache");
    let sw = sw.text().await.unwrap();
    assert!(sw.contains(r#""/danvan-0123456789abcdef.js""#) && sw.contains(r#""/icons/icon-192.png""#));
    assert!(!sw.contains("__VERSION__") && !sw.contains(".br\""));

    let health: serde_json::Value = get("/api/health", "identity").await.unwrap().json().await.unwrap();
    assert_eq!(health["ok"], true);
}

/// Delivers every request but loses the response of the `lose`-th one (counting from 1), as when
/// a connection drops after the server has applied the request.
struct LosesResponse {
    inner: Http,
    lose: usize,
    count: std::cell::Cell<usize>,
}

impl Transport for LosesResponse {
    type Error = String;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        let n = self.count.get() + 1;
        self.count.set(n);
        let response = self.inner.post(request).await?;
        if n == self.lose { Err("connection reset after the server applied the request".into()) } else { Ok(response) }
    }
}

#[tokio::test]
async fn a_response_lost_at_any_round_leaves_no_duplicate_and_no_loss() {
    // Two sessions through a link that loses the answer to request 1 (the push) or 2 (the next
    // session's feed check); then a clean one.
    for lose in 1..=2 {
        let (dir, db) = temp();
        let server = start(&db, &dir.path().join("no-dist")).await;
        let seed = MemoryReplica::new();
        seed.put_local("shared", &mut new_model("shared", "Mô hình chung"));
        sync(&seed, &server).await;

        let a = MemoryReplica::new();
        sync(&a, &server).await;
        edit(&a, "shared", |m| m.owner_name = "Chi hội Nông dân".into());
        a.put_local("new", &mut new_model("new", "Mô hình mới"));
        let flaky = LosesResponse { inner: Http::to(&server), lose, count: Default::default() };
        let first = run_session(&a, &flaky, &mut ()).await.is_ok();
        if !first {
            assert_eq!(a.dirty_count(), 2, "nothing is marked synced without an answer");
        }
        let second = run_session(&a, &flaky, &mut ()).await.is_ok();
        assert_eq!([first, second], [lose != 1, lose != 2]);

        let report = sync(&a, &server).await;
        assert_eq!(report.pending, 0, "lost answer {lose}");
        let b = MemoryReplica::new();
        sync(&b, &server).await;
        assert_eq!(b.ids(), ["new", "shared"], "one copy of each document");
        assert_eq!(model(&b, "shared").owner_name, "Chi hội Nông dân");
        assert_eq!(model(&b, "new").name, "Mô hình mới");
        assert_eq!(model(&b, "shared"), model(&a, "shared"));
    }
}

/// Copies an SQLite database (with its WAL) while no server has it open.
fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    for ext in ["-wal", "-shm"] {
        let src = PathBuf::from(format!("{}{ext}", from.display()));
        if src.exists() {
            std::fs::copy(&src, format!("{}{ext}", to.display())).unwrap();
        }
    }
}

#[tokio::test]
async fn a_server_restored_from_an_older_backup_still_gets_every_change() {
    let (dir, db) = temp();
    let backup = dir.path().join("backup.sqlite3");
    let a = MemoryReplica::new();
    a.put_local("m1", &mut new_model("m1", "Ngày chủ nhật hồng"));
    {
        let server = start(&db, &dir.path().join("no-dist")).await;
        sync(&a, &server).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    copy_db(&db, &backup);
    {
        let server = start(&db, &dir.path().join("no-dist")).await;
        edit(&a, "m1", |m| m.owner_name = "Đoàn Thanh niên phường".into());
        sync(&a, &server).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The operator restores last night's backup: same server identity, older content. The replica
    // still believes the server holds its last shared heads.
    let server = start(&backup, &dir.path().join("no-dist")).await;
    edit(&a, "m1", |m| m.end_date = "2026-06-30".into());
    let report = sync(&a, &server).await;
    assert_eq!(report.pending, 0);
    assert!(report.requests > 1, "the wrong assumption costs extra rounds");
    let b = MemoryReplica::new();
    sync(&b, &server).await;
    let m = model(&b, "m1");
    assert_eq!(m.owner_name, "Đoàn Thanh niên phường", "the change the backup lacked was sent again");
    assert_eq!(m.end_date, "2026-06-30");
}

#[tokio::test]
async fn a_restored_server_regains_lost_changes_at_the_next_sync_without_any_edit() {
    let (dir, db) = temp();
    let backup = dir.path().join("backup.sqlite3");
    let a = MemoryReplica::new();
    a.put_local("m1", &mut new_model("m1", "Ngày chủ nhật hồng"));
    a.put_local("m2", &mut new_model("m2", "Tuyến hẻm xanh"));
    {
        let server = start(&db, &dir.path().join("no-dist")).await;
        sync(&a, &server).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    copy_db(&db, &backup);
    {
        let server = start(&db, &dir.path().join("no-dist")).await;
        edit(&a, "m1", |m| m.owner_name = "Đoàn Thanh niên phường".into());
        a.put_local("m3", &mut new_model("m3", "Camera an ninh"));
        sync(&a, &server).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Restored from the backup, which lacks the edit and m3; the phone has nothing new to send.
    let server = start(&backup, &dir.path().join("no-dist")).await;
    let report = sync(&a, &server).await;
    assert_eq!(report.pending, 0);
    let b = MemoryReplica::new();
    sync(&b, &server).await;
    assert_eq!(b.ids(), ["m1", "m2", "m3"], "the phone's cursor was ahead of the database: it offered everything again");
    assert_eq!(model(&b, "m1").owner_name, "Đoàn Thanh niên phường");
}

#[tokio::test]
async fn one_corrupt_document_among_a_thousand_is_reported_and_blocks_nothing() {
    let (dir, db) = temp();
    let a = MemoryReplica::new();
    for i in 0..1000 {
        let id = format!("doc-{i:04}");
        a.put_local(&id, &mut new_model(&id, &format!("Mô hình {i}")));
    }
    {
        let server = start(&db, &dir.path().join("no-dist")).await;
        assert_eq!(sync(&a, &server).await.pending, 0);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Disk damage: one stored document becomes garbage.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE chunks SET bytes = x'00ff13' WHERE doc_id = 'doc-0500'", [])
        .unwrap();

    let server = start(&db, &dir.path().join("no-dist")).await;
    for i in 0..1000 {
        edit(&a, &format!("doc-{i:04}"), |m| m.owner_name = format!("Chủ thể {i}"));
    }
    let report = sync(&a, &server).await;
    assert_eq!(report.rejected.keys().collect::<Vec<_>>(), ["doc-0500"]);
    assert!(report.rejected["doc-0500"].contains("hỏng"), "{:?}", report.rejected);
    assert_eq!(report.pending, 1, "only the refused document keeps waiting, with its edit");
    assert!(report.requests >= 2, "1,000 documents go in bounded requests");

    let b = MemoryReplica::new();
    let report = sync(&b, &server).await;
    assert!(report.rejected.is_empty());
    // New documents are stored as they come, unparsed: the damaged one arrives as it is (the app
    // lists it as unreadable), everything else is intact.
    assert_eq!(b.ids().len(), 1000);
    assert!(b.doc("doc-0500").is_none());
    assert_eq!(model(&b, "doc-0999").owner_name, "Chủ thể 999");
    assert_eq!((0..1000).filter(|i| b.doc(&format!("doc-{i:04}")).is_some()).count(), 999);
}

#[tokio::test]
async fn a_refused_model_is_reported_and_kept_while_the_others_sync_round_after_round() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let a = MemoryReplica::new();
    // A cadre of Bản Bo holds a model of Trường Sơn (registered before being moved between
    // communes, say): the server refuses it, per document.
    a.put_local("ours", &mut new_model("ours", "Đèn đường thôn Nà Pồng"));
    a.put_local("refused", &mut new_model_in("refused", "Mô hình của xã khác", "TRUONGSON"));
    let first = sync(&a, &server).await;
    assert_eq!(first.rejected.keys().collect::<Vec<_>>(), ["refused"], "{:?}", first.rejected);
    assert!(!first.rejected["refused"].is_empty(), "a reason the page can show");
    assert_eq!(first.pending, 1, "only the refused model waits");
    assert_eq!(first.requests, 1, "the refusal costs no extra rounds");
    assert!(a.record("refused").unwrap().dirty, "kept with its changes, to be offered again");
    assert_eq!(model(&a, "refused").name, "Mô hình của xã khác");

    // Every later round goes on for the others: an edit of ours is acknowledged and reaches a
    // colleague, while the refused one is reported again and still kept.
    edit(&a, "ours", |m| m.owner_name = "Chi đoàn thôn Nà Pồng".into());
    let second = sync(&a, &server).await;
    assert_eq!(second.rejected.keys().collect::<Vec<_>>(), ["refused"]);
    assert_eq!(second.pending, 1);
    assert_eq!(second.requests, 1);
    assert!(!a.record("ours").unwrap().dirty);
    assert_eq!(model(&a, "refused").name, "Mô hình của xã khác");
    let b = MemoryReplica::new();
    let report = run_session(&b, &Http::as_user(&server, "b"), &mut ()).await.unwrap();
    assert!(report.rejected.is_empty());
    assert_eq!(b.ids(), ["ours"], "the refused model never reached the server");
    assert_eq!(model(&b, "ours").owner_name, "Chi đoàn thôn Nà Pồng");
}
