//! `settlesim chart DIR`: figures from the result files of `run` or `sweep` (never by running anything). Reads
//! the directory, shapes the data with `chart::data` and friends, renders SVG and/or PNG and writes each file
//! atomically into `--out` (default DIR/figures).

use std::fs;
use std::path::{Path, PathBuf};

use hdrhistogram::serialization::Deserializer;

use crate::app::AppError;
use crate::chart::amount::{self, AmountCost};
use crate::chart::data::{self, Table};
use crate::chart::labels::{field_label, field_name};
use crate::chart::latency::{LatencyCdf, RailCdf};
use crate::chart::style::{PageSize, Style};
use crate::chart::sweep::{BandFigure, YAxis, band_lines, numeric_axes};
use crate::chart::timeseries::{
    TimeFigure, chain_lines, drop_zero_lines, rail_lines, weekend_spans,
};
use crate::chart::{
    AnyFigure, Provenance, chain, confirmations, cost::CostStack, paired, replications,
};
use crate::output::staging::{Kind, Staged};
use crate::output::verify::{ResultDir, SWEEP_KIND};
use crate::output::write_atomic;

#[derive(Clone, Debug)]
pub struct ChartArgs {
    pub dir: PathBuf,
    pub format: String,
    pub out: Option<PathBuf>,
    /// Check the manifest and the hash of every file read (off with `--no-verify`).
    pub verify: bool,
    /// Replace `--out` even if it is a directory settlesim did not write.
    pub force: bool,
    /// Page size, PNG resolution and titles (`--size`, `--dpi`, `--publication`).
    pub render: Render,
}

/// How figures are rendered: the printed page size, the PNG's resolution, and whether titles state each figure's
/// finding (publication mode) or describe what is drawn.
#[derive(Clone, Copy, Debug)]
pub struct Render {
    pub size: PageSize,
    /// PNG pixels per inch; the PNG is the SVG's layout at dpi / 96 pixels per CSS px.
    pub dpi: f64,
    pub publication: bool,
}

impl Default for Render {
    fn default() -> Render {
        Render {
            size: PageSize::Double,
            dpi: 192.0,
            publication: false,
        }
    }
}

impl Render {
    /// From the command-line values of `--size` and `--dpi`.
    pub fn parse(size: &str, dpi: f64, publication: bool) -> Result<Render, AppError> {
        let size = PageSize::parse(size).ok_or_else(|| {
            AppError::Usage(format!(
                "--size {size}: expected double (7 in) or single (3.5 in)"
            ))
        })?;
        if !(72.0..=1200.0).contains(&dpi) {
            return Err(AppError::Usage(format!(
                "--dpi {dpi}: expected a resolution from 72 to 1200"
            )));
        }
        Ok(Render {
            size,
            dpi,
            publication,
        })
    }
    /// The style of one rendering of `fig`: `png` at the PNG's scale, else the SVG's.
    pub fn style(&self, fig: &AnyFigure, png: bool) -> Style {
        Style {
            scale: if png { self.dpi / 96.0 } else { 1.0 },
            page: self.size,
            message: if self.publication {
                fig.message()
            } else {
                None
            },
        }
    }
}

/// What a results directory holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DirKind {
    Run,
    Sweep,
}

/// A results directory read for figures.
pub struct Loaded {
    pub kind: DirKind,
    pub manifest: serde_json::Value,
    pub provenance: Provenance,
    pub figures: Vec<AnyFigure>,
    /// summary.csv of a run (empty for a sweep).
    pub summary: Table,
    /// Figures or panels left out, each with the reason (printed by `chart`, listed in the report).
    pub notes: Vec<String>,
}

pub fn chart(args: &ChartArgs) -> Result<String, AppError> {
    let (svg, png) = match args.format.as_str() {
        "svg" => (true, false),
        "png" => (false, true),
        "both" => (true, true),
        other => {
            return Err(AppError::Usage(format!(
                "--format {other}: expected svg, png or both"
            )));
        }
    };
    let loaded = load(&args.dir, args.verify)?;
    if loaded.figures.is_empty() {
        return Err(AppError::Usage(format!(
            "{}: nothing to draw: a sweep needs a grid axis with numeric or duration values (e.g. \
chains[0].background.tx_per_s or chains[0].block_interval), two axes for a heatmap, or two or more replications",
            args.dir.display()
        )));
    }
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("figures"));
    let staged = Staged::begin(&out, Kind::Figures, args.force)?;
    let written = write_figures(&loaded, staged.dir(), svg, png, &args.render)?;
    write_index(staged.dir(), &loaded, &written)?;
    staged.commit()?;
    let mut msg = format!(
        "{} figure files in {}: {}",
        written.len(),
        out.display(),
        written.join(", ")
    );
    for n in &loaded.notes {
        msg.push_str(&format!("\n{n}"));
    }
    Ok(msg)
}

/// Renders every figure of `loaded` into `out`; returns the file names written, in order.
pub fn write_figures(
    loaded: &Loaded,
    out: &Path,
    svg: bool,
    png: bool,
    render: &Render,
) -> Result<Vec<String>, AppError> {
    fs::create_dir_all(out)
        .map_err(|e| AppError::Io(format!("{}: cannot create: {e}", out.display())))?;
    let footer = loaded.provenance.footer();
    let mut written = Vec::new();
    for fig in &loaded.figures {
        let name = fig.name();
        if svg {
            let text = fig
                .svg(&footer, &render.style(fig, false))
                .map_err(|e| draw_error(&name, e))?;
            put(out, &format!("{name}.svg"), text.as_bytes())?;
            written.push(format!("{name}.svg"));
        }
        if png {
            let bytes = fig
                .png(&footer, &render.style(fig, true))
                .map_err(|e| draw_error(&name, e))?;
            put(out, &format!("{name}.png"), &bytes)?;
            written.push(format!("{name}.png"));
        }
    }
    Ok(written)
}

/// `index.json` of a figures directory: what was drawn from which results (and whether they were verified), the
/// marker by which a later `chart` or `report` knows it may replace the directory.
pub fn write_index(out: &Path, loaded: &Loaded, files: &[String]) -> Result<(), AppError> {
    let index = serde_json::json!({
        "kind": "settlesim figures",
        "settlesim_version": env!("CARGO_PKG_VERSION"),
        "results_digest": loaded.provenance.digest,
        "verified": loaded.provenance.verified,
        "files": files,
    });
    let bytes = serde_json::to_vec_pretty(&index).map_err(|e| AppError::Io(e.to_string()))?;
    put(out, "index.json", &bytes)
}

fn draw_error(name: &str, e: String) -> AppError {
    AppError::Io(format!("figure {name}: {e}"))
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), AppError> {
    write_atomic(dir, name, bytes)
        .map_err(|e| AppError::Io(format!("{}: cannot write {name}: {e}", dir.display())))
}

/// A file of the results directory, checked against its manifest.
fn read(dir: &ResultDir, name: &str) -> Result<Vec<u8>, AppError> {
    dir.read(name).map_err(AppError::Usage)
}

fn table(dir: &ResultDir, name: &str) -> Result<Table, AppError> {
    Table::parse(&read(dir, name)?)
        .map_err(|e| AppError::Usage(format!("{}: {name}: {e}", dir.join(name).display())))
}

/// Reads a `run` or `sweep` results directory (verified against its manifest unless `verify` is false) and
/// builds its figures.
pub fn load(dir: &Path, verify: bool) -> Result<Loaded, AppError> {
    let dir = ResultDir::open(dir, verify).map_err(AppError::Usage)?;
    if dir.kind == SWEEP_KIND {
        load_sweep(&dir)
    } else if dir.has("summary.csv") {
        load_run(&dir)
    } else {
        Err(AppError::Usage(format!(
            "{}: not a run or sweep directory (no summary.csv or points.csv)",
            dir.display()
        )))
    }
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn load_run(dir: &ResultDir) -> Result<Loaded, AppError> {
    let manifest = dir.manifest.clone();
    let provenance = Provenance {
        verified: dir.verified,
        scenario: text(&manifest["scenario"]),
        scenario_sha256: text(&manifest["scenario_sha256"]),
        seed: text(&manifest["seed"]),
        version: text(&manifest["settlesim_version"]),
        digest: text(&manifest["digest"]),
    };
    let summary = table(dir, "summary.csv")?;
    let rails = data::rails(&summary);
    let mut figures = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    let mut cdfs = Vec::new();
    for (i, rail) in rails.iter().enumerate() {
        let name = format!("histograms/{rail}__all.hdr");
        let bytes = read(dir, &name)?;
        let hist: hdrhistogram::Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| AppError::Usage(format!("{}: {name}: {e:?}", dir.display())))?;
        let payments = summary
            .filter("corridor", "all")
            .find(|r| summary.text(r, "rail") == rail)
            .and_then(|r| summary.num(r, "payments"))
            .unwrap_or(0.0) as u64;
        cdfs.push(RailCdf {
            rail: data::rail_label(&summary, rail),
            colour: i,
            points: data::cdf_points(&hist, payments),
        });
    }
    // The chain step alone, for chain rails (histograms/chain-credit__RAIL.hdr, written by `run`).
    let mut credit = Vec::new();
    for (i, rail) in rails.iter().enumerate() {
        let name = format!("histograms/chain-credit__{rail}.hdr");
        if !dir.has(&name) {
            continue;
        }
        let bytes = read(dir, &name)?;
        let hist: hdrhistogram::Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| AppError::Usage(format!("{}: {name}: {e:?}", dir.display())))?;
        let n = hist.len();
        credit.push(RailCdf {
            rail: data::rail_label(&summary, rail),
            colour: i,
            points: data::cdf_points(&hist, n),
        });
    }
    if !credit.is_empty() {
        figures.push(AnyFigure::Latency(LatencyCdf {
            rails: credit,
            subtitle: "chain rails, all corridors: share of transfers credited, by the receiving platform's policy".into(),
            chain_step: true,
        }));
    }
    figures.push(AnyFigure::Latency(LatencyCdf {
        chain_step: false,
        rails: cdfs,
        subtitle:
            "all corridors; share of all payments, so a curve ends at the rail's settled share"
                .into(),
    }));
    // Legends name a rail's corridors when it does not serve them all ("ips_link (SGD-THB only)").
    let mut bars = data::cost_bars(&summary);
    for b in &mut bars {
        b.rail = data::rail_label(&summary, &b.rail);
    }
    figures.push(AnyFigure::Cost(CostStack { bars }));
    let bells = crate::chart::dumbbell::bells(&summary, &rails);
    if bells.len() > 1 {
        figures.push(AnyFigure::Dumbbell(crate::chart::dumbbell::Dumbbell {
            bells,
            baseline: crate::app::claims::baseline(&summary),
        }));
    }

    match crate::chart::waterfall::bars(&summary, &rails) {
        Some(bars) if !bars.is_empty() => {
            figures.push(AnyFigure::Waterfall(crate::chart::waterfall::Waterfall {
                bars,
                baseline: crate::app::claims::baseline(&summary),
            }))
        }
        Some(_) => notes.push("where-the-time-goes: not drawn, nothing settled".into()),
        None => notes.push(
            "where-the-time-goes: not drawn, summary.csv has no stage columns (written by an older settlesim)"
                .into(),
        ),
    }
    figures.extend(payment_figures(dir, &summary, &rails, &mut notes)?);
    if let Some(fig) = confirmations_figure(dir, &summary, &rails, &mut notes)? {
        figures.push(fig);
    }

    let ts = table(dir, "timeseries.csv")?;
    let start = text(&manifest["start_utc"])
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap_or_default();
    let hours = ts
        .rows
        .iter()
        .filter_map(|r| ts.num(r, "hour"))
        .fold(0.0, f64::max) as usize
        + 1;
    let weekends = weekend_spans(start, hours);
    // Demand ends after the last hour in which a payment arrived; the hours after it are the drain.
    let demand_end = ts
        .rows
        .iter()
        .filter(|r| ts.num(r, "arrivals").is_some_and(|a| a > 0.0))
        .filter_map(|r| ts.num(r, "hour"))
        .fold(None, |m: Option<f64>, h| Some(m.map_or(h, |m| m.max(h))))
        .map(|h| (h + 1.0) / 24.0);
    let mut settled = rail_lines(&ts, &rails, "settled");
    let settled_notes = drop_zero_lines(&mut settled, "nothing settled");
    figures.push(AnyFigure::Time(TimeFigure {
        name: "throughput".into(),
        title: "Payments settled per hour, per rail".into(),
        subtitle: "one scale for all panels; an hour with none settled is a gap: the rail, or a leg it waits for \
(bank cut-offs, ACH funding, payout calendars), was closed or nothing had arrived"
            .into(),
        caption: "Payments settled in each simulated hour, one panel per rail on a common scale; weekends and \
the drain after demand ends shaded."
            .into(),
        y_desc: "settled per hour".into(),
        lines: settled,
        overlay: false,
        weekends: weekends.clone(),
        demand_end,
        notes: settled_notes,
    }));
    figures.push(AnyFigure::Time(TimeFigure {
        name: "backlog".into(),
        title: "Backlog: payments in flight at the end of each hour".into(),
        subtitle: "payments initiated and not yet settled, returned or failed; overlapping lines are drawn \
thinner and dashed so none hides another"
            .into(),
        caption: "Payments in flight per rail over simulated time; weekends and the drain shaded.".into(),
        y_desc: "payments in flight".into(),
        lines: rail_lines(&ts, &rails, "backlog"),
        overlay: true,
        weekends: weekends.clone(),
        demand_end,
        notes: Vec::new(),
    }));
    if dir.has("chain_timeseries.csv") {
        let cts = table(dir, "chain_timeseries.csv")?;
        let chains = if dir.join("chains.csv").is_file() {
            table(dir, "chains.csv")?
        } else {
            Table::default()
        };
        let mut mempool = chain_lines(&cts, &rails, "mempool_units");
        for l in &mut mempool {
            l.label = format!("{}, {}", l.label, mempool_unit(&chains, &cts, &l.label));
        }
        let mempool_notes = drop_zero_lines(&mut mempool, "mempool empty");
        if mempool.is_empty() {
            notes.push(
                "chain-mempool: not drawn, every chain's mempool was empty at every hour".into(),
            );
        } else {
            figures.push(AnyFigure::Time(TimeFigure {
                name: "chain-mempool".into(),
                title: "Mempool backlog per chain".into(),
                subtitle: "transaction size units waiting at the hour's last block, in each chain's own unit \
(virtual bytes on Bitcoin-like chains, gas on Ethereum-like chains)"
                    .into(),
                caption: "Mempool backlog of each chain at the end of each simulated hour, one panel per \
chain with a non-empty mempool."
                    .into(),
                y_desc: "mempool".into(),
                lines: mempool,
                overlay: false,
                weekends: weekends.clone(),
                demand_end,
                notes: mempool_notes,
            }));
        }
        let fees = chain_lines(&cts, &rails, "base_fee");
        let fees: Vec<_> = fees
            .into_iter()
            .filter(|l| l.points.iter().any(|p| p.1 > 0.0))
            .collect();
        if !fees.is_empty() {
            figures.push(AnyFigure::Time(TimeFigure {
                name: "chain-base-fee".into(),
                title: "EIP-1559 base fee per chain".into(),
                subtitle: "base fee at the hour's last block, in the chain's fee unit".into(),
                caption:
                    "Base fee level over simulated time for chains with an EIP-1559 fee market."
                        .into(),
                y_desc: "base fee".into(),
                lines: fees,
                overlay: false,
                weekends,
                demand_end,
                notes: Vec::new(),
            }));
        }
    }
    Ok(Loaded {
        kind: DirKind::Run,
        manifest,
        provenance,
        figures,
        summary,
        notes,
    })
}

/// Figures drawn from single payments (payments.csv): cost against amount, and each rail against the baseline
/// rail payment by payment. Without payments.csv (a sweep's runs, the trimmed reference) a note says why not.
fn payment_figures(
    dir: &ResultDir,
    summary: &Table,
    rails: &[String],
    notes: &mut Vec<String>,
) -> Result<Vec<AnyFigure>, AppError> {
    if !dir.has("payments.csv") {
        notes.push(
            "cost-by-amount and paired-difference: not drawn, the directory has no payments.csv"
                .into(),
        );
        return Ok(Vec::new());
    }
    let payments = table(dir, "payments.csv")?;
    let mut out = Vec::new();
    let amount = AmountCost {
        curves: amount::curves(&payments, rails),
    };
    if amount.is_empty() {
        notes.push(format!(
            "cost-by-amount: not drawn, no amount bin holds {} settled payments",
            amount::MIN_BIN
        ));
    } else {
        out.push(AnyFigure::AmountCost(amount));
    }
    match crate::app::claims::baseline(summary) {
        Some(base) if rails.len() > 1 => {
            let fig = paired::paired(&payments, rails, &base);
            if fig.rails.is_empty() {
                notes.push(format!(
                    "paired-difference: not drawn, no demand payment settled on both {base} and another rail \
(pairs need mirror mode)"
                ));
            } else {
                out.push(AnyFigure::Paired(fig));
            }
        }
        _ => notes.push(
            "paired-difference: not drawn, it needs a baseline rail (one without a chain) and another rail".into(),
        ),
    }
    Ok(out)
}

/// Confirmations against reversal risk and waiting time for proof-of-work chains (chains.csv; the attacker share
/// from the run's scenario.toml, 0.1 when not set, as the run used).
fn confirmations_figure(
    dir: &ResultDir,
    summary: &Table,
    rails: &[String],
    notes: &mut Vec<String>,
) -> Result<Option<AnyFigure>, AppError> {
    if !dir.has("chains.csv") {
        return Ok(None);
    }
    let chains = table(dir, "chains.csv")?;
    let scenario: toml::Table = if dir.has("scenario.toml") {
        String::from_utf8_lossy(&read(dir, "scenario.toml")?)
            .parse()
            .unwrap_or_default()
    } else {
        toml::Table::new()
    };
    let share = |chain: &str| {
        scenario
            .get("chains")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
            .find(|c| c.get("id").and_then(|v| v.as_str()) == Some(chain))
            .and_then(|c| c.get("attacker_share"))
            .and_then(|v| v.as_float())
            .unwrap_or(DEFAULT_ATTACKER_SHARE)
    };
    let fig = confirmations::from_tables(&chains, summary, rails, &share);
    if fig.chains.is_empty() {
        notes.push(
            "confirmations: not drawn, no proof-of-work chain (chains with finality have no confirmation \
trade-off)"
                .into(),
        );
        return Ok(None);
    }
    Ok(Some(AnyFigure::Confirmations(fig)))
}

/// The attacker share a Nakamoto chain assumes when the scenario does not set one (see `scenario::raw`).
const DEFAULT_ATTACKER_SHARE: f64 = 0.1;

/// The unit of a chain's mempool (its transaction size unit): virtual bytes on a Nakamoto (Bitcoin-like) chain,
/// gas on a chain with an EIP-1559 base fee, otherwise the scenario's `tx_units`.
fn mempool_unit(chains: &Table, cts: &Table, label: &str) -> &'static str {
    let chain = label.split(' ').next().unwrap_or("");
    let consensus = chains
        .filter("chain", chain)
        .next()
        .map_or("", |r| chains.text(r, "consensus"));
    let eip1559 = cts
        .filter("chain", chain)
        .any(|r| cts.num(r, "base_fee").is_some_and(|f| f > 0.0));
    if consensus == "nakamoto" {
        "vbytes"
    } else if eip1559 {
        "gas"
    } else {
        "size units"
    }
}

/// Headline metrics drawn against each numeric grid axis of a sweep: (points.csv stem, file tag, title, axis).
const SWEEP_METRICS: [(&str, &str, &str, YAxis); 5] = [
    (
        "latency_s_p99",
        "latency-p99",
        "p99 end-to-end latency",
        YAxis::LogTime,
    ),
    (
        "latency_s_p50",
        "latency-p50",
        "median end-to-end latency",
        YAxis::LogTime,
    ),
    (
        "within_1h_pct",
        "within-1h",
        "payments credited within 1 h (%)",
        YAxis::Linear,
    ),
    (
        "cost_bps_mean",
        "cost",
        "mean cost (bps of the amount)",
        YAxis::Linear,
    ),
    (
        "throughput_per_day",
        "throughput",
        "payments settled per day",
        YAxis::Linear,
    ),
];

/// The trade-off figures: (metric, file tag, what, y axis).
const TRADEOFF_METRICS: [(&str, &str, &str, YAxis); 3] = [
    (
        "funding_wait_pct",
        "waiting",
        "payments that waited for funding (%)",
        YAxis::Linear,
    ),
    (
        "latency_s_p50",
        "latency-p50",
        "median end-to-end latency",
        YAxis::LogTime,
    ),
    (
        "latency_s_p99",
        "latency-p99",
        "p99 end-to-end latency",
        YAxis::LogTime,
    ),
];

fn load_sweep(dir: &ResultDir) -> Result<Loaded, AppError> {
    let manifest = dir.manifest.clone();
    let def = &manifest["definition"];
    let scenarios = def["scenarios"].as_array().cloned().unwrap_or_default();
    let provenance = Provenance {
        scenario: scenarios
            .iter()
            .map(|s| text(&s["name"]))
            .collect::<Vec<_>>()
            .join("+"),
        scenario_sha256: scenarios
            .iter()
            .map(|s| crate::chart::short(&text(&s["sha256"])).to_string())
            .collect::<Vec<_>>()
            .join("+"),
        seed: format!("master {}", text(&def["seed"])),
        version: text(&manifest["settlesim_version"]),
        digest: text(&manifest["digest"]),
        verified: dir.verified,
    };
    let points = table(dir, "points.csv")?;
    let reps = text(&def["replications"]);
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let mut rails: Vec<String> = Vec::new();
    for r in points
        .rows
        .iter()
        .filter(|r| !data::is_chain_row(&points, r))
    {
        let rail = points.text(r, "rail").to_string();
        if !rails.contains(&rail) {
            rails.push(rail);
        }
    }
    for axis in numeric_axes(&points) {
        let tag: String = axis
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        for (metric, file, what, y_axis) in SWEEP_METRICS {
            let lines = band_lines(&points, metric, &axis, false);
            if lines.is_empty() {
                continue;
            }
            figures.push(AnyFigure::Band(BandFigure {
                name: format!("sweep-{file}-vs-{}", tag.trim_matches('-')),
                title: format!("{} against {}", capitalise(what), field_name(&axis)),
                subtitle: format!(
                    "mean over {reps} replications per point, all corridors; bands and bars: 95% confidence interval; colour: rail, marker and line style: the other grid values"
                ),
                caption: format!(
                    "{} per rail against the swept parameter {} (`{axis}`), with 95% confidence intervals.",
                    capitalise(what),
                    field_name(&axis)
                ),
                x_desc: axis_desc(&axis, &points),
                x_log: false,
                y_desc: what.to_string(),
                y_axis,
                lines,
                notes: Vec::new(),
            }));
        }
    }
    // The liquidity–delay trade-off (BoF-PSS's figure): delay and the share waiting for funding against the
    // liquidity each rail actually tied up at each `liquidity.scale`.
    let liquidity_swept = crate::chart::sweep::grid_axes(&points)
        .iter()
        .any(|a| a == "liquidity.scale");
    if liquidity_swept && points.header.iter().any(|h| h == "liquidity_mean_usd_mean") {
        for (metric, file, what, y_axis) in TRADEOFF_METRICS {
            let lines = crate::chart::sweep::tradeoff_lines(&points, metric, "liquidity.scale");
            if lines.is_empty() {
                continue;
            }
            figures.push(AnyFigure::Band(BandFigure {
                name: format!("tradeoff-{file}"),
                title: format!("Liquidity–delay trade-off: {what} against liquidity provided"),
                subtitle: format!(
                    "one point per liquidity.scale, mean over {reps} replications; x: the rail's pre-funded positions, time-weighted mean in USD (nostros, inventories, holdings); bars: 95% confidence interval"
                ),
                caption: format!(
                    "{} per rail against the pre-funded liquidity it tied up (USD, time-weighted), one point per value of the swept liquidity.scale, with 95% confidence intervals.",
                    capitalise(what)
                ),
                x_desc: "liquidity provided: pre-funded positions, time-weighted mean (USD)".into(),
                x_log: true,
                y_desc: what.to_string(),
                y_axis,
                lines,
                notes: Vec::new(),
            }));
        }
    } else if liquidity_swept {
        notes.push(
            "tradeoff: not drawn, points.csv has no liquidity_mean_usd (written by an older settlesim)".into(),
        );
    }
    figures.extend(replication_figures(dir, &points, &rails, &mut notes)?);
    let (heat, heat_notes) = heatmaps(&points, &rails, &reps);
    figures.extend(heat);
    notes.extend(heat_notes);
    // Stale rate against the measured block interval only when the interval is what was swept; otherwise the
    // small drift of the measured interval would look like the cause.
    let interval_swept = crate::chart::sweep::grid_axes(&points)
        .iter()
        .any(|a| a.ends_with("block_interval"));
    if interval_swept {
        match chain::stale_rate(&points) {
            Some(mut fig) => {
                chain::colour_by_rail(&mut fig, &rails);
                figures.push(AnyFigure::Band(fig));
            }
            None if points.rows.iter().any(|r| data::is_chain_row(&points, r)) => notes.push(
                "chain-stale-rate: not drawn, no chain produced a stale block at any point".into(),
            ),
            None => {}
        }
    }
    Ok(Loaded {
        kind: DirKind::Sweep,
        manifest,
        provenance,
        figures,
        summary: Table::default(),
        notes,
    })
}

/// Metrics whose spread across replications is drawn: (runs.csv column, words, a duration).
const SPREAD_METRICS: [(&str, &str, bool); 3] = [
    ("latency_s_p50", "median end-to-end latency", true),
    ("latency_s_p99", "p99 end-to-end latency", true),
    ("cost_bps_mean", "mean cost (bps, per-payment mean)", false),
];

/// The spread of each headline over the replications of every sweep point (at least two replications), from
/// runs.csv and points.csv; at most `replications::MAX_ROWS` rows, the rest named in a note.
fn replication_figures(
    dir: &ResultDir,
    points: &Table,
    rails: &[String],
    notes: &mut Vec<String>,
) -> Result<Vec<AnyFigure>, AppError> {
    if !dir.has("runs.csv") {
        return Ok(Vec::new());
    }
    let runs = table(dir, "runs.csv")?;
    let axes = crate::chart::sweep::grid_axes(points);
    let mut out = Vec::new();
    for (metric, what, duration) in SPREAD_METRICS {
        let mut rows = replications::rows(points, &runs, metric, rails, &axes);
        let Some(reps) = rows.iter().map(|r| r.values.len()).max() else {
            continue;
        };
        let mut fig_notes = Vec::new();
        if rows.len() > replications::MAX_ROWS {
            fig_notes.push(format!(
                "The first {} of {} (point, rail) rows are drawn; points.csv has them all.",
                replications::MAX_ROWS,
                rows.len()
            ));
            rows.truncate(replications::MAX_ROWS);
        }
        out.push(AnyFigure::Replications(replications::Spread {
            metric: metric.to_string(),
            what: what.to_string(),
            duration,
            replications: reps,
            rows,
            notes: fig_notes,
        }));
    }
    if out.is_empty() {
        notes.push("replications-*: not drawn, the sweep has one replication per point".into());
    }
    Ok(out)
}

/// The x-axis description of a grid axis: its human label and unit (`chart::labels`), with "(s)" when its values
/// are durations and the label table does not know the field.
fn axis_desc(axis: &str, points: &Table) -> String {
    let durations = points.rows.iter().any(|r| {
        let v = points.text(r, axis);
        v.parse::<f64>().is_err() && data::grid_number(v).is_some()
    });
    let label = field_label(axis);
    if durations && !label.ends_with(')') {
        format!("{label} (s)")
    } else {
        label
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// With exactly two grid axes: a heatmap per rail of p99 latency and of mean cost, and per chain of the stale rate.
/// A heatmap whose every cell is zero (a chain that never forked) is left out; the returned notes say which.
fn heatmaps(points: &Table, rails: &[String], reps: &str) -> (Vec<AnyFigure>, Vec<String>) {
    use crate::chart::heatmap::{CellFormat, Heatmap, grid, grid_intervals};
    let axes = crate::chart::sweep::grid_axes(points);
    let [x, y] = axes.as_slice() else {
        return (Vec::new(), Vec::new());
    };
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let tag = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    };
    let mut add =
        |rail: &str, chain: bool, metric: &str, what: &str, format: CellFormat, unit: &str| {
            if let Some((xs, ys, values)) = grid(points, metric, x, y, rail, chain) {
                let intervals = grid_intervals(points, metric, (x, y), (&xs, &ys), rail, chain);
                let fig = Heatmap {
                    name: format!("heatmap-{}-{}", tag(rail), tag(metric)),
                    title: format!(
                        "{rail}: {what} over {} and {}",
                        field_name(x),
                        field_name(y)
                    ),
                    subtitle: format!("mean over {reps} replications per cell"),
                    caption: format!(
                        "{what} of {rail} over the two swept parameters {} and {}.",
                        field_label(x),
                        field_label(y)
                    ),
                    x_desc: field_label(x),
                    y_desc: field_label(y),
                    x_labels: xs,
                    y_labels: ys,
                    values,
                    intervals,
                    format,
                    unit: unit.to_string(),
                };
                if fig.is_empty_or_zero() {
                    notes.push(format!(
                        "{}: not drawn, {what} is zero in every cell",
                        fig.name
                    ));
                } else {
                    out.push(AnyFigure::Heat(fig));
                }
            }
        };
    for rail in rails {
        add(
            rail,
            false,
            "latency_s_p99",
            "p99 end-to-end latency",
            CellFormat::Duration,
            "p99 latency (duration)",
        );
        add(
            rail,
            false,
            "cost_bps_mean",
            "mean cost",
            CellFormat::Number(0),
            "mean cost (bps of the amount)",
        );
    }
    let chains: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for r in points.rows.iter().filter(|r| data::is_chain_row(points, r)) {
            let name = points.text(r, "rail").to_string();
            if !v.contains(&name) {
                v.push(name);
            }
        }
        v
    };
    for c in &chains {
        add(
            c,
            true,
            "stale_rate",
            "stale-block rate",
            CellFormat::Percent,
            "stale blocks (% of produced)",
        );
    }
    (out, notes)
}
