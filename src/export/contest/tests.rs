//! A contest built with the domain's own API (set up, registration, scoring, closing, prizes), its
//! tables checked cell by cell, and the files read back: XLSX with calamine, CSV with the csv
//! crate's reader.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use super::*;
use crate::domain::contest::{Excused, Judge, Prize, PrizeQuotas, ScoreInput};
use crate::domain::{Cluster, Level, Unit, UnitKind, UnitTree};
use crate::export::{ExportError, csv, xlsx};

const P1: &str = "so-khao-CUM-1";
const P2: &str = "so-khao-CUM-2";
const FINAL: &str = "chung-khao";
const JUDGES: [&str; 3] = ["gk1", "gk2", "gk3"];

/// Ba Vì: Cụm 1 (X1–X3) and Cụm 2 (X4, X5).
fn tree() -> UnitTree {
    let unit = |code: &str, name: &str, parent: Option<&str>, cluster: Option<&str>| Unit {
        code: code.into(),
        name: name.into(),
        kind: UnitKind::Commune,
        level: if parent.is_some() { Level::Grassroots } else { Level::District },
        parent: parent.map(Into::into),
        cluster: cluster.map(Into::into),
    };
    let cluster = |code: &str, name: &str| Cluster { code: code.into(), name: name.into(), head: None, deputy: None };
    UnitTree::from_units(
        vec![
            unit("BAVI", "Huyện ủy Ba Vì", None, None),
            unit("X1", "Xã Tản Lĩnh", Some("BAVI"), Some("CUM-1")),
            unit("X2", "Xã Ba Trại", Some("BAVI"), Some("CUM-1")),
            unit("X3", "Xã Cẩm Lĩnh", Some("BAVI"), Some("CUM-1")),
            unit("X4", "Xã Minh Quang", Some("BAVI"), Some("CUM-2")),
            unit("X5", "Xã Ba Vì", Some("BAVI"), Some("CUM-2")),
        ],
        vec![cluster("CUM-1", "Cụm 1"), cluster("CUM-2", "Cụm 2")],
    )
}

/// `judge` scores `team` in `round`: points for the three parts (empty: not given), a comment on
/// the first part.
fn give(c: &mut Contest, round: &str, judge: &str, team: &str, points: [&str; 3], comment: &str) {
    let rows: Vec<ScoreInput> = points
        .iter()
        .enumerate()
        .map(|(i, p)| ScoreInput { team: team.into(), part: format!("p{}", i + 1), points: p.to_string(), comment: if i == 0 { comment.into() } else { String::new() } })
        .collect();
    let prefix = format!("{round}-{judge}-{team}-{}", c.sheets.iter().map(|s| s.changes.len()).sum::<usize>());
    let mut n = 0;
    c.score(round, judge, &rows, 10, move || {
        n += 1;
        format!("{prefix}-{n}")
    })
    .unwrap();
}

/// Every judge gives `team` these points.
fn give_all(c: &mut Contest, round: &str, team: &str, points: [&str; 3]) {
    for judge in JUDGES {
        give(c, round, judge, team, points, "");
    }
}

/// Ba Vì's contest, set up and registered, nothing scored: the first preliminary dated and placed.
fn registered() -> Contest {
    let mut c = Contest::new("c1".into(), "Hội thi Dân vận khéo huyện Ba Vì", Level::District, 2026, "BAVI", "bt", 1);
    assert_eq!(c.add_preliminaries(&tree()), 2);
    for r in &mut c.rounds {
        r.judges = JUDGES.iter().map(|j| Judge { username: j.to_string(), name: format!("Giám khảo {}", &j[2..]) }).collect();
    }
    c.rounds[0].date = "2026-03-15".into();
    c.rounds[0].venue = "Hội trường UBND xã Tản Lĩnh".into();
    for u in ["X1", "X2", "X3", "X4", "X5"] {
        c.register_team(format!("t{u}"), u, &format!("Đội {u}"), "Nguyễn Văn A\nLò Thị B", "bt", 2).unwrap();
    }
    c
}

/// Cụm 1 scored and closed: X2 and X3 tie on 90 (first, both through), X1 85,33 (26,33 + 20 +
/// 39; third). Cụm 2 scored, gk2 excused from X5, and still open: X4 80,5, X5 70.
fn preliminaries_scored() -> Contest {
    let mut c = registered();
    for (judge, p1) in JUDGES.iter().zip(["25", "26", "28"]) {
        give(&mut c, P1, judge, "tX1", [p1, "20", "39"], if *judge == "gk1" { "Chào hỏi tự nhiên" } else { "" });
    }
    give_all(&mut c, P1, "tX2", ["30", "25", "35"]);
    give_all(&mut c, P1, "tX3", ["25", "25", "40"]);
    c.close_round(P1, "bt", 20).unwrap();
    c.rounds.iter_mut().find(|r| r.id == P2).unwrap().excused.push(Excused { judge: "gk2".into(), team: "tX5".into(), reason: "Người của xã Ba Vì".into() });
    give_all(&mut c, P2, "tX4", ["20,5", "25", "35"]);
    for judge in ["gk1", "gk3"] {
        give(&mut c, P2, judge, "tX5", ["20", "20", "30"], "");
    }
    c
}

/// Both preliminaries closed, the final scored and closed: X2 95, X3 91, X5 86, X4 85,33; the
/// prizes awarded out of order (one Nhất, one Nhì, two Khuyến khích), not yet published.
fn awarded() -> Contest {
    let mut c = preliminaries_scored();
    c.close_round(P2, "bt", 21).unwrap();
    give_all(&mut c, FINAL, "tX2", ["30", "30", "35"]);
    give_all(&mut c, FINAL, "tX3", ["28", "25", "38"]);
    give_all(&mut c, FINAL, "tX5", ["25", "25", "36"]);
    for (judge, p1) in JUDGES.iter().zip(["25", "25", "26"]) {
        give(&mut c, FINAL, judge, "tX4", [p1, "20", "40"], "");
    }
    c.close_round(FINAL, "bt", 30).unwrap();
    c.quotas = PrizeQuotas { first: 1, second: 1, third: 0, consolation: 2 };
    let prize = |team: &str, kind| Prize { team: team.into(), kind };
    c.award(vec![prize("tX4", PrizeKind::Consolation), prize("tX2", PrizeKind::First), prize("tX5", PrizeKind::Consolation), prize("tX3", PrizeKind::Second)]).unwrap();
    c
}

fn column(t: &Table, header: &str) -> usize {
    t.headers.iter().position(|h| h == header).unwrap_or_else(|| panic!("no column {header} in {:?}", t.headers))
}

fn text(s: &str) -> Cell {
    Cell::from(s)
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a readable XLSX")
}

#[test]
fn a_preliminarys_results_are_in_ranking_order_with_shared_ranks_and_qualifiers() {
    let c = preliminaries_scored();
    let t = round_table(&c, P1).unwrap();
    assert_eq!(t.sheet, "Sơ khảo Cụm 1");
    assert_eq!(
        t.title,
        "Kết quả vòng sơ khảo — Cụm 1 — Hội thi Dân vận khéo huyện Ba Vì 2026 (ngày 15/03/2026, tại Hội trường UBND xã Tản Lĩnh)"
    );
    assert_eq!(
        t.headers,
        [
            "Hạng",
            "Đội",
            "Đơn vị",
            "Chào hỏi, giới thiệu đơn vị (tối đa 30)",
            "Kiến thức và xử lý tình huống (tối đa 30)",
            "Tiểu phẩm (tối đa 40)",
            "Tổng điểm",
            "Ghi chú"
        ]
    );
    let lines: Vec<(Cell, Cell, Cell, Cell, Cell)> =
        t.rows.iter().map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[6].clone(), r[7].clone())).collect();
    assert_eq!(
        lines,
        [
            (Cell::Whole(1), text("Đội X2"), text("X2"), Cell::Decimal(90.0), text("Đồng hạng; Vào chung khảo")),
            (Cell::Whole(1), text("Đội X3"), text("X3"), Cell::Decimal(90.0), text("Đồng hạng; Vào chung khảo")),
            (Cell::Whole(3), text("Đội X1"), text("X1"), Cell::Decimal(85.33), text("")),
        ],
        "tied teams share rank 1, the next is third; X1 (registered first) is not through"
    );
    // The part scores are the judges' means as ranked: (25 + 26 + 28) / 3 = 26,33.
    assert_eq!(t.rows[2][3..6], [Cell::Decimal(26.33), Cell::Decimal(20.0), Cell::Decimal(39.0)]);
    // Exactly what the domain ranked, in hundredths.
    let total = c.results(P1).unwrap().teams.iter().find(|r| r.team == "tX1").unwrap().total;
    assert_eq!((total, t.rows[2][6].clone()), (8533, Cell::Decimal(f64::from(total) / 100.0)));
}

#[test]
fn an_open_round_is_provisional_and_says_whose_scores_are_missing() {
    let mut c = preliminaries_scored();
    let t = round_table(&c, P2).unwrap();
    assert!(t.title.starts_with("Kết quả tạm tính vòng sơ khảo — Cụm 2 — "), "{}", t.title);
    assert!(!t.title.contains("(ngày"), "no date or venue set: {}", t.title);
    let notes = column(&t, "Ghi chú");
    assert_eq!(t.rows.iter().map(|r| (r[1].clone(), r[notes].clone())).collect::<Vec<_>>(), [(text("Đội X4"), text("")), (text("Đội X5"), text(""))]);
    assert_eq!(t.rows[0][column(&t, "Tổng điểm")], Cell::Decimal(80.5));
    assert!(t.rows.iter().all(|r| r[notes] != text(QUALIFIED)), "nobody is through before the round closes");
    // gk3 has not scored X5's play yet.
    for s in c.sheets.iter_mut().filter(|s| s.round == P2 && s.judge == "gk3") {
        s.rows.retain(|r| !(r.team == "tX5" && r.part == "p3"));
    }
    let t = round_table(&c, P2).unwrap();
    assert_eq!(t.rows[1][notes], text(INCOMPLETE));
    assert_eq!(round_table(&c, "khong-co"), None);
}

#[test]
fn the_judges_detail_shows_every_score_given_missing_and_excused() {
    let mut c = preliminaries_scored();
    for s in c.sheets.iter_mut().filter(|s| s.round == P2 && s.judge == "gk3") {
        s.rows.retain(|r| !(r.team == "tX5" && r.part == "p3"));
    }
    let t = round_sheets_table(&c, P2).unwrap();
    assert_eq!(t.sheet, "Sơ khảo Cụm 2 (giám khảo)");
    assert_eq!(t.headers[..3], ["Đội", "Đơn vị", "Giám khảo"]);
    assert_eq!(t.headers[6..], ["Cộng", "Nhận xét"]);
    assert!(t.title.contains("vòng chưa khóa"), "{}", t.title);
    assert_eq!(t.rows.len(), 2 * 3, "team × judge");
    let who: Vec<(Cell, Cell)> = t.rows.iter().map(|r| (r[0].clone(), r[2].clone())).collect();
    assert_eq!(who[..3], [(text("Đội X4"), text("Giám khảo 1")), (text("Đội X4"), text("Giám khảo 2")), (text("Đội X4"), text("Giám khảo 3"))]);
    assert_eq!(t.rows[0][3..7], [Cell::Decimal(20.5), Cell::Decimal(25.0), Cell::Decimal(35.0), Cell::Decimal(80.5)]);
    let gk2_x5 = &t.rows[4];
    assert_eq!((gk2_x5[0].clone(), gk2_x5[2].clone()), (text("Đội X5"), text("Giám khảo 2")));
    assert_eq!(gk2_x5[3..], [text(EXCUSED), text(EXCUSED), text(EXCUSED), Cell::Empty, text("Miễn chấm: Người của xã Ba Vì")]);
    let gk3_x5 = &t.rows[5];
    assert_eq!(gk3_x5[3..7], [Cell::Decimal(20.0), Cell::Decimal(20.0), text(MISSING), Cell::Empty], "no sum while a part is missing");

    // Comments come with their part's label.
    let t = round_sheets_table(&c, P1).unwrap();
    let x1_gk1 = t.rows.iter().find(|r| r[0] == text("Đội X1") && r[2] == text("Giám khảo 1")).unwrap();
    assert_eq!(x1_gk1[3], Cell::Decimal(25.0));
    assert_eq!(x1_gk1.last(), Some(&text("Chào hỏi, giới thiệu đơn vị: Chào hỏi tự nhiên")));
    assert!(!t.title.contains("chưa khóa"));
    assert_eq!(round_sheets_table(&c, "khong-co"), None);
}

#[test]
fn the_final_shows_prizes_and_the_prize_list_is_in_prize_then_ranking_order() {
    let c = awarded();
    let f = final_table(&c).unwrap();
    assert_eq!(f.sheet, "Chung khảo");
    assert_eq!(f.title, "Kết quả vòng chung khảo — Hội thi Dân vận khéo huyện Ba Vì 2026");
    let lines: Vec<(Cell, Cell, Cell, Cell)> = f.rows.iter().map(|r| (r[0].clone(), r[1].clone(), r[6].clone(), r[7].clone())).collect();
    assert_eq!(
        lines,
        [
            (Cell::Whole(1), text("Đội X2"), Cell::Decimal(95.0), text("Giải Nhất")),
            (Cell::Whole(2), text("Đội X3"), Cell::Decimal(91.0), text("Giải Nhì")),
            (Cell::Whole(3), text("Đội X5"), Cell::Decimal(86.0), text("Giải Khuyến khích")),
            (Cell::Whole(4), text("Đội X4"), Cell::Decimal(85.33), text("Giải Khuyến khích")),
        ]
    );
    // Nothing says "Vào chung khảo" in the final.
    assert!(f.rows.iter().all(|r| r[7] != text(QUALIFIED)));

    let p = prize_table(&c);
    assert_eq!(p.sheet, PRIZES);
    assert_eq!(p.headers, ["STT", "Giải", "Đội", "Đơn vị", "Thành viên", "Điểm chung khảo"]);
    assert_eq!(p.title, "Danh sách đội đạt giải — Hội thi Dân vận khéo huyện Ba Vì 2026 (chưa công bố)");
    let members = text("Nguyễn Văn A, Lò Thị B");
    assert_eq!(
        p.rows,
        [
            vec![Cell::Whole(1), text("Giải Nhất"), text("Đội X2"), text("X2"), members.clone(), Cell::Decimal(95.0)],
            vec![Cell::Whole(2), text("Giải Nhì"), text("Đội X3"), text("X3"), members.clone(), Cell::Decimal(91.0)],
            vec![Cell::Whole(3), text("Giải Khuyến khích"), text("Đội X5"), text("X5"), members.clone(), Cell::Decimal(86.0)],
            vec![Cell::Whole(4), text("Giải Khuyến khích"), text("Đội X4"), text("X4"), members, Cell::Decimal(85.33)],
        ],
        "awarded as X4, X2, X5, X3; listed by prize, then X5 (third) before X4 (fourth) whatever their ids"
    );
    let mut published = c.clone();
    published.publish("bt", 40).unwrap();
    assert!(!prize_table(&published).title.contains("chưa công bố"));
}

#[test]
fn a_contest_is_every_round_then_its_judges_then_the_prizes_in_one_workbook() {
    let c = awarded();
    let tables = contest_tables(&c);
    let names: Vec<&str> = tables.iter().map(|t| t.sheet.as_str()).collect();
    assert_eq!(
        names,
        ["Sơ khảo Cụm 1", "Sơ khảo Cụm 1 (giám khảo)", "Sơ khảo Cụm 2", "Sơ khảo Cụm 2 (giám khảo)", "Chung khảo", "Chung khảo (giám khảo)", PRIZES]
    );
    assert_eq!(tables[4], final_table(&c).unwrap());
    assert_eq!(tables[6], prize_table(&c));
    assert!(!contest_tables(&preliminaries_scored()).iter().any(|t| t.sheet == PRIZES), "no prize list before prizes");

    let mut book = open(&xlsx(&tables).unwrap());
    assert_eq!(book.sheet_names(), names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    let range = book.worksheet_range("Sơ khảo Cụm 1").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String(tables[0].title.clone())));
    assert_eq!(range.get_value((1, 6)), Some(&Data::String("Tổng điểm".into())));
    assert_eq!(range.get_value((2, 0)), Some(&Data::Float(1.0)), "the rank is a number");
    assert_eq!(range.get_value((4, 6)), Some(&Data::Float(85.33)), "the total is a number Excel can add up");
    assert_eq!(range.get_value((4, 3)), Some(&Data::Float(26.33)));
    let range = book.worksheet_range(PRIZES).unwrap();
    assert_eq!(range.get_value((2, 4)), Some(&Data::String("Nguyễn Văn A, Lò Thị B".into())));
    assert_eq!(range.get_value((5, 5)), Some(&Data::Float(85.33)));
    let range = book.worksheet_range("Sơ khảo Cụm 2 (giám khảo)").unwrap();
    assert_eq!(range.get_value((2 + 4, 3)), Some(&Data::String(EXCUSED.into())));

    let bytes = csv(&tables[0]);
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "the BOM Excel needs for Vietnamese");
    let mut reader = ::csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "Hạng",
            "Đội",
            "Đơn vị",
            "Chào hỏi, giới thiệu đơn vị (tối đa 30)",
            "Kiến thức và xử lý tình huống (tối đa 30)",
            "Tiểu phẩm (tối đa 40)",
            "Tổng điểm",
            "Ghi chú"
        ]
    );
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    assert_eq!(rows[2], ["3", "Đội X1", "X1", "26.33", "20", "39", "85.33", ""]);
    assert_eq!(rows[0][7], "Đồng hạng; Vào chung khảo");
}

#[test]
fn long_round_names_that_begin_alike_get_unique_sheet_names_within_31() {
    let mut c = registered();
    c.rounds[0].name = "Sơ khảo Cụm thi đua số 1 các xã phía Tây huyện Ba Vì".into();
    c.rounds[1].name = "Sơ khảo Cụm thi đua số 1 các xã phía Đông huyện Ba Vì".into();
    // The final named like the first round's judges' sheet, in capitals.
    c.rounds[2].name = "SƠ KHẢO CỤM THI ĐUA (GIÁM KHẢO)".into();
    let tables = contest_tables(&c);
    let names: Vec<&str> = tables.iter().map(|t| t.sheet.as_str()).collect();
    assert_eq!(names.len(), 6);
    for n in &names {
        assert!(n.encode_utf16().count() <= SHEET_NAME_MAX, "{n} is longer than 31");
    }
    let folded: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(folded.len(), names.len(), "unique ignoring case: {names:?}");
    assert_eq!(names[..2], ["Sơ khảo Cụm thi đua số 1 các xã", "Sơ khảo Cụm thi đua (giám khảo)"]);
    assert_eq!(names[2..4], ["Sơ khảo Cụm thi đua số 1 cá (2)", "Sơ khảo Cụm thi (2) (giám khảo)"], "the second round's cut name is taken");
    assert!(names[4].starts_with("SƠ KHẢO CỤM THI") && names[4].ends_with(')') && names[4] != "SƠ KHẢO CỤM THI ĐUA (GIÁM KHẢO)", "{names:?}");
    // The whole workbook opens (Excel's own rules are checked before writing).
    let bytes = xlsx(&tables).map_err(|e: ExportError| e.to_string()).unwrap();
    assert_eq!(open(&bytes).sheet_names().len(), 6);
    // The title keeps the whole name.
    assert!(tables[0].title.contains("Cụm thi đua số 1 các xã phía Tây huyện Ba Vì"), "{}", tables[0].title);
    // A round named like the prize list does not take its sheet.
    let mut c = awarded();
    c.rounds[0].name = PRIZES.to_uppercase();
    let names: Vec<String> = contest_tables(&c).into_iter().map(|t| t.sheet).collect();
    assert_eq!(names.last().map(String::as_str), Some("Đội đạt giải (2)"));
    assert!(xlsx(&contest_tables(&c)).is_ok());
}

#[test]
fn a_contest_without_sheets_or_teams_still_writes() {
    let c = Contest::new("c".into(), "Hội thi Dân vận khéo năm 2026", Level::Grassroots, 2026, "BAVI", "bt", 1);
    let tables = contest_tables(&c);
    assert_eq!(tables.iter().map(|t| t.sheet.as_str()).collect::<Vec<_>>(), ["Chung khảo", "Chung khảo (giám khảo)"]);
    assert!(tables.iter().all(|t| t.rows.is_empty()));
    assert_eq!(tables[0].title, "Kết quả tạm tính vòng chung khảo — Hội thi Dân vận khéo năm 2026", "the year not said twice");
    assert!(xlsx(&tables).is_ok());
    assert!(prize_table(&c).rows.is_empty());
}

#[test]
fn units_are_written_by_name_where_the_profile_knows_them() {
    let c = awarded();
    let mut tables = contest_tables(&c);
    let t = tree();
    name_units(&mut tables, |code| t.get(code).map_or_else(|| code.to_string(), |u| u.name.clone()));
    let mut seen = 0;
    for table in &tables {
        let Some(col) = table.headers.iter().position(|h| h == "Đơn vị") else { continue };
        for row in &table.rows {
            if let Some(Cell::Text(name)) = row.get(col) {
                assert!(name.starts_with("Xã "), "{}: {name}", table.sheet);
                seen += 1;
            }
        }
    }
    assert!(seen >= 5, "every table with units was named ({seen} cells)");
}
