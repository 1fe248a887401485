//! The device's own copy (Cài đặt → Sao lưu): one zip file holding every document of the device
//! as automerge bytes, its photos, the same models in an open readable form (JSON lines and CSV)
//! and a README — and the checks and the merge of a restore. No IO and no clock: the browser
//! hands bytes in and takes bytes out (`client::reporting::backup` writes and reads the zip in
//! the report module, `client::local::backup` merges into the replica).
//!
//! Layout of format version [`FORMAT_VERSION`]:
//! - `manifest.json` — [`Manifest`]: format name and version, app version, whose device, when,
//!   counts, and every photo with its model and type;
//! - `README.txt` — what each file is and how to restore (Vietnamese, then English);
//! - `models.jsonl` — one `domain::Model` per line (serde JSON), `models.csv` — the model list's
//!   table (`export::model_table`, UTF-8 with BOM for Excel): for people and other tools, never
//!   read back (the documents are the truth; a table cannot carry the history a merge needs);
//! - `docs/<id>.automerge` — each document's `AutoCommit::save` bytes as stored on the device;
//! - `photos/<sha256>.<jpg|png|webp>` — each photo's bytes, named by their SHA-256.
//!
//! Invariants of the reader (a file handed over by someone else is input from an attacker):
//! [`BackupReader::open`] reads and checks the whole file before anything of it is returned —
//! the manifest's format and version (a newer version is refused, not guessed at), every entry's
//! name (only the names above; no paths, no duplicates), every entry's size against a limit both
//! as declared and as actually inflated (no zip bomb), every CRC (a truncated or damaged file is
//! refused), that the entries are exactly those the manifest lists, and every photo's SHA-256
//! against its name and its bytes against its type. [`merge_document`] refuses a document whose
//! root `id` is not its name or whose owner differs from the device's copy of that id (a forged
//! document of the same id would otherwise be merged into the real one and leave its owner
//! conflicted, which the server then refuses for good). What a backup's documents say is trusted
//! no further than the user's own edits are: they sync as the user's changes and the server's
//! rules (who may write which unit, who may record which step) decide.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};

use automerge::{AutoCommit, ReadDoc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::domain::Model;
use crate::sync::session::DocRecord;

/// What `manifest.json`'s `format` says: this is a danvan device backup, not any zip.
pub const FORMAT: &str = "danvan-sao-luu";
/// The archive layout this code writes and the newest it reads. Bump it when the layout changes
/// in a way an older reader would misread; older versions stay readable.
pub const FORMAT_VERSION: u32 = 1;

/// Bounds on what a restore reads, as declared and as inflated. A document of 64 MiB is far
/// beyond any model (about 2.5 KB typical, a few MB with years of history); photos are at most
/// what the server takes; the manifest lists at most [`MAX_ENTRIES`] photos.
pub const MAX_DOC_BYTES: u64 = 64 * 1024 * 1024;
pub const MAX_PHOTO_BYTES: u64 = 5 * 1024 * 1024;
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;
pub const MAX_ENTRIES: usize = 500_000;

const MANIFEST: &str = "manifest.json";
const README: &str = "README.txt";
const MODELS_JSONL: &str = "models.jsonl";
const MODELS_CSV: &str = "models.csv";

/// The archive's table of contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The app that wrote it (`CARGO_PKG_VERSION`), for people reading the file.
    pub app_version: String,
    /// Whose device: the signed-in account when the copy was taken.
    pub username: String,
    pub display_name: String,
    pub created_at_ms: i64,
    pub documents: usize,
    /// Documents that read as models (those in `models.jsonl` and `models.csv`).
    pub models: usize,
    pub photos: Vec<PhotoEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoEntry {
    /// Lowercase hex SHA-256 of the bytes.
    pub id: String,
    /// The model whose activity log shows it.
    pub doc: String,
    pub content_type: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackupError {
    #[error("Tệp này không đọc được như một bản sao (tệp zip): {0}. Có thể tệp đã bị cắt ngang khi tải về hoặc chép sang máy khác; hãy chọn lại đúng tệp danvan-sao-luu-….zip.")]
    NotZip(String),
    #[error("Tệp này không phải bản sao dữ liệu của Dân vận khéo (không có manifest.json hợp lệ: {0}).")]
    NotBackup(String),
    #[error("Bản sao được tạo bởi phiên bản ứng dụng mới hơn ({app_version}, định dạng {version}); ứng dụng trên máy này chỉ đọc được định dạng đến {FORMAT_VERSION}. Hãy tải lại trang khi có mạng để cập nhật ứng dụng, rồi khôi phục lại.")]
    TooNew { version: u32, app_version: String },
    #[error("Tệp “{name}” trong bản sao bị hỏng: {reason}.")]
    Entry { name: String, reason: String },
    #[error("Bản sao có tệp lạ “{0}”, không thuộc định dạng bản sao của ứng dụng.")]
    Unexpected(String),
    #[error("Bản sao không khớp với mục lục của nó: {0}.")]
    Mismatch(String),
    #[error("Không tạo được bản sao: {0}")]
    Write(String),
}

fn entry_error(name: &str, reason: impl Into<String>) -> BackupError {
    BackupError::Entry { name: name.to_string(), reason: reason.into() }
}

/// The file name a photo of this type is stored under (`None`: not a type the app keeps).
fn photo_extension(content_type: &str) -> Option<&'static str> {
    match content_type {
        "image/jpeg" => Some("jpg"),
        "image/png" => Some("png"),
        "image/webp" => Some("webp"),
        _ => None,
    }
}

/// The image type the bytes' magic says (the server checks the same before it takes a photo).
fn sniffed_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn valid_photo_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks one photo as a restore (and a backup) takes it: the name is a SHA-256, the bytes hash
/// to it, the type is one the app keeps and is what the bytes are, and it fits the server's limit.
pub fn check_photo(id: &str, content_type: &str, bytes: &[u8]) -> Result<(), String> {
    if !valid_photo_id(id) {
        return Err("tên ảnh không phải mã SHA-256".into());
    }
    if bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err(format!("ảnh lớn hơn {} MB", MAX_PHOTO_BYTES / 1_048_576));
    }
    if sha256_hex(bytes) != id {
        return Err("nội dung ảnh không khớp với mã SHA-256 của nó (ảnh bị hỏng hoặc bị sửa)".into());
    }
    match sniffed_type(bytes) {
        Some(t) if t == content_type => Ok(()),
        Some(t) => Err(format!("ảnh là {t} nhưng mục lục ghi {content_type}")),
        None => Err("không phải ảnh JPEG, PNG hay WebP".into()),
    }
}

/// The zip's entry time: the copy's creation time in Vietnam (zip times carry no time zone and
/// are read as local time; the manifest has the exact moment).
fn entry_time(created_at_ms: i64) -> zip::DateTime {
    let date = crate::domain::Date::in_vietnam(created_at_ms);
    let secs = created_at_ms.saturating_add(7 * 3_600_000).rem_euclid(86_400_000) / 1000;
    zip::DateTime::from_date_and_time(date.year, date.month, date.day, (secs / 3600) as u8, ((secs / 60) % 60) as u8, (secs % 60) as u8)
        .unwrap_or_default()
}

/// Writes a backup entry by entry, so the browser hands over one photo at a time and never
/// holds every photo twice.
pub struct BackupWriter {
    zip: ZipWriter<Cursor<Vec<u8>>>,
    manifest: Manifest,
    docs: BTreeSet<String>,
    photos: BTreeSet<String>,
    time: zip::DateTime,
}

impl BackupWriter {
    pub fn new(username: &str, display_name: &str, created_at_ms: i64) -> BackupWriter {
        BackupWriter {
            zip: ZipWriter::new(Cursor::new(Vec::new())),
            manifest: Manifest {
                format: FORMAT.into(),
                version: FORMAT_VERSION,
                app_version: env!("CARGO_PKG_VERSION").into(),
                username: username.into(),
                display_name: display_name.into(),
                created_at_ms,
                documents: 0,
                models: 0,
                photos: Vec::new(),
            },
            docs: BTreeSet::new(),
            photos: BTreeSet::new(),
            time: entry_time(created_at_ms),
        }
    }

    /// Automerge saves and photos are compressed already: stored as they are (deflating them
    /// again costs time on a phone for nothing). The text files deflate to a tenth.
    fn options(&self, method: CompressionMethod) -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(method).last_modified_time(self.time).large_file(false)
    }

    fn put(&mut self, name: &str, method: CompressionMethod, bytes: &[u8]) -> Result<(), BackupError> {
        let options = self.options(method);
        self.zip.start_file(name, options).map_err(|e| BackupError::Write(format!("{name}: {e}")))?;
        self.zip.write_all(bytes).map_err(|e| BackupError::Write(format!("{name}: {e}")))
    }

    /// One document as stored on the device. The same id twice is written once.
    pub fn add_doc(&mut self, id: &str, bytes: &[u8]) -> Result<(), BackupError> {
        if !crate::sync::valid_doc_id(id) {
            return Err(BackupError::Write(format!("mã tài liệu không hợp lệ “{id}”")));
        }
        if !self.docs.insert(id.to_string()) {
            return Ok(());
        }
        self.put(&format!("docs/{id}.automerge"), CompressionMethod::Stored, bytes)?;
        self.manifest.documents += 1;
        Ok(())
    }

    /// One photo. A photo damaged on the device (its bytes no longer hash to its name) is refused
    /// with the reason, so the caller can leave it out and say so.
    pub fn add_photo(&mut self, id: &str, doc: &str, content_type: &str, bytes: &[u8]) -> Result<(), String> {
        check_photo(id, content_type, bytes)?;
        if !crate::sync::valid_doc_id(doc) {
            return Err(format!("mã mô hình của ảnh không hợp lệ “{doc}”"));
        }
        if !self.photos.insert(id.to_string()) {
            return Ok(());
        }
        let ext = photo_extension(content_type).unwrap_or("bin");
        self.put(&format!("photos/{id}.{ext}"), CompressionMethod::Stored, bytes).map_err(|e| e.to_string())?;
        self.manifest.photos.push(PhotoEntry { id: id.into(), doc: doc.into(), content_type: content_type.into(), bytes: bytes.len() as u64 });
        Ok(())
    }

    /// Adds the readable copies of `models` (the documents that read as models), the README and
    /// the manifest, and returns the zip's bytes.
    pub fn finish(mut self, models: &[Model]) -> Result<Vec<u8>, BackupError> {
        let mut jsonl = Vec::new();
        for m in models {
            serde_json::to_writer(&mut jsonl, m).map_err(|e| BackupError::Write(e.to_string()))?;
            jsonl.push(b'\n');
        }
        self.put(MODELS_JSONL, CompressionMethod::Deflated, &jsonl)?;
        let csv = crate::export::csv(&crate::export::model_table(models));
        self.put(MODELS_CSV, CompressionMethod::Deflated, &csv)?;
        self.manifest.models = models.len();
        let readme = readme(&self.manifest);
        self.put(README, CompressionMethod::Deflated, readme.as_bytes())?;
        let manifest = serde_json::to_vec_pretty(&self.manifest).map_err(|e| BackupError::Write(e.to_string()))?;
        self.put(MANIFEST, CompressionMethod::Deflated, &manifest)?;
        let cursor = self.zip.finish().map_err(|e| BackupError::Write(e.to_string()))?;
        Ok(cursor.into_inner())
    }
}

/// The file name of a copy: `danvan-sao-luu-<username>-<yyyy-mm-dd>.zip` (the day in Vietnam).
pub fn file_name(username: &str, created_at_ms: i64) -> String {
    let user: String = username.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
    let user = if user.is_empty() { "thiet-bi".to_string() } else { user };
    format!("danvan-sao-luu-{user}-{}.zip", crate::domain::Date::in_vietnam(created_at_ms))
}


/// One document of a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupDoc {
    pub id: String,
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// A backup that passed every check of [`BackupReader::open`]: the manifest and the documents in
/// memory; photos read one at a time with [`BackupReader::photo`].
pub struct BackupReader {
    archive: ZipArchive<Cursor<Vec<u8>>>,
    pub manifest: Manifest,
    pub docs: Vec<BackupDoc>,
    /// Photo id → its entry's name.
    photo_names: BTreeMap<String, String>,
}

/// Reads an entry whole, refusing more than `limit` bytes as declared or as actually inflated
/// (a forged header could declare less than it inflates to); the zip crate checks the CRC once
/// the entry is read to its end.
fn read_entry(archive: &mut ZipArchive<Cursor<Vec<u8>>>, index: usize, name: &str, limit: u64) -> Result<Vec<u8>, BackupError> {
    let file = archive.by_index(index).map_err(|e| entry_error(name, e.to_string()))?;
    if !matches!(file.compression(), CompressionMethod::Stored | CompressionMethod::Deflated) {
        return Err(entry_error(name, format!("kiểu nén {:?} không được hỗ trợ", file.compression())));
    }
    if file.size() > limit {
        return Err(entry_error(name, format!("lớn hơn giới hạn {} MB", limit / 1_048_576)));
    }
    let mut bytes = Vec::with_capacity(file.size() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| entry_error(name, e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(entry_error(name, format!("giải nén ra lớn hơn giới hạn {} MB", limit / 1_048_576)));
    }
    Ok(bytes)
}

/// What an entry's name says it is.
enum Entry {
    Manifest,
    /// README, models.jsonl, models.csv: for people; not read back.
    Readable,
    Doc(String),
    Photo { id: String, ext: String },
}

fn classify(name: &str) -> Option<Entry> {
    match name {
        MANIFEST => return Some(Entry::Manifest),
        README | MODELS_JSONL | MODELS_CSV => return Some(Entry::Readable),
        _ => {}
    }
    if let Some(id) = name.strip_prefix("docs/").and_then(|n| n.strip_suffix(".automerge")) {
        return crate::sync::valid_doc_id(id).then(|| Entry::Doc(id.to_string()));
    }
    let (id, ext) = name.strip_prefix("photos/")?.split_once('.')?;
    (valid_photo_id(id) && matches!(ext, "jpg" | "png" | "webp")).then(|| Entry::Photo { id: id.into(), ext: ext.into() })
}

impl BackupReader {
    /// Reads and checks the whole file (see the module's invariants); nothing of a file that
    /// fails a check is returned.
    pub fn open(bytes: Vec<u8>) -> Result<BackupReader, BackupError> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| BackupError::NotZip(e.to_string()))?;
        if archive.len() > MAX_ENTRIES + 4 {
            return Err(BackupError::Mismatch(format!("quá nhiều tệp ({})", archive.len())));
        }
        let mut manifest_at = None;
        let mut doc_at: BTreeMap<String, usize> = BTreeMap::new();
        let mut photo_at: BTreeMap<String, (usize, String, String)> = BTreeMap::new();
        let mut names = BTreeSet::new();
        for i in 0..archive.len() {
            let name = archive.by_index_raw(i).map_err(|e| BackupError::NotZip(e.to_string()))?.name().map_err(|e| BackupError::NotZip(e.to_string()))?.to_string();
            if !names.insert(name.clone()) {
                return Err(BackupError::Mismatch(format!("tệp “{name}” có hai lần")));
            }
            match classify(&name) {
                Some(Entry::Manifest) => manifest_at = Some(i),
                Some(Entry::Readable) => {}
                Some(Entry::Doc(id)) => {
                    doc_at.insert(id, i);
                }
                Some(Entry::Photo { id, ext }) => {
                    photo_at.insert(id, (i, ext, name));
                }
                None => return Err(BackupError::Unexpected(name)),
            }
        }
        let manifest_at = manifest_at.ok_or_else(|| BackupError::NotBackup("thiếu manifest.json".into()))?;
        let manifest = read_manifest(&read_entry(&mut archive, manifest_at, MANIFEST, MAX_MANIFEST_BYTES)?)?;

        // The entries are exactly what the manifest lists.
        if manifest.documents != doc_at.len() {
            return Err(BackupError::Mismatch(format!("mục lục ghi {} tài liệu, tệp có {}", manifest.documents, doc_at.len())));
        }
        if manifest.photos.len() != photo_at.len() {
            return Err(BackupError::Mismatch(format!("mục lục ghi {} ảnh, tệp có {}", manifest.photos.len(), photo_at.len())));
        }
        let mut photo_names = BTreeMap::new();
        for p in &manifest.photos {
            let Some((index, ext, name)) = photo_at.get(&p.id) else {
                return Err(BackupError::Mismatch(format!("thiếu ảnh {}", p.id)));
            };
            if photo_extension(&p.content_type) != Some(ext.as_str()) {
                return Err(entry_error(name, format!("mục lục ghi kiểu {}", p.content_type)));
            }
            if !crate::sync::valid_doc_id(&p.doc) {
                return Err(entry_error(name, format!("mã mô hình “{}” không hợp lệ", p.doc)));
            }
            // Read once here to check it (then dropped: a restore reads it again when storing).
            let bytes = read_entry(&mut archive, *index, name, MAX_PHOTO_BYTES)?;
            check_photo(&p.id, &p.content_type, &bytes).map_err(|reason| entry_error(name, reason))?;
            photo_names.insert(p.id.clone(), name.clone());
        }
        let mut docs = Vec::with_capacity(doc_at.len());
        for (id, index) in doc_at {
            let name = format!("docs/{id}.automerge");
            let bytes = read_entry(&mut archive, index, &name, MAX_DOC_BYTES)?;
            docs.push(BackupDoc { id, bytes });
        }
        Ok(BackupReader { archive, manifest, docs, photo_names })
    }

    /// A photo's bytes, checked again (the file in memory cannot have changed, but the check is
    /// what stands between a file and the device's storage, so it is made where they are taken).
    pub fn photo(&mut self, id: &str) -> Result<Vec<u8>, BackupError> {
        let name = self.photo_names.get(id).cloned().ok_or_else(|| BackupError::Mismatch(format!("không có ảnh {id}")))?;
        let index = self.archive.index_for_name(&name).ok_or_else(|| BackupError::Mismatch(format!("không có ảnh {id}")))?;
        let bytes = read_entry(&mut self.archive, index, &name, MAX_PHOTO_BYTES)?;
        let content_type = self.manifest.photos.iter().find(|p| p.id == id).map(|p| p.content_type.clone()).unwrap_or_default();
        check_photo(id, &content_type, &bytes).map_err(|reason| entry_error(&name, reason))?;
        Ok(bytes)
    }
}

/// A checked backup as it crosses from the report module, which reads the zip, to the app, which
/// merges it (postcard bytes; the photos follow one at a time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub manifest: Manifest,
    pub docs: Vec<BackupDoc>,
}

impl Opened {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<Opened, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("Bản sao đã đọc nhưng không chuyển được sang ứng dụng ({e}). Hãy tải lại trang."))
    }
}

/// The format and version first (a newer layout may have other fields), then the rest.
fn read_manifest(bytes: &[u8]) -> Result<Manifest, BackupError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| BackupError::NotBackup(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(BackupError::NotBackup(format!("“format” không phải “{FORMAT}”")));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).ok_or_else(|| BackupError::NotBackup("thiếu “version”".into()))?;
    if version > u64::from(FORMAT_VERSION) {
        let app_version = value.get("app_version").and_then(|v| v.as_str()).unwrap_or("?").to_string();
        return Err(BackupError::TooNew { version: u32::try_from(version).unwrap_or(u32::MAX), app_version });
    }
    if version == 0 {
        return Err(BackupError::NotBackup("“version” bằng 0".into()));
    }
    let manifest: Manifest = serde_json::from_value(value).map_err(|e| BackupError::NotBackup(e.to_string()))?;
    if manifest.photos.len() > MAX_ENTRIES || manifest.documents > MAX_ENTRIES {
        return Err(BackupError::Mismatch("mục lục ghi quá nhiều tệp".into()));
    }
    Ok(manifest)
}

/// What merging one document of a backup into the replica did.
#[derive(Debug, Clone, PartialEq)]
pub enum Merge {
    /// Not on the device: stored as it is, to be sent whole at the next sync.
    New(DocRecord),
    /// On the device, and the backup held changes it lacked: the CRDT merge of both.
    Merged(DocRecord),
    /// The device already holds every change of the backup's copy.
    Unchanged,
}

/// A backup document merged, with what the restore needs to know of it besides.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub merge: Merge,
    /// The photos its activity log shows: only those are taken from the backup (the server keeps
    /// only photos an entry shows, and a photo nothing shows would never be sent or seen).
    pub photos: BTreeSet<String>,
    /// Its owning unit (`doc::owner`), to know whether this user uploads its photos.
    pub unit: Option<String>,
}

/// The root `id` value, read without the model's schema (a document of a newer app version is
/// still checked and merged, like sync merges it).
fn root_id(doc: &AutoCommit) -> Option<String> {
    match doc.get(automerge::ROOT, "id").ok()?? {
        (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_string),
        _ => None,
    }
}

/// Merges a backup's copy of document `id` into the device's record of it (`None`: not on the
/// device), as sync merges what the feed brings (`load_incremental`: every change of both is
/// kept, none is duplicated, so a second restore of the same file changes nothing and edits made
/// on the device since the backup stay). A merged record keeps its sync state (the changes the
/// server holds did not change) and is dirty, so the next sync sends what the server may lack.
pub fn merge_document(id: &str, backup: &[u8], local: Option<DocRecord>) -> Result<Restored, String> {
    let mut theirs = AutoCommit::load(backup).map_err(|e| format!("tài liệu {id} trong bản sao không đọc được ({e})"))?;
    if root_id(&theirs).as_deref() != Some(id) {
        return Err(format!("tài liệu {id} trong bản sao mang mã khác bên trong (tệp đã bị sửa)"));
    }
    let owner = crate::doc::owner(&theirs);
    // A journal that does not read (a newer schema): its photos are left out, the text is not.
    let photos = crate::doc::journal_photo_ids(&theirs).unwrap_or_default();
    let unit = owner.as_ref().map(|(u, _)| u.clone());
    let done = |merge| Ok(Restored { merge, photos: photos.clone(), unit: unit.clone() });
    let Some(rec) = local else {
        return done(Merge::New(DocRecord { id: id.to_string(), doc: backup.to_vec(), sync: None, dirty: true }));
    };
    let Ok(mut ours) = AutoCommit::load(&rec.doc) else {
        // The device's copy is damaged: the backup's whole copy replaces it (as a whole one
        // from the feed does), and the next sync settles it with the server.
        return done(Merge::Merged(DocRecord { doc: backup.to_vec(), sync: None, dirty: true, ..rec }));
    };
    let same_origin = match (crate::doc::owner(&ours), owner) {
        (Some(a), Some(b)) => a == b,
        // An owner conflicted or missing on one side: at least one change in common.
        _ => theirs.get_changes(&[]).iter().any(|c| ours.get_change_by_hash(&c.hash()).is_some()),
    };
    if !same_origin {
        return Err(format!("tài liệu {id} trong bản sao không cùng gốc với mô hình cùng mã trên máy (tệp đã bị sửa)"));
    }
    let before = ours.get_heads();
    ours.load_incremental(backup).map_err(|e| format!("không gộp được tài liệu {id} ({e})"))?;
    if ours.get_heads() == before {
        return done(Merge::Unchanged);
    }
    done(Merge::Merged(DocRecord { doc: ours.save(), dirty: true, ..rec }))
}

mod readme;
use readme::readme;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
