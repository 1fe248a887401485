//! Sync benchmarks: the real server (in process, SQLite in a temp dir, loopback HTTP) and the real
//! session code with in-memory replicas. Prints one figure per line, `name = value unit`.
//!
//!   cargo bench --bench sync                      # replicas of 100, 1,000 and 10,000 documents
//!   DANVAN_BENCH_SIZES=100,1000,10000,100000 cargo bench --bench sync
//!
//! Bytes are the HTTP bodies as sent (JSON); `*_gzip` the same bodies gzip-compressed, as HTTP
//! compression sends them to browsers.

use std::cell::Cell;
use std::time::Instant;

use automerge::AutoCommit;
use danvan::doc;
use danvan::domain::{IndicatorDraft, Model, ModelDraft, STANDARD_FIELDS};
use danvan::server::{Config, bind};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{Transport, run_session};
use danvan::sync::{SyncRequest, SyncResponse};

/// Counts requests and body bytes both ways.
struct Counting {
    client: reqwest::Client,
    url: String,
    requests: Cell<usize>,
    sent: Cell<usize>,
    received: Cell<usize>,
    /// The same bodies gzip-compressed (level 6, as HTTP compression would send them).
    sent_gzip: Cell<usize>,
    received_gzip: Cell<usize>,
}

fn gzip_len(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap().len()
}

impl Counting {
    fn new(base: &str) -> Counting {
        Counting {
            client: reqwest::Client::new(),
            url: format!("{base}/api/sync"),
            requests: Cell::new(0),
            sent: Cell::new(0),
            received: Cell::new(0),
            sent_gzip: Cell::new(0),
            received_gzip: Cell::new(0),
        }
    }
    fn reset(&self) {
        self.requests.set(0);
        self.sent.set(0);
        self.received.set(0);
        self.sent_gzip.set(0);
        self.received_gzip.set(0);
    }
    fn total(&self) -> usize {
        self.sent.get() + self.received.get()
    }
    fn total_gzip(&self) -> usize {
        self.sent_gzip.get() + self.received_gzip.get()
    }
}

impl Transport for Counting {
    type Error = String;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        let body = danvan::sync::encode(request);
        self.requests.set(self.requests.get() + 1);
        self.sent.set(self.sent.get() + body.len());
        self.sent_gzip.set(self.sent_gzip.get() + gzip_len(&body));
        let res = self
            .client
            .post(&self.url)
            .header("content-type", danvan::sync::CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let bytes = res.bytes().await.map_err(|e| e.to_string())?;
        self.received.set(self.received.get() + bytes.len());
        self.received_gzip.set(self.received_gzip.get() + gzip_len(&bytes));
        danvan::sync::decode(&bytes).map_err(|e| e.to_string())
    }
}

const PARAGRAPH: &str = "Thôn có nhiều hộ đồng bào dân tộc thiểu số, đường giao thông lầy lội vào mùa mưa, \
rác thải sinh hoạt chưa được thu gom tập trung. Chi bộ và Ban công tác Mặt trận thôn đã họp bàn, \
lấy ý kiến nhân dân, thống nhất cách làm: khéo chọn việc, khéo tuyên truyền, khéo tổ chức thực hiện. ";

/// A realistic model of about 3 KB saved.
fn model_doc(i: usize) -> AutoCommit {
    let id = format!("bench-{i:06}");
    let mut m = Model::new(id.clone(), "Cán bộ dân vận", 1_700_000_000_000 + i as i64);
    let mut d = ModelDraft::blank(2025, "Ban Dân vận Đảng ủy xã");
    d.name = format!("Dân vận khéo trong xây dựng nông thôn mới số {i}");
    for text in [&mut d.situation, &mut d.goals, &mut d.content, &mut d.area, &mut d.forces, &mut d.resources, &mut d.sustainability] {
        *text = PARAGRAPH.repeat(2);
    }
    d.owner_name = format!("Chi bộ thôn {i}");
    d.start_date = "2025-01-15".into();
    for k in 0..3 {
        d.indicators.push(IndicatorDraft { id: format!("i{k}"), name: format!("Chỉ tiêu {k}"), unit: "hộ".into(), target: "40".into(), achieved: "12".into() });
    }
    let fields: Vec<String> = STANDARD_FIELDS.iter().map(|(c, _)| c.to_string()).collect();
    d.apply(&mut m, &fields).unwrap();
    doc::create(&m, 1).unwrap()
}

fn figure(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("{name} = {value} {unit}");
}

async fn bench_size(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database: dir.path().join("bench.sqlite3"),
        database_url: None,
        dist: dir.path().join("no-dist"),
        cache_docs: 2000,
    };
    let (addr, serving) = bind(&config).await.unwrap();
    let server = tokio::spawn(serving);
    let base = format!("http://{addr}");

    let seed = MemoryReplica::new();
    let mut saved = 0usize;
    for i in 0..n {
        let mut d = model_doc(i);
        saved += d.save().len();
        seed.put_local(&format!("bench-{i:06}"), &mut d);
    }
    let t = Counting::new(&base);
    let started = Instant::now();
    run_session(&seed, &t, &mut ()).await.unwrap();
    let p = format!("sync.docs_{n}");
    figure(&format!("{p}.doc_saved_avg"), saved / n, "bytes");
    figure(&format!("{p}.initial_push.time"), format!("{:.3}", started.elapsed().as_secs_f64()), "s");
    figure(&format!("{p}.initial_push.requests"), t.requests.get(), "requests");

    // A new replica gets everything.
    let fresh = MemoryReplica::new();
    t.reset();
    let started = Instant::now();
    run_session(&fresh, &t, &mut ()).await.unwrap();
    figure(&format!("{p}.fresh_replica.time"), format!("{:.3}", started.elapsed().as_secs_f64()), "s");
    figure(&format!("{p}.fresh_replica.requests"), t.requests.get(), "requests");
    figure(&format!("{p}.fresh_replica.bytes"), t.total(), "bytes");
    figure(&format!("{p}.fresh_replica.bytes_gzip"), t.total_gzip(), "bytes");
    figure(&format!("{p}.fresh_replica.bytes_per_saved_byte"), format!("{:.3}", t.total() as f64 / saved as f64), "ratio");
    figure(&format!("{p}.fresh_replica.gzip_bytes_per_saved_byte"), format!("{:.3}", t.total_gzip() as f64 / saved as f64), "ratio");

    // Nothing new on either side.
    t.reset();
    let started = Instant::now();
    run_session(&fresh, &t, &mut ()).await.unwrap();
    figure(&format!("{p}.noop.time"), format!("{:.4}", started.elapsed().as_secs_f64()), "s");
    figure(&format!("{p}.noop.requests"), t.requests.get(), "requests");
    figure(&format!("{p}.noop.bytes"), t.total(), "bytes");

    // One field edited on one replica.
    let id = format!("bench-{:06}", n / 2);
    let mut d = fresh.doc(&id).unwrap();
    let mut m = doc::read_model(&d).unwrap();
    m.owner_name = "Hội Cựu chiến binh xã".into();
    doc::write_model(&mut d, &m, 2, "sửa").unwrap();
    let change = d.get_last_local_change().map(|c| c.raw_bytes().len()).unwrap_or(0);
    fresh.put_local(&id, &mut d);
    t.reset();
    let started = Instant::now();
    run_session(&fresh, &t, &mut ()).await.unwrap();
    figure(&format!("{p}.one_edit.time"), format!("{:.4}", started.elapsed().as_secs_f64()), "s");
    figure(&format!("{p}.one_edit.requests"), t.requests.get(), "requests");
    figure(&format!("{p}.one_edit.bytes"), t.total(), "bytes");
    figure(&format!("{p}.one_edit.bytes_gzip"), t.total_gzip(), "bytes");
    figure(&format!("{p}.one_edit.change_size"), change, "bytes");
    server.abort();
}

fn main() {
    let sizes: Vec<usize> = std::env::var("DANVAN_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for n in sizes {
        runtime.block_on(bench_size(n));
    }
}
