//! Helpers shared by the native integration tests: a real server on a random port, the real
//! session code over HTTP, and in-memory replicas standing in for browsers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use automerge::AutoCommit;
use danvan::doc;
use danvan::domain::{Model, ModelDraft, STANDARD_FIELDS};
use danvan::server::{Config, bind};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{SessionReport, Transport, run_session};
use danvan::sync::{SyncRequest, SyncResponse};

pub struct Server {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(database: &Path, dist: &Path) -> Server {
    start_with(Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: database.to_path_buf(),
        database_url: None,
        dist: dist.to_path_buf(),
        cache_docs: 2000,
    })
    .await
}

pub async fn start_with(config: Config) -> Server {
    let (addr, serving) = bind(&config).await.expect("server starts");
    let task = tokio::spawn(async move {
        let _ = serving.await;
    });
    Server { url: format!("http://{addr}"), task }
}

pub struct Http {
    client: reqwest::Client,
    url: String,
    feed_budget: Option<u32>,
}

impl Http {
    pub fn to(server: &Server) -> Http {
        Http::at(&server.url)
    }
    /// The sync endpoint of the server at `base` (e.g. "http://127.0.0.1:8080").
    pub fn at(base: &str) -> Http {
        Http::with_client(reqwest::Client::new(), base)
    }
    pub fn with_client(client: reqwest::Client, base: &str) -> Http {
        Http { client, url: format!("{base}/api/sync"), feed_budget: None }
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

pub fn new_model(id: &str, name: &str) -> AutoCommit {
    let mut m = Model::new(id.into(), "Cán bộ A", 1_700_000_000_000);
    let mut d = ModelDraft::blank(2025, "Xã Bản Bo");
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

