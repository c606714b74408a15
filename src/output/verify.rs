//! Readers verify what they read. `chart`, `report`, `trace` and `merge` open a results directory through
//! `ResultDir`: the manifest must parse, be of a known kind and schema, and list the SHA-256 of every result file;
//! every file a reader takes is hashed against that list before it is used; and a file in the directory that the
//! manifest does not list (left by another run, or placed by hand) makes the directory mixed and refused. Each
//! refusal is one line naming the file. `--no-verify` skips the checks; the reader then marks what it makes as
//! unverified.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::output::sha256_hex;

/// The manifest schema this version writes and reads (2: per-file SHA-256 in `file_sha256`).
pub const MANIFEST_SCHEMA: u32 = 2;
pub const RUN_KIND: &str = "settlesim run";
pub const SWEEP_KIND: &str = "settlesim sweep";
/// A manifest is small: anything larger is not one.
const MANIFEST_BYTES_MAX: u64 = 64 << 20;

/// Entries a results directory may hold besides the files its manifest lists: the manifest itself, the sweep's
/// identity and run directories, and what `chart` and `report` add.
const UNLISTED_OK: &[&str] = &["manifest.json", "sweep.json", "runs", "figures", "report"];

#[derive(Debug, Deserialize)]
struct Header {
    kind: Option<String>,
    schema: Option<u32>,
    settlesim_version: Option<String>,
    files: Option<Vec<String>>,
    file_sha256: Option<BTreeMap<String, String>>,
}

/// A results directory opened for reading.
pub struct ResultDir {
    pub dir: PathBuf,
    /// `RUN_KIND` or `SWEEP_KIND` (as the manifest says, or as the files suggest without verification).
    pub kind: String,
    pub manifest: serde_json::Value,
    /// False under `--no-verify`: what is made from this directory must say "unverified".
    pub verified: bool,
    hashes: BTreeMap<String, String>,
}

fn refuse(path: &Path, why: impl std::fmt::Display) -> String {
    format!("{}: {why}", path.display())
}

/// A `ResultDir` is used where its path is: `dir.join(..)`, `dir.display()`.
impl std::ops::Deref for ResultDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.dir
    }
}

impl ResultDir {
    /// Opens `dir`, checking its manifest and that it holds no file the manifest does not list (unless `verify`
    /// is false). Errors are one line naming the file at fault.
    pub fn open(dir: &Path, verify: bool) -> Result<ResultDir, String> {
        if !dir.is_dir() {
            return Err(refuse(dir, "no such directory"));
        }
        let path = dir.join("manifest.json");
        let bytes = read_capped(&path, MANIFEST_BYTES_MAX).map_err(|e| {
            refuse(
                &path,
                format!("{e}: not a settlesim results directory (run, sweep or merge writes manifest.json)"),
            )
        })?;
        let manifest: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| refuse(&path, format!("not a settlesim manifest: {e}")))?;
        let header: Header = serde_json::from_value(manifest.clone())
            .map_err(|e| refuse(&path, format!("not a settlesim manifest: {e}")))?;
        if !verify {
            let kind = header.kind.unwrap_or_else(|| {
                if dir.join("points.csv").is_file() {
                    SWEEP_KIND.into()
                } else {
                    RUN_KIND.into()
                }
            });
            return Ok(ResultDir {
                dir: dir.to_path_buf(),
                kind,
                manifest,
                verified: false,
                hashes: BTreeMap::new(),
            });
        }
        let kind = match header.kind.as_deref() {
            Some(k @ (RUN_KIND | SWEEP_KIND)) => k.to_string(),
            Some(other) => return Err(refuse(&path, format!("unknown kind {other:?}"))),
            None => return Err(refuse(&path, "not a settlesim manifest (no kind)")),
        };
        if header.settlesim_version.is_none() {
            return Err(refuse(
                &path,
                "not a settlesim manifest (no settlesim_version)",
            ));
        }
        match header.schema {
            Some(MANIFEST_SCHEMA) => {}
            Some(s) => {
                return Err(refuse(
                    &path,
                    format!(
                        "manifest schema {s}, this settlesim reads schema {MANIFEST_SCHEMA}; rerun, or use --no-verify"
                    ),
                ));
            }
            None => {
                return Err(refuse(
                    &path,
                    "written by an older settlesim (no schema, no file hashes); rerun, or use --no-verify",
                ));
            }
        }
        let (Some(files), Some(hashes)) = (header.files, header.file_sha256) else {
            return Err(refuse(&path, "the manifest lists no files and hashes"));
        };
        if files.len() != hashes.len() || files.iter().any(|f| !hashes.contains_key(f)) {
            return Err(refuse(&path, "`files` and `file_sha256` disagree"));
        }
        let opened = ResultDir {
            dir: dir.to_path_buf(),
            kind,
            manifest,
            verified: true,
            hashes,
        };
        opened.check_unlisted()?;
        Ok(opened)
    }

    /// Refuses a directory holding a result file that its manifest does not list: another run's leftovers.
    fn check_unlisted(&self) -> Result<(), String> {
        let mut stack = vec![(self.dir.clone(), String::new())];
        while let Some((dir, prefix)) = stack.pop() {
            let entries = fs::read_dir(&dir).map_err(|e| refuse(&dir, e))?;
            let mut names: Vec<(String, PathBuf, bool)> = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| refuse(&dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_dir = entry
                    .file_type()
                    .map_err(|e| refuse(&entry.path(), e))?
                    .is_dir();
                names.push((name, entry.path(), is_dir));
            }
            names.sort();
            for (name, path, is_dir) in names {
                let rel = format!("{prefix}{name}");
                if name.starts_with('.')
                    || (prefix.is_empty() && UNLISTED_OK.contains(&name.as_str()))
                {
                    continue;
                }
                if is_dir {
                    stack.push((path, format!("{rel}/")));
                } else if !self.hashes.contains_key(&rel) {
                    return Err(refuse(
                        &path,
                        "not listed in manifest.json: the directory mixes runs or was edited (rerun into a fresh --out, or use --no-verify)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Is `name` listed (and so readable)?
    pub fn has(&self, name: &str) -> bool {
        if self.verified {
            self.hashes.contains_key(name) && self.dir.join(name).is_file()
        } else {
            self.dir.join(name).is_file()
        }
    }

    /// The bytes of `name`, checked against the manifest's hash.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        let path = self.dir.join(name);
        if self.verified && !self.hashes.contains_key(name) {
            return Err(refuse(&path, "not listed in manifest.json"));
        }
        let bytes = fs::read(&path).map_err(|e| refuse(&path, format!("cannot read: {e}")))?;
        self.check(name, &bytes)?;
        Ok(bytes)
    }

    /// Checks bytes already read (or streamed) against the manifest's hash of `name`.
    pub fn check(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        self.check_hash(name, &sha256_hex(bytes))
    }

    /// Checks a file's hash, computed by the caller (for files too large to hold), against the manifest.
    pub fn check_hash(&self, name: &str, sha256: &str) -> Result<(), String> {
        if !self.verified {
            return Ok(());
        }
        match self.hashes.get(name) {
            Some(h) if h == sha256 => Ok(()),
            Some(_) => Err(refuse(
                &self.dir.join(name),
                "does not match the SHA-256 in manifest.json (truncated, edited or from another run)",
            )),
            None => Err(refuse(&self.dir.join(name), "not listed in manifest.json")),
        }
    }

    /// Verifies a file by streaming it (payments.csv may be large).
    pub fn verify_file(&self, name: &str) -> Result<(), String> {
        if !self.verified {
            return Ok(());
        }
        let path = self.dir.join(name);
        let hash = crate::output::file_sha256(&path)
            .map_err(|e| refuse(&path, format!("cannot read: {e}")))?;
        self.check_hash(name, &hash)
    }
}

/// The SHA-256 of each of `files` (relative names) under `dir`, for a manifest's `file_sha256`.
pub fn file_hashes(dir: &Path, files: &[String]) -> std::io::Result<BTreeMap<String, String>> {
    files
        .iter()
        .map(|f| Ok((f.clone(), crate::output::file_sha256(&dir.join(f))?)))
        .collect()
}

/// Reads at most `max` bytes of a regular file; anything else (a FIFO, a device, a larger file) is an error.
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB", max >> 20),
        ));
    }
    Ok(bytes)
}
