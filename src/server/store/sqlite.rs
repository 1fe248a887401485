//! The SQLite store: the embedded default (one file, one machine).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::*;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// The schema, one `.sql` file per version in `migrations/sqlite/`, applied in order; the
/// database records how many it has applied (never edit one that has shipped: add the next).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/0001_documents.sql"),
    include_str!("migrations/sqlite/0002_chunks.sql"),
    include_str!("migrations/sqlite/0003_units.sql"),
    include_str!("migrations/sqlite/0004_accounts.sql"),
    include_str!("migrations/sqlite/0005_owners_sessions_invitations.sql"),
    include_str!("migrations/sqlite/0006_library_criteria.sql"),
    include_str!("migrations/sqlite/0007_photos.sql"),
    include_str!("migrations/sqlite/0008_photo_chunks.sql"),
    include_str!("migrations/sqlite/0009_report_facts.sql"),
    include_str!("migrations/sqlite/0010_doc_readers.sql"),
];

/// How many migrations this build knows: a database (or a backup) with a higher `user_version`
/// was written by a newer danvan.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Readers run in parallel with the writer (WAL); this many connections serve them.
const READERS: usize = 4;
/// Most writes committed in one transaction (both stores).
/// SQLite in WAL mode. One thread owns the writing connection and commits whatever writes are
/// waiting in one transaction (group commit: one fsync for many clients' edits); readers use
/// their own connections and never wait for a commit.
pub struct SqliteStore {
    server_id: String,
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: AtomicUsize,
    writer: mpsc::Sender<WriteJob>,
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: an acknowledged sync survives power loss, not only a process crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend(format!("{}: {e}", dir.display())))?;
        }
        let mut conn = open_connection(path)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "applied migration");
        }
        let server_id: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'server_id'", [], |r| r.get(0)).optional()?;
        let server_id = match server_id {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                conn.execute("INSERT INTO meta (key, value) VALUES ('server_id', ?1)", [&id])?;
                id
            }
        };
        let readers = (0..READERS).map(|_| open_connection(path).map(Mutex::new)).collect::<Result<Vec<_>, _>>()?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(conn, rx))
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(SqliteStore { server_id, readers: Arc::new(readers), next_reader: AtomicUsize::new(0), writer: tx })
    }

    /// A small write outside the document writer's group commit (accounts, sessions, units,
    /// criteria, photos): on a pooled connection, in its own transaction. SQLite serialises it with
    /// the writer thread (busy timeout 5 s); only document writes need the writer's `seq` order.
    async fn write_now<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.read(f).await
    }

    /// Runs `f` on a free pooled connection (reads: WAL lets them run beside the writer).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let first = self.next_reader.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            // Any free connection, else wait for the one in turn.
            let n = readers.len();
            let mut guard = (0..n).find_map(|k| readers[(first + k) % n].try_lock().ok());
            if guard.is_none() {
                guard = Some(readers[first % n].lock().map_err(|_| StoreError::Backend("connection lock poisoned".into()))?);
            }
            f(&mut guard.expect("a connection"))
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
    }
}

fn run_writer(mut conn: Connection, jobs: mpsc::Receiver<WriteJob>) {
    let mut last_seq: Option<i64> = None;
    while let Ok(first) = jobs.recv() {
        let (group, count) = gather_group(first, || jobs.try_recv().ok());
        match commit_group(&mut conn, &group, &mut last_seq) {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.done.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = count, "group commit failed");
                last_seq = None;
                for job in group {
                    let _ = job.done.send(Err(StoreError::Backend(e.to_string())));
                }
            }
        }
    }
}

fn commit_group(
    conn: &mut Connection,
    group: &[WriteJob],
    last_seq: &mut Option<i64>,
) -> Result<Vec<Vec<Result<u64, StoreError>>>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut seq = match *last_seq {
        Some(s) => s,
        None => tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM chunks", [], |r| r.get(0))?,
    };
    let mut results = Vec::with_capacity(group.len());
    {
        let mut current = tx.prepare_cached("SELECT seq, increments, increment_bytes FROM docs WHERE id = ?1")?;
        let mut insert_chunk =
            tx.prepare_cached("INSERT INTO chunks (seq, doc_id, snapshot, bytes, heads) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut drop_older = tx.prepare_cached("DELETE FROM chunks WHERE doc_id = ?1 AND seq < ?2")?;
        let mut put_facts = tx.prepare_cached(FACTS_UPSERT)?;
        let mut clear_readers = tx.prepare_cached("DELETE FROM doc_readers WHERE doc_id = ?1")?;
        let mut add_reader = tx.prepare_cached("INSERT OR IGNORE INTO doc_readers (doc_id, reader) VALUES (?1, ?2)")?;
        let mut upsert = tx.prepare_cached(
            "INSERT INTO docs (id, seq, updated_at, increments, snapshot_bytes, increment_bytes, unit, public)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9)
             ON CONFLICT(id) DO UPDATE SET seq = ?2, updated_at = ?3, increments = ?4,
                snapshot_bytes = CASE WHEN ?7 THEN ?5 ELSE snapshot_bytes END, increment_bytes = ?6, public = ?9",
        )?;
        for job in group {
            let mut outcomes = Vec::with_capacity(job.writes.len());
            for w in &job.writes {
                let row: Option<(i64, i64, i64)> =
                    current.query_row([&w.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
                if row.map(|r| r.0 as u64) != w.expected {
                    outcomes.push(Err(StoreError::Conflict));
                    continue;
                }
                seq += 1;
                let len = w.chunk.bytes.len() as i64;
                insert_chunk.execute(params![seq, w.id, w.chunk.snapshot, w.chunk.bytes, w.heads])?;
                let (increments, increment_bytes) = if w.chunk.snapshot {
                    drop_older.execute(params![w.id, seq])?;
                    (0, 0)
                } else {
                    let (_, n, b) = row.unwrap_or((0, 0, 0));
                    (n + 1, b + len)
                };
                upsert.execute(params![w.id, seq, job.now_ms, increments, len, increment_bytes, w.chunk.snapshot, w.unit, w.public])?;
                // The facts in the document's own transaction: the table never disagrees with it.
                put_facts.execute(params![w.id, seq, w.unit, FACTS_FORMAT, w.facts.as_ref().map(encode_facts)])?;
                if let Some(readers) = &w.readers {
                    clear_readers.execute([&w.id])?;
                    for r in readers {
                        add_reader.execute(params![w.id, r])?;
                    }
                }
                outcomes.push(Ok(seq as u64));
            }
            results.push(outcomes);
        }
    }
    tx.commit()?;
    *last_seq = Some(seq);
    Ok(results)
}

const FACTS_UPSERT: &str = "INSERT INTO report_facts (doc_id, seq, unit, format, facts) VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT(doc_id) DO UPDATE SET seq = ?2, unit = ?3, format = ?4, facts = ?5";

/// `SELECT` of documents with their facts rows, for [`FactsRow::from_parts`].
const FACTS_SELECT: &str = "SELECT d.id, d.seq, d.unit, f.seq, f.format, f.facts FROM docs d LEFT JOIN report_facts f ON f.doc_id = d.id";

fn facts_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FactsRow> {
    Ok(FactsRow::from_parts(
        r.get(0)?,
        r.get::<_, i64>(1)? as u64,
        r.get(2)?,
        r.get::<_, Option<i64>>(3)?.map(|s| s as u64),
        r.get(4)?,
        r.get_ref(5)?.as_blob_or_null()?,
    ))
}

fn layout(increments: i64, snapshot_bytes: i64, increment_bytes: i64) -> Layout {
    Layout { increments: increments as u32, snapshot_bytes: snapshot_bytes as u64, increment_bytes: increment_bytes as u64 }
}

#[async_trait]
impl DocStore for SqliteStore {
    fn server_id(&self) -> &str {
        &self.server_id
    }

    async fn load_many(&self, ids: &[String]) -> Result<HashMap<String, StoredDoc>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |c| {
            // One read transaction: the document row and its chunks agree.
            let tx = c.transaction()?;
            let mut out = HashMap::new();
            {
                let mut doc =
                    tx.prepare_cached("SELECT seq, increments, snapshot_bytes, increment_bytes, unit, public FROM docs WHERE id = ?1")?;
                let mut chunks = tx.prepare_cached("SELECT bytes FROM chunks WHERE doc_id = ?1 ORDER BY seq")?;
                for id in ids {
                    let Some((seq, l, unit, public)) = doc
                        .query_row([&id], |r| {
                            Ok((
                                r.get::<_, i64>(0)? as u64,
                                layout(r.get(1)?, r.get(2)?, r.get(3)?),
                                r.get::<_, String>(4)?,
                                r.get::<_, bool>(5)?,
                            ))
                        })
                        .optional()?
                    else {
                        continue;
                    };
                    let mut bytes = Vec::new();
                    let mut rows = chunks.query([&id])?;
                    while let Some(row) = rows.next()? {
                        bytes.extend_from_slice(row.get_ref(0)?.as_blob().map_err(|e| StoreError::Backend(e.to_string()))?);
                    }
                    out.insert(id, StoredDoc { bytes, seq, layout: l, unit, public });
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn versions(&self, ids: &[String]) -> Result<HashMap<String, DocVersion>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT seq, unit, public FROM docs WHERE id = ?1")?;
            let mut out = HashMap::new();
            for id in ids {
                if let Some(v) = stmt
                    .query_row([&id], |r| Ok(DocVersion { seq: r.get::<_, i64>(0)? as u64, unit: r.get(1)?, public: r.get(2)? }))
                    .optional()?
                {
                    out.insert(id, v);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn write(&self, writes: Vec<Write>, now_ms: i64) -> Result<Vec<Result<u64, StoreError>>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let (done, result) = tokio::sync::oneshot::channel();
        self.writer
            .send(WriteJob { writes, now_ms, done })
            .map_err(|_| StoreError::Backend("the writer thread stopped".into()))?;
        result.await.map_err(|_| StoreError::Backend("the writer thread stopped".into()))?
    }

    async fn feed_for(&self, cursor: u64, units: &[String], readers: &[String], budget_bytes: usize, max_chunks: usize) -> Result<FeedPage, StoreError> {
        if budget_bytes == 0 || max_chunks == 0 {
            return Ok(FeedPage::default());
        }
        let units = units_json(units);
        let readers = serde_json::to_string(readers).expect("strings serialise");
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT c.seq, c.doc_id, c.snapshot, c.bytes, c.heads FROM chunks c JOIN docs d ON d.id = c.doc_id
                 WHERE c.seq > ?1 AND ((CASE WHEN d.public THEN '*' ELSE d.unit END) IN (SELECT value FROM json_each(?3))
                    OR c.doc_id IN (SELECT doc_id FROM doc_readers WHERE reader IN (SELECT value FROM json_each(?4))))
                 ORDER BY c.seq LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![cursor as i64, (max_chunks + 1) as i64, units, readers])?;
            let mut page = FeedPage::default();
            let mut bytes = 0usize;
            while let Some(r) = rows.next()? {
                if page.chunks.len() == max_chunks || (bytes >= budget_bytes && !page.chunks.is_empty()) {
                    page.more = true;
                    break;
                }
                let chunk = FeedChunk {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: r.get(1)?,
                    snapshot: r.get(2)?,
                    bytes: r.get(3)?,
                    heads: r.get(4)?,
                };
                bytes += chunk.bytes.len();
                page.chunks.push(chunk);
            }
            Ok(page)
        })
        .await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM docs", [], |r| r.get::<_, i64>(0))? as u64)).await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        self.read(|c| Ok(c.query_row("SELECT COALESCE(MAX(seq), 0) FROM docs", [], |r| r.get::<_, i64>(0))? as u64)).await
    }

    async fn count_since_for(&self, cursor: u64, units: &[String], readers: &[String]) -> Result<u64, StoreError> {
        let units = units_json(units);
        let readers = serde_json::to_string(readers).expect("strings serialise");
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM docs WHERE seq > ?1 AND ((CASE WHEN public THEN '*' ELSE unit END) IN (SELECT value FROM json_each(?2))
                    OR id IN (SELECT doc_id FROM doc_readers WHERE reader IN (SELECT value FROM json_each(?3))))",
                params![cursor as i64, units, readers],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
        .await
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn facts_since(&self, cursor: u64, limit: usize) -> Result<Vec<FactsRow>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!("{FACTS_SELECT} WHERE d.seq > ?1 ORDER BY d.seq LIMIT ?2"))?;
            let rows = stmt.query_map(params![cursor as i64, limit as i64], facts_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn facts_of(&self, ids: &[String]) -> Result<Vec<FactsRow>, StoreError> {
        let ids = serde_json::to_string(ids).expect("strings serialise");
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!("{FACTS_SELECT} WHERE d.id IN (SELECT value FROM json_each(?1)) ORDER BY d.seq"))?;
            let rows = stmt.query_map([ids], facts_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn stale_facts(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id FROM docs d LEFT JOIN report_facts f ON f.doc_id = d.id
                 WHERE f.doc_id IS NULL OR f.seq <> d.seq OR f.format <> ?1 ORDER BY d.seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![FACTS_FORMAT, limit as i64], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn put_facts(&self, facts: Vec<BackfilledFacts>) -> Result<usize, StoreError> {
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut stored = 0;
            {
                let mut current = tx.prepare_cached("SELECT seq FROM docs WHERE id = ?1")?;
                let mut put = tx.prepare_cached(FACTS_UPSERT)?;
                for f in &facts {
                    let seq: Option<i64> = current.query_row([&f.id], |r| r.get(0)).optional()?;
                    if seq == Some(f.seq as i64) {
                        put.execute(params![f.id, f.seq as i64, f.unit, FACTS_FORMAT, f.facts.as_ref().map(encode_facts)])?;
                        stored += 1;
                    }
                }
            }
            tx.commit()?;
            Ok(stored)
        })
        .await
    }

    async fn record_syncs(&self, units: &[String], now_ms: i64) -> Result<(), StoreError> {
        if units.is_empty() {
            return Ok(());
        }
        let units = units.to_vec();
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO unit_syncs (unit, last_sync_ms) VALUES (?1, ?2)
                     ON CONFLICT(unit) DO UPDATE SET last_sync_ms = MAX(last_sync_ms, ?2)",
                )?;
                for u in &units {
                    stmt.execute(params![u, now_ms])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn last_syncs(&self, units: &[String]) -> Result<HashMap<String, i64>, StoreError> {
        let units = serde_json::to_string(units).expect("strings serialise");
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT unit, last_sync_ms FROM unit_syncs WHERE unit IN (SELECT value FROM json_each(?1))")?;
            let rows = stmt.query_map([units], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
        })
        .await
    }
}

#[async_trait]
impl UnitStore for SqliteStore {
    async fn unit_tree(&self) -> Result<UnitTree, StoreError> {
        self.read(|c| read_tree(c)).await
    }

    async fn save_units(&self, based_on: &UnitTree, tree: &UnitTree) -> Result<(), StoreError> {
        let units: Vec<Unit> = tree.units().cloned().collect();
        let clusters: Vec<Cluster> = tree.clusters().cloned().collect();
        let based_on = based_on.clone();
        self.write_now(move |c| {
            // Immediate: the write lock is held from here, so the check and the save are one step.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if read_tree(&tx)? != based_on {
                return Err(StoreError::Conflict);
            }
            {
                let mut unit = tx.prepare_cached(
                    "INSERT INTO units (code, name, kind, level, parent, cluster) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(code) DO UPDATE SET name = ?2, kind = ?3, level = ?4, parent = ?5, cluster = ?6",
                )?;
                for u in &units {
                    unit.execute(params![u.code, u.name, u.kind.code(), u.level.code(), u.parent, u.cluster])?;
                }
                let mut cluster = tx.prepare_cached(
                    "INSERT INTO clusters (code, name, head, deputy) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(code) DO UPDATE SET name = ?2, head = ?3, deputy = ?4",
                )?;
                for k in &clusters {
                    cluster.execute(params![k.code, k.name, k.head, k.deputy])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, user: &User, now_ms: i64) -> Result<(), StoreError> {
        let user = user.clone();
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                "INSERT INTO users (username, display_name, password_hash, disabled, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(username) DO NOTHING",
                params![user.username, user.display_name, user.password_hash, user.disabled, now_ms],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict);
            }
            insert_grants(&tx, &user.username, &user.grants)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let username = username.to_string();
        self.read(move |c| {
            let Some(mut user) = c
                .query_row(
                    "SELECT username, display_name, password_hash, disabled FROM users WHERE username = ?1",
                    [&username],
                    |r| Ok(User { username: r.get(0)?, display_name: r.get(1)?, password_hash: r.get(2)?, disabled: r.get(3)?, grants: Vec::new() }),
                )
                .optional()?
            else {
                return Ok(None);
            };
            user.grants = grants_of(c, &username)?;
            Ok(Some(user))
        })
        .await
    }

    async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        let username = username.to_string();
        self.write_now(move |c| Ok(c.execute("UPDATE users SET disabled = ?2 WHERE username = ?1", params![username, disabled])? == 1))
            .await
    }

    async fn set_password_hash(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        let (username, hash) = (username.to_string(), hash.to_string());
        self.write_now(move |c| Ok(c.execute("UPDATE users SET password_hash = ?2 WHERE username = ?1", params![username, hash])? == 1))
            .await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT username, display_name, password_hash, disabled FROM users ORDER BY username")?;
            let mut users = stmt
                .query_map([], |r| Ok(User { username: r.get(0)?, display_name: r.get(1)?, password_hash: r.get(2)?, disabled: r.get(3)?, grants: Vec::new() }))?
                .collect::<Result<Vec<_>, _>>()?;
            for user in &mut users {
                user.grants = grants_of(c, &user.username)?;
            }
            Ok(users)
        })
        .await
    }

    async fn update_user(&self, username: &str, display_name: &str, grants: &[Grant]) -> Result<bool, StoreError> {
        let (username, display_name, grants) = (username.to_string(), display_name.to_string(), grants.to_vec());
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if tx.execute("UPDATE users SET display_name = ?2 WHERE username = ?1", params![username, display_name])? == 0 {
                return Ok(false);
            }
            tx.execute("DELETE FROM grants WHERE username = ?1", [&username])?;
            insert_grants(&tx, &username, &grants)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn create_session(&self, id: &str, session: &Session) -> Result<(), StoreError> {
        let (hash, s) = (id.to_string(), session.clone());
        self.write_now(move |c| {
            c.execute(
                "INSERT INTO sessions (id, verifier_hash, username, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, s.verifier_hash, s.username, s.created_at, s.expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn session_user(&self, id: &str) -> Result<Option<(Session, User)>, StoreError> {
        let id = id.to_string();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT s.username, s.verifier_hash, s.created_at, s.expires_at, u.display_name, u.password_hash, u.disabled
                     FROM sessions s JOIN users u ON u.username = s.username WHERE s.id = ?1",
                )?
                .query_row([&id], |r| {
                    let session = Session { username: r.get(0)?, verifier_hash: r.get(1)?, created_at: r.get(2)?, expires_at: r.get(3)? };
                    let user = User { username: r.get(0)?, display_name: r.get(4)?, password_hash: r.get(5)?, disabled: r.get(6)?, grants: Vec::new() };
                    Ok((session, user))
                })
                .optional()?;
            let Some((session, mut user)) = row else { return Ok(None) };
            user.grants = grants_of(c, &user.username)?;
            Ok(Some((session, user)))
        })
        .await
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        let hash = id.to_string();
        self.write_now(move |c| {
            c.execute("DELETE FROM sessions WHERE id = ?1", [&hash])?;
            Ok(())
        })
        .await
    }

    async fn delete_sessions(&self, username: &str) -> Result<u64, StoreError> {
        let username = username.to_string();
        self.write_now(move |c| Ok(c.execute("DELETE FROM sessions WHERE username = ?1", [&username])? as u64)).await
    }

    async fn save_invitation(&self, id: &str, invitation: &Invitation, now_ms: i64) -> Result<(), StoreError> {
        let (hash, inv) = (id.to_string(), invitation.clone());
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM invitations WHERE username = ?1", [&inv.username])?;
            tx.execute(
                "INSERT INTO invitations (id, verifier_hash, username, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, inv.verifier_hash, inv.username, now_ms, inv.expires_at],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, StoreError> {
        let hash = id.to_string();
        self.read(move |c| {
            Ok(c.query_row("SELECT username, verifier_hash, expires_at FROM invitations WHERE id = ?1", [&hash], |r| {
                Ok(Invitation { username: r.get(0)?, verifier_hash: r.get(1)?, expires_at: r.get(2)? })
            })
            .optional()?)
        })
        .await
    }

    async fn accept_invitation(&self, id: &str, password_hash: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        let (hash, password_hash) = (id.to_string(), password_hash.to_string());
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let username: Option<String> = tx
                .query_row("DELETE FROM invitations WHERE id = ?1 AND expires_at > ?2 RETURNING username", params![hash, now_ms], |r| r.get(0))
                .optional()?;
            if let Some(u) = &username {
                tx.execute("UPDATE users SET password_hash = ?2 WHERE username = ?1", params![u, password_hash])?;
            }
            tx.commit()?;
            Ok(username)
        })
        .await
    }

    async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.write_now(move |c| Ok(c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now_ms])? as u64)).await
    }

    async fn delete_expired_invitations(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.write_now(move |c| Ok(c.execute("DELETE FROM invitations WHERE expires_at <= ?1", [now_ms])? as u64)).await
    }
}

#[async_trait]
impl CriteriaStore for SqliteStore {
    async fn criteria(&self) -> Result<Vec<CriteriaSet>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT owner_kind, criteria FROM criteria ORDER BY owner_kind")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.map(|r| {
                let (kind, json) = r?;
                criteria_from_row(kind, &json)
            })
            .collect()
        })
        .await
    }

    async fn save_criteria(&self, set: &CriteriaSet, by: &str, now_ms: i64) -> Result<(), StoreError> {
        let json = serde_json::to_string(&set.criteria).map_err(|e| StoreError::Backend(e.to_string()))?;
        let (kind, by) = (set.owner_kind.clone(), by.to_string());
        self.write_now(move |c| {
            c.execute(
                "INSERT INTO criteria (owner_kind, criteria, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(owner_kind) DO UPDATE SET criteria = ?2, updated_by = ?3, updated_at = ?4",
                params![kind, json, by, now_ms],
            )?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl PhotoStore for SqliteStore {
    async fn photo_status(&self, doc_id: &str, id: &str) -> Result<Option<PhotoStatus>, StoreError> {
        let (doc_id, id) = (doc_id.to_string(), id.to_string());
        self.read(move |c| Ok(photo_row(c, &doc_id, &id)?.map(|(_, received, complete)| PhotoStatus { received, complete })))
            .await
    }

    async fn append_photo(&self, chunk: PhotoChunk, limits: &PhotoLimits, now_ms: i64) -> Result<PhotoAppend, StoreError> {
        let limits = *limits;
        // Outside the group commit, like the accounts: an IMMEDIATE transaction takes SQLite's
        // write lock first, so the check of `received` (and of the limits) and the append are one
        // step.
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let stored = photo_row(&tx, &chunk.doc_id, &chunk.id)?;
            if let Err(answer) = photo_step(stored, chunk.offset, chunk.total) {
                return Ok(answer);
            }
            if stored.is_none() {
                let of_model: i64 = tx.query_row("SELECT COUNT(*) FROM photos WHERE doc_id = ?1", [&chunk.doc_id], |r| r.get(0))?;
                let (of_user, oldest): (i64, Option<i64>) = tx.query_row(
                    "SELECT COUNT(*), MIN(created_at) FROM photos WHERE created_by = ?1 AND created_at > ?2",
                    params![chunk.by, now_ms - PHOTO_DAY_MS],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if let Err(answer) = photo_quota(&limits, of_model as u64, of_user as u64, oldest, now_ms) {
                    return Ok(answer);
                }
            }
            let received = chunk.offset + chunk.bytes.len() as u64;
            let upsert = "INSERT INTO photos (doc_id, id, content_type, total, received, complete, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT(doc_id, id) DO UPDATE SET received = ?5, complete = ?6, updated_at = ?8,
                    content_type = CASE WHEN ?6 THEN ?3 ELSE content_type END";
            let insert_chunk = "INSERT INTO photo_chunks (doc_id, id, byte_offset, bytes) VALUES (?1, ?2, ?3, ?4)";
            if received < chunk.total {
                tx.prepare_cached(insert_chunk)?.execute(params![chunk.doc_id, chunk.id, chunk.offset as i64, chunk.bytes])?;
                tx.prepare_cached(upsert)?.execute(params![
                    chunk.doc_id,
                    chunk.id,
                    chunk.content_type,
                    chunk.total as i64,
                    received as i64,
                    false,
                    chunk.by,
                    now_ms
                ])?;
                tx.commit()?;
                return Ok(PhotoAppend::Stored(PhotoStatus { received, complete: false }));
            }
            // The last chunk: the chunks stored and this one make the photo, checked, then kept as
            // one row in place of the chunks.
            let mut assembly = PhotoAssembly::new(chunk.total);
            {
                let mut stmt = tx.prepare_cached("SELECT bytes FROM photo_chunks WHERE doc_id = ?1 AND id = ?2 ORDER BY byte_offset")?;
                let mut rows = stmt.query([&chunk.doc_id, &chunk.id])?;
                while let Some(row) = rows.next()? {
                    assembly.push(row.get_ref(0)?.as_blob().map_err(|e| StoreError::Backend(e.to_string()))?);
                }
            }
            assembly.push(&chunk.bytes);
            tx.execute("DELETE FROM photo_chunks WHERE doc_id = ?1 AND id = ?2", [&chunk.doc_id, &chunk.id])?;
            let (bytes, content_type) = match assembly.finish(&chunk.id) {
                Ok(photo) => photo,
                Err(answer) => {
                    tx.execute("DELETE FROM photos WHERE doc_id = ?1 AND id = ?2", [&chunk.doc_id, &chunk.id])?;
                    tx.commit()?;
                    return Ok(answer);
                }
            };
            tx.prepare_cached(insert_chunk)?.execute(params![chunk.doc_id, chunk.id, 0i64, bytes])?;
            tx.prepare_cached(upsert)?.execute(params![
                chunk.doc_id,
                chunk.id,
                content_type,
                chunk.total as i64,
                received as i64,
                true,
                chunk.by,
                now_ms
            ])?;
            tx.commit()?;
            Ok(PhotoAppend::Stored(PhotoStatus { received, complete: true }))
        })
        .await
    }

    async fn photo(&self, doc_id: &str, id: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let (doc_id, id) = (doc_id.to_string(), id.to_string());
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT p.content_type, c.bytes FROM photos p
                 JOIN photo_chunks c ON c.doc_id = p.doc_id AND c.id = p.id AND c.byte_offset = 0
                 WHERE p.doc_id = ?1 AND p.id = ?2 AND p.complete",
            )?
            .query_row([&doc_id, &id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
        })
        .await
    }

    async fn photos_to_check(&self, uploaded_before_ms: i64, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT p.doc_id, p.id FROM photos p LEFT JOIN docs d ON d.id = p.doc_id
                 WHERE p.complete AND p.created_at < ?1 AND (d.seq IS NULL OR p.checked_seq IS NOT d.seq)
                 ORDER BY p.doc_id, p.id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![uploaded_before_ms, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn confirm_photo_references(&self, photos: &[(String, String, u64)]) -> Result<(), StoreError> {
        if photos.is_empty() {
            return Ok(());
        }
        let photos = photos.to_vec();
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare_cached("UPDATE photos SET checked_seq = ?3 WHERE doc_id = ?1 AND id = ?2")?;
                for (doc_id, id, seq) in &photos {
                    stmt.execute(params![doc_id, id, *seq as i64])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn delete_unreferenced_photo(&self, doc_id: &str, id: &str, doc_seq: Option<u64>) -> Result<bool, StoreError> {
        let (doc_id, id, doc_seq) = (doc_id.to_string(), id.to_string(), doc_seq.map(|s| s as i64));
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let deleted = tx.execute(
                "DELETE FROM photos WHERE doc_id = ?1 AND id = ?2 AND complete AND (SELECT seq FROM docs WHERE id = ?1) IS ?3",
                params![doc_id, id, doc_seq],
            )? == 1;
            if deleted {
                tx.execute("DELETE FROM photo_chunks WHERE doc_id = ?1 AND id = ?2", [&doc_id, &id])?;
            }
            tx.commit()?;
            Ok(deleted)
        })
        .await
    }

    async fn delete_abandoned_uploads(&self, last_chunk_before_ms: i64) -> Result<u64, StoreError> {
        self.write_now(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM photo_chunks WHERE (doc_id, id) IN (SELECT doc_id, id FROM photos WHERE NOT complete AND updated_at < ?1)",
                [last_chunk_before_ms],
            )?;
            let deleted = tx.execute("DELETE FROM photos WHERE NOT complete AND updated_at < ?1", [last_chunk_before_ms])?;
            tx.commit()?;
            Ok(deleted as u64)
        })
        .await
    }
}

/// A photo's upload: (total, received, complete).
fn photo_row(c: &Connection, doc_id: &str, id: &str) -> Result<Option<(u64, u64, bool)>, StoreError> {
    Ok(c
        .prepare_cached("SELECT total, received, complete FROM photos WHERE doc_id = ?1 AND id = ?2")?
        .query_row([doc_id, id], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get(2)?)))
        .optional()?)
}

/// A list of unit codes as one SQL parameter (read back with `json_each`).
/// The units a reader reads, plus `*`, which stands for "in the library" in the feed's
/// condition: `(CASE WHEN public THEN '*' ELSE unit END) IN (…)` keeps one `IN` over a list read
/// once (with `public OR unit IN (…)` SQLite read the JSON list again for every chunk: p99 under
/// the 1,000-client load went from ~40 to ~90 ms). No unit code can be `*`.
fn units_json(units: &[String]) -> String {
    let mut all: Vec<&str> = units.iter().map(String::as_str).collect();
    all.push("*");
    serde_json::to_string(&all).expect("strings serialise")
}

fn insert_grants(tx: &rusqlite::Transaction<'_>, username: &str, grants: &[Grant]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached("INSERT INTO grants (username, unit, role) VALUES (?1, ?2, ?3)")?;
    for g in grants {
        stmt.execute(params![username, g.unit, g.role.code()])?;
    }
    Ok(())
}

fn grants_of(c: &Connection, username: &str) -> Result<Vec<Grant>, StoreError> {
    let mut stmt = c.prepare_cached("SELECT unit, role FROM grants WHERE username = ?1 ORDER BY unit")?;
    let rows = stmt.query_map([username], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut grants = Vec::new();
    for row in rows {
        let (unit, role) = row?;
        grants.push(grant_from_row(username, unit, &role)?);
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: &str, expected: Option<u64>, bytes: &[u8], snapshot: bool) -> Write {
        Write { id: id.into(), expected, chunk: Chunk { bytes: bytes.to_vec(), snapshot }, heads: vec![bytes[0]; 32], unit: "U".into(), public: false, facts: None, readers: None }
    }

    fn u() -> Vec<String> {
        vec!["U".into()]
    }

    #[tokio::test]
    async fn writes_are_compare_and_swap_and_the_feed_is_chunks_in_seq_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("nested/db.sqlite3")).unwrap();
        let r = store.write(vec![w("a", None, b"one", true), w("a", None, b"again", true), w("b", None, b"two", true)], 1).await.unwrap();
        let (s1, s2) = (*r[0].as_ref().unwrap(), *r[2].as_ref().unwrap());
        assert!(matches!(r[1], Err(StoreError::Conflict)));
        let s3 = store.write(vec![w("a", Some(s1), b"+3", false)], 1).await.unwrap()[0].as_ref().copied().unwrap();
        assert!(matches!(store.write(vec![w("a", Some(s1), b"stale", false)], 1).await.unwrap()[0], Err(StoreError::Conflict)));
        assert!(s1 < s2 && s2 < s3);
        let a = store.load("a").await.unwrap().unwrap();
        assert_eq!((a.bytes.as_slice(), a.seq), (&b"one+3"[..], s3));
        assert_eq!(a.layout, Layout { increments: 1, snapshot_bytes: 3, increment_bytes: 2 });
        let feed = store.feed(0, &u(), 1 << 20, 100).await.unwrap();
        assert_eq!(feed.chunks.iter().map(|c| (c.id.as_str(), c.seq)).collect::<Vec<_>>(), [("a", s1), ("b", s2), ("a", s3)]);
        assert!(!feed.more);
        // Budget: at least one chunk, then only what fits.
        let one = store.feed(0, &u(), 1, 100).await.unwrap();
        assert_eq!((one.chunks.len(), one.more), (1, true));
        assert_eq!(store.feed(s2, &u(), 1 << 20, 100).await.unwrap().chunks.len(), 1);
        assert!(store.feed(0, &u(), 0, 100).await.unwrap().chunks.is_empty());
        // A snapshot replaces the document's older chunks.
        let s4 = store.write(vec![w("a", Some(s3), b"ALL", true)], 1).await.unwrap()[0].as_ref().copied().unwrap();
        assert_eq!(store.load("a").await.unwrap().unwrap().bytes, b"ALL");
        let feed = store.feed(0, &u(), 1 << 20, 100).await.unwrap();
        assert_eq!(feed.chunks.iter().map(|c| c.seq).collect::<Vec<_>>(), [s2, s4]);
        assert!(store.load("zz").await.unwrap().is_none());
        assert_eq!(store.count().await.unwrap(), 2);
        assert_eq!(store.count_since(s2, &u()).await.unwrap(), 1);
        assert_eq!(store.versions(&["a".into(), "zz".into()]).await.unwrap(), HashMap::from([("a".to_string(), DocVersion { seq: s4, unit: "U".into(), public: false })]));
    }

    #[tokio::test]
    async fn reopening_keeps_documents_and_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let id = {
            let store = SqliteStore::open(&path).unwrap();
            store.write(vec![w("a", None, b"x", true)], 1).await.unwrap();
            store.server_id().to_string()
        };
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.server_id(), id);
        assert_eq!(store.load("a").await.unwrap().unwrap().bytes, b"x");
        let other = SqliteStore::open(&dir.path().join("other.sqlite3")).unwrap();
        assert_ne!(other.server_id(), id);
    }

    #[tokio::test]
    async fn a_database_of_the_first_schema_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute("INSERT INTO docs (id, seq, bytes, updated_at) VALUES ('a', 7, X'0102', 1)", []).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let a = store.load("a").await.unwrap().unwrap();
        assert_eq!((a.bytes.as_slice(), a.seq, a.layout.snapshot_bytes), (&[1u8, 2][..], 7, 2));
        let next = store.write(vec![w("a", Some(7), b"\x03", false)], 1).await.unwrap();
        assert_eq!(*next[0].as_ref().unwrap(), 8, "numbering continues after the migrated documents");
    }

    /// Photos stored as one growing row (schema 7) move to the chunk table: a partial upload goes
    /// on from where it stood, a complete photo is served as the type its bytes are, and stored
    /// bytes that are no image are gone.
    #[tokio::test]
    async fn photos_of_schema_7_move_to_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.sqlite3");
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x03\x20\x00\x00\x02\x58\x08\x02\x00\x00\x00".to_vec();
        png.extend((0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
        let id = hex::encode(Sha256::digest(&png));
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &MIGRATIONS[..7] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 7).unwrap();
            let row = "INSERT INTO photos (doc_id, id, content_type, total, received, bytes, complete, created_by, created_at, updated_at)
                       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'a', 1, 1)";
            // Claimed JPEG, bytes of a PNG; an HTML page claimed JPEG; a PNG half uploaded.
            tx.execute(row, params!["m", id, "image/jpeg", png.len() as i64, png.len() as i64, png, true]).unwrap();
            tx.execute(row, params!["m", "html", "image/jpeg", 6, 6, b"<html>".to_vec(), true]).unwrap();
            tx.execute(row, params!["n", id, "image/png", png.len() as i64, 20_000, png[..20_000].to_vec(), false]).unwrap();
            tx.commit().unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.photo("m", &id).await.unwrap(), Some(("image/png".to_string(), png.clone())));
        assert_eq!(store.photo_status("m", "html").await.unwrap(), None);
        assert_eq!(store.photo_status("n", &id).await.unwrap(), Some(PhotoStatus { received: 20_000, complete: false }));
        let rest = PhotoChunk {
            doc_id: "n".into(),
            id: id.clone(),
            content_type: "image/png".into(),
            offset: 20_000,
            total: png.len() as u64,
            bytes: png[20_000..].to_vec(),
            by: "a".into(),
        };
        let limits = PhotoLimits { per_model: 10, per_user_day: 10 };
        assert_eq!(
            store.append_photo(rest, &limits, 2).await.unwrap(),
            PhotoAppend::Stored(PhotoStatus { received: png.len() as u64, complete: true })
        );
        assert_eq!(store.photo("n", &id).await.unwrap(), Some(("image/png".to_string(), png)));
    }
}
