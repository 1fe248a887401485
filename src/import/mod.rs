//! Model lists kept in spreadsheets since 2009, brought in as ordinary models. No IO: callers
//! pass the file's bytes and the clock.
//!
//! The path of a file: [`read::read_file`] turns its bytes into a [`Sheet`] of text cells (CSV in
//! UTF-8 or Windows-1258, XLSX/XLS/ODS through calamine); [`Mapping::guess`] matches its headers to
//! [`Column`]s (Vietnamese or English, any order, diacritics, case and punctuation ignored) and
//! names those it does not know, for the person importing to map or ignore; [`plan`] turns every
//! row into a [`Model`] whose recorded state (recognised in 2015 at district level, commended by
//! decision 123/QĐ-…) is a dated lifecycle log and commendations in the importing user's name —
//! or into the row's errors, each with its line and a Vietnamese reason.
//!
//! Invariants:
//! - a row's document id is made from its stable key (unit, folded name, year), so importing the
//!   same list twice finds the same ids and creates nothing new ([`document_id`]);
//! - every planned model passes [`check_import`], the rule the server applies to a document
//!   created by import, with the same user's grants: a row the server would refuse is a row
//!   error here, before anything is written;
//! - `plan` never returns a model for a row with an error; whether the good rows are imported
//!   while others are wrong is the caller's choice, never the default.

pub mod read;
mod rule;
pub mod template;

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::domain::{
    Access, Action, Commendation, CommendationForm, Date, ImportOrigin, Indicator, Level, Model, OwnerKind, RowError, STANDARD_FIELDS,
    Status, Transition, UnitTree, fold, limits, parse_level,
};

pub use rule::check_import;

/// A table as read from a file: the header row and the rows under it, every cell as text.
/// Serialisable: on a device it is read by the on-demand module and handed to the app.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sheet {
    /// The line (CSV) or row (spreadsheet, from 1) of the header.
    pub header_line: usize,
    pub headers: Vec<String>,
    pub rows: Vec<SheetRow>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SheetRow {
    /// Where the row starts in the file, as a spreadsheet program numbers it.
    pub line: usize,
    pub cells: Vec<String>,
}

/// What a column of the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Unit,
    Field,
    OwnerKind,
    OwnerName,
    Year,
    Level,
    Status,
    RecognisedLevel,
    DecisionNumber,
    DecisionDate,
    CommendationForm,
    Issuer,
    Situation,
    Goals,
    Content,
    Area,
    Forces,
    Resources,
    StartDate,
    EndDate,
    EvaluationDate,
    Indicators,
    Sustainability,
}

impl Column {
    /// In the template's order.
    pub const ALL: [Column; 24] = [
        Column::Name,
        Column::Unit,
        Column::Field,
        Column::OwnerKind,
        Column::OwnerName,
        Column::Year,
        Column::Level,
        Column::Status,
        Column::RecognisedLevel,
        Column::DecisionNumber,
        Column::DecisionDate,
        Column::CommendationForm,
        Column::Issuer,
        Column::Situation,
        Column::Goals,
        Column::Content,
        Column::Area,
        Column::Forces,
        Column::Resources,
        Column::StartDate,
        Column::EndDate,
        Column::EvaluationDate,
        Column::Indicators,
        Column::Sustainability,
    ];

    /// A file without these cannot make a model.
    pub const REQUIRED: [Column; 3] = [Column::Name, Column::Unit, Column::Year];

    /// Stable code (the mapping step's choice, the command line's `--column HEADER=code`).
    pub fn code(self) -> &'static str {
        match self {
            Column::Name => "ten_mo_hinh",
            Column::Unit => "don_vi",
            Column::Field => "linh_vuc",
            Column::OwnerKind => "loai_chu_the",
            Column::OwnerName => "ten_chu_the",
            Column::Year => "nam",
            Column::Level => "cap",
            Column::Status => "tinh_trang",
            Column::RecognisedLevel => "cap_cong_nhan",
            Column::DecisionNumber => "so_quyet_dinh",
            Column::DecisionDate => "ngay_quyet_dinh",
            Column::CommendationForm => "hinh_thuc_khen_thuong",
            Column::Issuer => "co_quan_khen_thuong",
            Column::Situation => "thuc_trang",
            Column::Goals => "muc_tieu",
            Column::Content => "noi_dung",
            Column::Area => "dia_ban",
            Column::Forces => "luc_luong",
            Column::Resources => "nguon_luc",
            Column::StartDate => "ngay_bat_dau",
            Column::EndDate => "ngay_ket_thuc",
            Column::EvaluationDate => "ngay_danh_gia",
            Column::Indicators => "san_pham_kiem_chung",
            Column::Sustainability => "kha_nang_nhan_rong",
        }
    }

    pub fn from_code(code: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The header the template writes (and the mapping step shows).
    pub fn label(self) -> &'static str {
        match self {
            Column::Name => "Tên mô hình",
            Column::Unit => "Đơn vị",
            Column::Field => "Lĩnh vực",
            Column::OwnerKind => "Loại chủ thể",
            Column::OwnerName => "Tên chủ thể",
            Column::Year => "Năm",
            Column::Level => "Cấp",
            Column::Status => "Tình trạng",
            Column::RecognisedLevel => "Cấp công nhận",
            Column::DecisionNumber => "Số quyết định",
            Column::DecisionDate => "Ngày quyết định",
            Column::CommendationForm => "Hình thức khen thưởng",
            Column::Issuer => "Cơ quan khen thưởng",
            Column::Situation => "Thực trạng, lý do",
            Column::Goals => "Mục tiêu, tiêu chí",
            Column::Content => "Nội dung, cách thức thực hiện",
            Column::Area => "Địa bàn, đối tượng vận động",
            Column::Forces => "Lực lượng chủ trì, phối hợp",
            Column::Resources => "Nguồn lực",
            Column::StartDate => "Ngày bắt đầu",
            Column::EndDate => "Ngày kết thúc dự kiến",
            Column::EvaluationDate => "Ngày đánh giá",
            Column::Indicators => "Sản phẩm kiểm chứng được",
            Column::Sustainability => "Khả năng duy trì, nhân rộng",
        }
    }

    /// Headers people write for this column, folded ([`header_key`]), Vietnamese and English.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["ten mo hinh", "mo hinh", "ten mo hinh dan van kheo", "model", "model name", "name"],
            Column::Unit => &["don vi", "ma don vi", "ten don vi", "don vi dang ky", "don vi thuc hien", "unit", "unit code", "unit name"],
            Column::Field => &["linh vuc", "field"],
            Column::OwnerKind => &["loai chu the", "chu the la", "owner kind", "owner type"],
            Column::OwnerName => &["ten chu the", "chu the", "chu the thuc hien", "ten chu the thuc hien", "owner", "owner name"],
            Column::Year => &["nam", "nam dang ky", "year", "registration year"],
            Column::Level => &["cap", "cap dang ky", "level"],
            Column::Status => &["tinh trang", "trang thai", "ket qua", "status", "state"],
            Column::RecognisedLevel => &["cap cong nhan", "cong nhan cap", "recognised level", "recognized level", "recognition level"],
            Column::DecisionNumber => &["so quyet dinh", "so qd", "quyet dinh so", "decision number", "decision no"],
            Column::DecisionDate => &["ngay quyet dinh", "ngay qd", "ngay ky quyet dinh", "decision date"],
            Column::CommendationForm => &["hinh thuc khen thuong", "khen thuong", "hinh thuc khen", "commendation", "award"],
            Column::Issuer => &["co quan khen thuong", "co quan ra quyet dinh", "cap khen thuong", "noi khen thuong", "issuer", "awarded by"],
            Column::Situation => &["thuc trang", "thuc trang ly do", "ly do", "situation"],
            Column::Goals => &["muc tieu", "muc tieu tieu chi", "goals"],
            Column::Content => &["noi dung", "noi dung cach thuc", "noi dung cach thuc thuc hien", "cach thuc thuc hien", "content"],
            Column::Area => &["dia ban", "dia ban doi tuong", "dia ban doi tuong van dong", "area"],
            Column::Forces => &["luc luong", "luc luong chu tri phoi hop", "luc luong chu tri", "forces"],
            Column::Resources => &["nguon luc", "kinh phi", "resources"],
            Column::StartDate => &["ngay bat dau", "thoi gian bat dau", "bat dau", "start date"],
            Column::EndDate => &["ngay ket thuc", "ngay ket thuc du kien", "thoi gian ket thuc", "end date"],
            Column::EvaluationDate => &["ngay danh gia", "thoi gian danh gia", "evaluation date"],
            Column::Indicators => &["san pham kiem chung", "san pham kiem chung duoc", "chi tieu", "ket qua dat duoc", "indicators"],
            Column::Sustainability => &["kha nang duy tri", "kha nang duy tri nhan rong", "kha nang nhan rong", "sustainability"],
        }
    }
}

/// A header as compared: folded, punctuation and runs of spaces made one space.
fn header_key(header: &str) -> String {
    let folded = fold(header);
    let spaced: String = folded.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Headers that are not data ("STT", the row number): recognised, never imported.
const IGNORED_HEADERS: [&str; 6] = ["stt", "tt", "so tt", "so thu tu", "no", "ghi chu"];

/// What one column of the file goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Column(Column),
    /// Left out on purpose (a row number, notes, or the person's choice).
    Ignore,
    /// Not recognised: to be mapped or ignored before anything is imported.
    Unknown,
}

impl Target {
    /// As a code: a column's (`ten_mo_hinh`, …), `bo_qua` for a column left out, `""` for one not
    /// chosen yet. The mapping step's choices, `--column HEADER=code` and the upload's `columns`
    /// all speak it.
    pub fn code(self) -> &'static str {
        match self {
            Target::Column(c) => c.code(),
            Target::Ignore => "bo_qua",
            Target::Unknown => "",
        }
    }

    pub fn from_code(code: &str) -> Option<Target> {
        match code {
            "" => Some(Target::Unknown),
            "bo_qua" => Some(Target::Ignore),
            code => Column::from_code(code).map(Target::Column),
        }
    }
}

/// Each header of the file (by position) and what it goes into.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping(pub Vec<Target>);

impl Mapping {
    /// Matches every header it knows; an empty header is ignored.
    pub fn guess(headers: &[String]) -> Mapping {
        Mapping(
            headers
                .iter()
                .map(|h| {
                    let key = header_key(h);
                    if key.is_empty() || IGNORED_HEADERS.contains(&key.as_str()) {
                        Target::Ignore
                    } else {
                        Column::ALL.into_iter().find(|c| c.aliases().contains(&key.as_str())).map_or(Target::Unknown, Target::Column)
                    }
                })
                .collect(),
        )
    }

    /// Sets what the header at `index` goes into (the mapping step).
    pub fn set(&mut self, index: usize, target: Target) {
        if let Some(t) = self.0.get_mut(index) {
            *t = target;
        }
    }

    /// Positions of headers not recognised and not yet mapped or ignored.
    pub fn unknown(&self) -> Vec<usize> {
        self.0.iter().enumerate().filter(|(_, t)| **t == Target::Unknown).map(|(i, _)| i).collect()
    }

    fn position(&self, column: Column) -> Option<usize> {
        self.0.iter().position(|t| *t == Target::Column(column))
    }

    /// Why the file cannot be imported with this mapping yet, one sentence each (empty: it can).
    pub fn problems(&self, headers: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for i in self.unknown() {
            out.push(format!(
                "Chưa biết cột “{}” (cột {}) là gì: hãy chọn nội dung của cột hoặc chọn bỏ qua.",
                headers.get(i).map_or("", String::as_str),
                spreadsheet_column(i)
            ));
        }
        for column in Column::ALL {
            let at: Vec<usize> = self.0.iter().enumerate().filter(|(_, t)| **t == Target::Column(column)).map(|(i, _)| i).collect();
            if at.len() > 1 {
                let names: Vec<String> = at.iter().map(|i| format!("“{}”", headers.get(*i).map_or("", String::as_str))).collect();
                out.push(format!("Nhiều cột cùng là “{}”: {}; hãy chỉ giữ một.", column.label(), names.join(", ")));
            }
        }
        for column in Column::REQUIRED {
            if self.position(column).is_none() {
                out.push(format!("Tệp thiếu cột “{}”.", column.label()));
            }
        }
        out
    }
}

/// A column's letters as spreadsheet programs show them (0 → A, 26 → AA).
pub fn spreadsheet_column(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push((b'A' + rem as u8) as char);
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// Who imports, into which tree, when.
pub struct Importer<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub access: &'a Access,
    pub tree: &'a UnitTree,
    /// Fields accepted besides the standard four (the device's configured extras).
    pub custom_fields: &'a [String],
    /// The file's name as shown in each model's history ("Nhập từ tệp …, dòng …").
    pub file_name: &'a str,
    pub now_ms: i64,
}

/// A row ready to be created.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedModel {
    pub line: usize,
    pub model: Model,
}

/// What a file would import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The good rows, in file order.
    pub models: Vec<PlannedModel>,
    /// Every problem of every bad row, by line, in file order.
    pub errors: Vec<RowError>,
    /// Unit names or codes found in the file that match no unit the importer may import into.
    pub unknown_units: Vec<String>,
    /// Rows that held data (blank rows are not counted).
    pub rows: usize,
}

impl Plan {
    /// Lines with at least one error.
    pub fn bad_rows(&self) -> usize {
        bad_rows(&self.errors)
    }
}

/// Lines with at least one error, of errors in file order (a row's errors are together).
pub fn bad_rows(errors: &[RowError]) -> usize {
    let mut lines: Vec<usize> = errors.iter().map(|e| e.row).collect();
    lines.dedup();
    lines.len()
}

/// The change message of an imported model's first change, shown in its history.
pub fn history_message(origin: &ImportOrigin) -> String {
    format!("Nhập từ tệp {}, dòng {}", origin.file, origin.line)
}

/// A row's stable key: the unit's code, the name folded (case, diacritics, spacing), the year.
pub fn row_key(unit: &str, name: &str, year: u32) -> String {
    format!("{unit}|{}|{year}", header_key(name))
}

/// The document id of a row's key: the same everywhere, for every import of the same row.
pub fn document_id(key: &str) -> String {
    let digest = Sha256::digest(format!("danvan-import-v1\u{0}{key}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// Plans the import of every row of `sheet`: each becomes a model or its errors.
pub fn plan(sheet: &Sheet, mapping: &Mapping, who: &Importer) -> Plan {
    let units = UnitIndex::new(who.tree);
    let mut plan = Plan::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut unknown: Vec<String> = Vec::new();
    for row in &sheet.rows {
        let cell = |c: Column| mapping.position(c).and_then(|i| row.cells.get(i)).map_or("", |s| s.trim());
        if mapping.0.iter().enumerate().all(|(i, t)| !matches!(t, Target::Column(_)) || row.cells.get(i).is_none_or(|s| s.trim().is_empty())) {
            continue;
        }
        plan.rows += 1;
        match row_model(&cell, row.line, &units, who) {
            Ok(model) => {
                let key = model.imported.as_ref().map(|o| o.key.clone()).unwrap_or_default();
                if let Some(first) = seen.get(&key) {
                    plan.errors.push(RowError {
                        row: row.line,
                        message: format!("Trùng với dòng {first}: cùng đơn vị, cùng tên mô hình và cùng năm."),
                    });
                    continue;
                }
                seen.insert(key, row.line);
                plan.models.push(PlannedModel { line: row.line, model });
            }
            Err(RowProblems { messages, unknown_unit }) => {
                if let Some(u) = unknown_unit
                    && !unknown.contains(&u)
                {
                    unknown.push(u);
                }
                plan.errors.extend(messages.into_iter().map(|message| RowError { row: row.line, message }));
            }
        }
    }
    plan.unknown_units = unknown;
    plan
}

struct RowProblems {
    messages: Vec<String>,
    unknown_unit: Option<String>,
}

/// Units found by code (case ignored) or by name (folded), among those the importer may import into.
struct UnitIndex<'a> {
    by_code: HashMap<String, &'a crate::domain::Unit>,
    by_name: HashMap<String, Vec<&'a crate::domain::Unit>>,
}

impl<'a> UnitIndex<'a> {
    fn new(tree: &'a UnitTree) -> UnitIndex<'a> {
        let mut index = UnitIndex { by_code: HashMap::new(), by_name: HashMap::new() };
        for unit in tree.units() {
            index.by_code.insert(unit.code.to_lowercase(), unit);
            index.by_name.entry(header_key(&unit.name)).or_default().push(unit);
        }
        index
    }

    fn find(&self, text: &str) -> Result<&'a crate::domain::Unit, String> {
        if let Some(u) = self.by_code.get(&text.to_lowercase()) {
            return Ok(u);
        }
        match self.by_name.get(&header_key(text)).map(Vec::as_slice) {
            Some([one]) => Ok(one),
            Some(many) if !many.is_empty() => {
                let codes: Vec<&str> = many.iter().map(|u| u.code.as_str()).collect();
                Err(format!("Tên đơn vị “{text}” trùng với nhiều đơn vị ({}); hãy ghi mã đơn vị.", codes.join(", ")))
            }
            _ => Err(format!("Không có đơn vị “{text}” trong cây đơn vị (so theo mã hoặc tên, không phân biệt dấu và hoa thường).")),
        }
    }
}

/// "Ngày bắt đầu 01/07/2030 là ngày sau hôm nay.", one literal per date column: with the label as
/// a placeholder, a translation could not tell where the label ends and the day begins.
fn after_today(column: Column, day: &str) -> String {
    match column {
        Column::StartDate => format!("Ngày bắt đầu {day} là ngày sau hôm nay."),
        Column::EndDate => format!("Ngày kết thúc dự kiến {day} là ngày sau hôm nay."),
        Column::EvaluationDate => format!("Ngày đánh giá {day} là ngày sau hôm nay."),
        _ => format!("Ngày quyết định {day} là ngày sau hôm nay."),
    }
}

fn too_long(label: &str, text: &str, max: usize) -> Option<String> {
    let n = text.chars().count();
    (n > max).then(|| format!("{label} dài quá {} ký tự (hiện có {}).", crate::domain::format_count_vi(max), crate::domain::format_count_vi(n)))
}

/// A day as spreadsheets hold it: ISO (`2015-06-30`, what the readers make of date cells) or as
/// Vietnamese write it (`30/6/2015`, `30-06-2015`, `30.06.2015`).
pub fn parse_day(text: &str) -> Option<Date> {
    let t = text.trim();
    if let Some(d) = Date::parse(t.get(..10).unwrap_or(t)).filter(|_| t.len() == 10 || t.as_bytes().get(10) == Some(&b'T') || t.as_bytes().get(10) == Some(&b' ')) {
        return Some(d);
    }
    let parts: Vec<&str> = t.split(['/', '-', '.']).map(str::trim).collect();
    let [d, m, y] = parts.as_slice() else { return None };
    if y.len() != 4 || d.is_empty() || m.is_empty() || d.len() > 2 || m.len() > 2 {
        return None;
    }
    Date::parse(&format!("{y}-{m:0>2}-{d:0>2}"))
}

fn parse_year(text: &str) -> Option<u32> {
    let t = text.trim();
    // Spreadsheets give whole numbers as "2015" or, from a number cell, "2015.0".
    let t = t.strip_suffix(".0").unwrap_or(t);
    t.parse().ok()
}

fn parse_owner_kind(text: &str) -> Option<OwnerKind> {
    let key = header_key(text);
    OwnerKind::ALL.into_iter().find(|k| key == header_key(k.label()) || key == header_key(k.code())).or(match key.as_str() {
        "to chuc" | "tap the" | "don vi" | "collective" | "group" => Some(OwnerKind::Collective),
        "ca nhan" | "individual" | "person" => Some(OwnerKind::Individual),
        "ho" | "ho gia dinh" | "gia dinh" | "household" | "family" => Some(OwnerKind::Household),
        _ => None,
    })
}

fn parse_import_level(text: &str) -> Option<Level> {
    parse_level(text).or_else(|| match header_key(text).trim_start_matches("cap ") {
        "xa" | "phuong" | "xa phuong" | "thi tran" | "grassroots" | "commune" => Some(Level::Grassroots),
        "district" => Some(Level::District),
        "province" | "city" | "tinh thanh" => Some(Level::Province),
        "central" | "national" => Some(Level::Central),
        _ => None,
    })
}

fn parse_status(text: &str) -> Option<Status> {
    let key = header_key(text);
    if let Some(s) = Status::ALL.into_iter().find(|s| key == header_key(s.label()) || key == header_key(s.code())) {
        return Some(s);
    }
    Some(match key.as_str() {
        "dang ky" | "da dang ky" | "moi dang ky" | "registered" => Status::Registered,
        "dang thuc hien" | "thuc hien" | "dang trien khai" | "in progress" => Status::InProgress,
        "de nghi cong nhan" | "da de nghi" | "cho cong nhan" | "proposed" => Status::Proposed,
        "tra lai" | "bi tra lai" | "returned" => Status::Returned,
        "cong nhan" | "duoc cong nhan" | "da cong nhan" | "dat" | "recognised" | "recognized" => Status::Recognised,
        "khong cong nhan" | "khong dat" | "not recognised" | "not recognized" => Status::NotRecognised,
        "dien hinh" | "dien hinh tien tien" | "mo hinh dien hinh" | "exemplary" => Status::Exemplary,
        "khen thuong" | "da khen thuong" | "duoc khen thuong" | "commended" => Status::Commended,
        "dung" | "da dung" | "dung thuc hien" | "ngung" | "stopped" => Status::Stopped,
        _ => return None,
    })
}

fn parse_commendation_form(text: &str) -> CommendationForm {
    let key = header_key(text);
    CommendationForm::ALL
        .into_iter()
        .find(|f| key == header_key(f.label()) || key == header_key(f.code()) || key.starts_with(&header_key(f.label())))
        .or_else(|| {
            if key.starts_with("ky niem chuong") {
                Some(CommendationForm::Medal)
            } else if key.starts_with("bang khen") {
                Some(CommendationForm::HigherCertificate)
            } else if key.starts_with("giay khen") {
                Some(CommendationForm::Certificate)
            } else {
                None
            }
        })
        .unwrap_or(CommendationForm::Other)
}

/// A field as typed: one of the standard four (by label or code, punctuation ignored: "Văn hóa
/// - xã hội"), or a configured extra.
fn parse_field(text: &str, custom: &[String]) -> Option<String> {
    let key = header_key(text);
    STANDARD_FIELDS
        .iter()
        .find(|(code, label)| key == header_key(label) || key == header_key(code))
        .map(|(code, _)| code.to_string())
        .or_else(|| custom.iter().find(|c| header_key(c) == key).cloned())
}

/// "Tên chỉ tiêu: 120 hộ" lines (or separated by ";"): name, target, unit of measure.
fn parse_indicators(text: &str, id: &str) -> Result<Vec<Indicator>, String> {
    let mut out = Vec::new();
    for (n, line) in text.split(['\n', ';']).map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let Some((name, rest)) = line.rsplit_once(':') else {
            return Err(format!(
                "Sản phẩm kiểm chứng thứ {} (“{}”) phải ghi dạng “tên: số đơn vị tính”, ví dụ “Hộ thoát nghèo: 25 hộ”.",
                n + 1,
                line.chars().take(60).collect::<String>()
            ));
        };
        let rest = rest.trim();
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.')).unwrap_or(rest.len());
        let (number, unit) = rest.split_at(split);
        // Vietnamese writes 1.200,5: with a comma, dots group thousands; without one, dots
        // before groups of three digits do too (12.500.000), and any other dot is a decimal point.
        let grouped = number.split('.').skip(1).all(|g| g.len() == 3) && number.contains('.');
        let normalised = if number.contains(',') || grouped { number.replace('.', "") } else { number.to_string() };
        let target = crate::domain::parse_amount(&normalised, true)
            .map_err(|why| format!("Mục tiêu của sản phẩm kiểm chứng thứ {} {why}", n + 1))?
            .unwrap_or_default();
        let (name, unit) = (name.trim(), unit.trim());
        if name.is_empty() {
            return Err(format!("Sản phẩm kiểm chứng thứ {} chưa có tên.", n + 1));
        }
        if let Some(e) = too_long(&format!("Tên sản phẩm kiểm chứng thứ {}", n + 1), name, limits::SHORT_TEXT) {
            return Err(e);
        }
        if let Some(e) = too_long(&format!("Đơn vị tính của sản phẩm kiểm chứng thứ {}", n + 1), unit, limits::UNIT_TEXT) {
            return Err(e);
        }
        out.push(Indicator { id: format!("{id}-i{}", n + 1), name: name.to_string(), unit: unit.to_string(), target, achieved: 0.0 });
    }
    if out.len() > limits::INDICATORS {
        return Err(format!("Tối đa {} sản phẩm kiểm chứng cho một mô hình (dòng này có {}).", limits::INDICATORS, out.len()));
    }
    Ok(out)
}

fn row_model<'c>(cell: &dyn Fn(Column) -> &'c str, line: usize, units: &UnitIndex, who: &Importer) -> Result<Model, RowProblems> {
    let mut errors: Vec<String> = Vec::new();
    let mut unknown_unit = None;
    let today = Date::in_vietnam(who.now_ms);

    let name = cell(Column::Name);
    if name.is_empty() {
        errors.push("Thiếu tên mô hình.".into());
    } else if let Some(e) = too_long("Tên mô hình", name, limits::SHORT_TEXT) {
        errors.push(e);
    }
    let unit_text = cell(Column::Unit);
    let unit = if unit_text.is_empty() {
        errors.push("Thiếu đơn vị.".into());
        None
    } else {
        match units.find(unit_text) {
            Ok(u) => Some(u),
            Err(e) => {
                errors.push(e);
                unknown_unit = Some(unit_text.to_string());
                None
            }
        }
    };
    let year = match parse_year(cell(Column::Year)) {
        Some(y) if (limits::FIRST_YEAR..=u32::from(today.year)).contains(&y) => Some(y),
        _ if cell(Column::Year).is_empty() => {
            errors.push("Thiếu năm đăng ký.".into());
            None
        }
        _ => {
            errors.push(format!("Năm “{}” không hợp lệ: phải là năm từ {} đến {}.", cell(Column::Year), limits::FIRST_YEAR, today.year));
            None
        }
    };
    let field = match cell(Column::Field) {
        "" => {
            errors.push("Thiếu lĩnh vực.".into());
            String::new()
        }
        text => parse_field(text, who.custom_fields).unwrap_or_else(|| {
            let names: Vec<&str> = STANDARD_FIELDS.iter().map(|(_, l)| *l).chain(who.custom_fields.iter().map(String::as_str)).collect();
            errors.push(format!("Lĩnh vực “{text}” không có; hãy dùng một trong: {}.", names.join("; ")));
            String::new()
        }),
    };
    let owner_kind = match cell(Column::OwnerKind) {
        "" => OwnerKind::Collective,
        text => parse_owner_kind(text).unwrap_or_else(|| {
            errors.push(format!("Loại chủ thể “{text}” không có; hãy ghi Tập thể, Cá nhân hoặc Hộ gia đình."));
            OwnerKind::Collective
        }),
    };
    let owner_name = match cell(Column::OwnerName) {
        // A collective's model is usually the unit's own.
        "" if owner_kind == OwnerKind::Collective => unit.map(|u| u.name.clone()).unwrap_or_default(),
        "" => {
            errors.push(format!("Thiếu tên chủ thể ({}).", owner_kind.label().to_lowercase()));
            String::new()
        }
        text => {
            if let Some(e) = too_long("Tên chủ thể", text, limits::SHORT_TEXT) {
                errors.push(e);
            }
            text.to_string()
        }
    };
    let level = match cell(Column::Level) {
        "" => unit.map_or(Level::Grassroots, |u| u.level),
        text => parse_import_level(text).unwrap_or_else(|| {
            errors.push(format!("Cấp “{text}” không có; hãy ghi cơ sở, huyện, tỉnh hoặc Trung ương."));
            Level::Grassroots
        }),
    };
    let recognised_level = match cell(Column::RecognisedLevel) {
        "" => None,
        text => parse_import_level(text).or_else(|| {
            errors.push(format!("Cấp công nhận “{text}” không có; hãy ghi cơ sở, huyện, tỉnh hoặc Trung ương."));
            None
        }),
    };
    let commendation_form = match cell(Column::CommendationForm) {
        "" => None,
        text => Some(parse_commendation_form(text)),
    };
    let status = match cell(Column::Status) {
        // A recorded recognition or commendation says how far the model got.
        "" if commendation_form.is_some() => Status::Commended,
        "" if recognised_level.is_some() => Status::Recognised,
        "" => Status::Registered,
        text => parse_status(text).unwrap_or_else(|| {
            errors.push(format!(
                "Tình trạng “{text}” không có; hãy ghi một trong: {}.",
                Status::ALL.iter().map(|s| s.label()).collect::<Vec<_>>().join("; ")
            ));
            Status::Registered
        }),
    };
    if commendation_form.is_some() && !matches!(status, Status::Recognised | Status::Exemplary | Status::Commended) {
        errors.push(format!("Có hình thức khen thưởng nhưng tình trạng là “{}”: chỉ mô hình đã được công nhận mới được khen thưởng.", status.label()));
    }
    if status == Status::Commended && commendation_form.is_none() {
        errors.push("Tình trạng “Khen thưởng” cần ghi hình thức khen thưởng.".into());
    }
    let mut day = |column: Column, label: &str| -> Option<Date> {
        match cell(column) {
            "" => None,
            text => match parse_day(text) {
                Some(d) if d > today => {
                    errors.push(after_today(column, &d.vi()));
                    None
                }
                Some(d) => Some(d),
                None => {
                    errors.push(format!("{label} “{text}” không phải ngày hợp lệ (ghi ngày/tháng/năm, ví dụ 30/06/2015)."));
                    None
                }
            },
        }
    };
    let start = day(Column::StartDate, "Ngày bắt đầu");
    let end = day(Column::EndDate, "Ngày kết thúc dự kiến");
    let evaluation = day(Column::EvaluationDate, "Ngày đánh giá");
    let decision_date = day(Column::DecisionDate, "Ngày quyết định");
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        errors.push("Ngày kết thúc dự kiến trước ngày bắt đầu.".into());
    }
    let decision_number = cell(Column::DecisionNumber);
    if let Some(e) = too_long("Số quyết định", decision_number, 60) {
        errors.push(e);
    }
    let issuer = cell(Column::Issuer);
    if let Some(e) = too_long("Cơ quan khen thưởng", issuer, 200) {
        errors.push(e);
    }
    let texts = [
        (Column::Situation, "Thực trạng, lý do"),
        (Column::Goals, "Mục tiêu, tiêu chí"),
        (Column::Content, "Nội dung, cách thức thực hiện"),
        (Column::Area, "Địa bàn, đối tượng vận động"),
        (Column::Forces, "Lực lượng chủ trì, phối hợp"),
        (Column::Resources, "Nguồn lực"),
        (Column::Sustainability, "Khả năng duy trì, nhân rộng"),
    ];
    for (column, label) in texts {
        if let Some(e) = too_long(label, cell(column), limits::LONG_TEXT) {
            errors.push(e);
        }
    }

    let (Some(unit), Some(year)) = (unit, year) else {
        return Err(RowProblems { messages: errors, unknown_unit });
    };
    if !(who.access.can_write(&unit.code) || who.access.can_review(&unit.code) || who.access.can_manage(&unit.code)) {
        errors.push(format!("Bạn không có quyền nhập mô hình cho đơn vị {} ({}).", unit.name, unit.code));
        unknown_unit = Some(unit_text.to_string());
    }
    let key = row_key(&unit.code, name, year);
    let id = document_id(&key);
    let indicators = match parse_indicators(cell(Column::Indicators), &id) {
        Ok(list) => list,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(RowProblems { messages: errors, unknown_unit });
    }

    let origin = ImportOrigin {
        file: who.file_name.to_string(),
        line: line as u64,
        key,
        by: who.username.to_string(),
        by_name: who.display_name.to_string(),
        at: who.now_ms,
    };
    let mut model = Model::new(id.clone(), who.username, who.now_ms);
    model.name = name.to_string();
    for (column, _) in texts {
        let text = autosurgeon::Text::with_value(cell(column));
        match column {
            Column::Situation => model.situation = text,
            Column::Goals => model.goals = text,
            Column::Content => model.content = text,
            Column::Area => model.area = text,
            Column::Forces => model.forces = text,
            Column::Resources => model.resources = text,
            _ => model.sustainability = text,
        }
    }
    let iso = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    model.start_date = iso(start);
    model.end_date = iso(end);
    model.evaluation_date = iso(evaluation);
    model.indicators = indicators;
    model.owner_kind = owner_kind;
    model.owner_name = owner_name;
    model.field = field;
    model.unit = unit.code.clone();
    model.unit_name = unit.name.clone();
    model.level = level;
    model.year = year;

    let recognised_at = recognised_level.unwrap_or(level);
    let steps = recorded_steps(&StateOfRow {
        status,
        year,
        start,
        end,
        evaluation,
        decision_date,
        decision_number,
        recognised_at,
        commended: commendation_form.is_some(),
        origin: &origin,
        id: &id,
        display_name: who.display_name,
        now_ms: who.now_ms,
    });
    if let Some(form) = commendation_form {
        let on = decision_date.or(evaluation).unwrap_or(Date::last_of_year(year as u16));
        model.commendations.push(Commendation {
            id: format!("{id}-c1"),
            form: form.code().to_string(),
            issuer: if issuer.is_empty() { crate::i18n::vi("Không ghi trong tệp nhập").to_string() } else { issuer.to_string() },
            level: recognised_at.code().to_string(),
            decision_number: decision_number.to_string(),
            decision_date: on.to_string(),
            recipients: if form == CommendationForm::Other { cell(Column::CommendationForm).to_string() } else { String::new() },
            by: who.username.to_string(),
            by_name: who.display_name.to_string(),
            at: who.now_ms,
        });
    }
    model.transitions = steps;
    model.status = crate::domain::replay(&model.transitions).0;
    model.imported = Some(origin);
    if let Err(why) = check_import(&model, who.username, who.access, who.now_ms) {
        return Err(RowProblems { messages: vec![why], unknown_unit: None });
    }
    Ok(model)
}

struct StateOfRow<'a> {
    status: Status,
    year: u32,
    start: Option<Date>,
    end: Option<Date>,
    evaluation: Option<Date>,
    decision_date: Option<Date>,
    decision_number: &'a str,
    recognised_at: Level,
    commended: bool,
    origin: &'a ImportOrigin,
    id: &'a str,
    display_name: &'a str,
    now_ms: i64,
}

/// The lifecycle steps that lead to the row's state, dated as the file says (or, where it says
/// nothing, within the registration year), each a millisecond after the one before so that
/// `replay` applies them in this order.
fn recorded_steps(row: &StateOfRow) -> Vec<Transition> {
    let year = row.year as u16;
    let began = row.start.unwrap_or(Date::first_of_year(year));
    let reviewed = row.evaluation.or(row.decision_date.filter(|_| !row.commended)).unwrap_or(Date::last_of_year(year)).max(began);
    let source = format!("{}.", history_message(row.origin));
    let decision = match (row.decision_number, row.decision_date) {
        ("", _) => String::new(),
        (n, Some(d)) => format!("Quyết định số {n} ngày {}. ", d.vi()),
        (n, None) => format!("Quyết định số {n}. "),
    };
    let mut plan: Vec<(Action, Date, String, String)> = Vec::new();
    let mut push = |action: Action, on: Date, reason: String, level: String| plan.push((action, on, reason, level));
    use Status::*;
    let reaches = |s: Status| -> bool {
        match s {
            InProgress => !matches!(row.status, Registered),
            Proposed => matches!(row.status, Proposed | Returned | Recognised | NotRecognised | Exemplary | Commended),
            Recognised => matches!(row.status, Recognised | Exemplary | Commended),
            _ => false,
        }
    };
    if reaches(InProgress) {
        push(Action::Start, began, source.clone(), String::new());
    }
    if reaches(Proposed) {
        push(Action::Propose, reviewed, source.clone(), String::new());
    }
    match row.status {
        Returned => push(Action::Return, reviewed, format!("Trả lại (theo tệp nhập). {source}"), String::new()),
        NotRecognised => push(Action::Reject, reviewed, format!("Không công nhận (theo tệp nhập). {decision}{source}"), String::new()),
        Stopped => push(Action::Stop, row.end.unwrap_or(Date::last_of_year(year)).max(began), format!("Đã dừng (theo tệp nhập). {source}"), String::new()),
        _ => {}
    }
    let recognition_reason = if row.commended { source.clone() } else { format!("{decision}{source}") };
    if reaches(Recognised) {
        push(Action::Recognise, reviewed, recognition_reason, row.recognised_at.code().to_string());
    }
    if row.status == Exemplary {
        push(Action::MarkExemplary, reviewed, source.clone(), row.recognised_at.code().to_string());
    }
    if row.commended {
        let on = row.decision_date.unwrap_or(reviewed).max(reviewed);
        push(Action::Commend, on, format!("{decision}{source}"), String::new());
    }
    let mut last = i64::MIN;
    let count = plan.len() as i64;
    plan.into_iter()
        .enumerate()
        .map(|(n, (action, on, reason, level))| {
            // Noon of today may still be ahead of the clock: never after now (the server refuses
            // steps dated ahead of its clock), still in order.
            let latest = row.now_ms - (count - n as i64);
            let at = on.noon_in_vietnam_ms().max(last.saturating_add(1)).min(latest);
            last = at;
            Transition {
                id: format!("{}-s{}", row.id, n + 1),
                action: action.code().to_string(),
                by: row.origin.by.clone(),
                by_name: row.display_name.to_string(),
                at,
                reason,
                level,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
