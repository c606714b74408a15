//! Where the time goes: every payment's per-stage durations (exact integer microseconds, `PaymentRecord::
//! stages_us`, the `stage_*_us` columns of payments.csv) sum to its end-to-end latency, on every committed
//! scenario and on random variations (tests/properties.rs checks the same on its random scenarios). The test
//! names the scenario, the payment and both numbers when a microsecond is lost or booked twice.

use settlesim::model::record::{PaymentRecord, Stage, Status};
use settlesim::model::sim::{self, RunOptions};

/// Runs `file` (shortened to `duration`) and returns its records.
fn records(file: &str, duration: &str) -> Vec<PaymentRecord> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let overrides = vec![
        format!("duration={duration}"),
        "limits.drain=3d".to_string(),
    ];
    let loaded =
        settlesim::scenario::load(file, &text, &overrides).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let result = sim::run(
        &loaded.world,
        |r: &PaymentRecord| out.push(r.clone()),
        &RunOptions::default(),
    );
    if let Err(e) = result {
        panic!("{file}: {e}");
    }
    out
}

fn check(file: &str, duration: &str) -> Vec<PaymentRecord> {
    let recs = records(file, duration);
    for r in &recs {
        let Some(latency) = r.latency_us() else {
            continue;
        };
        let sum: u64 = r.stages_us.iter().sum();
        assert_eq!(
            sum, latency,
            "{file}: payment {} ({:?}): stages {:?} sum to {sum} µs, latency {latency} µs",
            r.id, r.status, r.stages_us
        );
    }
    recs
}

#[test]
fn stages_sum_to_the_latency_on_every_committed_scenario() {
    let mut files: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    files.sort();
    // Chain-only scenarios (load tests) have no payments; the others must have some to prove anything.
    let with_payments = files.iter().filter(|f| !check(f, "2d").is_empty()).count();
    assert!(
        with_payments >= 6,
        "{with_payments} scenarios with payments"
    );
}

/// Mean seconds per stage of settled payments of `rail` (its index in the scenario).
fn mean_stage_s(recs: &[PaymentRecord], rail: u16, stage: Stage) -> f64 {
    let settled: Vec<&PaymentRecord> = recs
        .iter()
        .filter(|r| r.rail.0 == rail && r.status == Status::Settled)
        .collect();
    settled
        .iter()
        .map(|r| r.stages_us[stage.idx()] as f64)
        .sum::<f64>()
        / settled.len() as f64
        / 1e6
}

#[test]
fn each_rail_spends_its_time_where_its_model_says() {
    // claims.toml: swift (0) is a correspondent chain with bank hours; usdt (1) and btc (2) fund and pay out
    // over domestic rails around a chain; cbdc (3) runs on a BFT platform.
    let recs = check("scenarios/claims.toml", "3d");
    assert!(mean_stage_s(&recs, 0, Stage::ClosedHours) > 0.0);
    assert_eq!(mean_stage_s(&recs, 0, Stage::ChainInclusion), 0.0);
    assert_eq!(mean_stage_s(&recs, 0, Stage::Confirmations), 0.0);
    for chain_rail in [1, 2] {
        assert!(mean_stage_s(&recs, chain_rail, Stage::DomesticRail) > 0.0);
        assert_eq!(mean_stage_s(&recs, chain_rail, Stage::Transit), 0.0);
    }
    // Bitcoin: inclusion and confirmations take minutes (two confirmations of ~10 min blocks), never zero.
    assert!(mean_stage_s(&recs, 2, Stage::Confirmations) > 60.0);
    assert!(mean_stage_s(&recs, 2, Stage::ChainInclusion) > 1.0);
}
