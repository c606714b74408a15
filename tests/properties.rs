//! Property tests on random small scenarios: money is conserved (the run's own ledger check passes) and no
//! payment is lost (every id from 0 to n−1 reports exactly once, settled, returned, failed or in flight).

mod common;

use proptest::prelude::*;
use settlesim::model::record::PaymentRecord;
use settlesim::model::sim::{self, RunOptions};

/// Every id from 0 to n−1 reports exactly once, and no amount or cost is negative.
fn nothing_lost(records: &mut [PaymentRecord], payments: u64) -> Result<(), TestCaseError> {
    prop_assert_eq!(records.len() as u64, payments);
    records.sort_by_key(|r| r.id);
    for (i, r) in records.iter().enumerate() {
        prop_assert_eq!(r.id, i as u64);
        prop_assert!(r.delivered_minor >= 0 && r.cost.total() >= 0);
    }
    Ok(())
}

fn scenario() -> impl Strategy<Value = Vec<String>> {
    (
        (0u64..1000, prop::sample::select(vec!["OUR", "SHA", "BEN"]), 0.0f64..60.0, 0.0f64..60.0),
        (0.5f64..1.0, 0.0f64..1.0, 0.0f64..1.0, 100.0f64..50_000.0),
        (prop::sample::select(vec!["none", "\"ach\"", "\"instant\""]), any::<bool>(), 10.0f64..2000.0, 0.0f64..3.0),
        (prop::sample::select(vec!["1h", "1d", "3d"]), prop::sample::select(vec!["mirror", "split"])),
    )
        .prop_map(|((seed, bearer, fee_a, fee_b), (stp, hit, reject, balance), (last, always, rate, sigma), (drain, mode))| {
            let mut o = vec![
                format!("seed={seed}"),
                "duration=2d".into(),
                format!("limits.drain={drain}"),
                format!("mode={mode}"),
                format!("rails[0].charge_bearer={bearer}"),
                format!("banks[0].send_fee_usd={fee_a:.2}"),
                format!("banks[1].lifting_fee_usd={fee_b:.2}"),
                format!("banks[1].stp_rate={stp}"),
                "banks[1].repair={ mean = \"2h\" }".into(),
                format!("banks[2].screening={{ hit_rate = {hit}, review = {{ median = \"1h\", p90 = \"5h\" }}, reject_rate = {reject} }}"),
                format!("nostros[0].balance={balance:.2}"),
                format!("corridors[0].payments_per_day={rate}"),
                format!("corridors[0].amount={{ median = 800, sigma = {sigma} }}"),
                format!("calendars.ny.always_open={always}"),
            ];
            if last != "none" {
                o.push(format!("corridors[0].routes[0].last_mile={last}"));
            }
            o
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn money_is_conserved_and_no_payment_is_lost(overrides in scenario()) {
        let loaded = settlesim::scenario::load("base.toml", common::BASE, &overrides)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut records: Vec<PaymentRecord> = Vec::new();
        let result = sim::run(&loaded.world, |r: &PaymentRecord| records.push(r.clone()), &RunOptions::default());
        let (outcome, _) = result.map_err(|e| TestCaseError::fail(format!("{e} with {overrides:?}")))?;
        nothing_lost(&mut records, outcome.payments)?;
    }
}

const STABLECOIN: &str = include_str!("../scenarios/stablecoin-remittance.toml");

/// Random chain-rail variations: confirmations (0 to 6), a proof-of-work chain with forks or the PoS one,
/// duplicate submissions, thin inventories, batches, fee policies.
fn chain_scenario() -> impl Strategy<Value = Vec<String>> {
    (
        (0u64..1000, 0u32..7, any::<bool>(), 0.0f64..0.05),
        (
            1_000.0f64..5_000_000.0,
            100_000.0f64..60_000_000.0,
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(|((seed, confs, pow, dup), (usdt, mxn, batch, market))| {
            let mut o = vec![
                format!("seed={seed}"),
                "duration=1d".into(),
                "limits.drain=3d".into(),
                format!("banks[4].deposit_confirmations={confs}"),
                format!("rails[1].duplicate_rate={dup}"),
                format!("inventories[0].balance={usdt:.2}"),
                format!("inventories[1].balance={mxn:.2}"),
                format!(
                    "rails[1].fee_policy={}",
                    if market { "market" } else { "fixed" }
                ),
            ];
            if batch {
                o.push("banks[3].withdrawal_batch=\"15m\"".into());
            }
            if pow {
                o.extend([
                    "chains[0].consensus=\"nakamoto\"".into(),
                    "chains[0].block_interval=\"1m\"".into(),
                    "chains[0].miners=[1, 1, 1, 1]".into(),
                    "chains[0].propagation={ fixed = \"10s\" }".into(),
                    "chains[0].background.tx_per_s=5".into(),
                ]);
            }
            o
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn chains_ramps_reorgs_and_duplicates_conserve_money(overrides in chain_scenario()) {
        // A proof-of-work variant drops the proof-of-stake parameters its chain does not take.
        let pow = overrides.iter().any(|o| o.contains("nakamoto"));
        let text: String = STABLECOIN
            .lines()
            .filter(|l| !pow || !["slots_per_epoch", "finality_epochs", "missed_slot_rate", "validators"].iter().any(|k| l.starts_with(k)))
            .collect::<Vec<_>>()
            .join("\n");
        let loaded = settlesim::scenario::load("stablecoin.toml", &text, &overrides)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut records: Vec<PaymentRecord> = Vec::new();
        let result = sim::run(&loaded.world, |r: &PaymentRecord| records.push(r.clone()), &RunOptions::default());
        let (outcome, _) = result.map_err(|e| TestCaseError::fail(format!("{e} with {overrides:?}")))?;
        nothing_lost(&mut records, outcome.payments)?;
        // The same inputs give the same records.
        let mut again: Vec<PaymentRecord> = Vec::new();
        let _ = sim::run(&loaded.world, |r: &PaymentRecord| again.push(r.clone()), &RunOptions::default());
        again.sort_by_key(|r| r.id);
        prop_assert_eq!(records, again);
    }
}
