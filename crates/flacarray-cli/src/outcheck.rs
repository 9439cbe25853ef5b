//! The rules an output path must pass before anything is written, so that no command
//! destroys a file it was not asked to write:
//!
//! - a symbolic link is followed to its target (also a dangling one), which is then
//!   written; the link itself is never replaced;
//! - the output must not be one of the inputs, however named: (device, inode) of the
//!   output and of each input are compared, for files and Zarr directories alike;
//! - an existing output must be a regular file (an HDF5 file for `compress`) or, for a
//!   Zarr output, a directory that is a Zarr store or is empty: FIFOs, devices, sockets
//!   and unrelated directories are refused (`-` is how to write to standard output);
//! - an existing `.npy` output is replaced only with `--force`;
//! - the directory that will hold the output must exist.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// What kind of output a command writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A whole file replaced by the command (`.npy`, raw, FLAC): needs `--force` when
    /// it exists.
    File,
    /// An HDF5 file a group is added to (created when missing).
    Hdf5,
    /// A Zarr directory store a group is added to (created when missing).
    Zarr,
}

impl OutputKind {
    /// The kind of output `store` is.
    #[must_use]
    pub fn of(store: &crate::storage::Store) -> Self {
        match store {
            crate::storage::Store::Hdf5 { .. } => Self::Hdf5,
            crate::storage::Store::Zarr { .. } => Self::Zarr,
        }
    }
}

/// The path `output` names once symbolic links are followed: the link's target for a
/// link (resolved relative to the link's directory, also when it does not exist yet),
/// `output` itself otherwise.
///
/// # Errors
/// A link cannot be read, or links nest more than 40 deep (a loop).
pub fn resolve_output(output: &Path) -> Result<PathBuf> {
    // A link to something that is not a file or directory (`/dev/stdout` to a pipe,
    // whose link text is no path) is judged as what it points to: refused later.
    if let Ok(m) = fs::metadata(output)
        && !m.is_file()
        && !m.is_dir()
    {
        return Ok(output.to_path_buf());
    }
    let mut p = output.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = fs::read_link(&p).map_err(|e| {
                    anyhow::anyhow!("{}: cannot read the symbolic link: {e}", p.display())
                })?;
                p = if t.is_absolute() {
                    t
                } else {
                    crate::output::parent_dir(&p).join(t)
                };
            }
            _ => return Ok(p),
        }
    }
    bail!("{}: too many levels of symbolic links", output.display())
}

pub use flacarray::store::{is_zarr_store, looks_like_hdf5};

/// Checks `output` (already resolved by [`resolve_output`]) against the rules of this
/// module. `inputs` are the files or stores the command reads.
///
/// # Errors
/// The rule broken, naming the output and the option that would allow it if any.
pub fn check_output(output: &Path, inputs: &[&Path], kind: OutputKind, force: bool) -> Result<()> {
    let shown = output.display();
    let meta = match fs::metadata(output) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = crate::output::parent_dir(output);
            if !dir.is_dir() {
                bail!("{shown}: directory {} does not exist", dir.display());
            }
            return Ok(());
        }
        Err(e) => bail!("{shown}: {e}"),
    };
    for input in inputs {
        if let Ok(m) = fs::metadata(input)
            && m.dev() == meta.dev()
            && m.ino() == meta.ino()
        {
            bail!(
                "{shown}: is the input {} (the same file); refusing to overwrite an input",
                input.display()
            );
        }
    }
    let ft = meta.file_type();
    match kind {
        OutputKind::Zarr => {
            if !ft.is_dir() {
                bail!("{shown}: exists and is not a directory, so cannot be a Zarr store");
            }
            if !is_zarr_store(output) && fs::read_dir(output)?.next().is_some() {
                bail!(
                    "{shown}: is a directory that is neither empty nor a Zarr store; \
                     refusing to write into it"
                );
            }
        }
        OutputKind::File | OutputKind::Hdf5 => {
            if ft.is_dir() {
                bail!("{shown}: is a directory");
            }
            if !ft.is_file() {
                let what = if ft.is_fifo() {
                    "a FIFO"
                } else if ft.is_char_device() || ft.is_block_device() {
                    "a device"
                } else if ft.is_socket() {
                    "a socket"
                } else {
                    "not a regular file"
                };
                bail!(
                    "{shown}: is {what}; refusing to replace it with a regular file \
                     (use - to write to standard output)"
                );
            }
            if kind == OutputKind::File && !force {
                bail!("{shown}: already exists; use --force to replace it");
            }
            if kind == OutputKind::Hdf5 && !looks_like_hdf5(output) {
                bail!("{shown}: exists and is not an HDF5 file; refusing to write into it");
            }
        }
    }
    Ok(())
}

/// [`resolve_output`] and [`check_output`]: the path to write for `output`.
///
/// # Errors
/// As those two.
pub fn checked(output: &Path, inputs: &[&Path], kind: OutputKind, force: bool) -> Result<PathBuf> {
    let resolved = resolve_output(output)?;
    check_output(&resolved, inputs, kind, force)?;
    Ok(resolved)
}

/// Checks that an input exists, for a one-line message instead of a library's.
///
/// # Errors
/// The input does not exist or cannot be inspected.
pub fn check_input(input: &Path) -> Result<()> {
    match fs::metadata(input) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{}: no such file or directory", input.display())
        }
        Err(e) => bail!("{}: {e}", input.display()),
    }
}
