//! PostgreSQL store, for deployments past one machine: several stateless `danvan-server` processes
//! over one database.
//!
//! Ordering of the change feed across processes: every write takes the next number from the single
//! row of `feed_clock` (`UPDATE … RETURNING`), whose row lock is held until the write commits. So
//! writes commit in `seq` order, and a reader never sees `seq` N+1 before N is visible; a client
//! that has everything up to its cursor needs exactly `changed_since(cursor)`. The price is that
//! writes of different documents are serialised on that row, which is fine at this scale.

use async_trait::async_trait;
use deadpool_postgres::{Manager, Pool};
use tokio_postgres::NoTls;

use super::store::{FeedEntry, Store, StoreError, StoredDoc};

const MIGRATIONS: &[&str] = &[
    // 1: documents and the change feed
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE docs (
        id TEXT PRIMARY KEY,
        seq BIGINT NOT NULL UNIQUE,
        bytes BYTEA NOT NULL,
        updated_at BIGINT NOT NULL
     );
     CREATE TABLE feed_clock (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), seq BIGINT NOT NULL);
     INSERT INTO feed_clock (one, seq) VALUES (TRUE, 0);",
];

/// Any number: identifies our migration lock among the database's advisory locks.
const MIGRATION_LOCK: i64 = 0x64616e76616e; // "danvan"

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Backend(e.to_string())
    }
}

pub struct PostgresStore {
    pool: Pool,
    server_id: String,
}

impl PostgresStore {
    /// Connects, applies pending migrations (one process at a time) and reads the server id.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e: tokio_postgres::Error| StoreError::Backend(format!("invalid database URL: {e}")))?;
        let manager = Manager::new(config, NoTls);
        let pool = Pool::builder(manager).max_size(16).build().map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS danvan_migrations (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        let applied: i32 = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM danvan_migrations", &[]).await?.get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
            tx.batch_execute(sql).await?;
            tx.execute("INSERT INTO danvan_migrations (version) VALUES ($1)", &[&((i + 1) as i32)]).await?;
            tracing::info!(version = i + 1, "applied migration");
        }
        let candidate = uuid::Uuid::new_v4().to_string();
        tx.execute("INSERT INTO meta (key, value) VALUES ('server_id', $1) ON CONFLICT (key) DO NOTHING", &[&candidate])
            .await?;
        let server_id: String = tx.query_one("SELECT value FROM meta WHERE key = 'server_id'", &[]).await?.get(0);
        tx.commit().await?;
        Ok(PostgresStore { pool, server_id })
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn server_id(&self) -> &str {
        &self.server_id
    }

    async fn load(&self, id: &str) -> Result<Option<StoredDoc>, StoreError> {
        let client = self.pool.get().await?;
        let row = client.query_opt("SELECT bytes, seq FROM docs WHERE id = $1", &[&id]).await?;
        Ok(row.map(|r| StoredDoc { bytes: r.get(0), seq: r.get::<_, i64>(1) as u64 }))
    }

    async fn put(&self, id: &str, bytes: &[u8], expected: Option<u64>, now_ms: i64) -> Result<u64, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Check first, so a losing writer does not hold the feed clock.
        let current: Option<i64> =
            tx.query_opt("SELECT seq FROM docs WHERE id = $1 FOR UPDATE", &[&id]).await?.map(|r| r.get(0));
        if current.map(|s| s as u64) != expected {
            return Err(StoreError::Conflict);
        }
        let next: i64 = tx.query_one("UPDATE feed_clock SET seq = seq + 1 RETURNING seq", &[]).await?.get(0);
        let changed = match expected {
            None => {
                tx.execute(
                    "INSERT INTO docs (id, seq, bytes, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                    &[&id, &next, &bytes, &now_ms],
                )
                .await?
            }
            Some(seq) => {
                tx.execute(
                    "UPDATE docs SET seq = $2, bytes = $3, updated_at = $4 WHERE id = $1 AND seq = $5",
                    &[&id, &next, &bytes, &now_ms, &(seq as i64)],
                )
                .await?
            }
        };
        if changed == 0 {
            return Err(StoreError::Conflict);
        }
        tx.commit().await?;
        Ok(next as u64)
    }

    async fn changed_since(&self, cursor: u64, limit: usize) -> Result<Vec<FeedEntry>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query("SELECT id, seq, bytes FROM docs WHERE seq > $1 ORDER BY seq LIMIT $2", &[&(cursor as i64), &(limit as i64)])
            .await?;
        Ok(rows.into_iter().map(|r| FeedEntry { id: r.get(0), seq: r.get::<_, i64>(1) as u64, bytes: r.get(2) }).collect())
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT COUNT(*) FROM docs", &[]).await?.get::<_, i64>(0) as u64)
    }

    async fn count_since(&self, cursor: u64) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT COUNT(*) FROM docs WHERE seq > $1", &[&(cursor as i64)]).await?.get::<_, i64>(0) as u64)
    }
}
