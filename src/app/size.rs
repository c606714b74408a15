//! `settlesim size`: the smallest `[liquidity] scale` at which a service level holds, per rail and corridor. Each
//! probe is an ordinary run of the scenario with `liquidity.scale` set (the same seed every time, so two probes
//! differ only by the liquidity); the search itself (`sweep::size`) is pure and decides which scales to run. The
//! probes of one round run in parallel on a rayon pool; results are collected in scale order, so `--jobs` never
//! changes an answer. size.csv is written atomically.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::app::AppError;
use crate::model::metrics::{Cell, Metrics};
use crate::model::sim::{self, NullSink, RunOptions};
use crate::model::world::{CorridorId, HopFunding, NostroId, RailId, RailKind, TopUp, World};
use crate::output::csv_out::fixed;
use crate::output::write_atomic;
use crate::scenario;
use crate::sweep::size::{Bounds, Found, Target, contradictions, search};

#[derive(Clone, Debug)]
pub struct SizeArgs {
    pub file: Option<PathBuf>,
    pub set: Vec<String>,
    pub seed: Option<u64>,
    pub target: String,
    pub tolerance: f64,
    pub min_scale: f64,
    pub max_scale: f64,
    pub out: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub quiet: bool,
}

/// One row of size.csv: a rail's corridor, or its `all` row.
#[derive(Clone, Debug)]
pub struct SizeRow {
    pub rail: String,
    pub corridor: String,
    pub found: Found,
    /// The measured share (what the target bounds) at the scale found and at the largest failing one.
    pub measured_at_scale: f64,
    pub measured_at_failing: f64,
    /// The level the cell's positions are funded to at scale 1, USD at the start's mid rate.
    pub prefunded_usd_at_unit: f64,
    /// Probes that disagree with the bracket as a monotone answer (failing above it, holding below it).
    pub contradictions: usize,
}

pub struct SizeReport {
    pub scenario: String,
    pub seed: u64,
    pub target: Target,
    pub target_text: String,
    pub bounds: Bounds,
    pub rows: Vec<SizeRow>,
    /// Every scale run, ascending.
    pub scales: Vec<f64>,
    pub out: PathBuf,
    pub wall_s: f64,
}

pub const SIZE_COLUMNS: &[&str] = &[
    "scenario",
    "seed",
    "target",
    "required_share",
    "rail",
    "corridor",
    "status",
    "scale",
    "failing_scale",
    "tolerance",
    "measured_share_at_scale",
    "measured_share_at_failing",
    "prefunded_usd_at_scale_1",
    "prefunded_usd_at_scale",
    "contradicting_probes",
];

fn usage(e: impl ToString) -> AppError {
    AppError::Usage(e.to_string())
}

/// A cell of the search: a rail and one of its corridors, or its `all` row (`None`), in summary.csv's order.
type CellKey = (RailId, Option<CorridorId>);

fn cell_keys(w: &World) -> Vec<CellKey> {
    let mut keys = Vec::new();
    for r in 0..w.rails.len() {
        let rid = RailId(r as u16);
        for (c, corridor) in w.corridors.iter().enumerate() {
            if corridor.routes.iter().any(|&x| w.route(x).rail == rid) {
                keys.push((rid, Some(CorridorId(c as u16))));
            }
        }
        keys.push((rid, None));
    }
    keys
}

fn cell_of(m: &Metrics, key: CellKey) -> Cell {
    match key {
        (r, Some(c)) => m.cell(r, c.idx()).clone(),
        (r, None) => m.rail_total(r),
    }
}

/// The positions a cell's routes draw on (debited nostros, inventories sold from) and whether its rail caps
/// members by a limit: what `[liquidity] scale` changes for it.
fn prefunding(w: &World, key: CellKey) -> (Vec<NostroId>, Option<i64>) {
    let (rail, corridor) = key;
    let mut used = Vec::new();
    for (c, cor) in w.corridors.iter().enumerate() {
        if corridor.is_some_and(|x| x.idx() != c) {
            continue;
        }
        for &rid in &cor.routes {
            let route = w.route(rid);
            if route.rail != rail {
                continue;
            }
            for h in &route.hops {
                if let HopFunding::SenderNostro(n) = h {
                    used.push(*n);
                }
            }
            for &(at, to) in &route.conversions {
                let bank = w.bank(route.path[at]);
                if let Some(&(_, n)) = bank.inventories.iter().find(|&&(x, _)| x == to) {
                    used.push(n);
                }
            }
        }
    }
    used.sort_unstable();
    used.dedup();
    let limit = match &w.rails[rail.idx()].kind {
        RailKind::Ledger(l) => l.member_limit_usd_cents,
        _ => None,
    };
    (used, limit)
}

/// What the cell's positions are funded to, in USD at the start: each position's opening balance, or a
/// threshold policy's target when higher, plus a ledger's member limit.
fn prefunded_usd(w: &World, key: CellKey) -> f64 {
    let (used, limit) = prefunding(w, key);
    let cents: i64 = used
        .iter()
        .map(|&n| {
            let p = &w.nostros[n.idx()];
            let level = match &p.topup {
                TopUp::Threshold(r) => p.opening_minor.max(r.target_minor),
                TopUp::Daily | TopUp::None => p.opening_minor,
            };
            w.fx.usd_cents(level, p.currency, 0)
        })
        .sum::<i64>()
        + limit.unwrap_or(0);
    cents as f64 / 100.0
}

/// The scenario's text and where it came from (a path, or the embedded default).
fn source(file: Option<&Path>) -> Result<(String, String), AppError> {
    match file {
        None => Ok((
            crate::app::DEFAULT_SCENARIO_NAME.to_string(),
            crate::app::DEFAULT_SCENARIO.to_string(),
        )),
        Some(p) => Ok((p.display().to_string(), crate::app::read_scenario(p)?)),
    }
}

/// A scale as `--set` writes it: every scale searched is dyadic, so its shortest decimal form is exact.
fn scale_text(s: f64) -> String {
    format!("{s}")
}

pub fn size(args: &SizeArgs) -> Result<SizeReport, AppError> {
    let wall = Instant::now();
    let target =
        Target::parse(&args.target).map_err(|e| usage(format!("--target {}: {e}", args.target)))?;
    let bounds = Bounds::new(args.min_scale, args.max_scale, args.tolerance).map_err(usage)?;
    if let Some(o) = args.set.iter().find(|o| {
        scenario::locate::split_override(o).is_some_and(|(lhs, _)| lhs.trim() == "liquidity.scale")
    }) {
        return Err(usage(format!(
            "--set {o}: settlesim size chooses liquidity.scale itself (see --min-scale and --max-scale)"
        )));
    }
    let jobs = match args.jobs {
        Some(0) => return Err(usage("--jobs 0: give at least one thread")),
        Some(j) if j > crate::app::sweep::JOBS_MAX => {
            return Err(usage(format!(
                "--jobs {j}: at most {} threads",
                crate::app::sweep::JOBS_MAX
            )));
        }
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("seed={seed}"));
    }
    let (name, text) = source(args.file.as_deref())?;
    // The scenario as given: its errors and warnings are the user's, reported once.
    let given = crate::app::load_scenario(args.file.as_deref(), &overrides)?;
    let w = &given.world;
    let keys = cell_keys(w);
    if keys.is_empty() {
        return Err(usage(format!(
            "{name}: no rail carries payments: nothing to size"
        )));
    }
    let skip: Vec<bool> = keys
        .iter()
        .map(|&k| {
            let (used, limit) = prefunding(w, k);
            used.is_empty() && limit.is_none()
        })
        .collect();
    if skip.iter().all(|&s| s) {
        return Err(usage(format!(
            "{name}: no route draws on a nostro, an inventory or a ledger member limit: liquidity.scale changes \
             nothing here"
        )));
    }
    let at_scale = |s: f64| -> Result<Metrics, AppError> {
        let world = at_scale_world(&name, &text, &overrides, s)?;
        let (outcome, _) = sim::run(&world, NullSink, &RunOptions::default())
            .map_err(|e| AppError::Sim(format!("liquidity.scale={}: {e}", scale_text(s))))?;
        Ok(outcome.metrics)
    };
    let unit_world = at_scale_world(&name, &text, &overrides, 1.0)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| AppError::Io(format!("cannot start {jobs} threads: {e}")))?;
    let chatty = !args.quiet && std::io::stderr().is_terminal();
    let mut measured: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    let (found, probes) = search(&skip, &bounds, |scales| {
        if chatty {
            let list: Vec<String> = scales.iter().map(|&s| scale_text(s)).collect();
            eprintln!("size: running liquidity.scale = {}", list.join(", "));
        }
        let results: Vec<Result<Metrics, AppError>> =
            pool.install(|| scales.par_iter().map(|&s| at_scale(s)).collect());
        let mut verdicts = Vec::with_capacity(scales.len());
        for (&s, r) in scales.iter().zip(results) {
            let m = r?;
            let cells: Vec<Cell> = keys.iter().map(|&k| cell_of(&m, k)).collect();
            measured.insert(
                s.to_bits(),
                cells.iter().map(|c| target.measured(c)).collect(),
            );
            verdicts.push(cells.iter().map(|c| target.holds(c)).collect());
        }
        Ok::<_, AppError>(verdicts)
    })?;
    // Cells that were not searched are reported as measured at scale 1 (the first probe).
    let at = |s: Option<f64>, i: usize| -> f64 {
        s.and_then(|s| measured.get(&s.to_bits()))
            .map_or(f64::NAN, |v| v[i])
    };
    let rows = keys
        .iter()
        .zip(&found)
        .enumerate()
        .map(|(i, (&k, f))| SizeRow {
            rail: w.rails[k.0.idx()].name.clone(),
            corridor: k
                .1
                .map_or("all".to_string(), |c| w.corridors[c.idx()].name.clone()),
            found: *f,
            measured_at_scale: match f {
                Found::Independent => at(Some(1.0), i),
                _ => at(f.scale(), i),
            },
            measured_at_failing: at(f.failing(), i),
            prefunded_usd_at_unit: prefunded_usd(&unit_world, k),
            contradictions: contradictions(f, &probes, i),
        })
        .collect();
    let mut scales: Vec<f64> = probes.iter().map(|(s, _)| *s).collect();
    scales.sort_by(f64::total_cmp);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("{}-size.csv", w.name)));
    let report = SizeReport {
        scenario: w.name.clone(),
        seed: w.seed,
        target,
        target_text: args.target.trim().to_string(),
        bounds,
        rows,
        scales,
        out,
        wall_s: 0.0,
    };
    write_csv(&report)?;
    Ok(SizeReport {
        wall_s: wall.elapsed().as_secs_f64(),
        ..report
    })
}

/// The world at a scale (for the levels a scale of 1 funds), without running it.
fn at_scale_world(name: &str, text: &str, overrides: &[String], s: f64) -> Result<World, AppError> {
    let mut o = overrides.to_vec();
    o.push(format!("liquidity.scale={}", scale_text(s)));
    Ok(scenario::load(name, text, &o)
        .map_err(AppError::Scenario)?
        .world)
}

/// size.csv: one row per cell in summary.csv's order, written atomically.
pub fn size_csv(r: &SizeReport) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SIZE_COLUMNS)?;
    let opt = |x: Option<f64>| x.map_or(String::new(), |s| fixed(s, 9));
    for row in &r.rows {
        let scale = row.found.scale();
        w.write_record([
            r.scenario.clone(),
            r.seed.to_string(),
            r.target_text.clone(),
            fixed(r.target.required(), 6),
            row.rail.clone(),
            row.corridor.clone(),
            row.found.status().to_string(),
            opt(scale),
            opt(row.found.failing()),
            fixed(r.bounds.tolerance, 6),
            fixed(row.measured_at_scale, 6),
            fixed(row.measured_at_failing, 6),
            fixed(row.prefunded_usd_at_unit, 2),
            scale.map_or(String::new(), |s| fixed(s * row.prefunded_usd_at_unit, 2)),
            row.contradictions.to_string(),
        ])?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn write_csv(r: &SizeReport) -> Result<(), AppError> {
    let bytes = size_csv(r).map_err(|e| AppError::Io(e.to_string()))?;
    let dir = match r.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = r
        .out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| usage(format!("--out {}: needs a file name", r.out.display())))?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::Io(format!("{}: cannot create: {e}", dir.display())))?;
    if dir.join(name).is_dir() {
        return Err(usage(format!(
            "--out {}: is a directory; give a file name such as size.csv",
            r.out.display()
        )));
    }
    write_atomic(&dir, name, &bytes)
        .map_err(|e| AppError::Io(format!("{}: cannot write: {e}", r.out.display())))
}

/// A USD amount in words a table can hold: 2.6 M, 350 k, 900.
fn usd_short(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x >= 1e9 {
        format!("{:.1} bn", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.0} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The terminal table: per cell, the scale found, the bracket, the measured share and the liquidity it means.
pub fn render(r: &SizeReport) -> String {
    let pct = |x: f64| {
        if x.is_finite() {
            format!("{:.2}%", 100.0 * x)
        } else {
            "-".into()
        }
    };
    let scale = |x: Option<f64>| x.map_or("-".to_string(), |s| format!("{s:.4}"));
    let mut lines = vec![
        format!(
            "{}: the smallest liquidity.scale at which {} ({}), seed {}, tolerance {}%",
            r.scenario,
            r.target.describe(),
            r.target_text,
            r.seed,
            100.0 * r.bounds.tolerance
        ),
        String::new(),
        format!(
            "{:<14} {:<10} {:<14} {:>8} {:>9} {:>10} {:>10} {:>14}",
            "rail",
            "corridor",
            "status",
            "scale",
            "fails at",
            "measured",
            "below it",
            "prefunded USD"
        ),
    ];
    for row in &r.rows {
        let s = row.found.scale();
        let status = if row.contradictions > 0 {
            format!("{} (!)", row.found.status())
        } else {
            row.found.status().to_string()
        };
        lines.push(format!(
            "{:<14} {:<10} {:<14} {:>8} {:>9} {:>10} {:>10} {:>14}",
            row.rail,
            row.corridor,
            status,
            scale(s),
            scale(row.found.failing()),
            pct(row.measured_at_scale),
            pct(row.measured_at_failing),
            s.map_or("-".into(), |s| usd_short(s * row.prefunded_usd_at_unit)),
        ));
    }
    let list: Vec<String> = r.scales.iter().map(|s| format!("{s}")).collect();
    if r.rows.iter().any(|x| x.contradictions > 0) {
        lines.push(String::new());
        lines.push(
            "(!) another probe disagrees: the target failed at a larger scale or held at a smaller one \
             (contradicting_probes in the CSV). The service level is not monotone in the scale here (threshold \
             policies leave a balance anywhere between threshold and target when the funding calendar closes); \
             the bracket still holds, but sweep liquidity.scale to see the whole curve."
                .to_string(),
        );
    }
    lines.push(String::new());
    lines.push(format!(
        "{} runs at liquidity.scale = {}; {:.1}s wall",
        r.scales.len(),
        list.join(", "),
        r.wall_s
    ));
    lines.push(format!("size.csv in {}", r.out.display()));
    lines.join("\n")
}
