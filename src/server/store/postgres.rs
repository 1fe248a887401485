//! PostgreSQL store, for deployments past one machine: several stateless `danvan-server` processes
//! over one database.
//!
//! Ordering of the change feed across processes: every write takes the next number from the single
//! row of `feed_clock` (`UPDATE … RETURNING`), whose row lock is held until the write commits. So
//! writes commit in `seq` order, and a reader never sees `seq` N+1 before N is visible; a client
//! that has everything up to its cursor needs exactly `changed_since(cursor)`. The price is that
//! writes of different documents are serialised on that row. So each process commits through one
//! writer task that takes every batch waiting when the previous commit ends and writes them in one
//! transaction (group commit): the row is taken once per group, not once per document.

use async_trait::async_trait;
use deadpool_postgres::{Manager, Pool};
use tokio_postgres::NoTls;

use std::collections::HashMap;

use super::{AccountStore, CriteriaStore, DocStore, PhotoStore, ReportStore, UnitStore,
    BackfilledFacts, FACTS_FORMAT, FactsRow, encode_facts,
    DocVersion, FeedPage, Invitation, PHOTO_DAY_MS, PhotoAppend, PhotoAssembly, PhotoChunk, PhotoLimits, Session, StoreError,
    StoredDoc, User, Write, WriteJob, criteria_from_row, gather_group, grant_from_row, photo_quota, photo_step, unit_from_row,
};
use crate::api::PhotoStatus;
use crate::domain::{Cluster, CriteriaSet, Grant, Unit, UnitTree};
use crate::sync::{FeedChunk, Layout};

/// The schema, one `.sql` file per version in `migrations/postgres/`, applied in order; the
/// database records how many it has applied (never edit one that has shipped: add the next).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/0001_documents.sql"),
    include_str!("migrations/postgres/0002_chunks.sql"),
    include_str!("migrations/postgres/0003_units.sql"),
    include_str!("migrations/postgres/0004_accounts.sql"),
    include_str!("migrations/postgres/0005_owners_sessions_invitations.sql"),
    include_str!("migrations/postgres/0006_library_criteria.sql"),
    include_str!("migrations/postgres/0007_photos.sql"),
    include_str!("migrations/postgres/0008_photo_chunks.sql"),
    include_str!("migrations/postgres/0009_report_facts.sql"),
    include_str!("migrations/postgres/0010_doc_readers.sql"),
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
    writer: tokio::sync::mpsc::UnboundedSender<WriteJob>,
}

async fn run_writer(pool: Pool, mut jobs: tokio::sync::mpsc::UnboundedReceiver<WriteJob>) {
    while let Some(first) = jobs.recv().await {
        let (group, count) = gather_group(first, || jobs.try_recv().ok());
        // One batch for the group; each job gets back its own slice of the results.
        let sizes: Vec<usize> = group.iter().map(|j| j.writes.len()).collect();
        let mut writes = Vec::with_capacity(count);
        let mut replies = Vec::with_capacity(group.len());
        for job in group {
            writes.extend(job.writes);
            replies.push((job.now_ms, job.done));
        }
        let now_ms = replies.iter().map(|r| r.0).max().unwrap_or(0);
        match write_batch(&pool, &writes, now_ms).await {
            Ok(results) => {
                let mut results = results.into_iter();
                for (n, (_, done)) in sizes.into_iter().zip(replies) {
                    let _ = done.send(Ok(results.by_ref().take(n).collect()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = count, "group commit failed");
                for (_, done) in replies {
                    let _ = done.send(Err(StoreError::Backend(e.to_string())));
                }
            }
        }
    }
}

impl PostgresStore {
    /// Connects, applies pending migrations (one process at a time) and reads the server id.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let (url, root_cert) = crate::server::tls::take_sslrootcert(url);
        let config: tokio_postgres::Config =
            url.parse().map_err(|e: tokio_postgres::Error| StoreError::Backend(format!("invalid database URL: {e}")))?;
        // TLS only when the URL asks for it: with the default `prefer`, a database with a
        // self-signed certificate (Debian's default) would fail verification where it worked.
        let manager = if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            let tls = crate::server::tls::postgres_connector(root_cert.as_deref()).map_err(|e| StoreError::Backend(format!("{e:#}")))?;
            Manager::new(config, tls)
        } else {
            Manager::new(config, NoTls)
        };
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
        let (writer, jobs) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(run_writer(pool.clone(), jobs));
        Ok(PostgresStore { pool, server_id, writer })
    }
}

#[async_trait]
impl DocStore for PostgresStore {
    fn server_id(&self) -> &str {
        &self.server_id
    }

    async fn load_many(&self, ids: &[String]) -> Result<HashMap<String, StoredDoc>, StoreError> {
        let mut client = self.pool.get().await?;
        // REPEATABLE READ: the document rows and their chunks come from one snapshot.
        let tx = client.build_transaction().isolation_level(tokio_postgres::IsolationLevel::RepeatableRead).start().await?;
        let mut out: HashMap<String, StoredDoc> = HashMap::new();
        for r in tx
            .query("SELECT id, seq, increments, snapshot_bytes, increment_bytes, unit, public FROM docs WHERE id = ANY($1)", &[&ids])
            .await?
        {
            let layout = Layout {
                increments: r.get::<_, i32>(2) as u32,
                snapshot_bytes: r.get::<_, i64>(3) as u64,
                increment_bytes: r.get::<_, i64>(4) as u64,
            };
            out.insert(r.get(0), StoredDoc { bytes: Vec::new(), seq: r.get::<_, i64>(1) as u64, layout, unit: r.get(5), public: r.get(6) });
        }
        for r in tx.query("SELECT doc_id, bytes FROM chunks WHERE doc_id = ANY($1) ORDER BY doc_id, seq", &[&ids]).await? {
            if let Some(doc) = out.get_mut(r.get::<_, &str>(0)) {
                doc.bytes.extend_from_slice(r.get::<_, &[u8]>(1));
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn versions(&self, ids: &[String]) -> Result<HashMap<String, DocVersion>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT id, seq, unit, public FROM docs WHERE id = ANY($1)", &[&ids]).await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), DocVersion { seq: r.get::<_, i64>(1) as u64, unit: r.get(2), public: r.get(3) }))
            .collect())
    }

    async fn write(&self, writes: Vec<Write>, now_ms: i64) -> Result<Vec<Result<u64, StoreError>>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let (done, result) = tokio::sync::oneshot::channel();
        self.writer
            .send(WriteJob { writes, now_ms, done })
            .map_err(|_| StoreError::Backend("the writer task stopped".into()))?;
        result.await.map_err(|_| StoreError::Backend("the writer task stopped".into()))?
    }

    async fn feed_for(&self, cursor: u64, units: &[String], readers: &[String], budget_bytes: usize, max_chunks: usize) -> Result<FeedPage, StoreError> {
        if budget_bytes == 0 || max_chunks == 0 {
            return Ok(FeedPage::default());
        }
        let client = self.pool.get().await?;
        // Chunk sizes first, so only the page's bytes are read.
        let sizes = client
            .query(
                "SELECT c.seq, length(c.bytes) FROM chunks c JOIN docs d ON d.id = c.doc_id
                 WHERE c.seq > $1 AND (d.public OR d.unit = ANY($3) OR d.id IN (SELECT doc_id FROM doc_readers WHERE reader = ANY($4)))
                 ORDER BY c.seq LIMIT $2",
                &[&(cursor as i64), &((max_chunks + 1) as i64), &units, &readers],
            )
            .await?;
        let mut upto = None;
        let mut total = 0usize;
        let mut count = 0usize;
        for r in &sizes {
            if count == max_chunks || (total >= budget_bytes && count > 0) {
                break;
            }
            total += r.get::<_, i32>(1) as usize;
            count += 1;
            upto = Some(r.get::<_, i64>(0));
        }
        let Some(upto) = upto else { return Ok(FeedPage::default()) };
        let rows = client
            .query(
                "SELECT c.seq, c.doc_id, c.snapshot, c.bytes, c.heads FROM chunks c JOIN docs d ON d.id = c.doc_id
                 WHERE c.seq > $1 AND c.seq <= $2 AND (d.public OR d.unit = ANY($3) OR d.id IN (SELECT doc_id FROM doc_readers WHERE reader = ANY($4)))
                 ORDER BY c.seq",
                &[&(cursor as i64), &upto, &units, &readers],
            )
            .await?;
        let chunks = rows
            .into_iter()
            .map(|r| FeedChunk {
                seq: r.get::<_, i64>(0) as u64,
                id: r.get(1),
                snapshot: r.get(2),
                bytes: r.get(3),
                heads: r.get(4),
            })
            .collect();
        Ok(FeedPage { chunks, more: count < sizes.len() })
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT COUNT(*) FROM docs", &[]).await?.get::<_, i64>(0) as u64)
    }

    async fn head(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT seq FROM feed_clock", &[]).await?.get::<_, i64>(0) as u64)
    }

    async fn count_since_for(&self, cursor: u64, units: &[String], readers: &[String]) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*) FROM docs WHERE seq > $1 AND (public OR unit = ANY($2) OR id IN (SELECT doc_id FROM doc_readers WHERE reader = ANY($3)))",
                &[&(cursor as i64), &units, &readers],
            )
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}

#[async_trait]
impl UnitStore for PostgresStore {
    async fn unit_tree(&self) -> Result<UnitTree, StoreError> {
        let client = self.pool.get().await?;
        let client: &tokio_postgres::Client = &client;
        read_tree(client).await
    }

    async fn save_units(&self, based_on: &UnitTree, tree: &UnitTree) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // One import at a time across processes: the check below and the save are one step.
        tx.execute("LOCK TABLE units, clusters IN SHARE ROW EXCLUSIVE MODE", &[]).await?;
        let stored = {
            let tx: &tokio_postgres::Transaction<'_> = &tx;
            read_tree(tx).await?
        };
        if &stored != based_on {
            return Err(StoreError::Conflict);
        }
        let unit = tx
            .prepare(
                "INSERT INTO units (code, name, kind, level, parent, cluster) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (code) DO UPDATE SET name = $2, kind = $3, level = $4, parent = $5, cluster = $6",
            )
            .await?;
        for u in tree.units() {
            let u: &Unit = u;
            tx.execute(&unit, &[&u.code, &u.name, &u.kind.code(), &u.level.code(), &u.parent, &u.cluster]).await?;
        }
        let cluster = tx
            .prepare(
                "INSERT INTO clusters (code, name, head, deputy) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO UPDATE SET name = $2, head = $3, deputy = $4",
            )
            .await?;
        for k in tree.clusters() {
            tx.execute(&cluster, &[&k.code, &k.name, &k.head, &k.deputy]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_user(&self, user: &User, now_ms: i64) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                "INSERT INTO users (username, display_name, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (username) DO NOTHING",
                &[&user.username, &user.display_name, &user.password_hash, &user.disabled, &now_ms],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::Conflict);
        }
        insert_grants(&tx, &user.username, &user.grants).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let client = self.pool.get().await?;
        let Some(r) = client
            .query_opt("SELECT username, display_name, password_hash, disabled FROM users WHERE username = $1", &[&username])
            .await?
        else {
            return Ok(None);
        };
        let mut user = User { username: r.get(0), display_name: r.get(1), password_hash: r.get(2), disabled: r.get(3), grants: Vec::new() };
        user.grants = grants_of(&client, username).await?;
        Ok(Some(user))
    }

    async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.execute("UPDATE users SET disabled = $2 WHERE username = $1", &[&username, &disabled]).await? == 1)
    }

    async fn set_password_hash(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.execute("UPDATE users SET password_hash = $2 WHERE username = $1", &[&username, &hash]).await? == 1)
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let client = self.pool.get().await?;
        let mut users: Vec<User> = client
            .query("SELECT username, display_name, password_hash, disabled FROM users ORDER BY username", &[])
            .await?
            .into_iter()
            .map(|r| User { username: r.get(0), display_name: r.get(1), password_hash: r.get(2), disabled: r.get(3), grants: Vec::new() })
            .collect();
        for user in &mut users {
            user.grants = grants_of(&client, &user.username).await?;
        }
        Ok(users)
    }

    async fn update_user(&self, username: &str, display_name: &str, grants: &[Grant]) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        if tx.execute("UPDATE users SET display_name = $2 WHERE username = $1", &[&username, &display_name]).await? == 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM grants WHERE username = $1", &[&username]).await?;
        insert_grants(&tx, username, grants).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_session(&self, id: &str, session: &Session) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO sessions (id, verifier_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&id, &session.verifier_hash, &session.username, &session.created_at, &session.expires_at],
            )
            .await?;
        Ok(())
    }

    async fn session_user(&self, id: &str) -> Result<Option<(Session, User)>, StoreError> {
        let client = self.pool.get().await?;
        let Some(r) = client
            .query_opt(
                "SELECT s.username, s.verifier_hash, s.created_at, s.expires_at, u.display_name, u.password_hash, u.disabled
                 FROM sessions s JOIN users u ON u.username = s.username WHERE s.id = $1",
                &[&id],
            )
            .await?
        else {
            return Ok(None);
        };
        let session = Session { username: r.get(0), verifier_hash: r.get(1), created_at: r.get(2), expires_at: r.get(3) };
        let grants = grants_of(&client, &session.username).await?;
        let user = User { username: r.get(0), display_name: r.get(4), password_hash: r.get(5), disabled: r.get(6), grants };
        Ok(Some((session, user)))
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client.execute("DELETE FROM sessions WHERE id = $1", &[&id]).await?;
        Ok(())
    }

    async fn delete_sessions(&self, username: &str) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.execute("DELETE FROM sessions WHERE username = $1", &[&username]).await?)
    }

    async fn save_invitation(&self, id: &str, invitation: &Invitation, now_ms: i64) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM invitations WHERE username = $1", &[&invitation.username]).await?;
        tx.execute(
            "INSERT INTO invitations (id, verifier_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&id, &invitation.verifier_hash, &invitation.username, &now_ms, &invitation.expires_at],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, StoreError> {
        let client = self.pool.get().await?;
        let row =
            client.query_opt("SELECT username, verifier_hash, expires_at FROM invitations WHERE id = $1", &[&id]).await?;
        Ok(row.map(|r| Invitation { username: r.get(0), verifier_hash: r.get(1), expires_at: r.get(2) }))
    }

    async fn accept_invitation(&self, id: &str, password_hash: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt("DELETE FROM invitations WHERE id = $1 AND expires_at > $2 RETURNING username", &[&id, &now_ms])
            .await?;
        let username: Option<String> = row.map(|r| r.get(0));
        if let Some(u) = &username {
            tx.execute("UPDATE users SET password_hash = $2 WHERE username = $1", &[u, &password_hash]).await?;
        }
        tx.commit().await?;
        Ok(username)
    }

    async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now_ms]).await?)
    }

    async fn delete_expired_invitations(&self, now_ms: i64) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        Ok(client.execute("DELETE FROM invitations WHERE expires_at <= $1", &[&now_ms]).await?)
    }
}

#[async_trait]
impl CriteriaStore for PostgresStore {
    async fn criteria(&self) -> Result<Vec<CriteriaSet>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT owner_kind, criteria FROM criteria ORDER BY owner_kind", &[]).await?;
        rows.into_iter().map(|r| criteria_from_row(r.get(0), r.get::<_, &str>(1))).collect()
    }

    async fn save_criteria(&self, set: &CriteriaSet, by: &str, now_ms: i64) -> Result<(), StoreError> {
        let json = serde_json::to_string(&set.criteria).map_err(|e| StoreError::Backend(e.to_string()))?;
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO criteria (owner_kind, criteria, updated_by, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (owner_kind) DO UPDATE SET criteria = $2, updated_by = $3, updated_at = $4",
                &[&set.owner_kind, &json, &by, &now_ms],
            )
            .await?;
        Ok(())
    }
}

#[async_trait]
impl PhotoStore for PostgresStore {
    async fn photo_status(&self, doc_id: &str, id: &str) -> Result<Option<PhotoStatus>, StoreError> {
        let client = self.pool.get().await?;
        Ok(photo_row(&client, doc_id, id).await?.map(|(_, received, complete)| PhotoStatus { received, complete }))
    }

    async fn append_photo(&self, chunk: PhotoChunk, limits: &PhotoLimits, now_ms: i64) -> Result<PhotoAppend, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let (offset, total) = (chunk.offset as i64, chunk.total as i64);
        let received = offset + chunk.bytes.len() as i64;
        // A conditional update: moves the upload on only where it still stands at `offset`, and
        // keeps its row locked until commit (a concurrent chunk waits, then finds it moved).
        let moved = tx
            .execute(
                "UPDATE photos SET received = $3, updated_at = $4
                 WHERE doc_id = $1 AND id = $2 AND received = $5 AND total = $6 AND NOT complete",
                &[&chunk.doc_id, &chunk.id, &received, &now_ms, &offset, &total],
            )
            .await?
            == 1;
        if !moved {
            match photo_row(&tx, &chunk.doc_id, &chunk.id).await? {
                None if offset == 0 => {
                    // The limits are counted under locks of the model and of the user (taken in
                    // this order), so two new uploads cannot both take the last place.
                    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&format!("photos of doc {}", chunk.doc_id)]).await?;
                    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&format!("photos by {}", chunk.by)]).await?;
                    let of_model: i64 = tx.query_one("SELECT COUNT(*) FROM photos WHERE doc_id = $1", &[&chunk.doc_id]).await?.get(0);
                    let today = tx
                        .query_one(
                            "SELECT COUNT(*), MIN(created_at) FROM photos WHERE created_by = $1 AND created_at > $2",
                            &[&chunk.by, &(now_ms - PHOTO_DAY_MS)],
                        )
                        .await?;
                    let (of_user, oldest): (i64, Option<i64>) = (today.get(0), today.get(1));
                    if let Err(answer) = photo_quota(limits, of_model as u64, of_user as u64, oldest, now_ms) {
                        tx.rollback().await?;
                        return Ok(answer);
                    }
                    // A concurrent first chunk that got there first wins (DO NOTHING waits for
                    // it), and this one is then out of step.
                    let inserted = tx
                        .execute(
                            "INSERT INTO photos (doc_id, id, content_type, total, received, complete, created_by, created_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7, $7)
                             ON CONFLICT (doc_id, id) DO NOTHING",
                            &[&chunk.doc_id, &chunk.id, &chunk.content_type, &total, &received, &chunk.by, &now_ms],
                        )
                        .await?;
                    if inserted == 0 {
                        let stored = photo_row(&tx, &chunk.doc_id, &chunk.id).await?;
                        tx.rollback().await?;
                        return Ok(refused(stored, &chunk));
                    }
                }
                stored => {
                    tx.rollback().await?;
                    return Ok(refused(stored, &chunk));
                }
            }
        }
        let insert_chunk = "INSERT INTO photo_chunks (doc_id, id, byte_offset, bytes) VALUES ($1, $2, $3, $4)";
        if received < total {
            tx.execute(insert_chunk, &[&chunk.doc_id, &chunk.id, &offset, &chunk.bytes]).await?;
            tx.commit().await?;
            return Ok(PhotoAppend::Stored(PhotoStatus { received: received as u64, complete: false }));
        }
        // The last chunk: the chunks stored and this one make the photo, checked, then kept as one
        // row in place of the chunks.
        let mut assembly = PhotoAssembly::new(chunk.total);
        for row in tx
            .query("SELECT bytes FROM photo_chunks WHERE doc_id = $1 AND id = $2 ORDER BY byte_offset", &[&chunk.doc_id, &chunk.id])
            .await?
        {
            assembly.push(row.get::<_, &[u8]>(0));
        }
        assembly.push(&chunk.bytes);
        tx.execute("DELETE FROM photo_chunks WHERE doc_id = $1 AND id = $2", &[&chunk.doc_id, &chunk.id]).await?;
        let (bytes, content_type) = match assembly.finish(&chunk.id) {
            Ok(photo) => photo,
            Err(answer) => {
                tx.execute("DELETE FROM photos WHERE doc_id = $1 AND id = $2", &[&chunk.doc_id, &chunk.id]).await?;
                tx.commit().await?;
                return Ok(answer);
            }
        };
        tx.execute(insert_chunk, &[&chunk.doc_id, &chunk.id, &0i64, &bytes]).await?;
        tx.execute(
            "UPDATE photos SET complete = TRUE, content_type = $3 WHERE doc_id = $1 AND id = $2",
            &[&chunk.doc_id, &chunk.id, &content_type],
        )
        .await?;
        tx.commit().await?;
        Ok(PhotoAppend::Stored(PhotoStatus { received: received as u64, complete: true }))
    }

    async fn photo(&self, doc_id: &str, id: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT p.content_type, c.bytes FROM photos p
                 JOIN photo_chunks c ON c.doc_id = p.doc_id AND c.id = p.id AND c.byte_offset = 0
                 WHERE p.doc_id = $1 AND p.id = $2 AND p.complete",
                &[&doc_id, &id],
            )
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn photos_to_check(&self, uploaded_before_ms: i64, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT p.doc_id, p.id FROM photos p LEFT JOIN docs d ON d.id = p.doc_id
                 WHERE p.complete AND p.created_at < $1 AND (d.seq IS NULL OR p.checked_seq IS DISTINCT FROM d.seq)
                 ORDER BY p.doc_id, p.id LIMIT $2",
                &[&uploaded_before_ms, &(limit as i64)],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn confirm_photo_references(&self, photos: &[(String, String, u64)]) -> Result<(), StoreError> {
        if photos.is_empty() {
            return Ok(());
        }
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let update = tx.prepare("UPDATE photos SET checked_seq = $3 WHERE doc_id = $1 AND id = $2").await?;
        for (doc_id, id, seq) in photos {
            tx.execute(&update, &[doc_id, id, &(*seq as i64)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_unreferenced_photo(&self, doc_id: &str, id: &str, doc_seq: Option<u64>) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let doc_seq = doc_seq.map(|s| s as i64);
        let deleted = tx
            .execute(
                "DELETE FROM photos WHERE doc_id = $1 AND id = $2 AND complete
                    AND (SELECT seq FROM docs WHERE id = $1) IS NOT DISTINCT FROM $3",
                &[&doc_id, &id, &doc_seq],
            )
            .await?
            == 1;
        if deleted {
            tx.execute("DELETE FROM photo_chunks WHERE doc_id = $1 AND id = $2", &[&doc_id, &id]).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn delete_abandoned_uploads(&self, last_chunk_before_ms: i64) -> Result<u64, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let gone = tx
            .query("DELETE FROM photos WHERE NOT complete AND updated_at < $1 RETURNING doc_id, id", &[&last_chunk_before_ms])
            .await?;
        let delete_chunks = tx.prepare("DELETE FROM photo_chunks WHERE doc_id = $1 AND id = $2").await?;
        for row in &gone {
            tx.execute(&delete_chunks, &[&row.get::<_, &str>(0), &row.get::<_, &str>(1)]).await?;
        }
        tx.commit().await?;
        Ok(gone.len() as u64)
    }
}

/// Why a chunk was not appended, from the upload as read after the attempt (if it changed in
/// between and would now take the chunk, the client is told where it stands and sends again).
fn refused(stored: Option<(u64, u64, bool)>, chunk: &PhotoChunk) -> PhotoAppend {
    photo_step(stored, chunk.offset, chunk.total).err().unwrap_or_else(|| {
        let (received, complete) = stored.map_or((0, false), |(_, r, c)| (r, c));
        PhotoAppend::OutOfStep(PhotoStatus { received, complete })
    })
}

/// A photo's upload: (total, received, complete).
async fn photo_row(client: &impl deadpool_postgres::GenericClient, doc_id: &str, id: &str) -> Result<Option<(u64, u64, bool)>, StoreError> {
    let row = client.query_opt("SELECT total, received, complete FROM photos WHERE doc_id = $1 AND id = $2", &[&doc_id, &id]).await?;
    Ok(row.map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64, r.get(2))))
}

async fn insert_grants(tx: &tokio_postgres::Transaction<'_>, username: &str, grants: &[Grant]) -> Result<(), StoreError> {
    for g in grants {
        tx.execute("INSERT INTO grants (username, unit, role) VALUES ($1, $2, $3)", &[&username, &g.unit, &g.role.code()]).await?;
    }
    Ok(())
}

async fn grants_of(client: &tokio_postgres::Client, username: &str) -> Result<Vec<Grant>, StoreError> {
    let rows = client.query("SELECT unit, role FROM grants WHERE username = $1 ORDER BY unit", &[&username]).await?;
    rows.into_iter().map(|g| grant_from_row(username, g.get(0), g.get(1))).collect()
}

/// Writes a batch in one transaction: each write a compare-and-swap, the feed clock taken once.
async fn write_batch(pool: &Pool, writes: &[Write], now_ms: i64) -> Result<Vec<Result<u64, StoreError>>, StoreError> {
    if writes.is_empty() {
        return Ok(Vec::new());
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // The feed clock first: writers take turns from here to commit, so what this batch reads of
    // the documents below is what the previous writer committed. Without it, two processes
    // creating one new document both found no row (nothing to lock) and the second overwrote the
    // first; now the second finds the row and loses (a conflict, redone against the stored copy).
    tx.query_one("SELECT seq FROM feed_clock FOR UPDATE", &[]).await?;
    // Lock the documents in id order, check each one's seq, then advance the clock once for all
    // winners.
    let mut order: Vec<usize> = (0..writes.len()).collect();
    order.sort_by(|&a, &b| writes[a].id.cmp(&writes[b].id));
    let mut current: HashMap<String, (i64, i32, i64)> = HashMap::new();
    let ids: Vec<&str> = order.iter().map(|&i| writes[i].id.as_str()).collect();
    for r in tx
        .query("SELECT id, seq, increments, increment_bytes FROM docs WHERE id = ANY($1) ORDER BY id FOR UPDATE", &[&ids])
        .await?
    {
        current.insert(r.get(0), (r.get(1), r.get(2), r.get(3)));
    }
    let mut results: Vec<Result<u64, StoreError>> = (0..writes.len()).map(|_| Err(StoreError::Conflict)).collect();
    let mut winners = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &i in &order {
        let w = &writes[i];
        // Two writes of one document in one batch: the first wins, the second sees a conflict.
        if seen.insert(w.id.as_str()) && current.get(&w.id).map(|c| c.0 as u64) == w.expected {
            winners.push(i);
        }
    }
    if winners.is_empty() {
        tx.rollback().await?;
        return Ok(results);
    }
    let n = winners.len() as i64;
    let last: i64 = tx.query_one("UPDATE feed_clock SET seq = seq + $1 RETURNING seq", &[&n]).await?.get(0);
    let insert_chunk = tx.prepare("INSERT INTO chunks (seq, doc_id, snapshot, bytes, heads) VALUES ($1, $2, $3, $4, $5)").await?;
    let drop_older = tx.prepare("DELETE FROM chunks WHERE doc_id = $1 AND seq < $2").await?;
    let upsert = tx
        .prepare(
            "INSERT INTO docs (id, seq, updated_at, increments, snapshot_bytes, increment_bytes, unit, public)
             VALUES ($1, $2, $3, $4, $5, $6, $8, $9)
             ON CONFLICT (id) DO UPDATE SET seq = $2, updated_at = $3, increments = $4,
                snapshot_bytes = CASE WHEN $7 THEN $5 ELSE docs.snapshot_bytes END, increment_bytes = $6, public = $9",
        )
        .await?;
    let put_facts = tx.prepare(FACTS_UPSERT).await?;
    let clear_readers = tx.prepare("DELETE FROM doc_readers WHERE doc_id = $1").await?;
    let add_reader = tx.prepare("INSERT INTO doc_readers (doc_id, reader) VALUES ($1, $2) ON CONFLICT DO NOTHING").await?;
    for (k, &i) in winners.iter().enumerate() {
        let w = &writes[i];
        let seq = last - n + 1 + k as i64;
        let len = w.chunk.bytes.len() as i64;
        tx.execute(&insert_chunk, &[&seq, &w.id, &w.chunk.snapshot, &w.chunk.bytes, &w.heads]).await?;
        let (increments, increment_bytes) = if w.chunk.snapshot {
            tx.execute(&drop_older, &[&w.id, &seq]).await?;
            (0i32, 0i64)
        } else {
            let (_, n, b) = current.get(&w.id).copied().unwrap_or((0, 0, 0));
            (n + 1, b + len)
        };
        tx.execute(&upsert, &[&w.id, &seq, &now_ms, &increments, &len, &increment_bytes, &w.chunk.snapshot, &w.unit, &w.public]).await?;
        // The facts in the document's own transaction: the table never disagrees with it.
        tx.execute(&put_facts, &[&w.id, &seq, &w.unit, &FACTS_FORMAT, &w.facts.as_ref().map(encode_facts)]).await?;
        if let Some(readers) = &w.readers {
            tx.execute(&clear_readers, &[&w.id]).await?;
            for r in readers {
                tx.execute(&add_reader, &[&w.id, r]).await?;
            }
        }
        results[i] = Ok(seq as u64);
    }
    tx.commit().await?;
    Ok(results)
}

const FACTS_UPSERT: &str = "INSERT INTO report_facts (doc_id, seq, unit, format, facts) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (doc_id) DO UPDATE SET seq = $2, unit = $3, format = $4, facts = $5";

/// `SELECT` of documents with their facts rows, for [`FactsRow::from_parts`].
const FACTS_SELECT: &str = "SELECT d.id, d.seq, d.unit, f.seq, f.format, f.facts FROM docs d LEFT JOIN report_facts f ON f.doc_id = d.id";

fn facts_row(r: &tokio_postgres::Row) -> FactsRow {
    FactsRow::from_parts(
        r.get(0),
        r.get::<_, i64>(1) as u64,
        r.get(2),
        r.get::<_, Option<i64>>(3).map(|s| s as u64),
        r.get(4),
        r.get::<_, Option<&[u8]>>(5),
    )
}

#[async_trait]
impl ReportStore for PostgresStore {
    async fn facts_since(&self, cursor: u64, limit: usize) -> Result<Vec<FactsRow>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(&format!("{FACTS_SELECT} WHERE d.seq > $1 ORDER BY d.seq LIMIT $2"), &[&(cursor as i64), &(limit as i64)])
            .await?;
        Ok(rows.iter().map(facts_row).collect())
    }

    async fn facts_of(&self, ids: &[String]) -> Result<Vec<FactsRow>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query(&format!("{FACTS_SELECT} WHERE d.id = ANY($1) ORDER BY d.seq"), &[&ids]).await?;
        Ok(rows.iter().map(facts_row).collect())
    }

    async fn stale_facts(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT d.id FROM docs d LEFT JOIN report_facts f ON f.doc_id = d.id
                 WHERE f.doc_id IS NULL OR f.seq <> d.seq OR f.format <> $1 ORDER BY d.seq LIMIT $2",
                &[&FACTS_FORMAT, &(limit as i64)],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn put_facts(&self, mut facts: Vec<BackfilledFacts>) -> Result<usize, StoreError> {
        // Rows locked in id order, as the writer locks them: the two never deadlock.
        facts.sort_by(|a, b| a.id.cmp(&b.id));
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let put = tx.prepare(FACTS_UPSERT).await?;
        let mut stored = 0;
        for f in &facts {
            // Only where the document is still at the seq read: a write since then stored its own
            // facts (the row lock makes the check and the store one step against a writer).
            let lock = tx.query_opt("SELECT seq FROM docs WHERE id = $1 FOR UPDATE", &[&f.id]).await?;
            if lock.map(|r| r.get::<_, i64>(0)) != Some(f.seq as i64) {
                continue;
            }
            stored += tx.execute(&put, &[&f.id, &(f.seq as i64), &f.unit, &FACTS_FORMAT, &f.facts.as_ref().map(encode_facts)]).await? as usize;
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn record_syncs(&self, units: &[String], now_ms: i64) -> Result<(), StoreError> {
        if units.is_empty() {
            return Ok(());
        }
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO unit_syncs (unit, last_sync_ms) SELECT u, $2 FROM unnest($1::text[]) AS u
                 ON CONFLICT (unit) DO UPDATE SET last_sync_ms = GREATEST(unit_syncs.last_sync_ms, EXCLUDED.last_sync_ms)",
                &[&units, &now_ms],
            )
            .await?;
        Ok(())
    }

    async fn last_syncs(&self, units: &[String]) -> Result<HashMap<String, i64>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT unit, last_sync_ms FROM unit_syncs WHERE unit = ANY($1)", &[&units]).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

/// The stored tree, read on `c` (a pooled connection, or a transaction about to change it).
async fn read_tree(c: &impl tokio_postgres::GenericClient) -> Result<UnitTree, StoreError> {
    let mut units = Vec::new();
    for r in c.query("SELECT code, name, kind, level, parent, cluster FROM units", &[]).await? {
        units.push(unit_from_row(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))?);
    }
    let clusters = c
        .query("SELECT code, name, head, deputy FROM clusters", &[])
        .await?
        .into_iter()
        .map(|r| Cluster { code: r.get(0), name: r.get(1), head: r.get(2), deputy: r.get(3) })
        .collect();
    Ok(UnitTree::from_units(units, clusters))
}
