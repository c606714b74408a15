//! Validity against theory: a corridor configured as a single-server queue (Poisson arrivals, one bank with no
//! delay, a last-mile rail of capacity μ) must reproduce the queueing formulas for the mean time in system.

mod common;

use settlesim::model::record::Status;

/// Mean sojourn time over `reps` independent replications (seeds), with a 99% confidence half-width.
fn mean_sojourn(service: &str, lambda_per_s: f64, reps: u64) -> (f64, f64) {
    let rate = format!("corridors[0].payments_per_day={}", lambda_per_s * 86_400.0);
    let service = format!("domestic_rails[1].service=\"{service}\"");
    let means: Vec<f64> = (0..reps)
        .map(|seed| {
            let seed = format!("seed={}", 100 + seed);
            let run = common::run(&[
                "duration=1d",
                "limits.drain=1d",
                &seed,
                &rate,
                &service,
                "domestic_rails[1].capacity_per_s=1",
                "banks[0].calendar=\"always\"",
                "banks[0].processing={}",
                "banks[0].send_fee_usd=0",
                "corridors[0].routes[0].path=[\"a\"]",
                "corridors[0].routes[0].last_mile=\"instant\"",
            ]);
            let settled: Vec<f64> = run
                .records
                .iter()
                .filter(|r| r.status == Status::Settled)
                .map(|r| r.latency_us().unwrap() as f64 / 1e6)
                .collect();
            assert_eq!(settled.len(), run.records.len());
            settled.iter().sum::<f64>() / settled.len() as f64
        })
        .collect();
    let n = means.len() as f64;
    let m = means.iter().sum::<f64>() / n;
    let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    // Student t, 99%, 9 degrees of freedom.
    (m, 3.250 * (var / n).sqrt())
}

#[test]
fn mm1_mean_time_in_system() {
    // M/M/1 with λ = 0.5/s, μ = 1/s: W = 1/(μ − λ) = 2 s.
    let (m, hw) = mean_sojourn("exp", 0.5, 10);
    eprintln!("M/M/1: simulated W = {m:.4} ± {hw:.4} s, theory 2.0000 s");
    assert!(
        (m - 2.0).abs() <= hw,
        "theory outside the 99% CI: {m} ± {hw}"
    );
    assert!(
        hw < 0.1,
        "the interval should be tight enough to mean something: ± {hw}"
    );
}

#[test]
fn md1_mean_time_in_system() {
    // M/D/1 with λ = 0.5/s, service 1 s: W = 1/μ + ρ/(2μ(1 − ρ)) = 1.5 s (Pollaczek–Khinchine).
    let (m, hw) = mean_sojourn("fixed", 0.5, 10);
    eprintln!("M/D/1: simulated W = {m:.4} ± {hw:.4} s, theory 1.5000 s");
    assert!(
        (m - 1.5).abs() <= hw,
        "theory outside the 99% CI: {m} ± {hw}"
    );
    assert!(hw < 0.1);
}
