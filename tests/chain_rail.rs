//! Payments on a chain rail: the on-ramp buys the asset, the transfer waits for the receiver's confirmations,
//! the off-ramp sells from its inventory. Conservation and determinism hold with reorgs and drained inventories.

use settlesim::model::record::{PaymentRecord, Status, Step};
use settlesim::model::sim::{self, Outcome, RunOptions};

mod common;

const SCENARIO: &str = include_str!("../scenarios/stablecoin-remittance.toml");

fn run(
    overrides: &[&str],
    trace: Option<u64>,
) -> (Outcome, Vec<PaymentRecord>, settlesim::scenario::Loaded) {
    let mut o: Vec<String> = vec!["duration=2d".into(), "limits.drain=5d".into()];
    o.extend(overrides.iter().map(|s| s.to_string()));
    let loaded = settlesim::scenario::load("stablecoin.toml", SCENARIO, &o)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions {
            trace_payment: trace,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    records.sort_by_key(|r| r.id);
    (outcome, records, loaded)
}

fn rail_of(loaded: &settlesim::scenario::Loaded, name: &str) -> u16 {
    loaded
        .world
        .rails
        .iter()
        .position(|r| r.name == name)
        .unwrap() as u16
}

#[test]
fn a_chain_payment_waits_for_nineteen_confirmations_and_pays_chain_costs() {
    let (_, records, loaded) = run(&[], None);
    let usdt = rail_of(&loaded, "usdt_tron");
    let chain: Vec<_> = records
        .iter()
        .filter(|r| r.rail.0 == usdt && r.status == Status::Settled)
        .collect();
    assert!(chain.len() > 500);
    for r in &chain {
        assert!(
            r.cost.network_fee > 0 && r.cost.ramp_spread > 0 && r.cost.ramp_fees > 0,
            "payment {}",
            r.id
        );
        assert_eq!(
            r.cost.fx_spread + r.cost.sender_fee + r.cost.intermediary_fees,
            0
        );
        // Tron-like fee: 64,285 units × about 30 sun ≈ 1.9 TRX ≈ $0.29.
        assert!(
            (20..=40).contains(&r.cost.network_fee),
            "network fee {} cents",
            r.cost.network_fee
        );
    }
    let id = chain[10].id;
    let (outcome, _, _) = run(&[], Some(id));
    let t = |f: fn(&Step) -> bool| {
        outcome
            .trace
            .iter()
            .find(|s| f(&s.step))
            .map(|s| s.t_us)
            .expect("step present")
    };
    let broadcast = t(|s| matches!(s, Step::ChainBroadcast { .. }));
    let included = t(|s| matches!(s, Step::ChainIncluded { .. }));
    let deposit = t(|s| {
        matches!(
            s,
            Step::ChainDeposit {
                confirmations: 19,
                ..
            }
        )
    });
    assert!(broadcast <= included && included < deposit);
    // 3 s slots: the 19th confirmation is 18 slots after inclusion (a little more with missed slots).
    let waited_s = (deposit - included) as f64 / 1e6;
    assert!(
        (54.0..=70.0).contains(&waited_s),
        "confirmation wait {waited_s} s"
    );
}

#[test]
fn drained_payout_inventory_queues_until_the_top_up() {
    // 20M MXN (about $1.2M) of payout inventory a day against about $1.8M a day of chain demand: on busy days
    // payouts wait for the next morning's top-up. The slowest chain payments show it.
    let small = ["inventories[1].balance=20000000"];
    let (_, records, loaded) = run(&small, None);
    let usdt = rail_of(&loaded, "usdt_tron");
    let mut chain: Vec<_> = records
        .iter()
        .filter(|r| r.rail.0 == usdt && r.status == Status::Settled)
        .collect();
    chain.sort_by_key(|r| std::cmp::Reverse(r.latency_us()));
    let mut funded = 0;
    for r in chain.iter().take(3) {
        let (outcome, _, _) = run(&small, Some(r.id));
        let steps = &outcome.trace;
        let short = steps
            .iter()
            .position(|s| matches!(s.step, Step::NostroShortfall { .. }));
        let fund = steps
            .iter()
            .position(|s| matches!(s.step, Step::NostroFunded { .. }));
        if let (Some(a), Some(b)) = (short, fund) {
            assert!(a < b);
            funded += 1;
        }
    }
    assert!(
        funded > 0,
        "the slowest chain payments waited on the payout inventory"
    );
}

#[test]
fn conservation_and_nothing_lost_with_reorgs() {
    // A proof-of-work chain with slow propagation: many stale blocks, payment transfers orphaned and re-included.
    let overrides = [
        "chains[0].consensus=\"nakamoto\"",
        "chains[0].validators=27",
        "chains[0].block_interval=\"1m\"",
        "chains[0].propagation={ fixed = \"20s\" }",
        "chains[0].miners=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
        "banks[4].deposit_confirmations=3",
        // One-minute blocks of 2,000 transfers carry 33 a second: keep the background below that, or the fixed
        // bid of the payments loses to the higher bids of a saturated mempool (a finding, not this test's point).
        "chains[0].background.tx_per_s=5",
    ];
    let mut o: Vec<&str> = overrides.to_vec();
    o.retain(|s| !s.starts_with("chains[0].validators"));
    let o2 = [
        "chains[0].slots_per_epoch",
        "chains[0].finality_epochs",
        "chains[0].missed_slot_rate",
    ];
    let text = SCENARIO
        .lines()
        .filter(|l| {
            !o2.iter().any(|k| l.starts_with(&k["chains[0].".len()..]))
                && !l.starts_with("validators = 27")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut all: Vec<String> = vec!["duration=2d".into(), "limits.drain=5d".into()];
    all.extend(o.iter().map(|s| s.to_string()));
    let loaded =
        settlesim::scenario::load("pow.toml", &text, &all).unwrap_or_else(|e| panic!("{e}"));
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions::default(),
    )
    .expect("the ledger balances and reconciles");
    assert_eq!(records.len() as u64, outcome.payments);
    let m = &outcome.chains[0].metrics;
    assert!(
        m.stale_blocks > 100 && m.payment_reorgs > 0,
        "stale {} reorgs {} payment reorgs {} included {}",
        m.stale_blocks,
        m.reorgs,
        m.payment_reorgs,
        m.payment_txs_included
    );
    let usdt = rail_of(&loaded, "usdt_tron");
    let settled = records
        .iter()
        .filter(|r| r.rail.0 == usdt && r.status == Status::Settled)
        .count();
    let total = records.iter().filter(|r| r.rail.0 == usdt).count();
    assert!(settled * 100 >= total * 97, "{settled} of {total} settled");
}

#[test]
fn chain_runs_are_deterministic() {
    let (a, ra, _) = run(&[], None);
    let (b, rb, _) = run(&[], None);
    assert_eq!(ra, rb);
    assert_eq!(a.events, b.events);
    assert_eq!(
        a.chains[0].metrics.fees_native_minor,
        b.chains[0].metrics.fees_native_minor
    );
}

#[test]
fn a_fee_estimator_gets_through_a_saturated_chain_where_a_fixed_bid_does_not() {
    // One-minute blocks carry 33 transfers a second; the background offers 150, a third of them bidding above
    // the fixed bid (30 against a median of 28): the mempool overflows and only bids above the going rate get in.
    let settled = |policy: &str| {
        let p = format!("rails[1].fee_policy=\"{policy}\"");
        let text = SCENARIO
            .lines()
            .filter(|l| {
                ![
                    "slots_per_epoch",
                    "finality_epochs",
                    "missed_slot_rate",
                    "validators",
                ]
                .iter()
                .any(|k| l.starts_with(k))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let o: Vec<String> = [
            "duration=2d",
            "limits.drain=5d",
            "chains[0].consensus=\"nakamoto\"",
            "chains[0].block_interval=\"1m\"",
            "chains[0].miners=[1, 1, 1, 1]",
            "chains[0].background.tx_per_s=150",
            &p,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let loaded = settlesim::scenario::load("saturated.toml", &text, &o)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut records = Vec::new();
        let _ = sim::run(
            &loaded.world,
            |r: &PaymentRecord| records.push(r.clone()),
            &RunOptions::default(),
        )
        .unwrap();
        let usdt = rail_of(&loaded, "usdt_tron");
        let chain: Vec<_> = records.iter().filter(|r| r.rail.0 == usdt).collect();
        chain.iter().filter(|r| r.status == Status::Settled).count() as f64 / chain.len() as f64
    };
    let (fixed, market) = (settled("fixed"), settled("market"));
    eprintln!("settled on a saturated chain: fixed bid {fixed:.3}, market bid {market:.3}");
    assert!(fixed < 0.5, "a fixed bid at the median is stuck: {fixed}");
    assert!(
        market > 0.95,
        "the estimator bids over the going rate: {market}"
    );
}

/// Whether the traced payment went to manual review (repair).
fn repaired(outcome: &Outcome) -> bool {
    outcome
        .trace
        .iter()
        .any(|s| matches!(s.step, Step::ManualRepair { .. }))
}

#[test]
fn withdrawals_leave_in_batches_and_large_ones_are_reviewed() {
    let o = [
        "banks[3].withdrawal_batch=\"10m\"",
        "banks[3].withdrawal_limit_usd=2000",
        "banks[3].repair={ fixed = \"45m\" }",
    ];
    let (_, records, loaded) = run(&o, None);
    let usdt = rail_of(&loaded, "usdt_tron");
    let chain: Vec<_> = records
        .iter()
        .filter(|r| r.rail.0 == usdt && r.status == Status::Settled)
        .collect();
    let small = chain
        .iter()
        .find(|r| r.amount_usd_cents < 100_000)
        .expect("a small payment");
    let large = chain
        .iter()
        .find(|r| r.amount_usd_cents > 500_000)
        .expect("a large payment");
    for (r, reviewed) in [(small, false), (large, true)] {
        let (outcome, _, _) = run(&o, Some(r.id));
        let broadcast = outcome
            .trace
            .iter()
            .find(|s| matches!(s.step, Step::ChainBroadcast { .. }))
            .unwrap()
            .t_us;
        assert_eq!(
            broadcast % 600_000_000,
            0,
            "payment {} broadcast at a 10-minute batch",
            r.id
        );
        assert_eq!(
            repaired(&outcome),
            reviewed,
            "payment {} of {} cents",
            r.id,
            r.amount_usd_cents
        );
    }
    // The limit is the largest amount that passes: a limit of exactly the small payment's amount lets it through,
    // one cent less sends it to review.
    let cents = small.amount_usd_cents;
    for (limit_cents, reviewed) in [(cents, false), (cents - 1, true)] {
        let limit = format!(
            "banks[3].withdrawal_limit_usd={}.{:02}",
            limit_cents / 100,
            limit_cents % 100
        );
        let (outcome, records, _) = run(&[o[0], &limit, o[2]], Some(small.id));
        let same = records.iter().find(|r| r.id == small.id).unwrap();
        assert_eq!(same.amount_usd_cents, cents, "the same payment");
        assert_eq!(
            repaired(&outcome),
            reviewed,
            "{cents} cents against a limit of {limit_cents}"
        );
    }
}

/// The trace of a settled chain payment: (inclusion time, deposit time, confirmations at the deposit).
fn confirmation_wait(overrides: &[&str]) -> Vec<(u64, u64, u32)> {
    let (_, records, loaded) = run(overrides, None);
    let usdt = rail_of(&loaded, "usdt_tron");
    let ids: Vec<u64> = records
        .iter()
        .filter(|r| r.rail.0 == usdt && r.status == Status::Settled)
        .map(|r| r.id)
        .step_by(97)
        .take(5)
        .collect();
    assert_eq!(ids.len(), 5);
    ids.iter()
        .map(|&id| {
            let (outcome, _, _) = run(overrides, Some(id));
            let included = outcome
                .trace
                .iter()
                .find(|s| matches!(s.step, Step::ChainIncluded { .. }))
                .expect("included")
                .t_us;
            let (deposit, confs) = outcome
                .trace
                .iter()
                .find_map(|s| match s.step {
                    Step::ChainDeposit { confirmations, .. } => Some((s.t_us, confirmations)),
                    _ => None,
                })
                .expect("deposited");
            (included, deposit, confs)
        })
        .collect()
}

/// Catches an off-by-one in confirmation counting (the wait target `height + k − 1` written `height + k`) or in
/// waking the waiters (`h > tip` written `h >= tip`): with no missed slot, the 19th confirmation is exactly 18
/// slots of 3 s after the block that included the transfer.
#[test]
fn nineteen_confirmations_take_exactly_eighteen_slots() {
    for (included, deposit, confs) in confirmation_wait(&["chains[0].missed_slot_rate=0"]) {
        assert_eq!(included % 3_000_000, 0, "included on a slot boundary");
        assert_eq!(confs, 19);
        assert_eq!(deposit - included, 18 * 3_000_000, "included at {included}");
    }
}

/// One confirmation is the including block itself: the deposit is credited when the transfer is included.
#[test]
fn one_confirmation_credits_at_inclusion() {
    for (included, deposit, confs) in confirmation_wait(&[
        "chains[0].missed_slot_rate=0",
        "banks[4].deposit_confirmations=1",
    ]) {
        assert_eq!(confs, 1);
        assert_eq!(deposit, included);
    }
}

/// The summary of every chain rail (and of its corridors) recomputed from its records: ramp spreads in the FX
/// total, chain inclusion and credit times, stage times, costs (`common::assert_cell_summarises`).
#[test]
fn chain_rail_metrics_agree_with_the_records() {
    let (outcome, records, loaded) = run(&[], None);
    let w = &loaded.world;
    let mut chain_rails = 0;
    for (i, rail) in w.rails.iter().enumerate() {
        let id = settlesim::model::world::RailId(i as u16);
        let recs: Vec<_> = records.iter().filter(|r| r.rail == id).collect();
        if !recs.iter().any(|r| r.chain_settlement_us.is_some()) {
            continue;
        }
        chain_rails += 1;
        assert!(
            recs.iter().any(|r| r.cost.ramp_spread > 0),
            "{}: ramp spreads",
            rail.name
        );
        let cell = outcome.metrics.rail_total(id);
        common::assert_cell_summarises(&rail.name, &cell, &recs, w.demand_end_us);
    }
    assert_eq!(chain_rails, 1, "the scenario has one chain rail");
}
