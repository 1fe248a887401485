//! Contest documents (issue 16) on the device: created and changed here, each change inside one
//! storage transaction against the contest as stored at that moment. What a change does, and
//! whether the server would accept it, is the contest page's (`Contest::apply` and
//! `check_contest`, in the on-demand module): the engine hands it the stored contest through its
//! `apply` callback, synchronously inside the transaction, and writes what it answers. So the
//! contest rules weigh nothing on the engine a phone downloads before its first sync.

use std::rc::Rc;

use wasm_bindgen::JsValue;

use super::Engine;
use super::api::{self, ContestApplied, SaveError, ShownContest};
use crate::client::local::storage::DocRecord;
use crate::doc::contest::{self as contest_doc, Kind};
use crate::domain::contest::Contest;

fn document_error(e: impl std::fmt::Display) -> SaveError {
    SaveError::Document(e.to_string())
}

impl Engine {
    /// Contests read or written here, shown on the app's contest page.
    pub(super) fn show_contests(&self, shown: &[ShownContest]) {
        if shown.is_empty() {
            return;
        }
        let _ = self.on_contests.call1(&JsValue::NULL, &api::to_js(&shown));
    }

    /// A contest just written: shown and announced to the other tabs.
    fn contest_written(&self, rec: &DocRecord, contest: String) -> ShownContest {
        let generation = self.decoder.generation();
        self.decoder.mark_shown(&rec.id, generation);
        self.announce(std::slice::from_ref(rec));
        ShownContest { id: rec.id.clone(), generation, dirty: rec.dirty, contest: Ok(contest) }
    }
}

/// The decoded form of a contest document, for the decoder.
pub(super) fn shown(id: &str, generation: u64, dirty: bool, d: &automerge::AutoCommit) -> ShownContest {
    let contest = contest_doc::read_contest(d).map_err(|e| e.to_string()).and_then(|c| serde_json::to_string(&c).map_err(|e| e.to_string()));
    ShownContest { id: id.to_string(), generation, dirty, contest }
}

/// Stores a new contest (`contest_json`: made and checked by the contest page); the id must be new
/// on this device.
pub async fn create(contest_json: &str) -> Result<ShownContest, SaveError> {
    let engine = super::engine().map_err(SaveError::Engine)?;
    let contest: Contest = api::from_json(contest_json).map_err(SaveError::Engine)?;
    let mut document = contest_doc::create(&contest, contest.created_at).map_err(document_error)?;
    let rec = DocRecord { id: contest.id.clone(), doc: document.save(), sync: None, dirty: true };
    let written = engine.store.update(&contest.id, |current| if current.is_some() { None } else { Some(rec) }).await?;
    let rec = written.ok_or_else(|| SaveError::Refused("Thiết bị đã có một tài liệu mang mã này.".into()))?;
    Ok(engine.contest_written(&rec, contest_json.to_string()))
}

/// Changes a stored contest in one storage transaction: `apply(JSON of the contest as stored)`
/// answers the JSON of `Result<Option<ContestApplied>, SaveError>`. Returns the contest as stored
/// (also when the change changed nothing: nothing is written then).
pub async fn change(id: &str, apply: js_sys::Function) -> Result<ShownContest, SaveError> {
    let engine: Rc<Engine> = super::engine().map_err(SaveError::Engine)?;
    // The contest as stored after the change, whether it changed, and the record's dirty flag.
    let mut outcome: Result<(String, bool, bool), SaveError> = Err(SaveError::NotFound);
    let written = engine
        .store
        .update(id, |rec| {
            let mut rec = rec?;
            let applied = (|| {
                let mut d = crate::doc::load(&rec.doc).map_err(document_error)?;
                if contest_doc::kind(&d) != Kind::Contest {
                    return Err(SaveError::Document("Tài liệu này không phải một hội thi.".into()));
                }
                let before = serde_json::to_string(&contest_doc::read_contest(&d).map_err(document_error)?).map_err(document_error)?;
                let answer = apply.call1(&JsValue::NULL, &JsValue::from_str(&before)).map_err(|e| SaveError::Engine(format!("{e:?}")))?;
                let answer: Result<Option<ContestApplied>, SaveError> = api::from_json(&answer.as_string().unwrap_or_default()).map_err(SaveError::Engine)?;
                let Some(ContestApplied { contest, message, now }) = answer? else { return Ok((before, None)) };
                let after: Contest = api::from_json(&contest).map_err(SaveError::Engine)?;
                contest_doc::write_contest(&mut d, &after, now, &message).map_err(document_error)?;
                Ok((contest, Some(d.save())))
            })();
            match applied {
                Ok((contest, Some(bytes))) => {
                    outcome = Ok((contest, true, true));
                    rec.doc = bytes;
                    rec.dirty = true;
                    Some(rec)
                }
                Ok((contest, None)) => {
                    // Nothing written: the record stays as dirty as it was (read here, in the
                    // transaction, rather than again after it).
                    outcome = Ok((contest, false, rec.dirty));
                    None
                }
                Err(e) => {
                    outcome = Err(e);
                    None
                }
            }
        })
        .await?;
    let (contest, changed, dirty) = outcome?;
    match written {
        Some(rec) if changed => Ok(engine.contest_written(&rec, contest)),
        _ => {
            let generation = engine.decoder.generation();
            engine.decoder.mark_shown(id, generation);
            Ok(ShownContest { id: id.to_string(), generation, dirty, contest: Ok(contest) })
        }
    }
}
