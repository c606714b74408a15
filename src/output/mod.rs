//! Output files: everything a run writes, each file written under a temporary name and renamed into place when
//! complete, so a crash or an error never leaves a half-written result. The digest is a SHA-256 over the result
//! files (names, lengths and each file's SHA-256, in name order), excluding the manifest, whose wall time differs
//! between runs.

pub mod csv_out;
pub mod row;
pub mod staging;
pub mod verify;

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Test hook at the edge: when the environment variable `SETTLESIM_FAILPOINT` names `point`, the process aborts
/// there, as a kill would. The kill tests use it to stop a writer at every step of committing its output.
pub fn failpoint(point: &str) {
    static ARMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var("SETTLESIM_FAILPOINT").ok());
    if armed.as_deref() == Some(point) {
        std::process::abort();
    }
}

/// Creates `path` exclusively: a file a killed writer left there is removed first, and a symlink placed there is
/// removed, never followed, so a temporary name can never be used to overwrite another file.
pub fn create_exclusive(path: &Path) -> io::Result<fs::File> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(path)?;
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
        }
        other => other,
    }
}

/// Writes `bytes` to `dir/name` atomically (temporary file, then rename).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(dir, name);
    {
        let mut f = create_exclusive(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))
}

/// A file written in pieces under its temporary name and renamed into place by `commit`; dropped without a
/// commit, it leaves only the temporary file, which the next attempt overwrites.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    writer: io::BufWriter<fs::File>,
}

impl AtomicFile {
    pub fn create(dir: &Path, name: &str) -> io::Result<AtomicFile> {
        let tmp = temp_path(dir, name);
        let file = create_exclusive(&tmp)?;
        Ok(AtomicFile {
            tmp,
            dest: dir.join(name),
            writer: io::BufWriter::with_capacity(1 << 16, file),
        })
    }

    /// Flushes, syncs and renames into place.
    pub fn commit(self) -> io::Result<()> {
        let file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&self.tmp, &self.dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// The temporary name under which `name` is written before it is renamed.
pub fn temp_path(dir: &Path, name: &str) -> PathBuf {
    let (parent, file) = match name.rsplit_once('/') {
        Some((p, f)) => (dir.join(p), f.to_string()),
        None => (dir.to_path_buf(), name.to_string()),
    };
    parent.join(format!(".{file}.partial"))
}

/// SHA-256 of one file, streamed.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut h = Sha256::new();
    hash_file(&mut h, &mut fs::File::open(path)?, &mut vec![0_u8; 1 << 16])?;
    Ok(hex(&h.finalize()))
}

/// Feeds a file to the hasher in chunks: payments.csv can be far larger than the memory a run otherwise needs.
fn hash_file(h: &mut Sha256, f: &mut fs::File, buf: &mut [u8]) -> io::Result<()> {
    loop {
        let n = f.read(buf)?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
    }
}

/// SHA-256 over `files` (relative names), sorted by name: each contributes its name, its length and its own
/// SHA-256 (in hex). Any changed byte still changes the digest, and a file's hash serves both the manifest's
/// `file_sha256` and the digest, so no file is hashed twice (payments.csv not even read back:
/// `digest_and_hashes`).
pub fn digest(dir: &Path, files: &[String]) -> io::Result<String> {
    Ok(digest_and_hashes(dir, files, Default::default())?.0)
}

/// `digest(dir, files)` and each file's SHA-256 (hex, as `verify::file_hashes`). `known` holds the hashes of
/// files already hashed as they were written (payments.csv); the others are read and hashed here.
pub fn digest_and_hashes(
    dir: &Path,
    files: &[String],
    mut known: std::collections::BTreeMap<String, String>,
) -> io::Result<(String, std::collections::BTreeMap<String, String>)> {
    let mut names: Vec<&String> = files.iter().collect();
    names.sort();
    let mut all = Sha256::new();
    let mut hashes = std::collections::BTreeMap::new();
    let mut buf = vec![0_u8; 1 << 16];
    for name in names {
        let path = dir.join(name);
        let hash = match known.remove(name) {
            Some(h) => h,
            None => {
                let mut one = Sha256::new();
                hash_file(&mut one, &mut fs::File::open(&path)?, &mut buf)?;
                hex(&one.finalize())
            }
        };
        all.update(name.as_bytes());
        all.update([0]);
        all.update(fs::metadata(&path)?.len().to_le_bytes());
        all.update(hash.as_bytes());
        hashes.insert(name.clone(), hash);
    }
    Ok((hex(&all.finalize()), hashes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest is SHA-256 over (name, 0, length, hex SHA-256) in name order, whichever way each file's hash
    /// was obtained: read here, or given as hashed while written.
    #[test]
    fn the_digest_covers_names_lengths_and_file_hashes_in_name_order() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        fs::write(dir.path().join("b.csv"), b"x,y\n1,2\n").expect("write");
        fs::write(dir.path().join("a.csv"), b"payments").expect("write");
        let files = vec!["b.csv".to_string(), "a.csv".to_string()];
        let mut want = Sha256::new();
        for (name, bytes) in [("a.csv", &b"payments"[..]), ("b.csv", &b"x,y\n1,2\n"[..])] {
            want.update(name.as_bytes());
            want.update([0]);
            want.update((bytes.len() as u64).to_le_bytes());
            want.update(sha256_hex(bytes).as_bytes());
        }
        let want = hex(&want.finalize());
        assert_eq!(digest(dir.path(), &files).expect("digest"), want);
        let known = [("a.csv".to_string(), sha256_hex(b"payments"))].into();
        let (got, hashes) = digest_and_hashes(dir.path(), &files, known).expect("digest");
        assert_eq!(got, want);
        assert_eq!(hashes["b.csv"], sha256_hex(b"x,y\n1,2\n"));
        assert_eq!(hashes.len(), 2);
        // A file that changes moves the digest.
        fs::write(dir.path().join("b.csv"), b"x,y\n1,3\n").expect("write");
        assert_ne!(digest(dir.path(), &files).expect("digest"), want);
    }
}
