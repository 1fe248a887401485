//! Exports of a generated registry (tests/support/registry.rs, a few thousand models of the Hà Nội
//! tree) read back as a spreadsheet would: every number of a city report's workbook is a number
//! equal to the report's figure, dates are dates; the model list's XLSX and CSV hold every model.

#[path = "support/registry.rs"]
mod registry;

use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx, open_workbook_from_rs};
use danvan::domain::Status;
use danvan::domain::report::{ModelFacts, Period, ReportRequest, ReportSheet, Scope};
use danvan::export::{self, Cell, csv, model_table, report_tables, xlsx};

const MODELS: usize = 4_000;

fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes)).expect("a readable XLSX")
}

fn number(range: &Range<Data>, row: usize, col: usize) -> f64 {
    match range.get_value((row as u32, col as u32)) {
        Some(Data::Float(v)) => *v,
        other => panic!("a number at ({row}, {col}), got {other:?}"),
    }
}

fn text(range: &Range<Data>, row: usize, col: usize) -> String {
    match range.get_value((row as u32, col as u32)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("text at ({row}, {col}), got {other:?}"),
    }
}

fn city_report() -> ReportSheet {
    let models = registry::ha_noi_models(MODELS, 13);
    let facts: Vec<ModelFacts> = models.iter().map(ModelFacts::of).collect();
    ReportRequest::new(Scope::Unit("HN".into()), Period::years(2009, 2020).unwrap()).run(&registry::ha_noi_tree(), &facts)
}

/// Rows 0 and 1 are the title and the header; data starts at row 2.
const FIRST: usize = 2;

#[test]
fn a_city_reports_workbook_holds_its_figures_as_numbers() {
    let sheet = city_report();
    assert!(sheet.figures.commendations() > 0 && sheet.figures.replication_points > 0 && sheet.figures.exemplary() > 0, "the generator filled the annex");
    let mut book = open(xlsx(&report_tables(&sheet)).unwrap());
    let names = book.sheet_names();
    // Figures, the breakdowns, the pivot, coverage, units not registering, and the annex's four
    // lists (exemplary, commendations, replication, contest prizes).
    assert_eq!(names.len(), 8 + sheet.breakdowns.len());
    assert_eq!(names.last().map(String::as_str), Some(export::CONTEST_PRIZES));
    assert_eq!(sheet.breakdowns.len(), 5);
    assert_eq!(names[0], export::FIGURES);

    let figures = book.worksheet_range(export::FIGURES).unwrap();
    assert_eq!(text(&figures, 0, 0), "Số liệu mô hình – Thành ủy Hà Nội, giai đoạn 2009–2020");
    assert_eq!((text(&figures, 1, 0), text(&figures, 1, 1)), ("Chỉ tiêu".into(), "Số lượng".into()));
    let rows = export::figure_rows(&sheet.figures, sheet.request.period.to);
    for (i, (label, n)) in rows.iter().enumerate() {
        assert_eq!(text(&figures, FIRST + i, 0), *label);
        assert_eq!(number(&figures, FIRST + i, 1), *n as f64, "{label}");
    }
    assert_eq!(number(&figures, FIRST + 1, 1), MODELS as f64, "every model registered by 2020 counts in the total");

    for b in &sheet.breakdowns {
        let range = book.worksheet_range(&export::breakdown_sheet(b.dimension)).unwrap();
        assert_eq!(text(&range, 1, 0), b.dimension.label());
        for (i, row) in b.rows.iter().enumerate() {
            assert_eq!(text(&range, FIRST + i, 0), row.label);
            for (j, (_, n)) in export::figure_rows(&row.figures, sheet.request.period.to).iter().enumerate() {
                assert_eq!(number(&range, FIRST + i, 1 + j), *n as f64);
            }
        }
        let total = FIRST + b.rows.len();
        assert_eq!(text(&range, total, 0), export::TOTAL);
        assert_eq!(number(&range, total, 2), sheet.figures.total as f64);
    }

    let pivot = book.worksheet_range(export::PIVOT).unwrap();
    let p = &sheet.pivot;
    for (r, cells) in p.cells.iter().enumerate() {
        for (c, n) in cells.iter().enumerate() {
            assert_eq!(number(&pivot, FIRST + r, 1 + c), *n as f64);
        }
        assert_eq!(number(&pivot, FIRST + r, 1 + cells.len()), p.row_totals[r] as f64);
    }
    assert_eq!(number(&pivot, FIRST + p.row_keys.len(), 1 + p.column_keys.len()), p.total as f64);
    assert_eq!(text(&pivot, 1, 1 + p.column_keys.iter().position(|(k, _)| k == Status::Recognised.code()).unwrap()), Status::Recognised.label());

    let coverage = book.worksheet_range(export::COVERAGE).unwrap();
    assert_eq!(number(&coverage, FIRST, 1), sheet.coverage.units as f64);
    assert_eq!(number(&coverage, FIRST + 1, 1), sheet.coverage.registering as f64);

    let exemplary = book.worksheet_range(export::EXEMPLARY).unwrap();
    assert_eq!(exemplary.height(), FIRST + sheet.exemplary.len());
    let commendations = book.worksheet_range(export::COMMENDATIONS).unwrap();
    assert_eq!(commendations.height(), FIRST + sheet.commendations.len());
    for (i, c) in sheet.commendations.iter().enumerate() {
        assert_eq!(text(&commendations, FIRST + i, 6), c.decision_number);
        assert!(matches!(commendations.get_value(((FIRST + i) as u32, 7)), Some(Data::DateTime(d)) if d.is_datetime()), "the decision's date is a date");
    }
    let replicated = book.worksheet_range(export::REPLICATED).unwrap();
    let points: f64 = (0..sheet.replicated.len()).map(|i| number(&replicated, FIRST + i, 4)).sum();
    assert_eq!(points, sheet.figures.replication_points as f64, "the points listed add up to the figure");
}

#[test]
fn the_model_lists_files_hold_every_model() {
    let models = registry::ha_noi_models(MODELS, 13);
    let table = model_table(&models);
    let mut book = open(xlsx(std::slice::from_ref(&table)).unwrap());
    let range = book.worksheet_range(&table.sheet).unwrap();
    assert_eq!(range.height(), FIRST + MODELS);
    assert_eq!(text(&range, 1, 1), "Tên mô hình");
    for (i, m) in models.iter().enumerate().step_by(97) {
        let row = FIRST + i;
        assert_eq!(number(&range, row, 0), (i + 1) as f64);
        assert_eq!(text(&range, row, 1), m.name);
        assert_eq!(number(&range, row, 6), f64::from(m.year), "the year is a number");
        assert!(matches!(range.get_value((row as u32, 9)), Some(Data::DateTime(d)) if d.is_datetime()), "registered on: a date");
        assert_eq!(number(&range, row, 12), m.commendations.len() as f64);
        assert_eq!(number(&range, row, 13), danvan::domain::replication_points(&m.replications) as f64);
    }
    let recognised = table.rows.iter().filter(|r| matches!(r[10], Cell::Date(_))).count();
    assert!(recognised > MODELS / 10, "about a fifth are recognised, with their date ({recognised})");

    let bytes = csv(&table);
    assert!(bytes.starts_with("\u{feff}".as_bytes()));
    let mut reader = ::csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(&reader.headers().unwrap()[5], "Tên chủ thể thực hiện");
    let records: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), MODELS);
    for (m, r) in models.iter().zip(&records) {
        assert_eq!(&r[1], m.name);
        assert_eq!(r[6].parse::<u32>().unwrap(), m.year);
    }
}
