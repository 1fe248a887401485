//! A model's page: its registration, lifecycle, evaluations, activity log, replication and history.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::client::app::model_unit_name;
use crate::client::{date_time, use_app};
use crate::domain::{Model, field_label};
use crate::i18n::{self, t, tf, tr};

#[component]
pub fn DetailPage() -> impl IntoView {
    let app = use_app();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let models = app.replica.models;
    let model = Memo::new(move |_| models.with(|ms| ms.get(&id()).cloned()));
    // Said once, on the page the form opened after saving (`AppContext::just_saved`).
    let saved_now = app.just_saved.get_untracked().is_some_and(|s| params.with_untracked(|p| p.get("id").is_some_and(|id| id == s)));
    app.just_saved.set(None);
    let saved = move || saved_now;
    // Redrawn only when this model or its refusal changes, not at every sync round.
    let rejected = app.sync.rejected;
    let refusal = Memo::new(move |_| rejected.with(|r| r.get(&id()).cloned()));
    let unreadable = app.replica.unreadable;
    // Held here, not in `ModelDetail`: a sync that changes the model draws the page again, and
    // its lower part must not vanish for a frame under the reader's eyes.
    let rest = crate::client::first_screen_then_rest();

    view! {
        <section class="page detail-page">
            {move || match model.get() {
                None => {
                    let reason = unreadable.with(|u| u.get(&id()).cloned());
                    view! {
                        <h1>{t("Không tìm thấy mô hình")}</h1>
                        <p>{reason.map_or_else(|| t("Mô hình này không có trên thiết bị. Nếu vừa được tạo ở máy khác, hãy chờ đồng bộ.").to_string(), |r| tr(&r))}</p>
                        <A href="/">{t("← Về danh sách")}</A>
                    }.into_any()
                }
                Some(m) => view! { <ModelDetail model=m saved=saved() rejected=refusal.get() rest/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ModelDetail(model: Model, saved: bool, rejected: Option<String>, rest: RwSignal<bool>) -> impl IntoView {
    let edit = format!("/mo-hinh/{}/sua", model.id);
    // Content is the unit's cadres' to change; reviewers act through the lifecycle steps.
    let may_edit = use_app().account.with_untracked(|a| a.as_ref().is_some_and(|a| a.profile.roles_for(&model.unit).cadre));
    let dates = {
        let mut parts = vec![tf("Bắt đầu {}", &[&i18n::date(&model.start_date)])];
        if !model.end_date.is_empty() {
            parts.push(tf("kết thúc dự kiến {}", &[&i18n::date(&model.end_date)]));
        }
        if !model.evaluation_date.is_empty() {
            parts.push(tf("đánh giá {}", &[&i18n::date(&model.evaluation_date)]));
        }
        parts.join(" · ")
    };
    let section = |title: &'static str, body: String| {
        view! { <section class="item"><h2>{title}</h2><p class="prose">{body}</p></section> }
    };
    view! {
        <div class="page-head">
            <A href="/" attr:class="back">{t("← Danh sách")}</A>
            {may_edit.then(|| view! { <A href=edit attr:class="button">{t("Sửa")}</A> })}
        </div>
        {saved.then(|| view! { <p id="save-status" class="saved" role="status">{t("Đã lưu trên thiết bị này")}</p> })}
        {rejected.map(|r| view! { <p class="warning" role="alert">{tf("Máy chủ chưa nhận thay đổi của mô hình này: {} Nội dung vẫn được giữ trên thiết bị.", &[&tr(&r)])}</p> })}
        <h1>{model.name.clone()}</h1>
        <p class="meta">
            <span class="badge status">{t(model.status.label())}</span>
            <span>{tr(field_label(&model.field))}</span>
            <span>{t(model.level.label())}</span>
            <span>{tf("Năm {}", &[&model.year])}</span>
        </p>
        <crate::client::components::lifecycle::LifecycleActions model=model.clone()/>
        <crate::client::components::evaluation::EvaluationPanel model=model.clone()/>
        <crate::client::components::replication::ReplicatedFrom model=model.clone()/>
        <dl class="facts">
            <dt>{t("Chủ thể")}</dt><dd>{t(model.owner_kind.label())} ": " {model.owner_name.clone()}</dd>
            <dt>{t("Đơn vị đăng ký")}</dt><dd>{model_unit_name(&model)}</dd>
            <dt>{t("Thời gian")}</dt><dd>{dates}</dd>
        </dl>
        // Below the first screen: drawn once it is painted (`client::first_screen_then_rest`).
        <Show when=move || rest.get()>
        {section(t("Thực trạng, lý do"), model.situation.as_str().to_string())}
        {section(t("Mục tiêu, tiêu chí"), model.goals.as_str().to_string())}
        {section(t("Nội dung, cách thức thực hiện"), model.content.as_str().to_string())}
        {section(t("Địa bàn, đối tượng vận động"), model.area.as_str().to_string())}
        {section(t("Lực lượng chủ trì, phối hợp"), model.forces.as_str().to_string())}
        {section(t("Nguồn lực"), model.resources.as_str().to_string())}
        <section class="item">
            <h2>{t("Sản phẩm kiểm chứng được")}</h2>
            <table class="indicators">
                <thead><tr><th>{t("Chỉ tiêu")}</th><th>{t("Mục tiêu")}</th><th>{t("Đạt được")}</th><th>{t("Tỷ lệ")}</th></tr></thead>
                <tbody>
                    {model.indicators.iter().map(|i| {
                        let pct = if i.target > 0.0 { format!("{}%", i18n::amount((100.0 * i.achieved / i.target).round())) } else { "—".into() };
                        view! {
                            <tr>
                                <td>{i.name.clone()}</td>
                                <td>{format!("{} {}", i18n::amount(i.target), i.unit)}</td>
                                <td>{format!("{} {}", i18n::amount(i.achieved), i.unit)}</td>
                                <td>{pct}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {section(t("Khả năng duy trì, nhân rộng"), model.sustainability.as_str().to_string())}
        <crate::client::components::replication::ReplicationPoints model=model.clone()/>
        <crate::client::components::journal::Journal model=model.clone()/>
        <crate::client::components::lifecycle::LifecycleHistory model=model.clone()/>
        <crate::client::components::evaluation::Evaluations model=model.clone()/>
        <crate::client::components::lifecycle::Commendations model=model.clone()/>
        <crate::client::components::revisions::Revisions model=model.clone()/>
        <p class="bookkeeping">
            {tf(
                "Tạo lúc {} bởi {} · Sửa lần cuối {} bởi {}",
                &[&date_time(model.created_at), &model.created_by, &date_time(model.updated_at), &model.updated_by],
            )}
        </p>
        </Show>
    }
}
