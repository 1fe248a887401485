//! The backup format held to its contract: what is written reads back; a newer, truncated,
//! damaged or forged file is refused with its reason; merging is idempotent and keeps edits.

use std::io::{Cursor, Read, Write};

use automerge::AutoCommit;
use zip::write::SimpleFileOptions;

use super::*;
use crate::domain::{Model, ModelDraft};

const NOW: i64 = 1_764_672_000_000; // 2025-12-02 10:40 UTC

fn model(id: &str, name: &str) -> Model {
    let mut m = Model::new(id.into(), "Cán bộ A", NOW);
    let mut d = ModelDraft::blank(2025, "Xã Bản Bo");
    d.name = name.into();
    d.situation = "Đường đất lầy lội.".into();
    d.goals = "5 km đường bê tông.".into();
    d.content = "Khéo chọn việc.".into();
    d.area = "Bản Bo".into();
    d.forces = "Đảng ủy xã".into();
    d.resources = "Nhân dân góp công".into();
    d.start_date = "2025-01-15".into();
    d.sustainability = "Tự quản".into();
    d.owner_name = "Khối Dân vận xã".into();
    d.indicators.push(crate::domain::IndicatorDraft { id: "i1".into(), name: "Đường bê tông".into(), unit: "km".into(), target: "5".into(), achieved: "".into() });
    let fields: Vec<String> = crate::domain::STANDARD_FIELDS.iter().map(|(c, _)| c.to_string()).collect();
    d.apply(&mut m, &fields).expect("valid draft");
    m.unit = "BANBO".into();
    m
}

fn doc_bytes(m: &Model) -> Vec<u8> {
    crate::doc::create(m, NOW).unwrap().save()
}

/// A small JPEG-looking photo (the magic bytes are what the type check reads).
fn photo(seed: u8) -> (String, Vec<u8>) {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..2000u32).map(|i| (i as u8).wrapping_mul(seed)));
    (sha256_hex(&bytes), bytes)
}

/// A backup's bytes, the models in it, and its photos as (id, bytes).
type Sample = (Vec<u8>, Vec<Model>, Vec<(String, Vec<u8>)>);

fn sample_backup() -> Sample {
    let models = vec![model("m-1", "Khéo vận động làm đường"), model("m-2", "Hũ gạo tình thương, \"nghĩa tình\"")];
    let photos = vec![photo(3), photo(7)];
    let mut w = BackupWriter::new("canbo.a", "Cán bộ A", NOW);
    for m in &models {
        w.add_doc(&m.id, &doc_bytes(m)).unwrap();
    }
    for (id, bytes) in &photos {
        w.add_photo(id, "m-1", "image/jpeg", bytes).unwrap();
    }
    (w.finish(&models).unwrap(), models, photos)
}

fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = ZipArchive::new(Cursor::new(zip.to_vec())).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().unwrap().to_string(), b)
        })
        .collect()
}

/// Rewrites a backup with `edit` applied to its entries (a forger's tool).
fn rewrite(zip: &[u8], edit: impl Fn(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let mut list = entries(zip);
    edit(&mut list);
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in list {
        w.start_file(name, SimpleFileOptions::default().compression_method(CompressionMethod::Stored)).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn edit_manifest(zip: &[u8], f: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    rewrite(zip, |list| {
        let m = list.iter_mut().find(|(n, _)| n == "manifest.json").unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&m.1).unwrap();
        f(&mut v);
        m.1 = serde_json::to_vec(&v).unwrap();
    })
}

#[test]
fn what_is_written_reads_back() {
    let (zip, models, photos) = sample_backup();
    let mut r = BackupReader::open(zip.clone()).unwrap();
    assert_eq!(r.manifest.format, FORMAT);
    assert_eq!(r.manifest.version, FORMAT_VERSION);
    assert_eq!(r.manifest.username, "canbo.a");
    assert_eq!((r.manifest.documents, r.manifest.models, r.manifest.photos.len()), (2, 2, 2));
    let ids: Vec<&str> = r.docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["m-1", "m-2"]);
    for d in &r.docs {
        let back = crate::doc::read_model(&crate::doc::load(&d.bytes).unwrap()).unwrap();
        assert_eq!(back.name, models.iter().find(|m| m.id == d.id).unwrap().name);
    }
    for (id, bytes) in &photos {
        assert_eq!(&r.photo(id).unwrap(), bytes);
    }
    // What crosses from the report module to the app.
    let opened = Opened { manifest: r.manifest.clone(), docs: r.docs.clone() };
    assert_eq!(Opened::decode(&opened.encode()).unwrap(), opened);

    // The readable copies: one JSON model per line, a CSV with BOM and the list's header, a README.
    let list = entries(&zip);
    let get = |n: &str| list.iter().find(|(name, _)| name == n).map(|(_, b)| b.clone()).unwrap();
    let jsonl = String::from_utf8(get("models.jsonl")).unwrap();
    let read: Vec<Model> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(read.len(), 2);
    assert_eq!(read[1].name, models[1].name);
    let csv = get("models.csv");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let csv = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(csv.lines().next().unwrap().starts_with("STT,"), "{csv}");
    assert!(csv.contains("\"Hũ gạo tình thương, \"\"nghĩa tình\"\"\""), "quoted as Excel reads it: {csv}");
    let readme = String::from_utf8(get("README.txt")).unwrap();
    assert!(readme.contains("Khôi phục từ bản sao") && readme.contains("To restore"), "{readme}");
    // Documents and photos are stored as they are (already compressed), text deflated.
    let mut a = ZipArchive::new(Cursor::new(zip)).unwrap();
    assert_eq!(a.by_name("docs/m-1.automerge").unwrap().compression(), CompressionMethod::Stored);
    assert_eq!(a.by_name("models.jsonl").unwrap().compression(), CompressionMethod::Deflated);
    assert_eq!(file_name("canbo.a", NOW), "danvan-sao-luu-canbo.a-2025-12-02.zip");
}

#[test]
fn a_newer_format_is_refused_with_what_to_do() {
    let (zip, _, _) = sample_backup();
    let newer = edit_manifest(&zip, |v| {
        v["version"] = serde_json::json!(FORMAT_VERSION + 1);
        v["app_version"] = serde_json::json!("9.0.0");
    });
    let e = BackupReader::open(newer).err().unwrap();
    assert_eq!(e, BackupError::TooNew { version: FORMAT_VERSION + 1, app_version: "9.0.0".into() });
    assert!(e.to_string().contains("tải lại trang"), "{e}");
    // Not a backup at all: another zip (an XLSX), or a manifest of something else.
    let other = edit_manifest(&zip, |v| v["format"] = serde_json::json!("khac"));
    assert!(matches!(BackupReader::open(other), Err(BackupError::NotBackup(_))));
    let xlsx = crate::export::xlsx(&[crate::export::model_table(&[])]).unwrap();
    assert!(matches!(BackupReader::open(xlsx), Err(BackupError::Unexpected(_))));
}

#[test]
fn a_truncated_or_damaged_file_is_refused() {
    let (zip, _, _) = sample_backup();
    for cut in [0, 10, zip.len() / 2, zip.len() - 1] {
        let e = BackupReader::open(zip[..cut].to_vec()).err().unwrap();
        assert!(matches!(e, BackupError::NotZip(_)), "cut at {cut}: {e:?}");
        assert!(e.to_string().contains("cắt ngang"), "{e}");
    }
    // One byte of a stored document flipped: the CRC says so.
    let stored = entries(&zip).into_iter().find(|(n, _)| n == "docs/m-1.automerge").unwrap().1;
    let doc = zip.windows(stored.len()).position(|w| w == stored.as_slice()).unwrap();
    let mut damaged = zip.clone();
    damaged[doc + 20] ^= 0x55;
    let e = BackupReader::open(damaged).err().unwrap();
    assert!(matches!(&e, BackupError::Entry { name, .. } if name == "docs/m-1.automerge"), "{e:?}");
}

#[test]
fn a_photo_whose_bytes_do_not_match_its_name_is_refused() {
    let (zip, _, photos) = sample_backup();
    let forged = rewrite(&zip, |list| {
        let name = format!("photos/{}.jpg", photos[0].0);
        let p = list.iter_mut().find(|(n, _)| *n == name).unwrap();
        p.1[10] ^= 1;
    });
    let e = BackupReader::open(forged).err().unwrap();
    assert!(e.to_string().contains("SHA-256"), "{e}");
    // Bytes of another type than the manifest says (an HTML page named .jpg).
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let id = sha256_hex(&html);
    let typed = rewrite(&zip, |list| {
        list.push((format!("photos/{id}.jpg"), html.clone()));
        let m = list.iter_mut().find(|(n, _)| n == "manifest.json").unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&m.1).unwrap();
        v["photos"].as_array_mut().unwrap().push(serde_json::json!({"id": id, "doc": "m-1", "content_type": "image/jpeg", "bytes": html.len()}));
        m.1 = serde_json::to_vec(&v).unwrap();
    });
    assert!(BackupReader::open(typed).err().unwrap().to_string().contains("không phải ảnh"));
    // The writer leaves out a photo damaged on the device, with the reason.
    let mut w = BackupWriter::new("canbo.a", "Cán bộ A", NOW);
    let mut bad = photos[1].1.clone();
    bad[5] ^= 1;
    assert!(w.add_photo(&photos[1].0, "m-1", "image/jpeg", &bad).is_err());
}

#[test]
fn forged_entries_are_refused() {
    let (zip, _, _) = sample_backup();
    // Paths, unknown files, entries the manifest does not list, or listed but missing.
    for name in ["../../etc/passwd", "docs/../x.automerge", "docs/a/b.automerge", "virus.exe", "photos/abc.jpg"] {
        let forged = rewrite(&zip, |list| list.push((name.to_string(), b"x".to_vec())));
        assert!(matches!(BackupReader::open(forged), Err(BackupError::Unexpected(n)) if n == name), "{name}");
    }
    let extra = rewrite(&zip, |list| list.push(("docs/m-3.automerge".into(), doc_bytes(&model("m-3", "Thêm")))));
    assert!(matches!(BackupReader::open(extra), Err(BackupError::Mismatch(_))));
    let fewer = rewrite(&zip, |list| list.retain(|(n, _)| !n.starts_with("photos/")));
    assert!(matches!(BackupReader::open(fewer), Err(BackupError::Mismatch(_))));
    let no_manifest = rewrite(&zip, |list| list.retain(|(n, _)| n != "manifest.json"));
    assert!(matches!(BackupReader::open(no_manifest), Err(BackupError::NotBackup(_))));
}

#[test]
fn an_entry_that_inflates_beyond_its_limit_is_refused() {
    // 6 MiB of zeros deflate to a few KB: a photo entry may not inflate past 5 MiB whatever its
    // header declares.
    let zeros = vec![0u8; 6 * 1024 * 1024];
    let id = sha256_hex(&zeros);
    let (zip, _, _) = sample_backup();
    let list = entries(&zip);
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in &list {
        let mut bytes = bytes.clone();
        if name == "manifest.json" {
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            v["photos"].as_array_mut().unwrap().push(serde_json::json!({"id": id, "doc": "m-1", "content_type": "image/jpeg", "bytes": 1}));
            bytes = serde_json::to_vec(&v).unwrap();
        }
        w.start_file(name.as_str(), SimpleFileOptions::default().compression_method(CompressionMethod::Stored)).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.start_file(format!("photos/{id}.jpg"), SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)).unwrap();
    w.write_all(&zeros).unwrap();
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let e = BackupReader::open(bomb).err().unwrap();
    assert!(e.to_string().contains("giới hạn 5 MB"), "{e}");
}

fn record(m: &Model) -> DocRecord {
    DocRecord { id: m.id.clone(), doc: doc_bytes(m), sync: Some(vec![1, 2, 3]), dirty: false }
}

#[test]
fn merging_is_idempotent_and_keeps_the_devices_newer_edits() {
    let m = model("m-1", "Khéo vận động làm đường");
    let original = crate::doc::create(&m, NOW).unwrap().save();

    // Not on the device: stored as it is, dirty, to be sent whole.
    let Merge::New(new) = merge_document("m-1", &original, None).unwrap().merge else { panic!("new") };
    assert_eq!((new.doc.clone(), new.sync.clone(), new.dirty), (original.clone(), None, true));

    // The device has edited it since the backup: the backup adds nothing, the edit stays.
    let mut device = crate::doc::load(&original).unwrap();
    let mut edited = crate::doc::read_model(&device).unwrap();
    edited.name = "Khéo vận động làm đường (đã sửa)".into();
    crate::doc::write_model(&mut device, &edited, NOW + 1000, "sửa").unwrap();
    let rec = DocRecord { id: "m-1".into(), doc: device.save(), sync: Some(vec![9]), dirty: true };
    assert_eq!(merge_document("m-1", &original, Some(rec.clone())).unwrap().merge, Merge::Unchanged);

    // The backup holds an edit the device lacks, and the device one the backup lacks: both kept.
    let mut other = crate::doc::load(&original).unwrap();
    let mut theirs = crate::doc::read_model(&other).unwrap();
    theirs.goals = "7 km đường bê tông.".into();
    crate::doc::write_model(&mut other, &theirs, NOW + 2000, "sửa ở máy cũ").unwrap();
    let backup = other.save();
    let Merge::Merged(merged) = merge_document("m-1", &backup, Some(rec.clone())).unwrap().merge else { panic!("merged") };
    assert!(merged.dirty, "sent at the next sync");
    assert_eq!(merged.sync, Some(vec![9]), "the shared heads with the server stay");
    let both = crate::doc::read_model(&crate::doc::load(&merged.doc).unwrap()).unwrap();
    assert_eq!(both.name, "Khéo vận động làm đường (đã sửa)");
    assert_eq!(both.goals.as_str(), "7 km đường bê tông.");
    // Restoring the same file again changes nothing.
    assert_eq!(merge_document("m-1", &backup, Some(merged)).unwrap().merge, Merge::Unchanged);
    let synced = DocRecord { id: "m-1".into(), doc: original.clone(), sync: Some(vec![1]), dirty: false };
    assert_eq!(merge_document("m-1", &original, Some(synced)).unwrap().merge, Merge::Unchanged, "not even marked dirty");
}

#[test]
fn a_forged_document_is_not_merged_into_another() {
    let m = model("m-1", "Khéo vận động làm đường");
    let other = model("m-2", "Mô hình khác");
    // Another document's bytes under this id.
    let e = merge_document("m-1", &doc_bytes(&other), Some(record(&m))).unwrap_err();
    assert!(e.contains("mã khác"), "{e}");
    // A document made elsewhere with the same id (and maybe another owner): not the same origin.
    let mut forged = model("m-1", "Giả mạo");
    forged.unit = "KHAC".into();
    let e = merge_document("m-1", &doc_bytes(&forged), Some(record(&m))).unwrap_err();
    assert!(e.contains("không cùng gốc"), "{e}");
    // Bytes that are no document.
    assert!(merge_document("m-1", b"not automerge", None).is_err());
    let mut empty = AutoCommit::new();
    assert!(merge_document("m-1", &empty.save(), None).unwrap_err().contains("mã khác"));
}
