//! Gossip against theory and measurement: the analytic stale rate 1 − e^(−τ/T) for a fixed relay delay τ,
//! Decker & Wattenhofer's 2013 measurement (median and mean time for a node to receive a block, fork rate) and
//! the bitcoinstats.com 2014 snapshot (block p50, p90, p99), on `scenarios/gossip-bitcoin-2013.toml`; and BFT
//! over gossip: validator count and geography change the time to finality.

use settlesim::model::chain::state::ChainMetrics;
use settlesim::model::sim::{self, NullSink, RunOptions};

const BITCOIN_2013: &str = include_str!("../scenarios/gossip-bitcoin-2013.toml");
const FIXTURE: &str = include_str!("fixtures/chain.toml");

fn run(name: &str, text: &str, overrides: &[&str]) -> ChainMetrics {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let loaded = settlesim::scenario::load(name, text, &o).unwrap_or_else(|e| panic!("{e}"));
    let (outcome, _) = sim::run(&loaded.world, NullSink, &RunOptions::default()).unwrap();
    outcome.chains.into_iter().next().unwrap().metrics
}

fn stale_rate(m: &ChainMetrics) -> f64 {
    m.stale_blocks as f64 / m.blocks_produced as f64
}

fn report(label: &str, m: &ChainMetrics) {
    let r = &m.receive;
    eprintln!(
        "{label}: {} blocks, stale {:.4} ({} stale); receive p50 {:.2} s, mean {:.2} s, p75 {:.2} s, p90 {:.2} s, p95 {:.2} s, p99 {:.2} s",
        m.blocks_produced,
        stale_rate(m),
        m.stale_blocks,
        r.quantile_s(0.5),
        r.mean_s(),
        r.quantile_s(0.75),
        r.quantile_s(0.9),
        r.quantile_s(0.95),
        r.quantile_s(0.99),
    );
}

/// The fork rate the measured receive delays imply (D&W's own check: each block races the other miners for as
/// long as they have not received it; miners sit on random nodes, so their delays are the nodes'):
/// the mean over (block, node) of 1 − e^(−d/T), times the hash share of the other miners: 1 − Σ s² = 0.866 for
/// the scenario's shares (the producer does not race itself).
fn implied_fork_rate(m: &ChainMetrics, interval_s: f64) -> f64 {
    let r = &m.receive;
    let mut total = 0.0;
    for k in 1..=999 {
        let d = r.quantile_s(k as f64 / 1000.0);
        total += 1.0 - (-d / interval_s).exp();
    }
    total / 999.0
}

#[test]
fn bitcoin_2013_and_2014_against_the_measurements() {
    // Ten days (about 1,450 blocks, ~3 million node receipts) of the 2013 scenario, then the same network with
    // 350 kB blocks (the average of March 2014) for bitcoinstats.com's snapshot. The figures are printed against
    // the references; the model does not match them (README: validity table) and the assertions are the ones
    // that must hold whatever the calibration: the fork rate is the one the propagation implies (within three
    // binomial standard errors), and larger blocks propagate more slowly.
    let y2013 = run("gossip-bitcoin-2013.toml", BITCOIN_2013, &["duration=10d"]);
    let y2014 = run(
        "gossip-bitcoin-2013.toml",
        BITCOIN_2013,
        &["duration=10d", "chains[0].network.block_bytes=350000"],
    );
    report("2013 (100 kB)", &y2013);
    eprintln!("  Decker & Wattenhofer 2013: p50 6.5 s, mean 12.6 s, fork rate 0.0169");
    report("2014 (350 kB)", &y2014);
    eprintln!(
        "  bitcoinstats.com 2014-03-24: p50 3.3 s, p75 6.4 s, p90 13.5 s, p95 25.0 s, p99 100.5 s"
    );
    for (label, m) in [("2013", &y2013), ("2014", &y2014)] {
        let implied = implied_fork_rate(m, 600.0) * (1.0 - 0.1342);
        let n = m.blocks_produced as f64;
        let se = (implied * (1.0 - implied) / n).sqrt();
        eprintln!(
            "{label}: fork rate {:.4}, implied by the propagation {implied:.4} ± {se:.4}",
            stale_rate(m)
        );
        assert!(
            (stale_rate(m) - implied).abs() < 3.0 * se,
            "{label}: {} vs {implied}",
            stale_rate(m)
        );
    }
    for p in [0.5, 0.9, 0.99] {
        assert!(y2014.receive.quantile_s(p) > y2013.receive.quantile_s(p));
    }
}

/// Mean interval between canonical blocks, seconds.
fn interval_s(m: &ChainMetrics) -> f64 {
    (m.last_block_us - m.first_block_us) as f64 / 1e6 / (m.canonical_blocks as f64 - 1.0)
}

/// Ten equal miners on a complete graph of 11 nodes (the observer is the last), one region with one-way latency
/// `latency_ms`, validation `validation_ms`, 1 kB blocks at 1 Gbit/s (8 µs a transfer): every other miner has a
/// block exactly τ = validation + 3 × latency (inv, getdata, block) after it is found.
fn fixed_delay(latency_ms: u64, validation_ms: u64) -> ChainMetrics {
    let net = format!(
        "chains[0].network={{ mode = \"gossip\", nodes = 11, peers = 10, latency_ms = [[{latency_ms}]], bandwidth_mbps = 1000, block_bytes = 1000, validation = \"{validation_ms}ms\" }}"
    );
    run(
        "chain.toml",
        FIXTURE,
        &["chains[0].miners=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]", &net],
    )
}

#[test]
fn stale_rate_over_gossip_is_one_minus_exp_of_the_relay_delay() {
    // T = 60 s for 20 days (28,800 blocks). A block forks when one of the nine other miners (9/10 of the hash
    // power) finds one before it arrives: 1 − e^(−0.9 τ/T). Tolerance: 3.5 binomial standard errors (10% at
    // τ = 3 s with ~1,270 stale blocks, 17% at τ = 1 s with ~430).
    for (latency_ms, validation_ms, tol) in [(300, 100, 0.17), (900, 300, 0.10)] {
        let m = fixed_delay(latency_ms, validation_ms);
        let tau = (validation_ms + 3 * latency_ms) as f64 / 1e3;
        let theory = 1.0 - (-0.9 * tau / 60.0).exp();
        let stale = stale_rate(&m);
        eprintln!(
            "τ = {tau} s, T = 60 s: stale rate {stale:.4} ({} of {}), theory {theory:.4}",
            m.stale_blocks, m.blocks_produced
        );
        assert!(
            (stale / theory - 1.0).abs() < tol,
            "τ = {tau}: stale {stale:.4} vs {theory:.4}"
        );
        // Every node but the producer receives every block at τ (measured when it announces it).
        let r = &m.receive;
        assert!(
            (r.quantile_s(0.5) / tau - 1.0).abs() < 0.01,
            "median {}",
            r.quantile_s(0.5)
        );
    }
}

const BFT: [&str; 6] = [
    "duration=2h",
    "chains[0].consensus=\"bft\"",
    "chains[0].miners=[]",
    "chains[0].block_interval=\"1s\"",
    "chains[0].round_timeout=\"5s\"",
    "chains[0].background.tx_per_s=0",
];

fn bft(validators: usize, network: &str) -> ChainMetrics {
    let mut o: Vec<String> = BFT.iter().map(|s| s.to_string()).collect();
    o.push(format!("chains[0].validators={validators}"));
    o.push(format!(
        "chains[0].network={{ mode = \"gossip\", {network} }}"
    ));
    let o: Vec<&str> = o.iter().map(String::as_str).collect();
    run("chain.toml", FIXTURE, &o)
}

#[test]
fn bft_height_over_a_complete_graph_takes_five_latencies_and_a_validation() {
    // n = 4 on 5 nodes, all linked, latency L = 50 ms, validation V = 10 ms: the proposal reaches the others at
    // 3L + V (inv, getdata, block, validation); their prevotes reach everyone L later; the proposer's own prevote
    // is out at once, so every validator holds 3 = 2f + 1 prevotes at 4L + V, precommits, and holds 2f + 1
    // precommits at 5L + V. A height: the 1 s commit pause + 260 ms (+ microseconds of transmission).
    let m = bft(
        4,
        "nodes = 5, peers = 4, latency_ms = [[50]], bandwidth_mbps = 1000, block_bytes = 1000, validation = \"10ms\"",
    );
    let got = interval_s(&m);
    eprintln!("BFT n = 4 complete graph: {got:.4} s a height");
    assert!((got - 1.26).abs() < 0.001, "{got}");
    assert_eq!(m.bft_rounds, m.canonical_blocks);
    assert_eq!(m.bft_messages, m.canonical_blocks * 27);
}

#[test]
fn bft_finality_depends_on_geography_and_validator_count() {
    // 200 nodes, 8 peers, 100 kB proposals at 20 Mbit/s. One region (10 ms) against three continents.
    let net = |regions: &str, latency: &str| {
        format!(
            "nodes = 200, peers = 8, regions = {regions}, latency_ms = {latency}, bandwidth_mbps = 20, block_bytes = 100000, validation = \"20ms\""
        )
    };
    let local = net("[\"dc\"]", "[[10]]");
    let global = net(
        "[\"america\", \"europe\", \"asia\"]",
        "[[20, 45, 90], [45, 15, 110], [90, 110, 30]]",
    );
    let mut rows = Vec::new();
    for n in [4, 21, 100] {
        let (l, g) = (bft(n, &local), bft(n, &global));
        let (tl, tg) = (interval_s(&l) - 1.0, interval_s(&g) - 1.0);
        eprintln!("BFT n = {n}: time to finality {tl:.3} s in one region, {tg:.3} s over three");
        assert!(tg > tl * 1.5, "n = {n}: {tg} vs {tl}");
        rows.push(tl);
    }
    // In one region the delays are hops: the quorum is the (2f+1)-th of n vote arrivals, rank 3 of 4 (about the
    // 60th percentile of the delays) for n = 4 and 67 of 100 (the 66th) for n = 100, so more validators wait
    // longer. (Over three regions the draw of which validators are far away dominates: printed, not asserted.)
    assert!(rows[2] > rows[0], "{rows:?}");
}

#[test]
fn proof_of_stake_blocks_that_miss_the_next_proposer_are_orphaned() {
    let pos = |bytes: u64, mbps: u64| {
        let net = format!(
            "chains[0].network={{ mode = \"gossip\", nodes = 300, peers = 8, regions = [\"a\", \"b\"], latency_ms = [[20, 80], [80, 20]], bandwidth_mbps = {mbps}, block_bytes = {bytes} }}"
        );
        run(
            "chain.toml",
            FIXTURE,
            &[
                "duration=1d",
                "chains[0].consensus=\"pos\"",
                "chains[0].miners=[]",
                "chains[0].block_interval=\"12s\"",
                "chains[0].validators=1000",
                &net,
            ],
        )
    };
    let fast = pos(100_000, 50);
    let slow = pos(1_000_000, 4);
    let late =
        |m: &ChainMetrics| m.late_blocks as f64 / (m.canonical_blocks + m.missed_slots) as f64;
    eprintln!(
        "PoS 12 s slots: late {:.3} (100 kB at 50 Mbit/s, p90 receive {:.2} s), {:.3} (1 MB at 4 Mbit/s, p90 {:.2} s)",
        late(&fast),
        fast.receive.quantile_s(0.9),
        late(&slow),
        slow.receive.quantile_s(0.9)
    );
    assert_eq!(fast.late_blocks, 0);
    // 1 MB at 4 Mbit/s is 2 s a transfer, and a proposal crosses several hops, each serving several requests:
    // many proposals reach the next proposer only after its slot began.
    assert!(late(&slow) > 0.2, "{}", late(&slow));
}
