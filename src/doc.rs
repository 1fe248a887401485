//! How a model lives in an automerge document (layout documented in ARCHITECTURE.md).
//!
//! One document per model. The mapping between [`Model`] and the document is autosurgeon's
//! derive; this module adds the schema-version check and the commit metadata. No IO.

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, ReadDoc};

use crate::domain::{Model, SCHEMA_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("tài liệu hỏng, không đọc được: {0}")]
    Corrupt(#[from] automerge::AutomergeError),
    #[error("tài liệu không đúng cấu trúc mô hình: {0}")]
    Shape(#[from] autosurgeon::HydrateError),
    #[error("không ghi được mô hình vào tài liệu: {0}")]
    Write(#[from] autosurgeon::ReconcileError),
    #[error("tài liệu thuộc phiên bản {0} mới hơn ứng dụng này; hãy tải lại ứng dụng để cập nhật")]
    TooNew(u64),
}

/// A new document holding `model`, committed as its first change.
pub fn create(model: &Model, now_ms: i64) -> Result<AutoCommit, DocError> {
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, model)?;
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message("tạo mô hình"));
    Ok(doc)
}

pub fn load(bytes: &[u8]) -> Result<AutoCommit, DocError> {
    Ok(AutoCommit::load(bytes)?)
}

/// Reads the model, refusing documents written by a newer schema than this code knows.
pub fn read_model(doc: &AutoCommit) -> Result<Model, DocError> {
    let schema = match doc.get(automerge::ROOT, "schema")? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            automerge::ScalarValue::Uint(v) => *v,
            automerge::ScalarValue::Int(v) if *v >= 0 => *v as u64,
            _ => 0,
        },
        _ => 0,
    };
    if schema > SCHEMA_VERSION {
        return Err(DocError::TooNew(schema));
    }
    let mut model: Model = autosurgeon::hydrate(doc)?;
    // The stored status is a cache; the transitions are the truth (they merge, it may conflict).
    model.status = crate::domain::replay(&model.transitions).0;
    Ok(model)
}

/// The document's owning unit, as the server checks it without reading the rest: the single
/// string value of the root `unit` key with the operation that set it. `None` when the key is
/// missing, not a string, or conflicted (two concurrent values: ownership is not clear).
pub fn owner(doc: &AutoCommit) -> Option<(String, automerge::ObjId)> {
    let mut values = doc.get_all(automerge::ROOT, "unit").ok()?;
    if values.len() != 1 {
        return None;
    }
    match values.pop()? {
        (automerge::Value::Scalar(s), id) => match s.as_ref() {
            automerge::ScalarValue::Str(code) if !code.is_empty() => Some((code.to_string(), id)),
            _ => None,
        },
        _ => None,
    }
}

/// The lifecycle log as stored (empty for documents written before the lifecycle existed).
pub fn transitions(doc: &AutoCommit) -> Result<Vec<crate::domain::Transition>, DocError> {
    match doc.get(automerge::ROOT, "transitions")? {
        None => Ok(Vec::new()),
        Some(_) => Ok(autosurgeon::hydrate_prop(doc, automerge::ROOT, "transitions")?),
    }
}

/// The top-level keys whose values changed between two versions of a document (what a change
/// touched, for the server's permission checks).
pub fn touched_keys(doc: &mut AutoCommit, before: &[automerge::ChangeHash], after: &[automerge::ChangeHash]) -> std::collections::BTreeSet<String> {
    use automerge::{PatchAction, Prop};
    doc.diff(before, after)
        .into_iter()
        .filter_map(|patch| match patch.path.first() {
            Some((_, Prop::Map(key))) => Some(key.clone()),
            Some((_, Prop::Seq(_))) => None,
            None => match patch.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => Some(key),
                PatchAction::Conflict { prop: Prop::Map(key) } | PatchAction::Increment { prop: Prop::Map(key), .. } => Some(key),
                _ => None,
            },
        })
        .collect()
}

/// Writes `model` into the document as one change: only what differs becomes operations,
/// and narrative fields change by splices, so concurrent edits elsewhere merge.
pub fn write_model(doc: &mut AutoCommit, model: &Model, now_ms: i64, message: &str) -> Result<(), DocError> {
    autosurgeon::reconcile(doc, model)?;
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message(message.to_string()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ModelDraft, STANDARD_FIELDS};

    fn fields() -> Vec<String> {
        STANDARD_FIELDS.iter().map(|(c, _)| c.to_string()).collect()
    }

    pub(crate) fn sample(id: &str) -> Model {
        let mut m = Model::new(id.into(), "Cán bộ A", 1_700_000_000_000);
        let mut d = ModelDraft::blank(2025, "Xã Bản Bo");
        d.name = "Khéo vận động làm đường".into();
        d.situation = "Đường đất lầy lội.".into();
        d.goals = "5 km đường bê tông.".into();
        d.content = "Khéo chọn việc. Khéo tuyên truyền.".into();
        d.area = "Bản Bo".into();
        d.forces = "Đảng ủy xã".into();
        d.resources = "Nhân dân góp công".into();
        d.start_date = "2025-01-15".into();
        d.sustainability = "Tự quản".into();
        d.owner_name = "Khối Dân vận xã".into();
        d.indicators.push(crate::domain::IndicatorDraft {
            id: "i1".into(),
            name: "Đường bê tông".into(),
            unit: "km".into(),
            target: "5".into(),
            achieved: "".into(),
        });
        d.apply(&mut m, &fields()).unwrap();
        m
    }

    #[test]
    fn the_devices_cache_of_decoded_models_round_trips_through_json() {
        let m = sample("m1");
        let hydrated = read_model(&create(&m, 1).unwrap()).unwrap();
        let json = serde_json::to_string(&hydrated).unwrap();
        assert!(json.contains("\"situation\":\"Đường đất lầy lội.\""), "narratives as plain text: {json}");
        assert_eq!(serde_json::from_str::<Model>(&json).unwrap(), hydrated);
    }

    #[test]
    fn round_trips_through_save_and_load() {
        let m = sample("m1");
        let mut doc = create(&m, 1).unwrap();
        let bytes = doc.save();
        let back = read_model(&load(&bytes).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.schema, SCHEMA_VERSION);
    }

    #[test]
    fn layout_is_the_documented_one() {
        let doc = create(&sample("m1"), 1).unwrap();
        let (v, _) = doc.get(automerge::ROOT, "situation").unwrap().unwrap();
        assert!(matches!(v, automerge::Value::Object(automerge::ObjType::Text)), "narratives are Text");
        let (v, _) = doc.get(automerge::ROOT, "name").unwrap().unwrap();
        assert_eq!(v.into_string().unwrap(), "Khéo vận động làm đường", "name is a scalar string");
        let (v, _) = doc.get(automerge::ROOT, "owner_kind").unwrap().unwrap();
        assert_eq!(v.into_string().unwrap(), "tap_the");
        let (v, _) = doc.get(automerge::ROOT, "indicators").unwrap().unwrap();
        assert!(matches!(v, automerge::Value::Object(automerge::ObjType::List)));
    }

    #[test]
    fn concurrent_edits_to_different_parts_of_a_narrative_both_survive() {
        let mut base = create(&sample("m1"), 1).unwrap();
        let mut a = base.clone();
        let mut b = base.fork();
        let mut ma = read_model(&a).unwrap();
        ma.content.update("Khéo chọn việc đúng. Khéo tuyên truyền.");
        write_model(&mut a, &ma, 2, "sửa").unwrap();
        let mut mb = read_model(&b).unwrap();
        mb.content.update("Khéo chọn việc. Khéo tuyên truyền vận động.");
        write_model(&mut b, &mb, 3, "sửa").unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(read_model(&a).unwrap().content.as_str(), "Khéo chọn việc đúng. Khéo tuyên truyền vận động.");
    }

    #[test]
    fn newer_schemas_are_refused_not_misread() {
        let mut doc = create(&sample("m1"), 1).unwrap();
        use automerge::transaction::Transactable;
        doc.put(automerge::ROOT, "schema", SCHEMA_VERSION + 1).unwrap();
        assert!(matches!(read_model(&doc), Err(DocError::TooNew(v)) if v == SCHEMA_VERSION + 1));
        assert!(load(b"not automerge").is_err());
    }
}
