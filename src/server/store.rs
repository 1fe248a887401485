//! Where the server keeps documents: one trait, implemented here for SQLite (the embedded default).
//!
//! Invariants every implementation keeps:
//! - `put` is a compare-and-swap on the document's `seq`, so two writers never lose each other's
//!   changes (the loser reloads, merges again and retries);
//! - every successful `put` gives the document a new `seq` larger than every `seq` committed before
//!   it, so a client that has seen everything up to `cursor` needs exactly `changed_since(cursor)`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone)]
pub struct StoredDoc {
    pub bytes: Vec<u8>,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub id: String,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer stored a newer version first; reload and retry.
    #[error("document changed concurrently")]
    Conflict,
    #[error("storage error: {0}")]
    Backend(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Identifies this database; a client whose cursor belongs to another starts again from 0.
    fn server_id(&self) -> &str;
    async fn load(&self, id: &str) -> Result<Option<StoredDoc>, StoreError>;
    /// Stores `bytes` if the document is still at `expected` (`None`: it must not exist yet).
    /// Returns the document's new `seq`.
    async fn put(&self, id: &str, bytes: &[u8], expected: Option<u64>, now_ms: i64) -> Result<u64, StoreError>;
    /// Documents whose `seq` is above `cursor`, in `seq` order, at most `limit`.
    async fn changed_since(&self, cursor: u64, limit: usize) -> Result<Vec<FeedEntry>, StoreError>;
    async fn count(&self) -> Result<u64, StoreError>;
    /// How many documents have a `seq` above `cursor`.
    async fn count_since(&self, cursor: u64) -> Result<u64, StoreError>;
}

/// SQLite in WAL mode behind one connection: SQLite allows one writer at a time anyway, and a
/// single connection makes "assign the next seq and commit" trivially ordered.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    server_id: String,
}

const MIGRATIONS: &[&str] = &[
    // 1: documents and the change feed
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE docs (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        updated_at INTEGER NOT NULL
     );
     CREATE UNIQUE INDEX docs_seq ON docs(seq);",
];

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend(format!("{}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: an acknowledged sync survives power loss, not only a process crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
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
        Ok(SqliteStore { conn: Arc::new(Mutex::new(conn)), server_id })
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Backend("connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn server_id(&self) -> &str {
        &self.server_id
    }

    async fn load(&self, id: &str) -> Result<Option<StoredDoc>, StoreError> {
        let id = id.to_string();
        self.with_conn(move |c| {
            Ok(c.query_row("SELECT bytes, seq FROM docs WHERE id = ?1", [&id], |r| {
                Ok(StoredDoc { bytes: r.get(0)?, seq: r.get::<_, i64>(1)? as u64 })
            })
            .optional()?)
        })
        .await
    }

    async fn put(&self, id: &str, bytes: &[u8], expected: Option<u64>, now_ms: i64) -> Result<u64, StoreError> {
        let (id, bytes) = (id.to_string(), bytes.to_vec());
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let next: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM docs", [], |r| r.get(0))?;
            let changed = match expected {
                None => tx.execute(
                    "INSERT INTO docs (id, seq, bytes, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO NOTHING",
                    params![id, next, bytes, now_ms],
                )?,
                Some(seq) => tx.execute(
                    "UPDATE docs SET seq = ?2, bytes = ?3, updated_at = ?4 WHERE id = ?1 AND seq = ?5",
                    params![id, next, bytes, now_ms, seq as i64],
                )?,
            };
            if changed == 0 {
                return Err(StoreError::Conflict);
            }
            tx.commit()?;
            Ok(next as u64)
        })
        .await
    }

    async fn changed_since(&self, cursor: u64, limit: usize) -> Result<Vec<FeedEntry>, StoreError> {
        self.with_conn(move |c| {
            let mut stmt = c.prepare_cached("SELECT id, seq, bytes FROM docs WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
            let rows = stmt.query_map(params![cursor as i64, limit as i64], |r| {
                Ok(FeedEntry { id: r.get(0)?, seq: r.get::<_, i64>(1)? as u64, bytes: r.get(2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM docs", [], |r| r.get::<_, i64>(0))? as u64)).await
    }

    async fn count_since(&self, cursor: u64) -> Result<u64, StoreError> {
        self.with_conn(move |c| {
            Ok(c.query_row("SELECT COUNT(*) FROM docs WHERE seq > ?1", [cursor as i64], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_is_compare_and_swap_and_feeds_in_seq_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("nested/db.sqlite3")).unwrap();
        let s1 = store.put("a", b"one", None, 1).await.unwrap();
        assert!(matches!(store.put("a", b"again", None, 1).await, Err(StoreError::Conflict)));
        let s2 = store.put("b", b"two", None, 1).await.unwrap();
        let s3 = store.put("a", b"three", Some(s1), 1).await.unwrap();
        assert!(matches!(store.put("a", b"stale", Some(s1), 1).await, Err(StoreError::Conflict)));
        assert!(s1 < s2 && s2 < s3);
        let feed = store.changed_since(0, 10).await.unwrap();
        assert_eq!(feed.iter().map(|e| (e.id.as_str(), e.seq)).collect::<Vec<_>>(), [("b", s2), ("a", s3)]);
        assert_eq!(store.changed_since(s2, 10).await.unwrap().len(), 1);
        assert_eq!(store.changed_since(0, 1).await.unwrap().len(), 1);
        assert_eq!(store.load("a").await.unwrap().unwrap().bytes, b"three");
        assert!(store.load("zz").await.unwrap().is_none());
        assert_eq!(store.count().await.unwrap(), 2);
    }

    #[tokio::test]
    async fn reopening_keeps_documents_and_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let id = {
            let store = SqliteStore::open(&path).unwrap();
            store.put("a", b"x", None, 1).await.unwrap();
            store.server_id().to_string()
        };
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.server_id(), id);
        assert_eq!(store.load("a").await.unwrap().unwrap().bytes, b"x");
        let other = SqliteStore::open(&dir.path().join("other.sqlite3")).unwrap();
        assert_ne!(other.server_id(), id);
    }
}
