//! The import of a province's whole list from the command line, at Hà Nội's scale (78,494 models
//! registered 2009–2020, tests/support/registry.rs), as a unit would hand it over: an XLSX made
//! here with the template's headers, one row per model with its state, recognition level,
//! decision and commendation. Prints `name = value unit`; nothing is asserted on (the goal is
//! ≤ 60 s for the 78,494 rows, issue 14).
//!
//!   cargo bench --bench import
//!
//! It runs the real `danvan-server import-models FILE --as USER` (this bench profile's build)
//! over a fresh SQLite store holding the city's tree and a city reviewer, then the same file
//! again (every row found, nothing written), and a CSV of the same list. With
//! DANVAN_TEST_POSTGRES_URL set (an administrative URL, as the tests use) it runs the XLSX into
//! a fresh PostgreSQL database too. Then the app's online path: the same XLSX sent to a running
//! server (`POST /api/import/models`, signed in as the reviewer), timed from the first byte sent
//! to the answer, with the server process's peak memory.

#[path = "../tests/support/registry.rs"]
mod registry;
#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::Instant;

use danvan::domain::{Grant, Role, Status, field_label, replay};
use danvan::export::{Cell, Table};
use danvan::import::Column;
use danvan::server::store::{DocStore, SqliteStore, Store, User};

fn figure(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("{name} = {value} {unit}");
}

/// The registry as the list a city would export from its old spreadsheets.
fn list(models: &[danvan::domain::Model]) -> Table {
    let columns = [
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
        Column::Content,
    ];
    let headers: Vec<&str> = columns.iter().map(|c| c.label()).collect();
    let mut table = Table::new("Danh sách", "DANH SÁCH MÔ HÌNH DÂN VẬN KHÉO THÀNH PHỐ HÀ NỘI 2009–2020", &headers);
    let mut keys = HashSet::new();
    for m in models {
        let status = replay(&m.transitions).0;
        let commendation = m.commendations.first();
        let status = if commendation.is_some() { Status::Commended } else { status };
        let recognised_level = m.transitions.iter().find(|t| t.action == "dien_hinh").map_or("Huyện", |t| if t.level == "tinh" { "Tỉnh" } else { "Huyện" });
        let reviewed = matches!(status, Status::Recognised | Status::NotRecognised | Status::Exemplary | Status::Commended);
        // Lists hold one row per model; a generated name repeated in a unit and year gets its number.
        let name = if keys.insert((m.unit.clone(), m.name.clone(), m.year)) { m.name.clone() } else { format!("{} ({})", m.name, m.id) };
        table.push(vec![
            Cell::from(name),
            Cell::from(m.unit.as_str()),
            Cell::from(field_label(&m.field)),
            Cell::from(m.owner_kind.label()),
            Cell::from(m.owner_name.as_str()),
            Cell::from(m.year),
            Cell::from(m.level.label()),
            Cell::from(status.label()),
            Cell::from(if reviewed { recognised_level } else { "" }),
            Cell::from(commendation.map_or("", |c| c.decision_number.as_str())),
            Cell::from(commendation.and_then(|c| danvan::domain::Date::parse(&c.decision_date))),
            Cell::from(commendation.map_or("", |c| if c.form == "bang_khen" { "Bằng khen" } else { "Giấy khen" })),
            Cell::from(commendation.map_or("", |c| c.issuer.as_str())),
            Cell::from("Vận động nhân dân cùng tham gia, cán bộ, đảng viên đi đầu; họp dân bàn bạc công khai, dân biết, dân bàn, dân làm, dân kiểm tra."),
        ]);
    }
    table
}

/// A signed-in session of the city reviewer, as signing in would make it; returns its token.
async fn session(store: &dyn Store) -> String {
    let (token, stored) = danvan::server::session::new_token();
    let session = danvan::server::store::Session { username: "bxhn".into(), verifier_hash: stored.verifier_hash, created_at: 1, expires_at: i64::MAX };
    store.create_session(&stored.id, &session).await.unwrap();
    token
}

/// What a workbook's zip entries inflate to, together.
fn inflated_bytes(xlsx: &[u8]) -> u64 {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    (0..archive.len()).map(|i| archive.by_index(i).unwrap().size()).sum()
}

/// A process's peak resident memory (VmHWM), in MB.
fn peak_rss_of_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

async fn seed(store: &dyn Store) {
    let tree = registry::ha_noi_tree();
    store.save_units(&store.unit_tree().await.unwrap(), &tree).await.unwrap();
    let user = User {
        username: "bxhn".into(),
        display_name: "Ban Dân vận Thành ủy".into(),
        password_hash: String::new(),
        disabled: false,
        grants: vec![Grant { unit: "HN".into(), role: Role::Reviewer }],
    };
    store.create_user(&user, 1).await.unwrap();
}

/// Runs the import command; returns its wall time in seconds and what it printed.
fn import(database: &[&str], file: &std::path::Path) -> (f64, String) {
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .args(database)
        .arg("import-models")
        .arg(file)
        .args(["--as", "bxhn"])
        .env("RUST_LOG", "warn")
        .env_remove("DANVAN_DATABASE_URL")
        .output()
        .expect("danvan-server runs");
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "import failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr).chars().take(2000).collect::<String>());
    (seconds, stdout.trim().to_string())
}

fn peak_rss_of_children_mb() -> f64 {
    // SAFETY: getrusage on RUSAGE_CHILDREN only writes into the struct given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let models = registry::ha_noi_models(registry::HA_NOI_MODELS, 2020);
    let table = list(&models);
    drop(models);
    let dir = tempfile::tempdir().unwrap();
    let xlsx_path = dir.path().join("ha-noi-2009-2020.xlsx");
    let xlsx = danvan::export::xlsx(std::slice::from_ref(&table)).unwrap();
    figure("import.file.rows", table.rows.len(), "rows");
    figure("import.file.xlsx_bytes", xlsx.len(), "bytes");
    figure("import.file.xlsx_inflated_bytes", inflated_bytes(&xlsx), "bytes");
    std::fs::write(&xlsx_path, &xlsx).unwrap();
    let csv_path = dir.path().join("ha-noi-2009-2020.csv");
    let csv = danvan::export::csv(&table);
    figure("import.file.csv_bytes", csv.len(), "bytes");
    std::fs::write(&csv_path, csv).unwrap();
    drop((xlsx, table));

    let db = dir.path().join("danvan.sqlite3");
    runtime.block_on(seed(&SqliteStore::open(&db).unwrap()));
    let database = ["--database", db.to_str().unwrap()];
    let (seconds, said) = import(&database, &xlsx_path);
    println!("# {said}");
    figure("import.cli.sqlite.xlsx_78494", format!("{seconds:.1}"), "s");
    figure("import.cli.peak_rss", format!("{:.0}", peak_rss_of_children_mb()), "MB");
    let count = runtime.block_on(async { SqliteStore::open(&db).unwrap().count().await.unwrap() });
    figure("import.cli.sqlite.documents", count, "documents");
    figure("import.cli.sqlite.database_bytes", std::fs::metadata(&db).map_or(0, |m| m.len()), "bytes");
    let (seconds, said) = import(&database, &xlsx_path);
    println!("# {said}");
    figure("import.cli.sqlite.reimport_xlsx_78494", format!("{seconds:.1}"), "s");

    let db2 = dir.path().join("csv.sqlite3");
    runtime.block_on(seed(&SqliteStore::open(&db2).unwrap()));
    let (seconds, said) = import(&["--database", db2.to_str().unwrap()], &csv_path);
    println!("# {said}");
    figure("import.cli.sqlite.csv_78494", format!("{seconds:.1}"), "s");

    if std::env::var("DANVAN_TEST_POSTGRES_URL").is_ok() {
        let url = runtime.block_on(async {
            let url = common::fresh_postgres().await.expect("a fresh database");
            seed(&danvan::server::store::postgres::PostgresStore::connect(&url).await.unwrap()).await;
            url
        });
        let (seconds, said) = import(&["--database-url", &url], &xlsx_path);
        println!("# {said}");
        figure("import.cli.postgres.xlsx_78494", format!("{seconds:.1}"), "s");
    }

    // The app's online path: the file sent to a running server.
    let db3 = dir.path().join("http.sqlite3");
    let token = runtime.block_on(async {
        let store = SqliteStore::open(&db3).unwrap();
        seed(&store).await;
        session(&store).await
    });
    runtime.block_on(async {
        let (server, url) = common::spawn_server_process(&db3).await;
        let bytes = std::fs::read(&xlsx_path).unwrap();
        let started = Instant::now();
        let res = reqwest::Client::new()
            .post(format!("{url}/api/import/models?file=ha-noi-2009-2020.xlsx"))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("the server answers");
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let seconds = started.elapsed().as_secs_f64();
        assert!(status.is_success() && body["created"].as_u64() == Some(registry::HA_NOI_MODELS as u64), "{status}: {body}");
        figure("import.http.sqlite.xlsx_78494", format!("{seconds:.1}"), "s");
        figure("import.http.server_peak_rss", format!("{:.0}", peak_rss_of_mb(server.id().unwrap())), "MB");
    });
}
