//! Reading a flacarray group: metadata, then the per-stream tables and the bytes of
//! the wanted streams.

use std::path::Path;

use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::{Dataset, Group, H5Type, LocationType};

use flacarray_core::{
    FlacArray, StoredExtension, StoredMeta, StreamScaling, StreamTable, read_flacarray, validate,
};

use crate::attr::{self, Scalar};
use crate::error::{Ctx, Error, H5At, Result, ctx_of};
use crate::names::{
    ARR_COMPRESSED, ARR_GAINS, ARR_NBYTES, ARR_NONFINITE_FLAGS, ARR_NONFINITE_RUNS, ARR_OFFSETS,
    ARR_STARTS, ATTR_DTYPE, ATTR_FLAC_CHANNELS, ATTR_FORMAT_VERSION, ATTR_SOFTWARE_VERSION,
    ATTR_STREAM_SIZE,
};
use crate::store::Hdf5Store;
use flacarray_core::Place;

/// For datasets whose storage size says nothing about their element count (chunked,
/// virtual), the largest element count accepted is this many times the file size:
/// a cap on the memory a hostile header can make the reader allocate. Chunks of FLAC
/// bytes or of distinct int64 offsets do not compress anywhere near this much.
const CHUNKED_EXPANSION_CAP: u64 = 1024;

/// The opened datasets of a group, after [`read_meta`]'s checks.
pub(crate) struct Opened {
    pub(crate) ctx: Ctx,
    pub(crate) meta: StoredMeta,
    /// `flacarray_software_version`, if present.
    pub(crate) software_version: Option<String>,
    /// Length of the `compressed` dataset.
    pub(crate) compressed_len: usize,
    starts: Dataset,
    nbytes: Dataset,
    offsets: Option<Dataset>,
    gains: Option<Dataset>,
    offsets_type: Option<&'static str>,
    pub(crate) compressed: Dataset,
    /// The group attribute `flacarray_rs_checksums`, if present.
    pub(crate) checksums: Option<String>,
    /// What the group stores beyond flacarray 0.4.1's layout (checked by the core's
    /// reader against the table).
    pub(crate) extension: StoredExtension,
}

/// Reads and checks the metadata of the flacarray group `group`.
///
/// Checks: the format version (1 or 0; anything else is
/// [`UnsupportedGroup`](flacarray_core::Error::UnsupportedGroup)), `flac_channels` (format 1: 1 or 2), that
/// `stream_starts`, `stream_bytes` and `compressed` exist with integer, integer and
/// uint8 types, that `stream_starts` has at least one axis and `stream_bytes`,
/// `stream_offsets` and `stream_gains` its shape, that `stream_size` is a positive
/// integer, and that the channels, offsets and gains make a known dtype
/// ([`flacarray_core::layout::infer_dtype`]), and the core's
/// [`validate::check_meta`].
///
/// # Errors
/// [`NotFlacArray`](flacarray_core::Error::NotFlacArray) when the version attribute is missing; otherwise
/// [`CorruptGroup`](flacarray_core::Error::CorruptGroup), [`UnsupportedGroup`](flacarray_core::Error::UnsupportedGroup) or [`Error::Hdf5`], naming the file,
/// the group and the object.
pub fn read_meta(group: &Group) -> Result<StoredMeta> {
    open(group).map(|o| o.meta)
}

/// Opens `group_path` in the file at `path` (read-only) and reads its metadata.
///
/// # Errors
/// As [`read_meta`], plus [`Error::Hdf5`] / [`GroupNotFound`](flacarray_core::Error::GroupNotFound) when the file
/// or the group cannot be opened.
pub fn read_file_meta(path: impl AsRef<Path>, group_path: &str) -> Result<StoredMeta> {
    let (_file, group) = open_file_group(path.as_ref(), group_path)?;
    read_meta(&group)
}

/// Reads the flacarray group `group` without decoding it: the core's
/// [`read_flacarray`] on an [`Hdf5Store`] of the group, with `no_flatten` (a single
/// stream keeps its leading shape `[1]`).
///
/// * `keep = None`: the whole `compressed` dataset is read in one piece and the
///   result is exactly what the group holds.
/// * `keep = Some(mask)`, one flag per stream in C order over the leading shape:
///   only the kept streams' bytes are read from `compressed` (kept streams that
///   follow each other in the file are read together). The result has leading shape
///   `[number kept]`, the kept streams' starts (rebased into its buffer, where the
///   streams lie back to back in C order), byte counts, offsets and gains.
///
/// # Errors
/// As [`read_meta`]; [`CorruptGroup`](flacarray_core::Error::CorruptGroup) for a
/// negative start or length or a range outside `compressed`; an
/// [`InvalidArgument`](flacarray_core::Error::InvalidArgument) when `keep` has the
/// wrong length.
pub fn read_group(group: &Group, keep: Option<&[bool]>) -> Result<FlacArray> {
    let ctx = ctx_of(group);
    let file = group.file().map_err(ctx.h5("file", "opening"))?;
    let store = Hdf5Store::open_in(file, Path::new(&ctx.file), &ctx.group)?;
    read_flacarray(&store, keep, true)
}

/// Reads `stream_starts`, `stream_bytes`, `stream_offsets` and `stream_gains` whole
/// (8 bytes per stream each) and checks the byte ranges.
pub(crate) fn read_table(o: &Opened) -> Result<StreamTable> {
    let ctx = &o.ctx;
    let meta = &o.meta;
    let n = meta.n_streams();
    let starts: Vec<i64> = read_all(ctx, ARR_STARTS, &o.starts, n)?;
    let nbytes: Vec<i64> = read_all(ctx, ARR_NBYTES, &o.nbytes, n)?;
    for (i, (&s, &b)) in starts.iter().zip(&nbytes).enumerate() {
        check_range(s, b, o.compressed_len).map_err(|reason| {
            // Blame the start when it alone is out of range, else the length.
            let start_bad = usize::try_from(s).map_or(true, |s| s > o.compressed_len);
            let which = if start_bad { ARR_STARTS } else { ARR_NBYTES };
            ctx.corrupt(
                format!("dataset {which}"),
                format!(
                    "stream {}: {reason}",
                    flacarray_core::validate::stream_label(i, &meta.leading_shape)
                ),
            )
        })?;
    }

    // The types were checked by `open` (`numeric_name`, then `infer_dtype`).
    let scaling = match (&o.offsets, o.offsets_type, &o.gains) {
        (None, _, None) => StreamScaling::None,
        (Some(od), Some("int64"), None) => {
            StreamScaling::I64Offsets(read_all(ctx, ARR_OFFSETS, od, n)?)
        }
        (Some(od), Some("float32"), Some(gd)) => StreamScaling::F32 {
            offsets: read_all(ctx, ARR_OFFSETS, od, n)?,
            gains: read_all(ctx, ARR_GAINS, gd, n)?,
        },
        (Some(od), Some("float64"), Some(gd)) => StreamScaling::F64 {
            offsets: read_all(ctx, ARR_OFFSETS, od, n)?,
            gains: read_all(ctx, ARR_GAINS, gd, n)?,
        },
        _ => {
            return Err(ctx
                .corrupt(
                    format!("dataset {ARR_OFFSETS}"),
                    "offsets and gains do not match",
                )
                .into());
        }
    };

    // Both were checked non-negative by `check_range`.
    let table = StreamTable {
        starts: starts.iter().map(|&x| x.unsigned_abs()).collect(),
        nbytes: nbytes.iter().map(|&x| x.unsigned_abs()).collect(),
        scaling,
    };
    validate::check_table(meta, &table, 0).map_err(|e| invalid(ctx, e))?;
    Ok(table)
}

/// A refusal of the core's validator, as this crate's error naming file and group.
pub(crate) fn invalid(ctx: &Ctx, e: validate::Invalid) -> Error {
    ctx.invalid("dataset", e).into()
}

/// Opens `group_path` in the file at `path` (read-only) and reads it with
/// [`read_group`].
///
/// # Errors
/// As [`read_group`] and [`read_file_meta`].
pub fn read_file(
    path: impl AsRef<Path>,
    group_path: &str,
    keep: Option<&[bool]>,
) -> Result<FlacArray> {
    read_flacarray(&Hdf5Store::open(path.as_ref(), group_path)?, keep, true)
}

/// Opens a file read-only and one of its groups (`"/"` for the root).
///
/// # Errors
/// [`Error::Hdf5`] when the file cannot be opened, [`GroupNotFound`](flacarray_core::Error::GroupNotFound) when the
/// group does not exist or is not a group.
pub fn open_file_group(path: &Path, group_path: &str) -> Result<(hdf5::File, Group)> {
    let file = crate::store::open_for_reading(path).map_err(|source| Error::Hdf5 {
        place: Place::new(path.display().to_string(), "/".to_owned()),
        object: "file".to_owned(),
        action: "opening",
        source,
    })?;
    let group = open_group(&file, group_path)?;
    Ok((file, group))
}

/// Opens an existing group below `parent` (an absolute path starts at the file root;
/// `"/"` or `""` is the root or `parent` itself).
pub(crate) fn open_group(parent: &Group, group_path: &str) -> Result<Group> {
    let not_found = |reason: String| {
        Error::from(Place::new(parent.filename(), group_path.to_owned()).not_found(reason))
    };
    let mut cur = if group_path.starts_with('/') {
        parent
            .file()
            .and_then(|f| f.group("/"))
            .map_err(|e| not_found(format!("opening the root group failed: {e}")))?
    } else {
        parent.clone()
    };
    for comp in group_path.split('/').filter(|c| !c.is_empty()) {
        if !cur.link_exists(comp) {
            return Err(not_found(format!("no object {comp:?} in {}", cur.name())));
        }
        match cur.loc_type_by_name(comp) {
            Ok(LocationType::Group) => {}
            Ok(other) => {
                return Err(not_found(format!(
                    "{comp:?} in {} is a {other:?}, not a group",
                    cur.name()
                )));
            }
            Err(e) => return Err(not_found(format!("inspecting {comp:?} failed: {e}"))),
        }
        cur = cur
            .group(comp)
            .map_err(|e| not_found(format!("opening {comp:?} failed: {e}")))?;
    }
    Ok(cur)
}

pub(crate) fn open(group: &Group) -> Result<Opened> {
    let ctx = ctx_of(group);
    let version_label = format!("attribute {ATTR_FORMAT_VERSION}");
    let version = attr::read_scalar(group, &ctx, &version_label, ATTR_FORMAT_VERSION)?
        .ok_or_else(|| Error::from(ctx.not_flacarray()))?;
    let format_version = ctx.format_version(&version, version.as_int())?;

    let software_version = attr::read_scalar(
        group,
        &ctx,
        &format!("attribute {ATTR_SOFTWARE_VERSION}"),
        ATTR_SOFTWARE_VERSION,
    )?
    .map(|s| s.to_text());

    let checksums = attr::read_scalar(
        group,
        &ctx,
        &format!("attribute {}", validate_attr()),
        validate_attr(),
    )?
    .map(|s| s.to_text());

    let channels_label = format!("attribute {ATTR_FLAC_CHANNELS}");
    let channels = attr::read_scalar(group, &ctx, &channels_label, ATTR_FLAC_CHANNELS)?;
    let flac_channels = ctx.flac_channels(
        format_version,
        channels
            .as_ref()
            .map(|c| (c as &dyn std::fmt::Display, c.as_int())),
    )?;

    let starts = open_dataset(group, &ctx, ARR_STARTS)?
        .ok_or_else(|| ctx.corrupt(format!("dataset {ARR_STARTS}"), "missing"))?;
    let nbytes = open_dataset(group, &ctx, ARR_NBYTES)?
        .ok_or_else(|| ctx.corrupt(format!("dataset {ARR_NBYTES}"), "missing"))?;
    let compressed = open_dataset(group, &ctx, ARR_COMPRESSED)?
        .ok_or_else(|| ctx.corrupt(format!("dataset {ARR_COMPRESSED}"), "missing"))?;
    let offsets = open_dataset(group, &ctx, ARR_OFFSETS)?;
    let gains = open_dataset(group, &ctx, ARR_GAINS)?;

    // stream_starts: integers, at least one axis; it defines the leading shape.
    let starts_label = format!("dataset {ARR_STARTS}");
    require_integer(
        &ctx,
        &starts_label,
        &descriptor(&ctx, &starts_label, &starts)?,
    )?;
    let leading_shape = validate::leading_shape(&starts.shape()).map_err(|e| invalid(&ctx, e))?;

    // stream_size attribute of stream_starts: a positive integer.
    let size_label = format!("dataset {ARR_STARTS}: attribute {ATTR_STREAM_SIZE}");
    let stream_size = match attr::read_scalar(&starts, &ctx, &size_label, ATTR_STREAM_SIZE)? {
        None => return Err(ctx.corrupt(size_label, "missing").into()),
        Some(Scalar::Str(s)) => {
            return Err(ctx
                .corrupt(size_label, format!("must be an integer, found {s:?}"))
                .into());
        }
        // Format 2 stores arrays whose last axis has length 0.
        Some(Scalar::Int(v)) => u64::try_from(v)
            .ok()
            .filter(|&v| v > 0 || format_version == 2)
            .ok_or_else(|| ctx.corrupt(size_label, format!("must be positive, found {v}")))?,
    };

    let nbytes_label = format!("dataset {ARR_NBYTES}");
    require_integer(
        &ctx,
        &nbytes_label,
        &descriptor(&ctx, &nbytes_label, &nbytes)?,
    )?;
    require_shape(&ctx, &nbytes_label, &nbytes, &leading_shape)?;

    let comp_label = format!("dataset {ARR_COMPRESSED}");
    let comp_desc = descriptor(&ctx, &comp_label, &compressed)?;
    if comp_desc != TypeDescriptor::Unsigned(IntSize::U1) {
        return Err(ctx
            .corrupt(
                comp_label,
                format!("must hold uint8 bytes, found HDF5 type {comp_desc}"),
            )
            .into());
    }
    let compressed_len = ctx.one_dim(&comp_label, &compressed.shape())?;

    let offsets_type = match &offsets {
        None => None,
        Some(ds) => {
            let label = format!("dataset {ARR_OFFSETS}");
            require_shape(&ctx, &label, ds, &leading_shape)?;
            Some(numeric_name(&ctx, &label, &descriptor(&ctx, &label, ds)?)?)
        }
    };
    let gains_type = match &gains {
        None => None,
        Some(ds) => {
            let label = format!("dataset {ARR_GAINS}");
            require_shape(&ctx, &label, ds, &leading_shape)?;
            Some(numeric_name(&ctx, &label, &descriptor(&ctx, &label, ds)?)?)
        }
    };
    let dtype = flacarray_core::layout::infer_dtype(
        format_version,
        flac_channels,
        offsets_type,
        gains_type,
    )
    .map_err(|reason| ctx.corrupt(format!("datasets {ARR_OFFSETS}/{ARR_GAINS}"), reason))?;

    let stream_size = usize::try_from(stream_size).map_err(|_| {
        ctx.corrupt(
            format!("dataset {ARR_STARTS}: attribute {ATTR_STREAM_SIZE}"),
            format!("{stream_size} does not fit in memory"),
        )
    })?;
    let meta = StoredMeta {
        format_version,
        dtype,
        leading_shape,
        stream_size,
        total_bytes: compressed_len as u64,
    };
    validate::check_meta(&meta).map_err(|e| invalid(&ctx, e))?;
    let extension = read_extension(group, &ctx, &meta.leading_shape)?;
    Ok(Opened {
        extension,
        ctx,
        meta,
        software_version,
        compressed_len,
        starts,
        nbytes,
        offsets,
        gains,
        offsets_type,
        compressed,
        checksums,
    })
}

/// Reads the attribute `flacarray_dtype` and the datasets `stream_nonfinite` (uint8,
/// leading shape) and `nonfinite_runs` (uint8, 1-d), when present.
fn read_extension(group: &Group, ctx: &Ctx, leading: &[usize]) -> Result<StoredExtension> {
    let label = format!("attribute {ATTR_DTYPE}");
    let dtype = match attr::read_scalar(group, ctx, &label, ATTR_DTYPE)? {
        None => None,
        Some(Scalar::Str(s)) => Some(s),
        Some(Scalar::Int(v)) => {
            return Err(ctx
                .corrupt(label, format!("must be a string, found {v}"))
                .into());
        }
    };
    let flags = open_dataset(group, ctx, ARR_NONFINITE_FLAGS)?;
    let runs = open_dataset(group, ctx, ARR_NONFINITE_RUNS)?;
    let nonfinite = match ctx.nonfinite_arrays("datasets", flags, runs)? {
        None => None,
        Some((f, r)) => {
            let mut bytes = Vec::with_capacity(2);
            for (name, ds) in [(ARR_NONFINITE_FLAGS, &f), (ARR_NONFINITE_RUNS, &r)] {
                let label = format!("dataset {name}");
                let desc = descriptor(ctx, &label, ds)?;
                if desc != TypeDescriptor::Unsigned(IntSize::U1) {
                    return Err(ctx
                        .corrupt(
                            label,
                            format!("must hold uint8 values, found HDF5 type {desc}"),
                        )
                        .into());
                }
                let n = if name == ARR_NONFINITE_FLAGS {
                    require_shape(ctx, &label, ds, leading)?;
                    leading.iter().product()
                } else {
                    let shape = ds.shape();
                    let [n] = shape[..] else {
                        return Err(ctx
                            .corrupt(label, format!("must be 1-d, found {shape:?}"))
                            .into());
                    };
                    n
                };
                bytes.push(read_all::<u8>(ctx, name, ds, n)?);
            }
            let runs = bytes.pop().unwrap_or_default();
            let flags = bytes.pop().unwrap_or_default();
            Some((flags, runs))
        }
    };
    Ok(StoredExtension { dtype, nonfinite })
}

fn validate_attr() -> &'static str {
    flacarray_core::integrity::ATTR_CHECKSUMS
}

/// Opens dataset `name` of `group`; `None` when no such link exists.
fn open_dataset(group: &Group, ctx: &Ctx, name: &str) -> Result<Option<Dataset>> {
    if !group.link_exists(name) {
        return Ok(None);
    }
    let label = format!("dataset {name}");
    match group.loc_type_by_name(name) {
        Ok(LocationType::Dataset) => {}
        Ok(other) => {
            return Err(ctx
                .corrupt(label, format!("is a {other:?}, not a dataset"))
                .into());
        }
        Err(e) => return Err(ctx.h5(&label, "inspecting")(e)),
    }
    group
        .dataset(name)
        .map(Some)
        .map_err(ctx.h5(&label, "opening"))
}

fn descriptor(ctx: &Ctx, label: &str, ds: &Dataset) -> Result<TypeDescriptor> {
    ds.dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(ctx.h5(label, "reading the type"))
}

fn require_integer(ctx: &Ctx, label: &str, desc: &TypeDescriptor) -> Result<()> {
    match desc {
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => Ok(()),
        other => Err(ctx
            .corrupt(
                label,
                format!("must hold integers, found HDF5 type {other}"),
            )
            .into()),
    }
}

fn require_shape(ctx: &Ctx, label: &str, ds: &Dataset, leading: &[usize]) -> Result<()> {
    let shape = ds.shape();
    if shape == leading {
        Ok(())
    } else {
        Err(ctx
            .corrupt(
                label,
                format!("has shape {shape:?}, {ARR_STARTS} has {leading:?}"),
            )
            .into())
    }
}

/// The numpy name of an offsets/gains type (`int64`, `float32`, `float64`).
fn numeric_name(ctx: &Ctx, label: &str, desc: &TypeDescriptor) -> Result<&'static str> {
    match desc {
        TypeDescriptor::Integer(IntSize::U8) => Ok("int64"),
        TypeDescriptor::Float(FloatSize::U4) => Ok("float32"),
        TypeDescriptor::Float(FloatSize::U8) => Ok("float64"),
        other => Err(ctx
            .corrupt(
                label,
                format!("must hold int64, float32 or float64 values, found HDF5 type {other}"),
            )
            .into()),
    }
}

/// Refuses to allocate for a dataset whose declared size its storage cannot back.
fn check_backing(ctx: &Ctx, label: &str, ds: &Dataset, n: usize, elem: usize) -> Result<()> {
    let need = (n as u64).saturating_mul(elem as u64);
    if need == 0 {
        return Ok(());
    }
    let layout = ds.layout();
    if matches!(
        layout,
        hdf5::dataset::Layout::Contiguous | hdf5::dataset::Layout::Compact
    ) {
        let have = ds.storage_size();
        if have < need {
            return Err(ctx
                .corrupt(
                    label,
                    format!("declares {n} elements ({need} bytes) but stores only {have} bytes"),
                )
                .into());
        }
    } else {
        let file_len = std::fs::metadata(&ctx.file).map_or(u64::MAX, |m| m.len());
        if need > file_len.saturating_mul(CHUNKED_EXPANSION_CAP) {
            return Err(ctx.corrupt(
                label,
                format!(
                    "declares {n} elements ({need} bytes), implausible for a {file_len}-byte file"
                ),
            ).into());
        }
    }
    Ok(())
}

/// Reads a whole dataset of `n` elements as `T` (HDF5 converts the stored type).
fn read_all<T: H5Type>(ctx: &Ctx, name: &str, ds: &Dataset, n: usize) -> Result<Vec<T>> {
    let label = format!("dataset {name}");
    check_backing(ctx, &label, ds, n, ds.dtype().map_or(1, |t| t.size()))?;
    let v: Vec<T> = ds.read_raw().map_err(ctx.h5(&label, "reading"))?;
    if v.len() != n {
        return Err(ctx
            .corrupt(label, format!("read {} elements, expected {n}", v.len()))
            .into());
    }
    Ok(v)
}

/// Checks one stream's byte range against the length of `compressed`; returns the
/// range as `usize`s.
fn check_range(
    start: i64,
    nbytes: i64,
    total: usize,
) -> std::result::Result<(usize, usize), String> {
    let s = usize::try_from(start).map_err(|_| format!("negative start {start}"))?;
    let b = usize::try_from(nbytes).map_err(|_| format!("negative byte count {nbytes}"))?;
    match s.checked_add(b) {
        Some(end) if end <= total => Ok((s, end)),
        _ => Err(format!(
            "bytes {start}..{start}+{nbytes} lie outside compressed ({total} bytes)"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_without_overflow() {
        assert_eq!(check_range(0, 10, 10), Ok((0, 10)));
        assert_eq!(check_range(10, 0, 10), Ok((10, 10)));
        assert!(
            check_range(5, 6, 10)
                .unwrap_err()
                .contains("outside compressed (10 bytes)")
        );
        assert!(
            check_range(-1, 1, 10)
                .unwrap_err()
                .contains("negative start -1")
        );
        assert!(
            check_range(1, -1, 10)
                .unwrap_err()
                .contains("negative byte count -1")
        );
        assert!(check_range(i64::MAX, i64::MAX, 1000).is_err());
        assert!(check_range(i64::MAX, 1, 1000).is_err());
    }
}
