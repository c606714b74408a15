//! Engine benchmarks end to end, payments streamed to a sink that keeps nothing: the correspondent-banking
//! scenario (traditional rails only) and the flagship claims scenario (four rails, three chains). The bare event
//! queue (hold model) is in benches/hold.rs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use settlesim::model::sim::{self, NullSink, RunOptions};

const CORRESPONDENT: &str = include_str!("../scenarios/correspondent.toml");
const CLAIMS: &str = include_str!("../scenarios/claims.toml");

fn scenario(c: &mut Criterion, name: &str, text: &str, overrides: &[&str]) {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let loaded = settlesim::scenario::load(name, text, &o).expect("scenario loads");
    let (outcome, _) = sim::run(&loaded.world, NullSink, &RunOptions::default()).expect("runs");
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(outcome.events));
    g.sample_size(10);
    g.bench_function("run", |b| {
        b.iter(|| {
            sim::run(&loaded.world, NullSink, &RunOptions::default())
                .expect("runs")
                .0
                .events
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    scenario(c, "correspondent_28d", CORRESPONDENT, &[]);
    scenario(c, "claims_7d", CLAIMS, &["duration=7d", "limits.drain=7d"]);
}

// No plots: criterion's plot backend needs a system font and panics (`FontUnavailable`) on machines without
// one; the figures are in the terminal output and target/criterion/*/estimates.json.
criterion_group! {
    name = engine;
    config = Criterion::default().without_plots();
    targets = benches
}
criterion_main!(engine);
