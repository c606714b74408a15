//! Liquidity, the cost of capital and settlement risk (issue 14), checked against the ledger, by hand and by
//! theory:
//! - the balances over time are the ledger's: on a scenario where every posting is known from the payment
//!   records, a nostro's integral, end balance, peak and minimum, and the funds in transit, come out exactly;
//! - Little's law for funds in transit: mean float = value throughput × mean time in transit, within Monte Carlo
//!   error (the gap is the covariance of amount and time in transit);
//! - the cost of capital allocated to the payments adds up to the cost of the positions they used;
//! - a PvP rail has no FX settlement exposure, by construction, and the same platform without PvP does.
//!
//! The hand-computed two-payment allocation is a unit test in `src/model/sim/capital.rs`.

mod common;

use settlesim::model::record::{PaymentRecord, Status};
use settlesim::model::sim::Outcome;
use settlesim::model::sim::capital::PositionKind;
use settlesim::scenario::Loaded;

/// USD → USD over a sender's nostro at its correspondent: both banks always open, no processing, no fees, no
/// top-up, so the nostro is debited exactly when a payment is created and the payment's funds are in transit, at
/// their full amount, from its creation to its credit (an exponential message delay).
const EXACT: &str = r#"
name = "exact"
start = "2026-03-02T00:00:00Z"
duration = "10d"
seed = 3

[limits]
drain = "30d"

[calendars.always]
zone = "UTC"
always_open = true

[[banks]]
id = "a"
country = "US"
calendar = "always"

[[banks]]
id = "b"
country = "US"
calendar = "always"

[[nostros]]
owner = "a"
at = "b"
currency = "USD"
balance = 1000000000
topup = "none"

[[rails]]
id = "wire"
kind = "correspondent"
charge_bearer = "OUR"
message_delay = { mean = "6h" }

[[corridors]]
id = "US-US"
from_country = "US"
to_country = "US"
source_currency = "USD"
dest_currency = "USD"
payments_per_day = 300
amount = { median = 1500, sigma = 1.2, min = 20, max = 2000000 }

[[corridors.routes]]
rail = "wire"
path = ["a", "b"]

[rates]
USD = 3.65
"#;

fn load(name: &str, text: &str, overrides: &[&str]) -> Loaded {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    settlesim::scenario::load(name, text, &o).expect("loads")
}

fn run(loaded: &Loaded) -> (Outcome, Vec<PaymentRecord>) {
    common::records_of(&loaded.world)
}

/// A position's days: (integral, peak, min) over the whole run.
fn whole_run(o: &Outcome, kind: PositionKind) -> (i128, i64, i64, usize) {
    let l = &o.liquidity;
    let p = l
        .positions
        .iter()
        .position(|p| p.kind == kind)
        .expect("the position exists");
    let days: Vec<_> = l.days.iter().filter(|d| d.position as usize == p).collect();
    let integral = days.iter().map(|d| d.figures.integral).sum();
    let peak = days.iter().map(|d| d.figures.peak.minor).max().unwrap();
    let min = days.iter().map(|d| d.figures.min.minor).min().unwrap();
    (integral, peak, min, p)
}

#[test]
fn balances_over_time_are_the_ledgers_exactly() {
    let loaded = load("exact.toml", EXACT, &[]);
    let (o, records) = run(&loaded);
    assert!(records.len() > 2_000, "{} payments", records.len());
    assert!(records.iter().all(|r| r.status == Status::Settled));
    let end = o.end_us as i128;
    // The days cover the run without gap or overlap.
    let l = &o.liquidity;
    let covered: u64 = l
        .days
        .iter()
        .filter(|d| d.position == 0)
        .map(|d| d.figures.len_us)
        .sum();
    assert_eq!(covered, o.end_us);
    let opening: i64 = 100_000_000_000;
    let sum: i64 = records.iter().map(|r| r.amount_minor).sum();
    let (integral, peak, min, p) = whole_run(&o, PositionKind::Nostro);
    // ∫ balance dt = opening × T − Σ amount × (T − created): each payment draws the nostro when it is created.
    let expected: i128 = opening as i128 * end
        - records
            .iter()
            .map(|r| r.amount_minor as i128 * (end - r.created_us as i128))
            .sum::<i128>();
    assert_eq!(integral, expected);
    assert_eq!(l.end_minor[p], opening - sum, "end = opening + postings");
    assert_eq!(peak, opening);
    assert_eq!(min, opening - sum);
    // Funds in transit: each payment's amount from its creation to its credit.
    let (transit, _, transit_min, t) = whole_run(&o, PositionKind::InTransit);
    let float: i128 = records
        .iter()
        .map(|r| r.amount_minor as i128 * r.latency_us().unwrap() as i128)
        .sum();
    assert_eq!(transit, float);
    assert_eq!(transit_min, 0);
    assert_eq!(l.end_minor[t], 0, "nothing in transit once drained");
}

/// Little's law for the float: over a run that starts and ends empty, mean float L = λ·W̄ + cov(amount, time)·n/T
/// exactly; with amounts independent of times the covariance term is Monte Carlo noise, bounded here at four of
/// its standard errors.
#[test]
fn littles_law_holds_for_funds_in_transit() {
    for seed in [3, 11] {
        let seed_arg = format!("seed={seed}");
        let loaded = load("exact.toml", EXACT, &[&seed_arg]);
        let (o, records) = run(&loaded);
        let t = o.end_us as f64;
        let (integral, _, _, _) = whole_run(&o, PositionKind::InTransit);
        let l = integral as f64 / t;
        let n = records.len() as f64;
        let a: Vec<f64> = records.iter().map(|r| r.amount_minor as f64).collect();
        let w: Vec<f64> = records
            .iter()
            .map(|r| r.latency_us().unwrap() as f64)
            .collect();
        let (a_mean, w_mean) = (a.iter().sum::<f64>() / n, w.iter().sum::<f64>() / n);
        let lambda = a.iter().sum::<f64>() / t;
        let d: Vec<f64> = a
            .iter()
            .zip(&w)
            .map(|(x, y)| (x - a_mean) * (y - w_mean))
            .collect();
        let d_mean = d.iter().sum::<f64>() / n;
        let sd = (d.iter().map(|x| (x - d_mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd * n.sqrt() / t;
        let gap = l - lambda * w_mean;
        println!(
            "seed {seed}: L {:.0} USD, λW {:.0} USD, gap {:.0} ({:.2} SE)",
            l / 100.0,
            lambda * w_mean / 100.0,
            gap / 100.0,
            gap / se
        );
        assert!(gap.abs() <= 4.0 * se, "gap {gap} vs SE {se}");
        // The exact form: L·T = Σ amount × time.
        assert!((l * t - a.iter().zip(&w).map(|(x, y)| x * y).sum::<f64>()).abs() <= 1e-9 * l * t);
    }
}

/// What the payments are charged for capital is what their positions cost: allocated + idle = the positions'
/// cost over the demand window (to the cent per payment), and every payment that used capital pays something.
#[test]
fn the_cost_of_capital_is_allocated_in_full() {
    let loaded = load("exact.toml", EXACT, &[]);
    let (o, records) = run(&loaded);
    let l = &o.liquidity;
    let cost: f64 = l.window.iter().map(|f| f.cost_usd).sum();
    let idle: f64 = l.idle_cost_usd.iter().sum();
    let allocated: f64 = records
        .iter()
        .map(|r| r.cost.liquidity as f64 / 100.0)
        .sum();
    assert!(cost > 0.0);
    assert!(
        (allocated + idle - cost).abs() <= 0.005 * records.len() as f64 + 1e-6,
        "allocated {allocated} + idle {idle} vs {cost}"
    );
    // $1 bn at 3.65% is $100,000 a day: over 10 days about $1 M, most of it the nostro's.
    assert!((cost - 1.0e6).abs() < 0.02e6, "{cost}");
    // Every payment shares the cost of the hours it was in flight; only small, quick ones round to 0 cents.
    let zero = records.iter().filter(|r| r.cost.liquidity == 0).count();
    assert!(zero * 100 < records.len(), "{zero} at 0");
    // Larger payments bear more: the rule is pro rata amount × time.
    let big = records.iter().max_by_key(|r| r.amount_minor).unwrap();
    let small = records.iter().min_by_key(|r| r.amount_minor).unwrap();
    assert!(big.cost.liquidity > small.cost.liquidity);
    // Without [rates] nothing is charged.
    let free = EXACT.replace("[rates]\nUSD = 3.65\n", "");
    let (o, records) = run(&load("free.toml", &free, &[]));
    assert!(records.iter().all(|r| r.cost.liquidity == 0));
    assert!(!o.liquidity.rates);
}

const CLAIMS: &str = include_str!("../scenarios/claims.toml");

/// The multi-CBDC platform settles FX payment versus payment: the commit that delivers the transfer delivers
/// the destination currency, so no payment is ever exposed, while SWIFT and the ramps' rails are; the same
/// platform without PvP is exposed too.
#[test]
fn a_pvp_rail_has_no_fx_settlement_exposure() {
    let overrides = ["duration=3d", "limits.drain=5d"];
    let loaded = load("claims.toml", CLAIMS, &overrides);
    let cbdc = loaded
        .world
        .rails
        .iter()
        .position(|r| r.name == "cbdc")
        .unwrap();
    let (o, records) = run(&loaded);
    for x in &o.fx_exposure {
        let name = &loaded.world.rails[x.rail.idx()].name;
        if x.rail.idx() == cbdc {
            assert_eq!((x.usd_cents_us, x.peak_usd_cents), (0, 0), "{name}");
            assert!(x.payments > 100, "the platform's payments were converted");
        } else {
            assert!(x.usd_cents_us > 0 && x.peak_usd_cents > 0, "{name}");
        }
    }
    let exposures: Vec<u64> = records
        .iter()
        .filter(|r| r.rail.idx() == cbdc)
        .filter_map(|r| r.fx_exposure_us)
        .collect();
    assert!(exposures.len() > 100 && exposures.iter().all(|&us| us == 0));
    let not_pvp = format!("rails[{cbdc}].pvp=false");
    let mut overrides = overrides.to_vec();
    overrides.push(&not_pvp);
    let (o, _) = run(&load("claims.toml", CLAIMS, &overrides));
    let x = o.fx_exposure.iter().find(|x| x.rail.idx() == cbdc).unwrap();
    assert!(x.usd_cents_us > 0 && x.peak_usd_cents > 0);
}

/// FX settlement exposure opens when the value reaches the bank that converts: here the receiver, paid by the hop
/// from the sender, which sends at creation (both banks always open, no processing). It converts and credits on
/// arrival, so each payment is exposed for exactly its latency, and the rail's integral is Σ amount × latency (a
/// USD amount is its own value in cents).
#[test]
fn fx_exposure_runs_from_the_hop_into_the_converting_bank_to_its_conversion() {
    let text = EXACT
        .replacen(
            "id = \"b\"\ncountry = \"US\"",
            "id = \"b\"\ncountry = \"MX\"",
            1,
        )
        .replace("to_country = \"US\"", "to_country = \"MX\"")
        .replace("dest_currency = \"USD\"", "dest_currency = \"MXN\"")
        .replace(
            "path = [\"a\", \"b\"]",
            "path = [\"a\", \"b\"]\nconvert_at = \"b\"",
        )
        + "MXN = 10.0\n\n[[fx]]\npair = \"USD/MXN\"\nmid = 17.2\ndaily_vol_bps = 0\n";
    let loaded = load("exact-mxn.toml", &text, &[]);
    let (o, records) = run(&loaded);
    assert!(records.len() > 2_000, "{} payments", records.len());
    for r in &records {
        assert_eq!(r.status, Status::Settled);
        assert_eq!(r.fx_exposure_us, r.latency_us(), "payment {}", r.id);
    }
    let x = &o.fx_exposure[0];
    let want: u128 = records
        .iter()
        .map(|r| r.amount_minor as u128 * r.latency_us().unwrap() as u128)
        .sum();
    assert_eq!(x.usd_cents_us, want);
    assert_eq!(x.payments, records.len() as u64);
}

/// The flagship's positions: every rail ties up pre-funded liquidity, funds in transit are positive, and the
/// receiving banks' collection accounts are reported but never charged.
#[test]
fn the_flagship_reports_every_rails_positions() {
    let loaded = load("claims.toml", CLAIMS, &["duration=3d", "limits.drain=5d"]);
    let (o, records) = run(&loaded);
    let l = &o.liquidity;
    for (r, rail) in loaded.world.rails.iter().enumerate() {
        let fig = l.rail(settlesim::model::world::RailId(r as u16));
        assert!(fig.prefunded_mean_usd > 0.0, "{}", rail.name);
        assert!(fig.in_transit_mean_usd > 0.0, "{}", rail.name);
        assert!(fig.cost_usd > 0.0, "{}", rail.name);
    }
    for (i, p) in l.positions.iter().enumerate() {
        if p.kind == PositionKind::Collection {
            assert_eq!(l.window[i].cost_usd, 0.0, "{}", p.account);
        }
    }
    // Payments that take hours or days are charged a share; the seconds-long rails (the instant link, the wallet
    // ledger) are charged at the rail level but most of their payments' shares round below a cent, and the link
    // refuses payments over its limit before they use any position.
    let slow: Vec<_> = records
        .iter()
        .filter(|r| {
            let name = &loaded.world.rails[r.rail.idx()].name;
            name != "ips_link" && name != "wallet_ledger"
        })
        .collect();
    let charged = slow.iter().filter(|r| r.cost.liquidity > 0).count();
    assert!(charged * 10 > slow.len() * 9, "{charged} of {}", slow.len());
}
