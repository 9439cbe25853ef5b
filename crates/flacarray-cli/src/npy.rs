//! `.npy` files in and out: [`flacarray::npy`], plus writing through a temporary name
//! and syncing when `--sync` asked for it.

use std::path::Path;

use anyhow::{Context, Result};
use flacarray::npy::NpyData;
pub use flacarray::npy::{
    header, peek, read_array, read_bool, read_f64, read_values, read_values_rows, write_to,
};

/// Writes the elements of `arr` at byte `offset` of the existing file `path` (one MPI
/// rank's slab), as [`flacarray::npy::write_slab_at`], then syncs it if asked.
///
/// # Errors
/// Any I/O error, naming the file.
pub fn write_slab_at(path: &Path, offset: u64, arr: &(impl NpyData + ?Sized)) -> Result<()> {
    let file = flacarray::npy::write_slab_at(path, offset, arr)?;
    crate::output::sync_if_asked(&file)
        .context("cannot write")
        .with_context(|| path.display().to_string())
}

/// Writes `arr` as an `.npy` file at `path` through a temporary file and a rename.
///
/// # Errors
/// Any I/O error, naming the file.
pub fn write_file(path: &Path, arr: &(impl NpyData + ?Sized)) -> Result<()> {
    Ok(crate::output::with_temp_path(path, |tmp| {
        let file = flacarray::npy::create_file(tmp, arr)?;
        crate::output::sync_if_asked(&file).context("cannot write")
    })?)
}
