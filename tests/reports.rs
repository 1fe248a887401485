//! `POST /api/reports` and `GET /api/reports/completeness` over HTTP against the real server, as
//! the test accounts of `common` (`a`, `b` cadres of Bản Bo, `c` of Trường Sơn, `d` of Đức Long in
//! the other district, `r` reviewer of the Hà Quảng district, `admin` of the province). Cluster
//! CUM-1 is Bản Bo and Trường Sơn; CUM-2 is Đức Long.

mod common;

use common::*;
use danvan::api::Completeness;
use danvan::domain::report::{ModelFacts, Period, ReportRequest, ReportSheet, Scope};
use danvan::domain::UnitTree;
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;
use serde_json::{Value, json};

async fn post_report(server: &Server, token: Option<&str>, body: String) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{}/api/reports", server.url)).header("content-type", "application/json").body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn report_as(server: &Server, user: &str, request: &ReportRequest) -> (u16, Value) {
    post_report(server, Some(&server.tokens.of(user)), serde_json::to_string(request).unwrap()).await
}

async fn sheet_as(server: &Server, user: &str, request: &ReportRequest) -> ReportSheet {
    let (status, body) = report_as(server, user, request).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn completeness_as(server: &Server, token: Option<&str>, query: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}/api/reports/completeness?{query}", server.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn year(scope: Scope) -> ReportRequest {
    ReportRequest::new(scope, Period::year(2023))
}

/// Models registered by the cadres of Bản Bo (3), Trường Sơn (2) and Đức Long (1), synced by
/// each; returns the server and every model's facts as the devices read them.
async fn registry() -> (tempfile::TempDir, Server, Vec<ModelFacts>) {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let mut facts = Vec::new();
    for (user, unit, n) in [("a", "BANBO", 3), ("c", "TRUONGSON", 2), ("d", "DUCLONG", 1)] {
        let replica = MemoryReplica::new();
        for i in 0..n {
            let id = format!("m-{unit}-{i}");
            replica.put_local(&id, &mut new_model_in(&id, &format!("Mô hình {i} của {unit}"), unit));
        }
        let report = run_session(&replica, &Http::as_user(&server, user), &mut ()).await.unwrap();
        assert_eq!((report.pending, report.rejected.len()), (0, 0));
        facts.extend(replica.ids().iter().map(|id| ModelFacts::of(&model(&replica, id))));
    }
    (dir, server, facts)
}

fn tree() -> UnitTree {
    UnitTree::from_csv(UNITS_CSV).unwrap()
}

#[tokio::test]
async fn without_a_session_there_is_no_report() {
    let (_dir, server, _) = registry().await;
    let body = serde_json::to_string(&year(Scope::Unit("CB".into()))).unwrap();
    let (status, answer) = post_report(&server, None, body.clone()).await;
    assert_eq!(status, 401);
    assert!(answer.get("figures").is_none());
    assert_eq!(post_report(&server, Some("forged.token"), body).await.0, 401);
    assert_eq!(completeness_as(&server, None, "unit=CB").await.0, 401);
}

#[tokio::test]
async fn a_unit_the_caller_does_not_read_is_refused_without_a_figure() {
    let (_dir, server, _) = registry().await;
    // The Hà Quảng reviewer asks for the other district, its commune, and the province.
    for unit in ["HOAAN", "DUCLONG", "CB"] {
        let (status, body) = report_as(&server, "r", &year(Scope::Unit(unit.into()))).await;
        assert_eq!(status, 403, "{unit}: {body}");
        assert!(body["error"].as_str().unwrap().contains("không được xem báo cáo"), "{body}");
        assert!(body.get("figures").is_none() && body.get("models").is_none());
        assert_eq!(completeness_as(&server, Some(&server.tokens.of("r")), &format!("unit={unit}")).await.0, 403);
    }
    // A cadre of a commune does not read its district.
    assert_eq!(report_as(&server, "a", &year(Scope::Unit("HA".into()))).await.0, 403);
    // Their own: exactly their models.
    let sheet = sheet_as(&server, "r", &year(Scope::Unit("HA".into()))).await;
    assert_eq!((sheet.models, sheet.figures.registered), (5, 5));
}

#[tokio::test]
async fn a_cluster_report_counts_only_the_members_the_caller_reads() {
    let (_dir, server, facts) = registry().await;
    // CUM-1 is Bản Bo (read by `a`) and Trường Sơn (not read by `a`).
    let request = year(Scope::Cluster("CUM-1".into()));
    let sheet = sheet_as(&server, "a", &request).await;
    let own: Vec<ModelFacts> = facts.iter().filter(|f| f.unit == "BANBO").cloned().collect();
    let expected = request.run(&tree(), &own);
    assert_eq!(sheet.figures, expected.figures, "the figures are Bản Bo's alone");
    assert_eq!((sheet.models, sheet.figures.registered), (3, 3));
    let units = &sheet.breakdowns[0];
    assert_eq!(units.rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["BANBO"], "no row of Trường Sơn");
    assert_eq!((sheet.coverage.units, sheet.coverage.registering), (1, 1), "coverage of the readable member only");
    assert!(!serde_json::to_string(&sheet).unwrap().contains("TRUONGSON"), "nothing about the unit not read");
    // The reviewer of the district reads both: the whole cluster.
    let both = sheet_as(&server, "r", &request).await;
    assert_eq!(both, request.run(&tree(), &facts));
    assert_eq!(both.figures.registered, 5);
    // Asked again by the cadre after the reviewer: the cadre's sheet, not the one just computed.
    assert_eq!(sheet_as(&server, "a", &request).await, sheet);
    // A cluster none of whose members the caller reads.
    let (status, body) = report_as(&server, "d", &request).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.get("figures").is_none());
    assert_eq!(completeness_as(&server, Some(&server.tokens.of("d")), "cluster=CUM-1").await.0, 403);
}

#[tokio::test]
async fn forged_and_oversized_requests_get_a_specific_400() {
    let (_dir, server, _) = registry().await;
    let token = server.tokens.of("admin");
    let day = |y: u16, m: u8, d: u8| json!({"year": y, "month": m, "day": d});
    let base = serde_json::to_value(year(Scope::Unit("CB".into()))).unwrap();
    let with = |key: &str, value: Value| {
        let mut v = base.clone();
        v[key] = value;
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "Yêu cầu báo cáo không hợp lệ"),
        (json!({"scope": {"Unit": "CB"}}).to_string(), "Yêu cầu báo cáo không hợp lệ"),
        (with("scope", json!({"Unit": "KHONG-CO"})), "Không có đơn vị mã “KHONG-CO”"),
        (with("scope", json!({"Cluster": "CUM-9"})), "Không có cụm thi đua mã “CUM-9”"),
        (with("scope", json!({"Unit": "X".repeat(5000)})), "Không có đơn vị mã"),
        (with("period", json!({"kind": "Range", "from": day(2025, 6, 1), "to": day(2025, 1, 1)})), "phải sau ngày bắt đầu"),
        (with("period", json!({"kind": "Range", "from": day(1800, 1, 1), "to": day(2025, 1, 1)})), "nằm ngoài khoảng báo cáo"),
        (with("period", json!({"kind": "Year", "from": day(2025, 1, 1), "to": day(9999, 12, 31)})), "nằm ngoài khoảng báo cáo"),
        (with("period", json!({"kind": "Range", "from": day(2025, 2, 30), "to": day(2025, 3, 1)})), "không có thật"),
        (with("period", json!({"kind": "Range", "from": day(2025, 13, 1), "to": day(2025, 12, 1)})), "không có thật"),
        (with("cell", json!(["x".repeat(101), "recognised"])), "mã quá dài"),
        (with("rows", json!("Everything")), "Yêu cầu báo cáo không hợp lệ"),
    ];
    for (body, expected) in cases {
        let (status, answer) = post_report(&server, Some(&token), body.clone()).await;
        assert_eq!(status, 400, "{}: {answer}", &body[..body.len().min(120)]);
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(expected), "{message} (expected “{expected}”)");
        assert!(message.chars().count() < 400, "the message does not echo a huge input back");
    }
    // Over the body limit: refused before it is read.
    let huge = with("cell", json!(["x".repeat(40_000), "y"]));
    assert_eq!(post_report(&server, Some(&token), huge).await.0, 413);
    for query in ["", "unit=CB&cluster=CUM-1", "unit=NOPE", "cluster=NOPE"] {
        let (status, body) = completeness_as(&server, Some(&token), query).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_reports_agree() {
    let (_dir, server, facts) = registry().await;
    let request = ReportRequest::new(Scope::Unit("CB".into()), Period::years(2020, 2026).unwrap());
    let expected = request.run(&tree(), &facts);
    let body = serde_json::to_string(&request).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let (url, token, body) = (server.url.clone(), server.tokens.of(if i % 2 == 0 { "admin" } else { "r" }), body.clone());
        tasks.spawn(async move {
            let res = reqwest::Client::new().post(format!("{url}/api/reports")).bearer_auth(token).header("content-type", "application/json").body(body).send().await.unwrap();
            (i, res.status().as_u16(), res.json::<Value>().await.unwrap())
        });
    }
    while let Some(answer) = tasks.join_next().await {
        let (i, status, body) = answer.unwrap();
        if i % 2 == 0 {
            assert_eq!(status, 200);
            assert_eq!(serde_json::from_value::<ReportSheet>(body).unwrap(), expected);
        } else {
            assert_eq!(status, 403, "the district reviewer does not read the province, however many ask at once");
        }
    }
}

#[tokio::test]
async fn a_report_reflects_a_sync_at_once() {
    let (_dir, server, _) = registry().await;
    let request = year(Scope::Unit("BANBO".into()));
    assert_eq!(sheet_as(&server, "a", &request).await.models, 3);
    let replica = MemoryReplica::new();
    replica.put_local("m-new", &mut new_model_in("m-new", "Mô hình mới", "BANBO"));
    run_session(&replica, &Http::as_user(&server, "b"), &mut ()).await.unwrap();
    let sheet = sheet_as(&server, "a", &request).await;
    assert_eq!(sheet.models, 4);
    assert!(sheet.pivot.total >= 1);
}

#[tokio::test]
async fn completeness_says_when_each_readable_unit_last_synced() {
    let (_dir, server, _) = registry().await;
    let (status, body) = completeness_as(&server, Some(&server.tokens.of("r")), "unit=HA").await;
    assert_eq!(status, 200, "{body}");
    let c: Completeness = serde_json::from_value(body).unwrap();
    let by_code = |code: &str| c.units.iter().find(|u| u.code == code).unwrap_or_else(|| panic!("{code}"));
    assert_eq!(c.units.len(), 3, "Hà Quảng and its two communes");
    for unit in ["BANBO", "TRUONGSON"] {
        let at = by_code(unit).last_sync_ms.expect("its cadre synced");
        assert!(at <= c.now_ms && c.now_ms - at < 60_000, "{unit}: {at} vs {}", c.now_ms);
    }
    assert_eq!(by_code("HA").last_sync_ms, None, "nobody of the district itself synced");
    assert_eq!(by_code("BANBO").name, "Xã Bản Bo");
    // A cadre of Bản Bo asking for its cluster sees only Bản Bo.
    let (status, body) = completeness_as(&server, Some(&server.tokens.of("a")), "cluster=CUM-1").await;
    assert_eq!(status, 200);
    let c: Completeness = serde_json::from_value(body).unwrap();
    assert_eq!(c.units.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["BANBO"]);
    // The reviewer's own sync is recorded for their unit.
    run_session(&MemoryReplica::new(), &Http::as_user(&server, "r"), &mut ()).await.unwrap();
    let c: Completeness = serde_json::from_value(completeness_as(&server, Some(&server.tokens.of("r")), "unit=HA").await.1).unwrap();
    assert!(c.units.iter().find(|u| u.code == "HA").unwrap().last_sync_ms.is_some());
}

/// Two stateless servers over one PostgreSQL database: each one's in-memory facts catch up with
/// what the other wrote before it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_over_one_postgres_report_the_same_figures() {
    let Some(url) = fresh_postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (start_with(postgres_config(dir.path(), &url)).await, start_with(postgres_config(dir.path(), &url)).await);
    let request = ReportRequest::new(Scope::Unit("HA".into()), Period::years(2020, 2030).unwrap());
    // Both have read the (empty) facts once.
    assert_eq!(sheet_as(&one, "r", &request).await.models, 0);
    assert_eq!(sheet_as(&two, "r", &request).await.models, 0);
    let replica = MemoryReplica::new();
    for i in 0..5 {
        let id = format!("pg-{i}");
        replica.put_local(&id, &mut new_model_in(&id, &format!("Mô hình {i}"), "BANBO"));
    }
    run_session(&replica, &Http::as_user(&one, "a"), &mut ()).await.unwrap();
    let facts = |r: &MemoryReplica| r.ids().iter().map(|id| ModelFacts::of(&model(r, id))).collect::<Vec<_>>();
    let expected = request.run(&tree(), &facts(&replica));
    assert_eq!(sheet_as(&two, "r", &request).await, expected, "the other server sees the first one's writes");
    // A lifecycle step through the second is seen by the first.
    let before = expected;
    edit(&replica, "pg-0", |m| {
        m.transitions.push(danvan::domain::Transition {
            id: "s1".into(),
            action: danvan::domain::Action::Start.code().into(),
            by: "a".into(),
            by_name: "A".into(),
            at: danvan::server::now_ms(),
            reason: String::new(),
            level: String::new(),
        })
    });
    let report = run_session(&replica, &Http::as_user(&two, "a"), &mut ()).await.unwrap();
    assert_eq!((report.pending, report.rejected.len()), (0, 0), "{:?}", report.rejected);
    let expected = request.run(&tree(), &facts(&replica));
    assert_ne!(expected.figures, before.figures, "the step changes the figures");
    assert_eq!(sheet_as(&one, "r", &request).await, expected);
    assert_eq!(sheet_as(&two, "r", &request).await, expected);
}

/// A database restored from an older backup (pg_restore under running servers, or
/// `danvan-server restore`) has a lower head than a process's kept facts: the facts are read
/// again from scratch, not kept as they were (models the backup lacks would stay counted, and
/// the writes after the restore, numbered below the old cursor, would never be read).
#[tokio::test]
async fn kept_facts_start_again_when_the_database_was_restored_from_an_older_backup() {
    use danvan::domain::Model;
    use danvan::server::routes::reports::FactsCache;
    use danvan::server::store::{DocStore, SqliteStore};
    let model = |id: &str| {
        let mut m = Model::new(id.into(), "a", 1_700_000_000_000);
        m.name = format!("Mô hình {id}");
        m.unit = "BANBO".into();
        m
    };
    let ids = |facts: Vec<std::sync::Arc<ModelFacts>>| {
        let mut ids: Vec<String> = facts.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        ids
    };
    let (_a, newer) = temp();
    let (_b, older) = temp();
    let (newer, older) = (SqliteStore::open(&newer).unwrap(), SqliteStore::open(&older).unwrap());
    // The live database went on to three models; the backup holds the first only.
    for id in ["m1", "m2", "m3"] {
        newer.write(vec![model_write(&model(id), None)], 1).await.unwrap().pop().unwrap().unwrap();
    }
    older.write(vec![model_write(&model("m1"), None)], 1).await.unwrap().pop().unwrap().unwrap();
    let cache = FactsCache::default();
    let (before, facts) = cache.current(&newer, |_| true).await.unwrap();
    assert_eq!(ids(facts), ["m1", "m2", "m3"]);
    assert_eq!(before.generation, 0);
    // Restored: the same process now reads the older database, which takes a new write.
    older.write(vec![model_write(&model("m4"), None)], 1).await.unwrap().pop().unwrap().unwrap();
    let (at, facts) = cache.current(&older, |_| true).await.unwrap();
    assert_eq!(ids(facts), ["m1", "m4"], "what the restored database holds, and its new write");
    assert_eq!((at.generation, at.cursor), (1, older.head().await.unwrap()), "a new generation: no sheet of before is reused");
}
