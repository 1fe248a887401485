//! Photo upload cost per chunk, at the store (SQLite file, and PostgreSQL when
//! DANVAN_BENCH_POSTGRES_URL names an empty database): a 5 MiB photo sent in 64 KiB chunks (the
//! client's size), each chunk timed. Prints one figure per line, `name = value unit`:
//!
//!   cargo bench --bench photos
//!
//! `first_chunks_ms` / `last_chunks_ms`: the mean of the first and last eight chunks' latency; an
//! append that costs the chunk keeps them alike, one that rewrites the photo so far grows with it.
//! `written_mb`: bytes this process wrote to storage during the upload (`/proc/self/io`, SQLite
//! only), against the photo's 5 MiB; `files_grew_mb`: how much the database file and its WAL grew.

use std::time::Instant;

use danvan::server::store::postgres::PostgresStore;
use danvan::server::store::{PhotoAppend, PhotoChunk, PhotoLimits, SqliteStore, Store};
use sha2::{Digest, Sha256};

const PHOTO_BYTES: usize = 5 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;
/// Chunks averaged at each end of the upload.
const EDGE: usize = 8;
const LIMITS: PhotoLimits = PhotoLimits { per_model: 1_000, per_user_day: 1_000 };

fn figure(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("{name} = {value} {unit}");
}

/// A PNG header (IHDR 1600×1200) followed by noise: what the server accepts as a photo.
fn photo() -> (String, Vec<u8>) {
    let mut bytes = Vec::with_capacity(PHOTO_BYTES);
    bytes.extend_from_slice(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR");
    bytes.extend_from_slice(&1600u32.to_be_bytes());
    bytes.extend_from_slice(&1200u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    while bytes.len() < PHOTO_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push(x as u8);
    }
    (hex::encode(Sha256::digest(&bytes)), bytes)
}

/// Uploads the photo chunk by chunk; returns each chunk's latency in milliseconds.
async fn upload(store: &dyn Store, doc_id: &str) -> Vec<f64> {
    let (id, bytes) = photo();
    let mut latencies = Vec::new();
    for offset in (0..bytes.len()).step_by(CHUNK) {
        let end = (offset + CHUNK).min(bytes.len());
        let chunk = PhotoChunk {
            doc_id: doc_id.into(),
            id: id.clone(),
            content_type: "image/png".into(),
            offset: offset as u64,
            total: bytes.len() as u64,
            bytes: bytes[offset..end].to_vec(),
            by: "bench".into(),
        };
        let started = Instant::now();
        let answer = store.append_photo(chunk, &LIMITS, 1).await.expect("append");
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(matches!(answer, PhotoAppend::Stored(_)), "{answer:?}");
    }
    assert!(store.photo(doc_id, &id).await.unwrap().is_some_and(|(_, b)| b == bytes), "stored whole");
    latencies
}

fn report(prefix: &str, latencies: &[f64]) {
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    figure(&format!("{prefix}.chunks"), latencies.len(), "chunks");
    figure(&format!("{prefix}.first_chunks_ms"), format!("{:.2}", mean(&latencies[..EDGE])), "ms");
    // The very last chunk also completes the photo (hash, stored once); shown on its own.
    let n = latencies.len();
    figure(&format!("{prefix}.last_chunks_ms"), format!("{:.2}", mean(&latencies[n - 1 - EDGE..n - 1])), "ms");
    figure(&format!("{prefix}.completing_chunk_ms"), format!("{:.2}", latencies[n - 1]), "ms");
    figure(&format!("{prefix}.upload_total_ms"), format!("{:.0}", latencies.iter().sum::<f64>()), "ms");
}

fn file_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.sqlite3");
        let store = SqliteStore::open(&path).unwrap();
        // The WAL is checkpointed every 1,000 pages by default; its growth alone would undercount
        // what a row rewrite writes, so count the file writes the kernel saw instead.
        let io_before = process_write_bytes();
        let size_before = file_bytes(dir.path());
        let latencies = upload(&store, "m-bench").await;
        let io_after = process_write_bytes();
        report("photos.sqlite", &latencies);
        if let (Some(a), Some(b)) = (io_before, io_after) {
            figure("photos.sqlite.written_mb", format!("{:.1}", (b - a) as f64 / 1_048_576.0), "MB");
        }
        figure("photos.sqlite.files_grew_mb", format!("{:.1}", (file_bytes(dir.path()) - size_before) as f64 / 1_048_576.0), "MB");
        drop(store);

        match std::env::var("DANVAN_BENCH_POSTGRES_URL") {
            Ok(url) => {
                let store = PostgresStore::connect(&url).await.expect("PostgreSQL");
                let latencies = upload(&store, &format!("m-bench-{}", std::process::id())).await;
                report("photos.postgres", &latencies);
            }
            Err(_) => eprintln!("# photos.postgres skipped: set DANVAN_BENCH_POSTGRES_URL to an empty database"),
        }
    });
}

/// Bytes this process has caused to be written to storage (Linux `/proc/self/io`).
fn process_write_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|l| l.strip_prefix("write_bytes: ")).and_then(|v| v.trim().parse().ok())
}
