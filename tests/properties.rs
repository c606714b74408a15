//! Property tests on random small scenarios: money is conserved (the run's own ledger check passes) and no
//! payment is lost (every id from 0 to n−1 reports exactly once, settled, returned, failed or in flight, and its
//! stages sum to its latency);
//! the nostro queue is first in, first out; no step comes before its cause; more liquidity or a later cut-off
//! never makes a payment later; mirror mode replays the same demand on every rail.

mod common;

use proptest::prelude::*;
use settlesim::model::record::{PaymentRecord, Status, Step};
use settlesim::model::sim::{self, RunOptions};

/// Every id from 0 to n−1 reports exactly once, and no amount or cost is negative.
fn nothing_lost(records: &mut [PaymentRecord], payments: u64) -> Result<(), TestCaseError> {
    prop_assert_eq!(records.len() as u64, payments);
    records.sort_by_key(|r| r.id);
    for (i, r) in records.iter().enumerate() {
        prop_assert_eq!(r.id, i as u64);
        prop_assert!(r.delivered_minor >= 0 && r.cost.total() >= 0);
        // Where the time goes: the stages of an ended payment sum to its latency to the microsecond.
        if let Some(latency) = r.latency_us() {
            prop_assert_eq!(
                r.stages_us.iter().sum::<u64>(),
                latency,
                "stages of payment {}",
                r.id
            );
        }
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
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

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

fn records_of(overrides: &[String]) -> Result<Vec<PaymentRecord>, TestCaseError> {
    records_of_text(common::BASE, overrides)
}

fn records_of_text(text: &str, overrides: &[String]) -> Result<Vec<PaymentRecord>, TestCaseError> {
    let loaded = settlesim::scenario::load("base.toml", text, overrides)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut records: Vec<PaymentRecord> = Vec::new();
    let result = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions::default(),
    );
    let (outcome, _) =
        result.map_err(|e| TestCaseError::fail(format!("{e} with {overrides:?}")))?;
    nothing_lost(&mut records, outcome.payments)?;
    Ok(records)
}

/// End time with "never" (in flight) after every time.
fn end_key(r: &PaymentRecord) -> u64 {
    r.ended_us.unwrap_or(u64::MAX)
}

/// A thin nostro with unequal payment sizes on a deterministic path: every bank open around the clock with a
/// fixed processing time, fixed message delays, no screening, STP everywhere. Only the nostro queue can
/// reorder payments, so under FIFO the order of creation is the order of ending.
fn thin_nostro() -> impl Strategy<Value = Vec<String>> {
    (
        (
            0u64..10_000,
            500.0f64..20_000.0,
            20.0f64..400.0,
            0.2f64..1.5,
        ),
        (1u32..30, 1u32..30, 1u32..30, 1u32..120),
        (
            prop::sample::select(vec!["OUR", "SHA", "BEN"]),
            any::<bool>(),
        ),
    )
        .prop_map(
            |((seed, balance, rate, sigma), (pa, pb, pc, msg), (bearer, topup))| {
                vec![
                    format!("seed={seed}"),
                    "duration=2d".into(),
                    "limits.drain=3d".into(),
                    "calendars.ny.always_open=true".into(),
                    format!("banks[0].processing={{ fixed = \"{pa}m\" }}"),
                    format!("banks[1].processing={{ fixed = \"{pb}m\" }}"),
                    format!("banks[2].processing={{ fixed = \"{pc}m\" }}"),
                    format!("rails[0].message_delay={{ fixed = \"{msg}s\" }}"),
                    format!("rails[0].charge_bearer={bearer}"),
                    format!("nostros[0].balance={balance:.2}"),
                    format!(
                        "nostros[0].topup={}",
                        if topup { "\"daily\"" } else { "\"none\"" }
                    ),
                    format!("corridors[0].payments_per_day={rate:.1}"),
                    format!("corridors[0].amount={{ median = 800, sigma = {sigma:.2} }}"),
                ]
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// FIFO: on a path where only the nostro queue could reorder payments, payments end in the order they
    /// were created (in-flight ones last), whatever their amounts.
    #[test]
    fn the_nostro_queue_is_first_in_first_out(overrides in thin_nostro()) {
        let records = records_of(&overrides)?;
        let queued = records.iter().filter(|r| r.status == Status::InFlight).count();
        for w in records.windows(2) {
            prop_assert!(w[0].created_us <= w[1].created_us);
            prop_assert!(
                end_key(&w[0]) <= end_key(&w[1]),
                "payment {} (amount {}) ended at {:?}, after payment {} (amount {}) created later ended at {:?}; \
                 {queued} in flight; {overrides:?}",
                w[0].id, w[0].amount_minor, w[0].ended_us, w[1].id, w[1].amount_minor, w[1].ended_us
            );
        }
    }

    /// Monotonicity: on the same demand, a larger nostro balance never makes a payment end later under FIFO.
    #[test]
    fn more_liquidity_never_delays_a_payment(overrides in thin_nostro(), extra in 1.0f64..5_000.0) {
        let balance = overrides.iter().find_map(|o| o.strip_prefix("nostros[0].balance=")).unwrap();
        let more: f64 = balance.parse::<f64>().unwrap() + extra;
        let mut rich = overrides.clone();
        rich.push(format!("nostros[0].balance={more:.2}"));
        let (thin, rich) = (records_of(&overrides)?, records_of(&rich)?);
        prop_assert_eq!(thin.len(), rich.len());
        for (a, b) in thin.iter().zip(&rich) {
            prop_assert_eq!((a.created_us, a.amount_minor), (b.created_us, b.amount_minor));
            prop_assert!(
                end_key(b) <= end_key(a),
                "payment {}: {:?} with more liquidity, {:?} without; {:?}", a.id, b.ended_us, a.ended_us, overrides
            );
        }
    }

    /// Monotonicity: on the same demand, a later cut-off at every bank never makes a payment end later.
    #[test]
    fn a_later_cutoff_never_delays_a_payment(
        seed in 0u64..10_000,
        cutoff_h in 11u32..17,
        later_min in 1u32..300,
        rate in 20.0f64..400.0,
        balance in 500.0f64..20_000.0,
        sigma in 0.2f64..1.5,
    ) {
        let base = vec![
            format!("seed={seed}"),
            "duration=3d".into(),
            "limits.drain=5d".into(),
            format!("nostros[0].balance={balance:.2}"),
            format!("corridors[0].payments_per_day={rate:.1}"),
            format!("corridors[0].amount={{ median = 800, sigma = {sigma:.2} }}"),
        ];
        let mut early = base.clone();
        early.push(format!("calendars.ny.cutoff=\"{cutoff_h:02}:00\""));
        let late_min = cutoff_h * 60 + later_min;
        let mut late = base;
        late.push(format!("calendars.ny.cutoff=\"{:02}:{:02}\"", late_min / 60, late_min % 60));
        let (a, b) = (records_of(&early)?, records_of(&late)?);
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(x.created_us, y.created_us);
            prop_assert!(
                end_key(y) <= end_key(x),
                "payment {}: ends {:?} with the later cut-off, {:?} with the earlier; {:?}", x.id, y.ended_us, x.ended_us, early
            );
        }
    }

    /// Mirror mode: the same demand on every rail (the same draws, amounts and creation times, each once per
    /// rail); split mode: each demand draw on exactly one rail.
    #[test]
    fn mirror_mode_replays_the_same_demand_on_every_rail(
        seed in 0u64..10_000,
        rate in 10.0f64..600.0,
        sigma in 0.0f64..2.0,
        mirror in any::<bool>(),
    ) {
        let second = "[[rails]]\nid = \"wire2\"\nkind = \"correspondent\"\ncharge_bearer = \"OUR\"\n\
                      message_delay = { median = \"1m\", p90 = \"10m\" }\nreturn_delay = { fixed = \"2d\" }\n\n\
                      [[corridors]]";
        let text = format!(
            "{}\n[[corridors.routes]]\nrail = \"wire2\"\npath = [\"a\", \"b\", \"c\"]\n",
            common::BASE.replacen("[[corridors]]", second, 1)
        );
        let overrides = vec![
            format!("seed={seed}"),
            "duration=1d".into(),
            "limits.drain=2d".into(),
            format!("mode={}", if mirror { "mirror" } else { "split" }),
            format!("corridors[0].payments_per_day={rate:.1}"),
            format!("corridors[0].amount={{ median = 800, sigma = {sigma:.2} }}"),
        ];
        let records = records_of_text(&text, &overrides)?;
        let mut by_demand: std::collections::BTreeMap<u64, Vec<&PaymentRecord>> = Default::default();
        for r in &records {
            by_demand.entry(r.demand_id).or_default().push(r);
        }
        for (d, rs) in &by_demand {
            if mirror {
                prop_assert_eq!(rs.len(), 2, "demand {} on {} rails", d, rs.len());
                prop_assert_ne!(rs[0].rail, rs[1].rail);
                prop_assert_eq!(
                    (rs[0].created_us, rs[0].amount_minor, rs[0].corridor),
                    (rs[1].created_us, rs[1].amount_minor, rs[1].corridor)
                );
            } else {
                prop_assert_eq!(rs.len(), 1, "demand {} on {} rails", d, rs.len());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// Causality, on the story of one payment per random scenario: steps in time order, nothing after the
    /// payment ended, a nostro release only after its shortfall, a message arriving after it was sent, a
    /// settlement (the beneficiary's credit) only as the last step and never before the payment ended.
    #[test]
    fn no_step_comes_before_its_cause(overrides in scenario(), pick in any::<prop::sample::Index>()) {
        let loaded = settlesim::scenario::load("base.toml", common::BASE, &overrides)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut records: Vec<PaymentRecord> = Vec::new();
        let (outcome, _) = sim::run(&loaded.world, |r: &PaymentRecord| records.push(r.clone()), &RunOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        if records.is_empty() {
            return Ok(());
        }
        records.sort_by_key(|r| r.id);
        let r = &records[pick.index(records.len())];
        let opts = RunOptions { trace_payment: Some(r.id) };
        let (traced, _) = sim::run(&loaded.world, sim::NullSink, &opts).unwrap();
        prop_assert_eq!(traced.payments, outcome.payments);
        let steps = &traced.trace;
        prop_assert!(matches!(steps[0].step, Step::Created { .. }), "the first step is the creation");
        prop_assert_eq!(steps[0].t_us, r.created_us);
        let mut shortfall: Option<u64> = None;
        for (i, s) in steps.iter().enumerate() {
            if i > 0 {
                prop_assert!(steps[i - 1].t_us <= s.t_us, "step {} at {} before step {} at {}", i, s.t_us, i - 1, steps[i - 1].t_us);
            }
            if let Some(end) = r.ended_us {
                prop_assert!(s.t_us <= end, "a step at {} after the end at {}", s.t_us, end);
            }
            match s.step {
                Step::NostroShortfall { .. } => shortfall = Some(s.t_us),
                Step::NostroFunded { waited_us } => {
                    let since = shortfall.take();
                    prop_assert!(since.is_some(), "funded without a shortfall");
                    prop_assert_eq!(Some(waited_us), since.map(|t| s.t_us - t), "the wait is from shortfall to release");
                }
                Step::Sent { arrives_us, .. } => prop_assert!(arrives_us >= s.t_us),
                Step::ManualRepair { until_us } | Step::ScreeningHit { until_us } => prop_assert!(until_us >= s.t_us),
                Step::Settled { .. } => {
                    prop_assert_eq!(i, steps.len() - 1, "settled is the last step");
                    prop_assert_eq!(Some(s.t_us), r.ended_us);
                    prop_assert_eq!(r.status, Status::Settled);
                }
                _ => {}
            }
        }
        if r.status == Status::Settled {
            prop_assert!(steps.iter().any(|s| matches!(s.step, Step::Settled { .. })), "a settled payment has a settlement step");
        } else {
            prop_assert!(!steps.iter().any(|s| matches!(s.step, Step::Settled { .. })), "no settlement step unless settled");
        }
    }
}
