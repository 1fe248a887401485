//! A real degraded link: the server and two phones in separate Linux network namespaces, joined
//! by an emulated 2G/3G link (tests/support/link.rs: TUN devices with delay, loss and a rate
//! limit applied per packet, as `tc netem` + `tbf` would; this kernel has no netem). The kernel's
//! own TCP runs over it, so retransmissions, timeouts and cut connections are real.
//!
//! Needs root (namespaces, /dev/net/tun); skipped otherwise unless DANVAN_REQUIRE_NETNS=1
//! (`.ci/test` sets it, so CI cannot skip it).

#![cfg(target_os = "linux")]

mod common;
#[path = "support/link.rs"]
mod link;
#[path = "support/paced.rs"]
mod paced;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::{LocalDocs, Observer, run_session};
use link::{DegradedLink, LinkSpec};
use paced::Paced;

/// The link of the issue: about 1 s of delay (500 ms each way), a quarter of packets lost in
/// each direction, 256 kbit/s.
fn bad_link() -> LinkSpec {
    LinkSpec {
        delay: Duration::from_millis(500),
        loss: 0.25,
        rate_bits_per_sec: 256_000,
        queue_limit_bytes: 32 * 1024,
        seed: 20261122,
        ..LinkSpec::default()
    }
}

struct ServerInNamespace(Child);

impl Drop for ServerInNamespace {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Syncs until a session completes with nothing pending, retrying after failures as the app does.
async fn sync_until_settled(name: &str, replica: &MemoryReplica, http: &Http, deadline: Instant) -> usize {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match run_session(replica, http, &mut ()).await {
            Ok(report) if report.pending == 0 && report.rejected.is_empty() => return attempts,
            Ok(report) => eprintln!("{name}: session ended with {} pending", report.pending),
            Err(e) => eprintln!("{name}: attempt {attempts} failed: {e}"),
        }
        assert!(Instant::now() < deadline, "{name} did not converge in time");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn replicas_converge_over_a_lossy_slow_link() {
    if let Err(why) = DegradedLink::available() {
        assert!(std::env::var("DANVAN_REQUIRE_NETNS").is_err(), "DANVAN_REQUIRE_NETNS is set but: {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let link = DegradedLink::start("dvtest-sync", bad_link()).expect("link starts");
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("{}:8080", link.server_addr());
    let tokens = tokio::runtime::Runtime::new().unwrap().block_on(seed_sqlite(&dir.path().join("db.sqlite3")));
    let server = ServerInNamespace(
        Command::new("ip")
            .args(["netns", "exec", link.server_namespace(), env!("CARGO_BIN_EXE_danvan-server")])
            .args(["--addr", &addr, "--dist", "/nonexistent-dist", "--database"])
            .arg(dir.path().join("db.sqlite3"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts"),
    );
    let base = format!("http://{addr}");
    let started = Instant::now();

    std::thread::scope(|s| {
        s.spawn(|| {
            link.enter_client_namespace().unwrap();
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let deadline = Instant::now() + Duration::from_secs(420);
                let client = || reqwest::Client::builder().timeout(Duration::from_secs(45)).build().unwrap();
                let (ha, hb) = (Http::with_client(client(), &base, &tokens.of("a")), Http::with_client(client(), &base, &tokens.of("b")));
                // The server takes a moment to listen inside its namespace.
                let (a, b) = (MemoryReplica::new(), MemoryReplica::new());
                a.put_local("shared", &mut new_model("shared", "Mô hình chung của xã"));
                sync_until_settled("A", &a, &ha, deadline).await;
                sync_until_settled("B", &b, &hb, deadline).await;
                assert_eq!(b.ids(), ["shared"]);

                // A week offline: both phones register models and edit the shared one.
                for i in 0..12 {
                    let id = format!("a-{i:02}");
                    a.put_local(&id, &mut new_model(&id, &format!("Mô hình A{i}")));
                }
                for i in 0..4 {
                    let id = format!("b-{i:02}");
                    b.put_local(&id, &mut new_model(&id, &format!("Mô hình B{i}")));
                }
                edit(&a, "shared", |m| m.owner_name = "Hội Nông dân xã".into());
                edit(&b, "shared", |m| m.end_date = "2026-12-31".into());

                // A's first attempt is cut off: the link goes dead one second into the request.
                let cut = async {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    link.set_spec(LinkSpec { loss: 1.0, ..bad_link() });
                    tokio::time::sleep(Duration::from_secs(8)).await;
                    link.set_spec(bad_link());
                };
                let short = Http::with_client(reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap(), &base, &tokens.of("a"));
                let mut quiet = ();
                let (first, ()) = tokio::join!(run_session(&a, &short, &mut quiet), cut);
                assert!(first.is_err(), "a dead link fails the session instead of pretending");
                assert!(a.dirty_count() > 0, "nothing is marked synced without an answer");

                // Then both keep trying, in both orders, until everything settles.
                sync_until_settled("A", &a, &ha, deadline).await;
                sync_until_settled("B", &b, &hb, deadline).await;
                sync_until_settled("A", &a, &ha, deadline).await;

                let c = MemoryReplica::new();
                sync_until_settled("C", &c, &Http::with_client(client(), &base, &tokens.of("r")), deadline).await;
                for r in [&a, &b, &c] {
                    assert_eq!(r.ids().len(), 17, "every model exactly once");
                    assert_eq!(r.dirty_count(), 0);
                }
                for id in a.ids() {
                    assert_eq!(model(&a, &id), model(&b, &id), "{id}");
                    assert_eq!(model(&a, &id), model(&c, &id), "{id}");
                }
                let shared = model(&c, "shared");
                assert_eq!((shared.owner_name.as_str(), shared.end_date.as_str()), ("Hội Nông dân xã", "2026-12-31"), "both offline edits kept");
            });
        });
    });
    let stats = link.stats();
    eprintln!(
        "converged in {:.1} s over {:?}; packets forwarded {:?}, lost {:?}, queue-dropped {:?}",
        started.elapsed().as_secs_f64(),
        bad_link(),
        stats.forwarded,
        stats.dropped_loss,
        stats.dropped_queue
    );
    assert!(stats.dropped_loss.iter().sum::<u64>() > 0, "the link really lost packets");
    drop(server);
}

/// Models of Bản Bo with narratives of a realistic length (about 3 KB saved, each different),
/// written into the store before the server starts.
async fn seed_models(db: &std::path::Path, n: usize) {
    use danvan::server::store::{DocStore, SqliteStore, Write};
    let store = SqliteStore::open(db).unwrap();
    let writes = (0..n)
        .map(|i| {
            let id = format!("m-{i:04}");
            let text = |k: usize| {
                format!(
                    "Thôn {i} vận động {k} hộ đóng góp ngày công làm đường bê tông, thu gom rác thải và trồng cây xanh; \
                     chi bộ họp bàn công khai, người có uy tín đi đầu, kết quả năm {} đạt {} phần trăm kế hoạch. ",
                    2020 + k,
                    40 + (i * 7 + k * 13) % 60
                )
                .repeat(2)
            };
            let mut m = danvan::domain::Model::new(id.clone(), "Cán bộ A", 1_700_000_000_000);
            let mut draft = danvan::domain::ModelDraft::blank(2025, "BANBO");
            draft.name = format!("Mô hình dân vận khéo số {i}");
            for (k, t) in [&mut draft.situation, &mut draft.goals, &mut draft.content, &mut draft.area, &mut draft.forces, &mut draft.resources, &mut draft.sustainability]
                .into_iter()
                .enumerate()
            {
                *t = text(k);
            }
            draft.owner_name = "Khối Dân vận xã".into();
            draft.start_date = "2025-01-15".into();
            draft.indicators.push(danvan::domain::IndicatorDraft {
                id: "i1".into(),
                name: "Hộ tham gia".into(),
                unit: "hộ".into(),
                target: "40".into(),
                achieved: "".into(),
            });
            draft.apply(&mut m, &fields()).unwrap();
            let mut d = danvan::doc::create(&m, 1).unwrap();
            Write {
                id,
                expected: None,
                chunk: danvan::sync::Chunk { bytes: d.save(), snapshot: true },
                heads: danvan::sync::heads_to_bytes(&d.get_heads()),
                unit: "BANBO".into(),
                public: false,
                facts: Some(danvan::domain::report::ModelFacts::of(&m)),
                readers: None,
            }
        })
        .collect();
    for r in store.write(writes, 1).await.unwrap() {
        r.unwrap();
    }
}

/// What the feed brought this session (the `arriving` count).
#[derive(Default)]
struct Arrived(usize);

impl Observer for Arrived {
    fn arriving(&mut self, received: usize, _remaining: u64) {
        self.0 = received;
    }
}

/// A new phone on 256 kbit/s fills its replica page by page; the link dies in the middle of a
/// page. Every page that arrived before stays stored with the cursor after it, the cut request
/// is given up once nothing moves (not after a wall-clock timeout), and the next session asks
/// from the stored cursor and receives only the rest.
#[test]
fn a_first_sync_cut_midway_keeps_what_arrived_and_resumes() {
    if let Err(why) = DegradedLink::available() {
        assert!(std::env::var("DANVAN_REQUIRE_NETNS").is_err(), "DANVAN_REQUIRE_NETNS is set but: {why}");
        eprintln!("skipped: {why}");
        return;
    }
    const MODELS: usize = 150;
    let spec = LinkSpec {
        delay: Duration::from_millis(150),
        rate_bits_per_sec: 256_000,
        queue_limit_bytes: 32 * 1024,
        seed: 20261202,
        ..LinkSpec::default()
    };
    let link = DegradedLink::start("dvtest-resume", spec).expect("link starts");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    let addr = format!("{}:8080", link.server_addr());
    let tokens = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let tokens = seed_sqlite(&db).await;
        seed_models(&db, MODELS).await;
        tokens
    });
    let server = ServerInNamespace(
        Command::new("ip")
            .args(["netns", "exec", link.server_namespace(), env!("CARGO_BIN_EXE_danvan-server")])
            .args(["--addr", &addr, "--dist", "/nonexistent-dist", "--database"])
            .arg(&db)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts"),
    );
    let base = format!("http://{addr}");
    let token = tokens.of("a");

    std::thread::scope(|s| {
        s.spawn(|| {
            link.enter_client_namespace().unwrap();
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let phone = MemoryReplica::new();
                // The server takes a moment to listen inside its namespace.
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    let probe = MemoryReplica::new();
                    let t = Paced::new(&base, &tokens.of("d"));
                    if run_session(&probe, &t, &mut ()).await.is_ok() {
                        break;
                    }
                    assert!(Instant::now() < deadline, "server did not come up");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }

                let first = Paced::new(&base, &token).with_stall(Duration::from_secs(3));
                let cut = async {
                    // Once the first page is stored, wait into the next one, then kill the link.
                    while phone.ids().is_empty() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    link.set_spec(LinkSpec { loss: 1.0, ..spec });
                    Instant::now()
                };
                let mut quiet = ();
                let (outcome, cut_at) = tokio::join!(run_session(&phone, &first, &mut quiet), cut);
                let gave_up_after = cut_at.elapsed();
                let err = outcome.expect_err("a dead link fails the session");
                assert!(err.to_string().contains("stalled"), "given up because nothing moved: {err}");
                assert!(gave_up_after < Duration::from_secs(10), "after the stall time, not a long timeout: {gave_up_after:?}");
                let asked = first.asked.borrow().clone();
                assert_eq!(asked[0].1, Some(danvan::sync::pace::FIRST_BYTES), "the first page is small");
                assert!(asked.len() >= 2 && asked[1].1 > asked[0].1, "the next page is sized from the link: {asked:?}");

                let held = phone.ids();
                let cursor = phone.cursor();
                assert!(!held.is_empty() && held.len() < MODELS, "some pages arrived, not all: {}", held.len());
                assert!(cursor.position > 0, "the cursor moved past the stored pages");
                for id in &held {
                    assert_eq!(model(&phone, id).unit, "BANBO", "{id} is stored whole and readable");
                }

                link.set_spec(spec);
                let again = Paced::new(&base, &token);
                let mut arrived = Arrived::default();
                let report = run_session(&phone, &again, &mut arrived).await.expect("the link is back");
                assert_eq!(report.pending, 0);
                assert_eq!(again.asked.borrow()[0].0, cursor.position, "resumed at the stored cursor");
                assert_eq!(phone.ids().len(), MODELS, "every model once");
                assert_eq!(arrived.0, MODELS - held.len(), "only what had not arrived came again");
                eprintln!(
                    "cut after {} of {MODELS} models ({} requests, pages asked {:?}); the stalled request was given up {:.1} s after the cut",
                    held.len(),
                    asked.len(),
                    asked.iter().map(|a| a.1.unwrap_or(0)).collect::<Vec<_>>(),
                    gave_up_after.as_secs_f64()
                );
            });
        });
    });
    drop(server);
}
