//! Open a flacarray group in an HDF5 file or a Zarr store by path, whatever the backend.
//!
//! A path whose name ends in `.zarr`, or an existing directory, is a Zarr directory
//! store (format 3 for a new one, an existing store keeps its format); anything else is
//! an HDF5 file. In both the array lives in one group (`/` by default). Errors name the
//! file and the group.
//!
//! Writing here is direct: [`Store::write_at`] creates the file or store at a path of
//! the caller's choice (a temporary name to be renamed when complete, for example), and
//! [`Store::write`] writes into an existing one through the backends' swapped writes, so
//! that the old array stays readable until the new one is complete.
//!
//! Available with both cargo features `hdf5` and `zarr` (the default).
//!
//! ```
//! use flacarray::{CompressOptions, FlacArray, store::Store};
//! let dir = tempfile::tempdir()?;
//! let a = ndarray::Array2::from_shape_fn((2, 50), |(i, j)| (i * 100 + j) as i32);
//! let fa = FlacArray::from_array(&a, &CompressOptions::default())?;
//! for name in ["a.h5", "a.zarr"] {
//!     let store = Store::for_path(&dir.path().join(name), "obs/1");
//!     store.write(&fa, false)?;
//!     assert_eq!(store.group(), "/obs/1");
//!     assert_eq!(store.meta()?.0, vec![2]);
//!     assert_eq!(store.read(None, false)?, fa);
//!     assert!(store.write(&fa, false).is_err()); // `force` replaces it
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::hdf5::{self, Hdf5Store};
use crate::zarr::{self, ZarrFormat, ZarrStore};
use crate::{
    DType, DecodedArray, FlacArray, FlacArrayReader, FlacArrayWriter, LogicalArray, LogicalDType,
    NonFinite, ReadOptions, RowBlocks, StoredExtension, StoredMeta, StreamTable, read_array,
    read_flacarray,
};

/// What went wrong with a stored array. Messages are whole and name the file (and
/// the group, unless the backend's own message does); `source()` returns the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file or store does not exist.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// The file or store cannot be inspected.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A path taken for an HDF5 file does not start with the HDF5 signature.
    #[error("{}: not an HDF5 file", path.display())]
    NotHdf5 {
        /// The path.
        path: PathBuf,
    },
    /// The group already holds something and `force` was not given, or holds something
    /// that is not a FlacArray (never replaced).
    #[error("{}", already_exists_message(place, object))]
    AlreadyExists {
        /// `FILE: group G`.
        place: String,
        /// What is there, as the backend names it.
        object: String,
    },
    /// The stream table gives a stream too long for this machine's memory.
    #[error("{place}: stream 0 too large")]
    StreamTooLarge {
        /// `FILE: group G`.
        place: String,
    },
    /// An error of the array layer, with the file and group it concerns.
    #[error("{place}: {source}")]
    Core {
        /// `FILE: group G`.
        place: String,
        /// The cause.
        #[source]
        source: Box<crate::Error>,
    },
    /// Writing the decoded output failed ([`Store::decompress_npy`]).
    #[error("cannot write: {0}")]
    Write(#[source] std::io::Error),
    /// Writing the decoded output file failed ([`Store::decompress_npy_file`]; the
    /// message names the file).
    #[error(transparent)]
    Output(#[from] crate::atomic::Error),
    /// An error of the HDF5 backend (its messages name the file and group).
    #[error(transparent)]
    Hdf5(Box<hdf5::Error>),
    /// An error of the Zarr backend (its messages name the store and group).
    #[error(transparent)]
    Zarr(Box<zarr::Error>),
}

impl Error {
    /// Whether this is [`Error::AlreadyExists`] about a FlacArray (which `force`
    /// replaces), rather than about something else in the group.
    #[must_use]
    pub fn is_existing_flacarray(&self) -> bool {
        matches!(self, Self::AlreadyExists { object, .. }
            if object.contains(crate::layout::ATTR_FORMAT_VERSION))
    }
}

fn already_exists_message(place: &str, object: &str) -> String {
    if object.contains(crate::layout::ATTR_FORMAT_VERSION) {
        format!("{place}: a FlacArray already exists there")
    } else {
        format!(
            "{place}: {object} already exists and is not part of a FlacArray; flacarray \
             does not replace it (remove it first)"
        )
    }
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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

/// A stored array's description, read without decoding, and without reading any
/// compressed bytes but the first stream's.
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
    /// The element type of the caller's data (the stored one unless the group
    /// records another, see [`LogicalDType`]).
    pub logical: LogicalDType,
    /// The kept NaN/inf samples, when the group stores some.
    pub nonfinite: Option<NonFinite>,
}

/// How many NaN and infinite samples a group keeps ([`StoredInfo::nonfinite`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NonFiniteCounts {
    /// NaN samples.
    pub nan: usize,
    /// `+inf` samples.
    pub pos_inf: usize,
    /// `-inf` samples.
    pub neg_inf: usize,
    /// Streams holding at least one of them.
    pub streams: usize,
}

impl NonFiniteCounts {
    /// The counts of `nf`.
    #[must_use]
    pub fn of(nf: &NonFinite) -> Self {
        let mut c = Self::default();
        for g in 0..nf.n_streams() {
            let runs = nf.stream_runs(g);
            c.streams += usize::from(!runs.is_empty());
            for r in runs {
                // The bits are those of the stored float type (f32 zero-extended).
                let v = if nf.is_float64() {
                    f64::from_bits(r.bits)
                } else {
                    f64::from(f32::from_bits(r.bits as u32))
                };
                match v {
                    v if v.is_nan() => c.nan += r.len,
                    v if v > 0.0 => c.pos_inf += r.len,
                    _ => c.neg_inf += r.len,
                }
            }
        }
        c
    }
}

/// A stored array's figures, computed from [`StoredInfo`] (what `flacarray info`
/// prints).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The shape it reads back as (a single stream is 1-d).
    pub shape: Vec<usize>,
    /// Number of streams.
    pub n_streams: usize,
    /// Bytes of the uncompressed values, in their own element type.
    pub input_bytes: u64,
    /// `input_bytes` over the compressed bytes.
    pub ratio: f64,
    /// Smallest compressed stream, in bytes (0 without streams).
    pub min_stream_bytes: u64,
    /// Mean compressed stream size, in bytes.
    pub mean_stream_bytes: f64,
    /// Largest compressed stream, in bytes.
    pub max_stream_bytes: u64,
    /// The first stream's STREAMINFO (`None` when the array is empty).
    pub stream_info: Option<crate::flac::StreamInfo>,
    /// The kept NaN/inf samples, when there are some.
    pub nonfinite: Option<NonFiniteCounts>,
}

/// Which compression levels a FLAC block size comes from (flacarray's encoder uses
/// libFLAC's presets: 1152 samples for levels 0-2, 4096 for 3-8).
#[must_use]
pub fn levels_for_block_size(block: u32) -> &'static str {
    match block {
        1152 => "0-2",
        4096 => "3-8",
        _ => "unknown",
    }
}

impl StoredInfo {
    /// The figures of the stored array.
    ///
    /// # Errors
    /// The first stream has no valid STREAMINFO.
    pub fn summary(&self) -> Result<Summary, crate::flac::Error> {
        let meta = &self.meta;
        let nbytes = &self.table.nbytes;
        let n = nbytes.len();
        let (min, max) = nbytes
            .iter()
            .fold((u64::MAX, 0), |(lo, hi), &b| (lo.min(b), hi.max(b)));
        let elem = crate::npy::itemsize(self.logical) as u64;
        let input_bytes = (n * meta.stream_size) as u64 * elem;
        let shape = if meta.leading_shape == [1] {
            vec![meta.stream_size]
        } else {
            let mut s = meta.leading_shape.clone();
            s.push(meta.stream_size);
            s
        };
        Ok(Summary {
            shape,
            n_streams: n,
            input_bytes,
            ratio: input_bytes as f64 / meta.total_bytes.max(1) as f64,
            min_stream_bytes: min.min(max),
            mean_stream_bytes: nbytes.iter().sum::<u64>() as f64 / n.max(1) as f64,
            max_stream_bytes: max,
            stream_info: match self.first_stream.as_slice() {
                [] => None,
                b => Some(crate::flac::read_stream_info(b)?),
            },
            nonfinite: self.nonfinite.as_ref().map(NonFiniteCounts::of),
        })
    }
}

/// An opened store of either backend.
// One value per call, so the variants' different sizes cost nothing worth boxing.
#[allow(clippy::large_enum_variant)]
enum Opened {
    Hdf5(Hdf5Store),
    Zarr(ZarrStore),
}

/// Whether the file starts with the HDF5 signature (at byte 0 or after a user block
/// of 512, 1024, 2048, ... bytes).
#[must_use]
pub fn looks_like_hdf5(path: &Path) -> bool {
    const SIG: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut at = 0u64;
    let mut buf = [0u8; 8];
    while at + 8 <= len {
        if std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(at)).is_err()
            || f.read_exact(&mut buf).is_err()
        {
            return false;
        }
        if &buf == SIG {
            return true;
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    false
}

/// Whether `dir` is the root of a Zarr store (v3 `zarr.json` or v2 `.zgroup`).
#[must_use]
pub fn is_zarr_store(dir: &Path) -> bool {
    dir.join("zarr.json").is_file() || dir.join(".zgroup").is_file()
}

/// Metadata, stream table, first stream and extension through either backend's reader.
type Info = (StoredMeta, StreamTable, Vec<u8>, StoredExtension);

fn info_of<R: FlacArrayReader>(
    r: &R,
    place: &str,
    err: impl Fn(R::Error) -> Error,
) -> Result<Info> {
    let meta = r.metadata().map_err(&err)?;
    let rows = meta.leading_shape.first().copied().unwrap_or(1);
    let table = r.read_stream_table(&meta, 0..rows).map_err(&err)?;
    let mut first_stream = Vec::new();
    if let (Some(&start), Some(&len)) = (table.starts.first(), table.nbytes.first()) {
        // The table's lengths are checked against the stored bytes by the backends.
        let len = usize::try_from(len).map_err(|_| Error::StreamTooLarge {
            place: place.to_owned(),
        })?;
        first_stream = vec![0u8; len];
        r.read_bytes(start, &mut first_stream).map_err(&err)?;
    }
    let ext = crate::current_extension(r, &meta).map_err(&err)?;
    Ok((meta, table, first_stream, ext))
}

/// The logical type and kept NaN/inf samples a group's extension records, checked
/// against its metadata.
///
/// # Errors
/// [`crate::Error::Corrupt`] naming the attribute or array that is wrong.
pub fn decode_extension(
    meta: &StoredMeta,
    ext: &StoredExtension,
) -> Result<(LogicalDType, Option<NonFinite>), crate::Error> {
    use crate::layout::{ARR_NONFINITE_FLAGS, ARR_NONFINITE_RUNS, ATTR_DTYPE};
    let corrupt = |m: String| crate::Error::Corrupt(m);
    let logical = match &ext.dtype {
        None => LogicalDType::from(meta.dtype),
        Some(name) => LogicalDType::from_name(name)
            .map_err(|_| corrupt(format!("attribute {ATTR_DTYPE}: unknown type {name:?}")))?,
    };
    if logical.stored() != meta.dtype {
        return Err(corrupt(format!(
            "attribute {ATTR_DTYPE}: {logical} is not stored as {}",
            meta.dtype
        )));
    }
    let Some((flags, runs)) = &ext.nonfinite else {
        return Ok((logical, None));
    };
    if !meta.dtype.is_float() || flags.len() != meta.n_streams() {
        return Err(corrupt(format!(
            "{ARR_NONFINITE_FLAGS}: {} flags for {} {} streams",
            flags.len(),
            meta.n_streams(),
            meta.dtype
        )));
    }
    let nf = NonFinite::decode(
        flags,
        runs,
        meta.stream_size,
        &meta.leading_shape,
        meta.dtype == DType::Float64,
    )
    .map_err(|e| corrupt(format!("{ARR_NONFINITE_RUNS}: {e}")))?;
    Ok((logical, Some(nf)))
}

impl Store {
    /// The store for `path`, with the array in `group` (made absolute; `""` is the
    /// root). An existing Zarr store is written in its own format, a new one in format
    /// 3 (see [`Store::with_zarr_format`]).
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
        format!("{}: group {}", self.path().display(), self.group())
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

    /// An error of the HDF5 backend, with the file and group added where the backend
    /// does not give them.
    fn hdf5_err(&self, e: hdf5::Error) -> Error {
        match e {
            hdf5::Error::Core(c) => self
                .core_err(c)
                .unwrap_or_else(|c| Error::Hdf5(Box::new((*c).into()))),
            other => Error::Hdf5(Box::new(other)),
        }
    }

    /// As [`Store::hdf5_err`] for the Zarr backend.
    fn zarr_err(&self, e: zarr::Error) -> Error {
        match e {
            zarr::Error::Core(c) => self
                .core_err(c)
                .unwrap_or_else(|c| Error::Zarr(Box::new((*c).into()))),
            other => Error::Zarr(Box::new(other)),
        }
    }

    /// The array layer's error in this module's terms, or back (`Err`) when it names
    /// its file and group already.
    fn core_err(&self, c: crate::Error) -> Result<Error, Box<crate::Error>> {
        match c {
            crate::Error::AlreadyExists { object, .. } => Ok(Error::AlreadyExists {
                place: self.describe(),
                object,
            }),
            c if c.place().is_none() => Ok(Error::Core {
                place: self.describe(),
                source: Box::new(c),
            }),
            c => Err(Box::new(c)),
        }
    }

    fn open(&self) -> Result<Opened> {
        let path = self.path();
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound {
                    path: path.to_path_buf(),
                });
            }
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        match self {
            Self::Hdf5 { path, group } => {
                if !looks_like_hdf5(path) {
                    return Err(Error::NotHdf5 { path: path.clone() });
                }
                Hdf5Store::open(path, group)
                    .map(Opened::Hdf5)
                    .map_err(|e| self.hdf5_err(e))
            }
            Self::Zarr { path, group, .. } => ZarrStore::open(path, group)
                .map(Opened::Zarr)
                .map_err(|e| self.zarr_err(e)),
        }
    }

    /// Reads the stored array, or only the streams `keep` marks (C order over the
    /// stored leading shape), without decoding; only the kept streams' bytes are read.
    /// The shape rules are flacarray 0.4.1's: a single stream reads as 1-d unless
    /// `no_flatten`; kept streams form a `(n_kept, N)` array, 1-d when exactly one is
    /// kept unless `no_flatten`.
    ///
    /// # Errors
    /// The file or group cannot be read or is not a valid flacarray group, or `keep`
    /// has the wrong length or keeps nothing.
    pub fn read(&self, keep: Option<&[bool]>, no_flatten: bool) -> Result<FlacArray> {
        match self.open()? {
            Opened::Hdf5(h) => read_flacarray(&h, keep, no_flatten).map_err(|e| self.hdf5_err(e)),
            Opened::Zarr(z) => read_flacarray(&z, keep, no_flatten).map_err(|e| self.zarr_err(e)),
        }
    }

    /// Decodes the selection `opts` asks for through [`read_array`]: a short sample
    /// range reads only the bytes of the FLAC frames that hold it.
    ///
    /// # Errors
    /// As [`Store::read`]; a stream that does not decode.
    pub fn read_selection(&self, opts: &ReadOptions<'_>) -> Result<DecodedArray> {
        let sel = match self.open()? {
            Opened::Hdf5(h) => read_array(&h, opts).map_err(|e| self.hdf5_err(e))?,
            Opened::Zarr(z) => read_array(&z, opts).map_err(|e| self.zarr_err(e))?,
        };
        Ok(sel.array)
    }

    /// Metadata, stream table and first stream of the stored array.
    ///
    /// # Errors
    /// As [`Store::read`].
    pub fn read_info(&self) -> Result<StoredInfo> {
        let d = self.describe();
        let ((meta, table, first_stream, ext), software_version) = match self.open()? {
            Opened::Hdf5(h) => {
                let info = info_of(&h, &d, |e| self.hdf5_err(e))?;
                let sv = h.software_version().map_err(|e| self.hdf5_err(e))?;
                (info, sv.map(str::to_owned))
            }
            Opened::Zarr(z) => {
                let info = info_of(&z, &d, |e| self.zarr_err(e))?;
                let sv = z.software_version().map_err(|e| self.zarr_err(e))?;
                (info, sv.map(str::to_owned))
            }
        };
        let (logical, nonfinite) = decode_extension(&meta, &ext).map_err(|e| Error::Core {
            place: d,
            source: Box::new(e),
        })?;
        Ok(StoredInfo {
            meta,
            table,
            software_version,
            first_stream,
            logical,
            nonfinite,
        })
    }

    /// The stored array's leading shape, samples per stream and dtype, read from the
    /// metadata only.
    ///
    /// # Errors
    /// As [`Store::read`].
    pub fn meta(&self) -> Result<(Vec<usize>, usize, DType)> {
        let m = match self.open()? {
            Opened::Hdf5(h) => h.metadata().map_err(|e| self.hdf5_err(e))?,
            Opened::Zarr(z) => z.metadata().map_err(|e| self.zarr_err(e))?,
        };
        Ok((m.leading_shape, m.stream_size, m.dtype))
    }

    /// The element type of the caller's data, which [`Store::read`] then
    /// [`FlacArray::to_values`] give: the stored one, or the one the group records
    /// beside it (attribute `flacarray_dtype`, e.g. `uint64` for data stored as
    /// `int64`) unless that record no longer applies ([`crate::current_extension`]:
    /// a format-1 group that flacarray 0.4.1 rewrote).
    ///
    /// # Errors
    /// As [`Store::read`]; an unknown recorded type.
    pub fn logical_dtype(&self) -> Result<LogicalDType> {
        let (meta, ext) = match self.open()? {
            Opened::Hdf5(h) => {
                let m = h.metadata().map_err(|e| self.hdf5_err(e))?;
                let ext = crate::current_extension(&h, &m).map_err(|e| self.hdf5_err(e))?;
                (m, ext)
            }
            Opened::Zarr(z) => {
                let m = z.metadata().map_err(|e| self.zarr_err(e))?;
                let ext = crate::current_extension(&z, &m).map_err(|e| self.zarr_err(e))?;
                (m, ext)
            }
        };
        let ext = StoredExtension {
            nonfinite: None,
            ..ext
        };
        let (logical, _) = decode_extension(&meta, &ext).map_err(|e| Error::Core {
            place: self.describe(),
            source: Box::new(e),
        })?;
        Ok(logical)
    }

    /// Decodes the stored array (or the streams `keep` marks, as [`Store::read`]) and
    /// writes it to `out` as an `.npy` file of the caller's element type, a block of
    /// rows of axis 0 (about [`DECODE_BLOCK_BYTES`] of values) at a time
    /// ([`crate::RowBlocks::decode_each`]): memory stays at a few blocks whatever the
    /// array's size, and in a rayon pool of two or more threads a block is written
    /// while the next is decoded. `progress` is called with the streams of each block
    /// written. Returns the element type and shape written, which equal those of
    /// [`Store::read`] then [`FlacArray::to_values`].
    ///
    /// A checksum mismatch (see [`crate::RowBlocks`]) is found after the last block
    /// was decoded: on any error, what was written to `out` must be discarded.
    ///
    /// # Errors
    /// As [`Store::read`] and [`FlacArray::to_values`]; [`Error::Write`] when `out`
    /// fails.
    pub fn decompress_npy(
        &self,
        keep: Option<&[bool]>,
        no_flatten: bool,
        out: &mut (dyn std::io::Write + Send),
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(LogicalDType, Vec<usize>)> {
        let (leading, samples, dtype) = self.meta()?;
        let n_streams: usize = leading.iter().product();
        let kept = keep.map(|k| k.iter().filter(|&&b| b).count());
        if keep.is_some_and(|k| k.len() != n_streams) || kept == Some(0) {
            // The whole read's checks give the error.
            self.read(keep, no_flatten)?;
        }
        let logical = self.logical_dtype()?;
        // flacarray 0.4.1's shapes: one stream reads as 1-d unless `no_flatten`; kept
        // streams form a (n_kept, samples) array.
        let one_d = !no_flatten && kept.map_or(leading == [1], |n| n == 1);
        let shape = match kept {
            _ if one_d => vec![samples],
            Some(n) => vec![n, samples],
            None => leading.iter().copied().chain([samples]).collect(),
        };
        // `logical` applies the same rule as the reads (`crate::current_extension`):
        // the header's type is the type of every block below.
        let header = crate::npy::header(logical, &shape)
            .map_err(|e| Error::Write(std::io::Error::other(e)))?;
        out.write_all(&header).map_err(Error::Write)?;
        let width = if dtype.is_64bit() { 8 } else { 4 };
        let row_bytes = (leading.iter().skip(1).product::<usize>())
            .saturating_mul(samples)
            .saturating_mul(width)
            .max(1);
        // At least a row per thread: a block of one long row leaves the threads to split
        // one stream's frames, slower than a stream each (10% on 2 MB float64 rows,
        // 2 threads).
        let rows_per_block = (DECODE_BLOCK_BYTES / row_bytes)
            .max(flacarray_core::current_threads())
            .max(1);
        let mut written = 0usize;
        let mut sink = |b: LogicalArray| -> Result<()> {
            use crate::npy::NpyData;
            if b.dtype() != logical {
                return Err(Error::Write(std::io::Error::other(format!(
                    "a block decoded as {}, the header says {logical}",
                    b.dtype()
                ))));
            }
            let streams = b.shape().iter().rev().skip(1).product::<usize>();
            b.write_npy_data(&mut *out).map_err(Error::Write)?;
            written += streams;
            progress(streams);
            Ok(())
        };
        match self.open()? {
            Opened::Hdf5(h) => RowBlocks::new(h, keep, rows_per_block)
                .map_err(|e| self.hdf5_err(e))?
                .decode_each(|v| sink(v).map_err(Failed::Sink))
                .map_err(|e| self.failed(e, Self::hdf5_err))?,
            Opened::Zarr(z) => RowBlocks::new(z, keep, rows_per_block)
                .map_err(|e| self.zarr_err(e))?
                .decode_each(|v| sink(v).map_err(Failed::Sink))
                .map_err(|e| self.failed(e, Self::zarr_err))?,
        }
        let want = kept.unwrap_or(n_streams);
        if written != want && samples > 0 {
            return Err(Error::Core {
                place: self.describe(),
                source: Box::new(crate::Error::Corrupt(format!(
                    "{written} streams decoded, {want} expected"
                ))),
            });
        }
        Ok((logical, shape))
    }

    /// [`Store::decompress_npy`] into the `.npy` file `target`, written under a
    /// temporary name and renamed over `target` once complete
    /// ([`crate::atomic::with_temp_path`]: on error nothing is left and an existing
    /// `target` is untouched); with `sync`, flushed to the storage device before the
    /// rename.
    ///
    /// # Errors
    /// As [`Store::decompress_npy`]; [`Error::Output`] (naming `target`) when the file
    /// cannot be created, written or renamed.
    pub fn decompress_npy_file(
        &self,
        target: &Path,
        keep: Option<&[bool]>,
        no_flatten: bool,
        sync: bool,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(LogicalDType, Vec<usize>)> {
        via_temp(target, |tmp| {
            let mut file = std::fs::File::create_new(tmp).map_err(Error::Write)?;
            let r = self.decompress_npy(keep, no_flatten, &mut file, progress)?;
            if sync {
                file.sync_all().map_err(Error::Write)?;
            }
            Ok(r)
        })
    }

    fn failed<B>(&self, e: Failed<B>, backend: impl Fn(&Self, B) -> Error) -> Error {
        match e {
            Failed::Backend(b) => backend(self, b),
            Failed::Sink(s) => s,
        }
    }

    /// Writes `fa` (format 1, or 2 for what flacarray 0.4.1 cannot read) into this
    /// store's group. A file or store that does not
    /// exist is created ([`Store::write_at`] at its own path); in an existing one the
    /// new array is written under a temporary name and swapped into the group when
    /// complete ([`hdf5::write_file_swapped`], [`zarr::write_store_swapped`]), so the
    /// old array stays readable until then. With `force`, an HDF5 file that holds
    /// nothing but the array replaced ([`hdf5::holds_only_flacarray`]) is instead
    /// written anew under a temporary name and renamed over the old file, so that it
    /// does not keep the old array's bytes. An array already stored in the group is
    /// replaced only with `force`, and only if it is a FlacArray.
    ///
    /// # Errors
    /// The group already holds something and `force` is false
    /// ([`Error::AlreadyExists`]), or any storage error.
    pub fn write(&self, fa: &FlacArray, force: bool) -> Result<()> {
        let path = self.path();
        if !path.exists() {
            return self.write_at(path, fa, force);
        }
        match self {
            // A file that holds nothing but the array being replaced is written anew
            // under a temporary name and renamed over the old one: replaced inside
            // the file, the old array's bytes would stay in it.
            Self::Hdf5 { group, .. }
                if force
                    && looks_like_hdf5(path)
                    && hdf5::holds_only_flacarray(path, group).map_err(|e| self.hdf5_err(e))? =>
            {
                via_temp(path, |tmp| self.write_at(tmp, fa, force))
            }
            Self::Hdf5 { group, .. } => {
                hdf5::write_file_swapped(path, group, fa, force).map_err(|e| self.hdf5_err(e))
            }
            Self::Zarr { group, format, .. } => {
                zarr::write_store_swapped(path, group, fa, force, *format)
                    .map_err(|e| self.zarr_err(e))
            }
        }
    }

    /// Writes `fa` into this store's group of the file or store at `at` (this store's
    /// own path, or a temporary name that the caller renames when complete), creating
    /// it if needed.
    ///
    /// # Errors
    /// As [`Store::write`].
    pub fn write_at(&self, at: &Path, fa: &FlacArray, force: bool) -> Result<()> {
        match self {
            Self::Hdf5 { group, .. } => {
                let mut h = Hdf5Store::create(at, group, force).map_err(|e| self.hdf5_err(e))?;
                h.write(fa).map_err(|e| self.hdf5_err(e))
            }
            Self::Zarr { group, format, .. } => {
                let mut z =
                    ZarrStore::create(at, group, force, *format).map_err(|e| self.zarr_err(e))?;
                z.write(fa).map_err(|e| self.zarr_err(e))
            }
        }
    }
}

pub use crate::npy::{BLOCK_BYTES, DECODE_BLOCK_BYTES};

/// An error of [`Store::decompress_npy`]'s reading and decoding (`Backend`) or of its
/// writing (`Sink`), apart until the backend's error is named.
enum Failed<B> {
    Backend(B),
    Sink(Error),
}

impl From<hdf5::Error> for Failed<hdf5::Error> {
    fn from(e: hdf5::Error) -> Self {
        Self::Backend(e)
    }
}

impl From<zarr::Error> for Failed<zarr::Error> {
    fn from(e: zarr::Error) -> Self {
        Self::Backend(e)
    }
}

/// Runs `write` on a temporary path of `target` and renames the result over `target`
/// ([`crate::atomic::with_temp_path`]: on error the temporary path is removed and an
/// existing `target` is untouched). An [`Error::Write`] of `write` and a failure of
/// the temporary file or the rename become [`Error::Output`], naming `target`; any
/// other error of `write` (of the data, not the output) is returned as it is.
fn via_temp<T>(target: &Path, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let (mut done, mut failed) = (None, None);
    crate::atomic::with_temp_path(target, |tmp| match write(tmp) {
        Ok(v) => {
            done = Some(v);
            Ok(())
        }
        Err(Error::Write(e)) => Err(e),
        Err(e) => {
            failed = Some(e);
            Err(std::io::Error::other("aborted"))
        }
    })
    .map_err(|e| failed.take().unwrap_or(Error::Output(e)))?;
    done.ok_or_else(|| Error::Write(std::io::Error::other("nothing written")))
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
