//! List search and filters. Search ignores Vietnamese diacritics and case, so a cadre typing on a
//! keyboard without Telex ("dan van kheo") finds "Dân vận khéo".

use super::model::{Model, OwnerKind, Status, field_label};

/// Lower-cases and strips Vietnamese diacritics (precomposed or combining) and maps đ → d.
pub fn fold(s: &str) -> String {
    const GROUPS: [(char, &str); 7] = [
        ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
        ('e', "èéẻẽẹêềếểễệ"),
        ('i', "ìíỉĩị"),
        ('o', "òóỏõọôồốổỗộơờớởỡợ"),
        ('u', "ùúủũụưừứửữự"),
        ('y', "ỳýỷỹỵ"),
        ('d', "đ"),
    ];
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        // Combining marks (tones, breve, circumflex, horn) typed by some keyboards as separate code points.
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let base = if c.is_ascii() {
            c
        } else {
            GROUPS.iter().find(|(_, g)| g.contains(c)).map(|(b, _)| *b).unwrap_or(c)
        };
        out.push(base);
    }
    out
}

/// Every word of the query must occur in the model's name, owner, unit (code or `unit_name`),
/// area or field.
pub fn matches_query(model: &Model, unit_name: &str, folded_query: &str) -> bool {
    let words: Vec<&str> = folded_query.split_whitespace().collect();
    if words.is_empty() {
        return true;
    }
    let haystack = fold(&format!(
        "{} {} {} {} {} {}",
        model.name,
        model.owner_name,
        model.unit,
        unit_name,
        field_label(&model.field),
        model.area.as_str()
    ));
    words.iter().all(|w| haystack.contains(w))
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
        let q = fold(self.query.trim());
        let mut out: Vec<&Model> = models
            .into_iter()
            .filter(|m| self.field.as_ref().is_none_or(|f| &m.field == f))
            .filter(|m| self.status.is_none_or(|s| m.status == s))
            .filter(|m| self.owner_kind.is_none_or(|k| m.owner_kind == k))
            .filter(|m| self.year.is_none_or(|y| m.year == y))
            .filter(|m| matches_query(m, self.unit_names.get(&m.unit).map_or("", String::as_str), &q))
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
