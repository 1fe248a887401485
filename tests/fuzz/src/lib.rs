//! What the fuzz targets share: a small organisation (tree, accounts, grants), real model
//! documents to start from, and fuzzer-chosen edits of an automerge document — low-level
//! operations anywhere in it (right or wrong types, deep nesting) and high-level ones through the
//! domain (steps, commendations, replication points, journal entries, evaluations, with forged
//! ids, names and dates), so the inputs reach the rules instead of dying in a decoder.
//!
//! Everything is deterministic for a given input (fixed actor ids, fixed clock), so a crash
//! found once replays with `cargo fuzz run TARGET ARTIFACT`.

use arbitrary::Arbitrary;
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, Prop, ReadDoc, ScalarValue, Value};
use danvan::domain::{
    Access, Action, Commendation, Evaluation, Grant, JournalEntry, Level, Model, Replication, Role, Transition, Unit,
    UnitKind, UnitTree, default_criteria, OwnerKind,
};

/// The clock of every document the targets make (ms since the epoch, 2026-11-01).
pub const T0: i64 = 1_793_491_200_000;

/// Province P with communes A and B below it.
pub fn tree() -> UnitTree {
    let unit = |code: &str, kind, parent: Option<&str>| Unit {
        code: code.into(),
        name: format!("Đơn vị {code}"),
        kind,
        level: if parent.is_some() { Level::Grassroots } else { Level::Province },
        parent: parent.map(str::to_string),
        cluster: None,
    };
    UnitTree::from_units(vec![unit("P", UnitKind::ProvinceCommittee, None), unit("A", UnitKind::Commune, Some("P")), unit("B", UnitKind::Commune, Some("P"))], Vec::new())
}

/// The accounts the targets act as: a cadre of A, a reviewer of P (above A), a cadre of B (a
/// stranger to A's models, reader of the library), an administrator of P, and a user without grants.
pub const USERS: [&str; 5] = ["canbo.a", "binhxet", "canbo.b", "quantri", "nobody"];

pub fn access(user: &str) -> Access {
    let grants: Vec<Grant> = match user {
        "canbo.a" => vec![Grant { unit: "A".into(), role: Role::Member }],
        "binhxet" => vec![Grant { unit: "P".into(), role: Role::Reviewer }],
        "canbo.b" => vec![Grant { unit: "B".into(), role: Role::Member }],
        "quantri" => vec![Grant { unit: "P".into(), role: Role::Admin }],
        _ => Vec::new(),
    };
    Access::new(&grants, &tree())
}

pub fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

/// A registered model of `unit`, as the app writes it (a cadre's device, actor 1); with
/// `in_library`, recognised by the reviewer (actor 2) after the cadre started it.
pub fn model_doc(unit: &str, in_library: bool) -> AutoCommit {
    let mut model = Model::new("mo-hinh-1".into(), "canbo.a", T0);
    model.name = "Hũ gạo tình thương".into();
    model.unit = unit.into();
    model.unit_name = format!("Đơn vị {unit}");
    model.owner_name = "Chi hội Phụ nữ thôn Nà Khuy".into();
    model.start_date = "2026-01-15".into();
    model.year = 2026;
    model.situation = autosurgeon::Text::with_value("Nhiều hộ khó khăn; bà con góp gạo mỗi tuần.");
    model.indicators.push(danvan::domain::Indicator { id: "i1".into(), name: "Hộ được giúp".into(), unit: "hộ".into(), target: 20.0, achieved: 0.0 });
    let mut doc = AutoCommit::new().with_actor(actor(1));
    danvan::doc::write_model(&mut doc, &model, T0, "tạo mô hình").expect("a new model writes");
    if in_library {
        model.transitions.push(step("s1", Action::Start, "canbo.a", T0 + 1));
        danvan::doc::write_model(&mut doc, &model, T0 + 1, "bắt đầu").expect("writes");
        let mut reviewer = doc.fork().with_actor(actor(2));
        model.transitions.push(step("s2", Action::Recognise, "binhxet", T0 + 2));
        danvan::doc::write_keys(&mut reviewer, &model, &["transitions"], T0 + 2, "công nhận").expect("writes");
        doc.merge(&mut reviewer).expect("merges");
    }
    doc
}

pub fn step(id: &str, action: Action, by: &str, at: i64) -> Transition {
    Transition { id: id.into(), action: action.code().into(), by: by.into(), by_name: by.into(), at, reason: "lý do".into(), level: "tinh".into() }
}

/// Keys the schema uses (root and nested), so that fuzzer-chosen keys hit real ones often.
pub const KEYS: &[&str] = &[
    "schema", "id", "name", "situation", "goals", "content", "area", "forces", "resources", "start_date", "end_date",
    "evaluation_date", "indicators", "sustainability", "owner_kind", "owner_name", "field", "unit", "level", "year",
    "status", "transitions", "commendations", "unit_name", "replicated_from", "replications", "evaluations", "journal",
    "created_by", "created_at", "updated_by", "updated_at", "action", "by", "by_name", "at", "reason", "form", "issuer",
    "decision_number", "decision_date", "recipients", "target", "achieved", "scores", "changes", "submitted_at",
    "result", "started_at", "criterion", "label", "max", "score", "comment", "date", "text", "updates", "photos",
    "location", "place", "lat", "lon", "accuracy", "content_type", "bytes", "width", "height", "indicator", "from", "to",
];

#[derive(Arbitrary, Debug, Clone)]
pub enum KeyChoice {
    Known(u8),
    Other(String),
}

impl KeyChoice {
    pub fn key(&self) -> String {
        match self {
            KeyChoice::Known(i) => KEYS[*i as usize % KEYS.len()].to_string(),
            KeyChoice::Other(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Uint(u64),
    F64(f64),
    Bool(bool),
    Null,
    Counter(i64),
    Timestamp(i64),
    Bytes(Vec<u8>),
    /// A value the schema uses for this kind of key (a user, a unit, an action code, a level).
    Known(u8),
}

const KNOWN_STRINGS: &[&str] = &[
    "canbo.a", "binhxet", "canbo.b", "quantri", "A", "B", "P", "bat_dau", "de_nghi", "cong_nhan", "khong_cong_nhan",
    "tra_lai", "dien_hinh", "khen_thuong", "dung", "tinh", "trung_uong", "co_so", "huyen", "tap_the", "ca_nhan",
    "ho_gia_dinh", "bang_khen", "s1", "s2", "2026-11-20", "",
];

impl Scalar {
    pub fn value(&self) -> ScalarValue {
        match self {
            Scalar::Str(s) => ScalarValue::Str(s.as_str().into()),
            Scalar::Int(v) => ScalarValue::Int(*v),
            Scalar::Uint(v) => ScalarValue::Uint(*v),
            Scalar::F64(v) => ScalarValue::F64(*v),
            Scalar::Bool(v) => ScalarValue::Boolean(*v),
            Scalar::Null => ScalarValue::Null,
            Scalar::Counter(v) => ScalarValue::counter(*v),
            Scalar::Timestamp(v) => ScalarValue::Timestamp(*v),
            Scalar::Bytes(v) => ScalarValue::Bytes(v.clone()),
            Scalar::Known(i) => ScalarValue::Str(KNOWN_STRINGS[*i as usize % KNOWN_STRINGS.len()].into()),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Kind {
    Map,
    List,
    Text,
}

impl Kind {
    fn obj_type(self) -> ObjType {
        match self {
            Kind::Map => ObjType::Map,
            Kind::List => ObjType::List,
            Kind::Text => ObjType::Text,
        }
    }
}

/// One operation on the document: at the object `path` leads to (each step picks one of the
/// current object's child objects), a put, insert, delete, text splice, increment, a new nested
/// object (`depth` more levels at once, to try the nesting bound), or a commit.
#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    Put { path: Vec<u8>, key: KeyChoice, index: u8, value: Scalar },
    PutObject { path: Vec<u8>, key: KeyChoice, index: u8, kind: Kind },
    Insert { path: Vec<u8>, index: u8, value: Scalar },
    InsertObject { path: Vec<u8>, index: u8, kind: Kind },
    Delete { path: Vec<u8>, key: KeyChoice, index: u8 },
    Splice { path: Vec<u8>, index: u8, delete: i8, text: String },
    Increment { path: Vec<u8>, key: KeyChoice, index: u8, by: i64 },
    Nest { path: Vec<u8>, key: KeyChoice, depth: u8, kind: Kind },
    Commit { time: i64, message: Option<String> },
}

/// The object `path` leads to from the root (stops where there is no child object).
pub fn walk(doc: &AutoCommit, path: &[u8]) -> ObjId {
    let mut obj = automerge::ROOT;
    for &choice in path.iter().take(12) {
        let children: Vec<ObjId> = match doc.object_type(&obj) {
            Ok(ObjType::Map) | Ok(ObjType::Table) => doc
                .keys(&obj)
                .filter_map(|k| match doc.get(&obj, k.as_str()) {
                    Ok(Some((Value::Object(_), id))) => Some(id),
                    _ => None,
                })
                .collect(),
            Ok(ObjType::List) => (0..doc.length(&obj).min(64))
                .filter_map(|i| match doc.get(&obj, i) {
                    Ok(Some((Value::Object(_), id))) => Some(id),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        if children.is_empty() {
            break;
        }
        obj = children[choice as usize % children.len()].clone();
    }
    obj
}

/// Where in `obj` a key or an index lands: maps take the key, sequences an index within (or one
/// past) their length.
fn prop(doc: &AutoCommit, obj: &ObjId, key: &KeyChoice, index: u8) -> Prop {
    match doc.object_type(obj) {
        Ok(ObjType::List) | Ok(ObjType::Text) => Prop::Seq(index as usize % (doc.length(obj) + 1)),
        _ => Prop::Map(key.key()),
    }
}

/// Applies `op`; automerge's refusals (wrong key type, index out of range) are ignored, as a
/// peer's library would refuse them before they became changes.
pub fn apply_op(doc: &mut AutoCommit, op: &Op) {
    match op {
        Op::Put { path, key, index, value } => {
            let obj = walk(doc, path);
            let p = prop(doc, &obj, key, *index);
            let _ = doc.put(&obj, p, value.value());
        }
        Op::PutObject { path, key, index, kind } => {
            let obj = walk(doc, path);
            let p = prop(doc, &obj, key, *index);
            let _ = doc.put_object(&obj, p, kind.obj_type());
        }
        Op::Insert { path, index, value } => {
            let obj = walk(doc, path);
            let at = *index as usize % (doc.length(&obj) + 1);
            let _ = doc.insert(&obj, at, value.value());
        }
        Op::InsertObject { path, index, kind } => {
            let obj = walk(doc, path);
            let at = *index as usize % (doc.length(&obj) + 1);
            let _ = doc.insert_object(&obj, at, kind.obj_type());
        }
        Op::Delete { path, key, index } => {
            let obj = walk(doc, path);
            let p = prop(doc, &obj, key, *index);
            let _ = doc.delete(&obj, p);
        }
        Op::Splice { path, index, delete, text } => {
            let obj = walk(doc, path);
            let at = *index as usize % (doc.length(&obj) + 1);
            let _ = doc.splice_text(&obj, at, *delete as isize, text);
        }
        Op::Increment { path, key, index, by } => {
            let obj = walk(doc, path);
            let p = prop(doc, &obj, key, *index);
            let _ = doc.increment(&obj, p, *by);
        }
        Op::Nest { path, key, depth, kind } => {
            let mut obj = walk(doc, path);
            // Up to 40 levels: far past the server's bound of 8, cheap enough per input.
            for _ in 0..(*depth % 40) {
                let p = prop(doc, &obj, key, 0);
                let made = match kind {
                    Kind::List => doc.put_object(&obj, p, ObjType::List),
                    _ => doc.put_object(&obj, p, ObjType::Map),
                };
                match made {
                    Ok(o) => obj = o,
                    Err(_) => break,
                }
            }
        }
        Op::Commit { time, message } => {
            let mut options = automerge::transaction::CommitOptions::default().with_time(*time);
            if let Some(m) = message {
                options = options.with_message(m.clone());
            }
            doc.commit_with(options);
        }
    }
}

/// A name the fuzzer picks among the accounts (forged or own), or any string.
#[derive(Arbitrary, Debug, Clone)]
pub enum Name {
    User(u8),
    Other(String),
}

impl Name {
    pub fn get(&self) -> String {
        match self {
            Name::User(i) => USERS[*i as usize % USERS.len()].to_string(),
            Name::Other(s) => s.clone(),
        }
    }
}

/// An entry id: one of a few (so new entries collide with old ones, the forgery of issue 11), or any.
#[derive(Arbitrary, Debug, Clone)]
pub enum Id {
    Few(u8),
    Other(String),
}

impl Id {
    pub fn get(&self) -> String {
        match self {
            Id::Few(i) => format!("s{}", i % 4),
            Id::Other(s) => s.clone(),
        }
    }
}

/// A time: near the document's clock (before or after), or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum When {
    Near(i16),
    Any(i64),
}

impl When {
    pub fn get(self) -> i64 {
        match self {
            When::Near(d) => T0 + i64::from(d),
            When::Any(v) => v,
        }
    }
}

/// A change the app's own code could make (or a forged one of the same shape): the model is read,
/// changed, and written back as the app writes (`write_model`, or only some keys as reviewers
/// and readers do with `write_keys`).
#[derive(Arbitrary, Debug, Clone)]
pub enum DomainEdit {
    AddStep { id: Id, action: u8, by: Name, at: When, reason: bool, level: u8 },
    EditStep { index: u8, at: When, by: Name },
    RemoveStep { index: u8 },
    AddCommendation { id: Id, by: Name, at: When },
    EditCommendation { index: u8, issuer: String },
    AddReplication { id: Id, unit: u8, by: Name },
    AddJournal { id: Id, by: Name, text: String, at: When },
    EditJournal { index: u8, text: String },
    AddEvaluation { id: Id, by: Name, scores: Vec<u8>, submit: Option<u8>, reason: String },
    EditEvaluation { index: u8, score: u8, submitted_at: i64 },
    Rename { name: String },
    MoveTo { unit: u8 },
    Duplicate { list: u8, index: u8 },
}

fn pick<T>(list: &mut [T], index: u8) -> Option<&mut T> {
    let n = list.len();
    (n > 0).then(move || &mut list[index as usize % n])
}

/// Applies a domain edit through the app's reader and writer; with `keys`, writes only those
/// top-level keys. Nothing happens when the document is no model the app reads.
pub fn apply_domain(doc: &mut AutoCommit, edit: &DomainEdit, keys: Option<&[&str]>) {
    let Ok(mut m) = danvan::doc::read_model(doc) else { return };
    match edit {
        DomainEdit::AddStep { id, action, by, at, reason, level } => {
            let action = Action::ALL[*action as usize % Action::ALL.len()];
            let level = Level::ALL.get(*level as usize % (Level::ALL.len() + 1)).map_or("", |l| l.code());
            m.transitions.push(Transition {
                id: id.get(),
                action: action.code().into(),
                by: by.get(),
                by_name: by.get(),
                at: at.get(),
                reason: if *reason { "lý do".into() } else { String::new() },
                level: level.into(),
            });
        }
        DomainEdit::EditStep { index, at, by } => {
            if let Some(t) = pick(&mut m.transitions, *index) {
                t.at = at.get();
                t.by = by.get();
            }
        }
        DomainEdit::RemoveStep { index } => {
            if !m.transitions.is_empty() {
                let n = m.transitions.len();
                m.transitions.remove(*index as usize % n);
            }
        }
        DomainEdit::AddCommendation { id, by, at } => m.commendations.push(Commendation {
            id: id.get(),
            form: "bang_khen".into(),
            issuer: "Ban Thường vụ Tỉnh ủy".into(),
            level: "tinh".into(),
            decision_number: "125-QĐ/TU".into(),
            decision_date: "2026-11-20".into(),
            recipients: String::new(),
            by: by.get(),
            by_name: by.get(),
            at: at.get(),
        }),
        DomainEdit::EditCommendation { index, issuer } => {
            if let Some(c) = pick(&mut m.commendations, *index) {
                c.issuer = issuer.clone();
            }
        }
        DomainEdit::AddReplication { id, unit, by } => m.replications.push(Replication {
            id: id.get(),
            unit: ["A", "B", "P", "X"][*unit as usize % 4].into(),
            unit_name: "Đơn vị".into(),
            by: by.get(),
            by_name: by.get(),
            at: T0,
        }),
        DomainEdit::AddJournal { id, by, text, at } => m.journal.push(JournalEntry {
            id: id.get(),
            date: "2026-11-20".into(),
            text: text.clone(),
            updates: Vec::new(),
            photos: Vec::new(),
            location: None,
            place: String::new(),
            by: by.get(),
            by_name: by.get(),
            at: at.get(),
        }),
        DomainEdit::EditJournal { index, text } => {
            if let Some(j) = pick(&mut m.journal, *index) {
                j.text = text.clone();
            }
        }
        DomainEdit::AddEvaluation { id, by, scores, submit, reason } => {
            let mut e = Evaluation::new(id.get(), &default_criteria(OwnerKind::Collective), &by.get(), "Người bình xét", T0);
            for (s, v) in e.scores.iter_mut().zip(scores) {
                s.score = Some(u32::from(*v % 16));
            }
            if let Some(r) = submit {
                e.submitted_at = T0 + 5;
                e.result = Action::ALL[*r as usize % Action::ALL.len()].code().into();
                e.reason = reason.clone();
            }
            m.evaluations.push(e);
        }
        DomainEdit::EditEvaluation { index, score, submitted_at } => {
            if let Some(e) = pick(&mut m.evaluations, *index) {
                if let Some(s) = e.scores.first_mut() {
                    s.score = Some(u32::from(*score));
                }
                e.submitted_at = *submitted_at;
            }
        }
        DomainEdit::Rename { name } => m.name = name.clone(),
        DomainEdit::MoveTo { unit } => m.unit = ["A", "B", "P", ""][*unit as usize % 4].into(),
        DomainEdit::Duplicate { list, index } => match list % 3 {
            0 => {
                if let Some(t) = pick(&mut m.transitions, *index).cloned() {
                    m.transitions.push(t);
                }
            }
            1 => {
                if let Some(c) = pick(&mut m.commendations, *index).cloned() {
                    m.commendations.push(c);
                }
            }
            _ => {
                if let Some(r) = pick(&mut m.replications, *index).cloned() {
                    m.replications.push(r);
                }
            }
        },
    }
    let written = match keys {
        // write_keys knows only the lists others write and the bookkeeping.
        Some(keys) => danvan::doc::write_keys(doc, &m, keys, T0 + 10, "sửa"),
        None => danvan::doc::write_model(doc, &m, T0 + 10, "sửa"),
    };
    let _ = written;
}

/// Either kind of edit.
#[derive(Arbitrary, Debug, Clone)]
pub enum Edit {
    Op(Op),
    Domain(DomainEdit),
    /// Only the keys a reviewer writes (lifecycle log, commendations, evaluations).
    ReviewerDomain(DomainEdit),
    /// Only the key a reader of a library model writes (replication points).
    ReaderDomain(DomainEdit),
}

pub fn apply_edit(doc: &mut AutoCommit, edit: &Edit) {
    match edit {
        Edit::Op(op) => apply_op(doc, op),
        Edit::Domain(e) => apply_domain(doc, e, None),
        Edit::ReviewerDomain(e) => apply_domain(doc, e, Some(&["transitions", "commendations", "evaluations"])),
        Edit::ReaderDomain(e) => apply_domain(doc, e, Some(&["replications"])),
    }
}

/// Applies at most `max` edits and commits what is pending (so every edit is in a change).
pub fn apply_edits(doc: &mut AutoCommit, edits: &[Edit], max: usize) {
    for edit in edits.iter().take(max) {
        apply_edit(doc, edit);
    }
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(T0 + 20));
}

/// Flips bytes of `bytes` at fuzzer-chosen places (a damaged or forged encoding of a real value).
pub fn corrupt(bytes: &mut [u8], flips: &[(u16, u8)]) {
    if bytes.is_empty() {
        return;
    }
    let n = bytes.len();
    for (at, xor) in flips.iter().take(8) {
        bytes[*at as usize % n] ^= xor;
    }
}

/// `model_doc`'s saved bytes, made once per process (the same bytes every time: fixed actors).
pub fn model_bytes(unit: &str, in_library: bool) -> &'static [u8] {
    use std::sync::OnceLock;
    static DOCS: OnceLock<Vec<(String, bool, Vec<u8>)>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        ["A", "B"].iter().flat_map(|u| [false, true].map(|l| (u.to_string(), l, model_doc(u, l).save()))).collect()
    });
    &docs.iter().find(|(u, l, _)| u == unit && *l == in_library).expect("made for A and B").2
}

/// Everything the server and the app read from a document they received, as they read it: the
/// bounds first (`new_changes` since `before`), then the owner, the records, the model (and
/// writing it back, as the app does on an edit), the steps each writer had seen, the photos the
/// log shows, the conflicts and, only once the bounds passed as the server requires before
/// storing, the history view. None of it may panic; what the app reads, it can write back.
pub fn read_everything(doc: &mut AutoCommit, before: &[automerge::ChangeHash]) {
    let bounded = danvan::doc::new_changes(doc, before, danvan::doc::CHANGE_LIMITS).is_ok();
    let _ = danvan::doc::new_changes(doc, &[], danvan::doc::CHANGE_LIMITS);
    let _ = danvan::doc::owner(doc);
    let _ = danvan::doc::records(doc);
    let _ = danvan::doc::journal_photo_ids(doc);
    let _ = danvan::doc::conflicts(doc);
    if let Ok(records) = danvan::doc::records(doc) {
        let ids: std::collections::HashSet<&str> = records.transitions.iter().map(|t| t.id.as_str()).collect();
        let _ = danvan::doc::steps_seen(doc, &ids);
        let _ = danvan::domain::replay(&records.transitions);
    }
    if let Ok(model) = danvan::doc::read_model(doc) {
        let mut copy = doc.fork().with_actor(actor(9));
        danvan::doc::write_model(&mut copy, &model, T0 + 30, "sửa").expect("a model the app reads, it writes back");
        danvan::doc::read_model(&copy).expect("and reads again");
    }
    if bounded {
        let history = danvan::doc::history(doc);
        assert!(history.revisions.len() <= danvan::doc::HISTORY_SHOWN);
    }
}
