//! Writing a file or a directory store so that a failed run leaves nothing behind.
//!
//! [`with_temp_path`] has the caller write to a temporary name beside the target
//! (`.NAME.PID.tmp` in the same directory, so the rename stays on one file system)
//! and renames it over the target when complete. If anything fails, the temporary path
//! is removed and an existing target is unchanged: readers see the old content or the
//! whole new one.
//!
//! Temporary paths not yet renamed are also kept in a process-wide list, which a
//! signal handler empties with [`remove_pending`] before the process exits; those of
//! processes that no longer run (`kill -9`) are removed by the next write of the same
//! target ([`remove_stale_temps`]). [`lock_dir_of`] serializes processes that write
//! into the same file or store.
//!
//! ```
//! use flacarray::atomic::with_temp_path;
//! let dir = tempfile::tempdir()?;
//! let target = dir.path().join("out.bin");
//! with_temp_path(&target, |tmp| std::fs::write(tmp, b"first"))?;
//! let failed = with_temp_path(&target, |tmp| {
//!     std::fs::write(tmp, b"partial")?;
//!     Err(std::io::Error::other("disk full"))
//! });
//! assert_eq!(failed.unwrap_err().to_string(), format!("{}: disk full", target.display()));
//! assert_eq!(std::fs::read(&target)?, b"first");
//! assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What went wrong writing through a temporary path. Messages are whole (they
/// include their cause, which `source()` still returns) and name the target.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target has no file name (`/`, `..`).
    #[error("{}: not a file name", .0.display())]
    NotAFileName(PathBuf),
    /// A file system operation on `path` failed (`what`: `cannot write`, ...).
    #[error("{}: {what}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The operation.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The caller's write to the temporary path failed.
    #[error("{}: {source}", target.display())]
    Write {
        /// The target.
        target: PathBuf,
        /// The caller's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn io(path: &Path, what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let (path, what) = (path.to_path_buf(), what.into());
    move |source| Error::Io { path, what, source }
}

/// Temporary paths of this process not yet renamed into place.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock leaves a list that is still valid.
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes a file, or a directory with its content (a Zarr store).
///
/// # Errors
/// The removal's.
pub fn remove_path(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Removes every temporary path of this process that is not yet renamed (for a
/// signal handler, before the process exits).
pub fn remove_pending() {
    for p in pending().drain(..) {
        let _ = remove_path(&p);
    }
}

/// Removes the temporary path on drop unless the rename succeeded.
struct TempPath {
    path: PathBuf,
    armed: bool,
}

impl TempPath {
    fn new(path: PathBuf) -> Self {
        pending().push(path.clone());
        Self { path, armed: true }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let mut list = pending();
        if self.armed {
            // Nothing more can be done if this fails; the error that got us here is
            // the one reported. A Zarr store is a directory.
            let _ = remove_path(&self.path);
        }
        list.retain(|p| p != &self.path);
    }
}

/// Whether process `pid` runs (Linux `/proc`; elsewhere every process counts as
/// running, so nothing of another process is removed).
fn alive(pid: u32) -> bool {
    pid == std::process::id()
        || !Path::new("/proc/self").exists()
        || Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the temporary paths (`.NAME.PID.tmp`) of `target` left by processes that
/// no longer run. Returns those that could not be removed.
pub fn remove_stale_temps(target: &Path) -> Vec<PathBuf> {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(parent_dir(target)) else {
        return Vec::new();
    };
    let prefix = format!(".{name}.");
    let mut left = Vec::new();
    for e in entries.flatten() {
        let fname = e.file_name().to_string_lossy().into_owned();
        let pid = fname
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !alive(pid)
            && remove_path(&e.path()).is_err()
        {
            left.push(e.path());
        }
    }
    left
}

/// The directory holding `path` (`.` for a bare name).
#[must_use]
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Takes an exclusive lock (`flock`) on the directory holding `target`, held until
/// the returned file is dropped, so that two processes writing into the same file or
/// store (or creating it) do so one after the other. The lock belongs to the open
/// file: a killed process releases it, and nothing is left on disk.
///
/// # Errors
/// [`Error::Io`]: the directory cannot be opened or locked.
pub fn lock_dir_of(target: &Path) -> Result<File, Error> {
    let dir = parent_dir(target);
    let f = File::open(&dir).map_err(io(&dir, "cannot open"))?;
    f.lock().map_err(io(&dir, "cannot lock"))?;
    Ok(f)
}

/// The temporary name used for `target`: `.NAME.PID.tmp` in the same directory.
///
/// # Errors
/// [`Error::NotAFileName`].
pub fn temp_path_for(target: &Path) -> Result<PathBuf, Error> {
    let name = target
        .file_name()
        .ok_or_else(|| Error::NotAFileName(target.to_path_buf()))?;
    let tmp_name = format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id());
    Ok(target.with_file_name(tmp_name))
}

/// Runs `write` on a temporary path beside `target` (which does not exist when
/// `write` starts) and renames the result over `target` when `write` succeeds.
/// Temporary paths of `target` left by dead processes are removed first, and an
/// existing regular file at `target` is asked to leave the page cache (its content
/// on disk is untouched) so that the new file's writes can reuse that memory, unless
/// the system holds much dirty data (the advice would write it back early).
///
/// # Errors
/// [`Error::Write`] (`write`'s error, prefixed with the target's name), or
/// [`Error::Io`] when the rename fails. On error the temporary path is removed and an
/// existing `target` is untouched.
pub fn with_temp_path<E>(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), Error>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tmp = temp_path_for(target)?;
    remove_stale_temps(target);
    let mut guard = TempPath::new(tmp.clone());
    // A stale temporary path of a killed run with the same process id would make
    // creating it fail; it is ours to remove.
    if tmp.exists() {
        let what = format!("cannot remove stale {}", tmp.display());
        remove_path(&tmp).map_err(io(target, what))?;
    }
    drop_cached(target);
    write(&tmp).map_err(|e| Error::Write {
        target: target.to_path_buf(),
        source: e.into(),
    })?;
    replace(&tmp, target).map_err(io(target, "cannot write"))?;
    guard.armed = false;
    Ok(())
}

/// Asks the kernel to drop the cached pages of the regular file at `path`, if any,
/// which is about to be replaced. The old file stays whole on disk (readers still see
/// it); only its copy in memory goes, and its pages are free for the new file's
/// writes at once. Otherwise both files are cached until the exchange and the new one
/// is written into pages taken from elsewhere: on a virtual machine that hands freed
/// memory back to its host (free page reporting), pages the host has taken back cost
/// a host fault each time they are touched again. Measured here, `decompress` of a
/// 64 x 250000 float64 array (128 MB written) onto its previous output, `sync` before
/// each run: 0.37-0.51 s (0.24-0.35 s of it system time) keeping the old file's
/// cache, 0.16-0.22 s dropping it first.
///
/// The advice also starts the writeback of the file's dirty pages, which would be
/// wasted on a file about to be removed (an output rewritten seconds after the last
/// run: 28% slower in that case). So it is given only when the whole system holds
/// less dirty data (`Dirty` in `/proc/meminfo`) than an eighth of the file: at most
/// that is written early. A best effort: failures are ignored.
fn drop_cached(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(m) = fs::symlink_metadata(path)
        && m.file_type().is_file()
        && dirty_bytes().is_some_and(|d| d <= m.len() / 8)
        && let Ok(f) = File::open(path)
    {
        use rustix::fs::{Advice, fadvise};
        let _ = fadvise(&f, 0, None, Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// The system's dirty page-cache data in bytes (`Dirty:` of `/proc/meminfo`).
#[cfg(target_os = "linux")]
fn dirty_bytes() -> Option<u64> {
    let info = fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("Dirty:"))?;
    let kib: u64 = line
        .trim_start_matches("Dirty:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// How [`replace`] put the new file in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// `tmp` was renamed to `target` (there was no regular file to replace, or the file
    /// system cannot exchange names): `tmp` no longer exists.
    Renamed,
    /// The names were exchanged: `target` is the new file, and the old one, left at
    /// `tmp`, was removed.
    Exchanged,
}

/// Puts the complete file `tmp` in place of `target`, atomically for readers: they
/// see the old file or the whole new one. `tmp` no longer exists afterwards.
///
/// A regular file at `target` is replaced by exchanging the two names (Linux
/// `renameat2(RENAME_EXCHANGE)`) rather than by a rename over it. On ext4 a rename
/// over an existing file starts the writeback of the whole new file
/// (`auto_da_alloc`, meant for programs that neither `fsync` nor want to lose the
/// old file in a crash); measured here it took 42-75 ms for a 100 MB output, over
/// a quarter of a whole `decompress`, while the exchange takes 0.1 ms and removing the
/// old file 5.6 ms (it is removed here, after the exchange; readers that have it open
/// keep reading it). Without `--sync` no output is promised to survive a power loss
/// (as with numpy's `np.save`, which truncates in place); with it the caller has
/// flushed `tmp` before this. Elsewhere, when the file system cannot exchange names,
/// or when `target` is not a regular file (missing, a symbolic link, a directory),
/// this is a plain rename.
///
/// # Errors
/// The rename's.
pub fn replace(tmp: &Path, target: &Path) -> std::io::Result<Replaced> {
    #[cfg(target_os = "linux")]
    if fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_file()) {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        // EINVAL (no support in this file system), ENOSYS (old kernel) or a target
        // removed meanwhile (ENOENT): fall back to a rename, whose error is the one
        // reported.
        if renameat_with(CWD, tmp, CWD, target, RenameFlags::EXCHANGE).is_ok() {
            // The old content; a leftover is harmless (and removed with the stale
            // temporary paths by the next write of `target` once this process ends).
            let _ = remove_path(tmp);
            return Ok(Replaced::Exchanged);
        }
    }
    fs::rename(tmp, target)?;
    Ok(Replaced::Renamed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn dirty_bytes_reads_meminfo_and_dropping_the_cache_keeps_the_file() {
        // Dirty data is a part of all memory: a figure in bytes, not kB or pages.
        let dirty = dirty_bytes().expect("Dirty: in /proc/meminfo");
        let info = fs::read_to_string("/proc/meminfo").unwrap();
        let total_kib: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        assert!(dirty < total_kib * 1024, "{dirty} of {total_kib} kB");
        assert_eq!(dirty % 1024, 0);

        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("old.bin");
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&target, &data).unwrap();
        File::open(&target).unwrap().sync_all().unwrap();
        drop_cached(&target);
        assert_eq!(fs::read(&target).unwrap(), data);
        // Not a regular file, or missing: nothing happens.
        drop_cached(dir.path());
        drop_cached(&dir.path().join("missing"));
        with_temp_path(&target, |tmp| fs::write(tmp, b"new")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }
}
