//! Fuzz target (b): a scenario that loads is simulated for at most a day of demand, a day of drain and 200k
//! events; the run's own checks (conservation per currency, reconciliation with the records) must pass, every
//! payment id must be reported exactly once, and no fee, amount or delivered sum may be negative.
#![no_main]

use libfuzzer_sys::fuzz_target;
use settlesim::model::record::PaymentRecord;
use settlesim::model::sim::{self, RunOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let bounds = [
        "duration=1d".to_string(),
        "limits.drain=1d".to_string(),
        "limits.max_events=200000".to_string(),
    ];
    let Ok(loaded) = settlesim::scenario::load("fuzz.toml", text, &bounds) else {
        return;
    };
    let mut seen: Vec<u64> = Vec::new();
    let sink = |r: &PaymentRecord| {
        assert!(r.amount_minor > 0, "non-positive amount: {r:?}");
        assert!(r.delivered_minor >= 0, "negative delivered amount: {r:?}");
        for part in r.cost.parts() {
            assert!(part >= 0, "negative cost component: {r:?}");
        }
        seen.push(r.id);
    };
    let (outcome, _) = sim::run(&loaded.world, sink, &RunOptions::default())
        .unwrap_or_else(|e| panic!("the run's invariants failed: {e}"));
    seen.sort_unstable();
    assert_eq!(seen.len() as u64, outcome.payments, "payments reported");
    assert!(
        seen.iter().enumerate().all(|(i, &id)| i as u64 == id),
        "ids are not 0..n-1, each once"
    );
});
