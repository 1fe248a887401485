//! Importing model lists: `danvan-server import-models` (the real binary over a real SQLite
//! store, with a workbook made here by rust_xlsxwriter), and imported documents sent by a
//! modified client through `/api/sync`, where the server's rules for imports must hold.

mod common;

use std::ffi::OsStr;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use common::*;
use danvan::domain::{Access, Grant, Model, Status, UnitTree};
use danvan::export::{Cell, Table};
use danvan::import::{Importer, Mapping, plan, read::read_csv};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{SessionReport, run_session};
use tokio::process::Command;

async fn sync_as(replica: &MemoryReplica, server: &Server, user: &str) -> SessionReport {
    run_session(replica, &Http::as_user(server, user), &mut ()).await.expect("sync succeeds")
}

fn grants_of(user: &str) -> Vec<Grant> {
    USERS.iter().filter(|(u, ..)| *u == user).map(|(_, unit, role)| Grant { unit: unit.to_string(), role: *role }).collect()
}

/// The models `user` would import from this CSV, planned with their real grants (the rows must
/// all be good for them).
fn planned(csv: &str, user: &str) -> Vec<Model> {
    let tree = UnitTree::from_csv(UNITS_CSV).unwrap();
    let access = Access::new(&grants_of(user), &tree);
    let sheet = read_csv(csv).unwrap();
    let who = Importer {
        username: user,
        display_name: &format!("Người dùng {user}"),
        access: &access,
        tree: &tree,
        custom_fields: &[],
        file_name: "ds.csv",
        now_ms: danvan::server::now_ms(),
    };
    let plan = plan(&sheet, &Mapping::guess(&sheet.headers), &who);
    assert!(plan.errors.is_empty(), "{user}: {:?}", plan.errors);
    plan.models.into_iter().map(|p| p.model).collect()
}

/// Puts an imported model into a replica as the app's import does: a new document.
fn put_imported(replica: &MemoryReplica, model: &Model) {
    let message = danvan::import::history_message(model.imported.as_ref().unwrap());
    let mut doc = danvan::doc::create_with_message(model, danvan::server::now_ms(), &message).unwrap();
    replica.put_local(&model.id, &mut doc);
}

fn rejected<'a>(report: &'a SessionReport, id: &str) -> &'a str {
    report.rejected.get(id).map(String::as_str).unwrap_or_else(|| panic!("{id} was accepted: {report:?}"))
}

const RECOGNISED_AT_DISTRICT: &str = "Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng,Cấp công nhận,Số quyết định,Ngày quyết định\n\
     Đường bê tông,BANBO,Kinh tế,2015,Công nhận,Huyện,12-QĐ/HU,20/12/2015\n";

#[tokio::test]
async fn a_reviewer_imports_recognised_models_of_their_district_and_the_unit_receives_them() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let reviewer = MemoryReplica::new();
    let model = planned(RECOGNISED_AT_DISTRICT, "r").remove(0);
    put_imported(&reviewer, &model);
    let report = sync_as(&reviewer, &server, "r").await;
    assert!(report.rejected.is_empty(), "{report:?}");
    // The commune's cadre receives it with its history and state.
    let cadre = MemoryReplica::new();
    sync_as(&cadre, &server, "a").await;
    let got = model_of(&cadre, &model.id);
    assert_eq!(got.status, Status::Recognised);
    assert_eq!(got.imported.as_ref().unwrap().by, "r");
    let mut doc = cadre.doc(&model.id).unwrap();
    let history = danvan::doc::history(&mut doc);
    assert!(format!("{history:?}").contains("Nhập từ tệp ds.csv, dòng 2"), "{history:?}");
}

fn model_of(replica: &MemoryReplica, id: &str) -> Model {
    danvan::doc::read_model(&replica.doc(id).unwrap()).unwrap()
}

#[tokio::test]
async fn imported_documents_from_a_modified_client_are_held_to_the_importers_rights() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let send = |model: Model, user: &'static str| {
        let server = &server;
        async move {
            let replica = MemoryReplica::new();
            put_imported(&replica, &model);
            let report = sync_as(&replica, server, user).await;
            (model.id, report)
        }
    };
    let district = planned(RECOGNISED_AT_DISTRICT, "r").remove(0);

    // Recognised at province level by a district reviewer (the planner would refuse it; a
    // modified client changes the level after planning).
    let mut above = district.clone();
    above.transitions.iter_mut().filter(|t| t.action == "cong_nhan").for_each(|t| t.level = "tinh".into());
    let (id, report) = send(above, "r").await;
    assert!(rejected(&report, &id).contains("không được nhập mô hình được công nhận hay khen thưởng ở cấp tỉnh"), "{report:?}");

    // The same document sent by the commune's cadre, with the origin and steps in their name.
    let mut by_cadre = district.clone();
    by_cadre.imported.as_mut().unwrap().by = "a".into();
    by_cadre.transitions.iter_mut().for_each(|t| t.by = "a".into());
    let (id, report) = send(by_cadre, "a").await;
    assert!(rejected(&report, &id).contains("Chỉ người bình xét"), "{report:?}");

    // The administrator of the province: a model only registered and started is theirs to
    // import; a recognised one is not (they review nothing).
    let admin_started = planned("Tên mô hình,Đơn vị,Lĩnh vực,Năm,Tình trạng\nSân chơi,BANBO,Văn hóa – xã hội,2016,Đang thực hiện\n", "admin").remove(0);
    let (id, report) = send(admin_started, "admin").await;
    assert!(!report.rejected.contains_key(&id), "{report:?}");
    let mut admin_recognised = district.clone();
    admin_recognised.imported.as_mut().unwrap().by = "admin".into();
    admin_recognised.transitions.iter_mut().for_each(|t| t.by = "admin".into());
    let (id, report) = send(admin_recognised, "admin").await;
    assert!(rejected(&report, &id).contains("Chỉ người bình xét"), "{report:?}");

    // The reviewer's import with the origin naming someone else, and one outside their district.
    let mut someone_else = district.clone();
    someone_else.imported.as_mut().unwrap().by = "admin".into();
    let (id, report) = send(someone_else, "r").await;
    assert!(rejected(&report, &id).contains("đúng tên người đang đăng nhập"), "{report:?}");
    let mut elsewhere = district.clone();
    elsewhere.unit = "DUCLONG".into();
    elsewhere.id = "elsewhere".into();
    let (id, report) = send(elsewhere, "r").await;
    assert!(rejected(&report, &id).contains("không có quyền tạo mô hình"), "{report:?}");

    // A reviewer creating an ordinary model (no origin), or one whose `imported` is null.
    let plain = {
        let replica = MemoryReplica::new();
        replica.put_local("plain", &mut new_model("plain", "Không qua nhập"));
        sync_as(&replica, &server, "r").await
    };
    assert!(rejected(&plain, "plain").contains("không có quyền tạo mô hình"), "{plain:?}");
    let null_origin = {
        let replica = MemoryReplica::new();
        let mut doc = new_model("null-origin", "Nguồn rỗng");
        doc.put(automerge::ROOT, "imported", automerge::ScalarValue::Null).unwrap();
        doc.commit();
        replica.put_local("null-origin", &mut doc);
        sync_as(&replica, &server, "r").await
    };
    assert!(rejected(&null_origin, "null-origin").contains("không có quyền tạo mô hình"), "{null_origin:?}");

    // Nothing of the refused ones reached the server: the cadre holds only the admin's model.
    let cadre = MemoryReplica::new();
    sync_as(&cadre, &server, "a").await;
    let names: Vec<String> = cadre.ids().iter().map(|id| model_of(&cadre, id).name).collect();
    assert_eq!(names, ["Sân chơi"]);
}

#[tokio::test]
async fn nobody_changes_where_an_imported_model_came_from() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let reviewer = MemoryReplica::new();
    let model = planned(RECOGNISED_AT_DISTRICT, "r").remove(0);
    put_imported(&reviewer, &model);
    assert!(sync_as(&reviewer, &server, "r").await.rejected.is_empty());
    let cadre = MemoryReplica::new();
    sync_as(&cadre, &server, "a").await;
    // The cadre may edit the content (an import rarely holds all ten items)…
    edit(&cadre, &model.id, |m| m.content = autosurgeon::Text::with_value("Họp dân, thống nhất phương án."));
    assert!(sync_as(&cadre, &server, "a").await.rejected.is_empty());
    // …but not the origin, nor remove it.
    edit(&cadre, &model.id, |m| m.imported.as_mut().unwrap().line = 99);
    let report = sync_as(&cadre, &server, "a").await;
    assert!(rejected(&report, &model.id).contains("Nguồn nhập của mô hình"), "{report:?}");
    let forger = MemoryReplica::new();
    sync_as(&forger, &server, "a").await;
    let mut doc = forger.doc(&model.id).unwrap();
    doc.delete(automerge::ROOT, "imported").unwrap();
    doc.commit();
    forger.put_local(&model.id, &mut doc);
    let report = sync_as(&forger, &server, "a").await;
    assert!(rejected(&report, &model.id).contains("Nguồn nhập của mô hình"), "{report:?}");
    let fresh = MemoryReplica::new();
    sync_as(&fresh, &server, "a").await;
    assert!(fresh.doc(&model.id).unwrap().get(automerge::ROOT, "imported").unwrap().is_some());
    assert_eq!(model_of(&fresh, &model.id).imported.unwrap().line, 2);

    // A document written before imports existed has no `imported` key; the app's next whole
    // write adds `imported: null`, which changes nothing and is accepted.
    let old = MemoryReplica::new();
    let mut doc = new_model("older", "Mô hình cũ");
    doc.delete(automerge::ROOT, "imported").unwrap();
    doc.commit();
    old.put_local("older", &mut doc);
    assert!(sync_as(&old, &server, "a").await.rejected.is_empty());
    edit(&old, "older", |m| m.name = "Mô hình cũ, sửa tên".into());
    assert!(old.doc("older").unwrap().get(automerge::ROOT, "imported").unwrap().is_some());
    assert!(sync_as(&old, &server, "a").await.rejected.is_empty());
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\nstdout: {}\nstderr: {}", self.code, self.stdout, self.stderr)
    }
}

async fn import_command(db: &std::path::Path, args: &[&OsStr]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .arg("--database")
        .arg(db)
        .arg("import-models")
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("DANVAN_DATABASE_URL")
        .output()
        .await
        .expect("danvan-server runs");
    Run { code: out.status.code(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

/// A district's list as a workbook with a title row, as units keep them: `bad_year` puts an
/// impossible year on the third model.
fn workbook(bad_year: bool) -> Vec<u8> {
    let mut table = Table::new(
        "Danh sách",
        "DANH SÁCH MÔ HÌNH DÂN VẬN KHÉO HUYỆN HÀ QUẢNG",
        &["STT", "Tên mô hình", "Đơn vị", "Lĩnh vực", "Năm", "Tình trạng", "Cấp công nhận", "Số quyết định", "Ngày quyết định", "Hình thức khen thưởng"],
    );
    type Row<'a> = (&'a str, &'a str, &'a str, u32, &'a str, &'a str, &'a str, Option<danvan::domain::Date>, &'a str);
    let rows: [Row; 4] = [
        ("Đường bê tông nông thôn", "BANBO", "Kinh tế", 2015, "Công nhận", "Huyện", "12-QĐ/HU", Some(danvan::domain::Date { year: 2015, month: 12, day: 20 }), ""),
        ("Hũ gạo tình thương", "Xã Trường Sơn", "Văn hóa – xã hội", 2016, "Khen thưởng", "Huyện", "7-QĐ/HU", Some(danvan::domain::Date { year: 2017, month: 1, day: 9 }), "Giấy khen"),
        ("Camera an ninh", "BANBO", "Quốc phòng – an ninh", if bad_year { 1990 } else { 2019 }, "Đang thực hiện", "", "", None, ""),
        ("Chi bộ bốn tốt", "TRUONGSON", "Xây dựng hệ thống chính trị", 2020, "", "", "", None, ""),
    ];
    for (i, (name, unit, field, year, status, level, number, date, form)) in rows.into_iter().enumerate() {
        table.push(vec![
            Cell::from(i + 1),
            Cell::from(name),
            Cell::from(unit),
            Cell::from(field),
            Cell::from(year),
            Cell::from(status),
            Cell::from(level),
            Cell::from(number),
            Cell::from(date),
            Cell::from(form),
        ]);
    }
    danvan::export::xlsx(&[table]).unwrap()
}

#[tokio::test]
async fn the_command_line_imports_nothing_while_a_row_is_wrong_then_everything_once() {
    let (dir, db) = temp();
    seed_sqlite(&db).await;
    let file = dir.path().join("ha-quang.xlsx");
    std::fs::write(&file, workbook(true)).unwrap();
    let run = import_command(&db, &[file.as_os_str(), OsStr::new("--as"), OsStr::new("r")]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("Dòng 5: Năm “1990” không hợp lệ"), "{run:?}");
    assert!(run.stdout.contains("Chưa ghi gì"), "{run:?}");
    let store = danvan::server::store::SqliteStore::open(&db).unwrap();
    use danvan::server::store::DocStore;
    assert_eq!(store.count().await.unwrap(), 0, "nothing written while a row is wrong");

    // A cadre may not import what reviewers decide: every recognised row is refused for them.
    std::fs::write(&file, workbook(false)).unwrap();
    let run = import_command(&db, &[file.as_os_str(), OsStr::new("--as"), OsStr::new("a")]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("Dòng 3: Chỉ người bình xét"), "{run:?}");
    assert!(run.stderr.contains("Dòng 4: Bạn không có quyền nhập mô hình cho đơn vị Xã Trường Sơn"), "{run:?}");

    let run = import_command(&db, &[file.as_os_str(), OsStr::new("--as"), OsStr::new("r")]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("4 mô hình mới, 0 đã có"), "{run:?}");
    let again = import_command(&db, &[file.as_os_str(), OsStr::new("--as"), OsStr::new("r")]).await;
    assert!(again.stdout.contains("0 mô hình mới, 4 đã có"), "{again:?}");
    assert_eq!(store.count().await.unwrap(), 4);
    drop(store);

    // The commune's devices receive theirs through the feed, with their recorded state.
    let server = start(&db, &dir.path().join("no-dist")).await;
    let cadre = MemoryReplica::new();
    sync_as(&cadre, &server, "c").await;
    // Their own two; Bản Bo's recognised model comes too, as every library model does.
    let mut got: Vec<(String, Status)> =
        cadre.ids().iter().map(|id| model_of(&cadre, id)).filter(|m| m.unit == "TRUONGSON").map(|m| (m.name, m.status)).collect();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got, [("Chi bộ bốn tốt".to_string(), Status::Registered), ("Hũ gạo tình thương".to_string(), Status::Commended)]);
    let commended = cadre.ids().into_iter().map(|id| model_of(&cadre, &id)).find(|m| m.status == Status::Commended).unwrap();
    assert_eq!(commended.commendations[0].decision_number, "7-QĐ/HU");
    assert_eq!(commended.commendations[0].decision_date, "2017-01-09");
}

#[tokio::test]
async fn unknown_columns_are_named_and_can_be_mapped_or_left_out_on_the_command_line() {
    let (dir, db) = temp();
    seed_sqlite(&db).await;
    let file = dir.path().join("ds.csv");
    std::fs::write(&file, "Tên MH,Đơn vị,Lĩnh vực,Năm,Người theo dõi\nĐường,BANBO,Kinh tế,2015,Chị Lan\n").unwrap();
    let run = import_command(&db, &[file.as_os_str(), OsStr::new("--as"), OsStr::new("r")]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("Chưa biết cột “Tên MH” (cột A)") && run.stderr.contains("“Người theo dõi” (cột E)"), "{run:?}");
    assert!(run.stderr.contains("Tệp thiếu cột “Tên mô hình”"), "{run:?}");
    let args: Vec<&OsStr> = [file.as_os_str(), OsStr::new("--as"), OsStr::new("r"), OsStr::new("--column"), OsStr::new("Tên MH=ten_mo_hinh"), OsStr::new("--column"), OsStr::new("Người theo dõi=bo_qua")].to_vec();
    let run = import_command(&db, &args).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("1 mô hình mới"), "{run:?}");
    // Good rows only, when asked: the wrong one is listed and left out.
    std::fs::write(&file, "Tên mô hình,Đơn vị,Lĩnh vực,Năm\nSân chơi,BANBO,Kinh tế,2016\nSai,Xã Không Có,Kinh tế,2016\n").unwrap();
    let run = import_command(&db, &[file.as_os_str(), OsStr::new("--as"), OsStr::new("r"), OsStr::new("--good-rows-only")]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("1 mô hình mới, 0 đã có từ trước (không đổi), 1 dòng lỗi không nhập"), "{run:?}");
    assert!(run.stderr.contains("Dòng 3: Không có đơn vị “Xã Không Có”"), "{run:?}");
    let run = import_command(&db, &[file.as_os_str(), OsStr::new("--as"), OsStr::new("nobody")]).await;
    assert!(run.stderr.contains("không có tài khoản “nobody”"), "{run:?}");
}
