//! Signing in, accepting an invitation on a new device, and signing out (Settings).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::client::local::account::Account;
use crate::client::net::http::{self, Body};
use crate::client::local::photos::PhotosOnlyHere;
use crate::client::local::replica::Replica;
use crate::client::net::sync::SyncStatus;
use crate::client::{AppContext, local::settings, use_app};
use crate::api::{Accept, InvitationToken, InvitationView, SignIn, SignedIn};
use crate::domain::check_password;
use crate::i18n::{t, tf, tr};

/// What was typed into the static shell's sign-in form (assets/shell.js) before the app arrived,
/// carried over into the app's form so nothing typed is lost when the app replaces the shell.
#[derive(Debug, Clone, Default)]
pub struct ShellTyped {
    pub username: String,
    pub password: String,
    /// The shell's control that had the focus (the keyboard stays up on a phone).
    focused: Option<String>,
}

thread_local! {
    static SHELL_TYPED: std::cell::RefCell<ShellTyped> = std::cell::RefCell::new(ShellTyped::default());
}

impl ShellTyped {
    /// Reads the shell's form (before the app replaces it) and keeps it for the sign-in page.
    pub fn take() -> ShellTyped {
        use wasm_bindgen::JsCast;
        let document = web_sys::window().and_then(|w| w.document());
        let value = |id: &str| {
            document
                .as_ref()
                .and_then(|d| d.get_element_by_id(id))
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                .map(|i| i.value())
                .unwrap_or_default()
        };
        let focused = document.as_ref().and_then(|d| d.active_element()).map(|e| e.id()).filter(|id| id == "username" || id == "password");
        let typed = ShellTyped { username: value("username"), password: value("password"), focused };
        SHELL_TYPED.with(|t| *t.borrow_mut() = typed.clone());
        typed
    }

    /// Puts the focus back where it was in the shell's form (the app's form has the same ids),
    /// once the app's routes have rendered it.
    pub fn restore_focus(&self) {
        use wasm_bindgen::JsCast;
        let Some(id) = self.focused.clone() else { return };
        gloo_timers::callback::Timeout::new(0, move || {
            if let Some(input) =
                web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(&id)).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = input.focus();
            }
        })
        .forget();
    }

    fn carried_over() -> ShellTyped {
        SHELL_TYPED.with(|t| std::mem::take(&mut *t.borrow_mut()))
    }
}

/// Keeps a new session and starts syncing with it.
fn signed_in(app: &AppContext, s: SignedIn) -> Result<(), String> {
    let account = Account::from_signed_in(s);
    account.save().map_err(|e| tf("Không lưu được phiên đăng nhập trên thiết bị: {}", &[&e]))?;
    app.account.set(Some(account));
    app.sync.sync_now();
    Ok(())
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let app = use_app();
    let existing = app.account.get_untracked();
    let again = existing.is_some();
    let typed = ShellTyped::carried_over();
    let username = RwSignal::new(existing.as_ref().map(|a| a.profile.username.clone()).unwrap_or(typed.username));
    let password = RwSignal::new(typed.password);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (u, p) = (username.get_untracked().trim().to_lowercase(), password.get_untracked());
        let problem = if u.is_empty() {
            Some(t("Hãy nhập tên đăng nhập.").to_string())
        } else if p.is_empty() {
            Some(t("Hãy nhập mật khẩu.").to_string())
        } else {
            Account::may_sign_in(app.account.get_untracked().as_ref(), &u).err().map(|e| tr(&e))
        };
        if let Some(p) = problem {
            error.set(Some(p));
            return;
        }
        error.set(None);
        busy.set(true);
        let (app, navigate) = (app.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            let result = http::call::<SignedIn>(reqwest::Method::POST, "/api/session", None, http::json(&SignIn { username: u, password: p })).await;
            busy.set(false);
            match result.map_err(|f| tr(&f.message)).and_then(|s| signed_in(&app, s)) {
                Ok(()) => {
                    password.set(String::new());
                    navigate("/", Default::default());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="page sign-in-page">
            <h1>{if again { t("Đăng nhập lại") } else { t("Đăng nhập") }}</h1>
            <p class="hint">
                {if again {
                    t("Phiên đăng nhập trên thiết bị này đã kết thúc. Các mô hình và thay đổi trên máy vẫn còn nguyên; đăng nhập lại để đồng bộ.")
                } else {
                    t("Đăng nhập một lần khi có mạng; sau đó ứng dụng dùng được cả khi không có mạng.")
                }}
            </p>
            <form class="model-form narrow" novalidate on:submit=submit>
                <div class="field">
                    <label for="username">{t("Tên đăng nhập")}</label>
                    <input id="username" autocomplete="username" autocapitalize="none" spellcheck="false" readonly=again
                        prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="password">{t("Mật khẩu")}</label>
                    <input id="password" type="password" autocomplete="current-password"
                        prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                </div>
                <Show when=move || error.with(Option::is_some)>
                    <p class="error" role="alert">{move || error.get()}</p>
                </Show>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || busy.get()>
                        {move || if busy.get() { t("Đang đăng nhập…") } else { t("Đăng nhập") }}
                    </button>
                </div>
            </form>
            <p class="hint">{t("Chưa có tài khoản? Quản trị viên của đơn vị gửi cho bạn một liên kết mời (hoặc mã QR) để đặt mật khẩu.")}</p>
        </section>
    }
}

/// `/moi#<token>`: the invited person chooses a password on their own device and is signed in.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let app = use_app();
    // The token is in the fragment, which browsers never send to a server; the calls below carry
    // it in their bodies, never in a URL (access logs and traces record URLs).
    let token = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default().trim_start_matches('#').to_string();
    let invitation = RwSignal::new(None::<Result<InvitationView, String>>);
    {
        let token = token.clone();
        leptos::task::spawn_local(async move {
            let result = if token.is_empty() {
                Err(t("Liên kết mời không đầy đủ. Hãy mở đúng liên kết (hoặc quét mã QR) quản trị viên gửi.").to_string())
            } else {
                let body = http::json(&InvitationToken { token });
                http::call::<InvitationView>(reqwest::Method::POST, "/api/invitations/open", None, body).await.map_err(|f| tr(&f.message))
            };
            invitation.set(Some(result));
        });
    }
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Ok(inv)) = invitation.get_untracked() else { return };
        let p = password.get_untracked();
        let problem = check_password(&p)
            .err()
            .map(|e| tr(&e))
            .or_else(|| (p != confirm.get_untracked()).then(|| t("Hai lần nhập mật khẩu không khớp.").to_string()))
            .or_else(|| Account::may_sign_in(app.account.get_untracked().as_ref(), &inv.username).err().map(|e| tr(&e)));
        if let Some(p) = problem {
            error.set(Some(p));
            return;
        }
        error.set(None);
        busy.set(true);
        let (app, navigate, token) = (app.clone(), navigate.clone(), token.clone());
        leptos::task::spawn_local(async move {
            let body = http::json(&Accept { token, password: p });
            let result = http::call::<SignedIn>(reqwest::Method::POST, "/api/invitations/accept", None, body).await;
            busy.set(false);
            match result.map_err(|f| tr(&f.message)).and_then(|s| signed_in(&app, s)) {
                Ok(()) => navigate("/", Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="page sign-in-page">
            <h1>{t("Nhận lời mời")}</h1>
            {move || match invitation.get() {
                None => view! { <p class="loading">{t("Đang kiểm tra lời mời…")}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(inv)) => {
                    // The two names are in bold: the sentence is cut at its placeholders.
                    let text = t("Lời mời dành cho {}, tên đăng nhập {}. Hãy đặt mật khẩu (ít nhất 10 ký tự) để bắt đầu dùng ứng dụng trên thiết bị này.");
                    let parts: Vec<&'static str> = text.split("{}").collect();
                    let part = |i: usize| parts.get(i).copied().unwrap_or("");
                    view! {
                        <p>{part(0)} <strong>{inv.display_name.clone()}</strong> {part(1)} <strong id="invited-username">{inv.username.clone()}</strong> {part(2)}</p>
                    }.into_any()
                }
            }}
            <Show when=move || matches!(invitation.get(), Some(Ok(_)))>
                <form class="model-form narrow" novalidate on:submit=submit.clone()>
                    <div class="field">
                        <label for="new-password">{t("Mật khẩu mới")}</label>
                        <input id="new-password" type="password" autocomplete="new-password"
                            prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="confirm-password">{t("Nhập lại mật khẩu")}</label>
                        <input id="confirm-password" type="password" autocomplete="new-password"
                            prop:value=confirm on:input=move |ev| confirm.set(event_target_value(&ev))/>
                    </div>
                    <Show when=move || error.with(Option::is_some)>
                        <p class="error" role="alert">{move || error.get()}</p>
                    </Show>
                    <div class="actions">
                        <button type="submit" class="button primary" disabled=move || busy.get()>{t("Đặt mật khẩu và đăng nhập")}</button>
                    </div>
                </form>
            </Show>
        </section>
    }
}

/// What signing out now would delete for good: models with changes the server lacks, and photos
/// it does not have.
#[derive(Clone, Debug, Default, PartialEq)]
struct OnlyHere {
    models: Vec<String>,
    photos: Vec<PhotosOnlyHere>,
}

impl OnlyHere {
    async fn read(replica: &Replica) -> Result<OnlyHere, String> {
        let photos = crate::client::local::photos::only_here(replica).await?;
        let models = replica.models.get_untracked();
        let models = replica
            .dirty
            .get_untracked()
            .iter()
            .map(|id| models.get(id).map_or_else(|| id.clone(), |m| m.name.clone()))
            .collect();
        Ok(OnlyHere { models, photos })
    }
    fn is_empty(&self) -> bool {
        self.models.is_empty() && self.photos.is_empty()
    }
    fn photo_count(&self) -> usize {
        self.photos.iter().map(|p| p.count).sum()
    }
    /// Whether everything in `now` was in what the user agreed to lose (less is fine: it synced).
    fn covers(&self, now: &OnlyHere) -> bool {
        now.models.iter().all(|m| self.models.contains(m))
            && now.photos.iter().all(|p| {
                self.photos.iter().any(|s| s.model == p.model && s.unsaved_entry == p.unsaved_entry && s.count >= p.count)
            })
    }
}

#[derive(Clone, PartialEq)]
enum SignOut {
    Idle,
    /// Reading what is only on this device.
    Checking,
    /// Asked to confirm; lists what would be lost (nothing: the quiet question).
    Confirm(OnlyHere),
}

/// Settings → the signed-in user, and signing out (which removes this user's data from the device).
#[component]
pub fn AccountSection() -> impl IntoView {
    let app = use_app();
    let account = app.account;
    let step = RwSignal::new(SignOut::Idle);
    let error = RwSignal::new(None::<String>);
    let replica = app.replica.clone();
    let ask = {
        let replica = replica.clone();
        move |_| {
            let replica = replica.clone();
            step.set(SignOut::Checking);
            error.set(None);
            leptos::task::spawn_local(async move {
                match OnlyHere::read(&replica).await {
                    Ok(only_here) => step.set(SignOut::Confirm(only_here)),
                    Err(e) => {
                        // Not knowing what would be lost is no reason to risk it.
                        step.set(SignOut::Idle);
                        error.set(Some(tf("Chưa đọc được dữ liệu trên thiết bị nên chưa đăng xuất: {}", &[&tr(&e)])));
                    }
                }
            });
        }
    };
    let navigate = use_navigate();
    let sync = app.sync;
    let sign_out = move |_| {
        let (replica, navigate, app) = (replica.clone(), navigate.clone(), app.clone());
        let SignOut::Confirm(agreed) = step.get_untracked() else { return };
        leptos::task::spawn_local(async move {
            // Something saved since the question (a model edited in another tab, a photo taken)
            // would be lost without having been named: ask again.
            match OnlyHere::read(&replica).await {
                Ok(now) if agreed.covers(&now) => {}
                Ok(now) => {
                    step.set(SignOut::Confirm(now));
                    return;
                }
                Err(e) => {
                    error.set(Some(tf("Chưa đọc được dữ liệu trên thiết bị nên chưa đăng xuất: {}", &[&tr(&e)])));
                    return;
                }
            }
            // Best effort: end the session on the server too (offline, it ends by expiry).
            if let Some(a) = app.account.get_untracked().filter(|a| a.ended.is_none()) {
                let _ = http::call::<serde_json::Value>(reqwest::Method::DELETE, "/api/session", Some(&a.token), Body::None).await;
            }
            if let Err(e) = replica.store.clear().await {
                error.set(Some(tf("Chưa xóa được dữ liệu trên thiết bị: {}", &[&tr(&e.to_string())])));
                return;
            }
            let _ = replica.reload().await;
            settings::forget_user_data();
            Account::forget();
            app.account.set(None);
            app.sync.rejected.set(Default::default());
            app.sync.photos_waiting.set(0);
            step.set(SignOut::Idle);
            navigate("/", Default::default());
        });
    };
    let syncing = move || matches!(sync.status.get(), SyncStatus::Syncing { .. });
    view! {
        <section class="item account">
            <h2>{t("Tài khoản")}</h2>
            {move || account.get().map(|a| {
                let roles: Vec<String> = a.profile.grants.iter()
                    .map(|g| format!("{} — {}", t(g.role.label()), a.profile.unit_name(&g.unit)))
                    .collect();
                view! {
                    <p><strong id="account-name">{a.profile.display_name.clone()}</strong> " (" {a.profile.username.clone()} ")"</p>
                    <ul class="roles">{roles.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                }
            })}
            {move || match step.get() {
                SignOut::Idle => view! {
                    <button id="sign-out" class="button" disabled=syncing on:click=ask.clone()>{t("Đăng xuất")}</button>
                    <Show when=syncing><span class="hint">" " {t("Đang đồng bộ — chờ xong rồi đăng xuất.")}</span></Show>
                }.into_any(),
                SignOut::Checking => view! { <p class="hint">{t("Đang kiểm tra dữ liệu chưa gửi lên máy chủ…")}</p> }.into_any(),
                SignOut::Confirm(only_here) if only_here.is_empty() => view! {
                    <div class="confirm" role="alertdialog" aria-labelledby="sign-out-question">
                        <p id="sign-out-question">{t("Mọi thay đổi đã được đồng bộ, kể cả ảnh. Đăng xuất sẽ xóa các mô hình khỏi thiết bị này (vẫn còn trên máy chủ).")}</p>
                        <button id="confirm-sign-out" class="button primary" on:click=sign_out.clone()>{t("Đăng xuất và xóa khỏi thiết bị")}</button>
                        <button class="button" on:click=move |_| step.set(SignOut::Idle)>{t("Hủy")}</button>
                    </div>
                }.into_any(),
                SignOut::Confirm(only_here) => {
                    let (n, k) = (only_here.models.len(), only_here.photo_count());
                    let anyway = match (n, k) {
                        (0, k) => tf("Vẫn đăng xuất và bỏ {} ảnh", &[&k]),
                        (n, 0) => tf("Vẫn đăng xuất và bỏ {} thay đổi", &[&n]),
                        (n, k) => tf("Vẫn đăng xuất và bỏ {} thay đổi và {} ảnh", &[&n, &k]),
                    };
                    let photo_line = |p: &PhotosOnlyHere| {
                        if p.unsaved_entry {
                            tf("{}: {} ảnh của ghi chép hoạt động chưa lưu", &[&p.model, &p.count])
                        } else {
                            tf("{}: {} ảnh chưa gửi lên máy chủ", &[&p.model, &p.count])
                        }
                    };
                    view! {
                        <div class="confirm danger" role="alertdialog" aria-labelledby="sign-out-question">
                            <p id="sign-out-question">
                                {(n > 0).then(|| view! { <strong>{tf("Còn {} mô hình có thay đổi chưa đồng bộ.", &[&n])}</strong> " " })}
                                {(k > 0).then(|| view! { <strong>{tf("Còn {} ảnh chỉ có trên thiết bị này.", &[&k])}</strong> " " })}
                                {t("Nếu đăng xuất bây giờ, những thứ sau sẽ mất vĩnh viễn:")}</p>
                            {(n > 0).then(|| view! {
                                <ul id="unsynced">{only_here.models.iter().map(|name| view! { <li>{name.clone()}</li> }).collect_view()}</ul>
                            })}
                            {(k > 0).then(|| view! {
                                <ul id="unsent-photos">{only_here.photos.iter().map(|p| view! { <li>{photo_line(p)}</li> }).collect_view()}</ul>
                            })}
                            <button class="button primary" on:click=move |_| { step.set(SignOut::Idle); sync.sync_now(); }>{t("Đồng bộ trước")}</button>
                            <button id="confirm-sign-out" class="button danger" on:click=sign_out.clone()>{anyway}</button>
                            <button class="button" on:click=move |_| step.set(SignOut::Idle)>{t("Hủy")}</button>
                        </div>
                    }.into_any()
                }
            }}
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
        </section>
    }
}
