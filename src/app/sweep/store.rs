//! The sweep directory on disk: `sweep.json` (which sweep, which shard), and one committed directory per finished
//! run, `runs/<k>/`. A run is written into `runs/.<k>.partial/` and renamed to `runs/<k>/` when its marker
//! `run.json` (with the SHA-256 of every other file of the run) is complete, so a run directory either exists
//! whole or not at all; a killed sweep leaves at most some `.partial` directories, which the next start removes.
//! Resume trusts a run directory only if its marker parses and every hash matches.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::app::AppError;
use crate::output::{self, write_atomic};
use crate::sweep::plan::{Definition, RunSpec, Shard};

pub const RUNS_DIR: &str = "runs";
pub const SWEEP_JSON: &str = "sweep.json";
pub const RUN_JSON: &str = "run.json";
pub const ROWS_CSV: &str = "rows.csv";

/// What `sweep.json` holds: the definition and the shard this directory computes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub definition: Definition,
    pub shard: Shard,
}

/// One row of a run, as the point statistics need it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RowRecord {
    pub rail: String,
    pub corridor: String,
    /// Headline metrics in `sweep::HEADLINE` order (full precision; `null` where the metric does not exist).
    pub headline: Vec<Option<f64>>,
    /// Trials behind each proportion metric in `sweep::HEADLINE` order (`sweep::trials`); `null` elsewhere.
    #[serde(default)]
    pub trials: Vec<Option<u64>>,
    /// The latency histogram file of this row, relative to the run directory.
    pub histogram: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub name: String,
    pub sha256: String,
}

/// `run.json`: the run's identity, a few facts about it, its rows, and the hashes of its files.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub k: u64,
    pub point: u64,
    pub replication: u32,
    pub seed: u64,
    /// SHA-256 of the effective scenario (grid point and seed applied).
    pub scenario_sha256: String,
    pub events: u64,
    pub payments: u64,
    pub ended_by: String,
    pub rows: Vec<RowRecord>,
    pub files: Vec<FileHash>,
}

fn io_err(path: &Path, what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Io(format!("{}: {what}: {e}", path.display()))
}

pub fn run_dir(dir: &Path, k: u64) -> PathBuf {
    dir.join(RUNS_DIR).join(k.to_string())
}

fn partial_dir(dir: &Path, k: u64) -> PathBuf {
    dir.join(RUNS_DIR).join(format!(".{k}.partial"))
}

/// Makes `dir` a directory of this sweep and shard, or checks that it already is one (resume), and removes the
/// partial runs a killed process left behind.
pub fn prepare(dir: &Path, id: &Identity) -> Result<(), AppError> {
    let marker = dir.join(SWEEP_JSON);
    if marker.is_file() {
        let text = fs::read_to_string(&marker).map_err(|e| io_err(&marker, "cannot read", e))?;
        let found: Identity = serde_json::from_str(&text).map_err(|e| {
            AppError::Usage(format!(
                "{}: not a sweep definition ({e}); choose another --out",
                marker.display()
            ))
        })?;
        let fields = found.definition.differences(&id.definition);
        if !fields.is_empty() {
            return Err(AppError::Usage(format!(
                "{}: holds another sweep (it differs in {}); choose another --out or remove it",
                dir.display(),
                fields.join(", ")
            )));
        }
        if found.shard != id.shard {
            return Err(AppError::Usage(format!(
                "{}: holds shard {} of this sweep, not {}; give each shard its own --out",
                dir.display(),
                found.shard,
                id.shard
            )));
        }
    } else {
        let nonempty = fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
        if nonempty {
            return Err(AppError::Usage(format!(
                "{}: exists and is not a sweep directory (no {SWEEP_JSON}); choose another --out",
                dir.display()
            )));
        }
        fs::create_dir_all(dir.join(RUNS_DIR))
            .map_err(|e| io_err(dir, "cannot create the output directory", e))?;
        let json = serde_json::to_vec_pretty(id).map_err(|e| AppError::Io(e.to_string()))?;
        write_atomic(dir, SWEEP_JSON, &json).map_err(|e| io_err(&marker, "cannot write", e))?;
    }
    let runs = dir.join(RUNS_DIR);
    fs::create_dir_all(&runs).map_err(|e| io_err(&runs, "cannot create", e))?;
    for entry in fs::read_dir(&runs).map_err(|e| io_err(&runs, "cannot list", e))? {
        let entry = entry.map_err(|e| io_err(&runs, "cannot list", e))?;
        if entry.file_name().to_string_lossy().ends_with(".partial") {
            fs::remove_dir_all(entry.path())
                .map_err(|e| io_err(&entry.path(), "cannot remove a partial run", e))?;
        }
    }
    Ok(())
}

/// A run being written: its partial directory, committed by `commit`.
pub struct PendingRun {
    pub path: PathBuf,
    k: u64,
}

/// Starts writing run k: an empty `runs/.<k>.partial/` with a `histograms/` folder.
pub fn begin(dir: &Path, k: u64) -> Result<PendingRun, AppError> {
    let path = partial_dir(dir, k);
    if path.exists() {
        fs::remove_dir_all(&path).map_err(|e| io_err(&path, "cannot remove", e))?;
    }
    fs::create_dir_all(path.join("histograms")).map_err(|e| io_err(&path, "cannot create", e))?;
    Ok(PendingRun { path, k })
}

impl PendingRun {
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), AppError> {
        let p = self.path.join(name);
        fs::write(&p, bytes).map_err(|e| io_err(&p, "cannot write", e))
    }

    /// Hashes `files`, writes `run.json` last, and renames the directory into place. Files are not synced one by
    /// one (that would serialize the workers on the disk); resume checks the hashes instead, so a run damaged by
    /// a power loss is found and run again.
    pub fn commit(
        self,
        dir: &Path,
        mut record: RunRecord,
        files: &[String],
    ) -> Result<(), AppError> {
        record.files = files
            .iter()
            .map(|name| {
                let p = self.path.join(name);
                output::file_sha256(&p)
                    .map(|sha256| FileHash {
                        name: name.clone(),
                        sha256,
                    })
                    .map_err(|e| io_err(&p, "cannot read back", e))
            })
            .collect::<Result<_, _>>()?;
        let json = serde_json::to_vec_pretty(&record).map_err(|e| AppError::Io(e.to_string()))?;
        self.write(RUN_JSON, &json)?;
        let dest = run_dir(dir, self.k);
        if dest.exists() {
            fs::remove_dir_all(&dest).map_err(|e| io_err(&dest, "cannot replace", e))?;
        }
        fs::rename(&self.path, &dest).map_err(|e| io_err(&dest, "cannot commit the run", e))
    }
}

/// Reads run k's marker and checks every file against its hash. The error says what is wrong.
pub fn read_run(dir: &Path, k: u64) -> Result<RunRecord, String> {
    let rd = run_dir(dir, k);
    let text = fs::read_to_string(rd.join(RUN_JSON)).map_err(|e| format!("no {RUN_JSON} ({e})"))?;
    let record: RunRecord =
        serde_json::from_str(&text).map_err(|e| format!("{RUN_JSON} does not parse ({e})"))?;
    if record.k != k {
        return Err(format!("{RUN_JSON} is run {}, not {k}", record.k));
    }
    for f in &record.files {
        match output::file_sha256(&rd.join(&f.name)) {
            Ok(sha) if sha == f.sha256 => {}
            Ok(_) => return Err(format!("{} does not match its hash", f.name)),
            Err(e) => return Err(format!("cannot read {} ({e})", f.name)),
        }
    }
    Ok(record)
}

/// Whether run k is committed, intact and is the run the plan expects (same point, replication and seed).
pub fn check_run(dir: &Path, spec: &RunSpec) -> Result<RunRecord, String> {
    let r = read_run(dir, spec.k)?;
    if (r.point, r.replication, r.seed) != (spec.point, spec.replication, spec.seed) {
        return Err(format!(
            "it is point {} replication {} seed {}, but the plan says point {} replication {} seed {}",
            r.point, r.replication, r.seed, spec.point, spec.replication, spec.seed
        ));
    }
    Ok(r)
}

/// Removes a run directory that failed its check, so it runs again.
pub fn discard(dir: &Path, k: u64) -> Result<(), AppError> {
    let rd = run_dir(dir, k);
    if rd.exists() {
        fs::remove_dir_all(&rd).map_err(|e| io_err(&rd, "cannot remove", e))?;
    }
    Ok(())
}

/// Copies committed run k from `from` into `to` (merge), with the same partial-then-rename commit.
pub fn copy_run(from: &Path, to: &Path, k: u64, record: &RunRecord) -> Result<(), AppError> {
    let pending = begin(to, k)?;
    let src = run_dir(from, k);
    for name in record
        .files
        .iter()
        .map(|f| f.name.as_str())
        .chain([RUN_JSON])
    {
        let (s, d) = (src.join(name), pending.path.join(name));
        fs::copy(&s, &d).map_err(|e| io_err(&s, "cannot copy", e))?;
    }
    let dest = run_dir(to, k);
    fs::rename(&pending.path, &dest).map_err(|e| io_err(&dest, "cannot commit the run", e))
}

pub fn read_file(dir: &Path, k: u64, name: &str) -> Result<Vec<u8>, AppError> {
    let p = run_dir(dir, k).join(name);
    fs::read(&p).map_err(|e| io_err(&p, "cannot read", e))
}
