//! The price move of payments on a rail whose asset's price moves (issue 9, item 3): a payment holding BTC is
//! exposed from the on-ramp's purchase to the off-ramp's sale, and its `price_move` is what the price did over
//! exactly that time. The fixture (tests/fixtures/btc-price.toml) has no spreads and no ramp fees, USD on both
//! ends and a 300 bps daily volatility, so each payment's move gives its log return ln(P₁/P₀) = ln(1 − m/V)
//! (V: the value bought), which is N(−σ²τ/2, σ²τ) for an exposure of τ. Standardised by its own τ, every move
//! must be a standard normal: checked by the variance (4 Monte Carlo standard errors), by exposure halves (the
//! move scales with √τ, not with a fixed horizon) and by a Kolmogorov–Smirnov test at α = 0.001. Twelve seeds
//! (twelve independent paths) with four payments a day keep overlapping exposures, which share a path, rare.
//! Money stays exact: every run checks conservation, and with the ramp bearing the risk the same payments
//! deliver what the purchase price gave while the ramp records the same moves.

use settlesim::model::record::{PaymentRecord, Status};
use settlesim::model::sim::{self, RunOptions};

const FIXTURE: &str = include_str!("fixtures/btc-price.toml");
const SIGMA_DAILY: f64 = 0.03;

fn run(overrides: &[&str]) -> Vec<PaymentRecord> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let loaded =
        settlesim::scenario::load("btc-price.toml", FIXTURE, &o).unwrap_or_else(|e| panic!("{e}"));
    let mut records = Vec::new();
    // sim::run fails (with the seed) unless every currency sums to zero and the ledger reconciles.
    let _ = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    records.sort_by_key(|r| r.id);
    records
}

/// (standardised move, exposure in days) of every settled payment over `seeds` seeds.
fn standardised(seeds: u64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for seed in 1..=seeds {
        for r in run(&[&format!("seed={seed}")]) {
            if r.status != Status::Settled {
                continue;
            }
            let tau = r.exposed_us.expect("a settled BTC payment was exposed") as f64 / 86_400e6;
            // The value bought: what was sent less the network fee (no spreads, no ramp fees here).
            let value = (r.amount_usd_cents - r.cost.network_fee) as f64;
            let log_return = (1.0 - r.cost.price_move as f64 / value).ln();
            let sd = SIGMA_DAILY * tau.sqrt();
            out.push(((log_return + sd * sd / 2.0) / sd, tau));
        }
    }
    out
}

fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Φ(x) from the complementary error function.
fn phi(x: f64) -> f64 {
    0.5 * settlesim::rng::erfc(-x / std::f64::consts::SQRT_2)
}

#[test]
fn price_moves_match_the_time_each_payment_was_exposed() {
    let z = standardised(12);
    assert!(z.len() > 2_000, "{} payments", z.len());
    let check = |what: &str, zs: &[f64]| {
        let sq: Vec<f64> = zs.iter().map(|x| x * x).collect();
        let (v, se) = mean_se(&sq);
        let t = (v - 1.0) / se;
        println!(
            "{what}: E[z²] = {v:.4} ± {se:.4} (n = {}, theory 1, z = {t:+.2})",
            zs.len()
        );
        assert!(t.abs() < 4.0, "{what}: E[z²] = {v} ± {se}");
    };
    let all: Vec<f64> = z.iter().map(|p| p.0).collect();
    check("all payments", &all);
    // The move scales with each payment's own exposure: short and long halves alike.
    let mut taus: Vec<f64> = z.iter().map(|p| p.1).collect();
    taus.sort_by(f64::total_cmp);
    let median = taus[taus.len() / 2];
    println!(
        "exposure: median {:.1} min, range {:.1}–{:.1} min",
        median * 1440.0,
        taus[0] * 1440.0,
        taus[taus.len() - 1] * 1440.0
    );
    let short: Vec<f64> = z.iter().filter(|p| p.1 < median).map(|p| p.0).collect();
    let long: Vec<f64> = z.iter().filter(|p| p.1 >= median).map(|p| p.0).collect();
    check("shorter half", &short);
    check("longer half", &long);
    // Kolmogorov–Smirnov against N(0, 1): the critical value at α = 0.001 is 1.949/√n.
    let mut sorted = all.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let d = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = phi(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    let critical = 1.949 / n.sqrt();
    println!("KS: D = {d:.4}, critical {critical:.4} (α = 0.001)");
    assert!(d < critical, "KS D = {d} ≥ {critical}");
}

/// A rail whose asset's price never moves has no exposure and no price move.
#[test]
fn a_fixed_price_has_no_price_move() {
    for r in run(&["rails[0].asset_daily_vol_bps=0", "duration=5d"]) {
        assert_eq!(
            (r.cost.price_move, r.ramp_price_move_cents, r.exposed_us),
            (0, 0, None)
        );
    }
}

/// With `price_risk = "ramp"` the customer gets the purchase price's proceeds and the ramp the move: the same
/// payments (prices do not change timing) with the same moves, booked to the other side, exactly.
#[test]
fn the_ramp_bears_the_same_moves_when_the_scenario_says_so() {
    let o = ["duration=10d", "seed=3"];
    let customer = run(&o);
    let ramp = run(&[o[0], o[1], "rails[0].price_risk=\"ramp\""]);
    assert_eq!(customer.len(), ramp.len());
    let mut moved = 0;
    for (c, r) in customer.iter().zip(&ramp) {
        assert_eq!(
            (c.demand_id, c.exposed_us, c.ended_us),
            (r.demand_id, r.exposed_us, r.ended_us)
        );
        assert_eq!(r.cost.price_move, 0);
        assert_eq!(c.ramp_price_move_cents, 0);
        assert_eq!(
            r.ramp_price_move_cents, c.cost.price_move,
            "payment {}",
            c.id
        );
        // What the customer lost (or gained) to the price is what the ramp delivered beyond (short of) it.
        assert_eq!(r.delivered_minor - c.delivered_minor, c.cost.price_move);
        // Sent less delivered is the cost split, to the cent's rounding of each valuation.
        for x in [c, r] {
            let residual = x.amount_usd_cents - x.delivered_minor - x.cost.total();
            assert!(residual.abs() <= 1, "payment {}: {residual}", x.id);
        }
        moved += (c.cost.price_move != 0) as usize;
    }
    assert!(
        moved * 10 > customer.len() * 9,
        "{moved} of {} moved",
        customer.len()
    );
}
