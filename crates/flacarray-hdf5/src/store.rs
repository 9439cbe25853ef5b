//! [`Hdf5Store`]: this crate as a backend of `flacarray-core`'s storage traits.

use std::cell::OnceCell;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use flacarray_core::integrity::StoredChecksums;
use flacarray_core::layout::ARR_COMPRESSED;
use flacarray_core::{
    FlacArray, FlacArrayReader, FlacArrayWriter, StoredExtension, StoredMeta, StreamTable,
};

use crate::error::{Error, H5At, Result};
use crate::read::{Opened, open, open_group, read_table};
use crate::write::{WriteOptions, write_group};
use flacarray_core::Place;

/// One flacarray group of an HDF5 file, readable and writable through
/// [`flacarray_core::read_array`], [`flacarray_core::read_flacarray`] and
/// [`flacarray_core::write_array`].
///
/// Reading loads the group's metadata and per-stream tables once (8 bytes per stream
/// and table), then reads from `compressed` only the byte ranges asked for, so a keep
/// mask reads only the kept streams' bytes.
///
/// ```
/// use flacarray_core::{CompressOptions, ReadOptions, read_array, write_array};
/// use flacarray_hdf5::Hdf5Store;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tod.h5");
/// let data = ndarray::Array2::from_shape_fn((3, 1000), |(i, j)| (i * 1000 + j) as i32);
/// write_array(&mut Hdf5Store::create(&path, "/obs/signal", false)?, &data, &CompressOptions::default())?;
/// let store = Hdf5Store::open(&path, "/obs/signal")?;
/// let keep = [false, true, false];
/// let row = read_array(&store, &ReadOptions { keep: Some(&keep), ..Default::default() })?;
/// assert_eq!(row.array.into_array::<i32>()?.into_raw_vec_and_offset().0, data.row(1).to_vec());
/// # Ok(())
/// # }
/// ```
pub struct Hdf5Store {
    file: hdf5::File,
    path: PathBuf,
    group: String,
    replace: bool,
    loaded: OnceCell<(Opened, StreamTable)>,
}

impl std::fmt::Debug for Hdf5Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The loaded tables stay out: they can hold millions of entries.
        let (path, group, replace) = (&self.path, &self.group, self.replace);
        write!(
            f,
            "Hdf5Store {{ path: {path:?}, group: {group:?}, replace: {replace}, .. }}"
        )
    }
}

/// hdf5-metno's byte reader reports HDF5 failures as `std::io::Error`; they go back
/// into an [`hdf5::Error`] with their message.
fn io_error(e: std::io::Error) -> hdf5::Error {
    hdf5::Error::Internal(e.to_string())
}

/// Opens `path` read-only without HDF5's data sieve buffer.
///
/// HDF5 serves a small read of a contiguous dataset by reading a whole sieve buffer
/// (64 KiB by default) around it. A sample range reads a stream's 42-byte header and
/// one run of frames (a few KiB each): with the sieve, a 1% range of a 10^6-sample
/// float32 stream (1.58 MB) read 76-142 KB from the file (4.8-9.0% of the stream);
/// without it, the bytes asked for plus HDF5's metadata, 32-39 KB (2.0-2.4%). Whole
/// datasets are read in single requests larger than the sieve, which HDF5 passes
/// through unbuffered either way, so full reads do not change.
pub(crate) fn open_for_reading(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(|p| p.sieve_buf_size(0))
        .open(path)
}

fn file_error(path: &Path, action: &'static str, source: hdf5::Error) -> Error {
    Error::Hdf5 {
        place: Place::new(path.display().to_string(), "/".to_owned()),
        object: "file".to_owned(),
        action,
        source,
    }
}

impl Hdf5Store {
    /// Opens the group `group` of an existing file for reading.
    ///
    /// # Errors
    /// [`Error::Hdf5`] when the file cannot be opened; [`GroupNotFound`](flacarray_core::Error::GroupNotFound);
    /// the checks of [`read_meta`](crate::read_meta) and of the per-stream tables.
    pub fn open(path: &Path, group: &str) -> Result<Self> {
        let file = open_for_reading(path).map_err(|e| file_error(path, "opening", e))?;
        Self::open_in(file, path, group)
    }

    /// Opens (or creates) the file for writing into group `group` (created if
    /// missing). With `replace`, a FlacArray already in the group is replaced;
    /// otherwise writing there is an [`AlreadyExists`](flacarray_core::Error::AlreadyExists). An existing file keeps
    /// its other content.
    ///
    /// # Errors
    /// [`Error::Hdf5`] when the file cannot be opened or created.
    pub fn create(path: &Path, group: &str, replace: bool) -> Result<Self> {
        let file =
            hdf5::File::append(path).map_err(|e| file_error(path, "opening for writing", e))?;
        Ok(Self {
            file,
            path: path.to_owned(),
            group: group.to_owned(),
            replace,
            loaded: OnceCell::new(),
        })
    }

    /// [`Hdf5Store::open`] on a file already opened by the caller, for example
    /// through MPI-IO (`hdf5::File::with_options()` with an `mpio` file access
    /// property list); `path` names the file in messages.
    ///
    /// # Errors
    /// As [`Hdf5Store::open`], but for opening the file.
    pub fn open_in(file: hdf5::File, path: &Path, group: &str) -> Result<Self> {
        let store = Self {
            file,
            path: path.to_owned(),
            group: group.to_owned(),
            replace: false,
            loaded: OnceCell::new(),
        };
        store.load()?;
        Ok(store)
    }

    /// `flacarray_software_version` of the group, if present.
    ///
    /// # Errors
    /// As [`Hdf5Store::open`].
    pub fn software_version(&self) -> Result<Option<&str>> {
        self.load().map(|(o, _)| o.software_version.as_deref())
    }

    fn load(&self) -> Result<&(Opened, StreamTable)> {
        if let Some(l) = self.loaded.get() {
            return Ok(l);
        }
        let group = open_group(&self.file, &self.group)?;
        let opened = open(&group)?;
        let table = read_table(&opened)?;
        Ok(self.loaded.get_or_init(|| (opened, table)))
    }
}

impl FlacArrayReader for Hdf5Store {
    type Error = Error;

    fn metadata(&self) -> Result<StoredMeta> {
        Ok(self.load()?.0.meta.clone())
    }

    fn read_stream_table(&self, meta: &StoredMeta, rows: Range<usize>) -> Result<StreamTable> {
        let (o, t) = self.load()?;
        let streams = o.ctx.row_streams(meta, rows, t.starts.len())?;
        Ok(StreamTable {
            starts: t.starts[streams.clone()].to_vec(),
            nbytes: t.nbytes[streams.clone()].to_vec(),
            scaling: t.scaling.range(streams),
        })
    }

    fn extension(&self, _meta: &StoredMeta) -> Result<StoredExtension> {
        let (o, _) = self.load()?;
        Ok(o.extension.clone())
    }

    fn checksums(&self) -> Result<StoredChecksums> {
        let (o, _) = self.load()?;
        Ok(StoredChecksums {
            attr: o.checksums.clone(),
            software_version: o.software_version.clone(),
        })
    }

    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<()> {
        let (o, _) = self.load()?;
        let bad =
            || Error::InvalidArgument(format!("byte range at {start} does not fit in memory"));
        let s = usize::try_from(start).map_err(|_| bad())?;
        let e = s.checked_add(out.len()).ok_or_else(bad)?;
        if e > o.compressed_len {
            return Err(o
                .ctx
                .corrupt(
                    "dataset compressed",
                    format!(
                        "bytes {s}..{e} lie outside compressed ({} bytes)",
                        o.compressed_len
                    ),
                )
                .into());
        }
        if out.is_empty() {
            return Ok(());
        }
        // hdf5-metno's byte reader hands the caller's slice to H5Dread: no buffer of
        // its own and no copy.
        let label = format!("dataset {ARR_COMPRESSED}");
        let mut reader = o
            .compressed
            .as_byte_reader()
            .map_err(o.ctx.h5(&label, "opening a byte reader"))?;
        reader
            .seek(SeekFrom::Start(start))
            .map_err(|e| o.ctx.h5(&label, "reading a byte range")(io_error(e)))?;
        let n = reader
            .read(out)
            .map_err(|e| o.ctx.h5(&label, "reading a byte range")(io_error(e)))?;
        if n != out.len() {
            return Err(o
                .ctx
                .corrupt(label, format!("bytes {s}..{e}: read {n} bytes"))
                .into());
        }
        Ok(())
    }
}

impl FlacArrayWriter for Hdf5Store {
    type Error = Error;

    /// Writes `arr` (format 1, or 2 for what only format 2 stores) with
    /// [`write_group`](crate::write_group), then flushes the file.
    fn write(&mut self, arr: &FlacArray) -> Result<()> {
        self.loaded = OnceCell::new();
        write_group(
            &self.file,
            &self.group,
            arr,
            WriteOptions {
                replace: self.replace,
            },
        )?;
        self.file
            .flush()
            .map_err(|e| file_error(&self.path, "flushing", e))
    }
}
