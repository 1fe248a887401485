//! Importing a model list straight into the store (`danvan-server import-models FILE --as USER`):
//! the path for a province's whole list (78,494 rows), which a browser would take minutes over.
//!
//! The same planning as on a device (`crate::import::plan`, with `check_import` on every row,
//! against the named user's grants in the current tree), then each good row becomes an ordinary
//! automerge document of its unit, written through `DocStore::write` with its report facts, so
//! the feed carries it to the unit's devices like any other. Invariants: nothing is written while
//! any row is wrong unless `good_rows_only` is asked for; a row whose id the store already holds
//! is left as it is (importing the same file twice creates nothing), also when another import
//! creates it meanwhile (the write's compare-and-swap then loses and it counts as already there).

use std::time::Instant;

use crate::domain::report::ModelFacts;
use crate::domain::{Access, RowError, UnitTree, in_library, replay};
use crate::import::read::{read_file, read_upload};
use crate::import::{Mapping, PlannedModel, Target, history_message};
use crate::server::store::User;
use crate::server::store::{Store, StoreError, Write};

/// Documents per store batch: one transaction each (group commit).
const BATCH: usize = 1_000;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Import the good rows even though others are wrong (they are listed, not imported).
    pub good_rows_only: bool,
    /// Read and check only; write nothing.
    pub dry_run: bool,
    /// What a header goes into, for headers not recognised: `(header, column code or "bo_qua")`.
    pub columns: Vec<(String, String)>,
    /// What every column holds, by position, as chosen in the app's mapping step; replaces the
    /// guess (and `columns`) when given, and must have one entry per header.
    pub mapping: Option<Vec<Target>>,
    /// The file came over the network: read with `read_upload` (only the formats whose reading
    /// is bounded by the file's real content).
    pub uploaded: bool,
    /// The fields (lĩnh vực) the units added to the standard ones, as the importing device has them.
    pub custom_fields: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOutcome {
    /// Rows that held data.
    pub rows: usize,
    pub created: usize,
    /// Good rows whose model the store already held (an earlier import of the same list).
    pub already: usize,
    pub errors: Vec<RowError>,
    pub unknown_units: Vec<String>,
    /// Whether anything was written.
    pub written: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("không có tài khoản “{0}”")]
    NoUser(String),
    #[error("tài khoản “{0}” đang bị khóa")]
    Disabled(String),
    #[error("{0}")]
    Read(#[from] crate::import::read::ReadError),
    #[error("cột của tệp chưa rõ:\n  {}", .0.join("\n  "))]
    Columns(Vec<String>),
    #[error("cách ghép cột gửi kèm có {sent} cột, tệp có {headers} cột: hãy chọn lại tệp")]
    MappingMismatch { sent: usize, headers: usize },
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Reading or planning panicked (a bug; the file is not at fault as far as anyone knows).
    #[error("lỗi nội bộ khi đọc tệp: {0}")]
    Crashed(String),
}

/// Applies `--column HEADER=code` choices to the guessed mapping.
fn apply_columns(mapping: &mut Mapping, headers: &[String], columns: &[(String, String)]) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (header, code) in columns {
        let Some(index) = headers.iter().position(|h| h.trim() == header.trim()) else {
            problems.push(format!("Tệp không có cột “{header}” (--column)."));
            continue;
        };
        // "ignore" too, for English speakers; a column is never mapped to "not chosen" here.
        let target = if code == "ignore" { Some(Target::Ignore) } else { Target::from_code(code).filter(|t| *t != Target::Unknown) };
        let Some(target) = target else {
            let codes: Vec<&str> = crate::import::Column::ALL.iter().map(|c| c.code()).collect();
            problems.push(format!("“{code}” không phải mã cột; hãy dùng bo_qua hoặc một trong: {}.", codes.join(", ")));
            continue;
        };
        mapping.set(index, target);
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// Reads, checks and (unless refused) writes one file's models as `username` (the command line).
pub async fn import_models(
    store: &dyn Store,
    username: &str,
    file_name: &str,
    bytes: Vec<u8>,
    options: &ImportOptions,
    now_ms: i64,
) -> Result<ImportOutcome, ImportFailure> {
    let user = store.user(username).await?.ok_or_else(|| ImportFailure::NoUser(username.to_string()))?;
    let tree = std::sync::Arc::new(store.unit_tree().await?);
    import_models_as(store, &user, tree, file_name, bytes, options, now_ms).await
}

/// The same for an account already at hand (the app's upload, signed in as `user`), against the
/// unit tree `tree`.
pub async fn import_models_as(
    store: &dyn Store,
    user: &User,
    tree: std::sync::Arc<UnitTree>,
    file_name: &str,
    bytes: Vec<u8>,
    options: &ImportOptions,
    now_ms: i64,
) -> Result<ImportOutcome, ImportFailure> {
    if user.disabled {
        return Err(ImportFailure::Disabled(user.username.clone()));
    }
    let user = user.clone();
    let started = Instant::now();
    let file_name = file_name.to_string();
    let options = options.clone();
    // Reading and planning are CPU work: off the async threads.
    let (plan, planned_in) = tokio::task::spawn_blocking(move || -> Result<_, ImportFailure> {
        let sheet = if options.uploaded { read_upload(&file_name, &bytes)? } else { read_file(&file_name, &bytes)? };
        drop(bytes);
        let mapping = match options.mapping {
            Some(targets) if targets.len() != sheet.headers.len() => {
                return Err(ImportFailure::MappingMismatch { sent: targets.len(), headers: sheet.headers.len() });
            }
            Some(targets) => Mapping(targets),
            None => {
                let mut mapping = Mapping::guess(&sheet.headers);
                apply_columns(&mut mapping, &sheet.headers, &options.columns).map_err(ImportFailure::Columns)?;
                mapping
            }
        };
        let problems = mapping.problems(&sheet.headers);
        if !problems.is_empty() {
            return Err(ImportFailure::Columns(problems));
        }
        let access = Access::new(&user.grants, &tree);
        let who = crate::import::Importer {
            username: &user.username,
            display_name: &user.display_name,
            access: &access,
            tree: &tree,
            custom_fields: &options.custom_fields,
            file_name: &file_name,
            now_ms,
        };
        Ok((crate::import::plan(&sheet, &mapping, &who), started.elapsed()))
    })
    .await
    .map_err(|e| ImportFailure::Crashed(e.to_string()))??;
    tracing::info!(rows = plan.rows, good = plan.models.len(), bad = plan.bad_rows(), ms = planned_in.as_millis() as u64, "import planned");
    let mut outcome = ImportOutcome { rows: plan.rows, errors: plan.errors, unknown_units: plan.unknown_units, ..Default::default() };
    if (!outcome.errors.is_empty() && !options.good_rows_only) || options.dry_run {
        outcome.already = count_present(store, &plan.models).await?;
        return Ok(outcome);
    }
    let mut models = plan.models;
    while !models.is_empty() {
        let rest = models.split_off(models.len().min(BATCH));
        let batch = std::mem::replace(&mut models, rest);
        let ids: Vec<String> = batch.iter().map(|p| p.model.id.clone()).collect();
        let present = store.versions(&ids).await?;
        let new: Vec<PlannedModel> = batch.into_iter().filter(|p| !present.contains_key(&p.model.id)).collect();
        outcome.already += ids.len() - new.len();
        let writes = tokio::task::spawn_blocking(move || documents(new, now_ms)).await.expect("building documents does not panic");
        for result in store.write(writes, now_ms).await? {
            match result {
                Ok(_) => outcome.created += 1,
                // Created meanwhile by another import of the same row.
                Err(StoreError::Conflict) => outcome.already += 1,
                Err(e) => return Err(e.into()),
            }
        }
        outcome.written = true;
    }
    Ok(outcome)
}

async fn count_present(store: &dyn Store, models: &[PlannedModel]) -> Result<usize, StoreError> {
    let mut n = 0;
    for chunk in models.chunks(BATCH) {
        let ids: Vec<String> = chunk.iter().map(|p| p.model.id.clone()).collect();
        n += store.versions(&ids).await?.len();
    }
    Ok(n)
}

/// Each planned model as the first write of its document (on every core: automerge encoding is
/// most of an import's time).
fn documents(models: Vec<PlannedModel>, now_ms: i64) -> Vec<Write> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let per = models.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = models.chunks(per).map(|chunk| scope.spawn(move || chunk.iter().map(|p| document(p, now_ms)).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("encoding a document does not panic")).collect()
    })
}

fn document(planned: &PlannedModel, now_ms: i64) -> Write {
    let model = &planned.model;
    let message = model.imported.as_ref().map(history_message).unwrap_or_default();
    let mut doc = crate::doc::create_with_message(model, now_ms, &message).expect("a planned model reconciles into a new document");
    Write {
        id: model.id.clone(),
        expected: None,
        chunk: crate::sync::Chunk { bytes: doc.save(), snapshot: true },
        heads: crate::sync::heads_to_bytes(&doc.get_heads()),
        unit: model.unit.clone(),
        public: in_library(replay(&model.transitions).0),
        facts: Some(ModelFacts::of(model)),
        readers: None,
    }
}
