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

// ---- The app's import through the server: `POST /api/import/models` ----

/// Sends `bytes` as `file` to the server's import as `user` (None: no session), with the query
/// parameters `extra` ("good_rows_only=true", …).
async fn upload(server: &Server, user: Option<&str>, file: &str, bytes: Vec<u8>, extra: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut query: Vec<(&str, &str)> = vec![("file", file)];
    query.extend_from_slice(extra);
    let url = reqwest::Url::parse_with_params(&format!("{}/api/import/models", server.url), &query).unwrap();
    let mut req = reqwest::Client::new().post(url).header("content-type", "application/octet-stream").body(bytes);
    if let Some(user) = user {
        req = req.bearer_auth(server.tokens.of(user));
    }
    let res = req.send().await.expect("the server answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

fn error_of(body: &serde_json::Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// An HTTP/1.1 request written by hand (a modified client sends what no library would), and the
/// connection to read its answer from.
async fn raw_request(server: &Server, head: &str, body: &[u8]) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(server.url.trim_start_matches("http://")).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream
}

/// The first bytes of the answer on `stream` (its status line and what follows).
async fn raw_answer(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = vec![0u8; 8192];
    let n = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut answer)).await.expect("an answer in time").unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

async fn still_serving(server: &Server) {
    let health = reqwest::get(format!("{}/api/health", server.url)).await.expect("the server still answers");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn the_app_imports_a_list_through_the_server_once_with_the_importers_rights() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;

    // A wrong row: nothing written, the row named as on the device.
    let (status, body) = upload(&server, Some("r"), "ha-quang.xlsx", workbook(true), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["rows"].as_u64(), body["bad_rows"].as_u64(), body["written"].as_bool()), (Some(4), Some(1), Some(false)), "{body}");
    assert!(body["errors"][0].as_str().unwrap().starts_with("Dòng 5: Năm “1990” không hợp lệ"), "{body}");
    let store = danvan::server::store::SqliteStore::open(&db).unwrap();
    use danvan::server::store::DocStore;
    assert_eq!(store.count().await.unwrap(), 0, "nothing written while a row is wrong");

    // A cadre may not import what reviewers decide, nor models of another commune.
    let (_, body) = upload(&server, Some("a"), "ha-quang.xlsx", workbook(false), &[]).await;
    let errors: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert!(errors.iter().any(|e| e.starts_with("Dòng 3: Chỉ người bình xét")), "{body}");
    assert!(errors.iter().any(|e| e.starts_with("Dòng 4: Bạn không có quyền nhập mô hình cho đơn vị Xã Trường Sơn")), "{body}");
    assert_eq!(store.count().await.unwrap(), 0);

    // A dry run writes nothing; the real one writes the four; the same file again, nothing.
    let (_, body) = upload(&server, Some("r"), "ha-quang.xlsx", workbook(false), &[("dry_run", "true")]).await;
    assert_eq!((body["written"].as_bool(), body["created"].as_u64()), (Some(false), Some(0)), "{body}");
    let (status, body) = upload(&server, Some("r"), "ha-quang.xlsx", workbook(false), &[]).await;
    assert_eq!((status, body["created"].as_u64(), body["written"].as_bool()), (200, Some(4), Some(true)), "{body}");
    let (_, body) = upload(&server, Some("r"), "ha-quang.xlsx", workbook(false), &[]).await;
    assert_eq!((body["created"].as_u64(), body["already"].as_u64()), (Some(0), Some(4)), "{body}");
    assert_eq!(store.count().await.unwrap(), 4);

    // The commune's devices receive theirs through the feed, with the history of where they came from.
    let cadre = MemoryReplica::new();
    sync_as(&cadre, &server, "c").await;
    let commended = cadre.ids().into_iter().map(|id| model_of(&cadre, &id)).find(|m| m.status == Status::Commended).expect("the commended model arrived");
    assert_eq!(commended.commendations[0].decision_number, "7-QĐ/HU");
    let origin = commended.imported.expect("an imported model says where it came from");
    assert_eq!((origin.file.as_str(), origin.line, origin.by.as_str()), ("ha-quang.xlsx", 4, "r"));

    // The mapping chosen in the app travels with the file, by position; good rows only, when asked.
    let csv = "Tên MH,Đơn vị,Lĩnh vực,Năm,Người theo dõi\nSân chơi,BANBO,Kinh tế,2016,Chị Lan\nSai,Xã Không Có,Kinh tế,2016,\n";
    let (status, body) = upload(&server, Some("r"), "ds.csv", csv.into(), &[]).await;
    assert_eq!(status, 422, "unknown headers without a mapping: {body}");
    assert!(body["problems"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().contains("Chưa biết cột “Tên MH” (cột A)")), "{body}");
    let columns = r#"["ten_mo_hinh","don_vi","linh_vuc","nam","bo_qua"]"#;
    let (_, body) = upload(&server, Some("r"), "ds.csv", csv.into(), &[("columns", columns)]).await;
    assert_eq!((body["written"].as_bool(), body["bad_rows"].as_u64()), (Some(false), Some(1)), "{body}");
    let (_, body) = upload(&server, Some("r"), "ds.csv", csv.into(), &[("columns", columns), ("good_rows_only", "true")]).await;
    assert_eq!((body["created"].as_u64(), body["bad_rows"].as_u64()), (Some(1), Some(1)), "{body}");
    assert!(body["errors"][0].as_str().unwrap().starts_with("Dòng 3: Không có đơn vị “Xã Không Có”"), "{body}");
    assert_eq!(body["unknown_units"][0].as_str(), Some("Xã Không Có"), "{body}");
    // A mapping that does not fit the file (sent for another file) is refused, not half applied.
    let (status, body) = upload(&server, Some("r"), "ds.csv", csv.into(), &[("columns", r#"["ten_mo_hinh","don_vi"]"#)]).await;
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).contains("2 cột, tệp có 5 cột"), "{body}");
}

#[tokio::test]
async fn an_upload_without_a_session_or_a_usable_query_is_refused_before_its_body_is_read() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let csv = "Tên mô hình,Đơn vị,Lĩnh vực,Năm\nĐường,BANBO,Kinh tế,2015\n".as_bytes().to_vec();
    let (status, _) = upload(&server, None, "ds.csv", csv.clone(), &[]).await;
    assert_eq!(status, 401);
    let forged = reqwest::Client::new()
        .post(format!("{}/api/import/models?file=ds.csv", server.url))
        .bearer_auth("v1.not-a-session.token")
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // No file name, a name with control characters, or parameters that are not what they say.
    let res = reqwest::Client::new().post(format!("{}/api/import/models", server.url)).bearer_auth(server.tokens.of("r")).body(csv.clone()).send().await.unwrap();
    assert_eq!(res.status(), 400);
    for (file, extra) in [
        ("ds\n.csv", vec![]),
        (&*"x".repeat(300), vec![]),
        ("ds.csv", vec![("columns", "không phải JSON")]),
        ("ds.csv", vec![("columns", r#"["ten_mo_hinh","mat_khau"]"#)]),
        ("ds.csv", vec![("good_rows_only", "có")]),
    ] {
        let (status, body) = upload(&server, Some("r"), file, csv.clone(), &extra).await;
        assert_eq!(status, 400, "{file:?} {extra:?}: {body}");
        assert!(!error_of(&body).is_empty());
    }
    let wide = serde_json::to_string(&vec!["bo_qua"; 300]).unwrap();
    let (status, body) = upload(&server, Some("r"), "ds.csv", csv.clone(), &[("columns", wide.as_str())]).await;
    assert_eq!(status, 400, "a mapping of 300 columns: {body}");
    let fields = serde_json::to_string(&vec!["Lĩnh vực thêm"; 1_000]).unwrap();
    let (status, body) = upload(&server, Some("r"), "ds.csv", csv.clone(), &[("custom_fields", fields.as_str())]).await;
    assert_eq!(status, 400, "1,000 custom fields: {body}");
    // A body declared larger than any list is refused before it is sent (raw HTTP: a client
    // library would not send a length that is not the body's).
    let head = format!(
        "POST /api/import/models?file=big.csv HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-length: {}\r\n\r\n",
        server.tokens.of("r"),
        64u64 << 20
    );
    let answer = raw_answer(&mut raw_request(&server, &head, b"").await).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A body sent without its length (chunked) is refused too.
    let head = format!(
        "POST /api/import/models?file=ds.csv HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ntransfer-encoding: chunked\r\n\r\n",
        server.tokens.of("r")
    );
    let chunked = format!("{:x}\r\n{}\r\n0\r\n\r\n", csv.len(), String::from_utf8(csv.clone()).unwrap());
    let answer = raw_answer(&mut raw_request(&server, &head, chunked.as_bytes()).await).await;
    assert!(answer.starts_with("HTTP/1.1 411"), "{answer}");
    let store = danvan::server::store::SqliteStore::open(&db).unwrap();
    use danvan::server::store::DocStore;
    assert_eq!(store.count().await.unwrap(), 0);
    still_serving(&server).await;
}

/// A workbook of a few kilobytes whose two cells sit at opposite corners of the sheet: a dense
/// reader would make a grid of 17 billion cells.
fn corners_workbook(far_row: u32, far_col: u16) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Tên mô hình", "Đơn vị", "Lĩnh vực", "Năm"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["Đường", "BANBO", "Kinh tế", "2015"].iter().enumerate() {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet.write_string(far_row, far_col, "x").unwrap();
    book.save_to_buffer().unwrap()
}

/// A zip whose one worksheet entry inflates to `inflated` bytes of spaces from a few hundred
/// kilobytes, while its headers declare `declared` bytes (a forged size, or the true one). The
/// deflate stream is one compressed megabyte repeated: each copy ends on a byte boundary (sync
/// flush) and refers only to itself, so the copies chain into one valid stream.
fn inflating_zip(inflated_mib: usize, declared: u32) -> Vec<u8> {
    let mut one = Vec::with_capacity(1 << 16);
    let mut deflate = flate2::Compress::new(flate2::Compression::fast(), false);
    deflate.compress_vec(&vec![b' '; 1 << 20], &mut one, flate2::FlushCompress::Sync).unwrap();
    assert!(deflate.total_in() == 1 << 20, "one call takes the whole megabyte");
    let mut data: Vec<u8> = Vec::with_capacity(one.len() * inflated_mib + 2);
    for _ in 0..inflated_mib {
        data.extend_from_slice(&one);
    }
    data.extend_from_slice(&[0x03, 0x00]); // the final, empty block
    let mut zip = Vec::new();
    let mut central = Vec::new();
    let entries: [(&str, Vec<u8>, u32); 2] = [("xl/workbook.xml", Vec::new(), 0), ("xl/worksheets/sheet1.xml", data, declared)];
    for (name, body, size) in &entries {
        let offset = zip.len() as u32;
        let (method, csize) = if body.is_empty() { (0u16, 0u32) } else { (8u16, body.len() as u32) };
        let common = |out: &mut Vec<u8>| {
            out.extend_from_slice(&20u16.to_le_bytes()); // version needed
            out.extend_from_slice(&0u16.to_le_bytes()); // flags
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date (1980-01-01)
            out.extend_from_slice(&0u32.to_le_bytes()); // CRC: never reached
            out.extend_from_slice(&csize.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut zip);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(body);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_at = zip.len() as u32;
    zip.extend_from_slice(&central);
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0; 4]);
    zip.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    zip.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    zip.extend_from_slice(&(central.len() as u32).to_le_bytes());
    zip.extend_from_slice(&central_at.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

#[tokio::test]
async fn hostile_workbooks_are_refused_with_a_reason_and_the_server_keeps_serving() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;

    // Cells at A1 and XFD1048576: 6 KB that a dense grid would make 550 GB of.
    let corners = corners_workbook(1_048_575, 16_383);
    assert!(corners.len() < 16 * 1024, "{} bytes", corners.len());
    let (status, body) = upload(&server, Some("r"), "goc.xlsx", corners, &[]).await;
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("Tệp có 1048576 dòng, nhiều hơn 300000 dòng"), "{body}");
    // Far to the right of a list's columns, or far down in one of them: each said as such.
    let (status, body) = upload(&server, Some("r"), "rong.xlsx", corners_workbook(2, 16_383), &[]).await;
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("Tệp có dữ liệu ở cột XFD"), "{body}");
    let (status, body) = upload(&server, Some("r"), "dai.xlsx", corners_workbook(1_048_575, 1), &[]).await;
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("Tệp có 1048576 dòng"), "{body}");

    // A zip that inflates past the limit with its size declared, or a forged small size.
    for declared in [300 << 20, 1_000] {
        let bomb = inflating_zip(300, declared);
        assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
        let (status, body) = upload(&server, Some("r"), "bom.xlsx", bomb, &[]).await;
        assert_eq!(status, 422, "declared {declared}: {body}");
        let reason = if declared == 1_000 { "tệp nén bị hỏng hoặc bị cắt" } else { "giải nén ra hơn 256 MB" };
        assert!(error_of(&body).contains(reason), "declared {declared}: {body}");
    }

    // The formats whose readers build a dense grid are for the device and the command line.
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.resize(4096, 0);
    let (status, body) = upload(&server, Some("r"), "cu.xls", xls, &[]).await;
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("Máy chủ chỉ nhận tệp .xlsx hoặc .csv"), "{body}");
    // Not a spreadsheet at all, under a spreadsheet's name.
    let (status, body) = upload(&server, Some("r"), "anh.xlsx", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0], &[]).await;
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("không phải bảng tính"), "{body}");

    still_serving(&server).await;
    let store = danvan::server::store::SqliteStore::open(&db).unwrap();
    use danvan::server::store::DocStore;
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn one_import_runs_at_a_time() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let csv = "Tên mô hình,Đơn vị,Lĩnh vực,Năm\nĐường,BANBO,Kinh tế,2015\n".as_bytes().to_vec();
    // The first upload sends half its body, then waits: it holds the turn.
    let (first_half, second_half) = csv.split_at(20);
    let head = format!(
        "POST /api/import/models?file=ds.csv HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-length: {}\r\n\r\n",
        server.tokens.of("r"),
        csv.len()
    );
    let mut first = raw_request(&server, &head, first_half).await;
    // Meanwhile every other import is told to come back later (once the first has its turn).
    let mut refused = None;
    for _ in 0..100 {
        let (status, body) = upload(&server, Some("admin"), "khac.csv", csv.clone(), &[("dry_run", "true")]).await;
        if status == 503 {
            refused = Some(body);
            break;
        }
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refused = refused.expect("a second import while the first holds the turn is refused");
    assert!(error_of(&refused).contains("Máy chủ đang nhập một tệp khác"), "{refused}");
    assert_eq!(refused["retryable"].as_bool(), Some(true));
    // The first finishes; the turn is free again.
    use tokio::io::AsyncWriteExt;
    first.write_all(second_half).await.unwrap();
    let answer = raw_answer(&mut first).await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains(r#""created":1"#), "{answer}");
    let (status, body) = upload(&server, Some("admin"), "khac.csv", csv.clone(), &[]).await;
    assert_eq!((status, body["already"].as_u64()), (200, Some(1)), "{body}");
}
