//! `settlesim run`: load a scenario, simulate it, write the results directory, print the table.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hdrhistogram::serialization::{Serializer, V2Serializer};
use serde::Serialize;

use crate::app::AppError;
use crate::model::sim::{self, RunOptions};
use crate::output::csv_out::{self, SummaryRow};
use crate::output::staging::{Kind, Staged};
use crate::output::verify::{MANIFEST_SCHEMA, RUN_KIND};
use crate::output::{self, write_atomic};
use crate::scenario::Loaded;
use crate::units::human_duration_s;

#[derive(Clone, Debug, Default)]
pub struct RunArgs {
    pub file: Option<PathBuf>,
    pub seed: Option<u64>,
    pub out: Option<PathBuf>,
    pub set: Vec<String>,
    pub quiet: bool,
    /// Replace `--out` even when it is a non-empty directory that settlesim did not write.
    pub force: bool,
}

#[derive(Serialize)]
pub struct Manifest {
    /// `settlesim run`: what readers check before they trust the directory.
    pub kind: String,
    /// The manifest format (see `output::verify`).
    pub schema: u32,
    pub settlesim_version: String,
    pub scenario: String,
    pub scenario_source: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub overrides: Vec<String>,
    pub start_utc: String,
    pub simulated_span_s: f64,
    pub simulated_span: String,
    pub ended_by: String,
    pub events: u64,
    pub payments: u64,
    pub ledger_postings: u64,
    pub conservation: String,
    pub latency_histogram_unit: String,
    pub files: Vec<String>,
    /// SHA-256 of each file in `files`: readers check every file they read against it.
    pub file_sha256: std::collections::BTreeMap<String, String>,
    pub digest: String,
    pub wall_time_s: f64,
}

pub struct RunReport {
    pub dir: PathBuf,
    pub rows: Vec<SummaryRow>,
    pub chain_rows: Vec<csv_out::ChainRow>,
    pub manifest: Manifest,
}

pub fn run(args: &RunArgs) -> Result<RunReport, AppError> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("seed={seed}"));
    }
    let loaded = crate::app::load_scenario(args.file.as_deref(), &overrides)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&loaded.raw.name));
    let staged = Staged::begin(&dir, Kind::Run, args.force).map_err(AppError::from)?;
    let mut report = simulate_to_dir(&loaded, &overrides, staged.dir(), args.quiet)?;
    staged.commit().map_err(AppError::from)?;
    report.dir = dir;
    Ok(report)
}

/// Runs a loaded scenario and writes every result file into `dir` (a fresh directory: `run` passes its staging
/// directory, a sweep its partial run directory).
pub fn simulate_to_dir(
    loaded: &Loaded,
    overrides: &[String],
    dir: &Path,
    quiet: bool,
) -> Result<RunReport, AppError> {
    let io_err =
        |what: &str, e: std::io::Error| AppError::Io(format!("{}: {what}: {e}", dir.display()));
    fs::create_dir_all(dir.join("histograms"))
        .map_err(|e| io_err("cannot create the output directory", e))?;
    let world = &loaded.world;
    let wall = Instant::now();
    let mut sink = csv_out::PaymentsCsv::create(world, dir)
        .map_err(|e| io_err("cannot write payments.csv", e))?;
    let bar = crate::app::progress::span_bar(world.max_time_us, quiet);
    if let Some(b) = bar.clone() {
        sink.on_progress = Some(Box::new(move |t| b.set_position(t / 1_000_000)));
    }
    let (mut outcome, sink) =
        sim::run(world, sink, &RunOptions::default()).map_err(|e| AppError::Sim(e.to_string()))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let payments_sha256 = sink
        .finish(dir)
        .map_err(|e| io_err("cannot write payments.csv", e))?;
    output::failpoint("after-payments");

    let rows = csv_out::summary_rows_taking(world, &mut outcome);
    let mut files = vec!["payments.csv".to_string(), "scenario.toml".to_string()];
    let mut put = |name: String, bytes: Vec<u8>| -> Result<(), AppError> {
        write_atomic(dir, &name, &bytes).map_err(|e| io_err(&format!("cannot write {name}"), e))?;
        files.push(name);
        Ok(())
    };
    put(
        "summary.csv".into(),
        csv_out::summary_csv(&rows).map_err(|e| io_err("summary.csv", e))?,
    )?;
    put(
        "timeseries.csv".into(),
        csv_out::timeseries_csv(world, &outcome.metrics)
            .map_err(|e| io_err("timeseries.csv", e))?,
    )?;
    let chain_rows = csv_out::chain_rows(world, &outcome.chains, outcome.end_us);
    if !world.chains.is_empty() {
        put(
            "chains.csv".into(),
            csv_out::chains_csv(&chain_rows).map_err(|e| io_err("chains.csv", e))?,
        )?;
        put(
            "chain_timeseries.csv".into(),
            csv_out::chain_timeseries_csv(world, &outcome.chains)
                .map_err(|e| io_err("chain_timeseries.csv", e))?,
        )?;
    }
    // Only scenarios that declare a station get stations.csv, so the files of every other scenario are unchanged.
    if outcome.stations.iter().any(|s| s.declared) {
        put(
            "stations.csv".into(),
            csv_out::stations_csv(world, &outcome.stations, outcome.end_us)
                .map_err(|e| io_err("stations.csv", e))?,
        )?;
    }
    // Scenarios with rails get settlement risk and the balances of their positions over time.
    if !world.rails.is_empty() {
        put(
            "exposure.csv".into(),
            csv_out::exposure_csv(world, &outcome).map_err(|e| io_err("exposure.csv", e))?,
        )?;
        put(
            "liquidity.csv".into(),
            csv_out::liquidity_csv(world, &outcome).map_err(|e| io_err("liquidity.csv", e))?,
        )?;
    }
    // Only scenarios with a threshold top-up policy get rebalancing.csv.
    if world
        .nostros
        .iter()
        .any(|n| matches!(n.topup, crate::model::world::TopUp::Threshold(_)))
    {
        put(
            "rebalancing.csv".into(),
            csv_out::rebalancing_csv(world, &outcome.rebalances)
                .map_err(|e| io_err("rebalancing.csv", e))?,
        )?;
    }
    for row in rows.iter() {
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(&row.cell.latency_ms, &mut bytes)
            .map_err(|e| AppError::Io(format!("histogram serialization: {e:?}")))?;
        put(
            format!("histograms/{}__{}.hdr", row.rail, row.corridor),
            bytes,
        )?;
        // The chain step of chain rails (broadcast to the receiver's credit), for its distribution figure.
        if row.corridor == "all" && !row.cell.chain_settlement_ms.is_empty() {
            let mut bytes = Vec::new();
            V2Serializer::new()
                .serialize(&row.cell.chain_settlement_ms, &mut bytes)
                .map_err(|e| AppError::Io(format!("histogram serialization: {e:?}")))?;
            put(format!("histograms/chain-credit__{}.hdr", row.rail), bytes)?;
        }
    }
    write_atomic(dir, "scenario.toml", loaded.effective_text.as_bytes())
        .map_err(|e| io_err("cannot write scenario.toml", e))?;
    let (digest, file_sha256) = output::digest_and_hashes(
        dir,
        &files,
        [("payments.csv".into(), payments_sha256)].into(),
    )
    .map_err(|e| io_err("digest", e))?;
    files.sort();
    output::failpoint("before-manifest");
    let span_s = outcome.end_us as f64 / 1e6;
    let manifest = Manifest {
        kind: RUN_KIND.into(),
        schema: MANIFEST_SCHEMA,
        settlesim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: world.name.clone(),
        scenario_source: loaded.source.clone(),
        scenario_sha256: loaded.sha256.clone(),
        seed: world.seed,
        overrides: overrides.to_vec(),
        start_utc: csv_out::iso(world.start, 0),
        simulated_span_s: span_s,
        simulated_span: human_duration_s(span_s),
        ended_by: outcome.ended_by.as_str().to_string(),
        events: outcome.events,
        payments: outcome.payments,
        ledger_postings: outcome.postings,
        conservation: "ok: every currency balances and reconciles with the payment records".into(),
        latency_histogram_unit: "milliseconds (HDR V2, 3 significant digits, settled payments)"
            .into(),
        files,
        file_sha256,
        digest,
        wall_time_s: wall.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Io(e.to_string()))?;
    write_atomic(dir, "manifest.json", &json)
        .map_err(|e| io_err("cannot write manifest.json", e))?;
    Ok(RunReport {
        dir: dir.to_path_buf(),
        rows,
        chain_rows,
        manifest,
    })
}

/// The compact terminal table: rail × corridor with human units.
pub fn render_table(report: &RunReport) -> String {
    // A chain-only scenario (a consensus load test) has no rails: its table is the chain table alone.
    // Columns as wide as their longest name ("wallet_ledger", "consortium@wallet_ledger").
    let rw = report
        .rows
        .iter()
        .map(|r| r.rail.len())
        .fold(14, usize::max);
    let cw = report
        .rows
        .iter()
        .map(|r| r.corridor.len())
        .fold(10, usize::max);
    let lw = report
        .chain_rows
        .iter()
        .map(|r| r.label.len())
        .fold(16, usize::max);
    let mut lines = if report.rows.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{:<rw$} {:<cw$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "rail", "corridor", "payments", "settled", "p50", "p90", "p99", "cost bps"
        )]
    };
    for r in &report.rows {
        let c = &r.cell;
        let n = c.payments();
        let settled = if n == 0 {
            "-".into()
        } else {
            format!(
                "{:.1}%",
                100.0 * c.count(crate::model::record::Status::Settled) as f64 / n as f64
            )
        };
        let cost = c.cost_bps_mean();
        lines.push(format!(
            "{:<rw$} {:<cw$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
            r.rail,
            r.corridor,
            n,
            settled,
            human_duration_s(c.latency_s(0.5)),
            human_duration_s(c.latency_s(0.9)),
            human_duration_s(c.latency_s(0.99)),
            if cost.is_finite() {
                format!("{cost:.0}")
            } else {
                "-".into()
            },
        ));
    }
    let risks: Vec<_> = report
        .rows
        .iter()
        .filter_map(|r| Some((r, r.risk?)))
        .collect();
    if !risks.is_empty() {
        lines.push(String::new());
        lines.push(format!(
            "{:<14} {:>10} {:>12} {:>10} {:>9} {:>10} {:>13} {:>9}",
            "rail",
            "liquidity",
            "per $1M/day",
            "in flight",
            "cost bps",
            "+capital",
            "FX exp USD·d",
            "FX peak"
        ));
        for (r, risk) in risks {
            let c = &r.cell;
            let l = &risk.liquidity;
            let bps = |x: f64| {
                if x.is_finite() {
                    format!("{x:.0}")
                } else {
                    "-".into()
                }
            };
            lines.push(format!(
                "{:<14} {:>10} {:>12} {:>10} {:>9} {:>10} {:>13} {:>9}",
                r.rail,
                money(l.prefunded_mean_usd),
                money(risk.per_1m_daily_flow(c.amount_usd_cents)),
                money(l.in_transit_mean_usd),
                bps(c.cost_bps_mean()),
                bps(c.cost_with_liquidity_bps_mean()),
                money(risk.fx_cents_us as f64 / 100.0 / crate::units::US_PER_DAY as f64),
                money(risk.fx_peak_cents as f64 / 100.0),
            ));
        }
    }
    if !report.chain_rows.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!(
            "{:<lw$} {:>9} {:>10} {:>8} {:>12} {:>9} {:>12}",
            "chain", "blocks", "interval", "stale", "tx/s", "full", "fees USD"
        ));
        for r in &report.chain_rows {
            let f = &r.figures;
            lines.push(format!(
                "{:<lw$} {:>9} {:>10} {:>7.2}% {:>12.3} {:>8.2}% {:>12.2}",
                r.label,
                r.canonical_blocks,
                human_duration_s(f.interval_s),
                100.0 * f.stale_rate,
                f.tx_per_s,
                f.fullness_pct,
                r.fees_usd
            ));
        }
    }
    let m = &report.manifest;
    lines.push(String::new());
    lines.push(format!(
        "{} events, {} payments over {} simulated ({}), {:.2}s wall",
        m.events, m.payments, m.simulated_span, m.ended_by, m.wall_time_s
    ));
    lines.push(format!(
        "results in {}  digest {}",
        report.dir.display(),
        &m.digest[..16]
    ));
    lines.join("\n")
}

/// USD with a unit: 6.18M, 526k, 950.
fn money(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x.abs() >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x.abs() >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
