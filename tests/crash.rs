//! The server killed with SIGKILL in the middle of syncs: every change a client saw acknowledged
//! is there after a restart, and the interrupted client converges on its next sync.

#![cfg(unix)]

mod common;

use std::time::Duration;

use common::*;
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_mid_sync() {
    // Kill once this many documents are acknowledged, while the client keeps pushing batches.
    for kill_after in [20usize, 120, 260] {
        let (dir, db) = temp();
        let tokens = seed_sqlite(&db).await;
        let (mut server, url) = spawn_server_process(&db).await;
        let http = |url: &str| Http::at(url, &tokens.of("a"));
        let a = MemoryReplica::new();
        let transport = http(&url);
        let acknowledged = |a: &MemoryReplica| a.ids().into_iter().filter(|id| !a.record(id).unwrap().dirty).count();
        let pushing = async {
            for batch in 0..20 {
                for i in 0..20 {
                    let id = format!("doc-{:04}", batch * 20 + i);
                    a.put_local(&id, &mut new_model(&id, &format!("Mô hình {}", batch * 20 + i)));
                }
                if run_session(&a, &transport, &mut ()).await.is_err() {
                    break;
                }
            }
        };
        let kill = async {
            while acknowledged(&a) < kill_after {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            server.start_kill().unwrap();
        };
        tokio::join!(pushing, kill);
        let _ = server.wait().await;
        let acked: Vec<String> = a.ids().into_iter().filter(|id| !a.record(id).unwrap().dirty).collect();
        assert!(acked.len() >= kill_after && acked.len() < 400, "killed mid-way ({} acknowledged)", acked.len());

        // Restart on the same database: every acknowledged document is there, whole.
        let (_server, url) = spawn_server_process(&db).await;
        let b = MemoryReplica::new();
        run_session(&b, &http(&url), &mut ()).await.unwrap();
        for id in &acked {
            let mut theirs = b.doc(id).unwrap_or_else(|| panic!("{id} acknowledged but missing after SIGKILL"));
            assert_eq!(a.doc(id).unwrap().get_heads(), theirs.get_heads(), "{id}");
        }
        // The interrupted client finishes on its next sync; nothing duplicated or lost.
        let report = run_session(&a, &http(&url), &mut ()).await.unwrap();
        assert_eq!(report.pending, 0);
        let c = MemoryReplica::new();
        run_session(&c, &http(&url), &mut ()).await.unwrap();
        let ids = c.ids();
        assert_eq!(ids.len(), a.ids().len(), "one copy of every document the client made");
        assert_eq!(model(&c, &ids[ids.len() - 1]).name, model(&a, &ids[ids.len() - 1]).name);
        drop(dir);
    }
}
