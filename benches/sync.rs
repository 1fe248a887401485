//! Sync benchmarks against the real `danvan-server` binary (a separate process, as deployed) with
//! the real session code and in-memory replicas. Prints one figure per line, `name = value unit`.
//!
//!   cargo bench --bench sync                                  # sizes 100, 1,000, 10,000 + load + rss
//!   DANVAN_BENCH=sizes DANVAN_BENCH_SIZES=100000 cargo bench --bench sync
//!   DANVAN_BENCH=load DANVAN_BENCH_POSTGRES_URL=postgres://… cargo bench --bench sync
//!   DANVAN_BENCH=link cargo bench --bench sync                # needs root (network namespaces)
//!   DANVAN_BENCH=crashloop cargo bench --bench sync           # SIGKILL ×50 under 200 clients
//!   DANVAN_BENCH=first-sync cargo bench --bench sync          # new phone over 2G, needs root
//!   DANVAN_BENCH=province DANVAN_BENCH_POSTGRES_URL=postgres://… cargo bench --bench sync
//!
//! Parts (`DANVAN_BENCH`, comma-separated): `sizes` (fresh replica, no-op, k edited documents for
//! each replica size), `load` (1,000 clients each editing once a second, push only; also on
//! PostgreSQL when `DANVAN_BENCH_POSTGRES_URL` names a cluster, in a database created for the run;
//! `DANVAN_BENCH_STORES` picks the stores), `rss` (server memory
//! against stored and recently touched documents), `link` (a new replica of 5,000 models over an
//! emulated 1 Mbit/s, 300 ms link), `crashloop` (the server SIGKILLed 50 times while 200 clients
//! sync: acknowledged edits lost and duplicates, both must be 0), `first-sync` (a new phone
//! receives 1,500 models over 128 kbit/s, 300 ms, 2 % loss: time over what the bytes need),
//! `province` (a province's devices in steady state, below).
//!
//! `province` (issue 15): one province of `DANVAN_BENCH_UNITS` (600) communes under
//! `DANVAN_BENCH_DISTRICTS` (30) districts; `DANVAN_BENCH_MODELS_PER_UNIT` (5) realistic models
//! per commune, `DANVAN_BENCH_LIBRARY_PER_UNIT` (1) of them recognised (in the library: every
//! device's feed carries its changes); `DANVAN_BENCH_USERS_PER_UNIT` (5) cadre accounts per
//! commune, a reviewer per district and one for the province (reading subtrees), all written
//! into an empty store before the server starts. `DANVAN_BENCH_DEVICES` (10,000) devices, each
//! with its own session (two per reviewer, the rest spread over the communes' cadres), have
//! synced before (one request without feed learns the server and scope; the cursor is the
//! store's head). Then for `DANVAN_BENCH_SECONDS` (120) each device syncs every 60 s, the rounds
//! spread evenly over the minute; `DANVAN_BENCH_EDITORS` (100) of them are editing a model of
//! their commune (a text and an indicator) and save every `DANVAN_BENCH_SAVE_SECONDS` (15) s,
//! each save followed by a round, as the app syncs after a local change (its 60 s timer restarts
//! after each round). A round is what the app's session sends (`sync::session`): the edited
//! document's message opened on the heads the server acknowledged, the cursor, and the feed
//! budget of `sync::pace` (16 KB first, then sized from the link as measured), with further
//! requests while the edit is not settled or the feed has more pages; so the feed carries the
//! editors' changes to the other devices of their commune and to the reviewers above them.
//! Devices count what the feed brings and keep only their cursor (and the edited model), so the
//! bench process stays small beside the server. `ack_latency` is a round that pushes an edit,
//! `feed_latency` one that only pulls; `server_cpu` is the server process's utime + stime
//! (/proc/PID/stat) over the run (PostgreSQL's own processes not included), `server_rss_*` its
//! VmRSS at start and end, and VmHWM (peak since the process started). `DANVAN_BENCH_STORES`
//! (`sqlite,postgres`) picks the stores; PostgreSQL runs when `DANVAN_BENCH_POSTGRES_URL` names a
//! cluster (a database `danvan_province_<pid>` is created in it).
//! Connections: a phone would hold its own keep-alive connection, usually closed by then
//! between rounds a minute apart. The bench shares one client whose pool keeps at most
//! `DANVAN_BENCH_CONNECTIONS` (64) idle connections (0: a new connection for every request), as
//! a reverse proxy in front of the server would: 10,000 sockets in the bench process would
//! measure the bench's file descriptors and the kernel, not the server's work, and one round
//! trip a minute per device does not need its own.
//!
//! Documents are realistic models (~3 KB saved: seven narrative items of varied Vietnamese text,
//! indicators, a few edits of history); 2,000 distinct ones are generated and larger sets reuse
//! their content under new ids. Bytes are HTTP bodies as sent; `*_gzip` the same bodies
//! gzip-compressed, as HTTP compression would send them.

#[path = "../tests/support/link.rs"]
mod link;
#[path = "../tests/support/paced.rs"]
mod paced;

use std::cell::Cell;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash};
use danvan::doc;
use danvan::domain::{IndicatorDraft, Model, ModelDraft, STANDARD_FIELDS};
use danvan::domain::{Grant, Role, UnitTree};
use danvan::server::store::{DocStore, Session, SqliteStore, Store, StoreError, User, Write};
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{LocalDocs, Transport, assume_server_holds, run_session};
use danvan::sync::{Chunk, DocMessage, PROTOCOL, SyncRequest, SyncResponse, heads_to_bytes};

fn figure(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("{name} = {value} {unit}");
}

// ---------------------------------------------------------------------------------------------
// Documents

/// Words of the movement's reports, to make text that compresses like real text does.
const WORDS: &[&str] = &[
    "dân", "vận", "khéo", "nhân", "dân", "thôn", "bản", "xã", "phường", "chi", "bộ", "mặt", "trận", "hội",
    "phụ", "nữ", "nông", "dân", "cựu", "chiến", "binh", "đoàn", "thanh", "niên", "đường", "giao", "thông",
    "nông", "thôn", "mới", "hộ", "nghèo", "cận", "nghèo", "vận", "động", "tuyên", "truyền", "đóng", "góp",
    "ngày", "công", "hiến", "đất", "bê", "tông", "hóa", "kênh", "mương", "vệ", "sinh", "môi", "trường",
    "rác", "thải", "thu", "gom", "phân", "loại", "tại", "nguồn", "trồng", "cây", "xanh", "thắp", "sáng",
    "đường", "quê", "camera", "an", "ninh", "trật", "tự", "tổ", "tự", "quản", "hòa", "giải", "cơ", "sở",
    "sinh", "kế", "giảm", "nghèo", "bền", "vững", "chuyển", "đổi", "số", "dịch", "vụ", "công", "trực",
    "tuyến", "đồng", "bào", "dân", "tộc", "thiểu", "số", "già", "làng", "trưởng", "bản", "người", "có",
    "uy", "tín", "cán", "bộ", "đảng", "viên", "gương", "mẫu", "đi", "đầu", "nói", "đi", "đôi", "với",
    "làm", "lấy", "ý", "kiến", "họp", "bàn", "công", "khai", "minh", "bạch", "kết", "quả", "đạt", "được",
    "năm", "2024", "2025", "km", "triệu", "đồng", "trên", "100", "hộ", "tham", "gia", "tự", "nguyện",
];

/// Deterministic pseudo-random numbers (splitmix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len())]);
    }
    let mut c = s.chars();
    let first = c.next().map(|f| f.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}. ", c.as_str())
}

fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    (0..sentences)
        .map(|_| {
            let words = 8 + rng.below(10);
            sentence(rng, words)
        })
        .collect()
}

fn fields() -> Vec<String> {
    STANDARD_FIELDS.iter().map(|(c, _)| c.to_string()).collect()
}

/// A model as the app makes it: created from a form, then edited a few times.
fn realistic_doc(i: usize) -> AutoCommit {
    realistic_doc_in(i, format!("bench-{i:06}"), BENCH_UNIT, Vec::new())
}

/// [`realistic_doc`] with its own id and unit, and a lifecycle log (`transitions`: e.g. started,
/// proposed, recognised, which puts it in the library).
fn realistic_doc_in(i: usize, id: String, unit: &str, transitions: Vec<danvan::domain::Transition>) -> AutoCommit {
    let mut rng = Rng(i as u64 + 1);
    let mut m = Model::new(id, "Cán bộ dân vận", 1_700_000_000_000 + i as i64);
    let mut d = ModelDraft::blank(2025, unit);
    d.name = format!("Dân vận khéo: {}", sentence(&mut rng, 6).trim_end_matches(". "));
    for text in [&mut d.situation, &mut d.goals, &mut d.content, &mut d.area, &mut d.forces, &mut d.resources, &mut d.sustainability] {
        *text = paragraph(&mut rng, 5);
    }
    d.owner_name = format!("Chi bộ thôn {}", i % 97);
    d.start_date = "2025-01-15".into();
    for k in 0..3 {
        d.indicators.push(IndicatorDraft {
            id: format!("i{k}"),
            name: sentence(&mut rng, 4).trim_end_matches(". ").to_string(),
            unit: "hộ".into(),
            target: format!("{}", 20 + rng.below(200)),
            achieved: format!("{}", rng.below(20)),
        });
    }
    d.apply(&mut m, &fields()).unwrap();
    m.transitions = transitions;
    let mut doc = doc::create(&m, 1).unwrap();
    for e in 0..3 {
        let mut m = doc::read_model(&doc).unwrap();
        let extra = sentence(&mut rng, 10);
        m.content.update(format!("{}{extra}", m.content.as_str()));
        m.indicators[e % 3].achieved = (20 + e * 7) as f64;
        doc::write_model(&mut doc, &m, 2 + e as i64, "cập nhật").unwrap();
    }
    doc
}

/// `n` documents: 2,000 distinct ones, and beyond that the same content under new ids.
fn documents(n: usize) -> Vec<(String, Vec<u8>, Vec<ChangeHash>)> {
    documents_of(n, 2000)
}

/// `n` documents, `distinct` of them with content of their own (the rest reuse it under new
/// ids: the same sizes, generated faster).
fn documents_of(n: usize, distinct: usize) -> Vec<(String, Vec<u8>, Vec<ChangeHash>)> {
    let mut distinct: Vec<AutoCommit> = (0..n.min(distinct)).map(realistic_doc).collect();
    let count = distinct.len();
    (0..n)
        .map(|i| {
            let id = format!("bench-{i:06}");
            let mut d = distinct[i % count].fork();
            if i >= count {
                d.put(automerge::ROOT, "id", id.as_str()).unwrap();
                d.commit();
            }
            let bytes = d.save();
            (id, bytes, d.get_heads())
        })
        .collect()
}

/// The unit every benchmark model belongs to, and its cadre's account.
const BENCH_UNIT: &str = "XA-BENCH";

/// Makes the benchmark's unit and cadre (kept if present) and signs them in: returns the token.
async fn bench_account(store: &dyn Store) -> String {
    let tree = UnitTree::from_csv(&format!("code,name,kind,level,parent\n{BENCH_UNIT},Xã đo hiệu năng,xa,co_so,\n")).unwrap();
    store.save_units(&store.unit_tree().await.unwrap(), &tree).await.unwrap();
    let user = User {
        username: "bench".into(),
        display_name: "Cán bộ đo hiệu năng".into(),
        password_hash: String::new(),
        disabled: false,
        grants: vec![Grant { unit: BENCH_UNIT.into(), role: Role::Member }],
    };
    match store.create_user(&user, 1).await {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(e) => panic!("{e}"),
    }
    bench_sessions(store, 1).await.remove(0)
}

/// `n` signed-in devices of the benchmark cadre (each load client syncs with its own session,
/// as real phones do).
async fn bench_sessions(store: &dyn Store, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        let (token, stored) = danvan::server::session::new_token();
        let session = Session { username: "bench".into(), verifier_hash: stored.verifier_hash, created_at: 1, expires_at: i64::MAX };
        store.create_session(&stored.id, &session).await.unwrap();
        tokens.push(token);
    }
    tokens
}

async fn bench_account_sqlite(path: &Path) -> String {
    bench_account(&SqliteStore::open(path).unwrap()).await
}

/// Writes documents straight into a server's SQLite file (before the server starts).
async fn seed_sqlite(path: &Path, docs: &[(String, Vec<u8>, Vec<ChangeHash>)]) {
    let store = SqliteStore::open(path).unwrap();
    for batch in docs.chunks(2000) {
        let writes = batch
            .iter()
            .map(|(id, bytes, heads)| Write {
                id: id.clone(),
                expected: None,
                chunk: Chunk { bytes: bytes.clone(), snapshot: true },
                heads: heads_to_bytes(heads),
                unit: BENCH_UNIT.into(),
                public: false,
                // As the server writes them: the facts with the document (no backfill at start).
                facts: automerge::AutoCommit::load(bytes)
                    .ok()
                    .and_then(|d| danvan::doc::read_model(&d).ok())
                    .map(|m| danvan::domain::report::ModelFacts::of(&m)),
                readers: None,
            })
            .collect();
        for r in store.write(writes, 1).await.unwrap() {
            r.unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server process

struct ServerProcess {
    child: Child,
    url: String,
    /// The benchmark cadre's session.
    token: String,
}

impl ServerProcess {
    fn start(args: &[&str], prefix: &[&str], token: String) -> ServerProcess {
        let exe = env!("CARGO_BIN_EXE_danvan-server");
        let mut cmd = if prefix.is_empty() {
            Command::new(exe)
        } else {
            let mut c = Command::new(prefix[0]);
            c.args(&prefix[1..]).arg(exe);
            c
        };
        let mut child = cmd
            .args(["--dist", "/nonexistent-dist"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("danvan-server starts");
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(at) = line.find("http://") {
                let url = line[at..].trim().trim_end_matches('/').to_string();
                std::thread::spawn(move || for _ in lines {});
                return ServerProcess { child, url, token };
            }
        }
        panic!("server exited before printing its URL");
    }

    async fn sqlite(db: &Path) -> ServerProcess {
        let token = bench_account_sqlite(db).await;
        ServerProcess::start(&["--addr", "127.0.0.1:0", "--database", db.to_str().unwrap()], &[], token)
    }

    fn counting(&self) -> Counting {
        Counting::new(&self.url, &self.token)
    }

    /// Resident and peak memory, from /proc.
    fn memory_mb(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Counting transport

fn gzip_len(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap().len()
}

/// Counts requests and body bytes both ways.
struct Counting {
    client: reqwest::Client,
    url: String,
    token: String,
    budget: Option<u32>,
    requests: Cell<usize>,
    sent: Cell<usize>,
    received: Cell<usize>,
    sent_gzip: Cell<usize>,
    received_gzip: Cell<usize>,
}

impl Counting {
    fn new(base: &str, token: &str) -> Counting {
        Counting {
            client: reqwest::Client::builder().timeout(Duration::from_secs(600)).build().unwrap(),
            url: format!("{base}/api/sync"),
            token: token.to_string(),
            budget: None,
            requests: Cell::new(0),
            sent: Cell::new(0),
            received: Cell::new(0),
            sent_gzip: Cell::new(0),
            received_gzip: Cell::new(0),
        }
    }
    fn reset(&self) {
        for c in [&self.requests, &self.sent, &self.received, &self.sent_gzip, &self.received_gzip] {
            c.set(0);
        }
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
        let bytes = post_envelope(&self.client, &self.url, &format!("Bearer {}", self.token), body).await?;
        self.received.set(self.received.get() + bytes.len());
        self.received_gzip.set(self.received_gzip.get() + gzip_len(&bytes));
        danvan::sync::decode(&bytes).map_err(|e| e.to_string())
    }
    fn feed_budget(&self) -> Option<u32> {
        self.budget
    }
}

// ---------------------------------------------------------------------------------------------
// sizes

fn edit_owner(replica: &MemoryReplica, id: &str, owner: &str) -> usize {
    let mut d = replica.doc(id).unwrap();
    let mut m = doc::read_model(&d).unwrap();
    m.owner_name = owner.into();
    doc::write_model(&mut d, &m, 2, "sửa").unwrap();
    let change = d.get_last_local_change().map(|c| c.raw_bytes().len()).unwrap_or(0);
    replica.put_local(id, &mut d);
    change
}

async fn bench_size(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.sqlite3");
    let p = format!("sync.docs_{n}");
    let generated = Instant::now();
    let docs = documents(n);
    let saved: usize = docs.iter().map(|d| d.1.len()).sum();
    eprintln!("# {n} documents generated in {:.1} s", generated.elapsed().as_secs_f64());
    figure(&format!("{p}.doc_saved_avg"), saved / n, "bytes");
    figure(&format!("{p}.saved_total"), saved, "bytes");

    // The first push of a replica's documents, through the server (up to 10,000; larger sets are
    // written into the store directly).
    if n <= 10_000 {
        let server = ServerProcess::sqlite(&db).await;
        let seed = MemoryReplica::new();
        for (id, bytes, _) in &docs {
            seed.put_local(id, &mut AutoCommit::load(bytes).unwrap());
        }
        let t = server.counting();
        let started = Instant::now();
        run_session(&seed, &t, &mut ()).await.unwrap();
        figure(&format!("{p}.initial_push.time"), format!("{:.3}", started.elapsed().as_secs_f64()), "s");
        figure(&format!("{p}.initial_push.requests"), t.requests.get(), "requests");
        figure(&format!("{p}.initial_push.bytes"), t.total(), "bytes");
    } else {
        seed_sqlite(&db, &docs).await;
    }
    drop(docs);
    let server = ServerProcess::sqlite(&db).await;

    // A new replica gets everything.
    let fresh = MemoryReplica::new();
    let t = server.counting();
    let started = Instant::now();
    run_session(&fresh, &t, &mut ()).await.unwrap();
    assert_eq!(fresh.ids().len(), n);
    figure(&format!("{p}.fresh_replica.time"), format!("{:.3}", started.elapsed().as_secs_f64()), "s");
    figure(&format!("{p}.fresh_replica.requests"), t.requests.get(), "requests");
    figure(&format!("{p}.fresh_replica.bytes"), t.total(), "bytes");
    figure(&format!("{p}.fresh_replica.bytes_gzip"), t.total_gzip(), "bytes");
    figure(&format!("{p}.fresh_replica.bytes_per_saved_byte"), format!("{:.3}", t.total() as f64 / saved as f64), "ratio");

    // Nothing new on either side.
    for round in 0..2 {
        t.reset();
        let started = Instant::now();
        run_session(&fresh, &t, &mut ()).await.unwrap();
        if round == 1 {
            figure(&format!("{p}.noop.time"), format!("{:.4}", started.elapsed().as_secs_f64()), "s");
            figure(&format!("{p}.noop.requests"), t.requests.get(), "requests");
            figure(&format!("{p}.noop.bytes"), t.total(), "bytes");
        }
    }

    // k documents edited (one field each) on this replica; then another replica receives them.
    let other = MemoryReplica::new();
    run_session(&other, &server.counting(), &mut ()).await.unwrap();
    for k in [1usize, 10, 100] {
        if k > n {
            break;
        }
        let mut change = 0;
        for j in 0..k {
            let id = format!("bench-{:06}", (j * 7919 + k) % n);
            change += edit_owner(&fresh, &id, &format!("Hội Cựu chiến binh {k}-{j}"));
        }
        t.reset();
        let started = Instant::now();
        run_session(&fresh, &t, &mut ()).await.unwrap();
        let q = format!("{p}.edited_{k}");
        figure(&format!("{q}.push.time"), format!("{:.4}", started.elapsed().as_secs_f64()), "s");
        figure(&format!("{q}.push.requests"), t.requests.get(), "requests");
        figure(&format!("{q}.push.bytes"), t.total(), "bytes");
        figure(&format!("{q}.changes_size"), change, "bytes");
        if k == 1 {
            figure(&format!("{q}.push.bytes_over_change"), t.total() as i64 - change as i64, "bytes");
        }
        let r = server.counting();
        let started = Instant::now();
        run_session(&other, &r, &mut ()).await.unwrap();
        figure(&format!("{q}.receive.time"), format!("{:.4}", started.elapsed().as_secs_f64()), "s");
        figure(&format!("{q}.receive.requests"), r.requests.get(), "requests");
        figure(&format!("{q}.receive.bytes"), r.total(), "bytes");
    }
    let (rss, peak) = server.memory_mb();
    figure(&format!("{p}.server_rss"), format!("{rss:.1}"), "MB");
    figure(&format!("{p}.server_rss_peak"), format!("{peak:.1}"), "MB");
}

// ---------------------------------------------------------------------------------------------
// load: many clients, each editing its own model once a second

/// One simulated phone: its document in memory and its sync state with the server. Each edit is
/// one request carrying one automerge sync message (push only: feed budget 0), as the app's
/// session sends it.
struct Phone {
    id: String,
    doc: AutoCommit,
    state: sync::State,
}

impl Phone {
    fn new(id: String, bytes: &[u8]) -> Phone {
        let mut doc = AutoCommit::load(bytes).unwrap();
        let heads = doc.get_heads();
        let mut state = sync::State::new();
        state.shared_heads = heads;
        Phone { id, doc, state }
    }

    /// Edits one field and returns the request for it.
    fn edit(&mut self, n: u64) -> Vec<u8> {
        self.change(n);
        self.resend()
    }

    /// Edits one field, without sending it.
    fn change(&mut self, n: u64) {
        self.doc.put(automerge::ROOT, "owner_name", format!("Chủ thể {n}")).unwrap();
        self.doc.commit();
    }

    /// The request for what the server has not acknowledged yet, without a new edit.
    /// As the app's session opens a dirty document: one round trip per edit, from a fresh state
    /// (an old one remembers changes as sent in a request whose answer was lost).
    fn resend(&mut self) -> Vec<u8> {
        let shared = self.state.shared_heads.clone();
        self.state = sync::State::new();
        assume_server_holds(&mut self.state, shared);
        let message = self.doc.sync().generate_sync_message(&mut self.state).unwrap().encode();
        danvan::sync::encode(&SyncRequest {
            protocol: PROTOCOL,
            server: None,
            cursor: 0,
            scope: 0,
            feed_budget: Some(0),
            docs: vec![DocMessage { id: self.id.clone(), message, document: None }],
        })
    }

    /// Applies the server's answer; true if it acknowledges everything we have.
    fn acknowledged(&mut self, body: &[u8]) -> bool {
        let Ok(res) = danvan::sync::decode::<SyncResponse>(body) else { return false };
        if !res.errors.is_empty() {
            return false;
        }
        for d in res.docs {
            if let Ok(m) = sync::Message::decode(&d.message) {
                let _ = self.doc.sync().receive_sync_message(&mut self.state, m);
            }
        }
        self.state.shared_heads = self.doc.get_heads();
        self.state.their_heads.as_deref() == Some(self.doc.get_heads().as_slice())
    }
}

async fn bench_load(label: &str, server: &ServerProcess, docs: &[(String, Vec<u8>, Vec<ChangeHash>)], seconds: u64, tokens: Vec<String>) {
    let clients = docs.len();
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).timeout(Duration::from_secs(30)).build().unwrap();
    let url = Arc::new(format!("{}/api/sync", server.url));
    assert_eq!(tokens.len(), clients);
    let started = Instant::now() + Duration::from_millis(500);
    let mut tasks = Vec::new();
    for (i, ((id, bytes, _), token)) in docs.iter().zip(tokens).enumerate() {
        let mut phone = Phone::new(id.clone(), bytes);
        let (http, url, auth) = (http.clone(), url.clone(), format!("Bearer {token}"));
        // Spread the clients over the second, as real ones would be.
        let phase = Duration::from_micros((i as u64 * 1_000_000) / clients as u64);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0usize;
            let mut tick = tokio::time::interval_at((started + phase).into(), Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            for n in 0..seconds {
                tick.tick().await;
                let body = phone.edit(n);
                let sent = Instant::now();
                let res = http
                    .post(url.as_str())
                    .header("authorization", auth.as_str())
                    .header("content-type", danvan::sync::CONTENT_TYPE)
                    .body(body)
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) => phone.acknowledged(&b),
                        Err(_) => false,
                    },
                    _ => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, f) = t.await.unwrap();
        latencies.extend(l);
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or_default();
    let q = format!("load.{label}.clients_{clients}");
    figure(&format!("{q}.edits_sent"), latencies.len() + failed, "edits");
    figure(&format!("{q}.acknowledged"), latencies.len(), "edits");
    figure(&format!("{q}.failed"), failed, "edits");
    figure(&format!("{q}.throughput"), format!("{:.0}", latencies.len() as f64 / elapsed), "acks/s");
    figure(&format!("{q}.latency_p50"), format!("{:.1}", pct(0.50).as_secs_f64() * 1000.0), "ms");
    figure(&format!("{q}.latency_p99"), format!("{:.1}", pct(0.99).as_secs_f64() * 1000.0), "ms");
    figure(&format!("{q}.latency_max"), format!("{:.1}", latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0), "ms");
    let (rss, peak) = server.memory_mb();
    figure(&format!("{q}.server_rss"), format!("{rss:.1}"), "MB");
    figure(&format!("{q}.server_rss_peak"), format!("{peak:.1}"), "MB");
}

async fn load_part() {
    let clients: usize = std::env::var("DANVAN_BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let seconds: u64 = std::env::var("DANVAN_BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let docs = documents(clients);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("load.sqlite3");
    let stores = std::env::var("DANVAN_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    if stores.contains("sqlite") {
        seed_sqlite(&db, &docs).await;
        let server = ServerProcess::sqlite(&db).await;
        let tokens = bench_sessions(&SqliteStore::open(&db).unwrap(), clients).await;
        bench_load("sqlite", &server, &docs, seconds, tokens).await;
    }
    if let Some(url) = std::env::var("DANVAN_BENCH_POSTGRES_URL").ok().filter(|_| stores.contains("postgres")) {
        let url = fresh_postgres_database(&url, &format!("danvan_load_{}", std::process::id())).await;
        let pg = danvan::server::store::postgres::PostgresStore::connect(&url).await.unwrap();
        let token = bench_account(&pg).await;
        let tokens = bench_sessions(&pg, clients).await;
        let server = ServerProcess::start(&["--addr", "127.0.0.1:0", "--database-url", &url], &[], token);
        // Seed through the server: one request of up to 500 documents at a time.
        let seed = MemoryReplica::new();
        for (id, bytes, _) in &docs {
            seed.put_local(id, &mut AutoCommit::load(bytes).unwrap());
        }
        run_session(&seed, &server.counting(), &mut ()).await.unwrap();
        bench_load("postgres", &server, &docs, seconds, tokens).await;
    } else {
        eprintln!("# load.postgres skipped: set DANVAN_BENCH_POSTGRES_URL to a PostgreSQL cluster (a database is created in it)");
    }
}

// ---------------------------------------------------------------------------------------------
// rss: server memory against documents stored and recently touched

async fn rss_part() {
    let sizes: Vec<usize> = std::env::var("DANVAN_BENCH_RSS_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rss.sqlite3");
        let docs = documents(n);
        seed_sqlite(&db, &docs).await;
        let server = ServerProcess::sqlite(&db).await;
        let (idle, _) = server.memory_mb();
        // Touch every document: one edit each, pushed 500 per request, then a new replica pulls
        // them all.
        let replica = MemoryReplica::new();
        for (id, bytes, heads) in &docs {
            let mut d = AutoCommit::load(bytes).unwrap();
            d.put(automerge::ROOT, "owner_name", "Hội Phụ nữ xã").unwrap();
            d.commit();
            let _ = replica.update_each(&[id.clone()], |id, _| {
                let mut state = sync::State::new();
                state.shared_heads = heads.clone();
                Some(danvan::sync::session::DocRecord { id: id.to_string(), doc: d.save(), sync: Some(state.encode()), dirty: true })
            })
            .await;
        }
        drop(docs);
        let started = Instant::now();
        run_session(&replica, &server.counting(), &mut ()).await.unwrap();
        let touched = started.elapsed().as_secs_f64();
        let fresh = MemoryReplica::new();
        run_session(&fresh, &server.counting(), &mut ()).await.unwrap();
        let (rss, peak) = server.memory_mb();
        let q = format!("rss.docs_{n}");
        figure(&format!("{q}.server_rss_idle"), format!("{idle:.1}"), "MB");
        figure(&format!("{q}.touch_all.time"), format!("{touched:.1}"), "s");
        figure(&format!("{q}.server_rss_after_touching_all"), format!("{rss:.1}"), "MB");
        figure(&format!("{q}.server_rss_peak"), format!("{peak:.1}"), "MB");
    }
}

// ---------------------------------------------------------------------------------------------
// crashloop: the server SIGKILLed again and again while many clients sync

/// `DANVAN_BENCH_CLIENTS` (200) clients each edit their own model as fast as the server answers;
/// the server is killed with SIGKILL `DANVAN_BENCH_KILLS` (50) times, 100–600 ms apart, and
/// restarted on the same database and port each time. Then every client syncs until all its
/// edits are acknowledged, and a fresh replica reads everything back. Prints the acknowledged
/// edits that the server lost (must be 0) and the documents or edits it holds twice (must be 0).
async fn crashloop_part() {
    let clients: usize = std::env::var("DANVAN_BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let kills: usize = std::env::var("DANVAN_BENCH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let docs = documents(clients);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crashloop.sqlite3");
    seed_sqlite(&db, &docs).await;
    let token = bench_account_sqlite(&db).await;
    let tokens = bench_sessions(&SqliteStore::open(&db).unwrap(), clients).await;
    // A fixed port, so clients find the restarted server where the killed one was.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let args = ["--addr", addr.as_str(), "--database", db.to_str().unwrap()];
    let server = Arc::new(std::sync::Mutex::new(ServerProcess::start(&args, &[], token.clone())));
    let url = Arc::new(format!("http://{addr}/api/sync"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for ((id, bytes, _), token) in docs.iter().zip(tokens) {
        let mut phone = Phone::new(id.clone(), bytes);
        let (http, url, stop, auth) = (http.clone(), url.clone(), stop.clone(), format!("Bearer {token}"));
        tasks.push(tokio::spawn(async move {
            // Every edit's change hash, and how many of them the server has acknowledged.
            let mut edits: Vec<ChangeHash> = Vec::new();
            let mut acked = 0usize;
            let mut failures = 0usize;
            let mut n = 0u64;
            loop {
                let finishing = stop.load(std::sync::atomic::Ordering::Relaxed);
                if finishing && acked == edits.len() {
                    break;
                }
                // Once told to stop, no new edits: only what is still unacknowledged is sent.
                if !finishing {
                    n += 1;
                    phone.change(n);
                }
                let body = phone.resend();
                if !finishing {
                    edits.push(phone.doc.get_heads()[0]);
                }
                let sent = edits.len();
                let ok = match http.post(url.as_str()).header("authorization", auth.as_str()).header("content-type", danvan::sync::CONTENT_TYPE).body(body).send().await {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) => phone.acknowledged(&b),
                        Err(_) => false,
                    },
                    _ => false,
                };
                if ok {
                    acked = sent;
                } else {
                    failures += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            (phone.id.clone(), edits, failures)
        }));
    }
    let mut rng = Rng(0x5eed);
    let started = Instant::now();
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(100 + rng.below(500) as u64)).await;
        let mut s = server.lock().unwrap();
        let _ = s.child.kill(); // SIGKILL
        let _ = s.child.wait();
        *s = ServerProcess::start(&args, &[], token.clone());
    }
    let killing = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    // Everything, read back by a device that never synced before.
    let fresh = MemoryReplica::new();
    let reader = Counting::new(&format!("http://{addr}"), &token);
    run_session(&fresh, &reader, &mut ()).await.unwrap();
    let (mut edits_total, mut lost, mut failures) = (0usize, 0usize, 0usize);
    for (id, edits, f) in &results {
        failures += f;
        edits_total += edits.len();
        let mut doc = fresh.doc(id).unwrap_or_else(|| panic!("{id} missing"));
        lost += edits.iter().filter(|h| doc.get_change_by_hash(h).is_none()).count();
    }
    let ids = fresh.ids();
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    let duplicated_docs = ids.len() - distinct.len() + ids.len().saturating_sub(clients);
    let mut duplicated_changes = 0;
    for id in &ids {
        let mut doc = fresh.doc(id).unwrap();
        let changes = doc.get_changes(&[]);
        let hashes: std::collections::HashSet<ChangeHash> = changes.iter().map(|c| c.hash()).collect();
        duplicated_changes += changes.len() - hashes.len();
    }
    let q = format!("crashloop.clients_{clients}.kills_{kills}");
    figure(&format!("{q}.time_killing"), format!("{:.1}", killing.as_secs_f64()), "s");
    figure(&format!("{q}.edits_acknowledged"), edits_total, "edits");
    figure(&format!("{q}.requests_failed_and_retried"), failures, "requests");
    figure(&format!("{q}.acknowledged_edits_lost"), lost, "edits");
    figure(&format!("{q}.documents_duplicated"), duplicated_docs, "documents");
    figure(&format!("{q}.changes_duplicated"), duplicated_changes, "changes");
    assert_eq!((lost, duplicated_docs, duplicated_changes), (0, 0, 0), "the server lost or duplicated acknowledged work");
}

// ---------------------------------------------------------------------------------------------
// link: a new replica of 5,000 models over an emulated 1 Mbit/s, 300 ms link

fn link_part() {
    if let Err(why) = link::DegradedLink::available() {
        eprintln!("# link skipped: {why}");
        return;
    }
    let n: usize = std::env::var("DANVAN_BENCH_LINK_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("link.sqlite3");
    let docs = documents(n);
    let saved: usize = docs.iter().map(|d| d.1.len()).sum();
    runtime.block_on(seed_sqlite(&db, &docs));
    let token = runtime.block_on(bench_account_sqlite(&db));
    drop(docs);
    let spec = link::LinkSpec {
        delay: Duration::from_millis(150),
        rate_bits_per_sec: 1_000_000,
        queue_limit_bytes: 64 * 1024,
        ..link::LinkSpec::default()
    };
    let link = link::DegradedLink::start("dvbench", spec).expect("link starts");
    let addr = format!("{}:8080", link.server_addr());
    let server = ServerProcess::start(
        &["--addr", &addr, "--database", db.to_str().unwrap()],
        &["ip", "netns", "exec", link.server_namespace()],
        token,
    );
    let (url, token) = (server.url.clone(), server.token.clone());
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            link.enter_client_namespace().unwrap();
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let replica = MemoryReplica::new();
                let t = Counting::new(&url, &token);
                let started = Instant::now();
                run_session(&replica, &t, &mut ()).await.unwrap();
                (started.elapsed(), t.requests.get(), t.total(), replica.ids().len())
            })
        })
        .join()
        .unwrap()
    });
    let (elapsed, requests, bytes, got) = result;
    assert_eq!(got, n);
    let q = format!("link_1mbit_300ms.fresh_replica.docs_{n}");
    figure(&format!("{q}.time"), format!("{:.1}", elapsed.as_secs_f64()), "s");
    figure(&format!("{q}.requests"), requests, "requests");
    figure(&format!("{q}.bytes"), bytes, "bytes");
    figure(&format!("{q}.saved_total"), saved, "bytes");
    figure(&format!("{q}.goodput"), format!("{:.0}", bytes as f64 * 8.0 / elapsed.as_secs_f64() / 1000.0), "kbit/s");
    drop(server);
}

// ---------------------------------------------------------------------------------------------
// first-sync: a new phone receives its unit's models over a 2G link

/// The 2G link of issue 11: 128 kbit/s each way, 300 ms round trip (150 ms each way, as the
/// `link` part counts it; `DANVAN_BENCH_FIRST_SYNC_DELAY_MS` sets the one-way delay), 2 % of
/// packets lost each way, and a tail-drop buffer of 32 KB in front of the rate limiter, i.e. 2 s
/// of queue at 128 kbit/s (a base station's per-phone buffer holds seconds of traffic; tbf/netem
/// emulations of EDGE use the same order).
fn first_sync_link() -> link::LinkSpec {
    let delay_ms = std::env::var("DANVAN_BENCH_FIRST_SYNC_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    link::LinkSpec {
        delay: Duration::from_millis(delay_ms),
        loss: 0.02,
        rate_bits_per_sec: 128_000,
        queue_limit_bytes: 32 * 1024,
        seed: 20261202,
        ..link::LinkSpec::default()
    }
}

/// Sync as the browser did before pacing (`DANVAN_BENCH_FIRST_SYNC_AS=before`, to compare): the
/// first request asks for the server's default page (2 MB), every request has a 60 s wall-clock
/// timeout, and later pages are sized from the rate measured across sessions (8 s, 64 KB – 2 MB).
struct BrowserAsOfMain {
    client: reqwest::Client,
    url: String,
    token: String,
    rate: std::rc::Rc<Cell<Option<f64>>>,
    requests: Cell<usize>,
    bytes: Cell<usize>,
}

impl Transport for BrowserAsOfMain {
    type Error = String;
    async fn post(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        let body = danvan::sync::encode(request);
        let sent = body.len();
        let started = Instant::now();
        self.requests.set(self.requests.get() + 1);
        let bytes = post_envelope(&self.client, &self.url, &format!("Bearer {}", self.token), body).await?;
        self.bytes.set(self.bytes.get() + sent + bytes.len());
        let seconds = started.elapsed().as_secs_f64().max(0.05);
        if bytes.len() > 16 * 1024 {
            let rate = bytes.len() as f64 / seconds;
            self.rate.set(Some(self.rate.get().map_or(rate, |old| 0.7 * old + 0.3 * rate)));
        }
        danvan::sync::decode(&bytes).map_err(|e| e.to_string())
    }
    fn feed_budget(&self) -> Option<u32> {
        let rate = self.rate.get()?;
        Some(((rate * 8.0) as u32).clamp(64 * 1024, danvan::sync::FEED_BUDGET_DEFAULT))
    }
}

/// When the session first learnt how much is coming (its first progress with a total).
struct FirstProgress {
    started: Instant,
    at: Option<Duration>,
}

impl danvan::sync::session::Observer for FirstProgress {
    fn progress(&mut self, _done: usize, total: usize) {
        if total > 0 && self.at.is_none() {
            self.at = Some(self.started.elapsed());
        }
    }
}

/// Syncs a new replica until a session completes, a new transport per session (as the browser
/// makes one per round), retrying after failures with the app's backoff (2 s doubling, up to
/// 5 min) until `limit`. Returns (completed, time, first progress, failed attempts, requests,
/// bytes, models held).
async fn fill<T: Transport>(
    mut make: impl FnMut() -> T,
    counts: impl Fn(&T) -> (usize, usize),
    limit: Duration,
) -> (bool, Duration, Option<Duration>, u32, usize, usize, usize) {
    let replica = MemoryReplica::new();
    let started = Instant::now();
    let mut observer = FirstProgress { started, at: None };
    let (mut failures, mut requests, mut bytes) = (0u32, 0, 0);
    let done = loop {
        let t = make();
        let outcome = run_session(&replica, &t, &mut observer).await;
        let (r, b) = counts(&t);
        requests += r;
        bytes += b;
        match outcome {
            Ok(_) => break true,
            Err(e) => {
                failures += 1;
                eprintln!(
                    "# first-sync: attempt {failures} failed after {:.1} s ({} models held): {e}",
                    started.elapsed().as_secs_f64(),
                    replica.ids().len()
                );
            }
        }
        let wait = Duration::from_secs(2u64.saturating_pow(failures.min(10))).min(Duration::from_secs(300));
        if started.elapsed() + wait > limit {
            break false;
        }
        tokio::time::sleep(wait).await;
    };
    (done, started.elapsed(), observer.at, failures, requests, bytes, replica.ids().len())
}

/// A new device (memory replica, the session code the browser runs, through the browser's
/// transport rules: `tests/support/paced.rs`) receives `DANVAN_BENCH_FIRST_SYNC_DOCS` (1,500)
/// realistic models over [`first_sync_link`], for at most `DANVAN_BENCH_FIRST_SYNC_LIMIT`
/// (1,200) seconds. `DANVAN_BENCH_FIRST_SYNC_AS=before` syncs as the browser did before pacing. `first_sync_ratio` is the time over what the
/// bytes need at the link's rate (goal ≤ 1.3).
fn first_sync_part() {
    if let Err(why) = link::DegradedLink::available() {
        eprintln!("# first-sync skipped: {why}");
        return;
    }
    let n: usize = std::env::var("DANVAN_BENCH_FIRST_SYNC_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let limit = Duration::from_secs(std::env::var("DANVAN_BENCH_FIRST_SYNC_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(1200));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("first-sync.sqlite3");
    // 300 distinct models: the sync carries each document whole and uncompressed, so reused
    // content costs the same bytes (and generating 1,500 takes minutes in a debug build).
    let docs = documents_of(n, 300);
    let saved: usize = docs.iter().map(|d| d.1.len()).sum();
    runtime.block_on(seed_sqlite(&db, &docs));
    let token = runtime.block_on(bench_account_sqlite(&db));
    drop(docs);
    let spec = first_sync_link();
    let link = link::DegradedLink::start("dvfirst", spec).expect("link starts");
    let addr = format!("{}:8080", link.server_addr());
    let server = ServerProcess::start(
        &["--addr", &addr, "--database", db.to_str().unwrap()],
        &["ip", "netns", "exec", link.server_namespace()],
        token,
    );
    let (url, token) = (server.url.clone(), server.token.clone());
    let as_before = std::env::var("DANVAN_BENCH_FIRST_SYNC_AS").is_ok_and(|v| v == "before");
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            link.enter_client_namespace().unwrap();
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if as_before {
                    let rate = std::rc::Rc::new(Cell::new(None));
                    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
                    let make = || BrowserAsOfMain {
                        client: client.clone(),
                        url: format!("{url}/api/sync"),
                        token: token.clone(),
                        rate: rate.clone(),
                        requests: Cell::new(0),
                        bytes: Cell::new(0),
                    };
                    fill(make, |t| (t.requests.get(), t.bytes.get()), limit).await
                } else {
                    fill(|| paced::Paced::new(&url, &token), |t| (t.requests.get(), t.bytes.get()), limit).await
                }
            })
        })
        .join()
        .unwrap()
    });
    let (done, elapsed, first_progress, failures, requests, bytes, got) = result;
    let stats = link.stats();
    eprintln!("# first-sync link {spec:?}: packets lost {:?}, queue-dropped {:?}", stats.dropped_loss, stats.dropped_queue);
    figure("first_sync_docs", n, "models");
    figure("first_sync_saved_total", saved, "bytes");
    figure("first_sync_completed", done, "");
    figure("first_sync_models_received", got, "models");
    figure("first_sync_failed_attempts", failures, "attempts");
    figure("first_sync_requests", requests, "requests");
    figure("first_sync_seconds", format!("{:.1}", elapsed.as_secs_f64()), "s");
    figure("first_sync_bytes", bytes, "bytes");
    figure("first_sync_ratio", format!("{:.2}", elapsed.as_secs_f64() / (bytes as f64 * 8.0 / spec.rate_bits_per_sec as f64)), "x");
    match first_progress {
        Some(at) => figure("first_sync_first_progress_seconds", format!("{:.1}", at.as_secs_f64()), "s"),
        None => figure("first_sync_first_progress_seconds", "none", "s"),
    }
    drop(server);
}

// ---------------------------------------------------------------------------------------------
// province: a province's devices, each syncing every 60 s with its feed

/// The knobs of the `province` part (environment variables, defaults in brackets).
struct ProvinceConfig {
    /// `DANVAN_BENCH_DEVICES` (10,000): devices, each with its own session.
    devices: usize,
    /// `DANVAN_BENCH_UNITS` (600): communes, under `DANVAN_BENCH_DISTRICTS` (30) districts under
    /// one province.
    communes: usize,
    districts: usize,
    /// `DANVAN_BENCH_MODELS_PER_UNIT` (5) models per commune, of which
    /// `DANVAN_BENCH_LIBRARY_PER_UNIT` (1) recognised (in the library, read by every device).
    models_per_unit: usize,
    library_per_unit: usize,
    /// `DANVAN_BENCH_USERS_PER_UNIT` (5) cadre accounts per commune; its devices are shared
    /// among them.
    users_per_unit: usize,
    /// `DANVAN_BENCH_EDITORS` (100) devices editing a model at any moment, each saving every
    /// `DANVAN_BENCH_SAVE_SECONDS` (15) s.
    editors: usize,
    save_every: Duration,
    /// `DANVAN_BENCH_SECONDS` (120): the measured time.
    seconds: u64,
    /// `DANVAN_BENCH_CONNECTIONS` (64): idle keep-alive connections the bench keeps to the
    /// server, shared by all devices (0: a new connection for every request).
    connections: usize,
}

impl ProvinceConfig {
    fn from_env() -> ProvinceConfig {
        let var = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        ProvinceConfig {
            devices: var("DANVAN_BENCH_DEVICES", 10_000),
            communes: var("DANVAN_BENCH_UNITS", 600).max(1),
            districts: var("DANVAN_BENCH_DISTRICTS", 30).max(1),
            models_per_unit: var("DANVAN_BENCH_MODELS_PER_UNIT", 5).max(1),
            library_per_unit: var("DANVAN_BENCH_LIBRARY_PER_UNIT", 1),
            users_per_unit: var("DANVAN_BENCH_USERS_PER_UNIT", 5).max(1),
            editors: var("DANVAN_BENCH_EDITORS", 100),
            save_every: Duration::from_secs(var("DANVAN_BENCH_SAVE_SECONDS", 15).max(1) as u64),
            seconds: var("DANVAN_BENCH_SECONDS", 120) as u64,
            connections: var("DANVAN_BENCH_CONNECTIONS", 64),
        }
    }
}

/// The device's sync period and the app's debounce after a save (`client::net::sync`).
const PERIOD: Duration = Duration::from_secs(60);

/// One device as the benchmark knows it before the run.
struct DeviceSpec {
    username: String,
    /// The model it edits (editing devices only).
    edits: Option<String>,
}

/// The province's tree, accounts, devices and stored models.
struct ProvinceSeed {
    tree: UnitTree,
    users: Vec<User>,
    devices: Vec<DeviceSpec>,
    writes: Vec<Write>,
    /// Saved bytes of the models editors edit.
    edited: std::collections::HashMap<String, Vec<u8>>,
    saved_total: usize,
    library: usize,
}

fn province_seed(cfg: &ProvinceConfig) -> ProvinceSeed {
    use danvan::domain::{Action, Level, Transition, Unit, UnitKind};
    let unit = |code: String, name: String, kind, level, parent: Option<String>| Unit { code, name, kind, level, parent, cluster: None };
    let mut units = vec![unit("T".into(), "Tỉnh ủy".into(), UnitKind::ProvinceCommittee, Level::Province, None)];
    let district = |c: usize| format!("T-H{:02}", c % cfg.districts + 1);
    for d in 0..cfg.districts {
        units.push(unit(district(d), format!("Huyện ủy {}", d + 1), UnitKind::DistrictCommittee, Level::District, Some("T".into())));
    }
    let commune = |c: usize| format!("{}-X{:03}", district(c), c / cfg.districts + 1);
    for c in 0..cfg.communes {
        units.push(unit(commune(c), format!("Xã {}", c + 1), UnitKind::Commune, Level::Grassroots, Some(district(c))));
    }
    let tree = UnitTree::from_units(units, Vec::new());
    let user = |username: String, unit: String, role| User {
        display_name: username.clone(),
        username,
        password_hash: String::new(),
        disabled: false,
        grants: vec![Grant { unit, role }],
    };
    // Cadres of each commune; a reviewer per district and one for the province (reading
    // subtrees: their feeds carry every change below them).
    let mut users = Vec::new();
    for c in 0..cfg.communes {
        for k in 0..cfg.users_per_unit {
            users.push(user(format!("cb-{c:04}-{k}"), commune(c), Role::Member));
        }
    }
    for d in 0..cfg.districts {
        users.push(user(format!("bx-h{d:02}"), district(d), Role::Reviewer));
    }
    users.push(user("bx-tinh".into(), "T".into(), Role::Reviewer));
    // Two devices for each reviewer (at most a tenth of the devices), the rest to the communes'
    // cadres in turn.
    let reviewers = (cfg.districts + 1).min(cfg.devices / 20);
    let mut devices = Vec::with_capacity(cfg.devices);
    let cadre_devices = cfg.devices - 2 * reviewers;
    // Editors are spread over the cadres' devices (and so over the communes); each edits one of
    // its commune's models that are not in the library.
    let editing = cfg.editors.min(cadre_devices);
    let editable = cfg.models_per_unit.saturating_sub(cfg.library_per_unit).max(1);
    let mut edited_ids = std::collections::HashSet::new();
    for i in 0..cadre_devices {
        let c = i % cfg.communes;
        let k = (i / cfg.communes) % cfg.users_per_unit;
        let edits = (editing > 0 && i % (cadre_devices / editing).max(1) == 0 && i / (cadre_devices / editing).max(1) < editing).then(|| {
            let nth = i / (cadre_devices / editing).max(1);
            format!("p{c:04}-{}", nth % editable)
        });
        if let Some(id) = &edits {
            edited_ids.insert(id.clone());
        }
        devices.push(DeviceSpec { username: format!("cb-{c:04}-{k}"), edits });
    }
    for r in 0..2 * reviewers {
        // The province's reviewer last; districts' reviewers before, as many as fit.
        let d = r / 2;
        let username = if d + 1 < reviewers { format!("bx-h{d:02}") } else { "bx-tinh".into() };
        devices.push(DeviceSpec { username, edits: None });
    }
    // The models: realistic text; the last `library_per_unit` of each commune recognised.
    let recognised = |i: usize| {
        let step = |k: usize, action: Action| Transition {
            id: format!("{i}-{k}"),
            action: action.code().into(),
            by: "bx".into(),
            by_name: "Bình xét".into(),
            at: 1_700_000_000_000 + (k * 86_400_000) as i64,
            reason: "Theo kết quả bình xét".into(),
            level: String::new(),
        };
        vec![step(1, Action::Start), step(2, Action::Propose), step(3, Action::Recognise)]
    };
    let mut writes = Vec::new();
    let mut edited = std::collections::HashMap::new();
    let (mut saved_total, mut library) = (0, 0);
    for c in 0..cfg.communes {
        for j in 0..cfg.models_per_unit {
            let i = c * cfg.models_per_unit + j;
            let id = format!("p{c:04}-{j}");
            let public = j >= cfg.models_per_unit - cfg.library_per_unit.min(cfg.models_per_unit);
            let mut d = realistic_doc_in(i, id.clone(), &commune(c), if public { recognised(i) } else { Vec::new() });
            let m = doc::read_model(&d).unwrap();
            assert_eq!(danvan::domain::in_library(danvan::domain::replay(&m.transitions).0), public);
            let bytes = d.save();
            saved_total += bytes.len();
            library += usize::from(public);
            if edited_ids.contains(&id) {
                edited.insert(id.clone(), bytes.clone());
            }
            writes.push(Write {
                id,
                expected: None,
                heads: heads_to_bytes(&d.get_heads()),
                chunk: Chunk { bytes, snapshot: true },
                unit: commune(c),
                public,
                facts: Some(danvan::domain::report::ModelFacts::of(&m)),
                readers: None,
            });
        }
    }
    ProvinceSeed { tree, users, devices, writes, edited, saved_total, library }
}

/// Writes the province into an empty store (the server not running yet, or not involved):
/// returns each device's session token and the store's feed head.
async fn seed_province(store: Arc<dyn Store>, seed: &ProvinceSeed) -> (Vec<String>, u64) {
    store.save_units(&store.unit_tree().await.unwrap(), &seed.tree).await.unwrap();
    for u in &seed.users {
        store.create_user(u, 1).await.unwrap();
    }
    for batch in seed.writes.chunks(500) {
        for r in store.write(batch.to_vec(), 1).await.unwrap() {
            r.unwrap();
        }
    }
    // Sessions, 16 at a time.
    let names: Vec<String> = seed.devices.iter().map(|d| d.username.clone()).collect();
    let mut tokens = Vec::with_capacity(names.len());
    for batch in names.chunks(16) {
        let mut tasks = Vec::new();
        for username in batch {
            let (store, username) = (store.clone(), username.clone());
            tasks.push(tokio::spawn(async move {
                let (token, stored) = danvan::server::session::new_token();
                let session = Session { username, verifier_hash: stored.verifier_hash, created_at: 1, expires_at: i64::MAX };
                store.create_session(&stored.id, &session).await.unwrap();
                token
            }));
        }
        for t in tasks {
            tokens.push(t.await.unwrap());
        }
    }
    (tokens, store.head().await.unwrap())
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |k: usize| fields.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz.max(1.0)
}

/// A device during the run: where it is in the feed, and the model it edits.
struct Device {
    auth: String,
    server: String,
    cursor: u64,
    scope: u32,
    editing: Option<Editing>,
}

struct Editing {
    id: String,
    doc: AutoCommit,
    /// The heads the server acknowledged last.
    shared: Vec<ChangeHash>,
    saves: u64,
    rng: Rng,
}

/// What one sync round (a session: requests until the edit is settled and the feed has no more
/// pages) cost.
struct Round {
    edit: bool,
    latency: Duration,
    requests: usize,
    feed_docs: usize,
    feed_bytes: usize,
}

async fn post_sync(http: &reqwest::Client, url: &str, auth: &str, request: &SyncRequest) -> Result<(usize, SyncResponse), String> {
    let bytes = post_envelope(http, url, auth, danvan::sync::encode(request)).await?;
    Ok((bytes.len(), danvan::sync::decode(&bytes).map_err(|e| e.to_string())?))
}

/// One sync request with an encoded envelope (`auth`: the whole `Authorization` value); the
/// answer's bytes, or the HTTP status when it is not a success.
async fn post_envelope(http: &reqwest::Client, url: &str, auth: &str, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let res = http
        .post(url)
        .header("authorization", auth)
        .header("content-type", danvan::sync::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("HTTP {}", res.status()));
    }
    res.bytes().await.map(|b| b.to_vec()).map_err(|e| e.to_string())
}

/// One round as the app's session makes it (`sync::session::run_session`): the edited document's
/// message (opened assuming the server holds the heads it acknowledged last), the cursor, and a
/// feed budget from `sync::pace` (16 KB first, then sized from the link as measured); further
/// requests while the document is not settled or the feed has more pages. The feed's documents
/// are counted, not stored (only the edited model takes in what the feed brings for it).
async fn device_round(http: &reqwest::Client, url: &str, dev: &mut Device) -> Result<Round, String> {
    use danvan::sync::pace::Pace;
    let started = Instant::now();
    let mut pace = Pace::default();
    let edit = dev.editing.is_some();
    let mut state = dev.editing.as_mut().map(|e| {
        e.saves += 1;
        let mut m = doc::read_model(&e.doc).unwrap();
        let extra = sentence(&mut e.rng, 8);
        m.content.update(format!("{}{extra}", m.content.as_str()));
        m.indicators[0].achieved = e.saves as f64;
        doc::write_model(&mut e.doc, &m, 1_800_000_000_000 + e.saves as i64, "cập nhật").unwrap();
        let mut state = sync::State::new();
        assume_server_holds(&mut state, e.shared.clone());
        state
    });
    let mut settled = !edit;
    let (mut requests, mut feed_docs, mut feed_bytes) = (0, 0, 0);
    loop {
        let mut docs = Vec::new();
        if let (Some(e), Some(state)) = (dev.editing.as_mut(), state.as_mut())
            && !settled
            && let Some(m) = e.doc.sync().generate_sync_message(state)
        {
            docs.push(DocMessage { id: e.id.clone(), message: m.encode(), document: None });
        }
        let request = SyncRequest {
            protocol: PROTOCOL,
            server: Some(dev.server.clone()),
            cursor: dev.cursor,
            scope: dev.scope,
            feed_budget: Some(pace.feed_budget()),
            docs,
        };
        let sent = Instant::now();
        let (received, res) = post_sync(http, url, &dev.auth, &request).await?;
        pace.observe(danvan::sync::encode(&request).len(), received, sent.elapsed());
        requests += 1;
        if let Some(f) = res.errors.first() {
            return Err(format!("{}: {}", f.id, f.message));
        }
        if res.rewound || res.server != dev.server {
            return Err("the server asked for everything again".into());
        }
        if let (Some(e), Some(state)) = (dev.editing.as_mut(), state.as_mut()) {
            for d in res.docs.iter().filter(|d| d.id == e.id) {
                let m = sync::Message::decode(&d.message).map_err(|e| e.to_string())?;
                e.doc.sync().receive_sync_message(state, m).map_err(|e| e.to_string())?;
            }
            for f in res.feed.iter().filter(|f| f.id == e.id) {
                e.doc.load_incremental(&f.data).map_err(|e| e.to_string())?;
            }
            settled = state.their_heads.as_deref() == Some(e.doc.get_heads().as_slice());
        }
        feed_docs += res.feed.len();
        feed_bytes += res.feed.iter().map(|f| f.data.len()).sum::<usize>();
        dev.cursor = res.cursor;
        dev.scope = res.scope;
        if settled && !res.more {
            break;
        }
        if requests >= danvan::sync::session::MAX_ROUNDS {
            return Err("not settled after 50 requests".into());
        }
    }
    if let Some(e) = dev.editing.as_mut() {
        e.shared = e.doc.get_heads();
    }
    Ok(Round { edit, latency: started.elapsed(), requests, feed_docs, feed_bytes })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

async fn province_run(label: &str, server: &ServerProcess, seed: &ProvinceSeed, tokens: Vec<String>, head: u64, cfg: &ProvinceConfig) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(cfg.connections).timeout(Duration::from_secs(30)).build().unwrap();
    let url = Arc::new(format!("{}/api/sync", server.url));
    let pid = server.child.id().to_string();
    // Every device has synced before: one request without feed tells it the server and its
    // scope, and its cursor is the store's head (nothing new yet).
    let warm = Instant::now();
    let mut devices = Vec::with_capacity(tokens.len());
    for batch in tokens.chunks(64) {
        let mut tasks = Vec::new();
        for token in batch {
            let (http, url, auth) = (http.clone(), url.clone(), format!("Bearer {token}"));
            tasks.push(tokio::spawn(async move {
                let request = SyncRequest { protocol: PROTOCOL, server: None, cursor: 0, scope: 0, feed_budget: Some(0), docs: Vec::new() };
                let (_, res) = post_sync(&http, &url, &auth, &request).await.unwrap();
                (auth, res.server, res.scope)
            }));
        }
        for t in tasks {
            let (auth, server, scope) = t.await.unwrap();
            devices.push(Device { auth, server, cursor: head, scope, editing: None });
        }
    }
    eprintln!("# province.{label}: {} devices signed in and caught up in {:.1} s", devices.len(), warm.elapsed().as_secs_f64());
    for (dev, spec) in devices.iter_mut().zip(&seed.devices) {
        if let Some(id) = &spec.edits {
            let doc = AutoCommit::load(&seed.edited[id]).unwrap();
            let shared = doc.clone().get_heads();
            dev.editing = Some(Editing { id: id.clone(), doc, shared, saves: 0, rng: Rng(dev.cursor ^ id.len() as u64 ^ dev.auth.len() as u64) });
        }
    }
    let n = devices.len();
    let (rss_before, _) = server.memory_mb();
    let cpu_before = cpu_seconds(&pid);
    let bench_cpu_before = cpu_seconds("self");
    let start = Instant::now() + Duration::from_millis(500);
    let end = start + Duration::from_secs(cfg.seconds);
    let mut tasks = Vec::with_capacity(n);
    for (i, mut dev) in devices.into_iter().enumerate() {
        let (http, url) = (http.clone(), url.clone());
        // Rounds spread evenly over the period; an editing device syncs after each save (the
        // app's debounce, 1.5 s, does not change what the server sees) and so every
        // `save_every`, its 60 s timer never running out.
        let every = if dev.editing.is_some() { cfg.save_every } else { PERIOD };
        let phase = Duration::from_micros(i as u64 * every.as_micros() as u64 / n as u64);
        tasks.push(tokio::spawn(async move {
            let mut rounds = Vec::new();
            let (mut errors, mut lag) = (Vec::new(), Duration::ZERO);
            let mut at = start + phase;
            while at < end {
                tokio::time::sleep_until(at.into()).await;
                lag = lag.max(at.elapsed());
                match device_round(&http, &url, &mut dev).await {
                    Ok(r) => rounds.push(r),
                    Err(e) => errors.push(e),
                }
                at += every;
            }
            (rounds, errors, lag)
        }));
    }
    let (mut rounds, mut errors, mut lag) = (Vec::new(), Vec::new(), Duration::ZERO);
    for t in tasks {
        let (r, e, l) = t.await.unwrap();
        rounds.extend(r);
        errors.extend(e);
        lag = lag.max(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(&pid) - cpu_before;
    let bench_cpu = cpu_seconds("self") - bench_cpu_before;
    let (rss, peak) = server.memory_mb();
    for e in errors.iter().take(5) {
        eprintln!("# province.{label}: error: {e}");
    }
    let mut acks: Vec<Duration> = rounds.iter().filter(|r| r.edit).map(|r| r.latency).collect();
    let mut feeds: Vec<Duration> = rounds.iter().filter(|r| !r.edit).map(|r| r.latency).collect();
    acks.sort();
    feeds.sort();
    let requests: usize = rounds.iter().map(|r| r.requests).sum();
    let pulls = rounds.iter().filter(|r| !r.edit);
    let (pull_docs, pull_bytes) = pulls.fold((0, 0), |(d, b), r| (d + r.feed_docs, b + r.feed_bytes));
    let q = format!("province.{label}.devices_{n}");
    figure(&format!("{q}.models_stored"), seed.writes.len(), "models");
    figure(&format!("{q}.library"), seed.library, "models");
    figure(&format!("{q}.saved_total"), seed.saved_total, "bytes");
    figure(&format!("{q}.seconds"), format!("{elapsed:.0}"), "s");
    figure(&format!("{q}.rounds_edit"), acks.len(), "rounds");
    figure(&format!("{q}.rounds_pull"), feeds.len(), "rounds");
    figure(&format!("{q}.requests"), requests, "requests");
    figure(&format!("{q}.requests_per_s"), format!("{:.1}", requests as f64 / elapsed), "requests/s");
    figure(&format!("{q}.errors"), errors.len(), "rounds");
    figure(&format!("{q}.ack_latency_p50"), format!("{:.1}", percentile(&acks, 0.50)), "ms");
    figure(&format!("{q}.ack_latency_p99"), format!("{:.1}", percentile(&acks, 0.99)), "ms");
    figure(&format!("{q}.ack_latency_max"), format!("{:.1}", acks.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)), "ms");
    figure(&format!("{q}.feed_latency_p50"), format!("{:.1}", percentile(&feeds, 0.50)), "ms");
    figure(&format!("{q}.feed_latency_p99"), format!("{:.1}", percentile(&feeds, 0.99)), "ms");
    figure(&format!("{q}.feed_latency_max"), format!("{:.1}", feeds.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)), "ms");
    figure(&format!("{q}.feed_docs_per_pull"), format!("{:.2}", pull_docs as f64 / feeds.len().max(1) as f64), "documents");
    figure(&format!("{q}.feed_bytes_per_pull"), format!("{:.0}", pull_bytes as f64 / feeds.len().max(1) as f64), "bytes");
    figure(&format!("{q}.schedule_lag_max"), format!("{:.1}", lag.as_secs_f64() * 1000.0), "ms");
    figure(&format!("{q}.server_cpu"), format!("{cpu:.1}"), "s");
    figure(&format!("{q}.server_cpu_percent"), format!("{:.1}", cpu / elapsed * 100.0), "% of one core");
    figure(&format!("{q}.bench_cpu_percent"), format!("{:.1}", bench_cpu / elapsed * 100.0), "% of one core");
    figure(&format!("{q}.server_rss_start"), format!("{rss_before:.1}"), "MB");
    figure(&format!("{q}.server_rss_end"), format!("{rss:.1}"), "MB");
    figure(&format!("{q}.server_rss_peak"), format!("{peak:.1}"), "MB");
}

/// A new, empty database in the PostgreSQL cluster of `url`: returns its URL.
async fn fresh_postgres_database(url: &str, name: &str) -> String {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("PostgreSQL answers");
    tokio::spawn(connection);
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await.unwrap();
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let (server, _) = base.rsplit_once('/').filter(|(s, _)| s.contains("//") && !s.ends_with('/')).unwrap_or((base, ""));
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

async fn province_part() {
    let cfg = ProvinceConfig::from_env();
    let generated = Instant::now();
    let seed = province_seed(&cfg);
    eprintln!(
        "# province: {} units, {} accounts, {} devices, {} models ({} in the library) generated in {:.1} s",
        seed.tree.units().count(),
        seed.users.len(),
        seed.devices.len(),
        seed.writes.len(),
        seed.library,
        generated.elapsed().as_secs_f64()
    );
    let stores = std::env::var("DANVAN_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    if stores.contains("sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("province.sqlite3");
        let (tokens, head) = seed_province(Arc::new(SqliteStore::open(&db).unwrap()), &seed).await;
        let server = ServerProcess::start(&["--addr", "127.0.0.1:0", "--database", db.to_str().unwrap()], &[], String::new());
        province_run("sqlite", &server, &seed, tokens, head, &cfg).await;
    }
    match std::env::var("DANVAN_BENCH_POSTGRES_URL") {
        Ok(url) if stores.contains("postgres") => {
            let url = fresh_postgres_database(&url, &format!("danvan_province_{}", std::process::id())).await;
            let (tokens, head) = {
                let pg = danvan::server::store::postgres::PostgresStore::connect(&url).await.unwrap();
                seed_province(Arc::new(pg), &seed).await
            };
            let server = ServerProcess::start(&["--addr", "127.0.0.1:0", "--database-url", &url], &[], String::new());
            province_run("postgres", &server, &seed, tokens, head, &cfg).await;
        }
        _ => eprintln!("# province.postgres skipped: set DANVAN_BENCH_POSTGRES_URL to a PostgreSQL cluster (a database is created in it)"),
    }
}

fn main() {
    let parts = std::env::var("DANVAN_BENCH").unwrap_or_else(|_| "sizes,load,rss".into());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for part in parts.split(',').map(str::trim) {
        match part {
            "sizes" => {
                let sizes: Vec<usize> = std::env::var("DANVAN_BENCH_SIZES")
                    .unwrap_or_else(|_| "100,1000,10000".into())
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect();
                for n in sizes {
                    runtime.block_on(bench_size(n));
                }
            }
            "load" => runtime.block_on(load_part()),
            "rss" => runtime.block_on(rss_part()),
            "link" => link_part(),
            "crashloop" => runtime.block_on(crashloop_part()),
            "first-sync" => first_sync_part(),
            "province" => runtime.block_on(province_part()),
            other => eprintln!("# unknown part {other}"),
        }
    }
}
