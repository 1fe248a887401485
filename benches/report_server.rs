//! The server's report over the whole Hà Nội registry (tests/support/registry.rs: 78,494 models,
//! ~600 units) through the real HTTP route (`POST /api/reports`, an in-process server over TCP),
//! on SQLite and, when DANVAN_TEST_POSTGRES_URL is set, on PostgreSQL. Prints `name = value unit`.
//!
//!   cargo bench --bench report_server
//!   DANVAN_TEST_POSTGRES_URL=postgres://danvan@127.0.0.1:PORT/postgres cargo bench --bench report_server
//!
//! The registry is written straight into the store as the sync route writes it (`Write` with the
//! model's document and its facts: the same `DocStore::write` that fills the facts table), since
//! 78,494 documents through HTTP would take most of an hour. Then: the first report (the process
//! reads every fact into memory), p50/p95 of 24 reports each — every one a different period, so
//! each is computed — of the city, the city with a field × owner-kind pivot, one district and one
//! cluster, and of one city report asked again (answered from the server's last sheets); where a
//! city report's time goes, computed in this process. Also the facts'
//! stored size and decoding time as postcard and as JSON (why they are stored as postcard).

#[path = "../tests/support/registry.rs"]
mod registry;

use std::sync::Arc;
use std::time::Instant;

use danvan::domain::report::{Dimension, ModelFacts, Period, ReportRequest, ReportSheet, Scope};
use danvan::domain::{Grant, Role};
use danvan::server::session::new_token;
use danvan::server::store::{Session, Store, User, Write};
use danvan::server::{Config, bind, open_store};

const SAMPLES: usize = 24;

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// Every model's document and facts, as the sync route would write them (built on both cores).
fn writes(models: &[danvan::domain::Model]) -> Vec<Write> {
    let half = models.len() / 2;
    let build = |part: &[danvan::domain::Model]| -> Vec<Write> {
        part.iter()
            .map(|m| {
                let mut d = danvan::doc::create(m, m.created_at).unwrap();
                Write {
                    id: m.id.clone(),
                    expected: None,
                    chunk: danvan::sync::Chunk { bytes: d.save(), snapshot: true },
                    heads: danvan::sync::heads_to_bytes(&d.get_heads()),
                    unit: m.unit.clone(),
                    public: danvan::domain::in_library(danvan::domain::replay(&m.transitions).0),
                    facts: Some(ModelFacts::of(m)),
                    readers: None,
                }
            })
            .collect()
    };
    std::thread::scope(|s| {
        let first = s.spawn(|| build(&models[..half]));
        let mut second = build(&models[half..]);
        let mut all = first.join().unwrap();
        all.append(&mut second);
        all
    })
}

async fn seed(store: &dyn Store, writes: &[Write]) -> String {
    let tree = registry::ha_noi_tree();
    store.save_units(&store.unit_tree().await.unwrap(), &tree).await.unwrap();
    let user = User {
        username: "thanh_uy".into(),
        display_name: "Thành ủy".into(),
        password_hash: String::new(),
        disabled: false,
        grants: vec![Grant { unit: "HN".into(), role: Role::Admin }],
    };
    store.create_user(&user, 1).await.unwrap();
    let (token, stored) = new_token();
    let session = Session { username: user.username.clone(), verifier_hash: stored.verifier_hash, created_at: 1, expires_at: i64::MAX };
    store.create_session(&stored.id, &session).await.unwrap();
    let started = Instant::now();
    for batch in writes.chunks(2_000) {
        for r in store.write(batch.to_vec(), 1).await.unwrap() {
            r.unwrap();
        }
    }
    println!("seed_write_{} = {:.1} s", writes.len(), started.elapsed().as_secs_f64());
    token
}

async fn ask(client: &reqwest::Client, url: &str, token: &str, request: &ReportRequest) -> (f64, ReportSheet) {
    let started = Instant::now();
    let res = client.post(format!("{url}/api/reports")).bearer_auth(token).json(request).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let sheet: ReportSheet = res.json().await.unwrap();
    (started.elapsed().as_secs_f64() * 1000.0, sheet)
}

async fn measure(backend: &str, config: Config, writes: &[Write]) {
    let store = open_store(&config).await.unwrap();
    let token = seed(store.as_ref(), writes).await;
    drop(store);
    let (addr, serving) = bind(&config).await.unwrap();
    let server = tokio::spawn(serving);
    let url = format!("http://{addr}");
    let client = reqwest::Client::new();
    let city = || Scope::Unit("HN".into());
    let first = ReportRequest::new(city(), Period::year(2020));
    let (ms, sheet) = ask(&client, &url, &token, &first).await;
    println!("report_server_{backend}_first = {ms:.0} ms");
    println!("report_server_{backend}_models = {} count", sheet.models);
    assert_eq!(sheet.models, writes.len());
    // Each sample a different period (2009–2020, years and first halves), so every one is
    // computed; then one request repeated, which the server answers from its last sheets.
    let period = |i: usize| {
        let year = 2009 + (i % 12) as u16;
        if i < 12 { Period::year(year) } else { Period::first_half(year) }
    };
    type Make = fn(Period) -> ReportRequest;
    let kinds: [(&str, Make); 4] = [
        ("city", |p| ReportRequest::new(Scope::Unit("HN".into()), p)),
        ("city_field_kind", |p| ReportRequest { rows: Dimension::Field, columns: Dimension::OwnerKind, ..ReportRequest::new(Scope::Unit("HN".into()), p) }),
        ("district", |p| ReportRequest::new(Scope::Unit("HN-Q07".into()), p)),
        ("cluster", |p| ReportRequest::new(Scope::Cluster("CUM-2".into()), p)),
    ];
    for (name, make) in kinds {
        let mut samples = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES {
            samples.push(ask(&client, &url, &token, &make(period(i))).await.0);
        }
        println!("report_server_{backend}_{name}_computed_p50 = {:.1} ms", percentile(&mut samples, 0.5));
        println!("report_server_{backend}_{name}_computed_p95 = {:.1} ms", percentile(&mut samples, 0.95));
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        samples.push(ask(&client, &url, &token, &first).await.0);
    }
    println!("report_server_{backend}_city_year_repeated_p50 = {:.1} ms", percentile(&mut samples, 0.5));
    println!("report_server_{backend}_city_year_repeated_p95 = {:.1} ms", percentile(&mut samples, 0.95));
    server.abort();
}

fn config(dir: &std::path::Path, database_url: Option<String>) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: dir.join("report.sqlite3"),
        database_url,
        dist: dir.join("no-dist"),
        cache_docs: 1000,
        cache_mb: 48,
        session_days: 30.0,
        trusted_proxies: Vec::new(),
        tls: Default::default(),
    }
}

fn main() {
    let started = Instant::now();
    let models = registry::ha_noi_models(registry::HA_NOI_MODELS, 2020);
    let writes = Arc::new(writes(&models));
    println!("registry_documents_{} = {:.1} s", writes.len(), started.elapsed().as_secs_f64());

    // Stored form of the facts: postcard (chosen) against JSON.
    let facts: Vec<ModelFacts> = models.iter().map(ModelFacts::of).collect();
    for (name, encode, decode) in [
        ("postcard", (|f: &ModelFacts| postcard::to_allocvec(f).unwrap()) as fn(&ModelFacts) -> Vec<u8>, (|b: &[u8]| postcard::from_bytes::<ModelFacts>(b).unwrap()) as fn(&[u8]) -> ModelFacts),
        ("json", |f| serde_json::to_vec(f).unwrap(), |b| serde_json::from_slice::<ModelFacts>(b).unwrap()),
    ] {
        let encoded: Vec<Vec<u8>> = facts.iter().map(encode).collect();
        let started = Instant::now();
        let back: Vec<ModelFacts> = encoded.iter().map(|b| decode(b)).collect();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(back, facts);
        println!("facts_{name}_bytes = {} KB", encoded.iter().map(Vec::len).sum::<usize>() / 1024);
        println!("facts_{name}_decode_all = {ms:.0} ms");
    }
    // Where a city report's time goes, in this process: copying the facts, computing the sheet,
    // writing and reading its JSON.
    let tree = registry::ha_noi_tree();
    let request = ReportRequest::new(Scope::Unit("HN".into()), Period::year(2020));
    let (mut copy, mut run, mut write, mut read) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut json_bytes = 0;
    for _ in 0..10 {
        let started = Instant::now();
        let copied: Vec<ModelFacts> = facts.to_vec();
        copy.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let sheet = request.run(&tree, &copied);
        run.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let json = serde_json::to_vec(&sheet).unwrap();
        write.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let back: ReportSheet = serde_json::from_slice(&json).unwrap();
        read.push(started.elapsed().as_secs_f64() * 1000.0);
        json_bytes = json.len();
        assert_eq!(back, sheet);
    }
    println!("city_year_copy_facts_p50 = {:.1} ms", percentile(&mut copy, 0.5));
    println!("city_year_run_p50 = {:.1} ms", percentile(&mut run, 0.5));
    println!("city_year_sheet_json = {} KB", json_bytes / 1024);
    println!("city_year_sheet_json_write_p50 = {:.1} ms", percentile(&mut write, 0.5));
    println!("city_year_sheet_json_read_p50 = {:.1} ms", percentile(&mut read, 0.5));
    drop(facts);
    drop(models);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        measure("sqlite", config(dir.path(), None), &writes).await;
        match std::env::var("DANVAN_TEST_POSTGRES_URL") {
            Ok(admin) => {
                let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                let name = format!("danvan_bench_{}", uuid::Uuid::new_v4().simple());
                client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
                let (base, _) = admin.rsplit_once('/').unwrap();
                measure("postgres", config(dir.path(), Some(format!("{base}/{name}"))), &writes).await;
            }
            Err(_) => println!("report_server_postgres = skipped (DANVAN_TEST_POSTGRES_URL not set)"),
        }
    });
}
