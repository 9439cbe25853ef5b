//! Writing an output file so that a failed run leaves nothing behind: the temporary
//! name and rename of [`flacarray::atomic`], plus what belongs to the process: removing
//! its temporary outputs on SIGINT/SIGTERM/SIGHUP ([`install_signal_cleanup`]) and
//! flushing outputs to the storage device when `--sync` asks for it.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
pub use flacarray::atomic::{
    lock_dir_of, parent_dir, remove_path, remove_pending, remove_stale_temps, temp_path_for,
    with_temp_path,
};

/// Puts the complete temporary output `tmp` in place of `target`
/// ([`flacarray::atomic::replace`]: readers see the old file or the whole new one).
///
/// # Errors
/// The rename's, naming `target`.
pub fn put_in_place(tmp: &Path, target: &Path) -> Result<()> {
    flacarray::atomic::replace(tmp, target)
        .with_context(|| format!("{}: cannot write", target.display()))?;
    Ok(())
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
    Ok(with_temp_path(target, |tmp| {
        let mut file = File::create_new(tmp)
            .with_context(|| format!("cannot create temporary file {}", tmp.display()))?;
        file.write_all(data)
            .and_then(|()| sync_if_asked(&file))
            .with_context(|| format!("cannot write {}", tmp.display()))
    })?)
}
