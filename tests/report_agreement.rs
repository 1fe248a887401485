//! The server and the device compute the same report from the same documents: a few hundred
//! models of the Hà Nội generator (tests/support/registry.rs) over three districts, with lifecycle
//! steps, commendations and replications, are written to a real server over `/api/sync` (and
//! some changed afterwards, again over sync); every `ReportSheet` the server answers on
//! `/api/reports` must equal `ReportRequest::run` over the facts the device reads from its own
//! copies of the same documents, field by field.

mod common;
#[path = "support/registry.rs"]
mod registry;

use common::*;
use danvan::domain::report::{Dimension, ModelFacts, Period, ReportRequest, ReportSheet, Scope, readable_tree};
use danvan::domain::{Action, Commendation, Date, Grant, Level, Replication, Role, Transition};
use danvan::server::session::new_token;
use danvan::server::store::{Session, SqliteStore, Store, User};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;

/// Districts kept from the generated city: in clusters CUM-3 (Q03, Q07) and CUM-4 (Q04).
const DISTRICTS: [&str; 3] = ["HN-Q03-", "HN-Q04-", "HN-Q07-"];
const USER: &str = "hn";

/// The city's tree and an account that reads all of it and may record every step of a commune's
/// model (reviewer of the city, cadre of every commune; one grant per unit), signed in; returns
/// its token.
async fn seed_city(store: &dyn Store) -> String {
    let tree = registry::ha_noi_tree();
    store.save_units(&store.unit_tree().await.unwrap(), &tree).await.unwrap();
    let mut grants = vec![Grant { unit: "HN".into(), role: Role::Reviewer }];
    grants.extend(tree.units().filter(|u| u.level == Level::Grassroots).map(|u| Grant { unit: u.code.clone(), role: Role::Member }));
    seed_user(store, USER, grants).await
}

/// A signed-in account with these grants; returns its token.
async fn seed_user(store: &dyn Store, username: &str, grants: Vec<Grant>) -> String {
    let user = User { username: username.into(), display_name: username.into(), password_hash: String::new(), disabled: false, grants };
    store.create_user(&user, 1).await.unwrap();
    let (token, stored) = new_token();
    let session = Session { username: username.into(), verifier_hash: stored.verifier_hash, created_at: 1, expires_at: i64::MAX };
    store.create_session(&stored.id, &session).await.unwrap();
    token
}

async fn post(server: &Server, token: &str, request: &ReportRequest) -> ReportSheet {
    let res = reqwest::Client::new().post(format!("{}/api/reports", server.url)).bearer_auth(token).json(request).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_and_the_device_compute_the_same_reports() {
    let (dir, db) = temp();
    let store = SqliteStore::open(&db).unwrap();
    let token = seed_city(&store).await;
    // A cadre of a commune who also reviews another district: reads that commune, and the
    // district with its communes.
    let cadre = seed_user(
        &store,
        "q03",
        vec![
            Grant { unit: "HN-Q07-X01".into(), role: Role::Member },
            Grant { unit: "HN-Q04".into(), role: Role::Reviewer },
        ],
    )
    .await;
    drop(store);
    let server = start(&db, &dir.path().join("no-dist")).await;

    // The generated models of the communes of three districts, recorded under the account's name (the server
    // takes steps, commendations and replication points only from their author).
    let mut models: Vec<_> =
        registry::ha_noi_models(4_000, 13).into_iter().filter(|m| DISTRICTS.iter().any(|d| m.unit.starts_with(d))).collect();
    assert!(models.len() > 300, "{}", models.len());
    let device = MemoryReplica::new();
    for m in &mut models {
        m.transitions.iter_mut().for_each(|t| t.by = USER.into());
        m.commendations.iter_mut().for_each(|c| c.by = USER.into());
        m.replications.iter_mut().for_each(|r| r.by = USER.into());
        device.put_local(&m.id.clone(), &mut danvan::doc::create(m, m.created_at).unwrap());
    }
    let http = Http::at(&server.url, &token);
    let report = run_session(&device, &http, &mut ()).await.unwrap();
    assert_eq!((report.pending, report.rejected.len()), (0, 0), "{:?}", report.rejected);

    // Later, over sync again: steps, commendations, replications and edits of some of them.
    let now = danvan::server::now_ms();
    for (i, m) in models.iter().enumerate().filter(|(i, _)| i % 7 == 0) {
        edit(&device, &m.id, |m| match i % 4 {
            0 => m.transitions.push(Transition { id: format!("{i}-late"), action: Action::Stop.code().into(), by: USER.into(), by_name: "Thành ủy".into(), at: now, reason: "Ngừng triển khai".into(), level: String::new() }),
            1 => m.commendations.push(Commendation { id: format!("{i}-late-k"), form: "ky_niem_chuong".into(), issuer: "Ban Dân vận Trung ương".into(), level: "trung_uong".into(), decision_number: format!("{i}/QĐ"), decision_date: Date::in_vietnam(now).to_string(), recipients: String::new(), by: USER.into(), by_name: "Thành ủy".into(), at: now }),
            2 => m.replications.push(Replication { id: format!("{i}-late-r"), unit: "HN-Q04-X02".into(), unit_name: "Xã/phường 04.02".into(), by: USER.into(), by_name: "Thành ủy".into(), at: now }),
            _ => m.name = format!("{} (đổi tên)", m.name),
        });
    }
    let report = run_session(&device, &http, &mut ()).await.unwrap();
    assert_eq!((report.pending, report.rejected.len()), (0, 0), "{:?}", report.rejected);

    // What the device computes from its own copies.
    let tree = registry::ha_noi_tree();
    let facts: Vec<ModelFacts> = device.ids().iter().map(|id| ModelFacts::of(&model(&device, id))).collect();
    assert_eq!(facts.len(), models.len());
    let this_year = Date::in_vietnam(now).year;
    let with = |scope: Scope, period: Period, rows: Dimension, columns: Dimension, level: Level| ReportRequest {
        rows,
        columns,
        coverage_level: level,
        ..ReportRequest::new(scope, period)
    };
    let city = || Scope::Unit("HN".into());
    let requests = vec![
        ReportRequest::new(city(), Period::year(2020)),
        ReportRequest::new(city(), Period::first_half(2019)),
        ReportRequest::new(Scope::Unit("HN-Q03".into()), Period::year(2017)),
        ReportRequest::new(Scope::Unit("HN-Q04-X05".into()), Period::years(2009, 2020).unwrap()),
        with(city(), Period::years(2009, 2020).unwrap(), Dimension::Field, Dimension::OwnerKind, Level::District),
        with(city(), Period::range(Date::parse("2015-03-01").unwrap(), Date::parse("2018-09-30").unwrap()).unwrap(), Dimension::Year, Dimension::Status, Level::Grassroots),
        with(Scope::Cluster("CUM-3".into()), Period::year(2018), Dimension::Unit, Dimension::Level, Level::District),
        with(Scope::Cluster("CUM-4".into()), Period::first_half(2016), Dimension::Status, Dimension::Field, Level::Grassroots),
        with(city(), Period::year(this_year), Dimension::Unit, Dimension::Status, Level::Grassroots),
        with(city(), Period::years(2009, this_year).unwrap(), Dimension::OwnerKind, Dimension::Year, Level::District),
    ];
    let mut checked = 0;
    for request in requests {
        let expected = request.run(&tree, &facts);
        assert!(expected.models > 0, "{request:?} covers models");
        assert_eq!(post(&server, &token, &request).await, expected, "{request:?}");
        // Every non-empty cell of its pivot, clicked, lists the same models on both sides.
        let p = &expected.pivot;
        for (r, (row, _)) in p.row_keys.iter().enumerate() {
            for (c, (column, _)) in p.column_keys.iter().enumerate().filter(|(c, _)| p.cells[r][*c] > 0).take(2) {
                let clicked = ReportRequest { cell: Some((row.clone(), column.clone())), ..request.clone() };
                let expected = clicked.run(&tree, &facts);
                assert_eq!(expected.cell_count, p.cells[r][c]);
                assert_eq!(post(&server, &token, &clicked).await, expected, "{clicked:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked} cells compared");
    // A narrower account, on its own device, as the report page computes it: the tree from its
    // profile (which also names the units above its grants: the city, and HN-Q07 of CUM-3),
    // the facts of the models it deals with among what its device received.
    let profile: danvan::api::Profile = reqwest::Client::new()
        .get(format!("{}/api/session", server.url))
        .bearer_auth(&cadre)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own = MemoryReplica::new();
    let report = run_session(&own, &Http::at(&server.url, &cadre), &mut ()).await.unwrap();
    assert_eq!(report.pending, 0);
    let own_tree = readable_tree(profile.units.clone(), profile.clusters.clone(), &profile.readable);
    let dealt_with = profile.dealt_with();
    let own_facts: Vec<ModelFacts> = own.ids().iter().map(|id| model(&own, id)).filter(|m| dealt_with(&m.unit)).map(|m| ModelFacts::of(&m)).collect();
    assert!(own.ids().len() > own_facts.len(), "the device also holds the library's recognised models of other units");
    for scope in [Scope::Unit("HN-Q07-X01".into()), Scope::Unit("HN-Q04".into()), Scope::Cluster("CUM-4".into())] {
        let request = ReportRequest { rows: Dimension::Unit, columns: Dimension::Status, ..ReportRequest::new(scope, Period::years(2009, this_year).unwrap()) };
        let expected = request.run(&own_tree, &own_facts);
        assert!(expected.models > 0, "{request:?} covers models");
        assert_eq!(post(&server, &cadre, &request).await, expected, "{request:?}");
        // Only the units it reads have rows.
        assert!(expected.pivot.row_keys.iter().all(|(code, _)| profile.readable.contains(code)), "{:?}", expected.pivot.row_keys);
    }
    // CUM-3's member HN-Q07 is in the profile (above the commune grant) but not read: no report
    // of that cluster on either side.
    assert!(profile.units.iter().any(|u| u.code == "HN-Q07") && !profile.readable.contains(&"HN-Q07".to_string()));
    assert!(own_tree.units().all(|u| u.cluster.as_deref() != Some("CUM-3")), "the device offers no CUM-3 report");
    let res = reqwest::Client::new()
        .post(format!("{}/api/reports", server.url))
        .bearer_auth(&cadre)
        .json(&ReportRequest::new(Scope::Cluster("CUM-3".into()), Period::year(2020)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::FORBIDDEN);

    // The changes made after the first sync are in both.
    let late = ReportRequest::new(city(), Period::year(this_year)).run(&tree, &facts);
    assert!(late.figures.commendations() > 0 && late.figures.replication_points > 0 && late.figures.status(danvan::domain::Status::Stopped) > 0);
}
