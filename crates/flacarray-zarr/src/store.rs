//! [`ZarrStore`]: this crate as a backend of `flacarray-core`'s storage traits.

use std::cell::OnceCell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flacarray_core::integrity::StoredChecksums;
use flacarray_core::{
    FlacArray, FlacArrayReader, FlacArrayWriter, StoredExtension, StoredMeta, StreamTable,
};
use zarrs::filesystem::FilesystemStore;

use crate::error::{Ctx, Error, Result, ZarrAt};
use crate::read::{Loaded, load, node_path};
use crate::write::{DEFAULT_COMPRESSED_CHUNK, Target, ZarrFormat};
use flacarray_core::Place;

/// One flacarray group of a Zarr directory store (format v3 or v2), readable and
/// writable through [`flacarray_core::read_array`], [`flacarray_core::read_flacarray`]
/// and [`flacarray_core::write_array`].
///
/// Reading loads the group's metadata and per-stream tables once (8 bytes per stream
/// and table), then reads from `compressed` only the chunks that overlap the byte
/// ranges asked for, so a keep mask reads only the chunks holding the kept streams.
/// Chunks missing from the store read as the fill value 0, as zarr-python does not
/// write chunks equal to it.
///
/// ```
/// use flacarray_core::{CompressOptions, ReadOptions, read_array, write_array};
/// use flacarray_zarr::{ZarrFormat, ZarrStore};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tod.zarr");
/// let data = ndarray::Array2::from_shape_fn((3, 1000), |(i, j)| (i * 1000 + j) as i32);
/// let mut store = ZarrStore::create(&path, "/obs/signal", false, ZarrFormat::V3)?;
/// write_array(&mut store, &data, &CompressOptions::default())?;
/// let store = ZarrStore::open(&path, "/obs/signal")?;
/// let keep = [false, true, false];
/// let row = read_array(&store, &ReadOptions { keep: Some(&keep), ..Default::default() })?;
/// assert_eq!(row.array.into_array::<i32>()?.into_raw_vec_and_offset().0, data.row(1).to_vec());
/// # Ok(())
/// # }
/// ```
pub struct ZarrStore {
    store: Arc<FilesystemStore>,
    path: PathBuf,
    ctx: Ctx,
    node: String,
    replace: bool,
    format: ZarrFormat,
    compressed_chunk: u64,
    loaded: OnceCell<Loaded>,
}

impl std::fmt::Debug for ZarrStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZarrStore")
            .field("path", &self.path)
            .field("group", &self.node)
            .field("replace", &self.replace)
            .field("format", &self.format)
            .field("compressed_chunk", &self.compressed_chunk)
            .finish_non_exhaustive()
    }
}

fn ctx_of(path: &Path, node: &str) -> Ctx {
    Place::new(path.display().to_string(), node)
}

impl ZarrStore {
    /// Opens the group `group` (`"/"` for the store root, `"flac"` or `"/a/b"` for
    /// sub-groups) of an existing Zarr directory store for reading, and checks it.
    ///
    /// Format 1 (flacarray ≥ 0.3) and format 0 (0.2.x, all four dtypes) groups are
    /// read, from Zarr v3 or v2 stores, with any chunk shapes and the codecs
    /// zarr-python uses (zstd, Blosc, gzip).
    ///
    /// # Errors
    /// [`GroupNotFound`](flacarray_core::Error::GroupNotFound) when the store or group does not exist;
    /// [`NotFlacArray`](flacarray_core::Error::NotFlacArray) when the group has no `flacarray_format_version`;
    /// [`CorruptGroup`](flacarray_core::Error::CorruptGroup) / [`UnsupportedGroup`](flacarray_core::Error::UnsupportedGroup) / [`Error::Zarr`] for missing or
    /// inconsistent arrays and attributes. Every one names the store, the group and
    /// the array or attribute.
    pub fn open(path: &Path, group: &str) -> Result<Self> {
        let node = node_path(group);
        let ctx = ctx_of(path, &node);
        if !path.is_dir() {
            return Err(ctx.not_found("the store directory does not exist").into());
        }
        let store = FilesystemStore::new(path).map_err(|e| ctx.zarr("store", "opening")(e))?;
        let this = Self {
            store: Arc::new(store),
            path: path.to_owned(),
            ctx,
            node,
            replace: false,
            format: ZarrFormat::V3,
            compressed_chunk: DEFAULT_COMPRESSED_CHUNK,
            loaded: OnceCell::new(),
        };
        this.load()?;
        Ok(this)
    }

    /// Opens (or creates) the directory store at `path` for writing into group
    /// `group` (created if missing, with any missing parent groups) in Zarr `format`.
    /// With `replace`, a FlacArray already in the group is replaced; otherwise
    /// writing there is an [`AlreadyExists`](flacarray_core::Error::AlreadyExists). The store's other content and
    /// the group's other attributes are kept.
    ///
    /// # Errors
    /// [`Error::Zarr`] when the directory cannot be created or opened.
    pub fn create(path: &Path, group: &str, replace: bool, format: ZarrFormat) -> Result<Self> {
        let node = node_path(group);
        let ctx = ctx_of(path, &node);
        std::fs::create_dir_all(path)
            .map_err(|e| ctx.zarr("store", "creating the directory")(e))?;
        let store = FilesystemStore::new(path).map_err(|e| ctx.zarr("store", "opening")(e))?;
        Ok(Self {
            store: Arc::new(store),
            path: path.to_owned(),
            ctx,
            node,
            replace,
            format,
            compressed_chunk: DEFAULT_COMPRESSED_CHUNK,
            loaded: OnceCell::new(),
        })
    }

    /// Sets the chunk length, in bytes, of the `compressed` array written (default
    /// [`DEFAULT_COMPRESSED_CHUNK`](crate::DEFAULT_COMPRESSED_CHUNK), 2 MiB; a
    /// smaller `compressed` is one chunk). Smaller chunks let keep-mask reads fetch
    /// less; 0 is taken as 1.
    #[must_use]
    pub fn with_compressed_chunk(mut self, bytes: u64) -> Self {
        self.compressed_chunk = bytes.max(1);
        self
    }

    /// The store's directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The group's path inside the store (`/` for the root).
    #[must_use]
    pub fn group(&self) -> &str {
        &self.node
    }

    /// `flacarray_software_version` of the group, if present.
    ///
    /// # Errors
    /// As [`ZarrStore::open`].
    pub fn software_version(&self) -> Result<Option<&str>> {
        Ok(self.load()?.software_version.as_deref())
    }

    fn load(&self) -> Result<&Loaded> {
        if let Some(l) = self.loaded.get() {
            return Ok(l);
        }
        let l = load(&self.store, self.ctx.clone(), &self.node)?;
        Ok(self.loaded.get_or_init(|| l))
    }
}

impl FlacArrayReader for ZarrStore {
    type Error = Error;

    fn metadata(&self) -> Result<StoredMeta> {
        Ok(self.load()?.meta.clone())
    }

    fn read_stream_table(&self, meta: &StoredMeta, rows: Range<usize>) -> Result<StreamTable> {
        let l = self.load()?;
        let streams = l.ctx.row_streams(meta, rows, l.starts.len())?;
        let sel: Vec<usize> = streams.clone().collect();
        Ok(StreamTable {
            starts: l.starts[streams.clone()].to_vec(),
            nbytes: l.nbytes[streams].to_vec(),
            scaling: l.scaling.select(&sel),
        })
    }

    fn extension(&self, _meta: &StoredMeta) -> Result<StoredExtension> {
        Ok(self.load()?.extension.clone())
    }

    fn checksums(&self) -> Result<StoredChecksums> {
        let l = self.load()?;
        Ok(StoredChecksums {
            attr: l.checksums.clone(),
            software_version: l.software_version.clone(),
        })
    }

    fn read_bytes(&self, start: u64, out: &mut [u8]) -> Result<()> {
        self.load()?.read_range(start, out)
    }
}

impl FlacArrayWriter for ZarrStore {
    type Error = Error;

    /// Writes `arr` in format 1, in the store's Zarr format.
    fn write(&mut self, arr: &FlacArray) -> Result<()> {
        self.loaded = OnceCell::new();
        Target {
            store: &self.store,
            ctx: &self.ctx,
            node: &self.node,
            replace: self.replace,
            format: self.format,
            compressed_chunk: self.compressed_chunk,
        }
        .write(arr)
    }
}
