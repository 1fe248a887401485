//! The form's view of a model (everything as typed) and its validation.
//!
//! The draft keeps exactly what the user typed, valid or not, so a failed save never loses input;
//! only [`ModelDraft::apply`] turns it into a [`Model`], and only when every field is valid.

use serde::{Deserialize, Serialize};

use super::dates::Date;
use super::model::{Indicator, Level, Model, OwnerKind, STANDARD_FIELDS};

pub mod limits {
    pub const SHORT_TEXT: usize = 200;
    pub const LONG_TEXT: usize = 10_000;
    pub const UNIT_TEXT: usize = 50;
    pub const INDICATORS: usize = 50;
    pub const FIRST_YEAR: u32 = 2009;
    pub const LAST_YEAR: u32 = 2100;
    pub const MAX_VALUE: f64 = 1e12;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndicatorDraft {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub target: String,
    pub achieved: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelDraft {
    pub name: String,
    pub situation: String,
    pub goals: String,
    pub content: String,
    pub area: String,
    pub forces: String,
    pub resources: String,
    pub start_date: String,
    pub end_date: String,
    pub evaluation_date: String,
    pub indicators: Vec<IndicatorDraft>,
    pub sustainability: String,
    pub owner_kind: String,
    pub owner_name: String,
    pub field: String,
    pub unit: String,
    pub level: String,
    pub year: String,
}

/// Validation messages keyed by the form control's id, in form order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, m)| m.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push((key.into(), message.into()));
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

impl ModelDraft {
    /// A blank form for a new model, with the defaults a cadre would pick most often.
    pub fn blank(year: u32, unit: &str) -> ModelDraft {
        ModelDraft {
            owner_kind: OwnerKind::Collective.code().into(),
            field: STANDARD_FIELDS[0].0.into(),
            level: Level::Grassroots.code().into(),
            year: year.to_string(),
            unit: unit.to_string(),
            ..Default::default()
        }
    }

    pub fn from_model(m: &Model) -> ModelDraft {
        ModelDraft {
            name: m.name.clone(),
            situation: m.situation.as_str().into(),
            goals: m.goals.as_str().into(),
            content: m.content.as_str().into(),
            area: m.area.as_str().into(),
            forces: m.forces.as_str().into(),
            resources: m.resources.as_str().into(),
            start_date: m.start_date.clone(),
            end_date: m.end_date.clone(),
            evaluation_date: m.evaluation_date.clone(),
            indicators: m
                .indicators
                .iter()
                .map(|i| IndicatorDraft {
                    id: i.id.clone(),
                    name: i.name.clone(),
                    unit: i.unit.clone(),
                    target: format_number(i.target),
                    achieved: format_number(i.achieved),
                })
                .collect(),
            sustainability: m.sustainability.as_str().into(),
            owner_kind: m.owner_kind.code().into(),
            owner_name: m.owner_name.clone(),
            field: m.field.clone(),
            unit: m.unit.clone(),
            level: m.level.code().into(),
            year: m.year.to_string(),
        }
    }

    /// Checks every field; the messages name the field as its label does on the form, and come
    /// in the form's order.
    /// `fields` are the field codes currently offered (standard + configured).
    pub fn validate(&self, fields: &[String]) -> FieldErrors {
        let mut e = FieldErrors::default();
        let required_short = |e: &mut FieldErrors, key: &str, label: &str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                e.push(key, format!("Vui lòng nhập {label}."));
            } else if chars(v) > limits::SHORT_TEXT {
                e.push(key, format!("{} dài quá {} ký tự (hiện có {}).", capitalise(label), limits::SHORT_TEXT, chars(v)));
            }
        };
        let required_long = |e: &mut FieldErrors, key: &str, label: &str, v: &str| {
            if v.trim().is_empty() {
                e.push(key, format!("Vui lòng nhập {label}."));
            } else if chars(v) > limits::LONG_TEXT {
                e.push(key, format!("{} dài quá {} ký tự (hiện có {}).", capitalise(label), limits::LONG_TEXT, chars(v)));
            }
        };

        required_short(&mut e, "name", "tên mô hình", &self.name);
        // Then in the order the form shows them, so the summary reads top to bottom.
        if OwnerKind::from_code(&self.owner_kind).is_none() {
            e.push("owner_kind", "Vui lòng chọn loại chủ thể (tập thể, cá nhân hoặc hộ gia đình).");
        }
        required_short(&mut e, "owner_name", "tên chủ thể thực hiện", &self.owner_name);
        if self.field.trim().is_empty() || !fields.iter().any(|f| f == &self.field) {
            e.push("field", "Vui lòng chọn lĩnh vực.");
        }
        required_short(&mut e, "unit", "đơn vị đăng ký", &self.unit);
        if Level::from_code(&self.level).is_none() {
            e.push("level", "Vui lòng chọn cấp đăng ký.");
        }
        match self.year.trim().parse::<u32>() {
            Ok(y) if (limits::FIRST_YEAR..=limits::LAST_YEAR).contains(&y) => {}
            _ => e.push(
                "year",
                format!("Năm đăng ký phải là số từ {} đến {}.", limits::FIRST_YEAR, limits::LAST_YEAR),
            ),
        }
        required_long(&mut e, "situation", "thực trạng, lý do", &self.situation);
        required_long(&mut e, "goals", "mục tiêu, tiêu chí", &self.goals);
        required_long(&mut e, "content", "nội dung, cách thức thực hiện", &self.content);
        required_long(&mut e, "area", "địa bàn, đối tượng vận động", &self.area);
        required_long(&mut e, "forces", "lực lượng chủ trì, phối hợp", &self.forces);
        required_long(&mut e, "resources", "nguồn lực", &self.resources);

        let start = self.check_date(&mut e, "start_date", "Ngày bắt đầu", Some("ngày bắt đầu"));
        let end = self.check_date(&mut e, "end_date", "Ngày kết thúc dự kiến", None);
        let evaluation = self.check_date(&mut e, "evaluation_date", "Ngày đánh giá", None);
        if let (Some(s), Some(end)) = (start, end) {
            if end < s {
                e.push("end_date", "Ngày kết thúc dự kiến không được trước ngày bắt đầu.");
            }
        }
        if let (Some(s), Some(ev)) = (start, evaluation) {
            if ev < s {
                e.push("evaluation_date", "Ngày đánh giá không được trước ngày bắt đầu.");
            }
        }

        if self.indicators.is_empty() {
            e.push("indicators", "Cần ít nhất một sản phẩm kiểm chứng được (chỉ tiêu đo được).");
        } else if self.indicators.len() > limits::INDICATORS {
            e.push("indicators", format!("Tối đa {} chỉ tiêu cho một mô hình.", limits::INDICATORS));
        }
        for (i, ind) in self.indicators.iter().enumerate() {
            let n = i + 1;
            let key = |f: &str| format!("indicator-{i}-{f}");
            if ind.name.trim().is_empty() {
                e.push(key("name"), format!("Vui lòng nhập tên chỉ tiêu thứ {n}."));
            } else if chars(ind.name.trim()) > limits::SHORT_TEXT {
                e.push(key("name"), format!("Tên chỉ tiêu thứ {n} dài quá {} ký tự.", limits::SHORT_TEXT));
            }
            if chars(ind.unit.trim()) > limits::UNIT_TEXT {
                e.push(key("unit"), format!("Đơn vị tính của chỉ tiêu thứ {n} dài quá {} ký tự.", limits::UNIT_TEXT));
            }
            if let Err(msg) = parse_amount(&ind.target, true) {
                e.push(key("target"), format!("Mục tiêu của chỉ tiêu thứ {n} {msg}"));
            }
            if let Err(msg) = parse_amount(&ind.achieved, false) {
                e.push(key("achieved"), format!("Kết quả đạt được của chỉ tiêu thứ {n} {msg}"));
            }
        }

        required_long(&mut e, "sustainability", "khả năng duy trì, nhân rộng", &self.sustainability);
        e
    }

    /// `required`: the label as it reads inside a sentence ("ngày bắt đầu"), for a date that must
    /// be given (written out rather than lower-cased here, so the English catalogue knows it).
    fn check_date(&self, e: &mut FieldErrors, key: &str, label: &str, required: Option<&str>) -> Option<Date> {
        let v = match key {
            "start_date" => &self.start_date,
            "end_date" => &self.end_date,
            _ => &self.evaluation_date,
        }
        .trim();
        if v.is_empty() {
            if let Some(in_sentence) = required {
                e.push(key, format!("Vui lòng nhập {in_sentence}."));
            }
            return None;
        }
        let d = Date::parse(v);
        if d.is_none() {
            e.push(key, format!("{label} không hợp lệ; hãy chọn ngày trên lịch (ngày/tháng/năm)."));
        }
        d
    }

    /// Validates and, only if everything is valid, writes the draft into `model`. Narrative
    /// fields are updated by diff so concurrent edits elsewhere in the text survive the merge.
    pub fn apply(&self, model: &mut Model, fields: &[String]) -> Result<(), FieldErrors> {
        self.apply_changes(None, model, fields)
    }

    /// Like [`apply`](Self::apply), but writes only what the user changed since `base` (the form
    /// as it was opened). A field changed meanwhile on another device (merged in by sync while the
    /// form was open) and left alone here keeps the other device's value.
    pub fn apply_changes(&self, base: Option<&ModelDraft>, model: &mut Model, fields: &[String]) -> Result<(), FieldErrors> {
        let errors = self.validate(fields);
        if !errors.is_empty() {
            return Err(errors);
        }
        let changed = |f: fn(&ModelDraft) -> &String| base.is_none_or(|b| f(b) != f(self));
        macro_rules! scalar {
            ($field:ident, $value:expr) => {
                if changed(|d| &d.$field) {
                    model.$field = $value;
                }
            };
        }
        macro_rules! text {
            ($field:ident) => {
                if changed(|d| &d.$field) {
                    model.$field.update(&self.$field);
                }
            };
        }
        scalar!(name, self.name.trim().to_string());
        text!(situation);
        text!(goals);
        text!(content);
        text!(area);
        text!(forces);
        text!(resources);
        scalar!(start_date, self.start_date.trim().to_string());
        scalar!(end_date, self.end_date.trim().to_string());
        scalar!(evaluation_date, self.evaluation_date.trim().to_string());
        text!(sustainability);
        scalar!(owner_kind, OwnerKind::from_code(&self.owner_kind).unwrap_or_default());
        scalar!(owner_name, self.owner_name.trim().to_string());
        scalar!(field, self.field.clone());
        scalar!(unit, self.unit.trim().to_string());
        scalar!(level, Level::from_code(&self.level).unwrap_or_default());
        scalar!(year, self.year.trim().parse().unwrap_or_default());
        self.apply_indicators(base, model);
        Ok(())
    }

    /// Indicators merge per row (by id): rows added, removed or edited here are applied; rows this
    /// form did not touch keep whatever the document holds now.
    fn apply_indicators(&self, base: Option<&ModelDraft>, model: &mut Model) {
        let to_indicator = |d: &IndicatorDraft| Indicator {
            id: d.id.clone(),
            name: d.name.trim().to_string(),
            unit: d.unit.trim().to_string(),
            target: parse_amount(&d.target, true).unwrap_or_default().unwrap_or(0.0),
            achieved: parse_amount(&d.achieved, false).unwrap_or_default().unwrap_or(0.0),
        };
        let Some(base) = base else {
            model.indicators = self.indicators.iter().map(to_indicator).collect();
            return;
        };
        let in_base = |id: &str| base.indicators.iter().find(|b| b.id == id);
        // Removed here: drop from the document.
        model.indicators.retain(|i| in_base(&i.id).is_none() || self.indicators.iter().any(|d| d.id == i.id));
        for d in &self.indicators {
            let edited = in_base(&d.id).is_none_or(|b| b != d);
            if !edited {
                continue;
            }
            match model.indicators.iter_mut().find(|i| i.id == d.id) {
                Some(existing) => *existing = to_indicator(d),
                None => model.indicators.push(to_indicator(d)),
            }
        }
    }
}

/// Parses an amount as typed: accepts "1,5" as well as "1.5"; blank is allowed unless `required`.
/// The error completes a sentence that starts with the field's name.
pub(crate) fn parse_amount(s: &str, required: bool) -> Result<Option<f64>, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return if required { Err("cần được nhập.") } else { Ok(None) };
    }
    let v: f64 = s.replace(',', ".").parse().map_err(|_| "phải là một số.")?;
    if !v.is_finite() {
        return Err("phải là một số.");
    }
    if v < 0.0 {
        return Err("không được âm.");
    }
    if v > limits::MAX_VALUE {
        return Err("quá lớn.");
    }
    Ok(Some(v))
}

/// How a stored amount reappears in the form: a decimal comma, no grouping (it parses back).
fn format_number(v: f64) -> String {
    format!("{v}").replace('.', ",")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<String> {
        STANDARD_FIELDS.iter().map(|(c, _)| c.to_string()).collect()
    }

    pub(crate) fn good_draft() -> ModelDraft {
        ModelDraft {
            name: "Khéo vận động làm đường giao thông nông thôn".into(),
            situation: "Đường đất lầy lội mùa mưa.".into(),
            goals: "Bê tông hóa 5 km đường.".into(),
            content: "Khéo chọn việc, khéo tuyên truyền, khéo tổ chức thực hiện.".into(),
            area: "Bản Bo, đồng bào dân tộc thiểu số.".into(),
            forces: "Đảng ủy xã chủ trì; MTTQ, Hội Nông dân phối hợp.".into(),
            resources: "Nhà nước hỗ trợ xi măng, nhân dân góp công.".into(),
            start_date: "2025-01-15".into(),
            end_date: "2025-12-31".into(),
            evaluation_date: "2025-12-15".into(),
            indicators: vec![IndicatorDraft {
                id: "i1".into(),
                name: "Đường bê tông".into(),
                unit: "km".into(),
                target: "5".into(),
                achieved: "1,5".into(),
            }],
            sustainability: "Nhân dân tự quản, duy tu hằng năm.".into(),
            owner_kind: "tap_the".into(),
            owner_name: "Khối Dân vận xã Bản Bo".into(),
            field: "kinh_te".into(),
            unit: "Xã Bản Bo".into(),
            level: "co_so".into(),
            year: "2025".into(),
        }
    }

    #[test]
    fn a_complete_draft_is_valid_and_applies() {
        let d = good_draft();
        assert_eq!(d.validate(&fields()), FieldErrors::default());
        let mut m = Model::new("m1".into(), "Cán bộ A", 1);
        d.apply(&mut m, &fields()).unwrap();
        assert_eq!(m.name, d.name);
        assert_eq!(m.indicators[0].achieved, 1.5);
        assert_eq!(m.year, 2025);
        assert_eq!(ModelDraft::from_model(&m), d, "the form reopens exactly as typed");
    }

    #[test]
    fn every_required_item_has_its_own_message() {
        let e = ModelDraft::default().validate(&fields());
        // One message per required item, in the order the form shows them.
        let keys: Vec<&str> = e.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "name", "owner_kind", "owner_name", "field", "unit", "level", "year", "situation", "goals",
                "content", "area", "forces", "resources", "start_date", "indicators", "sustainability",
            ]
        );
        assert_eq!(e.get("name"), Some("Vui lòng nhập tên mô hình."));
        assert_eq!(e.get("start_date"), Some("Vui lòng nhập ngày bắt đầu."));
        assert!(e.get("end_date").is_none(), "end date is optional");
    }

    #[test]
    fn dates_must_be_real_and_in_order() {
        let mut d = good_draft();
        d.end_date = "2024-12-31".into();
        d.evaluation_date = "2025-01-14".into();
        let e = d.validate(&fields());
        assert_eq!(e.get("end_date"), Some("Ngày kết thúc dự kiến không được trước ngày bắt đầu."));
        assert_eq!(e.get("evaluation_date"), Some("Ngày đánh giá không được trước ngày bắt đầu."));
        d.start_date = "2025-02-30".into();
        let e = d.validate(&fields());
        assert!(e.get("start_date").unwrap().contains("không hợp lệ"));
        // With no valid start there is nothing to order against.
        assert!(e.get("end_date").is_none());
    }

    #[test]
    fn numbers_must_be_non_negative_numbers() {
        let mut d = good_draft();
        d.indicators[0].target = "-1".into();
        d.indicators[0].achieved = "abc".into();
        let e = d.validate(&fields());
        assert_eq!(e.get("indicator-0-target"), Some("Mục tiêu của chỉ tiêu thứ 1 không được âm."));
        assert_eq!(e.get("indicator-0-achieved"), Some("Kết quả đạt được của chỉ tiêu thứ 1 phải là một số."));
        d.indicators[0].target = "".into();
        d.indicators[0].achieved = "".into();
        let e = d.validate(&fields());
        assert!(e.get("indicator-0-target").is_some());
        assert!(e.get("indicator-0-achieved").is_none(), "achieved may be blank before work starts");
        d.indicators[0].target = "1e300".into();
        assert_eq!(d.validate(&fields()).get("indicator-0-target"), Some("Mục tiêu của chỉ tiêu thứ 1 quá lớn."));
        d.indicators[0].target = "NaN".into();
        assert!(d.validate(&fields()).get("indicator-0-target").is_some());
    }

    #[test]
    fn lengths_are_bounded_in_characters_not_bytes() {
        let mut d = good_draft();
        d.name = "ệ".repeat(limits::SHORT_TEXT); // 3 bytes each, still within the limit
        assert!(d.validate(&fields()).is_empty());
        d.name.push('a');
        assert_eq!(d.validate(&fields()).get("name"), Some("Tên mô hình dài quá 200 ký tự (hiện có 201)."));
        d.content = "a".repeat(limits::LONG_TEXT + 1);
        assert!(d.validate(&fields()).get("content").unwrap().starts_with("Nội dung"));
    }

    #[test]
    fn year_and_field_are_checked_against_their_lists() {
        let mut d = good_draft();
        d.year = "1999".into();
        d.field = "khong_co".into();
        let e = d.validate(&fields());
        assert!(e.get("year").is_some());
        assert_eq!(e.get("field"), Some("Vui lòng chọn lĩnh vực."));
        let mut custom = fields();
        custom.push("Cải cách hành chính".into());
        d.field = "Cải cách hành chính".into();
        d.year = "2024".into();
        assert!(d.validate(&custom).is_empty());
    }

    #[test]
    fn changes_made_elsewhere_while_the_form_was_open_survive() {
        let mut m = Model::new("m1".into(), "A", 1);
        good_draft().apply(&mut m, &fields()).unwrap();
        let opened = ModelDraft::from_model(&m);
        // Meanwhile another device renamed the owner and added an indicator (merged by sync).
        m.owner_name = "Hội Cựu chiến binh".into();
        m.indicators.push(Indicator { id: "i2".into(), name: "Hộ tham gia".into(), unit: "hộ".into(), target: 40.0, achieved: 0.0 });
        // Here the user changed the name and the first indicator's result.
        let mut mine = opened.clone();
        mine.name = "Tên mới".into();
        mine.indicators[0].achieved = "3".into();
        mine.apply_changes(Some(&opened), &mut m, &fields()).unwrap();
        assert_eq!(m.name, "Tên mới");
        assert_eq!(m.owner_name, "Hội Cựu chiến binh");
        assert_eq!(m.indicators.len(), 2);
        assert_eq!(m.indicators[0].achieved, 3.0);
        // Removing a row here removes only that row.
        let opened = ModelDraft::from_model(&m);
        let mut mine = opened.clone();
        mine.indicators.remove(0);
        mine.apply_changes(Some(&opened), &mut m, &fields()).unwrap();
        assert_eq!(m.indicators.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["i2"]);
    }

    #[test]
    fn a_rejected_apply_leaves_the_model_untouched() {
        let mut m = Model::new("m1".into(), "A", 1);
        good_draft().apply(&mut m, &fields()).unwrap();
        let before = m.clone();
        let mut d = good_draft();
        d.name = "Tên mới".into();
        d.year = "x".into();
        assert!(d.apply(&mut m, &fields()).is_err());
        assert_eq!(m, before);
    }
}
