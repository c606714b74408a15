//! The sweep's result files, built from the committed runs in run-id order (never completion order), so the
//! bytes depend only on the plan: `runs.csv` (every run's rows), and for a whole sweep `points.csv` (mean and
//! 95% CI per grid point × rail × corridor) and `histograms/point-<j>/RAIL__CORRIDOR.hdr` (the point's latency
//! histograms, added exactly). One point's accumulators are in memory at a time.

use std::io::Write;
use std::path::Path;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

use crate::app::AppError;
use crate::app::sweep::store::{self, ROWS_CSV, RowRecord};
use crate::model::metrics::latency_histogram;
use crate::output::csv_out::{SUMMARY_COLUMNS, fixed};
use crate::output::{AtomicFile, write_atomic};
use crate::sweep::HEADLINE;
use crate::sweep::plan::{Definition, Shard};
use crate::sweep::stats::{self, Estimate};

pub const RUNS_CSV: &str = "runs.csv";
pub const POINTS_CSV: &str = "points.csv";

/// The header of runs.csv: the run's identity, its grid values, then the summary columns of `run`.
pub fn runs_header(def: &Definition) -> Vec<String> {
    let mut h: Vec<String> = ["run", "point", "scenario"].map(String::from).to_vec();
    h.extend(def.grid.iter().map(|a| a.path.clone()));
    h.extend(["replication", "seed"].map(String::from));
    h.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    h.push("throughput_per_day".into());
    h
}

fn points_header(def: &Definition) -> Vec<String> {
    let mut h: Vec<String> = ["point", "scenario"].map(String::from).to_vec();
    h.extend(def.grid.iter().map(|a| a.path.clone()));
    h.extend(["rail", "corridor", "replications"].map(String::from));
    for (m, _) in HEADLINE {
        h.extend([
            format!("{m}_mean"),
            format!("{m}_ci95_lo"),
            format!("{m}_ci95_hi"),
        ]);
    }
    for (m, _) in HEADLINE {
        h.extend([
            format!("{m}_diff"),
            format!("{m}_diff_ci95_lo"),
            format!("{m}_diff_ci95_hi"),
        ]);
    }
    h.push("constant".into());
    h
}

/// The interval of a metric, kept inside the values it can take: every headline metric is non-negative, and
/// percentages and the stale rate are bounded above. `None` when every replication gave the same value: a
/// zero-width interval would read as certainty (the `constant` column names such metrics instead).
fn bounded(metric: &str, e: &Estimate) -> Option<(f64, f64)> {
    let (lo, hi) = (e.lo()?, e.hi()?);
    if hi <= lo {
        return None;
    }
    let top = if metric.ends_with("_pct") {
        100.0
    } else if metric == "stale_rate" {
        1.0
    } else {
        f64::INFINITY
    };
    Some((lo.max(0.0), hi.min(top)))
}

/// Paired differences of `values` against the baseline point's replications (same replication, same seed under
/// common random numbers), in replication order.
fn paired(values: Option<&[f64]>, base: Option<&[f64]>) -> Option<Estimate> {
    let (v, b) = (values?, base?);
    if v.len() != b.len() {
        return None;
    }
    let d: Vec<f64> = v.iter().zip(b).map(|(x, y)| x - y).collect();
    stats::estimate(&d)
}

/// A row of points.csv worth showing on the terminal (a rail's `all` row).
pub struct PointLine {
    pub point: u64,
    pub scenario: String,
    pub labels: Vec<String>,
    pub rail: String,
    pub estimates: Vec<Option<Estimate>>,
}

pub struct Finished {
    pub files: Vec<String>,
    pub digest: String,
    /// The `all` rows of the points, for the terminal table (the first `TABLE_ROWS_MAX`).
    pub lines: Vec<PointLine>,
    pub lines_total: usize,
}

pub const TABLE_ROWS_MAX: usize = 24;

/// Accumulates the replications of one grid point.
struct PointAcc {
    labels: Vec<(String, String)>,
    /// `values[row][metric]`: one value per replication, or None once a replication lacks it.
    values: Vec<Vec<Option<Vec<f64>>>>,
    histograms: Vec<Histogram<u64>>,
}

impl PointAcc {
    fn new(rows: &[RowRecord]) -> PointAcc {
        PointAcc {
            labels: rows
                .iter()
                .map(|r| (r.rail.clone(), r.corridor.clone()))
                .collect(),
            values: rows
                .iter()
                .map(|_| vec![Some(Vec::new()); HEADLINE.len()])
                .collect(),
            histograms: rows.iter().map(|_| latency_histogram()).collect(),
        }
    }

    fn add(&mut self, dir: &Path, k: u64, rows: &[RowRecord]) -> Result<(), AppError> {
        let same = rows.len() == self.labels.len()
            && rows
                .iter()
                .zip(&self.labels)
                .all(|(r, l)| r.rail == l.0 && r.corridor == l.1);
        if !same {
            return Err(AppError::Sim(format!(
                "run {k} has other rails or corridors than the first run of its grid point"
            )));
        }
        for (i, row) in rows.iter().enumerate() {
            for (slot, v) in self.values[i].iter_mut().zip(&row.headline) {
                // A metric missing in any replication is left out of the point rather than averaged over the
                // replications that happen to have it.
                match (slot.as_mut(), v) {
                    (Some(list), Some(x)) => list.push(*x),
                    _ => *slot = None,
                }
            }
            let bytes = store::read_file(dir, k, &row.histogram)?;
            let h: Histogram<u64> = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| AppError::Io(format!("run {k}: {}: {e:?}", row.histogram)))?;
            self.histograms[i]
                .add(&h)
                .map_err(|e| AppError::Io(format!("run {k}: {}: {e:?}", row.histogram)))?;
        }
        Ok(())
    }
}

/// Writes runs.csv (and, for a whole sweep, points.csv and the point histograms), returns their names and digest.
pub fn finish(dir: &Path, def: &Definition, shard: Shard) -> Result<Finished, AppError> {
    let io =
        |what: &str, e: std::io::Error| AppError::Io(format!("{}: {what}: {e}", dir.display()));
    let mut files = vec![RUNS_CSV.to_string()];
    let mut runs_csv =
        AtomicFile::create(dir, RUNS_CSV).map_err(|e| io("cannot write runs.csv", e))?;
    write_record(&mut runs_csv, &runs_header(def)).map_err(|e| io("runs.csv", e))?;
    let mut points_csv = if shard.is_all() {
        files.push(POINTS_CSV.to_string());
        let mut f =
            AtomicFile::create(dir, POINTS_CSV).map_err(|e| io("cannot write points.csv", e))?;
        write_record(&mut f, &points_header(def)).map_err(|e| io("points.csv", e))?;
        Some(f)
    } else {
        None
    };
    let mut lines = Vec::new();
    let mut lines_total = 0;
    let reps = def.replications as u64;
    // The scenario's first grid point: the baseline of the paired differences.
    let mut base: Option<PointAcc> = None;
    for point in 0..def.points() {
        let mut acc: Option<PointAcc> = None;
        for k in point * reps..(point + 1) * reps {
            if !shard.owns(k) {
                continue;
            }
            let record = store::check_run(dir, &def.run(k))
                .map_err(|why| AppError::Io(format!("{}: run {k}: {why}", dir.display())))?;
            runs_csv
                .write_all(&store::read_file(dir, k, ROWS_CSV)?)
                .map_err(|e| io("runs.csv", e))?;
            if points_csv.is_some() {
                acc.get_or_insert_with(|| PointAcc::new(&record.rows))
                    .add(dir, k, &record.rows)?;
            }
        }
        if let (Some(out), Some(acc)) = (points_csv.as_mut(), acc) {
            let scenario = &def.scenarios[def.point_scenario(point)].name;
            let labels: Vec<String> = def
                .point_labels(point)
                .iter()
                .map(|s| s.to_string())
                .collect();
            let is_base = point % def.points_per_scenario() == 0;
            for (i, (rail, corridor)) in acc.labels.iter().enumerate() {
                let estimates: Vec<Option<Estimate>> = acc.values[i]
                    .iter()
                    .map(|v| v.as_deref().and_then(stats::estimate))
                    .collect();
                let mut rec = vec![point.to_string(), scenario.clone()];
                rec.extend(labels.iter().cloned());
                rec.extend([rail.clone(), corridor.clone(), reps.to_string()]);
                let mut constant = Vec::new();
                for (e, (m, decimals)) in estimates.iter().zip(HEADLINE) {
                    let f = |x: Option<f64>| x.map(|x| fixed(x, *decimals)).unwrap_or_default();
                    let ci = e.and_then(|e| bounded(m, &e));
                    if e.is_some_and(|e| e.n >= 2) && ci.is_none() {
                        constant.push(m.to_string());
                    }
                    rec.extend([f(e.map(|e| e.mean)), f(ci.map(|c| c.0)), f(ci.map(|c| c.1))]);
                }
                // The baseline row of the same rail and corridor, if the point has one.
                let base_row = base.as_ref().filter(|_| !is_base).and_then(|b| {
                    b.labels
                        .iter()
                        .position(|l| l.0 == *rail && l.1 == *corridor)
                        .map(|j| &b.values[j])
                });
                for (j, (m, decimals)) in HEADLINE.iter().enumerate() {
                    let f = |x: Option<f64>| x.map(|x| fixed(x, *decimals)).unwrap_or_default();
                    let d =
                        base_row.and_then(|b| paired(acc.values[i][j].as_deref(), b[j].as_deref()));
                    let ci = d
                        .and_then(|d| Some((d.lo()?, d.hi()?)))
                        .filter(|c| c.1 > c.0);
                    if d.is_some_and(|d| d.n >= 2) && ci.is_none() {
                        constant.push(format!("{m}_diff"));
                    }
                    rec.extend([f(d.map(|d| d.mean)), f(ci.map(|c| c.0)), f(ci.map(|c| c.1))]);
                }
                rec.push(constant.join(";"));
                write_record(out, &rec).map_err(|e| io("points.csv", e))?;
                let name = format!("histograms/point-{point}/{rail}__{corridor}.hdr");
                let mut bytes = Vec::new();
                V2Serializer::new()
                    .serialize(&acc.histograms[i], &mut bytes)
                    .map_err(|e| AppError::Io(format!("histogram serialization: {e:?}")))?;
                std::fs::create_dir_all(dir.join(format!("histograms/point-{point}")))
                    .map_err(|e| io("cannot create histograms/", e))?;
                write_atomic(dir, &name, &bytes).map_err(|e| io(&name, e))?;
                files.push(name);
                if corridor == "all" {
                    lines_total += 1;
                    if lines.len() < TABLE_ROWS_MAX {
                        lines.push(PointLine {
                            point,
                            scenario: scenario.clone(),
                            labels: labels.clone(),
                            rail: rail.clone(),
                            estimates,
                        });
                    }
                }
            }
            if is_base {
                base = Some(acc);
            }
        }
    }
    runs_csv
        .commit()
        .map_err(|e| io("cannot write runs.csv", e))?;
    if let Some(f) = points_csv {
        f.commit().map_err(|e| io("cannot write points.csv", e))?;
    }
    let digest = crate::output::digest(dir, &files).map_err(|e| io("digest", e))?;
    files.sort();
    Ok(Finished {
        files,
        digest,
        lines,
        lines_total,
    })
}

/// One CSV record (quoted where needed) appended to `out`.
fn write_record(out: &mut impl Write, fields: &[String]) -> std::io::Result<()> {
    out.write_all(&csv_record(fields)?)
}

pub fn csv_record(fields: &[String]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields)?;
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}
