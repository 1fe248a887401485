//! How a model lives in an automerge document (layout documented in ARCHITECTURE.md).
//!
//! One document per model. The mapping between [`Model`] and the document is autosurgeon's
//! derive; this module adds the schema-version check and the commit metadata. No IO.

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, ReadDoc};

use crate::domain::{Model, SCHEMA_VERSION};

pub mod contest;

/// Why a model's document cannot be read or written (Vietnamese, shown in Settings and in the
/// server's answers; the app translates it).
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
    /// The root `kind` says another kind of document (a contest: `contest::read_contest`).
    #[error("tài liệu này không phải một mô hình (có thể là một hội thi, phiên bản ứng dụng này chưa hiển thị)")]
    NotAModel,
}

/// A new document holding `model`, committed as its first change.
pub fn create(model: &Model, now_ms: i64) -> Result<AutoCommit, DocError> {
    create_with_message(model, now_ms, "tạo mô hình")
}

/// The same with the first change's message shown in the history (an import names its file and
/// line there).
pub fn create_with_message(model: &Model, now_ms: i64, message: &str) -> Result<AutoCommit, DocError> {
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, model)?;
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message(message.to_string()));
    Ok(doc)
}

pub fn load(bytes: &[u8]) -> Result<AutoCommit, DocError> {
    Ok(AutoCommit::load(bytes)?)
}

/// Reads the model, refusing documents written by a newer schema than this code knows.
pub fn read_model(doc: &AutoCommit) -> Result<Model, DocError> {
    // A model has no root `kind` (contests do, `contest::KIND`).
    if doc.get(automerge::ROOT, "kind")?.is_some() {
        return Err(DocError::NotAModel);
    }
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

/// The records a model's document keeps for people other than its cadres — the lifecycle log,
/// commendations, evaluations, replication points — read without the rest of the model, as the
/// server checks what a change did to them. Missing lists (older documents) are empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Records {
    pub transitions: Vec<crate::domain::Transition>,
    pub commendations: Vec<crate::domain::Commendation>,
    pub evaluations: Vec<crate::domain::Evaluation>,
    pub replications: Vec<crate::domain::Replication>,
    /// Written by the unit's cadres, but evidence for everyone else: append-only too.
    pub journal: Vec<crate::domain::JournalEntry>,
    /// Where an imported model came from: fixed at creation.
    pub imported: Option<crate::domain::ImportOrigin>,
}

pub fn records(doc: &AutoCommit) -> Result<Records, DocError> {
    Ok(Records {
        transitions: root_list(doc, "transitions")?,
        commendations: root_list(doc, "commendations")?,
        evaluations: root_list(doc, "evaluations")?,
        replications: root_list(doc, "replications")?,
        journal: root_list(doc, "journal")?,
        imported: match doc.get(automerge::ROOT, "imported")? {
            None => None,
            Some(_) => autosurgeon::hydrate_prop(doc, automerge::ROOT, "imported")?,
        },
    })
}

impl From<Model> for Records {
    fn from(model: Model) -> Records {
        Records {
            transitions: model.transitions,
            commendations: model.commendations,
            evaluations: model.evaluations,
            replications: model.replications,
            journal: model.journal,
            imported: model.imported,
        }
    }
}

/// A list at the root read on its own (without the rest of the model); a missing key is empty.
fn root_list<T: autosurgeon::Hydrate>(doc: &AutoCommit, key: &str) -> Result<Vec<T>, DocError> {
    match doc.get(automerge::ROOT, key)? {
        None => Ok(Vec::new()),
        Some(_) => Ok(autosurgeon::hydrate_prop(doc, automerge::ROOT, key)?),
    }
}

/// What a model's document may receive in one sync, bounded before any costly reading (a diff,
/// hydrating, the history view), so one small request cannot make the server or a device spend
/// memory or time out of proportion to it. A real model is a few hundred objects a few levels
/// deep (root → list → entry → list → row); even a whole new model typed for years stays far
/// below these.
#[derive(Debug, Clone, Copy)]
pub struct ChangeLimits {
    pub changes: usize,
    pub ops: usize,
    pub objects: usize,
    pub depth: usize,
}

pub const CHANGE_LIMITS: ChangeLimits = ChangeLimits { changes: 20_000, ops: 2_000_000, objects: 50_000, depth: 8 };

/// A bound of [`ChangeLimits`] that new changes crossed (Vietnamese, for the sender; the app
/// translates it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("thay đổi gồm quá nhiều lần sửa ({0}); hãy đồng bộ từng phần")]
    Changes(usize),
    #[error("thay đổi gồm quá nhiều thao tác ({0})")]
    Ops(usize),
    #[error("thay đổi tạo quá nhiều đối tượng ({0})")]
    Objects(usize),
    #[error("thay đổi lồng nhau quá sâu (hơn {0} cấp); mô hình không có cấu trúc như vậy")]
    Depth(usize),
}

/// What the changes after `before` did, read from their operations (linear in their size,
/// unlike a diff of the two versions, whose cost grows with nesting).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewChanges {
    /// The top-level keys under which any operation landed (even one that re-set a value).
    pub touched: std::collections::BTreeSet<String>,
    pub changes: usize,
    pub ops: usize,
}

/// Reads the changes `doc` holds beyond `before`, refusing them as soon as they cross `limits`.
pub fn new_changes(doc: &mut AutoCommit, before: &[automerge::ChangeHash], limits: ChangeLimits) -> Result<NewChanges, LimitError> {
    use automerge::legacy::{Key, ObjectId};
    use std::collections::HashMap;
    let changes = doc.get_changes(before);
    if changes.len() > limits.changes {
        return Err(LimitError::Changes(changes.len()));
    }
    let ops: usize = changes.iter().map(|c| c.len()).sum();
    if ops > limits.ops {
        return Err(LimitError::Ops(ops));
    }
    // For every object met: its depth below the root and the root key it lives under.
    let mut objects: HashMap<ObjectId, (usize, String)> = HashMap::new();
    let mut created = 0usize;
    let mut out = NewChanges { changes: changes.len(), ops, ..NewChanges::default() };
    for change in &changes {
        let expanded = change.decode();
        for (i, op) in expanded.operations.iter().enumerate() {
            let (depth, root_key) = match &op.obj {
                ObjectId::Root => match &op.key {
                    Key::Map(k) => (0, k.to_string()),
                    Key::Seq(_) => continue, // the root is a map; automerge refuses these anyway
                },
                obj => match objects.get(obj) {
                    Some(known) => known.clone(),
                    None => {
                        let known = existing_object(doc, obj).ok_or(LimitError::Depth(limits.depth))?;
                        objects.insert(obj.clone(), known.clone());
                        known
                    }
                },
            };
            out.touched.insert(root_key.clone());
            if let automerge::legacy::OpType::Make(_) = op.action {
                created += 1;
                if created > limits.objects {
                    return Err(LimitError::Objects(created));
                }
                if depth + 1 > limits.depth {
                    return Err(LimitError::Depth(limits.depth));
                }
                let id = automerge::legacy::OpId(expanded.start_op.get() + i as u64, expanded.actor_id.clone());
                objects.insert(ObjectId::Id(id), (depth + 1, root_key));
            }
        }
    }
    Ok(out)
}

/// Depth and root key of an object the new changes did not create (it is in the document).
fn existing_object(doc: &AutoCommit, obj: &automerge::legacy::ObjectId) -> Option<(usize, String)> {
    let automerge::legacy::ObjectId::Id(automerge::legacy::OpId(counter, actor)) = obj else { return None };
    // The actor's index is only a hint; a wrong one is looked up by the actor itself.
    let exid = automerge::ObjId::Id(*counter, actor.clone(), usize::MAX);
    let path = doc.parents(&exid).ok()?.path();
    match path.first() {
        Some((_, automerge::Prop::Map(key))) => Some((path.len(), key.clone())),
        _ => None,
    }
}

/// For each step of the lifecycle log (by id), the ids of the steps written by changes in the
/// causal past of the change that wrote it: the steps its writer's device had already received,
/// whatever the devices' clocks say. Only the steps in `wanted` are looked up (the server asks
/// for the new ones).
pub fn steps_seen(doc: &mut AutoCommit, wanted: &std::collections::HashSet<&str>) -> std::collections::HashMap<String, Vec<String>> {
    use automerge::{ObjType, Value};
    use std::collections::{HashMap, HashSet};
    let mut out = HashMap::new();
    let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(automerge::ROOT, "transitions") else { return out };
    // Each step's map was made by one operation; its id says which actor and counter.
    let mut steps: Vec<(String, automerge::ActorId, u64)> = Vec::new();
    for i in 0..doc.length(&list) {
        let Ok(Some((Value::Object(ObjType::Map), automerge::ObjId::Id(counter, actor, _)))) = doc.get(&list, i) else { continue };
        let exid = automerge::ObjId::Id(counter, actor.clone(), usize::MAX);
        if let Ok(Some((Value::Scalar(v), _))) = doc.get(&exid, "id")
            && let automerge::ScalarValue::Str(id) = v.as_ref()
        {
            steps.push((id.to_string(), actor, counter));
        }
    }
    if !steps.iter().any(|(id, ..)| wanted.contains(id.as_str())) {
        return out;
    }
    let metas: Vec<(automerge::ActorId, u64, u64, automerge::ChangeHash, Vec<automerge::ChangeHash>)> = doc
        .get_changes_meta(&[])
        .into_iter()
        .map(|m| (m.actor.into_owned(), m.start_op, m.max_op, m.hash, m.deps))
        .collect();
    let deps: HashMap<automerge::ChangeHash, &[automerge::ChangeHash]> = metas.iter().map(|m| (m.3, m.4.as_slice())).collect();
    let change_of = |actor: &automerge::ActorId, counter: u64| {
        metas.iter().find(|m| &m.0 == actor && m.1 <= counter && counter <= m.2).map(|m| m.3)
    };
    let written: Vec<(&str, Option<automerge::ChangeHash>)> = steps.iter().map(|(id, a, c)| (id.as_str(), change_of(a, *c))).collect();
    for (id, change) in &written {
        let (true, Some(change)) = (wanted.contains(id), change) else { continue };
        // Everything the writing change depended on, transitively.
        let mut past: HashSet<automerge::ChangeHash> = HashSet::new();
        let mut queue: Vec<automerge::ChangeHash> = deps.get(change).map(|d| d.to_vec()).unwrap_or_default();
        while let Some(h) = queue.pop() {
            if past.insert(h) {
                queue.extend(deps.get(&h).copied().unwrap_or_default());
            }
        }
        let seen = written.iter().filter(|(_, c)| c.is_some_and(|c| past.contains(&c))).map(|(other, _)| other.to_string()).collect();
        out.insert(id.to_string(), seen);
    }
    out
}

/// Writes only the given top-level keys of `model` as one change. Used for what reviewers and
/// readers record (steps, commendations, evaluations, replication points): writing the whole
/// model would also add keys an older document lacks, which the server refuses from them.
pub fn write_keys(doc: &mut AutoCommit, model: &Model, keys: &[&str], now_ms: i64, message: &str) -> Result<(), DocError> {
    use autosurgeon::reconcile_prop as put;
    for key in keys {
        let root = automerge::ROOT;
        match *key {
            "transitions" => put(doc, root, "transitions", &model.transitions)?,
            "commendations" => put(doc, root, "commendations", &model.commendations)?,
            "evaluations" => put(doc, root, "evaluations", &model.evaluations)?,
            "replications" => put(doc, root, "replications", &model.replications)?,
            "status" => put(doc, root, "status", model.status)?,
            "updated_by" => put(doc, root, "updated_by", &model.updated_by)?,
            "updated_at" => put(doc, root, "updated_at", model.updated_at)?,
            other => unreachable!("write_keys does not write {other}"),
        }
    }
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message(message.to_string()));
    Ok(())
}

/// Writes what differs between `before` (as read from `doc`) and `after` as one change, key by
/// key. Same operations as [`write_model`], but only the changed items are reconciled: writing a
/// whole model looks up every key of every step, commendation, evaluation and journal entry in
/// the document, which was most of a cadre's save on a phone (issue 15). The destructuring names
/// every field, so a field added to `Model` does not compile until it is written here too.
pub fn write_changed(doc: &mut AutoCommit, before: &Model, after: &Model, now_ms: i64, message: &str) -> Result<(), DocError> {
    let Model {
        schema, id, name, situation, goals, content, area, forces, resources, start_date, end_date, evaluation_date,
        indicators, sustainability, owner_kind, owner_name, field, unit, level, year, status, transitions, commendations,
        unit_name, replicated_from, replications, evaluations, journal, imported, created_by, created_at, updated_by,
        updated_at,
    } = after;
    macro_rules! write_if_changed {
        ($($key:ident),* $(,)?) => {$(
            if before.$key != *$key {
                autosurgeon::reconcile_prop(&mut *doc, automerge::ROOT, stringify!($key), $key)?;
            }
        )*};
    }
    write_if_changed!(
        schema, id, name, situation, goals, content, area, forces, resources, start_date, end_date, evaluation_date,
        indicators, sustainability, owner_kind, owner_name, field, unit, level, year, status, transitions, commendations,
        unit_name, replicated_from, replications, evaluations, journal, imported, created_by, created_at, updated_by,
        updated_at,
    );
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message(message.to_string()));
    Ok(())
}

/// Writes `model` into the document as one change: only what differs becomes operations,
/// and narrative fields change by splices, so concurrent edits elsewhere merge.
pub fn write_model(doc: &mut AutoCommit, model: &Model, now_ms: i64, message: &str) -> Result<(), DocError> {
    autosurgeon::reconcile(doc, model)?;
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message(message.to_string()));
    Ok(())
}

/// Where a conflicting value sits: a key of the model, or a key of one indicator (by its id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Place {
    Item(String),
    Indicator { id: String, key: String },
}

/// Two (or more) people set the same short item at the same time, offline: automerge keeps one
/// value as the winner and the others as conflicts. Shown so nobody's value is lost silently.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conflict {
    pub place: Place,
    /// What people call it ("Tên mô hình", "Chỉ tiêu “Hộ tham gia”: mục tiêu").
    pub label: String,
    /// Every value, the current winner first, as text.
    pub values: Vec<String>,
}

/// Keys whose conflicts mean nothing to a person (bookkeeping) or cannot happen (the owner).
const NOT_CONFLICTS: [&str; 8] = ["id", "schema", "status", "created_by", "created_at", "updated_by", "updated_at", "unit"];

fn scalar_text(value: &automerge::Value<'_>) -> Option<String> {
    match value {
        automerge::Value::Scalar(s) => Some(match s.as_ref() {
            automerge::ScalarValue::Str(t) => t.to_string(),
            automerge::ScalarValue::Int(n) => n.to_string(),
            automerge::ScalarValue::Uint(n) => n.to_string(),
            automerge::ScalarValue::F64(n) => crate::domain::format_amount_vi(*n),
            automerge::ScalarValue::Boolean(b) => b.to_string(),
            other => other.to_string(),
        }),
        automerge::Value::Object(_) => None,
    }
}

/// Every value at `key`, the one automerge shows (the winner) first; [`resolve`] indexes this.
fn values_winner_first<'a>(doc: &'a AutoCommit, obj: &automerge::ObjId, key: &str) -> Vec<(automerge::Value<'a>, automerge::ObjId)> {
    let mut values = doc.get_all(obj, key).unwrap_or_default();
    if let Ok(Some((_, winner))) = doc.get(obj, key)
        && let Some(i) = values.iter().position(|(_, id)| *id == winner)
    {
        let w = values.remove(i);
        values.insert(0, w);
    }
    values
}

/// The short items (and indicator cells) that hold concurrent values.
pub fn conflicts(doc: &AutoCommit) -> Vec<Conflict> {
    let mut out = Vec::new();
    for key in doc.keys(automerge::ROOT).filter(|k| !NOT_CONFLICTS.contains(&k.as_str())) {
        let values = values_winner_first(doc, &automerge::ROOT, &key);
        let texts: Vec<String> = values.iter().filter_map(|(v, _)| scalar_text(v)).collect();
        if texts.len() > 1 {
            let label = crate::domain::item_label(&key).unwrap_or(key.as_str()).to_string();
            out.push(Conflict { place: Place::Item(key.clone()), label, values: texts });
        }
    }
    if let Ok(Some((automerge::Value::Object(_), list))) = doc.get(automerge::ROOT, "indicators") {
        for i in 0..doc.length(&list) {
            let Ok(Some((_, row))) = doc.get(&list, i) else { continue };
            let text = |k: &str| doc.get(&row, k).ok().flatten().and_then(|(v, _)| scalar_text(&v)).unwrap_or_default();
            let (id, name) = (text("id"), text("name"));
            for (key, what) in [("name", "tên"), ("unit", "đơn vị tính"), ("target", "mục tiêu"), ("achieved", "đạt được")] {
                let values = values_winner_first(doc, &row, key);
                let texts: Vec<String> = values.iter().filter_map(|(v, _)| scalar_text(v)).collect();
                if texts.len() > 1 {
                    let label = format!("Chỉ tiêu “{name}”: {what}");
                    out.push(Conflict { place: Place::Indicator { id: id.clone(), key: key.to_string() }, label, values: texts });
                }
            }
        }
    }
    out
}

/// Keeps value number `choice` of a conflict (as listed by [`conflicts`]): writes it again, which
/// supersedes every concurrent value, as one change. Returns false if the conflict is gone.
pub fn resolve(doc: &mut AutoCommit, place: &Place, choice: usize, now_ms: i64, by: &str) -> Result<bool, DocError> {
    let (obj, key) = match place {
        Place::Item(key) => (automerge::ROOT, key.clone()),
        Place::Indicator { id, key } => {
            let Some((automerge::Value::Object(_), list)) = doc.get(automerge::ROOT, "indicators")? else { return Ok(false) };
            let mut found = None;
            for i in 0..doc.length(&list) {
                if let Some((_, row)) = doc.get(&list, i)?
                    && doc.get(&row, "id")?.and_then(|(v, _)| scalar_text(&v)).as_deref() == Some(id.as_str())
                {
                    found = Some(row);
                }
            }
            let Some(row) = found else { return Ok(false) };
            (row, key.clone())
        }
    };
    let values = values_winner_first(doc, &obj, &key);
    if values.len() < 2 {
        return Ok(false);
    }
    let Some((automerge::Value::Scalar(chosen), _)) = values.into_iter().nth(choice) else { return Ok(false) };
    let chosen = chosen.into_owned();
    use automerge::transaction::Transactable;
    doc.put(&obj, key.as_str(), chosen)?;
    doc.put(automerge::ROOT, "updated_by", by)?;
    doc.put(automerge::ROOT, "updated_at", now_ms)?;
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message("chọn giá trị khi có xung đột".to_string()));
    Ok(true)
}

/// One saved change of a model, as people read it: when, by whom, which items from what to what.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Revision {
    pub at: i64,
    /// The name the change recorded as `updated_by` (or `created_by`).
    pub author: String,
    pub message: String,
    pub changes: Vec<ItemChange>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemChange {
    pub key: String,
    pub label: String,
    /// Before and after, as text (`None`: not set); lists (indicators, steps) are summarised.
    pub from: Option<String>,
    pub to: Option<String>,
    /// For a narrative that had text before and after: what stayed, went and came, word by word
    /// (long unchanged stretches shortened), so one added sentence does not read as the whole
    /// paragraph struck out and typed again. Empty otherwise.
    #[serde(default)]
    pub pieces: Vec<TextPiece>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PieceKind {
    Same,
    Removed,
    Added,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextPiece {
    pub kind: PieceKind,
    pub text: String,
}

/// Unchanged text longer than this keeps only its ends around the edits.
const SAME_KEPT: usize = 60;

/// The word-by-word difference of two versions of a narrative.
pub fn text_pieces(from: &str, to: &str) -> Vec<TextPiece> {
    use similar::{ChangeTag, TextDiff};
    // No deadline: similar reads `Instant::now()` for one, which panics on wasm32; narratives are
    // bounded by validation, and history shows at most `HISTORY_SHOWN` changes.
    let diff = TextDiff::from_unicode_words(from, to);
    let mut pieces: Vec<TextPiece> = Vec::new();
    for change in diff.iter_all_changes() {
        let kind = match change.tag() {
            ChangeTag::Equal => PieceKind::Same,
            ChangeTag::Delete => PieceKind::Removed,
            ChangeTag::Insert => PieceKind::Added,
        };
        match pieces.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(change.value()),
            _ => pieces.push(TextPiece { kind, text: change.value().to_string() }),
        }
    }
    let last = pieces.len().saturating_sub(1);
    for (i, piece) in pieces.iter_mut().enumerate() {
        let chars = piece.text.chars().count();
        if piece.kind != PieceKind::Same || chars <= SAME_KEPT {
            continue;
        }
        let half = SAME_KEPT / 2;
        let head: String = piece.text.chars().take(half).collect();
        let tail: String = piece.text.chars().skip(chars - half).collect();
        piece.text = match (i == 0, i == last) {
            (true, true) => piece.text.clone(),
            (true, false) => format!("…{tail}"),
            (false, true) => format!("{head}…"),
            (false, false) => format!("{head}…{tail}"),
        };
    }
    pieces
}

fn value_at(doc: &AutoCommit, key: &str, heads: &[automerge::ChangeHash]) -> Option<String> {
    match doc.get_at(automerge::ROOT, key, heads).ok()?? {
        (automerge::Value::Object(automerge::ObjType::Text), text) => doc.text_at(&text, heads).ok(),
        // A map item (the model replicated from) reads as its name, not as a count of keys.
        (automerge::Value::Object(automerge::ObjType::Map), map) => match doc.get_at(&map, "name", heads).ok()? {
            Some((name, _)) => scalar_text(&name),
            None => Some(format!("{} mục", doc.length_at(&map, heads))),
        },
        (automerge::Value::Object(_), list) => Some(format!("{} mục", doc.length_at(&list, heads))),
        // A null (an item cleared) or empty text reads as "not set", never as the word "null".
        (automerge::Value::Scalar(s), _) if s.is_null() => None,
        (value, _) => scalar_text(&value).filter(|t| !t.is_empty()),
    }
}

/// Coded values as people read them (field, level, owner kind); others as they are.
fn readable(key: &str, value: String) -> String {
    use crate::domain::{Level, OwnerKind, field_label};
    match key {
        "field" => field_label(&value).to_string(),
        "level" => Level::from_code(&value).map_or(value, |l| l.label().to_string()),
        "owner_kind" => OwnerKind::from_code(&value).map_or(value, |k| k.label().to_string()),
        "start_date" | "end_date" | "evaluation_date" => crate::domain::format_date_vi(&value),
        _ => value,
    }
}

/// Every change of the document, oldest first, with the items it changed (from automerge's own
/// history: nothing is recorded twice).
pub fn history(doc: &mut AutoCommit) -> History {
    let mut changes = doc.get_changes(&[]);
    // The newest changes only: a model's page must open at once however long its life (or
    // however a hostile peer padded it); each shown change costs its own size, not a diff.
    let older = changes.len().saturating_sub(HISTORY_SHOWN);
    changes.drain(..older);
    let mut out = Vec::with_capacity(changes.len());
    // Word diffs cost up to the product of the texts' lengths: a bounded total per history, the
    // newest changes first in line (beyond it a change shows before and after whole).
    let diffed = std::cell::Cell::new(0usize);
    for change in changes.into_iter().rev() {
        let deps = change.deps().to_vec();
        let after = vec![change.hash()];
        let keys = keys_of_change(doc, &change);
        // Unchanged bookkeeping writes no operation, so read who it names as of this change.
        let author = value_at(doc, "updated_by", &after).or_else(|| value_at(doc, "created_by", &after)).unwrap_or_default();
        // In the form's order, not in the order the change's operations happen to come.
        let mut keys = keys;
        keys.sort_by_key(|k| crate::domain::ITEM_LABELS.iter().position(|(key, _)| key == k).unwrap_or(usize::MAX));
        let changes = keys
            .iter()
            .filter_map(|k| {
                let label = crate::domain::item_label(k)?;
                let shown = |v: Option<String>| v.map(|v| readable(k, v));
                let (from, to) = (shown(value_at(doc, k, &deps)), shown(value_at(doc, k, &after)));
                if from == to {
                    return None; // an operation that left the item as it was
                }
                let pieces = match (&from, &to) {
                    (Some(f), Some(t)) if is_narrative(k) && diffed.get() + f.len() + t.len() <= DIFF_BUDGET => {
                        diffed.set(diffed.get() + f.len() + t.len());
                        text_pieces(f, t)
                    }
                    _ => Vec::new(),
                };
                // An empty list made with the model says nothing.
                (from.is_some() || to.as_deref() != Some(crate::i18n::vi("0 mục"))).then(|| ItemChange { key: k.clone(), label: label.to_string(), from, to, pieces })
            })
            .collect();
        out.push(Revision { at: change.timestamp(), author, message: change.message().unwrap_or_default().to_string(), changes });
    }
    out.reverse();
    History { revisions: out, older }
}

/// Bytes of narrative text one history may diff word by word (both versions counted).
const DIFF_BUDGET: usize = 400_000;

/// The seven narrative items (automerge texts).
fn is_narrative(key: &str) -> bool {
    matches!(key, "situation" | "goals" | "content" | "area" | "forces" | "resources" | "sustainability")
}

/// How many of the newest changes the history view shows.
pub const HISTORY_SHOWN: usize = 200;

/// The history view: the newest changes, and how many older ones are not shown.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct History {
    pub revisions: Vec<Revision>,
    pub older: usize,
}

/// The top-level keys one change's operations landed under, in the order first met.
fn keys_of_change(doc: &AutoCommit, change: &automerge::Change) -> Vec<String> {
    use automerge::legacy::{Key, ObjectId, OpId};
    let expanded = change.decode();
    let mut roots: std::collections::HashMap<ObjectId, Option<String>> = std::collections::HashMap::new();
    let mut keys: Vec<String> = Vec::new();
    for (i, op) in expanded.operations.iter().enumerate() {
        let key = match (&op.obj, &op.key) {
            (ObjectId::Root, Key::Map(k)) => Some(k.to_string()),
            (ObjectId::Root, Key::Seq(_)) => None,
            (obj, _) => match roots.get(obj) {
                Some(k) => k.clone(),
                None => {
                    let k = existing_object(doc, obj).map(|(_, k)| k);
                    roots.insert(obj.clone(), k.clone());
                    k
                }
            },
        };
        if let automerge::legacy::OpType::Make(_) = op.action {
            roots.insert(ObjectId::Id(OpId(expanded.start_op.get() + i as u64, expanded.actor_id.clone())), key.clone());
        }
        if let Some(k) = key
            && !keys.contains(&k)
        {
            keys.push(k);
        }
    }
    keys
}

/// The photos the model's activity log shows (their ids), read without the rest of the model: what
/// the server keeps photo bytes for (uploads and the sweeper, `server::photos`).
pub fn journal_photo_ids(doc: &AutoCommit) -> Result<std::collections::BTreeSet<String>, DocError> {
    let journal: Vec<crate::domain::JournalEntry> = root_list(doc, "journal")?;
    Ok(journal.into_iter().flat_map(|entry| entry.photos.into_iter().map(|photo| photo.id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ModelDraft, STANDARD_FIELDS};
    use autosurgeon::Text;

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
    fn writing_only_the_changed_items_reads_back_as_writing_the_whole_model() {
        let mut whole = create(&sample("m1"), 1).unwrap();
        let mut changed = whole.fork();
        let created = changed.get_heads();
        let before = read_model(&changed).unwrap();
        let mut after = before.clone();
        after.name = "Khéo vận động làm đường liên thôn".into();
        after.content.update("Khéo chọn việc. Khéo tuyên truyền, vận động.");
        after.indicators[0].achieved = 2.5;
        after.end_date = "2026-12-31".into();
        after.updated_at = 5;
        write_model(&mut whole, &after, 5, "sửa").unwrap();
        write_changed(&mut changed, &before, &after, 5, "sửa").unwrap();
        assert_eq!(read_model(&changed).unwrap(), read_model(&whole).unwrap());
        assert_eq!(read_model(&changed).unwrap(), after);
        // Only what changed became operations: no step, commendation or journal list was touched.
        let keys = new_changes(&mut changed, &created, CHANGE_LIMITS).unwrap().touched;
        assert_eq!(keys.into_iter().collect::<Vec<_>>(), ["content", "end_date", "indicators", "name", "updated_at"]);
    }

    #[test]
    fn a_narrative_edited_item_by_item_still_merges_with_another_devices_edit() {
        let mut a = create(&sample("m1"), 1).unwrap();
        let mut b = a.fork();
        let ba = read_model(&a).unwrap();
        let mut ma = ba.clone();
        ma.content.update("Khéo chọn việc đúng. Khéo tuyên truyền.");
        write_changed(&mut a, &ba, &ma, 2, "sửa").unwrap();
        let bb = read_model(&b).unwrap();
        let mut mb = bb.clone();
        mb.content.update("Khéo chọn việc. Khéo tuyên truyền vận động.");
        mb.owner_name = "Chi bộ bản Bo".into();
        write_changed(&mut b, &bb, &mb, 3, "sửa").unwrap();
        a.merge(&mut b).unwrap();
        let merged = read_model(&a).unwrap();
        assert_eq!(merged.content.as_str(), "Khéo chọn việc đúng. Khéo tuyên truyền vận động.");
        assert_eq!(merged.owner_name, "Chi bộ bản Bo");
    }

    #[test]
    fn newer_schemas_are_refused_not_misread() {
        let mut doc = create(&sample("m1"), 1).unwrap();
        use automerge::transaction::Transactable;
        doc.put(automerge::ROOT, "schema", SCHEMA_VERSION + 1).unwrap();
        assert!(matches!(read_model(&doc), Err(DocError::TooNew(v)) if v == SCHEMA_VERSION + 1));
        assert!(load(b"not automerge").is_err());
    }

    #[test]
    fn concurrent_values_of_one_item_are_all_shown_and_one_can_be_kept() {
        let mut a = create(&sample("m1"), 1).unwrap();
        let mut b = a.fork();
        let mut ma = read_model(&a).unwrap();
        ma.name = "Tên do A đặt".into();
        ma.indicators[0].target = 7.0;
        write_model(&mut a, &ma, 2, "sửa").unwrap();
        let mut mb = read_model(&b).unwrap();
        mb.name = "Tên do B đặt".into();
        mb.indicators[0].target = 9.0;
        mb.owner_name = "Chỉ B sửa mục này".into();
        write_model(&mut b, &mb, 3, "sửa").unwrap();
        a.merge(&mut b).unwrap();

        let found = conflicts(&a);
        let labels: Vec<&str> = found.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["Tên mô hình", "Chỉ tiêu “Đường bê tông”: mục tiêu"], "{found:?}");
        let mut names = found[0].values.clone();
        names.sort();
        assert_eq!(names, ["Tên do A đặt", "Tên do B đặt"]);
        assert_eq!(found[0].values[0], read_model(&a).unwrap().name, "the winner first");

        // Keep the other one: the conflict is gone, on every replica once merged.
        let loser = found[0].values[1].clone();
        assert!(resolve(&mut a, &found[0].place, 1, 4, "Cán bộ C").unwrap());
        assert_eq!(read_model(&a).unwrap().name, loser);
        b.merge(&mut a).unwrap();
        assert_eq!(conflicts(&b).len(), 1, "only the indicator's target is left");
        let left = conflicts(&b)[0].place.clone();
        assert!(resolve(&mut b, &left, 0, 5, "Cán bộ C").unwrap());
        assert!(conflicts(&b).is_empty());
        assert!(!resolve(&mut b, &Place::Item("name".into()), 0, 6, "x").unwrap(), "nothing left to resolve");
    }

    #[test]
    fn history_says_who_changed_which_item_from_what_to_what() {
        let mut d = create(&sample("m1"), 1_000).unwrap();
        let mut m = read_model(&d).unwrap();
        m.name = "Khéo vận động làm đường bê tông".into();
        m.updated_by = "Cán bộ B".into();
        m.content = Text::with_value("Khéo chọn việc.");
        write_model(&mut d, &m, 2_000, "sửa mô hình").unwrap();
        let History { revisions, older } = history(&mut d);
        assert_eq!((revisions.len(), older), (2, 0));
        assert_eq!((revisions[0].at, revisions[0].author.as_str(), revisions[0].message.as_str()), (1_000, "Cán bộ A", "tạo mô hình"));
        let edit = &revisions[1];
        assert_eq!((edit.at, edit.author.as_str()), (2_000, "Cán bộ B"));
        let mut changed: Vec<(&str, Option<&str>, Option<&str>)> =
            edit.changes.iter().map(|c| (c.label.as_str(), c.from.as_deref(), c.to.as_deref())).collect();
        changed.sort();
        assert_eq!(
            changed,
            [
                ("Nội dung, cách thức thực hiện", Some("Khéo chọn việc. Khéo tuyên truyền."), Some("Khéo chọn việc.")),
                ("Tên mô hình", Some("Khéo vận động làm đường"), Some("Khéo vận động làm đường bê tông")),
            ]
        );
    }

    #[test]
    fn history_lists_items_in_the_forms_order_with_dates_and_sources_as_people_write_them() {
        let mut d = create(&sample("m1"), 1_000).unwrap();
        let mut m = read_model(&d).unwrap();
        m.sustainability = Text::with_value("Tự quản, có quỹ thôn.");
        m.end_date = "2026-12-31".into();
        m.name = "Khéo vận động làm đường bê tông".into();
        m.owner_name = "Chi bộ bản Bo".into();
        m.replicated_from = Some(crate::domain::ReplicatedFrom {
            id: "m0".into(),
            name: "Mô hình gốc ở xã Nà Pồng".into(),
            unit: "NAPONG".into(),
            unit_name: "Xã Nà Pồng".into(),
        });
        write_model(&mut d, &m, 2_000, "sửa mô hình").unwrap();
        let History { revisions, .. } = history(&mut d);
        let shown: Vec<(&str, Option<&str>, Option<&str>)> =
            revisions[1].changes.iter().map(|c| (c.label.as_str(), c.from.as_deref(), c.to.as_deref())).collect();
        assert_eq!(
            shown,
            [
                ("Tên mô hình", Some("Khéo vận động làm đường"), Some("Khéo vận động làm đường bê tông")),
                ("Tên chủ thể thực hiện", Some("Khối Dân vận xã"), Some("Chi bộ bản Bo")),
                ("Ngày kết thúc dự kiến", None, Some("31/12/2026")),
                ("Khả năng duy trì, nhân rộng", Some("Tự quản"), Some("Tự quản, có quỹ thôn.")),
                ("Nhân rộng từ", None, Some("Mô hình gốc ở xã Nà Pồng")),
            ]
        );
        // A creation shows no "null" and no empty values.
        assert!(revisions[0].changes.iter().all(|c| c.to.as_deref() != Some("null") && c.to.as_deref() != Some("")), "{:?}", revisions[0].changes);
    }

    #[test]
    fn a_sentence_added_to_a_narrative_shows_as_added_not_as_the_paragraph_retyped() {
        let before = "Thôn có 120 hộ, đường đất lầy lội vào mùa mưa, học sinh đi học khó khăn, bà con nhiều lần kiến nghị.";
        let after = "Thôn có 120 hộ, đường đất lầy lội vào mùa mưa, học sinh đi học khó khăn, bà con nhiều lần kiến nghị. Chi bộ họp bàn cách làm.";
        let pieces = text_pieces(before, after);
        let kinds: Vec<PieceKind> = pieces.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [PieceKind::Same, PieceKind::Added]);
        assert_eq!(pieces[1].text.trim(), "Chi bộ họp bàn cách làm.");
        assert!(pieces[0].text.starts_with('…') && pieces[0].text.chars().count() <= SAME_KEPT / 2 + 1, "{:?}", pieces[0]);
        let replaced = text_pieces("Khéo chọn việc. Khéo tuyên truyền.", "Khéo chọn việc đúng. Khéo tuyên truyền.");
        assert_eq!(replaced.iter().filter(|p| p.kind == PieceKind::Added).map(|p| p.text.as_str()).collect::<String>().trim(), "đúng");
        assert!(replaced.iter().all(|p| p.kind != PieceKind::Removed), "{replaced:?}");

        let mut d = create(&sample("m1"), 1_000).unwrap();
        let mut m = read_model(&d).unwrap();
        m.content.update("Khéo chọn việc. Khéo tuyên truyền. Khéo huy động nguồn lực.");
        write_model(&mut d, &m, 2_000, "sửa").unwrap();
        let change = &history(&mut d).revisions[1].changes[0];
        assert_eq!(change.key, "content");
        assert!(change.pieces.iter().any(|p| p.kind == PieceKind::Added && p.text.contains("Khéo huy động nguồn lực.")), "{change:?}");
    }

    #[test]
    fn the_history_shows_the_newest_changes_and_counts_the_rest() {
        let mut d = create(&sample("m1"), 1_000).unwrap();
        for i in 0..HISTORY_SHOWN + 5 {
            let mut m = read_model(&d).unwrap();
            m.owner_name = format!("Chủ thể {i}");
            write_model(&mut d, &m, 2_000 + i as i64, "sửa").unwrap();
        }
        let h = history(&mut d);
        assert_eq!((h.revisions.len(), h.older), (HISTORY_SHOWN, 6));
        assert_eq!(h.revisions.last().unwrap().changes[0].to.as_deref(), Some(format!("Chủ thể {}", HISTORY_SHOWN + 4).as_str()));
    }

    #[test]
    fn a_change_nested_a_thousand_deep_is_read_from_its_operations() {
        use automerge::transaction::Transactable;
        let mut d = create(&sample("m1"), 1_000).unwrap();
        let before = d.get_heads();
        let list = d.put_object(automerge::ROOT, "replications", automerge::ObjType::List).unwrap();
        let mut obj = d.insert_object(&list, 0, automerge::ObjType::Map).unwrap();
        for _ in 0..1_000 {
            obj = d.put_object(&obj, "x", automerge::ObjType::Map).unwrap();
        }
        d.commit();
        let started = std::time::Instant::now();
        assert_eq!(new_changes(&mut d, &before, CHANGE_LIMITS), Err(LimitError::Depth(CHANGE_LIMITS.depth)));
        let unbounded = ChangeLimits { depth: usize::MAX, ..CHANGE_LIMITS };
        let read = new_changes(&mut d, &before, unbounded).unwrap();
        assert_eq!(read.touched.into_iter().collect::<Vec<_>>(), ["replications"]);
        assert_eq!(history(&mut d).revisions[1].changes[0].key, "replications");
        // Not a timing test: a diff of this change took seconds and gigabytes; this is reported.
        eprintln!("read a 1,000-deep change three times in {:?}", started.elapsed());
    }
}
