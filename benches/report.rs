//! Report benchmarks over a registry at Hà Nội's scale (tests/support/registry.rs: 78,494 models,
//! ~600 units). Prints one figure per line, `name = value unit`.
//!
//!   cargo bench --bench report
//!
//! What it measures: reading the facts of every model (`ModelFacts::of`, what the device and the
//! server keep per model), then whole reports — figures, a unit × state pivot, commune coverage
//! and the annex lists — for the city (78,494 models), one district and one cluster, and for a
//! 10,000-model subset (the size a district reviewer's device holds; in the browser the same code
//! runs as wasm, measured separately). Each report is computed 30 times; p50 and p95 are printed.

#[path = "../tests/support/registry.rs"]
mod registry;

use std::time::Instant;

use danvan::domain::Level;
use danvan::domain::report::{Dimension, ModelFacts, Period, Report, Scope};

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn run(name: &str, tree: &danvan::domain::UnitTree, scope: Scope, period: Period, facts: &[ModelFacts]) {
    let mut samples = Vec::new();
    let mut checksum = 0usize;
    for _ in 0..30 {
        let started = Instant::now();
        let report = Report::new(tree, scope.clone(), period, facts);
        let figures = report.figures();
        let pivot = report.pivot(Dimension::Unit, Dimension::Status);
        let coverage = report.coverage(Level::Grassroots);
        let annex = report.exemplary().len() + report.commendations().len() + report.replicated().len();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        checksum = figures.total + pivot.total + coverage.registering + annex;
    }
    println!("report_{name}_models = {} count", Report::new(tree, scope.clone(), period, facts).models().len());
    println!("report_{name}_p50 = {:.1} ms", percentile(&mut samples, 0.5));
    println!("report_{name}_p95 = {:.1} ms", percentile(&mut samples, 0.95));
    assert!(checksum > 0, "the report counted something");
}

fn main() {
    let tree = registry::ha_noi_tree();
    let started = Instant::now();
    let models = registry::ha_noi_models(registry::HA_NOI_MODELS, 2020);
    println!("registry_generate = {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    let started = Instant::now();
    let facts: Vec<ModelFacts> = models.iter().map(ModelFacts::of).collect();
    println!("report_facts_of_all = {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    println!("report_facts_models = {} count", facts.len());
    drop(models);

    let year = Period::year(2020);
    run("city_year", &tree, Scope::Unit("HN".into()), year, &facts);
    run("city_phase_2009_2020", &tree, Scope::Unit("HN".into()), Period::years(2009, 2020).unwrap(), &facts);
    run("city_first_half", &tree, Scope::Unit("HN".into()), Period::first_half(2020), &facts);
    run("district_year", &tree, Scope::Unit("HN-Q07".into()), year, &facts);
    run("cluster_year", &tree, Scope::Cluster("CUM-2".into()), year, &facts);
    run("subset_10000_year", &tree, Scope::Unit("HN".into()), year, &facts[..10_000]);

    let city = Report::new(&tree, Scope::Unit("HN".into()), Period::years(2009, 2020).unwrap(), &facts).figures();
    println!("registry_recognised_by_2020 = {} count", city.status(danvan::domain::Status::Recognised) + city.status(danvan::domain::Status::Exemplary) + city.status(danvan::domain::Status::Commended));
}
