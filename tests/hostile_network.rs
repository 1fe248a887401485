//! Sync through a hostile network: a TCP proxy on loopback between the replicas and the real
//! server that drops requests, loses responses, truncates responses at a random byte, duplicates
//! requests and replays old requests out of order. Replicas retry until their sessions succeed;
//! then everything must have converged, with no duplicate and no lost change.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use danvan::sync::memory::MemoryReplica;
use danvan::sync::session::run_session;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A small deterministic generator (no dependency needed for a test's dice), and whose turn it is.
struct Dice {
    state: u64,
    turn: u64,
}

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.state >> 33) % sides
    }
}

/// Reads one HTTP/1.1 message (headers + Content-Length body). None at end of stream.
async fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    buf.truncate(header_end + length);
    Some(buf)
}

/// Sends `request` to the server on a fresh connection and returns the response bytes.
async fn forward(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    server.write_all(request).await.ok()?;
    read_message(&mut server).await
}

#[derive(Default)]
struct Faults {
    dropped: usize,
    lost: usize,
    truncated: usize,
    duplicated: usize,
    replayed: usize,
    passed: usize,
}

/// One request per client connection; the fault is chosen per request.
async fn proxy(listener: TcpListener, upstream: String, faults: Arc<Mutex<Faults>>) {
    let dice = Arc::new(Mutex::new(Dice { state: 0x5eed, turn: 0 }));
    let held: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    loop {
        let Ok((mut client, _)) = listener.accept().await else { return };
        let (upstream, faults, dice, held) = (upstream.clone(), faults.clone(), dice.clone(), held.clone());
        tokio::spawn(async move {
            let Some(request) = read_message(&mut client).await else { return };
            // Out of order: an old request, held back earlier, reaches the server now.
            let replay = held.lock().unwrap().pop();
            if let Some(old) = replay {
                faults.lock().unwrap().replayed += 1;
                let _ = forward(&upstream, &old).await;
            }
            // Faults take turns (so each kind happens), truncation points are random.
            let (fault, cut) = {
                let mut d = dice.lock().unwrap();
                let turn = d.turn;
                d.turn += 1;
                (turn % 8, d.roll(1000))
            };
            match fault {
                0 => {
                    faults.lock().unwrap().dropped += 1; // never reaches the server
                }
                1 => {
                    let _ = forward(&upstream, &request).await;
                    faults.lock().unwrap().lost += 1; // applied, answer lost
                }
                2 => {
                    if let Some(response) = forward(&upstream, &request).await {
                        let at = (response.len() as u64 * cut / 1000) as usize;
                        let _ = client.write_all(&response[..at]).await;
                        faults.lock().unwrap().truncated += 1;
                    }
                }
                3 => {
                    let first = forward(&upstream, &request).await;
                    let _ = forward(&upstream, &request).await;
                    faults.lock().unwrap().duplicated += 1;
                    if let Some(response) = first {
                        let _ = client.write_all(&response).await;
                    }
                }
                4 => {
                    held.lock().unwrap().push(request.clone());
                    if let Some(response) = forward(&upstream, &request).await {
                        let _ = client.write_all(&response).await;
                    }
                }
                _ => {
                    faults.lock().unwrap().passed += 1;
                    if let Some(response) = forward(&upstream, &request).await {
                        let _ = client.write_all(&response).await;
                    }
                }
            }
            let _ = client.shutdown().await;
        });
    }
}

/// Retries whole sessions (as the app's loop does) until one succeeds.
async fn sync_until_done(replica: &MemoryReplica, via: &Http) -> usize {
    for attempt in 1..=300 {
        if let Ok(report) = run_session(replica, via, &mut ()).await {
            if report.pending == 0 {
                return attempt;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no successful session in 300 attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_converge_through_a_hostile_network() {
    let (dir, db) = temp();
    let server = start(&db, &dir.path().join("no-dist")).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    let faults = Arc::new(Mutex::new(Faults::default()));
    tokio::spawn(proxy(listener, server.url.trim_start_matches("http://").to_string(), faults.clone()));
    // A fresh connection per request, as a phone on a flaky link gets.
    let via = || Http::with_client(reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap(), &proxy_url, &server.tokens.of("a"));

    let (a, b) = (MemoryReplica::new(), MemoryReplica::new());
    for i in 0..60 {
        let id = format!("m{i:02}");
        a.put_local(&id, &mut new_model(&id, &format!("Mô hình {i}")));
    }
    sync_until_done(&a, &via()).await;
    sync_until_done(&b, &via()).await;
    assert_eq!(b.ids().len(), 60);

    // Rounds of concurrent offline edits on both sides, synced through the proxy.
    for round in 0..5 {
        for i in 0..60 {
            let id = format!("m{i:02}");
            edit(&a, &id, |m| m.owner_name = format!("A{round}-{i}"));
            if i % 2 == 0 {
                edit(&b, &id, |m| m.name = format!("B{round}-{i}"));
            }
        }
        let new = format!("new-{round}");
        b.put_local(&new, &mut new_model(&new, &format!("Mô hình mới {round}")));
        let (va, vb) = (via(), via());
        tokio::join!(sync_until_done(&a, &va), sync_until_done(&b, &vb));
    }
    sync_until_done(&a, &via()).await;
    sync_until_done(&b, &via()).await;

    // Checked over a clean connection: one copy of each document, every last edit present.
    let c = MemoryReplica::new();
    sync(&c, &server).await;
    assert_eq!(c.ids().len(), 65);
    for i in 0..60 {
        let id = format!("m{i:02}");
        let (ma, mb, mc) = (model(&a, &id), model(&b, &id), model(&c, &id));
        assert_eq!(ma, mc, "{id}");
        assert_eq!(mb, mc, "{id}");
        assert_eq!(mc.owner_name, format!("A4-{i}"));
        if i % 2 == 0 {
            assert_eq!(mc.name, format!("B4-{i}"));
        }
    }
    let f = faults.lock().unwrap();
    eprintln!(
        "faults: dropped {} lost {} truncated {} duplicated {} replayed {} passed {}",
        f.dropped, f.lost, f.truncated, f.duplicated, f.replayed, f.passed
    );
    assert!(f.dropped > 0 && f.lost > 0 && f.truncated > 0 && f.duplicated > 0 && f.replayed > 0, "every fault happened");
}
