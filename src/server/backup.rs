//! Backup, restore and export of what the server keeps, apart from the terminal (`cli.rs` prints
//! what these return). Backup and restore work on the SQLite file itself (a PostgreSQL deployment
//! uses `pg_dump`/`pg_restore`); export reads the documents through the `Store` traits, so it works
//! on both.
//!
//! Photos live in the database (`photos`, `photo_chunks`, migrations 0007–0008), so a backup is one
//! SQLite file holding documents, change feed, photos, accounts, units and report facts together,
//! all from one moment.
//!
//! Invariants:
//! - a backup is a consistent snapshot (one read transaction) taken while the server keeps
//!   serving; it is written under a temporary name and renamed only once complete and checked, so
//!   a file with the backup's name is always a whole backup; an existing file is replaced only with
//!   `force`, and never the database itself;
//! - restore checks the file is a danvan database this build can open (integrity, schema version,
//!   its tables) before touching anything, refuses while anything has the database open (a running
//!   server), holds that exclusive lock until it is done, and first copies the database it replaces
//!   aside (`…before-restore-<time>`), so nothing is lost;
//! - the restored database gets a new `server_id`, so every device, at its next sync, takes the
//!   server for a new one and offers every document it holds again (`sync::session`, the branch
//!   it shares with `rewound`): the changes devices hold that the backup lacks come back. Keeping
//!   the id and relying on `rewound` alone (answered while a device's cursor is ahead of the
//!   restored feed) is not enough: the first devices to resend push the feed past the cursors of
//!   the others, which are then never told, and their changes stay lost
//!   (`tests/backup.rs`, `restore_brings_changes_back_whatever_order_devices_sync_in`, failed that
//!   way with the id kept). A restore made outside this command (copied files, `pg_restore`) keeps
//!   the id and has only `rewound`; README says to set a new id after it.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::server::store::Store;
use crate::server::store::sqlite::SCHEMA_VERSION;

/// What a danvan database (or backup) holds, read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSummary {
    /// Migrations applied (`PRAGMA user_version`).
    pub schema: i64,
    pub server_id: String,
    pub documents: u64,
    /// The highest `seq` of the change feed.
    pub head: u64,
    /// Complete photos.
    pub photos: u64,
    pub users: u64,
    /// The file's size.
    pub bytes: u64,
}

/// A backup made.
#[derive(Debug, Clone)]
pub struct BackupDone {
    pub file: PathBuf,
    pub summary: StoreSummary,
    pub took: Duration,
}

/// A restore done.
#[derive(Debug, Clone)]
pub struct RestoreDone {
    pub restored: StoreSummary,
    /// Where the replaced database was copied (none: there was no database).
    pub kept: Option<PathBuf>,
    /// What the replaced database held.
    pub replaced: Option<StoreSummary>,
    pub took: Duration,
}

/// An export written.
#[derive(Debug, Clone)]
pub struct ExportDone {
    pub jsonl: PathBuf,
    pub csv: PathBuf,
    pub models: usize,
    pub units: usize,
    /// Documents of the subtree that are not readable models (id and reason).
    pub skipped: Vec<(String, String)>,
    pub took: Duration,
}

/// The tables a danvan database has at each schema version (the migration that made them).
const TABLES: &[(i64, &str)] = &[
    (1, "meta"),
    (1, "docs"),
    (2, "chunks"),
    (3, "units"),
    (4, "users"),
    (7, "photos"),
    (8, "photo_chunks"),
    (9, "report_facts"),
    (10, "doc_readers"),
];

/// Checks that `c` is a danvan database this build can restore and says what it holds; the error
/// says in Vietnamese why not.
pub fn inspect(c: &Connection) -> anyhow::Result<StoreSummary> {
    let not_sqlite = |e: rusqlite::Error| anyhow!("không phải cơ sở dữ liệu SQLite ({e})");
    let schema: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(not_sqlite)?;
    let check: String = c.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(not_sqlite)?;
    if check != "ok" {
        bail!("tệp bị hỏng (kiểm tra toàn vẹn: {check})");
    }
    if schema == 0 {
        bail!("không phải cơ sở dữ liệu danvan (chưa có lược đồ nào)");
    }
    if schema > SCHEMA_VERSION {
        bail!("được tạo bởi phiên bản danvan mới hơn (lược đồ {schema}, bản này biết đến {SCHEMA_VERSION}); hãy cập nhật danvan-server trước");
    }
    let present: HashSet<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let missing: Vec<&str> = TABLES.iter().filter(|(v, t)| *v <= schema && !present.contains(*t)).map(|(_, t)| *t).collect();
    if !missing.is_empty() {
        bail!("không phải cơ sở dữ liệu danvan (thiếu bảng {})", missing.join(", "));
    }
    let server_id: Option<String> = c.query_row("SELECT value FROM meta WHERE key = 'server_id'", [], |r| r.get(0)).optional()?;
    let server_id = server_id.ok_or_else(|| anyhow!("không phải cơ sở dữ liệu danvan (thiếu mã máy chủ)"))?;
    let count = |sql: &str| -> anyhow::Result<u64> { Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
    let photos = if schema >= 7 { count("SELECT COUNT(*) FROM photos WHERE complete")? } else { 0 };
    let users = if schema >= 4 { count("SELECT COUNT(*) FROM users")? } else { 0 };
    let pages = count("PRAGMA page_count")?;
    let page_size = count("PRAGMA page_size")?;
    Ok(StoreSummary {
        schema,
        server_id,
        documents: count("SELECT COUNT(*) FROM docs")?,
        head: count("SELECT COALESCE(MAX(seq), 0) FROM docs")?,
        photos,
        users,
        bytes: pages * page_size,
    })
}

/// `path` made absolute with its directory resolved (the file itself need not exist), so two
/// spellings of one file compare equal. A path that does not start with `/` could otherwise be
/// read by SQLite as a `file:` URI.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| anyhow!("“{}” không phải tên tệp", path.display()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).map_err(|e| anyhow!("thư mục “{}” không dùng được: {e}", dir.display()))?;
    let joined = dir.join(name);
    // A symbolic link to the database is the database.
    Ok(std::fs::canonicalize(&joined).unwrap_or(joined))
}

/// Whether `file` is the database or one of its sidecar files (`-wal`, `-shm`, `-journal`).
fn is_database(file: &Path, db: &Path) -> anyhow::Result<bool> {
    let (file, db) = (absolute(file)?, absolute(db)?);
    let db = db.as_os_str().to_string_lossy().into_owned();
    let file = file.as_os_str().to_string_lossy().into_owned();
    Ok(file == db || ["-wal", "-shm", "-journal"].iter().any(|s| file == format!("{db}{s}")))
}

/// A fresh name beside `target` for a file being written (hidden, with the process id).
fn partial_name(target: &Path, what: &str) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    target.with_file_name(format!(".{name}.{what}-{}-{nanos}", std::process::id()))
}

/// Flushes a file, then its directory (so a rename into it survives power loss).
fn sync_file_and_dir(file: &Path) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_all()?;
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Removes a half-written file when dropped, unless `keep` was called.
struct Partial(Option<PathBuf>);

impl Partial {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(&p);
            for s in ["-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{s}", p.display()));
            }
        }
    }
}

/// Opens an existing database file, never creating one.
fn open_existing(path: &Path, flags: OpenFlags) -> anyhow::Result<Connection> {
    Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(|e| anyhow!("không mở được “{}”: {e}", path.display()))
}

/// Writes a consistent copy of `c`'s database to `target` (which must not exist) and leaves it a
/// standalone file (rollback journal, not WAL: one file to carry).
///
/// SQLite's online backup API with every page in one step: that step is one read transaction, so
/// the copy is one moment of the database and, in WAL mode, the server's writers never wait for
/// it. Not in small steps: a step after the server committed starts the copy over, so under
/// steady sync traffic it might never finish. Not `VACUUM INTO`, which gives the same snapshot
/// but rebuilds every table and index: for 10,000 models (10.8 MB) the page copy took 27–40 ms and
/// `VACUUM INTO` 42–64 ms (five alternated runs each, debug build, `measure_backup_restore_export`
/// in tests/backup.rs), to save 0.7 % of the size (SQLite reuses free pages, so a live database
/// has few).
fn copy_database(c: &Connection, target: &Path) -> anyhow::Result<()> {
    let write_err = |e: rusqlite::Error| anyhow!("không ghi được bản sao “{}”: {e}", target.display());
    let mut copy = Connection::open_with_flags(
        target,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(write_err)?;
    {
        let backup = rusqlite::backup::Backup::new(c, &mut copy).map_err(write_err)?;
        match backup.step(-1).map_err(write_err)? {
            rusqlite::backup::StepResult::Done => {}
            // All pages in one step either finish or fail; busy or locked means another process
            // holds a write lock on the source for longer than the busy timeout.
            _ => bail!("cơ sở dữ liệu đang bận, chưa sao lưu được; hãy chạy lại lệnh"),
        }
    }
    let mode: String = copy.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)).map_err(write_err)?;
    if !mode.eq_ignore_ascii_case("delete") {
        bail!("bản sao “{}” vẫn ở chế độ {mode}", target.display());
    }
    drop(copy);
    sync_file_and_dir(target).with_context(|| format!("không ghi được bản sao “{}” xuống đĩa", target.display()))?;
    Ok(())
}

/// `danvan-server backup FILE`: a consistent copy of the SQLite database at `db` while a server
/// may be serving it. Refuses an existing `file` unless `force`, and the database itself always.
pub fn backup_sqlite(db: &Path, file: &Path, force: bool) -> anyhow::Result<BackupDone> {
    let started = Instant::now();
    if !db.is_file() {
        bail!("không có cơ sở dữ liệu “{}”: chưa có gì để sao lưu (kiểm tra --database)", db.display());
    }
    let target = absolute(file)?;
    if is_database(&target, db)? {
        bail!("“{}” là chính cơ sở dữ liệu đang dùng; hãy chọn một tệp khác để ghi bản sao", file.display());
    }
    if target.is_dir() {
        bail!("“{}” là một thư mục; hãy ghi rõ tên tệp, ví dụ {}/danvan-backup.sqlite3", file.display(), file.display());
    }
    if target.exists() && !force {
        bail!("tệp “{}” đã có, không ghi đè; hãy chọn tên khác, hoặc thêm --force để thay nó", file.display());
    }
    let source = open_existing(&absolute(db)?, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    source.busy_timeout(Duration::from_secs(30))?;
    // Only read: the copy is written through its own connection.
    source.pragma_update(None, "query_only", true)?;
    inspect(&source).map_err(|e| anyhow!("“{}” {e}", db.display()))?;
    let partial = partial_name(&target, "partial");
    let guard = Partial(Some(partial.clone()));
    copy_database(&source, &partial)?;
    drop(source);
    let summary = inspect(&open_existing(&partial, OpenFlags::SQLITE_OPEN_READ_ONLY)?).map_err(|e| anyhow!("bản sao vừa ghi {e}"))?;
    std::fs::rename(&partial, &target).map_err(|e| anyhow!("không đặt được bản sao vào “{}”: {e}", file.display()))?;
    guard.keep();
    sync_file_and_dir(&target)?;
    Ok(BackupDone { file: target, summary, took: started.elapsed() })
}

/// A moment as `2026-12-02-150405` in Vietnam's time (UTC+7), for file names.
fn stamp(now_ms: i64) -> String {
    let local = now_ms + 7 * 3_600_000;
    let day = crate::domain::Date::in_vietnam(now_ms);
    let secs = local.rem_euclid(86_400_000) / 1000;
    format!("{day}-{:02}{:02}{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `danvan-server restore FILE`: replaces the database at `db` with the backup `file`, the server
/// stopped. Checks the backup first, refuses while the database is open elsewhere, copies the
/// database it replaces to `<db>.before-restore-<time>`.
pub fn restore_sqlite(db: &Path, file: &Path, now_ms: i64) -> anyhow::Result<RestoreDone> {
    let started = Instant::now();
    if !file.is_file() {
        bail!("không có tệp “{}”", file.display());
    }
    if db.exists() && is_database(file, db)? {
        bail!("“{}” là chính cơ sở dữ liệu đang dùng, không phải một bản sao lưu", file.display());
    }
    // 1. The backup, checked before anything else is touched.
    let source = open_existing(&absolute(file)?, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let restored = inspect(&source).map_err(|e| anyhow!("“{}” không phải bản sao lưu danvan dùng được: {e}; chưa thay đổi gì", file.display()))?;

    // 2. The database, locked so that no server opens it meanwhile: in exclusive locking mode the
    // lock taken by `BEGIN EXCLUSIVE` is held until the connection closes, and it cannot be taken
    // while another connection (a running server, even idle) has the database open.
    let db_path = absolute(db)?;
    let existed = db_path.exists();
    if let Some(dir) = db_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut target = Connection::open(&db_path).map_err(|e| anyhow!("không mở được “{}”: {e}", db.display()))?;
    target.busy_timeout(Duration::ZERO)?;
    let _: String = target.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |r| r.get(0))?;
    if let Err(e) = target.execute_batch("BEGIN EXCLUSIVE; COMMIT;") {
        let busy = matches!(&e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked));
        if busy {
            bail!(
                "cơ sở dữ liệu “{}” đang được dùng (máy chủ đang chạy?): hãy dừng máy chủ (ví dụ systemctl stop danvan) rồi chạy lại lệnh restore; chưa thay đổi gì",
                db.display()
            );
        }
        bail!("không khóa được cơ sở dữ liệu “{}”: {e}; chưa thay đổi gì", db.display());
    }

    // 3. What it holds now, copied aside whole (a database that is not danvan's is kept too).
    let (kept, replaced) = if existed {
        let replaced = inspect(&target).ok();
        let mut aside = db_path.with_file_name(format!(
            "{}.before-restore-{}",
            db_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            stamp(now_ms)
        ));
        let mut n = 1;
        while aside.exists() {
            n += 1;
            aside = PathBuf::from(format!("{}-{n}", aside.display()));
        }
        copy_database(&target, &aside).map_err(|e| anyhow!("{e}; chưa thay đổi gì"))?;
        (Some(aside), replaced)
    } else {
        (None, None)
    };

    // 4. The backup's pages into the locked database (one transaction of the destination: a
    // failure leaves it as it was). The destination stays in WAL mode.
    {
        let copy = rusqlite::backup::Backup::new(&source, &mut target)?;
        loop {
            match copy.step(-1).map_err(|e| anyhow!("khôi phục không xong: {e}; cơ sở dữ liệu giữ nguyên như trước"))? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => continue,
                // Busy or locked: cannot be, the lock is ours; said plainly if it ever is.
                _ => bail!("cơ sở dữ liệu đang bận; chưa khôi phục, hãy chạy lại lệnh"),
            }
        }
    }
    // 5. A new server id: every device then offers all it holds again, whatever order they sync
    // in (see the module's invariants for why `rewound` alone is not enough).
    let server_id = uuid::Uuid::new_v4().to_string();
    target.execute("UPDATE meta SET value = ?1 WHERE key = 'server_id'", [&server_id])?;
    let now = inspect(&target).map_err(|e| anyhow!("cơ sở dữ liệu sau khi khôi phục {e}"))?;
    if (now.documents, now.head, now.photos) != (restored.documents, restored.head, restored.photos) || now.server_id != server_id {
        bail!("cơ sở dữ liệu sau khi khôi phục không giống bản sao lưu ({now:?} ≠ {restored:?})");
    }
    drop(target);
    drop(source);
    Ok(RestoreDone { restored: now, kept, replaced, took: started.elapsed() })
}

/// The two files of an export at `file`: `X.jsonl` and `X.csv`, whether `file` is `X`, `X.jsonl`,
/// `X.json` or `X.csv`.
pub fn export_paths(file: &Path) -> (PathBuf, PathBuf) {
    let base = match file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase) {
        Some(e) if ["jsonl", "json", "csv"].contains(&e.as_str()) => file.with_extension(""),
        _ => file.to_path_buf(),
    };
    let with = |ext: &str| PathBuf::from(format!("{}.{ext}", base.display()));
    (with("jsonl"), with("csv"))
}

/// `danvan-server export --unit CODE FILE`: the models of `unit`'s subtree as JSON lines (one
/// `Model` per line, as `serde_json` writes it: reads back with the same type) and as the model
/// list's CSV (`export::model_table`, UTF-8 with BOM), ordered by unit code then id. Read from the
/// stored documents (`doc::read_model`), so it works on either store; the files appear only when
/// complete.
pub async fn export_unit(store: &dyn Store, unit: &str, file: &Path, force: bool) -> anyhow::Result<ExportDone> {
    let started = Instant::now();
    let tree = store.unit_tree().await?;
    if tree.get(unit).is_none() {
        bail!("đơn vị “{unit}” không có trong cây đơn vị; hãy dùng mã đơn vị (cột “mã” của tệp import-units)");
    }
    let units: HashSet<&str> = tree.subtree(unit).into_iter().map(|u| u.code.as_str()).collect();
    let (jsonl_path, csv_path) = export_paths(file);
    for p in [&jsonl_path, &csv_path] {
        if p.is_dir() {
            bail!("“{}” là một thư mục", p.display());
        }
        if p.exists() && !force {
            bail!("tệp “{}” đã có, không ghi đè; hãy chọn tên khác, hoặc thêm --force", p.display());
        }
    }

    // Every document's id and owner, from the facts rows (no document bytes), in `seq` order.
    let mut ids: Vec<(String, String)> = Vec::new();
    let mut cursor = 0;
    loop {
        let rows = store.facts_since(cursor, 5_000).await?;
        let Some(last) = rows.last() else { break };
        cursor = last.seq;
        ids.extend(rows.into_iter().filter(|r| units.contains(r.unit.as_str())).map(|r| (r.unit, r.id)));
    }
    ids.sort();

    let jsonl_partial = partial_name(&absolute(&jsonl_path)?, "partial");
    let jsonl_guard = Partial(Some(jsonl_partial.clone()));
    let mut jsonl = std::io::BufWriter::new(
        std::fs::File::create(&jsonl_partial).map_err(|e| anyhow!("không ghi được “{}”: {e}", jsonl_path.display()))?,
    );
    let mut table = crate::export::model_table(&[]);
    let mut skipped = Vec::new();
    let mut models = 0usize;
    let mut seen_units = HashSet::new();
    for batch in ids.chunks(200) {
        let batch_ids: Vec<String> = batch.iter().map(|(_, id)| id.clone()).collect();
        let mut loaded = store.load_many(&batch_ids).await?;
        let mut read = Vec::with_capacity(batch.len());
        for id in &batch_ids {
            // Written since the list was read, then deleted: nothing to export.
            let Some(stored) = loaded.remove(id) else { continue };
            match crate::doc::load(&stored.bytes).and_then(|d| crate::doc::read_model(&d)) {
                Ok(model) => {
                    seen_units.insert(stored.unit);
                    read.push(model);
                }
                Err(e) => skipped.push((id.clone(), e.to_string())),
            }
        }
        for model in &read {
            serde_json::to_writer(&mut jsonl, model)?;
            jsonl.write_all(b"\n")?;
        }
        // The list's rows, numbered across batches.
        for mut row in crate::export::model_table(&read).rows {
            models += 1;
            if let Some(first) = row.first_mut() {
                *first = crate::export::Cell::from(models);
            }
            table.push(row);
        }
    }
    jsonl.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let csv_partial = partial_name(&absolute(&csv_path)?, "partial");
    let csv_guard = Partial(Some(csv_partial.clone()));
    std::fs::write(&csv_partial, crate::export::csv(&table)).map_err(|e| anyhow!("không ghi được “{}”: {e}", csv_path.display()))?;
    std::fs::File::open(&csv_partial)?.sync_all()?;
    std::fs::rename(&jsonl_partial, &jsonl_path).map_err(|e| anyhow!("không ghi được “{}”: {e}", jsonl_path.display()))?;
    jsonl_guard.keep();
    std::fs::rename(&csv_partial, &csv_path).map_err(|e| anyhow!("không ghi được “{}”: {e}", csv_path.display()))?;
    csv_guard.keep();
    sync_file_and_dir(&csv_path)?;
    Ok(ExportDone { jsonl: jsonl_path, csv: csv_path, models, units: seen_units.len(), skipped, took: started.elapsed() })
}
