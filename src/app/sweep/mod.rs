//! `settlesim sweep` and `settlesim merge`: the edge of sweeps. Loads and checks every scenario and grid point
//! before anything runs, runs the plan's runs (or one shard's) on a rayon pool, commits each run atomically into
//! `runs/<k>/` so a restarted sweep skips finished runs, and builds the result files from the committed runs in
//! run-id order. The plan, the seeds and the statistics are pure (`crate::sweep`).

pub mod finish;
pub mod merge;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use hdrhistogram::serialization::{Serializer, V2Serializer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app::AppError;
use crate::app::sweep::store::{Identity, PendingRun, ROWS_CSV, RowRecord, RunRecord};
use crate::model::sim::{self, NullSink, Outcome, RunOptions};
use crate::output::csv_out::{self, PaymentsCsv, fixed};
use crate::output::write_atomic;
use crate::scenario::locate::{FieldPath, split_override};
use crate::scenario::{self, Loaded};
use crate::sweep::plan::{Axis, Definition, RunSpec, ScenarioId, Shard};
use crate::sweep::{HEADLINE, headline, trials};
use crate::units::human_duration_s;

/// At most this many worker threads.
pub const JOBS_MAX: usize = 1024;

pub const SEED_DERIVATION: &str = "seed of a run = first 8 bytes (little-endian) of SHA-256 over the length-prefixed \
fields (\"settlesim sweep seed v1\", master seed as u64 LE, scenario sha256, number of grid overrides, each \
PATH=VALUE override sorted, replication as u32 LE), top bit cleared; the grid overrides are left out (zero of them) \
unless the definition is independent (common random numbers across grid points)";

#[derive(Clone, Debug, Default)]
pub struct SweepArgs {
    pub files: Vec<PathBuf>,
    pub grid: Vec<String>,
    pub set: Vec<String>,
    pub replications: u32,
    pub seed: u64,
    pub jobs: Option<usize>,
    pub shard: Option<String>,
    pub out: Option<PathBuf>,
    pub payments: bool,
    /// Independent seeds per grid point instead of common random numbers.
    pub independent: bool,
    pub quiet: bool,
}

/// A scenario file read once: where it came from and its text.
struct Source {
    path: String,
    text: String,
}

/// `manifest.json` of a sweep directory.
#[derive(Serialize, Deserialize)]
pub struct SweepManifest {
    pub kind: String,
    /// The manifest format (see `output::verify`).
    #[serde(default)]
    pub schema: u32,
    pub settlesim_version: String,
    pub definition: Definition,
    pub shard: Shard,
    pub scenario_sources: Vec<String>,
    pub seed_derivation: String,
    pub runs_total: u64,
    pub runs: u64,
    pub points: u64,
    pub files: Vec<String>,
    /// SHA-256 of each file in `files`: readers check every file they read against it.
    #[serde(default)]
    pub file_sha256: std::collections::BTreeMap<String, String>,
    pub digest: String,
    pub runs_executed: u64,
    pub runs_skipped: u64,
    pub jobs: usize,
    pub merged_from: Vec<String>,
    pub wall_time_s: f64,
}

pub const MANIFEST_KIND: &str = "settlesim sweep";

pub struct SweepReport {
    pub dir: PathBuf,
    pub manifest: SweepManifest,
    pub finished: finish::Finished,
    pub run_phase_s: f64,
}

fn usage(e: impl ToString) -> AppError {
    AppError::Usage(e.to_string())
}

/// Rejects a `--set seed=...`: the seed of each run is derived.
fn check_set(set: &[String]) -> Result<(), AppError> {
    for s in set {
        if let Some((lhs, _)) = split_override(s)
            && lhs
                .trim()
                .parse::<FieldPath>()
                .is_ok_and(|p| p.to_string() == "seed")
        {
            return Err(AppError::Usage(format!(
                "--set `{s}`: the seed of each run is derived from --seed, the scenario, the grid point and the \
                 replication; use --seed"
            )));
        }
    }
    Ok(())
}

/// Reads the files, derives each scenario's identity and builds the definition.
fn define(args: &SweepArgs) -> Result<(Definition, Vec<Source>), AppError> {
    let grid: Vec<Axis> = args
        .grid
        .iter()
        .map(|g| g.parse())
        .collect::<Result<_, _>>()
        .map_err(usage)?;
    check_set(&args.set)?;
    let mut sources: Vec<Source> = Vec::new();
    let mut scenarios: Vec<ScenarioId> = Vec::new();
    for path in &args.files {
        let text = crate::app::read_scenario(path)?;
        let source = Source {
            path: path.display().to_string(),
            text,
        };
        let mut o = args.set.clone();
        o.push("seed=0".into());
        let loaded = scenario::load(&source.path, &source.text, &o).map_err(AppError::Scenario)?;
        for w in &loaded.warnings {
            eprintln!("{w}");
        }
        if let Some(i) = scenarios.iter().position(|s| s.name == loaded.raw.name) {
            return Err(AppError::Usage(format!(
                "{}: scenario name {:?} is also the name of {}; names label the rows, so they must differ",
                source.path, loaded.raw.name, sources[i].path
            )));
        }
        scenarios.push(ScenarioId {
            name: loaded.raw.name.clone(),
            sha256: loaded.sha256,
        });
        sources.push(source);
    }
    let def = Definition {
        settlesim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenarios,
        set: args.set.clone(),
        grid,
        replications: args.replications,
        seed: args.seed,
        payments: args.payments,
        independent: args.independent,
    };
    def.check().map_err(usage)?;
    Ok((def, sources))
}

/// The overrides of one run: `--set`, then the grid point, then the seed.
fn overrides(def: &Definition, point: u64, seed: u64) -> Vec<String> {
    let mut o = def.set.clone();
    o.extend(def.point_overrides(point));
    o.push(format!("seed={seed}"));
    o
}

/// Loads every (scenario, grid point) once, in parallel, so a bad value fails before anything runs; reports the
/// first bad point in plan order.
fn validate_points(def: &Definition, sources: &[Source]) -> Result<(), AppError> {
    let errors: Vec<(u64, AppError)> = (0..def.points())
        .into_par_iter()
        .filter_map(|p| {
            let s = &sources[def.point_scenario(p)];
            scenario::load(&s.path, &s.text, &overrides(def, p, 0))
                .err()
                .map(|e| (p, AppError::Scenario(e)))
        })
        .collect();
    match errors.into_iter().min_by_key(|(p, _)| *p) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

pub fn sweep(args: &SweepArgs) -> Result<SweepReport, AppError> {
    let wall = Instant::now();
    let shard: Shard = match &args.shard {
        Some(s) => s.parse().map_err(usage)?,
        None => Shard::ALL,
    };
    let jobs = match args.jobs {
        Some(0) => return Err(usage("--jobs 0: give at least one thread")),
        Some(j) if j > JOBS_MAX => {
            return Err(usage(format!("--jobs {j}: at most {JOBS_MAX} threads")));
        }
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let (def, sources) = define(args)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| AppError::Io(format!("cannot start {jobs} threads: {e}")))?;
    pool.install(|| validate_points(&def, &sources))?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results/sweep"));
    let id = Identity {
        definition: def.clone(),
        shard,
    };
    // A sweep directory is resumable, so it is written in place (each run committed whole), under the lock so
    // that a second sweep into it fails at once instead of interleaving.
    let _lock = crate::output::staging::lock(&dir)?;
    store::prepare(&dir, &id)?;

    // Resume: a committed, intact run of this plan is kept; anything else runs (again).
    let owned: Vec<u64> = (0..def.runs()).filter(|&k| shard.owns(k)).collect();
    let mut pending = Vec::new();
    for &k in &owned {
        let spec = def.run(k);
        if store::run_dir(&dir, k).exists() {
            match store::check_run(&dir, &spec) {
                Ok(_) => continue,
                Err(why) => {
                    if !args.quiet {
                        eprintln!(
                            "warning: {}: run {k} is damaged ({why}); running it again",
                            dir.display()
                        );
                    }
                    store::discard(&dir, k)?;
                }
            }
        }
        pending.push(spec);
    }
    let skipped = (owned.len() - pending.len()) as u64;

    let started = Instant::now();
    let bar = crate::app::progress::runs_bar(owned.len() as u64, skipped, args.quiet);
    let stop = AtomicBool::new(false);
    let failures: Vec<(u64, AppError)> = pool.install(|| {
        pending
            .par_iter()
            .filter_map(|spec| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let result = execute(&dir, &def, &sources, spec);
                if let Some(b) = &bar {
                    b.inc(1);
                }
                result.err().map(|e| {
                    stop.store(true, Ordering::Relaxed);
                    (spec.k, e)
                })
            })
            .collect()
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some((_, e)) = failures.into_iter().min_by_key(|(k, _)| *k) {
        return Err(e);
    }
    let run_phase_s = started.elapsed().as_secs_f64();

    let finished = finish::finish(&dir, &def, shard)?;
    let mut manifest = SweepManifest {
        kind: MANIFEST_KIND.into(),
        schema: crate::output::verify::MANIFEST_SCHEMA,
        settlesim_version: env!("CARGO_PKG_VERSION").to_string(),
        runs_total: def.runs(),
        runs: owned.len() as u64,
        points: def.points(),
        definition: def,
        shard,
        scenario_sources: sources.iter().map(|s| s.path.clone()).collect(),
        seed_derivation: SEED_DERIVATION.into(),
        files: finished.files.clone(),
        file_sha256: Default::default(),
        digest: finished.digest.clone(),
        runs_executed: pending.len() as u64,
        runs_skipped: skipped,
        jobs,
        merged_from: vec![],
        wall_time_s: wall.elapsed().as_secs_f64(),
    };
    write_manifest(&dir, &mut manifest)?;
    Ok(SweepReport {
        dir,
        manifest,
        finished,
        run_phase_s,
    })
}

/// Writes `manifest.json` last, with the hash of every result file, so that readers can verify the directory.
pub fn write_manifest(dir: &Path, m: &mut SweepManifest) -> Result<(), AppError> {
    m.file_sha256 = crate::output::verify::file_hashes(dir, &m.files).map_err(|e| {
        AppError::Io(format!(
            "{}: cannot hash the result files: {e}",
            dir.display()
        ))
    })?;
    let json = serde_json::to_vec_pretty(m).map_err(|e| AppError::Io(e.to_string()))?;
    write_atomic(dir, "manifest.json", &json).map_err(|e| {
        AppError::Io(format!(
            "{}: cannot write manifest.json: {e}",
            dir.display()
        ))
    })
}

/// Runs one run of the plan and commits it into `runs/<k>/`.
fn execute(
    dir: &Path,
    def: &Definition,
    sources: &[Source],
    spec: &RunSpec,
) -> Result<(), AppError> {
    let source = &sources[spec.scenario];
    let loaded = scenario::load(
        &source.path,
        &source.text,
        &overrides(def, spec.point, spec.seed),
    )
    .map_err(AppError::Scenario)?;
    let pending = store::begin(dir, spec.k)?;
    let sim_err = |e: sim::SimError| {
        AppError::Sim(format!(
            "run {} (scenario {}, {}replication {}): {e}",
            spec.k,
            loaded.raw.name,
            def.point_overrides(spec.point)
                .iter()
                .map(|o| format!("{o}, "))
                .collect::<String>(),
            spec.replication
        ))
    };
    let mut files = vec![ROWS_CSV.to_string()];
    let outcome = if def.payments {
        let sink = PaymentsCsv::create(&loaded.world, &pending.path)
            .map_err(|e| AppError::Io(format!("run {}: payments.csv: {e}", spec.k)))?;
        let (outcome, sink) =
            sim::run(&loaded.world, sink, &RunOptions::default()).map_err(sim_err)?;
        sink.finish(&pending.path)
            .map_err(|e| AppError::Io(format!("run {}: payments.csv: {e}", spec.k)))?;
        files.push("payments.csv".into());
        outcome
    } else {
        sim::run(&loaded.world, NullSink, &RunOptions::default())
            .map_err(sim_err)?
            .0
    };
    let record = write_rows(def, spec, &loaded, &outcome, &pending, &mut files)?;
    pending.commit(dir, record, &files)
}

/// Writes the run's rows.csv and histograms; returns its marker (without file hashes, which commit adds).
fn write_rows(
    def: &Definition,
    spec: &RunSpec,
    loaded: &Loaded,
    outcome: &Outcome,
    pending: &PendingRun,
    files: &mut Vec<String>,
) -> Result<RunRecord, AppError> {
    let world = &loaded.world;
    let summary = csv_out::summary_rows(world, outcome);
    let mut prefix = vec![
        spec.k.to_string(),
        spec.point.to_string(),
        world.name.clone(),
    ];
    prefix.extend(def.point_labels(spec.point).iter().map(|s| s.to_string()));
    prefix.extend([spec.replication.to_string(), spec.seed.to_string()]);
    let mut csv = Vec::new();
    let mut rows = Vec::new();
    let chain_rows = csv_out::chain_summary_rows(world, &outcome.chains, outcome.end_us);
    for row in summary.iter().chain(chain_rows.iter()) {
        let mut rec = prefix.clone();
        rec.extend(csv_out::summary_record(row));
        rec.push(fixed(row.cell.throughput_per_day(), 3));
        csv.extend(finish::csv_record(&rec).map_err(|e| AppError::Io(e.to_string()))?);
        let name = format!("histograms/{}__{}.hdr", row.rail, row.corridor);
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(&row.cell.latency_ms, &mut bytes)
            .map_err(|e| AppError::Io(format!("histogram serialization: {e:?}")))?;
        pending.write(&name, &bytes)?;
        files.push(name.clone());
        rows.push(RowRecord {
            rail: row.rail.clone(),
            corridor: row.corridor.clone(),
            headline: headline(
                &row.cell,
                row.chain.as_ref(),
                row.risk.as_ref().map(|r| r.liquidity.prefunded_mean_usd),
            ),
            trials: trials(&row.cell, row.chain.as_ref()),
            histogram: name,
        });
    }
    pending.write(ROWS_CSV, &csv)?;
    Ok(RunRecord {
        k: spec.k,
        point: spec.point,
        replication: spec.replication,
        seed: spec.seed,
        scenario_sha256: loaded.sha256.clone(),
        events: outcome.events,
        payments: outcome.payments,
        ended_by: outcome.ended_by.as_str().to_string(),
        rows,
        files: vec![],
    })
}

/// The terminal summary: what ran, the `all` rows per point with their 95% intervals, where the results are.
pub fn render(r: &SweepReport) -> String {
    let m = &r.manifest;
    let d = &m.definition;
    let mut out = vec![format!(
        "sweep: {} scenario{} × {} grid point{} × {} replication{} = {} runs{}",
        d.scenarios.len(),
        plural(d.scenarios.len() as u64),
        d.points_per_scenario(),
        plural(d.points_per_scenario()),
        d.replications,
        plural(d.replications as u64),
        m.runs_total,
        if m.shard.is_all() {
            String::new()
        } else {
            format!("; shard {} has {}", m.shard, m.runs)
        }
    )];
    if m.merged_from.is_empty() {
        let rate = if r.run_phase_s > 0.0 {
            m.runs_executed as f64 / r.run_phase_s
        } else {
            0.0
        };
        out.push(format!(
            "ran {} runs on {} thread{} in {:.2}s ({rate:.2} runs/s); skipped {} already done",
            m.runs_executed,
            m.jobs,
            plural(m.jobs as u64),
            r.run_phase_s,
            m.runs_skipped
        ));
    } else {
        out.push(format!("merged {} shard directories", m.merged_from.len()));
    }
    if !r.finished.lines.is_empty() {
        out.push(String::new());
        out.push(table(r));
    }
    out.push(String::new());
    out.push(format!(
        "results in {}  digest {}",
        r.dir.display(),
        &m.digest[..16]
    ));
    out.join("\n")
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The mean and its bounded 95% interval per point for the `all` row of each rail, as points.csv has them: an
/// interval never leaves the values the metric can take, and replications that all agree say so instead of
/// showing a zero-width interval.
fn table(r: &SweepReport) -> String {
    let d = &r.manifest.definition;
    let col = |name: &str| HEADLINE.iter().position(|(m, _)| *m == name).unwrap_or(0);
    let cols = [
        ("p50", col("latency_s_p50"), Unit::Duration),
        ("p99", col("latency_s_p99"), Unit::Duration),
        ("cost bps", col("cost_bps_mean"), Unit::Count),
        ("settled %", col("settled_pct"), Unit::Percent),
        ("settled/day", col("throughput_per_day"), Unit::Count),
    ];
    // Every column as wide as its widest entry: an axis name or value is never cut (two axes named
    // `chains[0].background.tx_per_s` and `chains[0].block_interval` must stay told apart).
    let lines_in = &r.finished.lines;
    let width = |head: &str, cells: &mut dyn Iterator<Item = usize>| {
        cells.fold(head.chars().count(), usize::max)
    };
    let w_scenario = width(
        "scenario",
        &mut lines_in.iter().map(|l| l.scenario.chars().count()),
    );
    let w_rail = width("rail", &mut lines_in.iter().map(|l| l.rail.chars().count()));
    let w_axes: Vec<usize> = d
        .grid
        .iter()
        .enumerate()
        .map(|(k, a)| {
            width(
                &a.path,
                &mut lines_in
                    .iter()
                    .map(|l| l.labels.get(k).map_or(0, |v| v.chars().count())),
            )
        })
        .collect();
    let mut head = format!("{:>5} {:<w_scenario$}", "point", "scenario");
    for (a, w) in d.grid.iter().zip(&w_axes) {
        head.push_str(&format!(" {:<w$}", a.path));
    }
    head.push_str(&format!(" {:<w_rail$}", "rail"));
    for (name, _, _) in &cols {
        head.push_str(&format!(" {name:>22}"));
    }
    let mut lines = vec![head];
    for l in &r.finished.lines {
        let mut s = format!("{:>5} {:<w_scenario$}", l.point, l.scenario);
        for (v, w) in l.labels.iter().zip(&w_axes) {
            s.push_str(&format!(" {v:<w$}"));
        }
        s.push_str(&format!(" {:<w_rail$}", l.rail));
        for (_, i, unit) in &cols {
            let cell = match l.estimates[*i] {
                None => "-".to_string(),
                Some(e) => {
                    let fmt = |x: f64| unit.format(x);
                    match l.intervals[*i] {
                        _ if l.constant[*i] => format!("{} (all equal)", fmt(e.mean)),
                        Some((lo, hi)) => format!("{} [{}, {}]", fmt(e.mean), fmt(lo), fmt(hi)),
                        None => fmt(e.mean),
                    }
                }
            };
            s.push_str(&format!(" {cell:>22}"));
        }
        lines.push(s);
    }
    if r.finished.lines_total > r.finished.lines.len() {
        lines.push(format!(
            "… {} more rows in points.csv",
            r.finished.lines_total - r.finished.lines.len()
        ));
    }
    lines.join("\n")
}

/// How a column of the terminal table writes its numbers.
#[derive(Clone, Copy)]
enum Unit {
    Duration,
    Count,
    Percent,
}

impl Unit {
    fn format(self, x: f64) -> String {
        match self {
            Unit::Duration => human_duration_s(x),
            Unit::Count => format!("{x:.0}"),
            Unit::Percent => format!("{x:.1}"),
        }
    }
}
