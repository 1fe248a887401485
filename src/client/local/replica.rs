//! The local replica: the models the UI shows, kept in step with IndexedDB.
//!
//! The documents themselves are the engine's (`client::engine`, its own wasm module, loaded in the
//! background): this side shows the models the engine last read (cached as postcard bytes, so
//! start-up reads no document) and asks the engine for every change.
//!
//! Tasks here use `wasm_bindgen_futures::spawn_local`, not Leptos's: the replica opens (and may
//! start the engine) before the app mounts, when Leptos's executor is not set up yet.
//!
//! Invariant: the UI reads only `models` and changes documents only through the methods here,
//! which return after the change is committed to IndexedDB and shown.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsValue;

use crate::client::engine::api::{self, Change, NewModel, Shown, ShownContest};
use crate::client::local::engine;
use crate::client::local::storage::{LocalStore, StorageError};
use crate::domain::{Model, ModelDraft, SearchIndex};

/// How many cached models the start parses in one task (`reload`): 1,500 models in six tasks,
/// ~150 ms in all at 4× CPU in `.ci/bench-client`; Lighthouse's simulated 4× still counts some of
/// them at 51–72 ms (stop 30), against one task of ~190 ms before.
const SLICE: usize = 250;

pub use crate::client::engine::api::SaveError;

#[derive(Clone)]
pub struct Replica {
    /// SendWrapper: signals and contexts want Send; the browser has one thread.
    pub store: SendWrapper<Rc<LocalStore>>,
    /// Every model on this device, by id.
    pub models: RwSignal<BTreeMap<String, Model>>,
    /// Ids of documents holding changes the server has not acknowledged (kept from what the
    /// engine reports, so counting them never needs a storage scan).
    pub dirty: RwSignal<BTreeSet<String>>,
    /// How many documents are in `dirty`.
    pub pending: Signal<usize>,
    /// Documents that could not be read (corrupt or from a newer app version), with the reason.
    pub unreadable: RwSignal<BTreeMap<String, String>>,
    /// Bumped on every local change; the sync loop listens to it.
    pub local_change: RwSignal<u64>,
    /// How many documents are still being read in the background (the list says so).
    pub decoding: RwSignal<usize>,
    /// The contests on this device (issue 16), by id: each one's JSON, or why its document
    /// cannot be read. Kept as the engine wrote it — this module never parses a contest; the
    /// contest page (the on-demand module) does.
    pub contests: RwSignal<BTreeMap<String, Result<String, String>>>,
    /// The newest generation shown per document (see `engine::api::Shown`).
    shown: SendWrapper<Rc<RefCell<HashMap<String, u64>>>>,
    /// The models' search texts, folded once per version of each model and kept for the session
    /// (the list and the library search with it: `ModelFilter::apply_indexed`).
    pub search: SendWrapper<Rc<RefCell<SearchIndex>>>,
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

impl Replica {
    /// Opens the device's storage and shows the models as last read (the engine's cache,
    /// no automerge), then loads the document engine in the background, which reads again
    /// whatever the cache lacks or holds stale.
    pub async fn open(name: &str) -> Result<Replica, StorageError> {
        let store = LocalStore::open(name).await?;
        let dirty = RwSignal::new(BTreeSet::new());
        let replica = Replica {
            store: SendWrapper::new(Rc::new(store)),
            models: RwSignal::new(BTreeMap::new()),
            dirty,
            pending: Signal::derive(move || dirty.with(|d| d.len())),
            unreadable: RwSignal::new(BTreeMap::new()),
            local_change: RwSignal::new(0),
            decoding: RwSignal::new(0),
            contests: RwSignal::new(BTreeMap::new()),
            shown: SendWrapper::new(Rc::new(RefCell::new(HashMap::new()))),
            search: SendWrapper::new(Rc::new(RefCell::new(SearchIndex::default()))),
        };
        {
            let (on_shown, decoding, on_contests) = (replica.clone(), replica.decoding, replica.clone());
            engine::set_callbacks(
                move |bytes| match api::from_js::<Vec<Shown>>(&bytes) {
                    Ok(shown) => on_shown.show(shown),
                    Err(e) => leptos::logging::error!("{e}"),
                },
                move |n| decoding.set(n as usize),
                move |bytes| match api::from_js::<Vec<ShownContest>>(&bytes) {
                    Ok(shown) => on_contests.show_contests(shown),
                    Err(e) => leptos::logging::error!("{e}"),
                },
            );
        }
        let unread = replica.reload().await?;
        wasm_bindgen_futures::spawn_local(async move {
            // Offline before the first visit finished: saves say so; the list still shows.
            if let Err(e) = engine::verify(&unread).await {
                leptos::logging::warn!("document engine: {e}");
            }
        });
        Ok(replica)
    }

    /// Reads what the device holds (start-up, and after sign-out cleared it): the cached models,
    /// the ids of every document and of those waiting for the server — never the documents.
    /// Returns the ids of documents whose cached model is missing or unreadable (the engine reads
    /// those documents once it is loaded).
    pub async fn reload(&self) -> Result<Vec<String>, StorageError> {
        let read = self.store.start_read().await?;
        let (ids, cached) = (read.ids, read.cached);
        let dirty: BTreeSet<String> = read.dirty.into_iter().collect();
        crate::client::mark("danvan:models-read");
        let mut parsed: HashMap<&str, Model> = HashMap::with_capacity(cached.ids().len());
        let (mut bytes, mut ends) = (Vec::new(), Vec::new());
        // A slice of models at a time, each slice its own task (1,500 models were one task of
        // ~70 ms at 4× CPU, one of the long tasks Lighthouse counts against the list).
        let mut from = 0;
        while from < cached.ids().len() {
            let to = (from + SLICE).min(cached.ids().len());
            cached.slice(from, to, &mut bytes, &mut ends);
            let mut start = 0;
            for (id, &end) in cached.ids()[from..to].iter().zip(&ends) {
                let entry = bytes.get(start..end as usize).unwrap_or_default();
                start = end as usize;
                // An entry of another format (cached by an older version) or damaged reads as
                // none: `missing`, below, and the engine decodes that document again.
                if let Some(m) = Model::from_cache(entry) {
                    parsed.insert(id.as_str(), m);
                }
            }
            from = to;
            if from < cached.ids().len() {
                crate::client::next_task().await;
            }
        }
        let mut known = BTreeMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match parsed.remove(id.as_str()) {
                Some(m) => {
                    known.insert(id, m);
                }
                None => missing.push(id),
            }
        }
        crate::client::mark("danvan:models-parsed");
        self.shown.borrow_mut().clear();
        self.search.borrow_mut().clear();
        self.unreadable.set(BTreeMap::new());
        self.contests.set(BTreeMap::new());
        self.dirty.set(dirty);
        self.models.set(known);
        // Documents without a cached model are read by the engine once it is loaded (`verify`).
        self.decoding.set(missing.len());
        Ok(missing)
    }

    /// Models the engine read or wrote: shown, unless a newer read of the same document is.
    fn show(&self, shown: Vec<Shown>) {
        let shown = self.newest(shown, |s| (&s.id, s.generation, s.dirty));
        if shown.is_empty() {
            return;
        }
        let (mut readable, mut failed) = (Vec::new(), Vec::new());
        for s in shown {
            match s.model {
                Ok(m) => readable.push((s.id, m)),
                Err(e) => failed.push((s.id, e)),
            }
        }
        if !failed.is_empty() || self.unreadable.with_untracked(|u| readable.iter().any(|(id, _)| u.contains_key(id))) {
            self.unreadable.update(|u| {
                for (id, _) in &readable {
                    u.remove(id);
                }
                u.extend(failed);
            });
        }
        if !readable.is_empty() {
            self.models.update(|ms| ms.extend(readable));
        }
    }

    /// Of documents the engine read or wrote (`facts`: id, generation, dirty), those not older
    /// than what is shown of the same document; their dirty state is taken over.
    fn newest<T>(&self, shown: Vec<T>, facts: impl Fn(&T) -> (&String, u64, bool)) -> Vec<T> {
        let shown: Vec<T> = {
            let mut newest = self.shown.borrow_mut();
            shown
                .into_iter()
                .filter(|s| {
                    let (id, generation, _) = facts(s);
                    if newest.get(id).is_some_and(|&g| g > generation) {
                        return false;
                    }
                    newest.insert(id.clone(), generation);
                    true
                })
                .collect()
        };
        if !shown.is_empty() {
            self.dirty.update(|d| {
                for s in &shown {
                    let (id, _, dirty) = facts(s);
                    if dirty {
                        d.insert(id.clone());
                    } else {
                        d.remove(id);
                    }
                }
            });
        }
        shown
    }

    /// Contests the engine read or wrote: shown, unless a newer read of the same document is.
    fn show_contests(&self, shown: Vec<ShownContest>) {
        let shown = self.newest(shown, |s| (&s.id, s.generation, s.dirty));
        if shown.is_empty() {
            return;
        }
        self.contests.update(|cs| cs.extend(shown.into_iter().map(|s| (s.id, s.contest))));
    }

    /// Creates a contest (`id` None, `arg` the new contest's JSON, made by the contest page) or
    /// changes one (`arg` the page's `apply` function, see `engine::contests::change`); answers
    /// with the contest's JSON as stored, shown here first, and wakes the sync loop.
    pub async fn write_contest(&self, id: Option<&str>, arg: JsValue) -> Result<String, SaveError> {
        let answer = match id {
            None => engine::save("create_contest", &[arg]).await?,
            Some(id) => engine::save("change_contest", &[JsValue::from_str(id), arg]).await?,
        };
        let shown: ShownContest = engine::answer(answer).map_err(SaveError::Engine)?;
        let contest = shown.contest.clone().map_err(SaveError::Document)?;
        if shown.dirty {
            self.local_change.update(|n| *n += 1);
        }
        self.show_contests(vec![shown]);
        Ok(contest)
    }

    /// Registers a new model (`unit_name`: the owning unit's name, kept with it for readers far
    /// away; `replicated_from`: the library model it replicates, if any); returns its id once
    /// stored.
    pub async fn create(
        &self,
        draft: &ModelDraft,
        fields: &[String],
        author: &str,
        unit_name: &str,
        replicated_from: Option<crate::domain::ReplicatedFrom>,
    ) -> Result<String, SaveError> {
        // Validate first so an invalid draft never waits for the engine.
        let errors = draft.validate(fields);
        if !errors.is_empty() {
            return Err(SaveError::Invalid(errors));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let new = NewModel {
            id: id.clone(),
            draft: draft.clone(),
            fields: fields.to_vec(),
            author: author.to_string(),
            unit_name: unit_name.to_string(),
            replicated_from,
            now: now_ms(),
        };
        self.saved(engine::save("create", &[api::to_js(&new)]).await?)?;
        Ok(id)
    }

    /// Creates the documents of imported models (`crate::import::plan`) in one IndexedDB
    /// transaction, leaving alone every id the device already holds (the same row imported
    /// before, here or by the server's import and synced): returns how many were created. The
    /// batch is all or nothing; the page imports a file in batches, so a failure midway leaves
    /// the earlier batches saved, and importing the file again goes on where it stopped.
    pub async fn import(&self, models: &[Model]) -> Result<usize, SaveError> {
        let answer = engine::save("import_models", &[api::to_js(&models), JsValue::from_f64(now_ms() as f64)]).await?;
        self.saved(answer)
    }

    /// Applies a draft to an existing model as one automerge change, merged with whatever the
    /// stored document holds now (another tab or the sync may have changed it meanwhile).
    pub async fn edit(&self, id: &str, base: &ModelDraft, draft: &ModelDraft, fields: &[String], author: &str) -> Result<(), SaveError> {
        // Validate first so an invalid draft never reaches storage.
        let errors = draft.validate(fields);
        if !errors.is_empty() {
            return Err(SaveError::Invalid(errors));
        }
        let change = Change::Edit { base: base.clone(), draft: draft.clone(), fields: fields.to_vec(), author: author.to_string(), now: now_ms() };
        self.change(id, change).await
    }

    /// Records a lifecycle step (start, propose, recognise, return…) as one change, checked
    /// against the model's state as stored now and the user's roles for it.
    pub async fn record_step(
        &self,
        id: &str,
        action: crate::domain::Action,
        reason: &str,
        level: &str,
        by: &str,
        by_name: &str,
        roles: crate::domain::Roles,
    ) -> Result<(), SaveError> {
        let change = Change::Step {
            action,
            reason: reason.to_string(),
            level: level.to_string(),
            by: by.to_string(),
            by_name: by_name.to_string(),
            roles,
            step_id: uuid::Uuid::new_v4().to_string(),
            now: now_ms(),
        };
        self.change(id, change).await
    }

    /// Records a commendation on a model (reviewers of its unit; checked again by the server).
    pub async fn record_commendation(
        &self,
        id: &str,
        draft: &crate::domain::CommendationDraft,
        by: &str,
        by_name: &str,
        roles: crate::domain::Roles,
    ) -> Result<(), SaveError> {
        if !roles.reviewer {
            return Err(SaveError::Refused("Chỉ người bình xét của cấp trên mới ghi nhận khen thưởng.".into()));
        }
        if let Some((_, first)) = draft.validate().into_iter().next() {
            return Err(SaveError::Refused(first));
        }
        let change = Change::Commendation {
            draft: draft.clone(),
            by: by.to_string(),
            by_name: by_name.to_string(),
            record_id: uuid::Uuid::new_v4().to_string(),
            now: now_ms(),
        };
        self.change(id, change).await
    }

    /// A reviewer's evaluation step (open, score a criterion, submit with the result), as one
    /// change; submitting records the lifecycle step in the same change.
    pub async fn evaluate(
        &self,
        id: &str,
        step: crate::domain::EvaluationStep,
        by: &str,
        by_name: &str,
        roles: crate::domain::Roles,
    ) -> Result<(), SaveError> {
        let change = Change::Evaluate { step, by: by.to_string(), by_name: by_name.to_string(), roles, now: now_ms() };
        self.change(id, change).await
    }

    /// Adds a place applying a library model to its replication points (only that list is
    /// written: the model belongs to another unit).
    pub async fn record_replication(&self, source: &str, point: crate::domain::Replication) -> Result<(), SaveError> {
        self.change(source, Change::Replication { point }).await
    }

    /// Adds an activity log entry (and the indicators' achieved values it updates).
    pub async fn add_journal_entry(&self, id: &str, entry: crate::domain::JournalEntry) -> Result<(), SaveError> {
        self.change(id, Change::Journal { entry }).await
    }

    /// Keeps one of the concurrent values of an item (see `doc::resolve`); nothing happens if
    /// the conflict is already gone.
    pub async fn resolve_conflict(&self, id: &str, place: &crate::doc::Place, choice: usize, by: &str) -> Result<(), SaveError> {
        self.change(id, Change::Resolve { place: place.clone(), choice, by: by.to_string(), now: now_ms() }).await
    }

    /// One change of one stored document, made by the engine in one storage transaction (see
    /// `engine::api::Change`); the model is shown before this returns, and the sync loop is woken
    /// when something was written.
    async fn change(&self, id: &str, change: Change) -> Result<(), SaveError> {
        let answer = engine::save("change", &[JsValue::from_str(id), api::to_js(&change)]).await?;
        self.saved(answer).map(|_| ())
    }

    /// Shows what the engine wrote for this page (its answer), at once, before the caller goes
    /// on (a form closes after its model shows); wakes the sync loop. Returns how many.
    fn saved(&self, answer: JsValue) -> Result<usize, SaveError> {
        let shown: Vec<Shown> = engine::answer(answer).map_err(SaveError::Engine)?;
        let written = shown.len();
        if written > 0 {
            self.show(shown);
            self.local_change.update(|n| *n += 1);
        }
        Ok(written)
    }
}
