//! Validation of `[[chains]]`: consensus parameters, capacities, fee market, load and faults.

use crate::model::chain::spec::{
    Burst, ChainSpec, Consensus, FeeMarket, Gossip, Network, Offline, Relay, TxRelay, Upload,
};
use crate::rng::Delay;
use crate::scenario::raw::{ChainDef, DelayDef, NetworkDef};
use crate::scenario::validate::{Invalid, at_most, delay, duration};

type R<T> = Result<T, Invalid>;

fn bad<T>(path: impl Into<String>, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path: path.into(),
        message: message.into(),
    })
}

/// Fields that belong to other consensus families must be left out, so a typo in `consensus` is not silent.
fn forbid(p: &str, consensus: &str, fields: &[(&str, bool)]) -> R<()> {
    for (name, present) in fields {
        if *present {
            return bad(
                format!("{p}.{name}"),
                format!("not a parameter of {consensus} consensus"),
            );
        }
    }
    Ok(())
}

fn window(p: &str, from: &str, to: &str) -> R<(u64, u64)> {
    let a = duration(&format!("{p}.from"), from)?;
    let b = duration(&format!("{p}.to"), to)?;
    if b <= a {
        return bad(format!("{p}.to"), "must be after from");
    }
    Ok((a, b))
}

/// The network of a chain: abstract, or a gossip graph drawn from the chain's own stream `chain/<id>/peers`
/// (links, relay order, regions, bandwidths and the nodes of miners or validators).
fn network(p: &str, c: &ChainDef, consensus: &Consensus, seed: u64) -> R<Network> {
    let Some(n) = &c.network else {
        return Ok(Network::Abstract);
    };
    let chain_p = p;
    let p = format!("{p}.network");
    match n.mode.as_str() {
        "abstract" => {
            // An abstract network is the chain's `propagation` delay: a gossip field would change nothing.
            if let Some((field, _)) = n.gossip_fields().into_iter().find(|(_, given)| *given) {
                return bad(
                    format!("{p}.{field}"),
                    "only a gossip network reads it (an abstract network is the chain's propagation delay): leave it out or set mode = \"gossip\"",
                );
            }
            return Ok(Network::Abstract);
        }
        "gossip" => {}
        other => {
            return bad(
                format!("{p}.mode"),
                format!("unknown mode {other:?} (\"abstract\" or \"gossip\")"),
            );
        }
    }
    let producers_n = match consensus {
        Consensus::Nakamoto { shares, .. } => shares.len(),
        Consensus::Bft { validators, .. } => *validators,
        // Many validators share a node (as on Ethereum): at most one producer slot per node.
        Consensus::Pos { validators, .. } => {
            (*validators).min(n.nodes().saturating_sub(1) as usize)
        }
    };
    let nodes = n.nodes() as usize;
    if nodes < producers_n + 1 || nodes > 10_000 {
        return bad(
            format!("{p}.nodes"),
            format!(
                "between the miners or validators plus one ({}) and 10000",
                producers_n + 1
            ),
        );
    }
    let peers_n = n.peers();
    if peers_n == 0 || peers_n as usize >= nodes {
        return bad(format!("{p}.peers"), "between 1 and nodes - 1");
    }
    let regions = n.regions();
    let latency_ms = n.latency_ms();
    let r = regions.len();
    if r == 0 || r > 64 || latency_ms.len() != r || latency_ms.iter().any(|row| row.len() != r) {
        return bad(
            format!("{p}.latency_ms"),
            format!("a {r} × {r} matrix, one row and column per region (at most 64 regions)"),
        );
    }
    let mut latency_us = vec![vec![0; r]; r];
    for (a, row) in latency_ms.iter().enumerate() {
        for (b, &ms) in row.iter().enumerate() {
            latency_us[a][b] = (at_most(&format!("{p}.latency_ms[{a}][{b}]"), ms, 60_000.0)?
                * 1000.0)
                .round() as u64;
        }
    }
    let positive = |path: String, x: f64| -> R<f64> {
        if x.is_finite() && x > 0.0 && x <= 1e6 {
            Ok(x)
        } else {
            bad(path, format!("must be positive and at most 1e6, got {x}"))
        }
    };
    let medians: Vec<f64> = match (&n.bandwidth_mbps, &n.region_bandwidth_mbps) {
        (Some(_), Some(_)) => {
            return bad(
                format!("{p}.region_bandwidth_mbps"),
                "give bandwidth_mbps (every node) or region_bandwidth_mbps (per region), not both",
            );
        }
        (_, Some(list)) => {
            if list.len() != r {
                return bad(
                    format!("{p}.region_bandwidth_mbps"),
                    format!("one bandwidth per region ({r})"),
                );
            }
            list.iter()
                .enumerate()
                .map(|(k, &x)| positive(format!("{p}.region_bandwidth_mbps[{k}]"), x))
                .collect::<R<_>>()?
        }
        (b, None) => vec![positive(format!("{p}.bandwidth_mbps"), b.unwrap_or(50.0))?; r],
    };
    let sigma = at_most(
        &format!("{p}.bandwidth_sigma"),
        n.bandwidth_sigma.unwrap_or(0.0),
        3.0,
    )?;
    let shares = match &n.region_shares {
        None => None,
        Some(list) => {
            if list.len() != r {
                return bad(
                    format!("{p}.region_shares"),
                    format!("one share per region ({r})"),
                );
            }
            for (k, &x) in list.iter().enumerate() {
                positive(format!("{p}.region_shares[{k}]"), x)?;
            }
            Some(list.clone())
        }
    };
    let block_bytes = n.block_bytes.unwrap_or(c.block_capacity);
    if block_bytes == 0 || block_bytes > 1 << 34 {
        return bad(format!("{p}.block_bytes"), "between 1 byte and 16 GiB");
    }
    let relay = relay(&p, n, c, block_bytes)?;
    let upload = match n.upload.as_deref().unwrap_or("shared") {
        "shared" => Upload::Shared,
        "fifo" => Upload::Fifo,
        other => {
            return bad(
                format!("{p}.upload"),
                format!("unknown upload {other:?} (\"shared\" or \"fifo\")"),
            );
        }
    };
    let vote_bytes = match (n.vote_bytes, consensus) {
        (Some(_), Consensus::Nakamoto { .. }) => {
            return bad(
                format!("{p}.vote_bytes"),
                "only BFT votes and proof-of-stake attestations travel as messages (nakamoto has none): leave it out",
            );
        }
        (Some(v), _) if v == 0 || v > 1 << 20 => {
            return bad(format!("{p}.vote_bytes"), "between 1 byte and 1 MiB");
        }
        (v, _) => v.unwrap_or(200),
    };
    if matches!(consensus, Consensus::Pos { .. }) && c.finality_epochs.is_some_and(|e| e != 2) {
        return bad(
            format!("{chain_p}.finality_epochs"),
            "a proof-of-stake chain over gossip finalizes by Casper FFG's rule (two justified epochs in a row): leave it out or set 2",
        );
    }
    if matches!(consensus, Consensus::Bft { .. }) && c.message_delay.is_some() {
        return bad(
            format!("{chain_p}.message_delay"),
            "a BFT chain over gossip takes its message delays from the network: leave it out",
        );
    }
    let tx_relay = match (n.tx_relay.as_deref().unwrap_or("instant"), consensus) {
        ("instant", _) => TxRelay::Instant,
        (_, Consensus::Pos { .. } | Consensus::Bft { .. }) => {
            return bad(
                format!("{p}.tx_relay"),
                "transactions travel over gossip on nakamoto chains only (a proof-of-stake or BFT chain keeps one mempool): leave it out",
            );
        }
        ("trickle", _) => TxRelay::Trickle,
        ("poisson", _) => TxRelay::Poisson,
        (other, _) => {
            return bad(
                format!("{p}.tx_relay"),
                format!("unknown tx_relay {other:?} (\"instant\", \"trickle\" or \"poisson\")"),
            );
        }
    };
    let tx_probe_every_us = match &n.tx_probe_every {
        None => 0,
        Some(_) if tx_relay == TxRelay::Instant => {
            return bad(
                format!("{p}.tx_probe_every"),
                "probes measure transaction relay: set tx_relay = \"trickle\" or \"poisson\", or leave it out",
            );
        }
        Some(d) => {
            let us = duration(&format!("{p}.tx_probe_every"), d)?;
            if us < 1_000_000 {
                return bad(format!("{p}.tx_probe_every"), "at least 1s");
            }
            us
        }
    };
    let validate_us = duration(&format!("{p}.validation"), &n.validation())?;
    let mut stream = crate::rng::stream(seed, &format!("chain/{}/peers", c.id));
    let (peers, outbound) = graph(&mut stream, nodes, peers_n as usize);
    let region_of: Vec<u16> = match &shares {
        None => (0..nodes).map(|k| (k % r) as u16).collect(),
        Some(w) => (0..nodes)
            .map(|_| crate::rng::pick_weighted(&mut stream, w) as u16)
            .collect(),
    };
    let upload_bps = region_of
        .iter()
        .map(|&reg| {
            let z = if sigma > 0.0 {
                crate::rng::standard_normal(&mut stream)
            } else {
                0.0
            };
            medians[reg as usize] * 1e6 * (sigma * z).exp()
        })
        .collect();
    // Miners or validators on distinct random nodes, never the observer (the last node): a partial shuffle.
    let mut order: Vec<u32> = (0..nodes as u32 - 1).collect();
    for k in 0..producers_n {
        let j = k + (crate::rng::unit(&mut stream) * (order.len() - k) as f64) as usize;
        let last = order.len() - 1;
        order.swap(k, j.min(last));
    }
    order.truncate(producers_n);
    Ok(Network::Gossip(Box::new(Gossip {
        peers,
        outbound,
        region_of,
        latency_us,
        upload_bps,
        block_bytes,
        relay,
        upload,
        validate_us,
        vote_bytes,
        tx_relay,
        tx_probe_every_us,
        producers: order,
    })))
}

/// A ring keeps the graph connected; each node then adds `peers` random links (undirected, no duplicates); each
/// node's list is then shuffled, so that the order it announces in carries no bias by node index. Returns each
/// node's peers and, beside each, whether the node opened that link (outbound: its ring successor and the links it
/// drew; on a complete graph, the links to higher-numbered nodes).
fn graph(
    stream: &mut crate::rng::Stream,
    nodes: usize,
    k: usize,
) -> (Vec<Vec<u32>>, Vec<Vec<bool>>) {
    let mut peers: Vec<Vec<(u32, bool)>> = if k + 1 >= nodes {
        // As many peers as other nodes: every node links to every other (a complete graph).
        (0..nodes)
            .map(|i| {
                (0..nodes as u32)
                    .filter(|&j| j as usize != i)
                    .map(|j| (j, j as usize > i))
                    .collect()
            })
            .collect()
    } else {
        let mut peers: Vec<Vec<(u32, bool)>> = (0..nodes)
            .map(|i| {
                vec![
                    (((i + 1) % nodes) as u32, true),
                    (((i + nodes - 1) % nodes) as u32, false),
                ]
            })
            .collect();
        for i in 0..nodes {
            for _ in 0..k {
                let j = (crate::rng::unit(stream) * nodes as f64) as usize % nodes;
                if j != i && !peers[i].iter().any(|&(p, _)| p == j as u32) {
                    peers[i].push((j as u32, true));
                    peers[j].push((i as u32, false));
                }
            }
        }
        for list in &mut peers {
            // A link both ends drew (or a ring link also drawn) is outbound for whichever opened it first;
            // either way one link.
            list.sort_unstable_by_key(|&(p, out)| (p, !out));
            list.dedup_by_key(|&mut (p, _)| p);
        }
        peers
    };
    shuffle_each(stream, &mut peers);
    peers
        .into_iter()
        .map(|list| list.into_iter().unzip())
        .unzip()
}

fn shuffle_each<T>(stream: &mut crate::rng::Stream, peers: &mut [Vec<T>]) {
    for list in peers {
        for a in (1..list.len()).rev() {
            let b = (crate::rng::unit(stream) * (a + 1) as f64) as usize;
            list.swap(a, b.min(a));
        }
    }
}

/// How a requested block travels: whole, or as a compact block (fields that only compact relay reads are refused
/// under full relay).
fn relay(p: &str, n: &NetworkDef, c: &ChainDef, block_bytes: u64) -> R<Relay> {
    let compact_fields = [
        ("compact_bytes", n.compact_bytes.is_some()),
        ("missing_share", n.missing_share.is_some()),
        ("missing_bytes", n.missing_bytes.is_some()),
    ];
    match n.relay.as_deref().unwrap_or("full") {
        "full" => {
            for (name, present) in compact_fields {
                if present {
                    return bad(format!("{p}.{name}"), "applies to relay = \"compact\" only");
                }
            }
            Ok(Relay::Full)
        }
        "compact" => {
            // BIP 152: an 80-byte header and a 6-byte short id per transaction.
            let txs = c.block_capacity / c.tx_units.max(1);
            let compact_bytes = n.compact_bytes.unwrap_or((80 + 6 * txs).min(block_bytes));
            if compact_bytes == 0 || compact_bytes > block_bytes {
                return bad(
                    format!("{p}.compact_bytes"),
                    format!("between 1 and the block's {block_bytes} bytes"),
                );
            }
            let missing_share = n.missing_share.unwrap_or(0.13);
            if !(0.0..=1.0).contains(&missing_share) {
                return bad(
                    format!("{p}.missing_share"),
                    format!("must be between 0 and 1, got {missing_share}"),
                );
            }
            let missing_bytes = n.missing_bytes.unwrap_or(block_bytes / 20).max(1);
            if missing_bytes > block_bytes {
                return bad(
                    format!("{p}.missing_bytes"),
                    format!("at most the block's {block_bytes} bytes"),
                );
            }
            Ok(Relay::Compact {
                compact_bytes,
                missing_share,
                missing_bytes,
            })
        }
        other => bad(
            format!("{p}.relay"),
            format!("unknown relay {other:?} (\"full\" or \"compact\")"),
        ),
    }
}

pub fn chain(i: usize, c: &ChainDef, seed: u64) -> R<ChainSpec> {
    let p = format!("chains[{i}]");
    let interval = duration(&format!("{p}.block_interval"), &c.block_interval)?;
    if interval == 0 {
        return bad(format!("{p}.block_interval"), "must be positive");
    }
    let validators = c.validators;
    let consensus = match c.consensus.as_str() {
        "nakamoto" => {
            forbid(
                &p,
                "nakamoto",
                &[
                    ("validators", validators.is_some()),
                    ("slots_per_epoch", c.slots_per_epoch.is_some()),
                    ("finality_epochs", c.finality_epochs.is_some()),
                    ("missed_slot_rate", c.missed_slot_rate.is_some()),
                    ("round_timeout", c.round_timeout.is_some()),
                    ("message_delay", c.message_delay.is_some()),
                    ("empty_blocks", c.empty_blocks.is_some()),
                    ("empty_block_interval", c.empty_block_interval.is_some()),
                ],
            )?;
            if c.miners.is_empty() || c.miners.len() > 1000 {
                return bad(format!("{p}.miners"), "give between 1 and 1000 hash shares");
            }
            for (k, &s) in c.miners.iter().enumerate() {
                if !(s.is_finite() && s > 0.0) {
                    return bad(
                        format!("{p}.miners[{k}]"),
                        format!("must be positive, got {s}"),
                    );
                }
            }
            Consensus::Nakamoto {
                interval_us: interval,
                shares: c.miners.clone(),
            }
        }
        "pos" => {
            forbid(
                &p,
                "pos",
                &[
                    ("miners", !c.miners.is_empty()),
                    ("round_timeout", c.round_timeout.is_some()),
                    ("message_delay", c.message_delay.is_some()),
                    ("empty_blocks", c.empty_blocks.is_some()),
                    ("empty_block_interval", c.empty_block_interval.is_some()),
                ],
            )?;
            let missed = c.missed_slot_rate.unwrap_or(0.0);
            if !(0.0..1.0).contains(&missed) {
                return bad(
                    format!("{p}.missed_slot_rate"),
                    format!("must be in [0, 1), got {missed}"),
                );
            }
            Consensus::Pos {
                slot_us: interval,
                slots_per_epoch: c.slots_per_epoch.unwrap_or(32).clamp(1, 1 << 20),
                finality_epochs: c.finality_epochs.unwrap_or(2).min(1000),
                missed_rate: missed,
                validators: validator_count(&p, validators.unwrap_or(100), 1_000_000)?,
            }
        }
        "bft" => {
            forbid(
                &p,
                "bft",
                &[
                    ("miners", !c.miners.is_empty()),
                    ("slots_per_epoch", c.slots_per_epoch.is_some()),
                    ("finality_epochs", c.finality_epochs.is_some()),
                    ("missed_slot_rate", c.missed_slot_rate.is_some()),
                ],
            )?;
            let timeout = duration(
                &format!("{p}.round_timeout"),
                c.round_timeout.as_deref().unwrap_or("3s"),
            )?;
            if timeout == 0 {
                return bad(format!("{p}.round_timeout"), "must be positive");
            }
            let md = c.message_delay.clone().unwrap_or(DelayDef {
                fixed: Some("50ms".into()),
                ..DelayDef::default()
            });
            let empty_blocks = c.empty_blocks.unwrap_or(true);
            let empty_block_interval_us = match &c.empty_block_interval {
                None => 0,
                Some(_) if empty_blocks => {
                    return bad(
                        format!("{p}.empty_block_interval"),
                        "applies only with empty_blocks = false (a chain that idles)",
                    );
                }
                Some(d) => match duration(&format!("{p}.empty_block_interval"), d)? {
                    0 => return bad(format!("{p}.empty_block_interval"), "must be positive"),
                    us => us,
                },
            };
            Consensus::Bft {
                // O(n²) messages per round are simulated one by one: keep n where that stays fast.
                validators: validator_count(&p, validators.unwrap_or(4), 200)?,
                commit_pause_us: interval,
                round_timeout_us: timeout,
                message_delay: delay(&format!("{p}.message_delay"), &md)?,
                empty_blocks,
                empty_block_interval_us,
            }
        }
        other => {
            return bad(
                format!("{p}.consensus"),
                format!("unknown consensus {other:?} (\"nakamoto\", \"pos\" or \"bft\")"),
            );
        }
    };
    if c.block_capacity == 0 || c.block_capacity > 1 << 40 {
        return bad(
            format!("{p}.block_capacity"),
            "must be between 1 and 2^40 units",
        );
    }
    if c.tx_units == 0 || c.tx_units > c.block_capacity {
        return bad(
            format!("{p}.tx_units"),
            "must be positive and fit in a block",
        );
    }
    let fee_market = match c.fee_market.as_str() {
        "first_price" => {
            if c.base_fee.is_some() {
                return bad(
                    format!("{p}.base_fee"),
                    "only an eip1559 fee market has a base fee",
                );
            }
            FeeMarket::FirstPrice
        }
        "eip1559" => FeeMarket::Eip1559 {
            initial_base: c.base_fee.unwrap_or(1).clamp(1, 1 << 50),
        },
        other => {
            return bad(
                format!("{p}.fee_market"),
                format!("unknown fee market {other:?} (\"first_price\" or \"eip1559\")"),
            );
        }
    };
    if c.native.is_empty() || c.native.len() > 8 {
        return bad(format!("{p}.native"), "a short asset code such as \"BTC\"");
    }
    if c.native_decimals > 18 {
        return bad(format!("{p}.native_decimals"), "at most 18");
    }
    let price = at_most(&format!("{p}.native_price_usd"), c.native_price_usd, 1e9)?;
    let b = &c.background;
    let tx_per_s = at_most(&format!("{p}.background.tx_per_s"), b.tx_per_s, 1e6)?;
    if !(b.fee_median.is_finite() && b.fee_median > 0.0 && b.fee_median <= 1e15) {
        return bad(
            format!("{p}.background.fee_median"),
            "must be positive and at most 1e15",
        );
    }
    let fee_sigma = at_most(&format!("{p}.background.fee_sigma"), b.fee_sigma, 5.0)?;
    let max_fee_median = match (b.max_fee_median, fee_market) {
        (Some(m), FeeMarket::Eip1559 { .. }) => {
            if !(m.is_finite() && (1.0..=1e15).contains(&m)) {
                return bad(
                    format!("{p}.background.max_fee_median"),
                    "must be between 1 and 1e15",
                );
            }
            m
        }
        (Some(_), FeeMarket::FirstPrice) => {
            return bad(
                format!("{p}.background.max_fee_median"),
                "only an eip1559 fee market has a max fee",
            );
        }
        (None, FeeMarket::Eip1559 { initial_base }) => 10.0 * initial_base as f64,
        (None, FeeMarket::FirstPrice) => 1.0,
    };
    let max_fee_mu = max_fee_median.ln();
    let bursts = b
        .bursts
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let bp = format!("{p}.background.bursts[{k}]");
            let (from_us, to_us) = window(&bp, &x.from, &x.to)?;
            Ok(Burst {
                from_us,
                to_us,
                tx_per_s: at_most(&format!("{bp}.tx_per_s"), x.tx_per_s, 1e6)?,
                fee_multiplier: at_most(&format!("{bp}.fee_multiplier"), x.fee_multiplier, 1e6)?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    let halts = c
        .halts
        .iter()
        .enumerate()
        .map(|(k, h)| window(&format!("{p}.halts[{k}]"), &h.from, &h.to))
        .collect::<R<Vec<_>>>()?;
    let n_validators = match &consensus {
        Consensus::Pos { validators, .. } | Consensus::Bft { validators, .. } => *validators,
        Consensus::Nakamoto { .. } => 0,
    };
    let offline = c
        .offline
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let op = format!("{p}.offline[{k}]");
            if o.validator >= n_validators {
                return bad(
                    format!("{op}.validator"),
                    format!("no validator {} (there are {n_validators})", o.validator),
                );
            }
            let (from_us, to_us) = window(&op, &o.from, &o.to)?;
            Ok(Offline {
                validator: o.validator,
                from_us,
                to_us,
            })
        })
        .collect::<R<Vec<_>>>()?;
    // Blocks of PoS and BFT chains reach the observer when produced (they do not fork here): a propagation
    // delay would change nothing, so it is refused rather than silently ignored.
    if !matches!(consensus, Consensus::Nakamoto { .. }) && c.propagation != DelayDef::default() {
        return bad(
            format!("{p}.propagation"),
            format!(
                "propagation applies to nakamoto chains only; {} blocks reach every node when produced here: leave it out",
                c.consensus
            ),
        );
    }
    let propagation: Delay = delay(&format!("{p}.propagation"), &c.propagation)?;
    let network = network(&p, c, &consensus, seed)?;
    Ok(ChainSpec {
        name: c.id.clone(),
        consensus,
        block_capacity: c.block_capacity,
        tx_units: c.tx_units,
        fee_market,
        mempool_capacity: c
            .mempool_capacity
            .unwrap_or(c.block_capacity.saturating_mul(300)),
        native_price_usd: price,
        native_decimals: c.native_decimals,
        native_code: c.native.clone(),
        native: crate::model::fx::CurId(0), // resolved against the FX table by `validate`
        network,
        propagation,
        background_tx_per_s: tx_per_s,
        fee_mu: b.fee_median.ln(),
        fee_sigma,
        max_fee_mu,
        bursts,
        halts,
        offline,
        hours: None,
        attacker_share: {
            let q = c.attacker_share.unwrap_or(0.1);
            if !(0.0..0.5).contains(&q) {
                return bad(
                    format!("{p}.attacker_share"),
                    format!("must be in [0, 0.5), got {q}"),
                );
            }
            q
        },
    })
}

fn validator_count(p: &str, n: usize, max: usize) -> R<usize> {
    if n == 0 || n > max {
        return bad(
            format!("{p}.validators"),
            format!("must be between 1 and {max}"),
        );
    }
    Ok(n)
}
