//! Stations against queueing theory: a domestic rail with `servers = c` and a bank desk with c clerks, fed by
//! Poisson demand with exponential service, must reproduce Erlang C (the mean wait in queue and the probability
//! of waiting) — and every station's own queue-length integral must satisfy Little's law.
//!
//! Tolerance: each check runs `REPS` independent replications (seeds) and compares the theory with the
//! replications' mean ± a 99% Student-t half-width (t(0.995, 9) = 3.250) — the Monte Carlo error of the run,
//! nothing tuned. Each run starts empty; the warm-up bias is small against the interval over 12 simulated
//! hours at these loads (relaxation times of minutes), and a test also requires the interval to be tight
//! (under 10% of the theoretical value) so that passing means something.

mod common;

use settlesim::model::sim::StationOutcome;
use settlesim::model::station::erlang_c;

const REPS: u64 = 10;
const T_99_9DF: f64 = 3.250;

fn station<'a>(run: &'a common::Run, name: &str) -> &'a StationOutcome {
    run.outcome
        .stations
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no station {name}"))
}

/// Mean and 99% half-width of per-replication values.
fn mean_hw(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, T_99_9DF * (var / n).sqrt())
}

/// Runs `REPS` replications of an M/M/c station (λ = ρ·c per second, μ = 1 per second per server) and returns
/// (mean wait in seconds, P(wait > 0)), each as (mean, half-width).
fn mmc(c: u32, rho: f64, desk: bool) -> ((f64, f64), (f64, f64)) {
    let lambda = rho * c as f64;
    let rate = format!("corridors[0].payments_per_day={}", lambda * 86_400.0);
    let mut waits = Vec::new();
    let mut shares = Vec::new();
    for rep in 0..REPS {
        let seed = format!("seed={}", 500 + rep);
        let mut o: Vec<String> = vec![
            "duration=12h".into(),
            "limits.drain=1d".into(),
            seed,
            rate.clone(),
            "banks[0].calendar=\"always\"".into(),
            "banks[0].send_fee_usd=0".into(),
            "corridors[0].routes[0].path=[\"a\"]".into(),
            "corridors[0].routes[0].last_mile=\"instant\"".into(),
        ];
        if desk {
            o.push(format!("banks[0].processing_staff={c}"));
            o.push("banks[0].processing={ mean = \"1s\" }".into());
            o.push("domestic_rails[1].capacity_per_s=1000000".into());
        } else {
            o.push("banks[0].processing={}".into());
            o.push(format!("domestic_rails[1].servers={c}"));
            o.push("domestic_rails[1].service=\"exp\"".into());
            o.push(format!("domestic_rails[1].capacity_per_s={c}"));
        }
        let refs: Vec<&str> = o.iter().map(String::as_str).collect();
        let run = common::run(&refs);
        let name = if desk {
            "bank/a/processing"
        } else {
            "domestic/instant"
        };
        let s = &station(&run, name).stats;
        assert_eq!(s.started, s.arrivals, "every payment was served");
        waits.push(s.wait_us_sum as f64 / 1e6 / s.started as f64);
        shares.push(s.waited as f64 / s.started as f64);
    }
    (mean_hw(&waits), mean_hw(&shares))
}

fn check(c: u32, rho: f64, desk: bool) {
    let (p_theory, w_theory) = erlang_c(c, rho * c as f64);
    let ((w, w_hw), (p, p_hw)) = mmc(c, rho, desk);
    let what = if desk { "desk" } else { "rail" };
    eprintln!(
        "M/M/{c} {what} rho={rho}: Wq = {w:.4} ± {w_hw:.4} s (Erlang C {w_theory:.4}); \
         P(wait) = {p:.4} ± {p_hw:.4} (Erlang C {p_theory:.4})"
    );
    assert!(
        (w - w_theory).abs() <= w_hw,
        "mean wait {w} ± {w_hw} vs Erlang C {w_theory}"
    );
    assert!(
        (p - p_theory).abs() <= p_hw,
        "P(wait) {p} ± {p_hw} vs Erlang C {p_theory}"
    );
    assert!(
        w_hw < 0.1 * w_theory && p_hw < 0.1 * p_theory,
        "interval too wide to mean anything"
    );
}

#[test]
fn rail_m_m_2_at_half_load_matches_erlang_c() {
    check(2, 0.5, false);
}

#[test]
fn rail_m_m_4_at_0_8_matches_erlang_c() {
    check(4, 0.8, false);
}

#[test]
fn rail_m_m_4_at_0_9_matches_erlang_c() {
    // The case one fast server gets wrong: its time in system is 2.49 s where Erlang C gives Wq + 1/μ = 2.97 s.
    check(4, 0.9, false);
}

#[test]
fn desk_m_m_3_at_0_9_matches_erlang_c() {
    check(3, 0.9, true);
}

#[test]
fn little_law_holds_at_every_station_of_a_busy_week() {
    // New York hours, one clerk at each desk of the first bank and repairs: a real weekday backlog. Drained, so
    // every payment queued inside the window also left it.
    let run = common::run(&[
        "banks[0].processing_staff=1",
        "banks[0].processing={ mean = \"1m\" }",
        "banks[0].stp_rate=0.8",
        "banks[0].repair={ mean = \"20m\" }",
        "banks[0].repair_staff=2",
        "domestic_rails[1].servers=2",
    ]);
    let mut seen = 0;
    for s in &run.outcome.stations {
        let l = s.stats.little(run.outcome.end_us, s.servers);
        if s.stats.arrivals == 0 {
            continue;
        }
        seen += 1;
        eprintln!(
            "{}: L = {:.6}, λW = {:.6}, waited {:.3}",
            s.name, l.queue_len_mean, l.lambda_w, l.wait_share
        );
        assert_eq!(s.stats.queued(), 0);
        // The share of the payments started here that waited for a server.
        let share = s.stats.waited as f64 / s.stats.started.max(1) as f64;
        assert!(
            (l.wait_share - share).abs() <= 1e-12,
            "{}: waited share {}",
            s.name,
            l.wait_share
        );
        assert!(
            (l.queue_len_mean - l.lambda_w).abs() <= 1e-9 * l.lambda_w.max(1e-12),
            "{}: L {} vs λW {}",
            s.name,
            l.queue_len_mean,
            l.lambda_w
        );
    }
    assert!(seen >= 2);
    let desk = station(&run, "bank/a/processing");
    assert!(
        desk.stats.waited > 0,
        "one clerk at 500 payments a day, bunched at the opening, makes a queue"
    );
}

#[test]
fn a_monday_backlog_builds_at_a_staffed_desk_and_not_at_an_unlimited_one() {
    // Payments created over the weekend all reach bank a at Monday's opening. Unlimited: each is processed in
    // a minute. One clerk: they queue, so the mean processing-desk wait is many minutes.
    let base = ["duration=7d", "banks[0].processing={ fixed = \"1m\" }"];
    let unlimited = common::run(&base);
    let staffed = common::run(&[base[0], base[1], "banks[0].processing_staff=1"]);
    assert!(
        !unlimited
            .outcome
            .stations
            .iter()
            .any(|s| s.name == "bank/a/processing"),
        "an unlimited desk is a pure delay, not a station"
    );
    let s = &station(&staffed, "bank/a/processing").stats;
    let w = s.wait_us_sum as f64 / 1e6 / s.started as f64;
    assert!(w > 60.0, "mean wait {w} s");
    let lat = |r: &common::Run| {
        r.records
            .iter()
            .filter_map(|p| p.latency_us())
            .map(|x| x as f64)
            .sum::<f64>()
            / r.records.len() as f64
    };
    assert!(lat(&staffed) > lat(&unlimited));
}

#[test]
fn priority_by_amount_serves_large_payments_first() {
    // One clerk, a loaded desk: under "amount" order the largest payments wait less than the smallest.
    let o = [
        "banks[0].processing_staff=1",
        "banks[0].processing={ mean = \"2m\" }",
        "banks[0].desk_order=\"amount\"",
        "corridors[0].amount={ median = 1000, sigma = 1.5 }",
    ];
    let run = common::run(&o);
    let mut rows: Vec<(i64, u64)> = run
        .records
        .iter()
        .filter_map(|r| Some((r.amount_minor, r.latency_us()?)))
        .collect();
    rows.sort();
    let q = rows.len() / 4;
    let mean = |xs: &[(i64, u64)]| xs.iter().map(|x| x.1 as f64).sum::<f64>() / xs.len() as f64;
    let small = mean(&rows[..q]);
    let large = mean(&rows[rows.len() - q..]);
    assert!(large < small, "large {large} vs small {small}");
}
