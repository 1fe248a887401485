//! List search and filters. Search ignores Vietnamese diacritics and case, so a cadre typing on a
//! keyboard without Telex ("dan van kheo") finds "Dân vận khéo".

use super::model::{Model, OwnerKind, Status, field_label};

/// Lower-cases and strips Vietnamese diacritics (precomposed or combining) and maps đ → d.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`], appended to `out` (a search text is built from several items without copies).
pub fn fold_into(s: &str, out: &mut String) {
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        for c in c.to_lowercase() {
            // Combining marks (tones, breve, circumflex, horn) typed by some keyboards as
            // separate code points.
            if ('\u{300}'..='\u{36f}').contains(&c) {
                continue;
            }
            out.push(base_letter(c));
        }
    }
}

/// The letter under a Vietnamese vowel's marks, and d for đ (a `match`: a keystroke folds the
/// text of thousands of models, so this is not a scan of letter groups).
fn base_letter(c: char) -> char {
    match c {
        'à' | 'á' | 'ả' | 'ã' | 'ạ' | 'ă' | 'ằ' | 'ắ' | 'ẳ' | 'ẵ' | 'ặ' | 'â' | 'ầ' | 'ấ' | 'ẩ' | 'ẫ' | 'ậ' => 'a',
        'è' | 'é' | 'ẻ' | 'ẽ' | 'ẹ' | 'ê' | 'ề' | 'ế' | 'ể' | 'ễ' | 'ệ' => 'e',
        'ì' | 'í' | 'ỉ' | 'ĩ' | 'ị' => 'i',
        'ò' | 'ó' | 'ỏ' | 'õ' | 'ọ' | 'ô' | 'ồ' | 'ố' | 'ổ' | 'ỗ' | 'ộ' | 'ơ' | 'ờ' | 'ớ' | 'ở' | 'ỡ' | 'ợ' => 'o',
        'ù' | 'ú' | 'ủ' | 'ũ' | 'ụ' | 'ư' | 'ừ' | 'ứ' | 'ử' | 'ữ' | 'ự' => 'u',
        'ỳ' | 'ý' | 'ỷ' | 'ỹ' | 'ỵ' => 'y',
        'đ' => 'd',
        other => other,
    }
}

/// What a search looks in, folded: the model's name, owner, unit (code or `unit_name`), area and
/// field.
pub fn search_text(model: &Model, unit_name: &str) -> String {
    let mut out = String::with_capacity(model.name.len() + model.owner_name.len() + model.area.as_str().len() + 64);
    for part in [model.name.as_str(), &model.owner_name, &model.unit, unit_name, field_label(&model.field), model.area.as_str()] {
        fold_into(part, &mut out);
        out.push(' ');
    }
    out
}

/// Every word of the (folded) query occurs in the (folded) search text.
fn all_words_in(text: &str, folded_query: &str) -> bool {
    folded_query.split_whitespace().all(|w| text.contains(w))
}

/// Every word of the query must occur in the model's name, owner, unit (code or `unit_name`),
/// area or field.
pub fn matches_query(model: &Model, unit_name: &str, folded_query: &str) -> bool {
    folded_query.trim().is_empty() || all_words_in(&search_text(model, unit_name), folded_query)
}

/// The search texts of a list, folded once per version of each model: typing in the search box
/// scans prepared text instead of folding every model's text at each keystroke.
#[derive(Debug, Default)]
pub struct SearchIndex {
    /// id → (the `updated_at` and unit name it was made from, the text).
    texts: std::collections::HashMap<String, (i64, String, String)>,
}

impl SearchIndex {
    /// The model's search text, made again only if the model or its unit's name changed.
    pub fn text(&mut self, model: &Model, unit_name: &str) -> &str {
        let entry = self.texts.entry(model.id.clone()).or_insert_with(|| (i64::MIN, String::new(), String::new()));
        if entry.0 != model.updated_at || entry.1 != unit_name {
            *entry = (model.updated_at, unit_name.to_string(), search_text(model, unit_name));
        }
        &entry.2
    }
}

/// The list screen's filters; `None` means "all".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelFilter {
    pub query: String,
    pub field: Option<String>,
    pub status: Option<Status>,
    pub owner_kind: Option<OwnerKind>,
    pub year: Option<u32>,
    /// Units' names by code, so a search for "Bản Bo" finds the models of unit `BANBO`.
    pub unit_names: std::collections::HashMap<String, String>,
}

impl ModelFilter {
    /// The matching models, most recently changed first.
    pub fn apply<'a>(&self, models: impl IntoIterator<Item = &'a Model>) -> Vec<&'a Model> {
        self.apply_indexed(models, &mut SearchIndex::default())
    }

    /// The same, with the search texts kept in `index` from one call to the next (the list keeps
    /// one while it is shown).
    pub fn apply_indexed<'a>(&self, models: impl IntoIterator<Item = &'a Model>, index: &mut SearchIndex) -> Vec<&'a Model> {
        let q = fold(self.query.trim());
        let searching = !q.trim().is_empty();
        let mut out: Vec<&Model> = models
            .into_iter()
            .filter(|m| self.field.as_ref().is_none_or(|f| &m.field == f))
            .filter(|m| self.status.is_none_or(|s| m.status == s))
            .filter(|m| self.owner_kind.is_none_or(|k| m.owner_kind == k))
            .filter(|m| self.year.is_none_or(|y| m.year == y))
            .filter(|m| !searching || all_words_in(index.text(m, self.unit_names.get(&m.unit).map_or("", String::as_str)), &q))
            .collect();
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.id.cmp(&b.id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, name: &str, updated_at: i64) -> Model {
        let mut m = Model::new(id.into(), "A", updated_at);
        m.name = name.into();
        m.year = 2025;
        m
    }

    #[test]
    fn folding_ignores_tones_marks_and_case() {
        assert_eq!(fold("Dân vận khéo"), "dan van kheo");
        assert_eq!(fold("ĐẢNG ỦY XÃ BẢN BO"), "dang uy xa ban bo");
        assert_eq!(fold("Hũ gạo tình thương"), "hu gao tinh thuong");
        assert_eq!(fold("Ngày chủ nhật hồng – trọn nghĩa cùng dân"), "ngay chu nhat hong – tron nghia cung dan");
        // Decomposed input (base letter + combining marks) folds the same way.
        assert_eq!(fold("Da\u{302}n va\u{302}\u{323}n"), "dan van");
        assert_eq!(fold("ươ ƯỚ"), "uo uo");
    }

    #[test]
    fn folding_keeps_other_letters_and_punctuation() {
        assert_eq!(fold("Xã Bản Bo, huyện Tam Đường (2025) – ÂƯ"), "xa ban bo, huyen tam duong (2025) – au");
        assert_eq!(fold("Ñandú ü"), "ñandu ü");
    }

    #[test]
    fn the_index_makes_a_text_again_only_when_the_model_or_its_unit_changed() {
        let mut m = model("1", "Hũ gạo tình thương", 1);
        let mut index = SearchIndex::default();
        assert!(index.text(&m, "Xã Bản Bo").contains("hu gao tinh thuong"));
        m.name = "Tủ bánh mì".into();
        // Same version: the text made before is kept (a model changes only with a new version).
        assert!(index.text(&m, "Xã Bản Bo").contains("hu gao"));
        m.updated_at = 2;
        assert!(index.text(&m, "Xã Bản Bo").contains("tu banh mi"));
        assert!(index.text(&m, "Xã Trường Sơn").contains("xa truong son"));
        let f = ModelFilter { query: "banh mi truong".into(), unit_names: [("".into(), "".into())].into(), ..Default::default() };
        assert_eq!(f.apply_indexed([&m], &mut index).len(), 0, "the unit's name comes from the filter's names (none here)");
    }

    #[test]
    fn search_without_diacritics_finds_the_model() {
        let m = model("1", "Dân vận khéo trong xây dựng nông thôn mới", 1);
        assert!(matches_query(&m, "", &fold("dan van kheo")));
        assert!(matches_query(&m, "", &fold("NÔNG THÔN")));
        assert!(matches_query(&m, "", &fold("nong  moi")));
        assert!(!matches_query(&m, "", &fold("bánh mì")));
    }

    #[test]
    fn filters_combine_and_sort_by_last_change() {
        let mut a = model("a", "Tủ bánh mì nghĩa tình", 10);
        a.field = "van_hoa_xa_hoi".into();
        let mut b = model("b", "Hũ gạo tình thương", 30);
        b.field = "van_hoa_xa_hoi".into();
        b.owner_kind = OwnerKind::Household;
        let mut c = model("c", "Tổ xe ôm tự quản", 20);
        c.year = 2024;
        let all = [a.clone(), b.clone(), c.clone()];
        let ids = |f: &ModelFilter| f.apply(&all).iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&ModelFilter::default()), ["b", "c", "a"]);
        assert_eq!(ids(&ModelFilter { field: Some("van_hoa_xa_hoi".into()), ..Default::default() }), ["b", "a"]);
        assert_eq!(ids(&ModelFilter { owner_kind: Some(OwnerKind::Household), ..Default::default() }), ["b"]);
        assert_eq!(ids(&ModelFilter { year: Some(2024), ..Default::default() }), ["c"]);
        assert_eq!(ids(&ModelFilter { query: "tinh".into(), ..Default::default() }), ["b", "a"]);
        assert_eq!(ids(&ModelFilter { status: Some(Status::Registered), query: "xe om".into(), ..Default::default() }), ["c"]);
        // Units are stored by code; their names are searched too.
        let mut d = model("d", "Bồn hoa thay điểm rác", 5);
        d.unit = "BANBO".into();
        let all = [a, d];
        let names = std::collections::HashMap::from([("BANBO".to_string(), "Xã Bản Bo".to_string())]);
        let by_unit = ModelFilter { query: "ban bo".into(), unit_names: names, ..Default::default() };
        assert_eq!(by_unit.apply(&all).iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["d"]);
    }
}
