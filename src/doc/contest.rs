//! How a contest ([`Contest`], issue 16) lives in an automerge document (layout in
//! ARCHITECTURE.md, "Contest document"). No IO.
//!
//! A contest is a second kind of document beside models. Its root says so: `kind` is
//! [`KIND`], written by the first change and, like the owner `unit`, never touched again (the
//! server compares the value and the operation that set it, [`kind_stamp`]). A model has no
//! `kind` key at all, so every document written before contests existed stays a model.
//!
//! **Why maps where the domain has lists.** Judges score at the venue offline, each on their own
//! phone, and sync whenever a connection appears, in any order. Two devices that create the same
//! entry of an automerge *list* each insert their own element: the merged list holds both, and a
//! contest with two sheets for one judge and round, or two teams for one unit, is not a valid
//! contest (`Contest::validate`), so the server would refuse the second device's changes for
//! good. In a *map* keyed by what makes the entry unique, the same two creations land on one key:
//! automerge keeps one value (the other as a conflict) and the contest stays valid. So:
//! - `sheets` is keyed by `round/judge` — a judge's sheet of a round is one entry whatever device
//!   made it, and different judges write different keys, never the same object;
//! - a sheet's `rows` are keyed by `team/part` — two cells scored on two devices both survive;
//!   the same cell scored on both keeps one score (both stay in the sheet's log);
//! - the log (`changes`) stays a list: every score given is a new entry with a fresh id, and
//!   concurrent appends interleave, which the server's append-only rule accepts;
//! - `teams` is keyed by the team's unit (one team per unit: the organiser and the unit's cadre
//!   registering it at once give one team, not a contest the server must refuse);
//! - `rounds` is keyed by round id (an organiser adding the preliminaries on two devices gets
//!   each cluster's round once; round ids come from the cluster, `so-khao-<cluster>`).
//!
//! Lists remain where one person writes and order matters: `parts`, `prizes`, and inside a round
//! its judges, excusals, tie-break order and qualifiers (all the organiser's).
//!
//! Reading turns the maps back into the domain's lists in a canonical order — rounds:
//! preliminaries by id compared naturally (`so-khao-CUM-2` before `so-khao-CUM-10`,
//! [`round_order`]), then the final; teams by registration time, then id; sheets by round and
//! judge; rows by team and part — so every device (and the server, before and after a change)
//! reads the same `Contest` from the same document. A map entry whose key does not match its
//! content (a round stored under another round's id, a sheet under another judge's key) makes the
//! document unreadable, and the server refuses any change that leads there.

use std::collections::BTreeMap;

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, ReadDoc};
use autosurgeon::{Hydrate, Reconcile};

use crate::domain::contest::{Contest, Part, Prize, PrizeQuotas, Round, ScoreChange, ScoreRow, ScoreSheet, Team, round_order};
use crate::domain::{Access, Level};

/// The root `kind` of a contest document.
pub const KIND: &str = "hoi_thi";
/// The contest document's schema version; readers refuse higher ones.
pub const SCHEMA: u64 = 1;

/// Every root key of a contest document. A change to a contest may touch only these (and never
/// `kind`, `unit`, `id` after creation: the domain's rule and [`kind_stamp`]).
pub const KEYS: &[&str] = &[
    "schema",
    "kind",
    "id",
    "name",
    "level",
    "year",
    "unit",
    "created_by",
    "created_at",
    "parts",
    "drop_extremes",
    "qualifiers_per_cluster",
    "quotas",
    "rounds",
    "teams",
    "sheets",
    "prizes",
    "published_at",
    "published_by",
];

/// Root keys only a contest has: a model's change may touch none of them (a model carrying
/// contest keys would be half one kind, half the other).
pub const ONLY_KEYS: &[&str] =
    &["kind", "parts", "drop_extremes", "qualifiers_per_cluster", "quotas", "rounds", "teams", "sheets", "prizes", "published_at", "published_by"];

/// Why a contest's document cannot be read or written (Vietnamese; the app translates it).
#[derive(Debug, thiserror::Error)]
pub enum ContestDocError {
    #[error("tài liệu hỏng, không đọc được: {0}")]
    Corrupt(#[from] automerge::AutomergeError),
    #[error("tài liệu không đúng cấu trúc hội thi: {0}")]
    Shape(#[from] autosurgeon::HydrateError),
    #[error("không ghi được hội thi vào tài liệu: {0}")]
    Write(#[from] autosurgeon::ReconcileError),
    #[error("tài liệu hội thi thuộc phiên bản {0} mới hơn ứng dụng này; hãy tải lại ứng dụng để cập nhật")]
    TooNew(u64),
    #[error("tài liệu không phải một hội thi")]
    NotAContest,
    #[error("tài liệu hội thi không nhất quán: {0}")]
    Inconsistent(String),
}

/// What a document is, from its root `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No `kind` key: a model (every document before contests).
    Model,
    /// `kind` is exactly one string value, [`KIND`].
    Contest,
    /// Anything else (another string, another type, two concurrent values): neither.
    Unknown,
}

pub fn kind(doc: &AutoCommit) -> Kind {
    let Ok(values) = doc.get_all(automerge::ROOT, "kind") else { return Kind::Unknown };
    match &values[..] {
        [] => Kind::Model,
        [(automerge::Value::Scalar(s), _)] if matches!(s.as_ref(), automerge::ScalarValue::Str(k) if k.as_str() == KIND) => Kind::Contest,
        _ => Kind::Unknown,
    }
}

/// The root `kind` values with the operations that set them: the server compares this before
/// and after a change, so re-setting even the same value, deleting it or adding one to a model
/// is seen as changing what the document is.
pub fn kind_stamp(doc: &AutoCommit) -> Vec<(String, automerge::ObjId)> {
    doc.get_all(automerge::ROOT, "kind")
        .map(|values| values.into_iter().map(|(v, id)| (format!("{v:?}"), id)).collect())
        .unwrap_or_else(|_| vec![("?".into(), automerge::ROOT)])
}

/// The document's shape (private: the domain's [`Contest`] is what the rest of the code sees).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
struct ContestDoc {
    schema: u64,
    kind: String,
    id: String,
    name: String,
    level: Level,
    year: u32,
    unit: String,
    created_by: String,
    created_at: i64,
    parts: Vec<Part>,
    drop_extremes: bool,
    qualifiers_per_cluster: u32,
    quotas: PrizeQuotas,
    /// Keyed by round id.
    rounds: BTreeMap<String, Round>,
    /// Keyed by the team's unit.
    teams: BTreeMap<String, Team>,
    /// Keyed by [`sheet_key`].
    sheets: BTreeMap<String, SheetDoc>,
    prizes: Vec<Prize>,
    published_at: i64,
    published_by: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
struct SheetDoc {
    id: String,
    round: String,
    judge: String,
    /// Keyed by [`row_key`].
    rows: BTreeMap<String, ScoreRow>,
    changes: Vec<ScoreChange>,
}

/// The key of a judge's sheet of a round (also the sheet's id, `contest::sheet_id`).
pub fn sheet_key(round: &str, judge: &str) -> String {
    crate::domain::contest::sheet_id(round, judge)
}

/// The key of a sheet's row (a team's score for a part).
pub fn row_key(team: &str, part: &str) -> String {
    format!("{team}/{part}")
}

impl ContestDoc {
    fn of(c: &Contest) -> ContestDoc {
        ContestDoc {
            schema: SCHEMA,
            kind: KIND.to_string(),
            id: c.id.clone(),
            name: c.name.clone(),
            level: c.level,
            year: c.year,
            unit: c.unit.clone(),
            created_by: c.created_by.clone(),
            created_at: c.created_at,
            parts: c.parts.clone(),
            drop_extremes: c.drop_extremes,
            qualifiers_per_cluster: c.qualifiers_per_cluster,
            quotas: c.quotas.clone(),
            rounds: c.rounds.iter().map(|r| (r.id.clone(), r.clone())).collect(),
            teams: c.teams.iter().map(|t| (t.unit.clone(), t.clone())).collect(),
            sheets: c
                .sheets
                .iter()
                .map(|s| {
                    let sheet = SheetDoc {
                        id: s.id.clone(),
                        round: s.round.clone(),
                        judge: s.judge.clone(),
                        rows: s.rows.iter().map(|r| (row_key(&r.team, &r.part), r.clone())).collect(),
                        changes: s.changes.clone(),
                    };
                    (sheet_key(&s.round, &s.judge), sheet)
                })
                .collect(),
            prizes: c.prizes.clone(),
            published_at: c.published_at,
            published_by: c.published_by.clone(),
        }
    }

    fn into_contest(self) -> Result<Contest, ContestDocError> {
        let wrong = |what: &str, key: &str| ContestDocError::Inconsistent(format!("{what} “{}” ghi sai khóa", key.chars().take(60).collect::<String>()));
        if let Some((k, _)) = self.rounds.iter().find(|(k, r)| **k != r.id) {
            return Err(wrong("vòng thi", k));
        }
        if let Some((k, _)) = self.teams.iter().find(|(k, t)| **k != t.unit) {
            return Err(wrong("đội thi", k));
        }
        let mut sheets = Vec::with_capacity(self.sheets.len());
        for (k, s) in self.sheets {
            if k != sheet_key(&s.round, &s.judge) {
                return Err(wrong("phiếu chấm", &k));
            }
            if let Some((rk, _)) = s.rows.iter().find(|(rk, r)| **rk != row_key(&r.team, &r.part)) {
                return Err(wrong("dòng điểm", rk));
            }
            sheets.push(ScoreSheet { id: s.id, round: s.round, judge: s.judge, rows: s.rows.into_values().collect(), changes: s.changes });
        }
        sheets.sort_by(|a, b| (&a.round, &a.judge).cmp(&(&b.round, &b.judge)));
        let mut rounds: Vec<Round> = self.rounds.into_values().collect();
        rounds.sort_by(round_order);
        let mut teams: Vec<Team> = self.teams.into_values().collect();
        teams.sort_by(|a, b| (a.registered_at, &a.id).cmp(&(b.registered_at, &b.id)));
        Ok(Contest {
            id: self.id,
            name: self.name,
            level: self.level,
            year: self.year,
            unit: self.unit,
            created_by: self.created_by,
            created_at: self.created_at,
            parts: self.parts,
            drop_extremes: self.drop_extremes,
            qualifiers_per_cluster: self.qualifiers_per_cluster,
            quotas: self.quotas,
            rounds,
            teams,
            sheets,
            prizes: self.prizes,
            published_at: self.published_at,
            published_by: self.published_by,
        })
    }
}

/// `contest` in the order [`read_contest`] gives back (what a round trip through a document
/// returns).
pub fn canonical(contest: &Contest) -> Result<Contest, ContestDocError> {
    ContestDoc::of(contest).into_contest()
}

/// A new document holding `contest`, committed as its first change.
pub fn create(contest: &Contest, now_ms: i64) -> Result<AutoCommit, ContestDocError> {
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, ContestDoc::of(contest))?;
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message("tạo hội thi".to_string()));
    Ok(doc)
}

/// Reads the contest: the document must be one ([`kind`]), of a schema this code knows, with
/// every map entry under the key its content gives.
pub fn read_contest(doc: &AutoCommit) -> Result<Contest, ContestDocError> {
    if kind(doc) != Kind::Contest {
        return Err(ContestDocError::NotAContest);
    }
    let schema = match doc.get(automerge::ROOT, "schema")? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            automerge::ScalarValue::Uint(v) => *v,
            _ => 0,
        },
        _ => 0,
    };
    if schema > SCHEMA {
        return Err(ContestDocError::TooNew(schema));
    }
    let mut stored: ContestDoc = autosurgeon::hydrate(doc)?;
    merge_conflicting_sheets(doc, &mut stored.sheets)?;
    stored.into_contest()
}

/// A judge's two devices that each scored offline before either synced both created the sheet
/// under its key: automerge keeps both objects, one as the value and the other as a conflict.
/// Reading only the value would lose the other device's scores (and the server, seeing the first
/// sheet replaced, would refuse the second device for good), so every conflicting sheet is merged
/// into the value: log entries it lacks appended in their own order, cells it lacks added. The
/// same sheet is required — same id, round and judge —: anything else under one key is
/// inconsistent. Writing the merged sheet back puts it into the value; the conflict stays, and
/// merges to the same again.
///
/// A cell scored on both devices — two rows under one key of a `rows` map, two values of a row's
/// `points` or `comment`, or different rows in the two sheet objects — shows the later score of
/// the log (time, then id; the row is what that entry gave), not automerge's pick among
/// concurrent values, which knows nothing of when the judge typed them.
fn merge_conflicting_sheets(doc: &AutoCommit, sheets: &mut BTreeMap<String, SheetDoc>) -> Result<(), ContestDocError> {
    let Some((automerge::Value::Object(_), map)) = doc.get(automerge::ROOT, "sheets")? else { return Ok(()) };
    let inconsistent = |key: &str| ContestDocError::Inconsistent(format!("phiếu chấm “{}” ghi hai lần", key.chars().take(60).collect::<String>()));
    for (key, sheet) in sheets.iter_mut() {
        let values = doc.get_all(&map, key.as_str())?;
        let winner = doc.get(&map, key.as_str())?.map(|(_, id)| id);
        // Cells typed on more than one device.
        let mut conflicted: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for (value, obj) in values {
            if !matches!(value, automerge::Value::Object(automerge::ObjType::Map)) {
                return Err(inconsistent(key));
            }
            if let Some((automerge::Value::Object(automerge::ObjType::Map), rows)) = doc.get(&obj, "rows")? {
                for cell in doc.keys(&rows) {
                    let all = doc.get_all(&rows, cell.as_str())?;
                    let fields_conflict = || -> Result<bool, ContestDocError> {
                        let Some((_, row)) = all.first() else { return Ok(false) };
                        Ok(doc.get_all(row, "points")?.len() > 1 || doc.get_all(row, "comment")?.len() > 1)
                    };
                    if all.len() > 1 || fields_conflict()? {
                        conflicted.insert(cell);
                    }
                }
            }
            if Some(&obj) == winner.as_ref() {
                continue;
            }
            let other = SheetDoc::hydrate_map(doc, &obj)?;
            if (&other.id, &other.round, &other.judge) != (&sheet.id, &sheet.round, &sheet.judge) {
                return Err(inconsistent(key));
            }
            let known: std::collections::HashSet<String> = sheet.changes.iter().map(|c| c.id.clone()).collect();
            sheet.changes.extend(other.changes.into_iter().filter(|c| !known.contains(&c.id)));
            for (cell, row) in other.rows {
                match sheet.rows.get(&cell) {
                    None => {
                        sheet.rows.insert(cell, row);
                    }
                    Some(mine) if *mine == row => {}
                    Some(_) => {
                        conflicted.insert(cell);
                    }
                }
            }
        }
        for cell in conflicted {
            let Some(row) = sheet.rows.get_mut(&cell) else { continue };
            let latest = sheet
                .changes
                .iter()
                .filter(|c| c.team == row.team && c.part == row.part)
                .max_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
            if let Some(c) = latest {
                row.points = c.to;
                row.comment = c.comment.clone();
            }
        }
    }
    Ok(())
}

/// Writes `contest` into the document as one change (only what differs is written: autosurgeon
/// leaves equal values, so `kind`, `unit` and `id` are never touched again).
pub fn write_contest(doc: &mut AutoCommit, contest: &Contest, now_ms: i64, message: &str) -> Result<(), ContestDocError> {
    autosurgeon::reconcile(doc, ContestDoc::of(contest))?;
    doc.commit_with(CommitOptions::default().with_time(now_ms).with_message(message.to_string()));
    Ok(())
}

/// Who reads a contest besides the readers of its organiser's unit, as the store's reader keys
/// (`doc_readers`): `in:<organiser>` for everyone with a grant in the organiser's subtree (the
/// contest is its event: a commune's cadre sees it to register a team, before any round names
/// the commune), `u:<code>` for each unit in its rounds or with a team (read by whoever reads
/// that unit: its cadres, the reviewers and administrators above it), `@<username>` for each
/// judge of any round. Sorted, no duplicates.
pub fn readers(contest: &Contest) -> Vec<String> {
    let mut keys = std::collections::BTreeSet::new();
    keys.insert(format!("in:{}", contest.unit));
    for r in &contest.rounds {
        keys.extend(r.units.iter().map(|u| format!("u:{u}")));
        keys.extend(r.judges.iter().map(|j| format!("@{}", j.username)));
    }
    keys.extend(contest.teams.iter().map(|t| format!("u:{}", t.unit)));
    keys.into_iter().collect()
}

/// The reader keys a user matches (what the feed is asked for): `u:` + each unit they read,
/// `in:` + each unit at or above one of their grants, and `@` + their username.
pub fn reader_keys(username: &str, access: &Access) -> Vec<String> {
    access
        .readable()
        .map(|u| format!("u:{u}"))
        .chain(access.within().map(|u| format!("in:{u}")))
        .chain(std::iter::once(format!("@{username}")))
        .collect()
}

/// Whether `username` may read `contest`: whoever reads its organiser's unit or holds a grant
/// inside its subtree, its judges, and whoever reads a unit in its rounds or with a team. Nobody
/// beside or above the organiser otherwise: a sibling district's people see nothing of it. The
/// feed delivers exactly these ([`readers`]); to anyone else the server answers as for an id
/// that exists nowhere.
pub fn may_read(contest: &Contest, username: &str, access: &Access) -> bool {
    access.can_read(&contest.unit)
        || readers(contest).iter().any(|k| {
            if let Some(unit) = k.strip_prefix("u:") {
                access.can_read(unit)
            } else if let Some(unit) = k.strip_prefix("in:") {
                access.holds_grant_within(unit)
            } else {
                k.strip_prefix('@') == Some(username)
            }
        })
}

#[cfg(test)]
mod tests;
