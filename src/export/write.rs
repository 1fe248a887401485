//! Tables to bytes: XLSX with rust_xlsxwriter, CSV with the csv crate.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::{Cell, EXCEL_CELL_CHARS, ExportError, Table};

/// Column widths in Excel's units (about one character of the default font each).
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 60;
/// The widest a header makes its column (longer ones wrap).
const HEADER_WIDTH: usize = 16;
/// A date shown dd/mm/yyyy.
const DATE_WIDTH: usize = 10;
/// Paper size 9 is A4, what Vietnamese offices print on (Excel's default is US Letter).
const PAPER_A4: u8 = 9;

/// One XLSX workbook, one sheet per table in order: the title in the first row, the header row
/// bold, both frozen (they stay in view while scrolling and repeat on every printed page), the
/// columns as wide as their contents (within limits). Numbers are written as numbers and dates
/// as Excel dates shown dd/mm/yyyy; text is always text (a model named "=1+1" is not a formula).
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, ExportError> {
    ExportError::check(tables)?;
    let mut workbook = Workbook::new();
    let title = Format::new().set_bold().set_font_size(13);
    let header = Format::new().set_bold().set_text_wrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for table in tables {
        let sheet = workbook.add_worksheet();
        write_sheet(sheet, table, &title, &header, &date).map_err(|e| match e {
            Failure::Export(e) => e,
            Failure::Xlsx(e) => ExportError::Xlsx(e.to_string()),
        })?;
    }
    workbook.save_to_buffer().map_err(|e| ExportError::Xlsx(e.to_string()))
}

enum Failure {
    Export(ExportError),
    Xlsx(XlsxError),
}

impl From<XlsxError> for Failure {
    fn from(e: XlsxError) -> Failure {
        Failure::Xlsx(e)
    }
}

fn write_sheet(sheet: &mut Worksheet, table: &Table, title: &Format, header: &Format, date: &Format) -> Result<(), Failure> {
    sheet.set_name(&table.sheet)?;
    let mut row: u32 = 0;
    if !table.title.is_empty() {
        sheet.write_string_with_format(row, 0, &table.title, title)?;
        row += 1;
    }
    let header_row = row;
    // A long header wraps (its format says so) rather than widening its column: a breakdown
    // has some thirty figure columns whose names are phrases.
    let mut widths: Vec<usize> = table.headers.iter().map(|h| h.chars().count().min(HEADER_WIDTH)).collect();
    for (c, h) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(header_row, c as u16, h, header)?;
    }
    for (i, cells) in table.rows.iter().enumerate() {
        row = header_row + 1 + i as u32;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            let width = match cell {
                Cell::Text(text) => {
                    if text.encode_utf16().count() > EXCEL_CELL_CHARS {
                        return Err(Failure::Export(ExportError::TextTooLong {
                            sheet: table.sheet.clone(),
                            row: i + 1,
                            column: table.headers[c].clone(),
                            max: EXCEL_CELL_CHARS,
                        }));
                    }
                    sheet.write_string(row, col, text)?;
                    // A long narrative wraps in Excel anyway; its column need not be that wide.
                    text.chars().count()
                }
                Cell::Whole(n) => {
                    // Excel holds numbers as doubles: whole numbers are exact up to 2^53.
                    sheet.write_number(row, col, *n as f64)?;
                    n.to_string().len()
                }
                Cell::Decimal(v) if v.is_finite() => {
                    sheet.write_number(row, col, *v)?;
                    v.to_string().len().min(12)
                }
                // Not a number (a rate over zero units): left blank rather than Excel's #NUM!.
                Cell::Decimal(_) => 0,
                Cell::Date(day) => {
                    // Excel's dates start in 1900; an earlier one (a typing slip) stays visible as text.
                    match ExcelDateTime::from_ymd(day.year, day.month, day.day) {
                        Ok(when) => {
                            sheet.write_datetime_with_format(row, col, when, date)?;
                        }
                        Err(_) => {
                            sheet.write_string(row, col, day.vi())?;
                        }
                    }
                    DATE_WIDTH
                }
                Cell::Empty => 0,
            };
            widths[c] = widths[c].max(width);
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w + 2).clamp(MIN_WIDTH, MAX_WIDTH) as f64)?;
    }
    sheet.set_freeze_panes(header_row + 1, 0)?;
    sheet.set_repeat_rows(0, header_row)?;
    sheet.set_paper_size(PAPER_A4);
    Ok(())
}

/// One CSV file: UTF-8 with a byte-order mark (without it Excel reads the file in the computer's
/// legacy code page and Vietnamese comes out garbled), the header line first (no title line, so
/// the file reads back as a table), CRLF line ends, fields quoted when they need it. Numbers are
/// plain (`1234`, `2.5`: no thousands dots), dates YYYY-MM-DD (Excel reads that as a date in any
/// language setting; dd/mm/yyyy is read as mm/dd in some). A text cell that Excel would take for
/// a formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe, so a
/// model named `=HYPERLINK(…)` stays text on the reviewer's computer.
pub fn csv(table: &Table) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + table.rows.len() * table.headers.len() * 12);
    out.extend_from_slice("\u{feff}".as_bytes());
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).flexible(true).from_writer(out);
    // Writing into a Vec cannot fail: the csv crate's only errors are the writer's IO errors.
    writer.write_record(&table.headers).expect("CSV into memory");
    let mut record: Vec<String> = Vec::with_capacity(table.headers.len());
    for cells in &table.rows {
        record.clear();
        record.extend(cells.iter().map(csv_field));
        // A short row is padded, so every line has the header's number of fields.
        record.resize(table.headers.len().max(cells.len()), String::new());
        writer.write_record(&record).expect("CSV into memory");
    }
    writer.into_inner().map_err(|e| e.into_error()).expect("CSV into memory")
}

fn csv_field(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) if text.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{text}"),
        Cell::Text(text) => text.clone(),
        Cell::Whole(n) => n.to_string(),
        Cell::Decimal(v) if v.is_finite() => v.to_string(),
        Cell::Decimal(_) => String::new(),
        Cell::Date(day) => day.to_string(),
        Cell::Empty => String::new(),
    }
}
