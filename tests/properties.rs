//! Property tests on random small scenarios: money is conserved (the run's own ledger check passes) and no
//! payment is lost (every id from 0 to n−1 reports exactly once, settled, returned, failed or in flight).

mod common;

use proptest::prelude::*;
use settlesim::model::record::PaymentRecord;
use settlesim::model::sim::{self, RunOptions};

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
        prop_assert_eq!(records.len() as u64, outcome.payments);
        records.sort_by_key(|r| r.id);
        for (i, r) in records.iter().enumerate() {
            prop_assert_eq!(r.id, i as u64);
            prop_assert!(r.delivered_minor >= 0);
            prop_assert!(r.cost.total() >= 0);
        }
    }
}
