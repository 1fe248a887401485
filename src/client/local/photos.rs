//! Photos of the activity log on this device: made small on the phone, kept in IndexedDB, and
//! which of them still wait for the server (`net::photos` sends and fetches them).
//!
//! Invariants: a photo is stored on the device (committed) before its entry refers to it, so an
//! entry never points to bytes this device lacks; the upload never holds back the text (it runs
//! after a sync round, on its own); the server checks the bytes against the name (SHA-256), so a
//! cut or garbled upload is never taken as the photo.

use std::cell::Cell;

use leptos::prelude::*;
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::client::local::replica::Replica;
use crate::client::local::storage::StoredPhoto;
use crate::domain::PhotoRef;
/// Longest side after resizing, and the JPEG quality: a 12-megapixel photo becomes ~200–400 KB.
const MAX_SIDE: f64 = 1600.0;
const JPEG_QUALITY: f64 = 0.7;

fn js_error(e: JsValue) -> String {
    e.as_string().or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string())).unwrap_or_else(|| "lỗi không rõ".into())
}

/// Decodes a picked or taken photo, scales it to at most [`MAX_SIDE`] and encodes it as JPEG.
pub async fn prepare(file: &web_sys::File) -> Result<(PhotoRef, Vec<u8>), String> {
    let window = web_sys::window().ok_or("không có cửa sổ trình duyệt")?;
    let not_image = |_| format!("Không đọc được “{}” như một ảnh. Hãy chọn ảnh JPEG, PNG hoặc HEIC đã chuyển sang JPEG.", file.name());
    let bitmap: web_sys::ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(file).map_err(not_image)?)
        .await
        .map_err(not_image)?
        .unchecked_into();
    let (w, h) = (bitmap.width() as f64, bitmap.height() as f64);
    let scale = (MAX_SIDE / w.max(h)).min(1.0);
    let (tw, th) = ((w * scale).round().max(1.0), (h * scale).round().max(1.0));
    let document = window.document().ok_or("không có tài liệu")?;
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas").map_err(js_error)?.unchecked_into();
    canvas.set_width(tw as u32);
    canvas.set_height(th as u32);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").map_err(js_error)?.ok_or("trình duyệt không vẽ được ảnh")?.unchecked_into();
    context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, tw, th).map_err(js_error)?;
    bitmap.close();
    let blob = to_blob(&canvas).await?;
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(js_error)?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    let id = hex::encode(Sha256::digest(&bytes));
    Ok((PhotoRef { id, content_type: "image/jpeg".into(), bytes: bytes.len() as u64, width: tw as u32, height: th as u32 }, bytes))
}

async fn to_blob(canvas: &web_sys::HtmlCanvasElement) -> Result<web_sys::Blob, String> {
    let (sender, receiver) = futures::channel::oneshot::channel::<Option<web_sys::Blob>>();
    let sender = Cell::new(Some(sender));
    let callback = wasm_bindgen::closure::Closure::once(move |blob: JsValue| {
        if let Some(s) = sender.take() {
            let _ = s.send(blob.dyn_into::<web_sys::Blob>().ok());
        }
    });
    canvas
        .to_blob_with_type_and_encoder_options(callback.as_ref().unchecked_ref(), "image/jpeg", &JsValue::from_f64(JPEG_QUALITY))
        .map_err(js_error)?;
    receiver.await.ok().flatten().ok_or_else(|| "Trình duyệt không nén được ảnh.".to_string())
}

/// Keeps a prepared photo on the device (for the model `doc`), to be uploaded later.
pub async fn keep(replica: &Replica, doc: &str, photo: &PhotoRef, bytes: Vec<u8>) -> Result<(), String> {
    let stored = StoredPhoto { id: photo.id.clone(), doc: doc.to_string(), content_type: photo.content_type.clone(), data: bytes, uploaded: false };
    replica.store.put_photo(&stored).await.map_err(|e| e.to_string())
}

/// Whether a saved activity log entry of the model refers to the photo (a photo picked for an
/// entry still being written, or dropped from it, is not sent).
pub(crate) fn referenced(replica: &Replica, doc: &str, id: &str) -> bool {
    replica.models.with_untracked(|ms| ms.get(doc).is_some_and(|m| m.journal.iter().any(|e| e.photos.iter().any(|p| p.id == id))))
}

/// Photos of saved entries that the server does not have yet, as (photo id, model id).
pub async fn waiting(replica: &Replica) -> Vec<(String, String)> {
    let all = replica.store.photos_to_upload().await.unwrap_or_default();
    all.into_iter().filter(|(id, doc)| referenced(replica, doc, id)).collect()
}

/// Photos of one model that are only on this device (signing out would delete them).
#[derive(Debug, Clone, PartialEq)]
pub struct PhotosOnlyHere {
    /// The model's name (its id when the model cannot be read).
    pub model: String,
    pub count: usize,
    /// Picked for an activity log entry that is not saved yet (they go only once it is).
    pub unsaved_entry: bool,
}

/// Every photo the server does not have yet, counted per model: those of saved entries and those
/// picked for an entry still being written (both are lost if the device's data is deleted).
pub async fn only_here(replica: &Replica) -> Result<Vec<PhotosOnlyHere>, String> {
    let all = replica.store.photos_to_upload().await.map_err(|e| e.to_string())?;
    let mut counts: std::collections::BTreeMap<(String, bool), usize> = Default::default();
    for (id, doc) in all {
        *counts.entry((doc.clone(), !referenced(replica, &doc, &id))).or_default() += 1;
    }
    let models = replica.models.get_untracked();
    Ok(counts
        .into_iter()
        .map(|((doc, unsaved_entry), count)| PhotosOnlyHere {
            model: models.get(&doc).map_or(doc, |m| m.name.clone()),
            count,
            unsaved_entry,
        })
        .collect())
}

/// Drops photos picked for an entry that was not saved (cancelled, or the photo removed from
/// it), unless a saved entry refers to them.
pub fn forget_unsaved(replica: &Replica, photos: Vec<String>) {
    let replica = replica.clone();
    leptos::task::spawn_local(async move {
        for id in photos {
            if let Ok(Some(p)) = replica.store.photo(&id).await
                && !p.uploaded
                && !referenced(&replica, &p.doc, &id)
            {
                let _ = replica.store.delete_photo(&id).await;
            }
        }
    });
}
