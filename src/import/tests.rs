use super::read::{ReadError, read_csv, read_file};
use super::*;
use crate::domain::report::ModelFacts;
use crate::domain::{Grant, Role};

const TREE: &str = "mã,tên,loại,cấp,mã cấp trên,cụm
CB,Tỉnh ủy Cao Bằng,tinh,tỉnh,,
CB-HA,Huyện ủy Hà Quảng,huyện/quận,huyện,CB,
CB-BANBO,Xã Bản Bo,Xã/phường,cơ sở,CB-HA,
CB-TRUONGSON,Xã Trường Sơn,xa,co so,CB-HA,
CB-TS2,Xã Trường Sơn,xa,co so,CB,
CB-NAPONG,Thôn Nà Pồng,thon,co_so,CB-BANBO,
";

/// 2026-12-02 10:00 in Vietnam.
const NOW: i64 = 1_796_180_400_000;

fn tree() -> UnitTree {
    UnitTree::from_csv(TREE).unwrap()
}

fn access(grants: &[(&str, Role)]) -> Access {
    let grants: Vec<Grant> = grants.iter().map(|(u, r)| Grant { unit: u.to_string(), role: *r }).collect();
    Access::new(&grants, &tree())
}

fn plan_csv(text: &str, access: &Access) -> Plan {
    let sheet = read_csv(text).unwrap();
    let mapping = Mapping::guess(&sheet.headers);
    assert!(mapping.problems(&sheet.headers).is_empty(), "{:?}", mapping.problems(&sheet.headers));
    let tree = tree();
    let who = Importer { username: "bx", display_name: "Người bình xét", access, tree: &tree, custom_fields: &[], file_name: "ds.csv", now_ms: NOW };
    plan(&sheet, &mapping, &who)
}

fn province_reviewer() -> Access {
    access(&[("CB", Role::Reviewer)])
}

fn messages(plan: &Plan) -> Vec<String> {
    plan.errors.iter().map(|e| e.to_string()).collect()
}

#[test]
fn headers_match_in_vietnamese_or_english_in_any_order_ignoring_case_diacritics_and_punctuation() {
    let headers: Vec<String> =
        ["STT", "NĂM", "tên mô hình", "Don vi", "Lĩnh  vực:", "Owner name", "Cấp công nhận", "Ghi chú riêng"].iter().map(|s| s.to_string()).collect();
    let mut mapping = Mapping::guess(&headers);
    assert_eq!(
        mapping.0,
        vec![
            Target::Ignore,
            Target::Column(Column::Year),
            Target::Column(Column::Name),
            Target::Column(Column::Unit),
            Target::Column(Column::Field),
            Target::Column(Column::OwnerName),
            Target::Column(Column::RecognisedLevel),
            Target::Unknown,
        ]
    );
    let problems = mapping.problems(&headers);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("“Ghi chú riêng” (cột H)"), "{problems:?}");
    mapping.set(7, Target::Column(Column::Situation));
    assert!(mapping.problems(&headers).is_empty());
    mapping.set(3, Target::Ignore);
    mapping.set(6, Target::Column(Column::Situation));
    let problems = mapping.problems(&headers);
    assert!(problems.iter().any(|p| p.contains("Nhiều cột cùng là “Thực trạng, lý do”")), "{problems:?}");
    assert!(problems.iter().any(|p| p == "Tệp thiếu cột “Đơn vị”."), "{problems:?}");
    assert_eq!(spreadsheet_column(25), "Z");
    assert_eq!(spreadsheet_column(26), "AA");
}

#[test]
fn a_recognised_model_keeps_its_state_as_dated_steps_and_a_commendation_in_the_importers_name() {
    let plan = plan_csv(
        "Tên mô hình;Đơn vị;Lĩnh vực;Năm;Tình trạng;Cấp công nhận;Số quyết định;Ngày quyết định;Hình thức khen thưởng;Sản phẩm kiểm chứng được
Đường bê tông;CB-BANBO;Kinh tế;2015;Khen thưởng;huyện;123-QĐ/HU;20/12/2015;Giấy khen;\"Đường: 3,5 km; Hộ hiến đất: 1.200 hộ\"
Sân chơi;xa ban bo;Văn hóa - xã hội;2016;Được công nhận;Huyện;45/QĐ;5/6/2016;;
",
        &province_reviewer(),
    );
    assert!(plan.errors.is_empty(), "{:?}", messages(&plan));
    assert_eq!(plan.rows, 2);
    let first = &plan.models[0].model;
    assert_eq!((first.unit.as_str(), first.unit_name.as_str(), first.owner_name.as_str()), ("CB-BANBO", "Xã Bản Bo", "Xã Bản Bo"));
    assert_eq!(first.status, Status::Commended);
    let actions: Vec<&str> = first.transitions.iter().map(|t| t.action.as_str()).collect();
    assert_eq!(actions, ["bat_dau", "de_nghi", "cong_nhan", "khen_thuong"]);
    assert!(first.transitions.iter().all(|t| t.by == "bx" && t.reason.contains("Nhập từ tệp ds.csv, dòng 2")));
    assert_eq!(first.transitions[2].level, "huyen");
    assert_eq!(first.commendations.len(), 1);
    let c = &first.commendations[0];
    assert_eq!((c.form.as_str(), c.decision_number.as_str(), c.decision_date.as_str(), c.level.as_str()), ("giay_khen", "123-QĐ/HU", "2015-12-20", "huyen"));
    assert_eq!(first.indicators.iter().map(|i| (i.name.as_str(), i.target, i.unit.as_str())).collect::<Vec<_>>(), [("Đường", 3.5, "km"), ("Hộ hiến đất", 1200.0, "hộ")]);
    let origin = first.imported.as_ref().unwrap();
    assert_eq!((origin.file.as_str(), origin.line, origin.by.as_str()), ("ds.csv", 2, "bx"));
    // Reports count it in 2015: registered on 1/1/2015 (its first step), commended on the decision's day.
    let facts = ModelFacts::of(first);
    assert_eq!(facts.registered_on, Date::first_of_year(2015));
    assert_eq!(facts.commendations[0].on, Date { year: 2015, month: 12, day: 20 });
    let second = &plan.models[1].model;
    assert_eq!((second.status, second.field.as_str()), (Status::Recognised, "van_hoa_xa_hoi"));
    let recognised = second.transitions.iter().find(|t| t.action == "cong_nhan").unwrap();
    assert_eq!(Date::in_vietnam(recognised.at), Date { year: 2016, month: 6, day: 5 });
    assert!(recognised.reason.starts_with("Quyết định số 45/QĐ ngày 05/06/2016."), "{}", recognised.reason);
}

#[test]
fn every_kind_of_bad_row_is_reported_with_its_line_and_a_reason_and_makes_no_model() {
    let long = "x".repeat(201);
    let text = format!(
        "Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng,Loại chủ thể,Tên chủ thể,Ngày bắt đầu,Hình thức khen thưởng,Sản phẩm kiểm chứng được
Tốt,CB-BANBO,Kinh tế,2015,,,,,,
,CB-BANBO,Kinh tế,2015,,,,,,
Không đơn vị,Xã Không Có,Kinh tế,2015,,,,,,
Tên trùng đơn vị,Xã Trường Sơn,Kinh tế,2015,,,,,,
Năm sai,CB-BANBO,Kinh tế,1999,,,,,,
Lĩnh vực sai,CB-BANBO,Nông nghiệp,2015,,,,,,
Tình trạng sai,CB-BANBO,Kinh tế,2015,Tạm hoãn,,,,,
Ngày tương lai,CB-BANBO,Kinh tế,2020,,,,31/12/2027,,
Ngày sai,CB-BANBO,Kinh tế,2020,,,,31/02/2020,,
Khen chưa công nhận,CB-BANBO,Kinh tế,2020,Đang thực hiện,,,,Giấy khen,
Cá nhân không tên,CB-BANBO,Kinh tế,2020,,Cá nhân,,,,
Chỉ tiêu sai,CB-BANBO,Kinh tế,2020,,,,,,Đường bê tông
{long},CB-BANBO,Kinh tế,2020,,,,,,
Tốt,cb-banbo,KINH TẾ,2015,,,,,,
Ngoài quyền,CB-NAPONG,Kinh tế,2015,,,,,,
"
    );
    // A reviewer of the district: Nà Pồng (a village of Bản Bo) is in it, so use a commune cadre.
    let cadre = access(&[("CB-BANBO", Role::Member)]);
    let plan = plan_csv(&text, &cadre);
    let by_line: Vec<(usize, String)> = plan.errors.iter().map(|e| (e.row, e.message.clone())).collect();
    let has = |line: usize, part: &str| by_line.iter().any(|(l, m)| *l == line && m.contains(part));
    assert!(has(3, "Thiếu tên mô hình"), "{by_line:?}");
    assert!(has(4, "Không có đơn vị “Xã Không Có”"), "{by_line:?}");
    assert!(has(5, "trùng với nhiều đơn vị (CB-TRUONGSON, CB-TS2)"), "{by_line:?}");
    assert!(has(6, "Năm “1999” không hợp lệ"), "{by_line:?}");
    assert!(has(7, "Lĩnh vực “Nông nghiệp” không có"), "{by_line:?}");
    assert!(has(8, "Tình trạng “Tạm hoãn” không có"), "{by_line:?}");
    assert!(has(9, "31/12/2027 là ngày sau hôm nay"), "{by_line:?}");
    assert!(has(10, "“31/02/2020” không phải ngày hợp lệ"), "{by_line:?}");
    assert!(has(11, "chỉ mô hình đã được công nhận mới được khen thưởng"), "{by_line:?}");
    assert!(has(12, "Thiếu tên chủ thể (cá nhân)"), "{by_line:?}");
    assert!(has(13, "phải ghi dạng “tên: số đơn vị tính”"), "{by_line:?}");
    assert!(has(14, "Tên mô hình dài quá 200 ký tự (hiện có 201)"), "{by_line:?}");
    assert!(has(15, "Trùng với dòng 2"), "{by_line:?}");
    assert!(has(16, "không có quyền nhập mô hình cho đơn vị Thôn Nà Pồng"), "{by_line:?}");
    assert_eq!(plan.models.iter().map(|m| m.line).collect::<Vec<_>>(), [2]);
    assert_eq!(plan.bad_rows(), 14);
    assert_eq!(plan.unknown_units, ["Xã Không Có", "Xã Trường Sơn", "CB-NAPONG"]);
}

#[test]
fn recognised_states_need_a_reviewer_at_the_level_recognised() {
    let file = "Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng,Cấp công nhận
Đường,CB-BANBO,Kinh tế,2015,Công nhận,Huyện
Sân,CB-BANBO,Kinh tế,2015,Đang thực hiện,
Chợ,CB-BANBO,Kinh tế,2015,Điển hình,Tỉnh
";
    let cases: [(&str, Access, &[usize]); 5] = [
        ("cadre", access(&[("CB-BANBO", Role::Member)]), &[3]),
        ("commune reviewer", access(&[("CB-BANBO", Role::Reviewer)]), &[3]),
        ("district reviewer", access(&[("CB-HA", Role::Reviewer)]), &[2, 3]),
        ("province reviewer", province_reviewer(), &[2, 3, 4]),
        ("administrator", access(&[("CB", Role::Admin)]), &[3]),
    ];
    for (who, access, good) in cases {
        let plan = plan_csv(file, &access);
        assert_eq!(plan.models.iter().map(|m| m.line).collect::<Vec<_>>(), good, "{who}: {:?}", messages(&plan));
    }
    let commune = plan_csv(file, &access(&[("CB-BANBO", Role::Reviewer)]));
    assert!(messages(&commune).iter().any(|m| m.contains("Bạn bình xét ở cấp cơ sở, không được nhập mô hình được công nhận hay khen thưởng ở cấp huyện")), "{:?}", messages(&commune));
    let cadre = plan_csv(file, &access(&[("CB-BANBO", Role::Member)]));
    assert!(messages(&cadre).iter().any(|m| m.starts_with("Dòng 2: Chỉ người bình xét")), "{:?}", messages(&cadre));
}

#[test]
fn check_import_refuses_what_a_modified_client_could_put_in_an_imported_document() {
    let reviewer = access(&[("CB-HA", Role::Reviewer)]);
    let plan = plan_csv("Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng\nĐường,CB-BANBO,Kinh tế,2015,Công nhận\n", &reviewer);
    let good = plan.models[0].model.clone();
    assert_eq!(check_import(&good, "bx", &reviewer, NOW), Ok(()));
    let refused = |m: &Model| check_import(m, "bx", &reviewer, NOW).unwrap_err();
    // Someone else's name on the origin, a step or a commendation.
    let mut m = good.clone();
    m.imported.as_mut().unwrap().by = "other".into();
    assert!(refused(&m).contains("đúng tên người đang đăng nhập"));
    let mut m = good.clone();
    m.transitions[1].by = "other".into();
    assert!(refused(&m).contains("dưới tên người đang đăng nhập"));
    // A step dated ahead of the server's clock, steps out of order, or a history the rules do not allow.
    let mut m = good.clone();
    m.transitions[2].at = NOW + 2 * 3_600_000;
    assert!(refused(&m).contains("sau giờ máy chủ"));
    let mut m = good.clone();
    m.transitions.swap(0, 1);
    assert!(refused(&m).contains("thứ tự thời gian"));
    let mut m = good.clone();
    m.transitions.remove(1);
    assert!(refused(&m).contains("không theo đúng quy trình"));
    // Recognised above the reviewer's level; a duplicate id.
    let mut m = good.clone();
    m.transitions[2].level = "tinh".into();
    assert!(refused(&m).contains("không được nhập mô hình được công nhận hay khen thưởng ở cấp tỉnh"));
    let mut m = good.clone();
    m.transitions[1].id = m.transitions[0].id.clone();
    assert!(refused(&m).contains("trùng mã"));
    // Records that are written later in the app, not by an import.
    let mut m = good.clone();
    m.journal.push(crate::domain::JournalEntry {
        id: "j".into(),
        date: "2015-01-01".into(),
        text: "x".into(),
        updates: vec![],
        photos: vec![],
        location: None,
        place: String::new(),
        by: "bx".into(),
        by_name: "B".into(),
        at: 1,
    });
    assert!(refused(&m).contains("nhật ký"));
    // A unit outside the reviewer's subtree; no origin at all.
    let mut m = good.clone();
    m.unit = "CB-TS2".into();
    assert!(refused(&m).contains("không có quyền nhập"));
    let mut m = good;
    m.imported = None;
    assert!(refused(&m).contains("nguồn nhập"));
}

#[test]
fn the_same_row_gets_the_same_id_in_every_import_and_a_different_row_another() {
    let file = "Tên mô hình,Đơn vị,Lĩnh vực,Năm\nĐường  bê tông,CB-BANBO,Kinh tế,2015\n";
    let a = plan_csv(file, &province_reviewer());
    let b = plan_csv(&file.replace("Đường  bê tông", "đường bê TÔNG").replace("CB-BANBO", "Xã Bản Bo"), &province_reviewer());
    assert_eq!(a.models[0].model.id, b.models[0].model.id, "case, spacing and a unit named instead of coded are the same row");
    let c = plan_csv(&file.replace("2015", "2016"), &province_reviewer());
    assert_ne!(a.models[0].model.id, c.models[0].model.id);
    assert_eq!(uuid::Uuid::parse_str(&a.models[0].model.id).unwrap().get_version_num(), 4);
}

#[test]
fn an_imported_model_survives_its_document_and_is_readable_by_the_app() {
    let plan = plan_csv("Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng,Hình thức khen thưởng\nĐường,CB-BANBO,Kinh tế,2015,,Bằng khen\n", &province_reviewer());
    let model = &plan.models[0].model;
    let doc = crate::doc::create(model, NOW).unwrap();
    let back = crate::doc::read_model(&doc).unwrap();
    assert_eq!(&back, model);
    assert_eq!(back.status, Status::Commended);
}

#[test]
fn csv_in_utf8_with_bom_in_windows_1258_and_utf16_reads_and_tcvn3_is_refused_with_what_to_do() {
    let text = "Tên mô hình;Đơn vị;Năm\r\n\"Dân vận khéo; xây dựng\";Xã Bản Bo;2015\r\n";
    let bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
    let sheet = read_file("ds.csv", &bom).unwrap();
    assert_eq!(sheet.headers, ["Tên mô hình", "Đơn vị", "Năm"]);
    assert_eq!(sheet.rows[0].cells[0], "Dân vận khéo; xây dựng");
    assert_eq!(sheet.rows[0].line, 2);
    // Windows-1258: "Xã" is X, a, combining tilde (0xDE); "Bản" is B, a, combining hook (0xD2), n.
    let cp1258 = b"T\xEAn m\xF4 hi\xCCnh,\xD0\xF5n vi\xF2,N\xE3m\r\nD\xE2n,Xa\xDE Ba\xD2n Bo,2015\r\n";
    let sheet = read_file("cu.csv", cp1258).unwrap();
    assert_eq!(sheet.headers, ["Tên mô hình", "Đơn vị", "Năm"]);
    assert_eq!(sheet.rows[0].cells[1], "Xã Bản Bo");
    assert!(sheet.rows[0].cells[1].chars().all(|c| !('\u{300}'..='\u{36f}').contains(&c)), "composed (NFC)");
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("Tên mô hình\tNăm\nA\t2015\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    assert_eq!(read_file("unicode.txt", &utf16).unwrap().rows[0].cells, ["A", "2015"]);
    // TCVN3 (ABC): "Tên mô hình" is T 0xAA n m 0xAB h 0xD7 nh; "Đơn vị" is 0xA7 0xAC n v 0xDE.
    let tcvn3 = b"T\xAAn m\xAB h\xB8nh,\xA7\xACn v\xDE\r\nD\xA9n,X\xB7 B\xB6n Bo\r\n";
    assert_eq!(read_file("abc.csv", tcvn3), Err(ReadError::Tcvn3));
    assert!(ReadError::Tcvn3.to_string().contains("Unikey"));
    assert!(matches!(read_file("ds.xlsx", b"not a workbook"), Err(ReadError::Workbook(_))));
    assert_eq!(read_file("ds.pdf", b"%PDF"), Err(ReadError::UnknownKind("pdf".into())));
    assert_eq!(read_file("trong.csv", b"\n\n"), Err(ReadError::Empty));
}

#[test]
fn an_xlsx_with_a_title_above_the_header_and_real_date_cells_reads_as_a_sheet() {
    use crate::export::{Cell, Table};
    let mut table = Table::new("Danh sách", "DANH SÁCH MÔ HÌNH DÂN VẬN KHÉO NĂM 2015", &["STT", "Tên mô hình", "Đơn vị", "Năm", "Ngày quyết định"]);
    table.push(vec![Cell::from(1usize), Cell::from("Đường"), Cell::from("CB-BANBO"), Cell::from(2015u32), Cell::from(Some(Date { year: 2015, month: 12, day: 20 }))]);
    let bytes = crate::export::xlsx(&[table]).unwrap();
    let sheet = read_file("ds.xlsx", &bytes).unwrap();
    assert_eq!(sheet.header_line, 2, "the title row is skipped");
    assert_eq!(sheet.headers, ["STT", "Tên mô hình", "Đơn vị", "Năm", "Ngày quyết định"]);
    assert_eq!(sheet.rows[0].line, 3);
    assert_eq!(sheet.rows[0].cells, ["1", "Đường", "CB-BANBO", "2015", "2015-12-20"]);
}

#[test]
fn the_template_reads_back_as_one_good_model_in_both_formats() {
    let tree = tree();
    let reviewer = province_reviewer();
    for (name, bytes) in [("mau.xlsx", template::xlsx().unwrap()), ("mau.csv", template::csv())] {
        let sheet = read_file(name, &bytes).unwrap();
        let mapping = Mapping::guess(&sheet.headers);
        assert!(mapping.problems(&sheet.headers).is_empty(), "{name}: {:?}", mapping.problems(&sheet.headers));
        assert!(mapping.0.iter().all(|t| matches!(t, Target::Column(_))), "{name}: every column of the template is known");
        let who = Importer { username: "bx", display_name: "B", access: &reviewer, tree: &tree, custom_fields: &[], file_name: name, now_ms: NOW };
        let plan = plan(&sheet, &mapping, &who);
        assert!(plan.errors.is_empty(), "{name}: {:?}", messages(&plan));
        assert_eq!(plan.models.len(), 1);
        assert_eq!(plan.models[0].model.status, Status::Recognised);
    }
}

#[test]
fn indicator_figures_are_read_as_vietnamese_write_them() {
    let targets = |text: &str| parse_indicators(text, "m").unwrap().iter().map(|i| i.target).collect::<Vec<_>>();
    assert_eq!(targets("A: 1.200 hộ; B: 3,5 km; C: 12.500.000 đồng; D: 2.5 ha; E: 1.200,5 tấn"), [1200.0, 3.5, 12_500_000.0, 2.5, 1200.5]);
    assert!(parse_indicators("A: nhiều", "m").unwrap_err().starts_with("Mục tiêu của sản phẩm kiểm chứng thứ 1"));
}

#[test]
fn days_are_read_as_vietnamese_write_them() {
    let d = |y, m, day| Some(Date { year: y, month: m, day });
    assert_eq!(parse_day("30/6/2015"), d(2015, 6, 30));
    assert_eq!(parse_day("30-06-2015"), d(2015, 6, 30));
    assert_eq!(parse_day("30.06.2015"), d(2015, 6, 30));
    assert_eq!(parse_day("2015-06-30"), d(2015, 6, 30));
    assert_eq!(parse_day("2015-06-30T00:00:00"), d(2015, 6, 30));
    assert_eq!(parse_day("06/30/2015"), None, "month 30");
    assert_eq!(parse_day("30/6/15"), None, "two-digit years are ambiguous");
    assert_eq!(parse_day("2015-06-30abc"), None);
}

#[test]
fn an_xlsx_keeps_each_cell_in_its_own_column_and_only_the_cells_that_hold_something() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    // The list starts at column C, and one model sits far down, after a gap.
    for (c, h) in ["Tên mô hình", "Đơn vị", "Năm", "Người theo dõi"].iter().enumerate() {
        sheet.write_string(0, c as u16 + 2, *h).unwrap();
    }
    sheet.write_string(1, 2, "Đường").unwrap();
    sheet.write_number(1, 4, 2015).unwrap();
    sheet.write_string(250_000, 2, "Sân chơi").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let sheet = read_file("ds.xlsx", &bytes).unwrap();
    assert_eq!(sheet.headers, ["", "", "Tên mô hình", "Đơn vị", "Năm", "Người theo dõi"]);
    assert_eq!(sheet.rows.len(), 2, "the empty rows between are not rows");
    assert_eq!(sheet.rows[0].cells, ["", "", "Đường", "", "2015"]);
    assert_eq!((sheet.rows[1].line, sheet.rows[1].cells[2].as_str()), (250_001, "Sân chơi"));
    let mapping = Mapping::guess(&sheet.headers);
    assert!(mapping.problems(&sheet.headers).iter().any(|p| p.contains("“Người theo dõi” (cột F)")), "letters as the spreadsheet shows them");
}

#[test]
fn a_workbook_is_inflated_only_up_to_the_limit_before_any_parser_reads_it() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Tên mô hình").unwrap();
    let long = "a".repeat(30_000);
    for row in 1..200 {
        sheet.write_string(row, 0, format!("{row} {long}")).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    assert!(bytes.len() < 100_000, "{} bytes compress well", bytes.len());
    assert_eq!(super::read::check_zip(&bytes, 1 << 20), Err(ReadError::Inflated { max_mb: 1 }));
    assert!(super::read::check_zip(&bytes, 64 << 20).is_ok());
    // The same file is read whole under the real limit (cells cut at their limit).
    assert_eq!(read_file("ds.xlsx", &bytes).unwrap().rows.len(), 199);
    assert!(super::read::read_upload("ds.ods", &bytes).is_ok(), "an XLSX under any name is an XLSX");
}

#[test]
fn a_title_is_skipped_even_when_the_name_column_has_a_header_to_map() {
    let sheet = read_csv("DANH SÁCH MÔ HÌNH HUYỆN\nTên MH,Đơn vị,Lĩnh vực,Năm\nĐường,BANBO,Kinh tế,2015\n").unwrap();
    assert_eq!((sheet.header_line, sheet.headers[0].as_str()), (2, "Tên MH"));
    let problems = Mapping::guess(&sheet.headers).problems(&sheet.headers);
    assert!(problems[0].contains("Chưa biết cột “Tên MH” (cột A)"), "{problems:?}");
}
