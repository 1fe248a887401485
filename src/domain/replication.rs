//! Replication (nhân rộng): a recognised model is read across the whole organisation, and
//! another unit may adopt it as a model of its own. No IO.
//!
//! The new model keeps where it came from (`replicated_from`, a copy of the source's name and
//! unit, so it reads even where the source is not held). The source keeps the places applying it
//! (`replications`), appended by whoever replicated it: a replication point is a unit applying
//! the model. That list is the one thing in another unit's model a reader may add to.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::model::{Model, Status};
use super::validate::ModelDraft;

/// Statuses in which a model is in the library: readable, read-only, by everyone in the tree.
pub fn in_library(status: Status) -> bool {
    matches!(status, Status::Recognised | Status::Exemplary | Status::Commended)
}

/// Top-level keys a reader of a library model (not its cadre, not its reviewer) may change.
pub const READER_KEYS: &[&str] = &["replications"];

/// The source of a replicated model, as it was when replicated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ReplicatedFrom {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub unit_name: String,
}

/// A place applying a model: recorded in the source when a unit replicates it.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Replication {
    /// The new model's id.
    #[key]
    pub id: String,
    pub unit: String,
    pub unit_name: String,
    pub by: String,
    pub by_name: String,
    pub at: i64,
}

/// Replication points (điểm nhân rộng): the distinct units applying the model.
pub fn replication_points(replications: &[Replication]) -> usize {
    let mut units: Vec<&str> = replications.iter().map(|r| r.unit.as_str()).collect();
    units.sort_unstable();
    units.dedup();
    units.len()
}

/// The registration form prefilled from `source`: what and how carry over; the new unit writes
/// its own situation, owner and dates, and its indicators start with nothing achieved.
pub fn draft_from(source: &Model, year: u32) -> ModelDraft {
    let mut draft = ModelDraft::from_model(source);
    draft.situation = String::new();
    draft.owner_name = String::new();
    draft.start_date = String::new();
    draft.end_date = String::new();
    draft.evaluation_date = String::new();
    draft.unit = String::new();
    draft.level = super::Level::Grassroots.code().to_string();
    draft.year = year.to_string();
    for indicator in &mut draft.indicators {
        indicator.achieved = String::new();
    }
    draft
}

/// The source as the new model records it.
pub fn source_of(source: &Model, unit_name: &str) -> ReplicatedFrom {
    ReplicatedFrom { id: source.id.clone(), name: source.name.clone(), unit: source.unit.clone(), unit_name: unit_name.to_string() }
}

/// Checks what a change did to a model's replication points: nothing recorded may be altered
/// or removed; each new one is under the signed-in user's name, for a unit they write.
pub fn check_replications(
    before: &[Replication],
    after: &[Replication],
    username: &str,
    can_write: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let new = super::append_only::appended(before, after)
        .map_err(|e| e.message("điểm nhân rộng", "Không được sửa hay xóa điểm nhân rộng đã ghi nhận."))?;
    for new in new {
        if new.by != username {
            return Err("Điểm nhân rộng chỉ được ghi dưới tên chính người đang đăng nhập.".into());
        }
        if !can_write(&new.unit) {
            return Err(format!("Bạn không thể ghi điểm nhân rộng cho đơn vị {}.", new.unit.chars().take(40).collect::<String>()));
        }
    }
    Ok(())
}

impl super::append_only::Entry for Replication {
    fn entry_id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: &str, unit: &str, by: &str) -> Replication {
        Replication { id: id.into(), unit: unit.into(), unit_name: unit.into(), by: by.into(), by_name: by.into(), at: 1 }
    }

    #[test]
    fn only_recognised_exemplary_and_commended_models_are_in_the_library() {
        let inside: Vec<Status> = Status::ALL.into_iter().filter(|s| in_library(*s)).collect();
        assert_eq!(inside, [Status::Recognised, Status::Exemplary, Status::Commended]);
    }

    #[test]
    fn points_count_units_not_entries() {
        let list = [point("a", "X", "u"), point("b", "X", "v"), point("c", "Y", "u")];
        assert_eq!(replication_points(&list), 2);
        assert_eq!(replication_points(&[]), 0);
    }

    #[test]
    fn replication_points_are_appended_under_ones_own_name_for_ones_own_unit() {
        let before = vec![point("a", "X", "u")];
        let mine = |unit: &str| unit == "Y";
        let mut after = before.clone();
        after.push(point("b", "Y", "v"));
        assert_eq!(check_replications(&before, &after, "v", mine), Ok(()));
        assert!(check_replications(&before, &after, "w", mine).unwrap_err().contains("chính người"));
        let mut elsewhere = before.clone();
        elsewhere.push(point("b", "Z", "v"));
        assert!(check_replications(&before, &elsewhere, "v", mine).unwrap_err().contains("đơn vị Z"));
        let mut altered = after.clone();
        altered[0].unit_name = "khác".into();
        assert!(check_replications(&before, &altered, "v", mine).is_err());
        assert!(check_replications(&before, &[], "v", mine).is_err());
    }

    #[test]
    fn a_replica_draft_keeps_the_method_and_starts_its_own_record() {
        let mut source = Model::new("s".into(), "a", 1);
        source.name = "Dân vận khéo trong xây dựng nông thôn mới".into();
        source.unit = "BANBO".into();
        source.owner_name = "Ông A".into();
        source.situation = autosurgeon::Text::with_value("Thực trạng ở Bản Bo");
        source.content = autosurgeon::Text::with_value("Đi từng ngõ, gõ từng nhà");
        source.start_date = "2024-01-01".into();
        source.indicators = vec![crate::domain::Indicator { id: "i".into(), name: "Hộ".into(), unit: "hộ".into(), target: 100.0, achieved: 80.0 }];
        let draft = draft_from(&source, 2026);
        assert_eq!(draft.name, source.name);
        assert_eq!(draft.content, "Đi từng ngõ, gõ từng nhà");
        assert_eq!((draft.situation.as_str(), draft.owner_name.as_str(), draft.unit.as_str()), ("", "", ""));
        assert_eq!((draft.start_date.as_str(), draft.year.as_str()), ("", "2026"));
        assert_eq!(draft.indicators[0].target, "100");
        assert_eq!(draft.indicators[0].achieved, "");
        let from = source_of(&source, "Xã Bản Bo");
        assert_eq!((from.id.as_str(), from.unit.as_str(), from.unit_name.as_str()), ("s", "BANBO", "Xã Bản Bo"));
    }
}
