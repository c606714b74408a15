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

/// Mean and half-width of the 95% Student-t interval of `xs` (the model's mean over independently drawn networks).
fn t_interval(xs: &[f64]) -> (f64, f64) {
    // t quantiles 0.975 for 3 and 7 degrees of freedom.
    let t = match xs.len() {
        4 => 3.182,
        8 => 2.365,
        n => panic!("no t quantile for {n} samples"),
    };
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t * (var / n).sqrt())
}

/// Ten days of the scenario on each of `seeds` networks (each seed draws its own graph, bandwidths, regions and
/// miner nodes), with the overrides.
fn networks(seeds: std::ops::RangeInclusive<u64>, extra: &[&str]) -> Vec<ChainMetrics> {
    seeds
        .map(|seed| {
            let seed = format!("seed={seed}");
            let mut o = vec!["duration=10d", seed.as_str()];
            o.extend_from_slice(extra);
            run("gossip-bitcoin-2013.toml", BITCOIN_2013, &o)
        })
        .collect()
}

/// The fork rate a run's propagation implies (D&W's check; `implied_fork_rate`), against the one it had.
fn fork_rates(label: &str, m: &ChainMetrics) -> (f64, f64) {
    let implied = implied_fork_rate(m, 600.0) * (1.0 - 0.1342);
    eprintln!(
        "{label}: fork rate {:.4}, implied by the propagation {implied:.4}",
        stale_rate(m)
    );
    (stale_rate(m), implied)
}

#[test]
fn bitcoin_2013_against_decker_and_wattenhofer() {
    // The 2013 scenario on eight networks (seeds 1–8, ten days each: ~1,450 blocks and ~2.9 million node
    // receipts a network). A network is one draw of the graph, of the bandwidths (log-normal, σ = 1.74) and of
    // the nodes the pools sit on, and the draw matters: a large pool on a slow node slows every block it finds.
    // The measurement is one network; the tolerance is the 95% interval of the model's mean over the eight (its
    // expected value), so a model off by a factor fails while one whose average network is the measured one
    // passes.
    //
    // The fork rate must also be the one the propagation implies, D&W's own check: 1 − e^(−d/T) averaged over
    // every (block, node) receive delay d. The check treats the miners' delays as any node's, which holds over
    // networks (pools sit on random nodes) but not within one (a pool on a slow node forks more than the average
    // node's delay implies), so it is made on the paired differences over the eight networks.
    let runs = networks(1..=8, &[]);
    let mut gaps = Vec::new();
    for (k, m) in runs.iter().enumerate() {
        report(&format!("2013, seed {}", k + 1), m);
        let (fork, implied) = fork_rates(&format!("2013, seed {}", k + 1), m);
        gaps.push(fork - implied);
    }
    let (gap, half) = t_interval(&gaps);
    eprintln!("fork rate − implied: {gap:.4} ± {half:.4} (95%, 8 networks)");
    assert!(gap.abs() <= half, "{gap} ± {half}");
    let p50: Vec<f64> = runs.iter().map(|m| m.receive.quantile_s(0.5)).collect();
    let mean: Vec<f64> = runs.iter().map(|m| m.receive.mean_s()).collect();
    let forks: Vec<f64> = runs.iter().map(stale_rate).collect();
    for (name, reference, xs) in [
        ("receive p50 (s)", 6.5, &p50),
        ("receive mean (s)", 12.6, &mean),
        ("fork rate", 0.0169, &forks),
    ] {
        let (m, half) = t_interval(xs);
        eprintln!(
            "Decker & Wattenhofer 2013 {name}: {reference}; simulated {m:.4} ± {half:.4} (95%, 8 networks)"
        );
        assert!(
            (reference - m).abs() <= half,
            "{name}: {reference} outside {m} ± {half}"
        );
    }
    // Larger blocks propagate more slowly on every network (the 2014 block size, 350 kB, on seed 1).
    let big = networks(1..=1, &["chains[0].network.block_bytes=350000"]);
    for p in [0.5, 0.9, 0.99] {
        assert!(big[0].receive.quantile_s(p) > runs[0].receive.quantile_s(p));
    }
}

#[test]
#[ignore = "not matched (README validity table): the 2014 network relayed 350 kB blocks faster than the 2012 one \
            relayed 100 kB blocks, and transactions faster than an idle trickle loop allows"]
fn bitcoinstats_2014_blocks_and_transactions() {
    // bitcoinstats.com's snapshot of 2014-03-24 (Decker & Wattenhofer's method): blocks p50 3.3 s, p90 13.5 s,
    // p99 100.5 s; transactions p50 0.9 s, p90 2.6 s. The 2013 scenario with March 2014's average block (350 kB)
    // and probe transactions every hour, measured as a node connected to every node sees them (each node's
    // announcement to it, from the first seen). Tolerance: the 95% interval of the model's mean over four
    // networks, and never narrower than the published figure's last digit.
    //
    // Measured (seeds 1–4): blocks p50 16.8 s, p90 76 s, p99 390 s; transactions p50 1.6 s, p90 4.6 s. Why
    // not matched: per byte the 2014 network relayed blocks six times faster than the 2012 one (3.3 s for 350 kB
    // against 6.5 s for 100 kB), and the model keeps 2012's parameters but the block size; what changed between
    // (Bitcoin 0.8's validation on LevelDB, faster links, nodes in data centres) has no per-node figure to cite.
    // Transactions: the trickle loop passes every 100 ms only when a node is idle; a busy 2014 node passed much
    // more often (it does not sleep while messages wait), and no published figure gives the rate.
    let runs = networks(
        1..=4,
        &[
            "chains[0].network.block_bytes=350000",
            "chains[0].network.tx_probe_every=\"1h\"",
        ],
    );
    let q = |p: f64| -> Vec<f64> { runs.iter().map(|m| m.receive.quantile_s(p)).collect() };
    let tq = |p: f64| -> Vec<f64> { runs.iter().map(|m| m.tx_seen.quantile_s(p)).collect() };
    let mut failed = Vec::new();
    for (name, reference, digit, xs) in [
        ("block p50", 3.3, 0.05, q(0.5)),
        ("block p90", 13.5, 0.05, q(0.9)),
        ("block p99", 100.5, 0.05, q(0.99)),
        ("tx p50", 0.9, 0.05, tq(0.5)),
        ("tx p90", 2.6, 0.05, tq(0.9)),
    ] {
        let (m, half) = t_interval(&xs);
        let tol = half.max(digit);
        eprintln!("bitcoinstats 2014 {name}: {reference} s; simulated {m:.3} ± {tol:.3} s");
        if (reference - m).abs() > tol {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "not matched: {failed:?}");
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

/// Compact blocks (BIP 152) on the fixed-delay graph above: a receipt with every transaction in the mempool
/// costs inv, getdata and the compact block (3 latencies), one that misses some costs a getblocktxn and the
/// transactions on top (5 latencies); transfers of 1 kB at 1 Gbit/s take 8 µs. With `missing_share` 0 and 1 every
/// receipt is the one or the other, so the median receive delay is exactly validation + 3 or + 5 latencies.
#[test]
fn compact_blocks_cost_a_round_trip_more_when_transactions_are_missing() {
    for (missing_share, latencies) in [(0.0, 3), (1.0, 5)] {
        let net = format!(
            "chains[0].network={{ mode = \"gossip\", nodes = 11, peers = 10, latency_ms = [[300]], bandwidth_mbps = 1000, block_bytes = 1000, validation = \"100ms\", relay = \"compact\", compact_bytes = 200, missing_share = {missing_share}, missing_bytes = 500 }}"
        );
        let m = run(
            "chain.toml",
            FIXTURE,
            &[
                "duration=1d",
                "chains[0].miners=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
                &net,
            ],
        );
        let tau = 0.1 + latencies as f64 * 0.3;
        let p50 = m.receive.quantile_s(0.5);
        assert!(
            (p50 / tau - 1.0).abs() < 0.01,
            "missing share {missing_share}: median {p50} s, expected {tau} s"
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
    // 200 nodes, 8 peers, 100 kB proposals at 200 Mbit/s. One region (10 ms) against three continents. The
    // links are fast enough that latency, not transfer, sets the pace (at 20 Mbit/s a node serving its ~17 peers
    // at once on its shared uplink takes 0.7 s a hop, whatever the geography).
    let net = |regions: &str, latency: &str| {
        format!(
            "nodes = 200, peers = 8, regions = {regions}, latency_ms = {latency}, bandwidth_mbps = 200, block_bytes = 100000, validation = \"20ms\""
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

const POS: [&str; 4] = [
    "chains[0].consensus=\"pos\"",
    "chains[0].miners=[]",
    "chains[0].block_interval=\"12s\"",
    "chains[0].background.tx_per_s=0",
];

fn pos_overrides(duration: &str, validators: usize, network: Option<&str>) -> Vec<String> {
    let mut o: Vec<String> = POS.iter().map(|s| s.to_string()).collect();
    o.push(format!("duration={duration}"));
    o.push(format!("chains[0].validators={validators}"));
    if let Some(n) = network {
        o.push(format!("chains[0].network={{ mode = \"gossip\", {n} }}"));
    }
    o
}

fn pos(duration: &str, validators: usize, network: Option<&str>) -> ChainMetrics {
    let o = pos_overrides(duration, validators, network);
    let o: Vec<&str> = o.iter().map(String::as_str).collect();
    run("chain.toml", FIXTURE, &o)
}

fn share(count: u64, of: u64) -> f64 {
    count as f64 / of.max(1) as f64
}

fn report_pos(label: &str, m: &ChainMetrics) {
    let a = &m.attest;
    eprintln!(
        "{label}: blocks {} (late {}); attestations head {:.4}, in time at the aggregator {:.4}, next slot {:.4}, included {:.4}; delay to the aggregator p50 {:.3} s p90 {:.3} s; finality mean {:.1} s over {} slots ({} never final)",
        m.canonical_blocks,
        m.late_blocks,
        share(a.head, a.expected),
        share(a.aggregated, a.expected),
        share(a.next_slot, a.expected),
        share(a.included, a.expected),
        a.delay.quantile_s(0.5),
        a.delay.quantile_s(0.9),
        m.finality.mean_s(),
        m.finality.count,
        a.slots_unfinal,
    );
}

#[test]
fn pos_finality_over_gossip_is_casper_ffg_and_never_faster_than_two_epochs() {
    // A fast network (41 nodes, all linked, 5 ms, 1 Gbit/s, 10 kB blocks): every attestation reaches its
    // aggregator and the next proposer in time, so every epoch is justified at its end and each end finalizes
    // the epoch before. A slot's time to finality is then exact: 64 slots (two epochs) for an epoch's first
    // slot, whose block is the checkpoint, and 96 − k slots for its k-th: the mean over an epoch is 79.5 slots.
    // The analytic bound: never below two epochs of 32 slots of 12 s.
    let m = pos(
        "1d",
        640,
        Some(
            "nodes = 41, peers = 40, latency_ms = [[5]], bandwidth_mbps = 1000, block_bytes = 10000, validation = \"1ms\"",
        ),
    );
    report_pos("PoS, fast network", &m);
    let slot_us = 12_000_000;
    let f = &m.finality;
    assert_eq!(f.min_us, 64 * slot_us, "two epochs, exactly");
    assert_eq!(f.max_us, 95 * slot_us);
    // Every slot from epoch 2 on (7,200 slots, 225 epochs) is final but those after the last finalized
    // checkpoint, which the end of the run leaves waiting: fewer than three epochs.
    assert_eq!(f.count + m.attest.slots_unfinal, 7_200 - 64);
    assert!(m.attest.slots_unfinal < 96, "{}", m.attest.slots_unfinal);
    // The mean over the slots final by the end (whole epochs and the next checkpoint slot): 79.5 slots an epoch.
    let rule = |s: u64| {
        if s.is_multiple_of(32) {
            64
        } else {
            96 - s % 32
        }
    };
    let finals = 64..64 + f.count;
    let expected = finals.map(rule).sum::<u64>() as f64 / f.count as f64 * 12.0;
    assert!(
        (f.mean_s() / expected - 1.0).abs() < 1e-9,
        "{} vs {expected}",
        f.mean_s()
    );
    assert!((expected / (79.5 * 12.0) - 1.0).abs() < 0.001);
    let a = &m.attest;
    assert_eq!(a.made, a.expected);
    assert_eq!(a.head, a.expected);
    assert_eq!(
        a.aggregated, a.expected,
        "every attestation reaches its aggregator in time"
    );
    // All but the last slot's attestations are in the next block.
    assert_eq!(a.next_slot, a.expected - 20);
    // The epoch rule of an abstract network (final two epochs after the end of the block's epoch): one epoch
    // more for an epoch's first slot, 80.5 slots on average.
    let abs = pos("1d", 640, None);
    assert!((abs.finality.mean_s() / (80.5 * 12.0) - 1.0).abs() < 1e-9);
    assert_eq!(abs.finality.min_us, 65 * slot_us);
}

#[test]
fn pos_attestation_delays_on_a_uniform_graph_are_its_hop_distances() {
    // One region, 1 s latency and practically infinite bandwidth: an attestation's delay to its aggregator is
    // the number of hops between their nodes, in seconds. 6,400 validators on the 200 nodes that are not the
    // observer (each node one validator of every slot's committee of 200), so the pairs (member, aggregator)
    // are every pair of validator nodes, weighted by how often each node aggregates. The test computes the
    // hop distances itself (breadth-first search) and compares the two distributions at every hop count.
    let net = "nodes = 201, peers = 4, latency_ms = [[1000]], bandwidth_mbps = 1000000, block_bytes = 1000, validation = \"1ms\"";
    let o = pos_overrides("6h", 6_400, Some(net));
    let loaded = settlesim::scenario::load("chain.toml", FIXTURE, &o).unwrap();
    let settlesim::model::chain::spec::Network::Gossip(g) = &loaded.world.chains[0].network else {
        panic!("a gossip network")
    };
    let producers: Vec<usize> = g.producers.iter().map(|&n| n as usize).collect();
    assert_eq!(producers.len(), 200);
    // hops[a][n]: breadth-first search from each producer node.
    let mut cdf_rows: Vec<Vec<f64>> = Vec::new();
    for &a in &producers {
        let mut dist = vec![usize::MAX; g.nodes()];
        dist[a] = 0;
        let mut queue = std::collections::VecDeque::from([a]);
        while let Some(u) = queue.pop_front() {
            for &w in &g.peers[u] {
                if dist[w as usize] == usize::MAX {
                    dist[w as usize] = dist[u] + 1;
                    queue.push_back(w as usize);
                }
            }
        }
        let mut row = vec![0.0; 16];
        for &n in &producers {
            for (k, cell) in row.iter_mut().enumerate() {
                *cell += f64::from(dist[n] <= k) / producers.len() as f64;
            }
        }
        cdf_rows.push(row);
    }
    let (m, _) = sim::run(&loaded.world, NullSink, &RunOptions::default()).unwrap();
    let m = &m.chains[0].metrics;
    report_pos("PoS, uniform graph", m);
    let slots = 1_800.0;
    for k in 0..8 {
        let column: Vec<f64> = cdf_rows.iter().map(|r| r[k]).collect();
        let mean = column.iter().sum::<f64>() / column.len() as f64;
        let var = column.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / column.len() as f64;
        // The aggregator of each slot is a random member: the simulated share is a mean over 1,800 draws.
        let se = (var / slots).sqrt();
        let got = m.attest.delay.share_below_s(k as f64 + 0.5);
        eprintln!("≤ {k} hops: simulated {got:.4}, graph {mean:.4} ± {se:.4}");
        assert!(
            (got - mean).abs() <= 4.0 * se + 1e-9,
            "{k} hops: {got} vs {mean}"
        );
    }
}

#[test]
fn pos_more_validators_wider_geography_and_less_bandwidth_attest_later() {
    // 300 nodes, 100 kB blocks, six hours. A committee's attestations share the upload links they cross, so
    // more validators (larger committees up to 8,192 validators) make each attestation slower; wider latencies
    // and thinner links do too. Past a point attestations miss the aggregation two thirds into the slot (then
    // fewer than two thirds count and no epoch is justified: finality stops) or blocks reach the next proposer
    // late (orphaned: their attestations wait for a later block).
    let net = |geo: &str, mbps: f64| {
        format!("nodes = 300, peers = 8, {geo}, bandwidth_mbps = {mbps}, block_bytes = 100000")
    };
    let final_share =
        |m: &ChainMetrics| share(m.finality.count, m.finality.count + m.attest.slots_unfinal);
    // Validators, at 2 Mbit/s in one region.
    let one = "latency_ms = [[50]]";
    let mut last: Option<ChainMetrics> = None;
    for v in [1_000, 2_000, 4_000, 8_000] {
        let m = pos("6h", v, Some(&net(one, 2.0)));
        report_pos(&format!("{v} validators"), &m);
        if let Some(p) = &last {
            assert!(m.attest.delay.quantile_s(0.5) > p.attest.delay.quantile_s(0.5));
            assert!(
                m.attest.aggregated * p.attest.expected <= p.attest.aggregated * m.attest.expected
            );
            assert!(final_share(&m) <= final_share(p));
        }
        last = Some(m);
    }
    let m = last.expect("ran");
    assert!(share(m.attest.aggregated, m.attest.expected) < 2.0 / 3.0);
    assert_eq!((m.attest.finalized_epoch, m.finality.count), (0, 0));
    // Geography: three continents, latencies × 1, 3, 10, at 50 Mbit/s with 4,000 validators.
    let mut last: Option<ChainMetrics> = None;
    for scale in [1.0, 3.0, 10.0] {
        let l = |ms: f64| ms * scale;
        let geo = format!(
            "regions = [\"america\", \"europe\", \"asia\"], latency_ms = [[{}, {}, {}], [{}, {}, {}], [{}, {}, {}]]",
            l(20.0),
            l(45.0),
            l(90.0),
            l(45.0),
            l(15.0),
            l(110.0),
            l(90.0),
            l(110.0),
            l(30.0)
        );
        let m = pos("6h", 4_000, Some(&net(&geo, 50.0)));
        report_pos(&format!("latencies × {scale}"), &m);
        if let Some(p) = &last {
            assert!(m.attest.delay.quantile_s(0.5) > p.attest.delay.quantile_s(0.5));
            assert!(m.attest.next_slot <= p.attest.next_slot);
        }
        last = Some(m);
    }
    // Bandwidth, 1,000 validators in one region.
    let mut last: Option<ChainMetrics> = None;
    for mbps in [20.0, 5.0, 2.0, 1.0] {
        let m = pos("6h", 1_000, Some(&net(one, mbps)));
        report_pos(&format!("{mbps} Mbit/s"), &m);
        if let Some(p) = &last {
            assert!(m.attest.delay.quantile_s(0.5) > p.attest.delay.quantile_s(0.5));
            assert!(m.attest.next_slot <= p.attest.next_slot);
            assert!(final_share(&m) <= final_share(p));
        }
        last = Some(m);
    }
}

const BTC_PRICE: &str = include_str!("fixtures/btc-price.toml");

/// Each payment's time from broadcast to inclusion, by demand id, and the chain's figures.
fn inclusion_times(relay: &str) -> (std::collections::BTreeMap<u64, u64>, ChainMetrics) {
    let net = format!(
        "chains[0].network={{ mode = \"gossip\", nodes = 100, peers = 8, latency_ms = [[50]], bandwidth_mbps = 50, block_bytes = 20000, tx_relay = \"{relay}\" }}"
    );
    let o: Vec<String> = [
        "duration=20d",
        "chains[0].miners=[1]",
        "chains[0].block_interval=\"1m\"",
        "corridors[0].payments_per_day=1000",
        net.as_str(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let loaded = settlesim::scenario::load("btc-price.toml", BTC_PRICE, &o).unwrap();
    let mut times = std::collections::BTreeMap::new();
    let sink = |r: &settlesim::model::record::PaymentRecord| {
        if let Some(us) = r.chain_inclusion_us {
            times.insert(r.demand_id, us);
        }
    };
    let (outcome, _) = sim::run(&loaded.world, sink, &RunOptions::default()).unwrap();
    (times, outcome.chains.into_iter().next().unwrap().metrics)
}

#[test]
fn payment_transfers_wait_for_relay_to_reach_the_miner() {
    // One miner, a block a minute, room for every transfer. A transfer broadcast at t through a random node
    // reaches the miner's node d later; the first block after t + d takes it. Blocks are a Poisson process drawn
    // from the chain's stream and relay from its own, so both runs have the same blocks, and by memorylessness
    // E[inclusion with relay − inclusion without] = E[d] exactly: the mean paired difference must equal the mean
    // relay delay to the miner (within four standard errors of the paired differences).
    for relay in ["trickle", "poisson"] {
        let (instant, _) = inclusion_times("instant");
        let (relayed, m) = inclusion_times(relay);
        let diffs: Vec<f64> = instant
            .iter()
            .filter_map(|(id, &a)| relayed.get(id).map(|&b| (b as f64 - a as f64) / 1e6))
            .collect();
        let n = diffs.len() as f64;
        let mean = diffs.iter().sum::<f64>() / n;
        let sd = (diffs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let d = m.tx_to_miners.mean_s();
        eprintln!(
            "{relay}: {} payments, inclusion later by {mean:.3} s ± {:.3} (SE); relay to the miner {d:.3} s (p50 {:.3}, p90 {:.3})",
            diffs.len(),
            sd / n.sqrt(),
            m.tx_to_miners.quantile_s(0.5),
            m.tx_to_miners.quantile_s(0.9),
        );
        assert!(n > 15_000.0);
        assert!(d > 0.1, "relay takes time: {d}");
        assert!((mean - d).abs() < 4.0 * sd / n.sqrt(), "{mean} vs {d}");
    }
}
