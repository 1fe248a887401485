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

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;
use link::{DegradedLink, LinkSpec};

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
