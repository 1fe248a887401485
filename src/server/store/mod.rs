//! Where the server keeps documents: the traits every store implements, and the types they share.
//! `sqlite` is the embedded default, `postgres` the store for deployments past one machine.
//!
//! A document is stored as chunks: a snapshot (`AutoCommit::save`) followed by increments (the
//! changes of one write each); concatenated, they are what `AutoCommit::load` reads. Every write
//! adds one chunk with a new `seq`, either an increment or a snapshot that replaces the document's
//! older chunks (compaction, see `crate::sync::plan_write`). The change feed is the chunk table in
//! `seq` order, so a replica that holds everything up to its cursor receives only what came after.
//!
//! Invariants every implementation keeps:
//! - a write is a compare-and-swap on the document's `seq`, so two writers never lose each other's
//!   changes (the loser reloads, merges again and retries); a batch's writes succeed or conflict
//!   one by one, and are durable when `write` returns;
//! - every write gives its chunk a `seq` larger than every `seq` committed before it, and writes
//!   become visible in `seq` order, so `feed(cursor)` never skips a chunk a later read would show.

pub mod postgres;
pub mod sqlite;

pub use sqlite::SqliteStore;

use std::collections::HashMap;

use async_trait::async_trait;

use sha2::{Digest, Sha256};

use crate::api::PhotoStatus;
use crate::domain::report::ModelFacts;
use crate::domain::{Cluster, CriteriaSet, Grant, Level, Role, Unit, UnitKind, UnitTree};
use crate::sync::{Chunk, FeedChunk, Layout};

#[derive(Debug, Clone)]
pub struct StoredDoc {
    /// The document's chunks, concatenated.
    pub bytes: Vec<u8>,
    pub seq: u64,
    pub layout: Layout,
    /// The owning unit's code, fixed by the document's first write.
    pub unit: String,
    /// In the library (recognised or beyond): readable by every signed-in user.
    pub public: bool,
}

/// Where a stored document is, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocVersion {
    pub seq: u64,
    pub unit: String,
    pub public: bool,
}

/// A signed-in device. Stored under the token's public id; of its secret part only the SHA-256
/// is kept (see `auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub username: String,
    pub verifier_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A one-time link with which a user sets their password on a new device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub username: String,
    pub verifier_hash: String,
    pub expires_at: i64,
}

/// One document write of a batch.
#[derive(Debug, Clone)]
pub struct Write {
    pub id: String,
    /// The `seq` the document must still have (`None`: it must not exist yet).
    pub expected: Option<u64>,
    pub chunk: Chunk,
    /// The document's heads after this chunk, 32 bytes each.
    pub heads: Vec<u8>,
    /// The owning unit; recorded by a document's first write, never changed by later ones.
    pub unit: String,
    /// Whether the document is in the library after this write (every write sets it).
    pub public: bool,
    /// The report facts of the document after this write (`ModelFacts::of` the merged model;
    /// `None`: not a model), stored in the same transaction (`ReportStore`).
    pub facts: Option<ModelFacts>,
    /// Who reads the document besides the readers of `unit` (reader keys, `doc_readers`):
    /// `Some` replaces the stored set in the same transaction, `None` leaves it (models have none).
    pub readers: Option<Vec<String>>,
}

/// An account: who may sign in, and the role held in each unit.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub username: String,
    pub display_name: String,
    /// argon2id PHC string (see `accounts`).
    pub password_hash: String,
    pub disabled: bool,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Default)]
pub struct FeedPage {
    pub chunks: Vec<FeedChunk>,
    /// More chunks follow the last one.
    pub more: bool,
}

/// One chunk of a photo upload (`Store::append_photo`).
#[derive(Debug, Clone)]
pub struct PhotoChunk {
    pub doc_id: String,
    /// Lowercase hex SHA-256 of the photo's bytes.
    pub id: String,
    /// Kept from the upload's first chunk.
    pub content_type: String,
    /// Where `bytes` start in the photo; must be what the store has received so far.
    pub offset: u64,
    /// The photo's whole size, declared by every chunk of its upload.
    pub total: u64,
    pub bytes: Vec<u8>,
    /// Who uploads it (kept from the first chunk).
    pub by: String,
}

/// What `Store::append_photo` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoAppend {
    /// The chunk is stored; the upload's status after it (`complete` once the last chunk arrived
    /// and the bytes hash to the id).
    Stored(PhotoStatus),
    /// Nothing written: the chunk does not start where the upload stands, or the photo is complete
    /// already; the upload's status as it is.
    OutOfStep(PhotoStatus),
    /// Nothing written: the upload was started with this other total size.
    WrongTotal(u64),
    /// The last chunk arrived but the bytes do not hash to the id: the upload is deleted (the
    /// client starts again from 0).
    Corrupt,
    /// The last chunk arrived but the bytes are not an image the server keeps
    /// (`photos::inspect`): the upload is deleted; the reason is for the user.
    NotAnImage(String),
    /// Nothing written: a new upload, and the document has `PhotoLimits::per_model` photos.
    ModelFull,
    /// Nothing written: a new upload, and its user started `PhotoLimits::per_user_day` uploads in
    /// the last 24 hours; the oldest of them leaves that window in this many milliseconds.
    UserDayFull { retry_after_ms: i64 },
}

/// Limits on new photos, checked by `Store::append_photo` in the transaction that starts an
/// upload (so concurrent uploads cannot pass them together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Photos of one document, complete or being uploaded.
    pub per_model: u64,
    /// Uploads one user started in the last 24 hours (still stored).
    pub per_user_day: u64,
}

/// The window of `PhotoLimits::per_user_day`.
pub(crate) const PHOTO_DAY_MS: i64 = 86_400_000;

/// Whether a new upload fits the limits, given the document's photos, and the uploads its user
/// started since `now_ms - PHOTO_DAY_MS` with the oldest one's time.
pub(crate) fn photo_quota(limits: &PhotoLimits, of_model: u64, of_user_today: u64, oldest_today_ms: Option<i64>, now_ms: i64) -> Result<(), PhotoAppend> {
    if of_model >= limits.per_model {
        return Err(PhotoAppend::ModelFull);
    }
    if of_user_today >= limits.per_user_day {
        let retry_after_ms = oldest_today_ms.map_or(PHOTO_DAY_MS, |t| t + PHOTO_DAY_MS - now_ms).max(0);
        return Err(PhotoAppend::UserDayFull { retry_after_ms });
    }
    Ok(())
}

/// A photo put together at completion from its chunks in order, hashed as they stream by
/// (incremental SHA-256: no second pass over the bytes).
pub(crate) struct PhotoAssembly {
    hasher: Sha256,
    bytes: Vec<u8>,
}

impl PhotoAssembly {
    pub(crate) fn new(total: u64) -> PhotoAssembly {
        PhotoAssembly { hasher: Sha256::new(), bytes: Vec::with_capacity(total as usize) }
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes.extend_from_slice(chunk);
    }

    /// The photo's bytes and the type they are, if they hash to `id` and are an image the server
    /// keeps; else the answer (the caller deletes the upload).
    pub(crate) fn finish(self, id: &str) -> Result<(Vec<u8>, &'static str), PhotoAppend> {
        if hex::encode(self.hasher.finalize()) != id {
            return Err(PhotoAppend::Corrupt);
        }
        match crate::server::photos::inspect(&self.bytes) {
            Ok(facts) => Ok((self.bytes, facts.content_type)),
            Err(reason) => Err(PhotoAppend::NotAnImage(reason)),
        }
    }
}

/// The stored state of an upload (`None`: nothing received) decides whether a chunk at `offset`
/// of `total` bytes may be appended; `Err` is the answer when it may not.
pub(crate) fn photo_step(stored: Option<(u64, u64, bool)>, offset: u64, total: u64) -> Result<(), PhotoAppend> {
    match stored {
        None if offset == 0 => Ok(()),
        None => Err(PhotoAppend::OutOfStep(PhotoStatus::default())),
        Some((_, received, true)) => Err(PhotoAppend::OutOfStep(PhotoStatus { received, complete: true })),
        Some((stored_total, _, _)) if stored_total != total => Err(PhotoAppend::WrongTotal(stored_total)),
        Some((_, received, false)) if received != offset => Err(PhotoAppend::OutOfStep(PhotoStatus { received, complete: false })),
        Some(_) => Ok(()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer stored a newer version first; reload and retry.
    #[error("document changed concurrently")]
    Conflict,
    #[error("storage error: {0}")]
    Backend(String),
}

/// Everything the server keeps, what `AppState` holds: one trait per concern below, so a part of
/// the server that needs one concern takes only that (`&dyn PhotoStore`). Both stores implement
/// every concern; `tests/store.rs` holds them to the same contract.
pub trait Store: DocStore + UnitStore + AccountStore + CriteriaStore + PhotoStore + ReportStore {}

impl<T: DocStore + UnitStore + AccountStore + CriteriaStore + PhotoStore + ReportStore> Store for T {}

/// What a store keeps of documents and the change feed.
#[async_trait]
pub trait DocStore: Send + Sync + 'static {
    /// Identifies this database; a client whose cursor belongs to another starts again from 0.
    fn server_id(&self) -> &str;
    /// The documents that exist among `ids`, whole.
    async fn load_many(&self, ids: &[String]) -> Result<HashMap<String, StoredDoc>, StoreError>;
    /// The current `seq` and owner of each document that exists among `ids` (no document bytes).
    async fn versions(&self, ids: &[String]) -> Result<HashMap<String, DocVersion>, StoreError>;
    /// Applies the writes, each a compare-and-swap; returns each one's new `seq` or `Conflict`.
    async fn write(&self, writes: Vec<Write>, now_ms: i64) -> Result<Vec<Result<u64, StoreError>>, StoreError>;
    /// Chunks with `seq` above `cursor` of documents owned by one of `units`, in `seq` order: at
    /// least one if any exist and `budget_bytes > 0`, then more while they fit in `budget_bytes`,
    /// at most `max_chunks`.
    async fn feed(&self, cursor: u64, units: &[String], budget_bytes: usize, max_chunks: usize) -> Result<FeedPage, StoreError> {
        self.feed_for(cursor, units, &[], budget_bytes, max_chunks).await
    }
    /// The same, also with the documents whose `doc_readers` hold one of `readers` (a contest's
    /// `u:<code>` and `@<username>` keys, `doc::contest::reader_keys`).
    async fn feed_for(&self, cursor: u64, units: &[String], readers: &[String], budget_bytes: usize, max_chunks: usize)
    -> Result<FeedPage, StoreError>;
    async fn count(&self) -> Result<u64, StoreError>;
    /// The highest `seq` written (0 when empty).
    async fn head(&self) -> Result<u64, StoreError>;
    /// How many documents owned by one of `units` changed after `cursor`.
    async fn count_since(&self, cursor: u64, units: &[String]) -> Result<u64, StoreError> {
        self.count_since_for(cursor, units, &[]).await
    }
    /// The same, with the documents read through `readers` (see [`DocStore::feed_for`]).
    async fn count_since_for(&self, cursor: u64, units: &[String], readers: &[String]) -> Result<u64, StoreError>;

    async fn load(&self, id: &str) -> Result<Option<StoredDoc>, StoreError> {
        Ok(self.load_many(&[id.to_string()]).await?.remove(id))
    }
}

/// What a store keeps of the organisation tree.
#[async_trait]
pub trait UnitStore: Send + Sync + 'static {
    /// The organisation tree (empty until units are imported).
    async fn unit_tree(&self) -> Result<UnitTree, StoreError>;
    /// Stores every unit and cluster of `tree` (added or updated by code), in one transaction —
    /// if the stored tree is still `based_on` (what `tree` was computed from); otherwise
    /// `Conflict`, and the caller computes again from the fresh tree. Two imports at once could
    /// otherwise each be valid and together leave a cycle.
    async fn save_units(&self, based_on: &UnitTree, tree: &UnitTree) -> Result<(), StoreError>;
}

/// What a store keeps of accounts, sessions and invitations.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Adds an account with its grants; `Conflict` if the username is taken.
    async fn create_user(&self, user: &User, now_ms: i64) -> Result<(), StoreError>;
    async fn user(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// Returns false if there is no such user.
    async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError>;
    /// Returns false if there is no such user.
    async fn set_password_hash(&self, username: &str, hash: &str) -> Result<bool, StoreError>;
    /// Every account with its grants, by username.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Replaces the user's grants and display name; returns false if there is no such user.
    async fn update_user(&self, username: &str, display_name: &str, grants: &[Grant]) -> Result<bool, StoreError>;
    async fn create_session(&self, id: &str, session: &Session) -> Result<(), StoreError>;
    /// A session with its user and grants, in one round trip to the database (every request
    /// needs both).
    async fn session_user(&self, id: &str) -> Result<Option<(Session, User)>, StoreError>;
    async fn delete_session(&self, id: &str) -> Result<(), StoreError>;
    /// Signs the user out everywhere; returns how many sessions ended.
    async fn delete_sessions(&self, username: &str) -> Result<u64, StoreError>;
    /// Stores an invitation, replacing the user's earlier ones.
    async fn save_invitation(&self, id: &str, invitation: &Invitation, now_ms: i64) -> Result<(), StoreError>;
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, StoreError>;
    /// Sets the invited user's password and deletes the invitation, in one transaction; returns the
    /// username, or `None` if the invitation does not exist or expired before `now_ms`.
    async fn accept_invitation(&self, id: &str, password_hash: &str, now_ms: i64) -> Result<Option<String>, StoreError>;
    /// Deletes sessions that expired at or before `now_ms`; returns how many.
    async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64, StoreError>;
    /// Deletes invitations that expired at or before `now_ms`; returns how many.
    async fn delete_expired_invitations(&self, now_ms: i64) -> Result<u64, StoreError>;
}

/// What a store keeps of the evaluation criteria.
#[async_trait]
pub trait CriteriaStore: Send + Sync + 'static {
    /// The evaluation criteria configured per owner kind (kinds not listed use the defaults).
    async fn criteria(&self) -> Result<Vec<CriteriaSet>, StoreError>;
    /// Replaces the criteria of one owner kind.
    async fn save_criteria(&self, set: &CriteriaSet, by: &str, now_ms: i64) -> Result<(), StoreError>;
}

/// What a store keeps of photos.
#[async_trait]
pub trait PhotoStore: Send + Sync + 'static {
    /// How much of a photo of `doc_id` is stored (`None`: nothing yet).
    async fn photo_status(&self, doc_id: &str, id: &str) -> Result<Option<PhotoStatus>, StoreError>;
    /// Appends a chunk to a photo's upload, atomically: only if the upload still stands at
    /// `chunk.offset` (a new upload at 0, within `limits`). A chunk costs its own bytes (a row of
    /// `photo_chunks`), not the photo's so far. The chunk that reaches `total` completes the photo
    /// if the bytes hash to its id and are an image (`photos::inspect`; stored once, whole, as the
    /// type found), and deletes the upload if not. The caller checks that
    /// `offset + bytes.len() <= total`.
    async fn append_photo(&self, chunk: PhotoChunk, limits: &PhotoLimits, now_ms: i64) -> Result<PhotoAppend, StoreError>;
    /// A complete photo: its content type and bytes (`None` while incomplete or absent).
    async fn photo(&self, doc_id: &str, id: &str) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    /// Complete photos uploaded before `uploaded_before_ms` not confirmed as shown by their
    /// document's current version (or whose document is gone), as (doc_id, id) in that order, at
    /// most `limit`: what the sweeper reads against the documents.
    async fn photos_to_check(&self, uploaded_before_ms: i64, limit: usize) -> Result<Vec<(String, String)>, StoreError>;
    /// Records that each photo (doc_id, id) is shown by its document at version `seq`.
    async fn confirm_photo_references(&self, photos: &[(String, String, u64)]) -> Result<(), StoreError>;
    /// Deletes a complete photo if its document is still at version `doc_seq` (`None`: the
    /// document does not exist); true if it was deleted.
    async fn delete_unreferenced_photo(&self, doc_id: &str, id: &str, doc_seq: Option<u64>) -> Result<bool, StoreError>;
    /// Deletes the uploads not complete whose last chunk came before `last_chunk_before_ms`;
    /// returns how many.
    async fn delete_abandoned_uploads(&self, last_chunk_before_ms: i64) -> Result<u64, StoreError>;
}

/// The version of the stored facts' shape: rows of another version are read again from their
/// documents by the backfill (`ModelFacts` changed shape, or how it is read from a model did).
pub const FACTS_FORMAT: i32 = 1;

/// Facts as stored: postcard, the sync envelope's encoding (a city's 78,494 rows decode in a
/// fraction of JSON's time and take about half its bytes; measured in `benches/report_server.rs`).
pub fn encode_facts(facts: &ModelFacts) -> Vec<u8> {
    postcard::to_allocvec(facts).expect("facts serialise")
}

/// `None` if the bytes are not facts of [`FACTS_FORMAT`] (treated as missing: read again).
pub fn decode_facts(bytes: &[u8]) -> Option<ModelFacts> {
    postcard::from_bytes(bytes).ok()
}

/// A document's report facts as the store holds them.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredFacts {
    /// Current: read at the document's current `seq`, in [`FACTS_FORMAT`].
    Model(Box<ModelFacts>),
    /// Current, and the document is not a model (no report counts it).
    NotAModel,
    /// None yet, of an older format, or of an older version of the document (written before
    /// migration 0009): to be read from the document.
    Missing,
}

/// One document's row of the facts table, with the document's current `seq` and owner.
#[derive(Debug, Clone, PartialEq)]
pub struct FactsRow {
    pub id: String,
    pub seq: u64,
    pub unit: String,
    pub facts: StoredFacts,
}

impl FactsRow {
    /// From a row joined to its document: the facts count only if read at the document's `seq`
    /// in the current format.
    pub(crate) fn from_parts(id: String, seq: u64, unit: String, facts_seq: Option<u64>, format: Option<i32>, facts: Option<&[u8]>) -> FactsRow {
        let current = facts_seq == Some(seq) && format == Some(FACTS_FORMAT);
        let facts = match (current, facts) {
            (false, _) => StoredFacts::Missing,
            (true, None) => StoredFacts::NotAModel,
            (true, Some(bytes)) => decode_facts(bytes).map_or(StoredFacts::Missing, |f| StoredFacts::Model(Box::new(f))),
        };
        FactsRow { id, seq, unit, facts }
    }
}

/// Facts read from a stored document by the backfill, at the `seq` it had.
#[derive(Debug, Clone)]
pub struct BackfilledFacts {
    pub id: String,
    pub seq: u64,
    pub unit: String,
    pub facts: Option<ModelFacts>,
}

/// What a store keeps for reports: the facts table (one row per document, written in the same
/// transaction as the document by `DocStore::write`, so it never disagrees with the documents),
/// and when each unit's devices last synced.
#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// Documents whose `seq` is above `cursor`, in `seq` order, at most `limit`, each with its
    /// facts as stored. Writes become visible in `seq` order (`DocStore`), so a reader that moves
    /// its cursor to the last row's `seq` never misses a later write.
    async fn facts_since(&self, cursor: u64, limit: usize) -> Result<Vec<FactsRow>, StoreError>;
    /// The rows of the documents among `ids` that exist.
    async fn facts_of(&self, ids: &[String]) -> Result<Vec<FactsRow>, StoreError>;
    /// Documents whose facts are missing (see [`StoredFacts::Missing`]), at most `limit`.
    async fn stale_facts(&self, limit: usize) -> Result<Vec<String>, StoreError>;
    /// Stores facts read by the backfill, each only if its document is still at that `seq` (a
    /// write since then stored its own); returns how many were stored.
    async fn put_facts(&self, facts: Vec<BackfilledFacts>) -> Result<usize, StoreError>;
    /// Records that devices of these units synced at `now_ms` (kept: the latest).
    async fn record_syncs(&self, units: &[String], now_ms: i64) -> Result<(), StoreError>;
    /// When the devices of each of `units` last synced (units never seen are absent).
    async fn last_syncs(&self, units: &[String]) -> Result<HashMap<String, i64>, StoreError>;
}

/// Criteria travel to and from the database as JSON text (a short list, read whole).
pub(crate) fn criteria_from_row(owner_kind: String, json: &str) -> Result<CriteriaSet, StoreError> {
    let criteria = serde_json::from_str(json).map_err(|e| StoreError::Backend(format!("criteria of {owner_kind}: {e}")))?;
    Ok(CriteriaSet { owner_kind, criteria })
}

pub(crate) fn grant_from_row(username: &str, unit: String, role: &str) -> Result<Grant, StoreError> {
    let role = Role::from_code(role).ok_or_else(|| StoreError::Backend(format!("user {username}: stored role {role} is not known")))?;
    Ok(Grant { unit, role })
}

/// The stored tree, read on `c` (a connection, or a transaction that is about to change it).
fn read_tree(c: &rusqlite::Connection) -> Result<UnitTree, StoreError> {
    let mut stmt = c.prepare_cached("SELECT code, name, kind, level, parent, cluster FROM units")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get(4)?, r.get(5)?)))?;
    let mut units = Vec::new();
    for row in rows {
        let (code, name, kind, level, parent, cluster) = row?;
        units.push(unit_from_row(code, name, &kind, &level, parent, cluster)?);
    }
    let mut stmt = c.prepare_cached("SELECT code, name, head, deputy FROM clusters")?;
    let clusters = stmt
        .query_map([], |r| Ok(Cluster { code: r.get(0)?, name: r.get(1)?, head: r.get(2)?, deputy: r.get(3)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(UnitTree::from_units(units, clusters))
}

/// A unit row as both stores keep it: kind and level by their codes.
pub(crate) fn unit_from_row(
    code: String,
    name: String,
    kind: &str,
    level: &str,
    parent: Option<String>,
    cluster: Option<String>,
) -> Result<Unit, StoreError> {
    let bad = |what: &str| StoreError::Backend(format!("unit {code}: stored {what} is not known"));
    let kind = UnitKind::parse(kind).ok_or_else(|| bad("kind"))?;
    let level = Level::from_code(level).ok_or_else(|| bad("level"))?;
    Ok(Unit { code, name, kind, level, parent, cluster })
}

/// Most writes committed in one transaction (both stores).
const GROUP_COMMIT_MAX: usize = 4_000;

pub(crate) type WriteResult = Result<Vec<Result<u64, StoreError>>, StoreError>;

/// One `Store::write` call waiting for its store's writer (SQLite thread, PostgreSQL task).
pub(crate) struct WriteJob {
    pub writes: Vec<Write>,
    pub now_ms: i64,
    pub done: tokio::sync::oneshot::Sender<WriteResult>,
}

/// Group commit: `first` and whatever else is already waiting (`try_next`), up to
/// [`GROUP_COMMIT_MAX`] writes; returns the group and its number of writes.
pub(crate) fn gather_group(first: WriteJob, mut try_next: impl FnMut() -> Option<WriteJob>) -> (Vec<WriteJob>, usize) {
    let mut count = first.writes.len();
    let mut group = vec![first];
    while count < GROUP_COMMIT_MAX {
        let Some(job) = try_next() else { break };
        count += job.writes.len();
        group.push(job);
    }
    (group, count)
}
