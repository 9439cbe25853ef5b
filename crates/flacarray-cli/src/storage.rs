//! Where a FlacArray is stored: [`flacarray::store`], plus the command's way of writing.
//!
//! Writing a **new** HDF5 file or Zarr store goes through a temporary name beside the
//! target that is renamed when complete, so a failed run leaves nothing behind.
//! Writing into an **existing** file or store adds (or, with `force`, replaces) the
//! group in place: the other content is kept, and a failure part-way can leave that
//! group incomplete.

use anyhow::{Result, anyhow};
use flacarray::FlacArray;
pub use flacarray::store::{Store, StoredInfo};

/// Writes `fa` to `store` ([`Store::write`]; a new file or store through
/// [`crate::output::with_temp_path`]), holding an exclusive lock on the directory that
/// holds it ([`crate::output::lock_dir_of`]): two processes writing to the same file or
/// store take turns, and each one's group is kept.
///
/// # Errors
/// The group already holds something and `force` is false (the message says how to
/// replace it), or any storage error; the message names the file and group.
pub fn write(store: &Store, fa: &FlacArray, force: bool) -> Result<()> {
    let path = store.path();
    let _lock = crate::output::lock_dir_of(path)?;
    let cli_err = |e: flacarray::store::Error| {
        if e.is_existing_flacarray() {
            anyhow!("{e}; use --force to replace it")
        } else {
            anyhow::Error::new(e)
        }
    };
    if path.exists() {
        store.write(fa, force).map_err(cli_err)
    } else {
        Ok(crate::output::with_temp_path(path, |p| {
            store.write_at(p, fa, force).map_err(cli_err)
        })?)
    }
}
