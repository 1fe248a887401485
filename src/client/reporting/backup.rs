//! The device backup's zip, written and read in this module (the app's own module carries no
//! zip code: `.ci/bench dist`). The app drives it entry by entry through the bin's exports
//! (`backup_*`): it hands documents and photos one at a time while writing, and takes the checked
//! documents, then the photos one at a time, while restoring. What is open lives here between
//! calls (one backup at a time; a new `begin`/`open` drops an unfinished one). Its errors are in
//! the module's language: Vietnamese unless a page of the module has installed English (the app
//! translates them with `tr` in any case).

use std::cell::RefCell;

use crate::backup_file::{BackupReader, BackupWriter, Opened};
use crate::domain::Model;
use crate::i18n::{t, tf, tr};

thread_local! {
    static WRITING: RefCell<Option<BackupWriter>> = const { RefCell::new(None) };
    static READING: RefCell<Option<BackupReader>> = const { RefCell::new(None) };
}

const NOT_STARTED: &str = "Chưa bắt đầu tạo bản sao (hãy bấm lại “Tải bản sao dữ liệu”).";
const NOT_OPEN: &str = "Chưa mở bản sao nào (hãy chọn lại tệp).";

pub fn begin(username: &str, display_name: &str, now_ms: i64) {
    WRITING.with(|w| *w.borrow_mut() = Some(BackupWriter::new(username, display_name, now_ms)));
}

pub fn add_doc(id: &str, bytes: &[u8]) -> Result<(), String> {
    WRITING.with(|w| w.borrow_mut().as_mut().ok_or(t(NOT_STARTED).to_string())?.add_doc(id, bytes).map_err(|e| tr(&e.to_string())))
}

/// `Err`: the photo is left out, with the reason (the app counts and names them).
pub fn add_photo(id: &str, doc: &str, content_type: &str, bytes: &[u8]) -> Result<(), String> {
    WRITING.with(|w| w.borrow_mut().as_mut().ok_or(t(NOT_STARTED).to_string())?.add_photo(id, doc, content_type, bytes).map_err(|e| tr(&e)))
}

/// Adds the readable copies of the models and downloads the file as `name`; returns its size.
pub fn finish(models: &[u8], name: &str) -> Result<usize, String> {
    let writer = WRITING.with(|w| w.borrow_mut().take()).ok_or(t(NOT_STARTED))?;
    let models: Vec<Model> =
        crate::client::engine::api::from_bytes(models).map_err(|e| tf("Không đọc được danh sách mô hình để sao lưu ({}). Hãy tải lại trang.", &[&e]))?;
    let bytes = writer.finish(&models).map_err(|e| tr(&e.to_string()))?;
    super::files::download(name, &bytes, "application/zip")?;
    Ok(bytes.len())
}

/// Reads and checks a whole backup; returns the manifest and documents as postcard bytes.
pub fn open(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    READING.with(|r| *r.borrow_mut() = None);
    let reader = BackupReader::open(bytes).map_err(|e| tr(&e.to_string()))?;
    let opened = Opened { manifest: reader.manifest.clone(), docs: reader.docs.clone() }.encode();
    READING.with(|r| *r.borrow_mut() = Some(reader));
    Ok(opened)
}

pub fn photo(id: &str) -> Result<Vec<u8>, String> {
    READING.with(|r| r.borrow_mut().as_mut().ok_or(t(NOT_OPEN).to_string())?.photo(id).map_err(|e| tr(&e.to_string())))
}

/// Frees the open backup (its bytes are the file's size in memory).
pub fn close() {
    READING.with(|r| *r.borrow_mut() = None);
    WRITING.with(|w| *w.borrow_mut() = None);
}
