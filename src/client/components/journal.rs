//! The activity log (nhật ký) on a model's page: entries newest first, and for the unit's cadres
//! the form to add one — what was done, indicator figures, photos (made small and kept on the
//! device at once) and where (from the device when allowed, or typed).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::client::{date_time, local::settings, use_app};
use crate::domain::{JournalDraft, Model, PhotoRef, newest_first};
use crate::i18n::{self, t, tf, tr};

fn draft_key(model: &str) -> String {
    format!("journal-{model}")
}

/// Today as `YYYY-MM-DD` in the device's time zone.
fn today() -> String {
    let d = js_sys::Date::new_0();
    format!("{:04}-{:02}-{:02}", d.get_full_year(), d.get_month() + 1, d.get_date())
}

#[component]
pub fn Journal(model: Model) -> impl IntoView {
    let may_write = use_app().account.with_untracked(|a| a.as_ref().is_some_and(|a| a.profile.roles_for(&model.unit).cadre));
    // An entry being written stays open (with what was typed) when the page is redrawn.
    let open = RwSignal::new(settings::load_draft::<JournalDraft>(&draft_key(&model.id)).is_some());
    let form_model = model.clone();
    let entries = newest_first(&model.journal)
        .into_iter()
        .map(|e| {
            let doc = model.id.clone();
            view! {
                <li class="journal-entry">
                    <p class="when"><strong>{i18n::date(&e.date)}</strong> " · " {e.by_name.clone()}
                        <span class="muted">{tf(" (ghi lúc {})", &[&date_time(e.at)])}</span></p>
                    {(!e.text.is_empty()).then(|| view! { <p class="prose">{e.text.clone()}</p> })}
                    {(!e.updates.is_empty()).then(|| view! {
                        <ul class="updates">
                            {e.updates.iter().map(|u| view! {
                                <li>{tf("{}: đạt {} {}", &[&u.name, &i18n::amount(u.achieved), &u.unit])}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {(!e.photos.is_empty()).then(|| view! {
                        <div class="photos">
                            {e.photos.iter().map(|p| view! { <crate::client::components::photo::PhotoView doc=doc.clone() photo=p.clone()/> }).collect_view()}
                        </div>
                    })}
                    {(e.location.is_some() || !e.place.is_empty()).then(|| {
                        let coords = e.location.as_ref().map(|l| format!("{:.5}, {:.5}", l.lat, l.lon)).unwrap_or_default();
                        view! { <p class="place">{t("Địa điểm: ")} {e.place.clone()} {(!e.place.is_empty() && !coords.is_empty()).then_some(" — ")} {coords}</p> }
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="item journal">
            <h2>{t("Nhật ký thực hiện")}</h2>
            {may_write.then(|| view! {
                <Show when=move || open.get() fallback=move || view! {
                    <button id="add-journal" class="button primary" on:click=move |_| open.set(true)>{t("Ghi nhật ký")}</button>
                }>
                    <JournalForm model=form_model.clone() open/>
                </Show>
            })}
            {if model.journal.is_empty() {
                view! { <p class="muted">{t("Chưa có hoạt động nào được ghi.")}</p> }.into_any()
            } else {
                view! { <ol class="journal-entries">{entries}</ol> }.into_any()
            }}
        </section>
    }
}

#[component]
fn JournalForm(model: Model, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let key = draft_key(&model.id);
    let mut initial = settings::load_draft::<JournalDraft>(&key).unwrap_or_else(|| JournalDraft { date: today(), ..Default::default() });
    // One row per indicator as the model has them now (a figure typed for a removed one is dropped).
    initial.updates = model
        .indicators
        .iter()
        .map(|i| (i.id.clone(), initial.updates.iter().find(|(k, _)| *k == i.id).map(|(_, v)| v.clone()).unwrap_or_default()))
        .collect();
    let draft = RwSignal::new(initial);
    {
        let key = key.clone();
        Effect::new(move |_| draft.with(|d| settings::save_draft(&key, d)));
    }
    let close = {
        let key = key.clone();
        move || {
            settings::clear_draft(&key);
            open.set(false);
        }
    };
    let cancel = {
        let (close, replica) = (close.clone(), app.replica.clone());
        move || {
            crate::client::local::photos::forget_unsaved(&replica, draft.with_untracked(|d| d.photos.iter().map(|p| p.id.clone()).collect()));
            close();
        }
    };
    let photos_waiting = app.sync.photos_waiting;
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let busy = RwSignal::new(false);
    let photo_note = RwSignal::new(None::<String>);
    let location_note = RwSignal::new(None::<String>);
    // The domain's and the storage's problems, in Vietnamese.
    let error_of = move |key: &'static str| errors.with(|e| e.iter().find(|(k, _)| k == key).map(|(_, m)| tr(m)));

    let replica = app.replica.clone();
    let doc_id = model.id.clone();
    let on_photos = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(files) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        input.set_value("");
        let (replica, doc_id) = (replica.clone(), doc_id.clone());
        photo_note.set(Some(tf("Đang thu nhỏ và lưu {} ảnh…", &[&files.len()])));
        leptos::task::spawn_local(async move {
            let mut problems = Vec::new();
            for file in files {
                match crate::client::local::photos::prepare(&file).await {
                    Ok((photo, bytes)) => match crate::client::local::photos::keep(&replica, &doc_id, &photo, bytes).await {
                        // Only a photo safely on the device is attached.
                        Ok(()) => draft.update(|d| {
                            if !d.photos.iter().any(|p| p.id == photo.id) {
                                d.photos.push(photo);
                            }
                        }),
                        Err(e) => problems.push(e),
                    },
                    Err(e) => problems.push(e),
                }
            }
            photo_note.set((!problems.is_empty()).then(|| problems.iter().map(|p| tr(p)).collect::<Vec<_>>().join(" ")));
        });
    };

    let locate = move |_| {
        let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
            location_note.set(Some(t("Thiết bị không hỗ trợ lấy vị trí; hãy nhập tay.").into()));
            return;
        };
        location_note.set(Some(t("Đang lấy vị trí…").into()));
        // Read by name: the position types' bindings differ across web-sys versions.
        let number = |v: &wasm_bindgen::JsValue, k: &str| {
            js_sys::Reflect::get(v, &k.into()).ok().and_then(|x| x.as_f64()).unwrap_or(f64::NAN)
        };
        let found = Closure::once_into_js(move |p: wasm_bindgen::JsValue| {
            let c = js_sys::Reflect::get(&p, &"coords".into()).unwrap_or_default();
            let (lat, lon, accuracy) = (number(&c, "latitude"), number(&c, "longitude"), number(&c, "accuracy"));
            draft.update(|d| {
                d.lat = format!("{lat:.6}");
                d.lon = format!("{lon:.6}");
                d.accuracy = if accuracy.is_finite() { accuracy } else { 0.0 };
            });
            location_note.set(Some(tf("Đã lấy vị trí (sai số khoảng {} m); có thể sửa tay.", &[&accuracy.round()])));
        });
        let failed = Closure::once_into_js(move |e: wasm_bindgen::JsValue| {
            location_note.set(Some(match number(&e, "code") as u32 {
                // Browsers refuse the position to pages not opened over https, whatever the user allowed.
                1 if !crate::client::net::pwa::OfflineSupport::detect().secure_context => {
                    t("Trang không mở bằng địa chỉ https nên trình duyệt không cho lấy vị trí; hãy nhập tay vĩ độ, kinh độ.").into()
                }
                1 => t("Bạn chưa cho phép ứng dụng lấy vị trí; có thể nhập tay vĩ độ, kinh độ.").into(),
                3 => t("Lấy vị trí quá lâu (sóng GPS yếu); hãy thử lại ngoài trời hoặc nhập tay.").into(),
                _ => t("Không lấy được vị trí lúc này; hãy nhập tay.").into(),
            }));
        });
        let options = web_sys::PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_timeout(30_000);
        options.set_maximum_age(60_000);
        if geo.get_current_position_with_error_callback_and_options(found.unchecked_ref(), Some(failed.unchecked_ref()), &options).is_err() {
            location_note.set(Some(t("Không lấy được vị trí lúc này; hãy nhập tay.").into()));
        }
    };

    let indicators = model.indicators.clone();
    let id = model.id.clone();
    let photo_doc = model.id.clone();
    let replica_for_drop = app.replica.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let d = draft.get_untracked();
        let found = d.validate(&indicators, &today());
        if !found.is_empty() {
            errors.set(found);
            return;
        }
        errors.set(Vec::new());
        let (by, by_name) = crate::client::app::signed_in();
        let entry = d.record(uuid::Uuid::new_v4().to_string(), &indicators, &by, &by_name, js_sys::Date::now() as i64);
        let photo_count = entry.photos.len();
        let (replica, id, close) = (app.replica.clone(), id.clone(), close.clone());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = replica.add_journal_entry(&id, entry).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    photos_waiting.update(|n| *n += photo_count);
                    close()
                }
                Err(e) => errors.set(vec![("journal-save".into(), e.to_string())]),
            }
        });
    };

    let field = |key: &'static str| move || error_of(key).map(|m| view! { <p class="field-error" role="alert">{m}</p> });
    view! {
        <form class="journal-form" novalidate on:submit=save>
            <div class="row">
                <div class="field">
                    <label for="journal-date">{t("Ngày thực hiện")}</label>
                    <input id="journal-date" type="date" prop:value=move || draft.with(|d| d.date.clone())
                        on:input=move |ev| draft.update(|d| d.date = event_target_value(&ev))/>
                    {field("journal-date")}
                </div>
            </div>
            <div class="field">
                <label for="journal-text">{t("Hoạt động đã làm")}</label>
                <textarea id="journal-text" rows="4" placeholder=t("Ví dụ: Họp dân thôn Nà Khuy, 45 hộ dự, thống nhất hiến 300 m² đất làm đường")
                    prop:value=move || draft.with(|d| d.text.clone()) on:input=move |ev| draft.update(|d| d.text = event_target_value(&ev))></textarea>
                {field("journal-text")}
            </div>
            {(!model.indicators.is_empty()).then(|| view! {
                <fieldset>
                    <legend>{t("Kết quả đạt được đến ngày này (để trống nếu không đổi)")}</legend>
                    {model.indicators.iter().enumerate().map(|(n, i)| {
                        let key = format!("journal-update-{}", i.id);
                        let key2 = key.clone();
                        view! {
                            <div class="field">
                                <label for=key.clone()>{tf("{} (mục tiêu {} {}, hiện {} {})", &[&i.name, &i18n::amount(i.target), &i.unit, &i18n::amount(i.achieved), &i.unit])}</label>
                                <input id=key inputmode="decimal" prop:value=move || draft.with(|d| d.updates[n].1.clone())
                                    on:input=move |ev| draft.update(|d| d.updates[n].1 = event_target_value(&ev))/>
                                {move || errors.with(|e| e.iter().find(|(k, _)| *k == key2).map(|(_, m)| view! { <p class="field-error" role="alert">{tr(m)}</p> }))}
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
            })}
            <fieldset>
                <legend>{t("Ảnh minh chứng")}</legend>
                <input id="journal-photo" type="file" accept="image/*" multiple on:change=on_photos/>
                <p class="hint">{t("Ảnh được thu nhỏ (cạnh dài tối đa 1.600 điểm ảnh) và lưu ngay trên máy; gửi lên máy chủ khi có mạng.")}</p>
                {move || photo_note.get().map(|n| view! { <p class="note" role="status">{n}</p> })}
                {field("journal-photos")}
                <div class="photos" id="journal-photos">
                    {move || {
                        let doc = photo_doc.clone();
                        draft.with(|d| d.photos.clone()).into_iter().map(|p: PhotoRef| {
                            let pid = p.id.clone();
                            let replica = replica_for_drop.clone();
                            view! {
                                <div class="photo-pick">
                                    <crate::client::components::photo::PhotoView doc=doc.clone() photo=p/>
                                    <button type="button" class="link" on:click=move |_| {
                                        draft.update(|d| d.photos.retain(|x| x.id != pid));
                                        crate::client::local::photos::forget_unsaved(&replica, vec![pid.clone()]);
                                    }>{t("Bỏ ảnh này")}</button>
                                </div>
                            }
                        }).collect_view()
                    }}
                </div>
            </fieldset>
            <fieldset>
                <legend>{t("Địa điểm")}</legend>
                <div class="field">
                    <label for="journal-place">{t("Nơi thực hiện")}</label>
                    <input id="journal-place" placeholder=t("Thôn, bản, tổ dân phố…") prop:value=move || draft.with(|d| d.place.clone())
                        on:input=move |ev| draft.update(|d| d.place = event_target_value(&ev))/>
                </div>
                <button type="button" id="journal-locate" class="button" on:click=locate>{t("Lấy vị trí hiện tại")}</button>
                {move || location_note.get().map(|n| view! { <p class="note" role="status">{n}</p> })}
                <div class="row">
                    <div class="field">
                        <label for="journal-lat">{t("Vĩ độ")}</label>
                        <input id="journal-lat" inputmode="decimal" prop:value=move || draft.with(|d| d.lat.clone())
                            on:input=move |ev| draft.update(|d| { d.lat = event_target_value(&ev); d.accuracy = 0.0; })/>
                        {field("journal-lat")}
                    </div>
                    <div class="field">
                        <label for="journal-lon">{t("Kinh độ")}</label>
                        <input id="journal-lon" inputmode="decimal" prop:value=move || draft.with(|d| d.lon.clone())
                            on:input=move |ev| draft.update(|d| { d.lon = event_target_value(&ev); d.accuracy = 0.0; })/>
                        {field("journal-lon")}
                    </div>
                </div>
            </fieldset>
            {field("journal-save")}
            <div class="actions">
                <button type="submit" id="save-journal" class="button primary" disabled=move || busy.get()>{t("Lưu nhật ký")}</button>
                <button type="button" class="button" on:click=move |_| cancel()>{t("Hủy")}</button>
            </div>
        </form>
    }
}
