//! Helpers shared by the native integration tests: a real server on a random port, the real
//! session code over HTTP, and in-memory replicas standing in for browsers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use automerge::AutoCommit;
use danvan::doc;
use danvan::domain::{Model, ModelDraft, STANDARD_FIELDS};
use danvan::domain::{Grant, Role, UnitTree};
use danvan::server::session::new_token;
use danvan::server::store::{Session, SqliteStore, Store, StoreError, User};
use danvan::server::{Config, bind, open_store};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{SessionReport, Transport, run_session};
use danvan::sync::{SyncRequest, SyncResponse};

/// The organisation every test server starts with:
/// CB (province) → HA (district) → BANBO, TRUONGSON (communes); CB → HOAAN (district) → DUCLONG.
pub const UNITS_CSV: &str = "code,name,kind,level,parent,cluster
CB,Tỉnh ủy Cao Bằng,tinh,tinh,,
HA,Huyện ủy Hà Quảng,huyen,huyen,CB,
BANBO,Xã Bản Bo,xa,co_so,HA,CUM-1
TRUONGSON,Xã Trường Sơn,xa,co_so,HA,CUM-1
HOAAN,Huyện ủy Hòa An,huyen,huyen,CB,
DUCLONG,Xã Đức Long,xa,co_so,HOAAN,CUM-2
";

/// The accounts every test server has (username, unit, role): `a` and `b` are cadres of Bản Bo,
/// `c` of Trường Sơn, `d` of Đức Long; `r` reviews the Hà Quảng district; `admin` administers
/// the province.
pub const USERS: &[(&str, &str, Role)] = &[
    ("a", "BANBO", Role::Member),
    ("b", "BANBO", Role::Member),
    ("c", "TRUONGSON", Role::Member),
    ("d", "DUCLONG", Role::Member),
    ("r", "HA", Role::Reviewer),
    ("admin", "CB", Role::Admin),
];

/// A signed-in session per test account (username → bearer token).
#[derive(Clone, Default)]
pub struct Tokens(HashMap<String, String>);

impl Tokens {
    pub fn of(&self, username: &str) -> String {
        self.0.get(username).cloned().unwrap_or_else(|| panic!("no session for {username}"))
    }
}

/// Puts the test tree and accounts into `store` (again: kept) and opens a fresh session for each
/// account, as signing in would.
pub async fn seed(store: &dyn Store) -> Tokens {
    let tree = UnitTree::from_csv(UNITS_CSV).expect("the test tree is valid");
    store.save_units(&store.unit_tree().await.unwrap(), &tree).await.unwrap();
    let mut tokens = HashMap::new();
    for (username, unit, role) in USERS {
        let user = User {
            username: username.to_string(),
            display_name: format!("Người dùng {username}"),
            password_hash: String::new(),
            disabled: false,
            grants: vec![Grant { unit: unit.to_string(), role: *role }],
        };
        match store.create_user(&user, 1).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => panic!("{e}"),
        }
        let (token, stored) = new_token();
        let session = Session {
            username: username.to_string(),
            verifier_hash: stored.verifier_hash,
            created_at: 1,
            expires_at: i64::MAX,
        };
        store.create_session(&stored.id, &session).await.unwrap();
        tokens.insert(username.to_string(), token);
    }
    Tokens(tokens)
}

/// Seeds a SQLite database file before a server (in-process or a real binary) opens it.
pub async fn seed_sqlite(db: &Path) -> Tokens {
    let store = SqliteStore::open(db).unwrap();
    seed(&store).await
}

pub struct Server {
    pub url: String,
    pub tokens: Tokens,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A server's configuration over the PostgreSQL database at `url` (from [`fresh_postgres`]);
/// `dir` holds what it would write beside it (nothing: no SQLite file, no client files).
pub fn postgres_config(dir: &Path, url: &str) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: dir.join("unused.sqlite3"),
        database_url: Some(url.to_string()),
        dist: dir.join("no-dist"),
        cache_docs: 2000,
        cache_mb: 48,
        session_days: 30.0,
        trusted_proxies: Vec::new(),
        tls: Default::default(),
    }
}

/// The real `danvan-server` binary as its own process over the SQLite file `db` (to kill it, or
/// to run commands beside it); returns the process and its base URL once it listens.
pub async fn spawn_server_process(db: &Path) -> (tokio::process::Child, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .args(["--addr", "127.0.0.1:0", "--dist", "/nonexistent-dist", "--database"])
        .arg(db)
        .env("RUST_LOG", "warn")
        .env_remove("DANVAN_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("danvan-server starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(at) = line.find("http://") {
            let url = line[at..].trim().trim_end_matches('/').to_string();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, url);
        }
    }
    panic!("server exited before printing its URL");
}

/// A model's document and facts as one write, as the sync route stores a new or changed model
/// (`expected`: the `seq` it must still have).
pub fn model_write(m: &Model, expected: Option<u64>) -> danvan::server::store::Write {
    let mut d = doc::create(m, m.created_at).unwrap();
    danvan::server::store::Write {
        id: m.id.clone(),
        expected,
        chunk: danvan::sync::Chunk { bytes: d.save(), snapshot: true },
        heads: danvan::sync::heads_to_bytes(&d.get_heads()),
        unit: m.unit.clone(),
        public: false,
        facts: Some(danvan::domain::report::ModelFacts::of(m)),
        readers: None,
    }
}

pub async fn start(database: &Path, dist: &Path) -> Server {
    start_with(Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: database.to_path_buf(),
        database_url: None,
        dist: dist.to_path_buf(),
        cache_docs: 2000,
        cache_mb: 48,
        session_days: 30.0,
        trusted_proxies: Vec::new(),
        tls: Default::default(),
    })
    .await
}

pub async fn start_with(config: Config) -> Server {
    let tokens = seed(open_store(&config).await.expect("store opens").as_ref()).await;
    let (addr, serving) = bind(&config).await.expect("server starts");
    let task = tokio::spawn(async move {
        let _ = serving.await;
    });
    Server { url: format!("http://{addr}"), tokens, task }
}

pub struct Http {
    client: reqwest::Client,
    url: String,
    token: String,
    feed_budget: Option<u32>,
}

impl Http {
    /// Syncs with `server` as user `a` (a cadre of Bản Bo).
    pub fn to(server: &Server) -> Http {
        Http::as_user(server, "a")
    }
    pub fn as_user(server: &Server, username: &str) -> Http {
        Http::at(&server.url, &server.tokens.of(username))
    }
    /// The sync endpoint of the server at `base` (e.g. "http://127.0.0.1:8080").
    pub fn at(base: &str, token: &str) -> Http {
        Http::with_client(reqwest::Client::new(), base, token)
    }
    pub fn with_client(client: reqwest::Client, base: &str, token: &str) -> Http {
        Http { client, url: format!("{base}/api/sync"), token: token.to_string(), feed_budget: None }
    }
    pub fn with_feed_budget(self, bytes: u32) -> Http {
        Http { feed_budget: Some(bytes), ..self }
    }
}

impl Transport for Http {
    type Error = String;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        let res = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("content-type", danvan::sync::CONTENT_TYPE)
            .body(danvan::sync::encode(request))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("HTTP {}: {}", res.status(), res.text().await.unwrap_or_default()));
        }
        let body = res.bytes().await.map_err(|e| e.to_string())?;
        danvan::sync::decode(&body).map_err(|e| e.to_string())
    }
    fn feed_budget(&self) -> Option<u32> {
        self.feed_budget
    }
}

pub async fn sync(replica: &MemoryReplica, server: &Server) -> SessionReport {
    run_session(replica, &Http::to(server), &mut ()).await.expect("sync succeeds")
}

pub fn fields() -> Vec<String> {
    STANDARD_FIELDS.iter().map(|(c, _)| c.to_string()).collect()
}

/// A complete model of Bản Bo (user `a`'s unit).
pub fn new_model(id: &str, name: &str) -> AutoCommit {
    new_model_in(id, name, "BANBO")
}

pub fn new_model_in(id: &str, name: &str, unit: &str) -> AutoCommit {
    let mut m = Model::new(id.into(), "Cán bộ A", 1_700_000_000_000);
    let mut d = ModelDraft::blank(2025, unit);
    d.name = name.into();
    for text in [&mut d.situation, &mut d.goals, &mut d.content, &mut d.area, &mut d.forces, &mut d.resources, &mut d.sustainability] {
        *text = "Nội dung.".into();
    }
    d.owner_name = "Khối Dân vận xã".into();
    d.start_date = "2025-01-15".into();
    d.indicators.push(danvan::domain::IndicatorDraft { id: "i1".into(), name: "Hộ tham gia".into(), unit: "hộ".into(), target: "40".into(), achieved: "".into() });
    d.apply(&mut m, &fields()).unwrap();
    doc::create(&m, 1).unwrap()
}

pub fn edit(replica: &MemoryReplica, id: &str, f: impl FnOnce(&mut Model)) {
    let mut d = replica.doc(id).unwrap();
    let mut m = doc::read_model(&d).unwrap();
    f(&mut m);
    doc::write_model(&mut d, &m, 2, "sửa").unwrap();
    replica.put_local(id, &mut d);
}

pub fn model(replica: &MemoryReplica, id: &str) -> Model {
    doc::read_model(&replica.doc(id).unwrap()).unwrap()
}

pub fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("danvan.sqlite3");
    (dir, db)
}

/// A fresh database on the test PostgreSQL server, or None when none is configured.
pub async fn fresh_postgres() -> Option<String> {
    let Ok(admin) = std::env::var("DANVAN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("DANVAN_REQUIRE_POSTGRES").is_err(),
            "DANVAN_REQUIRE_POSTGRES is set but DANVAN_TEST_POSTGRES_URL is not"
        );
        eprintln!("skipped: DANVAN_TEST_POSTGRES_URL not set (.ci/test sets it)");
        return None;
    };
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("connect to test PostgreSQL");
    tokio::spawn(conn);
    let name = format!("danvan_test_{}", uuid::Uuid::new_v4().simple());
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    Some(admin_url_with_db(&admin, &name))
}

pub fn admin_url_with_db(admin: &str, db: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let without_db = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{without_db}/{db}?{q}"),
        None => format!("{without_db}/{db}"),
    }
}
