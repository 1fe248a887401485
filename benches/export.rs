//! Export benchmarks over a registry at Hà Nội's scale (tests/support/registry.rs: 78,494
//! models). Prints one figure per line, `name = value unit`; no figure is asserted on (the goal
//! for the full list's XLSX is ≤ 5 s, issue 13).
//!
//!   cargo bench --bench export
//!
//! What it measures: the model list as a table (`model_table`), then as XLSX and as CSV (time and
//! bytes); a city report's tables (`report_tables` of a sheet from `ReportRequest::run`) and their
//! XLSX. Each is run 3 times; the best and the worst are printed (the machine is shared).

#[path = "../tests/support/registry.rs"]
mod registry;

use std::time::Instant;

use danvan::domain::report::{ModelFacts, Period, ReportRequest, Scope};
use danvan::export::{csv, model_table, report_tables, xlsx};

const RUNS: usize = 3;

/// Runs `f` RUNS times; prints its best and worst time in ms, returns the last result.
fn timed<T>(name: &str, mut f: impl FnMut() -> T) -> T {
    let mut samples = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = f();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        last = Some(out);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    println!("{name}_best = {:.0} ms", samples[0]);
    println!("{name}_worst = {:.0} ms", samples[samples.len() - 1]);
    last.expect("at least one run")
}

fn main() {
    let tree = registry::ha_noi_tree();
    let models = registry::ha_noi_models(registry::HA_NOI_MODELS, 2020);
    println!("export_models = {} count", models.len());

    let table = timed("export_model_table", || model_table(&models));
    let file = timed("export_model_list_xlsx", || xlsx(std::slice::from_ref(&table)).expect("the list is writable"));
    println!("export_model_list_xlsx_size = {} bytes", file.len());
    let text = timed("export_model_list_csv", || csv(&table));
    println!("export_model_list_csv_size = {} bytes", text.len());
    let whole = timed("export_model_list_table_and_xlsx", || xlsx(&[model_table(&models)]).expect("the list is writable"));
    println!("export_model_list_cells = {} count", table.rows.len() * table.headers.len());
    drop((file, text, whole, table));

    let facts: Vec<ModelFacts> = models.iter().map(ModelFacts::of).collect();
    drop(models);
    let request = ReportRequest::new(Scope::Unit("HN".into()), Period::year(2020));
    let sheet = request.run(&tree, &facts);
    let tables = timed("export_city_report_tables", || report_tables(&sheet));
    println!("export_city_report_sheets = {} count", tables.len());
    println!("export_city_report_rows = {} count", tables.iter().map(|t| t.rows.len()).sum::<usize>());
    let file = timed("export_city_report_xlsx", || xlsx(&report_tables(&sheet)).expect("the report is writable"));
    println!("export_city_report_xlsx_size = {} bytes", file.len());
}
