//! Photos over the network: uploaded apart from the documents and resumed after a cut, fetched
//! by other devices when shown (and then kept on the device).
//!
//! Invariants: the upload never holds back the text (it runs after a sync round, on its own); the
//! server checks the bytes against the name (SHA-256), so a cut or garbled upload is never taken
//! as the photo; a fetched photo is kept only if its bytes hash to its name.

use std::cell::Cell;

use leptos::prelude::*;
use sha2::{Digest, Sha256};

use crate::client::local::photos::waiting;
use crate::client::local::replica::Replica;
use crate::client::local::storage::StoredPhoto;
use crate::api::PhotoStatus;
use crate::domain::PhotoRef;

/// Bytes per upload request: small enough that a cut on 2G loses little.
const CHUNK: usize = 64 * 1024;

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
        // As text, then `from_str`: the app's one serde_json reader (see `http::call`).
        200 => serde_json::from_str(&res.text().await.map_err(|e| Stop::Failed(e.to_string()))?).map_err(|e| Stop::Failed(e.to_string())),
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
                let body = res.text().await.map_err(|e| Stop::Failed(e.to_string()))?;
                match serde_json::from_str::<PhotoStatus>(&body) {
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
pub async fn load(replica: &Replica, doc: &str, photo: &PhotoRef) -> Result<StoredPhoto, String> {
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
