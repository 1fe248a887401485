//! Contest documents (issue 16) on the device: created and changed here, each change inside one
//! storage transaction against the contest as stored at that moment, and checked with the
//! server's own rule before anything is stored — a judge scoring offline learns at once that a
//! cell is out of range or the round was closed, not days later when the server refuses the sync.

use std::rc::Rc;

use super::api::{ContestAuthor, ContestEdit, NewContest, SaveError, ShownContest};
use super::Engine;
use crate::client::local::storage::DocRecord;
use crate::doc::contest::{self as contest_doc, Kind};
use crate::domain::contest::{Contest, check_contest};
use crate::domain::{Access, FieldErrors, UnitTree};

fn document_error(e: impl std::fmt::Display) -> SaveError {
    SaveError::Document(e.to_string())
}

/// The author's grants resolved in the tree their profile holds.
fn access_of(author: &ContestAuthor) -> (Access, UnitTree) {
    let tree = UnitTree::from_units(author.units.clone(), author.clusters.clone());
    (Access::new(&author.grants, &tree), tree)
}

impl Engine {
    /// Contests read or written here, shown on the app's contest page.
    pub(super) fn show_contests(&self, shown: &[ShownContest]) {
        if shown.is_empty() {
            return;
        }
        let _ = self.on_contests.call1(&wasm_bindgen::JsValue::NULL, &wasm_bindgen::JsValue::from_str(&super::api::to_json(&shown)));
    }

    /// A contest just written: shown and announced to the other tabs.
    fn contest_written(&self, rec: &DocRecord, contest: &Contest) -> ShownContest {
        let generation = self.decoder.generation();
        self.decoder.mark_shown(&rec.id, generation);
        self.announce(std::slice::from_ref(rec));
        ShownContest { id: rec.id.clone(), generation, dirty: rec.dirty, contest: serde_json::to_string(contest).map_err(|e| e.to_string()) }
    }
}

/// The decoded form of a contest document, for the decoder.
pub(super) fn shown(id: &str, generation: u64, dirty: bool, d: &automerge::AutoCommit) -> ShownContest {
    let contest = contest_doc::read_contest(d).map_err(|e| e.to_string()).and_then(|c| serde_json::to_string(&c).map_err(|e| e.to_string()));
    ShownContest { id: id.to_string(), generation, dirty, contest }
}

/// Creates a contest; refused (nothing stored) when the server would refuse it.
pub async fn create(new: NewContest) -> Result<ShownContest, SaveError> {
    let engine = super::engine().map_err(SaveError::Engine)?;
    let NewContest { id, name, level, year, unit, author, now } = new;
    let contest = Contest::new(id.clone(), &name, level, year, &unit, &author.username, now);
    if contest.name.is_empty() {
        return Err(SaveError::Invalid(FieldErrors(vec![("contest-name".into(), "Hãy nhập tên hội thi.".into())])));
    }
    let (access, tree) = access_of(&author);
    check_contest(None, &contest, &author.username, &access, &tree).map_err(SaveError::Refused)?;
    let mut document = contest_doc::create(&contest, now).map_err(document_error)?;
    let rec = DocRecord { id: id.clone(), doc: document.save(), sync: None, dirty: true };
    let written = engine.store.update(&id, |current| if current.is_some() { None } else { Some(rec) }).await?;
    let rec = written.ok_or_else(|| SaveError::Refused("Thiết bị đã có một tài liệu mang mã này.".into()))?;
    Ok(engine.contest_written(&rec, &contest))
}

/// Applies one change to a stored contest in one storage transaction; returns it as stored (also
/// when the change changed nothing: nothing is written then).
pub async fn change(id: &str, edit: ContestEdit) -> Result<ShownContest, SaveError> {
    let engine: Rc<Engine> = super::engine().map_err(SaveError::Engine)?;
    let ContestEdit { author, now, change } = edit;
    let message = change.message();
    let (access, tree) = access_of(&author);
    let mut outcome: Result<(Contest, bool), SaveError> = Err(SaveError::NotFound);
    let written = engine
        .store
        .update(id, |rec| {
            let mut rec = rec?;
            let applied = (|| {
                let mut d = crate::doc::load(&rec.doc).map_err(document_error)?;
                if contest_doc::kind(&d) != Kind::Contest {
                    return Err(SaveError::Document("Tài liệu này không phải một hội thi.".into()));
                }
                let before = contest_doc::read_contest(&d).map_err(document_error)?;
                let mut after = before.clone();
                let changed = after
                    .apply(change, &author.username, &tree, now, || uuid::Uuid::new_v4().to_string())
                    .map_err(|problems| SaveError::Invalid(FieldErrors(problems)))?;
                if !changed {
                    return Ok((before, None));
                }
                check_contest(Some(&before), &after, &author.username, &access, &tree).map_err(SaveError::Refused)?;
                contest_doc::write_contest(&mut d, &after, now, message).map_err(document_error)?;
                Ok((after, Some(d.save())))
            })();
            match applied {
                Ok((contest, Some(bytes))) => {
                    outcome = Ok((contest, true));
                    rec.doc = bytes;
                    rec.dirty = true;
                    Some(rec)
                }
                Ok((contest, None)) => {
                    outcome = Ok((contest, false));
                    None
                }
                Err(e) => {
                    outcome = Err(e);
                    None
                }
            }
        })
        .await?;
    let (contest, changed) = outcome?;
    match written {
        Some(rec) if changed => Ok(engine.contest_written(&rec, &contest)),
        _ => {
            let dirty = engine.store.get(id).await.ok().flatten().is_some_and(|r| r.dirty);
            let generation = engine.decoder.generation();
            engine.decoder.mark_shown(id, generation);
            Ok(ShownContest { id: id.to_string(), generation, dirty, contest: serde_json::to_string(&contest).map_err(|e| e.to_string()) })
        }
    }
}
