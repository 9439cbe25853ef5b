//! Writing an output file so that a failed run leaves nothing behind.
//!
//! The bytes go to a temporary file beside the target (same directory, so the rename
//! stays on one file system), which is synced and then renamed over the target. If
//! anything fails, the temporary file is removed and an existing target is unchanged.
//!
//! Temporary paths are also kept in a process-wide list that the SIGINT/SIGTERM/SIGHUP
//! handler ([`install_signal_cleanup`]) removes before the process exits; temporary
//! files of processes that no longer run (`kill -9`) are removed by the next run that
//! writes the same target ([`remove_stale_temps`]).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, anyhow};

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

/// Removes every temporary path of this process (the signal handler's job).
pub fn remove_pending() {
    for p in pending().drain(..) {
        let _ = remove_path(&p);
    }
}

/// Starts a thread that, on SIGINT, SIGTERM or SIGHUP, removes this process's
/// temporary outputs and exits with status 128 + the signal number, as a shell
/// reports a process killed by it.
///
/// # Errors
/// The signal handlers cannot be installed.
pub fn install_signal_cleanup() -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("cannot install the signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                remove_pending();
                std::process::exit(128 + sig);
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// Removes the temporary file on drop unless the rename succeeded.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        pending().push(path.clone());
        Self { path, armed: true }
    }
}

impl Drop for TempFile {
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

/// Removes the temporary files (`.NAME.PID.tmp`) of `target` left by processes that no
/// longer run. Returns those that could not be removed.
pub fn remove_stale_temps(target: &Path) -> Vec<PathBuf> {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let dir = parent_dir(target);
    let Ok(entries) = fs::read_dir(&dir) else {
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
/// the returned file is dropped, so that two `flacarray` processes writing into the
/// same file or store (or creating it) do so one after the other. The lock belongs to
/// the open file: a killed process releases it, and nothing is left on disk.
///
/// # Errors
/// The directory cannot be opened or locked.
pub fn lock_dir_of(target: &Path) -> Result<File> {
    let dir = parent_dir(target);
    let f = File::open(&dir).with_context(|| format!("{}: cannot open", dir.display()))?;
    f.lock()
        .with_context(|| format!("{}: cannot lock", dir.display()))?;
    Ok(f)
}

/// The temporary name used for `target`: `.NAME.PID.tmp` in the same directory.
///
/// # Errors
///
/// `target` has no file name (for example `/` or `..`).
pub fn temp_path_for(target: &Path) -> Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| anyhow!("{}: not a file name", target.display()))?;
    let tmp_name = format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id());
    Ok(target.with_file_name(tmp_name))
}

/// Whether outputs are flushed to the storage device before the rename (`--sync`).
static SYNC: AtomicBool = AtomicBool::new(false);

/// Asks every later output of this process to be flushed to the storage device
/// (`fsync`) before it is renamed into place. Off by default, like numpy's `np.save`,
/// gzip and zstd: the rename alone already guarantees that readers see the old file
/// or the whole new one; `fsync` adds durability across a power loss at a cost (about
/// 0.03 s for a 64 MB output here, a large share of a fast decompress).
pub fn set_sync(on: bool) {
    SYNC.store(on, Ordering::Relaxed);
}

/// Flushes `file` to the storage device if [`set_sync`] asked for it.
///
/// # Errors
/// The `fsync` failure.
pub fn sync_if_asked(file: &File) -> std::io::Result<()> {
    if SYNC.load(Ordering::Relaxed) {
        file.sync_all()
    } else {
        Ok(())
    }
}

/// Writes `data` to `target` through a temporary file and a rename.
///
/// # Errors
///
/// Any I/O failure, with the file name in the message. On error no temporary file is
/// left and an existing `target` is untouched.
pub fn write_atomic(target: &Path, data: &[u8]) -> Result<()> {
    with_temp_path(target, |tmp| {
        let mut file = File::create_new(tmp)
            .with_context(|| format!("cannot create temporary file {}", tmp.display()))?;
        file.write_all(data)
            .and_then(|()| sync_if_asked(&file))
            .with_context(|| format!("cannot write {}", tmp.display()))
    })
}

/// Runs `write` on a temporary path beside `target` (which does not exist when `write`
/// starts) and renames the result over `target` when `write` succeeds.
///
/// Used for outputs written by a library that wants a path, such as a whole new HDF5
/// file. Errors from `write` are prefixed with the target's name.
///
/// # Errors
/// `write`'s error, or the rename's. On error the temporary file is removed and an
/// existing `target` is untouched.
pub fn with_temp_path<F>(target: &Path, write: F) -> Result<()>
where
    F: FnOnce(&Path) -> Result<()>,
{
    let tmp = temp_path_for(target)?;
    remove_stale_temps(target);
    let mut guard = TempFile::new(tmp.clone());
    // A stale temporary file of a killed run with the same process id would make
    // `create_new` fail; it is ours to remove.
    if tmp.exists() {
        remove_path(&tmp).with_context(|| {
            format!(
                "{}: cannot remove stale {}",
                target.display(),
                tmp.display()
            )
        })?;
    }
    write(&tmp).with_context(|| target.display().to_string())?;
    fs::rename(&tmp, target).with_context(|| format!("{}: cannot write", target.display()))?;
    guard.armed = false;
    Ok(())
}
