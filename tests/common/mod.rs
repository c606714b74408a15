//! Shared test helpers: load the fixture with overrides, run it, collect every payment record.
#![allow(dead_code)]

use settlesim::model::record::{PaymentRecord, TraceStep};
use settlesim::model::sim::{self, Outcome, RunOptions};
use settlesim::scenario::{self, Loaded};

pub const BASE: &str = include_str!("../fixtures/base.toml");

pub fn load(overrides: &[&str]) -> Loaded {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load("base.toml", BASE, &o).unwrap_or_else(|e| panic!("fixture does not load: {e}"))
}

/// Runs a loaded world and collects every payment record (the conservation check must hold).
pub fn records_of(world: &settlesim::model::world::World) -> (Outcome, Vec<PaymentRecord>) {
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    (outcome, records)
}

pub struct Run {
    pub loaded: Loaded,
    pub outcome: Outcome,
    pub records: Vec<PaymentRecord>,
}

pub fn run(overrides: &[&str]) -> Run {
    run_traced(overrides, None)
}

pub fn run_traced(overrides: &[&str], trace: Option<u64>) -> Run {
    let loaded = load(overrides);
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions {
            trace_payment: trace,
        },
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    records.sort_by_key(|r| r.id);
    Run {
        loaded,
        outcome,
        records,
    }
}

impl Run {
    pub fn trace_of(&self, id: u64) -> Vec<TraceStep> {
        let mut records = Vec::new();
        let (outcome, _) = sim::run(
            &self.loaded.world,
            |r: &PaymentRecord| records.push(r.clone()),
            &RunOptions {
                trace_payment: Some(id),
            },
        )
        .expect("rerun");
        outcome.trace
    }
    /// Local (New York) time of a simulated instant.
    pub fn ny(&self, t_us: u64) -> chrono::DateTime<chrono_tz::Tz> {
        (self.loaded.world.start + chrono::Duration::microseconds(t_us as i64))
            .with_timezone(&chrono_tz::America::New_York)
    }
}

/// A p-quantile read from a 3-significant-digit histogram of `values` (in the histogram's unit, sorted here):
/// between the values of the ranks either side of the exact one, give or take 0.2% and one unit.
pub fn assert_quantile(what: &str, got: f64, mut values: Vec<u64>, q: f64) {
    assert!(!values.is_empty(), "{what}: no values");
    values.sort_unstable();
    let n = values.len();
    let rank = ((q * n as f64).ceil() as usize).max(1);
    let (lo, hi) = (values[rank.saturating_sub(2)], values[rank.min(n - 1)]);
    assert!(
        lo as f64 * (1.0 - 2e-3) - 1.0 <= got && got <= hi as f64 * (1.0 + 2e-3) + 1.0,
        "{what}: quantile {q} is {got}, the values give {lo}..{hi}"
    );
}

/// A share "within `limit`" read from a histogram of `values` (same unit), over `of` payments: at least the
/// values at most `limit`, at most those within the histogram's 0.2% bucket above it.
pub fn assert_share_within(what: &str, got: f64, values: &[u64], limit: u64, of: usize) {
    let count = |l: u64| values.iter().filter(|&&v| v <= l).count() as f64 / of as f64;
    let (lo, hi) = (count(limit), count(limit + limit / 500 + 1));
    assert!(
        lo - 1e-12 <= got && got <= hi + 1e-12,
        "{what}: share within {limit} is {got}, the records give {lo}..{hi}"
    );
}

/// Every figure of a summary cell that the summary and sweep files print, recomputed from the records it
/// summarises (`recs`: the cell's payments, any status): stage means and medians, the cost median, SWIFT gpi's
/// share within an hour and median, shares within an hour and a day, throughput, the funding-wait share, its
/// share within an hour and median, fees and FX totals.
pub fn assert_cell_summarises(
    what: &str,
    cell: &settlesim::model::metrics::Cell,
    recs: &[&settlesim::model::record::PaymentRecord],
    window_us: u64,
) {
    use settlesim::model::record::Stage;
    let settled: Vec<_> = recs
        .iter()
        .filter(|r| r.status == settlesim::model::record::Status::Settled)
        .collect();
    let n = settled.len() as f64;
    assert!(n > 10.0, "{what}: {n} settled");
    let mut stage_sum = 0.0;
    for stage in Stage::ALL {
        let us: Vec<u64> = settled.iter().map(|r| r.stages_us[stage.idx()]).collect();
        let mean = us.iter().sum::<u64>() as f64 / n / 1e6;
        let got = cell.stage_s_mean(stage);
        assert!(
            (got - mean).abs() <= 1e-9 * mean + 1e-12,
            "{what} {stage:?} mean {got} vs {mean}"
        );
        stage_sum += got;
        let ms = us.iter().map(|u| u / 1000).collect();
        assert_quantile(
            &format!("{what} {stage:?}"),
            cell.stage_s(stage, 0.5) * 1e3,
            ms,
            0.5,
        );
    }
    let mean = cell.latency_s_mean();
    assert!(
        (stage_sum - mean).abs() <= 1e-9 * mean,
        "{what}: stage means add up to the mean latency"
    );
    let cbps = settled
        .iter()
        .map(|r| (r.cost_bps() * 100.0).round().max(0.0) as u64)
        .collect();
    assert_quantile(
        &format!("{what} cost"),
        cell.cost_bps(0.5) * 100.0,
        cbps,
        0.5,
    );
    // SWIFT gpi's basis: acceptance by the first bank to the credit.
    let accepted = recs.iter().filter(|r| r.accepted_us.is_some()).count();
    assert_eq!(cell.gpi_accepted, accepted as u64, "{what} accepted");
    let gpi: Vec<u64> = settled
        .iter()
        .filter_map(|r| r.latency_gpi_us())
        .map(|u| u / 1000)
        .collect();
    if accepted > 0 {
        let got = cell.gpi_share_within_s(3600.0);
        assert_share_within(&format!("{what} gpi 1 h"), got, &gpi, 3_600_000, accepted);
    }
    if !gpi.is_empty() {
        assert_quantile(
            &format!("{what} gpi median"),
            cell.gpi_latency_s(0.5) * 1e3,
            gpi,
            0.5,
        );
    }
    // Chain rails: broadcast to inclusion and to the deposit credit, over every payment that got there.
    use settlesim::model::metrics::Cell;
    let inclusion: Vec<u64> = recs
        .iter()
        .filter_map(|r| r.chain_inclusion_us)
        .map(|u| u / 1000)
        .collect();
    let credit: Vec<u64> = recs
        .iter()
        .filter_map(|r| r.chain_settlement_us)
        .map(|u| u / 1000)
        .collect();
    for (step, h, values) in [
        ("inclusion", &cell.chain_inclusion_ms, inclusion),
        ("credit", &cell.chain_settlement_ms, credit),
    ] {
        if values.is_empty() {
            assert!(Cell::chain_s(h, 0.5).is_nan(), "{what}: no chain {step}");
        } else {
            assert_quantile(
                &format!("{what} chain {step} p90"),
                Cell::chain_s(h, 0.9) * 1e3,
                values,
                0.9,
            );
        }
    }
    let lat: Vec<u64> = settled
        .iter()
        .map(|r| r.latency_us().unwrap() / 1000)
        .collect();
    for limit_s in [3_600, 86_400] {
        let got = cell.share_within_s(limit_s as f64);
        assert_share_within(
            &format!("{what} within {limit_s} s"),
            got,
            &lat,
            limit_s * 1000,
            recs.len(),
        );
    }
    let in_window = settled
        .iter()
        .filter(|r| r.ended_us.unwrap() < window_us)
        .count() as f64;
    let per_day = in_window / (window_us as f64 / 86_400e6);
    assert!(
        (cell.throughput_per_day() - per_day).abs() <= 1e-9 * per_day,
        "{what} throughput"
    );
    // Waiting for funding, over every payment (zeros included).
    let wait: Vec<u64> = recs
        .iter()
        .map(|r| r.stages_us[Stage::NostroWait.idx()] / 1000)
        .collect();
    let waited = recs
        .iter()
        .filter(|r| r.stages_us[Stage::NostroWait.idx()] > 0)
        .count();
    assert_eq!(
        cell.funding_wait_share(),
        waited as f64 / recs.len() as f64,
        "{what} funding waits"
    );
    let got = cell.funding_wait_within_s(3600.0);
    assert_share_within(
        &format!("{what} funding wait 1 h"),
        got,
        &wait,
        3_600_000,
        recs.len(),
    );
    assert_quantile(
        &format!("{what} funding wait p90"),
        cell.funding_wait_s(0.9) * 1e3,
        wait,
        0.9,
    );
    let fees: i64 = recs.iter().map(|r| r.cost.fees()).sum();
    assert_eq!(cell.fees_cents(), fees, "{what} fees");
    let fx: i64 = recs
        .iter()
        .map(|r| r.cost.fx_spread + r.cost.ramp_spread)
        .sum();
    assert_eq!(cell.fx_cents(), fx, "{what} FX spreads");
}
