//! Calibration of the correspondent-banking scenario against public figures (sources in
//! scenarios/correspondent.toml; the flagship claims.toml repeats its banks).
//! Tolerances are wide on purpose: the figures are global averages over many corridors and banks, while the
//! default models three corridors; the test catches a model change that moves the default out of the range the
//! public data supports.

const CORRESPONDENT: &str = include_str!("../scenarios/correspondent.toml");
use settlesim::model::record::Status;
use settlesim::model::sim::{self, NullSink, RunOptions};
use settlesim::model::world::RailId;

#[test]
fn default_scenario_matches_public_speed_figures() {
    let loaded = settlesim::scenario::load("correspondent.toml", CORRESPONDENT, &[]).unwrap();
    let w = &loaded.world;
    let (outcome, _) = sim::run(w, NullSink, &RunOptions::default()).unwrap();
    let m = &outcome.metrics;
    let corridor = |name: &str| w.corridors.iter().position(|c| c.name == name).unwrap();
    let usd_mxn = m.cell(RailId(0), corridor("USD-MXN"));
    let all = m.rail_total(RailId(0));

    // CPMI/BIS (2022) on SWIFT gpi: median end-to-end under 2 hours on a major corridor.
    let p50_h = usd_mxn.latency_s(0.5) / 3600.0;
    assert!(p50_h < 2.0, "USD-MXN median {p50_h:.2} h");
    // Swift (Oct 2024): 43% reach the end customer within 1 hour. Tolerance ±15 points on the fast corridor.
    let within_1h = 100.0 * usd_mxn.share_within_s(3600.0);
    assert!(
        (within_1h - 43.0).abs() <= 15.0,
        "USD-MXN within 1 h: {within_1h:.1}%"
    );
    // BIS (2024) on World Bank RPW: 77% of services make funds available within 1 business day. ±10 points.
    let within_1d = 100.0 * all.share_within_s(86_400.0);
    assert!(
        (within_1d - 77.0).abs() <= 10.0,
        "all corridors within 1 day: {within_1d:.1}%"
    );
    // SWIFT gpi (2019): nearly all within 24 h on the gpi leg; end to end the slow corridors take days, but
    // almost every payment ends within the run.
    let ended =
        all.count(Status::Settled) + all.count(Status::Returned) + all.count(Status::Failed);
    assert!(ended as f64 / all.payments() as f64 > 0.99);
}
