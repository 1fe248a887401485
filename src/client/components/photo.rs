//! One photo of an activity log entry, shown from the device or fetched when online.

use leptos::prelude::*;

use crate::client::local::storage::StoredPhoto;
use crate::client::net::photos::load;
use crate::domain::PhotoRef;
use crate::i18n::{t, tr};

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
                None => view! { <div class="photo-placeholder">{t("Đang mở ảnh…")}</div> }.into_any(),
                // Said by `net::photos::load` (or below), in Vietnamese.
                Some(Err(e)) => view! { <div class="photo-placeholder">{tr(&e)}</div> }.into_any(),
                Some(Ok((url, uploaded))) => view! {
                    <a href=url.clone() target="_blank" rel="noopener">
                        <img src=url.clone() alt=t("Ảnh minh chứng") loading="lazy" width=photo.width height=photo.height/>
                    </a>
                    {(!uploaded).then(|| view! { <span class="badge pending-photo">{t("Chưa gửi lên máy chủ")}</span> })}
                }.into_any(),
            }}
            <figcaption>{size.clone()}</figcaption>
        </figure>
    }
}
