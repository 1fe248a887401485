//! The model (mô hình) record and its vocabularies.

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};

/// Version of the document layout written by this code (see ARCHITECTURE.md, "Model document").
pub const SCHEMA_VERSION: u64 = 1;

/// Who carries out the model (loại).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum OwnerKind {
    #[default]
    #[autosurgeon(rename = "tap_the")]
    Collective,
    #[autosurgeon(rename = "ca_nhan")]
    Individual,
    #[autosurgeon(rename = "ho_gia_dinh")]
    Household,
}

impl OwnerKind {
    pub const ALL: [OwnerKind; 3] = [OwnerKind::Collective, OwnerKind::Individual, OwnerKind::Household];

    pub fn code(self) -> &'static str {
        match self {
            OwnerKind::Collective => "tap_the",
            OwnerKind::Individual => "ca_nhan",
            OwnerKind::Household => "ho_gia_dinh",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OwnerKind::Collective => "Tập thể",
            OwnerKind::Individual => "Cá nhân",
            OwnerKind::Household => "Hộ gia đình",
        }
    }

    pub fn from_code(code: &str) -> Option<OwnerKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// The level at which a model is registered (cấp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum Level {
    #[default]
    #[autosurgeon(rename = "co_so")]
    Grassroots,
    /// Historical: most districts were abolished in 2025, records from 2009–2025 still carry it.
    #[autosurgeon(rename = "huyen")]
    District,
    #[autosurgeon(rename = "tinh")]
    Province,
    #[autosurgeon(rename = "trung_uong")]
    Central,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Grassroots, Level::District, Level::Province, Level::Central];

    pub fn code(self) -> &'static str {
        match self {
            Level::Grassroots => "co_so",
            Level::District => "huyen",
            Level::Province => "tinh",
            Level::Central => "trung_uong",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Grassroots => "Cấp cơ sở",
            Level::District => "Cấp huyện",
            Level::Province => "Cấp tỉnh/thành phố",
            Level::Central => "Trung ương",
        }
    }

    pub fn from_code(code: &str) -> Option<Level> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Lowest (cơ sở) to highest (Trung ương), to compare levels.
    pub fn rank(self) -> u8 {
        match self {
            Level::Grassroots => 0,
            Level::District => 1,
            Level::Province => 2,
            Level::Central => 3,
        }
    }
}

/// Where a model is in its lifecycle (`lifecycle` says how it moves). Stored in the document
/// only as a cache: the state is what the model's recorded transitions replay to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum Status {
    #[default]
    #[autosurgeon(rename = "dang_ky")]
    Registered,
    #[autosurgeon(rename = "dang_thuc_hien")]
    InProgress,
    #[autosurgeon(rename = "de_nghi_cong_nhan")]
    Proposed,
    #[autosurgeon(rename = "tra_lai")]
    Returned,
    #[autosurgeon(rename = "cong_nhan")]
    Recognised,
    #[autosurgeon(rename = "khong_cong_nhan")]
    NotRecognised,
    #[autosurgeon(rename = "dien_hinh")]
    Exemplary,
    #[autosurgeon(rename = "khen_thuong")]
    Commended,
    #[autosurgeon(rename = "dung")]
    Stopped,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Registered,
        Status::InProgress,
        Status::Proposed,
        Status::Returned,
        Status::Recognised,
        Status::NotRecognised,
        Status::Exemplary,
        Status::Commended,
        Status::Stopped,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Registered => "dang_ky",
            Status::InProgress => "dang_thuc_hien",
            Status::Proposed => "de_nghi_cong_nhan",
            Status::Returned => "tra_lai",
            Status::Recognised => "cong_nhan",
            Status::NotRecognised => "khong_cong_nhan",
            Status::Exemplary => "dien_hinh",
            Status::Commended => "khen_thuong",
            Status::Stopped => "dung",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Registered => "Đăng ký",
            Status::InProgress => "Đang thực hiện",
            Status::Proposed => "Đề nghị công nhận",
            Status::Returned => "Trả lại để sửa",
            Status::Recognised => "Được công nhận",
            Status::NotRecognised => "Không công nhận",
            Status::Exemplary => "Điển hình",
            Status::Commended => "Khen thưởng",
            Status::Stopped => "Dừng",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Still being carried out or decided on (may be stopped).
    pub fn is_active(self) -> bool {
        matches!(self, Status::Registered | Status::InProgress | Status::Proposed | Status::Returned)
    }
}

/// The registration items of a model document by key, as people call them (history, conflicts).
/// Bookkeeping keys (id, schema, status cache, created/updated) have none.
pub const ITEM_LABELS: [(&str, &str); 26] = [
    ("name", "Tên mô hình"),
    ("owner_kind", "Loại chủ thể"),
    ("owner_name", "Tên chủ thể thực hiện"),
    ("field", "Lĩnh vực"),
    ("unit", "Đơn vị đăng ký"),
    ("level", "Cấp đăng ký"),
    ("year", "Năm đăng ký"),
    ("situation", "Thực trạng, lý do"),
    ("goals", "Mục tiêu, tiêu chí"),
    ("content", "Nội dung, cách thức thực hiện"),
    ("area", "Địa bàn, đối tượng vận động"),
    ("forces", "Lực lượng chủ trì, phối hợp"),
    ("resources", "Nguồn lực"),
    ("start_date", "Ngày bắt đầu"),
    ("end_date", "Ngày kết thúc dự kiến"),
    ("evaluation_date", "Ngày đánh giá"),
    ("indicators", "Sản phẩm kiểm chứng được"),
    ("sustainability", "Khả năng duy trì, nhân rộng"),
    ("transitions", "Quá trình"),
    ("commendations", "Khen thưởng"),
    ("unit_name", "Tên đơn vị"),
    ("replicated_from", "Nhân rộng từ"),
    ("replications", "Điểm nhân rộng"),
    ("evaluations", "Bình xét theo tiêu chí"),
    ("journal", "Nhật ký thực hiện"),
    ("imported", "Nhập từ tệp"),
];

pub fn item_label(key: &str) -> Option<&'static str> {
    ITEM_LABELS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l)
}

/// The four fields (lĩnh vực) every province uses; units add their own sub-themes as plain labels.
pub const STANDARD_FIELDS: [(&str, &str); 4] = [
    ("kinh_te", "Kinh tế"),
    ("van_hoa_xa_hoi", "Văn hóa – xã hội"),
    ("quoc_phong_an_ninh", "Quốc phòng – an ninh"),
    ("xay_dung_he_thong_chinh_tri", "Xây dựng hệ thống chính trị"),
];

/// A model's field is stored as the standard code, or as the label itself for a custom field.
pub fn field_label(code: &str) -> &str {
    STANDARD_FIELDS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or(code)
}

/// The list of fields offered in forms and filters: the standard four, then the configured extras.
pub fn field_choices(custom: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        STANDARD_FIELDS.iter().map(|(c, l)| (c.to_string(), l.to_string())).collect();
    for label in custom {
        let label = label.trim();
        if !label.is_empty() && !out.iter().any(|(c, l)| c == label || l == label) {
            out.push((label.to_string(), label.to_string()));
        }
    }
    out
}

/// A verifiable output (sản phẩm kiểm chứng được): what is measured, its unit, target and result.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable identity so that concurrent edits of different indicators merge per row.
    #[key]
    pub id: String,
    pub name: String,
    pub unit: String,
    pub target: f64,
    pub achieved: f64,
}

/// The file and row an imported model came from, and who imported it (`crate::import`).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ImportOrigin {
    /// The file's name as chosen (no path).
    pub file: String,
    /// Its line (CSV) or row (spreadsheet), counting the header.
    pub line: u64,
    /// The row's stable key (unit, folded name, year), from which the document's id is made, so
    /// importing the same list again finds the model instead of making a second one.
    pub key: String,
    pub by: String,
    pub by_name: String,
    /// Milliseconds since the epoch.
    pub at: i64,
}

/// A registered model (mô hình) with the ten items of the registration form and its bookkeeping.
///
/// Narrative items are [`Text`] (collaborative, concurrent edits to different sentences merge);
/// short items that are replaced as a whole are plain strings (concurrent edits keep one winner).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Model {
    pub schema: u64,
    pub id: String,
    /// 1. tên mô hình
    pub name: String,
    /// 2. thực trạng, lý do
    #[serde(with = "text_as_string")]
    pub situation: Text,
    /// 3. mục tiêu, tiêu chí
    #[serde(with = "text_as_string")]
    pub goals: Text,
    /// 4. nội dung, cách thức
    #[serde(with = "text_as_string")]
    pub content: Text,
    /// 5. địa bàn, đối tượng
    #[serde(with = "text_as_string")]
    pub area: Text,
    /// 6. lực lượng chủ trì, phối hợp
    #[serde(with = "text_as_string")]
    pub forces: Text,
    /// 7. nguồn lực
    #[serde(with = "text_as_string")]
    pub resources: Text,
    /// 8. thời gian: start, planned end and evaluation dates (ISO `YYYY-MM-DD`; end/evaluation may be "")
    pub start_date: String,
    pub end_date: String,
    pub evaluation_date: String,
    /// 9. sản phẩm kiểm chứng được
    pub indicators: Vec<Indicator>,
    /// 10. khả năng duy trì, nhân rộng
    #[serde(with = "text_as_string")]
    pub sustainability: Text,
    pub owner_kind: OwnerKind,
    pub owner_name: String,
    pub field: String,
    pub unit: String,
    pub level: Level,
    pub year: u32,
    /// A cache of `lifecycle::replay(&transitions)`, refreshed whenever the model is read.
    pub status: Status,
    /// Every lifecycle step, append-only (documents written before the lifecycle have none).
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub transitions: Vec<super::lifecycle::Transition>,
    /// Commendations recorded by reviewers, append-only.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub commendations: Vec<super::commendation::Commendation>,
    /// The owning unit's name when the model was registered, so that readers far from it (the
    /// library) need not know the whole unit tree.
    #[autosurgeon(missing = "String::new")]
    #[serde(default)]
    pub unit_name: String,
    /// Where this model was replicated from, if it was.
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub replicated_from: Option<super::replication::ReplicatedFrom>,
    /// The places applying this model, appended by whoever replicated it.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub replications: Vec<super::replication::Replication>,
    /// Reviewers' evaluations against the criteria (drafts and submitted ones).
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub evaluations: Vec<super::evaluation::Evaluation>,
    /// The activity log (nhật ký): dated entries with indicator updates, photos and location.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub journal: Vec<super::journal::JournalEntry>,
    /// Where a model brought in from an older list came from (`import`); set when its document
    /// is created, never changed afterwards (the server refuses any later change to it).
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub imported: Option<ImportOrigin>,
    pub created_by: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

impl Model {
    /// A fresh record with bookkeeping filled in; the content comes from a validated draft.
    pub fn new(id: String, by: &str, now_ms: i64) -> Model {
        Model {
            schema: SCHEMA_VERSION,
            id,
            name: String::new(),
            situation: Text::with_value(""),
            goals: Text::with_value(""),
            content: Text::with_value(""),
            area: Text::with_value(""),
            forces: Text::with_value(""),
            resources: Text::with_value(""),
            start_date: String::new(),
            end_date: String::new(),
            evaluation_date: String::new(),
            indicators: Vec::new(),
            sustainability: Text::with_value(""),
            owner_kind: OwnerKind::Collective,
            owner_name: String::new(),
            field: STANDARD_FIELDS[0].0.to_string(),
            unit: String::new(),
            level: Level::Grassroots,
            year: 0,
            status: Status::Registered,
            transitions: Vec::new(),
            commendations: Vec::new(),
            unit_name: String::new(),
            replicated_from: None,
            replications: Vec::new(),
            evaluations: Vec::new(),
            journal: Vec::new(),
            imported: None,
            created_by: by.to_string(),
            created_at: now_ms,
            updated_by: by.to_string(),
            updated_at: now_ms,
        }
    }
}

/// The first byte of every entry of the device's models cache: which encoding of [`Model`] the
/// rest is. The cache is postcard (issue 15: the app reads 1,500 models at every start, and
/// JSON's per-type readers were the largest part of the app's wasm after the framework), and
/// postcard is not self-describing — a model cached by a version whose `Model` had another shape
/// would read as garbage, not as an error. So: **bump this whenever `Model` or any type inside it
/// changes shape** (a field added, removed, reordered or retyped, an enum's variants reordered).
/// The test `the_cache_format_is_pinned_to_the_models_shape` fails until you do. An entry of any
/// other format (older, or JSON from before this one, which begins with `{`) reads as no cached
/// model, and the engine decodes that document again.
pub const CACHE_FORMAT: u8 = 0xC1;

impl Model {
    /// This model as the models cache keeps it (`CACHE_FORMAT`, then postcard).
    pub fn to_cache(&self) -> Vec<u8> {
        postcard::to_extend(self, vec![CACHE_FORMAT]).unwrap_or_default()
    }

    /// A cached entry read back; `None` when it is of another format or damaged.
    pub fn from_cache(bytes: &[u8]) -> Option<Model> {
        match bytes.split_first() {
            Some((&CACHE_FORMAT, rest)) => postcard::from_bytes(rest).ok(),
            _ => None,
        }
    }
}

/// A narrative as its plain string, for the device's cache of decoded models (serde is never used
/// for documents themselves; they are automerge).
mod text_as_string {
    use autosurgeon::Text;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(text: &Text, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(text.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        Ok(Text::with_value(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    /// Every field of every type inside `Model` set (no empty list, no `None`, no empty string),
    /// so any change of shape changes the bytes.
    const FIXTURE: &str = r#"{
      "schema": 1, "id": "m-1", "name": "Hũ gạo tình thương",
      "situation": "Thực trạng", "goals": "Mục tiêu", "content": "Nội dung", "area": "Địa bàn",
      "forces": "Lực lượng", "resources": "Nguồn lực",
      "start_date": "2025-01-02", "end_date": "2025-12-30", "evaluation_date": "2026-01-15",
      "indicators": [{"id": "i1", "name": "Hộ được giúp", "unit": "hộ", "target": 40.0, "achieved": 12.5}],
      "sustainability": "Duy trì", "owner_kind": "Household", "owner_name": "Chi hội phụ nữ",
      "field": "kinh_te", "unit": "u-1", "level": "Province", "year": 2025, "status": "Recognised",
      "transitions": [{"id": "t1", "action": "mark_exemplary", "by": "rv", "by_name": "Người bình xét", "at": 7, "reason": "Tốt", "level": "tinh"}],
      "commendations": [{"id": "c1", "form": "bang_khen", "issuer": "UBND tỉnh", "level": "tinh", "decision_number": "125-QĐ/TU",
        "decision_date": "2025-06-01", "recipients": "Bà A", "by": "rv", "by_name": "Người bình xét", "at": 8}],
      "unit_name": "Xã Bản Bo",
      "replicated_from": {"id": "m-0", "name": "Gốc", "unit": "u-0", "unit_name": "Xã Gốc"},
      "replications": [{"id": "m-2", "unit": "u-2", "unit_name": "Xã Hai", "by": "cb", "by_name": "Cán bộ", "at": 9}],
      "evaluations": [{"id": "e1", "by": "rv", "by_name": "Người bình xét", "started_at": 10,
        "scores": [{"criterion": "k1", "label": "Hiệu quả", "max": 30, "score": 25, "comment": "Khá"}],
        "changes": [{"criterion": "k1", "label": "Hiệu quả", "from": 20, "to": 25, "comment": "Sửa", "at": 11}],
        "submitted_at": 12, "result": "recognise", "reason": "Đạt"}],
      "journal": [{"id": "j1", "date": "2025-03-04", "text": "Trao gạo",
        "updates": [{"indicator": "i1", "name": "Hộ được giúp", "unit": "hộ", "achieved": 12.5}],
        "photos": [{"id": "ab12", "content_type": "image/jpeg", "bytes": 1000, "width": 640, "height": 480}],
        "location": {"lat": 22.4, "lon": 103.5, "accuracy": 12.0}, "place": "Bản Bo", "by": "cb", "by_name": "Cán bộ", "at": 13}],
      "imported": {"file": "ds.xlsx", "line": 4, "key": "u-1|hu gao|2025", "by": "qt", "by_name": "Quản trị", "at": 14},
      "created_by": "cb", "created_at": 1, "updated_by": "cb2", "updated_at": 2
    }"#;

    /// The shape of each cached format, as the FNV-1a digest of the fixture's encoding and of
    /// every variant of the vocabularies inside a model. A change of shape needs a new line with
    /// a new `CACHE_FORMAT`, never an edited one (caches of the old format exist on phones).
    const PINNED: &[(u8, u64)] = &[(0xC1, 0x152c_cafc_bd09_7725)];

    fn digest(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
    }

    fn fixture() -> Model {
        serde_json::from_str(FIXTURE).expect("the fixture reads as a model")
    }

    #[test]
    fn the_fixture_sets_every_field() {
        let json = serde_json::to_string(&fixture()).unwrap();
        for empty in ["[]", "null", "\"\"", "{}"] {
            assert!(!json.contains(empty), "the fixture leaves something empty ({empty}); a new field of `Model` must be set in it: {json}");
        }
    }

    #[test]
    fn the_cache_format_is_pinned_to_the_models_shape() {
        let mut shape = fixture().to_cache();
        for v in OwnerKind::ALL {
            shape.extend(postcard::to_allocvec(&v).unwrap());
        }
        for v in Level::ALL {
            shape.extend(postcard::to_allocvec(&v).unwrap());
        }
        for v in Status::ALL {
            shape.extend(postcard::to_allocvec(&v).unwrap());
        }
        let now = digest(&shape);
        match PINNED.iter().find(|(f, _)| *f == CACHE_FORMAT) {
            None => panic!("CACHE_FORMAT {CACHE_FORMAT:#04X} is not in PINNED: add ({CACHE_FORMAT:#04X}, {now:#x})"),
            Some(&(_, pinned)) => assert_eq!(
                pinned,
                now,
                "`Model`'s cached encoding changed shape: bump CACHE_FORMAT (domain::model) to {:#04X} and add ({:#04X}, {now:#x}) to PINNED",
                CACHE_FORMAT + 1,
                CACHE_FORMAT + 1
            ),
        }
        assert!(PINNED.iter().filter(|(f, _)| *f == CACHE_FORMAT).count() == 1);
    }

    #[test]
    fn a_cached_model_reads_back_and_other_formats_read_as_none() {
        let m = fixture();
        assert_eq!(Model::from_cache(&m.to_cache()), Some(m.clone()));
        let json = serde_json::to_vec(&m).unwrap();
        assert_eq!(Model::from_cache(&json), None, "JSON cached by an older version");
        assert_eq!(Model::from_cache(&[]), None);
        let mut older = m.to_cache();
        older[0] = CACHE_FORMAT.wrapping_sub(1);
        assert_eq!(Model::from_cache(&older), None, "another format");
        let cut = m.to_cache();
        assert_eq!(Model::from_cache(&cut[..cut.len() / 2]), None, "a damaged entry");
    }
}
