//! Replication on a model's page: where a model was replicated from, the places applying it
//! (replication points) and, for a library model of another unit, "Nhân rộng mô hình này".

use leptos::prelude::*;
use leptos_router::components::A;

use crate::client::{date_time, use_app};
use crate::domain::{Model, in_library, replication_points};
use crate::i18n::{t, tf};

/// "Nhân rộng từ …" on a model that replicates another.
#[component]
pub fn ReplicatedFrom(model: Model) -> impl IntoView {
    model.replicated_from.map(|from| {
        let href = format!("/mo-hinh/{}", from.id);
        view! {
            <p class="note replicated-from">
                {t("Nhân rộng từ mô hình ")} <A href=href>{format!("“{}”", from.name)}</A> {t(" của ")} {from.unit_name}
            </p>
        }
    })
}

/// The places applying a model, and the button to replicate it in one's own unit.
#[component]
pub fn ReplicationPoints(model: Model) -> impl IntoView {
    let can_replicate = use_app().account.with_untracked(|a| {
        a.as_ref().is_some_and(|a| in_library(model.status) && a.profile.writable.iter().any(|u| *u != model.unit))
    });
    if model.replications.is_empty() && !can_replicate {
        return ().into_any();
    }
    let points = replication_points(&model.replications);
    let places = model
        .replications
        .iter()
        .map(|r| {
            let (href, name, by) = (format!("/mo-hinh/{}", r.id), r.unit_name.clone(), format!(" — {} · {}", r.by_name, date_time(r.at)));
            view! { <li><A href=href>{name}</A>{by}</li> }
        })
        .collect_view();
    let href = format!("/mo-hinh/moi?nhan-rong={}", model.id);
    view! {
        <section class="item replications">
            <h2>{t("Nhân rộng")}</h2>
            {if model.replications.is_empty() {
                view! { <p>{t("Chưa có đơn vị nào nhân rộng mô hình này.")}</p> }.into_any()
            } else {
                view! {
                    <p id="replication-points">{tf("Đã nhân rộng tại {} điểm:", &[&points])}</p>
                    <ul>{places}</ul>
                }.into_any()
            }}
            {can_replicate.then(|| view! { <A href=href attr:class="button primary" attr:id="replicate">{t("Nhân rộng mô hình này")}</A> })}
        </section>
    }
    .into_any()
}
