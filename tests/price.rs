//! The intraday price process against its theory (issue 9, item 3): the log value of geometric Brownian motion
//! changes by σ²h in variance over h, with jumps by λh(μ² + s²) more; the value is a martingale; the peg
//! deviation of a stablecoin has its stationary variance and its half-life; and a path is a pure function of
//! (seed, label, second): the order and number of queries never change it.
//!
//! Each statistical check compares an estimate with the theory in units of its own Monte Carlo standard error
//! (the sample's fourth moment, so heavy jump tails widen the band honestly) and fails beyond 4 standard errors
//! (two-sided p ≈ 6·10⁻⁵ for each check, seeds fixed).

use settlesim::model::price::{CELL_S, Jumps, Peg, PricePath, PriceSpec};

const DAY_S: u64 = 86_400;
const Z_MAX: f64 = 4.0;

/// Mean and Monte Carlo standard error of the mean of `xs`.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Checks that `estimate ± se` covers `theory` within `Z_MAX` standard errors.
fn check(what: &str, estimate: f64, se: f64, theory: f64) {
    let z = (estimate - theory) / se;
    println!("{what}: {estimate:.6e} ± {se:.2e} (theory {theory:.6e}, z = {z:+.2})");
    assert!(
        z.abs() < Z_MAX,
        "{what}: estimate {estimate:e} ± {se:e} against theory {theory:e} (z = {z:.2})"
    );
}

/// Log increments over `h` seconds, net of the compensator drift, from non-overlapping windows of paths built
/// with seeds 1..=`paths`; each window starts at an offset that is not a grid point, so the bridge is exercised.
fn increments(spec: &PriceSpec, h: u64, horizon_s: u64, paths: u64) -> Vec<f64> {
    let mut out = Vec::new();
    for seed in 1..=paths {
        let path = PricePath::build(spec, horizon_s, seed, "test/price");
        assert_eq!(path.log_value(0), spec.value_usd.ln(), "opens at its value");
        let mut t = 13 + seed % 29;
        while t + h <= horizon_s {
            out.push(path.log_value(t + h) - path.log_value(t));
            t += h + 7;
        }
    }
    out
}

fn gbm(daily_vol: f64) -> PriceSpec {
    PriceSpec {
        value_usd: 60_000.0,
        daily_vol,
        jumps: None,
        peg: None,
    }
}

/// Realised variance of log changes over one second, 37 s (across a cell edge), an hour and a day: σ²h.
#[test]
fn realised_variance_over_h_is_sigma_squared_h() {
    let spec = gbm(0.03);
    let var_per_s = 0.03_f64.powi(2) / DAY_S as f64;
    for (h, horizon, paths) in [
        (1, 2 * DAY_S, 2),
        (37, 4 * DAY_S, 2),
        (3_600, 60 * DAY_S, 3),
        (DAY_S, 60 * DAY_S, 40),
    ] {
        let xs = increments(&spec, h, horizon, paths);
        // E[Δ] = −σ²h/2 (the compensator): take squares about the known mean.
        let mu = -var_per_s * h as f64 / 2.0;
        let sq: Vec<f64> = xs.iter().map(|x| (x - mu).powi(2)).collect();
        let (v, se) = mean_se(&sq);
        check(
            &format!("GBM variance over {h} s (n = {})", xs.len()),
            v,
            se,
            var_per_s * h as f64,
        );
    }
}

/// The value is a martingale: E[v(t+h) / v(t)] = 1, jumps included (their compensator is in the drift).
#[test]
fn value_is_a_martingale() {
    let spec = PriceSpec {
        jumps: Some(Jumps {
            per_day: 4.0,
            mean_log: -0.01,
            sd_log: 0.03,
        }),
        ..gbm(0.04)
    };
    let ratios: Vec<f64> = increments(&spec, 6 * 3_600, 60 * DAY_S, 20)
        .iter()
        .map(|x| x.exp())
        .collect();
    let (m, se) = mean_se(&ratios);
    check("E[v(t+6h)/v(t)]", m, se, 1.0);
}

/// With jumps the variance over h adds λh(μ_J² + s_J²) (compound Poisson), net of the compensator's mean.
#[test]
fn jumps_add_their_variance() {
    let j = Jumps {
        per_day: 2.0,
        mean_log: 0.005,
        sd_log: 0.03,
    };
    let spec = PriceSpec {
        jumps: Some(j),
        ..gbm(0.02)
    };
    let h = DAY_S / 4;
    let hd = h as f64 / DAY_S as f64;
    let xs = increments(&spec, h, 60 * DAY_S, 40);
    let theory = 0.02_f64.powi(2) * hd + j.per_day * hd * (j.mean_log.powi(2) + j.sd_log.powi(2));
    let (m, _) = mean_se(&xs);
    let sq: Vec<f64> = xs.iter().map(|x| (x - m).powi(2)).collect();
    let (v, se) = mean_se(&sq);
    check(
        &format!("GBM + jumps variance over 6 h (n = {})", xs.len()),
        v,
        se,
        theory,
    );
    // The jumps themselves: about λ·horizon of them, with the configured mean size.
    let path = PricePath::build(&spec, 60 * DAY_S, 1, "test/price");
    let n = path.jump_sizes().count() as f64;
    check("jump count in 60 days", n, (120.0_f64).sqrt(), 120.0);
}

/// The peg deviation (OU) has its stationary variance s², and correlation ½ at a lag of one half-life.
#[test]
fn peg_deviation_is_stationary_with_its_half_life() {
    let peg = Peg {
        sd_log: 5e-4,
        half_life_s: 3_600.0,
    };
    let spec = PriceSpec {
        value_usd: 1.0,
        daily_vol: 0.0,
        jumps: None,
        peg: Some(peg),
    };
    let (mut level, mut pairs) = (Vec::new(), Vec::new());
    for seed in 1..=12 {
        let path = PricePath::build(&spec, 60 * DAY_S, seed, "test/peg");
        // Samples 12 h apart (correlation 2^-12): as good as independent.
        let mut t = 5 + seed;
        while t + 3_600 <= 60 * DAY_S {
            let d = path.log_value(t);
            level.push(d * d);
            pairs.push((d, path.log_value(t + 3_600)));
            t += DAY_S / 2;
        }
    }
    let (v, se) = mean_se(&level);
    check(
        &format!("OU stationary variance (n = {})", level.len()),
        v,
        se,
        peg.sd_log.powi(2),
    );
    let products: Vec<f64> = pairs.iter().map(|(a, b)| a * b).collect();
    let (c, se) = mean_se(&products);
    check(
        "OU autocovariance at one half-life",
        c,
        se,
        peg.sd_log.powi(2) / 2.0,
    );
    // And one second apart inside a cell: Var(X(t+1) − X(t)) = 2s²(1 − e^(−κ·1s)) through the bridge.
    let kappa = std::f64::consts::LN_2 / peg.half_life_s;
    let path = PricePath::build(&spec, 10 * DAY_S, 99, "test/peg");
    let steps: Vec<f64> = (0..10 * DAY_S - 1)
        .step_by(3)
        .map(|t| (path.log_value(t + 1) - path.log_value(t)).powi(2))
        .collect();
    let (v, se) = mean_se(&steps);
    let theory = 2.0 * peg.sd_log.powi(2) * (1.0 - (-kappa).exp());
    check("OU one-second variance", v, se, theory);
}

/// A path is a pure function of (seed, label, second): queries in any order, any number of times, from any
/// copy, give the same values; another seed or label gives another path; the configured value opens it.
#[test]
fn a_path_does_not_depend_on_its_queries() {
    let spec = PriceSpec {
        jumps: Some(Jumps {
            per_day: 3.0,
            mean_log: 0.0,
            sd_log: 0.02,
        }),
        peg: Some(Peg {
            sd_log: 1e-3,
            half_life_s: 600.0,
        }),
        ..gbm(0.03)
    };
    let horizon = 5 * DAY_S;
    let a = PricePath::build(&spec, horizon, 7, "fx/BTC");
    let b = PricePath::build(&spec, horizon, 7, "fx/BTC");
    let times: Vec<u64> = (0..5_000).map(|k| (k * 7_919 + 13) % horizon).collect();
    let forward: Vec<f64> = times.iter().map(|&t| a.log_value(t)).collect();
    let mut backward: Vec<f64> = times.iter().rev().map(|&t| b.log_value(t)).collect();
    backward.reverse();
    assert_eq!(forward, backward);
    // Asking many other times first changes nothing.
    for t in 0..horizon / 100 {
        a.log_value(t * 100 + 1);
    }
    assert_eq!(
        forward,
        times.iter().map(|&t| a.log_value(t)).collect::<Vec<_>>()
    );
    // Every second inside a cell is resolved, each to its own value.
    let cell: Vec<f64> = (0..=CELL_S).map(|t| a.log_value(CELL_S * 10 + t)).collect();
    assert!(cell.windows(2).all(|w| w[0] != w[1]));
    // Microseconds within one second share its price.
    assert_eq!(a.log_value_us(3_000_000), a.log_value_us(3_999_999));
    // Another seed or label: another path; the opening value is the configured one.
    let c = PricePath::build(&spec, horizon, 8, "fx/BTC");
    let d = PricePath::build(&spec, horizon, 7, "fx/ETH");
    assert_ne!(a.log_value(3_600), c.log_value(3_600));
    assert_ne!(a.log_value(3_600), d.log_value(3_600));
    let opening = PricePath::build(&gbm(0.03), horizon, 7, "fx/BTC");
    assert_eq!(opening.log_value(0), 60_000f64.ln());
    // Past the horizon the last second holds.
    assert_eq!(a.log_value(horizon), a.log_value(horizon + 10_000));
}

/// Paths are keyed by currency code, not position: adding a currency leaves every other currency's rate at
/// every second as it was (tests/streams.rs does the same for rails and banks).
#[test]
fn adding_a_currency_shifts_no_other_path() {
    use settlesim::model::fx::{CurId, FxTable, RateSpec};
    use settlesim::units::Currency;
    let moving = |code: &str, per_usd: f64, daily_vol: f64| RateSpec {
        currency: Currency::from_code(code)
            .or_else(|| Currency::asset(code, 8))
            .unwrap(),
        per_usd,
        process: PriceSpec {
            daily_vol,
            ..PriceSpec::default()
        },
    };
    let usd = || RateSpec::fixed(Currency::usd(), 1.0);
    let a = FxTable::build(&[usd(), moving("EUR", 0.9, 0.005)], 3, 42);
    let b = FxTable::build(
        &[
            usd(),
            moving("BTC", 1.0 / 60_000.0, 0.03),
            moving("EUR", 0.9, 0.005),
        ],
        3,
        42,
    );
    let (eur_a, eur_b) = (CurId(1), CurId(2));
    for t in (0..3 * DAY_S).step_by(997) {
        let us = t * 1_000_000;
        assert_eq!(
            a.mid_f64(CurId(0), eur_a, us),
            b.mid_f64(CurId(0), eur_b, us),
            "second {t}"
        );
    }
}
