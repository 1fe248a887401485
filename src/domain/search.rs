//! List search and filters. Search ignores Vietnamese diacritics and case, so a cadre typing on a
//! keyboard without Telex ("dan van kheo") finds "Dân vận khéo". It looks in every text item of a
//! model and lists the best matches first: the name, then who carries it out and where it is
//! registered, then the body (the narrative items, indicators, activity log).

use std::cmp::Reverse;

use super::model::{Model, OwnerKind, Status, field_label};

/// Lower-cases and strips Vietnamese diacritics (precomposed or combining) and maps đ → d.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`], appended to `out` (a search text is built from several items without copies).
pub fn fold_into(s: &str, out: &mut String) {
    fold_capped(s, out, usize::MAX);
}

/// [`fold_into`], stopping before `out` would grow past `limit` bytes (never inside a character),
/// so a long narrative is never folded whole only to keep its start. Returns whether all of `s`
/// was folded.
fn fold_capped(s: &str, out: &mut String, limit: usize) -> bool {
    for c in s.chars() {
        if c.is_ascii() {
            if out.len() >= limit {
                return false;
            }
            out.push(c.to_ascii_lowercase());
            continue;
        }
        for c in c.to_lowercase() {
            // Combining marks (tones, breve, circumflex, horn) typed by some keyboards as
            // separate code points.
            if ('\u{300}'..='\u{36f}').contains(&c) {
                continue;
            }
            let c = base_letter(c);
            if out.len() + c.len_utf8() > limit {
                return false;
            }
            out.push(c);
        }
    }
    true
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

/// At most this many bytes of a model's name, and of its owner, unit and field together, are
/// searched (the form allows 200 characters for each of them; a longer one came from elsewhere).
pub const SHORT_CAP: usize = 1024;

/// At most this many bytes of a model's folded body are searched: 4 KB, about 700 words — all of
/// a usual registration (the client benchmark's realistic models fold to ~0.9 KB each, name and
/// owner included) and the start of every item of a long one. The form lets each of the seven
/// narratives hold 10,000 characters (~25 KB in UTF-8), so uncapped one model could put ~175 KB
/// into memory a second time and into every keystroke's scan; capped, a model costs at most
/// 6 KB (1,500 models: 9 MB at worst, ~1.4 MB for the benchmark's).
pub const BODY_CAP: usize = 4096;

/// A search's ranking of one model; greater is better. First where all the query's words are
/// found — all in the name, all in the name or the owner, unit or field, or (also) in the body —,
/// then how many are in the name, then how many in the owner, unit or field. A word counts for
/// the name or the others only where one of their words starts with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Rank {
    /// 2: every word in the name; 1: every word in the name or the owner, unit, field; 0: not.
    pub all_in: u8,
    pub in_name: u16,
    pub in_who: u16,
}

/// One model's search text, folded: its name, then who carries it out and where (owner, unit
/// code and name, field), then its body (area, situation, goals, content, forces, resources,
/// sustainability, indicators, activity log), the parts separated by '\n'. A query word never
/// holds whitespace, so it never spans two parts, and where it first occurs says in which part
/// it is first found: one scan per word gives both the match and the rank.
#[derive(Debug, Clone, Default)]
pub struct SearchText {
    text: String,
    name_end: usize,
    who_end: usize,
}

impl SearchText {
    pub fn new(model: &Model, unit_name: &str) -> SearchText {
        let mut s = SearchText::default();
        s.fill(model, unit_name);
        s
    }

    /// Made again in place (the buffer is kept: a model's new version reuses it).
    fn fill(&mut self, model: &Model, unit_name: &str) {
        let out = &mut self.text;
        out.clear();
        fold_capped(&model.name, out, SHORT_CAP);
        out.push('\n');
        self.name_end = out.len();
        let who_cap = out.len() + SHORT_CAP;
        for part in [model.owner_name.as_str(), &model.unit, unit_name, field_label(&model.field)] {
            fold_capped(part, out, who_cap);
            out.push(' ');
        }
        out.push('\n');
        self.who_end = out.len();
        // The body: each item gets a fair share of the cap (an item shorter than its share is
        // kept whole and leaves the rest to the others), so one long narrative cannot crowd out
        // the items after it.
        let body = body_items(model);
        let shares = fair_shares(&body.each_ref().map(|item| item.iter().map(|s| s.len() + 1).sum()), BODY_CAP);
        for (item, share) in body.iter().zip(shares) {
            let cap = out.len() + share;
            for s in item.iter() {
                if !fold_capped(s, out, cap) || out.len() >= cap {
                    break;
                }
                out.push(' ');
            }
        }
        out.shrink_to_fit();
    }

    /// The folded text as searched.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The model's rank for these (folded) words, or `None` unless every word occurs somewhere.
    /// A word counts for the name (or the owner, unit, field) only where a word of it starts
    /// with it: "thu" typed for "thư viện" does not lift "Hũ gạo tình thương".
    pub fn rank(&self, words: &[&str]) -> Option<Rank> {
        let mut rank = Rank::default();
        for w in words {
            // The first occurrence: no match ends the search at once, and one in the body only
            // (the usual case for most models) needs no second look.
            let at = self.text.find(w)?;
            if at >= self.who_end {
                continue;
            }
            if starts_a_word(&self.text[..self.name_end], w) {
                rank.in_name += 1;
            } else if starts_a_word(&self.text[self.name_end..self.who_end], w) {
                rank.in_who += 1;
            }
        }
        let n = words.len() as u16;
        rank.all_in = if rank.in_name == n { 2 } else if rank.in_name + rank.in_who == n { 1 } else { 0 };
        Some(rank)
    }
}

/// `word` occurs in `text` at the start of one of its words (after a space, punctuation or the
/// start; a letter outside ASCII counts as a letter).
fn starts_a_word(text: &str, word: &str) -> bool {
    let mut from = 0;
    while let Some(at) = text[from..].find(word).map(|i| from + i) {
        let before = at.checked_sub(1).map(|i| text.as_bytes()[i]);
        if before.is_none_or(|b| b.is_ascii() && !b.is_ascii_alphanumeric()) {
            return true;
        }
        // The next character boundary after `at` (a word is never empty).
        from = at + text[at..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// The body's items, each as its texts in order: the narrative items in the form's order (area
/// first: it was searched before the body was), the indicators' names and units, the activity
/// log's texts and places, newest first.
fn body_items(model: &Model) -> [Vec<&str>; 9] {
    fn one(t: &autosurgeon::Text) -> Vec<&str> {
        vec![t.as_str()]
    }
    [
        one(&model.area),
        one(&model.situation),
        one(&model.goals),
        one(&model.content),
        one(&model.forces),
        one(&model.resources),
        one(&model.sustainability),
        model.indicators.iter().flat_map(|i| [i.name.as_str(), i.unit.as_str()]).collect(),
        model.journal.iter().rev().flat_map(|e| [e.text.as_str(), e.place.as_str()]).collect(),
    ]
}

/// Splits `cap` among items of these sizes: the smallest are given what they need, what they
/// leave is shared equally by the larger (water-filling); the shares add up to at most `cap`.
/// (Rounds of equal shares rather than a sort: no sorting code for this in the wasm.)
fn fair_shares<const N: usize>(sizes: &[usize; N], cap: usize) -> [usize; N] {
    let mut shares = [0; N];
    let mut left = cap;
    loop {
        let wanting = (0..N).filter(|&i| shares[i] < sizes[i]).count();
        if wanting == 0 || left < wanting {
            return shares;
        }
        let fair = left / wanting;
        for i in 0..N {
            let more = (sizes[i] - shares[i]).min(fair);
            shares[i] += more;
            left -= more;
        }
    }
}

/// The (folded) query's words.
fn words(folded_query: &str) -> Vec<&str> {
    folded_query.split_whitespace().collect()
}

/// Every word of the query occurs somewhere in the model's text items (name, owner, unit — code
/// or `unit_name` —, field, narrative items, indicators, activity log).
pub fn matches_query(model: &Model, unit_name: &str, folded_query: &str) -> bool {
    SearchText::new(model, unit_name).rank(&words(folded_query)).is_some()
}

/// The search texts of the models on a device, folded once per version of each model (and of its
/// unit's name): typing in the search box scans prepared text, and a keystroke allocates nothing
/// per model. Kept by the replica for the whole session, so going back to the list does not fold
/// everything again.
///
/// Typing narrows: when every word of the previous search is inside a word of the new one ("van"
/// → "van d", "van dong" → "van dong x"), a model the previous search ruled out, unchanged since,
/// is ruled out without scanning its text again — a word that is nowhere costs one full scan,
/// not one per keystroke.
#[derive(Debug, Default)]
pub struct SearchIndex {
    texts: std::collections::HashMap<String, Entry>,
    /// Counts the searches (non-empty queries) made with this index.
    generation: u32,
    /// The previous search's words.
    last_words: Vec<String>,
}

#[derive(Debug)]
struct Entry {
    /// The model's `updated_at` and unit name the text was made from.
    version: i64,
    unit_name: String,
    text: SearchText,
    /// The search that looked at this model last (0: none; searches count from 1, and the first
    /// never narrows), and whether the model matched it.
    checked: u32,
    matched: bool,
}

impl Entry {
    fn new(model: &Model, unit_name: &str) -> Entry {
        Entry { version: model.updated_at, unit_name: unit_name.to_string(), text: SearchText::new(model, unit_name), checked: 0, matched: false }
    }

    /// Makes the text again if the model or its unit's name changed; says whether it did.
    fn refresh(&mut self, model: &Model, unit_name: &str) -> bool {
        if self.version == model.updated_at && self.unit_name == unit_name {
            return false;
        }
        self.version = model.updated_at;
        self.unit_name.clear();
        self.unit_name.push_str(unit_name);
        self.text.fill(model, unit_name);
        true
    }

    fn rank(&mut self, words: &[&str], generation: u32, narrowing: bool) -> Option<Rank> {
        let rank = if narrowing && self.checked == generation - 1 && !self.matched { None } else { self.text.rank(words) };
        self.checked = generation;
        self.matched = rank.is_some();
        rank
    }
}

impl SearchIndex {
    /// The model's search text, made again only if the model or its unit's name changed.
    pub fn text(&mut self, model: &Model, unit_name: &str) -> &SearchText {
        if !self.texts.contains_key(model.id.as_str()) {
            self.texts.insert(model.id.clone(), Entry::new(model, unit_name));
        }
        let entry = self.texts.get_mut(model.id.as_str()).expect("inserted above");
        entry.refresh(model, unit_name);
        &entry.text
    }

    /// Makes the texts missing or stale, asking `more()` after each text made whether to go on (a
    /// slice of work between two frames, so the first keystroke finds them made: the caller
    /// decides how long a slice is, this module has no clock); returns whether every model's text
    /// is now ready.
    pub fn prepare<'a>(
        &mut self,
        models: impl IntoIterator<Item = &'a Model>,
        unit_names: &std::collections::HashMap<String, String>,
        mut more: impl FnMut() -> bool,
    ) -> bool {
        for m in models {
            let unit_name = unit_names.get(&m.unit).map_or("", String::as_str);
            let fresh = match self.texts.get_mut(m.id.as_str()) {
                Some(entry) => !entry.refresh(m, unit_name),
                None => {
                    self.texts.insert(m.id.clone(), Entry::new(m, unit_name));
                    false
                }
            };
            if !fresh && !more() {
                return false;
            }
        }
        true
    }

    /// Starts a search for these (folded, non-empty) words; returns whether it narrows the
    /// previous one.
    fn begin(&mut self, words: &[&str]) -> bool {
        let narrowing = self.generation > 0 && self.last_words.iter().all(|p| words.iter().any(|w| w.contains(p.as_str())));
        self.generation += 1;
        self.last_words.clear();
        self.last_words.extend(words.iter().map(|w| w.to_string()));
        narrowing
    }

    /// The model's rank in the search begun last (`None`: it does not match).
    fn rank(&mut self, model: &Model, unit_name: &str, words: &[&str], narrowing: bool) -> Option<Rank> {
        let generation = self.generation;
        // One lookup, no key made, in the usual case (the model has a text, unchanged).
        if let Some(entry) = self.texts.get_mut(model.id.as_str()) {
            let changed = entry.refresh(model, unit_name);
            return entry.rank(words, generation, narrowing && !changed);
        }
        let mut entry = Entry::new(model, unit_name);
        let rank = entry.rank(words, generation, false);
        self.texts.insert(model.id.clone(), entry);
        rank
    }

    /// Forgets every text (the device's models were read again, e.g. after signing out).
    pub fn clear(&mut self) {
        *self = SearchIndex::default();
    }

    /// How many bytes of folded text it holds (tests and measurements).
    pub fn text_bytes(&self) -> usize {
        self.texts.values().map(|e| e.text.text.len()).sum()
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
    /// The matching models: with a search, best match first (more of its words in the name, then
    /// in the owner, unit or field — see [`Rank`]); among equals, and without a search, most
    /// recently changed first.
    pub fn apply<'a>(&self, models: impl IntoIterator<Item = &'a Model>) -> Vec<&'a Model> {
        self.apply_indexed(models, &mut SearchIndex::default())
    }

    /// The same, with the search texts kept in `index` from one call to the next (the replica
    /// keeps one for the session).
    pub fn apply_indexed<'a>(&self, models: impl IntoIterator<Item = &'a Model>, index: &mut SearchIndex) -> Vec<&'a Model> {
        let q = fold(self.query.trim());
        let words = words(&q);
        let narrowing = !words.is_empty() && index.begin(&words);
        let mut out: Vec<(Reverse<Rank>, &Model)> = models
            .into_iter()
            .filter(|m| self.field.as_ref().is_none_or(|f| &m.field == f))
            .filter(|m| self.status.is_none_or(|s| m.status == s))
            .filter(|m| self.owner_kind.is_none_or(|k| m.owner_kind == k))
            .filter(|m| self.year.is_none_or(|y| m.year == y))
            .filter_map(|m| {
                if words.is_empty() {
                    return Some((Reverse(Rank::default()), m));
                }
                let unit_name = self.unit_names.get(&m.unit).map_or("", String::as_str);
                index.rank(m, unit_name, &words, narrowing).map(|r| (Reverse(r), m))
            })
            .collect();
        out.sort_unstable_by(|(ra, a), (rb, b)| ra.cmp(rb).then_with(|| b.updated_at.cmp(&a.updated_at)).then_with(|| a.id.cmp(&b.id)));
        out.into_iter().map(|(_, m)| m).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Indicator, JournalEntry};
    use autosurgeon::Text;

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
        assert!(index.text(&m, "Xã Bản Bo").as_str().contains("hu gao tinh thuong"));
        m.name = "Tủ bánh mì".into();
        // Same version: the text made before is kept (a model changes only with a new version).
        assert!(index.text(&m, "Xã Bản Bo").as_str().contains("hu gao"));
        m.updated_at = 2;
        assert!(index.text(&m, "Xã Bản Bo").as_str().contains("tu banh mi"));
        assert!(index.text(&m, "Xã Trường Sơn").as_str().contains("xa truong son"));
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

    fn ids<'a>(found: Vec<&'a Model>) -> Vec<&'a str> {
        found.into_iter().map(|m| m.id.as_str()).collect()
    }

    fn search(query: &str, all: &[Model]) -> Vec<String> {
        ModelFilter { query: query.into(), ..Default::default() }.apply(all).into_iter().map(|m| m.id.clone()).collect()
    }

    #[test]
    fn a_word_only_in_the_body_finds_the_model() {
        let mut m = model("1", "Tủ bánh mì nghĩa tình", 1);
        m.resources = Text::with_value("Nhà hảo tâm và Hội Cựu chiến binh góp bột mì.");
        m.indicators.push(Indicator { id: "i".into(), name: "Suất bánh phát ra".into(), unit: "suất".into(), target: 1.0, achieved: 0.0 });
        let mut entry = JournalEntry { id: "j".into(), date: "2025-03-01".into(), text: "Phát bánh tại chợ phiên Khuổi Hẩu".into(), ..journal_entry() };
        entry.place = "Bản Nà Pồng".into();
        m.journal.push(entry);
        let all = [m];
        for q in ["cuu chien binh", "bột mì", "suat", "chợ phiên", "khuoi hau", "na pong"] {
            assert_eq!(search(q, &all), ["1"], "{q}");
        }
        assert!(search("xe ôm", &all).is_empty());
    }

    fn journal_entry() -> JournalEntry {
        JournalEntry {
            id: String::new(),
            date: String::new(),
            text: String::new(),
            updates: Vec::new(),
            photos: Vec::new(),
            location: None,
            place: String::new(),
            by: String::new(),
            by_name: String::new(),
            at: 0,
        }
    }

    #[test]
    fn the_body_is_searched_without_diacritics_or_case() {
        let mut m = model("1", "Mô hình A", 1);
        m.situation = Text::with_value("NHIỀU HỘ ĐỒNG BÀO chưa có nước sạch");
        // Typed with combining marks by some keyboards.
        m.goals = Text::with_value("Đu\u{301}ng hen\u{323}");
        let all = [m];
        for q in ["nhieu ho dong bao", "Nước Sạch", "nuoc sach", "ĐÚNG HẸN", "dung hen"] {
            assert_eq!(search(q, &all), ["1"], "{q}");
        }
    }

    #[test]
    fn every_word_must_occur_but_may_be_in_different_items() {
        let mut m = model("1", "Nước sạch về bản", 1);
        m.owner_name = "Chi hội Phụ nữ".into();
        m.area = Text::with_value("Thôn Nà Pồng");
        m.sustainability = Text::with_value("Tổ tự quản duy trì");
        let all = [m];
        assert_eq!(search("nuoc phu nu na pong tu quan", &all), ["1"]);
        assert!(search("nuoc phu nu na pong camera", &all).is_empty(), "one word missing: no match");
    }

    #[test]
    fn best_matches_first_name_then_owner_or_unit_then_body() {
        let mut body = model("body", "Tủ sách cộng đồng", 40);
        body.content = Text::with_value("Vận động bà con góp sách về thư viện thôn.");
        let mut owner = model("owner", "Đường làng sáng đẹp", 30);
        owner.owner_name = "Chi đoàn thôn Thư Viện".into();
        let mut unit = model("unit", "Hũ gạo tình nghĩa", 20);
        unit.unit = "TV".into();
        let name_old = model("name-old", "Thư viện xanh trong trường học", 5);
        let name_new = model("name-new", "Thư viện đọc sách cho em", 10);
        let no = model("no", "Tổ xe ôm tự quản", 50);
        let all = [body, owner, unit, name_old, name_new, no];
        let names = std::collections::HashMap::from([("TV".to_string(), "Xã Thư Viện".to_string())]);
        let search = |q: &str| ids(ModelFilter { query: q.into(), unit_names: names.clone(), ..Default::default() }.apply(&all));
        // Among equals the newest change first, as without a search.
        assert_eq!(search("thu vien"), ["name-new", "name-old", "owner", "unit", "body"]);
        assert_eq!(search("THƯ VIỆN"), ["name-new", "name-old", "owner", "unit", "body"]);
        // Without a search: most recently changed first, as before.
        assert_eq!(search(""), ["no", "body", "owner", "unit", "name-new", "name-old"]);
        // More of the words in the name ranks higher: "sach" is in the name of "body" and
        // "name-new", "thu vien" in the name of "name-new" only.
        assert_eq!(search("sach thu vien"), ["name-new", "body"]);
        // A word inside another word of the name still finds the model, without lifting it
        // above one where a word starts with it.
        let mut inside = model("inside", "Tình thương", 9);
        inside.situation = Text::with_value("Hộ nghèo");
        let mut starts = model("starts", "Hộ nghèo", 1);
        starts.owner_name = "Bà Hương".into();
        assert_eq!(ids(ModelFilter { query: "huong".into(), ..Default::default() }.apply(&[inside.clone(), starts.clone()])), ["starts", "inside"]);
        // All words in the name beats more words in the name but one only in the body.
        let mut both = model("both", "Hộ nghèo thoát nghèo", 1);
        both.content = Text::with_value("Bà Hương hướng dẫn");
        let m = ModelFilter { query: "ho ngheo huong".into(), ..Default::default() };
        assert_eq!(ids(m.apply(&[both.clone(), starts.clone()])), ["starts", "both"], "{:?}", [SearchText::new(&both, "").rank(&["ho", "ngheo", "huong"])]);
    }

    #[test]
    fn a_unit_name_found_ranks_with_the_owner() {
        let mut far = model("far", "Mô hình A", 1);
        far.unit = "BANBO".into();
        let mut near = model("near", "Mô hình B", 2);
        near.situation = Text::with_value("Học tập cách làm của xã Bản Bo");
        let names = std::collections::HashMap::from([("BANBO".to_string(), "Xã Bản Bo".to_string())]);
        let f = ModelFilter { query: "ban bo".into(), unit_names: names, ..Default::default() };
        assert_eq!(ids(f.apply(&[far.clone(), near.clone()])), ["far", "near"]);
    }

    #[test]
    fn the_body_is_capped_and_every_item_keeps_its_start() {
        let mut m = model("1", "Mô hình dài", 1);
        // A pasted report: 9,000 characters (~12 KB) in one item, its last word past the cap.
        let long = format!("{} cuốicùng", "Vận động nhân dân hiến đất làm đường. ".repeat(240));
        m.content = Text::with_value(long.as_str());
        m.situation = Text::with_value("Đường lầy lội mùa mưa.");
        m.sustainability = Text::with_value("Tổ bảo trì đường do thôn bầu.");
        m.indicators.push(Indicator { id: "i".into(), name: "Mét đường bê tông".into(), unit: "m".into(), target: 1.0, achieved: 0.0 });
        let text = SearchText::new(&m, "Xã Bản Bo");
        assert!(text.as_str().len() <= 2 * SHORT_CAP + BODY_CAP, "{}", text.as_str().len());
        assert!(text.as_str().len() > BODY_CAP - 200, "the cap is used, not far below it");
        let all = [m];
        // The items after the long one are still searched, and the long one's start.
        for q in ["lay loi", "bao tri", "be tong", "hien dat"] {
            assert_eq!(search(q, &all), ["1"], "{q}");
        }
        assert!(search("cuoicung", &all).is_empty(), "past the cap");
    }

    #[test]
    fn typing_narrows_and_finds_the_same_as_a_fresh_search() {
        let mut all: Vec<Model> = ["Dân vận khéo", "Đường giao thông", "Vận động hiến đất", "Camera an ninh", "Đổi đất"]
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut m = model(&i.to_string(), n, i as i64);
                m.content = Text::with_value(if i % 2 == 0 { "vận động đóng góp" } else { "thu gom rác" });
                m
            })
            .collect();
        let mut index = SearchIndex::default();
        let steps = ["v", "va", "van", "van d", "van dz", "van d", "van do", "van dong", "van dong", "dong", "dat", "dat x", "x"];
        for (k, q) in steps.iter().enumerate() {
            // Meanwhile a model changes (a sync) and a filter is set and cleared.
            if k == 4 {
                all[1].name = "Vận động dz".into();
                all[1].updated_at = 10;
            }
            let year = (k == 7).then_some(2025);
            let f = ModelFilter { query: q.to_string(), year, ..Default::default() };
            let fresh = ids(f.apply(&all));
            assert_eq!(ids(f.apply_indexed(&all, &mut index)), fresh, "{q}");
            if k == 7 {
                all[3].year = 2024;
            }
        }
    }

    #[test]
    fn preparing_in_slices_makes_every_text_once() {
        let all: Vec<Model> = (0..5).map(|i| model(&i.to_string(), "Hũ gạo", i)).collect();
        let names = std::collections::HashMap::new();
        let mut index = SearchIndex::default();
        // A slice of `n` texts.
        let texts = |n: usize| {
            let mut left = n;
            move || {
                left -= 1;
                left > 0
            }
        };
        assert!(!index.prepare(&all, &names, texts(2)));
        assert!(!index.prepare(&all, &names, texts(2)));
        assert!(index.prepare(&all, &names, texts(2)), "the fifth made, nothing left");
        assert!(index.prepare(&all, &names, texts(1)), "all made: nothing to do");
        assert_eq!(index.texts.len(), 5);
        assert_eq!(ids(ModelFilter { query: "hu gao".into(), ..Default::default() }.apply_indexed(&all, &mut index)).len(), 5);
    }

    #[test]
    fn fair_shares_give_small_items_their_size_and_split_the_rest() {
        assert_eq!(fair_shares(&[10, 20, 30], 100), [10, 20, 30]);
        assert_eq!(fair_shares(&[10, 5000, 20, 9000], 1000), [10, 485, 20, 485]);
        assert_eq!(fair_shares(&[0, 0], 7), [0, 0]);
        assert_eq!(fair_shares(&[400, 400, 400], 1000), [333, 333, 333]);
        assert_eq!(fair_shares(&[100, 300, 2000, 5000], 1000), [100, 300, 300, 300]);
    }

    #[test]
    fn folding_with_a_cap_stops_at_a_character_boundary() {
        let mut out = String::new();
        assert!(!fold_capped("Đường ẞ lầy lội", &mut out, 8));
        assert_eq!(out, "duong ß");
        out.clear();
        assert!(fold_capped("Đường", &mut out, 5));
        assert_eq!(out, "duong");
    }
}
