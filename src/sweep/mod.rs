//! Sweeps: many runs of scenarios over a grid of parameter values, replicated with derived seeds, summarised per
//! grid point with confidence intervals. This module is the pure part — the plan (`plan`), the statistics
//! (`stats`), the headline metrics of a run, and the shard check for merging (`shards`). Files, threads and the
//! progress bar live in `app::sweep`.

pub mod plan;
pub mod shards;
pub mod size;
pub mod stats;

use crate::model::metrics::Cell;
use crate::model::metrics::ChainFigures;
use crate::model::record::Status;
use crate::sweep::plan::Shard;

/// Bad sweep input: every variant names the flag or directory at fault (exit code 2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SweepError {
    #[error("--grid `{arg}`: {reason}")]
    Grid { arg: String, reason: String },
    #[error("--shard `{arg}`: {reason}")]
    Shard { arg: String, reason: String },
    #[error("--replications {value}: must be between 1 and {max}")]
    Replications { value: u32, max: u32 },
    #[error(
        "the sweep has {runs} runs, more than the limit of {max}; use fewer grid values or replications"
    )]
    TooManyRuns { runs: u64, max: u64 },
    #[error("no sweep directories to merge")]
    NoShards,
    #[error("{dir}: its sweep definition differs from {first}'s ({fields})")]
    DefinitionMismatch {
        dir: String,
        first: String,
        fields: String,
    },
    #[error(
        "{dir}: shard {shard} does not belong with {first} (shard {first_shard}): different shard counts"
    )]
    ShardCountMismatch {
        dir: String,
        shard: Shard,
        first: String,
        first_shard: Shard,
    },
    #[error("shard {shard} is given twice: {first} and {second}")]
    DuplicateShard {
        shard: Shard,
        first: String,
        second: String,
    },
    #[error("shard{plural} {shards} {} missing", if plural.is_empty() { "is" } else { "are" })]
    MissingShards {
        shards: String,
        plural: &'static str,
    },
}

/// The metrics summarised per grid point (mean and 95% CI over replications), with the decimals they are
/// written with (`funding_wait_pct`: the share of payments that waited for funding at all, the y of the
/// liquidity–delay trade-off beside the latency quantiles). Payment rows carry the payment metrics (and, on a chain rail, its chain's figures); chain rows
/// (rail = the chain, corridor = `chain`) carry only the chain's figures.
pub const HEADLINE: &[(&str, usize)] = &[
    ("settled_pct", 2),
    ("latency_s_p50", 3),
    ("latency_s_p90", 3),
    ("latency_s_p99", 3),
    ("within_1h_pct", 2),
    ("funding_wait_pct", 2),
    ("funding_wait_s_p99", 3),
    ("cost_bps_mean", 2),
    ("cost_bps_p50", 2),
    ("throughput_per_day", 3),
    ("chain_settlement_s_p50", 3),
    ("stale_rate", 6),
    ("chain_tx_per_s", 3),
    ("block_fullness_pct", 2),
    ("block_interval_s", 3),
    ("liquidity_mean_usd", 2),
];

/// The number of trials behind each headline metric that is a proportion, in `HEADLINE` order: payments for
/// `settled_pct` and `within_1h_pct`, blocks produced for `stale_rate`; `None` for every other metric. A
/// proportion gets a Wilson interval (`stats::proportion_interval`), which stays inside [0, 1].
pub fn trials(c: &Cell, chain: Option<&ChainFigures>) -> Vec<Option<u64>> {
    let n = c.payments();
    HEADLINE
        .iter()
        .map(|(m, _)| match *m {
            "settled_pct" | "within_1h_pct" | "funding_wait_pct" => Some(n),
            "stale_rate" => chain.map(|f| f.blocks),
            _ => None,
        })
        .collect()
}

/// How a proportion metric is written: percentages ×100, rates as fractions.
pub fn proportion_scale(metric: &str) -> f64 {
    if metric.ends_with("_pct") { 100.0 } else { 1.0 }
}

/// The headline metrics of one cell, in `HEADLINE` order; `None` where the metric does not exist (no payment,
/// nothing settled).
/// `liquidity_usd`: the rail's pre-funded liquidity, time-weighted mean in USD (its `all` row only), the x of the
/// liquidity–delay trade-off.
pub fn headline(
    c: &Cell,
    chain: Option<&ChainFigures>,
    liquidity_usd: Option<f64>,
) -> Vec<Option<f64>> {
    let n = c.payments();
    let settled_pct = if n == 0 {
        f64::NAN
    } else {
        100.0 * c.count(Status::Settled) as f64 / n as f64
    };
    [
        settled_pct,
        c.latency_s(0.5),
        c.latency_s(0.9),
        c.latency_s(0.99),
        100.0 * c.share_within_s(3600.0),
        100.0 * c.funding_wait_share(),
        c.funding_wait_s(0.99),
        c.cost_bps_mean(),
        c.cost_bps(0.5),
        c.throughput_per_day(),
        Cell::chain_s(&c.chain_settlement_ms, 0.5),
    ]
    .into_iter()
    .chain(chain.map_or([f64::NAN; 4], |f| {
        [f.stale_rate, f.tx_per_s, f.fullness_pct, f.interval_s]
    }))
    .chain([liquidity_usd.unwrap_or(f64::NAN)])
    .map(|x| x.is_finite().then_some(x))
    .collect()
}
