//! Adding or replacing a FlacArray in an existing Zarr directory store so that the old
//! array stays readable until the new one is complete.
//!
//! [`write_store_swapped`] writes the new array as the root group of a temporary store
//! beside the target store (`.STORE.flacarray-tmp-PID`, same directory, so the same
//! file system). Only when it is complete is the target store touched: the group's
//! flacarray attributes are removed (the group stops being a FlacArray), the old
//! arrays' directories are renamed into `.STORE.flacarray-old-PID` beside the store,
//! the new ones are renamed into the group, the new attributes are written, and both
//! temporary directories are removed. Every metadata document is written to a
//! temporary file and renamed over the old one, so a full disk never leaves an empty
//! or truncated `zarr.json` (or `.zattrs`) in the store.
//!
//! The window in which the group holds neither array is a handful of renames. A failure
//! before it leaves the store as it was; the temporary directories of a process that is
//! no longer running are removed by the next call ([`remove_stale_temporaries`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flacarray_core::{FlacArray, FlacArrayWriter};
use serde_json::{Map, Value, json};

use crate::error::{Ctx, Error, REPLACE_HINT, Result};
use crate::names::{ALL_ARRAYS, ATTR_FLAC_CHANNELS, ATTR_FORMAT_VERSION, ATTR_SOFTWARE_VERSION};
use crate::store::ZarrStore;
use crate::write::ZarrFormat;
use flacarray_core::Place;

/// The flacarray attributes of a group.
const FLAC_ATTRS: [&str; 3] = [
    ATTR_FORMAT_VERSION,
    ATTR_SOFTWARE_VERSION,
    ATTR_FLAC_CHANNELS,
];

fn io_err(ctx: &Ctx, object: &str, action: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    let ctx = ctx.clone();
    let object = object.to_owned();
    move |source| Error::Zarr {
        place: ctx,
        object,
        action,
        source: Box::new(source),
    }
}

/// A sibling of the store: `.STORE.KIND-PID` in the store's parent directory.
fn sibling(store: &Path, kind: &str, pid: u32) -> PathBuf {
    let name = store
        .file_name()
        .map_or_else(|| "store".into(), |n| n.to_string_lossy().into_owned());
    store.with_file_name(format!(".{name}.{kind}-{pid}"))
}

/// Whether process `pid` is running (Linux `/proc`; elsewhere every process counts as
/// running, so nothing of another process is removed).
fn alive(pid: u32) -> bool {
    pid == std::process::id()
        || !Path::new("/proc/self").exists()
        || Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the temporary directories beside `store` left by `flacarray` processes that
/// are no longer running. Returns the ones that could not be removed.
pub fn remove_stale_temporaries(store: &Path) -> Vec<PathBuf> {
    let Some(name) = store.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let dir = match store.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut left = Vec::new();
    for e in entries.flatten() {
        let fname = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = fname.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let pid = ["flacarray-tmp-", "flacarray-old-"]
            .iter()
            .find_map(|k| rest.strip_prefix(k))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !alive(pid)
            && fs::remove_dir_all(e.path()).is_err()
        {
            left.push(e.path());
        }
    }
    left
}

/// The directory of group `node` (`/a/b`) inside `store`.
fn node_dir(store: &Path, node: &str) -> PathBuf {
    node.split('/')
        .filter(|c| !c.is_empty())
        .fold(store.to_path_buf(), |p, c| p.join(c))
}

/// The format of the group metadata at `dir`, when there is some.
fn group_format(dir: &Path) -> Option<ZarrFormat> {
    if dir.join("zarr.json").is_file() {
        Some(ZarrFormat::V3)
    } else if dir.join(".zgroup").is_file() {
        Some(ZarrFormat::V2)
    } else {
        None
    }
}

fn is_array(dir: &Path) -> bool {
    dir.exists()
}

/// Reads a JSON object file; `None` when it does not exist.
fn read_json(path: &Path, ctx: &Ctx) -> Result<Option<Map<String, Value>>> {
    let label = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(ctx, &label, "reading")(e)),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        _ => Err(ctx.corrupt(label, "not a JSON object").into()),
    }
}

/// Writes `value` to `path` through a synced temporary file and a rename.
fn write_json(path: &Path, value: &Value, ctx: &Ctx) -> Result<()> {
    let label = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{label}.{}.tmp", std::process::id()));
    let text = serde_json::to_vec_pretty(value).map_err(|e| ctx.corrupt(&label, e.to_string()))?;
    let r = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&text).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r.map_err(io_err(ctx, &label, "writing"))
}

/// The group attributes at `dir` in `format`.
fn read_attrs(dir: &Path, format: ZarrFormat, ctx: &Ctx) -> Result<Map<String, Value>> {
    Ok(match format {
        ZarrFormat::V3 => read_json(&dir.join("zarr.json"), ctx)?
            .and_then(|m| match m.get("attributes") {
                Some(Value::Object(a)) => Some(a.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        ZarrFormat::V2 => read_json(&dir.join(".zattrs"), ctx)?.unwrap_or_default(),
    })
}

/// Replaces the group attributes at `dir` (creating the group metadata if missing).
fn write_attrs(dir: &Path, format: ZarrFormat, attrs: Map<String, Value>, ctx: &Ctx) -> Result<()> {
    match format {
        ZarrFormat::V3 => {
            let mut m = read_json(&dir.join("zarr.json"), ctx)?.unwrap_or_else(|| {
                let mut m = Map::new();
                m.insert("zarr_format".into(), json!(3));
                m.insert("node_type".into(), json!("group"));
                m
            });
            m.insert("attributes".into(), Value::Object(attrs));
            write_json(&dir.join("zarr.json"), &Value::Object(m), ctx)
        }
        ZarrFormat::V2 => {
            if !dir.join(".zgroup").is_file() {
                write_json(&dir.join(".zgroup"), &json!({"zarr_format": 2}), ctx)?;
            }
            write_json(&dir.join(".zattrs"), &Value::Object(attrs), ctx)
        }
    }
}

/// Writes `arr` into group `group` of the existing directory store at `store`, in the
/// store's own Zarr `format`, through a temporary store and renames (see the module
/// documentation). Missing parent groups are created; the group's other arrays and
/// attributes are kept.
///
/// # Errors
/// [`AlreadyExists`](flacarray_core::Error::AlreadyExists) when the group holds a FlacArray (or one of its arrays)
/// and `replace` is false; [`GroupNotFound`](flacarray_core::Error::GroupNotFound) when, with `replace`, the group
/// holds an array of a FlacArray's name but no `flacarray_format_version` (it is not
/// a FlacArray and is never deleted); [`UnsupportedGroup`](flacarray_core::Error::UnsupportedGroup) when the store is in the
/// other Zarr format; any error of the write, after which the old array is intact.
pub fn write_store_swapped(
    store: &Path,
    group: &str,
    arr: &FlacArray,
    replace: bool,
    format: ZarrFormat,
) -> Result<()> {
    let node = format!("/{}", group.trim_matches('/'));
    let ctx = Place::new(store.display().to_string(), node.clone());
    if let Some(found) = group_format(store)
        && found != format
    {
        return Err(ctx
            .unsupported(
                "group metadata",
                format!(
                    "the store is in Zarr format {found:?}; writing format {format:?} into it \
                 would mix both"
                ),
            )
            .into());
    }
    remove_stale_temporaries(store);
    let dir = node_dir(store, &node);
    let attrs = if group_format(&dir).is_some() {
        read_attrs(&dir, format, &ctx)?
    } else {
        Map::new()
    };
    let has_version = attrs.contains_key(ATTR_FORMAT_VERSION);
    let present: Vec<&str> = ALL_ARRAYS
        .iter()
        .copied()
        .filter(|n| is_array(&dir.join(n)))
        .collect();
    let first = if has_version {
        Some(format!("attribute {ATTR_FORMAT_VERSION}"))
    } else {
        present.first().map(|n| format!("array {n}"))
    };
    if let Some(object) = first {
        if !replace {
            return Err(ctx.already_exists(object, REPLACE_HINT).into());
        }
        if !has_version {
            return Err(ctx
                .not_found(format!(
                    "{object} is not part of a FlacArray (the group has no \
                     {ATTR_FORMAT_VERSION} attribute) and is not replaced; remove it first"
                ))
                .into());
        }
    }

    let pid = std::process::id();
    let tmp = sibling(store, "flacarray-tmp", pid);
    let old = sibling(store, "flacarray-old", pid);
    for d in [&tmp, &old] {
        if d.exists() {
            fs::remove_dir_all(d).map_err(io_err(&ctx, "temporary directory", "removing"))?;
        }
    }
    let written = ZarrStore::create(&tmp, "/", false, format).and_then(|mut s| s.write(arr));
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let new_attrs = read_attrs(&tmp, format, &ctx)?;

    // Parent groups, then the group itself (without flacarray attributes).
    let mut cur = store.to_path_buf();
    for comp in node.split('/').filter(|c| !c.is_empty()) {
        if group_format(&cur).is_none() {
            write_attrs(&cur, format, Map::new(), &ctx)?;
        }
        cur = cur.join(comp);
        fs::create_dir_all(&cur).map_err(io_err(&ctx, "group", "creating"))?;
    }
    let mut kept = attrs;
    for k in FLAC_ATTRS {
        kept.remove(k);
    }
    write_attrs(&dir, format, kept.clone(), &ctx)?;

    // The swap: old arrays out, new arrays in.
    if !present.is_empty() {
        fs::create_dir(&old).map_err(io_err(&ctx, "temporary directory", "creating"))?;
        for name in &present {
            fs::rename(dir.join(name), old.join(name)).map_err(io_err(
                &ctx,
                &format!("array {name}"),
                "moving aside",
            ))?;
        }
    }
    for name in ALL_ARRAYS {
        let from = tmp.join(name);
        if from.exists() {
            fs::rename(&from, dir.join(name)).map_err(io_err(
                &ctx,
                &format!("array {name}"),
                "moving into place",
            ))?;
        }
    }
    // The format version marks the group as a FlacArray: written with the others in
    // one document, last.
    for (k, v) in new_attrs {
        kept.insert(k, v);
    }
    write_attrs(&dir, format, kept, &ctx)?;
    let _ = fs::remove_dir_all(&old);
    let _ = fs::remove_dir_all(&tmp);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::write_store_swapped;
    use crate::{ZarrFormat, ZarrStore};
    use flacarray_core::read_flacarray;

    use flacarray_testkit::seeded_array as arr;

    #[test]
    fn replace_in_both_formats_leaves_no_temporary() {
        for format in [ZarrFormat::V3, ZarrFormat::V2] {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("s.zarr");
            std::fs::create_dir(&path).expect("mkdir");
            for group in ["/x/y", "/"] {
                write_store_swapped(&path, group, &arr(1), false, format).expect("add");
                let e =
                    write_store_swapped(&path, group, &arr(2), false, format).expect_err("exists");
                assert!(e.to_string().contains("already exists"), "{e}");
                write_store_swapped(&path, group, &arr(3), true, format).expect("replace");
                let back =
                    read_flacarray(&ZarrStore::open(&path, group).expect("open"), None, false)
                        .expect("read");
                assert_eq!(back, arr(3), "{format:?} {group}");
            }
            // The sub-group survives the root's replacement.
            let back = read_flacarray(&ZarrStore::open(&path, "/x/y").expect("open"), None, false)
                .expect("read");
            assert_eq!(back, arr(3));
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .expect("list")
                .map(|e| e.expect("entry").file_name())
                .collect();
            assert_eq!(
                names,
                vec![std::ffi::OsString::from("s.zarr")],
                "{format:?}"
            );
        }
    }
}
