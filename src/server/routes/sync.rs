//! `POST /api/sync`: the batch sync endpoint (envelope in `crate::sync`).
//!
//! One request: load the request's documents (from the cache of recently used ones when it is
//! current, else from the store), apply each client's message, write every changed document in one
//! batch (compare-and-swap each; a document another writer changed meanwhile is redone from the
//! fresh copy), then read the next feed page. A document that fails is reported by id; the rest
//! go through.
//!
//! Permissions (`domain::Access`), per document: a stored document is answered only if the caller
//! reads its unit; it is changed only by its unit's cadres, or by reviewers above it within the
//! lifecycle keys (`domain::REVIEWER_KEYS`); a new document must name a unit the caller writes, or
//! be an import by a reviewer or administrator of it (`import::check_import`); no
//! change may touch the owner (`doc::owner`: the same value set by the same operation before and
//! after); the lifecycle log only grows, by steps of the caller allowed for their role
//! (`domain::check_log`). The feed carries only documents of units the caller reads, and the
//! contests the caller reads otherwise.
//!
//! Contests (root `kind` = `hoi_thi`, `doc::contest`): the kind is fixed at creation like the
//! owner; a contest is read by the readers of its organiser's unit, its judges and the readers of
//! the units in its rounds (`doc::contest::may_read`), answered to anyone else as nothing; its
//! changes are checked by `domain::contest::check_contest` on the merged result
//! ([`apply_contest`]). A model never carries a contest's keys.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use automerge::{AutoCommit, ReadDoc};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use lru::LruCache;

use crate::server::AppState;
use crate::server::session::Caller;
use crate::server::error::ApiError;
use crate::server::store::{StoreError, Write};
use crate::doc::contest::{self as contest_doc, Kind};
use crate::domain::UnitTree;
use crate::domain::report::ModelFacts;
use crate::domain::{
    Access, READER_KEYS, REVIEWER_KEYS, StepContext, check_commendations, check_evaluations, check_journal, check_log, check_replications, in_library,
    replay,
};
use crate::sync::{
    CONTENT_TYPE, DocFailure, DocMessage, FEED_BUDGET_DEFAULT, FEED_BUDGET_MAX, FEED_MAX_CHUNKS, FailureCode, Layout,
    MAX_DOCS_PER_REQUEST, PROTOCOL, StepError, SyncRequest, SyncResponse, group_feed, heads_to_bytes, plan_write,
    server_step, valid_doc_id,
};

/// How often a document write is redone when another writer got there first.
const CAS_ATTEMPTS: usize = 8;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/sync", post(sync))
}

/// Recently used documents, parsed, with the `seq` they were stored at. Bounded by count and by
/// an estimate of their memory ([`doc_weight`]), so the server's memory grows neither with the
/// number of documents stored nor with their histories; an entry is used only while the store
/// still has that `seq` (another process may have written since).
pub struct DocCache {
    inner: Mutex<CacheInner>,
    max_bytes: usize,
    idle: std::time::Duration,
}

struct CacheInner {
    docs: LruCache<String, Cached>,
    /// The sum of the entries' weights.
    bytes: usize,
}

struct Cached {
    seq: u64,
    layout: Layout,
    doc: AutoCommit,
    weight: usize,
    used: std::time::Instant,
}

/// A cached document unused this long gives way to another when the cache is over its bytes.
const CACHE_IDLE: std::time::Duration = std::time::Duration::from_secs(60);

/// Estimated memory of a parsed document, from automerge's counts (constant time): about 14 B
/// per operation and 200 B per change, measured with glibc's `mallinfo2` on realistic models (a
/// new model of 2,215 operations and 4 changes takes 31 KB; 750 one-field edits later, 197 KB,
/// though its saved size only went from 1.8 to 3.4 KB). Counting documents alone let 1,000
/// cached documents that are edited every second grow by ~0.4 MB/s (the `load` benchmark).
fn doc_weight(doc: &AutoCommit) -> usize {
    let stats = doc.stats();
    2048 + 16 * stats.num_ops as usize + 200 * stats.num_changes as usize
}

impl DocCache {
    pub fn new(capacity: usize, max_bytes: usize) -> DocCache {
        DocCache {
            inner: Mutex::new(CacheInner {
                docs: LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("non-zero")),
                bytes: 0,
            }),
            max_bytes,
            idle: CACHE_IDLE,
        }
    }

    fn take(&self, id: &str, seq: u64) -> Option<(u64, Layout, AutoCommit)> {
        let mut inner = self.inner.lock().ok()?;
        let cached = inner.docs.pop(id)?;
        inner.bytes -= cached.weight;
        (cached.seq == seq).then_some((cached.seq, cached.layout, cached.doc))
    }

    fn put(&self, id: String, seq: u64, layout: Layout, doc: AutoCommit) {
        let weight = doc_weight(&doc);
        if weight > self.max_bytes {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        // Over the budget, documents unused for a while make room, least recently used first;
        // if that is not enough, this one is not kept. Evicting recently used ones instead would
        // make a working set larger than the budget, used in turn, miss every time (LRU under a
        // cyclic pattern); this way a stable part of it stays.
        let now = std::time::Instant::now();
        while inner.bytes + weight > self.max_bytes {
            match inner.docs.peek_lru() {
                Some((_, old)) if now.duration_since(old.used) >= self.idle => {
                    let (_, old) = inner.docs.pop_lru().expect("an entry");
                    inner.bytes -= old.weight;
                }
                _ => return,
            }
        }
        inner.bytes += weight;
        // The entry it replaces, or the least recently used one when the count is reached.
        if let Some((_, old)) = inner.docs.push(id, Cached { seq, layout, doc, weight, used: now }) {
            inner.bytes -= old.weight;
        }
    }

    /// Entries and their estimated bytes.
    pub fn usage(&self) -> (usize, usize) {
        self.inner.lock().map(|i| (i.docs.len(), i.bytes)).unwrap_or_default()
    }
}

/// One request document as it came (kept to redo it after a conflict).
#[derive(Clone)]
struct Incoming {
    id: String,
    message: Vec<u8>,
    document: Option<Vec<u8>>,
}

/// One request document on its way through the handler.
struct Work {
    incoming: Incoming,
    /// The `seq` and layout the copy was stored at (`None`: not stored yet).
    base: Option<(u64, Layout)>,
    /// The owning unit recorded in the store (`None`: not stored yet).
    owner: Option<String>,
    /// In the library as stored (readable by everyone).
    public: bool,
    copy: Copy,
}

/// The server's copy of a request document, as far as it has been read.
enum Copy {
    /// From the cache, parsed.
    Parsed(AutoCommit),
    /// From the store, still to be parsed (off the async workers).
    Stored(Vec<u8>),
    /// Not stored anywhere yet.
    New,
}

/// What applying a message produced.
struct Outcome {
    id: String,
    incoming: Incoming,
    base: Option<(u64, Layout)>,
    doc: AutoCommit,
    reply: Option<Vec<u8>>,
    write: Option<Write>,
}

async fn sync(State(app): State<Arc<AppState>>, caller: Caller, body: Bytes) -> Result<Response, ApiError> {
    let req: SyncRequest = crate::sync::decode(&body)
        .map_err(|e| ApiError::BadRequest(format!("Yêu cầu đồng bộ không hợp lệ: {e}")))?;
    if req.protocol != PROTOCOL {
        return Err(ApiError::BadRequest(format!(
            "Phiên bản giao thức {} không được hỗ trợ (máy chủ dùng {PROTOCOL}); hãy tải lại ứng dụng.",
            req.protocol
        )));
    }
    if req.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(ApiError::TooLarge(format!(
            "Một lần đồng bộ tối đa {MAX_DOCS_PER_REQUEST} tài liệu (nhận {}).",
            req.docs.len()
        )));
    }
    let store = app.store.as_ref();
    let who = Arc::new(Who { username: caller.user.username.clone(), access: caller.access, tree: caller.tree });
    let access = &who.access;
    let scope = access.scope();
    let readable: Vec<String> = access.readable().map(str::to_string).collect();
    // Contests are read also by their judges and by the readers of the units in their rounds.
    let reader_keys = crate::doc::contest::reader_keys(&who.username, access);
    let same_server = req.server.as_deref() == Some(store.server_id());
    // A cursor reached under other permissions does not say what this user should hold.
    let cursor = if same_server && req.scope == scope { req.cursor } else { 0 };
    if cursor > 0 && cursor > store.head().await? {
        // Restored from an older backup: the client must offer everything again first.
        tracing::warn!(cursor, "a client is ahead of this database (restored from a backup?); it will resend its documents");
        let response = SyncResponse {
            protocol: PROTOCOL,
            server: store.server_id().to_string(),
            cursor: 0,
            scope,
            more: true,
            remaining: 0,
            rewound: true,
            docs: Vec::new(),
            feed: Vec::new(),
            errors: Vec::new(),
        };
        return Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], crate::sync::encode(&response)).into_response());
    }

    let mut replies = Vec::new();
    let mut errors = Vec::new();
    // The stored version each request document's reply reflects.
    let mut answered: HashMap<String, u64> = HashMap::new();
    let mut pending: Vec<Incoming> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for DocMessage { id, message, document } in req.docs {
        if !valid_doc_id(&id) {
            errors.push(failure(&id, FailureCode::Malformed, "Mã tài liệu không hợp lệ."));
        } else if seen.insert(id.clone()) {
            pending.push(Incoming { id, message, document });
        }
    }

    for attempt in 0..CAS_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let work = load(&app, std::mem::take(&mut pending)).await?;
        // Parsing and merging are CPU work: off the async workers.
        let who = who.clone();
        let results = tokio::task::spawn_blocking(move || work.into_iter().map(|w| apply_isolated(w, &who)).collect::<Vec<_>>())
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut outcomes = Vec::new();
        for result in results {
            match result {
                Ok(o) => outcomes.push(o),
                Err(f) => {
                    tracing::warn!(doc = %f.id, code = ?f.code, reason = %f.message, "document not synced");
                    errors.push(f);
                }
            }
        }
        let writes: Vec<Write> = outcomes.iter().filter_map(|o| o.write.clone()).collect();
        let mut written = match store.write(writes, crate::server::now_ms()).await {
            Ok(r) => r.into_iter(),
            Err(e) => {
                tracing::error!(error = %e, "store failed");
                for o in outcomes.iter().filter(|o| o.write.is_some()) {
                    errors.push(failure(&o.id, FailureCode::Unavailable, "Máy chủ tạm thời không lưu được tài liệu; sẽ thử lại."));
                }
                outcomes.retain(|o| o.write.is_none());
                Vec::new().into_iter()
            }
        };
        for o in outcomes {
            let Some(w) = &o.write else {
                // Nothing new from the client: the reply reflects the stored version.
                if let Some(r) = o.reply {
                    replies.push(DocMessage { id: o.id.clone(), message: r, document: None });
                }
                if let Some((seq, layout)) = o.base {
                    answered.insert(o.id.clone(), seq);
                    app.cache.put(o.id, seq, layout, o.doc);
                }
                continue;
            };
            match written.next() {
                Some(Ok(seq)) => {
                    let layout = Layout::after(o.base.map(|b| b.1), &w.chunk);
                    answered.insert(o.id.clone(), seq);
                    if let Some(r) = o.reply {
                        replies.push(DocMessage { id: o.id.clone(), message: r, document: None });
                    }
                    app.cache.put(o.id, seq, layout, o.doc);
                }
                Some(Err(StoreError::Conflict)) if attempt + 1 < CAS_ATTEMPTS => pending.push(o.incoming),
                _ => errors.push(failure(&o.id, FailureCode::Unavailable, "Tài liệu đang được sửa đồng thời ở nơi khác; sẽ thử lại.")),
            }
        }
    }

    // Completeness of reports: this user's units synced now (at most one write per unit per
    // `SyncMarks::EVERY` in this process; a failure to record it never fails the sync).
    let due = app.syncs.due(caller.user.grants.iter().map(|g| g.unit.as_str()));
    if !due.is_empty()
        && let Err(e) = store.record_syncs(&due, crate::server::now_ms()).await
    {
        tracing::warn!(error = %e, "could not record the units' last sync");
        app.syncs.forget(&due);
    }

    let budget = req.feed_budget.unwrap_or(FEED_BUDGET_DEFAULT).min(FEED_BUDGET_MAX) as usize;
    let page = store.feed_for(cursor, &readable, &reader_keys, budget, FEED_MAX_CHUNKS).await?;
    let next_cursor = page.chunks.last().map_or(cursor, |c| c.seq);
    let remaining = if page.more { store.count_since_for(next_cursor, &readable, &reader_keys).await? } else { 0 };
    // A request document's chunks are left out up to the version our reply was computed from; a
    // later chunk (another writer, another server) comes, since the cursor moves past it.
    let feed = group_feed(page.chunks, |c| answered.get(&c.id).is_some_and(|&seq| c.seq <= seq));
    tracing::debug!(docs = answered.len(), cursor, next_cursor, more = page.more, "sync");
    let response = SyncResponse {
        protocol: PROTOCOL,
        server: store.server_id().to_string(),
        cursor: next_cursor,
        scope,
        more: page.more,
        remaining,
        rewound: false,
        docs: replies,
        feed,
        errors,
    };
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], crate::sync::encode(&response)).into_response())
}

fn stored_corrupt(id: &str) -> DocFailure {
    failure(id, FailureCode::Corrupt, "Bản lưu trên máy chủ của tài liệu này bị hỏng; hãy báo quản trị viên.")
}

fn failure(id: &str, code: FailureCode, message: &str) -> DocFailure {
    DocFailure { id: id.to_string(), code, message: message.to_string() }
}

/// The current copy of each document: from the cache if it is still the stored version, else
/// from the store (`doc: None` with `base: Some` means "parse these bytes").
async fn load(app: &AppState, pending: Vec<Incoming>) -> Result<Vec<Work>, ApiError> {
    let ids: Vec<String> = pending.iter().map(|p| p.id.clone()).collect();
    let versions = app.store.versions(&ids).await?;
    let mut work: Vec<Work> = pending
        .into_iter()
        .map(|incoming| {
            let version = versions.get(&incoming.id);
            let owner = version.map(|v| v.unit.clone());
            let public = version.is_some_and(|v| v.public);
            match version.and_then(|v| app.cache.take(&incoming.id, v.seq)) {
                Some((seq, layout, doc)) => Work { incoming, base: Some((seq, layout)), owner, public, copy: Copy::Parsed(doc) },
                None => Work { incoming, base: None, owner, public, copy: Copy::New },
            }
        })
        .collect();
    let missing: Vec<String> = work
        .iter()
        .filter(|w| matches!(w.copy, Copy::New) && versions.contains_key(&w.incoming.id))
        .map(|w| w.incoming.id.clone())
        .collect();
    if !missing.is_empty() {
        let mut stored = app.store.load_many(&missing).await?;
        for w in &mut work {
            // Documents are never deleted, so one that vanished meanwhile stays `New`.
            if let Some(s) = stored.remove(&w.incoming.id) {
                w.base = Some((s.seq, s.layout));
                w.owner = Some(s.unit);
                w.public = s.public;
                w.copy = Copy::Stored(s.bytes);
            }
        }
    }
    Ok(work)
}

/// The signed-in user a request's documents are checked against.
struct Who {
    username: String,
    access: Access,
    /// The unit tree the access was resolved in (contests check units against it).
    tree: Arc<UnitTree>,
}

/// Applies one request document, alone: a panic inside automerge or a rule (a document crafted
/// to trigger one) fails this document with a reason, never the request or the process.
fn apply_isolated(work: Work, who: &Who) -> Result<Outcome, DocFailure> {
    let id = work.incoming.id.clone();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply(work, who))).unwrap_or_else(|panic| {
        let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
        tracing::error!(doc = %id, panic = %what.chars().take(200).collect::<String>(), "applying a document panicked");
        Err(failure(&id, FailureCode::Malformed, "Máy chủ không xử lý được tài liệu này (dữ liệu bất thường); thay đổi vẫn được giữ trên máy này."))
    })
}

fn apply(work: Work, who: &Who) -> Result<Outcome, DocFailure> {
    let access = &who.access;
    let Work { incoming, mut base, mut owner, public, copy } = work;
    let id = incoming.id.clone();
    let forbidden = |message: String| failure(&id, FailureCode::Forbidden, &message);
    // Stored under a unit the caller does not read, and not in the library: answered exactly as
    // if it did not exist (as for a random id), so nobody learns which ids exist elsewhere —
    // unless it is a contest the caller reads otherwise (a judge, a unit in its rounds:
    // `doc::contest::may_read`), which only its stored copy can tell.
    let unit_hidden = owner.as_deref().filter(|_| !matches!(copy, Copy::New)).is_some_and(|unit| !access.can_read(unit) && !public);
    let mut doc = match copy {
        Copy::Parsed(doc) => Some(doc),
        Copy::Stored(bytes) => match AutoCommit::load(&bytes) {
            Ok(doc) => Some(doc),
            // What is hidden is not reported damaged either.
            Err(_) if unit_hidden => None,
            Err(e) => {
                tracing::error!(doc = %id, error = %e, "stored document is corrupt");
                return Err(stored_corrupt(&id));
            }
        },
        Copy::New => Some(AutoCommit::new()),
    };
    let hidden = unit_hidden
        && !doc.as_ref().is_some_and(|d| {
            contest_doc::kind(d) == Kind::Contest
                && contest_doc::read_contest(d).is_ok_and(|c| contest_doc::may_read(&c, &who.username, access))
        });
    if hidden {
        base = None;
        owner = None;
        doc = Some(AutoCommit::new());
    }
    let mut doc = doc.expect("parsed, or hidden and replaced by an empty document");
    let before = doc.get_heads();
    // What the document is (model or contest) as stored, and the contest it holds: a change may
    // turn neither into the other (`kind_stamp`), and a contest's change is checked against it.
    let kind_before = contest_doc::kind_stamp(&doc);
    let contest_before = match (base.is_some(), contest_doc::kind(&doc)) {
        (true, Kind::Contest) => Some(contest_doc::read_contest(&doc).map_err(|_| stored_corrupt(&id))?),
        _ => None,
    };
    let owner_before = crate::doc::owner(&doc);
    // The append-only records as stored; unreadable only if the stored copy is damaged in a way
    // loading did not catch, and then no change is taken.
    let records_before = crate::doc::records(&doc).ok();
    if let Some(document) = &incoming.document {
        // A document sent whole: merge it first; the message then carries only the client's heads.
        doc.load_incremental(document)
            .map_err(|e| failure(&id, FailureCode::Malformed, &format!("Tài liệu gửi lên bị hỏng: {e}")))?;
    }
    let step = match server_step(&mut doc, &incoming.message) {
        Ok(step) => step,
        Err(StepError::Malformed(e)) => {
            return Err(failure(&id, FailureCode::Malformed, &format!("Dữ liệu đồng bộ của tài liệu bị hỏng: {e}")));
        }
        Err(e) => return Err(failure(&id, FailureCode::Malformed, &e.to_string())),
    };
    let heads = doc.get_heads();
    let write = if heads != before {
        // What the changes contain, bounded and read from their operations before anything
        // whose cost depends on their shape (reading the model, the rules, the history).
        let changes = crate::doc::new_changes(&mut doc, &before, crate::doc::CHANGE_LIMITS)
            .map_err(|e| failure(&id, FailureCode::TooLarge, &format!("Máy chủ không nhận thay đổi này: {e}.")))?;
        // A model never becomes a contest, nor a contest a model: the root `kind` is set by the
        // first write only (the same value by the same operation before and after).
        if base.is_some() && contest_doc::kind_stamp(&doc) != kind_before {
            return Err(forbidden("Không được đổi loại tài liệu (mô hình, hội thi); thay đổi này không được nhận.".into()));
        }
        match contest_doc::kind(&doc) {
            Kind::Model => {}
            Kind::Contest => {
                let write = apply_contest(&mut doc, &id, &before, base, owner_before, contest_before, hidden, &changes.touched, who)?;
                return Ok(Outcome { id, incoming, base, doc, reply: step.reply, write: Some(write) });
            }
            Kind::Unknown => {
                return Err(failure(&id, FailureCode::Malformed, "Tài liệu ghi một loại (kind) mà ứng dụng không biết nên không được nhận."));
            }
        }
        // A model never carries a contest's keys (half one kind, half the other).
        if let Some(key) = changes.touched.iter().find(|k| contest_doc::ONLY_KEYS.contains(&k.as_str())) {
            return Err(forbidden(format!("Mô hình không có mục “{}” (của hội thi); thay đổi này không được nhận.", key.chars().take(40).collect::<String>())));
        }
        let unit = match (base.is_some(), owner) {
            (true, Some(stored)) => {
                let roles = access.roles_for(&stored);
                if !roles.cadre && !roles.reviewer && !public {
                    return Err(forbidden(format!(
                        "Mô hình thuộc đơn vị {stored}; bạn chỉ được xem, không được sửa. Thay đổi vẫn được giữ trên máy này."
                    )));
                }
                if crate::doc::owner(&doc) != owner_before {
                    return Err(forbidden("Không được đổi đơn vị sở hữu của mô hình; thay đổi này không được nhận.".into()));
                }
                if !roles.cadre {
                    // A reviewer records the review; anyone may add a replication point to a
                    // model in the library; the content is the unit's.
                    let mut allowed: Vec<&str> = Vec::new();
                    if roles.reviewer {
                        allowed.extend(REVIEWER_KEYS);
                    }
                    if public {
                        allowed.extend(READER_KEYS);
                    }
                    if changes.touched.iter().any(|k| !allowed.contains(&k.as_str())) {
                        return Err(forbidden(if roles.reviewer {
                            "Người bình xét chỉ ghi các bước bình xét; nội dung mô hình do cán bộ của đơn vị sửa. Thay đổi vẫn được giữ trên máy này."
                                .into()
                        } else {
                            format!("Mô hình thuộc đơn vị {stored}; bạn chỉ được xem và ghi điểm nhân rộng. Thay đổi vẫn được giữ trên máy này.")
                        }));
                    }
                }
                stored
            }
            _ => match crate::doc::owner(&doc) {
                // Creating a document under an id that exists in a unit one cannot read (said
                // only to someone who may create models, and only after every other check).
                Some((unit, _)) if may_create(access, &unit, &doc) && hidden => {
                    return Err(forbidden(format!("Mã mô hình này đã được dùng ở nơi khác; hãy tạo lại mô hình cho đơn vị {unit}.")));
                }
                Some((unit, _)) if may_create(access, &unit, &doc) => unit,
                Some((unit, _)) => {
                    return Err(forbidden(format!("Bạn không có quyền tạo mô hình cho đơn vị {}.", unit.chars().take(40).collect::<String>())));
                }
                None => return Err(forbidden("Mô hình chưa ghi rõ một đơn vị sở hữu nên không được nhận.".into())),
            },
        };
        // Every device must be able to read what it receives: a document the app's own reader
        // refuses would stay unreadable on every device of the unit, for good.
        let model = crate::doc::read_model(&doc).map_err(|e| {
            failure(&id, FailureCode::Malformed, &format!("Mô hình không đúng cấu trúc của ứng dụng nên không được nhận (chi tiết: {e})."))
        })?;
        let Some(was) = &records_before else { return Err(stored_corrupt(&id)) };
        let roles = access.roles_for(&unit);
        let creating = base.is_none();
        if creating && !access.can_write(&unit) && model.imported.is_none() {
            // Let in as an import (`may_create`), but it is none.
            return Err(forbidden(format!("Bạn không có quyền tạo mô hình cho đơn vị {}.", unit.chars().take(40).collect::<String>())));
        }
        // Compared by value: writing a whole model into an older document adds `imported: null`,
        // which changes nothing.
        if !creating && was.imported != model.imported {
            return Err(forbidden("Nguồn nhập của mô hình (tệp, dòng, người nhập) không được sửa; thay đổi này không được nhận.".into()));
        }
        // What reports count of it, stored with the document (`ReportStore`).
        let facts = ModelFacts::of(&model);
        // A model brought in from an older list: its whole recorded history at once, in the
        // importer's name, with the rights that history needs (`import::check_import`), instead
        // of the rules for what one change may add to a model.
        let imported = creating && model.imported.is_some();
        if imported {
            crate::import::check_import(&model, &who.username, access, crate::server::now_ms()).map_err(forbidden)?;
        }
        // The records as the model just read holds them (reading them again would hydrate twice).
        let now = crate::doc::Records::from(model);
        // Which steps each new step's writer had already received (automerge's change graph).
        let new_steps: std::collections::HashSet<&str> =
            now.transitions.iter().filter(|t| !was.transitions.iter().any(|o| o.id == t.id)).map(|t| t.id.as_str()).collect();
        let context = StepContext { now_ms: crate::server::now_ms(), seen: crate::doc::steps_seen(&mut doc, &new_steps) };
        if !imported {
            check_log(&was.transitions, &now.transitions, &who.username, roles, &context).map_err(forbidden)?;
            check_commendations(&was.commendations, &now.commendations, &who.username, roles).map_err(forbidden)?;
            check_evaluations(&was.evaluations, &now.evaluations, &who.username, roles).map_err(forbidden)?;
            check_replications(&was.replications, &now.replications, &who.username, |u| access.can_write(u)).map_err(forbidden)?;
            check_journal(&was.journal, &now.journal, &who.username, roles).map_err(forbidden)?;
        }
        let public_after = in_library(replay(&now.transitions).0);
        // Entering the library, the document is stored whole (a snapshot), so that the feed
        // brings it complete to readers who never held it.
        let layout = if public_after && !public { None } else { base.map(|b| b.1) };
        let chunk = plan_write(&mut doc, &before, layout).map_err(|e| match e {
            StepError::TooLarge(n) => {
                failure(&id, FailureCode::TooLarge, &format!("Tài liệu quá lớn ({} KB) nên máy chủ không nhận.", n / 1024))
            }
            e => failure(&id, FailureCode::Malformed, &e.to_string()),
        })?;
        Some(Write {
            id: id.clone(),
            expected: base.map(|b| b.0),
            chunk,
            heads: heads_to_bytes(&heads),
            unit,
            public: public_after,
            facts: Some(facts),
            readers: None,
        })
    } else {
        None
    };
    Ok(Outcome { id, incoming, base, doc, reply: step.reply, write })
}

/// A change to a contest (issue 16), after the bounds and the kind were checked: the owner
/// stays, only the contest's keys are touched, the result is a contest every device reads
/// (`doc::contest::read_contest`), and `domain::contest::check_contest` accepts what it did
/// (`before`: the contest as stored; none when the change creates it). The write records who
/// reads it besides the organiser's unit (`doc::contest::readers`); when that set grows the
/// document is stored whole, so the feed brings it complete to readers who never held it.
#[allow(clippy::too_many_arguments)]
fn apply_contest(
    doc: &mut AutoCommit,
    id: &str,
    before_heads: &[automerge::ChangeHash],
    base: Option<(u64, Layout)>,
    owner_before: Option<(String, automerge::ObjId)>,
    before: Option<crate::domain::contest::Contest>,
    hidden: bool,
    touched: &std::collections::BTreeSet<String>,
    who: &Who,
) -> Result<Write, DocFailure> {
    let forbidden = |message: String| failure(id, FailureCode::Forbidden, &message);
    let access = &who.access;
    let organises = |unit: &str| access.can_review(unit) || access.can_manage(unit);
    let unit = match (base.is_some(), crate::doc::owner(doc)) {
        (true, now) => {
            if now != owner_before {
                return Err(forbidden("Không được đổi đơn vị tổ chức của hội thi; thay đổi này không được nhận.".into()));
            }
            now.map(|(u, _)| u).ok_or_else(|| stored_corrupt(id))?
        }
        // Creating under an id that exists where the caller cannot read: said only to someone
        // who may create contests there (as for models).
        (false, Some((unit, _))) if hidden && organises(&unit) => {
            return Err(forbidden(format!("Mã hội thi này đã được dùng ở nơi khác; hãy tạo lại hội thi cho đơn vị {unit}.")));
        }
        (false, Some((unit, _))) => unit,
        (false, None) => return Err(forbidden("Hội thi chưa ghi rõ đơn vị tổ chức nên không được nhận.".into())),
    };
    if let Some(key) = touched.iter().find(|k| !contest_doc::KEYS.contains(&k.as_str())) {
        return Err(forbidden(format!("Hội thi không có mục “{}”; thay đổi này không được nhận.", key.chars().take(40).collect::<String>())));
    }
    if base.is_some() && touched.iter().any(|k| k == "schema") {
        return Err(forbidden("Không được đổi phiên bản của tài liệu hội thi.".into()));
    }
    let after = contest_doc::read_contest(doc).map_err(|e| {
        failure(id, FailureCode::Malformed, &format!("Hội thi không đúng cấu trúc của ứng dụng nên không được nhận (chi tiết: {e})."))
    })?;
    if after.id != id {
        return Err(failure(id, FailureCode::Malformed, "Mã hội thi trong tài liệu khác mã đồng bộ."));
    }
    crate::domain::contest::check_contest(before.as_ref(), &after, &who.username, access, &who.tree).map_err(forbidden)?;
    let readers = contest_doc::readers(&after);
    let grew = before.as_ref().is_some_and(|b| {
        let old = contest_doc::readers(b);
        readers.iter().any(|r| !old.contains(r))
    });
    let layout = if grew { None } else { base.map(|b| b.1) };
    let chunk = plan_write(doc, before_heads, layout).map_err(|e| match e {
        StepError::TooLarge(n) => failure(id, FailureCode::TooLarge, &format!("Tài liệu quá lớn ({} KB) nên máy chủ không nhận.", n / 1024)),
        e => failure(id, FailureCode::Malformed, &e.to_string()),
    })?;
    Ok(Write {
        id: id.to_string(),
        expected: base.map(|b| b.0),
        chunk,
        heads: heads_to_bytes(&doc.get_heads()),
        unit,
        public: false,
        facts: None,
        readers: Some(readers),
    })
}

/// Whether the caller may create a document owned by `unit`: its cadres, and — for a model
/// brought in by import (`imported` set; `check_import` then decides what it may hold) — the
/// reviewers and administrators of the unit.
fn may_create(access: &Access, unit: &str, doc: &AutoCommit) -> bool {
    access.can_write(unit)
        || ((access.can_review(unit) || access.can_manage(unit))
            && matches!(doc.get(automerge::ROOT, "imported"), Ok(Some((automerge::Value::Object(_), _)))))
}

/// A document as the store holds it, for [`apply_document`].
pub struct StoredDoc {
    pub bytes: Vec<u8>,
    pub seq: u64,
    pub layout: Layout,
    /// The owning unit recorded at its first write.
    pub unit: String,
    /// In the library.
    pub public: bool,
}

/// What `/api/sync` does to one request document, without the store or the cache: the same
/// `apply` the handler runs (every rule of "Records: the rules the server enforces"), on a copy
/// parsed from `stored` (`None`: an id not stored yet). Returns the reply to send and the write
/// the handler would commit. Public so the fuzz targets (`tests/fuzz`) drive exactly the
/// server's step; not isolated by `catch_unwind` here, so that a panic is found, not hidden.
pub fn apply_document(
    stored: Option<StoredDoc>,
    id: &str,
    message: &[u8],
    document: Option<&[u8]>,
    username: &str,
    access: Access,
) -> Result<(Option<Vec<u8>>, Option<Write>), DocFailure> {
    let incoming = Incoming { id: id.to_string(), message: message.to_vec(), document: document.map(<[u8]>::to_vec) };
    let work = match stored {
        Some(s) => Work { incoming, base: Some((s.seq, s.layout)), owner: Some(s.unit), public: s.public, copy: Copy::Stored(s.bytes) },
        None => Work { incoming, base: None, owner: None, public: false, copy: Copy::New },
    };
    let who = Who { username: username.to_string(), access, tree: Arc::new(UnitTree::default()) };
    apply(work, &who).map(|o| (o.reply, o.write))
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;

    use super::*;

    fn doc(text_len: usize) -> AutoCommit {
        let mut d = AutoCommit::new();
        d.put(automerge::ROOT, "text", "x".repeat(text_len)).unwrap();
        d.commit();
        d
    }

    fn layout() -> Layout {
        Layout { increments: 0, snapshot_bytes: 1, increment_bytes: 0 }
    }

    #[test]
    fn the_cache_keeps_to_its_bytes_and_lets_idle_documents_go_first() {
        let w = doc_weight(&doc(10));
        let mut cache = DocCache::new(100, 3 * w);
        for i in 0..3 {
            cache.put(format!("d{i}"), 1, layout(), doc(10));
        }
        assert_eq!(cache.usage(), (3, 3 * w));
        // Full, and nothing idle: a fourth is not kept, the three stay.
        cache.put("d3".into(), 1, layout(), doc(10));
        assert_eq!(cache.usage(), (3, 3 * w));
        assert!(cache.take("d3", 1).is_none());
        // A document taken makes room for another; a stale seq is not answered.
        assert!(cache.take("d0", 1).is_some());
        cache.put("d3".into(), 1, layout(), doc(10));
        assert!(cache.take("d1", 2).is_none(), "another writer stored d1 since");
        assert_eq!(cache.usage(), (2, 2 * w));
        // Idle documents give way, least recently used first.
        cache.idle = std::time::Duration::ZERO;
        cache.put("d4".into(), 1, layout(), doc(10));
        cache.put("d5".into(), 1, layout(), doc(10));
        assert_eq!(cache.usage(), (3, 3 * w));
        assert!(cache.take("d2", 1).is_none(), "the least recently used went first");
        assert!(cache.take("d5", 1).is_some());
        // A document heavier than the whole budget is never kept.
        let mut big = doc(10);
        for k in 0..(3 * w / 200) {
            big.put(automerge::ROOT, "owner_name", format!("{k}")).unwrap();
            big.commit();
        }
        cache.put("big".into(), 1, layout(), big);
        assert!(cache.take("big", 1).is_none());
    }

    #[test]
    fn a_document_weighs_more_as_its_history_grows() {
        let mut d = doc(10);
        let before = doc_weight(&d);
        for k in 0..100 {
            d.put(automerge::ROOT, "owner_name", format!("{k}")).unwrap();
            d.commit();
        }
        assert!(doc_weight(&d) >= before + 100 * 200, "{before} → {}", doc_weight(&d));
    }
}
