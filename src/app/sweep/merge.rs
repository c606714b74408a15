//! `settlesim merge DIR... --out DIR`: checks that the directories are the shards of one sweep, each present
//! exactly once and finished, copies their committed runs into the output, and builds the same result files an
//! unsharded sweep writes (same bytes, same digest).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::app::AppError;
use crate::app::sweep::store::{self, Identity};
use crate::app::sweep::{MANIFEST_KIND, SEED_DERIVATION, SweepManifest, SweepReport, finish};
use crate::output::staging::{Kind, Staged};
use crate::output::verify::ResultDir;
use crate::sweep::plan::{Definition, Shard};
use crate::sweep::shards::{ShardDir, check_complete};

/// The part of a shard's manifest that merge needs.
#[derive(serde::Deserialize)]
struct Head {
    kind: String,
    definition: Definition,
    shard: Shard,
    scenario_sources: Vec<String>,
}

fn read_head(dir: &Path, verify: bool) -> Result<Head, AppError> {
    let path = dir.join("manifest.json");
    if !path.is_file() {
        return Err(AppError::Usage(format!(
            "{}: no finished sweep here (no manifest.json); a shard that was stopped must be run again to the end",
            dir.display(),
        )));
    }
    // The shard's manifest must be a current one; its runs are checked one by one against their run.json below.
    let shard = ResultDir::open(dir, verify).map_err(AppError::Usage)?;
    let head: Head = serde_json::from_value(shard.manifest)
        .map_err(|e| AppError::Usage(format!("{}: not a sweep manifest ({e})", path.display())))?;
    if head.kind != MANIFEST_KIND {
        return Err(AppError::Usage(format!(
            "{}: not a sweep manifest (kind {:?})",
            path.display(),
            head.kind
        )));
    }
    Ok(head)
}

pub fn merge(
    dirs: &[PathBuf],
    target: &Path,
    force: bool,
    verify: bool,
) -> Result<SweepReport, AppError> {
    let wall = Instant::now();
    let heads: Vec<Head> = dirs
        .iter()
        .map(|d| read_head(d, verify))
        .collect::<Result<_, _>>()?;
    let labels: Vec<String> = dirs
        .iter()
        .map(|d| {
            let label = d.display().to_string();
            if verify {
                label
            } else {
                format!("{label} (unverified)")
            }
        })
        .collect();
    let shard_dirs: Vec<ShardDir> = heads
        .iter()
        .zip(&labels)
        .map(|(h, label)| ShardDir {
            label,
            definition: &h.definition,
            shard: h.shard,
        })
        .collect();
    let owner = check_complete(&shard_dirs).map_err(|e| AppError::Usage(e.to_string()))?;
    let out_abs = std::path::absolute(target).unwrap_or_else(|_| target.to_path_buf());
    for d in dirs {
        if std::path::absolute(d).is_ok_and(|a| a == out_abs) {
            return Err(AppError::Usage(format!(
                "--out {}: is one of the shards; merge into a new directory",
                target.display()
            )));
        }
    }
    // Built in a staging directory and swapped in whole: a failed merge leaves nothing behind.
    let staged = Staged::begin(target, Kind::Sweep, force)?;
    let out = staged.dir();
    let def = heads[0].definition.clone();
    let count = heads[0].shard.count as u64;
    store::prepare(
        out,
        &Identity {
            definition: def.clone(),
            shard: Shard::ALL,
        },
    )?;
    for k in 0..def.runs() {
        let spec = def.run(k);
        if store::check_run(out, &spec).is_ok() {
            continue;
        }
        store::discard(out, k)?;
        let from = &dirs[owner[(k % count) as usize]];
        let record = store::check_run(from, &spec).map_err(|why| {
            AppError::Usage(format!(
                "{}: run {k}: {why}; run this shard again",
                from.display()
            ))
        })?;
        store::copy_run(from, out, k, &record)?;
    }
    let finished = finish::finish(out, &def, Shard::ALL)?;
    let mut manifest = SweepManifest {
        kind: MANIFEST_KIND.into(),
        schema: crate::output::verify::MANIFEST_SCHEMA,
        settlesim_version: env!("CARGO_PKG_VERSION").to_string(),
        runs_total: def.runs(),
        runs: def.runs(),
        points: def.points(),
        definition: def,
        shard: Shard::ALL,
        scenario_sources: heads[0].scenario_sources.clone(),
        seed_derivation: SEED_DERIVATION.into(),
        files: finished.files.clone(),
        file_sha256: Default::default(),
        digest: finished.digest.clone(),
        runs_executed: 0,
        runs_skipped: 0,
        jobs: 1,
        merged_from: labels,
        wall_time_s: wall.elapsed().as_secs_f64(),
    };
    crate::app::sweep::write_manifest(out, &mut manifest)?;
    staged.commit()?;
    Ok(SweepReport {
        dir: target.to_path_buf(),
        manifest,
        finished,
        run_phase_s: 0.0,
    })
}
