//! Opening a flacarray group of a Zarr store: metadata checks, the per-stream tables,
//! and byte ranges of `compressed`.

use std::sync::{Arc, Mutex};

use flacarray_core::layout::infer_dtype;
use flacarray_core::{DType, StoredExtension, StoredMeta, StreamScaling, StreamTable, validate};
use serde_json::Value;
use zarrs::array::{Array, ArrayCreateError, ArraySubset, ElementOwned, data_type};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::Group;
use zarrs::storage::{ListableStorageTraits, StorePrefix};

use crate::error::{Ctx, Error, Result, ZarrAt};
use crate::names::{
    ALL_ARRAYS, ARR_COMPRESSED, ARR_GAINS, ARR_NBYTES, ARR_NONFINITE_FLAGS, ARR_NONFINITE_RUNS,
    ARR_OFFSETS, ARR_STARTS, ATTR_CHECKSUMS, ATTR_DTYPE, ATTR_FLAC_CHANNELS, ATTR_FORMAT_VERSION,
    ATTR_SOFTWARE_VERSION, ATTR_STREAM_SIZE,
};

/// A declared `compressed` length is accepted up to this many times the bytes its
/// chunks occupy on disk (FLAC bytes do not compress anywhere near this much)...
const EXPANSION_CAP: u64 = 1024;
/// ... or up to this many bytes whatever the chunks hold.
const EXPANSION_FLOOR: u64 = 64 << 20;
/// Decoding one chunk allocates its full size: chunks larger than both this and
/// their array are refused.
const CHUNK_BYTES_CAP: u64 = 64 << 20;

pub(crate) type ZArray = Array<FilesystemStore>;

/// Everything a read needs, loaded once: the checked metadata, the whole stream
/// table, and the opened `compressed` array.
pub(crate) struct Loaded {
    pub(crate) ctx: Ctx,
    pub(crate) meta: StoredMeta,
    pub(crate) software_version: Option<String>,
    /// The group attribute `flacarray_rs_checksums`, if present.
    pub(crate) checksums: Option<String>,
    pub(crate) starts: Vec<u64>,
    pub(crate) nbytes: Vec<u64>,
    pub(crate) scaling: StreamScaling,
    /// Stream starts sorted, for the marker check of [`read_range`].
    sorted_starts: Vec<u64>,
    compressed: ZArray,
    /// Whether `compressed` is sharded (`sharding_indexed`): zarrs then reads only
    /// the inner chunks a read needs.
    sharded: bool,
    /// The last chunks of an unsharded `compressed` decoded for reads of part of them
    /// (start and bytes, the newest last, at most [`CACHED_PIECES`]). A sample range
    /// makes a few small reads per stream (frame headers, then frames) that mostly
    /// fall in the same chunks, and streams share chunks; without them every read
    /// fetched and decoded its whole chunk again (a 1% range of a v2 store read 8-31
    /// times the bytes of a full decode).
    cache: Mutex<Vec<(u64, Vec<u8>)>>,
    /// What the group stores beyond flacarray 0.4.1's layout (checked by the core's
    /// reader against the table).
    pub(crate) extension: StoredExtension,
}

/// Chunks of `compressed` kept decoded for reads of part of a chunk (see
/// `Loaded::cache`): enough for the frame-header probes and the frames of a range.
const CACHED_PIECES: usize = 4;

/// A byte offset inside a buffer that holds it (so below `usize::MAX`).
fn off(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Whether a 1-d array is sharded (its first codec `sharding_indexed`).
fn is_sharded(a: &ZArray) -> bool {
    serde_json::to_value(a.metadata()).ok().is_some_and(|m| {
        m.get("codecs")
            .and_then(|c| {
                c.get(0)?
                    .get("name")?
                    .as_str()
                    .map(|n| n == "sharding_indexed")
            })
            .unwrap_or(false)
    })
}

/// Reads the attribute `flacarray_dtype` and the arrays `stream_nonfinite` (uint8,
/// leading shape) and `nonfinite_runs` (uint8, 1-d), when present.
fn read_extension(
    store: &Arc<FilesystemStore>,
    ctx: &Ctx,
    node: &str,
    attrs: &serde_json::Map<String, Value>,
    leading: &[u64],
) -> Result<StoredExtension> {
    let dtype = match attrs.get(ATTR_DTYPE) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(ctx
                .corrupt(
                    format!("attribute {ATTR_DTYPE}"),
                    format!("must be a string, found {other}"),
                )
                .into());
        }
    };
    let flags = open_array(store, ctx, node, ARR_NONFINITE_FLAGS)?;
    let runs = open_array(store, ctx, node, ARR_NONFINITE_RUNS)?;
    let nonfinite = match ctx.nonfinite_arrays("arrays", flags, runs)? {
        None => None,
        Some((f, r)) => {
            let flags_label = format!("array {ARR_NONFINITE_FLAGS}");
            let runs_label = format!("array {ARR_NONFINITE_RUNS}");
            for (label, a) in [(&flags_label, &f), (&runs_label, &r)] {
                if *a.data_type() != data_type::uint8() {
                    return Err(ctx
                        .corrupt(
                            label,
                            format!("must hold uint8 values, found {}", a.data_type()),
                        )
                        .into());
                }
                check_chunk_size(ctx, label, a)?;
            }
            require_shape(ctx, &flags_label, &f, leading)?;
            let [len] = r.shape()[..] else {
                return Err(ctx
                    .corrupt(
                        runs_label,
                        format!("must be 1-d, found shape {:?}", r.shape()),
                    )
                    .into());
            };
            check_plausible_length(store, ctx, node, ARR_NONFINITE_RUNS, len)?;
            Some((
                read_all::<u8>(ctx, &flags_label, &f)?,
                read_all::<u8>(ctx, &runs_label, &r)?,
            ))
        }
    };
    Ok(StoredExtension { dtype, nonfinite })
}

/// The zarrs node path of a group given as `"/"`, `""`, `"a/b"` or `"/a/b/"`.
pub(crate) fn node_path(group: &str) -> String {
    let parts: Vec<&str> = group.split('/').filter(|c| !c.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

/// The node path of array `name` inside the group at `node`.
pub(crate) fn child_path(node: &str, name: &str) -> String {
    if node == "/" {
        format!("/{name}")
    } else {
        format!("{node}/{name}")
    }
}

/// Opens array `name` of the group; `None` when it has no metadata.
pub(crate) fn open_array(
    store: &Arc<FilesystemStore>,
    ctx: &Ctx,
    node: &str,
    name: &str,
) -> Result<Option<ZArray>> {
    let label = format!("array {name}");
    match Array::open(store.clone(), &child_path(node, name)) {
        Ok(a) => Ok(Some(a)),
        Err(ArrayCreateError::MissingMetadata) => Ok(None),
        Err(e) => Err(ctx.zarr(&label, "opening")(e)),
    }
}

/// A JSON attribute as an integer: a JSON integer, or a string holding one (0.4.1
/// writes `"1"`, 0.2.x wrote `0`).
fn json_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn require_group(
    store: &Arc<FilesystemStore>,
    ctx: &Ctx,
    node: &str,
) -> Result<Group<FilesystemStore>> {
    match Group::open(store.clone(), node) {
        Ok(g) => Ok(g),
        Err(zarrs::group::GroupCreateError::MissingMetadata) => Err(ctx
            .not_found("no Zarr group here (neither zarr.json nor .zgroup)")
            .into()),
        Err(e) => Err(ctx.zarr("group metadata", "opening")(e)),
    }
}

/// Opens and checks the group at `node`, and reads its stream table.
pub(crate) fn load(store: &Arc<FilesystemStore>, ctx: Ctx, node: &str) -> Result<Loaded> {
    let ctx = &ctx;
    check_file_types(store, ctx, node)?;
    let group = require_group(store, ctx, node)?;
    let attrs = group.attributes();

    let version = attrs
        .get(ATTR_FORMAT_VERSION)
        .ok_or_else(|| Error::from(ctx.not_flacarray()))?;
    let format_version = ctx.format_version(version, json_int(version))?;
    let software_version = attrs.get(ATTR_SOFTWARE_VERSION).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });

    let checksums = attrs.get(ATTR_CHECKSUMS).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let flac_channels = ctx.flac_channels(
        format_version,
        attrs
            .get(ATTR_FLAC_CHANNELS)
            .map(|c| (c as &dyn std::fmt::Display, json_int(c))),
    )?;

    let required = |name: &str| -> Result<ZArray> {
        open_array(store, ctx, node, name)?
            .ok_or_else(|| ctx.corrupt(format!("array {name}"), "missing").into())
    };
    let starts_arr = required(ARR_STARTS)?;
    let nbytes_arr = required(ARR_NBYTES)?;
    let compressed = required(ARR_COMPRESSED)?;
    let offsets_arr = open_array(store, ctx, node, ARR_OFFSETS)?;
    let gains_arr = open_array(store, ctx, node, ARR_GAINS)?;

    // stream_starts: integers with at least one axis; its shape is the leading shape.
    let starts_label = format!("array {ARR_STARTS}");
    require_integer(ctx, &starts_label, &starts_arr)?;
    let leading_u64 = starts_arr.shape().to_vec();
    let leading_shape = validate::leading_shape(&leading_u64).map_err(|e| invalid(ctx, e))?;

    // stream_size: a positive JSON integer in the attributes of stream_starts.
    let size_label = format!("array {ARR_STARTS}: attribute {ATTR_STREAM_SIZE}");
    let stream_size = match starts_arr.attributes().get(ATTR_STREAM_SIZE) {
        None => return Err(ctx.corrupt(size_label, "missing").into()),
        Some(Value::Number(n)) => match n.as_i64() {
            // Format 2 stores arrays whose last axis has length 0.
            Some(v) if v > 0 || (v == 0 && format_version == 2) => usize::try_from(v)
                .map_err(|_| ctx.corrupt(&size_label, format!("{v} does not fit in memory")))?,
            _ => {
                return Err(ctx
                    .corrupt(size_label, format!("must be positive, found {n}"))
                    .into());
            }
        },
        Some(other) => {
            return Err(ctx
                .corrupt(size_label, format!("must be an integer, found {other}"))
                .into());
        }
    };

    let nbytes_label = format!("array {ARR_NBYTES}");
    require_integer(ctx, &nbytes_label, &nbytes_arr)?;
    require_shape(ctx, &nbytes_label, &nbytes_arr, &leading_u64)?;

    let comp_label = format!("array {ARR_COMPRESSED}");
    if *compressed.data_type() != data_type::uint8() {
        return Err(ctx
            .corrupt(
                &comp_label,
                format!("must hold uint8 bytes, found {}", compressed.data_type()),
            )
            .into());
    }
    let compressed_len = ctx.one_dim(&comp_label, compressed.shape())?;
    check_plausible_length(store, ctx, node, ARR_COMPRESSED, compressed_len)?;
    let float_name = |label: &str, a: &ZArray| -> Result<&'static str> {
        let dt = a.data_type();
        if *dt == data_type::int64() {
            Ok("int64")
        } else if *dt == data_type::float32() {
            Ok("float32")
        } else if *dt == data_type::float64() {
            Ok("float64")
        } else {
            Err(ctx
                .corrupt(
                    label,
                    format!("must hold int64, float32 or float64 values, found {dt}"),
                )
                .into())
        }
    };
    let offsets_type = match &offsets_arr {
        None => None,
        Some(a) => {
            let label = format!("array {ARR_OFFSETS}");
            require_shape(ctx, &label, a, &leading_u64)?;
            Some(float_name(&label, a)?)
        }
    };
    let gains_type = match &gains_arr {
        None => None,
        Some(a) => {
            let label = format!("array {ARR_GAINS}");
            require_shape(ctx, &label, a, &leading_u64)?;
            Some(float_name(&label, a)?)
        }
    };
    let dtype = infer_dtype(format_version, flac_channels, offsets_type, gains_type)
        .map_err(|reason| ctx.corrupt(format!("arrays {ARR_OFFSETS}/{ARR_GAINS}"), reason))?;

    for (label, a) in [
        (&starts_label, Some(&starts_arr)),
        (&nbytes_label, Some(&nbytes_arr)),
        (&format!("array {ARR_OFFSETS}"), offsets_arr.as_ref()),
        (&format!("array {ARR_GAINS}"), gains_arr.as_ref()),
        (&format!("array {ARR_COMPRESSED}"), Some(&compressed)),
    ] {
        if let Some(a) = a {
            check_chunk_size(ctx, label, a)?;
        }
    }

    let meta = StoredMeta {
        format_version,
        dtype,
        leading_shape,
        stream_size,
        total_bytes: compressed_len,
    };
    validate::check_meta(&meta).map_err(|e| invalid(ctx, e))?;
    let extension = read_extension(store, ctx, node, attrs, &leading_u64)?;

    // The tables, whole (8 bytes per stream each).
    let to_u64 = |label: &str, v: Vec<i64>| -> Result<Vec<u64>> {
        v.into_iter()
            .enumerate()
            .map(|(i, x)| {
                u64::try_from(x).map_err(|_| {
                    Error::from(ctx.corrupt(
                        label,
                        format!(
                            "stream {}: negative value {x}",
                            validate::stream_label(i, &meta.leading_shape)
                        ),
                    ))
                })
            })
            .collect()
    };
    let starts = to_u64(&starts_label, read_ints(ctx, &starts_label, &starts_arr)?)?;
    let nbytes = to_u64(&nbytes_label, read_ints(ctx, &nbytes_label, &nbytes_arr)?)?;

    let gains_label = format!("array {ARR_GAINS}");
    let offsets_label = format!("array {ARR_OFFSETS}");
    let scaling = match (dtype, &offsets_arr, &gains_arr) {
        (DType::Float32, Some(o), Some(g)) => StreamScaling::F32 {
            offsets: read_all(ctx, &offsets_label, o)?,
            gains: read_all(ctx, &gains_label, g)?,
        },
        (DType::Float64, Some(o), Some(g)) => StreamScaling::F64 {
            offsets: read_all(ctx, &offsets_label, o)?,
            gains: read_all(ctx, &gains_label, g)?,
        },
        (DType::Int64, Some(o), None) => {
            StreamScaling::I64Offsets(read_all(ctx, &offsets_label, o)?)
        }
        _ => StreamScaling::None,
    };
    let table = StreamTable {
        starts,
        nbytes,
        scaling,
    };
    validate::check_table(&meta, &table, 0).map_err(|e| invalid(ctx, e))?;
    let mut sorted_starts = table.starts.clone();
    sorted_starts.sort_unstable();
    let StreamTable {
        starts,
        nbytes,
        scaling,
    } = table;

    Ok(Loaded {
        extension,
        ctx: ctx.clone(),
        meta,
        software_version,
        checksums,
        starts,
        nbytes,
        scaling,
        sorted_starts,
        sharded: is_sharded(&compressed),
        compressed,
        cache: Mutex::new(Vec::new()),
    })
}

fn require_integer(ctx: &Ctx, label: &str, a: &ZArray) -> Result<()> {
    let dt = a.data_type();
    let ints = [
        data_type::int8(),
        data_type::int16(),
        data_type::int32(),
        data_type::int64(),
        data_type::uint8(),
        data_type::uint16(),
        data_type::uint32(),
        data_type::uint64(),
    ];
    if ints.contains(dt) {
        Ok(())
    } else {
        Err(ctx
            .corrupt(label, format!("must hold integers, found {dt}"))
            .into())
    }
}

fn require_shape(ctx: &Ctx, label: &str, a: &ZArray, leading: &[u64]) -> Result<()> {
    if a.shape() == leading {
        Ok(())
    } else {
        Err(ctx
            .corrupt(
                label,
                format!("has shape {:?}, {ARR_STARTS} has {leading:?}", a.shape()),
            )
            .into())
    }
}

/// Refuses chunks whose decoding would allocate far more than the array holds.
fn check_chunk_size(ctx: &Ctx, label: &str, a: &ZArray) -> Result<()> {
    let elem = a.data_type().fixed_size().unwrap_or(8) as u64;
    let zeros = vec![0u64; a.dimensionality()];
    let chunk = a
        .chunk_shape(&zeros)
        .map_err(ctx.zarr(label, "reading the chunk shape"))?;
    let chunk_bytes = chunk
        .iter()
        .try_fold(elem, |acc, d| acc.checked_mul(d.get()))
        .unwrap_or(u64::MAX);
    let array_bytes = a
        .shape()
        .iter()
        .try_fold(elem, |acc, &d| acc.checked_mul(d))
        .unwrap_or(u64::MAX);
    if chunk_bytes > CHUNK_BYTES_CAP.max(array_bytes) {
        return Err(ctx
            .corrupt(
                label,
                format!(
                    "chunks of {chunk_bytes} bytes for an array of {array_bytes} bytes \
                 (refused: decoding one would allocate all of it)"
                ),
            )
            .into());
    }
    Ok(())
}

/// Refuses a `compressed` length its chunks on disk cannot plausibly back, so that
/// a hostile shape cannot make the reader allocate without bound.
fn check_plausible_length(
    store: &Arc<FilesystemStore>,
    ctx: &Ctx,
    node: &str,
    name: &str,
    len: u64,
) -> Result<()> {
    if len <= EXPANSION_FLOOR {
        return Ok(());
    }
    let label = format!("array {name}");
    let prefix = StorePrefix::new(format!(
        "{}/",
        child_path(node, name).trim_start_matches('/')
    ))
    .map_err(ctx.zarr(&label, "listing the chunks"))?;
    let on_disk = store
        .size_prefix(&prefix)
        .map_err(ctx.zarr(&label, "listing the chunks"))?;
    if len > on_disk.saturating_mul(EXPANSION_CAP) {
        return Err(ctx
            .corrupt(
                label,
                format!("declares {len} bytes, implausible for {on_disk} bytes of chunks"),
            )
            .into());
    }
    Ok(())
}

/// Deepest directory level under an array directory that is inspected: chunk keys
/// have one level per array axis (plus `c/`), and the tables have few axes; a deeper
/// tree (or a symlink loop) is refused rather than walked.
const MAX_TREE_DEPTH: usize = 40;

/// Refuses, before zarrs opens anything, a metadata document or chunk of the group
/// that is not a regular file: zarrs opens files itself, and opening a FIFO blocks
/// forever, a device may never end. Symlinks are followed (a link to a regular file
/// is fine). Checks the group's metadata documents and everything under its arrays'
/// directories.
fn check_file_types(store: &Arc<FilesystemStore>, ctx: &Ctx, node: &str) -> Result<()> {
    let doc = child_path(node, "zarr.json");
    let Ok(key) = zarrs::storage::StoreKey::new(doc.trim_start_matches('/')) else {
        return Ok(());
    };
    let Some(dir) = store
        .key_to_fspath(&key)
        .parent()
        .map(std::path::Path::to_path_buf)
    else {
        return Ok(());
    };
    for name in ["zarr.json", ".zgroup", ".zattrs"] {
        check_node(ctx, "group metadata", &dir.join(name), 0)?;
    }
    for name in ALL_ARRAYS {
        check_node(ctx, &format!("array {name}"), &dir.join(name), 1)?;
    }
    Ok(())
}

fn check_node(ctx: &Ctx, label: &str, path: &std::path::Path, depth: usize) -> Result<()> {
    // Follows symlinks; a missing entry is for zarrs to report.
    let Ok(md) = std::fs::metadata(path) else {
        return Ok(());
    };
    let shown = || path.display().to_string();
    if md.is_file() {
        return Ok(());
    }
    if !md.is_dir() || depth == 0 {
        return Err(ctx
            .corrupt(
                label,
                format!(
                    "{} is not a regular file (a FIFO, device or socket cannot be a Zarr \
                 document or chunk)",
                    shown()
                ),
            )
            .into());
    }
    if depth > MAX_TREE_DEPTH {
        return Err(ctx
            .corrupt(
                label,
                format!(
                    "{} is nested more than {MAX_TREE_DEPTH} levels deep",
                    shown()
                ),
            )
            .into());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| ctx.corrupt(label, format!("listing {} failed: {e}", shown())))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| ctx.corrupt(label, format!("listing {} failed: {e}", shown())))?;
        check_node(ctx, label, &entry.path(), depth + 1)?;
    }
    Ok(())
}

/// A refusal of the core's validator, as this crate's error naming store and group.
pub(crate) fn invalid(ctx: &Ctx, e: validate::Invalid) -> Error {
    ctx.invalid("array", e).into()
}

/// Reads a whole array as `T` (missing chunks read as the fill value).
fn read_all<T: ElementOwned>(ctx: &Ctx, label: &str, a: &ZArray) -> Result<Vec<T>> {
    let subset = ArraySubset::new_with_shape(a.shape().to_vec());
    a.retrieve_array_subset::<Vec<T>>(&subset)
        .map_err(ctx.zarr(label, "reading"))
}

/// Reads a whole integer array (any integer data type) as `i64`.
fn read_ints(ctx: &Ctx, label: &str, a: &ZArray) -> Result<Vec<i64>> {
    macro_rules! widen {
        ($t:ty) => {{
            let v: Vec<$t> = read_all(ctx, label, a)?;
            v.into_iter()
                .map(|x| {
                    i64::try_from(x).map_err(|_| {
                        Error::from(ctx.corrupt(label, format!("value {x} exceeds int64")))
                    })
                })
                .collect()
        }};
    }
    let dt = a.data_type();
    if *dt == data_type::int64() {
        read_all(ctx, label, a)
    } else if *dt == data_type::int32() {
        widen!(i32)
    } else if *dt == data_type::int16() {
        widen!(i16)
    } else if *dt == data_type::int8() {
        widen!(i8)
    } else if *dt == data_type::uint64() {
        widen!(u64)
    } else if *dt == data_type::uint32() {
        widen!(u32)
    } else if *dt == data_type::uint16() {
        widen!(u16)
    } else if *dt == data_type::uint8() {
        widen!(u8)
    } else {
        Err(ctx
            .corrupt(label, format!("must hold integers, found {dt}"))
            .into())
    }
}

impl Loaded {
    /// Reads bytes `start..start + out.len()` of `compressed`: only the chunks that
    /// overlap the range are fetched and decoded (missing chunks read as zeros).
    /// Every stream that starts inside the range must begin with the FLAC marker
    /// `fLaC`; a zeroed (missing or damaged) chunk is reported here, naming the
    /// store, group and array.
    pub(crate) fn read_range(&self, start: u64, out: &mut [u8]) -> Result<()> {
        let ctx = &self.ctx;
        let label = format!("array {ARR_COMPRESSED}");
        let end = start
            .checked_add(out.len() as u64)
            .filter(|&e| e <= self.meta.total_bytes)
            .ok_or_else(|| {
                ctx.corrupt(
                    &label,
                    format!(
                        "bytes {start}..{start}+{} lie outside {ARR_COMPRESSED} ({} bytes)",
                        out.len(),
                        self.meta.total_bytes
                    ),
                )
            })?;
        if start == end {
            return Ok(());
        }
        // One chunk at a time, so the only buffer besides `out` is one decoded chunk
        // piece (zarrs' decode-into-a-slice API needs `unsafe`, which this crate
        // forbids).
        let mut pos = start;
        while pos < end {
            let (c0, c1) = self.chunk_bounds(pos)?;
            let piece = end.min(c1);
            // Part of an unsharded chunk: served from the chunk decoded whole, once.
            if !self.sharded && (pos > c0 || end < c1) {
                self.read_cached(c0, c1, pos, &mut out[off(pos - start)..off(piece - start)])?;
                pos = piece;
                continue;
            }
            let subset = ArraySubset::new_with_start_shape(vec![pos], vec![piece - pos])
                .map_err(ctx.zarr(&label, "selecting a byte range"))?;
            let bytes: Vec<u8> = self
                .compressed
                .retrieve_array_subset::<Vec<u8>>(&subset)
                .map_err(ctx.zarr(&label, "reading a byte range"))?;
            // `start <= pos < piece <= end` and `end - start == out.len()`.
            let lo = usize::try_from(pos - start).unwrap_or(usize::MAX);
            let dst = lo
                .checked_add(bytes.len())
                .and_then(|hi| out.get_mut(lo..hi))
                .filter(|d| d.len() as u64 == piece - pos);
            let Some(dst) = dst else {
                return Err(ctx
                    .corrupt(
                        label,
                        format!("bytes {pos}..{piece}: read {} bytes", bytes.len()),
                    )
                    .into());
            };
            dst.copy_from_slice(&bytes);
            pos = piece;
        }
        let first = self.sorted_starts.partition_point(|&s| s < start);
        for &s in self.sorted_starts[first..].iter().take_while(|&&s| s < end) {
            // `s - start < out.len()` since `start <= s < end`.
            let at = usize::try_from(s - start).unwrap_or(usize::MAX);
            let marker = out.get(at..at.saturating_add(4));
            if marker != Some(b"fLaC".as_slice()) {
                let chunk = self.chunk_note(s);
                return Err(ctx
                    .corrupt(
                        label,
                        format!(
                            "the stream at byte {s} does not begin with the FLAC marker \
                         \"fLaC\"{chunk}"
                        ),
                    )
                    .into());
            }
        }
        Ok(())
    }

    /// Copies bytes from `pos` into `out` out of the piece `u0..u1` of `compressed`,
    /// decoding the piece unless it is among the last [`CACHED_PIECES`] decoded.
    fn read_cached(&self, u0: u64, u1: u64, pos: u64, out: &mut [u8]) -> Result<()> {
        let label = format!("array {ARR_COMPRESSED}");
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| Error::InvalidArgument(format!("{label}: read cache poisoned")))?;
        let hit = cache
            .iter()
            .position(|(s, b)| *s == u0 && b.len() as u64 == u1 - u0);
        let entry = match hit {
            Some(i) => cache.remove(i),
            None => {
                let subset = ArraySubset::new_with_start_shape(vec![u0], vec![u1 - u0])
                    .map_err(self.ctx.zarr(&label, "selecting a byte range"))?;
                let bytes: Vec<u8> = self
                    .compressed
                    .retrieve_array_subset::<Vec<u8>>(&subset)
                    .map_err(self.ctx.zarr(&label, "reading a byte range"))?;
                if cache.len() >= CACHED_PIECES {
                    cache.remove(0);
                }
                (u0, bytes)
            }
        };
        cache.push(entry);
        let lo = off(pos - u0);
        let src = cache
            .last()
            .and_then(|(_, b)| b.get(lo..lo.checked_add(out.len())?))
            .ok_or_else(|| {
                self.ctx.corrupt(
                    &label,
                    format!("bytes {u0}..{u1}: fewer bytes decoded than the chunk holds"),
                )
            })?;
        out.copy_from_slice(src);
        Ok(())
    }

    /// The first and the end byte of the chunk of `compressed` holding byte `pos`.
    fn chunk_bounds(&self, pos: u64) -> Result<(u64, u64)> {
        let label = format!("array {ARR_COMPRESSED}");
        let chunk = match self.compressed.chunk_grid().chunk_indices(&[pos]) {
            Ok(Some(idx)) => self.compressed.chunk_subset(&idx).ok(),
            _ => None,
        };
        let bounds = chunk.and_then(|c| {
            let (s, n) = (*c.start().first()?, *c.shape().first()?);
            Some((s, s.checked_add(n)?.min(self.meta.total_bytes)))
        });
        match bounds {
            Some((s, e)) if s <= pos && e > pos => Ok((s, e)),
            _ => Err(self
                .ctx
                .corrupt(
                    label,
                    format!("byte {pos} lies in no chunk of the chunk grid"),
                )
                .into()),
        }
    }

    /// `" (chunk c/3 is missing ...)"` when the chunk holding byte `at` is absent.
    fn chunk_note(&self, at: u64) -> String {
        let Ok(Some(idx)) = self.compressed.chunk_grid().chunk_indices(&[at]) else {
            return String::new();
        };
        let key = self.compressed.chunk_key(&idx);
        let storage = self.compressed.storage();
        match zarrs::storage::ReadableStorageTraits::size_key(&*storage, &key) {
            Ok(None) => format!(
                " (its chunk {key} is missing, so it reads as the fill value 0: \
                 the store is incomplete)"
            ),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn node_paths() {
        assert_eq!(node_path("/"), "/");
        assert_eq!(node_path(""), "/");
        assert_eq!(node_path("flac"), "/flac");
        assert_eq!(node_path("/a//b/"), "/a/b");
        assert_eq!(child_path("/", "compressed"), "/compressed");
        assert_eq!(child_path("/a/b", "compressed"), "/a/b/compressed");
    }

    #[test]
    fn version_values() {
        assert_eq!(json_int(&serde_json::json!("1")), Some(1));
        assert_eq!(json_int(&serde_json::json!(0)), Some(0));
        assert_eq!(json_int(&serde_json::json!(" 1 ")), Some(1));
        assert_eq!(json_int(&serde_json::json!(1.5)), None);
        assert_eq!(json_int(&serde_json::json!([1])), None);
    }
}
