//! SVG charts drawn by the app itself from `crate::chart`'s geometry: no chart library, no
//! inline styles (the content security policy forbids them) — colours are presentation
//! attributes and classes of report.css, so print gets them too.

use leptos::prelude::*;

use crate::chart;
use crate::domain::format_count_vi;
use crate::i18n::{self, t, vi};

const WIDTH: f64 = 360.0;

/// A number as the chart shows it: in the interface's language on screen, Vietnamese in a printed
/// document.
fn number(v: usize, document: bool) -> String {
    if document { format_count_vi(v) } else { i18n::count(v) }
}

/// `document`: drawn in a printed document, which stays Vietnamese.
#[component]
pub fn BarChartView(items: Vec<(String, usize)>, #[prop(optional)] document: bool) -> impl IntoView {
    if items.iter().all(|(_, v)| *v == 0) {
        return view! { <p class="muted">{if document { vi("Chưa có số liệu.") } else { t("Chưa có số liệu.") }}</p> }.into_any();
    }
    let c = chart::bars(&items, WIDTH);
    let summary = items.iter().map(|(l, v)| format!("{l}: {}", number(*v, document))).collect::<Vec<_>>().join("; ");
    view! {
        <svg class="chart bars" viewBox=format!("0 0 {} {}", c.width, c.height) role="img" aria-label=summary
             width="100%" preserveAspectRatio="xMinYMin meet">
            {c.bars.into_iter().map(|b| {
                let end = c.left + b.width;
                view! {
                    <g>
                        <text x=c.left y=b.label_y class="chart-label">{b.label.clone()}</text>
                        <rect x=c.left y=b.y width=b.width.max(1.0) height=b.height class="chart-bar" rx="2"/>
                        <text x=end + 4.0 y=b.y + b.height - 3.0 class="chart-value">{number(b.value, document)}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
    .into_any()
}

#[component]
pub fn LineChartView(points: Vec<(String, usize)>) -> impl IntoView {
    if points.is_empty() {
        return view! { <p class="muted">{t("Chưa có số liệu.")}</p> }.into_any();
    }
    let c = chart::line(&points, WIDTH, 190.0);
    let summary = points.iter().map(|(l, v)| format!("{l}: {}", i18n::count(*v))).collect::<Vec<_>>().join("; ");
    let right = c.width - 12.0;
    let every = c.label_every;
    view! {
        <svg class="chart line" viewBox=format!("0 0 {} {}", c.width, c.height) role="img" aria-label=summary
             width="100%" preserveAspectRatio="xMinYMin meet">
            {c.grid.iter().map(|(y, v)| view! {
                <g>
                    <line x1=c.left x2=right y1=*y y2=*y class="chart-grid"/>
                    <text x=c.left - 4.0 y=*y + 4.0 class="chart-axis" text-anchor="end">{i18n::count(*v as usize)}</text>
                </g>
            }).collect_view()}
            <path d=c.path.clone() class="chart-line" fill="none"/>
            {c.points.iter().enumerate().map(|(i, p)| view! {
                <g>
                    <circle cx=p.x cy=p.y r="3" class="chart-dot"><title>{format!("{}: {}", p.label, i18n::count(p.value))}</title></circle>
                    {(i % every == 0 || i + 1 == c.points.len()).then(|| view! {
                        <text x=p.x y=c.base_y + 16.0 class="chart-axis" text-anchor="middle">{p.label.clone()}</text>
                    })}
                </g>
            }).collect_view()}
        </svg>
    }
    .into_any()
}
