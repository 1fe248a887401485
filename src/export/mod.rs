//! Exports: what the app shows, as files people open in Excel — the report's tables and lists,
//! the model list with its current filters, a contest's results — as XLSX (one sheet per table)
//! and CSV.
//!
//! A [`Table`] is typed: text, whole numbers, decimals and dates stay what they are, so a
//! spreadsheet can add them up (a count written as "1.234" text cannot be summed). The builders
//! ([`report_tables`], [`model_table`], [`contest_tables`]) turn the domain's sheets and records
//! into tables with Vietnamese headers; the writers ([`xlsx`], [`csv`]) turn tables into bytes.
//!
//! No IO and no clock: the caller (the client's report page, offline on the device, or the
//! server) saves or sends the bytes. Compiles for the browser (wasm32) and natively; imports
//! nothing but [`crate::domain`].

mod contest;
mod models;
mod report;
mod write;

pub use contest::{EXCUSED, INCOMPLETE, MISSING, PRIZES, QUALIFIED, TIED, contest_tables, final_table, name_units, prize_table, round_sheets_table, round_table};
pub use models::model_table;
pub use report::{COMMENDATIONS, CONTEST_PRIZES, COVERAGE, EXEMPLARY, FIGURES, NOT_REGISTERING, PIVOT, REPLICATED, TOTAL, breakdown_sheet, figure_rows, report_tables};
pub use write::{csv, xlsx};

use crate::domain::Date;

/// Excel's limit on a sheet's name, in UTF-16 code units (a Vietnamese letter is one).
pub const SHEET_NAME_MAX: usize = 31;

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A count, a year, a serial number.
    Whole(i64),
    Decimal(f64),
    /// Written as a real Excel date shown dd/mm/yyyy (in CSV as YYYY-MM-DD, which Excel reads as
    /// a date whatever the computer's language).
    Date(Date),
    Empty,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Cell {
        Cell::Whole(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Cell {
        Cell::Whole(i64::from(n))
    }
}

impl From<Date> for Cell {
    fn from(day: Date) -> Cell {
        Cell::Date(day)
    }
}

impl From<Option<Date>> for Cell {
    fn from(day: Option<Date>) -> Cell {
        day.map_or(Cell::Empty, Cell::Date)
    }
}

/// One sheet of an XLSX file, or one CSV file: a title (the sheet's first row; not in the CSV,
/// whose first line is the header, so it reads back as a table), the header row, the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The sheet's name: at most [`SHEET_NAME_MAX`] characters, none of `[ ] : * ? / \`, unique
    /// in a workbook (Excel compares names ignoring case). [`sheet_name`] makes one from any text.
    pub sheet: String,
    pub title: String,
    pub headers: Vec<String>,
    /// Each row has at most as many cells as there are headers (fewer: the rest are empty).
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(sheet: impl Into<String>, title: impl Into<String>, headers: &[&str]) -> Table {
        Table { sheet: sheet.into(), title: title.into(), headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

/// A valid sheet name made from any text (a unit's name, say): the characters Excel refuses
/// become "-", apostrophes at the ends go, and it is cut to [`SHEET_NAME_MAX`].
pub fn sheet_name(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if FORBIDDEN_IN_SHEET_NAME.contains(&c) { '-' } else { c }).collect();
    let trimmed = cleaned.trim().trim_matches('\'');
    let mut out = String::new();
    let mut units = 0;
    for c in trimmed.chars() {
        units += c.len_utf16();
        if units > SHEET_NAME_MAX {
            break;
        }
        out.push(c);
    }
    let out = out.trim_end().trim_end_matches('\'').to_string();
    if out.is_empty() { crate::i18n::vi("Bảng").to_string() } else { out }
}

const FORBIDDEN_IN_SHEET_NAME: [char; 7] = ['[', ']', ':', '*', '?', '/', '\\'];

/// Why a file could not be written. The messages are for the user (Vietnamese; the app translates
/// them), and say which table and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("Không có bảng nào để xuất.")]
    NoTable,
    #[error("Tên trang tính “{0}” không hợp lệ: {1}.")]
    SheetName(String, &'static str),
    #[error("Hai bảng cùng tên trang tính “{0}” (Excel không phân biệt chữ hoa, chữ thường).")]
    DuplicateSheet(String),
    #[error("Bảng “{sheet}” có {rows} dòng, vượt giới hạn {max} dòng của một trang tính Excel; hãy lọc bớt rồi xuất lại.")]
    TooManyRows { sheet: String, rows: usize, max: usize },
    #[error("Bảng “{sheet}” có {columns} cột, vượt giới hạn {max} cột của Excel.")]
    TooManyColumns { sheet: String, columns: usize, max: usize },
    #[error("Dòng {row} của bảng “{sheet}” có {cells} ô, nhiều hơn {headers} cột tiêu đề.")]
    RowTooWide { sheet: String, row: usize, cells: usize, headers: usize },
    #[error("Ô ở dòng {row}, cột “{column}” của bảng “{sheet}” dài hơn {max} ký tự, giới hạn của một ô Excel.")]
    TextTooLong { sheet: String, row: usize, column: String, max: usize },
    /// The XLSX writer refused something the checks above did not foresee.
    #[error("Không tạo được tệp Excel: {0}")]
    Xlsx(String),
}

impl ExportError {
    /// Checks everything Excel would refuse in `tables`, before anything is written.
    fn check(tables: &[Table]) -> Result<(), ExportError> {
        if tables.is_empty() {
            return Err(ExportError::NoTable);
        }
        let mut seen: Vec<String> = Vec::with_capacity(tables.len());
        for t in tables {
            let name = &t.sheet;
            let reason = if name.trim().is_empty() {
                Some("tên trống")
            } else if name.encode_utf16().count() > SHEET_NAME_MAX {
                Some("dài quá 31 ký tự")
            } else if name.chars().any(|c| FORBIDDEN_IN_SHEET_NAME.contains(&c)) {
                Some("có ký tự [ ] : * ? / \\")
            } else if name.starts_with('\'') || name.ends_with('\'') {
                Some("bắt đầu hoặc kết thúc bằng dấu nháy đơn")
            } else if name.eq_ignore_ascii_case("History") {
                // Excel keeps this name for itself.
                Some("“History” là tên Excel dành riêng")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(ExportError::SheetName(name.clone(), reason));
            }
            let folded = name.to_lowercase();
            if seen.contains(&folded) {
                return Err(ExportError::DuplicateSheet(name.clone()));
            }
            seen.push(folded);
            let title_rows = usize::from(!t.title.is_empty());
            if t.rows.len() + 1 + title_rows > EXCEL_ROWS {
                return Err(ExportError::TooManyRows { sheet: name.clone(), rows: t.rows.len(), max: EXCEL_ROWS - 1 - title_rows });
            }
            if t.headers.len() > EXCEL_COLUMNS {
                return Err(ExportError::TooManyColumns { sheet: name.clone(), columns: t.headers.len(), max: EXCEL_COLUMNS });
            }
            if let Some((i, row)) = t.rows.iter().enumerate().find(|(_, r)| r.len() > t.headers.len()) {
                return Err(ExportError::RowTooWide { sheet: name.clone(), row: i + 1, cells: row.len(), headers: t.headers.len() });
            }
        }
        Ok(())
    }
}

/// Rows and columns of one Excel sheet.
const EXCEL_ROWS: usize = 1_048_576;
const EXCEL_COLUMNS: usize = 16_384;
/// Characters of one Excel cell (UTF-16 code units).
const EXCEL_CELL_CHARS: usize = 32_767;

// calamine (reading the files back) is a native dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
