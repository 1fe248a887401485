//! `danvan-server backup`, `restore` and `export --unit`, run as an operator would: the real binary
//! against a database file, while the real server binary serves real clients (the shared session
//! code over HTTP, in-memory replicas standing in for browsers). Export runs on PostgreSQL too
//! when DANVAN_TEST_POSTGRES_URL is set.

#![cfg(unix)]

mod common;
#[path = "support/registry.rs"]
mod registry;

use std::cell::Cell as StdCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use danvan::domain::{JournalEntry, Model, PhotoRef};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{Transport, run_session};
use danvan::sync::{SyncRequest, SyncResponse};
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use tokio::process::{Child, Command};

// ---------------------------------------------------------------------------------------------
// The server and the commands, as separate processes.

/// Stops the server as systemd would (SIGTERM) and waits for it to exit.
async fn stop(mut server: Child) {
    let pid = server.id().expect("running") as libc::pid_t;
    // SAFETY: kill(2) on the child's own pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    tokio::time::timeout(Duration::from_secs(30), server.wait()).await.expect("server stops on SIGTERM").unwrap();
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\nstdout: {}\nstderr: {}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `danvan-server --database DB ARGS…` (or with `--database-url`) to the end.
async fn command(database: Database<'_>, args: &[&std::ffi::OsStr]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_danvan-server"));
    match database {
        Database::Sqlite(db) => c.arg("--database").arg(db),
        Database::Url(url) => c.arg("--database-url").arg(url),
    };
    let out = c.args(args).env("RUST_LOG", "warn").env_remove("DANVAN_DATABASE_URL").output().await.expect("danvan-server runs");
    Run { code: out.status.code(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

#[derive(Clone, Copy)]
enum Database<'a> {
    Sqlite(&'a Path),
    Url(&'a str),
}

fn os(s: &(impl AsRef<std::ffi::OsStr> + ?Sized)) -> &std::ffi::OsStr {
    s.as_ref()
}

async fn backup(db: &Path, file: &Path) -> Run {
    command(Database::Sqlite(db), &[os("backup"), os(file)]).await
}

async fn restore(db: &Path, file: &Path) -> Run {
    command(Database::Sqlite(db), &[os("restore"), os(file)]).await
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Files in `dir` whose name contains `part`.
fn files_with(dir: &Path, part: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect();
    found.sort();
    found
}

// ---------------------------------------------------------------------------------------------
// Clients.

/// The sync transport over real HTTP, noting whether the server ever said `rewound` (or answered
/// as another server): what makes a device offer everything again.
struct Watching {
    http: Http,
    rewound: StdCell<usize>,
    other_server: StdCell<usize>,
}

impl Watching {
    fn new(http: Http) -> Watching {
        Watching { http, rewound: StdCell::new(0), other_server: StdCell::new(0) }
    }
}

impl Transport for Watching {
    type Error = String;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        let response = self.http.post(request).await?;
        if response.rewound {
            self.rewound.set(self.rewound.get() + 1);
        }
        // The session's own test: the cursor it sent belongs to another server.
        if request.server.as_ref().is_some_and(|s| *s != response.server) {
            self.other_server.set(self.other_server.get() + 1);
        }
        Ok(response)
    }
    fn feed_budget(&self) -> Option<u32> {
        self.http.feed_budget()
    }
}

/// One session of `replica` as `user`; every document acknowledged.
async fn sync_as(replica: &MemoryReplica, url: &str, tokens: &Tokens, user: &str) {
    let report = run_session(replica, &Http::at(url, &tokens.of(user)), &mut ()).await.expect("sync succeeds");
    assert_eq!((report.pending, report.rejected.len()), (0, 0), "{:?}", report.rejected);
}

fn jpeg(len: usize, seed: u64) -> (String, Vec<u8>) {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
    bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x04, 0xB0, 0x06, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    let mut x = seed | 1;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push(x as u8);
    }
    (hex::encode(Sha256::digest(&bytes)), bytes)
}

/// An activity log entry showing `photo` (what the app writes before uploading it).
fn entry_with(photo: &str) -> JournalEntry {
    JournalEntry {
        id: format!("e-{photo}"),
        date: "2025-06-01".into(),
        text: "Họp dân ở nhà văn hóa thôn.".into(),
        updates: Vec::new(),
        photos: vec![PhotoRef { id: photo.into(), content_type: "image/jpeg".into(), bytes: 1, width: 1600, height: 1200 }],
        location: None,
        place: "Thôn Nà Mạ".into(),
        by: "a".into(),
        by_name: "Người dùng a".into(),
        at: 1_700_000_000_000,
    }
}

/// Uploads a photo in 64 KiB chunks, as the app does once the entry showing it has synced.
async fn upload(url: &str, token: &str, doc: &str, id: &str, bytes: &[u8]) {
    let client = reqwest::Client::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let end = (offset + 64 * 1024).min(bytes.len());
        let res = client
            .put(format!("{url}/api/photos/{doc}/{id}?offset={offset}&total={}", bytes.len()))
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(bytes[offset..end].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        offset = end;
    }
}

async fn download(url: &str, token: &str, doc: &str, id: &str) -> (u16, Vec<u8>) {
    let res = reqwest::Client::new().get(format!("{url}/api/photos/{doc}/{id}")).bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

// ---------------------------------------------------------------------------------------------
// Reading a backup file directly.

/// Opens a backup read-only and checks it holds a consistent set: every document's chunks load
/// as an automerge document that reads as a model, each document's `seq` is its last chunk's, and
/// the facts table has each document's row at that `seq`. Returns the models by id.
fn consistent_models(file: &Path) -> std::collections::BTreeMap<String, Model> {
    let c = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "a backup is one standalone file");
    let docs: Vec<(String, i64)> = c.prepare("SELECT id, seq FROM docs").unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let mut models = std::collections::BTreeMap::new();
    for (id, seq) in docs {
        let chunks: Vec<(i64, Vec<u8>)> = c
            .prepare("SELECT seq, bytes FROM chunks WHERE doc_id = ?1 ORDER BY seq")
            .unwrap()
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(chunks.last().map(|c| c.0), Some(seq), "{id}: the document's seq is its last chunk's");
        let bytes: Vec<u8> = chunks.into_iter().flat_map(|(_, b)| b).collect();
        let doc = danvan::doc::load(&bytes).unwrap_or_else(|e| panic!("{id} does not load from the backup: {e}"));
        let model = danvan::doc::read_model(&doc).unwrap_or_else(|e| panic!("{id} does not read as a model: {e}"));
        let facts_seq: i64 = c.query_row("SELECT seq FROM report_facts WHERE doc_id = ?1", [&id], |r| r.get(0)).unwrap_or_else(|e| panic!("{id}: no facts row ({e})"));
        assert_eq!(facts_seq, seq, "{id}: facts written with the document");
        models.insert(id, model);
    }
    let orphans: i64 = c.query_row("SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM docs)", [], |r| r.get(0)).unwrap();
    assert_eq!(orphans, 0);
    models
}

// ---------------------------------------------------------------------------------------------

/// Backups taken while four devices keep pushing edits: each command succeeds without stopping
/// the pushes, and each file holds one consistent moment of the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_devices_push_writes_a_consistent_copy() {
    let (dir, db) = temp();
    let tokens = seed_sqlite(&db).await;
    let (server, url) = spawn_server_process(&db).await;
    // A store worth copying: 300 models with their history.
    let seeded = MemoryReplica::new();
    for i in 0..300 {
        let id = format!("m-{i:03}");
        seeded.put_local(&id, &mut new_model(&id, &format!("Mô hình số {i}")));
    }
    sync_as(&seeded, &url, &tokens, "a").await;

    let stop_pushing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut pushers = Vec::new();
    for (k, user, unit) in [(0, "a", "BANBO"), (1, "b", "BANBO"), (2, "c", "TRUONGSON"), (3, "d", "DUCLONG")] {
        let (url, token, stop, acked) = (url.clone(), tokens.of(user), stop_pushing.clone(), acked.clone());
        // Each device on its own thread (replicas are not Send), editing its own models.
        pushers.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let replica = MemoryReplica::new();
                let http = Http::at(&url, &token);
                let mut round = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for i in 0..5 {
                        let id = format!("p{k}-{i}");
                        if replica.doc(&id).is_none() {
                            replica.put_local(&id, &mut new_model_in(&id, &format!("Đang sửa {k}-{i}"), unit));
                        } else {
                            edit(&replica, &id, |m| m.name = format!("Đang sửa {k}-{i}, lần {round}"));
                        }
                    }
                    let report = run_session(&replica, &http, &mut ()).await.expect("sync succeeds during the backup");
                    assert_eq!(report.pending, 0);
                    acked.fetch_add(5, std::sync::atomic::Ordering::Relaxed);
                    round += 1;
                }
            });
        }));
    }
    while acked.load(std::sync::atomic::Ordering::Relaxed) < 40 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut sizes = Vec::new();
    for n in 0..3 {
        let before = acked.load(std::sync::atomic::Ordering::Relaxed);
        let file = dir.path().join(format!("sao-luu-{n}.sqlite3"));
        let started = Instant::now();
        let run = backup(&db, &file).await;
        let took = started.elapsed();
        assert!(run.ok(), "{run:?}");
        assert!(run.stdout.contains("Đã sao lưu vào"), "{run:?}");
        let models = consistent_models(&file);
        assert!(models.len() >= 300, "the seeded models are in ({})", models.len());
        sizes.push((models.len(), std::fs::metadata(&file).unwrap().len(), took));
        // The pushes went on meanwhile (the backup blocks no writer).
        while acked.load(std::sync::atomic::Ordering::Relaxed) < before + 20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop_pushing.store(true, std::sync::atomic::Ordering::Relaxed);
    for p in pushers {
        p.join().expect("a device's pushes all succeeded");
    }
    eprintln!("backups while serving: {sizes:?} (documents, bytes, time)");
    // No temporary file left behind.
    assert!(files_with(dir.path(), ".partial").is_empty());

    // A backup opens as a working store: a new device receives every model it holds.
    let copy = dir.path().join("opened-copy.sqlite3");
    std::fs::copy(dir.path().join("sao-luu-2.sqlite3"), &copy).unwrap();
    stop(server).await;
    let (_server, copy_url) = spawn_server_process(&copy).await;
    let fresh = MemoryReplica::new();
    sync_as(&fresh, &copy_url, &tokens, "admin").await;
    assert_eq!(fresh.ids().len(), sizes[2].0);
}

/// The issue's test. A backup is taken; afterwards devices change models, add one, and upload a
/// photo. The server is stopped and the older backup restored. When the devices sync again they
/// find a new server id (the branch of the session `rewound` also takes) and offer everything
/// again, so every change they hold that the backup lacked comes back; a new device then receives
/// all of it, and the photo uploaded before the backup is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_an_older_backup_brings_newer_changes_back_from_devices() {
    let (dir, db) = temp();
    let tokens = seed_sqlite(&db).await;
    let (server, url) = spawn_server_process(&db).await;

    // Before the backup: a model with a photo in its activity log, uploaded.
    let a = MemoryReplica::new();
    a.put_local("m-1", &mut new_model("m-1", "Dân vận khéo trong xây dựng nông thôn mới"));
    sync_as(&a, &url, &tokens, "a").await;
    let (photo, photo_bytes) = jpeg(150_000, 3);
    edit(&a, "m-1", |m| m.journal.push(entry_with(&photo)));
    sync_as(&a, &url, &tokens, "a").await;
    upload(&url, &tokens.of("a"), "m-1", &photo, &photo_bytes).await;
    let b = MemoryReplica::new();
    sync_as(&b, &url, &tokens, "b").await;

    let older = dir.path().join("bản sao lưu cũ.sqlite3");
    let run = backup(&db, &older).await;
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.contains("1 ảnh"), "{run:?}");

    // After the backup: `a` renames the model and registers another; `b` (same unit) sets the
    // owner's name; a device of Đức Long registers one there. All acknowledged by the server.
    edit(&a, "m-1", |m| m.name = "Tên mới sau bản sao lưu".into());
    a.put_local("m-2", &mut new_model("m-2", "Mô hình đăng ký sau bản sao lưu"));
    sync_as(&a, &url, &tokens, "a").await;
    sync_as(&b, &url, &tokens, "b").await;
    edit(&b, "m-1", |m| m.owner_name = "Chi hội Phụ nữ thôn Nà Mạ".into());
    sync_as(&b, &url, &tokens, "b").await;
    let d = MemoryReplica::new();
    d.put_local("m-dl", &mut new_model_in("m-dl", "Mô hình của Đức Long", "DUCLONG"));
    sync_as(&d, &url, &tokens, "d").await;

    // Restore refuses while the server has the database open, and changes nothing.
    let run = restore(&db, &older).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("đang được dùng") && run.stderr.contains("dừng máy chủ"), "{run:?}");
    assert!(files_with(dir.path(), "before-restore").is_empty(), "nothing copied aside either");
    let probe = MemoryReplica::new();
    sync_as(&probe, &url, &tokens, "a").await;
    assert_eq!(model(&probe, "m-1").name, "Tên mới sau bản sao lưu", "the server still serves the current data");

    stop(server).await;
    let run = restore(&db, &older).await;
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.contains("Đã khôi phục") && run.stdout.contains("được giữ ở"), "{run:?}");
    // The replaced database is kept aside, whole.
    let kept = files_with(dir.path(), "before-restore");
    assert_eq!(kept.len(), 1, "{kept:?}");
    let aside = consistent_models(&kept[0]);
    assert_eq!(aside["m-1"].name, "Tên mới sau bản sao lưu");
    assert!(aside.contains_key("m-2") && aside.contains_key("m-dl"));

    let (_server, url) = spawn_server_process(&db).await;
    // What the server holds now is the backup's moment.
    let first_look = MemoryReplica::new();
    sync_as(&first_look, &url, &tokens, "admin").await;
    assert_eq!(first_look.ids(), vec!["m-1".to_string()], "the restored store is the older backup");
    assert_eq!(model(&first_look, "m-1").name, "Dân vận khéo trong xây dựng nông thôn mới");

    // The devices sync as they would: the restored server has a new id, so each device offers
    // everything it holds again.
    for (replica, user) in [(&d, "d"), (&b, "b"), (&a, "a")] {
        let watching = Watching::new(Http::at(&url, &tokens.of(user)));
        let report = run_session(replica, &watching, &mut ()).await.unwrap();
        assert_eq!((report.pending, report.rejected.len()), (0, 0), "{user}: {:?}", report.rejected);
        assert!(watching.rewound.get() + watching.other_server.get() >= 1, "{user} was told to offer everything again");
    }

    // A new device receives every change made after the backup, merged.
    let fresh = MemoryReplica::new();
    sync_as(&fresh, &url, &tokens, "admin").await;
    assert_eq!(fresh.ids(), vec!["m-1".to_string(), "m-2".into(), "m-dl".into()]);
    let m1 = model(&fresh, "m-1");
    assert_eq!(m1.name, "Tên mới sau bản sao lưu");
    assert_eq!(m1.owner_name, "Chi hội Phụ nữ thôn Nà Mạ");
    assert_eq!(m1.journal.len(), 1);
    // The photo survived the restore.
    assert_eq!(download(&url, &tokens.of("r"), "m-1", &photo).await, (200, photo_bytes));
}

/// Restoring must not depend on which device syncs first. Here the devices that first resend
/// after the restore push the feed past the cursor of a device that synced only once since the
/// backup; that device's model must come back too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_changes_back_whatever_order_devices_sync_in() {
    let (dir, db) = temp();
    let tokens = seed_sqlite(&db).await;
    let (server, url) = spawn_server_process(&db).await;
    let a = MemoryReplica::new();
    a.put_local("m-a0", &mut new_model("m-a0", "Mô hình trước bản sao lưu"));
    sync_as(&a, &url, &tokens, "a").await;
    let older = dir.path().join("older.sqlite3");
    assert!(backup(&db, &older).await.ok());

    // After the backup: `a` registers one model (its cursor moves a few writes past the backup);
    // then Đức Long's device registers twenty (the feed moves on, `a` does not pull them: it
    // does not read Đức Long, and does not sync again).
    a.put_local("m-a1", &mut new_model("m-a1", "Mô hình của a sau bản sao lưu"));
    sync_as(&a, &url, &tokens, "a").await;
    let d = MemoryReplica::new();
    for i in 0..20 {
        let id = format!("m-d{i:02}");
        d.put_local(&id, &mut new_model_in(&id, &format!("Mô hình Đức Long {i}"), "DUCLONG"));
    }
    sync_as(&d, &url, &tokens, "d").await;
    stop(server).await;
    assert!(restore(&db, &older).await.ok());

    // Đức Long's device syncs first and resends its twenty models.
    let (_server, url) = spawn_server_process(&db).await;
    sync_as(&d, &url, &tokens, "d").await;
    // Then `a`.
    let watching = Watching::new(Http::at(&url, &tokens.of("a")));
    run_session(&a, &watching, &mut ()).await.unwrap();

    let fresh = MemoryReplica::new();
    sync_as(&fresh, &url, &tokens, "admin").await;
    assert!(fresh.doc("m-a1").is_some(), "a's model registered after the backup came back (rewound {}, other server {})", watching.rewound.get(), watching.other_server.get());
    assert_eq!(fresh.ids().len(), 22);
}

/// Restore refuses what is not a danvan backup it can use — and then leaves the database as it
/// was: same bytes, nothing copied aside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_files_that_are_not_danvan_backups_and_touches_nothing() {
    let (dir, db) = temp();
    let tokens = seed_sqlite(&db).await;
    let (server, url) = spawn_server_process(&db).await;
    let a = MemoryReplica::new();
    a.put_local("m-1", &mut new_model("m-1", "Mô hình đang dùng"));
    sync_as(&a, &url, &tokens, "a").await;
    let good = dir.path().join("good.sqlite3");
    assert!(backup(&db, &good).await.ok());
    stop(server).await;
    let before = sha(&db);

    let junk = dir.path().join("ảnh chụp.jpg");
    std::fs::write(&junk, jpeg(20_000, 5).1).unwrap();
    let other = dir.path().join("other app.sqlite3");
    Connection::open(&other).unwrap().execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('x');").unwrap();
    let empty = dir.path().join("empty.sqlite3");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.path().join("truncated.sqlite3");
    let good_bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &good_bytes[..good_bytes.len() / 2]).unwrap();
    let newer = dir.path().join("newer.sqlite3");
    std::fs::copy(&good, &newer).unwrap();
    Connection::open(&newer).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let no_facts = dir.path().join("no facts.sqlite3");
    std::fs::copy(&good, &no_facts).unwrap();
    Connection::open(&no_facts).unwrap().execute_batch("DROP TABLE report_facts").unwrap();
    let missing = dir.path().join("không có.sqlite3");

    for (file, reason) in [
        (&junk, "không phải cơ sở dữ liệu SQLite"),
        (&other, "không phải cơ sở dữ liệu danvan"),
        (&empty, "không phải cơ sở dữ liệu danvan"),
        (&truncated, ""),
        (&newer, "phiên bản danvan mới hơn"),
        (&no_facts, "thiếu bảng report_facts"),
        (&missing, "không có tệp"),
        (&db, "chính cơ sở dữ liệu"),
    ] {
        let run = restore(&db, file).await;
        assert_eq!(run.code, Some(1), "{}: {run:?}", file.display());
        assert!(run.stderr.contains(reason), "{}: {run:?}", file.display());
        if file != &missing && file != &db {
            assert!(run.stderr.contains("không phải bản sao lưu danvan dùng được") && run.stderr.contains("chưa thay đổi gì"), "{}: {run:?}", file.display());
        }
        assert_eq!(sha(&db), before, "{}: the database is untouched", file.display());
        assert!(files_with(dir.path(), "before-restore").is_empty(), "{}: nothing copied aside", file.display());
    }
    // The junk files were only read.
    assert!(std::fs::read(&junk).unwrap().starts_with(&[0xFF, 0xD8]));
}

/// The backup file is never overwritten by accident, and never the database itself; paths with
/// spaces and quotes are paths; a PostgreSQL server is pointed to pg_dump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_refuses_to_overwrite_and_takes_any_path() {
    let (dir, db) = temp();
    let tokens = seed_sqlite(&db).await;
    let (server, url) = spawn_server_process(&db).await;
    let a = MemoryReplica::new();
    a.put_local("m-1", &mut new_model("m-1", "Mô hình"));
    sync_as(&a, &url, &tokens, "a").await;

    // A name with spaces, Vietnamese letters and SQL quotes in a directory with a space.
    let folder = dir.path().join("sao lưu");
    std::fs::create_dir(&folder).unwrap();
    let file = folder.join("danvan 'tháng 12'; DROP TABLE docs; --\".sqlite3");
    let run = backup(&db, &file).await;
    assert!(run.ok(), "{run:?}");
    assert_eq!(consistent_models(&file).len(), 1);

    // Exists: refused, the file untouched.
    let before = sha(&file);
    a.put_local("m-2", &mut new_model("m-2", "Mô hình thứ hai"));
    sync_as(&a, &url, &tokens, "a").await;
    let run = backup(&db, &file).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("đã có, không ghi đè") && run.stderr.contains("--force"), "{run:?}");
    assert_eq!(sha(&file), before);
    // With --force: replaced by the current state.
    let run = command(Database::Sqlite(&db), &[os("backup"), os("--force"), os(&file)]).await;
    assert!(run.ok(), "{run:?}");
    assert_eq!(consistent_models(&file).len(), 2);

    // The database itself, or its WAL, even with --force (by another spelling of the path too).
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let other_spelling = dir.path().join("sao lưu").join("..").join(db.file_name().unwrap());
    for target in [&db, &wal, &other_spelling] {
        let run = command(Database::Sqlite(&db), &[os("backup"), os("--force"), os(target)]).await;
        assert_eq!(run.code, Some(1), "{}: {run:?}", target.display());
        assert!(run.stderr.contains("chính cơ sở dữ liệu"), "{run:?}");
    }
    let check = MemoryReplica::new();
    sync_as(&check, &url, &tokens, "a").await;
    assert_eq!(check.ids().len(), 2, "the database still serves");

    // A directory, or a directory that does not exist.
    let run = backup(&db, &folder).await;
    assert!(run.code == Some(1) && run.stderr.contains("là một thư mục"), "{run:?}");
    let run = backup(&db, &dir.path().join("không có").join("x.sqlite3")).await;
    assert!(run.code == Some(1) && run.stderr.contains("không dùng được"), "{run:?}");
    // No database at all: nothing made (no empty database created where none was).
    let nowhere = dir.path().join("chưa có.sqlite3");
    let run = backup(&nowhere, &dir.path().join("y.sqlite3")).await;
    assert!(run.code == Some(1) && run.stderr.contains("chưa có gì để sao lưu"), "{run:?}");
    assert!(!nowhere.exists());
    stop(server).await;

    // PostgreSQL: refused before connecting, pointing to pg_dump / pg_restore.
    for verb in ["backup", "restore"] {
        let run = command(Database::Url("postgres://danvan@127.0.0.1:1/danvan"), &[os(verb), os(&dir.path().join("z.sqlite3"))]).await;
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(run.stderr.contains("PostgreSQL") && run.stderr.contains("pg_dump") && run.stderr.contains("pg_restore"), "{run:?}");
    }
    assert!(!dir.path().join("z.sqlite3").exists());
}

// ---------------------------------------------------------------------------------------------
// Export.

/// Models of Bản Bo (two), Trường Sơn (its sibling under Hà Quảng) and Đức Long (another district).
async fn models_in_three_units(url: &str, tokens: &Tokens) {
    for (user, unit, names) in [
        ("a", "BANBO", &["Bản Bo 1", "=HYPERLINK(\"http://x\")"][..]),
        ("c", "TRUONGSON", &["Trường Sơn, \"dân vận\"\nhai dòng"][..]),
        ("d", "DUCLONG", &["Đức Long 1"][..]),
    ] {
        let replica = MemoryReplica::new();
        for (i, name) in names.iter().enumerate() {
            let id = format!("m-{unit}-{i}");
            replica.put_local(&id, &mut new_model_in(&id, name, unit));
        }
        sync_as(&replica, url, tokens, user).await;
    }
}

fn read_jsonl(path: &Path) -> Vec<Model> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "CSV starts with the BOM");
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (headers, rows)
}

async fn export_checks(database: Database<'_>, dir: &Path) {
    // A district: its two communes' models, not the other district's.
    let out = dir.join("xuất dữ liệu").join("Hà Quảng 2026");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let run = command(database, &[os("export"), os("--unit"), os("HA"), os(&out)]).await;
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.contains("Đã xuất 3 mô hình (của 2 đơn vị có mô hình) thuộc HA và các đơn vị cấp dưới"), "{run:?}");
    let jsonl = PathBuf::from(format!("{}.jsonl", out.display()));
    let csv_path = PathBuf::from(format!("{}.csv", out.display()));
    let models = read_jsonl(&jsonl);
    let mut ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["m-BANBO-0", "m-BANBO-1", "m-TRUONGSON-0"]);
    assert_eq!(models.iter().find(|m| m.id == "m-TRUONGSON-0").unwrap().name, "Trường Sơn, \"dân vận\"\nhai dòng");
    assert_eq!(models[0].situation.as_str(), "Nội dung.", "narrative items as text");
    let (headers, rows) = read_csv(&csv_path);
    assert_eq!(headers[0], "STT");
    assert!(headers.iter().any(|h| h == "Trạng thái"), "{headers:?}");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
    let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert!(names.contains(&"'=HYPERLINK(\"http://x\")"), "a formula stays text: {names:?}");
    assert!(names.contains(&"Trường Sơn, \"dân vận\"\nhai dòng"), "{names:?}");
    assert!(!names.contains(&"Đức Long 1"));

    // A commune: its own models only, not its sibling's; FILE given with an extension.
    let commune = dir.join("banbo.jsonl");
    let run = command(database, &[os("export"), os("--unit"), os("BANBO"), os(&commune)]).await;
    assert!(run.ok(), "{run:?}");
    let models = read_jsonl(&commune);
    assert_eq!(models.len(), 2);
    assert!(models.iter().all(|m| m.unit == "BANBO"));
    assert_eq!(read_csv(&dir.join("banbo.csv")).1.len(), 2);

    // Existing files: refused without --force, untouched; replaced with it.
    let before = sha(&commune);
    let run = command(database, &[os("export"), os("--unit"), os("CB"), os(&dir.join("banbo.csv"))]).await;
    assert!(run.code == Some(1) && run.stderr.contains("đã có, không ghi đè"), "{run:?}");
    assert_eq!(sha(&commune), before);
    let run = command(database, &[os("export"), os("--force"), os("--unit"), os("CB"), os(&dir.join("banbo.csv"))]).await;
    assert!(run.ok(), "{run:?}");
    assert_eq!(read_jsonl(&commune).len(), 4, "the province: every model");

    // An unknown unit: a clear error, no file.
    let run = command(database, &[os("export"), os("--unit"), os("KHONGCO"), os(&dir.join("x"))]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("đơn vị “KHONGCO” không có trong cây đơn vị"), "{run:?}");
    assert!(!dir.join("x.jsonl").exists() && !dir.join("x.csv").exists());
    assert!(files_with(dir, ".partial").is_empty() && files_with(&dir.join("xuất dữ liệu"), ".partial").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_a_subtrees_models_as_json_lines_and_csv_on_sqlite() {
    let (dir, db) = temp();
    let tokens = seed_sqlite(&db).await;
    let (_server, url) = spawn_server_process(&db).await;
    models_in_three_units(&url, &tokens).await;
    // While the server runs.
    export_checks(Database::Sqlite(&db), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_a_subtrees_models_as_json_lines_and_csv_on_postgres() {
    let Some(database_url) = fresh_postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(postgres_config(dir.path(), &database_url)).await;
    models_in_three_units(&server.url, &server.tokens).await;
    export_checks(Database::Url(&database_url), dir.path()).await;
}

// ---------------------------------------------------------------------------------------------
// Figures.

/// `DANVAN_BACKUP_MODELS=10000 cargo test --test backup -- --ignored --nocapture measure`: writes
/// that many registry models straight into a store (as the sync route writes them), then times
/// `backup` (the command), `VACUUM INTO` over the same file for comparison, `restore` and `export`
/// of the whole tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_backup_restore_export() {
    use danvan::server::store::{DocStore, SqliteStore, UnitStore};
    let count: usize = std::env::var("DANVAN_BACKUP_MODELS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let (dir, db) = temp();
    {
        let store = SqliteStore::open(&db).unwrap();
        let tree = registry::ha_noi_tree();
        store.save_units(&store.unit_tree().await.unwrap(), &tree).await.unwrap();
        let models = registry::ha_noi_models(count, 13);
        let started = Instant::now();
        for batch in models.chunks(1_000) {
            let writes: Vec<_> = batch.iter().map(|m| model_write(m, None)).collect();
            for r in store.write(writes, 1).await.unwrap() {
                r.unwrap();
            }
        }
        eprintln!("seeded {count} models in {:.1} s", started.elapsed().as_secs_f64());
    }
    let db_bytes = std::fs::metadata(&db).unwrap().len() + std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len());
    let file = dir.path().join("backup.sqlite3");
    let started = Instant::now();
    let run = backup(&db, &file).await;
    let took = started.elapsed();
    assert!(run.ok(), "{run:?}");
    assert_eq!(consistent_models(&file).len(), count);
    eprintln!(
        "backup (the command: online backup API in one step, process start included): {:.2} s, {} bytes from {} bytes on disk; {}",
        took.as_secs_f64(),
        std::fs::metadata(&file).unwrap().len(),
        db_bytes,
        run.stdout.trim()
    );
    // The two ways to take the snapshot, raw (no process, no check, no fsync), alternated five
    // times each from separate connections, nothing writing.
    let (mut api, mut vacuum) = (Vec::new(), Vec::new());
    for n in 0..5 {
        let api_file = dir.path().join(format!("api-{n}.sqlite3"));
        let started = Instant::now();
        {
            let src = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap();
            let mut dst = Connection::open(&api_file).unwrap();
            let b = rusqlite::backup::Backup::new(&src, &mut dst).unwrap();
            assert!(matches!(b.step(-1).unwrap(), rusqlite::backup::StepResult::Done));
        }
        api.push(started.elapsed().as_secs_f64());
        let vacuum_file = dir.path().join(format!("vacuum-{n}.sqlite3"));
        let started = Instant::now();
        Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap().execute("VACUUM INTO ?1", [vacuum_file.to_str().unwrap()]).unwrap();
        vacuum.push(started.elapsed().as_secs_f64());
        if n == 0 {
            eprintln!("sizes: online backup API {} bytes, VACUUM INTO {} bytes", std::fs::metadata(&api_file).unwrap().len(), std::fs::metadata(&vacuum_file).unwrap().len());
        }
        std::fs::remove_file(&api_file).unwrap();
        std::fs::remove_file(&vacuum_file).unwrap();
    }
    eprintln!("online backup API, one step: {api:.3?} s; VACUUM INTO: {vacuum:.3?} s");

    let started = Instant::now();
    let run = restore(&db, &file).await;
    assert!(run.ok(), "{run:?}");
    eprintln!("restore (aside copy + backup API into the locked database): {:.2} s; {}", started.elapsed().as_secs_f64(), run.stdout.trim());

    let started = Instant::now();
    let run = command(Database::Sqlite(&db), &[os("export"), os("--unit"), os("HN"), os(&dir.path().join("all"))]).await;
    assert!(run.ok(), "{run:?}");
    eprintln!(
        "export of the whole tree: {:.2} s, jsonl {} bytes, csv {} bytes; {}",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(dir.path().join("all.jsonl")).unwrap().len(),
        std::fs::metadata(dir.path().join("all.csv")).unwrap().len(),
        run.stdout.trim()
    );
}
