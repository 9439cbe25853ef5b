//! Adding or replacing a FlacArray in an existing HDF5 file so that the old array stays
//! readable until the new one is complete.
//!
//! [`write_file_swapped`] writes the new array, attributes included, into a temporary
//! group `/.flacarray-tmp-PID-N` of the same file and flushes the file. Only then is
//! the target group touched: its flacarray attributes are deleted (format version
//! first, so the group stops being a FlacArray before anything else changes), the old
//! datasets are unlinked, the new datasets' links are moved from the temporary group
//! into the target group (`H5Lmove`: no data is copied), the temporary group's
//! attributes are copied onto the target group (format version last), and the
//! temporary group is unlinked.
//!
//! This works for the root group too, whose datasets are direct children of the file
//! and cannot be swapped as one object, and it keeps the target group's other
//! datasets and attributes. The window in which the target group holds neither array
//! is the sequence of link and attribute operations above: metadata changes made in
//! HDF5's cache and written to the file at the final flush, with no data I/O. A
//! failure or a kill before that point leaves the old array intact and a temporary
//! group, which the next call removes ([`remove_temporary_groups`]). What a killed
//! process wrote after its last flush lies past the file's recorded end of allocation
//! and is cut off when HDF5 next closes the file; the space of a temporary group that
//! was flushed stays in the file unused (HDF5 does not keep free-space records across
//! sessions unless the file was created to), so a killed add can grow the file, but
//! never blocks the next run.

use std::path::Path;

use flacarray_core::{FlacArray, FlacArrayWriter};
use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Group, H5Type};

use crate::error::{Ctx, Error, H5At, REPLACE_HINT, Result, ctx_of};
use crate::names::{ALL_ARRAYS, ALL_GROUP_ATTRS, ATTR_FORMAT_VERSION};
use crate::store::Hdf5Store;
use crate::write::child_group;
use flacarray_core::Place;

/// Name prefix of the temporary groups [`write_file_swapped`] creates at the file root.
pub const TEMP_GROUP_PREFIX: &str = ".flacarray-tmp-";

fn file_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(hdf5::Error) -> Error + 'a {
    move |source| Error::Hdf5 {
        place: Place::new(path.display().to_string(), "/".to_owned()),
        object: "file".to_owned(),
        action,
        source,
    }
}

/// Removes the temporary groups ([`TEMP_GROUP_PREFIX`]) left at the root of `file` by
/// interrupted writes. The caller must make sure no other writer is using the file
/// (the `flacarray` command holds a lock). Returns the names that could not be removed
/// (an object whose header never reached the disk can refuse to be unlinked); they do
/// not block later writes, which pick an unused name.
///
/// # Errors
/// [`Error::Hdf5`] when the root group cannot be listed.
pub fn remove_temporary_groups(file: &hdf5::File) -> Result<Vec<String>> {
    let root = file.as_group().map_err(|source| Error::Hdf5 {
        place: Place::new(file.filename(), "/".to_owned()),
        object: "root group".to_owned(),
        action: "opening",
        source,
    })?;
    let ctx = ctx_of(&root);
    let names = root
        .member_names()
        .map_err(ctx.h5("root group", "listing"))?;
    let mut left = Vec::new();
    for name in names
        .into_iter()
        .filter(|n| n.starts_with(TEMP_GROUP_PREFIX))
    {
        if root.unlink(&name).is_err() {
            left.push(name);
        }
    }
    Ok(left)
}

/// What stands in the target group before a write.
struct Existing {
    has_version: bool,
    arrays: Vec<&'static str>,
}

/// Looks at the target group without creating anything; `None` when it does not exist.
fn existing(file: &hdf5::File, path: &Path, group: &str) -> Result<Option<Existing>> {
    let not_group = |reason: String| {
        Error::from(Place::new(path.display().to_string(), group.to_owned()).not_found(reason))
    };
    let mut cur = file
        .as_group()
        .map_err(|e| not_group(format!("opening the root group failed: {e}")))?;
    for comp in group.split('/').filter(|c| !c.is_empty()) {
        match child_group(&cur, comp, &not_group)? {
            Some(g) => cur = g,
            None => return Ok(None),
        }
    }
    let has_version = cur
        .attr_names()
        .map_err(|e| not_group(format!("listing attributes failed: {e}")))?
        .iter()
        .any(|n| n == ATTR_FORMAT_VERSION);
    let arrays = ALL_ARRAYS
        .iter()
        .copied()
        .filter(|n| cur.link_exists(n))
        .collect();
    Ok(Some(Existing {
        has_version,
        arrays,
    }))
}

/// Whether the HDF5 file at `path` holds a FlacArray in `group` (absolute) and
/// nothing else: no other object or attribute in the group, none beside the path to
/// it in the groups above, no user block. Writing a new file in its place then loses
/// nothing, whereas replacing the array inside the file ([`write_file_swapped`])
/// leaves the old array's bytes in it: HDF5 does not reuse the space of unlinked
/// datasets, so a file replaced that way grows by the array's size every time.
/// Temporary groups left by interrupted writes ([`TEMP_GROUP_PREFIX`]) do not count.
///
/// # Errors
/// The file cannot be opened or its groups listed.
pub fn holds_only_flacarray(path: &Path, group: &str) -> Result<bool> {
    let file = hdf5::File::open(path).map_err(file_err(path, "opening"))?;
    let user_block = file
        .fcpl()
        .map_err(file_err(path, "reading the creation properties"))?
        .userblock();
    if user_block != 0 {
        return Ok(false);
    }
    let mut cur = file.as_group().map_err(file_err(path, "opening"))?;
    let parts: Vec<&str> = group.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        let list = |e| file_err(path, "listing")(e);
        let members = cur.member_names().map_err(list)?;
        let others = members
            .iter()
            .filter(|m| !(i == 0 && m.starts_with(TEMP_GROUP_PREFIX)))
            .any(|m| m != part);
        if others || !cur.attr_names().map_err(list)?.is_empty() {
            return Ok(false);
        }
        cur = match cur.group(part) {
            Ok(g) => g,
            Err(_) => return Ok(false),
        };
    }
    let list = |e| file_err(path, "listing")(e);
    let members = cur.member_names().map_err(list)?;
    let attrs = cur.attr_names().map_err(list)?;
    let ours = members
        .iter()
        .filter(|m| !(parts.is_empty() && m.starts_with(TEMP_GROUP_PREFIX)))
        .all(|m| ALL_ARRAYS.contains(&m.as_str()));
    Ok(ours
        && attrs.iter().any(|a| a == ATTR_FORMAT_VERSION)
        && attrs.iter().all(|a| ALL_GROUP_ATTRS.contains(&a.as_str())))
}

/// Writes `arr` into group `group` (absolute, `/` for the root) of the existing HDF5
/// file at `path`, through a temporary group and a swap of links (see the module
/// documentation). Missing groups on the path are created; the group's other objects
/// and attributes are kept.
///
/// # Errors
/// [`AlreadyExists`](flacarray_core::Error::AlreadyExists) when the group holds a FlacArray (or one of its
/// datasets) and `replace` is false; [`GroupNotFound`](flacarray_core::Error::GroupNotFound) when a path component is
/// not a group, or, with `replace`, when the group holds a dataset of a FlacArray's
/// name but no `flacarray_format_version` (it is not a FlacArray and is never
/// deleted); any error of the write, after which the old array is intact.
pub fn write_file_swapped(path: &Path, group: &str, arr: &FlacArray, replace: bool) -> Result<()> {
    let file = hdf5::File::append(path).map_err(file_err(path, "opening for writing"))?;
    remove_temporary_groups(&file)?;
    if let Some(ex) = existing(&file, path, group)? {
        let first = if ex.has_version {
            Some(format!("attribute {ATTR_FORMAT_VERSION}"))
        } else {
            ex.arrays.first().map(|n| format!("dataset {n}"))
        };
        if let Some(object) = first {
            if !replace {
                return Err(Place::new(path.display().to_string(), group.to_owned())
                    .already_exists(object, REPLACE_HINT)
                    .into());
            }
            if !ex.has_version {
                return Err(Place::new(path.display().to_string(), group)
                    .not_found(format!(
                        "{object} is not part of a FlacArray (the group has no \
                         {ATTR_FORMAT_VERSION} attribute) and is not replaced; remove it first"
                    ))
                    .into());
            }
        }
    }
    let root = file.as_group().map_err(file_err(path, "opening"))?;
    let mut n = 0u32;
    let tmp = loop {
        let name = format!("{TEMP_GROUP_PREFIX}{}-{n}", std::process::id());
        if !root.link_exists(&name) {
            break name;
        }
        n += 1;
    };
    let tmp_abs = format!("/{tmp}");
    let written = Hdf5Store::create(path, &tmp_abs, false).and_then(|mut s| s.write(arr));
    if let Err(e) = written {
        // Best effort: the next call removes what is left.
        let _ = root.unlink(&tmp);
        let _ = file.flush();
        return Err(e);
    }
    swap_in(&file, path, &tmp_abs, group)?;
    root.unlink(&tmp)
        .map_err(file_err(path, "removing the temporary group"))?;
    file.flush().map_err(file_err(path, "flushing"))
}

/// Moves the datasets and attributes of the complete group `tmp` into `group`.
fn swap_in(file: &hdf5::File, path: &Path, tmp: &str, group: &str) -> Result<()> {
    let src = file
        .group(tmp)
        .map_err(file_err(path, "opening the temporary group"))?;
    let root = file.as_group().map_err(file_err(path, "opening"))?;
    let dst = crate::write::create_groups(&root, group)?;
    let ctx = ctx_of(&dst);
    let dst_names = dst
        .attr_names()
        .map_err(ctx.h5("group", "listing attributes"))?;
    for name in ALL_GROUP_ATTRS {
        if dst_names.iter().any(|n| n == name) {
            let label = format!("attribute {name}");
            dst.delete_attr(name).map_err(ctx.h5(&label, "removing"))?;
        }
    }
    for name in ALL_ARRAYS {
        if dst.link_exists(name) {
            let label = format!("dataset {name}");
            dst.unlink(name).map_err(ctx.h5(&label, "removing"))?;
        }
    }
    let prefix = if group == "/" { "" } else { group };
    for name in src
        .member_names()
        .map_err(ctx.h5("temporary group", "listing"))?
    {
        let label = format!("dataset {name}");
        src.relink(&name, &format!("{prefix}/{name}"))
            .map_err(ctx.h5(&label, "moving into place"))?;
    }
    let mut attrs = src
        .attr_names()
        .map_err(ctx.h5("temporary group", "listing attributes"))?;
    // The format version marks the group as a FlacArray: last.
    attrs.sort_by_key(|n| n == ATTR_FORMAT_VERSION);
    for name in attrs {
        copy_attr(&src, &dst, &ctx, &name)?;
    }
    Ok(())
}

/// Copies attribute `name` of `src` onto `dst` (replacing one of that name). Strings
/// keep their type; numbers are copied as 64-bit values of their kind.
fn copy_attr(src: &Group, dst: &Group, ctx: &Ctx, name: &str) -> Result<()> {
    let label = format!("attribute {name}");
    let a = src.attr(name).map_err(ctx.h5(&label, "reading"))?;
    let shape = a.shape();
    let desc = a
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(ctx.h5(&label, "reading the type"))?;
    if dst
        .attr_names()
        .map_err(ctx.h5(&label, "listing attributes"))?
        .iter()
        .any(|n| n == name)
    {
        dst.delete_attr(name).map_err(ctx.h5(&label, "removing"))?;
    }
    fn put<T: H5Type>(
        a: &hdf5::Attribute,
        dst: &Group,
        shape: &[usize],
        name: &str,
    ) -> hdf5::Result<()> {
        let v = a.read_raw::<T>()?;
        dst.new_attr::<T>()
            .shape(shape.to_vec())
            .create(name)?
            .write_raw(&v)
    }
    match desc {
        TypeDescriptor::VarLenUnicode => put::<VarLenUnicode>(&a, dst, &shape, name),
        TypeDescriptor::VarLenAscii => put::<VarLenAscii>(&a, dst, &shape, name),
        TypeDescriptor::Integer(_) => put::<i64>(&a, dst, &shape, name),
        TypeDescriptor::Unsigned(_) => put::<u64>(&a, dst, &shape, name),
        TypeDescriptor::Float(_) => put::<f64>(&a, dst, &shape, name),
        other => {
            return Err(ctx
                .unsupported(
                    &label,
                    format!("attribute of type {other:?} cannot be moved into place"),
                )
                .into());
        }
    }
    .map_err(ctx.h5(&label, "writing"))
}

#[cfg(test)]
mod tests {
    use super::{TEMP_GROUP_PREFIX, write_file_swapped};
    use crate::Hdf5Store;
    use flacarray_core::read_flacarray;

    use flacarray_testkit::seeded_array as arr;

    #[test]
    fn replace_keeps_the_groups_other_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s.h5");
        for group in ["/", "/a/b"] {
            {
                let f = hdf5::File::append(&path).expect("file");
                let g = if group == "/" {
                    f.as_group().expect("root")
                } else {
                    f.create_group(&group[1..]).expect("group")
                };
                g.new_dataset::<u8>()
                    .shape([3])
                    .create("mine")
                    .expect("dataset");
                g.new_attr::<i64>().create("note").expect("attr");
            }
            write_file_swapped(&path, group, &arr(1), false).expect("add");
            let e = write_file_swapped(&path, group, &arr(2), false).expect_err("exists");
            assert!(e.to_string().contains("already exists"), "{e}");
            write_file_swapped(&path, group, &arr(3), true).expect("replace");
            let back = read_flacarray(&Hdf5Store::open(&path, group).expect("open"), None, false)
                .expect("read");
            assert_eq!(back, arr(3));
            let f = hdf5::File::open(&path).expect("file");
            let g = f.group(group).expect("group");
            assert!(g.link_exists("mine"));
            assert!(g.attr_names().expect("attrs").contains(&"note".to_owned()));
            let names = f.member_names().expect("names");
            assert!(
                !names.iter().any(|n| n.starts_with(TEMP_GROUP_PREFIX)),
                "{names:?}"
            );
        }
    }
}
