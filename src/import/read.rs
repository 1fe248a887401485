//! A file's bytes as a [`Sheet`]: CSV (UTF-8 with or without BOM, UTF-16 as Excel's "Unicode
//! text", Windows-1258 converted, TCVN3 refused with what to do), XLSX, XLSM, XLS and ODS (the
//! first sheet with a recognisable header row) through calamine. No IO.
//!
//! What a hostile file may cost is bounded before any parser sees it, on the device and on the
//! server alike: a zip container (XLSX, XLSM, ODS) is inflated once into nothing, counting, and
//! refused past [`MAX_INFLATED_BYTES`] (a header may declare less than its entry inflates to);
//! XLSX sheets are read cell by cell and kept sparse, because calamine's `worksheet_range` makes a
//! dense grid over the used area, so two cells at A1 and XFD1048576 of a 6 KB file would ask for
//! 17 billion cells. The legacy formats (XLS, XLSB, ODS) still go through that grid and are for
//! files the user opens on their own device or the operator hands to the command line:
//! [`read_upload`], the server's reader for files sent over the network, refuses them.
//!
//! Spreadsheets kept since 2009 often carry a title ("DANH SÁCH MÔ HÌNH DÂN VẬN KHÉO NĂM 2015")
//! above the header, so the header is the first of the top rows in which the model's name and
//! at least one other known column are recognised, else the first with three known columns, else
//! the first non-empty row.

use std::io::Cursor;

use super::{Column, Mapping, Sheet, SheetRow, Target};

/// Above this a file is refused before it is parsed (a province's whole list is ~10 MB as XLSX).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Rows of data at most (Hà Nội registered 78,494 models from 2009 to 2020).
pub const MAX_ROWS: usize = 300_000;
/// Cells longer than this are cut (a narrative's limit is 10,000 characters; the row then fails
/// with that limit's message rather than the reader holding gigabytes).
const MAX_CELL_CHARS: usize = 20_000;
/// How far down the header is looked for.
const HEADER_SEARCH_ROWS: usize = 30;
/// What a workbook's zip entries may inflate to, together. A province's whole list (78,494 models
/// in 14 columns, `cargo bench --bench import`) inflates to 34 MB (3.5 MB as a file).
pub const MAX_INFLATED_BYTES: u64 = 256 * 1024 * 1024;
/// Columns a sheet may use (a model list has about thirty; IV is Excel 2003's last column).
pub const MAX_COLUMNS: u32 = 256;

/// Why a file cannot be read, as a sentence for the person importing (Vietnamese; the app
/// translates it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("Tệp trống hoặc không có dòng tiêu đề.")]
    Empty,
    #[error("Tệp lớn quá ({size_mb} MB; tối đa {max_mb} MB). Hãy tách thành nhiều tệp.")]
    TooLarge { size_mb: usize, max_mb: usize },
    #[error("Tệp có {rows} dòng, nhiều hơn {max} dòng cho một lần nhập. Hãy tách thành nhiều tệp.")]
    TooManyRows { rows: usize, max: usize },
    #[error(
        "Tệp CSV dùng bảng mã TCVN3 (ABC, phông .VnTime) nên chữ tiếng Việt sẽ bị sai. Hãy chuyển sang Unicode (Unikey: Công cụ chuyển mã, từ TCVN3 sang Unicode) hoặc mở bằng Excel rồi lưu lại dạng “CSV UTF-8”, sau đó nhập lại."
    )]
    Tcvn3,
    #[error("Tệp CSV không đọc được ở dòng {line}: {reason}.")]
    Csv { line: usize, reason: String },
    #[error("Không đọc được tệp bảng tính: {0}. Hãy mở bằng Excel rồi lưu lại dạng .xlsx.")]
    Workbook(String),
    #[error("Không nhận ra loại tệp “{0}”: hãy chọn tệp .xlsx, .xls, .ods hoặc .csv.")]
    UnknownKind(String),
    #[error(
        "Tệp bảng tính giải nén ra hơn {max_mb} MB, lớn hơn nhiều so với một danh sách mô hình (tệp hỏng, hoặc chứa thứ khác). Hãy chỉ giữ trang danh sách, hoặc tách thành nhiều tệp."
    )]
    Inflated { max_mb: u64 },
    #[error(
        "Tệp có dữ liệu ở cột {column}, xa hơn cột IV (256 cột) mà một danh sách mô hình có thể dùng. Hãy xóa các cột thừa bên phải rồi lưu lại."
    )]
    TooWide { column: String },
    #[error(
        "Máy chủ chỉ nhận tệp .xlsx hoặc .csv. Hãy mở tệp {0} bằng Excel hoặc LibreOffice rồi lưu dạng .xlsx, hoặc nhập ngay trên thiết bị (không cần mạng)."
    )]
    NotOnServer(String),
}

/// What a zip container holds, from its entries' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ZipKind {
    Xlsx,
    Xlsb,
    Ods,
    Other,
}

/// Reads a file chosen by a user; `name` is its name (its extension decides with its first bytes).
pub fn read_file(name: &str, bytes: &[u8]) -> Result<Sheet, ReadError> {
    check_size(bytes)?;
    let lower = name.to_lowercase();
    if is_zip(bytes) {
        let kind = check_zip(bytes, MAX_INFLATED_BYTES)?;
        return if kind == ZipKind::Xlsx { read_xlsx(bytes) } else { read_workbook(bytes) };
    }
    if is_ole(bytes) {
        return read_workbook(bytes);
    }
    if [".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"].iter().any(|e| lower.ends_with(e)) {
        return Err(ReadError::Workbook("tệp không phải bảng tính hợp lệ (có thể bị hỏng hoặc chỉ đổi tên đuôi)".into()));
    }
    if lower.ends_with(".csv") || lower.ends_with(".txt") || lower.ends_with(".tsv") || !lower.contains('.') {
        return read_csv(&decode_text(bytes)?);
    }
    Err(ReadError::UnknownKind(name.rsplit('.').next().unwrap_or_default().to_string()))
}

/// Reads a file sent over the network (`POST /api/import/models`): CSV and XLSX/XLSM, whose
/// readers' memory is bounded by the file's real content; XLS, XLSB and ODS are refused (their
/// readers build a dense grid over whatever area the file declares) with what to do instead.
pub fn read_upload(name: &str, bytes: &[u8]) -> Result<Sheet, ReadError> {
    check_size(bytes)?;
    let refuse = || ReadError::NotOnServer(format!("“{}”", name.chars().take(120).collect::<String>()));
    if is_ole(bytes) {
        return Err(refuse());
    }
    if is_zip(bytes) {
        return match check_zip(bytes, MAX_INFLATED_BYTES)? {
            ZipKind::Xlsx => read_xlsx(bytes),
            ZipKind::Xlsb | ZipKind::Ods => Err(refuse()),
            ZipKind::Other => Err(ReadError::Workbook("tệp nén không phải bảng tính".into())),
        };
    }
    read_file(name, bytes)
}

fn check_size(bytes: &[u8]) -> Result<(), ReadError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge { size_mb: bytes.len().div_ceil(1 << 20), max_mb: MAX_FILE_BYTES >> 20 });
    }
    Ok(())
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The compound file of Excel 97–2003 (.xls).
fn is_ole(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Inflates every entry of a zip container into nothing, refusing it once they come to more
/// than `limit` bytes together, and says what kind of workbook it is. Entries are counted as
/// they actually inflate, not only as their headers declare (zip 9 refuses an entry that
/// inflates past its declared size, and this count does not depend on it); inflating runs at
/// hundreds of MB/s, so checking costs a fraction of parsing.
pub(super) fn check_zip(bytes: &[u8], limit: u64) -> Result<ZipKind, ReadError> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ReadError::Workbook(short(&e.to_string())))?;
    let too_big = ReadError::Inflated { max_mb: limit >> 20 };
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| ReadError::Workbook(short(&e.to_string())))?;
    let kind = if names.iter().any(|n| n == "xl/workbook.xml") {
        ZipKind::Xlsx
    } else if names.iter().any(|n| n == "xl/workbook.bin") {
        ZipKind::Xlsb
    } else if names.iter().any(|n| n == "content.xml") {
        ZipKind::Ods
    } else {
        ZipKind::Other
    };
    let mut left = limit;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(|e| ReadError::Workbook(short(&e.to_string())))?;
        if entry.size() > left {
            return Err(too_big);
        }
        // What matters is how much comes out. The CRC is not checked here (the zip crate checks it
        // when a parser reads the entry to its end); it also stops an entry at its declared size,
        // so a forged header is an error.
        let inflated = std::io::copy(&mut entry.take(left + 1), &mut std::io::sink())
            .map_err(|_| ReadError::Workbook("tệp nén bị hỏng hoặc bị cắt (một phần của tệp không giải nén đúng như khai báo)".into()))?;
        if inflated > left {
            return Err(too_big);
        }
        left -= inflated;
    }
    Ok(kind)
}

/// An XLSX/XLSM workbook, cell by cell: the first sheet whose header is recognised, else the
/// first sheet with anything in it. Only cells holding something are kept, so memory follows
/// what the file really holds, not the area its cells are spread over.
fn read_xlsx(bytes: &[u8]) -> Result<Sheet, ReadError> {
    use calamine::Reader;
    let workbook_error = |e: calamine::XlsxError| ReadError::Workbook(short(&e.to_string()));
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(bytes)).map_err(workbook_error)?;
    let names = book.sheet_names();
    let mut first_error = None;
    let mut fallback = None;
    for name in &names {
        let mut cells = match book.worksheet_cells_reader(name) {
            Ok(reader) => reader,
            Err(e) => {
                first_error.get_or_insert_with(|| short(&e.to_string()));
                continue;
            }
        };
        let mut by_row: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
        loop {
            let cell = match cells.next_cell() {
                Ok(Some(cell)) => cell,
                Ok(None) => break,
                Err(e) => return Err(workbook_error(e)),
            };
            let (row, col) = cell.get_position();
            let text = data_text(cell.get_value());
            if text.is_empty() {
                continue;
            }
            if row as usize >= MAX_ROWS + HEADER_SEARCH_ROWS {
                return Err(ReadError::TooManyRows { rows: row as usize + 1, max: MAX_ROWS });
            }
            if col >= MAX_COLUMNS {
                return Err(ReadError::TooWide { column: super::spreadsheet_column(col as usize) });
            }
            let cells = by_row.entry(row).or_default();
            if cells.len() <= col as usize {
                cells.resize(col as usize + 1, String::new());
            }
            cells[col as usize] = text;
        }
        let rows: Vec<SheetRow> = by_row.into_iter().map(|(row, cells)| SheetRow { line: row as usize + 1, cells }).collect();
        if let Some(header) = header_row(&rows) {
            return Ok(split_at_header(rows, header));
        }
        if fallback.is_none() {
            fallback = sheet_from_rows(rows).ok();
        }
    }
    fallback.ok_or_else(|| first_error.map_or(ReadError::Empty, ReadError::Workbook))
}

/// A cell's value as the plan reads it (dates as ISO days, booleans in Vietnamese), from either
/// reader's cells (XLSX's `DataRef`, the dense grid's `Data`); empty and error cells are "".
fn data_text(cell: &impl calamine::DataType) -> String {
    if let Some(s) = cell.get_string() {
        cell_text(s)
    } else if let Some(v) = cell.get_int() {
        v.to_string()
    } else if let Some(v) = cell.get_float() {
        v.to_string()
    } else if let Some(v) = cell.get_bool() {
        if v { crate::i18n::vi("có") } else { crate::i18n::vi("không") }.to_string()
    } else if let Some(d) = cell.get_datetime() {
        let (y, m, day, ..) = d.to_ymd_hms_milli();
        format!("{y:04}-{m:02}-{day:02}")
    } else if let Some(s) = cell.get_datetime_iso() {
        s.chars().take(10).collect()
    } else if let Some(s) = cell.get_duration_iso() {
        s.to_string()
    } else {
        String::new()
    }
}

/// A text file's bytes as a string: UTF-8 (BOM or not), UTF-16 with BOM, or Windows-1258
/// (composed to NFC, the form every other text in the app has); TCVN3 is refused.
pub fn decode_text(bytes: &[u8]) -> Result<String, ReadError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(String::from_utf8_lossy(rest).into_owned());
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, _, _) = if bytes[0] == 0xFF { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE }.decode(bytes);
        return Ok(text.into_owned());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    // Not UTF-8: one of the older 8-bit Vietnamese encodings. TCVN3 puts its lower-case
    // accented letters at 0xA1–0xBF and 0xC6–0xFE, where Windows-1258 has symbols (µ ¸ ¶ · ¹ ¨ ©
    // ®) that Vietnamese text never holds in numbers; Windows-1258 writes tones as combining
    // marks at 0xCC 0xD2 0xDE 0xEC 0xF2.
    let high: Vec<u8> = bytes.iter().copied().filter(|b| *b >= 0x80).collect();
    let symbols = high.iter().filter(|b| (0xA1..=0xBF).contains(*b)).count();
    if symbols * 4 >= high.len() {
        return Err(ReadError::Tcvn3);
    }
    let (text, _, _) = encoding_rs::WINDOWS_1258.decode(bytes);
    use unicode_normalization::UnicodeNormalization;
    Ok(text.nfc().collect())
}

/// CSV with the delimiter the header line uses most (Excel with Vietnamese regional settings
/// writes `;`, since the decimal separator is the comma; "Unicode text" uses tabs).
pub fn read_csv(text: &str) -> Result<Sheet, ReadError> {
    // From the first line that has any: a title line above the header has none, and a data
    // line's text may hold commas however the file is separated.
    let delimiters = [b',', b';', b'\t'];
    let count = |line: &str, d: u8| line.bytes().filter(|b| *b == d).count();
    let first_line = text.lines().take(HEADER_SEARCH_ROWS).find(|l| delimiters.iter().any(|d| count(l, *d) > 0)).unwrap_or_default();
    let delimiter = delimiters.into_iter().rev().max_by_key(|d| count(first_line, *d)).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // Lines counted here: the csv crate's `line` lags by one after a CRLF terminator (it counts
    // the `\n` when the next record starts), so a row's line is found from its byte offset.
    let bytes = text.as_bytes();
    let (mut counted_to, mut line) = (0usize, 1usize);
    for record in reader.records() {
        let record = record.map_err(|e| ReadError::Csv {
            line: e.position().map_or(0, |p| p.line() as usize),
            reason: match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "chữ không đúng mã UTF-8".to_string(),
                _ => "dấu ngoặc kép không khớp".to_string(),
            },
        })?;
        let mut start = record.position().map_or(counted_to, |p| p.byte() as usize).min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line += bytes[counted_to..start.max(counted_to)].iter().filter(|b| **b == b'\n').count();
        counted_to = start.max(counted_to);
        if rows.len() > MAX_ROWS + HEADER_SEARCH_ROWS {
            return Err(ReadError::TooManyRows { rows: rows.len(), max: MAX_ROWS });
        }
        rows.push(SheetRow { line, cells: record.iter().map(cell_text).collect() });
    }
    sheet_from_rows(rows)
}

fn cell_text(s: &str) -> String {
    let t = s.trim();
    if t.chars().count() > MAX_CELL_CHARS { t.chars().take(MAX_CELL_CHARS).collect() } else { t.to_string() }
}

/// XLS, XLSB and ODS through calamine's dense grid (see the module's note).
fn read_workbook(bytes: &[u8]) -> Result<Sheet, ReadError> {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| ReadError::Workbook(short(&e.to_string())))?;
    let names = book.sheet_names();
    let mut first_error = None;
    let mut fallback = None;
    for (n, name) in names.iter().enumerate() {
        let range = match book.worksheet_range(name) {
            Ok(r) => r,
            Err(e) => {
                first_error.get_or_insert_with(|| short(&e.to_string()));
                continue;
            }
        };
        if range.height() > MAX_ROWS + HEADER_SEARCH_ROWS {
            return Err(ReadError::TooManyRows { rows: range.height(), max: MAX_ROWS });
        }
        let (top, left) = range.start().unwrap_or((0, 0));
        if let Some((_, right)) = range.end().filter(|(_, right)| *right >= MAX_COLUMNS) {
            return Err(ReadError::TooWide { column: super::spreadsheet_column(right as usize) });
        }
        // Cells keep their column (A is 0) when the sheet starts further right, as in XLSX and CSV.
        let rows: Vec<SheetRow> = range
            .rows()
            .enumerate()
            .map(|(i, cells)| SheetRow {
                line: top as usize + i + 1,
                cells: std::iter::repeat_n(String::new(), left as usize)
                    .chain(cells.iter().map(data_text))
                    .collect(),
            })
            .collect();
        // The first sheet whose header is recognised; else the first sheet with anything in it.
        if let Some(header) = header_row(&rows) {
            return Ok(split_at_header(rows, header));
        }
        if n == 0 || fallback.is_none() {
            fallback = fallback.or_else(|| sheet_from_rows(rows).ok());
        }
    }
    fallback.ok_or_else(|| first_error.map_or(ReadError::Empty, ReadError::Workbook))
}

fn short(message: &str) -> String {
    message.chars().take(200).collect()
}

/// The index of the header row among the first rows, if one is recognisable: the first naming
/// the model and another known column, else the first naming three known columns (a header whose
/// name column is written some other way, "Tên MH", which the mapping step then asks about).
fn header_row(rows: &[SheetRow]) -> Option<usize> {
    let known = |r: &SheetRow| {
        let mapping = Mapping::guess(&r.cells);
        (mapping.0.contains(&Target::Column(Column::Name)), mapping.0.iter().filter(|t| matches!(t, Target::Column(_))).count())
    };
    let top = || rows.iter().take(HEADER_SEARCH_ROWS);
    top().position(|r| matches!(known(r), (true, n) if n >= 2)).or_else(|| top().position(|r| known(r).1 >= 3))
}

fn sheet_from_rows(rows: Vec<SheetRow>) -> Result<Sheet, ReadError> {
    let header = header_row(&rows).or_else(|| rows.iter().position(|r| r.cells.iter().any(|c| !c.is_empty()))).ok_or(ReadError::Empty)?;
    Ok(split_at_header(rows, header))
}

fn split_at_header(mut rows: Vec<SheetRow>, header: usize) -> Sheet {
    let data = rows.split_off(header + 1);
    let head = rows.pop().expect("the header row exists");
    let width = head.cells.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1);
    let mut headers = head.cells;
    headers.truncate(width);
    Sheet { header_line: head.line, headers, rows: data.into_iter().filter(|r| r.cells.iter().any(|c| !c.is_empty())).collect() }
}
