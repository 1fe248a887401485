//! The model list as a table ("export the list with its current filters": the caller passes the
//! models the list shows, in its order).

use super::{Cell, Table};
use crate::domain::report::ModelFacts;
use crate::domain::{Action, Date, Model, field_label, item_label, replay, replication_points};

/// After any date a model could carry: "the highest exemplary level ever reached".
const END_OF_TIME: Date = Date { year: 9999, month: 12, day: 31 };

/// One row per model: what the list's card shows (name, unit, field, owner, year, level, state,
/// replication points) and what a reviewer adds up in Excel (registered and recognised dates,
/// exemplary level, number of commendations). The state is replayed from the lifecycle log, as
/// every reader does (the stored status is only a cache). The registration date is the one the
/// reports count by ([`ModelFacts::of`]), so a filtered list and a report agree.
pub fn model_table(models: &[Model]) -> Table {
    let label = |key: &'static str| item_label(key).unwrap_or(key);
    let headers = [
        "STT",
        label("name"),
        label("unit"),
        label("field"),
        label("owner_kind"),
        label("owner_name"),
        label("year"),
        label("level"),
        "Trạng thái",
        "Ngày đăng ký",
        "Ngày công nhận",
        "Cấp điển hình",
        "Số lần khen thưởng",
        "Số điểm nhân rộng",
    ];
    let mut table = Table::new("Danh sách mô hình", format!("Danh sách mô hình ({} mô hình)", crate::domain::format_count_vi(models.len())), &headers);
    table.rows.reserve(models.len());
    for (i, m) in models.iter().enumerate() {
        let facts = ModelFacts::of(m);
        // `steps` holds applied steps only, and the lifecycle applies at most one recognition.
        let recognised = facts.steps.iter().find(|s| s.action == Action::Recognise).map(|s| s.on);
        let unit = if m.unit_name.is_empty() { m.unit.clone() } else { m.unit_name.clone() };
        table.push(vec![
            Cell::from(i + 1),
            Cell::from(m.name.as_str()),
            Cell::from(unit),
            Cell::from(field_label(&m.field)),
            Cell::from(m.owner_kind.label()),
            Cell::from(m.owner_name.as_str()),
            if m.year > 0 { Cell::from(m.year) } else { Cell::Empty },
            Cell::from(m.level.label()),
            Cell::from(replay(&m.transitions).0.label()),
            Cell::from(facts.registered_on),
            Cell::from(recognised),
            facts.exemplary_level_on(END_OF_TIME).map_or(Cell::Empty, |l| Cell::from(l.label())),
            Cell::from(m.commendations.len()),
            Cell::from(replication_points(&m.replications)),
        ]);
    }
    table
}
