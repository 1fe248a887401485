//! *Cài đặt → Sao lưu* (`/cai-dat#sao-luu`): "Tải bản sao dữ liệu" and "Khôi phục từ bản sao".
//! The zip is written and read by the report module (`client::reporting::backup`, loaded like
//! the list's export; precached, so both work offline after the first visit); the documents are
//! merged into the replica by `local::backup`. What a backup is and what a restore checks:
//! `crate::backup_file`.
//!
//! Whose data: the replica belongs to the signed-in account (`local::account`). A backup of the
//! same account merges freely. A backup of another account is refused while the device holds
//! unsynced work (two people's edits would mix and sign-out could no longer say whose are
//! lost); otherwise it is merged and the server's rules decide, as for any edit: models this
//! user may not write stay on the device, flagged "Máy chủ chưa nhận" — the summary says so.

use std::collections::BTreeSet;

use js_sys::Uint8Array;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::client::engine::api;
use crate::backup_file::{self, Opened};
use crate::client::components::banners::storage_warning;
use crate::client::local::backup::{keep_photo, restore_docs};
use crate::client::local::replica::now_ms;
use crate::client::pages::reports::{call_module, report_module};
use crate::client::{AppContext, use_app};
use crate::i18n::{self, Lang, count, t, tf, tr};

#[derive(Clone, PartialEq)]
enum Outcome {
    Working(String),
    Done(String),
    Failed(String),
}

#[component]
pub fn BackupSection() -> impl IntoView {
    let app = use_app();
    let outcome = RwSignal::new(None::<Outcome>);
    let busy = move || outcome.with(|o| matches!(o, Some(Outcome::Working(_))));
    let (pwa, pending, waiting) = (app.pwa, app.replica.pending, app.sync.photos_waiting);
    let warning = move || storage_warning(&pwa.storage.get(), pending.get(), waiting.get(), false);

    let download = {
        let app = app.clone();
        move |_| {
            if busy() {
                return;
            }
            outcome.set(Some(Outcome::Working(t("Đang tạo bản sao…").into())));
            let app = app.clone();
            leptos::task::spawn_local(async move {
                outcome.set(Some(match write_backup(&app, outcome).await {
                    Ok(done) => Outcome::Done(done),
                    Err(e) => Outcome::Failed(e),
                }));
            });
        }
    };
    let restore = {
        let app = app.clone();
        move |ev: leptos::ev::Event| {
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            // Cleared at once, so choosing the same file again is a change too.
            input.set_value("");
            if busy() {
                return;
            }
            outcome.set(Some(Outcome::Working(tf("Đang đọc {}…", &[&file.name()]))));
            let app = app.clone();
            leptos::task::spawn_local(async move {
                outcome.set(Some(match restore_backup(&app, file, outcome).await {
                    Ok(done) => Outcome::Done(done),
                    Err(e) => Outcome::Failed(e),
                }));
            });
        }
    };

    // Opened from a banner's link (/cai-dat#sao-luu): the router does not scroll to the fragment.
    Effect::new(move |_| {
        if web_sys::window().and_then(|w| w.location().hash().ok()).as_deref() == Some("#sao-luu")
            && let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("sao-luu"))
        {
            el.scroll_into_view();
        }
    });

    view! {
        <section class="item backup" id="sao-luu" aria-labelledby="sao-luu-title">
            <h2 id="sao-luu-title">{t("Sao lưu")}</h2>
            {move || warning().map(|w| view! { <p class="warning" id="backup-warning">{w}</p> })}
            <p class="hint">{t("Bản sao là một tệp zip chứa mọi mô hình trên thiết bị này (cả lịch sử thay đổi), ảnh minh chứng, và danh sách mô hình mở được bằng Excel. Hãy tải về và cất ở nơi khác (máy tính, thẻ nhớ) trước khi cài lại máy, đổi máy hoặc xóa dữ liệu trình duyệt.")}</p>
            <div class="backup-actions">
                <button type="button" id="backup-download" class="button primary" prop:disabled=busy on:click=download>{t("Tải bản sao dữ liệu")}</button>
                <div class="field">
                    <label for="restore-file">{t("Khôi phục từ bản sao")}</label>
                    <input type="file" id="restore-file" accept=".zip,application/zip" prop:disabled=busy on:change=restore/>
                    <p class="hint">{t("Gộp bản sao vào dữ liệu đang có: không ghi đè, không nhân đôi; khôi phục lại cùng tệp cũng không tạo thêm gì. Không cần mạng.")}</p>
                </div>
            </div>
            {move || outcome.get().map(|o| match o {
                Outcome::Working(t) => view! { <p id="backup-status" role="status" aria-busy="true">{t}</p> }.into_any(),
                Outcome::Done(t) => view! { <p id="backup-status" role="status" class="done">{t}</p> }.into_any(),
                Outcome::Failed(t) => view! { <p id="backup-status" role="alert" class="warning">{t}</p> }.into_any(),
            })}
        </section>
    }
}

/// A file's size: "3,2 MB" / "3.2 MB", or whole kilobytes below a megabyte.
fn file_size(n: f64) -> String {
    if n >= 1_048_576.0 {
        let mb = format!("{:.1} MB", n / 1_048_576.0);
        if i18n::lang() == Lang::Vi { mb.replace('.', ",") } else { mb }
    } else {
        format!("{} KB", count((n / 1024.0).ceil() as usize))
    }
}

/// One more sentence of a summary.
fn add(done: &mut String, sentence: &str) {
    done.push(' ');
    done.push_str(sentence);
}

/// Writes the backup: every document as stored, every photo (one at a time), the models read
/// from them; the file is downloaded by the module. Returns the summary.
async fn write_backup(app: &AppContext, outcome: RwSignal<Option<Outcome>>) -> Result<String, String> {
    let module = report_module(t("Phần sao lưu")).await.map_err(|e| tr(&e))?;
    let result = write_into(app, &module, outcome).await;
    let _ = call_module(&module, "backup_close", &[]);
    result
}

async fn write_into(app: &AppContext, module: &JsValue, outcome: RwSignal<Option<Outcome>>) -> Result<String, String> {
    // From the context's account, not `app::signed_in()`: this runs in a task, outside the
    // component whose context that reads.
    let (username, display_name) =
        app.account.with_untracked(|a| a.as_ref().map(|a| (a.profile.username.clone(), a.profile.display_name.clone()))).unwrap_or_default();
    let now = now_ms();
    // Models still being decoded (just after start-up or a large sync) are waited for, so the
    // readable copies list every model the documents hold.
    while app.replica.decoding.get_untracked() > 0 {
        gloo_timers::future::TimeoutFuture::new(200).await;
    }
    let failed = |e: crate::client::local::storage::StorageError| tf("Không đọc được dữ liệu trên thiết bị để sao lưu: {}", &[&tr(&e.to_string())]);
    // The module's errors come in Vietnamese.
    let call = |name: &str, args: &[JsValue]| call_module(module, name, args).map_err(|e| tr(&e));
    call("backup_begin", &[username.as_str().into(), display_name.as_str().into(), JsValue::from_f64(now as f64)])?;
    let records = app.replica.store.all().await.map_err(failed)?;
    for rec in &records {
        call("backup_add_doc", &[rec.id.as_str().into(), Uint8Array::from(rec.doc.as_slice()).into()])?;
    }
    let ids = app.replica.store.photo_ids().await.map_err(failed)?;
    let (mut photos, mut damaged) = (0usize, Vec::new());
    for (i, id) in ids.iter().enumerate() {
        if i % 20 == 0 {
            outcome.set(Some(Outcome::Working(tf("Đang tạo bản sao… ảnh {}/{}", &[&count(i), &count(ids.len())]))));
        }
        let Some(p) = app.replica.store.photo(id).await.map_err(failed)? else { continue };
        let args = [p.id.as_str().into(), p.doc.as_str().into(), p.content_type.as_str().into(), Uint8Array::from(p.data.as_slice()).into()];
        match call("backup_add_photo", &args) {
            Ok(_) => photos += 1,
            Err(reason) => damaged.push(reason),
        }
    }
    let (models, bytes) = app.replica.models.with_untracked(|ms| (ms.len(), api::to_js(&ms.values().collect::<Vec<_>>())));
    let name = backup_file::file_name(&username, now);
    let size = call("backup_finish", &[bytes, name.as_str().into()])?.as_f64().unwrap_or(0.0);
    let mut done = tf(
        "Đã tạo tệp {} ({}): {} mô hình, {} ảnh. Tệp nằm trong thư mục Tải xuống của máy; hãy chép nó sang nơi khác để giữ.",
        &[&name, &file_size(size), &count(models), &count(photos)],
    );
    if records.len() > models {
        add(&mut done, &tf("Có {} tài liệu ứng dụng này chưa đọc được, vẫn được đưa nguyên vào bản sao.", &[&count(records.len() - models)]));
    }
    if !damaged.is_empty() {
        add(&mut done, &tf("{} ảnh bị hỏng trên máy nên không được đưa vào ({}).", &[&count(damaged.len()), &damaged[0]]));
    }
    Ok(done)
}

async fn restore_backup(app: &AppContext, file: web_sys::File, outcome: RwSignal<Option<Outcome>>) -> Result<String, String> {
    let module = report_module(t("Phần khôi phục")).await.map_err(|e| tr(&e))?;
    let result = restore_from(app, &module, file, outcome).await;
    let _ = call_module(&module, "backup_close", &[]);
    result
}

async fn restore_from(app: &AppContext, module: &JsValue, file: web_sys::File, outcome: RwSignal<Option<Outcome>>) -> Result<String, String> {
    let unchanged = t("Không có gì trên thiết bị bị thay đổi.");
    // The file's bytes go from the browser straight to the module; the app keeps none of them.
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("{} {unchanged}", tf("Trình duyệt không đọc được tệp “{}” (tệp đã bị chuyển hoặc xóa?).", &[&file.name()])))?;
    let opened = call_module(module, "backup_open", &[Uint8Array::new(&buffer).into()]).map_err(|e| format!("{} {unchanged}", tr(&e)))?;
    let opened_bytes = Uint8Array::new(&opened).to_vec();
    let opened = Opened::decode(&opened_bytes).map_err(|e| format!("{} {unchanged}", tr(&e)))?;
    let manifest = &opened.manifest;

    let (username, writable) = app
        .account
        .with_untracked(|a| a.as_ref().map(|a| (a.profile.username.clone(), a.profile.writable.iter().cloned().collect::<BTreeSet<String>>())))
        .unwrap_or_default();
    let another = manifest.username != username;
    if another {
        let unsynced = app.replica.pending.get_untracked() + app.replica.store.photos_to_upload().await.map(|p| p.len()).unwrap_or(0);
        if unsynced > 0 {
            let refused = tf(
                "Bản sao này là của tài khoản “{}”, còn thiết bị đang giữ {} thay đổi chưa đồng bộ của tài khoản “{}”. Để dữ liệu của hai người không lẫn vào nhau, hãy đồng bộ xong (cần mạng) rồi khôi phục lại, hoặc khôi phục trên thiết bị đăng nhập bằng tài khoản “{}”.",
                &[&manifest.username, &count(unsynced), &username, &manifest.username],
            );
            return Err(format!("{refused} {unchanged}"));
        }
    }

    outcome.set(Some(Outcome::Working(tf("Đang gộp {} tài liệu…", &[&count(opened.docs.len())]))));
    // Let the status paint before the merge, which holds the page for its duration.
    gloo_timers::future::TimeoutFuture::new(0).await;
    let docs = restore_docs(&app.replica, opened_bytes).await.map_err(|e| tr(&e.to_string()))?;

    let have: BTreeSet<String> = app.replica.store.photo_ids().await.unwrap_or_default().into_iter().collect();
    let (mut added, mut unshown) = (0usize, 0usize);
    let missing: Vec<_> = manifest.photos.iter().filter(|p| !have.contains(&p.id)).collect();
    for (i, p) in missing.iter().enumerate() {
        if !docs.photos.get(&p.doc).is_some_and(|shown| shown.contains(&p.id)) {
            unshown += 1;
            continue;
        }
        if i % 10 == 0 {
            outcome.set(Some(Outcome::Working(tf("Đang thêm ảnh {}/{}…", &[&count(i), &count(missing.len())]))));
        }
        let stored_so_far = |reason: String| {
            tf(
                "Đã gộp các mô hình ({} mới, {} được gộp) nhưng dừng khi thêm ảnh: {} Đã thêm {} / {} ảnh. Hãy giải phóng dung lượng rồi khôi phục lại cùng tệp để thêm nốt (không tạo gì trùng).",
                &[&count(docs.new), &count(docs.merged), &tr(&reason), &count(added), &count(missing.len())],
            )
        };
        let bytes = call_module(module, "backup_photo", &[p.id.as_str().into()]).map_err(stored_so_far)?;
        let ours = docs.units.get(&p.doc).is_some_and(|u| writable.contains(u));
        keep_photo(&app.replica, p, Uint8Array::new(&bytes).to_vec(), ours).await.map_err(|e| stored_so_far(e.to_string()))?;
        added += 1;
    }
    if added > 0 {
        // The badge and the warnings count them at once; they go up after a sync round, so ask
        // for one (nothing happens offline).
        app.sync.photos_waiting.set(crate::client::local::photos::waiting(&app.replica).await.len());
        app.sync.sync_now();
    }

    let mut done = tf("Đã khôi phục: {} mô hình mới, {} mô hình được gộp, {} ảnh.", &[&count(docs.new), &count(docs.merged), &count(added)]);
    if docs.unchanged > 0 {
        add(&mut done, &tf("{} mô hình đã có đủ trên máy, không đổi.", &[&count(docs.unchanged)]));
    }
    if docs.new + docs.merged + added == 0 {
        add(&mut done, t("Bản sao không có gì mới so với thiết bị."));
    }
    if unshown > 0 {
        add(&mut done, &tf("{} ảnh không thuộc nhật ký nào nên không được thêm.", &[&count(unshown)]));
    }
    if another {
        add(
            &mut done,
            &tf(
                "Đây là bản sao của tài khoản “{}”: khi đồng bộ, máy chủ chỉ nhận những mô hình tài khoản “{}” được quyền sửa; mô hình khác vẫn giữ trên máy và được ghi “Máy chủ chưa nhận”.",
                &[&manifest.username, &username],
            ),
        );
    }
    let day = crate::domain::Date::in_vietnam(manifest.created_at_ms);
    add(&mut done, &tf("(Bản sao ngày {}.)", &[&i18n::day_month_year(day.year.into(), day.month.into(), day.day.into())]));
    Ok(done)
}
