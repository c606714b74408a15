//! The command line: clap definitions and dispatch. Parsing only; the work happens in `app`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::{self, AppError};

#[derive(Parser, Debug)]
#[command(
    name = "settlesim",
    version,
    about = "Simulate cross-border payment rails and compare their latency and cost",
    long_about = "settlesim replays payment demand over correspondent banking, blockchain rails (stablecoins and \
native coins with their ramps, CBDC platforms, merchant QR payments), linked instant payment systems and \
tokenised-deposit ledgers in a deterministic discrete-event simulation: business calendars and cut-offs, \
compliance holds, fees, FX spreads and price moves, nostro and ramp liquidity over time and its cost of capital, \
FX settlement exposure (zero on a PvP platform) and members' settlement exposure. The \
same scenario, seed and overrides always give byte-identical results.",
    after_help = "Examples:\n  settlesim run                          # the embedded default: the claims scenario\n  settlesim run scenarios/correspondent.toml --set duration=2d --seed 7\n  settlesim run scenarios/ips-link.toml   # PayNow–PromptPay-like link against SWIFT\n  settlesim check my.toml                # validate only\n  settlesim trace results/claims 1234    # why did payment 1234 take so long?\n  settlesim sweep scenarios/correspondent.toml --grid duration=7d,14d --replications 20 --jobs 2\n  settlesim risk --attacker-share 0.1 --confirmations 6   # double-spend risk\n  settlesim size scenarios/liquidity-tradeoff.toml        # the least liquidity for 99% never waiting\n\nExit codes: 0 success; 2 bad input or usage (scenario errors are one line FILE:LINE:COL: message (field)); 1 the environment failed (disk full, permissions, another settlesim writing the same --out)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario and write results (manifest, summary, payments, histograms, time series).
    #[command(
        after_help = "Outputs in DIR (default results/<scenario name>/):\n  manifest.json    provenance: scenario sha256, seed, version, events, digest of the result files\n  summary.csv      one row per (rail, corridor) and an `all` row per rail\n  payments.csv     one row per payment, with its cost split (and its cost of capital, `liquidity`, apart)\n  timeseries.csv   arrivals, completions and backlog per simulated hour and rail\n  liquidity.csv    every position's balance per day (mean, peak, min, cost of capital under [rates])\n  exposure.csv     settlement risk per rail: FX settlement exposure, ledger members' credit\n  rebalancing.csv  with threshold top-up policies: every funding request\n  histograms/      HDR latency histograms (ms, V2) per (rail, corridor)\n  chains.csv       with chains: blocks, forks, fees, propagation; finality and attestations (proof of stake), transaction relay (gossip)\n  scenario.toml    the effective scenario (overrides applied), used by `trace`"
    )]
    Run {
        /// Scenario file (TOML). Without it, the embedded default scenario runs.
        file: Option<PathBuf>,
        /// Master seed (overrides the scenario's `seed`): 0 to 9223372036854775807, the TOML integer range.
        #[arg(long, value_parser = seed_parser())]
        seed: Option<u64>,
        /// Output directory. Built beside the target and swapped in whole when the run completes.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Replace --out even if it is a non-empty directory that settlesim did not write.
        #[arg(long)]
        force: bool,
        /// Override any scenario field: `--set duration=2d --set banks[1].stp_rate=0.8`. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Validate a scenario file without running it. Errors print FILE:LINE:COL: message (field) and exit 2.
    Check {
        file: PathBuf,
        /// Overrides to validate along with the file.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Double-spend risk: the chance an attacker with hash share Q reverses a payment after Z confirmations.
    #[command(
        long_about = "Double-spend risk: the probability that an attacker with a share Q of the hash rate, mining a \
private chain from the moment the payment is broadcast, ever catches up with the honest chain (reaches equal length) \
once the receiver has seen Z confirmations. Estimated by Monte Carlo race simulation (Rosenfeld's model: blocks \
arrive as a Poisson process, each the attacker's with probability Q) with a 95% Wilson score interval, beside the \
analytic values of Nakamoto (2008, §11: a Poisson approximation that underestimates the risk) and Rosenfeld (2014: \
exact for this model). With no propagation delay the simulation converges to Rosenfeld's value.",
        after_help = "Columns (table and --format csv):\n  q            attacker hash share\n  z            confirmations the receiver waits for\n  trials       races simulated for this (q, z)\n  p_sim        fraction of races the attacker won (caught up to equal length)\n  ci_low/high  95% Wilson score interval of p_sim (table: \"95% CI\")\n  p_nakamoto   Nakamoto's whitepaper formula (table: \"Nakamoto\")\n  p_rosenfeld  Rosenfeld's exact formula (table: \"Rosenfeld\")\n  q_eff        (table, with a delay) the attacker's share of chain-extending blocks\n\nPropagation delay D: an honest block found less than D after the previous honest block forks the honest chain \
and does not lengthen it; with honest blocks at rate (1-Q)/T that happens to each with probability \
s = 1 - exp(-(1-Q)D/T), so the attacker's effective share rises to q_eff = Q / (Q + (1-Q)(1-s)). A first-order \
approximation for D much smaller than T; D may not exceed T. Nakamoto and Rosenfeld ignore the delay.\n\nEach (q, z) draws from its own stream (seed, \"risk/q=Q/z=Z\"): the same arguments always print the same bytes.\n\nExamples:\n  settlesim risk --attacker-share 0.1 --confirmations 6\n  settlesim risk --attacker-share 0.1,0.3 --confirmations 0,1,2,6 --trials 1e6 --format csv\n  settlesim risk --attacker-share 0.25 --confirmations 6 --propagation-delay 10 --block-interval 600"
    )]
    Risk {
        /// Attacker hash share(s) in [0, 1), comma-separated: 0.1,0.3
        #[arg(long, value_name = "Q", allow_hyphen_values = true)]
        attacker_share: String,
        /// Confirmations the receiver waits for, comma-separated whole numbers: 0,1,2,6
        #[arg(long, value_name = "Z", allow_hyphen_values = true)]
        confirmations: String,
        /// Races simulated per (Q, Z); `1e6` and `1_000_000` are accepted.
        #[arg(
            long,
            value_name = "N",
            default_value = "100000",
            allow_hyphen_values = true
        )]
        trials: String,
        /// Master seed.
        #[arg(
            long,
            value_name = "S",
            default_value = "0",
            allow_hyphen_values = true
        )]
        seed: String,
        /// Time for an honest block to reach the other honest miners: seconds (2.5) or a duration (500ms).
        #[arg(
            long,
            value_name = "D",
            default_value = "0",
            allow_hyphen_values = true
        )]
        propagation_delay: String,
        /// Mean time between blocks, all miners together: seconds or a duration (10m, 12s).
        #[arg(
            long,
            value_name = "T",
            default_value = "600",
            allow_hyphen_values = true
        )]
        block_interval: String,
        /// Output format: `table` (aligned columns) or `csv` (a header and one row per (Q, Z)).
        #[arg(
            long,
            value_name = "FORMAT",
            default_value = "table",
            allow_hyphen_values = true
        )]
        format: String,
    },
    /// Run scenarios × grid points × replications in parallel; summarise each grid point with 95% intervals.
    #[command(
        after_help = "The runs are numbered k = 0..n−1: scenarios in the order given, then grid points (the last --grid \
varies fastest), then replications. Run k's seed is derived from (--seed, the scenario, the grid point, the \
replication) alone, so --jobs and --shard never change results.\n\nOutputs in DIR (default results/sweep/):\n  \
runs.csv         one row per run × rail × corridor: the summary columns of `run`, grid values, replication, seed\n  \
points.csv       per grid point × rail × corridor: mean and 95% CI (Student t) of the headline metrics\n  \
histograms/      per point: latency histograms of all its replications, added exactly (HDR V2, ms)\n  \
manifest.json    the sweep definition and a digest of the result files\n  \
runs/<k>/        each run's results, committed atomically: a restarted sweep skips finished runs\n\n\
Examples:\n  settlesim sweep scenarios/correspondent.toml --set duration=7d --grid banks[2].stp_rate=0.5,0.9 --replications 20\n  \
settlesim sweep a.toml b.toml --replications 50 --shard 3/8 --out out/shard-3   # then: settlesim merge out/shard-* --out out/all"
    )]
    Sweep {
        /// Scenario files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A grid axis: `--grid path=v1,v2,...` (values as in --set; commas inside [..], {..} or quotes do not
        /// split). Repeatable: the grid is the product of the axes.
        #[arg(long, value_name = "PATH=V1,V2,...")]
        grid: Vec<String>,
        /// Override a field in every run, like `run --set`. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Replications per grid point (each with its own derived seed).
        #[arg(long, short = 'r', default_value_t = 10, value_name = "R")]
        replications: u32,
        /// Master seed from which every run's seed is derived (0 to 9223372036854775807).
        #[arg(long, default_value_t = 0, value_name = "N", value_parser = seed_parser())]
        seed: u64,
        /// Worker threads (default: all cores).
        #[arg(long, short = 'j', value_name = "J")]
        jobs: Option<usize>,
        /// Run only the runs k with k mod N = I; merge the N shard directories with `settlesim merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Output directory (default results/sweep).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Keep each run's payments.csv (in runs/<k>/); off by default, a sweep can be large.
        #[arg(long)]
        payments: bool,
        /// Draw independent random numbers at every grid point. By default replication r uses the same seed at
        /// every point (common random numbers): a rail the swept field does not touch repeats exactly and the
        /// differences between points are paired.
        #[arg(long)]
        independent: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// The smallest liquidity scale at which a service level holds, per rail and corridor, by bisection over runs.
    #[command(
        long_about = "Size the liquidity a scenario needs. `[liquidity] scale` multiplies every pre-funded balance \
at once: nostro and inventory opening balances, the threshold and target of every top-up policy, ledger member \
limits. Less liquidity means more payments queue for funding and wait longer (the liquidity–delay trade-off \
central banks study with the BoF-PSS simulator). `settlesim size` finds, for every rail and corridor of the \
scenario (and each rail's `all` row), the smallest scale at which --target holds.\n\n\
How: every probe is a full run of the scenario with liquidity.scale set and the same seed, so two probes differ \
only by the liquidity. From scale 1 each row halves the scale while the target holds (or doubles it while it \
fails) until it changes, then bisects that bracket until it is narrower than --tolerance × the scale. Every \
scale is a power of two or a midpoint of two tried ones, so rows walking the same path share runs, the probes of \
one round run in parallel (--jobs), and the answer never depends on --jobs. The row's result is a bracket: the \
target holds at `scale` and fails at `failing_scale`, both run, within the tolerance. That is the smallest \
scale if the service level improves with liquidity between the two (it does on the committed scenarios; see \
tests/size.rs); a row whose routes draw on no nostro, inventory or member limit is not searched \
(`no_prefunding`).",
        after_help = "Targets (--target KIND=VALUE):\n  no-wait=0.99     at least 99% of payments never wait for funding (the default): a nostro or \
inventory shortfall or a ledger member's limit, the `nostro_wait` stage of payments.csv\n  p99=1h           99% of \
payments settle within 1 hour of creation (returned, failed and unfinished ones count as misses)\n  wait-p99=30m     \
99% of payments wait at most 30 minutes for funding\n\nStatus of a row:\n  found            the target holds \
at `scale` and fails at `failing_scale`\n  at_min_scale     it holds even at --min-scale\n  not_reached      it fails \
even at --max-scale (more liquidity does not help: calendars, screening or fees decide, or the scale must grow \
further)\n  no_prefunding    the rail draws on no pre-funded position here: liquidity.scale cannot change it \
(measured at scale 1)\n  no_payments      the row had no payments\n\nOutput: a table on stdout and FILE (default \
results/<scenario>-size.csv), written atomically: scenario, seed, target, required_share, rail, corridor, status, \
scale, failing_scale, tolerance, measured_share_at_scale, measured_share_at_failing, prefunded_usd_at_scale_1 (the \
level the row's positions are funded to at scale 1: opening balances, a threshold policy's target when higher, \
member limits, in USD at the start's mid rate), prefunded_usd_at_scale.\n\nFor the whole trade-off curve, sweep \
the scale: settlesim sweep FILE --grid liquidity.scale=0.25,0.5,1,2 -r 5 (points.csv has latency_s_p50, \
latency_s_p99 and funding_wait_pct per rail and corridor).\n\nExamples:\n  settlesim size scenarios/liquidity-tradeoff.toml\n  \
settlesim size --set duration=7d --target no-wait=0.95 --jobs 2      # the embedded flagship, a week\n  \
settlesim size scenarios/liquidity-tradeoff.toml --target wait-p99=2h --tolerance 0.05 --out sizing.csv"
    )]
    Size {
        /// Scenario file (TOML). Without it, the embedded default scenario.
        file: Option<PathBuf>,
        /// The service level: no-wait=SHARE, pNN=DURATION (latency) or wait-pNN=DURATION (wait for funding).
        #[arg(long, default_value = "no-wait=0.99", value_name = "KIND=VALUE")]
        target: String,
        /// Stop bisecting when the bracket is narrower than this fraction of the scale.
        #[arg(long, default_value_t = 0.02, value_name = "FRACTION")]
        tolerance: f64,
        /// The smallest scale tried (a power of two at most 1).
        #[arg(long, default_value_t = 1.0 / 256.0, value_name = "SCALE")]
        min_scale: f64,
        /// The largest scale tried (a power of two at least 1).
        #[arg(long, default_value_t = 32.0, value_name = "SCALE")]
        max_scale: f64,
        /// Master seed for every probe (overrides the scenario's `seed`).
        #[arg(long, value_parser = seed_parser())]
        seed: Option<u64>,
        /// Override any scenario field but liquidity.scale, like `run --set`. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Output CSV file (default results/<scenario name>-size.csv).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Worker threads for the probes of one round (default: all cores).
        #[arg(long, short = 'j', value_name = "J")]
        jobs: Option<usize>,
        /// No progress lines.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Merge the shard directories of one sweep into what the unsharded sweep writes.
    #[command(
        after_help = "Every shard I/N of the sweep must be given exactly once, each finished (with its manifest.json), \
and their sweep definitions must agree.\n\nExample:\n  settlesim merge out/shard-* --out out/all"
    )]
    Merge {
        /// Shard directories written by `settlesim sweep --shard I/N`.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, value_name = "DIR", required = true)]
        out: PathBuf,
        /// Replace --out even if it is a non-empty directory that settlesim did not write.
        #[arg(long)]
        force: bool,
        /// Merge shards whose manifests or files fail verification (the merged manifest says so).
        #[arg(long)]
        no_verify: bool,
    },
    /// Draw figures from a run or sweep directory (never re-running): latency CDF, cost split, where the time
    /// goes, paired differences, time series, sweep curves with 95% intervals, chain figures. SVG and/or PNG.
    #[command(
        after_help = "Figures from a run directory: latency-cdf, cost, throughput, backlog, and with chains \
chain-credit-cdf, chain-mempool (and chain-base-fee for EIP-1559 chains), corridor-scorecard, \
where-the-time-goes (mean latency split by stage), cost-by-amount and paired-difference (from payments.csv), \
confirmations (proof-of-work chains). From a sweep directory: \
sweep-METRIC-vs-AXIS for each numeric grid axis (p99 and median latency, share within 1 h, cost, throughput), \
chain-stale-rate when the block interval was swept, replications-METRIC with two or more replications, and with two grid axes heatmap-RAIL-METRIC (p99 latency, cost, \
stale rate). Figures with nothing to show (all zero) are left out and named on stdout. SVG 672 × 420 (7 in at \
96 dpi; --size single: 336 × 336, 3.5 in), text at least 7 pt; PNG the same layout at --dpi.\n\nExamples:\n  \
settlesim chart results/claims\n  settlesim chart results/sweep --format both --out figs"
    )]
    Chart {
        /// A directory written by `settlesim run` or `settlesim sweep`.
        dir: PathBuf,
        /// svg, png or both.
        #[arg(long, default_value = "svg", value_name = "FORMAT")]
        format: String,
        /// Output directory (default DIR/figures).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Draw even if DIR fails verification (manifest, file hashes); every footer then says "unverified".
        #[arg(long)]
        no_verify: bool,
        /// Replace --out even if it is a non-empty directory that settlesim did not write.
        #[arg(long)]
        force: bool,
        /// Printed size: `double` (a double-column figure, 7 in × 4.375 in) or `single` (a single-column figure,
        /// 3.5 in × 3.5 in). Text is at least 7 pt at that size in both.
        #[arg(long, default_value = "double", value_name = "SIZE")]
        size: String,
        /// PNG resolution in pixels per inch at the printed size (the SVG's layout, every length scaled).
        #[arg(long, default_value_t = 192.0, value_name = "DPI")]
        dpi: f64,
        /// Publication mode: each title states the figure's finding, computed from the results (e.g. which rail
        /// is faster and by how much); the descriptive title becomes the subtitle.
        #[arg(long)]
        publication: bool,
    },
    /// Write report.md and a self-contained report.html for a run or sweep directory: what the scenario models, a headline
    /// table per rail and corridor, the G20 targets at their payment sizes, every claim of the seeds against the
    /// baseline rail, the figures (report/figures/*.svg), provenance.
    Report {
        /// A directory written by `settlesim run`.
        dir: PathBuf,
        /// Output directory (default DIR/report).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Report even if DIR fails verification (manifest, file hashes); the report and its figures then say
        /// "unverified".
        #[arg(long)]
        no_verify: bool,
        /// Replace --out even if it is a non-empty directory that settlesim did not write.
        #[arg(long)]
        force: bool,
        /// Printed size: `double` (a double-column figure, 7 in × 4.375 in) or `single` (a single-column figure,
        /// 3.5 in × 3.5 in). Text is at least 7 pt at that size in both.
        #[arg(long, default_value = "double", value_name = "SIZE")]
        size: String,
        /// Publication mode: each title states the figure's finding, computed from the results (e.g. which rail
        /// is faster and by how much); the descriptive title becomes the subtitle.
        #[arg(long)]
        publication: bool,
    },
    /// Tell one payment's story: every step in UTC and local time, why it waited, the fees taken.
    Trace {
        /// A directory written by `settlesim run`.
        dir: PathBuf,
        /// The payment id (column `id` of payments.csv).
        id: u64,
        /// Replay even if DIR fails verification (manifest, file hashes).
        #[arg(long)]
        no_verify: bool,
    },
}

/// Seeds are TOML integers in the scenario file, so every way of giving one accepts the same range.
fn seed_parser() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(0..=i64::MAX as u64)
}

/// Runs the parsed command; returns what to print on stdout.
pub fn dispatch(cli: Cli) -> Result<String, AppError> {
    match cli.command {
        Command::Run {
            file,
            seed,
            out,
            set,
            quiet,
            force,
        } => {
            let args = app::run::RunArgs {
                file,
                seed,
                out,
                set,
                quiet,
                force,
            };
            let report = app::run::run(&args)?;
            Ok(app::run::render_table(&report))
        }
        Command::Sweep {
            files,
            grid,
            set,
            replications,
            seed,
            jobs,
            shard,
            out,
            payments,
            independent,
            quiet,
        } => {
            let args = app::sweep::SweepArgs {
                files,
                grid,
                set,
                replications,
                seed,
                jobs,
                shard,
                out,
                payments,
                independent,
                quiet,
            };
            let report = app::sweep::sweep(&args)?;
            Ok(app::sweep::render(&report))
        }
        Command::Size {
            file,
            target,
            tolerance,
            min_scale,
            max_scale,
            seed,
            set,
            out,
            jobs,
            quiet,
        } => {
            let report = app::size::size(&app::size::SizeArgs {
                file,
                set,
                seed,
                target,
                tolerance,
                min_scale,
                max_scale,
                out,
                jobs,
                quiet,
            })?;
            Ok(app::size::render(&report))
        }
        Command::Merge {
            dirs,
            out,
            force,
            no_verify,
        } => {
            let report = app::sweep::merge::merge(&dirs, &out, force, !no_verify)?;
            Ok(app::sweep::render(&report))
        }
        Command::Check { file, set } => app::check(&file, &set),
        Command::Chart {
            dir,
            format,
            out,
            no_verify,
            force,
            size,
            dpi,
            publication,
        } => app::chart::chart(&app::chart::ChartArgs {
            dir,
            format,
            out,
            verify: !no_verify,
            force,
            render: app::chart::Render::parse(&size, dpi, publication)?,
        }),
        Command::Report {
            dir,
            out,
            no_verify,
            force,
            size,
            publication,
        } => app::report::report(&app::report::ReportArgs {
            dir,
            out,
            verify: !no_verify,
            force,
            render: app::chart::Render::parse(&size, 192.0, publication)?,
        }),
        Command::Trace { dir, id, no_verify } => app::trace::trace(&dir, id, !no_verify),
        Command::Risk {
            attacker_share,
            confirmations,
            trials,
            seed,
            propagation_delay,
            block_interval,
            format,
        } => app::risk::risk(&app::risk::RiskArgs {
            attacker_share,
            confirmations,
            trials,
            seed,
            propagation_delay,
            block_interval,
            format,
        }),
    }
}
