//! Double-spend race throughput: 100,000 races per iteration of `Race::simulate` for a cheap case (q = 0.1,
//! z = 6: short races, resolved after 10 blocks of deficit) and an expensive one (q = 0.45, z = 6: losing races
//! walk 60 blocks further behind before they are resolved). Fixed seed; `Throughput::Elements` = races/s.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use settlesim::model::chain::risk::Race;
use settlesim::rng;

const SEED: u64 = 0x5E77_1E51_u64;
const TRIALS: u64 = 100_000;

fn races(c: &mut Criterion) {
    let mut group = c.benchmark_group("risk");
    group.throughput(Throughput::Elements(TRIALS));
    for (q, z) in [(0.1, 6), (0.45, 6)] {
        let race = Race::new(q, z, 0.0, 600.0).expect("valid race");
        let mut stream = rng::stream(SEED, &race.stream_label());
        group.bench_function(format!("q={q}/z={z}"), |b| {
            b.iter(|| black_box(race.simulate(TRIALS, &mut stream).expect("valid trials")))
        });
    }
    group.finish();
}

// No plots: criterion's plot backend needs a system font and panics (`FontUnavailable`) on machines without
// one; the figures are in the terminal output and target/criterion/*/estimates.json.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = races
}
criterion_main!(benches);
