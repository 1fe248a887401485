//! A model's page: its registration, lifecycle, evaluations, activity log, replication and history.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::client::app::model_unit_name;
use crate::client::{date_time, use_app};
use crate::domain::{
    Model, field_label, format_amount_vi, format_date_vi,
};

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

    view! {
        <section class="page detail-page">
            {move || match model.get() {
                None => {
                    let reason = unreadable.with(|u| u.get(&id()).cloned());
                    view! {
                        <h1>"Không tìm thấy mô hình"</h1>
                        <p>{reason.unwrap_or_else(|| "Mô hình này không có trên thiết bị. Nếu vừa được tạo ở máy khác, hãy chờ đồng bộ.".into())}</p>
                        <A href="/">"← Về danh sách"</A>
                    }.into_any()
                }
                Some(m) => view! { <ModelDetail model=m saved=saved() rejected=refusal.get()/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ModelDetail(model: Model, saved: bool, rejected: Option<String>) -> impl IntoView {
    let edit = format!("/mo-hinh/{}/sua", model.id);
    // Content is the unit's cadres' to change; reviewers act through the lifecycle steps.
    let may_edit = use_app().account.with_untracked(|a| a.as_ref().is_some_and(|a| a.profile.roles_for(&model.unit).cadre));
    let dates = {
        let mut parts = vec![format!("Bắt đầu {}", format_date_vi(&model.start_date))];
        if !model.end_date.is_empty() {
            parts.push(format!("kết thúc dự kiến {}", format_date_vi(&model.end_date)));
        }
        if !model.evaluation_date.is_empty() {
            parts.push(format!("đánh giá {}", format_date_vi(&model.evaluation_date)));
        }
        parts.join(" · ")
    };
    let section = |title: &'static str, body: String| {
        view! { <section class="item"><h2>{title}</h2><p class="prose">{body}</p></section> }
    };
    view! {
        <div class="page-head">
            <A href="/" attr:class="back">"← Danh sách"</A>
            {may_edit.then(|| view! { <A href=edit attr:class="button">"Sửa"</A> })}
        </div>
        {saved.then(|| view! { <p id="save-status" class="saved" role="status">"Đã lưu trên thiết bị này"</p> })}
        {rejected.map(|r| view! { <p class="warning" role="alert">"Máy chủ chưa nhận thay đổi của mô hình này: " {r} " Nội dung vẫn được giữ trên thiết bị."</p> })}
        <h1>{model.name.clone()}</h1>
        <p class="meta">
            <span class="badge status">{model.status.label()}</span>
            <span>{field_label(&model.field).to_string()}</span>
            <span>{model.level.label()}</span>
            <span>"Năm " {model.year}</span>
        </p>
        <crate::client::components::lifecycle::LifecycleActions model=model.clone()/>
        <crate::client::components::evaluation::EvaluationPanel model=model.clone()/>
        <crate::client::components::replication::ReplicatedFrom model=model.clone()/>
        <dl class="facts">
            <dt>"Chủ thể"</dt><dd>{model.owner_kind.label()} ": " {model.owner_name.clone()}</dd>
            <dt>"Đơn vị đăng ký"</dt><dd>{model_unit_name(&model)}</dd>
            <dt>"Thời gian"</dt><dd>{dates}</dd>
        </dl>
        {section("Thực trạng, lý do", model.situation.as_str().to_string())}
        {section("Mục tiêu, tiêu chí", model.goals.as_str().to_string())}
        {section("Nội dung, cách thức thực hiện", model.content.as_str().to_string())}
        {section("Địa bàn, đối tượng vận động", model.area.as_str().to_string())}
        {section("Lực lượng chủ trì, phối hợp", model.forces.as_str().to_string())}
        {section("Nguồn lực", model.resources.as_str().to_string())}
        <section class="item">
            <h2>"Sản phẩm kiểm chứng được"</h2>
            <table class="indicators">
                <thead><tr><th>"Chỉ tiêu"</th><th>"Mục tiêu"</th><th>"Đạt được"</th><th>"Tỷ lệ"</th></tr></thead>
                <tbody>
                    {model.indicators.iter().map(|i| {
                        let pct = if i.target > 0.0 { format!("{}%", format_amount_vi((100.0 * i.achieved / i.target).round())) } else { "—".into() };
                        view! {
                            <tr>
                                <td>{i.name.clone()}</td>
                                <td>{format!("{} {}", format_amount_vi(i.target), i.unit)}</td>
                                <td>{format!("{} {}", format_amount_vi(i.achieved), i.unit)}</td>
                                <td>{pct}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {section("Khả năng duy trì, nhân rộng", model.sustainability.as_str().to_string())}
        <crate::client::components::replication::ReplicationPoints model=model.clone()/>
        <crate::client::components::journal::Journal model=model.clone()/>
        <crate::client::components::lifecycle::LifecycleHistory model=model.clone()/>
        <crate::client::components::evaluation::Evaluations model=model.clone()/>
        <crate::client::components::lifecycle::Commendations model=model.clone()/>
        <crate::client::components::revisions::Revisions model=model.clone()/>
        <p class="bookkeeping">
            "Tạo lúc " {date_time(model.created_at)} " bởi " {model.created_by.clone()}
            " · Sửa lần cuối " {date_time(model.updated_at)} " bởi " {model.updated_by.clone()}
        </p>
    }
}
