//! The chain layer against theory: Poisson block production, EIP-1559's base-fee rule, the stale rate's growth
//! with propagation delay (≈ 1 − e^(−d/T) for d ≪ T), and BFT quorum safety and liveness.

use settlesim::model::chain::spec::FeeMarket;
use settlesim::model::chain::state::{ChainMetrics, fee_per_unit};
use settlesim::model::sim::{self, NullSink, RunOptions};

const FIXTURE: &str = include_str!("fixtures/chain.toml");

fn run(overrides: &[&str]) -> ChainMetrics {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let loaded =
        settlesim::scenario::load("chain.toml", FIXTURE, &o).unwrap_or_else(|e| panic!("{e}"));
    let (outcome, _) = sim::run(&loaded.world, NullSink, &RunOptions::default()).unwrap();
    outcome.chains.into_iter().next().unwrap().metrics
}

#[test]
fn nakamoto_blocks_are_a_poisson_process() {
    // T = 60 s for 20 days: about 28,800 blocks; no propagation delay, so no forks.
    let m = run(&[]);
    let n = m.canonical_blocks as f64;
    let mean_s = (m.last_block_us - m.first_block_us) as f64 / 1e6 / (n - 1.0);
    // Standard error of the mean interval is T/√n ≈ 0.6%: allow 3 standard errors.
    assert!(
        (mean_s / 60.0 - 1.0).abs() < 3.0 / n.sqrt(),
        "mean interval {mean_s:.2} s over {n} blocks"
    );
    assert_eq!(m.stale_blocks, 0);
    // Hourly counts of a Poisson process: mean 60, variance equal to the mean (index of dispersion 1).
    let counts: Vec<f64> = m.hourly[..480].iter().map(|h| h[0] as f64).collect();
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (counts.len() as f64 - 1.0);
    assert!((mean - 60.0).abs() < 1.5, "hourly mean {mean:.2}");
    // The sample dispersion's standard error is about √(2/479) ≈ 6.5%: allow 3 of them.
    assert!(
        (var / mean - 1.0).abs() < 0.2,
        "index of dispersion {:.3}",
        var / mean
    );
}

#[test]
fn stale_rate_grows_like_one_minus_exp_of_delay_over_interval() {
    for d in [1.0_f64, 3.0] {
        let prop = format!("chains[0].propagation={{ fixed = \"{d}s\" }}");
        let m = run(&[&prop]);
        let stale = m.stale_blocks as f64 / m.blocks_produced as f64;
        // A block is orphaned when another miner (49 of 50 equal shares) finds one within d of it.
        let theory = (49.0 / 50.0) * (1.0 - (-d / 60.0).exp());
        eprintln!(
            "d = {d} s, T = 60 s: stale rate {stale:.4}, theory {theory:.4}, {} reorgs",
            m.reorgs
        );
        assert!(
            (stale / theory - 1.0).abs() < 0.15,
            "d = {d}: stale {stale:.4} vs {theory:.4}"
        );
        assert!(m.reorg_depth_max >= 1);
    }
}

/// An EIP-1559 proof-of-stake chain whose blocks hold exactly 1,500 transfers of 20,000 gas (30M limit).
const EIP1559: [&str; 12] = [
    "duration=240s",
    "chains[0].consensus=\"pos\"",
    "chains[0].miners=[]",
    "chains[0].block_interval=\"12s\"",
    "chains[0].missed_slot_rate=0.0",
    "chains[0].validators=10",
    "chains[0].block_capacity=30000000",
    "chains[0].tx_units=20000",
    "chains[0].fee_market=\"eip1559\"",
    "chains[0].base_fee=1000000",
    "chains[0].background.fee_median=1000",
    "chains[0].background.max_fee_median=1000000000000",
];

/// The base-fee rule transcribed from the EIP-1559 specification (not from the model), with
/// ELASTICITY_MULTIPLIER = 2 and BASE_FEE_MAX_CHANGE_DENOMINATOR = 8:
/// ```text
/// parent_gas_target = parent_gas_limit // ELASTICITY_MULTIPLIER
/// if parent_gas_used > parent_gas_target:
///     delta = max(parent_base_fee * (parent_gas_used - parent_gas_target) // parent_gas_target // 8, 1)
///     expected = parent_base_fee + delta
/// else:
///     delta = parent_base_fee * (parent_gas_target - parent_gas_used) // parent_gas_target // 8
///     expected = parent_base_fee - delta
/// ```
fn spec_base_fee(parent: u128, used: u128, limit: u128) -> u128 {
    let target = limit / 2;
    if used == target {
        parent
    } else if used > target {
        parent + (parent * (used - target) / target / 8).max(1)
    } else {
        parent - parent * (target - used) / target / 8
    }
}

#[test]
fn eip1559_base_fee_follows_the_rule_under_full_blocks() {
    // 2,000 transfers a second: every 12 s block is full, so the base fee rises by exactly 1/8 each block.
    let mut o: Vec<&str> = EIP1559.to_vec();
    o.push("chains[0].background.tx_per_s=2000");
    let m = run(&o);
    // Slots at 12 s, 24 s, ..., 240 s: 20 blocks.
    assert_eq!(m.canonical_blocks, 20);
    assert_eq!(m.units_used, 20 * 30_000_000, "every block full");
    // By hand: 1,000,000 → 1,125,000 → 1,265,625 → 1,423,828 (1,265,625 / 8 = 158,203 after truncation).
    assert_eq!(spec_base_fee(1_000_000, 30_000_000, 30_000_000), 1_125_000);
    assert_eq!(spec_base_fee(1_265_625, 30_000_000, 30_000_000), 1_423_828);
    let mut expected = 1_000_000;
    for _ in 0..20 {
        expected = spec_base_fee(expected, 30_000_000, 30_000_000);
    }
    assert_eq!(m.base_fee_max as u128, expected);
    assert_eq!(
        expected, 10_545_067,
        "1.125^20 with the specification's truncation"
    );
}

#[test]
fn eip1559_base_fee_follows_the_rule_under_empty_blocks() {
    let m = run(&EIP1559);
    assert_eq!(m.canonical_blocks, 20);
    assert_eq!(m.units_used, 0);
    // By hand: 1,000,000 → 875,000 → 765,625 → 669,922 (765,625 / 8 = 95,703 after truncation).
    assert_eq!(spec_base_fee(765_625, 0, 30_000_000), 669_922);
    let mut expected = 1_000_000;
    for _ in 0..20 {
        expected = spec_base_fee(expected, 0, 30_000_000);
    }
    assert_eq!(m.base_fee_min as u128, expected);
    assert!((expected as f64 / 1e6 / 0.875_f64.powi(20) - 1.0).abs() < 1e-3);
}

#[test]
fn eip1559_effective_price_is_capped_by_the_max_fee() {
    // The specification: priority_fee = min(max_priority_fee, max_fee − base_fee); price = base_fee + priority.
    let m = FeeMarket::Eip1559 { initial_base: 1 };
    assert_eq!(
        fee_per_unit(&m, 100, 10, 1_000),
        110,
        "the tip fits under the cap"
    );
    assert_eq!(
        fee_per_unit(&m, 100, 10, 105),
        105,
        "the cap binds: 5 of the 10 tip"
    );
    assert_eq!(fee_per_unit(&m, 100, 10, 110), 110, "exactly at the cap");
    assert_eq!(
        fee_per_unit(&m, 100, 0, 1_000),
        100,
        "no tip: the base fee alone"
    );
    assert_eq!(
        fee_per_unit(&FeeMarket::FirstPrice, 100, 10, 105),
        10,
        "first price: the bid"
    );
}

#[test]
fn eip1559_fees_and_burn_of_two_full_blocks_by_hand() {
    // Every background transfer tips 1,000 with a max fee of 1,125,500 (no spread): block 1 at base 1,000,000
    // pays the full tip; block 2 at base 1,125,000 can only tip 500 under the cap.
    let mut o: Vec<&str> = EIP1559.to_vec();
    o.extend([
        "duration=24s",
        "chains[0].background.tx_per_s=2000",
        "chains[0].background.fee_sigma=0",
        "chains[0].background.max_fee_median=1125500",
    ]);
    let m = run(&o);
    assert_eq!(m.canonical_blocks, 2);
    assert_eq!(m.units_used, 2 * 30_000_000);
    assert_eq!(m.burned_native_minor, 30_000_000 * (1_000_000 + 1_125_000));
    assert_eq!(
        m.fees_native_minor,
        30_000_000 * (1_001_000 + 1_125_500),
        "the second block's tip is capped at max fee − base fee = 500"
    );
}

const BFT: [&str; 8] = [
    "duration=2h",
    "chains[0].consensus=\"bft\"",
    "chains[0].miners=[]",
    "chains[0].block_interval=\"1s\"",
    "chains[0].validators=4",
    "chains[0].round_timeout=\"2s\"",
    "chains[0].message_delay={ fixed = \"10ms\" }",
    "chains[0].background.tx_per_s=0",
];

#[test]
fn bft_commits_nothing_without_two_f_plus_one() {
    // n = 4 tolerates f = 1: with validators 0 and 1 offline for the second hour, no block is committed then.
    let mut o: Vec<&str> = BFT.to_vec();
    o.push("chains[0].offline=[{ validator = 0, from = \"1h\", to = \"2h\" }, { validator = 1, from = \"1h\", to = \"2h\" }]");
    let m = run(&o);
    assert!(
        m.hourly[0][0] > 3000,
        "first hour commits: {}",
        m.hourly[0][0]
    );
    assert_eq!(m.hourly[1][0], 0, "second hour must commit nothing");
    assert_eq!(m.stale_blocks, 0);
}

/// Six validators need more than two-thirds, 5 (2f + 1 = 3 with f = ⌊5/3⌋ = 1 would let two disjoint halves
/// commit): one offline leaves five and the chain runs; two offline leave four, and nothing commits.
#[test]
fn bft_needs_more_than_two_thirds_when_n_is_not_3f_plus_1() {
    let offline = |validators: &[u32]| {
        let list: Vec<String> = validators
            .iter()
            .map(|v| format!("{{ validator = {v}, from = \"1h\", to = \"2h\" }}"))
            .collect();
        format!("chains[0].offline=[{}]", list.join(", "))
    };
    let mut o: Vec<String> = BFT.iter().map(|s| s.to_string()).collect();
    o.push("chains[0].validators=6".into());
    for (down, live) in [(&[0_u32][..], true), (&[0, 1][..], false)] {
        let mut with = o.clone();
        with.push(offline(down));
        let refs: Vec<&str> = with.iter().map(String::as_str).collect();
        let m = run(&refs);
        assert!(m.hourly[0][0] > 3000, "first hour: {}", m.hourly[0][0]);
        if live {
            assert!(
                m.hourly[1][0] > 2000,
                "{down:?} offline: {}",
                m.hourly[1][0]
            );
        } else {
            assert_eq!(m.hourly[1][0], 0, "{down:?} offline: no quorum of 5");
        }
    }
}

#[test]
fn a_bft_height_is_the_pause_plus_three_message_delays() {
    // Fixed 10 ms messages: proposal, prevotes, precommits, then the 1 s pause before the next height. Every
    // height takes exactly 1.030 s.
    let m = run(&BFT);
    assert_eq!(
        m.last_block_us - m.first_block_us,
        (m.canonical_blocks - 1) * 1_030_000
    );
    assert_eq!(
        m.canonical_blocks,
        7_200_000 / 1_030,
        "heights in two hours"
    );
}

#[test]
fn bft_commits_again_once_a_quorum_is_back() {
    // The same outage in a three-hour run: the retries after each round timeout find the quorum back at 2 h, and
    // the third hour commits as the first did (1.03 s a height: ~3,500 blocks).
    let mut o: Vec<&str> = BFT.to_vec();
    o.push("chains[0].offline=[{ validator = 0, from = \"1h\", to = \"2h\" }, { validator = 1, from = \"1h\", to = \"2h\" }]");
    o.push("duration=3h");
    let m = run(&o);
    assert_eq!(m.hourly[1][0], 0);
    let (first, third) = (m.hourly[0][0], m.hourly[2][0]);
    assert!(
        third > 3000 && third.abs_diff(first) <= 5,
        "first hour {first} blocks, third {third}"
    );
}

#[test]
fn first_price_fees_of_blocks_that_take_the_whole_mempool() {
    // Light load (5 transfers a second, 12 s slots, room for 4,000 a block): every block takes everything
    // waiting. With no spread every bid is 37 per unit, so the fees are 37 × 250 units a transfer.
    let m = run(&[
        "duration=1h",
        "chains[0].consensus=\"pos\"",
        "chains[0].miners=[]",
        "chains[0].block_interval=\"12s\"",
        "chains[0].missed_slot_rate=0.0",
        "chains[0].validators=10",
        "chains[0].background.tx_per_s=5",
        "chains[0].background.fee_sigma=0",
        "chains[0].background.fee_median=37",
    ]);
    assert!(m.txs_included > 15_000, "{}", m.txs_included);
    assert_eq!(m.units_used, m.txs_included * 250);
    assert!(m.units_used < m.canonical_blocks * 1_000_000, "never full");
    assert_eq!(m.fees_native_minor, m.txs_included as u128 * 37 * 250);
}

#[test]
fn bft_liveness_returns_when_the_faulty_proposer_is_replaced() {
    let healthy = run(&BFT);
    let mut o: Vec<&str> = BFT.to_vec();
    o.push("chains[0].offline=[{ validator = 0, from = \"0s\", to = \"2h\" }]");
    let faulty = run(&o);
    // Healthy: one round per height; 3 + 12 + 12 messages (proposal, prevotes, precommits) for n = 4.
    assert_eq!(healthy.bft_rounds, healthy.canonical_blocks);
    assert_eq!(healthy.bft_messages, healthy.canonical_blocks * 27);
    // With f = 1 crashed validator, every height still commits: a quarter of them need a second round after a
    // 2 s timeout, when the next proposer takes over. Heights take 1.03 s healthy, about 1.53 s faulty.
    assert!(
        faulty.canonical_blocks > 4000,
        "still live: {}",
        faulty.canonical_blocks
    );
    let extra = faulty.bft_rounds - faulty.canonical_blocks;
    let share = extra as f64 / faulty.canonical_blocks as f64;
    assert!(
        (share - 0.25).abs() < 0.02,
        "share of heights needing a second round: {share:.3}"
    );
    let ratio = healthy.canonical_blocks as f64 / faulty.canonical_blocks as f64;
    let expected = (1.0 + 0.25 * 2.0 + 0.02) / 1.02;
    assert!(
        (ratio / expected - 1.0).abs() < 0.05,
        "slowdown {ratio:.3} vs {expected:.3}"
    );
}

#[test]
fn gossip_propagation_slows_with_block_size_and_raises_the_stale_rate() {
    let gossip = |bytes: &str, mbps: &str| {
        let b = format!(
            "chains[0].network={{ mode = \"gossip\", nodes = 120, peers = 6, regions = [\"a\", \"b\"], latency_ms = [[20, 80], [80, 20]], bandwidth_mbps = {mbps}, block_bytes = {bytes} }}"
        );
        run(&[
            "duration=4d",
            "chains[0].miners=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
            &b,
        ])
    };
    let compact = gossip("20000", "50");
    let full = gossip("1000000", "5");
    let reach = |m: &ChainMetrics| {
        (
            m.reach50_us_sum as f64 / m.reach50_blocks as f64 / 1e6,
            m.reach95_us_sum as f64 / m.reach95_blocks as f64 / 1e6,
        )
    };
    let (c50, c95) = reach(&compact);
    let (f50, f95) = reach(&full);
    let stale = |m: &ChainMetrics| m.stale_blocks as f64 / m.blocks_produced as f64;
    eprintln!(
        "compact: {c50:.2}/{c95:.2} s, stale {:.4}; full: {f50:.2}/{f95:.2} s, stale {:.4}",
        stale(&compact),
        stale(&full)
    );
    assert!(c50 < c95 && f50 < f95);
    // 1 MB at 5 Mbps is 1.6 s per copy and relays cross several hops: tens of seconds against well under one.
    assert!(c95 < 1.0 && f50 > 5.0, "compact {c95} s, full {f50} s");
    assert!(
        stale(&full) > 5.0 * stale(&compact).max(1e-4),
        "stale {} vs {}",
        stale(&full),
        stale(&compact)
    );
    assert!(compact.gossip_messages > 0);
}
