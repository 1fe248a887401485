//! Photos as the server keeps them, apart from HTTP (`routes::photos`): what counts as an image
//! ([`inspect`], by its bytes, never the client's word), the limits an upload must keep, and the
//! sweeper that deletes what nobody needs any more.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::server::store::{PhotoLimits, Store, StoreError, StoredDoc};

/// Largest photo accepted (the browser resizes photos to about 100–600 KB).
pub const MAX_PHOTO_BYTES: u64 = 5 * 1024 * 1024;
/// Largest chunk of one `PUT`.
pub const MAX_CHUNK_BYTES: usize = 256 * 1024;
/// Smallest chunk but the last one: every append is a database write (a 5 MiB photo in 1 KiB
/// pieces would be 5,120 of them); the client sends 64 KiB.
pub const MIN_CHUNK_BYTES: usize = 32 * 1024;
/// The image types a photo may be stored as.
pub const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];
/// Longest side accepted, in pixels (the client sends at most 1,600; 10,000 is a 100-megapixel
/// picture, past any phone's camera).
pub const MAX_SIDE_PX: usize = 10_000;
/// Photos per model (a year of monthly entries with their six photos is 72) and new uploads per
/// user in 24 hours (a commune's busy day of evidence, not a disk filled overnight).
pub const LIMITS: PhotoLimits = PhotoLimits { per_model: 200, per_user_day: 300 };

const DAY_MS: i64 = 86_400_000;
/// How long a complete photo may go unshown by any entry before the sweeper deletes it: an entry
/// reaches the server before its photos, so this only waits out an entry removed meanwhile and
/// clocks that disagree; it is long so that nothing is deleted on a guess.
pub const UNREFERENCED_AFTER_MS: i64 = 7 * DAY_MS;
/// An upload with no chunk for this long is abandoned (a device offline for days resumes from 0).
pub const ABANDONED_AFTER_MS: i64 = 2 * DAY_MS;
/// How often the sweeper runs (also once at start).
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Photos whose references are read per page of a sweep, and pages per sweep (the next sweep
/// goes on where this one stopped).
const SWEEP_PAGE: usize = 500;
const SWEEP_PAGES: usize = 200;

/// What a photo's bytes are, read from its header (no pixels decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub content_type: &'static str,
    pub width: usize,
    pub height: usize,
}

/// The image type (one of [`PHOTO_TYPES`]) the bytes start with, by their magic bytes.
pub fn image_type(head: &[u8]) -> Option<&'static str> {
    match imagesize::image_type(head).ok()? {
        imagesize::ImageType::Jpeg => Some("image/jpeg"),
        imagesize::ImageType::Png => Some("image/png"),
        imagesize::ImageType::Webp => Some("image/webp"),
        _ => None,
    }
}

/// The type's name as users know it.
pub(crate) fn type_name(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "PNG",
        "image/webp" => "WebP",
        _ => "JPEG",
    }
}

/// Checks a complete photo: an image of one of [`PHOTO_TYPES`] whose header gives sides within
/// 1..=[`MAX_SIDE_PX`]. `Err` is the reason, for the user.
pub fn inspect(bytes: &[u8]) -> Result<ImageFacts, String> {
    let content_type = image_type(bytes).ok_or_else(|| "Tệp gửi lên không phải ảnh JPEG, PNG hoặc WebP.".to_string())?;
    let size = imagesize::blob_size(bytes).map_err(|_| {
        format!("Ảnh {} hỏng: không đọc được kích thước ảnh từ phần đầu tệp.", type_name(content_type))
    })?;
    let (width, height) = (size.width, size.height);
    if !(1..=MAX_SIDE_PX).contains(&width) || !(1..=MAX_SIDE_PX).contains(&height) {
        return Err(format!(
            "Ảnh {width}×{height} điểm ảnh không dùng được: mỗi cạnh phải từ 1 đến {MAX_SIDE_PX} điểm ảnh."
        ));
    }
    Ok(ImageFacts { content_type, width, height })
}

/// The photos a stored document's activity log shows (`None`: the document cannot be read, and
/// what it shows is not known).
pub(crate) fn journal_photos(stored: &StoredDoc) -> Option<BTreeSet<String>> {
    match crate::doc::load(&stored.bytes).and_then(|doc| crate::doc::journal_photo_ids(&doc)) {
        Ok(ids) => Some(ids),
        Err(e) => {
            tracing::warn!(error = %e, "a stored document's activity log cannot be read");
            None
        }
    }
}

/// What one sweep deleted (and how many photos' references it read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub photos_checked: u64,
    pub unreferenced_photos: u64,
    pub abandoned_uploads: u64,
    pub sessions: u64,
    pub invitations: u64,
}

/// Deletes what nobody needs any more, as of `now_ms`: complete photos no entry of their model
/// shows (uploaded more than [`UNREFERENCED_AFTER_MS`] ago), uploads with no chunk for
/// [`ABANDONED_AFTER_MS`], expired sessions and invitations. A photo is read against its
/// document's current version and deleted only if the document is still at that version; one
/// found shown is not read again until its document changes. Safe to run from several processes.
pub async fn sweep(store: &dyn Store, now_ms: i64) -> Result<Swept, StoreError> {
    let mut swept = Swept {
        abandoned_uploads: store.delete_abandoned_uploads(now_ms - ABANDONED_AFTER_MS).await?,
        sessions: store.delete_expired_sessions(now_ms).await?,
        invitations: store.delete_expired_invitations(now_ms).await?,
        ..Swept::default()
    };
    for _ in 0..SWEEP_PAGES {
        let page = store.photos_to_check(now_ms - UNREFERENCED_AFTER_MS, SWEEP_PAGE).await?;
        swept.photos_checked += page.len() as u64;
        let doc_ids: Vec<String> = page.iter().map(|(doc, _)| doc.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let docs = store.load_many(&doc_ids).await?;
        // Parsing documents is CPU work: off the async threads.
        let shown: HashMap<String, (u64, Option<BTreeSet<String>>)> = tokio::task::spawn_blocking(move || {
            docs.into_iter().map(|(id, stored)| (id, (stored.seq, journal_photos(&stored)))).collect()
        })
        .await
        .map_err(|e| StoreError::Backend(format!("sweeper: {e}")))?;
        let mut confirmed = Vec::new();
        for (doc_id, id) in &page {
            match shown.get(doc_id) {
                // Shown, or a document that cannot be read (nothing is deleted on a guess): not
                // read again until the document changes.
                Some((seq, ids)) if ids.as_ref().is_none_or(|ids| ids.contains(id)) => {
                    confirmed.push((doc_id.clone(), id.clone(), *seq));
                }
                found => {
                    if store.delete_unreferenced_photo(doc_id, id, found.map(|(seq, _)| *seq)).await? {
                        swept.unreferenced_photos += 1;
                    }
                }
            }
        }
        store.confirm_photo_references(&confirmed).await?;
        if page.len() < SWEEP_PAGE {
            break;
        }
    }
    Ok(swept)
}

/// Runs [`sweep`] now and every [`SWEEP_EVERY`], for as long as the server runs.
pub fn spawn_sweeper(store: Arc<dyn Store>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match sweep(store.as_ref(), crate::server::now_ms()).await {
                Ok(swept) => tracing::info!(?swept, "swept unused photos, uploads, sessions and invitations"),
                Err(e) => tracing::warn!(error = %e, "sweep failed; tried again at the next hour"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut h = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
        h.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        h.extend_from_slice(&height.to_be_bytes());
        h.extend_from_slice(&width.to_be_bytes());
        h.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9]);
        h
    }

    #[test]
    fn photos_are_known_by_their_bytes() {
        assert_eq!(inspect(&jpeg(1600, 1200)), Ok(ImageFacts { content_type: "image/jpeg", width: 1600, height: 1200 }));
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 3, 32, 0, 0, 2, 88, 8, 2, 0, 0, 0]);
        assert_eq!(inspect(&png), Ok(ImageFacts { content_type: "image/png", width: 800, height: 600 }));
        let mut webp = b"RIFF\x24\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00".to_vec();
        webp.extend_from_slice(&[0x1F, 0x03, 0x00, 0x57, 0x02, 0x00]);
        assert_eq!(inspect(&webp), Ok(ImageFacts { content_type: "image/webp", width: 800, height: 600 }));

        assert_eq!(image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(image_type(b"GIF89a\x01\x00\x01\x00"), None, "GIF is an image, not one of ours");
        assert!(inspect(b"<html></html>").unwrap_err().contains("không phải ảnh"));
        assert!(inspect(&jpeg(1600, 1200)[..12]).unwrap_err().contains("không đọc được kích thước"), "cut before the frame");
        assert!(inspect(&jpeg(0, 10)).unwrap_err().contains("từ 1 đến 10000"));
        assert!(inspect(&jpeg(10_001, 10)).is_err());
        assert!(inspect(&jpeg(10_000, 10_000)).is_ok());
    }
}
