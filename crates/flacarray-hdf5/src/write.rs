//! Writing a flacarray group (format 1), as flacarray 0.4.1's `hdf5.write_compressed`
//! lays it out.

use std::ops::Range;
use std::path::Path;

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Group, H5Type, Hyperslab, LocationType, SliceOrIndex};

use crate::attr;
use crate::error::{Ctx, Error, H5At, REPLACE_HINT, Result, ctx_of};
use crate::names::{
    ALL_ARRAYS, ALL_GROUP_ATTRS, ARR_COMPRESSED, ARR_GAINS, ARR_NBYTES, ARR_NONFINITE_FLAGS,
    ARR_NONFINITE_RUNS, ARR_OFFSETS, ARR_STARTS, ATTR_DTYPE, ATTR_FLAC_CHANNELS,
    ATTR_FORMAT_VERSION, ATTR_SOFTWARE_VERSION, ATTR_STREAM_SIZE,
};
use flacarray_core::integrity::Checksums;
use flacarray_core::layout::{FORMAT_VERSION, SOFTWARE_VERSION};
use flacarray_core::{DType, FlacArray, Place, StoredExtension, StreamScaling};

/// Options of [`write_group`] and [`write_file`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Overwrite a FlacArray already stored in the target group (its datasets and its
    /// three group attributes are removed first; other attributes stay). When false,
    /// writing into a group that holds one is an [`AlreadyExists`](flacarray_core::Error::AlreadyExists).
    ///
    /// The new array is checked before anything is removed, but the replacement is
    /// not atomic: if HDF5 fails after the removal, the group holds neither array.
    pub replace: bool,
}

/// Writes `arr` as a flacarray group at `group_path` below `parent`: format 1, or
/// format 2 when `arr` holds what only format 2 stores (kept NaN/inf, empty streams).
///
/// `group_path` is relative to `parent`, or absolute (starting with `/`) from the file
/// root; `"/"` is the root group and `""` is `parent` itself. Missing groups along the
/// path are created. The layout is the one flacarray 0.4.1 writes (`docs/format.md`):
///
/// * group attributes `flacarray_format_version` = `"1"`,
///   `flacarray_software_version` = [`SOFTWARE_VERSION`] and `flac_channels` = `"1"`
///   or `"2"`, as scalar variable-length UTF-8 strings;
/// * int64 datasets `stream_starts` (with the int64 scalar attribute `stream_size`)
///   and `stream_bytes` of the leading shape;
/// * `stream_offsets` and `stream_gains` (float data only) in the data's float type;
/// * the uint8 dataset `compressed`;
///
/// plus what flacarray 0.4.1 ignores: the attribute `flacarray_rs_checksums`
/// (`flacarray_core::integrity`) and, for a carried type or kept NaN/inf,
/// `flacarray_dtype`, `stream_nonfinite` and `nonfinite_runs`. All datasets are
/// contiguous, without filters. Other attributes and objects of the group are left
/// alone.
///
/// # Errors
/// [`Error::InvalidArgument`] for format-0 data; [`AlreadyExists`](flacarray_core::Error::AlreadyExists)
/// when the group already holds a FlacArray (or one of its datasets) and
/// `opts.replace` is false; [`GroupNotFound`](flacarray_core::Error::GroupNotFound)
/// when a path component is not a group; [`Error::Hdf5`].
pub fn write_group(
    parent: &Group,
    group_path: &str,
    arr: &FlacArray,
    opts: WriteOptions,
) -> Result<()> {
    let version = arr.format_version();
    if version == 0 || matches!(arr.scaling(), StreamScaling::I64Offsets(_)) {
        return Err(Error::InvalidArgument(
            "only format version 1 (and 2) can be written; decode and recompress format-0 \
             data"
                .to_owned(),
        ));
    }
    let too_big = || Error::InvalidArgument("a byte offset exceeds int64".to_owned());
    let to_i64 = |v: &[u64]| -> Result<Vec<i64>> {
        v.iter()
            .map(|&x| i64::try_from(x).map_err(|_| too_big()))
            .collect()
    };
    let layout = GroupLayout {
        dtype: arr.dtype(),
        leading_shape: arr.leading_shape().to_vec(),
        stream_size: arr.stream_size() as u64,
        compressed_len: arr.compressed().len(),
        software_version: None,
    };
    let mut w = create_layout(parent, group_path, &layout, opts)?;
    w.set_checksums(Checksums::of(arr, SOFTWARE_VERSION).to_attr());
    let rows = layout.leading_shape.first().copied().unwrap_or(1);
    w.write_rows(
        0..rows,
        &to_i64(arr.stream_starts())?,
        &to_i64(arr.stream_nbytes())?,
        arr.scaling(),
    )?;
    w.write_bytes(0, arr.compressed())?;
    w.set_extension(version, &StoredExtension::of(arr))?;
    w.finish()
}

/// The shape of a format-1 group: what [`create_layout`] needs to create its datasets
/// before any data is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLayout {
    /// Element type of the array (decides `flac_channels` and the float datasets).
    pub dtype: DType,
    /// The array shape without its last axis (`[1]` for one stream).
    pub leading_shape: Vec<usize>,
    /// Samples per stream.
    pub stream_size: u64,
    /// Length of `compressed`: all streams' bytes.
    pub compressed_len: usize,
    /// `flacarray_software_version` to write ([`SOFTWARE_VERSION`] when `None`).
    pub software_version: Option<String>,
}

/// A group whose datasets exist and wait for their data ([`create_layout`]). Rows of
/// the per-stream tables and ranges of `compressed` can be written in any order and
/// by different processes (MPI ranks sharing a file opened through MPI-IO each write
/// their own); [`GroupWriter::finish`] then writes the group attributes, last, so an
/// interrupted write leaves no `flacarray_format_version`.
pub struct GroupWriter {
    group: Group,
    ctx: Ctx,
    layout: GroupLayout,
    starts: Dataset,
    nbytes: Dataset,
    offsets: Option<Dataset>,
    gains: Option<Dataset>,
    compressed: Dataset,
    checksums: Option<String>,
    /// `flacarray_format_version` to write (2 with flacarray-rs additions).
    format_version: u32,
    /// `flacarray_dtype` to write, if any.
    dtype_attr: Option<String>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter")
            .field("file", &self.ctx.file)
            .field("group", &self.ctx.group)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

/// Creates the group at `group_path` below `parent` (as [`write_group`]) with all
/// datasets of `layout`, contiguous and unfiltered, and the `stream_size` attribute;
/// the data and the group attributes are written through the returned
/// [`GroupWriter`]. With a file opened through MPI-IO every rank calls this with the
/// same arguments (HDF5 creates objects collectively).
///
/// # Errors
/// As [`write_group`].
pub fn create_layout(
    parent: &Group,
    group_path: &str,
    layout: &GroupLayout,
    opts: WriteOptions,
) -> Result<GroupWriter> {
    let stream_size = i64::try_from(layout.stream_size).map_err(|_| {
        Error::InvalidArgument(format!("stream_size {} exceeds int64", layout.stream_size))
    })?;
    // A stream size of 0 (format 2 only) is checked by the callers that set format 2.
    if layout.leading_shape.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "leading shape {:?} with stream size {stream_size}: not an array",
            layout.leading_shape
        )));
    }
    let group = create_groups(parent, group_path)?;
    let ctx = ctx_of(&group);
    clear_existing(&group, &ctx, opts.replace)?;

    let shape = layout.leading_shape.as_slice();
    let starts = new_dataset::<i64>(&group, &ctx, ARR_STARTS, shape)?;
    let size_label = format!("dataset {ARR_STARTS}: attribute {ATTR_STREAM_SIZE}");
    starts
        .new_attr::<i64>()
        .create(ATTR_STREAM_SIZE)
        .and_then(|a| a.write_scalar(&stream_size))
        .map_err(ctx.h5(&size_label, "writing"))?;
    let nbytes = new_dataset::<i64>(&group, &ctx, ARR_NBYTES, shape)?;
    let (offsets, gains) = match layout.dtype {
        DType::Int32 | DType::Int64 => (None, None),
        DType::Float32 => (
            Some(new_dataset::<f32>(&group, &ctx, ARR_OFFSETS, shape)?),
            Some(new_dataset::<f32>(&group, &ctx, ARR_GAINS, shape)?),
        ),
        DType::Float64 => (
            Some(new_dataset::<f64>(&group, &ctx, ARR_OFFSETS, shape)?),
            Some(new_dataset::<f64>(&group, &ctx, ARR_GAINS, shape)?),
        ),
    };
    let compressed = new_dataset::<u8>(&group, &ctx, ARR_COMPRESSED, &[layout.compressed_len])?;
    Ok(GroupWriter {
        group,
        ctx,
        layout: layout.clone(),
        starts,
        nbytes,
        offsets,
        gains,
        compressed,
        checksums: None,
        format_version: FORMAT_VERSION,
        dtype_attr: None,
    })
}

impl GroupWriter {
    /// Sets the value of the group attribute `flacarray_rs_checksums` that
    /// [`GroupWriter::finish`] writes (see `flacarray_core::integrity`; MPI ranks
    /// combine their parts first and all set the same value).
    pub fn set_checksums(&mut self, value: String) {
        self.checksums = Some(value);
    }

    /// Records what the group stores beyond flacarray 0.4.1's layout: writes the
    /// datasets `stream_nonfinite` and `nonfinite_runs` now, and makes
    /// [`GroupWriter::finish`] write `flacarray_format_version` = `version` and the
    /// attribute `flacarray_dtype`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a version other than 1 or 2, non-finite tables in
    /// format 1 or flags of another length than the streams; [`Error::Hdf5`].
    pub fn set_extension(&mut self, version: u32, ext: &StoredExtension) -> Result<()> {
        if !(1..=2).contains(&version) || (version < 2 && ext.nonfinite.is_some()) {
            return Err(Error::InvalidArgument(format!(
                "format {version} cannot store kept NaN/inf"
            )));
        }
        if let Some((flags, runs)) = &ext.nonfinite {
            let shape = &self.layout.leading_shape;
            if flags.len() != shape.iter().product::<usize>() {
                return Err(Error::InvalidArgument(format!(
                    "{} non-finite flags for the leading shape {shape:?}",
                    flags.len()
                )));
            }
            for (name, data, shape) in [
                (ARR_NONFINITE_FLAGS, flags, shape.clone()),
                (ARR_NONFINITE_RUNS, runs, vec![runs.len()]),
            ] {
                let ds = new_dataset::<u8>(&self.group, &self.ctx, name, &shape)?;
                if !data.is_empty() {
                    ds.as_writer()
                        .write_raw(data)
                        .map_err(self.ctx.h5(&format!("dataset {name}"), "writing"))?;
                }
            }
        }
        self.format_version = version;
        self.dtype_attr.clone_from(&ext.dtype);
        Ok(())
    }

    fn write_checksums(&self) -> Result<()> {
        let Some(value) = &self.checksums else {
            return Ok(());
        };
        let name = flacarray_core::integrity::ATTR_CHECKSUMS;
        let label = format!("attribute {name}");
        let v: VarLenUnicode = value
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("checksums {value:?} cannot be stored")))?;
        self.group
            .new_attr::<VarLenUnicode>()
            .create(name)
            .and_then(|a| a.write_scalar(&v))
            .map_err(self.ctx.h5(&label, "writing"))
    }

    /// Writes rows `rows` of axis 0 of the per-stream tables: `starts`, `nbytes` and
    /// `scaling` (offsets and gains of float data) hold the streams of those rows in C order,
    /// `starts` as byte offsets into the **whole** `compressed` dataset.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the rows are outside the leading shape, a
    /// table has the wrong length, or the offsets or gains are missing or of the
    /// wrong type; [`Error::Hdf5`].
    pub fn write_rows(
        &self,
        rows: Range<usize>,
        starts: &[i64],
        nbytes: &[i64],
        scaling: &StreamScaling,
    ) -> Result<()> {
        let lead = &self.layout.leading_shape;
        let total_rows = lead.first().copied().unwrap_or(1);
        if rows.start > rows.end || rows.end > total_rows {
            return Err(Error::InvalidArgument(format!(
                "rows {}..{} outside the leading shape {lead:?}",
                rows.start, rows.end
            )));
        }
        let mut shape = lead.clone();
        shape[0] = rows.len();
        let n: usize = shape.iter().product();
        if n == 0 {
            return Ok(());
        }
        let ctx = &self.ctx;
        write_rows_of(&self.starts, ctx, ARR_STARTS, &rows, &shape, starts)?;
        write_rows_of(&self.nbytes, ctx, ARR_NBYTES, &rows, &shape, nbytes)?;
        let float_tables = (self.offsets.as_ref(), self.gains.as_ref());
        match (float_tables, scaling) {
            ((None, None), StreamScaling::None) => Ok(()),
            (
                (Some(o), Some(g)),
                StreamScaling::F32 {
                    offsets: ov,
                    gains: gv,
                },
            ) if self.layout.dtype == DType::Float32 => {
                write_rows_of(o, ctx, ARR_OFFSETS, &rows, &shape, ov)?;
                write_rows_of(g, ctx, ARR_GAINS, &rows, &shape, gv)
            }
            (
                (Some(o), Some(g)),
                StreamScaling::F64 {
                    offsets: ov,
                    gains: gv,
                },
            ) if self.layout.dtype == DType::Float64 => {
                write_rows_of(o, ctx, ARR_OFFSETS, &rows, &shape, ov)?;
                write_rows_of(g, ctx, ARR_GAINS, &rows, &shape, gv)
            }
            _ => Err(Error::InvalidArgument(format!(
                "{} data: offsets and gains missing, unexpected or of another type",
                self.layout.dtype
            ))),
        }
    }

    /// Writes `bytes` at byte `at` of `compressed`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the range is outside `compressed`;
    /// [`Error::Hdf5`].
    pub fn write_bytes(&self, at: usize, bytes: &[u8]) -> Result<()> {
        let end = at.checked_add(bytes.len());
        if end.is_none_or(|e| e > self.layout.compressed_len) {
            return Err(Error::InvalidArgument(format!(
                "bytes {at}..+{} outside the {} compressed bytes",
                bytes.len(),
                self.layout.compressed_len
            )));
        }
        if bytes.is_empty() {
            return Ok(());
        }
        let label = format!("dataset {ARR_COMPRESSED}");
        let w = self.compressed.as_writer();
        if bytes.len() == self.layout.compressed_len {
            w.write_raw(bytes)
        } else {
            w.write_slice(ndarray::ArrayView1::from(bytes), at..at + bytes.len())
        }
        .map_err(self.ctx.h5(&label, "writing"))
    }

    /// Writes the group attributes `flacarray_format_version`,
    /// `flacarray_software_version` and `flac_channels` (variable-length UTF-8
    /// strings), completing the group.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a software version HDF5 cannot store;
    /// [`Error::Hdf5`].
    pub fn finish(self) -> Result<()> {
        self.write_checksums()?;
        let software = self
            .layout
            .software_version
            .as_deref()
            .unwrap_or(SOFTWARE_VERSION);
        let vlen = |what: &str, v: &str| -> Result<VarLenUnicode> {
            v.parse().map_err(|_| {
                Error::InvalidArgument(format!("{what} {v:?} cannot be stored as an HDF5 string"))
            })
        };
        let version = vlen("format version", &self.format_version.to_string())?;
        let software = vlen("software version", software)?;
        let channels = vlen(
            "channel count",
            &self.layout.dtype.channels(FORMAT_VERSION).to_string(),
        )?;
        let dtype = self
            .dtype_attr
            .as_deref()
            .map(|d| vlen("recorded dtype", d))
            .transpose()?;
        // The version attribute goes last: an interrupted write leaves none.
        let attrs = [
            (ATTR_DTYPE, dtype.as_ref()),
            (ATTR_SOFTWARE_VERSION, Some(&software)),
            (ATTR_FLAC_CHANNELS, Some(&channels)),
            (ATTR_FORMAT_VERSION, Some(&version)),
        ];
        for (name, value) in attrs.iter().filter_map(|(n, v)| v.map(|v| (*n, v))) {
            let label = format!("attribute {name}");
            self.group
                .new_attr::<VarLenUnicode>()
                .create(name)
                .and_then(|a| a.write_scalar(value))
                .map_err(self.ctx.h5(&label, "writing"))?;
        }
        Ok(())
    }
}

/// Opens (or creates) the HDF5 file at `path` for writing and writes `arr` at
/// `group_path` with [`write_group`]. An existing file keeps its other content.
///
/// # Errors
/// As [`write_group`]; [`Error::Hdf5`] when the file cannot be opened or created.
pub fn write_file(
    path: impl AsRef<Path>,
    group_path: &str,
    arr: &FlacArray,
    opts: WriteOptions,
) -> Result<()> {
    let path = path.as_ref();
    let file = hdf5::File::append(path).map_err(|source| Error::Hdf5 {
        place: Place::new(path.display().to_string(), "/".to_owned()),
        object: "file".to_owned(),
        action: "opening for writing",
        source,
    })?;
    write_group(&file, group_path, arr, opts)?;
    file.flush().map_err(|source| Error::Hdf5 {
        place: Place::new(path.display().to_string(), group_path.to_owned()),
        object: "file".to_owned(),
        action: "flushing",
        source,
    })
}

/// Opens the group at `group_path` below `parent`, creating missing ones.
pub(crate) fn create_groups(parent: &Group, group_path: &str) -> Result<Group> {
    let not_group = |reason: String| {
        Error::from(Place::new(parent.filename(), group_path.to_owned()).not_found(reason))
    };
    let mut cur = if group_path.starts_with('/') {
        parent
            .file()
            .and_then(|f| f.group("/"))
            .map_err(|e| not_group(format!("opening the root group failed: {e}")))?
    } else {
        parent.clone()
    };
    for comp in group_path.split('/').filter(|c| !c.is_empty()) {
        if comp == "." || comp == ".." {
            return Err(Error::InvalidArgument(format!(
                "group path {group_path:?}: components '.' and '..' are not supported"
            )));
        }
        cur = match child_group(&cur, comp, &not_group)? {
            Some(g) => g,
            None => cur
                .create_group(comp)
                .map_err(|e| not_group(format!("creating {comp:?} failed: {e}")))?,
        };
    }
    Ok(cur)
}

/// Opens the group `comp` directly below `cur`: `None` when no such link exists, an
/// error (made by `not_group`) when the link is not a group or cannot be opened.
pub(crate) fn child_group(
    cur: &Group,
    comp: &str,
    not_group: &impl Fn(String) -> Error,
) -> Result<Option<Group>> {
    if !cur.link_exists(comp) {
        return Ok(None);
    }
    match cur.loc_type_by_name(comp) {
        Ok(LocationType::Group) => {}
        Ok(other) => {
            return Err(not_group(format!(
                "{comp:?} in {} is a {other:?}, not a group",
                cur.name()
            )));
        }
        Err(e) => return Err(not_group(format!("inspecting {comp:?} failed: {e}"))),
    }
    cur.group(comp)
        .map(Some)
        .map_err(|e| not_group(format!("opening {comp:?} failed: {e}")))
}

/// Refuses (or, with `replace`, removes) a FlacArray already in `group`.
fn clear_existing(group: &Group, ctx: &Ctx, replace: bool) -> Result<()> {
    let version_label = format!("attribute {ATTR_FORMAT_VERSION}");
    let has_version = attr::has_attr(group, ctx, &version_label, ATTR_FORMAT_VERSION)?;
    let in_the_way: Vec<&str> = ALL_ARRAYS
        .iter()
        .copied()
        .filter(|n| group.link_exists(n))
        .collect();
    if !replace {
        if has_version {
            return Err(ctx.already_exists(version_label, REPLACE_HINT).into());
        }
        if let Some(name) = in_the_way.first() {
            return Err(ctx
                .already_exists(format!("dataset {name}"), REPLACE_HINT)
                .into());
        }
        return Ok(());
    }
    for name in in_the_way {
        let label = format!("dataset {name}");
        group.unlink(name).map_err(ctx.h5(&label, "removing"))?;
    }
    for name in ALL_GROUP_ATTRS {
        let label = format!("attribute {name}");
        if attr::has_attr(group, ctx, &label, name)? {
            group
                .delete_attr(name)
                .map_err(ctx.h5(&label, "removing"))?;
        }
    }
    Ok(())
}

/// Creates a contiguous, unfiltered dataset of `shape`.
fn new_dataset<T: H5Type>(
    group: &Group,
    ctx: &Ctx,
    name: &str,
    shape: &[usize],
) -> Result<Dataset> {
    let label = format!("dataset {name}");
    group
        .new_dataset::<T>()
        .no_chunk()
        .shape(shape.to_vec())
        .create(name)
        .map_err(ctx.h5(&label, "creating"))
}

/// Writes `data`, the rows `rows` of axis 0 (of shape `shape`), into `ds`.
fn write_rows_of<T: H5Type>(
    ds: &Dataset,
    ctx: &Ctx,
    name: &str,
    rows: &Range<usize>,
    shape: &[usize],
    data: &[T],
) -> Result<()> {
    let label = format!("dataset {name}");
    let view = ndarray::ArrayViewD::from_shape(ndarray::IxDyn(shape), data).map_err(|_| {
        Error::InvalidArgument(format!(
            "{name}: {} values for rows of shape {shape:?}",
            data.len()
        ))
    })?;
    let w = ds.as_writer();
    if ds.shape() == shape {
        w.write_raw(data)
    } else {
        let mut sel = vec![SliceOrIndex::from(rows.clone())];
        sel.extend(std::iter::repeat_n(SliceOrIndex::from(..), shape.len() - 1));
        w.write_slice(view, Hyperslab::from(sel))
    }
    .map_err(ctx.h5(&label, "writing"))
}
