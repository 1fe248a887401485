//! The activity log (nhật ký) of a model: dated entries of what was done, the indicators'
//! achieved values at that date, photos as evidence and where it happened. No IO.
//!
//! Entries are appended by the unit's cadres (concurrent entries from two phones both stay: the
//! list merges by id). Photos are referenced by the SHA-256 of their bytes; the bytes travel and
//! are stored apart from the document (see the client's `photos` and the server's `photos`), so a
//! photo never holds back the text.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::dates::Date;
use super::model::{Indicator, Model};
use super::validate::parse_amount;

/// Photos per entry, and the longest note.
pub const MAX_PHOTOS: usize = 6;
pub const MAX_TEXT_CHARS: usize = 5_000;

/// A photo attached to an entry.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct PhotoRef {
    /// Lowercase hex SHA-256 of the stored bytes (also the name under which the server keeps them).
    #[key]
    pub id: String,
    pub content_type: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
}

/// Where an entry's activity took place.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    /// Metres, as the device reported (0 when typed by hand).
    pub accuracy: f64,
}

/// An indicator's achieved value as of the entry's date.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct IndicatorUpdate {
    #[key]
    pub indicator: String,
    pub name: String,
    pub unit: String,
    pub achieved: f64,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct JournalEntry {
    #[key]
    pub id: String,
    /// ISO `YYYY-MM-DD`: when the activity took place.
    pub date: String,
    pub text: String,
    pub updates: Vec<IndicatorUpdate>,
    pub photos: Vec<PhotoRef>,
    pub location: Option<Location>,
    /// Where, in words (thôn, bản, tổ dân phố…).
    pub place: String,
    pub by: String,
    pub by_name: String,
    pub at: i64,
}

/// The entry form as typed (kept on the device until saved).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JournalDraft {
    pub date: String,
    pub text: String,
    /// Indicator id → achieved value as typed (empty: not updated).
    pub updates: Vec<(String, String)>,
    pub lat: String,
    pub lon: String,
    pub accuracy: f64,
    pub place: String,
    pub photos: Vec<PhotoRef>,
}

/// A coordinate as typed (signed; Vietnamese writes decimals with a comma). Indicator figures
/// are amounts and read by the registration form's own rule, `validate::parse_amount`.
fn parse_coordinate(typed: &str) -> Option<f64> {
    let t = typed.trim().replace(' ', "").replace(',', ".");
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl JournalDraft {
    /// Problems keyed by the form control's id, in form order (Vietnamese).
    pub fn validate(&self, indicators: &[Indicator], today: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match Date::parse(&self.date) {
            None => out.push(("journal-date".into(), "Hãy chọn ngày thực hiện hợp lệ.".into())),
            Some(_) if self.date.as_str() > today => {
                out.push(("journal-date".into(), "Ngày thực hiện không được sau hôm nay.".into()));
            }
            Some(_) => {}
        }
        let typed_updates = self.updates.iter().filter(|(_, v)| !v.trim().is_empty()).count();
        if self.text.trim().is_empty() && self.photos.is_empty() && typed_updates == 0 {
            out.push(("journal-text".into(), "Hãy ghi nội dung hoạt động, thêm ảnh hoặc cập nhật kết quả.".into()));
        } else if self.text.chars().count() > MAX_TEXT_CHARS {
            out.push(("journal-text".into(), format!("Nội dung dài quá {MAX_TEXT_CHARS} ký tự.")));
        }
        for (id, typed) in self.updates.iter().filter(|(_, v)| !v.trim().is_empty()) {
            let name = indicators.iter().find(|i| &i.id == id).map_or("chỉ tiêu", |i| i.name.as_str());
            if let Err(problem) = parse_amount(typed, false) {
                out.push((format!("journal-update-{id}"), format!("Kết quả “{name}” {problem}")));
            }
        }
        if self.photos.len() > MAX_PHOTOS {
            out.push(("journal-photos".into(), format!("Tối đa {MAX_PHOTOS} ảnh cho một lần ghi.")));
        }
        match (self.lat.trim().is_empty(), self.lon.trim().is_empty()) {
            (true, true) => {}
            (false, false) => {
                if !parse_coordinate(&self.lat).is_some_and(|v| (-90.0..=90.0).contains(&v)) {
                    out.push(("journal-lat".into(), "Vĩ độ phải là số từ -90 đến 90 (ví dụ 22,4).".into()));
                }
                if !parse_coordinate(&self.lon).is_some_and(|v| (-180.0..=180.0).contains(&v)) {
                    out.push(("journal-lon".into(), "Kinh độ phải là số từ -180 đến 180 (ví dụ 103,5).".into()));
                }
            }
            (true, false) => out.push(("journal-lat".into(), "Hãy nhập cả vĩ độ (hoặc xóa kinh độ).".into())),
            (false, true) => out.push(("journal-lon".into(), "Hãy nhập cả kinh độ (hoặc xóa vĩ độ).".into())),
        }
        out
    }

    /// The entry to store (call after [`validate`](Self::validate) found nothing).
    pub fn record(&self, id: String, indicators: &[Indicator], by: &str, by_name: &str, now_ms: i64) -> JournalEntry {
        let updates = self
            .updates
            .iter()
            .filter_map(|(iid, typed)| {
                let value = parse_amount(typed, false).ok()??;
                let i = indicators.iter().find(|i| &i.id == iid)?;
                Some(IndicatorUpdate { indicator: i.id.clone(), name: i.name.clone(), unit: i.unit.clone(), achieved: value })
            })
            .collect();
        let location = match (parse_coordinate(&self.lat), parse_coordinate(&self.lon)) {
            (Some(lat), Some(lon)) => Some(Location { lat, lon, accuracy: self.accuracy }),
            _ => None,
        };
        JournalEntry {
            id,
            date: self.date.clone(),
            text: self.text.trim().to_string(),
            updates,
            photos: self.photos.clone(),
            location,
            place: self.place.trim().to_string(),
            by: by.to_string(),
            by_name: by_name.to_string(),
            at: now_ms,
        }
    }
}

/// Adds an entry and brings the indicators' achieved values to the latest dated update (an
/// entry about an earlier day does not undo a later figure).
pub fn add_entry(model: &mut Model, entry: JournalEntry) {
    model.journal.push(entry);
    refresh_achieved(model);
}

/// Each indicator's achieved value from its latest update in the log (by date, then time).
pub fn refresh_achieved(model: &mut Model) {
    for indicator in &mut model.indicators {
        let latest = model
            .journal
            .iter()
            .filter_map(|e| e.updates.iter().find(|u| u.indicator == indicator.id).map(|u| ((e.date.as_str(), e.at), u.achieved)))
            .max_by(|a, b| a.0.cmp(&b.0));
        if let Some((_, value)) = latest {
            indicator.achieved = value;
        }
    }
}

/// Entries newest first (by date, then by when they were written).
pub fn newest_first(journal: &[JournalEntry]) -> Vec<&JournalEntry> {
    let mut out: Vec<&JournalEntry> = journal.iter().collect();
    out.sort_by(|a, b| (b.date.as_str(), b.at, &b.id).cmp(&(a.date.as_str(), a.at, &a.id)));
    out
}

/// The server's rule for the activity log: entries stay as written (new ones may be merged in
/// among them), every entry has its own id, and a new one is written by one of the unit's cadres
/// under their own name — it is the evidence reviewers score, so nobody rewrites or back-fills it
/// in someone else's name.
pub fn check_journal(before: &[JournalEntry], after: &[JournalEntry], username: &str, roles: super::Roles) -> Result<(), String> {
    let new = super::append_only::appended(before, after)
        .map_err(|e| e.message("mục nhật ký", "Không được sửa hay xóa các mục đã ghi trong nhật ký hoạt động."))?;
    for new in new {
        if !roles.cadre {
            return Err("Chỉ cán bộ của đơn vị mới ghi nhật ký hoạt động của mô hình.".into());
        }
        if new.by != username {
            return Err("Mục nhật ký chỉ được ghi dưới tên chính người đang đăng nhập.".into());
        }
    }
    Ok(())
}

impl super::append_only::Entry for JournalEntry {
    fn entry_id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicators() -> Vec<Indicator> {
        vec![Indicator { id: "i1".into(), name: "Hộ tham gia".into(), unit: "hộ".into(), target: 100.0, achieved: 0.0 }]
    }

    fn draft() -> JournalDraft {
        JournalDraft { date: "2026-11-20".into(), text: "Họp dân thôn Nà Khuy".into(), ..Default::default() }
    }

    #[test]
    fn an_entry_needs_a_real_past_date_and_something_recorded() {
        assert!(draft().validate(&indicators(), "2026-11-22").is_empty());
        let future = JournalDraft { date: "2026-12-01".into(), ..draft() };
        assert_eq!(future.validate(&indicators(), "2026-11-22")[0].0, "journal-date");
        let empty = JournalDraft { text: " ".into(), ..draft() };
        assert_eq!(empty.validate(&indicators(), "2026-11-22")[0].0, "journal-text");
        let only_figure = JournalDraft { text: String::new(), updates: vec![("i1".into(), "45".into())], ..draft() };
        assert!(only_figure.validate(&indicators(), "2026-11-22").is_empty());
        let bad_figure = JournalDraft { updates: vec![("i1".into(), "-3".into())], ..draft() };
        assert_eq!(bad_figure.validate(&indicators(), "2026-11-22")[0].0, "journal-update-i1");
        // The same rule as the registration form's figures, so the log never stores one the form refuses.
        let huge = JournalDraft { updates: vec![("i1".into(), "1e300".into())], ..draft() };
        assert_eq!(huge.validate(&indicators(), "2026-11-22"), [("journal-update-i1".to_string(), "Kết quả “Hộ tham gia” quá lớn.".to_string())]);
    }

    #[test]
    fn location_is_both_coordinates_in_range_with_decimal_commas() {
        let ok = JournalDraft { lat: "22,41".into(), lon: "103,47".into(), accuracy: 12.0, ..draft() };
        assert!(ok.validate(&[], "2026-11-22").is_empty());
        let e = ok.record("e".into(), &[], "a", "A", 1);
        assert_eq!(e.location, Some(Location { lat: 22.41, lon: 103.47, accuracy: 12.0 }));
        let half = JournalDraft { lat: "22".into(), ..draft() };
        assert_eq!(half.validate(&[], "2026-11-22")[0].0, "journal-lon");
        let wrong = JournalDraft { lat: "95".into(), lon: "abc".into(), ..draft() };
        let keys: Vec<String> = wrong.validate(&[], "2026-11-22").into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["journal-lat", "journal-lon"]);
        assert_eq!(draft().record("e".into(), &[], "a", "A", 1).location, None);
    }

    #[test]
    fn indicator_updates_follow_the_latest_date_not_the_latest_typing() {
        let mut m = Model::new("m".into(), "a", 1);
        m.indicators = indicators();
        let later = JournalDraft { date: "2026-11-20".into(), updates: vec![("i1".into(), "60".into())], ..draft() };
        let entry = later.record("e1".into(), &m.indicators, "a", "A", 10);
        add_entry(&mut m, entry);
        assert_eq!(m.indicators[0].achieved, 60.0);
        // Written afterwards about an earlier day: kept in the log, the figure stays 60.
        let earlier = JournalDraft { date: "2026-10-01".into(), updates: vec![("i1".into(), "35,5".into())], ..draft() };
        let entry = earlier.record("e2".into(), &m.indicators, "a", "A", 20);
        add_entry(&mut m, entry);
        assert_eq!(m.indicators[0].achieved, 60.0);
        assert_eq!(m.journal[1].updates[0].achieved, 35.5);
        assert_eq!(newest_first(&m.journal).iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e1", "e2"]);
    }

    #[test]
    fn the_log_keeps_every_entry_as_written_and_new_ones_are_the_cadres_own() {
        let entry = |id: &str, by: &str| JournalEntry {
            id: id.into(),
            date: "2026-11-30".into(),
            text: "Họp dân".into(),
            updates: Vec::new(),
            photos: Vec::new(),
            location: None,
            place: String::new(),
            by: by.into(),
            by_name: by.into(),
            at: 1,
        };
        let cadre = crate::domain::Roles { cadre: true, reviewer: false };
        let reviewer = crate::domain::Roles { cadre: false, reviewer: true };
        let before = vec![entry("1", "canbo")];
        let grown = vec![entry("1", "canbo"), entry("2", "canbo")];
        assert_eq!(check_journal(&before, &grown, "canbo", cadre), Ok(()));
        assert!(check_journal(&before, &grown, "khac", cadre).unwrap_err().contains("chính người"));
        assert!(check_journal(&before, &grown, "canbo", reviewer).unwrap_err().contains("cán bộ"));
        let mut edited = grown.clone();
        edited[0].text = "Viết lại".into();
        assert!(check_journal(&before, &edited, "canbo", cadre).unwrap_err().contains("sửa hay xóa"));
        assert!(check_journal(&before, &[], "canbo", cadre).is_err());
        let twice = vec![entry("1", "canbo"), entry("1", "canbo")];
        assert!(check_journal(&before, &twice, "canbo", cadre).unwrap_err().contains("cùng mã"));
    }
}
