//! Benchmark, not a test: a report over 10,000 models computed in the browser, the way the report
//! module computes it (`ReportRequest::run` over `ModelFacts`), in headless Chromium. Prints
//! `name = value unit` lines; asserts nothing about time. Goal: ≤ 150 ms. Also the XLSX of the
//! whole 78,494-model list (goal ≤ 5 s).
//!
//! Run with the client's optimisations (the shipped module is also opt-level z, plus wasm-opt):
//!   CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_DIR=$T/wasm-test \
//!     cargo test --locked --release --target wasm32-unknown-unknown --test report_browser -- --nocapture
//! and at 4× CPU throttling: `.ci/bench-report-browser` (the same test in a page Chromium throttles).

#![cfg(target_arch = "wasm32")]

#[path = "support/registry.rs"]
mod registry;

use danvan::domain::report::{Dimension, ModelFacts, Period, ReportRequest, Scope};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> f64 {
    js_sys::Date::now()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[wasm_bindgen_test]
fn report_over_ten_thousand_models_in_the_browser() {
    let tree = registry::ha_noi_tree();
    let models = registry::ha_noi_models(10_000, 2026);
    let started = now();
    let facts: Vec<ModelFacts> = models.iter().map(ModelFacts::of).collect();
    let facts_ms = now() - started;
    let cases = [
        ("city_2020", ReportRequest::new(Scope::Unit("HN".into()), Period::year(2020))),
        ("city_first_half_2020", ReportRequest::new(Scope::Unit("HN".into()), Period::first_half(2020))),
        ("city_2009_2020_field_by_year", {
            let mut r = ReportRequest::new(Scope::Unit("HN".into()), Period::years(2009, 2020).unwrap());
            (r.rows, r.columns) = (Dimension::Field, Dimension::Year);
            r
        }),
    ];
    let mut lines = vec![format!("report.browser.facts_of_10000 = {facts_ms:.1} ms")];
    for (name, request) in cases {
        let _ = request.run(&tree, &facts); // warm
        let mut times: Vec<f64> = (0..15)
            .map(|_| {
                let t = now();
                let sheet = request.run(&tree, &facts);
                assert!(sheet.models > 0);
                now() - t
            })
            .collect();
        times.sort_by(f64::total_cmp);
        lines.push(format!("report.browser.10000.{name}.p50 = {:.1} ms", percentile(&times, 0.5)));
        lines.push(format!("report.browser.10000.{name}.p95 = {:.1} ms", percentile(&times, 0.95)));
    }
    for line in &lines {
        console_log!("{line}");
    }
}

/// The XLSX of the whole 78,494-model list, written where users write it: in the browser, by
/// the report module's writer. Goal ≤ 5 s.
#[wasm_bindgen_test]
fn xlsx_of_the_whole_ha_noi_list_in_the_browser() {
    let models = registry::ha_noi_models(registry::HA_NOI_MODELS, 2020);
    let started = now();
    let table = danvan::export::model_table(&models);
    let table_ms = now() - started;
    let started = now();
    let bytes = danvan::export::xlsx(&[table]).expect("an XLSX");
    let xlsx_ms = now() - started;
    console_log!("export.browser.model_table_78494 = {table_ms:.0} ms");
    console_log!("export.browser.xlsx_78494 = {xlsx_ms:.0} ms");
    console_log!("export.browser.xlsx_78494.bytes = {} bytes", bytes.len());
}
