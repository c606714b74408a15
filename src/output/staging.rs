//! Result directories that are one whole run: a command builds its output in a fresh staging directory beside the
//! target, under an exclusive lock on the target, and swaps it in only when every file is complete. A kill at any
//! instant leaves either the old complete directory or the new one (plus, at worst, a hidden staging directory that
//! the next writer removes); an error (disk full, permissions) removes the staging directory and leaves the old
//! results untouched. Files of an earlier run never survive into a new one, because the new directory starts empty.
//!
//! The lock is an advisory `flock` on a hidden `.<name>.lock` file beside the target. The kernel releases it when
//! the process dies, so a killed writer never blocks the next one, and a second concurrent writer fails at once.
//! The lock file is kept (removing it would let two writers lock two different files).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Why a staged output could not begin.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The target is not something settlesim may replace (a file, or a directory that is not its output).
    #[error("{0}")]
    Refused(String),
    /// Another process holds the lock.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Io(String),
}

/// What kind of output a target may hold; a non-empty directory without its marker is refused without `--force`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `run`: a results directory with `manifest.json`.
    Run,
    /// `sweep` and `merge`: a sweep directory with `sweep.json`.
    Sweep,
    /// `chart` and `report`: a figures directory with `index.json`.
    Figures,
}

impl Kind {
    fn markers(self) -> &'static [&'static str] {
        match self {
            Kind::Run => &["manifest.json"],
            Kind::Sweep => &["sweep.json"],
            Kind::Figures => &["index.json"],
        }
    }
}

/// A staging directory for `target`, holding the target's lock until it is committed or dropped.
pub struct Staged {
    target: PathBuf,
    staging: PathBuf,
    lock: File,
    committed: bool,
}

fn io_error(path: &Path, what: &str, e: io::Error) -> StageError {
    StageError::Io(format!("{}: {what}: {e}", path.display()))
}

/// The target's parent directory and file name.
fn split(target: &Path) -> Result<(PathBuf, String), StageError> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "." && *n != "..")
        .ok_or_else(|| {
            StageError::Refused(format!(
                "{}: an output directory needs a plain last component (not `.`, `..` or `/`)",
                target.display()
            ))
        })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_string()))
}

/// Takes the exclusive lock on `target` (creating its parent and the lock file if needed) without waiting.
pub fn lock(target: &Path) -> Result<File, StageError> {
    let (parent, name) = split(target)?;
    fs::create_dir_all(&parent).map_err(|e| io_error(&parent, "cannot create", e))?;
    let path = parent.join(format!(".{name}.lock"));
    if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(StageError::Refused(format!(
            "{}: the lock file is not a regular file (a symlink?); remove it",
            path.display()
        )));
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags_nofollow()
        .open(&path)
        .map_err(|e| io_error(&path, "cannot open the lock file", e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StageError::Busy(format!(
            "{}: another settlesim process is writing here (lock {}); wait for it or choose another --out",
            target.display(),
            path.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(io_error(&path, "cannot lock", e)),
    }
}

trait NoFollow {
    fn custom_flags_nofollow(&mut self) -> &mut Self;
}

impl NoFollow for OpenOptions {
    fn custom_flags_nofollow(&mut self) -> &mut Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            self.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        }
        #[cfg(not(unix))]
        self
    }
}

/// Is `dir` empty, or a directory that `kind` wrote (its marker file is there)?
fn replaceable(dir: &Path, kind: Kind) -> io::Result<bool> {
    if kind.markers().iter().any(|m| dir.join(m).is_file()) {
        return Ok(true);
    }
    Ok(fs::read_dir(dir)?.next().is_none())
}

impl Staged {
    /// Locks `target`, checks that it may be replaced, removes what killed writers left, and creates a fresh
    /// staging directory beside it.
    pub fn begin(target: &Path, kind: Kind, force: bool) -> Result<Staged, StageError> {
        let (parent, name) = split(target)?;
        let lock = lock(target)?;
        match fs::symlink_metadata(target) {
            Ok(m) if m.is_dir() => {
                let ok = replaceable(target, kind)
                    .map_err(|e| io_error(target, "cannot read the directory", e))?;
                if !ok && !force {
                    return Err(StageError::Refused(format!(
                        "{}: exists and is not a settlesim {} directory (no {}); use --force to replace it, or choose another --out",
                        target.display(),
                        match kind {
                            Kind::Run => "results",
                            Kind::Sweep => "sweep",
                            Kind::Figures => "figures",
                        },
                        kind.markers()[0]
                    )));
                }
            }
            Ok(_) => {
                return Err(StageError::Refused(format!(
                    "{}: exists and is not a directory; --out must name a directory",
                    target.display()
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(target, "cannot inspect", e)),
        }
        remove_leftovers(&parent, &name)?;
        let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
        fs::create_dir(&staging).map_err(|e| io_error(&staging, "cannot create", e))?;
        Ok(Staged {
            target: target.to_path_buf(),
            staging,
            lock,
            committed: false,
        })
    }

    /// Where the output is built.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// The directory the output will replace.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Swaps the complete staging directory in for the target (atomically where the OS can exchange two paths)
    /// and removes the old directory.
    pub fn commit(mut self) -> Result<(), StageError> {
        crate::output::failpoint("before-swap");
        let exists = fs::symlink_metadata(&self.target).is_ok();
        if !exists {
            fs::rename(&self.staging, &self.target)
                .map_err(|e| io_error(&self.target, "cannot move the results into place", e))?;
        } else {
            exchange(&self.staging, &self.target)
                .map_err(|e| io_error(&self.target, "cannot swap the results into place", e))?;
            crate::output::failpoint("after-swap");
            // The staging path now holds the old directory.
            fs::remove_dir_all(&self.staging)
                .map_err(|e| io_error(&self.staging, "cannot remove the previous results", e))?;
        }
        self.committed = true;
        if let Some(parent) = self.target.parent() {
            // Make the rename durable; a failure here is not worth failing a complete run.
            let dir = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        let _ = self.lock.unlock();
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Removes `.<name>.staging-*` directories: with the lock held, any of them was left by a killed writer.
fn remove_leftovers(parent: &Path, name: &str) -> Result<(), StageError> {
    let prefix = format!(".{name}.staging-");
    let entries = fs::read_dir(parent).map_err(|e| io_error(parent, "cannot list", e))?;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        if file_name.to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            let removed = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
            removed
                .map_err(|e| io_error(&path, "cannot remove a leftover staging directory", e))?;
        }
    }
    Ok(())
}

/// Exchanges two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`); elsewhere, or on a file system that
/// cannot, falls back to two renames (a kill between them leaves the old results under the staging name).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    let old = a.with_file_name(format!(
        "{}.old",
        a.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    fs::rename(b, &old)?;
    fs::rename(a, b)?;
    fs::rename(&old, a)
}
