//! Photos of the activity log: made small on the phone, kept in IndexedDB, uploaded apart from
//! the documents and resumed after a cut, fetched by other devices when shown.
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
use crate::api::PhotoStatus;
use crate::domain::PhotoRef;

/// Longest side after resizing, and the JPEG quality: a 12-megapixel photo becomes ~200–400 KB.
const MAX_SIDE: f64 = 1600.0;
const JPEG_QUALITY: f64 = 0.7;
/// Bytes per upload request: small enough that a cut on 2G loses little.
const CHUNK: usize = 64 * 1024;

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

/// Why an upload stopped.
enum Stop {
    /// The model's text has not reached the server yet: try after the next sync.
    NotYet,
    Failed(String),
}

fn photo_url(doc: &str, id: &str) -> String {
    format!("{}/api/photos/{doc}/{id}", crate::client::net::http::origin())
}

async fn status(client: &reqwest::Client, token: &str, photo: &StoredPhoto) -> Result<PhotoStatus, Stop> {
    let res = client
        .get(format!("{}/status", photo_url(&photo.doc, &photo.id)))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| Stop::Failed(e.to_string()))?;
    match res.status().as_u16() {
        200 => res.json().await.map_err(|e| Stop::Failed(e.to_string())),
        404 => Err(Stop::NotYet),
        s => Err(Stop::Failed(format!("HTTP {s}"))),
    }
}

/// Sends what the server lacks of one photo, from where it stopped.
async fn upload(client: &reqwest::Client, token: &str, photo: &StoredPhoto) -> Result<(), Stop> {
    let total = photo.data.len();
    let mut at = status(client, token, photo).await?;
    // A bounded number of requests per round, so a misbehaving server cannot loop us.
    for _ in 0..(total / CHUNK + 8) {
        if at.complete {
            return Ok(());
        }
        let from = (at.received as usize).min(total);
        let to = (from + CHUNK).min(total);
        let res = client
            .put(format!("{}?offset={from}&total={total}", photo_url(&photo.doc, &photo.id)))
            .bearer_auth(token)
            .header("content-type", photo.content_type.as_str())
            .body(photo.data[from..to].to_vec())
            .send()
            .await
            .map_err(|e| Stop::Failed(e.to_string()))?;
        match res.status().as_u16() {
            // 409 carries what the server has (another attempt got further, or the model is not
            // there yet); 422: the bytes did not match their name, the server dropped them.
            200 | 409 | 422 => {
                let code = res.status().as_u16();
                let body: serde_json::Value = res.json().await.map_err(|e| Stop::Failed(e.to_string()))?;
                match serde_json::from_value::<PhotoStatus>(body.clone()) {
                    Ok(s) => at = s,
                    Err(_) if code == 409 => return Err(Stop::NotYet),
                    Err(_) if code == 422 => at = PhotoStatus { received: 0, complete: false },
                    Err(e) => return Err(Stop::Failed(e.to_string())),
                }
            }
            s => return Err(Stop::Failed(format!("HTTP {s}"))),
        }
    }
    Err(Stop::Failed("tải ảnh không xong sau nhiều lần gửi".into()))
}

thread_local! {
    static UPLOADING: Cell<bool> = const { Cell::new(false) };
}

/// Whether a saved activity log entry of the model refers to the photo (a photo picked for an
/// entry still being written, or dropped from it, is not sent).
fn referenced(replica: &Replica, doc: &str, id: &str) -> bool {
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

/// Uploads every photo taken here that the server lacks, one at a time, unless an upload is
/// already running. Called after each successful sync round (the models' text is there first).
pub fn upload_pending(replica: Replica, token: String, waiting_count: RwSignal<usize>) {
    if UPLOADING.with(|u| u.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        let client = reqwest::Client::new();
        let photos = waiting(&replica).await;
        waiting_count.set(photos.len());
        for (id, _) in photos {
            let Ok(Some(photo)) = replica.store.photo(&id).await else { continue };
            match upload(&client, &token, &photo).await {
                Ok(()) => {
                    if replica.store.mark_uploaded(&photo.id).await.is_ok() {
                        waiting_count.update(|n| *n = n.saturating_sub(1));
                    }
                }
                Err(Stop::NotYet) => {}
                Err(Stop::Failed(reason)) => {
                    leptos::logging::warn!("photo {} not uploaded yet: {reason}", photo.id);
                    break;
                }
            }
        }
        UPLOADING.with(|u| u.set(false));
    });
}

/// The photo's bytes: from the device, else from the server (kept afterwards, so it shows
/// offline next time).
async fn load(replica: &Replica, doc: &str, photo: &PhotoRef) -> Result<StoredPhoto, String> {
    if let Ok(Some(stored)) = replica.store.photo(&photo.id).await {
        return Ok(stored);
    }
    let token = crate::client::local::account::Account::load().map(|a| a.token).ok_or("chưa đăng nhập")?;
    let res = reqwest::Client::new()
        .get(photo_url(doc, &photo.id))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|_| "Ảnh chưa có trên máy này; cần mạng để tải về.".to_string())?;
    if !res.status().is_success() {
        return Err("Ảnh chưa có trên máy chủ (máy chụp chưa gửi lên).".into());
    }
    let data = res.bytes().await.map_err(|e| e.to_string())?.to_vec();
    if hex::encode(Sha256::digest(&data)) != photo.id {
        return Err("Ảnh tải về bị hỏng; sẽ thử lại sau.".into());
    }
    let stored = StoredPhoto { id: photo.id.clone(), doc: doc.to_string(), content_type: photo.content_type.clone(), data, uploaded: true };
    let _ = replica.store.put_photo(&stored).await;
    Ok(stored)
}

/// An object URL for bytes (revoked when the component goes away).
fn object_url(photo: &StoredPhoto) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(photo.data.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&photo.content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// One photo of an entry, as a thumbnail linking to the full image.
#[component]
pub fn PhotoView(doc: String, photo: PhotoRef) -> impl IntoView {
    let app = crate::client::use_app();
    let replica = app.replica;
    let state = RwSignal::new(None::<Result<(String, bool), String>>);
    // "Not sent yet" goes away when an upload round finishes (the count of waiting photos moves).
    {
        let (replica, id, waiting) = (replica.clone(), photo.id.clone(), app.sync.photos_waiting);
        Effect::new(move |_| {
            waiting.track();
            if !matches!(state.get_untracked(), Some(Ok((_, false)))) {
                return;
            }
            let (replica, id) = (replica.clone(), id.clone());
            leptos::task::spawn_local(async move {
                if let Ok(Some(p)) = replica.store.photo(&id).await
                    && p.uploaded
                {
                    state.update(|s| {
                        if let Some(Ok((_, sent))) = s {
                            *sent = true;
                        }
                    });
                }
            });
        });
    }
    {
        let (doc, photo) = (doc.clone(), photo.clone());
        leptos::task::spawn_local(async move {
            let result = load(&replica, &doc, &photo)
                .await
                .and_then(|p| object_url(&p).map(|url| (url, p.uploaded)).ok_or_else(|| "Không hiển thị được ảnh.".into()));
            state.set(Some(result));
        });
    }
    on_cleanup(move || {
        if let Some(Some(Ok((url, _)))) = state.try_get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    let size = format!("{}×{} · {} KB", photo.width, photo.height, photo.bytes.div_ceil(1024));
    view! {
        <figure class="photo">
            {move || match state.get() {
                None => view! { <div class="photo-placeholder">"Đang mở ảnh…"</div> }.into_any(),
                Some(Err(e)) => view! { <div class="photo-placeholder">{e}</div> }.into_any(),
                Some(Ok((url, uploaded))) => view! {
                    <a href=url.clone() target="_blank" rel="noopener">
                        <img src=url.clone() alt="Ảnh minh chứng" loading="lazy" width=photo.width height=photo.height/>
                    </a>
                    {(!uploaded).then(|| view! { <span class="badge pending-photo">"Chưa gửi lên máy chủ"</span> })}
                }.into_any(),
            }}
            <figcaption>{size.clone()}</figcaption>
        </figure>
    }
}
