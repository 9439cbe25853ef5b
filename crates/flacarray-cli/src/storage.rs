//! Where a FlacArray is stored: chosen from the path.
//!
//! A path whose name ends in `.zarr`, or an existing directory, is a Zarr store (not
//! available yet: issue 7); anything else is an HDF5 file, in which the array lives in
//! one group (`/` by default).
//!
//! Writing a **new** HDF5 file goes through a temporary file beside the target that is
//! renamed when complete, so a failed run leaves nothing behind. Writing into an
//! **existing** file adds (or, with `force`, replaces) the group in place: the file's
//! other content is kept, and a failure part-way can leave that group incomplete.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flacarray_core::{
    DType, FlacArray, FlacArrayReader, FlacArrayWriter, StoredMeta, StreamTable, read_flacarray,
};
use flacarray_hdf5::Hdf5Store;

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
    /// A Zarr directory store (not implemented yet).
    Zarr {
        /// The directory.
        path: PathBuf,
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

/// Adds the file and group to an error of the array layer (the HDF5 crate's own
/// errors already name them).
fn hdf5_err(store: &Store, e: flacarray_hdf5::Error) -> anyhow::Error {
    match e {
        flacarray_hdf5::Error::Core(c) => anyhow::Error::new(c).context(store.describe()),
        other => anyhow::Error::new(other),
    }
}

impl Store {
    /// The store for `path`, with the array in `group` (HDF5 only).
    #[must_use]
    pub fn for_path(path: &Path, group: &str) -> Self {
        let is_zarr = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(".zarr"))
            || path.is_dir();
        if is_zarr {
            Self::Zarr {
                path: path.to_path_buf(),
            }
        } else {
            Self::Hdf5 {
                path: path.to_path_buf(),
                group: normalize_group(group),
            }
        }
    }

    /// `FILE: group G`, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Hdf5 { path, group } => format!("{}: group {group}", path.display()),
            Self::Zarr { path } => path.display().to_string(),
        }
    }

    fn zarr_error(path: &Path) -> anyhow::Error {
        anyhow::anyhow!(
            "{}: Zarr storage is not available yet (issue 7)",
            path.display()
        )
    }

    fn open(&self) -> Result<Hdf5Store> {
        match self {
            Self::Zarr { path } => Err(Self::zarr_error(path)),
            Self::Hdf5 { path, group } => {
                Hdf5Store::open(path, group).map_err(|e| hdf5_err(self, e))
            }
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
        let h = self.open()?;
        read_flacarray(&h, keep, no_flatten).map_err(|e| hdf5_err(self, e))
    }

    /// Metadata, stream table and first stream of the stored array.
    ///
    /// # Errors
    /// As [`Store::read`].
    pub fn read_info(&self) -> Result<StoredInfo> {
        let h = self.open()?;
        let meta = h.metadata().map_err(|e| hdf5_err(self, e))?;
        let rows = meta.leading_shape.first().copied().unwrap_or(1);
        let table = h
            .read_stream_table(&meta, 0..rows)
            .map_err(|e| hdf5_err(self, e))?;
        let software_version = h
            .meta()
            .map_err(|e| hdf5_err(self, e))?
            .software_version
            .clone();
        let mut first_stream = Vec::new();
        if let (Some(&start), Some(&len)) = (table.starts.first(), table.nbytes.first()) {
            let len = usize::try_from(len)
                .with_context(|| format!("{}: stream 0 too large", self.describe()))?;
            first_stream = vec![0u8; len];
            h.read_bytes(start, &mut first_stream)
                .map_err(|e| hdf5_err(self, e))?;
        }
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
        let m = self.open()?.metadata().map_err(|e| hdf5_err(self, e))?;
        Ok((m.leading_shape, m.stream_size, m.dtype))
    }

    /// Fails for a store that cannot be written (Zarr, until issue 7).
    ///
    /// # Errors
    /// The Zarr error.
    pub fn write_check(&self) -> Result<()> {
        match self {
            Self::Zarr { path } => Err(Self::zarr_error(path)),
            Self::Hdf5 { .. } => Ok(()),
        }
    }

    /// Writes `fa` (format 1). A new file is written to a temporary name and renamed
    /// when complete; an existing file gets the group added in place. An array
    /// already stored in the group is replaced only with `force`.
    ///
    /// # Errors
    /// The group already holds a FlacArray and `force` is false, or any HDF5 error;
    /// the message names the file and group.
    pub fn write(&self, fa: &FlacArray, force: bool) -> Result<()> {
        match self {
            Self::Zarr { path } => Err(Self::zarr_error(path)),
            Self::Hdf5 { path, group } => {
                let write_to = |p: &Path| -> Result<()> {
                    let mut h =
                        Hdf5Store::create(p, group, force).map_err(|e| hdf5_err(self, e))?;
                    h.write(fa).map_err(|e| hdf5_err(self, e))
                };
                if path.exists() {
                    write_to(path)
                } else {
                    crate::output::with_temp_path(path, write_to)
                }
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

#[cfg(test)]
mod tests {
    use super::{Store, normalize_group};
    use flacarray_core::{CompressOptions, FlacArray, QuantaOption};
    use std::path::Path;

    #[test]
    fn path_selects_backend() {
        assert!(matches!(
            Store::for_path(Path::new("x.zarr"), "/"),
            Store::Zarr { .. }
        ));
        let dir = tempfile::tempdir().expect("dir");
        assert!(matches!(
            Store::for_path(dir.path(), "/"),
            Store::Zarr { .. }
        ));
        assert_eq!(
            Store::for_path(Path::new("x.h5"), "a/b/"),
            Store::Hdf5 {
                path: "x.h5".into(),
                group: "/a/b".into()
            }
        );
        assert_eq!(normalize_group(""), "/");
        let e = Store::for_path(Path::new("x.zarr"), "/")
            .read(None, false)
            .expect_err("zarr");
        assert_eq!(
            e.to_string(),
            "x.zarr: Zarr storage is not available yet (issue 7)"
        );
    }

    #[test]
    fn info_reads_table_and_first_stream() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("i.h5");
        let a = ndarray::Array3::from_shape_fn((2, 3, 100), |(i, j, k)| {
            (i * 1000 + j * 100 + k) as i64
        });
        let fa = FlacArray::from_array(&a, &CompressOptions::default()).expect("compress");
        let store = Store::for_path(&path, "x");
        store.write(&fa, false).expect("write");
        let info = store.read_info().expect("info");
        assert_eq!(info.meta.leading_shape, vec![2, 3]);
        assert_eq!(info.meta.stream_size, 100);
        assert_eq!(info.table.nbytes, fa.stream_nbytes());
        let n0 = usize::try_from(fa.stream_nbytes()[0]).expect("small");
        assert_eq!(info.first_stream, fa.compressed()[..n0].to_vec());
        assert_eq!(&info.first_stream[..4], b"fLaC");
        assert!(info.software_version.is_some());
        assert_eq!(store.meta().expect("meta").0, vec![2, 3]);
    }

    #[test]
    fn hdf5_round_trip_with_keep() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.h5");
        let a =
            ndarray::Array2::from_shape_fn((3, 500), |(i, j)| (i as f32) + (j as f32 * 0.01).sin());
        let opts = CompressOptions {
            quanta: Some(QuantaOption::Scalar(1e-4)),
            ..Default::default()
        };
        let fa = FlacArray::from_array(&a, &opts).expect("compress");
        let store = Store::for_path(&path, "/g");
        store.write(&fa, false).expect("write");
        assert_eq!(store.read(None, false).expect("read"), fa);
        let e = store.write(&fa, false).expect_err("exists");
        assert!(format!("{e:#}").contains("already exists"), "{e:#}");
        store.write(&fa, true).expect("force");
        let one = store
            .read(Some(&[false, true, false]), false)
            .expect("keep");
        assert_eq!(one.shape(), vec![500]);
        let back = one.to_array_typed::<f32>().expect("decode");
        for (x, y) in back.iter().zip(a.row(1)) {
            assert!((x - y).abs() <= 0.5e-4 + 1e-6);
        }
    }
}
