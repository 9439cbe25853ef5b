//! Where a FlacArray is stored: chosen from the path.
//!
//! A path whose name ends in `.zarr`, or an existing directory, is a Zarr directory
//! store (format 3 by default, format 2 on request); anything else is an HDF5 file. In
//! both the array lives in one group (`/` by default).
//!
//! Writing a **new** HDF5 file or Zarr store goes through a temporary name beside the
//! target that is renamed when complete, so a failed run leaves nothing behind.
//! Writing into an **existing** file or store adds (or, with `force`, replaces) the
//! group in place: the other content is kept, and a failure part-way can leave that
//! group incomplete.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use flacarray::hdf5::{self, Hdf5Store};
use flacarray::zarr::{self, ZarrFormat, ZarrStore};
use flacarray::{
    DType, FlacArray, FlacArrayReader, FlacArrayWriter, StoredMeta, StreamTable, read_flacarray,
};

/// A storage location of one FlacArray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// A group of an HDF5 file.
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The group inside it (`/` is the root).
        group: String,
    },
    /// A group of a Zarr directory store.
    Zarr {
        /// The directory.
        path: PathBuf,
        /// The group inside it (`/` is the root).
        group: String,
        /// Zarr format used when writing (reading detects it).
        format: ZarrFormat,
    },
}

/// What `flacarray info` shows about a stored array: read without decoding, and
/// without reading any compressed bytes but the first stream's.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredInfo {
    /// The group's metadata.
    pub meta: StoredMeta,
    /// The whole stream table.
    pub table: StreamTable,
    /// `flacarray_software_version`, when the group records it.
    pub software_version: Option<String>,
    /// The FLAC bytes of the first stream.
    pub first_stream: Vec<u8>,
}

/// An opened store of either backend.
// One value per command, so the variants' different sizes cost nothing worth boxing.
#[allow(clippy::large_enum_variant)]
enum Opened {
    Hdf5(Hdf5Store),
    Zarr(ZarrStore),
}

/// Adds the file and group to an error of the array layer (the backends' own errors
/// already name them).
fn hdf5_err(store: &Store, e: hdf5::Error) -> anyhow::Error {
    match e {
        hdf5::Error::Core(flacarray::Error::AlreadyExists { object, .. }) => {
            already_exists(store, &object)
        }
        // Layout errors name the file and group already.
        hdf5::Error::Core(c) if c.place().is_none() => {
            anyhow::Error::new(c).context(store.describe())
        }
        other => anyhow::Error::new(other),
    }
}

fn zarr_err(store: &Store, e: zarr::Error) -> anyhow::Error {
    match e {
        zarr::Error::Core(flacarray::Error::AlreadyExists { object, .. }) => {
            already_exists(store, &object)
        }
        // Layout errors name the file and group already.
        zarr::Error::Core(c) if c.place().is_none() => {
            anyhow::Error::new(c).context(store.describe())
        }
        other => anyhow::Error::new(other),
    }
}

/// The backends' "already exists" in the command's terms: `--force`, and a FlacArray
/// claimed only when the group is marked as one.
fn already_exists(store: &Store, object: &str) -> anyhow::Error {
    if object.contains(flacarray::layout::ATTR_FORMAT_VERSION) {
        anyhow!(
            "{}: a FlacArray already exists there; use --force to replace it",
            store.describe()
        )
    } else {
        anyhow!(
            "{}: {object} already exists and is not part of a FlacArray; flacarray does \
             not replace it (remove it first)",
            store.describe()
        )
    }
}

/// Metadata, stream table and first stream through either backend's reader.
fn info_of<R: FlacArrayReader>(
    r: &R,
    describe: &str,
    err: impl Fn(R::Error) -> anyhow::Error,
) -> Result<(StoredMeta, StreamTable, Vec<u8>)> {
    let meta = r.metadata().map_err(&err)?;
    let rows = meta.leading_shape.first().copied().unwrap_or(1);
    let table = r.read_stream_table(&meta, 0..rows).map_err(&err)?;
    let mut first_stream = Vec::new();
    if let (Some(&start), Some(&len)) = (table.starts.first(), table.nbytes.first()) {
        let len =
            usize::try_from(len).with_context(|| format!("{describe}: stream 0 too large"))?;
        first_stream = vec![0u8; len];
        r.read_bytes(start, &mut first_stream).map_err(&err)?;
    }
    Ok((meta, table, first_stream))
}

impl Store {
    /// The store for `path`, with the array in `group`. An existing Zarr store is
    /// written in its own format, a new one in format 3 (see
    /// [`Store::with_zarr_format`]).
    #[must_use]
    pub fn for_path(path: &Path, group: &str) -> Self {
        let is_zarr = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(".zarr"))
            || path.is_dir();
        if is_zarr {
            // An existing store keeps its format; a v2 store has `.zgroup` at its root
            // and no `zarr.json`.
            let format = if !path.join("zarr.json").exists() && path.join(".zgroup").exists() {
                ZarrFormat::V2
            } else {
                ZarrFormat::V3
            };
            Self::Zarr {
                path: path.to_path_buf(),
                group: normalize_group(group),
                format,
            }
        } else {
            Self::Hdf5 {
                path: path.to_path_buf(),
                group: normalize_group(group),
            }
        }
    }

    /// The same store, writing Zarr format `format` (no effect on HDF5).
    #[must_use]
    pub fn with_zarr_format(self, format: ZarrFormat) -> Self {
        match self {
            Self::Zarr { path, group, .. } => Self::Zarr {
                path,
                group,
                format,
            },
            other => other,
        }
    }

    /// `FILE: group G`, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Hdf5 { path, group } | Self::Zarr { path, group, .. } => {
                format!("{}: group {group}", path.display())
            }
        }
    }

    fn open(&self) -> Result<Opened> {
        let path = self.path();
        crate::outcheck::check_input(path)?;
        if matches!(self, Self::Hdf5 { .. }) && !crate::outcheck::looks_like_hdf5(path) {
            bail!("{}: not an HDF5 file", path.display());
        }
        match self {
            Self::Hdf5 { path, group } => Hdf5Store::open(path, group)
                .map(Opened::Hdf5)
                .map_err(|e| hdf5_err(self, e)),
            Self::Zarr { path, group, .. } => ZarrStore::open(path, group)
                .map(Opened::Zarr)
                .map_err(|e| zarr_err(self, e)),
        }
    }

    /// Reads the stored array, or only the streams `keep` marks (C order over the
    /// stored leading shape), without decoding; only the kept streams' bytes are read.
    /// The shape rules are 0.4.1's: a single stream reads as 1-d unless `no_flatten`;
    /// kept streams form a `(n_kept, N)` array, 1-d when exactly one is kept unless
    /// `no_flatten`.
    ///
    /// # Errors
    /// The file or group cannot be read or is not a valid flacarray group, or `keep`
    /// has the wrong length or keeps nothing; the message names the file and group.
    pub fn read(&self, keep: Option<&[bool]>, no_flatten: bool) -> Result<FlacArray> {
        match self.open()? {
            Opened::Hdf5(h) => read_flacarray(&h, keep, no_flatten).map_err(|e| hdf5_err(self, e)),
            Opened::Zarr(z) => read_flacarray(&z, keep, no_flatten).map_err(|e| zarr_err(self, e)),
        }
    }

    /// Metadata, stream table and first stream of the stored array.
    ///
    /// # Errors
    /// As [`Store::read`].
    pub fn read_info(&self) -> Result<StoredInfo> {
        let d = self.describe();
        let ((meta, table, first_stream), software_version) = match self.open()? {
            Opened::Hdf5(h) => {
                let info = info_of(&h, &d, |e| hdf5_err(self, e))?;
                let sv = h
                    .meta()
                    .map_err(|e| hdf5_err(self, e))?
                    .software_version
                    .clone();
                (info, sv)
            }
            Opened::Zarr(z) => {
                let info = info_of(&z, &d, |e| zarr_err(self, e))?;
                let sv = z
                    .software_version()
                    .map_err(|e| zarr_err(self, e))?
                    .map(str::to_owned);
                (info, sv)
            }
        };
        Ok(StoredInfo {
            meta,
            table,
            software_version,
            first_stream,
        })
    }

    /// The stored array's leading shape, samples per stream and dtype, read from the
    /// metadata only.
    ///
    /// # Errors
    /// As [`Store::read`].
    pub fn meta(&self) -> Result<(Vec<usize>, usize, DType)> {
        let m = match self.open()? {
            Opened::Hdf5(h) => h.metadata().map_err(|e| hdf5_err(self, e))?,
            Opened::Zarr(z) => z.metadata().map_err(|e| zarr_err(self, e))?,
        };
        Ok((m.leading_shape, m.stream_size, m.dtype))
    }

    /// The file or store directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Self::Hdf5 { path, .. } | Self::Zarr { path, .. } => path,
        }
    }

    /// The group holding the array (absolute, `/` for the root).
    #[must_use]
    pub fn group(&self) -> &str {
        match self {
            Self::Hdf5 { group, .. } | Self::Zarr { group, .. } => group,
        }
    }

    /// The kind of output this store is for [`crate::outcheck`].
    #[must_use]
    pub fn output_kind(&self) -> crate::outcheck::OutputKind {
        match self {
            Self::Hdf5 { .. } => crate::outcheck::OutputKind::Hdf5,
            Self::Zarr { .. } => crate::outcheck::OutputKind::Zarr,
        }
    }

    /// Writes `fa` (format 1). A new file or store is written to a temporary name and
    /// renamed when complete. In an existing one the new array is written under a
    /// temporary name and swapped into the group when complete
    /// ([`hdf5::write_file_swapped`], [`zarr::write_store_swapped`]),
    /// so the old array stays readable until then. An array already stored in the group
    /// is replaced only with `force`, and only if it is a FlacArray.
    ///
    /// The whole write holds an exclusive lock on the directory that holds the file or
    /// store ([`crate::output::lock_dir_of`]): two processes writing to the same file
    /// or store take turns, and each one's group is kept.
    ///
    /// # Errors
    /// The group already holds something and `force` is false, or any storage error;
    /// the message names the file and group.
    pub fn write(&self, fa: &FlacArray, force: bool) -> Result<()> {
        let path = self.path();
        let _lock = crate::output::lock_dir_of(path)?;
        if !path.exists() {
            return crate::output::with_temp_path(path, |p| self.write_at(p, fa, force));
        }
        match self {
            Self::Hdf5 { group, .. } => {
                hdf5::write_file_swapped(path, group, fa, force).map_err(|e| hdf5_err(self, e))
            }
            Self::Zarr { group, format, .. } => {
                zarr::write_store_swapped(path, group, fa, force, *format)
                    .map_err(|e| zarr_err(self, e))
            }
        }
    }

    /// Writes `fa` into this store's group of the file or store at `at` (the target
    /// itself or its temporary name).
    fn write_at(&self, at: &Path, fa: &FlacArray, force: bool) -> Result<()> {
        match self {
            Self::Hdf5 { group, .. } => {
                let mut h = Hdf5Store::create(at, group, force).map_err(|e| hdf5_err(self, e))?;
                h.write(fa).map_err(|e| hdf5_err(self, e))
            }
            Self::Zarr { group, format, .. } => {
                let mut z =
                    ZarrStore::create(at, group, force, *format).map_err(|e| zarr_err(self, e))?;
                z.write(fa).map_err(|e| zarr_err(self, e))
            }
        }
    }
}

/// `""` and `"/"` are the root; other names are made absolute.
fn normalize_group(group: &str) -> String {
    let g = group.trim();
    if g.is_empty() || g == "/" {
        "/".to_owned()
    } else if g.starts_with('/') {
        g.trim_end_matches('/').to_owned()
    } else {
        format!("/{}", g.trim_end_matches('/'))
    }
}
