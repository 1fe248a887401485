//! `POST /api/reports` (a `ReportRequest` answered with a `ReportSheet`, both JSON) and `GET
//! /api/reports/completeness` (when each unit's devices last synced): a province's report, which
//! no phone should hold the models for, computed by the server with the device's own code
//! (`ReportRequest::run`) over the facts table (`store::ReportStore`).
//!
//! Permissions: a report covers only what the caller reads (`domain::Access::can_read`, their
//! grants; the library does not widen it). A unit the caller does not read is refused (403) with
//! no figure; a cluster keeps only its members the caller reads (none: 403); the facts and the
//! tree the report is computed over hold only readable units, so no figure, row, coverage count
//! or name of another unit comes back.
//!
//! Facts are kept in memory per process ([`FactsCache`]) and brought up to date from the store
//! before every report by `seq` (the documents written since the last look), so several
//! stateless servers over one PostgreSQL database answer alike. Facts missing from the table
//! (documents written before it existed, while the start-up backfill runs) are read from the
//! documents themselves, so a report is right before the backfill ends too.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::api::{Completeness, UnitSync};
use crate::domain::report::{ModelFacts, ReportRequest, ReportSheet, Scope};
use crate::domain::{Access, Date, Unit, UnitTree};
use crate::server::AppState;
use crate::server::error::ApiError;
use crate::server::session::Caller;
use crate::server::store::{BackfilledFacts, FactsRow, Store, StoreError, StoredFacts};

/// Periods a report may ask for (a date outside is a typing error, not a review).
const YEARS: std::ops::RangeInclusive<u16> = 1900..=2200;
/// The longest key of a clicked pivot cell (unit codes are at most 40 characters; field codes,
/// years and states are shorter).
const MAX_CELL_KEY: usize = 100;
/// Rows read from the facts table per query while catching up.
const FACTS_PAGE: usize = 10_000;
/// Documents the backfill reads per batch.
const BACKFILL_BATCH: usize = 500;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/reports", post(report)).route("/api/reports/completeness", get(completeness))
}

async fn report(State(app): State<Arc<AppState>>, caller: Caller, body: Bytes) -> Result<Json<ReportSheet>, ApiError> {
    let request: ReportRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("Yêu cầu báo cáo không hợp lệ: {e}")))?;
    check_request(&request)?;
    let (tree, units) = readable_scope(&caller.tree, &caller.access, &request.scope)?;
    let (at, facts) = app.facts.current(app.store.as_ref(), |unit| units.contains(unit)).await?;
    // The same request over the same facts, tree and readable units is the same sheet.
    let key = SheetKey { request: request.clone(), at, tree: caller.tree.clone(), readable: caller.access.readable().map(str::to_string).collect() };
    if let Some(sheet) = app.sheets.get(&key) {
        return Ok(Json(ReportSheet::clone(&sheet)));
    }
    // Computing a city's report is CPU work: off the async workers.
    let sheet = tokio::task::spawn_blocking(move || request.run(&tree, facts.iter().map(|f| f.as_ref())))
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let sheet = Arc::new(sheet);
    app.sheets.put(key, sheet.clone());
    Ok(Json(ReportSheet::clone(&sheet)))
}

/// What a sheet is computed from: the request, the facts as of `at`, the unit tree (held,
/// so its address is not reused while the entry lives) and the units the caller reads.
struct SheetKey {
    request: ReportRequest,
    at: FactsAt,
    tree: Arc<UnitTree>,
    readable: Vec<String>,
}

impl SheetKey {
    fn same(&self, other: &SheetKey) -> bool {
        self.at == other.at && Arc::ptr_eq(&self.tree, &other.tree) && self.request == other.request && self.readable == other.readable
    }
}

/// The last few sheets computed (a province's dashboard opened by many reviewers, a user going
/// back and forth): any write moves the cursor, so an entry is never stale, only unused.
#[derive(Default)]
pub struct SheetCache {
    entries: Mutex<std::collections::VecDeque<(SheetKey, Arc<ReportSheet>)>>,
}

impl SheetCache {
    /// Sheets kept (a city's is under 1 MB).
    const KEPT: usize = 16;

    fn get(&self, key: &SheetKey) -> Option<Arc<ReportSheet>> {
        let entries = self.entries.lock().ok()?;
        entries.iter().find(|(k, _)| k.same(key)).map(|(_, s)| s.clone())
    }

    fn put(&self, key: SheetKey, sheet: Arc<ReportSheet>) {
        if let Ok(mut entries) = self.entries.lock() {
            // Entries of an older cursor can never be asked for again.
            entries.retain(|(k, _)| k.at >= key.at && !k.same(&key));
            if entries.len() == Self::KEPT {
                entries.pop_front();
            }
            entries.push_back((key, sheet));
        }
    }
}

#[derive(Deserialize)]
struct CompletenessQuery {
    unit: Option<String>,
    cluster: Option<String>,
}

async fn completeness(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    query: Result<Query<CompletenessQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Completeness>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(format!("Tham số không hợp lệ: {e}")))?;
    let scope = match (query.unit, query.cluster) {
        (Some(unit), None) => Scope::Unit(unit),
        (None, Some(cluster)) => Scope::Cluster(cluster),
        _ => return Err(ApiError::BadRequest("Hãy chọn một đơn vị (unit=…) hoặc một cụm thi đua (cluster=…).".into())),
    };
    let (tree, units) = readable_scope(&caller.tree, &caller.access, &scope)?;
    let mut listed: Vec<&Unit> = tree.units().filter(|u| units.contains(&u.code)).collect();
    listed.sort_by(|a, b| a.name.cmp(&b.name).then(a.code.cmp(&b.code)));
    let codes: Vec<String> = listed.iter().map(|u| u.code.clone()).collect();
    let last = app.store.last_syncs(&codes).await?;
    Ok(Json(Completeness {
        now_ms: crate::server::now_ms(),
        units: listed
            .into_iter()
            .map(|u| UnitSync { code: u.code.clone(), name: u.name.clone(), level: u.level, last_sync_ms: last.get(&u.code).copied() })
            .collect(),
    }))
}

/// Bad input gets its own reason (Vietnamese, for the user).
fn check_request(request: &ReportRequest) -> Result<(), ApiError> {
    let bad = |m: String| Err(ApiError::BadRequest(m));
    let (from, to) = (request.period.from, request.period.to);
    for day in [from, to] {
        if !YEARS.contains(&day.year) {
            return bad(format!("Năm {} nằm ngoài khoảng báo cáo ({}–{}).", day.year, YEARS.start(), YEARS.end()));
        }
        let iso = format!("{:04}-{:02}-{:02}", day.year, day.month, day.day);
        if Date::parse(&iso) != Some(day) {
            return bad(format!("Ngày {:02}/{:02}/{} không có thật.", day.day, day.month, day.year));
        }
    }
    if to < from {
        return bad(format!("Ngày kết thúc ({to}) phải sau ngày bắt đầu ({from})."));
    }
    if let Some((row, column)) = &request.cell
        && (row.chars().count() > MAX_CELL_KEY || column.chars().count() > MAX_CELL_KEY)
    {
        return bad(format!("Ô được chọn của bảng có mã quá dài (tối đa {MAX_CELL_KEY} ký tự)."));
    }
    Ok(())
}

/// What a report of `scope` may cover for this caller: the tree of the units they read (a unit
/// whose parent they do not read becomes a root) and the units of the scope among them. Unknown
/// units or clusters are bad input (400); a scope with nothing readable is forbidden (403).
fn readable_scope(tree: &UnitTree, access: &Access, scope: &Scope) -> Result<(UnitTree, HashSet<String>), ApiError> {
    let shown = |code: &str| code.chars().take(40).collect::<String>();
    let members: Vec<&str> = match scope {
        Scope::Unit(code) => {
            if tree.get(code).is_none() {
                return Err(ApiError::BadRequest(format!("Không có đơn vị mã “{}”.", shown(code))));
            }
            if !access.can_read(code) {
                return Err(ApiError::Forbidden(format!(
                    "Bạn không được xem báo cáo của đơn vị “{}”: báo cáo chỉ gồm các đơn vị bạn được xem.",
                    shown(code)
                )));
            }
            vec![code.as_str()]
        }
        Scope::Cluster(code) => {
            if !tree.clusters().any(|c| &c.code == code) {
                return Err(ApiError::BadRequest(format!("Không có cụm thi đua mã “{}”.", shown(code))));
            }
            let readable: Vec<&str> =
                tree.units().filter(|u| u.cluster.as_deref() == Some(code.as_str()) && access.can_read(&u.code)).map(|u| u.code.as_str()).collect();
            if readable.is_empty() {
                return Err(ApiError::Forbidden(format!(
                    "Bạn không được xem đơn vị nào của cụm thi đua “{}”: báo cáo chỉ gồm các đơn vị bạn được xem.",
                    shown(code)
                )));
            }
            readable
        }
    };
    let readable = tree.only(|code| access.can_read(code));
    let in_scope: HashSet<String> = members.iter().flat_map(|m| readable.subtree(m)).map(|u| u.code.clone()).collect();
    Ok((readable, in_scope))
}

/// Which facts a report was computed from: the `seq` read up to, within a generation that starts
/// again when the database turns out to have been restored (so a sheet of before a restore is
/// never taken for one of after, whatever the cursor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FactsAt {
    pub generation: u64,
    pub cursor: u64,
}

/// The facts of every document, in memory, as of the store's latest `seq` seen.
#[derive(Default)]
pub struct FactsCache {
    state: tokio::sync::Mutex<Facts>,
}

#[derive(Default)]
struct Facts {
    /// How many times the facts were read again from scratch (a restored database).
    generation: u64,
    /// The highest document `seq` read.
    cursor: u64,
    models: HashMap<String, Arc<ModelFacts>>,
    /// Documents whose facts the table lacks (read from the documents on the next look).
    missing: BTreeSet<String>,
}

impl Facts {
    fn take(&mut self, row: FactsRow) {
        match row.facts {
            StoredFacts::Model(f) => {
                self.missing.remove(&row.id);
                self.models.insert(row.id, Arc::new(*f));
            }
            StoredFacts::NotAModel => {
                self.missing.remove(&row.id);
                self.models.remove(&row.id);
            }
            StoredFacts::Missing => {
                self.models.remove(&row.id);
                self.missing.insert(row.id);
            }
        }
    }
}

impl FactsCache {
    /// The facts of the models whose unit passes `keep`, with everything committed before the
    /// call (one caller catches up at a time; the others wait for it and then read the result).
    /// Returns what they are current to, with them.
    pub async fn current(&self, store: &dyn Store, keep: impl Fn(&str) -> bool) -> Result<(FactsAt, Vec<Arc<ModelFacts>>), StoreError> {
        let mut state = self.state.lock().await;
        // A database restored from an older backup is behind what was read (as `/api/sync`
        // tells a client that is ahead): what is kept may be gone, and later writes are numbered
        // below the cursor, so read everything again.
        if state.cursor > 0 && store.head().await? < state.cursor {
            tracing::warn!(cursor = state.cursor, "the database is behind the report facts read (restored from a backup?); reading them again");
            *state = Facts { generation: state.generation + 1, ..Facts::default() };
        }
        loop {
            let rows = store.facts_since(state.cursor, FACTS_PAGE).await?;
            let full = rows.len() == FACTS_PAGE;
            for row in rows {
                state.cursor = state.cursor.max(row.seq);
                state.take(row);
            }
            if !full {
                break;
            }
        }
        if !state.missing.is_empty() {
            let ids: Vec<String> = state.missing.iter().cloned().collect();
            for batch in ids.chunks(FACTS_PAGE) {
                for row in store.facts_of(batch).await? {
                    state.take(row);
                }
            }
            // Still missing from the table: read from the documents (a later write of one has a
            // `seq` above the cursor, so the next look replaces what is read here).
            let ids: Vec<String> = state.missing.iter().cloned().collect();
            for batch in ids.chunks(BACKFILL_BATCH) {
                for f in read_facts(store, batch).await? {
                    state.missing.remove(&f.id);
                    match f.facts {
                        Some(facts) => state.models.insert(f.id, Arc::new(facts)),
                        None => state.models.remove(&f.id),
                    };
                }
            }
        }
        let at = FactsAt { generation: state.generation, cursor: state.cursor };
        Ok((at, state.models.values().filter(|f| keep(&f.unit)).cloned().collect()))
    }
}

/// The facts of stored documents, read from their bytes (off the async workers); a document the
/// app's reader refuses is not a model (`facts: None`).
async fn read_facts(store: &dyn Store, ids: &[String]) -> Result<Vec<BackfilledFacts>, StoreError> {
    let docs = store.load_many(ids).await?;
    tokio::task::spawn_blocking(move || {
        docs.into_iter()
            .map(|(id, d)| {
                let facts = automerge::AutoCommit::load(&d.bytes).ok().and_then(|doc| crate::doc::read_model(&doc).ok()).map(|m| ModelFacts::of(&m));
                BackfilledFacts { id, seq: d.seq, unit: d.unit, facts }
            })
            .collect()
    })
    .await
    .map_err(|e| StoreError::Backend(e.to_string()))
}

/// Fills the facts table for documents written before it existed (or whose facts are of an
/// older format), in batches, in the background: serving does not wait for it, and reports are
/// right meanwhile ([`FactsCache`]). Returns how many rows it stored.
pub async fn backfill(store: &dyn Store) -> Result<usize, StoreError> {
    let mut stored = 0;
    let mut previous: Vec<String> = Vec::new();
    loop {
        let ids = store.stale_facts(BACKFILL_BATCH).await?;
        if ids.is_empty() {
            return Ok(stored);
        }
        let facts = read_facts(store, &ids).await?;
        let n = store.put_facts(facts).await?;
        if n == 0 && ids == previous {
            // Every one changed again since it was read, twice: writes store their own facts,
            // so leave these to them rather than loop.
            tracing::warn!(documents = ids.len(), "report facts backfill stopped: the same documents keep changing");
            return Ok(stored);
        }
        stored += n;
        previous = ids;
    }
}

/// Starts the backfill, then reads the facts into this process's cache, so the first report
/// does not pay for it.
pub fn spawn_upkeep(app: Arc<AppState>) {
    tokio::spawn(async move {
        let started = Instant::now();
        match backfill(app.store.as_ref()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(documents = n, ms = started.elapsed().as_millis() as u64, "report facts backfilled"),
            Err(e) => tracing::error!(error = %e, "report facts backfill failed; reports read missing facts from the documents"),
        }
        if let Err(e) = app.facts.current(app.store.as_ref(), |_| false).await {
            tracing::warn!(error = %e, "could not read the report facts ahead of the first report");
        }
    });
}

/// When this process last recorded a sync of each unit (so a sync does not always mean a write).
#[derive(Default)]
pub struct SyncMarks {
    marks: Mutex<HashMap<String, Instant>>,
}

impl SyncMarks {
    /// At most one recorded sync per unit per this long per process: completeness is read in
    /// days ("not synced for N days"), so ten minutes is precise enough.
    pub const EVERY: Duration = Duration::from_secs(600);

    /// Of `units`, those whose sync is due to be recorded now (and marks them).
    pub fn due<'a>(&self, units: impl Iterator<Item = &'a str>) -> Vec<String> {
        let Ok(mut marks) = self.marks.lock() else { return Vec::new() };
        let now = Instant::now();
        let mut due = Vec::new();
        for unit in units {
            if marks.get(unit).is_none_or(|at| now.duration_since(*at) >= Self::EVERY) {
                marks.insert(unit.to_string(), now);
                due.push(unit.to_string());
            }
        }
        due
    }

    /// After recording failed: try again at the next sync.
    pub fn forget(&self, units: &[String]) {
        if let Ok(mut marks) = self.marks.lock() {
            for u in units {
                marks.remove(u);
            }
        }
    }
}
