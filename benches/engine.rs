//! Engine benchmarks: the default scenario end to end (events per second through the whole model, payments
//! streamed to a sink that keeps nothing). The bare event-queue hold model lives in benches/hold.rs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use settlesim::app::DEFAULT_SCENARIO;
use settlesim::model::sim::{self, NullSink, RunOptions};

fn default_scenario(c: &mut Criterion) {
    let loaded = settlesim::scenario::load("default", DEFAULT_SCENARIO, &[])
        .expect("default scenario loads");
    let (outcome, _) = sim::run(&loaded.world, NullSink, &RunOptions::default()).expect("runs");
    let mut g = c.benchmark_group("default_scenario");
    g.throughput(Throughput::Elements(outcome.events));
    g.sample_size(20);
    g.bench_function("run_28d", |b| {
        b.iter(|| {
            sim::run(&loaded.world, NullSink, &RunOptions::default())
                .expect("runs")
                .0
                .events
        })
    });
    g.finish();
}

criterion_group!(benches, default_scenario);
criterion_main!(benches);
