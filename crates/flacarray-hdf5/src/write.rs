//! Writing a flacarray group (format 1), as flacarray 0.4.1's `hdf5.write_compressed`
//! lays it out.

use std::path::Path;

use hdf5::types::VarLenUnicode;
use hdf5::{Group, H5Type, LocationType};

use crate::attr;
use crate::error::{Ctx, Error, Result};
use crate::names::{
    ALL_ARRAYS, ALL_GROUP_ATTRS, ARR_COMPRESSED, ARR_GAINS, ARR_NBYTES, ARR_OFFSETS, ARR_STARTS,
    ATTR_FLAC_CHANNELS, ATTR_FORMAT_VERSION, ATTR_SOFTWARE_VERSION, ATTR_STREAM_SIZE,
};
use crate::stored::{FORMAT_VERSION, Gains, Offsets, SOFTWARE_VERSION, StoredArray};

/// Options of [`write_group`] and [`write_file`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Overwrite a FlacArray already stored in the target group (its datasets and its
    /// three group attributes are removed first; other attributes stay). When false,
    /// writing into a group that holds one is an [`Error::AlreadyExists`].
    ///
    /// The new array is checked before anything is removed, but the replacement is
    /// not atomic: if HDF5 fails after the removal, the group holds neither array.
    pub replace: bool,
}

/// Writes `arr` as a format-1 flacarray group at `group_path` below `parent`.
///
/// `group_path` is relative to `parent`, or absolute (starting with `/`) from the file
/// root; `"/"` is the root group and `""` is `parent` itself. Missing groups along the
/// path are created. The layout is the one flacarray 0.4.1 writes (SPEC §3.1):
///
/// * group attributes `flacarray_format_version` = `"1"`,
///   `flacarray_software_version` (the array's, or [`SOFTWARE_VERSION`]) and
///   `flac_channels` = `"1"` or `"2"`, as scalar variable-length UTF-8 strings;
/// * int64 datasets `stream_starts` (with the int64 scalar attribute `stream_size`)
///   and `stream_bytes` of the leading shape;
/// * `stream_offsets` and `stream_gains` (float data only) in the data's float type;
/// * the uint8 dataset `compressed`.
///
/// All datasets are contiguous, without filters. Other attributes and objects of the
/// group are left alone.
///
/// # Errors
/// [`Error::InvalidArgument`] when `arr` is inconsistent ([`StoredArray::validate`])
/// or is not format 1; [`Error::AlreadyExists`] when the group already holds a
/// FlacArray (or one of its datasets) and `opts.replace` is false;
/// [`Error::GroupNotFound`] when a path component is not a group; [`Error::Hdf5`].
pub fn write_group(
    parent: &Group,
    group_path: &str,
    arr: &StoredArray,
    opts: WriteOptions,
) -> Result<()> {
    let dtype = arr.validate()?;
    if arr.format_version != FORMAT_VERSION {
        return Err(Error::InvalidArgument(format!(
            "only format version {FORMAT_VERSION} can be written, the array is format {}",
            arr.format_version
        )));
    }
    if dtype.v1_channels() != arr.flac_channels {
        return Err(Error::InvalidArgument(format!(
            "{dtype} data needs {} FLAC channel(s), the array says {}",
            dtype.v1_channels(),
            arr.flac_channels
        )));
    }
    let software = arr.software_version.as_deref().unwrap_or(SOFTWARE_VERSION);
    let software_vlen: VarLenUnicode = software.parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "software version {software:?} cannot be stored as an HDF5 string"
        ))
    })?;
    let stream_size = i64::try_from(arr.stream_size).map_err(|_| {
        Error::InvalidArgument(format!("stream_size {} exceeds int64", arr.stream_size))
    })?;

    let group = create_groups(parent, group_path)?;
    let ctx = Ctx::of(&group);
    clear_existing(&group, &ctx, opts.replace)?;

    let shape = arr.leading_shape.as_slice();
    let starts = write_dataset(&group, &ctx, ARR_STARTS, shape, &arr.starts)?;
    let size_label = format!("dataset {ARR_STARTS}: attribute {ATTR_STREAM_SIZE}");
    starts
        .new_attr::<i64>()
        .create(ATTR_STREAM_SIZE)
        .and_then(|a| a.write_scalar(&stream_size))
        .map_err(ctx.h5(&size_label, "writing"))?;
    write_dataset(&group, &ctx, ARR_NBYTES, shape, &arr.nbytes)?;
    if let Some(offsets) = &arr.offsets {
        match offsets {
            Offsets::F32(v) => write_dataset(&group, &ctx, ARR_OFFSETS, shape, v),
            Offsets::F64(v) => write_dataset(&group, &ctx, ARR_OFFSETS, shape, v),
            // Refused above (`validate`: int64 offsets are format 0 only); kept total.
            Offsets::I64(v) => write_dataset(&group, &ctx, ARR_OFFSETS, shape, v),
        }?;
    }
    if let Some(gains) = &arr.gains {
        match gains {
            Gains::F32(v) => write_dataset(&group, &ctx, ARR_GAINS, shape, v),
            Gains::F64(v) => write_dataset(&group, &ctx, ARR_GAINS, shape, v),
        }?;
    }
    write_dataset(
        &group,
        &ctx,
        ARR_COMPRESSED,
        &[arr.compressed.len()],
        &arr.compressed,
    )?;

    let version: VarLenUnicode = FORMAT_VERSION
        .to_string()
        .parse()
        .map_err(|_| Error::InvalidArgument("format version string".to_owned()))?;
    let channels: VarLenUnicode = arr
        .flac_channels
        .to_string()
        .parse()
        .map_err(|_| Error::InvalidArgument("channel count string".to_owned()))?;
    for (name, value) in [
        (ATTR_FORMAT_VERSION, &version),
        (ATTR_SOFTWARE_VERSION, &software_vlen),
        (ATTR_FLAC_CHANNELS, &channels),
    ] {
        let label = format!("attribute {name}");
        group
            .new_attr::<VarLenUnicode>()
            .create(name)
            .and_then(|a| a.write_scalar(value))
            .map_err(ctx.h5(&label, "writing"))?;
    }
    Ok(())
}

/// Opens (or creates) the HDF5 file at `path` for writing and writes `arr` at
/// `group_path` with [`write_group`]. An existing file keeps its other content.
///
/// # Errors
/// As [`write_group`]; [`Error::Hdf5`] when the file cannot be opened or created.
pub fn write_file(
    path: impl AsRef<Path>,
    group_path: &str,
    arr: &StoredArray,
    opts: WriteOptions,
) -> Result<()> {
    let path = path.as_ref();
    let file = hdf5::File::append(path).map_err(|source| Error::Hdf5 {
        file: path.display().to_string(),
        group: "/".to_owned(),
        object: "file".to_owned(),
        action: "opening for writing",
        source,
    })?;
    write_group(&file, group_path, arr, opts)?;
    file.flush().map_err(|source| Error::Hdf5 {
        file: path.display().to_string(),
        group: group_path.to_owned(),
        object: "file".to_owned(),
        action: "flushing",
        source,
    })
}

/// Opens the group at `group_path` below `parent`, creating missing ones.
fn create_groups(parent: &Group, group_path: &str) -> Result<Group> {
    let not_group = |reason: String| Error::GroupNotFound {
        file: parent.filename(),
        group: group_path.to_owned(),
        reason,
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
        if cur.link_exists(comp) {
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
            cur = cur
                .group(comp)
                .map_err(|e| not_group(format!("opening {comp:?} failed: {e}")))?;
        } else {
            cur = cur
                .create_group(comp)
                .map_err(|e| not_group(format!("creating {comp:?} failed: {e}")))?;
        }
    }
    Ok(cur)
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
            return Err(Error::AlreadyExists {
                file: ctx.file.clone(),
                group: ctx.group.clone(),
                object: version_label,
            });
        }
        if let Some(name) = in_the_way.first() {
            return Err(Error::AlreadyExists {
                file: ctx.file.clone(),
                group: ctx.group.clone(),
                object: format!("dataset {name}"),
            });
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

/// Creates a contiguous, unfiltered dataset of `shape` and writes `data` into it.
fn write_dataset<T: H5Type>(
    group: &Group,
    ctx: &Ctx,
    name: &str,
    shape: &[usize],
    data: &[T],
) -> Result<hdf5::Dataset> {
    let label = format!("dataset {name}");
    let ds = group
        .new_dataset::<T>()
        .no_chunk()
        .shape(shape.to_vec())
        .create(name)
        .map_err(ctx.h5(&label, "creating"))?;
    if !data.is_empty() {
        ds.write_raw(data).map_err(ctx.h5(&label, "writing"))?;
    }
    Ok(ds)
}
