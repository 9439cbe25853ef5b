//! Writing a flacarray group (format 1) into a Zarr v3 or v2 store.

use flacarray_core::integrity::Checksums;
use std::sync::Arc;

use flacarray_core::{DType, FlacArray, StoredExtension, StreamScaling};
use serde_json::{Map, Value, json};
use zarrs::array::{
    Array, ArrayMetadata, ArrayMetadataOptions, ArrayMetadataV2, ArrayMetadataV3, CodecOptions,
    Element,
};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::{Group, GroupCreateError, GroupMetadata, GroupMetadataV3};
use zarrs::metadata::v2::GroupMetadataV2;
use zarrs::storage::{StorePrefix, WritableStorageTraits};

use crate::error::{Ctx, Error, REPLACE_HINT, Result, ZarrAt};
use crate::names::{
    ALL_ARRAYS, ARR_COMPRESSED, ARR_GAINS, ARR_NBYTES, ARR_NONFINITE_FLAGS, ARR_NONFINITE_RUNS,
    ARR_OFFSETS, ARR_STARTS, ATTR_CHECKSUMS, ATTR_DTYPE, ATTR_FLAC_CHANNELS, ATTR_FORMAT_VERSION,
    ATTR_SOFTWARE_VERSION, ATTR_STREAM_SIZE, SOFTWARE_VERSION,
};
use crate::read::{child_path, open_array};

/// The Zarr format of a store this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZarrFormat {
    /// Zarr format 3 (`zarr.json`), codecs `bytes` (little-endian) + `zstd` (level 0):
    /// what zarr-python 3 writes by default.
    #[default]
    V3,
    /// Zarr format 2 (`.zgroup`, `.zarray`, `.zattrs`), Blosc (lz4, clevel 5, byte
    /// shuffle): what zarr-python 2 writes by default.
    V2,
}

/// Default chunk length of `compressed` in bytes (2 MiB). In a v3 store such a chunk
/// is a shard of [`COMPRESSED_INNER_CHUNK`]-byte inner chunks.
pub const DEFAULT_COMPRESSED_CHUNK: u64 = 2 << 20;
/// Inner chunk length of the shards of `compressed` in a v3 store (16 KiB): a sample
/// range of a stream reads the shard's index (16 bytes per inner chunk, 2 KiB for a
/// full shard) and only the inner chunks that hold its frames, about two for a range
/// inside one 4,096-sample frame, instead of the whole 2 MiB chunk. The index and the
/// zstd frame of each inner chunk add about 0.2% to the stored size.
pub const COMPRESSED_INNER_CHUNK: u64 = 16 << 10;
/// Per-stream tables are written in chunks of whole rows of at most this many bytes
/// (one chunk up to 512 Ki streams).
const TABLE_CHUNK_BYTES: u64 = 4 << 20;

/// Where and how to write.
pub(crate) struct Target<'a> {
    pub(crate) store: &'a Arc<FilesystemStore>,
    pub(crate) ctx: &'a Ctx,
    pub(crate) node: &'a str,
    pub(crate) replace: bool,
    pub(crate) format: ZarrFormat,
    pub(crate) compressed_chunk: u64,
}

fn metadata_options() -> ArrayMetadataOptions {
    // No `_zarrs` attribute in the arrays' attributes.
    ArrayMetadataOptions::default().with_include_zarrs_metadata(false)
}

fn empty_group(format: ZarrFormat, attrs: Map<String, Value>) -> GroupMetadata {
    match format {
        ZarrFormat::V3 => GroupMetadata::V3(GroupMetadataV3::new().with_attributes(attrs)),
        ZarrFormat::V2 => {
            let mut m = GroupMetadataV2::new();
            m.attributes = attrs;
            GroupMetadata::V2(m)
        }
    }
}

fn group_format(m: &GroupMetadata) -> ZarrFormat {
    match m {
        GroupMetadata::V3(_) => ZarrFormat::V3,
        GroupMetadata::V2(_) => ZarrFormat::V2,
    }
}

impl Target<'_> {
    fn store_group(&self, path: &str, meta: GroupMetadata) -> Result<()> {
        let g = Group::new_with_metadata(self.store.clone(), path, meta)
            .map_err(self.ctx.zarr("group metadata", "creating"))?;
        g.store_metadata()
            .map_err(self.ctx.zarr("group metadata", "writing"))
    }

    /// The error for writing `self.format` where group `path` exists in `found`.
    fn mixed_formats(&self, path: &str, found: ZarrFormat) -> Error {
        self.ctx
            .unsupported(
                "group metadata",
                format!(
                    "group {path} exists in Zarr format {found:?}; writing format {:?} into it \
                 would mix both",
                    self.format
                ),
            )
            .into()
    }

    /// Opens the group's metadata; `None` when there is none.
    fn existing_group(&self, path: &str) -> Result<Option<GroupMetadata>> {
        match Group::open(self.store.clone(), path) {
            Ok(g) => Ok(Some(g.metadata().clone())),
            Err(GroupCreateError::MissingMetadata) => Ok(None),
            Err(e) => Err(self.ctx.zarr("group metadata", "opening")(e)),
        }
    }

    /// Writes `arr` into the group: checks what is there, erases a FlacArray being
    /// replaced, writes the arrays, then the group attributes (last, so that an
    /// interrupted write leaves no `flacarray_format_version`).
    pub(crate) fn write(&self, arr: &FlacArray) -> Result<()> {
        let ctx = self.ctx;
        if arr.format_version() == 0 {
            return Err(Error::InvalidArgument(
                "only formats 1 and 2 are written; decode and recompress format-0 data".to_owned(),
            ));
        }
        // Parent groups first (zarr-python navigates through them).
        let parts: Vec<&str> = self.node.split('/').filter(|c| !c.is_empty()).collect();
        for k in 0..parts.len() {
            let parent = format!("/{}", parts[..k].join("/"));
            match self.existing_group(&parent)? {
                None => self.store_group(&parent, empty_group(self.format, Map::new()))?,
                Some(m) if group_format(&m) != self.format => {
                    return Err(self.mixed_formats(&parent, group_format(&m)));
                }
                Some(_) => {}
            }
        }

        let mut attrs = match self.existing_group(self.node)? {
            None => Map::new(),
            Some(m) => {
                if group_format(&m) != self.format {
                    return Err(self.mixed_formats(self.node, group_format(&m)));
                }
                match m {
                    GroupMetadata::V3(m) => m.attributes,
                    GroupMetadata::V2(m) => m.attributes,
                }
            }
        };
        let mut present: Vec<String> = Vec::new();
        if attrs.contains_key(ATTR_FORMAT_VERSION) {
            present.push(format!("attribute {ATTR_FORMAT_VERSION}"));
        }
        for name in ALL_ARRAYS {
            if self.node_exists(name)? {
                present.push(format!("array {name}"));
            }
        }
        if let Some(first) = present.first()
            && !self.replace
        {
            return Err(ctx.already_exists(first.clone(), REPLACE_HINT).into());
        }
        // Unmark the group, then remove the old arrays.
        for key in [
            ATTR_FORMAT_VERSION,
            ATTR_SOFTWARE_VERSION,
            ATTR_FLAC_CHANNELS,
            ATTR_CHECKSUMS,
            ATTR_DTYPE,
        ] {
            attrs.remove(key);
        }
        self.store_group(self.node, empty_group(self.format, attrs.clone()))?;
        for name in ALL_ARRAYS {
            let label = format!("array {name}");
            let prefix = StorePrefix::new(format!(
                "{}/",
                child_path(self.node, name).trim_start_matches('/')
            ))
            .map_err(ctx.zarr(&label, "erasing"))?;
            self.store
                .erase_prefix(&prefix)
                .map_err(ctx.zarr(&label, "erasing"))?;
        }

        let too_big = |what: &str| Error::InvalidArgument(format!("{what} exceeds int64"));
        let to_i64 = |v: &[u64], what: &str| -> Result<Vec<i64>> {
            v.iter()
                .map(|&x| i64::try_from(x).map_err(|_| too_big(what)))
                .collect()
        };
        let leading: Vec<u64> = arr.leading_shape().iter().map(|&d| d as u64).collect();
        let stream_size =
            i64::try_from(arr.stream_size()).map_err(|_| too_big("the stream size"))?;
        let mut size_attr = Map::new();
        size_attr.insert(ATTR_STREAM_SIZE.to_owned(), json!(stream_size));
        self.write_table(
            ARR_STARTS,
            &leading,
            &to_i64(arr.stream_starts(), "a stream start")?,
            size_attr,
        )?;
        self.write_table(
            ARR_NBYTES,
            &leading,
            &to_i64(arr.stream_nbytes(), "a stream length")?,
            Map::new(),
        )?;
        match arr.scaling() {
            StreamScaling::None => {}
            StreamScaling::F32 { offsets, gains } => {
                self.write_table(ARR_OFFSETS, &leading, offsets, Map::new())?;
                self.write_table(ARR_GAINS, &leading, gains, Map::new())?;
            }
            StreamScaling::F64 { offsets, gains } => {
                self.write_table(ARR_OFFSETS, &leading, offsets, Map::new())?;
                self.write_table(ARR_GAINS, &leading, gains, Map::new())?;
            }
            StreamScaling::I64Offsets(_) => {
                return Err(Error::InvalidArgument(
                    "format-0 int64 offsets cannot be written".to_owned(),
                ));
            }
        }
        let len = arr.compressed().len() as u64;
        let mut chunk = len.clamp(1, self.compressed_chunk.max(1));
        if chunk > COMPRESSED_INNER_CHUNK {
            // A shard holds whole inner chunks (the last shard may reach past the end).
            chunk = chunk.div_ceil(COMPRESSED_INNER_CHUNK) * COMPRESSED_INNER_CHUNK;
        }
        self.write_array_sharded(
            ARR_COMPRESSED,
            &[len],
            &[chunk],
            Some(COMPRESSED_INNER_CHUNK),
            arr.compressed(),
            Map::new(),
        )?;

        // What 0.4.1's layout has no place for (format 2 arrays, recorded type).
        let ext = StoredExtension::of(arr);
        if let Some((flags, runs)) = &ext.nonfinite {
            self.write_table(ARR_NONFINITE_FLAGS, &leading, flags, Map::new())?;
            let len = runs.len() as u64;
            let chunk = len.clamp(1, self.compressed_chunk.max(1));
            self.write_array(ARR_NONFINITE_RUNS, &[len], &[chunk], runs, Map::new())?;
        }
        if let Some(d) = &ext.dtype {
            attrs.insert(ATTR_DTYPE.to_owned(), json!(d));
        }
        let channels = match arr.dtype() {
            DType::Int32 | DType::Float32 => "1",
            DType::Int64 | DType::Float64 => "2",
        };
        attrs.insert(
            ATTR_FORMAT_VERSION.to_owned(),
            json!(arr.format_version().to_string()),
        );
        attrs.insert(ATTR_SOFTWARE_VERSION.to_owned(), json!(SOFTWARE_VERSION));
        attrs.insert(ATTR_FLAC_CHANNELS.to_owned(), json!(channels));
        attrs.insert(
            ATTR_CHECKSUMS.to_owned(),
            json!(Checksums::of(arr, SOFTWARE_VERSION).to_attr()),
        );
        self.store_group(self.node, empty_group(self.format, attrs))
    }

    fn node_exists(&self, name: &str) -> Result<bool> {
        Ok(open_array(self.store, self.ctx, self.node, name)?.is_some())
    }

    /// A per-stream table of the leading shape, chunked along axis 0 in whole rows.
    /// Float tables (offsets, gains) have the fill value NaN: zarr-python writes no
    /// chunk equal to the fill value, and with 0 a lost chunk of offsets would read as
    /// zeros indistinguishable from real ones; a lost chunk now reads as NaN, which
    /// the validator refuses.
    fn write_table<T: ZElement>(
        &self,
        name: &str,
        leading: &[u64],
        data: &[T],
        attrs: Map<String, Value>,
    ) -> Result<()> {
        let per_row: u64 = leading.iter().skip(1).product();
        let row_bytes = per_row.saturating_mul(8).max(1);
        let rows = leading.first().copied().unwrap_or(1);
        let chunk_rows = (TABLE_CHUNK_BYTES / row_bytes).clamp(1, rows.max(1));
        let mut chunk: Vec<u64> = leading.iter().map(|&d| d.max(1)).collect();
        if let Some(c0) = chunk.first_mut() {
            *c0 = chunk_rows;
        }
        self.write_array(name, leading, &chunk, data, attrs)
    }

    /// Creates array `name` with the given shape and chunk shape (only axis 0 may be
    /// split into several chunks) and writes `data` (C order) chunk by chunk. Chunks
    /// equal to the fill value 0 are not written, as zarr-python does.
    fn write_array<T: ZElement>(
        &self,
        name: &str,
        shape: &[u64],
        chunk: &[u64],
        data: &[T],
        attrs: Map<String, Value>,
    ) -> Result<()> {
        self.write_array_sharded(name, shape, chunk, None, data, attrs)
    }

    /// [`Target::write_array`] of a 1-d array whose chunks are, in a v3 store, shards
    /// of `inner`-element inner chunks (each `bytes` + `zstd`, the index at the end of
    /// the shard, `crc32c`-checked), when `inner` is smaller than the chunk.
    fn write_array_sharded<T: ZElement>(
        &self,
        name: &str,
        shape: &[u64],
        chunk: &[u64],
        inner: Option<u64>,
        data: &[T],
        attrs: Map<String, Value>,
    ) -> Result<()> {
        let ctx = self.ctx;
        let label = format!("array {name}");
        let metadata = match self.format {
            ZarrFormat::V3 => {
                // An empty configuration serializes as `{"name": "bytes"}` (what
                // zarr-python writes for one-byte types); without one, zarrs would
                // write the bare string "bytes", which zarr-python 3.1 rejects.
                let bytes = if T::SIZE == 1 {
                    json!({"name": "bytes", "configuration": {}})
                } else {
                    json!({"name": "bytes", "configuration": {"endian": "little"}})
                };
                let zstd =
                    json!({"name": "zstd", "configuration": {"level": 0, "checksum": false}});
                let codecs = match inner.filter(|&k| chunk.len() == 1 && k < chunk[0]) {
                    Some(k) => json!([{
                        "name": "sharding_indexed",
                        "configuration": {
                            "chunk_shape": [k],
                            "codecs": [bytes, zstd],
                            "index_codecs": [
                                {"name": "bytes", "configuration": {"endian": "little"}},
                                {"name": "crc32c"},
                            ],
                            "index_location": "end",
                        },
                    }]),
                    None => json!([bytes, zstd]),
                };
                let m = json!({
                    "zarr_format": 3,
                    "node_type": "array",
                    "shape": shape,
                    "data_type": T::V3_NAME,
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunk}},
                    "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                    "fill_value": T::fill(),
                    "codecs": codecs,
                    "attributes": attrs,
                    "storage_transformers": [],
                });
                ArrayMetadata::V3(
                    serde_json::from_value::<ArrayMetadataV3>(m)
                        .map_err(ctx.zarr(&label, "building the metadata"))?,
                )
            }
            ZarrFormat::V2 => {
                let m = json!({
                    "zarr_format": 2,
                    "shape": shape,
                    "chunks": chunk,
                    "dtype": T::V2_NAME,
                    "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
                    "fill_value": T::fill(),
                    "order": "C",
                    "filters": null,
                    "dimension_separator": ".",
                });
                let mut m = serde_json::from_value::<ArrayMetadataV2>(m)
                    .map_err(ctx.zarr(&label, "building the metadata"))?;
                m.attributes = attrs;
                ArrayMetadata::V2(m)
            }
        };
        let array =
            Array::new_with_metadata(self.store.clone(), &child_path(self.node, name), metadata)
                .map_err(ctx.zarr(&label, "creating"))?;
        array
            .store_metadata_opt(&metadata_options())
            .map_err(ctx.zarr(&label, "writing the metadata"))?;

        // Elements per chunk step along axis 0, and per full chunk.
        let inner: u64 = shape.iter().skip(1).product();
        let chunk_elems: u64 = chunk.iter().product();
        let rows = shape.first().copied().unwrap_or(0);
        let step = chunk.first().copied().unwrap_or(1).max(1);
        let as_usize = |v: u64| {
            usize::try_from(v).map_err(|_| Error::InvalidArgument(format!("{label}: too large")))
        };
        let mut idx = vec![0u64; shape.len()];
        let mut row = 0u64;
        while row < rows {
            let lo = as_usize(row * inner)?;
            let hi = as_usize((row + step).min(rows) * inner)?;
            let part = data.get(lo..hi).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{label}: {} values for shape {shape:?}",
                    data.len()
                ))
            })?;
            let mut buf: Vec<T> = Vec::with_capacity(as_usize(chunk_elems)?);
            buf.extend_from_slice(part);
            buf.resize(as_usize(chunk_elems)?, T::ZERO);
            if let Some(i0) = idx.first_mut() {
                *i0 = row / step;
            }
            array
                .store_chunk_opt(&idx, buf, &CodecOptions::default())
                .map_err(ctx.zarr(&label, "writing a chunk"))?;
            row += step;
        }
        Ok(())
    }
}

/// The element types written, with their Zarr names.
pub(crate) trait ZElement: Element + Copy + 'static {
    const V3_NAME: &'static str;
    const V2_NAME: &'static str;
    const SIZE: usize;
    const ZERO: Self;
    fn fill() -> Value;
}

impl ZElement for u8 {
    const V3_NAME: &'static str = "uint8";
    const V2_NAME: &'static str = "|u1";
    const SIZE: usize = 1;
    const ZERO: Self = 0;
    fn fill() -> Value {
        json!(0)
    }
}
impl ZElement for i64 {
    const V3_NAME: &'static str = "int64";
    const V2_NAME: &'static str = "<i8";
    const SIZE: usize = 8;
    const ZERO: Self = 0;
    fn fill() -> Value {
        json!(0)
    }
}
impl ZElement for f32 {
    const V3_NAME: &'static str = "float32";
    const V2_NAME: &'static str = "<f4";
    const SIZE: usize = 4;
    const ZERO: Self = 0.0;
    fn fill() -> Value {
        json!("NaN")
    }
}
impl ZElement for f64 {
    const V3_NAME: &'static str = "float64";
    const V2_NAME: &'static str = "<f8";
    const SIZE: usize = 8;
    const ZERO: Self = 0.0;
    fn fill() -> Value {
        json!("NaN")
    }
}
