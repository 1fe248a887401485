//! Every file is read back: XLSX with calamine (what a spreadsheet sees: numbers, dates, text),
//! CSV with the csv crate's reader.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use super::*;
use crate::domain::report::{Dimension, Period, ReportRequest, Scope};
use crate::domain::{Action, Commendation, Level, Model, OwnerKind, Replication, Status, Transition, Unit, UnitKind, UnitTree};

fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a readable XLSX")
}

fn day(iso: &str) -> Date {
    Date::parse(iso).unwrap()
}

/// Excel's serial number of a day (what a date cell holds).
fn serial(d: Date) -> f64 {
    rust_xlsxwriter::ExcelDateTime::from_ymd(d.year, d.month, d.day).unwrap().to_excel()
}

fn sample() -> Table {
    let mut t = Table::new("Mẫu", "Bảng mẫu – Hà Nội", &["Tên", "Số lượng", "Tỷ lệ", "Ngày", "Ghi chú"]);
    t.push(vec![Cell::from("Hũ gạo tình thương"), Cell::Whole(12_345), Cell::Decimal(2.5), Cell::Date(day("2025-06-30")), Cell::Empty]);
    t.push(vec![Cell::from("=HYPERLINK(\"http://x\";\"bấm\")"), Cell::Whole(-7), Cell::Decimal(0.125), Cell::Date(day("2009-01-01")), Cell::from("a, \"b\"\nc")]);
    // A short row: the rest is empty.
    t.push(vec![Cell::from("Đường hoa")]);
    t
}

#[test]
fn xlsx_keeps_numbers_numbers_dates_dates_and_text_text() {
    let bytes = xlsx(&[sample()]).unwrap();
    let mut book = open(&bytes);
    assert_eq!(book.sheet_names(), vec!["Mẫu".to_string()]);
    let range = book.worksheet_range("Mẫu").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("Bảng mẫu – Hà Nội".into())), "the title first");
    let headers: Vec<_> = (0..5).map(|c| range.get_value((1, c)).cloned()).collect();
    assert_eq!(headers, ["Tên", "Số lượng", "Tỷ lệ", "Ngày", "Ghi chú"].map(|h| Some(Data::String(h.into()))).to_vec());
    assert_eq!(range.get_value((2, 0)), Some(&Data::String("Hũ gạo tình thương".into())));
    assert_eq!(range.get_value((2, 1)), Some(&Data::Float(12_345.0)), "a number, not the text 12.345");
    assert_eq!(range.get_value((2, 2)), Some(&Data::Float(2.5)));
    match range.get_value((2, 3)) {
        Some(Data::DateTime(d)) => {
            assert!(d.is_datetime());
            assert_eq!(d.as_f64(), serial(day("2025-06-30")));
        }
        other => panic!("a date cell, got {other:?}"),
    }
    assert_eq!(range.get_value((3, 1)), Some(&Data::Float(-7.0)));
    assert_eq!(range.get_value((3, 4)), Some(&Data::String("a, \"b\"\nc".into())));
    assert_eq!(range.get_value((4, 0)), Some(&Data::String("Đường hoa".into())));
    assert!(matches!(range.get_value((4, 1)), None | Some(Data::Empty)));
    // Text that looks like a formula is stored as text: nothing runs when the file is opened.
    assert_eq!(range.get_value((3, 0)), Some(&Data::String("=HYPERLINK(\"http://x\";\"bấm\")".into())));
    let formulas = book.worksheet_formula("Mẫu").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formula in the file");
}

#[test]
fn xlsx_freezes_and_bolds_the_header_and_sizes_columns() {
    let bytes = xlsx(&[sample()]).unwrap();
    // What the package says, read from its parts (calamine does not expose styles).
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let part = |zip: &mut zip::ZipArchive<Cursor<Vec<u8>>>, name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let sheet = part(&mut zip, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>"#), "title and header frozen: {sheet}");
    assert!(sheet.contains("<cols>"), "column widths set");
    assert!(sheet.contains(r#"paperSize="9""#), "A4");
    let styles = part(&mut zip, "xl/styles.xml");
    assert!(styles.contains("<b/>"), "a bold font");
    assert!(styles.contains(r#"formatCode="dd/mm/yyyy""#), "dates shown dd/mm/yyyy");
    let workbook = part(&mut zip, "xl/workbook.xml");
    assert!(workbook.contains("_xlnm.Print_Titles"), "title and header repeat on printed pages");
}

#[test]
fn xlsx_writes_one_sheet_per_table_in_order() {
    let mut b = sample();
    b.sheet = "Thứ hai".into();
    b.title = String::new();
    let bytes = xlsx(&[sample(), b]).unwrap();
    let mut book = open(&bytes);
    assert_eq!(book.sheet_names(), vec!["Mẫu".to_string(), "Thứ hai".to_string()]);
    let range = book.worksheet_range("Thứ hai").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("Tên".into())), "without a title the header is the first row");
    assert_eq!(range.get_value((1, 1)), Some(&Data::Float(12_345.0)));
}

#[test]
fn xlsx_refuses_what_excel_would_with_a_message_that_says_what() {
    let named = |name: &str| {
        let mut t = sample();
        t.sheet = name.into();
        t
    };
    assert_eq!(xlsx(&[]), Err(ExportError::NoTable));
    let long = "Danh sách mô hình dân vận khéo năm 2025";
    match xlsx(&[named(long)]) {
        Err(e @ ExportError::SheetName(..)) => assert!(e.to_string().contains("31 ký tự"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(xlsx(&[named("Quận/huyện")]), Err(ExportError::SheetName(..))));
    assert!(matches!(xlsx(&[named("'Mẫu")]), Err(ExportError::SheetName(..))));
    assert!(matches!(xlsx(&[named("  ")]), Err(ExportError::SheetName(..))));
    let e = xlsx(&[named("Điển hình"), named("ĐIỂN HÌNH")]).unwrap_err();
    assert_eq!(e, ExportError::DuplicateSheet("ĐIỂN HÌNH".into()));
    assert!(e.to_string().contains("cùng tên"), "{e}");
    let mut wide = sample();
    wide.rows[0].push(Cell::from("thừa"));
    let e = xlsx(&[wide]).unwrap_err();
    assert_eq!(e, ExportError::RowTooWide { sheet: "Mẫu".into(), row: 1, cells: 6, headers: 5 });
    let mut huge = sample();
    huge.rows[2] = vec![Cell::Text("x".repeat(32_768))];
    let e = xlsx(&[huge]).unwrap_err();
    assert!(matches!(&e, ExportError::TextTooLong { row: 3, column, .. } if column == "Tên"), "{e:?}");
}

#[test]
fn too_many_rows_for_one_sheet_is_refused_before_writing() {
    let mut t = Table::new("Lớn", "", &["STT"]);
    t.rows = vec![vec![Cell::Whole(1)]; 1_048_576];
    let e = xlsx(&[t]).unwrap_err();
    assert_eq!(e, ExportError::TooManyRows { sheet: "Lớn".into(), rows: 1_048_576, max: 1_048_575 });
    assert!(e.to_string().contains("lọc bớt"), "{e}");
}

#[test]
fn sheet_names_made_from_any_text_are_valid() {
    assert_eq!(sheet_name("Quận/huyện: Ba Đình"), "Quận-huyện- Ba Đình");
    assert_eq!(sheet_name("'trích'"), "trích");
    assert_eq!(sheet_name(""), "Bảng");
    let long = sheet_name("Ủy ban Mặt trận Tổ quốc Việt Nam phường Điện Biên");
    assert_eq!(long.chars().count(), 31);
    assert!(long.starts_with("Ủy ban Mặt trận Tổ quốc"));
    let mut t = sample();
    t.sheet = long;
    assert!(xlsx(&[t]).is_ok());
}

#[test]
fn dates_before_1900_stay_visible_as_text() {
    let mut t = Table::new("Ngày", "", &["Ngày"]);
    t.push(vec![Cell::Date(Date { year: 1899, month: 12, day: 1 })]);
    let mut book = open(&xlsx(&[t]).unwrap());
    assert_eq!(book.worksheet_range("Ngày").unwrap().get_value((1, 0)), Some(&Data::String("01/12/1899".into())));
}

#[test]
fn csv_is_utf8_with_bom_crlf_and_reads_back_as_the_table() {
    let bytes = csv(&sample());
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "the BOM Excel needs to read UTF-8");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with("Tên,Số lượng,Tỷ lệ,Ngày,Ghi chú\r\n"), "{text}");
    assert!(text.contains("Hũ gạo tình thương,12345,2.5,2025-06-30,\r\n"), "numbers plain, dates ISO: {text}");
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).from_reader(&bytes[3..]);
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), vec!["Tên", "Số lượng", "Tỷ lệ", "Ngày", "Ghi chú"]);
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][4], "a, \"b\"\nc", "comma, quote and newline survive");
    assert_eq!(rows[1][1], "-7", "a negative number is a number, not escaped");
    assert_eq!(rows[1][2], "0.125");
    assert_eq!(rows[2], vec!["Đường hoa", "", "", "", ""], "a short row is padded to the header");
}

#[test]
fn csv_text_that_excel_would_run_as_a_formula_is_escaped() {
    let mut t = Table::new("Mẫu", "", &["Tên"]);
    for name in ["=1+1", "+84 912", "-giảm", "@SUM(A1)", "\tthụt", "bình thường = 1"] {
        t.push(vec![Cell::from(name)]);
    }
    let bytes = csv(&t);
    let mut reader = ::csv::Reader::from_reader(&bytes[3..]);
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(names, vec!["'=1+1", "'+84 912", "'-giảm", "'@SUM(A1)", "'\tthụt", "bình thường = 1"]);
}

// --- The builders, over a small district. ---

const DAY_MS: i64 = 86_400_000;

/// Noon in Vietnam on a date (ms since the epoch).
fn at(iso: &str) -> i64 {
    let d = day(iso);
    let days_before = |y: i64| (1970..y).map(|y| if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 { 366 } else { 365 }).sum::<i64>();
    let month_days = [31, if d.year.is_multiple_of(4) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let days = days_before(i64::from(d.year)) + month_days[..usize::from(d.month) - 1].iter().sum::<i64>() + i64::from(d.day) - 1;
    days * DAY_MS + 5 * 3_600_000
}

fn step(id: &str, action: Action, on: &str, level: &str) -> Transition {
    Transition { id: id.into(), action: action.code().into(), by: "u".into(), by_name: "U".into(), at: at(on), reason: "lý do".into(), level: level.into() }
}

fn model(id: &str, unit: &str, name: &str, created: &str, steps: Vec<Transition>) -> Model {
    let mut m = Model::new(id.into(), "u", at(created));
    m.name = name.into();
    m.unit = unit.into();
    m.unit_name = format!("Xã {unit}");
    m.year = u32::from(day(created).year);
    m.owner_name = format!("Chi hội {id}");
    m.transitions = steps;
    m
}

fn tree() -> UnitTree {
    let unit = |code: &str, level, parent: Option<&str>| Unit { code: code.into(), name: format!("Xã {code}"), kind: UnitKind::Commune, level, parent: parent.map(Into::into), cluster: None };
    UnitTree::from_units(vec![unit("D", Level::District, None), unit("X1", Level::Grassroots, Some("D")), unit("X2", Level::Grassroots, Some("D")), unit("X3", Level::Grassroots, Some("D"))], vec![])
}

fn models() -> Vec<Model> {
    let mut e = model("e", "X2", "Hũ gạo, \"tình thương\"", "2024-03-01", vec![
        step("1", Action::Start, "2024-03-02", ""),
        step("2", Action::Propose, "2024-09-01", ""),
        step("3", Action::Recognise, "2025-02-01", ""),
        step("4", Action::MarkExemplary, "2025-05-01", "huyen"),
    ]);
    e.owner_kind = OwnerKind::Individual;
    e.field = "van_hoa_xa_hoi".into();
    e.commendations = vec![Commendation { id: "k1".into(), form: "giay_khen".into(), issuer: "UBND huyện".into(), level: "huyen".into(), decision_number: "12/QĐ-UBND".into(), decision_date: "2025-06-10".into(), recipients: String::new(), by: "r".into(), by_name: "R".into(), at: at("2025-06-11") }];
    e.replications = vec![
        Replication { id: "r1".into(), unit: "X1".into(), unit_name: "Xã X1".into(), by: "c".into(), by_name: "C".into(), at: at("2025-04-01") },
        Replication { id: "r2".into(), unit: "X3".into(), unit_name: "Xã X3".into(), by: "c".into(), by_name: "C".into(), at: at("2025-04-05") },
        Replication { id: "r3".into(), unit: "X3".into(), unit_name: "Xã X3".into(), by: "c".into(), by_name: "C".into(), at: at("2025-08-05") },
    ];
    vec![
        model("a", "X1", "Đường hoa nông thôn mới", "2025-01-10", vec![step("1", Action::Start, "2025-02-01", ""), step("2", Action::Propose, "2025-05-20", ""), step("3", Action::Recognise, "2025-07-15", "")]),
        model("b", "X1", "Camera an ninh", "2025-08-01", vec![]),
        model("s", "X1", "Tổ hòa giải", "2023-05-01", vec![step("1", Action::Start, "2023-06-01", ""), step("2", Action::Stop, "2025-03-01", "")]),
        e,
    ]
}

fn report() -> crate::domain::report::ReportSheet {
    let facts: Vec<_> = models().iter().map(crate::domain::report::ModelFacts::of).collect();
    ReportRequest::new(Scope::Unit("D".into()), Period::year(2025)).run(&tree(), &facts)
}

#[test]
fn the_model_list_reads_as_the_app_lists_it() {
    let list = models();
    let t = model_table(&list);
    assert_eq!(t.sheet, "Danh sách mô hình");
    assert_eq!(t.headers[..9], ["STT", "Tên mô hình", "Đơn vị đăng ký", "Lĩnh vực", "Loại chủ thể", "Tên chủ thể thực hiện", "Năm đăng ký", "Cấp đăng ký", "Trạng thái"]);
    let e = &t.rows[3];
    assert_eq!(e[0], Cell::Whole(4));
    assert_eq!(e[1], Cell::from("Hũ gạo, \"tình thương\""));
    assert_eq!(e[2], Cell::from("Xã X2"));
    assert_eq!(e[3], Cell::from("Văn hóa – xã hội"));
    assert_eq!(e[4], Cell::from("Cá nhân"));
    assert_eq!(e[6], Cell::Whole(2024));
    assert_eq!(e[7], Cell::from("Cấp cơ sở"));
    assert_eq!(e[8], Cell::from(Status::Exemplary.label()), "replayed from the log (the stored status was never set)");
    assert_eq!(e[9], Cell::Date(day("2024-03-01")));
    assert_eq!(e[10], Cell::Date(day("2025-02-01")), "recognised on");
    assert_eq!(e[11], Cell::from("Cấp huyện"), "exemplary at district level");
    assert_eq!((e[12].clone(), e[13].clone()), (Cell::Whole(1), Cell::Whole(2)), "one commendation; X1 and X3 (twice) are two points");
    let b = &t.rows[1];
    assert_eq!((b[8].clone(), b[10].clone(), b[11].clone()), (Cell::from("Đăng ký"), Cell::Empty, Cell::Empty));

    let mut book = open(&xlsx(std::slice::from_ref(&t)).unwrap());
    let range = book.worksheet_range("Danh sách mô hình").unwrap();
    assert_eq!(range.get_value((2 + 3, 6)), Some(&Data::Float(2024.0)), "the year is a number");
    assert!(matches!(range.get_value((2 + 3, 9)), Some(Data::DateTime(d)) if d.as_f64() == serial(day("2024-03-01"))));
    let text = csv(&t);
    let mut reader = ::csv::Reader::from_reader(&text[3..]);
    let rows: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[3][1], "Hũ gạo, \"tình thương\"");
    assert_eq!(&rows[3][9], "2024-03-01");
}

#[test]
fn a_reports_tables_are_its_figures_breakdowns_pivot_coverage_and_annex() {
    let mut sheet = report();
    sheet.contest_prizes = vec![crate::domain::report::ContestPrizeEntry {
        contest: "c".into(),
        contest_name: "Hội thi “Dân vận khéo” năm 2025".into(),
        level: Level::District,
        organiser: "Huyện ủy D".into(),
        published: day("2025-11-20"),
        prize: crate::domain::contest::PrizeKind::First,
        team: "Đội xã X1".into(),
        unit: "X1".into(),
        unit_name: "Xã X1".into(),
    }];
    let tables = report_tables(&sheet);
    let names: Vec<&str> = tables.iter().map(|t| t.sheet.as_str()).collect();
    assert_eq!(names, vec![FIGURES, "Theo đơn vị", "Theo loại chủ thể", "Theo lĩnh vực", "Theo cấp", "Theo năm", PIVOT, COVERAGE, NOT_REGISTERING, EXEMPLARY, COMMENDATIONS, REPLICATED, CONTEST_PRIZES]);
    assert!(tables.iter().all(|t| t.title.contains("Xã D") && t.title.contains("năm 2025")), "each title names the scope and period");

    let figures = &tables[0];
    let value = |label: &str| figures.rows.iter().find(|r| r[0] == Cell::from(label)).map(|r| r[1].clone());
    let f = &sheet.figures;
    assert_eq!(value("Đăng ký trong kỳ"), Some(Cell::from(f.registered)));
    assert_eq!(value("Tổng số tính đến ngày 31/12/2025"), Some(Cell::from(f.total)));
    assert_eq!(value("Tình trạng: Dừng"), Some(Cell::Whole(1)));
    assert_eq!(value("Công nhận trong kỳ"), Some(Cell::Whole(2)), "a in July, e in February");
    assert_eq!(value("Điển hình – Cấp huyện"), Some(Cell::Whole(1)));
    assert_eq!(value("Khen thưởng – Giấy khen"), Some(Cell::Whole(1)));
    assert_eq!(value("Điểm nhân rộng"), Some(Cell::Whole(2)));
    assert_eq!(figures.rows.len(), figure_rows(f, sheet.request.period.to).len());

    // A breakdown: one row per value, one column per figure, the whole scope's total last.
    let by_unit = &tables[1];
    assert_eq!(by_unit.headers.len(), 1 + figures.rows.len());
    assert_eq!(by_unit.rows.len(), sheet.breakdown(Dimension::Unit).unwrap().rows.len() + 1);
    assert_eq!(by_unit.rows.last().unwrap()[0], Cell::from(TOTAL));
    for column in 1..by_unit.headers.len() {
        let sum: i64 = by_unit.rows[..by_unit.rows.len() - 1].iter().map(|r| if let Cell::Whole(n) = r[column] { n } else { 0 }).sum();
        assert_eq!(Cell::Whole(sum), by_unit.rows.last().unwrap()[column], "column {} adds up", by_unit.headers[column]);
    }

    let pivot = &tables[6];
    assert_eq!(pivot.headers.first().map(String::as_str), Some("Đơn vị \\ Tình trạng"));
    assert_eq!(pivot.headers.last().map(String::as_str), Some(TOTAL));
    assert_eq!(pivot.rows.last().unwrap().last(), Some(&Cell::from(sheet.pivot.total)));

    let coverage = &tables[7];
    assert_eq!(coverage.rows[0][1], Cell::Whole(3));
    assert_eq!(coverage.rows[1][1], Cell::Whole(1), "only X1 registered in 2025 (a, b); X2's e is of 2024");
    assert_eq!(coverage.rows[2][1], Cell::Whole(2));
    assert_eq!(coverage.rows[3][1], Cell::Decimal(33.33));
    assert_eq!(tables[8].rows.iter().map(|r| r[1].clone()).collect::<Vec<_>>(), vec![Cell::from("X2"), Cell::from("X3")]);

    let exemplary = &tables[9];
    assert_eq!(exemplary.rows.len(), 1);
    assert_eq!(exemplary.rows[0].last(), Some(&Cell::from("Cấp huyện")));
    let commendations = &tables[10];
    assert_eq!(commendations.rows[0][3..], [Cell::from("Chi hội e"), Cell::from("Giấy khen"), Cell::from("UBND huyện"), Cell::from("12/QĐ-UBND"), Cell::Date(day("2025-06-10"))]);
    let replicated = &tables[11];
    assert_eq!(replicated.rows[0][4..], [Cell::Whole(2), Cell::from("Xã X1; Xã X3"), Cell::Date(day("2025-04-01"))]);

    let prizes = &tables[12];
    assert_eq!(prizes.rows[0][1..], [
        Cell::from("Hội thi “Dân vận khéo” năm 2025"), Cell::from("Cấp huyện"), Cell::from("Huyện ủy D"), Cell::Date(day("2025-11-20")),
        Cell::from("Giải Nhất"), Cell::from("Đội xã X1"), Cell::from("Xã X1"),
    ]);

    // The whole workbook is writable, and reads back with the same numbers.
    let mut book = open(&xlsx(&tables).unwrap());
    assert_eq!(book.sheet_names(), names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    let range = book.worksheet_range(FIGURES).unwrap();
    assert_eq!(range.get_value((1, 0)), Some(&Data::String("Chỉ tiêu".into())));
    for (r, row) in figures.rows.iter().enumerate() {
        let Cell::Whole(n) = row[1] else { panic!("counts are whole numbers") };
        assert_eq!(range.get_value((2 + r as u32, 1)), Some(&Data::Float(n as f64)));
    }
}
